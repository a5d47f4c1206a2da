/* SPDX-License-Identifier: BSD-2-Clause */
/* perfbpf probe ABI v3, the engine's side: events recorded into a per-thread buffer in the
 * engine's own memory, collected by the kernel in batches (layouts: <perfbpf/record_abi.h>).
 * Included by <perfbpf/probe.h>; engines use the PERFBPF_* macros, never these functions.
 *
 * Hot path of an event while a tracer is attached (x86-64): a timestamp (rdtsc on an invariant
 * TSC, else the vDSO's CLOCK_MONOTONIC), a key id (a call site whose strings are all literals
 * keeps its id and their addresses in a static; other sites look it up in a per-thread cache by
 * address and compare the strings, so a heap buffer reused for another symbol gets its own key),
 * 24 bytes stored and the cursor advanced. Every PERFBPF_V3_BATCH records, and after defining a
 * new key, the thread calls its flush site, where perfbpf's BPF program copies the batch out.
 * The engine never waits for perfbpf: a slow path (a new key, a new thread) takes a
 * process-wide spin lock held for a hash lookup, and no more.
 *
 * Memory: one buffer per thread (64 + 24 * PERFBPF_V3_BATCH bytes plus a 2 KiB cache), reused by
 * later threads after its thread exits; one key table per executable or shared object (176
 * bytes per key and 8 bytes of index, reserved for PERFBPF_V3_KEYS keys, 11.5 MB of address
 * space, and touched as keys are added). Not async-signal-safe: do not record from a signal
 * handler that may interrupt a recording on the same thread. */
#ifndef PERFBPF_RECORDER_H
#define PERFBPF_RECORDER_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#include "perfbpf/record_abi.h"

#ifndef PERFBPF_V3_BATCH
#define PERFBPF_V3_BATCH 1024 /* records per buffer: one flush per this many events */
#endif
#ifndef PERFBPF_V3_KEYS
#define PERFBPF_V3_KEYS 65536 /* distinct (name, symbol, strategy) keys per object */
#endif
#define PERFBPF__SETS 64 /* per-thread cache of non-literal call sites' keys: sets ... */
#define PERFBPF__WAYS 4  /* ... of this many entries */
#define PERFBPF__OK_PAGES 16 /* pages recently read safely: strings there are read directly */

#define PERFBPF__HIDDEN __attribute__((weak, visibility("hidden")))
#define PERFBPF__UNUSED __attribute__((unused))

struct perfbpf__cache_ent {
	const char *p[3];
	uint32_t key;
	uint8_t unreadable; /* a string could not be read: never compare, intern again */
	uint8_t len[3];     /* each string's length + 1 in the key (0: compared byte by byte) */
};

/* Engine-private tail of a thread's buffer (perfbpf never reads it). */
struct perfbpf__tail {
	struct perfbpf_tbuf *next_free;
	struct perfbpf__cache_ent cache[PERFBPF__SETS * PERFBPF__WAYS];
	unsigned char victim[PERFBPF__SETS]; /* the way a miss replaces next, per set */
	uintptr_t ok_pages[PERFBPF__OK_PAGES];
	unsigned ok_next;
	unsigned short sem_seen; /* the flush semaphore when the thread last flushed */
};

/* One per executable or shared object (hidden): its key table and buffer pool. */
struct perfbpf__proc {
	struct perfbpf_keytab *tab;
	uint32_t *index; /* 2 * PERFBPF_V3_KEYS slots: key ids by hash of the names, 0 empty */
	struct perfbpf_tbuf *free_bufs;
	int lock;
	int state; /* 0 not set up, 1 ready, 2 failed (recording stays off) */
	int tsc;
	int pid; /* for process_vm_readv on itself (reset in a forked child) */
	pthread_key_t tkey;
};

PERFBPF__HIDDEN struct perfbpf__proc perfbpf__proc;
PERFBPF__HIDDEN __thread struct perfbpf_tbuf *perfbpf__tls
	__attribute__((tls_model("initial-exec")));
/* The stamp of the thread's latest record, in whichever object it was written: every object
 * that includes this header defines it (weak, default visibility) and the dynamic linker binds
 * them to one, so that a thread's records in several objects' buffers have stamps that
 * increase in the order they were written, however coarse the clock (on some VMs two reads of
 * the TSC 10 ns apart return the same value), and perfbpf merges the buffers by stamp. An
 * object loaded with dlopen(RTLD_LOCAL) by a program that does not export the symbol keeps its
 * own (README "Probe ABI v3"). */
__attribute__((weak)) __thread uint64_t perfbpf_thread_stamp
	__attribute__((tls_model("initial-exec")));

#define PERFBPF__BUF_BYTES                                                                      \
	(sizeof(struct perfbpf_tbuf) + PERFBPF_V3_BATCH * sizeof(struct perfbpf_rec) +          \
	 sizeof(struct perfbpf__tail))

