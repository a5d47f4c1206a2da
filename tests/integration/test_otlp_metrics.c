// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of the OTLP metrics export: the demo engine traced by `perfbpf run` and
 * followed across restarts by `perfbpf monitor`, with --otlp-metrics, received by
 * tests/otlp/receiver.js, which decodes every request with the OpenTelemetry project's generated
 * decoder (ExportMetricsServiceRequest of @opentelemetry/otlp-transformer 0.52.1). Checked
 * against the engine's own ground truth (every op's duration): counts and sums exact, quantiles
 * from the exported exponential buckets within 1.6%, explicit buckets exact, cumulative series
 * never going back, deltas summing to the whole; over HTTP/protobuf, HTTP/JSON and gRPC;
 * refusals and an absent collector counted. */
#include "harness.h"
#include "otlp_receiver.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")
#define REL_ERROR 0.016 /* the layout's bound for an estimate from an exported bucket */
#define SCALE 7
#define MAX_IDX 8192    /* exponential indexes kept per key: -4096 .. 4095 */
#define NBOUNDS 64      /* explicit buckets at most */

static const char *const QUANTILES_NAMES[] = { "p50", "p95", "p99" };
static const double QUANTILES[] = { 50, 95, 99 };

/* One key's duration histogram as the collector would hold it: the latest cumulative point, or
 * the deltas added up. */
struct key_hist {
	uint64_t count, zero;
	double sum, min, max;
	bool minmax;
	size_t nminmax;   /* points that carried min and max */
	int64_t *exp; /* MAX_IDX counts, index + MAX_IDX / 2 */
	uint64_t expl[NBOUNDS];
	double bounds[NBOUNDS];
	size_t nbounds;
	size_t points;
};

