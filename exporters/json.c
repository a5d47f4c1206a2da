// SPDX-License-Identifier: BSD-2-Clause
/* The JSON summary (schema "perfbpf.summary/1"), written with json-c. */
#include "json.h"

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
	return o;
}

static const char *const loss_keys[PERFBPF_CNT__MAX] = {
	[PERFBPF_CNT_RB_DROPPED] = "ringbuf_full",
	[PERFBPF_CNT_SPAN_NO_STACK] = "span_no_stack",
	[PERFBPF_CNT_SPAN_DEPTH_OVERFLOW] = "span_depth_overflow",
	[PERFBPF_CNT_SPAN_UNMATCHED_END] = "span_unmatched_end",
	[PERFBPF_CNT_SPAN_MISMATCH] = "span_mismatch",
	[PERFBPF_CNT_SPAN_ABANDONED] = "span_abandoned",
	[PERFBPF_CNT_SPAN_UNFINISHED] = "span_unfinished",
	[PERFBPF_CNT_STR_FAULT] = "string_fault",
	[PERFBPF_CNT_STR_TRUNCATED] = "string_truncated",
};

int json__write(FILE *f, const struct summary *s)
{
	struct json_object *root = json_object_new_object();
	struct json_object *losses = json_object_new_object();
	struct json_object *probes = json_object_new_object();
	struct json_object *rows = json_object_new_array();
	struct json_object *metrics = json_object_new_array();
	int err = 0;

	add_str(root, "schema", PERFBPF_SUMMARY_SCHEMA);
	add_str(root, "perfbpf_version", PERFBPF_VERSION);
	add_str(root, "command", s->command);
	add_str(root, "mode", s->kernel_histograms ? "kernel_histograms" : "events");
	json_object_object_add(root, "pid", json_object_new_int(s->pid));
	add_str(root, "stop_reason", s->stop_reason);
	if (s->exit_status >= 0)
		json_object_object_add(root, "exit_status", json_object_new_int(s->exit_status));
	else
		json_object_object_add(root, "exit_status", NULL);
	add_u64(root, "start_unix_ns", s->start_real_ns);
	add_u64(root, "trace_ns", s->trace_ns);
	add_u64(root, "events", s->events);
	add_u64(root, "dropped", s->dropped);
	for (int i = 0; i < PERFBPF_CNT__MAX; i++)
		if (loss_keys[i])
			add_u64(losses, loss_keys[i], s->counters[i]);
	add_u64(losses, "key_limit", s->keys_over_limit);
	json_object_object_add(root, "losses", losses);
	add_u64(probes, "binaries", s->binaries);
	add_u64(probes, "sites", s->probe_sites);
	json_object_object_add(root, "probes", probes);
	json_object_object_add(root, "attribution", json_object_new_boolean(s->attribution));
	add_u64(root, "sample_budget_bytes", s->sample_budget_bytes);
	json_object_object_add(root, "percentile_rel_error_approx",
			       json_object_new_double(s->hist_rel_error));
	for (size_t i = 0; i < s->nrows; i++)
		json_object_array_add(rows, row_json(&s->rows[i], true));
	for (size_t i = 0; i < s->nmetrics; i++)
		json_object_array_add(metrics, row_json(&s->metrics[i], false));
	json_object_object_add(root, "metrics", rows);
	json_object_object_add(root, "metric_rollups", metrics);

	if (fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE), f) < 0 ||
	    fputc('\n', f) == EOF)
		err = -EIO;
	json_object_put(root);
	return err;
}