static inline struct perfbpf_rec *perfbpf__recs(struct perfbpf_tbuf *b)
{
	return (struct perfbpf_rec *)(b + 1);
}

static inline struct perfbpf__tail *perfbpf__tail_of(struct perfbpf_tbuf *b)
{
	return (struct perfbpf__tail *)(perfbpf__recs(b) + PERFBPF_V3_BATCH);
}

/* The notes site (perfbpf:notes, no arguments) is a second NOP after the flush site's `ret`,
 * never run: a tracer attaches to it only to raise perfbpf_notes_semaphore, which asks for span
 * notes in the buffer (PERFBPF_REC_ATTR_STR ...) instead of one probe hit each. A tracer that
 * does not know it (an older perfbpf) leaves it down, and gets the per-event note probes.
 *
 * The flush site: a function whose first instruction is a 1-byte NOP with the SDT note
 * perfbpf:flush(8@%rdi), the buffer's address; the kernel emulates a NOP without
 * single-stepping it. Not the 5-byte NOP that Linux 6.18 rewrites into a call to its uprobe
 * trampoline: a forked child inherits the call but not the trampoline, and a child that flushes
 * would crash (measured here); one trap per batch of PERFBPF_V3_BATCH events costs a few ns per
 * event either way. One per executable or shared object: the function and its note are a COMDAT
 * group that the linker keeps once, so the tracer arms one site whose semaphore rises with it. */
/* The note is written out here, in the layout sys/sdt.h writes (its STAP_PROBE_ASM takes
 * another form in C++), in the function's COMDAT group ("?": the current section's group). */
#ifndef PERFBPF_SPAN_NOTES_AS_PROBES
#define PERFBPF__NOTES_SDT_NOTE                                                                 \
	".4byte 997f-996f,999f-998f,3\n"                                                        \
	"996: .asciz \"stapsdt\"\n"                                                             \
	"997: .balign 4\n"                                                                       \
	"998: .8byte 995b\n"                                                                     \
	".8byte _.stapsdt.base\n"                                                                \
	".8byte perfbpf_notes_semaphore\n"                                                       \
	".asciz \"perfbpf\"\n"                                                                  \
	".asciz \"notes\"\n"                                                                    \
	".asciz \"\"\n"                                                                          \
	"999: .balign 4\n"
#else /* span notes as per-event probe hits only, as the ABI v3 header before notes in the buffer */
#define PERFBPF__NOTES_SDT_NOTE ""
#endif
__asm__(".pushsection .text.perfbpf__flush_site,\"axG\",@progbits,perfbpf__flush_site,comdat\n"
	".weak perfbpf__flush_site\n"
	".hidden perfbpf__flush_site\n"
	".type perfbpf__flush_site,@function\n"
	"perfbpf__flush_site:\n"
	"990: nop\n"
	"ret\n"
	"995: nop\n"
	"ret\n"
	".size perfbpf__flush_site,.-perfbpf__flush_site\n"
	".pushsection .note.stapsdt,\"?\",\"note\"\n"
	".balign 4\n"
	".4byte 992f-991f,994f-993f,3\n"
	"991: .asciz \"stapsdt\"\n"
	"992: .balign 4\n"
	"993: .8byte 990b\n"
	".8byte _.stapsdt.base\n"
	".8byte perfbpf_flush_semaphore\n"
	".asciz \"perfbpf\"\n"
	".asciz \"flush\"\n"
	".asciz \"8@%rdi\"\n"
	"994: .balign 4\n"
	PERFBPF__NOTES_SDT_NOTE
	".popsection\n"
	".popsection\n"
	".ifndef _.stapsdt.base\n"
	".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
	".weak _.stapsdt.base\n"
	".hidden _.stapsdt.base\n"
	"_.stapsdt.base: .space 1\n"
	".size _.stapsdt.base,1\n"
	".popsection\n"
	".endif\n");
#ifdef __cplusplus
extern "C"
#endif
void perfbpf__flush_site(struct perfbpf_tbuf *b) __attribute__((visibility("hidden")));

static inline int perfbpf__invariant_tsc(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d >> 8) & 1;
}

