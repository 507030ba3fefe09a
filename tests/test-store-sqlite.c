/*
 * store-sqlite's own tests: configuration, schema versions, what the file
 * holds, locking across processes.  The store contract (store-contract.c)
 * covers the operations; these tests may reach into the file with SQLite.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testhelp.h"
#include "internal.h"
#include "ctx.h"
#include "mssl/plugin.h"

struct fx {
	char *dir;
	char *db; /* dir/mssl.db, as th_write_config names it */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = th_mkdtemp();
	assert_true(asprintf(&f->db, "%s/mssl.db", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	th_rmrf(f->dir);
	free(f->dir);
	free(f->db);
	free(f);
	return 0;
}

/* Open a context on dir with 'extra' in [store-sqlite]; returns its rc. */
static int try_open(struct fx *f, const char *extra, mssl_ctx **ctx,
		    mssl_error *err)
{
	char *cfg = th_write_config(f->dir, NULL, extra);
	int rc = mssl_ctx_open_file(cfg, ctx, err);

	free(cfg);
	return rc;
}

static mssl_ctx *must_open(struct fx *f, const char *extra)
{
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;

	TH_RC(try_open(f, extra, &ctx, err), 0, err);
	mssl_error_free(err);
	return ctx;
}

/* The store's ops and a new connection of ctx. */
static const struct mssl_store_ops *store_conn(mssl_ctx *ctx, void **conn)
{
	const struct mssl_store_ops *ops = NULL;
	void *state = NULL;

	assert_int_equal(mssl__ctx_store(ctx, &ops, &state), 0);
	assert_int_equal(ops->open(state, conn), 0);
	return ops;
}

/* Run SQL on the store file directly, as an administrator (or attacker)
 * would. */
static void sql(struct fx *f, const char *text)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	rc = sqlite3_exec(db, text, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		print_error("%s: %s\n", text, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
	assert_int_equal(rc, SQLITE_OK);
}

/* Like sql() but expecting failure; returns SQLite's message. */
static int sql_fails(struct fx *f, const char *text, char *msg, size_t n)
{
	sqlite3 *db = NULL;
	char *m = NULL;
	int rc;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	rc = sqlite3_exec(db, text, NULL, NULL, &m);
	snprintf(msg, n, "%s", m ? m : "");
	sqlite3_free(m);
	sqlite3_close(db);
	return rc != SQLITE_OK;
}

/* The single integer 'query' returns, read from the file directly. */
static int64_t sql_int(struct fx *f, const char *query)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, query, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", query, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The single text 'query' returns (empty for NULL) into buf[n]. */
static void sql_text(const char *db_path, const char *query, char *buf,
		     size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const unsigned char *v;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, query, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", query, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_text(s, 0);
	snprintf(buf, n, "%s", v ? (const char *)v : "");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* ---------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------ */

static void expect_config_error(struct fx *f, const char *extra,
				const char *key)
{
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;

	TH_RC(try_open(f, extra, &ctx, err), MSSL_ECONFIG, err);
	assert_null(ctx);
	if (!strstr(mssl_error_message(err, MSSL_LANG_EN), key))
		fail_msg("message does not name '%s': %s", key,
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
}

static void test_config_bad(void **state)
{
	struct fx *f = *state;

	expect_config_error(f, "synchronous = bogus\n", "synchronous");
	expect_config_error(f, "synchronous = \n", "synchronous");
	expect_config_error(f, "busy_timeout_ms = -1\n", "busy_timeout_ms");
	expect_config_error(f, "busy_timeout_ms = 600001\n",
			    "busy_timeout_ms");
	expect_config_error(f, "busy_timeout_ms = 12abc\n", "busy_timeout_ms");
	expect_config_error(f, "busy_timeout_ms = 99999999999999999999\n",
			    "busy_timeout_ms");
	expect_config_error(f, "busy_timeout_ms = \n", "busy_timeout_ms");
}

static void test_config_missing_path(void **state)
{
	struct fx *f = *state;
	const char *plugins = getenv("MSSL_PLUGIN_BUILDDIR");
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	char *text = NULL, *cfg;

	assert_non_null(plugins);
	assert_true(asprintf(&text, "[mssl]\nplugin_dir = %s\n"
			     "store = store-sqlite\n\n[store-sqlite]\n"
			     "synchronous = normal\n", plugins) > 0);
	cfg = th_write_file(f->dir, "nopath.conf", text);
	TH_RC(mssl_ctx_open_file(cfg, &ctx, err), MSSL_ECONFIG, err);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN), "path"));
	mssl_error_free(err);
	free(cfg);
	free(text);
}

static void test_config_good(void **state)
{
	struct fx *f = *state;
	static const char *const good[] = {
		"synchronous = off\nbusy_timeout_ms = 0\n",
		"synchronous = normal\nbusy_timeout_ms = 600000\n",
		"synchronous = extra\n",
		"synchronous = FULL\nbusy_timeout_ms = 250\n",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		mssl_ctx_free(must_open(f, good[i]));
}

/* The store holds hashes of sessions and challenges: owner only. */
static void test_file_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;

	mssl_ctx_free(must_open(f, NULL));
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
}

/* ---------------------------------------------------------------------
 * Schema versions
 * ------------------------------------------------------------------ */

static int version_of(mssl_ctx *ctx)
{
	const struct mssl_store_ops *ops;
	void *conn = NULL;
	int v = -1;

	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->schema_version(conn, &v), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	return v;
}

static void test_schema_newer_refused(void **state)
{
	struct fx *f = *state;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = must_open(f, NULL);

	mssl_ctx_free(ctx);
	ctx = NULL;
	sql(f, "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
	TH_RC(try_open(f, NULL, &ctx, err), MSSL_ESCHEMA, err);
	assert_null(ctx);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN), "999"));
	mssl_error_free(err);
}

static int count_cb(void *ud, const struct mssl_account_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

static void add_account(const struct mssl_store_ops *ops, void *conn,
			const char *id)
{
	struct mssl_account_rec r = {
		.id = id,
		.org_name_en = "Example Co., Ltd.",
		.products = MSSL_PRODUCT_SSL,
		.status = MSSL_ACCOUNT_ACTIVE,
		.created = 1700000000,
	};

	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->account_insert(conn, &r), 0);
	assert_int_equal(ops->commit(conn), 0);
}

