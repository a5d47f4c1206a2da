/* SPDX-License-Identifier: BSD-2-Clause */
/* OTLP trace payloads: an ExportTraceServiceRequest for a batch of spans in protobuf or in the
 * OTLP JSON mapping, and the partial-success part of the collector's response (traces and
 * metrics). */
#ifndef PERFBPF_OTLP_ENCODE_H
#define PERFBPF_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "exporters/otlp/otlp_span.h"
#include "user/lib/protobuf_writer.h"


/* The request for spans[0..n), grouped by resource in order of first appearance, each under the
 * instrumentation scope "perfbpf" of `version`. 0 or -ENOMEM. */
int otlp_encode_proto(struct otlp_span *const *spans, size_t n, const char *version,
		      struct pb_buf *out);
int otlp_encode_json(struct otlp_span *const *spans, size_t n, const char *version,
		     struct pb_buf *out);

/* The parts the metrics encoder shares: attributes as repeated KeyValue `field`, as a JSON
 * array; a JSON document into out (root is freed). */
void otlp_proto_attrs(struct pb_buf *b, unsigned field, const struct otlp_attrs *a);
struct json_object;
struct json_object *otlp_json_attrs(const struct otlp_attrs *a);
int otlp_json_finish(struct json_object *root, struct pb_buf *out);

/* Export{Trace,Metrics}ServiceResponse.partial_success (both have the same fields): what was
 * rejected (spans or data points) and the message (truncated to msg_len). 0, or -EBADMSG when
 * the body is not a response. An empty body is a full success. */
int otlp_decode_response_proto(const uint8_t *p, size_t n, int64_t *rejected, char *msg,
			       size_t msg_len);
int otlp_decode_response_json(const uint8_t *p, size_t n, int64_t *rejected, char *msg,
			      size_t msg_len);

#endif
