/*
 * ca-gnutls: a CA backend that signs with GnuTLS, the CA key in a PEM file
 * or on any PKCS#11 token (a pkcs11: URI through p11-kit).
 *
 * The core decides everything a certificate or CRL says; this backend only
 * signs.  Certificates are built with GnuTLS's setters from struct
 * mssl_tbs, field by field, adding nothing, and signed with
 * gnutls_x509_crt_privkey_sign().  CRLs are DER-encoded here and signed
 * with gnutls_privkey_sign_data2(), because GnuTLS 3.7 cannot put a
 * reasonCode (or any entry extension) into a CRL it builds; each CRL is
 * parsed back and verified against the CA certificate before it is
 * returned.  See README for exactly what the output holds.
 *
 * Threads: GnuTLS objects may be used by one thread at a time, so each
 * concurrent caller signs with a signer of its own (its own copy of the
 * key handle and of the CA certificate), taken from a pool that grows to
 * the number of callers signing at once.
 *
 * Includes only <mssl/plugin.h> and GnuTLS; never links libmssl.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include <mssl/plugin.h>

#define MAX_PIN_FILE 256 /* bytes of a PIN or passphrase file */
#define MAX_KEY_FILE (64 * 1024) /* bytes of a PEM key file */
#define MAX_SERIAL 20 /* RFC 5280 4.1.2.2: at most 20 octets */

#define OID_CRL_REASON "2.5.29.21"

/* One key handle and CA certificate, used by one thread at a time. */
struct signer {
	gnutls_privkey_t key;
	gnutls_x509_crt_t ca;
	struct signer *next;
};

struct ca {
	const struct mssl_host *host;
	void *hctx;
	bool gnutls_ready;

	/* The key: a pkcs11: URI, or a parsed file key copied per signer. */
	char *key_url;
	gnutls_x509_privkey_t file_key;
	char *pin; /* token PIN or key passphrase; wiped at fini */
	size_t pin_len;

	/* The issuing CA: DER, subject DER and SKI; then the chain. */
	uint8_t **chain_der; /* [0] is the issuing CA certificate */
	size_t *chain_len;
	size_t n_chain;
	uint8_t *issuer_dn;
	size_t issuer_dn_len;
	uint8_t ski[64];
	size_t ski_len;

	gnutls_digest_algorithm_t dig;
	gnutls_sign_algorithm_t sign_algo;
	gnutls_pk_algorithm_t pk;

	pthread_mutex_t lock;
	struct signer *idle;
};

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------ */

static int nomem(struct ca *ca)
{
	ca->host->error(ca->hctx, MSSL_ENOMEM, "nomem", "out of memory");
	return MSSL_ENOMEM;
}

static void *xalloc(struct ca *ca, size_t n)
{
	return ca->host->alloc(ca->hctx, n);
}

static void xfree(struct ca *ca, void *p)
{
	ca->host->free(ca->hctx, p);
}

/* Copy a GnuTLS datum into host memory; frees the datum. */
static int take_datum(struct ca *ca, gnutls_datum_t *d, uint8_t **out,
		      size_t *len)
{
	uint8_t *p = xalloc(ca, d->size);

	if (!p) {
		gnutls_free(d->data);
		d->data = NULL;
		return nomem(ca);
	}
	memcpy(p, d->data, d->size);
	*out = p;
	*len = d->size;
	gnutls_free(d->data);
	d->data = NULL;
	return 0;
}

static bool is_gnutls_nomem(int ret)
{
	return ret == GNUTLS_E_MEMORY_ERROR;
}

/* A PIN-related failure from a token (wrong, locked, expired). */
static bool is_pin_error(int ret)
{
	return ret == GNUTLS_E_PKCS11_PIN_ERROR ||
	       ret == GNUTLS_E_PKCS11_PIN_EXPIRED ||
	       ret == GNUTLS_E_PKCS11_PIN_LOCKED ||
	       ret == GNUTLS_E_PKCS11_USER_ERROR;
}

/*
 * Read a file that holds a secret (a PIN, a passphrase, a private key).
 * It must be a regular file owned by us or root, with no permission for
 * group or others: otherwise the secret may already be out.
 * On success *out is NUL-terminated host memory of *len bytes (plus the
 * NUL); the caller wipes and frees it.
 */
