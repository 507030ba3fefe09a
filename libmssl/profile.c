/*
 * Certificate profiles.  Everything a certificate says is decided here,
 * from the validated request and the policy: the CA backend only signs.
 *
 * ssl (OV) and wildcard: subject C, ST, L, O, CN as validated; every DNS
 * name in the SAN (the CN among them, lower case); basicConstraints
 * cA=FALSE (critical); keyUsage digitalSignature, plus keyEncipherment
 * for RSA (critical); extKeyUsage serverAuth only; SKI (RFC 5280 method
 * 1) and AKI (the issuing CA's SKI); CRL distribution point; AIA
 * caIssuers; certificatePolicies 2.23.140.1.2.2 plus the CA's own.
 * ev: the same with the EV subject attributes and 2.23.140.1.1.
 */
#include "profile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>

#define OID_OV "2.23.140.1.2.2"
#define OID_EV "2.23.140.1.1"
#define MAX_ATTRS 12
#define MAX_EXTS 12

struct mssl__tbs_buf {
	struct mssl_tbs tbs;
	struct mssl_dn_attr attrs[MAX_ATTRS];
	struct mssl_ext exts[MAX_EXTS];
	void *owned[MAX_ATTRS + MAX_EXTS + 4];
	size_t n_owned;
};

const struct mssl_tbs *mssl__tbs(const struct mssl__tbs_buf *b)
{
	return &b->tbs;
}

void mssl__tbs_buf_free(struct mssl__tbs_buf *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_owned; i++)
		gnutls_free(b->owned[i]);
	free(b);
}

static void *own(struct mssl__tbs_buf *b, void *p)
{
	if (p)
		b->owned[b->n_owned++] = p;
	return p;
}

int64_t mssl__cabf_max_validity(int64_t now)
{
	/* Ballot SC-081: 200 days from 2026-03-15, 100 from 2027-03-15,
	 * 47 from 2029-03-15; 398 before. */
	if (now >= 1868227200) /* 2029-03-15T00:00:00Z */
		return 47 * 86400;
	if (now >= 1805068800) /* 2027-03-15 */
		return 100 * 86400;
	if (now >= 1773532800) /* 2026-03-15 */
		return 200 * 86400;
	return 398 * 86400;
}

/* A subject value as DER: PrintableString or UTF8String. */
static int add_attr(struct mssl__tbs_buf *b, const char *oid,
		    const char *value, bool printable)
{
	size_t n = strlen(value), hdr = n < 128 ? 2 : n < 256 ? 3 : 4;
	uint8_t *d;

	if (!value || b->tbs.n_subject == MAX_ATTRS || n > 0xffff)
		return MSSL_EINVAL;
	d = own(b, gnutls_malloc(hdr + n));
	if (!d)
		return MSSL_ENOMEM;
	d[0] = printable ? 0x13 : 0x0c;
	if (hdr == 2) {
		d[1] = (uint8_t)n;
	} else if (hdr == 3) {
		d[1] = 0x81;
		d[2] = (uint8_t)n;
	} else {
		d[1] = 0x82;
		d[2] = (uint8_t)(n >> 8);
		d[3] = (uint8_t)n;
	}
	memcpy(d + hdr, value, n);
	b->attrs[b->tbs.n_subject].oid = oid;
	b->attrs[b->tbs.n_subject].der = d;
	b->attrs[b->tbs.n_subject].der_len = hdr + n;
	b->tbs.n_subject++;
	return 0;
}

static int add_ext(struct mssl__tbs_buf *b, const char *oid, int critical,
		   int r, gnutls_datum_t *d)
{
	if (r < 0)
		return MSSL_ECRYPTO;
	if (b->tbs.n_exts == MAX_EXTS || !own(b, d->data))
		return MSSL_ENOMEM;
	b->exts[b->tbs.n_exts].oid = oid;
	b->exts[b->tbs.n_exts].critical = critical;
	b->exts[b->tbs.n_exts].der = d->data;
	b->exts[b->tbs.n_exts].der_len = d->size;
	b->tbs.n_exts++;
	return 0;
}

/* SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2, method 1). */
static int key_id(const uint8_t *spki, size_t len, uint8_t out[20])
{
	const uint8_t *p = spki, *end = spki + len, *v;
	size_t n;
	uint8_t tag;

	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return MSSL_EINVAL;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30 ||
	    !mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x03 || n < 1)
		return MSSL_EINVAL;
	return gnutls_hash_fast(GNUTLS_DIG_SHA1, v + 1, n - 1, out) < 0 ?
		       MSSL_ECRYPTO :
		       0;
}

static int subject(struct mssl__tbs_buf *b, const struct mssl_csr_info *ci,
		   uint32_t product)
{
	const struct mssl_subject_info *s = &ci->subject;
	int rc = 0;

	if (product == MSSL_PRODUCT_EV) {
		if (s->jur_c)
			rc = add_attr(b, "1.3.6.1.4.1.311.60.2.1.3", s->jur_c,
				      true);
		if (rc == 0 && s->jur_st)
			rc = add_attr(b, "1.3.6.1.4.1.311.60.2.1.2", s->jur_st,
				      false);
		if (rc == 0 && s->jur_l)
			rc = add_attr(b, "1.3.6.1.4.1.311.60.2.1.1", s->jur_l,
				      false);
		if (rc == 0 && s->business_category)
			rc = add_attr(b, "2.5.4.15", s->business_category,
				      false);
		if (rc == 0 && s->serial_number)
			rc = add_attr(b, "2.5.4.5", s->serial_number, true);
	}
	if (rc == 0 && s->c)
		rc = add_attr(b, "2.5.4.6", s->c, true);
	if (rc == 0 && s->st)
		rc = add_attr(b, "2.5.4.8", s->st, false);
	if (rc == 0 && s->l)
		rc = add_attr(b, "2.5.4.7", s->l, false);
	if (rc == 0 && s->o)
		rc = add_attr(b, "2.5.4.10", s->o, false);
	if (rc == 0 && s->cn) {
		char *cn = strdup(s->cn);
		size_t i;

		if (!cn)
			return MSSL_ENOMEM;
		for (i = 0; cn[i]; i++)
			cn[i] = (char)tolower((unsigned char)cn[i]);
		rc = add_attr(b, "2.5.4.3", cn, false);
		free(cn);
	}
	return rc;
}

static int san(struct mssl__tbs_buf *b, const struct mssl_csr_info *ci)
{
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t d = { NULL, 0 };
	char name[256];
	size_t i, j;
	int r;

	if (gnutls_subject_alt_names_init(&sans) < 0)
		return MSSL_ENOMEM;
	for (i = 0, r = 0; i < ci->n_names && r >= 0; i++) {
		gnutls_datum_t n;

		for (j = 0; ci->names[i][j] && j < sizeof(name) - 1; j++)
			name[j] = (char)tolower((unsigned char)ci->names[i][j]);
		name[j] = '\0';
		n.data = (unsigned char *)name;
		n.size = (unsigned)j;
		r = gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME, &n,
						 NULL);
	}
	if (r >= 0)
		r = gnutls_x509_ext_export_subject_alt_names(sans, &d);
	gnutls_subject_alt_names_deinit(sans);
	return add_ext(b, GNUTLS_X509EXT_OID_SAN, 0, r, &d);
}

static int policies(struct mssl__tbs_buf *b, uint32_t product,
		    char *const *extra)
{
	gnutls_x509_policies_t pol = NULL;
	struct gnutls_x509_policy_st st;
	gnutls_datum_t d = { NULL, 0 };
	int r;

	if (gnutls_x509_policies_init(&pol) < 0)
		return MSSL_ENOMEM;
	memset(&st, 0, sizeof(st));
	st.oid = product == MSSL_PRODUCT_EV ? OID_EV : OID_OV;
	r = gnutls_x509_policies_set(pol, &st);
	for (; r >= 0 && extra && *extra; extra++) {
		st.oid = *extra;
		r = gnutls_x509_policies_set(pol, &st);
	}
	if (r >= 0)
		r = gnutls_x509_ext_export_policies(pol, &d);
	gnutls_x509_policies_deinit(pol);
	return add_ext(b, GNUTLS_X509EXT_OID_CRT_POLICY, 0, r, &d);
}

