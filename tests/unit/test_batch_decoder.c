// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: probe ABI v3 records to events (user/collect/batch_decoder.c). Known answers for
 * ops, nested spans (parents, traces, self time), two buffers of one thread ordered by their
 * stamps, scheduler attribution that sums to each span, and every record that must be counted
 * instead of used. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "user/collect/batch_decoder.h"

#define PID 100
#define TID 101
#define TAB_A 0x1000
#define TAB_B 0x2000

struct got {
	struct perfbpf_event ev[64];
	size_t n;
	struct {
		uint32_t names_id;
		uint64_t end_ns, duration_ns;
	} op[64]; /* ops taken by take_op */
	size_t nop;
};

static int collect(void *ctx, const struct perfbpf_event *e)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	g->ev[g->n++] = *e;
	return 0;
}

static struct tsc_clock clk; /* the records carry CLOCK_MONOTONIC stamps; test_op_since's TSC start */
static uint32_t chunk_flags; /* of the chunks chunk_of sends (PERFBPF_TBUF_TSC: TSC stamps) */

static struct batch_decoder *new_decoder(struct got *g, bool attribution)
{
	struct batch_decoder *d;

	memset(g, 0, sizeof(*g));
	d = batch_decoder__new(collect, g, 1000, &clk, attribution);
	assert_non_null(d);
	return d;
}

static void def(struct batch_decoder *d, uint64_t tab, uint32_t id, const char *m, const char *s,
		const char *st, uint32_t flags)
{
	struct perfbpf_v3_keydef r = { .kind = PERFBPF_EV_V3_KEYDEF, .pid = PID, .tid = TID,
				       .keytab = tab };

	r.def.ready = 1 | flags << 1;
	r.def.id = id;
	strcpy(r.def.metric, m);
	strcpy(r.def.symbol, s);
	strcpy(r.def.strategy, st);
	assert_int_equal(batch_decoder__record(d, &r, sizeof(r)), 0);
}

/* One chunk of n records of thread tid's buffer `tab` (none for n 0), then (if end) the end of the
 * collection. */
static void chunk_of(struct batch_decoder *d, uint32_t tid, uint64_t tab,
		     const struct perfbpf_rec *recs, uint32_t n, bool end)
{
	size_t size = sizeof(struct perfbpf_v3_batch) + n * sizeof(*recs);
	struct perfbpf_v3_batch *h = calloc(1, size);
	struct perfbpf_v3_exit x = { .kind = PERFBPF_EV_V3_END, .pid = PID, .tid = tid };

	assert_non_null(h);
	*h = (struct perfbpf_v3_batch){ .kind = PERFBPF_EV_V3_BATCH, .pid = PID, .tid = tid,
					.keytab = tab, .batch = 1, .n = n, .flags = chunk_flags };
	if (n) {
		memcpy(h + 1, recs, n * sizeof(*recs));
		assert_int_equal(batch_decoder__record(d, h, size), 0);
	}
	free(h);
	if (end)
		assert_int_equal(batch_decoder__record(d, &x, sizeof(x)), 0);
}

static void chunk(struct batch_decoder *d, uint64_t tab, const struct perfbpf_rec *recs, uint32_t n,
		  bool end)
{
	chunk_of(d, TID, tab, recs, n, end);
}

#define OP(k, t, dur) { .key = (k), .kind = PERFBPF_REC_OP, .ts = (t), .value = (dur) }
#define BEGIN(k, t) { .key = (k), .kind = PERFBPF_REC_SPAN_BEGIN, .ts = (t) }
#define END(k, t) { .key = (k), .kind = PERFBPF_REC_SPAN_END, .ts = (t) }

static void test_ops(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = { OP(1, 5000, 40), OP(2, 6000, 7), OP(1, 7000, 41) };

	(void)state;
	def(d, TAB_A, 1, "tick", "AAPL", "mom", 0);
	def(d, TAB_A, 2, "tick", "MSFT", "mom", 0);
	chunk(d, TAB_A, r, 3, true);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[0].kind, PERFBPF_EV_OP);
	assert_string_equal(g.ev[0].names.symbol, "AAPL");
	assert_string_equal(g.ev[1].names.symbol, "MSFT");
	assert_int_equal(g.ev[1].duration_ns, 7);
	assert_int_equal(g.ev[1].self_ns, 7);
	assert_int_equal(g.ev[2].end_ns, 7000);
	assert_int_equal(g.ev[2].pid, PID);
	assert_int_equal(g.ev[2].tid, TID);
	assert_int_equal(batch_decoder__counts(d)->events, 3);
	batch_decoder__free(d);
}

/* Every event carries its key definition's names_id: one per definition, the same for every
 * event of it (ops, and spans by their begin's key), never given twice, and a new one when the
 * engine defines a key again (with other names, whatever they are). */
static void test_names_id(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = { OP(1, 5000, 40), OP(2, 6000, 7), BEGIN(1, 6500),
					 END(3, 6600), OP(1, 7000, 41), OP(1, 5000, 40) };

	(void)state;
	def(d, TAB_A, 1, "tick", "AAPL", "mom", 0);
	def(d, TAB_A, 2, "tick", "MSFT", "mom", 0);
	def(d, TAB_A, 3, "tick", "", "", 0);
	def(d, TAB_B, 1, "tick", "AAPL", "mom", 0);
	chunk(d, TAB_A, r, 5, true);
	assert_int_equal(g.n, 4);
	for (size_t i = 0; i < g.n; i++)
		assert_true((g.ev[i].flags & PERFBPF_F_NAMES_ID) && g.ev[i].names_id != 0);
	assert_int_equal(g.ev[0].names_id, g.ev[3].names_id);
	assert_int_equal(g.ev[2].kind, PERFBPF_EV_SPAN);
	assert_int_equal(g.ev[2].names_id, g.ev[0].names_id); /* the begin's key, not the end's */
	assert_true(g.ev[1].names_id != g.ev[0].names_id);
	/* the same names in another object's table: another definition, another number */
	chunk(d, TAB_B, r + 5, 1, true);
	assert_int_equal(g.n, 5);
	assert_true(g.ev[4].names_id != g.ev[0].names_id && g.ev[4].names_id != g.ev[1].names_id);
	/* key 1 defined again with other names: a new number */
	def(d, TAB_A, 1, "tick", "GOOG", "mom", 0);
	chunk(d, TAB_A, r, 1, true);
	assert_int_equal(g.n, 6);
	assert_string_equal(g.ev[5].names.symbol, "GOOG");
	for (size_t i = 0; i < 5; i++)
		assert_true(g.ev[5].names_id != g.ev[i].names_id);
	batch_decoder__free(d);
}

