/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf monitor`: always-on aggregation in the kernel, a Prometheus endpoint, reports on
 * demand, and every process of a binary followed across restarts. Returns the exit status. */
#ifndef PERFBPF_MONITOR_H
#define PERFBPF_MONITOR_H

#include "user/cli/options.h"

int monitor__run(const struct cli_opts *o);

#endif
