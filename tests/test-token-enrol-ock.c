/*
 * Card enrolment on an opencryptoki software token, which starts blank
 * here (tests/cards/opencryptoki.sh blank) and counts wrong PINs and
 * locks like a real card: initialised with its default SO PIN, SO PIN
 * changed to a derived one (at most 8 characters: the card's limit),
 * issued user PIN set (its C_SetPIN would refuse 12345678; SO C_InitPIN
 * takes it), an RSA-2048 login key made on the card (it has no EC), the
 * card certificate written; then three wrong PINs lock it and the derived
 * SO PIN unblocks it.
 *
 * It needs root and its slot daemon; where it cannot run, the whole file
 * is skipped with the reason (TAP "1..0 # SKIP"), never passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "internal.h"
#include "testhelp.h"
#include "tokenhelp.h"

#define PIN MSSL_TOKEN_ISSUED_PIN
/* What the server would derive, cut to the card's 8 characters. */
#define DERIVED_SO "0f1e2d3c"
#define DERIVED_SO_16 "0f1e2d3c4b5a6978"
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

struct fx {
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int rc;

	assert_non_null(f);
	f->err = mssl_error_new();
	rc = mssl_token_module_open(ock.module, &f->m, f->err);
	if (rc)
		fail_msg("module: %s",
			 mssl_error_message(f->err, MSSL_LANG_EN));
	/* The blank token is the module's only one. */
	rc = mssl_token_open(f->m, NULL, &f->tok, f->err);
	if (rc)
		fail_msg("open: %s", mssl_error_message(f->err, MSSL_LANG_EN));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mssl_token_free(f->tok);
	mssl_token_module_free(f->m);
	mssl_error_free(f->err);
	free(f);
	return 0;
}

static void ok(struct fx *f, int rc, const char *what)
{
	if (rc)
		fail_msg("%s: %s [%s] %s", what, mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_message(f->err, MSSL_LANG_EN));
}

static void login(struct fx *f, const char *pin)
{
	ok(f, mssl_token_login(f->tok, pin, strlen(pin), f->err), "login");
}

static void sign_verify_cert(struct fx *f, const uint8_t *cert, size_t cert_len)
{
	uint8_t challenge[64], *sig = NULL;
	size_t sig_len = 0;
	int alg = -1;

	assert_int_equal(
		gnutls_rnd(GNUTLS_RND_NONCE, challenge, sizeof(challenge)), 0);
	ok(f,
	   mssl_token_sign(f->tok, challenge, sizeof(challenge), &sig, &sig_len,
			   &alg, f->err),
	   "sign");
	/* CKM_RSA_PKCS over our DigestInfo: it has no CKM_SHA256_RSA_PKCS. */
	assert_int_equal(alg, GNUTLS_SIGN_RSA_SHA256);
	assert_int_equal(sig_len, 256);
	tk_verify_cert(cert, cert_len, alg, challenge, sizeof(challenge), sig,
		       sig_len);
	free(sig);
}

/* The tests run in order on one token: each goes on where the last ended. */