static inline uint64_t perfbpf__ts(void)
{
	struct timespec ts;

	if (__builtin_expect(perfbpf__proc.tsc, 1))
		return __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A record's stamp: the clock, or one more than the thread's latest stamp where the clock has
 * not moved past it (a coarse clock, or a CPU whose TSC lags the one before a migration). */
static inline __attribute__((always_inline)) uint64_t perfbpf__rec_stamp(void)
{
	uint64_t ts = perfbpf__ts(), last = perfbpf_thread_stamp;

	if (__builtin_expect(ts <= last, 0))
		ts = last + 1;
	perfbpf_thread_stamp = ts;
	return ts;
}

/* A start stamp for PERFBPF_OP_SINCE, in the clock perfbpf__ts uses (PERFBPF_STAMP_*). */
static inline uint64_t perfbpf__stamp(void)
{
	uint64_t t = perfbpf__ts() & PERFBPF_STAMP_MASK;

	return perfbpf__proc.tsc ? t | PERFBPF_STAMP_TSC : t;
}

static inline void perfbpf__lock(void)
{
	while (__atomic_exchange_n(&perfbpf__proc.lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&perfbpf__proc.lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static inline void perfbpf__unlock(void)
{
	__atomic_store_n(&perfbpf__proc.lock, 0, __ATOMIC_RELEASE);
}

/* Calls the flush site, then starts the next batch (one store: see record_abi.h). */
__attribute__((noinline)) PERFBPF__UNUSED static void perfbpf__flush(struct perfbpf_tbuf *b)
{
	uint64_t pos;

	perfbpf__flush_site(b);
	pos = b->pos;
	__asm__ volatile("" ::: "memory");
	b->pos = ((pos >> 32) + 1) << 32;
}

/* A thread's buffer goes back to the pool when the thread exits: the rest of its records are
 * flushed first, and its tid cleared so that the kernel's exit hook leaves it alone. */
PERFBPF__UNUSED static void perfbpf__thread_done(void *p)
{
	struct perfbpf_tbuf *b = (struct perfbpf_tbuf *)p;

	if ((uint32_t)b->pos)
		perfbpf__flush(b);
	b->tid = 0;
	perfbpf__lock();
	perfbpf__tail_of(b)->next_free = perfbpf__proc.free_bufs;
	perfbpf__proc.free_bufs = b;
	perfbpf__unlock();
}

/* In a child after fork: the forking thread's buffer is the parent's copy; its records are the
 * parent's (collected from the parent). */
PERFBPF__UNUSED static void perfbpf__after_fork(void)
{
	struct perfbpf_tbuf *b = perfbpf__tls;

	perfbpf__proc.lock = 0;
	perfbpf__proc.pid = getpid();
	if (b) {
		b->tid = (uint32_t)syscall(SYS_gettid);
		b->pos = ((b->pos >> 32) + 1) << 32;
	}
}

__attribute__((noinline, cold)) PERFBPF__UNUSED static int perfbpf__setup(void)
{
	size_t tab_bytes = sizeof(struct perfbpf_keytab) +
			   PERFBPF_V3_KEYS * sizeof(struct perfbpf_keydef);
	void *m;

	perfbpf__lock();
	if (perfbpf__proc.state) {
		perfbpf__unlock();
		return perfbpf__proc.state == 1;
	}
	perfbpf__proc.state = 2;
	m = mmap(NULL, tab_bytes + 2 * PERFBPF_V3_KEYS * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && pthread_key_create(&perfbpf__proc.tkey, perfbpf__thread_done) == 0) {
		perfbpf__proc.tab = (struct perfbpf_keytab *)m;
		perfbpf__proc.index = (uint32_t *)((char *)m + tab_bytes);
		perfbpf__proc.tab->cap = PERFBPF_V3_KEYS;
		perfbpf__proc.tab->magic = PERFBPF_KEYTAB_MAGIC;
		perfbpf__proc.tsc = perfbpf__invariant_tsc();
		perfbpf__proc.pid = getpid();
		pthread_atfork(NULL, NULL, perfbpf__after_fork);
		perfbpf__proc.state = 1;
	}
	perfbpf__unlock();
	return perfbpf__proc.state == 1;
}

/* The calling thread's buffer, made (or taken from the pool) and registered with the tracer by a
 * flush; NULL if memory cannot be had (nothing is recorded then). */
__attribute__((noinline, cold)) PERFBPF__UNUSED static struct perfbpf_tbuf *perfbpf__thread_init(void)
{
	struct perfbpf_tbuf *b;

	if (!perfbpf__setup())
		return NULL;
	perfbpf__lock();
	b = perfbpf__proc.free_bufs;
	if (b)
		perfbpf__proc.free_bufs = perfbpf__tail_of(b)->next_free;
	perfbpf__unlock();
	if (!b) {
		void *m = mmap(NULL, PERFBPF__BUF_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		b = (struct perfbpf_tbuf *)m;
		b->cap = PERFBPF_V3_BATCH;
		b->version = PERFBPF_ABI_V3;
		b->keytab = (uint64_t)(uintptr_t)perfbpf__proc.tab;
		b->magic = PERFBPF_TBUF_MAGIC;
	}
	memset(perfbpf__tail_of(b), 0, sizeof(struct perfbpf__tail));
	b->flags = perfbpf__proc.tsc ? PERFBPF_TBUF_TSC : 0;
	b->tid = (uint32_t)syscall(SYS_gettid);
	b->pos = ((b->pos >> 32) + 1) << 32;
	perfbpf__tls = b;
	pthread_setspecific(perfbpf__proc.tkey, b);
	perfbpf__tail_of(b)->sem_seen = perfbpf_flush_semaphore;
	perfbpf__flush(b);
	return b;
}

/* Whether s (NULL: "") equals the field f of n bytes as the field would hold it. */
static inline int perfbpf__name_eq(const char *s, const char *f, size_t n)
{
	size_t i = 0;

	if (!s)
		return f[0] == '\0';
	for (; i + 1 < n; i++) {
		if (s[i] != f[i])
			return 0;
		if (!s[i])
			return 1;
	}
	return f[i] == '\0';
}

/* Unaligned loads that are loads at any optimization level (a memcpy may be a call, which
 * AddressSanitizer checks even where perfbpf__name_is is not instrumented). */
typedef uint64_t __attribute__((may_alias, aligned(1))) perfbpf__u64_any;
typedef uint32_t __attribute__((may_alias, aligned(1))) perfbpf__u32_any;
#define perfbpf__load8(p) (*(const perfbpf__u64_any *)(const void *)(p))
#define perfbpf__load4(p) (*(const perfbpf__u32_any *)(const void *)(p))

/* perfbpf__name_eq for a string at an address a key's string of length n - 1 was read at (n:
 * perfbpf__cache_ent.len; 0: unknown, compared byte by byte): its n bytes, the NUL included,
 * compared a word at a time. Those bytes were readable when the key was cached, and a string now
 * shorter ends before them (its NUL differs from the key's byte there). Without AddressSanitizer:
 * a shorter string in a smaller allocation at the same address is read past its end, which is
 * what the words compare. */
__attribute__((no_sanitize_address)) static inline int
perfbpf__name_is(const char *s, const char *f, size_t size, unsigned n)
{
	size_t i = 0;

	if (n == 0 || !s)
		return perfbpf__name_eq(s, f, size);
	if (n < 4) {
		for (; i < n; i++)
			if (s[i] != f[i])
				return 0;
		return 1;
	}
	if (n < 8)
		return perfbpf__load4(s) == perfbpf__load4(f) &&
		       perfbpf__load4(s + n - 4) == perfbpf__load4(f + n - 4);
	for (; i + 8 < n; i += 8)
		if (perfbpf__load8(s + i) != perfbpf__load8(f + i))
			return 0;
	return perfbpf__load8(s + n - 8) == perfbpf__load8(f + n - 8);
}

/* Copies the string at s (NULL: "") into a zero-padded field of n bytes without trusting s: the
 * bytes are read with process_vm_readv, which stops at an unmapped page instead of faulting.
 * Returns PERFBPF_KEYDEF_FAULT if s could not be read (the field is then what could be read,
 * or ""), PERFBPF_KEYDEF_TRUNCATED if it is longer than the field, else 0. */
static inline uint32_t perfbpf__name_read(char *dst, const char *s, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)(uintptr_t)s, n };
	ssize_t got = 0;
	size_t len;

	memset(dst, 0, n);
	if (!s)
		return 0;
	/* the whole field, else up to the end of the string's page (a string near a page's end).
	 * syscall() is variadic and reads each argument as a long: the counts and flags are passed
	 * as such (an int's upper half, on the stack for the last one, is whatever was there). */
	got = syscall(SYS_process_vm_readv, (long)perfbpf__proc.pid, &local, 1UL, &remote, 1UL, 0UL);
	if (got < 0) {
		remote.iov_len = local.iov_len = 4096 - ((uintptr_t)s & 4095);
		if (remote.iov_len > n)
			remote.iov_len = local.iov_len = n;
		got = syscall(SYS_process_vm_readv, (long)perfbpf__proc.pid, &local, 1UL, &remote, 1UL,
			      0UL);
	}
	if (got <= 0) {
		memset(dst, 0, n);
		return PERFBPF_KEYDEF_FAULT;
	}
	len = strnlen(dst, (size_t)got);
	if (len < (size_t)got) {
		memset(dst + len, 0, n - len);
		return 0;
	}
	dst[n - 1] = '\0';
	if ((size_t)got < n)
		return PERFBPF_KEYDEF_FAULT | PERFBPF_KEYDEF_TRUNCATED;
	return PERFBPF_KEYDEF_TRUNCATED; /* n bytes without a NUL: longer than the field */
}

/* Hash and PERFBPF_KEYDEF_TRUNCATED flag of the string s (NULL: "") as a field of n bytes would
 * hold it, read directly (the caller knows s is readable: an engine string it
 * has read safely before, or a copy). */
static inline uint64_t perfbpf__hash_direct(uint64_t h, const char *s, size_t n, uint32_t *fl)
{
	size_t i = 0;

	for (; s && i + 1 < n && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	if (s && i + 1 == n && s[i])
		*fl |= PERFBPF_KEYDEF_TRUNCATED;
	return (h ^ 0xff) * 0x100000001b3ull;
}

/* The key id of (m, s, st) in the object's table, added (and flushed, so that its definition
 * reaches the tracer before its first record) if new; 0 when the table is full. *unreadable is
 * set when a string could not be read. */
__attribute__((noinline)) PERFBPF__UNUSED static uint32_t
perfbpf__intern(const char *m, const char *s, const char *st, uint32_t *unreadable)
{
	struct perfbpf_keytab *t;
	struct perfbpf_keydef *defs, nd;
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t mask = 2 * PERFBPF_V3_KEYS - 1, i, id = 0, fl, trunc = 0;
	int added = 0;

	if (!perfbpf__setup())
		return 0;
	t = perfbpf__proc.tab;
	defs = (struct perfbpf_keydef *)(t + 1);
	fl = perfbpf__name_read(nd.metric, m, sizeof(nd.metric)) |
	     perfbpf__name_read(nd.symbol, s, sizeof(nd.symbol)) |
	     perfbpf__name_read(nd.strategy, st, sizeof(nd.strategy));
	*unreadable = (fl & PERFBPF_KEYDEF_FAULT) != 0;
	/* the copies hash as the strings do in perfbpf__find (trunc is already in fl) */
	h = perfbpf__hash_direct(h, nd.metric, sizeof(nd.metric), &trunc);
	h = perfbpf__hash_direct(h, nd.symbol, sizeof(nd.symbol), &trunc);
	h = perfbpf__hash_direct(h, nd.strategy, sizeof(nd.strategy), &trunc);
	perfbpf__lock();
	for (i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		uint32_t k = __atomic_load_n(&perfbpf__proc.index[i], __ATOMIC_ACQUIRE);
		const struct perfbpf_keydef *d;

		if (k == 0)
			break;
		d = &defs[k - 1];
		if ((d->ready >> 1) == fl && !memcmp(d->metric, nd.metric, sizeof(nd.metric) +
						     sizeof(nd.symbol) + sizeof(nd.strategy))) {
			id = k;
			break;
		}
	}
	if (!id) {
		if (t->count < t->cap) {
			struct perfbpf_keydef *d = &defs[t->count];

			memcpy(d->metric, nd.metric, sizeof(nd.metric) + sizeof(nd.symbol) +
						     sizeof(nd.strategy));
			d->id = id = t->count + 1;
			__atomic_store_n(&d->ready, 1 | fl << 1, __ATOMIC_RELEASE);
			__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELEASE);
			__atomic_store_n(&perfbpf__proc.index[i], id, __ATOMIC_RELEASE);
			added = 1;
		} else {
			t->full++;
		}
	}
	perfbpf__unlock();
	if (added && perfbpf__tls)
		perfbpf__flush(perfbpf__tls);
	return id;
}

/* The id of (m, s, st) if the table has it, found without the lock and without copying the
 * strings (the caller knows they are readable); 0 if not there yet. */
#if defined(__clang__)
#define PERFBPF__NOCLONE
#else
#define PERFBPF__NOCLONE __attribute__((noclone)) /* see perfbpf__hash_direct */
#endif
__attribute__((noinline)) PERFBPF__NOCLONE PERFBPF__UNUSED static uint32_t
perfbpf__find(const char *m, const char *s, const char *st)
{
	const struct perfbpf_keydef *defs;
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t mask = 2 * PERFBPF_V3_KEYS - 1, fl = 0;

	if (__atomic_load_n(&perfbpf__proc.state, __ATOMIC_ACQUIRE) != 1)
		return 0;
	defs = (const struct perfbpf_keydef *)(perfbpf__proc.tab + 1);
	h = perfbpf__hash_direct(h, m, PERFBPF_NAME_METRIC, &fl);
	h = perfbpf__hash_direct(h, s, PERFBPF_NAME_SYMBOL, &fl);
	h = perfbpf__hash_direct(h, st, PERFBPF_NAME_STRATEGY, &fl);
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		uint32_t k = __atomic_load_n(&perfbpf__proc.index[i], __ATOMIC_ACQUIRE);
		const struct perfbpf_keydef *d;

		if (k == 0)
			return 0;
		d = &defs[k - 1];
		if ((d->ready >> 1) == fl && perfbpf__name_eq(m, d->metric, sizeof(d->metric)) &&
		    perfbpf__name_eq(s, d->symbol, sizeof(d->symbol)) &&
		    perfbpf__name_eq(st, d->strategy, sizeof(d->strategy)))
			return k;
	}
}

/* Whether the 64 bytes from p (NULL: yes) lie in pages a safe read found readable lately. A
 * page the engine unmaps later while still passing pointers into it is not noticed: the engine
 * would read freed memory itself. */
static inline int perfbpf__pages_ok(const struct perfbpf__tail *t, const char *p)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, z = ((uintptr_t)p + 63) & ~(uintptr_t)4095;
	int fa = 0, fz = 0;

	if (!p)
		return 1;
	if (a == 0) /* never readable; and an empty slot holds 0 */
		return 0;
	for (unsigned i = 0; i < PERFBPF__OK_PAGES; i++) {
		fa |= t->ok_pages[i] == a;
		fz |= t->ok_pages[i] == z;
	}
	return fa && fz;
}

static inline void perfbpf__page_add(struct perfbpf__tail *t, const char *p)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, z = ((uintptr_t)p + 63) & ~(uintptr_t)4095;

	if (!p || perfbpf__pages_ok(t, p))
		return;
	t->ok_pages[t->ok_next++ % PERFBPF__OK_PAGES] = a;
	if (z != a)
		t->ok_pages[t->ok_next++ % PERFBPF__OK_PAGES] = z;
}

