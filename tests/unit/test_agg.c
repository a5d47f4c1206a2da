// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: aggregation per key and per metric, wait times, key limit, sample shedding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "user/aggregate/agg.h"

/* An aggregation with this sample budget and key limit (checked). */
static struct agg *new_agg(uint64_t sample_budget, uint64_t max_keys)
{
	struct agg_opts o = { .sample_budget = sample_budget, .max_keys = max_keys };
	struct agg *a = agg__new(&o);

	assert_non_null(a);
	return a;
}

static struct perfbpf_event ev(uint32_t kind, const char *m, const char *sym, const char *strat,
			       uint64_t end, uint64_t dur)
{
	struct perfbpf_event e;

	/* garbage after the NUL, as a ring-buffer record may have */
	memset(&e, 0xAB, sizeof(e));
	e.kind = kind;
	e.flags = 0;
	e.end_ns = end;
	e.duration_ns = dur;
	e.self_ns = dur;
	strcpy(e.names.metric, m);
	strcpy(e.names.symbol, sym);
	strcpy(e.names.strategy, strat);
	return e;
}

static const struct stat_row *row_of(const struct summary *s, uint32_t kind, const char *m,
				     const char *sym, const char *strat)
{
	for (size_t i = 0; i < s->nrows; i++)
		if (s->rows[i].kind == kind && !strcmp(s->rows[i].metric, m) &&
		    !strcmp(s->rows[i].symbol, sym) && !strcmp(s->rows[i].strategy, strat))
			return &s->rows[i];
	return NULL;
}

/* The op row of a key (most tests have ops only). */
static const struct stat_row *row(const struct summary *s, const char *m, const char *sym,
				  const char *strat)
{
	return row_of(s, PERFBPF_EV_OP, m, sym, strat);
}

static const struct stat_row *rollup(const struct summary *s, const char *m, uint32_t kind)
{
	for (size_t i = 0; i < s->nmetrics; i++)
		if (!strcmp(s->metrics[i].metric, m) && s->metrics[i].kind == kind)
			return &s->metrics[i];
	return NULL;
}

static void test_keys_and_rollups(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	const struct stat_row *r;
	struct perfbpf_event e;

	(void)state;
	for (uint64_t i = 1; i <= 10; i++) {
		e = ev(PERFBPF_EV_OP, "strategy.tick", "BTCUSDT", "sma", 1000 * i, i);
		assert_int_equal(agg__add(a, &e), 0);
		e = ev(PERFBPF_EV_OP, "strategy.tick", "ETHUSDT", "sma", 1000 * i + 1, 100 + i);
		assert_int_equal(agg__add(a, &e), 0);
	}
	/* same name as a span: a different key */
	e = ev(PERFBPF_EV_SPAN, "strategy.tick", "BTCUSDT", "sma", 5, 7);
	assert_int_equal(agg__add(a, &e), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.events, 21);
	assert_int_equal(s.nrows, 3);
	assert_int_equal(s.nmetrics, 2);

	r = row(&s, "strategy.tick", "ETHUSDT", "sma");
	assert_non_null(r);
	assert_int_equal(r->count, 10);
	assert_int_equal(r->total_ns, 1055);
	assert_int_equal(r->min_ns, 101);
	assert_int_equal(r->max_ns, 110);
	assert_int_equal(r->p50_ns, 105);
	/* sorted by total: ETHUSDT (1055) before BTCUSDT (55) */
	assert_string_equal(s.rows[0].symbol, "ETHUSDT");

	r = rollup(&s, "strategy.tick", PERFBPF_EV_OP);
	assert_non_null(r);
	assert_null(r->symbol);
	assert_int_equal(r->count, 20);
	assert_int_equal(r->total_ns, 55 + 1055);
	assert_int_equal(r->min_ns, 1);
	assert_int_equal(r->max_ns, 110);
	assert_int_equal(r->p50_ns, 10);   /* rank 10 of 1..10, 101..110 */
	assert_int_equal(r->p95_ns, 109);  /* rank 19 */
	/* 1..10 and 101..110: mean 55.5, population std dev sqrt(50^2 + 8.25) */
	assert_float_equal(r->mean_ns, 55.5, 1e-9);
	assert_float_equal(r->stddev_ns, sqrt(2508.25), 1e-9);
	/* its waits are between events of any of its keys: 1, 999, 1, ..., 1 */
	assert_int_equal(r->wait_count, 19);
	assert_int_equal(r->wait_min_ns, 1);
	assert_int_equal(r->wait_max_ns, 999);
	assert_int_equal(rollup(&s, "strategy.tick", PERFBPF_EV_SPAN)->count, 1);
	agg__free(a);
}

