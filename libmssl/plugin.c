/*
 * The plugin loader and the services the host gives plugins.
 *
 * A plugin is refused, with a message naming its file and both ABI
 * versions, when: it lacks the entry symbol, its ABI major differs, its
 * minor is newer than ours, its struct is smaller than its minor implies,
 * its kind is unknown or not the kind asked for, its name differs from
 * the file's or is already loaded, its section holds keys it does not
 * declare, or its init fails (then fini is not called).  Built-ins pass
 * the same checks.
 */
#include "ctx.h"
#include "report.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

/* The size of a struct up to and including 'member'. */
#define SIZE_UPTO(type, member)                                              \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* Size of struct mssl_plugin as of each minor of the current major. */
static const size_t plugin_size_by_minor[] = {
	sizeof(struct mssl_plugin), /* 1.0 */
	sizeof(struct mssl_plugin), /* 1.1 */
	sizeof(struct mssl_plugin), /* 1.2 */
	sizeof(struct mssl_plugin), /* 1.3 */
	sizeof(struct mssl_plugin), /* 1.4 */
	sizeof(struct mssl_plugin), /* 1.5 */
};

/* Size of struct mssl_store_ops as of each minor of the current major. */
static const size_t store_ops_size_by_minor[] = {
	SIZE_UPTO(struct mssl_store_ops, mail_retry), /* 1.0 */
	SIZE_UPTO(struct mssl_store_ops, ledger_reserial), /* 1.1 */
	SIZE_UPTO(struct mssl_store_ops, unlock_set_used), /* 1.2 */
	SIZE_UPTO(struct mssl_store_ops, unlock_set_used), /* 1.3: LAZY */
	SIZE_UPTO(struct mssl_store_ops, remind_each), /* 1.4: reminders */
	SIZE_UPTO(struct mssl_store_ops, cert_match), /* 1.5: cert_match */
};

/* Size of struct mssl_validator_ops as of each minor. */
static const size_t validator_ops_size_by_minor[] = {
	sizeof(struct mssl_validator_ops), /* 1.0 */
	sizeof(struct mssl_validator_ops), /* 1.1 */
	sizeof(struct mssl_validator_ops), /* 1.2 */
	sizeof(struct mssl_validator_ops), /* 1.3 */
	sizeof(struct mssl_validator_ops), /* 1.4 */
	sizeof(struct mssl_validator_ops), /* 1.5 */
};

/* Size of struct mssl_ca_ops as of each minor. */
static const size_t ca_ops_size_by_minor[] = {
	SIZE_UPTO(struct mssl_ca_ops, crl), /* 1.0 */
	SIZE_UPTO(struct mssl_ca_ops, caps), /* 1.1 */
	SIZE_UPTO(struct mssl_ca_ops, caps), /* 1.2 */
	SIZE_UPTO(struct mssl_ca_ops, caps), /* 1.3 */
	SIZE_UPTO(struct mssl_ca_ops, caps), /* 1.4 */
	SIZE_UPTO(struct mssl_ca_ops, caps), /* 1.5 */
};

/* ---- host services ---------------------------------------------------- */

/*
 * The detail of a plugin's failure, per thread until the host reads it:
 * the plugin's format (a msgid marked with MSSL_N_) formatted in English
 * and from its zh_TW translation, like the host's own messages.
 */
static __thread struct {
	int code;
	char id[64];
	char msg[512];
	char msg_zh[512];
} plugin_err;

static void plugin_err_format(const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	vsnprintf(plugin_err.msg, sizeof(plugin_err.msg), fmt, aq);
	va_end(aq);
	vsnprintf(plugin_err.msg_zh, sizeof(plugin_err.msg_zh),
		  mssl__tr_zh(fmt), ap);
}

static void *h_alloc(void *hctx, size_t n)
{
	return calloc(1, n ? n : 1);
}

static void *h_realloc(void *hctx, void *p, size_t n)
{
	return realloc(p, n);
}

static void h_free(void *hctx, void *p)
{
	free(p);
}

static char *h_strdup(void *hctx, const char *s)
{
	return s ? strdup(s) : NULL;
}

static void h_wipe_free(void *hctx, void *p, size_t n)
{
	if (!p)
		return;
	gnutls_memset(p, 0, n);
	free(p);
}

static void h_log(void *hctx, int level, const char *fmt, ...)
{
	struct mssl__plugin *pl = hctx;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mssl__log(pl->ctx, level, "%s: %s", pl->p ? pl->p->name : "plugin",
		  buf);
}

static void h_error(void *hctx, int code, const char *id, const char *fmt,
		    ...)
{
	va_list ap;

	plugin_err.code = code;
	snprintf(plugin_err.id, sizeof(plugin_err.id), "%s", id ? id : "");
	va_start(ap, fmt);
	plugin_err_format(fmt, ap);
	va_end(ap);
}

