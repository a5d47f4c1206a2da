// SPDX-License-Identifier: BSD-2-Clause
/* The Chrome Trace Event format (see chrome_trace.h): the JSON Object Format with a traceEvents
 * array. Names come from the engine: json-c escapes them. */
#include "exporters/trace/chrome_trace.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/u64map.h"

struct chrome_trace {
	FILE *f;
	struct json_object *str; /* reused to escape a string */
	struct u64map threads;   /* (pid << 32 | tid) + 1 -> 1: the threads seen */
	size_t n;                /* events written */
};

struct chrome_trace *chrome_trace__new(FILE *f)
{
	struct chrome_trace *t = calloc(1, sizeof(*t));

	if (!t || !(t->str = json_object_new_string(""))) {
		free(t);
		return NULL;
	}
	t->f = f;
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"perfbpf\"},"
	      "\"traceEvents\":[\n", f);
	return t;
}

/* A name field of the event (fixed size, maybe not terminated), as a JSON string, valid until
 * the next call: one per printf. */
static const char *quoted(struct chrome_trace *t, const char *field, size_t len)
{
	size_t n = strnlen(field, len);

	/* json-c 0.16 leaks the old buffer when a string is set empty after a longer one */
	if (!n)
		return "\"\"";
	json_object_set_string_len(t->str, field, (int)n);
	return json_object_to_json_string_ext(t->str, JSON_C_TO_STRING_PLAIN);
}

#define US(ns) (unsigned long long)((ns) / 1000), (unsigned)((ns) % 1000)
#define LLU(v) ((unsigned long long)(v))

int chrome_trace__event(struct chrome_trace *t, const struct perfbpf_event *e)
{
	bool span = e->kind == PERFBPF_EV_SPAN;
	bool async = span && (e->flags & PERFBPF_F_SPAN_ID_EXPLICIT);
	uint64_t start = e->end_ns - e->duration_ns;
	const char *sep = t->n++ ? ",\n" : "";
	FILE *f = t->f;

	uint64_t thread = ((uint64_t)e->pid << 32 | e->tid) + 1;

	/* a thread is put once (a lookup per event, no write) */
	if (!u64map__get(&t->threads, thread) && u64map__put(&t->threads, thread, (void *)1))
		return -ENOMEM;
	fprintf(f, "%s{\"name\":%s,\"cat\":\"%s\",\"ph\":\"%s\",\"ts\":%llu.%03u,", sep,
		quoted(t, e->names.metric, sizeof(e->names.metric)), span ? "span" : "op",
		async ? "b" : "X", US(start));
	if (async)
		fprintf(f, "\"id2\":{\"local\":\"0x%llx\"},", LLU(e->span_id));
	else
		fprintf(f, "\"dur\":%llu.%03u,", US(e->duration_ns));
	fprintf(f, "\"pid\":%u,\"tid\":%u,\"args\":{\"symbol\":%s,", e->pid, e->tid,
		quoted(t, e->names.symbol, sizeof(e->names.symbol)));
	fprintf(f, "\"strategy\":%s,\"duration_ns\":%llu",
		quoted(t, e->names.strategy, sizeof(e->names.strategy)), LLU(e->duration_ns));
	if (span) {
		fprintf(f, ",\"self_ns\":%llu,\"span_id\":\"0x%llx\","
			   "\"parent_id\":\"0x%llx\"", LLU(e->self_ns), LLU(e->span_id), LLU(e->parent_id));
		if (e->flags & PERFBPF_F_ATTRIBUTED)
			fprintf(f, ",\"oncpu_ns\":%llu,\"runq_ns\":%llu"
				   ",\"blocked_ns\":%llu", LLU(e->attr.oncpu_ns), LLU(e->attr.runq_ns),
				LLU(e->attr.blocked_ns));
	}
	fputs("}}", f);
	if (async) /* its end, with the same name, category and id */
		fprintf(f, ",\n{\"name\":%s,\"cat\":\"span\",\"ph\":\"e\",\"ts\":%llu.%03u,"
			   "\"id2\":{\"local\":\"0x%llx\"},\"pid\":%u,\"tid\":%u}",
			quoted(t, e->names.metric, sizeof(e->names.metric)), US(e->end_ns),
			LLU(e->span_id), e->pid, e->tid);
	return ferror(f) ? -EIO : 0;
}

int chrome_trace__finish(struct chrome_trace *t)
{
	int err;

	if (!t)
		return 0;
	for (size_t i = 0; i < t->threads.cap; i++) {
		uint64_t k = t->threads.v[i].key - 1;

		if (!t->threads.v[i].key)
			continue;
		fprintf(t->f, "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
			      "\"args\":{\"name\":\"thread %u\"}}", t->n++ ? ",\n" : "",
			(unsigned)(k >> 32), (unsigned)k, (unsigned)k);
	}
	fputs("\n]}\n", t->f);
	err = ferror(t->f) ? -EIO : 0;
	u64map__free(&t->threads);
	json_object_put(t->str);
	free(t);
	return err;
}
