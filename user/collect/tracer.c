// SPDX-License-Identifier: BSD-2-Clause
/* The loaded BPF side: skeleton lifecycle, USDT attachment, ring-buffer consumer, counters. */
#include "user/collect/tracer.h"
#include "user/model/summary.h"

#include <errno.h>
#include <stddef.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "perfbpf.skel.h"
#include "user/attach/ro_strings.h"
#include "user/attach/usdt_multi.h"
#include "user/collect/record.h"
#include "user/lib/util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Every perfbpf USDT probe, once: its name in the SDT notes, the probe ABI version that added
 * it, and its BPF program. The ABI v2 span notes are loaded and attached only with
 * tracer_opts.span_notes (the OTLP export). */
static const struct probe_def {
	const char *name;
	unsigned abi;
	size_t prog; /* offset of the program's pointer in the skeleton */
} probes[] = {
#define PROBE(name, abi) { #name, abi, offsetof(struct perfbpf_bpf, progs.perfbpf_##name) }
	PROBE(op, 1), PROBE(span_begin, 1), PROBE(span_end, 1),
	PROBE(span_attr_str, 2), PROBE(span_attr_int, 2), PROBE(span_attr_double, 2),
	PROBE(span_event, 2), PROBE(span_error, 2),
#undef PROBE
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

#define RO_PROGS 3 /* see ro_programs */
#define DRAIN_SLICE_NS 50000000ull /* longest consume while probes are attached */

/* Distinct probe argument layouts perfbpf can hold (libbpf's default is 256). */
#define USDT_SPECS 4096

struct tracer {
	struct perfbpf_bpf *skel;
	struct ring_buffer *rb;
	struct tracer_opts opts;
	int *links; /* uprobe_multi link fds, one per probe per object */
	size_t nlinks;
	struct usdt_specs specs;
	int ncpus;
	int cb_err;
	struct ro_strings *ro; /* strings left in the target's read-only ranges; NULL: all copied */
	struct bpf_link *ro_links[RO_PROGS];
	struct perfbpf_event decoded;  /* a compact record as the event it stands for */
	struct perfbpf_event resolved; /* an event with its PERFBPF_F_REF_* fields read */
	struct record_counts records;  /* records that did not decode */
	uint64_t ro_resolved;             /* fields read from the target's files */
	uint64_t ro_faults, ro_truncated; /* of those, added to the kernel's counters */
	uint64_t slice_start, consumed;   /* of the current tracer__poll */
};

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

static struct bpf_program *probe_prog(const struct tracer *t, const struct probe_def *p)
{
	return *(struct bpf_program **)((char *)t->skel + p->prog);
}

/* Whether a probe is attached and its program loaded with these options. */
static bool probe_used(const struct tracer_opts *o, const struct probe_def *p)
{
	return p->abi < 2 || o->span_notes;
}

static const struct probe_def *probe_named(const char *name)
{
	for (size_t i = 0; i < NPROBES; i++)
		if (strcmp(probes[i].name, name) == 0)
			return &probes[i];
	return NULL;
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

/* Reads the fields the BPF side left in the target (PERFBPF_F_REF_*) into t->resolved. */
static int resolve_strings(struct tracer *t, const struct perfbpf_event *e)
{
	struct perfbpf_event *r = &t->resolved;
	struct {
		uint32_t flag;
		char *field;
		size_t size;
	} f[3] = {
		{ PERFBPF_F_REF_METRIC, r->names.metric, sizeof(r->names.metric) },
		{ PERFBPF_F_REF_SYMBOL, r->names.symbol, sizeof(r->names.symbol) },
		{ PERFBPF_F_REF_STRATEGY, r->names.strategy, sizeof(r->names.strategy) },
	};
	uint32_t flags = e->flags & ~PERFBPF_F_REF_ALL;

	*r = *e;
	for (int i = 0; i < 3; i++) {
		uint64_t addr;
		uint32_t fl = 0;
		int err;

		if (!(e->flags & f[i].flag))
			continue;
		memcpy(&addr, f[i].field, sizeof(addr));
		err = t->ro ? ro_strings__read(t->ro, e->ro_gen, addr, f[i].field, f[i].size, &fl)
			    : -EINVAL;
		if (err)
			return err;
		flags |= fl;
		t->ro_resolved++;
		/* counted as the kernel counts a copy that failed or was cut */
		if (fl & PERFBPF_F_FAULT)
			t->ro_faults++;
		if (fl & PERFBPF_F_TRUNCATED)
			t->ro_truncated++;
	}
	r->flags = flags;
	return 0;
}

/* Every record reaches on_event as a perfbpf_event with its strings in place, or on_note; one
 * that does not decode (user/collect/record.c) is counted as malformed and skipped. */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct perfbpf_event *ev;
	const struct perfbpf_note *note;
	int err = 0;

	switch (record__decode(data, size, &t->decoded, &ev, &note, &t->records)) {
	case RECORD_MALFORMED:
		return 0;
	case RECORD_NOTE:
		err = t->opts.on_note ? t->opts.on_note(t->opts.ctx, note) : 0;
		break;
	case RECORD_EVENT:
		if (ev->flags & PERFBPF_F_REF_ALL) {
			err = resolve_strings(t, ev);
			ev = &t->resolved;
		}
		err = err ?: t->opts.on_event(t->opts.ctx, ev);
		break;
	}
	t->cb_err = err;
	if (err)
		return err;
	/* while probes are attached, a consume could go on as long as the engine fires: stop
	 * (this record is taken; libbpf has moved past it) when a stop is asked or the slice is up */
	if (t->nlinks && ((t->opts.stop && *t->opts.stop) ||
			  ((++t->consumed & 1023) == 0 && mono_ns() - t->slice_start > DRAIN_SLICE_NS)))
		return -EAGAIN;
	return 0;
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

int tracer__new(const struct tracer_opts *opts, struct tracer **out)
{
	struct bpf_program *ro_progs[RO_PROGS];
	struct tracer *t;
	bool ro;
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
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		pb_err("cannot count possible CPUs: %s", strerror(-err));
		goto fail;
	}
	t->skel = perfbpf_bpf__open();
	if (!t->skel) {
		err = -errno;
		pb_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	t->skel->rodata->wakeup_bytes = opts->wakeup_bytes;
	t->skel->rodata->attribution = opts->attribution;
	t->skel->rodata->aggregate = opts->aggregate;
	t->skel->rodata->mon_per_pid = opts->per_pid;
	t->skel->rodata->span_notes = opts->span_notes;
	if (!opts->attribution) {
		/* not even loaded: no cost on context switches */
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_switch, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_wakeup, false);
		bpf_program__set_autoload(t->skel->progs.perfbpf_sched_wakeup_new, false);
	}
	/* strings left in the target: not for the monitor, which keys its tables by the strings */
	ro = !opts->aggregate;
	ro_programs(t->skel, ro_progs);
	for (int i = 0; i < RO_PROGS && !ro; i++)
		bpf_program__set_autoload(ro_progs[i], false);
	/* probes not attached with these options (the span notes outside OTLP): not verified */
	for (size_t i = 0; i < NPROBES; i++)
		if (!probe_used(opts, &probes[i]))
			bpf_program__set_autoload(probe_prog(t, &probes[i]), false);
	err = bpf_map__set_max_entries(t->skel->maps.events, (__u32)opts->ring_size);
	err = err ?: bpf_map__set_max_entries(t->skel->maps.stacks, opts->max_threads);
	/* the monitor's tables exist in both modes: one entry each when unused */
	err = err ?: bpf_map__set_max_entries(t->skel->maps.mon_keys,
					      opts->aggregate ? opts->max_keys : 1);
	err = err ?: bpf_map__set_max_entries(t->skel->maps.mon_hists,
					      opts->aggregate ? opts->max_keys : 1);
	if (err) {
		pb_err("cannot size BPF maps: %s", strerror(-err));
		goto fail;
	}
	/* libbpf 1.1 knows neither "usdt.s" sections nor uprobe_multi: the USDT programs are
	 * marked sleepable and given the uprobe_multi attach type by hand (see usdt_multi.h). */
	for (size_t i = 0; i < NPROBES; i++) {
		struct bpf_program *prog = probe_prog(t, &probes[i]);

		err = bpf_program__set_flags(prog, BPF_F_SLEEPABLE);
		err = err ?: bpf_program__set_expected_attach_type(
				     prog, (enum bpf_attach_type)USDT_MULTI_ATTACH_TYPE);
		if (err) {
			pb_err("cannot prepare the USDT programs: %s", strerror(-err));
			goto fail;
		}
	}
	err = bpf_map__set_max_entries(t->skel->maps.__bpf_usdt_specs, USDT_SPECS);
	if (err) {
		pb_err("cannot size the USDT spec map: %s", strerror(-err));
		goto fail;
	}
	err = perfbpf_bpf__load(t->skel);
	if (err) {
		if (!kernel_has_func("bpf_copy_from_user_str"))
			pb_err("this kernel lacks the bpf_copy_from_user_str kfunc (Linux 6.12 or "
			       "newer) that perfbpf reads probe strings with");
		else
			pb_err("cannot load the BPF programs: %s%s (run with -v for the verifier "
			       "log)", strerror(-err),
			       err == -EPERM ? " (are CAP_BPF and CAP_PERFMON permitted here?)" : "");
		goto fail;
	}
	/* Only the thread-exit tracepoint attaches now; USDTs attach per object. */
	t->skel->links.perfbpf_thread_exit = bpf_program__attach(t->skel->progs.perfbpf_thread_exit);
	if (!t->skel->links.perfbpf_thread_exit) {
		err = -errno;
		pb_err("cannot attach to the sched_process_exit tracepoint: %s", strerror(-err));
		goto fail;
	}
	if (opts->attribution) {
		struct perfbpf_bpf *k = t->skel;

		k->links.perfbpf_sched_switch = bpf_program__attach(k->progs.perfbpf_sched_switch);
		k->links.perfbpf_sched_wakeup = k->links.perfbpf_sched_switch ?
			bpf_program__attach(k->progs.perfbpf_sched_wakeup) : NULL;
		k->links.perfbpf_sched_wakeup_new = k->links.perfbpf_sched_wakeup ?
			bpf_program__attach(k->progs.perfbpf_sched_wakeup_new) : NULL;
		if (!k->links.perfbpf_sched_wakeup_new) {
			err = -errno;
			pb_err("cannot attach to the scheduler tracepoints for --attribution: %s "
			       "(use --no-attribution)", strerror(-err));
			goto fail;
		}
	}
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
		err = -ENOMEM;
		pb_err("out of memory");
		goto fail;
	}
	t->specs.map_fd = bpf_map__fd(t->skel->maps.__bpf_usdt_specs);
	t->specs.max = USDT_SPECS;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		pb_err("cannot set up the ring buffer: %s", strerror(-err));
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
	ring_buffer__free(t->rb);
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
	return t->ro_resolved;
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

int tracer__attach(struct tracer *t, int pid, const char *path, const char *display,
		   const struct sdt_notes *notes)
{
	int sites = 0;

	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe_def *p = &probes[i];
		size_t cnt = sdt__count(notes, "perfbpf", p->name);
		int link, *links;

		if (cnt == 0 || !probe_used(&t->opts, p))
			continue;
		link = usdt_multi__attach(bpf_program__fd(probe_prog(t, p)), &t->specs, path, pid,
					  notes, "perfbpf", p->name);
		if (link < 0) {
			pb_err("cannot attach to perfbpf:%s in %s (pid %d): %s", p->name, display, pid,
			       link == -EINVAL ? "probe arguments in a form perfbpf cannot read"
					       : strerror(-link));
			return link;
		}
		links = realloc(t->links, (t->nlinks + 1) * sizeof(*links));
		if (!links) {
			close(link);
			return -ENOMEM;
		}
		t->links = links;
		t->links[t->nlinks++] = link;
		sites += (int)cnt;
	}
	for (size_t i = 0; i < notes->n; i++) {
		const char *name = notes->v[i].name;

		if (strcmp(notes->v[i].provider, "perfbpf") == 0 && !probe_named(name))
			pb_warn("%s: probe perfbpf:%s is newer than this perfbpf; ignored", display,
				name);
	}
	return sites;
}

