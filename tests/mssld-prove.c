/*
 * mssld-prove: sign a login proof with a card, for tests/test-mssld-api.py
 * (what the mssl CLI and the card agent do before POST /api/v1/auth/login).
 *
 *   mssld-prove --module M --token URI --pin PIN --origin O --account A
 *               --nonce BASE64 [--time T] [--tls-exporter BASE64]
 *
 * Logs in to the card with the PIN (libmssl-token), has it sign
 * mssl_login_blob() through mssl_token_prove and prints the body members
 * {"cert", "sig", "sig_alg", "time"} as JSON on stdout.
 *
 *   mssld-prove --module M --token URI --pin PIN --origin O --account A
 *               --connect PORT --cafile CA [--priority P]
 *               [--exporter-of this|other]
 *
 * The whole login over native TLS (GnuTLS), as a client does it: on one
 * connection to localhost:PORT (the server certificate checked against
 * CA), POST /api/v1/auth/challenge, take the connection's RFC 9266
 * tls-exporter (32 bytes of "EXPORTER-Channel-Binding", empty context),
 * sign it into the login blob with the card and POST /api/v1/auth/login
 * on the same connection.  "--exporter-of other" signs the exporter of a
 * second connection instead (what a relaying attacker would have).
 * Prints {"status": S, "body": ANSWER, "version": "TLS1.3"}.
 *
 * Exit 0, or 1 with the card's, library's or connection's message on
 * stderr.  Test use only: the PIN is on the command line.
 */
#include "config.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "mssl/mssl.h"
#include "mssl/token.h"

static int b64dec(const char *s, uint8_t **out, size_t *len)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)strlen(s) };
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_base64_decode2(&in, &d) < 0)
		return -1;
	*out = d.data;
	*len = d.size;
	return 0;
}

static json_t *b64json(const uint8_t *p, size_t n)
{
	gnutls_datum_t in = { (unsigned char *)p, (unsigned)n };
	gnutls_datum_t e = { NULL, 0 };
	json_t *j;

	if (gnutls_base64_encode2(&in, &e) < 0)
		exit(1);
	j = json_stringn((const char *)e.data, e.size);
	gnutls_free(e.data);
	return j;
}

/* ---- a TLS client connection to localhost ---------------------------- */

struct tls_conn {
	int fd;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
};

static void tls_close(struct tls_conn *c)
{
	if (c->s) {
		gnutls_bye(c->s, GNUTLS_SHUT_WR);
		gnutls_deinit(c->s);
	}
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Connect, check the server's certificate for "localhost", handshake. */
static int tls_open(struct tls_conn *c, const char *port, const char *cafile,
		    const char *prio)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_INET;
	if (getaddrinfo("127.0.0.1", port, &hints, &ai) != 0)
		return -1;
	c->fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("mssld-prove: connect");
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0 ||
	    (rc = gnutls_certificate_set_x509_trust_file(
		     c->cred, cafile, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (rc = gnutls_init(&c->s, GNUTLS_CLIENT)) < 0 ||
	    (rc = gnutls_priority_set_direct(c->s, prio, NULL)) < 0 ||
	    (rc = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE,
					 c->cred)) < 0 ||
	    (rc = gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, "localhost",
					 9)) < 0)
		goto fail;
	gnutls_session_set_verify_cert(c->s, "localhost", 0);
	gnutls_transport_set_int(c->s, c->fd);
	do
		rc = gnutls_handshake(c->s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "mssld-prove: TLS: %s\n", gnutls_strerror(rc));
	return -1;
}

