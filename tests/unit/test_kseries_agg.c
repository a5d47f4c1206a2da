// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the monitor's series aggregated in userspace (user/aggregate/kseries_agg.c). Known
 * answers for count, sums, min, max, the log-linear buckets and wait times; ops and spans of the
 * same names apart; keys past the limit counted and never merged; --per-pid series apart and
 * dropped; names read within their fields whatever follows them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/kernel_hist.h"
#include "user/aggregate/kseries_agg.h"

static struct perfbpf_event ev(uint32_t kind, uint32_t pid, const char *m, const char *sym,
			       uint64_t end, uint64_t dur)
{
	struct perfbpf_event e;

	memset(&e, 0xAB, sizeof(e)); /* garbage after the NULs, as a ring record may have */
	e.kind = kind;
	e.pid = pid;
	e.end_ns = end;
	e.duration_ns = dur;
	e.self_ns = dur / 2;
	strcpy(e.names.metric, m);
	strcpy(e.names.symbol, sym);
	strcpy(e.names.strategy, "s");
	return e;
}

static const struct kseries *find(struct kseries_agg *a, uint32_t kind, uint32_t pid,
				  const char *m, const char *sym)
{
	size_t n;
	struct kseries *const *v = kseries_agg__series(a, &n);

	for (size_t i = 0; i < n; i++)
		if (v[i]->kind == kind && v[i]->pid == pid && !strcmp(v[i]->metric, m) &&
		    !strcmp(v[i]->symbol, sym) && !strcmp(v[i]->strategy, "s"))
			return v[i];
	return NULL;
}

static uint64_t total(const struct khist *b)
{
	uint64_t t = 0;

	for (unsigned i = khist__next(b, 0); i < KHIST_BUCKETS; i = khist__next(b, i + 1))
		t += khist__get(b, i);
	return t;
}

static void test_known_answers(void **state)
{
	struct kseries_agg *a = kseries_agg__new(false, 100);
	const uint64_t durs[] = { 50, 1000, 70, 1000000 };
	const uint64_t ends[] = { 100, 400, 300, 1000 }; /* the third arrives out of order */
	const struct kseries *s;

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 4; i++) {
		struct perfbpf_event e = ev(PERFBPF_EV_OP, 7, "tick", "AAPL", ends[i], durs[i]);

		assert_int_equal(kseries_agg__add(a, &e), 0);
	}
	s = find(a, PERFBPF_EV_OP, 0, "tick", "AAPL");
	assert_non_null(s);
	assert_int_equal(s->count, 4);
	assert_int_equal(s->sum_ns, 1001120);
	assert_int_equal(s->self_sum_ns, 25 + 500 + 35 + 500000);
	assert_int_equal(s->min_ns, 50);
	assert_int_equal(s->max_ns, 1000000);
	assert_int_equal(khist__get(&s->dur, khist_bucket(50)), 1);
	assert_int_equal(khist__get(&s->dur, khist_bucket(1000)), 1);
	assert_int_equal(khist__get(&s->dur, khist_bucket(1000000)), 1);
	assert_int_equal(total(&s->dur), 4);
	/* waits: 400-100, 0 (300 before 400), 1000-400 */
	assert_int_equal(s->wait_count, 3);
	assert_int_equal(s->wait_sum_ns, 300 + 0 + 600);
	assert_int_equal(s->wait_min_ns, 0);
	assert_int_equal(s->wait_max_ns, 600);
	assert_int_equal(khist__get(&s->wait, khist_bucket(0)), 1);
	assert_int_equal(total(&s->wait), 3);
	assert_int_equal(kseries_agg__over_limit(a), 0);
	kseries_agg__free(a);
}

/* 300 keys (an op and a span of each of 150 names) through a limit of 200: the first 200 exact,
 * the other events counted; names differing only at their end apart. */
