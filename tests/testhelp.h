/*
 * Helpers shared by the unit tests.  Every test runs against real files:
 * a fresh temporary directory with its own config and SQLite store.
 */
#ifndef MSSL_TESTHELP_H
#define MSSL_TESTHELP_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mssl/mssl.h"

/* A new empty directory under $TMPDIR (or /tmp); caller frees. */
char *th_mkdtemp(void);

/* rm -rf dir (only under the temporary directory); frees nothing. */
void th_rmrf(const char *dir);

/*
 * Write dir/mssl.conf: [mssl] plugin_dir = $MSSL_PLUGIN_BUILDDIR,
 * store = <store or "store-sqlite">, and (for store-sqlite) a section with
 * path = dir/mssl.db, followed by 'extra' verbatim (may be NULL).
 * Returns the config path; caller frees.
 */
char *th_write_config(const char *dir, const char *store, const char *extra);

/* Write 'text' to dir/name; returns the path; caller frees. */
char *th_write_file(const char *dir, const char *name, const char *text);

/* mssl_ctx_open_file on th_write_config(dir, NULL, extra); fails the test
 * (printing the error) when it cannot open. */
mssl_ctx *th_ctx_open(const char *dir, const char *extra);

/* Actors: operator "test-op" from "local:test"; manager/auditor of acct. */
mssl_actor *th_operator(void);
mssl_actor *th_manager(const char *account_id);
mssl_actor *th_auditor(const char *account_id);

/*
 * Assert rc == expected; on mismatch print the error's id and message.
 * Use through TH_RC(expr, expected, err).
 */
void th_assert_rc(int rc, int expected, mssl_error *err, const char *expr,
		  const char *file, int line);
#define TH_RC(expr, expected, err)                                           \
	th_assert_rc((expr), (expected), (err), #expr, __FILE__, __LINE__)

/* Run a shell command; returns its exit status. */
int th_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