static const char *h_config_get(void *hctx, const char *key)
{
	struct mssl__plugin *pl = hctx;

	return mssl__config_get(pl->ctx->cfg, pl->p->name, key);
}

/*
 * The key travels in the id ("config.<key>") so the host can add file and
 * line.
 */
static int h_config_error(void *hctx, const char *key, const char *fmt, ...)
{
	struct mssl__plugin *pl = hctx;
	va_list ap;

	plugin_err.code = MSSL_ECONFIG;
	snprintf(plugin_err.id, sizeof(plugin_err.id), "config.%s",
		 key ? key : "value");
	va_start(ap, fmt);
	plugin_err_format(fmt, ap);
	va_end(ap);
	(void)pl;
	return MSSL_ECONFIG;
}

static int64_t h_now(void *hctx)
{
	struct mssl__plugin *pl = hctx;

	return mssl__now(pl->ctx);
}

static int h_random(void *hctx, void *buf, size_t n)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, buf, n) == 0 ? 0 : MSSL_ECRYPTO;
}

const struct mssl_host mssl__host = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_host),
	.alloc = h_alloc,
	.realloc = h_realloc,
	.free = h_free,
	.strdup = h_strdup,
	.wipe_free = h_wipe_free,
	.log = h_log,
	.error = h_error,
	.config_get = h_config_get,
	.config_error = h_config_error,
	.now = h_now,
	.random = h_random,
	/* Validators write straight into the report. */
	.finding = mssl__finding_add,
	.verdict = mssl__verdict_add,
};

int mssl__plugin_error(mssl_ctx *ctx, int rc, mssl_error *err)
{
	if (plugin_err.code) {
		mssl__error_set(err, rc, plugin_err.id[0] ? plugin_err.id :
							    "plugin.error",
				NULL, N_("a plugin failed: %s"),
				plugin_err.msg);
		mssl__error_zh(err, N_("a plugin failed: %s"),
			       plugin_err.msg_zh);
		plugin_err.code = 0;
	} else {
		mssl__error_set(err, rc, "plugin.error", NULL,
				N_("a plugin failed: %s"), mssl_strerror(rc));
	}
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case MSSL_PLUGIN_VALIDATOR:
		return "validator";
	case MSSL_PLUGIN_STORE:
		return "store";
	case MSSL_PLUGIN_CA:
		return "CA";
	default:
		return "unknown";
	}
}

/* Plugin names are file names in the plugin directory: nothing else. */
static bool name_ok(const char *name)
{
	const char *c;

	if (!name || !*name || strlen(name) > 64)
		return false;
	for (c = name; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
		    *c != '-' && *c != '_')
			return false;
	return true;
}

#define REFUSE(id, ...)                                                      \
	do {                                                                 \
		rc = mssl__error_set(err, MSSL_EPLUGIN, id, "plugin",        \
				     __VA_ARGS__);                           \
		goto out;                                                    \
	} while (0)

/* Every ops struct begins with major, minor and size: check them alike. */
struct ops_head {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;
};

