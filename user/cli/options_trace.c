// SPDX-License-Identifier: BSD-2-Clause
/* The options of `perfbpf attach` and `perfbpf run`, with the OTLP export's. */
#include "user/cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/util.h"

static const struct argp_option trace_options[] = {
	{ NULL, 0, NULL, 0, "Tracing:", 1 },
	{ "duration", 'd', "DUR", 0,
	  "Stop after DUR (e.g. 30, 30s, 500ms, 2m); default: until the target exits or Ctrl-C", 1 },
	{ "ring-size", OPT_RING_SIZE, "SIZE", 0,
	  "BPF ring buffer size, a power of two (default 64M)", 1 },
	{ "no-yield", OPT_NO_YIELD, NULL, 0,
	  "Read the ring at normal priority throughout (default: at idle priority while the ring "
	  "is less than half full, so that an engine using every CPU is not preempted by perfbpf; "
	  "needs CAP_SYS_NICE)", 1 },
	{ "max-threads", OPT_MAX_THREADS, "N", 0,
	  "Threads that may have spans open at once (default 16384)", 1 },
	{ "attribution", OPT_ATTRIBUTION, NULL, 0,
	  "Split each span's time into on-CPU, run-queue wait and blocked time, with context "
	  "switches and migrations, from the scheduler tracepoints (default: on)", 1 },
	{ "no-attribution", OPT_NO_ATTRIBUTION, NULL, 0,
	  "Do not attach to the scheduler tracepoints", 1 },
	{ "per-event-probes", OPT_PER_EVENT, NULL, 0,
	  "Trap on every event at the per-event probes, even in engines that record their events "
	  "themselves (probe ABI v3; see README.md): for comparing the two", 1 },
	{ "lib", OPT_LIB, "PATH", 0,
	  "run: a shared library with perfbpf probes that the command loads later (dlopen, a "
	  "Python or Node module), armed before it starts so that its first event is traced "
	  "(repeatable; perfbpf's Python binding on PYTHONPATH is found without it)", 1 },
	{ "python", OPT_PYTHON, "PATTERN", 0,
	  "run: every call of a Python function whose module.qualname matches the glob PATTERN "
	  "(e.g. 'engine.Strategy.*', '__main__.on_tick') is a span, with no change to the script "
	  "(repeatable; a Python command only; needs perfbpf's Python package)", 1 },
	{ "repeat", OPT_REPEAT, "N", 0,
	  "run: run the command N times in a row (default 1); the report pools every run and the "
	  "JSON summary keeps each run's statistics and histograms for 'perfbpf gate'", 1 },
	{ NULL, 0, NULL, 0, "Output (default: the markdown report on stdout):", 2 },
	{ "json", 'j', "FILE", 0, "Write the JSON summary to FILE ('-' for stdout)", 2 },
	{ "markdown", 'm', "FILE", 0, "Write the markdown report to FILE ('-' for stdout)", 2 },
	{ "events", 'e', "FILE", 0,
	  "Write every op and span as it arrives to FILE, one JSON object per line (span ids, "
	  "parents, threads, times)", 2 },
	{ "redact", OPT_REDACT, "KEYS", 0,
	  "Span attributes (and event attributes) with these keys, comma-separated, leave perfbpf "
	  "only as 'redacted:' and a keyed hash (equal values, equal hashes, within a run)", 2 },
	{ "html", OPT_HTML, "FILE", 0,
	  "Write the HTML report to FILE: one self-contained page (opens offline) with the "
	  "bottleneck chart, latency distributions and percentile curves, the on-CPU / run-queue / "
	  "blocked split and a span timeline", 2 },
	{ "trace", OPT_TRACE, "FILE", 0,
	  "Write every op and span to FILE in the Chrome Trace Event format (JSON), which the "
	  "Perfetto UI, chrome://tracing and Speedscope open", 2 },
	{ "columns", OPT_COLUMNS, "LIST", 0,
	  "Report columns, comma-separated, from: metric,kind,symbol,strategy,count,total,self,"
	  "mean,min,max,stddev,p50,p95,p99,wait_mean,wait_min,wait_max (default: all)", 2 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Report durations in auto (default), ns, us, ms or s", 2 },
	{ "quiet", 'q', NULL, 0, "Print no report on stdout (files given by -j/-m are written)", 2 },
	{ NULL, 0, NULL, 0, "OpenTelemetry span export (OTLP; every option implies --otlp unless "
	  "--otlp-metrics is given, and each overrides its OTEL_* variable):", 3 },
	{ "otlp", OPT_OTLP, NULL, 0,
	  "Send every span to an OpenTelemetry collector (default http://localhost:4318/v1/traces, "
	  "or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)", 3 },
	{ "otlp-ops", OPT_OTLP_OPS, NULL, 0,
	  "Export ops as spans too, children of the span open on their thread", 3 },
	{ "sample", OPT_SAMPLE, "RATIO", 0,
	  "Keep this fraction of traces, by trace id (0 to 1; default OTEL_TRACES_SAMPLER, else "
	  "all); the statistics always cover every event", 3 },
	{ "slow-threshold", OPT_SLOW_THRESHOLD, "DUR", 0,
	  "Also keep every trace in which a span lasted at least DUR, whatever the sampler said", 3 },
	{ "otlp-batch", OPT_OTLP_BATCH, "N", 0, "Spans per request (default 512)", 3 },
	{ "otlp-queue", OPT_OTLP_QUEUE, "N", 0,
	  "Spans waiting to be sent before new ones are dropped, counted (default 65536)", 3 },
	{ "otlp-delay", OPT_OTLP_DELAY, "DUR", 0,
	  "Send a partial batch after this long (default 1s)", 3 },
	{ "otlp-tail-buffer", OPT_OTLP_TAIL_BUFFER, "N", 0,
	  "Unsampled spans held until their trace ends, for --slow-threshold (default 65536)", 3 },
	ARGS_OTLP_CONNECTION_OPTIONS(3),
	{ NULL, 0, NULL, 0, "OpenTelemetry metrics export (OTLP):", 4 },
	ARGS_OTLP_METRICS_OPTIONS(4),
	{ NULL, 0, NULL, 0, "Aggregation:", 5 },
	{ "sample-budget", OPT_SAMPLE_BUDGET, "SIZE", 0,
	  "Memory for exact percentiles (default 256M, 8 bytes per event); beyond it the "
	  "largest keys switch to a histogram within 0.4%", 5 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0,
	  "Distinct (metric, symbol, strategy) keys kept (default 100000); events of further "
	  "keys are counted and reported", 5 },
	{ "stats", OPT_STATS, "STYLE", 0,
	  "seed (default): population std dev, nearest-rank percentiles; backtest-kit: sample std "
	  "dev (N-1) and linearly interpolated percentiles, as backtest-kit's own report", 5 },
	{ NULL, 0, NULL, 0, "General:", 6 },
	{ "verbose", 'v', NULL, 0, "Print libbpf and attach details on stderr", 6 },
	{ 0 },
};

static const char attach_doc[] =
	"Attach to the perfbpf probes of a running process and its shared libraries; report when "
	"it exits, on Ctrl-C or SIGTERM, or when --duration elapses."
	"\vExamples:\n"
	"  sudo perfbpf attach 4242\n"
	"  sudo perfbpf attach 4242 --duration 30 --json out.json --markdown report.md\n"
	"  sudo perfbpf attach 4242 -d 10s --columns metric,symbol,count,p50,p99 --unit us\n"
	"\nExit status: 0 ok, 1 failure (no such process, no probes, no privileges), 2 usage "
	"error.";

static const char run_doc[] =
	"Start COMMAND with perfbpf attached from its first instruction, report when it exits, "
	"and exit with its status."
	"\vExamples:\n"
	"  sudo perfbpf run -- ./backtest --symbols BTCUSDT,ETHUSDT\n"
	"  sudo perfbpf run --json out.json --markdown report.md -- ./backtest\n"
	"  sudo perfbpf run -q -j - -- ./backtest | jq '.metric_rollups[0]'\n"
	"  sudo perfbpf run --repeat 5 --json base.json -- ./backtest    # for 'perfbpf gate'\n"
	"  sudo perfbpf run --python 'engine.Strategy.*' -- python3 engine.py\n"
	"\nExit status: the command's (128+N if killed by signal N); 1 if it could not be traced, "
	"127 if it could not be started, 2 on a usage error.";

/* The options of both commands: the common ones, then the OTLP export's. */
static error_t parse_trace(int key, char *arg, struct argp_state *st)
{
	error_t err = args__common(key, arg, st);

	return err == ARGP_ERR_UNKNOWN ? args__otlp(key, arg, st) : err;
}

static error_t parse_attach(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			args__usage_error(st, "unexpected argument '%s': attach takes one "
				     "pid", arg);
		else if (parse_pid(arg, &o->pid))
			args__usage_error(st, "invalid pid '%s': expected a process id "
				     "such as 4242", arg);
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num == 0)
			args__usage_error(st, "no pid given");
		args__resolve_otlp(st);
		return 0;
	case OPT_REPEAT:
		args__usage_error(st, "--repeat is for 'perfbpf run': a running process cannot be repeated");
	case OPT_LIB:
		args__usage_error(st, "--lib is for 'perfbpf run': attach finds the libraries a "
			     "process loads");
	case OPT_PYTHON:
		args__usage_error(st, "--python is for 'perfbpf run': the hook is installed when "
			     "the interpreter starts");
	}
	return parse_trace(key, arg, st);
}

