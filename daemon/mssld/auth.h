/*
 * The seam between the daemon and login/sessions.
 *
 * mssld (auth.c) finds the caller's credentials in a request and applies
 * the rules that need no store: a session route without credentials is
 * 401; a cookie session on a state-changing route (POST, PUT, PATCH,
 * DELETE) of a MSSLD_AUTH_SESSION_CSRF route without the X-CSRF-Token
 * header is 403.  Then it calls mssld_auth_resolve, on a worker thread,
 * which looks the session up and returns the actor the handler acts as.
 *
 * mssld_auth_resolve and mssld_auth_expire live in auth-session.c: that
 * file is the part that plugs into libmssl's login and session API.
 * Until it does, every session route answers 401.  Tests link their own
 * resolver (tests/mssld-auth-stub.c) to reach the handlers.
 */
#ifndef MSSLD_AUTH_H
#define MSSLD_AUTH_H

#include "mssld.h"

/* The session cookie (HttpOnly; Secure; SameSite=Strict; Path=/). */
#define MSSLD_SESSION_COOKIE "mssl_session"
/* The header carrying the CSRF token on state changes. */
#define MSSLD_CSRF_HEADER "X-CSRF-Token"

enum mssld_cred_kind {
	MSSLD_CRED_NONE = 0,
	MSSLD_CRED_BEARER = 1, /* Authorization: Bearer <token> (the CLI) */
	MSSLD_CRED_COOKIE = 2, /* Cookie: mssl_session=<token> (a browser) */
};

/* What the resolver is given.  Everything is borrowed for the call. */
struct mssld_auth_in {
	mssl_ctx *ctx;
	const struct mssld_route *route; /* auth need, role hints */
	const char *method; /* "GET", "POST", ... */
	int kind; /* enum mssld_cred_kind, never NONE */
	const char *token; /* the session token: never log it */
	/*
	 * The X-CSRF-Token value, or NULL.  When need_csrf is true the
	 * resolver must compare it (in constant time) with the session's
	 * CSRF token and answer MSSLD_AUTH_FORBIDDEN when it differs.
	 */
	const char *csrf;
	bool need_csrf;
	const char *remote; /* client address, through trusted proxies */
	bool secure; /* TLS here or at a trusted proxy */
	/* RFC 9266 tls-exporter of this connection (native TLS), or NULL. */
	const uint8_t *channel_binding;
	size_t channel_binding_len;
	const char *request_id; /* for log lines */
};

/* What the resolver returns on success; mssld frees it after the call. */
struct mssld_auth_out {
	mssl_actor *actor; /* mssl_actor_new(...) */
	char *account_id; /* malloc'd: the actor's account; NULL: operator */
	int role; /* mssl_role */
	/* The session (may be left 0/NULL by a test resolver). */
	bool pin_change_only; /* the card is still on its issued PIN */
	char *person_name; /* malloc'd */
	int64_t person_id;
	int64_t card_id;
	int64_t expires;
};

enum {
	MSSLD_AUTH_OK = 0,
	MSSLD_AUTH_UNAUTHENTICATED = -1, /* 401: no such or expired session */
	MSSLD_AUTH_FORBIDDEN = -2, /* 403: CSRF mismatch, PIN-change-only */
	MSSLD_AUTH_ERROR = -3, /* 503: the store failed */
};

/*
 * mssld_auth_resolve - the session behind in->token.  Runs on a worker
 * thread (may use the store through in->ctx).  Returns MSSLD_AUTH_OK
 * with *out filled, or another MSSLD_AUTH_* with err (id "auth.*") saying
 * why; the message goes to the client, so it names no secret.
 */
int mssld_auth_resolve(const struct mssld_auth_in *in,
		       struct mssld_auth_out *out, mssl_error *err);

/*
 * mssld_auth_expire - periodic job ([mssld] expire_s): forget expired
 * login challenges and sessions.  Runs on a worker thread as 'actor'
 * (the daemon's operator actor).  Returns 0 or an MSSL_E... code with
 * err.
 */
int mssld_auth_expire(mssl_ctx *ctx, const mssl_actor *actor,
		      int64_t *n_expired, mssl_error *err);

/*
 * Find the credentials of a request: a Bearer token wins over the
 * cookie.  *token points into the request.  Returns the kind, or
 * MSSLD_CRED_NONE.  A malformed token counts as none.
 */
int mssld_auth_credentials(const struct mssld_req *req, const char **token,
			   size_t *len);

/*
 * Authenticate a call for its route: fills call->actor, account_id and
 * role, or call->resp with 401/403/503.  Returns 0 when authenticated.
 */
int mssld_auth_call(struct mssld_call *call);

/*
 * The Set-Cookie header line (ending in CRLF) for a new session token,
 * for the login handler: HttpOnly; Secure; SameSite=Strict; Path=/.
 * max_age 0 clears the cookie (logout).  Returns 0, or -1 when buf is
 * too small.
 */
int mssld_session_cookie(char *buf, size_t n, const char *token,
			 int64_t max_age);

/*
 * The CSRF token of a session (64 hex digits and NUL into out), derived
 * from its token; the login answer hands it to the client.  Returns 0,
 * or -1 when out of memory.
 */
int mssld_csrf_token(const char *token, char out[65]);

#endif
