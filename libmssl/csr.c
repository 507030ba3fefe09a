/*
 * PKCS#10 requests: strict parsing with GnuTLS.
 *
 * A pasted request must be exactly one CSR, PEM or DER, complete, with
 * nothing after it, signed by its own key.  Each way it can be wrong has
 * its own error id so the user learns what to fix.  What is extracted
 * (subject, SANs, key) is what every validator sees.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

struct mssl_csr {
	struct mssl_csr_info info;
	struct mssl_san *sans;
	const char **names;
	/* Every string and byte buffer info points to. */
	void **owned;
	size_t n_owned, cap_owned;
	/* The request and its SubjectPublicKeyInfo, DER, for issuance. */
	const uint8_t *der;
	size_t der_len;
	const uint8_t *spki;
	size_t spki_len;
};

const uint8_t *mssl__csr_der(const mssl_csr *c, size_t *len)
{
	*len = c->der_len;
	return c->der;
}

const uint8_t *mssl__csr_spki(const mssl_csr *c, size_t *len)
{
	*len = c->spki_len;
	return c->spki;
}

static void *own(mssl_csr *c, void *p)
{
	void **v;

	if (!p)
		return NULL;
	if (c->n_owned == c->cap_owned) {
		size_t nc = c->cap_owned ? c->cap_owned * 2 : 32;

		v = realloc(c->owned, nc * sizeof(*v));
		if (!v) {
			free(p);
			return NULL;
		}
		c->owned = v;
		c->cap_owned = nc;
	}
	c->owned[c->n_owned++] = p;
	return p;
}

MSSL_API void mssl_csr_free(mssl_csr *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->sans);
	free(c->names);
	free(c);
}

MSSL_API const struct mssl_csr_info *mssl_csr_info(const mssl_csr *c)
{
	return c ? &c->info : NULL;
}

/* ---- framing: PEM or DER, exactly one, nothing more -------------------- */

static const char *find_mem(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

static bool only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

/* Length of the DER element at p (tag + length + content), 0 if unreadable. */
static size_t der_total(const uint8_t *p, size_t n)
{
	size_t len, i, nb;

	if (n < 2 || p[0] != 0x30)
		return 0;
	if (!(p[1] & 0x80))
		return 2 + (size_t)p[1];
	nb = p[1] & 0x7f;
	if (nb == 0 || nb > 4 || n < 2 + nb)
		return 0;
	for (len = 0, i = 0; i < nb; i++)
		len = len << 8 | p[2 + i];
	return 2 + nb + len;
}

static int frame_der(const uint8_t *d, size_t n, mssl_error *err)
{
	size_t total = der_total(d, n);

	if (total == 0)
		return mssl__error_set(err, MSSL_EINPUT, "csr.garbage", "csr",
				       N_("this is not a certificate signing request: paste the PEM text that begins with -----BEGIN CERTIFICATE REQUEST-----"));
	if (total > n)
		return mssl__error_set(err, MSSL_EINPUT, "csr.truncated", "csr",
				       N_("the request is cut short: it declares %zu bytes but only %zu arrived; paste or upload it again in full"),
				       total, n);
	if (total < n) {
		if (der_total(d + total, n - total) != 0)
			return mssl__error_set(err, MSSL_EINPUT, "csr.multiple",
					       "csr",
					       N_("more than one request was given; submit one certificate signing request at a time"));
		return mssl__error_set(err, MSSL_EINPUT, "csr.trailing_data",
				       "csr",
				       N_("there are %zu bytes of other data after the request; remove everything after it"),
				       n - total);
	}
	return 0;
}

static const char *const pem_labels[] = { "CERTIFICATE REQUEST",
					  "NEW CERTIFICATE REQUEST" };

/* Find the one PEM block and decode it into *der. */
static int frame_pem(const char *t, size_t n, gnutls_datum_t *der,
		     mssl_error *err)
{
	const char *begin, *label, *label_end, *end, *after;
	char endline[80];
	gnutls_datum_t pem;
	size_t i, label_len;
	int r;

	begin = find_mem(t, n, "-----BEGIN ");
	label = begin + strlen("-----BEGIN ");
	label_end = find_mem(label, (size_t)(t + n - label), "-----");
	if (!label_end)
		return mssl__error_set(err, MSSL_EINPUT, "csr.truncated", "csr",
				       N_("the request is cut short after its -----BEGIN line; paste it again in full"));
	label_len = (size_t)(label_end - label);
	for (i = 0; i < MSSL_ARRAY_SIZE(pem_labels); i++)
		if (strlen(pem_labels[i]) == label_len &&
		    memcmp(label, pem_labels[i], label_len) == 0)
			break;
	if (i == MSSL_ARRAY_SIZE(pem_labels))
		return mssl__error_set(err, MSSL_EINPUT, "csr.wrong_type", "csr",
				       N_("this is a PEM \"%.*s\", not a certificate signing request; paste the block that begins with -----BEGIN CERTIFICATE REQUEST----- (never a private key)"),
				       (int)(label_len > 40 ? 40 : label_len),
				       label);
	/*
	 * Text before the block is allowed: certtool and openssl -text put
	 * a readable dump there, and it is not part of the request.
	 */
	snprintf(endline, sizeof(endline), "-----END %s-----", pem_labels[i]);
	end = find_mem(label_end, (size_t)(t + n - label_end), endline);
	if (find_mem(label_end, (size_t)(t + n - label_end), "-----BEGIN ") &&
	    (!end || find_mem(label_end, (size_t)(end - label_end),
			      "-----BEGIN ")))
		return mssl__error_set(err, MSSL_EINPUT, "csr.truncated", "csr",
				       N_("the request has no -----END line before the next -----BEGIN; paste one complete request"));
	if (!end)
		return mssl__error_set(err, MSSL_EINPUT, "csr.truncated", "csr",
				       N_("the request is cut short: its -----END %s----- line is missing; paste it again in full"),
				       pem_labels[i]);
	after = end + strlen(endline);
	if (!only_space(after, t + n)) {
		if (find_mem(after, (size_t)(t + n - after), "-----BEGIN "))
			return mssl__error_set(err, MSSL_EINPUT, "csr.multiple",
					       "csr",
					       N_("more than one PEM block was given; submit one certificate signing request at a time"));
		return mssl__error_set(err, MSSL_EINPUT, "csr.trailing_data",
				       "csr",
				       N_("there is other text after -----END %s-----; remove everything after it"),
				       pem_labels[i]);
	}
	pem.data = (unsigned char *)begin;
	pem.size = (unsigned)(after - begin);
	r = gnutls_pem_base64_decode2(pem_labels[i], &pem, der);
	if (r < 0)
		return mssl__error_set(err, MSSL_EINPUT, "csr.base64", "csr",
				       N_("the text between the BEGIN and END lines is not valid base64 (%s); paste the request unchanged"),
				       gnutls_strerror(r));
	r = frame_der(der->data, der->size, err);
	if (r < 0) {
		gnutls_free(der->data);
		der->data = NULL;
	}
	return r;
}

/* ---- subject ------------------------------------------------------------ */

static const struct {
	const char *oid;
	const char *name;
	size_t off;
} attrs[] = {
#define A(oid, name, f) { oid, name, offsetof(struct mssl_subject_info, f) }
	A("2.5.4.6", "C", c),
	A("2.5.4.8", "ST", st),
	A("2.5.4.7", "L", l),
	A("2.5.4.10", "O", o),
	A("2.5.4.11", "OU", ou),
	A("2.5.4.3", "CN", cn),
	A("2.5.4.5", "serialNumber", serial_number),
	A("2.5.4.15", "businessCategory", business_category),
	A("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC", jur_c),
	A("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST", jur_st),
	A("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL", jur_l),
#undef A
};

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * GnuTLS gives attribute values RFC 4514-escaped ("Co.\, Ltd."), but the
 * rules compare the value itself, so undo it in place: "\c" is c, "\XX"
 * is the byte 0xXX.  Returns false on a malformed escape.
 */
static bool rfc4514_unescape(char *s, size_t *len)
{
	char *r = s, *w = s, *end = s + *len;

	while (r < end) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		if (r + 1 >= end)
			return false;
		if (r + 2 < end && hexdigit(r[1]) >= 0 && hexdigit(r[2]) >= 0) {
			*w++ = (char)(hexdigit(r[1]) << 4 | hexdigit(r[2]));
			r += 3;
		} else {
			*w++ = r[1];
			r += 2;
		}
	}
	*w = '\0';
	*len = (size_t)(w - s);
	return true;
}

