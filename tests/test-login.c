/*
 * Cards and login end to end on SoftHSM2 cards (SPEC §3, §8): the
 * operator enrols an ECDSA P-256 and an RSA-2048 card through libmssl-
 * token and the card CA; the first login is gated to the PIN change; the
 * changed PIN is proven with a fresh signature and ends the session;
 * roles hold; every attack of issue 5 is refused, answered alike and
 * audited with its real reason; failures are throttled; a card is
 * unlocked with an operator's single-use code sent by e-mail.
 *
 * SoftHSM never locks a PIN: the lock itself is tested on opencryptoki
 * in test-login-ock.c.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fixture.h"
#include "tokenhelp.h"

#define ORIGIN "https://mssl.test"
#define TRANSPORT_SO "87654321"
#define NEW_PIN "pin-2468"
#define NEW_PIN2 "pin-1357"

struct lt {
	struct fx *fx;
	char *cadir; /* card CA, master secret, software keys */
	char *carddir; /* SoftHSM tokens */
	mssl_token_module *m;
	int64_t alice, bob, carol; /* persons: A manager, A auditor, B manager */
	int64_t alice_card, bob_card, carol_card;
};

static void ok(struct lt *t, int rc, const char *what)
{
	if (rc)
		fail_msg("%s: %s [%s] %s", what, mssl_err_name(rc),
			 mssl_error_id(t->fx->err),
			 mssl_error_message(t->fx->err, MSSL_LANG_EN));
}

static void shell(const char *fmt, const char *a, const char *b)
{
	if (th_system(fmt, a, b) != 0)
		fail_msg("failed: %s", fmt);
}

/* The card CA and master secret, made with certtool and head. */
static void make_card_ca(const char *dir)
{
	free(th_write_file(dir, "ca.tmpl",
			   "cn = \"mssl test card CA\"\nca\n"
			   "cert_signing_key\nexpiration_days = 36500\n"));
	shell("cd '%s' && certtool --generate-privkey --key-type=ecdsa "
	      "--curve=secp256r1 --outfile ca-key.pem --no-text 2>/dev/null &&"
	      " certtool --generate-self-signed --load-privkey ca-key.pem "
	      "--template ca.tmpl --outfile ca.pem --no-text 2>/dev/null%s",
	      dir, "");
	shell("cd '%s' && head -c 64 /dev/urandom > master.key && "
	      "chmod 600 master.key%s",
	      dir, "");
	/* A key of no card, and a certificate for it from the card CA that
	 * was never registered. */
	free(th_write_file(dir, "soft.tmpl",
			   "cn = \"nobody\"\ntls_www_client\nsigning_key\n"
			   "activation_date = \"2020-01-01 00:00:00\"\n"
			   "expiration_date = \"2040-01-01 00:00:00\"\n"));
	shell("cd '%s' && certtool --generate-privkey --key-type=ecdsa "
	      "--curve=secp256r1 --outfile soft-key.pem --no-text 2>/dev/null"
	      " && certtool --generate-certificate --load-privkey soft-key.pem"
	      " --load-ca-certificate ca.pem --load-ca-privkey ca-key.pem "
	      "--template soft.tmpl --outfile soft.pem --no-text 2>/dev/null%s",
	      dir, "");
}

static mssl_token *open_card(struct lt *t, const char *label)
{
	char uri[128];
	mssl_token *tok = NULL;

	snprintf(uri, sizeof(uri), "pkcs11:token=%s", label);
	ok(t, mssl_token_open(t->m, uri, &tok, t->fx->err), label);
	return tok;
}

static int64_t enrol(struct lt *t, const char *label, int64_t person,
		     int key_type)
{
	mssl_token *tok = open_card(t, label);
	struct mssl_token_enrollment e = {
		.ctx = t->fx->ctx,
		.actor = t->fx->op,
		.person_id = person,
		.transport_so_pin = TRANSPORT_SO,
		.transport_so_len = strlen(TRANSPORT_SO),
		.key_type = key_type,
	};
	int64_t card = 0;

	ok(t, mssl_token_enroll(tok, &e, &card, t->fx->err), "enrol");
	assert_true(card > 0);
	mssl_token_free(tok);
	return card;
}

static int setup(void **state)
{
	struct lt *t = calloc(1, sizeof(*t));
	char *extra = NULL;

	assert_non_null(t);
	t->cadir = th_mkdtemp();
	make_card_ca(t->cadir);
	t->carddir = tk_softhsm_cards("alice:blank bob:blank carol:blank");
	tk_softhsm_use(t->carddir);
	assert_true(asprintf(&extra,
			     "\n[login]\norigin = " ORIGIN "\n"
			     "max_failures_card = 5\n"
			     "max_failures_account = 8\n"
			     "throttle_window_s = 600\n"
			     "[cards]\nca_cert = %s/ca.pem\n"
			     "ca_key = %s/ca-key.pem\n"
			     "master_secret_file = %s/master.key\n",
			     t->cadir, t->cadir, t->cadir) > 0);
	t->fx = fx_new(FX_ACCOUNTS, extra);
	free(extra);
	ok(t, mssl_token_module_open(tk_softhsm_module(), &t->m, t->fx->err),
	   "module");
	ok(t, mssl_person_add(t->fx->ctx, t->fx->op, FX_A, "Alice Wang",
			      "alice@twca.com.tw", MSSL_ROLE_MANAGER,
			      &t->alice, t->fx->err),
	   "person alice");
	ok(t, mssl_person_add(t->fx->ctx, t->fx->op, FX_A, "Bob Lin",
			      "bob@twca.com.tw", MSSL_ROLE_AUDITOR, &t->bob,
			      t->fx->err),
	   "person bob");
	ok(t, mssl_person_add(t->fx->ctx, t->fx->op, FX_B, "Carol Chen",
			      "carol@example-b.com.tw", MSSL_ROLE_MANAGER,
			      &t->carol, t->fx->err),
	   "person carol");
	t->alice_card = enrol(t, "alice", t->alice, MSSL_TOKEN_KEY_AUTO);
	t->bob_card = enrol(t, "bob", t->bob, MSSL_TOKEN_KEY_RSA_2048);
	t->carol_card = enrol(t, "carol", t->carol, MSSL_TOKEN_KEY_AUTO);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct lt *t = *state;

	mssl_token_module_free(t->m);
	fx_free(t->fx);
	th_rmrf(t->cadir);
	th_rmrf(t->carddir);
	free(t->cadir);
	free(t->carddir);
	free(t);
	return 0;
}

