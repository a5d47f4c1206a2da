// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: a JSON summary as `perfbpf gate` reads a baseline or a head recording
 * (user/gate/gate_file.c). Any input: no crash, no leak; a rejected file gets a one-line message
 * naming it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/gate/gate_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gate_file f;
	char err[512] = "";

	if (gate_file__parse("fuzz.json", (const char *)data, size, &f, err, sizeof(err))) {
		if (strncmp(err, "fuzz.json: ", 11) || strchr(err, '\n'))
			abort();
	} else {
		for (size_t i = 1; i < f.nkeys; i++)
			if (gate_key__cmp(&f.keys[i - 1], &f.keys[i]) > 0)
				abort();
	}
	gate_file__free(&f);
	return 0;
}