#define SINCE(k, t, start) { .key = (k), .kind = PERFBPF_REC_OP_SINCE, .ts = (t), .value = (start) }

/* A reader of ops for statistics that, as the aggregation does, takes the ops of names it has
 * had a whole op event of. */
static int take_op(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	struct got *g = ctx;
	bool known = false;

	for (size_t i = 0; i < g->n; i++)
		known |= g->ev[i].kind == PERFBPF_EV_OP && g->ev[i].names_id == names_id;
	if (!known)
		return -ENOENT;
	assert_true(g->nop < 64);
	g->op[g->nop].names_id = names_id;
	g->op[g->nop].end_ns = end_ns;
	g->op[g->nop++].duration_ns = duration_ns;
	return 0;
}

/* The i-th op taken by take_op ended at end_ns and lasted duration_ns. */
static void op_taken(const struct got *g, size_t i, uint64_t end_ns, uint64_t duration_ns)
{
	assert_true(i < g->nop);
	assert_int_equal(g->op[i].end_ns, end_ns);
	assert_int_equal(g->op[i].duration_ns, duration_ns);
}

/* With an op reader: each key's first op is a whole event (the reader did not know its
 * names_id), the rest go to the reader with their end and duration (an OP_SINCE's computed);
 * ops of keys with cut or unreadable names, and spans, stay events; every one is counted once. */
static void test_ops_for_statistics(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = { OP(1, 5000, 40), OP(1, 6000, 7),    SINCE(1, 7000, 6990),
					 OP(2, 7100, 3),  OP(2, 7200, 4),    BEGIN(1, 7300),
					 END(1, 7400),    OP(1, 7500, 9) };

	(void)state;
	batch_decoder__set_op_fn(d, take_op);
	def(d, TAB_A, 1, "tick", "AAPL", "mom", 0);
	def(d, TAB_A, 2, "tick", "MSFT", "mom", PERFBPF_KEYDEF_TRUNCATED);
	chunk(d, TAB_A, r, 8, true);
	/* events: key 1's first op, both of key 2's, the span */
	assert_int_equal(g.n, 4);
	assert_int_equal(g.ev[0].end_ns, 5000);
	assert_int_equal(g.ev[1].duration_ns, 3);
	assert_true(g.ev[1].flags & PERFBPF_F_TRUNCATED);
	assert_int_equal(g.ev[2].duration_ns, 4);
	assert_int_equal(g.ev[3].kind, PERFBPF_EV_SPAN);
	assert_int_equal(g.nop, 3);
	for (size_t i = 0; i < g.nop; i++)
		assert_int_equal(g.op[i].names_id, g.ev[0].names_id);
	op_taken(&g, 0, 6000, 7);
	op_taken(&g, 1, 7000, 10);
	op_taken(&g, 2, 7500, 9);
	assert_int_equal(batch_decoder__counts(d)->events, 7);
	assert_int_equal(batch_decoder__counts(d)->str_truncated, 2);
	batch_decoder__free(d);
}

/* Ops the reader knows are handed on as their chunk arrives, before the collection ends, while
 * the process has one key table; spans still wait for the end. An op the reader does not know
 * makes the collection's later ops wait for the end too (none overtakes it), and a process with
 * a second table has all its records ordered at the end. */
static void test_ops_at_arrival(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec first[] = { OP(1, 5000, 40) };
	const struct perfbpf_rec second[] = { OP(1, 8000, 5), BEGIN(1, 8100), OP(1, 8200, 6),
					      END(1, 8300) };
	const struct perfbpf_rec third[] = { OP(2, 9000, 1), OP(1, 9100, 2), OP(2, 9200, 3) };
	const struct perfbpf_rec fourth[] = { OP(1, 9500, 3) };
	const struct perfbpf_rec cut[] = { OP(3, 9300, 1), OP(3, 9400, 2) };
	const struct perfbpf_rec early[] = { OP(4, 9420, 1), OP(1, 9440, 2) };

	(void)state;
	batch_decoder__set_op_fn(d, take_op);
	def(d, TAB_A, 1, "tick", "AAPL", "mom", 0);
	chunk(d, TAB_A, first, 1, true);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nop, 0);
	/* the next collection's ops at once, its span at its end */
	chunk(d, TAB_A, second, 3, false);
	assert_int_equal(g.nop, 2);
	op_taken(&g, 0, 8000, 5);
	op_taken(&g, 1, 8200, 6);
	assert_int_equal(g.n, 1);
	chunk(d, TAB_A, second + 3, 1, true);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ev[1].kind, PERFBPF_EV_SPAN);
	assert_int_equal(g.ev[1].duration_ns, 200);
	/* key 2's first op is not taken: it and the ops after it wait, and come in their order */
	def(d, TAB_A, 2, "tick", "MSFT", "mom", 0);
	chunk(d, TAB_A, third, 3, false);
	assert_int_equal(g.nop, 2);
	assert_int_equal(g.n, 2);
	chunk(d, TAB_A, third, 0, true);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[2].end_ns, 9000);
	assert_int_equal(g.nop, 4);
	op_taken(&g, 2, 9100, 2);
	op_taken(&g, 3, 9200, 3);
	/* a key with cut names: each op a whole event with its flag, known to the reader or not */
	def(d, TAB_A, 3, "tick", "LONG", "mom", PERFBPF_KEYDEF_TRUNCATED);
	chunk(d, TAB_A, cut, 1, true);
	chunk(d, TAB_A, cut + 1, 1, false);
	assert_int_equal(g.nop, 4);
	chunk(d, TAB_A, cut, 0, true);
	assert_int_equal(g.n, 5);
	assert_true(g.ev[4].flags & PERFBPF_F_TRUNCATED);
	assert_int_equal(g.ev[4].end_ns, 9400);
	/* a key defined only after its op arrived: the op waits for the end, the ops after it too */
	chunk(d, TAB_A, early, 2, false);
	assert_int_equal(g.nop, 4);
	def(d, TAB_A, 4, "tick", "NEW", "mom", 0);
	chunk(d, TAB_A, early, 0, true);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.ev[5].end_ns, 9420);
	op_taken(&g, 4, 9440, 2);
	/* a second key table in the process: ordered at the end */
	def(d, TAB_B, 1, "tock", "AAPL", "mom", 0);
	chunk(d, TAB_A, fourth, 1, false);
	assert_int_equal(g.nop, 5);
	chunk(d, TAB_A, fourth, 0, true);
	assert_int_equal(g.nop, 6);
	op_taken(&g, 5, 9500, 3);
	assert_int_equal(batch_decoder__counts(d)->events, 12);
	assert_int_equal(batch_decoder__counts(d)->malformed, 0);
	batch_decoder__free(d);
}

