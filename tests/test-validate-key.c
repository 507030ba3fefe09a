/*
 * The validate-key validator plugin, loaded from the build tree's plugin
 * directory like any other.  Each key is a real public key under
 * tests/data/keys (made by make-keys.sh: openssl for ordinary keys, a
 * python3 generator for the weak ones), read with GnuTLS into the struct
 * mssl_key_info the host would build; each case lists the exact findings
 * expected, in order.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "internal.h"
#include "ctx.h"
#include "report.h"

#include "testhelp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_CODES 4

/* ---------------------------------------------------------------------
 * Keys: read as the host reads a request's key (libmssl/csr.c)
 * ------------------------------------------------------------------ */

struct tkey {
	struct mssl_key_info info;
	gnutls_datum_t a, b; /* n and e, or x and y */
	uint8_t *x, *y; /* coordinates padded to the field size */
	char spki_hex[65];
};

static const char *curve_name(gnutls_ecc_curve_t curve)
{
	switch (curve) {
	case GNUTLS_ECC_CURVE_SECP192R1:
		return "P-192";
	case GNUTLS_ECC_CURVE_SECP224R1:
		return "P-224";
	case GNUTLS_ECC_CURVE_SECP256R1:
		return "P-256";
	case GNUTLS_ECC_CURVE_SECP384R1:
		return "P-384";
	case GNUTLS_ECC_CURVE_SECP521R1:
		return "P-521";
	default:
		return gnutls_ecc_curve_get_name(curve);
	}
}

static uint8_t *pad(const gnutls_datum_t *d, size_t width)
{
	uint8_t *p;

	assert_true(d->size <= width);
	p = calloc(1, width);
	assert_non_null(p);
	memcpy(p + (width - d->size), d->data, d->size);
	return p;
}

static void key_load(const char *name, struct tkey *k)
{
	const char *srcdir = getenv("MSSL_TEST_SRCDIR");
	gnutls_datum_t pem = { NULL, 0 }, der = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	gnutls_ecc_curve_t curve;
	unsigned bits = 0, i;
	char *path = NULL;
	int alg;

	memset(k, 0, sizeof(*k));
	if (!srcdir)
		fail_msg("MSSL_TEST_SRCDIR is not set: run through make check");
	if (asprintf(&path, "%s/data/keys/%s.pem", srcdir, name) < 0)
		fail_msg("out of memory");
	if (gnutls_load_file(path, &pem) < 0)
		fail_msg("cannot read %s", path);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	if (gnutls_pubkey_import(pub, &pem, GNUTLS_X509_FMT_PEM) < 0)
		fail_msg("GnuTLS cannot read %s", path);
	assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der),
			 0);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
					  k->info.spki_sha256),
			 0);
	for (i = 0; i < 32; i++)
		snprintf(k->spki_hex + 2 * i, 3, "%02x",
			 k->info.spki_sha256[i]);

	alg = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	k->info.bits = bits;
	k->info.alg = MSSL_KEY_OTHER;
	k->info.alg_name = gnutls_pk_get_name(alg);
	if (alg == GNUTLS_PK_RSA) {
		assert_int_equal(
			gnutls_pubkey_export_rsa_raw2(pub, &k->a, &k->b,
						      GNUTLS_EXPORT_FLAG_NO_LZ),
			0);
		k->info.alg = MSSL_KEY_RSA;
		k->info.alg_name = "RSA";
		k->info.rsa_n = k->a.data;
		k->info.rsa_n_len = k->a.size;
		k->info.rsa_e = k->b.data;
		k->info.rsa_e_len = k->b.size;
	} else if (alg == GNUTLS_PK_ECDSA) {
		size_t width;

		assert_int_equal(
			gnutls_pubkey_export_ecc_raw2(pub, &curve, &k->a, &k->b,
						      GNUTLS_EXPORT_FLAG_NO_LZ),
			0);
		width = gnutls_ecc_curve_get_size(curve);
		k->x = pad(&k->a, width);
		k->y = pad(&k->b, width);
		k->info.alg = MSSL_KEY_EC;
		k->info.alg_name = "ECDSA";
		k->info.ec_curve = curve_name(curve);
		k->info.ec_x = k->x;
		k->info.ec_y = k->y;
		k->info.ec_len = width;
	}
	gnutls_free(der.data);
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	free(path);
}

