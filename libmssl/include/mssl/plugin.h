/*
 * mssl plugin ABI.
 *
 * A plugin is a shared object that includes only this header, never links
 * libmssl, and exports exactly one symbol:
 *
 *	const struct mssl_plugin *mssl_plugin_entry(void);
 *
 * Everything the plugin needs from the host (memory, logging, errors,
 * configuration, clock, random bytes) comes through struct mssl_host.
 *
 * Every struct here that crosses the ABI begins with its version and size.
 * ADD MEMBERS AT THE END ONLY; bump MSSL_PLUGIN_ABI_MINOR when you do, and
 * MSSL_PLUGIN_ABI_MAJOR when an existing member changes meaning or layout.
 * The host refuses a plugin of another major, of a newer minor than its own,
 * or whose struct is smaller than the size that minor implies.
 */
#ifndef MSSL_PLUGIN_H
#define MSSL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MSSL_PLUGIN_ABI_MAJOR 1
#define MSSL_PLUGIN_ABI_MINOR 0

#define MSSL_PLUGIN_ENTRY_SYMBOL "mssl_plugin_entry"

#if defined(__GNUC__)
#define MSSL_PLUGIN_EXPORT __attribute__((visibility("default")))
#define MSSL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MSSL_PLUGIN_EXPORT
#define MSSL_PRINTF(f, a)
#endif

/* Status codes shared by host and plugins: 0 ok, negative MSSL_E... */
#include <mssl/errors.h>

/* Kinds of plugin. */
enum mssl_plugin_kind {
	MSSL_PLUGIN_VALIDATOR = 1,
	MSSL_PLUGIN_STORE = 2,
	MSSL_PLUGIN_CA = 3,
};

/* Plugin flags. */
#define MSSL_PLUGIN_THREAD_SAFE 0x1u /* state may be used from many threads */

/* Log levels for mssl_host.log. */
enum mssl_log_level {
	MSSL_LOG_ERROR = 0,
	MSSL_LOG_WARNING = 1,
	MSSL_LOG_INFO = 2,
	MSSL_LOG_DEBUG = 3,
};

/*
 * Services the host gives a plugin.  The host keeps this struct alive for as
 * long as the plugin is loaded.  'hctx' is the host's handle for this plugin
 * and is passed back to every service.
 *
 * Add members at the end only.
 */
struct mssl_host {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;

	/* Memory.  'free' and 'wipe_free' accept NULL; wipe_free zeroes first. */
	void *(*alloc)(void *hctx, size_t n);
	void *(*realloc)(void *hctx, void *p, size_t n);
	void (*free)(void *hctx, void *p);
	char *(*strdup)(void *hctx, const char *s);
	void (*wipe_free)(void *hctx, void *p, size_t n);

	/* Logging; the host prefixes the plugin name. */
	void (*log)(void *hctx, int level, const char *fmt, ...) MSSL_PRINTF(3, 4);

	/*
	 * Report the detail of a failure the plugin is about to return.
	 * 'code' is the MSSL_E... value returned; 'id' a stable dotted string
	 * ("store.constraint"); the text is English, for operators' logs.
	 * Kept per thread until the host reads it.
	 */
	void (*error)(void *hctx, int code, const char *id, const char *fmt, ...)
		MSSL_PRINTF(4, 5);

	/*
	 * Configuration: the value of 'key' in this plugin's own section
	 * ("[<plugin name>]"), or NULL when absent.  Borrowed; lives as long
	 * as the host.  config_error reports a bad value; the host adds file,
	 * line and key to the message and returns MSSL_ECONFIG.
	 */
	const char *(*config_get)(void *hctx, const char *key);
	int (*config_error)(void *hctx, const char *key, const char *fmt, ...)
		MSSL_PRINTF(3, 4);

	/* Clock: seconds since the epoch (tests may inject time). */
	int64_t (*now)(void *hctx);

	/* Random bytes from the host's CSPRNG; 0 or MSSL_ECRYPTO. */
	int (*random)(void *hctx, void *buf, size_t n);
};

/*
 * What a plugin exports.  Add members at the end only.
 *
 * 'config_keys' lists every key the plugin's section may hold (NULL
 * terminated); the host refuses any other key before init runs.
 * If 'init' fails, 'fini' is not called.
 */
struct mssl_plugin {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;
	uint32_t kind;
	uint32_t flags;
	const char *name;
	const char *version;
	const char *description;
	int (*init)(const struct mssl_host *host, void *hctx, void **state);
	void (*fini)(void *state);
	const void *ops;
	const char *const *config_keys;
};

