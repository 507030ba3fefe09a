/*
 * Issuance end to end: a real CA made by tools/ca-init.sh, the ca-gnutls
 * backend, every validator, a real SQLite store.  Every certificate
 * issued here is checked by certtool and openssl.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "csrgen.h"
#include "ctx.h"
#include "profile.h"
#include "testhelp.h"

#define ACC "70759028-01"
#define OTHER "04595257-01"
#define DAY 86400

struct env {
	char *dir;
	mssl_ctx *ctx;
	mssl_actor *op;
	mssl_error *err;
	int64_t now;
};

static int64_t clock_fn(void *ud)
{
	return ((struct env *)ud)->now;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	if (!fp || !buf)
		fail_msg("cannot read %s", path);
	if (fread(buf, 1, 65535, fp) == 0)
		fail_msg("%s is empty", path);
	fclose(fp);
	return buf;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *src = getenv("MSSL_TEST_SRCDIR");
	mssl_account_spec s = {
		.id = ACC,
		.org_name_en = "Taiwan-CA Inc.",
		.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD,
		.supervisor_name = "Wang",
		.supervisor_email = "wang@twca.com.tw",
	};
	char *cadir = NULL, *caconf, *extra = NULL, *conf;
	int rc;

	e->dir = th_mkdtemp();
	assert_true(asprintf(&cadir, "%s/ca", e->dir) > 0);
	rc = th_system("sh '%s/../tools/ca-init.sh' --dir '%s' --name 'Test CA'"
		       " --key-type ecdsa-p256 >/dev/null 2>&1",
		       src, cadir);
	assert_int_equal(rc, 0);
	/* After the CA exists: its notBefore is the second it was made. */
	e->now = (int64_t)time(NULL) + 1;
	assert_true(asprintf(&conf, "%s/ca-gnutls.conf", cadir) > 0);
	caconf = slurp(conf);
	free(conf);
	assert_true(asprintf(&extra,
			     "\n[issuance]\ncrl_url = http://crl.example.test/ca.crl\n"
			     "ca_issuers_url = http://crl.example.test/ca.crt\n"
			     "%s\n",
			     caconf) > 0);
	conf = th_write_config(e->dir, NULL, extra);
	/* th_write_config wrote [mssl]; add the CA and the validators. */
	assert_int_equal(th_system("sed -i 's/^store = store-sqlite$/store = "
				   "store-sqlite\\nca = ca-gnutls\\nvalidators = "
				   "validate-names, validate-domains, "
				   "validate-org, validate-key/' '%s'",
				   conf),
			 0);
	e->err = mssl_error_new();
	e->op = th_operator();
	rc = mssl_ctx_new(&e->ctx);
	if (rc == 0)
		rc = mssl_ctx_load_config(e->ctx, conf, e->err);
	if (rc == 0) {
		mssl_ctx_set_clock(e->ctx, clock_fn, e);
		rc = mssl_ctx_open(e->ctx, e->err);
	}
	TH_RC(rc, 0, e->err);
	TH_RC(mssl_account_create(e->ctx, e->op, &s, e->err), 0, e->err);
	s.id = OTHER;
	TH_RC(mssl_account_create(e->ctx, e->op, &s, e->err), 0, e->err);
	TH_RC(mssl_domain_add(e->ctx, e->op, ACC, "twca.com.tw", 0, e->err),
	      0, e->err);
	TH_RC(mssl_topup(e->ctx, e->op, ACC, 5, "test", NULL, e->err), 0,
	      e->err);
	free(cadir);
	free(caconf);
	free(extra);
	free(conf);
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

static const struct csrgen www = {
	.key = "ec256",
	.c = "TW",
	.l = "Taipei",
	.o = "Taiwan-CA Inc.",
	.cn = "www.twca.com.tw",
	.dns = { "www.twca.com.tw", "twca.com.tw" },
};

static mssl_csr *make_csr(const struct csrgen *g)
{
	unsigned char *pem = NULL;
	mssl_error *err = mssl_error_new();
	mssl_csr *csr = NULL;
	size_t len;

	assert_true(csrgen_make(g, 1, &pem, &len) >= 0);
	TH_RC(mssl_csr_parse(pem, len, &csr, err), 0, err);
	free(pem);
	mssl_error_free(err);
	return csr;
}

