/*
 * The operation frame: authorization, transaction, audit.  The table
 * below is the one place that says which role may do what (SPEC §1).
 */
#include "op.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPERATOR (1u << MSSL_ROLE_OPERATOR)
#define MANAGER (1u << MSSL_ROLE_MANAGER)
#define AUDITOR (1u << MSSL_ROLE_AUDITOR)
#define ANYONE (OPERATOR | MANAGER | AUDITOR)
/* Someone not yet known: a login, an unlock, a session's own end. */
#define ANON (1u << MSSL_ROLE_NONE)

/* How an operation concerns an account. */
enum {
	ACC_NONE = 0, /* not at all (or one being created) */
	ACC_REQUIRED = 1, /* an existing account; members: their own */
	ACC_OPTIONAL = 2, /* one account if named, else all (operator) */
};

/* Data handed to the caller while it runs: audited before it starts. */
#define STREAM true

/*
 * Durability: every operation commits in full (its commit returns once
 * the store has it on disk) but those marked LAZY, whose commits need not
 * wait for the disk (MSSL_TXN_LAZY, doc/ARCHITECTURE.md "Durability"):
 * logins and sessions, which a power loss may take back and the user
 * simply does again, and the dry-run request check, which changes
 * nothing but its audit record.  Whatever touches money, certificates,
 * cards, persons or accounts stays full.
 */
#define LAZY .lazy = true