/* ---- the request's own DER: one walk instead of GnuTLS's accessors ------ */

/*
 * GnuTLS's accessors (subject by OID, the DN text, SANs, the key) each
 * walk its ASN.1 tree by name and cost together some 80 us a request, more
 * than the signature check of an RSA-2048 request.  Once GnuTLS has
 * imported the request (so it is well-formed DER) and verified it, the
 * fields are read here straight from the DER, for the forms every real
 * request uses.  Anything else (another string type, an attribute not in
 * the table, an empty value or a NUL, an unusual SAN type or encoding, a
 * key GnuTLS did not verify) is left to the GnuTLS accessors as before,
 * so the fast path only ever sees input both read the same way;
 * tests/test-csr.c checks that it gives exactly what GnuTLS gives.
 */

/* The parts of certificationRequestInfo, each a whole DER element. */
struct crq_parts {
	const uint8_t *subject, *spki, *attrs;
	size_t subject_len, spki_len, attrs_len; /* attrs: [0]'s contents */
};

static bool split_crq(const uint8_t *der, size_t len, struct crq_parts *pt)
{
	const uint8_t *p = der, *end = der + len, *v, *start;
	size_t n;
	uint8_t tag;

	memset(pt, 0, sizeof(*pt));
	/* CertificationRequest, certificationRequestInfo, version */
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return false;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return false;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x02)
		return false;
	start = p;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return false;
	pt->subject = start;
	pt->subject_len = (size_t)(p - start);
	start = p;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return false;
	pt->spki = start;
	pt->spki_len = (size_t)(p - start);
	if (p < end) {
		if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0xa0 ||
		    p != end)
			return false;
		pt->attrs = v;
		pt->attrs_len = n;
	}
	return true;
}

enum dn_kind {
	DN_DIRECTORY, /* DirectoryString: UTF8String or PrintableString */
	DN_PRINTABLE, /* PrintableString only */
	DN_IA5, /* IA5String only */
};

