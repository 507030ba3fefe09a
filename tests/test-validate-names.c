/*
 * The validate-names plugin (SPEC §4.2), loaded from the build tree's
 * plugin directory through the library's loader and called directly with
 * hand-built requests.  Each case states the exact findings expected, in
 * order: severity, code, field and value; every message must show the
 * value (or a stated text) and have a non-empty Traditional Chinese form.
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

#define MAX_EXP 6

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
	rc = mssl__plugin_load(f->ctx, "validate-names", MSSL_PLUGIN_VALIDATOR,
			       &pl, err);
	if (rc < 0)
		fail_msg("cannot load validate-names: %s: %s",
			 mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	assert_int_equal(pl->p->kind, MSSL_PLUGIN_VALIDATOR);
	assert_string_equal(pl->p->name, "validate-names");
	assert_non_null(pl->p->config_keys);
	assert_null(pl->p->config_keys[0]);
	f->ops = pl->p->ops;
	assert_non_null(f->ops);
	assert_non_null(f->ops->check);
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

/* One expected finding; 'shown' must appear in the English message
 * (NULL: the value; "" : nothing in particular). */
struct exp {
	int sev;
	const char *code;
	const char *field;
	const char *value;
	const char *shown;
};

/* clang-format off */
#define E(code, value) { MSSL_SEV_ERROR, code, "name", value, NULL }
#define ES(code, value, shown) { MSSL_SEV_ERROR, code, "name", value, shown }
#define N(code, value) { MSSL_SEV_NOTICE, code, "name", value, NULL }
#define SAN(value, shown) { MSSL_SEV_ERROR, "name.san_type", "san", value, shown }
/* clang-format on */

static mssl_report *run(struct fx *f, const char *cn,
			const struct mssl_san *sans, size_t n_sans,
			const char *const *names, size_t n_names,
			uint32_t product)
{
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check_request req = { 0 };
	struct mssl_check in = { 0 };
	mssl_report *r = mssl__report_new();
	int rc;

	assert_non_null(r);
	csr.subject.cn = cn;
	csr.sans = sans;
	csr.n_sans = n_sans;
	csr.names = names;
	csr.n_names = n_names;
	acct.id = "70759028-01";
	acct.ubn = "70759028";
	acct.org_name_en = "TAIWAN-CA INC.";
	acct.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD;
	req.product = product;
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	in.request = &req;
	rc = f->ops->check(f->state, &in,
			   mssl__report_collector(r, "validate-names"));
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

/* The findings of r are exactly 'e' (terminated by a NULL code). */
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

		if (g->severity != e[i].sev || strcmp(g->code, e[i].code) ||
		    !same(g->field, e[i].field) ||
		    !same(g->value, e[i].value)) {
			dump(r);
			fail_msg("%s: finding %zu: expected [%d] %s %s=%s",
				 what, i, e[i].sev, e[i].code, e[i].field,
				 nn(e[i].value));
		}
		assert_string_equal(g->source, "validate-names");
		if (shown && !strstr(g->message_en, shown))
			fail_msg("%s: %s message does not show \"%s\": %s",
				 what, g->code, shown, g->message_en);
		assert_non_null(g->message_zh);
		if (!g->message_zh[0])
			fail_msg("%s: %s has an empty zh_TW message", what,
				 g->code);
		if (g->value && e[i].field && !strcmp(e[i].field, "name") &&
		    !strstr(g->message_zh, g->value))
			fail_msg("%s: zh_TW message does not show \"%s\": %s",
				 what, g->value, g->message_zh);
	}
}

/* ---- one name at a time ------------------------------------------------ */

struct ncase {
	const char *name;
	uint32_t product;
	struct exp exp[MAX_EXP];
};

#define SSL MSSL_PRODUCT_SSL
#define WILD MSSL_PRODUCT_WILDCARD
#define EV MSSL_PRODUCT_EV

static char label63[64], label64[65], name253[254], name254[255];
static char name253_dot[255];

