/*
 * Card enrolment in libmssl-token on SoftHSM2 (tests/cards/softhsm.sh):
 * a blank token initialised, its SO PIN changed from the transport one to
 * a derived one, the issued user PIN set, the login key generated on the
 * card (ECDSA P-256, and RSA-2048 both asked for and as the fallback),
 * the card certificate written beside it; then signatures verified by
 * GnuTLS against that certificate's public key, and the card unblocked
 * with the derived SO PIN.
 *
 * SoftHSM2 never locks a PIN: the enrolment of a card that locks is in
 * test-token-enrol-ock.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "internal.h"
#include "testhelp.h"
#include "tokenhelp.h"

#define PIN MSSL_TOKEN_ISSUED_PIN
/* The SO PIN a card comes with, and the one the server derives. */
#define TRANSPORT_SO "87654321"
#define DERIVED_SO "0f1e2d3c4b5a6978"
#define LEN(s) (sizeof(s) - 1)

struct fx {
	char *dir;
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
};

/*
 * Each test gets its own token directory: one initialised card
 * "mssl-done" (no key) beside SoftHSM's free slot, the blank token.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int rc;

	assert_non_null(f);
	f->dir = tk_softhsm_cards("mssl-done:blank");
	tk_softhsm_use(f->dir);
	f->err = mssl_error_new();
	assert_non_null(f->err);
	rc = mssl_token_module_open(tk_softhsm_module(), &f->m, f->err);
	if (rc)
		fail_msg("module: %s",
			 mssl_error_message(f->err, MSSL_LANG_EN));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mssl_token_free(f->tok);
	mssl_token_module_free(f->m);
	mssl_error_free(f->err);
	th_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Fail with the error's words unless rc is 0. */
static void ok(struct fx *f, int rc, const char *what)
{
	if (rc)
		fail_msg("%s: %s [%s] %s", what, mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_message(f->err, MSSL_LANG_EN));
}

struct blanks {
	char uri[512];
	size_t n;
};

static void collect_blank(const struct mssl_token_info *ti, void *ud)
{
	struct blanks *b = ud;

	if (ti->flags & MSSL_TOKEN_INITIALIZED)
		return;
	snprintf(b->uri, sizeof(b->uri), "%s", ti->uri);
	b->n++;
}

/* Open the blank token as the operator finds it: listed, by its URI. */
static void open_blank(struct fx *f)
{
	struct blanks b = { .n = 0 };

	ok(f, mssl_token_list(f->m, collect_blank, &b, f->err), "list");
	assert_int_equal(b.n, 1);
	ok(f, mssl_token_open(f->m, b.uri, &f->tok, f->err), "open blank");
	assert_false(mssl_token_info(f->tok)->flags & MSSL_TOKEN_INITIALIZED);
}

static void login(struct fx *f, const char *pin)
{
	ok(f, mssl_token_login(f->tok, pin, strlen(pin), f->err), "login");
}

/* Blank to logged in with the issued PIN, as mssl-admin card enroll. */
static void enrol_to_login(struct fx *f, const char *label)
{
	open_blank(f);
	ok(f,
	   mssl_token_init(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO), label,
			   f->err),
	   "init");
	ok(f,
	   mssl_token_set_so_pin(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
				 DERIVED_SO, LEN(DERIVED_SO), f->err),
	   "set SO PIN");
	ok(f,
	   mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				    LEN(PIN), f->err),
	   "init user PIN");
	login(f, PIN);
}

static gnutls_pubkey_t spki_import(const uint8_t *spki, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)spki, (unsigned int)len };
	gnutls_pubkey_t pub = NULL;

	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_DER), 0);
	return pub;
}

/* The key's algorithm and size, from its SubjectPublicKeyInfo. */
static void assert_spki(const uint8_t *spki, size_t len, int pk,
			unsigned int bits)
{
	gnutls_pubkey_t pub = spki_import(spki, len);
	unsigned int got_bits = 0;

	assert_int_equal(gnutls_pubkey_get_pk_algorithm(pub, &got_bits), pk);
	assert_int_equal(got_bits, bits);
	gnutls_pubkey_deinit(pub);
}

