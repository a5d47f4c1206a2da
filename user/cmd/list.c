// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf list`: the perfbpf probes in a process or a file on disk. */
#include "user/attach/permission.h"
#include "user/cmd/list.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "user/attach/sdt.h"
#include "user/attach/target.h"
#include "user/lib/util.h"

/* The newest probe ABI the object's probes speak: 3 with a flush site (events recorded in the
 * engine), 2 with span annotations, else 1. */
static int object_abi(const struct sdt_notes *notes)
{
	static const char *const v2[] = { "span_attr_str", "span_attr_int", "span_attr_double",
					  "span_event", "span_error" };

	if (sdt__count(notes, "perfbpf", "flush"))
		return 3;
	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++)
		if (sdt__count(notes, "perfbpf", v2[i]))
			return 2;
	return 1;
}

static const char *const abi_what[] = {
	[1] = "per-event probes",
	[2] = "per-event probes with span annotations",
	[3] = "events recorded in the engine, collected in batches",
};

/* Prints one object's perfbpf probes; returns how many sites. */
static size_t list_object(FILE *out, const char *display, const struct sdt_notes *notes)
{
	size_t total = sdt__count(notes, "perfbpf", NULL);
	int abi;
	bool *shown;

	if (!total)
		return 0;
	abi = object_abi(notes);
	fprintf(out, "%s  (probe ABI v%d: %s%s)\n", display, abi, abi_what[abi],
		abi == 3 && sdt__count(notes, "perfbpf", "notes") ? ", span notes too" : "");
	shown = calloc(notes->n, sizeof(*shown));
	for (size_t i = 0; shown && i < notes->n; i++) {
		const struct sdt_note *n = &notes->v[i];

		if (shown[i] || strcmp(n->provider, "perfbpf"))
			continue;
		fprintf(out, "  perfbpf:%-16s %3zu site%s  semaphore %s  args %s\n", n->name,
			sdt__count(notes, "perfbpf", n->name),
			sdt__count(notes, "perfbpf", n->name) == 1 ? " " : "s",
			n->sema ? "yes" : "no ", n->args);
		for (size_t j = i; j < notes->n; j++) {
			const struct sdt_note *m = &notes->v[j];

			if (strcmp(m->provider, "perfbpf") || strcmp(m->name, n->name))
				continue;
			shown[j] = true;
			if (pb_verbose)
				fprintf(out, "      at 0x%llx  semaphore 0x%llx  args %s\n",
					(unsigned long long)m->pc, (unsigned long long)m->sema,
					m->args);
		}
	}
	free(shown);
	return total;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int list_pid(int pid, FILE *out)
{
	struct target_objs objs = { 0 };
	size_t sites = 0, nobj = 0;
	int err = target__check(pid), n;
	char what[32];

	if (err == -ESRCH) {
		pb_err("pid %d: no such process", pid);
		return EXIT_FAIL;
	}
	if (err == -EINVAL) {
		pb_err("pid %d is a kernel thread: only user processes have perfbpf probes", pid);
		return EXIT_FAIL;
	}
	snprintf(what, sizeof(what), "pid %d", pid);
	if (permission__may_trace(pid, what))
		return EXIT_FAIL;
	n = target__scan_maps(pid, &objs);
	if (n < 0) {
		target__maps_error(pid, n);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < objs.n; i++) {
		struct sdt_notes notes;
		size_t k;

		if (sdt__read_file(objs.v[i].open_path, &notes))
			continue;
		k = list_object(out, objs.v[i].path, &notes);
		sites += k;
		nobj += k > 0;
		sdt__free(&notes);
	}
	if (!sites)
		pb_err("pid %d: no perfbpf probes in %s or its %zu other mapped objects", pid,
		       objs.n ? objs.v[0].path : "?", objs.n ? objs.n - 1 : 0);
	else
		fprintf(out, "%zu perfbpf probe sites in %zu of %zu mapped objects of pid %d\n", sites,
			nobj, objs.n, pid);
	target__free(&objs);
	return sites ? EXIT_OK : EXIT_FAIL;
}

static int list_path(const char *path, FILE *out)
{
	struct sdt_notes notes;
	struct stat st;
	size_t sites;
	int err;

	if (stat(path, &st)) {
		pb_err("%s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		pb_err("%s: not a regular file (give an executable, a shared library or a pid)", path);
		return EXIT_FAIL;
	}
	err = sdt__read_file(path, &notes);
	if (err == -ENOEXEC) {
		pb_err("%s: not an ELF file, or its SDT notes are malformed", path);
		return EXIT_FAIL;
	}
	if (err) {
		pb_err("%s: %s", path, strerror(-err));
		return EXIT_FAIL;
	}
	sites = list_object(out, path, &notes);
	if (!sites)
		pb_err("%s: no perfbpf probes (%zu SDT probes of other providers)", path, notes.n);
	sdt__free(&notes);
	return sites ? EXIT_OK : EXIT_FAIL;
}

int list__run(const struct cli_opts *o, FILE *out)
{
	int pid;
	struct stat st;

	/* A number is a pid unless a file of that name exists here. */
	if (all_digits(o->list_what) && stat(o->list_what, &st) != 0) {
		if (parse_pid(o->list_what, &pid)) {
			pb_err("invalid pid '%s'", o->list_what);
			return EXIT_USAGE;
		}
		return list_pid(pid, out);
	}
	return list_path(o->list_what, out);
}
