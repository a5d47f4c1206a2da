/* SPDX-License-Identifier: BSD-2-Clause */
/* The metrics endpoint's web configuration file (`perfbpf monitor --web-config FILE`), in the
 * format of the Prometheus exporter toolkit (`--web.config.file`), YAML:
 *
 *   tls_server_config:
 *     cert_file: server.crt        # with key_file: serve HTTPS
 *     key_file: server.key
 *     client_ca_file: ca.crt       # client certificates are verified against it
 *     client_auth_type: RequireAndVerifyClientCert   # or VerifyClientCertIfGiven, NoClientCert
 *     min_version: TLS12           # TLS10 .. TLS13 (default TLS12)
 *     max_version: TLS13
 *   basic_auth_users:
 *     alice: $2y$10$...            # bcrypt hashes (htpasswd -nBC 10 alice)
 *
 * Relative paths are taken from the file's directory. Any other key, a file that cannot be read,
 * a configuration file every user may write, a hash that is not bcrypt: a one-line error. */
#ifndef PERFBPF_WEB_CONFIG_H
#define PERFBPF_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum web_client_auth { WEB_NO_CLIENT_CERT, WEB_VERIFY_IF_GIVEN, WEB_REQUIRE_AND_VERIFY };

struct web_user {
	char *name, *hash;
	unsigned char verified[32]; /* SHA-256 of the last password that matched, or zeros */
	bool have_verified;
};

struct web_config {
	char *cert_pem, *key_pem; /* NULL: plain HTTP */
	char *ca_pem;             /* client CA, or NULL */
	enum web_client_auth client_auth;
	char priorities[160];     /* GnuTLS priority string for the TLS versions */
	struct web_user *users;   /* basic auth; none: no authentication */
	size_t nusers;
};

/* Reads and checks path: 0, or -EINVAL / -errno with a one-line reason in err. */
int web_config__load(const char *path, struct web_config *c, char *err, size_t errlen);
void web_config__free(struct web_config *c);
/* Whether user and password match a basic_auth_users entry (bcrypt; a password that matched is
 * remembered by its SHA-256, so a scrape does not pay bcrypt each time). Not thread-safe: the
 * server calls it from its one thread. */
bool web_config__check_password(struct web_config *c, const char *user, const char *password);

#endif
