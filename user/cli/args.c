// SPDX-License-Identifier: BSD-2-Clause
/* Usage errors, value checks and the options several commands share (see args.h). */
#include "user/cli/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/aggregate/dist.h"
#include "user/lib/util.h"

void args__usage_error(struct argp_state *st, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", st->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", st->name);
	exit(EXIT_USAGE);
}

void args__bad_value(struct argp_state *st, const char *opt, const char *arg, const char *want)
{
	args__usage_error(st, "invalid value '%s' for %s: expected %s", arg, opt, want);
}

void args__bad_option(struct argp_state *st)
{
	const char *w = st->next > 0 && st->next <= st->argc ? st->argv[st->next - 1] : "?";

	if (w[0] == '-')
		args__usage_error(st, "invalid option '%s', or it requires an argument", w);
	args__usage_error(st, "invalid arguments");
}

uint64_t args__duration(struct argp_state *st, const char *opt, const char *arg)
{
	uint64_t ns;

	if (parse_duration_ns(arg, &ns) || ns == 0)
		args__bad_value(st, opt, arg, "a positive duration such as 2ms, 500us or 10s");
	return ns;
}

uint64_t args__count(struct argp_state *st, const char *opt, const char *arg)
{
	uint64_t v;

	if (parse_u64(arg, 1, 100000000, &v))
		args__bad_value(st, opt, arg, "a whole number from 1 to 100000000");
	return v;
}

error_t args__common(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;
	const char *bad;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_ERROR:
		args__bad_option(st);
	case 'v':
		pb_verbose = true;
		return 0;
	case 'd':
		if (parse_duration_ns(arg, &o->duration_ns) || o->duration_ns == 0)
			args__bad_value(st, "--duration", arg, "a positive duration such as 30s or 500ms");
		return 0;
	case 'j':
		o->json_path = arg;
		return 0;
	case 'm':
		o->markdown_path = arg;
		return 0;
	case OPT_TRACE:
		o->trace_path = arg;
		return 0;
	case OPT_HTML:
		o->html_path = arg;
		return 0;
	case OPT_REDACT:
		if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
			args__bad_value(st, "--redact", arg, "attribute keys such as "
					"client_order_id,account");
		o->redact = arg;
		return 0;
	case 'e':
		o->events_path = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_COLUMNS:
		if (markdown__parse_columns(arg, &o->md, &bad)) {
			args__usage_error(st, "invalid value '%s' for --columns: unknown "
				     "column '%s' (known: %s)", arg, bad, markdown__column_keys());
		}
		return 0;
	case OPT_UNIT:
		if (time_unit_parse(arg, &o->md.unit))
			args__bad_value(st, "--unit", arg, "auto, ns, us, ms or s");
		return 0;
	case OPT_STATS:
		if (!strcmp(arg, "seed"))
			o->stats_style = DIST_SEED;
		else if (!strcmp(arg, "backtest-kit"))
			o->stats_style = DIST_BACKTEST_KIT;
		else
			args__bad_value(st, "--stats", arg, "seed or backtest-kit");
		return 0;
	case OPT_SAMPLE_BUDGET:
		if (parse_size(arg, &o->sample_budget))
			args__bad_value(st, "--sample-budget", arg, "a size such as 64M or 1G");
		return 0;
	case OPT_MAX_KEYS:
		if (parse_u64(arg, 1, 100000000, &o->max_keys))
			args__bad_value(st, "--max-keys", arg, "a whole number from 1 to 100000000");
		return 0;
	case OPT_RING_SIZE:
		if (parse_size(arg, &v) || v < 4096 || v > (1ull << 30) || (v & (v - 1)))
			args__bad_value(st, "--ring-size", arg, "a power of two from 4K to 1G, such as 16M");
		o->ring_size = v;
		return 0;
	case OPT_ATTRIBUTION:
	case OPT_NO_ATTRIBUTION:
		o->attribution = key == OPT_ATTRIBUTION;
		return 0;
	case OPT_PER_EVENT:
		o->per_event = true;
		return 0;
	case OPT_NO_YIELD:
		o->no_yield = true;
		return 0;
	case OPT_MAX_THREADS:
		if (parse_u64(arg, 1, 1u << 22, &o->max_threads))
			args__bad_value(st, "--max-threads", arg, "a whole number from 1 to 4194304");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}
