// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the engine's side of probe ABI v3 (include/perfbpf/recorder.h), without a tracer.
 * The test raises the flush semaphore itself, so the macros record; the flush site is then a
 * plain function that returns. What the engine wrote (its thread's buffer, its key table) is
 * read back and checked: records, keys interned by contents (a heap buffer reused for another
 * symbol gets another key), truncated and unreadable names flagged, a full buffer starting a new
 * batch, and nothing at all written while the semaphore is down. */
#include <perfbpf/probe.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct perfbpf_rec *rec_at(uint32_t i)
{
	return perfbpf__recs(perfbpf__tls) + i;
}

static uint32_t head(void)
{
	return (uint32_t)perfbpf__tls->pos;
}

static const struct perfbpf_keydef *def_of(uint32_t key)
{
	assert_true(key > 0 && key <= perfbpf__proc.tab->count);
	return (const struct perfbpf_keydef *)(perfbpf__proc.tab + 1) + (key - 1);
}

static void arm(void)
{
	perfbpf_flush_semaphore = 1;
}

static void test_detached_writes_nothing(void **state)
{
	(void)state;
	perfbpf_flush_semaphore = 0;
	PERFBPF_OP("never", "X", "y", 1);
	PERFBPF_SPAN_BEGIN("never", "X", "y");
	assert_null(perfbpf__tls);
}

static void test_ops_and_keys(void **state)
{
	uint32_t h0, k;
	const struct perfbpf_keydef *d;

	(void)state;
	arm();
	PERFBPF_OP("tick", "AAPL", "mom", 40);
	assert_non_null(perfbpf__tls);
	assert_int_equal(perfbpf__tls->magic, PERFBPF_TBUF_MAGIC);
	assert_int_equal(perfbpf__tls->version, PERFBPF_ABI_V3);
	assert_int_equal(perfbpf__tls->cap, PERFBPF_V3_BATCH);
	assert_int_equal(perfbpf__tls->keytab, (uint64_t)(uintptr_t)perfbpf__proc.tab);
	h0 = head();
	assert_true(h0 >= 1);
	k = rec_at(h0 - 1)->key;
	assert_int_equal(rec_at(h0 - 1)->kind, PERFBPF_REC_OP);
	assert_int_equal(rec_at(h0 - 1)->value, 40);
	d = def_of(k);
	assert_string_equal(d->metric, "tick");
	assert_string_equal(d->symbol, "AAPL");
	assert_string_equal(d->strategy, "mom");
	assert_int_equal(d->ready, 1);
	PERFBPF_OP("tick", "AAPL", "mom", 41);
	assert_int_equal(head(), h0 + 1);
	assert_int_equal(rec_at(h0)->key, k);
	assert_true(rec_at(h0)->ts >= rec_at(h0 - 1)->ts);
	/* the same names from another call site, and through a pointer: the same key */
	{
		char sym[8] = "AAPL";

		PERFBPF_OP("tick", sym, "mom", 42);
		assert_int_equal(rec_at(h0 + 1)->key, k);
	}
}

/* One buffer, rewritten with another symbol before each op: each op gets the key of what the
 * buffer held. */
static void test_heap_buffer_reuse(void **state)
{
	char *buf = malloc(32);
	uint32_t keys[6];

	(void)state;
	arm();
	assert_non_null(buf);
	for (int i = 0; i < 6; i++) {
		strcpy(buf, i % 3 == 0 ? "AAA" : i % 3 == 1 ? "BBBBBBBB" : "AAA2");
		PERFBPF_OP("heap.op", buf, "heap", (uint64_t)i);
		keys[i] = rec_at(head() - 1)->key;
	}
	assert_true(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
	assert_int_equal(keys[3], keys[0]);
	assert_int_equal(keys[4], keys[1]);
	assert_int_equal(keys[5], keys[2]);
	assert_string_equal(def_of(keys[2])->symbol, "AAA2");
	free(buf);
}

/* An op with buf as the metric (f 0), the symbol (1) or the strategy (2); the key it got, whose
 * string in that field is checked to be buf's. */
static uint32_t op_with(int f, const char *buf)
{
	const struct perfbpf_keydef *d;
	uint32_t k;

	if (f == 0)
		PERFBPF_OP(buf, "S", "st", 1);
	else if (f == 1)
		PERFBPF_OP("m", buf, "st", 1);
	else
		PERFBPF_OP("m", "S", buf, 1);
	k = rec_at(head() - 1)->key;
	d = def_of(k);
	assert_string_equal(f == 0 ? d->metric : f == 1 ? d->symbol : d->strategy, buf);
	return k;
}

/* A buffer rewritten in place at every length a field holds, one byte at a time: a byte changed
 * anywhere (the first, one in the middle of a word, the last, the NUL) or the string cut short
 * there gets the key of what the buffer holds, and the string put back its first key (the
 * cached key's strings are compared a word at a time). */
static void test_reused_buffer_every_byte(void **state)
{
	static const size_t sizes[3] = { PERFBPF_NAME_METRIC, PERFBPF_NAME_SYMBOL,
					 PERFBPF_NAME_STRATEGY };

	(void)state;
	arm();
	for (int f = 0; f < 3; f++) {
		char *buf = malloc(sizes[f]);

		assert_non_null(buf);
		for (size_t len = 0; len + 1 < sizes[f]; len++) {
			uint32_t k0;

			for (size_t i = 0; i < len; i++)
				buf[i] = (char)('a' + (i + len) % 26);
			buf[len] = '\0';
			k0 = op_with(f, buf);
			for (size_t j = 0; j <= len; j++) {
				char was = buf[j];

				if (j == len)
					buf[j + 1] = '\0';
				buf[j] = 'Z'; /* another byte there; at len, one more */
				assert_int_not_equal(op_with(f, buf), k0);
				if (j < len) {
					buf[j] = '\0'; /* cut short there */
					assert_int_not_equal(op_with(f, buf), k0);
				}
				buf[j] = was;
				assert_int_equal(op_with(f, buf), k0);
			}
		}
		free(buf);
	}
}

/* A thread's records are stamped in increasing order whatever the clock reads: after a stamp
 * ahead of the clock (as another object's record may have, with a coarse clock or across a
 * migration), each record is stamped one more than the one before, and a span's end still
 * comes after its begin. */
static void test_stamps_increase(void **state)
{
	uint64_t ahead, first;

	(void)state;
	arm();
	/* the keys first (a new key flushes: a new batch), and room for the records below */
	PERFBPF_SPAN_BEGIN("stamp.span", "S", "st");
	PERFBPF_SPAN_END("stamp.span");
	while (head() + 8 >= PERFBPF_V3_BATCH)
		PERFBPF_OP("stamp.op", "S", "st", 0);
	PERFBPF_OP("stamp.op", "S", "st", 1);
	first = rec_at(head() - 1)->ts;
	assert_int_equal(perfbpf_thread_stamp, first);
	ahead = first + (1ull << 40);
	perfbpf_thread_stamp = ahead;
	PERFBPF_OP("stamp.op", "S", "st", 2);
	assert_int_equal(rec_at(head() - 1)->ts, ahead + 1);
	PERFBPF_SPAN_BEGIN("stamp.span", "S", "st");
	PERFBPF_SPAN_END("stamp.span");
	assert_int_equal(rec_at(head() - 2)->ts, ahead + 2);
	assert_int_equal(rec_at(head() - 1)->ts, ahead + 3);
	assert_int_equal(perfbpf_thread_stamp, ahead + 3);
	perfbpf_thread_stamp = 0; /* the clock's own stamps again */
	PERFBPF_OP("stamp.op", "S", "st", 3);
	assert_true(rec_at(head() - 1)->ts >= first && rec_at(head() - 1)->ts < ahead);
}

/* One call site in an inline function, inlined into callers that pass other literals: the
 * site's static is shared by all of them, and each op still gets the key of its own names. */
static inline __attribute__((always_inline)) void inlined_op(const char *metric, const char *span)
{
	PERFBPF_OP(metric, "INL", "inline", 1);
	PERFBPF_SPAN_BEGIN(span, "INL", "inline");
	PERFBPF_SPAN_END(span);
}

/* The last three records: the op, the span's open and its end, each with its own names. */
static void check_last(const char *metric, const char *span)
{
	assert_true(head() >= 3);
	assert_int_equal(rec_at(head() - 3)->kind, PERFBPF_REC_OP);
	assert_string_equal(def_of(rec_at(head() - 3)->key)->metric, metric);
	assert_int_equal(rec_at(head() - 2)->kind, PERFBPF_REC_SPAN_BEGIN);
	assert_string_equal(def_of(rec_at(head() - 2)->key)->metric, span);
	assert_int_equal(rec_at(head() - 1)->kind, PERFBPF_REC_SPAN_END);
	assert_string_equal(def_of(rec_at(head() - 1)->key)->metric, span);
}

static void test_inlined_literal_sites(void **state)
{
	(void)state;
	arm();
	/* each key's first use defines it and flushes: checked once all are defined */
	for (int i = 0; i < 2; i++) {
		inlined_op("inl.a", "inl.span.a");
		inlined_op("inl.b", "inl.span.b");
		inlined_op("inl.c", "inl.span.c");
	}
	for (int i = 0; i < 3; i++) {
		inlined_op("inl.a", "inl.span.a");
		check_last("inl.a", "inl.span.a");
		inlined_op("inl.b", "inl.span.b");
		check_last("inl.b", "inl.span.b");
		inlined_op("inl.c", "inl.span.c");
		check_last("inl.c", "inl.span.c");
	}
}

/* The same shared site claimed by threads at once, each with its own literal: no op ever gets
 * another thread's key. */
static void *inlined_racer(void *arg)
{
	const char *metric = arg;

	for (int i = 0; i < 20000; i++) {
		if (metric[5] == 'a')
			inlined_op("race.a", "race.span");
		else if (metric[5] == 'b')
			inlined_op("race.b", "race.span");
		else
			inlined_op("race.c", "race.span");
		if (head() >= 3 && strcmp(def_of(rec_at(head() - 3)->key)->metric, metric) != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_inlined_site_raced(void **state)
{
	static const char *const metrics[3] = { "race.a", "race.b", "race.c" };
	pthread_t th[3];
	void *bad;

	(void)state;
	arm();
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, inlined_racer, (void *)metrics[i]), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_null(bad);
	}
}

static void test_names_flagged(void **state)
{
	char longsym[100];
	const struct perfbpf_keydef *d;

	(void)state;
	arm();
	memset(longsym, 'x', sizeof(longsym) - 1);
	longsym[sizeof(longsym) - 1] = '\0';
	PERFBPF_OP("long", longsym, NULL, 1);
	d = def_of(rec_at(head() - 1)->key);
	assert_int_equal(strlen(d->symbol), PERFBPF_NAME_SYMBOL - 1);
	assert_int_equal(d->strategy[0], '\0');
	assert_int_equal(d->ready >> 1, PERFBPF_KEYDEF_TRUNCATED);
	/* exactly 31 characters fit the 32-byte field: not cut */
	longsym[PERFBPF_NAME_SYMBOL - 1] = '\0';
	PERFBPF_OP("long", longsym, NULL, 1);
	assert_int_equal(def_of(rec_at(head() - 1)->key)->ready, 1);
	/* an address the engine cannot read: recorded, flagged, never dereferenced */
	PERFBPF_OP("bad", (const char *)8, "s", 1);
	d = def_of(rec_at(head() - 1)->key);
	assert_int_equal(d->symbol[0], '\0');
	assert_true((d->ready >> 1) & PERFBPF_KEYDEF_FAULT);
}

static void test_spans(void **state)
{
	uint32_t h;

	(void)state;
	arm();
	/* each new key is flushed at once (its definition must reach the tracer first), which
	 * starts a new batch: the second pair lands in one batch */
	for (int i = 0; i < 2; i++) {
		PERFBPF_SPAN_BEGIN("order", "AAPL", "mom");
		PERFBPF_SPAN_END("order");
	}
	h = head();
	assert_true(h >= 2);
	assert_int_equal(rec_at(h - 2)->kind, PERFBPF_REC_SPAN_BEGIN);
	assert_int_equal(rec_at(h - 1)->kind, PERFBPF_REC_SPAN_END);
	assert_string_equal(def_of(rec_at(h - 2)->key)->symbol, "AAPL");
	assert_string_equal(def_of(rec_at(h - 1)->key)->metric, "order");
	assert_string_equal(def_of(rec_at(h - 1)->key)->symbol, "");
	assert_true(rec_at(h - 1)->ts >= rec_at(h - 2)->ts);
}

/* Spans with ids: a root is one SPAN_OPEN record with its id; a child is SPAN_PARENT (the
 * parent's id) then SPAN_OPEN, one key for both; SPAN_CLOSE carries the id and the name's key.
 * perfbpf_span_id() never gives 0 nor the same id twice in a row. */
static void test_spans_with_ids(void **state)
{
	uint64_t root = perfbpf_span_id(), child = perfbpf_span_id();
	uint32_t h;

	(void)state;
	assert_true(root && child && root != child);
	arm();
	for (int i = 0; i < 2; i++) { /* the second round: every key already defined */
		PERFBPF_SPAN_OPEN("task", "AAPL", "mom", root, 0);
		PERFBPF_SPAN_OPEN("fetch", "AAPL", "mom", child, root);
		PERFBPF_SPAN_CLOSE("task", root);
		PERFBPF_SPAN_CLOSE("fetch", child);
	}
	h = head();
	assert_true(h >= 5);
	assert_int_equal(rec_at(h - 5)->kind, PERFBPF_REC_SPAN_OPEN);
	assert_int_equal(rec_at(h - 5)->value, root);
	assert_int_equal(rec_at(h - 4)->kind, PERFBPF_REC_SPAN_PARENT);
	assert_int_equal(rec_at(h - 4)->value, root);
	assert_int_equal(rec_at(h - 3)->kind, PERFBPF_REC_SPAN_OPEN);
	assert_int_equal(rec_at(h - 3)->value, child);
	assert_int_equal(rec_at(h - 4)->key, rec_at(h - 3)->key);
	assert_string_equal(def_of(rec_at(h - 3)->key)->metric, "fetch");
	assert_string_equal(def_of(rec_at(h - 3)->key)->strategy, "mom");
	assert_int_equal(rec_at(h - 2)->kind, PERFBPF_REC_SPAN_CLOSE);
	assert_int_equal(rec_at(h - 2)->value, root);
	assert_string_equal(def_of(rec_at(h - 2)->key)->metric, "task");
	assert_string_equal(def_of(rec_at(h - 2)->key)->symbol, "");
	assert_int_equal(rec_at(h - 1)->value, child);
}

/* A full buffer is flushed and the next batch starts at record 0, in one store of pos. */
static void test_full_buffer_next_batch(void **state)
{
	uint32_t batch;

	(void)state;
	arm();
	PERFBPF_OP("fill", "F", "f", 0);
	batch = (uint32_t)(perfbpf__tls->pos >> 32);
	while ((uint32_t)(perfbpf__tls->pos >> 32) == batch)
		PERFBPF_OP("fill", "F", "f", 0);
	assert_int_equal(head(), 0);
	assert_int_equal((uint32_t)(perfbpf__tls->pos >> 32), batch + 1);
	PERFBPF_OP("fill", "F", "f", 7);
	assert_int_equal(head(), 1);
	assert_int_equal(rec_at(0)->value, 7);
}

static void *record_once(void *arg)
{
	PERFBPF_OP("thread.op", "T", "t", 1);
	*(struct perfbpf_tbuf **)arg = perfbpf__tls;
	return NULL;
}

/* A thread's buffer goes back to the pool when it exits (its tid cleared, so that the kernel's
 * exit hook leaves it to its next owner) and the next thread takes it. */
static void test_buffer_reused_after_thread_exit(void **state)
{
	struct perfbpf_tbuf *first = NULL, *second = NULL;
	pthread_t th;

	(void)state;
	arm();
	assert_int_equal(pthread_create(&th, NULL, record_once, &first), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(first);
	assert_int_equal(first->tid, 0);
	assert_int_equal((uint32_t)first->pos, 0); /* its records were flushed */
	assert_int_equal(pthread_create(&th, NULL, record_once, &second), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_ptr_equal(second, first);
}

/* The string held by the n BYTES records at i. */
static void bytes_at(uint32_t i, uint32_t n, char *out)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct perfbpf_rec *r = rec_at(i + k);

		assert_int_equal(r->kind, PERFBPF_REC_BYTES);
		perfbpf_note_bytes_get(r->key, r->ts, r->value,
				       (unsigned char *)out + k * PERFBPF_NOTE_BYTES);
	}
	out[n * PERFBPF_NOTE_BYTES] = '\0';
}

/* Span notes while the tracer has armed the notes site: a record each, a string's bytes in the
 * records after it (cut at 127 bytes, flagged), keys interned like any names; a note never
 * split across two batches; nothing recorded while the notes site is down. */
static void test_notes_recorded(void **state)
{
	char str[8 * PERFBPF_NOTE_BYTES + 1], big[201];
	uint32_t h, batch;
	double px = 99.5, back;

	(void)state;
	arm();
	perfbpf_notes_semaphore = 0;
	PERFBPF_OP("notes.op", "N", "n", 1);
	h = head();
	PERFBPF_SPAN_ATTR_STR("order.side", "buy");
	PERFBPF_SPAN_ERROR("no");
	assert_int_equal(head(), h);
	assert_false(PERFBPF_SPAN_ATTRS_ENABLED());

	perfbpf_notes_semaphore = 1;
	assert_true(PERFBPF_SPAN_ATTRS_ENABLED());
	PERFBPF_SPAN_ATTR_STR("order.side", "buy");
	h = head();
	assert_int_equal(rec_at(h - 2)->kind, PERFBPF_REC_ATTR_STR);
	assert_int_equal(rec_at(h - 2)->value, 3);
	assert_string_equal(def_of(rec_at(h - 2)->key)->metric, "order.side");
	assert_string_equal(def_of(rec_at(h - 2)->key)->symbol, "");
	bytes_at(h - 1, 1, str);
	assert_string_equal(str, "buy");

	/* (a new key's definition is flushed: the records below are the last ones written) */
	PERFBPF_SPAN_ATTR_INT("order.qty", -5);
	h = head();
	assert_int_equal(rec_at(h - 1)->kind, PERFBPF_REC_ATTR_INT);
	assert_int_equal((int64_t)rec_at(h - 1)->value, -5);
	PERFBPF_SPAN_ATTR_DOUBLE("order.px", px);
	h = head();
	assert_int_equal(rec_at(h - 1)->kind, PERFBPF_REC_ATTR_DOUBLE);
	memcpy(&back, &rec_at(h - 1)->value, sizeof(back));
	assert_true(back == px);

	PERFBPF_SPAN_EVENT("order.filled", "fill.price", "99.50000000000000000001");
	h = head();
	assert_int_equal(rec_at(h - 3)->kind, PERFBPF_REC_EVENT);
	assert_int_equal(rec_at(h - 3)->value, 23);
	assert_string_equal(def_of(rec_at(h - 3)->key)->metric, "order.filled");
	assert_string_equal(def_of(rec_at(h - 3)->key)->strategy, "fill.price");
	bytes_at(h - 2, 2, str);
	assert_string_equal(str, "99.50000000000000000001");
	PERFBPF_SPAN_EVENT("order.rejected", NULL, "ignored");
	h = head();
	assert_int_equal(rec_at(h - 1)->kind, PERFBPF_REC_EVENT); /* no attribute: no string */
	assert_int_equal(rec_at(h - 1)->value, 0);
	assert_string_equal(def_of(rec_at(h - 1)->key)->metric, "order.rejected");
	assert_string_equal(def_of(rec_at(h - 1)->key)->strategy, "");

	PERFBPF_SPAN_ERROR(NULL);
	h = head();
	assert_int_equal(rec_at(h - 1)->kind, PERFBPF_REC_ERROR);
	assert_int_equal(rec_at(h - 1)->key, 0);
	assert_int_equal(rec_at(h - 1)->value, 0);

	memset(big, 'q', 200);
	big[200] = '\0';
	PERFBPF_SPAN_ATTR_STR("client_order_id", big);
	PERFBPF_SPAN_ATTR_STR("client_order_id", big); /* its key known: no flush in between */
	h = head();
	assert_int_equal(rec_at(h - 16)->kind, PERFBPF_REC_ATTR_STR);
	assert_int_equal(rec_at(h - 8)->value, 127 | PERFBPF_NOTE_CUT);
	{
		char whole[8 * PERFBPF_NOTE_BYTES + 1];

		bytes_at(h - 7, 7, whole);
		assert_int_equal(strlen(whole), 127);
	}
	PERFBPF_SPAN_SELECT(77);
	assert_int_equal(rec_at(h)->kind, PERFBPF_REC_SPAN_SELECT);
	assert_int_equal(rec_at(h)->value, 77);

	/* two records from the batch's end: the 3-record note starts the next batch */
	batch = (uint32_t)(perfbpf__tls->pos >> 32);
	while (head() != PERFBPF_V3_BATCH - 2)
		PERFBPF_OP("notes.op", "N", "n", 1);
	PERFBPF_SPAN_ATTR_STR("order.side", "twenty-one bytes long");
	assert_int_equal((uint32_t)(perfbpf__tls->pos >> 32), batch + 1);
	assert_int_equal(head(), 3);
	assert_int_equal(rec_at(0)->kind, PERFBPF_REC_ATTR_STR);
	bytes_at(1, 2, str);
	assert_string_equal(str, "twenty-one bytes long");
	perfbpf_notes_semaphore = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detached_writes_nothing),
		cmocka_unit_test(test_ops_and_keys),
		cmocka_unit_test(test_spans_with_ids),
		cmocka_unit_test(test_heap_buffer_reuse),
		cmocka_unit_test(test_reused_buffer_every_byte),
		cmocka_unit_test(test_stamps_increase),
		cmocka_unit_test(test_inlined_literal_sites),
		cmocka_unit_test(test_inlined_site_raced),
		cmocka_unit_test(test_names_flagged),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_full_buffer_next_batch),
		cmocka_unit_test(test_buffer_reused_after_thread_exit),
		cmocka_unit_test(test_notes_recorded),
	};

	return cmocka_run_group_tests_name("unit: ABI v3 engine recorder", tests, NULL, NULL);
}
