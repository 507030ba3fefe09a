/*
 * The validate-org plugin (SPEC §2, §4.1), loaded from the build tree's
 * plugin directory through the library's loader and called directly with
 * hand-built subjects.  Each case changes a valid subject and states the
 * exact findings expected, in order: code, field and value, and the texts
 * the English message must show.  The configuration cases open a context
 * with an [validate-org] section.
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

#define MAX_EXP 12
#define ORG "TWCA Inc."

struct fx {
	char *dir;
	mssl_ctx *ctx;
	struct mssl__plugin *pl;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	mssl_error *err = mssl_error_new();
	int rc;

	assert_non_null(f);
	f->dir = th_mkdtemp();
	f->ctx = th_ctx_open(f->dir, "");
	rc = mssl__plugin_load(f->ctx, "validate-org", MSSL_PLUGIN_VALIDATOR,
			       &f->pl, err);
	if (rc < 0)
		fail_msg("cannot load validate-org: %s: %s", mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	assert_int_equal(f->pl->p->kind, MSSL_PLUGIN_VALIDATOR);
	assert_string_equal(f->pl->p->name, "validate-org");
	assert_non_null(f->pl->p->config_keys);
	assert_string_equal(f->pl->p->config_keys[0], "iso_codes_dir");
	assert_null(f->pl->p->config_keys[1]);
	assert_non_null(f->pl->p->ops);
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

/* ---- cases ------------------------------------------------------------- */

/* In a case's subject: NULL keeps the valid value, NONE removes it. */
static const char none_marker[] = "(none)";
#define NONE none_marker

struct subj {
	const char *c, *st, *l, *o, *ou, *cn, *sn, *bc, *jc, *jst, *jl;
	unsigned n_rep;
	const char *rep;
};

/* One expected finding; the message must show 'shown' (NULL: the value)
 * and 'also' (when set). */
struct exp {
	const char *code;
	const char *field;
	const char *value;
	const char *shown;
	const char *also;
};

struct ocase {
	const char *what;
	struct subj s;
	struct exp exp[MAX_EXP];
};

/* clang-format off */
#define E(code, field, value) { code, field, value, NULL, NULL }
#define ES(code, field, value, shown) { code, field, value, shown, NULL }
#define ES2(code, field, value, shown, also) { code, field, value, shown, also }
/* clang-format on */

static const char *pick(const char *base, const char *c)
{
	if (!c)
		return base;
	return c == NONE ? NULL : c;
}

