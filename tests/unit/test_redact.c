// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: --redact's keyed hash (user/lib/redact.c): the listed keys and no others, the
 * form "redacted:" + 16 hex digits, equal values equal within a session and unequal across
 * sessions (a random key each), different values different; malformed lists refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "user/lib/redact.h"

static void test_redact(void **state)
{
	char a[REDACTED_LEN], b[REDACTED_LEN], c[REDACTED_LEN], d[REDACTED_LEN];
	struct redact *r1, *r2;
	int err;

	(void)state;
	r1 = redact__new("client_order_id,account", &err);
	r2 = redact__new("client_order_id", &err);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_true(redact__wants(r1, "client_order_id"));
	assert_true(redact__wants(r1, "account"));
	assert_false(redact__wants(r1, "acc"));
	assert_false(redact__wants(r2, "account"));
	redact__value(r1, "sma-1", 5, a);
	redact__value(r1, "sma-1", 5, b);
	redact__value(r1, "sma-2", 5, c);
	redact__value(r2, "sma-1", 5, d);
	assert_int_equal(strlen(a), REDACTED_LEN - 1);
	assert_int_equal(strncmp(a, "redacted:", 9), 0);
	assert_int_equal(strspn(a + 9, "0123456789abcdef"), 16);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	redact__free(r1);
	redact__free(r2);
	for (const char *bad[] = { "", ",", "a,", ",a", "a,,b", NULL }, **p = bad; *p; p++) {
		assert_null(redact__new(*p, &err));
		assert_int_equal(err, -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
