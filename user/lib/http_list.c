// SPDX-License-Identifier: BSD-2-Clause
/* HTTP list headers (see http_list.h). */
#include "user/lib/http_list.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..n) without the blanks around it. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && blank(*s)) {
		s++;
		(*n)--;
	}
	while (*n && blank(s[*n - 1]))
		(*n)--;
	return s;
}

bool http_list__next(const char **p, struct http_item *it)
{
	while (*p && **p) {
		const char *s = *p, *end = strchr(s, ','), *semi;
		size_t len = end ? (size_t)(end - s) : strlen(s);

		*p = end ? end + 1 : NULL;
		s = trim(s, &len);
		if (!len)
			continue; /* "a,,b" */
		semi = memchr(s, ';', len);
		it->token_len = semi ? (size_t)(semi - s) : len;
		it->token = trim(s, &it->token_len);
		it->params = semi ? semi : s + len;
		it->params_len = semi ? len - (size_t)(semi - s) : 0;
		it->q = 1;
		for (size_t i = 0; i < it->params_len; i++) {
			size_t n = it->params_len - i - 1;
			const char *v;

			if (it->params[i] != ';')
				continue;
			v = trim(it->params + i + 1, &n);
			if (n >= 2 && !strncasecmp(v, "q=", 2))
				it->q = strtod(v + 2, NULL);
		}
		return true;
	}
	return false;
}

bool http_item__is(const struct http_item *it, const char *want)
{
	return it->token_len == strlen(want) && !strncasecmp(it->token, want, it->token_len);
}

bool http_item__has_param(const struct http_item *it, const char *want)
{
	size_t w = strlen(want);

	for (size_t i = 0; i < it->params_len; i++) {
		const char *v, *semi;
		size_t n = it->params_len - i - 1, vlen;

		if (it->params[i] != ';')
			continue;
		v = trim(it->params + i + 1, &n);
		semi = memchr(v, ';', n);
		vlen = semi ? (size_t)(semi - v) : n;
		v = trim(v, &vlen);
		if (vlen == w && !strncasecmp(v, want, w))
			return true;
	}
	return false;
}
