/*
 * The ca-gnutls CA backend (plugins/ca-gnutls), with real keys and real
 * tools.
 *
 * The group setup makes eight private CAs with tools/ca-init.sh: root and
 * issuing CA keys RSA-2048, RSA-3072, ECDSA P-256 and P-384, each in PEM
 * files and on a SoftHSM2 token (a pkcs11: URI and a pin_file; these
 * issuing CAs carry name constraints permitting example.com).  For each
 * CA the plugin is loaded by the library's loader from the build tree,
 * signs a leaf certificate whose struct mssl_tbs is built here by hand, and
 * the result must:
 *  - verify with certtool --verify and openssl verify -x509_strict
 *    -purpose sslserver against the root;
 *  - parse back to exactly what was asked: serial, validity, subject
 *    (attribute by attribute, string types included), SPKI bytes, every
 *    extension's OID, criticality and bytes, in order, nothing more;
 *  - be accepted by gnutls-cli from gnutls-serv on loopback.
 * Each CA also signs a CRL with three entries (two reason codes, one
 * without), verified by certtool and openssl and read back; openssl
 * verify -crl_check then finds the leaf revoked.  Bad configurations
 * (wrong key, non-CA certificate, loose file modes, missing key, wrong
 * PIN, ...) must each be refused with MSSL_ECONFIG naming the key.
 *
 * MSSL_TEST_KEEP=1 keeps the temporary directory (CAs, leaves, logs).
 */
#include "internal.h"
#include "ctx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "smtpsink.h"
#include "testhelp.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define LEAF_CN "www.example.com"
#define LEAF_O "\xe7\xaf\x84\xe4\xbe\x8b\xe7\xa7\x91\xe6\x8a\x80 Example Co."
#define CRL_URL "http://crl.example.net/issuing.crl"
#define AIA_URL "http://ca.example.net/issuing.der"

/* ---------------------------------------------------------------------
 * Fixture: the CAs, made once
 * ------------------------------------------------------------------ */

struct ca {
	const char *key_type; /* ca-init.sh --key-type */
	bool token;
	bool rsa;
	gnutls_sign_algorithm_t sign;
	char *dir;
	char *section; /* the [ca-gnutls] section ca-init.sh wrote */
};

static struct ca cas[] = {
	{ "rsa-2048", false, true, GNUTLS_SIGN_RSA_SHA256, NULL, NULL },
	{ "rsa-3072", false, true, GNUTLS_SIGN_RSA_SHA256, NULL, NULL },
	{ "ecdsa-p256", false, false, GNUTLS_SIGN_ECDSA_SHA256, NULL, NULL },
	{ "ecdsa-p384", false, false, GNUTLS_SIGN_ECDSA_SHA384, NULL, NULL },
	{ "rsa-2048", true, true, GNUTLS_SIGN_RSA_SHA256, NULL, NULL },
	{ "rsa-3072", true, true, GNUTLS_SIGN_RSA_SHA256, NULL, NULL },
	{ "ecdsa-p256", true, false, GNUTLS_SIGN_ECDSA_SHA256, NULL, NULL },
	{ "ecdsa-p384", true, false, GNUTLS_SIGN_ECDSA_SHA384, NULL, NULL },
};
#define N_CAS (sizeof(cas) / sizeof(cas[0]))

static char *top; /* the group's temporary directory */
static char *leaf_key_rsa, *leaf_key_ec; /* leaf keys (PEM files) */
static char *nonca_cert, *nonca_key; /* a self-signed non-CA certificate */

static char *xasprintf(const char *fmt, ...) MSSL_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		fail_msg("out of memory");
	return s;
}

static char *slurp(const char *path)
{
	gnutls_datum_t d;
	char *s;

	if (gnutls_load_file(path, &d) < 0)
		fail_msg("cannot read %s", path);
	s = malloc(d.size + 1);
	assert_non_null(s);
	memcpy(s, d.data, d.size);
	s[d.size] = '\0';
	gnutls_free(d.data);
	return s;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0)
		fail_msg("cannot write %s", path);
}

static void write_pem(const char *path, const char *label, const uint8_t *der,
		      size_t len)
{
	gnutls_datum_t in = { (uint8_t *)der, (unsigned)len }, out;

	assert_int_equal(gnutls_pem_base64_encode2(label, &in, &out), 0);
	write_bytes(path, out.data, out.size);
	gnutls_free(out.data);
}

/* Paths inside a CA's directory. */
static char *at(const struct ca *c, const char *name)
{
	return xasprintf("%s/%s", c->dir, name);
}

static int group_setup(void **state)
{
	const char *src = getenv("MSSL_TEST_SRCDIR");
	char *conf, *tmpl, *path;
	size_t i;

	(void)state;
	if (!src)
		fail_msg("MSSL_TEST_SRCDIR is not set: run through make check");
	top = th_mkdtemp();
	/* One SoftHSM2 configuration for every token, set before anything
	 * in this process initialises the module; ca-init.sh creates it. */
	conf = xasprintf("%s/softhsm2.conf", top);
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);

	for (i = 0; i < N_CAS; i++) {
		struct ca *c = &cas[i];
		int rc;

		c->dir = xasprintf("%s/ca-%s-%s", top, c->key_type,
				   c->token ? "token" : "file");
		if (c->token)
			rc = th_system(
				"sh '%s/../tools/ca-init.sh' --dir '%s' --name 'Test %s' --country TW --key-type %s --token-label test-%s --module %s --permit-dns example.com >'%s.log' 2>&1",
				src, c->dir, c->key_type, c->key_type,
				c->key_type, SOFTHSM_MODULE, c->dir);
		else
			rc = th_system(
				"sh '%s/../tools/ca-init.sh' --dir '%s' --name 'Test %s' --key-type %s >'%s.log' 2>&1",
				src, c->dir, c->key_type, c->key_type, c->dir);
		if (rc != 0) {
			path = xasprintf("%s.log", c->dir);
			fail_msg("ca-init.sh failed (%d): %s", rc, slurp(path));
		}
		path = at(c, "ca-gnutls.conf");
		c->section = slurp(path);
		free(path);
	}

	leaf_key_rsa = xasprintf("%s/leaf-rsa.pem", top);
	leaf_key_ec = xasprintf("%s/leaf-ec.pem", top);
	assert_int_equal(
		th_system(
			"certtool --generate-privkey --key-type rsa --bits 2048 --no-text --outfile '%s' 2>/dev/null",
			leaf_key_rsa),
		0);
	assert_int_equal(
		th_system(
			"certtool --generate-privkey --key-type ecdsa --curve secp256r1 --no-text --outfile '%s' 2>/dev/null",
			leaf_key_ec),
		0);

	nonca_key = xasprintf("%s/nonca-key.pem", top);
	nonca_cert = xasprintf("%s/nonca.pem", top);
	tmpl = th_write_file(top, "nonca.tmpl",
			     "cn = \"Not a CA\"\nexpiration_days = 30\n"
			     "signing_key\n");
	assert_int_equal(
		th_system(
			"certtool --generate-privkey --key-type ecdsa --curve secp256r1 --no-text --outfile '%s' 2>/dev/null && chmod 600 '%s' && certtool --generate-self-signed --load-privkey '%s' --template '%s' --no-text --outfile '%s' 2>/dev/null",
			nonca_key, nonca_key, nonca_key, tmpl, nonca_cert),
		0);
	free(tmpl);
	return 0;
}