/* Caches key k for the strings at (m, s, st), with the lengths the key's strings have (none for a
 * key whose strings were cut or unreadable: those are compared byte by byte, as the key holds
 * them). */
static inline void perfbpf__cache_put(struct perfbpf__cache_ent *e, uint32_t k, const char *m,
				      const char *s, const char *st)
{
	e->key = k;
	e->p[0] = m;
	e->p[1] = s;
	e->p[2] = st;
	e->len[0] = e->len[1] = e->len[2] = 0;
	if (k) {
		const struct perfbpf_keydef *d = (const struct perfbpf_keydef *)(perfbpf__proc.tab + 1) + (k - 1);

		if ((d->ready >> 1) == 0) {
			e->len[0] = (uint8_t)(strnlen(d->metric, sizeof(d->metric)) + 1);
			e->len[1] = (uint8_t)(strnlen(d->symbol, sizeof(d->symbol)) + 1);
			e->len[2] = (uint8_t)(strnlen(d->strategy, sizeof(d->strategy)) + 1);
		}
	}
}

/* The key of a call site whose arguments are not all literals: a per-thread cache by address,
 * checked against the strings' current contents. Strings at an address seen before, or in pages
 * read safely lately, are read directly; others are first copied with process_vm_readv (an
 * unreadable pointer is recorded as such, never dereferenced). */