static void key_free(struct tkey *k)
{
	gnutls_free(k->a.data);
	gnutls_free(k->b.data);
	free(k->x);
	free(k->y);
}

/* ---------------------------------------------------------------------
 * The plugin
 * ------------------------------------------------------------------ */

struct fx {
	char *dir;
	mssl_ctx *ctx;
	struct mssl__plugin *pl;
	mssl_report *report;
};

static struct mssl__plugin *find_plugin(mssl_ctx *ctx)
{
	struct mssl__plugin *pl;

	for (pl = ctx->plugins; pl; pl = pl->next)
		if (strcmp(pl->p->name, "validate-key") == 0)
			return pl;
	fail_msg("validate-key is not loaded");
	return NULL;
}

/*
 * Load validate-key.  Without a section through the loader itself; with
 * one (the body of [validate-key]) through the configuration, which is
 * the only way a plugin gets its section.
 */
static void fx_open(struct fx *f, const char *section)
{
	mssl_error *err = mssl_error_new();
	char *extra = NULL;

	memset(f, 0, sizeof(*f));
	f->dir = th_mkdtemp();
	if (!section) {
		f->ctx = th_ctx_open(f->dir, NULL);
		TH_RC(mssl__plugin_load(f->ctx, "validate-key",
					MSSL_PLUGIN_VALIDATOR, &f->pl, err),
		      0, err);
		assert_ptr_equal(f->pl, find_plugin(f->ctx));
	} else {
		if (asprintf(&extra,
			     "[mssl]\nvalidators = validate-key\n\n"
			     "[validate-key]\n%s",
			     section) < 0)
			fail_msg("out of memory");
		f->ctx = th_ctx_open(f->dir, extra);
		f->pl = find_plugin(f->ctx);
	}
	assert_int_equal(f->pl->p->kind, MSSL_PLUGIN_VALIDATOR);
	mssl_error_free(err);
	free(extra);
}

static void fx_close(struct fx *f)
{
	mssl_report_free(f->report);
	mssl_ctx_free(f->ctx);
	th_rmrf(f->dir);
	free(f->dir);
}

/* Run the plugin on one key into a fresh report. */
static const mssl_report *run(struct fx *f, const struct mssl_key_info *key)
{
	const struct mssl_validator_ops *ops = f->pl->p->ops;
	struct mssl_csr_info csr;
	struct mssl_check in;

	memset(&csr, 0, sizeof(csr));
	csr.key = *key;
	memset(&in, 0, sizeof(in));
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	mssl_report_free(f->report);
	f->report = mssl__report_new();
	assert_non_null(f->report);
	assert_int_equal(
		ops->check(f->pl->state, &in,
			   mssl__report_collector(f->report, "validate-key")),
		0);
	return f->report;
}

/*
 * The findings are exactly 'codes' (NULL-terminated), in order, each an
 * error on field "key" from validate-key with messages in both languages.
 */
static void expect_codes(const char *what, const mssl_report *r,
			 const char *const *codes)
{
	size_t n = 0, i;
	char got[512] = "", want[512] = "";

	while (codes[n])
		n++;
	for (i = 0; i < mssl_report_n_findings(r); i++) {
		const mssl_finding *fd = mssl_report_finding(r, i);
		size_t l = strlen(got);

		snprintf(got + l, sizeof(got) - l, " %s", fd->code);
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(want);

		snprintf(want + l, sizeof(want) - l, " %s", codes[i]);
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: expected findings [%s ], got [%s ]", what, want,
			 got);
	for (i = 0; i < n; i++) {
		const mssl_finding *fd = mssl_report_finding(r, i);

		assert_int_equal(fd->severity, MSSL_SEV_ERROR);
		assert_string_equal(fd->field, "key");
		assert_string_equal(fd->source, "validate-key");
		assert_non_null(fd->value);
		assert_true(fd->message_en[0] != '\0');
		assert_true(fd->message_zh[0] != '\0');
	}
	assert_int_equal(mssl_report_issuable(r), n == 0);
}

/* The finding with 'code' (which must be there). */
static const mssl_finding *finding(const mssl_report *r, const char *code)
{
	size_t i;

	for (i = 0; i < mssl_report_n_findings(r); i++)
		if (strcmp(mssl_report_finding(r, i)->code, code) == 0)
			return mssl_report_finding(r, i);
	fail_msg("no finding %s", code);
	return NULL;
}

