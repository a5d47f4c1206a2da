// SPDX-License-Identifier: BSD-2-Clause
/* OTLP over gRPC: framing, status details, retry rules (see otlp_grpc.h). */
#include "exporters/otlp/otlp_grpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/protobuf_reader.h"

int grpc__frame(const uint8_t *msg, size_t n, bool compressed, struct pb_buf *out)
{
	size_t need = GRPC_FRAME_HDR + n;

	if (n > UINT32_MAX)
		return -EMSGSIZE;
	if (out->cap < need) {
		uint8_t *p = realloc(out->p, need);

		if (!p)
			return -ENOMEM;
		out->p = p;
		out->cap = need;
	}
	out->p[0] = compressed ? 1 : 0;
	out->p[1] = (uint8_t)(n >> 24);
	out->p[2] = (uint8_t)(n >> 16);
	out->p[3] = (uint8_t)(n >> 8);
	out->p[4] = (uint8_t)n;
	memcpy(out->p + GRPC_FRAME_HDR, msg, n);
	out->n = need;
	return 0;
}

int grpc__unframe(const uint8_t *body, size_t len, const uint8_t **msg, size_t *n,
		  bool *compressed)
{
	uint32_t k;

	*msg = NULL;
	*n = 0;
	*compressed = false;
	if (len == 0)
		return 0;
	if (len < GRPC_FRAME_HDR || body[0] > 1)
		return -EBADMSG;
	k = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
	if (k != len - GRPC_FRAME_HDR)
		return -EBADMSG;
	*msg = body + GRPC_FRAME_HDR;
	*n = k;
	*compressed = body[0] == 1;
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Base64 (standard or URL alphabet, padding optional) into a new buffer; NULL if malformed. */
static uint8_t *b64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s), k = 0;
	uint8_t *out = malloc(len / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len && s[i] != '='; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (uint8_t)(acc >> bits);
		}
	}
	*n = k;
	return out;
}

#define RETRY_INFO_TYPE "type.googleapis.com/google.rpc.RetryInfo"

/* google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1 } */
static bool retry_delay(struct pb_reader r, uint64_t *delay_ns)
{
	struct pb_reader sub, d;
	unsigned field, wt;
	uint64_t v, s = 0, ns = 0;

	while (r.p < r.end) {
		if (!pb__next_field(&r, &field, &wt, &v, &sub))
			return false;
		if (field != 1 || wt != PB_LEN)
			continue;
		while (sub.p < sub.end) {
			if (!pb__next_field(&sub, &field, &wt, &v, &d))
				return false;
			if (field == 1 && wt == PB_VARINT)
				s = v;
			else if (field == 2 && wt == PB_VARINT)
				ns = v;
		}
	}
	*delay_ns = s * 1000000000ull + ns;
	return true;
}

bool grpc__retry_info(const char *b64, uint64_t *delay_ns)
{
	size_t n;
	uint8_t *p = b64 ? b64_decode(b64, &n) : NULL;
	struct pb_reader r = { p, p ? p + n : NULL }, any, f;
	unsigned field, wt;
	uint64_t v;
	bool found = false;

	*delay_ns = 0;
	/* google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3 } */
	while (p && !found && r.p < r.end) {
		struct pb_reader value = { NULL, NULL };
		bool is_retry = false;

		if (!pb__next_field(&r, &field, &wt, &v, &any))
			break;
		if (field != 3 || wt != PB_LEN)
			continue;
		/* Any { string type_url = 1; bytes value = 2 } */
		while (any.p < any.end) {
			if (!pb__next_field(&any, &field, &wt, &v, &f))
				break;
			if (field == 1 && wt == PB_LEN)
				is_retry = (size_t)(f.end - f.p) == strlen(RETRY_INFO_TYPE) &&
					   !memcmp(f.p, RETRY_INFO_TYPE, strlen(RETRY_INFO_TYPE));
			else if (field == 2 && wt == PB_LEN)
				value = f;
		}
		if (is_retry && value.p)
			found = retry_delay(value, delay_ns);
	}
	free(p);
	return found;
}

bool grpc__retryable(int code, bool has_retry_info)
{
	switch (code) {
	case GRPC_CANCELLED: case GRPC_DEADLINE_EXCEEDED: case GRPC_ABORTED:
	case GRPC_OUT_OF_RANGE: case GRPC_UNAVAILABLE: case GRPC_DATA_LOSS:
		return true;
	case GRPC_RESOURCE_EXHAUSTED:
		return has_retry_info;
	default:
		return false;
	}
}

int grpc__code_of_http(long status)
{
	switch (status) {
	case 400: return GRPC_INTERNAL;
	case 401: return GRPC_UNAUTHENTICATED;
	case 403: return 7; /* PERMISSION_DENIED */
	case 404: return GRPC_UNIMPLEMENTED;
	case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE;
	default: return GRPC_UNKNOWN;
	}
}
