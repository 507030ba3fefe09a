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

#include "cafix.h"
#include "ctx.h"
#include "op.h"
#include "profile.h"


static int setup(void **state)
{
	return cafix_setup(state, NULL);
}

static int teardown(void **state)
{
	return cafix_teardown(state);
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
	mssl_issue_params p = cafix_params(1);
	mssl_csr *csr = cafix_csr(&cafix_www);
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
	assert_int_equal(cafix_balance(e), 4);
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
	mssl_issue_params p = cafix_params(2);
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = NULL, *b = NULL, *c = NULL;
	char serial[41];
	int64_t first_after;

	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &a, NULL, e->err), 0,
	      e->err);
	assert_int_equal(cafix_balance(e), 3);
	first_after = mssl_cert_record(a)->not_after;
	snprintf(serial, sizeof(serial), "%s", mssl_cert_record(a)->serial);
	/* The same CN again a month later: inside the term, no charge. */
	e->now += 30 * DAY;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &b, NULL, e->err), 0,
	      e->err);
	assert_int_equal(mssl_cert_record(b)->years, 0);
	assert_int_equal(cafix_balance(e), 3);
	assert_true(mssl_cert_record(b)->not_after > first_after);
	/* Past the two paid years a renewal charges again. */
	e->now += 2 * 366 * DAY;
	p.renewal_of = mssl_cert_record(b)->serial;
	p.years = 1;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &c, NULL, e->err), 0,
	      e->err);
	assert_int_equal(mssl_cert_record(c)->years, 1);
	assert_int_equal(cafix_balance(e), 2);
	assert_string_equal(mssl_cert_record(c)->renewal_of,
			    mssl_cert_record(b)->serial);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_cert_free(c);
	mssl_csr_free(csr);
}

/* The dry run's quote for 'years' of csr (renewing 'renewal_of'). */
static void quote(struct env *e, mssl_csr *csr, const char *renewal_of,
		  int years, int *price, int64_t *nb, int64_t *na,
		  int64_t *until)
{
	mssl_check_params cp = { MSSL_PRODUCT_SSL, renewal_of };
	mssl_report *rep = NULL;

	TH_RC(mssl_check(e->ctx, e->op, ACC, csr, &cp, &rep, e->err), 0,
	      e->err);
	TH_RC(mssl_report_quote(rep, years, price, nb, na, until, e->err), 0,
	      e->err);
	mssl_report_free(rep);
}

/* Issue and compare with the quote the dry run gave just before. */
static mssl_cert *issue_as_quoted(struct env *e, mssl_csr *csr,
				  mssl_issue_params *p, int want_price)
{
	const struct mssl_cert_rec *r;
	mssl_cert *cert = NULL;
	int64_t nb, na, until, before = cafix_balance(e);
	int price = -1;

	quote(e, csr, p->renewal_of, p->years, &price, &nb, &na, &until);
	assert_int_equal(price, want_price);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, p, &cert, NULL, e->err), 0,
	      e->err);
	r = mssl_cert_record(cert);
	assert_int_equal(r->years, price);
	assert_int_equal(cafix_balance(e), before - price);
	assert_int_equal(r->not_before, nb);
	assert_int_equal(r->not_after, na);
	assert_true(na <= until);
	return cert;
}

/*
 * The dry run quotes exactly what issuance then charges and gives: a new
 * CN, a reissue inside the term, a renewal, and a private policy whose
 * longest validity exceeds the term; wrong years and a report with no
 * quote are refused.
 */
