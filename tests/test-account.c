/*
 * Accounts (SPEC §2): creation with every field and what comes back,
 * refused input naming its field and writing nothing, changes,
 * suspension, agreed domains (checked, lower-cased, one account's unless
 * forced), contacts, and the notices each actor sees.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static mssl_account_info *get(struct fx *f, const mssl_actor *a,
			      const char *id)
{
	mssl_account_info *info = NULL;

	TH_RC(mssl_account_get(f->ctx, a, id, &info, f->err), 0, f->err);
	assert_non_null(info);
	return info;
}

/*
 * A refusal: code, id (NULL: any), field (NULL: none expected), messages
 * in both languages, nothing written, one "refused" audit record.
 */
static void expect_refused(struct fx *f, const char *what, int rc, int want,
			   const char *id, const char *field,
			   const char *before, int64_t seq,
			   const char *action)
{
	struct fx_audit *r;
	char *after;

	if (rc != want || (id && strcmp(mssl_error_id(f->err), id) != 0) ||
	    !fx_streq(mssl_error_field(f->err), field))
		fail_msg("%s: expected %s [%s] field %s, got %s [%s] field %s: "
			 "%s",
			 what, mssl_err_name(want), id ? id : "*",
			 field ? field : "NULL", mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_field(f->err) ? mssl_error_field(f->err) :
						    "NULL",
			 mssl_error_message(f->err, MSSL_LANG_EN));
	assert_true(mssl_error_message(f->err, MSSL_LANG_EN)[0]);
	assert_true(mssl_error_message(f->err, MSSL_LANG_ZH_TW)[0]);
	after = fx_snapshot(f);
	if (strcmp(before, after) != 0)
		fail_msg("%s was refused but wrote:\nbefore %s\nafter  %s",
			 what, before, after);
	free(after);
	r = fx_audit_one(f, seq, action, "refused", "operator");
	fx_audit_free(r, 1);
}

/* ---------------------------------------------------------------------
 * Creating
 * ------------------------------------------------------------------ */

static mssl_account_spec ev_spec(const char *id)
{
	mssl_account_spec s = fx_spec(id);

	s.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD | MSSL_PRODUCT_EV;
	s.ev_country = "TW";
	s.ev_state = "Taiwan";
	s.ev_locality = "Taipei City";
	s.ev_category = MSSL_EV_PRIVATE;
	return s;
}

static int count_accounts(void *ud, const mssl_account_info *a)
{
	int *n = ud;

	(*n)++;
	assert_string_equal(a->id, FX_A);
	assert_string_equal(a->org_name_en, "TAIWAN-CA INC.");
	assert_int_equal(a->balance, 0);
	assert_int_equal(a->status, MSSL_ACCOUNT_ACTIVE);
	assert_int_equal(a->n_domains, 0);
	assert_int_equal(a->n_contacts, 0);
	return 0;
}

