// SPDX-License-Identifier: BSD-2-Clause
/* The JSON summary (schema PERFBPF_SUMMARY_SCHEMA; its fields are described in README.md,
 * "Outputs"), written with json-c. */
#include "exporters/report/json.h"

#include "user/model/environment.h"
#include "user/model/otlp_stats.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_ns(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_uint64((uint64_t)llround(v)));
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* [[bucket lower bound ns, count], ...], lowest first: the layout is "histogram_layout". */
static struct json_object *bins_json(const struct stat_row *r)
{
	struct json_object *a = json_object_new_array_ext((int)r->nbins);

	for (size_t i = 0; i < r->nbins; i++) {
		struct json_object *pair = json_object_new_array_ext(2);

		json_object_array_add(pair, json_object_new_uint64(hist_bucket_lower(r->bins[i].index)));
		json_object_array_add(pair, json_object_new_uint64(r->bins[i].count));
		json_object_array_add(a, pair);
	}
	return a;
}

static struct json_object *row_json(const struct stat_row *r, bool keyed)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "metric", r->metric);
	add_str(o, "kind", r->kind == PERFBPF_EV_SPAN ? "span" : "op");
	if (keyed) {
		add_str(o, "symbol", r->symbol);
		add_str(o, "strategy", r->strategy);
	}
	add_u64(o, "count", r->count);
	add_u64(o, "total_ns", r->total_ns);
	add_u64(o, "self_total_ns", r->self_total_ns);
	add_ns(o, "mean_ns", r->mean_ns);
	add_u64(o, "min_ns", r->min_ns);
	add_u64(o, "max_ns", r->max_ns);
	add_ns(o, "stddev_ns", r->stddev_ns);
	add_u64(o, "p50_ns", r->p50_ns);
	add_u64(o, "p95_ns", r->p95_ns);
	add_u64(o, "p99_ns", r->p99_ns);
	add_u64(o, "wait_count", r->wait_count);
	add_ns(o, "wait_mean_ns", r->wait_mean_ns);
	add_u64(o, "wait_min_ns", r->wait_min_ns);
	add_u64(o, "wait_max_ns", r->wait_max_ns);
	json_object_object_add(o, "approximate", json_object_new_boolean(r->approximate));
	json_object_object_add(o, "truncated_names",
			       json_object_new_boolean(r->flags & PERFBPF_F_TRUNCATED));
	if (r->attributed) {
		static const char *const comp[ATTR__N] = { "oncpu", "runq", "blocked" };
		char k[32];

		for (int c = 0; c < ATTR__N; c++) {
			snprintf(k, sizeof(k), "%s_total_ns", comp[c]);
			add_u64(o, k, r->attr[c].total_ns);
			snprintf(k, sizeof(k), "%s_mean_ns", comp[c]);
			add_ns(o, k, r->attr[c].mean_ns);
			snprintf(k, sizeof(k), "%s_p50_ns", comp[c]);
			add_u64(o, k, r->attr[c].p50_ns);
			snprintf(k, sizeof(k), "%s_p99_ns", comp[c]);
			add_u64(o, k, r->attr[c].p99_ns);
		}
		add_u64(o, "voluntary_switches", r->voluntary_switches);
		add_u64(o, "involuntary_switches", r->involuntary_switches);
		add_u64(o, "migrations", r->migrations);
	}
	if (r->bins)
		json_object_object_add(o, "histogram", bins_json(r));
	return o;
}

static struct json_object *rows_json(const struct stat_row *rows, size_t n, bool keyed)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, row_json(&rows[i], keyed));
	return a;
}

static struct json_object *env_json(const struct environment *e)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "kernel", e->kernel);
	add_str(o, "kernel_version", e->kernel_version);
	add_str(o, "machine", e->machine);
	add_str(o, "cpu_model", e->cpu_model);
	json_object_object_add(o, "cpus", json_object_new_int(e->cpus));
	add_str(o, "governor", e->governor);
	add_str(o, "hostname", e->hostname);
	return o;
}

static struct json_object *exit_status_json(int st)
{
	return st >= 0 ? json_object_new_int(st) : NULL;
}

static struct json_object *run_json(const struct run_summary *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "run", json_object_new_int((int)r->index));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	json_object_object_add(o, "exit_status", exit_status_json(r->exit_status));
	add_str(o, "stop_reason", r->stop_reason);
	add_u64(o, "start_unix_ns", r->start_real_ns);
	add_u64(o, "trace_ns", r->trace_ns);
	add_u64(o, "events", r->events);
	add_u64(o, "dropped", r->dropped);
	json_object_object_add(o, "metrics", rows_json(r->rows, r->nrows, true));
	json_object_object_add(o, "metric_rollups", rows_json(r->metrics, r->nmetrics, false));
	return o;
}

static struct json_object *layout_json(void)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "kind", "log-linear");
	add_u64(o, "sub_buckets_per_power_of_two", HIST_SUB);
	add_str(o, "bins", "[lower bound in ns, count]; a bin holds lower .. next power-of-two "
		"step - 1");
	json_object_object_add(o, "max_rel_error", json_object_new_double(HIST_REL_ERROR));
	return o;
}


