// SPDX-License-Identifier: BSD-2-Clause
/* --redact (see redact.h), with OpenSSL's HMAC-SHA256. */
#include "user/lib/redact.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct redact {
	unsigned char key[32];
	char **keys;
	size_t n;
};

void redact__free(struct redact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->keys[i]);
	free(r->keys);
	explicit_bzero(r->key, sizeof(r->key));
	free(r);
}

struct redact *redact__new(const char *keys, int *err)
{
	struct redact *r = calloc(1, sizeof(*r));
	char *list = keys ? strdup(keys) : NULL, *save = NULL;

	*err = -ENOMEM;
	if (!r || !list)
		goto fail;
	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		char **v = realloc(r->keys, (r->n + 1) * sizeof(*v));

		if (!v)
			goto fail;
		r->keys = v;
		if (!(r->keys[r->n] = strdup(k)))
			goto fail;
		r->n++;
	}
	*err = -EINVAL;
	if (!r->n || strstr(keys, ",,") || keys[0] == ',' || keys[strlen(keys) - 1] == ',')
		goto fail;
	if (getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
		*err = -errno ?: -EIO;
		goto fail;
	}
	free(list);
	*err = 0;
	return r;
fail:
	free(list);
	redact__free(r);
	return NULL;
}

bool redact__wants(const struct redact *r, const char *key)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->keys[i], key))
			return true;
	return false;
}

void redact__value(const struct redact *r, const void *value, size_t n, char out[REDACTED_LEN])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), r->key, sizeof(r->key), value, n, mac, &len);
	memcpy(out, "redacted:", 9);
	for (int i = 0; i < 8; i++)
		snprintf(out + 9 + 2 * i, 3, "%02x", mac[i]);
}
