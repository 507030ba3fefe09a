/*
 * Make real PKCS#10 requests in tests with GnuTLS: a fresh key, the
 * subject and SANs asked for, signed by that key.
 */
#ifndef MSSL_TESTS_CSRGEN_H
#define MSSL_TESTS_CSRGEN_H

#include <stddef.h>

struct csrgen {
	const char *key; /* "rsa2048" (default), "rsa1024", "ec256", "ec384" */
	const char *c, *st, *l, *o, *ou, *cn;
	const char *serial_number, *business_category, *jur_c;
	const char *dns[8]; /* DNS SANs, NULL-terminated */
	const char *ip; /* one IP SAN, or NULL */
	const char *email; /* one rfc822Name SAN, or NULL */
};

/* The request as PEM (*pem, NUL-terminated) or DER; caller frees. */
int csrgen_make(const struct csrgen *g, int pem, unsigned char **out,
		size_t *len);

#endif
