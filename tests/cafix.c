/* The shared setting of the issuance and revocation tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cafix.h"

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

int cafix_setup(void **state, const char *issuance)
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
	char *cadir = NULL, *caconf, *extra = NULL, *conf, *more = NULL;
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
	/* 'issuance' may name the test's directory with %s. */
	if (issuance)
		assert_true(asprintf(&more, issuance, e->dir) > 0);
	assert_true(asprintf(&extra,
			     "\n[issuance]\ncrl_url = http://crl.example.test/ca.crl\n"
			     "ca_issuers_url = http://crl.example.test/ca.crt\n"
			     "%s\n%s\n",
			     more ? more : "", caconf) > 0);
	free(more);
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

int cafix_teardown(void **state)
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

const struct csrgen cafix_www = {
	.key = "ec256",
	.c = "TW",
	.l = "Taipei",
	.o = "Taiwan-CA Inc.",
	.cn = "www.twca.com.tw",
	.dns = { "www.twca.com.tw", "twca.com.tw" },
};

mssl_csr *cafix_csr(const struct csrgen *g)
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

mssl_issue_params cafix_params(int years)
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

int64_t cafix_balance(struct env *e)
{
	mssl_account_info *a = NULL;
	int64_t b;

	TH_RC(mssl_account_get(e->ctx, e->op, ACC, &a, e->err), 0, e->err);
	b = a->balance;
	mssl_account_info_free(a);
	return b;
}
