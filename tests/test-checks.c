/*
 * Input checks (libmssl/checks.c): 統一編號, account IDs, agreed domains,
 * e-mail addresses, country codes, product lists.  Each area is a table of
 * inputs and the expected outcome: accepted, or refused with an error id,
 * the field concerned and a text the message must show.
 */
#include "internal.h"
#include "checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"

/* One case: id NULL means accepted. */
struct tcase {
	const char *input;
	const char *id;
	const char *shown; /* must appear in the message; NULL: the input */
	const char *normal; /* expected normalised form (domains) */
};

/*
 * Check one outcome.  A refusal must be MSSL_EINPUT with the expected id
 * and field, and its message in both languages must name the value.
 */
static void expect(const char *what, const struct tcase *t, int rc,
		   mssl_error *err, const char *field)
{
	const char *shown = t->shown ? t->shown : t->input;
	const char *en, *zh;

	if (!shown)
		shown = "";
	if (!t->id) {
		if (rc != 0)
			fail_msg("%s(\"%s\"): expected ok, got %s [%s] %s",
				 what, t->input ? t->input : "(null)",
				 mssl_err_name(rc), mssl_error_id(err),
				 mssl_error_message(err, MSSL_LANG_EN));
		return;
	}
	if (rc != MSSL_EINPUT || strcmp(mssl_error_id(err), t->id) != 0)
		fail_msg("%s(\"%s\"): expected %s, got %s [%s] %s", what,
			 t->input ? t->input : "(null)", t->id,
			 mssl_err_name(rc), mssl_error_id(err),
			 mssl_error_message(err, MSSL_LANG_EN));
	assert_int_equal(mssl_error_code(err), MSSL_EINPUT);
	assert_non_null(mssl_error_field(err));
	assert_string_equal(mssl_error_field(err), field);
	en = mssl_error_message(err, MSSL_LANG_EN);
	zh = mssl_error_message(err, MSSL_LANG_ZH_TW);
	if (!strstr(en, shown))
		fail_msg("%s(\"%s\"): message does not show \"%s\": %s", what,
			 t->input ? t->input : "(null)", shown, en);
	/* Until translations are compiled zh may equal en; never empty. */
	assert_non_null(zh);
	assert_true(zh[0] != '\0');
	/* Chinese text quotes with 「」, so look for the value itself. */
	if (shown[0] == '\'' && strlen(shown) > 2) {
		char bare[64];

		snprintf(bare, sizeof(bare), "%.*s", (int)strlen(shown) - 2,
			 shown + 1);
		shown = bare;
		if (!strstr(zh, shown))
			fail_msg("%s(\"%s\"): zh message does not show \"%s\": %s",
				 what, t->input ? t->input : "(null)", shown,
				 zh);
	} else if (!strstr(zh, shown)) {
		fail_msg("%s(\"%s\"): zh message does not show \"%s\": %s",
			 what, t->input ? t->input : "(null)", shown, zh);
	}
}

/* ---------------------------------------------------------------------
 * 統一編號
 * ------------------------------------------------------------------ */

/*
 * An independent statement of the rule: the 7th digit 7 gives 7 × 4 = 28,
 * 2 + 8 = 10, which counts as either 1 or 0; valid when either sum is
 * divisible by 5.
 */
static bool ref_ubn_ok(const char *d)
{
	static const int w[8] = { 1, 2, 1, 2, 1, 2, 4, 1 };
	int i, p, sum = 0;

	for (i = 0; i < 8; i++) {
		if (i == 6 && d[i] == '7')
			continue;
		p = (d[i] - '0') * w[i];
		sum += p / 10 + p % 10;
	}
	if (d[6] != '7')
		return sum % 5 == 0;
	return (sum + 1) % 5 == 0 || sum % 5 == 0;
}

