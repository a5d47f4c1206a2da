// SPDX-License-Identifier: BSD-2-Clause
/* Attaches every site of one USDT probe in one object with a single uprobe_multi link. */
#include "user/attach/elf_segments.h"
#include "user/attach/probe_site.h"
#include "user/attach/usdt_multi.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

struct segment {
	GElf_Addr vaddr, memsz;
	GElf_Off offset;
	bool exec;
};

/* PT_LOAD segments and the .stapsdt.base address of an ELF file. */
static int elf_layout(const char *path, struct segment **segs, size_t *nsegs, GElf_Addr *base)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	GElf_Phdr *ph = NULL;
	size_t shstrndx;
	ssize_t n;
	Elf_Scn *scn = NULL;
	Elf *elf;

	*segs = NULL;
	*nsegs = 0;
	*base = 0;
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	n = elf_segments__read(elf, &ph);
	if (n < 0 || elf_getshdrstrndx(elf, &shstrndx)) {
		err = n == -ENOMEM ? -ENOMEM : -ENOEXEC;
		goto out;
	}
	*segs = calloc(n ? (size_t)n : 1, sizeof(**segs));
	if (!*segs) {
		err = -ENOMEM;
		goto out;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		(*segs)[*nsegs] = (struct segment){ ph[i].p_vaddr, ph[i].p_memsz, ph[i].p_offset,
						    !!(ph[i].p_flags & PF_X) };
		(*nsegs)++;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".stapsdt.base"))
			*base = sh.sh_addr;
	}
out:
	free(ph);
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* File offset of a virtual address in a segment that is (exec) or is not executable. */
static long file_offset(const struct segment *segs, size_t n, GElf_Addr va, bool exec)
{
	for (size_t i = 0; i < n; i++)
		if (segs[i].exec == exec && va >= segs[i].vaddr && va < segs[i].vaddr + segs[i].memsz)
			return (long)(va - segs[i].vaddr + segs[i].offset);
	return -ESRCH;
}

/* The spec id holding `args`, stored now if new. */
static int spec_id(struct usdt_specs *specs, const char *args)
{
	char buf[USDT_SPEC_SIZE];
	unsigned id;
	int err;

	for (id = 0; id < specs->next; id++)
		if (!strcmp(specs->spec_strs[id], args))
			return (int)id;
	if (specs->next == specs->max)
		return -E2BIG;
	err = usdt_spec__parse(args, buf, sizeof(buf));
	if (err)
		return err;
	if (bpf_map_update_elem(specs->map_fd, &id, buf, BPF_ANY))
		return -errno;
	if (!specs->spec_strs) {
		specs->spec_strs = calloc(specs->max, sizeof(char *));
		if (!specs->spec_strs)
			return -ENOMEM;
	}
	specs->spec_strs[id] = strdup(args);
	if (!specs->spec_strs[id])
		return -ENOMEM;
	specs->next++;
	return (int)id;
}

/* union bpf_attr's link_create with the uprobe_multi member (Linux 6.6); Debian 12's UAPI
 * headers predate it. The kernel zero-extends a shorter attr. */
struct link_create_uprobe_multi {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
};

int usdt_multi__attach(int prog_fd, struct usdt_specs *specs, const char *path, int pid,
		       const struct sdt_notes *notes, const char *provider, const char *name)
{
	struct link_create_uprobe_multi attr;
	unsigned long *offsets = NULL, *ref_ctr = NULL;
	__u64 *cookies = NULL;
	struct segment *segs;
	size_t nsegs, cnt = 0;
	bool optimize = probe_site__use_nop5();
	GElf_Addr base;
	int err, fd, code_fd = -1;

	err = elf_layout(path, &segs, &nsegs, &base);
	if (err)
		return err;
	if (optimize)
		code_fd = open(path, O_RDONLY | O_CLOEXEC);
	offsets = calloc(notes->n ? notes->n : 1, sizeof(*offsets));
	ref_ctr = calloc(notes->n ? notes->n : 1, sizeof(*ref_ctr));
	cookies = calloc(notes->n ? notes->n : 1, sizeof(*cookies));
	if (!offsets || !ref_ctr || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < notes->n; i++) {
		const struct sdt_note *n = &notes->v[i];
		GElf_Addr ip = n->pc;
		long off, sema = 0;
		int id;

		if (strcmp(n->provider, provider) || strcmp(n->name, name))
			continue;
		/* prelink moved the object: shift by how far .stapsdt.base moved */
		if (base && n->base)
			ip += base - n->base;
		off = file_offset(segs, nsegs, ip, true);
		if (n->sema)
			sema = file_offset(segs, nsegs, n->sema, false);
		id = spec_id(specs, n->args);
		if (off < 0 || sema < 0 || id < 0) {
			err = off < 0 ? (int)off : sema < 0 ? (int)sema : id;
			goto out;
		}
		if (code_fd >= 0) {
			unsigned char code[PROBE_SITE_LEN];
			ssize_t got = pread(code_fd, code, sizeof(code), off);

			off += (long)probe_site__attach_shift(code, got > 0 ? (size_t)got : 0, true);
		}
		offsets[cnt] = (unsigned long)off;
		ref_ctr[cnt] = (unsigned long)sema;
		cookies[cnt] = (__u64)id;
		cnt++;
	}
	if (!cnt) {
		err = -ENOENT;
		goto out;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = USDT_MULTI_ATTACH_TYPE;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.ref_ctr_offsets = (__u64)(unsigned long)ref_ctr;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = (__u32)cnt;
	attr.pid = (__u32)pid;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	err = fd < 0 ? -errno : fd;
out:
	if (code_fd >= 0)
		close(code_fd);
	free(segs);
	free(offsets);
	free(ref_ctr);
	free(cookies);
	return err;
}

void usdt_specs__free(struct usdt_specs *specs)
{
	for (unsigned i = 0; specs->spec_strs && i < specs->next; i++)
		free(specs->spec_strs[i]);
	free(specs->spec_strs);
	specs->spec_strs = NULL;
	specs->next = 0;
}
