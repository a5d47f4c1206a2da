// SPDX-License-Identifier: BSD-2-Clause
/* OTLP export settings from flags, OTEL_* variables and defaults. */
#include "exporters/otlp/otlp_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "user/lib/util.h"

#define DEFAULT_ENDPOINT "http://localhost:4318"
#define DEFAULT_GRPC_ENDPOINT "http://localhost:4317"
#define DEFAULT_TIMEOUT_NS 10000000000ull    /* OTEL_EXPORTER_OTLP_TIMEOUT default: 10 s */
/* Batching: OpenTelemetry's batch span processor defaults are 512 per batch and a 2048-span
 * queue flushed every 5 s. perfbpf sees a whole engine's bursts from outside, so it keeps a
 * deeper queue and sends sooner; OTEL_BSP_* still apply. */
#define DEFAULT_BATCH 512
#define DEFAULT_QUEUE 65536
#define DEFAULT_DELAY_NS 1000000000ull
#define DEFAULT_FLUSH_NS 5000000000ull
#define DEFAULT_TAIL_BUFFER 65536
/* Metrics: OTEL_METRIC_EXPORT_INTERVAL's default; a snapshot per request, one waiting */
#define DEFAULT_INTERVAL_NS 60000000000ull
#define METRICS_QUEUE 1

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) with surrounding blanks trimmed; NULL on a bad escape or no memory. */
static char *decode(const char *s, size_t n)
{
	char *out, *o;

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	out = o = malloc(n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int otlp_parse_pairs(const char *s, struct otlp_header **headers, size_t *nheaders,
		     struct otlp_attrs *attrs)
{
	while (*s) {
		const char *end = strchr(s, ','), *eq;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char *k = NULL, *v = NULL;
		int err = -EINVAL;

		eq = memchr(s, '=', len);
		if (eq) {
			k = decode(s, (size_t)(eq - s));
			v = decode(eq + 1, len - (size_t)(eq - s) - 1);
		}
		if (k && v && *k) {
			err = 0;
			if (attrs)
				err = otlp_attrs__set_str(attrs, k, v);
			if (!err && headers) {
				struct otlp_header *h = realloc(*headers, (*nheaders + 1) * sizeof(*h));

				if (h) {
					*headers = h;
					h[(*nheaders)++] = (struct otlp_header){ k, v };
					k = v = NULL;
				} else {
					err = -ENOMEM;
				}
			}
		}
		free(k);
		free(v);
		if (err)
			return err;
		if (!end)
			break;
		s = end + 1;
	}
	return 0;
}

/* The first of the variables that is set and not empty. */
static const char *env2(otlp_getenv_fn env, const char *specific, const char *general)
{
	const char *v = env(specific);

	if (v && *v)
		return v;
	v = general ? env(general) : NULL;
	return v && *v ? v : NULL;
}

static int parse_protocol(const char *s, enum otlp_protocol *p)
{
	if (!strcmp(s, "http/protobuf"))
		*p = OTLP_HTTP_PROTOBUF;
	else if (!strcmp(s, "http/json"))
		*p = OTLP_HTTP_JSON;
	else if (!strcmp(s, "grpc"))
		*p = OTLP_GRPC;
	else
		return -EINVAL;
	return 0;
}

static int parse_compression(const char *s, bool *gzip)
{
	if (!strcmp(s, "gzip"))
		*gzip = true;
	else if (!strcmp(s, "none"))
		*gzip = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_sampler(const char *s, enum otlp_sampler *out)
{
	/* perfbpf's traces start in the engine and have no remote parent: a parent-based sampler
	 * decides every trace by its root sampler. */
	if (!strncmp(s, "parentbased_", 12))
		s += 12;
	if (!strcmp(s, "always_on"))
		*out = OTLP_ALWAYS_ON;
	else if (!strcmp(s, "always_off"))
		*out = OTLP_ALWAYS_OFF;
	else if (!strcmp(s, "traceidratio"))
		*out = OTLP_TRACEIDRATIO;
	else
		return -EINVAL;
	return 0;
}

static int parse_ratio(const char *s, double *r)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1))
		return -EINVAL;
	*r = v;
	return 0;
}

/* Milliseconds (the OTEL_* convention) from the environment into *ns; ignored with a warning
 * when malformed. */
