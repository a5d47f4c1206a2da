/* SPDX-License-Identifier: BSD-2-Clause */
/* Integration-test helpers: run perfbpf and test programs, load their JSON and ground truth,
 * and decide whether privileged tests may run (CI=true: they must). */
#ifndef PERFBPF_HARNESS_H
#define PERFBPF_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sys/types.h>

/* Directory of the build (perfbpf, backtest, tests/...), from $PERFBPF_BUILD or "build". */
const char *build_dir(void);
/* "<build>/<rel>" in a static rotating buffer. */
const char *bpath(const char *rel);
/* A fresh temporary directory for this test binary; files under it by name. */
const char *tmp_file(const char *name);

/* 1 when why is NULL; else 0 after a SKIPPED line naming what the group needs, or -1 after a
 * FAILED line when CI=true (where nothing may be skipped). */
int require_or_skip(const char *group, size_t ntests, const char *what, const char *needs,
		    const char *why);
/* Whether the privileged group `ntests` may run: 1 yes; 0 skip (not root or no BTF, with the
 * reason printed); -1 fail, because CI=true and privileged tests must run there. */
int bpf_gate(const char *group, size_t ntests);
/* Runs a privileged cmocka group through bpf_gate; returns the number of failures. */
#define run_privileged_group(name, tests)                                                    \
	({                                                                                    \
		int __g = bpf_gate(name, sizeof(tests) / sizeof(tests[0]));                  \
		__g > 0 ? cmocka_run_group_tests_name(name, tests, NULL, NULL) : __g < 0;     \
	})
/* The same with a group setup and teardown. */
#define run_privileged_group_setup(name, tests, setup, teardown)                             \
	({                                                                                    \
		int __g = bpf_gate(name, sizeof(tests) / sizeof(tests[0]));                  \
		__g > 0 ? cmocka_run_group_tests_name(name, tests, setup, teardown) : __g < 0; \
	})

struct proc_result {
	int status; /* exit status, or 128+signal */
	char *out;  /* captured stdout and stderr (NUL-terminated) */
	char *err;
};

/* Runs argv (NULL-terminated) to completion, capturing output, with a timeout in seconds. */
void run_proc(char *const argv[], int timeout_s, struct proc_result *r);
void proc_result_free(struct proc_result *r);
/* Starts argv in the background with stdout to a pipe; returns its pid. */
pid_t spawn_bg(char *const argv[], int *stdout_fd);
/* Starts argv in the background with stdout to /dev/null and stderr to a pipe; returns its pid. */
pid_t spawn_bg_stderr(char *const argv[], int *stderr_fd);
/* Background processes of the running test, killed by kill_tracked (a cmocka teardown) if an
 * assertion ends the test first; track_bg returns pid. */
pid_t track_bg(pid_t pid);
void untrack_bg(pid_t pid);
int kill_tracked(void **state);
/* Reads one line from fd (for "ready PID" handshakes). */
int read_line(int fd, char *buf, size_t len, int timeout_ms);
/* A private CA (dir/ca.crt, ca.key) and, signed by it, a server (server.crt, server.key) and a
 * client certificate (client.crt, client.key), both for IP 127.0.0.1; and a client certificate
 * from another CA (rogue.crt, rogue.key: not to be trusted). Made by openssl. */
void make_test_certs(const char *dir);
/* A TCP port nothing listens on now (the kernel's pick for port 0 on the loopback, released). */
int free_port(void);
/* Number of lines in s. */
size_t count_lines(const char *s);

struct json_object *load_json(const char *path);
/* `perfbpf run -q -j OUT -- TARGET ARGS...` (args NULL-terminated, at most 8): fails the test
 * with perfbpf's stderr unless it exits with want_status; returns the JSON summary. */
struct json_object *run_traced(const char *out, const char *target, char *const args[],
			       int want_status);
struct json_object *json_get(struct json_object *o, const char *key);
uint64_t json_u64(struct json_object *o, const char *key);
const char *json_str(struct json_object *o, const char *key);
/* The row of `array` ("metrics" or "metric_rollups") with these fields; NULL if absent.
 * symbol/strategy NULL: not compared. */
struct json_object *find_row(struct json_object *root, const char *array, const char *kind,
			     const char *metric, const char *symbol, const char *strategy);

/* The op row (metric, symbol, strategy) holds exactly n events of durations base + step * i:
 * count, total, min, max and nearest-rank p50/p95/p99. */
void check_linear_op(struct json_object *root, const char *metric, const char *symbol,
		     const char *strategy, size_t n, uint64_t base, uint64_t step);

/* Ground truth of the demo engine: durations per key. */
struct gt_key {
	char *metric, *symbol, *strategy;
	uint64_t *d;
	size_t n, cap;
};
struct ground_truth {
	struct gt_key *keys;
	size_t nkeys;
	size_t total;
	size_t spans; /* the "# spans N" line: spans the engine opened and closed */
};
int gt_load(const char *path, struct ground_truth *gt);
void gt_free(struct ground_truth *gt);
/* Nearest rank on sorted durations, written independently of perfbpf's code. */
uint64_t gt_rank(const uint64_t *sorted, size_t n, double p);

#endif
