// SPDX-License-Identifier: BSD-2-Clause
/* Reading a JSON summary's per-run data for `perfbpf gate` (see gate.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bpf/perfbpf.h"
#include "user/gate/gate_file.h"
#include "user/model/summary.h"

/* One row of one run, before rows are grouped by key. */
struct obs {
	struct gate_key key; /* strings borrowed from the JSON document */
	unsigned run;
	struct gate_run data; /* bins owned */
};

struct loader {
	const char *path; /* the file being read, named in messages */
	char *err;
	size_t errlen;
	struct obs *obs;
	size_t nobs, cap;
	unsigned nruns;   /* runs read so far, from every file of the side */
	struct json_object **docs; /* the documents whose strings obs borrow */
	size_t ndocs;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *l, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(l->err, l->errlen, "%s: ", l->path);
	va_list ap;

	if (n < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - n, fmt, ap);
		va_end(ap);
	}
	/* one line, whatever the file holds: its strings are quoted in messages (found by
	 * fuzz_summary_json: a schema string with a newline in it) */
	for (char *c = l->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

static struct json_object *member(struct json_object *o, const char *k, enum json_type t)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int get_u64(struct loader *l, struct json_object *o, const char *k, uint64_t *out,
		   const char *where)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return fail(l, "%s: '%s' is missing or not a whole number >= 0", where, k);
	*out = json_object_get_uint64(v);
	return 0;
}

static int get_num(struct loader *l, struct json_object *o, const char *k, double *out,
		   const char *where)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return fail(l, "%s: '%s' is missing or not a number", where, k);
	*out = json_object_get_double(v);
	return 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v = member(o, k, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

static int read_bins(struct loader *l, struct json_object *h, struct gate_run *d, const char *where)
{
	size_t n = json_object_array_length(h);
	uint64_t total = 0;

	d->bins = NULL;
	d->nbins = 0;
	if (n == 0)
		return 0;
	d->bins = calloc(n, sizeof(*d->bins));
	if (!d->bins)
		return fail(l, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_array_get_idx(h, i);
		struct hist_bin *b = (struct hist_bin *)&d->bins[i];
		uint64_t lower, count;
		unsigned idx;

		if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
			return fail(l, "%s: histogram[%zu] is not a [lower_ns, count] pair", where, i);
		lower = json_object_get_uint64(json_object_array_get_idx(pair, 0));
		count = json_object_get_uint64(json_object_array_get_idx(pair, 1));
		idx = hist_bucket(lower);
		if (hist_bucket_lower(idx) != lower)
			return fail(l, "%s: histogram[%zu]: %llu ns is not a bucket bound of the "
				    "documented layout", where, i, (unsigned long long)lower);
		if (i > 0 && idx <= d->bins[i - 1].index)
			return fail(l, "%s: histogram buckets are not in ascending order", where);
		b->index = idx;
		b->count = count;
		total += count;
		d->nbins++;
	}
	if (total != d->count)
		return fail(l, "%s: the histogram holds %llu samples but count is %llu", where,
			    (unsigned long long)total, (unsigned long long)d->count);
	return 0;
}

static int add_row(struct loader *l, struct json_object *row, unsigned run, bool rollup,
		   const char *where)
{
	struct obs *o;
	struct json_object *h;
	const char *kind;

	if (l->nobs == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct obs *no = realloc(l->obs, nc * sizeof(*no));

		if (!no)
			return fail(l, "out of memory");
		l->obs = no;
		l->cap = nc;
	}
	o = memset(&l->obs[l->nobs], 0, sizeof(*o));
	o->run = run;
	o->key.rollup = rollup;
	o->key.metric = (char *)get_str(row, "metric");
	kind = get_str(row, "kind");
	if (!o->key.metric || !kind || (strcmp(kind, "op") && strcmp(kind, "span")))
		return fail(l, "%s: 'metric' or 'kind' (op or span) is missing", where);
	o->key.kind = strcmp(kind, "span") ? PERFBPF_EV_OP : PERFBPF_EV_SPAN;
	o->key.symbol = (char *)(rollup ? "" : get_str(row, "symbol"));
	o->key.strategy = (char *)(rollup ? "" : get_str(row, "strategy"));
	if (!o->key.symbol || !o->key.strategy)
		return fail(l, "%s: 'symbol' or 'strategy' is missing", where);
	if (get_u64(l, row, "count", &o->data.count, where) ||
	    get_num(l, row, "total_ns", &o->data.sum, where) ||
	    get_num(l, row, "stddev_ns", &o->data.sd, where))
		return -1;
	h = member(row, "histogram", json_type_array);
	if (!h)
		return fail(l, "%s: no 'histogram': record with 'perfbpf run --repeat N'", where);
	l->nobs++; /* from here its bins are the loader's to free */
	return read_bins(l, h, &o->data, where);
}

static int read_rows(struct loader *l, struct json_object *run, unsigned r, unsigned side_run,
		     const char *name, bool rollup)
{
	struct json_object *rows = member(run, name, json_type_array);
	char where[96];

	if (!rows)
		return fail(l, "runs[%u]: '%s' is missing or not an array", r, name);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		snprintf(where, sizeof(where), "runs[%u].%s[%zu]", r, name, i);
		if (add_row(l, json_object_array_get_idx(rows, i), side_run, rollup, where))
			return -1;
	}
	return 0;
}