static int read_secret_file(struct ca *ca, const char *cfgkey, const char *path,
			    size_t max, char **out, size_t *len)
{
	const struct mssl_host *h = ca->host;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return h->config_error(ca->hctx, cfgkey, "cannot open %s: %s",
				       path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = h->config_error(ca->hctx, cfgkey, "cannot stat %s: %s",
				     path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = h->config_error(ca->hctx, cfgkey,
				     "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = h->config_error(
			ca->hctx, cfgkey,
			"%s holds a secret but group or others may access it (mode %04o): chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = h->config_error(
			ca->hctx, cfgkey,
			"%s holds a secret but belongs to uid %u, neither this process's user nor root",
			path, (unsigned)st.st_uid);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = h->config_error(ca->hctx, cfgkey,
				     "%s is larger than %zu bytes", path, max);
		goto out;
	}
	buf = xalloc(ca, max + 1);
	if (!buf) {
		rc = nomem(ca);
		goto out;
	}
	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = h->config_error(ca->hctx, cfgkey,
					     "cannot read %s: %s", path,
					     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	if (buf)
		h->wipe_free(ca->hctx, buf, max + 1);
	close(fd);
	return rc;
}

/* Wipe and free a buffer from read_secret_file(..., max, ...). */
static void wipe_secret(struct ca *ca, char *s, size_t max)
{
	if (s)
		ca->host->wipe_free(ca->hctx, s, max + 1);
}

/* ---------------------------------------------------------------------
 * Signers
 * ------------------------------------------------------------------ */

/*
 * GnuTLS asks for the token PIN.  Never give it twice: a real token counts
 * wrong PINs and locks, so a wrong PIN must fail at once, not be retried.
 */
static int pin_cb(void *ud, int attempt, const char *token_url,
		  const char *token_label, unsigned int flags, char *pin,
		  size_t pin_max)
{
	struct ca *ca = ud;

	(void)token_url;
	(void)token_label;
	if (attempt > 0 || (flags & (GNUTLS_PIN_WRONG | GNUTLS_PIN_SO)) ||
	    !ca->pin || ca->pin_len + 1 > pin_max)
		return GNUTLS_E_PKCS11_PIN_ERROR;
	memcpy(pin, ca->pin, ca->pin_len);
	pin[ca->pin_len] = '\0';
	return 0;
}

static void signer_free(struct ca *ca, struct signer *s)
{
	if (!s)
		return;
	if (s->key)
		gnutls_privkey_deinit(s->key);
	if (s->ca)
		gnutls_x509_crt_deinit(s->ca);
	xfree(ca, s);
}

/* A new signer; on failure *gret holds the GnuTLS error. */
static int signer_new(struct ca *ca, struct signer **out, int *gret)
{
	struct signer *s;
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	*gret = 0;
	s = xalloc(ca, sizeof(*s));
	if (!s)
		return MSSL_ENOMEM;
	memset(s, 0, sizeof(*s));
	ret = gnutls_x509_crt_init(&s->ca);
	if (ret < 0)
		goto fail;
	d.data = ca->chain_der[0];
	d.size = (unsigned)ca->chain_len[0];
	ret = gnutls_x509_crt_import(s->ca, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0)
		goto fail;
	ret = gnutls_privkey_init(&s->key);
	if (ret < 0)
		goto fail;
	if (ca->key_url) {
		gnutls_privkey_set_pin_function(s->key, pin_cb, ca);
		ret = gnutls_privkey_import_url(s->key, ca->key_url, 0);
	} else {
		ret = gnutls_privkey_import_x509(s->key, ca->file_key,
						 GNUTLS_PRIVKEY_IMPORT_COPY);
	}
	if (ret < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	*gret = ret;
	signer_free(ca, s);
	return is_gnutls_nomem(ret) ? MSSL_ENOMEM : MSSL_ECRYPTO;
}

static int signer_get(struct ca *ca, struct signer **out)
{
	struct signer *s;
	int rc, gret;

	pthread_mutex_lock(&ca->lock);
	s = ca->idle;
	if (s)
		ca->idle = s->next;
	pthread_mutex_unlock(&ca->lock);
	if (s) {
		s->next = NULL;
		*out = s;
		return 0;
	}
	rc = signer_new(ca, out, &gret);
	if (rc == MSSL_ENOMEM)
		return nomem(ca);
	if (rc < 0)
		ca->host->error(ca->hctx, rc, "ca.key",
				"cannot open the CA key %s: %s",
				ca->key_url ? ca->key_url : "(file)",
				gnutls_strerror(gret));
	return rc;
}

/* Back into the pool; a signer that failed is dropped (a token session
 * may have gone) and the next caller opens a new one. */
static void signer_put(struct ca *ca, struct signer *s, bool failed)
{
	if (!s)
		return;
	if (failed) {
		signer_free(ca, s);
		return;
	}
	pthread_mutex_lock(&ca->lock);
	s->next = ca->idle;
	ca->idle = s;
	pthread_mutex_unlock(&ca->lock);
}

/* ---------------------------------------------------------------------
 * DER writing (CRLs)
 * ------------------------------------------------------------------ */

struct der {
	struct ca *ca;
	uint8_t *p;
	size_t len, cap;
	int err; /* first failure: MSSL_ENOMEM or MSSL_EINVAL */
};

static bool der_reserve(struct der *d, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (d->err)
		return false;
	if (d->len + n <= d->cap)
		return true;
	cap = d->cap ? d->cap : 1024;
	while (cap < d->len + n)
		cap *= 2;
	p = d->ca->host->realloc(d->ca->hctx, d->p, cap);
	if (!p) {
		d->err = MSSL_ENOMEM;
		return false;
	}
	d->p = p;
	d->cap = cap;
	return true;
}

static void der_put(struct der *d, const void *src, size_t n)
{
	if (!n || !der_reserve(d, n))
		return;
	memcpy(d->p + d->len, src, n);
	d->len += n;
}

static void der_byte(struct der *d, uint8_t b)
{
	der_put(d, &b, 1);
}

/* Open a constructed element: tag and a one-byte length to fix up. */
static size_t der_begin(struct der *d, uint8_t tag)
{
	size_t at = d->len;

	der_byte(d, tag);
	der_byte(d, 0);
	return at;
}

/* Close the element opened at 'at': write its definite length. */
static void der_end(struct der *d, size_t at)
{
	size_t content, n = 0, i, v;
	uint8_t hdr[9];

	if (d->err)
		return;
	content = d->len - at - 2;
	if (content < 0x80) {
		d->p[at + 1] = (uint8_t)content;
		return;
	}
	for (v = content; v; v >>= 8)
		n++;
	if (!der_reserve(d, n))
		return;
	memmove(d->p + at + 2 + n, d->p + at + 2, content);
	hdr[0] = (uint8_t)(0x80 | n);
	for (i = 0; i < n; i++)
		hdr[1 + i] = (uint8_t)(content >> (8 * (n - 1 - i)));
	memcpy(d->p + at + 1, hdr, n + 1);
	d->len += n;
}

static void der_prim(struct der *d, uint8_t tag, const void *v, size_t n)
{
	size_t at = der_begin(d, tag);

	der_put(d, v, n);
	der_end(d, at);
}

/* A positive INTEGER from a big-endian magnitude (leading zeros ignored). */
static void der_uint(struct der *d, const uint8_t *v, size_t n)
{
	size_t at;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	at = der_begin(d, 0x02);
	if (n == 0 || v[0] & 0x80)
		der_byte(d, 0);
	der_put(d, v, n);
	der_end(d, at);
}

/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
static void der_time(struct der *d, int64_t t)
{
	char s[32];
	struct tm tm;
	time_t tt = (time_t)t;
	int n;

	if ((int64_t)tt != t || !gmtime_r(&tt, &tm) ||
	    tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 > 9999) {
		if (!d->err)
			d->err = MSSL_EINVAL;
		return;
	}
	if (tm.tm_year + 1900 < 2050)
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ",
			     tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	der_prim(d, tm.tm_year + 1900 < 2050 ? 0x17 : 0x18, s, (size_t)n);
}

/* An OBJECT IDENTIFIER from its dotted form. */
static void der_oid(struct der *d, const char *dotted)
{
	uint8_t out[64], tmp[10];
	unsigned long arcs[32];
	size_t n = 0, len = 0, i, k;
	const char *c = dotted;
	char *end;

	while (*c && n < 32) {
		errno = 0;
		arcs[n++] = strtoul(c, &end, 10);
		if (end == c || errno || (*end && *end != '.'))
			goto bad;
		c = *end ? end + 1 : end;
	}
	if (*c || n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
		goto bad;
	arcs[1] += arcs[0] * 40;
	for (i = 1; i < n; i++) {
		unsigned long v = arcs[i];

		k = 0;
		do {
			tmp[k++] = (uint8_t)(v & 0x7f);
			v >>= 7;
		} while (v && k < sizeof(tmp));
		if (len + k > sizeof(out))
			goto bad;
		while (k--)
			out[len++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
	}
	der_prim(d, 0x06, out, len);
	return;
bad:
	if (!d->err)
		d->err = MSSL_EINVAL;
}

/* AlgorithmIdentifier of the CA's signature: RSA PKCS#1 v1.5 carries a
 * NULL parameter, ECDSA none (RFC 4055, RFC 5758). */
static void der_sigalg(struct der *d, struct ca *ca)
{
	const char *oid = gnutls_sign_get_oid(ca->sign_algo);
	size_t at = der_begin(d, 0x30);

	if (!oid) {
		d->err = MSSL_EINVAL;
		return;
	}
	der_oid(d, oid);
	if (ca->pk == GNUTLS_PK_RSA)
		der_prim(d, 0x05, NULL, 0);
	der_end(d, at);
}

/* ---------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------ */

static int ca_chain(void *state, mssl_der_cb cb, void *ud)
{
	struct ca *ca = state;
	size_t i;
	int rc;

	for (i = 0; i < ca->n_chain; i++) {
		rc = cb(ud, ca->chain_der[i], ca->chain_len[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Minimal size of struct mssl_tbs / mssl_crl_tbs as of ABI 1.0. */
#define TBS_SIZE_1_0 (offsetof(struct mssl_tbs, profile) + sizeof(char *))
#define CRL_TBS_SIZE_1_0                                                       \
	(offsetof(struct mssl_crl_tbs, n_entries) + sizeof(size_t))

static int bad_tbs(struct ca *ca, const char *what)
{
	ca->host->error(ca->hctx, MSSL_EINVAL, "ca.tbs", "cannot sign: %s",
			what);
	return MSSL_EINVAL;
}

/* A serial as a DER INTEGER's content: positive, at most 20 octets. */
static int serial_content(const uint8_t *v, size_t n, uint8_t *out,
			  size_t *out_len)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	if (n == 0 || (n == 1 && v[0] == 0))
		return -1;
	*out_len = 0;
	if (v[0] & 0x80)
		out[(*out_len)++] = 0;
	if (*out_len + n > MAX_SERIAL)
		return -1;
	memcpy(out + *out_len, v, n);
	*out_len += n;
	return 0;
}

static int set_fail(struct ca *ca, const char *what, int ret)
{
	if (is_gnutls_nomem(ret))
		return nomem(ca);
	ca->host->error(ca->hctx, MSSL_EINVAL, "ca.tbs",
			"cannot set the certificate's %s: %s", what,
			gnutls_strerror(ret));
	return MSSL_EINVAL;
}

static int ca_issue(void *state, const struct mssl_tbs *tbs, uint8_t **der,
		    size_t *der_len)
{
	struct ca *ca = state;
	struct signer *s = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { NULL, 0 };
	uint8_t serial[MAX_SERIAL];
	size_t serial_len, i, j;
	bool failed = false;
	int ret, rc;

	if (!der || !der_len)
		return bad_tbs(ca, "no output");
	*der = NULL;
	*der_len = 0;
	if (!tbs || tbs->abi_major != MSSL_PLUGIN_ABI_MAJOR ||
	    tbs->size < TBS_SIZE_1_0)
		return bad_tbs(ca, "struct mssl_tbs of another ABI");
	if (!tbs->serial ||
	    serial_content(tbs->serial, tbs->serial_len, serial, &serial_len))
		return bad_tbs(ca,
			       "the serial must be positive and fit 20 octets");
	if (tbs->not_after <= tbs->not_before)
		return bad_tbs(ca, "notAfter is not after notBefore");
	if (!tbs->spki || !tbs->spki_len || (tbs->n_subject && !tbs->subject) ||
	    (tbs->n_exts && !tbs->exts))
		return bad_tbs(ca, "no public key, subject or extensions");
	for (i = 0; i < tbs->n_exts; i++) {
		if (!tbs->exts[i].oid || !tbs->exts[i].der)
			return bad_tbs(ca, "an extension without OID or value");
		/* GnuTLS would silently replace the first of two. */
		for (j = 0; j < i; j++)
			if (strcmp(tbs->exts[i].oid, tbs->exts[j].oid) == 0)
				return bad_tbs(ca,
					       "an extension appears twice");
	}

	ret = gnutls_x509_crt_init(&crt);
	if (ret < 0) {
		rc = nomem(ca);
		goto out;
	}
	ret = gnutls_x509_crt_set_version(crt, 3);
	if (ret < 0) {
		rc = set_fail(ca, "version", ret);
		goto out;
	}
	ret = gnutls_x509_crt_set_serial(crt, serial, serial_len);
	if (ret < 0) {
		rc = set_fail(ca, "serial", ret);
		goto out;
	}
	if ((int64_t)(time_t)tbs->not_before != tbs->not_before ||
	    (int64_t)(time_t)tbs->not_after != tbs->not_after) {
		rc = bad_tbs(ca, "validity out of range");
		goto out;
	}
	ret = gnutls_x509_crt_set_activation_time(crt, (time_t)tbs->not_before);
	if (ret < 0) {
		rc = set_fail(ca, "notBefore", ret);
		goto out;
	}
	ret = gnutls_x509_crt_set_expiration_time(crt, (time_t)tbs->not_after);
	if (ret < 0) {
		rc = set_fail(ca, "notAfter", ret);
		goto out;
	}
	/* Raw: each value is DER with its tag (UTF8String, PrintableString)
	 * and goes in unchanged, one attribute per RDN, in order. */
	for (i = 0; i < tbs->n_subject; i++) {
		const struct mssl_dn_attr *a = &tbs->subject[i];

		if (!a->oid || !a->der || !a->der_len ||
		    a->der_len > 0xffffffffu) {
			rc = bad_tbs(ca, "a subject attribute without value");
			goto out;
		}
		ret = gnutls_x509_crt_set_dn_by_oid(crt, a->oid, 1, a->der,
						    (unsigned)a->der_len);
		if (ret < 0) {
			rc = set_fail(ca, "subject", ret);
			goto out;
		}
	}
	ret = gnutls_pubkey_init(&pub);
	if (ret < 0) {
		rc = nomem(ca);
		goto out;
	}
	d.data = (uint8_t *)tbs->spki;
	d.size = (unsigned)tbs->spki_len;
	ret = gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_DER);
	d.data = NULL;
	if (ret < 0) {
		rc = set_fail(ca, "public key", ret);
		goto out;
	}
	ret = gnutls_x509_crt_set_pubkey(crt, pub);
	if (ret < 0) {
		rc = set_fail(ca, "public key", ret);
		goto out;
	}
	/*
	 * GnuTLS writes the key it parsed, not the bytes it was given: make
	 * sure they are the same (they are for RSA and named-curve ECDSA
	 * keys in DER), so that the certificate carries the core's SPKI.
	 */
	ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &d);
	if (ret < 0) {
		rc = set_fail(ca, "public key", ret);
		goto out;
	}
	if (d.size != tbs->spki_len || memcmp(d.data, tbs->spki, d.size)) {
		gnutls_free(d.data);
		d.data = NULL;
		rc = bad_tbs(
			ca,
			"the SubjectPublicKeyInfo is not in the DER form GnuTLS writes; it would change");
		goto out;
	}
	gnutls_free(d.data);
	d.data = NULL;
	for (i = 0; i < tbs->n_exts; i++) {
		const struct mssl_ext *e = &tbs->exts[i];

		ret = gnutls_x509_crt_set_extension_by_oid(
			crt, e->oid, e->der, e->der_len, e->critical ? 1 : 0);
		if (ret < 0) {
			rc = set_fail(ca, e->oid, ret);
			goto out;
		}
	}

	rc = signer_get(ca, &s);
	if (rc < 0)
		goto out;
	ret = gnutls_x509_crt_privkey_sign(crt, s->ca, s->key, ca->dig, 0);
	if (ret < 0) {
		failed = true;
		if (is_gnutls_nomem(ret)) {
			rc = nomem(ca);
			goto out;
		}
		ca->host->error(ca->hctx, MSSL_ECRYPTO, "ca.sign",
				"signing the certificate failed: %s",
				gnutls_strerror(ret));
		rc = MSSL_ECRYPTO;
		goto out;
	}
	ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d);
	if (ret < 0) {
		rc = set_fail(ca, "encoding", ret);
		goto out;
	}
	rc = take_datum(ca, &d, der, der_len);
out:
	signer_put(ca, s, failed);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

/* RFC 5280 5.3.1 CRLReason: 0-10 without 7. */
static bool reason_ok(int r)
{
	return r == -1 || (r >= 0 && r <= 10 && r != 7);
}

/* TBSCertList (RFC 5280 5.1.2) exactly as asked. */
static void crl_tbs_encode(struct der *d, struct ca *ca,
			   const struct mssl_crl_tbs *tbs)
{
	uint8_t nr[8];
	size_t tbs_at, rev_at, ent_at, exts_at, ext_at, oct_at, seq_at, i;
	uint8_t v2 = 1, reason;

	tbs_at = der_begin(d, 0x30);
	der_prim(d, 0x02, &v2, 1); /* version v2 */
	der_sigalg(d, ca);
	der_put(d, ca->issuer_dn, ca->issuer_dn_len);
	der_time(d, tbs->this_update);
	der_time(d, tbs->next_update);
	/* RFC 5280 5.1.2.6: absent, not empty, when nothing is revoked. */
	if (tbs->n_entries) {
		rev_at = der_begin(d, 0x30);
		for (i = 0; i < tbs->n_entries; i++) {
			const struct mssl_crl_entry *e = &tbs->entries[i];

			ent_at = der_begin(d, 0x30);
			der_uint(d, e->serial, e->serial_len);
			der_time(d, e->revoked_at);
			if (e->reason >= 0) {
				reason = (uint8_t)e->reason;
				exts_at = der_begin(d, 0x30);
				ext_at = der_begin(d, 0x30);
				der_oid(d, OID_CRL_REASON);
				oct_at = der_begin(d, 0x04);
				der_prim(d, 0x0a, &reason, 1);
				der_end(d, oct_at);
				der_end(d, ext_at);
				der_end(d, exts_at);
			}
			der_end(d, ent_at);
		}
		der_end(d, rev_at);
	}
	/* crlExtensions [0]: AKI (keyIdentifier) and cRLNumber. */
	exts_at = der_begin(d, 0xa0);
	seq_at = der_begin(d, 0x30);
	ext_at = der_begin(d, 0x30);
	der_oid(d, "2.5.29.35");
	oct_at = der_begin(d, 0x04);
	i = der_begin(d, 0x30);
	der_prim(d, 0x80, ca->ski, ca->ski_len);
	der_end(d, i);
	der_end(d, oct_at);
	der_end(d, ext_at);
	ext_at = der_begin(d, 0x30);
	der_oid(d, "2.5.29.20");
	oct_at = der_begin(d, 0x04);
	for (i = 0; i < 8; i++)
		nr[i] = (uint8_t)(tbs->number >> (56 - 8 * i));
	der_uint(d, nr, sizeof(nr));
	der_end(d, oct_at);
	der_end(d, ext_at);
	der_end(d, seq_at);
	der_end(d, exts_at);
	der_end(d, tbs_at);
}

/* Parse the CRL back and verify its signature with the CA certificate. */
static int crl_check(struct ca *ca, struct signer *s, const uint8_t *der,
		     size_t len)
{
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t d = { (uint8_t *)der, (unsigned)len };
	unsigned int status = 0;
	int ret;

	ret = gnutls_x509_crl_init(&crl);
	if (ret == 0)
		ret = gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER);
	/* The signature is what is checked here; the dates come from the
	 * host's clock, which need not be the wall clock. */
	if (ret == 0)
		ret = gnutls_x509_crl_verify(
			crl, &s->ca, 1,
			GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
				GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
			&status);
	if (crl)
		gnutls_x509_crl_deinit(crl);
	/* Dated by the host's clock: only a time verdict is no failure. */
	if ((status & ~(GNUTLS_CERT_INVALID |
			GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE |
			GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED)) == 0)
		status = 0;
	if (ret < 0 || status) {
		ca->host->error(
			ca->hctx, MSSL_ECRYPTO, "ca.crl_check",
			"the signed CRL does not verify: %s (status 0x%x)",
			ret < 0 ? gnutls_strerror(ret) : "bad signature",
			status);
		return MSSL_ECRYPTO;
	}
	return 0;
}

static int ca_crl(void *state, const struct mssl_crl_tbs *tbs, uint8_t **der,
		  size_t *der_len)
{
	struct ca *ca = state;
	struct signer *s = NULL;
	struct der d = { .ca = ca };
	gnutls_datum_t data, sig = { NULL, 0 };
	uint8_t tmp[MAX_SERIAL];
	size_t tbs_len, tmp_len, at, i;
	bool failed = false;
	int ret, rc;

	if (!der || !der_len)
		return bad_tbs(ca, "no output");
	*der = NULL;
	*der_len = 0;
	if (!tbs || tbs->abi_major != MSSL_PLUGIN_ABI_MAJOR ||
	    tbs->size < CRL_TBS_SIZE_1_0)
		return bad_tbs(ca, "struct mssl_crl_tbs of another ABI");
	if (tbs->next_update <= tbs->this_update)
		return bad_tbs(ca, "nextUpdate is not after thisUpdate");
	if (tbs->n_entries && !tbs->entries)
		return bad_tbs(ca, "no entries");
	for (i = 0; i < tbs->n_entries; i++) {
		const struct mssl_crl_entry *e = &tbs->entries[i];

		if (!e->serial ||
		    serial_content(e->serial, e->serial_len, tmp, &tmp_len))
			return bad_tbs(
				ca,
				"a revoked serial is not positive or longer than 20 octets");
		if (!reason_ok(e->reason))
			return bad_tbs(
				ca,
				"a revocation reason is not an RFC 5280 CRLReason");
	}

	/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
	 * signatureValue }: the TBS first, then what signs it. */
	at = der_begin(&d, 0x30);
	crl_tbs_encode(&d, ca, tbs);
	if (d.err) {
		rc = d.err == MSSL_ENOMEM ?
			     nomem(ca) :
			     bad_tbs(ca, "a time or OID cannot be encoded");
		goto out;
	}
	tbs_len = d.len - at;
	/* The outer header is still one placeholder byte long. */
	data.data = d.p + at + 2;
	data.size = (unsigned)(tbs_len - 2);

	rc = signer_get(ca, &s);
	if (rc < 0)
		goto out;
	ret = gnutls_privkey_sign_data2(s->key, ca->sign_algo, 0, &data, &sig);
	if (ret < 0) {
		failed = true;
		if (is_gnutls_nomem(ret)) {
			rc = nomem(ca);
			goto out;
		}
		ca->host->error(ca->hctx, MSSL_ECRYPTO, "ca.sign",
				"signing the CRL failed: %s",
				gnutls_strerror(ret));
		rc = MSSL_ECRYPTO;
		goto out;
	}
	der_sigalg(&d, ca);
	i = der_begin(&d, 0x03);
	der_byte(&d, 0); /* no unused bits */
	der_put(&d, sig.data, sig.size);
	der_end(&d, i);
	der_end(&d, at);
	if (d.err) {
		rc = d.err == MSSL_ENOMEM ?
			     nomem(ca) :
			     bad_tbs(ca, "cannot encode the CRL");
		goto out;
	}
	rc = crl_check(ca, s, d.p, d.len);
	if (rc < 0)
		goto out;
	*der = d.p;
	*der_len = d.len;
	d.p = NULL;
out:
	signer_put(ca, s, failed);
	gnutls_free(sig.data);
	xfree(ca, d.p);
	return rc;
}

/* ---------------------------------------------------------------------
 * init and fini
 * ------------------------------------------------------------------ */

static void ca_fini(void *state)
{
	struct ca *ca = state;
	struct signer *s;
	size_t i;

	if (!ca)
		return;
	while ((s = ca->idle)) {
		ca->idle = s->next;
		signer_free(ca, s);
	}
	if (ca->file_key)
		gnutls_x509_privkey_deinit(ca->file_key);
	wipe_secret(ca, ca->pin, MAX_PIN_FILE);
	xfree(ca, ca->key_url);
	for (i = 0; i < ca->n_chain; i++)
		xfree(ca, ca->chain_der[i]);
	xfree(ca, ca->chain_der);
	xfree(ca, ca->chain_len);
	xfree(ca, ca->issuer_dn);
	pthread_mutex_destroy(&ca->lock);
	if (ca->gnutls_ready)
		gnutls_global_deinit();
	ca->host->free(ca->hctx, ca);
}

static const char *cfg(struct ca *ca, const char *key)
{
	const char *v = ca->host->config_get(ca->hctx, key);

	return v && *v ? v : NULL;
}

static int need_absolute(struct ca *ca, const char *key, const char *v)
{
	if (v[0] == '/')
		return 0;
	return ca->host->config_error(ca->hctx, key,
				      "\"%s\" must be an absolute path", v);
}

static void time_str(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%lld", (long long)t);
}

/* A certificate must be valid at the host's 'now'. */
static int check_time(struct ca *ca, const char *key, const char *what,
		      gnutls_x509_crt_t crt)
{
	int64_t now = ca->host->now(ca->hctx);
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);
	char buf[64];

	if ((int64_t)na < now) {
		time_str(na, buf, sizeof(buf));
		return ca->host->config_error(ca->hctx, key, "%s expired on %s",
					      what, buf);
	}
	if ((int64_t)nb > now) {
		time_str(nb, buf, sizeof(buf));
		return ca->host->config_error(
			ca->hctx, key, "%s is not valid before %s", what, buf);
	}
	return 0;
}

/* Load the issuing CA certificate and check it can sign certificates and
 * CRLs. */
static int load_ca_cert(struct ca *ca, const char *path, gnutls_x509_crt_t *out)
{
	const struct mssl_host *h = ca->host;
	gnutls_x509_crt_t *list = NULL;
	gnutls_datum_t data = { NULL, 0 }, dn = { NULL, 0 };
	unsigned int n = 0, i, usage = 0, critical = 0, is_ca = 0;
	int ret, rc = 0;

	*out = NULL;
	ret = gnutls_load_file(path, &data);
	if (ret < 0)
		return h->config_error(ca->hctx, "certificate",
				       "cannot read %s: %s", path,
				       gnutls_strerror(ret));
	ret = gnutls_x509_crt_list_import2(&list, &n, &data,
					   GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || n == 0) {
		rc = h->config_error(ca->hctx, "certificate",
				     "%s holds no PEM certificate: %s", path,
				     ret < 0 ? gnutls_strerror(ret) : "empty");
		goto out;
	}
	if (n != 1) {
		rc = h->config_error(
			ca->hctx, "certificate",
			"%s holds %u certificates: give only the issuing CA's here and the rest in chain",
			path, n);
		goto out;
	}
	ret = gnutls_x509_crt_get_basic_constraints(list[0], &critical, &is_ca,
						    NULL);
	if (ret < 0 || !is_ca) {
		rc = h->config_error(
			ca->hctx, "certificate",
			"%s is not a CA certificate: basicConstraints cA is not TRUE",
			path);
		goto out;
	}
	ret = gnutls_x509_crt_get_key_usage(list[0], &usage, &critical);
	if (ret < 0 || !(usage & GNUTLS_KEY_KEY_CERT_SIGN)) {
		rc = h->config_error(
			ca->hctx, "certificate",
			"%s is not a CA certificate that may sign certificates: keyUsage lacks keyCertSign",
			path);
		goto out;
	}
	if (!(usage & GNUTLS_KEY_CRL_SIGN)) {
		rc = h->config_error(
			ca->hctx, "certificate",
			"%s may not sign CRLs (keyUsage lacks cRLSign); this backend signs the CA's CRLs too",
			path);
		goto out;
	}
	ca->ski_len = sizeof(ca->ski);
	ret = gnutls_x509_crt_get_subject_key_id(list[0], ca->ski, &ca->ski_len,
						 &critical);
	if (ret < 0 || ca->ski_len == 0) {
		rc = h->config_error(
			ca->hctx, "certificate",
			"%s has no subjectKeyIdentifier, which RFC 5280 requires of a CA certificate and CRLs need for their AKI",
			path);
		goto out;
	}
	rc = check_time(ca, "certificate", path, list[0]);
	if (rc < 0)
		goto out;
	ret = gnutls_x509_crt_get_raw_dn(list[0], &dn);
	if (ret < 0) {
		rc = h->config_error(ca->hctx, "certificate",
				     "%s: cannot read the subject: %s", path,
				     gnutls_strerror(ret));
		goto out;
	}
	rc = take_datum(ca, &dn, &ca->issuer_dn, &ca->issuer_dn_len);
	if (rc < 0)
		goto out;
	*out = list[0];
	list[0] = NULL;
out:
	for (i = 0; i < n; i++)
		if (list[i])
			gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	gnutls_free(data.data);
	return rc;
}

/*
 * The chain above the issuing CA, up to and including a self-signed root.
 * A chain file that starts with the issuing CA itself (a "full chain"
 * file) is accepted too.  Signatures and CA constraints are checked with
 * GnuTLS, validity against the host's clock.
 */
static int load_chain(struct ca *ca, const char *path, gnutls_x509_crt_t crt)
{
	const struct mssl_host *h = ca->host;
	gnutls_x509_crt_t *list = NULL, *all = NULL;
	gnutls_datum_t data = { NULL, 0 }, out = { NULL, 0 };
	unsigned int n = 0, i, skip = 0, total, status = 0;
	int ret, rc = 0;

	if (path) {
		ret = gnutls_load_file(path, &data);
		if (ret < 0)
			return h->config_error(ca->hctx, "chain",
					       "cannot read %s: %s", path,
					       gnutls_strerror(ret));
		ret = gnutls_x509_crt_list_import2(&list, &n, &data,
						   GNUTLS_X509_FMT_PEM, 0);
		if (ret < 0 || n == 0) {
			rc = h->config_error(
				ca->hctx, "chain",
				"%s holds no PEM certificate: %s", path,
				ret < 0 ? gnutls_strerror(ret) : "empty");
			goto out;
		}
		if (gnutls_x509_crt_equals(list[0], crt))
			skip = 1;
	}
	total = 1 + n - skip;
	all = xalloc(ca, total * sizeof(*all));
	ca->chain_der = xalloc(ca, total * sizeof(*ca->chain_der));
	ca->chain_len = xalloc(ca, total * sizeof(*ca->chain_len));
	if (!all || !ca->chain_der || !ca->chain_len) {
		rc = nomem(ca);
		goto out;
	}
	all[0] = crt;
	for (i = skip; i < n; i++)
		all[1 + i - skip] = list[i];

	if (!gnutls_x509_crt_check_issuer(all[total - 1], all[total - 1])) {
		rc = h->config_error(
			ca->hctx, path ? "chain" : "certificate",
			path ? "%s does not end with a self-signed root certificate" :
			       "%s is not self-signed: give the rest of its chain, up to the root, in chain",
			path ? path : cfg(ca, "certificate"));
		goto out;
	}
	ret = gnutls_x509_crt_list_verify(
		all, total, &all[total - 1], 1, NULL, 0,
		GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
			GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
		&status);
	if (ret < 0 || status) {
		gnutls_datum_t why = { NULL, 0 };

		if (ret == 0)
			gnutls_certificate_verification_status_print(
				status, GNUTLS_CRT_X509, &why, 0);
		rc = h->config_error(
			ca->hctx, path ? "chain" : "certificate",
			"the issuing CA certificate does not verify up to the root in %s: %s",
			path ? path : cfg(ca, "certificate"),
			ret < 0	 ? gnutls_strerror(ret) :
			why.data ? (char *)why.data :
				   "rejected");
		gnutls_free(why.data);
		goto out;
	}
	for (i = 0; i < total; i++) {
		if (i > 0) {
			rc = check_time(ca, "chain",
					"a certificate in the chain", all[i]);
			if (rc < 0)
				goto out;
		}
		ret = gnutls_x509_crt_export2(all[i], GNUTLS_X509_FMT_DER,
					      &out);
		if (ret < 0) {
			rc = nomem(ca);
			goto out;
		}
		rc = take_datum(ca, &out, &ca->chain_der[i], &ca->chain_len[i]);
		if (rc < 0)
			goto out;
		ca->n_chain = i + 1;
	}
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	gnutls_free(data.data);
	xfree(ca, all);
	return rc;
}

/* The PIN (or passphrase) from pin_file: one line, no trailing newline. */
static int load_pin(struct ca *ca, const char *path)
{
	int rc;

	rc = read_secret_file(ca, "pin_file", path, MAX_PIN_FILE, &ca->pin,
			      &ca->pin_len);
	if (rc < 0)
		return rc;
	while (ca->pin_len && (ca->pin[ca->pin_len - 1] == '\n' ||
			       ca->pin[ca->pin_len - 1] == '\r'))
		ca->pin[--ca->pin_len] = '\0';
	if (ca->pin_len == 0 || memchr(ca->pin, '\n', ca->pin_len) ||
	    memchr(ca->pin, '\0', ca->pin_len))
		return ca->host->config_error(
			ca->hctx, "pin_file",
			"%s must hold the PIN on one line", path);
	return 0;
}

static int load_file_key(struct ca *ca, const char *path)
{
	const struct mssl_host *h = ca->host;
	gnutls_datum_t data;
	char *buf = NULL;
	size_t len = 0;
	int ret, rc;

	rc = read_secret_file(ca, "key", path, MAX_KEY_FILE, &buf, &len);
	if (rc < 0)
		return rc;
	ret = gnutls_x509_privkey_init(&ca->file_key);
	if (ret < 0) {
		rc = nomem(ca);
		goto out;
	}
	data.data = (uint8_t *)buf;
	data.size = (unsigned)len;
	ret = gnutls_x509_privkey_import2(ca->file_key, &data,
					  GNUTLS_X509_FMT_PEM, ca->pin, 0);
	if (ret < 0)
		ret = gnutls_x509_privkey_import2(
			ca->file_key, &data, GNUTLS_X509_FMT_DER, ca->pin, 0);
	if (ret < 0) {
		rc = h->config_error(
			ca->hctx, "key",
			"cannot read the private key in %s: %s%s", path,
			gnutls_strerror(ret),
			ca->pin ?
				"" :
				" (an encrypted key needs its passphrase in pin_file)");
		goto out;
	}
out:
	wipe_secret(ca, buf, MAX_KEY_FILE);
	return rc;
}

/* Which hash: the config's, or by key; ECDSA keys sign with the hash of
 * their own size (P-256/SHA-256, P-384/SHA-384), as the root programs
 * require. */
static int choose_hash(struct ca *ca, gnutls_x509_crt_t crt)
{
	const struct mssl_host *h = ca->host;
	const char *v = cfg(ca, "hash");
	gnutls_digest_algorithm_t want = GNUTLS_DIG_UNKNOWN;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_pubkey_t pub = NULL;
	unsigned int bits = 0;
	int ret, rc = 0;

	ca->pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	if (v) {
		if (strcmp(v, "sha256") == 0)
			want = GNUTLS_DIG_SHA256;
		else if (strcmp(v, "sha384") == 0)
			want = GNUTLS_DIG_SHA384;
		else if (strcmp(v, "sha512") == 0)
			want = GNUTLS_DIG_SHA512;
		else
			return h->config_error(
				ca->hctx, "hash",
				"\"%s\" is not a hash: use sha256, sha384 or sha512",
				v);
	}
	if (ca->pk == GNUTLS_PK_RSA) {
		if (bits < 2048)
			return h->config_error(
				ca->hctx, "certificate",
				"the CA key is RSA-%u; at least 2048 bits are needed",
				bits);
		ca->dig = want ? want : GNUTLS_DIG_SHA256;
	} else if (ca->pk == GNUTLS_PK_ECDSA) {
		ret = gnutls_pubkey_init(&pub);
		if (ret == 0)
			ret = gnutls_pubkey_import_x509(pub, crt, 0);
		if (ret == 0)
			ret = gnutls_pubkey_export_ecc_raw(pub, &curve, NULL,
							   NULL);
		gnutls_pubkey_deinit(pub);
		if (ret < 0)
			return h->config_error(
				ca->hctx, "certificate",
				"cannot read the CA's EC key: %s",
				gnutls_strerror(ret));
		if (curve == GNUTLS_ECC_CURVE_SECP256R1)
			ca->dig = GNUTLS_DIG_SHA256;
		else if (curve == GNUTLS_ECC_CURVE_SECP384R1)
			ca->dig = GNUTLS_DIG_SHA384;
		else
			return h->config_error(
				ca->hctx, "certificate",
				"the CA key is on curve %s; use P-256 or P-384",
				gnutls_ecc_curve_get_name(curve) ?
					gnutls_ecc_curve_get_name(curve) :
					"(unknown)");
		if (want && want != ca->dig)
			return h->config_error(
				ca->hctx, "hash",
				"an ECDSA %s key signs with %s, not %s",
				gnutls_ecc_curve_get_name(curve),
				gnutls_digest_get_name(ca->dig), v);
	} else {
		return h->config_error(
			ca->hctx, "certificate",
			"the CA key is %s; use RSA or ECDSA (P-256, P-384)",
			gnutls_pk_get_name(ca->pk) ?
				gnutls_pk_get_name(ca->pk) :
				"of an unknown algorithm");
	}
	ca->sign_algo = gnutls_pk_to_sign(ca->pk, ca->dig);
	if (ca->sign_algo == GNUTLS_SIGN_UNKNOWN)
		rc = h->config_error(ca->hctx, "hash",
				     "GnuTLS cannot sign with %s and %s",
				     gnutls_pk_get_name(ca->pk),
				     gnutls_digest_get_name(ca->dig));
	return rc;
}

/*
 * Open a signer (this logs in to a token) and prove that the key is the
 * certificate's: sign a random blob, verify it with the certificate.
 */
static int check_key(struct ca *ca, gnutls_x509_crt_t crt)
{
	const struct mssl_host *h = ca->host;
	const char *key = cfg(ca, "key");
	struct signer *s = NULL;
	gnutls_pubkey_t pub = NULL;
	uint8_t blob[32];
	gnutls_datum_t data = { blob, sizeof(blob) }, sig = { NULL, 0 };
	const char *kname;
	unsigned int bits = 0;
	int ret, rc, gret = 0;

	rc = signer_new(ca, &s, &gret);
	if (rc == MSSL_ENOMEM)
		return nomem(ca);
	if (rc < 0) {
		if (ca->key_url && is_pin_error(gret) && !ca->pin)
			rc = h->config_error(
				ca->hctx, "pin_file",
				"the key %s is on a token that needs its PIN: give it in pin_file",
				key);
		else if (ca->key_url && is_pin_error(gret))
			rc = h->config_error(
				ca->hctx, "pin_file",
				"the token refused the PIN in %s for key %s: %s (tokens count wrong PINs and may lock)",
				cfg(ca, "pin_file"), key,
				gnutls_strerror(gret));
		else
			rc = h->config_error(
				ca->hctx, "key",
				"cannot open the CA key %s: %s%s", key,
				gnutls_strerror(gret),
				ca->key_url ?
					" (check the URI, pkcs11_module and that the token is present)" :
					"");
		goto out;
	}
	ret = gnutls_privkey_get_pk_algorithm(s->key, &bits);
	if (ret != (int)ca->pk) {
		kname = ret < 0 ? NULL : gnutls_pk_get_name(ret);
		rc = h->config_error(
			ca->hctx, "key",
			"the key %s (%s) does not belong to the certificate %s (%s)",
			key, kname ? kname : "unknown", cfg(ca, "certificate"),
			gnutls_pk_get_name(ca->pk));
		goto out;
	}
	rc = h->random(ca->hctx, blob, sizeof(blob));
	if (rc < 0)
		goto out;
	ret = gnutls_privkey_sign_data2(s->key, ca->sign_algo, 0, &data, &sig);
	if (ret < 0) {
		if (ca->key_url && is_pin_error(ret))
			rc = h->config_error(
				ca->hctx, "pin_file",
				"the token refused the PIN for key %s: %s", key,
				gnutls_strerror(ret));
		else
			rc = h->config_error(
				ca->hctx, "key",
				"the key %s cannot sign with %s: %s", key,
				gnutls_sign_get_name(ca->sign_algo),
				gnutls_strerror(ret));
		goto out;
	}
	ret = gnutls_pubkey_init(&pub);
	if (ret == 0)
		ret = gnutls_pubkey_import_x509(pub, crt, 0);
	if (ret < 0) {
		rc = nomem(ca);
		goto out;
	}
	ret = gnutls_pubkey_verify_data2(pub, ca->sign_algo, 0, &data, &sig);
	if (ret < 0) {
		rc = h->config_error(
			ca->hctx, "key",
			"the key %s does not belong to the certificate %s: a test signature does not verify with its public key",
			key, cfg(ca, "certificate"));
		goto out;
	}
	signer_put(ca, s, false);
	s = NULL;
out:
	signer_free(ca, s);
	gnutls_free(sig.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	gnutls_memset(blob, 0, sizeof(blob));
	return rc;
}

static int ca_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct ca *ca;
	gnutls_x509_crt_t crt = NULL;
	const char *key, *pin_file, *cert, *chain, *module;
	int ret, rc;

	*state = NULL;
	ca = host->alloc(hctx, sizeof(*ca));
	if (!ca)
		return MSSL_ENOMEM;
	memset(ca, 0, sizeof(*ca));
	ca->host = host;
	ca->hctx = hctx;
	pthread_mutex_init(&ca->lock, NULL);
	ret = gnutls_global_init();
	if (ret < 0) {
		host->error(hctx, MSSL_ECRYPTO, "ca.gnutls",
			    "GnuTLS does not start: %s", gnutls_strerror(ret));
		rc = MSSL_ECRYPTO;
		goto out;
	}
	ca->gnutls_ready = true;

	key = cfg(ca, "key");
	pin_file = cfg(ca, "pin_file");
	cert = cfg(ca, "certificate");
	chain = cfg(ca, "chain");
	module = cfg(ca, "pkcs11_module");
	if (!key) {
		rc = host->config_error(
			hctx, "key",
			"is required: a PEM key file or a pkcs11: URI");
		goto out;
	}
	if (!cert) {
		rc = host->config_error(
			hctx, "certificate",
			"is required: the issuing CA's PEM certificate");
		goto out;
	}
	if ((rc = need_absolute(ca, "certificate", cert)) < 0 ||
	    (chain && (rc = need_absolute(ca, "chain", chain)) < 0) ||
	    (pin_file && (rc = need_absolute(ca, "pin_file", pin_file)) < 0) ||
	    (module && (rc = need_absolute(ca, "pkcs11_module", module)) < 0))
		goto out;

	rc = load_ca_cert(ca, cert, &crt);
	if (rc < 0)
		goto out;
	rc = choose_hash(ca, crt);
	if (rc < 0)
		goto out;
	rc = load_chain(ca, chain, crt);
	if (rc < 0)
		goto out;

	if (pin_file) {
		rc = load_pin(ca, pin_file);
		if (rc < 0)
			goto out;
	}
	if (strncmp(key, "pkcs11:", 7) == 0) {
		/* The PIN lives in a root-only file, never in the config. */
		if (strstr(key, "pin-value=") || strstr(key, "pin-source=")) {
			rc = host->config_error(
				hctx, "key",
				"the URI holds a PIN: remove pin-value/pin-source and give the PIN in pin_file");
			goto out;
		}
		if (module) {
			ret = gnutls_pkcs11_add_provider(module, NULL);
			if (ret < 0 && ret != GNUTLS_E_INT_RET_0) {
				rc = host->config_error(
					hctx, "pkcs11_module",
					"cannot load PKCS#11 module %s: %s",
					module, gnutls_strerror(ret));
				goto out;
			}
		}
		ca->key_url = host->strdup(hctx, key);
		if (!ca->key_url) {
			rc = nomem(ca);
			goto out;
		}
	} else {
		if (module) {
			rc = host->config_error(
				hctx, "pkcs11_module",
				"is only for a key given as a pkcs11: URI");
			goto out;
		}
		if ((rc = need_absolute(ca, "key", key)) < 0)
			goto out;
		rc = load_file_key(ca, key);
		if (rc < 0)
			goto out;
	}
	rc = check_key(ca, crt);
	if (rc < 0)
		goto out;
	host->log(hctx, MSSL_LOG_INFO, "issuing CA %s, key %s, %s", cert, key,
		  gnutls_sign_get_name(ca->sign_algo));
	*state = ca;
	ca = NULL;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	ca_fini(ca);
	return rc;
}

/* Signs exactly what the core asks: no capability of its own. */
static uint32_t ca_caps(void *state)
{
	(void)state;
	return 0;
}

static const struct mssl_ca_ops ca_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_ca_ops),
	.chain = ca_chain,
	.issue = ca_issue,
	.crl = ca_crl,
	.caps = ca_caps,
};

static const char *const config_keys[] = {
	"key",	"pin_file",	 "certificate", "chain",
	"hash", "pkcs11_module", NULL,
};

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_CA,
	/* Each caller signs with a signer of its own (see the top). */
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "ca-gnutls",
	.version = "1",
	.description =
		"signs with GnuTLS, the CA key in a file or on a PKCS#11 token",
	.init = ca_init,
	.fini = ca_fini,
	.ops = &ca_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
