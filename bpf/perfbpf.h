/* SPDX-License-Identifier: BSD-2-Clause */
/* Types shared by the perfbpf BPF programs and the userspace loader: ring-buffer records and
 * loss counters. Fixed-width types only; layouts pinned by _Static_assert. */
#ifndef PERFBPF_BPF_SHARED_H
#define PERFBPF_BPF_SHARED_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PERFBPF_METRIC_LEN 64   /* metric or span name, including the NUL */
#define PERFBPF_SYMBOL_LEN 32
#define PERFBPF_STRATEGY_LEN 64
#define PERFBPF_SPAN_DEPTH 16   /* open spans per thread kept in the kernel */

enum perfbpf_event_kind {
	PERFBPF_EV_OP = 1,   /* engine-timed operation */
	PERFBPF_EV_SPAN = 2, /* kernel-timed span, emitted when it ends */
	/* struct perfbpf_note records (probe ABI v2), about the thread's innermost open span */
	PERFBPF_EV_ATTR = 3,  /* an attribute: name = key, value or str */
	PERFBPF_EV_EVENT = 4, /* a span event: name, and one attribute akey = str (akey may be "") */
	PERFBPF_EV_ERROR = 5, /* the span failed: str = message */
	PERFBPF_EV_OP_REF = 6, /* an op as struct perfbpf_op_ref */
	PERFBPF_EV_OP_PACKED = 7, /* an op as struct perfbpf_op_packed */
	PERFBPF_EV_SPAN_PACKED = 8, /* a span as struct perfbpf_span_packed */
	/* probe ABI v3 (include/perfbpf/record_abi.h): records collected from an engine's buffer */
	PERFBPF_EV_V3_BATCH = 9,  /* struct perfbpf_v3_batch */
	PERFBPF_EV_V3_KEYDEF = 10, /* struct perfbpf_v3_keydef */
	PERFBPF_EV_V3_EXIT = 11,   /* struct perfbpf_v3_exit */
	PERFBPF_EV_V3_SCHED = 12,  /* struct perfbpf_v3_sched (--attribution) */
	PERFBPF_EV_V3_END = 13,    /* struct perfbpf_v3_exit: the batches of one collection of a
				    * thread are complete */
};

#include "perfbpf/record_abi.h"

/* Why a batch was collected (perfbpf_v3_batch.reason). */
enum perfbpf_v3_reason {
	PERFBPF_V3_FLUSH = 1,  /* the engine called its flush site */
	PERFBPF_V3_SWITCH = 2, /* its thread was switched out */
	PERFBPF_V3_TICK = 3,   /* the periodic collector interrupted its running thread */
	PERFBPF_V3_EXIT = 4,   /* its thread exited */
	PERFBPF_V3_EXEC = 5,   /* its thread called exec */
	PERFBPF_V3_NOTE = 6,   /* its thread wrote a span note (its records come before the note) */
};

/* Records [first, first + n) of batch `batch` of one engine buffer, copied as the engine wrote
 * them (struct perfbpf_rec). The ring record is one of a few fixed sizes: n says how many of its
 * records are used. */
#define PERFBPF_V3_CHUNK 256 /* records per ring record at most */
struct perfbpf_v3_batch {
	__u32 kind;   /* PERFBPF_EV_V3_BATCH */
	__u32 flags;  /* the buffer's PERFBPF_TBUF_* flags */
	__u32 pid;
	__u32 tid;
	__u64 keytab; /* the engine's address of the key table the records' ids refer to */
	__u32 batch;
	__u32 first;
	__u32 n;
	__u32 reason; /* enum perfbpf_v3_reason */
};
_Static_assert(sizeof(struct perfbpf_v3_batch) == 40, "perfbpf_v3_batch layout");

/* A key definition copied from an engine's key table, sent before any batch that uses it. */
struct perfbpf_v3_keydef {
	__u32 kind; /* PERFBPF_EV_V3_KEYDEF */
	__u32 pad;
	__u32 pid;
	__u32 tid;
	__u64 keytab;
	struct perfbpf_keydef def;
};
_Static_assert(sizeof(struct perfbpf_v3_keydef) == 192, "perfbpf_v3_keydef layout");

