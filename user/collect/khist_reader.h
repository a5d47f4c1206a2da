/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads the monitor's in-kernel histograms (per-CPU, 32-bit, wrapping) into cumulative 64-bit
 * series. Each read adds what changed since the previous one, so updates made while it reads are
 * taken by the next read, never lost. */
#ifndef PERFBPF_KHIST_READER_H
#define PERFBPF_KHIST_READER_H

#include <stddef.h>
#include <stdint.h>

#include "user/model/kseries.h"

struct khist_reader;

struct khist_reader *khist_reader__new(int keys_fd, int hists_fd, int ncpus);
void khist_reader__free(struct khist_reader *a);
/* Reads every key and histogram; returns the number of series or -errno. */
int khist_reader__refresh(struct khist_reader *a);
/* The series as of the last refresh (valid until the next refresh or drop). */
struct kseries *const *khist_reader__series(const struct khist_reader *a, size_t *n);
/* Forgets the series of process `pid` (per-process mode, after it exited), in the kernel too. */
void khist_reader__drop_pid(struct khist_reader *a, uint32_t pid);

#endif
