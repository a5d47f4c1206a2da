// SPDX-License-Identifier: BSD-2-Clause
/* The perfbpf USDT probes, one table, attached per object and process (see tracer.h). */
#include "user/collect/tracer_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "user/lib/util.h"

const struct probe_def tracer_probes[] = {
#define PROBE(name, abi, note) { #name, abi, note, offsetof(struct perfbpf_bpf, progs.perfbpf_##name) }
	PROBE(op, 1, false), PROBE(span_begin, 1, false), PROBE(span_end, 1, false),
	PROBE(span_attr_str, 2, true), PROBE(span_attr_int, 2, true),
	PROBE(span_attr_double, 2, true), PROBE(span_event, 2, true), PROBE(span_error, 2, true),
	PROBE(flush, 3, false), PROBE(span_open, 1, false), PROBE(span_close, 1, false),
	PROBE(span_select, 2, true), PROBE(notes, 3, true),
#undef PROBE
};
const size_t tracer_nprobes = sizeof(tracer_probes) / sizeof(tracer_probes[0]);

static const struct probe_def *probe_named(const char *name)
{
	for (size_t i = 0; i < tracer_nprobes; i++)
		if (strcmp(tracer_probes[i].name, name) == 0)
			return &tracer_probes[i];
	return NULL;
}

int tracer__attach(struct tracer *t, int pid, const char *path, const char *display,
		   const struct sdt_notes *notes)
{
	/* an object with ABI v3 records its ops and spans itself: its per-event probes stay
	 * detached (they would count every event twice) */
	bool v3 = t->opts.batches && sdt__count(notes, "perfbpf", "flush") > 0;
	/* and one with a notes site records its span notes too: their probes stay detached */
	bool v3_notes = v3 && sdt__count(notes, "perfbpf", "notes") > 0;
	int sites = 0;

	for (size_t i = 0; i < tracer_nprobes; i++) {
		const struct probe_def *p = &tracer_probes[i];
		size_t cnt = sdt__count(notes, "perfbpf", p->name);
		int link, *links;

		if (cnt == 0 || !probe_used(&t->opts, p) || (v3 && p->abi == 1) ||
		    (v3_notes && p->abi == 2))
			continue;
		link = usdt_multi__attach(bpf_program__fd(probe_prog(t, p)), &t->specs, path, pid,
					  notes, "perfbpf", p->name);
		if (link < 0) {
			pb_err("cannot attach to perfbpf:%s in %s (pid %d): %s", p->name, display, pid,
			       link == -EINVAL ? "probe arguments in a form perfbpf cannot read"
					       : strerror(-link));
			return link;
		}
		links = realloc(t->links, (t->nlinks + 1) * sizeof(*links));
		if (!links) {
			close(link);
			return -ENOMEM;
		}
		t->links = links;
		t->links[t->nlinks++] = link;
		sites += (int)cnt;
	}
	for (size_t i = 0; i < notes->n; i++) {
		const char *name = notes->v[i].name;

		if (strcmp(notes->v[i].provider, "perfbpf") == 0 && !probe_named(name))
			pb_warn("%s: probe perfbpf:%s is newer than this perfbpf; ignored", display,
				name);
	}
	return sites;
}

int tracer__attach_new(struct tracer *t, int pid, struct probe_objs *po)
{
	for (; po->done < po->objs.n; po->done++) {
		struct target_obj *ob = &po->objs.v[po->done];
		struct sdt_notes notes;
		int n;

		if (sdt__read_file(ob->open_path, &notes)) {
			pb_debug("%s: no readable ELF notes, skipped", ob->path);
			continue;
		}
		if (sdt__count(&notes, "perfbpf", NULL) == 0) {
			sdt__free(&notes);
			continue;
		}
		n = tracer__attach(t, pid, ob->open_path, ob->path, &notes);
		sdt__free(&notes);
		if (n < 0)
			return n;
		if (n > 0) {
			po->binaries++;
			po->sites += (unsigned)n;
			pb_debug("attached %d probe sites in %s", n, ob->path);
		}
	}
	return 0;
}