static int check_ops(const struct mssl__plugin *pl, uint32_t kind,
		     mssl_error *err)
{
	const struct ops_head *h = pl->p->ops;
	const size_t *sizes;
	size_t i;
	int rc = 0;

	if (kind == MSSL_PLUGIN_STORE)
		sizes = store_ops_size_by_minor;
	else if (kind == MSSL_PLUGIN_VALIDATOR)
		sizes = validator_ops_size_by_minor;
	else if (kind == MSSL_PLUGIN_CA)
		sizes = ca_ops_size_by_minor;
	else
		return 0;
	if (!h)
		REFUSE("plugin.ops",
		       N_("plugin %s (%s, ABI %u.%u) has no operations (host ABI %u.%u)"),
		       pl->origin, pl->p->name, pl->p->abi_major,
		       pl->p->abi_minor, MSSL_PLUGIN_ABI_MAJOR,
		       MSSL_PLUGIN_ABI_MINOR);
	if (h->abi_major != MSSL_PLUGIN_ABI_MAJOR ||
	    h->abi_minor > MSSL_PLUGIN_ABI_MINOR)
		REFUSE("plugin.ops_abi",
		       N_("plugin %s: operations ABI %u.%u; this host supports %u.0 to %u.%u"),
		       pl->origin, h->abi_major, h->abi_minor,
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MAJOR,
		       MSSL_PLUGIN_ABI_MINOR);
	if (h->size < sizes[h->abi_minor])
		REFUSE("plugin.ops_size",
		       N_("plugin %s: operations struct is %zu bytes, smaller than the %zu bytes of ABI %u.%u (host ABI %u.%u)"),
		       pl->origin, h->size, sizes[h->abi_minor],
		       h->abi_major, h->abi_minor, MSSL_PLUGIN_ABI_MAJOR,
		       MSSL_PLUGIN_ABI_MINOR);
	/*
	 * Every operation of the plugin's minor must be there: a NULL one
	 * would crash the host the first time it is needed.
	 */
	for (i = 0; sizeof(*h) + (i + 1) * sizeof(void (*)(void)) <=
		    sizes[h->abi_minor];
	     i++) {
		void (*fn)(void);

		memcpy(&fn,
		       (const char *)h + sizeof(*h) + i * sizeof(void (*)(void)),
		       sizeof(fn));
		if (!fn)
			REFUSE("plugin.ops_missing",
			       N_("plugin %s (ABI %u.%u) leaves operation %zu unimplemented (host ABI %u.%u)"),
			       pl->origin, h->abi_major, h->abi_minor, i + 1,
			       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	}
out:
	return rc;
}

/* Check the plugin's descriptor; the messages name file and versions. */
static int check_descriptor(mssl_ctx *ctx, struct mssl__plugin *pl,
			    const char *name, uint32_t kind, mssl_error *err)
{
	const struct mssl_plugin *p = pl->p;
	const struct mssl__plugin *o;
	int rc = 0;

	if (!p)
		REFUSE("plugin.entry",
		       N_("plugin %s: mssl_plugin_entry returned nothing (host ABI %u.%u)"),
		       pl->origin, MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	if (p->abi_major != MSSL_PLUGIN_ABI_MAJOR)
		REFUSE("plugin.abi_major",
		       N_("plugin %s is built for ABI %u.%u; this host has ABI %u.%u and accepts only major %u"),
		       pl->origin, p->abi_major, p->abi_minor,
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR,
		       MSSL_PLUGIN_ABI_MAJOR);
	if (p->abi_minor > MSSL_PLUGIN_ABI_MINOR)
		REFUSE("plugin.abi_minor",
		       N_("plugin %s is built for ABI %u.%u, newer than this host's ABI %u.%u; upgrade mssl"),
		       pl->origin, p->abi_major, p->abi_minor,
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	if (p->size < plugin_size_by_minor[p->abi_minor])
		REFUSE("plugin.size",
		       N_("plugin %s (ABI %u.%u) declares a %zu-byte struct mssl_plugin, smaller than the %zu bytes of its ABI (host ABI %u.%u)"),
		       pl->origin, p->abi_major, p->abi_minor, p->size,
		       plugin_size_by_minor[p->abi_minor],
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	if (strcmp(kind_name(p->kind), "unknown") == 0)
		REFUSE("plugin.kind",
		       N_("plugin %s (ABI %u.%u) is of unknown kind %u (host ABI %u.%u knows validator, store and CA)"),
		       pl->origin, p->abi_major, p->abi_minor, p->kind,
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	if (kind && p->kind != kind)
		REFUSE("plugin.wrong_kind",
		       N_("plugin %s (ABI %u.%u) is a %s plugin but is configured as a %s (host ABI %u.%u)"),
		       pl->origin, p->abi_major, p->abi_minor,
		       kind_name(p->kind), kind_name(kind),
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	if (!p->name || !p->init || strcmp(p->name, name) != 0)
		REFUSE("plugin.name",
		       N_("plugin %s (ABI %u.%u) calls itself \"%s\", not \"%s\", or has no init (host ABI %u.%u)"),
		       pl->origin, p->abi_major, p->abi_minor,
		       p->name ? p->name : "", name, MSSL_PLUGIN_ABI_MAJOR,
		       MSSL_PLUGIN_ABI_MINOR);
	for (o = ctx->plugins; o; o = o->next)
		if (strcmp(o->p->name, p->name) == 0)
			REFUSE("plugin.duplicate",
			       N_("plugin %s (ABI %u.%u): a plugin named \"%s\" is already loaded from %s (host ABI %u.%u)"),
			       pl->origin, p->abi_major, p->abi_minor,
			       p->name, o->origin, MSSL_PLUGIN_ABI_MAJOR,
			       MSSL_PLUGIN_ABI_MINOR);
	rc = check_ops(pl, p->kind, err);
out:
	return rc;
}

static int open_entry(mssl_ctx *ctx, struct mssl__plugin *pl,
		      const char *name, mssl_error *err)
{
	mssl_plugin_entry_fn entry = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < ctx->n_builtins; i++) {
		const struct mssl_plugin *p = ctx->builtins[i]();

		if (p && p->name && strcmp(p->name, name) == 0) {
			pl->origin = strdup("built-in");
			pl->p = p;
			return pl->origin ? 0 : MSSL_ENOMEM;
		}
	}
	pl->origin = mssl__asprintf("%s/%s.so", ctx->plugin_dir, name);
	if (!pl->origin)
		return MSSL_ENOMEM;
	pl->dl = dlopen(pl->origin, RTLD_NOW | RTLD_LOCAL);
	if (!pl->dl)
		REFUSE("plugin.open",
		       N_("plugin %s cannot be loaded (host ABI %u.%u): %s"),
		       pl->origin, MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR,
		       dlerror());
	*(void **)&entry = dlsym(pl->dl, MSSL_PLUGIN_ENTRY_SYMBOL);
	if (!entry)
		REFUSE("plugin.symbol",
		       N_("%s is not an mssl plugin: it has no %s symbol (host ABI %u.%u)"),
		       pl->origin, MSSL_PLUGIN_ENTRY_SYMBOL,
		       MSSL_PLUGIN_ABI_MAJOR, MSSL_PLUGIN_ABI_MINOR);
	pl->p = entry();
out:
	return rc;
}

static void plugin_free(struct mssl__plugin *pl)
{
	if (!pl)
		return;
	if (pl->initialised && pl->p->fini)
		pl->p->fini(pl->state);
	if (pl->dl) {
		mssl__tr_forget();
		dlclose(pl->dl);
	}
	free(pl->origin);
	free(pl);
}

int mssl__plugin_load(mssl_ctx *ctx, const char *name, uint32_t kind,
		      struct mssl__plugin **out, mssl_error *err)
{
	struct mssl__plugin *pl = NULL, **tail;
	int rc;

	if (out)
		*out = NULL;
	if (!name_ok(name))
		return mssl__error_set(err, MSSL_EPLUGIN, "plugin.bad_name",
				       "plugin",
				       N_("\"%s\" is not a plugin name: use lower-case letters, digits and '-'; plugins load only from the plugin directory"),
				       name ? name : "");
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return MSSL_ENOMEM;
	pl->ctx = ctx;
	rc = open_entry(ctx, pl, name, err);
	if (rc < 0)
		goto out;
	rc = check_descriptor(ctx, pl, name, kind, err);
	if (rc < 0)
		goto out;
	rc = mssl__config_check_keys(ctx->cfg, name, pl->p->config_keys, err);
	if (rc < 0)
		goto out;
	plugin_err.code = 0;
	rc = pl->p->init(&mssl__host, pl, &pl->state);
	if (rc < 0) {
		if (plugin_err.code == MSSL_ECONFIG &&
		    strncmp(plugin_err.id, "config.", 7) == 0) {
			/* The id is "config.<key>": add file and line. */
			const char *key = plugin_err.id + strlen("config.");

			rc = mssl__config_error_text(ctx->cfg, err, name, key,
						     "config.plugin_value",
						     plugin_err.msg,
						     plugin_err.msg_zh);
		} else {
			rc = mssl__error_set(err, MSSL_EPLUGIN, "plugin.init",
					     "plugin",
					     N_("plugin %s (ABI %u.%u) failed to start (host ABI %u.%u): %s"),
					     pl->origin, pl->p->abi_major,
					     pl->p->abi_minor,
					     MSSL_PLUGIN_ABI_MAJOR,
					     MSSL_PLUGIN_ABI_MINOR,
					     plugin_err.code ? plugin_err.msg :
							       mssl_strerror(rc));
			if (plugin_err.code)
				mssl__error_zh(err,
					       N_("plugin %s (ABI %u.%u) failed to start (host ABI %u.%u): %s"),
					       pl->origin, pl->p->abi_major,
					       pl->p->abi_minor,
					       MSSL_PLUGIN_ABI_MAJOR,
					       MSSL_PLUGIN_ABI_MINOR,
					       plugin_err.msg_zh);
		}
		plugin_err.code = 0;
		goto out;
	}
	pl->initialised = true;
	for (tail = &ctx->plugins; *tail; tail = &(*tail)->next)
		;
	*tail = pl;
	if (out)
		*out = pl;
	mssl__log(ctx, MSSL_LOG_DEBUG, "loaded %s plugin %s %s from %s",
		  kind_name(pl->p->kind), pl->p->name,
		  pl->p->version ? pl->p->version : "", pl->origin);
	pl = NULL;
out:
	plugin_free(pl);
	return rc;
}

void mssl__plugins_unload(mssl_ctx *ctx)
{
	/* Reverse load order: later plugins may depend on earlier ones. */
	while (ctx->plugins) {
		struct mssl__plugin **pp = &ctx->plugins;

		while ((*pp)->next)
			pp = &(*pp)->next;
		plugin_free(*pp);
		*pp = NULL;
	}
}