/* ---- helpers: a proof signed by a card or by a software key ------------ */

struct proof {
	struct mssl_login_proof p;
	uint8_t nonce[MSSL_NONCE_LEN];
	bool soft; /* cert and sig are ours, not the token library's */
};

static void challenge(struct lt *t, const char *account, struct proof *pr)
{
	int64_t exp = 0;

	memset(pr, 0, sizeof(*pr));
	ok(t, mssl_login_challenge(t->fx->ctx, account, "192.0.2.7",
				   pr->nonce, &exp, t->fx->err),
	   "challenge");
	assert_int_equal(exp, t->fx->now + 120);
	pr->p.origin = ORIGIN;
	pr->p.account_id = account;
	pr->p.nonce = pr->nonce;
	pr->p.time = t->fx->now;
}

/* Log in to the card with pin and sign the proof with it. */
static void card_sign(struct lt *t, const char *label, const char *pin,
		      struct proof *pr)
{
	mssl_token *tok = open_card(t, label);

	ok(t, mssl_token_login(tok, pin, strlen(pin), t->fx->err), "PIN");
	ok(t, mssl_token_prove(tok, &pr->p, t->fx->err), "prove");
	mssl_token_free(tok);
}

static void proof_free(struct proof *pr)
{
	if (pr->soft) {
		free((void *)pr->p.cert);
		gnutls_free((void *)pr->p.sig);
		pr->p.cert = pr->p.sig = NULL;
	} else {
		mssl_token_proof_clear(&pr->p);
	}
}

/* Sign with the software key of file keyfile, presenting cert (DER). */
static void soft_sign(struct lt *t, const char *keyfile, uint8_t *cert,
		      size_t cert_len, struct proof *pr)
{
	gnutls_privkey_t key;
	gnutls_datum_t d, b, sig = { NULL, 0 };
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", t->cadir, keyfile) > 0);
	assert_int_equal(gnutls_load_file(path, &d), 0);
	free(path);
	assert_int_equal(gnutls_privkey_init(&key), 0);
	assert_int_equal(gnutls_privkey_import_x509_raw(key, &d,
							GNUTLS_X509_FMT_PEM,
							NULL, 0),
			 0);
	gnutls_free(d.data);
	pr->soft = true;
	pr->p.cert = cert;
	pr->p.cert_len = cert_len;
	assert_int_equal(mssl_login_blob(&pr->p, &blob, &blob_len), 0);
	b.data = blob;
	b.size = (unsigned)blob_len;
	assert_int_equal(gnutls_privkey_sign_data2(key, GNUTLS_SIGN_ECDSA_SHA256,
						   0, &b, &sig),
			 0);
	mssl_free(blob);
	gnutls_privkey_deinit(key);
	pr->p.sig = sig.data;
	pr->p.sig_len = sig.size;
	pr->p.sig_alg = GNUTLS_SIGN_ECDSA_SHA256;
}

/* The DER of a PEM certificate file in cadir (caller frees). */
static uint8_t *pem_cert(struct lt *t, const char *file, size_t *len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d, der;
	char *path = NULL;
	uint8_t *out;

	assert_true(asprintf(&path, "%s/%s", t->cadir, file) > 0);
	assert_int_equal(gnutls_load_file(path, &d), 0);
	free(path);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
			 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
						 &der),
			 0);
	out = malloc(der.size);
	assert_non_null(out);
	memcpy(out, der.data, der.size);
	*len = der.size;
	gnutls_free(der.data);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	return out;
}

/* A full login with the card; returns the session (caller frees). */
static mssl_session_info *login(struct lt *t, const char *label,
				const char *account, const char *pin)
{
	struct proof pr;
	mssl_session_info *s = NULL;

	challenge(t, account, &pr);
	card_sign(t, label, pin, &pr);
	ok(t, mssl_login(t->fx->ctx, &pr.p, "192.0.2.7", &s, t->fx->err),
	   "login");
	proof_free(&pr);
	assert_non_null(s);
	assert_non_null(s->token);
	return s;
}

/*
 * The login is refused with the one answer every failure gets, and the
 * newest auth.login audit record gives the real reason 'why'.
 */
static void refused(struct lt *t, struct proof *pr, const char *why)
{
	mssl_session_info *s = NULL;
	char *detail;
	int rc;

	rc = mssl_login(t->fx->ctx, &pr->p, "192.0.2.7", &s, t->fx->err);
	assert_int_equal(rc, MSSL_EPERM);
	assert_null(s);
	assert_string_equal(mssl_error_id(t->fx->err), "auth.login_failed");
	/* Nothing in the answer tells which check failed. */
	assert_null(strstr(mssl_error_message(t->fx->err, MSSL_LANG_EN),
			   "account " FX_B));
	detail = fx_sql_text(t->fx,
			     "SELECT outcome || ' ' || detail FROM audit WHERE "
			     "action = 'auth.login' ORDER BY seq DESC LIMIT 1");
	assert_non_null(detail);
	if (strncmp(detail, "refused ", 8) != 0 || !strstr(detail, why))
		fail_msg("audit says \"%s\", expected refused with %s", detail,
			 why);
	free(detail);
	/* Past the throttling window, so the next attack is judged alone
	 * (test_throttle tests the window). */
	t->fx->now += 601;
}

