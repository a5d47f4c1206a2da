// SPDX-License-Identifier: BSD-2-Clause
/* The raw event log (--events): one JSON object per line for every op and span.
 *
 * It runs on the ring-buffer consumer's path, so each kind of record is one json-c object built
 * once and updated in place: building ~15 objects per event made the consumer fall behind three
 * busy engine threads (152,006 of 252,386 events dropped, all counted), reusing them does not. */
#include "exporters/events/events.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum field {
	F_KIND, F_METRIC, F_SYMBOL, F_STRATEGY, F_PID, F_TID, F_START, F_END, F_DURATION,
	F_SELF, F_SPAN_ID, F_PARENT_ID, F_TRACE_ID, F_DEPTH,
	F_ONCPU, F_RUNQ, F_BLOCKED, F_NVCSW, F_NIVCSW, F_MIGRATIONS,
	F_TRUNCATED, F_UNREADABLE, F__MAX,
};

static const char *const names[F__MAX] = {
	"kind", "metric", "symbol", "strategy", "pid", "tid", "start_mono_ns", "end_mono_ns",
	"duration_ns", "self_ns", "span_id", "parent_id", "trace_id", "depth", "oncpu_ns",
	"runq_ns", "blocked_ns", "voluntary_switches", "involuntary_switches", "migrations",
	"truncated", "unreadable_string",
};

/* One template per shape: op, span, span with attribution; each with and without flags. */
struct shape {
	struct json_object *obj;
	struct json_object *f[F__MAX];
};

struct events_writer {
	FILE *f;
	struct shape shapes[2][2][2]; /* [span][attributed][flagged] */
};

static void shape_init(struct shape *s, bool span, bool attributed, bool flagged)
{
	s->obj = json_object_new_object();
	for (int i = 0; i < F__MAX; i++) {
		bool want = i <= F_DURATION || (span && i <= F_DEPTH && i >= F_SELF) ||
			    (attributed && i >= F_ONCPU && i <= F_MIGRATIONS) ||
			    (flagged && i >= F_TRUNCATED);

		if (!want)
			continue;
		if (i <= F_STRATEGY)
			s->f[i] = json_object_new_string("");
		else if (i >= F_TRUNCATED)
			s->f[i] = json_object_new_boolean(0);
		else
			s->f[i] = json_object_new_uint64(0);
		json_object_object_add(s->obj, names[i], s->f[i]);
	}
	json_object_set_string(s->f[F_KIND], span ? "span" : "op");
}

struct events_writer *events__new(FILE *f)
{
	struct events_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			for (int c = 0; c < 2; c++)
				shape_init(&w->shapes[a][b][c], a, b, c);
	return w;
}

void events__free(struct events_writer *w)
{
	if (!w)
		return;
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			for (int c = 0; c < 2; c++)
				json_object_put(w->shapes[a][b][c].obj);
	free(w);
}

/* A string field of the shape, set in place. json-c 0.16 loses the buffer of a string set to ""
 * after a longer one (a leak per event whose symbol or strategy is empty after one that was
 * not): an empty value gets a new string object instead. */
static void set_str(struct shape *s, enum field i, const char *value, size_t size)
{
	size_t len = strnlen(value, size);
	struct json_object *o;

	if (len || !json_object_get_string_len(s->f[i])) {
		json_object_set_string_len(s->f[i], value, (int)len);
		return;
	}
	o = json_object_new_string("");
	if (!o)
		return; /* the previous value stays: no memory for a new object */
	json_object_object_add(s->obj, names[i], o); /* puts the old one */
	s->f[i] = o;
}

int events__write(struct events_writer *w, const struct perfbpf_event *e)
{
	bool span = e->kind == PERFBPF_EV_SPAN, attributed = span && (e->flags & PERFBPF_F_ATTRIBUTED);
	bool flagged = e->flags & (PERFBPF_F_TRUNCATED | PERFBPF_F_FAULT);
	struct shape *s = &w->shapes[span][attributed][flagged];

	set_str(s, F_METRIC, e->names.metric, sizeof(e->names.metric));
	set_str(s, F_SYMBOL, e->names.symbol, sizeof(e->names.symbol));
	set_str(s, F_STRATEGY, e->names.strategy, sizeof(e->names.strategy));
	json_object_set_uint64(s->f[F_PID], e->pid);
	json_object_set_uint64(s->f[F_TID], e->tid);
	json_object_set_uint64(s->f[F_START], e->end_ns - e->duration_ns);
	json_object_set_uint64(s->f[F_END], e->end_ns);
	json_object_set_uint64(s->f[F_DURATION], e->duration_ns);
	if (span) {
		json_object_set_uint64(s->f[F_SELF], e->self_ns);
		json_object_set_uint64(s->f[F_SPAN_ID], e->span_id);
		json_object_set_uint64(s->f[F_PARENT_ID], e->parent_id);
		json_object_set_uint64(s->f[F_TRACE_ID], e->trace_id);
		json_object_set_uint64(s->f[F_DEPTH], e->depth);
	}
	if (attributed) {
		json_object_set_uint64(s->f[F_ONCPU], e->attr.oncpu_ns);
		json_object_set_uint64(s->f[F_RUNQ], e->attr.runq_ns);
		json_object_set_uint64(s->f[F_BLOCKED], e->attr.blocked_ns);
		json_object_set_uint64(s->f[F_NVCSW], e->attr.nvcsw);
		json_object_set_uint64(s->f[F_NIVCSW], e->attr.nivcsw);
		json_object_set_uint64(s->f[F_MIGRATIONS], e->attr.migrations);
	}
	if (flagged) {
		json_object_set_boolean(s->f[F_TRUNCATED], !!(e->flags & PERFBPF_F_TRUNCATED));
		json_object_set_boolean(s->f[F_UNREADABLE], !!(e->flags & PERFBPF_F_FAULT));
	}
	if (fputs(json_object_to_json_string_ext(s->obj, JSON_C_TO_STRING_PLAIN), w->f) < 0 ||
	    fputc('\n', w->f) == EOF)
		return -EIO;
	return 0;
}