/* PERFBPF_OP_SINCE records: the duration runs from the start stamp (CLOCK_MONOTONIC ns, or TSC
 * ticks with PERFBPF_STAMP_TSC, converted with the session's mapping) to the record's stamp; a
 * start after the end, or with a bit no stamp has, is counted, not used. */
static void test_op_since(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = {
		SINCE(1, 9000, 5000), SINCE(1, 16000, PERFBPF_STAMP_TSC | 1500),
		SINCE(1, 17000, 17001), SINCE(1, 18000, (1ull << 63) | 5000), SINCE(1, 19000, 19000),
	};

	(void)state;
	tsc_clock__add(&clk, 1000, 10000); /* 10 ns per tick */
	tsc_clock__add(&clk, 3000, 30000);
	def(d, TAB_A, 1, "fill", "AAPL", "mom", 0);
	chunk(d, TAB_A, r, 5, true);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[0].kind, PERFBPF_EV_OP);
	assert_int_equal(g.ev[0].duration_ns, 4000);
	assert_int_equal(g.ev[0].self_ns, 4000);
	assert_int_equal(g.ev[0].end_ns, 9000);
	assert_true(g.ev[1].duration_ns >= 999 && g.ev[1].duration_ns <= 1001);
	assert_int_equal(g.ev[2].duration_ns, 0);
	assert_int_equal(batch_decoder__counts(d)->malformed, 2);
	batch_decoder__free(d);
	memset(&clk, 0, sizeof(clk));
}

/* PERFBPF_OP_SINCE with both ends in TSC ticks: the ticks between them at the rate of the
 * clock's segment they fall in (one conversion), the difference of the two conversions where
 * they fall in two segments, a start after the end counted; the same whether the op is handed
 * to the reader as it arrives or at the collection's end (the first op of a key). */
static void test_op_since_ticks(void **state)
{
	struct tsc_clock *c = calloc(1, sizeof(*c));
	struct got g;
	struct batch_decoder *d;
	/* segments start at ticks 1000 (10 ns per tick), 3000 (~12.5), 5000 (~11.7) */
	const struct perfbpf_rec r[] = {
		SINCE(1, 1700, PERFBPF_STAMP_TSC | 1200), SINCE(1, 1900, PERFBPF_STAMP_TSC | 1801),
		SINCE(1, 3500, PERFBPF_STAMP_TSC | 2500), SINCE(1, 5600, PERFBPF_STAMP_TSC | 5100),
		SINCE(1, 5700, PERFBPF_STAMP_TSC | 5701), SINCE(1, 5800, PERFBPF_STAMP_TSC | 5800),
	};

	(void)state;
	assert_non_null(c);
	tsc_clock__add(c, 1000, 10000);
	tsc_clock__add(c, 3000, 30000);
	tsc_clock__add(c, 5000, 60000);
	tsc_clock__add(c, 7000, 80000);
	for (int reader = 0; reader < 2; reader++) {
		memset(&g, 0, sizeof(g));
		d = batch_decoder__new(collect, &g, 0, c, false);
		assert_non_null(d);
		if (reader)
			batch_decoder__set_op_fn(d, take_op);
		def(d, TAB_A, 1, "tick", "S", "x", 0);
		chunk_flags = PERFBPF_TBUF_TSC;
		chunk(d, TAB_A, r, 1, true);     /* the key's first op: a whole event */
		chunk(d, TAB_A, r + 1, 5, true); /* with a reader, to it as they arrive */
		chunk_flags = 0;
		assert_int_equal(batch_decoder__counts(d)->malformed, 1);
		assert_int_equal(g.n, reader ? 1 : 5);
		assert_int_equal(g.nop, reader ? 4 : 0);
		for (size_t i = 0, j = 0; i < 6; i++) {
			uint64_t start = r[i].value & PERFBPF_STAMP_MASK, end_ns, dur, want;
			double rate = (double)(tsc_clock__ns(c, r[i].ts + 100) -
					       tsc_clock__ns(c, r[i].ts - 100)) / 200;

			if (i == 4)
				continue; /* the start after the end */
			end_ns = reader && j ? g.op[j - 1].end_ns : g.ev[j].end_ns;
			dur = reader && j ? g.op[j - 1].duration_ns : g.ev[j].duration_ns;
			j++;
			assert_int_equal(end_ns, tsc_clock__ns(c, r[i].ts));
			want = tsc_clock__ns(c, r[i].ts) - tsc_clock__ns(c, start);
			if (i == 2) { /* 2500 and 3500: two segments, two conversions */
				assert_int_equal(dur, want);
				continue;
			}
			/* one segment: its ticks at its rate (within the ns either conversion drops) */
			assert_true(dur + 1 >= want && dur <= want + 1);
			assert_true(fabs((double)dur - (double)(r[i].ts - start) * rate) <= 1.0);
		}
		batch_decoder__free(d);
	}
	free(c);
}

/* outer [2000, 9000) > middle [3000, 8000) > inner [4000, 5000) and [6000, 7500) */
static void test_nested_spans(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = {
		BEGIN(1, 2000), BEGIN(2, 3000), BEGIN(3, 4000), END(4, 5000),
		BEGIN(3, 6000), END(4, 7500), END(5, 8000), END(6, 9000),
	};
	uint64_t outer, middle;

	(void)state;
	def(d, TAB_A, 1, "outer", "S", "x", 0);
	def(d, TAB_A, 2, "middle", "S", "x", 0);
	def(d, TAB_A, 3, "inner", "S", "x", 0);
	def(d, TAB_A, 4, "inner", "", "", 0); /* span_end keys carry the name only */
	def(d, TAB_A, 5, "middle", "", "", 0);
	def(d, TAB_A, 6, "outer", "", "", 0);
	chunk(d, TAB_A, r, 8, true);
	assert_int_equal(g.n, 4);
	/* in end order: inner, inner, middle, outer */
	outer = g.ev[3].span_id;
	middle = g.ev[2].span_id;
	assert_string_equal(g.ev[3].names.metric, "outer");
	assert_int_equal(g.ev[3].duration_ns, 7000);
	assert_int_equal(g.ev[3].self_ns, 2000);
	assert_int_equal(g.ev[3].parent_id, 0);
	assert_int_equal(g.ev[3].trace_id, outer);
	assert_int_equal(g.ev[2].duration_ns, 5000);
	assert_int_equal(g.ev[2].self_ns, 2500);
	assert_int_equal(g.ev[2].parent_id, outer);
	assert_int_equal(g.ev[2].depth, 1);
	assert_string_equal(g.ev[0].names.symbol, "S"); /* the begin's names */
	assert_int_equal(g.ev[0].duration_ns, 1000);
	assert_int_equal(g.ev[1].duration_ns, 1500);
	assert_int_equal(g.ev[0].parent_id, middle);
	assert_int_equal(g.ev[1].trace_id, outer);
	assert_int_equal(g.ev[1].depth, 2);
	assert_true(g.ev[0].span_id != g.ev[1].span_id);
	assert_int_equal(g.ev[0].span_id >> 32, TID);
	batch_decoder__free(d);
}

