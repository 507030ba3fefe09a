/*
 * The audit log: an append-only, hash-chained list of records.
 *
 * Record n's hash is SHA-256(hash of record n-1 || canonical(n)), where the
 * canonical form is a version label followed by every field, each as a
 * 4-byte big-endian length and its bytes (NULL as length 0xffffffff, so
 * NULL and "" differ).  The store also keeps the head (last seq and hash)
 * apart from the rows.  Changing, removing or reordering any record, or
 * removing the newest ones, therefore breaks the chain at the first record
 * touched.  (Someone who rewrites every later record and the head can only
 * be caught against a head exported earlier: see mssl-admin audit verify.)
 */
#include "op.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define CANON_LABEL "mssl-audit-v1"

int mssl__audit_hash(const struct mssl_audit_rec *r, uint8_t out[32])
{
	char seq[24], when[24];
	const char *fields[11];
	uint8_t stack[1024], *buf = stack;
	size_t i, n, need;
	int rc;

	snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
	snprintf(when, sizeof(when), "%" PRId64, r->time);
	fields[0] = CANON_LABEL;
	fields[1] = seq;
	fields[2] = when;
	fields[3] = r->actor_role;
	fields[4] = r->actor_name;
	fields[5] = r->account_id;
	fields[6] = r->remote;
	fields[7] = r->action;
	fields[8] = r->object;
	fields[9] = r->outcome;
	fields[10] = r->detail;
	/* prev_hash || F(field)...; on the stack unless a field is long. */
	for (i = 0, need = 32; i < 11; i++)
		need += 4 + (fields[i] ? strlen(fields[i]) : 0);
	if (need > sizeof(stack) && !(buf = malloc(need)))
		return MSSL_ENOMEM;
	memcpy(buf, r->prev_hash, 32);
	for (i = 0, n = 32; i < 11; i++) {
		uint32_t len = fields[i] ? (uint32_t)strlen(fields[i]) :
					   0xffffffffu;

		buf[n++] = (uint8_t)(len >> 24);
		buf[n++] = (uint8_t)(len >> 16);
		buf[n++] = (uint8_t)(len >> 8);
		buf[n++] = (uint8_t)len;
		if (fields[i]) {
			memcpy(buf + n, fields[i], len);
			n += len;
		}
	}
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, n, out) < 0 ?
		     MSSL_ECRYPTO :
		     0;
	if (buf != stack)
		free(buf);
	return rc;
}

int mssl__audit_append(mssl_ctx *ctx, void *conn, const mssl_actor *actor,
		       const char *account_id, const char *action,
		       const char *object, const char *outcome,
		       const char *detail, mssl_error *err)
{
	struct mssl_audit_rec r;
	int64_t seq = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = ctx->sops->audit_head(conn, &seq, r.prev_hash);
	if (rc < 0)
		goto fail;
	r.seq = seq + 1;
	r.time = mssl__now(ctx);
	r.actor_role = mssl__actor_anonymous_p(actor) ?
			       "anonymous" :
			       mssl_role_name(mssl__actor_role(actor));
	r.actor_name = mssl__actor_name(actor);
	r.account_id = account_id;
	r.remote = mssl__actor_remote(actor);
	r.action = action;
	r.object = object;
	r.outcome = outcome;
	r.detail = detail;
	if ((rc = mssl__audit_hash(&r, r.hash)) < 0)
		goto fail;
	rc = ctx->sops->audit_insert(conn, &r);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	mssl__plugin_error(ctx, rc, err);
	return mssl__error_set(err, MSSL_EAUDIT, "audit.write", NULL,
			       N_("the audit record could not be written: %s"),
			       mssl_strerror(rc));
}

struct verify {
	int64_t expect;
	uint8_t prev[32];
	mssl_error *err;
};

static int verify_one(void *ud, const struct mssl_audit_rec *r)
{
	struct verify *v = ud;
	uint8_t h[32];
	int rc;

	if (r->seq != v->expect)
		return mssl__error_set(v->err, MSSL_ETAMPER, "audit.gap", NULL,
				       N_("audit record %" PRId64 " is missing or out of order: record %" PRId64 " comes next; records were removed or reordered"),
				       v->expect, r->seq);
	if (memcmp(r->prev_hash, v->prev, 32) != 0)
		return mssl__error_set(v->err, MSSL_ETAMPER, "audit.link", NULL,
				       N_("audit record %" PRId64 " does not follow record %" PRId64 ": the chain is broken there; a record was changed, removed or reordered"),
				       r->seq, r->seq - 1);
	if ((rc = mssl__audit_hash(r, h)) < 0)
		return rc;
	if (memcmp(h, r->hash, 32) != 0)
		return mssl__error_set(v->err, MSSL_ETAMPER, "audit.altered",
				       NULL,
				       N_("audit record %" PRId64 " was altered: its content does not match its hash"),
				       r->seq);
	memcpy(v->prev, r->hash, 32);
	v->expect++;
	return 0;
}

MSSL_API int mssl_audit_verify(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t *n_records, mssl_error *err)
{
	struct mssl__op op;
	struct verify v = { .expect = 1, .err = err };
	uint8_t head[32];
	int64_t head_seq = 0;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_AUDIT_VERIFY, NULL, NULL,
			    err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->audit_head(op.conn, &head_seq, head);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	rc = ctx->sops->audit_each(op.conn, 1, verify_one, &v);
	if (rc < 0 && rc != MSSL_ETAMPER) {
		if (rc != MSSL_ECRYPTO)
			rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	if (rc == 0 && (v.expect - 1 != head_seq ||
			memcmp(head, v.prev, 32) != 0))
		rc = mssl__error_set(err, MSSL_ETAMPER, "audit.head", NULL,
				     N_("the audit log ends at record %" PRId64 " but its head names record %" PRId64 ": the newest records were removed or the head was altered"),
				     v.expect - 1, head_seq);
	if (rc == 0) {
		snprintf(op.detail, sizeof(op.detail),
			 "%" PRId64 " records verified", v.expect - 1);
		if (n_records)
			*n_records = v.expect - 1;
	}
out:
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_audit_export(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t from_seq, mssl_audit_cb cb, void *ud,
			       mssl_error *err)
{
	struct mssl__op op;
	char from[32];
	int rc;


	return_val_if_fail(cb, MSSL_EINVAL);
	if (from_seq < 1)
		from_seq = 1;
	snprintf(from, sizeof(from), "from %" PRId64, from_seq);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_AUDIT_EXPORT, NULL, from,
			    err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->audit_each(op.conn, from_seq, cb, ud);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}
