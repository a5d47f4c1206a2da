/* SPDX-License-Identifier: BSD-2-Clause */
/* Parses SDT argument strings ("8@%rdi -8@$5 4@-20(%rbp)") into the layout of libbpf's
 * struct __bpf_usdt_spec, which the BPF side's bpf_usdt_arg() reads (x86-64 registers). */
#ifndef PERFBPF_USDT_SPEC_H
#define PERFBPF_USDT_SPEC_H

#include <linux/types.h>
#include <stddef.h>

#define USDT_SPEC_SIZE 208 /* sizeof(struct __bpf_usdt_spec) */
#define USDT_MAX_ARGS 12

enum usdt_arg_type { ARG_CONST, ARG_REG, ARG_REG_DEREF };

struct usdt_arg_spec {
	__u64 val_off;
	__u32 arg_type;    /* enum usdt_arg_type */
	short reg_off;     /* offset of the register in struct pt_regs */
	_Bool arg_signed;
	char arg_bitshift; /* 64 - 8 * size */
};

struct usdt_spec {
	struct usdt_arg_spec args[USDT_MAX_ARGS];
	__u64 usdt_cookie;
	short arg_cnt;
};

/* 0, or -EINVAL on a form it cannot read (written to out, len >= USDT_SPEC_SIZE). */
int usdt_spec__parse(const char *args, void *out, size_t len);

#endif