/* The attributes the fast path knows: their OID, GnuTLS's name, type. */
static const struct {
	uint8_t oid[11];
	uint8_t oid_len;
	const char *ldap;
	enum dn_kind kind;
	int attr; /* index in attrs[], -1: only shown in the DN text */
} dn_attrs[] = {
#define X520(n) { 0x55, 0x04, n }, 3
#define JUR(n) { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, n }, 11
	{ X520(0x06), "C", DN_PRINTABLE, 0 },
	{ X520(0x08), "ST", DN_DIRECTORY, 1 },
	{ X520(0x07), "L", DN_DIRECTORY, 2 },
	{ X520(0x0a), "O", DN_DIRECTORY, 3 },
	{ X520(0x0b), "OU", DN_DIRECTORY, 4 },
	{ X520(0x03), "CN", DN_DIRECTORY, 5 },
	{ X520(0x05), "serialNumber", DN_PRINTABLE, 6 },
	{ X520(0x0f), "businessCategory", DN_DIRECTORY, 7 },
	{ JUR(0x03), "jurisdictionOfIncorporationCountryName", DN_PRINTABLE, 8 },
	{ JUR(0x02), "jurisdictionOfIncorporationStateOrProvinceName",
	  DN_DIRECTORY, 9 },
	{ JUR(0x01), "jurisdictionOfIncorporationLocalityName", DN_DIRECTORY,
	  10 },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 }, 9, "EMAIL",
	  DN_IA5, -1 },
	{ X520(0x09), "street", DN_DIRECTORY, -1 },
	{ X520(0x11), "postalCode", DN_DIRECTORY, -1 },
#undef X520
#undef JUR
};

/* The value's string type is one the fast path reads as bytes. */
static bool dn_tag_ok(enum dn_kind kind, uint8_t tag)
{
	switch (kind) {
	case DN_DIRECTORY:
		return tag == 0x0c || tag == 0x13;
	case DN_PRINTABLE:
		return tag == 0x13;
	case DN_IA5:
		return tag == 0x16;
	}
	return false;
}

/* Append v, RFC 4514-escaped as GnuTLS does, to the DN text at *w. */
static char *dn_escape(char *w, const uint8_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v[i] && strchr(",+\"\\<>;", v[i])) ||
		    (i == 0 && v[i] == '#') ||
		    ((i == 0 || i == n - 1) && v[i] == ' '))
			*w++ = '\\';
		*w++ = (char)v[i];
	}
	return w;
}

struct dn_ava {
	int entry; /* index in dn_attrs[] */
	const uint8_t *v;
	size_t n;
	bool rdn_start;
};

/*
 * The subject from its DER.  Returns 1 when read, 0 when the subject has
 * something the fast path leaves to GnuTLS, or MSSL_ENOMEM.
 */
static int fast_subject(mssl_csr *c, const uint8_t *der, size_t len)
{
	struct mssl_subject_info *s = &c->info.subject;
	struct dn_ava ava[32];
	const uint8_t *p = der, *end = der + len, *v, *rp, *rend, *ap, *aend;
	const uint8_t *first[MSSL_ARRAY_SIZE(attrs)] = { NULL };
	size_t first_len[MSSL_ARRAY_SIZE(attrs)] = { 0 }, n, size = 1;
	unsigned count[MSSL_ARRAY_SIZE(attrs)] = { 0 };
	size_t i, j, k, n_ava = 0;
	uint8_t tag;
	char *dn, *w;

	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30 || p != end)
		return 0;
	for (rp = v, rend = v + n; rp < rend;) {
		const uint8_t *set;
		size_t set_len;
		bool start = true;

		if (!mssl__der_next(&rp, rend, &tag, &set, &set_len) ||
		    tag != 0x31 || set_len == 0)
			return 0;
		for (ap = set, aend = set + set_len; ap < aend;) {
			const uint8_t *seq, *q, *oid, *val;
			size_t seq_len, oid_len, val_len;
			uint8_t vtag;

			if (!mssl__der_next(&ap, aend, &tag, &seq, &seq_len) ||
			    tag != 0x30)
				return 0;
			q = seq;
			if (!mssl__der_next(&q, seq + seq_len, &tag, &oid,
					    &oid_len) ||
			    tag != 0x06 ||
			    !mssl__der_next(&q, seq + seq_len, &vtag, &val,
					    &val_len) ||
			    q != seq + seq_len)
				return 0;
			for (i = 0; i < MSSL_ARRAY_SIZE(dn_attrs); i++)
				if (dn_attrs[i].oid_len == oid_len &&
				    memcmp(dn_attrs[i].oid, oid, oid_len) == 0)
					break;
			if (i == MSSL_ARRAY_SIZE(dn_attrs) ||
			    !dn_tag_ok(dn_attrs[i].kind, vtag) ||
			    val_len == 0 || memchr(val, 0, val_len) ||
			    n_ava == MSSL_ARRAY_SIZE(ava))
				return 0;
			ava[n_ava].entry = (int)i;
			ava[n_ava].v = val;
			ava[n_ava].n = val_len;
			ava[n_ava].rdn_start = start;
			n_ava++;
			start = false;
			size += strlen(dn_attrs[i].ldap) + 2 + 2 * val_len;
			k = (size_t)dn_attrs[i].attr;
			if (dn_attrs[i].attr >= 0 && count[k]++ == 0) {
				first[k] = val;
				first_len[k] = val_len;
			}
		}
	}
	/* The DN text: the RDNs last first (RFC 4514), '+' within one. */
	dn = own(c, malloc(size));
	if (!dn)
		return MSSL_ENOMEM;
	w = dn;
	for (i = n_ava; i > 0;) {
		for (j = i - 1; !ava[j].rdn_start; j--)
			;
		for (k = j; k < i; k++) {
			const char *ldap = dn_attrs[ava[k].entry].ldap;

			if (w != dn)
				*w++ = k == j ? ',' : '+';
			memcpy(w, ldap, strlen(ldap));
			w += strlen(ldap);
			*w++ = '=';
			w = dn_escape(w, ava[k].v, ava[k].n);
		}
		i = j;
	}
	*w = '\0';
	s->dn = dn;
	for (i = 0; i < MSSL_ARRAY_SIZE(attrs); i++) {
		const char **field = (const char **)((char *)s + attrs[i].off);
		char *t;

		if (!count[i])
			continue;
		t = own(c, malloc(first_len[i] + 1));
		if (!t)
			return MSSL_ENOMEM;
		memcpy(t, first[i], first_len[i]);
		t[first_len[i]] = '\0';
		*field = t;
		if (count[i] > 1) {
			if (!s->repeated)
				s->repeated = attrs[i].name;
			s->n_repeated += count[i] - 1;
		}
	}
	return 1;
}

