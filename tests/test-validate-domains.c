/*
 * The validate-domains plugin (SPEC §4.3), loaded from the build tree's
 * plugin directory through the library's loader and called directly.
 * account->domains is given as the host gives it: the agreed domains that
 * equal some suffix (the name itself or an ancestor) of a name; a few
 * cases add domains the host would not pass, to show they change nothing.
 * Each case states the verdict text, or the finding code and the agreed
 * domain its message must name.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "ctx.h"
#include "report.h"
#include "mssl/plugin.h"

struct fx {
	char *dir;
	mssl_ctx *ctx;
	const struct mssl_validator_ops *ops;
	void *state;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct mssl__plugin *pl = NULL;
	mssl_error *err = mssl_error_new();
	int rc;

	assert_non_null(f);
	f->dir = th_mkdtemp();
	f->ctx = th_ctx_open(f->dir, "");
	rc = mssl__plugin_load(f->ctx, "validate-domains",
			       MSSL_PLUGIN_VALIDATOR, &pl, err);
	if (rc < 0)
		fail_msg("cannot load validate-domains: %s: %s",
			 mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	assert_int_equal(pl->p->kind, MSSL_PLUGIN_VALIDATOR);
	assert_string_equal(pl->p->name, "validate-domains");
	assert_non_null(pl->p->config_keys);
	assert_null(pl->p->config_keys[0]);
	f->ops = pl->p->ops;
	assert_non_null(f->ops);
	f->state = pl->state;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mssl_ctx_free(f->ctx);
	th_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static mssl_report *run(struct fx *f, const char *const *domains,
			size_t n_domains, const char *const *names,
			size_t n_names)
{
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check_request req = { 0 };
	struct mssl_check in = { 0 };
	mssl_report *r = mssl__report_new();
	int rc;

	assert_non_null(r);
	csr.subject.cn = n_names ? names[0] : NULL;
	csr.names = names;
	csr.n_names = n_names;
	acct.id = "70759028-01";
	acct.ubn = "70759028";
	acct.org_name_en = "TAIWAN-CA INC.";
	acct.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD;
	acct.domains = domains;
	acct.n_domains = n_domains;
	req.product = MSSL_PRODUCT_WILDCARD;
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	in.request = &req;
	rc = f->ops->check(f->state, &in,
			   mssl__report_collector(r, "validate-domains"));
	assert_int_equal(rc, 0);
	rc = mssl__report_finish(r, names, n_names);
	assert_int_equal(rc, 0);
	return r;
}

static void dump(const mssl_report *r)
{
	size_t i;

	for (i = 0; i < mssl_report_n_findings(r); i++) {
		const mssl_finding *g = mssl_report_finding(r, i);

		print_message("  got %s %s: %s\n", g->code,
			      g->value ? g->value : "(null)", g->message_en);
	}
	for (i = 0; i < mssl_report_n_verdicts(r); i++) {
		const mssl_verdict *v = mssl_report_verdict(r, i);

		print_message("  verdict %s: %s (%s)\n", v->name,
			      v->accepted ? "accepted" : "refused",
			      v->rule_en ? v->rule_en : "no rule");
	}
}

/*
 * One name: accepted by 'rule' (English verdict text), or refused with
 * finding 'code' whose message names 'shown' (besides the name itself).
 */
struct dcase {
	const char *domains[4]; /* up to NULL */
	const char *name;
	const char *rule;
	const char *code;
	const char *shown;
};

#define TW "twca.com.tw"
#define MIS "mis.twca.com.tw"
/* The agreed domains come last: OK(name, rule, domain...). */
/* clang-format off */
#define OK(n, rule, ...) { { __VA_ARGS__ }, n, rule, NULL, NULL }
#define DEEP(n, agreed, ...)                                                 \
	{ { __VA_ARGS__ }, n, NULL, "domain.too_deep",                       \
	  "under the agreed domain " agreed ":" }
#define NOT(n, ...) { { __VA_ARGS__ }, n, NULL, "domain.not_agreed", NULL }
/* clang-format on */