__attribute__((noinline)) PERFBPF__UNUSED static uint32_t
perfbpf__key_miss(struct perfbpf__tail *t, struct perfbpf__cache_ent *e, const char *m,
		  const char *s, const char *st)
{
	uint32_t k = 0, unreadable = 0;

	if (perfbpf__pages_ok(t, m) && perfbpf__pages_ok(t, s) && perfbpf__pages_ok(t, st))
		k = perfbpf__find(m, s, st);
	if (!k) {
		k = perfbpf__intern(m, s, st, &unreadable);
		if (!unreadable) {
			perfbpf__page_add(t, m);
			perfbpf__page_add(t, s);
			perfbpf__page_add(t, st);
		}
	}
	perfbpf__cache_put(e, k, m, s, st);
	e->unreadable = unreadable != 0;
	return k;
}

static inline uint32_t perfbpf__key_dyn(struct perfbpf_tbuf *b, unsigned lit, const char *m,
					const char *s, const char *st)
{
	uintptr_t h = ((uintptr_t)m ^ ((uintptr_t)s >> 3) ^ ((uintptr_t)st >> 5)) * 0x9e3779b97f4a7c15ull;
	struct perfbpf__tail *t = perfbpf__tail_of(b);
	unsigned set = (unsigned)(h >> 58);
	struct perfbpf__cache_ent *ways = &t->cache[set * PERFBPF__WAYS];

	for (unsigned w = 0; w < PERFBPF__WAYS; w++) {
		struct perfbpf__cache_ent *e = &ways[w];
		const struct perfbpf_keydef *d;

		if (!e->key || e->p[0] != m || e->p[1] != s || e->p[2] != st)
			continue;
		if (e->unreadable)
			return perfbpf__key_miss(t, e, m, s, st);
		d = (const struct perfbpf_keydef *)(perfbpf__proc.tab + 1) + (e->key - 1);
		/* a literal argument at the cached address is the cached string: compare the others */
		if (((lit & 1) || perfbpf__name_is(m, d->metric, sizeof(d->metric), e->len[0])) &&
		    ((lit & 2) || perfbpf__name_is(s, d->symbol, sizeof(d->symbol), e->len[1])) &&
		    ((lit & 4) || perfbpf__name_is(st, d->strategy, sizeof(d->strategy), e->len[2])))
			return e->key;
		/* a buffer reused for other names: looked up again (directly where its pages were
		 * read safely lately) */
		return perfbpf__key_miss(t, e, m, s, st);
	}
	return perfbpf__key_miss(t, &ways[t->victim[set]++ % PERFBPF__WAYS], m, s, st);
}

