/* The library context and loaded plugins (internal). */
#ifndef MSSL_CTX_H
#define MSSL_CTX_H

#include <pthread.h>

#include "internal.h"
#include "conf.h"

#include "checks.h"

/* A loaded plugin; its address is the hctx handed to the plugin. */
struct mssl__plugin {
	mssl_ctx *ctx;
	char *origin; /* file path, or "built-in" */
	void *dl; /* dlopen handle, NULL for built-ins */
	const struct mssl_plugin *p;
	void *state;
	bool initialised;
	struct mssl__plugin *next;
};

/* [mail]: the SMTP server the outbox is sent through (mail.c). */
enum { MSSL__MAIL_STARTTLS, MSSL__MAIL_TLS, MSSL__MAIL_NONE };
#define MSSL__REMIND_MAX 10 /* [mail] remind_days values at most */
struct mssl__mail_conf {
	char *server; /* NULL: mail is queued, not sent */
	int port;
	int security; /* MSSL__MAIL_* */
	char *username; /* NULL: no authentication */
	char *password_file; /* read at each flush, never kept */
	char *from;
	int retry_s; /* first retry delay; doubles up to a day */
	int max_attempts;
	char *ca_file; /* NULL: the system's CAs */
	/* Expiry reminders: thresholds in days, largest first; none: off. */
	int remind_days[MSSL__REMIND_MAX];
	size_t n_remind_days;
};

/* [login]: challenges, sessions, throttling (login.c). */
struct mssl__login_conf {
	char *origin; /* what the card signs; NULL: logins refused */
	int challenge_ttl_s;
	int clock_skew_s;
	int session_idle_s;
	int session_max_s;
	int max_failures_card; /* within throttle_window_s */
	int max_failures_account;
	int throttle_window_s;
	/* login.c: the challenge key and the card key cache; NULL: none. */
	struct mssl__login_state *state;
};

/* [cards]: the internal card CA and the SO PIN master secret (card.c). */
struct mssl__cards_conf {
	char *ca_cert_file;
	char *ca_key; /* a file or a pkcs11: URI */
	char *master_secret_file; /* owner-only; read when needed */
	int cert_days;
	int unlock_ttl_s;
	void *ca_crt; /* gnutls_x509_crt_t, loaded at open; NULL: none */
};

struct mssl_ctx {
	struct mssl__config *cfg;
	char *plugin_dir;
	char *store_name;
	char *ca_name;
	char **validators;
	size_t n_validators;
	char *psl_file;
	char *iso_codes_dir;
	int log_level;

	mssl_plugin_entry_fn *builtins;
	size_t n_builtins;

	struct mssl__plugin *plugins; /* load order */
	struct mssl__plugin *store;
	const struct mssl_store_ops *sops;

	/* Store connections not in use (one per concurrent caller). */
	pthread_mutex_t pool_lock;
	void **pool;
	size_t pool_n, pool_cap;

	int64_t (*now)(void *ud);
	void *now_ud;
	void (*log)(void *ud, int level, const char *msg);
	void *log_ud;

	psl_ctx_t *psl;
	struct mssl_countries *countries;
	bool open;

	/* [issuance]: the CA's policy (mssl.conf(5)). */
	struct mssl__policy {
		int max_years;
		int64_t max_validity; /* seconds; 0: CA/B Forum schedule */
		char **vendors;
		size_t n_vendors;
		char *crl_url;
		char *ca_issuers_url;
		char **policy_oids;
		size_t n_policy_oids;
		int renewal_window_days;
		int refund_window_days;
		int pending_timeout_s;
		char *crl_file; /* where the current CRL is written, or NULL */
		int crl_days; /* nextUpdate - thisUpdate */
	} policy;
	struct mssl__plugin *ca;
	void *ca_crt; /* gnutls_x509_crt_t of the issuing CA, asked once */
	struct mssl__mail_conf mail;
	struct mssl__login_conf login;
	struct mssl__cards_conf cards;

	/* Sections a program reads itself (mssl_ctx_claim_section). */
	struct mssl__claim {
		char *section;
		char **keys; /* NULL-terminated */
	} *claims;
	size_t n_claims;
};

/* Current time through the context's clock. */
int64_t mssl__now(mssl_ctx *ctx);

/* Log through the context's sink. */
void mssl__log(mssl_ctx *ctx, int level, const char *fmt, ...)
	MSSL_PRINTF(3, 4);

/* The host services table (one for all plugins). */
extern const struct mssl_host mssl__host;

/*
 * Load plugin 'name' of 'kind' (from the built-ins or plugin_dir/name.so),
 * check its ABI, its config section and run init.  On success the plugin
 * is appended to ctx->plugins.  Refusals name the file and both versions.
 */
int mssl__plugin_load(mssl_ctx *ctx, const char *name, uint32_t kind,
		      struct mssl__plugin **out, mssl_error *err);

/* fini (if initialised) and dlclose every plugin, in reverse order. */
void mssl__plugins_unload(mssl_ctx *ctx);

/*
 * Take the detail a plugin reported through host->error on this thread
 * (if any) into err as code 'rc', under a translated lead-in.
 * Returns rc.
 */
int mssl__plugin_error(mssl_ctx *ctx, int rc, mssl_error *err);

/* Store connections from the pool. */
int mssl__conn_get(mssl_ctx *ctx, void **conn, mssl_error *err);
void mssl__conn_put(mssl_ctx *ctx, void *conn);

#endif
