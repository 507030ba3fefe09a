/*
 * libmssl-token against an opencryptoki software token, which counts
 * wrong PINs and locks like a real card (tests/cards/opencryptoki.sh):
 * the words for each wrong PIN, the lock, the unblock with the SO PIN,
 * and RSA signatures through CKM_RSA_PKCS over our DigestInfo (it offers
 * no CKM_SHA256_RSA_PKCS).
 *
 * It needs root and its slot daemon; where it cannot run, the whole file
 * is skipped with the reason (TAP "1..0 # SKIP"), never passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "internal.h"
#include "testhelp.h"
#include "tokenhelp.h"

static struct tk_ock ock;

struct fx {
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
};

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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *uri = NULL;
	int rc;

	assert_non_null(f);
	f->err = mssl_error_new();
	rc = mssl_token_module_open(ock.module, &f->m, f->err);
	if (rc)
		fail_msg("module: %s",
			 mssl_error_message(f->err, MSSL_LANG_EN));
	assert_true(asprintf(&uri, "pkcs11:token=%s", ock.label) > 0);
	rc = mssl_token_open(f->m, uri, &f->tok, f->err);
	if (rc)
		fail_msg("open: %s", mssl_error_message(f->err, MSSL_LANG_EN));
	free(uri);
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

static void login(struct fx *f, const char *p)
{
	int rc = mssl_token_login(f->tok, p, strlen(p), f->err);

	if (rc)
		fail_msg("login: %s [%s]",
			 mssl_error_message(f->err, MSSL_LANG_EN),
			 mssl_error_id(f->err));
}

static char *path_in(const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", ock.dir, name) < 0)
		fail_msg("out of memory");
	return p;
}

static void t_only_card(void **state)
{
	struct fx *f = *state;
	mssl_token *tok = NULL;

	/* The software token is the module's only card. */
	assert_int_equal(mssl_token_open(f->m, NULL, &tok, f->err), 0);
	assert_string_equal(mssl_token_info(tok)->label, ock.label);
	assert_string_equal(mssl_token_info(tok)->model, "IBM SoftTok");
	mssl_token_free(tok);
}

static void t_sign_digestinfo(void **state)
{
	struct fx *f = *state;
	uint8_t challenge[64], *sig = NULL, *spki = NULL, *file = NULL;
	size_t sig_len = 0, spki_len = 0, file_len = 0;
	char *pub = path_in("mssl-ock.pub.der");
	int alg = -1;

	/* What makes this card the DigestInfo test. */
	assert_int_equal(mssl__token_deny_mechanism(f->tok,
						    CKM_SHA256_RSA_PKCS),
			 MSSL_ENOENT);
	login(f, ock.pin);
	assert_int_equal(
		gnutls_rnd(GNUTLS_RND_NONCE, challenge, sizeof(challenge)), 0);
	if (mssl_token_sign(f->tok, challenge, sizeof(challenge), &sig,
			    &sig_len, &alg, f->err) != 0)
		fail_msg("sign: %s", mssl_error_message(f->err, MSSL_LANG_EN));
	assert_int_equal(alg, GNUTLS_SIGN_RSA_SHA256);
	assert_int_equal(sig_len, 256);
	tk_verify(pub, alg, challenge, sizeof(challenge), sig, sig_len);
	assert_int_equal(mssl_token_pubkey(f->tok, &spki, &spki_len, f->err),
			 0);
	file = tk_read_file(pub, &file_len);
	assert_int_equal(spki_len, file_len);
	assert_memory_equal(spki, file, file_len);
	free(sig);
	sig = NULL;
	/* And PSS, when PKCS#1 v1.5 is taken away. */
	assert_int_equal(mssl__token_deny_mechanism(f->tok, CKM_RSA_PKCS), 0);
	if (mssl_token_sign(f->tok, challenge, sizeof(challenge), &sig,
			    &sig_len, &alg, f->err) != 0)
		fail_msg("sign: %s", mssl_error_message(f->err, MSSL_LANG_EN));
	assert_int_equal(alg, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	tk_verify(pub, alg, challenge, sizeof(challenge), sig, sig_len);
	free(sig);
	free(file);
	free(spki);
	free(pub);
}

/* The card's PIN length (4 to 8) is checked before the card sees it. */
static void t_card_pin_length(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mssl_token_info(f->tok)->max_pin_len, 8);
	TK_ERR(mssl_token_change_pin(f->tok, ock.pin, strlen(ock.pin),
				     "longer-pin-9", 12, f->err),
	       MSSL_EINPUT, "token.pin_len", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "4 to 8");
	assert_false(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_COUNT_LOW);
}

