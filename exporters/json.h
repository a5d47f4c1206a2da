/* SPDX-License-Identifier: BSD-2-Clause */
/* The JSON summary (schema "perfbpf.summary/1", documented in README.md). */
#ifndef PERFBPF_JSON_H
#define PERFBPF_JSON_H

#include <stdio.h>

#include "summary.h"

int json__write(FILE *f, const struct summary *s);

#endif
