// SPDX-License-Identifier: BSD-2-Clause
/* The BPF object's lifecycle: privileges, open (configured from the options), load, the kernel
 * tracepoints attached, the ring consumer set up; then polling and the read-only ranges. */
#include "user/collect/tracer.h"

#include <errno.h>
#include <stddef.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "user/collect/tracer_internal.h"
#include "user/lib/util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* libbpf's warnings (a whole verifier log on a failed load) only with -v: perfbpf itself prints
 * one line saying what failed. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!pb_verbose)
		return 0;
	fputs("perfbpf: ", stderr); /* libbpf starts its lines with "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* The capabilities perfbpf needs, named: "" when all are there. */
static const char *missing_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &hdr, d))
		return "CAP_BPF and CAP_PERFMON";
	if (has_cap(d, CAP_SYS_ADMIN))
		return "";
	if (!has_cap(d, CAP_BPF) && !has_cap(d, CAP_PERFMON))
		return "CAP_BPF and CAP_PERFMON";
	if (!has_cap(d, CAP_BPF))
		return "CAP_BPF";
	if (!has_cap(d, CAP_PERFMON))
		return "CAP_PERFMON";
	return "";
}

/* The programs that count what may change the target's mappings (bpf/perfbpf.bpf.c,
 * ro_changes). */
static void ro_programs(struct perfbpf_bpf *k, struct bpf_program *p[RO_PROGS])
{
	p[0] = k->progs.perfbpf_ro_lock;
	p[1] = k->progs.perfbpf_ro_unlock;
	p[2] = k->progs.perfbpf_ro_exec;
}

/* Feature probe by BTF, for a precise message when loading fails. */
static bool kernel_has_func(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return true; /* cannot tell: report the load error itself */
	found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0;
	btf__free(btf);
	return found;
}

/* Whether the running kernel is at least major.minor (from uname: reading the kernel's BTF to
 * look for a tracepoint costs tens of ms, a quarter of the time to the first event). */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

int tracer__check_privileges(void)
{
	const char *caps = missing_caps();

	if (*caps) {
		pb_err("missing %s: run as root (sudo perfbpf ...) or grant them with "
		       "'setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep %s'",
		       caps, "$(command -v perfbpf)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pb_err("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): perfbpf needs a "
		       "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	return 0;
}

/* libbpf 1.1 knows neither "usdt.s" sections nor uprobe_multi: the USDT programs are marked
 * sleepable and given the uprobe_multi attach type by hand (see usdt_multi.h). */
static int usdt_programs(struct tracer *t)
{
	int err;

	for (size_t i = 0; i < tracer_nprobes; i++) {
		struct bpf_program *prog = probe_prog(t, &tracer_probes[i]);

		err = bpf_program__set_flags(prog, BPF_F_SLEEPABLE);
		err = err ?: bpf_program__set_expected_attach_type(
				     prog, (enum bpf_attach_type)USDT_MULTI_ATTACH_TYPE);
		if (err) {
			pb_err("cannot prepare the USDT programs: %s", strerror(-err));
			return err;
		}
	}
	err = bpf_map__set_max_entries(t->skel->maps.__bpf_usdt_specs, USDT_SPECS);
	if (err)
		pb_err("cannot size the USDT spec map: %s", strerror(-err));
	return err;
}

/* Phase 1: the skeleton opened and configured from the options (rodata, programs not needed,
 * map sizes, the USDT programs' flags), not yet loaded. */
static int tracer_open(struct tracer *t)
{
	const struct tracer_opts *opts = &t->opts;
	struct bpf_program *ro_progs[RO_PROGS];
	int err;

	t->skel = perfbpf_bpf__open();
	if (!t->skel) {
		err = -errno;
		pb_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	t->skel->rodata->wakeup_bytes = opts->wakeup_bytes;
	t->skel->rodata->attribution = opts->attribution;
	t->skel->rodata->aggregate = opts->aggregate;
	t->skel->rodata->mon_per_pid = opts->per_pid;
	t->skel->rodata->span_notes = opts->span_notes;
	if (!opts->batches) {
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_switch, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_tick, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_exit, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_exec, false);
	}
	if (!opts->batches || !opts->attribution) {
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_wakeup, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_wakeup_new, false);
	}
	if (opts->batches && !kernel_at_least(6, 10)) {
		/* sched_prepare_exec came with Linux 6.10: before it, records pending at exec are
		 * not collected (and not counted) */
		bpf_program__set_autoload(t->skel->progs.perfbpf_v3_exec, false);
	}
	if (!opts->attribution) {
		/* not even loaded: no cost on context switches */
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_switch, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_wakeup, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_wakeup_new, false);
	}
	/* strings left in the target: not for the monitor, which keys its tables by the strings */
	ro_programs(t->skel, ro_progs);
	for (int i = 0; i < RO_PROGS && opts->aggregate; i++)
		bpf_program__set_autoload(ro_progs[i], false);
	/* probes not attached with these options (the span notes outside OTLP): not verified */
	for (size_t i = 0; i < tracer_nprobes; i++)
		if (!probe_used(opts, &tracer_probes[i]))
			bpf_program__set_autoload(probe_prog(t, &tracer_probes[i]), false);
	err = bpf_map__set_max_entries(t->skel->maps.events, (__u32)opts->ring_size);
	err = err ?: bpf_map__set_max_entries(t->skel->maps.stacks, opts->max_threads);
	/* the monitor's tables exist in both modes: one entry each when unused */
	err = err ?: bpf_map__set_max_entries(t->skel->maps.mon_keys,
					      opts->aggregate ? opts->max_keys : 1);
	err = err ?: bpf_map__set_max_entries(t->skel->maps.mon_hists,
					      opts->aggregate ? opts->max_keys : 1);
	if (err) {
		pb_err("cannot size BPF maps: %s", strerror(-err));
		return err;
	}
	return usdt_programs(t);
}

