/*
 * CSR parsing and the core's own validation rules, with real requests
 * made by GnuTLS in the test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "csrgen.h"
#include "ctx.h"
#include "internal.h"
#include "testhelp.h"

static const struct csrgen good = {
	.c = "TW",
	.l = "Taipei",
	.o = "Taiwan-CA Inc.",
	.cn = "www.twca.com.tw",
	.dns = { "WWW.twca.com.tw", "twca.com.tw", "mail.twca.com.tw" },
};

static unsigned char *make(const struct csrgen *g, int pem, size_t *len)
{
	unsigned char *out = NULL;

	if (csrgen_make(g, pem, &out, len) < 0)
		fail_msg("cannot make a test CSR");
	return out;
}

/* Parsing must fail with this id, field "csr", both languages. */
static void expect_refused(const void *data, size_t len, const char *id)
{
	mssl_error *err = mssl_error_new();
	mssl_csr *csr = NULL;
	int rc = mssl_csr_parse(data, len, &csr, err);

	if (rc != MSSL_EINPUT || strcmp(mssl_error_id(err), id) != 0)
		fail_msg("expected %s, got %s %s: %s", id, mssl_err_name(rc),
			 mssl_error_id(err),
			 mssl_error_message(err, MSSL_LANG_EN));
	assert_null(csr);
	assert_string_equal(mssl_error_field(err), "csr");
	assert_true(mssl_error_message(err, MSSL_LANG_ZH_TW)[0] != '\0');
	mssl_error_free(err);
}

static mssl_csr *parse_ok(const void *data, size_t len)
{
	mssl_error *err = mssl_error_new();
	mssl_csr *csr = NULL;

	TH_RC(mssl_csr_parse(data, len, &csr, err), 0, err);
	mssl_error_free(err);
	return csr;
}

static void test_parse_pem_fields(void **state)
{
	size_t len, i;
	unsigned char *pem = make(&good, 1, &len);
	mssl_csr *csr = parse_ok(pem, len);
	const struct mssl_csr_info *ci = mssl_csr_info(csr);
	static const uint8_t e65537[] = { 1, 0, 1 };
	uint8_t zero[32] = { 0 };

	assert_string_equal(ci->subject.c, "TW");
	assert_string_equal(ci->subject.l, "Taipei");
	assert_string_equal(ci->subject.o, "Taiwan-CA Inc.");
	assert_string_equal(ci->subject.cn, "www.twca.com.tw");
	assert_null(ci->subject.st);
	assert_null(ci->subject.serial_number);
	assert_int_equal(ci->subject.n_repeated, 0);
	assert_non_null(strstr(ci->subject.dn, "CN=www.twca.com.tw"));
	assert_int_equal(ci->n_sans, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(ci->sans[i].type, MSSL_SAN_DNS);
	/* The CN first; "WWW.twca.com.tw" repeats it (case-insensitive). */
	assert_int_equal(ci->n_names, 3);
	assert_string_equal(ci->names[0], "www.twca.com.tw");
	assert_string_equal(ci->names[1], "twca.com.tw");
	assert_string_equal(ci->names[2], "mail.twca.com.tw");
	assert_int_equal(ci->key.alg, MSSL_KEY_RSA);
	assert_int_equal(ci->key.bits, 2048);
	assert_int_equal(ci->key.rsa_n_len, 256);
	assert_true(ci->key.rsa_n[0] & 0x80);
	assert_int_equal(ci->key.rsa_e_len, 3);
	assert_memory_equal(ci->key.rsa_e, e65537, 3);
	assert_memory_not_equal(ci->key.spki_sha256, zero, 32);
	assert_true(ci->signature_verified);
	/* The SPKI hash read from the DER equals GnuTLS's own export. */
	{
		gnutls_datum_t in = { pem, (unsigned)len }, spki = { 0 };
		gnutls_x509_crq_t crq;
		gnutls_pubkey_t pub;
		uint8_t h[32];

		assert_int_equal(gnutls_x509_crq_init(&crq), 0);
		assert_int_equal(gnutls_x509_crq_import(crq, &in,
							GNUTLS_X509_FMT_PEM),
				 0);
		assert_int_equal(gnutls_pubkey_init(&pub), 0);
		assert_int_equal(gnutls_pubkey_import_x509_crq(pub, crq, 0), 0);
		assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER,
						       &spki),
				 0);
		gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, h);
		assert_memory_equal(h, ci->key.spki_sha256, 32);
		gnutls_free(spki.data);
		gnutls_pubkey_deinit(pub);
		gnutls_x509_crq_deinit(crq);
	}
	mssl_csr_free(csr);
	free(pem);
}

