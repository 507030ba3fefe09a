/*
 * The cert-year ledger (張年數, SPEC §2 and §7): top-ups and adjustments
 * change the balance through entries that say who, when, how much, the
 * balance after and why; the balance never goes below zero; the activity
 * list pages newest first; mssl_ledger_check catches an entry changed in
 * the file; and concurrent top-ups through one context lose nothing.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Entries as listed (copies). */
struct entry {
	int64_t id, time, delta, balance_after;
	int kind;
	char account[16];
	char actor[64];
	char memo[64];
	bool has_memo, has_serial;
};

struct entries {
	struct entry v[64];
	size_t n;
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ud, const struct mssl_ledger_rec *r)
{
	struct entries *l = ud;
	struct entry *e;

	assert_true(l->n < ARRAY_SIZE(l->v));
	e = &l->v[l->n++];
	e->id = r->id;
	e->time = r->time;
	e->delta = r->delta;
	e->balance_after = r->balance_after;
	e->kind = r->kind;
	snprintf(e->account, sizeof(e->account), "%s", r->account_id);
	snprintf(e->actor, sizeof(e->actor), "%s", r->actor);
	e->has_memo = r->memo != NULL;
	snprintf(e->memo, sizeof(e->memo), "%s", r->memo ? r->memo : "");
	e->has_serial = r->cert_serial != NULL;
	return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

static void list(struct fx *f, const char *acct, int newest_first,
		 int64_t offset, int64_t limit, struct entries *l)
{
	memset(l, 0, sizeof(*l));
	TH_RC(mssl_ledger_list(f->ctx, f->op, acct, newest_first, offset,
			       limit, collect, l, f->err),
	      0, f->err);
}

static void create_empty(struct fx *f, const char *id)
{
	mssl_account_spec s = fx_spec(id);

	TH_RC(mssl_account_create(f->ctx, f->op, &s, f->err), 0, f->err);
}

/* ---------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------ */

static void test_topup_and_adjust(void **state)
{
	struct fx *f = *state;
	struct entries l;
	mssl_account_info *info = NULL;
	int64_t bal = -1;
	int i;

	create_empty(f, FX_A);
	f->now = FX_T0 + 100;
	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 5, "order 1", &bal, f->err), 0,
	      f->err);
	assert_int_equal(bal, 5);
	f->now = FX_T0 + 200;
	TH_RC(mssl_adjust(f->ctx, f->op, FX_A, 3, "bonus for renewal", &bal,
			  f->err),
	      0, f->err);
	assert_int_equal(bal, 8);
	f->now = FX_T0 + 300;
	TH_RC(mssl_adjust(f->ctx, f->op, FX_A, -2, "typing error", &bal,
			  f->err),
	      0, f->err);
	assert_int_equal(bal, 6);
	/* No memo, or only blanks: none recorded.  balance_after may be NULL. */
	f->now = FX_T0 + 400;
	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 1, NULL, NULL, f->err), 0,
	      f->err);
	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 1, "  ", &bal, f->err), 0,
	      f->err);
	assert_int_equal(bal, 8);

	TH_RC(mssl_account_get(f->ctx, f->aud_a, FX_A, &info, f->err), 0,
	      f->err);
	assert_int_equal(info->balance, 8);
	mssl_account_info_free(info);
	assert_int_equal(fx_balance(f, FX_A), 8);

	list(f, FX_A, 0, 0, 0, &l);
	assert_int_equal(l.n, 5);
	{
		static const struct {
			int kind;
			int64_t delta, after, time;
			const char *memo;
		} want[] = {
			{ MSSL_LEDGER_TOPUP, 5, 5, FX_T0 + 100, "order 1" },
			{ MSSL_LEDGER_ADJUSTMENT, 3, 8, FX_T0 + 200,
			  "bonus for renewal" },
			{ MSSL_LEDGER_ADJUSTMENT, -2, 6, FX_T0 + 300,
			  "typing error" },
			{ MSSL_LEDGER_TOPUP, 1, 7, FX_T0 + 400, NULL },
			{ MSSL_LEDGER_TOPUP, 1, 8, FX_T0 + 400, NULL },
		};

		for (i = 0; i < 5; i++) {
			const struct entry *e = &l.v[i];

			assert_int_equal(e->kind, want[i].kind);
			assert_int_equal(e->delta, want[i].delta);
			assert_int_equal(e->balance_after, want[i].after);
			assert_int_equal(e->time, want[i].time);
			assert_string_equal(e->account, FX_A);
			assert_string_equal(e->actor, "operator:test-op");
			assert_int_equal(e->has_memo, want[i].memo != NULL);
			if (want[i].memo)
				assert_string_equal(e->memo, want[i].memo);
			assert_false(e->has_serial);
			if (i > 0)
				assert_true(e->id > l.v[i - 1].id);
		}
	}
	assert_string_equal(mssl_ledger_kind_name(MSSL_LEDGER_TOPUP), "top-up");
	assert_string_equal(mssl_ledger_kind_name(MSSL_LEDGER_CHARGE),
			    "charge");
	assert_string_equal(mssl_ledger_kind_name(MSSL_LEDGER_REFUND),
			    "refund");
	assert_string_equal(mssl_ledger_kind_name(MSSL_LEDGER_ADJUSTMENT),
			    "adjustment");
	assert_string_equal(mssl_ledger_kind_name(99), "unknown");
}

