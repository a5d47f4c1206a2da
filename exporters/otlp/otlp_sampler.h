/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace-id-ratio sampling decision. */
#ifndef PERFBPF_OTLP_SAMPLER_H
#define PERFBPF_OTLP_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

/* Whether a trace-id-ratio sampler keeps this trace: the id's last 8 bytes, big-endian, shifted
 * right by one, below ratio * 2^63 (the comparison OpenTelemetry's SDKs make), so that every
 * perfbpf and every SDK with the same ratio keep the same traces. */
bool otlp_ratio_keeps(const uint8_t trace_id[16], double ratio);

#endif
