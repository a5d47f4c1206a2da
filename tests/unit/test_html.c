// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the HTML report page (exporters/report/html.h): names an engine chose cannot
 * end the page's data element or open a comment in it ("</script>", "<!--" written as \u003c),
 * the data reads back whole, and the page carries its policy against any request and its
 * built-in assets (Chart.js with its licence, the page's script). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/report/html.h"

static size_t occurrences(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_hostile_names(void **state)
{
	const char *evil = "</script><script>alert(1)</script><!--";
	struct json_object *data = json_object_new_object(), *back;
	char *page = NULL, *a, *b;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	(void)state;
	json_object_object_add(data, "schema", json_object_new_string("perfbpf.summary/2"));
	json_object_object_add(data, "command", json_object_new_string(evil));
	json_object_object_add(data, "metric", json_object_new_string(evil));
	assert_int_equal(html__write(f, data), 0);
	fclose(f);
	/* the page's own three scripts close, and nothing else does */
	assert_int_equal(occurrences(page, "</script>"), 3);
	assert_null(strstr(page, "<!--"));
	assert_null(strstr(page, "alert(1)</script>"));
	assert_non_null(strstr(page, "Content-Security-Policy"));
	assert_non_null(strstr(page, "default-src 'none'"));
	assert_non_null(strstr(page, "Chart.js v3"));
	assert_non_null(strstr(page, "Released under the MIT License"));
	assert_non_null(strstr(page, "perfbpf-selfcheck"));
	/* the data element reads back as the same JSON */
	a = strstr(page, "<script type=\"application/json\" id=\"perfbpf-data\">");
	assert_non_null(a);
	a = strchr(a, '>') + 1;
	b = strstr(a, "</script>");
	*b = '\0';
	back = json_tokener_parse(a);
	assert_non_null(back);
	assert_string_equal(json_object_get_string(json_object_object_get(back, "metric")), evil);
	json_object_put(back);
	json_object_put(data);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
