/* SPDX-License-Identifier: BSD-2-Clause */
/* Small userspace helpers: checked number, duration and size parsing; error printing. */
#ifndef PERFBPF_UTIL_H
#define PERFBPF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Exit codes, documented in README.md and --help. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Each parser accepts the whole string or fails with -EINVAL/-ERANGE, leaving *out untouched. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_pid(const char *s, int *out);
/* "30", "30s", "250ms", "2us", "100ns", "1.5s", "2m", "1h" -> nanoseconds; bare numbers are seconds. */
int parse_duration_ns(const char *s, uint64_t *out);
/* "4096", "64K", "16M", "1G" (binary units) -> bytes. */
int parse_size(const char *s, uint64_t *out);

/* "PORT" (loopback), "HOST:PORT" or "[IPV6]:PORT", numeric hosts or localhost. */
int parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *len);

/* prefix, then the first n words (up to a NULL) separated by spaces; caller frees; NULL when out
 * of memory. */
char *join_words(const char *prefix, const char *const *words, size_t n);

/* "perfbpf: <message>\n" on stderr. */
void pb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool pb_verbose;
void pb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t mono_ns(void);
uint64_t real_ns(void);

/* perfbpf's own cost so far: CPU time of all its threads (user + system), resident memory now
 * and at its peak. Fields it cannot read are 0. */
struct self_usage {
	double cpu_s;
	uint64_t rss_bytes, peak_rss_bytes;
};
void self_usage(struct self_usage *u);

#endif
