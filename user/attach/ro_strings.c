// SPDX-License-Identifier: BSD-2-Clause
/* The target's read-only file-backed ranges and the strings the BPF side left in them (see
 * ro_strings.h). */
#include "user/attach/ro_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/attach/elf_segments.h"
#include "user/attach/target.h"
#include "user/lib/u64map.h"

#define MAX_SEGS 16      /* read-only PT_LOADs kept per file */
#define MAX_STR 256      /* bytes read per string: more than any name field */
#define GEN_CURRENT UINT32_MAX
#define NO_SEG SIZE_MAX

struct ro_file {
	dev_t dev;
	ino_t ino;
	int fd;
	uint64_t seg_lo[MAX_SEGS], seg_hi[MAX_SEGS]; /* file offsets of read-only PT_LOADs */
	size_t nseg;
};

/* A range of one generation or more: [gen_from, gen_to). */
struct ro_seg {
	uint64_t lo, hi, file_off; /* file_off: the file offset of lo */
	uint32_t gen_from, gen_to;
	size_t file;
};

struct ro_cached {
	size_t seg;                /* the range it was read from, or NO_SEG */
	uint32_t fault_gen;        /* NO_SEG: the generation it was asked for */
	uint32_t flags;            /* PERFBPF_F_FAULT when unreadable */
	uint32_t len;              /* strlen, < MAX_STR; MAX_STR - 1 means it may go on */
	char s[MAX_STR];
};

struct ro_strings {
	struct ro_file *files;
	size_t nfiles;
	struct ro_seg *segs;
	size_t nsegs;
	uint32_t gen; /* the current generation, 0 before the first scan */
	int pid;
	struct u64map cache; /* address -> struct ro_cached */
};

struct ro_strings *ro_strings__new(void)
{
	return calloc(1, sizeof(struct ro_strings));
}

void ro_strings__free(struct ro_strings *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nfiles; i++)
		if (rs->files[i].fd >= 0)
			close(rs->files[i].fd);
	for (size_t i = 0; i < rs->cache.cap; i++)
		free(rs->cache.v[i].val);
	u64map__free(&rs->cache);
	free(rs->files);
	free(rs->segs);
	free(rs);
}

size_t ro_strings__clip(uint64_t start, uint64_t end, uint64_t off, const uint64_t *seg_lo,
			const uint64_t *seg_hi, size_t nseg, struct perfbpf_ro_range *out,
			size_t max)
{
	uint64_t fend = off + (end - start);
	size_t n = 0;

	for (size_t i = 0; i < nseg && n < max; i++) {
		uint64_t lo = seg_lo[i] > off ? seg_lo[i] : off;
		uint64_t hi = seg_hi[i] < fend ? seg_hi[i] : fend;

		if (lo < hi)
			out[n++] = (struct perfbpf_ro_range){ start + (lo - off), start + (hi - off) };
	}
	return n;
}

/* The file offsets of the read-only PT_LOAD segments of an ELF file (none if it is not one). */
static void read_segments(struct ro_file *f)
{
	GElf_Phdr *ph;
	ssize_t n;
	Elf *elf;

	f->nseg = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return;
	n = elf_segments__read(elf, &ph);
	for (ssize_t i = 0; i < n && f->nseg < MAX_SEGS; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W) || ph[i].p_filesz == 0)
			continue;
		f->seg_lo[f->nseg] = ph[i].p_offset;
		f->seg_hi[f->nseg++] = ph[i].p_offset + ph[i].p_filesz;
	}
	free(ph);
	elf_end(elf);
}

