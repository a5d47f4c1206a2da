/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP over gRPC, the parts that are not HTTP/2 (libcurl's): the length-prefixed message
 * framing, the status a response carries in grpc-status / grpc-status-details-bin, and which
 * statuses the OTLP specification lets an exporter retry. Pure: no I/O. */
#ifndef PERFBPF_OTLP_GRPC_H
#define PERFBPF_OTLP_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/lib/protobuf_writer.h"

/* gRPC status codes (google.rpc.Code) an exporter tells apart. */
enum grpc_code {
	GRPC_OK = 0, GRPC_CANCELLED = 1, GRPC_UNKNOWN = 2, GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4, GRPC_RESOURCE_EXHAUSTED = 8, GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11, GRPC_UNIMPLEMENTED = 12, GRPC_INTERNAL = 13, GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15, GRPC_UNAUTHENTICATED = 16,
};

#define GRPC_FRAME_HDR 5 /* compressed flag (1 byte) and length (4 bytes, big-endian) */

/* out = one length-prefixed message: the flag (1: msg is compressed with the grpc-encoding)
 * and msg. 0 or -ENOMEM. */
int grpc__frame(const uint8_t *msg, size_t n, bool compressed, struct pb_buf *out);
/* The first message of a response body: *msg and *n its bytes; *compressed its flag. 0, or
 * -EBADMSG when the body is not one whole frame (an empty body is no message: *n = 0). */
int grpc__unframe(const uint8_t *body, size_t len, const uint8_t **msg, size_t *n,
		  bool *compressed);
/* The retry delay of a google.rpc.RetryInfo among the details of a grpc-status-details-bin
 * value (base64 of a google.rpc.Status); true if there is one. */
bool grpc__retry_info(const char *b64, uint64_t *delay_ns);
/* Whether the OTLP specification lets an export that got `code` be retried: CANCELLED,
 * DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only
 * when the server sent RetryInfo (recovery is possible). */
bool grpc__retryable(int code, bool has_retry_info);
/* The gRPC code an HTTP status without a grpc-status means (the gRPC HTTP/2 mapping). */
int grpc__code_of_http(long status);

#endif