/* ---- what the card holds, read with PKCS#11 itself ---------------------- */

static CK_OBJECT_HANDLE *objects(struct fx *f, CK_OBJECT_CLASS cls, size_t *n)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *h = calloc(16, sizeof(*h));
	CK_ULONG got = 0;

	assert_non_null(h);
	assert_int_equal(f->tok->fn->C_FindObjectsInit(f->tok->session, tmpl,
						       1),
			 CKR_OK);
	assert_int_equal(f->tok->fn->C_FindObjects(f->tok->session, h, 16,
						   &got),
			 CKR_OK);
	f->tok->fn->C_FindObjectsFinal(f->tok->session);
	*n = got;
	return h;
}

static size_t count(struct fx *f, CK_OBJECT_CLASS cls)
{
	size_t n;

	free(objects(f, cls, &n));
	return n;
}

/* An attribute's value (caller frees), asserting it is readable. */
static uint8_t *attr(struct fx *f, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		     size_t *len)
{
	CK_ATTRIBUTE a = { t, NULL, 0 };

	assert_int_equal(f->tok->fn->C_GetAttributeValue(f->tok->session, h, &a,
							 1),
			 CKR_OK);
	a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
	assert_non_null(a.pValue);
	assert_int_equal(f->tok->fn->C_GetAttributeValue(f->tok->session, h, &a,
							 1),
			 CKR_OK);
	*len = a.ulValueLen;
	return a.pValue;
}

static CK_BBOOL attr_bool(struct fx *f, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
	size_t len;
	uint8_t *v = attr(f, h, t, &len);
	CK_BBOOL b;

	assert_int_equal(len, sizeof(CK_BBOOL));
	b = v[0];
	free(v);
	return b;
}

static void assert_attr(struct fx *f, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
			const void *want, size_t want_len)
{
	size_t len;
	uint8_t *v = attr(f, h, t, &len);

	assert_int_equal(len, want_len);
	assert_memory_equal(v, want, len);
	free(v);
}

/*
 * One key pair made as mssl_token_keygen says, and (when cert is not
 * NULL) one certificate with its CKA_ID and the fields of cert.
 */