static void make_long(void)
{
	size_t i;

	memset(label63, 'a', 63);
	memset(label64, 'b', 64);
	/* 253 = 4 labels: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	for (i = 0; i < 253; i++)
		name253[i] = (i % 64 == 63) ? '.' : 'c';
	name253[253] = '\0';
	memcpy(name254, name253, 253);
	name254[252] = 'c';
	name254[253] = 'd';
	name254[254] = '\0';
	memcpy(name253_dot, name253, 253);
	name253_dot[253] = '.';
	name253_dot[254] = '\0';
}

/* Filled in by make_cases (the long names are built at run time). */
static struct ncase cases[] = {
	/* Accepted. */
	{ "www.twca.com.tw", SSL, { { 0 } } },
	{ "WWW.TWCA.COM.TW", SSL, { { 0 } } },
	{ "twca.com.tw", EV, { { 0 } } },
	{ "a--b.twca.com.tw", SSL, { { 0 } } },
	{ "1st.twca.com.tw", SSL, { { 0 } } },
	{ "www.2.twca.com.tw", SSL, { { 0 } } },
	{ "*.twca.com.tw", WILD, { { 0 } } },
	{ "*.TWCA.com.tw", WILD, { { 0 } } },
	{ label63, SSL, { { 0 } } },
	{ name253, SSL, { { 0 } } },

	/* IP addresses, in every form a resolver takes. */
	{ "192.168.1.1", SSL, { E("name.ip_address", "192.168.1.1") } },
	{ "127.1", SSL, { E("name.ip_address", "127.1") } },
	{ "2130706433", SSL, { E("name.ip_address", "2130706433") } },
	{ "0x7f.0.0.1", SSL, { E("name.ip_address", "0x7f.0.0.1") } },
	{ "0X7F.1", SSL, { E("name.ip_address", "0X7F.1") } },
	{ "10.0.0.1.", SSL, { E("name.ip_address", "10.0.0.1.") } },
	{ "999.1.1.1", SSL, { E("name.ip_address", "999.1.1.1") } },
	{ "*.1.2.3.4",
	  WILD,
	  { E("name.ip_address", "*.1.2.3.4"),
	    ES("name.wildcard_missing", NULL, "*.1.2.3.4") } },
	{ "2001:db8::1", SSL, { E("name.ip_address", "2001:db8::1") } },
	{ "[2001:db8::1]", SSL, { E("name.ip_address", "[2001:db8::1]") } },
	{ "::1", SSL, { E("name.ip_address", "::1") } },
	{ "::ffff:192.0.2.1",
	  SSL,
	  { E("name.ip_address", "::ffff:192.0.2.1") } },
	{ "fe80::1%eth0", SSL, { E("name.ip_address", "fe80::1%eth0") } },
	/* Not addresses: a colon is just a bad character. */
	{ "www.twca.com.tw:443",
	  SSL,
	  { ES("name.characters", "www.twca.com.tw:443", "':'") } },
	{ "host:name.twca.com.tw",
	  SSL,
	  { ES("name.characters", "host:name.twca.com.tw", "':'") } },

	/* Internationalised names, raw and in punycode. */
	{ "www.\xe5\x8f\xb0\xe7\x81\xa3.tw",
	  SSL,
	  { E("name.idn", "www.\xe5\x8f\xb0\xe7\x81\xa3.tw") } },
	{ "xn--kpry57d.twca.com.tw",
	  SSL,
	  { ES("name.punycode", "xn--kpry57d.twca.com.tw",
	       "\xe5\x8f\xb0\xe7\x81\xa3.twca.com.tw") } },
	{ "WWW.XN--KPRY57D.TW",
	  SSL,
	  { ES("name.punycode", "WWW.XN--KPRY57D.TW",
	       "\xe5\x8f\xb0\xe7\x81\xa3") } },
	{ "xn--zz.twca.com.tw",
	  SSL,
	  { ES("name.punycode", "xn--zz.twca.com.tw", "xn--zz") } },
	{ "xn--abc-.twca.com.tw",
	  SSL,
	  { ES("name.punycode", "xn--abc-.twca.com.tw", "xn--abc-"),
	    E("name.hyphen", "xn--abc-.twca.com.tw") } },

	/* Characters. */
	{ "my_host.twca.com.tw",
	  SSL,
	  { E("name.underscore", "my_host.twca.com.tw") } },
	{ "_dmarc.twca.com.tw",
	  SSL,
	  { E("name.underscore", "_dmarc.twca.com.tw") } },
	{ "a@b.twca.com.tw",
	  SSL,
	  { ES("name.characters", "a@b.twca.com.tw", "'@'") } },
	{ "a b.twca.com.tw",
	  SSL,
	  { ES("name.characters", "a b.twca.com.tw", "U+0020") } },
	{ "www.twca.com.tw/",
	  SSL,
	  { ES("name.characters", "www.twca.com.tw/", "'/'") } },
	{ "a\tb.twca.com.tw",
	  SSL,
	  { ES("name.characters", "a\tb.twca.com.tw", "U+0009") } },

	/* Hyphens. */
	{ "-www.twca.com.tw",
	  SSL,
	  { ES("name.hyphen", "-www.twca.com.tw", "-www") } },
	{ "www-.twca.com.tw",
	  SSL,
	  { ES("name.hyphen", "www-.twca.com.tw", "www-") } },
	{ "www.twca-.com.tw",
	  SSL,
	  { ES("name.hyphen", "www.twca-.com.tw", "twca-") } },
	{ "-", SSL, { E("name.hyphen", "-") } },

	/* Lengths. */
	{ label64, SSL, { E("name.label_too_long", label64) } },
	{ name254, SSL, { ES("name.too_long", name254, "254") } },
	/* 253 characters and a trailing dot: only the dot is wrong. */
	{ name253_dot, SSL, { E("name.trailing_dot", name253_dot) } },

	/* Dots. */
	{ "www..twca.com.tw",
	  SSL,
	  { E("name.empty_label", "www..twca.com.tw") } },
	{ ".twca.com.tw", SSL, { E("name.empty_label", ".twca.com.tw") } },
	{ "..",
	  SSL,
	  { E("name.empty_label", ".."), E("name.trailing_dot", "..") } },
	{ "", SSL, { ES("name.empty_label", "", "empty") } },
	{ "www.twca.com.tw.",
	  SSL,
	  { E("name.trailing_dot", "www.twca.com.tw.") } },

	/* Wildcards. */
	{ "w*.twca.com.tw",
	  WILD,
	  { E("name.wildcard_position", "w*.twca.com.tw"),
	    ES("name.wildcard_missing", NULL, "w*.twca.com.tw") } },
	{ "a.*.twca.com.tw",
	  SSL,
	  { E("name.wildcard_position", "a.*.twca.com.tw") } },
	{ "**.twca.com.tw",
	  SSL,
	  { E("name.wildcard_position", "**.twca.com.tw") } },
	{ "www.twca.com.*",
	  SSL,
	  { E("name.wildcard_position", "www.twca.com.*") } },
	{ "*",
	  WILD,
	  { E("name.wildcard_position", "*"),
	    ES("name.wildcard_missing", NULL, "*") } },
	{ "*.*.twca.com.tw",
	  WILD,
	  { E("name.wildcard_position", "*.*.twca.com.tw") } },
	{ "*.twca.com.tw",
	  SSL,
	  { E("name.wildcard_product", "*.twca.com.tw") } },
	{ "*.twca.com.tw", EV, { E("name.wildcard_product", "*.twca.com.tw") } },
	{ "www.twca.com.tw",
	  WILD,
	  { ES("name.wildcard_missing", NULL, "www.twca.com.tw") } },

	/* Several faults in one name: one finding per rule broken. */
	{ "My_Bad -name..com.",
	  SSL,
	  { E("name.underscore", "My_Bad -name..com."),
	    ES("name.characters", "My_Bad -name..com.", "U+0020"),
	    E("name.empty_label", "My_Bad -name..com."),
	    E("name.trailing_dot", "My_Bad -name..com.") } },
	{ "-x_\xe5\x8f\xb0.*.tw",
	  SSL,
	  { E("name.idn", "-x_\xe5\x8f\xb0.*.tw"),
	    E("name.underscore", "-x_\xe5\x8f\xb0.*.tw"),
	    E("name.hyphen", "-x_\xe5\x8f\xb0.*.tw"),
	    E("name.wildcard_position", "-x_\xe5\x8f\xb0.*.tw") } },
};

static void test_each_name(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		const struct ncase *c = &cases[i];
		struct mssl_san san = { MSSL_SAN_DNS, c->name };
		char what[128];
		mssl_report *r;

		snprintf(what, sizeof(what), "case %zu \"%.60s\"", i, c->name);
		/* The name as the only DNS SAN, with no CN. */
		r = run(f, NULL, &san, 1, &c->name, 1, c->product);
		expect(what, r, c->exp);
		mssl_report_free(r);
	}
}