static void test_quote(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = cafix_params(2);
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_check_params cp = { MSSL_PRODUCT_SSL, NULL };
	mssl_report *rep = NULL;
	mssl_cert *a, *b, *c, *d;
	int64_t nb, na, until, max = mssl__cabf_max_validity(e->now);
	int price;

	/* A new CN for 2 years: 2 cert-years, one certificate's maximum. */
	quote(e, csr, NULL, 2, &price, &nb, &na, &until);
	assert_int_equal(price, 2);
	assert_int_equal(nb, e->now - 60);
	assert_int_equal(na, nb + max);
	assert_true(until > e->now + 2 * 365 * DAY - DAY &&
		    until < e->now + 2 * 366 * DAY + DAY);
	/* Quoting changes nothing. */
	assert_int_equal(cafix_balance(e), 5);
	a = issue_as_quoted(e, csr, &p, 2);
	/* A month on, a reissue inside the term is free. */
	e->now += 30 * DAY;
	b = issue_as_quoted(e, csr, &p, 0);
	/* Past the term, a renewal charges its years again. */
	e->now += 2 * 366 * DAY;
	p.renewal_of = mssl_cert_record(b)->serial;
	p.years = 1;
	c = issue_as_quoted(e, csr, &p, 1);
	/* A private CA allowing 3 years: the certificate covers the term. */
	e->now += 2 * 366 * DAY;
	e->ctx->policy.max_validity = 3 * 366 * DAY;
	p.renewal_of = NULL;
	quote(e, csr, NULL, 1, &price, &nb, &na, &until);
	assert_int_equal(price, 1);
	assert_int_equal(na, until);
	assert_true(na - nb < 367 * DAY);
	d = issue_as_quoted(e, csr, &p, 1);
	/* Years outside 1..max_years name the field. */
	TH_RC(mssl_check(e->ctx, e->op, ACC, csr, &cp, &rep, e->err), 0,
	      e->err);
	assert_int_equal(mssl_report_quote(rep, 0, &price, NULL, NULL, NULL,
					   e->err),
			 MSSL_EINPUT);
	assert_string_equal(mssl_error_field(e->err), "years");
	assert_int_equal(mssl_report_quote(rep, e->ctx->policy.max_years + 1,
					   &price, NULL, NULL, NULL, e->err),
			 MSSL_EINPUT);
	assert_int_equal(mssl_report_quote(rep, 1, NULL, NULL, NULL, NULL,
					   e->err),
			 0);
	mssl_report_free(rep);
	assert_int_equal(mssl_report_quote(NULL, 1, &price, NULL, NULL, NULL,
					   e->err),
			 MSSL_ESTATE);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_cert_free(c);
	mssl_cert_free(d);
	mssl_csr_free(csr);
}

static void test_refusals_write_nothing(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = cafix_params(1);
	struct csrgen bad = cafix_www;
	mssl_csr *csr = cafix_csr(&cafix_www), *badcsr;
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
	p = cafix_params(1);
	p.server_vendor = "Netscape";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "server_vendor");
	p = cafix_params(9);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "years");
	p = cafix_params(1);
	p.passphrase = "short";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "passphrase");
	p = cafix_params(1);
	p.tech_email = "not an address";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "tech_email");
	p = cafix_params(1);
	p.seal_name = NULL;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "seal_name");
	/* A request that fails validation: every finding, no charge. */
	bad.o = "Someone Else Ltd.";
	bad.dns[0] = "www.level2.twca.com.tw";
	badcsr = cafix_csr(&bad);
	p = cafix_params(1);
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
	assert_int_equal(cafix_balance(e), 5);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	mssl_actor_free(aud);
	mssl_actor_free(mgr_other);
	mssl_csr_free(csr);
	mssl_csr_free(badcsr);
}

