// SPDX-License-Identifier: BSD-2-Clause
/* perfbpf's probes for Python engines: the C extension behind the `perfbpf` package
 * (bindings/python/perfbpf/__init__.py). Every call records through include/perfbpf/probe.h,
 * as a C engine does (probe ABI v3: a record in the thread's buffer, tens of ns); with no tracer
 * attached a call tests one semaphore and returns.
 *
 *   op(metric, duration_ns, symbol=None, strategy=None)
 *   span(name, symbol=None, strategy=None, **attributes) -> Scope (context manager)
 *   timed(metric, symbol=None, strategy=None) -> Scope (context manager; times its block)
 *   enabled() -> bool, now_ns() -> int (perfbpf's clock: CLOCK_MONOTONIC)
 *
 * A span has an id of its own (probe ABI "spans with explicit ids") and its parent is the span
 * current in the caller's context (a context variable): spans of asyncio tasks that interleave
 * across awaits keep their own parents, and a span may end on another thread. A span also has
 * the OpenTelemetry span methods (set_attribute(s), add_event, record_exception, set_status,
 * is_recording, end): they annotate that span, whichever span is innermost.
 *
 * Names and attribute keys are str (None: ""); attribute values str, int, float or bool (a list
 * or tuple is recorded as its str). A span whose block raises gets the exception (type and
 * message) and status ERROR before it ends, and the exception goes on. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>

#include <perfbpf/probe.h>

/* A str argument's UTF-8 bytes (valid while the str lives); None (or absent) is "" unless the
 * argument is required (a name or metric); NULL with TypeError. */
static const char *utf8(PyObject *o, const char *what, int required)
{
	if ((o == NULL || o == Py_None) && !required)
		return "";
	if (o == NULL || !PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "perfbpf: %s must be str%s, not %.100s", what,
			     required ? "" : " or None", o ? Py_TYPE(o)->tp_name : "nothing");
		return NULL;
	}
	return PyUnicode_AsUTF8(o);
}

/* Positional and keyword arguments of a vectorcall into slots[0..n) by name (NULL: absent);
 * extra keywords go to *rest (a new dict) when rest is given, else are an error. */
static int parse(const char *fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
		 const char *const *names, int n, int required, PyObject **slots, PyObject **rest)
{
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	if (nargs > n) {
		PyErr_Format(PyExc_TypeError, "perfbpf.%s() takes at most %d positional arguments (%zd "
			     "given)", fn, n, nargs);
		return -1;
	}
	for (int i = 0; i < n; i++)
		slots[i] = i < nargs ? args[i] : NULL;
	for (Py_ssize_t k = 0; k < nkw; k++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, k);
		const char *s = PyUnicode_AsUTF8(key);
		int i;

		if (!s)
			return -1;
		for (i = 0; i < n && strcmp(s, names[i]); i++)
			;
		if (i < n) {
			if (slots[i]) {
				PyErr_Format(PyExc_TypeError, "perfbpf.%s() got multiple values for '%s'",
					     fn, s);
				return -1;
			}
			slots[i] = args[nargs + k];
		} else if (rest) {
			if (!*rest && !(*rest = PyDict_New()))
				return -1;
			if (PyDict_SetItem(*rest, key, args[nargs + k]))
				return -1;
		} else {
			PyErr_Format(PyExc_TypeError, "perfbpf.%s() got an unexpected keyword argument '%s'",
				     fn, s);
			return -1;
		}
	}
	for (int i = 0; i < required; i++)
		if (!slots[i]) {
			PyErr_Format(PyExc_TypeError, "perfbpf.%s() missing required argument '%s'", fn,
				     names[i]);
			return -1;
		}
	return 0;
}

static PyObject *py_op(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "metric", "duration_ns", "symbol", "strategy" };
	PyObject *a[4];
	const char *m, *sym, *st;
	unsigned long long d;

	(void)self;
	if (parse("op", args, nargs, kwnames, names, 4, 2, a, NULL))
		return NULL;
	if (!PyLong_Check(a[1])) {
		PyErr_Format(PyExc_TypeError, "perfbpf.op(): duration_ns must be int, not %.100s",
			     Py_TYPE(a[1])->tp_name);
		return NULL;
	}
	d = PyLong_AsUnsignedLongLong(a[1]);
	if (d == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_SetString(PyExc_ValueError, "perfbpf.op(): duration_ns must be from 0 to 2**64-1");
		return NULL;
	}
	if (!(m = utf8(a[0], "metric", 1)) || !(sym = utf8(a[2], "symbol", 0)) ||
	    !(st = utf8(a[3], "strategy", 0)))
		return NULL;
	PERFBPF_OP(m, sym, st, (uint64_t)d);
	Py_RETURN_NONE;
}

static PyObject *py_enabled(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyBool_FromLong(PERFBPF_ENABLED());
}