static int group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_CAS; i++) {
		free(cas[i].dir);
		free(cas[i].section);
	}
	free(leaf_key_rsa);
	free(leaf_key_ec);
	free(nonca_cert);
	free(nonca_key);
	if (!getenv("MSSL_TEST_KEEP"))
		th_rmrf(top);
	free(top);
	return 0;
}

/* ---------------------------------------------------------------------
 * Loading the plugin
 * ------------------------------------------------------------------ */

struct loaded {
	char *dir;
	mssl_ctx *ctx;
	mssl_error *err;
	const struct mssl_ca_ops *ops;
	void *state;
};

/* Open a context whose CA is ca-gnutls with 'section'; returns rc. */
static int load(struct loaded *l, const char *section)
{
	struct mssl__plugin *pl;
	char *extra, *conf;
	int rc;

	memset(l, 0, sizeof(*l));
	l->dir = th_mkdtemp();
	l->err = mssl_error_new();
	assert_non_null(l->err);
	extra = xasprintf("\n[mssl]\nca = ca-gnutls\n\n%s", section);
	conf = th_write_config(l->dir, NULL, extra);
	rc = mssl_ctx_open_file(conf, &l->ctx, l->err);
	free(extra);
	free(conf);
	if (rc < 0)
		return rc;
	for (pl = l->ctx->plugins; pl; pl = pl->next)
		if (pl->p->kind == MSSL_PLUGIN_CA)
			break;
	assert_non_null(pl);
	assert_string_equal(pl->p->name, "ca-gnutls");
	assert_true(pl->p->flags & MSSL_PLUGIN_THREAD_SAFE);
	l->ops = pl->p->ops;
	l->state = pl->state;
	return 0;
}

static void load_ok(struct loaded *l, const char *section)
{
	int rc = load(l, section);

	TH_RC(rc, 0, l->err);
}

static void unload(struct loaded *l)
{
	mssl_ctx_free(l->ctx);
	mssl_error_free(l->err);
	if (!getenv("MSSL_TEST_KEEP"))
		th_rmrf(l->dir);
	free(l->dir);
}

/* ---------------------------------------------------------------------
 * The to-be-signed leaf, built by hand
 * ------------------------------------------------------------------ */

#define N_EXTS 9

struct leaf {
	uint8_t serial[16];
	uint8_t c_der[8], o_der[64], cn_der[64];
	struct mssl_dn_attr subject[3];
	gnutls_datum_t spki;
	gnutls_datum_t ext_der[N_EXTS];
	struct mssl_ext exts[N_EXTS];
	struct mssl_tbs tbs;
	const char *key_file;
};

/* Tag, short length, value: enough for the test's strings. */
static size_t tlv(uint8_t *out, size_t cap, uint8_t tag, const char *s)
{
	size_t n = strlen(s);

	assert_true(n < 128 && n + 2 <= cap);
	out[0] = tag;
	out[1] = (uint8_t)n;
	memcpy(out + 2, s, n);
	return n + 2;
}

static gnutls_x509_crt_t load_crt(const char *path)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;

	assert_int_equal(gnutls_load_file(path, &d), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
			 0);
	gnutls_free(d.data);
	return crt;
}

static void ca_ski(const struct ca *c, uint8_t *ski, size_t *len)
{
	gnutls_x509_crt_t crt;
	unsigned int critical;
	char *path = at(c, "issuing.pem");

	crt = load_crt(path);
	assert_int_equal(gnutls_x509_crt_get_subject_key_id(crt, ski, len,
							    &critical),
			 0);
	gnutls_x509_crt_deinit(crt);
	free(path);
}

