/*
 * The store contract: what every store plugin must do, checked only
 * through struct mssl_store_ops (no SQL), so that every backend passes
 * the same suite unchanged.
 *
 *   MSSL_STORE               store plugin to test (default store-sqlite)
 *   MSSL_STORE_CONFIG_EXTRA  text appended to the test's config file,
 *                            e.g. a [store-pgsql] section
 *
 * Each test gets a fresh directory and config.  A backend whose data
 * outlives the directory (a PostgreSQL database) may already hold rows
 * from earlier runs, so the tests name their own rows with a per-run
 * nonce, filter what they read by it, and read the audit head before
 * appending.
 *
 * Portability rule, from PostgreSQL: after a call fails with a constraint
 * error (EEXIST, ENOENT from a missing parent, EBALANCE) the transaction
 * may be unusable; the tests roll back (or commit, to check that nothing
 * was written) and start a new one.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testhelp.h"
#include "internal.h"
#include "mssl/plugin.h"

#define NOW ((int64_t)1700000000)
#define STOP 42 /* what callbacks return to stop an iteration */

static unsigned run_nonce;
static unsigned id_counter;

struct fx {
	char *dir;
	char *cfg;
	mssl_ctx *ctx;
	const struct mssl_store_ops *ops;
	void *state;
	void *conn;
};

/* ---------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------ */

static const char *store_name(void)
{
	const char *s = getenv("MSSL_STORE");

	return s && *s ? s : "store-sqlite";
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	mssl_error *err = mssl_error_new();
	char *cfg;
	int rc;

	assert_non_null(f);
	assert_non_null(err);
	f->dir = th_mkdtemp();
	assert_non_null(f->dir);
	cfg = th_write_config(f->dir, store_name(),
			      getenv("MSSL_STORE_CONFIG_EXTRA"));
	assert_non_null(cfg);
	rc = mssl_ctx_open_file(cfg, &f->ctx, err);
	if (rc)
		print_error("open %s: %s\n", cfg,
			    mssl_error_message(err, MSSL_LANG_EN));
	assert_int_equal(rc, 0);
	assert_int_equal(mssl__ctx_store(f->ctx, &f->ops, &f->state), 0);
	assert_int_equal(f->ops->open(f->state, &f->conn), 0);
	f->cfg = cfg;
	mssl_error_free(err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->conn)
		f->ops->close(f->conn);
	mssl_ctx_free(f->ctx);
	th_rmrf(f->dir);
	free(f->dir);
	free(f->cfg);
	free(f);
	return 0;
}

/* A fresh account id of this run: "<8-digit nonce>-<3 digits>". */
static void new_id(char buf[16])
{
	snprintf(buf, 16, "%08u-%03u", run_nonce, ++id_counter);
}

/* A domain suffix of this run, shared by the test's names. */
static void run_domain(char *buf, size_t n, const char *label)
{
	snprintf(buf, n, "%s.d%08u-%u.example", label, run_nonce, id_counter);
}

static void begin(struct fx *f, int mode)
{
	assert_int_equal(f->ops->begin(f->conn, mode), 0);
}

static void commit(struct fx *f)
{
	assert_int_equal(f->ops->commit(f->conn), 0);
}

static void rollback(struct fx *f)
{
	assert_int_equal(f->ops->rollback(f->conn), 0);
}

/* End a transaction in which a call failed: commit what survived. */
static void commit_after_error(struct fx *f)
{
	if (f->ops->commit(f->conn) != 0)
		rollback(f);
}

static void account_rec(struct mssl_account_rec *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->org_name_en = "Example Co., Ltd.";
	r->org_name_zh = "範例股份有限公司";
	r->products = MSSL_PRODUCT_SSL;
	r->status = MSSL_ACCOUNT_ACTIVE;
	r->created = NOW;
}

/* Insert accounts in their own committed transaction. */
static void add_accounts(struct fx *f, const char *const *ids, size_t n)
{
	struct mssl_account_rec r;
	size_t i;

	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < n; i++) {
		account_rec(&r, ids[i]);
		assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	}
	commit(f);
}

static void add_account(struct fx *f, const char *id)
{
	add_accounts(f, &id, 1);
}

static int starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void nonce_prefix(char buf[16])
{
	snprintf(buf, 16, "%08u-", run_nonce);
}

/* ---------------------------------------------------------------------
 * Collectors: copy what callbacks see, filtered to this run's rows
 * ------------------------------------------------------------------ */

#define MAXROWS 16

struct names {
	char v[MAXROWS][96];
	int n;
	int calls;
	int stop_at; /* return STOP at this call (1-based), 0: never */
	const char *prefix; /* keep only values starting with it, or NULL */
};

static int names_add(struct names *c, const char *s)
{
	c->calls++;
	if (!c->prefix || starts_with(s, c->prefix)) {
		assert_true(c->n < MAXROWS);
		snprintf(c->v[c->n++], sizeof(c->v[0]), "%s", s ? s : "(null)");
	}
	return c->stop_at && c->calls == c->stop_at ? STOP : 0;
}

static int account_id_cb(void *ud, const struct mssl_account_rec *r)
{
	return names_add(ud, r->id);
}

static int domain_account_cb(void *ud, const struct mssl_domain_rec *r)
{
	return names_add(ud, r->account_id);
}

static int domain_name_cb(void *ud, const struct mssl_domain_rec *r)
{
	return names_add(ud, r->name);
}

static int contact_name_cb(void *ud, const struct mssl_contact_rec *r)
{
	return names_add(ud, r->name);
}

static int notice_title_cb(void *ud, const struct mssl_notice_rec *r)
{
	return names_add(ud, r->title);
}

/* ---------------------------------------------------------------------
 * Schema
 * ------------------------------------------------------------------ */

static void test_schema_version(void **state)
{
	struct fx *f = *state;
	int v = -1;

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->schema_version(f->conn, &v), 0);
	assert_true(v >= 1);
	commit(f);
	assert_true(f->ops->abi_major == MSSL_PLUGIN_ABI_MAJOR);
	assert_true(f->ops->size >= sizeof(struct mssl_store_ops));
}

/* ---------------------------------------------------------------------
 * Accounts
 * ------------------------------------------------------------------ */

struct account_copy {
	int calls;
	char id[32], en[96], zh[96], ev[4][64];
	int ev_null[4];
	int zh_null;
	uint32_t products;
	int status;
	int64_t created;
};

static void copy_opt(char *dst, size_t n, int *is_null, const char *s)
{
	*is_null = s == NULL;
	snprintf(dst, n, "%s", s ? s : "");
}

static int account_copy_cb(void *ud, const struct mssl_account_rec *r)
{
	struct account_copy *c = ud;

	c->calls++;
	snprintf(c->id, sizeof(c->id), "%s", r->id);
	snprintf(c->en, sizeof(c->en), "%s", r->org_name_en);
	copy_opt(c->zh, sizeof(c->zh), &c->zh_null, r->org_name_zh);
	copy_opt(c->ev[0], sizeof(c->ev[0]), &c->ev_null[0], r->ev_country);
	copy_opt(c->ev[1], sizeof(c->ev[1]), &c->ev_null[1], r->ev_state);
	copy_opt(c->ev[2], sizeof(c->ev[2]), &c->ev_null[2], r->ev_locality);
	copy_opt(c->ev[3], sizeof(c->ev[3]), &c->ev_null[3], r->ev_category);
	c->products = r->products;
	c->status = r->status;
	c->created = r->created;
	return 0;
}

static void test_account_roundtrip(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	struct account_copy c = { 0 };
	char ev[16], plain[16], missing[16];

	new_id(ev);
	new_id(plain);
	new_id(missing);
	begin(f, MSSL_TXN_WRITE);
	account_rec(&r, ev);
	r.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_EV;
	r.ev_country = "TW";
	r.ev_state = "Taiwan";
	r.ev_locality = "Taipei";
	r.ev_category = "Private Organization";
	r.created = NOW + 7;
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	account_rec(&r, plain);
	r.status = MSSL_ACCOUNT_SUSPENDED;
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->account_get(f->conn, ev, account_copy_cb, &c),
			 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.id, ev);
	assert_string_equal(c.en, "Example Co., Ltd.");
	assert_string_equal(c.zh, "範例股份有限公司");
	assert_int_equal(c.products, MSSL_PRODUCT_SSL | MSSL_PRODUCT_EV);
	assert_string_equal(c.ev[0], "TW");
	assert_string_equal(c.ev[1], "Taiwan");
	assert_string_equal(c.ev[2], "Taipei");
	assert_string_equal(c.ev[3], "Private Organization");
	assert_int_equal(c.status, MSSL_ACCOUNT_ACTIVE);
	assert_int_equal(c.created, NOW + 7);

	memset(&c, 0, sizeof(c));
	assert_int_equal(
		f->ops->account_get(f->conn, plain, account_copy_cb, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_true(c.ev_null[0] && c.ev_null[1] && c.ev_null[2] &&
		    c.ev_null[3]);
	assert_int_equal(c.status, MSSL_ACCOUNT_SUSPENDED);

	memset(&c, 0, sizeof(c));
	assert_int_equal(
		f->ops->account_get(f->conn, missing, account_copy_cb, &c),
		MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	commit(f);
}

static int account_stop_cb(void *ud, const struct mssl_account_rec *r)
{
	(*(int *)ud)++;
	return STOP;
}

static void test_account_get_stop(void **state)
{
	struct fx *f = *state;
	char id[16];
	int calls = 0;

	new_id(id);
	add_account(f, id);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(
		f->ops->account_get(f->conn, id, account_stop_cb, &calls),
		STOP);
	assert_int_equal(calls, 1);
	commit(f);
}

static void test_account_duplicate(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	struct account_copy c = { 0 };
	char id[16];

	new_id(id);
	add_account(f, id);
	begin(f, MSSL_TXN_WRITE);
	account_rec(&r, id);
	r.org_name_en = "Impostor Ltd.";
	assert_int_equal(f->ops->account_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->account_get(f->conn, id, account_copy_cb, &c),
			 0);
	assert_string_equal(c.en, "Example Co., Ltd.");
	commit(f);
}

static void test_account_update(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	struct account_copy c = { 0 };
	char id[16], missing[16];

	new_id(id);
	new_id(missing);
	add_account(f, id);
	begin(f, MSSL_TXN_WRITE);
	account_rec(&r, id);
	r.org_name_en = "Renamed Co., Ltd.";
	r.org_name_zh = NULL;
	r.products = MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD;
	r.ev_country = "TW";
	r.status = MSSL_ACCOUNT_SUSPENDED;
	assert_int_equal(f->ops->account_update(f->conn, &r), 0);
	account_rec(&r, missing);
	assert_int_equal(f->ops->account_update(f->conn, &r), MSSL_ENOENT);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->account_get(f->conn, id, account_copy_cb, &c),
			 0);
	assert_string_equal(c.en, "Renamed Co., Ltd.");
	assert_true(c.zh_null);
	assert_int_equal(c.products, MSSL_PRODUCT_SSL | MSSL_PRODUCT_WILDCARD);
	assert_string_equal(c.ev[0], "TW");
	assert_true(c.ev_null[1]);
	assert_int_equal(c.status, MSSL_ACCOUNT_SUSPENDED);
	/* The update must not have created the missing account. */
	assert_int_equal(
		f->ops->account_get(f->conn, missing, account_copy_cb, &c),
		MSSL_ENOENT);
	commit(f);
}

static void test_account_each(void **state)
{
	struct fx *f = *state;
	struct names c = { .n = 0 };
	char ids[3][16], prefix[16];
	const char *order[3];

	new_id(ids[0]);
	new_id(ids[1]);
	new_id(ids[2]);
	/* Inserted out of order: each must sort by id. */
	order[0] = ids[2];
	order[1] = ids[0];
	order[2] = ids[1];
	add_accounts(f, order, 3);
	nonce_prefix(prefix);

	begin(f, MSSL_TXN_READ);
	c.prefix = prefix;
	assert_int_equal(f->ops->account_each(f->conn, account_id_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], ids[0]);
	assert_string_equal(c.v[1], ids[1]);
	assert_string_equal(c.v[2], ids[2]);

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(f->ops->account_each(f->conn, account_id_cb, &c),
			 STOP);
	assert_int_equal(c.calls, 2);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Domains
 * ------------------------------------------------------------------ */

static void domain_add(struct fx *f, const char *account, const char *name,
		       int expect)
{
	struct mssl_domain_rec d = { account, name, NOW };

	assert_int_equal(f->ops->domain_insert(f->conn, &d), expect);
}

static void test_domains(void **state)
{
	struct fx *f = *state;
	struct names c = { .n = 0 };
	char a[16], b[16], nobody[16];
	char www[64], da[64], db[64], dc[64];
	const char *ids[2] = { a, b };

	new_id(b); /* b < a: find must still list a after b */
	new_id(a);
	new_id(nobody);
	add_accounts(f, ids, 2);
	run_domain(www, sizeof(www), "www");
	run_domain(da, sizeof(da), "a");
	run_domain(db, sizeof(db), "b");
	run_domain(dc, sizeof(dc), "c");

	begin(f, MSSL_TXN_WRITE);
	domain_add(f, a, www, 0);
	commit(f);

	/* The same name twice for one account: refused. */
	begin(f, MSSL_TXN_WRITE);
	domain_add(f, a, www, MSSL_EEXIST);
	rollback(f);

	/* A domain of an account that does not exist: refused. */
	begin(f, MSSL_TXN_WRITE);
	domain_add(f, nobody, da, MSSL_ENOENT);
	rollback(f);

	/* The same name for another account: the store allows it. */
	begin(f, MSSL_TXN_WRITE);
	domain_add(f, b, www, 0);
	domain_add(f, a, dc, 0);
	domain_add(f, a, da, 0);
	domain_add(f, a, db, 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->domain_find(f->conn, www, domain_account_cb,
					     &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], b);
	assert_string_equal(c.v[1], a);

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->domain_each(f->conn, a, domain_name_cb, &c),
			 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.v[0], da);
	assert_string_equal(c.v[1], db);
	assert_string_equal(c.v[2], dc);
	assert_string_equal(c.v[3], www);

	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(f->ops->domain_each(f->conn, a, domain_name_cb, &c),
			 STOP);
	assert_int_equal(c.calls, 1);

	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(f->ops->domain_find(f->conn, www, domain_name_cb, &c),
			 STOP);
	assert_int_equal(c.calls, 1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->domain_find(f->conn, "nowhere.invalid",
					     domain_name_cb, &c), 0);
	assert_int_equal(c.calls, 0);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->domain_delete(f->conn, a, www), 0);
	assert_int_equal(f->ops->domain_delete(f->conn, a, www), MSSL_ENOENT);
	commit(f);

	begin(f, MSSL_TXN_READ);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->domain_find(f->conn, www, domain_account_cb,
					     &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0], b);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->domain_each(f->conn, a, domain_name_cb, &c),
			 0);
	assert_int_equal(c.n, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->domain_each(f->conn, nobody, domain_name_cb,
					     &c), 0);
	assert_int_equal(c.calls, 0);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Contacts
 * ------------------------------------------------------------------ */

struct contact_copy {
	int n;
	int64_t id[MAXROWS];
	char kind[MAXROWS][32], name[MAXROWS][64], email[MAXROWS][64];
	int phone_null[MAXROWS];
	char phone[MAXROWS][32];
};

static int contact_copy_cb(void *ud, const struct mssl_contact_rec *r)
{
	struct contact_copy *c = ud;
	int i = c->n++;

	assert_true(i < MAXROWS);
	c->id[i] = r->id;
	snprintf(c->kind[i], sizeof(c->kind[i]), "%s", r->kind);
	snprintf(c->name[i], sizeof(c->name[i]), "%s", r->name);
	snprintf(c->email[i], sizeof(c->email[i]), "%s", r->email);
	copy_opt(c->phone[i], sizeof(c->phone[i]), &c->phone_null[i],
		 r->phone);
	return 0;
}

static void test_contacts(void **state)
{
	struct fx *f = *state;
	struct mssl_contact_rec r = { 0 };
	struct contact_copy c = { 0 };
	struct names stop = { .stop_at = 2 };
	char a[16], b[16];
	const char *ids[2] = { a, b };
	int64_t id[4];
	static const char *const kinds[3] = { "supervisor", "technical",
					      "billing" };
	static const char *const names[3] = { "Wang", "Chen", "Lin" };
	int i;

	new_id(a);
	new_id(b);
	add_accounts(f, ids, 2);
	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < 3; i++) {
		r.account_id = a;
		r.kind = kinds[i];
		r.name = names[i];
		r.email = "ops@example.com";
		r.phone = i == 1 ? NULL : "+886-2-1234-5678";
		assert_int_equal(f->ops->contact_insert(f->conn, &r, &id[i]),
				 0);
		if (i > 0)
			assert_true(id[i] > id[i - 1]);
	}
	r.account_id = b;
	r.name = "Other";
	assert_int_equal(f->ops->contact_insert(f->conn, &r, &id[3]), 0);
	assert_true(id[3] > id[2]);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->contact_each(f->conn, a, contact_copy_cb, &c),
			 0);
	assert_int_equal(c.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(c.id[i], id[i]);
		assert_string_equal(c.kind[i], kinds[i]);
		assert_string_equal(c.name[i], names[i]);
		assert_string_equal(c.email[i], "ops@example.com");
		assert_int_equal(c.phone_null[i], i == 1);
	}
	assert_string_equal(c.phone[0], "+886-2-1234-5678");
	assert_int_equal(
		f->ops->contact_each(f->conn, a, contact_name_cb, &stop), STOP);
	assert_int_equal(stop.calls, 2);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Ledger
 * ------------------------------------------------------------------ */

struct ledger_copy {
	int n;
	int stop_at;
	struct {
		int64_t id, time, delta, balance;
		int kind;
		char account[32], actor[64], memo[64], serial[64];
		int memo_null, serial_null;
	} r[MAXROWS];
};

static int ledger_copy_cb(void *ud, const struct mssl_ledger_rec *r)
{
	struct ledger_copy *c = ud;
	int i = c->n++;

	assert_true(i < MAXROWS);
	c->r[i].id = r->id;
	c->r[i].time = r->time;
	c->r[i].delta = r->delta;
	c->r[i].balance = r->balance_after;
	c->r[i].kind = r->kind;
	snprintf(c->r[i].account, sizeof(c->r[i].account), "%s",
		 r->account_id);
	snprintf(c->r[i].actor, sizeof(c->r[i].actor), "%s", r->actor);
	copy_opt(c->r[i].memo, sizeof(c->r[i].memo), &c->r[i].memo_null,
		 r->memo);
	copy_opt(c->r[i].serial, sizeof(c->r[i].serial),
		 &c->r[i].serial_null, r->cert_serial);
	return c->stop_at && c->n == c->stop_at ? STOP : 0;
}

static int ledger_add(struct fx *f, const char *account, int kind,
		      int64_t delta, int64_t balance, int64_t *id)
{
	struct mssl_ledger_rec r = {
		.account_id = account,
		.time = NOW + balance,
		.kind = kind,
		.delta = delta,
		.balance_after = balance,
		.actor = "operator:alice",
		.memo = kind == MSSL_LEDGER_TOPUP ? "invoice 17" : NULL,
		.cert_serial = kind == MSSL_LEDGER_CHARGE ? "7a3f01" : NULL,
	};

	return f->ops->ledger_insert(f->conn, &r, id);
}

