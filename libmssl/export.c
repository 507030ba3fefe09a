/*
 * Downloads (SPEC §7): a certificate in the format its server wants, with
 * a file name that says what it is.
 *
 *	pem	the certificate			<cn>_<serial8>.crt
 *	chain	the certificate, then the CA	<cn>_<serial8>-chain.pem
 *		chain without its root
 *		chain (Apache, nginx)
 *	der	the certificate, DER		<cn>_<serial8>.der
 *	p7b	PKCS#7 certs-only with the	<cn>_<serial8>.p7b
 *		chain, PEM (IIS, Tomcat)
 *	vendor	the format for the certificate's server vendor
 *
 * A wildcard's "*" becomes "wildcard" in the name.  Every download is
 * audited (cert.download) before the data is handed out.
 */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

enum fmt {
	FMT_PEM,
	FMT_CHAIN,
	FMT_DER,
	FMT_P7B
};

struct buf {
	char *p;
	size_t n, cap;
	int rc;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->rc < 0)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t nc = (b->n + len + 1) * 2;
		char *p = realloc(b->p, nc);

		if (!p) {
			b->rc = MSSL_ENOMEM;
			return;
		}
		b->p = p;
		b->cap = nc;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void buf_pem(struct buf *b, const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	gnutls_datum_t pem = { NULL, 0 };

	if (b->rc < 0)
		return;
	if (gnutls_pem_base64_encode2("CERTIFICATE", &d, &pem) < 0) {
		b->rc = MSSL_ENOMEM;
		return;
	}
	buf_add(b, pem.data, pem.size);
	gnutls_free(pem.data);
}

/* What the export needs of the stored certificate. */
struct item {
	bool found;
	char account[64];
	char cn[256];
	char state[16];
	char vendor[64];
	uint8_t *der;
	size_t der_len;
};

static int got_item(void *ud, const struct mssl_cert_rec *r)
{
	struct item *it = ud;

	it->found = true;
	snprintf(it->account, sizeof(it->account), "%s", r->account_id);
	snprintf(it->cn, sizeof(it->cn), "%s", r->cn ? r->cn : "");
	snprintf(it->state, sizeof(it->state), "%s", r->state);
	snprintf(it->vendor, sizeof(it->vendor), "%s",
		 r->server_vendor ? r->server_vendor : "");
	if (r->der && r->der_len) {
		it->der = malloc(r->der_len);
		if (!it->der)
			return MSSL_ENOMEM;
		memcpy(it->der, r->der, r->der_len);
		it->der_len = r->der_len;
	}
	return 0;
}

/*
 * A server sends its certificate and the intermediates, never the root:
 * clients have the root, and sending it only costs bytes.
 */
static bool is_root(const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	gnutls_x509_crt_t crt = NULL;
	bool root = false;

	if (gnutls_x509_crt_init(&crt) == 0 &&
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0)
		root = gnutls_x509_crt_check_issuer(crt, crt) != 0;
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return root;
}

/* The CA chain, less its root, as PEM into b. */
static int chain_pem(void *ud, const uint8_t *der, size_t len)
{
	struct buf *b = ud;

	if (!is_root(der, len))
		buf_pem(b, der, len);
	return b->rc;
}

/* The CA chain, less its root, into a PKCS#7 structure. */
static int chain_p7(void *ud, const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };

	if (is_root(der, len))
		return 0;
	return gnutls_pkcs7_set_crt_raw(ud, &d) < 0 ? MSSL_ECRYPTO : 0;
}

static int make_p7b(mssl_ctx *ctx, const struct item *it, struct buf *b)
{
	const struct mssl_ca_ops *ca = ctx->ca->p->ops;
	gnutls_datum_t d = { it->der, (unsigned)it->der_len };
	gnutls_datum_t out = { NULL, 0 };
	gnutls_pkcs7_t p7 = NULL;
	int rc;

	if (gnutls_pkcs7_init(&p7) < 0)
		return MSSL_ENOMEM;
	rc = gnutls_pkcs7_set_crt_raw(p7, &d) < 0 ? MSSL_ECRYPTO : 0;
	if (rc == 0)
		rc = ca->chain(ctx->ca->state, chain_p7, p7);
	if (rc == 0 && gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_PEM, &out) < 0)
		rc = MSSL_ECRYPTO;
	if (rc == 0)
		buf_add(b, out.data, out.size);
	gnutls_free(out.data);
	gnutls_pkcs7_deinit(p7);
	return rc < 0 ? rc : b->rc;
}

static int parse_format(const char *s, const char *vendor, enum fmt *out)
{
	if (!s || strcasecmp(s, "vendor") == 0) {
		if (strcasecmp(vendor, "Apache") == 0 ||
		    strcasecmp(vendor, "nginx") == 0)
			*out = FMT_CHAIN;
		else if (strcasecmp(vendor, "IIS") == 0 ||
			 strcasecmp(vendor, "Tomcat") == 0)
			*out = FMT_P7B;
		else
			*out = FMT_PEM;
	} else if (strcasecmp(s, "pem") == 0) {
		*out = FMT_PEM;
	} else if (strcasecmp(s, "chain") == 0) {
		*out = FMT_CHAIN;
	} else if (strcasecmp(s, "der") == 0) {
		*out = FMT_DER;
	} else if (strcasecmp(s, "p7b") == 0) {
		*out = FMT_P7B;
	} else {
		return MSSL_EINPUT;
	}
	return 0;
}

