// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf gate BASE HEAD`: loads both summaries, pairs their keys, compares each statistic
 * asked for (user/gate/gate_stats.c) and writes the reports (exporters/report/gate_report.c). */
#include "user/cmd/gate.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/report/gate_report.h"
#include "exporters/report/html.h"
#include "user/cli/options.h"
#include "user/gate/gate_file.h"
#include "user/gate/gate_stats.h"
#include "user/lib/output.h"
#include "user/lib/util.h"

__attribute__((format(printf, 2, 3)))
static int warn(struct gate_outcome *g, const char *fmt, ...)
{
	char **nw = realloc(g->warnings, (g->nwarnings + 1) * sizeof(*nw));
	va_list ap;
	int n;

	if (!nw)
		return -ENOMEM;
	g->warnings = nw;
	va_start(ap, fmt);
	n = vasprintf(&g->warnings[g->nwarnings], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	/* one line: the files' own strings (commands, environment) are quoted in warnings */
	for (char *c = g->warnings[g->nwarnings]; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	pb_warn("%s", g->warnings[g->nwarnings++]);
	return 0;
}

/* Differences that make the comparison unfair: another kernel, CPU, governor, perfbpf, mode. */
static int check_environments(struct gate_outcome *g)
{
	const struct gate_file *b = g->base, *h = g->head;
	int err = 0;

	for (size_t i = 0; i < b->nenv && i < h->nenv && !err; i++)
		if (strcmp(b->env_value[i], h->env_value[i]))
			err = warn(g, "the environments differ: %s '%s' (base) vs '%s' (head)",
				   b->env_name[i], b->env_value[i], h->env_value[i]);
	if (!err && b->mixed)
		err = warn(g, "base: %s", b->mixed);
	if (!err && h->mixed)
		err = warn(g, "head: %s", h->mixed);
	if (!err && strcmp(b->command, h->command))
		err = warn(g, "the commands differ: '%s' (base) vs '%s' (head)", b->command, h->command);
	if (!err && b->dropped)
		err = warn(g, "%s lost %llu events: its statistics are incomplete", b->path,
			   (unsigned long long)b->dropped);
	if (!err && h->dropped)
		err = warn(g, "%s lost %llu events: its statistics are incomplete", h->path,
			   (unsigned long long)h->dropped);
	return err;
}

static int add_cmp(struct gate_outcome *g, const struct gate_key *k, const struct gate_key *hk,
		   enum gate_presence pr, size_t *cap)
{
	for (int st = 0; st < GATE__NSTAT; st++) {
		if (!(g->stats & (1u << st)))
			continue;
		if (g->ncmp == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct gate_comparison *n = realloc(g->cmp, nc * sizeof(*n));

			if (!n)
				return -ENOMEM;
			g->cmp = n;
			*cap = nc;
		}
		g->cmp[g->ncmp++] = (struct gate_comparison){ .key = k, .head_key = hk, .stat = st,
							      .presence = pr };
	}
	return 0;
}

/* One comparison per statistic for every key of either file (keys are sorted the same way). */
static int pair_keys(struct gate_outcome *g)
{
	const struct gate_file *b = g->base, *h = g->head;
	size_t i = 0, j = 0, cap = 0;
	int err = 0;

	while (!err && (i < b->nkeys || j < h->nkeys)) {
		int c = i == b->nkeys ? 1 : j == h->nkeys ? -1 : gate_key__cmp(&b->keys[i], &h->keys[j]);

		if (c == 0) {
			err = add_cmp(g, &b->keys[i], &h->keys[j], GATE_BOTH, &cap);
			i++, j++;
		} else if (c < 0) {
			err = add_cmp(g, &b->keys[i++], NULL, GATE_BASE_ONLY, &cap);
			g->base_only++;
		} else {
			err = add_cmp(g, &h->keys[j++], NULL, GATE_HEAD_ONLY, &cap);
			g->head_only++;
		}
	}
	return err;
}

static void series(const struct gate_outcome *g, const struct gate_file *f,
		   const struct gate_key *k, struct gate_series *s)
{
	s->runs = k->runs;
	s->nruns = f->nruns;
	s->slowness = f == g->base ? g->base_slowness : g->head_slowness;
}

/* The slowness of each run of f, from its per-metric roll-ups; a warning names the disturbed
 * runs that GATE_BEST leaves out. */
static int run_slowness(struct gate_outcome *g, const struct gate_file *f, const char *side,
			double **out)
{
	const struct gate_run **keys = malloc((f->nkeys ? f->nkeys : 1) * sizeof(*keys));
	char list[256] = "";
	size_t n = 0, len = 0;
	unsigned bad = 0;

	*out = malloc((f->nruns ? f->nruns : 1) * sizeof(**out));
	if (!keys || !*out) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t k = 0; k < f->nkeys; k++)
		if (f->keys[k].rollup)
			keys[n++] = f->keys[k].runs;
	gate_run_slowness(keys, n, f->nruns, *out);
	free(keys);
	for (unsigned r = 0; r < f->nruns; r++) {
		if (!((*out)[r] > 1 + GATE_DISTURBED))
			continue;
		bad++;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u (%+.0f%%)",
						bad > 1 ? ", " : "", r + 1, ((*out)[r] - 1) * 100);
	}
	if (!bad || g->across != GATE_BEST)
		return 0;
	return warn(g, "%s: %u of %u runs ran more than %.0f%% slower as a whole than the side's "
		    "fastest (a busy machine), and are left out where the other runs have the key: "
		    "run %s", side, bad, f->nruns, GATE_DISTURBED * 100, list);
}

