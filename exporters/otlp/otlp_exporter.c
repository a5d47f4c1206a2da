// SPDX-License-Identifier: BSD-2-Clause
/* OTLP span export over HTTP or gRPC: bounded queue, batching thread, libcurl (HTTP/2 through
 * its nghttp2 for gRPC: cleartext with prior knowledge for http://, ALPN for https://), gzip,
 * retries.
 *
 * Retries follow the OTLP specification: over HTTP only 429, 502, 503 and 504 responses, over
 * gRPC only the statuses grpc__retryable names (RESOURCE_EXHAUSTED only with RetryInfo), and
 * failures to connect or to get an answer, with exponential backoff and jitter, or after the
 * delay the collector asked for (Retry-After, RetryInfo); anything else fails the batch. */
#include "exporters/otlp/otlp_exporter.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "exporters/otlp/otlp_encode.h"
#include "exporters/otlp/otlp_grpc.h"
#include "exporters/otlp/otlp_resource.h"
#include "user/lib/gzip.h"
#include "user/lib/util.h"

#define MAX_ATTEMPTS 6                  /* a batch is sent at most this often */
#define BACKOFF_FIRST_NS 250000000ull   /* then doubled per retry, with jitter of +-50% */
#define BACKOFF_MAX_NS 8000000000ull
#define RETRY_AFTER_MAX_S 60            /* a longer Retry-After is cut to this */
#define MAX_RESPONSE 65536              /* bytes of a response body kept */

struct otlp_exporter {
	const struct otlp_config *c;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* a span was queued, or shutdown began */
	struct otlp_span *head, *tail;                 /* traces */
	struct otlp_metrics_snapshot *waiting;         /* metrics: at most one snapshot waits */
	size_t queued;
	bool stopping;
	uint64_t deadline;     /* mono ns: when shutdown gives up on what is left */
	struct otlp_stats st;  /* under lock */
	/* the thread's own */
	CURL *curl;
	struct curl_slist *headers;
	struct pb_buf body, gz, resp, frame;
	uint64_t rng;
	const char *command;   /* names the resource's process when /proc no longer does */
	struct otlp_resource resource; /* metrics: built with the first snapshot */
	bool have_resource;
	struct otlp_metrics_snapshot *prev; /* metrics: the last snapshot sent (delta) */
	/* gRPC: what the response's headers and trailers said */
	int grpc_status;       /* -1: no grpc-status */
	char grpc_message[128];
	char grpc_details[1024]; /* grpc-status-details-bin, base64 */
	bool unreachable;      /* during shutdown: the collector could not be reached */
};

static void lock(struct otlp_exporter *x)
{
	pthread_mutex_lock(&x->lock);
}

static void unlock(struct otlp_exporter *x)
{
	pthread_mutex_unlock(&x->lock);
}

/* Waits on the condition until mono time t (or a signal); called with the lock held. */
static void wait_until(struct otlp_exporter *x, uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	pthread_cond_timedwait(&x->cond, &x->lock, &ts);
}

static double jitter(struct otlp_exporter *x)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return 0.5 + (double)(x->rng >> 11) / (double)(1ull << 53); /* [0.5, 1.5) */
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct pb_buf *b = ctx;
	size_t len = size * n, keep = len;

	if (b->n + keep > MAX_RESPONSE)
		keep = MAX_RESPONSE - b->n;
	if (keep) {
		uint8_t *q = realloc(b->p, b->n + keep);

		if (!q)
			return 0;
		b->p = q;
		memcpy(b->p + b->n, p, keep);
		b->n += keep;
	}
	return len;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* grpc-message is percent-encoded (the gRPC HTTP/2 protocol): decoded into out. */
