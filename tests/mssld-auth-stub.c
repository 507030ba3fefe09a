/*
 * A session resolver for tests (in place of daemon/mssld/auth-session.c)
 * so that the handlers behind a session can be reached before libmssl
 * has sessions.  Fixed tokens:
 *   test-manager-token-0001  manager of $MSSLD_TEST_ACCOUNT, CSRF
 *                            token test-csrf-token-0001
 *   test-slow-token-0000001  the same, after two seconds (a request
 *                            in flight for the SIGTERM test)
 * Anything else is no session.  Never linked into mssld itself.
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSRF "test-csrf-token-0001"

int mssld_auth_resolve(const struct mssld_auth_in *in,
		       struct mssld_auth_out *out, mssl_error *err)
{
	const char *acc = getenv("MSSLD_TEST_ACCOUNT");

	if (!acc)
		acc = "70759028-01";
	if (strcmp(in->token, "test-slow-token-0000001") == 0)
		sleep(2);
	else if (strcmp(in->token, "test-manager-token-0001") != 0) {
		mssl_error_set(err, MSSL_ESTATE, "auth.no_session", NULL,
			       "no such session: log in again");
		return MSSLD_AUTH_UNAUTHENTICATED;
	}
	if (in->need_csrf && (!in->csrf || strcmp(in->csrf, CSRF) != 0)) {
		mssl_error_set(err, MSSL_EPERM, "auth.csrf_mismatch", NULL,
			       "the CSRF token does not match the session");
		return MSSLD_AUTH_FORBIDDEN;
	}
	out->actor = mssl_actor_new(MSSL_ROLE_MANAGER, "test-manager", acc,
				    in->remote);
	out->account_id = strdup(acc);
	out->role = MSSL_ROLE_MANAGER;
	if (!out->actor || !out->account_id) {
		mssl_actor_free(out->actor);
		free(out->account_id);
		out->actor = NULL;
		out->account_id = NULL;
		return MSSLD_AUTH_ERROR;
	}
	return MSSLD_AUTH_OK;
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