static mssl_report *run(struct fx *f, const struct subj *s)
{
	const struct mssl_validator_ops *ops = f->pl->p->ops;
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check_request req = { 0 };
	struct mssl_check in = { 0 };
	mssl_report *r = mssl__report_new();
	int rc;

	assert_non_null(r);
	csr.subject.c = pick("TW", s->c);
	csr.subject.st = pick(NULL, s->st);
	csr.subject.l = pick("Taipei City", s->l);
	csr.subject.o = pick(ORG, s->o);
	csr.subject.ou = pick(NULL, s->ou);
	csr.subject.cn = pick("www.twca.com.tw", s->cn);
	csr.subject.serial_number = pick(NULL, s->sn);
	csr.subject.business_category = pick(NULL, s->bc);
	csr.subject.jur_c = pick(NULL, s->jc);
	csr.subject.jur_st = pick(NULL, s->jst);
	csr.subject.jur_l = pick(NULL, s->jl);
	csr.subject.n_repeated = s->n_rep;
	csr.subject.repeated = s->rep;
	csr.names = &csr.subject.cn;
	csr.n_names = csr.subject.cn ? 1 : 0;
	acct.id = "70759028-01";
	acct.ubn = "70759028";
	acct.org_name_en = ORG;
	acct.products = MSSL_PRODUCT_SSL;
	req.product = MSSL_PRODUCT_SSL;
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	in.request = &req;
	rc = ops->check(f->pl->state, &in,
			mssl__report_collector(r, "validate-org"));
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
		assert_string_equal(g->source, "validate-org");
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

/* Long values, built by make_long(). */
static char a64[65], a65[66], o65[66], l128zh[128 * 3 + 1], l129[130];
static char st128[129], st129[130];

static void make_long(void)
{
	size_t i;

	memset(a64, 'a', 64);
	memset(a65, 'a', 65);
	memset(o65, 'O', 65);
	for (i = 0; i < 128; i++)
		memcpy(l128zh + 3 * i, "\xe5\x8f\xb0", 3); /* 台 */
	memset(l129, 'L', 129);
	memset(st128, 's', 128);
	memset(st129, 's', 129);
}

static const struct ocase cases[] = {
	{ "valid subject", { 0 }, { { 0 } } },
	{ "ST instead of L", { .l = NONE, .st = "Taiwan" }, { { 0 } } },
	{ "L and ST", { .st = "Taiwan" }, { { 0 } } },
	{ "another country", { .c = "JP" }, { { 0 } } },

	/* O: exactly the registered English name. */
	{ "O in other case",
	  { .o = "Twca Inc." },
	  { ES2("org.mismatch", "subject.O", "Twca Inc.", "\"Twca Inc.\"",
		"Use exactly \"" ORG "\"") } },
	{ "O all upper case",
	  { .o = "TWCA INC." },
	  { ES2("org.mismatch", "subject.O", "TWCA INC.", "letter case",
		"\"" ORG "\"") } },
	{ "O without the full stop",
	  { .o = "TWCA Inc" },
	  { ES2("org.mismatch", "subject.O", "TWCA Inc", "punctuation",
		"\"" ORG "\"") } },
	{ "O with two spaces",
	  { .o = "TWCA  Inc." },
	  { ES2("org.mismatch", "subject.O", "TWCA  Inc.", "spaces",
		"\"" ORG "\"") } },
	{ "O with a trailing space",
	  { .o = "TWCA Inc. " },
	  { ES2("org.mismatch", "subject.O", "TWCA Inc. ", "spaces",
		"\"" ORG "\"") } },
	{ "O in other case, without the full stop",
	  { .o = "Twca Inc" },
	  { ES2("org.mismatch", "subject.O", "Twca Inc", "\"Twca Inc\"",
		"Use exactly \"" ORG "\"") } },
	{ "O another name",
	  { .o = "Chunghwa Telecom Co., Ltd." },
	  { ES2("org.mismatch", "subject.O", "Chunghwa Telecom Co., Ltd.",
		"\"Chunghwa Telecom Co., Ltd.\"", "ask the CA") } },
	{ "O the Chinese name",
	  { .o = "\xe8\xb2\xa1\xe5\x9c\x98\xe6\xb3\x95\xe4\xba\xba" },
	  { E("org.mismatch", "subject.O",
	      "\xe8\xb2\xa1\xe5\x9c\x98\xe6\xb3\x95\xe4\xba\xba") } },
	{ "O missing",
	  { .o = NONE },
	  { ES("org.missing", "subject.O", NULL, "O = \"" ORG "\"") } },
	{ "O empty",
	  { .o = "" },
	  { ES("org.missing", "subject.O", NULL, ORG) } },

	/* Required attributes. */
	{ "CN missing",
	  { .cn = NONE },
	  { ES("subject.cn_missing", "subject.CN", NULL, "common name") } },
	{ "C missing",
	  { .c = NONE },
	  { ES("subject.country_missing", "subject.C", NULL, "C = TW") } },
	{ "L and ST missing",
	  { .l = NONE },
	  { ES("subject.locality_missing", "subject.L", NULL, "(ST)") } },
	{ "L empty, ST missing",
	  { .l = "" },
	  { ES("subject.locality_missing", "subject.L", NULL, "(L)") } },

	/* C: an upper-case ISO 3166-1 alpha-2 code. */
	{ "C lower case",
	  { .c = "tw" },
	  { ES2("subject.country_invalid", "subject.C", "tw", "\"tw\"",
		"upper case. Use C = TW") } },
	{ "C mixed case",
	  { .c = "Jp" },
	  { ES2("subject.country_invalid", "subject.C", "Jp", "\"Jp\"",
		"C = JP") } },
	{ "C unassigned",
	  { .c = "XX" },
	  { ES2("subject.country_invalid", "subject.C", "XX", "\"XX\"",
		"not an ISO 3166-1 alpha-2") } },
	{ "C alpha-3",
	  { .c = "TWN" },
	  { ES2("subject.country_invalid", "subject.C", "TWN", "\"TWN\"",
		"three-letter ISO 3166-1 code, but C takes the two-letter code. Use C = TW") } },
	{ "C alpha-3 lower case",
	  { .c = "deu" },
	  { ES2("subject.country_invalid", "subject.C", "deu", "\"deu\"",
		"C = DE") } },
	{ "C a name",
	  { .c = "Taiwan" },
	  { ES2("subject.country_invalid", "subject.C", "Taiwan", "\"Taiwan\"",
		"not an ISO 3166-1 alpha-2") } },
	{ "C one letter",
	  { .c = "T" },
	  { ES("subject.country_invalid", "subject.C", "T", "\"T\"") } },
	{ "C with a space",
	  { .c = "TW " },
	  { ES("subject.country_invalid", "subject.C", "TW ", "\"TW \"") } },

	/* OU: refused. */
	{ "OU",
	  { .ou = "IT Department" },
	  { ES2("subject.ou", "subject.OU", "IT Department",
		"\"IT Department\"", "Remove OU") } },
	{ "OU empty",
	  { .ou = "" },
	  { ES("subject.ou", "subject.OU", "", "Remove OU") } },

	/* Repeated attributes. */
	{ "CN repeated",
	  { .n_rep = 1, .rep = "CN" },
	  { ES2("subject.repeated", "subject", "CN", "attribute CN",
		"all: 1") } },
	{ "several repeated",
	  { .n_rep = 3, .rep = "OU" },
	  { ES2("subject.repeated", "subject", "OU", "attribute OU",
		"all: 3") } },

	/* X.520 upper bounds, in characters. */
	{ "CN of 64", { .cn = a64 }, { { 0 } } },
	{ "CN of 65",
	  { .cn = a65 },
	  { ES2("subject.field_too_long", "subject.CN", a65, "CN is 65",
		"at most 64") } },
	{ "O of 65",
	  { .o = o65 },
	  { E("org.mismatch", "subject.O", o65),
	    ES2("subject.field_too_long", "subject.O", o65, "O is 65",
		"at most 64") } },
	{ "L of 128 Chinese characters", { .l = l128zh }, { { 0 } } },
	{ "L of 129",
	  { .l = l129 },
	  { ES2("subject.field_too_long", "subject.L", l129, "L is 129",
		"at most 128") } },
	{ "ST of 128", { .st = st128 }, { { 0 } } },
	{ "ST of 129",
	  { .st = st129 },
	  { ES2("subject.field_too_long", "subject.ST", st129, "ST is 129",
		"at most 128") } },

	/* Control characters, in any attribute. */
	{ "tab in CN",
	  { .cn = "www\t.twca.com.tw" },
	  { ES2("subject.characters", "subject.CN", "www\t.twca.com.tw",
		"U+0009", "attribute CN") } },
	{ "newline in O",
	  { .o = ORG "\n" },
	  { E("org.mismatch", "subject.O", ORG "\n"),
	    ES2("subject.characters", "subject.O", ORG "\n", "U+000A",
		"attribute O") } },
	{ "DEL in L",
	  { .l = "Taipei\x7f" },
	  { ES("subject.characters", "subject.L", "Taipei\x7f", "U+007F") } },
	{ "C1 control in ST",
	  { .st = "Tai\xc2\x85wan" },
	  { ES("subject.characters", "subject.ST", "Tai\xc2\x85wan",
	       "U+0085") } },
	{ "non-control Unicode is fine",
	  { .l = "Taipei \xc2\xa0\xe5\x8f\xb0\xe5\x8c\x97" },
	  { { 0 } } },
	{ "controls in the EV attributes",
	  { .sn = "7075\0019028",
	    .bc = "Private\tOrganization",
	    .jc = "T\x1fW",
	    .jst = "a\x1b",
	    .jl = "b\r" },
	  { ES("subject.characters", "subject.serialNumber", "7075\0019028",
	       "U+0001"),
	    ES("subject.characters", "subject.businessCategory",
	       "Private\tOrganization", "U+0009"),
	    ES("subject.characters", "subject.jurisdictionC", "T\x1fW",
	       "U+001F"),
	    ES("subject.characters", "subject.jurisdictionST", "a\x1b",
	       "U+001B"),
	    ES("subject.characters", "subject.jurisdictionL", "b\r",
	       "U+000D") } },
	{ "control in C",
	  { .c = "T\x01" },
	  { ES("subject.country_invalid", "subject.C", "T\x01", "\"T\x01\""),
	    ES("subject.characters", "subject.C", "T\x01", "U+0001") } },

	/* Everything at once: every finding, in the stated order. */
	{ "everything wrong",
	  { .c = "tw",
	    .l = NONE,
	    .o = "twca inc",
	    .ou = "IT",
	    .cn = NONE,
	    .n_rep = 2,
	    .rep = "O" },
	  { E("subject.repeated", "subject", "O"),
	    E("org.mismatch", "subject.O", "twca inc"),
	    E("subject.cn_missing", "subject.CN", NULL),
	    ES("subject.country_invalid", "subject.C", "tw", "TW"),
	    E("subject.locality_missing", "subject.L", NULL),
	    E("subject.ou", "subject.OU", "IT") } },
	{ "empty subject",
	  { .c = NONE, .l = NONE, .o = NONE, .cn = NONE },
	  { E("org.missing", "subject.O", NULL),
	    E("subject.cn_missing", "subject.CN", NULL),
	    E("subject.country_missing", "subject.C", NULL),
	    E("subject.locality_missing", "subject.L", NULL) } },
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
		r = run(f, &cases[i].s);
		expect(what, r, cases[i].exp);
		mssl_report_free(r);
	}
}

