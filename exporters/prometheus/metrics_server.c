// SPDX-License-Identifier: BSD-2-Clause
/* The monitor's HTTP endpoint, served by libmicrohttpd (see metrics_server.h). */
#include "exporters/prometheus/metrics_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "exporters/prometheus/prometheus.h"
#include "user/lib/gzip.h"
#include "user/lib/util.h"

struct metrics_server {
	struct MHD_Daemon *d;
	struct web_config *web; /* NULL: plain HTTP, no authentication */
	metrics_render_fn render;
	void *ctx;
	size_t last_len; /* the previous body's size: the next one's first allocation */
};

/* A response body written through stdio into one growing buffer (allocated at the previous
 * body's size: a scrape of 10,000 keys is tens of MB, which open_memstream would grow and
 * zero-fill step by step). */
struct body {
	char *p;
	size_t n, cap;
};

static ssize_t body_write(void *cookie, const char *buf, size_t len)
{
	struct body *b = cookie;

	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->n + len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			errno = ENOMEM;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, buf, len);
	b->n += len;
	return (ssize_t)len;
}

static const char INDEX[] = "perfbpf monitor: metrics at /metrics\n";
static const char NOT_FOUND[] = "not found: perfbpf serves /metrics\n";
static const char FAILED[] = "perfbpf could not render the metrics\n";

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char UNAUTHORIZED[] = "perfbpf: authentication required\n";

/* The peer's certificate: verified against the client CA when one is presented; none is
 * acceptable unless `required`. */
static bool peer_ok(gnutls_session_t tls, bool required)
{
	unsigned status = 0, n = 0;

	if (!gnutls_certificate_get_peers(tls, &n) || !n)
		return !required;
	return gnutls_certificate_verify_peers2(tls, &status) == GNUTLS_E_SUCCESS && !status;
}

/* The client's certificate, as the web configuration asks (the handshake checked it already:
 * this holds for every request of the connection too). */
static bool client_ok(struct metrics_server *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	if (!s->web->cert_pem || s->web->client_auth == WEB_NO_CLIENT_CERT)
		return true;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci && ci->tls_session &&
	       peer_ok(ci->tls_session, s->web->client_auth == WEB_REQUIRE_AND_VERIFY);
}

/* Basic authentication, when the web configuration has users: 401 (with WWW-Authenticate)
 * unless the request's user and password match. */
static bool authorized(struct metrics_server *s, struct MHD_Connection *c, enum MHD_Result *ret)
{
	char *pass = NULL, *user;
	bool ok;
	struct MHD_Response *r;

	if (!s->web->nusers)
		return true;
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = user && web_config__check_password(s->web, user, pass);
	MHD_free(user);
	MHD_free(pass);
	if (ok)
		return true;
	r = MHD_create_response_from_buffer(strlen(UNAUTHORIZED), (void *)UNAUTHORIZED,
					    MHD_RESPMEM_PERSISTENT);
	*ret = r ? MHD_queue_basic_auth_fail_response(c, "perfbpf", r) : MHD_NO;
	if (r)
		MHD_destroy_response(r);
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_ctx)
{
	struct metrics_server *s = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	enum prom_format fmt;
	struct body body = { 0 };
	FILE *f;
	int err, gz;

	(void)version;
	(void)upload;
	(void)req_ctx;
	/* a client certificate that does not verify: the connection is closed, unanswered */
	if (s->web && !client_ok(s, c))
		return MHD_NO;
	if (s->web && !authorized(s, c, &ret))
		return ret;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (*upload_size)
		return MHD_NO;
	if (!strcmp(url, "/"))
		return reply_static(c, MHD_HTTP_OK, INDEX);
	if (strcmp(url, "/metrics"))
		return reply_static(c, MHD_HTTP_NOT_FOUND, NOT_FOUND);
	fmt = prometheus__negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT));
	body.cap = s->last_len + s->last_len / 8;
	if (body.cap && !(body.p = malloc(body.cap)))
		body.cap = 0;
	f = fopencookie(&body, "w", (cookie_io_functions_t){ .write = body_write });
	if (!f) {
		free(body.p);
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, FAILED);
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	err = s->render(s->ctx, fmt, f);
	if (fclose(f) || err) {
		free(body.p);
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, FAILED);
	}
	s->last_len = body.n;
	/* what every Prometheus server asks for: the text of 10,000 keys shrinks ~30 times, for
	 * ~5 ms of CPU per MB here (level 1) */
	gz = gzip__accepted(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (gz) {
		uint8_t *z = NULL;
		size_t zcap = 0;
		ssize_t zlen = gzip__compress(body.p, body.n, 1, &z, &zcap);

		free(body.p);
		if (zlen < 0) {
			free(z);
			return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, FAILED);
		}
		body.p = (char *)z;
		body.n = (size_t)zlen;
	}
	r = MHD_create_response_from_buffer(body.n, body.p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body.p);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, prometheus__content_type(fmt));
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* During the handshake: a client certificate the CA did not sign ends it. */
static int verify_during_handshake(gnutls_session_t tls)
{
	/* none given: GNUTLS_CERT_REQUIRE decides */
	return peer_ok(tls, false) ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

/* Client certificates (VerifyClientCertIfGiven, RequireAndVerifyClientCert): the TLS handshake
 * itself fails with one the CA did not sign, and, when one is required, without one. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_server *s = cls;
	const union MHD_ConnectionInfo *ci;

	(void)socket_ctx;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED || s->web->client_auth == WEB_NO_CLIENT_CERT)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return;
	if (s->web->client_auth == WEB_REQUIRE_AND_VERIFY)
		gnutls_certificate_server_set_request(ci->tls_session, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_function(ci->tls_session, verify_during_handshake);
}

struct metrics_server *metrics_server__start(const struct sockaddr *addr, const char *display,
					     struct web_config *web, metrics_render_fn render,
					     void *ctx)
{
	struct metrics_server *s = calloc(1, sizeof(*s));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	struct MHD_OptionItem tls[8];
	size_t n = 0;

	if (!s)
		return NULL;
	s->render = render;
	s->ctx = ctx;
	s->web = web;
	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (web && web->cert_pem) {
		flags |= MHD_USE_TLS;
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, web->key_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, web->priorities };
		if (web->ca_pem)
			tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
							    web->ca_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
						    (intptr_t)on_connection, s };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	/* port 0 in MHD_start_daemon: the address option carries the port */
	s->d = MHD_start_daemon(flags, 1, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_ARRAY, tls,
				MHD_OPTION_END);
	if (!s->d) {
		int e = errno;

		pb_err("cannot serve metrics on %s: %s", display,
		       web && web->cert_pem ? "the address is in use, or the TLS certificate, key or "
					      "CA does not load"
		       : e ? strerror(e) : "the address is in use or not local");
		free(s);
		return NULL;
	}
	return s;
}

void metrics_server__stop(struct metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