static const struct tcase ubn_cases[] = {
	{ "70759028", NULL, NULL, NULL }, /* SPEC §2; sum 40 */
	{ "04595257", NULL, NULL, NULL }, /* sum 40 */
	{ "10458575", NULL, NULL, NULL }, /* 7th digit 7, sum 30 */
	/*
	 * Valid only through the 7th-digit rule:
	 *   1×1=1  0×2=0  4×1=4  5×2=10→1  8×1=8  5×2=10→1  7×4=28→10  4×1=4
	 *   sum 29; 29 % 5 = 4, (29 + 1) % 5 = 0.
	 * 10458574 is the example the Ministry of Finance gives for the
	 * special case (with 10458575).
	 */
	{ "10458574", NULL, NULL, NULL },
	{ "70759029", "ubn.checksum", NULL, NULL }, /* sum 41 */
	/* sum 39: +1 would pass, but the 7th digit is 2, not 7. */
	{ "70759027", "ubn.checksum", NULL, NULL },
	/* 7th digit 7, sum 28: neither 28 nor 29 divisible by 5. */
	{ "10458573", "ubn.checksum", NULL, NULL },
	{ "7075902", "ubn.length", NULL, NULL },
	{ "707590280", "ubn.length", NULL, NULL },
	{ "", "ubn.length", NULL, NULL },
	{ "7075902A", "ubn.digits", NULL, NULL },
	{ "7075 9028", "ubn.digits", NULL, NULL },
	{ "-7075902", "ubn.digits", NULL, NULL },
	{ "\xef\xbc\x97\xef\xbc\x90\xef\xbc\x97\xef\xbc\x95", "ubn.digits",
	  NULL, NULL }, /* full-width digits ７０７５ */
};

static void test_ubn_table(void **state)
{
	mssl_error *err = mssl_error_new();
	size_t i;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(ubn_cases); i++) {
		mssl_error_clear(err);
		expect("mssl_ubn_check", &ubn_cases[i],
		       mssl_ubn_check(ubn_cases[i].input, err), err, "ubn");
	}
	mssl_error_clear(err);
	assert_int_equal(mssl_ubn_check(NULL, err), MSSL_EINPUT);
	assert_string_equal(mssl_error_id(err), "ubn.length");
	assert_int_equal(mssl_ubn_check("70759029", NULL), MSSL_EINPUT);
	mssl_error_free(err);
}

/* The arithmetic of the special case, step by step. */
static void test_ubn_special_case(void **state)
{
	static const int w[8] = { 1, 2, 1, 2, 1, 2, 4, 1 };
	const char *u = "10458574";
	int i, p, sum = 0;

	for (i = 0; i < 8; i++) {
		p = (u[i] - '0') * w[i];
		sum += p / 10 + p % 10;
	}
	assert_int_equal(sum, 29);
	assert_int_not_equal(sum % 5, 0);
	assert_int_equal((sum + 1) % 5, 0);
	assert_int_equal(u[6], '7');
	assert_int_equal(mssl_ubn_check(u, NULL), 0);
}

/* Every number in a spread of the range agrees with the reference. */
static void test_ubn_against_reference(void **state)
{
	char u[16];
	unsigned long n;
	size_t valid = 0, special = 0;

	for (n = 0; n < 100000000UL; n += 997) {
		snprintf(u, sizeof(u), "%08lu", n);
		if (ref_ubn_ok(u) != (mssl_ubn_check(u, NULL) == 0))
			fail_msg("%s: reference says %d", u, ref_ubn_ok(u));
		valid += ref_ubn_ok(u);
		special += u[6] == '7' && ref_ubn_ok(u);
	}
	/* About one in five is valid; the special case is exercised. */
	assert_true(valid > 15000 && valid < 30000);
	assert_true(special > 0);
}

/* ---------------------------------------------------------------------
 * Account IDs
 * ------------------------------------------------------------------ */