static const struct opdef {
	const char *name;
	unsigned roles;
	int account;
	/* The refusal message (a msgid taking the role name). */
	const char *refusal;
	bool stream;
	bool lazy;
} ops[MSSL_OP__COUNT] = {
	[MSSL_OP_ACCOUNT_CREATE] = { "account.create", OPERATOR, ACC_NONE,
				     N_("the %s role may not create accounts") },
	[MSSL_OP_ACCOUNT_SET] = { "account.set", OPERATOR, ACC_REQUIRED,
				  N_("the %s role may not change accounts") },
	[MSSL_OP_ACCOUNT_SUSPEND] = { "account.suspend", OPERATOR, ACC_REQUIRED,
				      N_("the %s role may not suspend or reactivate accounts") },
	[MSSL_OP_ACCOUNT_SHOW] = { "account.show", ANYONE, ACC_REQUIRED,
				   N_("the %s role may not view this account") },
	[MSSL_OP_ACCOUNT_LIST] = { "account.list", OPERATOR, ACC_NONE,
				   N_("the %s role may not list all accounts"), STREAM },
	[MSSL_OP_DOMAIN_ADD] = { "domain.add", OPERATOR, ACC_REQUIRED,
				 N_("the %s role may not add agreed domains") },
	[MSSL_OP_DOMAIN_REMOVE] = { "domain.remove", OPERATOR, ACC_REQUIRED,
				    N_("the %s role may not remove agreed domains") },
	[MSSL_OP_DOMAIN_LIST] = { "domain.list", ANYONE, ACC_REQUIRED,
				  N_("the %s role may not view this account's domains"), STREAM },
	[MSSL_OP_CONTACT_ADD] = { "contact.add", OPERATOR, ACC_REQUIRED,
				  N_("the %s role may not add contacts") },
	[MSSL_OP_CONTACT_LIST] = { "contact.list", ANYONE, ACC_REQUIRED,
				   N_("the %s role may not view this account's contacts"), STREAM },
	[MSSL_OP_TOPUP] = { "ledger.topup", OPERATOR, ACC_REQUIRED,
			    N_("the %s role may not top up cert-years") },
	[MSSL_OP_ADJUST] = { "ledger.adjust", OPERATOR, ACC_REQUIRED,
			     N_("the %s role may not adjust cert-years") },
	[MSSL_OP_LEDGER_SHOW] = { "ledger.show", ANYONE, ACC_REQUIRED,
				  N_("the %s role may not view this account's activity"), STREAM },
	[MSSL_OP_LEDGER_CHECK] = { "ledger.check", OPERATOR, ACC_OPTIONAL,
				   N_("the %s role may not check the ledger") },
	[MSSL_OP_NOTICE_ADD] = { "notice.add", OPERATOR, ACC_OPTIONAL,
				 N_("the %s role may not publish notices") },
	[MSSL_OP_NOTICE_LIST] = { "notice.list", ANYONE, ACC_OPTIONAL,
				  N_("the %s role may not read notices"), STREAM },
	[MSSL_OP_AUDIT_VERIFY] = { "audit.verify", OPERATOR, ACC_NONE,
				   N_("the %s role may not verify the audit log") },
	[MSSL_OP_AUDIT_EXPORT] = { "audit.export", OPERATOR, ACC_NONE,
				   N_("the %s role may not export the audit log"), STREAM },
	[MSSL_OP_REQUEST_CHECK] = { "request.check", OPERATOR | MANAGER, ACC_REQUIRED,
				    N_("the %s role may not request certificates"),
				    LAZY },
	[MSSL_OP_KEY_BLOCK] = { "key.block", OPERATOR, ACC_NONE,
				N_("the %s role may not block keys") },
	[MSSL_OP_CERT_ISSUE] = { "cert.issue", OPERATOR | MANAGER, ACC_REQUIRED,
				 N_("the %s role may not issue certificates") },
	[MSSL_OP_CERT_RESOLVE] = { "cert.resolve_pending", OPERATOR, ACC_NONE,
				   N_("the %s role may not settle interrupted issuances") },
	[MSSL_OP_CERT_REVOKE] = { "cert.revoke", OPERATOR | MANAGER, ACC_REQUIRED,
				  N_("the %s role may not revoke certificates") },
	[MSSL_OP_CRL] = { "crl.generate", OPERATOR, ACC_NONE,
			  N_("the %s role may not generate the CRL") },
	[MSSL_OP_CERT_DOWNLOAD] = { "cert.download", ANYONE, ACC_REQUIRED,
				    N_("the %s role may not download this account's certificates") },
	[MSSL_OP_MAIL_FLUSH] = { "mail.flush", OPERATOR, ACC_NONE,
				 N_("the %s role may not send the mail outbox") },
	[MSSL_OP_RENEWAL_LIST] = { "cert.renewals", OPERATOR | MANAGER,
				   ACC_REQUIRED,
				   N_("the %s role may not renew certificates"),
				   STREAM },
	[MSSL_OP_PERSON_ADD] = { "person.add", OPERATOR, ACC_REQUIRED,
				 N_("the %s role may not register persons") },
	[MSSL_OP_PERSON_SUSPEND] = { "person.suspend", OPERATOR, ACC_NONE,
				     N_("the %s role may not suspend persons") },
	[MSSL_OP_PERSON_LIST] = { "person.list", ANYONE, ACC_REQUIRED,
				  N_("the %s role may not view this account's persons"), STREAM },
	[MSSL_OP_CARD_LIST] = { "card.list", ANYONE, ACC_REQUIRED,
				N_("the %s role may not view this account's cards"), STREAM },
	[MSSL_OP_CARD_STATE] = { "card.state", OPERATOR, ACC_NONE,
				 N_("the %s role may not suspend or revoke cards") },
	[MSSL_OP_CARD_SO_PIN] = { "card.so_pin", OPERATOR, ACC_NONE,
				  N_("the %s role may not enrol cards") },
	[MSSL_OP_CARD_CERTIFY] = { "card.enroll", OPERATOR, ACC_NONE,
				   N_("the %s role may not enrol cards") },
	[MSSL_OP_CARD_UNLOCK_APPROVE] = { "card.unlock_approve", OPERATOR,
					  ACC_NONE,
					  N_("the %s role may not approve card unlocks") },
	[MSSL_OP_CARD_UNLOCK] = { "card.unlock", ANON, ACC_NONE,
				  N_("the %s role may not unlock cards") },
	[MSSL_OP_LOGIN] = { "auth.login", ANON, ACC_NONE,
			    N_("the %s role may not log in"), LAZY },
	[MSSL_OP_LOGOUT] = { "auth.logout", ANON, ACC_NONE,
			     N_("the %s role may not log out"), LAZY },
	[MSSL_OP_PIN_CHANGED] = { "card.pin_change", ANON, ACC_NONE,
				  N_("the %s role may not change card PINs"),
				  LAZY },
	[MSSL_OP_LOGIN_PURGE] = { "auth.purge", ANON | OPERATOR, ACC_NONE,
				  N_("the %s role may not purge sessions"),
				  LAZY },
	[MSSL_OP_SESSION] = { "auth.session", ANON, ACC_NONE,
			      N_("the %s role may not resume sessions"),
			      LAZY },
	[MSSL_OP_CERT_LIST] = { "cert.list", ANYONE, ACC_REQUIRED,
				N_("the %s role may not view this account's certificates"),
				STREAM },
	[MSSL_OP_LOGIN_CHALLENGE] = { "auth.challenge", ANON, ACC_NONE,
				      N_("the %s role may not ask for login challenges"),
				      LAZY },
	[MSSL_OP_MAIL_REMIND] = { "mail.remind", OPERATOR, ACC_NONE,
				  N_("the %s role may not queue expiry reminders") },
};

