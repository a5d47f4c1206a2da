// SPDX-License-Identifier: BSD-2-Clause
/* The monitor's series aggregated in userspace (see kseries_agg.h). */
#include "user/aggregate/kseries_agg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/kernel_hist.h"

struct kentry {
	struct kseries s;
	uint64_t hash;
	uint64_t last_end; /* the key's previous event, for its wait time; 0: none yet */
};

/* The series of ops by their names_id (PERFBPF_F_NAMES_ID: one set of names for the session),
 * direct-mapped, for kseries_agg__add_op. */
#define KMEMO_SLOTS 4096u

struct kmemo {
	uint32_t id; /* 0: empty */
	struct kentry *e;
};

struct kseries_agg {
	bool per_pid;
	size_t max_keys;
	struct kentry **v; /* the series, in order of creation */
	struct kseries **view; /* view[i] = &v[i]->s */
	size_t n, cap;
	uint32_t *slots;   /* open addressing: index + 1 into v, 0 empty */
	size_t nslots;
	uint64_t over_limit;
	struct kmemo memo[KMEMO_SLOTS];
};

struct kseries_agg *kseries_agg__new(bool per_pid, size_t max_keys)
{
	struct kseries_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->per_pid = per_pid;
	a->max_keys = max_keys;
	return a;
}

static void kentry_free(struct kentry *e)
{
	kseries__release(&e->s);
	free(e);
}

void kseries_agg__free(struct kseries_agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		kentry_free(a->v[i]);
	free(a->v);
	free(a->view);
	free(a->slots);
	free(a);
}

/* A NUL-terminated copy of a fixed-size field, whatever the event carried. */
static void field(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n - 1] = '\0';
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= 0xff; /* separator: ("ab","c") and ("a","bc") differ */
	return h * 0x100000001b3ull;
}

/* A series' key (struct kseries without its counts, built for every event). */
struct kkey {
	uint32_t kind, pid;
	char metric[PERFBPF_METRIC_LEN];
	char symbol[PERFBPF_SYMBOL_LEN];
	char strategy[PERFBPF_STRATEGY_LEN];
};

static uint64_t key_hash(const struct kkey *k)
{
	uint64_t h = 0xcbf29ce484222325ull ^ k->kind ^ ((uint64_t)k->pid << 32);

	return fnv1a(fnv1a(fnv1a(h, k->metric), k->symbol), k->strategy);
}

static bool same_key(const struct kseries *a, const struct kkey *b)
{
	return a->kind == b->kind && a->pid == b->pid && !strcmp(a->metric, b->metric) &&
	       !strcmp(a->symbol, b->symbol) && !strcmp(a->strategy, b->strategy);
}

/* The slot of key k (hash h): its entry's, or the empty one where it would go. */
static uint32_t *slot_of(const struct kseries_agg *a, const struct kkey *k, uint64_t h)
{
	size_t mask = a->nslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t *s = &a->slots[i];

		if (!*s || (a->v[*s - 1]->hash == h && same_key(&a->v[*s - 1]->s, k)))
			return s;
	}
}

/* Rebuilds the slots for at least `want` entries (after growth or a drop). */
static int rehash(struct kseries_agg *a, size_t want)
{
	size_t n = 64;
	uint32_t *s;

	while (n < want * 2)
		n *= 2;
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	free(a->slots);
	a->slots = s;
	a->nslots = n;
	for (size_t i = 0; i < a->n; i++) {
		size_t mask = n - 1, j = a->v[i]->hash & mask;

		while (s[j]) /* every key is distinct: the first empty slot of its probe */
			j = (j + 1) & mask;
		s[j] = (uint32_t)(i + 1);
	}
	return 0;
}

/* An event lasting d and ending at now (self time self): 0, or -ENOMEM (a bucket could not be
 * stored; the monitor stops on it). */
