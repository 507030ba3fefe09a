/*
 * The validate-ev plugin (SPEC §2, §4), loaded from the build tree's
 * plugin directory through the library's loader and called directly with
 * hand-built requests.  Each case changes a valid EV request or the
 * account's vetting and states the exact findings expected, in order:
 * code, field and value, and the texts the English message must show.
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

#define MAX_EXP 10
#define MAX_NAMES 5
#define UBN "70759028"
#define PRIV "Private Organization"

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
	rc = mssl__plugin_load(f->ctx, "validate-ev", MSSL_PLUGIN_VALIDATOR,
			       &pl, err);
	if (rc < 0)
		fail_msg("cannot load validate-ev: %s: %s", mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	assert_int_equal(pl->p->kind, MSSL_PLUGIN_VALIDATOR);
	assert_string_equal(pl->p->name, "validate-ev");
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

/* In a case: NULL keeps the valid value, NONE removes it. */
static const char none_marker[] = "(none)";
#define NONE none_marker

/* What a case changes in the account's vetting and in the request. */
struct chg {
	uint32_t product; /* 0: EV */
	/* account */
	const char *ev_country, *ev_state, *ev_locality, *ev_category;
	/* subject */
	const char *sn, *bc, *jc, *jst, *jl;
	/* names (the CN first); names[0] NULL: "www.twca.com.tw" */
	const char *names[MAX_NAMES];
};

struct exp {
	const char *code;
	const char *field;
	const char *value;
	const char *shown; /* NULL: the value */
	const char *also;
};

struct ecase {
	const char *what;
	struct chg c;
	struct exp exp[MAX_EXP];
};

/* clang-format off */
#define E(code, field, value) { code, field, value, NULL, NULL }
#define ES(code, field, value, shown) { code, field, value, shown, NULL }
#define ES2(code, field, value, shown, also) { code, field, value, shown, also }
#define W(name) { "ev.wildcard", "name", name, NULL, NULL }
/* clang-format on */

static const char *pick(const char *base, const char *c)
{
	if (!c)
		return base;
	return c == NONE ? NULL : c;
}

static mssl_report *run(struct fx *f, const struct chg *c)
{
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check_request req = { 0 };
	struct mssl_check in = { 0 };
	const char *www[] = { "www.twca.com.tw" };
	mssl_report *r = mssl__report_new();
	size_t n = 0;
	int rc;

	assert_non_null(r);
	while (n < MAX_NAMES && c->names[n])
		n++;
	csr.names = n ? c->names : www;
	csr.n_names = n ? n : 1;
	csr.subject.c = "TW";
	csr.subject.l = "Taipei City";
	csr.subject.o = "TWCA Inc.";
	csr.subject.cn = csr.names[0];
	csr.subject.serial_number = pick(UBN, c->sn);
	csr.subject.business_category = pick(PRIV, c->bc);
	csr.subject.jur_c = pick("TW", c->jc);
	csr.subject.jur_st = pick(NULL, c->jst);
	csr.subject.jur_l = pick(NULL, c->jl);
	acct.id = "70759028-01";
	acct.ubn = UBN;
	acct.org_name_en = "TWCA Inc.";
	acct.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD |
			MSSL_PRODUCT_EV;
	acct.ev_country = pick("TW", c->ev_country);
	acct.ev_state = pick(NULL, c->ev_state);
	acct.ev_locality = pick(NULL, c->ev_locality);
	acct.ev_category = pick(PRIV, c->ev_category);
	req.product = c->product ? c->product : MSSL_PRODUCT_EV;
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	in.request = &req;
	rc = f->ops->check(f->state, &in,
			   mssl__report_collector(r, "validate-ev"));
	assert_int_equal(rc, 0);
	return r;
}

static const char *nn(const char *s)
{
	return s ? s : "(null)";
}

