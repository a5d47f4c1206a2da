/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads SystemTap SDT notes (.note.stapsdt) from an ELF file with libelf. */
#ifndef PERFBPF_SDT_H
#define PERFBPF_SDT_H

#include <stddef.h>
#include <stdint.h>

struct sdt_note {
	char *provider;
	char *name;
	char *args;     /* operand string, e.g. "8@%rdi 8@%rsi" */
	uint64_t pc;    /* probe address (link-time) */
	uint64_t base;  /* .stapsdt.base address recorded in the note */
	uint64_t sema;  /* semaphore address, 0 if none */
};

struct sdt_notes {
	struct sdt_note *v;
	size_t n;
};

/* 0 with the notes found (possibly none); -ENOEXEC when the file is not ELF or its notes are
 * malformed; other -errno on I/O errors. */
int sdt__read_file(const char *path, struct sdt_notes *out);
/* Same, from a buffer (what the fuzzer drives). */
int sdt__read_mem(const void *buf, size_t len, struct sdt_notes *out);
void sdt__free(struct sdt_notes *notes);
/* Number of notes of `provider`; if name != NULL, of that probe only. */
size_t sdt__count(const struct sdt_notes *notes, const char *provider, const char *name);

#endif
