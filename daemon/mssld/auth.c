/* Credentials in requests and the checks that need no store (auth.h). */
#include "auth.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MIN 16
#define TOKEN_MAX 512

/* token68 (RFC 9110 11.2) of a sane length. */
static bool token_ok(const char *t, size_t n)
{
	size_t i;

	if (n < TOKEN_MIN || n > TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = t[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-._~+/=", ch)))
			return false;
	}
	return true;
}

/* The value of cookie 'name' in one Cookie header; NULL if absent. */
static const char *cookie_find(const char *h, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = h, *end;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			p += nl + 1;
			*len = end ? (size_t)(end - p) : strlen(p);
			while (*len && (p[*len - 1] == ' ' || p[*len - 1] == '\t'))
				(*len)--;
			return p;
		}
		p = end;
	}
	return NULL;
}

int mssld_auth_credentials(const struct mssld_req *req, const char **token,
			   size_t *len)
{
	const char *a = mssld_req_header(req, "authorization"), *t;
	size_t i, n;

	*token = NULL;
	*len = 0;
	if (a) {
		if (strncasecmp(a, "Bearer ", 7) != 0)
			return MSSLD_CRED_NONE;
		t = a + 7;
		while (*t == ' ')
			t++;
		n = strlen(t);
		while (n && t[n - 1] == ' ')
			n--;
		if (!token_ok(t, n))
			return MSSLD_CRED_NONE;
		*token = t;
		*len = n;
		return MSSLD_CRED_BEARER;
	}
	for (i = 0; i < req->nh; i++) {
		if (!req->h[i].name || !req->h[i].value ||
		    strcasecmp(req->h[i].name, "cookie") != 0)
			continue;
		t = cookie_find(req->h[i].value, MSSLD_SESSION_COOKIE, &n);
		if (t && token_ok(t, n)) {
			*token = t;
			*len = n;
			return MSSLD_CRED_COOKIE;
		}
	}
	return MSSLD_CRED_NONE;
}

static bool state_changing(int method)
{
	return method != HTTP_GET && method != HTTP_HEAD &&
	       method != HTTP_OPTIONS;
}

int mssld_auth_call(struct mssld_call *call)
{
	struct mssld_req *r = call->req;
	struct mssld_auth_in in = { 0 };
	struct mssld_auth_out out = { 0 };
	const char *t;
	char *token = NULL;
	size_t n;
	int kind, rc;

	kind = mssld_auth_credentials(r, &t, &n);
	if (kind == MSSLD_CRED_NONE) {
		mssld_resp_error(&call->resp, 401, "auth.required", NULL,
				 N_("log in first: this needs a session"));
		snprintf(call->resp.extra, sizeof(call->resp.extra),
			 "WWW-Authenticate: Bearer realm=\"mssl\"\r\n");
		return -1;
	}
	in.need_csrf = kind == MSSLD_CRED_COOKIE &&
		       call->route->auth == MSSLD_AUTH_SESSION_CSRF &&
		       state_changing(r->method);
	in.csrf = mssld_req_header(r, MSSLD_CSRF_HEADER);
	if (in.need_csrf && (!in.csrf || !*in.csrf)) {
		mssld_resp_error(&call->resp, 403, "auth.csrf", NULL,
				 N_("the X-CSRF-Token header is missing"));
		return -1;
	}
	token = strndup(t, n);
	if (!token) {
		mssld_resp_error(&call->resp, 503, "nomem", NULL,
				 N_("out of memory"));
		return -1;
	}
	in.ctx = call->ctx;
	in.route = call->route;
	in.method = http_method_str((enum http_method)r->method);
	in.kind = kind;
	in.token = token;
	in.remote = r->client;
	in.secure = r->secure;
	in.channel_binding = r->cb_len ? r->cb : NULL;
	in.channel_binding_len = r->cb_len;
	in.request_id = r->rid;
	rc = mssld_auth_resolve(&in, &out, call->err);
	if (rc == MSSLD_AUTH_OK && out.actor) {
		call->actor = out.actor;
		call->account_id = out.account_id;
		call->role = out.role;
		/* Logout and the PIN change act on the session itself. */
		call->token = token;
		call->pin_change_only = out.pin_change_only;
		call->person_name = out.person_name;
		call->person_id = out.person_id;
		call->card_id = out.card_id;
		call->session_expires = out.expires;
		return 0;
	}
	memset(token, 0, n);
	free(token);
	mssl_actor_free(out.actor);
	free(out.account_id);
	free(out.person_name);
	if (!mssl_error_id(call->err)[0])
		mssl_error_set(call->err, MSSL_EPERM, "auth.refused", NULL,
			       N_("log in first: this needs a session"));
	mssld_resp_mssl_error(&call->resp,
			      rc == MSSLD_AUTH_FORBIDDEN ? 403 :
			      rc == MSSLD_AUTH_ERROR	 ? 503 :
							   401,
			      rc, call->err);
	if (rc == MSSLD_AUTH_UNAUTHENTICATED || rc == MSSLD_AUTH_OK)
		snprintf(call->resp.extra, sizeof(call->resp.extra),
			 "WWW-Authenticate: Bearer realm=\"mssl\"\r\n");
	return -1;
}

int mssld_session_cookie(char *buf, size_t n, const char *token,
			 int64_t max_age)
{
	int k = snprintf(buf, n,
			 "Set-Cookie: %s=%s; Path=/; Max-Age=%lld; HttpOnly; "
			 "Secure; SameSite=Strict\r\n",
			 MSSLD_SESSION_COOKIE, max_age ? token : "",
			 (long long)max_age);

	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* hex(SHA-256("mssl-csrf-v1:" || token)): see auth-session.c. */
int mssld_csrf_token(const char *token, char out[65])
{
	static const char label[] = "mssl-csrf-v1:";
	uint8_t h[32];
	char *buf;
	size_t n = strlen(token), i;
	int r;

	buf = malloc(sizeof(label) + n);
	if (!buf)
		return -1;
	memcpy(buf, label, sizeof(label) - 1);
	memcpy(buf + sizeof(label) - 1, token, n);
	r = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, sizeof(label) - 1 + n, h);
	gnutls_memset(buf, 0, sizeof(label) - 1 + n);
	free(buf);
	if (r < 0)
		return -1;
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	return 0;
}
