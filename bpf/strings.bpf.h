/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the engine's string arguments into fixed fields, and comparing zero-padded names. Included by perfbpf.bpf.c only (one object, one skeleton). */
#ifndef PERFBPF_STRINGS_BPF_H
#define PERFBPF_STRINGS_BPF_H

/* Kernel 6.12+: copies a user string and, unlike bpf_probe_read_user_str, may fault the page in.
 * Engine string literals sit in .rodata pages the engine itself never touches (it only passes
 * their addresses), so without faulting most first reads fail. Needs a sleepable program: the
 * loader marks the USDT programs BPF_F_SLEEPABLE. */
extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign,
				  __u64 flags) __ksym;
#define COPY_PAD_ZEROS 1 /* BPF_F_PAD_ZEROS */

/* Copy a user string into a fixed field, NUL-terminated; the bytes after the NUL are left as
 * they were (callers that compare or hash whole fields zero them first). A fault leaves "" and a
 * flag, or, when the readable part before the fault fits the field, that part flagged truncated;
 * a string that filled the field is checked for one more byte so that exact fits are not
 * called truncated. Returns the bytes of dst used, the NUL included (1 to size).
 * bpf_probe_read_user_str is tried first: it cannot fault pages in, but it costs ~30 ns where
 * bpf_copy_from_user_str costs ~150 ns (measured: op 915 -> 550 ns per event). Only a string in
 * a page the engine has never touched (a literal in .rodata, on its first use) takes the
 * faulting copy; after that the page is present. */
static __always_inline __u32 read_str(char *dst, __u32 size, const char *src, __u32 *flags)
{
	long n;
	char next;

	if (!src) {
		dst[0] = '\0';
		return 1;
	}
	n = bpf_probe_read_user_str(dst, size, src);
	if (n < 0)
		n = bpf_copy_from_user_str(dst, size, src, COPY_PAD_ZEROS);
	if (n < 0) {
		/* A string without a NUL that runs into unmapped memory: keep the bytes up to the
		 * 4 KiB boundary (a page boundary on every page size) and call it truncated. */
		__u32 avail = 4096 - ((__u64)src & 4095);

		*flags |= PERFBPF_F_FAULT;
		count(PERFBPF_CNT_STR_FAULT);
		if (avail < size && avail < 256 &&
		    !bpf_copy_from_user(dst, avail & 255, src)) {
			dst[avail & 255] = '\0';
			*flags |= PERFBPF_F_TRUNCATED;
			return (avail & 255) + 1;
		}
		dst[0] = '\0';
		return 1;
	}
	if (n == size) {
		if (bpf_copy_from_user(&next, 1, src + size - 1) || next != '\0') {
			*flags |= PERFBPF_F_TRUNCATED;
			count(PERFBPF_CNT_STR_TRUNCATED);
		}
	}
	return n > 0 ? (__u32)n : 1;
}

/* Whether the first `words` 8-byte words of a and b are equal (zero-padded names): every word
 * compared, no branch. */
static __always_inline bool words_eq(const void *a, const void *b, unsigned words)
{
	const __u64 *x = a, *y = b;
	__u64 diff = 0;

#pragma unroll
	for (unsigned i = 0; i < words; i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

#endif