/* Every product gets the same rules (EV too). */
static void test_every_product(void **state)
{
	static const uint32_t products[] = { MSSL_PRODUCT_SSL,
					     MSSL_PRODUCT_WILDCARD,
					     MSSL_PRODUCT_EV };
	struct fx *f = *state;
	const struct mssl_validator_ops *ops = f->pl->p->ops;
	struct mssl_csr_info csr = { 0 };
	struct mssl_check_account acct = { 0 };
	struct mssl_check_request req = { 0 };
	struct mssl_check in = { 0 };
	size_t i;

	csr.subject.c = "TW";
	csr.subject.o = "Twca";
	csr.subject.ou = "IT";
	acct.id = "70759028-01";
	acct.ubn = "70759028";
	acct.org_name_en = ORG;
	acct.ev_country = "TW";
	acct.ev_category = "Private Organization";
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = &csr;
	in.account = &acct;
	in.request = &req;
	for (i = 0; i < MSSL_ARRAY_SIZE(products); i++) {
		static const struct exp exp[] = {
			E("org.mismatch", "subject.O", "Twca"),
			E("subject.cn_missing", "subject.CN", NULL),
			E("subject.locality_missing", "subject.L", NULL),
			E("subject.ou", "subject.OU", "IT"),
			{ 0 },
		};
		mssl_report *r = mssl__report_new();

		assert_non_null(r);
		req.product = products[i];
		assert_int_equal(
			ops->check(f->pl->state, &in,
				   mssl__report_collector(r, "validate-org")),
			0);
		expect("every product", r, exp);
		mssl_report_free(r);
	}
}

