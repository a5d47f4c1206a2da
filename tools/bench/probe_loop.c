// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark target: fires perfbpf probes in a tight loop and prints the wall time per event.
 *   probe_loop [--events N] [--wait-attach SEC]
 * Prints "op_ns X" (one op per iteration, two symbols alternating) and "span_ns Y" (one
 * span_begin/span_end pair per iteration). With --wait-attach it starts once a tracer has set
 * the semaphores, so that the whole loop is traced. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <perfbpf/probe.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const char *const symbols[2] = { "BTCUSDT", "ETHUSDT" };
	long events = 1000000;
	double wait_s = 0, t0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--events"))
			events = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--wait-attach"))
			wait_s = atof(argv[i + 1]);
	}
	if (events <= 0) {
		fprintf(stderr, "usage: probe_loop [--events N] [--wait-attach SEC]\n");
		return 2;
	}
	for (t0 = now_s(); wait_s > 0 && !(PERFBPF_OP_ENABLED() && PERFBPF_SPAN_ENABLED());) {
		if (now_s() - t0 > wait_s) {
			fprintf(stderr, "probe_loop: no tracer attached within %.0f s\n", wait_s);
			return 1;
		}
		usleep(1000);
	}
	t0 = now_s();
	for (long i = 0; i < events; i++)
		PERFBPF_OP("bench.op", symbols[i & 1], "bench", 1000 + (uint64_t)(i & 1023));
	printf("op_ns %.1f\n", (now_s() - t0) * 1e9 / (double)events);
	t0 = now_s();
	for (long i = 0; i < events; i++) {
		PERFBPF_SPAN_BEGIN("bench.span", symbols[i & 1], "bench");
		PERFBPF_SPAN_END("bench.span");
	}
	printf("span_ns %.1f\n", (now_s() - t0) * 1e9 / (double)events);
	return 0;
}