static const struct tcase account_cases[] = {
	{ "70759028-01", NULL, NULL, NULL },
	{ "70759028-99", NULL, NULL, NULL },
	{ "10458574-02", NULL, NULL, NULL }, /* UBN valid via 7th digit */
	{ "70759028", "account.id_format", NULL, NULL }, /* no serial */
	{ "70759028-1", "account.id_format", NULL, NULL },
	{ "70759028-001", "account.id_format", NULL, NULL },
	{ "70759028-", "account.id_format", NULL, NULL },
	{ "7075902-01", "account.id_format", NULL, NULL },
	{ "707590281-01", "account.id_format", NULL, NULL },
	{ "7075902A-01", "account.id_format", NULL, NULL },
	{ "70759028-0a", "account.id_format", NULL, NULL },
	{ "70759028_01", "account.id_format", NULL, NULL },
	{ "70759028--01", "account.id_format", NULL, NULL },
	{ "70759028-01-", "account.id_format", NULL, NULL },
	{ " 70759028-01", "account.id_format", NULL, NULL },
	{ "", "account.id_format", NULL, NULL },
	{ "70759028-00", "account.id_serial", NULL, NULL },
	{ "70759029-01", "account.id_checksum", NULL, NULL },
	{ "10458573-01", "account.id_checksum", NULL, NULL },
};

static void test_account_id_table(void **state)
{
	mssl_error *err = mssl_error_new();
	size_t i;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(account_cases); i++) {
		mssl_error_clear(err);
		expect("mssl_account_id_check", &account_cases[i],
		       mssl_account_id_check(account_cases[i].input, err), err,
		       "id");
	}
	mssl_error_clear(err);
	assert_int_equal(mssl_account_id_check(NULL, err), MSSL_EINPUT);
	assert_string_equal(mssl_error_id(err), "account.id_format");
	mssl_error_free(err);
}

/* ---------------------------------------------------------------------
 * Agreed domains
 * ------------------------------------------------------------------ */

/* Names of exact lengths, built once. */
static char label63[128], label64[128], name253[300], name254[300];

/*
 * 'total' characters ending in ".example.com.tw": labels of 'a' up to 63
 * long, separated by dots.
 */
static void make_name(char *buf, size_t total)
{
	const char *suffix = ".example.com.tw";
	size_t slen = strlen(suffix), n = total - slen, i;

	for (i = 0; i < n; i++)
		buf[i] = (i % 64 == 63) ? '.' : 'a';
	/* The prefix must not end with a dot (n = 64k would). */
	if (buf[n - 1] == '.')
		abort();
	memcpy(buf + n, suffix, slen + 1);
}

static void make_names(void)
{
	memset(label63, 'b', 63);
	memcpy(label63 + 63, ".com.tw", 8);
	memset(label64, 'b', 64);
	memcpy(label64 + 64, ".com.tw", 8);
	make_name(name253, 253);
	make_name(name254, 254);
}

