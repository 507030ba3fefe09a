/*
 * The cert-year ledger (張年數).  The balance is never stored apart from
 * the entries: it is the last entry's balance_after, and every entry's
 * balance_after is the previous one plus its delta, never negative.
 * mssl_ledger_check proves both from the entries themselves.
 */
#include "op.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A top-up or adjustment beyond this is a typing error, not a sale. */
#define MAX_YEARS 1000000

MSSL_API const char *mssl_ledger_kind_name(int kind)
{
	switch (kind) {
	case MSSL_LEDGER_TOPUP:
		return "top-up";
	case MSSL_LEDGER_CHARGE:
		return "charge";
	case MSSL_LEDGER_REFUND:
		return "refund";
	case MSSL_LEDGER_ADJUSTMENT:
		return "adjustment";
	default:
		return "unknown";
	}
}

int mssl__ledger_post(struct mssl__op *op, int kind, int64_t delta,
		      const char *memo, const char *cert_serial,
		      int64_t *balance_after)
{
	struct mssl_ledger_rec r;
	int64_t bal = 0, id = 0;
	int rc;

	rc = op->ctx->sops->ledger_balance(op->conn, op->account_id, &bal);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	if (bal + delta < 0)
		return mssl__error_set(op->err, MSSL_EBALANCE, "ledger.balance",
				       kind == MSSL_LEDGER_ADJUSTMENT ? "delta" :
									"years",
				       N_("the balance of account %s is %" PRId64 " cert-years; %" PRId64 " would take it below zero"),
				       op->account_id, bal, delta);
	memset(&r, 0, sizeof(r));
	r.account_id = op->account_id;
	r.time = mssl__now(op->ctx);
	r.kind = kind;
	r.delta = delta;
	r.balance_after = bal + delta;
	r.actor = mssl__actor_label(op->actor);
	r.memo = mssl__str_empty(memo) ? NULL : memo;
	r.cert_serial = cert_serial;
	rc = op->ctx->sops->ledger_insert(op->conn, &r, &id);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	snprintf(op->detail, sizeof(op->detail),
		 "%s %+" PRId64 " balance %" PRId64 " entry %" PRId64,
		 mssl_ledger_kind_name(kind), delta, r.balance_after, id);
	if (balance_after)
		*balance_after = r.balance_after;
	return 0;
}

static int change(mssl_ctx *ctx, const mssl_actor *actor, int op_id,
		  int kind, const char *account_id, int64_t delta,
		  const char *memo, int64_t *balance_after, mssl_error *err)
{
	struct mssl__op op;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, op_id, account_id, account_id,
			    err);
	if (rc < 0)
		return rc;
	if (kind == MSSL_LEDGER_TOPUP && (delta < 1 || delta > MAX_YEARS))
		rc = mssl__error_set(err, MSSL_EINPUT, "ledger.years", "years",
				     N_("a top-up must be between 1 and %d cert-years, not %" PRId64),
				     MAX_YEARS, delta);
	else if (kind == MSSL_LEDGER_ADJUSTMENT &&
		 (delta == 0 || delta > MAX_YEARS || delta < -MAX_YEARS))
		rc = mssl__error_set(err, MSSL_EINPUT, "ledger.delta", "delta",
				     N_("an adjustment must be a non-zero number of cert-years between -%d and %d, not %" PRId64),
				     MAX_YEARS, MAX_YEARS, delta);
	else if (kind == MSSL_LEDGER_ADJUSTMENT && mssl__str_empty(memo))
		rc = mssl__error_set(err, MSSL_EINPUT, "ledger.memo", "memo",
				     N_("an adjustment needs a memo saying why"));
	else
		rc = mssl__ledger_post(&op, kind, delta, memo, NULL,
				       balance_after);
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_topup(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, int64_t years,
			const char *memo, int64_t *balance_after,
			mssl_error *err)
{
	return change(ctx, actor, MSSL_OP_TOPUP, MSSL_LEDGER_TOPUP, account_id,
		      years, memo, balance_after, err);
}

MSSL_API int mssl_adjust(mssl_ctx *ctx, const mssl_actor *actor,
			 const char *account_id, int64_t delta,
			 const char *memo, int64_t *balance_after,
			 mssl_error *err)
{
	return change(ctx, actor, MSSL_OP_ADJUST, MSSL_LEDGER_ADJUSTMENT,
		      account_id, delta, memo, balance_after, err);
}