/* The file of a mapping, opened once: index into rs->files, or -errno. */
static long file_of(struct ro_strings *rs, int pid, const struct maps_line *m)
{
	struct ro_file *nf, *f;
	char open_path[PATH_MAX + 64];

	for (size_t i = 0; i < rs->nfiles; i++)
		if (rs->files[i].dev == m->dev && rs->files[i].ino == m->ino)
			return (long)i;
	nf = realloc(rs->files, (rs->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	rs->files = nf;
	f = &nf[rs->nfiles];
	memset(f, 0, sizeof(*f));
	f->dev = m->dev;
	f->ino = m->ino;
	target__mapped_path(pid, m, open_path, sizeof(open_path));
	f->fd = open(open_path, O_RDONLY | O_CLOEXEC);
	if (f->fd >= 0)
		read_segments(f);
	return (long)rs->nfiles++;
}

static bool same_range(const struct ro_seg *a, const struct ro_seg *b)
{
	return a->lo == b->lo && a->hi == b->hi && a->file == b->file && a->file_off == b->file_off;
}

/* The current range equal to v, or NULL. */
static struct ro_seg *current_seg(struct ro_strings *rs, const struct ro_seg *v)
{
	for (size_t i = 0; i < rs->nsegs; i++)
		if (rs->segs[i].gen_to == GEN_CURRENT && same_range(&rs->segs[i], v))
			return &rs->segs[i];
	return NULL;
}

static size_t current_count(const struct ro_strings *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->nsegs; i++)
		n += rs->segs[i].gen_to == GEN_CURRENT;
	return n;
}

/* The set the BPF side searches: the current ranges in address order (maps order), adjacent
 * ones merged (a library's read-only segments are usually contiguous), at most
 * PERFBPF_RO_RANGES (the lowest addresses: the executable first). */
static void fill_set(const struct ro_seg *v, size_t n, uint32_t gen, struct perfbpf_ro_set *set)
{
	memset(set, 0, sizeof(*set));
	set->gen = gen;
	for (size_t i = 0; i < n; i++) {
		struct perfbpf_ro_range *last = set->n ? &set->r[set->n - 1] : NULL;

		if (last && v[i].lo == last->hi)
			last->hi = v[i].hi;
		else if (set->n < PERFBPF_RO_RANGES)
			set->r[set->n++] = (struct perfbpf_ro_range){ v[i].lo, v[i].hi };
		else
			break;
	}
}

/* Makes the segments found the current generation, if they differ from it (or the pid does). */
static int update(struct ro_strings *rs, int pid, struct ro_seg *found, size_t n,
		  struct perfbpf_ro_set *set)
{
	struct ro_seg *ns;

	if (pid == rs->pid && rs->gen) {
		size_t same = 0;

		for (size_t i = 0; i < n; i++)
			same += current_seg(rs, &found[i]) != NULL;
		if (same == n && n == current_count(rs))
			return 0;
	}
	ns = realloc(rs->segs, (rs->nsegs + n + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	rs->segs = ns;
	rs->gen++;
	/* a range of the same process that is still there carries on (its cached strings stay
	 * valid); the others end with the previous generation */
	for (size_t i = 0; i < rs->nsegs; i++) {
		struct ro_seg *sg = &rs->segs[i];
		bool kept = false;

		for (size_t k = 0; k < n && pid == rs->pid && sg->gen_to == GEN_CURRENT && !kept; k++)
			kept = same_range(sg, &found[k]);
		if (sg->gen_to == GEN_CURRENT && !kept)
			sg->gen_to = rs->gen;
	}
	rs->pid = pid;
	for (size_t i = 0; i < n; i++) {
		if (!current_seg(rs, &found[i])) {
			found[i].gen_from = rs->gen;
			found[i].gen_to = GEN_CURRENT;
			rs->segs[rs->nsegs++] = found[i];
		}
	}
	fill_set(found, n, rs->gen, set);
	return 1;
}

struct scan {
	struct ro_strings *rs;
	int pid;
	struct ro_seg *found;
	size_t n, cap;
};

/* Adds the read-only parts of one read-only mapping to sc->found. */
static int scan_mapping(void *ctx, const struct maps_line *m)
{
	struct scan *sc = ctx;
	struct perfbpf_ro_range r[MAX_SEGS];
	const struct ro_file *f;
	long fi;
	size_t nr;

	if (m->perms[0] != 'r' || m->perms[1] == 'w')
		return 0;
	fi = file_of(sc->rs, sc->pid, m);
	if (fi < 0)
		return (int)fi;
	f = &sc->rs->files[fi];
	if (f->fd < 0)
		return 0;
	nr = ro_strings__clip(m->start, m->end, m->offset, f->seg_lo, f->seg_hi, f->nseg, r,
			      MAX_SEGS);
	if (sc->n + nr > sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 64;
		struct ro_seg *nf;

		while (nc < sc->n + nr)
			nc *= 2;
		nf = realloc(sc->found, nc * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		sc->found = nf;
		sc->cap = nc;
	}
	for (size_t i = 0; i < nr; i++)
		sc->found[sc->n++] = (struct ro_seg){
			.lo = r[i].lo, .hi = r[i].hi, .file = (size_t)fi,
			.file_off = m->offset + (r[i].lo - m->start),
		};
	return 0;
}

int ro_strings__scan(struct ro_strings *rs, int pid, struct perfbpf_ro_set *set)
{
	struct scan sc = { .rs = rs, .pid = pid };
	int err = target__each_mapping(pid, scan_mapping, &sc);

	if (!err)
		err = update(rs, pid, sc.found, sc.n, set);
	free(sc.found);
	return err;
}

/* Whether a cached string answers for generation gen. */
static bool cached_for(const struct ro_strings *rs, const struct ro_cached *c, uint32_t gen)
{
	if (c->seg == NO_SEG)
		return gen == c->fault_gen;
	return gen >= rs->segs[c->seg].gen_from && gen < rs->segs[c->seg].gen_to;
}

/* Reads the string at addr in generation gen from its file into a new cache entry. */
static struct ro_cached *read_from_file(const struct ro_strings *rs, uint32_t gen, uint64_t addr)
{
	struct ro_cached *c = calloc(1, sizeof(*c));
	ssize_t got = -1;

	if (!c)
		return NULL;
	c->seg = NO_SEG;
	for (size_t i = 0; i < rs->nsegs && c->seg == NO_SEG; i++)
		if (gen >= rs->segs[i].gen_from && gen < rs->segs[i].gen_to &&
		    addr >= rs->segs[i].lo && addr < rs->segs[i].hi)
			c->seg = i;
	if (c->seg != NO_SEG) {
		const struct ro_seg *seg = &rs->segs[c->seg];
		uint64_t avail = seg->hi - addr;

		got = pread(rs->files[seg->file].fd, c->s, avail < MAX_STR - 1 ? avail : MAX_STR - 1,
			    (off_t)(seg->file_off + (addr - seg->lo)));
	}
	if (got < 0) {
		/* not in a range of that generation (the BPF side read a set being rewritten),
		 * or the file cannot be read: unreadable, as a failed copy would be */
		c->seg = NO_SEG;
		c->fault_gen = gen;
		c->flags = PERFBPF_F_FAULT;
		got = 0;
	}
	c->s[got] = '\0';
	c->len = (uint32_t)strlen(c->s);
	return c;
}

int ro_strings__read(struct ro_strings *rs, uint32_t gen, uint64_t addr, char *dst, size_t size,
		     uint32_t *flags)
{
	struct ro_cached *c;
	size_t n;

	memset(dst, 0, size);
	if (!addr) { /* the BPF side never sends one; a malformed record is unreadable */
		*flags |= PERFBPF_F_FAULT;
		return 0;
	}
	c = u64map__get(&rs->cache, addr);
	if (!c || !cached_for(rs, c, gen)) {
		struct ro_cached *nc = read_from_file(rs, gen, addr);

		if (!nc)
			return -ENOMEM;
		if (u64map__put(&rs->cache, addr, nc)) {
			free(nc);
			return -ENOMEM;
		}
		free(c);
		c = nc;
	}
	*flags |= c->flags;
	n = c->len < size - 1 ? c->len : size - 1;
	memcpy(dst, c->s, n);
	if (c->len > n)
		*flags |= PERFBPF_F_TRUNCATED;
	return 0;
}
