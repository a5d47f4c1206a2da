// SPDX-License-Identifier: BSD-2-Clause
/* ABI v3 records to events (see batch_decoder.h). */
#include "user/collect/batch_decoder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/u64map.h"

/* The numbers of a key's names. */
struct key_ids {
	uint32_t names_id; /* perfbpf_event.names_id of its definition, 0: none */
	uint32_t op_id;    /* names_id if its ops may go to the op reader (names whole), else 0 */
};

/* One key table of one process: its definitions by id - 1. */
struct keytab {
	struct perfbpf_keydef *defs;
	struct key_ids *ids; /* of each def */
	uint32_t n; /* defs and ids allocated */
};

/* A thread's scheduler time so far, from its transitions (PERFBPF_EV_V3_SCHED), as the kernel's
 * struct acct keeps it for the per-event probes (bpf/attribution.bpf.h). */
enum { ACCT_RUNNING, ACCT_RUNNABLE, ACCT_BLOCKED };

struct acct {
	/* on-CPU time is the rest of a span; unsigned: stamps from the engine may be anything, and
	 * a difference of two of these sums is what is used */
	uint64_t runq_ns, blocked_ns;
	uint32_t nvcsw, nivcsw, migrations;
	uint32_t cpu;
	uint64_t since; /* when `state` began; 0: no transition seen yet (running) */
	int state;
};

struct frame {
	const struct keytab *tab; /* the span_begin's names: tab->defs[id - 1] (defs may move) */
	uint32_t id;
	uint64_t start_ns, span_id, child_ns;
	struct acct at_begin; /* the thread's acct at the begin */
};

/* An open span with an id (PERFBPF_REC_SPAN_OPEN), kept per process by its id. */
struct xspan {
	const struct keytab *tab;
	uint32_t id;  /* its key */
	uint32_t tid; /* the thread it began on */
	uint32_t depth;
	uint64_t start_ns, child_ns, parent, trace;
	struct acct at_begin;
};

/* A record of the collection under way, until its end orders it with the others. */
struct pending {
	uint64_t ns, value, seq;
	uint64_t stamp;           /* as the engine wrote it (TSC ticks, or ns): finer than ns */
	union {
		const struct keytab *tab; /* NULL: undefined */
		uint64_t bytes_ts;        /* PERFBPF_REC_BYTES: its ts field, 8 bytes of a string */
	};
	uint64_t src;             /* the buffer it came in: its key table's address */
	uint32_t key, kind;
	uint16_t si;              /* order_pending: the index of src */
	uint16_t tsc;             /* stamp is in TSC ticks */
};

/* A thread's open spans, as the kernel's span stack keeps them (bpf/spans.bpf.h). */
struct thread {
	uint32_t pid;
	struct pending *pend; /* the current collection's records */
	size_t npend, cap;
	uint32_t depth, overflow;
	bool ops_wait; /* this collection's ops wait for its end (one was not taken at arrival) */
	uint64_t seq, trace_id;
	uint64_t selected;         /* PERFBPF_REC_SPAN_SELECT: the span later notes annotate */
	uint64_t next_parent;      /* a PERFBPF_REC_SPAN_PARENT for the SPAN_OPEN that follows */
	uint32_t next_parent_key;  /* its key (0: none pending) */
	struct acct acct;
	struct frame frames[PERFBPF_SPAN_DEPTH];
};

struct batch_decoder {
	batch_event_fn on_event;
	batch_note_fn on_note; /* NULL: notes are decoded and dropped (none was asked for) */
	batch_op_fn on_op;     /* NULL: every op is an event */
	void *note_ctx;
	void *ctx;
	uint64_t start_ns;
	const struct tsc_clock *clock;
	uint32_t names_seq; /* the latest perfbpf_event.names_id given */
	struct tsc_cursor clock_at; /* the clock's segment of the latest stamp converted */
	bool attribution;
	struct u64map procs;   /* pid -> struct u64map of keytab address -> struct keytab */
	struct u64map threads; /* tid -> struct thread */
	struct u64map xprocs;  /* pid -> struct u64map of span id -> struct xspan */
	struct batch_counts counts;
	struct pending *scratch; /* order_pending */
	size_t scratch_cap;
};

struct batch_decoder *batch_decoder__new(batch_event_fn on_event, void *ctx, uint64_t start_ns,
					 const struct tsc_clock *clock, bool attribution)
{
	struct batch_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->on_event = on_event;
	d->ctx = ctx;
	d->start_ns = start_ns;
	d->clock = clock;
	d->attribution = attribution;
	return d;
}

static void free_procs(struct u64map *procs)
{
	for (size_t i = 0; i < procs->cap; i++) {
		struct u64map *tabs = procs->v[i].val;

		if (!procs->v[i].key)
			continue;
		for (size_t j = 0; j < tabs->cap; j++) {
			struct keytab *t = tabs->v[j].val;

			if (tabs->v[j].key) {
				free(t->defs);
				free(t->ids);
				free(t);
			}
		}
		u64map__free(tabs);
		free(tabs);
	}
	u64map__free(procs);
}

