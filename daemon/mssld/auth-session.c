/*
 * The session resolver: where login and sessions plug into mssld.
 *
 * This file is the whole seam (see auth.h).  It is to look the token up
 * through libmssl's session API (hashed in the store), check the CSRF
 * token when in->need_csrf, the session's expiry and its card, and build
 * the actor (role, person, account, in->remote).  Until that API exists,
 * no session can be found: every session route answers 401, which the
 * tests assert.
 */
#include "auth.h"

int mssld_auth_resolve(const struct mssld_auth_in *in,
		       struct mssld_auth_out *out, mssl_error *err)
{
	(void)in;
	(void)out;
	mssl_error_set(err, MSSL_ESTATE, "auth.no_session", NULL,
		       N_("no such session: log in again"));
	return MSSLD_AUTH_UNAUTHENTICATED;
}

int mssld_auth_expire(mssl_ctx *ctx, const mssl_actor *actor,
		      int64_t *n_expired, mssl_error *err)
{
	(void)ctx;
	(void)actor;
	(void)err;
	*n_expired = 0;
	return 0;
}