static void dump(const mssl_report *r)
{
	size_t i;

	for (i = 0; i < mssl_report_n_findings(r); i++) {
		const mssl_finding *g = mssl_report_finding(r, i);

		print_message("  got [%d] %s %s=%s: %s\n", g->severity, g->code,
			      nn(g->field), nn(g->value), g->message_en);
	}
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The findings of r are exactly 'e' (up to a NULL code), all errors. */
static void expect(const char *what, const mssl_report *r, const struct exp *e)
{
	size_t n = 0, i;

	while (n < MAX_EXP && e[n].code)
		n++;
	if (mssl_report_n_findings(r) != n) {
		dump(r);
		fail_msg("%s: expected %zu findings, got %zu", what, n,
			 mssl_report_n_findings(r));
	}
	for (i = 0; i < n; i++) {
		const mssl_finding *g = mssl_report_finding(r, i);
		const char *shown = e[i].shown ? e[i].shown : e[i].value;

		if (g->severity != MSSL_SEV_ERROR ||
		    strcmp(g->code, e[i].code) || !same(g->field, e[i].field) ||
		    !same(g->value, e[i].value)) {
			dump(r);
			fail_msg("%s: finding %zu: expected %s %s=%s", what, i,
				 e[i].code, e[i].field, nn(e[i].value));
		}
		assert_string_equal(g->source, "validate-ev");
		if (shown && !strstr(g->message_en, shown))
			fail_msg("%s: %s message does not show \"%s\": %s",
				 what, g->code, shown, g->message_en);
		if (e[i].also && !strstr(g->message_en, e[i].also))
			fail_msg("%s: %s message does not show \"%s\": %s",
				 what, g->code, e[i].also, g->message_en);
		assert_non_null(g->message_zh);
		if (!g->message_zh[0])
			fail_msg("%s: %s has an empty zh_TW message", what,
				 g->code);
	}
}

#define SSL MSSL_PRODUCT_SSL
#define WILD MSSL_PRODUCT_WILDCARD

static const struct ecase cases[] = {
	/* Accepted. */
	{ "EV, vetted at country level", { 0 }, { { 0 } } },
	{ "EV, vetted with state and locality",
	  { .ev_state = "California",
	    .ev_locality = "Mountain View",
	    .jst = "California",
	    .jl = "Mountain View" },
	  { { 0 } } },
	{ "EV, vetted with a locality only",
	  { .ev_locality = "Taipei City", .jl = "Taipei City" },
	  { { 0 } } },
	{ "EV, other categories",
	  { .ev_category = "Government Entity", .bc = "Government Entity" },
	  { { 0 } } },
	{ "EV, several plain names",
	  { .names = { "twca.com.tw", "www.twca.com.tw", "mis.twca.com.tw" } },
	  { { 0 } } },

	/* serialNumber: the UBN. */
	{ "serialNumber missing",
	  { .sn = NONE },
	  { ES("ev.serial_number", "subject.serialNumber", NULL,
	       "serialNumber = " UBN) } },
	{ "serialNumber empty",
	  { .sn = "" },
	  { ES("ev.serial_number", "subject.serialNumber", NULL, UBN) } },
	{ "serialNumber another UBN",
	  { .sn = "04595257" },
	  { ES2("ev.serial_number", "subject.serialNumber", "04595257",
		"\"04595257\"", "Use serialNumber = " UBN) } },
	{ "serialNumber the account ID",
	  { .sn = "70759028-01" },
	  { ES2("ev.serial_number", "subject.serialNumber", "70759028-01",
		"\"70759028-01\"", "Number " UBN) } },

	/* jurisdictionC. */
	{ "jurisdictionC missing",
	  { .jc = NONE },
	  { ES("ev.jurisdiction_country", "subject.jurisdictionC", NULL,
	       "jurisdictionC = TW") } },
	{ "jurisdictionC another country",
	  { .jc = "US" },
	  { ES2("ev.jurisdiction_country", "subject.jurisdictionC", "US",
		"\"US\"", "Use jurisdictionC = TW") } },
	{ "jurisdictionC lower case",
	  { .jc = "tw" },
	  { ES2("ev.jurisdiction_country", "subject.jurisdictionC", "tw",
		"\"tw\"", "jurisdictionC = TW") } },

	/* jurisdictionST: exactly when vetted. */
	{ "jurisdictionST not vetted but given",
	  { .jst = "Taiwan Province" },
	  { ES2("ev.jurisdiction_state", "subject.jurisdictionST",
		"Taiwan Province", "\"Taiwan Province\"",
		"Remove jurisdictionST") } },
	{ "jurisdictionST vetted but missing",
	  { .ev_state = "California",
	    .ev_locality = "Mountain View",
	    .jl = "Mountain View" },
	  { ES("ev.jurisdiction_state", "subject.jurisdictionST", NULL,
	       "jurisdictionST = California") } },
	{ "jurisdictionST vetted, another given",
	  { .ev_state = "California",
	    .ev_locality = "Mountain View",
	    .jst = "CA",
	    .jl = "Mountain View" },
	  { ES2("ev.jurisdiction_state", "subject.jurisdictionST", "CA",
		"\"CA\"", "jurisdictionST = California") } },

	/* jurisdictionL: exactly when vetted. */
	{ "jurisdictionL not vetted but given",
	  { .jl = "Taipei City" },
	  { ES2("ev.jurisdiction_locality", "subject.jurisdictionL",
		"Taipei City", "\"Taipei City\"", "Remove jurisdictionL") } },
	{ "jurisdictionL vetted but missing",
	  { .ev_locality = "Taipei City" },
	  { ES("ev.jurisdiction_locality", "subject.jurisdictionL", NULL,
	       "jurisdictionL = Taipei City") } },
	{ "jurisdictionL vetted, another given",
	  { .ev_locality = "Taipei City", .jl = "Taipei" },
	  { ES2("ev.jurisdiction_locality", "subject.jurisdictionL", "Taipei",
		"\"Taipei\"", "jurisdictionL = Taipei City") } },
	{ "state and locality given, neither vetted",
	  { .jst = "Taiwan", .jl = "Taipei" },
	  { E("ev.jurisdiction_state", "subject.jurisdictionST", "Taiwan"),
	    E("ev.jurisdiction_locality", "subject.jurisdictionL", "Taipei") } },
	{ "state and locality vetted, neither given",
	  { .ev_state = "California", .ev_locality = "Mountain View" },
	  { ES("ev.jurisdiction_state", "subject.jurisdictionST", NULL,
	       "California"),
	    ES("ev.jurisdiction_locality", "subject.jurisdictionL", NULL,
	       "Mountain View") } },

	/* businessCategory. */
	{ "businessCategory missing",
	  { .bc = NONE },
	  { ES("ev.business_category", "subject.businessCategory", NULL,
	       "businessCategory = " PRIV) } },
	{ "businessCategory not a category (case)",
	  { .bc = "Private organization" },
	  { ES2("ev.business_category", "subject.businessCategory",
		"Private organization", "\"Private organization\"",
		"\"Non-Commercial Entity\"") } },
	{ "businessCategory not a category",
	  { .bc = "Company" },
	  { ES2("ev.business_category", "subject.businessCategory", "Company",
		"\"Company\"", "businessCategory = " PRIV) } },
	{ "businessCategory another category",
	  { .bc = "Business Entity" },
	  { ES2("ev.business_category", "subject.businessCategory",
		"Business Entity", "\"Business Entity\"",
		"vetted category \"" PRIV "\"") } },

	/* Wildcards: every one reported. */
	{ "one wildcard",
	  { .names = { "*.twca.com.tw" } },
	  { W("*.twca.com.tw") } },
	{ "two wildcards among plain names",
	  { .names = { "www.twca.com.tw", "*.twca.com.tw", "twca.com.tw",
		       "*.mis.twca.com.tw" } },
	  { W("*.twca.com.tw"), W("*.mis.twca.com.tw") } },
	{ "a '*' elsewhere is validate-names' business",
	  { .names = { "w*.twca.com.tw", "a.*.twca.com.tw" } },
	  { { 0 } } },

	/* Not vetted: the product is not for this account. */
	{ "no ev_country",
	  { .ev_country = NONE },
	  { ES2("ev.not_allowed", "product", "EV", "70759028-01",
		"no EV vetting") } },
	{ "no ev_category",
	  { .ev_category = NONE },
	  { ES("ev.not_allowed", "product", "EV", "70759028-01") } },
	{ "empty ev_country",
	  { .ev_country = "" },
	  { ES("ev.not_allowed", "product", "EV", "70759028-01") } },
	{ "not vetted: only the UBN and wildcards besides",
	  { .ev_country = NONE,
	    .ev_category = NONE,
	    .sn = "12345678",
	    .bc = "Company",
	    .jc = NONE,
	    .jst = "X",
	    .jl = "Y",
	    .names = { "*.twca.com.tw" } },
	  { E("ev.not_allowed", "product", "EV"),
	    E("ev.serial_number", "subject.serialNumber", "12345678"),
	    W("*.twca.com.tw") } },

	/* Everything wrong at once: every finding, in the stated order. */
	{ "everything wrong",
	  { .ev_state = "California",
	    .sn = NONE,
	    .bc = "Business Entity",
	    .jc = "US",
	    .jl = "Taipei",
	    .names = { "*.twca.com.tw", "www.twca.com.tw", "*.a.twca.com.tw" } },
	  { E("ev.serial_number", "subject.serialNumber", NULL),
	    E("ev.jurisdiction_country", "subject.jurisdictionC", "US"),
	    E("ev.jurisdiction_state", "subject.jurisdictionST", NULL),
	    E("ev.jurisdiction_locality", "subject.jurisdictionL", "Taipei"),
	    E("ev.business_category", "subject.businessCategory",
	      "Business Entity"),
	    W("*.twca.com.tw"), W("*.a.twca.com.tw") } },

	/* Not an EV request: nothing, whatever the subject and vetting. */
	{ "SSL request with bad EV attributes",
	  { .product = SSL,
	    .sn = "1",
	    .bc = "Company",
	    .jc = "us",
	    .jst = "X",
	    .jl = "Y",
	    .names = { "*.twca.com.tw" } },
	  { { 0 } } },
	{ "Wildcard request from an unvetted account",
	  { .product = WILD,
	    .ev_country = NONE,
	    .ev_category = NONE,
	    .sn = NONE,
	    .bc = NONE,
	    .jc = NONE,
	    .names = { "*.twca.com.tw", "*.mis.twca.com.tw" } },
	  { { 0 } } },
	{ "SSL request with EV attributes vetted but missing",
	  { .product = SSL,
	    .ev_state = "California",
	    .ev_locality = "Mountain View",
	    .sn = NONE,
	    .bc = NONE,
	    .jc = NONE },
	  { { 0 } } },
};

static void test_cases(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		char what[128];
		mssl_report *r;

		snprintf(what, sizeof(what), "case %zu \"%s\"", i,
			 cases[i].what);
		r = run(f, &cases[i].c);
		expect(what, r, cases[i].exp);
		mssl_report_free(r);
	}
}