static mssl_issue_params params(int years)
{
	mssl_issue_params p = {
		.product = MSSL_PRODUCT_SSL,
		.years = years,
		.server_vendor = "nginx",
		.passphrase = "correct horse",
		.tech_name = "Lin",
		.tech_email = "it@twca.com.tw",
		.seal_name = "Taiwan-CA",
	};

	return p;
}

static int64_t balance(struct env *e)
{
	mssl_account_info *a = NULL;
	int64_t b;

	TH_RC(mssl_account_get(e->ctx, e->op, ACC, &a, e->err), 0, e->err);
	b = a->balance;
	mssl_account_info_free(a);
	return b;
}

/* certtool and openssl must both accept the certificate for TLS servers. */
static void verify_with_tools(struct env *e, const struct mssl_cert_rec *r)
{
	gnutls_datum_t der = { (unsigned char *)r->der, (unsigned)r->der_len };
	gnutls_datum_t pem = { NULL, 0 };
	char *path = NULL;
	FILE *fp;

	assert_int_equal(gnutls_pem_base64_encode2("CERTIFICATE", &der, &pem),
			 0);
	assert_true(asprintf(&path, "%s/%s.pem", e->dir, r->serial) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fwrite(pem.data, 1, pem.size, fp);
	fclose(fp);
	assert_int_equal(th_system("cat '%s' '%s/ca/issuing.pem' >'%s.chain' && "
				   "certtool --verify --load-ca-certificate "
				   "'%s/ca/root.pem' --infile '%s.chain' "
				   ">/dev/null 2>&1",
				   path, e->dir, path, e->dir, path),
			 0);
	assert_int_equal(th_system("openssl verify -purpose sslserver -CAfile "
				   "'%s/ca/root.pem' -untrusted "
				   "'%s/ca/issuing.pem' '%s' >/dev/null 2>&1",
				   e->dir, e->dir, path),
			 0);
	gnutls_free(pem.data);
	free(path);
}

static void test_issue_verified(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = params(1);
	mssl_csr *csr = make_csr(&www);
	const struct mssl_cert_rec *r;
	mssl_cert *cert = NULL;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	char name[256];
	size_t n = sizeof(name);
	unsigned type;

	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err), 0,
	      e->err);
	r = mssl_cert_record(cert);
	assert_string_equal(r->state, "issued");
	assert_string_equal(r->cn, "www.twca.com.tw");
	assert_int_equal(r->years, 1);
	assert_int_equal(balance(e), 4);
	assert_true(r->not_before <= e->now && r->not_before > e->now - 3600);
	/* CA/B Forum: at most 200 days for certificates issued now. */
	assert_true(r->not_after - r->not_before <= 200 * DAY);
	assert_int_equal(strlen(r->serial), 32);
	assert_non_null(r->passphrase_hash);
	assert_null(strstr(r->passphrase_hash, "correct horse"));
	assert_int_equal(strncmp(r->passphrase_hash, "pbkdf2-sha256$", 14), 0);
	verify_with_tools(e, r);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	d.data = (unsigned char *)r->der;
	d.size = (unsigned)r->der_len;
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name2(crt, 0, name,
							       &n, &type, NULL),
			 GNUTLS_SAN_DNSNAME);
	assert_string_equal(name, "www.twca.com.tw");
	gnutls_x509_crt_deinit(crt);
	mssl_cert_free(cert);
	mssl_csr_free(csr);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
}

