/*
 * Login with a card, sessions and the card's PIN flows (SPEC §3, §8):
 * the handlers of /api/v1/auth/ and /api/v1/card/.  Every decision is
 * libmssl's (mssl_login, mssl_session_resume, mssl_pin_changed,
 * mssl_card_unlock_*); these handlers move JSON in and out, and set or
 * clear the session cookie.  All run on the thread pool.
 *
 * Binary values travel as standard base64.  With native TLS the
 * connection's tls-exporter value (RFC 9266) goes into the login proof
 * the server checks, so the client must sign the value of the very
 * connection it sends the login on; behind a proxy there is none.
 */
#include "auth.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The origin the proof must name ([login] origin). */
static const char *login_origin(const struct mssld_call *call)
{
	return mssl_ctx_config_get(call->ctx, "login", "origin");
}

void mssld_h_challenge(struct mssld_call *call)
{
	uint8_t nonce[MSSL_NONCE_LEN];
	const char *account;
	int64_t expires = 0;
	int rc;

	if (mssld_body_str(call, "account_id", true, &account) < 0)
		return;
	rc = mssl_account_id_check(account, call->err);
	if (rc == 0)
		rc = mssl_login_challenge(call->ctx, account, call->req->client,
					  nonce, &expires, call->err);
	if (rc < 0) {
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:s,s:o,s:I,s:o,s:o}", "account_id",
				  account, "nonce",
				  mssld_json_b64(nonce, sizeof(nonce)),
				  "expires", (json_int_t)expires, "origin",
				  mssld_jstr(login_origin(call)),
				  "channel_binding",
				  call->req->cb_len ?
					  json_string("tls-exporter") :
					  json_null()));
}

/*
 * The login proof of a body: origin, account_id, nonce, time, cert, sig,
 * sig_alg.  Decoded buffers go to *bufs (three, free()d by the caller).
 * Returns 0 or -1 with the answer set.
 */
static int proof_of(struct mssld_call *call, struct mssl_login_proof *p,
		    uint8_t *bufs[3])
{
	size_t nonce_len = 0;
	int64_t t, alg;

	memset(p, 0, sizeof(*p));
	if (mssld_body_str(call, "account_id", true, &p->account_id) < 0 ||
	    mssld_body_str(call, "origin", true, &p->origin) < 0 ||
	    mssld_body_b64(call, "nonce", true, &bufs[0], &nonce_len) < 0 ||
	    mssld_body_int(call, "time", true, 0, INT64_MAX / 2, 0, &t) < 0 ||
	    mssld_body_b64(call, "cert", true, &bufs[1], &p->cert_len) < 0 ||
	    mssld_body_b64(call, "sig", true, &bufs[2], &p->sig_len) < 0 ||
	    mssld_body_int(call, "sig_alg", true, 1, 1 << 20, 0, &alg) < 0)
		return -1;
	if (nonce_len != MSSL_NONCE_LEN) {
		mssld_resp_error(&call->resp, 400, "auth.nonce", "nonce",
				 N_("nonce must be the %d bytes the challenge gave"),
				 MSSL_NONCE_LEN);
		return -1;
	}
	p->nonce = bufs[0];
	p->time = t;
	p->cert = bufs[1];
	p->sig = bufs[2];
	p->sig_alg = (int)alg;
	if (call->req->cb_len) {
		p->tls_exporter = call->req->cb;
		p->tls_exporter_len = call->req->cb_len;
	}
	return 0;
}

static void bufs_free(uint8_t *bufs[3])
{
	free(bufs[0]);
	free(bufs[1]);
	free(bufs[2]);
}

/* libmssl's refusal of a login, with the status that fits. */
static void fail_login(struct mssld_call *call, int rc)
{
	if (rc == MSSL_EPERM)
		mssld_resp_mssl_error(&call->resp, 401, rc, call->err);
	else if (rc == MSSL_ESTATE &&
		 strcmp(mssl_error_id(call->err), "auth.throttled") == 0) {
		mssld_resp_mssl_error(&call->resp, 429, rc, call->err);
		snprintf(call->resp.extra, sizeof(call->resp.extra),
			 "Retry-After: 60\r\n");
	} else
		mssld_fail_lib(call, rc);
}