/* DER and PEM of one request give the same key and names. */
static void test_parse_der_same(void **state)
{
	size_t len, dlen;
	unsigned char *pem = make(&good, 1, &len), *der;
	gnutls_datum_t in = { pem, (unsigned)len }, out = { NULL, 0 };
	mssl_csr *a, *b;

	assert_int_equal(gnutls_pem_base64_decode2("NEW CERTIFICATE REQUEST",
						   &in, &out) == 0 ||
				 gnutls_pem_base64_decode2(
					 "CERTIFICATE REQUEST", &in, &out) == 0,
			 1);
	der = out.data;
	dlen = out.size;
	a = parse_ok(pem, len);
	b = parse_ok(der, dlen);
	assert_memory_equal(mssl_csr_info(a)->key.spki_sha256,
			    mssl_csr_info(b)->key.spki_sha256, 32);
	assert_string_equal(mssl_csr_info(a)->subject.dn,
			    mssl_csr_info(b)->subject.dn);
	assert_int_equal(mssl_csr_info(b)->n_names, 3);
	mssl_csr_free(a);
	mssl_csr_free(b);
	gnutls_free(der);
	free(pem);
}

static void test_parse_ec_and_other_sans(void **state)
{
	struct csrgen g = good;
	size_t len;
	unsigned char *pem;
	mssl_csr *csr;
	const struct mssl_csr_info *ci;

	g.key = "ec256";
	g.ip = "192.168.1.1";
	g.email = "it@twca.com.tw";
	g.serial_number = "70759028";
	g.jur_c = "TW";
	g.business_category = "Private Organization";
	pem = make(&g, 1, &len);
	csr = parse_ok(pem, len);
	ci = mssl_csr_info(csr);
	assert_int_equal(ci->key.alg, MSSL_KEY_EC);
	assert_string_equal(ci->key.ec_curve, "P-256");
	assert_int_equal(ci->key.bits, 256);
	assert_int_equal(ci->key.ec_len, 32);
	assert_string_equal(ci->subject.serial_number, "70759028");
	assert_string_equal(ci->subject.jur_c, "TW");
	assert_string_equal(ci->subject.business_category,
			    "Private Organization");
	assert_int_equal(ci->n_sans, 5);
	assert_int_equal(ci->sans[3].type, MSSL_SAN_IP);
	assert_string_equal(ci->sans[3].value, "192.168.1.1");
	assert_int_equal(ci->sans[4].type, MSSL_SAN_EMAIL);
	assert_string_equal(ci->sans[4].value, "it@twca.com.tw");
	/* Only DNS names are names to certify. */
	assert_int_equal(ci->n_names, 3);
	mssl_csr_free(csr);
	free(pem);
}

static void test_parse_leading_text_ok(void **state)
{
	size_t len;
	unsigned char *pem = make(&good, 1, &len);
	char *t = NULL;
	mssl_csr *csr;

	assert_true(asprintf(&t, "PKCS #10 Certificate Request Information:\n"
				 "\tVersion: 1\n%s",
			     (char *)pem) > 0);
	csr = parse_ok(t, strlen(t));
	assert_string_equal(mssl_csr_info(csr)->subject.cn, "www.twca.com.tw");
	mssl_csr_free(csr);
	free(t);
	free(pem);
}

/* Values come back exactly as the requester wrote them, unescaped. */
static void test_parse_special_characters(void **state)
{
	struct csrgen g = good;
	size_t len;
	unsigned char *pem;
	mssl_csr *csr;
	const struct mssl_csr_info *ci;

	g.o = "Demo Enterprise Co., Ltd. + \"Sons\" <A=B>; #1\\2";
	g.l = " Taipei ";
	g.ou = "#hash";
	pem = make(&g, 1, &len);
	csr = parse_ok(pem, len);
	ci = mssl_csr_info(csr);
	assert_string_equal(ci->subject.o, g.o);
	assert_string_equal(ci->subject.l, g.l);
	assert_string_equal(ci->subject.ou, g.ou);
	mssl_csr_free(csr);
	free(pem);
}

