/*
 * Every public operation runs inside one frame:
 *
 *	mssl__op_begin: check the actor's role and account (a refusal is
 *	audited and returns MSSL_EPERM), take a store connection, open a
 *	write transaction, check the account exists;
 *	... the operation's own reads and writes ...
 *	mssl__op_end: append the audit record in the same transaction and
 *	commit (a failed audit write rolls everything back and fails the
 *	operation); on failure roll back and audit the failure on its own.
 *
 * So no program linking libmssl can skip a role check or an audit record.
 */
#ifndef MSSL_OP_H
#define MSSL_OP_H

#include "ctx.h"

enum mssl__op_id {
	MSSL_OP_ACCOUNT_CREATE,
	MSSL_OP_ACCOUNT_SET,
	MSSL_OP_ACCOUNT_SUSPEND,
	MSSL_OP_ACCOUNT_SHOW,
	MSSL_OP_ACCOUNT_LIST,
	MSSL_OP_DOMAIN_ADD,
	MSSL_OP_DOMAIN_REMOVE,
	MSSL_OP_DOMAIN_LIST,
	MSSL_OP_CONTACT_ADD,
	MSSL_OP_CONTACT_LIST,
	MSSL_OP_TOPUP,
	MSSL_OP_ADJUST,
	MSSL_OP_LEDGER_SHOW,
	MSSL_OP_LEDGER_CHECK,
	MSSL_OP_NOTICE_ADD,
	MSSL_OP_NOTICE_LIST,
	MSSL_OP_AUDIT_VERIFY,
	MSSL_OP_AUDIT_EXPORT,
	MSSL_OP_REQUEST_CHECK,
	MSSL_OP_KEY_BLOCK,
	MSSL_OP_CERT_ISSUE,
	MSSL_OP_CERT_RESOLVE,
	MSSL_OP_CERT_REVOKE,
	MSSL_OP_CRL,
	MSSL_OP_CERT_DOWNLOAD,
	MSSL_OP_MAIL_FLUSH,
	MSSL_OP_RENEWAL_LIST,
	MSSL_OP_PERSON_ADD,
	MSSL_OP_PERSON_SUSPEND,
	MSSL_OP_PERSON_LIST,
	MSSL_OP_CARD_LIST,
	MSSL_OP_CARD_STATE,
	MSSL_OP_CARD_SO_PIN,
	MSSL_OP_CARD_CERTIFY,
	MSSL_OP_CARD_UNLOCK_APPROVE,
	MSSL_OP_CARD_UNLOCK, /* the holder's side: anonymous */
	MSSL_OP_LOGIN, /* anonymous */
	MSSL_OP_LOGOUT, /* by session token */
	MSSL_OP_PIN_CHANGED, /* by session token */
	MSSL_OP_LOGIN_PURGE, /* housekeeping: anonymous */
	MSSL_OP_SESSION, /* resuming a session: failures audited */
	MSSL_OP_CERT_LIST, /* certificates of an account (query.c) */
	MSSL_OP_LOGIN_CHALLENGE, /* anonymous; a transaction, no op frame */
	MSSL_OP_MAIL_REMIND, /* expiry reminders (remind.c) */
	MSSL_OP__COUNT
};

struct mssl__op {
	mssl_ctx *ctx;
	const mssl_actor *actor;
	int id;
	const char *account_id; /* account acted upon, may be NULL */
	char *object;
	void *conn;
	mssl_error *err;
	char detail[256]; /* what the audit record says beyond the action */
	struct mssl_account_rec account; /* filled when account_id given */
	char *account_buf; /* owns the strings of 'account' */
	bool streaming; /* audited already; in a read transaction */
	bool quiet; /* success not audited: authentication only */
};

/* Action name ("account.create") of an operation. */
const char *mssl__op_name(int id);

/* May 'role' perform operation 'id' at all? */
bool mssl__op_role_allowed(int id, mssl_role role);

int mssl__op_begin(struct mssl__op *op, mssl_ctx *ctx,
		   const mssl_actor *actor, int id, const char *account_id,
		   const char *object, mssl_error *err);