/* Refused: the error, nothing written, audited as refused. */
static void expect_refused(struct fx *f, int rc, int want, const char *id,
			   const char *field, const char *before,
			   int64_t before_seq, const char *action)
{
	struct fx_audit *r;
	char *after;

	if (rc != want)
		fail_msg("%s: expected %s, got %s [%s] %s", action,
			 mssl_err_name(want), mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_message(f->err, MSSL_LANG_EN));
	assert_string_equal(mssl_error_id(f->err), id);
	if (field) {
		assert_non_null(mssl_error_field(f->err));
		assert_string_equal(mssl_error_field(f->err), field);
	}
	assert_true(mssl_error_message(f->err, MSSL_LANG_EN)[0]);
	assert_true(mssl_error_message(f->err, MSSL_LANG_ZH_TW)[0]);
	after = fx_snapshot(f);
	assert_string_equal(before, after);
	free(after);
	r = fx_audit_one(f, before_seq, action, "refused", "operator");
	fx_audit_free(r, 1);
}

static void test_below_zero(void **state)
{
	struct fx *f = *state;
	char *before = fx_snapshot(f);
	int64_t bal = -1, seq = fx_audit_head(f);
	int rc;

	rc = mssl_adjust(f->ctx, f->op, FX_A, -11, "refund", &bal, f->err);
	expect_refused(f, rc, MSSL_EBALANCE, "ledger.balance", NULL, before,
		       seq, "ledger.adjust");
	assert_int_equal(bal, -1);
	/* The message says the account and its balance. */
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN), FX_A));
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN), "10"));
	assert_int_equal(fx_balance(f, FX_A), 10);
	free(before);

	/* Down to zero exactly is fine; one more is not. */
	TH_RC(mssl_adjust(f->ctx, f->op, FX_A, -10, "refund", &bal, f->err), 0,
	      f->err);
	assert_int_equal(bal, 0);
	before = fx_snapshot(f);
	seq = fx_audit_head(f);
	rc = mssl_adjust(f->ctx, f->op, FX_A, -1, "refund", NULL, f->err);
	expect_refused(f, rc, MSSL_EBALANCE, "ledger.balance", NULL, before,
		       seq, "ledger.adjust");
	free(before);
	assert_int_equal(fx_balance(f, FX_A), 0);
	TH_RC(mssl_ledger_check(f->ctx, f->op, NULL, NULL, f->err), 0, f->err);
}