/* o[key], or NULL when absent (json_get fails the test on a missing key). */
static struct json_object *opt(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void key_hist_free(struct key_hist *h)
{
	free(h->exp);
	memset(h, 0, sizeof(*h));
}

static bool is_key(struct json_object *p, const char *name, const struct gt_key *k)
{
	struct json_object *a = json_get(p, "attributes");

	return !strcmp(json_str(p, "name"), name) && !strcmp(json_str(a, "kind"), "op") &&
	       !strcmp(json_str(a, "metric"), k->metric) &&
	       !strcmp(json_str(a, "symbol"), k->symbol) &&
	       !strcmp(json_str(a, "strategy"), k->strategy);
}

static uint64_t str_u64(struct json_object *p, const char *key)
{
	return strtoull(json_str(p, key), NULL, 10);
}

/* Adds (delta) or sets (cumulative) point p into h. */
static void take_point(struct key_hist *h, struct json_object *p, bool delta)
{
	struct json_object *counts = json_get(p, "bucketCounts");
	bool expo = !strcmp(json_str(p, "type"), "exponentialHistogram");

	if (!delta) {
		free(h->exp);
		memset(h, 0, sizeof(*h));
	}
	if (!h->exp)
		h->exp = calloc(MAX_IDX, sizeof(*h->exp));
	assert_non_null(h->exp);
	h->points++;
	h->count += str_u64(p, "count");
	h->sum += json_object_get_double(json_get(p, "sum"));
	if (opt(p, "min")) {
		double mn = json_object_get_double(json_get(p, "min"));
		double mx = json_object_get_double(json_get(p, "max"));

		h->min = h->minmax && h->min < mn ? h->min : mn;
		h->max = h->minmax && h->max > mx ? h->max : mx;
		h->minmax = true;
		h->nminmax++;
	}
	if (expo) {
		int64_t off = json_object_get_int64(json_get(p, "offset"));

		assert_int_equal(json_u64(p, "scale"), SCALE);
		assert_int_equal(json_u64(p, "negative"), 0);
		h->zero += str_u64(p, "zeroCount");
		for (size_t i = 0; i < json_object_array_length(counts); i++) {
			int64_t idx = off + (int64_t)i + MAX_IDX / 2;

			assert_true(idx >= 0 && idx < MAX_IDX);
			h->exp[idx] += (int64_t)strtoull(json_object_get_string(
				json_object_array_get_idx(counts, i)), NULL, 10);
		}
		return;
	}
	{
		struct json_object *b = json_get(p, "explicitBounds");

		h->nbounds = json_object_array_length(b);
		assert_true(h->nbounds + 1 <= NBOUNDS);
		assert_int_equal(json_object_array_length(counts), h->nbounds + 1);
		for (size_t i = 0; i < h->nbounds; i++)
			h->bounds[i] = json_object_get_double(json_object_array_get_idx(b, i));
		for (size_t i = 0; i <= h->nbounds; i++)
			h->expl[i] += strtoull(json_object_get_string(
				json_object_array_get_idx(counts, i)), NULL, 10);
	}
}

/* The nearest-rank percentile estimated from exponential buckets: the arithmetic midpoint of
 * the bucket (base^i, base^(i+1)] s holding the sample of that rank, in ns. */
static double exp_rank(const struct key_hist *h, double pct)
{
	uint64_t rank = (uint64_t)ceil((double)h->count * pct / 100), seen = h->zero;

	if (rank == 0)
		rank = 1;
	if (seen >= rank)
		return 0;
	for (int i = 0; i < MAX_IDX; i++) {
		seen += (uint64_t)h->exp[i];
		if (seen >= rank) {
			double lo = exp2((double)(i - MAX_IDX / 2) / (1 << SCALE));
			double hi = exp2((double)(i - MAX_IDX / 2 + 1) / (1 << SCALE));

			return (lo + hi) / 2 * 1e9;
		}
	}
	fail_msg("rank %llu beyond the buckets' %llu", (unsigned long long)rank,
		 (unsigned long long)seen);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The key's exported histogram against its ground truth: count and sum exact, min and max
 * exact (when exported), the buckets adding up to the count, quantiles within the bound or
 * explicit buckets exact. */
static void check_key(const struct key_hist *h, struct gt_key *k)
{
	uint64_t *d = malloc((k->n ? k->n : 1) * sizeof(*d)), sum = 0, total = h->zero;

	assert_non_null(d);
	memcpy(d, k->d, k->n * sizeof(*d));
	qsort(d, k->n, sizeof(*d), cmp_u64);
	for (size_t i = 0; i < k->n; i++)
		sum += d[i];
	assert_int_equal(h->count, k->n);
	assert_true(fabs(h->sum * 1e9 - (double)sum) <= (double)sum * 1e-9 + 1);
	/* min and max: exact when every point had them (deltas carry them only for a new
	 * series) */
	if (h->minmax && h->nminmax == h->points) {
		assert_true(fabs(h->min * 1e9 - (double)d[0]) < 0.5);
		assert_true(fabs(h->max * 1e9 - (double)d[k->n - 1]) < 0.5);
	}
	if (h->nbounds) { /* explicit: each bucket exactly the durations within its bounds */
		uint64_t want[NBOUNDS] = { 0 };

		for (size_t i = 0; i < k->n; i++) {
			size_t b = 0;

			while (b < h->nbounds && (double)d[i] > llround(h->bounds[b] * 1e9))
				b++;
			want[b]++;
		}
		for (size_t b = 0; b <= h->nbounds; b++)
			if (want[b] != h->expl[b])
				fail_msg("%s %s %s: explicit bucket %zu holds %llu, the truth %llu",
					 k->metric, k->symbol, k->strategy, b,
					 (unsigned long long)h->expl[b], (unsigned long long)want[b]);
	} else {
		for (int i = 0; i < MAX_IDX; i++) {
			assert_true(h->exp[i] >= 0);
			total += (uint64_t)h->exp[i];
		}
		assert_int_equal(total, h->count);
		for (size_t q = 0; q < 3; q++) {
			double truth = (double)gt_rank(d, k->n, QUANTILES[q]);
			double est = exp_rank(h, QUANTILES[q]);

			if (fabs(est - truth) > truth * REL_ERROR + 0.5)
				fail_msg("%s %s %s %s: %.1f ns from the buckets, truth %.0f ns",
					 k->metric, k->symbol, k->strategy, QUANTILES_NAMES[q], est,
					 truth);
		}
	}
	free(d);
}

/* The points of the requests answered OK, one array per request. */
static size_t ok_requests(struct requests *q, struct json_object **out)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++) {
		struct json_object *r = q->v[i];

		assert_true(!opt(r, "error") || json_object_is_type(opt(r, "error"), json_type_null));
		if (strcmp(json_str(r, "path"), "/v1/metrics"))
			continue;
		if (json_u64(r, "status") == (opt(r, "grpc") ? 0 : 200))
			out[n++] = json_get(r, "points");
	}
	return n;
}

