/* SPDX-License-Identifier: BSD-2-Clause */
/* What the option parsers of every command share: the option keys, the defaults, the one-line
 * usage errors, the value checks and the options common to several commands. Internal to
 * user/cli/. */
#ifndef PERFBPF_CLI_ARGS_H
#define PERFBPF_CLI_ARGS_H

#include <argp.h>
#include <stdint.h>

#include "user/cli/options.h"

#define DEFAULT_SAMPLE_BUDGET (256ull << 20)
#define DEFAULT_MAX_KEYS 100000
#define DEFAULT_RING_SIZE (64ull << 20)         /* attach, run: a burst the consumer defers */
#define DEFAULT_MONITOR_RING_SIZE (16ull << 20) /* monitor: first ops and spans only */
#define DEFAULT_MAX_THREADS 16384
#define DEFAULT_MONITOR_MAX_KEYS 65536 /* aggregated in userspace: memory follows use */
#define DEFAULT_KERNEL_HIST_MAX_KEYS 256 /* --per-event-probes: preallocated per key and CPU */
#define DEFAULT_LISTEN "127.0.0.1:9464"

enum {
	OPT_COLUMNS = 0x100, OPT_UNIT, OPT_SAMPLE_BUDGET, OPT_STATS, OPT_TRACE, OPT_REDACT, OPT_MAX_KEYS, OPT_RING_SIZE,
	OPT_MAX_THREADS, OPT_ATTRIBUTION, OPT_NO_ATTRIBUTION, OPT_LISTEN, OPT_NO_LISTEN,
	OPT_PER_PID, OPT_REPORT, OPT_INTERVAL, OPT_REPEAT, OPT_STAT, OPT_MAX_REGRESSION,
	OPT_ALPHA, OPT_RESAMPLES, OPT_SEED, OPT_ACROSS,
	OPT_OTLP, OPT_OTLP_ENDPOINT, OPT_OTLP_PROTOCOL, OPT_OTLP_COMPRESSION, OPT_OTLP_HEADERS,
	OPT_OTLP_CERTIFICATE, OPT_OTLP_CLIENT_CERTIFICATE, OPT_OTLP_CLIENT_KEY,
	OPT_OTLP_TIMEOUT, OPT_OTLP_OPS, OPT_SERVICE_NAME, OPT_SAMPLE, OPT_SLOW_THRESHOLD,
	OPT_OTLP_BATCH, OPT_OTLP_QUEUE, OPT_OTLP_DELAY, OPT_OTLP_FLUSH_TIMEOUT, OPT_OTLP_TAIL_BUFFER,
	OPT_PER_EVENT, OPT_LIB, OPT_PYTHON, OPT_OTLP_METRICS, OPT_OTLP_METRICS_INTERVAL,
	OPT_OTLP_METRICS_TEMPORALITY, OPT_OTLP_METRICS_HISTOGRAM, OPT_WEB_CONFIG, OPT_HTML,
	OPT_NO_YIELD,
};

/* The OTLP connection options (attach, run, monitor): where and how requests go. */
#define ARGS_OTLP_CONNECTION_OPTIONS(g)                                                           \
	{ "otlp-endpoint", OPT_OTLP_ENDPOINT, "URL", 0,                                           \
	  "Collector base URL; /v1/traces and /v1/metrics are appended (grpc: its scheme, host "  \
	  "and port, 4317 if none)", g },                                                         \
	{ "otlp-protocol", OPT_OTLP_PROTOCOL, "PROTO", 0,                                         \
	  "http/protobuf (default), http/json or grpc", g },                                      \
	{ "otlp-compression", OPT_OTLP_COMPRESSION, "C", 0, "gzip or none (default)", g },        \
	{ "otlp-headers", OPT_OTLP_HEADERS, "LIST", 0,                                            \
	  "Request headers, key=value,... (added to OTEL_EXPORTER_OTLP_HEADERS)", g },            \
	{ "otlp-timeout", OPT_OTLP_TIMEOUT, "DUR", 0, "Per-request timeout (default 10s)", g },   \
	{ "otlp-certificate", OPT_OTLP_CERTIFICATE, "FILE", 0,                                    \
	  "CA certificates (PEM) to verify an https:// collector with (default "                  \
	  "OTEL_EXPORTER_OTLP_CERTIFICATE, else the system's)", g },                              \
	{ "otlp-client-certificate", OPT_OTLP_CLIENT_CERTIFICATE, "FILE", 0,                      \
	  "Client certificate (PEM) for mutual TLS (default "                                     \
	  "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)", g },                                          \
	{ "otlp-client-key", OPT_OTLP_CLIENT_KEY, "FILE", 0,                                      \
	  "Its private key (PEM) (default OTEL_EXPORTER_OTLP_CLIENT_KEY)", g },                   \
	{ "service-name", OPT_SERVICE_NAME, "NAME", 0,                                            \
	  "service.name of the resource (default OTEL_SERVICE_NAME, else "                        \
	  "unknown_service:<executable>)", g },                                                   \
	{ "otlp-flush-timeout", OPT_OTLP_FLUSH_TIMEOUT, "DUR", 0,                                 \
	  "At exit, stop sending after this long; what is left is counted (default 5s)", g }