/* One process's open spans with ids (xspans_of), the map too. */
static void free_xspans(struct u64map *spans)
{
	for (size_t j = 0; j < spans->cap; j++)
		if (spans->v[j].key)
			free(spans->v[j].val);
	u64map__free(spans);
	free(spans);
}

static void free_xprocs(struct u64map *xprocs)
{
	for (size_t i = 0; i < xprocs->cap; i++)
		if (xprocs->v[i].key)
			free_xspans(xprocs->v[i].val);
	u64map__free(xprocs);
}

void batch_decoder__free(struct batch_decoder *d)
{
	if (!d)
		return;
	free_procs(&d->procs);
	free_xprocs(&d->xprocs);
	for (size_t i = 0; i < d->threads.cap; i++)
		if (d->threads.v[i].key) {
			free(((struct thread *)d->threads.v[i].val)->pend);
			free(d->threads.v[i].val);
		}
	u64map__free(&d->threads);
	free(d->scratch);
	free(d);
}

void batch_decoder__set_note_fn(struct batch_decoder *d, batch_note_fn on_note, void *ctx)
{
	d->on_note = on_note;
	d->note_ctx = ctx;
}

void batch_decoder__set_op_fn(struct batch_decoder *d, batch_op_fn on_op)
{
	d->on_op = on_op;
}

const struct batch_counts *batch_decoder__counts(const struct batch_decoder *d)
{
	return &d->counts;
}

/* The key table at `addr` of process pid, made if `create`. */
static struct keytab *keytab_of(struct batch_decoder *d, uint32_t pid, uint64_t addr, bool create)
{
	struct u64map *tabs = u64map__get(&d->procs, (uint64_t)pid + 1);
	struct keytab *t;

	if (!tabs) {
		if (!create || !(tabs = calloc(1, sizeof(*tabs))))
			return NULL;
		if (u64map__put(&d->procs, (uint64_t)pid + 1, tabs)) {
			free(tabs);
			return NULL;
		}
	}
	t = u64map__get(tabs, addr);
	if (!t && create && tabs->n >= PERFBPF_KEYTABS_MAX)
		return NULL; /* an engine naming more tables than it can have objects */
	if (!t && create && addr && (t = calloc(1, sizeof(*t))) && u64map__put(tabs, addr, t)) {
		free(t);
		t = NULL;
	}
	return t;
}

/* The definition of key in table t; NULL where there is none (no table, key 0 or past the table,
 * or not defined yet). */
static const struct perfbpf_keydef *key_def(const struct keytab *t, uint32_t key)
{
	if (!t || key == 0 || key > t->n || !(t->defs[key - 1].ready & 1))
		return NULL;
	return &t->defs[key - 1];
}

/* The event flags of a definition's names: PERFBPF_F_FAULT (a string could not be read),
 * PERFBPF_F_TRUNCATED (one was cut to its field). */
static uint32_t keydef_flags(const struct perfbpf_keydef *k)
{
	uint32_t fl = k->ready >> 1;

	return (fl & PERFBPF_KEYDEF_FAULT ? PERFBPF_F_FAULT : 0) |
	       (fl & PERFBPF_KEYDEF_TRUNCATED ? PERFBPF_F_TRUNCATED : 0);
}