/* A span note of a v3 thread (PERFBPF_F_NOTE_V3) names the span its thread had open at the
 * point of its records where it was written: the kernel collected those records just before
 * it. Ops name their enclosing span too. A note with no open span, or for a thread never seen,
 * is counted, not given a span. */
static void test_notes_and_op_parents(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r1[] = { BEGIN(1, 2000), OP(3, 2500, 100), BEGIN(2, 3000),
					  OP(3, 3500, 50) };
	const struct perfbpf_rec r2[] = { END(4, 4000) };
	const struct perfbpf_rec r3[] = { END(5, 5000), OP(3, 6000, 10) };
	struct perfbpf_note n = { .kind = PERFBPF_EV_ATTR, .pid = PID, .tid = TID,
				  .flags = PERFBPF_F_NOTE_V3 };
	uint64_t outer, inner;

	(void)state;
	def(d, TAB_A, 1, "order", "S", "x", 0);
	def(d, TAB_A, 2, "risk", "S", "x", 0);
	def(d, TAB_A, 3, "fill", "S", "x", 0);
	def(d, TAB_A, 4, "risk", "", "", 0);
	def(d, TAB_A, 5, "order", "", "", 0);
	n.span_id = 77;
	assert_int_equal(batch_decoder__note(d, &n), -ENOENT); /* no thread yet */
	chunk(d, TAB_A, r1, 4, true);
	assert_int_equal(batch_decoder__note(d, &n), 0);
	inner = n.span_id;
	chunk(d, TAB_A, r2, 1, true);
	assert_int_equal(batch_decoder__note(d, &n), 0);
	outer = n.span_id;
	chunk(d, TAB_A, r3, 2, true);
	assert_int_equal(batch_decoder__note(d, &n), -ENOENT); /* every span ended */
	assert_int_equal(batch_decoder__counts(d)->note_no_span, 2);
	/* fill (in order), fill (in risk), risk, order, fill (outside) */
	assert_int_equal(g.n, 5);
	assert_int_equal(g.ev[2].span_id, inner);
	assert_int_equal(g.ev[3].span_id, outer);
	assert_true(inner != outer);
	assert_int_equal(g.ev[0].kind, PERFBPF_EV_OP);
	assert_int_equal(g.ev[0].parent_id, outer);
	assert_int_equal(g.ev[0].trace_id, outer);
	assert_int_equal(g.ev[1].parent_id, inner);
	assert_int_equal(g.ev[1].trace_id, outer);
	assert_int_equal(g.ev[4].parent_id, 0);
	assert_int_equal(g.ev[4].trace_id, 0);
	batch_decoder__free(d);
}

#define PARENT(k, t, id) { .key = (k), .kind = PERFBPF_REC_SPAN_PARENT, .ts = (t), .value = (id) }
#define OPEN(k, t, id) { .key = (k), .kind = PERFBPF_REC_SPAN_OPEN, .ts = (t), .value = (id) }
#define CLOSE(k, t, id) { .key = (k), .kind = PERFBPF_REC_SPAN_CLOSE, .ts = (t), .value = (id) }

/* Spans with ids, as two coroutines of one thread write them: task A [2000, 9000) with children
 * B [3000, 5000) and C [3500, 6000) that interleave (B ends first though C began later), B with
 * a child G [3200, 4000) (A's grandchild: in A's trace, at depth 2). Each
 * keeps its own parent, A's self time is what its children did not cover; a span may end on
 * another thread; an id opened twice abandons the first; a close of no open span, and spans
 * left open when the process ends, are counted. */
static void test_spans_with_ids(void **state)
{
	enum { A = 0xa1, B = 0xb2, C = 0xc3, D = 0xd4, E = 0xe5, F = 0xf6, G = 0x97 };
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = {
		OPEN(1, 2000, A), PARENT(3, 3000, A), OPEN(3, 3000, B), PARENT(3, 3200, B),
		OPEN(3, 3200, G), PARENT(3, 3500, A), OPEN(3, 3500, C), CLOSE(4, 4000, G),
		CLOSE(4, 5000, B), CLOSE(4, 6000, C), CLOSE(2, 9000, A),
		CLOSE(2, 9500, A), OPEN(1, 10000, D), OPEN(1, 13000, E), OPEN(1, 14000, E),
		CLOSE(2, 15000, E), PARENT(3, 16000, D), OPEN(1, 16000, F),
	};
	const struct perfbpf_rec other[] = { CLOSE(2, 12000, D) };
	struct perfbpf_v3_exit x = { .kind = PERFBPF_EV_V3_EXIT, .pid = PID, .tid = PID };

	(void)state;
	def(d, TAB_A, 1, "task", "S", "x", 0);
	def(d, TAB_A, 2, "task", "", "", 0);
	def(d, TAB_A, 3, "fetch", "S", "x", 0);
	def(d, TAB_A, 4, "fetch", "", "", 0);
	chunk(d, TAB_A, r, 18, true);
	chunk_of(d, TID + 1, TAB_A, other, 1, true);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.ev[0].span_id, G);
	assert_int_equal(g.ev[0].parent_id, B);
	assert_int_equal(g.ev[0].trace_id, A);
	assert_int_equal(g.ev[0].depth, 2);
	assert_int_equal(g.ev[0].duration_ns, 800);
	memmove(&g.ev[0], &g.ev[1], 5 * sizeof(g.ev[0])); /* the rest as before G was added */
	assert_string_equal(g.ev[0].names.metric, "fetch");
	assert_string_equal(g.ev[0].names.symbol, "S");
	assert_int_equal(g.ev[0].span_id, B);
	assert_int_equal(g.ev[0].duration_ns, 2000);
	assert_int_equal(g.ev[0].self_ns, 1200);
	assert_int_equal(g.ev[0].parent_id, A);
	assert_int_equal(g.ev[0].trace_id, A);
	assert_int_equal(g.ev[0].depth, 1);
	assert_int_equal(g.ev[1].span_id, C);
	assert_int_equal(g.ev[1].duration_ns, 2500);
	assert_int_equal(g.ev[1].parent_id, A);
	assert_int_equal(g.ev[2].span_id, A);
	assert_string_equal(g.ev[2].names.metric, "task");
	assert_int_equal(g.ev[2].duration_ns, 7000);
	assert_int_equal(g.ev[2].self_ns, 2500);
	assert_int_equal(g.ev[2].parent_id, 0);
	assert_int_equal(g.ev[2].trace_id, A);
	assert_int_equal(g.ev[2].depth, 0);
	/* E, reopened at 14000: the second one; F's PARENT record names another key: F is a root */
	assert_int_equal(g.ev[3].span_id, E);
	assert_int_equal(g.ev[3].duration_ns, 1000);
	assert_int_equal(batch_decoder__counts(d)->span_abandoned, 1);
	assert_int_equal(batch_decoder__counts(d)->span_unmatched_end, 1);
	/* D ended on the other thread */
	assert_int_equal(g.ev[4].span_id, D);
	assert_int_equal(g.ev[4].tid, TID + 1);
	assert_int_equal(g.ev[4].duration_ns, 2000);
	assert_int_equal(batch_decoder__counts(d)->span_unfinished, 0);
	assert_int_equal(batch_decoder__record(d, &x, sizeof(x)), 0);
	assert_int_equal(batch_decoder__counts(d)->span_unfinished, 1); /* F */
	batch_decoder__free(d);
}

