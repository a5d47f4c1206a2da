/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP/HTTP export off the hot path: a bounded queue of spans, and a thread that sends them in
 * batches with libcurl, retrying only what the OTLP specification allows. */
#ifndef PERFBPF_OTLP_EXPORTER_H
#define PERFBPF_OTLP_EXPORTER_H

#include "exporters/otlp/otlp_config.h"
#include "exporters/otlp/otlp_span.h"
#include "user/model/otlp_stats.h"

struct otlp_exporter;

/* Starts the sending thread. NULL after a one-line message. */
struct otlp_exporter *otlp_exporter__new(const struct otlp_config *c);
/* Queues a span (ownership passes): never blocks; a full queue drops it, counted. */
void otlp_exporter__push(struct otlp_exporter *x, struct otlp_span *s);
/* Sends what is queued, for at most the flush timeout, and stops the thread. */
void otlp_exporter__shutdown(struct otlp_exporter *x);
/* Adds the delivery counters into *out (a snapshot; safe while the thread runs). */
void otlp_exporter__stats(struct otlp_exporter *x, struct otlp_stats *out);
void otlp_exporter__free(struct otlp_exporter *x);

#endif
