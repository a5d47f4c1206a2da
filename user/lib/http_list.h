/* SPDX-License-Identifier: BSD-2-Clause */
/* The elements of an HTTP list header such as Accept or Accept-Encoding (RFC 9110, 5.6.1):
 * "type/sub;a=1;q=0.5, other", for content negotiation. */
#ifndef PERFBPF_HTTP_LIST_H
#define PERFBPF_HTTP_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct http_item {
	const char *token;  /* "type/sub" or "gzip", not NUL-terminated */
	size_t token_len;
	const char *params; /* from its first ';' (empty: none) */
	size_t params_len;
	double q;           /* its q parameter, 1 without one */
};

/* The next element of the list at *p (which it advances); false at the end. p may be NULL. */
bool http_list__next(const char **p, struct http_item *it);
/* Whether the token is `want` (case-insensitive). */
bool http_item__is(const struct http_item *it, const char *want);
/* Whether a parameter reads exactly `want` ("encoding=delimited", case-insensitive). */
bool http_item__has_param(const struct http_item *it, const char *want);

#endif
