/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads the monitor's in-kernel histograms (per-CPU, 32-bit, wrapping) into cumulative 64-bit
 * series. Each read adds what changed since the previous one, so updates made while it reads are
 * taken by the next read, never lost. */
#ifndef PERFBPF_KERNEL_AGG_H
#define PERFBPF_KERNEL_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "kseries.h"

struct kagg;

struct kagg *kagg__new(int keys_fd, int hists_fd, int ncpus);
void kagg__free(struct kagg *a);
/* Reads every key and histogram; returns the number of series or -errno. */
int kagg__refresh(struct kagg *a);
/* The series as of the last refresh (valid until the next refresh or drop). */
struct kseries *const *kagg__series(const struct kagg *a, size_t *n);
/* Forgets the series of process `pid` (per-process mode, after it exited), in the kernel too. */
void kagg__drop_pid(struct kagg *a, uint32_t pid);

#endif
