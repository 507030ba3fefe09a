/*
 * Whole card flows that join the card and the server side: the login
 * proof, the operator's enrolment and the holder's unlock.  The server
 * side here is libmssl in the same process (mssl-admin, mssl-card with a
 * local configuration); the daemon's clients send the same data over
 * HTTP.
 */
#include "internal.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MSSL_API int mssl_token_prove(mssl_token *tok, struct mssl_login_proof *p,
			      mssl_error *err)
{
	uint8_t *cert = NULL, *blob = NULL, *sig = NULL;
	size_t cert_len = 0, blob_len = 0, sig_len = 0;
	int alg = 0, rc;

	if (!tok || !p)
		return mssl_error_set(err, MSSL_EINVAL, "token.args", NULL,
				      N_("no card or no proof given"));
	p->cert = NULL;
	p->sig = NULL;
	rc = mssl_token_cert(tok, &cert, &cert_len, err);
	if (rc < 0)
		return rc;
	p->cert = cert;
	p->cert_len = cert_len;
	rc = mssl_login_blob(p, &blob, &blob_len);
	if (rc < 0) {
		mssl_error_set(err, rc, "token.proof", NULL, N_("the login request is incomplete"));
		goto fail;
	}
	rc = mssl_token_sign(tok, blob, blob_len, &sig, &sig_len, &alg, err);
	mssl_free(blob);
	if (rc < 0)
		goto fail;
	p->sig = sig;
	p->sig_len = sig_len;
	p->sig_alg = alg;
	return 0;
fail:
	mssl_free(cert);
	p->cert = NULL;
	p->cert_len = 0;
	return rc;
}

MSSL_API void mssl_token_proof_clear(struct mssl_login_proof *p)
{
	if (!p)
		return;
	mssl_free((void *)p->cert);
	mssl_free((void *)p->sig);
	p->cert = NULL;
	p->sig = NULL;
	p->cert_len = p->sig_len = 0;
}

/* How much of the derived SO PIN this card takes (at least 8). */
static int so_pin_fit(mssl_token *tok, size_t *len, mssl_error *err)
{
	const struct mssl_token_info *i = mssl_token_info(tok);
	size_t n = MSSL_SO_PIN_LEN;

	if (i->max_pin_len && i->max_pin_len < n)
		n = i->max_pin_len;
	if (n < 8 || (i->min_pin_len && n < i->min_pin_len))
		return mssl_error_set(err, MSSL_ESTATE, "token.pin_len", NULL,
				      N_("this card takes SO PINs of %lu to %lu characters; mssl needs at least 8"),
				      i->min_pin_len, i->max_pin_len);
	*len = n;
	return 0;
}

MSSL_API int mssl_token_enroll(mssl_token *tok,
			       const struct mssl_token_enrollment *e,
			       int64_t *card_id, mssl_error *err)
{
	const struct mssl_token_info *info;
	char so[MSSL_SO_PIN_LEN + 1], serial[128];
	uint8_t *spki = NULL, *cert = NULL;
	size_t spki_len = 0, cert_len = 0, so_len = 0;
	int64_t cid = 0;
	int made = 0, rc;
	mssl_error *e2 = NULL;

	memset(so, 0, sizeof(so));
	if (!tok || !e || !e->ctx || !e->actor || !e->transport_so_pin)
		return mssl_error_set(err, MSSL_EINVAL, "token.args", NULL,
				      N_("the enrolment request is incomplete"));
	info = mssl_token_info(tok);
	if (!(info->flags & MSSL_TOKEN_INITIALIZED)) {
		rc = mssl_token_init(tok, e->transport_so_pin,
				     e->transport_so_len,
				     e->label ? e->label : "mssl card", err);
		if (rc < 0)
			return rc;
		info = mssl_token_info(tok);
	}
	snprintf(serial, sizeof(serial), "%s", info->serial);
	if ((rc = so_pin_fit(tok, &so_len, err)) < 0 ||
	    (rc = mssl_card_so_pin(e->ctx, e->actor, serial, so, err)) < 0)
		goto out;
	so[so_len] = '\0';
	if (e->transport_so_len != so_len ||
	    memcmp(e->transport_so_pin, so, so_len) != 0) {
		rc = mssl_token_set_so_pin(tok, e->transport_so_pin,
					   e->transport_so_len, so, so_len,
					   err);
		if (rc < 0)
			goto out;
	}
	if ((rc = mssl_token_init_user_pin(tok, so, so_len,
					   MSSL_TOKEN_ISSUED_PIN,
					   strlen(MSSL_TOKEN_ISSUED_PIN),
					   err)) < 0 ||
	    (rc = mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN,
				   strlen(MSSL_TOKEN_ISSUED_PIN), err)) < 0 ||
	    (rc = mssl_token_keygen(tok, e->key_type, MSSL_TOKEN_KEYGEN_REPLACE,
				    NULL, &spki, &spki_len, &made, err)) < 0 ||
	    (rc = mssl_card_certify(e->ctx, e->actor, e->person_id, serial,
				    spki, spki_len, &cert, &cert_len, &cid,
				    err)) < 0)
		goto out;
	rc = mssl_token_write_cert(tok, cert, cert_len, NULL, err);
	if (rc < 0) {
		/* Registered but not on the card: that card must not count. */
		if ((e2 = mssl_error_new()))
			mssl_card_set_state(e->ctx, e->actor, cid, "revoked",
					    "enrolment failed: the certificate could not be written to the card",
					    e2);
		mssl_error_free(e2);
		goto out;
	}
	if (card_id)
		*card_id = cid;
out:
	mssl_token_logout(tok);
	gnutls_memset(so, 0, sizeof(so));
	mssl_free(spki);
	mssl_free(cert);
	return rc;
}

MSSL_API int mssl_token_unlock_local(mssl_token *tok, mssl_ctx *ctx,
				     const char *account_id, const char *code,
				     const char *new_pin, size_t new_len,
				     const char *remote, mssl_error *err)
{
	const struct mssl_token_info *info = mssl_token_info(tok);
	char so[MSSL_SO_PIN_LEN + 1], serial[128];
	size_t so_len = 0;
	int rc;

	memset(so, 0, sizeof(so));
	snprintf(serial, sizeof(serial), "%s", info->serial);
	/*
	 * The PIN is checked against the policy and against what the card
	 * takes before the one-time code is spent: a PIN the card refuses
	 * afterwards would cost the holder a new approval.
	 */
	if ((rc = mssl_token_pin_check(new_pin, new_len, "new_pin", err)) < 0)
		return rc;
	rc = mssl__token_card_len_check(tok, new_len, "new_pin", err);
	if (rc < 0 || (rc = so_pin_fit(tok, &so_len, err)) < 0)
		return rc;
	rc = mssl_card_unlock_begin(ctx, account_id, serial, code, remote, so,
				    err);
	if (rc < 0)
		goto out;
	rc = mssl_token_unblock(tok, so, so_len, new_pin, new_len, err);
	if (rc < 0)
		goto out;
	rc = mssl_card_unlock_done(ctx, account_id, serial, code, remote, err);
out:
	gnutls_memset(so, 0, sizeof(so));
	return rc;
}
