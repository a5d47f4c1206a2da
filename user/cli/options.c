// SPDX-License-Identifier: BSD-2-Clause
/* Command-line parsing (argp) for every perfbpf subcommand. */
#include "user/cli/options.h"

#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/gate/gate_stats.h"
#include "user/lib/util.h"

const char *argp_program_version = "perfbpf " PERFBPF_VERSION;

#define DEFAULT_SAMPLE_BUDGET (256ull << 20)
#define DEFAULT_MAX_KEYS 100000
#define DEFAULT_RING_SIZE (16ull << 20)
#define DEFAULT_MAX_THREADS 16384
#define DEFAULT_MONITOR_MAX_KEYS 256
#define DEFAULT_LISTEN "127.0.0.1:9464"

enum {
	OPT_COLUMNS = 0x100, OPT_UNIT, OPT_SAMPLE_BUDGET, OPT_MAX_KEYS, OPT_RING_SIZE,
	OPT_MAX_THREADS, OPT_ATTRIBUTION, OPT_NO_ATTRIBUTION, OPT_LISTEN, OPT_NO_LISTEN,
	OPT_PER_PID, OPT_REPORT, OPT_INTERVAL, OPT_REPEAT, OPT_STAT, OPT_MAX_REGRESSION,
	OPT_ALPHA, OPT_RESAMPLES, OPT_SEED, OPT_ACROSS,
	OPT_OTLP, OPT_OTLP_ENDPOINT, OPT_OTLP_PROTOCOL, OPT_OTLP_COMPRESSION, OPT_OTLP_HEADERS,
	OPT_OTLP_TIMEOUT, OPT_OTLP_OPS, OPT_SERVICE_NAME, OPT_SAMPLE, OPT_SLOW_THRESHOLD,
	OPT_OTLP_BATCH, OPT_OTLP_QUEUE, OPT_OTLP_DELAY, OPT_OTLP_FLUSH_TIMEOUT, OPT_OTLP_TAIL_BUFFER,
};

