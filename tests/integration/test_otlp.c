// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of the OTLP span export: the demo engine traced with --otlp, received by
 * tests/otlp/receiver.js, which decodes every request with the OpenTelemetry project's generated
 * decoder (@opentelemetry/otlp-transformer 0.52.1); a captured request decoded again with
 * `protoc --decode_raw`; collector faults (absent, 503 + Retry-After, 400, slow, partial
 * success); sampling; ops as spans; bad flags. */
#include "exporters/otlp/otlp_sampler.h"
#include "harness.h"
#include "otlp_receiver.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")
#define BARS "4000"
#define NSYMBOLS 2
#define BATCH 512 /* the default --otlp-batch */

/* --- the traced run ---------------------------------------------------------------------------- */

struct run {
	struct proc_result pr;
	struct json_object *summary;
	long trades, rejected;
	uint64_t t0, t1; /* wall clock around the run, ns */
	double secs;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* perfbpf run -q [extra...] -j summary -- backtest --bars BARS [threads] */
static const char *engine = "backtest"; /* the demo engine traced_run runs */

static void traced_run(struct run *r, const char *const extra[], const char *threads)
{
	const char *json = tmp_file("summary.json");
	char *argv[40];
	size_t n = 0;
	const char *p;

	argv[n++] = (char *)PERFBPF;
	argv[n++] = "run";
	argv[n++] = "-q";
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n++] = "-j";
	argv[n++] = (char *)json;
	argv[n++] = "--";
	argv[n++] = (char *)bpath(engine);
	argv[n++] = "--bars";
	argv[n++] = BARS;
	if (threads) {
		argv[n++] = "--threads";
		argv[n++] = (char *)threads;
	}
	argv[n] = NULL;
	unlink(json);
	r->t0 = wall_ns();
	run_proc(argv, 120, &r->pr);
	r->t1 = wall_ns();
	r->secs = (double)(r->t1 - r->t0) / 1e9;
	if (r->pr.status != 0)
		fprintf(stderr, "perfbpf: %s\n", r->pr.err ? r->pr.err : "");
	assert_int_equal(r->pr.status, 0);
	r->summary = load_json(json);
	assert_non_null(r->summary);
	/* the engine's own count of orders: "trades N  rejected M" per strategy, summed */
	r->trades = r->rejected = 0;
	for (p = r->pr.out; (p = strstr(p, "trades ")); p++) {
		long t, j;

		assert_int_equal(sscanf(p, "trades %ld rejected %ld", &t, &j), 2);
		r->trades += t;
		r->rejected += j;
	}
	assert_true(r->trades > 0);
}

static void run_free(struct run *r)
{
	json_object_put(r->summary);
	proc_result_free(&r->pr);
}

static uint64_t span_count(struct run *r, const char *name)
{
	struct json_object *row = find_row(r->summary, "metric_rollups", "span", name, NULL, NULL);

	return row ? json_u64(row, "count") : 0;
}

/* Spans the engine produced, from the statistics. */
static uint64_t all_spans(struct run *r)
{
	struct json_object *rows = json_get(r->summary, "metric_rollups");
	uint64_t n = 0;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);

		if (!strcmp(json_str(row, "kind"), "span"))
			n += json_u64(row, "count");
	}
	return n;
}

static struct json_object *otlp(struct run *r, const char *key)
{
	return json_get(json_get(r->summary, "otlp"), key);
}

static uint64_t otlp_u64(struct run *r, const char *key)
{
	return (uint64_t)json_object_get_int64(otlp(r, key));
}

static uint64_t why_u64(struct run *r, const char *key)
{
	return json_u64(otlp(r, "undelivered_by_reason"), key);
}

/* The statistics cover every event whatever happened to the export. */
static void assert_statistics_complete(struct run *r)
{
	assert_int_equal(json_u64(r->summary, "dropped"), 0);
	assert_int_equal(span_count(r, "backtest.run"), 1);
	assert_int_equal(span_count(r, "order.submit"), r->trades + r->rejected);
}

static const char *attr_str(struct json_object *span, const char *key)
{
	struct json_object *v = json_get(json_get(span, "attributes"), key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* {"int": "N"} -> N */
static long long attr_int(struct json_object *span, const char *key)
{
	struct json_object *v = json_get(json_get(span, "attributes"), key);

	assert_non_null(v);
	return atoll(json_str(v, "int"));
}

static double attr_double(struct json_object *span, const char *key)
{
	struct json_object *v = json_get(json_get(span, "attributes"), key);

	assert_non_null(v);
	return json_object_get_double(json_get(v, "double"));
}

static uint64_t t_of(struct json_object *span, const char *key)
{
	return strtoull(json_str(span, key), NULL, 10);
}

static struct json_object *by_id(struct json_object *spans, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i);

		if (!strcmp(json_str(s, "spanId"), id))
			return s;
	}
	return NULL;
}