static const struct tcase domain_cases[] = {
	/* SPEC §2 and its issue. */
	{ "twca.com.tw", NULL, NULL, "twca.com.tw" },
	{ "mis.twca.com.tw", NULL, NULL, "mis.twca.com.tw" },
	{ "TWCA.com.tw", NULL, NULL, "twca.com.tw" },
	{ "Mis.TWCA.COM.TW", NULL, NULL, "mis.twca.com.tw" },
	{ "a-b.com.tw", NULL, NULL, "a-b.com.tw" },
	{ "1.example.com", NULL, NULL, "1.example.com" },
	{ "example.co.uk", NULL, NULL, "example.co.uk" },
	/* Private-section entries are names someone owns. */
	{ "github.io", NULL, NULL, "github.io" },
	/* "*.ck" with the exception "!www.ck". */
	{ "www.ck", NULL, NULL, "www.ck" },
	{ "com.tw", "domain.public_suffix", NULL, NULL },
	{ "COM.TW", "domain.public_suffix", NULL, NULL },
	{ "co.uk", "domain.public_suffix", NULL, NULL },
	{ "gov.tw", "domain.public_suffix", NULL, NULL },
	{ "idv.tw", "domain.public_suffix", NULL, NULL },
	{ "foo.ck", "domain.public_suffix", NULL, NULL }, /* by "*.ck" */
	{ "tw", "domain.single_label", NULL, NULL },
	{ "localhost", "domain.single_label", NULL, NULL },
	/* Internal names: the TLD must be one ICANN delegates. */
	{ "intranet.corp", "domain.unknown_tld", ".corp", NULL },
	{ "host.local", "domain.unknown_tld", ".local", NULL },
	{ "printer.lan", "domain.unknown_tld", ".lan", NULL },
	{ "192.168.1.1", "domain.ip_address", NULL, NULL },
	{ "127.1", "domain.ip_address", NULL, NULL },
	{ "::1", "domain.ip_address", NULL, NULL },
	{ "2001:db8::1", "domain.ip_address", NULL, NULL },
	{ "[2001:db8::1]", "domain.ip_address", NULL, NULL },
	{ "fe80::1%eth0", "domain.ip_address", NULL, NULL },
	{ "xn--fiqs8s.tw", "domain.punycode", "\xe4\xb8\xad\xe5\x9b\xbd.tw",
	  NULL }, /* 中国.tw */
	{ "xn--kpry57d.com.tw", "domain.punycode",
	  "\xe5\x8f\xb0\xe7\x81\xa3.com.tw", NULL }, /* 台灣.com.tw */
	{ "www.XN--KPRY57D.com.tw", "domain.punycode",
	  "\xe5\x8f\xb0\xe7\x81\xa3.com.tw", NULL },
	{ "xn--zz-.com.tw", "domain.hyphen", NULL, NULL },
	{ "xn--a-b.com.tw", "domain.punycode", NULL, NULL }, /* bad Punycode */
	{ "xn--99999999999.com.tw", "domain.punycode", NULL, NULL },
	{ "\xe4\xb8\xad\xe6\x96\x87.tw", "domain.idn", NULL, NULL }, /* 中文 */
	{ "caf\xc3\xa9.com.tw", "domain.idn", NULL, NULL },
	{ "a_b.com.tw", "domain.characters", "'_'", NULL },
	{ "*.twca.com.tw", "domain.characters", "'*'", NULL },
	{ "twca com.tw", "domain.characters", NULL, NULL },
	{ "twca.com.tw/", "domain.characters", "'/'", NULL },
	{ "-a.com.tw", "domain.hyphen", NULL, NULL },
	{ "a-.com.tw", "domain.hyphen", "a-", NULL },
	{ "a..com.tw", "domain.empty_label", NULL, NULL },
	{ ".a.com.tw", "domain.empty_label", NULL, NULL },
	{ "a.com.tw.", "domain.trailing_dot", NULL, NULL },
	{ ".", "domain.trailing_dot", NULL, NULL },
	{ label63, NULL, NULL, label63 },
	{ label64, "domain.label_too_long", NULL, NULL },
	{ name253, NULL, NULL, name253 },
	{ name254, "domain.too_long", NULL, NULL },
	{ "", "domain.empty", NULL, NULL },
};

static void check_domains(psl_ctx_t *psl, mssl_ctx *ctx)
{
	mssl_error *err = mssl_error_new();
	const struct tcase *t;
	char *norm = NULL;
	size_t i;
	int rc;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(domain_cases); i++) {
		t = &domain_cases[i];
		mssl_error_clear(err);
		norm = (char *)"untouched";
		rc = ctx ? mssl_domain_check(ctx, t->input, &norm, err) :
			   mssl__domain_check_psl(psl, t->input, &norm, err);
		expect("mssl_domain_check", t, rc, err, "domain");
		if (t->id) {
			assert_null(norm);
			continue;
		}
		assert_non_null(norm);
		assert_string_equal(norm, t->normal);
		mssl_free(norm);
		/* 'normalised' may be NULL. */
		rc = ctx ? mssl_domain_check(ctx, t->input, NULL, err) :
			   mssl__domain_check_psl(psl, t->input, NULL, err);
		assert_int_equal(rc, 0);
	}
	mssl_error_clear(err);
	rc = ctx ? mssl_domain_check(ctx, NULL, &norm, err) :
		   mssl__domain_check_psl(psl, NULL, &norm, err);
	assert_int_equal(rc, MSSL_EINPUT);
	assert_string_equal(mssl_error_id(err), "domain.empty");
	assert_null(norm);
	mssl_error_free(err);
}

