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
#define MSSL_PLUGIN_ABI_MINOR 5

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

/* The host's collector of validation findings (opaque). */
struct mssl_findings;

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

	/*
	 * Record a finding in 'out' (validators).  'code' is the stable
	 * dotted code ("name.ip_address"); 'field' the input concerned
	 * ("subject.O", "name", "san", "key"); 'value' the offending value
	 * (may be NULL).  'msgid' is an English message marked with MSSL_N_()
	 * that says what is wrong and what to do; the host formats it with
	 * the arguments in English and from its zh_TW translation.
	 * Returns 0 or MSSL_ENOMEM.
	 */
	int (*finding)(struct mssl_findings *out, int severity,
		       const char *code, const char *field, const char *value,
		       const char *msgid, ...) MSSL_PRINTF(6, 7);

	/*
	 * Record which rule accepted DNS name 'name' (msgid and arguments
	 * as for finding, e.g. "equals agreed domain %s").
	 * Returns 0 or MSSL_ENOMEM.
	 */
	int (*verdict)(struct mssl_findings *out, const char *name,
		       const char *msgid, ...) MSSL_PRINTF(3, 4);
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
	const char *actor; /* "operator:alice", "manager:70759028-01:bob" */
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

/* A key nobody may certify (weak, compromised, published). */
struct mssl_blocked_key_rec {
	uint8_t spki_sha256[32];
	int64_t added;
	const char *source; /* "operator", "revocation", a list's file name */
	const char *reason; /* may be NULL */
};

/* A certificate (issuance fills most of it; see the issuance issue). */
struct mssl_cert_rec {
	const char *serial; /* lower-case hex, unique */
	const char *account_id;
	const char *cn;
	uint32_t product; /* one MSSL_PRODUCT_* */
	const char *state; /* "pending", "issued", "revoked", "failed" */
	int years; /* cert-years charged */
	int64_t not_before;
	int64_t not_after;
	const uint8_t *der; /* may be NULL while pending */
	size_t der_len;
	const char *renewal_of; /* serial, may be NULL */
	const char *requested_by; /* actor label */
	const char *server_vendor;
	const char *passphrase_hash;
	const char *tech_name;
	const char *tech_email;
	const char *tech_phone;
	const char *note;
	const char *seal_name;
	int64_t revoked_at; /* 0 when not revoked */
	int revoke_reason; /* RFC 5280 CRLReason, -1 when not revoked */
	int64_t created;
	const char *idempotency_key; /* the client's, unique per account */
};

/* Which certificates cert_each lists; NULL/0 members do not filter. */
struct mssl_cert_filter {
	const char *account_id;
	const char *state;
	const char *cn; /* exact, case-insensitive */
	int64_t expires_before; /* not_after < this */
	int64_t expires_after; /* not_after >= this */
	int newest_first; /* by created */
	int64_t offset;
	int64_t limit; /* 0: all */
};

/*
 * What cert_match filters on top of a struct mssl_cert_filter (since ABI
 * 1.5).  It begins with its size, so that members can be added at the
 * end: a store reads only the members that size covers.  NULL or empty
 * members do not filter.
 */
struct mssl_cert_match {
	uint32_t size; /* sizeof(struct mssl_cert_match) as the host has it */
	const char *cn_contains; /* a substring of the CN, ASCII case-insensitive */
	const char *domain; /* the CN equals it or ends in "." it, ditto */
};

/*
 * The paid term of one CN (cert-years as terms): certificates for this
 * CN may be issued without charge until paid_until.
 */
struct mssl_term_rec {
	const char *account_id;
	const char *cn; /* lower case */
	int64_t started;
	int64_t paid_until;
};

/* One queued e-mail (the persistent outbox). */
struct mssl_mail_rec {
	int64_t id; /* assigned by the store */
	int64_t created;
	const char *to_addr;
	const char *subject;
	const char *body; /* text/plain; charset=UTF-8 */
	const char *related; /* e.g. a certificate serial, may be NULL */
	int attempts;
	int64_t next_attempt;
	int64_t sent_at; /* 0 while unsent */
	const char *last_error; /* may be NULL */
};

/* A person of an account who logs in with an IC card. */
struct mssl_person_rec {
	int64_t id; /* assigned by the store */
	const char *account_id;
	const char *name;
	const char *email; /* where unlock notices go */
	const char *role; /* "manager", "auditor" */
	const char *status; /* "active", "suspended" */
	int64_t created;
};