/* Comparisons with enough data on both sides: the family the error rate is shared by. */
static size_t count_comparable(const struct gate_outcome *g)
{
	size_t n = 0;

	for (size_t i = 0; i < g->ncmp; i++) {
		const struct gate_comparison *c = &g->cmp[i];
		struct gate_series sb, sh;

		if (c->presence != GATE_BOTH)
			continue;
		series(g, g->base, c->key, &sb);
		series(g, g->head, c->head_key, &sh);
		if (gate_enough(&sb, c->stat, g->across) && gate_enough(&sh, c->stat, g->across))
			n++;
	}
	return n;
}

/* The change most metrics share, per statistic, reported so that a machine that was slower as a
 * whole is visible; then the verdicts are counted. */
static int common_change(struct gate_outcome *g)
{
	double *ratios = malloc((g->ncmp ? g->ncmp : 1) * sizeof(*ratios));
	int err = 0;

	if (!ratios)
		return -ENOMEM;
	for (int st = 0; st < GATE__NSTAT; st++) {
		size_t n = 0;
		double common;

		g->common_ratio[st] = NAN;
		if (!(g->stats & (1u << st)))
			continue;
		for (size_t i = 0; i < g->ncmp; i++) {
			const struct gate_comparison *c = &g->cmp[i];

			/* one vote per metric: its roll-up, not each symbol x strategy row */
			if (c->presence == GATE_BOTH && c->key->rollup &&
			    c->stat == (enum gate_stat)st && c->r.verdict != GATE_TOO_FEW)
				ratios[n++] = c->r.head / c->r.base;
		}
		common = g->common_ratio[st] = gate_common_ratio(ratios, n);
		if (!isnan(common) && fabs(common - 1) > g->threshold)
			err = err ?: warn(g, "the median metric's %s moved by %+.1f%%: a slower or "
					  "faster machine, or a change in code that many spans enclose",
					  gate_stat_name(st), (common - 1) * 100);
	}
	free(ratios);
	for (size_t i = 0; i < g->ncmp; i++)
		if (g->cmp[i].presence == GATE_BOTH)
			g->counts[g->cmp[i].r.verdict]++;
	return err;
}

static int compare_all(struct gate_outcome *g)
{
	struct gate_params p;

	if (run_slowness(g, g->base, "base", &g->base_slowness) ||
	    run_slowness(g, g->head, "head", &g->head_slowness))
		return -ENOMEM;
	g->compared = count_comparable(g);
	g->alpha_each = g->compared ? g->alpha / (double)g->compared : g->alpha;
	if (!g->resamples)
		g->resamples = gate_resamples_for(g->alpha_each);
	p = (struct gate_params){ .across = g->across, .alpha = g->alpha_each, .threshold = g->threshold,
				  .resamples = g->resamples, .seed = g->seed };
	for (size_t i = 0; i < g->ncmp; i++) {
		struct gate_comparison *c = &g->cmp[i];
		struct gate_series sb, sh;
		int err;

		if (c->presence != GATE_BOTH)
			continue;
		series(g, g->base, c->key, &sb);
		series(g, g->head, c->head_key, &sh);
		err = gate_compare(&sb, &sh, c->stat, &p, &c->r);
		if (err)
			return err;
	}
	return common_change(g);
}

