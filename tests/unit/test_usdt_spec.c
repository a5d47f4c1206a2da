// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: SDT argument strings to libbpf's USDT spec layout (x86-64). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/ptrace.h>
#include <errno.h>
#include <stdio.h>

#include "user/attach/usdt_spec.h"

static void test_forms(void **state)
{
	struct usdt_spec s;

	(void)state;
	assert_int_equal(usdt_spec__parse("8@%rdi -4@%eax 8@$42 8@-20(%rbp) 8@(%rsp) -2@%r9w",
					  &s, sizeof(s)), 0);
	assert_int_equal(s.arg_cnt, 6);
	assert_int_equal(s.args[0].arg_type, ARG_REG);
	assert_int_equal(s.args[0].reg_off, offsetof(struct pt_regs, rdi));
	assert_false(s.args[0].arg_signed);
	assert_int_equal(s.args[0].arg_bitshift, 0);
	assert_int_equal(s.args[1].arg_type, ARG_REG);
	assert_int_equal(s.args[1].reg_off, offsetof(struct pt_regs, rax));
	assert_true(s.args[1].arg_signed);
	assert_int_equal(s.args[1].arg_bitshift, 32);
	assert_int_equal(s.args[2].arg_type, ARG_CONST);
	assert_int_equal(s.args[2].val_off, 42);
	assert_int_equal(s.args[3].arg_type, ARG_REG_DEREF);
	assert_int_equal((long)s.args[3].val_off, -20);
	assert_int_equal(s.args[3].reg_off, offsetof(struct pt_regs, rbp));
	assert_int_equal(s.args[4].arg_type, ARG_REG_DEREF);
	assert_int_equal(s.args[4].val_off, 0);
	assert_int_equal(s.args[4].reg_off, offsetof(struct pt_regs, rsp));
	assert_int_equal(s.args[5].reg_off, offsetof(struct pt_regs, r9));
	assert_int_equal(s.args[5].arg_bitshift, 48);
	assert_int_equal(usdt_spec__parse("", &s, sizeof(s)), 0);
	assert_int_equal(s.arg_cnt, 0);
}

/* What the probe header emits for op: four 8-byte registers. */
static void test_probe_header_op(void **state)
{
	struct usdt_spec s;

	(void)state;
	assert_int_equal(usdt_spec__parse("8@%rdx 8@%r10 8@%r11 8@%rax", &s, sizeof(s)), 0);
	assert_int_equal(s.arg_cnt, 4);
	assert_int_equal(s.args[1].reg_off, offsetof(struct pt_regs, r10));
	assert_int_equal(s.args[3].reg_off, offsetof(struct pt_regs, rax));
}

static void test_rejects(void **state)
{
	struct usdt_spec s;

	(void)state;
	/* base + index * scale: the form gcc's default constraint emits */
	assert_int_equal(usdt_spec__parse("8@(%r11,%rdx,8)", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("3@%rdi", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("16@%rdi", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("8@%xmm0", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("8@%rdi,", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("rdi", &s, sizeof(s)), -EINVAL);
	assert_int_equal(usdt_spec__parse("8@%rdi", &s, 10), -EINVAL);
	assert_int_equal(usdt_spec__parse("8@%rax 8@%rax 8@%rax 8@%rax 8@%rax 8@%rax 8@%rax "
					  "8@%rax 8@%rax 8@%rax 8@%rax 8@%rax 8@%rax", &s,
					  sizeof(s)), -EINVAL);
}

/* Every register name the parser accepts, in each of its widths, reads its own pt_regs slot;
 * the width sets the shift (8 bytes: 0, 4: 32, 2: 48, 1: 56). */
static void test_every_register(void **state)
{
	static const struct {
		const char *names[4]; /* 8, 4, 2, 1 bytes; "" where there is none */
		size_t off;
	} regs[] = {
		{ { "rip", "eip", "", "" }, offsetof(struct pt_regs, rip) },
		{ { "rax", "eax", "ax", "al" }, offsetof(struct pt_regs, rax) },
		{ { "rbx", "ebx", "bx", "bl" }, offsetof(struct pt_regs, rbx) },
		{ { "rcx", "ecx", "cx", "cl" }, offsetof(struct pt_regs, rcx) },
		{ { "rdx", "edx", "dx", "dl" }, offsetof(struct pt_regs, rdx) },
		{ { "rsi", "esi", "si", "sil" }, offsetof(struct pt_regs, rsi) },
		{ { "rdi", "edi", "di", "dil" }, offsetof(struct pt_regs, rdi) },
		{ { "rbp", "ebp", "bp", "bpl" }, offsetof(struct pt_regs, rbp) },
		{ { "rsp", "esp", "sp", "spl" }, offsetof(struct pt_regs, rsp) },
		{ { "r8", "r8d", "r8w", "r8b" }, offsetof(struct pt_regs, r8) },
		{ { "r9", "r9d", "r9w", "r9b" }, offsetof(struct pt_regs, r9) },
		{ { "r10", "r10d", "r10w", "r10b" }, offsetof(struct pt_regs, r10) },
		{ { "r11", "r11d", "r11w", "r11b" }, offsetof(struct pt_regs, r11) },
		{ { "r12", "r12d", "r12w", "r12b" }, offsetof(struct pt_regs, r12) },
		{ { "r13", "r13d", "r13w", "r13b" }, offsetof(struct pt_regs, r13) },
		{ { "r14", "r14d", "r14w", "r14b" }, offsetof(struct pt_regs, r14) },
		{ { "r15", "r15d", "r15w", "r15b" }, offsetof(struct pt_regs, r15) },
	};
	static const int size[4] = { 8, 4, 2, 1 };
	struct usdt_spec s;
	char arg[32];
	size_t offs[sizeof(regs) / sizeof(regs[0])];

	(void)state;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		offs[i] = regs[i].off;
		for (size_t j = 0; j < i; j++)
			assert_true(offs[j] != offs[i]); /* the table itself names 17 slots */
		for (int w = 0; w < 4; w++) {
			if (!regs[i].names[w][0])
				continue;
			snprintf(arg, sizeof(arg), "-%d@%%%s", size[w], regs[i].names[w]);
			assert_int_equal(usdt_spec__parse(arg, &s, sizeof(s)), 0);
			assert_int_equal(s.arg_cnt, 1);
			assert_int_equal(s.args[0].arg_type, ARG_REG);
			assert_int_equal(s.args[0].reg_off, regs[i].off);
			assert_true(s.args[0].arg_signed);
			assert_int_equal(s.args[0].arg_bitshift, 64 - 8 * size[w]);
			/* and as the base of a memory operand */
			snprintf(arg, sizeof(arg), "%d@8(%%%s)", size[w], regs[i].names[w]);
			assert_int_equal(usdt_spec__parse(arg, &s, sizeof(s)), 0);
			assert_int_equal(s.args[0].arg_type, ARG_REG_DEREF);
			assert_int_equal(s.args[0].reg_off, regs[i].off);
			assert_int_equal(s.args[0].val_off, 8);
			assert_false(s.args[0].arg_signed);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_probe_header_op),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_every_register),
	};

	return cmocka_run_group_tests_name("unit: USDT argument specs", tests, NULL, NULL);
}
