// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: ring-buffer records to events and notes (user/collect/record.c), every kind, and
 * every way a record can fail to hold together (each one counted, none used). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "user/collect/record.h"

struct decoded {
	enum record_type type;
	const struct perfbpf_event *ev;
	const struct perfbpf_note *note;
	struct perfbpf_event scratch;
	struct record_counts counts;
};

static enum record_type dec(struct decoded *d, const void *data, size_t size)
{
	d->ev = NULL;
	d->note = NULL;
	d->type = record__decode(data, size, &d->scratch, &d->ev, &d->note, &d->counts);
	return d->type;
}

/* A packed op with the three fields given as (bytes, length) at the record's end. */
static size_t packed_op(uint8_t *buf, uint32_t flags, const char *const f[3], const uint16_t n[3])
{
	struct perfbpf_op_packed *p = (struct perfbpf_op_packed *)buf;
	size_t off = PERFBPF_PACKED_HDR;

	memset(buf, 0, PERFBPF_PACKED_MAX);
	p->h.kind = PERFBPF_EV_OP_PACKED;
	p->h.flags = flags;
	p->h.pid = 7;
	p->h.tid = 8;
	p->h.end_ns = 5000;
	p->h.duration_ns = 120;
	p->h.ro_gen = 3;
	for (int i = 0; i < 3; i++) {
		p->len[i] = n[i];
		memcpy(buf + off, f[i], n[i]);
		off += n[i];
	}
	return off;
}

static void test_whole_events_in_place(void **state)
{
	struct perfbpf_event e;
	struct decoded d = { 0 };

	(void)state;
	memset(&e, 0, sizeof(e));
	e.kind = PERFBPF_EV_SPAN;
	e.duration_ns = 77;
	strcpy(e.names.metric, "tick");
	assert_int_equal(dec(&d, &e, sizeof(e)), RECORD_EVENT);
	assert_ptr_equal(d.ev, &e); /* not copied */
	e.kind = PERFBPF_EV_OP;
	assert_int_equal(dec(&d, &e, sizeof(e)), RECORD_EVENT);
	assert_int_equal(d.counts.malformed, 0);
	assert_int_equal(dec(&d, &e, sizeof(e) - 1), RECORD_MALFORMED);
	assert_int_equal(d.counts.malformed, 1);
}

static void test_unknown_and_short(void **state)
{
	uint32_t kinds[] = { 0xffffffffu, 99, PERFBPF_EV_V3_END + 1 };
	uint8_t buf[512] = { 0 };
	struct decoded d = { 0 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		memcpy(buf, &kinds[i], sizeof(kinds[i]));
		assert_int_equal(dec(&d, buf, sizeof(buf)), RECORD_MALFORMED);
	}
	assert_int_equal(dec(&d, buf, 3), RECORD_MALFORMED);  /* shorter than a kind */
	assert_int_equal(dec(&d, buf, 0), RECORD_MALFORMED);
	assert_int_equal(d.counts.malformed, 5);
}

static void test_op_ref(void **state)
{
	struct perfbpf_op_ref r;
	struct decoded d = { 0 };
	uint64_t addr;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.h.kind = PERFBPF_EV_OP_REF;
	r.h.flags = PERFBPF_F_REF_ALL;
	r.h.pid = 11;
	r.h.tid = 12;
	r.h.end_ns = 9000;
	r.h.duration_ns = 42;
	r.h.ro_gen = 2;
	r.addr[0] = 0x401000;
	r.addr[1] = 0x401010;
	r.addr[2] = 0x401020;
	assert_int_equal(dec(&d, &r, sizeof(r)), RECORD_EVENT);
	assert_ptr_equal(d.ev, &d.scratch);
	assert_int_equal(d.ev->kind, PERFBPF_EV_OP);
	assert_int_equal(d.ev->flags, PERFBPF_F_REF_ALL);
	assert_int_equal(d.ev->pid, 11);
	assert_int_equal(d.ev->tid, 12);
	assert_int_equal(d.ev->end_ns, 9000);
	assert_int_equal(d.ev->duration_ns, 42);
	assert_int_equal(d.ev->self_ns, 42);
	assert_int_equal(d.ev->ro_gen, 2);
	memcpy(&addr, d.ev->names.symbol, sizeof(addr));
	assert_int_equal(addr, 0x401010);
	memcpy(&addr, d.ev->names.strategy, sizeof(addr));
	assert_int_equal(addr, 0x401020);
	assert_int_equal(dec(&d, &r, sizeof(r) - 1), RECORD_MALFORMED);
	/* addresses without the flags that say so would be read as names */
	r.h.flags = PERFBPF_F_REF_METRIC;
	assert_int_equal(dec(&d, &r, sizeof(r)), RECORD_MALFORMED);
	assert_int_equal(d.counts.malformed, 2);
}

