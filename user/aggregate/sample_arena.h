/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory for exact sample arrays: blocks of 512 B to 2 MiB (powers of two) carved from regions
 * the kernel may back with transparent huge pages. On a VM where the first write to each 4 KiB
 * page costs ~12 us (a page-table fill in the hypervisor), a heap array pays that once per 512
 * samples, and again for each copy when it doubles; here it is paid once per 2 MiB. A freed
 * block is kept for the next block of its size; the regions go back to the kernel with the
 * arena. Not thread-safe: one arena per aggregation. */
#ifndef PERFBPF_SAMPLE_ARENA_H
#define PERFBPF_SAMPLE_ARENA_H

#include <stddef.h>

#define SAMPLE_ARENA_MIN 512u
#define SAMPLE_ARENA_MAX (2u << 20)

struct sample_arena;

struct sample_arena *sample_arena__new(void);
void sample_arena__free(struct sample_arena *a);
/* A block of `bytes` (a power of two from SAMPLE_ARENA_MIN to SAMPLE_ARENA_MAX), or NULL (out of
 * memory, or another size). */
void *sample_arena__alloc(struct sample_arena *a, size_t bytes);
/* Gives back a block that sample_arena__alloc returned for the same `bytes`. */
void sample_arena__release(struct sample_arena *a, void *p, size_t bytes);
/* Bytes the arena has taken from the kernel (its regions), for tests and reports. */
size_t sample_arena__mapped(const struct sample_arena *a);

#endif
