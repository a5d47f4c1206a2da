/* SPDX-License-Identifier: BSD-2-Clause */
/* Attaches every site of one USDT probe in one object with a single uprobe_multi link, filling
 * the argument specs that libbpf's usdt.bpf.h reads (cookie = spec id).
 *
 * Why not bpf_program__attach_usdt (libbpf 1.1): it makes one perf event per site and process.
 * Measured on kernel 6.18: detaching costs ~100 ms per site (one grace period each, serialized),
 * and the traced process pays ~430 ns per context switch for its per-task perf events. A
 * uprobe_multi link filters by pid without perf events and detaches all sites with one wait. */
#ifndef PERFBPF_USDT_MULTI_H
#define PERFBPF_USDT_MULTI_H

#include "user/attach/sdt.h"
#include "user/attach/usdt_spec.h"

#define USDT_MULTI_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI, kernel 6.6+ */

struct usdt_specs {
	int map_fd;        /* libbpf's __bpf_usdt_specs array */
	unsigned max;      /* its size */
	unsigned next;     /* next free spec id */
	char **spec_strs;  /* argument strings already stored, by spec id (deduplication) */
};

/* Attaches prog_fd to every site of provider:name in the ELF file at `path` (already read into
 * `notes`), for process pid. Returns the link fd, or -errno. */
int usdt_multi__attach(int prog_fd, struct usdt_specs *specs, const char *path, int pid,
		       const struct sdt_notes *notes, const char *provider, const char *name);

void usdt_specs__free(struct usdt_specs *specs);

#endif