/* ---- configuration ----------------------------------------------------- */

/* Open a context whose [validate-org] section is 'section'. */
static int open_with(const char *dir, const char *section, mssl_ctx **ctx,
		     mssl_error *err)
{
	char *extra = NULL, *conf;
	int rc;

	if (asprintf(&extra,
		     "[mssl]\nvalidators = validate-org\n\n[validate-org]\n%s",
		     section) < 0)
		fail_msg("out of memory");
	conf = th_write_config(dir, NULL, extra);
	rc = mssl_ctx_open_file(conf, ctx, err);
	free(extra);
	free(conf);
	return rc;
}

static struct mssl__plugin *find_plugin(mssl_ctx *ctx)
{
	struct mssl__plugin *pl;

	for (pl = ctx->plugins; pl; pl = pl->next)
		if (strcmp(pl->p->name, "validate-org") == 0)
			return pl;
	fail_msg("validate-org is not loaded");
	return NULL;
}

/* A list of our own: only its codes are countries. */
static void test_config_dir(void **state)
{
	static const struct ocase own[] = {
		{ "TW in the list", { .c = "TW" }, { { 0 } } },
		{ "ZZ in the list", { .c = "ZZ" }, { { 0 } } },
		{ "JP not in the list",
		  { .c = "JP" },
		  { E("subject.country_invalid", "subject.C", "JP") } },
		{ "alpha-3 of the list",
		  { .c = "ZZZ" },
		  { ES("subject.country_invalid", "subject.C", "ZZZ",
		       "C = ZZ") } },
	};
	mssl_error *err = mssl_error_new();
	char *dir = th_mkdtemp(), *iso, *section = NULL, *file;
	struct fx f = { 0 };
	size_t i;

	(void)state;
	iso = th_mkdtemp();
	file = th_write_file(iso, "iso_3166-1.json",
			     "{\"3166-1\": [\n"
			     " {\"alpha_2\": \"ZZ\", \"alpha_3\": \"ZZZ\"},\n"
			     " {\"alpha_2\": \"TW\", \"alpha_3\": \"TWN\"},\n"
			     " {\"alpha_2\": \"AA\"}\n"
			     "]}\n");
	if (asprintf(&section, "iso_codes_dir = %s\n", iso) < 0)
		fail_msg("out of memory");
	TH_RC(open_with(dir, section, &f.ctx, err), 0, err);
	f.pl = find_plugin(f.ctx);
	/* Read once at start: the file may go. */
	th_rmrf(iso);
	for (i = 0; i < MSSL_ARRAY_SIZE(own); i++) {
		mssl_report *r = run(&f, &own[i].s);

		expect(own[i].what, r, own[i].exp);
		mssl_report_free(r);
	}
	mssl_ctx_free(f.ctx);
	mssl_error_free(err);
	th_rmrf(dir);
	free(dir);
	free(iso);
	free(file);
	free(section);
}