/* Change the card's PIN and prove it in the session. */
static void change_pin(struct lt *t, const char *label, const char *old,
		       const char *new_pin, const mssl_session_info *s)
{
	mssl_token *tok = open_card(t, label);
	struct proof pr;

	ok(t, mssl_token_change_pin(tok, old, strlen(old), new_pin,
				    strlen(new_pin), t->fx->err),
	   "change PIN");
	mssl_token_free(tok);
	challenge(t, s->account_id, &pr);
	card_sign(t, label, new_pin, &pr);
	ok(t, mssl_pin_changed(t->fx->ctx, s->token, &pr.p, "192.0.2.7",
			       t->fx->err),
	   "pin changed");
	proof_free(&pr);
}

static const char *card_state(struct lt *t, int64_t card)
{
	static char buf[32];
	char *s = fx_sql_text(t->fx, "SELECT state FROM cards WHERE id = %lld",
			      (long long)card);

	snprintf(buf, sizeof(buf), "%s", s ? s : "(none)");
	free(s);
	return buf;
}

/* ---- tests ------------------------------------------------------------- */

/* Enrolment left two cards on the issued PIN with card-CA certificates. */
static void test_enrolled(void **state)
{
	struct lt *t = *state;
	mssl_token *tok = open_card(t, "bob");
	uint8_t *cert = NULL, *sig = NULL;
	size_t cert_len = 0, sig_len = 0;
	int alg = 0;
	char *issuer;

	assert_string_equal(card_state(t, t->alice_card), "issued_pin");
	assert_string_equal(card_state(t, t->bob_card), "issued_pin");
	/* Bob's card: RSA as asked, its certificate names him and A. */
	ok(t, mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN, 8, t->fx->err),
	   "issued PIN");
	ok(t, mssl_token_cert(tok, &cert, &cert_len, t->fx->err), "cert");
	ok(t, mssl_token_sign(tok, "x", 1, &sig, &sig_len, &alg, t->fx->err),
	   "sign");
	assert_true(alg == GNUTLS_SIGN_RSA_SHA256 ||
		    alg == GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	tk_verify_cert(cert, cert_len, alg, "x", 1, sig, sig_len);
	{
		gnutls_x509_crt_t c;
		gnutls_datum_t d = { cert, (unsigned)cert_len }, dn;

		assert_int_equal(gnutls_x509_crt_init(&c), 0);
		assert_int_equal(gnutls_x509_crt_import(c, &d,
							GNUTLS_X509_FMT_DER),
				 0);
		assert_int_equal(gnutls_x509_crt_get_dn3(c, &dn, 0), 0);
		assert_non_null(strstr((char *)dn.data, "CN=Bob Lin"));
		assert_non_null(strstr((char *)dn.data, FX_A));
		assert_non_null(strstr((char *)dn.data, "auditor"));
		gnutls_free(dn.data);
		assert_int_equal(gnutls_x509_crt_get_issuer_dn3(c, &dn, 0), 0);
		issuer = strdup((char *)dn.data);
		gnutls_free(dn.data);
		gnutls_x509_crt_deinit(c);
	}
	assert_string_equal(issuer, "CN=mssl test card CA");
	free(issuer);
	/* A second registration for the same card is refused. */
	{
		uint8_t *c2 = NULL;
		size_t l2 = 0;
		uint8_t *spki = NULL;
		size_t spki_len = 0;

		ok(t, mssl_token_pubkey(tok, &spki, &spki_len, t->fx->err),
		   "pubkey");
		assert_int_equal(mssl_card_certify(t->fx->ctx, t->fx->op, t->bob,
						   mssl_token_info(tok)->serial,
						   spki, spki_len, &c2, &l2,
						   NULL, t->fx->err),
				 MSSL_EEXIST);
		assert_null(c2);
		/* And a manager may not enrol at all. */
		assert_int_equal(mssl_card_certify(t->fx->ctx, t->fx->mgr_a,
						   t->bob, "other", spki,
						   spki_len, &c2, &l2, NULL,
						   t->fx->err),
				 MSSL_EPERM);
		mssl_free(spki);
	}
	mssl_free(cert);
	mssl_free(sig);
	mssl_token_free(tok);
}