/* A file at version 0 (only 'meta') is brought to the current version. */
static void test_migrate_from_zero(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx;
	void *conn = NULL;
	int n = 0;

	sql(f, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	       "INSERT INTO meta VALUES ('schema_version', '0');");
	ctx = must_open(f, NULL);
	assert_true(version_of(ctx) >= 1);
	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->account_each(conn, count_cb, &n), 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(n, 1);
	ops->close(conn);
	mssl_ctx_free(ctx);
}

static void ledger_add(const struct mssl_store_ops *ops, void *conn,
		       const char *id, int kind, int64_t delta, int64_t balance)
{
	struct mssl_ledger_rec r = {
		.account_id = id,
		.time = 1700000000,
		.kind = kind,
		.delta = delta,
		.balance_after = balance,
		.actor = "operator:alice",
	};

	assert_int_equal(ops->ledger_insert(conn, &r, NULL), 0);
}

static int ledger_count_cb(void *ud, const struct mssl_ledger_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

static int blocked_cb(void *ud, const struct mssl_blocked_key_rec *r)
{
	memcpy(ud, r->spki_sha256, 32);
	return 0;
}

/* What step 6 did, undone: the schema as version 5 left it. */
#define UNDO_STEP_6                                                          \
	"DROP INDEX domains_name_account;"                                   \
	"CREATE INDEX domains_name ON domains(name);"                        \
	"UPDATE meta SET value = '5' WHERE key = 'schema_version';"

/* What steps 6 and 5 did, undone: the schema as version 4 left it. */
#define UNDO_STEP_5                                                          \
	UNDO_STEP_6                                                          \
	"DROP TABLE cert_reminders;"                                         \
	"UPDATE meta SET value = '4' WHERE key = 'schema_version';"

/* What steps 5 and 4 did, undone: the schema as version 3 left it. */
#define UNDO_STEP_4                                                          \
	UNDO_STEP_5                                                          \
	"DROP TABLE login_failures;"                                         \
	"DROP INDEX sessions_card;"                                          \
	"DROP TRIGGER persons_status_insert;"                                \
	"DROP TRIGGER persons_status_update;"                                \
	"DROP INDEX ledger_cert;"                                            \
	"UPDATE meta SET value = '3' WHERE key = 'schema_version';"

/* What step 3 did, undone: the schema as version 2 left it. */
#define UNDO_STEP_3                                                          \
	"DROP INDEX certificates_idempotency;"                               \
	"DROP INDEX certificates_cn;"                                        \
	"DROP INDEX certificates_account_created;"                           \
	"DROP INDEX certificates_account_state;"                             \
	"DROP INDEX certificates_not_after;"                                 \
	"DROP INDEX certificates_renewal;"                                   \
	"ALTER TABLE certificates DROP COLUMN idempotency_key;"              \
	"CREATE INDEX certificates_account ON certificates(account_id, cn);" \
	"DROP TABLE cn_terms;"                                               \
	"DROP TABLE counters;"                                               \
	"DROP TABLE mail_outbox;"                                            \
	"UPDATE meta SET value = '2' WHERE key = 'schema_version';"

/* Tables, indexes and triggers of the file, as one string. */
#define SCHEMA_NAMES                                                         \
	"SELECT group_concat(x, ' ') FROM (SELECT type || ':' || name AS x"  \
	" FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY x)"

/*
 * The tables, indexes and triggers of f's file, into migrated[n], must be
 * those of a store made new.
 */
static void schema_as_new(struct fx *f, char *migrated, size_t n)
{
	char fresh[4096], *fresh_db = NULL, *fresh_dir = th_mkdtemp();

	sql_text(f->db, SCHEMA_NAMES, migrated, n);
	assert_non_null(fresh_dir);
	mssl_ctx_free(th_ctx_open(fresh_dir, NULL));
	assert_true(asprintf(&fresh_db, "%s/mssl.db", fresh_dir) > 0);
	sql_text(fresh_db, SCHEMA_NAMES, fresh, sizeof(fresh));
	th_rmrf(fresh_dir);
	free(fresh_dir);
	free(fresh_db);
	assert_true(strlen(fresh) < sizeof(fresh) - 1);
	assert_string_equal(migrated, fresh);
}

/* The login rows make_v3_store leaves: what the tests look for. */
#define V3_PERSON 1
#define V3_CARD 1
#define V3_CERT_BYTE 0x3c /* the card certificate's hash: 32 of them */
#define V3_TOKEN_BYTE 0x7b /* both sessions' token hashes begin so */
#define V3_NONCE_BYTE 0x4e /* the challenge's nonce hash */
#define V3_CODE_BYTE 0x2d /* the unlock approval's code hash */

/*
 * A store as version 3 left it: created by this plugin, then set back to
 * version 3 without what step 4 adds, holding an account, its ledger, a
 * pending certificate ("0a"), a blocked key (0x5a...), and the login
 * rows of step 1's tables, written with the operations that arrived
 * with step 4: a person, their card, two sessions of the card, a
 * challenge and an unlock approval.  Returns the version a new store
 * has.
 */
static int make_v3_store(struct fx *f)
{
	struct mssl_blocked_key_rec k = { .added = 1700000000,
					  .source = "operator" };
	struct mssl_cert_rec r = {
		.serial = "0a",
		.account_id = "70759028-01",
		.cn = "www.example.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.years = 1,
		.revoke_reason = -1,
		.created = 1700000000,
	};
	static const uint8_t card_der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct mssl_person_rec p = {
		.account_id = "70759028-01",
		.name = "Wang",
		.email = "wang@example.com.tw",
		.role = "manager",
		.status = "active",
		.created = 1700000000,
	};
	struct mssl_card_rec c = {
		.person_id = V3_PERSON,
		.token_serial = "0123456789abcdef",
		.cert_der = card_der,
		.cert_len = sizeof(card_der),
		.state = "active",
		.created = 1700000000,
	};
	struct mssl_session_rec s = { .person_id = V3_PERSON,
				      .card_id = V3_CARD,
				      .created = 1700000000,
				      .last_seen = 1700000000,
				      .expires = 1700003600 };
	struct mssl_challenge_rec ch = { .account_id = "70759028-01",
					 .created = 1700000000,
					 .expires = 1700000120 };
	struct mssl_unlock_rec u = { .card_id = V3_CARD,
				     .created = 1700000000,
				     .expires = 1700086400,
				     .approved_by = "operator:alice",
				     .verified_with = "supervisor" };
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	void *conn = NULL;
	int64_t person = 0, card = 0;
	int current;

	current = version_of(ctx);
	assert_true(current >= 4);
	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	memset(k.spki_sha256, 0x5a, 32);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	ledger_add(ops, conn, "70759028-01", MSSL_LEDGER_TOPUP, 10, 10);
	ledger_add(ops, conn, "70759028-01", MSSL_LEDGER_CHARGE, -1, 9);
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	assert_int_equal(ops->blocked_key_insert(conn, &k), 0);
	assert_int_equal(ops->person_insert(conn, &p, &person), 0);
	assert_int_equal(person, V3_PERSON);
	memset(c.cert_sha256, V3_CERT_BYTE, 32);
	assert_int_equal(ops->card_insert(conn, &c, &card), 0);
	assert_int_equal(card, V3_CARD);
	memset(s.token_hash, V3_TOKEN_BYTE, 32);
	assert_int_equal(ops->session_insert(conn, &s), 0);
	s.token_hash[31] = 0;
	assert_int_equal(ops->session_insert(conn, &s), 0);
	memset(ch.nonce_hash, V3_NONCE_BYTE, 32);
	assert_int_equal(ops->challenge_insert(conn, &ch), 0);
	memset(u.code_hash, V3_CODE_BYTE, 32);
	assert_int_equal(ops->unlock_insert(conn, &u, NULL), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	sql(f, UNDO_STEP_4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('login_failures',"
				    " 'sessions_card', 'persons_status_insert',"
				    " 'persons_status_update', 'ledger_cert')"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 2);
	return current;
}

/*
 * A store as version 2 left it: a version 3 store without what step 3
 * adds.  Returns the version a new store has.
 */
static int make_v2_store(struct fx *f)
{
	int current = make_v3_store(f);

	sql(f, UNDO_STEP_3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('cn_terms', 'counters',"
				    " 'mail_outbox', 'ledger_cert')"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*)"
				    " FROM pragma_table_info('certificates')"
				    " WHERE name = 'idempotency_key'"), 0);
	return current;
}

/*
 * A store as version 1 left it: a version 2 store without the table step
 * 2 adds.  Returns the version a new store has.
 */
static int make_v1_store(struct fx *f)
{
	int current = make_v2_store(f);

	sql(f, "UPDATE meta SET value = '1' WHERE key = 'schema_version';"
	       "DROP TABLE blocked_keys;");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'blocked_keys'"), 0);
	return current;
}

/* Version 1 is brought to the current version and keeps its data. */
static void test_migrate_from_v1(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	struct mssl_blocked_key_rec k = { .added = 1700000000,
					  .source = "operator" };
	uint8_t got[32] = { 0 };
	void *conn = NULL;
	mssl_ctx *ctx;
	int64_t balance = -1;
	int current, n = 0, m = 0;
	char msg[256];

	current = make_v1_store(f);
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), current);

	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->account_get(conn, "70759028-01", count_cb, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops->ledger_balance(conn, "70759028-01", &balance),
			 0);
	assert_int_equal(balance, 9);
	assert_int_equal(ops->ledger_each(conn, "70759028-01", 0, 0, 0,
					  ledger_count_cb, &m), 0);
	assert_int_equal(m, 2);
	assert_int_equal(ops->commit(conn), 0);

	/* The table step 2 adds works. */
	memset(k.spki_sha256, 0x6b, 32);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->blocked_key_insert(conn, &k), 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->blocked_key_get(conn, k.spki_sha256, blocked_cb,
					      got), 0);
	assert_memory_equal(got, k.spki_sha256, 32);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	/* A key hash is 32 bytes, whoever writes it. */
	assert_true(sql_fails(f, "INSERT INTO blocked_keys"
				 " VALUES (zeroblob(31), 1, 'x', NULL)",
			      msg, sizeof(msg)));
	assert_non_null(strstr(msg, "CHECK"));
}

