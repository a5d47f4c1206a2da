// SPDX-License-Identifier: BSD-2-Clause
/* The names of the gate's statistics and verdicts (see gate_outcome.h). */
#include "user/model/gate_outcome.h"

#include <string.h>

static const char *const stat_names[GATE__NSTAT] = {
	[GATE_MEAN] = "mean", [GATE_P50] = "p50", [GATE_P95] = "p95", [GATE_P99] = "p99",
	[GATE_TOTAL] = "total",
};

const char *gate_stat_name(enum gate_stat s)
{
	return s < GATE__NSTAT ? stat_names[s] : "?";
}

int gate_stat_parse(const char *name)
{
	for (int i = 0; i < GATE__NSTAT; i++)
		if (!strcmp(name, stat_names[i]))
			return i;
	return -1;
}

const char *gate_verdict_name(enum gate_verdict v)
{
	switch (v) {
	case GATE_NO_CHANGE: return "no change";
	case GATE_REGRESSION: return "regression";
	case GATE_IMPROVEMENT: return "improvement";
	case GATE_UNCLEAR: return "unclear";
	case GATE_TOO_FEW: return "too few samples";
	}
	return "?";
}