/* First login only changes the PIN; then the real session, and logout. */
static void test_first_login_pin_change(void **state)
{
	struct lt *t = *state;
	mssl_session_info *s, *s2 = NULL;
	mssl_actor *a = NULL;
	mssl_account_info *ai = NULL;

	s = login(t, "alice", FX_A, MSSL_TOKEN_ISSUED_PIN);
	assert_true(s->pin_change_only);
	assert_int_equal(s->role, MSSL_ROLE_MANAGER);
	assert_string_equal(s->person_name, "Alice Wang");
	ok(t, mssl_session_resume(t->fx->ctx, s->token, "192.0.2.7", &a, &s2,
				  t->fx->err),
	   "resume");
	assert_true(s2->pin_change_only);
	assert_null(s2->token);
	/* Nothing but the PIN change. */
	assert_int_equal(mssl_account_get(t->fx->ctx, a, FX_A, &ai, t->fx->err),
			 MSSL_EPERM);
	assert_string_equal(mssl_error_id(t->fx->err), "auth.pin_change_required");
	mssl_actor_free(a);
	mssl_session_info_free(s2);

	change_pin(t, "alice", MSSL_TOKEN_ISSUED_PIN, NEW_PIN, s);
	assert_string_equal(card_state(t, t->alice_card), "active");
	/* The PIN change ended the session. */
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "192.0.2.7",
					     &a, NULL, t->fx->err),
			 MSSL_EPERM);
	assert_string_equal(mssl_error_id(t->fx->err), "auth.session");
	assert_null(a);
	mssl_session_info_free(s);

	/* The old PIN is gone; the new one gives a full session. */
	{
		mssl_token *tok = open_card(t, "alice");

		assert_int_equal(mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN, 8,
						  t->fx->err),
				 MSSL_EPERM);
		mssl_token_free(tok);
	}
	s = login(t, "alice", FX_A, NEW_PIN);
	assert_false(s->pin_change_only);
	assert_int_equal(s->expires, t->fx->now + 8 * 3600);
	assert_int_equal(s->idle_expires, t->fx->now + 900);
	ok(t, mssl_session_resume(t->fx->ctx, s->token, "192.0.2.7", &a, NULL,
				  t->fx->err),
	   "resume");
	ok(t, mssl_account_get(t->fx->ctx, a, FX_A, &ai, t->fx->err),
	   "manager reads");
	mssl_account_info_free(ai);
	/* Not another account. */
	assert_int_equal(mssl_account_get(t->fx->ctx, a, FX_B, &ai, t->fx->err),
			 MSSL_EPERM);
	mssl_actor_free(a);

	/* Idle past the limit ends it; so does logout. */
	t->fx->now += 901;
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "x", NULL,
					     NULL, t->fx->err),
			 MSSL_EPERM);
	mssl_session_info_free(s);
	s = login(t, "alice", FX_A, NEW_PIN);
	t->fx->now += 600;
	ok(t, mssl_session_resume(t->fx->ctx, s->token, "x", NULL, NULL,
				  t->fx->err),
	   "within idle");
	ok(t, mssl_logout(t->fx->ctx, s->token, "x", t->fx->err), "logout");
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "x", NULL,
					     NULL, t->fx->err),
			 MSSL_EPERM);
	assert_int_equal(mssl_logout(t->fx->ctx, s->token, "x", t->fx->err),
			 MSSL_EPERM);
	mssl_session_info_free(s);
	/* Refused resumptions are audited. */
	assert_true(fx_sql_int(t->fx, 0,
			       "SELECT COUNT(*) FROM audit WHERE action = "
			       "'auth.session' AND outcome = 'refused'") >= 3);
}

/* The auditor's RSA card: reads, but no manager operation. */
static void test_auditor(void **state)
{
	struct lt *t = *state;
	mssl_session_info *s;
	mssl_actor *a = NULL;
	mssl_account_info *ai = NULL;

	s = login(t, "bob", FX_A, MSSL_TOKEN_ISSUED_PIN);
	change_pin(t, "bob", MSSL_TOKEN_ISSUED_PIN, NEW_PIN, s);
	mssl_session_info_free(s);
	s = login(t, "bob", FX_A, NEW_PIN);
	assert_int_equal(s->role, MSSL_ROLE_AUDITOR);
	ok(t, mssl_session_resume(t->fx->ctx, s->token, "x", &a, NULL,
				  t->fx->err),
	   "resume");
	ok(t, mssl_account_get(t->fx->ctx, a, FX_A, &ai, t->fx->err),
	   "auditor reads");
	mssl_account_info_free(ai);
	assert_int_equal(mssl_cert_revoke(t->fx->ctx, a, FX_A, "01", 4,
					  t->fx->err),
			 MSSL_EPERM);
	assert_string_equal(mssl_error_id(t->fx->err), "auth.role");
	mssl_actor_free(a);
	mssl_session_info_free(s);
}

static void test_attacks(void **state)
{
	struct lt *t = *state;
	struct proof pr;
	mssl_session_info *s = NULL;
	uint8_t *cert;
	size_t len;
	mssl_token *tok;

	/* Alice's card on the issued PIN (this test runs on its own). */
	/* Replayed nonce: a proof that worked once. */
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	ok(t, mssl_login(t->fx->ctx, &pr.p, "x", &s, t->fx->err), "first use");
	mssl_session_info_free(s);
	refused(t, &pr, "auth.nonce");
	proof_free(&pr);

	/* Expired nonce. */
	challenge(t, FX_A, &pr);
	t->fx->now += 121;
	pr.p.time = t->fx->now;
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.nonce_expired");
	proof_free(&pr);

	/* A nonce issued for another account. */
	challenge(t, FX_B, &pr);
	pr.p.account_id = FX_A;
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.nonce_account");
	proof_free(&pr);

	/* A signature over another origin. */
	challenge(t, FX_A, &pr);
	pr.p.origin = "https://evil.example";
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.origin");
	proof_free(&pr);

	/* A client clock far off. */
	challenge(t, FX_A, &pr);
	pr.p.time = t->fx->now - 3600;
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.clock");
	proof_free(&pr);

	/* Alice's certificate, signed by a key that is not her card's. */
	tok = open_card(t, "alice");
	ok(t, mssl_token_cert(tok, &cert, &len, t->fx->err), "cert");
	mssl_token_free(tok);
	challenge(t, FX_A, &pr);
	{
		uint8_t *copy = malloc(len);

		memcpy(copy, cert, len);
		soft_sign(t, "soft-key.pem", copy, len, &pr);
	}
	refused(t, &pr, "auth.signature");
	proof_free(&pr);

	/* A certificate from the card CA that was never registered. */
	challenge(t, FX_A, &pr);
	{
		size_t l2;
		uint8_t *c2 = pem_cert(t, "soft.pem", &l2);

		soft_sign(t, "soft-key.pem", c2, l2, &pr);
	}
	refused(t, &pr, "auth.card_unknown");
	proof_free(&pr);

	/* Alice's key, certified by a CA that is not the card CA. */
	tok = open_card(t, "alice");
	ok(t, mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN, 8, t->fx->err),
	   "PIN");
	{
		uint8_t *spki = NULL, *blob = NULL, *sig = NULL;
		size_t spki_len = 0, blob_len = 0, sig_len = 0;
		int alg = 0;

		ok(t, mssl_token_pubkey(tok, &spki, &spki_len, t->fx->err),
		   "spki");
		challenge(t, FX_A, &pr);
		pr.soft = true;
		pr.p.cert = tk_issue_cert(spki, spki_len, "Alice Wang",
					  &pr.p.cert_len, NULL, NULL);
		assert_int_equal(mssl_login_blob(&pr.p, &blob, &blob_len), 0);
		ok(t, mssl_token_sign(tok, blob, blob_len, &sig, &sig_len,
				      &alg, t->fx->err),
		   "sign");
		pr.p.sig = gnutls_malloc(sig_len);
		memcpy((void *)pr.p.sig, sig, sig_len);
		pr.p.sig_len = sig_len;
		pr.p.sig_alg = alg;
		mssl_free(sig);
		mssl_free(blob);
		mssl_free(spki);
	}
	mssl_token_free(tok);
	refused(t, &pr, "auth.card_ca");
	proof_free(&pr);

	/* Carol's card (account B) presented for account A. */
	challenge(t, FX_A, &pr);
	card_sign(t, "carol", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.card_account");
	proof_free(&pr);
	mssl_free(cert);

	/* An unsupported signature algorithm label. */
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	pr.p.sig_alg = GNUTLS_SIGN_RSA_SHA1;
	refused(t, &pr, "auth.sig_alg");
	proof_free(&pr);
}

