/*
 * csr-fuzzer: a PKCS#10 request through mssl_csr_parse and, when it parses,
 * the whole validation (mssl_check) of an account, as issuance runs it.
 *
 * The first input byte chooses what is asked for, so that every path is
 * reached; the rest of the input is the request.
 *
 *	byte % 3	the product: 0 ssl, 1 wildcard, 2 ev
 *	byte / 3 % 2	1: renew a certificate that does not exist
 *	byte / 6 % 2	1: re-sign the request with the target's own key
 *
 * so the ASCII digits '0', '1', '2' are the three products, '3' is ssl
 * with renewal, '6', '7', '8' the three products re-signed.
 *
 * Re-signing exists because almost every mutation of a signed request
 * breaks its signature, and mssl_csr_parse refuses it before any
 * validator runs.  When the request (DER or PEM) still imports into
 * GnuTLS, the target replaces its key with a P-256 key made at start-up
 * and signs it again, so that mutated subjects and SANs reach the
 * validators; when it does not import, the input goes to mssl_csr_parse
 * unchanged.
 *
 * The context is opened once, on the first call, from a configuration in a
 * temporary directory: the build tree's plugin directory
 * ($MSSL_PLUGIN_BUILDDIR, else the one compiled in), a SQLite store with
 * synchronous = off (each mssl_check commits an audit record) and every
 * validator of the list below whose plugin is built.  The account bought
 * every product and agreed the domains the seed corpus uses.
 *
 * Besides crashes and sanitizer reports, the target aborts when the
 * library breaks its documented contract: an error code other than those
 * mssl.h lists, an error detail that does not match the code returned, a
 * report missing or disagreeing with the return value, a verdict count
 * other than the request's name count.
 *
 * With MSSL_FUZZ_VERBOSE set in the environment, each input's outcome is
 * printed as a TAP comment ("# parse: csr.truncated", "# check: rejected:
 * name.underscore ..."), to see which paths the seeds reach.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "mssl/mssl.h"

#ifndef FUZZ_PLUGIN_DIR
#define FUZZ_PLUGIN_DIR NULL
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ACCOUNT_ID "70759028-01"
#define ORG_NAME "Fuzz Co., Ltd."

static const char *const validators[] = {
	"validate-names", "validate-domains", "validate-org",
	"validate-key",	  "validate-ev",
};

/* Agreed domains; the seeds name hosts under them. */
static const char *const agreed[] = {
	"example.com.tw",
	"twca.com.tw",
	"mis.twca.com.tw",
	"example.com",
};

static const uint32_t products[] = { MSSL_PRODUCT_SSL, MSSL_PRODUCT_WILDCARD,
				     MSSL_PRODUCT_EV };

static struct {
	int state; /* 0 not yet, 1 open, -1 failed */
	int verbose;
	char dir[64];
	char conf[128];
	mssl_ctx *ctx;
	mssl_actor *op;
	gnutls_x509_privkey_t key; /* for re-signing */
} fz;

static void quiet_log(void *ud, int level, const char *msg)
{
}

static void fail(const char *what, int rc, const mssl_error *err)
{
	fprintf(stderr, "csr-fuzzer: %s: %s (%s): %s\n", what,
		mssl_err_name(rc), err ? mssl_error_id(err) : "",
		err ? mssl_error_message(err, MSSL_LANG_EN) : "");
	abort();
}

static void cleanup(void)
{
	static const char *const files[] = { "mssl.conf", "fuzz.db",
					     "fuzz.db-wal", "fuzz.db-shm" };
	char path[128];
	size_t i;

	mssl_ctx_free(fz.ctx);
	mssl_actor_free(fz.op);
	if (fz.key)
		gnutls_x509_privkey_deinit(fz.key);
	fz.ctx = NULL;
	fz.op = NULL;
	fz.key = NULL;
	if (!fz.dir[0])
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz.dir, files[i]);
		unlink(path);
	}
	rmdir(fz.dir);
}

/* The [mssl] validators value: those of the list whose plugin is built. */
static void validator_list(const char *plugins, char *out, size_t size)
{
	char path[1024];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(validators) / sizeof(validators[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.so", plugins,
			 validators[i]);
		if (access(path, R_OK) != 0)
			continue;
		len += (size_t)snprintf(out + len, size - len, "%s%s",
					len ? ", " : "", validators[i]);
		if (len >= size)
			break;
	}
}

