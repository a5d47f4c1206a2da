// SPDX-License-Identifier: BSD-2-Clause
/* gzip compression with zlib (see gzip.h). */
#include "user/lib/gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "user/lib/http_list.h"

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
	struct http_item it;

	while (http_list__next(&h, &it))
		if ((http_item__is(&it, "gzip") || http_item__is(&it, "*")) && it.q > 0)
			return 1;
	return 0;
}
