/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF side only: all of a USDT probe's arguments in one pass. libbpf's bpf_usdt_arg() fetches
 * the attach cookie, looks the spec up and reads the register with bpf_probe_read_kernel() once
 * per argument; here the spec is looked up once and register operands (the only form
 * include/perfbpf/probe.h emits, besides constants) are read from pt_regs at a constant offset,
 * which needs no helper call. The spec layout is libbpf's (struct __bpf_usdt_spec in
 * <bpf/usdt.bpf.h>), written by user/attach/usdt_spec.c. Memory operands fall back to reading the
 * register the same way and then the user memory. */
#ifndef PERFBPF_USDT_ARGS_H
#define PERFBPF_USDT_ARGS_H

#include <bpf/usdt.bpf.h>

/* x86-64 struct pt_regs: 21 eight-byte slots, r15 at 0 ... ss at 160 (user/attach/usdt_spec.c writes
 * these offsets). The verifier accepts a context read only at a constant offset from the context
 * pointer itself, so each case is one load instruction written in assembly (compiled C would
 * compute ctx + off first and load through the sum, which the verifier refuses). Any other
 * offset reads as 0. */
#define PERFBPF_REG_CASE(n)                                                                  \
	case (n) * 8:                                                                        \
		asm volatile("%[v] = *(u64 *)(%[c] + %[o])" : [v] "=r"(v) : [c] "r"(ctx),          \
			     [o] "i"((n) * 8));                                                \
		break

static __always_inline unsigned long perfbpf_reg(struct pt_regs *ctx, int off)
{
	unsigned long v = 0;

	switch (off) {
	PERFBPF_REG_CASE(0); PERFBPF_REG_CASE(1); PERFBPF_REG_CASE(2); PERFBPF_REG_CASE(3);
	PERFBPF_REG_CASE(4); PERFBPF_REG_CASE(5); PERFBPF_REG_CASE(6); PERFBPF_REG_CASE(7);
	PERFBPF_REG_CASE(8); PERFBPF_REG_CASE(9); PERFBPF_REG_CASE(10); PERFBPF_REG_CASE(11);
	PERFBPF_REG_CASE(12); PERFBPF_REG_CASE(13); PERFBPF_REG_CASE(14); PERFBPF_REG_CASE(15);
	PERFBPF_REG_CASE(16); PERFBPF_REG_CASE(17); PERFBPF_REG_CASE(18); PERFBPF_REG_CASE(19);
	PERFBPF_REG_CASE(20);
	default:
		break;
	}
	return v;
}

/* Fills out[0..n) with the probe's first n arguments (0 for any it does not have or cannot
 * read). */
static __always_inline void perfbpf_usdt_args(struct pt_regs *ctx, long *out, const int n)
{
	int spec_id = bpf_get_attach_cookie(ctx);
	struct __bpf_usdt_spec *spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);

	for (int i = 0; i < n; i++)
		out[i] = 0;
	if (!spec)
		return;
	for (int i = 0; i < n; i++) {
		struct __bpf_usdt_arg_spec *a;
		unsigned long val;

		if (i >= spec->arg_cnt)
			break;
		a = &spec->args[i];
		if (a->arg_type == BPF_USDT_ARG_CONST) {
			val = a->val_off;
		} else {
			val = perfbpf_reg(ctx, a->reg_off);
			if (a->arg_type == BPF_USDT_ARG_REG_DEREF &&
			    bpf_probe_read_user(&val, sizeof(val), (void *)val + a->val_off))
				continue;
		}
		/* 1, 2 or 4 bytes to 8, sign-extended when the argument is signed */
		val <<= a->arg_bitshift;
		if (a->arg_signed)
			val = (unsigned long)((long)val >> a->arg_bitshift);
		else
			val >>= a->arg_bitshift;
		out[i] = (long)val;
	}
}

/* PERFBPF_USDT(name, args...): libbpf's BPF_USDT, with the arguments read by perfbpf_usdt_args
 * (every perfbpf probe program is declared with it). Up to 5 arguments. */
#define ___pb_args0() ctx
#define ___pb_args1(x) ___pb_args0(), (void *)_a[0]
#define ___pb_args2(x, args...) ___pb_args1(args), (void *)_a[1]
#define ___pb_args3(x, args...) ___pb_args2(args), (void *)_a[2]
#define ___pb_args4(x, args...) ___pb_args3(args), (void *)_a[3]
#define ___pb_args5(x, args...) ___pb_args4(args), (void *)_a[4]
#define ___pb_args(args...) ___bpf_apply(___pb_args, ___bpf_narg(args))(args)

#define PERFBPF_USDT(name, args...)                                                          \
	name(struct pt_regs *ctx);                                                           \
	static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args);      \
	typeof(name(0)) name(struct pt_regs *ctx)                                            \
	{                                                                                    \
		long _a[___bpf_narg(args)];                                                  \
                                                                                             \
		perfbpf_usdt_args(ctx, _a, ___bpf_narg(args));                               \
		_Pragma("GCC diagnostic push")                                               \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")                       \
		return ____##name(___pb_args(args));                                         \
		_Pragma("GCC diagnostic pop")                                                \
	}                                                                                    \
	static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

#endif
