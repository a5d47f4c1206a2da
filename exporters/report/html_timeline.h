/* SPDX-License-Identifier: BSD-2-Clause */
/* The span timeline of the HTML report: the first events of a run to end (at most a fixed
 * number; the rest are counted), each with its thread, depth, name and times, as the page's
 * "timeline" object:
 *   {"start_ns": T0, "captured": N, "seen": M, "lanes": [[pid, tid], ...],
 *    "names": ["metric", ...], "events": [[lane, depth, kind, start - T0, duration, name], ...]}
 * kind 0: op, 1: span. */
#ifndef PERFBPF_HTML_TIMELINE_H
#define PERFBPF_HTML_TIMELINE_H

#include <stddef.h>

#include "bpf/perfbpf.h"

#define HTML_TIMELINE_EVENTS 200000 /* events a report's timeline holds */

struct html_timeline;
struct json_object;

struct html_timeline *html_timeline__new(size_t max_events);
/* One op or span; 0 or -ENOMEM. Beyond max_events it is only counted. */
int html_timeline__add(struct html_timeline *t, const struct perfbpf_event *e);
/* The "timeline" object (a new reference), or NULL without memory. */
struct json_object *html_timeline__json(const struct html_timeline *t);
void html_timeline__free(struct html_timeline *t);

#endif
