/*
 * Native TLS: GnuTLS on memory buffers over libuv.  GnuTLS pulls
 * ciphertext from what the loop has read (c->tin) and pushes what it
 * writes into c->tout, which goes out as one uv_write per operation; the
 * loop never waits on the socket.  TLS 1.2 and 1.3 only (tls_priority);
 * certificate and key from PEM files or PKCS#11 URIs.
 *
 * A PKCS#11 key signs during the handshake on the loop thread: a slow
 * HSM slows every connection's handshake.  Files or a fast token are
 * assumed.
 */
#include "conn.h"

#include <errno.h>
#include <gnutls/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mssld_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

static char pin[256];

/* The token PIN for a pkcs11: key, from [mssld] tls_pin_file. */
static int pin_cb(void *ud, int attempt, const char *url, const char *label,
		  unsigned flags, char *out, size_t len)
{
	(void)ud;
	(void)url;
	(void)label;
	if (attempt > 0 || (flags & GNUTLS_PIN_FINAL_TRY) || !pin[0] ||
	    strlen(pin) >= len)
		return -1;
	memcpy(out, pin, strlen(pin) + 1);
	return 0;
}

static int read_pin(const char *file)
{
	FILE *fp = fopen(file, "re");
	size_t n;

	if (!fp)
		return -1;
	n = fread(pin, 1, sizeof(pin) - 1, fp);
	fclose(fp);
	pin[n] = '\0';
	while (n && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		pin[--n] = '\0';
	return 0;
}

int mssld_tls_setup(struct mssld_server *srv, mssl_error *err)
{
	const struct mssld_conf *cf = &srv->conf;
	struct mssld_tls *t;
	const char *where = NULL;
	int rc;

	t = calloc(1, sizeof(*t));
	if (!t)
		return MSSL_ENOMEM;
	if (cf->tls_pin_file && read_pin(cf->tls_pin_file) < 0) {
		free(t);
		return mssl_error_set(err, MSSL_ECONFIG, "mssld.tls_pin",
				      "tls_pin_file",
				      N_("cannot read the PIN file %s: %s"),
				      cf->tls_pin_file, strerror(errno));
	}
	if (strncmp(cf->tls_key, "pkcs11:", 7) == 0 ||
	    strncmp(cf->tls_cert, "pkcs11:", 7) == 0)
		gnutls_pkcs11_set_pin_function(pin_cb, NULL);
	rc = gnutls_certificate_allocate_credentials(&t->cred);
	if (rc == 0)
		rc = gnutls_certificate_set_x509_key_file2(
			t->cred, cf->tls_cert, cf->tls_key, GNUTLS_X509_FMT_PEM,
			NULL, 0);
	if (rc < 0) {
		mssl_error_set(err, MSSL_ECONFIG, "mssld.tls_cert", "tls_cert",
			       N_("cannot use the certificate %s with the key %s: %s"),
			       cf->tls_cert, cf->tls_key, gnutls_strerror(rc));
		goto fail;
	}
	rc = gnutls_priority_init(&t->prio, cf->tls_priority, &where);
	if (rc < 0) {
		mssl_error_set(err, MSSL_ECONFIG, "mssld.tls_priority",
			       "tls_priority",
			       N_("bad TLS priority string at \"%s\": %s"),
			       where ? where : "", gnutls_strerror(rc));
		goto fail;
	}
	srv->tls = t;
	return 0;
fail:
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
	return MSSL_ECONFIG;
}

void mssld_tls_free(struct mssld_tls *t)
{
	if (!t)
		return;
	gnutls_certificate_free_credentials(t->cred);
	gnutls_priority_deinit(t->prio);
	free(t);
	gnutls_memset(pin, 0, sizeof(pin));
}

/* ---- transport on memory ----------------------------------------------- */

static ssize_t pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct mssld_conn *c = p;
	size_t n = c->tin_len - c->tin_off;

	if (n == 0) {
		gnutls_transport_set_errno(c->tls, EAGAIN);
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(data, c->tin + c->tin_off, n);
	c->tin_off += n;
	if (c->tin_off == c->tin_len) {
		free(c->tin);
		c->tin = NULL;
		c->tin_len = c->tin_off = c->tin_cap = 0;
	}
	return (ssize_t)n;
}

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct mssld_conn *c = p;
	char *n;

	if (c->tout_len + len > c->tout_cap) {
		size_t nc = c->tout_cap ? c->tout_cap : 4096;

		while (nc < c->tout_len + len)
			nc *= 2;
		n = realloc(c->tout, nc);
		if (!n) {
			gnutls_transport_set_errno(c->tls, ENOMEM);
			return -1;
		}
		c->tout = n;
		c->tout_cap = nc;
	}
	memcpy(c->tout + c->tout_len, data, len);
	c->tout_len += len;
	return (ssize_t)len;
}

