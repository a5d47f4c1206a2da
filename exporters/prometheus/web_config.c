// SPDX-License-Identifier: BSD-2-Clause
/* The metrics endpoint's web configuration file, read with libyaml; passwords checked with
 * libxcrypt's bcrypt (see web_config.h). */
#include "exporters/prometheus/web_config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_FILE (1 << 20) /* a certificate, key or configuration file */

struct ctx {
	const char *path;
	char dir[4096];
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(x->err, x->errlen, "%s: ", x->path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < x->errlen)
		vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A whole file (at most MAX_FILE bytes) as a string; NULL with errno set. */
static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		int e = fstat(fd, &st) ? errno : !S_ISREG(st.st_mode) ? EISDIR : EFBIG;

		close(fd);
		errno = e;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A file named in the configuration, relative to its directory, read whole into *out. */
static int load_file(struct ctx *x, const char *key, yaml_node_t *v, char **out)
{
	const char *name = scalar(v);
	char path[8192];

	if (!name || !*name)
		return fail(x, "%s: expected a file name", key);
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", x->dir, name);
	free(*out);
	*out = read_file(path);
	if (!*out)
		return fail(x, "%s %s: %s", key, path, strerror(errno));
	return 0;
}

static int tls_version(struct ctx *x, const char *key, yaml_node_t *v, int *out)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13" };
	const char *s = scalar(v);

	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return fail(x, "%s: expected TLS10, TLS11, TLS12 or TLS13, not '%s'", key, s ? s : "?");
}

static int tls_server_config(struct ctx *x, yaml_node_t *m, struct web_config *c)
{
	static const char *const vers[] = { "+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
					    "+VERS-TLS1.3" };
	int min = 2, max = 3, err = 0;
	bool have_auth_type = false;

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, "tls_server_config: expected a mapping");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     !err && p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);

		if (!k)
			return fail(x, "tls_server_config: a key that is not a string");
		if (!strcmp(k, "cert_file")) {
			err = load_file(x, k, v, &c->cert_pem);
		} else if (!strcmp(k, "key_file")) {
			err = load_file(x, k, v, &c->key_pem);
		} else if (!strcmp(k, "client_ca_file")) {
			err = load_file(x, k, v, &c->ca_pem);
		} else if (!strcmp(k, "client_auth_type")) {
			const char *s = scalar(v);

			have_auth_type = true;
			if (s && !strcmp(s, "NoClientCert"))
				c->client_auth = WEB_NO_CLIENT_CERT;
			else if (s && !strcmp(s, "VerifyClientCertIfGiven"))
				c->client_auth = WEB_VERIFY_IF_GIVEN;
			else if (s && !strcmp(s, "RequireAndVerifyClientCert"))
				c->client_auth = WEB_REQUIRE_AND_VERIFY;
			else
				return fail(x, "client_auth_type: expected NoClientCert, "
					    "VerifyClientCertIfGiven or RequireAndVerifyClientCert, not '%s'",
					    s ? s : "?");
		} else if (!strcmp(k, "min_version")) {
			err = tls_version(x, k, v, &min);
		} else if (!strcmp(k, "max_version")) {
			err = tls_version(x, k, v, &max);
		} else {
			return fail(x, "tls_server_config: '%s' is not supported (cert_file, key_file, "
				    "client_ca_file, client_auth_type, min_version, max_version)", k);
		}
	}
	if (err)
		return err;
	if (!c->cert_pem != !c->key_pem)
		return fail(x, "tls_server_config: cert_file and key_file go together");
	if (!c->cert_pem)
		return fail(x, "tls_server_config: no cert_file and key_file");
	if (min > max)
		return fail(x, "tls_server_config: min_version is above max_version");
	/* exporter-toolkit: a client CA alone means the client certificate is required */
	if (c->ca_pem && !have_auth_type)
		c->client_auth = WEB_REQUIRE_AND_VERIFY;
	if (c->client_auth != WEB_NO_CLIENT_CERT && !c->ca_pem)
		return fail(x, "client_auth_type: verifying client certificates needs client_ca_file");
	{
		size_t len = (size_t)snprintf(c->priorities, sizeof(c->priorities),
					      "NORMAL:-VERS-ALL");

		for (int i = min; i <= max; i++)
			len += (size_t)snprintf(c->priorities + len, sizeof(c->priorities) - len,
						":%s", vers[i]);
	}
	return 0;
}