static int urls(struct mssl__tbs_buf *b, const char *crl, const char *aia)
{
	gnutls_datum_t u, d = { NULL, 0 };
	int r, rc = 0;

	if (crl) {
		gnutls_x509_crl_dist_points_t dp = NULL;

		u.data = (unsigned char *)crl;
		u.size = (unsigned)strlen(crl);
		if (gnutls_x509_crl_dist_points_init(&dp) < 0)
			return MSSL_ENOMEM;
		r = gnutls_x509_crl_dist_points_set(dp, GNUTLS_SAN_URI, &u, 0);
		if (r >= 0)
			r = gnutls_x509_ext_export_crl_dist_points(dp, &d);
		gnutls_x509_crl_dist_points_deinit(dp);
		rc = add_ext(b, GNUTLS_X509EXT_OID_CRL_DIST_POINTS, 0, r, &d);
	}
	if (rc == 0 && aia) {
		gnutls_x509_aia_t a = NULL;

		u.data = (unsigned char *)aia;
		u.size = (unsigned)strlen(aia);
		d.data = NULL;
		if (gnutls_x509_aia_init(&a) < 0)
			return MSSL_ENOMEM;
		r = gnutls_x509_aia_set(a, GNUTLS_OID_AD_CAISSUERS,
					GNUTLS_SAN_URI, &u);
		if (r >= 0)
			r = gnutls_x509_ext_export_aia(a, &d);
		gnutls_x509_aia_deinit(a);
		rc = add_ext(b, GNUTLS_X509EXT_OID_AUTHORITY_INFO_ACCESS, 0, r,
			     &d);
	}
	return rc;
}

static int key_exts(struct mssl__tbs_buf *b, const struct mssl__profile_in *in)
{
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_x509_aki_t aki = NULL;
	gnutls_datum_t d = { NULL, 0 }, id;
	uint8_t ski[20], caski[64];
	size_t caski_len = sizeof(caski);
	unsigned int crit = 0;
	int r, rc;

	r = gnutls_x509_ext_export_basic_constraints(0, -1, &d);
	rc = add_ext(b, GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS, 1, r, &d);
	if (rc < 0)
		return rc;
	d.data = NULL;
	r = gnutls_x509_ext_export_key_usage(
		GNUTLS_KEY_DIGITAL_SIGNATURE |
			(in->csr->key.alg == MSSL_KEY_RSA ?
				 GNUTLS_KEY_KEY_ENCIPHERMENT :
				 0),
		&d);
	if ((rc = add_ext(b, GNUTLS_X509EXT_OID_KEY_USAGE, 1, r, &d)) < 0)
		return rc;
	d.data = NULL;
	if (gnutls_x509_key_purpose_init(&kp) < 0)
		return MSSL_ENOMEM;
	r = gnutls_x509_key_purpose_set(kp, GNUTLS_KP_TLS_WWW_SERVER);
	if (r >= 0)
		r = gnutls_x509_ext_export_key_purposes(kp, &d);
	gnutls_x509_key_purpose_deinit(kp);
	if ((rc = add_ext(b, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE, 0, r,
			  &d)) < 0)
		return rc;
	if ((rc = key_id(in->spki, in->spki_len, ski)) < 0)
		return rc;
	id.data = ski;
	id.size = sizeof(ski);
	d.data = NULL;
	r = gnutls_x509_ext_export_subject_key_id(&id, &d);
	if ((rc = add_ext(b, GNUTLS_X509EXT_OID_SUBJECT_KEY_ID, 0, r, &d)) <
	    0)
		return rc;
	r = gnutls_x509_crt_get_subject_key_id(in->ca, caski, &caski_len,
					       &crit);
	if (r < 0)
		return MSSL_ECRYPTO;
	if (gnutls_x509_aki_init(&aki) < 0)
		return MSSL_ENOMEM;
	id.data = caski;
	id.size = (unsigned)caski_len;
	d.data = NULL;
	r = gnutls_x509_aki_set_id(aki, &id);
	if (r >= 0)
		r = gnutls_x509_ext_export_authority_key_id(aki, &d);
	gnutls_x509_aki_deinit(aki);
	return add_ext(b, GNUTLS_X509EXT_OID_AUTHORITY_KEY_ID, 0, r, &d);
}