/* A thread with an executable's buffer and a library's: one collection's two chunks are put
 * back in stamp order, so the library's span nests in the executable's. */
static void test_two_buffers_ordered(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec exe[] = { BEGIN(1, 2000), OP(3, 2500, 5), END(2, 9000) };
	const struct perfbpf_rec lib[] = { BEGIN(1, 3000), END(2, 4000) };

	(void)state;
	def(d, TAB_A, 1, "tick", "S", "x", 0);
	def(d, TAB_A, 2, "tick", "", "", 0);
	def(d, TAB_A, 3, "exe.op", "S", "x", 0);
	def(d, TAB_B, 1, "lib.span", "L", "y", 0);
	def(d, TAB_B, 2, "lib.span", "", "", 0);
	chunk(d, TAB_A, exe, 3, false);
	chunk(d, TAB_B, lib, 2, true);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.ev[0].names.metric, "exe.op");
	assert_string_equal(g.ev[1].names.metric, "lib.span");
	assert_string_equal(g.ev[2].names.metric, "tick");
	assert_int_equal(g.ev[1].parent_id, g.ev[2].span_id);
	assert_int_equal(g.ev[2].self_ns, 6000);
	assert_int_equal(batch_decoder__counts(d)->span_mismatch, 0);
	batch_decoder__free(d);
}

/* Two buffers of TSC stamps a tick apart, which convert to the same ns (a 10 GHz TSC): merged by
 * the ticks, as the thread wrote them (the engine makes a thread's stamps increase across its
 * objects), so the library's span nests in the executable's. */
static void test_two_buffers_merged_by_ticks(void **state)
{
	struct got g;
	struct tsc_clock *c = calloc(1, sizeof(*c));
	struct batch_decoder *d;
	const struct perfbpf_rec exe[] = { BEGIN(1, 50000), END(2, 50003) };
	const struct perfbpf_rec lib[] = { BEGIN(1, 50001), END(2, 50002) };

	(void)state;
	assert_non_null(c);
	tsc_clock__add(c, 0, 1000);
	tsc_clock__add(c, 10000000, 1001000); /* 0.1 ns per tick */
	memset(&g, 0, sizeof(g));
	d = batch_decoder__new(collect, &g, 0, c, false);
	assert_non_null(d);
	def(d, TAB_A, 1, "tick", "S", "x", 0);
	def(d, TAB_A, 2, "tick", "", "", 0);
	def(d, TAB_B, 1, "lib.span", "L", "y", 0);
	def(d, TAB_B, 2, "lib.span", "", "", 0);
	chunk_flags = PERFBPF_TBUF_TSC;
	chunk(d, TAB_A, exe, 2, false);
	chunk(d, TAB_B, lib, 2, true);
	chunk_flags = 0;
	assert_int_equal(g.n, 2);
	assert_string_equal(g.ev[0].names.metric, "lib.span");
	assert_string_equal(g.ev[1].names.metric, "tick");
	assert_int_equal(g.ev[0].end_ns, g.ev[1].end_ns); /* one ns for both */
	assert_int_equal(g.ev[0].parent_id, g.ev[1].span_id);
	assert_int_equal(g.ev[0].depth, 1);
	assert_int_equal(batch_decoder__counts(d)->span_mismatch, 0);
	batch_decoder__free(d);
	free(c);
}

/* One buffer's records stay in the order they were written even where their stamps are not
 * (the TSC is not serializing: two reads a few instructions apart can come out reversed): the
 * middle begin stamped 1 ns before the outer one still nests inside it, with a duration of 0
 * for nothing negative. Two buffers are still merged by stamp around it. */
static void test_one_buffer_keeps_write_order(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec exe[] = { BEGIN(1, 5000), BEGIN(2, 4999), END(4, 6000),
					   END(3, 7000) };
	const struct perfbpf_rec lib[] = { OP(1, 5500, 9) };

	(void)state;
	def(d, TAB_A, 1, "outer", "S", "x", 0);
	def(d, TAB_A, 2, "middle", "S", "x", 0);
	def(d, TAB_A, 3, "outer", "", "", 0);
	def(d, TAB_A, 4, "middle", "", "", 0);
	def(d, TAB_B, 1, "lib.op", "L", "y", 0);
	chunk(d, TAB_A, exe, 4, false);
	chunk(d, TAB_B, lib, 1, true);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.ev[0].names.metric, "lib.op");
	assert_string_equal(g.ev[1].names.metric, "middle");
	assert_string_equal(g.ev[2].names.metric, "outer");
	assert_int_equal(g.ev[1].parent_id, g.ev[2].span_id);
	assert_int_equal(g.ev[1].duration_ns, 1001);
	assert_int_equal(g.ev[2].duration_ns, 2000);
	assert_int_equal(batch_decoder__counts(d)->span_mismatch, 0);
	assert_int_equal(batch_decoder__counts(d)->span_unmatched_end, 0);
	batch_decoder__free(d);
}

static void sched(struct batch_decoder *d, uint32_t what, uint64_t ts, uint32_t cpu)
{
	struct perfbpf_v3_sched r = { .kind = PERFBPF_EV_V3_SCHED, .what = what, .pid = PID,
				      .tid = TID, .ts_ns = ts, .cpu = cpu };

	assert_int_equal(batch_decoder__record(d, &r, sizeof(r)), 0);
}

/* span [2000, 10000): runs to 3000, blocked to 5000, runnable to 5500, runs on another CPU to
 * 7000, preempted to 7300, runs to the end: 5200 on CPU + 800 run queue + 2000 blocked. */