static int basic_auth_users(struct ctx *x, yaml_node_t *m, struct web_config *c)
{
	size_t n;

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, "basic_auth_users: expected a mapping of user: bcrypt hash");
	n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		return fail(x, "out of memory");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));
		const char *h = scalar(yaml_document_get_node(x->doc, p->value));

		if (!k || !*k || strchr(k, ':'))
			return fail(x, "basic_auth_users: a user name must be a string without ':'");
		if (!h || strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) ||
		    h[3] != '$')
			return fail(x, "basic_auth_users: %s: not a bcrypt hash ($2a$, $2b$ or $2y$, "
				    "60 characters)", k);
		for (size_t i = 0; i < c->nusers; i++)
			if (!strcmp(c->users[i].name, k))
				return fail(x, "basic_auth_users: %s given twice", k);
		c->users[c->nusers].name = strdup(k);
		c->users[c->nusers].hash = strdup(h);
		if (!c->users[c->nusers].name || !c->users[c->nusers].hash) {
			c->nusers++;
			return fail(x, "out of memory");
		}
		c->nusers++;
	}
	return 0;
}

static int parse(struct ctx *x, const char *text, struct web_config *c)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int err = 0;

	if (!yaml_parser_initialize(&parser))
		return fail(x, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		err = fail(x, "not YAML: %s at line %zu", parser.problem ? parser.problem : "error",
			   parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return err;
	}
	x->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE)
		err = fail(x, "expected a mapping (tls_server_config, basic_auth_users)");
	for (yaml_node_pair_t *p = root && !err ? root->data.mapping.pairs.start : NULL;
	     p && !err && p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(&doc, p->key));
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);

		if (k && !strcmp(k, "tls_server_config"))
			err = tls_server_config(x, v, c);
		else if (k && !strcmp(k, "basic_auth_users"))
			err = basic_auth_users(x, v, c);
		else
			err = fail(x, "'%s' is not supported (tls_server_config, basic_auth_users)",
				   k ? k : "?");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}

int web_config__load(const char *path, struct web_config *c, char *err, size_t errlen)
{
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *text;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(x.dir, sizeof(x.dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	if (slash == path)
		snprintf(x.dir, sizeof(x.dir), "/");
	if (stat(path, &st))
		return fail(&x, "%s", strerror(errno));
	/* credentials and keys come from it: a file anyone may change is not trusted */
	if (st.st_mode & S_IWOTH)
		return fail(&x, "every user may write it (chmod o-w)");
	text = read_file(path);
	if (!text)
		return fail(&x, "%s", strerror(errno));
	rc = parse(&x, text, c);
	free(text);
	if (rc)
		web_config__free(c);
	return rc;
}

void web_config__free(struct web_config *c)
{
	if (c->key_pem)
		OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
	free(c->cert_pem);
	free(c->key_pem);
	free(c->ca_pem);
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	memset(c, 0, sizeof(*c));
}

bool web_config__check_password(struct web_config *c, const char *user, const char *password)
{
	unsigned char digest[32];
	struct crypt_data *cd;
	struct web_user *u = NULL;
	const char *h;
	bool ok;

	for (size_t i = 0; i < c->nusers; i++)
		if (!strcmp(c->users[i].name, user))
			u = &c->users[i];
	if (!u || !password)
		return false;
	SHA256((const unsigned char *)password, strlen(password), digest);
	if (u->have_verified && !CRYPTO_memcmp(digest, u->verified, sizeof(digest)))
		return true;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	h = crypt_r(password, u->hash, cd);
	ok = h && strlen(h) == strlen(u->hash) && !CRYPTO_memcmp(h, u->hash, strlen(h));
	free(cd);
	if (ok) {
		memcpy(u->verified, digest, sizeof(digest));
		u->have_verified = true;
	}
	return ok;
}