static PyObject *py_now_ns(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyLong_FromUnsignedLongLong(perfbpf_now_ns());
}

/* A span or a timed block: what `with` enters and leaves. */
enum { SCOPE_SPAN, SCOPE_TIMED };
/* Scope.state */
enum { SCOPE_IDLE, SCOPE_CURRENT /* entered with `with` */, SCOPE_STARTED /* by start() */ };

typedef struct {
	PyObject_HEAD
	int kind;  /* SCOPE_* */
	int state; /* SCOPE_IDLE, _CURRENT, _STARTED */
	PyObject *name, *symbol, *strategy; /* str or NULL */
	PyObject *attrs;        /* dict or NULL */
	perfbpf_stamp_t start;  /* timed */
	uint64_t id;            /* span: its id while open and recorded, else 0 */
	PyObject *token;        /* span: the current-span variable's token while it is current */
} Scope;

/* The span current in the caller's context (a Scope), for the parent of the next one. */
static PyObject *current_span;

static void scope_dealloc(Scope *s)
{
	Py_XDECREF(s->name);
	Py_XDECREF(s->symbol);
	Py_XDECREF(s->strategy);
	Py_XDECREF(s->attrs);
	Py_XDECREF(s->token);
	Py_TYPE(s)->tp_free((PyObject *)s);
}

/* 0 if `value` is an attribute value the probes take (str, int in 64 bits, bool, float, or a
 * list or tuple, recorded as its str), else -1 with the error. */
static int check_value(const char *fn, const char *k, PyObject *value)
{
	if (PyLong_Check(value)) {
		int overflow;

		PyLong_AsLongLongAndOverflow(value, &overflow);
		if (overflow) {
			PyErr_Format(PyExc_OverflowError, "perfbpf.%s(): attribute '%s' does not fit "
				     "in 64 bits", fn, k);
			return -1;
		}
		return 0;
	}
	if (PyUnicode_Check(value))
		return PyUnicode_AsUTF8(value) ? 0 : -1;
	if (PyFloat_Check(value) || PyList_Check(value) || PyTuple_Check(value))
		return 0;
	PyErr_Format(PyExc_TypeError, "perfbpf.%s(): attribute '%s' must be str, int, float, bool "
		     "or a sequence of them, not %.100s", fn, k, Py_TYPE(value)->tp_name);
	return -1;
}

/* Checks a span's attributes when the span is made (so that entering it cannot fail half way). */
static int check_attrs(const char *fn, PyObject *attrs)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	while (PyDict_Next(attrs, &pos, &key, &value)) {
		const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;

		if (!k) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_TypeError, "perfbpf.%s(): attribute keys must be "
					     "str", fn);
			return -1;
		}
		if (value != Py_None && check_value(fn, k, value))
			return -1;
	}
	return 0;
}

/* One attribute of the selected span (checked by check_value; None: not recorded). */
static void put_attr(const char *k, PyObject *value)
{
	if (value == Py_None)
		return;
	if (PyUnicode_Check(value)) {
		PERFBPF_SPAN_ATTR_STR(k, PyUnicode_AsUTF8(value));
	} else if (PyLong_Check(value)) {
		PERFBPF_SPAN_ATTR_INT(k, PyLong_AsLongLong(value));
	} else if (PyFloat_Check(value)) {
		PERFBPF_SPAN_ATTR_DOUBLE(k, PyFloat_AS_DOUBLE(value));
	} else {
		PyObject *str = PyObject_Str(value);
		const char *v = str ? PyUnicode_AsUTF8(str) : NULL;

		if (v)
			PERFBPF_SPAN_ATTR_STR(k, v);
		else
			PyErr_Clear(); /* an unprintable sequence: the attribute is left out */
		Py_XDECREF(str);
	}
}

static void put_attrs(PyObject *attrs)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	while (PyDict_Next(attrs, &pos, &key, &value))
		put_attr(PyUnicode_AsUTF8(key), value);
}

/* The notes between these two annotate span s (probe span_select), not the thread's innermost. */
#define NOTES_OF(s) PERFBPF_SPAN_SELECT((s)->id)
#define NOTES_END() PERFBPF_SPAN_SELECT(0)

/* Opens span s (recorded only while a tracer wants spans), under the current span; makes it the
 * current span when `current`. 0, or -1 with an error. */