static void test_limit_and_kinds(void **state)
{
	struct kseries_agg *a = kseries_agg__new(false, 200);
	char m[64];
	size_t n;

	(void)state;
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 150; k++)
			for (uint32_t kind = PERFBPF_EV_OP; kind <= PERFBPF_EV_SPAN; kind++) {
				struct perfbpf_event e;

				snprintf(m, sizeof(m), "a.long.metric.name.that.ends.in.%d", k);
				e = ev(kind, 1, m, "X", 10 + (uint64_t)round, (uint64_t)k + kind);
				assert_int_equal(kseries_agg__add(a, &e), 0);
			}
	kseries_agg__series(a, &n);
	assert_int_equal(n, 200);
	assert_int_equal(kseries_agg__over_limit(a), 3 * 100);
	for (int k = 0; k < 100; k++) {
		snprintf(m, sizeof(m), "a.long.metric.name.that.ends.in.%d", k);
		for (uint32_t kind = PERFBPF_EV_OP; kind <= PERFBPF_EV_SPAN; kind++) {
			const struct kseries *s = find(a, kind, 0, m, "X");

			assert_non_null(s);
			assert_int_equal(s->count, 3);
			assert_int_equal(s->min_ns, (uint64_t)k + kind);
			assert_int_equal(s->max_ns, (uint64_t)k + kind);
		}
	}
	kseries_agg__free(a);
}

/* --per-pid: one series per process; dropping one keeps the others and their lookups. */
static void test_per_pid_drop(void **state)
{
	struct kseries_agg *a = kseries_agg__new(true, 1000);
	size_t n;

	(void)state;
	for (uint32_t pid = 1; pid <= 50; pid++)
		for (int i = 0; i < 2; i++) {
			struct perfbpf_event e = ev(PERFBPF_EV_SPAN, pid, "run", "", 5, pid);

			assert_int_equal(kseries_agg__add(a, &e), 0);
		}
	kseries_agg__series(a, &n);
	assert_int_equal(n, 50);
	for (uint32_t pid = 1; pid <= 50; pid += 2)
		kseries_agg__drop_pid(a, pid);
	{
		struct kseries *const *v = kseries_agg__series(a, &n);
		uint64_t seen = 0;

		assert_int_equal(n, 25);
		for (size_t i = 0; i < n; i++) { /* exactly the even pids, each once */
			assert_int_equal(v[i]->pid % 2, 0);
			assert_int_equal(v[i]->count, 2);
			seen |= 1ull << v[i]->pid;
		}
		for (uint32_t pid = 2; pid <= 50; pid += 2)
			assert_true(seen & (1ull << pid));
	}
	assert_null(find(a, PERFBPF_EV_SPAN, 1, "run", ""));
	for (uint32_t pid = 1; pid <= 50; pid++) {
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, pid, "run", "", 9, pid);

		assert_int_equal(kseries_agg__add(a, &e), 0);
	}
	kseries_agg__series(a, &n);
	assert_int_equal(n, 50);
	assert_int_equal(find(a, PERFBPF_EV_SPAN, 2, "run", "")->count, 3);
	assert_int_equal(find(a, PERFBPF_EV_SPAN, 3, "run", "")->count, 1);
	kseries_agg__free(a);
}

/* Ops added by names_id (kseries_agg__add_op, after one whole op of that number) count as the
 * same ops added whole, in every figure; a number it has no op of, a span's, one sharing its
 * memo slot and 0 are refused; a dropped pid's numbers are forgotten with its series. */
