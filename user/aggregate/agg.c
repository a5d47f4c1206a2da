// SPDX-License-Identifier: BSD-2-Clause
/* Aggregation of ops and spans per (kind, metric, symbol, strategy), with per-metric roll-ups. */
#include "user/aggregate/agg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/aggregate/dist.h"

/* Scheduler attribution of a key's spans: one distribution per component. */
struct attribution {
	struct dist comp[ATTR__N];
	uint64_t nvcsw, nivcsw, migrations;
	struct dist **members[ATTR__N]; /* roll-ups: the keys' distributions (summarize) */
	size_t nfill;
};

struct entry {
	uint64_t hash;
	uint32_t kind;
	uint32_t flags;
	char *metric, *symbol, *strategy; /* symbol/strategy NULL in a roll-up */
	struct dist dist;
	uint64_t self_total;
	uint64_t last_ts;
	bool has_last; /* last_ts is an event's stamp (of run `run`) */
	uint64_t wait_count, wait_sum, wait_min, wait_max;
	unsigned run; /* agg.run when the key's last event was added */
	struct entry *rollup;
	size_t nmembers, member_fill; /* roll-ups: keys that feed them (summarize) */
	struct dist **members;
	struct attribution *attr; /* spans with --attribution, else NULL */
	struct hist_bin *bins;    /* opts.histograms: from the last summarize */
};

struct table {
	struct entry **slots;
	size_t cap, n;
};

/* The entries of recently added events by their names' bytes as the event carries them: an event
 * whose kind and name fields are byte for byte those of a memo slot is that entry's, without
 * hashing and comparing its strings (ABI v3 events of one key carry identical fields). */
#define MEMO_BITS 10
#define MEMO_SLOTS (1u << MEMO_BITS) /* two-way: an event looks in a pair of slots */

struct memo {
	struct entry *e; /* NULL: empty */
	uint32_t kind;
	struct perfbpf_names names;
};

/* The entries of events that carry a names_id (PERFBPF_F_NAMES_ID), by that number: one names_id
 * is one set of names for the whole session, so the names need no comparing. Direct-mapped
 * (the decoder numbers definitions in turn). */
#define IDMEMO_BITS 12
#define IDMEMO_SLOTS (1u << IDMEMO_BITS)

struct idmemo {
	uint32_t id, kind; /* id 0: empty */
	struct entry *e;
};

struct agg {
	struct agg_opts opts;
	struct sample_budget budget;
	struct table keys, rollups;
	uint64_t events, over_limit;
	unsigned run;
	struct stat_row *rows, *metrics;
	size_t nrows, nmetrics; /* of the last summarize */
	bool changed;           /* since the last summarize (or none yet): rows to compute again */
	struct hist *scratch; /* opts.histograms: one key's histogram at a time */
	struct hist_bin *scratch_bins;
	struct memo memo[MEMO_SLOTS];
	struct idmemo idmemo[IDMEMO_SLOTS];
};

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	/* separator, so ("ab","c") and ("a","bc") differ; NULL differs from "" */
	h ^= s ? 0xff : 0xfe;
	h *= 0x100000001b3ull;
	return h;
}

static uint64_t key_hash(uint32_t kind, const char *m, const char *sym, const char *strat)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind;

	return fnv1a(fnv1a(fnv1a(h, m), sym), strat);
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static struct entry **table_slot(struct table *t, uint64_t h, uint32_t kind, const char *m,
				 const char *sym, const char *strat)
{
	size_t mask = t->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct entry *e = t->slots[i];

		if (!e || (e->hash == h && e->kind == kind && str_eq(e->metric, m) &&
			   str_eq(e->symbol, sym) && str_eq(e->strategy, strat)))
			return &t->slots[i];
	}
}