static int write_config(const char *plugins)
{
	char list[256];
	FILE *fp;
	int ok;

	validator_list(plugins, list, sizeof(list));
	snprintf(fz.conf, sizeof(fz.conf), "%s/mssl.conf", fz.dir);
	fp = fopen(fz.conf, "w");
	if (!fp)
		return -1;
	ok = fprintf(fp,
		     "[mssl]\nplugin_dir = %s\nvalidators = %s\n"
		     "log_level = error\n"
		     "[store-sqlite]\npath = %s/fuzz.db\nsynchronous = off\n",
		     plugins, list, fz.dir) > 0;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

static void setup(void)
{
	mssl_account_spec spec = {
		.id = ACCOUNT_ID,
		.org_name_en = ORG_NAME,
		.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD |
			    MSSL_PRODUCT_EV,
		.ev_country = "TW",
		.ev_state = "Taipei City",
		.ev_locality = "Taipei",
		.ev_category = MSSL_EV_PRIVATE,
		.supervisor_name = "Fuzz",
		.supervisor_email = "fuzz@example.com.tw",
	};
	const char *plugins = getenv("MSSL_PLUGIN_BUILDDIR");
	const char *tmp = getenv("TMPDIR");
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	size_t i;
	int rc;

	fz.state = -1;
	fz.verbose = getenv("MSSL_FUZZ_VERBOSE") != NULL;
	if (!plugins || !*plugins)
		plugins = FUZZ_PLUGIN_DIR;
	if (!plugins || !err) {
		fprintf(stderr, "csr-fuzzer: set MSSL_PLUGIN_BUILDDIR to the "
				"build tree's plugins/.build\n");
		abort();
	}
	if (!tmp || !*tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(fz.dir, sizeof(fz.dir), "%s/mssl-fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz.dir)) {
		perror(fz.dir);
		abort();
	}
	atexit(cleanup);
	if (write_config(plugins) < 0) {
		perror(fz.conf);
		abort();
	}
	rc = mssl_ctx_new(&ctx);
	if (rc < 0)
		fail("context", rc, NULL);
	mssl_ctx_set_log(ctx, quiet_log, NULL);
	if ((rc = mssl_ctx_load_config(ctx, fz.conf, err)) < 0 ||
	    (rc = mssl_ctx_open(ctx, err)) < 0) {
		mssl_ctx_free(ctx);
		fail("open", rc, err);
	}
	fz.ctx = ctx;
	fz.op = mssl_actor_new(MSSL_ROLE_OPERATOR, "fuzz", NULL, "local:fuzz");
	if (!fz.op)
		fail("actor", MSSL_ENOMEM, NULL);
	rc = mssl_account_create(ctx, fz.op, &spec, err);
	if (rc < 0)
		fail("account create", rc, err);
	for (i = 0; i < sizeof(agreed) / sizeof(agreed[0]); i++) {
		rc = mssl_domain_add(ctx, fz.op, ACCOUNT_ID, agreed[i], 0, err);
		if (rc < 0)
			fail(agreed[i], rc, err);
	}
	mssl_error_free(err);
	if ((rc = gnutls_x509_privkey_init(&fz.key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(
		     fz.key, GNUTLS_PK_ECDSA,
		     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) <
		    0) {
		fprintf(stderr, "csr-fuzzer: key: %s\n", gnutls_strerror(rc));
		abort();
	}
	fz.state = 1;
}

/*
 * The request in data re-signed with fz.key, as DER in *out (free with
 * gnutls_free); -1 when GnuTLS cannot import or sign it.
 */
static int resign(const uint8_t *data, size_t size, gnutls_datum_t *out)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)size };
	gnutls_x509_crq_t crq = NULL;
	int r;

	out->data = NULL;
	out->size = 0;
	if (size > MSSL_CSR_MAX_SIZE || gnutls_x509_crq_init(&crq) < 0)
		return -1;
	r = gnutls_x509_crq_import(crq, &in, GNUTLS_X509_FMT_DER);
	if (r < 0)
		r = gnutls_x509_crq_import(crq, &in, GNUTLS_X509_FMT_PEM);
	if (r >= 0)
		r = gnutls_x509_crq_set_key(crq, fz.key);
	if (r >= 0)
		r = gnutls_x509_crq_sign2(crq, fz.key, GNUTLS_DIG_SHA256, 0);
	if (r >= 0)
		r = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, out);
	gnutls_x509_crq_deinit(crq);
	if (r < 0) {
		gnutls_free(out->data);
		out->data = NULL;
		return -1;
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fz.state == 0)
		setup();
	return 0;
}