/* One whole demo trace per thread: one root, parents present, ids unique, times nested. */
static void assert_trees(struct json_object *spans, size_t ntraces)
{
	size_t roots = 0, n = json_object_array_length(spans);

	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(spans, i), *parent;
		const char *pid = json_str(s, "parentSpanId");

		assert_int_equal(strlen(json_str(s, "traceId")), 32);
		assert_int_equal(strlen(json_str(s, "spanId")), 16);
		assert_int_equal(json_u64(s, "kind"), 1); /* INTERNAL */
		assert_true(by_id(spans, json_str(s, "spanId")) == s); /* unique */
		if (!*pid) {
			assert_string_equal(json_str(s, "name"), "backtest.run");
			roots++;
			continue;
		}
		parent = by_id(spans, pid);
		assert_non_null(parent);
		assert_string_equal(json_str(parent, "traceId"), json_str(s, "traceId"));
		assert_true(t_of(parent, "start") <= t_of(s, "start"));
		assert_true(t_of(parent, "end") >= t_of(s, "end"));
		if (!strcmp(json_str(s, "name"), "order.submit"))
			assert_string_equal(json_str(parent, "name"), "backtest.simulation");
		else if (!strncmp(json_str(s, "name"), "backtest.", 9))
			assert_string_equal(json_str(parent, "name"), "backtest.run");
	}
	assert_int_equal(roots, ntraces);
}

/* --- tests ------------------------------------------------------------------------------------- */

/* Every span, with its tree, attributes, events, errors, times and resource, checked against
 * the statistics; the first request decoded again by protoc. Over HTTP/protobuf (the default),
 * or over gRPC with gzip and metadata from OTEL_EXPORTER_OTLP_HEADERS. */
