/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf run -- COMMAND`: trace a command from its first instruction; the command's exit
 * status (or perfbpf's: 1 failure, 127 the command could not be started). */
#ifndef PERFBPF_CMD_RUN_H
#define PERFBPF_CMD_RUN_H

#include "user/cli/options.h"

int run__main(const struct cli_opts *o);

#endif
