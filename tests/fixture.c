/* The operation tests' fixture: see fixture.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fixture.h"

static int64_t fx_clock(void *ud)
{
	const struct fx *f = ud;

	return __atomic_load_n(&f->now, __ATOMIC_RELAXED);
}

mssl_account_spec fx_spec(const char *id)
{
	mssl_account_spec s = {
		.id = id,
		.org_name_en = "TAIWAN-CA INC.",
		.org_name_zh = "臺灣網路認證股份有限公司",
		.products = MSSL_PRODUCT_SSL,
		.supervisor_name = "王小明",
		.supervisor_email = "supervisor@twca.com.tw",
		.supervisor_phone = "+886-2-2370-8886",
	};

	return s;
}

static void must(struct fx *f, int rc, const char *what)
{
	if (rc != 0)
		fail_msg("fixture: %s: %s [%s] %s", what, mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_message(f->err, MSSL_LANG_EN));
}

static void create_account(struct fx *f, const char *id, uint32_t products,
			   const char *domain, int64_t balance)
{
	mssl_account_spec s = fx_spec(id);

	s.products = products;
	must(f, mssl_account_create(f->ctx, f->op, &s, f->err), id);
	must(f, mssl_domain_add(f->ctx, f->op, id, domain, 0, f->err), domain);
	must(f, mssl_topup(f->ctx, f->op, id, balance, "first sale", NULL,
			   f->err),
	     "top-up");
}

struct fx *fx_new(unsigned flags, const char *extra)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = th_mkdtemp();
	assert_true(asprintf(&f->db, "%s/mssl.db", f->dir) > 0);
	f->ctx = th_ctx_open(f->dir, extra);
	f->now = FX_T0;
	mssl_ctx_set_clock(f->ctx, fx_clock, f);
	f->err = mssl_error_new();
	f->op = th_operator();
	f->mgr_a = th_manager(FX_A);
	f->aud_a = th_auditor(FX_A);
	f->mgr_b = th_manager(FX_B);
	f->aud_b = th_auditor(FX_B);
	assert_non_null(f->err);
	assert_non_null(f->op);
	assert_non_null(f->mgr_a);
	assert_non_null(f->aud_a);
	assert_non_null(f->mgr_b);
	assert_non_null(f->aud_b);
	if (flags & FX_ACCOUNTS) {
		create_account(f, FX_A,
			       MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD,
			       "twca.com.tw", 10);
		create_account(f, FX_B, MSSL_PRODUCT_SSL, "example-b.com.tw",
			       3);
	}
	mssl_error_clear(f->err);
	return f;
}

void fx_free(struct fx *f)
{
	if (!f)
		return;
	mssl_ctx_free(f->ctx);
	mssl_error_free(f->err);
	mssl_actor_free(f->op);
	mssl_actor_free(f->mgr_a);
	mssl_actor_free(f->aud_a);
	mssl_actor_free(f->mgr_b);
	mssl_actor_free(f->aud_b);
	th_rmrf(f->dir);
	free(f->dir);
	free(f->db);
	free(f);
}

int fx_setup(void **state)
{
	*state = fx_new(FX_ACCOUNTS, NULL);
	return 0;
}

int fx_setup_empty(void **state)
{
	*state = fx_new(0, NULL);
	return 0;
}

int fx_teardown(void **state)
{
	fx_free(*state);
	*state = NULL;
	return 0;
}

/* ---- direct SQLite access ----------------------------------------------- */

static sqlite3 *db_open(struct fx *f)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		fail_msg("cannot open %s: %s", f->db,
			 db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_busy_timeout(db, 10000);
	return db;
}

void fx_sql(struct fx *f, const char *fmt, ...)
{
	sqlite3 *db = db_open(f);
	char *sql, *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(sql);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("SQL failed: %s: %s", sql, msg ? msg : "?");
	sqlite3_free(sql);
	sqlite3_close(db);
}

