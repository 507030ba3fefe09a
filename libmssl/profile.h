/*
 * Certificate profiles (ssl, wildcard, ev): what a certificate says,
 * built by the core as a struct mssl_tbs for the CA backend to sign, a
 * lint of it before signing, and the comparison of what came back.
 */
#ifndef MSSL_PROFILE_H
#define MSSL_PROFILE_H

#include "internal.h"

#include <gnutls/x509.h>

struct mssl__profile_in {
	const struct mssl_csr_info *csr;
	const uint8_t *csr_der;
	size_t csr_len;
	const uint8_t *spki;
	size_t spki_len;
	uint32_t product;
	const uint8_t *serial;
	size_t serial_len;
	int64_t not_before;
	int64_t not_after;
	gnutls_x509_crt_t ca; /* the issuing CA */
	const char *crl_url; /* may be NULL */
	const char *ca_issuers_url; /* may be NULL */
	char *const *policy_oids; /* the CA's own, NULL-terminated, may be NULL */
};

struct mssl__tbs_buf;

/* Build the to-be-signed description; *out owns everything it points to. */
int mssl__profile_build(const struct mssl__profile_in *in,
			struct mssl__tbs_buf **out, mssl_error *err);
const struct mssl_tbs *mssl__tbs(const struct mssl__tbs_buf *b);
void mssl__tbs_buf_free(struct mssl__tbs_buf *b);

/*
 * Check the description against the profile before anything is signed:
 * validity within max_validity seconds and notBefore within the last
 * hour of now, a positive serial of at least 64 bits and at most 20
 * bytes, names present, the extensions the profile requires.
 * MSSL_ECRYPTO ("cert.lint") naming the rule broken.
 */
int mssl__profile_lint(const struct mssl_tbs *tbs, int64_t now,
		       int64_t max_validity, mssl_error *err);

/*
 * Parse what the backend signed and compare it with what was asked:
 * serial (unless the backend chose its own), validity, subject, key, every
 * extension byte for byte and no other, issuer and signature by 'ca'.
 * serial_hex receives the certificate's serial (lower-case hex, at most
 * 41 bytes with the NUL).  MSSL_ECRYPTO ("cert.mismatch") otherwise.
 */
int mssl__profile_compare(const struct mssl_tbs *tbs, const uint8_t *der,
			  size_t der_len, gnutls_x509_crt_t ca,
			  char serial_hex[41], mssl_error *err);

/* CA/B Forum maximum validity for a certificate issued at 'now'. */
int64_t mssl__cabf_max_validity(int64_t now);

#endif