/* Report order: regressions (worst first), unclear, improvements (best first), no change, too
 * few samples, then keys found on one side only. */
static int rank(const struct gate_comparison *c)
{
	static const int order[] = { [GATE_REGRESSION] = 0, [GATE_UNCLEAR] = 1,
				     [GATE_IMPROVEMENT] = 2, [GATE_NO_CHANGE] = 3, [GATE_TOO_FEW] = 4 };

	if (c->presence == GATE_BASE_ONLY)
		return 5;
	if (c->presence == GATE_HEAD_ONLY)
		return 6;
	return order[c->r.verdict];
}

static int cmp_comparisons(const void *x, const void *y)
{
	const struct gate_comparison *a = x, *b = y;
	int ra = rank(a), rb = rank(b), c;

	if (ra != rb)
		return ra - rb;
	if (a->presence == GATE_BOTH && a->r.change != b->r.change && !isnan(a->r.change) &&
	    !isnan(b->r.change)) {
		bool up = ra != 2; /* improvements: the largest drop first */

		return (a->r.change > b->r.change) == up ? -1 : 1;
	}
	c = gate_key__cmp(a->key, b->key);
	return c ? c : (int)a->stat - (int)b->stat;
}

static void outcome_free(struct gate_outcome *g)
{
	for (size_t i = 0; i < g->nwarnings; i++)
		free(g->warnings[i]);
	free(g->warnings);
	free(g->cmp);
	free(g->base_slowness);
	free(g->head_slowness);
}

static int put_json(FILE *f, const void *g)
{
	return gate_report__json(f, g);
}

static int put_markdown(FILE *f, const void *g)
{
	return gate_report__markdown(f, g);
}

static int put_html(FILE *f, const void *g)
{
	struct json_object *data = json_object_new_object();
	int err;

	json_object_object_add(data, "gate", gate_report__object(g, true));
	json_object_object_add(data, "command", json_object_new_string("perfbpf gate"));
	err = html__write(f, data);
	json_object_put(data);
	return err;
}

/* The JSON to json_path and the markdown to md_path (NULL: not asked for); with neither on
 * stdout and not quiet, the markdown also goes to stdout. */
static int write_reports(const struct gate_outcome *g, const char *json_path,
			 const char *md_path, const char *html_path, bool quiet)
{
	int err = 0;

	if (html_path)
		err = output__write(html_path, put_html, g);
	if (json_path)
		err = output__write(json_path, put_json, g) ?: err;
	if (md_path)
		err = output__write(md_path, put_markdown, g) ?: err;
	else if (!quiet && !output__is_stdout(json_path))
		err = output__write("-", put_markdown, g) ?: err;
	return err;
}

int gate__run(const struct cli_opts *o)
{
	struct gate_file base, head;
	struct gate_outcome g = {
		.base = &base, .head = &head, .stats = o->gate_stats, .threshold = o->gate_threshold,
		.alpha = o->gate_alpha, .across = o->gate_across, .resamples = o->gate_resamples, .seed = o->gate_seed,
	};
	char err[512];
	int rc = EXIT_USAGE;

	if (gate_file__load(o->gate_base, &base, err, sizeof(err))) {
		pb_err("%s", err);
		gate_file__free(&base);
		return EXIT_USAGE;
	}
	if (gate_file__load(o->gate_head, &head, err, sizeof(err))) {
		pb_err("%s", err);
		gate_file__free(&base);
		gate_file__free(&head);
		return EXIT_USAGE;
	}
	if (check_environments(&g) || pair_keys(&g) || compare_all(&g)) {
		pb_err("out of memory");
		goto out; /* 2: no verdict, which 1 (a regression) must not be mistaken for */
	}
	qsort(g.cmp, g.ncmp, sizeof(*g.cmp), cmp_comparisons);
	if (!g.compared)
		pb_warn("no key has enough samples on both sides for %s: nothing was gated",
			"the statistics asked for");
	rc = write_reports(&g, o->json_path, o->markdown_path, o->html_path, o->quiet);
	if (rc == 0)
		rc = g.counts[GATE_REGRESSION] ? EXIT_FAIL : EXIT_OK;
	else
		rc = EXIT_USAGE;
out:
	outcome_free(&g);
	gate_file__free(&base);
	gate_file__free(&head);
	return rc;
}