/* An IC card registered to a person. */
struct mssl_card_rec {
	int64_t id; /* assigned by the store */
	int64_t person_id;
	const char *token_serial;
	const uint8_t *cert_der; /* the card certificate */
	size_t cert_len;
	uint8_t cert_sha256[32]; /* unique */
	/* "issued_pin", "active", "locked", "revoked", "suspended" */
	const char *state;
	int64_t created;
};

/* A login challenge; only the nonce's hash is kept. */
struct mssl_challenge_rec {
	uint8_t nonce_hash[32];
	const char *account_id; /* the account it was asked for */
	int64_t created;
	int64_t expires;
};

/* A login session; only the token's hash is kept. */
struct mssl_session_rec {
	uint8_t token_hash[32];
	int64_t person_id;
	int64_t card_id;
	int64_t created;
	int64_t last_seen;
	int64_t expires; /* absolute end */
	int pin_change_only; /* card still on its issued PIN */
};

/* An operator's approval to unlock a card; only the code's hash is kept. */
struct mssl_unlock_rec {
	int64_t id; /* assigned by the store */
	int64_t card_id;
	uint8_t code_hash[32];
	int64_t created;
	int64_t expires;
	int used; /* 0 new, 1 SO PIN released, 2 done */
	const char *approved_by;
	const char *verified_with; /* who confirmed the holder's identity */
};

/*
 * An expiry reminder queued for a certificate (since ABI 1.4): one per
 * (serial, days), so a reminder is never queued twice.
 */
struct mssl_remind_rec {
	const char *serial; /* the certificate */
	int days; /* the threshold crossed: "expires within 'days' days" */
	int64_t queued_at;
	int64_t mail_id; /* the outbox message, 0 when none */
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
typedef int (*mssl_blocked_key_cb)(void *ud,
				   const struct mssl_blocked_key_rec *r);
typedef int (*mssl_cert_cb)(void *ud, const struct mssl_cert_rec *r);
typedef int (*mssl_term_cb)(void *ud, const struct mssl_term_rec *r);
typedef int (*mssl_mail_cb)(void *ud, const struct mssl_mail_rec *r);
typedef int (*mssl_person_cb)(void *ud, const struct mssl_person_rec *r);
typedef int (*mssl_card_cb)(void *ud, const struct mssl_card_rec *r);
typedef int (*mssl_challenge_cb)(void *ud,
				 const struct mssl_challenge_rec *r);
typedef int (*mssl_session_cb)(void *ud, const struct mssl_session_rec *r);
typedef int (*mssl_unlock_cb)(void *ud, const struct mssl_unlock_rec *r);
typedef int (*mssl_remind_cb)(void *ud, const struct mssl_remind_rec *r);

/* Transaction modes for mssl_store_ops.begin. */
enum mssl_txn_mode {
	MSSL_TXN_READ = 0,
	MSSL_TXN_WRITE = 1, /* takes the write lock at once */
};

/*
 * Since ABI 1.3, OR'd into MSSL_TXN_WRITE: a lazy commit.  Its commit()
 * need not wait for the disk; it returns once the transaction is
 * committed (visible to every later transaction, in commit order), and
 * becomes durable with the next commit that is not lazy, or sooner (a
 * checkpoint).  So a power loss or an OS crash may lose the newest lazy
 * commits, only a suffix of the commits: never one commit without
 * every commit before it, never a full commit, hence never a gap in the
 * audit chain (a lost record takes every later one with it, and the
 * audit head with them).  A process that dies (kill -9) loses nothing
 * committed.  The host uses it only for what the user can redo: logins,
 * sessions, their failures and their audit records (doc/ARCHITECTURE.md,
 * "Durability").  A store may treat it as a full commit.  The host never
 * passes it to a store of an older minor.
 */
#define MSSL_TXN_LAZY 0x100

/*
 * Store operations.  A connection ('conn') is used by one thread at a time;
 * the host opens one per worker.  All calls other than open/close run
 * inside a transaction the host opened with begin().
 *
 * begin(conn, mode): MSSL_TXN_READ, or MSSL_TXN_WRITE, optionally with
 * MSSL_TXN_LAZY (since 1.3).  commit() of a write transaction returns 0
 * only once it is durable (unless LAZY): on disk by the store's own
 * standard (store-sqlite: synchronous = full, the default).  Commits of
 * concurrent transactions may share the work of making them durable.
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

	/* Blocked keys: MSSL_EEXIST when the key is already listed. */
	int (*blocked_key_insert)(void *conn,
				  const struct mssl_blocked_key_rec *r);
	/* The entry for spki, MSSL_ENOENT when the key is not listed. */
	int (*blocked_key_get)(void *conn, const uint8_t spki_sha256[32],
			       mssl_blocked_key_cb cb, void *ud);

