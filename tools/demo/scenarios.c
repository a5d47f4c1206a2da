// SPDX-License-Identifier: BSD-2-Clause
/* Attribution scenarios (--scenario) for the tests of perfbpf --attribution. */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <perfbpf/probe.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

/* --- attribution scenarios (--scenario) ---------------------------------------------------------
 * Spans whose time has a known kernel-side explanation, for testing perfbpf --attribution:
 *   spin:    each span burns 2 ms of CPU            -> nearly all on CPU
 *   sleep:   each span sleeps 2 ms                  -> nearly all blocked
 *   contend: two threads pinned to CPU 0, each span
 *            burns 20 ms of CPU                     -> about half waiting in the run queue */

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void burn_cpu_ms(long ms)
{
	uint64_t end = thread_cpu_ns() + (uint64_t)ms * 1000000;

	while (thread_cpu_ns() < end)
		;
}

static void *scenario_thread(void *arg)
{
	const char *name = arg;

	if (!strcmp(cfg.scenario, "contend")) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one)) {
			fprintf(stderr, "backtest: cannot pin to CPU 0\n");
			exit(1);
		}
	}
	for (long i = 0; i < cfg.scenario_spans && !stop; i++) {
		PERFBPF_SPAN_BEGIN(name, "", cfg.scenario);
		if (!strcmp(cfg.scenario, "spin"))
			burn_cpu_ms(2);
		else if (!strcmp(cfg.scenario, "sleep"))
			usleep(2000);
		else
			burn_cpu_ms(20);
		PERFBPF_SPAN_END(name);
	}
	return NULL;
}

int run_scenario(void)
{
	pthread_t th[2];
	int n = !strcmp(cfg.scenario, "contend") ? 2 : 1;
	static char names[3][32];

	if (strcmp(cfg.scenario, "spin") && strcmp(cfg.scenario, "sleep") &&
	    strcmp(cfg.scenario, "contend")) {
		fprintf(stderr, "backtest: unknown --scenario '%s' (spin, sleep, contend)\n",
			cfg.scenario);
		return 2;
	}
	snprintf(names[0], sizeof(names[0]), "scenario.%s", cfg.scenario);
	for (int t = 0; t < n; t++)
		if (pthread_create(&th[t], NULL, scenario_thread, names[0]))
			return 1;
	for (int t = 0; t < n; t++)
		pthread_join(th[t], NULL);
	return 0;
}