static int span_open(Scope *s, int current)
{
	uint64_t parent = 0;
	PyObject *cur = NULL;

	s->state = current ? SCOPE_CURRENT : SCOPE_STARTED;
	s->id = 0;
	if (!PERFBPF_SPAN_ENABLED())
		return 0;
	if (PyContextVar_Get(current_span, NULL, &cur))
		return -1;
	if (cur && Py_IS_TYPE(cur, Py_TYPE(s)))
		parent = ((Scope *)cur)->id;
	Py_XDECREF(cur);
	if (current) {
		s->token = PyContextVar_Set(current_span, (PyObject *)s);
		if (!s->token)
			return -1;
	}
	s->id = perfbpf_span_id();
	PERFBPF_SPAN_OPEN(utf8(s->name, "name", 1), utf8(s->symbol, "symbol", 0),
			  utf8(s->strategy, "strategy", 0), s->id, parent);
	if (s->attrs && PERFBPF_SPAN_ATTRS_ENABLED()) {
		NOTES_OF(s);
		put_attrs(s->attrs);
		NOTES_END();
	}
	return 0;
}

/* The exception's type name as OpenTelemetry records it (the class's qualified name). */
static const char *exc_type_name(PyObject *type)
{
	return PyType_Check(type) ? _PyType_Name((PyTypeObject *)type) : "exception";
}

/* Records an exception on span id: an "exception" event with its type and message (and the
 * extra attributes, if any). With `status`, the span's status becomes ERROR, "Type: message".
 * Runs Python code (str of the exception): no exception may be set when it is called. */
static void span_exception(uint64_t id, PyObject *type, PyObject *value, PyObject *extra,
			   int status)
{
	PyObject *msg = value && value != Py_None ? PyObject_Str(value) : NULL;
	const char *tname = exc_type_name(type);
	const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
	char buf[512];

	if (!m)
		PyErr_Clear(); /* an unprintable exception still fails the span */
	PERFBPF_SPAN_SELECT(id);
	PERFBPF_SPAN_EVENT("exception", "exception.type", tname);
	PERFBPF_SPAN_EVENT("", "exception.message", m ? m : "");
	if (extra && PyDict_Check(extra)) {
		PyObject *key, *v;
		Py_ssize_t pos = 0;

		while (PyDict_Next(extra, &pos, &key, &v)) {
			PyObject *vs = PyUnicode_Check(key) ? PyObject_Str(v) : NULL;
			const char *vc = vs ? PyUnicode_AsUTF8(vs) : NULL;

			if (vc)
				PERFBPF_SPAN_EVENT("", PyUnicode_AsUTF8(key), vc);
			else
				PyErr_Clear();
			Py_XDECREF(vs);
		}
	}
	if (status) {
		snprintf(buf, sizeof(buf), "%s: %s", tname, m ? m : "");
		PERFBPF_SPAN_ERROR(buf);
	}
	PERFBPF_SPAN_SELECT(0);
	Py_XDECREF(msg);
}

/* Ends span s (and, if it is current, makes its parent current again). exc_type: the exception
 * leaving its block, or NULL/None. */
static void span_close(Scope *s, PyObject *exc_type, PyObject *exc)
{
	if (s->id) {
		if (exc_type && exc_type != Py_None && PERFBPF_SPAN_ATTRS_ENABLED())
			span_exception(s->id, exc_type, exc, NULL, 1);
		PERFBPF_SPAN_CLOSE(utf8(s->name, "name", 1), s->id);
		s->id = 0;
	}
	if (s->token) {
		/* a token of another context (a generator resumed elsewhere): that context keeps
		 * its own current span */
		if (PyContextVar_Reset(current_span, s->token))
			PyErr_Clear();
		Py_CLEAR(s->token);
	}
	s->state = SCOPE_IDLE;
}

static PyObject *scope_enter(Scope *s, PyObject *unused)
{
	(void)unused;
	if (s->kind == SCOPE_SPAN && s->state == SCOPE_STARTED) {
		/* `with tracer.start_span(...) as span:` ends it at the block's end */
		Py_INCREF(s);
		return (PyObject *)s;
	}
	if (s->state != SCOPE_IDLE) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: this span or timed block is already open");
		return NULL;
	}
	if (s->kind == SCOPE_TIMED) {
		s->state = SCOPE_CURRENT;
		s->start = PERFBPF_OP_START();
	} else if (span_open(s, 1)) {
		return NULL;
	}
	Py_INCREF(s);
	return (PyObject *)s;
}

static PyObject *scope_exit(Scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError, "__exit__ takes 3 arguments");
		return NULL;
	}
	if (s->state == SCOPE_IDLE)
		Py_RETURN_FALSE;
	if (s->kind == SCOPE_TIMED) {
		s->state = SCOPE_IDLE;
		PERFBPF_OP_SINCE(utf8(s->name, "metric", 1), utf8(s->symbol, "symbol", 0),
				 utf8(s->strategy, "strategy", 0), s->start);
	} else {
		span_close(s, args[0], args[1]);
	}
	Py_RETURN_FALSE; /* the exception, if any, goes on */
}

/* --- the OpenTelemetry span methods ----------------------------------------------------------- */

