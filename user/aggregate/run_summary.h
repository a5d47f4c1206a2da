/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-run records of a trace (`perfbpf run --repeat N`): a copy of each run's rows, with their
 * histograms, that outlives the aggregation it came from. */
#ifndef PERFBPF_RUN_SUMMARY_H
#define PERFBPF_RUN_SUMMARY_H

#include "user/model/summary.h"

/* Copies s's rows and metrics (names and histograms included) and counts into r; r->index and
 * the run's own fields are the caller's. 0 or -ENOMEM (r is then empty and safe to free). */
int run_summary__capture(struct run_summary *r, const struct summary *s);
void run_summary__free(struct run_summary *r);

#endif