/* Attribute value idx of oid as text; *out NULL when absent. */
static int dn_value(mssl_csr *c, gnutls_x509_crq_t crq, const char *oid,
		    unsigned idx, const char **out, mssl_error *err)
{
	size_t size = 0;
	char *buf;
	int r;

	*out = NULL;
	r = gnutls_x509_crq_get_dn_by_oid(crq, oid, idx, 0, NULL, &size);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (r != GNUTLS_E_SHORT_MEMORY_BUFFER && r < 0)
		goto bad;
	buf = own(c, calloc(1, size + 1));
	if (!buf)
		return MSSL_ENOMEM;
	r = gnutls_x509_crq_get_dn_by_oid(crq, oid, idx, 0, buf, &size);
	if (r < 0)
		goto bad;
	/* "#..." is the hex DER GnuTLS gives for a value that is no string. */
	if (buf[0] == '#' || !rfc4514_unescape(buf, &size))
		return mssl__error_set(err, MSSL_EINPUT, "csr.encoding", "csr",
				       N_("a subject field (OID %s) is not a text string; make a new request"),
				       oid);
	if (strlen(buf) != size)
		return mssl__error_set(err, MSSL_EINPUT, "csr.encoding", "csr",
				       N_("a subject field (OID %s) contains a NUL character; make a new request"),
				       oid);
	*out = buf;
	return 0;
bad:
	return mssl__error_set(err, MSSL_EINPUT, "csr.encoding", "csr",
			       N_("a subject field (OID %s) cannot be read: %s"),
			       oid, gnutls_strerror(r));
}

static int read_subject(mssl_csr *c, gnutls_x509_crq_t crq, mssl_error *err)
{
	struct mssl_subject_info *s = &c->info.subject;
	gnutls_datum_t dn = { NULL, 0 };
	unsigned count[MSSL_ARRAY_SIZE(attrs)] = { 0 }, idx;
	size_t i;
	int rc;

	/*
	 * Count each attribute once, then fetch only those present: probing
	 * every known OID twice costs some forty decodes of the name.
	 */
	for (idx = 0;; idx++) {
		char oid[128];
		size_t n = sizeof(oid);
		int r = gnutls_x509_crq_get_dn_oid(crq, idx, oid, &n);

		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r < 0)
			return mssl__error_set(err, MSSL_EINPUT, "csr.encoding",
					       "csr",
					       N_("the subject cannot be read: %s"),
					       gnutls_strerror(r));
		for (i = 0; i < MSSL_ARRAY_SIZE(attrs); i++)
			if (strcmp(oid, attrs[i].oid) == 0)
				count[i]++;
	}
	for (i = 0; i < MSSL_ARRAY_SIZE(attrs); i++) {
		const char **field = (const char **)((char *)s + attrs[i].off);

		if (!count[i])
			continue;
		rc = dn_value(c, crq, attrs[i].oid, 0, field, err);
		if (rc < 0)
			return rc;
		if (count[i] > 1) {
			if (!s->repeated)
				s->repeated = attrs[i].name;
			s->n_repeated += count[i] - 1;
		}
	}
	if (gnutls_x509_crq_get_dn3(crq, &dn, 0) == 0) {
		char *t = own(c, calloc(1, dn.size + 1));

		if (t)
			memcpy(t, dn.data, dn.size);
		gnutls_free(dn.data);
		if (!t)
			return MSSL_ENOMEM;
		s->dn = t;
	} else {
		s->dn = "";
	}
	return 0;
}

/* ---- subject alternative names ------------------------------------------ */

static int add_san(mssl_csr *c, size_t *cap, int type, char *value)
{
	struct mssl_san *v;

	if (!own(c, value))
		return MSSL_ENOMEM;
	if (c->info.n_sans == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;

		v = realloc(c->sans, nc * sizeof(*v));
		if (!v)
			return MSSL_ENOMEM;
		c->sans = v;
		*cap = nc;
	}
	c->sans[c->info.n_sans].type = type;
	c->sans[c->info.n_sans].value = value;
	c->info.n_sans++;
	c->info.sans = c->sans;
	return 0;
}

/* One name of the extension, as text. */
static int add_one_san(mssl_csr *c, size_t *cap, unsigned seq, unsigned type,
		       const gnutls_datum_t *v, mssl_error *err)
{
	char text[INET6_ADDRSTRLEN + 16], *s;

	switch (type) {
	case GNUTLS_SAN_DNSNAME:
	case GNUTLS_SAN_RFC822NAME:
	case GNUTLS_SAN_URI:
		if (memchr(v->data, 0, v->size))
			return mssl__error_set(err, MSSL_EINPUT, "csr.encoding",
					       "csr",
					       N_("subject alternative name %u contains a NUL character; make a new request"),
					       seq + 1);
		if (v->size > 1023)
			return mssl__error_set(err, MSSL_EINPUT,
					       "csr.san_too_long", "csr",
					       N_("subject alternative name %u is longer than %zu bytes; no valid name is that long"),
					       seq + 1, (size_t)1023);
		s = strndup((const char *)v->data, v->size);
		return add_san(c, cap,
			       type == GNUTLS_SAN_DNSNAME ? MSSL_SAN_DNS :
			       type == GNUTLS_SAN_URI	  ? MSSL_SAN_URI :
							    MSSL_SAN_EMAIL,
			       s);
	case GNUTLS_SAN_IPADDRESS:
		if ((v->size != 4 && v->size != 16) ||
		    !inet_ntop(v->size == 16 ? AF_INET6 : AF_INET, v->data,
			       text, sizeof(text)))
			snprintf(text, sizeof(text), "(%u bytes)", v->size);
		return add_san(c, cap, MSSL_SAN_IP, strdup(text));
	default:
		return add_san(c, cap, MSSL_SAN_OTHER,
			       strdup(type == GNUTLS_SAN_DN	      ? "dirName" :
				      type == GNUTLS_SAN_OTHERNAME    ? "otherName" :
				      type == GNUTLS_SAN_REGISTERED_ID ?
								      "registeredID" :
								      "other"));
	}
}