/* Suspended person, revoked card: refused; their sessions end. */
static void test_suspended_and_revoked(void **state)
{
	struct lt *t = *state;
	mssl_session_info *s;
	struct proof pr;

	s = login(t, "carol", FX_B, MSSL_TOKEN_ISSUED_PIN);
	ok(t, mssl_person_suspend(t->fx->ctx, t->fx->op, t->carol, 1,
				  "left the company", t->fx->err),
	   "suspend");
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "x", NULL,
					     NULL, t->fx->err),
			 MSSL_EPERM);
	mssl_session_info_free(s);
	challenge(t, FX_B, &pr);
	card_sign(t, "carol", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.person");
	proof_free(&pr);
	ok(t, mssl_person_suspend(t->fx->ctx, t->fx->op, t->carol, 0, "back",
				  t->fx->err),
	   "reactivate");
	s = login(t, "carol", FX_B, MSSL_TOKEN_ISSUED_PIN);

	/* A manager may not suspend cards; the operator revokes it. */
	assert_int_equal(mssl_card_set_state(t->fx->ctx, t->fx->mgr_b,
					     t->carol_card, "revoked", "lost",
					     t->fx->err),
			 MSSL_EPERM);
	ok(t, mssl_card_set_state(t->fx->ctx, t->fx->op, t->carol_card,
				  "revoked", "card lost", t->fx->err),
	   "revoke");
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "x", NULL,
					     NULL, t->fx->err),
			 MSSL_EPERM);
	mssl_session_info_free(s);
	challenge(t, FX_B, &pr);
	card_sign(t, "carol", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.card_state");
	proof_free(&pr);
	/* Revoked is final. */
	assert_int_equal(mssl_card_set_state(t->fx->ctx, t->fx->op,
					     t->carol_card, "active", "oops",
					     t->fx->err),
			 MSSL_ESTATE);
}

/* Past max_failures_card failures a good proof is refused too. */
static void test_throttle(void **state)
{
	struct lt *t = *state;
	struct proof pr;
	mssl_session_info *s = NULL;
	int i;

	for (i = 0; i < 5; i++) {
		challenge(t, FX_A, &pr);
		pr.p.origin = "https://evil.example";
		card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
		assert_int_equal(mssl_login(t->fx->ctx, &pr.p, "x", &s,
					    t->fx->err),
				 MSSL_EPERM);
		proof_free(&pr);
		t->fx->now += 10;
	}
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	assert_int_equal(mssl_login(t->fx->ctx, &pr.p, "x", &s, t->fx->err),
			 MSSL_ESTATE);
	assert_string_equal(mssl_error_id(t->fx->err), "auth.throttled");
	/* Another card of the account is not held back by Alice's. */
	mssl_session_info_free(login(t, "bob", FX_A, MSSL_TOKEN_ISSUED_PIN));
	/* After the window, the same proof style works again. */
	proof_free(&pr);
	t->fx->now += 601;
	mssl_session_info_free(login(t, "alice", FX_A, MSSL_TOKEN_ISSUED_PIN));
	ok(t, mssl_login_purge(t->fx->ctx, t->fx->err), "purge");
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM login_failures"),
			 0);
}

