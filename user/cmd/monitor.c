// SPDX-License-Identifier: BSD-2-Clause
/* `perfbpf monitor` (see monitor.h). The main thread reads the kernel histograms every
 * --interval, follows processes and writes reports; the HTTP server's thread reads them again on
 * every scrape. One mutex serialises both. */
#include "user/attach/permission.h"
#include "user/cmd/monitor.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "exporters/otlp/otlp_exporter.h"
#include "exporters/prometheus/metrics_server.h"
#include "exporters/prometheus/prometheus.h"
#include "exporters/prometheus/web_config.h"
#include "exporters/report/html.h"
#include "exporters/report/json.h"
#include "exporters/report/markdown.h"
#include "user/aggregate/kseries_agg.h"
#include "user/aggregate/kseries_stats.h"
#include "user/attach/sdt.h"
#include "user/attach/target.h"
#include "user/collect/khist_reader.h"
#include "user/collect/tracer.h"
#include "user/lib/output.h"
#include "user/lib/signals.h"
#include "user/lib/util.h"

#define TICK_MS 100              /* signal and target-exit latency */
#define RING_POLL_MS 10          /* the ring is read this often (series from batches) */
#define RESCAN_NS 500000000ull   /* --pid: look for newly loaded libraries this often */

struct monitor {
	const struct cli_opts *o;
	struct tracer *tracer;
	struct khist_reader *hists; /* --per-event-probes: series from the kernel histograms */
	struct kseries_agg *agg;    /* else: series from the events the ring brings */
	pthread_mutex_t lock; /* hists, counters and the fields below, between the two threads */
	struct probe_objs po;  /* --pid: the process's objects; --binary: the files */
	unsigned attached_processes;
	uint64_t attach_failures;
	struct kseries_report rep;
	char *command;
	const char *stop_reason;
	uint64_t start_mono, start_real;
	int pidfd;
	struct otlp_exporter *otlp; /* --otlp-metrics */
	struct otlp_stats otlp_stats;
};

static volatile sig_atomic_t stop_signal, report_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_report(int sig)
{
	(void)sig;
	report_signal = 1;
}

