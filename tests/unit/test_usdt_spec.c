// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests: SDT argument strings to libbpf's USDT spec layout (x86-64). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/ptrace.h>
#include <errno.h>

#include "usdt_spec.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_probe_header_op),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests_name("unit: USDT argument specs", tests, NULL, NULL);
}