	/* Certificates: serial unique (MSSL_EEXIST). */
	int (*cert_insert)(void *conn, const struct mssl_cert_rec *r);
	/* MSSL_ENOENT when there is no certificate with that serial. */
	int (*cert_get)(void *conn, const char *serial, mssl_cert_cb cb,
			void *ud);

	/*
	 * A pending certificate becomes "issued" (with its DER and validity)
	 * or "failed" (der NULL).  MSSL_ENOENT when 'serial' is not pending.
	 * 'new_serial' (may equal serial) replaces the serial: a signer that
	 * chose its own reports it so.
	 */
	int (*cert_finish)(void *conn, const char *serial,
			   const char *new_serial, const char *state,
			   const uint8_t *der, size_t der_len,
			   int64_t not_before, int64_t not_after);
	/* An issued certificate becomes "revoked".  MSSL_ENOENT otherwise. */
	int (*cert_revoke)(void *conn, const char *serial, int64_t revoked_at,
			   int reason);
	/* Certificates matching f; order by created (then serial). */
	int (*cert_each)(void *conn, const struct mssl_cert_filter *f,
			 mssl_cert_cb cb, void *ud);
	/* The certificate of account_id with that idempotency key. */
	int (*cert_by_key)(void *conn, const char *account_id,
			   const char *idempotency_key, mssl_cert_cb cb,
			   void *ud);

	/* CN terms: one row per (account_id, cn); put inserts or replaces. */
	int (*term_get)(void *conn, const char *account_id, const char *cn,
			mssl_term_cb cb, void *ud);
	int (*term_put)(void *conn, const struct mssl_term_rec *r);

	/* Named counters (e.g. "crl:<issuer>"): *value = previous + 1. */
	int (*counter_next)(void *conn, const char *name, int64_t *value);

	/* The mail outbox. */
	int (*mail_insert)(void *conn, const struct mssl_mail_rec *r,
			   int64_t *id_out);
	/* Unsent mails with next_attempt <= now, oldest first, at most limit. */
	int (*mail_due)(void *conn, int64_t now, int64_t limit, mssl_mail_cb cb,
			void *ud);
	/* Sent: sent_at set.  Not sent: attempts+1, next_attempt, last_error. */
	int (*mail_sent)(void *conn, int64_t id, int64_t sent_at);
	int (*mail_retry)(void *conn, int64_t id, int64_t next_attempt,
			  const char *error);

	/*
	 * Since ABI 1.1.  A signer chose its own serial: ledger entries
	 * naming 'serial' (the pending certificate's charge) name
	 * 'new_serial' from now on.  Called in the transaction whose
	 * cert_finish moves the certificate to new_serial, so both move or
	 * neither.  Entries naming neither are untouched; none is not an
	 * error.
	 */
	int (*ledger_reserial)(void *conn, const char *serial,
			       const char *new_serial);

	/*
	 * Since ABI 1.2: persons, cards, login and unlock.  The host
	 * refuses those operations with a store of an older minor.
	 */

	/* Persons (ordered by id). */
	int (*person_insert)(void *conn, const struct mssl_person_rec *r,
			     int64_t *id_out);
	int (*person_get)(void *conn, int64_t id, mssl_person_cb cb, void *ud);
	int (*person_each)(void *conn, const char *account_id,
			   mssl_person_cb cb, void *ud);
	int (*person_set_status)(void *conn, int64_t id, const char *status);

	/* Cards.  card_each: the cards of an account's persons, by id;
	 * card_by_serial: every card with that token serial, newest first. */
	int (*card_insert)(void *conn, const struct mssl_card_rec *r,
			   int64_t *id_out);
	int (*card_get)(void *conn, int64_t id, mssl_card_cb cb, void *ud);
	int (*card_by_cert)(void *conn, const uint8_t cert_sha256[32],
			    mssl_card_cb cb, void *ud);
	int (*card_by_serial)(void *conn, const char *token_serial,
			      mssl_card_cb cb, void *ud);
	int (*card_each)(void *conn, const char *account_id, mssl_card_cb cb,
			 void *ud);
	int (*card_set_state)(void *conn, int64_t id, const char *state);