/* A number point's value (asInt as a string, asDouble as a number). */
static double number_of(struct json_object *p)
{
	struct json_object *v = json_get(p, "value");

	return json_object_is_type(v, json_type_string) ? strtod(json_object_get_string(v), NULL)
							 : json_object_get_double(v);
}

/* The value of metric `name` (with reason, if given) in points; -1: absent. */
static double number(struct json_object *points, const char *name, const char *reason)
{
	for (size_t i = 0; i < json_object_array_length(points); i++) {
		struct json_object *p = json_object_array_get_idx(points, i);

		if (strcmp(json_str(p, "name"), name))
			continue;
		if (reason && strcmp(json_str(json_get(p, "attributes"), "reason"), reason))
			continue;
		return number_of(p);
	}
	return -1;
}

/* Every request's points: the same temporality; cumulative series (and each of their buckets)
 * never going back; delta points starting where the previous request's ended. Then each key of
 * the ground truth checked from the last cumulative point or the sum of the deltas. Returns the
 * events counted (the perfbpf.events sum over the requests, or its last value). */
static uint64_t check_requests(struct requests *q, struct ground_truth *gt, bool delta)
{
	struct json_object *reqs[256];
	size_t nreq = ok_requests(q, reqs);
	struct key_hist *h = calloc(gt->nkeys, sizeof(*h));
	uint64_t events = 0, prev_time = 0;

	assert_non_null(h);
	assert_true(nreq >= 1);
	for (size_t r = 0; r < nreq; r++) {
		struct json_object *pts = reqs[r];
		uint64_t time = 0;

		for (size_t i = 0; i < json_object_array_length(pts); i++) {
			struct json_object *p = json_object_array_get_idx(pts, i);
			const char *type = json_str(p, "type");

			time = str_u64(p, "time");
			if (strcmp(type, "gauge"))
				assert_int_equal(json_u64(p, "temporality"), delta ? 1 : 2);
			if (!strcmp(type, "sum"))
				assert_true(json_object_get_boolean(json_get(p, "monotonic")));
			if (delta && strcmp(type, "gauge") && r > 0)
				assert_int_equal(str_u64(p, "start"), prev_time);
			if (!strcmp(json_str(p, "name"), "perfbpf.operation.duration") ||
			    !strcmp(json_str(p, "name"), "perfbpf.operation.wait"))
				assert_string_equal(json_str(p, "unit"), "s");
			for (size_t k = 0; k < gt->nkeys; k++) {
				struct key_hist before;

				if (!is_key(p, "perfbpf.operation.duration", &gt->keys[k]))
					continue;
				before = h[k];
				if (!delta && before.exp)
					before.exp = memcpy(malloc(MAX_IDX * sizeof(int64_t)), h[k].exp,
							    MAX_IDX * sizeof(int64_t));
				take_point(&h[k], p, delta);
				if (!delta && before.exp) { /* never back, bucket by bucket */
					assert_true(h[k].count >= before.count);
					for (int b = 0; b < MAX_IDX; b++)
						assert_true(h[k].exp[b] >= before.exp[b]);
					for (size_t b = 0; b < NBOUNDS; b++)
						assert_true(h[k].expl[b] >= before.expl[b]);
					free(before.exp);
				}
			}
		}
		prev_time = time;
		if (delta)
			events += (uint64_t)number(pts, "perfbpf.events", NULL);
		else
			events = (uint64_t)number(pts, "perfbpf.events", NULL);
		assert_int_equal(number(pts, "perfbpf.events.dropped", "ringbuf_full"), 0);
		assert_int_equal(number(pts, "perfbpf.events.dropped", "keys_over_limit"), 0);
		assert_true(number(pts, "process.memory.usage", NULL) > 0);
	}
	for (size_t k = 0; k < gt->nkeys; k++) {
		assert_true(h[k].points >= 1);
		check_key(&h[k], &gt->keys[k]);
		key_hist_free(&h[k]);
	}
	free(h);
	return events;
}