static void test_create_and_get(void **state)
{
	struct fx *f = *state;
	mssl_account_spec s = ev_spec(FX_A);
	mssl_account_info *i;
	int n = 0;

	f->now = FX_T0 + 5;
	TH_RC(mssl_account_create(f->ctx, f->op, &s, f->err), 0, f->err);
	i = get(f, f->op, FX_A);
	assert_string_equal(i->id, FX_A);
	assert_string_equal(i->org_name_en, "TAIWAN-CA INC.");
	assert_string_equal(i->org_name_zh, "臺灣網路認證股份有限公司");
	assert_int_equal(i->products, MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD |
					      MSSL_PRODUCT_EV);
	assert_string_equal(i->ev_country, "TW");
	assert_string_equal(i->ev_state, "Taiwan");
	assert_string_equal(i->ev_locality, "Taipei City");
	assert_string_equal(i->ev_category, "Private Organization");
	assert_int_equal(i->status, MSSL_ACCOUNT_ACTIVE);
	assert_int_equal(i->created, FX_T0 + 5);
	assert_int_equal(i->balance, 0);
	assert_int_equal(i->n_domains, 0);
	assert_int_equal(i->n_contacts, 1);
	assert_true(i->contacts[0].id > 0);
	assert_string_equal(i->contacts[0].kind, "supervisor");
	assert_string_equal(i->contacts[0].name, "王小明");
	assert_string_equal(i->contacts[0].email, "supervisor@twca.com.tw");
	assert_string_equal(i->contacts[0].phone, "+886-2-2370-8886");
	mssl_account_info_free(i);

	/* Domains come back sorted. */
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_A, "twca.com.tw", 0, f->err),
	      0, f->err);
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_A, "mis.twca.com.tw", 0,
			      f->err),
	      0, f->err);
	i = get(f, f->mgr_a, NULL);
	assert_int_equal(i->n_domains, 2);
	assert_string_equal(i->domains[0], "mis.twca.com.tw");
	assert_string_equal(i->domains[1], "twca.com.tw");
	mssl_account_info_free(i);

	/* The list gives the account without domains and contacts. */
	TH_RC(mssl_account_list(f->ctx, f->op, count_accounts, &n, f->err), 0,
	      f->err);
	assert_int_equal(n, 1);

	/* Optional fields left out come back NULL. */
	s = fx_spec(FX_B);
	s.org_name_zh = NULL;
	s.supervisor_phone = "";
	TH_RC(mssl_account_create(f->ctx, f->op, &s, f->err), 0, f->err);
	i = get(f, f->op, FX_B);
	assert_null(i->org_name_zh);
	assert_null(i->ev_country);
	assert_null(i->ev_category);
	assert_int_equal(i->products, MSSL_PRODUCT_SSL);
	assert_null(i->contacts[0].phone);
	mssl_account_info_free(i);
}

enum change {
	C_ID,
	C_ORG_EN,
	C_SUP_NAME,
	C_SUP_EMAIL,
	C_EV_COUNTRY,
	C_EV_CATEGORY,
	C_PRODUCTS,
};

struct bad {
	const char *what;
	enum change change;
	const char *value; /* for strings */
	uint32_t products; /* for C_PRODUCTS */
	const char *id; /* expected error id, NULL: any */
	const char *field;
};

static const struct bad bad_specs[] = {
	{ "bad ID checksum", C_ID, "70759029-01", 0, "account.id_checksum",
	  "id" },
	{ "ID without serial", C_ID, "70759028", 0, "account.id_format",
	  "id" },
	{ "ID serial 00", C_ID, "70759028-00", 0, "account.id_serial", "id" },
	{ "no ID", C_ID, NULL, 0, NULL, "id" },
	{ "no English name", C_ORG_EN, NULL, 0, "account.org_name_en",
	  "org_name_en" },
	{ "Chinese English name", C_ORG_EN, "臺灣網路認證", 0,
	  "account.org_name_en", "org_name_en" },
	{ "no supervisor", C_SUP_NAME, NULL, 0, "account.supervisor",
	  "supervisor_name" },
	{ "blank supervisor", C_SUP_NAME, "  ", 0, "account.supervisor",
	  "supervisor_name" },
	{ "bad supervisor e-mail", C_SUP_EMAIL, "supervisor.twca.com.tw", 0,
	  "email.invalid", "supervisor_email" },
	{ "no supervisor e-mail", C_SUP_EMAIL, NULL, 0, NULL,
	  "supervisor_email" },
	{ "EV without country", C_EV_COUNTRY, NULL, 0, "account.ev_country",
	  "ev_country" },
	{ "EV without category", C_EV_CATEGORY, NULL, 0,
	  "account.ev_category", "ev_category" },
	{ "EV country XX", C_EV_COUNTRY, "XX", 0, "country.invalid",
	  "ev_country" },
	{ "EV country lower case", C_EV_COUNTRY, "tw", 0, "country.invalid",
	  "ev_country" },
	{ "bad EV category", C_EV_CATEGORY, "Corporation", 0,
	  "account.ev_category", "ev_category" },
	{ "no products", C_PRODUCTS, NULL, 0, "products.empty", "products" },
	{ "unknown product bit", C_PRODUCTS, NULL, MSSL_PRODUCT_SSL | 0x8u,
	  NULL, "products" },
};

