/* SPDX-License-Identifier: BSD-2-Clause */
/* The loaded BPF side: skeleton lifecycle, USDT attachment per object, the ring-buffer consumer
 * and the loss counters. */
#ifndef PERFBPF_TRACER_H
#define PERFBPF_TRACER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpf/perfbpf.h"
#include "user/attach/sdt.h"
#include "user/attach/target.h"

struct tracer;

typedef int (*tracer_event_fn)(void *ctx, const struct perfbpf_event *e);
typedef int (*tracer_note_fn)(void *ctx, const struct perfbpf_note *n);
typedef int (*tracer_op_fn)(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns);

struct tracer_opts {
	uint64_t ring_size;    /* bytes, power of two */
	uint64_t wakeup_bytes; /* wake the consumer each time this much is pending */
	uint32_t max_threads;  /* threads with open spans at once */
	bool attribution;      /* scheduler attribution of spans (sched tracepoints) */
	bool aggregate;        /* monitor: aggregate in the kernel; no event crosses the ring */
	bool per_pid;          /* monitor: keys include the process id */
	uint32_t max_keys;     /* monitor: size of the kernel key table */
	bool span_notes;       /* OTLP: attach the span annotation probes; ops carry their span */
	bool per_event;        /* attach the per-event probes even where an object has ABI v3 */
	bool batches;          /* set by tracer__new: ABI v3 collection is on (not monitor, OTLP
				* or per_event) */
	tracer_event_fn on_event;
	tracer_note_fn on_note; /* span notes, when span_notes */
	tracer_op_fn on_op;     /* ABI v3 ops for statistics alone (batch_op_fn); NULL: events */
	void *ctx;
	/* non-zero: a stop was asked (a signal); tracer__poll returns soon, leaving the rest of the
	 * ring for the drain after the probes are detached */
	const volatile sig_atomic_t *stop;
};

/* 0 when perfbpf may load BPF programs; else prints one line naming the missing capability or
 * kernel feature and how to fix it, and returns -EPERM or -ENOTSUP. */
int tracer__check_privileges(void);
/* Checks privileges and kernel support, then opens, sizes and loads the BPF object. On failure
 * prints one line saying what is missing and how to fix it, and returns -errno. */
int tracer__new(const struct tracer_opts *opts, struct tracer **out);
void tracer__free(struct tracer *t);
/* Attaches every perfbpf probe in `notes` of the object at `path`, for process `pid`; returns
 * the number of probe sites attached or -errno (with a message). */
int tracer__attach(struct tracer *t, int pid, const char *path, const char *display,
		   const struct sdt_notes *notes);
/* Detaches every USDT probe attached so far (the next run of a command gets its own): a link
 * left on an exited process would still be visited, and cost, on every probe hit of the file. */
void tracer__detach_probes(struct tracer *t);
/* A process's (or a list of files') objects examined for probes so far, and what was attached. */
struct probe_objs {
	struct target_objs objs;
	size_t done; /* objs.v[0..done) were examined */
	unsigned binaries, sites;
};
/* Examines the objects not yet looked at and attaches to those with perfbpf probes, for process
 * pid (0: every process that maps them, now or later). 0, or the first failure's -errno. */
int tracer__attach_new(struct tracer *t, int pid, struct probe_objs *po);
/* Strings in the target's read-only file-backed ranges are not copied by the BPF side but read
 * from the files (ro_strings.h). Publishes pid's ranges when they changed: with rescan, reads
 * the maps; without, only if a mapping change may have touched a range since the last time (the
 * kernel then copies every string until this is called). Cheap when nothing is to be done: call
 * it at every drain. 0 or -errno. */
int tracer__refresh_strings(struct tracer *t, int pid, bool rescan);
/* String fields read from the target's files so far (not copied by the BPF side). */
uint64_t tracer__strings_from_files(const struct tracer *t);
/* Waits up to timeout_ms for a wakeup, then consumes what is pending: everything, or, while
 * probes are attached, what comes in DRAIN_SLICE_NS (an engine can fire faster than the consumer
 * takes records, and the caller must get back to its stop checks and rescans) or until a stop is
 * asked. Returns the number of records consumed or -errno (-EINTR when a signal arrived). */
int tracer__poll(struct tracer *t, int timeout_ms);
/* ABI v3: records pending in a running thread's buffer are collected by the next timer tick
 * (at most 1/V3_TICK_HZ s away). Before the probes are detached from a target that is still
 * running, waits that long (polling) so that its threads' records up to now are in. */
void tracer__settle(struct tracer *t);
int tracer__drain(struct tracer *t);
/* The ring buffer map's descriptor, and its size in bytes. */
int tracer__ring_fd(const struct tracer *t, uint64_t *size);
/* monitor (opts.aggregate): the key table and the per-CPU histograms (see perfbpf.h). */
void tracer__mon_fds(struct tracer *t, int *keys_fd, int *hists_fd);
/* Events dropped (the counters summary__dropped sums) on each CPU: a new array of *ncpus
 * entries (the caller frees it), or NULL without memory. */
uint64_t *tracer__dropped_per_cpu(struct tracer *t, int *ncpus);
/* Sums the per-CPU counters. */
int tracer__counters(struct tracer *t, uint64_t out[PERFBPF_CNT__MAX]);
struct summary;
/* Fills sum's counters, dropped and dropped_per_cpu (also in *per_cpu, for the caller to free;
 * NULL without memory: the report then has no per-CPU split), and perfbpf's own CPU time and
 * peak RSS. 0 or -errno. */
int tracer__summary_losses(struct tracer *t, struct summary *sum, uint64_t **per_cpu);

#endif
