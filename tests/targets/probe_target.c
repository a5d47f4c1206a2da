// SPDX-License-Identifier: BSD-2-Clause
/* Integration-test target: a PIE executable with perfbpf probes that also calls into a shared
 * library with probes. Each mode emits a known set of events.
 *
 *   probe_target [--wait-attach] [--wait-signal] [--exit N] [--linger MS] MODE [COUNT]
 *   --wait-signal: print "ready PID", then start MODE on SIGUSR1 (tracers attach meanwhile).
 *   MODE basic:   COUNT iterations of: exe op (duration i), library op/span, and nested spans
 *                 outer > middle > inner, on the main thread and on a second thread.
 *   MODE errors:  span-bookkeeping faults: an end with no begin, a mismatched end, nesting 20
 *                 deep, a name longer than the field, a NULL symbol, an unreadable string.
 *   MODE strings: one op per bad string: a 1 MiB string, one that runs into an unmapped page
 *                 without a NUL, one in a PROT_NONE page, a kernel address.
 *   MODE fork:    COUNT "parent.op"; a child fires COUNT "child.op" and exits 0; then COUNT
 *                 "parent.after". Exits 5 if the child did not exit 0.
 *   MODE fork-same: COUNT ops "shared.op" from one call site, a fork, COUNT more from that same
 *                 site in the child, and COUNT more in the parent after the child's exit (exit 5
 *                 if the child did not exit 0, as when a site it inherited crashes it).
 *   MODE exec:    COUNT "before.exec", then execs itself in mode after-exec: COUNT "after.exec",
 *                 1.5 s later COUNT "after.exec.late".
 *   MODE dlopen:  once attached, dlopen()s libprobelate.so (next to this executable), waits up to
 *                 10 s for its probe to be attached (exit 4 if not), then COUNT "late.op" in it.
 *   MODE reload:  for libprobelate.so, then libprobelate2.so (op "late.ox", the same layout):
 *                 dlopen, at once COUNT ops from this executable's probe site named with the
 *                 library's literal (symbol "EXE"), then as dlopen (COUNT from the library's
 *                 site), dlclose. Prints "names ADDR1 ADDR2", the addresses of the two names
 *                 (usually equal: the second library is mapped where the first was).
 *   MODE threads: 64 threads, each COUNT x (span "thread.span" around op "thread.op"), strategy
 *                 "t<N>"; all start together.
 *   MODE watch:   forever: every 100 ms prints "SEMAPHORE NS": the op and flush semaphores (summed) and the fastest
 *                 time per op of batches of 10,000 ops in that window.
 *   MODE heap:    3 x COUNT ops "heap.op" whose symbol is one malloc'd buffer rewritten before
 *                 each op: "AAA", "BBBBBBBB", "AAA2" in turn (one address, three symbols);
 *                 then COUNT ops "inline.a" (value i) and COUNT "inline.b" (2 i) from one call
 *                 site in an inline function.
 *   MODE idle:    a thread started before any tracer waits until the tracer is there, fires
 *                 COUNT ops "idle.op" and then blocks for good; the process runs until killed.
 *   MODE killself: COUNT ops "pending.op" (fewer than a batch: none flushed), then SIGKILL.
 *   MODE timed:   COUNT ops "timed.op" timed with PERFBPF_OP_START / PERFBPF_OP_SINCE, each
 *                 spinning 20, 40, .. 100 us in turn by its own clock; prints "timed IN_MIN
 *                 IN_MAX OUT_MIN OUT_MAX IN_SUM OUT_SUM": each op's duration read just inside
 *                 and just outside its START and SINCE (the true duration is between the two).
 *   MODE keys:    COUNT distinct keys ("many.keys", symbol K00000.., "k"), three ops each:
 *                 (i % 997) + 10, 3 * (i % 997) + 10 and 100000 + i ns.
 *   MODE spin:    once a tracer is there, COUNT ops "spin.op", then computes forever without a
 *                 system call: its thread neither flushes nor blocks.
 *   --wait-tracers N: with --wait-attach, wait until N tracers have armed the flush site.
 *   probe_target [options] ops COUNT METRIC SYMBOL STRATEGY [METRIC SYMBOL STRATEGY]...
 *                 COUNT ops named by each triple, in turn (durations 1000, 1001, ...).
 */
#include <perfbpf/probe.h>

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void probelib_work(unsigned i);
int probelib_attached(void);

static unsigned count = 1000;

static void nested(const char *strategy)
{
	PERFBPF_SPAN_BEGIN("outer", "SYM", strategy);
	PERFBPF_SPAN_BEGIN("middle", "SYM", strategy);
	PERFBPF_SPAN_BEGIN("inner", "SYM", strategy);
	PERFBPF_SPAN_END("inner");
	PERFBPF_SPAN_END("middle");
	PERFBPF_SPAN_END("outer");
}