int mssl__op_end(struct mssl__op *op, int rc);

/*
 * A refusal that keeps the transaction's writes (a consumed nonce, a
 * failed-login count): audited as refused with err's message in the same
 * transaction, committed; returns rc (negative).
 */
int mssl__op_end_refused(struct mssl__op *op, int rc);

/* Does the store take MSSL_TXN_LAZY (ABI 1.3)? */
bool mssl__store_has_lazy(const mssl_ctx *ctx);

/*
 * The mode for begin() of a write transaction of operation 'id':
 * MSSL_TXN_WRITE, with MSSL_TXN_LAZY for an operation whose commits need
 * not wait for the disk (the op table says which) when the store takes
 * it.  mssl__op_begin and the failure audit use it; code that opens a
 * transaction of an operation without the frame (the login challenge)
 * passes it to begin() itself.
 */
int mssl__op_txn_mode(const mssl_ctx *ctx, int id);

/* Does the store have the persons, cards and login ops (ABI 1.2)? */
bool mssl__store_has_cards(const mssl_ctx *ctx);

/* Does the store have the expiry reminder ops (ABI 1.4)? */
bool mssl__store_has_remind(const mssl_ctx *ctx);

/* Does the store filter certificates by CN substring and domain (ABI 1.5)? */
bool mssl__store_has_cert_match(const mssl_ctx *ctx);

/* account_get callback filling op->account (ud: the op). */
int mssl__op_copy_account(void *ud, const struct mssl_account_rec *r);

/* The store's last error as rc with detail in op->err; returns rc. */
int mssl__op_store_error(struct mssl__op *op, int rc);

/* ---- actors (actor.c) ------------------------------------------------- */

mssl_role mssl__actor_role(const mssl_actor *a);
const char *mssl__actor_name(const mssl_actor *a);
const char *mssl__actor_account(const mssl_actor *a);
const char *mssl__actor_remote(const mssl_actor *a);
/* "operator:alice", "manager:70759028-01:bob"; borrowed. */
const char *mssl__actor_label(const mssl_actor *a);
/* Someone not yet known (a login, an unlock), for the audit record. */
mssl_actor *mssl__actor_anonymous(const char *account_id, const char *remote);
bool mssl__actor_anonymous_p(const mssl_actor *a);
/* A session still on the card's issued PIN: refused every operation. */
void mssl__actor_set_pin_change_only(mssl_actor *a);
bool mssl__actor_pin_change_only(const mssl_actor *a);

/* ---- audit (audit.c) -------------------------------------------------- */

/*
 * Append one record inside the open write transaction on conn.
 */
int mssl__audit_append(mssl_ctx *ctx, void *conn, const mssl_actor *actor,
		       const char *account_id, const char *action,
		       const char *object, const char *outcome,
		       const char *detail, mssl_error *err);

/* SHA-256(prev_hash || canonical(r)) into out. */
int mssl__audit_hash(const struct mssl_audit_rec *r, uint8_t out[32]);

/* ---- ledger (ledger.c) ------------------------------------------------ */

/*
 * Post one entry for op->account_id inside op's transaction: the new
 * balance is the current one plus delta and may not go below zero
 * (MSSL_EBALANCE naming both).  *balance_after may be NULL.
 */
int mssl__ledger_post(struct mssl__op *op, int kind, int64_t delta,
		      const char *memo, const char *cert_serial,
		      int64_t *balance_after);

/* ---- validation (check.c) --------------------------------------------- */

int mssl__check_run(struct mssl__op *op, const mssl_csr *csr,
		    const mssl_check_params *params, mssl_report *report);

/* ---- issuance (issue.c) ------------------------------------------------ */

/*
 * Keep in 'report' what mssl_report_quote needs: the term of the CN
 * 'cn' (any case; nothing when NULL or empty) in op's account.
 */
int mssl__quote_load(struct mssl__op *op, const char *cn, bool renewal,
		     mssl_report *report);

#endif
