// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the metrics endpoint's web configuration (exporters/prometheus/web_config.h):
 * the exporter-toolkit keys read, relative paths taken from the file's directory, the TLS
 * version range as a GnuTLS priority string, a client CA alone meaning a required client
 * certificate, and bcrypt passwords (a remembered match does not let another password in). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporters/prometheus/web_config.h"

static char dir[64];

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const char *body, mode_t mode)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	assert_int_equal(chmod(path_of(name), mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfbpf-webcfg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	put("s.crt", "CERT\n", 0644);
	put("s.key", "KEY\n", 0600);
	put("ca.crt", "CA\n", 0644);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int load(const char *body, struct web_config *c, char *err, size_t len)
{
	put("w.yml", body, 0600);
	return web_config__load(path_of("w.yml"), c, err, len);
}

static void test_tls_keys(void **state)
{
	struct web_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(load("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
			      "  client_ca_file: ca.crt\n  min_version: TLS12\n"
			      "  max_version: TLS13\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.cert_pem, "CERT\n");
	assert_string_equal(c.key_pem, "KEY\n");
	assert_string_equal(c.ca_pem, "CA\n");
	/* a client CA without client_auth_type: the certificate is required */
	assert_int_equal(c.client_auth, WEB_REQUIRE_AND_VERIFY);
	assert_string_equal(c.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3");
	assert_int_equal(c.nusers, 0);
	web_config__free(&c);

	assert_int_equal(load("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
			      "  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n"
			      "  min_version: TLS13\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_auth, WEB_VERIFY_IF_GIVEN);
	assert_string_equal(c.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	web_config__free(&c);

	assert_int_equal(load("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
			      "  min_version: TLS13\n  max_version: TLS12\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "min_version is above max_version"));
	assert_non_null(strstr(err, "w.yml: "));
}

static void test_passwords(void **state)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], body[512], err[256];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	struct web_config c;
	const char *h;

	(void)state;
	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn("$2y$", 5, NULL, 0, salt, sizeof(salt)));
	h = crypt_r("right", salt, cd);
	assert_non_null(h);
	snprintf(body, sizeof(body), "basic_auth_users:\n  alice: %s\n  bob: '%s'\n", h, h);
	free(cd);
	assert_int_equal(load(body, &c, err, sizeof(err)), 0);
	assert_null(c.cert_pem);
	assert_int_equal(c.nusers, 2);
	assert_false(web_config__check_password(&c, "alice", "wrong"));
	assert_true(web_config__check_password(&c, "alice", "right"));
	/* remembered: right again without bcrypt, and still not a wrong one */
	assert_true(web_config__check_password(&c, "alice", "right"));
	assert_false(web_config__check_password(&c, "alice", "righ"));
	assert_false(web_config__check_password(&c, "alice", ""));
	assert_false(web_config__check_password(&c, "carol", "right"));
	assert_true(web_config__check_password(&c, "bob", "right"));
	web_config__free(&c);
}

static void test_errors(void **state)
{
	struct web_config c;
	char err[256];

	(void)state;
	put("open.yml", "basic_auth_users: {}\n", 0666);
	assert_int_equal(web_config__load(path_of("open.yml"), &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "every user may write it"));
	assert_int_equal(load("basic_auth_users:\n  alice: $1$md5$notbcrypt\n", &c, err,
			      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a bcrypt hash"));
	assert_int_equal(load("tls_server_config:\n  key_file: s.key\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cert_file and key_file go together"));
	assert_int_equal(load("- a list\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected a mapping"));
	assert_int_equal(load("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
			      "  client_auth_type: RequireAnyClientCert\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "RequireAnyClientCert"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_keys),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
