// SPDX-License-Identifier: BSD-2-Clause
/* Integration-test helpers (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *build_dir(void)
{
	const char *b = getenv("PERFBPF_BUILD");

	return b && *b ? b : "build";
}

const char *bpath(const char *rel)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, 512, "%s/%s", build_dir(), rel);
	return b;
}

const char *tmp_file(const char *name)
{
	static char dir[256];
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/perfbpf-test-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

int require_or_skip(const char *group, size_t ntests, const char *what, const char *needs,
		    const char *why)
{
	bool ci = getenv("CI") && !strcmp(getenv("CI"), "true");

	if (!why)
		return 1;
	if (ci) {
		printf("[  FAILED  ] %s: %s cannot run (%s) and CI=true\n", group, what, why);
		return -1;
	}
	printf("[  SKIPPED ] %zu test(s): %s needs %s (%s)\n", ntests, group, needs, why);
	return 0;
}

int bpf_gate(const char *group, size_t ntests)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "not running as root";
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		why = "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
	return require_or_skip(group, ntests, "privileged BPF tests", "root and a BTF kernel", why);
}

static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	ssize_t n;

	while (b && (n = read(fd, b + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	if (b)
		b[len] = '\0';
	return b;
}

void run_proc(char *const argv[], int timeout_s, struct proc_result *r)
{
	int out[2], err[2], st;
	pid_t pid;
	char tmpl_o[] = "/tmp/perfbpf-out-XXXXXX", tmpl_e[] = "/tmp/perfbpf-err-XXXXXX";
	time_t end = time(NULL) + timeout_s;

	/* files, not pipes: a big report must not block the child while we wait for it */
	out[0] = mkstemp(tmpl_o);
	err[0] = mkstemp(tmpl_e);
	assert_true(out[0] >= 0 && err[0] >= 0);
	unlink(tmpl_o);
	unlink(tmpl_e);
	out[1] = dup(out[0]);
	err[1] = dup(err[0]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("%s timed out after %d s", argv[0], timeout_s);
		}
		usleep(10000);
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(out[0], 0, SEEK_SET);
	lseek(err[0], 0, SEEK_SET);
	r->out = slurp_fd(out[0]);
	r->err = slurp_fd(err[0]);
	close(out[0]);
	close(err[0]);
}

void proc_result_free(struct proc_result *r)
{
	free(r->out);
	free(r->err);
}

pid_t spawn_bg(char *const argv[], int *stdout_fd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*stdout_fd = p[0];
	return pid;
}

pid_t spawn_bg_stderr(char *const argv[], int *stderr_fd)
{
	int p[2], null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid;

	assert_true(null >= 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(null, 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(null);
	close(p[1]);
	*stderr_fd = p[0];
	return pid;
}

static pid_t tracked[16];
static int ntracked;

pid_t track_bg(pid_t pid)
{
	for (int i = 0; i < ntracked; i++)
		if (tracked[i] == 0) { /* a slot untrack_bg freed */
			tracked[i] = pid;
			return pid;
		}
	if (ntracked < 16)
		tracked[ntracked++] = pid;
	return pid;
}

void untrack_bg(pid_t pid)
{
	for (int i = 0; i < ntracked; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
}

int kill_tracked(void **state)
{
	(void)state;
	for (int i = 0; i < ntracked; i++)
		if (tracked[i] > 0 && kill(tracked[i], SIGKILL) == 0)
			waitpid(tracked[i], NULL, 0);
	ntracked = 0;
	return 0;
}

int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) != 1 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

struct json_object *load_json(const char *path)
{
	struct json_object *o = json_object_from_file(path);

	if (!o)
		fail_msg("cannot parse JSON %s: %s", path, json_util_get_last_err());
	return o;
}

struct json_object *run_traced(const char *out, const char *target, char *const args[],
			       int want_status)
{
	char *argv[16] = { (char *)bpath("perfbpf"), "run", "-q", "-j", (char *)out, "--",
			   (char *)target };
	struct proc_result r;
	int n = 7;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	run_proc(argv, 120, &r);
	if (r.status != want_status)
		fail_msg("perfbpf run %s: status %d, want %d: %s", argv[7], r.status, want_status,
			 r.err);
	proc_result_free(&r);
	return load_json(out);
}

struct json_object *json_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("JSON key '%s' missing", key);
	return v;
}

uint64_t json_u64(struct json_object *o, const char *key)
{
	return json_object_get_uint64(json_get(o, key));
}

const char *json_str(struct json_object *o, const char *key)
{
	return json_object_get_string(json_get(o, key));
}

struct json_object *find_row(struct json_object *root, const char *array, const char *kind,
			     const char *metric, const char *symbol, const char *strategy)
{
	struct json_object *a = json_get(root, array);

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *r = json_object_array_get_idx(a, i);

		if (strcmp(json_str(r, "kind"), kind) || strcmp(json_str(r, "metric"), metric))
			continue;
		if (symbol && strcmp(json_str(r, "symbol"), symbol))
			continue;
		if (strategy && strcmp(json_str(r, "strategy"), strategy))
			continue;
		return r;
	}
	return NULL;
}