/*
 * A migration is all or nothing: when step 2 fails (its table is already
 * there), the file stays at version 1 with its data, and opens once the
 * cause is removed.
 */
static void test_migration_atomic(void **state)
{
	struct fx *f = *state;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int current;

	current = make_v1_store(f);
	sql(f, "CREATE TABLE blocked_keys (x INTEGER)");
	TH_RC(try_open(f, NULL, &ctx, err), MSSL_ESTORE, err);
	assert_null(ctx);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "blocked_keys"));
	mssl_error_free(err);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger"), 2);

	sql(f, "DROP TABLE blocked_keys");
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	mssl_ctx_free(ctx);
}

struct cert_seen {
	int calls, key_null;
	char serial[32], state[16], key[32];
	size_t der_len;
};

static int cert_seen_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct cert_seen *c = ud;

	c->calls++;
	snprintf(c->serial, sizeof(c->serial), "%s", r->serial);
	snprintf(c->state, sizeof(c->state), "%s", r->state);
	c->key_null = r->idempotency_key == NULL;
	snprintf(c->key, sizeof(c->key), "%s",
		 r->idempotency_key ? r->idempotency_key : "");
	c->der_len = r->der_len;
	return 0;
}

static int cert_count_cb(void *ud, const struct mssl_cert_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

static int term_seen_cb(void *ud, const struct mssl_term_rec *r)
{
	*(int64_t *)ud = r->paid_until;
	return 0;
}

static int mail_count_cb(void *ud, const struct mssl_mail_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

/*
 * Version 2 is brought to the current version: its data stays, the new
 * column, tables and indexes are those of a new store, and the new
 * operations work on the old rows.
 */
static void test_migrate_from_v2(void **state)
{
	struct fx *f = *state;
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct mssl_cert_rec r = {
		.serial = "0b",
		.account_id = "70759028-01",
		.cn = "www.example.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.years = 1,
		.revoke_reason = -1,
		.created = 1700000001,
		.idempotency_key = "k1",
	};
	struct mssl_term_rec t = { "70759028-01", "www.example.com.tw",
				   1700000000, 1731536000 };
	struct mssl_mail_rec m = { .created = 1700000000,
				   .to_addr = "ops@example.com.tw",
				   .subject = "s", .body = "b",
				   .next_attempt = 1700000000 };
	struct mssl_cert_filter flt = { .account_id = "70759028-01" };
	const struct mssl_store_ops *ops;
	struct cert_seen c = { 0 };
	uint8_t got[32] = { 0 }, k[32];
	char migrated[4096];
	int64_t balance = -1, v = 0, paid = 0;
	int current, n = 0, mails = 0;
	void *conn = NULL;
	mssl_ctx *ctx;

	current = make_v2_store(f);
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), current);

	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->account_get(conn, "70759028-01", count_cb, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops->ledger_balance(conn, "70759028-01", &balance),
			 0);
	assert_int_equal(balance, 9);
	memset(k, 0x5a, 32);
	assert_int_equal(ops->blocked_key_get(conn, k, blocked_cb, got), 0);
	assert_memory_equal(got, k, 32);
	/* The old certificate has no key. */
	assert_int_equal(ops->cert_get(conn, "0a", cert_seen_cb, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.state, "pending");
	assert_true(c.key_null);
	assert_int_equal(ops->commit(conn), 0);

	/* The new operations, on old rows and new. */
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	r.serial = "0c";
	assert_int_equal(ops->cert_insert(conn, &r), MSSL_EEXIST);
	assert_int_equal(ops->rollback(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	r.serial = "0b";
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	assert_int_equal(ops->cert_finish(conn, "0a", "7f0a", "issued", der,
					  sizeof(der), 1700000000,
					  1731536000), 0);
	assert_int_equal(ops->term_put(conn, &t), 0);
	assert_int_equal(ops->counter_next(conn, "crl:test", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ops->mail_insert(conn, &m, NULL), 0);
	assert_int_equal(ops->commit(conn), 0);

	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(ops->cert_by_key(conn, "70759028-01", "k1",
					  cert_seen_cb, &c), 0);
	assert_string_equal(c.serial, "0b");
	assert_string_equal(c.key, "k1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(ops->cert_get(conn, "7f0a", cert_seen_cb, &c), 0);
	assert_string_equal(c.state, "issued");
	assert_int_equal(c.der_len, sizeof(der));
	n = 0;
	assert_int_equal(ops->cert_each(conn, &flt, cert_count_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ops->term_get(conn, "70759028-01",
				       "www.example.com.tw", term_seen_cb,
				       &paid), 0);
	assert_int_equal(paid, 1731536000);
	assert_int_equal(ops->mail_due(conn, 1700000000, 0, mail_count_cb,
				       &mails), 0);
	assert_int_equal(mails, 1);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	/* The same tables, indexes and triggers as a store made new. */
	schema_as_new(f, migrated, sizeof(migrated));
	assert_non_null(strstr(migrated, "index:certificates_idempotency"));
	assert_null(strstr(migrated, "index:certificates_account "));
}

/*
 * Step 3 is all or nothing too: when it fails half way (a table it
 * creates is there), the certificates table has not gained its column.
 */
static void test_migration_atomic_v3(void **state)
{
	struct fx *f = *state;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int current;

	current = make_v2_store(f);
	sql(f, "CREATE TABLE mail_outbox (x INTEGER)");
	TH_RC(try_open(f, NULL, &ctx, err), MSSL_ESTORE, err);
	assert_null(ctx);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "mail_outbox"));
	mssl_error_free(err);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*)"
				    " FROM pragma_table_info('certificates')"
				    " WHERE name = 'idempotency_key'"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('cn_terms', 'counters',"
				    " 'certificates_cn')"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger"), 2);

	sql(f, "DROP TABLE mail_outbox");
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	mssl_ctx_free(ctx);
}

static int person_status_cb(void *ud, const struct mssl_person_rec *r)
{
	snprintf(ud, 16, "%s", r->status);
	return 0;
}

static int card_id_cb(void *ud, const struct mssl_card_rec *r)
{
	*(int64_t *)ud = r->id;
	return 0;
}

static int session_card_cb(void *ud, const struct mssl_session_rec *r)
{
	*(int64_t *)ud = r->card_id;
	return 0;
}

static int challenge_account_cb(void *ud, const struct mssl_challenge_rec *r)
{
	snprintf(ud, 16, "%s", r->account_id);
	return 0;
}

static int unlock_used_cb(void *ud, const struct mssl_unlock_rec *r)
{
	*(int *)ud = r->used;
	return 0;
}

/*
 * Version 3 is brought to the current version: the login rows it holds
 * (written before step 4 existed) are read by the new operations, the
 * failure table, the session index and the person status guard work,
 * and the schema is that of a new store.
 */
static void test_migrate_from_v3(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	uint8_t sha[32], token[32], nonce[32], code[32];
	char status[16] = "", account[16] = "";
	char migrated[4096];
	int64_t card = 0, on_card = 0, count = -1, balance = -1;
	int current, used = -1;
	void *conn = NULL;
	mssl_ctx *ctx;

	current = make_v3_store(f);
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), current);
	memset(sha, V3_CERT_BYTE, 32);
	memset(token, V3_TOKEN_BYTE, 32);
	memset(nonce, V3_NONCE_BYTE, 32);
	memset(code, V3_CODE_BYTE, 32);

	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->ledger_balance(conn, "70759028-01", &balance),
			 0);
	assert_int_equal(balance, 9);
	assert_int_equal(ops->person_get(conn, V3_PERSON, person_status_cb,
					 status), 0);
	assert_string_equal(status, "active");
	assert_int_equal(ops->card_by_cert(conn, sha, card_id_cb, &card), 0);
	assert_int_equal(card, V3_CARD);
	assert_int_equal(ops->session_get(conn, token, session_card_cb,
					  &on_card), 0);
	assert_int_equal(on_card, V3_CARD);
	assert_int_equal(ops->unlock_find(conn, V3_CARD, code, unlock_used_cb,
					  &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(ops->commit(conn), 0);

	/* What step 4 adds, on the old rows. */
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->challenge_take(conn, nonce, challenge_account_cb,
					     account), 0);
	assert_string_equal(account, "70759028-01");
	assert_int_equal(ops->login_failure_add(conn, "account:70759028-01",
						1700000000), 0);
	assert_int_equal(ops->login_failure_count(conn, "account:70759028-01",
						  0, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ops->session_delete_card(conn, V3_CARD), 0);
	assert_int_equal(ops->person_set_status(conn, V3_PERSON, "suspended"),
			 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->person_set_status(conn, V3_PERSON, "gone"),
			 MSSL_ESTORE);
	assert_int_equal(ops->rollback(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->challenge_take(conn, nonce, challenge_account_cb,
					     account), MSSL_ENOENT);
	assert_int_equal(ops->rollback(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM persons"
				    " WHERE status = 'suspended'"), 1);

	/* The same tables, indexes and triggers as a store made new. */
	schema_as_new(f, migrated, sizeof(migrated));
	assert_non_null(strstr(migrated, "table:login_failures"));
	assert_non_null(strstr(migrated, "index:login_failures_key"));
	assert_non_null(strstr(migrated, "index:sessions_card"));
	assert_non_null(strstr(migrated, "trigger:persons_status_update"));
}

/*
 * Step 4 is all or nothing: when its last statement fails (a trigger of
 * that name is there), the failure table and the session index it made
 * first are gone again and the file stays at version 3.
 */
static void test_migration_atomic_v4(void **state)
{
	struct fx *f = *state;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int current;

	current = make_v3_store(f);
	sql(f, "CREATE TRIGGER persons_status_update AFTER UPDATE ON persons"
	       " BEGIN SELECT 1; END;");
	TH_RC(try_open(f, NULL, &ctx, err), MSSL_ESTORE, err);
	assert_null(ctx);
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "persons_status_update"));
	mssl_error_free(err);
	assert_int_equal(sql_int(f, "SELECT value FROM meta"
				    " WHERE key = 'schema_version'"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name IN ('login_failures',"
				    " 'sessions_card',"
				    " 'persons_status_insert')"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger"), 2);

	sql(f, "DROP TRIGGER persons_status_update");
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	mssl_ctx_free(ctx);
}

/*
 * How login rows sit in the file: a taken challenge stays, marked used,
 * until purged; pin_change_only is 0 or 1; a person's status is active
 * or suspended whoever writes it; a refused state names itself in the
 * detail.
 */
static void test_login_columns(void **state)
{
	struct fx *f = *state;
	struct mssl_person_rec p = { .account_id = "70759028-01",
				     .name = "Wang",
				     .email = "wang@example.com.tw",
				     .role = "manager",
				     .status = "active",
				     .created = 1700000000 };
	struct mssl_card_rec c = { .token_serial = "0123456789abcdef",
				   .state = "issued_pin",
				   .created = 1700000000 };
	struct mssl_session_rec s = { .created = 1700000000,
				      .last_seen = 1700000000,
				      .expires = 1700003600,
				      .pin_change_only = 7 };
	struct mssl_challenge_rec ch = { .account_id = "70759028-01",
					 .created = 1700000000,
					 .expires = 1700000120 };
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	mssl_error *err = mssl_error_new();
	char account[16] = "", msg[256];
	int64_t person = 0, card = 0;
	void *conn = NULL;

	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->person_insert(conn, &p, &person), 0);
	c.person_id = person;
	memset(c.cert_sha256, 0x11, 32);
	assert_int_equal(ops->card_insert(conn, &c, &card), 0);
	s.person_id = person;
	s.card_id = card;
	memset(s.token_hash, 0x22, 32);
	assert_int_equal(ops->session_insert(conn, &s), 0);
	memset(ch.nonce_hash, 0x33, 32);
	assert_int_equal(ops->challenge_insert(conn, &ch), 0);
	assert_int_equal(ops->challenge_take(conn, ch.nonce_hash,
					     challenge_account_cb, account),
			 0);
	assert_int_equal(ops->commit(conn), 0);

	/* The detail of a refused state names it. */
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->card_set_state(conn, card, "misplaced"),
			 MSSL_ESTORE);
	assert_int_equal(ops->rollback(conn), 0);
	ops->close(conn);
	assert_int_equal(mssl__plugin_error(ctx, MSSL_ESTORE, err),
			 MSSL_ESTORE);
	assert_string_equal(mssl_error_id(err), "store.constraint");
	assert_non_null(strstr(mssl_error_message(err, MSSL_LANG_EN),
			       "'misplaced'"));
	mssl_error_free(err);
	mssl_ctx_free(ctx);

	assert_int_equal(sql_int(f, "SELECT used FROM login_challenges"), 1);
	assert_int_equal(sql_int(f, "SELECT pin_change_only FROM sessions"),
			 1);
	assert_int_equal(sql_int(f, "SELECT state = 'issued_pin' FROM cards"),
			 1);
	assert_true(sql_fails(f, "UPDATE persons SET status = 'gone'", msg,
			      sizeof(msg)));
	assert_non_null(strstr(msg, "persons.status"));
	assert_true(sql_fails(f, "INSERT INTO persons(account_id, name,"
				 " email, role, status, created) VALUES"
				 " ('70759028-01', 'x', 'x@example.com',"
				 " 'auditor', 'Active', 1)", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "persons.status"));
	sql(f, "INSERT INTO persons(account_id, name, email, role, created)"
	       " VALUES ('70759028-01', 'y', 'y@example.com', 'auditor', 1)");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM persons"
				    " WHERE status = 'active'"), 2);
}

/*
 * Version 3 gains the index ledger_reserial uses; the charges it already
 * holds follow a certificate whose signer chose another serial.
 */
static void test_migrate_from_v3_reserial(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	void *conn = NULL;
	mssl_ctx *ctx = must_open(f, NULL);
	int current = version_of(ctx);

	mssl_ctx_free(ctx);
	assert_true(current >= 4);
	sql(f, "INSERT INTO accounts (id, org_name_en, products, status,"
	       " created) VALUES ('70759028-01', 'X', 1, 1, 1700000000);"
	       "INSERT INTO ledger (account_id, time, kind, delta,"
	       " balance_after, actor, cert_serial) VALUES ('70759028-01',"
	       " 1700000000, 1, 2, 2, 'operator:a', NULL), ('70759028-01',"
	       " 1700000001, 2, -1, 1, 'manager:b', '0a');" UNDO_STEP_4);
	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'ledger_cert'"), 1);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->ledger_reserial(conn, "0a", "7f01"), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger"
				    " WHERE cert_serial = '7f01'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger"
				    " WHERE cert_serial IS NULL"), 1);
}

