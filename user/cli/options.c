// SPDX-License-Identifier: BSD-2-Clause
/* Command-line parsing: the command word, its defaults and help; each command's options are in
 * user/cli/options_<command>.c. */
#include "user/cli/options.h"

#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "user/cli/args.h"
#include "user/gate/gate_stats.h"
#include "user/lib/util.h"

const char *argp_program_version = "perfbpf " PERFBPF_VERSION;

static const char top_help[] =
	"Usage: perfbpf COMMAND [OPTION...]\n"
	"Where the time goes in a trading or backtesting engine, measured from the kernel with "
	"eBPF on the engine's perfbpf USDT probes (include/perfbpf/probe.h).\n"
	"\n"
	"Commands:\n"
	"  attach PID            trace a running process until it exits, Ctrl-C or --duration\n"
	"  run -- COMMAND [ARG]  start COMMAND traced from its first instruction\n"
	"  monitor --binary PATH always-on: in-kernel histograms served to Prometheus\n"
	"  list PID|PATH         show the perfbpf probes in a process, executable or library\n"
	"  gate BASE HEAD        CI: fail when HEAD's JSON summary is slower than BASE's beyond "
	"noise\n"
	"  report SUMMARY.json   render a saved JSON summary as the HTML report (--html FILE)\n"
	"\n"
	"Examples:\n"
	"  sudo perfbpf attach 4242 --duration 30 --json out.json --markdown report.md\n"
	"  sudo perfbpf run --json out.json -- ./backtest --symbols BTCUSDT,ETHUSDT\n"
	"  perfbpf list ./backtest\n"
	"  sudo perfbpf run --html report.html -- ./backtest\n"
	"\n"
	"'perfbpf COMMAND --help' describes each command's options.\n"
	"Exit status: 0 ok, 1 failure, 2 usage error ('run': the command's status).\n";

/* ARGP_NO_ERRS also silences argp's --help, so help is found here: in the words before the
 * command of `run` (skipping option values), or anywhere for the other commands. */
static bool wants_help(const struct argp *ap, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			return false;
		if (!strcmp(a, "--help") || !strcmp(a, "-?") || !strcmp(a, "--usage"))
			return true;
		if (a[0] != '-') {
			if (ap != &options_trace__run_argp)
				continue;
			return false; /* the command starts here */
		}
		/* an option whose value is the next word */
		for (const struct argp_option *op = ap->options; op->name || op->doc; op++) {
			char shortopt[3] = { '-', (char)op->key, '\0' };

			if (!op->arg || !op->name)
				continue;
			if ((a[1] == '-' && !strcmp(a + 2, op->name)) || !strcmp(a, shortopt))
				i++;
		}
	}
	return false;
}

int options__parse(int argc, char **argv, struct cli_opts *o)
{
	const struct argp *ap = NULL;
	char prog[64];
	int idx;

	memset(o, 0, sizeof(*o));
	markdown__default_opts(&o->md);
	o->sample_budget = DEFAULT_SAMPLE_BUDGET;
	o->max_keys = DEFAULT_MAX_KEYS;
	o->ring_size = DEFAULT_RING_SIZE;
	o->max_threads = DEFAULT_MAX_THREADS;
	o->attribution = true;
	o->repeat = 1;
	o->otlp_flags.sample = -1;
	argp_err_exit_status = EXIT_USAGE;

	if (argc < 2) {
		fputs(top_help, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(top_help, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "attach")) {
		o->cmd = CMD_ATTACH;
		ap = &options_trace__attach_argp;
	} else if (!strcmp(argv[1], "run")) {
		o->cmd = CMD_RUN;
		ap = &options_trace__run_argp;
	} else if (!strcmp(argv[1], "monitor")) {
		o->cmd = CMD_MONITOR;
		ap = &options_monitor__argp;
		o->max_keys = 0; /* the default depends on --per-event-probes */
		o->ring_size = DEFAULT_MONITOR_RING_SIZE;
		o->attribution = false;
		o->interval_ns = 1000000000ull;
		o->listen = DEFAULT_LISTEN;
		parse_listen(DEFAULT_LISTEN, &o->listen_addr, &(socklen_t){ 0 });
	} else if (!strcmp(argv[1], "list")) {
		o->cmd = CMD_LIST;
		ap = &options_list__argp;
	} else if (!strcmp(argv[1], "report")) {
		o->cmd = CMD_REPORT;
		ap = &options_report__argp;
	} else if (!strcmp(argv[1], "gate")) {
		o->cmd = CMD_GATE;
		ap = &options_gate__argp;
		o->gate_stats = 1u << GATE_P99;
		o->gate_threshold = 0.05;
		o->gate_alpha = 0.05;
		o->gate_seed = 1;
	} else {
		pb_err("unknown command '%s' (commands: attach, run, monitor, list, gate, report; see "
		       "'perfbpf --help')", argv[1]);
		return EXIT_USAGE;
	}
	/* argp names the program after argv[0]: make it "perfbpf attach" and so on. */
	snprintf(prog, sizeof(prog), "perfbpf %s", argv[1]);
	argv[1] = prog;
	if (wants_help(ap, argc - 1, argv + 1)) {
		argp_help(ap, stdout, ARGP_HELP_STD_HELP & ~ARGP_HELP_EXIT_OK, prog);
		return EXIT_OK;
	}
	if (argp_parse(ap, argc - 1, argv + 1, ARGP_IN_ORDER | ARGP_NO_ERRS, &idx, o)) {
		/* only reached if a parser did not report the error itself */
		fprintf(stderr, "%s: invalid arguments (see '%s --help')\n", prog, prog);
		return EXIT_USAGE;
	}
	return -1;
}

void options__free(struct cli_opts *o)
{
	otlp_config__free(&o->otlp);
	otlp_config__free(&o->otlp_metrics);
}