/* ---- whole requests ---------------------------------------------------- */

struct rcase {
	const char *what;
	const char *cn;
	struct mssl_san sans[6]; /* up to type 0 */
	const char *names[6]; /* up to NULL */
	uint32_t product;
	struct exp exp[MAX_EXP];
};

static const struct rcase requests[] = {
	{ "no names",
	  NULL,
	  { { 0 } },
	  { NULL },
	  SSL,
	  { ES("name.no_names", NULL, "common name") } },
	{ "no names, only an IP SAN",
	  NULL,
	  { { MSSL_SAN_IP, "192.0.2.1" } },
	  { NULL },
	  SSL,
	  { ES("name.no_names", NULL, "common name"),
	    SAN("IP:192.0.2.1", "192.0.2.1") } },
	{ "SANs of every other type",
	  NULL,
	  { { MSSL_SAN_DNS, "www.twca.com.tw" },
	    { MSSL_SAN_IP, "192.0.2.1" },
	    { MSSL_SAN_EMAIL, "admin@twca.com.tw" },
	    { MSSL_SAN_URI, "https://www.twca.com.tw/" },
	    { MSSL_SAN_IP, "2001:db8::1" },
	    { MSSL_SAN_OTHER, "otherName" } },
	  { "www.twca.com.tw", NULL },
	  SSL,
	  { SAN("IP:192.0.2.1", "192.0.2.1"),
	    SAN("email:admin@twca.com.tw", "admin@twca.com.tw"),
	    SAN("URI:https://www.twca.com.tw/", "https://www.twca.com.tw/"),
	    SAN("IP:2001:db8::1", "2001:db8::1"),
	    SAN("otherName", "otherName") } },
	{ "CN in the SANs (other case)",
	  "WWW.twca.com.tw",
	  { { MSSL_SAN_DNS, "www.TWCA.com.tw" } },
	  { "WWW.twca.com.tw", NULL },
	  SSL,
	  { { 0 } } },
	{ "CN not in the SANs",
	  "www.twca.com.tw",
	  { { MSSL_SAN_DNS, "mail.twca.com.tw" } },
	  { "www.twca.com.tw", "mail.twca.com.tw", NULL },
	  SSL,
	  { N("name.cn_not_in_san", "www.twca.com.tw") } },
	{ "CN only",
	  "www.twca.com.tw",
	  { { 0 } },
	  { "www.twca.com.tw", NULL },
	  SSL,
	  { N("name.cn_not_in_san", "www.twca.com.tw") } },
	{ "repeated SANs",
	  NULL,
	  { { MSSL_SAN_DNS, "a.twca.com.tw" },
	    { MSSL_SAN_DNS, "A.TWCA.com.tw" },
	    { MSSL_SAN_DNS, "b.twca.com.tw" },
	    { MSSL_SAN_EMAIL, "a.twca.com.tw" },
	    { MSSL_SAN_DNS, "a.twca.com.tw" } },
	  { "a.twca.com.tw", "b.twca.com.tw", NULL },
	  SSL,
	  { SAN("email:a.twca.com.tw", "a.twca.com.tw"),
	    N("name.duplicate_san", "A.TWCA.com.tw"),
	    N("name.duplicate_san", "a.twca.com.tw") } },
	{ "every bad name reported",
	  "192.168.1.1",
	  { { MSSL_SAN_DNS, "my_host.twca.com.tw" },
	    { MSSL_SAN_DNS, "ok.twca.com.tw" },
	    { MSSL_SAN_DNS, "-x.twca.com.tw" },
	    { MSSL_SAN_DNS, "*.twca.com.tw" } },
	  { "192.168.1.1", "my_host.twca.com.tw", "ok.twca.com.tw",
	    "-x.twca.com.tw", "*.twca.com.tw", NULL },
	  SSL,
	  { E("name.ip_address", "192.168.1.1"),
	    E("name.underscore", "my_host.twca.com.tw"),
	    E("name.hyphen", "-x.twca.com.tw"),
	    E("name.wildcard_product", "*.twca.com.tw"),
	    N("name.cn_not_in_san", "192.168.1.1") } },
	{ "wildcard among other names",
	  "*.twca.com.tw",
	  { { MSSL_SAN_DNS, "*.twca.com.tw" },
	    { MSSL_SAN_DNS, "twca.com.tw" } },
	  { "*.twca.com.tw", "twca.com.tw", NULL },
	  WILD,
	  { { 0 } } },
	{ "wildcard request without a wildcard",
	  "www.twca.com.tw",
	  { { MSSL_SAN_DNS, "www.twca.com.tw" },
	    { MSSL_SAN_DNS, "w*.twca.com.tw" } },
	  { "www.twca.com.tw", "w*.twca.com.tw", NULL },
	  WILD,
	  { E("name.wildcard_position", "w*.twca.com.tw"),
	    ES("name.wildcard_missing", NULL, "www.twca.com.tw") } },
};

