// SPDX-License-Identifier: BSD-2-Clause
/* Integration tests of the metrics endpoint's web configuration (`perfbpf monitor --web-config`,
 * the Prometheus exporter toolkit's format): a real Prometheus scrapes /metrics over TLS with a
 * private CA, a client certificate and basic auth (bcrypt); curl without credentials or with a
 * wrong password gets 401, without a client certificate or with one from another CA the TLS
 * connection is refused, plain HTTP gets nothing; a client certificate only verified when given;
 * and every kind of bad configuration file is a one-line error at start. */
#include "harness.h"

#include <crypt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PERFBPF bpath("perfbpf")
#define PASSWORD "s3cret-scrape"

static char dir[128];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* dir/name, in one of 64 buffers used in turn (a test names at most that many at once). */
static const char *in_dir(const char *name)
{
	static char buf[64][256];
	static int k;

	k = (k + 1) % 64;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

/* A bcrypt hash of pw (cost 10), as `htpasswd -nBC 10` makes them. */
static void bcrypt(const char *pw, char out[128])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;

	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn("$2b$", 10, NULL, 0, salt, sizeof(salt)));
	h = crypt_r(pw, salt, cd);
	assert_non_null(h);
	assert_int_equal(strncmp(h, "$2b$10$", 7), 0);
	snprintf(out, 128, "%s", h);
	free(cd);
}

