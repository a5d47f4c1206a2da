// SPDX-License-Identifier: BSD-2-Clause
/* The ring buffer's consumer (see ring_consumer.h). */
#include "user/collect/ring_consumer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "user/lib/util.h"

#define DRAIN_SLICE_NS 50000000ull /* longest consume while probes are attached */

struct ring_consumer {
	struct ring_buffer *rb;
	struct ring_consumer_opts opts;
	struct ro_strings *ro;         /* NULL: every string was copied */
	struct perfbpf_event decoded;  /* a compact record as the event it stands for */
	struct perfbpf_event resolved; /* an event with its PERFBPF_F_REF_* fields read */
	struct ring_consumer_counts counts;
	struct batch_decoder *batches; /* probe ABI v3 records */
	struct perfbpf_note note;      /* a v3 note with its span found */
	int cb_err;
	bool sliced;                   /* of the current poll */
	uint64_t slice_start, consumed;
};

/* Reads the fields the BPF side left in the target (PERFBPF_F_REF_*) into rc->resolved. */
static int resolve_strings(struct ring_consumer *rc, const struct perfbpf_event *e)
{
	struct perfbpf_event *r = &rc->resolved;
	struct {
		uint32_t flag;
		char *field;
		size_t size;
	} f[3] = {
		{ PERFBPF_F_REF_METRIC, r->names.metric, sizeof(r->names.metric) },
		{ PERFBPF_F_REF_SYMBOL, r->names.symbol, sizeof(r->names.symbol) },
		{ PERFBPF_F_REF_STRATEGY, r->names.strategy, sizeof(r->names.strategy) },
	};
	uint32_t flags = e->flags & ~PERFBPF_F_REF_ALL;

	*r = *e;
	for (int i = 0; i < 3; i++) {
		uint64_t addr;
		uint32_t fl = 0;
		int err;

		if (!(e->flags & f[i].flag))
			continue;
		memcpy(&addr, f[i].field, sizeof(addr));
		err = rc->ro ? ro_strings__read(rc->ro, e->ro_gen, addr, f[i].field, f[i].size, &fl)
			    : -EINVAL;
		if (err)
			return err;
		flags |= fl;
		rc->counts.ro_resolved++;
		/* counted as the kernel counts a copy that failed or was cut */
		if (fl & PERFBPF_F_FAULT)
			rc->counts.ro_faults++;
		if (fl & PERFBPF_F_TRUNCATED)
			rc->counts.ro_truncated++;
	}
	r->flags = flags;
	return 0;
}

/* Every record reaches on_event as a perfbpf_event with its strings in place, or on_note; one
 * that does not decode (user/collect/record.c) is counted as malformed and skipped. */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct ring_consumer *rc = ctx;
	const struct perfbpf_event *ev;
	const struct perfbpf_note *note;
	int err = 0;

	switch (record__decode(data, size, &rc->decoded, &ev, &note, &rc->counts.records)) {
	case RECORD_MALFORMED:
		return 0;
	case RECORD_V3:
		err = batch_decoder__record(rc->batches, data, size);
		break;
	case RECORD_NOTE:
		if (note->flags & PERFBPF_F_NOTE_V3) {
			/* about the innermost span its thread's records had open */
			rc->note = *note;
			note = &rc->note;
			if (batch_decoder__note(rc->batches, &rc->note))
				break;
		}
		err = rc->opts.on_note ? rc->opts.on_note(rc->opts.ctx, note) : 0;
		break;
	case RECORD_EVENT:
		if (ev->flags & PERFBPF_F_REF_ALL) {
			err = resolve_strings(rc, ev);
			ev = &rc->resolved;
		}
		err = err ?: rc->opts.on_event(rc->opts.ctx, ev);
		break;
	}
	rc->cb_err = err;
	if (err)
		return err;
	/* while probes are attached, a consume could go on as long as the engine fires: stop
	 * (this record is taken; libbpf has moved past it) when a stop is asked or the slice is up */
	if (rc->sliced && ((rc->opts.stop && *rc->opts.stop) ||
			   ((++rc->consumed & 1023) == 0 && mono_ns() - rc->slice_start > DRAIN_SLICE_NS)))
		return -EAGAIN;
	return 0;
}

struct ring_consumer *ring_consumer__new(int map_fd, const struct ring_consumer_opts *o,
					 struct ro_strings *ro)
{
	struct ring_consumer *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->opts = *o;
	rc->ro = ro;
	rc->batches = batch_decoder__new(o->on_event, o->ctx, o->start_ns, o->clock, o->attribution);
	if (!rc->batches) {
		free(rc);
		errno = ENOMEM;
		return NULL;
	}
	batch_decoder__set_note_fn(rc->batches, o->on_note, o->ctx);
	batch_decoder__set_op_fn(rc->batches, o->on_op);
	rc->rb = ring_buffer__new(map_fd, on_sample, rc, NULL);
	if (!rc->rb) {
		int err = errno;

		batch_decoder__free(rc->batches);
		free(rc);
		errno = err;
		return NULL;
	}
	return rc;
}

void ring_consumer__free(struct ring_consumer *rc)
{
	if (!rc)
		return;
	ring_buffer__free(rc->rb);
	batch_decoder__free(rc->batches);
	free(rc);
}

int ring_consumer__poll(struct ring_consumer *rc, int timeout_ms, bool sliced)
{
	int n, m;

	rc->sliced = sliced;
	rc->consumed = 0;
	rc->slice_start = mono_ns();
	n = ring_buffer__poll(rc->rb, timeout_ms);
	if (n == -EAGAIN && !rc->cb_err)
		return (int)rc->consumed; /* the slice is up: the rest stays in the ring */
	if (n < 0)
		return rc->cb_err ? rc->cb_err : n;
	/* Records submitted with BPF_RB_NO_WAKEUP wake nobody: take them on the timer. */
	m = ring_buffer__consume(rc->rb);
	if (m == -EAGAIN && !rc->cb_err)
		return (int)rc->consumed;
	if (m < 0)
		return rc->cb_err ? rc->cb_err : m;
	return n + m;
}

int ring_consumer__drain(struct ring_consumer *rc)
{
	int n;

	rc->sliced = false; /* everything, however long it takes */
	n = ring_buffer__consume(rc->rb);
	if (n >= 0) {
		int err = batch_decoder__finish(rc->batches);

		if (err)
			return err;
	}

	return n < 0 && rc->cb_err ? rc->cb_err : n;
}

const struct ring_consumer_counts *ring_consumer__counts(const struct ring_consumer *rc)
{
	return &rc->counts;
}

const struct batch_counts *ring_consumer__batch_counts(const struct ring_consumer *rc)
{
	return batch_decoder__counts(rc->batches);
}