static void test_create_bad_input(void **state)
{
	struct fx *f = *state;
	char *before = fx_snapshot(f);
	mssl_account_info *info;
	char wrong[512] = "";
	size_t i, used = 0;
	int64_t seq;
	int rc;

	for (i = 0; i < ARRAY_SIZE(bad_specs); i++) {
		const struct bad *b = &bad_specs[i];
		mssl_account_spec s = ev_spec(FX_A);

		switch (b->change) {
		case C_ID:
			s.id = b->value;
			break;
		case C_ORG_EN:
			s.org_name_en = b->value;
			break;
		case C_SUP_NAME:
			s.supervisor_name = b->value;
			break;
		case C_SUP_EMAIL:
			s.supervisor_email = b->value;
			break;
		case C_EV_COUNTRY:
			s.ev_country = b->value;
			break;
		case C_EV_CATEGORY:
			s.ev_category = b->value;
			break;
		case C_PRODUCTS:
			s.products = b->products;
			break;
		}
		seq = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = mssl_account_create(f->ctx, f->op, &s, f->err);
		/*
		 * Go through every case, then name every wrong one.  (A case
		 * wrongly accepted creates the account: it comes last.)
		 */
		if (rc != MSSL_EINPUT ||
		    !fx_streq(mssl_error_field(f->err), b->field)) {
			used += (size_t)snprintf(
				wrong + used, sizeof(wrong) - used,
				" %s: %s field %s;", b->what,
				mssl_err_name(rc),
				mssl_error_field(f->err) ?
					mssl_error_field(f->err) :
					"NULL");
			if (used >= sizeof(wrong))
				used = sizeof(wrong) - 1;
			continue;
		}
		expect_refused(f, b->what, rc, MSSL_EINPUT, b->id, b->field,
			       before, seq, "account.create");
	}
	free(before);
	if (wrong[0])
		fail_msg("expected MSSL_EINPUT naming the field:%s", wrong);
	info = (mssl_account_info *)0x1;
	TH_RC(mssl_account_get(f->ctx, f->op, FX_A, &info, f->err),
	      MSSL_ENOENT, f->err);
	assert_null(info);
}

static void test_create_duplicate(void **state)
{
	struct fx *f = *state;
	mssl_account_spec s = fx_spec(FX_A);
	mssl_account_info *i;
	char *before = fx_snapshot(f);
	int64_t seq = fx_audit_head(f);
	int rc;

	s.org_name_en = "Someone Else Ltd.";
	rc = mssl_account_create(f->ctx, f->op, &s, f->err);
	expect_refused(f, "duplicate", rc, MSSL_EEXIST, "account.exists", "id",
		       before, seq, "account.create");
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN), FX_A));
	i = get(f, f->op, FX_A);
	assert_string_equal(i->org_name_en, "TAIWAN-CA INC.");
	mssl_account_info_free(i);
	free(before);
}

/* ---------------------------------------------------------------------
 * Changing
 * ------------------------------------------------------------------ */

struct set_case {
	const char *key, *value;
	int rc;
	const char *field; /* when refused */
};