static error_t parse_run(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ARG:
		/* The command and everything after it belong to the command. */
		o->run_argv = &st->argv[st->next - 1];
		st->next = st->argc;
		return 0;
	case ARGP_KEY_END:
		if (!o->run_argv)
			args__usage_error(st, "no command given");
		args__resolve_otlp(st);
		return 0;
	case OPT_REPEAT: {
		uint64_t v;

		if (parse_u64(arg, 1, 10000, &v))
			args__bad_value(st, "--repeat", arg, "a whole number from 1 to 10000");
		o->repeat = (unsigned)v;
		return 0;
	}
	case OPT_LIB:
		if (o->nlibs == MAX_BINARIES)
			args__usage_error(st, "too many --lib options (at most %d)", MAX_BINARIES);
		if (!*arg)
			args__bad_value(st, "--lib", arg, "a path");
		o->libs[o->nlibs++] = arg;
		return 0;
	case OPT_PYTHON:
		if (o->npython == MAX_BINARIES)
			args__usage_error(st, "too many --python options (at most %d)", MAX_BINARIES);
		if (!*arg || strchr(arg, '\n'))
			args__bad_value(st, "--python", arg, "a glob of module.qualname such as "
					"'engine.Strategy.*'");
		o->python[o->npython++] = arg;
		return 0;
	}
	return parse_trace(key, arg, st);
}

const struct argp options_trace__attach_argp = {
	.options = trace_options, .parser = parse_attach, .args_doc = "PID", .doc = attach_doc,
};
const struct argp options_trace__run_argp = {
	.options = trace_options, .parser = parse_run, .args_doc = "[--] COMMAND [ARG...]",
	.doc = run_doc,
};
