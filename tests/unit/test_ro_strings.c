// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the read-only ranges perfbpf leaves strings in (user/attach/ro_strings.c), on this test's
 * own process: which addresses are in a range, what is read back from the files, truncation, and
 * generations across a dlopen/dlclose. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/attach/ro_strings.h"

static bool in_set(const struct perfbpf_ro_set *set, const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;

	for (uint32_t i = 0; i < set->n; i++)
		if (a >= set->r[i].lo && a < set->r[i].hi)
			return true;
	return false;
}

/* A mapping is clipped to the file's read-only segments, in address terms. */
static void test_clip(void **state)
{
	const uint64_t lo[2] = { 0x2000, 0x5000 }, hi[2] = { 0x2800, 0x6000 };
	struct perfbpf_ro_range r[4];

	(void)state;
	/* file [0x2000, 0x4000) at 0x10000: the first segment only */
	assert_int_equal(ro_strings__clip(0x10000, 0x12000, 0x2000, lo, hi, 2, r, 4), 1);
	assert_true(r[0].lo == 0x10000 && r[0].hi == 0x10800);
	/* a RELRO-like page: file [0x2000, 0x3000) mapped again at 0x20000 by a writable segment
	 * that starts in the same page, clipped to what the read-only segment holds */
	assert_int_equal(ro_strings__clip(0x20000, 0x21000, 0x2000, lo, hi, 2, r, 4), 1);
	assert_true(r[0].lo == 0x20000 && r[0].hi == 0x20800);
	/* both segments, and a mapping that holds neither */
	assert_int_equal(ro_strings__clip(0x30000, 0x36000, 0x0, lo, hi, 2, r, 4), 2);
	assert_true(r[1].lo == 0x35000 && r[1].hi == 0x36000);
	assert_int_equal(ro_strings__clip(0x40000, 0x41000, 0x3000, lo, hi, 2, r, 4), 0);
	/* no room */
	assert_int_equal(ro_strings__clip(0x30000, 0x36000, 0x0, lo, hi, 2, r, 1), 1);
}

static char writable[32] = "in .data, writable";
static const char constant[] = "a const array in .rodata";
#define LONG_LITERAL "a string literal longer than the thirty-two bytes of a symbol field"

/* This process: a literal and a const array are in a range and read back from the executable;
 * writable data, the stack and the heap are not; a long string is cut and marked truncated. */
static void test_own_process(void **state)
{
	struct ro_strings *rs = ro_strings__new();
	struct perfbpf_ro_set set;
	char stack[16] = "on the stack", *heap = strdup("on the heap"), out[32];
	const char *lit = LONG_LITERAL;
	uint32_t flags = 0;

	(void)state;
	assert_non_null(rs);
	assert_non_null(heap);
	assert_int_equal(ro_strings__scan(rs, getpid(), &set), 1);
	assert_true(set.gen > 0 && set.n > 0);
	assert_true(in_set(&set, lit));
	assert_true(in_set(&set, constant));
	assert_false(in_set(&set, writable));
	assert_false(in_set(&set, stack));
	assert_false(in_set(&set, heap));

	assert_int_equal(ro_strings__read(rs, set.gen, (uintptr_t)constant, out, sizeof(out),
					  &flags), 0);
	assert_string_equal(out, constant);
	assert_int_equal(flags, 0);
	assert_int_equal(ro_strings__read(rs, set.gen, (uintptr_t)lit, out, sizeof(out), &flags), 0);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_memory_equal(out, LONG_LITERAL, sizeof(out) - 1);
	assert_int_equal(flags, PERFBPF_F_TRUNCATED);
	/* again, from the cache: the same answer */
	flags = 0;
	assert_int_equal(ro_strings__read(rs, set.gen, (uintptr_t)lit, out, sizeof(out), &flags), 0);
	assert_int_equal(flags, PERFBPF_F_TRUNCATED);
	/* an address in no range: empty and unreadable, as a failed copy */
	flags = 0;
	assert_int_equal(ro_strings__read(rs, set.gen, (uintptr_t)writable, out, sizeof(out),
					  &flags), 0);
	assert_string_equal(out, "");
	assert_int_equal(flags, PERFBPF_F_FAULT);
	/* nothing changed: no new generation */
	assert_int_equal(ro_strings__scan(rs, getpid(), &set), 0);
	free(heap);
	ro_strings__free(rs);
}

/* A library loaded later gets a new generation; its string stays readable in that generation
 * after it is unloaded (the file stays open), and is in no range of the next one. */
static void test_generations(void **state)
{
	struct ro_strings *rs = ro_strings__new();
	struct perfbpf_ro_set set;
	uint32_t g1, g2, g3, flags = 0;
	const char *(*version)(void);
	char out[64], *want;
	void *lib;

	(void)state;
	assert_non_null(rs);
	assert_int_equal(ro_strings__scan(rs, getpid(), &set), 1);
	g1 = set.gen;
	lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!lib) /* perfbpf's own dependency (tools/install-deps.sh installs it) */
		fail_msg("cannot load libmicrohttpd.so.12: %s", dlerror());
	version = (const char *(*)(void))dlsym(lib, "MHD_get_version");
	assert_non_null(version);
	want = strdup(version()); /* a literal in the library's .rodata */
	assert_int_equal(ro_strings__scan(rs, getpid(), &set), 1);
	g2 = set.gen;
	assert_true(g2 > g1);
	assert_true(in_set(&set, version()));
	assert_int_equal(ro_strings__read(rs, g2, (uintptr_t)version(), out, sizeof(out), &flags),
			 0);
	assert_string_equal(out, want);
	assert_int_equal(flags, 0);
	/* the older generation did not have it */
	assert_int_equal(ro_strings__read(rs, g1, (uintptr_t)version(), out, sizeof(out), &flags),
			 0);
	assert_int_equal(flags, PERFBPF_F_FAULT);

	{
		uintptr_t addr = (uintptr_t)version();

		dlclose(lib);
		assert_int_equal(ro_strings__scan(rs, getpid(), &set), 1);
		g3 = set.gen;
		assert_true(g3 > g2);
		flags = 0;
		assert_int_equal(ro_strings__read(rs, g2, addr, out, sizeof(out), &flags), 0);
		assert_string_equal(out, want);
		assert_int_equal(flags, 0);
		assert_false(in_set(&set, (const void *)addr));
		assert_int_equal(ro_strings__read(rs, g3, addr, out, sizeof(out), &flags), 0);
		assert_int_equal(flags, PERFBPF_F_FAULT);
	}
	free(want);
	ro_strings__free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_own_process),
		cmocka_unit_test(test_generations),
	};

	return cmocka_run_group_tests_name("unit: read-only string ranges", tests, NULL, NULL);
}