static void full_export(bool grpc)
{
	const char *capture = tmp_file("request.bin");
	struct receiver rc = { .grpc = grpc };
	struct requests q;
	struct run r;
	struct json_object *spans;
	uint64_t sum_submit = 0, sum_sim = 0;
	size_t errors = 0, filled = 0, n;
	struct proc_result pd;
	char cmd[600];

	receiver_start(&rc, "ok", capture);
	setenv("OTEL_SERVICE_NAME", "otlp-test", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci,team=quant%20desk", 1);
	if (grpc) {
		setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-test=grpc%20yes", 1);
		setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
		traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--otlp-compression",
						 "gzip", NULL }, NULL);
	} else {
		traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, NULL }, NULL);
	}
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
	unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_true(q.n >= 1);
	for (size_t i = 0; i < q.n && grpc; i++) {
		assert_int_equal(json_u64(q.v[i], "status"), 0); /* gRPC OK */
		assert_true(json_object_get_boolean(json_get(q.v[i], "grpc")));
		assert_string_equal(json_str(q.v[i], "testHeader"), "grpc yes");
		assert_null(json_object_get_string(json_get(q.v[i], "error")));
	}
	for (size_t i = 0; i < q.n && !grpc; i++) {
		assert_int_equal(json_u64(q.v[i], "status"), 200);
		assert_false(json_object_get_boolean(json_get(q.v[i], "gzip")));
		assert_false(json_object_get_boolean(json_get(q.v[i], "json")));
		assert_string_equal(json_str(q.v[i], "contentType"), "application/x-protobuf");
	}
	spans = accepted_spans(&q);
	n = json_object_array_length(spans);
	assert_int_equal(n, all_spans(&r));
	assert_int_equal(n, 6 + r.trades + r.rejected);
	assert_int_equal(otlp_u64(&r, "exported"), n);
	assert_int_equal(otlp_u64(&r, "undelivered"), 0);
	assert_int_equal(q.n, (n + BATCH - 1) / BATCH);
	assert_trees(spans, 1);
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(spans, i), *res, *ev;
		const char *name = json_str(s, "name");
		uint64_t start = t_of(s, "start"), end = t_of(s, "end");

		/* Unix times within the run (1 ms slack for the clock conversion) */
		assert_true(start + 1000000 >= r.t0 && end <= r.t1 + 1000000 && start <= end);
		res = json_get(s, "resource");
		assert_string_equal(json_str(res, "service.name"), "otlp-test");
		assert_string_equal(json_str(res, "deployment.environment"), "ci");
		assert_string_equal(json_str(res, "team"), "quant desk");
		assert_string_equal(json_str(res, "process.executable.name"),
				    strrchr(bpath(engine), '/') + 1);
		assert_non_null(strstr(json_str(res, "process.command_line"), "--bars " BARS));
		assert_int_equal(atoll(json_str(json_get(res, "process.pid"), "int")),
				 json_u64(r.summary, "pid"));
		assert_non_null(json_str(res, "host.name"));
		assert_string_equal(json_str(json_get(s, "scope"), "name"), "perfbpf");
		assert_string_equal(attr_str(s, "strategy.name"), "sma-5-20");
		assert_true(attr_int(s, "thread.id") > 0);
		ev = json_get(s, "events");
		if (!strcmp(name, "order.submit")) {
			const char *side = attr_str(s, "order.side");

			sum_submit += end - start;
			assert_true(!strcmp(side, "buy") || !strcmp(side, "sell"));
			assert_int_equal(strncmp(attr_str(s, "client_order_id"), "sma-5-20-1-", 11), 0);
			assert_non_null(attr_str(s, "trading.symbol"));
			if (json_u64(json_get(s, "status"), "code") == 2) {
				struct json_object *e = json_object_array_get_idx(ev, 0);

				errors++;
				assert_string_equal(json_str(json_get(s, "status"), "message"),
						    "risk check rejected the order");
				assert_string_equal(json_str(e, "name"), "exception");
				assert_string_equal(json_str(json_get(e, "attributes"),
							     "exception.message"),
						    "risk check rejected the order");
			} else {
				struct json_object *e = json_object_array_get_idx(ev, 0);

				filled++;
				assert_true(attr_double(s, "order.quantity") > 0);
				assert_int_equal(json_object_array_length(ev), 1);
				assert_string_equal(json_str(e, "name"), "order.filled");
				assert_true(atof(json_str(json_get(e, "attributes"), "fill.price")) > 0);
				assert_true(t_of(e, "time") >= start && t_of(e, "time") <= end);
			}
		} else if (!strcmp(name, "backtest.run")) {
			assert_string_equal(attr_str(s, "backtest.run_id"), "sma-5-20-1");
			assert_string_equal(attr_str(s, "backtest.strategy"), "sma-5-20");
			assert_int_equal(attr_int(s, "backtest.symbols_count"), NSYMBOLS);
			assert_true(attr_double(s, "backtest.initial_capital") == 100000.0);
			/* the kernel-measured duration, to the nanosecond */
			assert_int_equal(end - start, json_u64(find_row(r.summary, "metric_rollups",
									"span", "backtest.run", NULL,
									NULL), "total_ns"));
		} else if (!strcmp(name, "backtest.load_data")) {
			assert_int_equal(attr_int(s, "data.total_bars"), atol(BARS) * NSYMBOLS);
		} else if (!strcmp(name, "backtest.performance_calc")) {
			assert_int_equal(attr_int(s, "perf.total_trades"), r.trades);
			assert_non_null(json_get(json_get(s, "attributes"), "perf.sharpe_ratio"));
		} else if (!strcmp(name, "backtest.simulation")) {
			sum_sim += end - start;
		}
	}
	assert_int_equal(errors, r.rejected);
	assert_int_equal(filled, r.trades);
	assert_int_equal(sum_submit, json_u64(find_row(r.summary, "metric_rollups", "span",
						       "order.submit", NULL, NULL), "total_ns"));
	assert_int_equal(sum_sim, json_u64(find_row(r.summary, "metric_rollups", "span",
						    "backtest.simulation", NULL, NULL), "total_ns"));
	/* the ops and spans were recorded in the engine (probe ABI v3), and the annotations too
	 * (or, for an object without a notes site, they hit their probes): no name was read from
	 * the files, which only per-event op probes do; and every annotation found its span */
	assert_int_equal(json_u64(json_get(r.summary, "probes"), "strings_from_files"), 0);
	assert_int_equal(json_u64(json_get(r.summary, "losses"), "span_note_without_span"), 0);
	/* which way the annotations came: with a notes site, perfbpf attached only the flush and
	 * notes sites; without one, the annotations' probe sites too */
	if (strcmp(engine, "backtest") == 0)
		assert_int_equal(json_u64(json_get(r.summary, "probes"), "sites"), 2);
	else
		assert_true(json_u64(json_get(r.summary, "probes"), "sites") > 10);

	/* an independent decoder of the wire format: protoc, without the schema */
	snprintf(cmd, sizeof(cmd), "protoc --decode_raw < '%s'", capture);
	{
		char *argv[] = { "sh", "-c", cmd, NULL };

		run_proc(argv, 60, &pd);
	}
	assert_int_equal(pd.status, 0);
	assert_non_null(strstr(pd.out, "5: \"order.submit\""));      /* Span.name */
	assert_non_null(strstr(pd.out, "1: \"service.name\""));      /* KeyValue.key */
	assert_non_null(strstr(pd.out, "1: \"otlp-test\""));         /* AnyValue.string_value */
	assert_non_null(strstr(pd.out, "6: 1\n"));                   /* Span.kind INTERNAL */
	assert_non_null(strstr(pd.out, "1: \"perfbpf\""));           /* InstrumentationScope.name */
	proc_result_free(&pd);
	json_object_put(spans);
	requests_free(&q);
	run_free(&r);
}