static const struct set_case set_cases[] = {
	{ "org_name_en", "Renamed Co., Ltd.", 0, NULL },
	{ "org_name_en", "", MSSL_EINPUT, "org_name_en" },
	{ "org_name_en", " Leading Space", MSSL_EINPUT, "org_name_en" },
	{ "org_name_zh", "新名稱股份有限公司", 0, NULL },
	/* EV needs its data first. */
	{ "products", "ssl,wildcard,ev", MSSL_EINPUT, "ev_country" },
	{ "ev_country", "XX", MSSL_EINPUT, "ev_country" },
	{ "ev_country", "TW", 0, NULL },
	{ "ev_category", "Corporation", MSSL_EINPUT, "ev_category" },
	{ "products", "ssl,ev", MSSL_EINPUT, "ev_category" },
	{ "ev_category", "Government Entity", 0, NULL },
	{ "ev_state", "Taiwan", 0, NULL },
	{ "ev_locality", "Taipei City", 0, NULL },
	{ "products", "ssl,wildcard,ev", 0, NULL },
	/* With EV, its data cannot be cleared. */
	{ "ev_country", "", MSSL_EINPUT, "ev_country" },
	{ "ev_category", "", MSSL_EINPUT, "ev_category" },
	{ "products", "ssl,foo", MSSL_EINPUT, "products" },
	{ "products", "", MSSL_EINPUT, "products" },
	{ "status", "2", MSSL_EINPUT, "key" },
	{ "balance", "1000", MSSL_EINPUT, "key" },
	{ "id", "70759028-02", MSSL_EINPUT, "key" },
	/* Clearing an optional value. */
	{ "ev_locality", "", 0, NULL },
};

static void test_set(void **state)
{
	struct fx *f = *state;
	mssl_account_info *i;
	struct fx_audit *r;
	char *before;
	int64_t seq;
	size_t k;
	int rc;

	for (k = 0; k < ARRAY_SIZE(set_cases); k++) {
		const struct set_case *c = &set_cases[k];
		char what[128];

		snprintf(what, sizeof(what), "set %s=\"%s\"", c->key, c->value);
		before = fx_snapshot(f);
		seq = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = mssl_account_set(f->ctx, f->op, FX_A, c->key, c->value,
				      f->err);
		if (c->rc) {
			expect_refused(f, what, rc, c->rc, NULL, c->field,
				       before, seq, "account.set");
		} else {
			if (rc != 0)
				fail_msg("%s: %s [%s] %s", what,
					 mssl_err_name(rc),
					 mssl_error_id(f->err),
					 mssl_error_message(f->err,
							    MSSL_LANG_EN));
			r = fx_audit_one(f, seq, "account.set", "ok",
					 "operator");
			assert_non_null(r->detail);
			assert_non_null(strstr(r->detail, c->key));
			fx_audit_free(r, 1);
		}
		free(before);
	}
	i = get(f, f->op, FX_A);
	assert_string_equal(i->org_name_en, "Renamed Co., Ltd.");
	assert_string_equal(i->org_name_zh, "新名稱股份有限公司");
	assert_int_equal(i->products, MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD |
					      MSSL_PRODUCT_EV);
	assert_string_equal(i->ev_country, "TW");
	assert_string_equal(i->ev_category, "Government Entity");
	assert_string_equal(i->ev_state, "Taiwan");
	assert_null(i->ev_locality);
	/* Nothing else moved. */
	assert_string_equal(i->id, FX_A);
	assert_int_equal(i->status, MSSL_ACCOUNT_ACTIVE);
	assert_int_equal(i->balance, 10);
	assert_int_equal(i->created, FX_T0);
	assert_int_equal(i->n_domains, 1);
	mssl_account_info_free(i);
}