/*
 * cert_finish changes the serial with a plain UPDATE.  A renewal that
 * already refers to the pending certificate (the core makes none) keeps
 * it from changing: MSSL_ESTORE, and nothing moves; finishing under the
 * same serial is still possible.
 */
static void test_finish_serial_referenced(void **state)
{
	struct fx *f = *state;
	struct mssl_cert_rec r = {
		.serial = "0a",
		.account_id = "70759028-01",
		.cn = "www.example.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.years = 1,
		.revoke_reason = -1,
		.created = 1700000000,
	};
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	struct cert_seen c = { 0 };
	void *conn = NULL;

	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	r.serial = "0b";
	r.renewal_of = "0a";
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	assert_int_equal(ops->commit(conn), 0);

	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_finish(conn, "0a", "7f", "failed", NULL, 0,
					  0, 0), MSSL_ESTORE);
	assert_int_equal(ops->rollback(conn), 0);
	/* Neither pending nor a state a certificate finishes in. */
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_finish(conn, "0a", "0a", "revoked", NULL,
					  0, 0, 0), MSSL_ESTORE);
	assert_int_equal(ops->rollback(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_finish(conn, "0a", "0a", "failed", NULL, 0,
					  0, 0), 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->cert_get(conn, "0a", cert_seen_cb, &c), 0);
	assert_string_equal(c.state, "failed");
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"
				    " WHERE serial = '7f'"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"
				    " WHERE renewal_of = '0a'"), 1);
}

