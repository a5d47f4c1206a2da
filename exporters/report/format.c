// SPDX-License-Identifier: BSD-2-Clause
/* Formatting of durations and counts for the human-readable exporters. */
#include "exporters/report/format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int time_unit_parse(const char *s, enum time_unit *out)
{
	static const struct {
		const char *name;
		enum time_unit unit;
	} units[] = {
		{ "auto", UNIT_AUTO }, { "ns", UNIT_NS }, { "us", UNIT_US },
		{ "ms", UNIT_MS },     { "s", UNIT_S },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].name) == 0) {
			*out = units[i].unit;
			return 0;
		}
	}
	return -EINVAL;
}

char *fmt_duration(char *buf, size_t len, double ns, enum time_unit unit)
{
	static const char *const names[] = { "", "ns", "us", "ms", "s" };
	static const double scale[] = { 1, 1, 1e3, 1e6, 1e9 };
	double v;

	if (unit == UNIT_AUTO) {
		/* three significant digits; the thresholds are those of the rounded value, so that
		 * 999,700 ns is "1.00 ms", not "1000 us", and 9,997 ns "10.0 us", not "10.00 us" */
		unit = ns < 999.5 ? UNIT_NS : ns < 999.5e3 ? UNIT_US : ns < 999.5e6 ? UNIT_MS : UNIT_S;
		v = ns / scale[unit];
		if (unit == UNIT_NS)
			snprintf(buf, len, "%.0f ns", v);
		else
			snprintf(buf, len, "%.*f %s", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v,
				 names[unit]);
		return buf;
	}
	snprintf(buf, len, "%.2f %s", ns / scale[unit], names[unit]);
	return buf;
}

char *fmt_count(char *buf, size_t len, uint64_t n)
{
	char digits[32];
	int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}
