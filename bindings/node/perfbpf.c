// SPDX-License-Identifier: BSD-2-Clause
/* perfbpf's probes for Node engines: the N-API addon behind the `perfbpf` npm package
 * (bindings/node/index.js). Every call records through include/perfbpf/probe.h, as a C engine
 * does (probe ABI v3: a record in the thread's buffer); with no tracer attached a call tests one
 * semaphore and returns.
 *
 *   op(metric, durationNs, symbol?, strategy?)     durationNs: number or BigInt
 *   opMs(metric, durationMs, symbol?, strategy?)   durationMs: number (fractions kept to the ns)
 *   spanOpen(name, symbol, strategy, parentId) -> id (a number, 0 while no tracer wants spans)
 *   spanClose(name, id)
 *   spanAttr(id, key, value)        value: string, number (an integer is an int attribute), bool
 *   spanEvent(id, name, key, value) name "": one more attribute of the span's latest event
 *   spanError(id, message)
 *   enabled(), spansEnabled(), attrsEnabled(), nowNs() -> number
 *
 * Span ids are 53-bit (exact in a JS number). Names longer than perfbpf keeps are cut by it. */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <perfbpf/probe.h>

#define NAME_MAX_BYTES 256 /* a name or value is copied into a stack buffer of this size */

/* A string argument, UTF-8, cut to the buffer; undefined or null give "" unless `required`.
 * 0, or -1 with a TypeError thrown. */
static int str_arg(napi_env env, napi_value v, char *buf, size_t cap, const char *what,
		   int required)
{
	napi_valuetype t;
	size_t n;

	buf[0] = '\0';
	if (napi_typeof(env, v, &t) != napi_ok)
		return -1;
	if ((t == napi_undefined || t == napi_null) && !required)
		return 0;
	if (t != napi_string) {
		char msg[96];

		snprintf(msg, sizeof(msg), "perfbpf: %s must be a string%s", what,
			 required ? "" : " or undefined");
		napi_throw_type_error(env, NULL, msg);
		return -1;
	}
	return napi_get_value_string_utf8(env, v, buf, cap, &n) == napi_ok ? 0 : -1;
}

static napi_value undefined(napi_env env)
{
	napi_value u;

	napi_get_undefined(env, &u);
	return u;
}

/* Up to n arguments (missing ones undefined). */
static int args_of(napi_env env, napi_callback_info info, napi_value *argv, size_t n)
{
	size_t argc = n;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return -1;
	for (size_t i = argc; i < n; i++)
		argv[i] = undefined(env);
	return 0;
}

/* A duration in ns: a BigInt (0..2^64-1) or a finite non-negative number. */
static int ns_arg(napi_env env, napi_value v, double scale, uint64_t *out)
{
	napi_valuetype t;
	double d;

	napi_typeof(env, v, &t);
	if (t == napi_bigint && scale == 1) {
		bool lossless;
		int64_t s;

		if (napi_get_value_bigint_int64(env, v, &s, &lossless) == napi_ok && lossless && s >= 0) {
			*out = (uint64_t)s;
			return 0;
		}
		if (napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless)
			return 0;
		napi_throw_range_error(env, NULL, "perfbpf: a duration must be from 0 to 2**64-1");
		return -1;
	}
	if (t != napi_number) {
		napi_throw_type_error(env, NULL, scale == 1 ? "perfbpf: durationNs must be a number or "
					     "a BigInt" : "perfbpf: durationMs must be a number");
		return -1;
	}
	napi_get_value_double(env, v, &d);
	d *= scale;
	if (!(d >= 0) || d >= 18446744073709551616.0) {
		napi_throw_range_error(env, NULL, "perfbpf: a duration must be a finite number >= 0");
		return -1;
	}
	*out = (uint64_t)(d + 0.5); /* to the nearest ns */
	return 0;
}

/* Whether v's type is one of the two given (the checks made even with no tracer, so that a
 * bad call fails the same traced or not); else a TypeError. */
static int type_is(napi_env env, napi_value v, napi_valuetype a, napi_valuetype b, const char *msg)
{
	napi_valuetype t;

	if (napi_typeof(env, v, &t) == napi_ok && (t == a || t == b))
		return 0;
	napi_throw_type_error(env, NULL, msg);
	return -1;
}

/* Whether v is a string, undefined or null; else a TypeError naming `what`. */
static int opt_str_type(napi_env env, napi_value v, const char *what)
{
	napi_valuetype t;
	char msg[96];

	if (napi_typeof(env, v, &t) == napi_ok &&
	    (t == napi_string || t == napi_undefined || t == napi_null))
		return 0;
	snprintf(msg, sizeof(msg), "perfbpf: %s must be a string or undefined", what);
	napi_throw_type_error(env, NULL, msg);
	return -1;
}