/*
 * How the outbox, terms and counters sit in the file: an unsent mail has
 * NULL in sent_at (the record's 0); a term's CN is compared without
 * regard to case; a counter is one row.
 */
static void test_issuance_columns(void **state)
{
	struct fx *f = *state;
	struct mssl_mail_rec m = { .created = 1700000000,
				   .to_addr = "ops@example.com.tw",
				   .subject = "s", .body = "b",
				   .next_attempt = 1700000000 };
	struct mssl_term_rec t = { "70759028-01", "www.example.com.tw",
				   1700000000, 1731536000 };
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	int64_t id1 = 0, id2 = 0, v = 0, paid = 0;
	void *conn = NULL;
	int i;

	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->mail_insert(conn, &m, &id1), 0);
	assert_int_equal(ops->mail_insert(conn, &m, &id2), 0);
	assert_int_equal(ops->mail_sent(conn, id2, 1700000100), 0);
	assert_int_equal(ops->term_put(conn, &t), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ops->counter_next(conn, "crl:ca1", &v), 0);
	assert_int_equal(ops->commit(conn), 0);

	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->term_get(conn, "70759028-01",
				       "WWW.Example.COM.tw", term_seen_cb,
				       &paid), 0);
	assert_int_equal(paid, 1731536000);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	assert_int_equal(sql_int(f, "SELECT count(*) FROM mail_outbox"
				    " WHERE sent_at IS NULL AND attempts = 0"
				    " AND last_error IS NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT sent_at FROM mail_outbox"
				    " WHERE sent_at IS NOT NULL"), 1700000100);
	assert_int_equal(sql_int(f, "SELECT value FROM counters"
				    " WHERE name = 'crl:ca1'"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM counters"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cn_terms"), 1);
}

