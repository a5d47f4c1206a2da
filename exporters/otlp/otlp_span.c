// SPDX-License-Identifier: BSD-2-Clause
/* The OTLP span model: attribute sets, events, freeing. */
#include "exporters/otlp/otlp_span.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The attribute with this key, created (with no value) if absent; NULL without memory. */
static struct otlp_attr *attr_slot(struct otlp_attrs *a, const char *key)
{
	struct otlp_attr *x;

	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].key, key) == 0) {
			free(a->v[i].s);
			a->v[i].s = NULL;
			return &a->v[i];
		}
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;

		x = realloc(a->v, cap * sizeof(*x));
		if (!x)
			return NULL;
		a->v = x;
		a->cap = cap;
	}
	x = memset(&a->v[a->n], 0, sizeof(*x));
	x->key = strdup(key);
	if (!x->key)
		return NULL;
	a->n++;
	return x;
}

int otlp_attrs__set_str(struct otlp_attrs *a, const char *key, const char *value)
{
	struct otlp_attr *x = attr_slot(a, key);

	if (!x)
		return -ENOMEM;
	x->type = OTLP_STR;
	x->s = strdup(value);
	return x->s ? 0 : -ENOMEM;
}

int otlp_attrs__set_int(struct otlp_attrs *a, const char *key, int64_t value)
{
	struct otlp_attr *x = attr_slot(a, key);

	if (!x)
		return -ENOMEM;
	x->type = OTLP_INT;
	x->i = value;
	return 0;
}

int otlp_attrs__set_double(struct otlp_attrs *a, const char *key, double value)
{
	struct otlp_attr *x = attr_slot(a, key);

	if (!x)
		return -ENOMEM;
	x->type = OTLP_DOUBLE;
	x->d = value;
	return 0;
}

void otlp_attrs__free(struct otlp_attrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].s);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

struct otlp_event *otlp_span__add_event(struct otlp_span *s, uint64_t time_unix_ns,
					const char *name)
{
	struct otlp_event *v = realloc(s->events, (s->nevents + 1) * sizeof(*v)), *e;

	if (!v)
		return NULL;
	s->events = v;
	e = memset(&v[s->nevents], 0, sizeof(*e));
	e->time_unix_ns = time_unix_ns;
	e->name = strdup(name);
	if (!e->name)
		return NULL;
	s->nevents++;
	return e;
}

void otlp_span__free(struct otlp_span *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->status_message);
	otlp_attrs__free(&s->attrs);
	for (size_t i = 0; i < s->nevents; i++) {
		free(s->events[i].name);
		otlp_attrs__free(&s->events[i].attrs);
	}
	free(s->events);
	free(s);
}

void otlp_span__free_list(struct otlp_span *s)
{
	while (s) {
		struct otlp_span *next = s->next;

		otlp_span__free(s);
		s = next;
	}
}

bool otlp_first_of_resource(struct otlp_span *const *spans, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (spans[j]->resource == spans[i]->resource)
			return false;
	return true;
}

void otlp_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}
