// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the OTLP export's pure parts: protobuf bytes with known answers (including
 * multi-byte lengths), the JSON mapping, collector responses, settings from flags and OTEL_*
 * variables, the trace-id-ratio sampler, and the hash map behind span assembly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp/otlp_config.h"
#include "exporters/otlp/otlp_encode.h"
#include "exporters/otlp/otlp_sampler.h"
#include "user/lib/u64map.h"

/* --- encoders ---------------------------------------------------------------------------------- */

static struct otlp_resource res;

static struct otlp_span *make_span(const char *name)
{
	struct otlp_span *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = (uint8_t)(0x10 + i);
	for (int i = 0; i < 8; i++)
		s->span_id[i] = (uint8_t)(0xa0 + i);
	s->resource = &res;
	s->name = strdup(name);
	s->start_unix_ns = 1000;
	s->end_unix_ns = 2500;
	return s;
}

static size_t varint(const uint8_t *p, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	do
		*v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
	while (p[n++] & 0x80);
	return n;
}

static void test_proto_known_bytes(void **state)
{
	/* ExportTraceServiceRequest{resource_spans{resource{attributes{key:"k" value{string:"v"}}}
	 * scope_spans{scope{name:"perfbpf" version:"1"} spans{...}}}} */
	static const uint8_t resource[] = { 0x0a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 'k', 0x12, 0x03,
					    0x0a, 0x01, 'v' };
	static const uint8_t scope[] = { 0x0a, 0x0c, 0x0a, 0x07, 'p', 'e', 'r', 'f', 'b', 'p', 'f',
					 0x12, 0x01, '1' };
	static const uint8_t times[] = { 0x39, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,     /* 7: 1000 */
					 0x41, 0xc4, 0x09, 0, 0, 0, 0, 0, 0 };   /* 8: 2500 */
	static const uint8_t status[] = { 0x7a, 0x05, 0x12, 0x01, 'x', 0x18, 0x02 };
	struct otlp_span *s = make_span("n");
	struct pb_buf b = { 0 };
	uint64_t len;
	size_t k;

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(otlp_attrs__set_str(&res.attrs, "k", "v"), 0);
	assert_int_equal(otlp_attrs__set_int(&s->attrs, "i", -2), 0);
	s->status = OTLP_STATUS_ERROR;
	s->status_message = strdup("x");
	assert_int_equal(otlp_encode_proto(&s, 1, "1", &b), 0);
	assert_int_equal(b.p[0], 0x0a);
	k = 1 + varint(b.p + 1, &len);
	assert_int_equal(k + len, b.n);                          /* the whole request */
	assert_memory_equal(b.p + k, resource, sizeof(resource));
	k += sizeof(resource);
	assert_int_equal(b.p[k], 0x12);                          /* scope_spans */
	k += 2;
	assert_memory_equal(b.p + k, scope, sizeof(scope));
	k += sizeof(scope);
	assert_int_equal(b.p[k], 0x12);                          /* spans */
	k += 2;
	assert_int_equal(b.p[k], 0x0a);                          /* trace_id, 16 bytes */
	assert_int_equal(b.p[k + 1], 16);
	assert_memory_equal(b.p + k + 2, s->trace_id, 16);
	k += 18;
	assert_int_equal(b.p[k], 0x12);                          /* span_id; no parent_id */
	k += 10;
	assert_memory_equal(b.p + k, "\x2a\x01n\x30\x01", 5);    /* name "n", kind 1 */
	k += 5;
	assert_memory_equal(b.p + k, times, sizeof(times));
	k += sizeof(times);
	/* attributes{key:"i" value{int_value:-2}}: a negative int64 is a 10-byte varint */
	assert_memory_equal(b.p + k, "\x4a\x10\x0a\x01i\x12\x0b\x18\xfe\xff\xff\xff\xff\xff\xff\xff"
				     "\xff\x01", 18);
	k += 18;
	assert_memory_equal(b.p + k, status, sizeof(status));
	assert_int_equal(k + sizeof(status), b.n);
	pb_buf__free(&b);
	otlp_span__free(s);
	otlp_attrs__free(&res.attrs);
}