static void test_requests(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(requests); i++) {
		const struct rcase *c = &requests[i];
		size_t n_sans = 0, n_names = 0;
		mssl_report *r;

		while (n_sans < 6 && c->sans[n_sans].type)
			n_sans++;
		while (n_names < 6 && c->names[n_names])
			n_names++;
		r = run(f, c->cn, c->sans, n_sans, c->names, n_names,
			c->product);
		expect(c->what, r, c->exp);
		mssl_report_free(r);
	}
}

/* An error finding on a name makes its verdict "not accepted". */
static void test_ties_to_verdict(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "ok.twca.com.tw", "BAD_NAME.twca.com.tw" };
	struct mssl_san sans[] = { { MSSL_SAN_DNS, "ok.twca.com.tw" },
				   { MSSL_SAN_DNS, "bad_name.twca.com.tw" } };
	struct mssl_findings *out;
	mssl_report *r;

	r = run(f, NULL, sans, 2, names, 2, SSL);
	/* Pretend another validator accepted both names. */
	out = mssl__report_collector(r, "test");
	assert_int_equal(mssl__host.verdict(out, names[0], "test rule"), 0);
	assert_int_equal(mssl__host.verdict(out, names[1], "test rule"), 0);
	assert_int_equal(mssl__report_finish(r, names, 2), 0);
	assert_int_equal(mssl_report_n_verdicts(r), 2);
	assert_true(mssl_report_verdict(r, 0)->accepted);
	assert_false(mssl_report_verdict(r, 1)->accepted);
	assert_false(mssl_report_issuable(r));
	mssl_report_free(r);
}

