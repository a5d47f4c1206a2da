// SPDX-License-Identifier: BSD-2-Clause
/* The HTML report page (see html.h). */
#include "exporters/report/html.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

/* exporters/report/html/assets.S */
extern const char html_asset_chartjs[], html_asset_report_js[], html_asset_report_css[];

/* JSON text inside a <script> element: every '<' written as \u003c (it only occurs inside JSON
 * strings, where the escape means the same), so no "</script>" or "<!--" in an engine's metric
 * names can end the element or change how the page is parsed. */
static int put_json(FILE *f, const char *s)
{
	if (!s)
		return -ENOMEM;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "<");

		if (fwrite(p, 1, n, f) != n)
			return -EIO;
		p += n;
		if (*p == '<') {
			fputs("\\u003c", f);
			p++;
		}
	}
	return 0;
}

int html__write(FILE *f, struct json_object *data)
{
	const char *title = json_object_get_string(
		json_object_object_get(data, "command"));
	struct json_object *t = json_object_new_string(title ? title : "");
	int err;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>perfbpf report</title>\n<style>\n", f);
	fputs(html_asset_report_css, f);
	fputs("</style></head>\n<body>\n<div id=\"app\"><noscript>This report needs JavaScript "
	      "(it makes no request: everything is in this file).</noscript></div>\n"
	      "<script type=\"application/json\" id=\"perfbpf-data\">", f);
	err = put_json(f, json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	fputs("</script>\n<script>\n", f);
	fputs(html_asset_chartjs, f);
	fputs("\n</script>\n<script>\n", f);
	/* the command line, for the page title (JSON-escaped, '<' as above) */
	fputs("window.PERFBPF_TITLE = ", f);
	err = put_json(f, json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN)) ?: err;
	fputs(";\n", f);
	json_object_put(t);
	fputs(html_asset_report_js, f);
	fputs("\n</script>\n</body></html>\n", f);
	return err ?: ferror(f) ? -EIO : 0;
}