static void percent_decode(const char *s, char *out, size_t cap)
{
	size_t k = 0;

	for (; *s && k + 1 < cap; s++) {
		int hi, lo;

		if (*s == '%' && (hi = hex_digit(s[1])) >= 0 && (lo = hex_digit(s[2])) >= 0) {
			out[k++] = (char)(hi << 4 | lo);
			s += 2;
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
}

/* gRPC's status, message and details, from the response headers or trailers (libcurl hands
 * HTTP/2 trailers to the header callback too). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_exporter *x = ctx;
	size_t len = size * n, k;
	char line[1100];

	k = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
	memcpy(line, p, k);
	while (k && (line[k - 1] == '\r' || line[k - 1] == '\n'))
		k--;
	line[k] = '\0';
	if (!strncasecmp(line, "grpc-status:", 12))
		x->grpc_status = atoi(line + 12);
	else if (!strncasecmp(line, "grpc-message:", 13))
		percent_decode(line + 13 + (line[13] == ' '), x->grpc_message,
			       sizeof(x->grpc_message));
	else if (!strncasecmp(line, "grpc-status-details-bin:", 24))
		snprintf(x->grpc_details, sizeof(x->grpc_details), "%s",
			 line + 24 + (line[24] == ' '));
	return len;
}

enum outcome { SENT, RETRY, FAILED };

/* The outcome of a gRPC call that got an HTTP response: its grpc-status (trailers, or the
 * headers of a trailers-only response), else what its HTTP status means. */
static enum outcome grpc_outcome(struct otlp_exporter *x, long http, long *retry_after_s,
				 char *err, size_t errlen)
{
	int code = x->grpc_status >= 0 ? x->grpc_status
		   : http == 200 ? GRPC_INTERNAL /* no status: a broken response */
				 : grpc__code_of_http(http);
	uint64_t delay = 0;
	bool info;

	if (code == GRPC_OK && http == 200)
		return SENT;
	info = grpc__retry_info(x->grpc_details[0] ? x->grpc_details : NULL, &delay);
	snprintf(err, errlen, "%s: gRPC status %d%s%s (HTTP %ld)", x->c->url, code,
		 x->grpc_message[0] ? ": " : "", x->grpc_message, http);
	if (!grpc__retryable(code, info))
		return FAILED;
	if (info && delay)
		*retry_after_s = delay / 1000000000ull >= RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
			       : (long)((delay + 999999999ull) / 1000000000ull);
	return RETRY;
}

/* One POST. Sets *status (HTTP, or 0 without a response) and *retry_after_s. */
static enum outcome post(struct otlp_exporter *x, const struct pb_buf *body, uint64_t timeout_ns,
			 long *status, long *retry_after_s, char *err, size_t errlen)
{
	curl_off_t ra = 0;
	CURLcode rc;

	x->resp.n = 0;
	x->grpc_status = -1;
	x->grpc_message[0] = x->grpc_details[0] = '\0';
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body->p);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->n);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ns / 1000000 ?: 1));
	rc = curl_easy_perform(x->curl);
	*status = 0;
	*retry_after_s = 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", x->c->url, curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2: case CURLE_HTTP2_STREAM: /* the connection went wrong: a new one */
			return RETRY;
		default:
			return FAILED;
		}
	}
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, status);
	if (x->c->protocol == OTLP_GRPC)
		return grpc_outcome(x, *status, retry_after_s, err, errlen);
	if (*status >= 200 && *status < 300)
		return SENT;
	snprintf(err, errlen, "%s: HTTP %ld", x->c->url, *status);
	if (*status == 429 || *status == 502 || *status == 503 || *status == 504) {
		if (curl_easy_getinfo(x->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			*retry_after_s = ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)ra;
		return RETRY;
	}
	return FAILED;
}

/* Sends the request encoded in x->body (rc: how its encoding went), carrying n spans or data
 * points, until it is delivered, refused, or its retries run out. */