const char *mssl__op_name(int id)
{
	return id >= 0 && id < MSSL_OP__COUNT ? ops[id].name : "unknown";
}

bool mssl__store_has_lazy(const mssl_ctx *ctx)
{
	return ctx->sops && ctx->sops->abi_minor >= 3;
}

int mssl__op_txn_mode(const mssl_ctx *ctx, int id)
{
	if (id >= 0 && id < MSSL_OP__COUNT && ops[id].lazy &&
	    mssl__store_has_lazy(ctx))
		return MSSL_TXN_WRITE | MSSL_TXN_LAZY;
	return MSSL_TXN_WRITE;
}

bool mssl__op_role_allowed(int id, mssl_role role)
{
	if (id < 0 || id >= MSSL_OP__COUNT || role < MSSL_ROLE_NONE ||
	    role > MSSL_ROLE_AUDITOR)
		return false;
	return ops[id].roles & (1u << role);
}

int mssl__op_copy_account(void *ud, const struct mssl_account_rec *r)
{
	struct mssl__op *op = ud;
	const char *f[] = { r->id, r->org_name_en, r->org_name_zh,
			    r->ev_country, r->ev_state, r->ev_locality,
			    r->ev_category };
	const char **dst[] = { &op->account.id, &op->account.org_name_en,
			       &op->account.org_name_zh,
			       &op->account.ev_country, &op->account.ev_state,
			       &op->account.ev_locality,
			       &op->account.ev_category };
	size_t i, len = 0;
	char *p;

	for (i = 0; i < MSSL_ARRAY_SIZE(f); i++)
		len += f[i] ? strlen(f[i]) + 1 : 0;
	p = malloc(len + 1);
	if (!p)
		return MSSL_ENOMEM;
	/*
	 * An operation may read its account twice (mssl_pin_changed: the
	 * session's, then the proof's): the newer copy replaces the older.
	 */
	free(op->account_buf);
	op->account_buf = p;
	op->account = *r;
	for (i = 0; i < MSSL_ARRAY_SIZE(f); i++) {
		*dst[i] = NULL;
		if (!f[i])
			continue;
		memcpy(p, f[i], strlen(f[i]) + 1);
		*dst[i] = p;
		p += strlen(f[i]) + 1;
	}
	return 0;
}

static const char *outcome_of(int rc)
{
	switch (rc) {
	case 0:
		return "ok";
	case MSSL_EPERM:
	case MSSL_EINPUT:
	case MSSL_EEXIST:
	case MSSL_ENOENT:
	case MSSL_EBALANCE:
	case MSSL_ESTATE:
	case MSSL_EREJECTED:
		return "refused";
	default:
		return "failed";
	}
}

/* The error, and what the operation had noted (e.g. the codes). */
static void failure_detail(const struct mssl__op *op, int rc, char *buf,
			   size_t size)
{
	snprintf(buf, size, "%s: %s%s%s",
		 op->err && mssl_error_id(op->err)[0] ? mssl_error_id(op->err) :
							mssl_err_name(rc),
		 op->err ? mssl_error_message(op->err, MSSL_LANG_EN) : "",
		 op->detail[0] ? " | " : "", op->detail);
}

/* Audit an operation that did not happen, in a transaction of its own. */
static void audit_failure(struct mssl__op *op, int rc)
{
	mssl_ctx *ctx = op->ctx;
	char detail[768];
	void *conn = op->conn;
	int r;

	failure_detail(op, rc, detail, sizeof(detail));
	if (!conn && mssl__conn_get(ctx, &conn, NULL) < 0)
		goto fail;
	r = ctx->sops->begin(conn, mssl__op_txn_mode(ctx, op->id));
	if (r < 0)
		goto fail;
	r = mssl__audit_append(ctx, conn, op->actor, op->account_id,
			       mssl__op_name(op->id), op->object,
			       outcome_of(rc), detail, NULL);
	if (r < 0 || ctx->sops->commit(conn) < 0) {
		ctx->sops->rollback(conn);
		goto fail;
	}
	if (conn != op->conn)
		mssl__conn_put(ctx, conn);
	return;
fail:
	mssl__log(ctx, MSSL_LOG_ERROR, "cannot audit %s (%s) by %s",
		  mssl__op_name(op->id), outcome_of(rc),
		  mssl__actor_label(op->actor));
	if (conn && conn != op->conn)
		mssl__conn_put(ctx, conn);
}

