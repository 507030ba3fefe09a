/*
 * What the core accepts from a CA backend (mssl__profile_compare): a
 * certificate built from the core's tbs, signed by a CA made here, then
 * changed the ways a signer with its own serial and profile (cfssl) may
 * change it, and the ways no signer may.  Each case says whether caps 0
 * (ca-gnutls) and MSSL_CA_OWN_SERIAL | MSSL_CA_OWN_PROFILE (ca-cfssl)
 * accept it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "csrgen.h"
#include "profile.h"
#include "testhelp.h"

#define OWN (MSSL_CA_OWN_SERIAL | MSSL_CA_OWN_PROFILE)
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"

struct fx {
	gnutls_x509_privkey_t ca_key;
	gnutls_x509_crt_t ca;
	mssl_csr *csr;
	struct mssl__tbs_buf *tb;
	const struct mssl_tbs *t;
	int64_t now;
};

/* A self-signed P-256 CA with an SKI. */
static void make_ca(struct fx *f)
{
	uint8_t serial[] = { 0x01, 0x23 }, ski[20];
	size_t ski_len = sizeof(ski);
	gnutls_datum_t der = { NULL, 0 };

	assert_int_equal(gnutls_x509_privkey_init(&f->ca_key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(
				 f->ca_key, GNUTLS_PK_ECDSA,
				 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
				 0),
			 0);
	assert_int_equal(gnutls_x509_crt_init(&f->ca), 0);
	assert_int_equal(gnutls_x509_crt_set_version(f->ca, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(f->ca, serial,
						    sizeof(serial)),
			 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(f->ca,
							     f->now - 86400),
			 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(
				 f->ca, f->now + 3650 * 86400),
			 0);
	assert_int_equal(gnutls_x509_crt_set_dn(f->ca, "CN=Compare Test CA",
						NULL),
			 0);
	assert_int_equal(gnutls_x509_crt_set_key(f->ca, f->ca_key), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(f->ca, 1, -1),
			 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(
				 f->ca, GNUTLS_KEY_KEY_CERT_SIGN |
						GNUTLS_KEY_CRL_SIGN),
			 0);
	assert_int_equal(gnutls_x509_crt_get_key_id(f->ca, 0, ski, &ski_len),
			 0);
	assert_int_equal(gnutls_x509_crt_set_subject_key_id(f->ca, ski,
							    ski_len),
			 0);
	assert_int_equal(gnutls_x509_crt_sign2(f->ca, f->ca, f->ca_key,
					       GNUTLS_DIG_SHA256, 0),
			 0);
	/* As a backend hands it over: parsed from its DER. */
	assert_int_equal(gnutls_x509_crt_export2(f->ca, GNUTLS_X509_FMT_DER,
						 &der),
			 0);
	gnutls_x509_crt_deinit(f->ca);
	assert_int_equal(gnutls_x509_crt_init(&f->ca), 0);
	assert_int_equal(gnutls_x509_crt_import(f->ca, &der,
						GNUTLS_X509_FMT_DER),
			 0);
	gnutls_free(der.data);
}

static int setup(void **state)
{
	static const struct csrgen g = {
		.key = "ec256",
		.c = "TW",
		.l = "Taipei",
		.o = "Taiwan-CA Inc.",
		.cn = "www.twca.com.tw",
		.dns = { "www.twca.com.tw", "twca.com.tw" },
	};
	struct mssl__profile_in in = { 0 };
	struct fx *f = calloc(1, sizeof(*f));
	mssl_error *err = mssl_error_new();
	unsigned char *der = NULL;
	static uint8_t serial[16]; /* the tbs points at it */
	size_t len;

	assert_non_null(f);
	f->now = (int64_t)time(NULL);
	make_ca(f);
	assert_true(csrgen_make(&g, 0, &der, &len) >= 0);
	TH_RC(mssl_csr_parse(der, len, &f->csr, err), 0, err);
	free(der);
	memset(serial, 0x5a, sizeof(serial));
	in.csr = mssl_csr_info(f->csr);
	in.csr_der = mssl__csr_der(f->csr, &in.csr_len);
	in.spki = mssl__csr_spki(f->csr, &in.spki_len);
	in.product = MSSL_PRODUCT_SSL;
	in.serial = serial;
	in.serial_len = sizeof(serial);
	in.not_before = f->now - 60;
	in.not_after = f->now - 60 + 200 * 86400;
	in.ca = f->ca;
	in.crl_url = "http://crl.example.test/ca.crl";
	in.ca_issuers_url = "http://crl.example.test/ca.crt";
	TH_RC(mssl__profile_build(&in, &f->tb, err), 0, err);
	f->t = mssl__tbs(f->tb);
	mssl_error_free(err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mssl__tbs_buf_free(f->tb);
	mssl_csr_free(f->csr);
	gnutls_x509_crt_deinit(f->ca);
	gnutls_x509_privkey_deinit(f->ca_key);
	free(f);
	return 0;
}

/* ---- a signer that changes things --------------------------------------- */

struct change {
	const uint8_t *serial; /* NULL: the tbs's */
	size_t serial_len;
	int64_t nb_shift, na_shift;
	bool printable; /* subject strings as PrintableString */
	const char *extra_ou; /* an OU appended to the subject */
	const char *drop; /* an extension left out */
	const char *replace; /* an extension written with replace_der */
	const uint8_t *replace_der;
	size_t replace_len;
	int replace_crit; /* -1: as asked */
	const char *add; /* an extension added (non-critical, NULL value) */
};

static void set_ext(gnutls_x509_crt_t crt, const char *oid, const void *der,
		    size_t len, int crit)
{
	assert_int_equal(gnutls_x509_crt_set_extension_by_oid(crt, oid, der,
							      len,
							      (unsigned)crit),
			 0);
}

/* Build from the tbs with the changes, sign with the CA; DER in *out. */
static void sign_changed(struct fx *f, const struct change *c,
			 gnutls_datum_t *out)
{
	const struct mssl_tbs *t = f->t;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	gnutls_privkey_t key;
	gnutls_datum_t spki = { (unsigned char *)t->spki,
				(unsigned)t->spki_len };
	size_t i;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(
				 crt, c->serial ? c->serial : t->serial,
				 c->serial ? c->serial_len : t->serial_len),
			 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(
				 crt, (time_t)(t->not_before + c->nb_shift)),
			 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(
				 crt, (time_t)(t->not_after + c->na_shift)),
			 0);
	for (i = 0; i < t->n_subject; i++) {
		const struct mssl_dn_attr *a = &t->subject[i];
		uint8_t v[256];

		assert_true(a->der_len < sizeof(v) && a->der[1] < 0x80);
		memcpy(v, a->der, a->der_len);
		if (c->printable)
			v[0] = 0x13;
		assert_int_equal(gnutls_x509_crt_set_dn_by_oid(
					 crt, a->oid, 1, v,
					 (unsigned)a->der_len),
				 0);
	}
	if (c->extra_ou)
		assert_int_equal(gnutls_x509_crt_set_dn_by_oid(
					 crt, "2.5.4.11", 0, c->extra_ou,
					 (unsigned)strlen(c->extra_ou)),
				 0);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import(pub, &spki, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crt_set_pubkey(crt, pub), 0);
	for (i = 0; i < t->n_exts; i++) {
		const struct mssl_ext *e = &t->exts[i];

		if (c->drop && strcmp(e->oid, c->drop) == 0)
			continue;
		if (c->replace && strcmp(e->oid, c->replace) == 0)
			set_ext(crt, e->oid, c->replace_der, c->replace_len,
				c->replace_crit < 0 ? e->critical :
						      c->replace_crit);
		else
			set_ext(crt, e->oid, e->der, e->der_len, e->critical);
	}
	if (c->add)
		set_ext(crt, c->add, "\x05\x00", 2, 0);
	assert_int_equal(gnutls_privkey_init(&key), 0);
	assert_int_equal(gnutls_privkey_import_x509(key, f->ca_key, 0), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt, f->ca, key,
						      GNUTLS_DIG_SHA256, 0),
			 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, out),
			 0);
	gnutls_privkey_deinit(key);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
}

