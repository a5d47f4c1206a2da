/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf attach PID`: trace a running process; the exit status. */
#ifndef PERFBPF_CMD_ATTACH_H
#define PERFBPF_CMD_ATTACH_H

#include "user/cli/options.h"

int attach__main(const struct cli_opts *o);

#endif