/* PERFBPF_EV_V3_EXIT: a thread with a v3 buffer exited or exec'd, its open spans will never end.
 * PERFBPF_EV_V3_END: one collection of the thread is complete. A thread has a buffer per object
 * with ABI v3 probes (an executable and its libraries); every collection takes what is pending
 * in all of them, so userspace orders the records of one collection by their stamps and knows
 * that every record of a later collection came after them. */
struct perfbpf_v3_exit {
	__u32 kind; /* PERFBPF_EV_V3_EXIT or PERFBPF_EV_V3_END */
	__u32 reason;
	__u32 pid;
	__u32 tid;
};

/* A scheduler transition of a thread with a v3 buffer (--attribution): userspace splits its spans
 * into on-CPU, run-queue and blocked time with them. A thread's transitions and its records reach
 * the ring in the order they happened: its pending records are collected at a switch before the
 * switch itself is sent. */
enum perfbpf_v3_sched_what {
	PERFBPF_V3_SCHED_PREEMPTED = 1, /* switched out still runnable: it waits in the run queue */
	PERFBPF_V3_SCHED_BLOCKED = 2,   /* switched out to sleep */
	PERFBPF_V3_SCHED_WOKEN = 3,     /* made runnable */
	PERFBPF_V3_SCHED_RUNNING = 4,   /* switched in, on `cpu` */
};

struct perfbpf_v3_sched {
	__u32 kind; /* PERFBPF_EV_V3_SCHED */
	__u32 what; /* enum perfbpf_v3_sched_what */
	__u32 pid;
	__u32 tid;
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 cpu;
	__u32 pad;
};
_Static_assert(sizeof(struct perfbpf_v3_sched) == 32, "perfbpf_v3_sched layout");

/* Key of the kernel's table of open spans with ids (span_open; bpf/span_ids.bpf.h): userspace
 * removes the spans of processes that ended (counted as unfinished). */
struct perfbpf_xspan_key {
	__u32 pid;
	__u32 pad;
	__u64 id; /* the engine's span id */
};
_Static_assert(sizeof(struct perfbpf_xspan_key) == 16, "perfbpf_xspan_key layout");

/* perfbpf_event.flags */
enum perfbpf_event_flags {
	PERFBPF_F_TRUNCATED = 1u << 0, /* a string filled its field and may have been cut */
	PERFBPF_F_FAULT = 1u << 1,     /* a string could not be read (whole or in part) */
};

struct perfbpf_names {
	char metric[PERFBPF_METRIC_LEN];
	char symbol[PERFBPF_SYMBOL_LEN];
	char strategy[PERFBPF_STRATEGY_LEN];
};

/* Where a span's time went, measured by the scheduler tracepoints while it was open
 * (--attribution; all zero otherwise). oncpu + runq + blocked == duration. */
struct perfbpf_attribution {
	__u64 oncpu_ns;   /* running on a CPU */
	__u64 runq_ns;    /* runnable, waiting for a CPU (after a wakeup or a preemption) */
	__u64 blocked_ns; /* off CPU and not runnable: sleeping, waiting for a lock or I/O */
	__u32 nvcsw;      /* voluntary context switches */
	__u32 nivcsw;     /* involuntary context switches (preemptions) */
	__u32 migrations; /* switch-ins on a different CPU than the previous one */
	__u32 pad;
};