static void test_domain_table(void **state)
{
	psl_ctx_t *psl = NULL;

	assert_int_equal(mssl__psl_load(NULL, &psl, NULL), 0);
	assert_non_null(psl);
	check_domains(psl, NULL);
	psl_free(psl);
}

/* The public entry point, through the context's list loaded on use. */
static void test_domain_ctx(void **state)
{
	mssl_ctx *ctx = NULL;

	assert_int_equal(mssl_ctx_new(&ctx), 0);
	check_domains(NULL, ctx);
	mssl_ctx_free(ctx);
}

static void test_psl_load_missing(void **state)
{
	mssl_error *err = mssl_error_new();
	psl_ctx_t *psl = NULL;

	assert_int_equal(mssl__psl_load("/nonexistent/psl.dafsa", &psl, err),
			 MSSL_ECONFIG);
	assert_null(psl);
	assert_string_equal(mssl_error_id(err), "psl.load");
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "/nonexistent/psl.dafsa"));
	mssl_error_free(err);
}

/* ---------------------------------------------------------------------
 * E-mail addresses
 * ------------------------------------------------------------------ */

static char local64[128], local65[128], email255[300];

static void make_emails(void)
{
	size_t i;

	memset(local64, 'x', 64);
	memcpy(local64 + 64, "@example.com", 13);
	memset(local65, 'x', 65);
	memcpy(local65 + 65, "@example.com", 13);
	/* 64 + "@" + 190 = 255: labels of 'd' with dots, ending ".tw". */
	memset(email255, 'x', 64);
	email255[64] = '@';
	for (i = 65; i < 252; i++)
		email255[i] = ((i - 65) % 50 == 49) ? '.' : 'd';
	memcpy(email255 + 252, ".tw", 4);
}

static const struct tcase email_cases[] = {
	{ "name@example.com.tw", NULL, NULL, NULL },
	{ "First.Last+tag@mail.twca.com.tw", NULL, NULL, NULL },
	{ "o'brien@example.com", NULL, NULL, NULL },
	{ "a@b.co", NULL, NULL, NULL },
	{ "x_y-z@sub-1.example.com", NULL, NULL, NULL },
	{ local64, NULL, NULL, NULL },
	{ "", "email.invalid", NULL, NULL },
	{ "name", "email.invalid", NULL, NULL },
	{ "name@", "email.invalid", NULL, NULL },
	{ "@example.com", "email.invalid", NULL, NULL },
	{ "a@b@example.com", "email.invalid", NULL, NULL },
	{ "name @example.com", "email.invalid", NULL, NULL },
	{ "name@example.com\n", "email.invalid", NULL, NULL },
	{ ".name@example.com", "email.invalid", NULL, NULL },
	{ "name.@example.com", "email.invalid", NULL, NULL },
	{ "na..me@example.com", "email.invalid", NULL, NULL },
	{ "(c)name@example.com", "email.invalid", "'('", NULL },
	{ "\"q\"@example.com", "email.invalid", NULL, NULL },
	{ "name@localhost", "email.invalid", NULL, NULL },
	{ "name@-example.com", "email.invalid", NULL, NULL },
	{ "name@example-.com", "email.invalid", NULL, NULL },
	{ "name@exa_mple.com", "email.invalid", NULL, NULL },
	{ "name@example..com", "email.invalid", NULL, NULL },
	{ "name@.example.com", "email.invalid", NULL, NULL },
	{ "name@example.com.", "email.invalid", NULL, NULL },
	{ "name@[192.168.1.1]", "email.invalid", NULL, NULL },
	{ "\xe7\x8e\x8b@example.com", "email.invalid", NULL, NULL }, /* 王 */
	{ local65, "email.invalid", NULL, NULL },
	{ email255, "email.invalid", NULL, NULL },
};

static void test_email_table(void **state)
{
	mssl_error *err = mssl_error_new();
	size_t i;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(email_cases); i++) {
		mssl_error_clear(err);
		expect("mssl_email_check", &email_cases[i],
		       mssl_email_check(email_cases[i].input,
					"supervisor_email", err),
		       err, "supervisor_email");
	}
	/* Without a field name the field is "email". */
	mssl_error_clear(err);
	assert_int_equal(mssl_email_check("name", NULL, err), MSSL_EINPUT);
	assert_string_equal(mssl_error_field(err), "email");
	mssl_error_free(err);
}