/* Phase 2: the programs verified and loaded; a failure says what the kernel lacks. */
static int tracer_load(struct tracer *t)
{
	int err = perfbpf_bpf__load(t->skel);

	if (!err)
		return 0;
	if (!kernel_has_func("bpf_copy_from_user_str"))
		pb_err("this kernel lacks the bpf_copy_from_user_str kfunc (Linux 6.12 or newer) "
		       "that perfbpf reads probe strings with");
	else
		pb_err("cannot load the BPF programs: %s%s (run with -v for the verifier log)",
		       strerror(-err),
		       err == -EPERM ? " (are CAP_BPF and CAP_PERFMON permitted here?)" : "");
	return err;
}

/* ABI v3's collectors: a context switch away from a thread, its exit and exec, and a timer
 * tick on every CPU for a thread that runs without switching. */
static int attach_batch_collectors(struct tracer *t)
{
	struct perfbpf_bpf *k = t->skel;
	struct perf_event_attr pa = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(pa), .config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = V3_TICK_HZ, .freq = 1,
	};
	int err;

	k->links.perfbpf_v3_switch = bpf_program__attach(k->progs.perfbpf_v3_switch);
	k->links.perfbpf_v3_exit = k->links.perfbpf_v3_switch ?
		bpf_program__attach(k->progs.perfbpf_v3_exit) : NULL;
	if (!k->links.perfbpf_v3_exit) {
		err = -errno;
		pb_err("cannot attach to the sched_switch and sched_process_exit tracepoints: %s",
		       strerror(-err));
		return err;
	}
	if (t->opts.attribution) {
		k->links.perfbpf_v3_wakeup = bpf_program__attach(k->progs.perfbpf_v3_wakeup);
		k->links.perfbpf_v3_wakeup_new = k->links.perfbpf_v3_wakeup ?
			bpf_program__attach(k->progs.perfbpf_v3_wakeup_new) : NULL;
		if (!k->links.perfbpf_v3_wakeup_new) {
			err = -errno;
			pb_err("cannot attach to the scheduler tracepoints for --attribution: %s "
			       "(use --no-attribution)", strerror(-err));
			return err;
		}
	}
	if (bpf_program__autoload(k->progs.perfbpf_v3_exec)) {
		k->links.perfbpf_v3_exec = bpf_program__attach(k->progs.perfbpf_v3_exec);
		if (!k->links.perfbpf_v3_exec)
			pb_debug("cannot attach to sched_prepare_exec (%s): records pending at exec "
				 "are not collected", strerror(errno));
	}
	t->tick_links = calloc((size_t)t->ncpus, sizeof(*t->tick_links));
	if (!t->tick_links)
		return -ENOMEM;
	for (int cpu = 0; cpu < t->ncpus; cpu++) {
		int fd = (int)syscall(SYS_perf_event_open, &pa, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *l;

		if (fd < 0) {
			if (errno == ENODEV || errno == EINVAL)
				continue; /* a possible CPU that is not online */
			err = -errno;
			pb_err("cannot open the periodic collector's timer on CPU %d: %s", cpu,
			       strerror(-err));
			return err;
		}
		l = bpf_program__attach_perf_event(k->progs.perfbpf_v3_tick, fd);
		if (!l) {
			err = -errno;
			close(fd);
			pb_err("cannot attach the periodic collector on CPU %d: %s", cpu,
			       strerror(-err));
			return err;
		}
		t->tick_links[t->ntick_links++] = l;
	}
	return 0;
}

