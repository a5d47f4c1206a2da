/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus exposition of the monitor's series and loss counters, in the text format (0.0.4,
 * classic histograms with a bounded number of buckets) or the protobuf format (native
 * histograms at full precision), as the scraper asks (prometheus__negotiate). */
#ifndef PERFBPF_PROMETHEUS_H
#define PERFBPF_PROMETHEUS_H

#include <stdbool.h>
#include <stdio.h>

#include "user/lib/util.h"
#include "user/model/kseries.h"

#define PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROMETHEUS_PROTOBUF_TYPE                                                         \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; " \
	"encoding=delimited"

/* Classic histograms: bounds at 2^e and 1.5 * 2^e ns (both edges of the bucket layout), so that
 * histogram_quantile interpolates within a bucket whose upper edge is at most 1.5 times its
 * lower: within +50% / -33% of the true value. At most PROM_CLASSIC_BOUNDS bounds per series:
 * when a metric's values span more, the window of bounds that leaves the fewest of them outside
 * (those below share the first bucket, those above only +Inf: a quantile among them is the
 * window's edge). */
#define PROM_CLASSIC_BOUNDS 24
/* Native histograms: schema 7 (2^(1/128) per bucket). Each layout bucket (1/64 of a power of
 * two, linear) is put whole into the native bucket of its midpoint: an estimate from the native
 * bucket is within 1/64 (1.6%) of every value that was in the layout bucket. */
#define PROM_NATIVE_SCHEMA 7

enum prom_format { PROM_TEXT, PROM_PROTOBUF };

struct prom_input {
	struct kseries *const *series;
	size_t nseries;
	bool per_pid;                        /* series carry a pid label */
	uint64_t counters[PERFBPF_CNT__MAX]; /* the kernel's loss and error counters */
	uint64_t attach_failures;
	unsigned attached_processes;
	const uint64_t *dropped_per_cpu;     /* the dropped events by CPU (ncpus), or NULL */
	int ncpus;
	struct self_usage self;              /* perfbpf's own CPU and memory; 0: not written */
};

/* The format for an HTTP Accept header (NULL: none): protobuf when the scraper accepts the
 * delimited MetricFamily encoding at least as much as text. */
enum prom_format prometheus__negotiate(const char *accept);
const char *prometheus__content_type(enum prom_format fmt);

/* Writes every family; 0 or -errno.
 * Text: the duration of each key as a classic histogram (bounds above); all series of a metric
 * share the bounds, so sum by (le) across them is exact; the wait time as _sum and _count.
 * Protobuf: both as native histograms, one series per key with the layout's precision. */
int prometheus__write(FILE *f, const struct prom_input *in, enum prom_format fmt);

#endif
