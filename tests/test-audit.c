/*
 * The audit log (SPEC §9): every operation, refused or not, leaves a record
 * saying who (role, name), when (the injected clock), from where (the
 * actor's remote), what (action, object, account) and the outcome; the
 * hash chain catches any change made to the SQLite file behind the
 * library's back; and an operation whose record cannot be written does
 * not happen.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fixture.h"
#include "op.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------
 * Every operation is recorded
 * ------------------------------------------------------------------ */

static int ignore_account(void *ud, const mssl_account_info *a)
{
	(void)ud;
	(void)a;
	return 0;
}

static int ignore_domain(void *ud, const struct mssl_domain_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

static int ignore_contact(void *ud, const mssl_contact *c)
{
	(void)ud;
	(void)c;
	return 0;
}

static int ignore_ledger(void *ud, const struct mssl_ledger_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

static int ignore_notice(void *ud, const struct mssl_notice_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

static int ignore_audit(void *ud, const struct mssl_audit_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

enum step {
	S_CREATE,
	S_SET,
	S_DOMAIN_ADD,
	S_CONTACT_ADD,
	S_TOPUP,
	S_ADJUST,
	S_SHOW_MGR,
	S_LEDGER_AUD,
	S_DOMAINS_AUD,
	S_CONTACTS_AUD,
	S_LIST,
	S_NOTICE_ADD,
	S_NOTICE_LIST_MGR,
	S_LEDGER_CHECK,
	S_DOMAIN_REMOVE,
	S_SUSPEND,
	S_TOPUP_MGR,
	S_TOPUP_ZERO,
	S_SHOW_MISSING,
	S_VERIFY,
	S_EXPORT,
};

struct expect {
	enum step step;
	int rc;
	const char *action;
	const char *role;
	const char *account; /* account acted upon, NULL: none */
	const char *object;
	const char *outcome;
	const char *detail; /* must appear in the detail; NULL: no detail */
};

static const struct expect steps[] = {
	{ S_CREATE, 0, "account.create", "operator", FX_A, FX_A, "ok",
	  "org=\"TAIWAN-CA INC.\"" },
	{ S_SET, 0, "account.set", "operator", FX_A, FX_A, "ok",
	  "org_name_zh=\"臺灣網路認證\"" },
	{ S_DOMAIN_ADD, 0, "domain.add", "operator", FX_A, "twca.com.tw", "ok",
	  NULL },
	{ S_CONTACT_ADD, 0, "contact.add", "operator", FX_A,
	  "tech@twca.com.tw", "ok", "technical contact" },
	{ S_TOPUP, 0, "ledger.topup", "operator", FX_A, FX_A, "ok",
	  "top-up +10 balance 10" },
	{ S_ADJUST, 0, "ledger.adjust", "operator", FX_A, FX_A, "ok",
	  "adjustment -2 balance 8" },
	{ S_SHOW_MGR, 0, "account.show", "manager", FX_A, NULL, "ok", NULL },
	{ S_LEDGER_AUD, 0, "ledger.show", "auditor", FX_A, FX_A, "ok", NULL },
	{ S_DOMAINS_AUD, 0, "domain.list", "auditor", FX_A, FX_A, "ok", NULL },
	{ S_CONTACTS_AUD, 0, "contact.list", "auditor", FX_A, FX_A, "ok",
	  NULL },
	{ S_LIST, 0, "account.list", "operator", NULL, NULL, "ok", NULL },
	{ S_NOTICE_ADD, 0, "notice.add", "operator", NULL, "系統維護", "ok",
	  "for everyone" },
	{ S_NOTICE_LIST_MGR, 0, "notice.list", "manager", FX_A, FX_A, "ok",
	  NULL },
	{ S_LEDGER_CHECK, 0, "ledger.check", "operator", NULL, "all", "ok",
	  "1 accounts, 2 entries consistent" },
	{ S_DOMAIN_REMOVE, 0, "domain.remove", "operator", FX_A,
	  "twca.com.tw", "ok", NULL },
	{ S_SUSPEND, 0, "account.suspend", "operator", FX_A, FX_A, "ok",
	  "suspended: unpaid invoice" },
	{ S_TOPUP_MGR, MSSL_EPERM, "ledger.topup", "manager", FX_A, FX_A,
	  "refused", "auth.role" },
	{ S_TOPUP_ZERO, MSSL_EINPUT, "ledger.topup", "operator", FX_A, FX_A,
	  "refused", "ledger.years" },
	{ S_SHOW_MISSING, MSSL_ENOENT, "account.show", "operator", FX_MISSING,
	  FX_MISSING, "refused", "account.not_found" },
	{ S_VERIFY, 0, "audit.verify", "operator", NULL, NULL, "ok",
	  "38 records verified" },
	/* A stream is audited before it starts: what it covers is the
	 * object, and there is no detail to add afterwards. */
	{ S_EXPORT, 0, "audit.export", "operator", NULL, "from 7", "ok",
	  NULL },
};

static int run_step(struct fx *f, enum step s)
{
	mssl_account_spec spec = fx_spec(FX_A);
	mssl_contact c = { 0, "technical", "陳大文", "tech@twca.com.tw",
			   "02-1234" };
	mssl_account_info *info = NULL;
	int rc;

	switch (s) {
	case S_CREATE:
		return mssl_account_create(f->ctx, f->op, &spec, f->err);
	case S_SET:
		return mssl_account_set(f->ctx, f->op, FX_A, "org_name_zh",
					"臺灣網路認證", f->err);
	case S_DOMAIN_ADD:
		return mssl_domain_add(f->ctx, f->op, FX_A, "twca.com.tw", 0,
				       f->err);
	case S_CONTACT_ADD:
		return mssl_contact_add(f->ctx, f->op, FX_A, &c, NULL, f->err);
	case S_TOPUP:
		return mssl_topup(f->ctx, f->op, FX_A, 10, "order 1", NULL,
				  f->err);
	case S_ADJUST:
		return mssl_adjust(f->ctx, f->op, FX_A, -2, "wrong order",
				   NULL, f->err);
	case S_SHOW_MGR:
		rc = mssl_account_get(f->ctx, f->mgr_a, NULL, &info, f->err);
		mssl_account_info_free(info);
		return rc;
	case S_LEDGER_AUD:
		return mssl_ledger_list(f->ctx, f->aud_a, FX_A, 1, 0, 0,
					ignore_ledger, NULL, f->err);
	case S_DOMAINS_AUD:
		return mssl_domain_list(f->ctx, f->aud_a, FX_A, ignore_domain,
					NULL, f->err);
	case S_CONTACTS_AUD:
		return mssl_contact_list(f->ctx, f->aud_a, FX_A, ignore_contact,
					 NULL, f->err);
	case S_LIST:
		return mssl_account_list(f->ctx, f->op, ignore_account, NULL,
					 f->err);
	case S_NOTICE_ADD:
		return mssl_notice_add(f->ctx, f->op, NULL, "系統維護",
				       "Maintenance tonight", 0, NULL, f->err);
	case S_NOTICE_LIST_MGR:
		return mssl_notice_list(f->ctx, f->mgr_a, NULL, ignore_notice,
					NULL, f->err);
	case S_LEDGER_CHECK:
		return mssl_ledger_check(f->ctx, f->op, NULL, NULL, f->err);
	case S_DOMAIN_REMOVE:
		return mssl_domain_remove(f->ctx, f->op, FX_A, "twca.com.tw",
					  f->err);
	case S_SUSPEND:
		return mssl_account_suspend(f->ctx, f->op, FX_A, 1,
					    "unpaid invoice", f->err);
	case S_TOPUP_MGR:
		/* A's manager: A is suspended, but the role is refused first. */
		return mssl_topup(f->ctx, f->mgr_a, FX_A, 1, NULL, NULL,
				  f->err);
	case S_TOPUP_ZERO:
		return mssl_topup(f->ctx, f->op, FX_A, 0, NULL, NULL, f->err);
	case S_SHOW_MISSING:
		rc = mssl_account_get(f->ctx, f->op, FX_MISSING, &info, f->err);
		mssl_account_info_free(info);
		return rc;
	case S_VERIFY:
		return mssl_audit_verify(f->ctx, f->op, NULL, f->err);
	case S_EXPORT:
		return mssl_audit_export(f->ctx, f->op, 7, ignore_audit, NULL,
					 f->err);
	}
	return MSSL_EINVAL;
}

static const char *name_of(const char *role)
{
	return strcmp(role, "operator") == 0 ? "test-op" :
	       strcmp(role, "manager") == 0  ? "test-manager" :
					       "test-auditor";
}

static const char *remote_of(const char *role)
{
	return strcmp(role, "operator") == 0 ? "local:test" :
	       strcmp(role, "manager") == 0  ? "192.0.2.10" :
					       "192.0.2.11";
}

static void test_every_operation_recorded(void **state)
{
	struct fx *f = *state;
	struct fx_audit *r;
	int64_t before;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct expect *e = &steps[i];

		/* A new minute for every step: the record must say which. */
		f->now = FX_T0 + 60 * (int64_t)i;
		before = fx_audit_head(f);
		mssl_error_clear(f->err);
		rc = run_step(f, e->step);
		if (rc != e->rc)
			fail_msg("step %zu (%s): expected %s, got %s [%s] %s",
				 i, e->action, mssl_err_name(e->rc),
				 mssl_err_name(rc), mssl_error_id(f->err),
				 mssl_error_message(f->err, MSSL_LANG_EN));
		/* This step's record and the export's reading it, each time. */
		assert_int_equal(before, (int64_t)(2 * i));
		r = fx_audit_one(f, before, e->action, e->outcome, e->role);
		assert_int_equal(r->seq, before + 1);
		assert_int_equal(r->time, f->now);
		assert_string_equal(r->actor_name, name_of(e->role));
		assert_string_equal(r->remote, remote_of(e->role));
		if (!fx_streq(r->account_id, e->account) ||
		    !fx_streq(r->object, e->object))
			fail_msg("step %zu (%s): account %s object %s, expected "
				 "%s and %s",
				 i, e->action,
				 r->account_id ? r->account_id : "NULL",
				 r->object ? r->object : "NULL",
				 e->account ? e->account : "NULL",
				 e->object ? e->object : "NULL");
		if (e->detail && (!r->detail || !strstr(r->detail, e->detail)))
			fail_msg("step %zu (%s): detail \"%s\" lacks \"%s\"", i,
				 e->action, r->detail ? r->detail : "NULL",
				 e->detail);
		if (!e->detail && r->detail)
			fail_msg("step %zu (%s): unexpected detail \"%s\"", i,
				 e->action, r->detail);
		fx_audit_free(r, 1);
	}
}

/* An untouched log verifies; the count is every record before verify's. */
static void test_verify_untouched(void **state)
{
	struct fx *f = *state;
	int64_t n = -1, head = fx_audit_head(f);

	assert_true(head >= 6);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	assert_int_equal(n, head);
	/* The verification is itself recorded, and verifies in turn. */
	assert_int_equal(fx_audit_head(f), head + 1);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	assert_int_equal(n, head + 1);
}

/* An empty log verifies too. */
static void test_verify_empty(void **state)
{
	struct fx *f = *state;
	int64_t n = -1;

	assert_int_equal(fx_audit_head(f), 0);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	assert_int_equal(n, 0);
}

/* ---------------------------------------------------------------------
 * Tampering with the file
 * ------------------------------------------------------------------ */

/* verify must fail with ETAMPER, 'id', and a message naming 'seq'. */
static void expect_tamper(struct fx *f, const char *id, int64_t seq)
{
	const char *en, *zh;
	int64_t before = fx_sql_int(f, -1, "SELECT count(*) FROM audit");
	char *outcome;
	int rc;

	mssl_error_clear(f->err);
	rc = mssl_audit_verify(f->ctx, f->op, NULL, f->err);
	en = mssl_error_message(f->err, MSSL_LANG_EN);
	zh = mssl_error_message(f->err, MSSL_LANG_ZH_TW);
	if (rc != MSSL_ETAMPER || strcmp(mssl_error_id(f->err), id) != 0 ||
	    !fx_names_record(en, seq))
		fail_msg("expected MSSL_ETAMPER [%s] naming record %lld, got "
			 "%s [%s] %s",
			 id, (long long)seq, mssl_err_name(rc),
			 mssl_error_id(f->err), en);
	assert_int_equal(mssl_error_code(f->err), MSSL_ETAMPER);
	assert_true(zh[0] != '\0');
	/*
	 * The failed verification is recorded.  Read it from the file: the
	 * broken chain is what export would show too.
	 */
	assert_int_equal(fx_sql_int(f, -1, "SELECT count(*) FROM audit"),
			 before + 1);
	outcome = fx_sql_text(f,
			      "SELECT action || ' ' || outcome FROM audit"
			      " ORDER BY seq DESC LIMIT 1");
	assert_string_equal(outcome, "audit.verify failed");
	free(outcome);
}

/* (a) Each field of a middle record, changed, is caught at that record. */
static void test_tamper_alter_field(void **state)
{
	static const char *const cols[] = {
		"time",	  "actor_role", "actor_name", "account_id", "remote",
		"action", "object",	"outcome",    "detail",
	};
	struct fx *f = *state;
	char *old;
	size_t i;

	/* Record 3 is the top-up of A: every field has a value. */
	fx_sql(f, "DROP TRIGGER audit_no_update");
	for (i = 0; i < ARRAY_SIZE(cols); i++) {
		old = fx_sql_text(f, "SELECT quote(%s) FROM audit WHERE seq = 3",
				  cols[i]);
		assert_non_null(old);
		assert_string_not_equal(old, "NULL");
		fx_sql(f,
		       "UPDATE audit SET %s = CASE typeof(%s) WHEN 'integer'"
		       " THEN %s + 1 ELSE %s || 'x' END WHERE seq = 3",
		       cols[i], cols[i], cols[i], cols[i]);
		expect_tamper(f, "audit.altered", 3);
		/* Put back, the log verifies again. */
		fx_sql(f, "UPDATE audit SET %s = %s WHERE seq = 3", cols[i],
		       old);
		TH_RC(mssl_audit_verify(f->ctx, f->op, NULL, f->err), 0,
		      f->err);
		free(old);
	}
}

/* NULL and "" differ: a record without detail given an empty one. */
static void test_tamper_null_vs_empty(void **state)
{
	struct fx *f = *state;

	/* Record 2 is the domain of A, added without detail. */
	assert_int_equal(fx_sql_int(f, -1, "SELECT detail IS NULL FROM audit"
					   " WHERE seq = 2"),
			 1);
	fx_sql(f, "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET detail = '' WHERE seq = 2");
	expect_tamper(f, "audit.altered", 2);
}

/* The message names the record; check with a seq of two digits too. */
static void test_tamper_alter_late(void **state)
{
	struct fx *f = *state;
	int i;

	for (i = 0; i < 10; i++)
		TH_RC(mssl_topup(f->ctx, f->op, FX_A, 1, NULL, NULL, f->err), 0,
		      f->err);
	fx_sql(f, "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET outcome = 'refused' WHERE seq = 12");
	expect_tamper(f, "audit.altered", 12);
	assert_false(fx_names_record("audit record 12 was altered", 1));
}

/* (b) A middle record removed: caught where it is missing. */
static void test_tamper_delete_middle(void **state)
{
	struct fx *f = *state;

	fx_sql(f, "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE seq = 3");
	expect_tamper(f, "audit.gap", 3);
}

/* (c) The newest record removed: the head still names it. */
static void test_tamper_delete_newest(void **state)
{
	struct fx *f = *state;
	int64_t head = fx_audit_head(f);

	fx_sql(f, "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE seq = %lld",
	       (long long)head);
	expect_tamper(f, "audit.head", head);
}

/* (c') The head itself rewritten to match a truncated log is caught too. */
static void test_tamper_head_altered(void **state)
{
	struct fx *f = *state;
	int64_t head = fx_audit_head(f);

	fx_sql(f, "UPDATE meta SET value = '%lld ' || substr(value, instr(value, ' ') + 1)"
		  " WHERE key = 'audit_head'",
	       (long long)(head - 1));
	fx_sql(f, "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE seq = %lld",
	       (long long)head);
	/* The hash in the head is still that of the removed record. */
	expect_tamper(f, "audit.head", head - 1);
}

/*
 * A store written before the head became one meta row keeps it in two
 * (audit_head_seq, audit_head_hash): the chain continues from them, the
 * next append writes the one row and removes the two, and the log still
 * verifies; a broken old head is still caught.
 */
static void test_head_legacy_rows(void **state)
{
	struct fx *f = *state;
	int64_t head = fx_audit_head(f), n = 0;

	fx_sql(f, "INSERT INTO meta(key, value) SELECT 'audit_head_seq',"
		  " substr(value, 1, instr(value, ' ') - 1) FROM meta"
		  " WHERE key = 'audit_head';"
		  "INSERT INTO meta(key, value) SELECT 'audit_head_hash',"
		  " substr(value, instr(value, ' ') + 1) FROM meta"
		  " WHERE key = 'audit_head';"
		  "DELETE FROM meta WHERE key = 'audit_head'");
	assert_int_equal(fx_audit_head(f), head);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 1, NULL, NULL, f->err), 0,
	      f->err);
	assert_int_equal(fx_sql_int(f, -1, "SELECT count(*) FROM meta WHERE"
					   " key LIKE 'audit_head_%%'"),
			 0);
	assert_int_equal(fx_sql_int(f, -1, "SELECT count(*) FROM meta WHERE"
					   " key = 'audit_head'"),
			 1);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	assert_true(n > head);
	/* The newest record removed and the old rows moved back: caught. */
	head = fx_audit_head(f);
	fx_sql(f, "INSERT INTO meta(key, value) SELECT 'audit_head_seq',"
		  " substr(value, 1, instr(value, ' ') - 1) - 1 FROM meta"
		  " WHERE key = 'audit_head';"
		  "INSERT INTO meta(key, value) SELECT 'audit_head_hash',"
		  " substr(value, instr(value, ' ') + 1) FROM meta"
		  " WHERE key = 'audit_head';"
		  "DELETE FROM meta WHERE key = 'audit_head';"
		  "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE seq = %lld",
	       (long long)head);
	expect_tamper(f, "audit.head", head - 1);
}

/* (d) Two records swapped: caught at the first place that moved. */
static void test_tamper_reorder(void **state)
{
	struct fx *f = *state;

	fx_sql(f, "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET seq = -2 WHERE seq = 2;"
		  "UPDATE audit SET seq = 2 WHERE seq = 4;"
		  "UPDATE audit SET seq = 4 WHERE seq = -2;");
	expect_tamper(f, "audit.link", 2);
}

/* Read record 'seq' straight from the file. */
struct raw {
	struct mssl_audit_rec r;
	char *s[8]; /* owns the strings of r */
};

static void raw_read(struct fx *f, int64_t seq, struct raw *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char **dst[8] = {
		&out->r.actor_role, &out->r.actor_name, &out->r.account_id,
		&out->r.remote,	    &out->r.action,	&out->r.object,
		&out->r.outcome,    &out->r.detail,
	};
	int i;

	memset(out, 0, sizeof(*out));
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "SELECT seq, time, actor_role, actor_name,"
				   " account_id, remote, action, object,"
				   " outcome, detail, prev_hash, hash"
				   " FROM audit WHERE seq = ?1",
				   -1, &s, NULL),
		SQLITE_OK);
	sqlite3_bind_int64(s, 1, seq);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	out->r.seq = sqlite3_column_int64(s, 0);
	out->r.time = sqlite3_column_int64(s, 1);
	for (i = 0; i < 8; i++) {
		const char *v = (const char *)sqlite3_column_text(s, 2 + i);

		out->s[i] = v ? strdup(v) : NULL;
		*dst[i] = out->s[i];
	}
	assert_int_equal(sqlite3_column_bytes(s, 10), 32);
	memcpy(out->r.prev_hash, sqlite3_column_blob(s, 10), 32);
	assert_int_equal(sqlite3_column_bytes(s, 11), 32);
	memcpy(out->r.hash, sqlite3_column_blob(s, 11), 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void raw_free(struct raw *r)
{
	int i;

	for (i = 0; i < 8; i++)
		free(r->s[i]);
}

/*
 * (e) A record changed and its hash recomputed correctly: the record
 * itself passes, the next one no longer follows it.
 */
static void test_tamper_rehash(void **state)
{
	struct fx *f = *state;
	struct raw raw;
	uint8_t h[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	raw_read(f, 3, &raw);
	/* The test's reading of the record is the library's. */
	assert_int_equal(mssl__audit_hash(&raw.r, h), 0);
	assert_memory_equal(h, raw.r.hash, 32);
	/* Top up 100 cert-years instead of 10, as far as the log says. */
	raw.r.detail = "top-up +100 balance 100 entry 1";
	assert_int_equal(mssl__audit_hash(&raw.r, h), 0);
	assert_memory_not_equal(h, raw.r.hash, 32);

	fx_sql(f, "DROP TRIGGER audit_no_update");
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "UPDATE audit SET detail = ?1,"
					    " hash = ?2 WHERE seq = 3",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(s, 1, raw.r.detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, h, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);
	raw_free(&raw);

	expect_tamper(f, "audit.link", 4);
}

/* Append F(s) (4-byte big-endian length, the bytes; NULL: ff ff ff ff). */
static void canon_put(FILE *fp, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0xffffffffu;

	fputc((int)(n >> 24) & 0xff, fp);
	fputc((int)(n >> 16) & 0xff, fp);
	fputc((int)(n >> 8) & 0xff, fp);
	fputc((int)n & 0xff, fp);
	if (s)
		fwrite(s, 1, n, fp);
}

/*
 * The record hash is SHA-256 over prev_hash and the canonical form of
 * doc/ARCHITECTURE.md, as openssl computes it from bytes this test writes
 * itself: for a short record (laid out on the stack) and for one whose
 * detail is too long for that (laid out on the heap).
 */
static void test_hash_known_answer(void **state)
{
	static const size_t detail_len[] = { 20, 5000 };
	char *dir = th_mkdtemp(), *path = NULL, *detail, line[256];
	struct mssl_audit_rec r;
	uint8_t h[32];
	char hex[65];
	size_t i, k;
	FILE *fp;

	(void)state;
	assert_non_null(dir);
	assert_true(asprintf(&path, "%s/canon", dir) > 0);
	for (k = 0; k < 2; k++) {
		detail = malloc(detail_len[k] + 1);
		assert_non_null(detail);
		for (i = 0; i < detail_len[k]; i++)
			detail[i] = (char)('a' + i % 26);
		detail[i] = '\0';
		memset(&r, 0, sizeof(r));
		for (i = 0; i < 32; i++)
			r.prev_hash[i] = (uint8_t)(i * 7);
		r.seq = 42;
		r.time = 1764000000;
		r.actor_role = "manager";
		r.actor_name = "王小明";
		r.account_id = "70759028-01";
		r.remote = NULL;
		r.action = "request.check";
		r.object = "";
		r.outcome = "ok";
		r.detail = detail;
		assert_int_equal(mssl__audit_hash(&r, h), 0);
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);

		fp = fopen(path, "wb");
		assert_non_null(fp);
		fwrite(r.prev_hash, 1, 32, fp);
		canon_put(fp, "mssl-audit-v1");
		canon_put(fp, "42");
		canon_put(fp, "1764000000");
		canon_put(fp, r.actor_role);
		canon_put(fp, r.actor_name);
		canon_put(fp, r.account_id);
		canon_put(fp, r.remote);
		canon_put(fp, r.action);
		canon_put(fp, r.object);
		canon_put(fp, r.outcome);
		canon_put(fp, r.detail);
		fclose(fp);
		assert_int_equal(th_system("openssl dgst -sha256 -r '%s'"
					   " >'%s.sum'",
					   path, path),
				 0);
		assert_true(snprintf(line, sizeof(line), "%s.sum", path) > 0);
		fp = fopen(line, "r");
		assert_non_null(fp);
		assert_non_null(fgets(line, sizeof(line), fp));
		fclose(fp);
		if (strncmp(line, hex, 64) != 0)
			fail_msg("record hash %s, openssl says %.64s", hex,
				 line);
		free(detail);
	}
	th_rmrf(dir);
	free(dir);
	free(path);
}

/* The store refuses to rewrite history itself (the triggers). */
static void test_append_only(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 1",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE audit SET outcome = 'ok'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	sqlite3_close(db);
	TH_RC(mssl_audit_verify(f->ctx, f->op, NULL, f->err), 0, f->err);
}

/* ---------------------------------------------------------------------
 * A failed audit write fails the operation
 * ------------------------------------------------------------------ */

struct logged {
	int errors;
	char last[512];
};

static void capture_log(void *ud, int level, const char *msg)
{
	struct logged *l = ud;

	if (level == MSSL_LOG_ERROR) {
		l->errors++;
		snprintf(l->last, sizeof(l->last), "%s", msg);
	}
}

static void test_audit_write_failure(void **state)
{
	struct fx *f = *state;
	mssl_account_spec spec = fx_spec(FX_NEW);
	struct logged log = { 0 };
	int64_t head = fx_audit_head(f), n;
	int64_t entries = fx_sql_int(f, -1, "SELECT count(*) FROM ledger");
	char *before = fx_snapshot(f), *after;
	int64_t bal = -1;

	mssl_ctx_set_log(f->ctx, capture_log, &log);
	fx_sql(f, "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit"
		  " BEGIN SELECT RAISE(ABORT, 'no'); END;");

	TH_RC(mssl_topup(f->ctx, f->op, FX_A, 5, "lost sale", &bal, f->err),
	      MSSL_EAUDIT, f->err);
	assert_string_equal(mssl_error_id(f->err), "audit.write");
	assert_true(mssl_error_message(f->err, MSSL_LANG_EN)[0]);
	assert_true(mssl_error_message(f->err, MSSL_LANG_ZH_TW)[0]);
	assert_int_equal(fx_balance(f, FX_A), 10);
	assert_int_equal(fx_sql_int(f, -1, "SELECT count(*) FROM ledger"),
			 entries);

	/* Nor any other change. */
	TH_RC(mssl_account_create(f->ctx, f->op, &spec, f->err), MSSL_EAUDIT,
	      f->err);
	TH_RC(mssl_domain_add(f->ctx, f->op, FX_A, "mis.twca.com.tw", 0,
			      f->err),
	      MSSL_EAUDIT, f->err);
	TH_RC(mssl_adjust(f->ctx, f->op, FX_A, -1, "fix", NULL, f->err),
	      MSSL_EAUDIT, f->err);
	/* A read is an operation too: unrecorded, it does not happen. */
	TH_RC(mssl_ledger_list(f->ctx, f->aud_a, FX_A, 1, 0, 0, ignore_ledger,
			       NULL, f->err),
	      MSSL_EAUDIT, f->err);
	after = fx_snapshot(f);
	assert_string_equal(before, after);
	free(after);

	/*
	 * A refusal stays a refusal, and the lost record is reported in the
	 * log.
	 */
	TH_RC(mssl_topup(f->ctx, f->mgr_a, FX_A, 5, NULL, NULL, f->err),
	      MSSL_EPERM, f->err);
	assert_true(log.errors > 0);
	assert_non_null(strstr(log.last, "ledger.topup"));

	/* Nothing was half-written: the log is intact and as long as before. */
	fx_sql(f, "DROP TRIGGER audit_refuse");
	assert_int_equal(fx_audit_head(f), head);
	TH_RC(mssl_audit_verify(f->ctx, f->op, &n, f->err), 0, f->err);
	assert_int_equal(n, head);
	after = fx_snapshot(f);
	assert_string_equal(before, after);
	free(after);
	free(before);
	mssl_ctx_set_log(f->ctx, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known_answer),
		cmocka_unit_test_setup_teardown(test_every_operation_recorded,
						fx_setup_empty, fx_teardown),
		cmocka_unit_test_setup_teardown(test_verify_untouched,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_verify_empty,
						fx_setup_empty, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_alter_field,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_null_vs_empty,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_alter_late,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_delete_middle,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_delete_newest,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_head_altered,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_head_legacy_rows,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_reorder, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_rehash, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_append_only, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_write_failure,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
