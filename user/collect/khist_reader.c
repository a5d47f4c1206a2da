// SPDX-License-Identifier: BSD-2-Clause
/* Reads the monitor's in-kernel histograms into cumulative series (see kernel_agg.h). */
#include "user/collect/khist_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

struct kentry {
	struct kseries s;
	struct perfbpf_mon_key key; /* as the kernel holds it, for deletion */
	uint32_t id;
	uint32_t *last; /* per CPU: the dur and wait bucket counts last seen */
};

struct khist_reader {
	int keys_fd, hists_fd, ncpus;
	size_t stride; /* bytes per CPU in a per-CPU lookup */
	void *buf;     /* ncpus * stride */
	struct kentry **v;
	struct kseries **view;
	size_t n, cap;
};

#define LAST_PER_CPU (2 * KHIST_BUCKETS)

struct khist_reader *khist_reader__new(int keys_fd, int hists_fd, int ncpus)
{
	struct khist_reader *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->keys_fd = keys_fd;
	a->hists_fd = hists_fd;
	a->ncpus = ncpus;
	a->stride = (sizeof(struct perfbpf_mon_hist) + 7) & ~(size_t)7;
	a->buf = malloc(a->stride * (size_t)ncpus);
	if (!a->buf) {
		free(a);
		return NULL;
	}
	return a;
}

static void kentry_free(struct kentry *e)
{
	if (e) {
		kseries__release(&e->s);
		free(e->last);
		free(e);
	}
}

void khist_reader__free(struct khist_reader *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		kentry_free(a->v[i]);
	free(a->v);
	free(a->view);
	free(a->buf);
	free(a);
}

static struct kentry *find(struct khist_reader *a, uint32_t id)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i]->id == id)
			return a->v[i];
	return NULL;
}

static struct kentry *add(struct khist_reader *a, const struct perfbpf_mon_key *k,
			   const struct perfbpf_mon_keyval *kv)
{
	struct kentry *e;

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
	e->last = calloc((size_t)a->ncpus * LAST_PER_CPU, sizeof(*e->last));
	if (!e->last) {
		free(e);
		return NULL;
	}
	e->key = *k;
	e->id = kv->id;
	e->s.kind = k->kind;
	e->s.pid = k->pid;
	memcpy(e->s.metric, kv->names.metric, sizeof(e->s.metric));
	memcpy(e->s.symbol, kv->names.symbol, sizeof(e->s.symbol));
	memcpy(e->s.strategy, kv->names.strategy, sizeof(e->s.strategy));
	/* the kernel copies strings zero-padded, but never trust a terminator */
	e->s.metric[sizeof(e->s.metric) - 1] = '\0';
	e->s.symbol[sizeof(e->s.symbol) - 1] = '\0';
	e->s.strategy[sizeof(e->s.strategy) - 1] = '\0';
	a->v[a->n] = e;
	a->view[a->n] = &e->s;
	a->n++;
	return e;
}

/* Adds the growth of 32-bit per-CPU counters since they were last seen, modulo 2^32, to total
 * and *added: 0 or -ENOMEM. */
static int add_deltas(struct khist *total, const uint32_t *now, uint32_t *last, uint64_t *added)
{
	for (unsigned b = 0; b < KHIST_BUCKETS; b++) {
		uint32_t d = now[b] - last[b];

		if (d) {
			if (khist__add(total, b, d))
				return -ENOMEM;
			last[b] = now[b];
			*added += d;
		}
	}
	return 0;
}

static int update(struct khist_reader *a, struct kentry *e)
{
	struct kseries *s = &e->s;
	uint64_t sum = 0, self = 0, wsum = 0, min = ~0ull, wmin = ~0ull, max = 0, wmax = 0;

	for (int c = 0; c < a->ncpus; c++) {
		const struct perfbpf_mon_hist *h = (const void *)((char *)a->buf + a->stride * c);
		uint32_t *last = e->last + (size_t)c * LAST_PER_CPU;

		if (add_deltas(&s->dur, h->dur, last, &s->count) ||
		    add_deltas(&s->wait, h->wait, last + KHIST_BUCKETS, &s->wait_count))
			return -ENOMEM;
		sum += h->sum_ns;
		self += h->self_sum_ns;
		wsum += h->wait_sum_ns;
		if (h->min_inv && ~h->min_inv < min)
			min = ~h->min_inv;
		if (h->wait_min_inv && ~h->wait_min_inv < wmin)
			wmin = ~h->wait_min_inv;
		max = h->max_ns > max ? h->max_ns : max;
		wmax = h->wait_max_ns > wmax ? h->wait_max_ns : wmax;
	}
	/* sums and extremes are absolute per CPU: take them as they are now */
	s->sum_ns = sum;
	s->self_sum_ns = self;
	s->wait_sum_ns = wsum;
	s->min_ns = min == ~0ull ? 0 : min;
	s->wait_min_ns = wmin == ~0ull ? 0 : wmin;
	s->max_ns = max;
	s->wait_max_ns = wmax;
	return 0;
}

int khist_reader__refresh(struct khist_reader *a)
{
	/* Iteration starts from a key that cannot exist (kind 0): the kernel then returns the
	 * first key, as for a NULL key, which valgrind would call an unaddressable argument. */
	struct perfbpf_mon_key key = { 0 }, next;
	struct perfbpf_mon_keyval kv;

	while (bpf_map_get_next_key(a->keys_fd, &key, &next) == 0) {
		struct kentry *e;

		key = next;
		if (bpf_map_lookup_elem(a->keys_fd, &key, &kv))
			continue; /* deleted meanwhile */
		e = find(a, kv.id);
		if (!e && !(e = add(a, &key, &kv)))
			return -ENOMEM;
		/* zeroed first: valgrind takes only one CPU's share of a per-CPU lookup as written */
		memset(a->buf, 0, a->stride * (size_t)a->ncpus);
		/* the key is inserted before its histograms: none yet is no error */
		if (bpf_map_lookup_elem(a->hists_fd, &kv.id, a->buf))
			continue;
		if (update(a, e))
			return -ENOMEM;
	}
	return (int)a->n;
}

struct kseries *const *khist_reader__series(const struct khist_reader *a, size_t *n)
{
	*n = a->n;
	return a->view;
}

void khist_reader__drop_pid(struct khist_reader *a, uint32_t pid)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct kentry *e = a->v[i];

		if (e->s.pid != pid) {
			a->v[j] = e;
			a->view[j] = &e->s;
			j++;
			continue;
		}
		bpf_map_delete_elem(a->keys_fd, &e->key);
		bpf_map_delete_elem(a->hists_fd, &e->id);
		kentry_free(e);
	}
	a->n = j;
}
