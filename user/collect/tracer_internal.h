/* SPDX-License-Identifier: BSD-2-Clause */
/* The tracer's state, shared by its three files: tracer.c (the BPF object's lifecycle),
 * tracer_attach.c (USDT probes attached per object) and tracer_counters.c (loss counters).
 * Internal to user/collect/. */
#ifndef PERFBPF_TRACER_INTERNAL_H
#define PERFBPF_TRACER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "bpf/perfbpf.h" /* the skeleton's types: before it */
#include "perfbpf.skel.h"
#include "user/attach/ro_strings.h"
#include "user/attach/usdt_multi.h"
#include "user/collect/ring_consumer.h"
#include "user/collect/tracer.h"
#include "user/collect/tsc_clock.h"

#define RO_PROGS 3 /* see ro_programs */
#define V3_TICK_HZ 20 /* the periodic collector: pending records of a running thread wait at most
		       * 1 / V3_TICK_HZ s (docs/RELIABILITY.md) */

/* Distinct probe argument layouts perfbpf can hold (libbpf's default is 256). */
#define USDT_SPECS 4096

/* Every perfbpf USDT probe, once (tracer_attach.c): its name in the SDT notes, the probe ABI
 * version that added it, and its BPF program. The ABI v2 span notes are loaded and attached only
 * with tracer_opts.span_notes (the OTLP export). */
struct probe_def {
	const char *name;
	unsigned abi;
	bool span_note; /* used only for span notes (the OTLP export) */
	size_t prog;    /* offset of the program's pointer in the skeleton */
};
extern const struct probe_def tracer_probes[];
extern const size_t tracer_nprobes;

struct tracer {
	struct perfbpf_bpf *skel;
	struct ring_consumer *rc;
	struct tracer_opts opts;
	int *links; /* uprobe_multi link fds, one per probe per object */
	size_t nlinks;
	struct usdt_specs specs;
	int ncpus;
	struct ro_strings *ro; /* strings left in the target's read-only ranges; NULL: all copied */
	struct bpf_link *ro_links[RO_PROGS];
	struct bpf_link **tick_links; /* ABI v3's periodic collector, one per CPU */
	int ntick_links;
	struct tsc_clock clock;       /* ABI v3 TSC stamps to CLOCK_MONOTONIC */
	uint64_t xspans_unfinished;   /* spans with ids left open by processes that ended */
	uint64_t xspans_reaped_at;    /* mono ns of the last walk of the table (reap_xspans) */
};

static inline struct bpf_program *probe_prog(const struct tracer *t, const struct probe_def *p)
{
	return *(struct bpf_program **)((char *)t->skel + p->prog);
}

/* Whether a probe is attached and its program loaded with these options. */
static inline bool probe_used(const struct tracer_opts *o, const struct probe_def *p)
{
	if (p->span_note && !o->span_notes)
		return false;
	return p->abi != 3 || o->batches;
}

#endif
