/*
 * Who may do what (SPEC §1): every public operation that takes an actor,
 * called as the operator, as the manager and the auditor of account A, and
 * as the manager of another account B.  One row per operation: the
 * expected outcome for each actor.  A refusal must leave the store as it
 * was, carry a stable id and a message in both languages, and append one
 * audit record with outcome "refused".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* Expected outcome of one call. */
enum want {
	OK, /* 0 */
	ROLE, /* MSSL_EPERM, "auth.role": the role may not do this at all */
	ACCT, /* MSSL_EPERM, "auth.account": not the actor's account */
};

/* The columns: who calls. */
enum who { W_MGR_B, W_AUD_A, W_MGR_A, W_OP, W__COUNT };

static const char *const who_name[W__COUNT] = {
	"manager of B", "auditor of A", "manager of A", "operator",
};

static const char *const who_role[W__COUNT] = {
	"manager", "auditor", "manager", "operator",
};

typedef int (*call_fn)(struct fx *f, const mssl_actor *a, const char *acct,
		       mssl_error *err);

struct row {
	const char *action; /* audit action name */
	call_fn call;
	/* Refusals come first so that the operator's success comes last. */
	enum want want[W__COUNT];
	/* Acts on an account: the operator on a missing one gets ENOENT. */
	bool account;
};

/* ---- the calls ------------------------------------------------------------ */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Callbacks that count what they are given. */
#define COUNTER(name, type)                                                  \
	static int name(void *ud, const type *r)                             \
	{                                                                    \
		(void)r;                                                     \
		(*(int *)ud)++;                                              \
		return 0;                                                    \
	}
COUNTER(count_account, mssl_account_info)
COUNTER(count_domain, struct mssl_domain_rec)
COUNTER(count_contact, mssl_contact)
COUNTER(count_ledger, struct mssl_ledger_rec)
COUNTER(count_notice, struct mssl_notice_rec)
COUNTER(count_audit, struct mssl_audit_rec)

static int c_account_create(struct fx *f, const mssl_actor *a,
			    const char *acct, mssl_error *err)
{
	mssl_account_spec s = fx_spec(FX_NEW);

	(void)acct;
	return mssl_account_create(f->ctx, a, &s, err);
}

static int c_account_set(struct fx *f, const mssl_actor *a, const char *acct,
			 mssl_error *err)
{
	return mssl_account_set(f->ctx, a, acct, "org_name_en", "Renamed Ltd.",
				err);
}

static int c_account_suspend(struct fx *f, const mssl_actor *a,
			     const char *acct, mssl_error *err)
{
	return mssl_account_suspend(f->ctx, a, acct, 1, "unpaid invoice",
				    err);
}

static int c_account_get(struct fx *f, const mssl_actor *a, const char *acct,
			 mssl_error *err)
{
	mssl_account_info *info = (mssl_account_info *)0x1;
	int rc = mssl_account_get(f->ctx, a, acct, &info, err);

	if (rc == 0) {
		assert_non_null(info);
		assert_string_equal(info->id, acct);
		assert_int_equal(info->balance, 10);
	} else {
		assert_null(info);
	}
	mssl_account_info_free(info);
	return rc;
}

static int c_account_list(struct fx *f, const mssl_actor *a,
			  const char *acct, mssl_error *err)
{
	int n = 0;
	int rc = mssl_account_list(f->ctx, a, count_account,
				   &n, err);

	(void)acct;
	assert_int_equal(n, rc == 0 ? 2 : 0);
	return rc;
}

static int c_domain_add(struct fx *f, const mssl_actor *a, const char *acct,
			mssl_error *err)
{
	return mssl_domain_add(f->ctx, a, acct, "mis.twca.com.tw", 0, err);
}

static int c_domain_remove(struct fx *f, const mssl_actor *a,
			   const char *acct, mssl_error *err)
{
	return mssl_domain_remove(f->ctx, a, acct, "twca.com.tw", err);
}

static int c_domain_list(struct fx *f, const mssl_actor *a, const char *acct,
			 mssl_error *err)
{
	int n = 0;
	int rc = mssl_domain_list(f->ctx, a, acct, count_domain, &n,
				  err);

	assert_int_equal(n, rc == 0 ? 1 : 0);
	return rc;
}

static int c_contact_add(struct fx *f, const mssl_actor *a, const char *acct,
			 mssl_error *err)
{
	mssl_contact c = { 0, "technical", "陳大文", "tech@twca.com.tw",
			   NULL };

	return mssl_contact_add(f->ctx, a, acct, &c, NULL, err);
}

static int c_contact_list(struct fx *f, const mssl_actor *a,
			  const char *acct, mssl_error *err)
{
	int n = 0;
	int rc = mssl_contact_list(f->ctx, a, acct,
				   count_contact, &n, err);

	assert_int_equal(n, rc == 0 ? 1 : 0);
	return rc;
}