static void test_ops_by_names_id(void **state)
{
	struct kseries_agg *whole = kseries_agg__new(true, 100), *by_id = kseries_agg__new(true, 100);
	const struct kseries *x, *y;

	(void)state;
	assert_non_null(whole);
	assert_non_null(by_id);
	for (uint64_t i = 0; i < 200; i++) {
		uint32_t pid = 1 + (uint32_t)(i % 2);
		uint64_t end = 1000 * (i + 1) - (i % 7) * 300, dur = (i * 7919) % 100000;
		struct perfbpf_event e = ev(PERFBPF_EV_OP, pid, "tick", "AAPL", end, dur);

		e.self_ns = dur; /* an op's self time is its duration */
		e.flags = PERFBPF_F_NAMES_ID;
		e.names_id = 10 * pid;
		assert_int_equal(kseries_agg__add(whole, &e), 0);
		if (i < 2)
			assert_int_equal(kseries_agg__add(by_id, &e), 0);
		else
			assert_int_equal(kseries_agg__add_op(by_id, 10 * pid, end, dur), 0);
	}
	for (uint32_t pid = 1; pid <= 2; pid++) {
		x = find(whole, PERFBPF_EV_OP, pid, "tick", "AAPL");
		y = find(by_id, PERFBPF_EV_OP, pid, "tick", "AAPL");
		assert_non_null(x);
		assert_non_null(y);
		assert_int_equal(y->count, 100);
		assert_int_equal(x->count, y->count);
		assert_int_equal(x->sum_ns, y->sum_ns);
		assert_int_equal(x->self_sum_ns, y->self_sum_ns);
		assert_int_equal(x->min_ns, y->min_ns);
		assert_int_equal(x->max_ns, y->max_ns);
		assert_int_equal(x->wait_count, y->wait_count);
		assert_int_equal(x->wait_sum_ns, y->wait_sum_ns);
		assert_int_equal(x->wait_min_ns, y->wait_min_ns);
		assert_int_equal(x->wait_max_ns, y->wait_max_ns);
		for (unsigned b = 0; b < KHIST_BUCKETS; b++) {
			assert_int_equal(khist__get(&x->dur, b), khist__get(&y->dur, b));
			assert_int_equal(khist__get(&x->wait, b), khist__get(&y->wait, b));
		}
		assert_int_equal(total(&y->dur), 100);
	}
	{
		struct perfbpf_event e = ev(PERFBPF_EV_SPAN, 1, "run", "", 5, 5);

		e.flags = PERFBPF_F_NAMES_ID;
		e.names_id = 30;
		assert_int_equal(kseries_agg__add(by_id, &e), 0);
	}
	assert_int_equal(kseries_agg__add_op(by_id, 30, 9, 1), -ENOENT);   /* a span's */
	assert_int_equal(kseries_agg__add_op(by_id, 11, 9, 1), -ENOENT);   /* never seen */
	assert_int_equal(kseries_agg__add_op(by_id, 10 + 4096, 9, 1), -ENOENT); /* its slot's */
	assert_int_equal(kseries_agg__add_op(by_id, 0, 9, 1), -ENOENT);
	kseries_agg__drop_pid(by_id, 1);
	assert_int_equal(kseries_agg__add_op(by_id, 10, 9, 1), -ENOENT);
	assert_int_equal(kseries_agg__add_op(by_id, 20, 9, 1), -ENOENT); /* the memo is cleared */
	kseries_agg__free(whole);
	kseries_agg__free(by_id);
}

/* Names that fill their fields without a NUL are cut to the field, as one key. */
static void test_unterminated(void **state)
{
	struct kseries_agg *a = kseries_agg__new(false, 10);
	struct perfbpf_event e;
	size_t n;
	struct kseries *const *v;

	(void)state;
	memset(&e, 'Q', sizeof(e));
	e.kind = PERFBPF_EV_OP;
	e.pid = 1;
	e.end_ns = 1;
	e.duration_ns = 3;
	e.self_ns = 3;
	assert_int_equal(kseries_agg__add(a, &e), 0);
	assert_int_equal(kseries_agg__add(a, &e), 0);
	v = kseries_agg__series(a, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->count, 2);
	assert_int_equal(strlen(v[0]->metric), PERFBPF_METRIC_LEN - 1);
	assert_int_equal(strlen(v[0]->symbol), PERFBPF_SYMBOL_LEN - 1);
	kseries_agg__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_limit_and_kinds),
		cmocka_unit_test(test_ops_by_names_id),
		cmocka_unit_test(test_per_pid_drop),
		cmocka_unit_test(test_unterminated),
	};

	return cmocka_run_group_tests_name("unit: monitor series in userspace", tests, NULL, NULL);
}
