/*
 * Cards and login end to end on the opencryptoki software token, which
 * counts wrong PINs and locks like a real card (SoftHSM never locks, so
 * test-login.c cannot show this): a blank token enrolled through
 * mssl_token_enroll (RSA-2048: it has no EC; its PINs are at most 8
 * characters), the first login gated to the PIN change, then three wrong
 * PINs lock the card in plain words in English and zh-TW, the right PIN
 * is refused, and the operator's single-use unlock code sent by e-mail
 * unblocks it with a new PIN chosen by the holder.
 *
 * It needs root and the token's slot daemon; where it cannot run, the
 * whole file is skipped with the reason (TAP "1..0 # SKIP"), never passed.
 * The tests run in order on one token: each goes on where the last ended.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "fixture.h"
#include "tokenhelp.h"

#define ORIGIN "https://mssl.test"
/* opencryptoki's own default SO PIN: the blank card's transport PIN. */
#define TRANSPORT_SO "87654321"
/* The card takes at most 8 characters; the policy wants at least 6. */
#define NEW_PIN "pin-2468"
#define UNLOCK_PIN "pin-1357"
#define WRONG_PIN "00000000"
#define LEN(s) (sizeof(s) - 1)

static struct tk_ock ock;

/*
 * opencryptoki 3.8 leaks in its token libraries (not our code); under
 * AddressSanitizer these suppressions name them (tk_ock_start keeps them
 * loaded so that LeakSanitizer can tell whose the leaks are).
 */
__attribute__((visibility("default"))) const char *
__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *
__lsan_default_suppressions(void)
{
	return "leak:libpkcs11_\nleak:libopencryptoki.so\nleak:libtspi.so\n";
}

struct lt {
	struct fx *fx;
	char *cadir; /* card CA and master secret */
	mssl_token_module *m;
	int64_t alice, card;
};

static void ok(struct lt *t, int rc, const char *what)
{
	if (rc)
		fail_msg("%s: %s [%s] %s", what, mssl_err_name(rc),
			 mssl_error_id(t->fx->err),
			 mssl_error_message(t->fx->err, MSSL_LANG_EN));
}

static void shell(const char *fmt, const char *a)
{
	if (th_system(fmt, a) != 0)
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
	      "--template ca.tmpl --outfile ca.pem --no-text 2>/dev/null",
	      dir);
	shell("cd '%s' && head -c 64 /dev/urandom > master.key && "
	      "chmod 600 master.key",
	      dir);
}

/* The token is the module's only one, blank or enrolled. */
static mssl_token *open_card(struct lt *t)
{
	mssl_token *tok = NULL;

	ok(t, mssl_token_open(t->m, NULL, &tok, t->fx->err), "open card");
	return tok;
}

static int group_setup(void **state)
{
	struct lt *t = calloc(1, sizeof(*t));
	char *extra = NULL;
	mssl_token *tok;
	struct mssl_token_enrollment e = {
		.transport_so_pin = TRANSPORT_SO,
		.transport_so_len = LEN(TRANSPORT_SO),
		.key_type = MSSL_TOKEN_KEY_RSA_2048,
	};

	assert_non_null(t);
	t->cadir = th_mkdtemp();
	make_card_ca(t->cadir);
	assert_true(asprintf(&extra,
			     "\n[login]\norigin = " ORIGIN "\n"
			     "[cards]\nca_cert = %s/ca.pem\n"
			     "ca_key = %s/ca-key.pem\n"
			     "master_secret_file = %s/master.key\n",
			     t->cadir, t->cadir, t->cadir) > 0);
	t->fx = fx_new(FX_ACCOUNTS, extra);
	free(extra);
	ok(t, mssl_token_module_open(ock.module, &t->m, t->fx->err), "module");
	ok(t,
	   mssl_person_add(t->fx->ctx, t->fx->op, FX_A, "Alice Wang",
			   "alice@twca.com.tw", MSSL_ROLE_MANAGER, &t->alice,
			   t->fx->err),
	   "person alice");
	tok = open_card(t);
	assert_false(mssl_token_info(tok)->flags & MSSL_TOKEN_INITIALIZED);
	e.ctx = t->fx->ctx;
	e.actor = t->fx->op;
	e.person_id = t->alice;
	ok(t, mssl_token_enroll(tok, &e, &t->card, t->fx->err), "enrol");
	assert_true(t->card > 0);
	mssl_token_free(tok);
	*state = t;
	return 0;
}

