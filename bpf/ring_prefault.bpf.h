/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Touching every page of the ring buffer once before any probe is armed. The first write to a
 * page of a new ring costs a page-table fill in the hypervisor on some VMs (measured here: 11 us
 * per 4 KiB page, so a 16 MiB ring's first lap cost the traced engine 45 ms, 3x its recording
 * cost while the lap lasted). Run by the loader (BPF_PROG_TEST_RUN) until every page is done:
 * each call reserves and discards page-sized records until the ring is full or the pages the
 * loader asked for are done, the loader consumes them (a discarded record is skipped) and calls
 * again for the rest. Included by perfbpf.bpf.c
 * only (one object, one skeleton). */
#ifndef PERFBPF_RING_PREFAULT_BPF_H
#define PERFBPF_RING_PREFAULT_BPF_H

/* one record header (8 bytes) per page: the record's size rounded up is exactly a page */
#define PREFAULT_STRIDE 4096
#define PREFAULT_MAX_PAGES (1u << 20) /* 4 GiB: more than any --ring-size */

__u64 prefault_want;  /* pages the loader has left to write (set before each call) */
__u64 prefault_pages; /* pages written by the last call */

static long prefault_page(__u64 i, void *ctx)
{
	void *r;

	if (prefault_pages >= prefault_want)
		return 1;
	r = bpf_ringbuf_reserve(&events, PREFAULT_STRIDE - 8, 0);
	if (!r)
		return 1; /* full: the loader consumes and calls again */
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	prefault_pages++;
	return 0;
}

SEC("syscall")
int perfbpf_ring_prefault(void *ctx)
{
	prefault_pages = 0;
	bpf_loop(PREFAULT_MAX_PAGES, prefault_page, NULL, 0);
	return 0;
}

#endif