/* ---------------------------------------------------------------------
 * Countries
 * ------------------------------------------------------------------ */

static const struct tcase country_cases[] = {
	{ "TW", NULL, NULL, NULL },
	{ "GB", NULL, NULL, NULL },
	{ "US", NULL, NULL, NULL },
	{ "JP", NULL, NULL, NULL },
	{ "tw", "country.invalid", "TW", NULL }, /* hints the upper case */
	{ "Tw", "country.invalid", "TW", NULL },
	{ "XX", "country.invalid", NULL, NULL },
	{ "ZZ", "country.invalid", NULL, NULL },
	{ "UK", "country.invalid", NULL, NULL },
	{ "TWN", "country.invalid", NULL, NULL },
	{ "T", "country.invalid", NULL, NULL },
	{ "T1", "country.invalid", NULL, NULL },
	{ "", "country.invalid", NULL, NULL },
};

static void check_countries(const struct mssl_countries *list,
			    mssl_ctx *ctx)
{
	mssl_error *err = mssl_error_new();
	size_t i;
	int rc;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(country_cases); i++) {
		mssl_error_clear(err);
		rc = ctx ? mssl_country_check(ctx, country_cases[i].input,
					      "ev_country", err) :
			   mssl__country_check_list(
				   list, country_cases[i].input, "ev_country",
				   err);
		expect("mssl_country_check", &country_cases[i], rc, err,
		       "ev_country");
	}
	mssl_error_free(err);
}

static void test_country_table(void **state)
{
	struct mssl_countries *list = NULL;

	assert_int_equal(mssl__countries_load(NULL, &list, NULL), 0);
	assert_non_null(list);
	assert_true(mssl__country_known(list, "TW"));
	assert_true(mssl__country_known(list, "AW")); /* first in the file */
	assert_true(mssl__country_known(list, "ZW")); /* last in order */
	assert_false(mssl__country_known(list, "tw"));
	assert_false(mssl__country_known(list, NULL));
	assert_false(mssl__country_known(NULL, "TW"));
	check_countries(list, NULL);
	mssl__countries_free(list);
	mssl__countries_free(NULL);
}

static void test_country_ctx(void **state)
{
	mssl_ctx *ctx = NULL;

	assert_int_equal(mssl_ctx_new(&ctx), 0);
	check_countries(NULL, ctx);
	mssl_ctx_free(ctx);
}

static void test_country_load_errors(void **state)
{
	mssl_error *err = mssl_error_new();
	struct mssl_countries *list = NULL;
	char *dir = th_mkdtemp(), *f;

	assert_int_equal(mssl__countries_load("/nonexistent", &list, err),
			 MSSL_ECONFIG);
	assert_null(list);
	assert_string_equal(mssl_error_id(err), "country.load");
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "/nonexistent/iso_3166-1.json"));

	f = th_write_file(dir, "iso_3166-1.json", "{\"3166-1\": 5}");
	mssl_error_clear(err);
	assert_int_equal(mssl__countries_load(dir, &list, err), MSSL_ECONFIG);
	assert_string_equal(mssl_error_id(err), "country.load");
	free(f);

	f = th_write_file(dir, "iso_3166-1.json",
			  "{\"3166-1\": [{\"alpha_2\": \"TW\"}, {}]}");
	mssl_error_clear(err);
	assert_int_equal(mssl__countries_load(dir, &list, err), MSSL_ECONFIG);
	assert_null(list);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "Entry 2"));
	free(f);

	f = th_write_file(dir, "iso_3166-1.json", "not json");
	mssl_error_clear(err);
	assert_int_equal(mssl__countries_load(dir, &list, err), MSSL_ECONFIG);
	free(f);

	th_rmrf(dir);
	free(dir);
	mssl_error_free(err);
}

/* ---------------------------------------------------------------------
 * Products
 * ------------------------------------------------------------------ */

