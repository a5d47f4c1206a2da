/* SPDX-License-Identifier: BSD-2-Clause */
/* perfbpf engine probes: header-only USDT probes (SystemTap SDT notes, semaphore-guarded).
 *
 * Probe ABI (provider "perfbpf"; stable, documented in README.md). Version 1:
 *
 *   op(const char *metric, const char *symbol, const char *strategy, uint64_t duration_ns)
 *       one completed operation, timed by the engine itself.
 *   span_begin(const char *name, const char *symbol, const char *strategy)
 *   span_end(const char *name)
 *       a span timed in the kernel; spans nest per thread.
 *
 * Version 2 adds probes that annotate the thread's innermost open span (used by the OTLP export;
 * a tracer that does not export spans leaves them detached, so they cost one branch):
 *
 *   span_attr_str(const char *key, const char *value)
 *   span_attr_int(const char *key, int64_t value)
 *   span_attr_double(const char *key, uint64_t bits)     the double's IEEE-754 bits
 *       a span attribute; a key set twice keeps the last value.
 *   span_event(const char *name, const char *key, const char *value)
 *       a timestamped event on the span, with one string attribute (key NULL: none); with the
 *       name "", one more attribute of the span's latest event.
 *   span_error(const char *message)
 *       marks the span failed: OTLP status ERROR with the message, and an "exception" event.
 *
 * perfbpf copies at most 63 bytes of an attribute key or event name and 127 of a string value
 * or error message.
 *
 * Spans with explicit ids (version 3 too; for spans that are not strictly nested per thread, such
 * as coroutines that stay open across an await):
 *
 *   span_open(const char *name, const char *symbol, const char *strategy, uint64_t id,
 *             uint64_t parent)
 *   span_close(const char *name, uint64_t id)
 *       a span named by the engine's id (non-zero, unique among the process's open spans:
 *       perfbpf_span_id() makes one) with its parent's id (0: a root); it ends at the
 *       span_close with its id, on any thread and in any order.
 *   span_select(uint64_t id)
 *       the span notes above that follow, on this thread, annotate span `id` (0: the innermost
 *       open span again).
 *
 * Version 3 (x86-64; README.md "Probe ABI v3", layouts in record_abi.h): while a tracer has armed
 * the flush site (semaphore perfbpf_flush_semaphore), op, span_begin and span_end are recorded
 * in a per-thread buffer in the engine's own memory (recorder.h) and collected by the kernel in
 * batches: no kernel entry per event; the span notes (span_attr_*, span_event, span_error,
 * span_select) too while it has also armed the notes site (perfbpf_notes_semaphore). The
 * per-event probes above stay for tracers that use them. Define PERFBPF_PROBE_ABI_V2 for the
 * per-event probes only, PERFBPF_SPAN_NOTES_AS_PROBES for span notes as probe hits only.
 *
 * Every probe has a semaphore `perfbpf_<probe>_semaphore` (unsigned short in section ".probes")
 * that the kernel raises while a tracer is attached.  The macros read it with one load and one
 * predictable branch and evaluate none of their arguments while it is zero.
 *
 * Strings are NUL-terminated; NULL is allowed for symbol and strategy (recorded as "").
 * perfbpf copies at most 63 bytes of a metric or span name, 31 of a symbol, 63 of a strategy.
 *
 * Notes on how the probes are encoded (measured on kernel 6.18, libbpf 1.1):
 *  - x86-64 probe site: `nop; lea -128(%rsp),%rsp; nop5; lea 128(%rsp),%rsp` (19 bytes, run
 *    only while the probe is enabled). The SDT note points at the 1-byte `nop`, so every SDT
 *    tool (bpftrace, gdb, SystemTap, libbpf) sees a stock probe there and emulates it cheaply.
 *    perfbpf attaches there too, unless PERFBPF_OPTIMIZED_SITES=1 (README.md: a child forked
 *    after the first hit crashes on 6.18). Then it attaches at the 5-byte nop when the kernel
 *    can optimize uprobes (Linux 6.18+, x86-64: the uprobe syscall exists): after the first hit
 *    the kernel rewrites the nop5
 *    into a call to the [uprobes-trampoline] page, which skips the int3 trap (measured here:
 *    op 1123 -> 720 ns per event, span pair 1593 -> 930 ns). The call pushes a return address,
 *    so the stack pointer is first moved below the 128-byte red zone that leaf functions may use.
 *    Define PERFBPF_PROBE_SITE_NOP1 for the plain 1-byte site.
 *  - Operands are constrained to registers or constants ("nr"): gcc's default "nor" can emit
 *    base+index*scale memory operands that libbpf 1.1 cannot decode.
 *  - SDT semaphores are enabled (_SDT_HAS_SEMAPHORES), so include this header before any other
 *    use of <sys/sdt.h> in a translation unit, and define semaphores for your own SDT probes.
 */
