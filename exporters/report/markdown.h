/* SPDX-License-Identifier: BSD-2-Clause */
/* The markdown report: summary, time distribution (bottleneck first), per-metric and per-key
 * tables with selectable columns, and a data-quality section that accounts for every loss. */
#ifndef PERFBPF_MARKDOWN_H
#define PERFBPF_MARKDOWN_H

#include <stdio.h>

#include "exporters/report/format.h"
#include "user/model/summary.h"

enum md_col {
	COL_METRIC, COL_KIND, COL_SYMBOL, COL_STRATEGY, COL_COUNT, COL_TOTAL, COL_SELF, COL_MEAN,
	COL_MIN, COL_MAX, COL_STDDEV, COL_P50, COL_P95, COL_P99, COL_WAIT_MEAN, COL_WAIT_MIN,
	COL_WAIT_MAX, COL__MAX,
};

struct md_opts {
	enum time_unit unit;
	int ncols;
	enum md_col cols[COL__MAX];
};

/* Every column, in the order above. */
void markdown__default_opts(struct md_opts *o);
/* Comma-separated column keys (see markdown__column_keys); on error returns -EINVAL and points
 * *bad at the offending key (a static copy, truncated). */
int markdown__parse_columns(const char *spec, struct md_opts *o, const char **bad);
/* "metric,kind,symbol,..." for help texts. */
const char *markdown__column_keys(void);
int markdown__write(FILE *f, const struct summary *s, const struct md_opts *o);

#endif