static void test_attribution(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, true);
	const struct perfbpf_rec b[] = { BEGIN(1, 2000) };
	const struct perfbpf_rec e[] = { END(2, 10000) };

	(void)state;
	def(d, TAB_A, 1, "tick", "S", "x", 0);
	def(d, TAB_A, 2, "tick", "", "", 0);
	sched(d, PERFBPF_V3_SCHED_RUNNING, 1500, 0);
	chunk(d, TAB_A, b, 1, true);
	sched(d, PERFBPF_V3_SCHED_BLOCKED, 3000, 0);
	sched(d, PERFBPF_V3_SCHED_WOKEN, 5000, 0);
	sched(d, PERFBPF_V3_SCHED_RUNNING, 5500, 1);
	sched(d, PERFBPF_V3_SCHED_PREEMPTED, 7000, 1);
	sched(d, PERFBPF_V3_SCHED_RUNNING, 7300, 1);
	chunk(d, TAB_A, e, 1, true);
	assert_int_equal(g.n, 1);
	assert_true(g.ev[0].flags & PERFBPF_F_ATTRIBUTED);
	assert_int_equal(g.ev[0].attr.blocked_ns, 2000);
	assert_int_equal(g.ev[0].attr.runq_ns, 800);
	assert_int_equal(g.ev[0].attr.oncpu_ns, 5200);
	assert_int_equal(g.ev[0].attr.nvcsw, 1);
	assert_int_equal(g.ev[0].attr.nivcsw, 1);
	assert_int_equal(g.ev[0].attr.migrations, 1);
	batch_decoder__free(d);
}

