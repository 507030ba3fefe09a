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

/* What the core reads back from a signed certificate. */
struct mssl__signed {
	char serial_hex[41]; /* lower-case hex of the serial's magnitude */
	int64_t not_before;
	int64_t not_after;
};

/*
 * Parse what the backend signed and compare it with what was asked.
 * 'caps' are the backend's MSSL_CA_OWN_* (0 for a backend that signs
 * the tbs as it is).
 *
 * Always: the key (SubjectPublicKeyInfo byte for byte), the issuer and
 * the signature by 'ca'.
 * Without MSSL_CA_OWN_SERIAL the serial is the one asked for; with it,
 * any positive serial of 8 to 20 octets (uniqueness is the store's).
 * Without MSSL_CA_OWN_PROFILE: the validity exactly, the subject
 * attributes asked for, one per RDN, in order, nothing else, each value
 * as DER, every extension byte for byte and no other.
 * With it: notBefore at most an hour before and ten minutes after the
 * one asked, notAfter not after it and the validity no longer; the same
 * subject attributes in the same order with the same text (PrintableString
 * or UTF8String); the same DNS names in subjectAltName and nothing else
 * in it; critical basicConstraints cA FALSE without pathLen; critical
 * keyUsage with digitalSignature and no bit the profile does not set;
 * extKeyUsage serverAuth and nothing else; SKI and AKI byte for byte;
 * certificatePolicies, authorityInfoAccess and cRLDistributionPoints
 * non-critical, of any content or absent; no other extension.
 *
 * out receives serial and validity as signed.  MSSL_ECRYPTO
 * ("cert.mismatch") naming what differs.
 */
int mssl__profile_compare(const struct mssl_tbs *tbs, const uint8_t *der,
			  size_t der_len, gnutls_x509_crt_t ca, uint32_t caps,
			  struct mssl__signed *out, mssl_error *err);

/* CA/B Forum maximum validity for a certificate issued at 'now'. */
int64_t mssl__cabf_max_validity(int64_t now);

#endif
