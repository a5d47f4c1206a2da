// SPDX-License-Identifier: BSD-2-Clause
/* Parses SDT argument strings into the spec layout of libbpf's usdt.bpf.h (x86-64). */
#include "user/attach/usdt_spec.h"

#include <asm/ptrace.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct usdt_spec) == USDT_SPEC_SIZE, "struct __bpf_usdt_spec layout");

/* Offset of an x86-64 register in struct pt_regs, by any of its names. */
static int reg_off(const char *name)
{
	static const struct {
		const char *names[4];
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

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int j = 0; j < 4; j++)
			if (regs[i].names[j][0] && !strcmp(name, regs[i].names[j]))
				return (int)regs[i].off;
	return -EINVAL;
}

int usdt_spec__parse(const char *args, void *out, size_t len)
{
	struct usdt_spec *spec = out;
	const char *p = args;

	if (len < sizeof(*spec))
		return -EINVAL;
	memset(spec, 0, sizeof(*spec));
	while (*p) {
		struct usdt_arg_spec *a;
		char reg[16];
		long off;
		int sz, n = 0, r;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (spec->arg_cnt == USDT_MAX_ARGS)
			return -EINVAL;
		a = &spec->args[spec->arg_cnt];
		if (sscanf(p, "%d@%ld(%%%15[^)])%n", &sz, &off, reg, &n) == 3 && n) {
			a->arg_type = ARG_REG_DEREF;
			a->val_off = (__u64)off;
		} else if (sscanf(p, "%d@(%%%15[^)])%n", &sz, reg, &n) == 2 && n) {
			a->arg_type = ARG_REG_DEREF;
		} else if (sscanf(p, "%d@%%%15[a-z0-9]%n", &sz, reg, &n) == 2 && n) {
			a->arg_type = ARG_REG;
		} else if (sscanf(p, "%d@$%ld%n", &sz, &off, &n) == 2 && n) {
			a->arg_type = ARG_CONST;
			a->val_off = (__u64)off;
			reg[0] = '\0';
		} else {
			return -EINVAL;
		}
		if (sz == 0 || abs(sz) > 8 || (abs(sz) & (abs(sz) - 1)))
			return -EINVAL;
		if (a->arg_type != ARG_CONST) {
			r = reg_off(reg);
			if (r < 0)
				return r;
			a->reg_off = (short)r;
		}
		a->arg_signed = sz < 0;
		a->arg_bitshift = (char)(64 - abs(sz) * 8);
		spec->arg_cnt++;
		p += n;
		if (*p && *p != ' ')
			return -EINVAL;
	}
	return 0;
}