/* perfbpf run --otlp-metrics [extra] -- backtest (ground truth kept): the requests and the
 * ground truth; the JSON summary's otlp_metrics says every point was exported or superseded.
 * Returns the superseded points. */
static uint64_t traced(struct receiver *rc, const char *const extra[], struct requests *q,
		       struct ground_truth *gt, size_t min_requests)
{
	const char *gtf = tmp_file("metrics-gt.tsv"), *json = tmp_file("metrics.json");
	char *argv[40];
	size_t n = 0;
	struct proc_result r;
	struct json_object *root, *om;
	uint64_t superseded;

	argv[n++] = (char *)PERFBPF;
	argv[n++] = "run";
	argv[n++] = "-q";
	argv[n++] = "-j";
	argv[n++] = (char *)json;
	argv[n++] = "--otlp-metrics";
	argv[n++] = "--otlp-endpoint";
	argv[n++] = rc->url;
	argv[n++] = "--otlp-metrics-interval";
	argv[n++] = "100ms";
	for (size_t i = 0; extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n++] = "--";
	argv[n++] = (char *)bpath("backtest");
	argv[n++] = "--threads";
	argv[n++] = "2";
	argv[n++] = "--bars";
	argv[n++] = "6000";
	argv[n++] = "--tick-sleep-us";
	argv[n++] = "100";
	argv[n++] = "--ground-truth";
	argv[n++] = (char *)gtf;
	argv[n++] = "--quiet";
	argv[n] = NULL;
	run_proc(argv, 120, &r);
	if (r.status)
		fprintf(stderr, "perfbpf: %s\n", r.err);
	assert_int_equal(r.status, 0);
	assert_int_equal(gt_load(gtf, gt), 0);
	assert_true(gt->total > 10000);
	root = load_json(json);
	om = json_get(root, "otlp_metrics");
	assert_non_null(om);
	assert_true(json_u64(om, "data_points") > 0);
	/* a snapshot replaced by the next before it was sent loses nothing */
	assert_int_equal(json_u64(om, "exported") + json_u64(om, "superseded"),
			 json_u64(om, "data_points"));
	assert_int_equal(json_u64(om, "undelivered"), 0);
	superseded = json_u64(om, "superseded");
	json_object_put(root);
	proc_result_free(&r);
	receiver_stop(rc);
	requests_load(rc, q);
	/* periodic exports, then the last one at exit */
	if (q->n < min_requests)
		fail_msg("%zu metric requests, expected at least %zu", q->n, min_requests);
	return superseded;
}

/* HTTP/protobuf, cumulative, exponential (the defaults): the resource is the engine's. */
static void test_cumulative_exponential(void **state)
{
	struct receiver rc = { 0 };
	struct ground_truth gt;
	struct requests q;
	const char *extra[] = { "--service-name", "bt", NULL };
	struct json_object *first;

	(void)state;
	receiver_start(&rc, "ok", NULL);
	traced(&rc, extra, &q, &gt, 3);
	assert_int_equal(check_requests(&q, &gt, false), gt.total + gt.spans);
	first = json_object_array_get_idx(json_get(q.v[0], "points"), 0);
	assert_string_equal(json_str(json_get(first, "resource"), "service.name"), "bt");
	assert_string_equal(json_str(json_get(first, "resource"), "process.executable.name"),
			    "backtest");
	assert_string_equal(json_str(json_get(first, "scope"), "name"), "perfbpf");
	assert_false(json_object_get_boolean(json_get(q.v[0], "json")));
	requests_free(&q);
	gt_free(&gt);
}