static void test_wait_times(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	uint64_t ends[] = { 1000, 1500, 3500, 3400 /* reordered by 100 ns */, 4000 };
	const struct stat_row *r;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "", "", ends[i], 1);

		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	r = row(&s, "m", "", "");
	assert_int_equal(r->wait_count, 4);
	/* gaps 500, 2000, 0 (late arrival), 500: they sum to last - first */
	assert_int_equal(r->wait_min_ns, 0);
	assert_int_equal(r->wait_max_ns, 2000);
	assert_float_equal(r->wait_mean_ns, 750.0, 1e-9);
	agg__free(a);
}

static void test_single_event_has_no_wait(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "", "", 10, 1);

	(void)state;
	assert_int_equal(agg__add(a, &e), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.rows[0].wait_count, 0);
	assert_int_equal(s.rows[0].wait_min_ns, 0);
	assert_int_equal(s.rows[0].wait_max_ns, 0);
	agg__free(a);
}

static void test_key_limit_counts(void **state)
{
	struct agg *a = new_agg(1 << 20, 3);
	struct summary s = { 0 };
	char sym[8];

	(void)state;
	for (int i = 0; i < 10; i++) {
		struct perfbpf_event e;

		snprintf(sym, sizeof(sym), "S%d", i);
		e = ev(PERFBPF_EV_OP, "m", sym, "", (uint64_t)i, 1);
		assert_int_equal(agg__add(a, &e), 0);
		e = ev(PERFBPF_EV_OP, "m", "S0", "", (uint64_t)i, 1); /* known key: always kept */
		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.nrows, 3);
	assert_int_equal(s.events, 13);
	assert_int_equal(s.keys_over_limit, 7);
	agg__free(a);
}

/* Past the budget the key with the most samples becomes approximate; small keys stay exact. */
static void test_budget_sheds_largest_key(void **state)
{
	struct agg *a = new_agg(4096 * sizeof(uint64_t), 100);
	struct summary s = { 0 };

	(void)state;
	for (uint64_t i = 0; i < 100; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_OP, "small", "", "", i, i);

		assert_int_equal(agg__add(a, &e), 0);
	}
	for (uint64_t i = 0; i < 10000; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_OP, "big", "", "", i, 1000 + i);

		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_false(row(&s, "small", "", "")->approximate);
	assert_true(row(&s, "big", "", "")->approximate);
	assert_int_equal(row(&s, "big", "", "")->count, 10000);
	assert_int_equal(row(&s, "big", "", "")->min_ns, 1000);
	assert_int_equal(row(&s, "big", "", "")->max_ns, 10999);
	agg__free(a);
}