/* A bad iso_codes_dir stops the start, naming the key. */
static void test_config_bad(void **state)
{
	static const struct {
		const char *what;
		const char *json; /* iso_3166-1.json in the directory, or NULL */
		const char *section; /* NULL: iso_codes_dir = the directory */
		const char *key;
	} bad[] = {
		{ "no such directory", NULL,
		  "iso_codes_dir = /nonexistent/iso-codes/json\n",
		  "iso_codes_dir" },
		{ "relative", NULL, "iso_codes_dir = iso-codes/json\n",
		  "iso_codes_dir" },
		{ "empty", NULL, "iso_codes_dir =\n", "iso_codes_dir" },
		{ "no file in the directory", NULL, NULL, "iso_codes_dir" },
		{ "not JSON", "3166-1: TW\n", NULL, "iso_codes_dir" },
		{ "no 3166-1 array", "{\"3166-2\": []}\n", NULL,
		  "iso_codes_dir" },
		{ "empty 3166-1 array", "{\"3166-1\": []}\n", NULL,
		  "iso_codes_dir" },
		{ "an entry without alpha_2",
		  "{\"3166-1\": [{\"alpha_2\": \"TW\"}, {\"name\": \"X\"}]}\n",
		  NULL, "iso_codes_dir" },
		{ "a lower-case alpha_2",
		  "{\"3166-1\": [{\"alpha_2\": \"tw\"}]}\n", NULL,
		  "iso_codes_dir" },
		/* Not a key of this plugin: the host refuses it. */
		{ "unknown key", NULL, "iso_dir = /usr/share\n", "iso_dir" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MSSL_ARRAY_SIZE(bad); i++) {
		mssl_error *err = mssl_error_new();
		char *dir = th_mkdtemp(), *iso = th_mkdtemp();
		char *section = NULL, *file = NULL;
		mssl_ctx *ctx = NULL;
		const char *msg;
		int rc;

		if (bad[i].json)
			file = th_write_file(iso, "iso_3166-1.json",
					     bad[i].json);
		if (bad[i].section)
			section = strdup(bad[i].section);
		else if (asprintf(&section, "iso_codes_dir = %s\n", iso) < 0)
			section = NULL;
		assert_non_null(section);
		rc = open_with(dir, section, &ctx, err);
		msg = mssl_error_message(err, MSSL_LANG_EN);
		if (rc != MSSL_ECONFIG || !strstr(msg, bad[i].key) ||
		    !mssl_error_field(err) ||
		    strcmp(mssl_error_field(err), bad[i].key) != 0)
			fail_msg("%s: expected MSSL_ECONFIG naming %s, got %s "
				 "(field %s): %s",
				 bad[i].what, bad[i].key, mssl_err_name(rc),
				 nn(mssl_error_field(err)), msg);
		if (!strstr(msg, "[validate-org]"))
			fail_msg(
				"%s: the message does not name the section: %s",
				bad[i].what, msg);
		assert_null(ctx);
		mssl_error_free(err);
		th_rmrf(dir);
		th_rmrf(iso);
		free(dir);
		free(iso);
		free(section);
		free(file);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_product, setup,
						teardown),
		cmocka_unit_test(test_config_dir),
		cmocka_unit_test(test_config_bad),
	};

	make_long();
	return cmocka_run_group_tests_name("validate-org", tests, NULL, NULL);
}
