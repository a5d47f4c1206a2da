// SPDX-License-Identifier: BSD-2-Clause
/* The options of `perfbpf gate`. */
#include "user/cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/gate/gate_stats.h"
#include "user/lib/util.h"

static const struct argp_option gate_options[] = {
	{ NULL, 0, NULL, 0, "Decision:", 1 },
	{ "stat", OPT_STAT, "LIST", 0,
	  "Statistics to compare, comma-separated, from mean,p50,p95,p99,total (default p99)", 1 },
	{ "max-regression", OPT_MAX_REGRESSION, "PCT", 0,
	  "Fail on a significant slowdown larger than PCT percent, e.g. 10% (default 5%)", 1 },
	{ "across", OPT_ACROSS, "HOW", 0,
	  "How a side's runs make one value: best (default: the least disturbed run, as noise on a "
	  "shared machine only adds time) or pooled (every sample of every run)", 1 },
	{ "alpha", OPT_ALPHA, "P", 0,
	  "Chance that identical builds fail, shared by all comparisons (default 0.05)", 1 },
	{ "resamples", OPT_RESAMPLES, "N", 0,
	  "Bootstrap resamples per comparison (default: enough for the per-comparison level)", 1 },
	{ "seed", OPT_SEED, "N", 0, "Bootstrap seed (default 1): the same files give the same "
	  "verdicts", 1 },
	{ NULL, 0, NULL, 0, "Output (default: the markdown table on stdout):", 2 },
	{ "markdown", 'm', "FILE", 0, "Write the markdown table to FILE ('-' for stdout)", 2 },
	{ "json", 'j', "FILE", 0, "Write the result as JSON to FILE ('-' for stdout)", 2 },
	{ "html", OPT_HTML, "FILE", 0,
	  "Write the result as an HTML page to FILE: every comparison, and base against head "
	  "distributions overlaid for each key that regressed or is unclear", 2 },
	{ "quiet", 'q', NULL, 0, "Print nothing on stdout; only the exit status", 2 },
	{ 0 },
};

static const char gate_doc[] =
	"Compare two JSON summaries recorded with 'perfbpf run --repeat N' (BASE: the main branch, "
	"HEAD: the change) and fail when a key's statistic got slower beyond noise: per key, a "
	"two-stage bootstrap over runs and samples gives an interval of head/base; a key fails when "
	"the interval lies above 1 and the slowdown exceeds --max-regression (docs/GATE.md). BASE "
	"or HEAD may be a directory: the runs of all its *.json summaries make that side, so both "
	"sides can be recorded alternately, one run at a time (recommended on a shared machine)."
	"\vExamples:\n"
	"  sudo perfbpf run --repeat 5 --json base.json -- ./backtest     # on main\n"
	"  sudo perfbpf run --repeat 5 --json head.json -- ./backtest     # on the branch\n"
	"  perfbpf gate base.json head.json --stat p99 --max-regression 10% --markdown gate.md\n"
	"\n"
	"  for i in 1 2 3 4 5; do                                         # interleaved\n"
	"    sudo perfbpf run --json base/$i.json -- ../main/backtest\n"
	"    sudo perfbpf run --json head/$i.json -- ./backtest\n"
	"  done\n"
	"  perfbpf gate base head --max-regression 10%\n"
	"\nExit status: 0 no regression, 1 a regression, 2 usage or input error.";

/* "10%", "10" or "2.5%": a percentage, returned as a fraction. */
static int parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || (*end && strcmp(end, "%")) || !(v > 0) || v >= 1000)
		return -EINVAL;
	*out = v / 100;
	return 0;
}

static error_t parse_gate(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;
	uint64_t v;
	char *end;

	switch (key) {
	case OPT_STAT:
		o->gate_stats = 0;
		for (char *save = NULL, *w = strtok_r(arg, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
			int s = gate_stat_parse(w);

			if (s < 0)
				args__usage_error(st, "invalid value '%s' for --stat: expected mean, p50, p95, "
					    "p99 or total", w);
			o->gate_stats |= 1u << s;
		}
		if (!o->gate_stats)
			args__bad_value(st, "--stat", arg, "a list such as p99 or mean,p99");
		return 0;
	case OPT_MAX_REGRESSION:
		if (parse_percent(arg, &o->gate_threshold))
			args__bad_value(st, "--max-regression", arg, "a percentage above 0, such as 10%");
		return 0;
	case OPT_ALPHA:
		errno = 0;
		o->gate_alpha = strtod(arg, &end);
		if (end == arg || *end || errno || !(o->gate_alpha > 0) || o->gate_alpha >= 0.5)
			args__bad_value(st, "--alpha", arg, "a probability between 0 and 0.5, such as 0.05");
		return 0;
	case OPT_ACROSS:
		if (!strcmp(arg, "best"))
			o->gate_across = GATE_BEST;
		else if (!strcmp(arg, "pooled"))
			o->gate_across = GATE_POOLED;
		else
			args__bad_value(st, "--across", arg, "best or pooled");
		return 0;
	case OPT_RESAMPLES:
		if (parse_u64(arg, 100, 10000000, &v))
			args__bad_value(st, "--resamples", arg, "a whole number from 100 to 10000000");
		o->gate_resamples = (unsigned)v;
		return 0;
	case OPT_SEED:
		if (parse_u64(arg, 0, UINT64_MAX, &o->gate_seed))
			args__bad_value(st, "--seed", arg, "a whole number");
		return 0;
	case 'j': case 'm': case 'q': case OPT_HTML: case ARGP_KEY_ERROR:
		return args__common(key, arg, st);
	case ARGP_KEY_ARG:
		if (st->arg_num == 0)
			o->gate_base = arg;
		else if (st->arg_num == 1)
			o->gate_head = arg;
		else
			args__usage_error(st, "unexpected argument '%s': gate takes BASE and HEAD", arg);
		return 0;
	case ARGP_KEY_END:
		if (!o->gate_head)
			args__usage_error(st, "gate needs two JSON summaries: BASE and HEAD");
		if (o->json_path && o->markdown_path && !strcmp(o->json_path, "-") &&
		    !strcmp(o->markdown_path, "-"))
			args__usage_error(st, "-j - and -m - cannot both go to stdout");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

const struct argp options_gate__argp = {
	.options = gate_options, .parser = parse_gate, .args_doc = "BASE HEAD",
	.doc = gate_doc,
};