static void test_bad_amounts(void **state)
{
	static const int64_t topups[] = {
		0, -1, -1000, 1000001, INT64_MAX, INT64_MIN,
	};
	static const int64_t adjusts[] = { 0, 1000001, -1000001, INT64_MIN };
	static const char *const memos[] = { NULL, "", "   " };
	struct fx *f = *state;
	char *before = fx_snapshot(f);
	int64_t seq, bal = -1;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(topups); i++) {
		seq = fx_audit_head(f);
		rc = mssl_topup(f->ctx, f->op, FX_A, topups[i], "sale", &bal,
				f->err);
		expect_refused(f, rc, MSSL_EINPUT, "ledger.years", "years",
			       before, seq, "ledger.topup");
		assert_int_equal(bal, -1);
	}
	for (i = 0; i < ARRAY_SIZE(adjusts); i++) {
		seq = fx_audit_head(f);
		rc = mssl_adjust(f->ctx, f->op, FX_A, adjusts[i], "fix", &bal,
				 f->err);
		expect_refused(f, rc, MSSL_EINPUT, "ledger.delta", "delta",
			       before, seq, "ledger.adjust");
	}
	for (i = 0; i < ARRAY_SIZE(memos); i++) {
		seq = fx_audit_head(f);
		rc = mssl_adjust(f->ctx, f->op, FX_A, 1, memos[i], &bal,
				 f->err);
		expect_refused(f, rc, MSSL_EINPUT, "ledger.memo", "memo",
			       before, seq, "ledger.adjust");
	}
	assert_int_equal(bal, -1);
	free(before);
	/* The largest top-up is accepted. */
	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 1000000, NULL, &bal, f->err), 0,
	      f->err);
	assert_int_equal(bal, 1000010);
}

/* ---------------------------------------------------------------------
 * The activity list
 * ------------------------------------------------------------------ */

static void expect_deltas(const struct entries *l, const int64_t *d,
			  size_t n)
{
	size_t i;

	if (l->n != n)
		fail_msg("listed %zu entries, expected %zu", l->n, n);
	for (i = 0; i < n; i++)
		if (l->v[i].delta != d[i])
			fail_msg("entry %zu has delta %lld, expected %lld", i,
				 (long long)l->v[i].delta, (long long)d[i]);
}

static void test_list_paging(void **state)
{
	struct fx *f = *state;
	struct entries l;
	int64_t i;
	int rc;

	/* A: +10 from the fixture, then +1 .. +5; B has one entry of its own. */
	for (i = 1; i <= 5; i++)
		TH_RC(mssl_topup(f->ctx, f->op, FX_A, i, NULL, NULL, f->err), 0,
		      f->err);

	list(f, FX_A, 1, 0, 0, &l);
	expect_deltas(&l, (const int64_t[]){ 5, 4, 3, 2, 1, 10 }, 6);
	assert_int_equal(l.v[0].balance_after, 25);
	list(f, FX_A, 1, 1, 2, &l);
	expect_deltas(&l, (const int64_t[]){ 4, 3 }, 2);
	list(f, FX_A, 1, 5, 10, &l);
	expect_deltas(&l, (const int64_t[]){ 10 }, 1);
	list(f, FX_A, 1, 6, 0, &l);
	expect_deltas(&l, NULL, 0);
	list(f, FX_A, 0, 0, 2, &l);
	expect_deltas(&l, (const int64_t[]){ 10, 1 }, 2);
	list(f, FX_B, 1, 0, 0, &l);
	expect_deltas(&l, (const int64_t[]){ 3 }, 1);

	/* A callback stops the listing; its value comes back. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	rc = mssl_ledger_list(f->ctx, f->aud_a, NULL, 1, 0, 0, collect, &l,
			      f->err);
	assert_int_equal(rc, 7);
	assert_int_equal(l.n, 2);

	/* Negative paging is refused. */
	TH_RC(mssl_ledger_list(f->ctx, f->op, FX_A, 1, -1, 0, collect, &l,
			       f->err),
	      MSSL_EINPUT, f->err);
	assert_string_equal(mssl_error_field(f->err), "offset");
	TH_RC(mssl_ledger_list(f->ctx, f->op, FX_A, 1, 0, -1, collect, &l,
			       f->err),
	      MSSL_EINPUT, f->err);
}

