// SPDX-License-Identifier: BSD-2-Clause
/* The reports of `perfbpf gate` (see gate_report.h). */
#include "exporters/report/gate_report.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/perfbpf.h"
#include "exporters/report/format.h"
#include "exporters/report/json.h"

static const char *kind_name(uint32_t kind)
{
	return kind == PERFBPF_EV_SPAN ? "span" : "op";
}

/* "strategy.tick (op, all)" or "strategy.tick (op) BTCUSDT / sma-5-20" */
static void key_label(char *buf, size_t n, const struct gate_key *k)
{
	if (k->rollup)
		snprintf(buf, n, "%s (%s, all)", k->metric, kind_name(k->kind));
	else
		snprintf(buf, n, "%s (%s) %s / %s", k->metric, kind_name(k->kind),
			 *k->symbol ? k->symbol : "-", *k->strategy ? k->strategy : "-");
}

static const char *verdict_label(const struct gate_comparison *c)
{
	if (c->presence == GATE_BASE_ONLY)
		return "only in base";
	if (c->presence == GATE_HEAD_ONLY)
		return "only in head";
	switch (c->r.verdict) {
	case GATE_REGRESSION: return "**regression**";
	case GATE_IMPROVEMENT: return "improvement";
	case GATE_UNCLEAR: return "unclear (noise)";
	case GATE_TOO_FEW: return "too few samples";
	case GATE_NO_CHANGE: break;
	}
	return "no change";
}

static void md_row(FILE *f, const struct gate_comparison *c)
{
	char key[512], b[32], h[32];

	key_label(key, sizeof(key), c->key);
	if (c->presence != GATE_BOTH) {
		fprintf(f, "| %s | %s | | | | | %s |\n", key, gate_stat_name(c->stat),
			verdict_label(c));
		return;
	}
	fmt_duration(b, sizeof(b), c->r.base, UNIT_AUTO);
	fmt_duration(h, sizeof(h), c->r.head, UNIT_AUTO);
	fprintf(f, "| %s | %s | %s | %s | %+.1f%% |", key, gate_stat_name(c->stat), b, h,
		c->r.change * 100);
	if (isnan(c->r.ci_low))
		fprintf(f, " |");
	else
		fprintf(f, " %.3f – %.3f |", c->r.ci_low, c->r.ci_high);
	fprintf(f, " %s |\n", verdict_label(c));
}

static void md_header(FILE *f)
{
	fputs("| Key | Stat | Base | Head | Change | Interval of head/base | Verdict |\n"
	      "|---|---|---:|---:|---:|---:|---|\n", f);
}

static bool notable(const struct gate_comparison *c)
{
	return c->presence == GATE_BOTH &&
	       (c->r.verdict == GATE_REGRESSION || c->r.verdict == GATE_IMPROVEMENT ||
		c->r.verdict == GATE_UNCLEAR);
}

/* ", from N files" for a side read from a directory, else "". */
static void side_files(char *buf, size_t n, const struct gate_file *side)
{
	if (side->npaths)
		snprintf(buf, n, " from %zu file%s", side->npaths, side->npaths == 1 ? "" : "s");
	else
		*buf = 0;
}