static int group_teardown(void **state)
{
	struct lt *t = *state;

	if (!t)
		return 0;
	mssl_token_module_free(t->m);
	fx_free(t->fx);
	th_rmrf(t->cadir);
	free(t->cadir);
	free(t);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

struct proof {
	struct mssl_login_proof p;
	uint8_t nonce[MSSL_NONCE_LEN];
};

static void challenge(struct lt *t, struct proof *pr)
{
	int64_t exp = 0;

	memset(pr, 0, sizeof(*pr));
	ok(t,
	   mssl_login_challenge(t->fx->ctx, FX_A, "192.0.2.7", pr->nonce, &exp,
				t->fx->err),
	   "challenge");
	pr->p.origin = ORIGIN;
	pr->p.account_id = FX_A;
	pr->p.nonce = pr->nonce;
	pr->p.time = t->fx->now;
}

/* Log in to the card with pin and sign the proof with it. */
static void card_sign(struct lt *t, const char *pin, struct proof *pr)
{
	mssl_token *tok = open_card(t);

	ok(t, mssl_token_login(tok, pin, strlen(pin), t->fx->err), "PIN");
	ok(t, mssl_token_prove(tok, &pr->p, t->fx->err), "prove");
	mssl_token_free(tok);
}

/* A login with the card; returns the session (caller frees). */
static mssl_session_info *login(struct lt *t, const char *pin)
{
	struct proof pr;
	mssl_session_info *s = NULL;

	challenge(t, &pr);
	card_sign(t, pin, &pr);
	ok(t, mssl_login(t->fx->ctx, &pr.p, "192.0.2.7", &s, t->fx->err),
	   "login");
	mssl_token_proof_clear(&pr.p);
	assert_non_null(s);
	assert_non_null(s->token);
	return s;
}

static const char *card_state(struct lt *t)
{
	static char buf[32];
	char *s = fx_sql_text(t->fx, "SELECT state FROM cards WHERE id = %lld",
			      (long long)t->card);

	snprintf(buf, sizeof(buf), "%s", s ? s : "(none)");
	free(s);
	return buf;
}

/* ---- tests, in order on the one card ------------------------------------ */

/* Enrolment: RSA on the card, its serial registered, issued PIN. */
static void t_enrolled(void **state)
{
	struct lt *t = *state;
	mssl_token *tok = open_card(t);
	const struct mssl_token_info *ti = mssl_token_info(tok);
	char *serial;

	assert_true(ti->flags & MSSL_TOKEN_INITIALIZED);
	assert_true(ti->flags & MSSL_TOKEN_PIN_INITIALIZED);
	assert_int_equal(ti->max_pin_len, 8);
	serial = fx_sql_text(t->fx,
			     "SELECT token_serial FROM cards WHERE id = %lld",
			     (long long)t->card);
	assert_non_null(serial);
	assert_string_equal(serial, ti->serial);
	free(serial);
	assert_string_equal(card_state(t), "issued_pin");
	mssl_token_free(tok);
}

/* The issued PIN only changes the PIN; the new one gives a session. */
static void t_first_login(void **state)
{
	struct lt *t = *state;
	mssl_session_info *s;
	mssl_token *tok;
	struct proof pr;

	s = login(t, MSSL_TOKEN_ISSUED_PIN);
	assert_true(s->pin_change_only);
	assert_int_equal(s->role, MSSL_ROLE_MANAGER);
	/* The card's own C_SetPIN, then a fresh proof signed after it. */
	tok = open_card(t);
	ok(t,
	   mssl_token_change_pin(tok, MSSL_TOKEN_ISSUED_PIN,
				 LEN(MSSL_TOKEN_ISSUED_PIN), NEW_PIN,
				 LEN(NEW_PIN), t->fx->err),
	   "change PIN");
	mssl_token_free(tok);
	challenge(t, &pr);
	card_sign(t, NEW_PIN, &pr);
	ok(t,
	   mssl_pin_changed(t->fx->ctx, s->token, &pr.p, "192.0.2.7",
			    t->fx->err),
	   "pin changed");
	mssl_token_proof_clear(&pr.p);
	assert_string_equal(card_state(t), "active");
	/* The PIN change ended the session. */
	assert_int_equal(mssl_session_resume(t->fx->ctx, s->token, "192.0.2.7",
					     NULL, NULL, t->fx->err),
			 MSSL_EPERM);
	mssl_session_info_free(s);
	s = login(t, NEW_PIN);
	assert_false(s->pin_change_only);
	ok(t,
	   mssl_session_resume(t->fx->ctx, s->token, "192.0.2.7", NULL, NULL,
			       t->fx->err),
	   "resume");
	mssl_session_info_free(s);
}

/* Three wrong PINs: counted, final try, locked; then the right PIN too. */
static void t_lock(void **state)
{
	struct lt *t = *state;
	mssl_token *tok = open_card(t);
	mssl_error *err = t->fx->err;
	unsigned int fl;

	assert_false(mssl_token_info(tok)->flags &
		     (MSSL_TOKEN_PIN_COUNT_LOW | MSSL_TOKEN_PIN_FINAL_TRY |
		      MSSL_TOKEN_PIN_LOCKED));
	/* 1: counted, two left. */
	TK_ERR(mssl_token_login(tok, WRONG_PIN, LEN(WRONG_PIN), err),
	       MSSL_EPERM, "token.pin_incorrect", err);
	tk_assert_msg(err, MSSL_LANG_EN, "2 tries left");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "還剩 2 次");
	fl = mssl_token_info(tok)->flags;
	assert_true(fl & MSSL_TOKEN_PIN_COUNT_LOW);
	assert_false(fl & (MSSL_TOKEN_PIN_FINAL_TRY | MSSL_TOKEN_PIN_LOCKED));
	/* 2: the final try, and what the next one does. */
	TK_ERR(mssl_token_login(tok, WRONG_PIN, LEN(WRONG_PIN), err),
	       MSSL_EPERM, "token.pin_final_try", err);
	tk_assert_msg(err, MSSL_LANG_EN, "1 try left");
	tk_assert_msg(err, MSSL_LANG_EN, "locks the card");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "還剩 1 次");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "鎖定");
	fl = mssl_token_info(tok)->flags;
	assert_true(fl & MSSL_TOKEN_PIN_FINAL_TRY);
	assert_false(fl & MSSL_TOKEN_PIN_LOCKED);
	/* 3: locked, and where to turn. */
	TK_ERR(mssl_token_login(tok, WRONG_PIN, LEN(WRONG_PIN), err),
	       MSSL_ESTATE, "token.pin_locked", err);
	tk_assert_msg(err, MSSL_LANG_EN, "locked");
	tk_assert_msg(err, MSSL_LANG_EN, "ask the CA for an unlock");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "卡片已被鎖定");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "申請解鎖");
	assert_true(mssl_token_info(tok)->flags & MSSL_TOKEN_PIN_LOCKED);
	/* The right PIN is refused now: the card itself says so. */
	TK_ERR(mssl_token_login(tok, NEW_PIN, LEN(NEW_PIN), err), MSSL_ESTATE,
	       "token.pin_locked", err);
	tk_assert_msg(err, MSSL_LANG_EN, "locked");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "鎖定");
	mssl_token_free(tok);
	/* The lock survives a new session with the card. */
	tok = open_card(t);
	assert_true(mssl_token_info(tok)->flags & MSSL_TOKEN_PIN_LOCKED);
	TK_ERR(mssl_token_login(tok, NEW_PIN, LEN(NEW_PIN), err), MSSL_ESTATE,
	       "token.pin_locked", err);
	mssl_token_free(tok);
}

