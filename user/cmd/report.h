/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf report`: a saved JSON summary rendered as the HTML report. */
#ifndef PERFBPF_REPORT_CMD_H
#define PERFBPF_REPORT_CMD_H

#include "user/cli/options.h"

int report__run(const struct cli_opts *o);

#endif