/* Read every byte of a string the library returned, for the sanitizers. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void walk_csr(const struct mssl_csr_info *ci)
{
	const struct mssl_subject_info *s = &ci->subject;
	const struct mssl_key_info *k = &ci->key;
	volatile size_t sum = 0;
	size_t i;

	sum += touch(s->c) + touch(s->st) + touch(s->l) + touch(s->o);
	sum += touch(s->ou) + touch(s->cn) + touch(s->serial_number);
	sum += touch(s->business_category) + touch(s->jur_c);
	sum += touch(s->jur_st) + touch(s->jur_l) + touch(s->dn);
	sum += touch(s->repeated) + touch(k->alg_name) + touch(k->ec_curve);
	for (i = 0; i < ci->n_sans; i++)
		sum += touch(ci->sans[i].value);
	for (i = 0; i < ci->n_names; i++)
		sum += touch(ci->names[i]);
	for (i = 0; i < k->rsa_n_len; i++)
		sum += k->rsa_n[i];
	for (i = 0; i < k->rsa_e_len; i++)
		sum += k->rsa_e[i];
	for (i = 0; k->ec_x && k->ec_y && i < k->ec_len; i++)
		sum += k->ec_x[i] + k->ec_y[i];
	(void)sum;
}

static void walk_report(const mssl_report *r, const struct mssl_csr_info *ci,
			int rc)
{
	volatile size_t sum = 0;
	size_t i, n;

	if (!r)
		fail("check returned no report", rc, NULL);
	if (mssl_report_issuable(r) != (rc == 0))
		fail("report disagrees with the return value", rc, NULL);
	n = mssl_report_n_findings(r);
	for (i = 0; i < n; i++) {
		const mssl_finding *f = mssl_report_finding(r, i);

		if (!f || !f->code || !f->message_en || !f->message_zh ||
		    !f->source)
			fail("incomplete finding", rc, NULL);
		sum += touch(f->code) + touch(f->field) + touch(f->value);
		sum += touch(f->message_en) + touch(f->message_zh);
		sum += touch(f->source) + (size_t)f->severity;
	}
	n = mssl_report_n_verdicts(r);
	if (n != ci->n_names)
		fail("verdict count differs from the name count", rc, NULL);
	for (i = 0; i < n; i++) {
		const mssl_verdict *v = mssl_report_verdict(r, i);

		if (!v || !v->name || strcmp(v->name, ci->names[i]) != 0)
			fail("verdict out of the request's order", rc, NULL);
		sum += touch(v->rule_en) + touch(v->rule_zh);
		sum += (size_t)v->accepted;
	}
	(void)sum;
}

static void say(const char *what, int rc, const mssl_error *err,
		const mssl_report *r)
{
	size_t i;

	if (!fz.verbose)
		return;
	printf("# %s: %s", what, rc == 0 ? "ok" : mssl_error_id(err));
	for (i = 0; r && i < mssl_report_n_findings(r); i++)
		printf(" %s", mssl_report_finding(r, i)->code);
	printf("\n");
}

/* A failure's detail must match its code and say something. */
static void check_error(const char *what, int rc, const mssl_error *err)
{
	if (mssl_error_code(err) != rc || !*mssl_error_id(err) ||
	    !*mssl_error_message(err, MSSL_LANG_EN) ||
	    !*mssl_error_message(err, MSSL_LANG_ZH_TW))
		fail(what, rc, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mssl_check_params params = { 0 };
	gnutls_datum_t der = { NULL, 0 };
	const struct mssl_csr_info *ci;
	mssl_report *report = NULL;
	mssl_error *err;
	mssl_csr *csr = NULL;
	int rc;

	if (fz.state == 0)
		setup();
	if (size < 1)
		return 0;
	err = mssl_error_new();
	if (!err)
		return 0;
	params.product = products[data[0] % 3];
	params.renewal_of = (data[0] / 3) % 2 ? "0a1b2c3d4e5f" : NULL;
	if ((data[0] / 6) % 2 && resign(data + 1, size - 1, &der) == 0)
		rc = mssl_csr_parse(der.data, der.size, &csr, err);
	else
		rc = mssl_csr_parse(data + 1, size - 1, &csr, err);
	if (rc < 0) {
		if (rc != MSSL_EINPUT && rc != MSSL_ENOMEM)
			fail("parse: undocumented code", rc, err);
		if (csr)
			fail("parse failed but returned a request", rc, err);
		check_error("parse: bad error detail", rc, err);
		say("parse", rc, err, NULL);
		goto out;
	}
	ci = mssl_csr_info(csr);
	if (!ci)
		fail("parse: no info", rc, err);
	walk_csr(ci);
	rc = mssl_check(fz.ctx, fz.op, ACCOUNT_ID, csr, &params, &report, err);
	if (rc < 0 && rc != MSSL_EREJECTED) {
		/* Refusing a request is a finding, never a failure. */
		if (rc != MSSL_ENOMEM)
			fail("check: unexpected failure", rc, err);
		goto out;
	}
	walk_report(report, ci, rc);
	if (rc == MSSL_EREJECTED)
		check_error("check: bad error detail", rc, err);
	say("check", rc, err, report);
out:
	mssl_report_free(report);
	mssl_csr_free(csr);
	mssl_error_free(err);
	gnutls_free(der.data);
	return 0;
}
