/* SPDX-License-Identifier: BSD-2-Clause */
/* The reports of `perfbpf gate`: a markdown table for a pull-request comment and a JSON result
 * (schema "perfbpf.gate/1", docs/GATE.md). */
#ifndef PERFBPF_GATE_REPORT_H
#define PERFBPF_GATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "user/model/gate_outcome.h"

#define PERFBPF_GATE_SCHEMA "perfbpf.gate/1"

int gate_report__markdown(FILE *f, const struct gate_outcome *g);
int gate_report__json(FILE *f, const struct gate_outcome *g);
struct json_object;
/* The JSON result as an object (a new reference); with histograms, each regressed or unclear
 * comparison also carries both sides' merged histograms (the HTML report's overlays). */
struct json_object *gate_report__object(const struct gate_outcome *g, bool histograms);

#endif