int mssl__profile_build(const struct mssl__profile_in *in,
			struct mssl__tbs_buf **out, mssl_error *err)
{
	struct mssl__tbs_buf *b = calloc(1, sizeof(*b));
	int rc;

	*out = NULL;
	if (!b)
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	b->tbs.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	b->tbs.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	b->tbs.size = sizeof(b->tbs);
	b->tbs.serial = in->serial;
	b->tbs.serial_len = in->serial_len;
	b->tbs.not_before = in->not_before;
	b->tbs.not_after = in->not_after;
	b->tbs.subject = b->attrs;
	b->tbs.spki = in->spki;
	b->tbs.spki_len = in->spki_len;
	b->tbs.exts = b->exts;
	b->tbs.csr = in->csr_der;
	b->tbs.csr_len = in->csr_len;
	b->tbs.profile = in->product == MSSL_PRODUCT_EV	      ? "ev" :
			 in->product == MSSL_PRODUCT_WILDCARD ? "wildcard" :
								"ssl";
	if ((rc = subject(b, in->csr, in->product)) < 0 ||
	    (rc = san(b, in->csr)) < 0 || (rc = key_exts(b, in)) < 0 ||
	    (rc = policies(b, in->product, in->policy_oids)) < 0 ||
	    (rc = urls(b, in->crl_url, in->ca_issuers_url)) < 0) {
		mssl__tbs_buf_free(b);
		return mssl__error_set(err, rc, "cert.build", NULL,
				       N_("the certificate could not be built: %s"),
				       mssl_strerror(rc));
	}
	*out = b;
	return 0;
}

/* ---- lint before signing --------------------------------------------- */

#define LINT(cond, ...)                                                      \
	do {                                                                 \
		if (!(cond))                                                 \
			return mssl__error_set(err, MSSL_ECRYPTO, "cert.lint", \
					       NULL, __VA_ARGS__);           \
	} while (0)

static const struct mssl_ext *find_ext(const struct mssl_tbs *t,
				       const char *oid)
{
	size_t i;

	for (i = 0; i < t->n_exts; i++)
		if (strcmp(t->exts[i].oid, oid) == 0)
			return &t->exts[i];
	return NULL;
}

int mssl__profile_lint(const struct mssl_tbs *t, int64_t now,
		       int64_t max_validity, mssl_error *err)
{
	static const char *const required[] = {
		GNUTLS_X509EXT_OID_SAN,
		GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS,
		GNUTLS_X509EXT_OID_KEY_USAGE,
		GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE,
		GNUTLS_X509EXT_OID_SUBJECT_KEY_ID,
		GNUTLS_X509EXT_OID_AUTHORITY_KEY_ID,
		GNUTLS_X509EXT_OID_CRT_POLICY,
	};
	const struct mssl_ext *bc, *ku;
	size_t i, j;

	LINT(t->serial_len >= 8 && t->serial_len <= 20,
	     N_("profile rule broken: the serial must have 8 to 20 bytes"));
	LINT(!(t->serial[0] & 0x80) && (t->serial[0] || t->serial_len == 1),
	     N_("profile rule broken: the serial must be positive and minimally encoded"));
	LINT(t->not_before <= now && t->not_before > now - 3600,
	     N_("profile rule broken: notBefore must fall within the last hour"));
	LINT(t->not_after > t->not_before &&
		     t->not_after - t->not_before <= max_validity,
	     N_("profile rule broken: the validity exceeds the policy maximum of %lld days"),
	     (long long)(max_validity / 86400));
	LINT(t->n_subject > 0 && t->spki_len > 0,
	     N_("profile rule broken: no subject or no key"));
	for (i = 0; i < MSSL_ARRAY_SIZE(required); i++)
		LINT(find_ext(t, required[i]),
		     N_("profile rule broken: extension %s is missing"),
		     required[i]);
	for (i = 0; i < t->n_exts; i++)
		for (j = i + 1; j < t->n_exts; j++)
			LINT(strcmp(t->exts[i].oid, t->exts[j].oid) != 0,
			     N_("profile rule broken: extension %s appears twice"),
			     t->exts[i].oid);
	bc = find_ext(t, GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS);
	ku = find_ext(t, GNUTLS_X509EXT_OID_KEY_USAGE);
	/* basicConstraints cA=FALSE encodes as an empty SEQUENCE. */
	LINT(bc->critical && bc->der_len == 2 && bc->der[0] == 0x30 &&
		     bc->der[1] == 0,
	     N_("profile rule broken: basicConstraints must be critical with cA FALSE"));
	LINT(ku->critical,
	     N_("profile rule broken: keyUsage must be critical"));
	return 0;
}