static const struct dcase cases[] = {
	/* SPEC §4.3, agreed twca.com.tw. */
	OK("twca.com.tw", "equals agreed domain twca.com.tw", TW),
	OK("www.twca.com.tw", "one label under twca.com.tw", TW),
	DEEP("www.level2.twca.com.tw", TW, TW),
	/* SPEC §4.3, agreed mis.twca.com.tw. */
	OK("ww2.mis.twca.com.tw", "one label under mis.twca.com.tw", MIS),
	OK("mis.twca.com.tw", "equals agreed domain mis.twca.com.tw", MIS),
	DEEP("www.level2.mis.twca.com.tw", MIS, MIS),
	/* An agreed domain does not cover its parent or siblings. */
	NOT("twca.com.tw", MIS),
	NOT("www.twca.com.tw", MIS),
	NOT("www.twca.com.tw", NULL),
	/* Wildcards: '*' is the one label. */
	OK("*.twca.com.tw", "wildcard for one label under twca.com.tw", TW),
	DEEP("*.level2.twca.com.tw", TW, TW),
	OK("*.mis.twca.com.tw", "wildcard for one label under mis.twca.com.tw",
	   MIS),
	NOT("*.com.tw", NULL),
	/* Case does not matter, on either side. */
	OK("WWW.TWCA.COM.TW", "one label under twca.com.tw", TW),
	OK("TWCA.Com.Tw", "equals agreed domain twca.com.tw", TW),
	OK("www.twca.com.tw", "one label under TWCA.COM.TW", "TWCA.COM.TW"),
	OK("*.TWCA.COM.TW", "wildcard for one label under twca.com.tw", TW),
	DEEP("WWW.Level2.TWCA.com.tw", TW, TW),
	/* Suffixes count only on label boundaries (domains the host would
	 * not even pass are given here anyway). */
	NOT("twca.com.tw.evil.com", TW),
	NOT("eviltwca.com.tw", TW),
	NOT("www.eviltwca.com.tw", TW),
	NOT("a.b.eviltwca.com.tw", TW),
	NOT("wca.com.tw", TW),
	NOT("com.tw", TW),
	NOT("www.xmis.twca.com.tw", MIS),
	/* Two agreed domains: the nearest one decides. */
	OK("ww2.mis.twca.com.tw", "one label under mis.twca.com.tw", TW, MIS),
	OK("mis.twca.com.tw", "equals agreed domain mis.twca.com.tw", MIS, TW),
	DEEP("www.level2.mis.twca.com.tw", MIS, TW, MIS),
	DEEP("a.b.c.mis.twca.com.tw", MIS, MIS, TW),
	/* Garbage: never accepted, one finding, no crash. */
	NOT("", TW),
	NOT("*", TW),
	NOT("*.", TW),
	NOT(".", TW),
	NOT("..", TW),
	NOT("twca.com.tw.", TW),
	NOT(".twca.com.tw", TW),
	DEEP("..twca.com.tw", TW, TW),
	DEEP("www..twca.com.tw", TW, TW),
	DEEP("a.*.twca.com.tw", TW, TW),
	DEEP("*.*.twca.com.tw", TW, TW),
	NOT("www.twca.com.tw", ""),
};

static void test_cases(void **state)
{
	struct fx *f = *state;
	size_t i, nd;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		const struct dcase *c = &cases[i];
		const mssl_verdict *v;
		mssl_report *r;

		for (nd = 0; nd < 4 && c->domains[nd]; nd++)
			;
		r = run(f, c->domains, nd, &c->name, 1);
		v = mssl_report_verdict(r, 0);
		assert_non_null(v);
		assert_string_equal(v->name, c->name);
		if (c->rule) {
			if (mssl_report_n_findings(r) != 0 || !v->accepted ||
			    !v->rule_en || strcmp(v->rule_en, c->rule)) {
				dump(r);
				fail_msg("case %zu \"%s\": expected \"%s\"", i,
					 c->name, c->rule);
			}
			assert_non_null(v->rule_zh);
			assert_true(v->rule_zh[0] != '\0');
		} else {
			const mssl_finding *g = mssl_report_finding(r, 0);

			if (mssl_report_n_findings(r) != 1 ||
			    strcmp(g->code, c->code) || v->accepted ||
			    v->rule_en) {
				dump(r);
				fail_msg("case %zu \"%s\": expected %s", i,
					 c->name, c->code);
			}
			assert_int_equal(g->severity, MSSL_SEV_ERROR);
			assert_string_equal(g->field, "name");
			assert_string_equal(g->value, c->name);
			assert_string_equal(g->source, "validate-domains");
			if (!strstr(g->message_en, c->name) ||
			    (c->shown && !strstr(g->message_en, c->shown)))
				fail_msg(
					"case %zu: message does not show \"%s\"%s%s: %s",
					i, c->name, c->shown ? " and " : "",
					c->shown ? c->shown : "",
					g->message_en);
			assert_non_null(g->message_zh);
			if (!g->message_zh[0] ||
			    !strstr(g->message_zh, c->name))
				fail_msg("case %zu: zh_TW message: %s", i,
					 g->message_zh);
		}
		mssl_report_free(r);
	}
}

