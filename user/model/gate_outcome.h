/* SPDX-License-Identifier: BSD-2-Clause */
/* What `perfbpf gate` found, as its reports read it: the statistics and verdicts, the two sides'
 * files and keys (user/gate/gate_file.c reads them), each comparison (user/gate/gate_stats.c
 * computes it) and the whole outcome (user/cmd/gate.c assembles it). Plain data and names. */
#ifndef PERFBPF_MODEL_GATE_OUTCOME_H
#define PERFBPF_MODEL_GATE_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/model/hist.h"

enum gate_stat { GATE_MEAN, GATE_P50, GATE_P95, GATE_P99, GATE_TOTAL, GATE__NSTAT };

/* One run's data for one key; count 0 when the key had no event in that run. */
struct gate_run {
	uint64_t count;
	double sum;   /* ns */
	double sd;    /* population standard deviation, ns */
	const struct hist_bin *bins; /* lowest first */
	size_t nbins;
};

/* How a side's runs make one value. */
enum gate_across {
	GATE_BEST,   /* the best (lowest) run's statistic: interference on a shared machine only
		      * ever adds time, so the least disturbed run is the code's own cost */
	GATE_POOLED, /* the statistic of every sample of every run together */
};

enum gate_verdict {
	GATE_NO_CHANGE,   /* within the threshold, or not distinguishable from noise */
	GATE_REGRESSION,  /* interval above 1 and change beyond +threshold */
	GATE_IMPROVEMENT, /* interval below 1 and change beyond -threshold */
	GATE_UNCLEAR,     /* change beyond the threshold, but the interval includes 1 */
	GATE_TOO_FEW,     /* not enough samples on a side for this statistic */
};

struct gate_result {
	double base, head;       /* the statistic on each side, ns */
	double change;           /* head / base - 1 */
	double ci_low, ci_high;  /* interval of head / base */
	unsigned base_runs, head_runs; /* runs the bootstrap drew from (GATE_BEST: undisturbed) */
	enum gate_verdict verdict;
};

const char *gate_stat_name(enum gate_stat s);
/* "mean", "p50", "p95", "p99", "total"; -1 when unknown. */
int gate_stat_parse(const char *name);
const char *gate_verdict_name(enum gate_verdict v);

/* One key of one file: its data in each of the file's runs (count 0 where it had no event). */
struct gate_key {
	uint32_t kind;    /* enum perfbpf_event_kind */
	bool rollup;      /* a per-metric roll-up ("metric_rollups"), else a per-key row */
	char *metric, *symbol, *strategy; /* symbol and strategy "" in a roll-up */
	struct gate_run *runs;
};

#define GATE_ENV_FIELDS 8

/* One side of the gate: a JSON summary (perfbpf.summary/2) with per-run data, or a directory
 * of them whose runs are taken together (recordings interleaved with the other side's, or made
 * at different times). */
struct gate_file {
	const char *path;  /* as given: a file or a directory */
	char **paths;      /* a directory's files, in the order read */
	size_t npaths;
	unsigned nfiles;   /* summaries read */
	const char *first; /* the first of them, whose command and environment are the side's */
	char *mixed;       /* NULL, or how a later file's command or environment differs */
	char *command;
	unsigned nruns;    /* of all its files */
	uint64_t dropped; /* events lost in all runs */
	/* what must match for a fair comparison: name and value, as strings */
	const char *env_name[GATE_ENV_FIELDS];
	char *env_value[GATE_ENV_FIELDS];
	size_t nenv;
	struct gate_key *keys; /* sorted by (rollup, kind, metric, symbol, strategy) */
	size_t nkeys;
};

enum gate_presence { GATE_BOTH, GATE_BASE_ONLY, GATE_HEAD_ONLY };

struct gate_comparison {
	const struct gate_key *key; /* the base's, or the head's when only in HEAD */
	const struct gate_key *head_key; /* GATE_BOTH: the head's */
	enum gate_stat stat;
	enum gate_presence presence;
	struct gate_result r;       /* GATE_BOTH only */
};

struct gate_outcome {
	const struct gate_file *base, *head;
	unsigned stats;             /* bit per enum gate_stat compared */
	double threshold;           /* --max-regression, as a fraction */
	enum gate_across across;
	double alpha;               /* family-wise (--alpha) */
	double alpha_each;          /* per comparison: alpha / compared (Bonferroni) */
	unsigned resamples;
	uint64_t seed;
	size_t compared;            /* comparisons with data on both sides */
	/* per statistic: the median head/base of the compared metrics (NAN: too few, or that
	 * statistic not compared) */
	double common_ratio[GATE__NSTAT];
	/* per run of each side: how much slower the whole run was (gate_run_slowness; NAN: not
	 * known); GATE_BEST leaves out the runs above 1 + GATE_DISTURBED */
	double *base_slowness, *head_slowness;
	struct gate_comparison *cmp; /* worst regressions first (see gate.c) */
	size_t ncmp;
	size_t counts[GATE_TOO_FEW + 1];
	size_t base_only, head_only;
	char **warnings;
	size_t nwarnings;
};

#endif