/* Operator approves; the code is mailed; it unlocks once. */
static void test_unlock(void **state)
{
	struct lt *t = *state;
	char *code = NULL, *body;
	mssl_token *tok;
	mssl_session_info *s;
	struct proof pr;

	assert_int_equal(mssl_card_unlock_approve(t->fx->ctx, t->fx->mgr_a,
						  t->alice_card, "supervisor",
						  &code, t->fx->err),
			 MSSL_EPERM);
	ok(t, mssl_card_unlock_approve(t->fx->ctx, t->fx->op, t->alice_card,
				       "supervisor 王大明 by phone", &code,
				       t->fx->err),
	   "approve");
	assert_non_null(code);
	assert_int_equal(strlen(code), 14);
	assert_string_equal(card_state(t, t->alice_card), "locked");
	/* The notice went to Alice's address with the code; the audit
	 * record does not hold the code. */
	body = fx_sql_text(t->fx, "SELECT to_addr || ' ' || body FROM "
				  "mail_outbox ORDER BY id DESC LIMIT 1");
	assert_non_null(body);
	assert_non_null(strstr(body, "alice@twca.com.tw"));
	assert_non_null(strstr(body, code));
	free(body);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM audit WHERE detail "
				    "LIKE '%%%q%%'",
				    code),
			 0);
	/* Locked: no login. */
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.card_state");
	proof_free(&pr);

	tok = open_card(t, "alice");
	/* Wrong code, wrong account: refused alike, nothing spent. */
	assert_int_equal(mssl_token_unlock_local(tok, t->fx->ctx, FX_A,
						 "AAAA-AAAA-AAAA", NEW_PIN2,
						 strlen(NEW_PIN2), "x",
						 t->fx->err),
			 MSSL_EPERM);
	assert_string_equal(mssl_error_id(t->fx->err), "card.unlock_refused");
	assert_int_equal(mssl_token_unlock_local(tok, t->fx->ctx, FX_B, code,
						 NEW_PIN2, strlen(NEW_PIN2),
						 "x", t->fx->err),
			 MSSL_EPERM);
	/* A PIN against the policy is refused before the code is spent. */
	assert_int_equal(mssl_token_unlock_local(tok, t->fx->ctx, FX_A, code,
						 "12345678", 8, "x",
						 t->fx->err),
			 MSSL_EINPUT);
	/* Typed in lower case with spaces: still the code. */
	{
		char typed[32];
		size_t i;

		for (i = 0; code[i]; i++)
			typed[i] = code[i] == '-' ? ' ' :
					(char)(code[i] >= 'A' && code[i] <= 'Z' ?
						       code[i] - 'A' + 'a' :
						       code[i]);
		typed[i] = '\0';
		ok(t, mssl_token_unlock_local(tok, t->fx->ctx, FX_A, typed,
					      NEW_PIN2, strlen(NEW_PIN2), "x",
					      t->fx->err),
		   "unlock");
	}
	assert_string_equal(card_state(t, t->alice_card), "active");
	/* Once only. */
	assert_int_equal(mssl_token_unlock_local(tok, t->fx->ctx, FX_A, code,
						 NEW_PIN, strlen(NEW_PIN), "x",
						 t->fx->err),
			 MSSL_EPERM);
	mssl_token_free(tok);
	/* The new PIN logs in, to a full session (the holder chose it). */
	s = login(t, "alice", FX_A, NEW_PIN2);
	assert_false(s->pin_change_only);
	mssl_session_info_free(s);
	free(code);
	/* Every step is in the log. */
	assert_true(fx_sql_int(t->fx, 0,
			       "SELECT COUNT(*) FROM audit WHERE action = "
			       "'card.unlock' AND outcome = 'ok'") == 2);
	assert_true(fx_sql_int(t->fx, 0,
			       "SELECT COUNT(*) FROM audit WHERE action = "
			       "'card.unlock' AND outcome = 'refused'") >= 2);
}

/* ---- stateless challenges and the card key cache ----------------------- */

static int64_t lt_clock(void *ud)
{
	const struct fx *f = ud;

	return __atomic_load_n(&f->now, __ATOMIC_RELAXED);
}

/*
 * Another context on the fixture's store (another process, in effect),
 * on the fixture's clock: with master secret file 'secret' of cadir
 * (NULL: none) and card CA key file 'ca_key' of cadir.
 */
static mssl_ctx *other_ctx(struct lt *t, const char *secret,
			   const char *ca_key)
{
	char *extra = NULL, *sec = NULL;
	mssl_ctx *ctx;

	if (secret)
		assert_true(asprintf(&sec, "master_secret_file = %s/%s\n",
				     t->cadir, secret) > 0);
	assert_true(asprintf(&extra,
			     "\n[login]\norigin = " ORIGIN "\n"
			     "max_failures_card = 5\n"
			     "max_failures_account = 8\n"
			     "throttle_window_s = 600\n"
			     "[cards]\nca_cert = %s/ca.pem\n"
			     "ca_key = %s/%s\n%s",
			     t->cadir, t->cadir, ca_key, sec ? sec : "") > 0);
	ctx = th_ctx_open(t->fx->dir, extra);
	mssl_ctx_set_clock(ctx, lt_clock, t->fx);
	free(extra);
	free(sec);
	return ctx;
}

/* A challenge of ctx for account, as challenge() does. */
static void challenge_on(struct lt *t, mssl_ctx *ctx, const char *account,
			 struct proof *pr)
{
	memset(pr, 0, sizeof(*pr));
	ok(t, mssl_login_challenge(ctx, account, "192.0.2.7", pr->nonce, NULL,
				   t->fx->err),
	   "challenge");
	pr->p.origin = ORIGIN;
	pr->p.account_id = account;
	pr->p.nonce = pr->nonce;
	pr->p.time = t->fx->now;
}

/* refused() through another context. */
static void refused_on(struct lt *t, mssl_ctx *ctx, struct proof *pr,
		       const char *why)
{
	mssl_ctx *mine = t->fx->ctx;

	t->fx->ctx = ctx;
	refused(t, pr, why);
	t->fx->ctx = mine;
}

/* A challenge with byte i changed, signed by Alice's card: refused. */
static void tampered(struct lt *t, size_t i, const char *why)
{
	struct proof pr;

	challenge(t, FX_A, &pr);
	pr.nonce[i] ^= 0x01;
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, why);
	proof_free(&pr);
}

/*
 * A challenge is written nowhere; a forged or altered one is refused; a
 * used one is recorded in the login's transaction and refused again,
 * also by another process with the same master secret, and after the
 * purge by its expiry; another master secret's challenges are refused.
 */