int gate_key__cmp(const struct gate_key *a, const struct gate_key *b)
{
	int c;

	if (a->rollup != b->rollup)
		return a->rollup ? 1 : -1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->metric, b->metric)) || (c = strcmp(a->symbol, b->symbol)))
		return c;
	return strcmp(a->strategy, b->strategy);
}

static int cmp_obs(const void *x, const void *y)
{
	const struct obs *a = x, *b = y;
	int c = gate_key__cmp(&a->key, &b->key);

	return c ? c : (a->run > b->run) - (a->run < b->run);
}

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

/* Groups the rows into keys: one gate_run per run of the file, zero where the key is absent. */
static int group(struct loader *l, struct gate_file *f)
{
	qsort(l->obs, l->nobs, sizeof(*l->obs), cmp_obs);
	f->keys = calloc(l->nobs ? l->nobs : 1, sizeof(*f->keys));
	if (!f->keys)
		return fail(l, "out of memory");
	for (size_t i = 0; i < l->nobs; i++) {
		struct gate_key *k;

		if (i > 0 && !gate_key__cmp(&l->obs[i].key, &l->obs[i - 1].key)) {
			if (l->obs[i].run == l->obs[i - 1].run)
				return fail(l, "runs[%u] lists the key %s twice", l->obs[i].run,
					    l->obs[i].key.metric);
		} else {
			k = &f->keys[f->nkeys++];
			k->kind = l->obs[i].key.kind;
			k->rollup = l->obs[i].key.rollup;
			k->metric = dup_str(l->obs[i].key.metric);
			k->symbol = dup_str(l->obs[i].key.symbol);
			k->strategy = dup_str(l->obs[i].key.strategy);
			k->runs = calloc(f->nruns, sizeof(*k->runs));
			if (!k->metric || !k->symbol || !k->strategy || !k->runs)
				return fail(l, "out of memory");
		}
		k = &f->keys[f->nkeys - 1];
		k->runs[l->obs[i].run] = l->obs[i].data;
		l->obs[i].data.bins = NULL; /* now the key's */
	}
	return 0;
}

static void add_env(struct gate_file *f, const char *name, const char *value)
{
	if (f->nenv < GATE_ENV_FIELDS) {
		f->env_name[f->nenv] = name;
		f->env_value[f->nenv++] = strdup(value ? value : "(not recorded)");
	}
}

static void read_env(struct gate_file *f, struct json_object *root)
{
	struct json_object *env = member(root, "environment", json_type_object), *v;
	char cpus[16] = "(not recorded)";

	add_env(f, "perfbpf version", get_str(root, "perfbpf_version"));
	add_env(f, "mode", get_str(root, "mode"));
	v = member(root, "attribution", json_type_boolean);
	add_env(f, "scheduler attribution", v ? (json_object_get_boolean(v) ? "on" : "off") : NULL);
	if (env && (v = member(env, "cpus", json_type_int)))
		snprintf(cpus, sizeof(cpus), "%d", json_object_get_int(v));
	add_env(f, "kernel", env ? get_str(env, "kernel") : NULL);
	add_env(f, "machine", env ? get_str(env, "machine") : NULL);
	add_env(f, "CPU model", env ? get_str(env, "cpu_model") : NULL);
	add_env(f, "CPUs", cpus);
	add_env(f, "CPU governor", env ? get_str(env, "governor") : NULL);
}