static void *second_thread(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < count; i++)
		nested("thread2");
	return NULL;
}

static void basic(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, second_thread, NULL))
		exit(3);
	for (unsigned i = 0; i < count; i++) {
		PERFBPF_OP("exe.op", i % 2 ? "ODD" : "EVEN", "exe", (uint64_t)i);
		probelib_work(i);
		nested("main");
	}
	pthread_join(th, NULL);
}

/* COUNT ops of each name triple given on the command line (durations 1000, 1001, ...). */
static void ops(char **names, int n)
{
	for (int k = 0; k + 2 < n; k += 3)
		for (unsigned j = 0; j < count; j++)
			PERFBPF_OP(names[k], names[k + 1], names[k + 2], 1000 + (uint64_t)j);
}

static void errors(void)
{
	char longname[200];
	char name_copy[16];

	/* 1 unmatched end */
	PERFBPF_SPAN_END("never.begun");
	/* a, b open; "a" ends first: b is abandoned (1 mismatch, 1 abandoned), a is recorded */
	PERFBPF_SPAN_BEGIN("a", "", "");
	PERFBPF_SPAN_BEGIN("b", "", "");
	PERFBPF_SPAN_END("a");
	/* an end naming nothing open: 1 mismatch, ignored; "c" still ends normally */
	PERFBPF_SPAN_BEGIN("c", "", "");
	PERFBPF_SPAN_END("zzz");
	/* the same name from another buffer: matched by content, not by address */
	strcpy(name_copy, "c");
	PERFBPF_SPAN_END(name_copy);
	/* 20 deep: 16 recorded, 4 over the limit; their ends must not close recorded spans */
	for (int i = 0; i < 20; i++)
		PERFBPF_SPAN_BEGIN("deep", "", "");
	for (int i = 0; i < 20; i++)
		PERFBPF_SPAN_END("deep");
	/* a metric name longer than its field (63 bytes kept) and a NULL symbol */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	PERFBPF_OP(longname, NULL, "s", 5);
	/* an unreadable string pointer: recorded with an empty symbol */
	PERFBPF_OP("bad.ptr", (const char *)8, "s", 6);
	/* exactly 63 characters: fits, not truncated */
	memset(longname, 'y', 63);
	longname[63] = '\0';
	PERFBPF_OP(longname, "", "", 7);
}

static void strings(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), huge_len = 1u << 20;
	char *huge = malloc(huge_len), *pages;

	if (!huge)
		exit(3);
	memset(huge, 'h', huge_len - 1);
	huge[huge_len - 1] = '\0';
	PERFBPF_OP("str.huge", huge, "s", 1);
	free(huge);
	/* two pages: the first filled with 'u' and no NUL, the second unmapped */
	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		exit(3);
	memset(pages, 'u', page);
	munmap(pages + page, page);
	PERFBPF_OP("str.unterminated", pages + page - 20, "s", 2);
	/* a page that cannot be read at all */
	mprotect(pages, page, PROT_NONE);
	PERFBPF_OP("str.protnone", pages, "s", 3);
	PERFBPF_OP("str.kernel", (const char *)0xffffffff81000000ull, "s", 4);
	munmap(pages, page);
}

static void fork_child(void)
{
	pid_t pid;
	int st;

	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("parent.op", "P", "fork", i);
	pid = fork();
	if (pid < 0)
		exit(3);
	if (pid == 0) {
		for (unsigned i = 0; i < count; i++)
			PERFBPF_OP("child.op", "C", "fork", i);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		exit(5);
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("parent.after", "P", "fork", i);
}

static __attribute__((noinline)) void shared_ops(unsigned side)
{
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("shared.op", side ? "C" : "P", "fork", i);
}

static void fork_same_site(void)
{
	pid_t pid;
	int st;

	shared_ops(0);
	pid = fork();
	if (pid < 0)
		exit(3);
	if (pid == 0) {
		shared_ops(1);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		exit(5);
	shared_ops(0);
}

static void exec_self(void)
{
	char n[16];

	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("before.exec", "X", "exec", i);
	snprintf(n, sizeof(n), "%u", count);
	/* $PROBE_TARGET_EXEC: another executable to exec instead (with the same arguments) */
	execl(getenv("PROBE_TARGET_EXEC") ?: "/proc/self/exe", "probe_target", "after-exec", n,
	      (char *)NULL);
	exit(3);
}

static void after_exec(void)
{
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("after.exec", "X", "exec", i);
	/* a second batch after perfbpf's next look at the maps */
	usleep(1500000);
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("after.exec.late", "X", "exec", i);
}

/* Loads LIB (next to this executable), [exe_first: fires COUNT ops from this executable's probe
 * site named with the library's literal,] waits for its probe to be attached, fires COUNT ops,
 * unloads it; returns the address its op name had. */
static const void *load_late_library(const char *lib, bool exe_first)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	void *h;
	int (*attached)(void);
	void (*work)(unsigned);
	const char *(*name)(void);
	const void *addr;

	if (n <= 0)
		exit(3);
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, lib);
	h = dlopen(path, RTLD_NOW);
	if (!h)
		exit(3);
	attached = (int (*)(void))dlsym(h, "probelate_attached");
	work = (void (*)(unsigned))dlsym(h, "probelate_work");
	name = (const char *(*)(void))dlsym(h, "probelate_name");
	if (!attached || !work || !name)
		exit(3);
	for (unsigned i = 0; exe_first && i < count; i++)
		PERFBPF_OP(name(), "EXE", "dlopen", i);
	for (int t = 0; !attached(); t++) {
		if (t == 10000)
			exit(4);
		usleep(1000);
	}
	work(count);
	addr = name();
	dlclose(h);
	return addr;
}