/* Phase 3: the tracepoints attached (thread exit; the scheduler with --attribution; the mmap
 * lock, so that strings may stay in the target); USDTs attach per object later. */
static int tracer_attach_kernel(struct tracer *t)
{
	struct perfbpf_bpf *k = t->skel;
	struct bpf_program *ro_progs[RO_PROGS];
	bool ro = !t->opts.aggregate;
	int err;

	k->links.perfbpf_thread_exit = bpf_program__attach(k->progs.perfbpf_thread_exit);
	if (!k->links.perfbpf_thread_exit) {
		err = -errno;
		pb_err("cannot attach to the sched_process_exit tracepoint: %s", strerror(-err));
		return err;
	}
	if (t->opts.attribution) {
		k->links.perfbpf_sched_switch = bpf_program__attach(k->progs.perfbpf_sched_switch);
		k->links.perfbpf_sched_wakeup = k->links.perfbpf_sched_switch ?
			bpf_program__attach(k->progs.perfbpf_sched_wakeup) : NULL;
		k->links.perfbpf_sched_wakeup_new = k->links.perfbpf_sched_wakeup ?
			bpf_program__attach(k->progs.perfbpf_sched_wakeup_new) : NULL;
		if (!k->links.perfbpf_sched_wakeup_new) {
			err = -errno;
			pb_err("cannot attach to the scheduler tracepoints for --attribution: %s "
			       "(use --no-attribution)", strerror(-err));
			return err;
		}
	}
	if (t->opts.batches) {
		err = attach_batch_collectors(t);
		if (err)
			return err;
	}
	ro_programs(k, ro_progs);
	for (int i = 0; i < RO_PROGS && ro; i++) {
		t->ro_links[i] = bpf_program__attach(ro_progs[i]);
		if (!t->ro_links[i]) {
			/* not an error: every string is then copied, as before */
			pb_debug("cannot attach %s (%s): strings are copied",
				 bpf_program__name(ro_progs[i]), strerror(errno));
			ro = false;
		}
	}
	if (ro && !(t->ro = ro_strings__new())) {
		pb_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Every page of the ring written once before a probe is armed (bpf/ring_prefault.bpf.h): the
 * engine's first lap of the ring then costs what the later ones do. Not an error if it cannot
 * be done: only the first lap is slower. */
static int tracer_prefault_ring(struct tracer *t)
{
	int fd = bpf_program__fd(t->skel->progs.perfbpf_ring_prefault);
	uint64_t pages = t->opts.ring_size / 4096, done = 0;

	while (done < pages) {
		LIBBPF_OPTS(bpf_test_run_opts, o);
		int err;

		t->skel->bss->prefault_want = pages - done;
		err = bpf_prog_test_run_opts(fd, &o);

		if (err || !t->skel->bss->prefault_pages) {
			pb_debug("cannot write the ring buffer's pages ahead (%s)",
				 err ? strerror(errno) : "the ring is full");
			return 0;
		}
		done += t->skel->bss->prefault_pages;
		err = ring_consumer__poll(t->rc, 0, false);
		if (err < 0)
			return err;
	}
	pb_debug("ring buffer: %llu of its %llu pages written ahead", (unsigned long long)done,
		 (unsigned long long)pages);
	return 0;
}

int tracer__new(const struct tracer_opts *opts, struct tracer **out)
{
	struct tracer *t;
	int err;

	*out = NULL;
	err = tracer__check_privileges();
	if (err)
		return err;
	libbpf_set_print(libbpf_print);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	t->opts.batches = !opts->aggregate && !opts->per_event;
	/* the TSC mapping's first point; the second comes with the first poll or drain, after the
	 * set-up (no wait here), and every 50 ms after that */
	tsc_clock__sample(&t->clock, 0);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		pb_err("cannot count possible CPUs: %s", strerror(-err));
		goto fail;
	}
	err = tracer_open(t) ?: tracer_load(t) ?: tracer_attach_kernel(t);
	if (err)
		goto fail;
	t->specs.map_fd = bpf_map__fd(t->skel->maps.__bpf_usdt_specs);
	t->specs.max = USDT_SPECS;
	t->rc = ring_consumer__new(bpf_map__fd(t->skel->maps.events),
				   &(struct ring_consumer_opts){ .on_event = opts->on_event,
								 .on_note = opts->on_note,
								 .on_op = opts->on_op,
								 .ctx = opts->ctx, .stop = opts->stop,
								 .start_ns = t->clock.ns0,
								 .clock = &t->clock,
								 .attribution = opts->attribution },
				   t->ro);
	if (!t->rc) {
		err = -errno;
		pb_err("cannot set up the ring buffer: %s", strerror(-err));
		goto fail;
	}
	err = tracer_prefault_ring(t);
	if (err) {
		pb_err("cannot read the ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tracer__free(t);
	return err;
}

void tracer__detach_probes(struct tracer *t)
{
	for (size_t i = 0; i < t->nlinks; i++)
		close(t->links[i]);
	t->nlinks = 0;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	ring_consumer__free(t->rc);
	for (int i = 0; i < t->ntick_links; i++)
		bpf_link__destroy(t->tick_links[i]);
	free(t->tick_links);
	for (int i = 0; i < RO_PROGS; i++)
		bpf_link__destroy(t->ro_links[i]);
	/* one grace period per link, whatever its number of sites */
	tracer__detach_probes(t);
	free(t->links);
	usdt_specs__free(&t->specs);
	perfbpf_bpf__destroy(t->skel);
	ro_strings__free(t->ro);
	free(t);
}

uint64_t tracer__strings_from_files(const struct tracer *t)
{
	return ring_consumer__counts(t->rc)->ro_resolved;
}

int tracer__refresh_strings(struct tracer *t, int pid, bool rescan)
{
	struct perfbpf_bpf__bss *bss = t->ro ? t->skel->bss : NULL;
	struct perfbpf_ro_set set;
	uint64_t changes;
	int r;

	if (!bss || pid <= 0)
		return 0;
	changes = __atomic_load_n(&bss->ro_changes, __ATOMIC_ACQUIRE);
	if (!rescan && bss->ro_pid == (uint32_t)pid && changes == bss->ro_changes_seen)
		return 0;
	r = ro_strings__scan(t->ro, pid, &set);
	if (r == -ESRCH || r == -ENOENT)
		return 0; /* the target has gone: its events so far still resolve */
	if (r < 0)
		return r;
	if (r == 1) {
		uint32_t next = !bss->ro_active;

		/* the BPF side reads the active set: write the other one, then switch */
		bss->ro_sets[next] = set;
		__atomic_store_n(&bss->ro_pid, (uint32_t)pid, __ATOMIC_RELEASE);
		__atomic_store_n(&bss->ro_active, next, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&bss->ro_changes_seen, changes, __ATOMIC_RELEASE);
	return 0;
}

#define CLOCK_PAIR_GAP_NS 50000000ull /* a new TSC pair at most every 50 ms */

void tracer__settle(struct tracer *t)
{
	/* two tick periods and a drain: every thread that was running has had a tick */
	uint64_t end = mono_ns() + 2 * 1000000000ull / V3_TICK_HZ + 10000000ull;

	if (!t->opts.batches || !t->ntick_links)
		return;
	while (mono_ns() < end && ring_consumer__poll(t->rc, 10, true) >= 0)
		;
}

int tracer__poll(struct tracer *t, int timeout_ms)
{
	tsc_clock__sample(&t->clock, CLOCK_PAIR_GAP_NS); /* the TSC line refined */
	return ring_consumer__poll(t->rc, timeout_ms, t->nlinks > 0);
}

int tracer__ring_fd(const struct tracer *t, uint64_t *size)
{
	*size = t->opts.ring_size;
	return bpf_map__fd(t->skel->maps.events);
}

int tracer__drain(struct tracer *t)
{
	tsc_clock__sample(&t->clock, 0);
	return ring_consumer__drain(t->rc);
}