static int64_t balance_of(struct fx *f, const char *account)
{
	int64_t b = -1;

	assert_int_equal(f->ops->ledger_balance(f->conn, account, &b), 0);
	return b;
}

/* The ledger of one account, read with newest_first/offset/limit. */
static int ledger_read(struct fx *f, const char *account, int newest,
		       int64_t offset, int64_t limit, struct ledger_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->ledger_each(f->conn, account, newest, offset, limit,
				   ledger_copy_cb, c);
}

static void test_ledger(void **state)
{
	struct fx *f = *state;
	struct ledger_copy c;
	char a[16], b[16];
	const char *ids[2] = { a, b };
	static const int kinds[5] = { MSSL_LEDGER_TOPUP, MSSL_LEDGER_CHARGE,
				      MSSL_LEDGER_CHARGE, MSSL_LEDGER_REFUND,
				      MSSL_LEDGER_ADJUSTMENT };
	static const int64_t deltas[5] = { 10, -1, -2, 1, -3 };
	static const int64_t balances[5] = { 10, 9, 7, 8, 5 };
	int64_t id[5];
	int i;

	new_id(a);
	new_id(b);
	add_accounts(f, ids, 2);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(balance_of(f, a), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(ledger_add(f, a, kinds[i], deltas[i],
					    balances[i], &id[i]), 0);
		if (i > 0)
			assert_true(id[i] > id[i - 1]);
		assert_int_equal(balance_of(f, a), balances[i]);
	}
	assert_int_equal(ledger_add(f, b, MSSL_LEDGER_TOPUP, 3, 3, NULL), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(balance_of(f, a), 5);
	assert_int_equal(balance_of(f, b), 3);

	assert_int_equal(ledger_read(f, a, 0, 0, 0, &c), 0);
	assert_int_equal(c.n, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(c.r[i].id, id[i]);
		assert_string_equal(c.r[i].account, a);
		assert_int_equal(c.r[i].kind, kinds[i]);
		assert_int_equal(c.r[i].delta, deltas[i]);
		assert_int_equal(c.r[i].balance, balances[i]);
		assert_int_equal(c.r[i].time, NOW + balances[i]);
		assert_string_equal(c.r[i].actor, "operator:alice");
		assert_int_equal(c.r[i].memo_null,
				 kinds[i] != MSSL_LEDGER_TOPUP);
		assert_int_equal(c.r[i].serial_null,
				 kinds[i] != MSSL_LEDGER_CHARGE);
	}
	assert_string_equal(c.r[0].memo, "invoice 17");
	assert_string_equal(c.r[1].serial, "7a3f01");

	assert_int_equal(ledger_read(f, a, 1, 0, 0, &c), 0);
	assert_int_equal(c.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(c.r[i].id, id[4 - i]);

	assert_int_equal(ledger_read(f, a, 0, 1, 2, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].id, id[1]);
	assert_int_equal(c.r[1].id, id[2]);

	assert_int_equal(ledger_read(f, a, 1, 1, 2, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].id, id[3]);
	assert_int_equal(c.r[1].id, id[2]);

	assert_int_equal(ledger_read(f, a, 1, 3, 0, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].id, id[1]);
	assert_int_equal(c.r[1].id, id[0]);

	assert_int_equal(ledger_read(f, a, 0, 5, 0, &c), 0);
	assert_int_equal(c.n, 0);

	assert_int_equal(ledger_read(f, b, 0, 0, 0, &c), 0);
	assert_int_equal(c.n, 1);

	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	assert_int_equal(f->ops->ledger_each(f->conn, a, 0, 0, 0,
					     ledger_copy_cb, &c), STOP);
	assert_int_equal(c.n, 3);
	commit(f);
}

static void test_ledger_negative_refused(void **state)
{
	struct fx *f = *state;
	struct ledger_copy c;
	char a[16];

	new_id(a);
	add_account(f, a);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(ledger_add(f, a, MSSL_LEDGER_TOPUP, 2, 2, NULL), 0);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(ledger_add(f, a, MSSL_LEDGER_CHARGE, -3, -1, NULL),
			 MSSL_EBALANCE);
	/* Even a commit after the refusal must not keep the entry. */
	commit_after_error(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(balance_of(f, a), 2);
	assert_int_equal(ledger_read(f, a, 0, 0, 0, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].balance, 2);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Audit log
 * ------------------------------------------------------------------ */

static void fill_hash(uint8_t h[32], uint8_t seed)
{
	int i;

	for (i = 0; i < 32; i++)
		h[i] = (uint8_t)(seed + i * 7);
}

static void audit_rec(struct mssl_audit_rec *r, int64_t seq,
		      const char *account)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->time = NOW + seq;
	r->actor_role = "operator";
	r->actor_name = "alice";
	r->account_id = account;
	r->remote = "local:uid=0";
	r->action = "account.create";
	r->object = account ? "account" : NULL;
	r->outcome = account ? "ok" : "refused";
	r->detail = account ? NULL : "no such account";
	fill_hash(r->prev_hash, (uint8_t)seq);
	fill_hash(r->hash, (uint8_t)(seq + 1));
}

struct audit_copy {
	int n;
	int stop_at;
	struct mssl_audit_rec r[MAXROWS];
	char strs[MAXROWS][9][64];
	int nulls[MAXROWS][9];
};

static int audit_copy_cb(void *ud, const struct mssl_audit_rec *r)
{
	struct audit_copy *c = ud;
	const char *s[9] = { r->actor_role, r->actor_name, r->account_id,
			     r->remote, r->action, r->object, r->outcome,
			     r->detail, NULL };
	int i = c->n++, k;

	assert_true(i < MAXROWS);
	c->r[i] = *r;
	for (k = 0; k < 8; k++)
		copy_opt(c->strs[i][k], sizeof(c->strs[i][k]),
			 &c->nulls[i][k], s[k]);
	return c->stop_at && c->n == c->stop_at ? STOP : 0;
}

/* Is every row read from 'from' equal to what was inserted? */
static void audit_check(struct audit_copy *c, int i,
			const struct mssl_audit_rec *want)
{
	const char *s[8] = { want->actor_role, want->actor_name,
			     want->account_id, want->remote, want->action,
			     want->object, want->outcome, want->detail };
	int k;

	assert_int_equal(c->r[i].seq, want->seq);
	assert_int_equal(c->r[i].time, want->time);
	for (k = 0; k < 8; k++) {
		assert_int_equal(c->nulls[i][k], s[k] == NULL);
		if (s[k])
			assert_string_equal(c->strs[i][k], s[k]);
	}
	assert_memory_equal(c->r[i].prev_hash, want->prev_hash, 32);
	assert_memory_equal(c->r[i].hash, want->hash, 32);
}

static int audit_is_empty(struct fx *f)
{
	struct audit_copy *c = calloc(1, sizeof(*c));
	int n;

	assert_non_null(c);
	assert_int_equal(f->ops->audit_each(f->conn, 0, audit_copy_cb, c), 0);
	n = c->n;
	free(c);
	return n == 0;
}

static void test_audit_empty_head(void **state)
{
	struct fx *f = *state;
	uint8_t zero[32] = { 0 }, hash[32];
	int64_t seq = -1;

	begin(f, MSSL_TXN_READ);
	/* Only a store that is empty here can show the empty head. */
	if (audit_is_empty(f)) {
		memset(hash, 0xaa, sizeof(hash));
		assert_int_equal(f->ops->audit_head(f->conn, &seq, hash), 0);
		assert_int_equal(seq, 0);
		assert_memory_equal(hash, zero, 32);
	}
	commit(f);
}

static void test_audit(void **state)
{
	struct fx *f = *state;
	struct mssl_audit_rec r1, r2, r3;
	struct audit_copy *c = calloc(1, sizeof(*c));
	uint8_t hash[32];
	int64_t h0, seq;
	char a[16], ghost[16];

	assert_non_null(c);
	new_id(a);
	new_id(ghost);
	add_account(f, a);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->audit_head(f->conn, &h0, hash), 0);
	audit_rec(&r1, h0 + 1, a);
	/* Refused operations name accounts that do not exist. */
	audit_rec(&r2, h0 + 2, ghost);
	r2.object = NULL;
	r2.detail = NULL;
	assert_int_equal(f->ops->audit_insert(f->conn, &r1), 0);
	assert_int_equal(f->ops->audit_head(f->conn, &seq, hash), 0);
	assert_int_equal(seq, h0 + 1);
	assert_memory_equal(hash, r1.hash, 32);
	assert_int_equal(f->ops->audit_insert(f->conn, &r2), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->audit_head(f->conn, &seq, hash), 0);
	assert_int_equal(seq, h0 + 2);
	assert_memory_equal(hash, r2.hash, 32);
	assert_int_equal(f->ops->audit_each(f->conn, h0 + 1, audit_copy_cb, c),
			 0);
	assert_int_equal(c->n, 2);
	audit_check(c, 0, &r1);
	audit_check(c, 1, &r2);
	memset(c, 0, sizeof(*c));
	assert_int_equal(f->ops->audit_each(f->conn, h0 + 2, audit_copy_cb, c),
			 0);
	assert_int_equal(c->n, 1);
	audit_check(c, 0, &r2);
	memset(c, 0, sizeof(*c));
	c->stop_at = 1;
	assert_int_equal(f->ops->audit_each(f->conn, h0 + 1, audit_copy_cb, c),
			 STOP);
	assert_int_equal(c->n, 1);
	commit(f);

	/* A sequence number is used once. */
	begin(f, MSSL_TXN_WRITE);
	audit_rec(&r3, h0 + 2, NULL);
	assert_int_equal(f->ops->audit_insert(f->conn, &r3), MSSL_EEXIST);
	rollback(f);

	/* The head moves with its row: a rolled-back append leaves it. */
	begin(f, MSSL_TXN_WRITE);
	audit_rec(&r3, h0 + 3, NULL);
	assert_int_equal(f->ops->audit_insert(f->conn, &r3), 0);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->audit_head(f->conn, &seq, hash), 0);
	assert_int_equal(seq, h0 + 2);
	assert_memory_equal(hash, r2.hash, 32);
	memset(c, 0, sizeof(*c));
	assert_int_equal(f->ops->audit_each(f->conn, h0 + 1, audit_copy_cb, c),
			 0);
	assert_int_equal(c->n, 2);
	commit(f);
	free(c);
}

/* ---------------------------------------------------------------------
 * Notices
 * ------------------------------------------------------------------ */

static int64_t notice_add(struct fx *f, const char *account,
			  const char *title, int64_t time, int64_t expires,
			  const char *author)
{
	struct mssl_notice_rec r = {
		.time = time,
		.expires = expires,
		.account_id = account,
		.title = title,
		.body = "body text",
		.author = author,
	};
	int64_t id = -1;

	assert_int_equal(f->ops->notice_insert(f->conn, &r, &id), 0);
	return id;
}

struct notice_filter {
	struct names names;
	const char *author;
};

/* Only this run's notices: others' global notices may be present. */
static int notice_run_cb(void *ud, const struct mssl_notice_rec *r)
{
	struct notice_filter *nf = ud;

	if (strcmp(r->author, nf->author) != 0)
		return 0;
	return names_add(&nf->names, r->title);
}

static void notices_read(struct fx *f, const char *account, int64_t now,
			 const char *author, struct notice_filter *nf)
{
	memset(nf, 0, sizeof(*nf));
	nf->author = author;
	assert_int_equal(f->ops->notice_each(f->conn, account, now,
					     notice_run_cb, nf), 0);
}

static void expect_titles(struct notice_filter *nf, const char *want)
{
	char got[512] = "";
	size_t len = 0;
	int i;

	for (i = 0; i < nf->names.n; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
					i ? " " : "", nf->names.v[i]);
	assert_string_equal(got, want);
}

static void test_notices(void **state)
{
	struct fx *f = *state;
	struct notice_filter nf;
	struct names stop = { .stop_at = 1 };
	char a[16], b[16], author[32];
	const char *ids[2] = { a, b };
	int64_t id[5];

	new_id(a);
	new_id(b);
	add_accounts(f, ids, 2);
	snprintf(author, sizeof(author), "op-%08u-%u", run_nonce, id_counter);
	begin(f, MSSL_TXN_WRITE);
	id[0] = notice_add(f, NULL, "G1", NOW - 100, 0, author);
	id[1] = notice_add(f, a, "A1", NOW - 50, NOW + 1000, author);
	id[2] = notice_add(f, b, "B1", NOW - 40, 0, author);
	/* Expires exactly at NOW: expired at NOW. */
	id[3] = notice_add(f, a, "Aexp", NOW - 30, NOW, author);
	id[4] = notice_add(f, NULL, "G2", NOW - 10, NOW + 1, author);
	assert_true(id[0] < id[1] && id[1] < id[2] && id[2] < id[3] &&
		    id[3] < id[4]);
	commit(f);

	begin(f, MSSL_TXN_READ);
	notices_read(f, a, NOW, author, &nf);
	expect_titles(&nf, "G2 A1 G1");
	notices_read(f, b, NOW, author, &nf);
	expect_titles(&nf, "G2 B1 G1");
	notices_read(f, NULL, NOW, author, &nf);
	expect_titles(&nf, "G2 B1 A1 G1");
	notices_read(f, a, NOW - 35, author, &nf);
	expect_titles(&nf, "G2 Aexp A1 G1");
	notices_read(f, a, NOW + 1, author, &nf);
	expect_titles(&nf, "A1 G1");
	assert_int_equal(f->ops->notice_each(f->conn, a, NOW, notice_title_cb,
					     &stop), STOP);
	assert_int_equal(stop.calls, 1);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Blocked keys
 * ------------------------------------------------------------------ */

/* A key hash of this run: nonce, counter and 'tag', then a pattern. */
static void new_spki(uint8_t h[32], uint8_t tag)
{
	unsigned n = ++id_counter;
	int i;

	for (i = 0; i < 32; i++)
		h[i] = (uint8_t)(0xa5 ^ (i * 13));
	for (i = 0; i < 4; i++) {
		h[i] = (uint8_t)(run_nonce >> (8 * i));
		h[4 + i] = (uint8_t)(n >> (8 * i));
	}
	h[8] = tag;
	/* Zero bytes, in case a backend treats the key as a string. */
	h[9] = 0;
	h[31] = 0;
}

struct blocked_copy {
	int calls;
	uint8_t spki[32];
	int64_t added;
	char source[64], reason[64];
	int reason_null;
};

static int blocked_copy_cb(void *ud, const struct mssl_blocked_key_rec *r)
{
	struct blocked_copy *c = ud;
	int is_null;

	c->calls++;
	memcpy(c->spki, r->spki_sha256, 32);
	c->added = r->added;
	copy_opt(c->source, sizeof(c->source), &is_null, r->source);
	assert_false(is_null);
	copy_opt(c->reason, sizeof(c->reason), &c->reason_null, r->reason);
	return 0;
}

static int blocked_stop_cb(void *ud, const struct mssl_blocked_key_rec *r)
{
	(*(int *)ud)++;
	return STOP;
}

static void test_blocked_keys(void **state)
{
	struct fx *f = *state;
	struct mssl_blocked_key_rec r = { .added = NOW, .source = "operator",
					  .reason = "Debian weak key" };
	struct blocked_copy c = { 0 };
	uint8_t k1[32], k2[32], absent[32], near[32];
	int calls = 0;

	assert_non_null(f->ops->blocked_key_insert);
	assert_non_null(f->ops->blocked_key_get);
	new_spki(k1, 1);
	new_spki(k2, 2);
	new_spki(absent, 3);
	/* Differs from k1 in the last byte only. */
	memcpy(near, k1, 32);
	near[31] = 1;

	begin(f, MSSL_TXN_WRITE);
	memcpy(r.spki_sha256, k1, 32);
	assert_int_equal(f->ops->blocked_key_insert(f->conn, &r), 0);
	memcpy(r.spki_sha256, k2, 32);
	r.added = NOW + 5;
	r.source = "blocklist-2024.txt";
	r.reason = NULL;
	assert_int_equal(f->ops->blocked_key_insert(f->conn, &r), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->blocked_key_get(f->conn, k1, blocked_copy_cb,
						 &c), 0);
	assert_int_equal(c.calls, 1);
	assert_memory_equal(c.spki, k1, 32);
	assert_int_equal(c.added, NOW);
	assert_string_equal(c.source, "operator");
	assert_false(c.reason_null);
	assert_string_equal(c.reason, "Debian weak key");

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->blocked_key_get(f->conn, k2, blocked_copy_cb,
						 &c), 0);
	assert_int_equal(c.calls, 1);
	assert_memory_equal(c.spki, k2, 32);
	assert_int_equal(c.added, NOW + 5);
	assert_string_equal(c.source, "blocklist-2024.txt");
	assert_true(c.reason_null);

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->blocked_key_get(f->conn, absent,
						 blocked_copy_cb, &c),
			 MSSL_ENOENT);
	assert_int_equal(f->ops->blocked_key_get(f->conn, near,
						 blocked_copy_cb, &c),
			 MSSL_ENOENT);
	assert_int_equal(c.calls, 0);

	assert_int_equal(f->ops->blocked_key_get(f->conn, k1, blocked_stop_cb,
						 &calls), STOP);
	assert_int_equal(calls, 1);
	commit(f);

	/* Listed twice: refused, and the first entry stays as it was. */
	begin(f, MSSL_TXN_WRITE);
	memcpy(r.spki_sha256, k1, 32);
	r.added = NOW + 9;
	r.source = "revocation";
	r.reason = "key compromise";
	assert_int_equal(f->ops->blocked_key_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);

	begin(f, MSSL_TXN_READ);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->blocked_key_get(f->conn, k1, blocked_copy_cb,
						 &c), 0);
	assert_int_equal(c.added, NOW);
	assert_string_equal(c.source, "operator");
	assert_string_equal(c.reason, "Debian weak key");
	commit(f);
}

/* ---------------------------------------------------------------------
 * Certificates
 * ------------------------------------------------------------------ */

/* A serial of this run: lower-case hex. */
static void new_serial(char buf[32])
{
	snprintf(buf, 32, "%08x%04x7e", run_nonce, ++id_counter);
}

#define CERT_NSTR 14
#define CERT_DER_MAX 64

/* The record's strings, in one order for copying and comparing. */
static void cert_strs(const struct mssl_cert_rec *r,
		      const char *s[CERT_NSTR])
{
	s[0] = r->serial;
	s[1] = r->account_id;
	s[2] = r->cn;
	s[3] = r->state;
	s[4] = r->renewal_of;
	s[5] = r->requested_by;
	s[6] = r->server_vendor;
	s[7] = r->passphrase_hash;
	s[8] = r->tech_name;
	s[9] = r->tech_email;
	s[10] = r->tech_phone;
	s[11] = r->note;
	s[12] = r->seal_name;
	s[13] = r->idempotency_key;
}

struct cert_copy {
	int calls;
	char strs[CERT_NSTR][128];
	int nulls[CERT_NSTR];
	uint32_t product;
	int years, revoke_reason;
	int64_t not_before, not_after, revoked_at, created;
	uint8_t der[CERT_DER_MAX];
	size_t der_len;
	int der_null;
};

