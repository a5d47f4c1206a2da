/* SPDX-License-Identifier: BSD-2-Clause */
/* Aggregation of ops and spans per (kind, metric, symbol, strategy), with per-metric roll-ups. */
#ifndef PERFBPF_AGG_H
#define PERFBPF_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/aggregate/dist.h"
#include "user/model/summary.h"

struct agg;

struct agg_opts {
	uint64_t sample_budget; /* bytes of exact samples; beyond it keys become approximate */
	size_t max_keys;        /* distinct keys kept; events of further keys are counted */
	bool histograms;        /* agg__summarize also gives each row its histogram (row.bins) */
	enum dist_style style;  /* how std dev and percentiles are defined (--stats) */
};

struct agg *agg__new(const struct agg_opts *opts);
void agg__free(struct agg *a);
/* Adds one event; 0, or -ENOMEM. Events of a key over max_keys are counted, not added. */
int agg__add(struct agg *a, const struct perfbpf_event *e);
/* Adds an op of names it has added an op of with that names_id (PERFBPF_F_NAMES_ID), with no
 * flags: 0, -ENOMEM, or -ENOENT when it has not (agg__add it whole). */
int agg__add_op(struct agg *a, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns);
/* The events that follow belong to a new run of the target: no key's wait time spans the gap
 * between its last event of the previous run and its first of this one. */
void agg__new_run(struct agg *a);
/* Fills rows/metrics of `s` (owned by the agg, valid until the next agg__add or agg__free),
 * along with events, keys_over_limit, sample_budget_bytes and hist_rel_error. */
int agg__summarize(struct agg *a, struct summary *s);

#endif
