// SPDX-License-Identifier: BSD-2-Clause
/* The options of `perfbpf monitor`. */
#include "user/cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/util.h"

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
	{ "web-config", OPT_WEB_CONFIG, "FILE", 0,
	  "TLS (certificate, key, client CA, TLS versions) and basic authentication (bcrypt) for "
	  "the metrics endpoint, in the Prometheus exporter toolkit's web configuration format "
	  "(see README)", 2 },
	{ "per-pid", OPT_PER_PID, NULL, 0,
	  "Separate series per process (a pid label); an exited process's series are dropped",
	  2 },
	{ NULL, 0, NULL, 0, "Reports (written at exit and on SIGUSR1):", 3 },
	{ "report", OPT_REPORT, NULL, 0, "Print the markdown report on stdout", 3 },
	{ "markdown", 'm', "FILE", 0, "Write the markdown report to FILE", 3 },
	{ "json", 'j', "FILE", 0, "Write the JSON summary to FILE", 3 },
	{ "html", OPT_HTML, "FILE", 0,
	  "Write the HTML report to FILE: bottleneck chart, tables, latency distributions from the "
	  "histograms", 3 },
	{ "columns", OPT_COLUMNS, "LIST", 0, "Report columns (see 'perfbpf attach --help')", 3 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Report durations in auto (default), ns, us, ms or s", 3 },
	{ NULL, 0, NULL, 0, "OpenTelemetry metrics export (OTLP; each option overrides its OTEL_* "
	  "variable):", 4 },
	ARGS_OTLP_METRICS_OPTIONS(4),
	ARGS_OTLP_CONNECTION_OPTIONS(4),
	{ NULL, 0, NULL, 0, "General:", 5 },
	{ "duration", 'd', "DUR", 0, "Stop after DUR (default: until SIGINT or SIGTERM)", 5 },
	{ "interval", OPT_INTERVAL, "DUR", 0,
	  "Look for new processes (and, with --per-event-probes, read the kernel histograms) this "
	  "often, besides every scrape (default 1s, at most 60s)", 5 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0,
	  "Distinct (kind, metric, symbol, strategy[, pid]) keys kept (default 65536, or 256 "
	  "with --per-event-probes); events of further keys are counted", 5 },
	{ "max-threads", OPT_MAX_THREADS, "N", 0,
	  "Threads that may have spans open at once (default 16384)", 5 },
	{ "per-event-probes", OPT_PER_EVENT, NULL, 0,
	  "Aggregate in the kernel at the per-event probes, one probe hit per event (the monitor "
	  "before probe ABI v3: no event crosses to userspace; --max-keys is then preallocated "
	  "in the kernel, 16 KiB per key and CPU)", 5 },
	{ "ring-size", OPT_RING_SIZE, "SIZE", 0,
	  "BPF ring buffer size, a power of two (default 16M)", 5 },
	{ "quiet", 'q', NULL, 0, "No progress messages on stderr", 5 },
	{ "verbose", 'v', NULL, 0, "Print libbpf and attach details on stderr", 5 },
	{ 0 },
};

static const char monitor_doc[] =
	"Always-on monitoring: aggregate the engine's ops and spans into histograms (from the batches "
	"its threads record, probe ABI v3; or in the kernel with --per-event-probes) and serve them "
	"to Prometheus; follow every process of a binary across restarts."
	"\vExamples:\n"
	"  sudo perfbpf monitor --binary /opt/engine/bin/engine --listen 127.0.0.1:9464\n"
	"  sudo perfbpf monitor --pid 4242 --report\n"
	"  sudo perfbpf monitor -b ./backtest -b /opt/engine/lib/libengine.so --per-pid\n"
	"  curl -s 127.0.0.1:9464/metrics\n"
	"  kill -USR1 $(pidof perfbpf)    # write the reports now\n"
	"\nExit status: 0 ok, 1 failure (no probes, no privileges, address in use), 2 usage "
	"error.";

static error_t parse_monitor(int key, char *arg, struct argp_state *st)
{
	struct cli_opts *o = st->input;
	socklen_t len;

	switch (key) {
	case 'b':
		if (o->nbinaries == MAX_BINARIES)
			args__usage_error(st, "too many --binary options (at most %d)", MAX_BINARIES);
		if (!*arg)
			args__bad_value(st, "--binary", arg, "a path");
		o->binaries[o->nbinaries++] = arg;
		return 0;
	case 'p':
		if (parse_pid(arg, &o->pid))
			args__bad_value(st, "--pid", arg, "a process id such as 4242");
		return 0;
	case OPT_LISTEN:
		if (parse_listen(arg, &o->listen_addr, &len))
			args__bad_value(st, "--listen", arg, "PORT, HOST:PORT or [IPV6]:PORT with a numeric "
				  "host, such as 127.0.0.1:9464");
		o->listen = arg;
		return 0;
	case OPT_NO_LISTEN:
		o->listen = NULL;
		return 0;
	case OPT_WEB_CONFIG:
		if (!*arg)
			args__bad_value(st, "--web-config", arg, "a file");
		o->web_config = arg;
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
			args__bad_value(st, "--interval", arg, "a duration from 1ms to 60s, such as 1s");
		return 0;
	case 'j': case 'm': case 'd': case 'q': case 'v': case OPT_COLUMNS: case OPT_UNIT: case OPT_HTML:
	case OPT_MAX_KEYS: case OPT_MAX_THREADS: case OPT_PER_EVENT: case OPT_RING_SIZE:
	case ARGP_KEY_ERROR:
		return args__common(key, arg, st);
	case OPT_OTLP_METRICS: case OPT_OTLP_METRICS_INTERVAL: case OPT_OTLP_METRICS_TEMPORALITY:
	case OPT_OTLP_METRICS_HISTOGRAM: case OPT_OTLP_ENDPOINT: case OPT_OTLP_PROTOCOL:
	case OPT_OTLP_COMPRESSION: case OPT_OTLP_HEADERS: case OPT_OTLP_CERTIFICATE:
	case OPT_OTLP_CLIENT_CERTIFICATE: case OPT_OTLP_CLIENT_KEY: case OPT_SERVICE_NAME:
	case OPT_OTLP_TIMEOUT: case OPT_OTLP_FLUSH_TIMEOUT:
		return args__otlp(key, arg, st);
	case ARGP_KEY_ARG:
		args__usage_error(st, "unexpected argument '%s': name targets with --binary or --pid", arg);
	case ARGP_KEY_END:
		if (!o->pid && !o->nbinaries)
			args__usage_error(st, "nothing to monitor: give --binary PATH or --pid PID");
		if (o->pid && o->nbinaries)
			args__usage_error(st, "--pid and --binary cannot be combined");
		if (!o->max_keys)
			o->max_keys = o->per_event ? DEFAULT_KERNEL_HIST_MAX_KEYS
						   : DEFAULT_MONITOR_MAX_KEYS;
		if (o->html_path && !strcmp(o->html_path, "-"))
			args__usage_error(st, "the monitor writes reports to files; --html - is not "
				     "supported");
		if (o->json_path && !strcmp(o->json_path, "-"))
			args__usage_error(st, "the monitor writes reports to files or, with --report, stdout; "
				    "-j - is not supported");
		if (o->web_config && !o->listen)
			args__usage_error(st, "--web-config is for the metrics endpoint: not with "
				     "--no-listen");
		args__resolve_otlp(st);
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

const struct argp options_monitor__argp = {
	.options = monitor_options, .parser = parse_monitor, .args_doc = "", .doc = monitor_doc,
};
