/* SPDX-License-Identifier: BSD-2-Clause */
/* The run as a trace file (--trace): every op and span in the Chrome Trace Event format (JSON),
 * which the Perfetto UI, chrome://tracing and Speedscope open. Spans nested per thread are
 * complete events ("X"); spans with explicit ids (coroutines) are nestable async events ("b" and
 * "e", by id) so that they may overlap on a thread; ops are complete events of their own
 * category. Times are CLOCK_MONOTONIC in microseconds (three decimals: nanoseconds). Events are
 * written as they end: complete events need no order. */
#ifndef PERFBPF_CHROME_TRACE_H
#define PERFBPF_CHROME_TRACE_H

#include <stdio.h>

#include "bpf/perfbpf.h"

struct chrome_trace;

/* Starts the file (its header). NULL without memory. */
struct chrome_trace *chrome_trace__new(FILE *f);
/* One op or span; 0 or a write error (-errno). */
int chrome_trace__event(struct chrome_trace *t, const struct perfbpf_event *e);
/* Ends the file (a thread-name record per thread seen, then the closing brackets) and frees;
 * 0 or a write error. */
int chrome_trace__finish(struct chrome_trace *t);

#endif