static void leaf_exts(struct leaf *l, const struct ca *c, const uint8_t *kid,
		      size_t kid_len)
{
	gnutls_x509_key_purposes_t kp;
	gnutls_subject_alt_names_t san;
	gnutls_x509_aki_t aki;
	gnutls_x509_policies_t pol;
	gnutls_x509_crl_dist_points_t dp;
	gnutls_x509_aia_t aia;
	struct gnutls_x509_policy_st policy;
	gnutls_datum_t d;
	uint8_t ski[64];
	size_t ski_len = sizeof(ski), i = 0;
	unsigned int usage;

	/* basicConstraints cA FALSE, critical. */
	assert_int_equal(
		gnutls_x509_ext_export_basic_constraints(0, -1, &l->ext_der[i]),
		0);
	l->exts[i].oid = "2.5.29.19";
	l->exts[i++].critical = 1;

	/* keyUsage by key type, critical. */
	usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	if (c->rsa)
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	assert_int_equal(
		gnutls_x509_ext_export_key_usage(usage, &l->ext_der[i]), 0);
	l->exts[i].oid = "2.5.29.15";
	l->exts[i++].critical = 1;

	/* extKeyUsage: serverAuth only. */
	assert_int_equal(gnutls_x509_key_purpose_init(&kp), 0);
	assert_int_equal(
		gnutls_x509_key_purpose_set(kp, GNUTLS_KP_TLS_WWW_SERVER), 0);
	assert_int_equal(
		gnutls_x509_ext_export_key_purposes(kp, &l->ext_der[i]), 0);
	gnutls_x509_key_purpose_deinit(kp);
	l->exts[i++].oid = "2.5.29.37";

	/* subjectAltName: the CN and one more name. */
	assert_int_equal(gnutls_subject_alt_names_init(&san), 0);
	d.data = (uint8_t *)LEAF_CN;
	d.size = (unsigned)strlen(LEAF_CN);
	assert_int_equal(gnutls_subject_alt_names_set(san, GNUTLS_SAN_DNSNAME,
						      &d, NULL),
			 0);
	d.data = (uint8_t *)"example.com";
	d.size = (unsigned)strlen("example.com");
	assert_int_equal(gnutls_subject_alt_names_set(san, GNUTLS_SAN_DNSNAME,
						      &d, NULL),
			 0);
	assert_int_equal(
		gnutls_x509_ext_export_subject_alt_names(san, &l->ext_der[i]),
		0);
	gnutls_subject_alt_names_deinit(san);
	l->exts[i++].oid = "2.5.29.17";

	/* subjectKeyIdentifier: SHA-1 of the key (RFC 5280 method 1). */
	d.data = (uint8_t *)kid;
	d.size = (unsigned)kid_len;
	assert_int_equal(
		gnutls_x509_ext_export_subject_key_id(&d, &l->ext_der[i]), 0);
	l->exts[i++].oid = "2.5.29.14";

	/* authorityKeyIdentifier: the issuing CA's SKI. */
	ca_ski(c, ski, &ski_len);
	d.data = ski;
	d.size = (unsigned)ski_len;
	assert_int_equal(gnutls_x509_aki_init(&aki), 0);
	assert_int_equal(gnutls_x509_aki_set_id(aki, &d), 0);
	assert_int_equal(
		gnutls_x509_ext_export_authority_key_id(aki, &l->ext_der[i]),
		0);
	gnutls_x509_aki_deinit(aki);
	l->exts[i++].oid = "2.5.29.35";

	/* certificatePolicies: OV. */
	memset(&policy, 0, sizeof(policy));
	policy.oid = (char *)"2.23.140.1.2.2";
	assert_int_equal(gnutls_x509_policies_init(&pol), 0);
	assert_int_equal(gnutls_x509_policies_set(pol, &policy), 0);
	assert_int_equal(gnutls_x509_ext_export_policies(pol, &l->ext_der[i]),
			 0);
	gnutls_x509_policies_deinit(pol);
	l->exts[i++].oid = "2.5.29.32";

	/* cRLDistributionPoints. */
	d.data = (uint8_t *)CRL_URL;
	d.size = (unsigned)strlen(CRL_URL);
	assert_int_equal(gnutls_x509_crl_dist_points_init(&dp), 0);
	assert_int_equal(
		gnutls_x509_crl_dist_points_set(dp, GNUTLS_SAN_URI, &d, 0), 0);
	assert_int_equal(
		gnutls_x509_ext_export_crl_dist_points(dp, &l->ext_der[i]), 0);
	gnutls_x509_crl_dist_points_deinit(dp);
	l->exts[i++].oid = "2.5.29.31";

	/* authorityInfoAccess: caIssuers. */
	d.data = (uint8_t *)AIA_URL;
	d.size = (unsigned)strlen(AIA_URL);
	assert_int_equal(gnutls_x509_aia_init(&aia), 0);
	assert_int_equal(gnutls_x509_aia_set(aia, GNUTLS_OID_AD_CAISSUERS,
					     GNUTLS_SAN_URI, &d),
			 0);
	assert_int_equal(gnutls_x509_ext_export_aia(aia, &l->ext_der[i]), 0);
	gnutls_x509_aia_deinit(aia);
	l->exts[i++].oid = "1.3.6.1.5.5.7.1.1";
	assert_int_equal(i, N_EXTS);

	for (i = 0; i < N_EXTS; i++) {
		l->exts[i].der = l->ext_der[i].data;
		l->exts[i].der_len = l->ext_der[i].size;
	}
}

static void leaf_build(struct leaf *l, const struct ca *c, bool high_bit)
{
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub;
	gnutls_datum_t d;
	uint8_t kid[64];
	size_t kid_len = sizeof(kid);
	int64_t now = (int64_t)time(NULL);

	memset(l, 0, sizeof(*l));
	l->key_file = c->rsa ? leaf_key_rsa : leaf_key_ec;

	/* Serial: 128 random bits, positive; its top bit set on demand so
	 * that the DER INTEGER needs a leading zero byte. */
	assert_int_equal(
		gnutls_rnd(GNUTLS_RND_NONCE, l->serial, sizeof(l->serial)), 0);
	if (high_bit)
		l->serial[0] |= 0x80;
	else
		l->serial[0] = (uint8_t)((l->serial[0] & 0x7f) | 0x01);

	l->subject[0].oid = "2.5.4.6";
	l->subject[0].der = l->c_der;
	l->subject[0].der_len = tlv(l->c_der, sizeof(l->c_der), 0x13, "TW");
	l->subject[1].oid = "2.5.4.10";
	l->subject[1].der = l->o_der;
	l->subject[1].der_len = tlv(l->o_der, sizeof(l->o_der), 0x0c, LEAF_O);
	l->subject[2].oid = "2.5.4.3";
	l->subject[2].der = l->cn_der;
	l->subject[2].der_len =
		tlv(l->cn_der, sizeof(l->cn_der), 0x0c, LEAF_CN);

	assert_int_equal(gnutls_load_file(l->key_file, &d), 0);
	assert_int_equal(gnutls_privkey_init(&priv), 0);
	assert_int_equal(gnutls_privkey_import_x509_raw(
				 priv, &d, GNUTLS_X509_FMT_PEM, NULL, 0),
			 0);
	gnutls_free(d.data);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(pub, priv, 0, 0), 0);
	assert_int_equal(
		gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &l->spki), 0);
	assert_int_equal(gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1,
						  kid, &kid_len),
			 0);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);

	leaf_exts(l, c, kid, kid_len);

	l->tbs.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	l->tbs.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	l->tbs.size = sizeof(l->tbs);
	l->tbs.serial = l->serial;
	l->tbs.serial_len = sizeof(l->serial);
	l->tbs.not_before = now - 3600;
	l->tbs.not_after = now + 90 * 86400;
	l->tbs.subject = l->subject;
	l->tbs.n_subject = 3;
	l->tbs.spki = l->spki.data;
	l->tbs.spki_len = l->spki.size;
	l->tbs.exts = l->exts;
	l->tbs.n_exts = N_EXTS;
	l->tbs.profile = "ssl";
}

static void leaf_free(struct leaf *l)
{
	size_t i;

	for (i = 0; i < N_EXTS; i++)
		gnutls_free(l->ext_der[i].data);
	gnutls_free(l->spki.data);
}

/* ---------------------------------------------------------------------
 * Checks of a signed certificate
 * ------------------------------------------------------------------ */