static void expect_text(const mssl_finding *fd, const char *text)
{
	if (!strstr(fd->message_en, text))
		fail_msg("%s: message does not say \"%s\": %s", fd->code, text,
			 fd->message_en);
}

struct kcase {
	const char *key;
	const char *codes[MAX_CODES + 1];
};

static void run_cases(struct fx *f, const struct kcase *cases, size_t n)
{
	struct tkey k;
	size_t i;

	for (i = 0; i < n; i++) {
		key_load(cases[i].key, &k);
		expect_codes(cases[i].key, run(f, &k.info), cases[i].codes);
		key_free(&k);
	}
}

/* ---------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------ */

static const struct kcase rsa_policy_cases[] = {
	{ "rsa-2048", { NULL } },
	{ "rsa-3072", { NULL } },
	{ "rsa-4096", { NULL } },
	{ "rsa-8192", { NULL } },
	{ "rsa-8200", { "key.rsa_too_large", NULL } },
	{ "rsa-1024", { "key.rsa_too_small", NULL } },
	{ "rsa-2040", { "key.rsa_too_small", NULL } },
	{ "rsa-2052", { "key.rsa_size", NULL } },
	{ "rsa-2048-e3", { "key.rsa_exponent", NULL } },
	{ "rsa-2048-e80bit", { "key.rsa_exponent", NULL } },
	/* Several rules fail: every finding at once. */
	{ "rsa-1024-e3", { "key.rsa_too_small", "key.rsa_exponent", NULL } },
};

static void test_rsa_policy(void **state)
{
	struct fx f;

	fx_open(&f, NULL);
	run_cases(&f, rsa_policy_cases, ARRAY_SIZE(rsa_policy_cases));
	fx_close(&f);
}

/* Values name the key ("RSA 1024"); messages the numbers concerned. */
static void test_rsa_values(void **state)
{
	const mssl_finding *fd;
	const mssl_report *r;
	struct tkey k;
	struct fx f;

	fx_open(&f, NULL);
	key_load("rsa-1024-e3", &k);
	r = run(&f, &k.info);
	fd = finding(r, "key.rsa_too_small");
	assert_string_equal(fd->value, "RSA 1024");
	expect_text(fd, "1024");
	expect_text(fd, "2048");
	fd = finding(r, "key.rsa_exponent");
	assert_string_equal(fd->value, "RSA 1024");
	expect_text(fd, "exponent is 3;");
	expect_text(fd, "65537");
	key_free(&k);

	key_load("rsa-2052", &k);
	fd = finding(run(&f, &k.info), "key.rsa_size");
	assert_string_equal(fd->value, "RSA 2052");
	key_free(&k);

	key_load("rsa-8200", &k);
	fd = finding(run(&f, &k.info), "key.rsa_too_large");
	assert_string_equal(fd->value, "RSA 8200");
	expect_text(fd, "8192");
	key_free(&k);

	key_load("rsa-2048-e80bit", &k);
	fd = finding(run(&f, &k.info), "key.rsa_exponent");
	expect_text(fd, "80-bit");
	key_free(&k);
	fx_close(&f);
}

static const struct kcase rsa_weak_cases[] = {
	{ "rsa-factor-743", { "key.small_factor", NULL } },
	/* 751 is the last prime tried, 757 the first one not. */
	{ "rsa-factor-751", { "key.small_factor", NULL } },
	{ "rsa-factor-757", { NULL } },
	{ "rsa-fermat-close", { "key.fermat", NULL } },
	/* Factored at Fermat round 50: within the default 100. */
	{ "rsa-fermat-far", { "key.fermat", NULL } },
	{ "rsa-roca", { "key.roca", NULL } },
	{ "rsa-roca-3072", { "key.roca", NULL } },
	{ "rsa-roca-4096", { "key.roca", NULL } },
	{ "rsa-roca-512", { "key.rsa_too_small", "key.roca", NULL } },
	/* Passes the per-prime test, but is no power of 65537 mod M. */
	{ "rsa-roca-fake", { NULL } },
};

static void test_rsa_weak(void **state)
{
	struct fx f;

	fx_open(&f, NULL);
	run_cases(&f, rsa_weak_cases, ARRAY_SIZE(rsa_weak_cases));
	fx_close(&f);
}