static void op_release(struct mssl__op *op)
{
	if (op->conn)
		mssl__conn_put(op->ctx, op->conn);
	op->conn = NULL;
	free(op->object);
	op->object = NULL;
	free(op->account_buf);
	op->account_buf = NULL;
}

int mssl__op_store_error(struct mssl__op *op, int rc)
{
	return mssl__plugin_error(op->ctx, rc, op->err);
}

/* A refusal before any transaction: audited, then returned. */
static int refuse(struct mssl__op *op, int rc)
{
	audit_failure(op, rc);
	op_release(op);
	return rc;
}

/*
 * A read that hands rows to the caller as it goes: the audit record is
 * committed first, so no data leaves without its record (a failure of the
 * read itself is audited after).  The read then runs in a read
 * transaction, holding no write lock however long it streams.
 */
static int begin_stream(struct mssl__op *op)
{
	const struct mssl_store_ops *so = op->ctx->sops;
	int rc;

	rc = mssl__audit_append(op->ctx, op->conn, op->actor, op->account_id,
				mssl__op_name(op->id), op->object, "ok", NULL,
				op->err);
	if (rc == 0) {
		rc = so->commit(op->conn);
		if (rc < 0)
			rc = mssl__op_store_error(op, rc);
	}
	if (rc == 0) {
		op->streaming = true;
		rc = so->begin(op->conn, MSSL_TXN_READ);
		if (rc < 0)
			rc = mssl__op_store_error(op, rc);
	}
	return rc < 0 ? mssl__op_end(op, rc) : 0;
}

int mssl__op_begin(struct mssl__op *op, mssl_ctx *ctx,
		   const mssl_actor *actor, int id, const char *account_id,
		   const char *object, mssl_error *err)
{
	const struct opdef *d = &ops[id];
	mssl_role role = mssl__actor_role(actor);
	int rc;

	memset(op, 0, sizeof(*op));
	op->ctx = ctx;
	op->actor = actor;
	op->id = id;
	op->err = err;
	op->account_id = account_id;
	if (!ctx || !actor)
		return mssl__error_set(err, MSSL_EINVAL, "api.actor", NULL,
				       N_("no context or no actor given"));
	if (!ctx->open)
		return mssl__error_set(err, MSSL_ESTATE, "ctx.not_open", NULL,
				       N_("the library context is not open"));
	if (object && !(op->object = strdup(object)))
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	/* Members act only on their own account. */
	if (role != MSSL_ROLE_OPERATOR && d->account != ACC_NONE && !account_id)
		op->account_id = account_id = mssl__actor_account(actor);
	if (mssl__actor_pin_change_only(actor)) {
		mssl__error_set(err, MSSL_EPERM, "auth.pin_change_required",
				NULL,
				N_("this card is still on its issued PIN: change the PIN, then log in again"));
		return refuse(op, MSSL_EPERM);
	}
	if (role == MSSL_ROLE_NONE && !mssl__actor_anonymous_p(actor))
		return mssl__error_set(err, MSSL_EINVAL, "api.actor", NULL,
				       N_("no context or no actor given"));
	if (!mssl__op_role_allowed(id, role)) {
		mssl__error_set(err, MSSL_EPERM, "auth.role", NULL,
				d->refusal, mssl_role_name(role));
		return refuse(op, MSSL_EPERM);
	}
	if (role != MSSL_ROLE_OPERATOR && account_id &&
	    strcmp(account_id, mssl__actor_account(actor)) != 0) {
		mssl__error_set(err, MSSL_EPERM, "auth.account", "account",
				N_("you may act only on your own account %s"),
				mssl__actor_account(actor));
		return refuse(op, MSSL_EPERM);
	}
	if (id >= MSSL_OP_PERSON_ADD && !mssl__store_has_cards(ctx)) {
		mssl__error_set(err, MSSL_ECONFIG, "store.too_old", NULL,
				N_("the store plugin is too old for persons, cards and logins (it needs plugin ABI 1.2)"));
		return refuse(op, MSSL_ECONFIG);
	}
	rc = mssl__conn_get(ctx, &op->conn, err);
	if (rc < 0)
		return refuse(op, rc);
	rc = ctx->sops->begin(op->conn, mssl__op_txn_mode(ctx, id));
	if (rc < 0) {
		mssl__op_store_error(op, rc);
		return refuse(op, rc);
	}
	if (d->account == ACC_REQUIRED || (d->account == ACC_OPTIONAL &&
					   account_id)) {
		if (!account_id) {
			rc = mssl__error_set(err, MSSL_EINPUT,
					     "account.missing", "account",
					     N_("an account ID is required"));
			return mssl__op_end(op, rc);
		}
		rc = ctx->sops->account_get(op->conn, account_id, mssl__op_copy_account,
					    op);
		if (rc == MSSL_ENOENT)
			rc = mssl__error_set(err, MSSL_ENOENT,
					     "account.not_found", "account",
					     N_("there is no account %s"),
					     account_id);
		else if (rc < 0)
			rc = mssl__op_store_error(op, rc);
		else if (role != MSSL_ROLE_OPERATOR &&
			 op->account.status != MSSL_ACCOUNT_ACTIVE)
			rc = mssl__error_set(err, MSSL_ESTATE,
					     "account.suspended", "account",
					     N_("account %s is suspended; call the CA"),
					     account_id);
		if (rc < 0)
			return mssl__op_end(op, rc);
	}
	if (d->stream)
		return begin_stream(op);
	return 0;
}

