// SPDX-License-Identifier: BSD-2-Clause
/* The statistics of `perfbpf gate` (see gate_stats.h and docs/GATE.md). */
#include "user/gate/gate_stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double quantile_of(enum gate_stat s)
{
	switch (s) {
	case GATE_P50: return 0.50;
	case GATE_P95: return 0.95;
	case GATE_P99: return 0.99;
	default: return 0;
	}
}

uint64_t gate_min_samples(enum gate_stat s)
{
	double q = quantile_of(s);

	return q > 0 ? (uint64_t)ceil(GATE_TAIL_SAMPLES / (1.0 - q) - 1e-9) : 1;
}

unsigned gate_resamples_for(double alpha)
{
	double b = ceil(50.0 / alpha);

	if (b < 2000)
		return 2000;
	return b > 200000 ? 200000 : (unsigned)b;
}

static double normal01(uint64_t *st);

/* --- a side prepared for resampling ------------------------------------------------------------ */

/* The union of a side's histogram buckets, and per run the cumulative count at each of them. */
struct side {
	const struct gate_series *s;
	uint32_t *index;  /* bucket indices, ascending */
	size_t nidx;
	uint64_t *cum;    /* cum[r * nidx + j]: run r's samples in buckets <= index[j] */
	double q;         /* the quantile, 0 for mean and total */
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void side_free(struct side *sd)
{
	free(sd->index);
	free(sd->cum);
}

static int side_init(struct side *sd, const struct gate_series *s, double q)
{
	size_t n = 0, R = s->nruns;

	memset(sd, 0, sizeof(*sd));
	sd->s = s;
	sd->q = q;
	if (q == 0)
		return 0;
	for (size_t r = 0; r < R; r++)
		n += s->runs[r].nbins;
	sd->index = malloc((n ? n : 1) * sizeof(*sd->index));
	if (!sd->index)
		return -ENOMEM;
	for (size_t r = 0, k = 0; r < R; r++)
		for (size_t i = 0; i < s->runs[r].nbins; i++)
			sd->index[k++] = s->runs[r].bins[i].index;
	qsort(sd->index, n, sizeof(*sd->index), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (sd->nidx == 0 || sd->index[sd->nidx - 1] != sd->index[i])
			sd->index[sd->nidx++] = sd->index[i];
	sd->cum = calloc(R * sd->nidx + 1, sizeof(*sd->cum));
	if (!sd->cum) {
		side_free(sd);
		return -ENOMEM;
	}
	for (size_t r = 0; r < R; r++) {
		const struct gate_run *run = &s->runs[r];
		uint64_t *c = &sd->cum[r * sd->nidx], acc = 0;
		size_t b = 0;

		for (size_t j = 0; j < sd->nidx; j++) {
			while (b < run->nbins && run->bins[b].index <= sd->index[j])
				acc += run->bins[b++].count;
			c[j] = acc;
		}
	}
	return 0;
}

/* The value of rank k (1-based) of run r alone. */
static double run_rank_value(const struct side *sd, unsigned r, uint64_t k)
{
	const uint64_t *c = &sd->cum[(size_t)r * sd->nidx];
	size_t lo = 0, hi = sd->nidx ? sd->nidx - 1 : 0;

	if (sd->nidx == 0)
		return NAN;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c[mid] >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (double)hist_bucket_mid(sd->index[lo]);
}

/* The rank of quantile q among n samples, moved by z binomial standard deviations. */
static uint64_t jittered_rank(double n, double q, double z)
{
	double k = nearbyint(ceil(n * q) + z * sqrt(n * q * (1 - q)));

	return (uint64_t)(k < 1 ? 1 : k > n ? n : k);
}

/* The value of rank k (1-based) of the runs pooled with multiplicities m. */
static double side_rank_value(const struct side *sd, const unsigned *m, uint64_t k)
{
	size_t lo = 0, hi = sd->nidx ? sd->nidx - 1 : 0;

	if (sd->nidx == 0)
		return NAN; /* counts without histograms */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t c = 0;

		for (unsigned r = 0; r < sd->s->nruns; r++)
			c += (uint64_t)m[r] * sd->cum[(size_t)r * sd->nidx + mid];
		if (c >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (double)hist_bucket_mid(sd->index[lo]);
}

/* One run's statistic; z: a standard normal draw for its sampling noise (0: none). NAN when
 * the run has no sample of the key. */
static double run_stat(const struct side *sd, enum gate_stat st, unsigned r, double z)
{
	const struct gate_run *run = &sd->s->runs[r];
	double n = (double)run->count;

	if (n == 0)
		return NAN;
	if (st == GATE_MEAN)
		return run->sum / n + z * run->sd / sqrt(n);
	if (st == GATE_TOTAL)
		return run->sum + z * run->sd * sqrt(n);
	return run_rank_value(sd, r, jittered_rank(n, sd->q, z));
}

/* GATE_BEST: the lowest statistic among the runs drawn (m[r] > 0), each with its own noise. */
static double side_best(const struct side *sd, enum gate_stat st, const unsigned *m,
			uint64_t *rng, bool jitter)
{
	double best = NAN;

	for (unsigned r = 0; r < sd->s->nruns; r++) {
		double v;

		if (!m[r])
			continue;
		v = run_stat(sd, st, r, jitter ? normal01(rng) : 0);
		if (!isnan(v) && (isnan(best) || v < best))
			best = v;
	}
	return best;
}

/* GATE_POOLED: the statistic of the runs taken m[r] times each; z: a standard normal draw for
 * the sampling noise inside the runs (0: none). NAN when the pooled runs are empty. */
static double side_pooled(const struct side *sd, enum gate_stat st, const unsigned *m, double z)
{
	const struct gate_series *s = sd->s;
	double n = 0, sum = 0, var = 0;

	for (unsigned r = 0; r < s->nruns; r++) {
		const struct gate_run *run = &s->runs[r];

		n += (double)m[r] * (double)run->count;
		sum += (double)m[r] * run->sum;
		var += (double)m[r] * (double)run->count * run->sd * run->sd;
	}
	if (n == 0)
		return NAN;
	if (st == GATE_MEAN)
		return sum / n + z * sqrt(var) / n;
	if (st == GATE_TOTAL)
		return (sum + z * sqrt(var)) / s->nruns;
	return side_rank_value(sd, m, jittered_rank(n, sd->q, z));
}

/* --- random numbers: splitmix64 (fixed seed: the same files give the same verdicts) ------------ */

static uint64_t next_u64(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *st) /* (0, 1) */
{
	return ((double)(next_u64(st) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal01(uint64_t *st)
{
	return sqrt(-2.0 * log(uniform01(st))) * cos(2.0 * M_PI * uniform01(st));
}

/* m[r] = 1 for the K runs listed in pool, else 0. */
static void pool_once(unsigned *m, unsigned R, const unsigned *pool, unsigned K)
{
	memset(m, 0, R * sizeof(*m));
	for (unsigned i = 0; i < K; i++)
		m[pool[i]] = 1;
}

/* Draws runs with replacement from the K runs listed in pool (K draws); m[r]: run r's draws. */
static void draw_runs(unsigned *m, unsigned R, const unsigned *pool, unsigned K, uint64_t *st)
{
	memset(m, 0, R * sizeof(*m));
	for (unsigned i = 0; i < K; i++)
		m[pool[(unsigned)(uniform01(st) * K) % K]]++;
}

/* Whether run r's statistic is at most limit (agrees with the best run). */
static bool run_agrees(const struct side *sd, enum gate_stat st, unsigned r, double limit)
{
	double v = run_stat(sd, st, r, 0);

	return !isnan(v) && v <= limit;
}

static bool disturbed(const struct gate_series *s, unsigned r)
{
	return s->slowness && s->slowness[r] > 1 + GATE_DISTURBED; /* false for NAN */
}

/* The runs a side's bootstrap draws from, into pool; returns how many. GATE_POOLED: every run.
 * GATE_BEST: first, the runs that were not disturbed as a whole (gate_run_slowness), when any of
 * them has the key; then, of those, the runs that agree with the best one, within GATE_AGREE of
 * the threshold, when at least one other run does, else all of those. Disturbances only add
 * time: when two runs agree at the bottom, the slower ones were disturbed, and a resample that
 * drew none of the agreeing runs would let a disturbance decide the interval. When no run agrees
 * with the best, nothing in this key says which runs were disturbed (or it varies from run to
 * run): only the runs' slowness can, and without it every run is drawn. */
static unsigned runs_to_draw(const struct side *sd, enum gate_stat st,
			     const struct gate_params *p, unsigned *pool)
{
	unsigned R = sd->s->nruns, K = 0, best_r = R, eligible = 0;
	bool skip_disturbed = false;
	double best = NAN, limit;

	if (p->across == GATE_BEST)
		for (unsigned r = 0; r < R && !skip_disturbed; r++)
			skip_disturbed = !disturbed(sd->s, r) && !isnan(run_stat(sd, st, r, 0));
	for (unsigned r = 0; r < R; r++) {
		double v = run_stat(sd, st, r, 0);

		if (skip_disturbed && disturbed(sd->s, r))
			continue;
		pool[eligible++] = r;
		if (!isnan(v) && (isnan(best) || v < best)) {
			best = v;
			best_r = r;
		}
	}
	if (p->across != GATE_BEST || best_r == R)
		return eligible;
	limit = best * (1 + p->threshold * GATE_AGREE);
	for (unsigned i = 0; i < eligible; i++)
		K += run_agrees(sd, st, pool[i], limit);
	if (K < 2) /* no other run agrees with the best: all the eligible ones */
		return eligible;
	K = 0;
	for (unsigned i = 0; i < eligible; i++)
		if (run_agrees(sd, st, pool[i], limit))
			pool[K++] = pool[i];
	return K;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double side_value(const struct side *sd, enum gate_stat st, enum gate_across across,
			 const unsigned *m, uint64_t *rng, bool jitter)
{
	if (across == GATE_BEST)
		return side_best(sd, st, m, rng, jitter);
	return side_pooled(sd, st, m, jitter ? normal01(rng) : 0);
}

double gate_point(const struct gate_series *s, enum gate_stat st, enum gate_across across)
{
	struct side sd;
	unsigned *m;
	double v;

	if (s->nruns == 0)
		return NAN;
	m = malloc(s->nruns * sizeof(*m));
	if (!m || side_init(&sd, s, quantile_of(st))) {
		free(m);
		return NAN;
	}
	for (unsigned r = 0; r < s->nruns; r++)
		m[r] = 1;
	v = side_value(&sd, st, across, m, NULL, false);
	side_free(&sd);
	free(m);
	return v;
}

bool gate_enough(const struct gate_series *s, enum gate_stat st, enum gate_across across)
{
	uint64_t n = 0, least = UINT64_MAX;

	for (unsigned r = 0; r < s->nruns; r++) {
		n += s->runs[r].count;
		if (s->runs[r].count && s->runs[r].count < least)
			least = s->runs[r].count;
	}
	if (n == 0)
		return false;
	return (across == GATE_BEST ? least : n) >= gate_min_samples(st);
}

static enum gate_verdict verdict_of(const struct gate_result *r, double threshold)
{
	bool beyond_up = r->change > threshold, beyond_down = r->change < -threshold;

	if (beyond_up && r->ci_low > 1)
		return GATE_REGRESSION;
	if (beyond_down && r->ci_high < 1)
		return GATE_IMPROVEMENT;
	if (beyond_up || beyond_down)
		return GATE_UNCLEAR;
	return GATE_NO_CHANGE;
}

int gate_compare(const struct gate_series *base, const struct gate_series *head,
		 enum gate_stat st, const struct gate_params *p, struct gate_result *out)
{
	double q = quantile_of(st), *ratio = NULL;
	unsigned B = p->resamples, nb = 0, *mb = NULL, *mh = NULL, *pb = NULL, *ph = NULL, kb, kh;
	struct side sb = { 0 }, sh = { 0 };
	uint64_t rng = p->seed ^ 0x7065726662706621ull; /* "perfbpf!" */
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!base->nruns || !head->nruns || B == 0)
		return -EINVAL;
	out->ci_low = out->ci_high = NAN;
	mb = malloc(base->nruns * sizeof(*mb));
	mh = malloc(head->nruns * sizeof(*mh));
	pb = malloc(base->nruns * sizeof(*pb));
	ph = malloc(head->nruns * sizeof(*ph));
	if (!mb || !mh || !pb || !ph || side_init(&sb, base, q) || side_init(&sh, head, q))
		goto out;
	out->base_runs = kb = runs_to_draw(&sb, st, p, pb);
	out->head_runs = kh = runs_to_draw(&sh, st, p, ph);
	/* the point values: every run drawn from once, no sampling noise */
	pool_once(mb, base->nruns, pb, kb);
	pool_once(mh, head->nruns, ph, kh);
	out->base = side_value(&sb, st, p->across, mb, NULL, false);
	out->head = side_value(&sh, st, p->across, mh, NULL, false);
	out->change = out->head / out->base - 1;
	if (!gate_enough(base, st, p->across) || !gate_enough(head, st, p->across) ||
	    !(out->base > 0)) {
		out->verdict = GATE_TOO_FEW;
		err = 0;
		goto out;
	}
	ratio = malloc(B * sizeof(*ratio));
	if (!ratio)
		goto out;
	for (unsigned i = 0; i < B; i++) {
		double vb, vh;

		draw_runs(mb, base->nruns, pb, kb, &rng);
		draw_runs(mh, head->nruns, ph, kh, &rng);
		vb = side_value(&sb, st, p->across, mb, &rng, true);
		vh = side_value(&sh, st, p->across, mh, &rng, true);
		/* a replicate that drew only runs without the key tells nothing: left out */
		if (vb > 0 && isfinite(vh))
			ratio[nb++] = vh / vb;
	}
	if (nb < B / 2) {
		out->verdict = GATE_TOO_FEW;
		err = 0;
		goto out;
	}
	qsort(ratio, nb, sizeof(*ratio), cmp_double);
	out->ci_low = ratio[(size_t)floor(p->alpha / 2 * (nb - 1))];
	out->ci_high = ratio[(size_t)ceil((1 - p->alpha / 2) * (nb - 1))];
	out->verdict = verdict_of(out, p->threshold);
	err = 0;
out:
	side_free(&sb);
	side_free(&sh);
	free(ratio);
	free(mb);
	free(mh);
	free(pb);
	free(ph);
	return err;
}

double gate_common_ratio(const double *ratios, size_t n)
{
	double *v, m;

	if (n < GATE_COMMON_MIN_KEYS)
		return NAN;
	v = malloc(n * sizeof(*v));
	if (!v)
		return NAN;
	memcpy(v, ratios, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

/* A run's median (ns, its bucket's midpoint); NAN without samples. */
static double run_median(const struct gate_run *run)
{
	uint64_t want = (run->count + 1) / 2, c = 0;

	for (size_t i = 0; i < run->nbins; i++) {
		c += run->bins[i].count;
		if (c >= want)
			return (double)hist_bucket_mid(run->bins[i].index);
	}
	return NAN;
}

void gate_run_slowness(const struct gate_run *const *keys, size_t nkeys, unsigned nruns,
		       double *out)
{
	/* ratio[r * nkeys + j]: run r's median over the lowest, for the j-th key that counts */
	double *ratio = calloc(nkeys * nruns + 1, sizeof(*ratio));
	double *med = calloc(nruns + 1, sizeof(*med));
	size_t used = 0;

	for (unsigned r = 0; r < nruns; r++)
		out[r] = NAN;
	if (!ratio || !med)
		goto out;
	for (size_t k = 0; k < nkeys; k++) {
		double lo = INFINITY;
		bool ok = true;

		for (unsigned r = 0; r < nruns && ok; r++) {
			ok = keys[k][r].count >= GATE_SLOWNESS_MIN_COUNT &&
			     (med[r] = run_median(&keys[k][r])) > 0;
			if (ok && med[r] < lo)
				lo = med[r];
		}
		if (!ok)
			continue;
		for (unsigned r = 0; r < nruns; r++)
			ratio[(size_t)r * nkeys + used] = med[r] / lo;
		used++;
	}
	for (unsigned r = 0; r < nruns; r++)
		out[r] = gate_common_ratio(&ratio[(size_t)r * nkeys], used);
out:
	free(ratio);
	free(med);
}
