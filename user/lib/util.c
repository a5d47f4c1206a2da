// SPDX-License-Identifier: BSD-2-Clause
/* Small userspace helpers: checked number, duration and size parsing; error printing. */
#include "user/lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>

bool pb_verbose;

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_pid(const char *s, int *out)
{
	uint64_t v;
	int err = parse_u64(s, 1, 4194304 /* PID_MAX_LIMIT */, &v);

	if (err)
		return err;
	*out = (int)v;
	return 0;
}

/* A non-negative decimal number followed by a unit from `units`; returns value * scale. */
struct unit {
	const char *name;
	double scale;
};

static int parse_scaled(const char *s, const struct unit *units, double dflt_scale, double max,
			uint64_t *out)
{
	double v, scale = -1;
	char *end;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (*end == '\0') {
		scale = dflt_scale;
	} else {
		for (const struct unit *u = units; u->name; u++)
			if (strcmp(end, u->name) == 0)
				scale = u->scale;
	}
	if (scale < 0)
		return -EINVAL;
	v *= scale;
	if (v > max)
		return -ERANGE;
	*out = (uint64_t)llround(v);
	return 0;
}

int parse_duration_ns(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 }, { NULL, 0 },
	};
	return parse_scaled(s, units, 1e9, 1e18, out);
}

int parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "K", 1024.0 }, { "M", 1024.0 * 1024 }, { "G", 1024.0 * 1024 * 1024 },
		{ "KiB", 1024.0 }, { "MiB", 1024.0 * 1024 }, { "GiB", 1024.0 * 1024 * 1024 },
		{ NULL, 0 },
	};
	return parse_scaled(s, units, 1, 1ull << 50, out);
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "perfbpf: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void pb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void pb_debug(const char *fmt, ...)
{
	va_list ap;

	if (!pb_verbose)
		return;
	va_start(ap, fmt);
	vmsg("debug: ", fmt, ap);
	va_end(ap);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void self_usage(struct self_usage *u)
{
	struct rusage ru;
	unsigned long size, resident;
	FILE *f;

	memset(u, 0, sizeof(*u));
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		u->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		u->peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) == 2)
			u->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

int parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	char host[64];
	const char *port_s;
	uint64_t port;
	size_t hl;

	if (!s || !*s)
		return -EINVAL;
	port_s = strrchr(s, ':');
	if (!port_s) { /* a bare port: loopback */
		port_s = s;
		snprintf(host, sizeof(host), "127.0.0.1");
	} else {
		hl = (size_t)(port_s - s);
		port_s++;
		if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') { /* [v6]:port */
			s++;
			hl -= 2;
		}
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (parse_u64(port_s, 1, 65535, &port))
		return -EINVAL;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

char *join_words(const char *prefix, const char *const *words, size_t n)
{
	size_t len = strlen(prefix) + 1, i;
	char *s, *p;

	for (i = 0; i < n && words[i]; i++)
		len += strlen(words[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	p = stpcpy(s, prefix);
	for (i = 0; i < n && words[i]; i++)
		p = stpcpy(stpcpy(p, i ? " " : ""), words[i]);
	return s;
}