/* Weak keys are named by their SPKI SHA-256, so they can be blocked. */
static void test_rsa_weak_values(void **state)
{
	static const struct {
		const char *key, *code, *text;
	} cases[] = {
		{ "rsa-factor-743", "key.small_factor", "divisible by 743" },
		{ "rsa-factor-751", "key.small_factor", "divisible by 751" },
		{ "rsa-fermat-close", "key.fermat", "too close" },
		{ "rsa-roca", "key.roca", "CVE-2017-15361" },
	};
	const mssl_finding *fd;
	struct tkey k;
	struct fx f;
	size_t i;

	fx_open(&f, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		key_load(cases[i].key, &k);
		fd = finding(run(&f, &k.info), cases[i].code);
		assert_string_equal(fd->value, k.spki_hex);
		expect_text(fd, cases[i].text);
		key_free(&k);
	}
	fx_close(&f);
}

static const struct kcase ec_cases[] = {
	{ "ec-p256", { NULL } },
	{ "ec-p384", { NULL } },
	{ "ec-p521", { "key.ec_curve", NULL } },
	{ "ec-p224", { "key.ec_curve", NULL } },
	{ "ec-p192", { "key.ec_curve", NULL } },
	{ "ec-p256-offcurve", { "key.ec_point", NULL } },
	/* On the curve mod p, but x is written as x + p. */
	{ "ec-p256-xbig", { "key.ec_point", NULL } },
	{ "dsa-2048", { "key.algorithm", NULL } },
	{ "ed25519", { "key.algorithm", NULL } },
};

static void test_ec_and_others(void **state)
{
	const mssl_finding *fd;
	struct tkey k;
	struct fx f;

	fx_open(&f, NULL);
	run_cases(&f, ec_cases, ARRAY_SIZE(ec_cases));

	key_load("ec-p224", &k);
	fd = finding(run(&f, &k.info), "key.ec_curve");
	assert_string_equal(fd->value, "ECDSA P-224");
	expect_text(fd, "P-256 or P-384");
	key_free(&k);

	key_load("ec-p256-offcurve", &k);
	fd = finding(run(&f, &k.info), "key.ec_point");
	assert_string_equal(fd->value, k.spki_hex);
	expect_text(fd, "P-256");
	key_free(&k);

	key_load("ed25519", &k);
	fd = finding(run(&f, &k.info), "key.algorithm");
	assert_string_equal(fd->value, "EdDSA (Ed25519)");
	key_free(&k);
	fx_close(&f);
}

/*
 * Keys the host may hand over without GnuTLS knowing the curve or the
 * algorithm: named by OID, or not at all.
 */
static void test_synthetic(void **state)
{
	static const char *const curve_only[] = { "key.ec_curve", NULL };
	static const char *const none[] = { NULL };
	static const char *const algorithm[] = { "key.algorithm", NULL };
	static const char *const huge[] = { "key.rsa_too_large",
					    "key.small_factor", "key.fermat",
					    NULL };
	static const char *const too_huge[] = { "key.rsa_too_large", NULL };
	static const uint8_t e65537[] = { 1, 0, 1 };
	static uint8_t ff[16392 / 8];
	struct mssl_key_info info;
	const mssl_finding *fd;
	struct tkey k;
	struct fx f;

	fx_open(&f, NULL);
	key_load("ec-p256", &k);

	/* brainpoolP256r1: refused by its curve. */
	info = k.info;
	info.ec_curve = "1.3.36.3.3.2.8.1.1.7";
	expect_codes("brainpoolP256r1", run(&f, &info), curve_only);
	fd = finding(f.report, "key.ec_curve");
	assert_string_equal(fd->value, "ECDSA 1.3.36.3.3.2.8.1.1.7");

	/* P-256 named by its OID: the same curve. */
	info = k.info;
	info.ec_curve = "1.2.840.10045.3.1.7";
	expect_codes("P-256 by OID", run(&f, &info), none);

	/* No curve name at all. */
	info = k.info;
	info.ec_curve = NULL;
	expect_codes("no curve", run(&f, &info), curve_only);
	assert_string_equal(finding(f.report, "key.ec_curve")->value,
			    "ECDSA unknown");

	/* The point of a P-256 key presented as a P-384 key. */
	info = k.info;
	info.ec_curve = "P-384";
	expect_codes("P-256 point as P-384", run(&f, &info),
		     (const char *const[]){ "key.ec_point", NULL });

	/* GOST, as the host would pass it. */
	memset(&info, 0, sizeof(info));
	info.alg = MSSL_KEY_OTHER;
	info.alg_name = "GOST R 34.10-2012";
	expect_codes("GOST", run(&f, &info), algorithm);
	assert_string_equal(finding(f.report, "key.algorithm")->value,
			    "GOST R 34.10-2012");

	/*
	 * 2^k - 1 for even k is divisible by 3, and Fermat's method splits
	 * it at once: (2^(k/2) - 1)(2^(k/2) + 1).  The weak-key tests run
	 * up to 16384 bits, not beyond.
	 */
	memset(ff, 0xff, sizeof(ff));
	memset(&info, 0, sizeof(info));
	info.alg = MSSL_KEY_RSA;
	info.alg_name = "RSA";
	info.rsa_n = ff;
	info.rsa_n_len = 16384 / 8;
	info.rsa_e = e65537;
	info.rsa_e_len = sizeof(e65537);
	expect_codes("RSA 2^16384 - 1", run(&f, &info), huge);
	info.rsa_n_len = 16392 / 8;
	expect_codes("RSA 2^16392 - 1", run(&f, &info), too_huge);
	key_free(&k);
	fx_close(&f);
}