static void test_protobuf_full(void **state)
{
	(void)state;
	full_export(false);
}

/* The same checks on the demo built with its span notes as per-event probe hits only (an ABI v3
 * object without a notes site, as built before notes were recorded in the buffer). */
static void test_protobuf_notes_as_probes(void **state)
{
	(void)state;
	engine = "tests/backtest_notes_as_probes";
	full_export(false);
}

/* kill_tracked, and the demo engine back for the tests that follow (an assert jumps past the
 * test's own end) */
static int engine_back(void **state)
{
	engine = "backtest";
	return kill_tracked(state);
}

/* OTLP/gRPC (h2c, on the gRPC project's own server): the same checks as over HTTP. */
static void test_grpc_full(void **state)
{
	(void)state;
	full_export(true);
}

/* gRPC faults: no receiver (counted, prompt exit); UNAVAILABLE twice then OK (retried, each span
 * accepted once); INVALID_ARGUMENT (not retried, counted as rejected); RESOURCE_EXHAUSTED with a
 * RetryInfo of 1 s (retried after it) and without one (not retried); a slow receiver. */
static void test_grpc_faults(void **state)
{
	struct receiver rc = { .grpc = true };
	struct requests q;
	struct json_object *spans;
	char url[64];
	struct run r;
	size_t batches;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", url, NULL },
		   NULL);
	assert_statistics_complete(&r);
	assert_int_equal(otlp_u64(&r, "exported"), 0);
	assert_int_equal(otlp_u64(&r, "undelivered"), all_spans(&r));
	assert_non_null(strstr(json_object_get_string(otlp(&r, "last_error")), "Couldn't connect"));
	assert_true(r.secs < 15);
	run_free(&r);

	receiver_start(&rc, "fail:2:14", NULL);
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", rc.url,
					 NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	spans = accepted_spans(&q);
	batches = (all_spans(&r) + BATCH - 1) / BATCH;
	assert_int_equal(q.n, batches + 2);
	assert_int_equal(json_u64(q.v[0], "status"), 14);
	assert_int_equal(json_u64(q.v[1], "status"), 14);
	assert_int_equal(json_object_array_length(spans), all_spans(&r)); /* each once */
	assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
	assert_int_equal(otlp_u64(&r, "retries"), 2);
	json_object_put(spans);
	requests_free(&q);
	run_free(&r);

	receiver_start(&rc, "status:3", NULL);
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", rc.url,
					 NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_int_equal(q.n, (all_spans(&r) + BATCH - 1) / BATCH);
	assert_int_equal(otlp_u64(&r, "retries"), 0);
	assert_int_equal(why_u64(&r, "rejected"), all_spans(&r));
	assert_non_null(strstr(json_object_get_string(otlp(&r, "last_error")), "gRPC status 3"));
	requests_free(&q);
	run_free(&r);

	receiver_start(&rc, "fail:1:8:1", NULL);
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", rc.url,
					 NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_true(q.n >= 2);
	assert_int_equal(json_u64(q.v[0], "status"), 8);
	assert_int_equal(json_u64(q.v[1], "status"), 0);
	assert_true(json_u64(q.v[1], "t") - json_u64(q.v[0], "t") >= 950); /* RetryInfo: 1 s */
	assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
	requests_free(&q);
	run_free(&r);

	receiver_start(&rc, "fail:1:8", NULL);
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", rc.url,
					 NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	batches = (all_spans(&r) + BATCH - 1) / BATCH;
	assert_int_equal(q.n, batches); /* not retried */
	assert_int_equal(otlp_u64(&r, "retries"), 0);
	assert_true(why_u64(&r, "rejected") > 0);
	assert_int_equal(otlp_u64(&r, "exported") + why_u64(&r, "rejected"), all_spans(&r));
	requests_free(&q);
	run_free(&r);

	receiver_start(&rc, "slow:300", NULL);
	traced_run(&r, (const char *[]){ "--otlp-protocol", "grpc", "--otlp-endpoint", rc.url,
					 NULL }, NULL);
	receiver_stop(&rc);
	assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
	run_free(&r);
}

