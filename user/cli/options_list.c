// SPDX-License-Identifier: BSD-2-Clause
/* The options of `perfbpf list`. */
#include "user/cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/util.h"

static const struct argp_option list_options[] = {
	{ "verbose", 'v', NULL, 0, "Print every probe site with its address and arguments", 0 },
	{ 0 },
};

static const char list_doc[] =
	"List the perfbpf probes in a running process (its executable and every loaded library) "
	"or in an executable or shared library on disk."
	"\vExamples:\n"
	"  sudo perfbpf list 4242\n"
	"  perfbpf list ./backtest\n"
	"  perfbpf list -v /opt/engine/lib/libengine.so\n"
	"\nExit status: 0 probes found, 1 none found or unreadable, 2 usage error.";

static error_t parse_list(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			args__usage_error(st, "unexpected argument '%s': list takes one pid "
				     "or path", arg);
		o->list_what = arg;
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num == 0)
			args__usage_error(st, "nothing to list: give a pid or a path");
		return 0;
	}
	return args__common(key, arg, st); /* -v, and getopt's errors */
}

const struct argp options_list__argp = {
	.options = list_options, .parser = parse_list, .args_doc = "PID|PATH", .doc = list_doc,
};
