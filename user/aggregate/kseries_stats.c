// SPDX-License-Identifier: BSD-2-Clause
/* Statistics and report rows from the in-kernel histograms (see kseries.h). */
#include "user/aggregate/kseries_stats.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t min_nonzero_count(uint64_t a, uint64_t acount, uint64_t b, uint64_t bcount)
{
	if (!acount)
		return b;
	if (!bcount)
		return a;
	return a < b ? a : b;
}

int kseries_stats__merge(struct kseries *dst, const struct kseries *src)
{
	dst->min_ns = min_nonzero_count(dst->min_ns, dst->count, src->min_ns, src->count);
	dst->wait_min_ns = min_nonzero_count(dst->wait_min_ns, dst->wait_count, src->wait_min_ns,
					     src->wait_count);
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	if (src->wait_max_ns > dst->wait_max_ns)
		dst->wait_max_ns = src->wait_max_ns;
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	dst->self_sum_ns += src->self_sum_ns;
	dst->wait_count += src->wait_count;
	dst->wait_sum_ns += src->wait_sum_ns;
	return khist__merge(&dst->dur, &src->dur) ?: khist__merge(&dst->wait, &src->wait);
}

static uint64_t bucket_mid(unsigned i, uint64_t hi_clamp)
{
	uint64_t lo = khist_lower(i), hi = khist_upper(i);

	if (hi > hi_clamp)
		hi = hi_clamp; /* the overflow bucket has no upper bound: the max bounds it */
	return hi < lo ? lo : lo + (hi - lo) / 2;
}

uint64_t kseries_stats__percentile(const struct khist *b, uint64_t n, double p, uint64_t lo,
				   uint64_t hi)
{
	uint64_t rank, seen = 0, v = 0;

	if (n == 0)
		return 0;
	rank = (uint64_t)ceil((double)n * p / 100.0);
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	for (unsigned i = khist__next(b, 0); i < KHIST_BUCKETS; i = khist__next(b, i + 1)) {
		seen += khist__get(b, i);
		if (seen >= rank) {
			v = bucket_mid(i, hi);
			break;
		}
	}
	return v < lo ? lo : v > hi ? hi : v;
}

/* Population standard deviation from bucket midpoints. */
static double hist_stddev(const struct khist *b, uint64_t n, double mean, uint64_t hi)
{
	double acc = 0;

	if (n < 2)
		return 0;
	for (unsigned i = khist__next(b, 0); i < KHIST_BUCKETS; i = khist__next(b, i + 1)) {
		double d = (double)bucket_mid(i, hi) - mean;

		acc += (double)khist__get(b, i) * d * d;
	}
	return sqrt(acc / (double)n);
}

static void row_stats(const struct kseries *k, struct stat_row *r)
{
	r->kind = k->kind;
	r->metric = k->metric;
	r->count = k->count;
	r->total_ns = k->sum_ns;
	r->self_total_ns = k->self_sum_ns;
	r->mean_ns = k->count ? (double)k->sum_ns / (double)k->count : 0;
	r->min_ns = k->min_ns;
	r->max_ns = k->max_ns;
	r->stddev_ns = hist_stddev(&k->dur, k->count, r->mean_ns, k->max_ns);
	r->p50_ns = kseries_stats__percentile(&k->dur, k->count, 50, k->min_ns, k->max_ns);
	r->p95_ns = kseries_stats__percentile(&k->dur, k->count, 95, k->min_ns, k->max_ns);
	r->p99_ns = kseries_stats__percentile(&k->dur, k->count, 99, k->min_ns, k->max_ns);
	r->approximate = true;
	r->wait_count = k->wait_count;
	r->wait_mean_ns = k->wait_count ? (double)k->wait_sum_ns / (double)k->wait_count : 0;
	r->wait_min_ns = k->wait_min_ns;
	r->wait_max_ns = k->wait_max_ns;
}

/* Orders series by (kind, metric[, symbol, strategy]): a group's members are then adjacent. */
static int cmp_key(const struct kseries *a, const struct kseries *b, bool rollup)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->metric, b->metric);
	if (c || rollup)
		return c;
	c = strcmp(a->symbol, b->symbol);
	return c ? c : strcmp(a->strategy, b->strategy);
}

static int cmp_series(const void *x, const void *y)
{
	return cmp_key(*(struct kseries *const *)x, *(struct kseries *const *)y, false);
}

static int cmp_metric(const void *x, const void *y)
{
	return cmp_key(*(struct kseries *const *)x, *(struct kseries *const *)y, true);
}

static void free_groups(struct kseries *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++)
		kseries__release(&g[i]);
	free(g);
}

/* Merges v into groups (per key, or per metric for roll-ups): sorted, then adjacent equal keys
 * merged, so that many thousands of keys cost n log n. */
