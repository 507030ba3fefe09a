/* Helpers of the card-layer tests. */
#include "config.h"

#include "tokenhelp.h"
#include "testhelp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

const char *tk_softhsm_module(void)
{
	static const char *const paths[] = {
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	fail_msg("libsofthsm2.so not found: install the Debian package "
		 "softhsm2");
	return NULL;
}

char *tk_softhsm_cards(const char *specs)
{
	const char *src = getenv("MSSL_TEST_SRCDIR");
	char *dir = th_mkdtemp();
	int rc;

	if (!src)
		fail_msg("MSSL_TEST_SRCDIR is not set: run through make check");
	rc = th_system("sh '%s/cards/softhsm.sh' '%s' %s >/dev/null", src, dir,
		       specs);
	if (rc != 0)
		fail_msg("tests/cards/softhsm.sh %s failed (status %d)", specs,
			 rc);
	return dir;
}

void tk_softhsm_use(const char *dir)
{
	char *conf = NULL;

	if (asprintf(&conf, "%s/softhsm2.conf", dir) < 0)
		fail_msg("out of memory");
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
}

uint8_t *tk_read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	FILE *fp = fopen(path, "rb");
	long n = -1;

	if (!fp)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) == 0)
		n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET) != 0)
		fail_msg("cannot size %s", path);
	size = (size_t)n;
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, fp) != size)
		fail_msg("cannot read %s", path);
	fclose(fp);
	*len = size;
	return buf;
}

/* sig over data verifies with pub, and not over other data. */
static void verify_with(gnutls_pubkey_t pub, int alg, const void *data,
			size_t len, const uint8_t *sig, size_t sig_len)
{
	gnutls_datum_t d, s;
	uint8_t *other;
	int r;

	d.data = (unsigned char *)data;
	d.size = (unsigned int)len;
	s.data = (unsigned char *)sig;
	s.size = (unsigned int)sig_len;
	r = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)alg, 0, &d,
				       &s);
	if (r < 0)
		fail_msg("signature (%s, %zu bytes) does not verify: %s",
			 gnutls_sign_get_name((gnutls_sign_algorithm_t)alg),
			 sig_len, gnutls_strerror(r));
	/* The same signature over other data must not. */
	other = malloc(len ? len : 1);
	assert_non_null(other);
	memcpy(other, data, len);
	other[0] ^= 1;
	d.data = other;
	r = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)alg, 0, &d,
				       &s);
	assert_true(r < 0);
	free(other);
}

void tk_verify(const char *pub_der, int alg, const void *data, size_t len,
	       const uint8_t *sig, size_t sig_len)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t k;
	uint8_t *spki;
	size_t spki_len;
	int r;

	spki = tk_read_file(pub_der, &spki_len);
	k.data = spki;
	k.size = (unsigned int)spki_len;
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	r = gnutls_pubkey_import(pub, &k, GNUTLS_X509_FMT_DER);
	if (r < 0)
		fail_msg("%s: %s", pub_der, gnutls_strerror(r));
	verify_with(pub, alg, data, len, sig, sig_len);
	gnutls_pubkey_deinit(pub);
	free(spki);
}

void tk_verify_cert(const uint8_t *cert, size_t cert_len, int alg,
		    const void *data, size_t len, const uint8_t *sig,
		    size_t sig_len)
{
	gnutls_datum_t d = { (unsigned char *)cert, (unsigned int)cert_len };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int r;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_pubkey_import_x509(pub, crt, 0);
	if (r < 0)
		fail_msg("certificate: %s", gnutls_strerror(r));
	verify_with(pub, alg, data, len, sig, sig_len);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
}