/* Compare c's certificate under caps: 0 or the error's id. */
static int compare(struct fx *f, const struct change *c, uint32_t caps,
		   struct mssl__signed *got, char *id, size_t id_len)
{
	gnutls_datum_t der = { NULL, 0 };
	mssl_error *err = mssl_error_new();
	int rc;

	sign_changed(f, c, &der);
	rc = mssl__profile_compare(f->t, der.data, der.size, f->ca, caps, got,
				   err);
	snprintf(id, id_len, "%s", rc ? mssl_error_id(err) : "");
	if (rc)
		print_message("# %s\n", mssl_error_message(err, MSSL_LANG_EN));
	gnutls_free(der.data);
	mssl_error_free(err);
	return rc;
}

/* c accepted by caps 0 when exact_ok, by OWN when own_ok. */
static void expect(struct fx *f, const struct change *c, bool exact_ok,
		   bool own_ok)
{
	struct mssl__signed got;
	char id[64];

	assert_int_equal(compare(f, c, 0, &got, id, sizeof(id)) == 0,
			 exact_ok);
	if (!exact_ok)
		assert_string_equal(id, "cert.mismatch");
	assert_int_equal(compare(f, c, OWN, &got, id, sizeof(id)) == 0,
			 own_ok);
	if (!own_ok)
		assert_string_equal(id, "cert.mismatch");
}

