/* SPDX-License-Identifier: BSD-2-Clause */
/* The monitor's HTTP endpoint (libmicrohttpd, its own thread): GET /metrics answers with what
 * the render callback writes. */
#ifndef PERFBPF_METRICS_SERVER_H
#define PERFBPF_METRICS_SERVER_H

#include <stdio.h>
#include <sys/socket.h>

#include "exporters/prometheus/prometheus.h"

struct metrics_server;

/* Writes the body of /metrics to f in the format the scraper asked for; 0 or -errno. Called from
 * the server's thread. */
typedef int (*metrics_render_fn)(void *ctx, enum prom_format fmt, FILE *f);

/* Listens on addr; NULL with a one-line message on failure (address in use, not local...). */
struct metrics_server *metrics_server__start(const struct sockaddr *addr, const char *display,
					     metrics_render_fn render, void *ctx);
void metrics_server__stop(struct metrics_server *s);

#endif