static const uint8_t oid_ext_request[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
					   0x0d, 0x01, 0x09, 0x0e };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

static bool oid_is(const uint8_t *v, size_t n, const uint8_t *oid,
		   size_t oid_len)
{
	return n == oid_len && memcmp(v, oid, n) == 0;
}

/*
 * The SAN extension's GeneralNames from the DER (*names, *len; NULL when
 * there is none).  False when anything is not in the plain form: one
 * extensionRequest attribute with one value, at most one SAN extension,
 * DER booleans, only DNS, e-mail, URI and IP names.
 */
static bool find_sans(const struct crq_parts *pt, const uint8_t **names,
		      size_t *len)
{
	const uint8_t *p = pt->attrs, *end = pt->attrs + pt->attrs_len;
	const uint8_t *exts = NULL, *v, *q, *qe, *oid, *set, *x;
	size_t n, oid_len, set_len, exts_len = 0, x_len;
	uint8_t tag;

	*names = NULL;
	*len = 0;
	while (p < end) {
		if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
			return false;
		q = v;
		qe = v + n;
		if (!mssl__der_next(&q, qe, &tag, &oid, &oid_len) ||
		    tag != 0x06 ||
		    !mssl__der_next(&q, qe, &tag, &set, &set_len) ||
		    tag != 0x31 || q != qe)
			return false;
		if (!oid_is(oid, oid_len, oid_ext_request,
			    sizeof(oid_ext_request)))
			continue;
		if (exts)
			return false;
		q = set;
		qe = set + set_len;
		if (!mssl__der_next(&q, qe, &tag, &exts, &exts_len) ||
		    tag != 0x30 || q != qe)
			return false;
	}
	for (p = exts, end = exts + exts_len; exts && p < end;) {
		if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
			return false;
		q = v;
		qe = v + n;
		if (!mssl__der_next(&q, qe, &tag, &oid, &oid_len) ||
		    tag != 0x06 || !mssl__der_next(&q, qe, &tag, &x, &x_len))
			return false;
		if (tag == 0x01) {
			if (x_len != 1 || x[0] != 0xff ||
			    !mssl__der_next(&q, qe, &tag, &x, &x_len))
				return false;
		}
		if (tag != 0x04 || q != qe)
			return false;
		if (!oid_is(oid, oid_len, oid_san, sizeof(oid_san)))
			continue;
		if (*names)
			return false;
		q = x;
		qe = x + x_len;
		if (!mssl__der_next(&q, qe, &tag, &v, &n) || tag != 0x30 ||
		    q != qe || n == 0)
			return false;
		*names = v;
		*len = n;
		for (q = v, qe = v + n; q < qe;)
			if (!mssl__der_next(&q, qe, &tag, &x, &x_len) ||
			    x_len == 0 || (tag != 0x81 && tag != 0x82 && tag != 0x86 &&
			     tag != 0x87))
				return false;
	}
	return true;
}

/*
 * The SANs from the DER.  Returns 1 when read, 0 when they are left to
 * GnuTLS, or an error.
 */
static int fast_sans(mssl_csr *c, const struct crq_parts *pt, mssl_error *err)
{
	const uint8_t *names, *p, *end, *v;
	size_t len, n, cap = 0;
	unsigned seq = 0;
	uint8_t tag;
	int rc;

	if (!find_sans(pt, &names, &len))
		return 0;
	for (p = names, end = names + len; names && p < end; seq++) {
		gnutls_datum_t d;

		mssl__der_next(&p, end, &tag, &v, &n);
		d.data = (unsigned char *)v;
		d.size = (unsigned)n;
		rc = add_one_san(c, &cap, seq,
				 tag == 0x82 ? GNUTLS_SAN_DNSNAME :
				 tag == 0x81 ? GNUTLS_SAN_RFC822NAME :
				 tag == 0x86 ? GNUTLS_SAN_URI :
					       GNUTLS_SAN_IPADDRESS,
				 &d, err);
		if (rc < 0)
			return rc;
	}
	return 1;
}

/*
 * The SAN extension is decoded once; asking GnuTLS for name n at a time
 * decodes the whole extension set n times (quadratic in the names).
 */
static int read_sans(mssl_csr *c, gnutls_x509_crq_t crq, mssl_error *err)
{
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t ext = { NULL, 0 };
	unsigned critical = 0, seq;
	size_t cap = 0;
	int r, rc = 0;

	r = gnutls_x509_crq_get_extension_by_oid2(crq, GNUTLS_X509EXT_OID_SAN,
						  0, &ext, &critical);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (r >= 0 && gnutls_subject_alt_names_init(&sans) < 0)
		r = GNUTLS_E_MEMORY_ERROR;
	if (r >= 0)
		r = gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0);
	if (r < 0) {
		rc = mssl__error_set(err, MSSL_EINPUT, "csr.encoding", "csr",
				     N_("the subject alternative names cannot be read: %s"),
				     gnutls_strerror(r));
		goto out;
	}
	for (seq = 0; rc == 0; seq++) {
		gnutls_datum_t v = { NULL, 0 }, oid = { NULL, 0 };
		unsigned type = 0;

		r = gnutls_subject_alt_names_get(sans, seq, &type, &v, &oid);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r < 0) {
			rc = mssl__error_set(err, MSSL_EINPUT, "csr.encoding",
					     "csr",
					     N_("subject alternative name %u cannot be read: %s"),
					     seq + 1, gnutls_strerror(r));
			break;
		}
		rc = add_one_san(c, &cap, seq, type, &v, err);
	}