/* Fail the test on a GnuTLS error. */
#define G(expr)                                                                \
	do {                                                                   \
		int r_ = (expr);                                               \
		if (r_ < 0)                                                    \
			fail_msg("%s: %s", #expr, gnutls_strerror(r_));        \
	} while (0)

static uint8_t *datum_copy(gnutls_datum_t *d, size_t *len)
{
	uint8_t *p = malloc(d->size ? d->size : 1);

	assert_non_null(p);
	memcpy(p, d->data, d->size);
	*len = d->size;
	gnutls_free(d->data);
	d->data = NULL;
	return p;
}

uint8_t *tk_issue_cert(const uint8_t *spki, size_t spki_len, const char *cn,
		       size_t *len, uint8_t *serial_out, size_t *serial_len)
{
	gnutls_datum_t k = { (unsigned char *)spki, (unsigned int)spki_len };
	gnutls_datum_t out = { NULL, 0 };
	gnutls_x509_privkey_t ca_key = NULL;
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	gnutls_pubkey_t pub = NULL;
	time_t now = time(NULL);
	uint8_t serial[17];
	char *dn = NULL;
	uint8_t *der;

	G(gnutls_x509_privkey_init(&ca_key));
	G(gnutls_x509_privkey_generate(
		ca_key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	G(gnutls_x509_crt_init(&ca));
	G(gnutls_x509_crt_set_version(ca, 3));
	G(gnutls_x509_crt_set_serial(ca, "\x01", 1));
	G(gnutls_x509_crt_set_dn(ca, "CN=mssl test card CA,O=mssl tests",
				 NULL));
	G(gnutls_x509_crt_set_activation_time(ca, now - 60));
	G(gnutls_x509_crt_set_expiration_time(ca, now + 3600));
	G(gnutls_x509_crt_set_key(ca, ca_key));
	G(gnutls_x509_crt_set_basic_constraints(ca, 1, 0));
	G(gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN |
						    GNUTLS_KEY_CRL_SIGN));
	G(gnutls_x509_crt_sign2(ca, ca, ca_key, GNUTLS_DIG_SHA256, 0));

	G(gnutls_pubkey_init(&pub));
	G(gnutls_pubkey_import(pub, &k, GNUTLS_X509_FMT_DER));
	G(gnutls_x509_crt_init(&crt));
	G(gnutls_x509_crt_set_version(crt, 3));
	/*
	 * 16 random octets, the first with its top bit set, so that the
	 * positive INTEGER needs a leading zero octet: the card must get
	 * all 17 in CKA_SERIAL_NUMBER.
	 */
	serial[0] = 0;
	G(gnutls_rnd(GNUTLS_RND_NONCE, serial + 1, sizeof(serial) - 1));
	serial[1] |= 0x80;
	G(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
	assert_true(asprintf(&dn, "CN=%s,O=mssl tests", cn) > 0);
	G(gnutls_x509_crt_set_dn(crt, dn, NULL));
	G(gnutls_x509_crt_set_activation_time(crt, now - 60));
	G(gnutls_x509_crt_set_expiration_time(crt, now + 3600));
	G(gnutls_x509_crt_set_pubkey(crt, pub));
	G(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
	G(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
	G(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0));
	G(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out));
	der = datum_copy(&out, len);
	if (serial_out) {
		memcpy(serial_out, serial, sizeof(serial));
		*serial_len = sizeof(serial);
	}
	free(dn);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(ca_key);
	return der;
}

uint8_t *tk_soft_spki(size_t *len)
{
	gnutls_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t out = { NULL, 0 };

	G(gnutls_privkey_init(&key));
	G(gnutls_privkey_generate(
		key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	G(gnutls_pubkey_init(&pub));
	G(gnutls_pubkey_import_privkey(pub, key, 0, 0));
	G(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &out));
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return datum_copy(&out, len);
}

void tk_assert_err(int rc, int code, const char *id, mssl_error *err,
		   const char *expr, const char *file, int line)
{
	if (rc == code && strcmp(mssl_error_id(err), id) == 0)
		return;
	print_error("%s:%d: %s\n  returned %s [%s], expected %s [%s]\n"
		    "  en: %s\n  zh: %s\n",
		    file, line, expr, mssl_err_name(rc), mssl_error_id(err),
		    mssl_err_name(code), id,
		    mssl_error_message(err, MSSL_LANG_EN),
		    mssl_error_message(err, MSSL_LANG_ZH_TW));
	fail();
}

void tk_assert_msg(mssl_error *err, int lang, const char *text)
{
	const char *m = mssl_error_message(err, lang);

	if (strstr(m, text))
		return;
	print_error("message \"%s\" lacks \"%s\"\n", m, text);
	fail();
}
