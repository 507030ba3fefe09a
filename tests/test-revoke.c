/*
 * Revocation, CRL and downloads end to end: a real CA made by
 * tools/ca-init.sh, the ca-gnutls backend, every validator, SQLite.
 * CRLs are checked by openssl and certtool, downloads by certtool.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cafix.h"
#include "ctx.h"


static int setup(void **state)
{
	return cafix_setup(state, "crl_file = %s/crl.der\ncrl_days = 7");
}

static int teardown(void **state)
{
	return cafix_teardown(state);
}

/* Issue one certificate for g (1 year, nginx unless vendor given). */
static mssl_cert *issue(struct env *e, mssl_csr *csr, const char *vendor,
			uint32_t product)
{
	mssl_issue_params p = cafix_params(1);
	mssl_cert *c = NULL;

	if (vendor)
		p.server_vendor = vendor;
	p.product = product;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &c, NULL, e->err), 0,
	      e->err);
	assert_string_equal(mssl_cert_record(c)->state, "issued");
	return c;
}

struct ledger_seen {
	int64_t n;
	int64_t refunds;
	char refund_serial[41];
};

static int ledger_cb(void *ud, const struct mssl_ledger_rec *r)
{
	struct ledger_seen *s = ud;

	s->n++;
	if (r->kind == MSSL_LEDGER_REFUND) {
		s->refunds += r->delta;
		snprintf(s->refund_serial, sizeof(s->refund_serial), "%s",
			 r->cert_serial ? r->cert_serial : "");
	}
	return 0;
}

static struct ledger_seen ledger(struct env *e)
{
	struct ledger_seen s = { 0 };

	TH_RC(mssl_ledger_list(e->ctx, e->op, ACC, 0, 0, 0, ledger_cb, &s,
			       e->err),
	      0, e->err);
	return s;
}

static char state_buf[16];
static int revoke_reason_seen;

static int state_cb(void *ud, const struct mssl_cert_rec *r)
{
	snprintf(state_buf, sizeof(state_buf), "%s", r->state);
	revoke_reason_seen = r->revoke_reason;
	return 0;
}

/* The stored state of a certificate, read behind the library's back. */
static const char *state_of(struct env *e, const char *serial)
{
	const struct mssl_store_ops *ops;
	void *st, *conn;

	assert_int_equal(mssl__ctx_store(e->ctx, &ops, &st), 0);
	assert_int_equal(ops->open(st, &conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->cert_get(conn, serial, state_cb, NULL), 0);
	ops->commit(conn);
	ops->close(conn);
	return state_buf;
}

static void test_reason_parse(void **state)
{
	(void)state;
	assert_int_equal(mssl_revoke_reason_parse("unspecified"), 0);
	assert_int_equal(mssl_revoke_reason_parse("keyCompromise"), 1);
	assert_int_equal(mssl_revoke_reason_parse("affiliationChanged"), 3);
	assert_int_equal(mssl_revoke_reason_parse("superseded"), 4);
	assert_int_equal(mssl_revoke_reason_parse("cessationOfOperation"), 5);
	assert_int_equal(mssl_revoke_reason_parse("cACompromise"), MSSL_EINPUT);
	assert_int_equal(mssl_revoke_reason_parse("certificateHold"),
			 MSSL_EINPUT);
	assert_int_equal(mssl_revoke_reason_parse("privilegeWithdrawn"),
			 MSSL_EINPUT);
	assert_int_equal(mssl_revoke_reason_parse(""), MSSL_EINPUT);
	assert_int_equal(mssl_revoke_reason_parse(NULL), MSSL_EINPUT);
	assert_string_equal(mssl_revoke_reason_name(1), "keyCompromise");
	assert_string_equal(mssl_revoke_reason_name(-1), "unspecified");
}

/* Revoked within the refund window: the cert-years and term come back. */
static void test_refund(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL), *b;
	mssl_actor *mgr = th_manager(ACC);
	struct ledger_seen s;
	char serial[41];

	snprintf(serial, sizeof(serial), "%s", mssl_cert_record(a)->serial);
	assert_int_equal(cafix_balance(e), 4);
	e->now += 3 * DAY;
	TH_RC(mssl_cert_revoke(e->ctx, mgr, NULL, serial,
			       mssl_revoke_reason_parse("superseded"), e->err),
	      0, e->err);
	assert_string_equal(state_of(e, serial), "revoked");
	assert_int_equal(revoke_reason_seen, 4);
	assert_int_equal(cafix_balance(e), 5);
	s = ledger(e);
	assert_int_equal(s.refunds, 1);
	assert_string_equal(s.refund_serial, serial);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	/* The term ended: the same CN is charged again. */
	b = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	assert_int_equal(mssl_cert_record(b)->years, 1);
	assert_int_equal(cafix_balance(e), 4);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_actor_free(mgr);
	mssl_csr_free(csr);
}