/* A request with no product set (no request at all) records nothing. */
static void test_no_request(void **state)
{
	struct fx *f = *state;
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check in = { 0 };
	const char *names[] = { "*.twca.com.tw" };
	mssl_report *r = mssl__report_new();

	assert_non_null(r);
	csr.names = names;
	csr.n_names = 1;
	acct.id = "70759028-01";
	acct.ubn = UBN;
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	assert_int_equal(
		f->ops->check(f->state, &in,
			      mssl__report_collector(r, "validate-ev")),
		0);
	assert_int_equal(mssl_report_n_findings(r), 0);
	mssl_report_free(r);
}

/* A wildcard error makes that name's verdict "not accepted". */
static void test_ties_to_verdict(void **state)
{
	static const struct chg c = {
		.names = { "www.twca.com.tw", "*.twca.com.tw" },
	};
	struct fx *f = *state;
	struct mssl_findings *out;
	mssl_report *r;

	r = run(f, &c);
	out = mssl__report_collector(r, "test");
	assert_int_equal(mssl__host.verdict(out, c.names[0], "test rule"), 0);
	assert_int_equal(mssl__host.verdict(out, c.names[1], "test rule"), 0);
	assert_int_equal(mssl__report_finish(r, c.names, 2), 0);
	assert_int_equal(mssl_report_n_verdicts(r), 2);
	assert_true(mssl_report_verdict(r, 0)->accepted);
	assert_false(mssl_report_verdict(r, 1)->accepted);
	assert_false(mssl_report_issuable(r));
	mssl_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ties_to_verdict, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("validate-ev", tests, NULL, NULL);
}