	/* Login challenges.  challenge_take marks the challenge used and
	 * passes it to cb, atomically: MSSL_ENOENT when it is unknown or
	 * was taken before (expiry is the caller's to check). */
	int (*challenge_insert)(void *conn, const struct mssl_challenge_rec *r);
	int (*challenge_take)(void *conn, const uint8_t nonce_hash[32],
			      mssl_challenge_cb cb, void *ud);

	/* Sessions. */
	int (*session_insert)(void *conn, const struct mssl_session_rec *r);
	int (*session_get)(void *conn, const uint8_t token_hash[32],
			   mssl_session_cb cb, void *ud);
	int (*session_touch)(void *conn, const uint8_t token_hash[32],
			     int64_t last_seen);
	/* MSSL_ENOENT when there was no such session. */
	int (*session_delete)(void *conn, const uint8_t token_hash[32]);
	/* Every session opened with that card (none is not an error). */
	int (*session_delete_card)(void *conn, int64_t card_id);

	/* Failed logins counted per key ("account:ID", "card:HEX"). */
	int (*login_failure_add)(void *conn, const char *key, int64_t time);
	int (*login_failure_count)(void *conn, const char *key, int64_t since,
				   int64_t *count);
	int (*login_failure_clear)(void *conn, const char *key);

	/* Drop challenges and sessions expired before now, and failure
	 * records older than failures_before. */
	int (*login_purge)(void *conn, int64_t now, int64_t failures_before);

	/* Unlock approvals.  unlock_find: the newest approval of that card
	 * with that code hash (MSSL_ENOENT when none). */
	int (*unlock_insert)(void *conn, const struct mssl_unlock_rec *r,
			     int64_t *id_out);
	int (*unlock_find)(void *conn, int64_t card_id,
			   const uint8_t code_hash[32], mssl_unlock_cb cb,
			   void *ud);
	int (*unlock_set_used)(void *conn, int64_t id, int used);

	/*
	 * Since ABI 1.4: expiry reminders.  The host refuses
	 * mssl_remind_expiring with a store of an older minor.
	 *
	 * remind_due: the certificates in state "issued" with
	 * after < not_after <= until that have no reminder recorded for
	 * 'days' or fewer days, and that are not renewed: no certificate in
	 * state "issued" names them in renewal_of, and none of the same
	 * account and CN (compared without regard to ASCII case) has a
	 * later not_after.  By not_after, then serial; at most 'limit'
	 * (0: all).
	 */
	int (*remind_due)(void *conn, int64_t after, int64_t until, int days,
			  int64_t limit, mssl_cert_cb cb, void *ud);
	/*
	 * Record a reminder: MSSL_EEXIST when one is recorded for
	 * (serial, days) already, MSSL_ENOENT when there is no certificate
	 * with that serial.
	 */
	int (*remind_insert)(void *conn, const struct mssl_remind_rec *r);
	/* The reminders recorded for a certificate, by days descending (the
	 * order they are sent in); none is not an error. */
	int (*remind_each)(void *conn, const char *serial, mssl_remind_cb cb,
			   void *ud);

	/*
	 * Since ABI 1.5: cert_each with m's CN filters too, applied before
	 * f's offset and limit, which count the certificates that match
	 * everything.  mssl_cert_list searches with it, so that the store
	 * reads only the CN of the rows it skips and a page deep into a
	 * search is not handed over row by row; with a store of an older
	 * minor libmssl filters cert_each's rows itself.
	 */
	int (*cert_match)(void *conn, const struct mssl_cert_filter *f,
			  const struct mssl_cert_match *m, mssl_cert_cb cb,
			  void *ud);
};

/* ---------------------------------------------------------------------
 * Validator plugins
 *
 * A validator looks at one parsed request and records findings (with a
 * stable code, the field and value concerned, and a message the host
 * gives in English and Traditional Chinese) and, for each DNS name it
 * accepts, a verdict saying which rule accepted it.  It is pure: no I/O;
 * everything it needs is in struct mssl_check.  It never stops at the
 * first problem: the user sees every finding at once.
 * ------------------------------------------------------------------ */

/* Mark message ids for xgettext in plugins: the host translates them. */
#define MSSL_N_(s) s

enum mssl_san_type {
	MSSL_SAN_DNS = 1,
	MSSL_SAN_IP = 2, /* value: "192.0.2.1", "2001:db8::1" */
	MSSL_SAN_EMAIL = 3,
	MSSL_SAN_URI = 4,
	MSSL_SAN_OTHER = 5, /* value: "otherName", "dirName", ... */
};

