// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf report SUMMARY.json --html FILE` (see report.h). */
#include "user/cmd/report.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "exporters/report/html.h"
#include "user/lib/output.h"
#include "user/lib/util.h"

#define SCHEMA_PREFIX "perfbpf.summary/"

static int put_html(FILE *f, const void *ctx)
{
	return html__write(f, (struct json_object *)ctx);
}

int report__run(const struct cli_opts *o)
{
	struct json_object *root = json_object_from_file(o->report_summary), *schema = NULL;
	const char *s;
	int err;

	if (!root) {
		const char *why = json_util_get_last_err();

		/* json-c's message ends with a newline: one line */
		pb_err("%s: not a readable JSON file (%.*s)", o->report_summary,
		       why ? (int)strcspn(why, "\n") : 10, why ? why : "unreadable");
		return EXIT_FAIL;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "schema", &schema) ||
	    !(s = json_object_get_string(schema)) || strncmp(s, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX))) {
		pb_err("%s: not a perfbpf JSON summary (no \"schema\": \"" SCHEMA_PREFIX "N\")",
		       o->report_summary);
		json_object_put(root);
		return EXIT_FAIL;
	}
	err = output__is_stdout(o->html_path) ? html__write(stdout, root)
					      : output__write_atomic(o->html_path, put_html, root);
	json_object_put(root);
	if (err) {
		pb_err("%s: cannot write the report: %s", o->html_path, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
