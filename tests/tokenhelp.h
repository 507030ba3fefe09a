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
 * Verify sig over data with GnuTLS against the public key of the DER
 * certificate cert/cert_len; also checks that it fails over other data.
 */
void tk_verify_cert(const uint8_t *cert, size_t cert_len, int alg,
		    const void *data, size_t len, const uint8_t *sig,
		    size_t sig_len);

/*
 * A certificate (DER, caller frees) for the SubjectPublicKeyInfo spki,
 * CN cn, issued by a throwaway ECDSA CA made for the call, as the server
 * issues a card certificate.  *serial_out (may be NULL) gets the serial
 * number's content octets (17: a zero octet, then 16 random ones, the
 * first with its top bit set), *serial_len their count.
 */
uint8_t *tk_issue_cert(const uint8_t *spki, size_t spki_len, const char *cn,
		       size_t *len, uint8_t *serial_out, size_t *serial_len);

/* The SubjectPublicKeyInfo (DER, caller frees) of a new software key. */
uint8_t *tk_soft_spki(size_t *len);

/* ---- opencryptoki (tokenhelp-ock.c) ---------------------------------- */

/* What tests/cards/opencryptoki.sh wrote in DIR/ock.env. */
struct tk_ock {
	char *dir;
	char module[256];
	char stdll_dir[256];
	char label[64]; /* "" for a blank token */
	char pin[32];
	char so_pin[32];
};

/*
 * Start the opencryptoki token with tests/cards/opencryptoki.sh 'mode'
 * ("start": enrolled with a key and certificate; "blank": uninitialised)
 * before cmocka prints its plan: where it cannot run here, print
 * "1..0 # SKIP opencryptoki: <reason>" and exit 0; when it fails, "Bail
 * out!" and exit 99.  Stops it at exit.  Keeps the module and its token
 * libraries loaded to the end, so that LeakSanitizer names their leaks
 * (see the suppressions in the test files).
 */
void tk_ock_start(const char *mode, struct tk_ock *ock);

/* Stop the token started by tk_ock_start (also done at exit). */
void tk_ock_stop(void);

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