static int is_span(Scope *s, const char *fn)
{
	if (s->kind == SCOPE_SPAN)
		return 1;
	PyErr_Format(PyExc_TypeError, "perfbpf: %s() is a span's, not a timed block's", fn);
	return 0;
}

/* span.start(): opens the span without making it current (OpenTelemetry's start_span). */
static PyObject *scope_start(Scope *s, PyObject *unused)
{
	(void)unused;
	if (!is_span(s, "start"))
		return NULL;
	if (s->state != SCOPE_IDLE) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: this span is already open");
		return NULL;
	}
	if (span_open(s, 0))
		return NULL;
	Py_INCREF(s);
	return (PyObject *)s;
}

/* span.end(end_time=None): ends a span opened by start() (or a current one). */
static PyObject *scope_end(Scope *s, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	(void)args;
	(void)nargs;
	(void)kwnames;
	if (!is_span(s, "end"))
		return NULL;
	if (s->state != SCOPE_IDLE)
		span_close(s, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *scope_is_recording(Scope *s, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(s->id != 0);
}

static PyObject *scope_set_attribute(Scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	const char *k;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "perfbpf: set_attribute(key, value)");
		return NULL;
	}
	if (!is_span(s, "set_attribute") || !(k = utf8(args[0], "attribute key", 1)))
		return NULL;
	if (args[1] != Py_None && check_value("set_attribute", k, args[1]))
		return NULL;
	if (s->id && PERFBPF_SPAN_ATTRS_ENABLED()) {
		NOTES_OF(s);
		put_attr(k, args[1]);
		NOTES_END();
	}
	Py_RETURN_NONE;
}

static PyObject *scope_set_attributes(Scope *s, PyObject *attrs)
{
	if (!is_span(s, "set_attributes"))
		return NULL;
	if (!PyDict_Check(attrs)) {
		PyErr_SetString(PyExc_TypeError, "perfbpf: set_attributes() takes a dict");
		return NULL;
	}
	if (check_attrs("set_attributes", attrs))
		return NULL;
	if (s->id && PERFBPF_SPAN_ATTRS_ENABLED()) {
		NOTES_OF(s);
		put_attrs(attrs);
		NOTES_END();
	}
	Py_RETURN_NONE;
}

/* span.add_event(name, attributes=None, timestamp=None): an event now (the timestamp is not
 * used: perfbpf stamps it), its attributes recorded as strings. */
static PyObject *scope_add_event(Scope *s, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	static const char *const names[] = { "name", "attributes", "timestamp" };
	PyObject *a[3], *key, *v;
	Py_ssize_t pos = 0;
	const char *name;
	int first = 1;

	if (!is_span(s, "add_event") || parse("add_event", args, nargs, kwnames, names, 3, 1, a, NULL))
		return NULL;
	if (!(name = utf8(a[0], "event name", 1)))
		return NULL;
	if (a[1] && a[1] != Py_None && !PyDict_Check(a[1])) {
		PyErr_SetString(PyExc_TypeError, "perfbpf: add_event() attributes must be a dict");
		return NULL;
	}
	if (!s->id || !PERFBPF_SPAN_ATTRS_ENABLED())
		Py_RETURN_NONE;
	NOTES_OF(s);
	while (a[1] && a[1] != Py_None && PyDict_Next(a[1], &pos, &key, &v)) {
		PyObject *vs = PyUnicode_Check(key) ? PyObject_Str(v) : NULL;
		const char *vc = vs ? PyUnicode_AsUTF8(vs) : NULL;

		if (vc) {
			/* the first attribute comes with the event, the others add to it */
			PERFBPF_SPAN_EVENT(first ? name : "", PyUnicode_AsUTF8(key), vc);
			first = 0;
		} else {
			PyErr_Clear();
		}
		Py_XDECREF(vs);
	}
	if (first)
		PERFBPF_SPAN_EVENT(name, (const char *)0, (const char *)0);
	NOTES_END();
	Py_RETURN_NONE;
}

/* span.record_exception(exception, attributes=None, timestamp=None, escaped=False) */
static PyObject *scope_record_exception(Scope *s, PyObject *const *args, Py_ssize_t nargs,
					PyObject *kwnames)
{
	static const char *const names[] = { "exception", "attributes", "timestamp", "escaped" };
	PyObject *a[4];

	if (!is_span(s, "record_exception") ||
	    parse("record_exception", args, nargs, kwnames, names, 4, 1, a, NULL))
		return NULL;
	if (s->id && PERFBPF_SPAN_ATTRS_ENABLED())
		span_exception(s->id, (PyObject *)Py_TYPE(a[0]), a[0], a[1], 0);
	Py_RETURN_NONE;
}

/* span.set_status(status, description=None): status ERROR (an OpenTelemetry Status or
 * StatusCode, or anything whose name or status_code's name is "ERROR") fails the span; OK and
 * UNSET leave it. */
