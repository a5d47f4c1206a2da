// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: checked parsing of numbers, durations and sizes; display formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "exporters/report/format.h"
#include "user/lib/util.h"

static void test_parse_u64(void **state)
{
	uint64_t v = 77;

	(void)state;
	assert_int_equal(parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("1x", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(parse_listen("9464", &ss, &len), 0); /* a bare port binds loopback */
	assert_int_equal(in4->sin_family, AF_INET);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(in4->sin_port), 9464);
	assert_int_equal(len, sizeof(*in4));
	assert_int_equal(parse_listen("0.0.0.0:80", &ss, &len), 0);
	assert_int_equal(in4->sin_addr.s_addr, 0);
	assert_int_equal(parse_listen("localhost:1", &ss, &len), 0);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(parse_listen("[::1]:9464", &ss, &len), 0);
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(len, sizeof(*in6));
	assert_int_equal(parse_listen("127.0.0.1:0", &ss, &len), -EINVAL);
	assert_int_equal(parse_listen("127.0.0.1:65536", &ss, &len), -EINVAL);
	assert_int_equal(parse_listen("example.com:80", &ss, &len), -EINVAL);
	assert_int_equal(parse_listen(":80", &ss, &len), -EINVAL);
	assert_int_equal(parse_listen("", &ss, &len), -EINVAL);
	assert_int_equal(parse_listen("1.2.3.4:x", &ss, &len), -EINVAL);
}

static void test_parse_pid(void **state)
{
	int pid = 0;

	(void)state;
	assert_int_equal(parse_pid("4242", &pid), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(parse_pid("0", &pid), -ERANGE);
	assert_int_equal(parse_pid("4194305", &pid), -ERANGE);
	assert_int_equal(parse_pid("12ab", &pid), -EINVAL);
}

static void test_parse_duration(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration_ns("30", &v), 0);
	assert_int_equal(v, 30000000000ull);
	assert_int_equal(parse_duration_ns("250ms", &v), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(parse_duration_ns("1.5s", &v), 0);
	assert_int_equal(v, 1500000000ull);
	assert_int_equal(parse_duration_ns("2us", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(parse_duration_ns("100ns", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_duration_ns("2m", &v), 0);
	assert_int_equal(v, 120000000000ull);
	assert_int_equal(parse_duration_ns("1h", &v), 0);
	assert_int_equal(v, 3600000000000ull);
	assert_int_equal(parse_duration_ns("5 s", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("5sec", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("-5s", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("s", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("nan", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("1e300", &v), -ERANGE);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("16M", &v), 0);
	assert_int_equal(v, 16ull << 20);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 64ull << 10);
	assert_int_equal(parse_size("16MB", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
}

static void test_format(void **state)
{
	char b[48];
	enum time_unit u;

	(void)state;
	assert_string_equal(fmt_duration(b, sizeof(b), 850, UNIT_AUTO), "850 ns");
	assert_string_equal(fmt_duration(b, sizeof(b), 12345, UNIT_AUTO), "12.3 us");
	assert_string_equal(fmt_duration(b, sizeof(b), 1240000, UNIT_AUTO), "1.24 ms");
	assert_string_equal(fmt_duration(b, sizeof(b), 321000000, UNIT_AUTO), "321 ms");
	assert_string_equal(fmt_duration(b, sizeof(b), 3210000000.0, UNIT_AUTO), "3.21 s");
	assert_string_equal(fmt_duration(b, sizeof(b), 850, UNIT_US), "0.85 us");
	/* where rounding reaches the next unit or the next digit count: still three digits */
	assert_string_equal(fmt_duration(b, sizeof(b), 999.4, UNIT_AUTO), "999 ns");
	assert_string_equal(fmt_duration(b, sizeof(b), 999.6, UNIT_AUTO), "1.00 us");
	assert_string_equal(fmt_duration(b, sizeof(b), 9997, UNIT_AUTO), "10.0 us");
	assert_string_equal(fmt_duration(b, sizeof(b), 99970, UNIT_AUTO), "100 us");
	assert_string_equal(fmt_duration(b, sizeof(b), 999700, UNIT_AUTO), "1.00 ms");
	assert_string_equal(fmt_duration(b, sizeof(b), 999.7e6, UNIT_AUTO), "1.00 s");
	assert_string_equal(fmt_count(b, sizeof(b), 0), "0");
	assert_string_equal(fmt_count(b, sizeof(b), 999), "999");
	assert_string_equal(fmt_count(b, sizeof(b), 1000), "1,000");
	assert_string_equal(fmt_count(b, sizeof(b), 1234567), "1,234,567");
	assert_int_equal(time_unit_parse("ms", &u), 0);
	assert_int_equal(u, UNIT_MS);
	assert_int_equal(time_unit_parse("msec", &u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_pid),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("unit: parsing and formatting", tests, NULL, NULL);
}