/* JSON and gzip, chosen by flags and by the OTEL_* variables; headers from the environment. */
static void test_json_gzip(void **state)
{
	static const struct {
		const char *env_proto, *env_comp, *flag_proto, *flag_comp;
		bool json, gzip;
	} cases[] = {
		{ NULL, NULL, "http/json", NULL, true, false },
		{ "http/json", "gzip", NULL, NULL, true, true },
		{ "http/json", NULL, "http/protobuf", "gzip", false, true }, /* flags win */
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct receiver rc = { 0 };
		const char *extra[8];
		struct requests q;
		struct json_object *spans;
		size_t k = 0;
		struct run r;

		receiver_start(&rc, "ok", NULL);
		setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rc.url, 1);
		setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-test=yes", 1);
		if (cases[c].env_proto)
			setenv("OTEL_EXPORTER_OTLP_PROTOCOL", cases[c].env_proto, 1);
		if (cases[c].env_comp)
			setenv("OTEL_EXPORTER_OTLP_COMPRESSION", cases[c].env_comp, 1);
		extra[k++] = "--otlp";
		if (cases[c].flag_proto) {
			extra[k++] = "--otlp-protocol";
			extra[k++] = cases[c].flag_proto;
		}
		if (cases[c].flag_comp) {
			extra[k++] = "--otlp-compression";
			extra[k++] = cases[c].flag_comp;
		}
		extra[k] = NULL;
		traced_run(&r, extra, NULL);
		unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
		unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
		unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
		unsetenv("OTEL_EXPORTER_OTLP_COMPRESSION");
		receiver_stop(&rc);
		requests_load(&rc, &q);
		assert_true(q.n >= 1);
		for (size_t i = 0; i < q.n; i++) {
			assert_int_equal(json_u64(q.v[i], "status"), 200);
			assert_int_equal(json_object_get_boolean(json_get(q.v[i], "json")),
					 cases[c].json);
			assert_int_equal(json_object_get_boolean(json_get(q.v[i], "gzip")),
					 cases[c].gzip);
			assert_string_equal(json_str(q.v[i], "testHeader"), "yes");
			assert_int_equal(strncmp(json_str(q.v[i], "userAgent"), "perfbpf/", 8), 0);
		}
		spans = accepted_spans(&q);
		assert_int_equal(json_object_array_length(spans), all_spans(&r));
		assert_trees(spans, 1);
		for (size_t i = 0; i < json_object_array_length(spans); i++) {
			struct json_object *s = json_object_array_get_idx(spans, i);

			if (!strcmp(json_str(s, "name"), "backtest.run")) {
				assert_int_equal(attr_int(s, "backtest.symbols_count"), NSYMBOLS);
				assert_true(attr_double(s, "backtest.initial_capital") == 100000.0);
				assert_string_equal(json_str(json_get(s, "resource"), "service.name"),
						    "unknown_service:backtest");
			}
		}
		json_object_put(spans);
		requests_free(&q);
		run_free(&r);
	}
}

/* No collector: tracing goes on, the queue stays bounded, every span is counted as undelivered
 * by reason, and perfbpf exits promptly. */
static void test_receiver_absent(void **state)
{
	char url[64];
	struct run r;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	traced_run(&r, (const char *[]){ "--otlp-endpoint", url, "--otlp-queue", "100",
					 "--otlp-batch", "50", NULL }, NULL);
	assert_statistics_complete(&r);
	assert_int_equal(otlp_u64(&r, "spans"), all_spans(&r));
	assert_int_equal(otlp_u64(&r, "exported"), 0);
	assert_int_equal(otlp_u64(&r, "undelivered"), all_spans(&r));
	assert_true(why_u64(&r, "queue_full") > 0); /* bounded: the queue held at most 100 */
	assert_true(why_u64(&r, "gave_up") > 0);
	assert_non_null(strstr(json_object_get_string(otlp(&r, "last_error")),
			       "Couldn't connect"));
	assert_non_null(strstr(r.pr.err, "spans were not delivered"));
	assert_true(r.secs < 15);
	run_free(&r);
}

/* 503 with Retry-After, twice, then 200: delivered once, no duplicates, the wait honoured. */
static void test_retry_after(void **state)
{
	struct receiver rc = { 0 };
	struct json_object *spans;
	struct requests q;
	struct run r;

	(void)state;
	receiver_start(&rc, "fail:2:503:1", NULL);
	traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_true(q.n >= 3);
	assert_int_equal(json_u64(q.v[0], "status"), 503);
	assert_int_equal(json_u64(q.v[1], "status"), 503);
	assert_int_equal(json_u64(q.v[2], "status"), 200);
	/* the retry carries the very same spans */
	assert_string_equal(json_object_to_json_string(json_get(q.v[0], "spans")),
			    json_object_to_json_string(json_get(q.v[2], "spans")));
	spans = accepted_spans(&q);
	assert_int_equal(json_object_array_length(spans), all_spans(&r)); /* once each */
	assert_trees(spans, 1);
	assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
	assert_int_equal(otlp_u64(&r, "retries"), 2);
	assert_int_equal(otlp_u64(&r, "undelivered"), 0);
	assert_true(r.secs >= 2.0); /* two Retry-After: 1 */
	json_object_put(spans);
	requests_free(&q);
	run_free(&r);
}