/* The thread's buffer, set up on first use and re-registered when the flush semaphore changes
 * (a tracer attached or detached), or NULL. */
static inline __attribute__((always_inline)) struct perfbpf_tbuf *perfbpf__buf(void)
{
	struct perfbpf_tbuf *b = perfbpf__tls;

	if (__builtin_expect(!b, 0))
		return perfbpf__thread_init();
	if (__builtin_expect(perfbpf__tail_of(b)->sem_seen != perfbpf_flush_semaphore, 0)) {
		perfbpf__tail_of(b)->sem_seen = perfbpf_flush_semaphore;
		perfbpf__flush(b);
	}
	return b;
}

static inline __attribute__((always_inline)) void perfbpf__put(struct perfbpf_tbuf *b, uint32_t kind, uint32_t key, uint64_t value)
{
	uint64_t pos = b->pos;
	uint32_t h = (uint32_t)pos;
	struct perfbpf_rec *r = perfbpf__recs(b) + h;

	r->key = key;
	r->kind = kind;
	/* the event's time, after the key lookup. Taken before it (so that a new key's flush, a
	 * trap, stayed out of a PERFBPF_OP_SINCE op), two CI runs saw a span begin stamped after
	 * the next one: across the trap the thread may change CPU, and on a VM two CPUs' TSCs
	 * agree only so closely. */
	r->ts = perfbpf__rec_stamp();
	r->value = value;
	__asm__ volatile("" ::: "memory"); /* the record before the cursor that publishes it */
	b->pos = pos + 1;
	if (__builtin_expect(h + 1 >= PERFBPF_V3_BATCH, 0))
		perfbpf__flush(b);
}