/* After the window: revoked, nothing refunded. */
struct mails {
	int issued, revoked;
	char to[128];
};

static int count_mail(void *ud, const struct mssl_mail_rec *r)
{
	struct mails *m = ud;

	if (strstr(r->subject, "certificate issued"))
		m->issued++;
	/* Both halves: English, then Chinese with the full-width colon. */
	if (strstr(r->subject, "certificate revoked") &&
	    strstr(r->body, r->related) && strstr(r->body, "keyCompromise") &&
	    strstr(r->body, "----") && strstr(r->body, "\xef\xbc\x9a")) {
		m->revoked++;
		snprintf(m->to, sizeof(m->to), "%s", r->to_addr);
	}
	return 0;
}

/* The technical contact hears of the revocation as of the issuance. */
static void test_revoke_notice(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *c = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	const struct mssl_store_ops *ops;
	struct mails m = { 0, 0, "" };
	void *st, *conn;

	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(c)->serial,
			       1, e->err),
	      0, e->err);
	assert_int_equal(mssl__ctx_store(e->ctx, &ops, &st), 0);
	assert_int_equal(ops->open(st, &conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->mail_due(conn, e->now + 1, 0, count_mail, &m), 0);
	ops->rollback(conn);
	ops->close(conn);
	assert_int_equal(m.issued, 1);
	assert_int_equal(m.revoked, 1);
	assert_string_equal(m.to, "it@twca.com.tw");
	mssl_cert_free(c);
	mssl_csr_free(csr);
}

static void test_no_refund(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL);

	e->now += 8 * DAY; /* refund_window_days defaults to 7 */
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(a)->serial,
			       -1, e->err),
	      0, e->err);
	assert_string_equal(state_of(e, mssl_cert_record(a)->serial),
			    "revoked");
	assert_int_equal(cafix_balance(e), 4);
	assert_int_equal(ledger(e).refunds, 0);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	mssl_cert_free(a);
	mssl_csr_free(csr);
}

/*
 * A certificate renewed (or reissued) inside its term without charge
 * stands on what the first one paid: revoking the first then refunds
 * nothing, or the renewal would be valid and unpaid.  Once the renewal
 * is revoked too, nothing stands on it and the refund is given.
 */