/* Menu items and the operation (libmssl's action) each needs. */
static const struct {
	const char *item;
	const char *action;
} menu_items[] = {
	{ "home", "notice.list" },	  { "account", "account.show" },
	{ "activity", "ledger.show" },	  { "certificates", "cert.list" },
	{ "export", "cert.list" },	  { "download", "cert.download" },
	{ "issue", "cert.issue" },	  { "renew", "cert.renewals" },
	{ "revoke", "cert.revoke" },
};

/* What the role may use; a PIN-change-only session only the PIN change. */
static json_t *menu_of(int role, bool pin_change_only)
{
	json_t *m = json_array();
	size_t i;

	for (i = 0; !pin_change_only && i < MSSLD_ARRAY_SIZE(menu_items); i++)
		if (mssl_role_allows((mssl_role)role, menu_items[i].action))
			json_array_append_new(m,
					      json_string(menu_items[i].item));
	json_array_append_new(m, json_string("pin_change"));
	json_array_append_new(m, json_string("logout"));
	return m;
}

static json_t *session_json(const char *account, int64_t person_id,
			    const char *person, int role, bool pin_only,
			    int64_t expires)
{
	return json_pack("{s:{s:s},s:{s:I,s:o},s:s,s:b,s:I,s:o}", "account",
			 "id", account, "person", "id", (json_int_t)person_id,
			 "name", mssld_jstr(person), "role",
			 mssl_role_name((mssl_role)role),
			 "pin_change_required", pin_only, "expires",
			 (json_int_t)expires, "menu", menu_of(role, pin_only));
}

void mssld_h_login(struct mssld_call *call)
{
	struct mssl_login_proof p;
	mssl_session_info *s = NULL;
	uint8_t *bufs[3] = { NULL, NULL, NULL };
	const char *mode, *old;
	char csrf[65], cookie[256];
	size_t old_len;
	bool bearer;
	json_t *j;
	int rc;

	if (mssld_body_str(call, "session", false, &mode) < 0)
		return;
	if (mode && strcmp(mode, "cookie") != 0 && strcmp(mode, "bearer") != 0) {
		mssld_resp_error(&call->resp, 400, "json.enum", "session",
				 N_("session must be \"cookie\" (a browser) or \"bearer\" (a program)"));
		return;
	}
	bearer = mode && strcmp(mode, "bearer") == 0;
	if (proof_of(call, &p, bufs) < 0)
		goto out;
	rc = mssl_login(call->ctx, &p, call->req->client, &s, call->err);
	if (rc < 0) {
		fail_login(call, rc);
		goto out;
	}
	/*
	 * A new session id at every login: a session the client came with
	 * (cookie or bearer) ends, so a planted one is never promoted.
	 */
	if (mssld_auth_credentials(call->req, &old, &old_len) !=
	    MSSLD_CRED_NONE) {
		char *t = strndup(old, old_len);
		mssl_error *e = mssl_error_new();

		if (t && strcmp(t, s->token) != 0)
			(void)mssl_logout(call->ctx, t, call->req->client, e);
		if (t) {
			memset(t, 0, old_len);
			free(t);
		}
		mssl_error_free(e);
	}
	if (mssld_csrf_token(s->token, csrf) < 0) {
		mssld_resp_error(&call->resp, 503, "nomem", NULL,
				 N_("out of memory"));
		goto out;
	}
	j = session_json(s->account_id, s->person_id, s->person_name,
			 (int)s->role, s->pin_change_only != 0, s->expires);
	json_object_set_new(j, "idle_expires",
			    json_integer((json_int_t)s->idle_expires));
	json_object_set_new(j, "csrf_token", json_string(csrf));
	if (bearer) {
		json_object_set_new(j, "token", json_string(s->token));
	} else {
		int64_t age = s->expires - s->created;

		if (mssld_session_cookie(cookie, sizeof(cookie), s->token,
					 age > 0 ? age : 1) == 0)
			snprintf(call->resp.extra, sizeof(call->resp.extra),
				 "%s", cookie);
		gnutls_memset(cookie, 0, sizeof(cookie));
	}
	mssld_resp_json(&call->resp, 200, j);
out:
	mssl_session_info_free(s);
	bufs_free(bufs);
}