static void test_unterminated_fields(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	struct perfbpf_event e;

	(void)state;
	memset(&e, 'Q', sizeof(e));
	e.kind = PERFBPF_EV_OP;
	e.flags = PERFBPF_F_TRUNCATED;
	e.duration_ns = 3;
	e.self_ns = 3;
	e.end_ns = 1;
	assert_int_equal(agg__add(a, &e), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(strlen(s.rows[0].metric), PERFBPF_METRIC_LEN - 1);
	assert_int_equal(strlen(s.rows[0].symbol), PERFBPF_SYMBOL_LEN - 1);
	assert_true(s.rows[0].flags & PERFBPF_F_TRUNCATED);
	agg__free(a);
}

/* Keys found again by the bytes their events carry: 3,000 keys (names that differ only past the
 * words the memo hashes, an op and a span of the same names, the same key with other bytes after
 * its NULs) fed round-robin five times, every row exact. */
static void test_many_keys_exact(void **state)
{
	struct agg *a = new_agg(1 << 24, 10000);
	struct summary s = { 0 };
	char m[64], sym[32];

	(void)state;
	for (int round = 0; round < 5; round++)
		for (int k = 0; k < 1500; k++) {
			struct perfbpf_event e;

			snprintf(m, sizeof(m), "strategy.indicators.long.name.%d", k % 50);
			snprintf(sym, sizeof(sym), "SYMBOL%d", k / 50);
			for (uint32_t kind = PERFBPF_EV_OP; kind <= PERFBPF_EV_SPAN; kind++) {
				e = ev(kind, m, sym, "strat", (uint64_t)round * 1000 + 1,
				       (uint64_t)k + kind);
				memset(e.names.symbol + strlen(sym) + 1, round, 2); /* after the NUL */
				assert_int_equal(agg__add(a, &e), 0);
			}
		}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.nrows, 3000);
	for (int k = 0; k < 1500; k += 7) {
		snprintf(m, sizeof(m), "strategy.indicators.long.name.%d", k % 50);
		snprintf(sym, sizeof(sym), "SYMBOL%d", k / 50);
		for (uint32_t kind = PERFBPF_EV_OP; kind <= PERFBPF_EV_SPAN; kind++) {
			const struct stat_row *r = row_of(&s, kind, m, sym, "strat");

			assert_non_null(r);
			assert_int_equal(r->count, 5);
			assert_int_equal(r->min_ns, (uint64_t)k + kind);
			assert_int_equal(r->max_ns, (uint64_t)k + kind);
		}
	}
	agg__free(a);
}