/* ---- the DER fast path reads exactly what GnuTLS's accessors read ------- */

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool bytes_same(const uint8_t *a, size_t an, const uint8_t *b,
		       size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/*
 * mssl_csr_parse and mssl__csr_parse_gnutls (every field through GnuTLS)
 * give the same result for 'data': the same error, or the same fields.
 * Returns how many fields differ (0), naming them on stderr.
 */
static int compare_paths(const void *data, size_t len, const char *what)
{
	mssl_error *ea = mssl_error_new(), *eb = mssl_error_new();
	mssl_csr *a = NULL, *b = NULL;
	int ra = mssl_csr_parse(data, len, &a, ea);
	int rb = mssl__csr_parse_gnutls(data, len, &b, eb);
	const struct mssl_csr_info *x, *y;
	int bad = 0;
	size_t i;

#define DIFF(cond, name)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s: %s differs\n", what, name);   \
			bad++;                                             \
		}                                                          \
	} while (0)
	DIFF(ra == rb, "return code");
	if (ra < 0 || rb < 0) {
		DIFF(str_same(mssl_error_id(ea), mssl_error_id(eb)), "error id");
		DIFF(str_same(mssl_error_message(ea, MSSL_LANG_EN),
			      mssl_error_message(eb, MSSL_LANG_EN)),
		     "error message");
		goto out;
	}
	x = mssl_csr_info(a);
	y = mssl_csr_info(b);
	DIFF(str_same(x->subject.c, y->subject.c), "C");
	DIFF(str_same(x->subject.st, y->subject.st), "ST");
	DIFF(str_same(x->subject.l, y->subject.l), "L");
	DIFF(str_same(x->subject.o, y->subject.o), "O");
	DIFF(str_same(x->subject.ou, y->subject.ou), "OU");
	DIFF(str_same(x->subject.cn, y->subject.cn), "CN");
	DIFF(str_same(x->subject.serial_number, y->subject.serial_number),
	     "serialNumber");
	DIFF(str_same(x->subject.business_category,
		      y->subject.business_category),
	     "businessCategory");
	DIFF(str_same(x->subject.jur_c, y->subject.jur_c), "jurisdictionC");
	DIFF(str_same(x->subject.jur_st, y->subject.jur_st), "jurisdictionST");
	DIFF(str_same(x->subject.jur_l, y->subject.jur_l), "jurisdictionL");
	if (!str_same(x->subject.dn, y->subject.dn))
		fprintf(stderr, "%s: dn [%s] vs [%s]\n", what, x->subject.dn,
			y->subject.dn);
	DIFF(str_same(x->subject.dn, y->subject.dn), "dn");
	DIFF(x->subject.n_repeated == y->subject.n_repeated, "n_repeated");
	DIFF(str_same(x->subject.repeated, y->subject.repeated), "repeated");
	DIFF(x->n_sans == y->n_sans, "n_sans");
	for (i = 0; i < x->n_sans && i < y->n_sans; i++) {
		DIFF(x->sans[i].type == y->sans[i].type, "san type");
		DIFF(str_same(x->sans[i].value, y->sans[i].value), "san value");
	}
	DIFF(x->n_names == y->n_names, "n_names");
	for (i = 0; i < x->n_names && i < y->n_names; i++)
		DIFF(str_same(x->names[i], y->names[i]), "name");
	DIFF(x->key.alg == y->key.alg, "key alg");
	DIFF(str_same(x->key.alg_name, y->key.alg_name), "key alg_name");
	DIFF(x->key.bits == y->key.bits, "key bits");
	DIFF(bytes_same(x->key.rsa_n, x->key.rsa_n_len, y->key.rsa_n,
			y->key.rsa_n_len),
	     "rsa n");
	DIFF(bytes_same(x->key.rsa_e, x->key.rsa_e_len, y->key.rsa_e,
			y->key.rsa_e_len),
	     "rsa e");
	DIFF(str_same(x->key.ec_curve, y->key.ec_curve), "ec curve");
	DIFF(x->key.ec_len == y->key.ec_len, "ec len");
	DIFF(bytes_same(x->key.ec_x, x->key.ec_len, y->key.ec_x,
			y->key.ec_len),
	     "ec x");
	DIFF(bytes_same(x->key.ec_y, x->key.ec_len, y->key.ec_y,
			y->key.ec_len),
	     "ec y");
	DIFF(memcmp(x->key.spki_sha256, y->key.spki_sha256, 32) == 0, "spki");
	DIFF(x->signature_verified == y->signature_verified, "verified");
#undef DIFF
out:
	mssl_csr_free(a);
	mssl_csr_free(b);
	mssl_error_free(ea);
	mssl_error_free(eb);
	return bad;
}

/* Sign 'crq' with 'key' and compare both paths on its DER. */
static int compare_crq(gnutls_x509_crq_t crq, gnutls_x509_privkey_t key,
		       const char *what)
{
	gnutls_datum_t der = { NULL, 0 };
	/* Ed25519 signs with SHA-512 only (GnuTLS leaks when asked for
	 * another digest). */
	gnutls_digest_algorithm_t dig =
		gnutls_x509_privkey_get_pk_algorithm(key) ==
				GNUTLS_PK_EDDSA_ED25519 ?
			GNUTLS_DIG_SHA512 :
			GNUTLS_DIG_SHA256;
	int bad;

	if (gnutls_x509_crq_set_key(crq, key) < 0 ||
	    gnutls_x509_crq_sign2(crq, key, dig, 0) < 0 ||
	    gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der) < 0)
		return 0; /* GnuTLS would not make it: nothing to compare */
	bad = compare_paths(der.data, der.size, what);
	gnutls_free(der.data);
	return bad;
}

static gnutls_x509_privkey_t new_key(gnutls_pk_algorithm_t pk, unsigned bits)
{
	gnutls_x509_privkey_t key;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, pk, bits, 0), 0);
	return key;
}

/*
 * Every attribute type of the fast path's table and some it leaves to
 * GnuTLS, in every string type, with the values RFC 4514 escapes, empty,
 * UTF-8, invalid UTF-8, a NUL: both paths read the same fields and DN.
 */