/* The connection's RFC 9266 channel binding (32 bytes). */
static int tls_exporter(struct tls_conn *c, gnutls_datum_t *cb)
{
	int rc = gnutls_session_channel_binding(c->s, GNUTLS_CB_TLS_EXPORTER,
						cb);

	if (rc < 0) {
		fprintf(stderr, "mssld-prove: tls-exporter: %s\n",
			gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

static int tls_write_all(struct tls_conn *c, const char *p, size_t n)
{
	ssize_t k;

	while (n) {
		k = gnutls_record_send(c->s, p, n);
		if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * POST a JSON body on the connection (keep-alive) and read the answer:
 * its status and its body parsed (NULL if not JSON).  Returns the status
 * or -1.
 */
static int http_post(struct tls_conn *c, const char *path, json_t *body,
		     json_t **answer)
{
	char *data = json_dumps(body, JSON_COMPACT), *req = NULL, *end;
	char buf[65536];
	size_t got = 0, head, want;
	ssize_t k;
	int status = -1, n;

	*answer = NULL;
	if (!data)
		return -1;
	n = asprintf(&req,
		     "POST %s HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     path, strlen(data), data);
	free(data);
	if (n < 0 || tls_write_all(c, req, (size_t)n) < 0)
		goto out;
	for (;;) {
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (got + 1 >= sizeof(buf))
			goto out;
		k = gnutls_record_recv(c->s, buf + got, sizeof(buf) - 1 - got);
		if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
			continue;
		if (k <= 0)
			goto out;
		got += (size_t)k;
	}
	head = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		goto out;
	{
		char *cl = strcasestr(buf, "\r\ncontent-length:");

		want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	}
	if (head + want >= sizeof(buf)) {
		status = -1;
		goto out;
	}
	while (got < head + want) {
		k = gnutls_record_recv(c->s, buf + got, head + want - got);
		if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
			continue;
		if (k <= 0) {
			status = -1;
			goto out;
		}
		got += (size_t)k;
	}
	*answer = json_loadb(buf + head, want, 0, NULL);
out:
	free(req);
	return status;
}

struct args {
	const char *module, *uri, *pin, *port, *cafile, *prio, *exporter_of;
	struct mssl_login_proof p;
	uint8_t *nonce, *tlsx;
	size_t nonce_len, tlsx_len;
};

/* Sign a->p with the card.  Returns 0, or -1 with the reason on stderr. */
static int sign(struct args *a, mssl_token_module **m, mssl_token **tok,
		mssl_error *err)
{
	if (mssl_token_module_open(a->module, m, err) < 0 ||
	    mssl_token_open(*m, a->uri, tok, err) < 0 ||
	    mssl_token_login(*tok, a->pin, strlen(a->pin), err) < 0 ||
	    mssl_token_prove(*tok, &a->p, err) < 0) {
		fprintf(stderr, "mssld-prove: %s: %s\n", mssl_error_id(err),
			mssl_error_message(err, MSSL_LANG_EN));
		return -1;
	}
	return 0;
}

/* The login over TLS (--connect); prints the server's answer. */
static int tls_login(struct args *a, mssl_token_module **m, mssl_token **tok,
		     mssl_error *err)
{
	struct tls_conn c1, c2;
	gnutls_datum_t cb = { NULL, 0 };
	json_t *req = NULL, *ans = NULL, *out;
	const char *nonce;
	char *v;
	int status, rc = -1;
	bool other = a->exporter_of && strcmp(a->exporter_of, "other") == 0;

	c2.fd = -1;
	c2.s = NULL;
	c2.cred = NULL;
	if (tls_open(&c1, a->port, a->cafile, a->prio) < 0)
		goto out;
	req = json_pack("{s:s}", "account_id", a->p.account_id);
	status = http_post(&c1, "/api/v1/auth/challenge", req, &ans);
	nonce = json_string_value(json_object_get(ans, "nonce"));
	if (status != 200 || !nonce ||
	    b64dec(nonce, &a->nonce, &a->nonce_len) < 0 ||
	    a->nonce_len != MSSL_NONCE_LEN) {
		fprintf(stderr, "mssld-prove: challenge: status %d\n", status);
		goto out;
	}
	if (other && tls_open(&c2, a->port, a->cafile, a->prio) < 0)
		goto out;
	if (tls_exporter(other ? &c2 : &c1, &cb) < 0)
		goto out;
	a->p.nonce = a->nonce;
	a->p.tls_exporter = cb.data;
	a->p.tls_exporter_len = cb.size;
	if (sign(a, m, tok, err) < 0)
		goto out;
	json_decref(req);
	req = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:i,s:I}", "account_id",
			a->p.account_id, "origin", a->p.origin, "nonce", nonce,
			"session", "bearer", "cert",
			b64json(a->p.cert, a->p.cert_len), "sig",
			b64json(a->p.sig, a->p.sig_len), "sig_alg",
			a->p.sig_alg, "time", (json_int_t)a->p.time);
	json_decref(ans);
	status = http_post(&c1, "/api/v1/auth/login", req, &ans);
	if (status < 0) {
		fprintf(stderr, "mssld-prove: login: no answer\n");
		goto out;
	}
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(c1.s)) ?
		    strdup(gnutls_protocol_get_name(
			    gnutls_protocol_get_version(c1.s))) :
		    strdup("?");
	out = json_pack("{s:i,s:O?,s:s,s:i}", "status", status, "body", ans,
			"version", v ? v : "?", "exporter_len", (int)cb.size);
	free(v);
	v = json_dumps(out, JSON_COMPACT);
	if (v)
		printf("%s\n", v);
	free(v);
	json_decref(out);
	rc = 0;
out:
	json_decref(req);
	json_decref(ans);
	gnutls_free(cb.data);
	a->p.tls_exporter = NULL;
	a->p.tls_exporter_len = 0;
	tls_close(&c1);
	if (c2.s || c2.fd >= 0)
		tls_close(&c2);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	mssl_token_module *m = NULL;
	mssl_token *tok = NULL;
	mssl_error *err = mssl_error_new();
	int i, rc = 1;

	a.p.time = (int64_t)time(NULL);
	a.prio = "NORMAL";
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--module") == 0)
			a.module = v;
		else if (strcmp(k, "--token") == 0)
			a.uri = v;
		else if (strcmp(k, "--pin") == 0)
			a.pin = v;
		else if (strcmp(k, "--origin") == 0)
			a.p.origin = v;
		else if (strcmp(k, "--account") == 0)
			a.p.account_id = v;
		else if (strcmp(k, "--time") == 0)
			a.p.time = strtoll(v, NULL, 10);
		else if (strcmp(k, "--connect") == 0)
			a.port = v;
		else if (strcmp(k, "--cafile") == 0)
			a.cafile = v;
		else if (strcmp(k, "--priority") == 0)
			a.prio = v;
		else if (strcmp(k, "--exporter-of") == 0)
			a.exporter_of = v;
		else if (strcmp(k, "--nonce") == 0) {
			if (b64dec(v, &a.nonce, &a.nonce_len) < 0)
				goto usage;
		} else if (strcmp(k, "--tls-exporter") == 0) {
			if (b64dec(v, &a.tlsx, &a.tlsx_len) < 0)
				goto usage;
		} else
			goto usage;
	}
	if (i != argc || !a.module || !a.uri || !a.pin || !a.p.origin ||
	    !a.p.account_id)
		goto usage;
	if (a.port) {
		if (!a.cafile || a.nonce || a.tlsx ||
		    (a.exporter_of && strcmp(a.exporter_of, "this") != 0 &&
		     strcmp(a.exporter_of, "other") != 0))
			goto usage;
		rc = tls_login(&a, &m, &tok, err) < 0 ? 1 : 0;
		goto out;
	}
	if (a.nonce_len != MSSL_NONCE_LEN)
		goto usage;
	a.p.nonce = a.nonce;
	a.p.tls_exporter = a.tlsx;
	a.p.tls_exporter_len = a.tlsx_len;
	if (sign(&a, &m, &tok, err) < 0)
		goto out;
	{
		json_t *j = json_pack("{s:o,s:o,s:i,s:I}", "cert",
				      b64json(a.p.cert, a.p.cert_len), "sig",
				      b64json(a.p.sig, a.p.sig_len), "sig_alg",
				      a.p.sig_alg, "time", (json_int_t)a.p.time);
		char *t = json_dumps(j, JSON_COMPACT);

		if (t)
			printf("%s\n", t);
		free(t);
		json_decref(j);
	}
	rc = 0;
	goto out;
usage:
	fprintf(stderr, "usage: mssld-prove --module M --token URI --pin PIN "
			"--origin O --account A (--nonce B64 [--time T] "
			"[--tls-exporter B64] | --connect PORT --cafile CA "
			"[--priority P] [--exporter-of this|other])\n");
	rc = 2;
out:
	mssl_token_proof_clear(&a.p);
	mssl_token_free(tok);
	mssl_token_module_free(m);
	mssl_error_free(err);
	gnutls_free(a.nonce);
	gnutls_free(a.tlsx);
	return rc;
}
