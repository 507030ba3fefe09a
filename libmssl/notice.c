/* Notices the operator publishes on the users' home screen (SPEC §3.5). */
#include "op.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TITLE_MAX 200
#define BODY_MAX 8000


MSSL_API int mssl_notice_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *title,
			     const char *body, int64_t expires,
			     int64_t *id_out, mssl_error *err)
{
	struct mssl__op op;
	int64_t id = 0, now;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_NOTICE_ADD, account_id,
			    title, err);
	if (rc < 0)
		return rc;
	now = mssl__now(ctx);
	if (mssl__str_empty(title) || strlen(title) > TITLE_MAX)
		rc = mssl__error_set(err, MSSL_EINPUT, "notice.title", "title",
				     N_("a notice needs a title of 1 to %d bytes"),
				     TITLE_MAX);
	else if (mssl__str_empty(body) || strlen(body) > BODY_MAX)
		rc = mssl__error_set(err, MSSL_EINPUT, "notice.body", "body",
				     N_("a notice needs a body of 1 to %d bytes"),
				     BODY_MAX);
	else if (expires != 0 && expires <= now)
		rc = mssl__error_set(err, MSSL_EINPUT, "notice.expires",
				     "expires",
				     N_("a notice's expiry must be in the future"));
	if (rc < 0)
		goto out;
	rc = ctx->sops->notice_insert(
			op.conn,
			&(struct mssl_notice_rec){
				.time = now,
				.expires = expires,
				.account_id = account_id,
				.title = title,
				.body = body,
				.author = mssl__actor_label(actor) },
			&id);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "notice %" PRId64 " for %s", id,
		 account_id ? account_id : "everyone");
	if (id_out)
		*id_out = id;
out:
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_notice_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, mssl_notice_cb cb,
			      void *ud, mssl_error *err)
{
	struct mssl__op op;
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	/* Members see their own account's notices and those for everyone. */
	if (mssl__actor_role(actor) != MSSL_ROLE_OPERATOR)
		account_id = mssl__actor_account(actor);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_NOTICE_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->notice_each(op.conn, op.account_id, mssl__now(ctx), cb,
				    ud);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}
