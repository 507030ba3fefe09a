/*
 * libmssl-token against real SoftHSM2 tokens (tests/cards/softhsm.sh):
 * choosing a card, logging in, signing with EC and RSA keys through
 * every mechanism path, changing and unblocking the PIN.
 *
 * SoftHSM2 never locks a PIN; locking is tested on opencryptoki
 * (test-token-ock.c).  Every signature is verified by GnuTLS against the
 * public key pkcs11-tool read back from the card.
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

#define PIN "12345678"
#define SO_PIN "87654321"
#define LEN(s) (sizeof(s) - 1)

/* One card, "mssl-one" (EC), beside SoftHSM's blank token. */
static char *dir_one;
/* Two cards: "mssl-ec" (ECDSA P-256) and "mssl-rsa" (RSA-2048). */
static char *dir_two;

struct fx {
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
	const char *dir;
};

static int group_setup(void **state)
{
	dir_one = tk_softhsm_cards("mssl-one:ec");
	dir_two = tk_softhsm_cards("mssl-ec:ec mssl-rsa:rsa");
	return 0;
}

static int group_teardown(void **state)
{
	th_rmrf(dir_one);
	th_rmrf(dir_two);
	free(dir_one);
	free(dir_two);
	return 0;
}

/*
 * Each test loads the module afresh: SoftHSM reads SOFTHSM2_CONF when
 * initialised, and the last module user's finalisation lets the next
 * test point it elsewhere.
 */
static int setup_dir(void **state, const char *dir)
{
	struct fx *f = calloc(1, sizeof(*f));
	int rc;

	assert_non_null(f);
	f->dir = dir;
	tk_softhsm_use(dir);
	f->err = mssl_error_new();
	assert_non_null(f->err);
	rc = mssl_token_module_open(tk_softhsm_module(), &f->m, f->err);
	if (rc)
		fail_msg("module: %s",
			 mssl_error_message(f->err, MSSL_LANG_EN));
	*state = f;
	return 0;
}

static int setup_one(void **state)
{
	return setup_dir(state, dir_one);
}

static int setup_two(void **state)
{
	return setup_dir(state, dir_two);
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

static void open_card(struct fx *f, const char *uri)
{
	int rc = mssl_token_open(f->m, uri, &f->tok, f->err);

	if (rc)
		fail_msg("open %s: %s [%s]", uri ? uri : "(only card)",
			 mssl_error_message(f->err, MSSL_LANG_EN),
			 mssl_error_id(f->err));
}

static void login(struct fx *f, const char *pin)
{
	int rc = mssl_token_login(f->tok, pin, strlen(pin), f->err);

	if (rc)
		fail_msg("login: %s [%s]",
			 mssl_error_message(f->err, MSSL_LANG_EN),
			 mssl_error_id(f->err));
}

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		fail_msg("out of memory");
	return p;
}

/* ---- choosing a card ---------------------------------------------------- */

static void t_only_one(void **state)
{
	struct fx *f = *state;
	const struct mssl_token_info *ti;

	open_card(f, NULL);
	ti = mssl_token_info(f->tok);
	assert_string_equal(ti->label, "mssl-one");
	assert_string_equal(ti->manufacturer, "SoftHSM project");
	assert_string_equal(ti->model, "SoftHSM v2");
	assert_int_equal(strlen(ti->serial), 16);
	assert_true(strncmp(ti->uri, "pkcs11:", 7) == 0);
	assert_non_null(strstr(ti->uri, "token=mssl-one"));
	assert_true(ti->flags & MSSL_TOKEN_INITIALIZED);
	assert_true(ti->flags & MSSL_TOKEN_PIN_INITIALIZED);
	assert_false(ti->flags & MSSL_TOKEN_PIN_LOCKED);
	assert_true(ti->max_pin_len >= ti->min_pin_len);
}

static void t_module_by_name(void **state)
{
	struct fx *f = *state;
	mssl_token_module *m = NULL;
	mssl_token *tok = NULL;

	/* The name the softhsm2 package registers with p11-kit. */
	if (mssl_token_module_open("softhsm2", &m, f->err) != 0)
		fail_msg("%s", mssl_error_message(f->err, MSSL_LANG_EN));
	assert_non_null(strstr(mssl_token_module_path(m), "libsofthsm2.so"));
	assert_int_equal(mssl_token_open(m, NULL, &tok, f->err), 0);
	assert_string_equal(mssl_token_info(tok)->label, "mssl-one");
	mssl_token_free(tok);
	mssl_token_module_free(m);
}