static void test_stateless_challenge(void **state)
{
	struct lt *t = *state;
	struct proof pr, again;
	mssl_session_info *s = NULL;
	mssl_ctx *same, *other, *none;
	int64_t head = fx_audit_head(t->fx);
	char *before = fx_snapshot(t->fx), *after;

	/* Nothing written: no row, no audit record. */
	challenge(t, FX_A, &pr);
	after = fx_snapshot(t->fx);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(fx_audit_head(t->fx), head);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM login_challenges"),
			 0);
	/* Expires as [login] challenge_ttl_s says, which the nonce holds. */
	proof_free(&pr);

	/* Altered: version, random part, expiry (pushed later), either tag. */
	tampered(t, 0, "auth.nonce_forged");
	tampered(t, 3, "auth.nonce_forged");
	tampered(t, 13, "auth.nonce_forged");
	tampered(t, 15, "auth.nonce_forged");
	tampered(t, 25, "auth.nonce_account");
	/* Made up altogether. */
	challenge(t, FX_A, &pr);
	memset(pr.nonce, 0x5a, sizeof(pr.nonce));
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.nonce_forged");
	proof_free(&pr);

	/* Used once: recorded used in the login's transaction. */
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	ok(t, mssl_login(t->fx->ctx, &pr.p, "x", &s, t->fx->err), "login");
	mssl_session_info_free(s);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM login_challenges "
				    "WHERE used = 1"),
			 1);
	/* Another process with the same master secret: refused as used. */
	same = other_ctx(t, "master.key", "ca-key.pem");
	refused_on(t, same, &pr, "auth.nonce");
	/* Its challenges are good here, and used once across both. */
	challenge_on(t, same, FX_A, &again);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &again);
	ok(t, mssl_login(t->fx->ctx, &again.p, "x", &s, t->fx->err),
	   "login with the other process's challenge");
	mssl_session_info_free(s);
	refused_on(t, same, &again, "auth.nonce");
	proof_free(&again);

	/* The purge drops used challenges some time after their expiry;
	 * the nonce is then refused by time. */
	t->fx->now += 600;
	ok(t, mssl_login_purge(t->fx->ctx, t->fx->err), "purge");
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM login_challenges"),
			 0);
	refused(t, &pr, "auth.nonce_expired");
	proof_free(&pr);

	/* Another master secret: its challenges are not ours, nor ours its. */
	shell("cd '%s' && head -c 64 /dev/urandom > other.key && "
	      "chmod 600 other.key%s",
	      t->cadir, "");
	other = other_ctx(t, "other.key", "ca-key.pem");
	challenge_on(t, other, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.nonce_forged");
	proof_free(&pr);
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused_on(t, other, &pr, "auth.nonce_forged");
	proof_free(&pr);

	/* No master secret: a key of the context's own. */
	none = other_ctx(t, NULL, "ca-key.pem");
	challenge_on(t, none, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.nonce_forged");
	proof_free(&pr);
	challenge_on(t, none, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	ok(t, mssl_login(none, &pr.p, "x", &s, t->fx->err),
	   "login on its own challenge");
	mssl_session_info_free(s);
	proof_free(&pr);

	mssl_ctx_free(same);
	mssl_ctx_free(other);
	mssl_ctx_free(none);
}

/*
 * The card's key is cached after the first login; the card's state is
 * read at every login all the same, so a suspended or revoked card is
 * refused at once.
 */
static void test_cached_key_revoked(void **state)
{
	struct lt *t = *state;
	struct proof pr;

	mssl_session_info_free(login(t, "alice", FX_A, MSSL_TOKEN_ISSUED_PIN));
	mssl_session_info_free(login(t, "alice", FX_A, MSSL_TOKEN_ISSUED_PIN));
	ok(t, mssl_card_set_state(t->fx->ctx, t->fx->op, t->alice_card,
				  "suspended", "on leave", t->fx->err),
	   "suspend");
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.card_state");
	proof_free(&pr);
	ok(t, mssl_card_set_state(t->fx->ctx, t->fx->op, t->alice_card,
				  "active", "back", t->fx->err),
	   "reactivate");
	mssl_session_info_free(login(t, "alice", FX_A, MSSL_TOKEN_ISSUED_PIN));
	ok(t, mssl_card_set_state(t->fx->ctx, t->fx->op, t->alice_card,
				  "revoked", "lost", t->fx->err),
	   "revoke");
	challenge(t, FX_A, &pr);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.card_state");
	proof_free(&pr);
	/* Nor does the person's suspension wait for the cache. */
	mssl_session_info_free(login(t, "carol", FX_B, MSSL_TOKEN_ISSUED_PIN));
	ok(t, mssl_person_suspend(t->fx->ctx, t->fx->op, t->carol, 1, "gone",
				  t->fx->err),
	   "suspend person");
	challenge(t, FX_B, &pr);
	card_sign(t, "carol", MSSL_TOKEN_ISSUED_PIN, &pr);
	refused(t, &pr, "auth.person");
	proof_free(&pr);
}

/*
 * A certificate of another CA put into the store behind the library's
 * back is still refused: the chain is checked when a key enters the
 * cache.  And an enrolment whose ca_key is not the key of ca_cert fails
 * instead of registering a card.
 */
static void test_card_ca_checks(void **state)
{
	struct lt *t = *state;
	mssl_token *tok = open_card(t, "alice");
	uint8_t *spki = NULL, *blob = NULL, *sig = NULL, *cert;
	size_t spki_len = 0, blob_len = 0, sig_len = 0, cert_len = 0, i;
	uint8_t h[32];
	char hex[65];
	struct proof pr;
	mssl_ctx *bad;
	int64_t card = 0;
	int alg = 0;

	ok(t, mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN, 8, t->fx->err),
	   "PIN");
	ok(t, mssl_token_pubkey(tok, &spki, &spki_len, t->fx->err), "spki");
	cert = tk_issue_cert(spki, spki_len, "Alice Wang", &cert_len, NULL,
			     NULL);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, cert, cert_len,
					  h),
			 0);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	fx_sql(t->fx,
	       "INSERT INTO cards(person_id, token_serial, cert_der, "
	       "cert_sha256, state, created) VALUES (%lld, 'forged', "
	       "X'00', X'%s', 'active', 0)",
	       (long long)t->alice, hex);
	challenge(t, FX_A, &pr);
	pr.soft = true;
	pr.p.cert = cert;
	pr.p.cert_len = cert_len;
	assert_int_equal(mssl_login_blob(&pr.p, &blob, &blob_len), 0);
	ok(t, mssl_token_sign(tok, blob, blob_len, &sig, &sig_len, &alg,
			      t->fx->err),
	   "sign");
	pr.p.sig = gnutls_malloc(sig_len);
	memcpy((void *)pr.p.sig, sig, sig_len);
	pr.p.sig_len = sig_len;
	pr.p.sig_alg = alg;
	mssl_free(sig);
	mssl_free(blob);
	refused(t, &pr, "auth.card_ca");
	proof_free(&pr);
	mssl_free(spki);
	mssl_token_free(tok);

	/* soft-key.pem is no CA's key: nothing is registered. */
	bad = other_ctx(t, "master.key", "soft-key.pem");
	spki = tk_soft_spki(&spki_len);
	cert = NULL;
	assert_int_equal(mssl_card_certify(bad, t->fx->op, t->bob, "bad-ca-1",
					   spki, spki_len, &cert, &cert_len,
					   &card, t->fx->err),
			 MSSL_ECONFIG);
	assert_string_equal(mssl_error_id(t->fx->err), "cards.ca_mismatch");
	assert_null(cert);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM cards WHERE "
				    "token_serial = 'bad-ca-1'"),
			 0);
	free(spki);
	mssl_ctx_free(bad);
}

