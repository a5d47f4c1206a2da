/* SPDX-License-Identifier: BSD-2-Clause */
/* `perfbpf gate BASE HEAD`: per key and statistic, is HEAD slower than BASE beyond noise?
 * The files' data as the gate reads it, and the outcome the reports are written from. */
#ifndef PERFBPF_GATE_H
#define PERFBPF_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gate_stats.h"

struct cli_opts;

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

/* Reads and checks `path`, a summary or a directory of them (every *.json in it). 0, or -1 after
 * writing one line naming the file and the problem into err (without a trailing newline). */
int gate_file__load(const char *path, struct gate_file *f, char *err, size_t errlen);
/* The same from a buffer holding the file's text; name is used in messages (what the fuzzer
 * drives). */
int gate_file__parse(const char *name, const char *text, size_t len, struct gate_file *f,
		     char *err, size_t errlen);
void gate_file__free(struct gate_file *f);
/* -1, 0, 1: the order of keys in gate_file.keys. */
int gate_key__cmp(const struct gate_key *a, const struct gate_key *b);

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

/* The whole command: exit status 0 (no regression), 1 (a regression) or 2 (bad input). */
int gate__run(const struct cli_opts *o);

#endif
