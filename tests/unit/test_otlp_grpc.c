// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: OTLP over gRPC without the network (exporters/otlp/otlp_grpc.c): message framing
 * both ways, RetryInfo found in a grpc-status-details-bin value, which statuses may be retried
 * (the OTLP specification's list), and HTTP statuses read as gRPC codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp/otlp_grpc.h"

static void test_frame(void **state)
{
	struct pb_buf b = { 0 };
	const uint8_t msg[] = { 0x0a, 0x02, 'h', 'i' }, *m;
	uint8_t bad[6];
	size_t n;
	bool z;

	(void)state;
	assert_int_equal(grpc__frame(msg, sizeof(msg), true, &b), 0);
	assert_int_equal(b.n, 9);
	assert_memory_equal(b.p, ((const uint8_t[]){ 1, 0, 0, 0, 4 }), 5);
	assert_memory_equal(b.p + 5, msg, 4);
	assert_int_equal(grpc__unframe(b.p, b.n, &m, &n, &z), 0);
	assert_int_equal(n, 4);
	assert_true(z);
	assert_memory_equal(m, msg, 4);
	assert_int_equal(grpc__unframe(b.p, 0, &m, &n, &z), 0); /* no message */
	assert_int_equal(n, 0);
	assert_int_equal(grpc__unframe(b.p, b.n - 1, &m, &n, &z), -EBADMSG); /* truncated */
	assert_int_equal(grpc__unframe(b.p, 3, &m, &n, &z), -EBADMSG);
	memcpy(bad, b.p, 6);
	bad[0] = 2; /* no such flag */
	assert_int_equal(grpc__unframe(bad, 6, &m, &n, &z), -EBADMSG);
	assert_int_equal(grpc__frame(msg, 0, false, &b), 0);
	assert_int_equal(b.n, 5);
	assert_memory_equal(b.p, ((const uint8_t[]){ 0, 0, 0, 0, 0 }), 5);
	pb_buf__free(&b);
}

static void b64_encode(const uint8_t *p, size_t len, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t k = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		out[k++] = tbl[v >> 18 & 63];
		out[k++] = tbl[v >> 12 & 63];
		out[k++] = i + 1 < len ? tbl[v >> 6 & 63] : '=';
		out[k++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[k] = '\0';
}

/* google.rpc.Status{code: 8, message: "slow down", details: [Any{type_url: (another type)},
 * Any{type_url: RetryInfo, value: RetryInfo{retry_delay: {seconds: 2, nanos: 500000000}}}]},
 * base64 as grpc-status-details-bin carries it. */
static void test_retry_info(void **state)
{
	struct pb_buf st = { 0 }, ri = { 0 };
	char b64[512];
	size_t any, dur;
	uint64_t d;

	(void)state;
	dur = pb__begin(&ri, 1);
	pb__uint(&ri, 1, 2);
	pb__uint(&ri, 2, 500000000);
	pb__end(&ri, dur);
	pb__uint(&st, 1, 8);
	pb__string(&st, 2, "slow down");
	any = pb__begin(&st, 3);
	pb__string(&st, 1, "type.googleapis.com/google.rpc.DebugInfo");
	pb__end(&st, any);
	any = pb__begin(&st, 3);
	pb__string(&st, 1, "type.googleapis.com/google.rpc.RetryInfo");
	pb__bytes(&st, 2, ri.p, ri.n);
	pb__end(&st, any);
	assert_int_equal(st.err, 0);
	b64_encode(st.p, st.n, b64);
	assert_true(grpc__retry_info(b64, &d));
	assert_int_equal(d, 2500000000ull);
	b64[strcspn(b64, "=")] = '\0'; /* padding is optional */
	assert_true(grpc__retry_info(b64, &d));
	assert_false(grpc__retry_info("CAg", &d)); /* Status{code: 8}: no details */
	assert_int_equal(d, 0);
	assert_false(grpc__retry_info("not base64!", &d));
	assert_false(grpc__retry_info(NULL, &d));
	b64[40] = '\0'; /* cut inside the details: malformed, nothing found */
	assert_false(grpc__retry_info(b64, &d));
	pb_buf__free(&st);
	pb_buf__free(&ri);
}

static void test_retryable(void **state)
{
	(void)state;
	for (int c = 0; c <= 16; c++) {
		bool want = c == GRPC_CANCELLED || c == GRPC_DEADLINE_EXCEEDED || c == GRPC_ABORTED ||
			    c == GRPC_OUT_OF_RANGE || c == GRPC_UNAVAILABLE || c == GRPC_DATA_LOSS;

		assert_int_equal(grpc__retryable(c, false), want);
		assert_int_equal(grpc__retryable(c, true), want || c == GRPC_RESOURCE_EXHAUSTED);
	}
	assert_int_equal(grpc__code_of_http(503), GRPC_UNAVAILABLE);
	assert_int_equal(grpc__code_of_http(429), GRPC_UNAVAILABLE);
	assert_int_equal(grpc__code_of_http(404), GRPC_UNIMPLEMENTED);
	assert_int_equal(grpc__code_of_http(500), GRPC_UNKNOWN);
	assert_false(grpc__retryable(grpc__code_of_http(400), false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_retry_info),
		cmocka_unit_test(test_retryable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