/* ---- logins from several threads at once ------------------------------- */

#define RACE_THREADS 4
#define RACE_EACH 4

struct racer {
	mssl_ctx *ctx;
	struct proof *proofs; /* this thread's, n of them */
	size_t n;
	pthread_barrier_t *go;
	int ok, refused, other;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	mssl_error *err = mssl_error_new();
	size_t i;

	pthread_barrier_wait(r->go);
	for (i = 0; i < r->n; i++) {
		mssl_session_info *s = NULL;
		int rc = mssl_login(r->ctx, &r->proofs[i].p, "x", &s, err);

		if (rc == 0)
			r->ok++;
		else if (rc == MSSL_EPERM)
			r->refused++;
		else
			r->other++;
		mssl_session_info_free(s);
	}
	mssl_error_free(err);
	return NULL;
}

/* Run the racers: each thread logs in with its proofs. */
static void run_race(struct racer *r, size_t n)
{
	pthread_t th[RACE_THREADS];
	pthread_barrier_t go;
	size_t i;

	assert_int_equal(pthread_barrier_init(&go, NULL, (unsigned)n), 0);
	for (i = 0; i < n; i++) {
		r[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

/*
 * Threads logging in with one card through one context whose key cache
 * starts empty: every distinct proof opens a session; one proof given
 * to every thread at once opens exactly one.
 */
static void test_threads(void **state)
{
	struct lt *t = *state;
	struct proof pr[RACE_THREADS * RACE_EACH], one;
	struct racer r[RACE_THREADS];
	mssl_ctx *ctx = other_ctx(t, "master.key", "ca-key.pem");
	size_t i;
	int ok = 0, refused = 0, other = 0;

	for (i = 0; i < RACE_THREADS * RACE_EACH; i++) {
		challenge_on(t, ctx, FX_A, &pr[i]);
		card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &pr[i]);
	}
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].ctx = ctx;
		r[i].proofs = pr + i * RACE_EACH;
		r[i].n = RACE_EACH;
	}
	run_race(r, RACE_THREADS);
	for (i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(r[i].ok, RACE_EACH);
		assert_int_equal(r[i].refused + r[i].other, 0);
	}
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM sessions"),
			 RACE_THREADS * RACE_EACH);

	/* One proof, every thread: one session, the others refused. */
	challenge_on(t, ctx, FX_A, &one);
	card_sign(t, "alice", MSSL_TOKEN_ISSUED_PIN, &one);
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].ctx = ctx;
		r[i].proofs = &one;
		r[i].n = 1;
	}
	run_race(r, RACE_THREADS);
	for (i = 0; i < RACE_THREADS; i++) {
		ok += r[i].ok;
		refused += r[i].refused;
		other += r[i].other;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(refused, RACE_THREADS - 1);
	assert_int_equal(other, 0);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM audit WHERE action = "
				    "'auth.login' AND outcome = 'refused' AND "
				    "detail LIKE '%%auth.nonce:%%'"),
			 RACE_THREADS - 1);
	proof_free(&one);
	for (i = 0; i < RACE_THREADS * RACE_EACH; i++)
		proof_free(&pr[i]);
	mssl_ctx_free(ctx);
}

/* The blob is what DESIGN.md says, field by field. */
static void test_blob(void **state)
{
	uint8_t nonce[MSSL_NONCE_LEN] = { 1, 2, 3 }, cert[3] = { 9, 9, 9 };
	struct mssl_login_proof p = { .origin = "https://o",
				      .account_id = "70759028-01",
				      .nonce = nonce,
				      .time = 0x0102030405060708LL,
				      .cert = cert,
				      .cert_len = 3 };
	uint8_t *b = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(mssl_login_blob(&p, &b, &n), 0);
	assert_int_equal(n, 8 * 4 + 10 + 4 + 9 + 11 + 32 + 8 + 32 + 0);
	assert_memory_equal(b, "\0\0\0\x0amssl-login\0\0\0\x04\0\0\0\x01", 22);
	assert_memory_equal(b + 22, "\0\0\0\x09https://o", 13);
	assert_memory_equal(b + 22 + 13 + 15 + 36, "\0\0\0\x08\x01\x02\x03\x04"
						   "\x05\x06\x07\x08",
			    12);
	mssl_free(b);
	p.nonce = NULL;
	assert_int_equal(mssl_login_blob(&p, &b, &n), MSSL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob),
		cmocka_unit_test_setup_teardown(test_enrolled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_login_pin_change,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_auditor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspended_and_revoked,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_challenge,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_key_revoked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_card_ca_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