typedef const struct mssl_plugin *(*mssl_plugin_entry_fn)(void);

/* ---------------------------------------------------------------------
 * Store plugins
 * ------------------------------------------------------------------ */

/* Products an account may buy (bit set). */
#define MSSL_PRODUCT_SSL 0x1u
#define MSSL_PRODUCT_WILDCARD 0x2u
#define MSSL_PRODUCT_EV 0x4u

enum mssl_account_status {
	MSSL_ACCOUNT_ACTIVE = 1,
	MSSL_ACCOUNT_SUSPENDED = 2,
};

enum mssl_ledger_kind {
	MSSL_LEDGER_TOPUP = 1,
	MSSL_LEDGER_CHARGE = 2,
	MSSL_LEDGER_REFUND = 3,
	MSSL_LEDGER_ADJUSTMENT = 4,
};

/*
 * Records.  In calls into the store they are the caller's; in callbacks
 * out of the store every pointer is borrowed and valid only during the
 * callback.  Times are seconds since the epoch.
 */
struct mssl_account_rec {
	const char *id; /* "70759028-01" */
	const char *org_name_en;
	const char *org_name_zh;
	uint32_t products; /* MSSL_PRODUCT_* */
	const char *ev_country; /* jurisdictionCountryName, or NULL */
	const char *ev_state; /* jurisdictionStateOrProvinceName, or NULL */
	const char *ev_locality; /* jurisdictionLocalityName, or NULL */
	const char *ev_category; /* EV businessCategory, or NULL */
	int status; /* enum mssl_account_status */
	int64_t created;
};

struct mssl_domain_rec {
	const char *account_id;
	const char *name; /* lower case, validated by the core */
	int64_t added;
};

struct mssl_contact_rec {
	int64_t id; /* assigned by the store */
	const char *account_id;
	const char *kind; /* "supervisor", "technical", "billing", "other" */
	const char *name;
	const char *email;
	const char *phone;
};

struct mssl_ledger_rec {
	int64_t id; /* assigned by the store, increasing */
	const char *account_id;
	int64_t time;
	int kind; /* enum mssl_ledger_kind */
	int64_t delta; /* cert-years, signed */
	int64_t balance_after; /* never negative */
	const char *actor; /* "operator:alice", "manager:70759028-01/3" */
	const char *memo; /* may be NULL */
	const char *cert_serial; /* hex, may be NULL */
};

/*
 * One audit record.  The core computes 'hash' = SHA-256(prev_hash ||
 * canonical(record)) and the store keeps both; the store never computes
 * or checks them.
 */
struct mssl_audit_rec {
	int64_t seq; /* 1, 2, 3 ... assigned by the core */
	int64_t time;
	const char *actor_role; /* "operator", "manager", "auditor", "anonymous" */
	const char *actor_name;
	const char *account_id; /* account acted upon, may be NULL */
	const char *remote; /* where from: "local:uid=0", "203.0.113.5" */
	const char *action; /* "account.create" */
	const char *object; /* what it concerned, may be NULL */
	const char *outcome; /* "ok", "refused", "failed" */
	const char *detail; /* may be NULL */
	uint8_t prev_hash[32];
	uint8_t hash[32];
};

struct mssl_notice_rec {
	int64_t id; /* assigned by the store */
	int64_t time;
	int64_t expires; /* 0: never */
	const char *account_id; /* NULL: shown to every account */
	const char *title;
	const char *body;
	const char *author;
};

/*
 * A callback may call other operations on the same connection, but not the
 * operation that is iterating.
 */
typedef int (*mssl_account_cb)(void *ud, const struct mssl_account_rec *r);
typedef int (*mssl_domain_cb)(void *ud, const struct mssl_domain_rec *r);
typedef int (*mssl_contact_cb)(void *ud, const struct mssl_contact_rec *r);
typedef int (*mssl_ledger_cb)(void *ud, const struct mssl_ledger_rec *r);
typedef int (*mssl_audit_cb)(void *ud, const struct mssl_audit_rec *r);
typedef int (*mssl_notice_cb)(void *ud, const struct mssl_notice_rec *r);

/* Transaction modes for mssl_store_ops.begin. */
enum mssl_txn_mode {
	MSSL_TXN_READ = 0,
	MSSL_TXN_WRITE = 1, /* takes the write lock at once */
};