static int cert_copy_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct cert_copy *c = ud;
	const char *s[CERT_NSTR];
	int k;

	c->calls++;
	cert_strs(r, s);
	for (k = 0; k < CERT_NSTR; k++)
		copy_opt(c->strs[k], sizeof(c->strs[k]), &c->nulls[k], s[k]);
	c->product = r->product;
	c->years = r->years;
	c->not_before = r->not_before;
	c->not_after = r->not_after;
	c->revoked_at = r->revoked_at;
	c->revoke_reason = r->revoke_reason;
	c->created = r->created;
	c->der_null = r->der == NULL;
	c->der_len = r->der_len;
	assert_true(r->der_len <= CERT_DER_MAX);
	if (r->der)
		memcpy(c->der, r->der, r->der_len);
	return 0;
}

static int cert_stop_cb(void *ud, const struct mssl_cert_rec *r)
{
	(*(int *)ud)++;
	return STOP;
}

/* Read 'serial' into c; returns cert_get's result. */
static int cert_read(struct fx *f, const char *serial, struct cert_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->cert_get(f->conn, serial, cert_copy_cb, c);
}

/* Is what was read exactly what was inserted? */
static void cert_check(const struct cert_copy *c,
		       const struct mssl_cert_rec *want)
{
	const char *s[CERT_NSTR];
	int k;

	assert_int_equal(c->calls, 1);
	cert_strs(want, s);
	for (k = 0; k < CERT_NSTR; k++) {
		if (c->nulls[k] != (s[k] == NULL))
			fail_msg("string %d: NULL %d, want NULL %d", k,
				 c->nulls[k], s[k] == NULL);
		if (s[k])
			assert_string_equal(c->strs[k], s[k]);
	}
	assert_int_equal(c->product, want->product);
	assert_int_equal(c->years, want->years);
	assert_int_equal(c->not_before, want->not_before);
	assert_int_equal(c->not_after, want->not_after);
	assert_int_equal(c->revoked_at, want->revoked_at);
	assert_int_equal(c->revoke_reason, want->revoke_reason);
	assert_int_equal(c->created, want->created);
	assert_int_equal(c->der_null, want->der == NULL);
	assert_int_equal(c->der_len, want->der_len);
	if (want->der_len)
		assert_memory_equal(c->der, want->der, want->der_len);
}

/* A pending request: only what a request has, every optional field NULL. */
static void cert_pending(struct mssl_cert_rec *r, const char *serial,
			 const char *account)
{
	memset(r, 0, sizeof(*r));
	r->serial = serial;
	r->account_id = account;
	r->cn = "www.example.com.tw";
	r->product = MSSL_PRODUCT_SSL;
	r->state = "pending";
	r->years = 1;
	r->revoked_at = 0;
	r->revoke_reason = -1;
	r->created = NOW;
}

/* DER with zero bytes inside and at the end: a blob, not a string. */
static const uint8_t test_der[] = {
	0x30, 0x82, 0x00, 0x10, 0x30, 0x00, 0x02, 0x01, 0x00, 0x00,
	0xff, 0x00, 0x7f, 0x80, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
};

static void test_cert_roundtrip(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec full, pending, revoked;
	struct cert_copy c;
	char a[16], s1[32], s2[32], s3[32], missing[32];
	int calls = 0;

	assert_non_null(f->ops->cert_insert);
	assert_non_null(f->ops->cert_get);
	new_id(a);
	add_account(f, a);
	new_serial(s1);
	new_serial(s2);
	new_serial(s3);
	new_serial(missing);

	/* Every field set, each to a value of its own. */
	cert_pending(&full, s1, a);
	full.cn = "*.example.com.tw";
	full.product = MSSL_PRODUCT_WILDCARD;
	full.state = "issued";
	full.years = 3;
	full.not_before = NOW + 60;
	full.not_after = NOW + 60 + 3 * 31536000LL;
	full.der = test_der;
	full.der_len = sizeof(test_der);
	full.requested_by = "manager:70759028-01/3";
	full.server_vendor = "nginx";
	full.passphrase_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
	full.tech_name = "王小明";
	full.tech_email = "tech@example.com.tw";
	full.tech_phone = "+886-2-2345-6789";
	full.note = "urgent: old one expires Friday";
	full.seal_name = "大印";
	full.created = NOW + 1;
	full.idempotency_key = "order-2024-0017";

	/* Pending: no DER yet, every optional field NULL. */
	cert_pending(&pending, s2, a);

	/* Revoked for reason 0 (unspecified), a real reason. */
	cert_pending(&revoked, s3, a);
	revoked.state = "revoked";
	revoked.der = test_der;
	revoked.der_len = 1;
	revoked.revoked_at = NOW + 100;
	revoked.revoke_reason = 0;

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->cert_insert(f->conn, &full), 0);
	assert_int_equal(f->ops->cert_insert(f->conn, &pending), 0);
	assert_int_equal(f->ops->cert_insert(f->conn, &revoked), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, s1, &c), 0);
	cert_check(&c, &full);
	assert_int_equal(cert_read(f, s2, &c), 0);
	cert_check(&c, &pending);
	assert_true(c.der_null);
	assert_int_equal(c.revoked_at, 0);
	assert_int_equal(c.revoke_reason, -1);
	assert_int_equal(cert_read(f, s3, &c), 0);
	cert_check(&c, &revoked);

	assert_int_equal(cert_read(f, missing, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(f->ops->cert_get(f->conn, s1, cert_stop_cb, &calls),
			 STOP);
	assert_int_equal(calls, 1);
	commit(f);
}

static void test_cert_refused(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec r;
	struct cert_copy c;
	char a[16], nobody[16], s1[32], s2[32], s3[32];

	new_id(a);
	new_id(nobody);
	add_account(f, a);
	new_serial(s1);
	new_serial(s2);
	new_serial(s3);

	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s1, a);
	assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	commit(f);

	/* A serial is used once, whoever asks. */
	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s1, a);
	r.cn = "impostor.example.com";
	assert_int_equal(f->ops->cert_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);

	/* A certificate of an account that does not exist. */
	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s2, nobody);
	assert_int_equal(f->ops->cert_insert(f->conn, &r), MSSL_ENOENT);
	commit_after_error(f);

	/* The renewal of a certificate that does not exist. */
	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s3, a);
	r.renewal_of = s2;
	assert_int_equal(f->ops->cert_insert(f->conn, &r), MSSL_ENOENT);
	commit_after_error(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, s1, &c), 0);
	assert_string_equal(c.strs[2], "www.example.com.tw");
	assert_int_equal(cert_read(f, s2, &c), MSSL_ENOENT);
	assert_int_equal(cert_read(f, s3, &c), MSSL_ENOENT);
	commit(f);
}

/* A renewal names the certificate it renews. */
static void test_cert_renewal(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec old, renewal;
	struct cert_copy c;
	char a[16], s1[32], s2[32];

	new_id(a);
	add_account(f, a);
	new_serial(s1);
	new_serial(s2);

	begin(f, MSSL_TXN_WRITE);
	cert_pending(&old, s1, a);
	old.state = "issued";
	old.der = test_der;
	old.der_len = sizeof(test_der);
	assert_int_equal(f->ops->cert_insert(f->conn, &old), 0);
	cert_pending(&renewal, s2, a);
	renewal.renewal_of = s1;
	assert_int_equal(f->ops->cert_insert(f->conn, &renewal), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, s2, &c), 0);
	cert_check(&c, &renewal);
	assert_false(c.nulls[4]);
	assert_string_equal(c.strs[4], s1);
	assert_int_equal(cert_read(f, s1, &c), 0);
	cert_check(&c, &old);
	assert_true(c.nulls[4]);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Issuance: finishing, revoking, listing certificates
 * ------------------------------------------------------------------ */

#define YEAR ((int64_t)31536000)

/* Insert pending certificates in their own committed transaction. */
static void cert_add_pending(struct fx *f, const char *account,
			     const char *const *serials, size_t n)
{
	struct mssl_cert_rec r;
	size_t i;

	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < n; i++) {
		cert_pending(&r, serials[i], account);
		assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	}
	commit(f);
}

/*
 * cert_finish in a transaction of its own, committed when it succeeds.
 * "issued" gets test_der and a year from 'not_before'; "failed" no DER.
 */
static int finish_txn(struct fx *f, const char *serial, const char *new_serial,
		      const char *state, int64_t not_before)
{
	int issued = strcmp(state, "issued") == 0;
	int rc;

	begin(f, MSSL_TXN_WRITE);
	rc = f->ops->cert_finish(f->conn, serial, new_serial, state,
				 issued ? test_der : NULL,
				 issued ? sizeof(test_der) : 0,
				 issued ? not_before : 0,
				 issued ? not_before + YEAR : 0);
	if (rc)
		rollback(f);
	else
		commit(f);
	return rc;
}

static int revoke_txn(struct fx *f, const char *serial, int64_t at, int reason)
{
	int rc;

	begin(f, MSSL_TXN_WRITE);
	rc = f->ops->cert_revoke(f->conn, serial, at, reason);
	if (rc)
		rollback(f);
	else
		commit(f);
	return rc;
}

/* Is 'serial' as read now in 'state'? */
static void expect_state(struct fx *f, const char *serial, const char *state)
{
	struct cert_copy c;

	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, serial, &c), 0);
	assert_string_equal(c.strs[3], state);
	commit(f);
}

static void test_cert_finish(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec want[3];
	struct cert_copy c;
	char a[16], s1[32], s2[32], s2b[32], s3[32], s4[32], missing[32];
	const char *serials[4] = { s1, s2, s3, s4 };
	int i;

	assert_non_null(f->ops->cert_finish);
	new_id(a);
	add_account(f, a);
	new_serial(s1);
	new_serial(s2);
	new_serial(s2b);
	new_serial(s3);
	new_serial(s4);
	new_serial(missing);
	cert_add_pending(f, a, serials, 4);

	/* Issued under its serial; under the signer's; failed. */
	assert_int_equal(finish_txn(f, s1, s1, "issued", NOW + 10), 0);
	assert_int_equal(finish_txn(f, s2, s2b, "issued", NOW + 20), 0);
	assert_int_equal(finish_txn(f, s3, s3, "failed", 0), 0);

	/* Everything else is as the request left it. */
	for (i = 0; i < 3; i++)
		cert_pending(&want[i], serials[i], a);
	want[0].state = "issued";
	want[0].der = test_der;
	want[0].der_len = sizeof(test_der);
	want[0].not_before = NOW + 10;
	want[0].not_after = NOW + 10 + YEAR;
	want[1] = want[0];
	want[1].serial = s2b;
	want[1].not_before = NOW + 20;
	want[1].not_after = NOW + 20 + YEAR;
	want[2].state = "failed";

	begin(f, MSSL_TXN_READ);
	for (i = 0; i < 3; i++) {
		assert_int_equal(cert_read(f, want[i].serial, &c), 0);
		cert_check(&c, &want[i]);
	}
	assert_true(c.der_null);
	/* The old serial is gone. */
	assert_int_equal(cert_read(f, s2, &c), MSSL_ENOENT);
	commit(f);

	/* Only a pending certificate finishes. */
	assert_int_equal(finish_txn(f, s1, s1, "issued", NOW + 99),
			 MSSL_ENOENT);
	assert_int_equal(finish_txn(f, s2b, s2b, "failed", 0), MSSL_ENOENT);
	assert_int_equal(finish_txn(f, s3, s3, "issued", NOW + 99),
			 MSSL_ENOENT);
	assert_int_equal(finish_txn(f, s2, s2, "issued", NOW + 99),
			 MSSL_ENOENT);
	assert_int_equal(finish_txn(f, missing, missing, "issued", NOW + 99),
			 MSSL_ENOENT);

	/* A serial the signer chose that is taken: refused, still pending. */
	assert_int_equal(finish_txn(f, s4, s1, "issued", NOW + 99),
			 MSSL_EEXIST);

	begin(f, MSSL_TXN_READ);
	for (i = 0; i < 3; i++) {
		assert_int_equal(cert_read(f, want[i].serial, &c), 0);
		cert_check(&c, &want[i]);
	}
	assert_int_equal(cert_read(f, s4, &c), 0);
	assert_string_equal(c.strs[3], "pending");
	assert_true(c.der_null);
	commit(f);

	/* And it may still finish. */
	assert_int_equal(finish_txn(f, s4, s4, "failed", 0), 0);
	expect_state(f, s4, "failed");
}

/* Revokes every certificate cert_each shows it, from the callback. */
struct revoker {
	struct fx *f;
	int calls, rc;
};

static int revoke_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct revoker *v = ud;

	v->calls++;
	v->rc = v->f->ops->cert_revoke(v->f->conn, r->serial, NOW + 900, 4);
	return v->rc;
}

/*
 * ledger_reserial: a signer chose its own serial.  In the transaction of
 * cert_finish the charge naming the placeholder follows the certificate;
 * entries naming other certificates stay; a rollback undoes both.
 */
static void test_ledger_reserial(void **state)
{
	struct fx *f = *state;
	struct ledger_copy c;
	struct cert_copy cc;
	struct mssl_ledger_rec r = {
		.time = NOW,
		.kind = MSSL_LEDGER_CHARGE,
		.actor = "manager:x:bob",
	};
	char a[16], s1[32], s1b[32], s2[32], s2b[32], other[32];
	const char *serials[2] = { s1, s2 };

	assert_non_null(f->ops->ledger_reserial);
	new_id(a);
	add_account(f, a);
	new_serial(s1);
	new_serial(s1b);
	new_serial(s2);
	new_serial(s2b);
	new_serial(other);
	cert_add_pending(f, a, serials, 2);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(ledger_add(f, a, MSSL_LEDGER_TOPUP, 10, 10, NULL), 0);
	r.account_id = a;
	r.delta = -1;
	r.balance_after = 9;
	r.cert_serial = s1;
	assert_int_equal(f->ops->ledger_insert(f->conn, &r, NULL), 0);
	r.balance_after = 8;
	r.cert_serial = other;
	assert_int_equal(f->ops->ledger_insert(f->conn, &r, NULL), 0);
	commit(f);

	/* Moved with the certificate, in one transaction. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->cert_finish(f->conn, s1, s1b, "issued",
					     test_der, sizeof(test_der), NOW,
					     NOW + YEAR),
			 0);
	assert_int_equal(f->ops->ledger_reserial(f->conn, s1, s1b), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(ledger_read(f, a, 0, 0, 0, &c), 0);
	assert_int_equal(c.n, 3);
	assert_true(c.r[0].serial_null);
	assert_string_equal(c.r[1].serial, s1b);
	assert_string_equal(c.r[2].serial, other);
	assert_int_equal(c.r[1].balance, 9);
	commit(f);

	/* Rolled back: neither moves. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->cert_finish(f->conn, s2, s2b, "issued",
					     test_der, sizeof(test_der), NOW,
					     NOW + YEAR),
			 0);
	assert_int_equal(f->ops->ledger_reserial(f->conn, other, s2b), 0);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(ledger_read(f, a, 0, 0, 0, &c), 0);
	assert_string_equal(c.r[2].serial, other);
	assert_int_equal(cert_read(f, s2, &cc), 0);
	assert_string_equal(cc.strs[3], "pending");
	commit(f);

	/* No entry names it: nothing to do, not an error. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->ledger_reserial(f->conn, s2, s2b), 0);
	commit(f);
}

static void test_cert_revoke(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_filter flt = { 0 };
	struct mssl_cert_rec want;
	struct revoker v = { f, 0, 0 };
	struct cert_copy c;
	char a[16], b[16], pend[32], iss[32], zero[32], none[32], bad[32];
	char missing[32], bs[3][32];
	const char *serials[5] = { pend, iss, zero, none, bad };
	const char *bser[3] = { bs[0], bs[1], bs[2] };
	int i;

	assert_non_null(f->ops->cert_revoke);
	new_id(a);
	new_id(b);
	add_account(f, a);
	add_account(f, b);
	new_serial(pend);
	new_serial(iss);
	new_serial(zero);
	new_serial(none);
	new_serial(bad);
	new_serial(missing);
	cert_add_pending(f, a, serials, 5);
	assert_int_equal(finish_txn(f, iss, iss, "issued", NOW), 0);
	assert_int_equal(finish_txn(f, zero, zero, "issued", NOW), 0);
	assert_int_equal(finish_txn(f, none, none, "issued", NOW), 0);
	assert_int_equal(finish_txn(f, bad, bad, "failed", 0), 0);

	/* Only an issued certificate is revoked. */
	assert_int_equal(revoke_txn(f, pend, NOW + 100, 1), MSSL_ENOENT);
	assert_int_equal(revoke_txn(f, bad, NOW + 100, 1), MSSL_ENOENT);
	assert_int_equal(revoke_txn(f, missing, NOW + 100, 1), MSSL_ENOENT);
	expect_state(f, pend, "pending");
	expect_state(f, bad, "failed");

	/* keyCompromise (1); unspecified (0) is a reason; -1 is none. */
	assert_int_equal(revoke_txn(f, iss, NOW + 100, 1), 0);
	assert_int_equal(revoke_txn(f, zero, NOW + 200, 0), 0);
	assert_int_equal(revoke_txn(f, none, NOW + 300, -1), 0);

	/* Once only: the first revocation stands. */
	assert_int_equal(revoke_txn(f, iss, NOW + 400, 4), MSSL_ENOENT);
	/* A revoked certificate does not finish either. */
	assert_int_equal(finish_txn(f, iss, iss, "issued", NOW), MSSL_ENOENT);

	cert_pending(&want, iss, a);
	want.state = "revoked";
	want.der = test_der;
	want.der_len = sizeof(test_der);
	want.not_before = NOW;
	want.not_after = NOW + YEAR;
	want.revoked_at = NOW + 100;
	want.revoke_reason = 1;
	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, iss, &c), 0);
	cert_check(&c, &want);
	assert_int_equal(cert_read(f, zero, &c), 0);
	assert_string_equal(c.strs[3], "revoked");
	assert_int_equal(c.revoked_at, NOW + 200);
	assert_int_equal(c.revoke_reason, 0);
	assert_int_equal(cert_read(f, none, &c), 0);
	assert_string_equal(c.strs[3], "revoked");
	assert_int_equal(c.revoked_at, NOW + 300);
	assert_int_equal(c.revoke_reason, -1);
	commit(f);

	/* Revoking from inside the iteration that lists them. */
	for (i = 0; i < 3; i++)
		new_serial(bs[i]);
	cert_add_pending(f, b, bser, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(finish_txn(f, bs[i], bs[i], "issued", NOW),
				 0);
	flt.account_id = b;
	flt.state = "issued";
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->cert_each(f->conn, &flt, revoke_cb, &v), 0);
	assert_int_equal(v.calls, 3);
	commit(f);
	begin(f, MSSL_TXN_READ);
	v.calls = 0;
	assert_int_equal(f->ops->cert_each(f->conn, &flt, revoke_cb, &v), 0);
	assert_int_equal(v.calls, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(cert_read(f, bs[i], &c), 0);
		assert_string_equal(c.strs[3], "revoked");
		assert_int_equal(c.revoked_at, NOW + 900);
		assert_int_equal(c.revoke_reason, 4);
	}
	commit(f);
}

/*
 * A set of certificates a test made, and what cert_each lists of them
 * ("0 1 4", the set's indexes, in the order seen).  Rows outside the set
 * (other tests', other runs') are skipped.
 */