/* Reissuing inside the paid term is free; a renewal extends the term. */
static void test_terms(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = params(2);
	mssl_csr *csr = make_csr(&www);
	mssl_cert *a = NULL, *b = NULL, *c = NULL;
	char serial[41];
	int64_t first_after;

	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &a, NULL, e->err), 0,
	      e->err);
	assert_int_equal(balance(e), 3);
	first_after = mssl_cert_record(a)->not_after;
	snprintf(serial, sizeof(serial), "%s", mssl_cert_record(a)->serial);
	/* The same CN again a month later: inside the term, no charge. */
	e->now += 30 * DAY;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &b, NULL, e->err), 0,
	      e->err);
	assert_int_equal(mssl_cert_record(b)->years, 0);
	assert_int_equal(balance(e), 3);
	assert_true(mssl_cert_record(b)->not_after > first_after);
	/* Past the two paid years a renewal charges again. */
	e->now += 2 * 366 * DAY;
	p.renewal_of = mssl_cert_record(b)->serial;
	p.years = 1;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &c, NULL, e->err), 0,
	      e->err);
	assert_int_equal(mssl_cert_record(c)->years, 1);
	assert_int_equal(balance(e), 2);
	assert_string_equal(mssl_cert_record(c)->renewal_of,
			    mssl_cert_record(b)->serial);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_cert_free(c);
	mssl_csr_free(csr);
}

static void test_refusals_write_nothing(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = params(1);
	struct csrgen bad = www;
	mssl_csr *csr = make_csr(&www), *badcsr;
	mssl_actor *aud = th_auditor(ACC), *mgr_other = th_manager(OTHER);
	mssl_report *report = NULL;
	mssl_cert *cert = NULL;

	/* Not enough cert-years. */
	p.years = 3;
	TH_RC(mssl_topup(e->ctx, e->op, OTHER, 2, NULL, NULL, e->err), 0,
	      e->err);
	TH_RC(mssl_domain_add(e->ctx, e->op, OTHER, "twca.com.tw",
			      MSSL_DOMAIN_FORCE, e->err),
	      0, e->err);
	TH_RC(mssl_issue(e->ctx, e->op, OTHER, csr, &p, &cert, NULL, e->err),
	      MSSL_EBALANCE, e->err);
	assert_null(cert);
	/* Bad options name their field. */
	p = params(1);
	p.server_vendor = "Netscape";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "server_vendor");
	p = params(9);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "years");
	p = params(1);
	p.passphrase = "short";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "passphrase");
	p = params(1);
	p.tech_email = "not an address";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "tech_email");
	p = params(1);
	p.seal_name = NULL;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "seal_name");
	/* A request that fails validation: every finding, no charge. */
	bad.o = "Someone Else Ltd.";
	bad.dns[0] = "www.level2.twca.com.tw";
	badcsr = make_csr(&bad);
	p = params(1);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, badcsr, &p, &cert, &report,
			 e->err),
	      MSSL_EREJECTED, e->err);
	assert_non_null(report);
	assert_true(mssl_report_n_findings(report) >= 2);
	mssl_report_free(report);
	/* Roles. */
	TH_RC(mssl_issue(e->ctx, aud, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EPERM, e->err);
	TH_RC(mssl_issue(e->ctx, mgr_other, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EPERM, e->err);
	assert_int_equal(balance(e), 5);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	mssl_actor_free(aud);
	mssl_actor_free(mgr_other);
	mssl_csr_free(csr);
	mssl_csr_free(badcsr);
}

static void test_idempotency(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = params(1);
	mssl_csr *csr = make_csr(&www);
	mssl_cert *a = NULL, *b = NULL;

	p.idempotency_key = "order-4711";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &a, NULL, e->err), 0,
	      e->err);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &b, NULL, e->err), 0,
	      e->err);
	assert_string_equal(mssl_cert_record(a)->serial,
			    mssl_cert_record(b)->serial);
	assert_int_equal(balance(e), 4);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_csr_free(csr);
}

/* A process that died between recording and storing leaves a pending
 * certificate and its charge: settled as failed and refunded. */