out:
	if (sans)
		gnutls_subject_alt_names_deinit(sans);
	gnutls_free(ext.data);
	return rc;
}

/* CN first, then DNS SANs, without repeats (case-insensitive). */
static int collect_names(mssl_csr *c)
{
	size_t i, j, n = 0;

	c->names = calloc(c->info.n_sans + 2, sizeof(*c->names));
	if (!c->names)
		return MSSL_ENOMEM;
	if (c->info.subject.cn && *c->info.subject.cn)
		c->names[n++] = c->info.subject.cn;
	for (i = 0; i < c->info.n_sans; i++) {
		if (c->sans[i].type != MSSL_SAN_DNS)
			continue;
		for (j = 0; j < n; j++)
			if (strcasecmp(c->names[j], c->sans[i].value) == 0)
				break;
		if (j == n)
			c->names[n++] = c->sans[i].value;
	}
	c->info.names = c->names;
	c->info.n_names = n;
	return 0;
}

/* ---- key ------------------------------------------------------------------ */

static const char *curve_name(gnutls_ecc_curve_t curve)
{
	switch (curve) {
	case GNUTLS_ECC_CURVE_SECP192R1:
		return "P-192";
	case GNUTLS_ECC_CURVE_SECP224R1:
		return "P-224";
	case GNUTLS_ECC_CURVE_SECP256R1:
		return "P-256";
	case GNUTLS_ECC_CURVE_SECP384R1:
		return "P-384";
	case GNUTLS_ECC_CURVE_SECP521R1:
		return "P-521";
	default:
		return gnutls_ecc_curve_get_name(curve);
	}
}

/* Keep a datum's bytes, left-padded with zeros to 'width' when larger. */
static const uint8_t *keep_datum(mssl_csr *c, const gnutls_datum_t *d,
				 size_t width, size_t *len)
{
	size_t n = d->size > width ? d->size : width;
	uint8_t *p = own(c, calloc(1, n ? n : 1));

	if (p)
		memcpy(p + (n - d->size), d->data, d->size);
	*len = n;
	return p;
}

/* A DER OBJECT IDENTIFIER's contents in dotted form. */
static bool oid_text(const uint8_t *v, size_t n, char *out, size_t size)
{
	unsigned long long arc = 0;
	size_t i, w = 0;
	bool first = true;

	for (i = 0; i < n; i++) {
		if (arc > (~0ull >> 8))
			return false;
		arc = arc << 7 | (v[i] & 0x7f);
		if (v[i] & 0x80)
			continue;
		if (first)
			w += (size_t)snprintf(out + w, size - w, "%llu.%llu",
					      arc < 80 ? arc / 40 : 2,
					      arc < 80 ? arc % 40 : arc - 80);
		else
			w += (size_t)snprintf(out + w, size - w, ".%llu", arc);
		if (w >= size)
			return false;
		first = false;
		arc = 0;
	}
	return !first && !(n && (v[n - 1] & 0x80));
}

/*
 * The SubjectPublicKeyInfo, read from the request's DER itself, so that
 * its hash and an EC key's curve are known even for a key GnuTLS cannot
 * use: such a key can still be named in a finding and blocked.
 */
static void read_spki(mssl_csr *c, const uint8_t *der, size_t len)
{
	struct mssl_key_info *k = &c->info.key;
	const uint8_t *p = der, *end = der + len, *v, *spki;
	size_t n;
	uint8_t tag;
	char oid[96];

	/* CertificationRequest, certificationRequestInfo, version, subject */
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || !mssl__der_next(&p, end, &tag, &v, &n))
		return;
	spki = p;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, spki, (size_t)(p - spki),
			 k->spki_sha256);
	c->spki = own(c, malloc((size_t)(p - spki)));
	if (c->spki) {
		memcpy((uint8_t *)c->spki, spki, (size_t)(p - spki));
		c->spki_len = (size_t)(p - spki);
	}
	/* algorithm: OID and, for EC keys, the named curve's OID. */
	end = v + n;
	p = v;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return;
	end = v + n;
	p = v;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x06 ||
	    !oid_text(v, n, oid, sizeof(oid)))
		return;
	if (strcmp(oid, "1.2.840.10045.2.1") != 0)
		return;
	k->alg = MSSL_KEY_EC;
	k->alg_name = "ECDSA";
	if (mssl__der_next(&p, end, &tag, &v, &n) && tag == 0x06 &&
	    oid_text(v, n, oid, sizeof(oid)))
		k->ec_curve = own(c, strdup(oid));
}

static const uint8_t oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
				   0x0d, 0x01, 0x01, 0x01 };
static const uint8_t oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const struct {
	uint8_t oid[8];
	size_t oid_len;
	const char *name;
	unsigned bits, width;
} fast_curves[] = {
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 }, 8, "P-256", 256, 32 },
	{ { 0x2b, 0x81, 0x04, 0x00, 0x22 }, 5, "P-384", 384, 48 },
	{ { 0x2b, 0x81, 0x04, 0x00, 0x23 }, 5, "P-521", 521, 66 },
};

