/*
 * mssl_ctx: configuration, loaded plugins, the store's connection pool,
 * clock and log sink.
 */
#include "ctx.h"
#include "checks.h"
#include "mail.h"
#include "login.h"

#include <gnutls/x509.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Keys of the [mssl] section; see doc/mssl.conf.5. */
static const char *const core_keys[] = {
	"plugin_dir", "store", "validators", "ca", "log_level",
	"psl_file", "iso_codes_dir", NULL,
};

static const char *const level_names[] = { "error", "warning", "info",
					   "debug" };

/* Keys of the [issuance] section. */
static const char *const issuance_keys[] = {
	"max_years", "max_validity_days", "server_vendors", "crl_url",
	"ca_issuers_url", "policy_oids", "renewal_window_days",
	"refund_window_days", "pending_timeout_s", "crl_file", "crl_days",
	NULL,
};

#define DEFAULT_VENDORS "Apache, nginx, IIS, Tomcat, Other"

static int apply_issuance(mssl_ctx *ctx, mssl_error *err);
static int check_claims(mssl_ctx *ctx, mssl_error *err);
static void claims_free(mssl_ctx *ctx);

MSSL_API int mssl_ctx_new(mssl_ctx **out)
{
	mssl_ctx *ctx;

	return_val_if_fail(out, MSSL_EINVAL);
	*out = NULL;
	mssl__i18n_init();
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return MSSL_ENOMEM;
	pthread_mutex_init(&ctx->pool_lock, NULL);
	ctx->log_level = MSSL_LOG_WARNING;
	ctx->plugin_dir = strdup(PLUGINDIR);
	ctx->store_name = strdup("store-sqlite");
	ctx->psl_file = strdup(PSLFILE);
	ctx->iso_codes_dir = strdup(ISOCODESDIR);
	if (!ctx->plugin_dir || !ctx->store_name || !ctx->psl_file ||
	    !ctx->iso_codes_dir || apply_issuance(ctx, NULL) < 0 ||
	    mssl__mail_config(ctx, NULL) < 0 ||
	    mssl__login_config(ctx, NULL) < 0) {
		mssl_ctx_free(ctx);
		return MSSL_ENOMEM;
	}
	*out = ctx;
	return 0;
}