static void test_resolve_pending(void **state)
{
	struct env *e = *state;
	const struct mssl_store_ops *ops;
	void *st, *conn;
	struct mssl_cert_rec c = {
		.serial = "0badc0de0badc0de",
		.account_id = ACC,
		.cn = "www.twca.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.years = 2,
		.revoke_reason = -1,
	};
	struct mssl_ledger_rec l = {
		.account_id = ACC,
		.kind = MSSL_LEDGER_CHARGE,
		.delta = -2,
		.balance_after = 3,
		.actor = "manager:" ACC ":x",
		.cert_serial = "0badc0de0badc0de",
	};
	int64_t n = 0, id;

	c.created = e->now;
	l.time = e->now;
	assert_int_equal(mssl__ctx_store(e->ctx, &ops, &st), 0);
	assert_int_equal(ops->open(st, &conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &c), 0);
	assert_int_equal(ops->ledger_insert(conn, &l, &id), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	assert_int_equal(balance(e), 3);
	/* Too young: it may be an issuance still under way. */
	TH_RC(mssl_cert_resolve_pending(e->ctx, e->op, &n, e->err), 0, e->err);
	assert_int_equal(n, 0);
	e->now += 3600;
	TH_RC(mssl_cert_resolve_pending(e->ctx, e->op, &n, e->err), 0, e->err);
	assert_int_equal(n, 1);
	assert_int_equal(balance(e), 5);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
}

/* Many parallel requests against a small balance: exactly that many win. */
struct racer {
	struct env *e;
	mssl_csr *csr;
	int rc;
};

static void *race(void *ud)
{
	struct racer *r = ud;
	mssl_issue_params p = params(1);
	mssl_error *err = mssl_error_new();
	mssl_actor *mgr = th_manager(ACC);
	mssl_cert *cert = NULL;

	r->rc = mssl_issue(r->e->ctx, mgr, ACC, r->csr, &p, &cert, NULL, err);
	mssl_cert_free(cert);
	mssl_actor_free(mgr);
	mssl_error_free(err);
	return NULL;
}

static void test_concurrent_balance(void **state)
{
	struct env *e = *state;
	enum { N = 16 };
	struct racer r[N];
	pthread_t t[N];
	char cn[N][64];
	int i, ok = 0, broke = 0;

	for (i = 0; i < N; i++) {
		struct csrgen g = www;

		snprintf(cn[i], sizeof(cn[i]), "h%d.twca.com.tw", i);
		g.cn = cn[i];
		g.dns[0] = cn[i];
		g.dns[1] = NULL;
		r[i].e = e;
		r[i].csr = make_csr(&g);
	}
	for (i = 0; i < N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].rc == 0;
		broke += r[i].rc == MSSL_EBALANCE;
		mssl_csr_free(r[i].csr);
	}
	assert_int_equal(ok, 5);
	assert_int_equal(broke, N - 5);
	assert_int_equal(balance(e), 0);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
}

static void test_cabf_schedule(void **state)
{
	assert_int_equal(mssl__cabf_max_validity(1773532799), 398 * DAY);
	assert_int_equal(mssl__cabf_max_validity(1773532800), 200 * DAY);
	assert_int_equal(mssl__cabf_max_validity(1805068799), 200 * DAY);
	assert_int_equal(mssl__cabf_max_validity(1805068800), 100 * DAY);
	assert_int_equal(mssl__cabf_max_validity(1868227199), 100 * DAY);
	assert_int_equal(mssl__cabf_max_validity(1868227200), 47 * DAY);
}

/* A malformed policy OID would be written into every certificate. */
static void test_policy_oids_checked(void **state)
{
	static const char *const bad[] = { "1..2", "1.2.", ".1.2", "3.1",
					   "1", "1.02.3", "1.2.x" };
	char *dir = th_mkdtemp(), *extra = NULL, *conf;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(asprintf(&extra, "[issuance]\npolicy_oids = %s\n",
				     bad[i]) > 0);
		conf = th_write_config(dir, NULL, extra);
		TH_RC(mssl_ctx_open_file(conf, &ctx, err), MSSL_ECONFIG, err);
		assert_string_equal(mssl_error_field(err), "policy_oids");
		free(extra);
		free(conf);
	}
	assert_true(asprintf(&extra, "[issuance]\npolicy_oids = "
				     "1.3.6.1.4.1.12345.1, 2.23.140.1.2.2\n") > 0);
	conf = th_write_config(dir, NULL, extra);
	TH_RC(mssl_ctx_open_file(conf, &ctx, err), 0, err);
	mssl_ctx_free(ctx);
	free(extra);
	free(conf);
	mssl_error_free(err);
	th_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cabf_schedule),
		cmocka_unit_test(test_policy_oids_checked),
		cmocka_unit_test_setup_teardown(test_issue_verified, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_terms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_write_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_balance, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("issue", tests, NULL, NULL);
}