/* A call site whose strings are all literals keeps its key here. The strings' addresses are kept
 * with it and checked: a site in an inline function is one object however many callers the
 * function is inlined into, and each caller may pass other literals. The first names to claim
 * the site keep it (written once, before the key that publishes them); others go through the
 * thread's cache. */
struct perfbpf__site {
	uint32_t key;  /* 0: not claimed yet */
	uint32_t busy; /* being claimed */
	const char *p[3];
};

/* The key of literal names at a site the first names claimed, or whose key is not known yet. */
__attribute__((noinline)) PERFBPF__UNUSED static uint32_t
perfbpf__site_miss(struct perfbpf_tbuf *b, struct perfbpf__site *site, const char *m,
		   const char *s, const char *st)
{
	uint32_t key, unreadable;

	if (__atomic_load_n(&site->key, __ATOMIC_ACQUIRE) ||
	    __atomic_exchange_n(&site->busy, 1, __ATOMIC_ACQUIRE))
		return perfbpf__key_dyn(b, 7, m, s, st);
	key = perfbpf__intern(m, s, st, &unreadable);
	if (!key) { /* the key table is full: the site stays unclaimed */
		__atomic_store_n(&site->busy, 0, __ATOMIC_RELEASE);
		return 0;
	}
	site->p[0] = m;
	site->p[1] = s;
	site->p[2] = st;
	__atomic_store_n(&site->key, key, __ATOMIC_RELEASE);
	return key;
}

/* The key of an event's names. lit has bit 0, 1, 2 set for each of m, s, st that is a literal;
 * `site` keeps the key of a call site whose strings are all literals. */
static inline __attribute__((always_inline)) uint32_t perfbpf__key_of(struct perfbpf_tbuf *b, struct perfbpf__site *site, unsigned lit,
				       const char *m, const char *s, const char *st)
{
	if (lit == 7) {
		uint32_t key = __atomic_load_n(&site->key, __ATOMIC_ACQUIRE);

		if (__builtin_expect(key && site->p[0] == m && site->p[1] == s && site->p[2] == st, 1))
			return key;
		return perfbpf__site_miss(b, site, m, s, st);
	}
	return perfbpf__key_dyn(b, lit, m, s, st);
}

/* Records one event (lit and site: perfbpf__key_of). */
static inline __attribute__((always_inline)) void perfbpf__record(struct perfbpf__site *site, unsigned lit, uint32_t kind, const char *m,
				   const char *s, const char *st, uint64_t value)
{
	struct perfbpf_tbuf *b = perfbpf__buf();

	if (__builtin_expect(!b, 0))
		return;
	perfbpf__put(b, kind, perfbpf__key_of(b, site, lit, m, s, st), value);
}

/* Records the open of span `id` under span `parent` (0: a root): PERFBPF_REC_SPAN_PARENT, when
 * there is a parent, then PERFBPF_REC_SPAN_OPEN, one key for both. */
static inline __attribute__((always_inline)) void perfbpf__record_open(struct perfbpf__site *site, unsigned lit, const char *m, const char *s,
					const char *st, uint64_t id, uint64_t parent)
{
	struct perfbpf_tbuf *b = perfbpf__buf();
	uint32_t key;

	if (__builtin_expect(!b, 0))
		return;
	key = perfbpf__key_of(b, site, lit, m, s, st);
	if (parent)
		perfbpf__put(b, PERFBPF_REC_SPAN_PARENT, key, parent);
	perfbpf__put(b, PERFBPF_REC_SPAN_OPEN, key, id);
}

/* Writes a span note: its record (kind, key, value) and, with `str` (NULL: none), the string's
 * bytes in the PERFBPF_REC_BYTES records after it, all published by one cursor store and never
 * split across two batches. The string is read here, in the engine, as an in-process tracer
 * reads it: at most PERFBPF_NOTE_STR_MAX bytes. */