/* The first file of a side gives its command and environment; a later one that differs is
 * noted in f->mixed (one line, the first difference). */
static void read_header(struct loader *l, struct gate_file *f, struct json_object *root)
{
	struct gate_file other = { 0 };
	const char *cmd = get_str(root, "command");

	if (f->nfiles == 0) {
		f->command = dup_str(cmd);
		read_env(f, root);
		f->first = l->path;
		return;
	}
	if (f->mixed)
		return;
	read_env(&other, root);
	for (size_t i = 0; i < f->nenv && i < other.nenv && !f->mixed; i++)
		if (strcmp(f->env_value[i], other.env_value[i]) &&
		    asprintf(&f->mixed, "%s and %s were recorded in different environments: %s "
			     "'%s' vs '%s'", f->first, l->path, f->env_name[i], f->env_value[i],
			     other.env_value[i]) < 0)
			f->mixed = NULL;
	if (!f->mixed && strcmp(f->command, cmd ? cmd : "") &&
	    asprintf(&f->mixed, "%s and %s record different commands: '%s' vs '%s'", f->first,
		     l->path, f->command, cmd ? cmd : "") < 0)
		f->mixed = NULL;
	for (size_t i = 0; i < other.nenv; i++)
		free(other.env_value[i]);
}

/* Checks one document and adds its runs to the side (run indices after those read before). */
static int load_doc(struct loader *l, struct json_object *root, struct gate_file *f)
{
	struct json_object *runs, *layout, *v;
	const char *schema;
	uint64_t any = 0, *run_events;
	unsigned n;
	int rc = -1;

	if (!json_object_is_type(root, json_type_object))
		return fail(l, "not a perfbpf JSON summary (the top level is not an object)");
	schema = get_str(root, "schema");
	if (!schema)
		return fail(l, "not a perfbpf JSON summary (no 'schema')");
	if (strcmp(schema, PERFBPF_SUMMARY_SCHEMA))
		return fail(l, "schema '%s' is not supported (this perfbpf reads %s): record it again "
			    "with 'perfbpf run --repeat N'", schema, PERFBPF_SUMMARY_SCHEMA);
	runs = member(root, "runs", json_type_array);
	if (!runs)
		return fail(l, "no per-run data ('runs'): record it with 'perfbpf run --repeat N' "
			    "(monitor summaries cannot be gated)");
	layout = member(root, "histogram_layout", json_type_object);
	v = layout ? member(layout, "sub_buckets_per_power_of_two", json_type_int) : NULL;
	if (!v || json_object_get_int(v) != HIST_SUB)
		return fail(l, "'histogram_layout' is missing or not the %u-sub-bucket layout this "
			    "perfbpf reads", HIST_SUB);
	n = (unsigned)json_object_array_length(runs);
	if (n == 0)
		return fail(l, "'runs' is empty: the command never ran to completion");
	read_header(l, f, root);
	f->nfiles++;
	run_events = calloc(n, sizeof(*run_events));
	if (!run_events)
		return fail(l, "out of memory");
	for (unsigned r = 0; r < n; r++) {
		struct json_object *run = json_object_array_get_idx(runs, r);
		uint64_t ev = 0, dr = 0;
		char where[32];

		snprintf(where, sizeof(where), "runs[%u]", r);
		if (!json_object_is_type(run, json_type_object)) {
			fail(l, "%s is not an object", where);
			goto out;
		}
		if (get_u64(l, run, "events", &ev, where) || get_u64(l, run, "dropped", &dr, where))
			goto out;
		f->dropped += dr;
		any += ev;
		run_events[r] = ev;
		if (read_rows(l, run, r, l->nruns + r, "metrics", false) ||
		    read_rows(l, run, r, l->nruns + r, "metric_rollups", true))
			goto out;
	}
	if (any == 0) {
		fail(l, "its %u runs hold no events: were the probes hit?", n);
		goto out;
	}
	for (unsigned r = 0; r < n; r++)
		if (run_events[r] == 0) {
			fail(l, "runs[%u] holds no events while other runs do: a failed run?", r);
			goto out;
		}
	l->nruns += n;
	rc = 0;
out:
	free(run_events);
	return rc;
}

/* After the last document: the side's runs grouped by key. */
static int finish(struct loader *l, struct gate_file *f)
{
	f->nruns = l->nruns;
	if (f->nruns < 2)
		return fail(l, "holds 1 run; telling a change from noise needs at least 2 per side: "
			    "record with 'perfbpf run --repeat 5'");
	return group(l, f);
}

