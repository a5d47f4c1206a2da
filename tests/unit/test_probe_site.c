// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the probe site that include/perfbpf/probe.h emits is the one the loader looks for,
 * its SDT note still points at a 1-byte nop, and the loader's choice of attach address. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <perfbpf/probe.h>

#include <link.h>
#include <string.h>

#include "user/attach/probe_site.h"
#include "user/attach/sdt.h"

__attribute__((noinline)) static void fire(uint64_t d)
{
	PERFBPF_OP("site.op", "SYM", "strat", d);
	PERFBPF_SPAN_BEGIN("site.span", NULL, NULL);
	PERFBPF_SPAN_END("site.span");
}

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uintptr_t *)data = info->dlpi_addr;
	return 1;
}

/* Every perfbpf site in this executable, in memory, is probe.h's x86-64 site (or a lone nop). */
static void test_header_emits_the_loader_site(void **state)
{
	struct sdt_notes notes;
	uintptr_t bias = 0;
	size_t checked = 0;

	(void)state;
	fire(1); /* detached: only the semaphore branch runs */
	assert_int_equal(sdt__read_file("/proc/self/exe", &notes), 0);
	dl_iterate_phdr(first_object, &bias);
	for (size_t i = 0; i < notes.n; i++) {
		const unsigned char *code = (const unsigned char *)(bias + notes.v[i].pc);

		if (strcmp(notes.v[i].provider, "perfbpf"))
			continue;
		/* what SDT tools probe: a 1-byte nop at the note's address */
		assert_int_equal(code[0], 0x90);
		if (!strcmp(notes.v[i].name, "flush")) {
			/* ABI v3's flush site: a function of one nop and its return */
			assert_int_equal(code[1], 0xc3);
			checked++;
			continue;
		}
		if (!strcmp(notes.v[i].name, "notes")) {
			/* its notes site: a nop and a return right after, never run */
			assert_int_equal(code[-1], 0xc3);
			assert_int_equal(code[-2], 0x90);
			assert_int_equal(code[1], 0xc3);
			assert_string_equal(notes.v[i].args, "");
			checked++;
			continue;
		}
#if defined(__x86_64__)
		assert_memory_equal(code, probe_site_bytes, PROBE_SITE_LEN);
		assert_int_equal(probe_site__attach_shift(code, PROBE_SITE_LEN, true),
				 PROBE_SITE_NOP5_AT);
#endif
		checked++;
	}
	assert_int_equal(checked, 5); /* op, span_begin, span_end, flush and notes */
	sdt__free(&notes);
}

static void test_attach_shift(void **state)
{
	unsigned char code[PROBE_SITE_LEN + 4];

	(void)state;
	memcpy(code, probe_site_bytes, PROBE_SITE_LEN);
	assert_int_equal(probe_site__attach_shift(code, sizeof(code), true), PROBE_SITE_NOP5_AT);
	/* a kernel that cannot optimize: the 1-byte nop, where the kernel emulates the hit */
	assert_int_equal(probe_site__attach_shift(code, sizeof(code), false), 0);
	/* too short to be sure (end of file) */
	assert_int_equal(probe_site__attach_shift(code, PROBE_SITE_LEN - 1, true), 0);
	/* a stock sys/sdt.h site followed by an unrelated 5-byte nop (alignment padding, which may
	 * be a branch target): not ours, stays on the 1-byte nop */
	memcpy(code, "\x90\x0f\x1f\x44\x00\x00\xc3", 7);
	assert_int_equal(probe_site__attach_shift(code, sizeof(code), true), 0);
	/* any other byte differing */
	memcpy(code, probe_site_bytes, PROBE_SITE_LEN);
	code[PROBE_SITE_LEN - 1] = 0x01;
	assert_int_equal(probe_site__attach_shift(code, sizeof(code), true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_emits_the_loader_site),
		cmocka_unit_test(test_attach_shift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