static PyObject *scope_set_status(Scope *s, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	static const char *const names[] = { "status", "description" };
	PyObject *a[2], *code, *cname, *desc = NULL;
	const char *cn, *d = "";
	int error;

	if (!is_span(s, "set_status") || parse("set_status", args, nargs, kwnames, names, 2, 1, a, NULL))
		return NULL;
	/* Status(status_code, description) or a StatusCode */
	code = PyObject_HasAttrString(a[0], "status_code") ? PyObject_GetAttrString(a[0], "status_code")
							    : Py_NewRef(a[0]);
	if (!code)
		return NULL;
	cname = PyObject_HasAttrString(code, "name") ? PyObject_GetAttrString(code, "name")
						    : PyObject_Str(code);
	Py_DECREF(code);
	if (!cname)
		return NULL;
	cn = PyUnicode_Check(cname) ? PyUnicode_AsUTF8(cname) : NULL;
	error = cn && (strcmp(cn, "ERROR") == 0 || strcmp(cn, "StatusCode.ERROR") == 0);
	Py_DECREF(cname);
	if (!error || !s->id || !PERFBPF_SPAN_ATTRS_ENABLED())
		Py_RETURN_NONE;
	if (a[1] && a[1] != Py_None)
		desc = Py_NewRef(a[1]);
	else if (PyObject_HasAttrString(a[0], "description"))
		desc = PyObject_GetAttrString(a[0], "description");
	if (desc && desc != Py_None && PyUnicode_Check(desc))
		d = PyUnicode_AsUTF8(desc);
	if (!d) {
		PyErr_Clear();
		d = "";
	}
	NOTES_OF(s);
	PERFBPF_SPAN_ERROR(d);
	NOTES_END();
	Py_XDECREF(desc);
	Py_RETURN_NONE;
}

/* set by the package (_set_decorator): builds the wrapper of a function decorated with a span or
 * timed block, which opens a new one per call (so that recursion nests) */
static PyObject *decorate;

static PyObject *scope_call(Scope *s, PyObject *args, PyObject *kw)
{
	PyObject *func;

	if (kw || PyTuple_GET_SIZE(args) != 1 || !PyCallable_Check(PyTuple_GET_ITEM(args, 0))) {
		PyErr_SetString(PyExc_TypeError, "perfbpf: a span or timed block decorates one "
				"function: @perfbpf.span(name) def f(): ...");
		return NULL;
	}
	if (!decorate) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: import the perfbpf package, not "
				"perfbpf._perfbpf");
		return NULL;
	}
	func = PyTuple_GET_ITEM(args, 0);
	return PyObject_CallFunction(decorate, "iOOOOO", s->kind, s->name,
				     s->symbol ? s->symbol : Py_None,
				     s->strategy ? s->strategy : Py_None,
				     s->attrs ? s->attrs : Py_None, func);
}

static PyObject *py_current_span(PyObject *self, PyObject *unused)
{
	PyObject *cur = NULL;

	(void)self;
	(void)unused;
	if (PyContextVar_Get(current_span, Py_None, &cur))
		return NULL;
	return cur;
}

static PyObject *py_set_decorator(PyObject *self, PyObject *fn)
{
	(void)self;
	Py_XSETREF(decorate, Py_NewRef(fn));
	Py_RETURN_NONE;
}

#define FASTCALL_KW(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL | METH_KEYWORDS
static PyMethodDef scope_methods[] = {
	{ "__enter__", (PyCFunction)scope_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)(void (*)(void))scope_exit, METH_FASTCALL, NULL },
	{ "start", (PyCFunction)scope_start, METH_NOARGS,
	  "Opens the span without making it current; end() ends it." },
	{ "end", FASTCALL_KW(scope_end), "Ends the span." },
	{ "is_recording", (PyCFunction)scope_is_recording, METH_NOARGS,
	  "Whether the span is open and recorded (a tracer is attached)." },
	{ "set_attribute", (PyCFunction)(void (*)(void))scope_set_attribute, METH_FASTCALL,
	  "set_attribute(key, value): an attribute of this span." },
	{ "set_attributes", (PyCFunction)scope_set_attributes, METH_O,
	  "set_attributes(dict): attributes of this span." },
	{ "add_event", FASTCALL_KW(scope_add_event),
	  "add_event(name, attributes=None, timestamp=None): an event of this span, now." },
	{ "record_exception", FASTCALL_KW(scope_record_exception),
	  "record_exception(exception, attributes=None, ...): an exception event." },
	{ "set_status", FASTCALL_KW(scope_set_status),
	  "set_status(status, description=None): ERROR fails the span." },
	{ NULL, NULL, 0, NULL },
};

static PyTypeObject ScopeType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "perfbpf.Scope",
	.tp_basicsize = sizeof(Scope),
	.tp_dealloc = (destructor)scope_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A perfbpf span or timed block: use it with `with`.",
	.tp_methods = scope_methods,
	.tp_call = (ternaryfunc)scope_call,
};

