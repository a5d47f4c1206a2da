/* SPDX-License-Identifier: BSD-2-Clause */
/* The ring's consumer yields the CPU to the engine it traces. While the ring has room, the
 * consumer thread runs at SCHED_IDLE: it decodes on CPU time no other thread wants, so an engine
 * that keeps every CPU busy is not preempted by it, and its records wait in the ring (memory the
 * kernel has already given). A watcher thread at normal priority, which sleeps until the BPF side
 * wakes it (each ring_size/4 of unread data), returns the consumer to normal priority when the
 * unread data reaches half the ring, so that yielding never costs an event; the consumer goes
 * back to SCHED_IDLE once it has read the ring below an eighth. The watcher also returns it, for
 * good, when the target exits or perfbpf gets SIGINT, SIGTERM or SIGHUP (the consumer blocks
 * them: the watcher takes them, and ends a call the consumer is blocked in with SIGURG, as the
 * signal itself would have), and for a while when the consumer is more than 20 ms late for
 * a timed duty of its loop (a --duration stop, a library rescan, a metrics push).
 *
 * Returning a thread from SCHED_IDLE needs CAP_SYS_NICE (or RLIMIT_NICE; the caller asks
 * permission__may_leave_idle): without it the consumer does not yield. The work is not gone: what the consumer leaves in the ring while the
 * engine runs, it reads when a CPU is free or after the run. */
#ifndef PERFBPF_CONSUMER_YIELD_H
#define PERFBPF_CONSUMER_YIELD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct consumer_yield;

/* The calling thread (the consumer) goes to SCHED_IDLE, with a watcher of the ring map `ring_fd`
 * (`ring_size` bytes) and of the process `pid` (its exit); its first timed duty is at `due_ns`.
 * NULL with errno when it cannot: the consumer then runs as before. */
struct consumer_yield *consumer_yield__start(int ring_fd, uint64_t ring_size, pid_t pid,
					     uint64_t due_ns);

/* The consumer has come round its loop; its next timed duty is at `due_ns` (CLOCK_MONOTONIC,
 * 0: none). Back to SCHED_IDLE if a raise is over. */
void consumer_yield__loop(struct consumer_yield *y, uint64_t due_ns);

/* The consumer has seen its stop: at normal priority for good, so that nothing delays the end. */
void consumer_yield__finish(struct consumer_yield *y);

/* The consumer back at normal priority and its signal mask as before; the watcher stopped (-v:
 * one line of how often it returned the consumer to normal priority). */
void consumer_yield__stop(struct consumer_yield *y);

#endif
