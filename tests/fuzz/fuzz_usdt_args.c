// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: a probe's SDT argument string ("8@%rdi -8@$5 4@-20(%rbp)"), as found in an
 * untrusted binary's notes, parsed into the spec the BPF side reads (user/attach/usdt_spec.c). Any
 * input: no crash, and an accepted spec is well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/attach/usdt_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_spec spec;
	char *args = malloc(size + 1);

	if (!args)
		return 0;
	memcpy(args, data, size);
	args[size] = '\0';
	if (usdt_spec__parse(args, &spec, sizeof(spec)) == 0) {
		if (spec.arg_cnt < 0 || spec.arg_cnt > USDT_MAX_ARGS)
			abort();
		for (short i = 0; i < spec.arg_cnt; i++) {
			const struct usdt_arg_spec *a = &spec.args[i];

			if (a->arg_type > ARG_REG_DEREF || a->arg_bitshift < 0 ||
			    a->arg_bitshift > 56)
				abort();
		}
	}
	free(args);
	return 0;
}