static void test_suspend(void **state)
{
	struct fx *f = *state;
	mssl_account_info *i;
	struct fx_audit *r;
	char *before;
	int64_t seq;
	int rc;

	seq = fx_audit_head(f);
	TH_RC(mssl_account_suspend(f->ctx, f->op, FX_A, 1, "unpaid invoice",
				   f->err),
	      0, f->err);
	r = fx_audit_one(f, seq, "account.suspend", "ok", "operator");
	assert_string_equal(r->detail, "suspended: unpaid invoice");
	fx_audit_free(r, 1);
	i = get(f, f->op, FX_A);
	assert_int_equal(i->status, MSSL_ACCOUNT_SUSPENDED);
	mssl_account_info_free(i);

	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_account_suspend(f->ctx, f->op, FX_A, 1, "again", f->err);
	expect_refused(f, "suspend twice", rc, MSSL_ESTATE, "account.status",
		       NULL, before, seq, "account.suspend");
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN),
			       "already suspended"));
	seq = fx_audit_head(f);
	rc = mssl_account_suspend(f->ctx, f->op, FX_A, 0, NULL, f->err);
	expect_refused(f, "no reason", rc, MSSL_EINPUT, NULL, "reason", before,
		       seq, "account.suspend");
	free(before);

	seq = fx_audit_head(f);
	TH_RC(mssl_account_suspend(f->ctx, f->op, FX_A, 0, "paid", f->err), 0,
	      f->err);
	r = fx_audit_one(f, seq, "account.suspend", "ok", "operator");
	assert_string_equal(r->detail, "reactivated: paid");
	fx_audit_free(r, 1);
	i = get(f, f->mgr_a, FX_A);
	assert_int_equal(i->status, MSSL_ACCOUNT_ACTIVE);
	mssl_account_info_free(i);

	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_account_suspend(f->ctx, f->op, FX_A, 0, "paid", f->err);
	expect_refused(f, "reactivate twice", rc, MSSL_ESTATE,
		       "account.status", NULL, before, seq, "account.suspend");
	free(before);
}

/* ---------------------------------------------------------------------
 * Agreed domains
 * ------------------------------------------------------------------ */

struct names {
	char v[8][64];
	int64_t added[8];
	size_t n;
};

static int collect_domain(void *ud, const struct mssl_domain_rec *r)
{
	struct names *l = ud;

	assert_true(l->n < ARRAY_SIZE(l->v));
	snprintf(l->v[l->n], sizeof(l->v[0]), "%s", r->name);
	l->added[l->n++] = r->added;
	return 0;
}

/* The account's domains, joined by spaces. */
static const char *domains(struct fx *f, const mssl_actor *a, const char *id,
			   char *buf, size_t n)
{
	struct names l = { 0 };
	size_t i, used = 0;

	TH_RC(mssl_domain_list(f->ctx, a, id, collect_domain, &l, f->err), 0,
	      f->err);
	buf[0] = '\0';
	for (i = 0; i < l.n && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i ? " " : "", l.v[i]);
	return buf;
}