static void send_body(struct otlp_exporter *x, int rc, size_t n)
{
	const struct otlp_config *c = x->c;
	struct pb_buf *body = &x->body;
	uint64_t backoff = BACKOFF_FIRST_NS;
	char err[sizeof(x->st.last_error)] = "";

	if (!rc && c->gzip) {
		ssize_t len = gzip__compress(body->p, body->n, Z_DEFAULT_COMPRESSION, &x->gz.p,
					     &x->gz.cap);

		rc = len < 0 ? (int)len : 0;
		x->gz.n = len < 0 ? 0 : (size_t)len;
		body = &x->gz;
	}
	if (!rc && c->protocol == OTLP_GRPC) {
		/* one length-prefixed message, compressed as grpc-encoding says */
		rc = grpc__frame(body->p, body->n, c->gzip, &x->frame);
		body = &x->frame;
	}
	if (rc) {
		lock(x);
		x->st.gave_up += n;
		snprintf(x->st.last_error, sizeof(x->st.last_error), "cannot encode a batch: %s",
			 strerror(-rc));
		unlock(x);
		return;
	}
	for (int attempt = 1;; attempt++) {
		uint64_t now = mono_ns(), timeout = c->timeout_ns, wait;
		long status, retry_after;
		enum outcome o;
		bool stopping;

		lock(x);
		stopping = x->stopping;
		if (stopping && x->deadline > now && x->deadline - now < timeout)
			timeout = x->deadline - now;
		x->st.requests++;
		if (attempt > 1)
			x->st.retries++;
		unlock(x);
		/* after a failed attempt, a new connection (a peer that answered an error may be
		 * closing the one it came on) */
		curl_easy_setopt(x->curl, CURLOPT_FRESH_CONNECT, attempt > 1 ? 1L : 0L);
		o = post(x, body, timeout, &status, &retry_after, err, sizeof(err));
		if (o == SENT) {
			int64_t rejected = 0;
			char msg[128];

			if (c->protocol == OTLP_GRPC) {
				const uint8_t *m;
				size_t mn;
				bool z;

				/* an answer we did not ask to be compressed is not read: the spans
				 * arrived */
				rc = grpc__unframe(x->resp.p, x->resp.n, &m, &mn, &z);
				rc = rc ?: z ? -EBADMSG
					     : otlp_decode_response_proto(m, mn, &rejected, msg,
									  sizeof(msg));
			} else {
				rc = c->protocol == OTLP_HTTP_JSON
					     ? otlp_decode_response_json(x->resp.p, x->resp.n,
									 &rejected, msg, sizeof(msg))
					     : otlp_decode_response_proto(x->resp.p, x->resp.n,
									  &rejected, msg, sizeof(msg));
			}
			if (rc || rejected < 0 || (uint64_t)rejected > n)
				rejected = 0; /* an unreadable answer to a 2xx: the spans arrived */
			lock(x);
			x->st.exported += n - (uint64_t)rejected;
			x->st.partial_rejected += (uint64_t)rejected;
			if (rejected)
				snprintf(x->st.last_error, sizeof(x->st.last_error),
					 "%s: %lld %s rejected: %s", c->url, (long long)rejected,
					 c->signal == OTLP_METRICS ? "data points" : "spans", msg);
			unlock(x);
			return;
		}
		wait = retry_after ? (uint64_t)retry_after * 1000000000ull
				   : (uint64_t)((double)backoff * jitter(x));
		backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
		lock(x);
		snprintf(x->st.last_error, sizeof(x->st.last_error), "%s", err);
		if (o == FAILED) {
			x->st.rejected += n;
			unlock(x);
			return;
		}
		now = mono_ns();
		/* at exit, a collector that cannot be reached is not waited for: exit stays prompt */
		if (attempt >= MAX_ATTEMPTS || (x->stopping && (now + wait >= x->deadline || !status))) {
			x->st.gave_up += n;
			if (x->stopping && !status)
				x->unreachable = true;
			unlock(x);
			return;
		}
		/* back off; shutdown does not cut the wait short, only the deadline does */
		while (mono_ns() < now + wait && !(x->stopping && mono_ns() >= x->deadline))
			wait_until(x, now + wait < x->deadline || !x->stopping ? now + wait
										: x->deadline);
		unlock(x);
	}
}

static void reset_body(struct otlp_exporter *x)
{
	x->body.n = 0;
	x->body.err = 0;
}

static void send_batch(struct otlp_exporter *x, struct otlp_span **spans, size_t n)
{
	reset_body(x);
	send_body(x, x->c->protocol == OTLP_HTTP_JSON
			     ? otlp_encode_json(spans, n, PERFBPF_VERSION, &x->body)
			     : otlp_encode_proto(spans, n, PERFBPF_VERSION, &x->body), n);
}

/* One snapshot's request (against the previous one, for delta temporality); the snapshot is
 * then the previous one, delivered or not, so that no delta is counted twice. */