MSSL_API int mssl_ctx_add_builtin(mssl_ctx *ctx, mssl_plugin_entry_fn entry)
{
	mssl_plugin_entry_fn *v;

	const struct mssl_plugin *p, *q;
	size_t i;

	return_val_if_fail(ctx && entry, MSSL_EINVAL);
	return_val_if_fail(!ctx->open, MSSL_ESTATE);
	/* Two built-ins of one name: which one loads would be a guess. */
	p = entry();
	for (i = 0; p && p->name && i < ctx->n_builtins; i++) {
		q = ctx->builtins[i]();
		if (q && q->name && strcmp(p->name, q->name) == 0)
			return MSSL_EEXIST;
	}
	v = realloc(ctx->builtins, (ctx->n_builtins + 1) * sizeof(*v));
	if (!v)
		return MSSL_ENOMEM;
	v[ctx->n_builtins++] = entry;
	ctx->builtins = v;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *c = strdup(v);

	if (!c)
		return MSSL_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Read and check the [mssl] section. */
static int apply_core(mssl_ctx *ctx, mssl_error *err)
{
	const struct mssl__config *cfg = ctx->cfg;
	const char *v;
	size_t i;
	int rc;

	rc = mssl__config_check_keys(cfg, "mssl", core_keys, err);
	if (rc < 0)
		return rc;
	if ((v = mssl__config_get(cfg, "mssl", "plugin_dir"))) {
		if (v[0] != '/')
			return mssl__config_error(cfg, err, "mssl", "plugin_dir",
						  "config.absolute_path",
						  N_("must be an absolute directory path"));
		if ((rc = set_str(&ctx->plugin_dir, v)) < 0)
			return rc;
	}
	if ((v = mssl__config_get(cfg, "mssl", "store")) &&
	    (rc = set_str(&ctx->store_name, v)) < 0)
		return rc;
	if ((v = mssl__config_get(cfg, "mssl", "ca")) && *v &&
	    (rc = set_str(&ctx->ca_name, v)) < 0)
		return rc;
	if ((v = mssl__config_get(cfg, "mssl", "validators"))) {
		mssl__strv_free(ctx->validators);
		rc = mssl__split_list(v, &ctx->validators, &ctx->n_validators);
		if (rc < 0)
			return rc;
	}
	if ((v = mssl__config_get(cfg, "mssl", "psl_file")) &&
	    (rc = set_str(&ctx->psl_file, v)) < 0)
		return rc;
	if ((v = mssl__config_get(cfg, "mssl", "iso_codes_dir")) &&
	    (rc = set_str(&ctx->iso_codes_dir, v)) < 0)
		return rc;
	if ((v = mssl__config_get(cfg, "mssl", "log_level"))) {
		for (i = 0; i < MSSL_ARRAY_SIZE(level_names); i++)
			if (strcmp(v, level_names[i]) == 0)
				break;
		if (i == MSSL_ARRAY_SIZE(level_names))
			return mssl__config_error(cfg, err, "mssl", "log_level",
						  "config.log_level",
						  N_("\"%s\" is not a log level: use error, warning, info or debug"),
						  v);
		ctx->log_level = (int)i;
	}
	return 0;
}

static int get_url(const struct mssl__config *cfg, const char *key,
		   char **out, mssl_error *err)
{
	const char *v = mssl__config_get(cfg, "issuance", key);

	if (!v || !*v)
		return 0;
	if (strncmp(v, "http://", 7) != 0 || strchr(v, ' '))
		return mssl__config_error(cfg, err, "issuance", key,
					  "config.url",
					  N_("\"%s\" must be an http:// URL (relying parties fetch it without TLS)"),
					  v);
	return set_str(out, v);
}

/* Dotted decimal, first arc 0-2, at least two arcs, no empty arc. */
static bool oid_ok(const char *s)
{
	size_t arcs = 0;

	if (!s || s[0] < '0' || s[0] > '2' || s[1] != '.')
		return false;
	while (*s) {
		if (*s < '0' || *s > '9')
			return false;
		if (*s == '0' && s[1] >= '0' && s[1] <= '9')
			return false; /* no leading zeros */
		while (*s >= '0' && *s <= '9')
			s++;
		arcs++;
		if (*s == '.' && (s[1] < '0' || s[1] > '9'))
			return false;
		if (*s == '.')
			s++;
	}
	return arcs >= 2;
}

/* Read and check the [issuance] section: the CA's policy. */
static int apply_issuance(mssl_ctx *ctx, mssl_error *err)
{
	const struct mssl__config *cfg = ctx->cfg;
	struct mssl__policy *p = &ctx->policy;
	const char *v;
	int days, rc;
	size_t i;

	if ((rc = mssl__config_check_keys(cfg, "issuance", issuance_keys,
					  err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "max_years", 1, 10, 3,
			  &p->max_years, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "max_validity_days", 0, 3650, 0,
			  &days, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "renewal_window_days", 1, 365, 30,
			  &p->renewal_window_days, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "refund_window_days", 0, 365, 7,
			  &p->refund_window_days, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "pending_timeout_s", 1, 86400, 600,
			  &p->pending_timeout_s, err)) < 0 ||
	    (rc = get_url(cfg, "crl_url", &p->crl_url, err)) < 0 ||
	    (rc = get_url(cfg, "ca_issuers_url", &p->ca_issuers_url, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "issuance", "crl_days", 1, 10, 7, &p->crl_days,
			  err)) < 0)
		return rc;
	v = mssl__config_get(cfg, "issuance", "crl_file");
	if (v && *v && v[0] != '/')
		return mssl__config_error(cfg, err, "issuance", "crl_file",
					  "config.absolute_path",
					  N_("must be an absolute file path"));
	if (v && *v && (rc = set_str(&p->crl_file, v)) < 0)
		return rc;
	p->max_validity = (int64_t)days * 86400;
	v = mssl__config_get(cfg, "issuance", "server_vendors");
	mssl__strv_free(p->vendors);
	rc = mssl__split_list(v ? v : DEFAULT_VENDORS, &p->vendors,
			      &p->n_vendors);
	if (rc < 0)
		return rc;
	if (p->n_vendors == 0)
		return mssl__config_error(cfg, err, "issuance", "server_vendors",
					  "config.empty",
					  N_("name at least one server vendor"));
	mssl__strv_free(p->policy_oids);
	p->policy_oids = NULL;
	p->n_policy_oids = 0;
	v = mssl__config_get(cfg, "issuance", "policy_oids");
	if (v && (rc = mssl__split_list(v, &p->policy_oids,
					&p->n_policy_oids)) < 0)
		return rc;
	for (i = 0; i < p->n_policy_oids; i++)
		if (!oid_ok(p->policy_oids[i]))
			return mssl__config_error(cfg, err, "issuance",
						  "policy_oids", "config.oid",
						  N_("\"%s\" is not an object identifier like 1.3.6.1.4.1.12345.1"),
						  p->policy_oids[i]);
	return 0;
}

/* Sections allowed: [mssl] and one per configured plugin. */
static int check_sections(mssl_ctx *ctx, mssl_error *err)
{
	const char **allowed;
	size_t i, n = 0;
	int rc;

	allowed = calloc(ctx->n_validators + ctx->n_claims + 8,
			 sizeof(*allowed));
	if (!allowed)
		return MSSL_ENOMEM;
	allowed[n++] = "mssl";
	allowed[n++] = "issuance";
	allowed[n++] = "mail";
	allowed[n++] = "login";
	allowed[n++] = "cards";
	allowed[n++] = ctx->store_name;
	if (ctx->ca_name)
		allowed[n++] = ctx->ca_name;
	for (i = 0; i < ctx->n_validators; i++)
		allowed[n++] = ctx->validators[i];
	for (i = 0; i < ctx->n_claims; i++)
		allowed[n++] = ctx->claims[i].section;
	rc = mssl__config_check_sections(ctx->cfg, allowed, err);
	free(allowed);
	return rc;
}

MSSL_API int mssl_ctx_load_config(mssl_ctx *ctx, const char *path,
				  mssl_error *err)
{
	int rc;

	return_val_if_fail(ctx && path, MSSL_EINVAL);
	return_val_if_fail(!ctx->open, MSSL_ESTATE);
	mssl__config_free(ctx->cfg);
	ctx->cfg = NULL;
	rc = mssl__config_load(path, &ctx->cfg, err);
	if (rc < 0)
		return rc;
	rc = apply_core(ctx, err);
	if (rc == 0)
		rc = apply_issuance(ctx, err);
	if (rc == 0)
		rc = mssl__mail_config(ctx, err);
	if (rc == 0)
		rc = mssl__login_config(ctx, err);
	if (rc < 0)
		return rc;
	rc = check_sections(ctx, err);
	if (rc == 0)
		rc = check_claims(ctx, err);
	return rc;
}

MSSL_API int mssl_ctx_open(mssl_ctx *ctx, mssl_error *err)
{
	struct mssl__plugin *store = NULL;
	void *conn = NULL;
	size_t i;
	int rc, version = 0;

	return_val_if_fail(ctx, MSSL_EINVAL);
	return_val_if_fail(!ctx->open, MSSL_ESTATE);
	rc = mssl__plugin_load(ctx, ctx->store_name, MSSL_PLUGIN_STORE, &store,
			       err);
	if (rc < 0)
		goto out;
	for (i = 0; i < ctx->n_validators; i++) {
		rc = mssl__plugin_load(ctx, ctx->validators[i],
				       MSSL_PLUGIN_VALIDATOR, NULL, err);
		if (rc < 0)
			goto out;
	}
	if (ctx->ca_name) {
		rc = mssl__plugin_load(ctx, ctx->ca_name, MSSL_PLUGIN_CA,
				       &ctx->ca, err);
		if (rc < 0)
			goto out;
	}
	ctx->store = store;
	ctx->sops = store->p->ops;
	ctx->open = true;
	/* Open one connection now: it creates or migrates the schema. */
	rc = mssl__conn_get(ctx, &conn, err);
	if (rc < 0)
		goto out;
	rc = ctx->sops->begin(conn, MSSL_TXN_READ);
	if (rc == 0) {
		rc = ctx->sops->schema_version(conn, &version);
		if (rc == 0)
			rc = ctx->sops->commit(conn);
		else
			ctx->sops->rollback(conn);
	}
	if (rc < 0) {
		mssl__plugin_error(ctx, rc, err);
		goto out;
	}
	mssl__log(ctx, MSSL_LOG_INFO, "store %s open, schema version %d",
		  ctx->store_name, version);
out:
	if (conn && rc == 0)
		mssl__conn_put(ctx, conn);
	else if (conn)
		ctx->sops->close(conn);
	if (rc < 0) {
		ctx->open = false;
		ctx->store = NULL;
		ctx->ca = NULL;
		ctx->sops = NULL;
		mssl__plugins_unload(ctx);
	}
	return rc;
}

MSSL_API int mssl_ctx_open_file(const char *config_path, mssl_ctx **out,
				mssl_error *err)
{
	mssl_ctx *ctx = NULL;
	int rc;

	return_val_if_fail(out, MSSL_EINVAL);
	*out = NULL;
	rc = mssl_ctx_new(&ctx);
	if (rc < 0)
		return mssl__error_set(err, rc, "nomem", NULL,
				       N_("out of memory"));
	if (config_path)
		rc = mssl_ctx_load_config(ctx, config_path, err);
	if (rc == 0)
		rc = mssl_ctx_open(ctx, err);
	if (rc < 0) {
		mssl_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

MSSL_API void mssl_ctx_free(mssl_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->pool_n; i++)
		ctx->sops->close(ctx->pool[i]);
	free(ctx->pool);
	if (ctx->ca_crt)
		gnutls_x509_crt_deinit(ctx->ca_crt);
	mssl__plugins_unload(ctx);
	mssl__config_free(ctx->cfg);
	if (ctx->psl)
		psl_free(ctx->psl);
	mssl__countries_free(ctx->countries);
	mssl__strv_free(ctx->validators);
	mssl__strv_free(ctx->policy.vendors);
	mssl__strv_free(ctx->policy.policy_oids);
	free(ctx->policy.crl_url);
	free(ctx->policy.ca_issuers_url);
	free(ctx->policy.crl_file);
	mssl__mail_config_free(&ctx->mail);
	mssl__login_config_free(ctx);
	claims_free(ctx);
	free(ctx->builtins);
	free(ctx->plugin_dir);
	free(ctx->store_name);
	free(ctx->ca_name);
	free(ctx->psl_file);
	free(ctx->iso_codes_dir);
	pthread_mutex_destroy(&ctx->pool_lock);
	free(ctx);
}

MSSL_API void mssl_ctx_set_clock(mssl_ctx *ctx, int64_t (*now)(void *ud),
				 void *ud)
{
	if (!ctx)
		return;
	ctx->now = now;
	ctx->now_ud = ud;
}

MSSL_API void mssl_ctx_set_log(mssl_ctx *ctx,
			       void (*log)(void *ud, int level,
					   const char *msg),
			       void *ud)
{
	if (!ctx)
		return;
	ctx->log = log;
	ctx->log_ud = ud;
}

int64_t mssl__now(mssl_ctx *ctx)
{
	if (ctx && ctx->now)
		return ctx->now(ctx->now_ud);
	return (int64_t)time(NULL);
}

void mssl__log(mssl_ctx *ctx, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (ctx && level > ctx->log_level && !ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ctx && ctx->log)
		ctx->log(ctx->log_ud, level, buf);
	else
		fprintf(stderr, "mssl: %s: %s\n",
			level_names[level < 0 ? 0 : level > 3 ? 3 : level],
			buf);
}

int mssl__conn_get(mssl_ctx *ctx, void **conn, mssl_error *err)
{
	int rc;

	*conn = NULL;
	if (!ctx->open)
		return mssl__error_set(err, MSSL_ESTATE, "ctx.not_open", NULL,
				       N_("the library context is not open"));
	pthread_mutex_lock(&ctx->pool_lock);
	if (ctx->pool_n > 0)
		*conn = ctx->pool[--ctx->pool_n];
	pthread_mutex_unlock(&ctx->pool_lock);
	if (*conn)
		return 0;
	rc = ctx->sops->open(ctx->store->state, conn);
	if (rc < 0)
		return mssl__plugin_error(ctx, rc, err);
	return 0;
}

void mssl__conn_put(mssl_ctx *ctx, void *conn)
{
	void **v;

	if (!conn)
		return;
	pthread_mutex_lock(&ctx->pool_lock);
	if (ctx->pool_n == ctx->pool_cap) {
		size_t nc = ctx->pool_cap ? ctx->pool_cap * 2 : 4;

		v = realloc(ctx->pool, nc * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&ctx->pool_lock);
			ctx->sops->close(conn);
			return;
		}
		ctx->pool = v;
		ctx->pool_cap = nc;
	}
	ctx->pool[ctx->pool_n++] = conn;
	pthread_mutex_unlock(&ctx->pool_lock);
}

int mssl__ctx_store(mssl_ctx *ctx, const struct mssl_store_ops **ops,
		    void **state)
{
	if (!ctx || !ctx->open)
		return MSSL_ESTATE;
	*ops = ctx->sops;
	*state = ctx->store->state;
	return 0;
}

/* The public-suffix list and the ISO 3166 table load on first use. */
psl_ctx_t *mssl__ctx_psl(mssl_ctx *ctx)
{
	pthread_mutex_lock(&ctx->pool_lock);
	if (!ctx->psl && mssl__psl_load(ctx->psl_file, &ctx->psl, NULL) < 0)
		mssl__log(ctx, MSSL_LOG_ERROR,
			  "cannot load the public suffix list %s",
			  ctx->psl_file);
	pthread_mutex_unlock(&ctx->pool_lock);
	return ctx->psl;
}

const struct mssl_countries *mssl__ctx_countries(mssl_ctx *ctx)
{
	pthread_mutex_lock(&ctx->pool_lock);
	if (!ctx->countries &&
	    mssl__countries_load(ctx->iso_codes_dir, &ctx->countries, NULL) <
		    0)
		mssl__log(ctx, MSSL_LOG_ERROR,
			  "cannot load ISO 3166 codes from %s",
			  ctx->iso_codes_dir);
	pthread_mutex_unlock(&ctx->pool_lock);
	return ctx->countries;
}

/* ---------------------------------------------------------------------
 * Sections of programs (mssl_ctx_claim_section): mssld reads [mssld] of
 * the same file, with the same checks as the library's own sections.
 * ------------------------------------------------------------------ */

static const char *const reserved_sections[] = { "mssl", "issuance", "mail",
						 NULL };

static bool section_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' ||
		      s[n] == '_'))
			return false;
	return n > 0 && n <= 64;
}

