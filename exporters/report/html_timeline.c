// SPDX-License-Identifier: BSD-2-Clause
/* The HTML report's span timeline (see html_timeline.h). */
#include "exporters/report/html_timeline.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/u64map.h"

struct tl_event {
	uint64_t start, dur;
	uint32_t lane, name;
	uint32_t depth;
	uint8_t kind;
};

struct html_timeline {
	struct tl_event *ev;
	size_t n, max, seen;
	uint64_t t0;              /* the earliest start captured */
	uint64_t *lanes;          /* pid << 32 | tid */
	size_t nlanes;
	struct u64map lane_of;    /* (pid << 32 | tid) + 1 -> index + 1 */
	char **names;
	size_t nnames;
	struct u64map name_of;    /* FNV-1a of the name -> index + 1 (checked, see intern) */
};

struct html_timeline *html_timeline__new(size_t max_events)
{
	struct html_timeline *t = calloc(1, sizeof(*t));

	if (t) {
		t->max = max_events;
		t->t0 = UINT64_MAX;
	}
	return t;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h | 1; /* never 0: the map's empty key */
}

/* Room for element n of an array that holds n (its capacity: 1, then doubled whenever n
 * reaches a power of two). 0 or -ENOMEM. */
static int reserve(void **v, size_t n, size_t size)
{
	void *p;

	if (n && (n & (n - 1)))
		return 0;
	p = realloc(*v, (n ? 2 * n : 1) * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

/* The name's index, added if new; a hash collision (two names, one hash) falls back to a
 * search, so a name is never shown as another's. */
static int intern(struct html_timeline *t, const char *name, uint32_t *out)
{
	uint64_t h = fnv1a(name);
	uintptr_t at = (uintptr_t)u64map__get(&t->name_of, h);

	if (at && !strcmp(t->names[at - 1], name)) {
		*out = (uint32_t)(at - 1);
		return 0;
	}
	for (size_t i = 0; at && i < t->nnames; i++)
		if (!strcmp(t->names[i], name)) {
			*out = (uint32_t)i;
			return 0;
		}
	if (reserve((void **)&t->names, t->nnames, sizeof(*t->names)) ||
	    !(t->names[t->nnames] = strdup(name)))
		return -ENOMEM;
	if (!at && u64map__put(&t->name_of, h, (void *)(uintptr_t)(t->nnames + 1)))
		return -ENOMEM;
	*out = (uint32_t)t->nnames++;
	return 0;
}

static int lane(struct html_timeline *t, uint32_t pid, uint32_t tid, uint32_t *out)
{
	uint64_t key = (uint64_t)pid << 32 | tid;
	uintptr_t at = (uintptr_t)u64map__get(&t->lane_of, key + 1);

	if (at) {
		*out = (uint32_t)(at - 1);
		return 0;
	}
	if (reserve((void **)&t->lanes, t->nlanes, sizeof(*t->lanes)) ||
	    u64map__put(&t->lane_of, key + 1, (void *)(uintptr_t)(t->nlanes + 1)))
		return -ENOMEM;
	t->lanes[t->nlanes] = key;
	*out = (uint32_t)t->nlanes++;
	return 0;
}

int html_timeline__add(struct html_timeline *t, const struct perfbpf_event *e)
{
	struct tl_event *x;
	char name[sizeof(e->names.metric) + 1];
	int err;

	t->seen++;
	if (t->n >= t->max)
		return 0;
	if (reserve((void **)&t->ev, t->n, sizeof(*t->ev)))
		return -ENOMEM;
	x = &t->ev[t->n];
	memcpy(name, e->names.metric, sizeof(e->names.metric));
	name[sizeof(e->names.metric)] = '\0';
	err = intern(t, name, &x->name) ?: lane(t, e->pid, e->tid, &x->lane);
	if (err)
		return err;
	x->dur = e->duration_ns;
	x->start = e->end_ns >= e->duration_ns ? e->end_ns - e->duration_ns : 0;
	x->depth = e->kind == PERFBPF_EV_SPAN ? e->depth : 0;
	x->kind = e->kind == PERFBPF_EV_SPAN;
	if (x->start < t->t0)
		t->t0 = x->start;
	t->n++;
	return 0;
}

struct json_object *html_timeline__json(const struct html_timeline *t)
{
	struct json_object *o = json_object_new_object(), *lanes, *names, *ev;
	uint64_t t0 = t->n ? t->t0 : 0;

	if (!o)
		return NULL;
	json_object_object_add(o, "start_ns", json_object_new_uint64(t0));
	json_object_object_add(o, "captured", json_object_new_uint64(t->n));
	json_object_object_add(o, "seen", json_object_new_uint64(t->seen));
	lanes = json_object_new_array_ext((int)t->nlanes);
	for (size_t i = 0; i < t->nlanes; i++) {
		struct json_object *l = json_object_new_array_ext(2);

		json_object_array_add(l, json_object_new_int64((int64_t)(t->lanes[i] >> 32)));
		json_object_array_add(l, json_object_new_int64((int64_t)(t->lanes[i] & 0xffffffff)));
		json_object_array_add(lanes, l);
	}
	json_object_object_add(o, "lanes", lanes);
	names = json_object_new_array_ext((int)t->nnames);
	for (size_t i = 0; i < t->nnames; i++)
		json_object_array_add(names, json_object_new_string(t->names[i]));
	json_object_object_add(o, "names", names);
	ev = json_object_new_array_ext((int)t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct tl_event *x = &t->ev[i];
		struct json_object *a = json_object_new_array_ext(6);

		json_object_array_add(a, json_object_new_int64(x->lane));
		json_object_array_add(a, json_object_new_int64(x->depth));
		json_object_array_add(a, json_object_new_int64(x->kind));
		json_object_array_add(a, json_object_new_uint64(x->start - t0));
		json_object_array_add(a, json_object_new_uint64(x->dur));
		json_object_array_add(a, json_object_new_int64(x->name));
		json_object_array_add(ev, a);
	}
	json_object_object_add(o, "events", ev);
	return o;
}

void html_timeline__free(struct html_timeline *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->lanes);
	free(t->ev);
	u64map__free(&t->lane_of);
	u64map__free(&t->name_of);
	free(t);
}