static void test_domains(void **state)
{
	static const struct {
		const char *name, *id;
	} refused[] = {
		{ "com.tw", "domain.public_suffix" },
		{ "COM.TW", "domain.public_suffix" },
		{ "192.168.1.1", NULL },
		{ "台灣.tw", NULL },
		{ "twca", "domain.single_label" },
		{ "-bad.com.tw", NULL },
	};
	struct fx *f = *state;
	mssl_account_spec s = fx_spec(FX_A);
	struct fx_audit *r;
	struct names l = { 0 };
	char buf[256], *before;
	int64_t seq;
	size_t i;
	int rc;

	TH_RC(mssl_account_create(f->ctx, f->op, &s, f->err), 0, f->err);
	s = fx_spec(FX_B);
	TH_RC(mssl_account_create(f->ctx, f->op, &s, f->err), 0, f->err);

	f->now = FX_T0 + 42;
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_A, "TWCA.com.tw", 0, f->err),
	      0, f->err);
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_A, "mis.twca.com.tw", 0,
			      f->err),
	      0, f->err);
	assert_string_equal(domains(f, f->aud_a, FX_A, buf, sizeof(buf)),
			    "mis.twca.com.tw twca.com.tw");
	TH_RC(mssl_domain_list(f->ctx, f->op, FX_A, collect_domain, &l, f->err),
	      0, f->err);
	assert_int_equal(l.added[0], FX_T0 + 42);

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		before = fx_snapshot(f);
		seq = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = mssl_domain_add(f->ctx, f->op, FX_A, refused[i].name, 0,
				     f->err);
		expect_refused(f, refused[i].name, rc, MSSL_EINPUT,
			       refused[i].id, "domain", before, seq,
			       "domain.add");
		free(before);
	}

	/* Twice to the same account. */
	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_domain_add(f->ctx, f->op, FX_A, "twca.com.tw", 0, f->err);
	expect_refused(f, "again", rc, MSSL_EEXIST, "domain.exists", "domain",
		       before, seq, "domain.add");
	/* To another account: refused, naming the holder... */
	seq = fx_audit_head(f);
	rc = mssl_domain_add(f->ctx, f->op, FX_B, "twca.com.tw", 0, f->err);
	expect_refused(f, "other account", rc, MSSL_EEXIST,
		       "domain.other_account", "domain", before, seq,
		       "domain.add");
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN), FX_A));
	assert_string_equal(domains(f, f->op, FX_B, buf, sizeof(buf)), "");
	free(before);
	/* ... unless forced, which the audit record says. */
	seq = fx_audit_head(f);
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_B, "TWCA.COM.TW",
			      MSSL_DOMAIN_FORCE, f->err),
	      0, f->err);
	r = fx_audit_one(f, seq, "domain.add", "ok", "operator");
	assert_string_equal(r->account_id, FX_B);
	assert_non_null(r->detail);
	assert_non_null(strstr(r->detail, "forced"));
	assert_non_null(strstr(r->detail, FX_A));
	fx_audit_free(r, 1);
	assert_string_equal(domains(f, f->mgr_b, NULL, buf, sizeof(buf)),
			    "twca.com.tw");
	/* Forcing what nobody else holds says nothing of the kind. */
	seq = fx_audit_head(f);
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_B, "example-b.com.tw",
			      MSSL_DOMAIN_FORCE, f->err),
	      0, f->err);
	r = fx_audit_one(f, seq, "domain.add", "ok", "operator");
	assert_true(!r->detail || !strstr(r->detail, "forced"));
	fx_audit_free(r, 1);

	/* Removing. */
	TH_RC(mssl_domain_remove(f->ctx, f->op, FX_A, "mis.twca.com.tw",
				 f->err),
	      0, f->err);
	assert_string_equal(domains(f, f->op, FX_A, buf, sizeof(buf)),
			    "twca.com.tw");
	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_domain_remove(f->ctx, f->op, FX_A, "mis.twca.com.tw",
				f->err);
	expect_refused(f, "remove missing", rc, MSSL_ENOENT,
		       "domain.not_found", "domain", before, seq,
		       "domain.remove");
	/* Only from the account named. */
	seq = fx_audit_head(f);
	rc = mssl_domain_remove(f->ctx, f->op, FX_A, "example-b.com.tw",
				f->err);
	expect_refused(f, "remove other's", rc, MSSL_ENOENT,
		       "domain.not_found", "domain", before, seq,
		       "domain.remove");
	free(before);
	TH_RC(mssl_domain_remove(f->ctx, f->op, FX_A, "TWCA.COM.TW", f->err),
	      0, f->err);
	assert_string_equal(domains(f, f->op, FX_A, buf, sizeof(buf)), "");
	assert_string_equal(domains(f, f->op, FX_B, buf, sizeof(buf)),
			    "example-b.com.tw twca.com.tw");
}

/* ---------------------------------------------------------------------
 * Contacts
 * ------------------------------------------------------------------ */

struct contacts {
	mssl_contact v[8];
	char s[8][4][64];
	size_t n;
};