struct der_seen {
	int calls, is_null;
	size_t len;
};

static int der_cb(void *ud, const struct mssl_cert_rec *r)
{
	struct der_seen *d = ud;

	d->calls++;
	d->is_null = r->der == NULL;
	d->len = r->der_len;
	return 0;
}

/*
 * How certificates sit in the file: not revoked is NULL in both revocation
 * columns (the record's 0 and -1), the DER a BLOB or NULL.  An empty DER
 * stays an empty BLOB, not NULL, though SQLite gives a NULL pointer for it.
 */
static void test_cert_columns(void **state)
{
	struct fx *f = *state;
	static const uint8_t der[] = { 0x30, 0x00, 0x00, 0x01 };
	struct mssl_cert_rec r = {
		.serial = "0a",
		.account_id = "70759028-01",
		.cn = "www.example.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "pending",
		.years = 1,
		.revoked_at = 0,
		.revoke_reason = -1,
		.created = 1700000000,
	};
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	struct der_seen seen = { 0 };
	void *conn = NULL;

	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	r.serial = "0b";
	r.state = "revoked";
	r.der = der;
	r.der_len = sizeof(der);
	r.revoked_at = 1700000500;
	r.revoke_reason = 0;
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	r.serial = "0d";
	r.der_len = 0;
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	assert_int_equal(ops->commit(conn), 0);

	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->cert_get(conn, "0d", der_cb, &seen), 0);
	assert_int_equal(seen.calls, 1);
	assert_false(seen.is_null);
	assert_int_equal(seen.len, 0);
	assert_int_equal(ops->cert_get(conn, "0a", der_cb, &seen), 0);
	assert_true(seen.is_null);
	assert_int_equal(ops->commit(conn), 0);

	/* Not one of the four states: the schema refuses it. */
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	r.serial = "0c";
	r.state = "lost";
	assert_int_equal(ops->cert_insert(conn, &r), MSSL_ESTORE);
	assert_int_equal(ops->rollback(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"
				    " WHERE serial = '0d'"
				    " AND typeof(der) = 'blob'"
				    " AND length(der) = 0"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"
				    " WHERE serial = '0a' AND der IS NULL"
				    " AND revoked_at IS NULL"
				    " AND revoke_reason IS NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"
				    " WHERE serial = '0b'"
				    " AND typeof(der) = 'blob'"
				    " AND der = x'30000001'"
				    " AND revoked_at = 1700000500"
				    " AND revoke_reason = 0"), 1);
}

static void test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	void *conn = NULL;
	int v, n = 0;

	v = version_of(ctx);
	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	ops->close(conn);
	mssl_ctx_free(ctx);

	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), v);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->account_each(conn, count_cb, &n), 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(n, 1);
	ops->close(conn);
	mssl_ctx_free(ctx);
}

struct nest {
	const struct mssl_store_ops *ops;
	void *conn;
	int inner_rc, get_rc;
};