static void test_op_packed(void **state)
{
	static uint8_t buf[PERFBPF_PACKED_MAX + 64];
	const char *const names[3] = { "tick", "BTC", "sma" };
	struct decoded d = { 0 };
	uint64_t addr = 0x7000, got;
	size_t n;

	(void)state;
	n = packed_op(buf, 0, names, (uint16_t[]){ 5, 4, 4 });
	assert_int_equal(dec(&d, buf, n), RECORD_EVENT);
	assert_int_equal(d.ev->kind, PERFBPF_EV_OP);
	assert_string_equal(d.ev->names.metric, "tick");
	assert_string_equal(d.ev->names.symbol, "BTC");
	assert_string_equal(d.ev->names.strategy, "sma");
	assert_int_equal(d.ev->duration_ns, 120);
	assert_int_equal(d.ev->end_ns, 5000);
	/* a field whose last byte is not a NUL is cut there */
	n = packed_op(buf, 0, (const char *const[]){ "tickX", "BTC", "sma" },
		      (uint16_t[]){ 5, 4, 4 });
	assert_int_equal(dec(&d, buf, n), RECORD_EVENT);
	assert_string_equal(d.ev->names.metric, "tick");
	/* a read-only reference: 8 bytes of address */
	n = packed_op(buf, PERFBPF_F_REF_SYMBOL, (const char *const[]){ "tick", (char *)&addr, "s" },
		      (uint16_t[]){ 5, 8, 2 });
	assert_int_equal(dec(&d, buf, n), RECORD_EVENT);
	memcpy(&got, d.ev->names.symbol, sizeof(got));
	assert_int_equal(got, 0x7000);
	assert_string_equal(d.ev->names.strategy, "s");
	assert_int_equal(d.counts.malformed, 0);

	/* lengths that do not hold together */
	n = packed_op(buf, 0, names, (uint16_t[]){ 0, 4, 4 });            /* empty field */
	assert_int_equal(dec(&d, buf, n), RECORD_MALFORMED);
	n = packed_op(buf, 0, names, (uint16_t[]){ 5, 4, 4 });
	((struct perfbpf_op_packed *)buf)->len[1] = PERFBPF_SYMBOL_LEN + 1; /* over its field */
	assert_int_equal(dec(&d, buf, PERFBPF_PACKED_MAX), RECORD_MALFORMED);
	n = packed_op(buf, 0, names, (uint16_t[]){ 5, 4, 4 });
	assert_int_equal(dec(&d, buf, n - 1), RECORD_MALFORMED);        /* past the record */
	n = packed_op(buf, PERFBPF_F_REF_METRIC, names, (uint16_t[]){ 5, 4, 4 }); /* ref not 8 */
	assert_int_equal(dec(&d, buf, n), RECORD_MALFORMED);
	assert_int_equal(dec(&d, buf, PERFBPF_PACKED_HDR - 1), RECORD_MALFORMED); /* no header */
	((struct perfbpf_op_packed *)buf)->len[0] = 0xffff;
	assert_int_equal(dec(&d, buf, sizeof(buf)), RECORD_MALFORMED);
	assert_int_equal(d.counts.malformed, 6);
}