/* A name (`what`: "metric", "span name"), symbol and strategy: copied into n, s, st when a
 * tracer is attached; detached, only their types are checked (a bad call fails alike traced or
 * not). 0, or -1 with a TypeError pending. */
static int names_args(napi_env env, napi_value name, napi_value sym, napi_value strat,
		      const char *what, bool attached, char *n, char *s, char *st)
{
	char msg[64];

	if (!attached) {
		snprintf(msg, sizeof(msg), "perfbpf: %s must be a string", what);
		return type_is(env, name, napi_string, napi_string, msg) ||
		       opt_str_type(env, sym, "symbol") || opt_str_type(env, strat, "strategy") ? -1 : 0;
	}
	return str_arg(env, name, n, NAME_MAX_BYTES, what, 1) ||
	       str_arg(env, sym, s, NAME_MAX_BYTES, "symbol", 0) ||
	       str_arg(env, strat, st, NAME_MAX_BYTES, "strategy", 0) ? -1 : 0;
}

static napi_value do_op(napi_env env, napi_callback_info info, double scale)
{
	napi_value a[4];
	char m[NAME_MAX_BYTES], s[NAME_MAX_BYTES], st[NAME_MAX_BYTES];
	bool on = PERFBPF_OP_ENABLED();
	uint64_t d;

	if (args_of(env, info, a, 4) || names_args(env, a[0], a[2], a[3], "metric", on, m, s, st))
		return NULL;
	if (!on) /* detached: the duration's type only */
		return type_is(env, a[1], napi_number, scale == 1 ? napi_bigint : napi_number,
			       scale == 1 ? "perfbpf: durationNs must be a number or a BigInt"
					  : "perfbpf: durationMs must be a number") ? NULL
										    : undefined(env);
	if (ns_arg(env, a[1], scale, &d))
		return NULL;
	PERFBPF_OP(m, s, st, d);
	return undefined(env);
}

static napi_value js_op(napi_env env, napi_callback_info info)
{
	return do_op(env, info, 1);
}

static napi_value js_op_ms(napi_env env, napi_callback_info info)
{
	return do_op(env, info, 1e6);
}

static napi_value boolean(napi_env env, bool b)
{
	napi_value v;

	napi_get_boolean(env, b, &v);
	return v;
}

static napi_value js_enabled(napi_env env, napi_callback_info info)
{
	(void)info;
	return boolean(env, PERFBPF_ENABLED());
}

static napi_value js_spans_enabled(napi_env env, napi_callback_info info)
{
	(void)info;
	return boolean(env, PERFBPF_SPAN_ENABLED());
}

static napi_value js_attrs_enabled(napi_env env, napi_callback_info info)
{
	(void)info;
	return boolean(env, PERFBPF_SPAN_ATTRS_ENABLED());
}

static napi_value number(napi_env env, double d)
{
	napi_value v;

	napi_create_double(env, d, &v);
	return v;
}

static napi_value js_now_ns(napi_env env, napi_callback_info info)
{
	(void)info;
	return number(env, (double)perfbpf_now_ns());
}

#define ID_MASK ((1ull << 53) - 1)

/* A span id argument: a number from 0 to 2^53-1. */
static int id_arg(napi_env env, napi_value v, uint64_t *id)
{
	double d;

	if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > (double)ID_MASK) {
		napi_throw_type_error(env, NULL, "perfbpf: a span id is a number from spanOpen");
		return -1;
	}
	*id = (uint64_t)d;
	return 0;
}

static napi_value js_span_open(napi_env env, napi_callback_info info)
{
	napi_value a[4];
	char n[NAME_MAX_BYTES], s[NAME_MAX_BYTES], st[NAME_MAX_BYTES];
	bool on = PERFBPF_SPAN_ENABLED();
	uint64_t parent, id;

	if (args_of(env, info, a, 4) || names_args(env, a[0], a[1], a[2], "span name", on, n, s, st))
		return NULL;
	if (!on)
		return number(env, 0);
	if (id_arg(env, a[3], &parent))
		return NULL;
	do
		id = perfbpf_span_id() & ID_MASK;
	while (!id);
	PERFBPF_SPAN_OPEN(n, s, st, id, parent);
	return number(env, (double)id);
}

