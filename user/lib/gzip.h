/* SPDX-License-Identifier: BSD-2-Clause */
/* gzip (RFC 1952) compression of a buffer with zlib, for the exporters' HTTP bodies (OTLP
 * requests, Prometheus scrapes). */
#ifndef PERFBPF_GZIP_H
#define PERFBPF_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Compresses in[0..n) at zlib level (1 fastest .. 9 smallest, -1 zlib's default) into *out,
 * which is grown (realloc) to fit; *cap is its size. The compressed length, or -errno. */
ssize_t gzip__compress(const void *in, size_t n, int level, uint8_t **out, size_t *cap);

/* Whether an HTTP Accept-Encoding header (NULL: none) accepts gzip (q above 0). */
int gzip__accepted(const char *accept_encoding);

#endif
