/*
 * A fixture for the operation tests (test-roles, test-audit, test-ledger,
 * test-account): a fresh directory and SQLite store per test, an injected
 * clock, the usual actors, and direct SQLite access to the store file so
 * that tests can check what was (not) written and tamper with it.
 */
#ifndef MSSL_TEST_FIXTURE_H
#define MSSL_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "testhelp.h"

/* Account A (統一編號 70759028 from SPEC §2) and another account B. */
#define FX_A "70759028-01"
#define FX_B "04595257-01"
/* Valid IDs of accounts that are never created. */
#define FX_MISSING "70759028-99"
#define FX_NEW "70759028-02"

/* The injected clock starts here (2023-11-14 22:13:20 UTC). */
#define FX_T0 INT64_C(1700000000)

/* fx_new flags. */
#define FX_ACCOUNTS 0x1u /* create A and B as described below */

struct fx {
	char *dir;
	char *db; /* dir/mssl.db */
	mssl_ctx *ctx;
	mssl_error *err;
	mssl_actor *op; /* operator "test-op" from "local:test" */
	mssl_actor *mgr_a, *aud_a; /* of A */
	mssl_actor *mgr_b, *aud_b; /* of B */
	int64_t now; /* what the injected clock says */
};

/*
 * A new fixture.  With FX_ACCOUNTS: account A (SSL and wildcard, a
 * supervisor, domain twca.com.tw, balance 10 from one top-up) and account
 * B (SSL, a supervisor, domain example-b.com.tw, balance 3).  'extra' goes
 * into the [store-sqlite] section (may be NULL).  Fails the test on error.
 */
struct fx *fx_new(unsigned flags, const char *extra);
void fx_free(struct fx *f);

/* cmocka setup/teardown: fx_new(FX_ACCOUNTS, NULL) into *state. */
int fx_setup(void **state);
int fx_setup_empty(void **state); /* fx_new(0, NULL) */
int fx_teardown(void **state);

/* A complete, valid specification of an SSL account 'id'. */
mssl_account_spec fx_spec(const char *id);

/*
 * Run SQL on the store file with a connection of its own; fails on error.
 * Formats are sqlite3_mprintf's (%Q quotes a string), not printf's.
 */
void fx_sql(struct fx *f, const char *fmt, ...);
/*
 * First column of the first row of a query (sqlite3_mprintf format: use
 * %Q for strings), 'dflt' when there is no row or it is NULL.
 */
int64_t fx_sql_int(struct fx *f, int64_t dflt, const char *fmt, ...);
/* The same for a text result; caller frees; NULL when none. */
char *fx_sql_text(struct fx *f, const char *fmt, ...);

/* Latest balance_after of an account straight from the file (0: none). */
int64_t fx_balance(struct fx *f, const char *account_id);
/* Highest audit seq in the file, 0 when empty. */
int64_t fx_audit_head(struct fx *f);
/*
 * Everything but the audit log, as one string: accounts, domains,
 * contacts, ledger and notices.  Equal snapshots mean nothing was
 * written.  Caller frees.
 */
char *fx_snapshot(struct fx *f);

/* One audit record as exported (copies). */
struct fx_audit {
	int64_t seq, time;
	char *actor_role, *actor_name, *account_id, *remote;
	char *action, *object, *outcome, *detail;
};

/*
 * The records with seq >= from, read through mssl_audit_export as the
 * operator (which appends its own record after reading).  Returns how
 * many; *out freed with fx_audit_free.
 */
size_t fx_audit_read(struct fx *f, int64_t from, struct fx_audit **out);
void fx_audit_free(struct fx_audit *v, size_t n);

/*
 * Assert that exactly one record was appended since seq 'before' (taken
 * with fx_audit_head) and that it says 'action', 'outcome' and the actor's
 * role; returns a copy of it (free with fx_audit_free(r, 1)).
 */
struct fx_audit *fx_audit_one(struct fx *f, int64_t before,
			      const char *action, const char *outcome,
			      const char *role);

/* NULL-safe string equality. */
bool fx_streq(const char *a, const char *b);

/* Does 'msg' name record 'seq' ("record <seq>" not followed by a digit)? */
bool fx_names_record(const char *msg, int64_t seq);

#endif