static void send_metrics(struct otlp_exporter *x, struct otlp_metrics_snapshot *s)
{
	int rc = 0;

	if (!x->have_resource) {
		rc = otlp_resource__init(&x->resource, x->c, s->pid, x->command);
		x->have_resource = !rc;
	}
	reset_body(x);
	rc = rc ?: otlp_metrics_encode(s, x->prev, x->c, &x->resource,
				       x->c->protocol == OTLP_HTTP_JSON, &x->body);
	send_body(x, rc, otlp_metrics_snapshot__points(s));
	otlp_metrics_snapshot__free(x->prev);
	x->prev = s;
}

static void *run(void *arg)
{
	struct otlp_exporter *x = arg;
	const struct otlp_config *c = x->c;
	struct otlp_span **batch = calloc(c->batch, sizeof(*batch));
	uint64_t next = mono_ns() + c->delay_ns;

	lock(x);
	for (;;) {
		size_t n = 0;

		while (!x->stopping && x->queued < c->batch && mono_ns() < next)
			wait_until(x, next);
		if (x->stopping && (!x->queued || mono_ns() >= x->deadline || x->unreachable))
			break;
		next = mono_ns() + c->delay_ns;
		if (x->waiting) { /* metrics: a snapshot per request */
			struct otlp_metrics_snapshot *s = x->waiting;

			x->waiting = NULL;
			x->queued--;
			unlock(x);
			send_metrics(x, s);
			lock(x);
			continue;
		}
		while (batch && x->head && n < c->batch) {
			batch[n++] = x->head;
			x->head = x->head->next;
			x->queued--;
		}
		if (!x->head)
			x->tail = NULL;
		if (!n)
			continue;
		unlock(x);
		send_batch(x, batch, n);
		for (size_t i = 0; i < n; i++)
			otlp_span__free(batch[i]);
		lock(x);
	}
	/* what the flush timeout (or an unreachable collector) left behind */
	x->st.unsent_at_exit += x->waiting ? otlp_metrics_snapshot__points(x->waiting) : x->queued;
	otlp_span__free_list(x->head);
	otlp_metrics_snapshot__free(x->waiting);
	x->head = x->tail = NULL;
	x->waiting = NULL;
	x->queued = 0;
	unlock(x);
	free(batch);
	return NULL;
}