/* Send what GnuTLS has written, as one write. */
static int flush(struct mssld_conn *c)
{
	char *out = c->tout;
	size_t len = c->tout_len;

	if (!len)
		return 0;
	c->tout = NULL;
	c->tout_len = c->tout_cap = 0;
	return mssld_conn_write_owned(c, out, len);
}

int mssld_tls_conn_new(struct mssld_conn *c)
{
	struct mssld_tls *t = c->srv->tls;

	if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK |
					 GNUTLS_NO_SIGNAL) < 0)
		return -1;
	if (gnutls_priority_set(c->tls, t->prio) < 0 ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, t->cred) <
		    0) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
		return -1;
	}
	gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_ptr(c->tls, c);
	gnutls_transport_set_pull_function(c->tls, pull);
	gnutls_transport_set_push_function(c->tls, push);
	return 0;
}

void mssld_tls_conn_free(struct mssld_conn *c)
{
	if (c->tls)
		gnutls_deinit(c->tls);
	c->tls = NULL;
	free(c->tin);
	free(c->tout);
	c->tin = c->tout = NULL;
}

static void exporter(struct mssld_conn *c)
{
	gnutls_datum_t cb = { NULL, 0 };

	/*
	 * RFC 9266: 32 bytes of the "EXPORTER-Channel-Binding" exporter.
	 * GnuTLS refuses it for TLS 1.2 without extended master secret,
	 * where it would not be unique: then there is none.
	 */
	c->cb_len = 0;
	if (gnutls_session_channel_binding(c->tls, GNUTLS_CB_TLS_EXPORTER,
					   &cb) == 0 &&
	    cb.size <= sizeof(c->cb)) {
		memcpy(c->cb, cb.data, cb.size);
		c->cb_len = cb.size;
	}
	gnutls_free(cb.data);
}

int mssld_tls_feed(struct mssld_conn *c, const char *data, size_t len)
{
	char buf[16384];
	ssize_t n;
	int rc;

	if (c->tin_len + len > c->tin_cap) {
		size_t nc = c->tin_cap ? c->tin_cap : 4096;
		char *t;

		while (nc < c->tin_len + len)
			nc *= 2;
		t = realloc(c->tin, nc);
		if (!t)
			return -1;
		c->tin = t;
		c->tin_cap = nc;
	}
	memcpy(c->tin + c->tin_len, data, len);
	c->tin_len += len;
	if (!c->handshaken) {
		rc = gnutls_handshake(c->tls);
		if (flush(c) < 0)
			return -1;
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			return 0;
		if (rc < 0) {
			mssld_log(MSSL_LOG_INFO, NULL, "%s: TLS handshake: %s",
				  c->peer, gnutls_strerror(rc));
			return -1;
		}
		c->handshaken = true;
		exporter(c);
		mssld_log(MSSL_LOG_DEBUG, NULL, "%s: %s %s", c->peer,
			  gnutls_protocol_get_name(
				  gnutls_protocol_get_version(c->tls)),
			  gnutls_cipher_get_name(gnutls_cipher_get(c->tls)));
	}
	for (;;) {
		n = gnutls_record_recv(c->tls, buf, sizeof(buf));
		if (n > 0) {
			if (mssld_conn_take_plain(c, buf, (size_t)n) < 0)
				return -1;
			continue;
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			break;
		if (n == 0) { /* close_notify */
			c->want_close = true;
			break;
		}
		if (n == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal((int)n))
			continue;
		mssld_log(MSSL_LOG_DEBUG, NULL, "%s: TLS: %s", c->peer,
			  gnutls_strerror((int)n));
		return -1;
	}
	gnutls_memset(buf, 0, sizeof(buf));
	return flush(c);
}

int mssld_tls_send(struct mssld_conn *c, const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n;

	if (!c->handshaken)
		return -1;
	while (off < len) {
		n = gnutls_record_send(c->tls, data + off, len - off);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return flush(c);
}

void mssld_tls_bye(struct mssld_conn *c)
{
	if (!c->tls || !c->handshaken || c->closing)
		return;
	gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	flush(c);
}