/* A scope of names a[0..3); takes the reference to attrs (a dict, or NULL), released on
 * failure. */
static PyObject *new_scope(int kind, PyObject **a, PyObject *attrs)
{
	Scope *s = NULL;

	for (int i = 0; i < 3; i++)
		if (!utf8(a[i], i == 0 ? (kind == SCOPE_SPAN ? "name" : "metric")
					: i == 1 ? "symbol" : "strategy", i == 0))
			goto fail;
	s = PyObject_New(Scope, &ScopeType);
	if (!s)
		goto fail;
	s->kind = kind;
	s->state = SCOPE_IDLE;
	s->start = 0;
	s->id = 0;
	s->token = NULL;
	s->name = a[0];
	s->symbol = a[1] == Py_None ? NULL : a[1];
	s->strategy = a[2] == Py_None ? NULL : a[2];
	Py_INCREF(s->name);
	Py_XINCREF(s->symbol);
	Py_XINCREF(s->strategy);
	s->attrs = attrs; /* the caller's reference */
	return (PyObject *)s;
fail:
	Py_XDECREF(attrs);
	return NULL;
}

static PyObject *py_span(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			 PyObject *kwnames)
{
	static const char *const names[] = { "name", "symbol", "strategy" };
	PyObject *a[3], *attrs = NULL;

	(void)self;
	if (parse("span", args, nargs, kwnames, names, 3, 1, a, &attrs) ||
	    (attrs && check_attrs("span", attrs))) {
		Py_XDECREF(attrs);
		return NULL;
	}
	return new_scope(SCOPE_SPAN, a, attrs);
}

/* _span_attrs(name, attributes): a span with attributes from a dict (None: none), whatever
 * their keys (perfbpf.otel: OpenTelemetry's attributes may be named "symbol" or "name"). */
static PyObject *py_span_attrs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *a[3] = { NULL, Py_None, Py_None }, *attrs = NULL;

	(void)self;
	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "perfbpf._span_attrs(name, attributes)");
		return NULL;
	}
	a[0] = args[0];
	if (args[1] != Py_None) {
		if (!PyDict_Check(args[1])) {
			PyErr_Format(PyExc_TypeError, "perfbpf: attributes must be a dict, not %.100s",
				     Py_TYPE(args[1])->tp_name);
			return NULL;
		}
		if (PyDict_GET_SIZE(args[1]) && (!(attrs = PyDict_Copy(args[1])) ||
						 check_attrs("span", attrs))) {
			Py_XDECREF(attrs);
			return NULL;
		}
	}
	return new_scope(SCOPE_SPAN, a, attrs);
}

static PyObject *py_timed(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	static const char *const names[] = { "metric", "symbol", "strategy" };
	PyObject *a[3];

	(void)self;
	if (parse("timed", args, nargs, kwnames, names, 3, 1, a, NULL))
		return NULL;
	return new_scope(SCOPE_TIMED, a, NULL);
}

/* --- perfbpf run --python: spans for unmodified functions -------------------------------------- */

/* A C-level profile function (PyEval_SetProfile) sees every Python call and return of a thread;
 * whether a code object's module.qualname matches a pattern is decided once and kept in the
 * code object's extra slot. A matching call opens a span with an id whose parent is the
 * thread's innermost open function span (else the context's current span); its return (also
 * by an exception, which fails the span) closes it. A generator or coroutine gets one span per
 * resumption (the profiler sees each resumption as a call and each yield as a return). */

#define FN_PATTERNS 64
#define FN_DEPTH 1024 /* open function spans per thread; deeper calls are not recorded */
#define FN_NOMATCH ((void *)1)

struct fn {
	char name[PERFBPF_NAME_METRIC]; /* module.qualname, cut to a span name */
};

static char *fn_patterns[FN_PATTERNS];
static int fn_npatterns;
static Py_ssize_t fn_extra = -1; /* the code objects' extra slot */

/* A thread's open function spans. On the heap: the module's thread-local storage is static
 * (the recorder's is initial-exec), where only a few bytes are to be had. */
struct fn_thread {
	int depth, overflow;
	struct {
		PyObject *code; /* borrowed: only compared */
		uint64_t id;    /* 0: not recorded (no tracer then) */
	} stack[FN_DEPTH];
};

static __thread struct fn_thread *fn_th;
static pthread_key_t fn_key; /* frees a thread's fn_thread when it exits */

#if PY_VERSION_HEX >= 0x030C0000
#define CODE_EXTRA_INDEX PyUnstable_Eval_RequestCodeExtraIndex
#define CODE_GET_EXTRA PyUnstable_Code_GetExtra
#define CODE_SET_EXTRA PyUnstable_Code_SetExtra
#else
#define CODE_EXTRA_INDEX _PyEval_RequestCodeExtraIndex
#define CODE_GET_EXTRA _PyCode_GetExtra
#define CODE_SET_EXTRA _PyCode_SetExtra
#endif