static int c_topup(struct fx *f, const mssl_actor *a, const char *acct,
		   mssl_error *err)
{
	return mssl_topup(f->ctx, a, acct, 5, "order 42", NULL, err);
}

static int c_adjust(struct fx *f, const mssl_actor *a, const char *acct,
		    mssl_error *err)
{
	return mssl_adjust(f->ctx, a, acct, -1, "typing error", NULL, err);
}

static int c_ledger_list(struct fx *f, const mssl_actor *a, const char *acct,
			 mssl_error *err)
{
	int n = 0;
	int rc = mssl_ledger_list(f->ctx, a, acct, 1, 0, 0,
				  count_ledger, &n, err);

	assert_int_equal(n, rc == 0 ? 1 : 0);
	return rc;
}

static int c_ledger_check(struct fx *f, const mssl_actor *a,
			  const char *acct, mssl_error *err)
{
	return mssl_ledger_check(f->ctx, a, acct, NULL, err);
}

static int c_notice_add(struct fx *f, const mssl_actor *a, const char *acct,
			mssl_error *err)
{
	(void)acct;
	return mssl_notice_add(f->ctx, a, NULL, "維護公告", "Maintenance",
			       0, NULL, err);
}

static int c_notice_add_acct(struct fx *f, const mssl_actor *a,
			     const char *acct, mssl_error *err)
{
	return mssl_notice_add(f->ctx, a, acct, "帳戶公告", "For you", 0, NULL,
			       err);
}

static int c_notice_list(struct fx *f, const mssl_actor *a,
			 const char *acct, mssl_error *err)
{
	int n = 0;

	(void)acct;
	return mssl_notice_list(f->ctx, a, NULL, count_notice, &n,
				err);
}

static int c_audit_verify(struct fx *f, const mssl_actor *a,
			  const char *acct, mssl_error *err)
{
	(void)acct;
	return mssl_audit_verify(f->ctx, a, NULL, err);
}

static int c_audit_export(struct fx *f, const mssl_actor *a,
			  const char *acct, mssl_error *err)
{
	int n = 0;

	(void)acct;
	return mssl_audit_export(f->ctx, a, 1, count_audit, &n,
				 err);
}

/* ---- the table --------------------------------------------------------- */

/* Columns: manager of B, auditor of A, manager of A, operator. */
#define OPERATOR_ONLY { ROLE, ROLE, ROLE, OK }
#define MEMBERS_READ { ACCT, OK, OK, OK }

static const struct row rows[] = {
	{ "account.create", c_account_create, OPERATOR_ONLY, false },
	{ "account.set", c_account_set, OPERATOR_ONLY, true },
	{ "account.suspend", c_account_suspend, OPERATOR_ONLY, true },
	{ "account.show", c_account_get, MEMBERS_READ, true },
	{ "account.list", c_account_list, OPERATOR_ONLY, false },
	{ "domain.add", c_domain_add, OPERATOR_ONLY, true },
	{ "domain.remove", c_domain_remove, OPERATOR_ONLY, true },
	{ "domain.list", c_domain_list, MEMBERS_READ, true },
	{ "contact.add", c_contact_add, OPERATOR_ONLY, true },
	{ "contact.list", c_contact_list, MEMBERS_READ, true },
	{ "ledger.topup", c_topup, OPERATOR_ONLY, true },
	{ "ledger.adjust", c_adjust, OPERATOR_ONLY, true },
	{ "ledger.show", c_ledger_list, MEMBERS_READ, true },
	{ "ledger.check", c_ledger_check, OPERATOR_ONLY, true },
	{ "notice.add", c_notice_add, OPERATOR_ONLY, false },
	{ "notice.add", c_notice_add_acct, OPERATOR_ONLY, true },
	/* Everyone reads notices; members only their own and global ones. */
	{ "notice.list", c_notice_list, { OK, OK, OK, OK }, false },
	{ "audit.verify", c_audit_verify, OPERATOR_ONLY, false },
	{ "audit.export", c_audit_export, OPERATOR_ONLY, false },
};

static const mssl_actor *actor_of(struct fx *f, enum who w)
{
	switch (w) {
	case W_MGR_B:
		return f->mgr_b;
	case W_AUD_A:
		return f->aud_a;
	case W_MGR_A:
		return f->mgr_a;
	default:
		return f->op;
	}
}

static const char *remote_of(enum who w)
{
	/* As th_operator / th_manager / th_auditor give them. */
	return w == W_OP ? "local:test" : w == W_AUD_A ? "192.0.2.11" :
							 "192.0.2.10";
}

/* A refusal: code, id, messages in both languages, nothing written. */
static void check_refusal(struct fx *f, const struct row *r, enum who w,
			  enum want want, int rc, const char *before)
{
	const char *id = want == ROLE ? "auth.role" : "auth.account";
	const char *en, *zh;
	char *after;

