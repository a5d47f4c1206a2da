/* SPDX-License-Identifier: BSD-2-Clause */
/* From kernel events to OTLP spans: trace and span ids, wall-clock times, the process as
 * resource, the engine's attributes, events and errors, and the sampling decision (trace-id ratio
 * at the head, --slow-threshold at the tail) before the spans reach the export queue. */
#ifndef PERFBPF_OTLP_TRACE_H
#define PERFBPF_OTLP_TRACE_H

#include "bpf/perfbpf.h"
#include "exporters/otlp/otlp_config.h"
#include "user/model/otlp_stats.h"

struct otlp_trace;

/* Starts the export (its thread included). `command` names the process when /proc no longer
 * does. NULL after a one-line message. */
struct otlp_trace *otlp_trace__new(const struct otlp_config *c, const char *command);
/* An op or a span from the ring buffer; 0 or -ENOMEM. */
int otlp_trace__event(struct otlp_trace *t, const struct perfbpf_event *e);
/* An attribute, event or error of an open span; 0 or -ENOMEM. */
int otlp_trace__note(struct otlp_trace *t, const struct perfbpf_note *n);
/* The trace is over: flushes the export queue (bounded by the flush timeout). */
void otlp_trace__finish(struct otlp_trace *t);
void otlp_trace__stats(struct otlp_trace *t, struct otlp_stats *out);
void otlp_trace__free(struct otlp_trace *t);

#endif