static void t_module_not_loadable(void **state)
{
	struct fx *f = *state;
	mssl_token_module *m = NULL;

	TK_ERR(mssl_token_module_open("/nonexistent/libnothing.so", &m, f->err),
	       MSSL_ECONFIG, "token.module", f->err);
	assert_null(m);
	tk_assert_msg(f->err, MSSL_LANG_EN, "not loadable");
	tk_assert_msg(f->err, MSSL_LANG_EN, "/nonexistent/libnothing.so");
	assert_string_equal(mssl_error_field(f->err), "module");

	TK_ERR(mssl_token_module_open("no-such-module", &m, f->err),
	       MSSL_ECONFIG, "token.module", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "no-such-module");
	tk_assert_msg(f->err, MSSL_LANG_EN, "p11-kit");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "無法載入");
}

static void t_several(void **state)
{
	struct fx *f = *state;

	TK_ERR(mssl_token_open(f->m, NULL, &f->tok, f->err), MSSL_EUSAGE,
	       "token.several", f->err);
	assert_null(f->tok);
	tk_assert_msg(f->err, MSSL_LANG_EN, "\"mssl-ec\" (serial ");
	tk_assert_msg(f->err, MSSL_LANG_EN, "\"mssl-rsa\" (serial ");
	tk_assert_msg(f->err, MSSL_LANG_EN, "pkcs11:token=");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "mssl-rsa");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "多張");
}

struct seen {
	char labels[4][33];
	char uris[4][256];
	size_t n;
};

static void collect(const struct mssl_token_info *ti, void *ud)
{
	struct seen *s = ud;

	if (s->n < 4) {
		snprintf(s->labels[s->n], sizeof(s->labels[0]), "%s",
			 ti->label);
		snprintf(s->uris[s->n], sizeof(s->uris[0]), "%s", ti->uri);
	}
	s->n++;
}

static void t_list(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	size_t i, ec = 0, rsa = 0, blank = 0;
	mssl_token *tok = NULL;

	assert_int_equal(mssl_token_list(f->m, collect, &s, f->err), 0);
	/* Two cards and SoftHSM's blank token, in SoftHSM's slot order. */
	assert_int_equal(s.n, 3);
	for (i = 0; i < 3; i++) {
		ec += strcmp(s.labels[i], "mssl-ec") == 0;
		rsa += strcmp(s.labels[i], "mssl-rsa") == 0;
		blank += s.labels[i][0] == '\0';
		/* Each listed URI opens exactly its card. */
		if (!s.labels[i][0])
			continue;
		assert_int_equal(mssl_token_open(f->m, s.uris[i], &tok, f->err),
				 0);
		assert_string_equal(mssl_token_info(tok)->label, s.labels[i]);
		mssl_token_free(tok);
		tok = NULL;
	}
	assert_int_equal(ec, 1);
	assert_int_equal(rsa, 1);
	assert_int_equal(blank, 1);
}

static void t_open_by_uri(void **state)
{
	struct fx *f = *state;
	mssl_token *tok = NULL;
	char *uri = NULL;

	open_card(f, "pkcs11:token=mssl-rsa");
	assert_string_equal(mssl_token_info(f->tok)->label, "mssl-rsa");
	/* token and serial, as the several-cards message suggests */
	assert_true(asprintf(&uri, "pkcs11:token=mssl-ec;serial=%s", "00") > 0);
	TK_ERR(mssl_token_open(f->m, uri, &tok, f->err), MSSL_ENOENT,
	       "token.none", f->err);
	free(uri);
	mssl_token_free(f->tok);
	f->tok = NULL;
	open_card(f, "pkcs11:token=mssl-ec");
	assert_true(asprintf(&uri, "pkcs11:token=mssl-ec;serial=%s",
			     mssl_token_info(f->tok)->serial) > 0);
	assert_int_equal(mssl_token_open(f->m, uri, &tok, f->err), 0);
	assert_string_equal(mssl_token_info(tok)->label, "mssl-ec");
	mssl_token_free(tok);
	tok = NULL;
	free(uri);
	/* A key's URI names its card too. */
	assert_int_equal(mssl_token_open(f->m,
					 "pkcs11:token=mssl-rsa;id=%01;"
					 "type=private",
					 &tok, f->err),
			 0);
	assert_string_equal(mssl_token_info(tok)->label, "mssl-rsa");
	mssl_token_free(tok);
	tok = NULL;
	/* Module and slot parts match as well. */
	assert_int_equal(mssl_token_open(f->m,
					 "pkcs11:library-manufacturer=SoftHSM;"
					 "model=SoftHSM%20v2;token=mssl-ec",
					 &tok, f->err),
			 0);
	mssl_token_free(tok);
	tok = NULL;
	TK_ERR(mssl_token_open(f->m,
			       "pkcs11:library-manufacturer=Other;"
			       "token=mssl-ec",
			       &tok, f->err),
	       MSSL_ENOENT, "token.none", f->err);
}