/* ---- after signing ------------------------------------------------------- */

#define MISMATCH(...)                                                        \
	do {                                                                 \
		rc = mssl__error_set(err, MSSL_ECRYPTO, "cert.mismatch",     \
				     NULL, __VA_ARGS__);                     \
		goto out;                                                    \
	} while (0)

/*
 * The serial: the one asked for, or (own serial) any positive one of 8
 * to 20 octets.  hex receives its magnitude.
 */
static int check_serial(const struct mssl_tbs *t, gnutls_x509_crt_t crt,
			uint32_t caps, char hex[41], mssl_error *err)
{
	uint8_t serial[32];
	size_t n = sizeof(serial), skip = 0;
	int rc = 0;

	if (gnutls_x509_crt_get_serial(crt, serial, &n) < 0 || n == 0 ||
	    n > 20)
		MISMATCH(N_("the signed certificate's serial is unreadable"));
	if (!(caps & MSSL_CA_OWN_SERIAL)) {
		if (n != t->serial_len || memcmp(serial, t->serial, n) != 0)
			MISMATCH(N_("the signed certificate's serial differs from the one asked for"));
	} else {
		/* DER: positive, minimal; one 0x00 only before a high bit. */
		if (serial[0] & 0x80)
			MISMATCH(N_("the signer chose a negative serial"));
		if (serial[0] == 0 && n > 1) {
			if (!(serial[1] & 0x80))
				MISMATCH(N_("the signer's serial is not minimally encoded"));
			skip = 1;
		}
		if (n - skip < 8 || (n == 1 && serial[0] == 0))
			MISMATCH(N_("the signer chose a serial of %zu octets; at least 8 (64 bits) are required"),
				 n - skip);
	}
	mssl__hex(serial + skip, n - skip, hex);
out:
	return rc;
}

static void utc_text(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, n, "%lld", (long long)t);
}

static int check_validity(const struct mssl_tbs *t, gnutls_x509_crt_t crt,
			  uint32_t caps, struct mssl__signed *o,
			  mssl_error *err)
{
	int64_t nb = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	int64_t na = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	int rc = 0;

	o->not_before = nb;
	o->not_after = na;
	if (!(caps & MSSL_CA_OWN_PROFILE)) {
		if (nb != t->not_before || na != t->not_after)
			MISMATCH(N_("the signed certificate's validity differs from the one asked for"));
		goto out;
	}
	/* A signer's own backdating, and a clock a little ahead. */
	if (nb < t->not_before - 3600 || nb > t->not_before + 600)
		MISMATCH(N_("the signer's notBefore is more than an hour before, or ten minutes after, the one asked for"));
	if (na <= nb || na > t->not_after ||
	    na - nb > t->not_after - t->not_before) {
		char got[32], want[32];

		utc_text(na, got, sizeof(got));
		utc_text(t->not_after, want, sizeof(want));
		MISMATCH(N_("the signer's certificate is valid until %s, after the %s asked for (the policy maximum or the end of the paid term): give the signer's profile a shorter expiry"),
			 got, want);
	}
out:
	return rc;
}