static int keydef(struct batch_decoder *d, const struct perfbpf_v3_keydef *r)
{
	const struct perfbpf_keydef *def = &r->def;
	struct keytab *t;
	uint32_t id = def->id;

	if (id == 0 || id > PERFBPF_KEYS_MAX || !(def->ready & 1) || !r->keytab) {
		d->counts.malformed++;
		return 0;
	}
	t = keytab_of(d, r->pid, r->keytab, true);
	if (!t) {
		d->counts.malformed++; /* too many tables (or no memory): its records are undefined */
		return 0;
	}
	if (id > t->n) {
		uint32_t n = t->n ? t->n : 64;
		struct perfbpf_keydef *v;
		struct key_ids *ids;

		while (n < id)
			n *= 2;
		v = realloc(t->defs, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + t->n, 0, (n - t->n) * sizeof(*v));
		t->defs = v;
		ids = realloc(t->ids, n * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		memset(ids + t->n, 0, (n - t->n) * sizeof(*ids));
		t->ids = ids;
		t->n = n;
	}
	t->defs[id - 1] = *def;
	/* a new number for every definition, a key defined again included: one number, one set of
	 * names (after 2^32 - 1 definitions, none) */
	t->ids[id - 1].names_id = d->names_seq < UINT32_MAX ? ++d->names_seq : 0;
	t->ids[id - 1].op_id = keydef_flags(def) ? 0 : t->ids[id - 1].names_id;
	/* the names as the engine wrote them, terminated within their fields whatever it wrote */
	t->defs[id - 1].metric[sizeof(def->metric) - 1] = '\0';
	t->defs[id - 1].symbol[sizeof(def->symbol) - 1] = '\0';
	t->defs[id - 1].strategy[sizeof(def->strategy) - 1] = '\0';
	return 0;
}

static struct thread *thread_of(struct batch_decoder *d, uint32_t tid)
{
	struct thread *th = u64map__get(&d->threads, (uint64_t)tid + 1);

	if (!th && (th = calloc(1, sizeof(*th))) && u64map__put(&d->threads, (uint64_t)tid + 1, th)) {
		free(th);
		th = NULL;
	}
	return th;
}

/* An event's fields but its names (event_names), every one written: no zeroing of the whole
 * event, whose names are most of it (a `rep stos` of 272 bytes per event was a sixth of the
 * consumer's time). */
static void event_init(struct perfbpf_event *e, uint32_t kind, uint32_t pid, uint32_t tid,
		       uint64_t end_ns)
{
	e->kind = kind;
	e->flags = 0;
	e->pid = pid;
	e->tid = tid;
	e->end_ns = end_ns;
	e->duration_ns = e->self_ns = 0;
	e->span_id = e->parent_id = e->trace_id = 0;
	e->depth = 0;
	e->names_id = 0;
	memset(&e->attr, 0, sizeof(e->attr));
}

static void event_names(struct perfbpf_event *e, const struct keytab *t, uint32_t key,
			struct batch_counts *c)
{
	const struct perfbpf_keydef *k = &t->defs[key - 1];
	uint32_t fl = keydef_flags(k);

	e->names_id = t->ids[key - 1].names_id;
	if (e->names_id)
		e->flags |= PERFBPF_F_NAMES_ID;

	memcpy(e->names.metric, k->metric, sizeof(e->names.metric));
	memcpy(e->names.symbol, k->symbol, sizeof(e->names.symbol));
	memcpy(e->names.strategy, k->strategy, sizeof(e->names.strategy));
	e->flags |= fl;
	/* a string cut by an unreadable page counts once, as unreadable (as read_str) */
	if (fl & PERFBPF_F_FAULT)
		c->str_fault++;
	else if (fl & PERFBPF_F_TRUNCATED)
		c->str_truncated++;
}

/* The thread's acct as it stands at ns (on or after its latest transition, give or take the
 * clocks' agreement: a stamp a little before the transition counts negative time in the state
 * the transition began, so that differences still add up). */
static struct acct acct_at(const struct acct *a, uint64_t ns)
{
	struct acct r = *a;
	uint64_t d = a->since ? ns - a->since : 0;

	if (a->state == ACCT_RUNNABLE)
		r.runq_ns += d;
	else if (a->state == ACCT_BLOCKED)
		r.blocked_ns += d;
	return r;
}

/* A span's attribution: the acct's change from its begin to its end, on-CPU the rest of its
 * duration, so that the three always sum to it. */
static void span_attribution(struct perfbpf_attribution *at, const struct acct *b,
			     const struct acct *e, uint64_t dur)
{
	int64_t rq = (int64_t)(e->runq_ns - b->runq_ns), bl = (int64_t)(e->blocked_ns - b->blocked_ns);

	rq = rq < 0 ? 0 : rq > (int64_t)dur ? (int64_t)dur : rq;
	bl = bl < 0 ? 0 : bl > (int64_t)dur - rq ? (int64_t)dur - rq : bl;
	at->runq_ns = (uint64_t)rq;
	at->blocked_ns = (uint64_t)bl;
	at->oncpu_ns = dur - at->runq_ns - at->blocked_ns;
	at->nvcsw = e->nvcsw - b->nvcsw;
	at->nivcsw = e->nivcsw - b->nivcsw;
	at->migrations = e->migrations - b->migrations;
	at->pad = 0;
}

static int span_begin(struct batch_decoder *d, struct thread *th, uint32_t tid,
		      const struct keytab *t, uint32_t id, uint64_t ns)
{
	struct frame *f;

	if (th->depth >= PERFBPF_SPAN_DEPTH || th->overflow) {
		th->overflow++;
		d->counts.span_depth_overflow++;
		return 0;
	}
	f = &th->frames[th->depth];
	th->seq++;
	f->tab = t;
	f->id = id;
	f->start_ns = ns;
	f->span_id = ((uint64_t)tid << 32) | (th->seq & 0xffffffffull);
	f->child_ns = 0;
	f->at_begin = acct_at(&th->acct, ns);
	if (th->depth == 0)
		th->trace_id = f->span_id;
	th->depth++;
	return 0;
}

static int span_end(struct batch_decoder *d, struct thread *th, uint32_t pid, uint32_t tid,
		    const struct perfbpf_keydef *k, uint64_t ns)
{
	struct perfbpf_event e;
	struct frame *f;
	int top, i;

	if (th->depth == 0 && th->overflow == 0) {
		d->counts.span_unmatched_end++;
		return 0;
	}
	if (th->overflow) {
		th->overflow--;
		return 0;
	}
	top = (int)th->depth - 1;
	for (i = top; i >= 0; i--)
		if (strcmp(th->frames[i].tab->defs[th->frames[i].id - 1].metric, k->metric) == 0)
			break;
	if (i < 0) {
		d->counts.span_mismatch++;
		return 0;
	}
	if (i != top) {
		d->counts.span_mismatch++;
		d->counts.span_abandoned += (uint64_t)(top - i);
	}
	f = &th->frames[i];
	th->depth = (uint32_t)i;
	event_init(&e, PERFBPF_EV_SPAN, pid, tid, ns);
	e.duration_ns = ns > f->start_ns ? ns - f->start_ns : 0;
	e.self_ns = e.duration_ns > f->child_ns ? e.duration_ns - f->child_ns : 0;
	e.span_id = f->span_id;
	e.parent_id = i > 0 ? th->frames[i - 1].span_id : 0;
	e.trace_id = th->trace_id;
	e.depth = (uint32_t)i;
	if (i > 0)
		th->frames[i - 1].child_ns += e.duration_ns;
	if (d->attribution) {
		struct acct now = acct_at(&th->acct, ns);

		span_attribution(&e.attr, &f->at_begin, &now, e.duration_ns);
		e.flags |= PERFBPF_F_ATTRIBUTED;
	}
	event_names(&e, f->tab, f->id, &d->counts);
	d->counts.events++;
	return d->on_event(d->ctx, &e);
}

/* The open spans with ids of process pid, made if `create`. */
static struct u64map *xspans_of(struct batch_decoder *d, uint32_t pid, bool create)
{
	struct u64map *m = u64map__get(&d->xprocs, (uint64_t)pid + 1);

	if (!m && create && (m = calloc(1, sizeof(*m))) &&
	    u64map__put(&d->xprocs, (uint64_t)pid + 1, m)) {
		free(m);
		m = NULL;
	}
	return m;
}

static int span_open(struct batch_decoder *d, struct thread *th, uint32_t tid,
		     const struct keytab *t, uint32_t key, uint64_t id, uint64_t ns)
{
	struct u64map *m = xspans_of(d, th->pid, true);
	uint64_t parent = th->next_parent_key == key ? th->next_parent : 0;
	struct xspan *x, *px;

	th->next_parent_key = 0;
	if (!m)
		return -ENOMEM;
	if (id == 0) {
		d->counts.malformed++;
		return 0;
	}
	x = u64map__get(m, id);
	if (x) {
		d->counts.span_abandoned++; /* the id of a span still open: that one never ends */
	} else {
		if (m->n >= PERFBPF_XSPANS_MAX) {
			d->counts.span_no_room++;
			return 0;
		}
		x = malloc(sizeof(*x));
		if (!x || u64map__put(m, id, x)) {
			free(x);
			return -ENOMEM;
		}
	}
	px = parent ? u64map__get(m, parent) : NULL;
	*x = (struct xspan){
		.tab = t, .id = key, .tid = tid, .start_ns = ns, .parent = parent,
		/* a parent that already ended: the child is still its child, at depth 1 */
		.trace = px ? px->trace : parent ? parent : id,
		.depth = px ? px->depth + 1 : parent ? 1 : 0,
		.at_begin = acct_at(&th->acct, ns),
	};
	return 0;
}

static int span_close(struct batch_decoder *d, struct thread *th, uint32_t tid, uint64_t id,
		      uint64_t ns)
{
	struct perfbpf_event e;
	struct u64map *m = xspans_of(d, th->pid, false);
	struct xspan *x = m && id ? u64map__del(m, id) : NULL, *px;
	int err;

	if (!x) {
		d->counts.span_unmatched_end++;
		return 0;
	}
	event_init(&e, PERFBPF_EV_SPAN, th->pid, tid, ns);
	e.flags = PERFBPF_F_SPAN_ID_EXPLICIT;
	e.duration_ns = ns > x->start_ns ? ns - x->start_ns : 0;
	e.self_ns = e.duration_ns > x->child_ns ? e.duration_ns - x->child_ns : 0;
	e.span_id = id;
	e.parent_id = x->parent;
	e.trace_id = x->trace;
	e.depth = x->depth;
	px = x->parent ? u64map__get(m, x->parent) : NULL;
	if (px)
		px->child_ns += e.duration_ns;
	if (d->attribution && x->tid == tid) {
		/* the thread's time while the span was open (other spans of it ran meanwhile) */
		struct acct now = acct_at(&th->acct, ns);

		span_attribution(&e.attr, &x->at_begin, &now, e.duration_ns);
		e.flags |= PERFBPF_F_ATTRIBUTED;
	}
	event_names(&e, x->tab, x->id, &d->counts);
	free(x);
	d->counts.events++;
	err = d->on_event(d->ctx, &e);
	return err;
}

static inline int op_since(struct batch_decoder *d, uint64_t ns, uint64_t stamp, bool tsc,
			   uint64_t v, uint64_t *dur);

/* Whether the records of this chunk (of key table t, not NULL) are all of the one key table its
 * process has: then no other buffer's records are merged with them, and ops may be handed on as
 * they arrive (a process gets a second table when a second object's keys are first defined,
 * before any record of that object). */
static bool single_table(struct batch_decoder *d, uint32_t pid)
{
	const struct u64map *tabs = u64map__get(&d->procs, (uint64_t)pid + 1);

	return tabs && tabs->n == 1;
}

/* Hands an op of a defined key to the op reader: true if taken (*err: the reader's error);
 * false if its names are not whole (flags) or the reader does not know them yet (-ENOENT). */
static bool op_to_reader(struct batch_decoder *d, const struct keytab *t, uint32_t key,
			 uint64_t ns, uint64_t dur, int *err)
{
	uint32_t id = t->ids[key - 1].op_id;
	int e;

	if (!id || (e = d->on_op(d->ctx, id, ns, dur)) == -ENOENT)
		return false;
	d->counts.events += !e;
	*err = e;
	return true;
}

/* An op handed to on_op as it arrives, ahead of the rest of its collection: only statistics read
 * it, and they do not depend on where it stands among spans and notes. False: it waits for the
 * collection's end (a key with flags; a stamp to be counted; a key not defined yet, which may be
 * by the end, or a reader that did not take it: then the collection's later ops wait too, so
 * that none of its key overtakes it). */
static inline bool op_at_arrival(struct batch_decoder *d, struct thread *th,
				 const struct keytab *t, const struct perfbpf_rec *r, bool tsc,
				 int *err)
{
	uint32_t key = r->key;
	uint64_t ns, dur = r->value;

	if (key - 1 >= t->n || !t->ids[key - 1].op_id) { /* key 0 included */
		if (!key_def(t, key))
			th->ops_wait = true;
		return false;
	}
	ns = tsc ? tsc_clock__ns_near(d->clock, r->ts, &d->clock_at) : r->ts;
	if (ns < d->start_ns ||
	    (r->kind == PERFBPF_REC_OP_SINCE && op_since(d, ns, r->ts, tsc, r->value, &dur)))
		return false;
	if (op_to_reader(d, t, key, ns, dur, err))
		return true;
	th->ops_wait = true;
	return false;
}

/* One chunk of a collection: its records wait in the thread's pending list (ops for statistics
 * alone may be handed on at once: op_at_arrival). */
static int batch(struct batch_decoder *d, const struct perfbpf_v3_batch *h, size_t size)
{
	const struct perfbpf_rec *rec = (const struct perfbpf_rec *)(h + 1);
	const struct keytab *t;
	struct thread *th;
	bool now, tsc;
	int err = 0;

	if (h->n == 0 || h->n > PERFBPF_V3_CHUNK ||
	    (size - sizeof(*h)) / sizeof(*rec) < h->n) {
		d->counts.malformed++;
		return 0;
	}
	t = keytab_of(d, h->pid, h->keytab, false);
	th = thread_of(d, h->tid);
	if (!th)
		return -ENOMEM;
	th->pid = h->pid;
	if (th->npend + h->n > th->cap) {
		size_t cap = th->cap ? th->cap : 1024;
		struct pending *v;

		while (cap < th->npend + h->n)
			cap *= 2;
		v = realloc(th->pend, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		th->pend = v;
		th->cap = cap;
	}
	now = d->on_op && t && single_table(d, h->pid);
	tsc = (h->flags & PERFBPF_TBUF_TSC) != 0;
	for (uint32_t i = 0; i < h->n; i++) {
		const struct perfbpf_rec *r = &rec[i];
		struct pending *p;

		if (now && (r->kind == PERFBPF_REC_OP || r->kind == PERFBPF_REC_OP_SINCE)) {
			if (op_at_arrival(d, th, t, r, tsc, &err)) {
				if (err)
					return err;
				continue;
			}
			now = !th->ops_wait;
		}
		p = &th->pend[th->npend];
		p->tsc = tsc;
		if (r->kind == PERFBPF_REC_BYTES) {
			/* a string's bytes: kept, and ordered with the record before them */
			p->ns = th->npend ? th->pend[th->npend - 1].ns : 0;
			p->stamp = th->npend ? th->pend[th->npend - 1].stamp : 0;
			p->bytes_ts = r->ts;
		} else {
			p->ns = p->tsc ? tsc_clock__ns_near(d->clock, r->ts, &d->clock_at) : r->ts;
			p->stamp = r->ts;
			p->tab = t;
		}
		p->value = r->value;
		p->seq = th->npend++;
		p->src = h->keytab;
		p->key = r->key;
		p->kind = r->kind;
	}
	return 0;
}

/* By stamp: the engine's own where both are TSC ticks (two records a tick apart may convert to
 * the same ns; the engine makes a thread's stamps increase across its objects), else ns. */
static int by_time(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	uint64_t tx = x->ns, ty = y->ns;

	if (x->tsc && y->tsc) {
		tx = x->stamp;
		ty = y->stamp;
	}
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

#define MERGE_SOURCES 16 /* buffers merged by stamp; more (a corrupt engine) are sorted */

/* Puts a collection's records in the order the thread wrote them. One buffer's records are in
 * that order already and are never reordered: the TSC is not serializing, and two stamps a few
 * instructions apart can come out reversed. The buffers of several objects are merged by stamp
 * (ties: the order they arrived in). */
static int order_pending(struct batch_decoder *d, struct thread *th)
{
	uint64_t src[MERGE_SOURCES];
	size_t start[MERGE_SOURCES], cur[MERGE_SOURCES], end[MERGE_SOURCES], k = 0, n = th->npend;

	for (size_t i = 0; i < n; i++) {
		struct pending *p = &th->pend[i];
		size_t j = 0;

		while (j < k && src[j] != p->src)
			j++;
		if (j == k) {
			if (k == MERGE_SOURCES) {
				qsort(th->pend, n, sizeof(*th->pend), by_time);
				return 0;
			}
			src[k++] = p->src;
		}
		p->si = (uint16_t)j;
	}
	if (k < 2)
		return 0;
	if (n > d->scratch_cap) {
		struct pending *v = realloc(d->scratch, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->scratch = v;
		d->scratch_cap = n;
	}
	/* each buffer's records, in arrival order, as one run of the scratch array */
	memset(end, 0, sizeof(end));
	for (size_t i = 0; i < n; i++)
		end[th->pend[i].si]++;
	for (size_t j = 0, at = 0; j < k; j++) {
		start[j] = cur[j] = at;
		at += end[j];
		end[j] = at;
	}
	for (size_t i = 0; i < n; i++)
		d->scratch[cur[th->pend[i].si]++] = th->pend[i];
	for (size_t j = 0; j < k; j++)
		cur[j] = start[j];
	/* the runs merged by stamp */
	for (size_t o = 0; o < n; o++) {
		size_t best = k;

		for (size_t j = 0; j < k; j++)
			if (cur[j] < end[j] &&
			    (best == k || by_time(&d->scratch[cur[j]], &d->scratch[cur[best]]) < 0))
				best = j;
		th->pend[o] = d->scratch[cur[best]++];
		/* a note's string bytes stay right after it */
		while (o + 1 < n && cur[best] < end[best] &&
		       d->scratch[cur[best]].kind == PERFBPF_REC_BYTES)
			th->pend[++o] = d->scratch[cur[best]++];
	}
	return 0;
}

/* A PERFBPF_REC_OP_SINCE's duration, from its start stamp v to its record's stamp (`stamp` as
 * the engine wrote it, TSC ticks if tsc; ns converted); -EINVAL for a start that is not a stamp
 * or is after the end. Both ends in TSC ticks of one segment of the clock's mapping: the ticks
 * between them at that segment's rate (one conversion, not two). */
static inline int op_since(struct batch_decoder *d, uint64_t ns, uint64_t stamp, bool tsc,
			   uint64_t v, uint64_t *dur)
{
	uint64_t start;

	if (v & ~(PERFBPF_STAMP_TSC | PERFBPF_STAMP_MASK))
		return -EINVAL;
	if (v & PERFBPF_STAMP_TSC) {
		uint64_t s = v & PERFBPF_STAMP_MASK;

		if (tsc && s <= stamp && tsc_cursor__covers_span(d->clock, &d->clock_at, s, stamp)) {
			*dur = tsc_clock__count((double)(int64_t)(stamp - s) *
						d->clock_at.ns_per_tick);
			return 0;
		}
		start = tsc_clock__ns_near(d->clock, s, &d->clock_at);
	} else {
		start = v;
	}
	if (start > ns)
		return -EINVAL;
	*dur = ns - start;
	return 0;
}

/* The string of the note at th->pend[i]: the PERFBPF_NOTE_LEN(value) bytes of the BYTES records
 * after it, into str (NUL-terminated); *used: how many there are. -EINVAL if the length is not
 * one a note may have or the records are not all there. */
static int note_string(const struct thread *th, size_t i, char *str, size_t *used)
{
	const struct pending *p = &th->pend[i];
	uint32_t len = PERFBPF_NOTE_LEN(p->value);
	size_t nb = (len + PERFBPF_NOTE_BYTES - 1) / PERFBPF_NOTE_BYTES, k;

	*used = 0;
	while (i + 1 + *used < th->npend && th->pend[i + 1 + *used].kind == PERFBPF_REC_BYTES)
		(*used)++;
	if ((p->value & ~(PERFBPF_NOTE_CUT | 0xffull)) || len > PERFBPF_NOTE_STR_MAX ||
	    *used != nb)
		return -EINVAL;
	for (k = 0; k < nb; k++) {
		const struct pending *b = &th->pend[i + 1 + k];
		unsigned char bytes[PERFBPF_NOTE_BYTES]; /* the last may hold less of the string */

		perfbpf_note_bytes_get(b->key, b->bytes_ts, b->value, bytes);
		memcpy(str + k * PERFBPF_NOTE_BYTES, bytes,
		       len - k * PERFBPF_NOTE_BYTES < PERFBPF_NOTE_BYTES ? len - k * PERFBPF_NOTE_BYTES
									 : PERFBPF_NOTE_BYTES);
	}
	str[len] = '\0';
	/* a NUL inside is the engine's: the string ends there */
	return 0;
}

/* A span note recorded in the buffer (PERFBPF_REC_ATTR_STR .. PERFBPF_REC_BYTES) at th->pend[i],
 * handed to on_note about the span it annotates there; *used: the records after it that were
 * its string. 0 or the callback's error; what does not hold together is counted. */
static int note_record(struct batch_decoder *d, struct thread *th, uint32_t tid, size_t i,
		       size_t *used)
{
	const struct pending *p = &th->pend[i];
	const struct perfbpf_keydef *k = NULL;
	struct perfbpf_note n;
	uint64_t span;

	*used = 0;
	if (p->kind == PERFBPF_REC_BYTES) { /* not after a note with a string */
		d->counts.malformed++;
		return 0;
	}
	if (p->kind == PERFBPF_REC_SPAN_SELECT) {
		th->selected = p->value;
		return 0;
	}
	memset(&n, 0, sizeof(n));
	if ((p->kind == PERFBPF_REC_ATTR_STR || p->kind == PERFBPF_REC_EVENT ||
	     p->kind == PERFBPF_REC_ERROR) &&
	    note_string(th, i, n.str, used)) {
		d->counts.malformed++;
		return 0;
	}
	if (p->kind != PERFBPF_REC_ERROR && !(k = key_def(p->tab, p->key))) {
		d->counts.undefined_key++;
		return 0;
	}
	if (p->ns < d->start_ns) {
		d->counts.before_start++;
		return 0;
	}
	span = th->selected ? th->selected
	       : th->depth && !th->overflow ? th->frames[th->depth - 1].span_id : 0;
	if (!span) {
		d->counts.note_no_span++;
		return 0;
	}
	n.pid = th->pid;
	n.tid = tid;
	n.ts_ns = p->ns;
	n.span_id = span;
	if (p->value & PERFBPF_NOTE_CUT)
		n.flags |= PERFBPF_F_TRUNCATED;
	if (k) {
		memcpy(n.name, k->metric, sizeof(n.name));
		n.flags |= keydef_flags(k);
	}
	switch (p->kind) {
	case PERFBPF_REC_ATTR_STR:
	case PERFBPF_REC_ATTR_INT:
	case PERFBPF_REC_ATTR_DOUBLE:
		n.kind = PERFBPF_EV_ATTR;
		n.value_type = p->kind == PERFBPF_REC_ATTR_STR ? PERFBPF_VAL_STR
			       : p->kind == PERFBPF_REC_ATTR_INT ? PERFBPF_VAL_INT
								 : PERFBPF_VAL_DOUBLE;
		if (p->kind != PERFBPF_REC_ATTR_STR)
			n.value = p->value;
		break;
	case PERFBPF_REC_EVENT:
		n.kind = PERFBPF_EV_EVENT;
		memcpy(n.akey, k->strategy, sizeof(n.akey));
		break;
	default:
		n.kind = PERFBPF_EV_ERROR;
	}
	return d->on_note ? d->on_note(d->note_ctx, &n) : 0;
}

/* The end of a collection of thread th: its records, in the order they were written. */
static int collection_end(struct batch_decoder *d, uint32_t tid, struct thread *th)
{
	int err = order_pending(d, th);

	if (err)
		return err;
	for (size_t i = 0; i < th->npend && !err; i++) {
		const struct pending *p = &th->pend[i];
		const struct keytab *t = p->tab;
		const struct perfbpf_keydef *k;

		if (p->kind >= PERFBPF_REC_ATTR_STR && p->kind <= PERFBPF_REC_BYTES) {
			size_t used;

			err = note_record(d, th, tid, i, &used);
			i += used;
			continue;
		}
		if (p->kind < PERFBPF_REC_OP || p->kind > PERFBPF_REC_SPAN_CLOSE) {
			d->counts.malformed++;
			continue;
		}
		if (!(k = key_def(t, p->key))) {
			d->counts.undefined_key++;
			continue;
		}
		if (p->ns < d->start_ns) {
			d->counts.before_start++;
			continue;
		}
		if (p->kind == PERFBPF_REC_OP || p->kind == PERFBPF_REC_OP_SINCE) {
			uint64_t dur = p->value;
			struct perfbpf_event e;

			if (p->kind == PERFBPF_REC_OP_SINCE &&
			    op_since(d, p->ns, p->stamp, p->tsc, p->value, &dur)) {
				d->counts.malformed++;
				continue;
			}
			if (d->on_op && op_to_reader(d, t, p->key, p->ns, dur, &err))
				continue;
			event_init(&e, PERFBPF_EV_OP, th->pid, tid, p->ns);
			e.duration_ns = e.self_ns = dur;
			if (th->depth && !th->overflow) { /* its enclosing span */
				e.parent_id = th->frames[th->depth - 1].span_id;
				e.trace_id = th->trace_id;
			}

			event_names(&e, t, p->key, &d->counts);
			d->counts.events++;
			err = d->on_event(d->ctx, &e);
		} else if (p->kind == PERFBPF_REC_SPAN_BEGIN) {
			err = span_begin(d, th, tid, t, p->key, p->ns);
		} else if (p->kind == PERFBPF_REC_SPAN_END) {
			err = span_end(d, th, th->pid, tid, k, p->ns);
		} else if (p->kind == PERFBPF_REC_SPAN_PARENT) {
			th->next_parent = p->value;
			th->next_parent_key = p->key;
		} else if (p->kind == PERFBPF_REC_SPAN_OPEN) {
			err = span_open(d, th, tid, t, p->key, p->value, p->ns);
		} else {
			err = span_close(d, th, tid, p->value, p->ns);
		}
	}
	th->npend = 0;
	th->ops_wait = false;
	return err;
}

int batch_decoder__note(struct batch_decoder *d, struct perfbpf_note *n)
{
	struct thread *th = u64map__get(&d->threads, (uint64_t)n->tid + 1);

	if (!th || th->depth == 0 || th->overflow) {
		d->counts.note_no_span++;
		return -ENOENT;
	}
	n->span_id = th->frames[th->depth - 1].span_id;
	return 0;
}

int batch_decoder__finish(struct batch_decoder *d)
{
	int err = 0;

	for (size_t i = 0; i < d->threads.cap && !err; i++)
		if (d->threads.v[i].key)
			err = collection_end(d, (uint32_t)(d->threads.v[i].key - 1),
					     d->threads.v[i].val);
	return err;
}

static int sched(struct batch_decoder *d, const struct perfbpf_v3_sched *r)
{
	struct thread *th = thread_of(d, r->tid);
	struct acct *a;

	if (!th)
		return -ENOMEM;
	a = &th->acct;
	*a = acct_at(a, r->ts_ns);
	switch (r->what) {
	case PERFBPF_V3_SCHED_PREEMPTED:
		a->state = ACCT_RUNNABLE;
		a->nivcsw++;
		break;
	case PERFBPF_V3_SCHED_BLOCKED:
		a->state = ACCT_BLOCKED;
		a->nvcsw++;
		break;
	case PERFBPF_V3_SCHED_WOKEN:
		if (a->state == ACCT_BLOCKED)
			a->state = ACCT_RUNNABLE;
		break;
	case PERFBPF_V3_SCHED_RUNNING:
		if (a->since && r->cpu != a->cpu)
			a->migrations++;
		a->state = ACCT_RUNNING;
		a->cpu = r->cpu;
		break;
	default:
		d->counts.malformed++;
		return 0;
	}
	a->since = r->ts_ns ? r->ts_ns : 1;
	return 0;
}

static int mark(struct batch_decoder *d, const struct perfbpf_v3_exit *x)
{
	struct thread *th = u64map__get(&d->threads, (uint64_t)x->tid + 1);
	int err = th ? collection_end(d, x->tid, th) : 0;

	if (x->kind == PERFBPF_EV_V3_EXIT && x->tid == x->pid) {
		/* the process ended (or exec'd): its spans with ids never will */
		struct u64map *m = u64map__del(&d->xprocs, (uint64_t)x->pid + 1);

		if (m) {
			d->counts.span_unfinished += m->n;
			free_xspans(m);
		}
	}
	if (th && x->kind == PERFBPF_EV_V3_EXIT) {
		d->counts.span_unfinished += th->depth + th->overflow;
		u64map__del(&d->threads, (uint64_t)x->tid + 1);
		free(th->pend);
		free(th);
	}
	return err;
}

int batch_decoder__record(struct batch_decoder *d, const void *data, size_t size)
{
	uint32_t kind;

	if (size < sizeof(kind))
		goto malformed;
	memcpy(&kind, data, sizeof(kind));
	switch (kind) {
	case PERFBPF_EV_V3_BATCH:
		if (size < sizeof(struct perfbpf_v3_batch))
			goto malformed;
		return batch(d, data, size);
	case PERFBPF_EV_V3_KEYDEF:
		if (size < sizeof(struct perfbpf_v3_keydef))
			goto malformed;
		return keydef(d, data);
	case PERFBPF_EV_V3_SCHED:
		if (size < sizeof(struct perfbpf_v3_sched))
			goto malformed;
		return sched(d, data);
	case PERFBPF_EV_V3_EXIT:
	case PERFBPF_EV_V3_END:
		if (size < sizeof(struct perfbpf_v3_exit))
			goto malformed;
		return mark(d, data);
	}
malformed:
	d->counts.malformed++;
	return 0;
}