MSSL_API int mssl_ledger_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, int newest_first,
			      int64_t offset, int64_t limit, mssl_ledger_cb cb,
			      void *ud, mssl_error *err)
{
	struct mssl__op op;
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_LEDGER_SHOW, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	if (offset < 0 || limit < 0)
		rc = mssl__error_set(err, MSSL_EINPUT, "ledger.page", "offset",
				     N_("offset and limit must not be negative"));
	else
		rc = ctx->sops->ledger_each(op.conn, op.account_id,
					    newest_first, offset, limit, cb,
					    ud);
	if (rc < 0 && mssl_error_code(err) != rc)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}

struct check {
	const char *account;
	int64_t prev;
	int64_t n;
	mssl_error *err;
};

static int check_entry(void *ud, const struct mssl_ledger_rec *r)
{
	struct check *c = ud;

	c->n++;
	if (r->balance_after != c->prev + r->delta)
		return mssl__error_set(c->err, MSSL_ELEDGER, "ledger.chain",
				       NULL,
				       N_("account %s, ledger entry %" PRId64 ": balance after is %" PRId64 " but the previous balance %" PRId64 " plus %" PRId64 " is %" PRId64),
				       c->account, r->id, r->balance_after,
				       c->prev, r->delta, c->prev + r->delta);
	if (r->balance_after < 0)
		return mssl__error_set(c->err, MSSL_ELEDGER,
				       "ledger.negative", NULL,
				       N_("account %s, ledger entry %" PRId64 ": the balance is negative (%" PRId64 ")"),
				       c->account, r->id, r->balance_after);
	c->prev = r->balance_after;
	return 0;
}

static int check_account(struct mssl__op *op, const char *id,
			 int64_t *n_checked)
{
	struct check c = { .account = id, .err = op->err };
	int64_t bal = 0;
	int rc;

	rc = op->ctx->sops->ledger_each(op->conn, id, 0, 0, 0, check_entry,
					&c);
	if (rc == MSSL_ELEDGER)
		return rc;
	if (rc == 0)
		rc = op->ctx->sops->ledger_balance(op->conn, id, &bal);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	*n_checked += c.n;
	if (bal != c.prev)
		return mssl__error_set(op->err, MSSL_ELEDGER, "ledger.sum",
				       NULL,
				       N_("account %s: the balance is %" PRId64 " but its entries add up to %" PRId64),
				       id, bal, c.prev);
	return 0;
}

struct ids {
	char **v;
	size_t n, cap;
};

static int collect_id(void *ud, const struct mssl_account_rec *r)
{
	struct ids *ids = ud;

	if (ids->n + 1 >= ids->cap) {
		size_t nc = ids->cap ? ids->cap * 2 : 16;
		char **v = realloc(ids->v, nc * sizeof(*v));

		if (!v)
			return MSSL_ENOMEM;
		ids->v = v;
		ids->cap = nc;
	}
	ids->v[ids->n] = strdup(r->id);
	if (!ids->v[ids->n])
		return MSSL_ENOMEM;
	ids->v[++ids->n] = NULL;
	return 0;
}

MSSL_API int mssl_ledger_check(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id, int64_t *n_checked,
			       mssl_error *err)
{
	struct mssl__op op;
	struct ids ids = { 0 };
	int64_t n = 0;
	size_t i;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_LEDGER_CHECK, account_id,
			    account_id ? account_id : "all", err);
	if (rc < 0)
		return rc;
	if (account_id)
		rc = collect_id(&ids, &(struct mssl_account_rec){
					      .id = account_id });
	else
		rc = ctx->sops->account_each(op.conn, collect_id, &ids);
	if (rc < 0 && rc != MSSL_ENOMEM)
		rc = mssl__op_store_error(&op, rc);
	for (i = 0; rc == 0 && i < ids.n; i++)
		rc = check_account(&op, ids.v[i], &n);
	if (rc == 0) {
		snprintf(op.detail, sizeof(op.detail),
			 "%zu accounts, %" PRId64 " entries consistent", ids.n,
			 n);
		if (n_checked)
			*n_checked = n;
	}
	mssl__strv_free(ids.v);
	return mssl__op_end(&op, rc);
}