struct perfbpf_event {
	__u32 kind;        /* enum perfbpf_event_kind */
	__u32 flags;       /* enum perfbpf_event_flags */
	__u32 pid;         /* thread-group id */
	__u32 tid;
	__u64 end_ns;      /* CLOCK_MONOTONIC when the op was reported or the span ended */
	__u64 duration_ns;
	__u64 self_ns;     /* spans: duration minus the durations of their child spans */
	__u64 span_id;     /* spans: (tid << 32) | per-thread sequence; 0 for ops */
	__u64 parent_id;   /* enclosing span on the same thread, 0 for a root (ops: recorded in
			    * the engine (ABI v3), or per-event with span notes enabled; else 0) */
	__u64 trace_id;    /* span_id of the thread's root span (ops: as parent_id) */
	__u32 depth;       /* spans: 0 for a root */
	union {
		__u32 ro_gen;   /* PERFBPF_F_REF_*: the generation of read-only ranges the
				 * addresses were checked against (struct perfbpf_ro_set) */
		__u32 names_id; /* PERFBPF_F_NAMES_ID: these names' number in the session */
	};
	struct perfbpf_attribution attr;
	struct perfbpf_names names;
};
_Static_assert(sizeof(struct perfbpf_names) == 160, "perfbpf_names layout");
_Static_assert(sizeof(struct perfbpf_attribution) == 40, "perfbpf_attribution layout");
_Static_assert(sizeof(struct perfbpf_event) == 272, "perfbpf_event layout");

#define PERFBPF_NOTE_NAME_LEN 64
#define PERFBPF_NOTE_STR_LEN 128

enum perfbpf_value_type {
	PERFBPF_VAL_STR = 1,
	PERFBPF_VAL_INT = 2,    /* value is an int64 */
	PERFBPF_VAL_DOUBLE = 3, /* value holds a double's bits */
};

/* A span annotation. Sent only while span notes are enabled (the OTLP export); a thread's notes
 * reach the ring buffer before the end of the span they annotate. */
struct perfbpf_note {
	__u32 kind;       /* PERFBPF_EV_ATTR, _EVENT or _ERROR */
	__u32 flags;      /* enum perfbpf_event_flags */
	__u32 pid;
	__u32 tid;
	__u64 ts_ns;      /* CLOCK_MONOTONIC */
	__u64 span_id;    /* perfbpf_event.span_id of the span it annotates */
	__u32 value_type; /* attributes: enum perfbpf_value_type */
	__u32 pad;
	__u64 value;
	char name[PERFBPF_NOTE_NAME_LEN];
	char akey[PERFBPF_NOTE_NAME_LEN];
	char str[PERFBPF_NOTE_STR_LEN];
};
_Static_assert(sizeof(struct perfbpf_note) == 304, "perfbpf_note layout");

/* perfbpf_event.flags, continued */
#define PERFBPF_F_ATTRIBUTED (1u << 2) /* attr holds scheduler attribution */
/* The field was not copied: its first 8 bytes hold the engine's address of the string, which
 * lies in a read-only segment of a mapped file (perfbpf_ro_set): userspace reads it from the
 * file. A string literal's bytes cannot change while it is mapped, so this is exact and saves
 * the copy (~35 ns per string). */
#define PERFBPF_F_REF_METRIC (1u << 3)
#define PERFBPF_F_REF_SYMBOL (1u << 4)
#define PERFBPF_F_REF_STRATEGY (1u << 5)
#define PERFBPF_F_REF_ALL (PERFBPF_F_REF_METRIC | PERFBPF_F_REF_SYMBOL | PERFBPF_F_REF_STRATEGY)
/* A span with an explicit id (span_open/span_close): its parent is the engine's, not the
 * enclosing span of its thread, and it may overlap spans of its thread without nesting. */
#define PERFBPF_F_SPAN_ID_EXPLICIT (1u << 6)
/* perfbpf_note.flags: the note's thread records its spans itself (probe ABI v3), so the kernel
 * has no span stack for it. Its records written before the note were collected just before it
 * (PERFBPF_V3_NOTE), and span_id is 0: the note is about the thread's innermost span open at
 * that point of its records, which userspace knows once it has decoded them. */
#define PERFBPF_F_NOTE_V3 (1u << 7)
/* Set by userspace only, on events decoded from the engine's batches (probe ABI v3): names_id
 * numbers the (metric, symbol, strategy) of the event's key definition, once per definition and
 * never twice in a session, so that events with the same names_id have the same names (and a
 * consumer may find their key by it instead of comparing the names). */
