/* SPDX-License-Identifier: BSD-2-Clause */
/* The raw event log (--events): one JSON object per line for every op and span, as received. */
#ifndef PERFBPF_EVENTS_H
#define PERFBPF_EVENTS_H

#include <stdio.h>

#include "bpf/perfbpf.h"

struct events_writer;

struct events_writer *events__new(FILE *f);
void events__free(struct events_writer *w);
int events__write(struct events_writer *w, const struct perfbpf_event *e);

#endif