static void test_config_p521(void **state)
{
	static const struct kcase cases[] = {
		{ "ec-p521", { NULL } },
		{ "ec-p256", { NULL } },
		{ "ec-p384", { NULL } },
		{ "ec-p224", { "key.ec_curve", NULL } },
	};
	struct tkey k;
	struct fx f;

	fx_open(&f, "allow_p521 = yes\n");
	run_cases(&f, cases, ARRAY_SIZE(cases));
	key_load("ec-p224", &k);
	expect_text(finding(run(&f, &k.info), "key.ec_curve"),
		    "P-256, P-384 or P-521");
	key_free(&k);
	fx_close(&f);

	fx_open(&f, "allow_p521 = no\n");
	run_cases(&f,
		  (const struct kcase[]){ { "ec-p521", { "key.ec_curve" } } },
		  1);
	fx_close(&f);
}

/* out = n * m (big-endian, n of len bytes, m < 2^20): len + 3 bytes. */
static void mul_small(const uint8_t *n, size_t len, unsigned long m,
		      uint8_t *out)
{
	unsigned long carry = 0, v;
	size_t i;

	for (i = len; i-- > 0;) {
		v = (unsigned long)n[i] * m + carry;
		out[i + 3] = (uint8_t)(v & 0xff);
		carry = v >> 8;
	}
	out[2] = (uint8_t)(carry & 0xff);
	out[1] = (uint8_t)((carry >> 8) & 0xff);
	out[0] = (uint8_t)(carry >> 16);
}

/* Whether the report has a finding with this code. */
static bool has_code(const mssl_report *r, const char *code)
{
	size_t i;

	for (i = 0; i < mssl_report_n_findings(r); i++)
		if (strcmp(mssl_report_finding(r, i)->code, code) == 0)
			return true;
	return false;
}

/*
 * An honest 2048-bit modulus times every prime up to 757, alone and
 * times the next prime too: every prime up to 751 is found, and the
 * smallest one is named, whichever word of the packed residues it falls
 * in; 757 and products of larger primes are not.
 */
static void test_small_factor_every_prime(void **state)
{
	bool composite[800] = { false };
	unsigned long p, q, r;
	uint8_t buf[256 + 6];
	struct mssl_key_info info;
	const mssl_finding *fd;
	struct tkey k;
	struct fx f;
	char text[40];
	int tested = 0;

	fx_open(&f, NULL);
	key_load("rsa-2048", &k);
	for (p = 2; p < 800; p++)
		for (q = p * p; !composite[p] && q < 800; q += p)
			composite[q] = true;
	for (p = 2; p <= 757; p++) {
		if (composite[p])
			continue;
		for (q = p + 1; q < 800 && composite[q]; q++)
			;
		for (r = 0; r < 2; r++) {
			uint8_t tmp[256 + 3];

			mul_small(k.info.rsa_n, k.info.rsa_n_len, p, tmp);
			if (r)
				mul_small(tmp, sizeof(tmp), q, buf);
			else
				memcpy(buf + 3, tmp, sizeof(tmp));
			info = k.info;
			info.rsa_n = buf;
			info.rsa_n_len = k.info.rsa_n_len + 6;
			while (info.rsa_n[0] == 0) {
				info.rsa_n++;
				info.rsa_n_len--;
			}
			run(&f, &info);
			if (p > 751) {
				assert_false(has_code(f.report,
						      "key.small_factor"));
				continue;
			}
			fd = finding(f.report, "key.small_factor");
			snprintf(text, sizeof(text), "divisible by %lu,", p);
			expect_text(fd, text);
			tested++;
		}
	}
	assert_int_equal(tested, 2 * 133);
	key_free(&k);
	fx_close(&f);
}