#define CERT_SET 12

struct cert_set {
	char serial[CERT_SET][32];
	int n;
};

struct cert_list {
	const struct cert_set *set;
	char got[3 * CERT_SET * 4];
	size_t len;
	int calls, stop_at;
};

static int cert_list_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct cert_list *l = ud;
	int k;

	l->calls++;
	for (k = 0; k < l->set->n; k++)
		if (strcmp(r->serial, l->set->serial[k]) == 0)
			break;
	if (k < l->set->n) {
		assert_true(l->len + 4 < sizeof(l->got));
		l->len += (size_t)snprintf(l->got + l->len,
					   sizeof(l->got) - l->len, "%s%d",
					   l->len ? " " : "", k);
	}
	return l->stop_at && l->calls == l->stop_at ? STOP : 0;
}

static void expect_each(struct fx *f, const struct cert_set *set,
			const struct mssl_cert_filter *flt, const char *want)
{
	struct cert_list l = { .set = set };

	assert_int_equal(f->ops->cert_each(f->conn, flt, cert_list_cb, &l), 0);
	if (strcmp(l.got, want) != 0)
		fail_msg("cert_each {account %s, state %s, cn %s, before %lld,"
			 " after %lld, newest %d, offset %lld, limit %lld}:"
			 " got \"%s\", want \"%s\"",
			 flt->account_id ? flt->account_id : "-",
			 flt->state ? flt->state : "-",
			 flt->cn ? flt->cn : "-",
			 (long long)flt->expires_before,
			 (long long)flt->expires_after, flt->newest_first,
			 (long long)flt->offset, (long long)flt->limit, l.got,
			 want);
}

static void test_cert_each(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_filter flt;
	struct mssl_cert_rec r;
	struct cert_set set = { .n = 6 };
	struct cert_list stop = { .set = &set, .stop_at = 2 };
	char a[16], b[16], cnx[64], cny[64], cnx_upper[64];
	/*
	 * Six certificates, each with its account, state, CN, creation and
	 * expiry; 1 and 4 are created in the same second, and so are 0 and
	 * 5.  The CN of 4 is in upper case.
	 */
	static const struct {
		int account_b, cn, upper;
		const char *state;
		int64_t created, not_after;
	} spec[6] = {
		{ 0, 'x', 0, "issued", NOW + 1, NOW + 100 },
		{ 0, 'y', 0, "issued", NOW + 2, NOW + 200 },
		{ 0, 'x', 0, "pending", NOW + 3, NOW + 250 },
		{ 0, 'x', 0, "revoked", NOW + 4, NOW + 300 },
		{ 0, 'x', 1, "failed", NOW + 2, NOW + 50 },
		{ 1, 'x', 0, "issued", NOW + 1, NOW + 150 },
	};
	/* Inserted out of order: the store must sort. */
	static const int order[6] = { 3, 4, 0, 5, 2, 1 };
	size_t k;
	int i;

	assert_non_null(f->ops->cert_each);
	new_id(a);
	new_id(b);
	add_account(f, a);
	add_account(f, b);
	run_domain(cnx, sizeof(cnx), "www");
	run_domain(cny, sizeof(cny), "api");
	for (k = 0; k < sizeof(cnx_upper) && cnx[k]; k++)
		cnx_upper[k] = (char)(cnx[k] >= 'a' && cnx[k] <= 'z' ?
				      cnx[k] - 'a' + 'A' : cnx[k]);
	cnx_upper[k] = '\0';
	for (i = 0; i < 6; i++)
		new_serial(set.serial[i]);

	begin(f, MSSL_TXN_WRITE);
	for (k = 0; k < 6; k++) {
		i = order[k];
		cert_pending(&r, set.serial[i], spec[i].account_b ? b : a);
		r.cn = spec[i].cn == 'y' ? cny : cnx;
		if (spec[i].upper)
			r.cn = cnx_upper;
		r.state = spec[i].state;
		r.created = spec[i].created;
		r.not_before = spec[i].created;
		r.not_after = spec[i].not_after;
		if (strcmp(r.state, "revoked") == 0) {
			r.revoked_at = NOW + 5;
			r.revoke_reason = 1;
		}
		assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	}
	commit(f);

	begin(f, MSSL_TXN_READ);
	/* No filter: every certificate, by created then serial. */
	memset(&flt, 0, sizeof(flt));
	expect_each(f, &set, &flt, "0 5 1 4 2 3");
	flt.newest_first = 1;
	expect_each(f, &set, &flt, "3 2 4 1 5 0");

	/* Account. */
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	expect_each(f, &set, &flt, "0 1 4 2 3");
	flt.newest_first = 1;
	expect_each(f, &set, &flt, "3 2 4 1 0");
	flt.account_id = b;
	expect_each(f, &set, &flt, "5");

	/* State, alone and with the account. */
	memset(&flt, 0, sizeof(flt));
	flt.state = "issued";
	expect_each(f, &set, &flt, "0 5 1");
	flt.account_id = a;
	expect_each(f, &set, &flt, "0 1");
	flt.state = "pending";
	expect_each(f, &set, &flt, "2");
	flt.state = "revoked";
	expect_each(f, &set, &flt, "3");
	flt.state = "failed";
	expect_each(f, &set, &flt, "4");

	/* CN, case-insensitive, alone and with the account or state. */
	memset(&flt, 0, sizeof(flt));
	flt.cn = cnx;
	expect_each(f, &set, &flt, "0 5 4 2 3");
	flt.cn = cnx_upper;
	flt.account_id = a;
	expect_each(f, &set, &flt, "0 4 2 3");
	flt.cn = cnx;
	flt.account_id = b;
	expect_each(f, &set, &flt, "5");
	flt.account_id = NULL;
	flt.cn = cny;
	expect_each(f, &set, &flt, "1");
	flt.state = "pending";
	expect_each(f, &set, &flt, "");

	/* Expiry: before is exclusive, after inclusive. */
	memset(&flt, 0, sizeof(flt));
	flt.expires_before = NOW + 200;
	expect_each(f, &set, &flt, "0 5 4");
	flt.account_id = a;
	expect_each(f, &set, &flt, "0 4");
	flt.expires_before = 0;
	flt.expires_after = NOW + 200;
	expect_each(f, &set, &flt, "1 2 3");
	flt.account_id = NULL;
	flt.expires_after = NOW + 150;
	expect_each(f, &set, &flt, "5 1 2 3");
	flt.account_id = a;
	flt.expires_after = NOW + 100;
	flt.expires_before = NOW + 300;
	expect_each(f, &set, &flt, "0 1 2");

	/* Combinations. */
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	flt.state = "issued";
	flt.cn = cnx;
	expect_each(f, &set, &flt, "0");
	flt.cn = NULL;
	flt.expires_after = NOW + 150;
	expect_each(f, &set, &flt, "1");
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	flt.cn = cnx;
	flt.expires_before = NOW + 300;
	flt.newest_first = 1;
	expect_each(f, &set, &flt, "2 4 0");
	flt.limit = 2;
	expect_each(f, &set, &flt, "2 4");
	flt.offset = 1;
	expect_each(f, &set, &flt, "4 0");

	/* Pages of account a ("0 1 4 2 3"), in both directions. */
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	flt.offset = 1;
	flt.limit = 2;
	expect_each(f, &set, &flt, "1 4");
	flt.offset = 3;
	expect_each(f, &set, &flt, "2 3");
	flt.offset = 4;
	flt.limit = 0;
	expect_each(f, &set, &flt, "3");
	flt.offset = 5;
	expect_each(f, &set, &flt, "");
	flt.offset = 0;
	flt.limit = 1;
	expect_each(f, &set, &flt, "0");
	flt.limit = 10;
	expect_each(f, &set, &flt, "0 1 4 2 3");
	flt.newest_first = 1;
	flt.offset = 1;
	flt.limit = 2;
	expect_each(f, &set, &flt, "2 4");
	flt.offset = 3;
	expect_each(f, &set, &flt, "1 0");

	/* A non-zero return stops the iteration. */
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	assert_int_equal(f->ops->cert_each(f->conn, &flt, cert_list_cb, &stop),
			 STOP);
	assert_int_equal(stop.calls, 2);
	assert_string_equal(stop.got, "0 1");
	commit(f);
}

/* expect_each through cert_match with m. */
static void expect_match(struct fx *f, const struct cert_set *set,
			 const struct mssl_cert_filter *flt,
			 const struct mssl_cert_match *m, const char *want)
{
	struct cert_list l = { .set = set };

	assert_int_equal(f->ops->cert_match(f->conn, flt, m, cert_list_cb, &l),
			 0);
	if (strcmp(l.got, want) != 0)
		fail_msg("cert_match {contains %s, domain %s, offset %lld,"
			 " limit %lld, newest %d}: got \"%s\", want \"%s\"",
			 m && m->cn_contains ? m->cn_contains : "-",
			 m && m->domain ? m->domain : "-",
			 (long long)flt->offset, (long long)flt->limit,
			 flt->newest_first, l.got, want);
}

/*
 * cert_match (ABI 1.5): the CN substring and domain filters, ASCII case
 * insensitive and literal (no pattern characters), a domain only on a
 * label boundary, before the offset and limit; members beyond m's size
 * ignored.
 */
static void test_cert_match(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_filter flt;
	struct mssl_cert_match m;
	struct mssl_cert_rec r;
	struct cert_set set = { .n = 6 };
	char a[16], base[64], cn[6][96], upper[64];
	const char *d;
	size_t k;
	int i;

	assert_non_null(f->ops->cert_match);
	new_id(a);
	add_account(f, a);
	run_domain(base, sizeof(base), "www");
	d = strchr(base, '.') + 1; /* dNNNNNNNN-N.example */
	snprintf(cn[0], sizeof(cn[0]), "www.%s", d);
	snprintf(cn[1], sizeof(cn[1]), "MAIL.%s", d);
	snprintf(cn[2], sizeof(cn[2]), "%s", d);
	snprintf(cn[3], sizeof(cn[3]), "shop%s", d); /* no label boundary */
	snprintf(cn[4], sizeof(cn[4]), "a.b.%s", d);
	snprintf(cn[5], sizeof(cn[5]), "www.other-%s", d);
	for (k = 0; k < sizeof(upper) - 1 && d[k]; k++)
		upper[k] = (char)(d[k] >= 'a' && d[k] <= 'z' ? d[k] - 32 :
							       d[k]);
	upper[k] = '\0';
	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < 6; i++) {
		new_serial(set.serial[i]);
		cert_pending(&r, set.serial[i], a);
		r.cn = cn[i];
		r.state = i == 5 ? "issued" : "pending";
		r.created = NOW + 1 + i;
		r.not_before = r.created;
		r.not_after = NOW + 1000;
		assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	}
	commit(f);

	begin(f, MSSL_TXN_READ);
	memset(&flt, 0, sizeof(flt));
	flt.account_id = a;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	/* Nothing to match: cert_each. */
	expect_match(f, &set, &flt, NULL, "0 1 2 3 4 5");
	expect_match(f, &set, &flt, &m, "0 1 2 3 4 5");
	m.cn_contains = "";
	m.domain = "";
	expect_match(f, &set, &flt, &m, "0 1 2 3 4 5");
	/* Substrings, any ASCII case, literal. */
	m.domain = NULL;
	m.cn_contains = "WWW.";
	expect_match(f, &set, &flt, &m, "0 5");
	m.cn_contains = "mail";
	expect_match(f, &set, &flt, &m, "1");
	m.cn_contains = "_";
	expect_match(f, &set, &flt, &m, "");
	m.cn_contains = "%";
	expect_match(f, &set, &flt, &m, "");
	m.cn_contains = "shopd";
	expect_match(f, &set, &flt, &m, "3");
	/* The domain and the names under it, on a label boundary only. */
	m.cn_contains = NULL;
	m.domain = d;
	expect_match(f, &set, &flt, &m, "0 1 2 4");
	m.domain = upper;
	expect_match(f, &set, &flt, &m, "0 1 2 4");
	m.domain = cn[0];
	expect_match(f, &set, &flt, &m, "0");
	m.cn_contains = "b.";
	m.domain = d;
	expect_match(f, &set, &flt, &m, "4");
	/* Offset and limit count matches, in both directions. */
	m.cn_contains = NULL;
	flt.offset = 1;
	flt.limit = 2;
	expect_match(f, &set, &flt, &m, "1 2");
	flt.newest_first = 1;
	expect_match(f, &set, &flt, &m, "2 1");
	flt.offset = 3;
	expect_match(f, &set, &flt, &m, "0");
	/* With cert_each's own filters. */
	flt.newest_first = 0;
	flt.offset = 0;
	flt.limit = 0;
	flt.state = "issued";
	m.domain = NULL;
	m.cn_contains = "www";
	expect_match(f, &set, &flt, &m, "5");
	flt.state = NULL;
	/* A host of an older minor: members past its size are not read. */
	m.size = (uint32_t)offsetof(struct mssl_cert_match, cn_contains);
	expect_match(f, &set, &flt, &m, "0 1 2 3 4 5");
	m.size = (uint32_t)offsetof(struct mssl_cert_match, domain);
	m.domain = d;
	expect_match(f, &set, &flt, &m, "0 5");
	commit(f);
}

/* The client's idempotency key: unique per account, NULL never clashes. */
static void test_cert_idempotency(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec r;
	struct cert_copy c;
	char a[16], b[16], nobody[16], key[48], other[48];
	char s1[32], s1b[32], s2[32], s3[32], s4[32], s5[32];
	int calls = 0;

	assert_non_null(f->ops->cert_by_key);
	new_id(a);
	new_id(b);
	new_id(nobody);
	add_account(f, a);
	add_account(f, b);
	snprintf(key, sizeof(key), "req-%08u-%u", run_nonce, id_counter);
	snprintf(other, sizeof(other), "req-%08u-%u-x", run_nonce, id_counter);
	new_serial(s1);
	new_serial(s1b);
	new_serial(s2);
	new_serial(s3);
	new_serial(s4);
	new_serial(s5);

	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s1, a);
	r.idempotency_key = key;
	assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	commit(f);

	/* The same key again in the same account: refused. */
	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s2, a);
	r.idempotency_key = key;
	assert_int_equal(f->ops->cert_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);

	/* In another account: its own. */
	begin(f, MSSL_TXN_WRITE);
	cert_pending(&r, s3, b);
	r.idempotency_key = key;
	assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	/* Without a key, as often as one likes. */
	cert_pending(&r, s4, a);
	assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	cert_pending(&r, s5, a);
	assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(cert_read(f, s2, &c), MSSL_ENOENT);
	assert_int_equal(cert_read(f, s1, &c), 0);
	assert_false(c.nulls[13]);
	assert_string_equal(c.strs[13], key);
	assert_int_equal(cert_read(f, s4, &c), 0);
	assert_true(c.nulls[13]);

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->cert_by_key(f->conn, a, key, cert_copy_cb, &c),
			 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.strs[0], s1);
	assert_string_equal(c.strs[1], a);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->cert_by_key(f->conn, b, key, cert_copy_cb, &c),
			 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.strs[0], s3);

	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->cert_by_key(f->conn, a, other, cert_copy_cb,
					     &c), MSSL_ENOENT);
	assert_int_equal(f->ops->cert_by_key(f->conn, nobody, key,
					     cert_copy_cb, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(f->ops->cert_by_key(f->conn, a, key, cert_stop_cb,
					     &calls), STOP);
	assert_int_equal(calls, 1);
	commit(f);

	/* The key follows the certificate to the serial its signer chose. */
	assert_int_equal(finish_txn(f, s1, s1b, "issued", NOW), 0);
	begin(f, MSSL_TXN_READ);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->cert_by_key(f->conn, a, key, cert_copy_cb, &c),
			 0);
	assert_string_equal(c.strs[0], s1b);
	assert_string_equal(c.strs[3], "issued");
	assert_string_equal(c.strs[13], key);
	commit(f);
}

/* ---------------------------------------------------------------------
 * CN terms
 * ------------------------------------------------------------------ */

struct term_copy {
	int calls;
	char account[32], cn[96];
	int64_t started, paid_until;
};

static int term_copy_cb(void *ud, const struct mssl_term_rec *r)
{
	struct term_copy *c = ud;

	c->calls++;
	snprintf(c->account, sizeof(c->account), "%s", r->account_id);
	snprintf(c->cn, sizeof(c->cn), "%s", r->cn);
	c->started = r->started;
	c->paid_until = r->paid_until;
	return 0;
}

static int term_stop_cb(void *ud, const struct mssl_term_rec *r)
{
	(*(int *)ud)++;
	return STOP;
}

static int term_read(struct fx *f, const char *account, const char *cn,
		     struct term_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->term_get(f->conn, account, cn, term_copy_cb, c);
}