static const struct {
	const char *text;
	const char *id; /* NULL: accepted */
	uint32_t bits;
	const char *shown;
} product_cases[] = {
	{ "ssl", NULL, MSSL_PRODUCT_SSL, NULL },
	{ "ev", NULL, MSSL_PRODUCT_EV, NULL },
	{ "SSL,Wildcard", NULL, MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD,
	  NULL },
	{ "ssl, wildcard ev", NULL, 7, NULL },
	{ "ev,ssl,ev", NULL, MSSL_PRODUCT_SSL | MSSL_PRODUCT_EV, NULL },
	{ " ,ssl,,\t", NULL, MSSL_PRODUCT_SSL, NULL },
	{ "", "products.empty", 0, NULL },
	{ " , ", "products.empty", 0, "" },
	{ "ssl,foo", "products.unknown", 0, "foo" },
	{ "ssl;ev", "products.unknown", 0, "ssl;ev" },
	{ "sslx", "products.unknown", 0, "sslx" },
	{ "ss", "products.unknown", 0, "ss" },
	{ "wildcards", "products.unknown", 0, "wildcards" },
};

static void test_products_parse(void **state)
{
	mssl_error *err = mssl_error_new();
	struct tcase t;
	uint32_t bits;
	size_t i;
	int rc;

	assert_non_null(err);
	for (i = 0; i < MSSL_ARRAY_SIZE(product_cases); i++) {
		mssl_error_clear(err);
		bits = 0xdead;
		rc = mssl_products_parse(product_cases[i].text, "products",
					 &bits, err);
		t.input = product_cases[i].text;
		t.id = product_cases[i].id;
		t.shown = product_cases[i].shown;
		t.normal = NULL;
		expect("mssl_products_parse", &t, rc, err, "products");
		if (t.id)
			assert_int_equal(bits, 0xdead); /* untouched */
		else
			assert_int_equal(bits, product_cases[i].bits);
	}
	mssl_error_clear(err);
	assert_int_equal(mssl_products_parse(NULL, NULL, &bits, err),
			 MSSL_EINPUT);
	assert_string_equal(mssl_error_id(err), "products.empty");
	assert_string_equal(mssl_error_field(err), "products");
	assert_int_equal(mssl_products_parse("ssl", NULL, NULL, NULL),
			 MSSL_EINVAL);
	mssl_error_free(err);
}

static void test_products_format(void **state)
{
	static const struct {
		uint32_t bits;
		const char *text;
	} cases[] = {
		{ 0, "" },
		{ MSSL_PRODUCT_SSL, "ssl" },
		{ MSSL_PRODUCT_EV | MSSL_PRODUCT_SSL, "ssl,ev" },
		{ MSSL_PRODUCT_WILDCARD | 0x80u, "wildcard" },
		{ 0xffffffffu, "ssl,wildcard,ev" },
	};
	uint32_t bits;
	char *s;
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		s = mssl_products_format(cases[i].bits);
		assert_non_null(s);
		assert_string_equal(s, cases[i].text);
		/* Round trip (0 has no text to parse). */
		if (cases[i].bits & 7) {
			assert_int_equal(mssl_products_parse(s, NULL, &bits,
							     NULL),
					 0);
			assert_int_equal(bits, cases[i].bits & 7);
		}
		mssl_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ubn_table),
		cmocka_unit_test(test_ubn_special_case),
		cmocka_unit_test(test_ubn_against_reference),
		cmocka_unit_test(test_account_id_table),
		cmocka_unit_test(test_domain_table),
		cmocka_unit_test(test_domain_ctx),
		cmocka_unit_test(test_psl_load_missing),
		cmocka_unit_test(test_email_table),
		cmocka_unit_test(test_country_table),
		cmocka_unit_test(test_country_ctx),
		cmocka_unit_test(test_country_load_errors),
		cmocka_unit_test(test_products_parse),
		cmocka_unit_test(test_products_format),
	};

	make_names();
	make_emails();
	return cmocka_run_group_tests_name("checks", tests, NULL, NULL);
}
