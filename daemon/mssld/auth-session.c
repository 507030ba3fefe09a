/*
 * The session resolver: where libmssl's sessions plug into mssld.
 *
 * The token is looked up through mssl_session_resume (the store keeps
 * only its hash; expiry, idle time, person, card and account are checked
 * there).  The CSRF token of a session is derived from its token,
 * hex(SHA-256("mssl-csrf-v1:" || token)): the login answer gives it to
 * the client, and a page on another site cannot compute it without the
 * HttpOnly cookie.
 */
#include "auth.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Equal strings, in time independent of where they differ. */
static bool same(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned char d = na != nb;

	for (i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int mssld_auth_resolve(const struct mssld_auth_in *in,
		       struct mssld_auth_out *out, mssl_error *err)
{
	mssl_actor *actor = NULL;
	mssl_session_info *info = NULL;
	char want[65];
	int rc;

	rc = mssl_session_resume(in->ctx, in->token, in->remote, &actor,
				 &info, err);
	if (rc == MSSL_EPERM)
		return MSSLD_AUTH_UNAUTHENTICATED;
	if (rc < 0)
		return MSSLD_AUTH_ERROR;
	if (in->need_csrf &&
	    (!in->csrf || mssld_csrf_token(in->token, want) < 0 ||
	     !same(in->csrf, want))) {
		mssl_actor_free(actor);
		mssl_session_info_free(info);
		mssl_error_set(err, MSSL_EPERM, "auth.csrf", NULL,
			       N_("the request lacks this session's CSRF token"));
		return MSSLD_AUTH_FORBIDDEN;
	}
	out->actor = actor;
	out->account_id = strdup(info->account_id);
	out->role = (int)info->role;
	out->pin_change_only = info->pin_change_only != 0;
	out->person_name = strdup(info->person_name ? info->person_name : "");
	out->person_id = info->person_id;
	out->card_id = info->card_id;
	out->expires = info->expires;
	mssl_session_info_free(info);
	if (!out->account_id || !out->person_name) {
		free(out->account_id);
		free(out->person_name);
		out->account_id = out->person_name = NULL;
		mssl_actor_free(out->actor);
		out->actor = NULL;
		return MSSLD_AUTH_ERROR;
	}
	return MSSLD_AUTH_OK;
}

int mssld_auth_expire(mssl_ctx *ctx, const mssl_actor *actor,
		      int64_t *n_expired, mssl_error *err)
{
	(void)actor;
	*n_expired = 0; /* the store does not count what it dropped */
	return mssl_login_purge(ctx, err);
}
