// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark floor: attaches an empty BPF program to the perfbpf probes of a process, the same
 * way perfbpf attaches (one pid-filtered uprobe_multi link per probe, on the same site), and
 * holds it until SIGINT/SIGTERM or the process exits.
 *   floor [--sleepable] PID
 * --sleepable marks the program sleepable, as perfbpf's programs are (they fault strings in).
 * Prints "attached N sites" on stderr once attached. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "sdt.h"
#include "usdt_multi.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const char *const probes[] = { "op", "span_begin", "span_end" };
	struct usdt_specs specs = { 0 };
	bool sleepable = argc == 3 && !strcmp(argv[1], "--sleepable");
	struct sdt_notes notes = { 0 };
	struct floor_bpf *skel;
	char exe[64];
	int pid, links[3], nlinks = 0, sites = 0, err;

	if (argc != 2 + sleepable || (pid = atoi(argv[argc - 1])) <= 0) {
		fprintf(stderr, "usage: floor [--sleepable] PID\n");
		return 2;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	err = sdt__read_file(exe, &notes);
	if (err) {
		fprintf(stderr, "floor: cannot read the probes of pid %d: %s\n", pid, strerror(-err));
		return 1;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF object\n");
		return 1;
	}
	err = bpf_program__set_expected_attach_type(skel->progs.floor_empty,
						    (enum bpf_attach_type)USDT_MULTI_ATTACH_TYPE);
	if (!err && sleepable)
		err = bpf_program__set_flags(skel->progs.floor_empty, BPF_F_SLEEPABLE);
	err = err ?: floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: cannot load the BPF program: %s\n", strerror(-err));
		goto out;
	}
	specs.map_fd = bpf_map__fd(skel->maps.__bpf_usdt_specs);
	specs.max = bpf_map__max_entries(skel->maps.__bpf_usdt_specs);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		size_t cnt = sdt__count(&notes, "perfbpf", probes[i]);
		int link;

		if (!cnt)
			continue;
		link = usdt_multi__attach(bpf_program__fd(skel->progs.floor_empty), &specs, exe, pid,
					  &notes, "perfbpf", probes[i]);
		if (link < 0) {
			err = link;
			fprintf(stderr, "floor: cannot attach to perfbpf:%s: %s\n", probes[i],
				strerror(-err));
			goto out;
		}
		links[nlinks++] = link;
		sites += (int)cnt;
	}
	if (!sites) {
		fprintf(stderr, "floor: pid %d has no perfbpf probes\n", pid);
		err = -ENOENT;
		goto out;
	}
	fprintf(stderr, "attached %d sites\n", sites);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && kill(pid, 0) == 0)
		usleep(10000);
out:
	while (nlinks > 0)
		close(links[--nlinks]);
	usdt_specs__free(&specs);
	sdt__free(&notes);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