static void test_no_refund_while_paid_for(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_issue_params p = cafix_params(1);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL), *b = NULL,
		  *c = NULL;
	char sa[41], sb[41], sc[41];

	snprintf(sa, sizeof(sa), "%s", mssl_cert_record(a)->serial);
	assert_int_equal(cafix_balance(e), 4);
	e->now += DAY;
	p.renewal_of = sa;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &b, NULL, e->err), 0,
	      e->err);
	assert_int_equal(mssl_cert_record(b)->years, 0);
	snprintf(sb, sizeof(sb), "%s", mssl_cert_record(b)->serial);
	e->now += DAY;
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, sa, 4, e->err), 0, e->err);
	assert_string_equal(state_of(e, sa), "revoked");
	assert_string_equal(state_of(e, sb), "issued");
	assert_int_equal(cafix_balance(e), 4);
	assert_int_equal(ledger(e).refunds, 0);
	/* The term still runs: a reissue is free. */
	c = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	assert_int_equal(mssl_cert_record(c)->years, 0);
	snprintf(sc, sizeof(sc), "%s", mssl_cert_record(c)->serial);
	assert_int_equal(cafix_balance(e), 4);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_cert_free(c);

	/* Another CN: the free reissue revoked first, then the paid one. */
	{
		struct csrgen g = cafix_www;
		mssl_csr *csr2;

		g.cn = "shop.twca.com.tw";
		g.dns[0] = "shop.twca.com.tw";
		g.dns[1] = NULL;
		csr2 = cafix_csr(&g);
		a = issue(e, csr2, NULL, MSSL_PRODUCT_SSL);
		b = issue(e, csr2, NULL, MSSL_PRODUCT_SSL);
		assert_int_equal(mssl_cert_record(b)->years, 0);
		assert_int_equal(cafix_balance(e), 3);
		TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC,
				       mssl_cert_record(b)->serial, 4, e->err),
		      0, e->err);
		assert_int_equal(cafix_balance(e), 3);
		TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC,
				       mssl_cert_record(a)->serial, 4, e->err),
		      0, e->err);
		assert_int_equal(cafix_balance(e), 4);
		assert_int_equal(ledger(e).refunds, 1);
		mssl_cert_free(a);
		mssl_cert_free(b);
		mssl_csr_free(csr2);
	}
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_csr_free(csr);
}

/* keyCompromise blocks the key: a new request with it is refused. */
static void test_key_compromise(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	mssl_check_params cp = { .product = MSSL_PRODUCT_SSL };
	mssl_report *report = NULL;
	bool seen = false;
	size_t i;

	TH_RC(mssl_check(e->ctx, e->op, ACC, csr, &cp, &report, e->err), 0,
	      e->err);
	mssl_report_free(report);
	report = NULL;
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(a)->serial,
			       mssl_revoke_reason_parse("keyCompromise"),
			       e->err),
	      0, e->err);
	TH_RC(mssl_check(e->ctx, e->op, ACC, csr, &cp, &report, e->err),
	      MSSL_EREJECTED, e->err);
	for (i = 0; i < mssl_report_n_findings(report); i++)
		seen |= strcmp(mssl_report_finding(report, i)->code,
			       "key.blocked") == 0;
	assert_true(seen);
	mssl_report_free(report);
	mssl_cert_free(a);
	mssl_csr_free(csr);
}

