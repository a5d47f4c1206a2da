// SPDX-License-Identifier: BSD-2-Clause
/* Context-switch benchmark for perfbpf --attribution: two threads pinned to one CPU bounce a
 * byte over two pipes, so every hop is a voluntary context switch. Prints the wall time per
 * context switch. With --span each thread keeps a perfbpf span open (the accounted case).
 *
 *   ctxswitch [--iters N] [--span]
 */
#define _GNU_SOURCE
#include <perfbpf/probe.h>

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long iters = 200000;
static bool with_span;
static int ab[2], ba[2];

static void pin(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one)) {
		fprintf(stderr, "ctxswitch: cannot pin to CPU 0\n");
		exit(1);
	}
}

static void *pong(void *arg)
{
	char c;

	(void)arg;
	pin();
	if (with_span)
		PERFBPF_SPAN_BEGIN("bench.pong", "", "");
	for (long i = 0; i < iters; i++)
		if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
			exit(1);
	if (with_span)
		PERFBPF_SPAN_END("bench.pong");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	uint64_t t0, t1;
	char c = 'x';

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--span"))
			with_span = true;
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = atol(argv[++i]);
		else
			return 2;
	}
	if (pipe(ab) || pipe(ba))
		return 1;
	/* wait for a tracer (if one is starting us) so the whole loop is measured under it */
	for (int t = 0; t < 5000 && !PERFBPF_ENABLED() && getenv("PERFBPF_BENCH_TRACED"); t++)
		usleep(1000);
	pin();
	if (pthread_create(&th, NULL, pong, NULL))
		return 1;
	if (with_span)
		PERFBPF_SPAN_BEGIN("bench.ping", "", "");
	t0 = perfbpf_now_ns();
	for (long i = 0; i < iters; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	t1 = perfbpf_now_ns();
	if (with_span)
		PERFBPF_SPAN_END("bench.ping");
	pthread_join(th, NULL);
	/* two switches per round trip */
	printf("ns_per_switch %.1f\n", (double)(t1 - t0) / (2.0 * (double)iters));
	return 0;
}