static void test_idempotency(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = cafix_params(1);
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = NULL, *b = NULL;

	p.idempotency_key = "order-4711";
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &a, NULL, e->err), 0,
	      e->err);
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &b, NULL, e->err), 0,
	      e->err);
	assert_string_equal(mssl_cert_record(a)->serial,
			    mssl_cert_record(b)->serial);
	assert_int_equal(cafix_balance(e), 4);
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
	assert_int_equal(cafix_balance(e), 3);
	/* Too young: it may be an issuance still under way. */
	TH_RC(mssl_cert_resolve_pending(e->ctx, e->op, &n, e->err), 0, e->err);
	assert_int_equal(n, 0);
	e->now += 3600;
	TH_RC(mssl_cert_resolve_pending(e->ctx, e->op, &n, e->err), 0, e->err);
	assert_int_equal(n, 1);
	assert_int_equal(cafix_balance(e), 5);
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
	mssl_issue_params p = cafix_params(1);
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
	enum { N = 64 };
	struct racer r[N];
	pthread_t t[N];
	char cn[N][64];
	int i, ok = 0, broke = 0;

	for (i = 0; i < N; i++) {
		struct csrgen g = cafix_www;

		snprintf(cn[i], sizeof(cn[i]), "h%d.twca.com.tw", i);
		g.cn = cn[i];
		g.dns[0] = cn[i];
		g.dns[1] = NULL;
		r[i].e = e;
		r[i].csr = cafix_csr(&g);
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
	assert_int_equal(cafix_balance(e), 0);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
}

static int count_cert(void *ud, const struct mssl_cert_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

/* The renew screen offers certificates within 30 days of expiry. */
static void test_renewal_list(void **state)
{
	struct env *e = *state;
	mssl_issue_params p = cafix_params(1);
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_actor *aud = th_auditor(ACC);
	mssl_cert *cert = NULL;
	int64_t na;
	int n = 0;

	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &cert, NULL, e->err), 0,
	      e->err);
	na = mssl_cert_record(cert)->not_after;
	TH_RC(mssl_renewal_list(e->ctx, e->op, ACC, count_cert, &n, e->err), 0,
	      e->err);
	assert_int_equal(n, 0);
	e->now = na - 10 * DAY;
	TH_RC(mssl_renewal_list(e->ctx, e->op, ACC, count_cert, &n, e->err), 0,
	      e->err);
	assert_int_equal(n, 1);
	n = 0;
	e->now = na + 1;
	TH_RC(mssl_renewal_list(e->ctx, e->op, ACC, count_cert, &n, e->err), 0,
	      e->err);
	assert_int_equal(n, 0);
	TH_RC(mssl_renewal_list(e->ctx, aud, ACC, count_cert, &n, e->err),
	      MSSL_EPERM, e->err);
	mssl_actor_free(aud);
	mssl_cert_free(cert);
	mssl_csr_free(csr);
}

/*
 * Durability classes (doc/ARCHITECTURE.md "Durability"): with a store of
 * ABI 1.3 only the login operations and the dry run commit lazily;
 * issuance, revocation, the ledger, cards and accounts wait for the disk.
 */
static void test_durability_classes(void **state)
{
	struct env *e = *state;
	const int lazy[] = { MSSL_OP_LOGIN_CHALLENGE, MSSL_OP_LOGIN,
			     MSSL_OP_SESSION,	      MSSL_OP_LOGOUT,
			     MSSL_OP_PIN_CHANGED,     MSSL_OP_LOGIN_PURGE,
			     MSSL_OP_REQUEST_CHECK };
	int id;
	size_t i;
	bool want;

	assert_true(mssl__store_has_lazy(e->ctx));
	for (id = 0; id < MSSL_OP__COUNT; id++) {
		want = false;
		for (i = 0; i < sizeof(lazy) / sizeof(lazy[0]); i++)
			want |= lazy[i] == id;
		if (mssl__op_txn_mode(e->ctx, id) !=
		    (want ? MSSL_TXN_WRITE | MSSL_TXN_LAZY : MSSL_TXN_WRITE))
			fail_msg("%s: %s commit expected", mssl__op_name(id),
				 want ? "lazy" : "full");
	}
	assert_int_equal(mssl__op_txn_mode(e->ctx, MSSL_OP_CERT_ISSUE),
			 MSSL_TXN_WRITE);
	assert_int_equal(mssl__op_txn_mode(e->ctx, MSSL_OP__COUNT),
			 MSSL_TXN_WRITE);
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
		cmocka_unit_test_setup_teardown(test_durability_classes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_issue_verified, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_terms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_write_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_renewal_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_balance, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("issue", tests, NULL, NULL);
}