/* Calls a different operation (fine) and the same one (refused). */
static int nest_cb(void *ud, const struct mssl_account_rec *r)
{
	struct nest *n = ud;
	int calls = 0;

	n->get_rc = n->ops->account_get(n->conn, r->id, count_cb, &calls);
	n->inner_rc = n->ops->account_each(n->conn, count_cb, &calls);
	return 0;
}

static void test_reentrant_iteration(void **state)
{
	struct fx *f = *state;
	mssl_ctx *ctx = must_open(f, NULL);
	struct nest n = { 0 };

	n.ops = store_conn(ctx, &n.conn);
	add_account(n.ops, n.conn, "70759028-01");
	add_account(n.ops, n.conn, "70759028-02");
	assert_int_equal(n.ops->begin(n.conn, MSSL_TXN_READ), 0);
	assert_int_equal(n.ops->account_each(n.conn, nest_cb, &n), 0);
	assert_int_equal(n.get_rc, 0);
	assert_int_equal(n.inner_rc, MSSL_ESTORE);
	assert_int_equal(n.ops->commit(n.conn), 0);
	n.ops->close(n.conn);
	mssl_ctx_free(ctx);
}

/* ---------------------------------------------------------------------
 * Audit log in the file
 * ------------------------------------------------------------------ */

static void audit_append(const struct mssl_store_ops *ops, void *conn,
			 int64_t seq)
{
	struct mssl_audit_rec r = {
		.seq = seq,
		.time = 1700000000 + seq,
		.actor_role = "operator",
		.actor_name = "alice",
		.remote = "local:uid=0",
		.action = "account.create",
		.outcome = "ok",
	};

	memset(r.hash, (int)seq, sizeof(r.hash));
	memset(r.prev_hash, (int)seq - 1, sizeof(r.prev_hash));
	assert_int_equal(ops->audit_insert(conn, &r), 0);
}

static int audit_count_cb(void *ud, const struct mssl_audit_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

/*
 * The head is kept apart from the rows: deleting the newest rows leaves
 * it naming the deleted one, which the core's verification reports.
 */
static void test_audit_head_apart(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, NULL);
	void *conn = NULL;
	uint8_t hash[32], want[32];
	char msg[256];
	int64_t seq, i;
	int n = 0;

	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	for (i = 1; i <= 3; i++)
		audit_append(ops, conn, i);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);

	/* Append-only, even for SQL run on the file by mistake... */
	assert_true(sql_fails(f, "DELETE FROM audit WHERE seq = 3", msg,
			      sizeof(msg)));
	assert_non_null(strstr(msg, "append-only"));
	assert_true(sql_fails(f, "UPDATE audit SET outcome = 'x'", msg,
			      sizeof(msg)));
	/* ...but not against whoever drops the trigger. */
	sql(f, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3");

	ctx = must_open(f, NULL);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->audit_head(conn, &seq, hash), 0);
	assert_int_equal(seq, 3);
	memset(want, 3, sizeof(want));
	assert_memory_equal(hash, want, 32);
	assert_int_equal(ops->audit_each(conn, 1, audit_count_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
}

/* ---------------------------------------------------------------------
 * Locking
 * ------------------------------------------------------------------ */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A second writer waits busy_timeout_ms, then gets MSSL_EBUSY. */
static void test_busy_timeout(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	mssl_ctx *ctx = must_open(f, "busy_timeout_ms = 200\n");
	void *c1 = NULL, *c2 = NULL;
	double t0, dt;
	int v = 0;

	ops = store_conn(ctx, &c1);
	store_conn(ctx, &c2);
	assert_int_equal(ops->begin(c1, MSSL_TXN_WRITE), 0);
	t0 = seconds();
	assert_int_equal(ops->begin(c2, MSSL_TXN_WRITE), MSSL_EBUSY);
	dt = seconds() - t0;
	assert_true(dt >= 0.15 && dt < 5.0);
	/* Readers are not blocked by the writer (WAL). */
	assert_int_equal(ops->begin(c2, MSSL_TXN_READ), 0);
	assert_int_equal(ops->schema_version(c2, &v), 0);
	assert_true(v >= 1);
	assert_int_equal(ops->commit(c2), 0);
	assert_int_equal(ops->rollback(c1), 0);
	ops->close(c1);
	ops->close(c2);
	mssl_ctx_free(ctx);
}

#define PROCS 4
#define APPENDS 50

/* One process: open the (maybe not yet created) store, append to the
 * audit log at its head APPENDS times.  Exit status 0 on success. */
static int child_main(const char *cfg)
{
	const struct mssl_store_ops *ops = NULL;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	void *state = NULL, *conn = NULL;
	uint8_t hash[32];
	int64_t seq;
	int i, rc;

	rc = mssl_ctx_open_file(cfg, &ctx, err);
	if (rc) {
		fprintf(stderr, "child open: %s\n",
			mssl_error_message(err, MSSL_LANG_EN));
		return 1;
	}
	if (mssl__ctx_store(ctx, &ops, &state) || ops->open(state, &conn))
		return 2;
	for (i = 0; i < APPENDS; i++) {
		struct mssl_audit_rec r = {
			.time = 1, .actor_role = "operator",
			.action = "test", .outcome = "ok",
		};

		if (ops->begin(conn, MSSL_TXN_WRITE) ||
		    ops->audit_head(conn, &seq, hash))
			return 3;
		r.seq = seq + 1;
		memcpy(r.prev_hash, hash, 32);
		memset(r.hash, (int)r.seq, 32);
		if (ops->audit_insert(conn, &r) || ops->commit(conn))
			return 4;
	}
	ops->close(conn);
	mssl_ctx_free(ctx);
	mssl_error_free(err);
	return 0;
}

static int audit_seq_cb(void *ud, const struct mssl_audit_rec *r)
{
	int64_t *expect = ud;

	return r->seq == ++*expect ? 0 : -1;
}

/* Several processes create the store at once, then append concurrently. */
static void test_processes(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	pid_t pid[PROCS];
	mssl_ctx *ctx;
	void *conn = NULL;
	uint8_t hash[32];
	int64_t seq, n = 0;
	int i, status;
	/* Written once: children rewriting it would race each other. */
	char *cfg = th_write_config(f->dir, NULL, NULL);

	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(child_main(cfg));
	}
	free(cfg);
	for (i = 0; i < PROCS; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	ctx = must_open(f, NULL);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->audit_head(conn, &seq, hash), 0);
	assert_int_equal(seq, PROCS * APPENDS);
	assert_int_equal(ops->audit_each(conn, 1, audit_seq_cb, &n), 0);
	assert_int_equal(n, PROCS * APPENDS);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
}