/* A DER INTEGER's magnitude without leading zero bytes. */
static const uint8_t *int_magnitude(const uint8_t *v, size_t *n)
{
	while (*n > 0 && v[0] == 0) {
		v++;
		(*n)--;
	}
	return v;
}

static const uint8_t *keep_bytes(mssl_csr *c, const uint8_t *v, size_t n)
{
	uint8_t *p = own(c, malloc(n));

	if (p)
		memcpy(p, v, n);
	return p;
}

/*
 * An RSA or P-256/P-384/P-521 key of a verified request from the DER.
 * Returns 1 when read, 0 when it is left to GnuTLS, or MSSL_ENOMEM.
 */
static int fast_key(mssl_csr *c, const struct crq_parts *pt)
{
	struct mssl_key_info *k = &c->info.key;
	const uint8_t *p = pt->spki, *end = pt->spki + pt->spki_len, *v, *q;
	const uint8_t *qe, *oid, *par, *bits, *nv, *ev;
	size_t n, oid_len, par_len, bits_len, nn, en, i;
	uint8_t tag, ptag;

	if (!c->info.signature_verified ||
	    !mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30)
		return 0;
	p = v;
	end = v + n;
	if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30 ||
	    !mssl__der_next(&p, end, &tag, &bits, &bits_len) || tag != 0x03 ||
	    p != end || bits_len < 2 || bits[0] != 0)
		return 0;
	q = v;
	qe = v + n;
	if (!mssl__der_next(&q, qe, &tag, &oid, &oid_len) || tag != 0x06 ||
	    !mssl__der_next(&q, qe, &ptag, &par, &par_len) || q != qe)
		return 0;
	bits++;
	bits_len--;
	if (oid_is(oid, oid_len, oid_rsa, sizeof(oid_rsa))) {
		if (ptag != 0x05 || par_len != 0)
			return 0;
		p = bits;
		end = bits + bits_len;
		if (!mssl__der_next(&p, end, &tag, &v, &n) || tag != 0x30 ||
		    p != end)
			return 0;
		q = v;
		qe = v + n;
		if (!mssl__der_next(&q, qe, &tag, &nv, &nn) || tag != 0x02 ||
		    !mssl__der_next(&q, qe, &tag, &ev, &en) || tag != 0x02 ||
		    q != qe)
			return 0;
		nv = int_magnitude(nv, &nn);
		ev = int_magnitude(ev, &en);
		if (nn == 0 || en == 0)
			return 0;
		k->alg = MSSL_KEY_RSA;
		k->alg_name = "RSA";
		for (k->bits = (unsigned)(nn - 1) * 8, i = nv[0]; i; i >>= 1)
			k->bits++;
		k->rsa_n = keep_bytes(c, nv, nn);
		k->rsa_n_len = nn;
		k->rsa_e = keep_bytes(c, ev, en);
		k->rsa_e_len = en;
		return k->rsa_n && k->rsa_e ? 1 : MSSL_ENOMEM;
	}
	if (!oid_is(oid, oid_len, oid_ec, sizeof(oid_ec)) || ptag != 0x06)
		return 0;
	for (i = 0; i < MSSL_ARRAY_SIZE(fast_curves); i++)
		if (oid_is(par, par_len, fast_curves[i].oid,
			   fast_curves[i].oid_len))
			break;
	if (i == MSSL_ARRAY_SIZE(fast_curves) ||
	    bits_len != 1 + 2 * (size_t)fast_curves[i].width || bits[0] != 0x04)
		return 0;
	k->alg = MSSL_KEY_EC;
	k->alg_name = "ECDSA";
	k->ec_curve = fast_curves[i].name;
	k->bits = fast_curves[i].bits;
	k->ec_len = fast_curves[i].width;
	k->ec_x = keep_bytes(c, bits + 1, k->ec_len);
	k->ec_y = keep_bytes(c, bits + 1 + k->ec_len, k->ec_len);
	return k->ec_x && k->ec_y ? 1 : MSSL_ENOMEM;
}

static int read_key(mssl_csr *c, gnutls_x509_crq_t crq, mssl_error *err)
{
	struct mssl_key_info *k = &c->info.key;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	int alg, r, rc = 0;

	alg = gnutls_x509_crq_get_pk_algorithm(crq, &bits);
	k->bits = bits;
	if (k->alg != MSSL_KEY_EC) {
		k->alg = MSSL_KEY_OTHER;
		k->alg_name = alg > 0 ? gnutls_pk_get_name(alg) : NULL;
		if (!k->alg_name)
			k->alg_name = "unknown";
	}
	if (gnutls_pubkey_init(&pub) < 0)
		return MSSL_ENOMEM;
	r = gnutls_pubkey_import_x509_crq(pub, crq, 0);
	if (r < 0) {
		/* GnuTLS knows no such key (an unusual curve, say): what
		 * read_spki found lets the validators refuse it by name. */
		goto out;
	}
	if (alg == GNUTLS_PK_RSA) {
		r = gnutls_pubkey_export_rsa_raw2(pub, &a, &b,
						  GNUTLS_EXPORT_FLAG_NO_LZ);
		if (r < 0)
			goto bad;
		k->alg = MSSL_KEY_RSA;
		k->alg_name = "RSA";
		k->rsa_n = keep_datum(c, &a, 0, &k->rsa_n_len);
		k->rsa_e = keep_datum(c, &b, 0, &k->rsa_e_len);
		if (!k->rsa_n || !k->rsa_e)
			rc = MSSL_ENOMEM;
	} else if (alg == GNUTLS_PK_ECDSA) {
		size_t width, ylen;

		r = gnutls_pubkey_export_ecc_raw2(pub, &curve, &a, &b,
						  GNUTLS_EXPORT_FLAG_NO_LZ);
		if (r < 0)
			goto bad;
		k->alg = MSSL_KEY_EC;
		k->alg_name = "ECDSA";
		k->ec_curve = curve_name(curve);
		k->bits = gnutls_ecc_curve_get_size(curve) * 8;
		if (curve == GNUTLS_ECC_CURVE_SECP521R1)
			k->bits = 521;
		width = gnutls_ecc_curve_get_size(curve);
		k->ec_x = keep_datum(c, &a, width, &k->ec_len);
		k->ec_y = keep_datum(c, &b, width, &ylen);
		if (!k->ec_x || !k->ec_y)
			rc = MSSL_ENOMEM;
		else if (ylen != k->ec_len)
			k->ec_len = ylen > k->ec_len ? ylen : k->ec_len;
	}
	goto out;
bad:
	rc = mssl__error_set(err, MSSL_EINPUT, "csr.key", "csr",
			     N_("the request's public key cannot be read: %s"),
			     gnutls_strerror(r));
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return rc;
}