int tracer__attach_new(struct tracer *t, int pid, struct probe_objs *po)
{
	for (; po->done < po->objs.n; po->done++) {
		struct target_obj *ob = &po->objs.v[po->done];
		struct sdt_notes notes;
		int n;

		if (sdt__read_file(ob->open_path, &notes)) {
			pb_debug("%s: no readable ELF notes, skipped", ob->path);
			continue;
		}
		if (sdt__count(&notes, "perfbpf", NULL) == 0) {
			sdt__free(&notes);
			continue;
		}
		n = tracer__attach(t, pid, ob->open_path, ob->path, &notes);
		sdt__free(&notes);
		if (n < 0)
			return n;
		if (n > 0) {
			po->binaries++;
			po->sites += (unsigned)n;
			pb_debug("attached %d probe sites in %s", n, ob->path);
		}
	}
	return 0;
}

int tracer__poll(struct tracer *t, int timeout_ms)
{
	int n, m;

	t->consumed = 0;
	t->slice_start = mono_ns();
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n == -EAGAIN && !t->cb_err)
		return (int)t->consumed; /* the slice is up: the rest stays in the ring */
	if (n < 0)
		return t->cb_err ? t->cb_err : n;
	/* Records submitted with BPF_RB_NO_WAKEUP wake nobody: take them on the timer. */
	m = ring_buffer__consume(t->rb);
	if (m == -EAGAIN && !t->cb_err)
		return (int)t->consumed;
	if (m < 0)
		return t->cb_err ? t->cb_err : m;
	return n + m;
}

