/* SPDX-License-Identifier: BSD-2-Clause */
/* The JSON summary (schema PERFBPF_SUMMARY_SCHEMA; its fields are described in README.md,
 * "Outputs"). */
#ifndef PERFBPF_JSON_H
#define PERFBPF_JSON_H

#include <stdio.h>

#include "user/model/summary.h"

struct json_object;

int json__write(FILE *f, const struct summary *s);
/* The summary as a JSON object (a new reference): what json__write writes, and the data of the
 * HTML report. */
struct json_object *json__summary(const struct summary *s);
/* Writes `root` pretty-printed with a newline, then releases it; 0 or -EIO. */
int json__put(FILE *f, struct json_object *root);

#endif
