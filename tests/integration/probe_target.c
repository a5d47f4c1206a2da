// SPDX-License-Identifier: BSD-2-Clause
/* Integration-test target: a PIE executable with perfbpf probes that also calls into a shared
 * library with probes. Each mode emits a known set of events.
 *
 *   probe_target [--wait-attach] [--exit N] [--linger MS] MODE [COUNT]
 *   MODE basic:   COUNT iterations of: exe op (duration i), library op/span, and nested spans
 *                 outer > middle > inner, on the main thread and on a second thread.
 *   MODE errors:  span-bookkeeping faults: an end with no begin, a mismatched end, nesting 20
 *                 deep, a name longer than the field, a NULL symbol, an unreadable string.
 */
#include <perfbpf/probe.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	int exit_code = 0, i = 1;
	long linger_ms = 0;
	bool wait = false;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--wait-attach"))
			wait = true;
		else if (!strcmp(argv[i], "--exit") && i + 1 < argc)
			exit_code = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--linger") && i + 1 < argc)
			linger_ms = atol(argv[++i]);
		else
			return 2;
	}
	if (i >= argc)
		return 2;
	if (i + 1 < argc)
		count = (unsigned)atoi(argv[i + 1]);
	if (wait) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		/* every probe of the executable and of the library must be attached */
		for (int t = 0; t < 30000; t++) {
			if (PERFBPF__ON(op) && PERFBPF__ON(span_begin) && PERFBPF__ON(span_end) &&
			    probelib_attached())
				break;
			usleep(1000);
		}
	}
	if (!strcmp(argv[i], "basic"))
		basic();
	else if (!strcmp(argv[i], "errors"))
		errors();
	else
		return 2;
	if (linger_ms)
		usleep((useconds_t)linger_ms * 1000);
	return exit_code;
}