static void test_attribution(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	const struct stat_row *r;

	(void)state;
	for (uint64_t i = 1; i <= 100; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, "tick", i % 2 ? "A" : "B", "", i, 100);

		e.flags = PERFBPF_F_ATTRIBUTED;
		e.attr.oncpu_ns = 100 - i % 10;
		e.attr.runq_ns = i % 10;
		e.attr.blocked_ns = 0;
		e.attr.nvcsw = 1;
		e.attr.nivcsw = 2;
		e.attr.migrations = i == 50;
		e.attr.pad = 0;
		assert_int_equal(agg__add(a, &e), 0);
	}
	{
		struct perfbpf_event op = ev(PERFBPF_EV_OP, "tick", "A", "", 1, 5);

		op.flags = 0;
		memset(&op.attr, 0, sizeof(op.attr));
		assert_int_equal(agg__add(a, &op), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	r = rollup(&s, "tick", PERFBPF_EV_SPAN);
	assert_true(r->attributed);
	assert_int_equal(r->attr[ATTR_ONCPU].total_ns + r->attr[ATTR_RUNQ].total_ns, 100 * 100);
	assert_int_equal(r->attr[ATTR_RUNQ].total_ns, 10 * 45);
	assert_int_equal(r->attr[ATTR_RUNQ].p50_ns, 4);  /* rank 50 of ten each of 0..9 */
	assert_int_equal(r->attr[ATTR_RUNQ].p99_ns, 9);
	assert_int_equal(r->attr[ATTR_BLOCKED].total_ns, 0);
	assert_int_equal(r->voluntary_switches, 100);
	assert_int_equal(r->involuntary_switches, 200);
	assert_int_equal(r->migrations, 1);
	/* the span key is attributed (50 spans: i odd), the op key of the same names is not */
	r = row_of(&s, PERFBPF_EV_SPAN, "tick", "A", "");
	assert_non_null(r);
	assert_true(r->attributed);
	assert_int_equal(r->count, 50);
	assert_int_equal(r->voluntary_switches, 50);
	r = row_of(&s, PERFBPF_EV_OP, "tick", "A", "");
	assert_non_null(r);
	assert_false(r->attributed);
	assert_int_equal(r->count, 1);
	assert_false(rollup(&s, "tick", PERFBPF_EV_OP)->attributed);
	/* summarized again (a live view, then the report): the same figures */
	assert_int_equal(agg__summarize(a, &s), 0);
	r = rollup(&s, "tick", PERFBPF_EV_SPAN);
	assert_int_equal(r->voluntary_switches, 100);
	assert_int_equal(r->migrations, 1);
	assert_int_equal(r->attr[ATTR_RUNQ].total_ns, 10 * 45);
	assert_int_equal(r->flags & PERFBPF_F_ATTRIBUTED, PERFBPF_F_ATTRIBUTED);
	agg__free(a);
}

/* perfbpf run --repeat: each run's first event of a key starts its waits afresh, so the idle
 * time between runs is no wait (run 1: ends 1000, 2000; run 2: ends 1,000,000, 1,000,500). */
static void test_wait_resets_between_runs(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	const uint64_t ends[2][2] = { { 1000, 2000 }, { 1000000, 1000500 } };
	const struct stat_row *r;

	(void)state;
	for (int run = 0; run < 2; run++) {
		if (run)
			agg__new_run(a);
		for (int i = 0; i < 2; i++) {
			struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "X", "", ends[run][i], 5);

			assert_int_equal(agg__add(a, &e), 0);
		}
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	r = row(&s, "m", "X", "");
	assert_int_equal(r->count, 4);
	assert_int_equal(r->wait_count, 2);
	assert_int_equal(r->wait_min_ns, 500);
	assert_int_equal(r->wait_max_ns, 1000);
	assert_float_equal(r->wait_mean_ns, 750.0, 1e-9);
	r = rollup(&s, "m", PERFBPF_EV_OP);
	assert_int_equal(r->wait_count, 2);
	assert_int_equal(r->wait_max_ns, 1000);
	agg__free(a);
}

/* A span's self time (outside its child spans) is summed apart from its total. */
static void test_self_time(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	const struct stat_row *r;

	(void)state;
	for (uint64_t i = 1; i <= 3; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, "run", "", "", 100 * i, 1000 * i);

		e.flags = 0;
		e.self_ns = 10 * i; /* the rest was in child spans */
		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	r = row_of(&s, PERFBPF_EV_SPAN, "run", "", "");
	assert_non_null(r);
	assert_int_equal(r->total_ns, 6000);
	assert_int_equal(r->self_total_ns, 60);
	assert_int_equal(rollup(&s, "run", PERFBPF_EV_SPAN)->self_total_ns, 60);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(rollup(&s, "run", PERFBPF_EV_SPAN)->self_total_ns, 60);
	/* summarized again after one more span (a live view, then the report): its members'
	 * sums once, not added to the last summary's */
	{
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, "run", "", "", 400, 4000);

		e.flags = 0;
		e.self_ns = 40;
		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(rollup(&s, "run", PERFBPF_EV_SPAN)->self_total_ns, 100);
	agg__free(a);
}

/* A key whose first event is its longest (and one with a single event) has the right max. */
static void test_first_event_is_max(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct summary s = { 0 };
	const uint64_t durs[] = { 900, 100, 300 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "X", "", i, durs[i]);

		assert_int_equal(agg__add(a, &e), 0);
	}
	{
		struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "Y", "", 0, 42);

		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(row(&s, "m", "X", "")->max_ns, 900);
	assert_int_equal(row(&s, "m", "X", "")->min_ns, 100);
	assert_int_equal(row(&s, "m", "Y", "")->max_ns, 42);
	assert_int_equal(row(&s, "m", "Y", "")->min_ns, 42);
	assert_int_equal(rollup(&s, "m", PERFBPF_EV_OP)->max_ns, 900);
	assert_int_equal(rollup(&s, "m", PERFBPF_EV_OP)->min_ns, 42);
	agg__free(a);
}

/* Events that carry a names_id: each still counts under its own names and kind: an op and a span
 * of one definition (one number) are two rows; numbers that share a slot of the direct-mapped
 * memo (4096 apart) and numbers seen again after others are each their own names'. */