int mssl__op_end(struct mssl__op *op, int rc)
{
	mssl_ctx *ctx = op->ctx;
	int r, stopped = rc > 0 ? rc : 0;

	/* A positive rc is a caller's callback stopping early: success. */
	if (rc > 0)
		rc = 0;
	if (rc == 0 && (op->streaming || op->quiet)) {
		/* Audited before the first row went out, or not at all. */
		r = ctx->sops->commit(op->conn);
		if (r < 0) {
			ctx->sops->rollback(op->conn);
			rc = mssl__op_store_error(op, r);
		}
	} else if (rc == 0) {
		r = mssl__audit_append(ctx, op->conn, op->actor,
				       op->account_id, mssl__op_name(op->id),
				       op->object, "ok",
				       op->detail[0] ? op->detail : NULL,
				       op->err);
		if (r == 0) {
			r = ctx->sops->commit(op->conn);
			if (r < 0)
				r = mssl__op_store_error(op, r);
		}
		if (r < 0) {
			char *why = mssl__strdup(
				mssl_error_message(op->err, MSSL_LANG_EN));

			ctx->sops->rollback(op->conn);
			rc = r == MSSL_EBUSY ? r : MSSL_EAUDIT;
			if (rc == MSSL_EAUDIT)
				mssl__error_set(op->err, MSSL_EAUDIT,
						"audit.write", NULL,
						N_("the operation was not done because its audit record could not be written: %s"),
						why ? why : "");
			free(why);
		}
	} else {
		ctx->sops->rollback(op->conn);
		audit_failure(op, rc);
	}
	op_release(op);
	return rc == 0 ? stopped : rc;
}

int mssl__op_end_refused(struct mssl__op *op, int rc)
{
	mssl_ctx *ctx = op->ctx;
	char detail[768];
	int r;

	failure_detail(op, rc, detail, sizeof(detail));
	r = mssl__audit_append(ctx, op->conn, op->actor, op->account_id,
			       mssl__op_name(op->id), op->object, "refused",
			       detail, NULL);
	if (r == 0)
		r = ctx->sops->commit(op->conn);
	if (r < 0) {
		/* Nothing kept: at least the refusal is recorded. */
		ctx->sops->rollback(op->conn);
		audit_failure(op, rc);
	}
	op_release(op);
	return rc;
}

/*
 * Does the store declare minor 'minor' or later, with its ops reaching
 * 'member' (the host reads no pointer past the plugin's size)?
 */
#define STORE_REACHES(o, minor, member)                                      \
	((o) && (o)->abi_minor >= (minor) &&                                 \
	 (o)->size >= offsetof(struct mssl_store_ops, member) +              \
			      sizeof((o)->member))

bool mssl__store_has_cards(const mssl_ctx *ctx)
{
	const struct mssl_store_ops *o = ctx->sops;

	return STORE_REACHES(o, 2, unlock_set_used) && o->unlock_set_used;
}

bool mssl__store_has_remind(const mssl_ctx *ctx)
{
	const struct mssl_store_ops *o = ctx->sops;

	return STORE_REACHES(o, 4, remind_each) && o->remind_due &&
	       o->remind_insert && o->remind_each;
}

bool mssl__store_has_cert_match(const mssl_ctx *ctx)
{
	const struct mssl_store_ops *o = ctx->sops;

	return STORE_REACHES(o, 5, cert_match) && o->cert_match;
}
