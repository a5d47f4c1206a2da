// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: perfbpf's configuration, which is its flags' values and the OTEL_* environment.
 * The first byte picks a parser, the rest is its input:
 *   0 parse_u64, 1 parse_pid, 2 parse_duration_ns, 3 parse_size, 4 parse_listen (every value
 *   flag goes through one of these), 5 otlp_parse_pairs (--otlp-headers, OTEL_*_HEADERS,
 *   OTEL_RESOURCE_ATTRIBUTES), 6 otlp_config__resolve with an environment of "NAME=value" lines.
 * Any input: no crash, no leak; a parser that fails leaves its output untouched. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exporters/otlp/otlp_config.h"
#include "user/lib/util.h"

static char *env_text;

/* The value of NAME in env_text ("NAME=value\n..."), copied to a static buffer. */
static const char *fuzz_getenv(const char *name)
{
	static char value[4096];
	size_t n = strlen(name);

	for (const char *p = env_text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, n) && p[n] == '=') {
			size_t len = strcspn(p + n + 1, "\n");

			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, p + n + 1, len);
			value[len] = '\0';
			return value;
		}
	}
	return NULL;
}

static void resolve(const char *text)
{
	struct otlp_flags flags = { .enabled = true, .sample = -1 };
	struct otlp_config c;
	char err[256];

	env_text = (char *)text;
	for (int sig = OTLP_TRACES; sig <= OTLP_METRICS; sig++)
		if (otlp_config__resolve(&flags, (enum otlp_signal)sig, fuzz_getenv, &c, err,
					 sizeof(err)) == 0)
			otlp_config__free(&c);
	env_text = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t sentinel = 0xfeedfacecafebeefull;
	uint64_t u = sentinel;
	int pid = -7;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct otlp_header *hdrs = NULL;
	size_t nh = 0;
	struct otlp_attrs attrs = { 0 };
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 7) {
	case 0:
		if (parse_u64(s, 1, 1000000, &u) == 0 ? (u < 1 || u > 1000000) : u != sentinel)
			abort();
		break;
	case 1:
		if (parse_pid(s, &pid) == 0 ? pid <= 0 : pid != -7)
			abort();
		break;
	case 2:
		if (parse_duration_ns(s, &u) != 0 && u != sentinel)
			abort();
		break;
	case 3:
		if (parse_size(s, &u) != 0 && u != sentinel)
			abort();
		break;
	case 4:
		if (parse_listen(s, &ss, &sl) == 0 && (sl == 0 || sl > sizeof(ss)))
			abort();
		break;
	case 5:
		(void)otlp_parse_pairs(s, &hdrs, &nh, &attrs);
		for (size_t i = 0; i < nh; i++) {
			free(hdrs[i].name);
			free(hdrs[i].value);
		}
		free(hdrs);
		otlp_attrs__free(&attrs);
		break;
	default:
		resolve(s);
		break;
	}
	free(s);
	return 0;
}