static void t_init(void **state)
{
	struct fx *f = *state;
	const struct mssl_token_info *ti = mssl_token_info(f->tok);
	mssl_token *other = NULL;

	assert_false(ti->flags & MSSL_TOKEN_INITIALIZED);
	assert_true(ti->flags & MSSL_TOKEN_SO_PIN_TO_BE_CHANGED);
	assert_int_equal(ti->max_pin_len, 8);
	/* Another session of ours on the card stands in the way. */
	ok(f, mssl_token_open(f->m, NULL, &other, f->err), "second handle");
	TK_ERR(mssl_token_init(f->tok, ock.so_pin, strlen(ock.so_pin),
			       "mssl-enrol", f->err),
	       MSSL_ESTATE, "token.busy", f->err);
	mssl_token_free(other);
	/* Its transport SO PIN is its default one. */
	TK_ERR(mssl_token_init(f->tok, "11111111", 8, "mssl-enrol", f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	ok(f,
	   mssl_token_init(f->tok, ock.so_pin, strlen(ock.so_pin), "mssl-enrol",
			   f->err),
	   "init");
	ti = mssl_token_info(f->tok);
	assert_true(ti->flags & MSSL_TOKEN_INITIALIZED);
	assert_false(ti->flags & MSSL_TOKEN_PIN_INITIALIZED);
	assert_string_equal(ti->label, "mssl-enrol");
	TK_ERR(mssl_token_init(f->tok, ock.so_pin, strlen(ock.so_pin),
			       "mssl-enrol", f->err),
	       MSSL_ESTATE, "token.initialized", f->err);
}

static void t_pins(void **state)
{
	struct fx *f = *state;

	/* 16 characters are too many for this card: said before it sees
	 * the SO PIN. */
	TK_ERR(mssl_token_set_so_pin(f->tok, ock.so_pin, strlen(ock.so_pin),
				     DERIVED_SO_16, LEN(DERIVED_SO_16), f->err),
	       MSSL_EINPUT, "token.pin_len", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "4 to 8");
	assert_string_equal(mssl_error_field(f->err), "new_so_pin");
	TK_ERR(mssl_token_set_so_pin(f->tok, "11111111", 8, DERIVED_SO,
				     LEN(DERIVED_SO), f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	assert_true(mssl_token_info(f->tok)->flags &
		    MSSL_TOKEN_SO_PIN_COUNT_LOW);
	ok(f,
	   mssl_token_set_so_pin(f->tok, ock.so_pin, strlen(ock.so_pin),
				 DERIVED_SO, LEN(DERIVED_SO), f->err),
	   "set SO PIN");
	assert_false(mssl_token_info(f->tok)->flags &
		     (MSSL_TOKEN_SO_PIN_TO_BE_CHANGED |
		      MSSL_TOKEN_SO_PIN_COUNT_LOW));
	TK_ERR(mssl_token_init_user_pin(f->tok, ock.so_pin, strlen(ock.so_pin),
					PIN, LEN(PIN), f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	ok(f,
	   mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				    LEN(PIN), f->err),
	   "init user PIN");
	assert_true(mssl_token_info(f->tok)->flags &
		    MSSL_TOKEN_PIN_INITIALIZED);
	login(f, PIN);
}

static void t_key_and_cert(void **state)
{
	struct fx *f = *state;
	uint8_t *spki = NULL, *pub = NULL, *cert, *der = NULL;
	size_t spki_len = 0, pub_len = 0, cert_len, der_len = 0;
	int made = -1;

	login(f, PIN);
	TK_ERR(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_EC_P256, 0, NULL, &spki,
				 &spki_len, &made, f->err),
	       MSSL_ECRYPTO, "token.no_mechanism", f->err);
	ok(f,
	   mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, NULL, &spki,
			     &spki_len, &made, f->err),
	   "keygen");
	assert_int_equal(made, MSSL_TOKEN_KEY_RSA_2048);
	ok(f, mssl_token_pubkey(f->tok, &pub, &pub_len, f->err), "pubkey");
	assert_int_equal(pub_len, spki_len);
	assert_memory_equal(pub, spki, spki_len);
	cert = tk_issue_cert(spki, spki_len, "mssl ock card", &cert_len, NULL,
			     NULL);
	ok(f, mssl_token_write_cert(f->tok, cert, cert_len, NULL, f->err),
	   "write cert");
	mssl_token_logout(f->tok);
	ok(f, mssl_token_cert(f->tok, &der, &der_len, f->err), "cert");
	assert_int_equal(der_len, cert_len);
	assert_memory_equal(der, cert, cert_len);
	login(f, PIN);
	sign_verify_cert(f, cert, cert_len);
	free(der);
	free(pub);
	free(spki);
	free(cert);
}

static void t_lock_and_unblock(void **state)
{
	struct fx *f = *state;
	uint8_t *cert = NULL;
	size_t cert_len = 0;

	ok(f, mssl_token_cert(f->tok, &cert, &cert_len, f->err), "cert");
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_EPERM,
	       "token.pin_final_try", f->err);
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_ESTATE,
	       "token.pin_locked", f->err);
	TK_ERR(mssl_token_login(f->tok, PIN, LEN(PIN), f->err), MSSL_ESTATE,
	       "token.pin_locked", f->err);
	assert_true(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_LOCKED);
	/* Only the derived SO PIN unblocks it now. */
	TK_ERR(mssl_token_unblock(f->tok, ock.so_pin, strlen(ock.so_pin),
				  "abcdef12", 8, f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	ok(f,
	   mssl_token_unblock(f->tok, DERIVED_SO, LEN(DERIVED_SO), "abcdef12",
			      8, f->err),
	   "unblock");
	assert_false(mssl_token_info(f->tok)->flags &
		     (MSSL_TOKEN_PIN_LOCKED | MSSL_TOKEN_PIN_FINAL_TRY |
		      MSSL_TOKEN_PIN_COUNT_LOW));
	login(f, "abcdef12");
	sign_verify_cert(f, cert, cert_len);
	/* Or back to the issued PIN, if the server wants that instead. */
	ok(f,
	   mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				    LEN(PIN), f->err),
	   "back to the issued PIN");
	login(f, PIN);
	/* Its own C_SetPIN refuses the issued PIN; mssl's policy first. */
	TK_ERR(mssl_token_change_pin(f->tok, PIN, LEN(PIN), PIN, LEN(PIN),
				     f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	free(cert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_init),
		T(t_pins),
		T(t_key_and_cert),
		T(t_lock_and_unblock),
	};
	int rc;

	tk_ock_start("blank", &ock);
	rc = cmocka_run_group_tests_name("token-enrol-ock", tests, NULL, NULL);
	tk_ock_stop();
	return rc;
}