static void check_objects(struct fx *f, const char *label, const uint8_t *cert,
			  size_t cert_len, const uint8_t *serial,
			  size_t serial_len)
{
	CK_OBJECT_HANDLE *priv, *pub, *crt;
	size_t n_priv, n_pub, n_crt, id_len;
	uint8_t *id;

	priv = objects(f, CKO_PRIVATE_KEY, &n_priv);
	pub = objects(f, CKO_PUBLIC_KEY, &n_pub);
	crt = objects(f, CKO_CERTIFICATE, &n_crt);
	assert_int_equal(n_priv, 1);
	assert_int_equal(n_pub, 1);
	assert_int_equal(n_crt, cert ? 1 : 0);
	assert_true(attr_bool(f, priv[0], CKA_TOKEN));
	assert_true(attr_bool(f, priv[0], CKA_PRIVATE));
	assert_true(attr_bool(f, priv[0], CKA_SENSITIVE));
	assert_false(attr_bool(f, priv[0], CKA_EXTRACTABLE));
	assert_true(attr_bool(f, priv[0], CKA_SIGN));
	/* Made on the card: never out of it. */
	assert_true(attr_bool(f, priv[0], CKA_NEVER_EXTRACTABLE));
	assert_true(attr_bool(f, pub[0], CKA_TOKEN));
	assert_false(attr_bool(f, pub[0], CKA_PRIVATE));
	id = attr(f, priv[0], CKA_ID, &id_len);
	assert_int_equal(id_len, 16);
	assert_attr(f, pub[0], CKA_ID, id, id_len);
	assert_attr(f, priv[0], CKA_LABEL, label, strlen(label));
	assert_attr(f, pub[0], CKA_LABEL, label, strlen(label));
	if (cert) {
		gnutls_datum_t d = { (unsigned char *)cert,
				     (unsigned int)cert_len };
		gnutls_datum_t subject = { NULL, 0 }, issuer = { NULL, 0 };
		gnutls_x509_crt_t x = NULL;
		uint8_t integer[2 + 20];

		assert_int_equal(gnutls_x509_crt_init(&x), 0);
		assert_int_equal(
			gnutls_x509_crt_import(x, &d, GNUTLS_X509_FMT_DER), 0);
		assert_int_equal(gnutls_x509_crt_get_raw_dn(x, &subject), 0);
		assert_int_equal(gnutls_x509_crt_get_raw_issuer_dn(x, &issuer),
				 0);
		assert_attr(f, crt[0], CKA_ID, id, id_len);
		assert_attr(f, crt[0], CKA_VALUE, cert, cert_len);
		assert_attr(f, crt[0], CKA_SUBJECT, subject.data, subject.size);
		assert_attr(f, crt[0], CKA_ISSUER, issuer.data, issuer.size);
		assert_true(serial_len <= 20);
		integer[0] = 0x02;
		integer[1] = (uint8_t)serial_len;
		memcpy(integer + 2, serial, serial_len);
		assert_attr(f, crt[0], CKA_SERIAL_NUMBER, integer,
			    serial_len + 2);
		assert_attr(f, crt[0], CKA_LABEL, label, strlen(label));
		assert_true(attr_bool(f, crt[0], CKA_TOKEN));
		assert_false(attr_bool(f, crt[0], CKA_PRIVATE));
		gnutls_free(subject.data);
		gnutls_free(issuer.data);
		gnutls_x509_crt_deinit(x);
	}
	free(id);
	free(priv);
	free(pub);
	free(crt);
}

/* Sign a challenge with the card and verify it with cert's public key. */
static void sign_verify_cert(struct fx *f, const uint8_t *cert, size_t cert_len,
			     int want_alg)
{
	uint8_t challenge[80], *sig = NULL;
	size_t sig_len = 0;
	int alg = -1;

	assert_int_equal(
		gnutls_rnd(GNUTLS_RND_NONCE, challenge, sizeof(challenge)), 0);
	ok(f,
	   mssl_token_sign(f->tok, challenge, sizeof(challenge), &sig, &sig_len,
			   &alg, f->err),
	   "sign");
	assert_int_equal(alg, want_alg);
	tk_verify_cert(cert, cert_len, alg, challenge, sizeof(challenge), sig,
		       sig_len);
	free(sig);
}

/* The card certificate the card returns is the one written. */
static void assert_card_cert(struct fx *f, const uint8_t *cert, size_t len)
{
	uint8_t *der = NULL;
	size_t der_len = 0;

	ok(f, mssl_token_cert(f->tok, &der, &der_len, f->err), "cert");
	assert_int_equal(der_len, len);
	assert_memory_equal(der, cert, len);
	free(der);
}

/* ---- the whole enrolment ------------------------------------------------- */