/* Skip the sign byte a DER INTEGER may carry. */
static void strip_zero(const uint8_t **p, size_t *n)
{
	while (*n > 1 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

/* The certificate says exactly what the TBS asked, and nothing else. */
static void check_fields(const struct ca *c, const struct leaf *l,
			 const uint8_t *der, size_t len)
{
	gnutls_x509_crt_t crt, issuer;
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;
	gnutls_datum_t d = { (uint8_t *)der, (unsigned)len }, a, b;
	uint8_t serial[64];
	size_t serial_len = sizeof(serial), i, oid_len;
	const uint8_t *sp;
	char oid[128], *path;
	unsigned int critical, status = 1;
	int irdn, ret;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crt_get_version(crt), 3);

	/* Positive: a leading zero exactly when the top bit is set. */
	assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &serial_len),
			 0);
	if (l->serial[0] & 0x80) {
		assert_int_equal(serial_len, sizeof(l->serial) + 1);
		assert_int_equal(serial[0], 0);
	} else {
		assert_int_equal(serial_len, sizeof(l->serial));
	}
	sp = serial;
	strip_zero(&sp, &serial_len);
	assert_memory_equal(sp, l->serial, sizeof(l->serial));

	assert_int_equal((int64_t)gnutls_x509_crt_get_activation_time(crt),
			 l->tbs.not_before);
	assert_int_equal((int64_t)gnutls_x509_crt_get_expiration_time(crt),
			 l->tbs.not_after);

	/* Subject: one attribute per RDN, in order, string types kept. */
	assert_int_equal(gnutls_x509_crt_get_subject(crt, &dn), 0);
	for (irdn = 0; irdn < 3; irdn++) {
		const struct mssl_dn_attr *at = &l->subject[irdn];

		assert_int_equal(gnutls_x509_dn_get_rdn_ava(dn, irdn, 0, &ava),
				 0);
		/* GnuTLS counts the OID's terminating NUL. */
		assert_true(ava.oid.size >= strlen(at->oid));
		assert_memory_equal(ava.oid.data, at->oid, strlen(at->oid));
		assert_true(ava.oid.size == strlen(at->oid) ||
			    (ava.oid.size == strlen(at->oid) + 1 &&
			     ava.oid.data[ava.oid.size - 1] == 0));
		assert_int_equal(ava.value_tag, at->der[0]);
		assert_int_equal(ava.value.size, at->der_len - 2);
		assert_memory_equal(ava.value.data, at->der + 2,
				    ava.value.size);
		assert_int_not_equal(
			gnutls_x509_dn_get_rdn_ava(dn, irdn, 1, &ava), 0);
	}
	assert_int_not_equal(gnutls_x509_dn_get_rdn_ava(dn, 3, 0, &ava), 0);

	/* The SPKI, byte for byte. */
	assert_non_null(memmem(der, len, l->spki.data, l->spki.size));

	/* Every extension in order, nothing added. */
	for (i = 0;; i++) {
		oid_len = sizeof(oid);
		ret = gnutls_x509_crt_get_extension_info(crt, (unsigned)i, oid,
							 &oid_len, &critical);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		assert_int_equal(ret, 0);
		assert_true(i < N_EXTS);
		assert_string_equal(oid, l->exts[i].oid);
		assert_int_equal(!!critical, !!l->exts[i].critical);
		assert_int_equal(gnutls_x509_crt_get_extension_data2(
					 crt, (unsigned)i, &a),
				 0);
		assert_int_equal(a.size, l->exts[i].der_len);
		assert_memory_equal(a.data, l->exts[i].der, a.size);
		gnutls_free(a.data);
	}
	assert_int_equal(i, N_EXTS);

	/* Issuer: the CA's subject, byte for byte; its algorithm signed. */
	path = at(c, "issuing.pem");
	issuer = load_crt(path);
	free(path);
	assert_int_equal(gnutls_x509_crt_get_raw_issuer_dn(crt, &a), 0);
	assert_int_equal(gnutls_x509_crt_get_raw_dn(issuer, &b), 0);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.data, b.data, a.size);
	gnutls_free(a.data);
	gnutls_free(b.data);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), c->sign);
	assert_int_equal(gnutls_x509_crt_verify(crt, &issuer, 1, 0, &status),
			 0);
	assert_int_equal(status, 0);
	gnutls_x509_crt_deinit(issuer);
	gnutls_x509_crt_deinit(crt);
}

