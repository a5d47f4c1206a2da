// SPDX-License-Identifier: BSD-2-Clause
/* Per-run records of a trace (see runs.h). */
#include "user/aggregate/run_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void rows_free(struct stat_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free((char *)rows[i].metric);
		free((char *)rows[i].symbol);
		free((char *)rows[i].strategy);
		free((struct hist_bin *)rows[i].bins);
	}
	free(rows);
}

static struct stat_row *rows_copy(const struct stat_row *src, size_t n)
{
	struct stat_row *rows = calloc(n ? n : 1, sizeof(*rows));
	bool oom = !rows;

	for (size_t i = 0; !oom && i < n; i++) {
		struct hist_bin *bins = NULL;

		rows[i] = src[i];
		rows[i].metric = rows[i].symbol = rows[i].strategy = NULL;
		rows[i].bins = NULL;
		rows[i].metric = dup_or_null(src[i].metric, &oom);
		rows[i].symbol = dup_or_null(src[i].symbol, &oom);
		rows[i].strategy = dup_or_null(src[i].strategy, &oom);
		if (src[i].nbins) {
			bins = malloc(src[i].nbins * sizeof(*bins));
			if (bins)
				memcpy(bins, src[i].bins, src[i].nbins * sizeof(*bins));
			else
				oom = true;
		}
		rows[i].bins = bins;
		rows[i].nbins = bins ? src[i].nbins : 0;
	}
	if (oom) {
		rows_free(rows, n);
		return NULL;
	}
	return rows;
}

int run_summary__capture(struct run_summary *r, const struct summary *s)
{
	r->rows = rows_copy(s->rows, s->nrows);
	r->nrows = r->rows ? s->nrows : 0;
	r->metrics = r->rows ? rows_copy(s->metrics, s->nmetrics) : NULL;
	r->nmetrics = r->metrics ? s->nmetrics : 0;
	if (!r->rows || !r->metrics) {
		run_summary__free(r);
		return -ENOMEM;
	}
	r->events = s->events;
	r->dropped = s->dropped;
	return 0;
}

void run_summary__free(struct run_summary *r)
{
	rows_free(r->rows, r->nrows);
	rows_free(r->metrics, r->nmetrics);
	r->rows = r->metrics = NULL;
	r->nrows = r->nmetrics = 0;
}