/* The operator's code, mailed to the holder, unblocks the card once. */
static void t_unlock(void **state)
{
	struct lt *t = *state;
	mssl_error *err = t->fx->err;
	char *code = NULL, *mail;
	mssl_session_info *s;
	mssl_token *tok;

	ok(t,
	   mssl_card_unlock_approve(t->fx->ctx, t->fx->op, t->card,
				    "supervisor 王小明 by phone", &code, err),
	   "approve");
	assert_non_null(code);
	assert_string_equal(card_state(t), "locked");
	/* The notice to Alice holds the code; the audit log does not. */
	mail = fx_sql_text(t->fx, "SELECT to_addr || ' ' || body FROM "
				  "mail_outbox ORDER BY id DESC LIMIT 1");
	assert_non_null(mail);
	assert_non_null(strstr(mail, "alice@twca.com.tw"));
	assert_non_null(strstr(mail, code));
	free(mail);
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM audit WHERE detail "
				    "LIKE '%%%q%%'",
				    code),
			 0);

	tok = open_card(t);
	/* Too long for this card: refused before the code is spent. */
	TK_ERR(mssl_token_unlock_local(tok, t->fx->ctx, FX_A, code, "pin-13579",
				       9, "192.0.2.7", err),
	       MSSL_EINPUT, "token.pin_len", err);
	ok(t,
	   mssl_token_unlock_local(tok, t->fx->ctx, FX_A, code, UNLOCK_PIN,
				   LEN(UNLOCK_PIN), "192.0.2.7", err),
	   "unlock");
	assert_false(mssl_token_info(tok)->flags &
		     (MSSL_TOKEN_PIN_LOCKED | MSSL_TOKEN_PIN_FINAL_TRY |
		      MSSL_TOKEN_PIN_COUNT_LOW));
	assert_string_equal(card_state(t), "active");
	/* Once only, even with another good PIN. */
	TK_ERR(mssl_token_unlock_local(tok, t->fx->ctx, FX_A, code, "pin-9753",
				       8, "192.0.2.7", err),
	       MSSL_EPERM, "card.unlock_refused", err);
	mssl_token_free(tok);

	/* The new PIN logs in to the card, and to mssl: a full session. */
	s = login(t, UNLOCK_PIN);
	assert_false(s->pin_change_only);
	mssl_session_info_free(s);
	/* The PIN from before the lock is the card's no more. */
	tok = open_card(t);
	TK_ERR(mssl_token_login(tok, NEW_PIN, LEN(NEW_PIN), err), MSSL_EPERM,
	       "token.pin_incorrect", err);
	ok(t, mssl_token_login(tok, UNLOCK_PIN, LEN(UNLOCK_PIN), err),
	   "new PIN");
	mssl_token_free(tok);
	free(code);
	/* Approval and completion are in the log, the reuse as refused. */
	assert_int_equal(fx_sql_int(t->fx, -1,
				    "SELECT COUNT(*) FROM audit WHERE action = "
				    "'card.unlock' AND outcome = 'ok'"),
			 2);
	assert_true(fx_sql_int(t->fx, 0,
			       "SELECT COUNT(*) FROM audit WHERE action = "
			       "'card.unlock' AND outcome = 'refused'") >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_enrolled),
		cmocka_unit_test(t_first_login),
		cmocka_unit_test(t_lock),
		cmocka_unit_test(t_unlock),
	};
	int rc;

	tk_ock_start("blank", &ock);
	rc = cmocka_run_group_tests_name("login-ock", tests, group_setup,
					 group_teardown);
	tk_ock_stop();
	return rc;
}
