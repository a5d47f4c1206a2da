// SPDX-License-Identifier: BSD-2-Clause
/* Outputs named by path, "-" for stdout (see output.h). */
#include "user/lib/output.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
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

int output__write(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx)
{
	int err = 0;
	FILE *f = output__open(path, &err);

	if (!f)
		return err;
	err = write(f, ctx);
	err = output__close(f) ?: err;
	return err ? output__fail(path, err) : 0;
}

int output__write_atomic(const char *path, int (*write)(FILE *f, const void *ctx),
			 const void *ctx)
{
	char tmp[4096];
	FILE *f;
	int err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return output__fail(tmp, -errno);
	err = write(f, ctx);
	err = output__close(f) ?: err;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return output__fail(path, err);
	}
	return 0;
}
