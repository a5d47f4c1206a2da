// SPDX-License-Identifier: BSD-2-Clause
/* A tracing session, what `attach` and `run` share: outputs, stop signals, the tracer and the
 * aggregation it feeds, runs, the drain loop and the report (see trace_session.h). */
#include "user/cmd/trace_session.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporters/events/events.h"
#include "exporters/otlp/otlp_trace.h"
#include "exporters/report/html.h"
#include "exporters/report/html_timeline.h"
#include "exporters/report/json.h"
#include "exporters/report/markdown.h"
#include "exporters/trace/chrome_trace.h"
#include "user/aggregate/agg.h"
#include "user/aggregate/run_summary.h"
#include "user/attach/permission.h"
#include "user/attach/target.h"
#include "user/collect/consumer_yield.h"
#include "user/collect/tracer.h"
#include "user/lib/output.h"
#include "user/lib/redact.h"
#include "user/lib/signals.h"
#include "user/lib/util.h"
#include "user/model/environment.h"

#define POLL_MS 10       /* ring drain period: the consumer is woken by the timer */
#define RESCAN_NS 500000000ull /* look for newly loaded libraries (dlopen) this often */

static volatile sig_atomic_t got_signal;

int trace_session__signal(void)
{
	return got_signal;
}

/* The live event log's descriptor when it is a pipe, FIFO or socket, else -1 (see on_signal). */
static int live_log_fd = -1;

/* A stop signal; also makes the live event log stop waiting for its reader: a reader that
 * stopped reading (a full pipe) would otherwise block the last drain forever, and writes that
 * would block fail from here on (on_event counts them). fcntl is async-signal-safe. */
static void on_signal(int sig)
{
	int saved = errno, fl;

	got_signal = sig;
	if (live_log_fd >= 0 && (fl = fcntl(live_log_fd, F_GETFL)) >= 0)
		fcntl(live_log_fd, F_SETFL, fl | O_NONBLOCK);
	errno = saved;
}

/* Remembers the event log's descriptor for on_signal when the log is read live (pipe, FIFO,
 * socket); a regular file never blocks. */