static void reload_library(void)
{
	const void *a = load_late_library("libprobelate.so", true);
	const void *b = load_late_library("libprobelate2.so", true);

	printf("names %p %p\n", a, b);
	fflush(stdout);
}

#define NTHREADS 64
static pthread_barrier_t start_line;

static void *thread_body(void *arg)
{
	char strategy[8];

	snprintf(strategy, sizeof(strategy), "t%u", (unsigned)(uintptr_t)arg);
	pthread_barrier_wait(&start_line);
	for (unsigned i = 0; i < count; i++) {
		PERFBPF_SPAN_BEGIN("thread.span", "T", strategy);
		PERFBPF_OP("thread.op", "T", strategy, i);
		PERFBPF_SPAN_END("thread.span");
	}
	return NULL;
}

static void threads(void)
{
	pthread_t th[NTHREADS];

	pthread_barrier_init(&start_line, NULL, NTHREADS);
	for (uintptr_t t = 0; t < NTHREADS; t++)
		if (pthread_create(&th[t], NULL, thread_body, (void *)t))
			exit(3);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void watch(void)
{
	for (;;) {
		uint64_t end = now_ns() + 100000000u;
		double best = 1e18;

		while (now_ns() < end) {
			uint64_t t0 = now_ns();

			for (unsigned i = 0; i < 10000; i++)
				PERFBPF_OP("watch.op", "W", "watch", i);
			if ((double)(now_ns() - t0) / 10000 < best)
				best = (double)(now_ns() - t0) / 10000;
		}
		printf("%u %.2f\n", (unsigned)*(volatile unsigned short *)&perfbpf_op_semaphore +
					     (unsigned)*(volatile unsigned short *)&perfbpf_flush_semaphore,
		       best);
		fflush(stdout);
	}
}

/* One op site in an inline function: the compiler keeps one static for it however many callers
 * it is inlined into, each with its own literal metric. */
static inline __attribute__((always_inline)) void inlined_op(const char *metric, uint64_t v)
{
	PERFBPF_OP(metric, "INL", "inline", v);
}

static void heap_reuse(void)
{
	static const char *const syms[3] = { "AAA", "BBBBBBBB", "AAA2" };
	char *buf = malloc(32);

	if (!buf)
		exit(3);
	for (unsigned i = 0; i < 3 * count; i++) {
		strcpy(buf, syms[i % 3]);
		PERFBPF_OP("heap.op", buf, "heap", (uint64_t)i);
	}
	free(buf);
	for (unsigned i = 0; i < count; i++) {
		inlined_op("inline.a", i);
		inlined_op("inline.b", 2 * i);
	}
}

static volatile int idle_go;

static void *idle_thread(void *arg)
{
	(void)arg;
	while (!idle_go)
		usleep(1000);
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("idle.op", "I", "idle", (uint64_t)i);
	for (;;)
		pause();
	return NULL;
}

static void idle_pending(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, idle_thread, NULL))
		exit(3);
	while (!PERFBPF_OP_ENABLED())
		usleep(1000);
	usleep(50000);
	idle_go = 1;
	printf("idle\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void spin_forever(void)
{
	volatile uint64_t x = 1;

	while (!PERFBPF_OP_ENABLED())
		usleep(1000);
	printf("spinning\n");
	fflush(stdout);
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("spin.op", "S", "spin", (uint64_t)i);
	for (;;)
		x = x * 3 + 1;
}

static void timed(void)
{
	uint64_t in_min = UINT64_MAX, in_max = 0, out_min = UINT64_MAX, out_max = 0, in_sum = 0,
		 out_sum = 0;

	for (unsigned i = 0; i < count; i++) {
		uint64_t want = 20000 + (uint64_t)(i % 5) * 20000, o0, t0, t1, o1;
		perfbpf_stamp_t t;

		o0 = perfbpf_now_ns();
		t = PERFBPF_OP_START();
		t0 = perfbpf_now_ns();
		while ((t1 = perfbpf_now_ns()) - t0 < want)
			;
		PERFBPF_OP_SINCE("timed.op", "T", "timed", t);
		o1 = perfbpf_now_ns();
		in_min = t1 - t0 < in_min ? t1 - t0 : in_min;
		in_max = t1 - t0 > in_max ? t1 - t0 : in_max;
		out_min = o1 - o0 < out_min ? o1 - o0 : out_min;
		out_max = o1 - o0 > out_max ? o1 - o0 : out_max;
		in_sum += t1 - t0;
		out_sum += o1 - o0;
	}
	printf("timed %llu %llu %llu %llu %llu %llu\n", (unsigned long long)in_min,
	       (unsigned long long)in_max, (unsigned long long)out_min, (unsigned long long)out_max,
	       (unsigned long long)in_sum, (unsigned long long)out_sum);
}

/* `count` distinct keys (symbol K00000.., heap strings as market data gives them), three ops
 * each: (i % 997) + 10, 3 * (i % 997) + 10 and 100000 + i ns. */
static void many_keys(void)
{
	for (unsigned i = 0; i < count; i++) {
		char sym[16];

		snprintf(sym, sizeof(sym), "K%05u", i);
		PERFBPF_OP("many.keys", sym, "k", (uint64_t)(i % 997) + 10);
		PERFBPF_OP("many.keys", sym, "k", 3 * (uint64_t)(i % 997) + 10);
		PERFBPF_OP("many.keys", sym, "k", 100000 + (uint64_t)i);
	}
}

static void kill_self(void)
{
	for (unsigned i = 0; i < count; i++)
		PERFBPF_OP("pending.op", "K", "kill", (uint64_t)i);
	raise(SIGKILL);
}

int main(int argc, char **argv)
{
	int exit_code = 0, i = 1;
	long linger_ms = 0;
	bool wait = false, wait_signal = false;
	unsigned tracers = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--wait-attach"))
			wait = true;
		else if (!strcmp(argv[i], "--wait-signal"))
			wait_signal = true;
		else if (!strcmp(argv[i], "--exit") && i + 1 < argc)
			exit_code = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--wait-tracers") && i + 1 < argc)
			tracers = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--linger") && i + 1 < argc)
			linger_ms = atol(argv[++i]);
		else
			return 2;
	}
	if (i >= argc)
		return 2;
	if (i + 1 < argc)
		count = (unsigned)atoi(argv[i + 1]);
	if (wait_signal) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", getpid());
		fflush(stdout);
		sigwait(&set, &sig);
	}
	if (wait) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		/* every probe of the executable and of the library must be attached */
		for (int t = 0; t < 30000; t++) {
			if (PERFBPF__ANY(op) && PERFBPF__ANY(span_begin) && PERFBPF__ANY(span_end) &&
			    probelib_attached() &&
			    (tracers <= 1 || *(volatile unsigned short *)&perfbpf_flush_semaphore >= tracers))
				break;
			usleep(1000);
		}
		/* a probe's semaphore goes up when its first site is armed, before the others (the
		 * tracer arms them one by one): give the rest time (as backtest --wait-attach does) */
		usleep(50000);
	}
	if (!strcmp(argv[i], "basic"))
		basic();
	else if (!strcmp(argv[i], "errors"))
		errors();
	else if (!strcmp(argv[i], "strings"))
		strings();
	else if (!strcmp(argv[i], "fork"))
		fork_child();
	else if (!strcmp(argv[i], "fork-same"))
		fork_same_site();
	else if (!strcmp(argv[i], "exec"))
		exec_self();
	else if (!strcmp(argv[i], "after-exec"))
		after_exec();
	else if (!strcmp(argv[i], "reload"))
		reload_library();
	else if (!strcmp(argv[i], "dlopen"))
		load_late_library("libprobelate.so", false);
	else if (!strcmp(argv[i], "threads"))
		threads();
	else if (!strcmp(argv[i], "heap"))
		heap_reuse();
	else if (!strcmp(argv[i], "idle"))
		idle_pending();
	else if (!strcmp(argv[i], "killself"))
		kill_self();
	else if (!strcmp(argv[i], "timed"))
		timed();
	else if (!strcmp(argv[i], "keys"))
		many_keys();
	else if (!strcmp(argv[i], "spin"))
		spin_forever();
	else if (!strcmp(argv[i], "watch"))
		watch();
	else if (!strcmp(argv[i], "ops") && i + 2 < argc)
		ops(argv + i + 2, argc - i - 2);
	else
		return 2;
	if (linger_ms)
		usleep((useconds_t)linger_ms * 1000);
	return exit_code;
}
