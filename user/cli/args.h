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
#define DEFAULT_RING_SIZE (16ull << 20)
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
	OPT_PER_EVENT, OPT_LIB, OPT_PYTHON,
};

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

#endif