static int add_to(struct kentry *e, uint64_t d, uint64_t now, uint64_t self)
{
	struct kseries *s = &e->s;
	uint64_t w = 0;
	bool waited = e->last_end != 0;

	/* wait = gap since the key's previous event; events reordered across threads count 0 */
	if (waited)
		w = now > e->last_end ? now - e->last_end : 0;
	if (khist__add(&s->dur, khist_bucket(d), 1) ||
	    (waited && khist__add(&s->wait, khist_bucket(w), 1)))
		return -ENOMEM;
	if (s->count == 0 || d < s->min_ns)
		s->min_ns = d;
	if (d > s->max_ns)
		s->max_ns = d;
	s->count++;
	s->sum_ns += d;
	s->self_sum_ns += self;
	if (waited) {
		if (s->wait_count == 0 || w < s->wait_min_ns)
			s->wait_min_ns = w;
		if (w > s->wait_max_ns)
			s->wait_max_ns = w;
		s->wait_count++;
		s->wait_sum_ns += w;
	}
	if (now > e->last_end)
		e->last_end = now;
	return 0;
}

/* The entry ev counts in (found or made), NULL over max_keys (counted) or with *err set. */
static struct kentry *entry_of(struct kseries_agg *a, const struct perfbpf_event *ev, int *err)
{
	struct kkey k = { .kind = ev->kind, .pid = a->per_pid ? ev->pid : 0 };
	struct kentry *e;
	uint32_t *slot;
	uint64_t h;

	field(k.metric, ev->names.metric, sizeof(k.metric));
	field(k.symbol, ev->names.symbol, sizeof(k.symbol));
	field(k.strategy, ev->names.strategy, sizeof(k.strategy));
	*err = -ENOMEM;
	h = key_hash(&k);
	if (!a->nslots && rehash(a, a->n + 1))
		return NULL;
	slot = slot_of(a, &k, h);
	*err = 0;
	if (*slot)
		return a->v[*slot - 1];
	if (a->n >= a->max_keys) {
		a->over_limit++;
		return NULL;
	}
	*err = -ENOMEM;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct kentry **v = realloc(a->v, cap * sizeof(*v));
		struct kseries **view;

		if (!v)
			return NULL;
		a->v = v;
		view = realloc(a->view, cap * sizeof(*view));
		if (!view)
			return NULL;
		a->view = view;
		a->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->s.kind = k.kind;
	e->s.pid = k.pid;
	memcpy(e->s.metric, k.metric, sizeof(k.metric));
	memcpy(e->s.symbol, k.symbol, sizeof(k.symbol));
	memcpy(e->s.strategy, k.strategy, sizeof(k.strategy));
	e->hash = h;
	a->view[a->n] = &e->s;
	a->v[a->n++] = e;
	if (a->n * 2 > a->nslots) {
		if (rehash(a, a->n)) {
			free(a->v[--a->n]);
			return NULL;
		}
	} else {
		*slot = (uint32_t)a->n;
	}
	*err = 0;
	return e;
}

int kseries_agg__add(struct kseries_agg *a, const struct perfbpf_event *ev)
{
	int err;
	struct kentry *e = entry_of(a, ev, &err);

	if (!e)
		return err;
	/* an op's names by their number, for kseries_agg__add_op */
	if (ev->kind == PERFBPF_EV_OP && (ev->flags & PERFBPF_F_NAMES_ID) && ev->names_id)
		a->memo[ev->names_id % KMEMO_SLOTS] = (struct kmemo){ .id = ev->names_id, .e = e };
	return add_to(e, ev->duration_ns, ev->end_ns, ev->self_ns);
}

int kseries_agg__add_op(struct kseries_agg *a, uint32_t names_id, uint64_t end_ns,
			uint64_t duration_ns)
{
	const struct kmemo *m = &a->memo[names_id % KMEMO_SLOTS];

	if (!names_id || m->id != names_id)
		return -ENOENT;
	return add_to(m->e, duration_ns, end_ns, duration_ns);
}

struct kseries *const *kseries_agg__series(const struct kseries_agg *a, size_t *n)
{
	*n = a->n;
	return a->view;
}

void kseries_agg__drop_pid(struct kseries_agg *a, uint32_t pid)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i]->s.pid == pid) {
			kentry_free(a->v[i]);
		} else {
			a->view[j] = a->view[i];
			a->v[j++] = a->v[i];
		}
	}
	if (j == a->n)
		return;
	memset(a->memo, 0, sizeof(a->memo)); /* it may name a freed entry */
	a->n = j;
	if (rehash(a, a->n + 1)) /* no memory for new slots: rebuilt at the next add */
		a->nslots = 0;
}

uint64_t kseries_agg__over_limit(const struct kseries_agg *a)
{
	return a->over_limit;
}
