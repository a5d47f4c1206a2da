/* SPDX-License-Identifier: BSD-2-Clause */
/* The raw event log (--events): one JSON object per line for every op and span, as received. */
#ifndef PERFBPF_EVENTS_H
#define PERFBPF_EVENTS_H

#include <stdio.h>

#include "perfbpf.h"

int events__write(FILE *f, const struct perfbpf_event *e);

#endif