/* gRPC, delta temporality, explicit buckets: the deltas add up to the truth bucket by bucket. */
static void test_grpc_delta_explicit(void **state)
{
	struct receiver rc = { .grpc = true };
	struct ground_truth gt;
	struct requests q;
	const char *extra[] = { "--otlp-protocol", "grpc", "--otlp-metrics-temporality", "delta",
				"--otlp-metrics-histogram", "explicit", NULL };

	(void)state;
	receiver_start(&rc, "ok", NULL);
	traced(&rc, extra, &q, &gt, 3);
	assert_int_equal(check_requests(&q, &gt, true), gt.total + gt.spans);
	requests_free(&q);
	gt_free(&gt);
}

/* HTTP/JSON with gzip, delta temporality from the environment, exponential buckets. */
static void test_json_delta_exponential(void **state)
{
	struct receiver rc = { 0 };
	struct ground_truth gt;
	struct requests q;
	const char *extra[] = { "--otlp-protocol", "http/json", "--otlp-compression", "gzip", NULL };

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta", 1);
	receiver_start(&rc, "ok", NULL);
	traced(&rc, extra, &q, &gt, 3);
	unsetenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE");
	assert_true(json_object_get_boolean(json_get(q.v[0], "json")));
	assert_true(json_object_get_boolean(json_get(q.v[0], "gzip")));
	assert_int_equal(check_requests(&q, &gt, true), gt.total + gt.spans);
	requests_free(&q);
	gt_free(&gt);
}

/* A collector slower than the interval: snapshots waiting to be sent are replaced by later ones
 * (counted as superseded) and, delta or not, nothing is lost: the deltas still add up to the
 * truth. */
static void test_slow_collector(void **state)
{
	struct receiver rc = { 0 };
	struct ground_truth gt;
	struct requests q;
	const char *extra[] = { "--otlp-metrics-temporality", "delta", NULL };

	(void)state;
	receiver_start(&rc, "slow:300", NULL);
	assert_true(traced(&rc, extra, &q, &gt, 2) > 0);
	assert_int_equal(check_requests(&q, &gt, true), gt.total + gt.spans);
	requests_free(&q);
	gt_free(&gt);
}

/* OTEL_METRICS_EXPORTER=otlp and OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (a full URL, used as
 * given) alone turn the export on; spans are not sent. */
static void test_environment_only(void **state)
{
	struct receiver rc = { 0 };
	const char *gtf = tmp_file("env-gt.tsv"), *json = tmp_file("env.json");
	char url[128];
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)json, "--",
			 (char *)bpath("backtest"), "--bars", "3000", "--ground-truth", (char *)gtf,
			 "--quiet", NULL };
	struct proc_result r;
	struct ground_truth gt;
	struct requests q;

	(void)state;
	receiver_start(&rc, "ok", NULL);
	snprintf(url, sizeof(url), "%s/v1/metrics", rc.url);
	setenv("OTEL_METRICS_EXPORTER", "console,otlp", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", url, 1);
	run_proc(argv, 120, &r);
	unsetenv("OTEL_METRICS_EXPORTER");
	unsetenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
	assert_int_equal(r.status, 0);
	assert_int_equal(gt_load(gtf, &gt), 0);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_true(q.n >= 1);
	for (size_t i = 0; i < q.n; i++)
		assert_string_equal(json_str(q.v[i], "path"), "/v1/metrics");
	assert_int_equal(check_requests(&q, &gt, false), gt.total + gt.spans);
	proc_result_free(&r);
	requests_free(&q);
	gt_free(&gt);
}

/* A collector that refuses (400: not retried), one that rejects some points (partial success)
 * and one that is absent: every data point not delivered is counted, the run's report says so,
 * and perfbpf exits promptly. */