static void test_fast_subject_same(void **state)
{
	static const char *const oids[] = {
		"2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.10", "2.5.4.11",
		"2.5.4.3", "2.5.4.5", "2.5.4.15", "1.3.6.1.4.1.311.60.2.1.3",
		"1.3.6.1.4.1.311.60.2.1.2", "1.3.6.1.4.1.311.60.2.1.1",
		"1.2.840.113549.1.9.1", "2.5.4.9", "2.5.4.17",
		"0.9.2342.19200300.100.1.25", "2.5.4.4", "1.2.3.4.5",
	};
	static const uint8_t tags[] = { 0x0c, 0x13, 0x16, 0x14, 0x1e,
					0x1c, 0x04, 0x02 };
	static const struct {
		const char *v;
		size_t n;
	} values[] = {
#define V(s) { s, sizeof(s) - 1 }
		V("Plain Value"), V("a,b+c\"d\\e<f>g;h=i"), V("#lead"),
		V(" lead and trail "), V("in#side  "), V(""), V(" "),
		V("\xe5\x8f\xb0\xe7\x81\xa3"), V("\xff\xfe\x80"),
		V("a@b_c*&"), V("x\0y"), V("\\41"), V("TW"), V("ab"),
#undef V
	};
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(
						    GNUTLS_ECC_CURVE_SECP256R1));
	size_t o, t, v;
	int bad = 0;

	for (o = 0; o < MSSL_ARRAY_SIZE(oids); o++)
		for (t = 0; t < sizeof(tags); t++)
			for (v = 0; v < MSSL_ARRAY_SIZE(values); v++) {
				uint8_t der[300];
				gnutls_x509_crq_t crq;
				char what[160];
				size_t n = values[v].n;

				der[0] = tags[t];
				der[1] = (uint8_t)n;
				memcpy(der + 2, values[v].v, n);
				snprintf(what, sizeof(what),
					 "subject %s tag %02x value %zu",
					 oids[o], tags[t], v);
				assert_int_equal(gnutls_x509_crq_init(&crq), 0);
				if (gnutls_x509_crq_set_dn_by_oid(
					    crq, GNUTLS_OID_X520_COUNTRY_NAME,
					    0, "TW", 2) == 0 &&
				    gnutls_x509_crq_set_dn_by_oid(
					    crq, oids[o], 1, der,
					    (unsigned)n + 2) == 0 &&
				    gnutls_x509_crq_set_dn_by_oid(
					    crq, GNUTLS_OID_X520_COMMON_NAME,
					    0, "a.example", 9) == 0)
					bad += compare_crq(crq, key, what);
				gnutls_x509_crq_deinit(crq);
			}
	gnutls_x509_privkey_deinit(key);
	assert_int_equal(bad, 0);
}

/*
 * Whole subjects: empty, repeated attributes, many
 * RDNs, and the EV attributes.
 */
static void test_fast_subject_shapes(void **state)
{
	static const char *const dns[] = {
		"",
		"CN=www.example.com.tw",
		"CN=a.example,CN=b.example,O=X,O=Y,OU=u1,OU=u2,C=TW",
		/* No multi-valued RDNs ("CN=a+O=b"): gnutls_x509_crq_set_dn
		 * cannot make them, and leaks when it refuses. */
		"CN=x.example,serialNumber=70759028,businessCategory=Private "
		"Organization,jurisdictionOfIncorporationCountryName=TW,"
		"jurisdictionOfIncorporationStateOrProvinceName=Taiwan,"
		"jurisdictionOfIncorporationLocalityName=Taipei,"
		"street=1 Road,postalCode=100,EMAIL=a@example.com.tw,C=TW",
		"CN=x.example,DC=example,DC=tw",
		"CN=x.example,UID=u1,C=TW",
		"CN=x.example,1.2.3.4=#0403414243,C=TW",
	};
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(
						    GNUTLS_ECC_CURVE_SECP256R1));
	size_t i;
	int bad = 0, made = 0;

	for (i = 0; i < MSSL_ARRAY_SIZE(dns); i++) {
		gnutls_x509_crq_t crq;

		assert_int_equal(gnutls_x509_crq_init(&crq), 0);
		if (!dns[i][0] || gnutls_x509_crq_set_dn(crq, dns[i], NULL) == 0) {
			bad += compare_crq(crq, key, dns[i]);
			made++;
		} else {
			fprintf(stderr, "cannot make DN %s\n", dns[i]);
		}
		gnutls_x509_crq_deinit(crq);
	}
	gnutls_x509_privkey_deinit(key);
	assert_true(made >= 7);
	assert_int_equal(bad, 0);
}