static void fn_free(void *p)
{
	if (p != FN_NOMATCH)
		PyMem_RawFree(p);
}

/* The code object's decision, made on its first call: a struct fn, or FN_NOMATCH. */
static struct fn *fn_of(PyFrameObject *frame, PyObject *code)
{
	void *x = NULL;
	PyObject *globals, *mod, *qual;
	const char *m = "", *q;
	char name[512];
	struct fn *f = FN_NOMATCH;

	if (CODE_GET_EXTRA(code, fn_extra, &x) == 0 && x)
		return x;
	PyErr_Clear();
	globals = PyFrame_GetGlobals(frame);
	mod = globals ? PyDict_GetItemString(globals, "__name__") : NULL;
	if (mod && PyUnicode_Check(mod))
		m = PyUnicode_AsUTF8(mod);
	qual = ((PyCodeObject *)code)->co_qualname;
	q = qual && PyUnicode_Check(qual) ? PyUnicode_AsUTF8(qual) : NULL;
	if (!m || !q) {
		PyErr_Clear();
		q = q ? q : "?";
		m = m ? m : "";
	}
	snprintf(name, sizeof(name), "%s%s%s", m, *m ? "." : "", q);
	Py_XDECREF(globals);
	for (int i = 0; i < fn_npatterns; i++)
		if (fnmatch(fn_patterns[i], name, 0) == 0) {
			size_t n = strnlen(name, sizeof(f->name) - 1); /* perfbpf keeps 63 bytes */

			f = PyMem_RawMalloc(sizeof(*f));
			if (f) {
				memcpy(f->name, name, n);
				f->name[n] = '\0';
			} else {
				f = FN_NOMATCH;
			}
			break;
		}
	if (CODE_SET_EXTRA(code, fn_extra, f)) {
		PyErr_Clear();
		fn_free(f);
		return FN_NOMATCH;
	}
	return f;
}

/* The parent of a function span opened now: the thread's innermost open one, else the current
 * span of the context (a `with perfbpf.span`). */
static uint64_t fn_parent(const struct fn_thread *t)
{
	PyObject *cur = NULL;
	uint64_t id = 0;

	for (int d = t->depth - 1; d >= 0; d--)
		if (t->stack[d].id)
			return t->stack[d].id;
	if (PyContextVar_Get(current_span, NULL, &cur) == 0 && cur &&
	    Py_IS_TYPE(cur, &ScopeType))
		id = ((Scope *)cur)->id;
	Py_XDECREF(cur);
	PyErr_Clear();
	return id;
}

static struct fn_thread *fn_thread_new(void)
{
	struct fn_thread *t = calloc(1, sizeof(*t));

	if (t && pthread_setspecific(fn_key, t)) {
		free(t);
		t = NULL;
	}
	return fn_th = t;
}

static int fn_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
	int on = PERFBPF_SPAN_ENABLED();
	struct fn_thread *t = fn_th;
	PyObject *code;
	struct fn *f;

	(void)obj;
	if ((what != PyTrace_CALL && what != PyTrace_RETURN) || (!on && (!t || t->depth == 0)))
		return 0;
	if (!t && !(t = fn_thread_new()))
		return 0; /* no memory: this thread's functions are not traced */
	code = (PyObject *)PyFrame_GetCode(frame);
	f = fn_of(frame, code);
	Py_DECREF(code);
	if (f == FN_NOMATCH)
		return 0;
	if (what == PyTrace_CALL) {
		uint64_t id = 0;

		if (t->depth == FN_DEPTH) {
			t->overflow++;
			return 0;
		}
		if (on) {
			id = perfbpf_span_id();
			PERFBPF_SPAN_OPEN(f->name, "", "", id, fn_parent(t));
		}
		t->stack[t->depth].code = code;
		t->stack[t->depth++].id = id;
		return 0;
	}
	if (t->overflow) {
		t->overflow--;
		return 0;
	}
	/* a return without its call (the function was running when the hook came): not ours */
	if (t->depth == 0 || t->stack[t->depth - 1].code != code)
		return 0;
	t->depth--;
	if (t->stack[t->depth].id) {
		uint64_t id = t->stack[t->depth].id;
		if (!arg && PERFBPF_SPAN_ATTRS_ENABLED()) {
			/* the function is leaving by an exception: it fails the span. The interpreter
			 * hides the exception from a profile function (3.11 fetches it around the
			 * call), so the event has no type. */
			PERFBPF_SPAN_SELECT(id);
			PERFBPF_SPAN_EVENT("exception", (const char *)0, (const char *)0);
			PERFBPF_SPAN_ERROR("the function raised an exception");
			PERFBPF_SPAN_SELECT(0);
		}
		PERFBPF_SPAN_CLOSE(f->name, id);
	}
	return 0;
}