static void t_enrol_ec(void **state)
{
	struct fx *f = *state;
	const struct mssl_token_info *ti;
	uint8_t *spki = NULL, *again = NULL, *pub = NULL, *cert, *other_cert;
	uint8_t *other, serial[20];
	size_t spki_len = 0, again_len = 0, pub_len = 0, cert_len, other_len;
	size_t other_cert_len, serial_len = 0;
	char serial_part[64], *uri = NULL, long_label[40];
	unsigned long slot;
	int made = -1;

	open_blank(f);
	/* A blank SoftHSM token has no session: only init works. */
	TK_ERR(mssl_token_login(f->tok, PIN, LEN(PIN), f->err), MSSL_ESTATE,
	       "token.blank", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "not initialised");
	TK_ERR(mssl_token_set_so_pin(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
				     DERIVED_SO, LEN(DERIVED_SO), f->err),
	       MSSL_ESTATE, "token.blank", f->err);

	/* Refused before the card sees anything. */
	TK_ERR(mssl_token_init(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO), "",
			       f->err),
	       MSSL_EINPUT, "token.label", f->err);
	memset(long_label, 'x', 33);
	long_label[33] = '\0';
	TK_ERR(mssl_token_init(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
			       long_label, f->err),
	       MSSL_EINPUT, "token.label", f->err);
	assert_string_equal(mssl_error_field(f->err), "label");
	TK_ERR(mssl_token_init(f->tok, "123", 3, "mssl-enrol", f->err),
	       MSSL_EINPUT, "token.pin_len", f->err);
	assert_string_equal(mssl_error_field(f->err), "so_pin");

	ok(f,
	   mssl_token_init(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
			   "mssl-enrol", f->err),
	   "init");
	ti = mssl_token_info(f->tok);
	assert_true(ti->flags & MSSL_TOKEN_INITIALIZED);
	assert_false(ti->flags & MSSL_TOKEN_PIN_INITIALIZED);
	assert_string_equal(ti->label, "mssl-enrol");
	/* SoftHSM gave it a serial; the URI names it by that serial. */
	assert_int_equal(strlen(ti->serial), 16);
	snprintf(serial_part, sizeof(serial_part), "serial=%s", ti->serial);
	assert_non_null(strstr(ti->uri, serial_part));
	assert_non_null(strstr(ti->uri, "token=mssl-enrol"));
	uri = strdup(ti->uri);
	assert_non_null(uri);
	slot = ti->slot_id;

	/* Never a second time. */
	TK_ERR(mssl_token_init(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
			       "mssl-again", f->err),
	       MSSL_ESTATE, "token.initialized", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "\"mssl-enrol\"");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "mssl-enrol");
	assert_string_equal(mssl_token_info(f->tok)->label, "mssl-enrol");
	/* No user PIN yet. */
	TK_ERR(mssl_token_login(f->tok, PIN, LEN(PIN), f->err), MSSL_ESTATE,
	       "token.pin_locked", f->err);

	/* The SO PIN: the wrong transport PIN, an empty new one. */
	TK_ERR(mssl_token_set_so_pin(f->tok, "11111111", 8, DERIVED_SO,
				     LEN(DERIVED_SO), f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	assert_string_equal(mssl_error_field(f->err), "so_pin");
	tk_assert_msg(f->err, MSSL_LANG_EN, "Wrong SO PIN");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "SO PIN 碼錯誤");
	TK_ERR(mssl_token_set_so_pin(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
				     "", 0, f->err),
	       MSSL_EINPUT, "token.pin_len", f->err);
	assert_string_equal(mssl_error_field(f->err), "new_so_pin");
	ok(f,
	   mssl_token_set_so_pin(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
				 DERIVED_SO, LEN(DERIVED_SO), f->err),
	   "set SO PIN");
	/* The transport SO PIN is gone. */
	TK_ERR(mssl_token_init_user_pin(f->tok, TRANSPORT_SO, LEN(TRANSPORT_SO),
					PIN, LEN(PIN), f->err),
	       MSSL_EPERM, "token.so_pin_incorrect", f->err);
	/* The issued PIN: not a PIN a person may choose, but set here. */
	TK_ERR(mssl_token_unblock(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				  LEN(PIN), f->err),
	       MSSL_EINPUT, "token.pin_policy", f->err);
	TK_ERR(mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO),
					"123", 3, f->err),
	       MSSL_EINPUT, "token.pin_len", f->err);
	assert_string_equal(mssl_error_field(f->err), "new_pin");
	ok(f,
	   mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				    LEN(PIN), f->err),
	   "init user PIN");
	assert_true(mssl_token_info(f->tok)->flags &
		    MSSL_TOKEN_PIN_INITIALIZED);

	/* The key pair, as the holder. */
	TK_ERR(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, NULL, &spki,
				 &spki_len, &made, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
	login(f, PIN);
	ok(f,
	   mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, NULL, &spki,
			     &spki_len, &made, f->err),
	   "keygen");
	assert_int_equal(made, MSSL_TOKEN_KEY_EC_P256);
	assert_spki(spki, spki_len, GNUTLS_PK_ECDSA, 256);
	/* One login key: a second is refused, the first stays. */
	TK_ERR(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, NULL, &again,
				 &again_len, &made, f->err),
	       MSSL_EEXIST, "token.key_exists", f->err);
	assert_null(again);
	ok(f, mssl_token_pubkey(f->tok, &pub, &pub_len, f->err), "pubkey");
	assert_int_equal(pub_len, spki_len);
	assert_memory_equal(pub, spki, spki_len);
	check_objects(f, MSSL_TOKEN_KEY_LABEL, NULL, 0, NULL, 0);

	/* The certificate: only one for this key, and only when logged in. */
	other = tk_soft_spki(&other_len);
	other_cert = tk_issue_cert(other, other_len, "someone else",
				   &other_cert_len, NULL, NULL);
	TK_ERR(mssl_token_write_cert(f->tok, other_cert, other_cert_len, NULL,
				     f->err),
	       MSSL_EINPUT, "token.cert_mismatch", f->err);
	assert_string_equal(mssl_error_field(f->err), "cert");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "憑證");
	TK_ERR(mssl_token_write_cert(f->tok, (const uint8_t *)"not DER", 7,
				     NULL, f->err),
	       MSSL_EINPUT, "token.cert", f->err);
	cert = tk_issue_cert(spki, spki_len, "mssl test card", &cert_len,
			     serial, &serial_len);
	mssl_token_logout(f->tok);
	TK_ERR(mssl_token_write_cert(f->tok, cert, cert_len, NULL, f->err),
	       MSSL_ESTATE, "token.not_logged_in", f->err);
	login(f, PIN);
	ok(f, mssl_token_write_cert(f->tok, cert, cert_len, NULL, f->err),
	   "write cert");
	check_objects(f, MSSL_TOKEN_KEY_LABEL, cert, cert_len, serial,
		      serial_len);
	assert_card_cert(f, cert, cert_len);
	sign_verify_cert(f, cert, cert_len, GNUTLS_SIGN_ECDSA_SHA256);
	/* Certificates are public: the card shows it before login too. */
	mssl_token_logout(f->tok);
	assert_card_cert(f, cert, cert_len);

	/* The server unblocks the card with the derived SO PIN. */
	ok(f,
	   mssl_token_unblock(f->tok, DERIVED_SO, LEN(DERIVED_SO), "chosen-9",
			      8, f->err),
	   "unblock");
	TK_ERR(mssl_token_login(f->tok, PIN, LEN(PIN), f->err), MSSL_EPERM,
	       "token.pin_incorrect", f->err);

	/*
	 * Another process: SoftHSM has moved the token to a slot named after
	 * its serial, and the URI init gave finds it there.
	 */
	mssl_token_free(f->tok);
	f->tok = NULL;
	mssl_token_module_free(f->m);
	f->m = NULL;
	ok(f, mssl_token_module_open(tk_softhsm_module(), &f->m, f->err),
	   "module again");
	ok(f, mssl_token_open(f->m, uri, &f->tok, f->err), "open by URI");
	assert_string_equal(mssl_token_info(f->tok)->label, "mssl-enrol");
	print_message("# slot %lu at enrolment, %lu now\n", slot,
		      mssl_token_info(f->tok)->slot_id);
	assert_card_cert(f, cert, cert_len);
	login(f, "chosen-9");
	sign_verify_cert(f, cert, cert_len, GNUTLS_SIGN_ECDSA_SHA256);

	free(uri);
	free(spki);
	free(pub);
	free(cert);
	free(other);
	free(other_cert);
}