static int group(struct kseries *const *v, size_t n, bool rollup, struct kseries **out,
		 size_t *nout)
{
	struct kseries **s = malloc((n ? n : 1) * sizeof(*s));
	struct kseries *g = calloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;
	int err = 0;

	if (!s || !g) {
		free(s);
		free(g);
		return -ENOMEM;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), rollup ? cmp_metric : cmp_series);
	for (size_t i = 0; i < n && !err; i++) {
		if (!s[i]->count)
			continue;
		if (!ng || cmp_key(&g[ng - 1], s[i], rollup)) {
			g[ng].kind = s[i]->kind;
			memcpy(g[ng].metric, s[i]->metric, sizeof(g[ng].metric));
			if (!rollup) {
				memcpy(g[ng].symbol, s[i]->symbol, sizeof(g[ng].symbol));
				memcpy(g[ng].strategy, s[i]->strategy, sizeof(g[ng].strategy));
			}
			ng++;
		}
		err = kseries_stats__merge(&g[ng - 1], s[i]);
	}
	free(s);
	if (err) {
		free_groups(g, ng);
		return err;
	}
	*out = g;
	*nout = ng;
	return 0;
}

static int by_total_desc(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return strcmp(x->metric, y->metric);
}

/* Occupied buckets of a series' durations. */
static size_t nbuckets(const struct kseries *k)
{
	size_t n = 0;

	for (unsigned b = khist__next(&k->dur, 0); b < KHIST_BUCKETS; b = khist__next(&k->dur, b + 1))
		n++;
	return n;
}

/* The row's histogram in the report layout (hist.h): each kernel bucket starts on a bucket
 * boundary of it, so the lower bounds are exact. Bins are taken from *pool. */
static void row_bins(const struct kseries *k, struct stat_row *r, struct hist_bin **pool)
{
	struct hist_bin *b0 = *pool;
	size_t n = 0;

	for (unsigned b = khist__next(&k->dur, 0); b < KHIST_BUCKETS;
	     b = khist__next(&k->dur, b + 1))
		b0[n++] = (struct hist_bin){ hist_bucket(khist_lower(b)), khist__get(&k->dur, b) };
	r->bins = b0;
	r->nbins = n;
	*pool += n;
}

int kseries_stats__summarize(struct kseries *const *v, size_t n, struct kseries_report *r,
		       struct summary *s)
{
	struct kseries **ptrs;
	int err;

	bool want_bins = r->want_bins;
	struct hist_bin *pool;
	size_t nbins = 0;

	kseries_stats__free_report(r);
	r->want_bins = want_bins;
	err = group(v, n, false, &r->groups, &r->ngroups);
	if (err)
		return err;
	/* roll-ups merge the groups, which already merged the processes */
	ptrs = calloc(r->ngroups ? r->ngroups : 1, sizeof(*ptrs));
	if (!ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < r->ngroups; i++)
		ptrs[i] = &r->groups[i];
	err = group(ptrs, r->ngroups, true, &r->rollups, &r->nrollups);
	free(ptrs);
	if (err)
		return err;
	r->rows = calloc(r->ngroups ? r->ngroups : 1, sizeof(*r->rows));
	r->metrics = calloc(r->nrollups ? r->nrollups : 1, sizeof(*r->metrics));
	if (!r->rows || !r->metrics)
		return -ENOMEM;
	for (size_t i = 0; want_bins && i < r->ngroups; i++)
		nbins += nbuckets(&r->groups[i]);
	for (size_t i = 0; want_bins && i < r->nrollups; i++)
		nbins += nbuckets(&r->rollups[i]);
	if (want_bins && !(r->bins = malloc((nbins ? nbins : 1) * sizeof(*r->bins))))
		return -ENOMEM;
	pool = r->bins;
	s->events = 0;
	for (size_t i = 0; i < r->ngroups; i++) {
		row_stats(&r->groups[i], &r->rows[i]);
		r->rows[i].symbol = r->groups[i].symbol;
		r->rows[i].strategy = r->groups[i].strategy;
		s->events += r->groups[i].count;
		if (want_bins)
			row_bins(&r->groups[i], &r->rows[i], &pool);
	}
	for (size_t i = 0; i < r->nrollups; i++) {
		row_stats(&r->rollups[i], &r->metrics[i]);
		if (want_bins)
			row_bins(&r->rollups[i], &r->metrics[i], &pool);
	}
	qsort(r->rows, r->ngroups, sizeof(*r->rows), by_total_desc);
	qsort(r->metrics, r->nrollups, sizeof(*r->metrics), by_total_desc);
	s->rows = r->rows;
	s->nrows = r->ngroups;
	s->metrics = r->metrics;
	s->nmetrics = r->nrollups;
	s->hist_rel_error = KHIST_MID_REL_ERROR;
	s->kernel_histograms = true;
	return 0;
}

void kseries_stats__free_report(struct kseries_report *r)
{
	free_groups(r->groups, r->ngroups);
	free_groups(r->rollups, r->nrollups);
	free(r->rows);
	free(r->metrics);
	free(r->bins);
	memset(r, 0, sizeof(*r));
}