static void test_names_id(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	static const struct {
		uint32_t id, kind;
		const char *sym;
	} in[] = {
		{ 7, PERFBPF_EV_OP, "A" },   { 7, PERFBPF_EV_SPAN, "A" }, { 7, PERFBPF_EV_OP, "A" },
		{ 4103, PERFBPF_EV_OP, "B" }, { 7, PERFBPF_EV_OP, "A" },  { 8, PERFBPF_EV_OP, "C" },
		{ 4103, PERFBPF_EV_OP, "B" }, { 7, PERFBPF_EV_SPAN, "A" },
	};
	struct summary s;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct perfbpf_event e = ev(in[i].kind, "m", in[i].sym, "st", 1000 * (i + 1), i + 1);

		e.flags = PERFBPF_F_NAMES_ID;
		e.names_id = in[i].id;
		assert_int_equal(agg__add(a, &e), 0);
	}
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.nrows, 4);
	assert_int_equal(row(&s, "m", "A", "st")->count, 3);
	assert_int_equal(row(&s, "m", "A", "st")->total_ns, 1 + 3 + 5);
	assert_int_equal(row_of(&s, PERFBPF_EV_SPAN, "m", "A", "st")->count, 2);
	assert_int_equal(row_of(&s, PERFBPF_EV_SPAN, "m", "A", "st")->total_ns, 2 + 8);
	assert_int_equal(row(&s, "m", "B", "st")->total_ns, 4 + 7);
	assert_int_equal(row(&s, "m", "C", "st")->total_ns, 6);
	assert_int_equal(row(&s, "m", "A", "st")->flags & PERFBPF_F_NAMES_ID, 0);
	agg__free(a);
}

/* Two rows that must agree in every figure. */
static void rows_equal(const struct stat_row *x, const struct stat_row *y)
{
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(x->count, y->count);
	assert_int_equal(x->total_ns, y->total_ns);
	assert_int_equal(x->self_total_ns, y->self_total_ns);
	assert_true(x->mean_ns == y->mean_ns);
	assert_int_equal(x->min_ns, y->min_ns);
	assert_int_equal(x->max_ns, y->max_ns);
	assert_true(x->stddev_ns == y->stddev_ns);
	assert_int_equal(x->p50_ns, y->p50_ns);
	assert_int_equal(x->p95_ns, y->p95_ns);
	assert_int_equal(x->p99_ns, y->p99_ns);
	assert_int_equal(x->wait_count, y->wait_count);
	assert_true(x->wait_mean_ns == y->wait_mean_ns);
	assert_int_equal(x->wait_min_ns, y->wait_min_ns);
	assert_int_equal(x->wait_max_ns, y->wait_max_ns);
	assert_int_equal(x->flags, y->flags);
}

/* Ops added by names_id alone (agg__add_op) count as the same ops added whole: every figure of
 * their keys and roll-ups is the same. Names it has no op of under that number, a span's number
 * and 0 are refused with -ENOENT and change nothing. */