struct mssl_san {
	int type; /* enum mssl_san_type */
	const char *value; /* as given in the CSR */
};

enum mssl_key_alg {
	MSSL_KEY_RSA = 1,
	MSSL_KEY_EC = 2,
	MSSL_KEY_OTHER = 3, /* DSA, EdDSA, GOST, ... */
};

struct mssl_key_info {
	int alg; /* enum mssl_key_alg */
	const char *alg_name; /* "RSA", "ECDSA", "DSA", "EdDSA (Ed25519)" */
	unsigned bits; /* modulus size, or curve size */
	/* RSA: big-endian magnitudes without leading zero bytes. */
	const uint8_t *rsa_n;
	size_t rsa_n_len;
	const uint8_t *rsa_e;
	size_t rsa_e_len;
	/* EC: curve name ("P-256", "P-384", "P-521", "P-224", "P-192", or
	 * the OID in dotted form) and the affine point, each coordinate
	 * big-endian, left-padded to the field size. */
	const char *ec_curve;
	const uint8_t *ec_x;
	const uint8_t *ec_y;
	size_t ec_len;
	uint8_t spki_sha256[32]; /* SHA-256 of the SubjectPublicKeyInfo DER */
};

/*
 * Subject attributes (NULL when absent; when an attribute is repeated, the
 * first, with n_repeated counting the extra ones of any kind).
 */
struct mssl_subject_info {
	const char *c;
	const char *st;
	const char *l;
	const char *o;
	const char *ou;
	const char *cn;
	const char *serial_number;
	const char *business_category;
	const char *jur_c; /* jurisdictionCountryName */
	const char *jur_st; /* jurisdictionStateOrProvinceName */
	const char *jur_l; /* jurisdictionLocalityName */
	const char *dn; /* the whole subject, RFC 4514 text */
	unsigned n_repeated;
	const char *repeated; /* name of the first repeated attribute */
};

struct mssl_csr_info {
	struct mssl_subject_info subject;
	const struct mssl_san *sans; /* every SAN in order */
	size_t n_sans;
	struct mssl_key_info key;
	/*
	 * Every DNS name the certificate would carry: the CN (when it is
	 * there) then each DNS SAN, exactly as given, without repeats
	 * (compared case-insensitively).
	 */
	const char *const *names;
	size_t n_names;
	/*
	 * 1 when the self-signature was verified (proof of possession);
	 * 0 when the key or algorithm is one GnuTLS cannot check (an
	 * unusual curve): the request is parsed so validators can say why
	 * the key is unacceptable, and the core refuses it.
	 */
	int signature_verified;
};

struct mssl_check_account {
	const char *id; /* "70759028-01" */
	const char *ubn; /* "70759028" */
	const char *org_name_en;
	uint32_t products; /* MSSL_PRODUCT_* the account bought */
	const char *ev_country;
	const char *ev_state;
	const char *ev_locality;
	const char *ev_category;
	/*
	 * The agreed domains that matter for this request: for each name,
	 * every agreed domain equal to one of its suffixes on a label
	 * boundary (itself, its parent, ... its TLD; for "*.x" those of x),
	 * lower case.  The host finds them with one indexed lookup per
	 * label, so the cost does not grow with the account's domain count;
	 * a validator needs no other domain.
	 */
	const char *const *domains;
	size_t n_domains;
};

struct mssl_check_request {
	uint32_t product; /* exactly one MSSL_PRODUCT_* */
	const char *renewal_of; /* serial of the renewed certificate, or NULL */
	const char *renewal_cn; /* its CN, when renewal_of is set */
};

/* What a validator is asked to check.  Add members at the end only. */
struct mssl_check {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;
	const struct mssl_csr_info *csr;
	const struct mssl_check_account *account;
	const struct mssl_check_request *request;
};

enum mssl_severity {
	MSSL_SEV_NOTICE = 1, /* for information; does not stop issuance */
	MSSL_SEV_WARNING = 2, /* worth a look; does not stop issuance */
	MSSL_SEV_ERROR = 3, /* stops issuance */
};

/*
 * Validator operations.  check returns 0 after recording its findings
 * (refusals are findings, not errors); a negative MSSL_E... only when it
 * could not do its work (out of memory), which stops the request.
 *
 * Add members at the end only.
 */
struct mssl_validator_ops {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;

