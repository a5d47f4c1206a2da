// SPDX-License-Identifier: BSD-2-Clause
/* OTLP JSON encoding (the protobuf JSON mapping with OTLP's rules: trace and span ids as hex,
 * 64-bit integers as decimal strings, enums as numbers), with json-c. */
#include "exporters/otlp/otlp_encode.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_u64_str(struct json_object *o, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	json_object_object_add(o, key, json_object_new_string(s));
}

static void add_hex(struct json_object *o, const char *key, const uint8_t *b, size_t n)
{
	char s[33];

	otlp_hex(b, n, s);
	json_object_object_add(o, key, json_object_new_string(s));
}

struct json_object *otlp_json_attrs(const struct otlp_attrs *a)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < a->n; i++) {
		struct json_object *kv = json_object_new_object(), *v = json_object_new_object();
		char s[24];

		json_object_object_add(kv, "key", json_object_new_string(a->v[i].key));
		switch (a->v[i].type) {
		case OTLP_STR:
			json_object_object_add(v, "stringValue", json_object_new_string(a->v[i].s));
			break;
		case OTLP_INT:
			snprintf(s, sizeof(s), "%" PRId64, a->v[i].i);
			json_object_object_add(v, "intValue", json_object_new_string(s));
			break;
		case OTLP_DOUBLE:
			json_object_object_add(v, "doubleValue", json_object_new_double(a->v[i].d));
			break;
		}
		json_object_object_add(kv, "value", v);
		json_object_array_add(arr, kv);
	}
	return arr;
}

static struct json_object *span_json(const struct otlp_span *s)
{
	struct json_object *o = json_object_new_object();

	add_hex(o, "traceId", s->trace_id, sizeof(s->trace_id));
	add_hex(o, "spanId", s->span_id, sizeof(s->span_id));
	if (s->has_parent)
		add_hex(o, "parentSpanId", s->parent_id, sizeof(s->parent_id));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "kind", json_object_new_int(OTLP_SPAN_KIND_INTERNAL));
	add_u64_str(o, "startTimeUnixNano", s->start_unix_ns);
	add_u64_str(o, "endTimeUnixNano", s->end_unix_ns);
	json_object_object_add(o, "attributes", otlp_json_attrs(&s->attrs));
	if (s->nevents) {
		struct json_object *evs = json_object_new_array();

		for (size_t i = 0; i < s->nevents; i++) {
			struct json_object *e = json_object_new_object();

			add_u64_str(e, "timeUnixNano", s->events[i].time_unix_ns);
			json_object_object_add(e, "name", json_object_new_string(s->events[i].name));
			json_object_object_add(e, "attributes", otlp_json_attrs(&s->events[i].attrs));
			json_object_array_add(evs, e);
		}
		json_object_object_add(o, "events", evs);
	}
	if (s->status != OTLP_STATUS_UNSET) {
		struct json_object *st = json_object_new_object();

		if (s->status_message)
			json_object_object_add(st, "message",
					       json_object_new_string(s->status_message));
		json_object_object_add(st, "code", json_object_new_int(s->status));
		json_object_object_add(o, "status", st);
	}
	return o;
}

int otlp_encode_json(struct otlp_span *const *spans, size_t n, const char *version,
		     struct pb_buf *out)
{
	struct json_object *root = json_object_new_object(), *rss = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct otlp_resource *r = spans[i]->resource;
		struct json_object *rs, *res, *sss, *ss, *scope, *arr;

		if (!otlp_first_of_resource(spans, i))
			continue;
		rs = json_object_new_object();
		res = json_object_new_object();
		json_object_object_add(res, "attributes", otlp_json_attrs(&r->attrs));
		json_object_object_add(rs, "resource", res);
		ss = json_object_new_object();
		scope = json_object_new_object();
		json_object_object_add(scope, "name", json_object_new_string("perfbpf"));
		json_object_object_add(scope, "version", json_object_new_string(version));
		json_object_object_add(ss, "scope", scope);
		arr = json_object_new_array();
		for (size_t j = i; j < n; j++)
			if (spans[j]->resource == r)
				json_object_array_add(arr, span_json(spans[j]));
		json_object_object_add(ss, "spans", arr);
		sss = json_object_new_array();
		json_object_array_add(sss, ss);
		json_object_object_add(rs, "scopeSpans", sss);
		json_object_array_add(rss, rs);
	}
	json_object_object_add(root, "resourceSpans", rss);
	return otlp_json_finish(root, out);
}

int otlp_json_finish(struct json_object *root, struct pb_buf *out)
{
	const char *text;
	size_t len;

	text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!text) {
		json_object_put(root);
		return out->err = -ENOMEM;
	}
	out->n = 0;
	out->p = realloc(out->p, len);
	if (!out->p) {
		json_object_put(root);
		out->cap = 0;
		return out->err = -ENOMEM;
	}
	memcpy(out->p, text, len);
	out->n = out->cap = len;
	json_object_put(root);
	return 0;
}

int otlp_decode_response_json(const uint8_t *p, size_t n, int64_t *rejected, char *msg,
			      size_t msg_len)
{
	struct json_tokener *tok;
	struct json_object *root, *ps, *v;

	*rejected = 0;
	if (msg_len)
		msg[0] = '\0';
	if (n == 0)
		return 0;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, (const char *)p, (int)n);
	json_tokener_free(tok);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EBADMSG;
	}
	if (json_object_object_get_ex(root, "partialSuccess", &ps) &&
	    json_object_is_type(ps, json_type_object)) {
		/* spans or data points: a number or a decimal string */
		if (json_object_object_get_ex(ps, "rejectedSpans", &v) ||
		    json_object_object_get_ex(ps, "rejectedDataPoints", &v))
			*rejected = json_object_get_int64(v);
		if (json_object_object_get_ex(ps, "errorMessage", &v) && msg_len)
			snprintf(msg, msg_len, "%s", json_object_get_string(v));
	}
	json_object_put(root);
	return 0;
}