int gate_report__markdown(FILE *f, const struct gate_outcome *g)
{
	char bfiles[40], hfiles[40];
	size_t nreg = g->counts[GATE_REGRESSION], nnot = 0, nrest = 0;
	char stats[64] = "";

	for (int s = 0; s < GATE__NSTAT; s++)
		if (g->stats & (1u << s))
			snprintf(stats + strlen(stats), sizeof(stats) - strlen(stats), "%s%s",
				 *stats ? ", " : "", gate_stat_name(s));
	if (nreg)
		fprintf(f, "## perfbpf gate: FAIL, %zu regression%s\n\n", nreg, nreg > 1 ? "s" : "");
	else
		fprintf(f, "## perfbpf gate: pass\n\n");
	side_files(bfiles, sizeof(bfiles), g->base);
	side_files(hfiles, sizeof(hfiles), g->head);
	fprintf(f, "Base `%s` (%u runs%s) vs head `%s` (%u runs%s), statistic %s of the %s. A key "
		"fails when it is more than %.3g%% slower and the %.4g%% bootstrap interval of "
		"head/base lies above 1 (family-wise error %.3g%% shared by %zu comparisons, %u "
		"resamples).\n\n",
		g->base->path, g->base->nruns, bfiles, g->head->path, g->head->nruns, hfiles, stats,
		g->across == GATE_BEST ? "best run" : "runs pooled",
		g->threshold * 100, (1 - g->alpha_each) * 100, g->alpha * 100, g->compared,
		g->resamples);
	for (int s = 0; s < GATE__NSTAT; s++)
		if (!isnan(g->common_ratio[s]))
			fprintf(f, "Median change of all metrics' %s: %+.1f%%.\n\n", gate_stat_name(s),
				(g->common_ratio[s] - 1) * 100);
	fprintf(f, "%zu regression%s, %zu improvement%s, %zu unclear, %zu without change, %zu with "
		"too few samples, %zu only in base, %zu only in head.\n\n",
		nreg, nreg == 1 ? "" : "s", g->counts[GATE_IMPROVEMENT],
		g->counts[GATE_IMPROVEMENT] == 1 ? "" : "s", g->counts[GATE_UNCLEAR],
		g->counts[GATE_NO_CHANGE], g->counts[GATE_TOO_FEW], g->base_only, g->head_only);
	for (size_t i = 0; i < g->nwarnings; i++)
		fprintf(f, "> Warning: %s\n>\n", g->warnings[i]);
	if (g->nwarnings)
		fputc('\n', f);
	for (size_t i = 0; i < g->ncmp; i++)
		nnot += notable(&g->cmp[i]);
	nrest = g->ncmp - nnot;
	if (nnot) {
		md_header(f);
		for (size_t i = 0; i < g->ncmp; i++)
			if (notable(&g->cmp[i]))
				md_row(f, &g->cmp[i]);
		fputc('\n', f);
	}
	if (nrest) {
		fprintf(f, "<details><summary>%zu more comparison%s (no change, too few samples, "
			"one side only)</summary>\n\n", nrest, nrest == 1 ? "" : "s");
		md_header(f);
		for (size_t i = 0; i < g->ncmp; i++)
			if (!notable(&g->cmp[i]))
				md_row(f, &g->cmp[i]);
		fputs("\n</details>\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

static struct json_object *num_or_null(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

static const char *presence_name(enum gate_presence p)
{
	return p == GATE_BASE_ONLY ? "base_only" : p == GATE_HEAD_ONLY ? "head_only" : "both";
}

/* A key's durations over every run of its side, merged: [[lower ns, count], ...]. */
static struct json_object *merged_bins(const struct gate_key *k, unsigned nruns)
{
	struct hist *h = hist__new();
	struct hist_bin *bins = malloc(HIST_BUCKETS * sizeof(*bins));
	struct json_object *a = json_object_new_array();
	size_t n = 0;

	for (unsigned r = 0; h && bins && r < nruns; r++)
		for (size_t i = 0; i < k->runs[r].nbins; i++)
			hist__add(h, hist_bucket_lower(k->runs[r].bins[i].index),
				  k->runs[r].bins[i].count);
	if (h && bins)
		n = hist__bins(h, bins);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_new_array_ext(2);

		json_object_array_add(pair, json_object_new_uint64(hist_bucket_lower(bins[i].index)));
		json_object_array_add(pair, json_object_new_uint64(bins[i].count));
		json_object_array_add(a, pair);
	}
	hist__free(h);
	free(bins);
	return a;
}

static struct json_object *cmp_json(const struct gate_comparison *c, const struct gate_outcome *g,
				    bool histograms)
{
	struct json_object *o = json_object_new_object();
	const struct gate_key *k = c->key;

	json_object_object_add(o, "level", json_object_new_string(k->rollup ? "metric" : "key"));
	json_object_object_add(o, "kind", json_object_new_string(kind_name(k->kind)));
	json_object_object_add(o, "metric", json_object_new_string(k->metric));
	if (!k->rollup) {
		json_object_object_add(o, "symbol", json_object_new_string(k->symbol));
		json_object_object_add(o, "strategy", json_object_new_string(k->strategy));
	}
	json_object_object_add(o, "stat", json_object_new_string(gate_stat_name(c->stat)));
	json_object_object_add(o, "presence", json_object_new_string(presence_name(c->presence)));
	if (c->presence == GATE_BOTH) {
		json_object_object_add(o, "base_ns", num_or_null(c->r.base));
		json_object_object_add(o, "head_ns", num_or_null(c->r.head));
		json_object_object_add(o, "change", num_or_null(c->r.change));
		json_object_object_add(o, "ratio_low", num_or_null(c->r.ci_low));
		json_object_object_add(o, "ratio_high", num_or_null(c->r.ci_high));
		if (c->r.base_runs && c->r.head_runs) {
			json_object_object_add(o, "base_runs_drawn",
					       json_object_new_int((int)c->r.base_runs));
			json_object_object_add(o, "head_runs_drawn",
					       json_object_new_int((int)c->r.head_runs));
		}
		json_object_object_add(o, "verdict",
				       json_object_new_string(gate_verdict_name(c->r.verdict)));
		/* the HTML report overlays what moved */
		if (histograms && (c->r.verdict == GATE_REGRESSION || c->r.verdict == GATE_UNCLEAR)) {
			json_object_object_add(o, "base_histogram", merged_bins(k, g->base->nruns));
			json_object_object_add(o, "head_histogram",
					       merged_bins(c->head_key, g->head->nruns));
		}
	}
	return o;
}

/* slowness: per run (NAN: not known, written as null), or NULL */
static struct json_object *file_json(const struct gate_file *f, const double *slowness)
{
	struct json_object *o = json_object_new_object(), *env = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(f->path));
	json_object_object_add(o, "runs", json_object_new_int((int)f->nruns));
	if (f->npaths) {
		struct json_object *files = json_object_new_array();

		for (size_t i = 0; i < f->npaths; i++)
			json_object_array_add(files, json_object_new_string(f->paths[i]));
		json_object_object_add(o, "files", files);
	}
	json_object_object_add(o, "command", json_object_new_string(f->command));
	json_object_object_add(o, "dropped", json_object_new_uint64(f->dropped));
	for (size_t i = 0; i < f->nenv; i++)
		json_object_object_add(env, f->env_name[i], json_object_new_string(f->env_value[i]));
	json_object_object_add(o, "environment", env);
	if (slowness) {
		struct json_object *a = json_object_new_array();

		for (unsigned r = 0; r < f->nruns; r++)
			json_object_array_add(a, isnan(slowness[r]) ? NULL :
					      json_object_new_double(slowness[r]));
		json_object_object_add(o, "run_slowness", a);
	}
	return o;
}

int gate_report__json(FILE *f, const struct gate_outcome *g)
{
	return json__put(f, gate_report__object(g, false));
}

struct json_object *gate_report__object(const struct gate_outcome *g, bool histograms)
{
	struct json_object *root = json_object_new_object(), *a, *stats = json_object_new_array();

	json_object_object_add(root, "schema", json_object_new_string(PERFBPF_GATE_SCHEMA));
	json_object_object_add(root, "perfbpf_version", json_object_new_string(PERFBPF_VERSION));
	json_object_object_add(root, "verdict", json_object_new_string(
		g->counts[GATE_REGRESSION] ? "fail" : "pass"));
	json_object_object_add(root, "regressions", json_object_new_uint64(g->counts[GATE_REGRESSION]));
	json_object_object_add(root, "improvements",
			       json_object_new_uint64(g->counts[GATE_IMPROVEMENT]));
	json_object_object_add(root, "unclear", json_object_new_uint64(g->counts[GATE_UNCLEAR]));
	json_object_object_add(root, "base", file_json(g->base, g->base_slowness));
	json_object_object_add(root, "head", file_json(g->head, g->head_slowness));
	for (int s = 0; s < GATE__NSTAT; s++)
		if (g->stats & (1u << s))
			json_object_array_add(stats, json_object_new_string(gate_stat_name(s)));
	json_object_object_add(root, "stats", stats);
	json_object_object_add(root, "across", json_object_new_string(
		g->across == GATE_BEST ? "best" : "pooled"));
	json_object_object_add(root, "max_regression", json_object_new_double(g->threshold));
	json_object_object_add(root, "alpha", json_object_new_double(g->alpha));
	json_object_object_add(root, "alpha_per_comparison", json_object_new_double(g->alpha_each));
	json_object_object_add(root, "compared", json_object_new_uint64(g->compared));
	a = json_object_new_object();
	for (int s = 0; s < GATE__NSTAT; s++)
		if (!isnan(g->common_ratio[s]))
			json_object_object_add(a, gate_stat_name(s),
					       json_object_new_double(g->common_ratio[s] - 1));
	json_object_object_add(root, "common_change", a);
	json_object_object_add(root, "resamples", json_object_new_uint64(g->resamples));
	json_object_object_add(root, "seed", json_object_new_uint64(g->seed));
	a = json_object_new_array();
	for (size_t i = 0; i < g->nwarnings; i++)
		json_object_array_add(a, json_object_new_string(g->warnings[i]));
	json_object_object_add(root, "warnings", a);
	a = json_object_new_array();
	for (size_t i = 0; i < g->ncmp; i++)
		json_object_array_add(a, cmp_json(&g->cmp[i], g, histograms));
	json_object_object_add(root, "comparisons", a);
	return root;
}
