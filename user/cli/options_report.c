// SPDX-License-Identifier: BSD-2-Clause
/* The options of `perfbpf report`. */
#include "user/cli/args.h"

#include <stdio.h>

static const struct argp_option report_options[] = {
	{ "html", OPT_HTML, "FILE", 0,
	  "Write the HTML report of the summary to FILE (required; '-' for stdout)", 0 },
	{ 0 },
};

static const char report_doc[] =
	"Render a saved JSON summary (perfbpf run/attach/monitor -j, e.g. a CI artifact) as the "
	"self-contained HTML report, the same page as --html (the span timeline only if the file "
	"has one: a JSON summary written with -j has none)."
	"\vExamples:\n"
	"  perfbpf report out.json --html report.html\n"
	"\nExit status: 0 ok, 1 the summary cannot be read or the page written, 2 usage error.";

static error_t parse_report(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			args__usage_error(st, "unexpected argument '%s': report takes one JSON "
				     "summary", arg);
		o->report_summary = arg;
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num == 0)
			args__usage_error(st, "no summary given: perfbpf report SUMMARY.json --html "
				     "FILE");
		if (!o->html_path)
			args__usage_error(st, "nothing to write: give --html FILE");
		return 0;
	case OPT_HTML:
		o->html_path = arg;
		return 0;
	}
	return args__common(key, arg, st); /* getopt's errors */
}

const struct argp options_report__argp = {
	.options = report_options, .parser = parse_report, .args_doc = "SUMMARY.json",
	.doc = report_doc,
};