/* An attribute value as asked: tag and contents of its DER. */
static bool attr_value(const struct mssl_dn_attr *a, uint8_t *tag,
		       const uint8_t **v, size_t *n)
{
	const uint8_t *p = a->der;

	return mssl__der_next(&p, a->der + a->der_len, tag, v, n) &&
	       p == a->der + a->der_len;
}

/*
 * The subject: the attributes asked for, one per RDN, in the same order,
 * nothing else.  Their values byte for byte, or (own profile) the same
 * text as PrintableString or UTF8String: a signer that writes the
 * subject itself may choose PrintableString where the profile says
 * UTF8String (Go does for printable text).
 */
static int check_subject(const struct mssl_tbs *t, gnutls_x509_crt_t crt,
			 uint32_t caps, mssl_error *err)
{
	gnutls_x509_dn_t dn = NULL;
	gnutls_x509_ava_st ava, more;
	const uint8_t *v;
	uint8_t tag;
	size_t i, n, oid_len;
	bool tag_ok;
	int r, rc = 0;

	if (gnutls_x509_crt_get_subject(crt, &dn) < 0)
		MISMATCH(N_("the signed certificate's subject is unreadable"));
	for (i = 0;; i++) {
		r = gnutls_x509_dn_get_rdn_ava(dn, (int)i, 0, &ava);
		if (r < 0 && i == t->n_subject)
			break;
		if (r < 0)
			MISMATCH(N_("the signed certificate's subject differs in %s"),
				 t->subject[i].oid);
		if (i == t->n_subject ||
		    gnutls_x509_dn_get_rdn_ava(dn, (int)i, 1, &more) >= 0)
			MISMATCH(N_("the signed certificate's subject has attributes that were not asked for"));
		/* GnuTLS counts the OID's terminating NUL in its size. */
		oid_len = ava.oid.size;
		if (oid_len && ava.oid.data[oid_len - 1] == 0)
			oid_len--;
		if (!attr_value(&t->subject[i], &tag, &v, &n))
			MISMATCH(N_("the signed certificate's subject differs in %s"),
				 t->subject[i].oid);
		if (caps & MSSL_CA_OWN_PROFILE)
			tag_ok = ava.value_tag == 12 || ava.value_tag == 19;
		else
			tag_ok = !(tag & 0xe0) && ava.value_tag == tag;
		if (oid_len != strlen(t->subject[i].oid) ||
		    memcmp(ava.oid.data, t->subject[i].oid, oid_len) != 0 ||
		    !tag_ok || ava.value.size != n ||
		    memcmp(ava.value.data, v, n) != 0)
			MISMATCH(N_("the signed certificate's subject differs in %s"),
				 t->subject[i].oid);
	}
out:
	return rc;
}

/* The DNS names of a subjectAltName extension value; *out NULL on error. */
static gnutls_subject_alt_names_t san_import(const uint8_t *der, size_t len)
{
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };

	if (gnutls_subject_alt_names_init(&sans) < 0)
		return NULL;
	if (gnutls_x509_ext_import_subject_alt_names(&d, sans, 0) < 0) {
		gnutls_subject_alt_names_deinit(sans);
		return NULL;
	}
	return sans;
}

/* Every name of a in b (DNS names only, compared exactly). */
static bool sans_within(gnutls_subject_alt_names_t a,
			gnutls_subject_alt_names_t b, unsigned *n_a)
{
	gnutls_datum_t x, y;
	unsigned i, j, ta, tb;
	bool found;

	for (i = 0;; i++) {
		if (gnutls_subject_alt_names_get(a, i, &ta, &x, NULL) < 0)
			break;
		if (ta != GNUTLS_SAN_DNSNAME)
			return false;
		found = false;
		for (j = 0; !found; j++) {
			if (gnutls_subject_alt_names_get(b, j, &tb, &y, NULL) <
			    0)
				break;
			found = tb == ta && x.size == y.size &&
				memcmp(x.data, y.data, x.size) == 0;
		}
		if (!found)
			return false;
	}
	*n_a = i;
	return true;
}