static void test_bookkeeping_counted(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct perfbpf_rec r[] = {
		OP(9, 5000, 1),     /* never defined */
		OP(0, 5000, 1),     /* the engine's key table was full */
		OP(1, 500, 1),      /* before the session */
		{ .key = 1, .kind = 77, .ts = 5000 }, /* no such kind */
		END(2, 5100),       /* no span open */
		BEGIN(1, 6000), BEGIN(1, 6100),
	};
	struct perfbpf_v3_exit x = { .kind = PERFBPF_EV_V3_EXIT, .pid = PID, .tid = TID };
	const struct batch_counts *c = batch_decoder__counts(d);

	(void)state;
	def(d, TAB_A, 1, "tick", "S", "x", PERFBPF_KEYDEF_TRUNCATED);
	def(d, TAB_A, 2, "tock", "", "", 0);
	chunk(d, TAB_A, r, 7, true);
	assert_int_equal(batch_decoder__record(d, &x, sizeof(x)), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(c->undefined_key, 2);
	assert_int_equal(c->before_start, 1);
	assert_int_equal(c->malformed, 1);
	assert_int_equal(c->span_unmatched_end, 1);
	assert_int_equal(c->span_unfinished, 2);
	batch_decoder__free(d);
}

static void test_malformed_records(void **state)
{
	struct got g;
	struct batch_decoder *d = new_decoder(&g, false);
	const struct batch_counts *c = batch_decoder__counts(d);
	struct perfbpf_v3_batch h = { .kind = PERFBPF_EV_V3_BATCH, .pid = PID, .tid = TID,
				      .keytab = TAB_A, .n = 2 };
	struct perfbpf_v3_keydef k = { .kind = PERFBPF_EV_V3_KEYDEF, .pid = PID, .keytab = TAB_A };
	uint32_t kind = PERFBPF_EV_V3_SCHED;

	(void)state;
	/* a batch claiming two records with none after its header */
	assert_int_equal(batch_decoder__record(d, &h, sizeof(h)), 0);
	assert_int_equal(c->malformed, 1);
	h.n = 0;
	assert_int_equal(batch_decoder__record(d, &h, sizeof(h)), 0);
	assert_int_equal(c->malformed, 2);
	/* a definition with id 0, and one not marked ready */
	assert_int_equal(batch_decoder__record(d, &k, sizeof(k)), 0);
	k.def.id = 3;
	assert_int_equal(batch_decoder__record(d, &k, sizeof(k)), 0);
	assert_int_equal(c->malformed, 4);
	/* records shorter than their kind */
	assert_int_equal(batch_decoder__record(d, &kind, sizeof(kind)), 0);
	assert_int_equal(batch_decoder__record(d, &k, 10), 0);
	assert_int_equal(c->malformed, 6);
	assert_int_equal(g.n, 0);
	batch_decoder__free(d);
}

/* The stamps of one engine run converted with a mapping refined while records arrive: never
 * backwards, each stamp one value whenever it is converted, within 1 us of the true line. */
static void test_tsc_clock(void **state)
{
	struct tsc_clock *c = calloc(1, sizeof(*c));
	/* a 2.5 GHz TSC that drifts 20 ppm against the clock, and pairs with +-30 ns of jitter */
	const double ns_per_tick = 0.4 * (1 + 20e-6);
	uint64_t prev = 0, conv[200];

	(void)state;
	assert_non_null(c);
	assert_int_equal(tsc_clock__ns(c, 12345), 0);
	for (int i = 0; i < 200; i++) {
		uint64_t tsc = 1000000000ull + (uint64_t)i * 125000000ull; /* every 50 ms */
		uint64_t ns = (uint64_t)((double)tsc * ns_per_tick) + (i % 3 ? 30 : 0) - (i % 5 ? 0 : 30);

		tsc_clock__add(c, tsc, ns);
	}
	for (int i = 0; i < 200; i++) {
		uint64_t tsc = 1000000000ull + (uint64_t)i * 124999999ull + 7, v = tsc_clock__ns(c, tsc);
		double truth = (double)tsc * ns_per_tick;

		assert_true(v >= prev);
		prev = v;
		conv[i] = v;
		assert_true((double)v > truth - 1000 && (double)v < truth + 1000);
	}
	tsc_clock__add(c, 2000000000000ull, (uint64_t)(2000000000000.0 * ns_per_tick));
	for (int i = 0; i < 200; i++) /* a later pair changes no earlier stamp */
		assert_int_equal(tsc_clock__ns(c, 1000000000ull + (uint64_t)i * 124999999ull + 7),
				 conv[i]);
	free(c);
}

/* A stamp converted with a cursor gets the value the full search gives: the last segment starting
 * at or before it (the oldest for anything earlier), whether the cursor's segment holds it or
 * not, with pairs added between conversions and the ring of segments wrapped. */
static void test_tsc_clock_cursor(void **state)
{
	struct tsc_clock *c = calloc(1, sizeof(*c));
	struct tsc_cursor k = { 0 };
	unsigned seed = 1, added = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(tsc_clock__ns_near(c, 5, &k), 0);
	for (int q = 0; q < 60000; q++) {
		const struct tsc_segment *ref = NULL;
		uint64_t tsc;
		double v;

		/* a pair every 10 conversions: the ring of segments wraps after 40,960 */
		if (q % 10 == 0) {
			tsc_clock__add(c, 1000000ull + (uint64_t)added * 1000 + (added % 7) * 13,
				       400000ull + (uint64_t)added * 400 + (added % 5) * 3);
			added++;
		}
		seed = seed * 1103515245u + 12345u;
		/* mostly around the newest pairs, sometimes anywhere (before the oldest too) */
		if (q % 4)
			tsc = 1000000ull + (uint64_t)added * 1000 - (seed >> 20) % 3000;
		else
			tsc = (uint64_t)(seed >> 4) % (1000000ull + (uint64_t)added * 1000 + 5000);
		if (q % 97 == 0) /* a cursor of another clock's state: a zeroed one */
			memset(&k, 0, sizeof(k));
		if (c->nseg == 0) { /* one pair: no mapping yet */
			assert_int_equal(tsc_clock__ns_near(c, tsc, &k), 0);
			continue;
		}
		ref = &c->seg[c->first];
		for (unsigned i = 0; i < c->nseg; i++) {
			const struct tsc_segment *sg = &c->seg[(c->first + i) % TSC_CLOCK_SEGMENTS];

			if (sg->tsc <= tsc)
				ref = sg;
		}
		v = (double)ref->ns + ((double)tsc - (double)ref->tsc) * ref->ns_per_tick;
		assert_int_equal(tsc_clock__ns_near(c, tsc, &k), v < 0 ? 0 : (uint64_t)v);
		assert_int_equal(tsc_clock__ns(c, tsc), v < 0 ? 0 : (uint64_t)v);
	}
	assert_int_equal(c->nseg, TSC_CLOCK_SEGMENTS);
	free(c);
}

/* --- span notes recorded in the buffer ----------------------------------------------------- */

struct notes_got {
	struct perfbpf_note n[16];
	size_t count;
};

static int collect_note(void *ctx, const struct perfbpf_note *n)
{
	struct notes_got *g = ctx;

	assert_true(g->count < 16);
	g->n[g->count++] = *n;
	return 0;
}

/* A note's record and its string in BYTES records, as the engine's recorder writes them. */
static uint32_t note_recs(struct perfbpf_rec *out, uint32_t kind, uint32_t key, uint64_t ts,
			  const char *str, uint64_t flags)
{
	size_t n = strlen(str);
	uint32_t k = 0;

	out[k++] = (struct perfbpf_rec){ .key = key, .kind = kind, .ts = ts, .value = n | flags };
	for (size_t i = 0; i < n; i += PERFBPF_NOTE_BYTES) {
		unsigned char b[PERFBPF_NOTE_BYTES] = { 0 };

		memcpy(b, str + i, n - i < PERFBPF_NOTE_BYTES ? n - i : PERFBPF_NOTE_BYTES);
		perfbpf_note_bytes_put(&out[k++], b);
	}
	return k;
}

/* Attributes, an event and an error, each about the span innermost where it stands in the
 * thread's records (the inner span, then the outer one after the inner ended), with their
 * strings whole: one of 0 bytes, one of exactly 20, one of 127 (cut by the engine) and one
 * split across two chunks of the collection. */
static void test_buffered_notes(void **state)
{
	struct got g;
	struct notes_got ng = { .count = 0 };
	struct batch_decoder *d = new_decoder(&g, false);
	struct perfbpf_rec r[64];
	char long_id[128];
	uint32_t n = 0;
	double px = 99.75;
	uint64_t bits;

	(void)state;
	memset(long_id, 'x', 127);
	long_id[127] = '\0';
	memcpy(&bits, &px, sizeof(bits));
	batch_decoder__set_note_fn(d, collect_note, &ng);
	def(d, TAB_A, 1, "order", "AAPL", "mom", 0);
	def(d, TAB_A, 2, "order", "", "", 0);
	def(d, TAB_A, 3, "fill", "AAPL", "mom", 0);
	def(d, TAB_A, 4, "fill", "", "", 0);
	def(d, TAB_A, 5, "order.side", "", "", 0);
	def(d, TAB_A, 6, "order.qty", "", "", 0);
	def(d, TAB_A, 7, "order.filled", "", "fill.price", 0);
	def(d, TAB_A, 8, "client_order_id", "", "", 0);
	r[n++] = (struct perfbpf_rec)BEGIN(1, 2000);
	n += note_recs(r + n, PERFBPF_REC_ATTR_STR, 5, 2100, "buy", 0);
	r[n++] = (struct perfbpf_rec){ .key = 6, .kind = PERFBPF_REC_ATTR_INT, .ts = 2200,
				       .value = (uint64_t)-42 };
	r[n++] = (struct perfbpf_rec)BEGIN(3, 2300);
	n += note_recs(r + n, PERFBPF_REC_EVENT, 7, 2400, "99.7500000000000000000", 0);
	r[n++] = (struct perfbpf_rec){ .key = 6, .kind = PERFBPF_REC_ATTR_DOUBLE, .ts = 2450,
				       .value = bits };
	r[n++] = (struct perfbpf_rec)END(4, 2500);
	n += note_recs(r + n, PERFBPF_REC_ERROR, 0, 2600, "rejected: risk", 0);
	n += note_recs(r + n, PERFBPF_REC_ATTR_STR, 8, 2700, long_id, PERFBPF_NOTE_CUT);
	n += note_recs(r + n, PERFBPF_REC_ATTR_STR, 5, 2750, "", 0);
	r[n++] = (struct perfbpf_rec)END(2, 2800);
	assert_true(n < 64);
	/* the collection in two chunks, the 127-byte string's records split between them */
	chunk(d, TAB_A, r, n - 4, false);
	chunk(d, TAB_A, r + n - 4, 4, true);
	assert_int_equal(g.n, 2); /* the spans: fill, then order */
	assert_int_equal(ng.count, 7);
	for (size_t i = 0; i < ng.count; i++) {
		assert_int_equal(ng.n[i].pid, PID);
		assert_int_equal(ng.n[i].tid, TID);
	}
	assert_int_equal(ng.n[0].kind, PERFBPF_EV_ATTR);
	assert_int_equal(ng.n[0].value_type, PERFBPF_VAL_STR);
	assert_string_equal(ng.n[0].name, "order.side");
	assert_string_equal(ng.n[0].str, "buy");
	assert_int_equal(ng.n[0].ts_ns, 2100);
	assert_int_equal(ng.n[0].span_id, g.ev[1].span_id); /* the order */
	assert_int_equal(ng.n[1].value_type, PERFBPF_VAL_INT);
	assert_int_equal((int64_t)ng.n[1].value, -42);
	assert_int_equal(ng.n[2].kind, PERFBPF_EV_EVENT);
	assert_string_equal(ng.n[2].name, "order.filled");
	assert_string_equal(ng.n[2].akey, "fill.price");
	assert_string_equal(ng.n[2].str, "99.7500000000000000000"); /* 22 bytes: two records */
	assert_int_equal(ng.n[2].span_id, g.ev[0].span_id); /* the fill, inside the order */
	assert_int_equal(ng.n[3].value_type, PERFBPF_VAL_DOUBLE);
	assert_int_equal(ng.n[3].value, bits);
	assert_int_equal(ng.n[3].span_id, g.ev[0].span_id);
	assert_int_equal(ng.n[4].kind, PERFBPF_EV_ERROR);
	assert_string_equal(ng.n[4].str, "rejected: risk");
	assert_int_equal(ng.n[4].span_id, g.ev[1].span_id); /* the fill ended: the order again */
	assert_string_equal(ng.n[5].str, long_id);
	assert_true(ng.n[5].flags & PERFBPF_F_TRUNCATED);
	assert_false(ng.n[4].flags & PERFBPF_F_TRUNCATED);
	assert_int_equal(ng.n[6].value_type, PERFBPF_VAL_STR);
	assert_string_equal(ng.n[6].str, "");
	assert_int_equal(batch_decoder__counts(d)->malformed, 0);
	batch_decoder__free(d);
}

/* A note with no span open is counted, not attached anywhere; after SPAN_SELECT the notes name
 * the selected span (even with a nested span open), and SPAN_SELECT 0 goes back to the
 * innermost one. */
static void test_buffered_notes_select_and_no_span(void **state)
{
	struct got g;
	struct notes_got ng = { .count = 0 };
	struct batch_decoder *d = new_decoder(&g, false);
	struct perfbpf_rec r[16];
	uint32_t n = 0;

	(void)state;
	batch_decoder__set_note_fn(d, collect_note, &ng);
	def(d, TAB_A, 1, "run", "", "", 0);
	def(d, TAB_A, 2, "k", "", "", 0);
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_INT, .ts = 1500, .value = 1 };
	r[n++] = (struct perfbpf_rec)BEGIN(1, 2000);
	r[n++] = (struct perfbpf_rec){ .kind = PERFBPF_REC_SPAN_SELECT, .ts = 2100, .value = 77 };
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_INT, .ts = 2200, .value = 2 };
	r[n++] = (struct perfbpf_rec){ .kind = PERFBPF_REC_SPAN_SELECT, .ts = 2300, .value = 0 };
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_INT, .ts = 2400, .value = 3 };
	r[n++] = (struct perfbpf_rec)END(1, 2500);
	chunk(d, TAB_A, r, n, true);
	assert_int_equal(batch_decoder__counts(d)->note_no_span, 1);
	assert_int_equal(ng.count, 2);
	assert_int_equal(ng.n[0].value, 2);
	assert_int_equal(ng.n[0].span_id, 77);
	assert_int_equal(ng.n[1].value, 3);
	assert_int_equal(ng.n[1].span_id, g.ev[0].span_id);
	batch_decoder__free(d);
}