/* RSA-2048: asked for, and chosen when the card makes no EC keys. */
static void t_enrol_rsa(void **state)
{
	struct fx *f = *state;
	uint8_t *spki = NULL, *cert, serial[20];
	size_t spki_len = 0, cert_len, serial_len = 0;
	int made = -1;

	enrol_to_login(f, "mssl-rsa-enrol");
	assert_int_equal(
		mssl__token_deny_mechanism(f->tok, CKM_EC_KEY_PAIR_GEN), 0);
	TK_ERR(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_EC_P256, 0, NULL, &spki,
				 &spki_len, &made, f->err),
	       MSSL_ECRYPTO, "token.no_mechanism", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "ECDSA P-256");
	assert_int_equal(count(f, CKO_PRIVATE_KEY), 0);
	ok(f,
	   mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, "card key", &spki,
			     &spki_len, &made, f->err),
	   "keygen");
	assert_int_equal(made, MSSL_TOKEN_KEY_RSA_2048);
	assert_spki(spki, spki_len, GNUTLS_PK_RSA, 2048);
	cert = tk_issue_cert(spki, spki_len, "mssl rsa card", &cert_len, serial,
			     &serial_len);
	ok(f, mssl_token_write_cert(f->tok, cert, cert_len, "card key", f->err),
	   "write cert");
	check_objects(f, "card key", cert, cert_len, serial, serial_len);
	assert_card_cert(f, cert, cert_len);
	sign_verify_cert(f, cert, cert_len, GNUTLS_SIGN_RSA_SHA256);
	/* And through the DigestInfo path opencryptoki takes. */
	assert_int_equal(
		mssl__token_deny_mechanism(f->tok, CKM_SHA256_RSA_PKCS), 0);
	sign_verify_cert(f, cert, cert_len, GNUTLS_SIGN_RSA_SHA256);
	free(spki);
	free(cert);
}