static void claims_free(mssl_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->n_claims; i++) {
		free(ctx->claims[i].section);
		mssl__strv_free(ctx->claims[i].keys);
	}
	free(ctx->claims);
	ctx->claims = NULL;
	ctx->n_claims = 0;
}

static const struct mssl__claim *find_claim(const mssl_ctx *ctx,
					    const char *section)
{
	size_t i;

	for (i = 0; i < ctx->n_claims; i++)
		if (strcmp(ctx->claims[i].section, section) == 0)
			return &ctx->claims[i];
	return NULL;
}

MSSL_API int mssl_ctx_claim_section(mssl_ctx *ctx, const char *section,
				    const char *const *keys)
{
	struct mssl__claim *v, c = { 0 };
	size_t i, n = 0;

	return_val_if_fail(ctx && section, MSSL_EINVAL);
	return_val_if_fail(section_name_ok(section), MSSL_EINVAL);
	return_val_if_fail(!ctx->cfg && !ctx->open, MSSL_ESTATE);
	for (i = 0; reserved_sections[i]; i++)
		if (strcmp(section, reserved_sections[i]) == 0)
			return MSSL_EEXIST;
	if (find_claim(ctx, section))
		return MSSL_EEXIST;
	while (keys && keys[n])
		n++;
	c.section = strdup(section);
	c.keys = keys ? calloc(n + 1, sizeof(*c.keys)) : NULL;
	for (i = 0; c.keys && i < n; i++)
		if (!(c.keys[i] = strdup(keys[i])))
			break;
	v = realloc(ctx->claims, (ctx->n_claims + 1) * sizeof(*v));
	if (!c.section || (keys && (!c.keys || i < n)) || !v) {
		if (v)
			ctx->claims = v;
		free(c.section);
		mssl__strv_free(c.keys);
		return MSSL_ENOMEM;
	}
	v[ctx->n_claims++] = c;
	ctx->claims = v;
	return 0;
}

