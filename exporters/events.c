// SPDX-License-Identifier: BSD-2-Clause
/* The raw event log (--events): one JSON object per line for every op and span. */
#include "events.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_field(struct json_object *o, const char *k, const char *field, size_t len)
{
	json_object_object_add(o, k, json_object_new_string_len(field, (int)strnlen(field, len)));
}

int events__write(FILE *f, const struct perfbpf_event *e)
{
	struct json_object *o = json_object_new_object();
	int err = 0;

	json_object_object_add(o, "kind", json_object_new_string(e->kind == PERFBPF_EV_SPAN ? "span"
											: "op"));
	add_field(o, "metric", e->names.metric, sizeof(e->names.metric));
	add_field(o, "symbol", e->names.symbol, sizeof(e->names.symbol));
	add_field(o, "strategy", e->names.strategy, sizeof(e->names.strategy));
	add_u64(o, "pid", e->pid);
	add_u64(o, "tid", e->tid);
	add_u64(o, "start_mono_ns", e->end_ns - e->duration_ns);
	add_u64(o, "end_mono_ns", e->end_ns);
	add_u64(o, "duration_ns", e->duration_ns);
	if (e->kind == PERFBPF_EV_SPAN) {
		add_u64(o, "self_ns", e->self_ns);
		add_u64(o, "span_id", e->span_id);
		add_u64(o, "parent_id", e->parent_id);
		add_u64(o, "trace_id", e->trace_id);
		add_u64(o, "depth", e->depth);
	}
	if (e->flags & PERFBPF_F_TRUNCATED)
		json_object_object_add(o, "truncated", json_object_new_boolean(1));
	if (e->flags & PERFBPF_F_FAULT)
		json_object_object_add(o, "unreadable_string", json_object_new_boolean(1));
	if (fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), f) < 0 ||
	    fputc('\n', f) == EOF)
		err = -EIO;
	json_object_put(o);
	return err;
}
