/* SPDX-License-Identifier: BSD-2-Clause */
/* Where a report or log goes: a path, or "-" for stdout. Every command opens and closes its
 * outputs through these, so "-" means the same everywhere and a failed write is one line. */
#ifndef PERFBPF_OUTPUT_H
#define PERFBPF_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Whether path names stdout ("-"); false for NULL. */
bool output__is_stdout(const char *path);
/* Opens path for writing (stdout for "-"), close-on-exec. NULL after a one-line error, with
 * -errno in *err. */
FILE *output__open(const char *path, int *err);
/* Flushes stdout, or closes a file; NULL f: nothing. 0, or -errno (errno is kept for the
 * caller, who says what failed: see output__fail). */
int output__close(FILE *f);
/* The one-line error of a failed write to path. Returns err. */
int output__fail(const char *path, int err);

/* Writes one report with write(f, ctx) to path ("-": stdout). 0, or -errno after one line. */
int output__write(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx);
/* The same through path.tmp and a rename, so that a reader never sees half a report (a report
 * rewritten while it is read, as `monitor` does); never stdout. */
int output__write_atomic(const char *path, int (*write)(FILE *f, const void *ctx),
			 const void *ctx);

#endif