static bool same_sans(const struct mssl_ext *want, const gnutls_datum_t *got)
{
	gnutls_subject_alt_names_t a = san_import(want->der, want->der_len);
	gnutls_subject_alt_names_t b = san_import(got->data, got->size);
	unsigned na = 0, nb = 0;
	bool same = a && b && sans_within(a, b, &na) &&
		    sans_within(b, a, &nb) && na == nb;

	if (a)
		gnutls_subject_alt_names_deinit(a);
	if (b)
		gnutls_subject_alt_names_deinit(b);
	return same;
}

/* extKeyUsage serverAuth and nothing else. */
static bool server_auth_only(const gnutls_datum_t *got)
{
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_datum_t oid;
	bool ok;

	if (gnutls_x509_key_purpose_init(&kp) < 0)
		return false;
	ok = gnutls_x509_ext_import_key_purposes(got, kp, 0) >= 0 &&
	     gnutls_x509_key_purpose_get(kp, 0, &oid) >= 0 &&
	     strlen(GNUTLS_KP_TLS_WWW_SERVER) == oid.size &&
	     memcmp(oid.data, GNUTLS_KP_TLS_WWW_SERVER, oid.size) == 0 &&
	     gnutls_x509_key_purpose_get(kp, 1, &oid) < 0;
	gnutls_x509_key_purpose_deinit(kp);
	return ok;
}

/* keyUsage with digitalSignature and nothing the profile does not set. */
static bool key_usage_within(const struct mssl_ext *want,
			     const gnutls_datum_t *got)
{
	gnutls_datum_t w = { (unsigned char *)want->der,
			     (unsigned)want->der_len };
	unsigned int ku_want = 0, ku_got = 0;

	return gnutls_x509_ext_import_key_usage(&w, &ku_want) >= 0 &&
	       gnutls_x509_ext_import_key_usage(got, &ku_got) >= 0 &&
	       (ku_got & GNUTLS_KEY_DIGITAL_SIGNATURE) &&
	       !(ku_got & ~ku_want);
}

static bool end_entity(const gnutls_datum_t *got)
{
	unsigned int ca = 1;
	int pathlen = 0;

	return gnutls_x509_ext_import_basic_constraints(got, &ca, &pathlen) >=
		       0 &&
	       ca == 0 && pathlen < 0;
}

/*
 * One extension of a certificate whose signer applies its own profile
 * (see profile.h): what the mssl profile requires of it.
 */
static bool own_ext_ok(const struct mssl_tbs *t, const char *oid,
		       unsigned crit, const gnutls_datum_t *got)
{
	const struct mssl_ext *want = find_ext(t, oid);

	if (strcmp(oid, GNUTLS_X509EXT_OID_CRT_POLICY) == 0 ||
	    strcmp(oid, GNUTLS_X509EXT_OID_AUTHORITY_INFO_ACCESS) == 0 ||
	    strcmp(oid, GNUTLS_X509EXT_OID_CRL_DIST_POINTS) == 0)
		return !crit;
	if (!want || (int)crit != !!want->critical)
		return false;
	if (strcmp(oid, GNUTLS_X509EXT_OID_SAN) == 0)
		return same_sans(want, got);
	if (strcmp(oid, GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS) == 0)
		return end_entity(got);
	if (strcmp(oid, GNUTLS_X509EXT_OID_KEY_USAGE) == 0)
		return key_usage_within(want, got);
	if (strcmp(oid, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE) == 0)
		return server_auth_only(got);
	/* SKI and AKI, and anything else the core asked for: exactly. */
	return got->size == want->der_len &&
	       memcmp(got->data, want->der, got->size) == 0;
}

#define MAX_SEEN 24