/* 400: not retried, counted as rejected. */
static void test_bad_request(void **state)
{
	struct receiver rc = { 0 };
	struct requests q;
	struct run r;

	(void)state;
	receiver_start(&rc, "status:400", NULL);
	traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_int_equal(q.n, (all_spans(&r) + BATCH - 1) / BATCH); /* each batch once */
	assert_int_equal(otlp_u64(&r, "retries"), 0);
	assert_int_equal(why_u64(&r, "rejected"), all_spans(&r));
	assert_int_equal(otlp_u64(&r, "exported"), 0);
	assert_statistics_complete(&r);
	requests_free(&q);
	run_free(&r);
}

/* A slow collector never costs an event in the statistics; a partial success is counted. */
static void test_slow_and_partial(void **state)
{
	struct receiver rc = { 0 };
	struct requests q;
	struct run r;
	uint64_t spans;

	(void)state;
	receiver_start(&rc, "slow:300", NULL);
	traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--otlp-batch", "40",
					 "--otlp-flush-timeout", "2s", NULL }, NULL);
	receiver_stop(&rc);
	assert_statistics_complete(&r);
	spans = all_spans(&r);
	assert_int_equal(otlp_u64(&r, "spans"), spans);
	/* 2 s of 300 ms requests cannot carry them all: the rest is counted, none vanish */
	assert_true(otlp_u64(&r, "exported") < spans);
	assert_int_equal(otlp_u64(&r, "exported") + otlp_u64(&r, "undelivered"), spans);
	assert_true(why_u64(&r, "unsent_at_exit") > 0);
	assert_true(r.secs < 15);
	run_free(&r);

	receiver_start(&rc, "partial:3", NULL);
	traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_int_equal(why_u64(&r, "partial_rejected"), 3 * q.n);
	assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r) - 3 * q.n);
	assert_non_null(strstr(json_object_get_string(otlp(&r, "last_error")),
			       "test rejects some"));
	requests_free(&q);
	run_free(&r);
}

/* The sampler's decision for a trace id written as 32 hex digits (OTLP JSON). */
static bool ratio_keeps_hex(const char *hex, double ratio)
{
	uint8_t id[16];

	assert_int_equal(strlen(hex), 32);
	for (int i = 0; i < 16; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		id[i] = (uint8_t)v;
	}
	return otlp_ratio_keeps(id, ratio);
}

/* Head sampling by trace id, and the slow-threshold rule that keeps a slow trace whole. */
static void test_sampling(void **state)
{
	static const struct {
		const char *const args[6];
		const char *threads;
		int want; /* 0 none, 1 all, -1 whole traces only */
	} cases[] = {
		{ { "--sample", "0", NULL }, NULL, 0 },
		{ { "--sample", "0", "--slow-threshold", "1h", NULL }, NULL, 0 },
		{ { "--sample", "0", "--slow-threshold", "1ms", NULL }, NULL, 1 },
		/* 8 engine threads outpace a sanitizer-built consumer: a ring that holds the run */
		{ { "--sample", "0.5", "--ring-size", "512M", NULL }, "8", -1 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct receiver rc = { 0 };
		const char *extra[10] = { "--otlp-endpoint" };
		struct json_object *spans;
		struct requests q;
		struct run r;
		size_t k = 2, n;

		receiver_start(&rc, "ok", NULL);
		extra[1] = rc.url;
		for (size_t i = 0; cases[c].args[i]; i++)
			extra[k++] = cases[c].args[i];
		traced_run(&r, extra, cases[c].threads);
		receiver_stop(&rc);
		requests_load(&rc, &q);
		spans = accepted_spans(&q);
		n = json_object_array_length(spans);
		assert_int_equal(json_u64(r.summary, "dropped"), 0); /* statistics: every event */
		assert_int_equal(otlp_u64(&r, "exported"), n);
		assert_int_equal(n + otlp_u64(&r, "sampled_out"), all_spans(&r));
		if (cases[c].want == 0) {
			assert_int_equal(n, 0);
		} else if (cases[c].want == 1) {
			assert_int_equal(n, all_spans(&r));
			assert_trees(spans, 1);
		} else {
			size_t roots = 0;

			for (size_t i = 0; i < n; i++) {
				struct json_object *sp = json_object_array_get_idx(spans, i);

				roots += !*json_str(sp, "parentSpanId");
				/* kept by the trace-id-ratio rule, not by chance */
				assert_true(ratio_keeps_hex(json_str(sp, "traceId"), 0.5));
			}
			assert_trees(spans, roots); /* whole traces: every parent is there */
			/* the traces of the run are its 8 threads' roots: kept + sampled out */
			assert_true(roots <= 8);
			fprintf(stderr, "note: --sample 0.5 kept %zu of 8 traces\n", roots);
		}
		json_object_put(spans);
		requests_free(&q);
		run_free(&r);
	}
}

/* --otlp-ops: every op is a span too, child of the span open on its thread. */
static void test_ops_as_spans(void **state)
{
	struct receiver rc = { 0 };
	struct json_object *spans, *rows;
	struct requests q;
	struct run r;
	uint64_t ops = 0, op_spans = 0;

	(void)state;
	receiver_start(&rc, "ok", NULL);
	traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--otlp-ops", NULL }, NULL);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	spans = accepted_spans(&q);
	rows = json_get(r.summary, "metric_rollups");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);

		if (!strcmp(json_str(row, "kind"), "op"))
			ops += json_u64(row, "count");
	}
	assert_true(ops > 0);
	assert_int_equal(json_object_array_length(spans), all_spans(&r) + ops);
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i), *parent;
		const char *name = json_str(s, "name");

		if (!strcmp(name, "strategy.indicators") || !strcmp(name, "risk.checkSignal") ||
		    !strcmp(name, "exchange.getCandles")) {
			op_spans++;
			parent = by_id(spans, json_str(s, "parentSpanId"));
			assert_non_null(parent);
			assert_string_equal(json_str(parent, "name"),
					    !strcmp(name, "strategy.indicators") ? "backtest.simulation"
					    : !strcmp(name, "risk.checkSignal") ? "order.submit"
										 : "backtest.load_data");
		}
	}
	assert_true(op_spans > 0);
	json_object_put(spans);
	requests_free(&q);
	run_free(&r);
}