__attribute__((noinline)) PERFBPF__UNUSED static void
perfbpf__note_put(struct perfbpf_tbuf *b, uint32_t kind, uint32_t key, const char *str,
		  uint64_t value)
{
	size_t n = str ? strnlen(str, PERFBPF_NOTE_STR_MAX) : 0;
	uint32_t nrec = 1 + (uint32_t)((n + PERFBPF_NOTE_BYTES - 1) / PERFBPF_NOTE_BYTES), h;
	struct perfbpf_rec *r;
	uint64_t pos;

	if ((uint32_t)b->pos + nrec > PERFBPF_V3_BATCH)
		perfbpf__flush(b);
	pos = b->pos;
	h = (uint32_t)pos;
	r = perfbpf__recs(b) + h;
	if (str)
		value = n | (n == PERFBPF_NOTE_STR_MAX && str[n] ? PERFBPF_NOTE_CUT : 0);
	r->key = key;
	r->kind = kind;
	r->ts = perfbpf__rec_stamp();
	r->value = value;
	for (size_t i = 0; i < n; i += PERFBPF_NOTE_BYTES) {
		unsigned char bytes[PERFBPF_NOTE_BYTES] = { 0 };

		memcpy(bytes, str + i, n - i < PERFBPF_NOTE_BYTES ? n - i : PERFBPF_NOTE_BYTES);
		perfbpf_note_bytes_put(++r, bytes);
	}
	__asm__ volatile("" ::: "memory"); /* the records before the cursor that publishes them */
	b->pos = pos + nrec;
	if (h + nrec >= PERFBPF_V3_BATCH)
		perfbpf__flush(b);
}

/* Records a span note named (k1, "", k2) (lit and site: perfbpf__key_of), or with no names
 * (k1 NULL: an error, a span selection). */
static inline __attribute__((always_inline)) void perfbpf__record_note(struct perfbpf__site *site, unsigned lit, uint32_t kind,
					const char *k1, const char *k2, const char *str,
					uint64_t value)
{
	struct perfbpf_tbuf *b = perfbpf__buf();
	uint32_t key = 0;

	if (__builtin_expect(!b, 0))
		return;
	if (k1)
		key = perfbpf__key_of(b, site, lit, k1, (const char *)0, k2);
	perfbpf__note_put(b, kind, key, str, value);
}

/* Whether a string argument is a literal (or NULL): its contents are then fixed for the
 * program's life, and its call site may keep its key. */
#define PERFBPF__LIT(x)                                                                         \
	((__builtin_constant_p((x) == 0) && (x) == 0) ||                                        \
	 __builtin_constant_p(((const char *)(x))[0]))

#define PERFBPF__RECORD(kind, m, s, st, value)                                                  \
	do {                                                                                    \
		static struct perfbpf__site perfbpf__site_key;                                  \
		_Pragma("GCC diagnostic push")                                                  \
		_Pragma("GCC diagnostic ignored \"-Warray-bounds\"")                            \
		perfbpf__record(&perfbpf__site_key,                                             \
				PERFBPF__LIT(m) | PERFBPF__LIT(s) << 1 | PERFBPF__LIT(st) << 2,  \
				(kind),                                                         \
				(const char *)(m), (const char *)(s), (const char *)(st),       \
				(uint64_t)(value));                                             \
		_Pragma("GCC diagnostic pop")                                                   \
	} while (0)

#define PERFBPF__RECORD_NOTE(kind, k1, k2, str, value)                                          \
	do {                                                                                    \
		static struct perfbpf__site perfbpf__site_key;                                  \
		_Pragma("GCC diagnostic push")                                                  \
		_Pragma("GCC diagnostic ignored \"-Warray-bounds\"")                            \
		perfbpf__record_note(&perfbpf__site_key,                                        \
				     PERFBPF__LIT(k1) | 2 | PERFBPF__LIT(k2) << 2, (kind),     \
				     (const char *)(k1), (const char *)(k2),                    \
				     (const char *)(str), (uint64_t)(value));                   \
		_Pragma("GCC diagnostic pop")                                                   \
	} while (0)

#define PERFBPF__RECORD_OPEN(m, s, st, id, parent)                                              \
	do {                                                                                    \
		static struct perfbpf__site perfbpf__site_key;                                  \
		_Pragma("GCC diagnostic push")                                                  \
		_Pragma("GCC diagnostic ignored \"-Warray-bounds\"")                            \
		perfbpf__record_open(&perfbpf__site_key,                                        \
				     PERFBPF__LIT(m) | PERFBPF__LIT(s) << 1 | PERFBPF__LIT(st) << 2, \
				     (const char *)(m), (const char *)(s), (const char *)(st),  \
				     (uint64_t)(id), (uint64_t)(parent));                       \
		_Pragma("GCC diagnostic pop")                                                   \
	} while (0)

#endif /* PERFBPF_RECORDER_H */
