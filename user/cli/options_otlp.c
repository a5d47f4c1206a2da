// SPDX-License-Identifier: BSD-2-Clause
/* The OTLP export options of attach, run and monitor: spans (attach, run) and metrics, resolved
 * with the OTEL_* variables once every option is read. */
#include "user/cli/args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void span_option(struct otlp_flags *f)
{
	f->enabled = true;
	f->spans = true;
}

error_t args__otlp(int key, char *arg, struct argp_state *st)
{
	struct otlp_flags *f = &((struct cli_opts *)st->input)->otlp_flags;
	char *end;

	switch (key) {
	/* connection: shared by spans and metrics */
	case OPT_OTLP_ENDPOINT: f->endpoint = arg; break;
	case OPT_OTLP_PROTOCOL: f->protocol = arg; break;
	case OPT_OTLP_COMPRESSION: f->compression = arg; break;
	case OPT_OTLP_HEADERS: f->headers = arg; break;
	case OPT_OTLP_CERTIFICATE: f->certificate = arg; break;
	case OPT_OTLP_CLIENT_CERTIFICATE: f->client_certificate = arg; break;
	case OPT_OTLP_CLIENT_KEY: f->client_key = arg; break;
	case OPT_SERVICE_NAME:
		if (!*arg)
			args__bad_value(st, "--service-name", arg, "a name");
		f->service_name = arg;
		break;
	case OPT_OTLP_TIMEOUT: f->timeout_ns = args__duration(st, "--otlp-timeout", arg); break;
	case OPT_OTLP_FLUSH_TIMEOUT:
		f->flush_ns = args__duration(st, "--otlp-flush-timeout", arg);
		break;
	/* spans */
	case OPT_OTLP: span_option(f); break;
	case OPT_OTLP_OPS: f->ops = true; span_option(f); break;
	case OPT_SLOW_THRESHOLD:
		f->slow_ns = args__duration(st, "--slow-threshold", arg);
		span_option(f);
		break;
	case OPT_OTLP_DELAY:
		f->delay_ns = args__duration(st, "--otlp-delay", arg);
		span_option(f);
		break;
	case OPT_OTLP_BATCH: f->batch = args__count(st, "--otlp-batch", arg); span_option(f); break;
	case OPT_OTLP_QUEUE: f->queue = args__count(st, "--otlp-queue", arg); span_option(f); break;
	case OPT_OTLP_TAIL_BUFFER:
		f->tail_buffer = args__count(st, "--otlp-tail-buffer", arg);
		span_option(f);
		break;
	case OPT_SAMPLE:
		errno = 0;
		f->sample = strtod(arg, &end);
		if (errno || end == arg || *end || !(f->sample >= 0 && f->sample <= 1))
			args__bad_value(st, "--sample", arg, "a ratio from 0 to 1 such as 0.1");
		span_option(f);
		break;
	/* metrics */
	case OPT_OTLP_METRICS: f->metrics = true; break;
	case OPT_OTLP_METRICS_INTERVAL:
		f->metrics_interval_ns = args__duration(st, "--otlp-metrics-interval", arg);
		f->metrics = true;
		break;
	case OPT_OTLP_METRICS_TEMPORALITY: f->temporality = arg; f->metrics = true; break;
	case OPT_OTLP_METRICS_HISTOGRAM: f->histogram = arg; f->metrics = true; break;
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

/* OTEL_METRICS_EXPORTER names otlp (a comma-separated list, as the SDKs read it). */
static bool metrics_exporter_otlp(void)
{
	const char *v = getenv("OTEL_METRICS_EXPORTER");
	size_t n;

	while (v && *v) {
		v += strspn(v, " ,");
		n = strcspn(v, " ,");
		if (n == 4 && !strncmp(v, "otlp", 4))
			return true;
		v += n;
	}
	return false;
}

void args__resolve_otlp(struct argp_state *st)
{
	struct cli_opts *o = st->input;
	struct otlp_flags *f = &o->otlp_flags;
	char err[256];

	/* the monitor exports metrics only: its connection options mean metrics */
	if (metrics_exporter_otlp() || (o->cmd == CMD_MONITOR && f->enabled))
		f->metrics = true;
	/* attach, run: connection options alone mean spans, as before metrics existed; with
	 * --otlp-metrics they are the metrics' connection, and spans need --otlp */
	if (f->enabled && !f->metrics)
		f->spans = true;
	if (f->spans && otlp_config__resolve(f, OTLP_TRACES, env_value, &o->otlp, err, sizeof(err)))
		args__usage_error(st, "%s", err);
	if (f->metrics &&
	    otlp_config__resolve(f, OTLP_METRICS, env_value, &o->otlp_metrics, err, sizeof(err)))
		args__usage_error(st, "%s", err);
}