static int table_grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct entry **ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct entry *e = t->slots[i];
		size_t j;

		if (!e)
			continue;
		for (j = e->hash & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
			;
		ns[j] = e;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

static struct entry *entry_new(uint64_t h, uint32_t kind, const char *m, const char *sym,
			       const char *strat)
{
	size_t lm = strlen(m) + 1, ls = sym ? strlen(sym) + 1 : 0, lt = strat ? strlen(strat) + 1 : 0;
	struct entry *e = calloc(1, sizeof(*e) + lm + ls + lt);
	char *p;

	if (!e)
		return NULL;
	p = (char *)(e + 1);
	e->metric = memcpy(p, m, lm);
	if (sym)
		e->symbol = memcpy(p + lm, sym, ls);
	if (strat)
		e->strategy = memcpy(p + lm + ls, strat, lt);
	e->hash = h;
	e->kind = kind;
	e->wait_min = UINT64_MAX;
	dist__init(&e->dist, sym == NULL);
	return e;
}

/* Finds or (when `create`) adds an entry; NULL when absent and not created or out of memory. */
static struct entry *table_get(struct table *t, uint32_t kind, const char *m, const char *sym,
			       const char *strat, bool create)
{
	uint64_t h = key_hash(kind, m, sym, strat);
	struct entry **slot;

	if (t->cap == 0 && table_grow(t))
		return NULL;
	slot = table_slot(t, h, kind, m, sym, strat);
	if (*slot || !create)
		return *slot;
	if ((t->n + 1) * 4 > t->cap * 3) {
		if (table_grow(t))
			return NULL;
		slot = table_slot(t, h, kind, m, sym, strat);
	}
	*slot = entry_new(h, kind, m, sym, strat);
	if (*slot)
		t->n++;
	return *slot;
}

struct agg *agg__new(const struct agg_opts *opts)
{
	struct agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->opts = *opts;
	a->budget.limit = opts->sample_budget;
	a->budget.arena = sample_arena__new();
	if (!a->budget.arena) {
		free(a);
		return NULL;
	}
	return a;
}

static void attribution_free(struct attribution *at, struct sample_budget *b)
{
	if (!at)
		return;
	for (int c = 0; c < ATTR__N; c++) {
		dist__fini(&at->comp[c], b);
		free(at->members[c]);
	}
	free(at);
}

static void table_free(struct table *t, struct sample_budget *b)
{
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i])
			continue;
		dist__fini(&t->slots[i]->dist, b);
		attribution_free(t->slots[i]->attr, b);
		free(t->slots[i]->members);
		free(t->slots[i]->bins);
		free(t->slots[i]);
	}
	free(t->slots);
}

void agg__free(struct agg *a)
{
	if (!a)
		return;
	table_free(&a->keys, &a->budget);
	table_free(&a->rollups, &a->budget);
	free(a->rows);
	free(a->metrics);
	hist__free(a->scratch);
	free(a->scratch_bins);
	sample_arena__free(a->budget.arena);
	free(a);
}

void agg__new_run(struct agg *a)
{
	a->run++;
}

/* Frees budget by making the key with the most exact samples approximate. */
static int shed_samples(struct agg *a)
{
	struct entry *big = NULL;

	for (size_t i = 0; i < a->keys.cap; i++) {
		struct entry *e = a->keys.slots[i];

		if (e && e->dist.samples && (!big || e->dist.cap > big->dist.cap))
			big = e;
	}
	if (!big)
		return -ENOSPC;
	return dist__to_hist(&big->dist, &a->budget);
}

static inline void wait_add(struct entry *e, uint64_t ts, unsigned run)
{
	uint64_t w;

	if (!e->has_last || e->run != run) {
		e->last_ts = ts;
		e->run = run;
		e->has_last = true;
		return;
	}
	/* Events of one key from two CPUs can reach the ring a few hundred ns out of order: such a
	 * gap counts as 0 and the later stamp is kept, so the gaps still sum to last - first. */
	w = ts > e->last_ts ? ts - e->last_ts : 0;
	e->wait_count++;
	e->wait_sum += w;
	if (w < e->wait_min)
		e->wait_min = w;
	if (w > e->wait_max)
		e->wait_max = w;
	if (ts > e->last_ts)
		e->last_ts = ts;
}

static int attr_new(struct entry *e)
{
	e->attr = calloc(1, sizeof(*e->attr));
	if (!e->attr)
		return -ENOMEM;
	for (int c = 0; c < ATTR__N; c++)
		dist__init(&e->attr->comp[c], e->dist.stream_only);
	return 0;
}

/* Attribution components share the sample budget; one that does not fit goes approximate
 * (the duration distributions, which percentiles are asked of most, are shed first). */
static int attribution_add(struct agg *a, struct entry *e, const struct perfbpf_event *ev)
{
	const uint64_t v[ATTR__N] = { ev->attr.oncpu_ns, ev->attr.runq_ns, ev->attr.blocked_ns };
	int err;

	if (!e->attr && (err = attr_new(e)))
		return err;
	for (int c = 0; c < ATTR__N; c++) {
		err = dist__add(&e->attr->comp[c], v[c], &a->budget);
		if (err == -ENOSPC) {
			err = dist__to_hist(&e->attr->comp[c], &a->budget);
			err = err ?: dist__add(&e->attr->comp[c], v[c], &a->budget);
		}
		if (err)
			return err;
	}
	e->attr->nvcsw += ev->attr.nvcsw;
	e->attr->nivcsw += ev->attr.nivcsw;
	e->attr->migrations += ev->attr.migrations;
	return 0;
}

