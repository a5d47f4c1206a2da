// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark target: fires perfbpf probes in a tight loop and prints the wall time per event.
 *   probe_loop [--events N] [--wait-attach SEC]
 *   probe_loop --rate R --threads T --seconds S [--pace sleep|spin] [--wait-attach SEC]
 * The first form prints "op_ns X" (one op per iteration, two symbols alternating, all names string
 * literals), "op_heap_ns X" (the same with the symbol and strategy in heap buffers, as names read
 * from market data or a config would be) and "span_ns Y" (one span_begin/span_end pair per
 * iteration). The second fires ops from T threads at R events
 * per second in all (R = 0: as fast as they can) for S seconds and prints "events N seconds S";
 * between batches each thread sleeps (--pace sleep, the default) or spins on the clock (--pace
 * spin: an engine that keeps its CPU busy, as a backtest does).
 * With --wait-attach it starts once a tracer has set the semaphores, so that the whole loop is
 * traced. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <perfbpf/probe.h>

#define BATCH 64 /* ops fired between two looks at the clock */

static const char *const symbols[2] __attribute__((unused)) = { "BTCUSDT", "ETHUSDT" };

struct pacer {
	double rate;    /* events per second for this thread, 0: unpaced */
	double seconds;
	int spin;
	long fired;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *paced_ops(void *arg)
{
	struct pacer *p = arg;
	double t0 = now_s(), t;

	while ((t = now_s()) - t0 < p->seconds) {
		double due = p->rate > 0 ? t0 + (double)p->fired / p->rate : t;

		while (p->spin && due > t)
			t = now_s();
		if (due > t) {
			struct timespec ts = { 0, (long)((due - t) * 1e9) };

			nanosleep(&ts, NULL);
		}
		for (int i = 0; i < BATCH; i++, p->fired++)
			PERFBPF_OP("bench.op", symbols[p->fired & 1], "bench",
				   1000 + (uint64_t)(p->fired & 1023));
	}
	return NULL;
}

static int run_paced(double rate, int threads, double seconds, int spin)
{
	pthread_t tid[64];
	struct pacer p[64];
	double t0 = now_s();
	long total = 0;

	for (int i = 0; i < threads; i++) {
		p[i] = (struct pacer){ rate / threads, seconds, spin, 0 };
		if (pthread_create(&tid[i], NULL, paced_ops, &p[i])) {
			fprintf(stderr, "probe_loop: cannot start a thread\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += p[i].fired;
	}
	printf("events %ld seconds %.3f\n", total, now_s() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	long events = 1000000;
	double wait_s = 0, rate = -1, seconds = 1, t0;
	int threads = 1, spin = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--events"))
			events = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--wait-attach"))
			wait_s = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--rate"))
			rate = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--pace"))
			spin = !strcmp(argv[i + 1], "spin") ? 1 : strcmp(argv[i + 1], "sleep") ? -1 : 0;
	}
	if (events <= 0 || threads < 1 || threads > 64 || seconds <= 0 || spin < 0) {
		fprintf(stderr, "usage: probe_loop [--events N] [--wait-attach SEC]\n"
				"       probe_loop --rate R --threads T --seconds S [--pace sleep|spin] "
				"[--wait-attach SEC]\n");
		return 2;
	}
	for (t0 = now_s(); wait_s > 0 && !(PERFBPF_OP_ENABLED() && PERFBPF_SPAN_ENABLED());) {
		if (now_s() - t0 > wait_s) {
			fprintf(stderr, "probe_loop: no tracer attached within %.0f s\n", wait_s);
			return 1;
		}
		usleep(1000);
	}
	if (rate >= 0)
		return run_paced(rate, threads, seconds, spin);
	t0 = now_s();
	for (long i = 0; i < events; i++)
		PERFBPF_OP("bench.op", symbols[i & 1], "bench", 1000 + (uint64_t)(i & 1023));
	printf("op_ns %.1f\n", (now_s() - t0) * 1e9 / (double)events);
	{
		char *sym[2] = { strdup(symbols[0]), strdup(symbols[1]) }, *strategy = strdup("bench");

		if (!sym[0] || !sym[1] || !strategy)
			return 1;
		t0 = now_s();
		for (long i = 0; i < events; i++)
			PERFBPF_OP("bench.op", sym[i & 1], strategy, 1000 + (uint64_t)(i & 1023));
		printf("op_heap_ns %.1f\n", (now_s() - t0) * 1e9 / (double)events);
		free(sym[0]);
		free(sym[1]);
		free(strategy);
	}
	t0 = now_s();
	for (long i = 0; i < events; i++) {
		PERFBPF_SPAN_BEGIN("bench.span", symbols[i & 1], "bench");
		PERFBPF_SPAN_END("bench.span");
	}
	printf("span_ns %.1f\n", (now_s() - t0) * 1e9 / (double)events);
	return 0;
}
