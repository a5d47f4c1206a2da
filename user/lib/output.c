// SPDX-License-Identifier: BSD-2-Clause
/* Outputs named by path, "-" for stdout (see output.h). */
#include "user/lib/output.h"

#include <errno.h>
#include <string.h>

#include "user/lib/util.h"

bool output__is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

FILE *output__open(const char *path, int *err)
{
	FILE *f = output__is_stdout(path) ? stdout : fopen(path, "we");

	if (!f) {
		*err = -errno; /* before pb_err's own stdio calls can change it */
		output__fail(path, *err);
	}
	return f;
}

int output__close(FILE *f)
{
	bool failed;

	if (!f)
		return 0;
	failed = f == stdout ? fflush(f) || ferror(f) : fclose(f) != 0;
	return failed ? -(errno ? errno : EIO) : 0;
}

int output__fail(const char *path, int err)
{
	pb_err("cannot write %s: %s", output__is_stdout(path) ? "stdout" : path, strerror(-err));
	return err;
}
