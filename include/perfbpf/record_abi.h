/* SPDX-License-Identifier: BSD-2-Clause */
/* Probe ABI v3: the memory an engine records its events in, as the engine writes it and the
 * perfbpf BPF programs read it. Included by <perfbpf/probe.h>, by the BPF programs and by the
 * userspace decoder: the one definition of these layouts. Documented in README.md ("Probe ABI
 * v3"); another language emits ABI v3 by writing exactly this memory and calling a flush site.
 *
 * - Each engine thread owns one buffer (struct perfbpf_tbuf): a 64-byte header, then `cap`
 *   records of 24 bytes. The thread appends a record and then advances `pos`; it never blocks.
 * - `pos` is (batch << 32) | head: records [0, head) of batch `batch` are complete. When the
 *   buffer is full the thread calls its flush site, then starts the next batch with one store:
 *   pos = (batch + 1) << 32. Only the owning thread writes the buffer, and perfbpf reads it only
 *   in that thread's context (its flush, a context switch away from it, a timer tick interrupting
 *   it, its exit or exec), so a reader never sees a record half written.
 * - Names are interned per process in one key table (struct perfbpf_keytab): a record carries a
 *   key id, the table holds each id's (metric, symbol, strategy) once. The engine calls a flush
 *   after adding a key, so the definition reaches perfbpf before any record that uses it.
 * - The flush site is the first instruction of a function the engine calls with the buffer's
 *   address in the first argument register: an SDT note perfbpf:flush (argument 8@%rdi on
 *   x86-64) at a 1-byte NOP, with the semaphore perfbpf_flush_semaphore. The engine records
 *   only while that semaphore is non-zero.
 * Everything here is written by the engine and so untrusted: perfbpf checks the magic, version,
 * capacity and cursor of every buffer and the id of every record, and counts what it rejects. */
#ifndef PERFBPF_RECORD_ABI_H
#define PERFBPF_RECORD_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PERFBPF_TBUF_MAGIC 0x33504250u  /* "PBP3" */
#define PERFBPF_KEYTAB_MAGIC 0x4b504250u /* "PBPK" */
#define PERFBPF_ABI_V3 3
#define PERFBPF_TBUF_MAX_CAP 4096 /* records per buffer perfbpf accepts */
#define PERFBPF_TBUF_HDR 64
#define PERFBPF_KEYS_MAX 65536 /* key ids perfbpf accepts (a larger table's extra keys are
				* counted as undefined) */
#define PERFBPF_KEYTABS_MAX 16 /* key tables (objects with ABI v3) per process perfbpf keeps */

/* struct perfbpf_tbuf.flags */
#define PERFBPF_TBUF_TSC 1u /* timestamps are TSC ticks (invariant TSC), else CLOCK_MONOTONIC ns */

enum perfbpf_rec_kind {
	PERFBPF_REC_OP = 1,         /* value: the op's duration in ns; ts: when it was reported */
	PERFBPF_REC_SPAN_BEGIN = 2, /* key: (name, symbol, strategy) */
	PERFBPF_REC_SPAN_END = 3,   /* key: (name, "", ""): ends the innermost open span so named */
	PERFBPF_REC_OP_SINCE = 4,   /* value: the op's start (PERFBPF_STAMP_*); ts: its end; its
				     * duration is ts - start, both in ns (PERFBPF_OP_SINCE) */
	/* Spans with explicit ids (PERFBPF_SPAN_OPEN): a span is named by a 64-bit id the engine
	 * chose (non-zero, unique among the process's open spans) and ends by it, on any thread
	 * and in any order, so spans that stay open across an await keep their own parent. */
	PERFBPF_REC_SPAN_PARENT = 5, /* key: as the SPAN_OPEN that follows it at once; value: the
				      * parent's id (absent: the span is a root) */
	PERFBPF_REC_SPAN_OPEN = 6,   /* key: (name, symbol, strategy); value: the span's id */
	PERFBPF_REC_SPAN_CLOSE = 7,  /* key: (name, "", ""); value: the id of the span it ends */
	/* Span notes (the v2 probes span_attr_*, span_event, span_error, span_select), recorded only
	 * while the tracer has also armed the notes site (semaphore perfbpf_notes_semaphore). Each
	 * annotates the span that is innermost in this thread's records where it stands (or the
	 * one the latest SPAN_SELECT named). A note with a string is followed at once by the
	 * PERFBPF_REC_BYTES records that hold the string, published with it (one cursor store). */
	PERFBPF_REC_ATTR_STR = 8,    /* key: (attribute key, "", ""); value: PERFBPF_NOTE_LEN */
	PERFBPF_REC_ATTR_INT = 9,    /* key: as ATTR_STR; value: the int64 */
	PERFBPF_REC_ATTR_DOUBLE = 10, /* key: as ATTR_STR; value: the double's IEEE-754 bits */
	PERFBPF_REC_EVENT = 11,      /* key: (event name, "", attribute key or ""); value:
				      * PERFBPF_NOTE_LEN of the attribute's value */
	PERFBPF_REC_ERROR = 12,      /* key: 0; value: PERFBPF_NOTE_LEN of the message */
	PERFBPF_REC_SPAN_SELECT = 13, /* key: 0; value: the span id later notes annotate (0: the
				       * innermost open span again) */
	PERFBPF_REC_BYTES = 14,      /* the next PERFBPF_NOTE_BYTES bytes of the note's string:
				      * bytes 0-3 of the record, then 8-23 (kind stays at 4-7) */
};