/* SIGUSR1 writes the reports now. */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_report };

	signals__on_stop(on_stop, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* Each --binary must be an ELF object with perfbpf probes. */
static int open_binaries(struct monitor *m)
{
	const struct cli_opts *o = m->o;

	for (size_t i = 0; i < o->nbinaries; i++) {
		const char *path = o->binaries[i];
		struct sdt_notes notes;
		size_t n;
		int err = target__add_path(&m->po.objs, path);

		if (err < 0) {
			pb_err("--binary %s: %s", path, strerror(-err));
			return err;
		}
		err = sdt__read_file(path, &notes);
		if (err) {
			pb_err("--binary %s: %s", path, err == -ENOEXEC ?
			       "not an ELF executable or shared library" : strerror(-err));
			return err;
		}
		n = sdt__count(&notes, "perfbpf", NULL);
		sdt__free(&notes);
		if (n == 0) {
			pb_err("--binary %s: no perfbpf probes in it (run 'perfbpf list %s')", path,
			       path);
			return -ENOENT;
		}
	}
	return 0;
}

static char *describe(const struct cli_opts *o)
{
	if (o->pid)
		return target__cmdline(o->pid);
	return join_words("every process of ", o->binaries, o->nbinaries);
}

static struct kseries *const *series(const struct monitor *m, size_t *n)
{
	return m->agg ? kseries_agg__series(m->agg, n) : khist_reader__series(m->hists, n);
}

/* Events of keys over --max-keys counted in userspace (the kernel counts its own). */
static uint64_t keys_over_limit(const struct monitor *m)
{
	return m->agg ? kseries_agg__over_limit(m->agg) : 0;
}

/* Reads the kernel's histograms (or takes the series as the ring's events left them); forgets
 * exited processes' series in --per-pid mode. Called with the lock held. */
static int refresh(struct monitor *m)
{
	int n = m->agg ? 0 : khist_reader__refresh(m->hists);
	struct kseries *const *v;
	size_t nv;

	if (n < 0)
		return n;
	if (!m->o->per_pid)
		return 0;
	v = series(m, &nv);
	for (size_t i = 0; i < nv; i++) {
		uint32_t pid = v[i]->pid;

		if (kill((pid_t)pid, 0) && errno == ESRCH) {
			if (m->agg)
				kseries_agg__drop_pid(m->agg, pid);
			else
				khist_reader__drop_pid(m->hists, pid);
			v = series(m, &nv);
			i = (size_t)-1; /* the array changed: start over */
		}
	}
	return 0;
}

/* A copy of the series (with their own histograms) for a scrape to render after the lock is
 * released: copying is a few ms for 10,000 keys, rendering them tens to hundreds, during which
 * the main thread must go on taking the ring's records. *out: an array of *n (free_copy). */
static int copy_series(struct kseries *const *v, size_t n, struct kseries **out)
{
	struct kseries *c = malloc((n ? n : 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (kseries__copy(&c[i], v[i])) {
			while (i--)
				kseries__release(&c[i]);
			free(c);
			return -ENOMEM;
		}
	*out = c;
	return 0;
}

static void free_copy(struct kseries *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		kseries__release(&c[i]);
	free(c);
}

static int render_metrics(void *ctx, enum prom_format fmt, FILE *f)
{
	struct monitor *m = ctx;
	struct prom_input in = { .per_pid = m->o->per_pid };
	struct kseries *copy = NULL, **ptrs = NULL;
	uint64_t *per_cpu = NULL;
	size_t n = 0;
	int err;

	pthread_mutex_lock(&m->lock);
	err = refresh(m);
	if (!err)
		err = tracer__counters(m->tracer, in.counters);
	if (!err) {
		struct kseries *const *v = series(m, &n);

		in.counters[PERFBPF_CNT_KEYS_OVER_LIMIT] += keys_over_limit(m);
		err = copy_series(v, n, &copy);
		in.attach_failures = m->attach_failures;
		in.attached_processes = m->attached_processes;
		in.dropped_per_cpu = per_cpu = tracer__dropped_per_cpu(m->tracer, &in.ncpus);
	}
	pthread_mutex_unlock(&m->lock);
	if (!err && !(ptrs = malloc((n ? n : 1) * sizeof(*ptrs))))
		err = -ENOMEM;
	if (!err) {
		for (size_t i = 0; i < n; i++)
			ptrs[i] = &copy[i];
		in.series = ptrs;
		in.nseries = n;
		self_usage(&in.self);
		err = prometheus__write(f, &in, fmt);
	}
	free(ptrs);
	free_copy(copy, n);
	free(per_cpu);
	return err;
}

/* --otlp-metrics: a snapshot of the series and counters for the export thread. */
static int push_metrics(struct monitor *m)
{
	struct otlp_metrics_snapshot *snap = NULL;
	size_t n = 0;
	int err;

	pthread_mutex_lock(&m->lock);
	err = refresh(m);
	if (!err) {
		struct kseries *const *v = series(m, &n);

		snap = otlp_metrics_snapshot__new(v, n, m->start_real);
		err = snap ? tracer__counters(m->tracer, snap->counters) : -ENOMEM;
	}
	if (!err) {
		snap->counters[PERFBPF_CNT_KEYS_OVER_LIMIT] += keys_over_limit(m);
		snap->attached_processes = m->attached_processes;
	}
	pthread_mutex_unlock(&m->lock);
	if (err) {
		otlp_metrics_snapshot__free(snap);
		pb_err("cannot take the metrics for OTLP: %s", strerror(-err));
		return err;
	}
	snap->per_pid = m->o->per_pid;
	snap->monitor = true;
	snap->pid = (uint32_t)m->o->pid;
	otlp_exporter__push_metrics(m->otlp, snap);
	return 0;
}

/* A summary and the report options it is written with. */
struct report {
	const struct summary *s;
	const struct md_opts *md;
};

static int put_markdown(FILE *f, const void *ctx)
{
	const struct report *r = ctx;

	return markdown__write(f, r->s, r->md) ? -EIO : 0;
}

static int put_json(FILE *f, const void *ctx)
{
	const struct report *r = ctx;

	return json__write(f, r->s) ? -EIO : 0;
}

static int put_html(FILE *f, const void *ctx)
{
	const struct report *r = ctx;
	struct json_object *data = json__summary(r->s);
	int err = html__write(f, data);

	json_object_put(data);
	return err;
}

/* The markdown report and JSON summary from the kernel histograms, as asked. */
static int write_reports(struct monitor *m)
{
	const struct cli_opts *o = m->o;
	struct summary sum = { 0 };
	uint64_t *per_cpu = NULL;
	int err;

	if (!o->report && !o->markdown_path && !o->json_path && !o->html_path)
		return 0;
	m->rep.want_bins = o->html_path != NULL; /* the page's distributions */
	pthread_mutex_lock(&m->lock);
	err = refresh(m);
	sum.command = m->command;
	sum.pid = o->pid;
	sum.stop_reason = m->stop_reason ? m->stop_reason : "still monitoring (report on SIGUSR1)";
	sum.exit_status = -1;
	sum.start_real_ns = m->start_real;
	sum.trace_ns = mono_ns() - m->start_mono;
	sum.binaries = m->po.binaries;
	sum.probe_sites = m->po.sites;
	if (m->otlp) {
		memset(&m->otlp_stats, 0, sizeof(m->otlp_stats));
		otlp_exporter__stats(m->otlp, &m->otlp_stats);
		sum.otlp_metrics = &m->otlp_stats;
	}
	err = err ?: tracer__summary_losses(m->tracer, &sum, &per_cpu);
	if (!err) {
		size_t n;
		struct kseries *const *v = series(m, &n);

		sum.counters[PERFBPF_CNT_KEYS_OVER_LIMIT] += keys_over_limit(m);
		sum.keys_over_limit = sum.counters[PERFBPF_CNT_KEYS_OVER_LIMIT];
		err = kseries_stats__summarize(v, n, &m->rep, &sum);
	}
	/* the rows are copies in m->rep, which only this thread uses: scrapes need not wait for
	 * the files */
	pthread_mutex_unlock(&m->lock);
	if (err) {
		pb_err("cannot compute the statistics: %s", strerror(-err));
		free(per_cpu);
		return err;
	}
	if (o->report && (markdown__write(stdout, &sum, &o->md) || fflush(stdout)))
		err = -EIO;
	if (o->markdown_path)
		err = output__write_atomic(o->markdown_path, put_markdown,
					   &(struct report){ &sum, &o->md }) ?: err;
	if (o->json_path)
		err = output__write_atomic(o->json_path, put_json, &(struct report){ &sum, &o->md })
		      ?: err;
	if (o->html_path)
		err = output__write_atomic(o->html_path, put_html, &(struct report){ &sum, &o->md })
		      ?: err;
	free(per_cpu);
	return err;
}

/* The attached-processes gauge, and --pid's newly loaded libraries. */
static void follow(struct monitor *m, uint64_t now, uint64_t *next_scan)
{
	int n;

	if (m->o->pid) {
		if (now < *next_scan)
			return;
		*next_scan = now + RESCAN_NS;
		if (target__scan_maps(m->o->pid, &m->po.objs) <= 0)
			return;
		pthread_mutex_lock(&m->lock);
		while (tracer__attach_new(m->tracer, m->o->pid, &m->po)) {
			/* a library that cannot be attached is counted, and monitoring goes on */
			m->attach_failures++;
			m->po.done++;
		}
		pthread_mutex_unlock(&m->lock);
		return;
	}
	n = target__count_mapping(&m->po.objs);
	pthread_mutex_lock(&m->lock);
	m->attached_processes = n > 0 ? (unsigned)n : 0;
	pthread_mutex_unlock(&m->lock);
}

static bool target_exited(struct monitor *m, int timeout_ms)
{
	struct pollfd p = { .fd = m->pidfd, .events = POLLIN };

	if (m->pidfd < 0) {
		poll(NULL, 0, timeout_ms);
		return m->o->pid && target__check(m->o->pid) != 0;
	}
	return poll(&p, 1, timeout_ms) == 1;
}

/* Series from the ring: what it holds now (a slice of it while the engine fires faster than
 * that), under the lock (the callback adds to m->agg). The number of records taken, or -errno. */
static int take_events(struct monitor *m)
{
	int n;

	pthread_mutex_lock(&m->lock);
	n = tracer__poll(m->tracer, 0);
	pthread_mutex_unlock(&m->lock);
	if (n == -EINTR)
		return 0;
	if (n < 0)
		pb_err("reading events failed: %s", strerror(-n));
	return n;
}

/* Before a SIGUSR1 report: what the engine's threads recorded until now (the next collector
 * tick), then what the ring holds, so that the report covers the time up to the signal. */
static int take_pending_events(struct monitor *m)
{
	int n = 0;

	if (!m->agg)
		return 0;
	pthread_mutex_lock(&m->lock);
	tracer__settle(m->tracer);
	do
		n = tracer__poll(m->tracer, 0);
	while (n > 0);
	pthread_mutex_unlock(&m->lock);
	if (n < 0 && n != -EINTR) {
		pb_err("reading events failed: %s", strerror(-n));
		return n;
	}
	return 0;
}

/* At the end: a running target's pending records (the next timer tick), then everything the
 * ring still holds, after the probes are detached. */
static int take_last_events(struct monitor *m)
{
	int n;

	if (!m->agg)
		return 0;
	pthread_mutex_lock(&m->lock);
	tracer__settle(m->tracer);
	tracer__detach_probes(m->tracer);
	n = tracer__drain(m->tracer);
	pthread_mutex_unlock(&m->lock);
	if (n < 0) {
		pb_err("reading the last events failed: %s", strerror(-n));
		return n;
	}
	return 0;
}

static int on_event(void *ctx, const struct perfbpf_event *e)
{
	struct monitor *m = ctx; /* the caller holds m->lock */

	return kseries_agg__add(m->agg, e);
}

/* An ABI v3 op by its names_id alone (the series are all that reads events here). */
static int on_op(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	struct monitor *m = ctx; /* the caller holds m->lock */

	return kseries_agg__add_op(m->agg, names_id, end_ns, duration_ns);
}

static int monitor_loop(struct monitor *m)
{
	const struct cli_opts *o = m->o;
	uint64_t deadline = o->duration_ns ? m->start_mono + o->duration_ns : 0;
	uint64_t next_read = m->start_mono + o->interval_ns, next_scan = 0;
	uint64_t next_metrics = m->start_mono + o->otlp_metrics.interval_ns;
	int err;

	follow(m, mono_ns(), &next_scan);
	while (!stop_signal) {
		uint64_t now;

		int wait = TICK_MS;

		if (m->agg) {
			int n = take_events(m);

			if (n < 0)
				return n;
			wait = n > 0 ? 0 : RING_POLL_MS; /* more may be waiting: no sleep */
		}
		if (target_exited(m, wait)) {
			m->stop_reason = "the target exited";
			break;
		}
		now = mono_ns();
		if (deadline && now >= deadline) {
			m->stop_reason = "the duration elapsed";
			break;
		}
		if (now >= next_read) {
			next_read = now + o->interval_ns;
			pthread_mutex_lock(&m->lock);
			err = refresh(m);
			pthread_mutex_unlock(&m->lock);
			if (err) {
				pb_err("reading the kernel histograms failed: %s", strerror(-err));
				return err;
			}
			follow(m, now, &next_scan);
		}
		if (m->otlp && now >= next_metrics) {
			next_metrics = now + o->otlp_metrics.interval_ns;
			err = push_metrics(m);
			if (err)
				return err;
		}
		if (report_signal) {
			report_signal = 0;
			err = take_pending_events(m);
			if (err)
				return err;
			write_reports(m);
		}
	}
	if (!m->stop_reason)
		m->stop_reason = stop_signal == SIGINT ? "interrupted (SIGINT)"
						       : "terminated by a signal";
	return 0;
}

static int monitor_start(struct monitor *m)
{
	const struct cli_opts *o = m->o;
	/* by default events reach userspace (ABI v3 batches, or the per-event probes of older
	 * engines) and are aggregated there; --per-event-probes aggregates every event in the
	 * kernel at the per-event probes, and nothing crosses the ring */
	struct tracer_opts to = {
		.ring_size = o->per_event ? 4096 : o->ring_size,
		.wakeup_bytes = o->ring_size / 4,
		.max_threads = (uint32_t)o->max_threads,
		.aggregate = o->per_event,
		.per_pid = o->per_pid,
		.max_keys = (uint32_t)o->max_keys,
		.on_event = on_event,
		.on_op = on_op,
		.ctx = m,
		.stop = &stop_signal,
	};
	int keys_fd, hists_fd, err;

	/* the pidfd first: a target that exits while the probes attach is then still seen to
	 * exit, and its events are reported */
	if (o->pid) {
		m->pidfd = pidfd_open(o->pid, 0);
		if (m->pidfd < 0 && errno != ENOSYS) { /* ENOSYS (valgrind): polled instead */
			pb_err("pid %d exited before perfbpf could attach", o->pid);
			return -ESRCH;
		}
		m->attached_processes = 1;
	}
	if (!o->per_event && !(m->agg = kseries_agg__new(o->per_pid, o->max_keys)))
		return -ENOMEM;
	err = tracer__new(&to, &m->tracer);
	if (err)
		return err;
	err = tracer__attach_new(m->tracer, o->pid, &m->po);
	if (err || m->agg)
		return err;
	tracer__mon_fds(m->tracer, &keys_fd, &hists_fd);
	m->hists = khist_reader__new(keys_fd, hists_fd, libbpf_num_possible_cpus());
	return m->hists ? 0 : -ENOMEM;
}

int monitor__run(const struct cli_opts *o)
{
	struct monitor m = { .o = o, .pidfd = -1 };
	struct metrics_server *http = NULL;
	struct web_config web = { 0 };
	int err;

	pthread_mutex_init(&m.lock, NULL);
	if (o->web_config) { /* its errors first: nothing is attached yet */
		char why[512];

		if (web_config__load(o->web_config, &web, why, sizeof(why))) {
			pb_err("--web-config %s", why);
			return EXIT_FAIL;
		}
	}
	if (tracer__check_privileges()) {
		web_config__free(&web);
		return EXIT_FAIL;
	}
	if (o->pid) {
		char what[32];

		snprintf(what, sizeof(what), "pid %d", o->pid);
		if (permission__may_trace(o->pid, what)) {
			web_config__free(&web);
			return EXIT_FAIL;
		}
	} else if (permission__may_trace_all("--binary")) {
		web_config__free(&web);
		return EXIT_FAIL;
	}
	err = o->pid ? target__open_pid(o->pid, &m.po.objs) : open_binaries(&m);
	m.command = describe(o);
	install_signals();
	err = err ?: monitor_start(&m);
	if (!err && o->otlp_flags.metrics) {
		m.otlp = otlp_exporter__new(&o->otlp_metrics, m.command);
		err = m.otlp ? 0 : -ENOMEM;
		if (m.otlp && !o->quiet)
			fprintf(stderr, "perfbpf: sending metrics to %s every %.3gs\n",
				o->otlp_metrics.url, (double)o->otlp_metrics.interval_ns * 1e-9);
	}
	if (!err && o->listen) {
		http = metrics_server__start((const struct sockaddr *)&o->listen_addr, o->listen,
					     o->web_config ? &web : NULL, render_metrics, &m);
		err = http ? 0 : -EADDRINUSE;
	}
	if (!err) {
		/* attached, listening (a port below 1024 needs a capability to bind) */
		permission__drop_unneeded(false);
		m.start_mono = mono_ns();
		m.start_real = real_ns();
		if (!o->quiet)
			fprintf(stderr, "perfbpf: monitoring %u probe sites in %u binaries of %s%s%s%s; "
					"Ctrl-C to stop\n", m.po.sites, m.po.binaries, m.command,
				!o->listen ? "" : web.cert_pem ? ", metrics at https://"
							       : ", metrics at http://",
				o->listen ? o->listen : "", web.nusers ? " (basic auth)" : "");
		err = monitor_loop(&m);
	}
	if (!err)
		err = take_last_events(&m);
	if (!err && m.otlp) { /* the last metrics, then what the flush timeout allows */
		err = push_metrics(&m);
		otlp_exporter__shutdown(m.otlp);
	}
	metrics_server__stop(http); /* no scrape runs past here */
	if (!err)
		err = write_reports(&m);
	if (m.pidfd >= 0)
		close(m.pidfd);
	kseries_stats__free_report(&m.rep);
	otlp_exporter__free(m.otlp);
	khist_reader__free(m.hists);
	kseries_agg__free(m.agg);
	tracer__free(m.tracer);
	target__free(&m.po.objs);
	free(m.command);
	web_config__free(&web);
	pthread_mutex_destroy(&m.lock);
	return err ? EXIT_FAIL : EXIT_OK;
}