/* A name of 127 labels and a name of 10000 characters: no trouble. */
static void test_huge(void **state)
{
	struct fx *f = *state;
	char *big = malloc(10001);
	char lab[2 * 127];
	const char *names[2];
	struct mssl_san sans[2];
	mssl_report *r;
	size_t i;

	assert_non_null(big);
	memset(big, 'a', 10000);
	big[10000] = '\0';
	for (i = 0; i < 127; i++) {
		lab[2 * i] = 'a';
		lab[2 * i + 1] = '.';
	}
	lab[2 * 127 - 1] = '\0';
	names[0] = big;
	names[1] = lab;
	sans[0] = (struct mssl_san){ MSSL_SAN_DNS, big };
	sans[1] = (struct mssl_san){ MSSL_SAN_DNS, lab };
	r = run(f, NULL, sans, 2, names, 2, SSL);
	assert_int_equal(mssl_report_n_findings(r), 2);
	assert_string_equal(mssl_report_finding(r, 0)->code,
			    "name.label_too_long");
	assert_string_equal(mssl_report_finding(r, 1)->code, "name.too_long");
	mssl_report_free(r);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ties_to_verdict, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_huge, setup, teardown),
	};

	make_long();
	return cmocka_run_group_tests_name("validate-names", tests, NULL, NULL);
}
