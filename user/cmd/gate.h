/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf gate BASE HEAD`: per key and statistic, is HEAD slower than BASE beyond noise? */
#ifndef PERFBPF_CMD_GATE_H
#define PERFBPF_CMD_GATE_H

#include "user/cli/options.h"

/* The whole command: exit status 0 (no regression), 1 (a regression) or 2 (bad input). */
int gate__run(const struct cli_opts *o);

#endif
