// SPDX-License-Identifier: BSD-2-Clause
/* Benchmark floor: attaches a minimal BPF program to the perfbpf probes of a process, the same
 * way perfbpf attaches (one pid-filtered uprobe_multi link per probe, on the same site), and
 * holds it until SIGINT/SIGTERM or the process exits.
 *   floor [--sleepable] [--stage empty|args|clock|ring|strings] PID
 * --sleepable marks the program sleepable, as perfbpf's programs are (they fault strings in).
 * --stage picks the program (floor.bpf.c): the empty one by default, or one that does one part
 * of perfbpf's work. Prints "attached N sites" on stderr once attached. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <getopt.h>

#include "floor.skel.h"
#include "user/attach/sdt.h"
#include "user/attach/usdt_multi.h"

static volatile sig_atomic_t stop;

static int drop_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const char *const probes[] = { "op", "span_begin", "span_end" };
	static const struct option opts[] = {
		{ "sleepable", no_argument, NULL, 's' },
		{ "stage", required_argument, NULL, 't' },
		{ 0 },
	};
	struct usdt_specs specs = { 0 };
	bool sleepable = false;
	const char *stage = "empty";
	struct sdt_notes notes = { 0 };
	struct floor_bpf *skel;
	struct bpf_program *prog = NULL, *p;
	struct ring_buffer *rb = NULL;
	char exe[64], want[32];
	int pid, links[3], nlinks = 0, sites = 0, err, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			sleepable = true;
		else if (c == 't')
			stage = optarg;
		else
			return 2;
	}
	if (optind != argc - 1 || (pid = atoi(argv[optind])) <= 0) {
		fprintf(stderr, "usage: floor [--sleepable] [--stage empty|args|clock|ring|strings] PID\n");
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
	snprintf(want, sizeof(want), "floor_%s", stage);
	bpf_object__for_each_program(p, skel->obj) {
		if (!strcmp(bpf_program__name(p), want))
			prog = p;
		else
			bpf_program__set_autoload(p, false);
	}
	if (!prog) {
		fprintf(stderr, "floor: no stage '%s' (empty, args, clock, ring, strings)\n", stage);
		floor_bpf__destroy(skel);
		return 2;
	}
	err = bpf_program__set_expected_attach_type(prog,
						    (enum bpf_attach_type)USDT_MULTI_ATTACH_TYPE);
	if (!err && sleepable)
		err = bpf_program__set_flags(prog, BPF_F_SLEEPABLE);
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
		link = usdt_multi__attach(bpf_program__fd(prog), &specs, exe, pid,
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
	rb = ring_buffer__new(bpf_map__fd(skel->maps.floor_events), drop_record, NULL, NULL);
	while (!stop && kill(pid, 0) == 0) {
		usleep(10000);
		if (rb)
			ring_buffer__consume(rb);
	}
out:
	ring_buffer__free(rb);
	while (nlinks > 0)
		close(links[--nlinks]);
	usdt_specs__free(&specs);
	sdt__free(&notes);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