/* Refusals: each writes nothing (state, ledger unchanged). */
static void test_refusals(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	mssl_actor *aud = th_auditor(ACC), *mgr_other = th_manager(OTHER);
	const struct mssl_store_ops *ops;
	struct mssl_cert_rec pend = {
		.serial = "0badc0de0badc0de",
		.account_id = ACC,
		.cn = "www.twca.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.revoke_reason = -1,
	};
	const char *serial = mssl_cert_record(a)->serial;
	char *buf = NULL, *name = NULL;
	void *st, *conn;
	int64_t n_before;
	size_t len;

	pend.created = e->now;
	assert_int_equal(mssl__ctx_store(e->ctx, &ops, &st), 0);
	assert_int_equal(ops->open(st, &conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &pend), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	n_before = ledger(e).n;
	/* Reasons a subscriber may not give. */
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, serial, 2, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "reason");
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, serial, 6, e->err),
	      MSSL_EINPUT, e->err);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, serial, 9, e->err),
	      MSSL_EINPUT, e->err);
	/* Not the account's; unknown; pending. */
	TH_RC(mssl_cert_revoke(e->ctx, e->op, OTHER, serial, 0, e->err),
	      MSSL_ENOENT, e->err);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, "00112233", 0, e->err),
	      MSSL_ENOENT, e->err);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, pend.serial, 0, e->err),
	      MSSL_ESTATE, e->err);
	assert_string_equal(state_of(e, pend.serial), "pending");
	/* Roles: an auditor may not revoke, another account's manager
	 * may not touch this account; the auditor may download. */
	TH_RC(mssl_cert_revoke(e->ctx, aud, ACC, serial, 0, e->err), MSSL_EPERM,
	      e->err);
	TH_RC(mssl_cert_revoke(e->ctx, mgr_other, ACC, serial, 0, e->err),
	      MSSL_EPERM, e->err);
	TH_RC(mssl_cert_export(e->ctx, mgr_other, ACC, serial, "pem", &buf,
			       &len, &name, e->err),
	      MSSL_EPERM, e->err);
	assert_string_equal(state_of(e, serial), "issued");
	assert_int_equal(ledger(e).n, n_before);
	assert_int_equal(cafix_balance(e), 4);
	TH_RC(mssl_cert_export(e->ctx, aud, NULL, serial, "pem", &buf, &len,
			       &name, e->err),
	      0, e->err);
	assert_non_null(strstr(buf, "-----BEGIN CERTIFICATE-----"));
	free(buf);
	free(name);
	/* Twice: the second is refused and refunds nothing. */
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, serial, 0, e->err), 0,
	      e->err);
	assert_int_equal(cafix_balance(e), 5);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, serial, 0, e->err),
	      MSSL_ESTATE, e->err);
	assert_int_equal(cafix_balance(e), 5);
	assert_int_equal(ledger(e).n, n_before + 1);
	/* The CRL: operators only. */
	TH_RC(mssl_crl_generate(e->ctx, aud, NULL, NULL, e->err), MSSL_EPERM,
	      e->err);
	TH_RC(mssl_ledger_check(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_actor_free(aud);
	mssl_actor_free(mgr_other);
	mssl_cert_free(a);
	mssl_csr_free(csr);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void write_pem(struct env *e, const struct mssl_cert_rec *r,
		      const char *name)
{
	gnutls_datum_t der = { (unsigned char *)r->der, (unsigned)r->der_len };
	gnutls_datum_t pem = { NULL, 0 };
	char *path = NULL;

	assert_int_equal(gnutls_pem_base64_encode2("CERTIFICATE", &der, &pem),
			 0);
	assert_true(asprintf(&path, "%s/%s", e->dir, name) > 0);
	write_bytes(path, pem.data, pem.size);
	gnutls_free(pem.data);
	free(path);
}

/* Number, thisUpdate, nextUpdate of a DER CRL. */
static void crl_fields(const uint8_t *der, size_t len, uint64_t *number,
		       int64_t *this_update, int64_t *next_update,
		       unsigned *count)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	gnutls_x509_crl_t crl;
	unsigned char num[20];
	size_t n = sizeof(num), i;

	assert_int_equal(gnutls_x509_crl_init(&crl), 0);
	assert_int_equal(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crl_get_number(crl, num, &n, NULL), 0);
	*number = 0;
	for (i = 0; i < n; i++)
		*number = *number << 8 | num[i];
	*this_update = gnutls_x509_crl_get_this_update(crl);
	*next_update = gnutls_x509_crl_get_next_update(crl);
	*count = (unsigned)gnutls_x509_crl_get_crt_count(crl);
	gnutls_x509_crl_deinit(crl);
}

static void test_crl(void **state)
{
	struct env *e = *state;
	struct csrgen g2 = cafix_www, g3 = cafix_www;
	mssl_csr *c1 = cafix_csr(&cafix_www), *c2, *c3;
	mssl_cert *a, *b, *c;
	uint8_t *der = NULL, *der2 = NULL;
	size_t len = 0, len2 = 0;
	uint64_t n1, n2;
	int64_t t1, u1, t2, u2;
	unsigned count;
	char *crlpath = NULL, *d = e->dir;

	g2.cn = g2.dns[0] = "api.twca.com.tw";
	g2.dns[1] = NULL;
	g3.cn = g3.dns[0] = "mail.twca.com.tw";
	g3.dns[1] = NULL;
	c2 = cafix_csr(&g2);
	c3 = cafix_csr(&g3);
	a = issue(e, c1, NULL, MSSL_PRODUCT_SSL);
	b = issue(e, c2, NULL, MSSL_PRODUCT_SSL);
	c = issue(e, c3, NULL, MSSL_PRODUCT_SSL);
	assert_true(asprintf(&crlpath, "%s/crl.der", d) > 0);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(a)->serial,
			       1, e->err),
	      0, e->err);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(b)->serial,
			       0, e->err),
	      0, e->err);
	/* Regenerated after each revocation into crl_file. */
	assert_int_equal(access(crlpath, R_OK), 0);
	assert_int_equal(th_system("cat '%s/ca/issuing.pem' '%s/ca/root.pem' "
				   ">'%s/cas.pem' && openssl crl -in '%s' "
				   "-inform DER -CAfile '%s/cas.pem' -noout "
				   ">'%s/crl.out' 2>&1 && grep -q 'verify OK' "
				   "'%s/crl.out'",
				   d, d, d, crlpath, d, d, d),
			 0);
	assert_int_equal(th_system("certtool --crl-info --inder --infile '%s' "
				   ">'%s/crl.txt' 2>&1",
				   crlpath, d),
			 0);
	assert_int_equal(th_system("grep -qi '%s' '%s/crl.txt' && "
				   "grep -qi '%s' '%s/crl.txt'",
				   mssl_cert_record(a)->serial, d,
				   mssl_cert_record(b)->serial, d),
			 0);
	assert_int_equal(th_system("! grep -qi '%s' '%s/crl.txt'",
				   mssl_cert_record(c)->serial, d),
			 0);
	/* One reason code (keyCompromise); unspecified carries none. */
	assert_int_equal(th_system("openssl crl -in '%s' -inform DER -noout "
				   "-text >'%s/crl.ossl' && "
				   "grep -c 'Key Compromise' '%s/crl.ossl' | "
				   "grep -qx 1 && grep -c 'CRL Reason Code' "
				   "'%s/crl.ossl' | grep -qx 1",
				   crlpath, d, d, d),
			 0);
	/* Two generations: numbers strictly increase; nextUpdate <= 10d. */
	TH_RC(mssl_crl_generate(e->ctx, e->op, &der, &len, e->err), 0, e->err);
	/*
	 * ca-gnutls checks each CRL it signs against the real clock (not
	 * the host's), refusing a thisUpdate in the future: stay on it.
	 */
	e->now = (int64_t)time(NULL);
	TH_RC(mssl_crl_generate(e->ctx, e->op, &der2, &len2, e->err), 0,
	      e->err);
	crl_fields(der, len, &n1, &t1, &u1, &count);
	assert_int_equal(count, 2);
	crl_fields(der2, len2, &n2, &t2, &u2, &count);
	assert_true(n2 > n1);
	assert_true(n1 >= 3);
	assert_true(u1 - t1 <= 10 * DAY && u1 > t1);
	assert_int_equal(u2 - t2, 7 * DAY);
	assert_int_equal(t2, e->now);
	/* openssl verify with the CRL: the revoked one is revoked. */
	write_pem(e, mssl_cert_record(a), "a.pem");
	write_pem(e, mssl_cert_record(c), "c.pem");
	assert_int_equal(th_system("openssl crl -in '%s' -inform DER -out "
				   "'%s/crl.pem' && cat '%s/ca/root.pem' "
				   "'%s/ca/issuing.pem' >'%s/both.pem'",
				   crlpath, d, d, d, d),
			 0);
	assert_int_equal(th_system("openssl verify -crl_check -CRLfile "
				   "'%s/crl.pem' -CAfile '%s/both.pem' "
				   "'%s/a.pem' >'%s/v.out' 2>&1; "
				   "grep -q 'certificate revoked' '%s/v.out'",
				   d, d, d, d, d),
			 0);
	assert_int_equal(th_system("openssl verify -crl_check -CRLfile "
				   "'%s/crl.pem' -CAfile '%s/both.pem' "
				   "'%s/c.pem' >/dev/null 2>&1",
				   d, d, d),
			 0);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	free(der);
	free(der2);
	free(crlpath);
	mssl_cert_free(a);
	mssl_cert_free(b);
	mssl_cert_free(c);
	mssl_csr_free(c1);
	mssl_csr_free(c2);
	mssl_csr_free(c3);
}