static struct json_object *otlp_json(const struct otlp_stats *o, bool metrics)
{
	struct json_object *j = json_object_new_object(), *why = json_object_new_object();

	add_str(j, "endpoint", o->url);
	add_u64(j, metrics ? "data_points" : "spans", o->spans);
	add_u64(j, "exported", o->exported);
	if (!metrics)
		add_u64(j, "sampled_out", o->sampled_out);
	else
		add_u64(j, "superseded", o->superseded);
	add_u64(j, "undelivered", otlp_stats__undelivered(o));
	add_u64(why, "queue_full", o->queue_full);
	add_u64(why, "rejected", o->rejected);
	add_u64(why, "partial_rejected", o->partial_rejected);
	add_u64(why, "gave_up", o->gave_up);
	add_u64(why, "unsent_at_exit", o->unsent_at_exit);
	json_object_object_add(j, "undelivered_by_reason", why);
	if (!metrics) {
		add_u64(j, "tail_buffer_full", o->tail_buffer_full);
		add_u64(j, "notes_orphaned", o->notes_orphaned);
		add_u64(j, "notes_over_limit", o->notes_over_limit);
	}
	add_u64(j, "requests", o->requests);
	add_u64(j, "retries", o->retries);
	add_str(j, "last_error", o->last_error[0] ? o->last_error : NULL);
	return j;
}

int json__put(FILE *f, struct json_object *root)
{
	int err = 0;

	if (fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE), f) < 0 ||
	    fputc('\n', f) == EOF)
		err = -EIO;
	json_object_put(root);
	return err;
}

int json__write(FILE *f, const struct summary *s)
{
	return json__put(f, json__summary(s));
}

struct json_object *json__summary(const struct summary *s)
{
	struct json_object *root = json_object_new_object();
	struct json_object *losses = json_object_new_object();
	struct json_object *probes = json_object_new_object();

	add_str(root, "schema", PERFBPF_SUMMARY_SCHEMA);
	add_str(root, "perfbpf_version", PERFBPF_VERSION);
	add_str(root, "command", s->command);
	add_str(root, "mode", s->kernel_histograms ? "kernel_histograms" : "events");
	json_object_object_add(root, "pid", json_object_new_int(s->pid));
	add_str(root, "stop_reason", s->stop_reason);
	json_object_object_add(root, "exit_status", exit_status_json(s->exit_status));
	if (s->env)
		json_object_object_add(root, "environment", env_json(s->env));
	add_u64(root, "start_unix_ns", s->start_real_ns);
	add_u64(root, "trace_ns", s->trace_ns);
	add_u64(root, "events", s->events);
	add_u64(root, "dropped", s->dropped);
	if (s->dropped_per_cpu) {
		struct json_object *a = json_object_new_array();

		for (int c = 0; c < s->ncpus; c++)
			json_object_array_add(a, json_object_new_uint64(s->dropped_per_cpu[c]));
		json_object_object_add(root, "dropped_per_cpu", a);
	}
	if (s->self_peak_rss_bytes) {
		char cpu[32];

		snprintf(cpu, sizeof(cpu), "%.3f", s->self_cpu_s);
		json_object_object_add(root, "perfbpf_cpu_seconds",
				       json_object_new_double_s(s->self_cpu_s, cpu));
		add_u64(root, "perfbpf_peak_rss_bytes", s->self_peak_rss_bytes);
	}
	for (int i = 0; i < PERFBPF_CNT__MAX; i++)
		if (summary_counter_names[i])
			add_u64(losses, summary_counter_names[i], s->counters[i]);
	add_u64(losses, "key_limit", s->keys_over_limit);
	json_object_object_add(root, "losses", losses);
	add_u64(probes, "binaries", s->binaries);
	add_u64(probes, "sites", s->probe_sites);
	add_u64(probes, "strings_from_files", s->strings_from_files);
	json_object_object_add(root, "probes", probes);
	json_object_object_add(root, "attribution", json_object_new_boolean(s->attribution));
	if (s->otlp)
		json_object_object_add(root, "otlp", otlp_json(s->otlp, false));
	if (s->otlp_metrics)
		json_object_object_add(root, "otlp_metrics", otlp_json(s->otlp_metrics, true));
	add_u64(root, "sample_budget_bytes", s->sample_budget_bytes);
	add_str(root, "stats", s->stats_backtest_kit ? "backtest-kit" : "seed");
	json_object_object_add(root, "percentile_rel_error_approx",
			       json_object_new_double(s->hist_rel_error));
	json_object_object_add(root, "metrics", rows_json(s->rows, s->nrows, true));
	json_object_object_add(root, "metric_rollups", rows_json(s->metrics, s->nmetrics, false));
	if (s->runs) {
		struct json_object *runs = json_object_new_array();

		json_object_object_add(root, "histogram_layout", layout_json());
		for (size_t i = 0; i < s->nruns; i++)
			json_object_array_add(runs, run_json(&s->runs[i]));
		json_object_object_add(root, "runs", runs);
	}
	return root;
}