/* The OTLP metrics options (attach, run, monitor). */
#define ARGS_OTLP_METRICS_OPTIONS(g)                                                              \
	{ "otlp-metrics", OPT_OTLP_METRICS, NULL, 0,                                              \
	  "Send the duration and wait-time histograms and the loss counters to an OpenTelemetry " \
	  "collector every interval and at exit (default http://localhost:4318/v1/metrics; also " \
	  "OTEL_METRICS_EXPORTER=otlp)", g },                                                     \
	{ "otlp-metrics-interval", OPT_OTLP_METRICS_INTERVAL, "DUR", 0,                           \
	  "Between metric exports (default OTEL_METRIC_EXPORT_INTERVAL, else 60s)", g },          \
	{ "otlp-metrics-temporality", OPT_OTLP_METRICS_TEMPORALITY, "TEMPORALITY", 0,             \
	  "cumulative or delta (default OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else " \
	  "cumulative)", g },                                                                     \
	{ "otlp-metrics-histogram", OPT_OTLP_METRICS_HISTOGRAM, "HISTOGRAM", 0,                   \
	  "exponential (default: every bucket of perfbpf's histograms, scale 7) or explicit "     \
	  "(bounds at 2^k and 1.5*2^k ns, for backends without exponential histograms)", g }

/* The OTLP options' values (any OPT_OTLP_*, --service-name, --sample, --slow-threshold), or
 * ARGP_ERR_UNKNOWN. */
error_t args__otlp(int key, char *arg, struct argp_state *st);
/* At the end of parsing: the span and metric export settings, flags over OTEL_* variables. */
void args__resolve_otlp(struct argp_state *st);

/* One line naming the problem and '--help', then exit(2): argp runs with ARGP_NO_ERRS, so every
 * usage error of every parser is reported here. */
__attribute__((format(printf, 2, 3), noreturn))
void args__usage_error(struct argp_state *st, const char *fmt, ...);
/* "invalid value ARG for OPT: expected WANT", then exit(2). */
__attribute__((noreturn))
void args__bad_value(struct argp_state *st, const char *opt, const char *arg, const char *want);
/* getopt found an unknown option or a missing value: names the word it stopped at; exit(2). */
__attribute__((noreturn))
void args__bad_option(struct argp_state *st);
/* A positive duration (2ms, 500us, 10s), or exit(2). */
uint64_t args__duration(struct argp_state *st, const char *opt, const char *arg);
/* A whole number from 1 to 100000000, or exit(2). */
uint64_t args__count(struct argp_state *st, const char *opt, const char *arg);
/* The options several commands share (report columns and unit, outputs, sizes, -v, -q). */
error_t args__common(int key, char *arg, struct argp_state *st);

/* Each command's argp, defined in user/cli/options_<command>.c. */
extern const struct argp options_trace__attach_argp, options_trace__run_argp;
extern const struct argp options_monitor__argp, options_gate__argp, options_list__argp;
extern const struct argp options_report__argp;

#endif
