// SPDX-License-Identifier: BSD-2-Clause
/* The ground truth: every op the engine reported while traced, written for the tests to
 * compare perfbpf's statistics with. */
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

void truth_add(struct truth_log *log, const char *m, const char *sym, const char *strat,
		      uint64_t d)
{
	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 4096;
		log->v = realloc(log->v, log->cap * sizeof(*log->v));
		if (!log->v) {
			perror("backtest: ground truth");
			exit(1);
		}
	}
	log->v[log->n++] = (struct truth){ m, sym, strat, d };
}


int write_truth(struct worker *ws, int n)
{
	FILE *f = fopen(cfg.ground_truth, "w");

	if (!f) {
		fprintf(stderr, "backtest: cannot write %s: %s\n", cfg.ground_truth, strerror(errno));
		return 1;
	}
	long spans = 0;

	for (int t = 0; t < n; t++) {
		for (size_t i = 0; i < ws[t].truth.n; i++) {
			const struct truth *r = &ws[t].truth.v[i];

			fprintf(f, "%s\t%s\t%s\t%llu\n", r->metric, r->symbol, r->strategy,
				(unsigned long long)r->duration_ns);
		}
		spans += ws[t].spans;
	}
	/* the spans the engine opened and closed (they are kernel-timed: no durations here) */
	fprintf(f, "# spans\t%ld\n", spans);
	return fclose(f) ? 1 : 0;
}
