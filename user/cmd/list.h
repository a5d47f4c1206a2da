/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf list`: the perfbpf probes in a process or a file on disk. */
#ifndef PERFBPF_LIST_H
#define PERFBPF_LIST_H

#include <stdio.h>

#include "user/cli/options.h"

int list__run(const struct cli_opts *o, FILE *out);

#endif