/* Nested lengths of 2 and 3 bytes are moved into place: a 300-byte name and a 20000-byte value. */
static void test_proto_long_lengths(void **state)
{
	char name[301], *big = malloc(20001);
	struct otlp_span *s;
	struct pb_buf b = { 0 };
	uint64_t len;
	size_t k;
	const uint8_t *p;

	(void)state;
	memset(&res, 0, sizeof(res));
	memset(name, 'a', 300);
	name[300] = '\0';
	memset(big, 'b', 20000);
	big[20000] = '\0';
	s = make_span(name);
	assert_int_equal(otlp_attrs__set_str(&s->attrs, "big", big), 0);
	assert_int_equal(otlp_encode_proto(&s, 1, "1", &b), 0);
	k = 1 + varint(b.p + 1, &len);
	assert_int_equal(k + len, b.n);
	p = memmem(b.p, b.n, "\x2a\xac\x02", 3); /* field 5, length 300 */
	assert_non_null(p);
	assert_int_equal(p[3], 'a');
	assert_int_equal(p[3 + 299], 'a');
	assert_int_equal(p[3 + 300], 0x30);      /* kind follows the name */
	p = memmem(b.p, b.n, "\x0a\xa0\x9c\x01", 4); /* string_value, length 20000 */
	assert_non_null(p);
	assert_int_equal(p[4 + 19999], 'b');
	assert_int_equal(p + 4 + 20000, b.p + b.n); /* the last field of the request */
	pb_buf__free(&b);
	otlp_span__free(s);
	free(big);
}

/* A child span with a double attribute and an event, byte for byte after its span_id:
 * parent_span_id is field 4, AnyValue.double_value field 4 (fixed64), Span.events field 11 with
 * Event.time_unix_nano field 1 (fixed64) and Event.name field 2. */
static void test_proto_parent_event_double(void **state)
{
	static const uint8_t want[] = {
		0x22, 0x08, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, /* 4: parent_span_id */
		0x2a, 0x01, 'n', 0x30, 0x01,                                 /* 5: name, 6: kind */
		0x39, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,                          /* 7: start 1000 */
		0x41, 0xc4, 0x09, 0, 0, 0, 0, 0, 0,                          /* 8: end 2500 */
		/* 9: attributes{key:"d" value{double_value:0.5}} */
		0x4a, 0x0e, 0x0a, 0x01, 'd', 0x12, 0x09, 0x21, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,
		/* 11: events{time_unix_nano:2000 name:"e"} */
		0x5a, 0x0c, 0x09, 0xd0, 0x07, 0, 0, 0, 0, 0, 0, 0x12, 0x01, 'e',
	};
	struct otlp_span *s = make_span("n");
	struct pb_buf b = { 0 };
	const uint8_t *p;

	(void)state;
	memset(&res, 0, sizeof(res));
	s->has_parent = true;
	for (int i = 0; i < 8; i++)
		s->parent_id[i] = (uint8_t)(0xf0 + i);
	assert_int_equal(otlp_attrs__set_double(&s->attrs, "d", 0.5), 0);
	assert_non_null(otlp_span__add_event(s, 2000, "e"));
	assert_int_equal(otlp_encode_proto(&s, 1, "1", &b), 0);
	/* span_id (field 2, 8 bytes), then the rest of the span up to the end of the request */
	p = memmem(b.p, b.n, "\x12\x08\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7", 10);
	assert_non_null(p);
	p += 10;
	assert_int_equal((size_t)(b.p + b.n - p), sizeof(want));
	assert_memory_equal(p, want, sizeof(want));
	pb_buf__free(&b);
	otlp_span__free(s);
}

