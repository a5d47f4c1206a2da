/* SPDX-License-Identifier: BSD-2-Clause */
/* The OTLP Resource of what perfbpf exports: the traced process (spans, and the metrics of
 * `run`/`attach`), or the processes a monitor follows, with OTEL_RESOURCE_ATTRIBUTES and
 * --service-name. */
#ifndef PERFBPF_OTLP_RESOURCE_H
#define PERFBPF_OTLP_RESOURCE_H

#include <stdint.h>

#include "exporters/otlp/otlp_config.h"
#include "exporters/otlp/otlp_span.h"

/* Fills r for process pid (read from /proc; `command` names it when /proc no longer does), or
 * for pid 0: several processes of `command`, without process.* attributes. 0 or -ENOMEM. */
int otlp_resource__init(struct otlp_resource *r, const struct otlp_config *c, uint32_t pid,
			const char *command);
void otlp_resource__fini(struct otlp_resource *r);

#endif