static bool port_open(int port)
{
	struct sockaddr_in sa;
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* SIGTERM, up to 5 s, then SIGKILL. */
static void stop(pid_t pid)
{
	int i, st;

	kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/*
 * gnutls-serv serves leaf + chain on loopback; gnutls-cli, trusting only
 * the root, must complete the handshake and accept the name.
 */
static void serve_and_connect(const char *dir, const char *certchain,
			      const char *key, const char *root)
{
	char port_s[16], *log, *cli_log, *out;
	pid_t pid;
	int port, i, rc, st;

	port = th_free_port();
	snprintf(port_s, sizeof(port_s), "%d", port);
	log = xasprintf("%s/gnutls-serv.log", dir);
	cli_log = xasprintf("%s/gnutls-cli.log", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *fp = freopen(log, "w", stdout);

		if (!fp || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execlp("gnutls-serv", "gnutls-serv", "--x509certfile",
		       certchain, "--x509keyfile", key, "--disable-client-cert",
		       "-p", port_s, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !port_open(port); i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			fail_msg("gnutls-serv exited: %s", slurp(log));
		usleep(50 * 1000);
	}
	if (!port_open(port)) {
		stop(pid);
		fail_msg("gnutls-serv did not listen on port %d", port);
	}
	rc = th_system(
		"timeout 30 gnutls-cli --x509cafile '%s' -p %d --verify-hostname " LEAF_CN
		" 127.0.0.1 </dev/null >'%s' 2>&1",
		root, port, cli_log);
	stop(pid);
	out = slurp(cli_log);
	if (rc != 0 || !strstr(out, "Handshake was completed"))
		fail_msg("gnutls-cli refused the certificate (exit %d):\n%s",
			 rc, out);
	free(out);
	free(log);
	free(cli_log);
}

struct chain_ud {
	uint8_t *der[4];
	size_t len[4];
	size_t n;
};

static int chain_cb(void *ud, const uint8_t *der, size_t len)
{
	struct chain_ud *c = ud;

	assert_true(c->n < 4);
	c->der[c->n] = malloc(len);
	assert_non_null(c->der[c->n]);
	memcpy(c->der[c->n], der, len);
	c->len[c->n++] = len;
	return 0;
}

/* chain() gives the issuing CA then the root, as DER. */
static void check_chain(struct loaded *ld, const struct ca *c)
{
	static const char *const names[] = { "issuing.pem", "root.pem" };
	struct chain_ud ud = { .n = 0 };
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	size_t i;
	char *path;

	assert_int_equal(ld->ops->chain(ld->state, chain_cb, &ud), 0);
	assert_int_equal(ud.n, 2);
	for (i = 0; i < 2; i++) {
		path = at(c, names[i]);
		crt = load_crt(path);
		assert_int_equal(
			gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d),
			0);
		assert_int_equal(d.size, ud.len[i]);
		assert_memory_equal(d.data, ud.der[i], d.size);
		gnutls_free(d.data);
		gnutls_x509_crt_deinit(crt);
		free(path);
		free(ud.der[i]);
	}
}

/* Sign a leaf with CA c into dir/leaf.pem and dir/leaf-chain.pem. */
static void issue_leaf(struct loaded *ld, const struct ca *c, struct leaf *l,
		       bool high_bit, const char *dir)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char *path, *leaf, *issuing, *both;

	leaf_build(l, c, high_bit);
	TH_RC(ld->ops->issue(ld->state, &l->tbs, &der, &len), 0, NULL);
	assert_non_null(der);
	check_fields(c, l, der, len);

	path = xasprintf("%s/leaf.pem", dir);
	write_pem(path, "CERTIFICATE", der, len);
	free(der);
	leaf = slurp(path);
	free(path);
	/* Leaf then issuing CA, as a server sends them. */
	path = at(c, "issuing.pem");
	issuing = slurp(path);
	free(path);
	both = xasprintf("%s%s", leaf, issuing);
	path = xasprintf("%s/leaf-chain.pem", dir);
	write_bytes(path, both, strlen(both));
	free(path);
	free(both);
	free(leaf);
	free(issuing);
}

static void test_issue(void **state)
{
	const struct ca *c = *state;
	struct loaded ld;
	struct leaf l;
	char *root, *cc;

	load_ok(&ld, c->section);
	check_chain(&ld, c);
	issue_leaf(&ld, c, &l, !c->token, ld.dir);

	assert_int_equal(
		th_system(
			"certtool --verify --load-ca-certificate '%s/root.pem' --infile '%s/leaf-chain.pem' --verify-hostname " LEAF_CN
			" --verify-purpose 1.3.6.1.5.5.7.3.1 >'%s/certtool.log' 2>&1",
			c->dir, ld.dir, ld.dir),
		0);
	assert_int_equal(
		th_system(
			"openssl verify -x509_strict -purpose sslserver -verify_hostname " LEAF_CN
			" -CAfile '%s/root.pem' -untrusted '%s/issuing.pem' '%s/leaf.pem' >'%s/openssl.log' 2>&1",
			c->dir, c->dir, ld.dir, ld.dir),
		0);
	root = at(c, "root.pem");
	cc = xasprintf("%s/leaf-chain.pem", ld.dir);
	serve_and_connect(ld.dir, cc, l.key_file, root);
	free(root);
	free(cc);
	leaf_free(&l);
	unload(&ld);
}

/* ---------------------------------------------------------------------
 * CRLs
 * ------------------------------------------------------------------ */

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/*
 * In a CRL without entries, nextUpdate is followed at once by the
 * crlExtensions [0]: no empty revokedCertificates SEQUENCE.
 */
static void check_no_revoked(const uint8_t *der, size_t len, int64_t next)
{
	time_t t = (time_t)next;
	struct tm tm;
	char want[32];
	const uint8_t *p;

	assert_non_null(gmtime_r(&t, &tm));
	assert_true(tm.tm_year + 1900 < 2050);
	want[0] = 0x17;
	want[1] = 13;
	snprintf(want + 2, sizeof(want) - 2, "%02d%02d%02d%02d%02d%02dZ",
		 tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	p = memmem(der, len, want, 15);
	assert_non_null(p);
	assert_true(p + 15 < der + len);
	assert_int_equal(p[15], 0xa0);
}

static void test_crl(void **state)
{
	const struct ca *c = *state;
	struct loaded ld;
	struct leaf l;
	struct mssl_crl_entry e[3];
	struct mssl_crl_tbs t;
	gnutls_x509_crl_t crl;
	gnutls_x509_crt_t issuer;
	gnutls_datum_t d;
	uint8_t *der = NULL, small[2] = { 0x01, 0x23 }, buf[64], ski[64];
	size_t len = 0, blen, ski_len = sizeof(ski);
	unsigned int critical, status = 1;
	int64_t now = (int64_t)time(NULL);
	time_t t_rev;
	char *path, *text;
	const uint8_t *sp;
	int i;

	load_ok(&ld, c->section);
	issue_leaf(&ld, c, &l, true, ld.dir);

	memset(e, 0, sizeof(e));
	e[0].serial = l.serial; /* the leaf: keyCompromise */
	e[0].serial_len = sizeof(l.serial);
	e[0].revoked_at = now - 7200;
	e[0].reason = 1;
	e[1].serial = small; /* superseded */
	e[1].serial_len = sizeof(small);
	e[1].revoked_at = now - 3600;
	e[1].reason = 4;
	e[2].serial = small + 1; /* no reason code */
	e[2].serial_len = 1;
	e[2].revoked_at = now - 60;
	e[2].reason = -1;
	memset(&t, 0, sizeof(t));
	t.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	t.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	t.size = sizeof(t);
	t.number = 0x8000000001ull; /* needs a leading zero byte */
	t.this_update = now - 60;
	t.next_update = now + 7 * 86400;
	t.entries = e;
	t.n_entries = 3;
	TH_RC(ld.ops->crl(ld.state, &t, &der, &len), 0, NULL);
	path = xasprintf("%s/crl.pem", ld.dir);
	write_pem(path, "X509 CRL", der, len);
	free(path);

	/* Read back with GnuTLS. */
	d.data = der;
	d.size = (unsigned)len;
	assert_int_equal(gnutls_x509_crl_init(&crl), 0);
	assert_int_equal(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crl_get_version(crl), 2);
	assert_int_equal((int64_t)gnutls_x509_crl_get_this_update(crl),
			 t.this_update);
	assert_int_equal((int64_t)gnutls_x509_crl_get_next_update(crl),
			 t.next_update);
	blen = sizeof(buf);
	assert_int_equal(gnutls_x509_crl_get_number(crl, buf, &blen, &critical),
			 0);
	assert_false(critical);
	assert_int_equal(blen, 6);
	assert_memory_equal(buf, "\x00\x80\x00\x00\x00\x01", 6);
	blen = sizeof(buf);
	assert_int_equal(gnutls_x509_crl_get_authority_key_id(crl, buf, &blen,
							      &critical),
			 0);
	assert_false(critical);
	ca_ski(c, ski, &ski_len);
	assert_int_equal(blen, ski_len);
	assert_memory_equal(buf, ski, blen);
	assert_int_equal(gnutls_x509_crl_get_signature_algorithm(crl), c->sign);
	assert_int_equal(gnutls_x509_crl_get_crt_count(crl), 3);
	for (i = 0; i < 3; i++) {
		blen = sizeof(buf);
		assert_int_equal(gnutls_x509_crl_get_crt_serial(crl, i, buf,
								&blen, &t_rev),
				 0);
		sp = buf;
		strip_zero(&sp, &blen);
		assert_int_equal(blen, e[i].serial_len);
		assert_memory_equal(sp, e[i].serial, blen);
		assert_int_equal((int64_t)t_rev, e[i].revoked_at);
	}
	path = at(c, "issuing.pem");
	issuer = load_crt(path);
	free(path);
	assert_int_equal(gnutls_x509_crl_verify(crl, &issuer, 1, 0, &status),
			 0);
	assert_int_equal(status, 0);
	gnutls_x509_crt_deinit(issuer);
	gnutls_x509_crl_deinit(crl);
	free(der);

	/* certtool and openssl verify it; openssl shows the reasons. */
	assert_int_equal(
		th_system(
			"certtool --verify-crl --infile '%s/crl.pem' --load-ca-certificate '%s/issuing.pem' >'%s/crl-certtool.log' 2>&1",
			ld.dir, c->dir, ld.dir),
		0);
	path = xasprintf("%s/crl-certtool.log", ld.dir);
	text = slurp(path);
	free(path);
	assert_non_null(strstr(text, "Verification output: Verified."));
	assert_non_null(strstr(text, "Revoked certificates (3)"));
	free(text);
	assert_int_equal(
		th_system(
			"openssl crl -in '%s/crl.pem' -CAfile '%s/chain.pem' -verify -noout -text >'%s/crl-openssl.log' 2>&1",
			ld.dir, c->dir, ld.dir),
		0);
	path = xasprintf("%s/crl-openssl.log", ld.dir);
	text = slurp(path);
	free(path);
	assert_non_null(strstr(text, "verify OK"));
	assert_non_null(strstr(text, "Version 2"));
	assert_non_null(strstr(text, "X509v3 CRL Number"));
	assert_non_null(strstr(text, "X509v3 Authority Key Identifier"));
	assert_int_equal(count(text, "X509v3 CRL Reason Code"), 2);
	assert_int_equal(count(text, "Key Compromise"), 1);
	assert_int_equal(count(text, "Superseded"), 1);
	free(text);

	/* With the CRL, openssl finds the leaf revoked. */
	assert_int_not_equal(
		th_system(
			"openssl verify -crl_check -CRLfile '%s/crl.pem' -CAfile '%s/root.pem' -untrusted '%s/issuing.pem' '%s/leaf.pem' >'%s/revoked.log' 2>&1",
			ld.dir, c->dir, c->dir, ld.dir, ld.dir),
		0);
	path = xasprintf("%s/revoked.log", ld.dir);
	text = slurp(path);
	free(path);
	assert_non_null(strstr(text, "certificate revoked"));
	free(text);

	/* An empty CRL: no revokedCertificates (RFC 5280 5.1.2.6), and
	 * the leaf passes. */
	t.n_entries = 0;
	t.entries = NULL;
	t.number = 7;
	TH_RC(ld.ops->crl(ld.state, &t, &der, &len), 0, NULL);
	path = xasprintf("%s/empty.pem", ld.dir);
	write_pem(path, "X509 CRL", der, len);
	free(path);
	check_no_revoked(der, len, t.next_update);
	free(der);
	assert_int_equal(
		th_system(
			"openssl verify -crl_check -CRLfile '%s/empty.pem' -CAfile '%s/root.pem' -untrusted '%s/issuing.pem' '%s/leaf.pem' >'%s/notrevoked.log' 2>&1",
			ld.dir, c->dir, c->dir, ld.dir, ld.dir),
		0);

	leaf_free(&l);
	unload(&ld);
}

/*
 * A large CRL: lengths of three octets, every reason code, and openssl
 * and GnuTLS still agree it verifies.
 */
#define BIG_CRL 5000

static void test_crl_large(void **state)
{
	static const int reasons[] = { -1, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10 };
	const struct ca *c = *state;
	struct mssl_crl_entry *e;
	struct mssl_crl_tbs t;
	struct loaded ld;
	gnutls_x509_crl_t crl;
	gnutls_datum_t d;
	uint8_t *serials, *der = NULL;
	size_t len = 0, i;
	int64_t now = (int64_t)time(NULL);
	char *path, *text;

	load_ok(&ld, c->section);
	e = calloc(BIG_CRL, sizeof(*e));
	serials = malloc(BIG_CRL * 16);
	assert_non_null(e);
	assert_non_null(serials);
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, serials, BIG_CRL * 16),
			 0);
	for (i = 0; i < BIG_CRL; i++) {
		serials[i * 16] |= 0x01; /* no leading zero byte */
		e[i].serial = serials + i * 16;
		e[i].serial_len = 16;
		e[i].revoked_at = now - (int64_t)i * 60;
		e[i].reason =
			reasons[i % (sizeof(reasons) / sizeof(reasons[0]))];
	}
	memset(&t, 0, sizeof(t));
	t.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	t.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	t.size = sizeof(t);
	t.number = 42;
	t.this_update = now;
	t.next_update = now + 10 * 86400;
	t.entries = e;
	t.n_entries = BIG_CRL;
	TH_RC(ld.ops->crl(ld.state, &t, &der, &len), 0, NULL);
	assert_true(len > 65536);
	assert_int_equal(der[1], 0x83);

	d.data = der;
	d.size = (unsigned)len;
	assert_int_equal(gnutls_x509_crl_init(&crl), 0);
	assert_int_equal(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crl_get_crt_count(crl), BIG_CRL);
	gnutls_x509_crl_deinit(crl);
	path = xasprintf("%s/big.pem", ld.dir);
	write_pem(path, "X509 CRL", der, len);
	free(path);
	free(der);
	assert_int_equal(
		th_system(
			"openssl crl -in '%s/big.pem' -CAfile '%s/chain.pem' -verify -noout -text >'%s/big.log' 2>&1",
			ld.dir, c->dir, ld.dir),
		0);
	path = xasprintf("%s/big.log", ld.dir);
	text = slurp(path);
	free(path);
	assert_non_null(strstr(text, "verify OK"));
	assert_int_equal(count(text, "Serial Number:"), BIG_CRL);
	assert_int_equal(count(text, "X509v3 CRL Reason Code"),
			 BIG_CRL - (BIG_CRL + 10) / 11);
	assert_int_equal(count(text, "Remove From CRL"), (BIG_CRL + 2) / 11);
	free(text);
	free(serials);
	free(e);
	unload(&ld);
}

/* ---------------------------------------------------------------------
 * Bad input to issue and crl
 * ------------------------------------------------------------------ */

static void test_bad_tbs(void **state)
{
	const struct ca *c = &cas[2]; /* P-256 in a file */
	struct loaded ld;
	struct leaf l;
	struct mssl_ext dup[2];
	struct mssl_crl_entry e;
	struct mssl_crl_tbs t;
	uint8_t *der = NULL, zero = 0, big[21];
	size_t len = 0;

	(void)state;
	load_ok(&ld, c->section);
	leaf_build(&l, c, false);

	/* Serial zero; 21 octets. */
	l.tbs.serial = &zero;
	l.tbs.serial_len = 1;
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	memset(big, 0x7f, sizeof(big));
	l.tbs.serial = big;
	l.tbs.serial_len = sizeof(big);
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	/* 20 octets with the top bit set would need 21 in DER. */
	big[0] = 0x80;
	l.tbs.serial_len = 20;
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	l.tbs.serial = l.serial;
	l.tbs.serial_len = sizeof(l.serial);

	l.tbs.not_after = l.tbs.not_before;
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	l.tbs.not_after = l.tbs.not_before + 86400;

	/* The same extension twice (GnuTLS would keep only the second). */
	dup[0] = l.exts[0];
	dup[1] = l.exts[0];
	l.tbs.exts = dup;
	l.tbs.n_exts = 2;
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	l.tbs.exts = l.exts;
	l.tbs.n_exts = N_EXTS;

	l.tbs.spki_len = 10; /* truncated */
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	l.tbs.spki_len = l.spki.size;

	l.tbs.abi_major = MSSL_PLUGIN_ABI_MAJOR + 1;
	assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
			 MSSL_EINVAL);
	l.tbs.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	assert_null(der);

	/* An SPKI in another encoding than GnuTLS's own (a long-form
	 * length) would be changed: refused. */
	{
		uint8_t *odd = malloc(l.spki.size + 1);

		assert_non_null(odd);
		assert_true(l.spki.data[1] < 0x80);
		odd[0] = l.spki.data[0];
		odd[1] = 0x81;
		memcpy(odd + 2, l.spki.data + 1, l.spki.size - 1);
		l.tbs.spki = odd;
		l.tbs.spki_len = l.spki.size + 1;
		assert_int_equal(ld.ops->issue(ld.state, &l.tbs, &der, &len),
				 MSSL_EINVAL);
		l.tbs.spki = l.spki.data;
		l.tbs.spki_len = l.spki.size;
		free(odd);
	}

	/* An empty subject (RFC 5280 allows it with a critical SAN). */
	l.tbs.n_subject = 0;
	TH_RC(ld.ops->issue(ld.state, &l.tbs, &der, &len), 0, NULL);
	{
		gnutls_x509_crt_t crt;
		gnutls_datum_t d = { der, (unsigned)len }, dn;

		assert_int_equal(gnutls_x509_crt_init(&crt), 0);
		assert_int_equal(gnutls_x509_crt_import(crt, &d,
							GNUTLS_X509_FMT_DER),
				 0);
		assert_int_equal(gnutls_x509_crt_get_raw_dn(crt, &dn), 0);
		assert_int_equal(dn.size, 2);
		assert_memory_equal(dn.data, "\x30\x00", 2);
		gnutls_free(dn.data);
		gnutls_x509_crt_deinit(crt);
	}
	free(der);
	der = NULL;
	l.tbs.n_subject = 3;

	/* Still signs after all that. */
	TH_RC(ld.ops->issue(ld.state, &l.tbs, &der, &len), 0, NULL);
	free(der);
	der = NULL;

	memset(&e, 0, sizeof(e));
	e.serial = l.serial;
	e.serial_len = sizeof(l.serial);
	e.revoked_at = l.tbs.not_before;
	e.reason = 7; /* not a CRLReason */
	memset(&t, 0, sizeof(t));
	t.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	t.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	t.size = sizeof(t);
	t.number = 1;
	t.this_update = l.tbs.not_before;
	t.next_update = l.tbs.not_before + 86400;
	t.entries = &e;
	t.n_entries = 1;
	assert_int_equal(ld.ops->crl(ld.state, &t, &der, &len), MSSL_EINVAL);
	e.reason = 5;
	t.next_update = t.this_update;
	assert_int_equal(ld.ops->crl(ld.state, &t, &der, &len), MSSL_EINVAL);
	t.next_update = t.this_update + 86400;
	TH_RC(ld.ops->crl(ld.state, &t, &der, &len), 0, NULL);
	free(der);

	leaf_free(&l);
	unload(&ld);
}