static void watch_live_log(FILE *f)
{
	struct stat st;
	int fd = f ? fileno(f) : -1;

	if (fd >= 0 && !fstat(fd, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		live_log_fd = fd;
}

/* A write blocked on a reader that stopped reading returns EINTR; a second signal ends perfbpf
 * at once. */
void trace_session__install_signals(void)
{
	signals__on_stop(on_signal, SA_RESETHAND);
}

static int on_event(void *ctx, const struct perfbpf_event *e)
{
	struct session *s = ctx;
	int err = agg__add(s->agg, e);

	if (!err && s->run_agg)
		err = agg__add(s->run_agg, e);
	if (!err && s->series)
		err = kseries_agg__add(s->series, e);
	if (!err && s->timeline)
		err = html_timeline__add(s->timeline, e);
	if (!err && s->ew) {
		err = events__write(s->ew, e);
		/* after a stop signal the log's writes no longer wait for a reader that stopped
		 * reading (see on_signal): count what is lost, keep the statistics */
		if (err && got_signal) {
			s->events_unwritten++;
			err = 0;
		}
	}
	if (!err && s->ct)
		err = chrome_trace__event(s->ct, e);
	if (!err && s->otlp)
		err = otlp_trace__event(s->otlp, e);
	if (err)
		s->agg_err = err;
	return err;
}

/* An ABI v3 op, when the statistics are its only reader (trace_session__init). */
static int on_op(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	struct session *s = ctx;
	int err = agg__add_op(s->agg, names_id, end_ns, duration_ns);

	if (err && err != -ENOENT)
		s->agg_err = err;
	return err;
}

/* --redact: the note with the value of a redacted attribute key replaced. */
static const struct perfbpf_note *redacted(const struct session *s, const struct perfbpf_note *n,
					   struct perfbpf_note *copy)
{
	char key[PERFBPF_NOTE_NAME_LEN + 1];
	const char *k = n->kind == PERFBPF_EV_ATTR ? n->name : n->akey;
	char out[REDACTED_LEN];

	if (n->kind != PERFBPF_EV_ATTR && n->kind != PERFBPF_EV_EVENT)
		return n;
	snprintf(key, sizeof(key), "%.*s", (int)PERFBPF_NOTE_NAME_LEN, k);
	if (!redact__wants(s->redact, key))
		return n;
	*copy = *n;
	if (n->kind == PERFBPF_EV_ATTR && n->value_type != PERFBPF_VAL_STR)
		redact__value(s->redact, &n->value, sizeof(n->value), out);
	else
		redact__value(s->redact, n->str, strnlen(n->str, sizeof(n->str)), out);
	copy->value_type = n->kind == PERFBPF_EV_ATTR ? PERFBPF_VAL_STR : n->value_type;
	copy->value = 0;
	memset(copy->str, 0, sizeof(copy->str));
	memcpy(copy->str, out, sizeof(out));
	return copy;
}

static int on_note(void *ctx, const struct perfbpf_note *n)
{
	struct session *s = ctx;
	struct perfbpf_note copy;
	int err;

	if (s->redact)
		n = redacted(s, n, &copy);
	err = s->otlp ? otlp_trace__note(s->otlp, n) : 0;

	if (err)
		s->agg_err = err;
	return err;
}

/* Opens one output asked for by path ("-" is stdout); NULL path: nothing to open. */
static int open_output(const char *path, FILE **f)
{
	int err = 0;

	if (path)
		*f = output__open(path, &err);
	return err;
}

/* On failure the caller's trace_session__fini closes whatever was opened. */
int trace_session__open_outputs(struct session *s)
{
	const struct cli_opts *o = s->o;
	int err;

	err = open_output(o->events_path, &s->events);
	err = err ?: open_output(o->trace_path, &s->trace);
	err = err ?: open_output(o->html_path, &s->html);
	err = err ?: open_output(o->json_path, &s->json);
	err = err ?: open_output(o->markdown_path, &s->md);
	if (err)
		return err;
	watch_live_log(s->events);
	/* no output named: the report goes to stdout, unless stdout already carries another one */
	if (!o->markdown_path && !o->quiet && !output__is_stdout(o->json_path) &&
	    !output__is_stdout(o->events_path) && !output__is_stdout(o->trace_path) &&
	    !output__is_stdout(o->html_path))
		s->md = stdout;
	return 0;
}

static int close_output(FILE *f, const char *path)
{
	int err = output__close(f);

	if (!err)
		return 0;
	if (got_signal && (err == -EAGAIN || err == -EINTR || f == stdout))
		return 0; /* after a stop signal (see on_signal): said by the caller */
	return output__fail(path, err);
}

/* Everything still in the ring; a failure to take it is said, not left unreported. */
static int drain(struct session *s)
{
	int n = tracer__drain(s->tracer);

	if (n >= 0)
		return 0;
	pb_err("reading the last events failed: %s", strerror(-n));
	return n;
}

/* A run begins: its loss counters and (with --repeat) its own aggregation start from here. */
int trace_session__begin_run(struct session *s)
{
	struct agg_opts ao = { .sample_budget = s->o->sample_budget, .max_keys = s->o->max_keys,
			       .style = (enum dist_style)s->o->stats_style,
			       .histograms = true };

	s->stop_reason = NULL;
	agg__new_run(s->agg);
	tracer__counters(s->tracer, s->counters_at_start);
	if (s->o->repeat > 1 && !(s->run_agg = agg__new(&ao)))
		return -ENOMEM;
	return 0;
}

/* A run has ended: drain its events and keep its record. */
int trace_session__end_run(struct session *s, int exit_status)
{
	struct run_summary *r, *nr;
	struct summary sum = { 0 };
	uint64_t now[PERFBPF_CNT__MAX];
	int err;

	/* a target still running: the records pending in its threads' buffers come in with the
	 * next timer tick */
	if (exit_status < 0)
		tracer__settle(s->tracer);
	/* the probes first: an engine that keeps firing faster than the consumer (a slow event
	 * log, a sanitizer build) would otherwise keep this drain from ever ending */
	tracer__detach_probes(s->tracer);
	err = drain(s);
	if (err)
		return err;
	nr = realloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
	if (!nr)
		return -ENOMEM;
	s->runs = nr;
	r = memset(&s->runs[s->nruns], 0, sizeof(*r));
	err = agg__summarize(s->run_agg ? s->run_agg : s->agg, &sum);
	if (!err)
		err = run_summary__capture(r, &sum);
	agg__free(s->run_agg);
	s->run_agg = NULL;
	if (err) {
		pb_err("cannot keep the statistics of run %zu: %s", s->nruns + 1, strerror(-err));
		return err;
	}
	tracer__counters(s->tracer, now);
	for (int i = 0; i < PERFBPF_CNT__MAX; i++)
		now[i] -= s->counters_at_start[i];
	r->index = (unsigned)++s->nruns;
	r->pid = s->pid;
	r->exit_status = exit_status;
	r->stop_reason = s->stop_reason;
	r->start_real_ns = s->start_real;
	r->trace_ns = mono_ns() - s->start_mono;
	r->dropped = summary__dropped(now);
	return 0;
}

/* --otlp-metrics: the series and counters now, for the export thread. */
static int push_metrics(struct session *s)
{
	size_t n;
	struct kseries *const *v = kseries_agg__series(s->series, &n);
	struct otlp_metrics_snapshot *snap = otlp_metrics_snapshot__new(v, n, s->start_real);
	int err = snap ? tracer__counters(s->tracer, snap->counters) : -ENOMEM;

	if (err) {
		otlp_metrics_snapshot__free(snap);
		pb_err("cannot take the metrics for OTLP: %s", strerror(-err));
		return err;
	}
	snap->counters[PERFBPF_CNT_KEYS_OVER_LIMIT] += kseries_agg__over_limit(s->series);
	snap->pid = (uint32_t)s->pid;
	otlp_exporter__push_metrics(s->metrics, snap);
	return 0;
}

/* Counters, statistics over every run, and the outputs. */
int trace_session__report(struct session *s)
{
	struct summary sum = { 0 };
	uint64_t *per_cpu;
	int err = drain(s);

	if (err)
		return err;
	if (s->metrics) { /* the last metrics, then what the flush timeout allows */
		err = push_metrics(s);
		if (err)
			return err;
		otlp_exporter__shutdown(s->metrics);
		otlp_exporter__stats(s->metrics, &s->metrics_stats);
		sum.otlp_metrics = &s->metrics_stats;
		if (otlp_stats__undelivered(&s->metrics_stats))
			pb_warn("%llu of %llu metric data points were not delivered to %s (last "
				"error: %s)",
				(unsigned long long)otlp_stats__undelivered(&s->metrics_stats),
				(unsigned long long)s->metrics_stats.spans, s->metrics_stats.url,
				s->metrics_stats.last_error[0] ? s->metrics_stats.last_error
							       : "none");
	}
	if (s->otlp) {
		otlp_trace__finish(s->otlp);
		otlp_trace__stats(s->otlp, &s->otlp_stats);
		sum.otlp = &s->otlp_stats;
		if (otlp_stats__undelivered(&s->otlp_stats))
			pb_warn("%llu of %llu spans were not delivered to %s (last error: %s)",
				(unsigned long long)otlp_stats__undelivered(&s->otlp_stats),
				(unsigned long long)s->otlp_stats.spans, s->otlp_stats.url,
				s->otlp_stats.last_error[0] ? s->otlp_stats.last_error : "none");
	}
	sum.command = s->command;
	sum.pid = s->pid;
	sum.stop_reason = s->stop_reason;
	sum.exit_status = s->exit_status;
	sum.start_real_ns = s->nruns ? s->runs[0].start_real_ns : s->start_real;
	for (size_t i = 0; i < s->nruns; i++)
		sum.trace_ns += s->runs[i].trace_ns;
	sum.binaries = s->po.binaries;
	sum.probe_sites = s->po.sites;
	sum.strings_from_files = tracer__strings_from_files(s->tracer);
	sum.attribution = s->o->attribution;
	sum.runs = s->runs;
	sum.nruns = s->nruns;
	sum.env = &s->env;
	err = agg__summarize(s->agg, &sum);
	if (err) {
		pb_err("cannot compute the statistics: %s", strerror(-err));
		return err;
	}
	err = tracer__summary_losses(s->tracer, &sum, &per_cpu);
	if (err) {
		pb_err("cannot read the loss counters: %s", strerror(-err));
		return err;
	}
	if (sum.dropped)
		pb_warn("%llu events were dropped (see the report's data quality section)",
			(unsigned long long)sum.dropped);
	if (s->json && json__write(s->json, &sum))
		err = -EIO;
	if (s->html) {
		struct json_object *data = json__summary(&sum);

		if (s->timeline)
			json_object_object_add(data, "timeline", html_timeline__json(s->timeline));
		if (html__write(s->html, data))
			err = -EIO;
		json_object_put(data);
	}
	if (s->md && markdown__write(s->md, &sum, &s->o->md))
		err = -EIO;
	free(per_cpu);
	return err;
}

int trace_session__init(struct session *s, const struct cli_opts *o, int pid)
{
	/* one run: the run's record comes from this aggregation, with histograms */
	struct agg_opts ao = { .sample_budget = o->sample_budget, .max_keys = o->max_keys,
			       .style = (enum dist_style)o->stats_style,
			       .histograms = o->repeat <= 1 };
	struct tracer_opts to = {
		.ring_size = o->ring_size,
		.wakeup_bytes = o->ring_size / 4,
		.max_threads = (uint32_t)o->max_threads,
		.attribution = o->attribution,
		.span_notes = o->otlp_flags.spans,
		.per_event = o->per_event,
		.on_event = on_event,
		.on_note = on_note,
		.ctx = s,
		.stop = &got_signal,
	};

	s->pid = pid;
	s->exit_status = -1;
	environment__read(&s->env);
	if (s->events && !(s->ew = events__new(s->events)))
		return -ENOMEM;
	if (s->trace && !(s->ct = chrome_trace__new(s->trace)))
		return -ENOMEM;
	if (s->html && !(s->timeline = html_timeline__new(HTML_TIMELINE_EVENTS)))
		return -ENOMEM;
	if (o->redact) {
		int rerr;

		s->redact = redact__new(o->redact, &rerr);
		if (!s->redact) {
			pb_err("--redact: cannot set up the keyed hash: %s", strerror(-rerr));
			return rerr;
		}
	}
	s->agg = agg__new(&ao);
	if (!s->agg)
		return -ENOMEM;
	if (o->otlp_flags.spans) {
		s->otlp = otlp_trace__new(&o->otlp, s->command);
		if (!s->otlp)
			return -ENOMEM;
		if (!o->quiet)
			fprintf(stderr, "perfbpf: sending spans to %s (%s%s)\n", o->otlp.url,
				o->otlp.protocol == OTLP_HTTP_JSON ? "http/json"
				: o->otlp.protocol == OTLP_GRPC ? "grpc" : "http/protobuf",
				o->otlp.gzip ? ", gzip" : "");
	}
	if (o->otlp_flags.metrics) {
		s->series = kseries_agg__new(false, o->max_keys);
		s->metrics = s->series ? otlp_exporter__new(&o->otlp_metrics, s->command) : NULL;
		if (!s->metrics)
			return -ENOMEM;
		if (!o->quiet)
			fprintf(stderr, "perfbpf: sending metrics to %s every %.3gs and at the end\n",
				o->otlp_metrics.url, (double)o->otlp_metrics.interval_ns * 1e-9);
	}
	/* ops skip the whole event where the statistics of the whole session are all that reads
	 * them */
	if (o->repeat <= 1 && !s->ew && !s->ct && !s->timeline && !s->otlp && !s->series)
		to.on_op = on_op;
	return tracer__new(&to, &s->tracer);
}

/* Detaches, closes the outputs and frees; returns an output's write error, if any. */
int trace_session__fini(struct session *s)
{
	int err = 0;

	tracer__free(s->tracer);
	otlp_trace__free(s->otlp);
	otlp_exporter__free(s->metrics);
	kseries_agg__free(s->series);
	redact__free(s->redact);
	events__free(s->ew);
	if (s->ct && chrome_trace__finish(s->ct))
		pb_warn("%s: the trace file could not be written whole", s->o->trace_path);
	s->ct = NULL;
	err = close_output(s->trace, s->o->trace_path) ?: err;
	err = close_output(s->html, s->o->html_path) ?: err;
	html_timeline__free(s->timeline);
	err = close_output(s->json, s->o->json_path) ?: err;
	err = close_output(s->md, s->o->markdown_path) ?: err;
	if (s->events && got_signal && (s->events_unwritten || fflush(s->events) || ferror(s->events)))
		pb_warn("%s: its reader stopped reading; at least %llu events after the stop were not "
			"written to it (they are in the statistics)", s->o->events_path,
			(unsigned long long)s->events_unwritten);
	err = close_output(s->events, s->o->events_path) ?: err;
	agg__free(s->agg);
	agg__free(s->run_agg);
	for (size_t i = 0; i < s->nruns; i++)
		run_summary__free(&s->runs[i]);
	free(s->runs);
	target__free(&s->po.objs);
	free(s->command);
	return err;
}

/* The consumer yields the CPU to the engine while the loop runs (consumer_yield.h), unless
 * --no-yield or perfbpf may not (no CAP_SYS_NICE). */
static struct consumer_yield *start_yielding(struct session *s, uint64_t due_ns)
{
	struct consumer_yield *y;
	uint64_t size;
	int fd;

	if (s->o->no_yield)
		return NULL;
	if (!permission__may_leave_idle()) {
		pb_debug("the consumer runs at normal priority: no CAP_SYS_NICE to return from idle");
		return NULL;
	}
	fd = tracer__ring_fd(s->tracer, &size);
	if (!(y = consumer_yield__start(fd, size, s->pid, due_ns)))
		pb_debug("the consumer runs at normal priority: %s", strerror(errno));
	return y;
}

/* When the loop must next come round for a timed duty: a rescan, the stop, a metrics push. */
static uint64_t next_due(const struct session *s, uint64_t deadline, uint64_t next_scan)
{
	uint64_t due = next_scan;

	if (deadline && !s->stop_reason && deadline < due)
		due = deadline;
	if (s->metrics && s->next_metrics < due)
		due = s->next_metrics;
	return due;
}

static int loop(struct session *s, done_fn done, uint64_t deadline, uint64_t next_scan,
		struct consumer_yield *y)
{
	/* the first drains come sooner (1, 2, 4, 8 ms, then every POLL_MS), so that the first
	 * events show without waiting a whole period (`--events -`, time to first event) */
	int period = 1;

	bool rescan = true;

	while (!done(s)) {
		int n, err = tracer__refresh_strings(s->tracer, s->pid, rescan);
		uint64_t now;

		if (err) {
			pb_err("reading the read-only ranges of pid %d failed: %s", s->pid,
			       strerror(-err));
			return err;
		}
		n = tracer__poll(s->tracer, period);
		rescan = false;

		period = period * 2 < POLL_MS ? period * 2 : POLL_MS;

		if (n < 0 && n != -EINTR) {
			pb_err("reading events failed: %s", strerror(-n));
			return n;
		}
		/* the event log is read live (`--events -`, a FIFO): hand over each drained batch */
		if (n > 0 && s->events)
			fflush(s->events);
		now = mono_ns();
		if (deadline && now >= deadline && !s->stop_reason)
			s->stop_reason = "the duration elapsed";
		if (y && s->stop_reason)
			consumer_yield__finish(y);
		if (s->metrics && now >= s->next_metrics) {
			if (s->next_metrics && (err = push_metrics(s)))
				return err;
			s->next_metrics = now + s->o->otlp_metrics.interval_ns;
		}
		if (now >= next_scan) {
			next_scan = now + RESCAN_NS;
			rescan = true;
			if (target__scan_maps(s->pid, &s->po.objs) > 0 &&
			    (err = tracer__attach_new(s->tracer, s->pid, &s->po)))
				return err;
		}
		if (y)
			consumer_yield__loop(y, next_due(s, deadline, next_scan));
	}
	return 0;
}

int trace_session__loop(struct session *s, done_fn done)
{
	uint64_t deadline = s->o->duration_ns ? s->start_mono + s->o->duration_ns : 0;
	uint64_t next_scan = mono_ns() + RESCAN_NS;
	struct consumer_yield *y = start_yielding(s, next_due(s, deadline, next_scan));
	int err = loop(s, done, deadline, next_scan, y);

	consumer_yield__stop(y);
	return err;
}
