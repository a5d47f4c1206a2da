// SPDX-License-Identifier: BSD-2-Clause
/* A trading-engine hot path for the overhead benchmark (tools/bench/tick-cost.sh): TICKS ticks,
 * each one span "tick" around three ops ("parse", "signal", "risk"), each op WORK/3 iterations
 * of arithmetic (about 2 us per tick in all with the default calibration).
 *
 *   tick_engine --calibrate NS        prints the iterations that take about NS ns
 *   tick_engine --ticks N --iters K [--wait-attach SEC]
 *       prints "wall_ns W tick_p50_ns P": the loop's wall time and the median tick, both as the
 *       engine measures them itself (the clock read around each tick). */
#include <perfbpf/probe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t now(void)
{
	return perfbpf_now_ns();
}

static volatile uint64_t sink;

/* k iterations of a dependent multiply-add chain: work the compiler cannot drop */
static uint64_t work(uint64_t k, uint64_t x)
{
	for (uint64_t i = 0; i < k; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t ticks = 200000, iters = 0, calibrate = 0, *dur;
	double wait_s = 0;
	static const char *const syms[4] = { "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT" };

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ticks"))
			ticks = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--iters"))
			iters = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--calibrate"))
			calibrate = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--wait-attach"))
			wait_s = atof(argv[i + 1]);
		else
			return 2;
	}
	if (calibrate) {
		uint64_t k = 1000000, t0 = now();

		sink = work(k, t0);
		printf("%llu\n", (unsigned long long)(k * calibrate / (now() - t0)));
		return 0;
	}
	if (!iters || !ticks || !(dur = malloc(ticks * sizeof(*dur))))
		return 2;
	for (uint64_t t0 = now(); wait_s > 0 && !(PERFBPF_OP_ENABLED() && PERFBPF_SPAN_ENABLED());) {
		if (now() - t0 > (uint64_t)(wait_s * 1e9))
			return 3;
		usleep(1000);
	}
	if (wait_s > 0)
		usleep(50000);
	uint64_t start = now(), x = start;

	for (uint64_t t = 0; t < ticks; t++) {
		const char *sym = syms[t & 3];
		uint64_t t0 = now(), a, b;

		PERFBPF_SPAN_BEGIN("tick", sym, "bench");
		a = now();
		x = work(iters / 3, x);
		b = now();
		PERFBPF_OP("parse", sym, "bench", b - a);
		x = work(iters / 3, x);
		a = now();
		PERFBPF_OP("signal", sym, "bench", a - b);
		x = work(iters / 3, x);
		b = now();
		PERFBPF_OP("risk", sym, "bench", b - a);
		PERFBPF_SPAN_END("tick");
		dur[t] = now() - t0;
	}
	uint64_t wall = now() - start;

	sink = x;
	qsort(dur, ticks, sizeof(*dur), cmp_u64);
	printf("wall_ns %llu tick_p50_ns %llu\n", (unsigned long long)wall,
	       (unsigned long long)dur[(ticks + 1) / 2 - 1]);
	free(dur);
	return 0;
}