static void test_add_op_by_names_id(void **state)
{
	struct agg *whole = new_agg(1 << 20, 100), *by_id = new_agg(1 << 20, 100);
	struct summary sw, si;
	static const char *const sym[3] = { "A", "B", "C" };

	(void)state;
	for (uint64_t i = 0; i < 300; i++) {
		uint32_t k = (uint32_t)(i * 7 % 3);
		uint64_t end = 1000 * (i + 1) + (i % 5) * 37, dur = (i * 7919) % 1000 + k;
		struct perfbpf_event e = ev(PERFBPF_EV_OP, k == 2 ? "n" : "m", sym[k], "st", end, dur);

		e.flags = PERFBPF_F_NAMES_ID;
		e.names_id = 10 + k;
		assert_int_equal(agg__add(whole, &e), 0);
		if (i < 3) /* each key's first op, whole */
			assert_int_equal(agg__add(by_id, &e), 0);
		else
			assert_int_equal(agg__add_op(by_id, 10 + k, end, dur), 0);
	}
	{
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, "m", "D", "st", 900000, 5);

		e.flags = PERFBPF_F_NAMES_ID;
		e.names_id = 20;
		assert_int_equal(agg__add(by_id, &e), 0);
		assert_int_equal(agg__add(whole, &e), 0);
	}
	assert_int_equal(agg__add_op(by_id, 20, 900001, 5), -ENOENT); /* a span's number */
	assert_int_equal(agg__add_op(by_id, 13, 900001, 5), -ENOENT); /* never seen */
	assert_int_equal(agg__add_op(by_id, 10 + 4096, 900001, 5), -ENOENT); /* its slot's, not it */
	assert_int_equal(agg__add_op(by_id, 0, 900001, 5), -ENOENT);
	assert_int_equal(agg__summarize(whole, &sw), 0);
	assert_int_equal(agg__summarize(by_id, &si), 0);
	assert_int_equal(sw.events, si.events);
	assert_int_equal(sw.nrows, 4);
	assert_int_equal(si.nrows, 4);
	for (int k = 0; k < 3; k++)
		rows_equal(row(&sw, k == 2 ? "n" : "m", sym[k], "st"),
			   row(&si, k == 2 ? "n" : "m", sym[k], "st"));
	rows_equal(rollup(&sw, "m", PERFBPF_EV_OP), rollup(&si, "m", PERFBPF_EV_OP));
	rows_equal(rollup(&sw, "n", PERFBPF_EV_OP), rollup(&si, "n", PERFBPF_EV_OP));
	assert_int_equal(row(&si, "m", "A", "st")->count, 100);
	agg__free(whole);
	agg__free(by_id);
}

/* Summarized again with nothing added: the same figures; with an op added since, whole or by its
 * names_id, figures that count it. */
static void test_summarize_again(void **state)
{
	struct agg *a = new_agg(1 << 20, 100);
	struct perfbpf_event e = ev(PERFBPF_EV_OP, "m", "S", "st", 1000, 10);
	struct summary s;

	(void)state;
	e.flags = PERFBPF_F_NAMES_ID;
	e.names_id = 5;
	assert_int_equal(agg__add(a, &e), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(row(&s, "m", "S", "st")->count, 1);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(s.nrows, 1);
	assert_int_equal(row(&s, "m", "S", "st")->count, 1);
	assert_int_equal(rollup(&s, "m", PERFBPF_EV_OP)->max_ns, 10);
	e.end_ns = 2000;
	e.duration_ns = e.self_ns = 30;
	assert_int_equal(agg__add(a, &e), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(row(&s, "m", "S", "st")->count, 2);
	assert_int_equal(rollup(&s, "m", PERFBPF_EV_OP)->max_ns, 30);
	assert_int_equal(agg__add_op(a, 5, 3000, 50), 0);
	assert_int_equal(agg__summarize(a, &s), 0);
	assert_int_equal(row(&s, "m", "S", "st")->count, 3);
	assert_int_equal(row(&s, "m", "S", "st")->total_ns, 90);
	assert_int_equal(rollup(&s, "m", PERFBPF_EV_OP)->max_ns, 50);
	assert_int_equal(s.events, 3);
	agg__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_rollups),
		cmocka_unit_test(test_wait_times),
		cmocka_unit_test(test_single_event_has_no_wait),
		cmocka_unit_test(test_key_limit_counts),
		cmocka_unit_test(test_budget_sheds_largest_key),
		cmocka_unit_test(test_unterminated_fields),
		cmocka_unit_test(test_many_keys_exact),
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_wait_resets_between_runs),
		cmocka_unit_test(test_self_time),
		cmocka_unit_test(test_first_event_is_max),
		cmocka_unit_test(test_names_id),
		cmocka_unit_test(test_add_op_by_names_id),
		cmocka_unit_test(test_summarize_again),
	};

	return cmocka_run_group_tests_name("unit: aggregation", tests, NULL, NULL);
}