/* A CRL that cannot be written does not undo the revocation. */
static void test_crl_failure(void **state)
{
	struct env *e = *state;
	mssl_csr *csr = cafix_csr(&cafix_www);
	mssl_cert *a = issue(e, csr, NULL, MSSL_PRODUCT_SSL);
	char *bad = NULL;

	assert_true(asprintf(&bad, "%s/no/such/dir/crl.der", e->dir) > 0);
	free(e->ctx->policy.crl_file);
	e->ctx->policy.crl_file = bad;
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, mssl_cert_record(a)->serial,
			       0, e->err),
	      0, e->err);
	assert_string_equal(state_of(e, mssl_cert_record(a)->serial),
			    "revoked");
	assert_int_equal(cafix_balance(e), 5);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), MSSL_EIO,
	      e->err);
	assert_string_equal(mssl_error_id(e->err), "crl.write");
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_cert_free(a);
	mssl_csr_free(csr);
}

/* The number of the CRL file at path (the test fails when unreadable). */
static uint64_t file_crl_number(const char *path)
{
	gnutls_datum_t d = { NULL, 0 };
	uint64_t n;
	int64_t t, u;
	unsigned count;

	assert_int_equal(gnutls_load_file(path, &d), 0);
	crl_fields(d.data, d.size, &n, &t, &u, &count);
	gnutls_free(d.data);
	return n;
}