/*
 * At load: a claimed section may hold only its declared keys, and may not
 * be the section of a configured plugin (both would read it).
 */
static int check_claims(mssl_ctx *ctx, mssl_error *err)
{
	const struct mssl__claim *c;
	bool plugin;
	size_t i, j;
	int rc;

	for (i = 0; i < ctx->n_claims; i++) {
		c = &ctx->claims[i];
		plugin = strcmp(c->section, ctx->store_name) == 0 ||
			 (ctx->ca_name && strcmp(c->section, ctx->ca_name) == 0);

		for (j = 0; j < ctx->n_validators; j++)
			if (strcmp(c->section, ctx->validators[j]) == 0)
				plugin = true;
		if (plugin && mssl__config_has_section(ctx->cfg, c->section))
			return mssl__config_error(ctx->cfg, err, c->section,
						  NULL, "config.claimed",
						  N_("this section belongs to a program and to a configured plugin of the same name"));
		if (!c->keys) /* another program's: it checks its keys */
			continue;
		rc = mssl__config_check_keys(ctx->cfg, c->section,
					     (const char *const *)c->keys,
					     err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

MSSL_API const char *mssl_ctx_config_get(const mssl_ctx *ctx,
					 const char *section, const char *key)
{
	return_val_if_fail(ctx && section && key, NULL);
	return mssl__config_get(ctx->cfg, section, key);
}

MSSL_API const char *mssl_ctx_config_path(const mssl_ctx *ctx)
{
	return_val_if_fail(ctx, NULL);
	return mssl__config_path(ctx->cfg);
}

MSSL_API int mssl_ctx_config_error(const mssl_ctx *ctx, mssl_error *err,
				   const char *section, const char *key,
				   const char *id, const char *msgid, ...)
{
	va_list ap;
	int rc;

	return_val_if_fail(ctx && section && id && msgid, MSSL_EINVAL);
	va_start(ap, msgid);
	rc = mssl__config_errorv(ctx->cfg, err, section, key, id, msgid, ap);
	va_end(ap);
	return rc;
}

MSSL_API int mssl_ctx_config_int(const mssl_ctx *ctx, const char *section,
				 const char *key, int64_t min, int64_t max,
				 int64_t dflt, int64_t *out, mssl_error *err)
{
	const char *v;
	char *end = NULL;
	long long n;

	return_val_if_fail(ctx && section && key && out && min <= max,
			   MSSL_EINVAL);
	*out = dflt;
	v = mssl__config_get(ctx->cfg, section, key);
	if (!v)
		return 0;
	/* At most 18 digits: no overflow to detect. */
	n = strlen(v) <= 18 ? strtoll(v, &end, 10) : 0;
	if (!*v || !end || *end || n < min || n > max)
		return mssl_ctx_config_error(ctx, err, section, key,
					     "config.range",
					     N_("\"%s\" must be a whole number from %lld to %lld"),
					     v, (long long)min, (long long)max);
	*out = n;
	return 0;
}

MSSL_API int mssl_ctx_config_bool(const mssl_ctx *ctx, const char *section,
				  const char *key, int dflt, int *out,
				  mssl_error *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	const char *v;
	size_t i;

	return_val_if_fail(ctx && section && key && out, MSSL_EINVAL);
	*out = dflt ? 1 : 0;
	v = mssl__config_get(ctx->cfg, section, key);
	if (!v)
		return 0;
	for (i = 0; yes[i]; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return mssl_ctx_config_error(ctx, err, section, key, "config.bool",
				     N_("\"%s\" must be yes or no"), v);
}

MSSL_API const char *mssl_ctx_crl_file(const mssl_ctx *ctx)
{
	return_val_if_fail(ctx, NULL);
	return ctx->policy.crl_file;
}
