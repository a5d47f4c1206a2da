// SPDX-License-Identifier: BSD-2-Clause
/* Reads SystemTap SDT notes (.note.stapsdt) from an ELF file with libelf. */
#include "user/attach/sdt.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT_STAPSDT 3

static int add_note(struct sdt_notes *out, const char *desc, size_t len, int addr_size)
{
	const char *p = desc + 3 * addr_size, *end = desc + len, *strs[3];
	struct sdt_note *n, *v;
	uint64_t addr[3];

	if (len < 3u * addr_size)
		return -ENOEXEC;
	for (int i = 0; i < 3; i++) {
		const char *z = memchr(p, '\0', (size_t)(end - p));

		if (!z)
			return -ENOEXEC;
		strs[i] = p;
		p = z + 1;
		if (i < 2 && p >= end)
			return -ENOEXEC;
	}
	for (int i = 0; i < 3; i++) {
		if (addr_size == 8) {
			memcpy(&addr[i], desc + 8 * i, 8);
		} else {
			uint32_t a;

			memcpy(&a, desc + 4 * i, 4);
			addr[i] = a;
		}
	}
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	n = &v[out->n];
	n->provider = strdup(strs[0]);
	n->name = strdup(strs[1]);
	n->args = strdup(strs[2]);
	if (!n->provider || !n->name || !n->args) {
		free(n->provider);
		free(n->name);
		free(n->args);
		return -ENOMEM;
	}
	n->pc = addr[0];
	n->base = addr[1];
	n->sema = addr[2];
	out->n++;
	return 0;
}

static int read_elf(Elf *elf, struct sdt_notes *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	int addr_size, err = 0;

	if (elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx))
		return -ENOEXEC;
	addr_size = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *sname;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		if (sh.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt") != 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			return -ENOEXEC;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const char *buf = data->d_buf;

			if (nh.n_type != NT_STAPSDT || nh.n_namesz != 8 ||
			    memcmp(buf + name_off, "stapsdt", 8) != 0)
				continue;
			err = add_note(out, buf + desc_off, nh.n_descsz, addr_size);
			if (err)
				return err;
		}
	}
	return 0;
}

static int finish(Elf *elf, struct sdt_notes *out)
{
	int err;

	if (!elf)
		return -ENOEXEC;
	err = read_elf(elf, out);
	elf_end(elf);
	if (err)
		sdt__free(out);
	return err;
}

int sdt__read_file(const char *path, struct sdt_notes *out)
{
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = finish(elf_begin(fd, ELF_C_READ_MMAP, NULL), out);
	close(fd);
	return err;
}

int sdt__read_mem(const void *buf, size_t len, struct sdt_notes *out)
{
	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	return finish(elf_memory((char *)buf, len), out);
}

void sdt__free(struct sdt_notes *notes)
{
	for (size_t i = 0; i < notes->n; i++) {
		free(notes->v[i].provider);
		free(notes->v[i].name);
		free(notes->v[i].args);
	}
	free(notes->v);
	notes->v = NULL;
	notes->n = 0;
}

size_t sdt__count(const struct sdt_notes *notes, const char *provider, const char *name)
{
	size_t c = 0;

	for (size_t i = 0; i < notes->n; i++)
		if (strcmp(notes->v[i].provider, provider) == 0 &&
		    (!name || strcmp(notes->v[i].name, name) == 0))
			c++;
	return c;
}
