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
 * Names and attribute keys are str (None: ""); attribute values str, int, float or bool. A
 * span whose block raises gets the error (the exception's type and message) before it ends,
 * and the exception goes on. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

typedef struct {
	PyObject_HEAD
	int kind; /* SCOPE_* */
	int open;               /* entered and not yet left */
	PyObject *name, *symbol, *strategy; /* str or NULL */
	PyObject *attrs;        /* dict or NULL */
	perfbpf_stamp_t start;  /* timed */
} Scope;

static void scope_dealloc(Scope *s)
{
	Py_XDECREF(s->name);
	Py_XDECREF(s->symbol);
	Py_XDECREF(s->strategy);
	Py_XDECREF(s->attrs);
	Py_TYPE(s)->tp_free((PyObject *)s);
}

/* Checks a span's attributes when the span is made (so that entering it cannot fail half way):
 * str keys; str, int (64-bit; bool too) or float values. */
static int check_attrs(PyObject *attrs)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	while (PyDict_Next(attrs, &pos, &key, &value)) {
		const char *k = PyUnicode_AsUTF8(key);

		if (!k)
			return -1;
		if (PyLong_Check(value)) {
			int overflow;

			PyLong_AsLongLongAndOverflow(value, &overflow);
			if (overflow) {
				PyErr_Format(PyExc_OverflowError, "perfbpf.span(): attribute '%s' does "
					     "not fit in 64 bits", k);
				return -1;
			}
		} else if (PyUnicode_Check(value)) {
			if (!PyUnicode_AsUTF8(value))
				return -1;
		} else if (!PyFloat_Check(value)) {
			PyErr_Format(PyExc_TypeError, "perfbpf.span(): attribute '%s' must be str, int, "
				     "float or bool, not %.100s", k, Py_TYPE(value)->tp_name);
			return -1;
		}
	}
	return 0;
}

/* The span's attributes, as the probes take them (checked by check_attrs). */
static void put_attrs(PyObject *attrs)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	while (PyDict_Next(attrs, &pos, &key, &value)) {
		const char *k = PyUnicode_AsUTF8(key);

		if (PyUnicode_Check(value))
			PERFBPF_SPAN_ATTR_STR(k, PyUnicode_AsUTF8(value));
		else if (PyLong_Check(value))
			PERFBPF_SPAN_ATTR_INT(k, PyLong_AsLongLong(value));
		else
			PERFBPF_SPAN_ATTR_DOUBLE(k, PyFloat_AS_DOUBLE(value));
	}
}

static PyObject *scope_enter(Scope *s, PyObject *unused)
{
	(void)unused;
	if (s->open) {
		PyErr_SetString(PyExc_RuntimeError, "perfbpf: this span or timed block is already open");
		return NULL;
	}
	s->open = 1;
	if (s->kind == SCOPE_TIMED) {
		s->start = PERFBPF_OP_START();
	} else {
		PERFBPF_SPAN_BEGIN(utf8(s->name, "name", 1), utf8(s->symbol, "symbol", 0),
				   utf8(s->strategy, "strategy", 0));
		if (s->attrs && PERFBPF_SPAN_ATTRS_ENABLED())
			put_attrs(s->attrs);
	}
	Py_INCREF(s);
	return (PyObject *)s;
}

/* The error of a span whose block raised: "Type: message". */
static void span_error(PyObject *type, PyObject *value)
{
	PyObject *msg = value && value != Py_None ? PyObject_Str(value) : NULL;
	const char *tname = PyType_Check(type) ? ((PyTypeObject *)type)->tp_name : "exception";
	const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
	char buf[512];

	if (!m)
		PyErr_Clear(); /* an unprintable exception still fails the span */
	snprintf(buf, sizeof(buf), "%s%s%s", tname, m && *m ? ": " : "", m ? m : "");
	PERFBPF_SPAN_EVENT("exception", "exception.type", tname);
	PERFBPF_SPAN_ERROR(buf);
	Py_XDECREF(msg);
}

static PyObject *scope_exit(Scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError, "__exit__ takes 3 arguments");
		return NULL;
	}
	if (!s->open)
		Py_RETURN_FALSE;
	s->open = 0;
	if (s->kind == SCOPE_TIMED) {
		PERFBPF_OP_SINCE(utf8(s->name, "metric", 1), utf8(s->symbol, "symbol", 0),
				 utf8(s->strategy, "strategy", 0), s->start);
	} else {
		if (args[0] != Py_None && PERFBPF_SPAN_ATTRS_ENABLED())
			span_error(args[0], args[1]);
		PERFBPF_SPAN_END(utf8(s->name, "name", 1));
	}
	Py_RETURN_FALSE; /* the exception, if any, goes on */
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

static PyObject *py_set_decorator(PyObject *self, PyObject *fn)
{
	(void)self;
	Py_XSETREF(decorate, Py_NewRef(fn));
	Py_RETURN_NONE;
}

static PyMethodDef scope_methods[] = {
	{ "__enter__", (PyCFunction)scope_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)(void (*)(void))scope_exit, METH_FASTCALL, NULL },
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

static PyObject *new_scope(int kind, PyObject **a, PyObject *attrs)
{
	Scope *s;

	for (int i = 0; i < 3; i++)
		if (!utf8(a[i], i == 0 ? (kind == SCOPE_SPAN ? "name" : "metric")
					: i == 1 ? "symbol" : "strategy", i == 0))
			return NULL;
	s = PyObject_New(Scope, &ScopeType);
	if (!s)
		return NULL;
	s->kind = kind;
	s->open = 0;
	s->start = 0;
	s->name = a[0];
	s->symbol = a[1] == Py_None ? NULL : a[1];
	s->strategy = a[2] == Py_None ? NULL : a[2];
	Py_INCREF(s->name);
	Py_XINCREF(s->symbol);
	Py_XINCREF(s->strategy);
	s->attrs = attrs; /* the caller's reference */
	return (PyObject *)s;
}

static PyObject *py_span(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			 PyObject *kwnames)
{
	static const char *const names[] = { "name", "symbol", "strategy" };
	PyObject *a[3], *attrs = NULL, *s;

	(void)self;
	if (parse("span", args, nargs, kwnames, names, 3, 1, a, &attrs) ||
	    (attrs && check_attrs(attrs))) {
		Py_XDECREF(attrs);
		return NULL;
	}
	s = new_scope(SCOPE_SPAN, a, attrs);
	if (!s)
		Py_XDECREF(attrs);
	return s;
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

static PyMethodDef methods[] = {
	{ "op", (PyCFunction)(void (*)(void))py_op, METH_FASTCALL | METH_KEYWORDS,
	  "op(metric, duration_ns, symbol=None, strategy=None): one timed operation." },
	{ "span", (PyCFunction)(void (*)(void))py_span, METH_FASTCALL | METH_KEYWORDS,
	  "span(name, symbol=None, strategy=None, **attributes): a span, as a context manager." },
	{ "timed", (PyCFunction)(void (*)(void))py_timed, METH_FASTCALL | METH_KEYWORDS,
	  "timed(metric, symbol=None, strategy=None): times its block and records it as an op." },
	{ "enabled", py_enabled, METH_NOARGS, "Whether a tracer is attached." },
	{ "now_ns", py_now_ns, METH_NOARGS, "perfbpf's clock (CLOCK_MONOTONIC) in ns." },
	{ "_set_decorator", py_set_decorator, METH_O, NULL },
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
	m = PyModule_Create(&module);
	if (m && PyModule_AddObjectRef(m, "Scope", (PyObject *)&ScopeType) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