/* TLS to the collector, with a private CA and certificates made by openssl here: over HTTPS and
 * gRPC the spans are delivered when the CA is given (flag or OTEL_EXPORTER_OTLP_CERTIFICATE),
 * and refused, every one counted, when it is not: never sent unverified or in plain text. With
 * mutual TLS, delivered with the client certificate and key, not without. */
static void test_tls(void **state)
{
	char dir[64], ca[96], cert[96], key[96];
	static const bool grpc[] = { false, true };

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tmp_file("tls"));
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(cert, sizeof(cert), "%s/client.crt", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	make_test_certs(dir);
	for (size_t g = 0; g < 2; g++) {
		struct receiver rc = { .grpc = grpc[g], .tls = dir };
		const char *proto = grpc[g] ? "grpc" : "http/protobuf";
		struct run r;

		receiver_start(&rc, "ok", NULL);
		traced_run(&r, (const char *[]){ "--otlp-protocol", proto, "--otlp-endpoint", rc.url,
						 "--otlp-certificate", ca, NULL }, NULL);
		assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
		run_free(&r);
		setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", ca, 1);
		traced_run(&r, (const char *[]){ "--otlp-protocol", proto, "--otlp-endpoint", rc.url,
						 NULL }, NULL);
		unsetenv("OTEL_EXPORTER_OTLP_CERTIFICATE");
		assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
		run_free(&r);
		traced_run(&r, (const char *[]){ "--otlp-protocol", proto, "--otlp-endpoint", rc.url,
						 NULL }, NULL);
		assert_int_equal(otlp_u64(&r, "exported"), 0);
		assert_int_equal(why_u64(&r, "rejected"), all_spans(&r));
		assert_non_null(strstr(json_object_get_string(otlp(&r, "last_error")),
				       "certificate"));
		run_free(&r);
		receiver_stop(&rc);
	}
	{
		struct receiver rc = { .tls = dir, .mtls = true };
		struct run r;

		receiver_start(&rc, "ok", NULL);
		traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--otlp-certificate", ca,
						 "--otlp-client-certificate", cert, "--otlp-client-key",
						 key, NULL }, NULL);
		assert_int_equal(otlp_u64(&r, "exported"), all_spans(&r));
		run_free(&r);
		traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--otlp-certificate", ca,
						 NULL }, NULL);
		assert_int_equal(otlp_u64(&r, "exported"), 0);
		assert_int_equal(otlp_u64(&r, "undelivered"), all_spans(&r));
		run_free(&r);
		receiver_stop(&rc);
	}
}

/* The order ids of a --redact run's order.submit spans (its receiver's file checked for the
 * plain ones first): every one "redacted:" and 16 hex digits, each order its own. */
