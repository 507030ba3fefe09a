/*
 * Helpers of the card-layer tests: real test cards made by the scripts
 * in tests/cards/, and signature checks against the public key read back
 * from the card by another tool (pkcs11-tool).
 */
#ifndef MSSL_TOKENHELP_H
#define MSSL_TOKENHELP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mssl/token.h"

/* The SoftHSM2 module's path; fails the test when it is missing. */
const char *tk_softhsm_module(void);

/*
 * New SoftHSM2 cards in a fresh directory: tests/cards/softhsm.sh DIR
 * SPECS (e.g. "a:ec b:rsa").  Returns DIR (caller frees, th_rmrf);
 * fails the test when the script fails.
 */
char *tk_softhsm_cards(const char *specs);

/* Point SoftHSM2 at DIR's cards (read when the module initialises). */
void tk_softhsm_use(const char *dir);

/* A whole file; fails the test when unreadable.  Caller frees. */
uint8_t *tk_read_file(const char *path, size_t *len);

/*
 * Verify sig over data with GnuTLS, against the SubjectPublicKeyInfo
 * in file pub_der; also checks that the signature fails over other data.
 */
void tk_verify(const char *pub_der, int alg, const void *data, size_t len,
	       const uint8_t *sig, size_t sig_len);

/*
 * Assert rc == code and the error's id; on mismatch print both messages.
 * Use through TK_ERR(expr, code, id, err).
 */
void tk_assert_err(int rc, int code, const char *id, mssl_error *err,
		   const char *expr, const char *file, int line);
#define TK_ERR(expr, code, id, err)                                            \
	tk_assert_err((expr), (code), (id), (err), #expr, __FILE__, __LINE__)

/* Does the message (language lang) contain text? Prints it when not. */
void tk_assert_msg(mssl_error *err, int lang, const char *text);

#endif
