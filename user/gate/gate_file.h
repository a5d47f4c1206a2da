/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading the JSON summaries `perfbpf gate` compares (perfbpf.summary/2, a file or a directory of
 * them) into the sides of user/model/gate_outcome.h. */
#ifndef PERFBPF_GATE_FILE_H
#define PERFBPF_GATE_FILE_H

#include <stddef.h>

#include "user/model/gate_outcome.h"

/* Reads and checks `path`, a summary or a directory of them (every *.json in it). 0, or -1 after
 * writing one line naming the file and the problem into err (without a trailing newline). */
int gate_file__load(const char *path, struct gate_file *f, char *err, size_t errlen);
/* The same from a buffer holding the file's text; name is used in messages (what the fuzzer
 * drives). */
int gate_file__parse(const char *name, const char *text, size_t len, struct gate_file *f,
		     char *err, size_t errlen);
void gate_file__free(struct gate_file *f);
/* -1, 0, 1: the order of keys in gate_file.keys. */
int gate_key__cmp(const struct gate_key *a, const struct gate_key *b);

#endif
