// SPDX-License-Identifier: BSD-2-Clause
/* /proc readers (see proc.h). */
#include "user/lib/proc.h"

#include <stdio.h>
#include <stdlib.h>

#define CMDLINE_MAX 65536

char *proc__cmdline(int pid)
{
	char path[64], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	buf = malloc(CMDLINE_MAX);
	n = buf ? fread(buf, 1, CMDLINE_MAX - 1, f) : 0;
	fclose(f);
	while (n && buf[n - 1] == '\0')
		n--;
	if (!n) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return buf;
}
