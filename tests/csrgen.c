/* Real CSRs for tests, made with GnuTLS. */
#include "config.h"

#include "csrgen.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static int set(gnutls_x509_crq_t crq, const char *oid, const char *v)
{
	if (!v)
		return 0;
	return gnutls_x509_crq_set_dn_by_oid(crq, oid, 0, v,
					     (unsigned)strlen(v));
}

int csrgen_make(const struct csrgen *g, int pem, unsigned char **out,
		size_t *len)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t d = { NULL, 0 };
	const char *k = g->key ? g->key : "rsa2048";
	unsigned char ip[16];
	size_t i;
	int r;

	*out = NULL;
	if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_crq_init(&crq)) < 0)
		goto out;
	if (strncmp(k, "rsa", 3) == 0)
		r = gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA,
						 (unsigned)strtoul(k + 3, NULL,
								   10),
						 0);
	else
		r = gnutls_x509_privkey_generate(
			key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(strcmp(k, "ec384") == 0 ?
						     GNUTLS_ECC_CURVE_SECP384R1 :
						     GNUTLS_ECC_CURVE_SECP256R1),
			0);
	if (r < 0)
		goto out;
	if ((r = set(crq, GNUTLS_OID_X520_COUNTRY_NAME, g->c)) < 0 ||
	    (r = set(crq, GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME, g->st)) < 0 ||
	    (r = set(crq, GNUTLS_OID_X520_LOCALITY_NAME, g->l)) < 0 ||
	    (r = set(crq, GNUTLS_OID_X520_ORGANIZATION_NAME, g->o)) < 0 ||
	    (r = set(crq, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, g->ou)) <
		    0 ||
	    (r = set(crq, GNUTLS_OID_X520_COMMON_NAME, g->cn)) < 0 ||
	    (r = set(crq, "2.5.4.5", g->serial_number)) < 0 ||
	    (r = set(crq, "2.5.4.15", g->business_category)) < 0 ||
	    (r = set(crq, "1.3.6.1.4.1.311.60.2.1.3", g->jur_c)) < 0)
		goto out;
	for (i = 0; i < 8 && g->dns[i]; i++)
		if ((r = gnutls_x509_crq_set_subject_alt_name(
			     crq, GNUTLS_SAN_DNSNAME, g->dns[i],
			     (unsigned)strlen(g->dns[i]),
			     GNUTLS_FSAN_APPEND)) < 0)
			goto out;
	if (g->ip) {
		int v6 = strchr(g->ip, ':') != NULL;

		inet_pton(v6 ? AF_INET6 : AF_INET, g->ip, ip);
		if ((r = gnutls_x509_crq_set_subject_alt_name(
			     crq, GNUTLS_SAN_IPADDRESS, ip, v6 ? 16 : 4,
			     GNUTLS_FSAN_APPEND)) < 0)
			goto out;
	}
	if (g->email &&
	    (r = gnutls_x509_crq_set_subject_alt_name(
		     crq, GNUTLS_SAN_RFC822NAME, g->email,
		     (unsigned)strlen(g->email), GNUTLS_FSAN_APPEND)) < 0)
		goto out;
	if ((r = gnutls_x509_crq_set_key(crq, key)) < 0 ||
	    (r = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (r = gnutls_x509_crq_export2(crq, pem ? GNUTLS_X509_FMT_PEM :
						    GNUTLS_X509_FMT_DER,
					 &d)) < 0)
		goto out;
	*out = malloc(d.size + 1);
	if (!*out) {
		r = GNUTLS_E_MEMORY_ERROR;
		goto out;
	}
	memcpy(*out, d.data, d.size);
	(*out)[d.size] = 0;
	*len = d.size;
out:
	gnutls_free(d.data);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return r;
}