/* Run a one-row query; calls 'take' on the first column of its row. */
static void query_one(struct fx *f, const char *fmt, va_list ap,
		      void (*take)(sqlite3_stmt *s, void *ud), void *ud)
{
	sqlite3 *db = db_open(f);
	sqlite3_stmt *s = NULL;
	char *sql = sqlite3_vmprintf(fmt, ap);
	int rc;

	assert_non_null(sql);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("SQL failed: %s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		take(s, ud);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail_msg("SQL failed: %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_free(sql);
	sqlite3_close(db);
}

static void take_int(sqlite3_stmt *s, void *ud)
{
	*(int64_t *)ud = sqlite3_column_int64(s, 0);
}

static void take_text(sqlite3_stmt *s, void *ud)
{
	*(char **)ud = strdup((const char *)sqlite3_column_text(s, 0));
}

int64_t fx_sql_int(struct fx *f, int64_t dflt, const char *fmt, ...)
{
	int64_t v = dflt;
	va_list ap;

	va_start(ap, fmt);
	query_one(f, fmt, ap, take_int, &v);
	va_end(ap);
	return v;
}

char *fx_sql_text(struct fx *f, const char *fmt, ...)
{
	char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	query_one(f, fmt, ap, take_text, &v);
	va_end(ap);
	return v;
}

int64_t fx_balance(struct fx *f, const char *account_id)
{
	return fx_sql_int(f, 0,
			  "SELECT balance_after FROM ledger WHERE account_id"
			  " = %Q ORDER BY id DESC LIMIT 1",
			  account_id);
}

int64_t fx_audit_head(struct fx *f)
{
	return fx_sql_int(f, 0, "SELECT max(seq) FROM audit");
}

char *fx_snapshot(struct fx *f)
{
	char *s = fx_sql_text(
		f,
		"SELECT 'accounts:' || coalesce((SELECT group_concat(r, ';')"
		" FROM (SELECT quote(id) || quote(org_name_en) ||"
		" quote(org_name_zh) || quote(products) || quote(ev_country)"
		" || quote(ev_state) || quote(ev_locality) ||"
		" quote(ev_category) || quote(status) || quote(created) AS r"
		" FROM accounts ORDER BY id)), '')"
		" || ' domains:' || coalesce((SELECT group_concat(r, ';')"
		" FROM (SELECT quote(account_id) || quote(name) AS r"
		" FROM domains ORDER BY account_id, name)), '')"
		" || ' contacts:' || coalesce((SELECT group_concat(r, ';')"
		" FROM (SELECT quote(id) || quote(account_id) || quote(kind) ||"
		" quote(name) || quote(email) || quote(phone) AS r"
		" FROM contacts ORDER BY id)), '')"
		" || ' ledger:' || coalesce((SELECT group_concat(r, ';')"
		" FROM (SELECT quote(id) || quote(account_id) || quote(delta)"
		" || quote(balance_after) || quote(memo) AS r"
		" FROM ledger ORDER BY id)), '')"
		" || ' notices:' || coalesce((SELECT group_concat(r, ';')"
		" FROM (SELECT quote(id) || quote(account_id) || quote(title)"
		" AS r FROM notices ORDER BY id)), '')");

	assert_non_null(s);
	return s;
}

/* ---- audit records -------------------------------------------------------- */

struct collect {
	struct fx_audit *v;
	size_t n, cap;
};

static char *dup_or_null(const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	assert_non_null(c);
	return c;
}

static int collect_one(void *ud, const struct mssl_audit_rec *r)
{
	struct collect *c = ud;
	struct fx_audit *a;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	a = &c->v[c->n++];
	a->seq = r->seq;
	a->time = r->time;
	a->actor_role = dup_or_null(r->actor_role);
	a->actor_name = dup_or_null(r->actor_name);
	a->account_id = dup_or_null(r->account_id);
	a->remote = dup_or_null(r->remote);
	a->action = dup_or_null(r->action);
	a->object = dup_or_null(r->object);
	a->outcome = dup_or_null(r->outcome);
	a->detail = dup_or_null(r->detail);
	return 0;
}

static void fx_audit_free_one(struct fx_audit *a)
{
	free(a->actor_role);
	free(a->actor_name);
	free(a->account_id);
	free(a->remote);
	free(a->action);
	free(a->object);
	free(a->outcome);
	free(a->detail);
}

size_t fx_audit_read(struct fx *f, int64_t from, struct fx_audit **out)
{
	struct collect c = { 0 };
	mssl_error *err = mssl_error_new();
	int rc;

	rc = mssl_audit_export(f->ctx, f->op, from, collect_one, &c, err);
	if (rc != 0)
		fail_msg("audit export: %s [%s] %s", mssl_err_name(rc),
			 mssl_error_id(err),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	/*
	 * An export is audited before it hands out its first record, so the
	 * last record it returns is its own: leave that out.
	 */
	if (c.n == 0 || !fx_streq(c.v[c.n - 1].action, "audit.export"))
		fail_msg("audit export did not return its own record last");
	fx_audit_free_one(&c.v[c.n - 1]);
	*out = c.v;
	return c.n - 1;
}

void fx_audit_free(struct fx_audit *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		fx_audit_free_one(&v[i]);
	free(v);
}

struct fx_audit *fx_audit_one(struct fx *f, int64_t before,
			      const char *action, const char *outcome,
			      const char *role)
{
	struct fx_audit *v = NULL;
	size_t n = fx_audit_read(f, before + 1, &v);

	if (n != 1)
		fail_msg("expected one audit record after seq %lld for %s, "
			 "found %zu",
			 (long long)before, action, n);
	if (!fx_streq(v->action, action) || !fx_streq(v->outcome, outcome) ||
	    !fx_streq(v->actor_role, role))
		fail_msg("audit record %lld: expected %s/%s by %s, got %s/%s "
			 "by %s (%s)",
			 (long long)v->seq, action, outcome, role, v->action,
			 v->outcome, v->actor_role,
			 v->detail ? v->detail : "no detail");
	return v;
}

bool fx_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool fx_names_record(const char *msg, int64_t seq)
{
	char want[40];
	const char *p;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "record %lld",
			     (long long)seq);
	for (p = strstr(msg, want); p; p = strstr(p + 1, want))
		if (p[n] < '0' || p[n] > '9')
			return true;
	return false;
}