static int count_cert_cb(void *ud, const struct mssl_cert_rec *r)
{
	(*(int *)ud)++;
	return 0;
}

static int remind_days_cb(void *ud, const struct mssl_remind_rec *r)
{
	*(int *)ud = r->days;
	return 0;
}

/*
 * Version 4 is brought to the current version: an issued certificate
 * written before step 5 gets a reminder once (the primary key refuses a
 * second), remind_due sees it, and the schema is that of a new store.
 */
static void test_migrate_from_v4(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	struct mssl_cert_rec r = {
		.serial = "0b",
		.account_id = "70759028-01",
		.cn = "www.example.com.tw",
		.product = MSSL_PRODUCT_SSL,
		.state = "issued",
		.years = 1,
		.not_before = 1700000000,
		.not_after = 1700000000 + 10 * 86400,
		.revoke_reason = -1,
		.created = 1700000000,
	};
	struct mssl_remind_rec rem = { "0b", 14, 1700000100, 7 };
	char migrated[4096];
	void *conn = NULL;
	mssl_ctx *ctx = must_open(f, NULL);
	int current = version_of(ctx), days = 0, n = 0;

	assert_true(current >= 5);
	ops = store_conn(ctx, &conn);
	add_account(ops, conn, "70759028-01");
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->cert_insert(conn, &r), 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
	sql(f, UNDO_STEP_5);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'cert_reminders'"), 0);

	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->remind_due(conn, 1700000000, 1700000000 +
					 14 * 86400, 14, 0, count_cert_cb,
					 &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops->remind_insert(conn, &rem), 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(ops->remind_insert(conn, &rem), MSSL_EEXIST);
	assert_int_equal(ops->rollback(conn), 0);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->remind_each(conn, "0b", remind_days_cb, &days),
			 0);
	assert_int_equal(days, 14);
	n = 0;
	assert_int_equal(ops->remind_due(conn, 1700000000, 1700000000 +
					 14 * 86400, 14, 0, count_cert_cb,
					 &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ops->commit(conn), 0);
	ops->close(conn);
	mssl_ctx_free(ctx);
	/* Stored as written: days, the time, the outbox id. */
	assert_int_equal(sql_int(f, "SELECT queued_at * 100 + mail_id"
				    " FROM cert_reminders WHERE serial = '0b'"
				    " AND days = 14"),
			 INT64_C(1700000100) * 100 + 7);

	schema_as_new(f, migrated, sizeof(migrated));
	assert_non_null(strstr(migrated, "table:cert_reminders"));
}

/* Accounts found, "ID;" each, into a 128-byte buffer. */
static int domain_account_cb(void *ud, const struct mssl_domain_rec *r)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 128 - n, "%s;", r->account_id);
	return 0;
}

/*
 * Version 5 is brought to the current version: agreed domains are then
 * found by name in account order from the index, without a sort, and the
 * schema is that of a new store.
 */
static void test_migrate_from_v5(void **state)
{
	struct fx *f = *state;
	const struct mssl_store_ops *ops;
	char found[128] = "", migrated[4096], plan[512] = "";
	void *conn = NULL;
	mssl_ctx *ctx = must_open(f, NULL);
	int current = version_of(ctx);
	const char *ids[] = { "70759028-02", "70759028-01" };
	size_t i;

	assert_true(current >= 6);
	ops = store_conn(ctx, &conn);
	for (i = 0; i < 2; i++) {
		add_account(ops, conn, ids[i]);
		assert_int_equal(ops->begin(conn, MSSL_TXN_WRITE), 0);
		assert_int_equal(ops->domain_insert(
					 conn, &(struct mssl_domain_rec){
						       .account_id = ids[i],
						       .name = "example.com.tw",
						       .added = 1700000000 }),
				 0);
		assert_int_equal(ops->commit(conn), 0);
	}
	ops->close(conn);
	mssl_ctx_free(ctx);
	sql(f, UNDO_STEP_6);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master"
				    " WHERE name = 'domains_name_account'"), 0);

	ctx = must_open(f, NULL);
	assert_int_equal(version_of(ctx), current);
	ops = store_conn(ctx, &conn);
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->domain_find(conn, "example.com.tw",
					  domain_account_cb, found),
			 0);
	assert_int_equal(ops->commit(conn), 0);
	assert_string_equal(found, "70759028-01;70759028-02;");
	ops->close(conn);
	mssl_ctx_free(ctx);
	/* The query's plan reads the index in order: no temporary b-tree. */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(
			sqlite3_prepare_v2(
				db,
				"EXPLAIN QUERY PLAN SELECT account_id, name,"
				" added FROM domains WHERE name = ?1"
				" ORDER BY account_id",
				-1, &st, NULL),
			SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			size_t n = strlen(plan);

			snprintf(plan + n, sizeof(plan) - n, "%s;",
				 (const char *)sqlite3_column_text(st, 3));
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	assert_non_null(strstr(plan, "domains_name_account"));
	assert_null(strstr(plan, "TEMP B-TREE"));

	schema_as_new(f, migrated, sizeof(migrated));
	assert_non_null(strstr(migrated, "index:domains_name_account"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_bad),
		T(test_config_missing_path),
		T(test_config_good),
		T(test_file_mode),
		T(test_schema_newer_refused),
		T(test_migrate_from_zero),
		T(test_migrate_from_v1),
		T(test_migration_atomic),
		T(test_migrate_from_v2),
		T(test_migration_atomic_v3),
		T(test_migrate_from_v3),
		T(test_migrate_from_v3_reserial),
		T(test_migration_atomic_v4),
		T(test_login_columns),
		T(test_finish_serial_referenced),
		T(test_issuance_columns),
		T(test_cert_columns),
		T(test_reopen_keeps_data),
		T(test_reentrant_iteration),
		T(test_audit_head_apart),
		T(test_busy_timeout),
		T(test_processes),
		T(test_migrate_from_v4),
		T(test_migrate_from_v5),
	};

	return cmocka_run_group_tests_name("store-sqlite", tests, NULL, NULL);
}