/* A note's string: value = its length in bytes (0 .. PERFBPF_NOTE_STR_MAX, no NUL), with
 * PERFBPF_NOTE_CUT set when the engine's string was longer; ceil(length / PERFBPF_NOTE_BYTES)
 * PERFBPF_REC_BYTES records follow. */
#define PERFBPF_NOTE_STR_MAX 127
#define PERFBPF_NOTE_BYTES 20
#define PERFBPF_NOTE_CUT (1ull << 32)
#define PERFBPF_NOTE_LEN(v) ((__u32)(v) & 0xffu)

/* PERFBPF_REC_OP_SINCE's start stamp: bit 62 set: TSC ticks in bits 0-61 (the clock of
 * PERFBPF_TBUF_TSC), else CLOCK_MONOTONIC ns. Bit 63 is not part of it (0). */
#define PERFBPF_STAMP_TSC (1ull << 62)
#define PERFBPF_STAMP_MASK (PERFBPF_STAMP_TSC - 1)

struct perfbpf_rec {
	__u32 key;   /* id in the process's key table; 0: the table was full (counted, not named) */
	__u32 kind;  /* enum perfbpf_rec_kind */
	__u64 ts;    /* see PERFBPF_TBUF_TSC */
	__u64 value;
};

#ifndef __bpf__
/* A PERFBPF_REC_BYTES record holding b, the next PERFBPF_NOTE_BYTES bytes of a note's string:
 * bytes 0-3 in key, 4-11 in ts, 12-19 in value (the record's bytes 0-3 and 8-23). */
static inline void perfbpf_note_bytes_put(struct perfbpf_rec *r,
					  const unsigned char b[PERFBPF_NOTE_BYTES])
{
	__builtin_memcpy(&r->key, b, 4);
	r->kind = PERFBPF_REC_BYTES;
	__builtin_memcpy(&r->ts, b + 4, 8);
	__builtin_memcpy(&r->value, b + 12, 8);
}

/* The bytes a PERFBPF_REC_BYTES record with these fields holds, into b. */
static inline void perfbpf_note_bytes_get(__u32 key, __u64 ts, __u64 value,
					  unsigned char b[PERFBPF_NOTE_BYTES])
{
	__builtin_memcpy(b, &key, 4);
	__builtin_memcpy(b + 4, &ts, 8);
	__builtin_memcpy(b + 12, &value, 8);
}
#endif

struct perfbpf_tbuf {
	__u32 magic;   /* PERFBPF_TBUF_MAGIC */
	__u16 version; /* PERFBPF_ABI_V3 */
	__u16 flags;   /* PERFBPF_TBUF_* */
	__u32 cap;     /* records after the header, 1 .. PERFBPF_TBUF_MAX_CAP */
	__u32 tid;     /* the owning thread */
	__u64 pos;     /* (batch << 32) | head */
	__u64 keytab;  /* address of the process's struct perfbpf_keytab */
	__u64 reserved[4];
	/* struct perfbpf_rec rec[cap] follows */
};

#define PERFBPF_NAME_METRIC 64
#define PERFBPF_NAME_SYMBOL 32
#define PERFBPF_NAME_STRATEGY 64

/* struct perfbpf_keydef.ready, above bit 0 */
#define PERFBPF_KEYDEF_FAULT (1u << 0)     /* a string could not be read: "" or its readable part */
#define PERFBPF_KEYDEF_TRUNCATED (1u << 1) /* a string was cut to its field */

struct perfbpf_keydef {
	__u32 ready; /* bit 0: the names below are written (published last); PERFBPF_KEYDEF_* << 1 */
	__u32 id;    /* its index + 1 */
	char metric[PERFBPF_NAME_METRIC];     /* NUL-terminated, zero-padded */
	char symbol[PERFBPF_NAME_SYMBOL];
	char strategy[PERFBPF_NAME_STRATEGY];
};

struct perfbpf_keytab {
	__u32 magic;  /* PERFBPF_KEYTAB_MAGIC */
	__u32 cap;    /* definitions */
	__u32 count;  /* definitions added (some may not be ready yet) */
	__u32 full;   /* keys refused because the table was full (their records carry key 0) */
	__u64 reserved[6];
	/* struct perfbpf_keydef defs[cap] follows */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct perfbpf_rec) == 24, "perfbpf_rec layout");
_Static_assert(sizeof(struct perfbpf_tbuf) == PERFBPF_TBUF_HDR, "perfbpf_tbuf layout");
_Static_assert(sizeof(struct perfbpf_keydef) == 168, "perfbpf_keydef layout");
_Static_assert(sizeof(struct perfbpf_keytab) == 64, "perfbpf_keytab layout");
#endif

#endif /* PERFBPF_RECORD_ABI_H */
