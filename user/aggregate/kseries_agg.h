/* SPDX-License-Identifier: BSD-2-Clause */
/* The monitor's series aggregated in userspace, from the events the ring buffer brings (ABI v3
 * batches, or per-event probes of older engines): per (kind, metric, symbol, strategy[, pid])
 * the count, sums, min, max, wait times and the log-linear buckets of bpf/kernel_hist.h, the
 * same series the in-kernel histograms give (user/collect/khist_reader.h), so reports and
 * exporters read either. Keys beyond max_keys are counted, never merged. */
#ifndef PERFBPF_KSERIES_AGG_H
#define PERFBPF_KSERIES_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/model/kseries.h"

struct kseries_agg;

struct kseries_agg *kseries_agg__new(bool per_pid, size_t max_keys);
void kseries_agg__free(struct kseries_agg *a);
/* Adds one event: 0 or -ENOMEM. */
int kseries_agg__add(struct kseries_agg *a, const struct perfbpf_event *ev);
/* Adds an op of the names of an op it was given whole with that names_id (PERFBPF_F_NAMES_ID):
 * 0, -ENOMEM, or -ENOENT when it has none (kseries_agg__add it whole). */
int kseries_agg__add_op(struct kseries_agg *a, uint32_t names_id, uint64_t end_ns,
			uint64_t duration_ns);
/* Every series (valid until the next add or drop). */
struct kseries *const *kseries_agg__series(const struct kseries_agg *a, size_t *n);
/* Forgets the series of process pid (--per-pid, after it exited). */
void kseries_agg__drop_pid(struct kseries_agg *a, uint32_t pid);
/* Events of keys beyond max_keys. */
uint64_t kseries_agg__over_limit(const struct kseries_agg *a);

#endif