/* The profile function of a new thread (threading.setprofile): installs fn_profile for the
 * thread, then handles the event it was called for. */
static PyObject *py_thread_hook(PyObject *self, PyObject *args)
{
	PyObject *frame, *event, *arg;
	const char *e;

	(void)self;
	if (!PyArg_ParseTuple(args, "OUO", &frame, &event, &arg))
		return NULL;
	PyEval_SetProfile(fn_profile, NULL);
	e = PyUnicode_AsUTF8(event);
	if (e && PyFrame_Check(frame) && (!strcmp(e, "call") || !strcmp(e, "return")))
		fn_profile(NULL, (PyFrameObject *)frame, e[0] == 'c' ? PyTrace_CALL : PyTrace_RETURN,
			   e[0] == 'c' ? Py_None : arg);
	Py_RETURN_NONE;
}

static PyMethodDef thread_hook_def = { "_thread_hook", py_thread_hook, METH_VARARGS, NULL };

/* _trace_functions(patterns): every call of a function whose module.qualname matches one of
 * the glob patterns becomes a span, in this thread and in threads started from now on. */
static PyObject *py_trace_functions(PyObject *self, PyObject *patterns)
{
	PyObject *seq, *threading, *hook, *r;

	(void)self;
	if (fn_npatterns) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: the function hook is already installed");
		return NULL;
	}
	seq = PySequence_Fast(patterns, "perfbpf: patterns must be a list of str");
	if (!seq)
		return NULL;
	for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
		const char *p = utf8(PySequence_Fast_GET_ITEM(seq, i), "pattern", 1);

		if (!p || fn_npatterns == FN_PATTERNS || !(fn_patterns[fn_npatterns] = strdup(p))) {
			if (p)
				PyErr_Format(PyExc_ValueError, "perfbpf: at most %d patterns",
					     FN_PATTERNS);
			Py_DECREF(seq);
			return NULL;
		}
		fn_npatterns++;
	}
	Py_DECREF(seq);
	if (pthread_key_create(&fn_key, free)) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: no thread key left");
		return NULL;
	}
	if (fn_extra < 0 && (fn_extra = CODE_EXTRA_INDEX(fn_free)) < 0) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: no code object slot left");
		return NULL;
	}
	threading = PyImport_ImportModule("threading");
	hook = PyCFunction_New(&thread_hook_def, NULL);
	r = threading && hook ? PyObject_CallMethod(threading, "setprofile", "O", hook) : NULL;
	Py_XDECREF(threading);
	Py_XDECREF(hook);
	if (!r)
		return NULL;
	Py_DECREF(r);
#if PY_VERSION_HEX >= 0x030C0000
	PyEval_SetProfileAllThreads(fn_profile, NULL);
#else
	PyEval_SetProfile(fn_profile, NULL);
#endif
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
	{ "op", (PyCFunction)(void (*)(void))py_op, METH_FASTCALL | METH_KEYWORDS,
	  "op(metric, duration_ns, symbol=None, strategy=None): one timed operation." },
	{ "span", (PyCFunction)(void (*)(void))py_span, METH_FASTCALL | METH_KEYWORDS,
	  "span(name, symbol=None, strategy=None, **attributes): a span, as a context manager." },
	{ "timed", (PyCFunction)(void (*)(void))py_timed, METH_FASTCALL | METH_KEYWORDS,
	  "timed(metric, symbol=None, strategy=None): times its block and records it as an op." },
	{ "enabled", py_enabled, METH_NOARGS, "Whether a tracer is attached." },
	{ "now_ns", py_now_ns, METH_NOARGS, "perfbpf's clock (CLOCK_MONOTONIC) in ns." },
	{ "current_span", py_current_span, METH_NOARGS,
	  "The span current in this context (the innermost open `with` span), or None." },
	{ "_set_decorator", py_set_decorator, METH_O, NULL },
	{ "_span_attrs", (PyCFunction)(void (*)(void))py_span_attrs, METH_FASTCALL, NULL },
	{ "_trace_functions", py_trace_functions, METH_O,
	  "_trace_functions(patterns): calls of functions whose module.qualname matches are "
	  "spans (perfbpf run --python)." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "perfbpf._perfbpf",
	"perfbpf's probes (see the perfbpf package).", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__perfbpf(void)
{
	PyObject *m;

	if (PyType_Ready(&ScopeType) < 0)
		return NULL;
	if (!current_span && !(current_span = PyContextVar_New("perfbpf.current_span", NULL)))
		return NULL;
	m = PyModule_Create(&module);
	if (m && PyModule_AddObjectRef(m, "Scope", (PyObject *)&ScopeType) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