/* Several names in one request: each judged, every refusal reported. */
static void test_request(void **state)
{
	struct fx *f = *state;
	const char *domains[] = { TW, MIS };
	const char *names[] = {
		"twca.com.tw",
		"www.twca.com.tw",
		"www.level2.twca.com.tw",
		"evil.com",
		"ww2.mis.twca.com.tw",
		"*.twca.com.tw",
		"x.y.mis.twca.com.tw",
	};
	static const int accepted[] = { 1, 1, 0, 0, 1, 1, 0 };
	mssl_report *r;
	size_t i;

	r = run(f, domains, 2, names, MSSL_ARRAY_SIZE(names));
	if (mssl_report_n_findings(r) != 3)
		dump(r);
	assert_int_equal(mssl_report_n_findings(r), 3);
	assert_string_equal(mssl_report_finding(r, 0)->code, "domain.too_deep");
	assert_string_equal(mssl_report_finding(r, 0)->value,
			    "www.level2.twca.com.tw");
	assert_string_equal(mssl_report_finding(r, 1)->code,
			    "domain.not_agreed");
	assert_string_equal(mssl_report_finding(r, 1)->value, "evil.com");
	assert_string_equal(mssl_report_finding(r, 2)->code, "domain.too_deep");
	assert_string_equal(mssl_report_finding(r, 2)->value,
			    "x.y.mis.twca.com.tw");
	assert_int_equal(mssl_report_n_verdicts(r), MSSL_ARRAY_SIZE(names));
	for (i = 0; i < MSSL_ARRAY_SIZE(names); i++)
		if (mssl_report_verdict(r, i)->accepted != accepted[i]) {
			dump(r);
			fail_msg("%s: expected %s", names[i],
				 accepted[i] ? "accepted" : "refused");
		}
	assert_string_equal(mssl_report_verdict(r, 5)->rule_en,
			    "wildcard for one label under twca.com.tw");
	assert_false(mssl_report_issuable(r));
	mssl_report_free(r);
}

/* A name of 127 labels against many candidate domains: stays quick. */
static void test_deep_name(void **state)
{
	struct fx *f = *state;
	char name[2 * 127 + 16], shown[300];
	const char *domains[127];
	const char *names[1] = { name };
	mssl_report *r;
	size_t i;

	for (i = 0; i < 126; i++) {
		name[2 * i] = 'a';
		name[2 * i + 1] = '.';
	}
	memcpy(name + 2 * 126, "tw", 3);
	/* Every proper ancestor as an agreed domain, nearest last. */
	for (i = 0; i < 126; i++)
		domains[i] = name + 2 * (126 - i);
	r = run(f, domains, 126, names, 1);
	/* The parent is agreed: one label under it. */
	assert_int_equal(mssl_report_n_findings(r), 0);
	assert_true(mssl_report_verdict(r, 0)->accepted);
	mssl_report_free(r);
	/* Without the parent: too deep, naming the nearest ancestor. */
	r = run(f, domains, 125, names, 1);
	assert_int_equal(mssl_report_n_findings(r), 1);
	assert_string_equal(mssl_report_finding(r, 0)->code, "domain.too_deep");
	snprintf(shown, sizeof(shown), "agreed domain %s:", domains[124]);
	assert_non_null(strstr(mssl_report_finding(r, 0)->message_en, shown));
	mssl_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_name, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("validate-domains", tests, NULL,
					   NULL);
}