static void term_expect(struct fx *f, const char *account, const char *cn,
			int64_t started, int64_t paid_until)
{
	struct term_copy c;

	assert_int_equal(term_read(f, account, cn, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.account, account);
	assert_string_equal(c.cn, cn);
	assert_int_equal(c.started, started);
	assert_int_equal(c.paid_until, paid_until);
}

static void test_terms(void **state)
{
	struct fx *f = *state;
	struct mssl_term_rec t;
	struct term_copy c;
	char a[16], b[16], nobody[16], cn[64], cn2[64];
	const char *ids[2] = { a, b };
	int calls = 0;

	assert_non_null(f->ops->term_get);
	assert_non_null(f->ops->term_put);
	new_id(a);
	new_id(b);
	new_id(nobody);
	add_accounts(f, ids, 2);
	run_domain(cn, sizeof(cn), "www");
	run_domain(cn2, sizeof(cn2), "mail");

	begin(f, MSSL_TXN_READ);
	assert_int_equal(term_read(f, a, cn, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	t = (struct mssl_term_rec){ a, cn, NOW, NOW + YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), 0);
	t = (struct mssl_term_rec){ b, cn, NOW + 7, NOW + 2 * YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), 0);
	t = (struct mssl_term_rec){ a, cn2, NOW + 9, NOW + 3 * YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), 0);
	commit(f);

	begin(f, MSSL_TXN_READ);
	term_expect(f, a, cn, NOW, NOW + YEAR);
	term_expect(f, b, cn, NOW + 7, NOW + 2 * YEAR);
	term_expect(f, a, cn2, NOW + 9, NOW + 3 * YEAR);
	assert_int_equal(term_read(f, b, cn2, &c), MSSL_ENOENT);
	assert_int_equal(f->ops->term_get(f->conn, a, cn, term_stop_cb,
					  &calls), STOP);
	assert_int_equal(calls, 1);
	commit(f);

	/* Put again: the term is replaced, the others stay. */
	begin(f, MSSL_TXN_WRITE);
	t = (struct mssl_term_rec){ a, cn, NOW + 50, NOW + 2 * YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	term_expect(f, a, cn, NOW + 50, NOW + 2 * YEAR);
	term_expect(f, b, cn, NOW + 7, NOW + 2 * YEAR);
	term_expect(f, a, cn2, NOW + 9, NOW + 3 * YEAR);
	commit(f);

	/* A rolled-back put leaves the term as it was. */
	begin(f, MSSL_TXN_WRITE);
	t = (struct mssl_term_rec){ a, cn, NOW + 60, NOW + 9 * YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), 0);
	rollback(f);

	/* A term of an account that does not exist. */
	begin(f, MSSL_TXN_WRITE);
	t = (struct mssl_term_rec){ nobody, cn, NOW, NOW + YEAR };
	assert_int_equal(f->ops->term_put(f->conn, &t), MSSL_ENOENT);
	commit_after_error(f);

	begin(f, MSSL_TXN_READ);
	term_expect(f, a, cn, NOW + 50, NOW + 2 * YEAR);
	assert_int_equal(term_read(f, nobody, cn, &c), MSSL_ENOENT);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------ */

static void counter_name(char *buf, size_t n, const char *label)
{
	snprintf(buf, n, "%s:%08u-%u", label, run_nonce, ++id_counter);
}

static int64_t next_of(struct fx *f, const char *name)
{
	int64_t v = -1;

	assert_int_equal(f->ops->counter_next(f->conn, name, &v), 0);
	return v;
}

static void test_counter(void **state)
{
	struct fx *f = *state;
	char c1[64], c2[64];
	int64_t i;

	assert_non_null(f->ops->counter_next);
	counter_name(c1, sizeof(c1), "crl");
	counter_name(c2, sizeof(c2), "crl");

	/* 1, 2, 3 ...; each name its own. */
	begin(f, MSSL_TXN_WRITE);
	for (i = 1; i <= 3; i++)
		assert_int_equal(next_of(f, c1), i);
	assert_int_equal(next_of(f, c2), 1);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(next_of(f, c1), 4);
	commit(f);

	/* A rolled-back step is not spent: the next commit reuses it. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(next_of(f, c1), 5);
	assert_int_equal(next_of(f, c2), 2);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(next_of(f, c1), 5);
	assert_int_equal(next_of(f, c2), 2);
	commit(f);
}

#define COUNTER_THREADS 2
#define COUNTER_ROUNDS 200
#define COUNTER_TOTAL (COUNTER_THREADS * COUNTER_ROUNDS)

struct counter_writer {
	struct fx *f;
	const char *name;
	pthread_barrier_t *start;
	int64_t got[COUNTER_ROUNDS];
	int rc; /* first failure, 0 when none */
	const char *where;
};

static int counter_step(struct counter_writer *w, void *conn, int64_t *v)
{
	const struct mssl_store_ops *ops = w->f->ops;
	int rc;

	rc = ops->begin(conn, MSSL_TXN_WRITE);
	if (rc) {
		w->where = "begin";
		return rc;
	}
	rc = ops->counter_next(conn, w->name, v);
	if (rc) {
		w->where = "counter_next";
		goto out;
	}
	rc = ops->commit(conn);
	if (rc)
		w->where = "commit";
out:
	if (rc)
		ops->rollback(conn);
	return rc;
}

static void *counter_main(void *arg)
{
	struct counter_writer *w = arg;
	void *conn = NULL;
	int i;

	w->rc = w->f->ops->open(w->f->state, &conn);
	if (w->rc)
		w->where = "open";
	pthread_barrier_wait(w->start);
	if (w->rc)
		return NULL;
	for (i = 0; i < COUNTER_ROUNDS && !w->rc; i++)
		w->rc = counter_step(w, conn, &w->got[i]);
	w->f->ops->close(conn);
	return NULL;
}

/* Two connections counting at once never get the same value. */
static void test_counter_concurrent(void **state)
{
	struct fx *f = *state;
	struct counter_writer w[COUNTER_THREADS];
	uint8_t seen[COUNTER_TOTAL + 1] = { 0 };
	pthread_barrier_t start;
	pthread_t t[COUNTER_THREADS];
	char name[64];
	int64_t v;
	int i, k;

	counter_name(name, sizeof(name), "serial");
	assert_int_equal(pthread_barrier_init(&start, NULL, COUNTER_THREADS),
			 0);
	for (i = 0; i < COUNTER_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].f = f;
		w[i].name = name;
		w[i].start = &start;
		assert_int_equal(
			pthread_create(&t[i], NULL, counter_main, &w[i]), 0);
	}
	for (i = 0; i < COUNTER_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < COUNTER_THREADS; i++) {
		if (w[i].rc)
			print_error("counter %d: %s: %d\n", i, w[i].where,
				    w[i].rc);
		assert_int_equal(w[i].rc, 0);
	}
	/* Every value once, 1 to COUNTER_TOTAL; each thread's rising. */
	for (i = 0; i < COUNTER_THREADS; i++) {
		for (k = 0; k < COUNTER_ROUNDS; k++) {
			v = w[i].got[k];
			if (v < 1 || v > COUNTER_TOTAL || seen[v])
				fail_msg("thread %d got %lld twice or out of "
					 "range", i, (long long)v);
			seen[v] = 1;
			if (k > 0)
				assert_true(v > w[i].got[k - 1]);
		}
	}
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(next_of(f, name), COUNTER_TOTAL + 1);
	rollback(f);
}

/* ---------------------------------------------------------------------
 * Mail outbox
 * ------------------------------------------------------------------ */

struct mail_copy {
	const char *prefix; /* to_addr of this test's mails */
	struct fx *f; /* set: mark this test's mails sent from the callback */
	int stop_at;
	int calls; /* every mail, this test's or not */
	int64_t head[8]; /* ids of the first mails seen, anybody's */
	int n;
	struct {
		int64_t id, created, next_attempt, sent_at;
		int attempts;
		char to[96], subject[64], body[96], related[32], error[64];
		int related_null, error_null;
	} r[MAXROWS];
	int sent_rc;
};

static int mail_copy_cb(void *ud, const struct mssl_mail_rec *m)
{
	struct mail_copy *c = ud;
	int i;

	if (c->calls < 8)
		c->head[c->calls] = m->id;
	c->calls++;
	if (!starts_with(m->to_addr, c->prefix))
		goto out;
	i = c->n++;
	assert_true(i < MAXROWS);
	c->r[i].id = m->id;
	c->r[i].created = m->created;
	c->r[i].next_attempt = m->next_attempt;
	c->r[i].sent_at = m->sent_at;
	c->r[i].attempts = m->attempts;
	snprintf(c->r[i].to, sizeof(c->r[i].to), "%s", m->to_addr);
	snprintf(c->r[i].subject, sizeof(c->r[i].subject), "%s", m->subject);
	snprintf(c->r[i].body, sizeof(c->r[i].body), "%s", m->body);
	copy_opt(c->r[i].related, sizeof(c->r[i].related),
		 &c->r[i].related_null, m->related);
	copy_opt(c->r[i].error, sizeof(c->r[i].error), &c->r[i].error_null,
		 m->last_error);
	if (c->f && !c->sent_rc)
		c->sent_rc = c->f->ops->mail_sent(c->f->conn, m->id, NOW + 500);
out:
	return c->stop_at && c->calls == c->stop_at ? STOP : 0;
}

/* mail_due into c; returns its result. */
static int mail_read(struct fx *f, const char *prefix, int64_t now,
		     int64_t limit, struct mail_copy *c)
{
	memset(c, 0, sizeof(*c));
	c->prefix = prefix;
	return f->ops->mail_due(f->conn, now, limit, mail_copy_cb, c);
}

/* This test's due mails at 'now' are exactly 'want' (ids, in order). */
static void expect_due(struct fx *f, const char *prefix, int64_t now,
		       const int64_t *want, int n)
{
	struct mail_copy *c = calloc(1, sizeof(*c));
	int i;

	assert_non_null(c);
	assert_int_equal(mail_read(f, prefix, now, 0, c), 0);
	if (c->n != n)
		fail_msg("due at %lld: %d mails, want %d", (long long)now,
			 c->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(c->r[i].id, want[i]);
	free(c);
}

static int64_t mail_add(struct fx *f, const char *prefix, int k,
			int64_t next_attempt, const char *related)
{
	char to[96], subject[32];
	struct mssl_mail_rec m = {
		.created = NOW + k,
		.to_addr = to,
		.subject = subject,
		.body = "您的憑證已簽發。\nYour certificate is issued.\n",
		.related = related,
		.next_attempt = next_attempt,
	};
	int64_t id = -1;

	snprintf(to, sizeof(to), "%s%d@example.com.tw", prefix, k);
	snprintf(subject, sizeof(subject), "mssl notice %d", k);
	assert_int_equal(f->ops->mail_insert(f->conn, &m, &id), 0);
	return id;
}

/*
 * Due times are small (1 to 100): mails of other runs on a shared store
 * were all marked sent at the end of theirs, and where one is still due
 * the checks of 'limit' compare with the full list, not with ours.
 */
static void test_mail(void **state)
{
	struct fx *f = *state;
	struct mail_copy *c = calloc(1, sizeof(*c));
	struct mail_copy *all = calloc(1, sizeof(*all));
	char prefix[48];
	int64_t id[4], want[4];
	int i;

	assert_non_null(c);
	assert_non_null(all);
	assert_non_null(f->ops->mail_insert);
	snprintf(prefix, sizeof(prefix), "m%08u-%u-", run_nonce, ++id_counter);

	begin(f, MSSL_TXN_WRITE);
	id[0] = mail_add(f, prefix, 0, 1, "7a3f01");
	id[1] = mail_add(f, prefix, 1, 5, NULL);
	id[2] = mail_add(f, prefix, 2, 2, NULL);
	id[3] = mail_add(f, prefix, 3, 100, NULL);
	for (i = 1; i < 4; i++)
		assert_true(id[i] > id[i - 1]);
	commit(f);

	/* Oldest first (by id, not by due time); due when next <= now. */
	begin(f, MSSL_TXN_READ);
	assert_int_equal(mail_read(f, prefix, 10, 0, c), 0);
	assert_int_equal(c->n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(c->r[i].id, id[i]);
		assert_int_equal(c->r[i].created, NOW + i);
		assert_int_equal(c->r[i].attempts, 0);
		assert_int_equal(c->r[i].sent_at, 0);
		assert_true(c->r[i].error_null);
		assert_int_equal(c->r[i].related_null, i != 0);
		assert_string_equal(c->r[i].body,
				    "您的憑證已簽發。\nYour certificate is "
				    "issued.\n");
	}
	assert_int_equal(c->r[0].next_attempt, 1);
	assert_int_equal(c->r[2].next_attempt, 2);
	assert_string_equal(c->r[0].related, "7a3f01");
	assert_string_equal(c->r[1].subject, "mssl notice 1");
	assert_true(starts_with(c->r[1].to, prefix));
	assert_string_equal(c->r[1].to + strlen(prefix), "1@example.com.tw");

	want[0] = id[0];
	expect_due(f, prefix, 1, want, 1);
	want[1] = id[2];
	expect_due(f, prefix, 4, want, 2);
	expect_due(f, prefix, 0, want, 0);
	want[1] = id[1];
	want[2] = id[2];
	want[3] = id[3];
	expect_due(f, prefix, 100, want, 4);

	/* At most 'limit': the first of the full list. */
	assert_int_equal(mail_read(f, prefix, 10, 0, all), 0);
	assert_true(all->calls >= 3);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(mail_read(f, prefix, 10, i, c), 0);
		assert_int_equal(c->calls, i);
		assert_memory_equal(c->head, all->head, i * sizeof(int64_t));
	}
	memset(c, 0, sizeof(*c));
	c->prefix = prefix;
	c->stop_at = 1;
	assert_int_equal(f->ops->mail_due(f->conn, 10, 0, mail_copy_cb, c),
			 STOP);
	assert_int_equal(c->calls, 1);
	commit(f);

	/* Not sent: one more attempt, later, with the error. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_retry(f->conn, id[0], 50,
					    "421 4.7.0 try again later"), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	want[0] = id[1];
	want[1] = id[2];
	expect_due(f, prefix, 10, want, 2);
	assert_int_equal(mail_read(f, prefix, 50, 0, c), 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->r[0].id, id[0]);
	assert_int_equal(c->r[0].attempts, 1);
	assert_int_equal(c->r[0].next_attempt, 50);
	assert_false(c->r[0].error_null);
	assert_string_equal(c->r[0].error, "421 4.7.0 try again later");
	assert_int_equal(c->r[1].attempts, 0);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_retry(f->conn, id[0], 60,
					    "450 mailbox busy"), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(mail_read(f, prefix, 60, 0, c), 0);
	assert_int_equal(c->r[0].id, id[0]);
	assert_int_equal(c->r[0].attempts, 2);
	assert_int_equal(c->r[0].next_attempt, 60);
	assert_string_equal(c->r[0].error, "450 mailbox busy");
	commit(f);

	/* Sent: never due again. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_sent(f->conn, id[1], NOW + 70), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	want[0] = id[0];
	want[1] = id[2];
	want[2] = id[3];
	expect_due(f, prefix, 1000, want, 3);
	commit(f);

	/* Unknown ids. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_sent(f->conn, -1, NOW), MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_sent(f->conn, INT64_MAX, NOW),
			 MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_retry(f->conn, -1, 10, "x"),
			 MSSL_ENOENT);
	rollback(f);

	/* A rolled-back "sent" leaves the mail due. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->mail_sent(f->conn, id[2], NOW + 80), 0);
	rollback(f);

	/* The mailer: marks each mail sent from inside the iteration. */
	begin(f, MSSL_TXN_WRITE);
	memset(c, 0, sizeof(*c));
	c->prefix = prefix;
	c->f = f;
	assert_int_equal(f->ops->mail_due(f->conn, 1000, 0, mail_copy_cb, c),
			 0);
	assert_int_equal(c->sent_rc, 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->r[1].id, id[2]);
	commit(f);
	begin(f, MSSL_TXN_READ);
	expect_due(f, prefix, INT64_MAX, want, 0);
	commit(f);
	free(c);
	free(all);
}

/* ---------------------------------------------------------------------
 * Persons
 * ------------------------------------------------------------------ */

/* Any 32-byte hash of this run (a nonce's, a token's, a certificate's). */
static void new_hash(uint8_t h[32], uint8_t tag)
{
	new_spki(h, tag);
}

/* A token serial of this run. */
static void new_token_serial(char buf[32])
{
	snprintf(buf, 32, "T%08u-%u", run_nonce, ++id_counter);
}

static void person_rec(struct mssl_person_rec *r, const char *account,
		       const char *name, const char *role)
{
	memset(r, 0, sizeof(*r));
	r->account_id = account;
	r->name = name;
	r->email = "holder@example.com.tw";
	r->role = role;
	r->status = "active";
	r->created = NOW;
}

static int64_t person_add(struct fx *f, const char *account, const char *name,
			  const char *role)
{
	struct mssl_person_rec r;
	int64_t id = -1;

	person_rec(&r, account, name, role);
	assert_int_equal(f->ops->person_insert(f->conn, &r, &id), 0);
	return id;
}

struct person_copy {
	int n, calls, stop_at;
	struct {
		int64_t id, created;
		char account[32], name[64], email[64], role[16], status[16];
	} r[MAXROWS];
};

static int person_copy_cb(void *ud, const struct mssl_person_rec *p)
{
	struct person_copy *c = ud;
	int i = c->n++;

	c->calls++;
	assert_true(i < MAXROWS);
	c->r[i].id = p->id;
	c->r[i].created = p->created;
	snprintf(c->r[i].account, sizeof(c->r[i].account), "%s",
		 p->account_id);
	snprintf(c->r[i].name, sizeof(c->r[i].name), "%s", p->name);
	snprintf(c->r[i].email, sizeof(c->r[i].email), "%s", p->email);
	snprintf(c->r[i].role, sizeof(c->r[i].role), "%s", p->role);
	snprintf(c->r[i].status, sizeof(c->r[i].status), "%s", p->status);
	return c->stop_at && c->calls == c->stop_at ? STOP : 0;
}

/* person_get into c; returns its result. */
static int person_read(struct fx *f, int64_t id, struct person_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->person_get(f->conn, id, person_copy_cb, c);
}

static int person_list(struct fx *f, const char *account,
		       struct person_copy *c, int stop_at)
{
	memset(c, 0, sizeof(*c));
	c->stop_at = stop_at;
	return f->ops->person_each(f->conn, account, person_copy_cb, c);
}