/* DER of an extension value made by GnuTLS. */
static gnutls_datum_t ku_der(unsigned ku)
{
	gnutls_datum_t d = { NULL, 0 };

	assert_int_equal(gnutls_x509_ext_export_key_usage(ku, &d), 0);
	return d;
}

/* ---- cases ------------------------------------------------------------------ */

static void test_as_asked(void **state)
{
	struct fx *f = *state;
	struct change c = { 0 };
	struct mssl__signed got;
	char id[64], hex[41];

	expect(f, &c, true, true);
	assert_int_equal(compare(f, &c, 0, &got, id, sizeof(id)), 0);
	memset(hex, '5', 32);
	hex[32] = '\0';
	for (size_t i = 1; i < 32; i += 2)
		hex[i] = 'a';
	assert_string_equal(got.serial_hex, hex);
	assert_int_equal(got.not_before, f->t->not_before);
	assert_int_equal(got.not_after, f->t->not_after);
}

static void test_own_serial(void **state)
{
	struct fx *f = *state;
	/* As DER content: a 0x00 before a high bit keeps it positive. */
	static const uint8_t s20[20] = { 0x00, 0x81, 2,	 3,  4,	 5,  6,
					 7,    8,    9,	 10, 11, 12, 13,
					 14,   15,   16, 17, 18, 19 };
	static const uint8_t s4[4] = { 1, 2, 3, 4 };
	static const uint8_t neg[8] = { 0x80, 1, 2, 3, 4, 5, 6, 7 };
	struct change c = { .serial = s20, .serial_len = sizeof(s20) };
	struct mssl__signed got;
	char id[64];

	/* A serial the signer chose: only when it may. */
	expect(f, &c, false, true);
	assert_int_equal(compare(f, &c, MSSL_CA_OWN_SERIAL, &got, id,
				 sizeof(id)),
			 0);
	/* Its magnitude, without the 0x00 of the DER. */
	assert_string_equal(got.serial_hex,
			    "81020304050607080"
			    "90a0b0c0d0e0f10111213");
	/* Too short to hold 64 bits; negative. */
	c.serial = s4;
	c.serial_len = sizeof(s4);
	expect(f, &c, false, false);
	c.serial = neg;
	c.serial_len = sizeof(neg);
	expect(f, &c, false, false);
	/* Own serial alone does not relax anything else. */
	c.serial = s20 + 2;
	c.serial_len = 18;
	c.printable = true;
	assert_int_equal(compare(f, &c, MSSL_CA_OWN_SERIAL, &got, id,
				 sizeof(id)),
			 MSSL_ECRYPTO);
}

static void test_own_validity(void **state)
{
	struct fx *f = *state;
	struct change c = { .nb_shift = -300, .na_shift = -300 };
	struct mssl__signed got;
	char id[64];

	/* cfssl: the minute less five, the same length. */
	expect(f, &c, false, true);
	assert_int_equal(compare(f, &c, OWN, &got, id, sizeof(id)), 0);
	assert_int_equal(got.not_before, f->t->not_before - 300);
	assert_int_equal(got.not_after, f->t->not_after - 300);
	/* Longer than asked, or past the asked end. */
	c.na_shift = 0;
	expect(f, &c, false, false);
	c.nb_shift = 0;
	c.na_shift = 1;
	expect(f, &c, false, false);
	/* Backdated by more than an hour; starting in the future. */
	c.nb_shift = -3601 - 60;
	c.na_shift = -3601 - 60;
	expect(f, &c, false, false);
	c.nb_shift = 601;
	c.na_shift = 0;
	expect(f, &c, false, false);
}

static void test_own_subject(void **state)
{
	struct fx *f = *state;
	struct change c = { .printable = true };

	/* Go writes PrintableString: the same text is enough. */
	expect(f, &c, false, true);
	c.printable = false;
	c.extra_ou = "IT";
	expect(f, &c, false, false);
}

static void test_own_informational(void **state)
{
	struct fx *f = *state;
	struct change c = { .drop = GNUTLS_X509EXT_OID_CRT_POLICY };
	static const uint8_t other_pol[] = { 0x30, 0x06, 0x30, 0x04, 0x06,
					     0x02, 0x2a, 0x03 };

	expect(f, &c, false, true);
	c.drop = GNUTLS_X509EXT_OID_AUTHORITY_INFO_ACCESS;
	expect(f, &c, false, true);
	c.drop = GNUTLS_X509EXT_OID_CRL_DIST_POINTS;
	expect(f, &c, false, true);
	c.drop = NULL;
	c.replace = GNUTLS_X509EXT_OID_CRT_POLICY;
	c.replace_der = other_pol;
	c.replace_len = sizeof(other_pol);
	c.replace_crit = -1;
	expect(f, &c, false, true);
	/* ... but never critical. */
	c.replace_crit = 1;
	expect(f, &c, false, false);
}

