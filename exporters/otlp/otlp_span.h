/* SPDX-License-Identifier: BSD-2-Clause */
/* The spans perfbpf exports over OTLP, as the encoders see them: ids, Unix times, attributes,
 * events, status, and the process (resource) each came from. */
#ifndef PERFBPF_OTLP_SPAN_H
#define PERFBPF_OTLP_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum otlp_value_type { OTLP_STR = 1, OTLP_INT = 2, OTLP_DOUBLE = 3 };

struct otlp_attr {
	char *key;
	enum otlp_value_type type;
	char *s; /* OTLP_STR */
	int64_t i;
	double d;
};

struct otlp_attrs {
	struct otlp_attr *v;
	size_t n, cap;
};

/* One process: the OTLP Resource of its spans. Immutable once made. */
struct otlp_resource {
	uint32_t pid;
	struct otlp_attrs attrs;
};

struct otlp_event {
	uint64_t time_unix_ns;
	char *name;
	struct otlp_attrs attrs;
};

enum otlp_status { OTLP_STATUS_UNSET = 0, OTLP_STATUS_OK = 1, OTLP_STATUS_ERROR = 2 };
#define OTLP_SPAN_KIND_INTERNAL 1

struct otlp_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_id[8];  /* all zero for a root */
	bool has_parent;
	const struct otlp_resource *resource;
	char *name;
	uint64_t start_unix_ns, end_unix_ns;
	struct otlp_attrs attrs;
	struct otlp_event *events;
	size_t nevents;
	enum otlp_status status;
	char *status_message;
	struct otlp_span *next; /* the list a span is on (queue, trace buffer) */
};

/* Attribute setters: a key already present gets the new value (the last write wins, as with
 * Span.SetAttribute). 0 or -ENOMEM. */
int otlp_attrs__set_str(struct otlp_attrs *a, const char *key, const char *value);
int otlp_attrs__set_int(struct otlp_attrs *a, const char *key, int64_t value);
int otlp_attrs__set_double(struct otlp_attrs *a, const char *key, double value);
void otlp_attrs__free(struct otlp_attrs *a);

/* Appends an event with no attributes: the new event, or NULL without memory. */
struct otlp_event *otlp_span__add_event(struct otlp_span *s, uint64_t time_unix_ns,
					const char *name);
void otlp_span__free(struct otlp_span *s);
/* Frees a list linked by `next`. */
void otlp_span__free_list(struct otlp_span *s);

/* Whether spans[i] is the first of spans[0..i] from its resource: the encoders write one
 * ResourceSpans per resource, in order of first appearance. */
bool otlp_first_of_resource(struct otlp_span *const *spans, size_t i);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void otlp_hex(const uint8_t *b, size_t n, char *out);

#endif