static void test_refused_and_absent(void **state)
{
	struct receiver rc = { 0 };
	const char *json = tmp_file("refused.json");
	char *argv[] = { (char *)PERFBPF, "run", "-q", "-j", (char *)json, "--otlp-metrics",
			 "--otlp-endpoint", rc.url, "--otlp-flush-timeout", "1s", "--",
			 (char *)bpath("backtest"), "--bars", "2000", "--quiet", NULL };
	struct proc_result r;
	struct json_object *root, *om;
	char absent[64];

	(void)state;
	receiver_start(&rc, "status:400", NULL);
	argv[7] = rc.url;
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "metric data points were not delivered"));
	root = load_json(json);
	om = json_get(root, "otlp_metrics");
	assert_true(json_u64(om, "data_points") > 0);
	assert_int_equal(json_u64(om, "exported"), 0);
	assert_int_equal(json_u64(json_get(om, "undelivered_by_reason"), "rejected"),
			 json_u64(om, "data_points"));
	json_object_put(root);
	proc_result_free(&r);
	receiver_stop(&rc);

	/* partial success: the data points the collector says it rejected */
	receiver_start(&rc, "partial:7", NULL);
	argv[7] = rc.url;
	run_proc(argv, 60, &r);
	assert_int_equal(r.status, 0);
	root = load_json(json);
	om = json_get(root, "otlp_metrics");
	assert_int_equal(json_u64(json_get(om, "undelivered_by_reason"), "partial_rejected"),
			 7 * json_u64(om, "requests"));
	assert_int_equal(json_u64(om, "exported") + 7 * json_u64(om, "requests"),
			 json_u64(om, "data_points"));
	json_object_put(root);
	proc_result_free(&r);
	receiver_stop(&rc);

	snprintf(absent, sizeof(absent), "http://127.0.0.1:%d", free_port());
	argv[7] = absent;
	{
		uint64_t t0 = (uint64_t)time(NULL);

		run_proc(argv, 60, &r);
		assert_true((uint64_t)time(NULL) - t0 <= 10);
	}
	assert_int_equal(r.status, 0);
	root = load_json(json);
	om = json_get(root, "otlp_metrics");
	assert_int_equal(json_u64(om, "exported"), 0);
	assert_int_equal(json_u64(om, "undelivered"), json_u64(om, "data_points"));
	json_object_put(root);
	proc_result_free(&r);
}

/* perfbpf monitor --binary across two runs of the engine: the cumulative series never go back,
 * and the last point of each key counts both runs exactly. */