/* ---------------------------------------------------------------------
 * Many threads at once (the plugin says it is thread-safe)
 * ------------------------------------------------------------------ */

#define THREADS 4
#define PER_THREAD 25

struct worker {
	struct loaded *ld;
	const struct ca *c;
	int done, failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	gnutls_x509_crt_t crt, issuer;
	gnutls_datum_t d;
	struct leaf l;
	unsigned int status;
	uint8_t *der;
	size_t len;
	char *path;
	int i;

	path = at(w->c, "issuing.pem");
	issuer = load_crt(path);
	free(path);
	leaf_build(&l, w->c, true);
	for (i = 0; i < PER_THREAD; i++) {
		der = NULL;
		l.serial[15] = (uint8_t)i;
		if (w->ld->ops->issue(w->ld->state, &l.tbs, &der, &len) < 0) {
			w->failures++;
			continue;
		}
		d.data = der;
		d.size = (unsigned)len;
		status = 1;
		if (gnutls_x509_crt_init(&crt) < 0) {
			w->failures++;
			free(der);
			continue;
		}
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
		    gnutls_x509_crt_verify(crt, &issuer, 1, 0, &status) < 0 ||
		    status)
			w->failures++;
		else
			w->done++;
		gnutls_x509_crt_deinit(crt);
		free(der);
	}
	leaf_free(&l);
	gnutls_x509_crt_deinit(issuer);
	return NULL;
}