static void test_json_mapping(void **state)
{
	struct otlp_span *s = make_span("backtest.run");
	struct pb_buf b = { 0 };
	struct json_object *root, *sp, *attrs, *ev;
	struct otlp_event *e;
	char *text;

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(otlp_attrs__set_str(&res.attrs, "service.name", "x\"y"), 0);
	s->has_parent = true;
	memset(s->parent_id, 0xff, 8);
	assert_int_equal(otlp_attrs__set_int(&s->attrs, "n", 9007199254740993ll), 0);
	assert_int_equal(otlp_attrs__set_double(&s->attrs, "d", 0.5), 0);
	assert_int_equal(otlp_attrs__set_int(&s->attrs, "n", 7), 0); /* the last write wins */
	e = otlp_span__add_event(s, 2000, "order.filled");
	assert_non_null(e);
	assert_int_equal(otlp_attrs__set_str(&e->attrs, "fill.price", "1.5"), 0);
	assert_int_equal(otlp_encode_json(&s, 1, "1", &b), 0);
	text = strndup((const char *)b.p, b.n);
	root = json_tokener_parse(text);
	assert_non_null(root);
	sp = json_object_array_get_idx(json_object_object_get(json_object_array_get_idx(
		json_object_object_get(json_object_array_get_idx(json_object_object_get(
			root, "resourceSpans"), 0), "scopeSpans"), 0), "spans"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(sp, "traceId")),
			    "101112131415161718191a1b1c1d1e1f");
	assert_string_equal(json_object_get_string(json_object_object_get(sp, "spanId")),
			    "a0a1a2a3a4a5a6a7");
	assert_string_equal(json_object_get_string(json_object_object_get(sp, "parentSpanId")),
			    "ffffffffffffffff");
	assert_string_equal(json_object_get_string(json_object_object_get(sp,
									  "startTimeUnixNano")),
			    "1000");
	assert_int_equal(json_object_get_int(json_object_object_get(sp, "kind")), 1);
	attrs = json_object_object_get(sp, "attributes");
	assert_int_equal(json_object_array_length(attrs), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_object_get(
				    json_object_array_get_idx(attrs, 0), "value"), "intValue")),
			    "7");
	assert_true(json_object_get_double(json_object_object_get(json_object_object_get(
		json_object_array_get_idx(attrs, 1), "value"), "doubleValue")) == 0.5);
	ev = json_object_array_get_idx(json_object_object_get(sp, "events"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(ev, "timeUnixNano")),
			    "2000");
	assert_null(json_object_object_get(sp, "status")); /* UNSET is left out */
	assert_non_null(strstr(text, "x\\\"y"));
	json_object_put(root);
	free(text);
	pb_buf__free(&b);
	otlp_span__free(s);
	otlp_attrs__free(&res.attrs);
}

static void test_responses(void **state)
{
	static const uint8_t partial[] = { 0x0a, 0x0b, 0x08, 0x03, 0x12, 0x07, 'p', 'a', 'r', 't',
					   'i', 'a', 'l' };
	static const uint8_t unknown_first[] = { 0x10, 0x05, 0x0a, 0x02, 0x08, 0x04 };
	int64_t rej;
	char msg[16];
	const char *j = "{\"partialSuccess\":{\"rejectedSpans\":\"5\",\"errorMessage\":\"full\"}}";

	(void)state;
	assert_int_equal(otlp_decode_response_proto(partial, sizeof(partial), &rej, msg,
						    sizeof(msg)), 0);
	assert_int_equal(rej, 3);
	assert_string_equal(msg, "partial");
	assert_int_equal(otlp_decode_response_proto(unknown_first, sizeof(unknown_first), &rej, msg,
						    sizeof(msg)), 0);
	assert_int_equal(rej, 4);
	assert_int_equal(otlp_decode_response_proto(NULL, 0, &rej, msg, sizeof(msg)), 0);
	assert_int_equal(rej, 0);
	assert_int_equal(otlp_decode_response_proto(partial, 5, &rej, msg, sizeof(msg)), -EBADMSG);
	assert_int_equal(otlp_decode_response_json((const uint8_t *)j, strlen(j), &rej, msg,
						   sizeof(msg)), 0);
	assert_int_equal(rej, 5);
	assert_string_equal(msg, "full");
	assert_int_equal(otlp_decode_response_json((const uint8_t *)"{}", 2, &rej, msg,
						   sizeof(msg)), 0);
	assert_int_equal(rej, 0);
	assert_int_equal(otlp_decode_response_json((const uint8_t *)"<html>", 6, &rej, msg,
						   sizeof(msg)), -EBADMSG);
}

/* --- settings ---------------------------------------------------------------------------------- */

static const char *const *fake_env;

static const char *getenv_fake(const char *name)
{
	for (const char *const *e = fake_env; e && *e; e += 2)
		if (!strcmp(e[0], name))
			return e[1];
	return NULL;
}

