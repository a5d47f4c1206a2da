// SPDX-License-Identifier: BSD-2-Clause
/* The OTLP Resource of a process, or of the processes a monitor follows. */
#include "exporters/otlp/otlp_resource.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/lib/proc.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int otlp_resource__init(struct otlp_resource *r, const struct otlp_config *c, uint32_t pid,
			const char *command)
{
	char exe[PATH_MAX] = "", path[64], host[256], *cmd = NULL, *svc = NULL;
	struct otlp_attrs *a = &r->attrs;
	ssize_t k;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	if (pid) {
		snprintf(path, sizeof(path), "/proc/%u/exe", pid);
		k = readlink(path, exe, sizeof(exe) - 1);
		exe[k > 0 ? k : 0] = '\0';
		cmd = proc__cmdline((int)pid);
	}
	/* the process is gone (its last spans were read after it exited): the session's command */
	if (!cmd)
		cmd = strdup(command ? command : "");
	if (!cmd)
		return -ENOMEM;
	if (!*exe) {
		size_t w = strcspn(cmd, " ");

		snprintf(exe, sizeof(exe), "%.*s", (int)w, cmd);
	}
	if (gethostname(host, sizeof(host) - 1))
		strcpy(host, "unknown");
	host[sizeof(host) - 1] = '\0';
	/* OTEL_RESOURCE_ATTRIBUTES first; what perfbpf knows of the process is more precise */
	for (size_t i = 0; i < c->resource.n && !err; i++)
		err = otlp_attrs__set_str(a, c->resource.v[i].key, c->resource.v[i].s);
	if (c->service_name) {
		err = err ?: otlp_attrs__set_str(a, "service.name", c->service_name);
	} else {
		bool named = false;

		for (size_t i = 0; i < a->n; i++)
			named |= !strcmp(a->v[i].key, "service.name");
		if (!named && asprintf(&svc, "unknown_service:%s", base_name(exe)) < 0)
			err = -ENOMEM;
		if (!named && !err)
			err = otlp_attrs__set_str(a, "service.name", svc);
	}
	err = err ?: otlp_attrs__set_str(a, "host.name", host);
	if (pid) {
		err = err ?: otlp_attrs__set_int(a, "process.pid", pid);
		err = err ?: otlp_attrs__set_str(a, "process.executable.name", base_name(exe));
		err = err ?: otlp_attrs__set_str(a, "process.executable.path", exe);
		err = err ?: otlp_attrs__set_str(a, "process.command_line", cmd);
	}
	err = err ?: otlp_attrs__set_str(a, "telemetry.sdk.name", "perfbpf");
	err = err ?: otlp_attrs__set_str(a, "telemetry.sdk.version", PERFBPF_VERSION);
	free(svc);
	free(cmd);
	if (err)
		otlp_attrs__free(a);
	return err;
}

void otlp_resource__fini(struct otlp_resource *r)
{
	otlp_attrs__free(&r->attrs);
}
