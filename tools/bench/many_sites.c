// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark target for attach time: 100 `op` probe sites (one per function), fired round-robin
 * in a loop that runs until killed (at most --seconds, default 60). Detached, each iteration
 * costs a branch, so the first event follows the attach as closely as the tracer allows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <perfbpf/probe.h>

#define SITE(n)                                                                             \
	static __attribute__((noinline)) void site_##n(uint64_t v)                          \
	{                                                                                   \
		PERFBPF_OP("bench.site" #n, "BTCUSDT", "bench", v);                         \
	}
#define SITES10(d) SITE(d##0) SITE(d##1) SITE(d##2) SITE(d##3) SITE(d##4) SITE(d##5) SITE(d##6) \
	SITE(d##7) SITE(d##8) SITE(d##9)
SITES10(0) SITES10(1) SITES10(2) SITES10(3) SITES10(4) SITES10(5) SITES10(6) SITES10(7)
SITES10(8) SITES10(9)

#define REF(n) site_##n,
#define REFS10(d) REF(d##0) REF(d##1) REF(d##2) REF(d##3) REF(d##4) REF(d##5) REF(d##6) REF(d##7) \
	REF(d##8) REF(d##9)
static void (*const sites[100])(uint64_t) = { REFS10(0) REFS10(1) REFS10(2) REFS10(3) REFS10(4)
	REFS10(5) REFS10(6) REFS10(7) REFS10(8) REFS10(9) };

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 100000 }; /* 0.1 ms between rounds: an engine's pace, not a spin */
	double seconds = argc == 3 && !strcmp(argv[1], "--seconds") ? atof(argv[2]) : 60;
	long rounds = (long)(seconds * 1e4);

	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < 100; i++)
			sites[i]((uint64_t)(1000 + i));
		nanosleep(&ts, NULL);
	}
	return 0;
}