static struct gt_key *gt_key_get(struct ground_truth *gt, const char *m, const char *s,
				 const char *st)
{
	struct gt_key *k;

	for (size_t i = 0; i < gt->nkeys; i++) {
		k = &gt->keys[i];
		if (!strcmp(k->metric, m) && !strcmp(k->symbol, s) && !strcmp(k->strategy, st))
			return k;
	}
	gt->keys = realloc(gt->keys, (gt->nkeys + 1) * sizeof(*gt->keys));
	k = &gt->keys[gt->nkeys++];
	memset(k, 0, sizeof(*k));
	k->metric = strdup(m);
	k->symbol = strdup(s);
	k->strategy = strdup(st);
	return k;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int gt_load(const char *path, struct ground_truth *gt)
{
	char line[512], m[128], s[128], st[128];
	unsigned long long d;
	FILE *f = fopen(path, "r");

	memset(gt, 0, sizeof(*gt));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct gt_key *k;

		/* symbol may be empty: split on tabs by hand */
		char *a = strtok(line, "\t"), *b = strtok(NULL, "\t"), *c = strtok(NULL, "\t"),
		     *e = strtok(NULL, "\t\n");

		if (a && !strcmp(a, "# spans") && b) {
			gt->spans = strtoull(b, NULL, 10);
			continue;
		}
		if (!a || !b || !c || !e)
			continue;
		snprintf(m, sizeof(m), "%s", a);
		snprintf(s, sizeof(s), "%s", b);
		snprintf(st, sizeof(st), "%s", c);
		d = strtoull(e, NULL, 10);
		k = gt_key_get(gt, m, s, st);
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 256;
			k->d = realloc(k->d, k->cap * sizeof(*k->d));
		}
		k->d[k->n++] = d;
		gt->total++;
	}
	fclose(f);
	for (size_t i = 0; i < gt->nkeys; i++)
		qsort(gt->keys[i].d, gt->keys[i].n, sizeof(uint64_t), cmp_u64);
	return 0;
}

void gt_free(struct ground_truth *gt)
{
	for (size_t i = 0; i < gt->nkeys; i++) {
		free(gt->keys[i].metric);
		free(gt->keys[i].symbol);
		free(gt->keys[i].strategy);
		free(gt->keys[i].d);
	}
	free(gt->keys);
}

uint64_t gt_rank(const uint64_t *sorted, size_t n, double p)
{
	/* rank r = ceil(n * p / 100), 1-based, at least 1 */
	size_t r = (size_t)((double)n * p / 100.0);

	if ((double)r < (double)n * p / 100.0)
		r++;
	if (r < 1)
		r = 1;
	return sorted[r - 1];
}

static uint64_t nearest_rank(const uint64_t *v, size_t n, double p)
{
	size_t r = (size_t)((double)n * p / 100.0 + 0.999999999);

	return v[(r < 1 ? 1 : r) - 1];
}

void check_linear_op(struct json_object *root, const char *metric, const char *symbol,
		     const char *strategy, size_t n, uint64_t base, uint64_t step)
{
	struct json_object *row = find_row(root, "metrics", "op", metric, symbol, strategy);
	uint64_t *v = calloc(n, sizeof(*v)), sum = 0;

	assert_non_null(row);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = base + step * i;
		sum += v[i];
	}
	assert_int_equal(json_u64(row, "count"), n);
	assert_int_equal(json_u64(row, "total_ns"), sum);
	assert_int_equal(json_u64(row, "min_ns"), v[0]);
	assert_int_equal(json_u64(row, "max_ns"), v[n - 1]);
	assert_int_equal(json_u64(row, "p50_ns"), nearest_rank(v, n, 50));
	assert_int_equal(json_u64(row, "p95_ns"), nearest_rank(v, n, 95));
	assert_int_equal(json_u64(row, "p99_ns"), nearest_rank(v, n, 99));
	free(v);
}

/* A TCP port nothing listens on now: the kernel's pick for port 0 on the loopback, released.
 * (A port computed from the pid could be one the kernel had given out as an ephemeral port.) */
int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void make_test_certs(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p %s; cd %s; "
		 "for ca in ca rogue-ca; do "
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.crt -days 2 "
		 "-subj /CN=perfbpf-test-$ca 2>/dev/null; done; "
		 "for n in server client rogue; do "
		 "openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n "
		 "2>/dev/null; printf 'subjectAltName=IP:127.0.0.1\n' > $n.ext; "
		 "ca=ca; [ $n = rogue ] && ca=rogue-ca; "
		 "openssl x509 -req -in $n.csr -CA $ca.crt -CAkey $ca.key -CAcreateserial "
		 "-out $n.crt -days 2 -extfile $n.ext 2>/dev/null; done", dir, dir);
	assert_int_equal(system(cmd), 0);
}
