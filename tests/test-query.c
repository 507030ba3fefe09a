/*
 * mssl_cert_list's filters and pages against a real SQLite store and
 * real certificates (a CA from tools/ca-init.sh, ca-gnutls): once with
 * the store filtering by CN substring and domain itself (cert_match, ABI
 * 1.5), once as with a store of ABI 1.4, where libmssl filters
 * cert_each's rows.  Both must hand over the same certificates.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafix.h"
#include "ctx.h"
#include "op.h"

static int setup(void **state)
{
	return cafix_setup(state, NULL);
}

static int teardown(void **state)
{
	return cafix_teardown(state);
}

/* The CNs a listing handed over, space-separated, in order. */
struct seen {
	char cns[512];
	int calls, stop_at;
};

static int seen_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct seen *s = ud;
	size_t n = strlen(s->cns);

	snprintf(s->cns + n, sizeof(s->cns) - n, "%s%s", n ? " " : "", r->cn);
	s->calls++;
	return s->stop_at && s->calls == s->stop_at ? 7 : 0;
}

static void expect(struct env *e, const mssl_cert_query *q, const char *want)
{
	struct seen s = { "", 0, 0 };

	TH_RC(mssl_cert_list(e->ctx, e->op, ACC, q, seen_cb, &s, e->err), 0,
	      e->err);
	if (strcmp(s.cns, want) != 0)
		fail_msg("cn_contains %s, domain %s, state %s, offset %lld, "
			 "limit %lld, newest %d: got \"%s\", want \"%s\"",
			 q->cn_contains ? q->cn_contains : "-",
			 q->domain ? q->domain : "-",
			 q->state ? q->state : "-", (long long)q->offset,
			 (long long)q->limit, q->newest_first, s.cns, want);
}

/* Issue www, api and mail.twca.com.tw, in that order. */
static void issue_three(struct env *e)
{
	static const char *const hosts[] = { "www", "api", "mail" };
	char cn[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		struct csrgen g = cafix_www;
		mssl_issue_params p = cafix_params(1);
		mssl_cert *c = NULL;
		mssl_csr *csr;

		snprintf(cn, sizeof(cn), "%s.twca.com.tw", hosts[i]);
		g.cn = cn;
		g.dns[0] = cn;
		g.dns[1] = NULL;
		csr = cafix_csr(&g);
		TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &c, NULL, e->err),
		      0, e->err);
		mssl_cert_free(c);
		mssl_csr_free(csr);
		e->now += 10; /* distinct creation times: a stable order */
	}
}

#define W "www.twca.com.tw"
#define A "api.twca.com.tw"
#define M "mail.twca.com.tw"

static void filters(struct env *e)
{
	mssl_cert_query q;
	struct seen stop = { "", 0, 2 };

	memset(&q, 0, sizeof(q));
	expect(e, &q, W " " A " " M);
	q.cn_contains = "AP";
	expect(e, &q, A);
	q.cn_contains = "%";
	expect(e, &q, "");
	q.cn_contains = "_";
	expect(e, &q, "");
	q.cn_contains = "";
	expect(e, &q, W " " A " " M);
	q.cn_contains = NULL;
	q.domain = "TWCA.com.tw";
	expect(e, &q, W " " A " " M);
	q.domain = "com.tw";
	expect(e, &q, W " " A " " M);
	q.domain = "wca.com.tw"; /* not on a label boundary */
	expect(e, &q, "");
	q.domain = "mail.twca.com.tw";
	expect(e, &q, M);
	/* Pages count the matches. */
	q.domain = "twca.com.tw";
	q.offset = 1;
	q.limit = 1;
	expect(e, &q, A);
	q.offset = 2;
	q.limit = 5;
	expect(e, &q, M);
	q.offset = 3;
	expect(e, &q, "");
	q.offset = 0;
	q.limit = 2;
	q.newest_first = 1;
	q.cn_contains = ".";
	expect(e, &q, M " " A);
	q.offset = 2;
	expect(e, &q, W);
	/* With the store's own filters. */
	memset(&q, 0, sizeof(q));
	q.domain = "twca.com.tw";
	q.state = "revoked";
	expect(e, &q, "");
	q.state = "issued";
	q.cn_contains = "w.";
	expect(e, &q, W);
	/* The callback's non-zero return stops the listing and comes back. */
	memset(&q, 0, sizeof(q));
	q.cn_contains = "twca";
	assert_int_equal(mssl_cert_list(e->ctx, e->op, ACC, &q, seen_cb, &stop,
					e->err),
			 7);
	assert_string_equal(stop.cns, W " " A);
}

static void test_store_filters(void **state)
{
	struct env *e = *state;

	issue_three(e);
	assert_true(mssl__store_has_cert_match(e->ctx));
	filters(e);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
}

/* The same with a store of ABI 1.4: libmssl filters and counts. */
static void test_library_filters(void **state)
{
	struct env *e = *state;
	const struct mssl_store_ops *ops = e->ctx->sops;
	struct mssl_store_ops older = *ops;

	issue_three(e);
	older.abi_minor = 4;
	e->ctx->sops = &older;
	assert_false(mssl__store_has_cert_match(e->ctx));
	filters(e);
	e->ctx->sops = ops;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_filters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_library_filters, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
