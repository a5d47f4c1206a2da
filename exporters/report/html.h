/* SPDX-License-Identifier: BSD-2-Clause */
/* The HTML report (--html, `perfbpf report SUMMARY.json --html`): one self-contained page that
 * opens offline. The data it plots is one JSON object inside the page: the JSON summary
 * (json.h), plus, from a live run, a window of captured events for the span timeline
 * (html_timeline.h). Chart.js and the page's script and style are built into perfbpf
 * (exporters/report/html/); a Content-Security-Policy forbids the page any request. */
#ifndef PERFBPF_HTML_H
#define PERFBPF_HTML_H

#include <stdio.h>

struct json_object;

/* Writes the page for `data` (a summary object, with "timeline" when captured); 0 or -EIO. */
int html__write(FILE *f, struct json_object *data);

#endif
