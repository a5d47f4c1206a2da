// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: gzip bodies (user/lib/gzip.c) inflate back to what was compressed, with zlib's own
 * gzip reader; Accept-Encoding negotiation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "user/lib/gzip.h"

static void test_gzip_round_trip(void **state)
{
	size_t n = 3 << 20, cap = 0;
	char *in = malloc(n), *back = malloc(n + 1);
	uint8_t *out = NULL;
	z_stream z = { 0 };
	ssize_t len;

	(void)state;
	assert_non_null(in);
	assert_non_null(back);
	for (size_t i = 0, k = 0; i < n; k++) /* scrape-like text */
		i += (size_t)snprintf(in + i, n - i, "perfbpf_x_bucket{symbol=\"K%05zu\",le=\"%zu\"} %zu\n",
				      k % 10000, k % 24, k * 7919 % 1000);
	for (int level = 1; level <= 9; level += 8) {
		len = gzip__compress(in, n, level, &out, &cap);
		assert_true(len > 18 && (size_t)len < n / 4);
		assert_int_equal(out[0], 0x1f); /* the gzip magic */
		assert_int_equal(out[1], 0x8b);
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = out;
		z.avail_in = (uInt)len;
		z.next_out = (Bytef *)back;
		z.avail_out = (uInt)(n + 1);
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, n);
		inflateEnd(&z);
		memset(&z, 0, sizeof(z));
		assert_memory_equal(in, back, n);
	}
	len = gzip__compress("", 0, 1, &out, &cap); /* an empty body is a valid gzip stream too */
	assert_true(len > 0);
	free(out);
	free(in);
	free(back);
}

static void test_gzip_accepted(void **state)
{
	(void)state;
	assert_false(gzip__accepted(NULL));
	assert_false(gzip__accepted(""));
	assert_false(gzip__accepted("identity"));
	assert_false(gzip__accepted("deflate, br"));
	assert_false(gzip__accepted("gzip;q=0"));
	assert_false(gzip__accepted("xgzip"));
	assert_true(gzip__accepted("gzip"));
	assert_true(gzip__accepted("GZIP"));
	assert_true(gzip__accepted("deflate, gzip;q=0.5"));
	assert_true(gzip__accepted("br , gzip , deflate"));
	assert_true(gzip__accepted("*"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_round_trip),
		cmocka_unit_test(test_gzip_accepted),
	};

	return cmocka_run_group_tests_name("unit: gzip bodies", tests, NULL, NULL);
}