	if (rc != MSSL_EPERM)
		fail_msg("%s as %s: expected MSSL_EPERM, got %s [%s] %s",
			 r->action, who_name[w], mssl_err_name(rc),
			 mssl_error_id(f->err),
			 mssl_error_message(f->err, MSSL_LANG_EN));
	assert_int_equal(mssl_error_code(f->err), MSSL_EPERM);
	assert_string_equal(mssl_error_id(f->err), id);
	en = mssl_error_message(f->err, MSSL_LANG_EN);
	zh = mssl_error_message(f->err, MSSL_LANG_ZH_TW);
	assert_true(en[0] != '\0');
	assert_true(zh[0] != '\0');
	/* The message says why: the role, or the actor's own account. */
	if (want == ROLE && !strstr(en, who_role[w]))
		fail_msg("%s as %s: message does not name the role: %s",
			 r->action, who_name[w], en);
	if (want == ACCT && !strstr(en, FX_B))
		fail_msg("%s as %s: message does not name the own account: %s",
			 r->action, who_name[w], en);
	after = fx_snapshot(f);
	if (strcmp(before, after) != 0)
		fail_msg("%s as %s was refused but wrote:\nbefore %s\nafter  %s",
			 r->action, who_name[w], before, after);
	free(after);
}

static void run_row(void **state)
{
	struct fx *f = fx_new(FX_ACCOUNTS, NULL);
	const struct row *r = *state;
	struct fx_audit *rec;
	int64_t before_seq, bal_a, bal_b;
	char *before;
	int w, rc;

	for (w = 0; w < W__COUNT; w++) {
		enum want want = r->want[w];

		before = fx_snapshot(f);
		before_seq = fx_audit_head(f);
		bal_a = fx_balance(f, FX_A);
		bal_b = fx_balance(f, FX_B);
		mssl_error_clear(f->err);
		rc = r->call(f, actor_of(f, (enum who)w), FX_A, f->err);
		if (want == OK) {
			if (rc != 0)
				fail_msg("%s as %s: expected success, got %s "
					 "[%s] %s",
					 r->action, who_name[w],
					 mssl_err_name(rc),
					 mssl_error_id(f->err),
					 mssl_error_message(f->err,
							    MSSL_LANG_EN));
		} else {
			check_refusal(f, r, (enum who)w, want, rc, before);
			assert_int_equal(fx_balance(f, FX_A), bal_a);
			assert_int_equal(fx_balance(f, FX_B), bal_b);
		}
		free(before);
		rec = fx_audit_one(f, before_seq, r->action,
				   want == OK ? "ok" : "refused", who_role[w]);
		assert_string_equal(rec->remote, remote_of((enum who)w));
		assert_int_equal(rec->time, FX_T0);
		if (want != OK) {
			/* The record says which rule refused. */
			assert_non_null(rec->detail);
			assert_non_null(strstr(rec->detail,
					       want == ROLE ? "auth.role" :
							      "auth.account"));
		}
		fx_audit_free(rec, 1);
	}
	fx_free(f);
}

/*
 * The operator acting on an account that does not exist: MSSL_ENOENT,
 * nothing written, audited as refused.
 */
static void test_missing_account(void **state)
{
	struct fx *f = *state;
	struct fx_audit *rec;
	int64_t before_seq;
	char *before, *after;
	char wrong[1024] = "";
	size_t i, used = 0;
	int rc;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];

		if (!r->account)
			continue;
		before = fx_snapshot(f);
		before_seq = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = r->call(f, f->op, FX_MISSING, f->err);
		after = fx_snapshot(f);
		assert_string_equal(before, after);
		free(before);
		free(after);
		/* Go through every row, then name every wrong one. */
		if (rc != MSSL_ENOENT) {
			used += (size_t)snprintf(
				wrong + used, sizeof(wrong) - used,
				" %s gave %s;", r->action, mssl_err_name(rc));
			if (used >= sizeof(wrong))
				used = sizeof(wrong) - 1;
			continue;
		}
		assert_string_equal(mssl_error_id(f->err), "account.not_found");
		assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN),
				       FX_MISSING));
		assert_true(mssl_error_message(f->err, MSSL_LANG_ZH_TW)[0]);
		rec = fx_audit_one(f, before_seq, r->action, "refused",
				   "operator");
		assert_string_equal(rec->account_id, FX_MISSING);
		fx_audit_free(rec, 1);
	}
	if (wrong[0])
		fail_msg("on the missing account %s, expected MSSL_ENOENT:%s",
			 FX_MISSING, wrong);
}