static int check_extensions(const struct mssl_tbs *t, gnutls_x509_crt_t crt,
			    uint32_t caps, mssl_error *err)
{
	static const char *const own_required[] = {
		GNUTLS_X509EXT_OID_SAN,
		GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS,
		GNUTLS_X509EXT_OID_KEY_USAGE,
		GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE,
		GNUTLS_X509EXT_OID_SUBJECT_KEY_ID,
		GNUTLS_X509EXT_OID_AUTHORITY_KEY_ID,
	};
	gnutls_datum_t ext = { NULL, 0 };
	char seen[MAX_SEEN][128];
	unsigned int crit = 0, count = 0, own_found = 0;
	size_t i, j;
	int r, rc = 0;

	for (i = 0;; i++) {
		char oid[128];
		size_t oid_len = sizeof(oid);
		const struct mssl_ext *want;
		bool ok;

		r = gnutls_x509_crt_get_extension_info(crt, (unsigned)i, oid,
						       &oid_len, &crit);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		gnutls_free(ext.data);
		ext.data = NULL;
		if (r < 0 || gnutls_x509_crt_get_extension_data2(
				     crt, (unsigned)i, &ext) < 0)
			MISMATCH(N_("the signed certificate's extension %s differs from the one asked for"),
				 r < 0 ? "?" : oid);
		/* The same extension twice is never right. */
		for (j = 0; j < i && j < MAX_SEEN; j++)
			if (strcmp(seen[j], oid) == 0)
				MISMATCH(N_("the signed certificate's extension %s appears twice"),
					 oid);
		if (i < MAX_SEEN)
			snprintf(seen[i], sizeof(seen[i]), "%s", oid);
		want = find_ext(t, oid);
		if (caps & MSSL_CA_OWN_PROFILE)
			ok = own_ext_ok(t, oid, crit, &ext);
		else
			ok = want && (int)crit == !!want->critical &&
			     ext.size == want->der_len &&
			     memcmp(ext.data, want->der, ext.size) == 0;
		if (!ok)
			MISMATCH(N_("the signed certificate's extension %s differs from the one asked for"),
				 oid);
		for (j = 0; j < MSSL_ARRAY_SIZE(own_required); j++)
			if (strcmp(oid, own_required[j]) == 0)
				own_found++;
		count++;
	}
	if (caps & MSSL_CA_OWN_PROFILE ? own_found != MSSL_ARRAY_SIZE(own_required) :
					 count != t->n_exts)
		MISMATCH(N_("the signed certificate lacks extensions asked for"));
out:
	gnutls_free(ext.data);
	return rc;
}

int mssl__profile_compare(const struct mssl_tbs *t, const uint8_t *der,
			  size_t der_len, gnutls_x509_crt_t ca, uint32_t caps,
			  struct mssl__signed *o, mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t in = { (unsigned char *)der, (unsigned)der_len };
	gnutls_datum_t spki = { NULL, 0 };
	unsigned int status = 0;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER) < 0)
		MISMATCH(N_("the CA returned something that is not a certificate"));
	if ((rc = check_serial(t, crt, caps, o->serial_hex, err)) < 0 ||
	    (rc = check_validity(t, crt, caps, o, err)) < 0 ||
	    (rc = check_subject(t, crt, caps, err)) < 0)
		goto out;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0 ||
	    spki.size != t->spki_len || memcmp(spki.data, t->spki, spki.size))
		MISMATCH(N_("the signed certificate's key differs from the request's"));
	if ((rc = check_extensions(t, crt, caps, err)) < 0)
		goto out;
	/* Signature and issuer; the validity was compared above. */
	if (!gnutls_x509_crt_check_issuer(crt, ca) ||
	    gnutls_x509_crt_verify(crt, &ca, 1,
				   GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
					   GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
				   &status) < 0 ||
	    status)
		MISMATCH(N_("the signed certificate does not verify against the issuing CA"));
out:
	if (rc == MSSL_ENOMEM)
		mssl__error_set(err, rc, "nomem", NULL, N_("out of memory"));
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}
