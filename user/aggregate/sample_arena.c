// SPDX-License-Identifier: BSD-2-Clause
/* Sample array blocks from huge-page regions (see sample_arena.h). */
#include "user/aggregate/sample_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
/* a block is addressable only while it is handed out: AddressSanitizer sees a write past a
 * sample array's end, or into a block given back */
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define HUGE_PAGE (2u << 20)
#define REGION (32u << 20)
#define CLASSES 13 /* 512 B << 0 .. 12 */

struct region {
	struct region *next;
	void *base;
};

struct sample_arena {
	struct region *regions;
	size_t mapped;
	char *next, *end;          /* the newest region's part not yet carved */
	void *free[CLASSES];       /* given-back blocks by class, linked through their first word */
};

static int class_of(size_t bytes)
{
	if (bytes < SAMPLE_ARENA_MIN || bytes > SAMPLE_ARENA_MAX || (bytes & (bytes - 1)))
		return -1;
	return __builtin_ctzl(bytes) - __builtin_ctzl(SAMPLE_ARENA_MIN);
}

struct sample_arena *sample_arena__new(void)
{
	return calloc(1, sizeof(struct sample_arena));
}

void sample_arena__free(struct sample_arena *a)
{
	if (!a)
		return;
	while (a->regions) {
		struct region *r = a->regions;

		a->regions = r->next;
		/* the shadow outlives the mapping: a later mmap at this address must not be poisoned */
		UNPOISON(r->base, REGION);
		munmap(r->base, REGION);
		free(r);
	}
	free(a);
}

size_t sample_arena__mapped(const struct sample_arena *a)
{
	return a ? a->mapped : 0;
}

static void push(struct sample_arena *a, int c, void *p)
{
	UNPOISON(p, sizeof(void *));
	*(void **)p = a->free[c];
	POISON(p, SAMPLE_ARENA_MIN << c);
	a->free[c] = p;
}

/* A new region, aligned to a huge page so that every 2 MiB of it can be one; what was left of
 * the previous one is kept as free blocks. */
static int new_region(struct sample_arena *a)
{
	struct region *r = malloc(sizeof(*r));
	uintptr_t base, at;
	char *p;

	if (!r)
		return -1;
	p = mmap(NULL, REGION + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (p == MAP_FAILED) {
		free(r);
		return -1;
	}
	base = (uintptr_t)p;
	at = (base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (at > base)
		munmap(p, at - base);
	munmap((char *)at + REGION, base + HUGE_PAGE - at);
	madvise((void *)at, REGION, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
	POISON((void *)at, REGION);
	while (a->end - a->next >= (ptrdiff_t)SAMPLE_ARENA_MIN) {
		int c = CLASSES - 1;

		while ((ptrdiff_t)(SAMPLE_ARENA_MIN << c) > a->end - a->next)
			c--;
		push(a, c, a->next);
		a->next += SAMPLE_ARENA_MIN << c;
	}
	r->base = (void *)at;
	r->next = a->regions;
	a->regions = r;
	a->mapped += REGION;
	a->next = (char *)at;
	a->end = a->next + REGION;
	return 0;
}

void *sample_arena__alloc(struct sample_arena *a, size_t bytes)
{
	int c = class_of(bytes);
	void *p;

	if (c < 0)
		return NULL;
	if (a->free[c]) {
		p = a->free[c];
		UNPOISON(p, bytes);
		a->free[c] = *(void **)p;
		return p;
	}
	if (a->end - a->next < (ptrdiff_t)bytes && new_region(a))
		return NULL;
	p = a->next;
	a->next += bytes;
	UNPOISON(p, bytes);
	return p;
}

void sample_arena__release(struct sample_arena *a, void *p, size_t bytes)
{
	int c = class_of(bytes);

	if (p && c >= 0)
		push(a, c, p);
}