/* An event of a key. Its roll-up takes only the event's wait (its statistics are the members',
 * merged when summarized). */
__attribute__((noinline, cold)) static int sample_add_grow(struct agg *a, struct entry *e,
							 uint64_t v)
{
	int err;

	while ((err = dist__add(&e->dist, v, &a->budget)) == -ENOSPC) {
		err = shed_samples(a);
		if (err == -ENOSPC) /* nothing left to shed: this key goes approximate */
			err = dist__to_hist(&e->dist, &a->budget);
		if (err)
			return err;
	}
	return err;
}

static inline int sample_add(struct agg *a, struct entry *e, uint64_t v)
{
	return dist__add_in_room(&e->dist, v) ? 0 : sample_add_grow(a, e, v);
}

/* One event of entry e: the wait since the key's previous one, its duration and self time. */
static inline int event_add(struct agg *a, struct entry *e, uint64_t end_ns, uint64_t duration_ns,
			    uint64_t self_ns)
{
	int err;

	wait_add(e, end_ns, a->run);
	err = sample_add(a, e, duration_ns);
	if (err)
		return err;
	e->self_total += self_ns;
	return 0;
}

static int entry_add(struct agg *a, struct entry *e, const struct perfbpf_event *ev)
{
	int err = event_add(a, e, ev->end_ns, ev->duration_ns, ev->self_ns);

	if (err)
		return err;
	e->flags |= ev->flags & ~PERFBPF_F_NAMES_ID;
	if (ev->kind == PERFBPF_EV_SPAN && (ev->flags & PERFBPF_F_ATTRIBUTED))
		return attribution_add(a, e, ev);
	return 0;
}

/* Copy of a fixed-size field that is NUL-terminated even if the record was not. */
static void field(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n - 1] = '\0';
}

static uint64_t word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The first of the pair of memo slots for an event's names: a few words of each field, mixed
 * (not the kind: an op and a span of the same names share the pair). */
static struct memo *memo_pair(struct agg *a, const struct perfbpf_event *ev)
{
	const struct perfbpf_names *n = &ev->names;
	uint64_t h = word(n->metric) ^ word(n->metric + 8) * 31 ^
		     word(n->metric + 16) * 131 ^ word(n->symbol) * 7 ^ word(n->symbol + 8) * 61 ^
		     word(n->strategy) * 17 ^ word(n->strategy + 8) * 251;

	h *= 0x9e3779b97f4a7c15ull;
	return &a->memo[(h >> (64 - MEMO_BITS)) & ~1ull];
}

static struct entry *lookup(struct agg *a, const struct perfbpf_event *ev, struct memo *m)
{
	struct perfbpf_names nm;
	struct entry *e;

	field(nm.metric, ev->names.metric, sizeof(nm.metric));
	field(nm.symbol, ev->names.symbol, sizeof(nm.symbol));
	field(nm.strategy, ev->names.strategy, sizeof(nm.strategy));
	e = table_get(&a->keys, ev->kind, nm.metric, nm.symbol, nm.strategy,
		      a->keys.n < a->opts.max_keys);
	if (e && !e->rollup)
		e->rollup = table_get(&a->rollups, ev->kind, nm.metric, NULL, NULL, true);
	if (e && e->rollup) {
		m->e = e;
		m->kind = ev->kind;
		m->names = ev->names;
	}
	return e;
}

static bool memo_hit(const struct memo *m, const struct perfbpf_event *ev)
{
	return m->e && m->kind == ev->kind && memcmp(&m->names, &ev->names, sizeof(m->names)) == 0;
}

/* The entry of an event's names, NULL if new and over max_keys (or without memory). */
static struct entry *entry_of(struct agg *a, const struct perfbpf_event *ev)
{
	struct memo *m = memo_pair(a, ev);

	if (memo_hit(&m[0], ev))
		return m[0].e;
	if (memo_hit(&m[1], ev))
		return m[1].e;
	/* the newcomer takes the first slot; its occupant moves to the second */
	m[1] = m[0];
	return lookup(a, ev, &m[0]);
}