static void test_threads(void **state)
{
	const struct ca *c = *state;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct loaded ld;
	int i;

	load_ok(&ld, c->section);
	for (i = 0; i < THREADS; i++) {
		w[i].ld = &ld;
		w[i].c = c;
		w[i].done = 0;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].done, PER_THREAD);
	}
	unload(&ld);
}

/* ---------------------------------------------------------------------
 * Bad configurations: each refused, MSSL_ECONFIG, naming the key
 * ------------------------------------------------------------------ */

/* "name = value\n", or "" when value is NULL. */
static char *kv(const char *name, const char *value)
{
	return value ? xasprintf("%s = %s\n", name, value) :
		       xasprintf("%s", "");
}

/* A section from its parts (NULL parts are left out). */
static char *section(const char *key, const char *pin_file, const char *module,
		     const char *cert, const char *chain, const char *hash)
{
	char *a = kv("key", key), *b = kv("pin_file", pin_file),
	     *c = kv("pkcs11_module", module), *d = kv("certificate", cert),
	     *e = kv("chain", chain), *f = kv("hash", hash), *s;

	s = xasprintf("[ca-gnutls]\n%s%s%s%s%s%s", a, b, c, d, e, f);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(f);
	return s;
}

static void expect_refusal(const char *sec, const char *key, const char *text)
{
	struct loaded ld;
	const char *msg;
	char *want;
	int rc;

	rc = load(&ld, sec);
	msg = mssl_error_message(ld.err, MSSL_LANG_EN);
	if (rc != MSSL_ECONFIG)
		fail_msg("expected MSSL_ECONFIG, got %s: %s\n%s",
			 mssl_err_name(rc), msg ? msg : "", sec);
	want = xasprintf("[ca-gnutls] %s:", key);
	if (!msg || !strstr(msg, want) || !strstr(msg, text))
		fail_msg("message does not name %s or lacks \"%s\": %s", key,
			 text, msg ? msg : "(none)");
	print_message("# refused: %s\n", msg);
	free(want);
	assert_null(ld.ctx);
	unload(&ld);
}

static char *token_url(const struct ca *c, const char *object)
{
	return xasprintf("pkcs11:token=test-%s;object=%s;type=private",
			 c->key_type, object);
}

