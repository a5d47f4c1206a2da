/* SPDX-License-Identifier: BSD-2-Clause */
/* A tracing session: `attach` to a pid or `run` a command, trace until the end condition, then
 * write the report. Returns the process exit status. */
#ifndef PERFBPF_CMD_TRACE_H
#define PERFBPF_CMD_TRACE_H

#include "user/cli/options.h"

int trace__attach(const struct cli_opts *o);
int trace__run(const struct cli_opts *o);

#endif