/* Clear the cookie in the answer (logout, PIN change). */
static void clear_cookie(struct mssld_call *call)
{
	char cookie[256];

	if (mssld_session_cookie(cookie, sizeof(cookie), "", 0) == 0)
		snprintf(call->resp.extra, sizeof(call->resp.extra), "%s",
			 cookie);
}

void mssld_h_logout(struct mssld_call *call)
{
	int rc = mssl_logout(call->ctx, call->token, call->req->client,
			     call->err);

	if (rc < 0) {
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200, json_pack("{s:b}", "logged_out", 1));
	clear_cookie(call);
}

void mssld_h_me(struct mssld_call *call)
{
	mssld_resp_json(&call->resp, 200,
			session_json(call->account_id ? call->account_id : "",
				     call->person_id, call->person_name,
				     call->role, call->pin_change_only,
				     call->session_expires));
}

void mssld_h_pin_changed(struct mssld_call *call)
{
	struct mssl_login_proof p;
	uint8_t *bufs[3] = { NULL, NULL, NULL };
	int rc;

	if (proof_of(call, &p, bufs) < 0)
		goto out;
	rc = mssl_pin_changed(call->ctx, call->token, &p, call->req->client,
			      call->err);
	if (rc < 0) {
		if (rc == MSSL_EPERM)
			mssld_resp_mssl_error(&call->resp, 403, rc, call->err);
		else
			mssld_fail_lib(call, rc);
		goto out;
	}
	/* Every session of the card ended, this one too: log in again. */
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:b,s:b}", "pin_changed", 1,
				  "session_ended", 1));
	clear_cookie(call);
out:
	bufs_free(bufs);
}

static int unlock_args(struct mssld_call *call, const char **account,
		       const char **serial, const char **code)
{
	return mssld_body_str(call, "account_id", true, account) < 0 ||
			       mssld_body_str(call, "token_serial", true,
					      serial) < 0 ||
			       mssld_body_str(call, "code", true, code) < 0 ?
		       -1 :
		       0;
}

/* A refused unlock is 403 whatever the reason (libmssl says no more). */
static void fail_unlock(struct mssld_call *call, int rc)
{
	if (rc == MSSL_EPERM)
		mssld_resp_mssl_error(&call->resp, 403, rc, call->err);
	else
		mssld_fail_lib(call, rc);
}

void mssld_h_unlock_begin(struct mssld_call *call)
{
	const char *account, *serial, *code;
	char so_pin[MSSL_SO_PIN_LEN + 1];
	int rc;

	if (unlock_args(call, &account, &serial, &code) < 0)
		return;
	rc = mssl_card_unlock_begin(call->ctx, account, serial, code,
				    call->req->client, so_pin, call->err);
	if (rc < 0) {
		fail_unlock(call, rc);
		return;
	}
	/* Released once: the client unblocks the card with it now. */
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:s}", "so_pin", so_pin));
	gnutls_memset(so_pin, 0, sizeof(so_pin));
}

void mssld_h_unlock_done(struct mssld_call *call)
{
	const char *account, *serial, *code;
	int rc;

	if (unlock_args(call, &account, &serial, &code) < 0)
		return;
	rc = mssl_card_unlock_done(call->ctx, account, serial, code,
				   call->req->client, call->err);
	if (rc < 0) {
		fail_unlock(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:s}", "state", "active"));
}