static int collect_contact(void *ud, const mssl_contact *c)
{
	struct contacts *l = ud;
	const char *in[4] = { c->kind, c->name, c->email, c->phone };
	const char **out[4];
	size_t k;

	assert_true(l->n < ARRAY_SIZE(l->v));
	l->v[l->n].id = c->id;
	out[0] = &l->v[l->n].kind;
	out[1] = &l->v[l->n].name;
	out[2] = &l->v[l->n].email;
	out[3] = &l->v[l->n].phone;
	for (k = 0; k < 4; k++) {
		*out[k] = NULL;
		if (!in[k])
			continue;
		snprintf(l->s[l->n][k], sizeof(l->s[0][0]), "%s", in[k]);
		*out[k] = l->s[l->n][k];
	}
	l->n++;
	return 0;
}

static void test_contacts(void **state)
{
	static const struct {
		mssl_contact c;
		const char *field;
	} bad[] = {
		{ { 0, "boss", "陳大文", "tech@twca.com.tw", NULL }, "kind" },
		{ { 0, NULL, "陳大文", "tech@twca.com.tw", NULL }, "kind" },
		{ { 0, "technical", "", "tech@twca.com.tw", NULL }, "name" },
		{ { 0, "technical", "陳大文", "tech@", NULL }, "email" },
		{ { 0, "technical", "陳大文", NULL, NULL }, "email" },
	};
	struct fx *f = *state;
	mssl_contact tech = { 0, "technical", "陳大文", "tech@twca.com.tw",
			      "02-2370-8886" };
	mssl_contact billing = { 99, "billing", "Accounts", "ap@twca.com.tw",
				 NULL };
	struct contacts l = { 0 };
	mssl_account_info *i;
	int64_t id1 = 0, id2 = 0, seq;
	char *before;
	size_t k;
	int rc;

	TH_RC(mssl_contact_add(f->ctx, f->op, FX_A, &tech, &id1, f->err), 0,
	      f->err);
	TH_RC(mssl_contact_add(f->ctx, f->op, FX_A, &billing, &id2, f->err), 0,
	      f->err);
	assert_true(id1 > 0);
	assert_true(id2 > id1);

	TH_RC(mssl_contact_list(f->ctx, f->aud_a, FX_A, collect_contact, &l,
				f->err),
	      0, f->err);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].kind, "supervisor");
	assert_int_equal(l.v[1].id, id1);
	assert_string_equal(l.v[1].kind, "technical");
	assert_string_equal(l.v[1].name, "陳大文");
	assert_string_equal(l.v[1].email, "tech@twca.com.tw");
	assert_string_equal(l.v[1].phone, "02-2370-8886");
	assert_int_equal(l.v[2].id, id2);
	assert_string_equal(l.v[2].kind, "billing");
	assert_null(l.v[2].phone);

	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		before = fx_snapshot(f);
		seq = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = mssl_contact_add(f->ctx, f->op, FX_A, &bad[k].c, NULL,
				      f->err);
		expect_refused(f, bad[k].field, rc, MSSL_EINPUT, NULL,
			       bad[k].field, before, seq, "contact.add");
		free(before);
	}
	i = get(f, f->op, FX_A);
	assert_int_equal(i->n_contacts, 3);
	assert_int_equal(i->contacts[2].id, id2);
	mssl_account_info_free(i);
	/* B's contacts are B's. */
	memset(&l, 0, sizeof(l));
	TH_RC(mssl_contact_list(f->ctx, f->mgr_b, NULL, collect_contact, &l,
				f->err),
	      0, f->err);
	assert_int_equal(l.n, 1);
}

/* ---------------------------------------------------------------------
 * Notices
 * ------------------------------------------------------------------ */

struct notices {
	char titles[256];
	int64_t expires[8];
	size_t n;
};

static int collect_notice(void *ud, const struct mssl_notice_rec *r)
{
	struct notices *l = ud;
	size_t used = strlen(l->titles);

	snprintf(l->titles + used, sizeof(l->titles) - used, "%s%s",
		 used ? " " : "", r->title);
	assert_string_equal(r->author, "operator:test-op");
	assert_true(r->body && r->body[0]);
	if (l->n < ARRAY_SIZE(l->expires))
		l->expires[l->n] = r->expires;
	l->n++;
	return 0;
}