static void env_ms(otlp_getenv_fn env, const char *name, uint64_t *ns)
{
	const char *v = env(name);
	uint64_t ms;

	if (!v || !*v)
		return;
	if (parse_u64(v, 0, UINT64_MAX / 1000000, &ms)) {
		pb_warn("%s=%s is not a number of milliseconds; ignored", name, v);
		return;
	}
	*ns = ms * 1000000;
}

static void env_count(otlp_getenv_fn env, const char *name, size_t *out)
{
	const char *v = env(name);
	uint64_t n;

	if (!v || !*v)
		return;
	if (parse_u64(v, 1, 100000000, &n)) {
		pb_warn("%s=%s is not a positive count; ignored", name, v);
		return;
	}
	*out = (size_t)n;
}

static const char *const SIGNAL_PATH[] = { "/v1/traces", "/v1/metrics" };
static const char *const GRPC_METHOD[] = {
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
};
static const char *const SIGNAL_NAME[] = { "TRACES", "METRICS" };

/* Base endpoint -> the signal's URL: /v1/traces or /v1/metrics appended to the path. */
static char *signal_url(const char *base, enum otlp_signal sig)
{
	size_t n = strlen(base);
	char *url;

	if (n && base[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s%s", (int)n, base, SIGNAL_PATH[sig]) < 0)
		return NULL;
	return url;
}

/* Endpoint -> gRPC URL: scheme and authority (port 4317 when it names none), the path replaced
 * by the signal service's Export method. */
static char *grpc_url(const char *base, enum otlp_signal sig)
{
	const char *auth = strstr(base, "://") + 3, *end = auth + strcspn(auth, "/?#");
	const char *close = memchr(auth, ']', (size_t)(end - auth)); /* [IPv6] */
	const char *colon = memchr(close ? close : auth, ':', (size_t)(end - (close ? close : auth)));
	char *url;

	if (asprintf(&url, "%.*s%s%s", (int)(end - base), base, colon ? "" : ":4317",
		     GRPC_METHOD[sig]) < 0)
		return NULL;
	return url;
}

/* OTEL_EXPORTER_OTLP_<SIGNAL>_<what>, in buf. */
static const char *signal_var(enum otlp_signal sig, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "OTEL_EXPORTER_OTLP_%s_%s", SIGNAL_NAME[sig], what);
	return buf;
}

static bool is_http_url(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

static int parse_temporality(const char *s, bool *delta)
{
	/* lowmemory: delta for counters and histograms, which are all perfbpf exports */
	if (!strcasecmp(s, "cumulative"))
		*delta = false;
	else if (!strcasecmp(s, "delta") || !strcasecmp(s, "lowmemory"))
		*delta = true;
	else
		return -EINVAL;
	return 0;
}

static int parse_histogram(const char *s, bool *explicit_buckets)
{
	if (!strcmp(s, "base2_exponential_bucket_histogram") || !strcmp(s, "exponential"))
		*explicit_buckets = false;
	else if (!strcmp(s, "explicit_bucket_histogram") || !strcmp(s, "explicit"))
		*explicit_buckets = true;
	else
		return -EINVAL;
	return 0;
}

/* The metrics-only settings. */
static int resolve_metrics(const struct otlp_flags *f, otlp_getenv_fn env, struct otlp_config *c,
			   char *err, size_t errlen)
{
	const char *v;

	c->interval_ns = DEFAULT_INTERVAL_NS;
	c->batch = 1;
	c->queue = METRICS_QUEUE;
	env_ms(env, "OTEL_METRIC_EXPORT_INTERVAL", &c->interval_ns);
	if (!c->interval_ns) {
		pb_warn("OTEL_METRIC_EXPORT_INTERVAL=0 is not an interval; using 60000");
		c->interval_ns = DEFAULT_INTERVAL_NS;
	}
	if (f->metrics_interval_ns)
		c->interval_ns = f->metrics_interval_ns;
	v = env2(env, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", NULL);
	if (v && parse_temporality(v, &c->delta))
		pb_warn("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=%s is not cumulative, "
			"delta or lowmemory; using cumulative", v);
	if (f->temporality && parse_temporality(f->temporality, &c->delta)) {
		say(err, errlen, "invalid value '%s' for --otlp-metrics-temporality: expected "
		    "cumulative or delta", f->temporality);
		return -EINVAL;
	}
	/* perfbpf's default is exponential (the buckets of its histograms); the variable can ask
	 * for explicit buckets, for backends without exponential histograms */
	v = env2(env, "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", NULL);
	if (v && parse_histogram(v, &c->explicit_buckets))
		pb_warn("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=%s is not "
			"explicit_bucket_histogram or base2_exponential_bucket_histogram; ignored", v);
	if (f->histogram && parse_histogram(f->histogram, &c->explicit_buckets)) {
		say(err, errlen, "invalid value '%s' for --otlp-metrics-histogram: expected "
		    "exponential or explicit", f->histogram);
		return -EINVAL;
	}
	return 0;
}

int otlp_config__resolve(const struct otlp_flags *f, enum otlp_signal signal, otlp_getenv_fn env,
			 struct otlp_config *c, char *err, size_t errlen)
{
	char var[96], var2[96];
	const char *v;

	memset(c, 0, sizeof(*c));
	c->signal = signal;
	c->protocol = OTLP_HTTP_PROTOBUF;
	c->timeout_ns = DEFAULT_TIMEOUT_NS;
	c->sampler = OTLP_ALWAYS_ON;
	c->ratio = 1;
	c->batch = DEFAULT_BATCH;
	c->queue = DEFAULT_QUEUE;
	c->delay_ns = DEFAULT_DELAY_NS;
	c->flush_ns = DEFAULT_FLUSH_NS;
	c->tail_buffer = DEFAULT_TAIL_BUFFER;
	c->ops = f->ops;

	v = env2(env, signal_var(signal, "PROTOCOL", var, sizeof(var)), "OTEL_EXPORTER_OTLP_PROTOCOL");
	if (v && parse_protocol(v, &c->protocol))
		pb_warn("OTLP protocol '%s' is not supported (http/protobuf, http/json or grpc); "
			"using http/protobuf", v);
	if (f->protocol && parse_protocol(f->protocol, &c->protocol)) {
		say(err, errlen, "invalid value '%s' for --otlp-protocol: expected http/protobuf, "
		    "http/json or grpc", f->protocol);
		goto bad;
	}

	/* endpoint: flag, then the signal's variable (used as given), then the general one; gRPC
	 * takes the scheme and authority of any of them (port 4317 by default) */
	if (f->endpoint) {
		if (!is_http_url(f->endpoint)) {
			say(err, errlen, "invalid value '%s' for --otlp-endpoint: expected an "
			    "http:// or https:// URL", f->endpoint);
			goto bad;
		}
		c->url = c->protocol == OTLP_GRPC ? grpc_url(f->endpoint, signal)
						  : signal_url(f->endpoint, signal);
	} else if ((v = env2(env, signal_var(signal, "ENDPOINT", var, sizeof(var)), NULL)) &&
		   is_http_url(v)) {
		c->url = c->protocol == OTLP_GRPC ? grpc_url(v, signal) : strdup(v);
	} else if ((v = env2(env, "OTEL_EXPORTER_OTLP_ENDPOINT", NULL)) && is_http_url(v)) {
		c->url = c->protocol == OTLP_GRPC ? grpc_url(v, signal) : signal_url(v, signal);
	} else {
		if (v)
			pb_warn("OTEL_EXPORTER_OTLP_ENDPOINT=%s is not an http(s) URL; ignored", v);
		c->url = c->protocol == OTLP_GRPC ? grpc_url(DEFAULT_GRPC_ENDPOINT, signal)
						  : signal_url(DEFAULT_ENDPOINT, signal);
	}
	if (!c->url)
		goto nomem;

	v = env2(env, signal_var(signal, "COMPRESSION", var, sizeof(var)),
		 "OTEL_EXPORTER_OTLP_COMPRESSION");
	if (v && parse_compression(v, &c->gzip))
		pb_warn("OTLP compression '%s' is not supported (gzip or none); ignored", v);
	if (f->compression && parse_compression(f->compression, &c->gzip)) {
		say(err, errlen, "invalid value '%s' for --otlp-compression: expected gzip or none",
		    f->compression);
		goto bad;
	}

	/* headers: both variables and the flag add up; a later name does not replace */
	if ((v = env2(env, "OTEL_EXPORTER_OTLP_HEADERS", NULL)) &&
	    otlp_parse_pairs(v, &c->headers, &c->nheaders, NULL))
		pb_warn("OTEL_EXPORTER_OTLP_HEADERS is not a list of key=value; ignored in part");
	if ((v = env2(env, signal_var(signal, "HEADERS", var, sizeof(var)), NULL)) &&
	    otlp_parse_pairs(v, &c->headers, &c->nheaders, NULL))
		pb_warn("%s is not a list of key=value; ignored in part", var);
	if (f->headers && otlp_parse_pairs(f->headers, &c->headers, &c->nheaders, NULL)) {
		say(err, errlen, "invalid value '%s' for --otlp-headers: expected key=value,...",
		    f->headers);
		goto bad;
	}

	/* TLS files: flag, then the signal's variable, then the general one; a file that cannot
	 * be read is an error (never a silent fall back to unverified or plain connections) */
	{
		static const char *const vars[3] = { "CERTIFICATE", "CLIENT_CERTIFICATE",
						     "CLIENT_KEY" };
		static const char *const flags[3] = { "--otlp-certificate", "--otlp-client-certificate",
						      "--otlp-client-key" };
		const char *given[3] = { f->certificate, f->client_certificate, f->client_key };
		char **dst[3] = { &c->ca_file, &c->client_cert, &c->client_key };

		for (int i = 0; i < 3; i++) {
			const char *p;

			snprintf(var2, sizeof(var2), "OTEL_EXPORTER_OTLP_%s", vars[i]);
			p = given[i] ? given[i]
				     : env2(env, signal_var(signal, vars[i], var, sizeof(var)), var2);
			if (!p)
				continue;
			if (access(p, R_OK)) {
				say(err, errlen, "%s %s: %s", given[i] ? flags[i] : var2, p,
				    strerror(errno));
				goto bad;
			}
			if (!(*dst[i] = strdup(p)))
				goto nomem;
		}
		if (!c->client_cert != !c->client_key) {
			say(err, errlen, "a client certificate needs its key and a key its certificate "
			    "(--otlp-client-certificate, --otlp-client-key)");
			goto bad;
		}
	}

	env_ms(env, "OTEL_EXPORTER_OTLP_TIMEOUT", &c->timeout_ns);
	env_ms(env, signal_var(signal, "TIMEOUT", var, sizeof(var)), &c->timeout_ns);
	if (f->timeout_ns)
		c->timeout_ns = f->timeout_ns;

	if ((v = env2(env, "OTEL_RESOURCE_ATTRIBUTES", NULL)) &&
	    otlp_parse_pairs(v, NULL, NULL, &c->resource))
		pb_warn("OTEL_RESOURCE_ATTRIBUTES is not a list of key=value; ignored in part");
	if (f->service_name)
		c->service_name = strdup(f->service_name);
	else if ((v = env2(env, "OTEL_SERVICE_NAME", NULL)))
		c->service_name = strdup(v);
	if ((f->service_name || v) && !c->service_name)
		goto nomem;

	if ((v = env2(env, "OTEL_TRACES_SAMPLER", NULL)) && parse_sampler(v, &c->sampler))
		pb_warn("OTEL_TRACES_SAMPLER=%s is not supported (always_on, always_off, "
			"traceidratio, parentbased_*); using always_on", v);
	if (c->sampler == OTLP_TRACEIDRATIO && (v = env2(env, "OTEL_TRACES_SAMPLER_ARG", NULL)) &&
	    parse_ratio(v, &c->ratio))
		pb_warn("OTEL_TRACES_SAMPLER_ARG=%s is not a ratio from 0 to 1; using 1", v);
	if (f->sample >= 0) {
		c->sampler = OTLP_TRACEIDRATIO;
		c->ratio = f->sample;
	}
	c->slow_ns = f->slow_ns;

	env_count(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &c->batch);
	env_count(env, "OTEL_BSP_MAX_QUEUE_SIZE", &c->queue);
	env_ms(env, "OTEL_BSP_SCHEDULE_DELAY", &c->delay_ns);
	if (f->batch)
		c->batch = (size_t)f->batch;
	if (f->queue)
		c->queue = (size_t)f->queue;
	if (f->delay_ns)
		c->delay_ns = f->delay_ns;
	if (f->flush_ns)
		c->flush_ns = f->flush_ns;
	if (f->tail_buffer)
		c->tail_buffer = (size_t)f->tail_buffer;
	if (c->batch > c->queue)
		c->batch = c->queue;
	if (signal == OTLP_METRICS && resolve_metrics(f, env, c, err, errlen))
		goto bad;
	return 0;
nomem:
	say(err, errlen, "out of memory");
bad:
	otlp_config__free(c);
	return -EINVAL;
}

void otlp_config__free(struct otlp_config *c)
{
	free(c->url);
	for (size_t i = 0; i < c->nheaders; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->headers);
	free(c->service_name);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	otlp_attrs__free(&c->resource);
	memset(c, 0, sizeof(*c));
}
