// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: a stream of probe ABI v3 ring records (user/collect/batch_decoder.c): key
 * definitions, batches, scheduler transitions, collection ends and thread exits. The BPF side
 * copies the batches from the engine's memory as the engine wrote them: any record id, kind,
 * stamp or count. The input is a sequence of records, each a 2-byte length and that many bytes.
 * Any input: no crash, no read past a record (each is copied to a buffer of exactly its size);
 * every event handed on has terminated names, a known kind, and, when attributed, on-CPU,
 * run-queue and blocked times that sum to its duration; events with one names_id have the same
 * names; the decoder's event count is the number of events handed on; span notes recorded in
 * the buffer have a known kind and value type, terminated strings and a span. With the first
 * byte's bit 1, ops also go to a reader of statistics (batch_decoder__set_op_fn) that, as the
 * aggregation does, takes those of a names_id it has had a whole op event of: each op is then
 * handed on once, one way or the other. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/collect/batch_decoder.h"

static uint64_t seen;
static struct perfbpf_names *names_of; /* by names_id, for the first NAMES ids of an input */
#define NAMES 4096
static unsigned char *op_known; /* names_id of a whole op event handed on (check_op takes it) */

static int check(void *ctx, const struct perfbpf_event *e)
{
	(void)ctx;
	if (e->flags & PERFBPF_F_NAMES_ID) {
		if (e->names_id == 0)
			abort();
		if (e->names_id < NAMES) {
			struct perfbpf_names *n = &names_of[e->names_id];

			if (n->metric[0] == '\0' && n->symbol[0] == '\0' && n->strategy[0] == '\0')
				*n = e->names; /* first seen (all-empty names compare equal anyway) */
			else if (memcmp(n, &e->names, sizeof(*n)) != 0)
				abort();
		}
	}
	if (e->kind != PERFBPF_EV_OP && e->kind != PERFBPF_EV_SPAN)
		abort();
	if (!memchr(e->names.metric, '\0', sizeof(e->names.metric)) ||
	    !memchr(e->names.symbol, '\0', sizeof(e->names.symbol)) ||
	    !memchr(e->names.strategy, '\0', sizeof(e->names.strategy)))
		abort();
	if ((e->flags & PERFBPF_F_ATTRIBUTED) &&
	    e->attr.oncpu_ns + e->attr.runq_ns + e->attr.blocked_ns != e->duration_ns)
		abort();
	if (e->self_ns > e->duration_ns)
		abort();
	if (e->kind == PERFBPF_EV_OP && (e->flags & PERFBPF_F_NAMES_ID) && e->names_id < NAMES &&
	    !(e->flags & (PERFBPF_F_FAULT | PERFBPF_F_TRUNCATED)))
		op_known[e->names_id] = 1;
	seen++;
	return 0;
}

/* An op for statistics alone: a names_id it knows (else -ENOENT: the op comes whole). */
static int check_op(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	(void)ctx;
	(void)end_ns;
	(void)duration_ns;
	if (names_id == 0)
		abort();
	if (names_id >= NAMES || !op_known[names_id])
		return -ENOENT;
	seen++;
	return 0;
}

/* A span note recorded in the buffer: a known kind and value type, terminated strings, a span. */
static int check_note(void *ctx, const struct perfbpf_note *n)
{
	(void)ctx;
	if (n->kind != PERFBPF_EV_ATTR && n->kind != PERFBPF_EV_EVENT && n->kind != PERFBPF_EV_ERROR)
		abort();
	if (n->kind == PERFBPF_EV_ATTR && n->value_type != PERFBPF_VAL_STR &&
	    n->value_type != PERFBPF_VAL_INT && n->value_type != PERFBPF_VAL_DOUBLE)
		abort();
	if (!memchr(n->name, '\0', sizeof(n->name)) || !memchr(n->akey, '\0', sizeof(n->akey)) ||
	    !memchr(n->str, '\0', sizeof(n->str)) || n->span_id == 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tsc_clock clock;
	struct batch_decoder *d;

	if (clock.pairs == 0) {
		tsc_clock__add(&clock, 1000000, 400000);
		tsc_clock__add(&clock, 1000000000, 400000000);
	}
	seen = 0;
	if (!names_of && !(names_of = malloc(NAMES * sizeof(*names_of))))
		return 0;
	memset(names_of, 0, NAMES * sizeof(*names_of));
	if (!op_known && !(op_known = malloc(NAMES)))
		return 0;
	memset(op_known, 0, NAMES);
	d = batch_decoder__new(check, NULL, 0, &clock, size > 0 && (data[0] & 1));
	if (!d)
		return 0;
	batch_decoder__set_note_fn(d, check_note, NULL);
	if (size > 0 && (data[0] & 2))
		batch_decoder__set_op_fn(d, check_op);
	while (size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		uint8_t *rec;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		rec = malloc(n ? n : 1);
		if (!rec)
			break;
		memcpy(rec, data, n);
		if (batch_decoder__record(d, rec, n))
			abort(); /* the callback never fails and memory is plentiful */
		free(rec);
		data += n;
		size -= n;
	}
	if (batch_decoder__finish(d))
		abort();
	if (batch_decoder__counts(d)->events != seen)
		abort();
	batch_decoder__free(d);
	return 0;
}