static void test_config_fermat_rounds(void **state)
{
	/* rsa-fermat-far factors at round 50: 10 rounds miss it. */
	static const struct kcase ten[] = {
		{ "rsa-fermat-far", { NULL } },
		{ "rsa-fermat-close", { "key.fermat", NULL } },
	};
	static const struct kcase one[] = {
		{ "rsa-fermat-far", { NULL } },
		{ "rsa-fermat-close", { "key.fermat", NULL } },
		{ "rsa-2048", { NULL } },
	};
	static const struct kcase many[] = {
		{ "rsa-fermat-far", { "key.fermat", NULL } },
		{ "rsa-2048", { NULL } },
		{ "rsa-8192", { NULL } },
	};
	struct fx f;

	fx_open(&f, "fermat_rounds = 10\n");
	run_cases(&f, ten, ARRAY_SIZE(ten));
	fx_close(&f);

	fx_open(&f, "fermat_rounds = 1\n");
	run_cases(&f, one, ARRAY_SIZE(one));
	fx_close(&f);

	/* Round 50 is the 51st: the rounds skipped by the residue filter
	 * must still land on it exactly. */
	fx_open(&f, "fermat_rounds = 50\n");
	run_cases(&f, ten, 1);
	fx_close(&f);
	fx_open(&f, "fermat_rounds = 51\n");
	run_cases(&f, many, 1);
	fx_close(&f);

	fx_open(&f, "fermat_rounds = 100000\nallow_p521 = no\n");
	run_cases(&f, many, ARRAY_SIZE(many));
	fx_close(&f);
}

/* Bad values are refused when the context opens, naming the key. */
static void test_config_bad(void **state)
{
	static const struct {
		const char *section, *key;
	} cases[] = {
		{ "fermat_rounds = 0\n", "fermat_rounds" },
		{ "fermat_rounds = 100001\n", "fermat_rounds" },
		{ "fermat_rounds = -5\n", "fermat_rounds" },
		{ "fermat_rounds = 10x\n", "fermat_rounds" },
		{ "fermat_rounds = ten\n", "fermat_rounds" },
		{ "fermat_rounds = 99999999999999999999999\n",
		  "fermat_rounds" },
		{ "fermat_rounds =\n", "fermat_rounds" },
		{ "allow_p521 = maybe\n", "allow_p521" },
		{ "allow_p521 = 1\n", "allow_p521" },
		{ "allow_p521 =\n", "allow_p521" },
		/* Not a key of this plugin: the host refuses it. */
		{ "rounds = 5\n", "rounds" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		mssl_error *err = mssl_error_new();
		char *dir = th_mkdtemp(), *extra = NULL, *conf;
		mssl_ctx *ctx = NULL;
		const char *msg;
		int rc;

		if (asprintf(&extra,
			     "[mssl]\nvalidators = validate-key\n\n"
			     "[validate-key]\n%s",
			     cases[i].section) < 0)
			fail_msg("out of memory");
		conf = th_write_config(dir, NULL, extra);
		rc = mssl_ctx_open_file(conf, &ctx, err);
		msg = mssl_error_message(err, MSSL_LANG_EN);
		if (rc != MSSL_ECONFIG || !strstr(msg, cases[i].key))
			fail_msg(
				"[validate-key] %s: expected MSSL_ECONFIG naming "
				"%s, got %s: %s",
				cases[i].section, cases[i].key,
				mssl_err_name(rc), msg);
		assert_null(ctx);
		mssl_error_free(err);
		th_rmrf(dir);
		free(dir);
		free(extra);
		free(conf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_policy),
		cmocka_unit_test(test_rsa_values),
		cmocka_unit_test(test_rsa_weak),
		cmocka_unit_test(test_rsa_weak_values),
		cmocka_unit_test(test_ec_and_others),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_config_p521),
		cmocka_unit_test(test_config_fermat_rounds),
		cmocka_unit_test(test_small_factor_every_prime),
		cmocka_unit_test(test_config_bad),
	};

	return cmocka_run_group_tests_name("validate-key", tests, NULL, NULL);
}
