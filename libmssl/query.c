/*
 * Queries behind the account user's screens (SPEC §3.5, §7): what a role
 * may do (the menu), the account's certificates with filters and pages,
 * one certificate, and the home screen's statistics.  Role and account
 * checks are the operation frame's (op.c), like every other operation.
 */
#include "op.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

MSSL_API int mssl_role_allows(mssl_role role, const char *action)
{
	int id;

	if (!action)
		return 0;
	for (id = 0; id < MSSL_OP__COUNT; id++)
		if (strcmp(mssl__op_name(id), action) == 0)
			return mssl__op_role_allowed(id, role) ? 1 : 0;
	return 0;
}

static bool state_known(const char *s)
{
	static const char *const states[] = { "pending", "issued", "revoked",
					      "failed" };
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(states); i++)
		if (strcmp(s, states[i]) == 0)
			return true;
	return false;
}

/* Is 'name' the domain or a name under it (case-insensitive)? */
static bool in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' &&
	       strcasecmp(name + n - d, domain) == 0;
}

/* strcasestr without the GNU extension's locale dependence. */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; hay[i]; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return n == 0;
}

struct listing {
	const mssl_cert_query *q;
	mssl_cert_cb cb;
	void *ud;
	int64_t skip; /* matches still to skip (offset) */
	int64_t left; /* matches still to hand over; -1: no limit */
};

static int list_one(void *ud, const struct mssl_cert_rec *r)
{
	struct listing *l = ud;

	if (l->q->cn_contains && l->q->cn_contains[0] &&
	    !contains(r->cn ? r->cn : "", l->q->cn_contains))
		return 0;
	if (l->q->domain && l->q->domain[0] &&
	    !in_domain(r->cn ? r->cn : "", l->q->domain))
		return 0;
	if (l->skip > 0) {
		l->skip--;
		return 0;
	}
	if (l->left == 0)
		return 1; /* a page is full: stop reading */
	if (l->left > 0)
		l->left--;
	return l->cb(l->ud, r);
}

/* Check the query; MSSL_EINPUT naming the field. */
static int query_check(const mssl_cert_query *q, mssl_error *err)
{
	if (q->state && q->state[0] && !state_known(q->state))
		return mssl__error_set(err, MSSL_EINPUT, "query.state",
				       "state",
				       N_("state must be pending, issued, revoked or failed, not \"%s\""),
				       q->state);
	if (q->offset < 0)
		return mssl__error_set(err, MSSL_EINPUT, "query.offset",
				       "offset",
				       N_("offset must be zero or more"));
	if (q->limit < 0)
		return mssl__error_set(err, MSSL_EINPUT, "query.limit",
				       "limit",
				       N_("limit must be zero (all) or more"));
	return 0;
}

MSSL_API int mssl_cert_list(mssl_ctx *ctx, const mssl_actor *actor,
			    const char *account_id, const mssl_cert_query *q,
			    mssl_cert_cb cb, void *ud, mssl_error *err)
{
	static const mssl_cert_query all = { 0 };
	struct mssl_cert_filter f = { 0 };
	struct listing l = { 0 };
	struct mssl__op op;
	bool filtered;
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	if (!q)
		q = &all;
	rc = query_check(q, err);
	if (rc < 0)
		return rc;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	f.account_id = op.account_id;
	f.state = q->state && q->state[0] ? q->state : NULL;
	f.newest_first = q->newest_first;
	filtered = (q->cn_contains && q->cn_contains[0]) ||
		   (q->domain && q->domain[0]);
	if (filtered && mssl__store_has_cert_match(ctx)) {
		/* The store filters, skips and counts matches itself. */
		struct mssl_cert_match m = {
			.size = sizeof(m),
			.cn_contains = q->cn_contains,
			.domain = q->domain,
		};

		f.offset = q->offset;
		f.limit = q->limit;
		rc = ctx->sops->cert_match(op.conn, &f, &m, cb, ud);
		if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
		return mssl__op_end(&op, rc);
	}
	l.q = q;
	l.cb = cb;
	l.ud = ud;
	l.left = q->limit ? q->limit : -1;
	if (filtered) {
		/* A store older than ABI 1.5 filters by exact CN only: the
		 * rest is read here, row by row, stopping once the page is
		 * full. */
		l.skip = q->offset;
	} else {
		f.offset = q->offset;
		f.limit = q->limit;
	}
	rc = ctx->sops->cert_each(op.conn, &f, list_one, &l);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	else if (rc == 1 && l.left == 0)
		rc = 0; /* our own stop, not the caller's */
	return mssl__op_end(&op, rc);
}

struct one {
	const char *account_id;
	mssl_cert_cb cb;
	void *ud;
	bool found;
	int rc;
};

static int get_one(void *ud, const struct mssl_cert_rec *r)
{
	struct one *o = ud;

	/* Another account's certificate is as absent as none. */
	if (!r->account_id || strcmp(r->account_id, o->account_id) != 0)
		return 0;
	o->found = true;
	o->rc = o->cb(o->ud, r);
	return 0;
}

MSSL_API int mssl_cert_get(mssl_ctx *ctx, const mssl_actor *actor,
			   const char *account_id, const char *serial,
			   mssl_cert_cb cb, void *ud, mssl_error *err)
{
	struct one o = { 0 };
	struct mssl__op op;
	int rc;

	return_val_if_fail(cb && serial, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_LIST, account_id,
			    serial, err);
	if (rc < 0)
		return rc;
	o.account_id = op.account_id;
	o.cb = cb;
	o.ud = ud;
	rc = ctx->sops->cert_get(op.conn, serial, get_one, &o);
	if (rc < 0 && rc != MSSL_ENOENT)
		rc = mssl__op_store_error(&op, rc);
	else if (rc == MSSL_ENOENT || !o.found)
		rc = mssl__error_set(err, MSSL_ENOENT, "cert.not_found",
				     "serial",
				     N_("account %s has no certificate with serial %s"),
				     op.account_id, serial);
	else
		rc = o.rc;
	return mssl__op_end(&op, rc);
}

static int count_one(void *ud, const struct mssl_cert_rec *r)
{
	mssl_cert_stats *s = ud;

	if (strcmp(r->state, "issued") == 0) {
		s->issued++;
		if (r->not_after < s->now)
			s->expired++;
		else if (r->not_after < s->now + s->soon_days * 86400)
			s->expiring++;
	} else if (strcmp(r->state, "revoked") == 0) {
		s->revoked++;
	} else if (strcmp(r->state, "pending") == 0) {
		s->pending++;
	} else {
		s->failed++;
	}
	return 0;
}

MSSL_API int mssl_cert_stats_get(mssl_ctx *ctx, const mssl_actor *actor,
				 const char *account_id, int soon_days,
				 mssl_cert_stats *out, mssl_error *err)
{
	struct mssl_cert_filter f = { 0 };
	struct mssl__op op;
	int rc;

	return_val_if_fail(out && soon_days >= 0, MSSL_EINVAL);
	memset(out, 0, sizeof(*out));
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_LIST, account_id,
			    "statistics", err);
	if (rc < 0)
		return rc;
	out->now = mssl__now(ctx);
	out->soon_days = soon_days;
	f.account_id = op.account_id;
	rc = ctx->sops->cert_each(op.conn, &f, count_one, out);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	if (rc == 0)
		rc = ctx->sops->ledger_balance(op.conn, op.account_id,
					       &out->balance);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}