static void test_bad_config(void **state)
{
	const struct ca *rsa2k = &cas[0], *rsa3k = &cas[1], *p256 = &cas[2],
			*p384 = &cas[3], *tok = &cas[6];
	char *s, *key, *cert, *chain, *pin, *url, *bad, *copy;

	(void)state;

	/* The key of another CA of the same algorithm. */
	key = at(rsa2k, "issuing-key.pem");
	cert = at(rsa3k, "issuing.pem");
	chain = at(rsa3k, "chain.pem");
	s = section(key, NULL, NULL, cert, chain, NULL);
	expect_refusal(s, "key", "does not belong to the certificate");
	free(s);
	free(key);

	/* The key of another algorithm. */
	key = at(p256, "issuing-key.pem");
	s = section(key, NULL, NULL, cert, chain, NULL);
	expect_refusal(s, "key", "does not belong to the certificate");
	free(s);
	free(key);
	free(cert);
	free(chain);

	/* A certificate that is no CA (with its own key, self-signed). */
	s = section(nonca_key, NULL, NULL, nonca_cert, NULL, NULL);
	expect_refusal(s, "certificate", "is not a CA certificate");
	free(s);

	/* An issuing CA without the chain it needs. */
	key = at(p256, "issuing-key.pem");
	cert = at(p256, "issuing.pem");
	s = section(key, NULL, NULL, cert, NULL, NULL);
	expect_refusal(s, "certificate", "is not self-signed");
	free(s);

	/* A chain that leads elsewhere. */
	chain = at(p384, "chain.pem");
	s = section(key, NULL, NULL, cert, chain, NULL);
	expect_refusal(s, "chain", "does not verify");
	free(s);
	free(chain);

	/* A missing key file. */
	chain = at(p256, "chain.pem");
	s = section("/nonexistent/issuing-key.pem", NULL, NULL, cert, chain,
		    NULL);
	expect_refusal(s, "key", "cannot open /nonexistent/issuing-key.pem");
	free(s);

	/* A key file others may read. */
	copy = xasprintf("%s/loose-key.pem", top);
	assert_int_equal(th_system("cp '%s' '%s' && chmod 640 '%s'", key, copy,
				   copy),
			 0);
	s = section(copy, NULL, NULL, cert, chain, NULL);
	expect_refusal(s, "key", "group or others may access it");
	free(s);
	free(copy);

	/* A relative path; an unknown hash; a hash that does not fit. */
	s = section("issuing-key.pem", NULL, NULL, cert, chain, NULL);
	expect_refusal(s, "key", "must be an absolute path");
	free(s);
	s = section(key, NULL, NULL, cert, chain, "md5");
	expect_refusal(s, "hash", "is not a hash");
	free(s);
	free(key);
	free(cert);
	free(chain);
	key = at(p384, "issuing-key.pem");
	cert = at(p384, "issuing.pem");
	chain = at(p384, "chain.pem");
	s = section(key, NULL, NULL, cert, chain, "sha256");
	expect_refusal(s, "hash", "signs with SHA384");
	free(s);
	free(key);
	free(cert);
	free(chain);

	/* Nothing to sign with; nothing to sign as. */
	cert = at(p256, "issuing.pem");
	s = section(NULL, NULL, NULL, cert, NULL, NULL);
	expect_refusal(s, "key", "is required");
	free(s);
	free(cert);
	key = at(p256, "issuing-key.pem");
	s = section(key, NULL, NULL, NULL, NULL, NULL);
	expect_refusal(s, "certificate", "is required");
	free(s);
	free(key);

	/* Token: a PIN file others may read, a wrong PIN, no PIN, an
	 * object that is not there. */
	url = token_url(tok, "issuing-ca");
	cert = at(tok, "issuing.pem");
	chain = at(tok, "chain.pem");
	pin = at(tok, "token.pin");
	copy = xasprintf("%s/loose.pin", top);
	assert_int_equal(th_system("cp '%s' '%s' && chmod 644 '%s'", pin, copy,
				   copy),
			 0);
	s = section(url, copy, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "pin_file", "group or others may access it");
	free(s);
	free(copy);

	bad = th_write_file(top, "wrong.pin", "00000000wrong\n");
	assert_int_equal(chmod(bad, 0600), 0);
	s = section(url, bad, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "pin_file", "refused the PIN");
	free(s);
	free(bad);

	s = section(url, NULL, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "pin_file", "give it in pin_file");
	free(s);

	bad = xasprintf("%s;pin-value=1234", url);
	s = section(bad, pin, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "key", "the URI holds a PIN");
	free(s);
	free(bad);

	bad = token_url(tok, "no-such-key");
	s = section(bad, pin, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "key", "cannot open the CA key");
	free(s);
	free(bad);

	/* The right token key with another CA's certificate. */
	free(cert);
	free(chain);
	cert = at(p256, "issuing.pem");
	chain = at(p256, "chain.pem");
	s = section(url, pin, SOFTHSM_MODULE, cert, chain, NULL);
	expect_refusal(s, "key", "does not belong to the certificate");
	free(s);

	/* A module that is not there. */
	s = section(url, pin, "/nonexistent/libpkcs11.so", cert, chain, NULL);
	expect_refusal(s, "pkcs11_module", "cannot load PKCS#11 module");
	free(s);

	free(url);
	free(cert);
	free(chain);
	free(pin);
}

/* A key the plugin does not declare is refused by the host before init. */
static void test_unknown_key(void **state)
{
	struct loaded ld;
	char *s;

	(void)state;
	s = xasprintf("%spin = 1234\n", cas[2].section);
	assert_int_equal(load(&ld, s), MSSL_ECONFIG);
	assert_non_null(
		strstr(mssl_error_message(ld.err, MSSL_LANG_EN), "pin"));
	unload(&ld);
	free(s);
}

int main(void)
{
#define PER_CA(i, name)                                                        \
	{ "issue " name, test_issue, NULL, NULL, &cas[i] },                    \
	{                                                                      \
		"crl " name, test_crl, NULL, NULL, &cas[i]                     \
	}
	const struct CMUnitTest tests[] = {
		PER_CA(0, "rsa-2048 file"),
		PER_CA(1, "rsa-3072 file"),
		PER_CA(2, "ecdsa-p256 file"),
		PER_CA(3, "ecdsa-p384 file"),
		PER_CA(4, "rsa-2048 token"),
		PER_CA(5, "rsa-3072 token"),
		PER_CA(6, "ecdsa-p256 token"),
		PER_CA(7, "ecdsa-p384 token"),
		{ "large crl ecdsa-p256 token", test_crl_large, NULL, NULL,
		  &cas[6] },
		{ "threads ecdsa-p256 file", test_threads, NULL, NULL,
		  &cas[2] },
		{ "threads rsa-2048 token", test_threads, NULL, NULL, &cas[4] },
		cmocka_unit_test(test_bad_tbs),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_unknown_key),
	};
#undef PER_CA

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
