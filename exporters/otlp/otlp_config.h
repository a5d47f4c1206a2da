/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP export settings: the command-line flags over the standard OTEL_* environment variables
 * over the defaults. */
#ifndef PERFBPF_OTLP_CONFIG_H
#define PERFBPF_OTLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporters/otlp/otlp_span.h"

enum otlp_protocol { OTLP_HTTP_PROTOBUF, OTLP_HTTP_JSON, OTLP_GRPC };
enum otlp_sampler { OTLP_ALWAYS_ON, OTLP_ALWAYS_OFF, OTLP_TRACEIDRATIO };
/* What an export carries: its URL path or gRPC service, and which OTEL_EXPORTER_OTLP_<SIGNAL>_*
 * variables apply. */
enum otlp_signal { OTLP_TRACES, OTLP_METRICS };

/* What the command line said; NULL / 0 / negative: not given. */
struct otlp_flags {
	bool enabled;            /* any OTLP option */
	bool spans;              /* --otlp, a span option, or connection options alone */
	bool ops;                /* --otlp-ops: ops become spans too */
	const char *endpoint;    /* --otlp-endpoint: base URL, /v1/traces appended (gRPC: the
				  * service's method path instead, port 4317 if none) */
	const char *protocol;    /* --otlp-protocol */
	const char *compression; /* --otlp-compression */
	const char *headers;     /* --otlp-headers k=v,... */
	const char *certificate; /* --otlp-certificate: CA bundle to verify the collector with */
	const char *client_certificate, *client_key; /* --otlp-client-*: mutual TLS */
	const char *service_name;/* --service-name */
	double sample;           /* --sample RATIO; < 0: not given */
	uint64_t timeout_ns;     /* --otlp-timeout */
	uint64_t slow_ns;        /* --slow-threshold */
	uint64_t delay_ns;       /* --otlp-delay */
	uint64_t flush_ns;       /* --otlp-flush-timeout */
	uint64_t batch, queue, tail_buffer;
	/* metrics */
	bool metrics;               /* --otlp-metrics */
	uint64_t metrics_interval_ns; /* --otlp-metrics-interval */
	const char *temporality;    /* --otlp-metrics-temporality cumulative|delta */
	const char *histogram;      /* --otlp-metrics-histogram exponential|explicit */
};

struct otlp_header {
	char *name, *value;
};

struct otlp_config {
	enum otlp_signal signal;
	char *url;                /* where requests go: .../v1/traces; gRPC: scheme://host:port
				   * then the TraceService/Export method's path */
	enum otlp_protocol protocol;
	bool gzip;
	struct otlp_header *headers;
	size_t nheaders;
	char *ca_file;            /* NULL: the system's CA store */
	char *client_cert, *client_key; /* NULL: no client certificate */
	uint64_t timeout_ns;      /* per request */
	char *service_name;       /* NULL: unknown_service:<executable name> */
	struct otlp_attrs resource; /* OTEL_RESOURCE_ATTRIBUTES */
	enum otlp_sampler sampler;
	double ratio;             /* OTLP_TRACEIDRATIO */
	uint64_t slow_ns;         /* 0: no tail rule */
	bool ops;
	size_t batch, queue, tail_buffer;
	uint64_t delay_ns, flush_ns;
	/* OTLP_METRICS */
	uint64_t interval_ns;     /* between exports (OTEL_METRIC_EXPORT_INTERVAL) */
	bool delta;               /* delta temporality, else cumulative */
	bool explicit_buckets;    /* explicit-bucket histograms, else exponential */
};

typedef const char *(*otlp_getenv_fn)(const char *name);

/* Resolves the settings of one signal's export. An invalid environment value is warned about
 * and ignored, as the OpenTelemetry specification asks; an invalid flag value is an error: 0, or
 * -EINVAL with a one-line reason in err. */
int otlp_config__resolve(const struct otlp_flags *f, enum otlp_signal signal, otlp_getenv_fn env,
			 struct otlp_config *c, char *err, size_t errlen);
void otlp_config__free(struct otlp_config *c);

/* Parses "k=v,k2=v2" with percent-encoded keys and values (W3C baggage style, as the OTEL_*
 * variables use). Appends to headers and/or attrs. 0 or -EINVAL. */
int otlp_parse_pairs(const char *s, struct otlp_header **headers, size_t *nheaders,
		     struct otlp_attrs *attrs);

#endif