static size_t redacted_ids(struct receiver *rc, char ids[][32], size_t cap)
{
	struct requests q;
	struct json_object *spans;
	size_t n = 0;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "grep -q 'sma-5-20-1-' %s", rc->out);
	assert_int_not_equal(system(cmd), 0); /* no plain order id anywhere the collector got */
	requests_load(rc, &q);
	spans = accepted_spans(&q);
	for (size_t i = 0; i < json_object_array_length(spans); i++) {
		struct json_object *s = json_object_array_get_idx(spans, i), *ev;
		const char *id;

		if (strcmp(json_str(s, "name"), "order.submit"))
			continue;
		id = attr_str(s, "client_order_id");
		assert_non_null(id);
		assert_int_equal(strlen(id), 25);
		assert_int_equal(strncmp(id, "redacted:", 9), 0);
		assert_int_equal(strspn(id + 9, "0123456789abcdef"), 16);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(ids[j], id);
		assert_true(n < cap);
		snprintf(ids[n++], 32, "%s", id);
		ev = json_get(s, "events");
		if (json_u64(json_get(s, "status"), "code") != 2)
			assert_int_equal(strncmp(json_str(json_get(json_object_array_get_idx(ev, 0),
								   "attributes"), "fill.price"),
						 "redacted:", 9), 0);
	}
	json_object_put(spans);
	requests_free(&q);
	return n;
}

/* --redact: the named attributes (a span's, an event's) reach the collector only as keyed
 * hashes; the hashes of two runs differ (a key per run); the statistics are whole. */
static void test_redact(void **state)
{
	static char first[8192][32], second[8192][32];
	size_t n1, n2;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct receiver rc = { 0 };
		struct run r;

		receiver_start(&rc, "ok", NULL);
		traced_run(&r, (const char *[]){ "--otlp-endpoint", rc.url, "--redact",
						 "client_order_id,fill.price", NULL }, NULL);
		receiver_stop(&rc);
		assert_statistics_complete(&r);
		if (k == 0)
			n1 = redacted_ids(&rc, first, 8192);
		else
			n2 = redacted_ids(&rc, second, 8192);
		assert_int_equal(k ? n2 : n1, (uint64_t)(r.trades + r.rejected));
		run_free(&r);
	}
	assert_true(n1 > 0 && n1 == n2);
	/* the same orders (a deterministic engine), other hashes */
	for (size_t i = 0; i < n1; i++)
		for (size_t j = 0; j < n2; j++)
			assert_string_not_equal(first[i], second[j]);
}

/* Malformed export flags: one line, exit 2, before anything is traced. */
static void test_bad_flags(void **state)
{
	static const char *const bad[][3] = {
		{ "--otlp-compression", "zstd", "--otlp-compression" },
		{ "--otlp-endpoint", "ftp://x", "--otlp-endpoint" },
		{ "--sample", "1.5", "--sample" },
		{ "--slow-threshold", "soon", "--slow-threshold" },
		{ "--otlp-batch", "0", "--otlp-batch" },
		{ "--otlp-headers", "novalue", "--otlp-headers" },
		{ "--otlp-protocol", "grpc/json", "--otlp-protocol" },
		{ "--otlp-certificate", "/nonexistent/ca.crt", "--otlp-certificate" },
		{ "--otlp-client-key", "/etc/hostname", "--otlp-client-certificate" },
		{ "--redact", "a,,b", "--redact" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { (char *)PERFBPF, "run", (char *)bad[i][0], (char *)bad[i][1], "--",
				 "true", NULL };
		struct proc_result r;

		run_proc(argv, 30, &r);
		assert_int_equal(r.status, 2);
		assert_int_equal(count_lines(r.err), 1);
		assert_non_null(strstr(r.err, bad[i][2]));
		proc_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_bad_flags),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_protobuf_full, kill_tracked),
		cmocka_unit_test_teardown(test_protobuf_notes_as_probes, engine_back),
		cmocka_unit_test_teardown(test_grpc_full, kill_tracked),
		cmocka_unit_test_teardown(test_grpc_faults, kill_tracked),
		cmocka_unit_test_teardown(test_tls, kill_tracked),
		cmocka_unit_test_teardown(test_redact, kill_tracked),
		cmocka_unit_test_teardown(test_json_gzip, kill_tracked),
		cmocka_unit_test_teardown(test_receiver_absent, kill_tracked),
		cmocka_unit_test_teardown(test_retry_after, kill_tracked),
		cmocka_unit_test_teardown(test_bad_request, kill_tracked),
		cmocka_unit_test_teardown(test_slow_and_partial, kill_tracked),
		cmocka_unit_test_teardown(test_sampling, kill_tracked),
		cmocka_unit_test_teardown(test_ops_as_spans, kill_tracked),
	};
	int fails = cmocka_run_group_tests_name("otlp_flags", plain, NULL, NULL);
	int g = receiver_gate(sizeof(tests) / sizeof(tests[0]));

	if (g < 0)
		return fails + 1;
	if (g > 0)
		fails += run_privileged_group("otlp", tests);
	return fails;
}