static void test_own_refuses(void **state)
{
	struct fx *f = *state;
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t eku = { NULL, 0 }, bc = { NULL, 0 }, ku, ku_wide,
		       san = { NULL, 0 }, n;
	struct change c = { .replace_crit = -1 };
	static const uint8_t ski[] = { 0x04, 0x02, 0x01, 0x02 };

	/* clientAuth besides serverAuth. */
	assert_int_equal(gnutls_x509_key_purpose_init(&kp), 0);
	assert_int_equal(gnutls_x509_key_purpose_set(kp,
						     GNUTLS_KP_TLS_WWW_SERVER),
			 0);
	assert_int_equal(gnutls_x509_key_purpose_set(kp,
						     GNUTLS_KP_TLS_WWW_CLIENT),
			 0);
	assert_int_equal(gnutls_x509_ext_export_key_purposes(kp, &eku), 0);
	gnutls_x509_key_purpose_deinit(kp);
	c.replace = GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE;
	c.replace_der = eku.data;
	c.replace_len = eku.size;
	expect(f, &c, false, false);

	/* A CA certificate. */
	assert_int_equal(gnutls_x509_ext_export_basic_constraints(1, -1, &bc),
			 0);
	c.replace = GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS;
	c.replace_der = bc.data;
	c.replace_len = bc.size;
	expect(f, &c, false, false);

	/* keyUsage: narrower is fine for a signer of its own profile
	 * (digitalSignature is all an EC key gets anyway); keyCertSign or
	 * without digitalSignature is not; not critical is not. */
	ku = ku_der(GNUTLS_KEY_DIGITAL_SIGNATURE);
	c.replace = GNUTLS_X509EXT_OID_KEY_USAGE;
	c.replace_der = ku.data;
	c.replace_len = ku.size;
	expect(f, &c, true, true);
	c.replace_crit = 0;
	expect(f, &c, false, false);
	c.replace_crit = -1;
	ku_wide = ku_der(GNUTLS_KEY_DIGITAL_SIGNATURE |
			 GNUTLS_KEY_KEY_CERT_SIGN);
	c.replace_der = ku_wide.data;
	c.replace_len = ku_wide.size;
	expect(f, &c, false, false);
	gnutls_free(ku_wide.data);
	ku_wide = ku_der(GNUTLS_KEY_KEY_ENCIPHERMENT);
	c.replace_der = ku_wide.data;
	c.replace_len = ku_wide.size;
	expect(f, &c, false, false);

	/* One DNS name less; one more. */
	assert_int_equal(gnutls_subject_alt_names_init(&sans), 0);
	n.data = (unsigned char *)"www.twca.com.tw";
	n.size = 15;
	assert_int_equal(gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME,
						      &n, NULL),
			 0);
	assert_int_equal(gnutls_x509_ext_export_subject_alt_names(sans, &san),
			 0);
	c.replace = GNUTLS_X509EXT_OID_SAN;
	c.replace_der = san.data;
	c.replace_len = san.size;
	expect(f, &c, false, false);
	gnutls_free(san.data);
	n.data = (unsigned char *)"twca.com.tw";
	n.size = 11;
	assert_int_equal(gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME,
						      &n, NULL),
			 0);
	n.data = (unsigned char *)"evil.example.com";
	n.size = 16;
	assert_int_equal(gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME,
						      &n, NULL),
			 0);
	assert_int_equal(gnutls_x509_ext_export_subject_alt_names(sans, &san),
			 0);
	c.replace_der = san.data;
	c.replace_len = san.size;
	expect(f, &c, false, false);
	gnutls_subject_alt_names_deinit(sans);
	/* The SAN made critical. */
	c.replace_der = f->t->exts[0].der;
	c.replace_len = f->t->exts[0].der_len;
	assert_string_equal(f->t->exts[0].oid, GNUTLS_X509EXT_OID_SAN);
	c.replace_crit = 1;
	expect(f, &c, false, false);
	c.replace_crit = -1;

	/* Another SKI; no SAN at all; an extension never asked for. */
	c.replace = GNUTLS_X509EXT_OID_SUBJECT_KEY_ID;
	c.replace_der = ski;
	c.replace_len = sizeof(ski);
	expect(f, &c, false, false);
	c.replace = NULL;
	c.drop = GNUTLS_X509EXT_OID_SAN;
	expect(f, &c, false, false);
	c.drop = NULL;
	c.add = OID_OCSP_NOCHECK;
	expect(f, &c, false, false);

	gnutls_free(san.data);
	gnutls_free(ku_wide.data);
	gnutls_free(ku.data);
	gnutls_free(bc.data);
	gnutls_free(eku.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_as_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_serial, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_validity, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_subject, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_informational, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_refuses, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