static int setup_curl(struct otlp_exporter *x)
{
	const struct otlp_config *c = x->c;
	char line[1024];

	x->curl = curl_easy_init();
	if (!x->curl)
		return -ENOMEM;
	if (c->protocol == OTLP_GRPC) {
		x->headers = curl_slist_append(NULL, "Content-Type: application/grpc");
		x->headers = curl_slist_append(x->headers, "TE: trailers");
		if (c->gzip)
			x->headers = curl_slist_append(x->headers, "grpc-encoding: gzip");
		/* no Expect: 100-continue on a gRPC call */
		x->headers = curl_slist_append(x->headers, "Expect:");
		curl_easy_setopt(x->curl, CURLOPT_HTTP_VERSION,
				 !strncmp(c->url, "https://", 8) ? (long)CURL_HTTP_VERSION_2TLS
								: (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		/* one connection per export call: libcurl 7.88 (Debian 12) sends a second call on
		 * a reused h2c connection that the peer never answers ("Error in the HTTP2
		 * framing layer", seen with grpc-js); a batch is hundreds of spans, so the
		 * handshake is a small part of it */
		curl_easy_setopt(x->curl, CURLOPT_FORBID_REUSE, 1L);
	} else {
		x->headers = curl_slist_append(NULL, c->protocol == OTLP_HTTP_JSON
							     ? "Content-Type: application/json"
							     : "Content-Type: application/x-protobuf");
		if (c->gzip)
			x->headers = curl_slist_append(x->headers, "Content-Encoding: gzip");
	}
	for (size_t i = 0; i < c->nheaders; i++) {
		snprintf(line, sizeof(line), "%s: %s", c->headers[i].name, c->headers[i].value);
		x->headers = curl_slist_append(x->headers, line);
	}
	x->headers = curl_slist_append(x->headers, "User-Agent: perfbpf/" PERFBPF_VERSION);
	if (!x->headers)
		return -ENOMEM;
	curl_easy_setopt(x->curl, CURLOPT_URL, c->url);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, &x->resp);
	curl_easy_setopt(x->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* TLS: the collector is always verified, against this CA bundle if one is given */
	if (c->ca_file)
		curl_easy_setopt(x->curl, CURLOPT_CAINFO, c->ca_file);
	if (c->client_cert) {
		curl_easy_setopt(x->curl, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(x->curl, CURLOPT_SSLKEY, c->client_key);
	}
	return 0;
}

struct otlp_exporter *otlp_exporter__new(const struct otlp_config *c, const char *command)
{
	struct otlp_exporter *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;

	if (!x) {
		pb_err("cannot start the OTLP export: out of memory");
		return NULL;
	}
	x->c = c;
	x->command = command;
	x->st.url = c->url;
	x->rng = mono_ns() | 1;
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || setup_curl(x)) {
		pb_err("cannot start the OTLP export: libcurl could not be set up");
		otlp_exporter__free(x);
		return NULL;
	}
	if (pthread_create(&x->thread, NULL, run, x)) {
		pb_err("cannot start the OTLP export thread: %s", strerror(errno));
		otlp_exporter__free(x);
		return NULL;
	}
	x->started = true;
	return x;
}

void otlp_exporter__push(struct otlp_exporter *x, struct otlp_span *s)
{
	s->next = NULL;
	lock(x);
	if (x->queued >= x->c->queue || x->stopping) {
		x->st.queue_full++;
		unlock(x);
		otlp_span__free(s);
		return;
	}
	if (x->tail)
		x->tail->next = s;
	else
		x->head = s;
	x->tail = s;
	if (++x->queued == x->c->batch)
		pthread_cond_signal(&x->cond);
	unlock(x);
}

void otlp_exporter__push_metrics(struct otlp_exporter *x, struct otlp_metrics_snapshot *s)
{
	struct otlp_metrics_snapshot *old;

	lock(x);
	x->st.spans += otlp_metrics_snapshot__points(s);
	if (x->stopping) {
		x->st.queue_full += otlp_metrics_snapshot__points(s);
		unlock(x);
		otlp_metrics_snapshot__free(s);
		return;
	}
	/* one snapshot waits at most: a later one holds everything it held (series are cumulative,
	 * and a delta is taken against the last snapshot sent), so it replaces it */
	old = x->waiting;
	if (old)
		x->st.superseded += otlp_metrics_snapshot__points(old);
	x->waiting = s;
	x->queued = 1;
	pthread_cond_signal(&x->cond);
	unlock(x);
	otlp_metrics_snapshot__free(old);
}

void otlp_exporter__shutdown(struct otlp_exporter *x)
{
	if (!x || !x->started)
		return;
	lock(x);
	x->stopping = true;
	x->deadline = mono_ns() + x->c->flush_ns;
	pthread_cond_signal(&x->cond);
	unlock(x);
	pthread_join(x->thread, NULL);
	x->started = false;
}

void otlp_exporter__stats(struct otlp_exporter *x, struct otlp_stats *out)
{
	lock(x);
	out->url = x->st.url;
	out->spans += x->st.spans;
	out->superseded += x->st.superseded;
	out->exported += x->st.exported;
	out->queue_full += x->st.queue_full;
	out->rejected += x->st.rejected;
	out->partial_rejected += x->st.partial_rejected;
	out->gave_up += x->st.gave_up;
	out->unsent_at_exit += x->st.unsent_at_exit;
	out->requests += x->st.requests;
	out->retries += x->st.retries;
	if (x->st.last_error[0])
		memcpy(out->last_error, x->st.last_error, sizeof(out->last_error));
	unlock(x);
}

void otlp_exporter__free(struct otlp_exporter *x)
{
	if (!x)
		return;
	otlp_exporter__shutdown(x);
	otlp_span__free_list(x->head);
	otlp_metrics_snapshot__free(x->waiting);
	otlp_metrics_snapshot__free(x->prev);
	if (x->have_resource)
		otlp_resource__fini(&x->resource);
	curl_slist_free_all(x->headers);
	if (x->curl)
		curl_easy_cleanup(x->curl);
	curl_global_cleanup();
	pb_buf__free(&x->body);
	pb_buf__free(&x->gz);
	pb_buf__free(&x->resp);
	pb_buf__free(&x->frame);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	free(x);
}