static void t_bad_uri(void **state)
{
	struct fx *f = *state;

	TK_ERR(mssl_token_open(f->m, "https://example.com/card", &f->tok,
			       f->err),
	       MSSL_EINPUT, "token.uri", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "https://example.com/card");
	assert_string_equal(mssl_error_field(f->err), "token");
	TK_ERR(mssl_token_open(f->m, "pkcs11:token=%zz", &f->tok, f->err),
	       MSSL_EINPUT, "token.uri", f->err);
	TK_ERR(mssl_token_open(f->m, "pkcs11:colour=blue", &f->tok, f->err),
	       MSSL_EINPUT, "token.uri", f->err);
	TK_ERR(mssl_token_open(f->m, "pkcs11:token=nothing-here", &f->tok,
			       f->err),
	       MSSL_ENOENT, "token.none", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "pkcs11:token=nothing-here");
	assert_null(f->tok);
}

/* ---- login and signatures ------------------------------------------------ */

static void t_login(void **state)
{
	struct fx *f = *state;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int alg = 0;

	open_card(f, "pkcs11:token=mssl-ec");
	/* Private keys are invisible before login. */
	TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &sig_len, &alg, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
	TK_ERR(mssl_token_login(f->tok, "87654321", 8, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	assert_string_equal(mssl_error_field(f->err), "pin");
	tk_assert_msg(f->err, MSSL_LANG_EN, "Wrong PIN");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "PIN 碼錯誤");
	/* SoftHSM flags the wrong PIN (it never locks, though). */
	assert_true(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_COUNT_LOW);
	tk_assert_msg(f->err, MSSL_LANG_EN, "2 tries left");
	login(f, PIN);
	assert_false(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_COUNT_LOW);
	/* A second login is a real one: a wrong PIN ends the first. */
	TK_ERR(mssl_token_login(f->tok, "wrong-pin", 9, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &sig_len, &alg, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
	login(f, PIN);
	mssl_token_logout(f->tok);
	TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &sig_len, &alg, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
}

/* Sign a random challenge and verify it against the card's public key. */
static void sign_verify(struct fx *f, const char *label, int want_alg)
{
	uint8_t challenge[100], *sig = NULL, *spki = NULL, *file = NULL;
	size_t sig_len = 0, spki_len = 0, file_len = 0;
	char *pub = NULL, *name = NULL;
	int alg = -1, rc;

	assert_int_equal(
		gnutls_rnd(GNUTLS_RND_NONCE, challenge, sizeof(challenge)), 0);
	rc = mssl_token_sign(f->tok, challenge, sizeof(challenge), &sig,
			     &sig_len, &alg, f->err);
	if (rc)
		fail_msg("sign: %s [%s]",
			 mssl_error_message(f->err, MSSL_LANG_EN),
			 mssl_error_id(f->err));
	assert_int_equal(alg, want_alg);
	assert_true(asprintf(&name, "%s.pub.der", label) > 0);
	pub = path_in(f->dir, name);
	tk_verify(pub, alg, challenge, sizeof(challenge), sig, sig_len);
	/* Our public key is the one pkcs11-tool read from the card. */
	assert_int_equal(mssl_token_pubkey(f->tok, &spki, &spki_len, f->err),
			 0);
	file = tk_read_file(pub, &file_len);
	assert_int_equal(spki_len, file_len);
	assert_memory_equal(spki, file, file_len);
	free(file);
	free(spki);
	free(sig);
	free(pub);
	free(name);
}

static void t_sign_ec(void **state)
{
	struct fx *f = *state;

	open_card(f, "pkcs11:token=mssl-ec");
	login(f, PIN);
	sign_verify(f, "mssl-ec", GNUTLS_SIGN_ECDSA_SHA256);
}

/* SoftHSM hashes inside the card: CKM_ECDSA_SHA256 when CKM_ECDSA goes. */
static void t_sign_ec_hashing(void **state)
{
	struct fx *f = *state;

	open_card(f, "pkcs11:token=mssl-ec");
	login(f, PIN);
	assert_int_equal(mssl__token_deny_mechanism(f->tok, CKM_ECDSA), 0);
	if (mssl__token_deny_mechanism(f->tok, CKM_ECDSA_SHA256) != 0) {
		/* SoftHSM 2.6 offers CKM_ECDSA only: none left. */
		uint8_t *sig = NULL;
		size_t n = 0;
		int alg = 0;

		TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &n, &alg, f->err),
		       MSSL_ECRYPTO, "token.no_mechanism", f->err);
		return;
	}
	fail_msg("SoftHSM offers CKM_ECDSA_SHA256: test that path here");
}

static void t_sign_rsa(void **state)
{
	struct fx *f = *state;

	open_card(f, "pkcs11:token=mssl-rsa");
	login(f, PIN);
	sign_verify(f, "mssl-rsa", GNUTLS_SIGN_RSA_SHA256);
}

/* Without CKM_SHA256_RSA_PKCS: raw CKM_RSA_PKCS over our DigestInfo. */
static void t_sign_rsa_digestinfo(void **state)
{
	struct fx *f = *state;

	open_card(f, "pkcs11:token=mssl-rsa");
	login(f, PIN);
	assert_int_equal(
		mssl__token_deny_mechanism(f->tok, CKM_SHA256_RSA_PKCS), 0);
	sign_verify(f, "mssl-rsa", GNUTLS_SIGN_RSA_SHA256);
}

/* Without PKCS#1 v1.5 at all: PSS, hashing on the card, then not. */
static void t_sign_rsa_pss(void **state)
{
	struct fx *f = *state;

	open_card(f, "pkcs11:token=mssl-rsa");
	login(f, PIN);
	assert_int_equal(
		mssl__token_deny_mechanism(f->tok, CKM_SHA256_RSA_PKCS), 0);
	assert_int_equal(mssl__token_deny_mechanism(f->tok, CKM_RSA_PKCS), 0);
	sign_verify(f, "mssl-rsa", GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	assert_int_equal(
		mssl__token_deny_mechanism(f->tok, CKM_SHA256_RSA_PKCS_PSS), 0);
	sign_verify(f, "mssl-rsa", GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	assert_int_equal(mssl__token_deny_mechanism(f->tok, CKM_RSA_PKCS_PSS),
			 0);
	{
		uint8_t *sig = NULL;
		size_t n = 0;
		int alg = 0;

		TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &n, &alg, f->err),
		       MSSL_ECRYPTO, "token.no_mechanism", f->err);
		assert_null(sig);
	}
}

static void t_cert(void **state)
{
	struct fx *f = *state;
	uint8_t *der = NULL, *file = NULL;
	size_t len = 0, file_len = 0;
	char *path = path_in(f->dir, "mssl-rsa.crt.der");

	open_card(f, "pkcs11:token=mssl-rsa");
	/* Certificates are public: readable before login. */
	assert_int_equal(mssl_token_cert(f->tok, &der, &len, f->err), 0);
	file = tk_read_file(path, &file_len);
	assert_int_equal(len, file_len);
	assert_memory_equal(der, file, len);
	free(der);
	der = NULL;
	login(f, PIN);
	assert_int_equal(mssl_token_cert(f->tok, &der, &len, f->err), 0);
	assert_memory_equal(der, file, len);
	free(der);
	free(file);
	free(path);
}

/* ---- PINs -------------------------------------------------------------- */

static void t_pin_policy(void **state)
{
	mssl_error *err = mssl_error_new();

	assert_int_equal(mssl_token_pin_check("123456", 6, "pin", err), 0);
	assert_int_equal(
		mssl_token_pin_check("0123456789abcdef", 16, NULL, err), 0);
	TK_ERR(mssl_token_pin_check("12345", 5, "new_pin", err), MSSL_EINPUT,
	       "token.pin_policy", err);
	assert_string_equal(mssl_error_field(err), "new_pin");
	tk_assert_msg(err, MSSL_LANG_EN, "6 to 16");
	TK_ERR(mssl_token_pin_check("0123456789abcdefg", 17, "pin", err),
	       MSSL_EINPUT, "token.pin_policy", err);
	TK_ERR(mssl_token_pin_check("12345678", 8, "pin", err), MSSL_EINPUT,
	       "token.pin_policy", err);
	tk_assert_msg(err, MSSL_LANG_EN, "issued");
	tk_assert_msg(err, MSSL_LANG_ZH_TW, "12345678");
	/* Only exactly the issued PIN: a longer one is fine. */
	assert_int_equal(mssl_token_pin_check("123456789", 9, "pin", err), 0);
	mssl_error_free(err);
}

static void t_change_pin(void **state)
{
	struct fx *f = *state;
	uint8_t *sig = NULL;
	size_t n = 0;
	int alg = 0;

	open_card(f, NULL);
	/* Refused before the card sees anything. */
	TK_ERR(mssl_token_change_pin(f->tok, PIN, 8, "short", 5, f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	TK_ERR(mssl_token_change_pin(f->tok, PIN, 8, "0123456789abcdefX", 17,
				     f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	TK_ERR(mssl_token_change_pin(f->tok, "abcdefgh", 8, PIN, 8, f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	TK_ERR(mssl_token_change_pin(f->tok, "same-pin", 8, "same-pin", 8,
				     f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "differ");
	assert_false(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_COUNT_LOW);
	/* A wrong old PIN: counted by the card, nothing changed. */
	TK_ERR(mssl_token_change_pin(f->tok, "not-the-pin", 11, "new-pin-1", 9,
				     f->err),
	       MSSL_EPERM, "token.pin_incorrect", f->err);
	assert_true(mssl_token_info(f->tok)->flags & MSSL_TOKEN_PIN_COUNT_LOW);
	login(f, PIN);
	/* The change, which ends the login. */
	assert_int_equal(mssl_token_change_pin(f->tok, PIN, 8, "new-pin-1", 9,
					       f->err),
			 0);
	TK_ERR(mssl_token_sign(f->tok, "x", 1, &sig, &n, &alg, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
	TK_ERR(mssl_token_login(f->tok, PIN, 8, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	login(f, "new-pin-1");
	/* Back to the issued PIN only through an unblock (policy). */
	TK_ERR(mssl_token_change_pin(f->tok, "new-pin-1", 9, PIN, 8, f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	login(f, "new-pin-1");
}

static void t_unblock(void **state)
{
	struct fx *f = *state;

	open_card(f, NULL);
	TK_ERR(mssl_token_unblock(f->tok, SO_PIN, LEN(SO_PIN), PIN, 8, f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	TK_ERR(mssl_token_unblock(f->tok, "wrong-so", 8, "unblocked-2", 11,
				  f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	assert_string_equal(mssl_error_field(f->err), "so_pin");
	assert_int_equal(mssl_token_unblock(f->tok, SO_PIN, LEN(SO_PIN),
					    "unblocked-2", 11, f->err),
			 0);
	login(f, "unblocked-2");
	/* Unblocking ends a user's login and replaces the PIN. */
	assert_int_equal(mssl_token_unblock(f->tok, SO_PIN, LEN(SO_PIN),
					    "unblocked-3", 11, f->err),
			 0);
	TK_ERR(mssl_token_login(f->tok, "unblocked-2", 11, f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);
	login(f, "unblocked-3");
}

static void t_read_pin(void **state)
{
	char buf[16], big[200];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dprintf(fds[1], "first-pin\nsecond\r\n%s\nafter\n\nlast", big);
	close(fds[1]);
	/* One line per read: the next PIN stays for the next read. */
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 9);
	assert_string_equal(buf, "first-pin");
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 6);
	assert_string_equal(buf, "second");
	/* Too long: refused whole (never cut), and its rest skipped. */
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 MSSL_EINPUT);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 5);
	assert_string_equal(buf, "after");
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 MSSL_EINPUT);
	/* The last line needs no newline; then end of file. */
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 4);
	assert_string_equal(buf, "last");
	assert_int_equal(mssl_token_read_pin(NULL, fds[0], buf, sizeof(buf)),
			 MSSL_EIO);
	close(fds[0]);
	assert_int_equal(mssl_token_read_pin(NULL, 0, buf, 1), MSSL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define ONE(fn) cmocka_unit_test_setup_teardown(fn, setup_one, teardown)
#define TWO(fn) cmocka_unit_test_setup_teardown(fn, setup_two, teardown)
		ONE(t_only_one),
		ONE(t_module_by_name),
		ONE(t_module_not_loadable),
		TWO(t_several),
		TWO(t_list),
		TWO(t_open_by_uri),
		TWO(t_bad_uri),
		TWO(t_login),
		TWO(t_sign_ec),
		TWO(t_sign_ec_hashing),
		TWO(t_sign_rsa),
		TWO(t_sign_rsa_digestinfo),
		TWO(t_sign_rsa_pss),
		TWO(t_cert),
		cmocka_unit_test(t_pin_policy),
		ONE(t_change_pin),
		ONE(t_unblock),
		cmocka_unit_test(t_read_pin),
	};

	return cmocka_run_group_tests_name("token", tests, group_setup,
					   group_teardown);
}