/* Members of a suspended account can do nothing (MSSL_ESTATE). */
static void test_suspended_members(void **state)
{
	struct fx *f = *state;
	const mssl_actor *members[] = { f->mgr_a, f->aud_a };
	mssl_account_info *info = NULL;
	struct fx_audit *rec;
	int64_t before_seq;
	size_t i, m;
	int rc;

	TH_RC(mssl_account_suspend(f->ctx, f->op, FX_A, 1, "unpaid", f->err),
	      0, f->err);
	for (m = 0; m < ARRAY_SIZE(members); m++) {
		for (i = 0; i < ARRAY_SIZE(rows); i++) {
			const struct row *r = &rows[i];
			int want = r->want[m == 0 ? W_MGR_A : W_AUD_A] == OK ?
					   MSSL_ESTATE :
					   MSSL_EPERM;

			if (!r->account)
				continue;
			before_seq = fx_audit_head(f);
			mssl_error_clear(f->err);
			rc = r->call(f, members[m], FX_A, f->err);
			if (rc != want)
				fail_msg("%s by a member of a suspended "
					 "account: expected %s, got %s [%s]",
					 r->action, mssl_err_name(want),
					 mssl_err_name(rc),
					 mssl_error_id(f->err));
			if (want == MSSL_ESTATE) {
				assert_string_equal(mssl_error_id(f->err),
						    "account.suspended");
				assert_true(mssl_error_message(
					f->err, MSSL_LANG_ZH_TW)[0]);
			}
			rec = fx_audit_one(f, before_seq, r->action, "refused",
					   m == 0 ? "manager" : "auditor");
			fx_audit_free(rec, 1);
		}
	}
	/* The operator still sees the account, and B's members theirs. */
	TH_RC(mssl_account_get(f->ctx, f->op, FX_A, &info, f->err), 0, f->err);
	assert_int_equal(info->status, MSSL_ACCOUNT_SUSPENDED);
	mssl_account_info_free(info);
	TH_RC(mssl_account_get(f->ctx, f->mgr_b, NULL, &info, f->err), 0,
	      f->err);
	assert_string_equal(info->id, FX_B);
	mssl_account_info_free(info);
	/* Reactivated, the members are back. */
	TH_RC(mssl_account_suspend(f->ctx, f->op, FX_A, 0, "paid", f->err), 0,
	      f->err);
	TH_RC(mssl_account_get(f->ctx, f->aud_a, FX_A, &info, f->err), 0,
	      f->err);
	mssl_account_info_free(info);
}

/* Members name no account: their own is meant. */
static void test_member_default_account(void **state)
{
	struct fx *f = *state;
	mssl_account_info *info = NULL;
	int n = 0;

	TH_RC(mssl_account_get(f->ctx, f->aud_a, NULL, &info, f->err), 0,
	      f->err);
	assert_string_equal(info->id, FX_A);
	mssl_account_info_free(info);
	TH_RC(mssl_ledger_list(f->ctx, f->mgr_b, NULL, 1, 0, 0,
			       count_ledger, &n, f->err),
	      0, f->err);
	assert_int_equal(n, 1);
	/* The operator must name one. */
	TH_RC(mssl_account_get(f->ctx, f->op, NULL, &info, f->err),
	      MSSL_EINPUT, f->err);
	assert_null(info);
}

/* No actor, no context: refused before anything else. */
static void test_no_actor(void **state)
{
	struct fx *f = *state;
	int64_t before_seq = fx_audit_head(f);

	TH_RC(mssl_topup(f->ctx, NULL, FX_A, 1, NULL, NULL, f->err),
	      MSSL_EINVAL, f->err);
	TH_RC(mssl_topup(NULL, f->op, FX_A, 1, NULL, NULL, f->err),
	      MSSL_EINVAL, f->err);
	assert_int_equal(fx_balance(f, FX_A), 10);
	assert_int_equal(fx_audit_head(f), before_seq);
	/* Actors need a name, and members an account. */
	assert_null(mssl_actor_new(MSSL_ROLE_MANAGER, "x", NULL, NULL));
	assert_null(mssl_actor_new(MSSL_ROLE_AUDITOR, NULL, FX_A, NULL));
	assert_null(mssl_actor_new(MSSL_ROLE_NONE, "x", FX_A, NULL));
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(rows) + 4];
	char names[ARRAY_SIZE(rows)][64];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		snprintf(names[i], sizeof(names[i]), "roles %s%s",
			 rows[i].action,
			 rows[i].call == c_notice_add_acct ? " (account)" : "");
		tests[n++] = (struct CMUnitTest){
			.name = names[i],
			.test_func = run_row,
			.initial_state = (void *)&rows[i],
		};
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_missing_account, fx_setup, fx_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_suspended_members, fx_setup, fx_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_member_default_account, fx_setup, fx_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_no_actor, fx_setup, fx_teardown);
	return _cmocka_run_group_tests("roles", tests, n, NULL, NULL);
}