int agg__add(struct agg *a, const struct perfbpf_event *ev)
{
	struct entry *e;
	int err;

	a->changed = true;
	if ((ev->flags & PERFBPF_F_NAMES_ID) && ev->names_id) {
		struct idmemo *im = &a->idmemo[ev->names_id & (IDMEMO_SLOTS - 1)];

		if (im->id == ev->names_id && im->kind == ev->kind) {
			e = im->e;
		} else {
			e = entry_of(a, ev);
			if (e)
				*im = (struct idmemo){ .id = ev->names_id, .kind = ev->kind, .e = e };
		}
	} else {
		e = entry_of(a, ev);
	}
	if (!e) {
		if (a->keys.n < a->opts.max_keys)
			return -ENOMEM;
		a->over_limit++;
		return 0;
	}
	if (!e->rollup)
		return -ENOMEM;
	err = entry_add(a, e, ev);
	if (err)
		return err;
	wait_add(e->rollup, ev->end_ns, a->run);
	a->events++;
	return 0;
}

int agg__add_op(struct agg *a, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	const struct idmemo *im = &a->idmemo[names_id & (IDMEMO_SLOTS - 1)];
	struct entry *e = im->e;
	int err;

	if (!names_id || im->id != names_id || im->kind != PERFBPF_EV_OP)
		return -ENOENT;
	a->changed = true;
	if (!e->rollup)
		return -ENOMEM;
	/* entry_add for an op without flags: its self time is its duration */
	err = event_add(a, e, end_ns, duration_ns, duration_ns);
	if (err)
		return err;
	wait_add(e->rollup, end_ns, a->run);
	a->events++;
	return 0;
}

static void fill_row(struct stat_row *r, const struct entry *e, const struct dist_stats *st)
{
	memset(r, 0, sizeof(*r));
	r->metric = e->metric;
	r->symbol = e->symbol;
	r->strategy = e->strategy;
	r->kind = e->kind;
	r->count = st->count;
	r->total_ns = st->sum;
	r->self_total_ns = e->self_total;
	r->mean_ns = st->mean;
	r->min_ns = st->min;
	r->max_ns = st->max;
	r->stddev_ns = st->stddev;
	r->p50_ns = st->p50;
	r->p95_ns = st->p95;
	r->p99_ns = st->p99;
	r->approximate = st->approximate;
	r->wait_count = e->wait_count;
	r->wait_mean_ns = e->wait_count ? (double)e->wait_sum / (double)e->wait_count : 0;
	r->wait_min_ns = e->wait_count ? e->wait_min : 0;
	r->wait_max_ns = e->wait_max;
	r->flags = e->flags;
	if (e->attr) {
		r->attributed = true;
		r->voluntary_switches = e->attr->nvcsw;
		r->involuntary_switches = e->attr->nivcsw;
		r->migrations = e->attr->migrations;
	}
}

static void fill_attr(struct attr_stats *out, const struct dist_stats *st)
{
	out->total_ns = st->sum;
	out->mean_ns = st->mean;
	out->p50_ns = st->p50;
	out->p99_ns = st->p99;
	out->approximate = st->approximate;
}

/* Attribution statistics of a key (members NULL) or of a roll-up over its members. */
static int attr_row(struct stat_row *r, struct entry *e)
{
	struct dist_stats st;
	int err;

	if (!e->attr)
		return 0;
	for (int c = 0; c < ATTR__N; c++) {
		if (e->attr->members[c])
			err = dist__merged_stats(e->attr->members[c], e->attr->nfill, &st);
		else
			err = (dist__stats(&e->attr->comp[c], &st), 0);
		if (err)
			return err;
		fill_attr(&r->attr[c], &st);
	}
	return 0;
}

/* opts.histograms: the row's histogram, from the key's own samples or (roll-up) its members'. */
static int bins_row(struct agg *a, struct stat_row *r, struct entry *e)
{
	size_t n;

	if (!a->opts.histograms)
		return 0;
	if (!a->scratch && !(a->scratch = hist__new()))
		return -ENOMEM;
	if (!a->scratch_bins && !(a->scratch_bins = malloc(HIST_BUCKETS * sizeof(struct hist_bin))))
		return -ENOMEM;
	hist__clear(a->scratch);
	if (e->members)
		for (size_t i = 0; i < e->nmembers; i++)
			dist__add_to_hist(e->members[i], a->scratch);
	else
		dist__add_to_hist(&e->dist, a->scratch);
	n = hist__bins(a->scratch, a->scratch_bins);
	free(e->bins);
	e->bins = malloc((n ? n : 1) * sizeof(*e->bins));
	if (!e->bins)
		return -ENOMEM;
	memcpy(e->bins, a->scratch_bins, n * sizeof(*e->bins));
	r->bins = e->bins;
	r->nbins = n;
	return 0;
}

