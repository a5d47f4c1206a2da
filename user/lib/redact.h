/* SPDX-License-Identifier: BSD-2-Clause */
/* --redact: attribute values replaced, before any exporter sees them, by "redacted:" and 16 hex
 * digits of an HMAC-SHA256 under a key drawn at random for the session. Equal values stay equal
 * within a run (a trace can still be followed); the values cannot be read back, nor guessed from
 * a list of candidates without the key, and differ from one run to the next. */
#ifndef PERFBPF_REDACT_H
#define PERFBPF_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACTED_LEN 26 /* "redacted:" + 16 hex digits + NUL */

struct redact;

/* From a comma-separated list of attribute keys; NULL and *err set (-EINVAL: an empty key,
 * -ENOMEM, or no randomness) on failure. */
struct redact *redact__new(const char *keys, int *err);
void redact__free(struct redact *r);
/* Whether values of attribute `key` are redacted. */
bool redact__wants(const struct redact *r, const char *key);
/* The redacted form of value[0..n) in out. */
void redact__value(const struct redact *r, const void *value, size_t n, char out[REDACTED_LEN]);

#endif