#define PERFBPF_F_NAMES_ID (1u << 8)

struct perfbpf_op_head { /* of the two compact op records */
	__u32 kind;   /* PERFBPF_EV_OP_REF or PERFBPF_EV_OP_PACKED */
	__u32 flags;
	__u32 pid;
	__u32 tid;
	__u64 end_ns;
	__u64 duration_ns;
	__u32 ro_gen; /* as perfbpf_event.ro_gen */
	__u32 pad;
};

/* An op whose three strings all lie in read-only ranges, sent while span notes are off: 64 bytes
 * where struct perfbpf_event takes 272. Writing a record's cache lines into the ring is most of
 * an event's cost (measured: op 430 -> 335 ns per event). Userspace makes a perfbpf_event of it. */
struct perfbpf_op_ref {
	struct perfbpf_op_head h; /* flags: PERFBPF_F_REF_ALL */
	__u64 addr[3];            /* metric, symbol, strategy */
};
_Static_assert(sizeof(struct perfbpf_op_ref) == 64, "perfbpf_op_ref layout");

/* An op sent while span notes are off, when some of its strings are copied: the fields back to
 * back after the header, each the engine's address (8 bytes, its PERFBPF_F_REF_* flag set) or the
 * string copied with its NUL (read_str's flags apply). Typically 80 bytes where struct
 * perfbpf_event takes 272. Userspace makes a perfbpf_event of it. */
#define PERFBPF_PACKED_HDR 48
#define PERFBPF_PACKED_MAX (PERFBPF_PACKED_HDR + PERFBPF_METRIC_LEN + PERFBPF_SYMBOL_LEN + \
			    PERFBPF_STRATEGY_LEN)
struct perfbpf_op_packed {
	struct perfbpf_op_head h;
	__u16 len[3]; /* bytes of metric, symbol, strategy in data */
	__u16 pad;
	char data[];
};
_Static_assert(sizeof(struct perfbpf_op_packed) == PERFBPF_PACKED_HDR, "perfbpf_op_packed layout");

/* A span, as sent when it ends: the header, then struct perfbpf_attribution when flags has
 * PERFBPF_F_ATTRIBUTED, then the three fields as in perfbpf_op_packed (the name is always
 * copied: span_end matches names). About 110 bytes without attribution where struct
 * perfbpf_event takes 272. */
#define PERFBPF_SPAN_PACKED_HDR 80
#define PERFBPF_SPAN_PACKED_MAX (PERFBPF_SPAN_PACKED_HDR + 40 + PERFBPF_METRIC_LEN + \
				 PERFBPF_SYMBOL_LEN + PERFBPF_STRATEGY_LEN)
struct perfbpf_span_packed {
	__u32 kind; /* PERFBPF_EV_SPAN_PACKED */
	__u32 flags;
	__u32 pid;
	__u32 tid;
	__u64 end_ns;
	__u64 duration_ns;
	__u64 self_ns;
	__u64 span_id;
	__u64 parent_id;
	__u64 trace_id;
	__u32 depth;
	__u32 ro_gen;
	__u16 len[3]; /* bytes of name, symbol, strategy */
	__u16 pad;
};
_Static_assert(sizeof(struct perfbpf_span_packed) == PERFBPF_SPAN_PACKED_HDR,
	       "perfbpf_span_packed layout");

/* The target's read-only, file-backed address ranges (user/attach/ro_strings.c computes them from
 * /proc/PID/maps and the files' ELF program headers: PT_LOAD segments without PF_W, so never
 * RELRO). Userspace publishes a new set, with a new generation, whenever they change. */
#define PERFBPF_RO_RANGES 64 /* sorted by address, disjoint, not adjacent: a binary search */
struct perfbpf_ro_range {
	__u64 lo, hi; /* [lo, hi) */
};

struct perfbpf_ro_set {
	__u32 n;
	__u32 gen;
	struct perfbpf_ro_range r[PERFBPF_RO_RANGES];
};

