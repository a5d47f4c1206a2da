/* SPDX-License-Identifier: BSD-2-Clause */
/* The test OTLP receiver (tests/otlp/receiver.js: every request decoded with the OpenTelemetry
 * project's generated decoder) as the integration tests start, stop and read it. */
#ifndef PERFBPF_TEST_OTLP_RECEIVER_H
#define PERFBPF_TEST_OTLP_RECEIVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct receiver {
	pid_t pid;
	int fd;
	char url[64];
	const char *out;
	bool grpc; /* an OTLP/gRPC receiver (set before receiver_start) */
	const char *tls; /* TLS with the certificates of this directory (receiver.js --tls) */
	bool mtls;       /* and a client certificate required */
};

/* The source tree's file rel (PERFBPF_SRC, else the current directory). */
const char *src_path(const char *rel);
/* Starts the receiver in `mode` (receiver.js --mode), keeping the first body in capture if
 * given; r->url is where it listens. */
void receiver_start(struct receiver *r, const char *mode, const char *capture);
void receiver_stop(struct receiver *r);

/* The group gate of tests that need the receiver (node and tests/otlp/node_modules): as
 * require_or_skip. */
int receiver_gate(size_t ntests);

/* Every request the receiver saw, in order. */
struct requests {
	struct json_object *v[256];
	size_t n;
};

void requests_load(const struct receiver *r, struct requests *q);
void requests_free(struct requests *q);
/* The spans of every request answered 200 (gRPC: status OK), in one array (borrowed
 * references). */
struct json_object *accepted_spans(struct requests *q);

#endif