/* Titles of the notices 'a' sees, newest first. */
static void expect_notices(struct fx *f, const mssl_actor *a,
			   const char *acct, const char *want)
{
	struct notices l = { { 0 } };

	TH_RC(mssl_notice_list(f->ctx, a, acct, collect_notice, &l, f->err), 0,
	      f->err);
	if (strcmp(l.titles, want) != 0)
		fail_msg("notices: \"%s\", expected \"%s\"", l.titles, want);
}

static void test_notices(void **state)
{
	struct fx *f = *state;
	int64_t id = 0, seq;
	char *before;
	int rc;

	TH_RC(mssl_notice_add(f->ctx, f->op, NULL, "g1", "for all", 0, &id,
			      f->err),
	      0, f->err);
	assert_true(id > 0);
	TH_RC(mssl_notice_add(f->ctx, f->op, FX_A, "a1", "for A", 0, NULL,
			      f->err),
	      0, f->err);
	TH_RC(mssl_notice_add(f->ctx, f->op, FX_B, "b1", "for B", 0, NULL,
			      f->err),
	      0, f->err);
	f->now = FX_T0 + 10;
	TH_RC(mssl_notice_add(f->ctx, f->op, NULL, "g2", "until T0+100",
			      FX_T0 + 100, NULL, f->err),
	      0, f->err);
	f->now = FX_T0 + 20;
	TH_RC(mssl_notice_add(f->ctx, f->op, FX_B, "b2", "until T0+50",
			      FX_T0 + 50, NULL, f->err),
	      0, f->err);

	expect_notices(f, f->op, NULL, "b2 g2 b1 a1 g1");
	expect_notices(f, f->op, FX_A, "g2 a1 g1");
	expect_notices(f, f->mgr_a, NULL, "g2 a1 g1");
	expect_notices(f, f->aud_a, NULL, "g2 a1 g1");
	expect_notices(f, f->aud_b, NULL, "b2 g2 b1 g1");
	/* A's manager asking for B's gets A's. */
	expect_notices(f, f->mgr_a, FX_B, "g2 a1 g1");

	/* Expired notices are no longer listed. */
	f->now = FX_T0 + 50;
	expect_notices(f, f->mgr_b, NULL, "g2 b1 g1");
	f->now = FX_T0 + 100;
	expect_notices(f, f->op, NULL, "b1 a1 g1");
	expect_notices(f, f->mgr_a, NULL, "a1 g1");

	/* Refused: past expiry, no title, no body, no such account. */
	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_notice_add(f->ctx, f->op, NULL, "old", "past", FX_T0 + 100,
			     NULL, f->err);
	expect_refused(f, "expired", rc, MSSL_EINPUT, "notice.expires",
		       "expires", before, seq, "notice.add");
	seq = fx_audit_head(f);
	rc = mssl_notice_add(f->ctx, f->op, NULL, "", "body", 0, NULL, f->err);
	expect_refused(f, "no title", rc, MSSL_EINPUT, "notice.title", "title",
		       before, seq, "notice.add");
	seq = fx_audit_head(f);
	rc = mssl_notice_add(f->ctx, f->op, NULL, "title", NULL, 0, NULL,
			     f->err);
	expect_refused(f, "no body", rc, MSSL_EINPUT, "notice.body", "body",
		       before, seq, "notice.add");
	seq = fx_audit_head(f);
	rc = mssl_notice_add(f->ctx, f->op, FX_MISSING, "t", "b", 0, NULL,
			     f->err);
	expect_refused(f, "no such account", rc, MSSL_ENOENT,
		       "account.not_found", "account", before, seq,
		       "notice.add");
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_get,
						fx_setup_empty, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_bad_input,
						fx_setup_empty, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_duplicate,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_set, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_suspend, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_domains, fx_setup_empty,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_contacts, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_notices, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