/* A card that cannot make keys mssl signs with is told as such. */
static void t_keygen_no_mechanism(void **state)
{
	struct fx *f = *state;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int made = -1;

	enrol_to_login(f, "mssl-nomech");
	assert_int_equal(mssl__token_deny_mechanism(f->tok,
						    CKM_RSA_PKCS_KEY_PAIR_GEN),
			 0);
	ok(f, mssl__token_deny_mechanism(f->tok, CKM_ECDSA), "deny ECDSA");
	TK_ERR(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 0, NULL, &spki,
				 &spki_len, &made, f->err),
	       MSSL_ECRYPTO, "token.no_mechanism", f->err);
	tk_assert_msg(f->err, MSSL_LANG_EN, "RSA-2048");
	assert_null(spki);
	assert_int_equal(made, MSSL_TOKEN_KEY_AUTO);
	assert_int_equal(count(f, CKO_PRIVATE_KEY), 0);
	assert_int_equal(mssl_token_keygen(f->tok, 7, 0, NULL, &spki, &spki_len,
					   &made, f->err),
			 MSSL_EINVAL);
	assert_int_equal(mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_AUTO, 1u << 5,
					   NULL, &spki, &spki_len, &made,
					   f->err),
			 MSSL_EINVAL);
}

/*
 * A new key on an enrolled card only when asked: the old key goes with
 * its certificate, and a new certificate replaces the one before.
 */