/* ---------------------------------------------------------------------
 * mssl_ledger_check
 * ------------------------------------------------------------------ */

static void expect_ledger_broken(struct fx *f, const char *acct,
				 const char *named, int64_t entry)
{
	char want[64];
	const char *en;
	int rc;

	mssl_error_clear(f->err);
	rc = mssl_ledger_check(f->ctx, f->op, acct, NULL, f->err);
	en = mssl_error_message(f->err, MSSL_LANG_EN);
	if (rc != MSSL_ELEDGER)
		fail_msg("ledger check of %s: expected MSSL_ELEDGER, got %s "
			 "[%s] %s",
			 acct ? acct : "all", mssl_err_name(rc),
			 mssl_error_id(f->err), en);
	assert_int_equal(mssl_error_code(f->err), MSSL_ELEDGER);
	snprintf(want, sizeof(want), "entry %lld", (long long)entry);
	if (!strstr(en, named) || !strstr(en, want))
		fail_msg("the message does not name %s and %s: %s", named,
			 want, en);
	assert_true(mssl_error_message(f->err, MSSL_LANG_ZH_TW)[0]);
}

static void test_check(void **state)
{
	struct fx *f = *state;
	struct fx_audit *r;
	int64_t n = -1, entry, seq;
	int i;

	for (i = 0; i < 3; i++)
		TH_RC(mssl_topup(f->ctx, f->op, FX_A, 2, NULL, NULL, f->err), 0,
		      f->err);
	TH_RC(mssl_ledger_check(f->ctx, f->op, NULL, &n, f->err), 0, f->err);
	assert_int_equal(n, 5); /* A: 4 entries, B: 1 */
	TH_RC(mssl_ledger_check(f->ctx, f->op, FX_A, &n, f->err), 0, f->err);
	assert_int_equal(n, 4);

	/* The second entry of A claims a balance it never had. */
	entry = fx_sql_int(f, -1,
			   "SELECT id FROM ledger WHERE account_id = %Q"
			   " ORDER BY id LIMIT 1 OFFSET 1",
			   FX_A);
	fx_sql(f, "UPDATE ledger SET balance_after = 99 WHERE id = %lld",
	       (long long)entry);
	seq = fx_audit_head(f);
	expect_ledger_broken(f, FX_A, FX_A, entry);
	r = fx_audit_one(f, seq, "ledger.check", "failed", "operator");
	fx_audit_free(r, 1);
	expect_ledger_broken(f, NULL, FX_A, entry);
	/* B is unaffected. */
	TH_RC(mssl_ledger_check(f->ctx, f->op, FX_B, &n, f->err), 0, f->err);
	assert_int_equal(n, 1);

	/* Put back: consistent again.  Then change the newest entry's. */
	fx_sql(f, "UPDATE ledger SET balance_after = 12 WHERE id = %lld",
	       (long long)entry);
	TH_RC(mssl_ledger_check(f->ctx, f->op, FX_A, NULL, f->err), 0, f->err);
	entry = fx_sql_int(f, -1,
			   "SELECT max(id) FROM ledger WHERE account_id = %Q",
			   FX_A);
	fx_sql(f, "UPDATE ledger SET balance_after = balance_after + 1"
		  " WHERE id = %lld",
	       (long long)entry);
	expect_ledger_broken(f, FX_A, FX_A, entry);
	fx_sql(f, "UPDATE ledger SET balance_after = balance_after - 1"
		  " WHERE id = %lld",
	       (long long)entry);

	/* A changed amount (first entry of B) is caught just the same. */
	entry = fx_sql_int(f, -1,
			   "SELECT min(id) FROM ledger WHERE account_id = %Q",
			   FX_B);
	fx_sql(f, "UPDATE ledger SET delta = 30 WHERE id = %lld",
	       (long long)entry);
	expect_ledger_broken(f, NULL, FX_B, entry);

	/* An entry removed from the middle of A breaks the chain as well. */
	fx_sql(f, "UPDATE ledger SET delta = 3 WHERE id = %lld",
	       (long long)entry);
	TH_RC(mssl_ledger_check(f->ctx, f->op, NULL, NULL, f->err), 0, f->err);
	entry = fx_sql_int(f, -1,
			   "SELECT id FROM ledger WHERE account_id = %Q"
			   " ORDER BY id LIMIT 1 OFFSET 1",
			   FX_A);
	fx_sql(f, "DELETE FROM ledger WHERE id = %lld", (long long)entry);
	expect_ledger_broken(f, FX_A, FX_A, entry + 1);
}