/* "<cn>_<serial8><suffix>", the CN's "*" as "wildcard", nothing odd. */
static char *file_name(const char *cn, const char *serial, enum fmt f)
{
	static const char *const suffix[] = {
		[FMT_PEM] = ".crt",
		[FMT_CHAIN] = "-chain.pem",
		[FMT_DER] = ".der",
		[FMT_P7B] = ".p7b",
	};
	char name[300];
	size_t i, n = 0;

	for (i = 0; cn[i] && n < 260; i++) {
		char c = cn[i];

		if (c == '*') {
			memcpy(name + n, "wildcard", 8);
			n += 8;
			continue;
		}
		name[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
					    c == '.' || c == '-' ?
				    c :
				    '_';
	}
	name[n] = '\0';
	return mssl__asprintf("%s_%.8s%s", n ? name : "certificate", serial,
			      suffix[f]);
}

MSSL_API int mssl_cert_export(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const char *serial,
			      const char *format, char **buf, size_t *len,
			      char **filename, mssl_error *err)
{
	const struct mssl_ca_ops *ca;
	struct item it = { 0 };
	struct buf b = { 0 };
	struct mssl__op op;
	char *name = NULL;
	enum fmt f;
	int rc;

	return_val_if_fail(serial && buf && len, MSSL_EINVAL);
	*buf = NULL;
	*len = 0;
	if (filename)
		*filename = NULL;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_DOWNLOAD, account_id,
			    serial, err);
	if (rc < 0)
		return rc;
	account_id = op.account_id;
	rc = ctx->sops->cert_get(op.conn, serial, got_item, &it);
	if (rc < 0 && rc != MSSL_ENOENT) {
		rc = rc == MSSL_ENOMEM ? rc : mssl__op_store_error(&op, rc);
		goto out;
	}
	if (rc == MSSL_ENOENT || strcmp(it.account, account_id) != 0) {
		rc = mssl__error_set(
			err, MSSL_ENOENT, "cert.not_found", "serial",
			N_("account %s has no certificate with serial %s"),
			account_id, serial);
		goto out;
	}
	if (!it.der && (strcmp(it.state, "issued") == 0 ||
			strcmp(it.state, "revoked") == 0)) {
		rc = mssl__error_set(err, MSSL_ESTORE, "download.no_data",
				     "serial",
				     N_("certificate %s has no stored certificate data; the store is damaged, restore it from a backup"),
				     serial);
		goto out;
	}
	if (!it.der) {
		rc = mssl__error_set(
			err, MSSL_ESTATE, "download.state", "serial",
			N_("certificate %s is %s; only an issued certificate can be downloaded"),
			serial, it.state);
		goto out;
	}
	if (parse_format(format, it.vendor, &f) < 0) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "download.format", "format",
			N_("\"%s\" is not a download format; use pem, chain, der, p7b or vendor"),
			format);
		goto out;
	}
	if ((f == FMT_CHAIN || f == FMT_P7B) && !ctx->ca) {
		rc = mssl__error_set(
			err, MSSL_ESTATE, "ca.none", NULL,
			N_("no CA is configured: set [mssl] ca in mssl.conf"));
		goto out;
	}
	switch (f) {
	case FMT_PEM:
		buf_pem(&b, it.der, it.der_len);
		rc = b.rc;
		break;
	case FMT_DER:
		buf_add(&b, it.der, it.der_len);
		rc = b.rc;
		break;
	case FMT_CHAIN:
		ca = ctx->ca->p->ops;
		buf_pem(&b, it.der, it.der_len);
		rc = b.rc < 0 ? b.rc : ca->chain(ctx->ca->state, chain_pem, &b);
		break;
	case FMT_P7B:
		rc = make_p7b(ctx, &it, &b);
		break;
	}
	if (rc == 0 && !(name = file_name(it.cn, serial, f)))
		rc = MSSL_ENOMEM;
	if (rc == MSSL_ENOMEM)
		mssl__error_set(err, rc, "nomem", NULL, N_("out of memory"));
	else if (rc < 0)
		mssl__error_set(err, rc, "download.build", NULL,
				N_("the download of %s could not be made (%s)"),
				serial, mssl_strerror(rc));
	if (rc == 0)
		snprintf(op.detail, sizeof(op.detail), "file=%.200s bytes=%zu",
			 name, b.n);
out:
	free(it.der);
	rc = mssl__op_end(&op, rc);
	if (rc < 0) {
		free(b.p);
		free(name);
		return rc;
	}
	*buf = b.p;
	*len = b.n;
	if (filename)
		*filename = name;
	else
		free(name);
	return 0;
}