int tracer__drain(struct tracer *t)
{
	int n = ring_buffer__consume(t->rb);

	return n < 0 && t->cb_err ? t->cb_err : n;
}

void tracer__mon_fds(struct tracer *t, int *keys_fd, int *hists_fd)
{
	*keys_fd = bpf_map__fd(t->skel->maps.mon_keys);
	*hists_fd = bpf_map__fd(t->skel->maps.mon_hists);
}

uint64_t *tracer__dropped_per_cpu(struct tracer *t, int *ncpus)
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *vals = calloc((size_t)t->ncpus, sizeof(*vals));
	uint64_t *out = calloc((size_t)t->ncpus, sizeof(*out));

	if (!vals || !out) {
		free(vals);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < SUMMARY_DROP_COUNTERS; i++) {
		__u32 k = summary_drop_counters[i];

		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < t->ncpus; c++)
			out[c] += vals[c];
	}
	free(vals);
	*ncpus = t->ncpus;
	return out;
}

int tracer__counters(struct tracer *t, uint64_t out[PERFBPF_CNT__MAX])
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *vals = calloc((size_t)t->ncpus, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < PERFBPF_CNT__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < t->ncpus; c++)
			out[k] += vals[c];
	}
	/* strings read from the files instead of copied count as the kernel's copies would */
	out[PERFBPF_CNT_STR_FAULT] += t->ro_faults;
	out[PERFBPF_CNT_STR_TRUNCATED] += t->ro_truncated;
	out[PERFBPF_CNT_MALFORMED_RECORD] = t->records.malformed;
	free(vals);
	return 0;
}

int tracer__summary_losses(struct tracer *t, struct summary *sum, uint64_t **per_cpu)
{
	struct self_usage self;
	int err = tracer__counters(t, sum->counters);

	*per_cpu = NULL;
	if (err)
		return err;
	sum->dropped = summary__dropped(sum->counters);
	self_usage(&self);
	sum->self_cpu_s = self.cpu_s;
	sum->self_peak_rss_bytes = self.peak_rss_bytes;
	sum->dropped_per_cpu = *per_cpu = tracer__dropped_per_cpu(t, &sum->ncpus);
	return 0;
}
