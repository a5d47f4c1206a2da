/* SPDX-License-Identifier: BSD-2-Clause */
/* Command-line parsing (argp) for every perfbpf subcommand. */
#ifndef PERFBPF_OPTIONS_H
#define PERFBPF_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "exporters/otlp/otlp_config.h"
#include "exporters/report/markdown.h"

enum command { CMD_NONE, CMD_ATTACH, CMD_RUN, CMD_LIST, CMD_MONITOR, CMD_GATE, CMD_REPORT };

#define MAX_BINARIES 32

struct cli_opts {
	enum command cmd;
	int pid;                /* attach */
	char **run_argv;        /* run: the command and its arguments */
	const char *list_what;  /* list: a pid or a path */
	const char *report_summary; /* report: the JSON summary to render */
	uint64_t duration_ns;   /* 0: until the target exits or a signal */
	const char *json_path;  /* "-" is stdout */
	const char *markdown_path;
	const char *events_path; /* raw event log, JSON Lines */
	const char *trace_path;  /* --trace: Chrome Trace Event JSON */
	const char *html_path;   /* --html: the self-contained HTML report */
	const char *redact;      /* --redact KEY,...: attribute values redacted */
	struct md_opts md;
	uint64_t sample_budget;
	int stats_style; /* enum dist_style (--stats) */
	uint64_t max_keys;
	uint64_t ring_size;
	uint64_t max_threads;
	bool quiet;
	bool attribution;
	bool per_event; /* --per-event-probes */
	bool no_yield;  /* --no-yield: the consumer at normal priority throughout */
	unsigned repeat;        /* run: how many times to run the command (default 1) */
	const char *libs[MAX_BINARIES]; /* run: --lib, probe libraries the command loads later */
	size_t nlibs;
	const char *python[MAX_BINARIES]; /* run: --python, glob patterns of module.qualname */
	size_t npython;
	struct otlp_flags otlp_flags; /* attach, run, monitor: OTLP export as given */
	struct otlp_config otlp;      /* spans, resolved with the OTEL_* variables (.spans) */
	struct otlp_config otlp_metrics; /* metrics, likewise (.metrics) */
	/* monitor */
	const char *binaries[MAX_BINARIES]; /* --binary, every process of each */
	size_t nbinaries;
	const char *listen;                 /* as given, for messages; NULL: --no-listen */
	const char *web_config;             /* --web-config: TLS and basic auth for /metrics */
	struct sockaddr_storage listen_addr;
	bool per_pid;
	bool report;                        /* markdown on stdout at exit and on SIGUSR1 */
	uint64_t interval_ns;               /* how often the kernel histograms are read */
	/* gate */
	const char *gate_base, *gate_head;  /* JSON summaries */
	unsigned gate_stats;                /* bit per enum gate_stat */
	int gate_across;                    /* enum gate_across */
	double gate_threshold;              /* --max-regression as a fraction */
	double gate_alpha;                  /* family-wise error rate */
	unsigned gate_resamples;            /* 0: enough for the per-comparison error rate */
	uint64_t gate_seed;
};

/* Parses argv (argv[0] is "perfbpf"). Returns -1 to go on, or an exit status to exit with (0
 * after --help or --version, 2 after an unknown command). A bad option or value is reported on
 * one line and exits with status 2 from inside argp's parsers (user/cli/args.h). */
int options__parse(int argc, char **argv, struct cli_opts *o);
void options__free(struct cli_opts *o);

#endif