static const struct argp_option trace_options[] = {
	{ NULL, 0, NULL, 0, "Tracing:", 1 },
	{ "duration", 'd', "DUR", 0,
	  "Stop after DUR (e.g. 30, 30s, 500ms, 2m); default: until the target exits or Ctrl-C", 1 },
	{ "ring-size", OPT_RING_SIZE, "SIZE", 0,
	  "BPF ring buffer size, a power of two (default 16M)", 1 },
	{ "max-threads", OPT_MAX_THREADS, "N", 0,
	  "Threads that may have spans open at once (default 16384)", 1 },
	{ "attribution", OPT_ATTRIBUTION, NULL, 0,
	  "Split each span's time into on-CPU, run-queue wait and blocked time, with context "
	  "switches and migrations, from the scheduler tracepoints (default: on)", 1 },
	{ "no-attribution", OPT_NO_ATTRIBUTION, NULL, 0,
	  "Do not attach to the scheduler tracepoints", 1 },
	{ "repeat", OPT_REPEAT, "N", 0,
	  "run: run the command N times in a row (default 1); the report pools every run and the "
	  "JSON summary keeps each run's statistics and histograms for 'perfbpf gate'", 1 },
	{ NULL, 0, NULL, 0, "Output (default: the markdown report on stdout):", 2 },
	{ "json", 'j', "FILE", 0, "Write the JSON summary to FILE ('-' for stdout)", 2 },
	{ "markdown", 'm', "FILE", 0, "Write the markdown report to FILE ('-' for stdout)", 2 },
	{ "events", 'e', "FILE", 0,
	  "Write every op and span as it arrives to FILE, one JSON object per line (span ids, "
	  "parents, threads, times)", 2 },
	{ "columns", OPT_COLUMNS, "LIST", 0,
	  "Report columns, comma-separated, from: metric,kind,symbol,strategy,count,total,self,"
	  "mean,min,max,stddev,p50,p95,p99,wait_mean,wait_min,wait_max (default: all)", 2 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Report durations in auto (default), ns, us, ms or s", 2 },
	{ "quiet", 'q', NULL, 0, "Print no report on stdout (files given by -j/-m are written)", 2 },
	{ NULL, 0, NULL, 0, "OpenTelemetry span export (OTLP/HTTP; every option implies --otlp, "
	  "and each overrides its OTEL_* variable):", 3 },
	{ "otlp", OPT_OTLP, NULL, 0,
	  "Send every span to an OpenTelemetry collector (default http://localhost:4318/v1/traces, "
	  "or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)", 3 },
	{ "otlp-endpoint", OPT_OTLP_ENDPOINT, "URL", 0,
	  "Collector base URL; /v1/traces is appended", 3 },
	{ "otlp-protocol", OPT_OTLP_PROTOCOL, "PROTO", 0,
	  "http/protobuf (default) or http/json", 3 },
	{ "otlp-compression", OPT_OTLP_COMPRESSION, "C", 0, "gzip or none (default)", 3 },
	{ "otlp-headers", OPT_OTLP_HEADERS, "LIST", 0,
	  "Request headers, key=value,... (added to OTEL_EXPORTER_OTLP_HEADERS)", 3 },
	{ "otlp-timeout", OPT_OTLP_TIMEOUT, "DUR", 0, "Per-request timeout (default 10s)", 3 },
	{ "otlp-ops", OPT_OTLP_OPS, NULL, 0,
	  "Export ops as spans too, children of the span open on their thread", 3 },
	{ "service-name", OPT_SERVICE_NAME, "NAME", 0,
	  "service.name of the resource (default OTEL_SERVICE_NAME, else "
	  "unknown_service:<executable>)", 3 },
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
	{ "otlp-flush-timeout", OPT_OTLP_FLUSH_TIMEOUT, "DUR", 0,
	  "At exit, stop sending after this long; what is left is counted (default 5s)", 3 },
	{ "otlp-tail-buffer", OPT_OTLP_TAIL_BUFFER, "N", 0,
	  "Unsampled spans held until their trace ends, for --slow-threshold (default 65536)", 3 },
	{ NULL, 0, NULL, 0, "Aggregation:", 4 },
	{ "sample-budget", OPT_SAMPLE_BUDGET, "SIZE", 0,
	  "Memory for exact percentiles (default 256M, 8 bytes per event); beyond it the "
	  "largest keys switch to a histogram within 0.4%", 4 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0,
	  "Distinct (metric, symbol, strategy) keys kept (default 100000); events of further "
	  "keys are counted and reported", 4 },
	{ NULL, 0, NULL, 0, "General:", 5 },
	{ "verbose", 'v', NULL, 0, "Print libbpf and attach details on stderr", 5 },
	{ 0 },
};

static const struct argp_option monitor_options[] = {
	{ NULL, 0, NULL, 0, "What to monitor (at least one):", 1 },
	{ "binary", 'b', "PATH", 0,
	  "Every process of this executable or shared library, running now or started later "
	  "(may be repeated)", 1 },
	{ "pid", 'p', "PID", 0, "One running process; perfbpf exits when it does", 1 },
	{ NULL, 0, NULL, 0, "Metrics endpoint:", 2 },
	{ "listen", OPT_LISTEN, "ADDR", 0,
	  "Serve Prometheus metrics at http://ADDR/metrics: PORT, HOST:PORT or [IPV6]:PORT "
	  "(default " DEFAULT_LISTEN "; loopback unless told otherwise)", 2 },
	{ "no-listen", OPT_NO_LISTEN, NULL, 0, "Serve no metrics (reports only)", 2 },
	{ "per-pid", OPT_PER_PID, NULL, 0,
	  "Separate series per process (a pid label); an exited process's series are dropped",
	  2 },
	{ NULL, 0, NULL, 0, "Reports (written at exit and on SIGUSR1):", 3 },
	{ "report", OPT_REPORT, NULL, 0, "Print the markdown report on stdout", 3 },
	{ "markdown", 'm', "FILE", 0, "Write the markdown report to FILE", 3 },
	{ "json", 'j', "FILE", 0, "Write the JSON summary to FILE", 3 },
	{ "columns", OPT_COLUMNS, "LIST", 0, "Report columns (see 'perfbpf attach --help')", 3 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Report durations in auto (default), ns, us, ms or s", 3 },
	{ NULL, 0, NULL, 0, "General:", 4 },
	{ "duration", 'd', "DUR", 0, "Stop after DUR (default: until SIGINT or SIGTERM)", 4 },
	{ "interval", OPT_INTERVAL, "DUR", 0,
	  "Read the kernel histograms this often, besides every scrape (default 1s, at most "
	  "60s)", 4 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0,
	  "Distinct (kind, metric, symbol, strategy[, pid]) keys kept in the kernel (default 256; "
	  "preallocated: 16 KiB per key and CPU); events of further keys are counted", 4 },
	{ "max-threads", OPT_MAX_THREADS, "N", 0,
	  "Threads that may have spans open at once (default 16384)", 4 },
	{ "quiet", 'q', NULL, 0, "No progress messages on stderr", 4 },
	{ "verbose", 'v', NULL, 0, "Print libbpf and attach details on stderr", 4 },
	{ 0 },
};

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
	{ "quiet", 'q', NULL, 0, "Print nothing on stdout; only the exit status", 2 },
	{ 0 },
};

static const struct argp_option list_options[] = {
	{ "verbose", 'v', NULL, 0, "Print every probe site with its address and arguments", 0 },
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
	"\nExit status: the command's (128+N if killed by signal N); 1 if it could not be traced, "
	"127 if it could not be started, 2 on a usage error.";

static const char list_doc[] =
	"List the perfbpf probes in a running process (its executable and every loaded library) "
	"or in an executable or shared library on disk."
	"\vExamples:\n"
	"  sudo perfbpf list 4242\n"
	"  perfbpf list ./backtest\n"
	"  perfbpf list -v /opt/engine/lib/libengine.so\n"
	"\nExit status: 0 probes found, 1 none found or unreadable, 2 usage error.";

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

static const char monitor_doc[] =
	"Always-on monitoring: aggregate the engine's ops and spans into histograms in the kernel "
	"(no event crosses to userspace) and serve them to Prometheus; follow every process of a "
	"binary across restarts."
	"\vExamples:\n"
	"  sudo perfbpf monitor --binary /opt/engine/bin/engine --listen 127.0.0.1:9464\n"
	"  sudo perfbpf monitor --pid 4242 --report\n"
	"  sudo perfbpf monitor -b ./backtest -b /opt/engine/lib/libengine.so --per-pid\n"
	"  curl -s 127.0.0.1:9464/metrics\n"
	"  kill -USR1 $(pidof perfbpf)    # write the reports now\n"
	"\nExit status: 0 ok, 1 failure (no probes, no privileges, address in use), 2 usage "
	"error.";

/* One line, exit 2. argp's own messages add a "Try --help" line, so argp runs with ARGP_NO_ERRS
 * and every usage error is reported here. */
__attribute__((format(printf, 2, 3), noreturn))
static void usage_error(struct argp_state *st, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", st->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", st->name);
	exit(EXIT_USAGE);
}

static void bad_value(struct argp_state *st, const char *opt, const char *arg, const char *want)
{
	usage_error(st, "invalid value '%s' for %s: expected %s", arg, opt, want);
}

/* getopt found an unknown option or a missing value: name the word it stopped at. */
__attribute__((noreturn))
static void bad_option(struct argp_state *st)
{
	const char *w = st->next > 0 && st->next <= st->argc ? st->argv[st->next - 1] : "?";

	if (w[0] == '-')
		usage_error(st, "invalid option '%s', or it requires an argument", w);
	usage_error(st, "invalid arguments");
}

static uint64_t positive_duration(struct argp_state *st, const char *opt, const char *arg)
{
	uint64_t ns;

	if (parse_duration_ns(arg, &ns) || ns == 0)
		bad_value(st, opt, arg, "a positive duration such as 2ms, 500us or 10s");
	return ns;
}

static uint64_t count_value(struct argp_state *st, const char *opt, const char *arg)
{
	uint64_t v;

	if (parse_u64(arg, 1, 100000000, &v))
		bad_value(st, opt, arg, "a whole number from 1 to 100000000");
	return v;
}

/* The OTLP export flags of attach and run; values are checked when the settings are resolved
 * with the environment at the end. */
static error_t parse_otlp(int key, char *arg, struct argp_state *st)
{
	struct otlp_flags *f = &((struct cli_opts *)st->input)->otlp_flags;
	char *end;

	switch (key) {
	case OPT_OTLP: break;
	case OPT_OTLP_ENDPOINT: f->endpoint = arg; break;
	case OPT_OTLP_PROTOCOL: f->protocol = arg; break;
	case OPT_OTLP_COMPRESSION: f->compression = arg; break;
	case OPT_OTLP_HEADERS: f->headers = arg; break;
	case OPT_OTLP_OPS: f->ops = true; break;
	case OPT_SERVICE_NAME:
		if (!*arg)
			bad_value(st, "--service-name", arg, "a name");
		f->service_name = arg;
		break;
	case OPT_OTLP_TIMEOUT: f->timeout_ns = positive_duration(st, "--otlp-timeout", arg); break;
	case OPT_SLOW_THRESHOLD:
		f->slow_ns = positive_duration(st, "--slow-threshold", arg);
		break;
	case OPT_OTLP_DELAY: f->delay_ns = positive_duration(st, "--otlp-delay", arg); break;
	case OPT_OTLP_FLUSH_TIMEOUT:
		f->flush_ns = positive_duration(st, "--otlp-flush-timeout", arg);
		break;
	case OPT_OTLP_BATCH: f->batch = count_value(st, "--otlp-batch", arg); break;
	case OPT_OTLP_QUEUE: f->queue = count_value(st, "--otlp-queue", arg); break;
	case OPT_OTLP_TAIL_BUFFER: f->tail_buffer = count_value(st, "--otlp-tail-buffer", arg); break;
	case OPT_SAMPLE:
		errno = 0;
		f->sample = strtod(arg, &end);
		if (errno || end == arg || *end || !(f->sample >= 0 && f->sample <= 1))
			bad_value(st, "--sample", arg, "a ratio from 0 to 1 such as 0.1");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	f->enabled = true;
	return 0;
}

static const char *env_value(const char *name)
{
	return getenv(name);
}

/* attach and run, at the end: the OTLP settings, flags over OTEL_* variables. */
static void resolve_otlp(struct argp_state *st)
{
	struct cli_opts *o = st->input;
	char err[256];

	if (o->otlp_flags.enabled &&
	    otlp_config__resolve(&o->otlp_flags, env_value, &o->otlp, err, sizeof(err)))
		usage_error(st, "%s", err);
}

static error_t parse_common(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;
	const char *bad;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_ERROR:
		bad_option(st);
	case 'v':
		pb_verbose = true;
		return 0;
	case 'd':
		if (parse_duration_ns(arg, &o->duration_ns) || o->duration_ns == 0)
			bad_value(st, "--duration", arg, "a positive duration such as 30s or 500ms");
		return 0;
	case 'j':
		o->json_path = arg;
		return 0;
	case 'm':
		o->markdown_path = arg;
		return 0;
	case 'e':
		o->events_path = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_COLUMNS:
		if (markdown__parse_columns(arg, &o->md, &bad)) {
			usage_error(st, "invalid value '%s' for --columns: unknown "
				     "column '%s' (known: %s)", arg, bad, markdown__column_keys());
		}
		return 0;
	case OPT_UNIT:
		if (time_unit_parse(arg, &o->md.unit))
			bad_value(st, "--unit", arg, "auto, ns, us, ms or s");
		return 0;
	case OPT_SAMPLE_BUDGET:
		if (parse_size(arg, &o->sample_budget))
			bad_value(st, "--sample-budget", arg, "a size such as 64M or 1G");
		return 0;
	case OPT_MAX_KEYS:
		if (parse_u64(arg, 1, 100000000, &o->max_keys))
			bad_value(st, "--max-keys", arg, "a whole number from 1 to 100000000");
		return 0;
	case OPT_RING_SIZE:
		if (parse_size(arg, &v) || v < 4096 || v > (1ull << 30) || (v & (v - 1)))
			bad_value(st, "--ring-size", arg, "a power of two from 4K to 1G, such as 16M");
		o->ring_size = v;
		return 0;
	case OPT_ATTRIBUTION:
	case OPT_NO_ATTRIBUTION:
		o->attribution = key == OPT_ATTRIBUTION;
		return 0;
	case OPT_MAX_THREADS:
		if (parse_u64(arg, 1, 1u << 22, &o->max_threads))
			bad_value(st, "--max-threads", arg, "a whole number from 1 to 4194304");
		return 0;
	}
	return parse_otlp(key, arg, st);
}

static error_t parse_attach(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			usage_error(st, "unexpected argument '%s': attach takes one "
				     "pid", arg);
		else if (parse_pid(arg, &o->pid))
			usage_error(st, "invalid pid '%s': expected a process id "
				     "such as 4242", arg);
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num == 0)
			usage_error(st, "no pid given");
		resolve_otlp(st);
		return 0;
	case OPT_REPEAT:
		usage_error(st, "--repeat is for 'perfbpf run': a running process cannot be repeated");
	}
	return parse_common(key, arg, st);
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
			usage_error(st, "no command given");
		resolve_otlp(st);
		return 0;
	case OPT_REPEAT: {
		uint64_t v;

		if (parse_u64(arg, 1, 10000, &v))
			bad_value(st, "--repeat", arg, "a whole number from 1 to 10000");
		o->repeat = (unsigned)v;
		return 0;
	}
	}
	return parse_common(key, arg, st);
}