/* A SAN extension of raw GeneralNames DER, optionally critical. */
static int compare_sans(gnutls_x509_privkey_t key, const uint8_t *gn,
			size_t n, unsigned critical, bool twice,
			const char *what)
{
	uint8_t ext[300];
	gnutls_x509_crq_t crq;
	int bad = 0;

	ext[0] = 0x30;
	ext[1] = (uint8_t)n;
	memcpy(ext + 2, gn, n);
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_set_dn(crq, "CN=a.example", NULL), 0);
	if (gnutls_x509_crq_set_extension_by_oid(crq, "2.5.29.17", ext, n + 2,
						 critical) == 0 &&
	    (!twice || gnutls_x509_crq_set_extension_by_oid(
			       crq, "2.5.29.17", ext, n + 2, critical) == 0))
		bad = compare_crq(crq, key, what);
	gnutls_x509_crq_deinit(crq);
	return bad;
}

/* SANs of every type and odd contents; critical; given twice. */
static void test_fast_sans_same(void **state)
{
	static const struct {
		const char *what;
		const char *der;
		size_t n;
	} cases[] = {
#define C(w, s) { w, s, sizeof(s) - 1 }
		C("dns", "\x82\x09" "a.example"),
		C("dns x2", "\x82\x09" "a.example" "\x82\x09" "B.EXAMPLE"),
		C("dns utf8", "\x82\x06" "\xe5\x8f\xb0.tw"),
		C("dns nul", "\x82\x03" "a\0b"),
		C("dns empty", "\x82\x00"),
		C("ip4", "\x87\x04\xc0\xa8\x01\x01"),
		C("ip6", "\x87\x10\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"),
		C("ip5", "\x87\x05\x01\x02\x03\x04\x05"),
		C("email", "\x81\x0b" "a@example.t"),
		C("uri", "\x86\x0c" "https://a.tw"),
		C("registeredID", "\x88\x03\x2a\x03\x04"),
		C("dirName", "\xa4\x0f\x30\x0d\x31\x0b\x30\x09\x06\x03\x55\x04"
			     "\x03\x0c\x02" "ab"),
		C("otherName", "\xa0\x0b\x06\x03\x2a\x03\x04\xa0\x04\x0c\x02"
			       "ab"),
		C("mixed", "\x82\x09" "a.example" "\x87\x04\x0a\0\0\x01"
			   "\x81\x03" "a@b"),
#undef C
	};
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(
						    GNUTLS_ECC_CURVE_SECP256R1));
	size_t i;
	int bad = 0;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		bad += compare_sans(key, (const uint8_t *)cases[i].der,
				    cases[i].n, 0, false, cases[i].what);
		bad += compare_sans(key, (const uint8_t *)cases[i].der,
				    cases[i].n, 1, false, cases[i].what);
		bad += compare_sans(key, (const uint8_t *)cases[i].der,
				    cases[i].n, 0, true, cases[i].what);
	}
	gnutls_x509_privkey_deinit(key);
	assert_int_equal(bad, 0);
}

