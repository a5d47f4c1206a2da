/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP export off the hot path: a bounded queue of spans (traces) or of metric snapshots
 * (metrics), and a thread that sends them with libcurl over HTTP or gRPC, retrying only what the
 * OTLP specification allows. */
#ifndef PERFBPF_OTLP_EXPORTER_H
#define PERFBPF_OTLP_EXPORTER_H

#include "exporters/otlp/otlp_config.h"
#include "exporters/otlp/otlp_metrics.h"
#include "exporters/otlp/otlp_span.h"
#include "user/model/otlp_stats.h"

struct otlp_exporter;

/* Starts the sending thread for c's signal; `command` names the process of a metric snapshot's
 * resource when /proc no longer does. NULL after a one-line message. */
struct otlp_exporter *otlp_exporter__new(const struct otlp_config *c, const char *command);
/* Queues a span (ownership passes): never blocks; a full queue drops it, counted. */
void otlp_exporter__push(struct otlp_exporter *x, struct otlp_span *s);
/* Queues a metric snapshot (ownership passes): never blocks; it replaces a snapshot still
 * waiting to be sent (whose points it holds: counted as superseded, not lost). */
void otlp_exporter__push_metrics(struct otlp_exporter *x, struct otlp_metrics_snapshot *s);
/* Sends what is queued, for at most the flush timeout, and stops the thread. */
void otlp_exporter__shutdown(struct otlp_exporter *x);
/* Adds the delivery counters into *out (a snapshot; safe while the thread runs). */
void otlp_exporter__stats(struct otlp_exporter *x, struct otlp_stats *out);
void otlp_exporter__free(struct otlp_exporter *x);

#endif
