// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: the SDT note reader, on this test binary's own probes and on corrupt input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <perfbpf/probe.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/attach/sdt.h"

static int count_words(const char *s)
{
	int n = 0;

	for (const char *p = s; *p; p++)
		n += (p == s || p[-1] == ' ') && *p != ' ';
	return n;
}

/* Probes compiled into this test: two op sites, one span pair (and the flush site of ABI v3). */
__attribute__((noinline)) static void emit(const char *m, uint64_t d)
{
	PERFBPF_OP(m, "SYM", "strat", d);
	PERFBPF_SPAN_BEGIN(m, "SYM", "strat");
	PERFBPF_SPAN_END(m);
	PERFBPF_OP("second", "SYM", "strat", d + 1);
}

static void test_own_probes(void **state)
{
	struct sdt_notes n;

	(void)state;
	emit("x", 1);
	assert_int_equal(sdt__read_file("/proc/self/exe", &n), 0);
	assert_int_equal(sdt__count(&n, "perfbpf", "op"), 2);
	assert_int_equal(sdt__count(&n, "perfbpf", "span_begin"), 1);
	assert_int_equal(sdt__count(&n, "perfbpf", "span_end"), 1);
	assert_int_equal(sdt__count(&n, "perfbpf", "flush"), 1); /* ABI v3: one per object */
	assert_int_equal(sdt__count(&n, "perfbpf", "notes"), 1); /* and its notes site */
	assert_int_equal(sdt__count(&n, "perfbpf", NULL), 6);
	for (size_t i = 0; i < n.n; i++) {
		if (strcmp(n.v[i].provider, "perfbpf"))
			continue;
		assert_true(n.v[i].sema != 0);
		assert_true(n.v[i].pc != 0);
		assert_null(strchr(n.v[i].args, '(')); /* registers and constants only */
		if (!strcmp(n.v[i].name, "op"))
			assert_int_equal(count_words(n.v[i].args), 4);
		if (!strcmp(n.v[i].name, "notes"))
			assert_int_equal(count_words(n.v[i].args), 0);
	}
	/* the probes are off: no tracer attached */
	assert_false(PERFBPF_ENABLED());
	sdt__free(&n);
}

static void test_not_elf(void **state)
{
	struct sdt_notes n;
	char text[] = "#!/bin/sh\necho not an ELF file\n";

	(void)state;
	assert_int_equal(sdt__read_mem(text, sizeof(text), &n), -ENOEXEC);
	assert_int_equal(sdt__read_mem("", 0, &n), -ENOEXEC);
	assert_int_equal(sdt__read_file("/nonexistent", &n), -ENOENT);
}

static unsigned char *self_image(size_t *len)
{
	FILE *f = fopen("/proc/self/exe", "rb");
	unsigned char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Every truncation and many byte flips of a real ELF: an error or a result, never a crash. */
static void test_corrupt_elf(void **state)
{
	size_t len, ok = 0;
	unsigned char *img = self_image(&len), *copy = malloc(len);
	uint64_t seed = 0x9E3779B97F4A7C15ull;

	(void)state;
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		struct sdt_notes n;
		int err = sdt__read_mem(img, cut, &n);

		assert_true(err == 0 || err == -ENOEXEC);
		if (!err)
			sdt__free(&n);
	}
	for (int round = 0; round < 300; round++) {
		struct sdt_notes n;
		int err;

		memcpy(copy, img, len);
		for (int k = 0; k < 16; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			copy[seed % len] ^= (unsigned char)(seed >> 32);
		}
		err = sdt__read_mem(copy, len, &n);
		assert_true(err == 0 || err == -ENOEXEC);
		if (!err) {
			ok++;
			sdt__free(&n);
		}
	}
	assert_true(ok > 0);
	free(copy);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_probes),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_corrupt_elf),
	};

	return cmocka_run_group_tests_name("unit: SDT notes", tests, NULL, NULL);
}