static void test_persons(void **state)
{
	struct fx *f = *state;
	struct mssl_person_rec r;
	struct person_copy c;
	char a[16], b[16], nobody[16];
	const char *ids[2] = { a, b };
	int64_t p1 = -1, p2 = -1, p3 = -1, p4 = -1;

	assert_non_null(f->ops->person_insert);
	new_id(a);
	new_id(b);
	new_id(nobody);
	add_accounts(f, ids, 2);

	begin(f, MSSL_TXN_WRITE);
	person_rec(&r, a, "Wang Hsiao-ming", "manager");
	r.email = "wang@example.com.tw";
	r.created = NOW + 1;
	assert_int_equal(f->ops->person_insert(f->conn, &r, &p1), 0);
	p2 = person_add(f, b, "Lin Mei-ling", "auditor");
	person_rec(&r, a, "陳大文", "auditor");
	r.status = "suspended";
	r.created = NOW + 3;
	assert_int_equal(f->ops->person_insert(f->conn, &r, &p3), 0);
	/* id_out may be NULL. */
	person_rec(&r, a, "Chang", "manager");
	assert_int_equal(f->ops->person_insert(f->conn, &r, NULL), 0);
	commit(f);
	assert_true(p2 > p1);
	assert_true(p3 > p2);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(person_read(f, p1, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.r[0].id, p1);
	assert_string_equal(c.r[0].account, a);
	assert_string_equal(c.r[0].name, "Wang Hsiao-ming");
	assert_string_equal(c.r[0].email, "wang@example.com.tw");
	assert_string_equal(c.r[0].role, "manager");
	assert_string_equal(c.r[0].status, "active");
	assert_int_equal(c.r[0].created, NOW + 1);

	assert_int_equal(person_read(f, p3, &c), 0);
	assert_int_equal(c.r[0].id, p3);
	assert_string_equal(c.r[0].name, "陳大文");
	assert_string_equal(c.r[0].role, "auditor");
	assert_string_equal(c.r[0].status, "suspended");
	assert_int_equal(c.r[0].created, NOW + 3);

	assert_int_equal(person_read(f, -1, &c), MSSL_ENOENT);
	assert_int_equal(person_read(f, INT64_MAX, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(f->ops->person_get(f->conn, p2, person_copy_cb, &c),
			 STOP);

	/* By id, only the account's own. */
	assert_int_equal(person_list(f, a, &c, 0), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].id, p1);
	assert_int_equal(c.r[1].id, p3);
	assert_true(c.r[2].id > p3);
	p4 = c.r[2].id;
	assert_string_equal(c.r[2].name, "Chang");
	assert_string_equal(c.r[1].account, a);
	assert_int_equal(person_list(f, b, &c, 0), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].id, p2);
	assert_string_equal(c.r[0].role, "auditor");
	assert_int_equal(person_list(f, nobody, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(person_list(f, a, &c, 2), STOP);
	assert_int_equal(c.calls, 2);
	commit(f);

	/* A person of an account that does not exist. */
	begin(f, MSSL_TXN_WRITE);
	person_rec(&r, nobody, "Ghost", "manager");
	assert_int_equal(f->ops->person_insert(f->conn, &r, NULL),
			 MSSL_ENOENT);
	rollback(f);
	/* Neither manager nor auditor: the store refuses it. */
	begin(f, MSSL_TXN_WRITE);
	person_rec(&r, a, "Root", "operator");
	assert_int_equal(f->ops->person_insert(f->conn, &r, NULL),
			 MSSL_ESTORE);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(person_list(f, nobody, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(person_list(f, a, &c, 0), 0);
	assert_int_equal(c.n, 3);
	commit(f);

	/* Status: set, set to what it is (not "not found"), back. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->person_set_status(f->conn, p1, "suspended"),
			 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(person_read(f, p1, &c), 0);
	assert_string_equal(c.r[0].status, "suspended");
	assert_string_equal(c.r[0].name, "Wang Hsiao-ming");
	assert_int_equal(person_read(f, p4, &c), 0);
	assert_string_equal(c.r[0].status, "active");
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->person_set_status(f->conn, p1, "suspended"),
			 0);
	assert_int_equal(f->ops->person_set_status(f->conn, p1, "active"), 0);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->person_set_status(f->conn, -1, "active"),
			 MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->person_set_status(f->conn, p1, "deleted"),
			 MSSL_ESTORE);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(person_read(f, p1, &c), 0);
	assert_string_equal(c.r[0].status, "active");
	commit(f);
}

/* ---------------------------------------------------------------------
 * Cards
 * ------------------------------------------------------------------ */

/* A card certificate: DER with zero bytes, 'tag' making it unique. */
static void card_der(uint8_t der[8], uint8_t tag)
{
	static const uint8_t base[8] = { 0x30, 0x06, 0x02, 0x01,
					 0x00, 0x00, 0xff, 0x00 };

	memcpy(der, base, 8);
	der[4] = tag;
}

static void card_rec(struct mssl_card_rec *r, int64_t person,
		     const char *serial, const uint8_t sha[32],
		     const uint8_t der[8], const char *state)
{
	memset(r, 0, sizeof(*r));
	r->person_id = person;
	r->token_serial = serial;
	r->cert_der = der;
	r->cert_len = 8;
	memcpy(r->cert_sha256, sha, 32);
	r->state = state;
	r->created = NOW;
}

/* A new card of 'person' with a fresh certificate; its id. */
static int64_t card_add(struct fx *f, int64_t person, const char *serial,
			const char *state)
{
	struct mssl_card_rec r;
	uint8_t sha[32], der[8];
	int64_t id = -1;

	new_hash(sha, 0xc0);
	card_der(der, sha[4]);
	card_rec(&r, person, serial, sha, der, state);
	assert_int_equal(f->ops->card_insert(f->conn, &r, &id), 0);
	return id;
}

struct card_copy {
	int n, calls, stop_at;
	struct {
		int64_t id, person_id, created;
		char serial[32], state[16];
		uint8_t sha[32], der[CERT_DER_MAX];
		size_t der_len;
		int der_null;
	} r[MAXROWS];
};

static int card_copy_cb(void *ud, const struct mssl_card_rec *k)
{
	struct card_copy *c = ud;
	int i = c->n++;

	c->calls++;
	assert_true(i < MAXROWS);
	c->r[i].id = k->id;
	c->r[i].person_id = k->person_id;
	c->r[i].created = k->created;
	snprintf(c->r[i].serial, sizeof(c->r[i].serial), "%s",
		 k->token_serial);
	snprintf(c->r[i].state, sizeof(c->r[i].state), "%s", k->state);
	memcpy(c->r[i].sha, k->cert_sha256, 32);
	c->r[i].der_null = k->cert_der == NULL;
	c->r[i].der_len = k->cert_len;
	assert_true(k->cert_len <= CERT_DER_MAX);
	if (k->cert_der)
		memcpy(c->r[i].der, k->cert_der, k->cert_len);
	return c->stop_at && c->calls == c->stop_at ? STOP : 0;
}

static int card_read(struct fx *f, int64_t id, struct card_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->card_get(f->conn, id, card_copy_cb, c);
}

/* The ids card_each (account) or card_by_serial (serial) lists. */
static int card_ids(struct fx *f, const char *account, const char *serial,
		    struct card_copy *c, int stop_at)
{
	memset(c, 0, sizeof(*c));
	c->stop_at = stop_at;
	if (account)
		return f->ops->card_each(f->conn, account, card_copy_cb, c);
	return f->ops->card_by_serial(f->conn, serial, card_copy_cb, c);
}

static void expect_card_state(struct fx *f, int64_t id, const char *state)
{
	struct card_copy c;

	begin(f, MSSL_TXN_READ);
	assert_int_equal(card_read(f, id, &c), 0);
	assert_string_equal(c.r[0].state, state);
	commit(f);
}

static void test_cards(void **state)
{
	struct fx *f = *state;
	static const char *const states[] = { "issued_pin", "active",
					      "locked", "suspended",
					      "revoked" };
	struct mssl_card_rec r;
	struct card_copy c;
	char a[16], b[16], nobody[16], s1[32], s2[32], s3[32], s4[32];
	const char *ids[2] = { a, b };
	uint8_t h1[32], h2[32], h4[32], h5[32], absent[32];
	uint8_t der1[8], der2[8];
	int64_t pa1, pa2, pb, c1 = -1, c2 = -1, c3, c4;
	size_t i;

	assert_non_null(f->ops->card_insert);
	new_id(a);
	new_id(b);
	new_id(nobody);
	add_accounts(f, ids, 2);
	new_token_serial(s1);
	new_token_serial(s2);
	new_token_serial(s3);
	new_token_serial(s4);
	new_hash(h1, 1);
	new_hash(h2, 2);
	new_hash(absent, 3);
	new_hash(h4, 4);
	new_hash(h5, 5);
	card_der(der1, 1);
	card_der(der2, 2);

	/* Interleaved across accounts; s1 held by two cards. */
	begin(f, MSSL_TXN_WRITE);
	pa1 = person_add(f, a, "Wang", "manager");
	pb = person_add(f, b, "Lin", "manager");
	pa2 = person_add(f, a, "Chen", "auditor");
	card_rec(&r, pa1, s1, h1, der1, "issued_pin");
	r.created = NOW + 11;
	assert_int_equal(f->ops->card_insert(f->conn, &r, &c1), 0);
	card_rec(&r, pb, s2, h2, der2, "active");
	assert_int_equal(f->ops->card_insert(f->conn, &r, &c2), 0);
	c3 = card_add(f, pa2, s1, "active");
	c4 = card_add(f, pa1, s3, "revoked");
	commit(f);
	assert_true(c2 > c1);
	assert_true(c3 > c2);
	assert_true(c4 > c3);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(card_read(f, c1, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.r[0].id, c1);
	assert_int_equal(c.r[0].person_id, pa1);
	assert_string_equal(c.r[0].serial, s1);
	assert_string_equal(c.r[0].state, "issued_pin");
	assert_int_equal(c.r[0].created, NOW + 11);
	assert_memory_equal(c.r[0].sha, h1, 32);
	assert_false(c.r[0].der_null);
	assert_int_equal(c.r[0].der_len, 8);
	assert_memory_equal(c.r[0].der, der1, 8);
	assert_int_equal(card_read(f, -1, &c), MSSL_ENOENT);
	assert_int_equal(card_read(f, INT64_MAX, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);

	/* By certificate: exactly that hash. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->card_by_cert(f->conn, h2, card_copy_cb, &c),
			 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.r[0].id, c2);
	assert_int_equal(c.r[0].person_id, pb);
	assert_string_equal(c.r[0].serial, s2);
	assert_memory_equal(c.r[0].der, der2, 8);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->card_by_cert(f->conn, absent, card_copy_cb,
					      &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);

	/* By token serial: newest first; none is an empty listing. */
	assert_int_equal(card_ids(f, NULL, s1, &c, 0), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].id, c3);
	assert_int_equal(c.r[0].person_id, pa2);
	assert_int_equal(c.r[1].id, c1);
	assert_int_equal(card_ids(f, NULL, s3, &c, 0), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].id, c4);
	assert_string_equal(c.r[0].state, "revoked");
	assert_int_equal(card_ids(f, NULL, s4, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(card_ids(f, NULL, s1, &c, 1), STOP);
	assert_int_equal(c.calls, 1);

	/* By account: its persons' cards only, by id. */
	assert_int_equal(card_ids(f, a, NULL, &c, 0), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].id, c1);
	assert_int_equal(c.r[1].id, c3);
	assert_int_equal(c.r[2].id, c4);
	assert_memory_equal(c.r[0].sha, h1, 32);
	assert_int_equal(card_ids(f, b, NULL, &c, 0), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].id, c2);
	assert_int_equal(card_ids(f, nobody, NULL, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(card_ids(f, a, NULL, &c, 2), STOP);
	assert_int_equal(c.calls, 2);
	commit(f);

	/* A card of a person who does not exist. */
	begin(f, MSSL_TXN_WRITE);
	card_rec(&r, -1, s4, h4, der1, "issued_pin");
	assert_int_equal(f->ops->card_insert(f->conn, &r, NULL), MSSL_ENOENT);
	rollback(f);
	/* A certificate registered twice; the first card stays as it was. */
	begin(f, MSSL_TXN_WRITE);
	card_rec(&r, pb, s4, h1, der2, "active");
	assert_int_equal(f->ops->card_insert(f->conn, &r, NULL), MSSL_EEXIST);
	rollback(f);
	/* Not a card state. */
	begin(f, MSSL_TXN_WRITE);
	card_rec(&r, pb, s4, h5, der2, "lost");
	assert_int_equal(f->ops->card_insert(f->conn, &r, NULL), MSSL_ESTORE);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->card_by_cert(f->conn, h1, card_copy_cb, &c),
			 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.r[0].id, c1);
	assert_int_equal(c.r[0].person_id, pa1);
	assert_string_equal(c.r[0].serial, s1);
	assert_int_equal(card_ids(f, NULL, s4, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(card_ids(f, b, NULL, &c, 0), 0);
	assert_int_equal(c.n, 1);
	commit(f);

	/* Every state, each read back; the other cards untouched. */
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		begin(f, MSSL_TXN_WRITE);
		assert_int_equal(f->ops->card_set_state(f->conn, c1,
							states[i]), 0);
		commit(f);
		expect_card_state(f, c1, states[i]);
	}
	expect_card_state(f, c3, "active");
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->card_set_state(f->conn, c1, "active"), 0);
	assert_int_equal(f->ops->card_set_state(f->conn, c1, "active"), 0);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->card_set_state(f->conn, -1, "active"),
			 MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->card_set_state(f->conn, c1, "broken"),
			 MSSL_ESTORE);
	rollback(f);
	expect_card_state(f, c1, "active");
	begin(f, MSSL_TXN_READ);
	assert_int_equal(card_read(f, c1, &c), 0);
	assert_int_equal(c.r[0].person_id, pa1);
	assert_memory_equal(c.r[0].sha, h1, 32);
	assert_memory_equal(c.r[0].der, der1, 8);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Login challenges
 * ------------------------------------------------------------------ */

struct challenge_copy {
	int calls;
	uint8_t nonce[32];
	char account[32];
	int64_t created, expires;
	int rc; /* returned by the callback */
};

static int challenge_copy_cb(void *ud, const struct mssl_challenge_rec *r)
{
	struct challenge_copy *c = ud;

	c->calls++;
	memcpy(c->nonce, r->nonce_hash, 32);
	snprintf(c->account, sizeof(c->account), "%s", r->account_id);
	c->created = r->created;
	c->expires = r->expires;
	return c->rc;
}

static void challenge_add(struct fx *f, const uint8_t nonce[32],
			  const char *account, int64_t expires)
{
	struct mssl_challenge_rec r = { .account_id = account,
					.created = NOW,
					.expires = expires };

	memcpy(r.nonce_hash, nonce, 32);
	assert_int_equal(f->ops->challenge_insert(f->conn, &r), 0);
}

/* challenge_take in a write transaction of its own; its result. */
static int take_txn(struct fx *f, const uint8_t nonce[32],
		    struct challenge_copy *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	begin(f, MSSL_TXN_WRITE);
	rc = f->ops->challenge_take(f->conn, nonce, challenge_copy_cb, c);
	if (rc)
		rollback(f);
	else
		commit(f);
	return rc;
}

static void test_challenges(void **state)
{
	struct fx *f = *state;
	struct mssl_challenge_rec r = { .created = NOW + 1,
					.expires = NOW + 121 };
	struct challenge_copy c;
	char a[16], unknown[16];
	uint8_t n1[32], n2[32], n3[32], n4[32], near[32];

	assert_non_null(f->ops->challenge_take);
	new_id(a);
	/* Never created: a challenge does not need its account. */
	new_id(unknown);
	add_account(f, a);
	new_hash(n1, 1);
	new_hash(n2, 2);
	new_hash(n3, 3);
	new_hash(n4, 4);
	memcpy(near, n1, 32);
	near[31] ^= 1;

	begin(f, MSSL_TXN_WRITE);
	memcpy(r.nonce_hash, n1, 32);
	r.account_id = a;
	assert_int_equal(f->ops->challenge_insert(f->conn, &r), 0);
	/* Already expired: the store hands it out all the same. */
	challenge_add(f, n2, unknown, NOW - 1);
	challenge_add(f, n4, a, NOW + 120);
	commit(f);

	/* The same nonce twice. */
	begin(f, MSSL_TXN_WRITE);
	memcpy(r.nonce_hash, n1, 32);
	r.account_id = unknown;
	assert_int_equal(f->ops->challenge_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);

	/* Taken once: the record as inserted; then never again. */
	assert_int_equal(take_txn(f, near, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(take_txn(f, n1, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_memory_equal(c.nonce, n1, 32);
	assert_string_equal(c.account, a);
	assert_int_equal(c.created, NOW + 1);
	assert_int_equal(c.expires, NOW + 121);
	assert_int_equal(take_txn(f, n1, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(take_txn(f, n3, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);

	assert_int_equal(take_txn(f, n2, &c), 0);
	assert_string_equal(c.account, unknown);
	assert_int_equal(c.expires, NOW - 1);
	assert_int_equal(take_txn(f, n2, &c), MSSL_ENOENT);

	/* Twice in one transaction: the second finds it used. */
	begin(f, MSSL_TXN_WRITE);
	challenge_add(f, n3, a, NOW + 120);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	memset(&c, 0, sizeof(c));
	assert_int_equal(f->ops->challenge_take(f->conn, n3,
						challenge_copy_cb, &c), 0);
	assert_int_equal(f->ops->challenge_take(f->conn, n3,
						challenge_copy_cb, &c),
			 MSSL_ENOENT);
	assert_int_equal(c.calls, 1);
	/* Rolled back, the use is undone: the nonce can be taken again. */
	rollback(f);
	assert_int_equal(take_txn(f, n3, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_memory_equal(c.nonce, n3, 32);
	assert_int_equal(take_txn(f, n3, &c), MSSL_ENOENT);

	/* The callback's non-zero result is returned. */
	begin(f, MSSL_TXN_WRITE);
	memset(&c, 0, sizeof(c));
	c.rc = STOP;
	assert_int_equal(f->ops->challenge_take(f->conn, n4,
						challenge_copy_cb, &c), STOP);
	assert_int_equal(c.calls, 1);
	rollback(f);
}

#define TAKERS 2
#define TAKE_ROUNDS 64

struct taker {
	struct fx *f;
	uint8_t (*nonces)[32];
	pthread_barrier_t *start;
	uint8_t got[TAKE_ROUNDS];
	int rc; /* first failure, 0 when none */
	const char *where;
};

/* Linger inside the take: a store that reads before it marks loses. */
static int take_pause_cb(void *ud, const struct mssl_challenge_rec *r)
{
	struct timespec pause = { 0, 100000 };

	(void)ud;
	(void)r;
	nanosleep(&pause, NULL);
	return 0;
}

static int take_step(struct taker *w, void *conn, int i)
{
	const struct mssl_store_ops *ops = w->f->ops;
	int rc;

	rc = ops->begin(conn, MSSL_TXN_WRITE);
	if (rc) {
		w->where = "begin";
		return rc;
	}
	rc = ops->challenge_take(conn, w->nonces[i], take_pause_cb, NULL);
	if (rc) {
		ops->rollback(conn);
		if (rc == MSSL_ENOENT)
			return 0;
		w->where = "take";
		return rc;
	}
	rc = ops->commit(conn);
	if (rc) {
		w->where = "commit";
		ops->rollback(conn);
		return rc;
	}
	w->got[i] = 1;
	return 0;
}

static void *taker_main(void *arg)
{
	struct taker *w = arg;
	void *conn = NULL;
	int i;

	w->rc = w->f->ops->open(w->f->state, &conn);
	if (w->rc)
		w->where = "open";
	pthread_barrier_wait(w->start);
	if (w->rc)
		return NULL;
	for (i = 0; i < TAKE_ROUNDS && !w->rc; i++)
		w->rc = take_step(w, conn, i);
	w->f->ops->close(conn);
	return NULL;
}

/* Two connections taking the same challenges: each is taken once. */
static void test_challenge_race(void **state)
{
	struct fx *f = *state;
	uint8_t (*nonces)[32] = calloc(TAKE_ROUNDS, 32);
	struct taker w[TAKERS];
	struct challenge_copy c;
	pthread_barrier_t start;
	pthread_t t[TAKERS];
	char a[16];
	int i, k, n;

	assert_non_null(nonces);
	new_id(a);
	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < TAKE_ROUNDS; i++) {
		new_hash(nonces[i], 0x7a);
		challenge_add(f, nonces[i], a, NOW + 120);
	}
	commit(f);

	assert_int_equal(pthread_barrier_init(&start, NULL, TAKERS), 0);
	for (i = 0; i < TAKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].f = f;
		w[i].nonces = nonces;
		w[i].start = &start;
		assert_int_equal(pthread_create(&t[i], NULL, taker_main, &w[i]),
				 0);
	}
	for (i = 0; i < TAKERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < TAKERS; i++) {
		if (w[i].rc)
			print_error("taker %d: %s: %d\n", i, w[i].where,
				    w[i].rc);
		assert_int_equal(w[i].rc, 0);
	}
	for (i = 0; i < TAKE_ROUNDS; i++) {
		for (n = 0, k = 0; k < TAKERS; k++)
			n += w[k].got[i];
		if (n != 1)
			fail_msg("challenge %d taken %d times", i, n);
		assert_int_equal(take_txn(f, nonces[i], &c), MSSL_ENOENT);
	}
	free(nonces);
}

/* ---------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------ */

/* An account of this run, a person and two cards. */
struct holder {
	char account[16];
	int64_t person;
	int64_t card[2];
};

static void holder_add(struct fx *f, struct holder *h)
{
	char serial[32];

	new_id(h->account);
	add_account(f, h->account);
	begin(f, MSSL_TXN_WRITE);
	h->person = person_add(f, h->account, "Wang", "manager");
	new_token_serial(serial);
	h->card[0] = card_add(f, h->person, serial, "active");
	new_token_serial(serial);
	h->card[1] = card_add(f, h->person, serial, "issued_pin");
	commit(f);
}

static void session_rec(struct mssl_session_rec *r, const uint8_t token[32],
			int64_t person, int64_t card, int64_t expires)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->token_hash, token, 32);
	r->person_id = person;
	r->card_id = card;
	r->created = NOW;
	r->last_seen = NOW;
	r->expires = expires;
}

static void session_add(struct fx *f, const uint8_t token[32], int64_t person,
			int64_t card, int64_t expires)
{
	struct mssl_session_rec r;

	session_rec(&r, token, person, card, expires);
	assert_int_equal(f->ops->session_insert(f->conn, &r), 0);
}

struct session_copy {
	int calls;
	uint8_t token[32];
	int64_t person_id, card_id, created, last_seen, expires;
	int pin_change_only;
};

static int session_copy_cb(void *ud, const struct mssl_session_rec *r)
{
	struct session_copy *c = ud;

	c->calls++;
	memcpy(c->token, r->token_hash, 32);
	c->person_id = r->person_id;
	c->card_id = r->card_id;
	c->created = r->created;
	c->last_seen = r->last_seen;
	c->expires = r->expires;
	c->pin_change_only = r->pin_change_only;
	return 0;
}

static int session_read(struct fx *f, const uint8_t token[32],
			struct session_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->session_get(f->conn, token, session_copy_cb, c);
}

/* The person is suspended: every card too, and their sessions end. */
struct suspender {
	struct fx *f;
	int calls, rc;
};

static int suspend_card_cb(void *ud, const struct mssl_card_rec *r)
{
	struct suspender *s = ud;

	s->calls++;
	if (!s->rc)
		s->rc = s->f->ops->session_delete_card(s->f->conn, r->id);
	if (!s->rc)
		s->rc = s->f->ops->card_set_state(s->f->conn, r->id,
						  "suspended");
	return 0;
}

static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct mssl_session_rec r;
	struct session_copy c;
	struct suspender sus = { .f = f };
	struct holder h, other;
	uint8_t t1[32], t2[32], t3[32], t4[32], t5[32], absent[32];

	assert_non_null(f->ops->session_insert);
	holder_add(f, &h);
	holder_add(f, &other);
	new_hash(t1, 1);
	new_hash(t2, 2);
	new_hash(t3, 3);
	new_hash(t4, 4);
	new_hash(t5, 5);
	new_hash(absent, 6);

	begin(f, MSSL_TXN_WRITE);
	session_rec(&r, t1, h.person, h.card[0], NOW + 3600);
	r.created = NOW + 1;
	r.last_seen = NOW + 2;
	assert_int_equal(f->ops->session_insert(f->conn, &r), 0);
	session_add(f, t2, h.person, h.card[0], NOW + 3601);
	session_rec(&r, t3, h.person, h.card[1], NOW + 3602);
	r.pin_change_only = 1;
	assert_int_equal(f->ops->session_insert(f->conn, &r), 0);
	session_add(f, t4, other.person, other.card[0], NOW + 3603);
	commit(f);

	/* The same token twice; an unknown person; an unknown card. */
	begin(f, MSSL_TXN_WRITE);
	session_rec(&r, t1, h.person, h.card[1], NOW + 10);
	assert_int_equal(f->ops->session_insert(f->conn, &r), MSSL_EEXIST);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	session_rec(&r, t5, -1, h.card[0], NOW + 10);
	assert_int_equal(f->ops->session_insert(f->conn, &r), MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_WRITE);
	session_rec(&r, t5, h.person, -1, NOW + 10);
	assert_int_equal(f->ops->session_insert(f->conn, &r), MSSL_ENOENT);
	rollback(f);

	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, t1, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_memory_equal(c.token, t1, 32);
	assert_int_equal(c.person_id, h.person);
	assert_int_equal(c.card_id, h.card[0]);
	assert_int_equal(c.created, NOW + 1);
	assert_int_equal(c.last_seen, NOW + 2);
	assert_int_equal(c.expires, NOW + 3600);
	assert_int_equal(c.pin_change_only, 0);
	assert_int_equal(session_read(f, t3, &c), 0);
	assert_int_equal(c.card_id, h.card[1]);
	assert_int_equal(c.expires, NOW + 3602);
	assert_true(c.pin_change_only != 0);
	assert_int_equal(session_read(f, t5, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, absent, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	commit(f);

	/* Touch: last_seen only, of that session only. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->session_touch(f->conn, t1, NOW + 50), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, t1, &c), 0);
	assert_int_equal(c.last_seen, NOW + 50);
	assert_int_equal(c.created, NOW + 1);
	assert_int_equal(c.expires, NOW + 3600);
	assert_int_equal(c.card_id, h.card[0]);
	assert_int_equal(session_read(f, t2, &c), 0);
	assert_int_equal(c.last_seen, NOW);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->session_touch(f->conn, absent, NOW + 60),
			 MSSL_ENOENT);
	rollback(f);

	/* Delete: that session; a second time it is not there. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->session_delete(f->conn, t2), 0);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->session_delete(f->conn, t2), MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, t2, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, t1, &c), 0);
	commit(f);

	/* Every session of a card, none of another card's. */
	begin(f, MSSL_TXN_WRITE);
	session_add(f, t2, h.person, h.card[0], NOW + 3601);
	assert_int_equal(f->ops->session_delete_card(f->conn, h.card[0]), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, t1, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, t2, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, t3, &c), 0);
	assert_int_equal(session_read(f, t4, &c), 0);
	commit(f);
	/* None left, or none ever: not an error. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->session_delete_card(f->conn, h.card[0]), 0);
	assert_int_equal(f->ops->session_delete_card(f->conn, -1), 0);
	commit(f);

	/* From inside card_each, as suspending a person does. */
	begin(f, MSSL_TXN_WRITE);
	session_add(f, t1, h.person, h.card[0], NOW + 3600);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->card_each(f->conn, h.account,
					   suspend_card_cb, &sus), 0);
	assert_int_equal(sus.rc, 0);
	assert_int_equal(sus.calls, 2);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, t1, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, t3, &c), MSSL_ENOENT);
	assert_int_equal(session_read(f, t4, &c), 0);
	assert_int_equal(c.person_id, other.person);
	commit(f);
	expect_card_state(f, h.card[0], "suspended");
	expect_card_state(f, h.card[1], "suspended");
	expect_card_state(f, other.card[0], "active");
}

/* ---------------------------------------------------------------------
 * Failed logins
 * ------------------------------------------------------------------ */

static int64_t failures(struct fx *f, const char *key, int64_t since)
{
	int64_t n = -1;

	assert_int_equal(f->ops->login_failure_count(f->conn, key, since, &n),
			 0);
	return n;
}

static void test_login_failures(void **state)
{
	struct fx *f = *state;
	char id[16], k1[32], k2[48], k3[32];

	assert_non_null(f->ops->login_failure_add);
	new_id(id);
	snprintf(k1, sizeof(k1), "account:%s", id);
	snprintf(k2, sizeof(k2), "card:%08x%08x", run_nonce, ++id_counter);
	/* A key that is a prefix of k1 counts apart from it. */
	snprintf(k3, sizeof(k3), "account:%.*s", (int)strlen(id) - 1, id);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_failure_add(f->conn, k1, NOW), 0);
	assert_int_equal(f->ops->login_failure_add(f->conn, k1, NOW + 10), 0);
	assert_int_equal(f->ops->login_failure_add(f->conn, k1, NOW + 20), 0);
	/* Two in one second are two. */
	assert_int_equal(f->ops->login_failure_add(f->conn, k1, NOW + 20), 0);
	assert_int_equal(f->ops->login_failure_add(f->conn, k2, NOW + 5), 0);
	commit(f);

	/* Counted from 'since' on, 'since' included. */
	begin(f, MSSL_TXN_READ);
	assert_int_equal(failures(f, k1, 0), 4);
	assert_int_equal(failures(f, k1, NOW), 4);
	assert_int_equal(failures(f, k1, NOW + 1), 3);
	assert_int_equal(failures(f, k1, NOW + 10), 3);
	assert_int_equal(failures(f, k1, NOW + 11), 2);
	assert_int_equal(failures(f, k1, NOW + 20), 2);
	assert_int_equal(failures(f, k1, NOW + 21), 0);
	assert_int_equal(failures(f, k2, 0), 1);
	assert_int_equal(failures(f, k2, NOW + 6), 0);
	assert_int_equal(failures(f, k3, 0), 0);
	commit(f);

	/* A rolled-back failure does not count. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_failure_add(f->conn, k2, NOW + 7), 0);
	assert_int_equal(failures(f, k2, 0), 2);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(failures(f, k2, 0), 1);
	commit(f);

	/* Clear: that key's, every one; again or unknown: not an error. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_failure_clear(f->conn, k1), 0);
	assert_int_equal(f->ops->login_failure_clear(f->conn, k1), 0);
	assert_int_equal(f->ops->login_failure_clear(f->conn, k3), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(failures(f, k1, 0), 0);
	assert_int_equal(failures(f, k2, 0), 1);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_failure_add(f->conn, k1, NOW + 30), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(failures(f, k1, 0), 1);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Purging expired login records
 * ------------------------------------------------------------------ */

/*
 * Times far from the other tests' NOW: a purge is store-wide, so on a
 * shared store it also drops other runs' expired rows, which no test
 * reads again.
 */
#define PURGE_NOW (NOW + 10000000)
#define PURGE_FAIL (NOW + 9000000)

static void test_login_purge(void **state)
{
	struct fx *f = *state;
	struct mssl_challenge_rec cr = { .created = NOW };
	struct challenge_copy cc;
	struct session_copy sc;
	struct holder h;
	uint8_t c_old[32], c_used[32], c_edge[32], c_new[32];
	uint8_t s_old[32], s_edge[32], s_new[32];
	char key[48];

	assert_non_null(f->ops->login_purge);
	holder_add(f, &h);
	new_hash(c_old, 1);
	new_hash(c_used, 2);
	new_hash(c_edge, 3);
	new_hash(c_new, 4);
	new_hash(s_old, 5);
	new_hash(s_edge, 6);
	new_hash(s_new, 7);
	snprintf(key, sizeof(key), "account:%s", h.account);

	begin(f, MSSL_TXN_WRITE);
	challenge_add(f, c_old, h.account, PURGE_NOW - 1);
	challenge_add(f, c_used, h.account, PURGE_NOW - 1);
	challenge_add(f, c_edge, h.account, PURGE_NOW);
	challenge_add(f, c_new, h.account, PURGE_NOW + 1);
	session_add(f, s_old, h.person, h.card[0], PURGE_NOW - 1);
	session_add(f, s_edge, h.person, h.card[0], PURGE_NOW);
	session_add(f, s_new, h.person, h.card[1], PURGE_NOW + 1);
	assert_int_equal(f->ops->login_failure_add(f->conn, key,
						   PURGE_FAIL - 1), 0);
	assert_int_equal(f->ops->login_failure_add(f->conn, key, PURGE_FAIL),
			 0);
	assert_int_equal(f->ops->login_failure_add(f->conn, key,
						   PURGE_FAIL + 1), 0);
	commit(f);
	assert_int_equal(take_txn(f, c_used, &cc), 0);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_purge(f->conn, PURGE_NOW, PURGE_FAIL),
			 0);
	commit(f);

	/* Sessions that ended before 'now' are gone, the rest stay. */
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, s_old, &sc), MSSL_ENOENT);
	assert_int_equal(session_read(f, s_edge, &sc), 0);
	assert_int_equal(sc.expires, PURGE_NOW);
	assert_int_equal(session_read(f, s_new, &sc), 0);
	/* Failures before failures_before are gone. */
	assert_int_equal(failures(f, key, 0), 2);
	assert_int_equal(failures(f, key, PURGE_FAIL), 2);
	assert_int_equal(failures(f, key, PURGE_FAIL + 1), 1);
	commit(f);

	/* Challenges still there are unused; the purged ones are gone
	 * (used or not): their nonces can be inserted again. */
	assert_int_equal(take_txn(f, c_edge, &cc), 0);
	assert_int_equal(cc.expires, PURGE_NOW);
	assert_int_equal(take_txn(f, c_new, &cc), 0);
	assert_int_equal(take_txn(f, c_old, &cc), MSSL_ENOENT);
	begin(f, MSSL_TXN_WRITE);
	memcpy(cr.nonce_hash, c_old, 32);
	cr.account_id = h.account;
	cr.expires = PURGE_NOW + 50;
	assert_int_equal(f->ops->challenge_insert(f->conn, &cr), 0);
	memcpy(cr.nonce_hash, c_used, 32);
	assert_int_equal(f->ops->challenge_insert(f->conn, &cr), 0);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	memcpy(cr.nonce_hash, c_edge, 32);
	assert_int_equal(f->ops->challenge_insert(f->conn, &cr), MSSL_EEXIST);
	rollback(f);
	assert_int_equal(take_txn(f, c_used, &cc), 0);
	assert_int_equal(cc.expires, PURGE_NOW + 50);

	/* Again: nothing more goes. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_purge(f->conn, PURGE_NOW, PURGE_FAIL),
			 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, s_edge, &sc), 0);
	assert_int_equal(failures(f, key, 0), 2);
	commit(f);

	/* Later still: those go too. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->login_purge(f->conn, PURGE_NOW + 1,
					     PURGE_FAIL + 1), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(session_read(f, s_edge, &sc), MSSL_ENOENT);
	assert_int_equal(session_read(f, s_new, &sc), 0);
	assert_int_equal(failures(f, key, 0), 1);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Unlock approvals
 * ------------------------------------------------------------------ */

static void unlock_rec(struct mssl_unlock_rec *r, int64_t card,
		       const uint8_t code[32], int64_t created)
{
	memset(r, 0, sizeof(*r));
	r->card_id = card;
	memcpy(r->code_hash, code, 32);
	r->created = created;
	r->expires = created + 86400;
	r->used = 0;
	r->approved_by = "operator:alice";
	r->verified_with = "supervisor Chen, by phone";
}

struct unlock_copy {
	int calls;
	int64_t id, card_id, created, expires;
	uint8_t code[32];
	int used, verified_null;
	char approved_by[64], verified_with[64];
};

static int unlock_copy_cb(void *ud, const struct mssl_unlock_rec *r)
{
	struct unlock_copy *c = ud;
	int is_null;

	c->calls++;
	c->id = r->id;
	c->card_id = r->card_id;
	c->created = r->created;
	c->expires = r->expires;
	memcpy(c->code, r->code_hash, 32);
	c->used = r->used;
	copy_opt(c->approved_by, sizeof(c->approved_by), &is_null,
		 r->approved_by);
	assert_false(is_null);
	copy_opt(c->verified_with, sizeof(c->verified_with),
		 &c->verified_null, r->verified_with);
	return 0;
}

static int unlock_read(struct fx *f, int64_t card, const uint8_t code[32],
		       struct unlock_copy *c)
{
	memset(c, 0, sizeof(*c));
	return f->ops->unlock_find(f->conn, card, code, unlock_copy_cb, c);
}

static int unlock_stop_cb(void *ud, const struct mssl_unlock_rec *r)
{
	(*(int *)ud)++;
	return STOP;
}

static void test_unlock(void **state)
{
	struct fx *f = *state;
	struct mssl_unlock_rec r;
	struct unlock_copy c;
	struct holder h;
	uint8_t h1[32], h2[32], h3[32];
	int64_t u1 = -1, u2 = -1, u3 = -1, u4 = -1;
	int calls = 0;

	assert_non_null(f->ops->unlock_insert);
	holder_add(f, &h);
	new_hash(h1, 1);
	new_hash(h2, 2);
	new_hash(h3, 3);

	begin(f, MSSL_TXN_WRITE);
	unlock_rec(&r, h.card[0], h1, NOW);
	assert_int_equal(f->ops->unlock_insert(f->conn, &r, &u1), 0);
	unlock_rec(&r, h.card[0], h2, NOW + 1);
	assert_int_equal(f->ops->unlock_insert(f->conn, &r, &u2), 0);
	unlock_rec(&r, h.card[1], h1, NOW + 2);
	assert_int_equal(f->ops->unlock_insert(f->conn, &r, &u3), 0);
	/* The same card and code approved again, later. */
	unlock_rec(&r, h.card[0], h1, NOW + 3);
	r.approved_by = "operator:bob";
	r.verified_with = NULL;
	assert_int_equal(f->ops->unlock_insert(f->conn, &r, &u4), 0);
	commit(f);
	assert_true(u2 > u1);
	assert_true(u3 > u2);
	assert_true(u4 > u3);

	/* The newest of that card with that code. */
	begin(f, MSSL_TXN_READ);
	assert_int_equal(unlock_read(f, h.card[0], h1, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.id, u4);
	assert_int_equal(c.card_id, h.card[0]);
	assert_memory_equal(c.code, h1, 32);
	assert_int_equal(c.created, NOW + 3);
	assert_int_equal(c.expires, NOW + 3 + 86400);
	assert_int_equal(c.used, 0);
	assert_string_equal(c.approved_by, "operator:bob");
	assert_true(c.verified_null);
	assert_int_equal(unlock_read(f, h.card[0], h2, &c), 0);
	assert_int_equal(c.id, u2);
	assert_false(c.verified_null);
	assert_string_equal(c.verified_with, "supervisor Chen, by phone");
	assert_string_equal(c.approved_by, "operator:alice");
	assert_int_equal(unlock_read(f, h.card[1], h1, &c), 0);
	assert_int_equal(c.id, u3);
	assert_int_equal(c.card_id, h.card[1]);
	assert_int_equal(unlock_read(f, h.card[1], h2, &c), MSSL_ENOENT);
	assert_int_equal(unlock_read(f, h.card[0], h3, &c), MSSL_ENOENT);
	assert_int_equal(unlock_read(f, -1, h1, &c), MSSL_ENOENT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(f->ops->unlock_find(f->conn, h.card[0], h1,
					     unlock_stop_cb, &calls), STOP);
	assert_int_equal(calls, 1);
	commit(f);

	/* Used: 1 (SO PIN released), then 2 (done); found all the same. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->unlock_set_used(f->conn, u4, 1), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(unlock_read(f, h.card[0], h1, &c), 0);
	assert_int_equal(c.id, u4);
	assert_int_equal(c.used, 1);
	assert_int_equal(unlock_read(f, h.card[1], h1, &c), 0);
	assert_int_equal(c.used, 0);
	commit(f);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->unlock_set_used(f->conn, u4, 2), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(unlock_read(f, h.card[0], h1, &c), 0);
	assert_int_equal(c.used, 2);
	assert_int_equal(c.created, NOW + 3);
	assert_string_equal(c.approved_by, "operator:bob");
	assert_int_equal(unlock_read(f, h.card[0], h2, &c), 0);
	assert_int_equal(c.used, 0);
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->unlock_set_used(f->conn, -1, 1), MSSL_ENOENT);
	rollback(f);
	/* An approval for a card that does not exist. */
	begin(f, MSSL_TXN_WRITE);
	unlock_rec(&r, -1, h3, NOW);
	assert_int_equal(f->ops->unlock_insert(f->conn, &r, NULL),
			 MSSL_ENOENT);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_int_equal(unlock_read(f, -1, h3, &c), MSSL_ENOENT);
	commit(f);
}

/* ---------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------ */

static int account_exists(struct fx *f, void *conn, const char *id)
{
	struct account_copy c = { 0 };
	int rc = f->ops->account_get(conn, id, account_copy_cb, &c);

	assert_true(rc == 0 || rc == MSSL_ENOENT);
	return rc == 0;
}

static void test_txn_rollback_commit(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	char id[16];

	new_id(id);
	account_rec(&r, id);
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	assert_true(account_exists(f, f->conn, id));
	rollback(f);
	begin(f, MSSL_TXN_READ);
	assert_false(account_exists(f, f->conn, id));
	commit(f);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	commit(f);
	begin(f, MSSL_TXN_READ);
	assert_true(account_exists(f, f->conn, id));
	commit(f);
}

static void test_txn_isolation(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	void *other = NULL;
	char id[16];

	new_id(id);
	account_rec(&r, id);
	assert_int_equal(f->ops->open(f->state, &other), 0);

	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	assert_int_equal(f->ops->begin(other, MSSL_TXN_READ), 0);
	assert_false(account_exists(f, other, id));
	assert_int_equal(f->ops->commit(other), 0);
	commit(f);

	assert_int_equal(f->ops->begin(other, MSSL_TXN_READ), 0);
	assert_true(account_exists(f, other, id));
	assert_int_equal(f->ops->commit(other), 0);
	f->ops->close(other);
}

/*
 * ABI 1.3, MSSL_TXN_LAZY: a lazy commit is a commit (visible to every
 * later transaction, in order, on any connection); only when it reaches
 * the disk may differ.  A rolled-back lazy transaction leaves nothing.
 */
static void test_txn_lazy(void **state)
{
	struct fx *f = *state;
	struct mssl_account_rec r;
	void *other = NULL;
	char a[16], b[16], c[16];

	new_id(a);
	new_id(b);
	new_id(c);
	assert_int_equal(f->ops->open(f->state, &other), 0);

	begin(f, MSSL_TXN_WRITE | MSSL_TXN_LAZY);
	account_rec(&r, a);
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	commit(f);
	assert_int_equal(f->ops->begin(other, MSSL_TXN_READ), 0);
	assert_true(account_exists(f, other, a));
	assert_int_equal(f->ops->commit(other), 0);

	/* A full commit on another connection after it: both kept. */
	assert_int_equal(f->ops->begin(other, MSSL_TXN_WRITE), 0);
	account_rec(&r, b);
	assert_int_equal(f->ops->account_insert(other, &r), 0);
	assert_int_equal(f->ops->commit(other), 0);

	begin(f, MSSL_TXN_WRITE | MSSL_TXN_LAZY);
	account_rec(&r, c);
	assert_int_equal(f->ops->account_insert(f->conn, &r), 0);
	rollback(f);

	begin(f, MSSL_TXN_READ);
	assert_true(account_exists(f, f->conn, a));
	assert_true(account_exists(f, f->conn, b));
	assert_false(account_exists(f, f->conn, c));
	commit(f);
	f->ops->close(other);
}

/* An audit record in a lazy transaction, then one in a full one. */
static void audit_step(struct fx *f, int mode, const char *action)
{
	struct mssl_audit_rec r = { 0 };
	int64_t seq = 0;

	begin(f, mode);
	assert_int_equal(f->ops->audit_head(f->conn, &seq, r.prev_hash), 0);
	r.seq = seq + 1;
	r.time = NOW;
	r.actor_role = "anonymous";
	r.action = action;
	r.outcome = "ok";
	memset(r.hash, (int)(r.seq & 0xff), sizeof(r.hash));
	assert_int_equal(f->ops->audit_insert(f->conn, &r), 0);
	commit(f);
}

static void test_txn_lazy_audit_order(void **state)
{
	struct fx *f = *state;
	uint8_t hash[32];
	int64_t before = 0, after = 0;

	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->audit_head(f->conn, &before, hash), 0);
	commit(f);
	audit_step(f, MSSL_TXN_WRITE | MSSL_TXN_LAZY, "auth.login");
	audit_step(f, MSSL_TXN_WRITE, "ledger.topup");
	audit_step(f, MSSL_TXN_WRITE | MSSL_TXN_LAZY, "auth.logout");
	begin(f, MSSL_TXN_READ);
	assert_int_equal(f->ops->audit_head(f->conn, &after, hash), 0);
	commit(f);
	assert_int_equal(after, before + 3);
}

/*
 * A process killed (SIGKILL) right after a lazy commit loses nothing: a
 * lazy commit is left to the OS, not to the process.  The child opens
 * the store on its own (nothing of the parent's is used after fork).
 */
static void test_txn_lazy_kill(void **state)
{
	struct fx *f = *state;
	char id[16];
	pid_t pid;
	int status = 0;

	new_id(id);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const struct mssl_store_ops *ops = NULL;
		struct mssl_account_rec r;
		mssl_ctx *ctx = NULL;
		void *st = NULL, *conn = NULL;

		if (mssl_ctx_open_file(f->cfg, &ctx, NULL) != 0 ||
		    mssl__ctx_store(ctx, &ops, &st) != 0 ||
		    ops->open(st, &conn) != 0 ||
		    ops->begin(conn, MSSL_TXN_WRITE | MSSL_TXN_LAZY) != 0)
			_exit(2);
		account_rec(&r, id);
		if (ops->account_insert(conn, &r) != 0 || ops->commit(conn) != 0)
			_exit(3);
		raise(SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	begin(f, MSSL_TXN_READ);
	assert_true(account_exists(f, f->conn, id));
	commit(f);
}

/* ---------------------------------------------------------------------
 * Concurrent writers
 * ------------------------------------------------------------------ */

#define WRITERS 2
#define ROUNDS 200
#define MANY_WRITERS 8
#define MANY_ROUNDS 50

struct writer {
	struct fx *f;
	const char *account;
	pthread_barrier_t *start;
	int rc; /* first failure, 0 when none */
	const char *where;
	int rounds;
	bool lazy_every_other; /* every other transaction MSSL_TXN_LAZY */
};

/* One charge-like step: read the balance, append balance + 1. */
static int writer_step(struct writer *w, void *conn, int i)
{
	const struct mssl_store_ops *ops = w->f->ops;
	struct timespec pause = { 0, 100000 };
	struct mssl_ledger_rec r = { 0 };
	int64_t bal;
	int rc;

	rc = ops->begin(conn, w->lazy_every_other && i % 2 ?
				      MSSL_TXN_WRITE | MSSL_TXN_LAZY :
				      MSSL_TXN_WRITE);
	if (rc) {
		w->where = "begin";
		return rc;
	}
	rc = ops->ledger_balance(conn, w->account, &bal);
	if (rc) {
		w->where = "balance";
		goto out;
	}
	/* Widen the window in which a store without a write lock loses. */
	nanosleep(&pause, NULL);
	r.account_id = w->account;
	r.time = NOW;
	r.kind = MSSL_LEDGER_TOPUP;
	r.delta = 1;
	r.balance_after = bal + 1;
	r.actor = "operator:thread";
	rc = ops->ledger_insert(conn, &r, NULL);
	if (rc) {
		w->where = "insert";
		goto out;
	}
	rc = ops->commit(conn);
	if (rc)
		w->where = "commit";
out:
	if (rc)
		ops->rollback(conn);
	return rc;
}

/* Threads record failures: cmocka's assertions belong to the main one. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	void *conn = NULL;
	int i;

	w->rc = w->f->ops->open(w->f->state, &conn);
	if (w->rc)
		w->where = "open";
	/* Start writing together, whatever the cost of opening. */
	pthread_barrier_wait(w->start);
	if (w->rc)
		return NULL;
	for (i = 0; i < w->rounds && !w->rc; i++)
		w->rc = writer_step(w, conn, i);
	w->f->ops->close(conn);
	return NULL;
}

static int balance_seq_cb(void *ud, const struct mssl_ledger_rec *r)
{
	int64_t *expect = ud;

	if (r->balance_after != ++*expect)
		return -1;
	return 0;
}

/* n threads, rounds read-then-append steps each, on one account. */
static void concurrent_writers(struct fx *f, int n_writers, int rounds,
			       bool lazy)
{
	struct writer w[MANY_WRITERS];
	pthread_barrier_t start;
	pthread_t t[MANY_WRITERS];
	char a[16];
	int64_t n = 0;
	int i;

	assert_true(n_writers <= MANY_WRITERS);
	new_id(a);
	add_account(f, a);
	assert_int_equal(pthread_barrier_init(&start, NULL,
					      (unsigned)n_writers), 0);
	for (i = 0; i < n_writers; i++) {
		w[i] = (struct writer){ f, a, &start, 0, NULL, rounds, lazy };
		assert_int_equal(
			pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < n_writers; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < n_writers; i++) {
		if (w[i].rc)
			print_error("writer %d: %s: %d\n", i, w[i].where,
				    w[i].rc);
		assert_int_equal(w[i].rc, 0);
	}

	begin(f, MSSL_TXN_READ);
	assert_int_equal(balance_of(f, a), n_writers * rounds);
	/* Every entry saw the one before it: 1, 2, 3, ... with no gap. */
	assert_int_equal(f->ops->ledger_each(f->conn, a, 0, 0, 0,
					     balance_seq_cb, &n), 0);
	assert_int_equal(n, n_writers * rounds);
	commit(f);
}

static void test_concurrent_writers(void **state)
{
	concurrent_writers(*state, WRITERS, ROUNDS, false);
}

/*
 * More writers than cores, half their commits lazy: commits that share
 * the work of reaching the disk (group commit) still each see the one
 * before, and none is lost or doubled.
 */
static void test_concurrent_writers_mixed(void **state)
{
	concurrent_writers(*state, MANY_WRITERS, MANY_ROUNDS, true);
}

/* ---------------------------------------------------------------------
 * Expiry reminders (ABI 1.4)
 * ------------------------------------------------------------------ */

struct remind_copy {
	int n;
	char serial[4][32];
	int days[4];
	int64_t queued_at[4], mail_id[4];
};

static int remind_copy_cb(void *ud, const struct mssl_remind_rec *r)
{
	struct remind_copy *c = ud;

	assert_true(c->n < 4);
	snprintf(c->serial[c->n], sizeof(c->serial[0]), "%s", r->serial);
	c->days[c->n] = r->days;
	c->queued_at[c->n] = r->queued_at;
	c->mail_id[c->n] = r->mail_id;
	c->n++;
	return 0;
}

/* What remind_due lists of the set, as expect_each does for cert_each. */
static void expect_remind_due(struct fx *f, const struct cert_set *set,
		       int64_t after, int64_t until, int days, int64_t limit,
		       const char *want)
{
	struct cert_list l = { .set = set };

	assert_int_equal(f->ops->remind_due(f->conn, after, until, days, limit,
					    cert_list_cb, &l), 0);
	if (strcmp(l.got, want) != 0)
		fail_msg("remind_due (%lld, %lld] days %d limit %lld: got"
			 " \"%s\", want \"%s\"", (long long)after,
			 (long long)until, days, (long long)limit, l.got,
			 want);
}

static int remind_insert_txn(struct fx *f, const char *serial, int days,
			     int64_t at, int64_t mail_id)
{
	struct mssl_remind_rec r = { serial, days, at, mail_id };
	int rc;

	begin(f, MSSL_TXN_WRITE);
	rc = f->ops->remind_insert(f->conn, &r);
	if (rc)
		rollback(f);
	else
		commit(f);
	return rc;
}

/*
 * remind_due lists issued certificates expiring in (after, until] that
 * have no reminder of 'days' or fewer days and are not renewed (by a
 * certificate naming them in renewal_of, or by a later one of the same
 * account and CN); remind_insert records each (serial, days) once;
 * remind_each lists them.
 */
static void test_remind(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec r;
	struct cert_set set = { .n = 12 };
	struct remind_copy rc;
	struct cert_list stop = { .set = &set, .stop_at = 1 };
	char a[16], b[16], cn[8][64], upper[64], missing[32];
	/* A window of this run's own, apart from other runs' rows. */
	const int64_t t = NOW + (int64_t)run_nonce * 4000000, day = 86400;
	/*
	 * 0  due, 5 days left
	 * 1  renewed: 2 names it in renewal_of (another CN, to tell the
	 *    rules apart), issued, far out
	 * 3  revoked
	 * 4  CN in upper case, replaced by 5 (same CN in lower case,
	 *    later not_after)
	 * 6  account b, 0's CN, later: another account replaces nothing
	 * 7  due, at the window's end exactly; its renewal 8 was revoked
	 *    and its renewal 9 is pending: neither counts
	 * 10 expires at the window's start exactly: not in it
	 * 11 failed (a failed request may have a not_after)
	 */
	static const struct {
		int account_b, cn, renews;
		const char *state;
		int64_t days;
	} spec[12] = {
		{ 0, 0, -1, "issued", 5 },    { 0, 1, -1, "issued", 10 },
		{ 0, 2, 1, "issued", 400 },   { 0, 3, -1, "revoked", 12 },
		{ 0, 4, -1, "issued", 8 },    { 0, 4, -1, "issued", 200 },
		{ 1, 0, -1, "issued", 300 },  { 0, 5, -1, "issued", 20 },
		{ 0, 5, 7, "revoked", 400 },  { 0, 5, 7, "pending", 400 },
		{ 0, 6, -1, "issued", 0 },    { 0, 7, -1, "failed", 3 },
	};
	size_t k;
	int i;

	assert_non_null(f->ops->remind_due);
	assert_non_null(f->ops->remind_insert);
	assert_non_null(f->ops->remind_each);
	new_id(a);
	new_id(b);
	add_account(f, a);
	add_account(f, b);
	for (i = 0; i < 8; i++) {
		char label[8];

		snprintf(label, sizeof(label), "c%d", i);
		run_domain(cn[i], sizeof(cn[i]), label);
	}
	for (k = 0; k < sizeof(upper) - 1 && cn[4][k]; k++)
		upper[k] = (char)(cn[4][k] >= 'a' && cn[4][k] <= 'z' ?
				  cn[4][k] - 'a' + 'A' : cn[4][k]);
	upper[k] = '\0';
	for (i = 0; i < 12; i++)
		new_serial(set.serial[i]);
	new_serial(missing);

	begin(f, MSSL_TXN_WRITE);
	for (i = 0; i < 12; i++) {
		cert_pending(&r, set.serial[i], spec[i].account_b ? b : a);
		r.cn = i == 4 ? upper : cn[spec[i].cn];
		r.state = spec[i].state;
		r.not_before = t - 300 * day;
		r.not_after = t + spec[i].days * day;
		if (strcmp(r.state, "pending") != 0) {
			r.der = test_der;
			r.der_len = sizeof(test_der);
		}
		if (spec[i].renews >= 0)
			r.renewal_of = set.serial[spec[i].renews];
		if (strcmp(r.state, "revoked") == 0) {
			r.revoked_at = t - day;
			r.revoke_reason = 4;
		}
		assert_int_equal(f->ops->cert_insert(f->conn, &r), 0);
	}
	commit(f);

	begin(f, MSSL_TXN_READ);
	expect_remind_due(f, &set, t, t + 20 * day, 7, 0, "0 7");
	expect_remind_due(f, &set, t, t + 20 * day, 7, 1, "0");
	expect_remind_due(f, &set, t, t + 19 * day, 7, 0, "0");
	expect_remind_due(f, &set, t + 5 * day, t + 30 * day, 30, 0, "7");
	expect_remind_due(f, &set, t - day, t + 30 * day, 30, 0, "10 0 7");
	/* A callback stops the listing. */
	assert_int_equal(f->ops->remind_due(f->conn, t, t + 30 * day, 30, 0,
					    cert_list_cb, &stop), STOP);
	assert_int_equal(stop.calls, 1);
	commit(f);

	/* Recorded at 14 days: gone for 14 and 30, back for 7 (sooner). */
	assert_int_equal(remind_insert_txn(f, set.serial[0], 14, t - 9 * day,
					   41), 0);
	begin(f, MSSL_TXN_READ);
	expect_remind_due(f, &set, t, t + 30 * day, 30, 0, "7");
	expect_remind_due(f, &set, t, t + 30 * day, 14, 0, "7");
	expect_remind_due(f, &set, t, t + 30 * day, 7, 0, "0 7");
	commit(f);
	assert_int_equal(remind_insert_txn(f, set.serial[0], 7, t - 2 * day,
					   0), 0);
	begin(f, MSSL_TXN_READ);
	expect_remind_due(f, &set, t, t + 30 * day, 7, 0, "7");
	expect_remind_due(f, &set, t, t + 30 * day, 3, 0, "0 7");
	commit(f);

	/* Once per (serial, days); the certificate must exist. */
	assert_int_equal(remind_insert_txn(f, set.serial[0], 7, t, 99),
			 MSSL_EEXIST);
	assert_int_equal(remind_insert_txn(f, missing, 7, t, 0), MSSL_ENOENT);
	/* The same threshold for another certificate is another row. */
	assert_int_equal(remind_insert_txn(f, set.serial[7], 7, t, 0), 0);

	begin(f, MSSL_TXN_READ);
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(f->ops->remind_each(f->conn, set.serial[0],
					     remind_copy_cb, &rc), 0);
	assert_int_equal(rc.n, 2);
	assert_string_equal(rc.serial[0], set.serial[0]);
	assert_int_equal(rc.days[0], 14);
	assert_int_equal(rc.queued_at[0], t - 9 * day);
	assert_int_equal(rc.mail_id[0], 41);
	assert_int_equal(rc.days[1], 7);
	assert_int_equal(rc.queued_at[1], t - 2 * day);
	assert_int_equal(rc.mail_id[1], 0);
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(f->ops->remind_each(f->conn, missing, remind_copy_cb,
					     &rc), 0);
	assert_int_equal(rc.n, 0);
	expect_remind_due(f, &set, t, t + 30 * day, 7, 0, "");
	commit(f);

	/* A rolled-back reminder was never recorded. */
	begin(f, MSSL_TXN_WRITE);
	assert_int_equal(f->ops->remind_insert(
				 f->conn, &(struct mssl_remind_rec){
						  set.serial[7], 30, t, 0 }),
			 0);
	rollback(f);
	begin(f, MSSL_TXN_READ);
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(f->ops->remind_each(f->conn, set.serial[7],
					     remind_copy_cb, &rc), 0);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.days[0], 7);
	commit(f);
}

/* ---------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------ */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_schema_version),
		T(test_account_roundtrip),
		T(test_account_get_stop),
		T(test_account_duplicate),
		T(test_account_update),
		T(test_account_each),
		T(test_domains),
		T(test_contacts),
		T(test_ledger),
		T(test_ledger_negative_refused),
		T(test_audit_empty_head),
		T(test_audit),
		T(test_notices),
		T(test_blocked_keys),
		T(test_cert_roundtrip),
		T(test_cert_refused),
		T(test_cert_renewal),
		T(test_cert_finish),
		T(test_ledger_reserial),
		T(test_cert_revoke),
		T(test_cert_each),
		T(test_cert_match),
		T(test_cert_idempotency),
		T(test_terms),
		T(test_counter),
		T(test_counter_concurrent),
		T(test_mail),
		T(test_persons),
		T(test_cards),
		T(test_challenges),
		T(test_challenge_race),
		T(test_sessions),
		T(test_login_failures),
		T(test_login_purge),
		T(test_unlock),
		T(test_txn_rollback_commit),
		T(test_txn_isolation),
		T(test_concurrent_writers),
		T(test_txn_lazy),
		T(test_txn_lazy_audit_order),
		T(test_txn_lazy_kill),
		T(test_concurrent_writers_mixed),
		T(test_remind),
	};

	run_nonce = (unsigned)(((uint64_t)time(NULL) * 1000003u +
				(uint64_t)getpid()) % 100000000u);
	return cmocka_run_group_tests_name(store_name(), tests, NULL, NULL);
}
