/* SPDX-License-Identifier: BSD-2-Clause */
/* What became of the spans (or, for metrics, the data points) of an OTLP export: every one is
 * delivered, sampled out, or counted under one reason for not being delivered. */
#ifndef PERFBPF_OTLP_STATS_H
#define PERFBPF_OTLP_STATS_H

#include <stdint.h>

struct otlp_stats {
	const char *url;
	uint64_t spans;            /* spans (and --otlp-ops op spans) seen; metrics: data points */
	uint64_t sampled_out;      /* left out by the sampler: not a loss */
	uint64_t superseded;       /* metrics: points of a snapshot replaced, before it was sent, by
				    * a later one that holds them: not a loss */
	uint64_t exported;         /* accepted by the collector */
	/* not delivered, by reason */
	uint64_t queue_full;       /* the export queue was full */
	uint64_t rejected;         /* the collector refused the request (a status not retried) */
	uint64_t partial_rejected; /* refused in a partial-success response */
	uint64_t gave_up;          /* retryable failures until the retries ran out */
	uint64_t unsent_at_exit;   /* still queued when the flush timeout passed */
	uint64_t tail_buffer_full; /* unsampled spans not kept for --slow-threshold: buffer full */
	/* annotations */
	uint64_t notes_orphaned;   /* attributes, events, errors whose span never reached perfbpf */
	uint64_t notes_over_limit; /* beyond 128 attributes or events per span */
	uint64_t requests, retries;
	char last_error[160];      /* the latest failed request, or "" */
};

static inline uint64_t otlp_stats__undelivered(const struct otlp_stats *s)
{
	return s->queue_full + s->rejected + s->partial_rejected + s->gave_up + s->unsent_at_exit;
}

#endif