static error_t parse_monitor(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;
	socklen_t len;

	switch (key) {
	case 'b':
		if (o->nbinaries == MAX_BINARIES)
			usage_error(st, "too many --binary options (at most %d)", MAX_BINARIES);
		if (!*arg)
			bad_value(st, "--binary", arg, "a path");
		o->binaries[o->nbinaries++] = arg;
		return 0;
	case 'p':
		if (parse_pid(arg, &o->pid))
			bad_value(st, "--pid", arg, "a process id such as 4242");
		return 0;
	case OPT_LISTEN:
		if (parse_listen(arg, &o->listen_addr, &len))
			bad_value(st, "--listen", arg, "PORT, HOST:PORT or [IPV6]:PORT with a numeric "
				  "host, such as 127.0.0.1:9464");
		o->listen = arg;
		return 0;
	case OPT_NO_LISTEN:
		o->listen = NULL;
		return 0;
	case OPT_PER_PID:
		o->per_pid = true;
		return 0;
	case OPT_REPORT:
		o->report = true;
		return 0;
	case OPT_INTERVAL:
		if (parse_duration_ns(arg, &o->interval_ns) || o->interval_ns < 1000000 ||
		    o->interval_ns > 60000000000ull)
			bad_value(st, "--interval", arg, "a duration from 1ms to 60s, such as 1s");
		return 0;
	case 'j': case 'm': case 'd': case 'q': case 'v': case OPT_COLUMNS: case OPT_UNIT:
	case OPT_MAX_KEYS: case OPT_MAX_THREADS: case ARGP_KEY_ERROR:
		return parse_common(key, arg, st);
	case ARGP_KEY_ARG:
		usage_error(st, "unexpected argument '%s': name targets with --binary or --pid", arg);
	case ARGP_KEY_END:
		if (!o->pid && !o->nbinaries)
			usage_error(st, "nothing to monitor: give --binary PATH or --pid PID");
		if (o->pid && o->nbinaries)
			usage_error(st, "--pid and --binary cannot be combined");
		if (o->json_path && !strcmp(o->json_path, "-"))
			usage_error(st, "the monitor writes reports to files or, with --report, stdout; "
				    "-j - is not supported");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

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
				usage_error(st, "invalid value '%s' for --stat: expected mean, p50, p95, "
					    "p99 or total", w);
			o->gate_stats |= 1u << s;
		}
		if (!o->gate_stats)
			bad_value(st, "--stat", arg, "a list such as p99 or mean,p99");
		return 0;
	case OPT_MAX_REGRESSION:
		if (parse_percent(arg, &o->gate_threshold))
			bad_value(st, "--max-regression", arg, "a percentage above 0, such as 10%");
		return 0;
	case OPT_ALPHA:
		errno = 0;
		o->gate_alpha = strtod(arg, &end);
		if (end == arg || *end || errno || !(o->gate_alpha > 0) || o->gate_alpha >= 0.5)
			bad_value(st, "--alpha", arg, "a probability between 0 and 0.5, such as 0.05");
		return 0;
	case OPT_ACROSS:
		if (!strcmp(arg, "best"))
			o->gate_across = GATE_BEST;
		else if (!strcmp(arg, "pooled"))
			o->gate_across = GATE_POOLED;
		else
			bad_value(st, "--across", arg, "best or pooled");
		return 0;
	case OPT_RESAMPLES:
		if (parse_u64(arg, 100, 10000000, &v))
			bad_value(st, "--resamples", arg, "a whole number from 100 to 10000000");
		o->gate_resamples = (unsigned)v;
		return 0;
	case OPT_SEED:
		if (parse_u64(arg, 0, UINT64_MAX, &o->gate_seed))
			bad_value(st, "--seed", arg, "a whole number");
		return 0;
	case 'j': case 'm': case 'q': case ARGP_KEY_ERROR:
		return parse_common(key, arg, st);
	case ARGP_KEY_ARG:
		if (st->arg_num == 0)
			o->gate_base = arg;
		else if (st->arg_num == 1)
			o->gate_head = arg;
		else
			usage_error(st, "unexpected argument '%s': gate takes BASE and HEAD", arg);
		return 0;
	case ARGP_KEY_END:
		if (!o->gate_head)
			usage_error(st, "gate needs two JSON summaries: BASE and HEAD");
		if (o->json_path && o->markdown_path && !strcmp(o->json_path, "-") &&
		    !strcmp(o->markdown_path, "-"))
			usage_error(st, "-j - and -m - cannot both go to stdout");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static error_t parse_list(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;

	switch (key) {
	case ARGP_KEY_ERROR:
		bad_option(st);
	case 'v':
		pb_verbose = true;
		return 0;
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			usage_error(st, "unexpected argument '%s': list takes one pid "
				     "or path", arg);
		o->list_what = arg;
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num == 0)
			usage_error(st, "nothing to list: give a pid or a path");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp attach_argp = {
	.options = trace_options, .parser = parse_attach, .args_doc = "PID", .doc = attach_doc,
};
static const struct argp run_argp = {
	.options = trace_options, .parser = parse_run, .args_doc = "[--] COMMAND [ARG...]",
	.doc = run_doc,
};
static const struct argp list_argp = {
	.options = list_options, .parser = parse_list, .args_doc = "PID|PATH", .doc = list_doc,
};

static const struct argp gate_argp = {
	.options = gate_options, .parser = parse_gate, .args_doc = "BASE HEAD",
	.doc = gate_doc,
};

static const struct argp monitor_argp = {
	.options = monitor_options, .parser = parse_monitor, .args_doc = "", .doc = monitor_doc,
};

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
	"\n"
	"Examples:\n"
	"  sudo perfbpf attach 4242 --duration 30 --json out.json --markdown report.md\n"
	"  sudo perfbpf run --json out.json -- ./backtest --symbols BTCUSDT,ETHUSDT\n"
	"  perfbpf list ./backtest\n"
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
			if (ap->parser != parse_run)
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
		ap = &attach_argp;
	} else if (!strcmp(argv[1], "run")) {
		o->cmd = CMD_RUN;
		ap = &run_argp;
	} else if (!strcmp(argv[1], "monitor")) {
		o->cmd = CMD_MONITOR;
		ap = &monitor_argp;
		o->max_keys = DEFAULT_MONITOR_MAX_KEYS;
		o->attribution = false;
		o->interval_ns = 1000000000ull;
		o->listen = DEFAULT_LISTEN;
		parse_listen(DEFAULT_LISTEN, &o->listen_addr, &(socklen_t){ 0 });
	} else if (!strcmp(argv[1], "list")) {
		o->cmd = CMD_LIST;
		ap = &list_argp;
	} else if (!strcmp(argv[1], "gate")) {
		o->cmd = CMD_GATE;
		ap = &gate_argp;
		o->gate_stats = 1u << GATE_P99;
		o->gate_threshold = 0.05;
		o->gate_alpha = 0.05;
		o->gate_seed = 1;
	} else {
		pb_err("unknown command '%s' (commands: attach, run, monitor, list, gate; see 'perfbpf "
		       "--help')",
		       argv[1]);
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
}
