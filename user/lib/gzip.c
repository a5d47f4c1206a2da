// SPDX-License-Identifier: BSD-2-Clause
/* gzip compression with zlib (see gzip.h). */
#include "user/lib/gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

ssize_t gzip__compress(const void *in, size_t n, int level, uint8_t **out, size_t *cap)
{
	z_stream z = { 0 };
	uLong bound;
	int rc;

	if (n > UINT_MAX)
		return -EFBIG;
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16 /* gzip header */, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, (uLong)n);
	if (*cap < bound) {
		uint8_t *p = realloc(*out, bound);

		if (!p) {
			deflateEnd(&z);
			return -ENOMEM;
		}
		*out = p;
		*cap = bound;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)(*cap > UINT_MAX ? UINT_MAX : *cap);
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? (ssize_t)z.total_out : -EIO;
}

int gzip__accepted(const char *h)
{
	for (const char *p = h; p && *p;) {
		const char *end = strchr(p, ','), *semi, *q;
		size_t len = end ? (size_t)(end - p) : strlen(p), tok;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		semi = memchr(p, ';', len);
		tok = semi ? (size_t)(semi - p) : len;
		while (tok && (p[tok - 1] == ' ' || p[tok - 1] == '\t'))
			tok--;
		if ((tok == 4 && !strncasecmp(p, "gzip", 4)) || (tok == 1 && *p == '*')) {
			q = semi ? strstr(semi, "q=") : NULL;
			if (!q || q > p + len || strtod(q + 2, NULL) > 0)
				return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}