	int (*check)(void *state, const struct mssl_check *in,
		     struct mssl_findings *out);
};

/* ---------------------------------------------------------------------
 * CA plugins
 *
 * The core decides everything a certificate says (profile, subject,
 * names, validity, extensions, serial) and hands it to the backend as
 * data; the backend only signs, with a key in a file, on a PKCS#11 token,
 * or through a remote signer.  The core re-parses what comes back and
 * compares it with what it asked for before it stores anything.
 * ------------------------------------------------------------------ */

/* One subject attribute (one per RDN, in order): its value as DER. */
struct mssl_dn_attr {
	const char *oid; /* "2.5.4.3" */
	const uint8_t *der; /* the value, e.g. a UTF8String, tag included */
	size_t der_len;
};

/* One extension: its extnValue contents (DER), as the core built it. */
struct mssl_ext {
	const char *oid;
	int critical;
	const uint8_t *der;
	size_t der_len;
};

/* What to sign.  Add members at the end only. */
struct mssl_tbs {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;
	/*
	 * Serial, big-endian, positive, no leading zero byte.  A backend
	 * that must choose its own (a remote signer) may ignore it: the
	 * core reads the serial back from the certificate.
	 */
	const uint8_t *serial;
	size_t serial_len;
	int64_t not_before; /* seconds since the epoch */
	int64_t not_after;
	const struct mssl_dn_attr *subject;
	size_t n_subject;
	const uint8_t *spki; /* SubjectPublicKeyInfo DER */
	size_t spki_len;
	/* Every extension, in order; the backend adds none of its own. */
	const struct mssl_ext *exts;
	size_t n_exts;
	/* The validated request (DER), for signers that need it. */
	const uint8_t *csr;
	size_t csr_len;
	const char *profile; /* "ssl", "wildcard", "ev" */
};

struct mssl_crl_entry {
	const uint8_t *serial;
	size_t serial_len;
	int64_t revoked_at;
	int reason; /* RFC 5280 CRLReason, -1 for none */
};

/* What CRL to sign.  Add members at the end only. */
struct mssl_crl_tbs {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;
	uint64_t number; /* cRLNumber, strictly increasing */
	int64_t this_update;
	int64_t next_update;
	const struct mssl_crl_entry *entries;
	size_t n_entries;
};

/*
 * What a CA backend decides by itself (mssl_ca_ops.caps); the core
 * checks the result accordingly (doc/ARCHITECTURE.md, "What the core
 * compares").
 *  MSSL_CA_OWN_SERIAL   the certificate may carry a serial the backend
 *                       chose instead of tbs->serial; the core takes it
 *                       from the certificate.
 *  MSSL_CA_OWN_PROFILE  the backend applies a profile of its own: the
 *                       validity (within what was asked), the string
 *                       types of the subject, and the informational
 *                       extensions (policies, AIA, CRL distribution
 *                       points) may differ; keyUsage may be narrower.
 *                       The core still refuses anything the mssl
 *                       profile forbids.
 */
#define MSSL_CA_OWN_SERIAL 0x1u
#define MSSL_CA_OWN_PROFILE 0x2u

/* Each DER certificate of a chain; borrowed during the call. */
typedef int (*mssl_der_cb)(void *ud, const uint8_t *der, size_t len);

/*
 * CA operations.  Outputs (*der) are allocated with host->alloc and
 * freed by the host with host->free.  Returns 0, MSSL_ECRYPTO (signing
 * failed: detail through host->error), MSSL_EIO (a remote signer did not
 * answer) or MSSL_ENOMEM.
 *
 * Add members at the end only.
 */
struct mssl_ca_ops {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t size;

	/*
	 * The issuing CA's certificate first, then each certificate up to,
	 * and including, the root.
	 */
	int (*chain)(void *state, mssl_der_cb cb, void *ud);
	int (*issue)(void *state, const struct mssl_tbs *tbs, uint8_t **der,
		     size_t *der_len);
	int (*crl)(void *state, const struct mssl_crl_tbs *tbs, uint8_t **der,
		   size_t *der_len);

	/*
	 * Since ABI 1.1.  MSSL_CA_OWN_* for this backend as configured (a
	 * remote signer may or may not take the core's serial); 0 for a
	 * backend that signs exactly the tbs, as every 1.0 backend does.
	 */
	uint32_t (*caps)(void *state);
};

#ifdef __cplusplus
}
#endif

#endif /* MSSL_PLUGIN_H */
