/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP metrics: what perfbpf's series become in an ExportMetricsServiceRequest.
 *
 * Per key (kind, metric, symbol, strategy[, process.pid]):
 *   perfbpf.operation.duration  histogram, s: the durations (Prometheus:
 *                               perfbpf_operation_duration_seconds)
 *   perfbpf.operation.wait      histogram, s: time between the ends of consecutive events of
 *                               the key (perfbpf_operation_wait_seconds)
 * as exponential histograms at scale 7 (OTLP_METRICS_SCALE), or with explicit bounds at 2^k and
 * 1.5 * 2^k ns (OTLP_METRICS_BOUNDS of them). And for the whole export:
 *   perfbpf.events              sum, {event}: events aggregated (perfbpf_events_total)
 *   perfbpf.events.lost         sum, {event}, by reason: events and records that reached a
 *                               probe but are in no histogram, and the other loss counters
 *   perfbpf.attached_processes  gauge (monitor)
 *   process.cpu.time            sum, s: perfbpf's own CPU time
 *   process.memory.usage        gauge, By: perfbpf's resident memory
 *
 * A snapshot is taken on the thread that aggregates (a copy of the series) and encoded on the
 * export thread, which keeps the previous one for delta temporality. */
#ifndef PERFBPF_OTLP_METRICS_H
#define PERFBPF_OTLP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "exporters/otlp/otlp_config.h"
#include "user/lib/protobuf_writer.h"
#include "user/lib/util.h"
#include "user/model/kseries.h"

/* Exponential buckets of base 2^(2^-7). Each bucket of perfbpf's layout (1/64 of a power of two,
 * linear; bpf/kernel_hist.h) goes whole into the exponential bucket of its midpoint: a value
 * estimated from an exported bucket is within 1.6% of every value that was in the layout
 * bucket (0.8% to the midpoint, 0.54% for the exponential bucket's width). The layout is linear
 * within each power of two, so no exponential scale holds its buckets one to one. */
#define OTLP_METRICS_SCALE 7
/* Explicit bounds: 2^k and 1.5 * 2^k ns for k = 6 .. 36, and 2^37 ns; each is an edge of the
 * layout's buckets, so the explicit counts are exact. */
#define OTLP_METRICS_BOUNDS 63

struct otlp_metrics_snapshot {
	struct kseries *series;             /* copies, sorted by kseries__cmp */
	size_t nseries;
	bool per_pid;                       /* a process.pid attribute per series */
	bool monitor;                       /* attached_processes is meaningful */
	uint32_t pid;                       /* the resource's process; 0: several */
	uint64_t counters[PERFBPF_CNT__MAX];
	unsigned attached_processes;
	struct self_usage self;
	uint64_t start_unix_ns;             /* when the cumulative series began */
	uint64_t time_unix_ns;              /* when the snapshot was taken */
};

/* A snapshot of v[0..n) (copied), taken now (time_unix_ns, perfbpf's own usage) of series
 * begun at start_unix_ns; the caller fills the counters. NULL without memory. */
struct otlp_metrics_snapshot *otlp_metrics_snapshot__new(struct kseries *const *v, size_t n,
							 uint64_t start_unix_ns);
void otlp_metrics_snapshot__free(struct otlp_metrics_snapshot *s);
/* The data points the snapshot makes. */
uint64_t otlp_metrics_snapshot__points(const struct otlp_metrics_snapshot *s);

/* The request for s, in protobuf or the OTLP JSON mapping. With delta temporality, prev is the
 * previous snapshot sent (NULL: the first), and each point covers the time since it. 0 or
 * -ENOMEM. */
int otlp_metrics_encode(const struct otlp_metrics_snapshot *s,
			const struct otlp_metrics_snapshot *prev, const struct otlp_config *c,
			const struct otlp_resource *r, bool json, struct pb_buf *out);

/* The lower edge in ns of explicit bucket i (1 .. OTLP_METRICS_BOUNDS); bucket 0 starts at 0. */
uint64_t otlp_metrics_bound_ns(unsigned i);

#endif