/* Keeps root until the loader is done (its strings are borrowed), then reads it. */
static int add_doc(struct loader *l, struct json_object *root, struct gate_file *f)
{
	struct json_object **nd = realloc(l->docs, (l->ndocs + 1) * sizeof(*nd));

	if (!nd) {
		json_object_put(root);
		return fail(l, "out of memory");
	}
	l->docs = nd;
	l->docs[l->ndocs++] = root;
	return load_doc(l, root, f);
}

static void loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->nobs; i++)
		free((struct hist_bin *)l->obs[i].data.bins);
	free(l->obs);
	for (size_t i = 0; i < l->ndocs; i++)
		json_object_put(l->docs[i]);
	free(l->docs);
}

static int read_file(struct loader *l, const char *path, struct gate_file *f)
{
	struct json_object *root;
	FILE *fp;

	l->path = path;
	fp = fopen(path, "re");
	if (!fp)
		return fail(l, "cannot read: %s", strerror(errno));
	fclose(fp);
	root = json_object_from_file(path);
	if (!root) {
		const char *je = json_util_get_last_err();

		return fail(l, "not valid JSON (%.*s)", je ? (int)strcspn(je, "\n") : 11,
			    je ? je : "parse error");
	}
	return add_doc(l, root, f);
}

static int json_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

/* Every *.json of a directory, in version order (run-2 before run-10), as one side. */
static int read_dir(struct loader *l, const char *dir, struct gate_file *f)
{
	struct dirent **names;
	int n = scandir(dir, &names, json_name, versionsort), rc = 0;

	if (n < 0)
		return fail(l, "cannot read the directory: %s", strerror(errno));
	if (n == 0)
		rc = fail(l, "no *.json summaries in this directory");
	f->paths = calloc(n ? (size_t)n : 1, sizeof(*f->paths));
	if (!f->paths && !rc)
		rc = fail(l, "out of memory");
	for (int i = 0; i < n; i++) {
		if (!rc && asprintf(&f->paths[f->npaths], "%s/%s", dir, names[i]->d_name) < 0)
			rc = fail(l, "out of memory");
		else if (!rc)
			rc = read_file(l, f->paths[f->npaths++], f);
		free(names[i]);
	}
	free(names);
	if (!rc)
		l->path = dir;
	return rc;
}

int gate_file__load(const char *path, struct gate_file *f, char *err, size_t errlen)
{
	struct loader l = { .path = path, .err = err, .errlen = errlen };
	struct stat st;
	int rc;

	memset(f, 0, sizeof(*f));
	f->path = path;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = read_dir(&l, path, f);
	} else {
		rc = read_file(&l, path, f);
	}
	if (!rc)
		rc = finish(&l, f);
	loader_free(&l);
	return rc;
}

int gate_file__parse(const char *name, const char *text, size_t len, struct gate_file *f,
		     char *err, size_t errlen)
{
	struct loader l = { .path = name, .err = err, .errlen = errlen };
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	int rc;

	memset(f, 0, sizeof(*f));
	f->path = name;
	if (len > INT_MAX)
		return fail(&l, "not valid JSON (too large)");
	tok = json_tokener_new();
	if (!tok)
		return fail(&l, "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		return fail(&l, "not valid JSON (%s)", jerr == json_tokener_continue ?
			    "unexpected end of input" : json_tokener_error_desc(jerr));
	}
	rc = add_doc(&l, root, f);
	if (!rc)
		rc = finish(&l, f);
	loader_free(&l);
	return rc;
}

void gate_file__free(struct gate_file *f)
{
	for (size_t i = 0; i < f->nkeys; i++) {
		struct gate_key *k = &f->keys[i];

		for (unsigned r = 0; k->runs && r < f->nruns; r++)
			free((struct hist_bin *)k->runs[r].bins);
		free(k->runs);
		free(k->metric);
		free(k->symbol);
		free(k->strategy);
	}
	free(f->keys);
	for (size_t i = 0; i < f->nenv; i++)
		free(f->env_value[i]);
	free(f->command);
	free(f->mixed);
	for (size_t i = 0; i < f->npaths; i++)
		free(f->paths[i]);
	free(f->paths);
	memset(f, 0, sizeof(*f));
}
