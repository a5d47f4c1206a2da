// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the Prometheus text exposition of the monitor's series
 * (exporters/prometheus/prometheus.c), parsed back and line for line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prometheus/prometheus.h"
#include "kseries_fixture.h"

/* The exposition of one series, parsed back: buckets cumulative, le increasing, +Inf equal to
 * the count, the lower edge of each isolated bucket present, labels escaped. */
static void test_prometheus_histogram(void **state)
{
	struct kseries *s = calloc(1, sizeof(*s));
	struct kseries *const v[] = { s };
	struct prom_input in = { .series = v, .nseries = 1 };
	char *buf = NULL, *line, *save;
	size_t len = 0, nb = 0;
	double last_le = -1, last_cum = -1;
	uint64_t inf = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fill(s, (uint64_t[]){ 1000, 1001, 5000, 5000, 70000000 }, 5);
	s->kind = PERFBPF_EV_SPAN;
	strcpy(s->metric, "a\"b\\c");
	in.counters[PERFBPF_CNT_KEYS_OVER_LIMIT] = 3;
	assert_int_equal(prometheus__write(f, &in), 0);
	fclose(f);
	assert_non_null(strstr(buf, "metric=\"a\\\"b\\\\c\""));
	assert_non_null(strstr(buf, "perfbpf_unknown_key_events_total 3\n"));
	assert_non_null(strstr(buf, "perfbpf_events_total 5\n"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *le;
		double cum;

		if (strncmp(line, "perfbpf_operation_duration_seconds_bucket{", 42))
			continue;
		le = strstr(line, "le=\"");
		assert_non_null(le);
		cum = atof(strrchr(line, ' ') + 1);
		assert_true(cum >= last_cum);
		last_cum = cum;
		if (!strncmp(le, "le=\"+Inf\"", 9)) {
			inf = (uint64_t)cum;
			continue;
		}
		assert_true(atof(le + 4) > last_le);
		last_le = atof(le + 4);
		nb++;
	}
	assert_int_equal(inf, 5);
	/* three non-empty, isolated buckets: a lower and an upper edge each */
	assert_int_equal(nb, 6);
	free(buf);
	free(s);
}

/* Two series of one metric get the same bounds (so that sum by (le) across them is exact). */
static void test_prometheus_shared_bounds(void **state)
{
	struct kseries *s = calloc(2, sizeof(*s));
	struct kseries *const v[] = { &s[0], &s[1] };
	struct prom_input in = { .series = v, .nseries = 2 };
	char *buf = NULL, *line, *save, les[2][4096] = { "", "" };
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fill(&s[0], (uint64_t[]){ 1000 }, 1);
	fill(&s[1], (uint64_t[]){ 5000 }, 1);
	for (int i = 0; i < 2; i++) {
		s[i].kind = PERFBPF_EV_OP;
		strcpy(s[i].metric, "tick");
		strcpy(s[i].symbol, i ? "Y" : "X");
	}
	assert_int_equal(prometheus__write(f, &in), 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *le = strstr(line, "le=\"");

		if (strncmp(line, "perfbpf_operation_duration_seconds_bucket{", 42) || !le)
			continue;
		strncat(les[strstr(line, "symbol=\"Y\"") != NULL], le,
			(size_t)(strchr(le + 4, '"') - le + 1));
	}
	assert_true(strlen(les[0]) > 0);
	assert_string_equal(les[0], les[1]);
	free(buf);
	free(s);
}

/* The exposition of one series, line for line: the bounds are the layout's upper edges in
 * seconds (1000 ns lies in [1000, 1007], 5000 in [4992, 5055], 200 in [200, 201]), each with the
 * edge below it; the counts cumulative; _sum in seconds; the wait family from the gaps. */
static void test_prometheus_exact_lines(void **state)
{
	static const char want[] =
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"9.99e-07\"} 0\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"1.007e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"4.991e-06\"} 1\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"5.055e-06\"} 3\n"
		"perfbpf_operation_duration_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"+Inf\"} 3\n"
		"perfbpf_operation_duration_seconds_sum{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 1.1e-05\n"
		"perfbpf_operation_duration_seconds_count{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 3\n"
		"# HELP perfbpf_operation_wait_seconds Time between the ends of consecutive events of "
		"the same key.\n"
		"# TYPE perfbpf_operation_wait_seconds histogram\n"
		"perfbpf_operation_wait_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"1.99e-07\"} 0\n"
		"perfbpf_operation_wait_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"2.01e-07\"} 2\n"
		"perfbpf_operation_wait_seconds_bucket{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\",le=\"+Inf\"} 2\n"
		"perfbpf_operation_wait_seconds_sum{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 4e-07\n"
		"perfbpf_operation_wait_seconds_count{kind=\"op\",metric=\"tick\",symbol=\"X\","
		"strategy=\"s\"} 2\n";
	struct kseries *k = calloc(1, sizeof(*k));
	struct kseries *const v[] = { k };
	struct prom_input in = { .series = v, .nseries = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(k);
	assert_non_null(f);
	fill(k, (uint64_t[]){ 1000, 5000, 5000 }, 3);
	k->kind = PERFBPF_EV_OP;
	strcpy(k->metric, "tick");
	strcpy(k->symbol, "X");
	strcpy(k->strategy, "s");
	k->wait_count = 2;
	k->wait_sum_ns = 400;
	k->wait_min_ns = k->wait_max_ns = 200;
	k->wait[khist_bucket(200)] = 2;
	assert_int_equal(prometheus__write(f, &in), 0);
	fclose(f);
	assert_non_null(strstr(buf, want));
	free(buf);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_histogram),
		cmocka_unit_test(test_prometheus_shared_bounds),
		cmocka_unit_test(test_prometheus_exact_lines),
	};

	return cmocka_run_group_tests_name("unit: Prometheus exposition", tests, NULL, NULL);
}