static int cmp_rows(const void *x, const void *y)
{
	const struct stat_row *a = x, *b = y;
	int c;

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	c = strcmp(a->metric, b->metric);
	if (c)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->symbol ? a->symbol : "", b->symbol ? b->symbol : "");
	return c ? c : strcmp(a->strategy ? a->strategy : "", b->strategy ? b->strategy : "");
}

int agg__summarize(struct agg *a, struct summary *s)
{
	struct dist_stats st;
	size_t nk = 0, nr = 0;
	int err;

	if (!a->changed && a->rows) /* nothing added since: the same rows (a run's and the report's) */
		goto out;
	free(a->rows);
	free(a->metrics);
	a->rows = calloc(a->keys.n ? a->keys.n : 1, sizeof(*a->rows));
	a->metrics = calloc(a->rollups.n ? a->rollups.n : 1, sizeof(*a->metrics));
	if (!a->rows || !a->metrics)
		return -ENOMEM;

	for (size_t i = 0; i < a->rollups.cap; i++) {
		struct entry *r = a->rollups.slots[i];

		if (!r)
			continue;
		r->nmembers = r->member_fill = 0;
		r->self_total = 0;
		r->flags = 0;
		if (r->attr)
			r->attr->nvcsw = r->attr->nivcsw = r->attr->migrations = 0;
	}
	for (size_t i = 0; i < a->keys.cap; i++) {
		struct entry *e = a->keys.slots[i];

		if (!e)
			continue;
		e->rollup->nmembers++;
		e->rollup->self_total += e->self_total;
		e->rollup->flags |= e->flags;
		if (e->attr && !e->rollup->attr) {
			err = attr_new(e->rollup);
			if (err)
				return err;
		}
		if (e->attr) {
			e->rollup->attr->nvcsw += e->attr->nvcsw;
			e->rollup->attr->nivcsw += e->attr->nivcsw;
			e->rollup->attr->migrations += e->attr->migrations;
		}
	}
	for (size_t i = 0; i < a->rollups.cap; i++) {
		struct entry *r = a->rollups.slots[i];

		if (!r)
			continue;
		free(r->members);
		r->members = calloc(r->nmembers ? r->nmembers : 1, sizeof(*r->members));
		if (!r->members)
			return -ENOMEM;
		if (r->attr)
			r->attr->nfill = 0;
		for (int c = 0; r->attr && c < ATTR__N; c++) {
			free(r->attr->members[c]);
			r->attr->members[c] = calloc(r->nmembers ? r->nmembers : 1,
						     sizeof(*r->attr->members[c]));
			if (!r->attr->members[c])
				return -ENOMEM;
		}
	}
	for (size_t i = 0; i < a->keys.cap; i++) {
		struct entry *e = a->keys.slots[i];

		if (!e)
			continue;
		/* a roll-up's attribution merges its member keys' */
		if (e->attr && e->rollup->attr) {
			struct attribution *ra = e->rollup->attr;

			for (int c = 0; c < ATTR__N; c++)
				ra->members[c][ra->nfill] = &e->attr->comp[c];
			ra->nfill++;
		}
		e->rollup->members[e->rollup->member_fill++] = &e->dist;
		dist__stats_style(&e->dist, a->opts.style, &st);
		fill_row(&a->rows[nk], e, &st);
		err = attr_row(&a->rows[nk], e) ?: bins_row(a, &a->rows[nk], e);
		nk++;
		if (err)
			return err;
	}
	for (size_t i = 0; i < a->rollups.cap; i++) {
		struct entry *r = a->rollups.slots[i];

		if (!r)
			continue;
		err = dist__merged_stats_style(r->members, r->nmembers, a->opts.style, &st);
		if (err)
			return err;
		fill_row(&a->metrics[nr], r, &st);
		err = attr_row(&a->metrics[nr], r) ?: bins_row(a, &a->metrics[nr], r);
		nr++;
		if (err)
			return err;
	}
	qsort(a->rows, nk, sizeof(*a->rows), cmp_rows);
	qsort(a->metrics, nr, sizeof(*a->metrics), cmp_rows);
	a->nrows = nk;
	a->nmetrics = nr;
	a->changed = false;
out:
	s->rows = a->rows;
	s->nrows = a->nrows;
	s->metrics = a->metrics;
	s->nmetrics = a->nmetrics;
	s->events = a->events;
	s->keys_over_limit = a->over_limit;
	s->sample_budget_bytes = a->opts.sample_budget;
	s->stats_backtest_kit = a->opts.style == DIST_BACKTEST_KIT;
	s->hist_rel_error = HIST_REL_ERROR;
	return 0;
}
