/* SPDX-License-Identifier: BSD-2-Clause */
/* The monitor's HTTP endpoint (libmicrohttpd, its own thread): GET /metrics answers with what
 * the render callback writes; with a web configuration (web_config.h), over TLS (GnuTLS),
 * client certificates verified, and basic authentication. */
#ifndef PERFBPF_METRICS_SERVER_H
#define PERFBPF_METRICS_SERVER_H

#include <stdio.h>
#include <sys/socket.h>

#include "exporters/prometheus/prometheus.h"
#include "exporters/prometheus/web_config.h"

struct metrics_server;

/* Writes the body of /metrics to f in the format the scraper asked for; 0 or -errno. Called from
 * the server's thread. */
typedef int (*metrics_render_fn)(void *ctx, enum prom_format fmt, FILE *f);

/* Listens on addr, with the web configuration if not NULL (it must outlive the server); NULL
 * with a one-line message on failure (address in use, not local, a key that does not load...). */
struct metrics_server *metrics_server__start(const struct sockaddr *addr, const char *display,
					     struct web_config *web, metrics_render_fn render,
					     void *ctx);
void metrics_server__stop(struct metrics_server *s);

#endif