/* Keys of every kind GnuTLS makes, and odd RSA sizes. */
static void test_fast_key_same(void **state)
{
	static const struct {
		gnutls_pk_algorithm_t pk;
		unsigned bits;
	} keys[] = {
		{ GNUTLS_PK_RSA, 2048 },
		{ GNUTLS_PK_RSA, 1032 },
		{ GNUTLS_PK_RSA, 1025 },
		{ GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
		{ GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
		{ GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1) },
		{ GNUTLS_PK_EDDSA_ED25519, 256 },
		{ GNUTLS_PK_RSA_PSS, 2048 },
	};
	size_t i, j;
	int bad = 0;

	for (i = 0; i < MSSL_ARRAY_SIZE(keys); i++)
		for (j = 0; j < 3; j++) {
			gnutls_x509_privkey_t key;
			gnutls_x509_crq_t crq;
			char what[64];

			assert_int_equal(gnutls_x509_privkey_init(&key), 0);
			if (gnutls_x509_privkey_generate(key, keys[i].pk,
							 keys[i].bits, 0) < 0) {
				gnutls_x509_privkey_deinit(key);
				continue;
			}
			snprintf(what, sizeof(what), "key %d/%u",
				 (int)keys[i].pk, keys[i].bits);
			assert_int_equal(gnutls_x509_crq_init(&crq), 0);
			assert_int_equal(gnutls_x509_crq_set_dn(
						 crq, "CN=a.example", NULL),
					 0);
			bad += compare_crq(crq, key, what);
			gnutls_x509_crq_deinit(crq);
			gnutls_x509_privkey_deinit(key);
		}
	assert_int_equal(bad, 0);
}

/* Every request of the corpus (tests/data/csr) reads the same both ways. */
static void test_fast_corpus_same(void **state)
{
	const char *src = getenv("MSSL_TEST_SRCDIR");
	char cmd[600], path[1024];
	FILE *list;
	int bad = 0, n = 0;

	if (!src)
		src = ".";
	snprintf(cmd, sizeof(cmd), "ls -d '%s'/data/csr/*/ 2>/dev/null", src);
	list = popen(cmd, "r");
	assert_non_null(list);
	while (fgets(path, sizeof(path) - 32, list)) {
		char file[1100];
		unsigned char buf[MSSL_CSR_MAX_SIZE + 2];
		size_t len;
		FILE *fp;

		path[strcspn(path, "\n")] = '\0';
		snprintf(file, sizeof(file), "%srequest.pem", path);
		if (!(fp = fopen(file, "rb"))) {
			snprintf(file, sizeof(file), "%srequest.der", path);
			fp = fopen(file, "rb");
		}
		if (!fp)
			continue;
		len = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		bad += compare_paths(buf, len, file);
		n++;
	}
	pclose(list);
	assert_true(n >= 80);
	assert_int_equal(bad, 0);
}

static void test_refuse_empty_and_large(void **state)
{
	char *big = malloc(MSSL_CSR_MAX_SIZE + 1);

	expect_refused("", 0, "csr.empty");
	expect_refused(" \n\t\r\n", 5, "csr.empty");
	memset(big, 'A', MSSL_CSR_MAX_SIZE + 1);
	expect_refused(big, MSSL_CSR_MAX_SIZE + 1, "csr.too_large");
	free(big);
}

static void test_refuse_garbage(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

	expect_refused("hello world", 11, "csr.garbage");
	/* A well-framed DER element that is no CSR. */
	expect_refused(junk, sizeof(junk), "csr.garbage");
}

static void test_refuse_truncated(void **state)
{
	size_t len, dlen;
	unsigned char *pem = make(&good, 1, &len);
	unsigned char *der = make(&good, 0, &dlen);
	char *cut = strndup((char *)pem, len / 2);
	char *noend = strdup((char *)pem);

	expect_refused(cut, strlen(cut), "csr.truncated");
	*strstr(noend, "-----END") = '\0';
	expect_refused(noend, strlen(noend), "csr.truncated");
	expect_refused(der, dlen - 10, "csr.truncated");
	free(cut);
	free(noend);
	free(pem);
	free(der);
}

static void test_refuse_trailing_and_multiple(void **state)
{
	size_t len, dlen;
	unsigned char *pem = make(&good, 1, &len);
	unsigned char *der = make(&good, 0, &dlen);
	unsigned char *two_der = malloc(2 * dlen + 8);
	char *t = NULL;

	assert_true(asprintf(&t, "%sthank you!\n", (char *)pem) > 0);
	expect_refused(t, strlen(t), "csr.trailing_data");
	free(t);
	assert_true(asprintf(&t, "%s%s", (char *)pem, (char *)pem) > 0);
	expect_refused(t, strlen(t), "csr.multiple");
	free(t);
	memcpy(two_der, der, dlen);
	memcpy(two_der + dlen, "junk", 4);
	expect_refused(two_der, dlen + 4, "csr.trailing_data");
	memcpy(two_der + dlen, der, dlen);
	expect_refused(two_der, 2 * dlen, "csr.multiple");
	free(two_der);
	free(pem);
	free(der);
}

static void test_refuse_bad_signature(void **state)
{
	size_t dlen;
	unsigned char *der = make(&good, 0, &dlen);

	/* The signature BIT STRING is last: alter its final byte. */
	der[dlen - 1] ^= 0x01;
	expect_refused(der, dlen, "csr.signature");
	free(der);
}

static void test_refuse_wrong_type_and_base64(void **state)
{
	const char *cert = "-----BEGIN CERTIFICATE-----\nMIIB\n"
			   "-----END CERTIFICATE-----\n";
	const char *key = "-----BEGIN PRIVATE KEY-----\nMIIB\n"
			  "-----END PRIVATE KEY-----\n";
	const char *b64 = "-----BEGIN CERTIFICATE REQUEST-----\n!!!!$$$$\n"
			  "-----END CERTIFICATE REQUEST-----\n";

	expect_refused(cert, strlen(cert), "csr.wrong_type");
	expect_refused(key, strlen(key), "csr.wrong_type");
	expect_refused(b64, strlen(b64), "csr.base64");
}

/* ---- the core's rules through mssl_check --------------------------- */

struct env {
	char *dir;
	mssl_ctx *ctx;
	mssl_actor *op;
	mssl_error *err;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	mssl_account_spec s = {
		.id = "70759028-01",
		.org_name_en = "Taiwan-CA Inc.",
		.products = MSSL_PRODUCT_SSL,
		.supervisor_name = "Wang",
		.supervisor_email = "wang@twca.com.tw",
	};

	e->dir = th_mkdtemp();
	e->ctx = th_ctx_open(e->dir, NULL);
	e->op = th_operator();
	e->err = mssl_error_new();
	TH_RC(mssl_account_create(e->ctx, e->op, &s, e->err), 0, e->err);
	s.id = "04595257-01";
	TH_RC(mssl_account_create(e->ctx, e->op, &s, e->err), 0, e->err);
	TH_RC(mssl_domain_add(e->ctx, e->op, "70759028-01", "twca.com.tw", 0,
			      e->err),
	      0, e->err);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	mssl_ctx_free(e->ctx);
	mssl_actor_free(e->op);
	mssl_error_free(e->err);
	th_rmrf(e->dir);
	free(e->dir);
	free(e);
	return 0;
}

static bool has_code(const mssl_report *r, const char *code)
{
	size_t i;

	for (i = 0; i < mssl_report_n_findings(r); i++)
		if (strcmp(mssl_report_finding(r, i)->code, code) == 0)
			return true;
	return false;
}

static mssl_report *check(struct env *e, const mssl_actor *who,
			  const char *account, const struct csrgen *g,
			  uint32_t product, const char *renew, int expect)
{
	mssl_check_params p = { product, renew };
	mssl_report *r = NULL;
	size_t len;
	unsigned char *pem = make(g, 1, &len);
	mssl_csr *csr = parse_ok(pem, len);

	TH_RC(mssl_check(e->ctx, who, account, csr, &p, &r, e->err), expect,
	      e->err);
	mssl_csr_free(csr);
	free(pem);
	return r;
}

/* No validator configured: nothing passes (fail closed). */
static void test_no_validators_fail_closed(void **state)
{
	struct env *e = *state;
	mssl_report *r = check(e, e->op, "70759028-01", &good,
			       MSSL_PRODUCT_SSL, NULL, MSSL_EREJECTED);

	assert_true(has_code(r, "request.no_validators"));
	assert_false(mssl_report_issuable(r));
	assert_int_equal(mssl_report_n_verdicts(r), 3);
	assert_false(mssl_report_verdict(r, 0)->accepted);
	mssl_report_free(r);
}

static void test_product_not_bought(void **state)
{
	struct env *e = *state;
	mssl_report *r = check(e, e->op, "70759028-01", &good,
			       MSSL_PRODUCT_EV, NULL, MSSL_EREJECTED);

	assert_true(has_code(r, "request.product_not_bought"));
	mssl_report_free(r);
	r = check(e, e->op, "70759028-01", &good, MSSL_PRODUCT_SSL, NULL,
		  MSSL_EREJECTED);
	assert_false(has_code(r, "request.product_not_bought"));
	mssl_report_free(r);
}

static void test_bad_product_param(void **state)
{
	struct env *e = *state;
	mssl_report *r = check(e, e->op, "70759028-01", &good,
			       MSSL_PRODUCT_SSL | MSSL_PRODUCT_EV, NULL,
			       MSSL_EINPUT);

	assert_null(r);
	assert_string_equal(mssl_error_field(e->err), "product");
}

static void test_roles(void **state)
{
	struct env *e = *state;
	mssl_actor *mgr = th_manager("70759028-01");
	mssl_actor *aud = th_auditor("70759028-01");
	mssl_actor *other = th_manager("04595257-01");
	mssl_report *r;

	r = check(e, mgr, "70759028-01", &good, MSSL_PRODUCT_SSL, NULL,
		  MSSL_EREJECTED);
	assert_non_null(r);
	mssl_report_free(r);
	assert_null(check(e, aud, "70759028-01", &good, MSSL_PRODUCT_SSL,
			  NULL, MSSL_EPERM));
	assert_null(check(e, other, "70759028-01", &good, MSSL_PRODUCT_SSL,
			  NULL, MSSL_EPERM));
	mssl_actor_free(mgr);
	mssl_actor_free(aud);
	mssl_actor_free(other);
}

static void test_blocked_key(void **state)
{
	struct env *e = *state;
	mssl_actor *mgr = th_manager("70759028-01");
	mssl_check_params p = { MSSL_PRODUCT_SSL, NULL };
	mssl_report *r = NULL;
	size_t len;
	unsigned char *pem = make(&good, 1, &len);
	mssl_csr *csr = parse_ok(pem, len);
	const uint8_t *spki = mssl_csr_info(csr)->key.spki_sha256;

	TH_RC(mssl_check(e->ctx, e->op, "70759028-01", csr, &p, &r, e->err),
	      MSSL_EREJECTED, e->err);
	assert_false(has_code(r, "key.blocked"));
	mssl_report_free(r);
	TH_RC(mssl_key_block(e->ctx, mgr, spki, NULL, NULL, e->err),
	      MSSL_EPERM, e->err);
	TH_RC(mssl_key_block(e->ctx, e->op, spki, "test", "weak", e->err), 0,
	      e->err);
	TH_RC(mssl_key_block(e->ctx, e->op, spki, "test", "weak", e->err),
	      MSSL_EEXIST, e->err);
	TH_RC(mssl_check(e->ctx, e->op, "70759028-01", csr, &p, &r, e->err),
	      MSSL_EREJECTED, e->err);
	assert_true(has_code(r, "key.blocked"));
	mssl_report_free(r);
	mssl_csr_free(csr);
	mssl_actor_free(mgr);
	free(pem);
}

static void put_cert(struct env *e, const char *serial, const char *account,
		     const char *cn, const char *st)
{
	const struct mssl_store_ops *ops;
	void *sstate, *conn;
	struct mssl_cert_rec c = {
		.serial = serial,
		.account_id = account,
		.cn = cn,
		.product = MSSL_PRODUCT_SSL,
		.state = st,
		.years = 1,
		.revoke_reason = -1,
		.created = 1,
	};

	assert_int_equal(mssl__ctx_store(e->ctx, &ops, &sstate), 0);
	assert_int_equal(ops->open(sstate, &conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &c), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
}

static void test_renewal_rules(void **state)
{
	struct env *e = *state;
	struct csrgen other = good;
	mssl_report *r;

	put_cert(e, "0a01", "70759028-01", "www.twca.com.tw", "issued");
	put_cert(e, "0a02", "04595257-01", "www.twca.com.tw", "issued");
	put_cert(e, "0a03", "70759028-01", "www.twca.com.tw", "revoked");
	r = check(e, e->op, "70759028-01", &good, MSSL_PRODUCT_SSL, "0a01",
		  MSSL_EREJECTED);
	assert_false(has_code(r, "request.renew_cn"));
	assert_false(has_code(r, "request.renew_unknown"));
	mssl_report_free(r);
	other.cn = "mail.twca.com.tw";
	r = check(e, e->op, "70759028-01", &other, MSSL_PRODUCT_SSL, "0a01",
		  MSSL_EREJECTED);
	assert_true(has_code(r, "request.renew_cn"));
	mssl_report_free(r);
	/* Another account's certificate, or none: the same refusal. */
	r = check(e, e->op, "70759028-01", &good, MSSL_PRODUCT_SSL, "0a02",
		  MSSL_EREJECTED);
	assert_true(has_code(r, "request.renew_unknown"));
	mssl_report_free(r);
	r = check(e, e->op, "70759028-01", &good, MSSL_PRODUCT_SSL, "ffff",
		  MSSL_EREJECTED);
	assert_true(has_code(r, "request.renew_unknown"));
	mssl_report_free(r);
	r = check(e, e->op, "70759028-01", &good, MSSL_PRODUCT_SSL, "0a03",
		  MSSL_EREJECTED);
	assert_true(has_code(r, "request.renew_state"));
	mssl_report_free(r);
}

static int last_audit(void *ud, const struct mssl_audit_rec *r)
{
	char *buf = ud;

	snprintf(buf, 512, "%s|%s|%s|%s", r->action, r->outcome,
		 r->object ? r->object : "", r->detail ? r->detail : "");
	return 0;
}

static void test_check_audited(void **state)
{
	struct env *e = *state;
	char buf[512] = "";
	mssl_report *r = check(e, e->op, "70759028-01", &good,
			       MSSL_PRODUCT_EV, NULL, MSSL_EREJECTED);

	mssl_report_free(r);
	TH_RC(mssl_audit_export(e->ctx, e->op, 1, last_audit, buf, e->err), 0,
	      e->err);
	/* The export itself is audited after; the check is in the log. */
	assert_non_null(strstr(buf, "audit.export") ? buf : NULL);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
}

static int find_check(void *ud, const struct mssl_audit_rec *r)
{
	char *buf = ud;

	if (strcmp(r->action, "request.check") == 0)
		snprintf(buf, 512, "%s|%s|%s", r->outcome,
			 r->object ? r->object : "",
			 r->detail ? r->detail : "");
	return 0;
}

static void test_check_audit_record(void **state)
{
	struct env *e = *state;
	char buf[512] = "";
	mssl_report *r = check(e, e->op, "70759028-01", &good,
			       MSSL_PRODUCT_EV, NULL, MSSL_EREJECTED);

	mssl_report_free(r);
	TH_RC(mssl_audit_export(e->ctx, e->op, 1, find_check, buf, e->err), 0,
	      e->err);
	assert_non_null(strstr(buf, "refused|www.twca.com.tw|"));
	assert_non_null(strstr(buf, "request.product_not_bought"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pem_fields),
		cmocka_unit_test(test_parse_der_same),
		cmocka_unit_test(test_parse_ec_and_other_sans),
		cmocka_unit_test(test_parse_leading_text_ok),
		cmocka_unit_test(test_parse_special_characters),
		cmocka_unit_test(test_fast_subject_same),
		cmocka_unit_test(test_fast_subject_shapes),
		cmocka_unit_test(test_fast_sans_same),
		cmocka_unit_test(test_fast_key_same),
		cmocka_unit_test(test_fast_corpus_same),
		cmocka_unit_test(test_refuse_empty_and_large),
		cmocka_unit_test(test_refuse_garbage),
		cmocka_unit_test(test_refuse_truncated),
		cmocka_unit_test(test_refuse_trailing_and_multiple),
		cmocka_unit_test(test_refuse_bad_signature),
		cmocka_unit_test(test_refuse_wrong_type_and_base64),
		cmocka_unit_test_setup_teardown(test_no_validators_fail_closed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_product_not_bought, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_product_param, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_renewal_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_audited, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_audit_record, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("csr", tests, NULL, NULL);
}
