/*
 * The [mssld] section of mssl.conf: defaults safe for a server on the
 * Internet, each limit checked against a range, every complaint naming
 * file, line and key in English and zh-TW (through libmssl).
 */
#include "mssld.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

const char *const mssld_conf_keys[] = {
	"listen", "port", "tls_cert", "tls_key", "tls_pin_file",
	"tls_priority", "allow_plain_public", "trusted_proxies",
	"max_header_bytes", "max_headers", "max_body_bytes",
	"max_connections", "max_connections_per_ip", "rate_per_ip",
	"rate_burst", "request_timeout_s", "idle_timeout_s",
	"write_timeout_s", "shutdown_timeout_s", "workers", "crl_check_s",
	"mail_flush_s", "expire_s", "log_file", "log_level", "remind_s",
	NULL,
};

#define S "mssld"
#define DEFAULT_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static const char *const level_names[] = { "error", "warning", "info",
					   "debug" };

/* An integer key with its range and default. */
struct ikey {
	const char *key;
	int64_t min, max, dflt;
	size_t off;
};

#define IK(k, lo, hi, d)                                                     \
	{ #k, lo, hi, d, offsetof(struct mssld_conf, k) }

static const struct ikey ikeys[] = {
	IK(max_header_bytes, 1024, 1048576, 8192),
	IK(max_headers, 8, 1000, 64),
	IK(max_body_bytes, 1024, 16777216, 262144),
	IK(max_connections, 1, 1000000, 4096),
	IK(max_connections_per_ip, 1, 1000000, 256),
	IK(rate_per_ip, 1, 1000000, 20),
	IK(rate_burst, 1, 1000000, 100),
	IK(request_timeout_s, 1, 3600, 10),
	IK(idle_timeout_s, 1, 86400, 60),
	IK(write_timeout_s, 1, 3600, 30),
	IK(shutdown_timeout_s, 0, 3600, 10),
	IK(workers, 1, 128, 4),
	IK(crl_check_s, 0, 86400, 3600),
	IK(mail_flush_s, 0, 86400, 60),
	IK(expire_s, 0, 86400, 300),
	IK(remind_s, 0, 86400, 3600),
};

static int dup_opt(mssl_ctx *ctx, const char *key, char **out)
{
	const char *v = mssl_ctx_config_get(ctx, S, key);

	*out = NULL;
	if (!v || !*v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : MSSL_ENOMEM;
}

static bool parse_addr(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* "addr" or "addr/bits". */
static bool parse_cidr(const char *s, struct mssld_cidr *c)
{
	char buf[64], *slash, *end = NULL;
	long bits;

	if (strlen(s) >= sizeof(buf))
		return false;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!parse_addr(buf, &c->family, c->addr))
		return false;
	c->bits = c->family == AF_INET ? 32 : 128;
	if (!slash)
		return true;
	bits = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || bits < 0 || bits > c->bits)
		return false;
	c->bits = (int)bits;
	return true;
}

bool mssld_cidr_match(const struct mssld_cidr *v, size_t n, const char *addr)
{
	uint8_t a[16];
	int family, i, full, rest;
	size_t k;

	if (!parse_addr(addr, &family, a))
		return false;
	for (k = 0; k < n; k++) {
		if (v[k].family != family)
			continue;
		full = v[k].bits / 8;
		rest = v[k].bits % 8;
		for (i = 0; i < full; i++)
			if (a[i] != v[k].addr[i])
				break;
		if (i < full)
			continue;
		if (rest && ((a[full] ^ v[k].addr[full]) &
			     (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

bool mssld_addr_is_loopback(const char *addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t one[16] = { [15] = 1 };
	uint8_t a[16];
	int family;

	if (!parse_addr(addr, &family, a))
		return false;
	if (family == AF_INET)
		return a[0] == 127;
	if (memcmp(a, one, 16) == 0)
		return true;
	return memcmp(a, v4mapped, 12) == 0 && a[12] == 127;
}

static int read_proxies(mssl_ctx *ctx, struct mssld_conf *c, mssl_error *err)
{
	const char *v = mssl_ctx_config_get(ctx, S, "trusted_proxies");
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (!v || !*v)
		return 0;
	copy = strdup(v);
	c->proxies = calloc(strlen(v) / 2 + 2, sizeof(*c->proxies));
	if (!copy || !c->proxies) {
		free(copy);
		return MSSL_ENOMEM;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!parse_cidr(tok, &c->proxies[c->n_proxies])) {
			rc = mssl_ctx_config_error(ctx, err, S, "trusted_proxies",
						   "mssld.proxy",
						   N_("\"%s\" is not an IP address or address/prefix length"),
						   tok);
			break;
		}
		c->n_proxies++;
	}
	free(copy);
	return rc;
}

int mssld_conf_read(mssl_ctx *ctx, struct mssld_conf *c, mssl_error *err)
{
	const char *v;
	int64_t port;
	uint8_t a[16];
	int family, rc;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < MSSLD_ARRAY_SIZE(ikeys); i++) {
		rc = mssl_ctx_config_int(ctx, S, ikeys[i].key, ikeys[i].min,
					 ikeys[i].max, ikeys[i].dflt,
					 (int64_t *)((char *)c + ikeys[i].off),
					 err);
		if (rc < 0)
			return rc;
	}
	if ((rc = dup_opt(ctx, "listen", &c->listen)) < 0 ||
	    (rc = dup_opt(ctx, "tls_cert", &c->tls_cert)) < 0 ||
	    (rc = dup_opt(ctx, "tls_key", &c->tls_key)) < 0 ||
	    (rc = dup_opt(ctx, "tls_pin_file", &c->tls_pin_file)) < 0 ||
	    (rc = dup_opt(ctx, "tls_priority", &c->tls_priority)) < 0 ||
	    (rc = dup_opt(ctx, "log_file", &c->log_file)) < 0)
		return rc;
	if (!c->listen && !(c->listen = strdup("127.0.0.1")))
		return MSSL_ENOMEM;
	if (!c->tls_priority && !(c->tls_priority = strdup(DEFAULT_PRIORITY)))
		return MSSL_ENOMEM;
	if (!parse_addr(c->listen, &family, a))
		return mssl_ctx_config_error(ctx, err, S, "listen",
					     "mssld.listen",
					     N_("\"%s\" is not a numeric IPv4 or IPv6 address"),
					     c->listen);
	rc = mssl_ctx_config_int(ctx, S, "port", 1, 65535,
				 c->tls_cert ? 8443 : 8080, &port, err);
	if (rc < 0)
		return rc;
	c->port = (int)port;
	if ((rc = mssl_ctx_config_bool(ctx, S, "allow_plain_public", 0,
				       &c->allow_plain_public, err)) < 0)
		return rc;
	if (!c->tls_cert != !c->tls_key)
		return mssl_ctx_config_error(ctx, err, S,
					     c->tls_cert ? "tls_cert" : "tls_key",
					     "mssld.tls_pair",
					     N_("give tls_cert and tls_key together (files or pkcs11: URIs)"));
	/*
	 * Plain HTTP carries session cookies and tokens in the clear: only
	 * behind a proxy on this host, unless the operator says otherwise.
	 */
	if (!c->tls_cert && !c->allow_plain_public &&
	    !mssld_addr_is_loopback(c->listen))
		return mssl_ctx_config_error(ctx, err, S, "listen",
					     "mssld.plain_public",
					     N_("plain HTTP may listen only on a loopback address (behind a TLS proxy); set tls_cert and tls_key, or allow_plain_public = yes"));
	c->log_level = MSSL_LOG_INFO;
	if ((v = mssl_ctx_config_get(ctx, S, "log_level"))) {
		for (i = 0; i < MSSLD_ARRAY_SIZE(level_names); i++)
			if (strcmp(v, level_names[i]) == 0)
				break;
		if (i == MSSLD_ARRAY_SIZE(level_names))
			return mssl_ctx_config_error(ctx, err, S, "log_level",
						     "config.log_level",
						     N_("\"%s\" is not a log level: use error, warning, info or debug"),
						     v);
		c->log_level = (int)i;
	}
	if (c->log_file && c->log_file[0] != '/')
		return mssl_ctx_config_error(ctx, err, S, "log_file",
					     "config.absolute_path",
					     N_("must be an absolute file path"));
	return read_proxies(ctx, c, err);
}

void mssld_conf_free(struct mssld_conf *c)
{
	free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_pin_file);
	free(c->tls_priority);
	free(c->proxies);
	free(c->log_file);
	memset(c, 0, sizeof(*c));
}