static void t_keygen_replace(void **state)
{
	struct fx *f = *state;
	uint8_t *spki1 = NULL, *spki2 = NULL, *pub = NULL, *der = NULL;
	uint8_t *cert1, *cert2, *cert3, serial[20];
	size_t spki1_len = 0, spki2_len = 0, pub_len = 0, der_len = 0;
	size_t cert1_len, cert2_len, cert3_len, serial_len = 0;
	int made = -1;

	enrol_to_login(f, "mssl-replace");
	ok(f,
	   mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_EC_P256, 0, NULL, &spki1,
			     &spki1_len, &made, f->err),
	   "keygen EC");
	cert1 = tk_issue_cert(spki1, spki1_len, "first", &cert1_len, NULL,
			      NULL);
	ok(f, mssl_token_write_cert(f->tok, cert1, cert1_len, NULL, f->err),
	   "write cert 1");
	/* RSA asked for on a card that also makes EC keys. */
	ok(f,
	   mssl_token_keygen(f->tok, MSSL_TOKEN_KEY_RSA_2048,
			     MSSL_TOKEN_KEYGEN_REPLACE, NULL, &spki2,
			     &spki2_len, &made, f->err),
	   "keygen RSA, replacing");
	assert_int_equal(made, MSSL_TOKEN_KEY_RSA_2048);
	assert_spki(spki2, spki2_len, GNUTLS_PK_RSA, 2048);
	check_objects(f, MSSL_TOKEN_KEY_LABEL, NULL, 0, NULL, 0);
	TK_ERR(mssl_token_cert(f->tok, &der, &der_len, f->err), MSSL_ENOENT,
	       "token.no_key", f->err);
	ok(f, mssl_token_pubkey(f->tok, &pub, &pub_len, f->err), "pubkey");
	assert_int_equal(pub_len, spki2_len);
	assert_memory_equal(pub, spki2, spki2_len);
	/* The old key's certificate no longer fits. */
	TK_ERR(mssl_token_write_cert(f->tok, cert1, cert1_len, NULL, f->err),
	       MSSL_EINPUT, "token.cert_mismatch", f->err);
	cert2 = tk_issue_cert(spki2, spki2_len, "second", &cert2_len, NULL,
			      NULL);
	ok(f, mssl_token_write_cert(f->tok, cert2, cert2_len, NULL, f->err),
	   "write cert 2");
	/* A renewed certificate for the same key replaces it. */
	cert3 = tk_issue_cert(spki2, spki2_len, "second renewed", &cert3_len,
			      serial, &serial_len);
	ok(f, mssl_token_write_cert(f->tok, cert3, cert3_len, NULL, f->err),
	   "write cert 3");
	check_objects(f, MSSL_TOKEN_KEY_LABEL, cert3, cert3_len, serial,
		      serial_len);
	assert_card_cert(f, cert3, cert3_len);
	sign_verify_cert(f, cert3, cert3_len, GNUTLS_SIGN_RSA_SHA256);
	free(spki1);
	free(spki2);
	free(pub);
	free(cert1);
	free(cert2);
	free(cert3);
}

/* An initialised card is never initialised again, and keeps working. */
static void t_init_refused(void **state)
{
	struct fx *f = *state;

	ok(f, mssl_token_open(f->m, "pkcs11:token=mssl-done", &f->tok, f->err),
	   "open");
	TK_ERR(mssl_token_init(f->tok, "87654321", 8, "mssl-done", f->err),
	       MSSL_ESTATE, "token.initialized", f->err);
	assert_string_equal(mssl_error_field(f->err), "token");
	tk_assert_msg(f->err, MSSL_LANG_EN, "already initialised");
	tk_assert_msg(f->err, MSSL_LANG_ZH_TW, "初始化");
	/* Its session and its PIN are as before. */
	login(f, PIN);
	/* The SO PIN tests/cards/softhsm.sh gave it changes to a long one. */
	ok(f,
	   mssl_token_set_so_pin(f->tok, "87654321", 8, DERIVED_SO,
				 LEN(DERIVED_SO), f->err),
	   "set SO PIN");
	/* Which also ended the holder's login. */
	assert_false(f->tok->logged_in);
	ok(f,
	   mssl_token_init_user_pin(f->tok, DERIVED_SO, LEN(DERIVED_SO), PIN,
				    LEN(PIN), f->err),
	   "init user PIN");
	login(f, PIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(t_enrol_ec),
		T(t_enrol_rsa),
		T(t_keygen_no_mechanism),
		T(t_keygen_replace),
		T(t_init_refused),
	};

	return cmocka_run_group_tests_name("token-enrol", tests, NULL, NULL);
}