/* Per-CPU counters (index into the `counters` map); every loss has one. */
enum perfbpf_counter {
	PERFBPF_CNT_RB_DROPPED,         /* events lost: ring buffer full */
	PERFBPF_CNT_SPAN_UNMATCHED_END, /* span_end with no open span on the thread */
	PERFBPF_CNT_SPAN_MISMATCH,      /* span_end whose name is not the innermost open span */
	PERFBPF_CNT_SPAN_ABANDONED,     /* open spans closed implicitly by a mismatched end */
	PERFBPF_CNT_SPAN_DEPTH_OVERFLOW,/* span_begin beyond PERFBPF_SPAN_DEPTH (not recorded) */
	PERFBPF_CNT_SPAN_NO_STACK,      /* span_begin dropped: too many threads with open spans */
	PERFBPF_CNT_SPAN_UNFINISHED,    /* spans still open when their thread exited */
	PERFBPF_CNT_STR_FAULT,          /* string arguments that could not be read */
	PERFBPF_CNT_STR_TRUNCATED,      /* string arguments cut to their field */
	PERFBPF_CNT_KEYS_OVER_LIMIT,    /* monitor: events of keys beyond the kernel key table (or
					 * whose names' hash another key has) */
	PERFBPF_CNT_NOTE_NO_SPAN,       /* span attribute, event or error with no span open */
	PERFBPF_CNT_MALFORMED_RECORD,   /* ring records the consumer could not decode (counted in
					 * userspace: the BPF programs never add to it) */
	PERFBPF_CNT_V3_BAD_BUFFER,      /* ABI v3 buffers rejected: a header (magic, version,
					 * capacity, cursor, owner) that does not hold together */
	PERFBPF_CNT_V3_UNCOLLECTED,     /* ABI v3 records pending at a thread's exit or exec that
					 * could not be read */
	PERFBPF_CNT_V3_UNDEFINED_KEY,   /* ABI v3 records whose key was never defined, or the
					 * engine's key table was full (userspace) */
	PERFBPF_CNT__MAX,
};

/* --- perfbpf monitor: aggregation in the kernel (no ring buffer) ------------------------------ */
#include "kernel_hist.h"

/* Key of the monitor's key table (`mon_keys`): the hash of the names, not the names, so that a
 * lookup hashes and compares 16 bytes instead of 168 (perfbpf.bpf.c, names_hash). The
 * names are in the value and compared after the lookup; names whose 64-bit hash another key
 * already has are counted in PERFBPF_CNT_KEYS_OVER_LIMIT, never merged. */
struct perfbpf_mon_key {
	__u64 hash; /* names_hash of the names */
	__u32 kind; /* enum perfbpf_event_kind */
	__u32 pid;  /* thread-group id with per-process series, else 0 */
};

struct perfbpf_mon_keyval {
	__u32 id;          /* key of the histogram in `mon_hists` */
	__u32 pad;
	__u64 last_end_ns; /* end of the key's latest event, for the wait time (shared by CPUs) */
	struct perfbpf_names names; /* zero-padded */
};

/* One key's histograms, per CPU. Bucket counts are 32-bit and wrap: the reader keeps the last
 * value it saw per CPU and adds the difference modulo 2^32, so it must read each key more often
 * than once per 2^32 events on one CPU (it reads every second). */
struct perfbpf_mon_hist {
	__u64 sum_ns;
	__u64 self_sum_ns; /* spans: durations minus their child spans; ops: sum_ns */
	__u64 min_inv;     /* ~min: zero-initialised means "no value yet" */
	__u64 max_ns;
	__u64 wait_sum_ns;
	__u64 wait_min_inv;
	__u64 wait_max_ns;
	__u32 dur[KHIST_BUCKETS];
	__u32 wait[KHIST_BUCKETS];
};
_Static_assert(sizeof(struct perfbpf_mon_key) == 16, "perfbpf_mon_key layout");
_Static_assert(sizeof(struct perfbpf_mon_hist) <= 32768, "per-CPU values are limited to 32 KiB");

#endif /* PERFBPF_BPF_SHARED_H */