/* Writes the configuration file `name` (mode 0600) with body; its path. */
static const char *write_config(const char *name, const char *body)
{
	const char *path = in_dir(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	chmod(path, 0600);
	return path;
}

/* curl [args] URL: the HTTP status (0: none), the exit status in *exit_status, the body in
 * *body if asked (caller frees). */
static int curl(const char *const args[], const char *url, int *exit_status, char **body)
{
	char *argv[24], code[16] = "";
	size_t n = 0;
	struct proc_result r;
	char *w;

	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "-w";
	argv[n++] = "\n%{http_code}";
	for (size_t i = 0; args[i]; i++)
		argv[n++] = (char *)args[i];
	argv[n++] = (char *)url;
	argv[n] = NULL;
	run_proc(argv, 15, &r);
	*exit_status = r.status;
	w = strrchr(r.out, '\n');
	if (w) {
		snprintf(code, sizeof(code), "%s", w + 1);
		*w = '\0';
	}
	if (body)
		*body = strdup(r.out);
	proc_result_free(&r);
	return atoi(code);
}

/* perfbpf monitor --binary backtest --listen PORT --web-config FILE; waits until the port
 * answers (any TLS or HTTP answer). */
static pid_t start_monitor(int port, const char *config)
{
	char listen[32];
	char *argv[] = { (char *)PERFBPF, "monitor", "-q", "--binary", (char *)bpath("backtest"),
			 "--listen", listen, "--web-config", (char *)config, NULL };
	char url[64];
	int fd, st;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	pid = track_bg(spawn_bg(argv, &fd));
	close(fd);
	for (uint64_t end = now_ms() + 10000; now_ms() < end; usleep(100000)) {
		const char *args[] = { "-k", NULL };

		/* any TLS answer: the server is up (without a client certificate it may be refused
		 * after the handshake began, exit 35 or 56) */
		curl(args, url, &st, NULL);
		if (st != 7)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			fail_msg("perfbpf monitor exited at start");
	}
	fail_msg("perfbpf monitor did not listen within 10 s");
	return -1;
}

static int stop(pid_t pid)
{
	int st;

	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	untrack_bg(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Prometheus scraping port over HTTPS with the CA, the client certificate and the password. */
static pid_t start_prometheus(int port, int target_port, const char *password)
{
	const char *cfg = in_dir("prometheus.yml"), *data = in_dir("prometheus-data");
	char cfg_arg[512], data_arg[512], listen_arg[64], url[64];
	char *argv[] = { "prometheus", cfg_arg, data_arg, listen_arg, "--log.level=error", NULL };
	FILE *f = fopen(cfg, "w");
	int fd, st;
	pid_t pid;

	assert_non_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "scrape_configs:\n  - job_name: perfbpf\n    scheme: https\n"
		   "    tls_config:\n      ca_file: %s\n      cert_file: %s\n      key_file: %s\n"
		   "    basic_auth:\n      username: scraper\n      password: %s\n"
		   "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
		in_dir("ca.crt"), in_dir("client.crt"), in_dir("client.key"), password, target_port);
	fclose(f);
	mkdir(data, 0700);
	snprintf(cfg_arg, sizeof(cfg_arg), "--config.file=%s", cfg);
	snprintf(data_arg, sizeof(data_arg), "--storage.tsdb.path=%s", data);
	snprintf(listen_arg, sizeof(listen_arg), "--web.listen-address=127.0.0.1:%d", port);
	pid = track_bg(spawn_bg(argv, &fd));
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", port);
	for (uint64_t end = now_ms() + 30000; now_ms() < end; usleep(200000)) {
		const char *none[] = { NULL };

		if (curl(none, url, &st, NULL) == 200)
			return pid;
	}
	fail_msg("prometheus did not become ready within 30 s");
	return -1;
}

/* The value of a Prometheus instant query with one result, or NAN. */
static double prom_query(int port, const char *expr)
{
	const char *args[] = { "-G", "--data-urlencode", NULL, NULL };
	char q[512], url[96], *body = NULL;
	struct json_object *root, *res;
	double v = NAN;
	int st;

	snprintf(q, sizeof(q), "query=%s", expr);
	args[2] = q;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query", port);
	if (curl(args, url, &st, &body) == 200 && (root = json_tokener_parse(body))) {
		res = json_get(json_get(root, "data"), "result");
		if (json_object_array_length(res) == 1)
			v = atof(json_object_get_string(json_object_array_get_idx(
				json_get(json_object_array_get_idx(res, 0), "value"), 1)));
		json_object_put(root);
	}
	free(body);
	return v;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s", tmp_file("web"));
	make_test_certs(dir);
	return 0;
}

/* TLS with a required client certificate and basic auth: Prometheus scrapes every event; curl
 * is refused without credentials, with a wrong password, without a client certificate, with
 * one from another CA, and over plain HTTP. */
static void test_tls_and_basic_auth(void **state)
{
	int port = free_port(), pport = free_port(), st, code;
	char hash[128], body[1024], url[64], plain[64];
	const char *gtf = tmp_file("web-gt.tsv");
	char *engine[] = { (char *)bpath("backtest"), "--bars", "3000", "--ground-truth",
			   (char *)gtf, "--quiet", NULL };
	const char *ok[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("client.crt"), "--key",
			     in_dir("client.key"), "-u", "scraper:" PASSWORD, NULL };
	const char *no_auth[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("client.crt"),
				  "--key", in_dir("client.key"), NULL };
	const char *wrong[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("client.crt"),
				"--key", in_dir("client.key"), "-u", "scraper:guess", NULL };
	const char *no_cert[] = { "--cacert", in_dir("ca.crt"), "-u", "scraper:" PASSWORD, NULL };
	const char *rogue[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("rogue.crt"),
				"--key", in_dir("rogue.key"), "-u", "scraper:" PASSWORD, NULL };
	const char *none[] = { NULL };
	struct ground_truth gt;
	struct proc_result r;
	pid_t mon, prom;
	char *text = NULL;
	double v = NAN;

	(void)state;
	while (pport == port)
		pport = free_port();
	bcrypt(PASSWORD, hash);
	snprintf(body, sizeof(body),
		 "tls_server_config:\n  cert_file: server.crt\n  key_file: %s\n"
		 "  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n"
		 "  min_version: TLS12\nbasic_auth_users:\n  scraper: %s\n  other: %s\n",
		 in_dir("server.key"), hash, hash);
	mon = start_monitor(port, write_config("web.yml", body));
	run_proc(engine, 120, &r);
	assert_int_equal(r.status, 0);
	proc_result_free(&r);
	assert_int_equal(gt_load(gtf, &gt), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/metrics", port);
	code = curl(ok, url, &st, &text);
	if (code != 200)
		fail_msg("curl with credentials: HTTP %d, exit %d: %s", code, st, text);
	assert_non_null(strstr(text, "perfbpf_events_total"));
	free(text);
	assert_int_equal(curl(no_auth, url, &st, NULL), 401);
	assert_int_equal(curl(wrong, url, &st, NULL), 401);
	/* the same password again (remembered once it matched) and a wrong one after it */
	assert_int_equal(curl(ok, url, &st, NULL), 200);
	assert_int_equal(curl(wrong, url, &st, NULL), 401);
	/* refused TLS connections: no HTTP status at all */
	code = curl(no_cert, url, &st, NULL);
	assert_int_equal(code, 0);
	assert_true(st != 0);
	code = curl(rogue, url, &st, NULL);
	assert_int_equal(code, 0);
	assert_true(st != 0);
	snprintf(plain, sizeof(plain), "http://127.0.0.1:%d/metrics", port);
	assert_int_equal(curl(none, plain, &st, NULL), 0);

	/* a real Prometheus with the CA, the client certificate and the password */
	prom = start_prometheus(pport, port, PASSWORD);
	for (uint64_t end = now_ms() + 30000; now_ms() < end; usleep(500000)) {
		v = prom_query(pport, "sum(perfbpf_events_total)");
		if (v == (double)(gt.total + gt.spans))
			break;
	}
	if (v != (double)(gt.total + gt.spans))
		fail_msg("Prometheus saw %.0f events over TLS, not %zu", v, gt.total + gt.spans);
	assert_true(prom_query(pport, "up{job=\"perfbpf\"}") == 1);
	gt_free(&gt);
	stop(prom);
	assert_int_equal(stop(mon), 0);
}

/* VerifyClientCertIfGiven: no certificate is fine, one from another CA is refused. No basic
 * auth configured: no 401. */
static void test_client_cert_if_given(void **state)
{
	int port = free_port(), st;
	char url[64];
	const char *bare[] = { "--cacert", in_dir("ca.crt"), NULL };
	const char *good[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("client.crt"), "--key",
			       in_dir("client.key"), NULL };
	const char *rogue[] = { "--cacert", in_dir("ca.crt"), "--cert", in_dir("rogue.crt"),
				"--key", in_dir("rogue.key"), NULL };
	pid_t mon;

	(void)state;
	mon = start_monitor(port, write_config("ifgiven.yml",
		"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		"  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n"));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/metrics", port);
	assert_int_equal(curl(bare, url, &st, NULL), 200);
	assert_int_equal(curl(good, url, &st, NULL), 200);
	assert_int_equal(curl(rogue, url, &st, NULL), 0);
	assert_int_equal(stop(mon), 0);
}

/* A configuration file that cannot be trusted or read, or that says what perfbpf does not do:
 * one line naming the problem, exit 1, before anything is attached. */
static void test_bad_configs(void **state)
{
	char hash[128], good_users[400];
	struct {
		const char *name, *body, *want;
		mode_t mode;
	} cases[] = {
		{ "writable.yml", "basic_auth_users: {}\n", "every user may write it", 0666 },
		{ "broken.yml", "tls_server_config: [\n", "not YAML", 0600 },
		{ "unknown.yml", "http_server_config:\n  http2: true\n", "'http_server_config' is not "
		  "supported", 0600 },
		{ "typo.yml", "tls_server_config:\n  cert: server.crt\n", "'cert' is not supported",
		  0600 },
		{ "nokey.yml", "tls_server_config:\n  cert_file: server.crt\n",
		  "cert_file and key_file go together", 0600 },
		{ "missing.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: gone.key\n",
		  "gone.key: No such file", 0600 },
		{ "noca.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		  "  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file", 0600 },
		{ "version.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		  "  min_version: SSL3\n", "expected TLS10", 0600 },
		{ "plainpw.yml", "basic_auth_users:\n  alice: hunter2\n", "not a bcrypt hash", 0600 },
		{ "twice.yml", good_users, "alice given twice", 0600 },
		{ "absent.yml", NULL, "No such file", 0600 },
	};

	(void)state;
	bcrypt("x", hash);
	snprintf(good_users, sizeof(good_users), "basic_auth_users:\n  alice: %s\n  alice: %s\n",
		 hash, hash);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = cases[i].body ? write_config(cases[i].name, cases[i].body)
						 : in_dir(cases[i].name);
		char *argv[] = { (char *)PERFBPF, "monitor", "--binary", (char *)bpath("backtest"),
				 "--listen", "127.0.0.1:1", "--web-config", (char *)path, NULL };
		struct proc_result r;

		if (cases[i].body)
			chmod(path, cases[i].mode);
		run_proc(argv, 20, &r);
		if (r.status != 1 || count_lines(r.err) != 1 || !strstr(r.err, cases[i].want))
			fail_msg("%s: status %d, stderr '%s' (want one line with '%s')",
				 cases[i].name, r.status, r.err, cases[i].want);
		proc_result_free(&r);
	}
	{ /* with --no-listen there is no endpoint to configure: a usage error */
		char *argv[] = { (char *)PERFBPF, "monitor", "--binary", (char *)bpath("backtest"),
				 "--no-listen", "--web-config", "web.yml", NULL };
		struct proc_result r;

		run_proc(argv, 20, &r);
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err, "--web-config"));
		proc_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tls_and_basic_auth, kill_tracked),
		cmocka_unit_test_teardown(test_client_cert_if_given, kill_tracked),
		cmocka_unit_test_teardown(test_bad_configs, kill_tracked),
	};

	return run_privileged_group_setup("web_config", tests, setup, NULL);
}