static napi_value js_span_close(napi_env env, napi_callback_info info)
{
	napi_value a[2];
	char n[NAME_MAX_BYTES];
	uint64_t id;

	if (args_of(env, info, a, 2) || str_arg(env, a[0], n, sizeof(n), "span name", 1) ||
	    id_arg(env, a[1], &id))
		return NULL;
	if (id)
		PERFBPF_SPAN_CLOSE(n, id);
	return undefined(env);
}

static napi_value js_span_attr(napi_env env, napi_callback_info info)
{
	napi_value a[3];
	char k[NAME_MAX_BYTES], v[NAME_MAX_BYTES];
	napi_valuetype t;
	uint64_t id;

	if (args_of(env, info, a, 3) || id_arg(env, a[0], &id) ||
	    str_arg(env, a[1], k, sizeof(k), "attribute key", 1))
		return NULL;
	if (!id || !PERFBPF_SPAN_ATTRS_ENABLED())
		return undefined(env);
	napi_typeof(env, a[2], &t);
	PERFBPF_SPAN_SELECT(id);
	if (t == napi_string) {
		if (!str_arg(env, a[2], v, sizeof(v), "value", 1))
			PERFBPF_SPAN_ATTR_STR(k, v);
	} else if (t == napi_number) {
		double d;

		napi_get_value_double(env, a[2], &d);
		if (d == (double)(int64_t)d && d > -9.2e18 && d < 9.2e18)
			PERFBPF_SPAN_ATTR_INT(k, (int64_t)d);
		else
			PERFBPF_SPAN_ATTR_DOUBLE(k, d);
	} else if (t == napi_boolean) {
		bool b;

		napi_get_value_bool(env, a[2], &b);
		PERFBPF_SPAN_ATTR_INT(k, b);
	} else if (t == napi_bigint) {
		int64_t i;
		bool lossless;

		napi_get_value_bigint_int64(env, a[2], &i, &lossless);
		PERFBPF_SPAN_ATTR_INT(k, i);
	} else {
		napi_value str;

		/* arrays and the rest: as their string */
		if (napi_coerce_to_string(env, a[2], &str) == napi_ok &&
		    !str_arg(env, str, v, sizeof(v), "value", 1))
			PERFBPF_SPAN_ATTR_STR(k, v);
	}
	PERFBPF_SPAN_SELECT(0);
	return undefined(env);
}

static napi_value js_span_event(napi_env env, napi_callback_info info)
{
	napi_value a[4];
	char n[NAME_MAX_BYTES], k[NAME_MAX_BYTES], v[NAME_MAX_BYTES];
	napi_valuetype t;
	uint64_t id;

	if (args_of(env, info, a, 4) || id_arg(env, a[0], &id) ||
	    str_arg(env, a[1], n, sizeof(n), "event name", 1) ||
	    str_arg(env, a[2], k, sizeof(k), "attribute key", 0))
		return NULL;
	if (!id || !PERFBPF_SPAN_ATTRS_ENABLED())
		return undefined(env);
	napi_typeof(env, a[3], &t);
	if (t != napi_undefined && t != napi_null) {
		napi_value str;

		if (napi_coerce_to_string(env, a[3], &str) != napi_ok ||
		    str_arg(env, str, v, sizeof(v), "value", 1))
			return NULL;
	} else {
		v[0] = '\0';
	}
	PERFBPF_SPAN_SELECT(id);
	PERFBPF_SPAN_EVENT(n, k[0] ? k : (const char *)0, k[0] ? v : (const char *)0);
	PERFBPF_SPAN_SELECT(0);
	return undefined(env);
}

static napi_value js_span_error(napi_env env, napi_callback_info info)
{
	napi_value a[2];
	char m[NAME_MAX_BYTES];
	uint64_t id;

	if (args_of(env, info, a, 2) || id_arg(env, a[0], &id) ||
	    str_arg(env, a[1], m, sizeof(m), "message", 0))
		return NULL;
	if (!id || !PERFBPF_SPAN_ATTRS_ENABLED())
		return undefined(env);
	PERFBPF_SPAN_SELECT(id);
	PERFBPF_SPAN_ERROR(m);
	PERFBPF_SPAN_SELECT(0);
	return undefined(env);
}

static napi_value init(napi_env env, napi_value exports)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "op", js_op }, { "opMs", js_op_ms }, { "enabled", js_enabled },
		{ "spansEnabled", js_spans_enabled }, { "attrsEnabled", js_attrs_enabled },
		{ "nowNs", js_now_ns }, { "spanOpen", js_span_open }, { "spanClose", js_span_close },
		{ "spanAttr", js_span_attr }, { "spanEvent", js_span_event },
		{ "spanError", js_span_error },
	};

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		napi_value f;

		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) !=
			    napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
			return NULL;
	}
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