/*
 * Store operations.  A connection ('conn') is used by one thread at a time;
 * the host opens one per worker.  All calls other than open/close run
 * inside a transaction the host opened with begin().
 *
 * Returns: 0 ok; MSSL_ENOENT when a named row does not exist;
 * MSSL_EEXIST on a unique-key conflict; MSSL_EBUSY when the store stayed
 * locked past its timeout; MSSL_ESTORE otherwise (with host->error detail).
 * MSSL_ENOENT also when a row refers to a parent that does not exist (e.g.
 * domain_insert for an unknown account).  After any error the host rolls
 * the transaction back: it may be unusable.
 * Iteration ("each") calls cb for every row in the stated order; a non-zero
 * return from cb stops the iteration and is returned.
 *
 * Add members at the end only.
 */
struct mssl_store_ops {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;

	int (*open)(void *state, void **conn);
	void (*close)(void *conn);
	int (*begin)(void *conn, int mode);
	int (*commit)(void *conn);
	int (*rollback)(void *conn);
	/* Schema version of the open store (after migration); in a READ
	 * transaction like every other call. */
	int (*schema_version)(void *conn, int *version);

	/* Accounts. */
	int (*account_insert)(void *conn, const struct mssl_account_rec *r);
	/* Every field but id and created; MSSL_ENOENT when id does not exist. */
	int (*account_update)(void *conn, const struct mssl_account_rec *r);
	int (*account_get)(void *conn, const char *id, mssl_account_cb cb,
			   void *ud);
	/* In id order. */
	int (*account_each)(void *conn, mssl_account_cb cb, void *ud);

	/* Agreed domains: name is unique per account. */
	int (*domain_insert)(void *conn, const struct mssl_domain_rec *r);
	int (*domain_delete)(void *conn, const char *account_id,
			     const char *name);
	/* Every account holding 'name' (exact match), in account order. */
	int (*domain_find)(void *conn, const char *name, mssl_domain_cb cb,
			   void *ud);
	/* In name order. */
	int (*domain_each)(void *conn, const char *account_id,
			   mssl_domain_cb cb, void *ud);

	/* Contacts; id_out receives the new id. */
	int (*contact_insert)(void *conn, const struct mssl_contact_rec *r,
			      int64_t *id_out);
	/* In id order. */
	int (*contact_each)(void *conn, const char *account_id,
			    mssl_contact_cb cb, void *ud);

	/*
	 * Ledger.  The store refuses a negative balance_after (MSSL_EBALANCE)
	 * as a last line of defence; the core computes it.
	 */
	int (*ledger_insert)(void *conn, const struct mssl_ledger_rec *r,
			     int64_t *id_out);
	/* Latest balance_after, 0 when the account has no entry. */
	int (*ledger_balance)(void *conn, const char *account_id,
			      int64_t *balance);
	/* newest_first != 0: descending id; limit 0: all. */
	int (*ledger_each)(void *conn, const char *account_id,
			   int newest_first, int64_t offset, int64_t limit,
			   mssl_ledger_cb cb, void *ud);

	/*
	 * Audit log: append-only.  audit_insert also records (seq, hash) as
	 * the log's head, kept apart from the rows, in the same transaction,
	 * so that deleting the newest rows is detected too.
	 */
	int (*audit_insert)(void *conn, const struct mssl_audit_rec *r);
	/* The recorded head; *seq = 0 and a zero hash when empty. */
	int (*audit_head)(void *conn, int64_t *seq, uint8_t hash[32]);
	/* Records with seq >= from_seq in ascending storage order of seq. */
	int (*audit_each)(void *conn, int64_t from_seq, mssl_audit_cb cb,
			  void *ud);

	/* Notices. */
	int (*notice_insert)(void *conn, const struct mssl_notice_rec *r,
			     int64_t *id_out);
	/*
	 * Notices for account_id (its own and those for everyone; every
	 * notice when account_id is NULL) not expired at 'now' (expires == 0
	 * or expires > now), newest first.
	 */
	int (*notice_each)(void *conn, const char *account_id, int64_t now,
			   mssl_notice_cb cb, void *ud);
};

/* ---------------------------------------------------------------------
 * Validator and CA plugins: their ops are defined by the issues that
 * introduce them; the loader already accepts the kinds.
 * ------------------------------------------------------------------ */

#ifdef __cplusplus
}
#endif

#endif /* MSSL_PLUGIN_H */