/* The store's "crl" counter, read with the sqlite3 tool. */
static uint64_t crl_counter(struct env *e)
{
	char *out = NULL;
	uint64_t v;

	assert_int_equal(th_system("sqlite3 '%s/mssl.db' \"SELECT value FROM "
				   "counters WHERE name = 'crl'\" "
				   ">'%s/counter.txt'",
				   e->dir, e->dir),
			 0);
	assert_true(asprintf(&out, "%s/counter.txt", e->dir) > 0);
	{
		FILE *fp = fopen(out, "r");

		assert_non_null(fp);
		assert_int_equal(fscanf(fp, "%" SCNu64, &v), 1);
		fclose(fp);
	}
	free(out);
	return v;
}

/*
 * A store restored from a backup has a CRL counter behind the published
 * CRL: the next CRL still gets a higher number than the published one
 * (numbers never go back), and the counter moves on with it.
 */
static void test_crl_store_behind(void **state)
{
	struct env *e = *state;
	uint8_t *der = NULL;
	size_t len = 0;
	uint64_t n1, n2, n3;
	int64_t t, u;
	unsigned count;
	char *crl = NULL;

	assert_true(asprintf(&crl, "%s/crl.der", e->dir) > 0);
	e->now = (int64_t)time(NULL); /* ca-gnutls checks the real clock */
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	n1 = file_crl_number(crl);
	assert_int_equal(n1, 3);
	assert_int_equal(th_system("sqlite3 '%s/mssl.db' \"UPDATE counters SET "
				   "value = 1 WHERE name = 'crl'\"",
				   e->dir),
			 0);
	TH_RC(mssl_crl_generate(e->ctx, e->op, &der, &len, e->err), 0, e->err);
	crl_fields(der, len, &n2, &t, &u, &count);
	assert_int_equal(n2, n1 + 1);
	assert_int_equal(file_crl_number(crl), n2);
	assert_int_equal(crl_counter(e), n2);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	n3 = file_crl_number(crl);
	assert_int_equal(n3, n2 + 1);
	/* A file that is no CRL is replaced, not a reason to stop. */
	assert_int_equal(th_system("echo garbage >'%s'", crl), 0);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	assert_int_equal(file_crl_number(crl), n3 + 1);
	/*
	 * One far ahead (another CA's CRL, number 5,000,000) is not ours to
	 * catch up with: a clear refusal naming crl_file, the file kept.
	 */
	assert_int_equal(
		th_system("cd '%s' && certtool --generate-privkey --key-type "
			  "ecdsa --outfile o.key >/dev/null 2>&1 && printf "
			  "'cn = \"Other CA\"\\nca\\ncert_signing_key\\n"
			  "crl_signing_key\\nexpiration_days = 30\\n' "
			  ">o.tmpl && certtool --generate-self-signed "
			  "--load-privkey o.key --template o.tmpl --outfile "
			  "o.pem >/dev/null 2>&1 && printf 'crl_number = "
			  "5000000\\ncrl_next_update = 7\\n' >c.tmpl && "
			  "certtool --generate-crl --load-ca-privkey o.key "
			  "--load-ca-certificate o.pem --template c.tmpl "
			  "--outder --outfile crl.der >/dev/null 2>&1",
			  e->dir),
		0);
	assert_int_equal(file_crl_number(crl), 5000000);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err),
	      MSSL_ESTATE, e->err);
	assert_string_equal(mssl_error_id(e->err), "crl.number_behind");
	assert_string_equal(mssl_error_field(e->err), "crl_file");
	assert_non_null(strstr(mssl_error_message(e->err, MSSL_LANG_EN),
			       "5000000"));
	assert_non_null(strstr(mssl_error_message(e->err, MSSL_LANG_ZH_TW),
			       "遠大於本資料庫"));
	assert_int_equal(file_crl_number(crl), 5000000);
	free(der);
	free(crl);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
}

