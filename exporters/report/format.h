/* SPDX-License-Identifier: BSD-2-Clause */
/* Formatting of durations and counts for the human-readable exporters. */
#ifndef PERFBPF_FORMAT_H
#define PERFBPF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

enum time_unit { UNIT_AUTO, UNIT_NS, UNIT_US, UNIT_MS, UNIT_S };

/* "auto", "ns", "us", "ms", "s"; -EINVAL otherwise. */
int time_unit_parse(const char *s, enum time_unit *out);
/* A duration in ns: "850 ns", "12.3 us", "1.24 ms", "3.21 s" (auto: three significant digits),
 * or a fixed unit with two decimals ("0.85 us"). Returns buf. */
char *fmt_duration(char *buf, size_t len, double ns, enum time_unit unit);
/* 1234567 -> "1,234,567". Returns buf. */
char *fmt_count(char *buf, size_t len, uint64_t n);

#endif
