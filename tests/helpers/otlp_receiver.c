// SPDX-License-Identifier: BSD-2-Clause
/* The test OTLP receiver, started, stopped and read by the integration tests (see
 * otlp_receiver.h). */
#include "otlp_receiver.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct json_object *json_get_opt(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *src_path(const char *rel)
{
	static char buf[4][512];
	static int i;
	const char *src = getenv("PERFBPF_SRC");

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", src ? src : ".", rel);
	return buf[i];
}

void receiver_start(struct receiver *r, const char *mode, const char *capture)
{
	static int n;
	char name[32], line[64];
	char *argv[16] = { "node", (char *)src_path("tests/otlp/receiver.js"), "--out", NULL,
			   "--mode", (char *)mode };
	int k = 6;

	snprintf(name, sizeof(name), "receiver-%d.jsonl", ++n);
	r->out = tmp_file(name);
	unlink(r->out);
	argv[3] = (char *)r->out;
	if (r->grpc) {
		argv[k++] = "--grpc";
		argv[k++] = "1";
	}
	if (capture) {
		argv[k++] = "--capture";
		argv[k++] = (char *)capture;
	}
	if (r->tls) {
		argv[k++] = "--tls";
		argv[k++] = (char *)r->tls;
	}
	if (r->mtls) {
		argv[k++] = "--mtls";
		argv[k++] = "1";
	}
	argv[k] = NULL;
	/* tracked: a test that fails first leaves no receiver holding the runner's output open */
	r->pid = track_bg(spawn_bg(argv, &r->fd));
	assert_int_equal(read_line(r->fd, line, sizeof(line), 20000), 0);
	assert_int_equal(strncmp(line, "port ", 5), 0);
	snprintf(r->url, sizeof(r->url), "%s://127.0.0.1:%d", r->tls ? "https" : "http",
		 atoi(line + 5));
}

void receiver_stop(struct receiver *r)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	untrack_bg(r->pid);
	close(r->fd);
	r->pid = 0;
}

void requests_load(const struct receiver *r, struct requests *q)
{
	FILE *f = fopen(r->out, "r");
	char *line = NULL;
	size_t cap = 0;

	q->n = 0;
	if (!f)
		return; /* no request arrived */
	while (getline(&line, &cap, f) > 0) {
		assert_true(q->n < sizeof(q->v) / sizeof(q->v[0]));
		q->v[q->n] = json_tokener_parse(line);
		assert_non_null(q->v[q->n]);
		q->n++;
	}
	free(line);
	fclose(f);
}

void requests_free(struct requests *q)
{
	for (size_t i = 0; i < q->n; i++)
		json_object_put(q->v[i]);
	q->n = 0;
}

struct json_object *accepted_spans(struct requests *q)
{
	struct json_object *all = json_object_new_array();

	for (size_t i = 0; i < q->n; i++) {
		struct json_object *spans = json_get(q->v[i], "spans");

		bool grpc = json_object_get_boolean(json_get_opt(q->v[i], "grpc"));

		if (json_u64(q->v[i], "status") != (grpc ? 0 : 200))
			continue;
		assert_null(json_object_get_string(json_get(q->v[i], "error")));
		for (size_t k = 0; k < json_object_array_length(spans); k++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(spans, k)));
	}
	return all;
}

/* The receiver needs Node.js and its npm packages (tools/install-deps.sh installs both). */
int receiver_gate(size_t ntests)
{
	char *argv[] = { "node", "-e",
			 "require(process.argv[1] + '/tests/otlp/node_modules/@opentelemetry/"
			 "otlp-transformer/build/src/generated/root.js')",
			 (char *)src_path(""), NULL };
	struct proc_result r;
	bool ok;

	run_proc(argv, 60, &r);
	ok = r.status == 0;
	proc_result_free(&r);
	return require_or_skip("otlp", ntests, "the OTLP test receiver",
			       "node and 'tools/install-deps.sh'",
			       ok ? NULL : "node or tests/otlp/node_modules missing");
}
