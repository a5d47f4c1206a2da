/* SPDX-License-Identifier: BSD-2-Clause */
/* A tracing session: what `perfbpf attach` (user/cmd/attach.c) and `perfbpf run`
 * (user/cmd/run.c) share. It opens the outputs, loads the tracer on a pid, feeds every event to
 * the aggregation (and the event log and OTLP), drains the ring until told to stop, keeps each
 * run of --repeat, and writes the report. Internal to user/cmd/. */
#ifndef PERFBPF_TRACE_SESSION_H
#define PERFBPF_TRACE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exporters/events/events.h"
#include "user/lib/redact.h"
#include "exporters/otlp/otlp_exporter.h"
#include "exporters/otlp/otlp_trace.h"
#include "user/aggregate/kseries_agg.h"
#include "user/aggregate/agg.h"
#include "user/aggregate/run_summary.h"
#include "user/attach/target.h"
#include "user/cli/options.h"
#include "user/collect/tracer.h"
#include "user/model/environment.h"

struct session {
	const struct cli_opts *o;
	struct tracer *tracer;
	struct agg *agg;     /* every event of every run */
	struct agg *run_agg; /* --repeat > 1: this run's events only (with histograms) */
	struct run_summary *runs;
	size_t nruns;
	uint64_t counters_at_start[PERFBPF_CNT__MAX]; /* of this run */
	struct environment env;
	struct probe_objs po;
	int pid;
	int agg_err;
	FILE *json, *md, *events; /* outputs asked for, or NULL */
	uint64_t events_unwritten; /* event log lines lost after a stop signal (reader not reading) */
	struct events_writer *ew;
	FILE *trace;               /* --trace */
	FILE *html;                /* --html */
	struct html_timeline *timeline; /* ... its span timeline: the first events */
	struct redact *redact;     /* --redact */
	struct chrome_trace *ct;
	struct otlp_trace *otlp; /* --otlp */
	struct otlp_stats otlp_stats;
	struct kseries_agg *series;       /* --otlp-metrics: the series the metrics are made of */
	struct otlp_exporter *metrics;    /* ... and their export */
	struct otlp_stats metrics_stats;
	uint64_t next_metrics;            /* mono ns of the next periodic export */
	char *command;
	const char *stop_reason;
	int exit_status;
	uint64_t start_mono, start_real;
};

/* The stop signal received (SIGINT, SIGTERM, SIGHUP), or 0. */
int trace_session__signal(void);
/* Stop signals end the session; a second one ends perfbpf at once. */
void trace_session__install_signals(void);
/* Opens -j, -m, -e ("-": stdout); with none on stdout the report goes there. On failure
 * trace_session__fini closes what was opened. */
int trace_session__open_outputs(struct session *s);
/* Loads the tracer for pid and sets up the aggregation, event log and OTLP. */
int trace_session__init(struct session *s, const struct cli_opts *o, int pid);
/* Closes everything; 0, or -errno when an output could not be written. */
int trace_session__fini(struct session *s);
/* A run begins: its loss counters and (with --repeat) its own aggregation start here. */
int trace_session__begin_run(struct session *s);
/* A run ended with exit_status (-1: none): its summary is kept. */
int trace_session__end_run(struct session *s, int exit_status);
/* Writes the report, the JSON summary and the OTLP totals. */
int trace_session__report(struct session *s);
/* Drains the ring (and attaches to libraries loaded meanwhile) until `done` says stop; 0 or
 * -errno. */
typedef bool (*done_fn)(struct session *s);
int trace_session__loop(struct session *s, done_fn done);

#endif