#ifndef PERFBPF_PROBE_H
#define PERFBPF_PROBE_H

#include <stdint.h>

#if defined(_SYS_SDT_H) && !defined(_SDT_HAS_SEMAPHORES)
#error "include <perfbpf/probe.h> before <sys/sdt.h>: perfbpf probes need SDT semaphores"
#endif

#define PERFBPF_PROBE_ABI_VERSION 3

#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: the clock the kernel side stamps events with, so engine-timed
 * `op` durations and kernel-timed spans are on one time base. */
static inline uint64_t perfbpf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A new span id for PERFBPF_SPAN_OPEN: non-zero and, in practice, unique (a per-thread
 * splitmix64 sequence, seeded from the thread's own storage address and the clock). */
static inline uint64_t perfbpf_span_id(void)
{
	static __thread uint64_t perfbpf__id_state;
	uint64_t z;

	if (__builtin_expect(!perfbpf__id_state, 0))
		perfbpf__id_state = ((uint64_t)(uintptr_t)&perfbpf__id_state * 0x9e3779b97f4a7c15ull) ^
				    perfbpf_now_ns();
	z = (perfbpf__id_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* A timed op's start (PERFBPF_OP_START); 0 while no tracer wants ops. */
typedef uint64_t perfbpf_stamp_t;

#ifndef PERFBPF_DISABLE_PROBES

#ifndef _SDT_HAS_SEMAPHORES
#define _SDT_HAS_SEMAPHORES 1
#endif
#undef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT nr
#include <sys/sdt.h>

#if defined(__x86_64__) && !defined(PERFBPF_PROBE_SITE_NOP1)
/* The site bytes are 90 | 48 8d 64 24 80 | 0f 1f 44 00 00 | 48 8d a4 24 80 00 00 00; perfbpf's
 * loader matches exactly these (user/attach/probe_site.c). Written as single .byte statements because
 * sys/sdt.h passes _SDT_NOP through macro arguments, where a comma would split it. Other SDT
 * probes in the same translation unit get the same site: harmless, their notes still point at a
 * 1-byte nop that tools emulate, and their operands are read before the stack pointer moves. */
#define PERFBPF__SDT_SITE                                                                     \
	nop;                                                                                  \
	.byte 0x48; .byte 0x8d; .byte 0x64; .byte 0x24; .byte 0x80;                           \
	.byte 0x0f; .byte 0x1f; .byte 0x44; .byte 0x00; .byte 0x00;                           \
	.byte 0x48; .byte 0x8d; .byte 0xa4; .byte 0x24; .byte 0x80; .byte 0x00; .byte 0x00; .byte 0x00
#undef _SDT_NOP
#define _SDT_NOP PERFBPF__SDT_SITE
#endif

/* One semaphore per probe, one copy per executable or shared object: weak so that every
 * translation unit may define it, hidden so that a library's probes test the library's own copy
 * (the one its SDT note names) and not the executable's. */
#define PERFBPF__SEMAPHORE(probe)                                                            \
	__extension__ unsigned short perfbpf_##probe##_semaphore                              \
		__attribute__((weak, visibility("hidden"), section(".probes"), used))

PERFBPF__SEMAPHORE(op);
PERFBPF__SEMAPHORE(span_begin);
PERFBPF__SEMAPHORE(span_end);
PERFBPF__SEMAPHORE(span_attr_str);
PERFBPF__SEMAPHORE(span_attr_int);
PERFBPF__SEMAPHORE(span_attr_double);
PERFBPF__SEMAPHORE(span_event);
PERFBPF__SEMAPHORE(span_error);
PERFBPF__SEMAPHORE(flush);
PERFBPF__SEMAPHORE(span_open);
PERFBPF__SEMAPHORE(span_close);
PERFBPF__SEMAPHORE(span_select);
PERFBPF__SEMAPHORE(notes);

#if defined(__x86_64__) && !defined(PERFBPF_PROBE_ABI_V2)
#define PERFBPF__V3 1
#include "perfbpf/recorder.h"
#endif

/* volatile: the kernel writes the semaphore behind the compiler's back, so the load must not be
 * hoisted out of the engine's loop. */
#define PERFBPF__ON(probe) \
	__builtin_expect(*(volatile unsigned short *)&perfbpf_##probe##_semaphore != 0, 0)

#ifdef PERFBPF__V3
/* ABI v3: while a tracer has armed the flush site, events are recorded in the engine
 * (recorder.h); a tracer of the per-event probes (an older perfbpf, bpftrace) still sees them. */
#define PERFBPF__ANY(probe) __builtin_expect((*(volatile unsigned short *)&perfbpf_flush_semaphore | \
					      *(volatile unsigned short *)&perfbpf_##probe##_semaphore) != 0, 0)
#define PERFBPF__REC(kind, m, s, st, value)                                                  \
	do {                                                                                  \
		if (*(volatile unsigned short *)&perfbpf_flush_semaphore)                     \
			PERFBPF__RECORD(kind, m, s, st, value);                               \
	} while (0)
#define PERFBPF__REC_OPEN(m, s, st, id, parent)                                               \
	do {                                                                                  \
		if (*(volatile unsigned short *)&perfbpf_flush_semaphore)                     \
			PERFBPF__RECORD_OPEN(m, s, st, id, parent);                           \
	} while (0)
/* Span notes in the buffer: while the tracer has armed both the flush and the notes site. */
#ifdef PERFBPF_SPAN_NOTES_AS_PROBES
#define PERFBPF__NOTES_ON() 0
#else
#define PERFBPF__NOTES_ON()                                                                  \
	__builtin_expect(*(volatile unsigned short *)&perfbpf_notes_semaphore != 0 &&         \
			 *(volatile unsigned short *)&perfbpf_flush_semaphore != 0, 0)
#endif
/* One load and one branch while nothing is attached: a note is recorded or a probe wanted. */
#define PERFBPF__NOTE_ANY(probe) __builtin_expect((*(volatile unsigned short *)&perfbpf_notes_semaphore | \
						   *(volatile unsigned short *)&perfbpf_##probe##_semaphore) != 0, 0)
#define PERFBPF__REC_NOTE(kind, k1, k2, str, value)                                          \
	do {                                                                                  \
		if (PERFBPF__NOTES_ON())                                                      \
			PERFBPF__RECORD_NOTE(kind, k1, k2, str, value);                       \
	} while (0)
#else
#define PERFBPF__ANY(probe) PERFBPF__ON(probe)
#define PERFBPF__REC(kind, m, s, st, value) do { } while (0)
#define PERFBPF__REC_OPEN(m, s, st, id, parent) do { } while (0)
#define PERFBPF__NOTES_ON() 0
#define PERFBPF__NOTE_ANY(probe) PERFBPF__ON(probe)
#define PERFBPF__REC_NOTE(kind, k1, k2, str, value) do { } while (0)
#endif

#define PERFBPF_OP_ENABLED() PERFBPF__ANY(op)
#define PERFBPF_SPAN_ENABLED() (PERFBPF__ANY(span_begin) || PERFBPF__ON(span_open))
#define PERFBPF_ENABLED() (PERFBPF__ANY(op) || PERFBPF_SPAN_ENABLED())
/* True while span attributes are collected: guard the work of computing an attribute's value. */
#define PERFBPF_SPAN_ATTRS_ENABLED() (PERFBPF__ON(span_attr_str) || PERFBPF__ON(span_attr_int) || \
				      PERFBPF__ON(span_attr_double) || PERFBPF__NOTES_ON())

#define PERFBPF_OP(metric, symbol, strategy, duration_ns)                                    \
	do {                                                                                  \
		if (PERFBPF__ANY(op)) {                                                       \
			PERFBPF__REC(PERFBPF_REC_OP, metric, symbol, strategy, duration_ns);  \
			if (PERFBPF__ON(op))                                                  \
				STAP_PROBE4(perfbpf, op, (const char *)(metric),              \
					    (const char *)(symbol), (const char *)(strategy), \
					    (uint64_t)(duration_ns));                         \
		}                                                                             \
	} while (0)

/* A timed op, with perfbpf's own clock read once at each end:
 *     perfbpf_stamp_t t = PERFBPF_OP_START();
 *     ... the work ...
 *     PERFBPF_OP_SINCE("fill", symbol, strategy, t);
 * records an op lasting from PERFBPF_OP_START to PERFBPF_OP_SINCE. While ops are recorded in the
 * engine (ABI v3) the start is a TSC stamp (the vDSO clock where the TSC is not invariant) and the
 * end is the record's own stamp: two clock reads instead of the three that timing with
 * perfbpf_now_ns and PERFBPF_OP takes. With no tracer, PERFBPF_OP_START is one branch and
 * returns 0, and PERFBPF_OP_SINCE(..., 0) records nothing; an op started before a tracer attached
 * is not recorded. */
#define PERFBPF__STAMP_REC (1ull << 63) /* a recorder stamp (recorder.h), not CLOCK_MONOTONIC ns */

static inline perfbpf_stamp_t perfbpf__op_start(void)
{
	if (!PERFBPF__ANY(op))
		return 0;
#ifdef PERFBPF__V3
	/* a tracer of the per-event probe wants a duration in ns: then both are timed in ns */
	if (*(volatile unsigned short *)&perfbpf_flush_semaphore && !PERFBPF__ON(op))
		return perfbpf__stamp() | PERFBPF__STAMP_REC;
#endif
	return perfbpf_now_ns();
}

#define PERFBPF_OP_START() perfbpf__op_start()

#define PERFBPF_OP_SINCE(metric, symbol, strategy, start)                                    \
	do {                                                                                  \
		perfbpf_stamp_t perfbpf__start = (start);                                     \
		if (perfbpf__start & PERFBPF__STAMP_REC)                                      \
			PERFBPF__REC(PERFBPF_REC_OP_SINCE, metric, symbol, strategy,          \
				     perfbpf__start & ~PERFBPF__STAMP_REC);                   \
		else if (perfbpf__start)                                                      \
			PERFBPF_OP(metric, symbol, strategy, perfbpf_now_ns() - perfbpf__start); \
	} while (0)

#define PERFBPF_SPAN_BEGIN(name, symbol, strategy)                                           \
	do {                                                                                  \
		if (PERFBPF__ANY(span_begin)) {                                               \
			PERFBPF__REC(PERFBPF_REC_SPAN_BEGIN, name, symbol, strategy, 0);      \
			if (PERFBPF__ON(span_begin))                                          \
				STAP_PROBE3(perfbpf, span_begin, (const char *)(name),        \
					    (const char *)(symbol), (const char *)(strategy)); \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_END(name)                                                               \
	do {                                                                                  \
		if (PERFBPF__ANY(span_end)) {                                                 \
			PERFBPF__REC(PERFBPF_REC_SPAN_END, name, (const char *)0,             \
				     (const char *)0, 0);                                     \
			if (PERFBPF__ON(span_end))                                            \
				STAP_PROBE1(perfbpf, span_end, (const char *)(name));         \
		}                                                                             \
	} while (0)

/* A span with an explicit id (see the top of this file), e.g. one per coroutine:
 *     uint64_t id = perfbpf_span_id();
 *     PERFBPF_SPAN_OPEN("fetch", symbol, strategy, id, parent_id);
 *     ... (the thread may run other spans meanwhile) ...
 *     PERFBPF_SPAN_CLOSE("fetch", id);
 * A tracer that knows only span_begin/span_end sees those instead (nested per thread). */
#define PERFBPF_SPAN_OPEN(name, symbol, strategy, id, parent)                                 \
	do {                                                                                  \
		if (PERFBPF_SPAN_ENABLED()) {                                                 \
			PERFBPF__REC_OPEN(name, symbol, strategy, id, parent);                \
			if (PERFBPF__ON(span_open))                                           \
				STAP_PROBE5(perfbpf, span_open, (const char *)(name),         \
					    (const char *)(symbol), (const char *)(strategy), \
					    (uint64_t)(id), (uint64_t)(parent));              \
			else if (PERFBPF__ON(span_begin))                                     \
				STAP_PROBE3(perfbpf, span_begin, (const char *)(name),        \
					    (const char *)(symbol), (const char *)(strategy)); \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_CLOSE(name, id)                                                          \
	do {                                                                                  \
		if (PERFBPF_SPAN_ENABLED()) {                                                 \
			PERFBPF__REC(PERFBPF_REC_SPAN_CLOSE, name, (const char *)0,           \
				     (const char *)0, id);                                    \
			if (PERFBPF__ON(span_close))                                          \
				STAP_PROBE2(perfbpf, span_close, (const char *)(name),        \
					    (uint64_t)(id));                                  \
			else if (PERFBPF__ON(span_end))                                       \
				STAP_PROBE1(perfbpf, span_end, (const char *)(name));         \
		}                                                                             \
	} while (0)

/* The span notes that follow annotate span `id` (0: the innermost open span). Each note is
 * recorded in the buffer while the tracer asks for that (ABI v3, PERFBPF__NOTES_ON), and is a
 * probe hit for a tracer of the per-event probe; their values are evaluated once. */
#define PERFBPF_SPAN_SELECT(id)                                                               \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_select)) {                                         \
			uint64_t perfbpf__id = (uint64_t)(id);                                \
			PERFBPF__REC_NOTE(PERFBPF_REC_SPAN_SELECT, (const char *)0,           \
					  (const char *)0, (const char *)0, perfbpf__id);     \
			if (PERFBPF__ON(span_select))                                         \
				STAP_PROBE1(perfbpf, span_select, perfbpf__id);               \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_ATTR_STR(key, value)                                                    \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_attr_str)) {                                       \
			const char *perfbpf__v = (const char *)(value);                       \
			PERFBPF__REC_NOTE(PERFBPF_REC_ATTR_STR, key, (const char *)0,         \
					  perfbpf__v ? perfbpf__v : "", 0);                   \
			if (PERFBPF__ON(span_attr_str))                                       \
				STAP_PROBE2(perfbpf, span_attr_str, (const char *)(key),      \
					    perfbpf__v);                                      \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_ATTR_INT(key, value)                                                    \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_attr_int)) {                                       \
			int64_t perfbpf__i = (int64_t)(value);                                \
			PERFBPF__REC_NOTE(PERFBPF_REC_ATTR_INT, key, (const char *)0,         \
					  (const char *)0, (uint64_t)perfbpf__i);             \
			if (PERFBPF__ON(span_attr_int))                                       \
				STAP_PROBE2(perfbpf, span_attr_int, (const char *)(key),      \
					    perfbpf__i);                                      \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_ATTR_DOUBLE(key, value)                                                 \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_attr_double)) {                                    \
			double perfbpf__d = (double)(value);                                  \
			uint64_t perfbpf__bits;                                               \
			__builtin_memcpy(&perfbpf__bits, &perfbpf__d, sizeof(perfbpf__bits));  \
			PERFBPF__REC_NOTE(PERFBPF_REC_ATTR_DOUBLE, key, (const char *)0,      \
					  (const char *)0, perfbpf__bits);                    \
			if (PERFBPF__ON(span_attr_double))                                    \
				STAP_PROBE2(perfbpf, span_attr_double, (const char *)(key),   \
					    perfbpf__bits);                                   \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_EVENT(name, key, value)                                                 \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_event)) {                                          \
			const char *perfbpf__k = (const char *)(key);                         \
			const char *perfbpf__v = (const char *)(value);                       \
			PERFBPF__REC_NOTE(PERFBPF_REC_EVENT, name, perfbpf__k,                \
					  perfbpf__k ? (perfbpf__v ? perfbpf__v : "")          \
						     : (const char *)0, 0);                    \
			if (PERFBPF__ON(span_event))                                          \
				STAP_PROBE3(perfbpf, span_event, (const char *)(name),        \
					    perfbpf__k, perfbpf__v);                          \
		}                                                                             \
	} while (0)

#define PERFBPF_SPAN_ERROR(message)                                                          \
	do {                                                                                  \
		if (PERFBPF__NOTE_ANY(span_error)) {                                          \
			const char *perfbpf__m = (const char *)(message);                     \
			PERFBPF__REC_NOTE(PERFBPF_REC_ERROR, (const char *)0, (const char *)0, \
					  perfbpf__m ? perfbpf__m : "", 0);                   \
			if (PERFBPF__ON(span_error))                                          \
				STAP_PROBE1(perfbpf, span_error, perfbpf__m);                 \
		}                                                                             \
	} while (0)

#else /* PERFBPF_DISABLE_PROBES: compile the probes out entirely */

#define PERFBPF_OP_ENABLED() 0
#define PERFBPF_SPAN_ENABLED() 0
#define PERFBPF_ENABLED() 0
#define PERFBPF_OP(metric, symbol, strategy, duration_ns) do { } while (0)
#define PERFBPF_OP_START() ((perfbpf_stamp_t)0)
#define PERFBPF_OP_SINCE(metric, symbol, strategy, start) do { (void)(start); } while (0)
#define PERFBPF_SPAN_BEGIN(name, symbol, strategy) do { } while (0)
#define PERFBPF_SPAN_END(name) do { } while (0)
#define PERFBPF_SPAN_OPEN(name, symbol, strategy, id, parent) do { } while (0)
#define PERFBPF_SPAN_CLOSE(name, id) do { } while (0)
#define PERFBPF_SPAN_SELECT(id) do { } while (0)
#define PERFBPF_SPAN_ATTRS_ENABLED() 0
#define PERFBPF_SPAN_ATTR_STR(key, value) do { } while (0)
#define PERFBPF_SPAN_ATTR_INT(key, value) do { } while (0)
#define PERFBPF_SPAN_ATTR_DOUBLE(key, value) do { } while (0)
#define PERFBPF_SPAN_EVENT(name, key, value) do { } while (0)
#define PERFBPF_SPAN_ERROR(message) do { } while (0)

#endif /* PERFBPF_DISABLE_PROBES */

#endif /* PERFBPF_PROBE_H */
