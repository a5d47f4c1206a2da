// SPDX-License-Identifier: BSD-2-Clause
/* Where a measurement was taken (see environment.h). */
#include "user/model/environment.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Copies what fits; the fields are for display and comparison, so a cut name is fine. */
static void copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* The value of the first "key<spaces>: value" line of /proc/cpuinfo whose key is `key`. */
static void cpuinfo_field(const char *key, char *out, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];
	size_t kl = strlen(key);

	copy(out, n, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = line + kl + strspn(line + kl, " \t");

		if (strncmp(line, key, kl) || *colon != ':')
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		copy(out, n, colon);
		break;
	}
	fclose(f);
}

static void first_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)n, f))
		out[strcspn(out, "\n")] = '\0';
	else
		out[0] = '\0';
	fclose(f);
}

void environment__read(struct environment *e)
{
	struct utsname u;

	memset(e, 0, sizeof(*e));
	if (uname(&u) == 0) {
		copy(e->kernel, sizeof(e->kernel), u.release);
		copy(e->kernel_version, sizeof(e->kernel_version), u.version);
		copy(e->machine, sizeof(e->machine), u.machine);
	} else {
		copy(e->kernel, sizeof(e->kernel), "unknown");
	}
	cpuinfo_field("model name", e->cpu_model, sizeof(e->cpu_model));
	e->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", e->governor,
		   sizeof(e->governor));
	if (gethostname(e->hostname, sizeof(e->hostname) - 1))
		copy(e->hostname, sizeof(e->hostname), "unknown");
}