/*
 * Two regenerations overlapping: one commits CRL N and waits to publish
 * (here: the test holds the directory's lock, as a publisher does);
 * meanwhile CRL N+1 is made and published.  When N's turn comes, N+1
 * stays: a CRL never replaces a newer one, and its staged file goes.
 */
static void test_crl_publish_order(void **state)
{
	struct env *e = *state;
	char *conf = NULL, *crl = NULL, *other = NULL, *saved;
	uint64_t c0;
	pid_t pid;
	int dfd, status, i;

	assert_true(asprintf(&conf, "%s/mssl.conf", e->dir) > 0);
	assert_true(asprintf(&crl, "%s/crl.der", e->dir) > 0);
	assert_true(asprintf(&other, "%s/other", e->dir) > 0);
	e->now = (int64_t)time(NULL); /* ca-gnutls checks the real clock */
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	c0 = crl_counter(e);
	dfd = open(e->dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(flock(dfd, LOCK_EX), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mssl_error *err = mssl_error_new();
		mssl_ctx *ctx = NULL;
		int rc = mssl_ctx_open_file(conf, &ctx, err);

		close(dfd);
		if (rc == 0)
			rc = mssl_crl_generate(ctx, e->op, NULL, NULL, err);
		if (rc < 0)
			fprintf(stderr, "child: %s\n",
				mssl_error_message(err, MSSL_LANG_EN));
		mssl_ctx_free(ctx);
		mssl_error_free(err);
		_exit(rc == 0 ? 0 : 1);
	}
	/* The child's CRL (c0 + 1) is committed: it waits for the lock. */
	for (i = 0; i < 600 && crl_counter(e) == c0; i++)
		usleep(50000);
	assert_int_equal(crl_counter(e), c0 + 1);
	/* CRL c0 + 2, made elsewhere and put in place under the lock. */
	assert_int_equal(mkdir(other, 0700), 0);
	saved = e->ctx->policy.crl_file;
	assert_true(asprintf(&e->ctx->policy.crl_file, "%s/crl.der", other) >
		    0);
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	assert_int_equal(rename(e->ctx->policy.crl_file, crl), 0);
	free(e->ctx->policy.crl_file);
	e->ctx->policy.crl_file = saved;
	assert_int_equal(file_crl_number(crl), c0 + 2);
	assert_int_equal(flock(dfd, LOCK_UN), 0);
	close(dfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(file_crl_number(crl), c0 + 2);
	assert_int_equal(th_system("! ls '%s' | grep -q 'crl.der.'", e->dir),
			 0);
	/* And the next one replaces it as usual. */
	TH_RC(mssl_crl_generate(e->ctx, e->op, NULL, NULL, e->err), 0, e->err);
	assert_int_equal(file_crl_number(crl), c0 + 3);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	free(conf);
	free(crl);
	free(other);
}

/* Export one format to dir/name; returns the file name given. */
static char *export_to(struct env *e, const mssl_actor *who, const char *serial,
		       const char *format)
{
	char *buf = NULL, *name = NULL, *path = NULL;
	size_t len = 0;

	TH_RC(mssl_cert_export(e->ctx, who, ACC, serial, format, &buf, &len,
			       &name, e->err),
	      0, e->err);
	assert_non_null(name);
	assert_null(strchr(name, '/'));
	assert_true(asprintf(&path, "%s/%s", e->dir, name) > 0);
	write_bytes(path, buf, len);
	free(path);
	free(buf);
	return name;
}

static void test_downloads(void **state)
{
	struct env *e = *state;
	struct csrgen wg = cafix_www;
	mssl_csr *csr = cafix_csr(&cafix_www), *wcsr;
	mssl_cert *a = issue(e, csr, "nginx", MSSL_PRODUCT_SSL), *w;
	mssl_actor *aud = th_auditor(ACC);
	const char *serial = mssl_cert_record(a)->serial, *d = e->dir;
	char *name, want[128], *buf = NULL;
	size_t len;

	name = export_to(e, e->op, serial, "pem");
	snprintf(want, sizeof(want), "www.twca.com.tw_%.8s.crt", serial);
	assert_string_equal(name, want);
	assert_int_equal(th_system("certtool -i --infile '%s/%s' >/dev/null "
				   "2>&1",
				   d, name),
			 0);
	free(name);
	name = export_to(e, e->op, serial, "der");
	snprintf(want, sizeof(want), "www.twca.com.tw_%.8s.der", serial);
	assert_string_equal(name, want);
	assert_int_equal(th_system("certtool -i --inder --infile '%s/%s' "
				   ">/dev/null 2>&1",
				   d, name),
			 0);
	free(name);
	name = export_to(e, aud, serial, "chain");
	snprintf(want, sizeof(want), "www.twca.com.tw_%.8s-chain.pem", serial);
	assert_string_equal(name, want);
	/* Leaf and issuing CA; the root is the client's, never sent. */
	assert_int_equal(th_system("test $(grep -c 'BEGIN CERTIFICATE' "
				   "'%s/%s') -eq 2 && certtool --verify "
				   "--load-ca-certificate '%s/ca/root.pem' "
				   "--infile '%s/%s' >/dev/null 2>&1",
				   d, name, d, d, name),
			 0);
	free(name);
	name = export_to(e, e->op, serial, "p7b");
	snprintf(want, sizeof(want), "www.twca.com.tw_%.8s.p7b", serial);
	assert_string_equal(name, want);
	assert_int_equal(th_system("certtool --p7-info --infile '%s/%s' "
				   ">'%s/p7.txt' 2>&1 && test $(grep -c "
				   "'BEGIN CERTIFICATE' '%s/p7.txt') -ge 2",
				   d, name, d, d),
			 0);
	free(name);
	/* nginx wants the chain. */
	name = export_to(e, e->op, serial, "vendor");
	snprintf(want, sizeof(want), "www.twca.com.tw_%.8s-chain.pem", serial);
	assert_string_equal(name, want);
	free(name);
	TH_RC(mssl_cert_export(e->ctx, e->op, ACC, serial, "zip", &buf, &len,
			       NULL, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "format");
	assert_null(buf);
	/* A wildcard for IIS: a .p7b named "wildcard". */
	wg.cn = wg.dns[0] = "*.twca.com.tw";
	wg.dns[1] = NULL;
	wcsr = cafix_csr(&wg);
	w = issue(e, wcsr, "IIS", MSSL_PRODUCT_WILDCARD);
	name = export_to(e, e->op, mssl_cert_record(w)->serial, "vendor");
	snprintf(want, sizeof(want), "wildcard.twca.com.tw_%.8s.p7b",
		 mssl_cert_record(w)->serial);
	assert_string_equal(name, want);
	assert_int_equal(th_system("certtool --p7-info --infile '%s/%s' "
				   ">/dev/null 2>&1",
				   d, name),
			 0);
	free(name);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_actor_free(aud);
	mssl_cert_free(a);
	mssl_cert_free(w);
	mssl_csr_free(csr);
	mssl_csr_free(wcsr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_parse),
		cmocka_unit_test_setup_teardown(test_refund, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_notice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_refund, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_refund_while_paid_for,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_compromise, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_store_behind, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crl_publish_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crl_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_downloads, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("revoke", tests, NULL, NULL);
}
