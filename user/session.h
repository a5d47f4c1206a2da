/* SPDX-License-Identifier: BSD-2-Clause */
/* A tracing session: `attach` to a pid or `run` a command, trace until the end condition, then
 * write the report. Returns the process exit status. */
#ifndef PERFBPF_SESSION_H
#define PERFBPF_SESSION_H

#include "options.h"

int session__attach(const struct cli_opts *o);
int session__run(const struct cli_opts *o);

#endif