/* ---- entry ---------------------------------------------------------------- */

/* The request's fields: from the DER when 'fast', else from GnuTLS. */
static int read_fields(mssl_csr *c, gnutls_x509_crq_t crq,
		       const gnutls_datum_t *der, bool fast, mssl_error *err)
{
	struct crq_parts pt;
	int rc;

	fast = fast && split_crq(der->data, der->size, &pt);
	rc = fast ? fast_subject(c, pt.subject, pt.subject_len) : 0;
	if (rc == 0)
		rc = read_subject(c, crq, err);
	if (rc < 0)
		return rc;
	rc = fast ? fast_sans(c, &pt, err) : 0;
	if (rc == 0)
		rc = read_sans(c, crq, err);
	if (rc < 0)
		return rc;
	rc = fast ? fast_key(c, &pt) : 0;
	if (rc == 0)
		rc = read_key(c, crq, err);
	if (rc < 0)
		return rc;
	return collect_names(c);
}

static int csr_parse(const void *data, size_t len, mssl_csr **out, bool fast,
		     mssl_error *err)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t der = { NULL, 0 };
	mssl_csr *c = NULL;
	bool pem_der = false;
	int r, rc;

	return_val_if_fail(out, MSSL_EINVAL);
	*out = NULL;
	if (!data || len == 0 || only_space(data, (const char *)data + len))
		return mssl__error_set(err, MSSL_EINPUT, "csr.empty", "csr",
				       N_("no certificate signing request was given"));
	if (len > MSSL_CSR_MAX_SIZE)
		return mssl__error_set(err, MSSL_EINPUT, "csr.too_large", "csr",
				       N_("the request is %zu bytes; a certificate signing request is never larger than %d bytes"),
				       len, MSSL_CSR_MAX_SIZE);
	if (find_mem(data, len, "-----BEGIN ")) {
		rc = frame_pem(data, len, &der, err);
		pem_der = true;
	} else {
		rc = frame_der(data, len, err);
		der.data = (unsigned char *)data;
		der.size = (unsigned)len;
	}
	if (rc < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c || gnutls_x509_crq_init(&crq) < 0) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	r = gnutls_x509_crq_import(crq, &der, GNUTLS_X509_FMT_DER);
	if (r < 0) {
		rc = mssl__error_set(err, MSSL_EINPUT, "csr.garbage", "csr",
				     N_("this is not a valid certificate signing request (%s); make a new one with your server's tools"),
				     gnutls_strerror(r));
		goto out;
	}
	/* Proof of possession; SHA-1 signatures still prove it. */
	r = gnutls_x509_crq_verify(crq, GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1);
	c->info.signature_verified = r >= 0;
	/* A key GnuTLS cannot use is not a forgery: the validators say why
	 * it is refused, and the core refuses what it could not verify. */
	if (r == GNUTLS_E_ECC_UNSUPPORTED_CURVE ||
	    r == GNUTLS_E_UNKNOWN_PK_ALGORITHM ||
	    r == GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM ||
	    r == GNUTLS_E_UNKNOWN_ALGORITHM)
		r = 0;
	if (r < 0) {
		rc = mssl__error_set(err, MSSL_EINPUT, "csr.signature", "csr",
				     N_("the request's signature does not verify with its own key (%s): it was altered or made wrongly; make a new request"),
				     gnutls_strerror(r));
		goto out;
	}
	read_spki(c, der.data, der.size);
	if (!c->spki) {
		rc = mssl__error_set(err, MSSL_EINPUT, "csr.encoding", "csr",
				     N_("the request's public key information cannot be read; make a new request"));
		goto out;
	}
	c->der = own(c, malloc(der.size));
	if (!c->der) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	memcpy((uint8_t *)c->der, der.data, der.size);
	c->der_len = der.size;
	if ((rc = read_fields(c, crq, &der, fast, err)) < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (rc == MSSL_ENOMEM && mssl_error_code(err) != MSSL_ENOMEM)
		mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				N_("out of memory"));
	if (pem_der)
		gnutls_free(der.data);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	mssl_csr_free(c);
	return rc;
}

MSSL_API int mssl_csr_parse(const void *data, size_t len, mssl_csr **out,
			    mssl_error *err)
{
	return csr_parse(data, len, out, true, err);
}

/*
 * mssl_csr_parse with every field read through GnuTLS's accessors, never
 * from the DER directly: for tests that compare the two.
 */
int mssl__csr_parse_gnutls(const void *data, size_t len, mssl_csr **out,
			   mssl_error *err)
{
	return csr_parse(data, len, out, false, err);
}
