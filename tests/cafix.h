/*
 * A private CA (made by tools/ca-init.sh) behind ca-gnutls, every
 * validator, a SQLite store, two accounts: the setting of the issuance
 * and revocation tests.
 */
#ifndef MSSL_TESTS_CAFIX_H
#define MSSL_TESTS_CAFIX_H

#include <stdint.h>

#include "csrgen.h"
#include "testhelp.h"

#define ACC "70759028-01" /* ssl and wildcard, twca.com.tw, 5 cert-years */
#define OTHER "04595257-01" /* the same products, no domain, no balance */
#define DAY 86400

struct env {
	char *dir;
	mssl_ctx *ctx;
	mssl_actor *op;
	mssl_error *err;
	int64_t now;
};

/*
 * cmocka setup: 'issuance' (may be NULL) adds lines to [issuance]; a %s
 * in it stands for the test's directory.
 */
int cafix_setup(void **state, const char *issuance);
int cafix_teardown(void **state);

/* www.twca.com.tw and twca.com.tw, ECDSA P-256, O as the account's. */
extern const struct csrgen cafix_www;

/* A parsed request for g; fails the test when it cannot be made. */
mssl_csr *cafix_csr(const struct csrgen *g);

/* Issuance options that pass: nginx, a pass phrase, a contact, a seal. */
mssl_issue_params cafix_params(int years);

/* ACC's cert-year balance. */
int64_t cafix_balance(struct env *e);

#endif