/* ---------------------------------------------------------------------
 * Concurrency
 * ------------------------------------------------------------------ */

#define THREADS 4
#define PER_THREAD 50

struct worker {
	struct fx *f;
	pthread_t tid;
	int64_t after[PER_THREAD];
	int failures;
	int first_rc;
	char first_msg[256];
};

static void *topups(void *ud)
{
	struct worker *w = ud;
	mssl_actor *op = th_operator();
	mssl_error *err = mssl_error_new();
	int i, rc;

	for (i = 0; op && err && i < PER_THREAD; i++) {
		rc = mssl_topup(w->f->ctx, op, FX_NEW, 1, "parallel",
				&w->after[i], err);
		if (rc != 0 && w->failures++ == 0) {
			w->first_rc = rc;
			snprintf(w->first_msg, sizeof(w->first_msg), "%s",
				 mssl_error_message(err, MSSL_LANG_EN));
		}
	}
	if (!op || !err)
		w->failures = -1;
	mssl_actor_free(op);
	mssl_error_free(err);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_concurrent_topups(void **state)
{
	struct fx *f = *state;
	struct worker w[THREADS];
	int64_t all[THREADS * PER_THREAD];
	int64_t head, n = -1;
	int i;

	create_empty(f, FX_NEW);
	head = fx_audit_head(f);
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].f = f;
		assert_int_equal(pthread_create(&w[i].tid, NULL, topups, &w[i]),
				 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < THREADS; i++)
		if (w[i].failures)
			fail_msg("thread %d: %d top-ups failed, first %s: %s",
				 i, w[i].failures, mssl_err_name(w[i].first_rc),
				 w[i].first_msg);

	assert_int_equal(fx_balance(f, FX_NEW), THREADS * PER_THREAD);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT count(*) FROM ledger"
				    " WHERE account_id = %Q",
				    FX_NEW),
			 THREADS * PER_THREAD);
	/* Every caller saw its own balance: 1 .. 200, each once. */
	for (i = 0; i < THREADS; i++)
		memcpy(&all[i * PER_THREAD], w[i].after, sizeof(w[i].after));
	qsort(all, THREADS * PER_THREAD, sizeof(all[0]), cmp_i64);
	for (i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(all[i], i + 1);

	TH_RC(mssl_ledger_check(f->ctx, f->op, FX_NEW, &n, f->err), 0, f->err);
	assert_int_equal(n, THREADS * PER_THREAD);
	/* One audit record each, and the chain holds. */
	assert_int_equal(fx_audit_head(f), head + THREADS * PER_THREAD + 1);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_topup_and_adjust,
						fx_setup_empty, fx_teardown),
		cmocka_unit_test_setup_teardown(test_below_zero, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_amounts, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_check, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_topups,
						fx_setup_empty, fx_teardown),
	};

	return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