static void resolve(const struct otlp_flags *f, const char *const *env, struct otlp_config *c)
{
	char err[256];

	fake_env = env;
	assert_int_equal(otlp_config__resolve(f, OTLP_TRACES, getenv_fake, c, err, sizeof(err)), 0);
}

static void test_config_precedence(void **state)
{
	struct otlp_flags f = { .enabled = true, .sample = -1 };
	struct otlp_config c;
	char err[256];

	(void)state;
	resolve(&f, NULL, &c);
	assert_string_equal(c.url, "http://localhost:4318/v1/traces");
	assert_int_equal(c.protocol, OTLP_HTTP_PROTOBUF);
	assert_false(c.gzip);
	assert_int_equal(c.timeout_ns, 10000000000ull);
	assert_int_equal(c.sampler, OTLP_ALWAYS_ON);
	assert_null(c.service_name);
	otlp_config__free(&c);

	resolve(&f, (const char *const[]){ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://col:4318/",
					    "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json",
					    "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip",
					    "OTEL_EXPORTER_OTLP_TIMEOUT", "2500",
					    "OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%3Db,x = y ",
					    "OTEL_SERVICE_NAME", "bt",
					    "OTEL_RESOURCE_ATTRIBUTES", "service.name=other,env=ci",
					    "OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
					    "OTEL_TRACES_SAMPLER_ARG", "0.25",
					    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100", NULL }, &c);
	assert_string_equal(c.url, "http://col:4318/v1/traces");
	assert_int_equal(c.protocol, OTLP_HTTP_JSON);
	assert_true(c.gzip);
	assert_int_equal(c.timeout_ns, 2500000000ull);
	assert_int_equal(c.nheaders, 2);
	assert_string_equal(c.headers[0].name, "api-key");
	assert_string_equal(c.headers[0].value, "a=b");
	assert_string_equal(c.headers[1].name, "x");
	assert_string_equal(c.headers[1].value, "y");
	assert_string_equal(c.service_name, "bt");
	assert_int_equal(c.resource.n, 2);
	assert_int_equal(c.sampler, OTLP_TRACEIDRATIO);
	assert_true(c.ratio == 0.25);
	assert_int_equal(c.batch, 100);
	otlp_config__free(&c);

	/* the per-signal endpoint is used as given and wins; flags win over everything */
	resolve(&f, (const char *const[]){ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:1",
					    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:2/x",
					    NULL }, &c);
	assert_string_equal(c.url, "http://b:2/x");
	otlp_config__free(&c);
	f.endpoint = "https://c:3";
	f.protocol = "http/protobuf";
	f.sample = 0;
	f.service_name = "flag";
	resolve(&f, (const char *const[]){ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:2/x",
					    "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json",
					    "OTEL_SERVICE_NAME", "env", NULL }, &c);
	assert_string_equal(c.url, "https://c:3/v1/traces");
	assert_int_equal(c.protocol, OTLP_HTTP_PROTOBUF);
	assert_int_equal(c.sampler, OTLP_TRACEIDRATIO);
	assert_true(c.ratio == 0);
	assert_string_equal(c.service_name, "flag");
	otlp_config__free(&c);

	/* a bad variable is ignored (as the specification asks); a bad flag is an error */
	f = (struct otlp_flags){ .enabled = true, .sample = -1 };
	resolve(&f, (const char *const[]){ "OTEL_EXPORTER_OTLP_PROTOCOL", "http/thrift",
					    "OTEL_TRACES_SAMPLER", "sometimes",
					    "OTEL_EXPORTER_OTLP_TIMEOUT", "soon", NULL }, &c);
	assert_int_equal(c.protocol, OTLP_HTTP_PROTOBUF);
	assert_int_equal(c.sampler, OTLP_ALWAYS_ON);
	assert_int_equal(c.timeout_ns, 10000000000ull);
	otlp_config__free(&c);
	f.protocol = "grpc/json";
	fake_env = NULL;
	assert_int_equal(otlp_config__resolve(&f, OTLP_TRACES, getenv_fake, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--otlp-protocol"));
	f.protocol = NULL;
	f.headers = "a=%zz";
	assert_int_equal(otlp_config__resolve(&f, OTLP_TRACES, getenv_fake, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--otlp-headers"));
}

/* gRPC: the endpoint's scheme and authority (port 4317 when it names none, its path dropped)
 * and the trace service's method; the default is localhost:4317; the traces variable is not
 * used as a whole URL as it is over HTTP. */
static void test_config_grpc(void **state)
{
	static const struct {
		const char *flag, *env, *want;
	} cases[] = {
		{ NULL, NULL, "http://localhost:4317" },
		{ "http://collector", NULL, "http://collector:4317" },
		{ "http://collector:5000/v1/whatever", NULL, "http://collector:5000" },
		{ "https://[::1]/", NULL, "https://[::1]:4317" },
		{ "https://[::1]:9/", NULL, "https://[::1]:9" },
		{ NULL, "http://otel-collector:4317", "http://otel-collector:4317" },
	};
	const char *method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct otlp_flags f = { .enabled = true, .sample = -1, .endpoint = cases[i].flag };
		struct otlp_config c;
		char want[256];

		resolve(&f, (const char *const[]){ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
						    cases[i].env ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
								 : NULL, cases[i].env, NULL }, &c);
		snprintf(want, sizeof(want), "%s%s", cases[i].want, method);
		assert_int_equal(c.protocol, OTLP_GRPC);
		assert_string_equal(c.url, want);
		otlp_config__free(&c);
	}
}

static void test_ratio_sampler(void **state)
{
	uint8_t id[16] = { 0 };
	int kept = 0;

	(void)state;
	assert_true(otlp_ratio_keeps(id, 0.0001));  /* the lowest id passes any ratio above 0 */
	assert_false(otlp_ratio_keeps(id, 0));
	memset(id + 8, 0xff, 8);
	assert_false(otlp_ratio_keeps(id, 0.9999)); /* the highest passes only ratio 1 */
	assert_true(otlp_ratio_keeps(id, 1));
	id[8] = 0x7f;                               /* 0x7fff...ff >> 1 = 2^62 - 1 < 2^62 */
	assert_true(otlp_ratio_keeps(id, 0.5));
	id[8] = 0x80;
	id[15] = 0;                                 /* >> 1 = 2^62: not below 0.5 * 2^63 */
	assert_false(otlp_ratio_keeps(id, 0.5));
	/* uniformly spread ids: the kept share is the ratio */
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t v = i * (UINT64_MAX / 10000);

		for (int k = 0; k < 8; k++)
			id[8 + k] = (uint8_t)(v >> (56 - 8 * k));
		kept += otlp_ratio_keeps(id, 0.1);
	}
	assert_in_range(kept, 999, 1001);
}

/* --- hash map ---------------------------------------------------------------------------------- */

static void test_u64map(void **state)
{
	enum { N = 4096 };
	static void *ref[N]; /* key i + 1 -> value, NULL when absent */
	struct u64map m = { 0 };
	uint64_t x = 88172645463325252ull;
	size_t live = 0;

	(void)state;
	assert_null(u64map__get(&m, 1));
	assert_null(u64map__del(&m, 1));
	for (int op = 0; op < 200000; op++) {
		size_t k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (size_t)(x % N);
		/* keys spaced like kernel span ids (tid << 32 | seq) collide in low bits */
		uint64_t key = ((uint64_t)(k % 64 + 1) << 32) | (k / 64 + 1);

		if (x & (1ull << 40)) {
			void *v = (void *)(uintptr_t)(x | 1);

			assert_int_equal(u64map__put(&m, key, v), 0);
			live += ref[k] == NULL;
			ref[k] = v;
		} else {
			assert_ptr_equal(u64map__del(&m, key), ref[k]);
			live -= ref[k] != NULL;
			ref[k] = NULL;
		}
		assert_int_equal(m.n, live);
		if (op % 997 == 0)
			for (size_t i = 0; i < N; i++)
				assert_ptr_equal(u64map__get(&m, ((uint64_t)(i % 64 + 1) << 32) |
								 (i / 64 + 1)),
						 ref[i]);
	}
	u64map__free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_known_bytes),
		cmocka_unit_test(test_proto_long_lengths),
		cmocka_unit_test(test_proto_parent_event_double),
		cmocka_unit_test(test_json_mapping),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_config_precedence),
		cmocka_unit_test(test_config_grpc),
		cmocka_unit_test(test_ratio_sampler),
		cmocka_unit_test(test_u64map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