static void test_span_packed(void **state)
{
	static uint8_t buf[PERFBPF_SPAN_PACKED_MAX + 64];
	struct perfbpf_span_packed *p = (struct perfbpf_span_packed *)buf;
	struct perfbpf_attribution at = { .oncpu_ns = 60, .runq_ns = 30, .blocked_ns = 10,
					  .nvcsw = 1, .nivcsw = 2, .migrations = 3 };
	struct decoded d = { 0 };
	size_t off = PERFBPF_SPAN_PACKED_HDR;

	(void)state;
	memset(buf, 0, sizeof(buf));
	p->kind = PERFBPF_EV_SPAN_PACKED;
	p->flags = PERFBPF_F_ATTRIBUTED;
	p->pid = 1;
	p->tid = 2;
	p->end_ns = 1000;
	p->duration_ns = 100;
	p->self_ns = 40;
	p->span_id = 0x200000005ull;
	p->parent_id = 0x200000004ull;
	p->trace_id = 0x200000001ull;
	p->depth = 3;
	memcpy(buf + off, &at, sizeof(at));
	off += sizeof(at);
	memcpy(buf + off, "order\0BTC\0s", 11);
	p->len[0] = 6;
	p->len[1] = 4;
	p->len[2] = 1;
	off += 11;
	assert_int_equal(dec(&d, buf, off), RECORD_EVENT);
	assert_int_equal(d.ev->kind, PERFBPF_EV_SPAN);
	assert_int_equal(d.ev->self_ns, 40);
	assert_int_equal(d.ev->span_id, 0x200000005ull);
	assert_int_equal(d.ev->parent_id, 0x200000004ull);
	assert_int_equal(d.ev->trace_id, 0x200000001ull);
	assert_int_equal(d.ev->depth, 3);
	assert_int_equal(d.ev->attr.runq_ns, 30);
	assert_int_equal(d.ev->attr.migrations, 3);
	assert_string_equal(d.ev->names.metric, "order");
	assert_string_equal(d.ev->names.symbol, "BTC");
	assert_string_equal(d.ev->names.strategy, ""); /* 1 byte: cut to nothing */
	/* attribution flagged but the record ends inside it */
	assert_int_equal(dec(&d, buf, PERFBPF_SPAN_PACKED_HDR + sizeof(at) - 1), RECORD_MALFORMED);
	assert_int_equal(dec(&d, buf, PERFBPF_SPAN_PACKED_HDR - 1), RECORD_MALFORMED);
	/* without attribution the names follow the header directly: here, attribution bytes */
	p->flags = 0;
	p->len[0] = 64;
	assert_int_equal(dec(&d, buf, PERFBPF_SPAN_PACKED_HDR + 10), RECORD_MALFORMED);
	assert_int_equal(d.counts.malformed, 3);
}

static void test_notes(void **state)
{
	struct perfbpf_note n;
	struct decoded d = { 0 };
	const uint32_t kinds[] = { PERFBPF_EV_ATTR, PERFBPF_EV_EVENT, PERFBPF_EV_ERROR };

	(void)state;
	memset(&n, 0, sizeof(n));
	for (size_t i = 0; i < 3; i++) {
		n.kind = kinds[i];
		assert_int_equal(dec(&d, &n, sizeof(n)), RECORD_NOTE);
		assert_ptr_equal(d.note, &n);
		assert_int_equal(dec(&d, &n, sizeof(n) - 1), RECORD_MALFORMED);
	}
	assert_int_equal(d.counts.malformed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_events_in_place),
		cmocka_unit_test(test_unknown_and_short),
		cmocka_unit_test(test_op_ref),
		cmocka_unit_test(test_op_packed),
		cmocka_unit_test(test_span_packed),
		cmocka_unit_test(test_notes),
	};

	return cmocka_run_group_tests_name("unit: ring records", tests, NULL, NULL);
}