static void test_monitor_restarts(void **state)
{
	struct receiver rc = { 0 };
	const char *gt1 = tmp_file("m1.tsv"), *gt2 = tmp_file("m2.tsv");
	char *mon_argv[] = { (char *)PERFBPF, "monitor", "-q", "--no-listen", "--binary",
			     (char *)bpath("backtest"), "--otlp-metrics", "--otlp-endpoint", NULL,
			     "--otlp-metrics-interval", "100ms", NULL };
	char *run1[] = { (char *)bpath("backtest"), "--bars", "4000", "--ground-truth",
			 (char *)gt1, "--quiet", NULL };
	char *run2[] = { (char *)bpath("backtest"), "--bars", "6000", "--ground-truth",
			 (char *)gt2, "--quiet", NULL };
	struct ground_truth a, b;
	struct requests q;
	struct proc_result r;
	pid_t mon;
	int fd, status;
	char line[256];

	(void)state;
	receiver_start(&rc, "ok", NULL);
	mon_argv[8] = rc.url;
	mon = track_bg(spawn_bg_stderr(mon_argv, &fd));
	/* the monitor says nothing with -q: wait for its first (empty) export instead (a
	 * sanitizer build attaches slowly) */
	for (int i = 0; i < 600 && access(rc.out, F_OK); i++) {
		if (waitpid(mon, &status, WNOHANG) == mon) {
			while (read_line(fd, line, sizeof(line), 100) == 0)
				fprintf(stderr, "monitor: %s\n", line);
			fail_msg("perfbpf monitor exited at start (status %d)", status);
		}
		usleep(50000);
	}
	if (access(rc.out, F_OK))
		fail_msg("perfbpf monitor made no export within 30 s");
	run_proc(run1, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	usleep(300000); /* an export between the runs */
	run_proc(run2, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	kill(mon, SIGINT);
	assert_int_equal(waitpid(mon, &status, 0), mon);
	untrack_bg(mon);
	while (read_line(fd, line, sizeof(line), 100) == 0)
		fprintf(stderr, "monitor: %s\n", line);
	close(fd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	receiver_stop(&rc);
	requests_load(&rc, &q);
	assert_true(q.n >= 4);
	assert_int_equal(gt_load(gt1, &a), 0);
	assert_int_equal(gt_load(gt2, &b), 0);
	assert_int_equal(a.nkeys, b.nkeys);
	for (size_t k = 0; k < a.nkeys; k++) { /* both runs' durations under one key */
		struct gt_key *x = &a.keys[k], *y = NULL;

		for (size_t j = 0; j < b.nkeys; j++)
			if (!strcmp(b.keys[j].metric, x->metric) &&
			    !strcmp(b.keys[j].symbol, x->symbol) &&
			    !strcmp(b.keys[j].strategy, x->strategy))
				y = &b.keys[j];
		assert_non_null(y);
		x->d = realloc(x->d, (x->n + y->n) * sizeof(*x->d));
		memcpy(x->d + x->n, y->d, y->n * sizeof(*x->d));
		x->n += y->n;
	}
	assert_int_equal(check_requests(&q, &a, false), a.total + b.total + a.spans + b.spans);
	assert_true(number(json_get(q.v[q.n - 1], "points"), "perfbpf.attached_processes", NULL) >= 0);
	requests_free(&q);
	gt_free(&a);
	gt_free(&b);
}

/* Bad values: one line, status 2; the monitor has no --otlp (it exports no spans). */
static void test_bad_flags(void **state)
{
	const char *const bad[][4] = {
		{ "run", "--otlp-metrics-temporality", "sometimes", "--otlp-metrics-temporality" },
		{ "run", "--otlp-metrics-histogram", "linear", "--otlp-metrics-histogram" },
		{ "run", "--otlp-metrics-interval", "0", "--otlp-metrics-interval" },
		{ "monitor", "--otlp", NULL, "'--otlp'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[12];
		struct proc_result r;
		size_t n = 0;

		argv[n++] = (char *)PERFBPF;
		argv[n++] = (char *)bad[i][0];
		argv[n++] = (char *)bad[i][1];
		if (bad[i][2])
			argv[n++] = (char *)bad[i][2];
		if (!strcmp(bad[i][0], "monitor")) {
			argv[n++] = "--binary";
			argv[n++] = (char *)bpath("backtest");
		} else {
			argv[n++] = "--";
			argv[n++] = "true";
		}
		argv[n] = NULL;
		run_proc(argv, 30, &r);
		assert_int_equal(r.status, 2);
		assert_int_equal(count_lines(r.err), 1);
		if (!strstr(r.err, bad[i][3]))
			fail_msg("%s %s: '%s' does not name %s", bad[i][0], bad[i][1], r.err,
				 bad[i][3]);
		proc_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_bad_flags),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cumulative_exponential, kill_tracked),
		cmocka_unit_test_teardown(test_grpc_delta_explicit, kill_tracked),
		cmocka_unit_test_teardown(test_json_delta_exponential, kill_tracked),
		cmocka_unit_test_teardown(test_slow_collector, kill_tracked),
		cmocka_unit_test_teardown(test_environment_only, kill_tracked),
		cmocka_unit_test_teardown(test_refused_and_absent, kill_tracked),
		cmocka_unit_test_teardown(test_monitor_restarts, kill_tracked),
	};
	int fails = cmocka_run_group_tests_name("otlp_metrics_flags", plain, NULL, NULL);
	int g = receiver_gate(sizeof(tests) / sizeof(tests[0]));

	if (g < 0)
		return fails + 1;
	if (g > 0)
		fails += run_privileged_group("otlp_metrics", tests);
	return fails;
}