/* Notes that do not hold together are counted as malformed, never handed on, and the records
 * after them are still decoded: a string shorter than its length says, a length over 127,
 * bytes with no note before them, an undefined key; without a note callback they are dropped. */
static void test_buffered_notes_malformed(void **state)
{
	struct got g;
	struct notes_got ng = { .count = 0 };
	struct batch_decoder *d = new_decoder(&g, false);
	struct perfbpf_rec r[32];
	uint32_t n = 0, k;

	(void)state;
	batch_decoder__set_note_fn(d, collect_note, &ng);
	def(d, TAB_A, 1, "run", "", "", 0);
	def(d, TAB_A, 2, "k", "", "", 0);
	r[n++] = (struct perfbpf_rec)BEGIN(1, 2000);
	k = note_recs(r + n, PERFBPF_REC_ATTR_STR, 2, 2100, "a string of 41 bytes, two BYTES..", 0);
	r[n].value = 41; /* says 41: three BYTES records, two follow */
	n += k;
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_STR, .ts = 2200, .value = 128 };
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_STR, .ts = 2210,
				       .value = 3 | (1ull << 40) };
	r[n++] = (struct perfbpf_rec){ .key = 9, .kind = PERFBPF_REC_ATTR_INT, .ts = 2400, .value = 5 };
	r[n++] = (struct perfbpf_rec){ .key = 0x41414141, .kind = PERFBPF_REC_BYTES, .ts = 2300 };
	r[n++] = (struct perfbpf_rec){ .key = 2, .kind = PERFBPF_REC_ATTR_INT, .ts = 2500, .value = 6 };
	r[n++] = (struct perfbpf_rec)END(1, 2600);
	chunk(d, TAB_A, r, n, true);
	assert_int_equal(batch_decoder__counts(d)->malformed, 4);
	assert_int_equal(batch_decoder__counts(d)->undefined_key, 1);
	assert_int_equal(ng.count, 1);
	assert_int_equal(ng.n[0].value, 6);
	assert_int_equal(g.n, 1); /* the span still ends */
	/* no callback: decoded, dropped, nothing counted against the records */
	batch_decoder__set_note_fn(d, NULL, NULL);
	n = 0;
	r[n++] = (struct perfbpf_rec)BEGIN(1, 3000);
	n += note_recs(r + n, PERFBPF_REC_ATTR_STR, 2, 3100, "kept nowhere", 0);
	r[n++] = (struct perfbpf_rec)END(1, 3200);
	chunk(d, TAB_A, r, n, true);
	assert_int_equal(ng.count, 1);
	assert_int_equal(g.n, 2);
	assert_int_equal(batch_decoder__counts(d)->malformed, 4);
	batch_decoder__free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_names_id),
		cmocka_unit_test(test_ops_for_statistics),
		cmocka_unit_test(test_ops_at_arrival),
		cmocka_unit_test(test_tsc_clock_cursor),
		cmocka_unit_test(test_op_since),
		cmocka_unit_test(test_op_since_ticks),
		cmocka_unit_test(test_nested_spans),
		cmocka_unit_test(test_notes_and_op_parents),
		cmocka_unit_test(test_two_buffers_ordered),
		cmocka_unit_test(test_two_buffers_merged_by_ticks),
		cmocka_unit_test(test_one_buffer_keeps_write_order),
		cmocka_unit_test(test_spans_with_ids),
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_bookkeeping_counted),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test(test_tsc_clock),
		cmocka_unit_test(test_buffered_notes),
		cmocka_unit_test(test_buffered_notes_select_and_no_span),
		cmocka_unit_test(test_buffered_notes_malformed),
	};

	return cmocka_run_group_tests_name("unit: ABI v3 batch decoder", tests, NULL, NULL);
}