static void t_lock_and_unblock(void **state)
{
	struct fx *f = *state;
	unsigned int fl;

	login(f, ock.pin);
	/* 1: counted, two left. */
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "2 tries left");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "還剩 2 次");
	fl = mssl_token_info(f->tok)->flags;
	assert_true(fl & MSSL_TOKEN_PIN_COUNT_LOW);
	assert_false(fl & (MSSL_TOKEN_PIN_FINAL_TRY | MSSL_TOKEN_PIN_LOCKED));
	/* 2: the final try. */
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_EPERM,
	       "token.pin_final_try", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "1 try left");
	tk_assert_msg(f->err, MSSL_LANG_EN, "locks the card");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "還剩 1 次");
	fl = mssl_token_info(f->tok)->flags;
	assert_true(fl & MSSL_TOKEN_PIN_FINAL_TRY);
	assert_false(fl & MSSL_TOKEN_PIN_LOCKED);
	/* 3: locked. */
	TK_ERR(mssl_token_login(f->tok, "00000000", 8, f->err), MSSL_ESTATE,
	       "token.pin_locked", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "ask the CA for an unlock");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "鎖");
	assert_true(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_LOCKED);
	/* The right PIN is refused now: the card says CKR_PIN_LOCKED. */
	TK_ERR(mssl_token_login(f->tok, ock.pin, strlen(ock.pin), f->err),
	       MSSL_ESTATE, "token.pin_locked", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "ask the CA for an unlock");
	TK_ERR(mssl_token_change_pin(f->tok, ock.pin, strlen(ock.pin), "abc123",
				     6, f->err),
	       MSSL_ESTATE, "token.pin_locked", f->err);

	/* Unblock: a wrong SO PIN first (counted on the SO side). */
	TK_ERR(mssl_token_unblock(f->tok, "11111111", 8, "abcdef12", 8, f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	assert_true(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_LOCKED);
	TK_ERR(mssl_token_unblock(f->tok, ock.so_pin, strlen(ock.so_pin),
				  ock.pin, strlen(ock.pin), f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	assert_int_equal(mssl_token_unblock(f->tok, ock.so_pin,
					    strlen(ock.so_pin), "abcdef12", 8,
					    f->err),
			 0);
	fl = mssl_token_info(f->tok)->flags;
	assert_false(fl & (MSSL_TOKEN_PIN_LOCKED | MSSL_TOKEN_PIN_FINAL_TRY |
			   MSSL_TOKEN_PIN_COUNT_LOW));
	/* The new PIN works, the old one does not. */
	login(f, "abcdef12");
	TK_ERR(mssl_token_login(f->tok, ock.pin, strlen(ock.pin), f->err),
	       MSSL_EPERM, "token.pin_incorrect", f->err);
	login(f, "abcdef12");

	/* A PIN change on this card: C_SetPIN after a login. */
	assert_int_equal(mssl_token_change_pin(f->tok, "abcdef12", 8,
					       "xyz98765", 8, f->err),
			 0);
	TK_ERR(mssl_token_login(f->tok, "abcdef12", 8, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	login(f, "xyz98765");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_only_card),
		T(t_sign_digestinfo),
		T(t_card_pin_length),
		T(t_lock_and_unblock),
	};
	int rc;

	tk_ock_start("start", &ock);
	rc = cmocka_run_group_tests_name("token-ock", tests, NULL, NULL);
	tk_ock_stop();
	return rc;
}
