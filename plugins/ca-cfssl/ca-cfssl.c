/*
 * ca-cfssl: a CA backend that has a remote CFSSL signer ("cfssl serve",
 * multirootca) sign over its HTTP API, with libcurl.
 *
 * The core builds the certificate as data (struct mssl_tbs); CFSSL 1.2.0
 * cannot take that as it is: its sign request carries the CSR, the hosts
 * (SAN DNS names), a subject and a profile name, and CFSSL builds
 * everything else itself from its profile: serial (unless the profile
 * lets clients give it), validity, key usages, policies, AIA, CRL
 * distribution point.  So this backend sends what CFSSL can take, and
 * says so through caps(): MSSL_CA_OWN_PROFILE always, MSSL_CA_OWN_SERIAL
 * unless client_serial is on.  The core then checks the certificate
 * against the mssl profile's rules instead of byte for byte
 * (doc/ARCHITECTURE.md, "What the core compares").
 *
 * With auth_key_file the request goes to /api/v1/cfssl/authsign wrapped
 * in CFSSL's "standard" authentication: the HMAC-SHA-256 of the request
 * under the shared key.  The issuing CA's certificate comes from the
 * certificate file, or from /api/v1/cfssl/info on first use.  CRLs:
 * CFSSL 1.2.0 has no API that signs a CRL with the key it holds (its
 * gencrl endpoint wants the CA's private key in the request), so crl()
 * refuses with a message saying so.
 *
 * Threads: each caller takes a libcurl handle from a pool that grows to
 * the number of concurrent callers; a handle keeps its connection to
 * CFSSL open between requests.
 *
 * Includes only <mssl/plugin.h>, libcurl, GnuTLS and jansson; never links
 * libmssl.  See README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <jansson.h>

#include <mssl/plugin.h>

#define MAX_KEY_FILE 4096 /* bytes of the auth key file (hex) */
#define MAX_REPLY (1024 * 1024) /* bytes of a CFSSL answer */
#define MAX_CHAIN 8 /* certificates from the issuing CA to the root */
#define MAX_HOSTS 1000 /* DNS names in a request */

#define PATH_SIGN "/api/v1/cfssl/sign"
#define PATH_AUTHSIGN "/api/v1/cfssl/authsign"
#define PATH_INFO "/api/v1/cfssl/info"

/* One libcurl handle, used by one thread at a time. */
struct handle {
	CURL *curl;
	struct curl_slist *headers;
	struct handle *next;
};

struct cf {
	const struct mssl_host *host;
	void *hctx;
	bool curl_ready;

	char *base; /* the url, without a trailing '/' */
	char *url_sign; /* base + sign or authsign */
	char *url_info;
	char *ca_file; /* https only; NULL: the system's CAs */
	char *profile; /* NULL: CFSSL's default profile */
	char *label; /* NULL: none */
	uint8_t *key; /* the HMAC key; wiped at fini */
	size_t key_len;
	bool client_serial;
	long timeout_ms, connect_timeout_ms;

	/* The chain: [0] the issuing CA, up to the root.  With no
	 * certificate file it is fetched from CFSSL on first use, under
	 * chain_lock (the pool has its own lock: fetching takes a handle). */
	pthread_mutex_t chain_lock;
	uint8_t *chain_der[MAX_CHAIN];
	size_t chain_len[MAX_CHAIN];
	size_t n_chain;
	bool chain_ready;
	char *chain_file; /* the rest of the chain, or NULL */

	pthread_mutex_t lock; /* the pool */
	struct handle *idle;
};

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------ */

static int nomem(struct cf *cf)
{
	cf->host->error(cf->hctx, MSSL_ENOMEM, "nomem",
			MSSL_N_("out of memory"));
	return MSSL_ENOMEM;
}

static void *xalloc(struct cf *cf, size_t n)
{
	return cf->host->alloc(cf->hctx, n);
}

static void xfree(struct cf *cf, void *p)
{
	cf->host->free(cf->hctx, p);
}

static const char *cfg(struct cf *cf, const char *key)
{
	const char *v = cf->host->config_get(cf->hctx, key);

	return v && *v ? v : NULL;
}

/* "a" + "b" in host memory, or NULL. */
static char *concat(struct cf *cf, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = xalloc(cf, la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static int need_absolute(struct cf *cf, const char *key, const char *path)
{
	if (path[0] != '/')
		return cf->host->config_error(
			cf->hctx, key,
			MSSL_N_("must be an absolute path, not \"%s\""), path);
	return 0;
}

/* A whole number of 'key' within [lo, hi]; 'def' when absent. */
static int config_long(struct cf *cf, const char *key, long lo, long hi,
		       long def, long *out)
{
	const char *v = cfg(cf, key);
	char *end;
	long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return cf->host->config_error(
			cf->hctx, key,
			MSSL_N_("must be a whole number from %ld to %ld, not \"%s\""),
			lo, hi, v);
	*out = n;
	return 0;
}

static int config_bool(struct cf *cf, const char *key, bool *out)
{
	const char *v = cfg(cf, key);

	*out = false;
	if (!v || strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	return cf->host->config_error(
		cf->hctx, key, MSSL_N_("must be yes or no, not \"%s\""), v);
}

/*
 * Read the file holding the auth key.  Like any secret it must be a
 * regular file of ours or root's that group and others cannot read.
 * *out is NUL-terminated host memory of MAX_KEY_FILE + 1 bytes; the
 * caller wipes it.
 */
static int read_key_file(struct cf *cf, const char *path, char **out)
{
	const struct mssl_host *h = cf->host;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return h->config_error(cf->hctx, "auth_key_file",
				       MSSL_N_("cannot open %s: %s"), path,
				       strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = h->config_error(cf->hctx, "auth_key_file",
				     MSSL_N_("%s is not a regular file"), path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = h->config_error(
			cf->hctx, "auth_key_file",
			MSSL_N_("%s holds a secret but group or others may access it (mode %04o): chmod 600 %s"),
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = h->config_error(
			cf->hctx, "auth_key_file",
			MSSL_N_("%s holds a secret but belongs to uid %u, neither this process's user nor root"),
			path, (unsigned)st.st_uid);
		goto out;
	}
	buf = xalloc(cf, MAX_KEY_FILE + 1);
	if (!buf) {
		rc = nomem(cf);
		goto out;
	}
	while (got < MAX_KEY_FILE) {
		n = read(fd, buf + got, MAX_KEY_FILE - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = h->config_error(cf->hctx, "auth_key_file",
					     MSSL_N_("cannot read %s: %s"),
					     path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (got == MAX_KEY_FILE) {
		rc = h->config_error(cf->hctx, "auth_key_file",
				     MSSL_N_("%s is larger than %d bytes"),
				     path, MAX_KEY_FILE - 1);
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (buf)
		h->wipe_free(cf->hctx, buf, MAX_KEY_FILE + 1);
	close(fd);
	return rc;
}

static int hexval(char c)
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
 * The key of CFSSL's "standard" authentication: hex, as in CFSSL's
 * auth_keys, one line.  The text is wiped as soon as it is decoded.
 */
static int load_auth_key(struct cf *cf, const char *path)
{
	char *text = NULL, *p, *e;
	size_t n, i;
	int rc;

	if ((rc = read_key_file(cf, path, &text)) < 0)
		return rc;
	for (p = text; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p + strlen(p); e > p && (e[-1] == '\n' || e[-1] == '\r' ||
					  e[-1] == ' ' || e[-1] == '\t');
	     e--)
		;
	n = (size_t)(e - p);
	if (n == 0 || n % 2) {
		rc = cf->host->config_error(
			cf->hctx, "auth_key_file",
			MSSL_N_("%s must hold the key in hex on one line, as in cfssl's auth_keys (an even number of hex digits)"),
			path);
		goto out;
	}
	cf->key = xalloc(cf, n / 2);
	if (!cf->key) {
		rc = nomem(cf);
		goto out;
	}
	cf->key_len = n / 2;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			rc = cf->host->config_error(
				cf->hctx, "auth_key_file",
				MSSL_N_("%s must hold the key in hex on one line, as in cfssl's auth_keys (an even number of hex digits)"),
				path);
			goto out;
		}
		cf->key[i] = (uint8_t)(hi << 4 | lo);
	}
out:
	cf->host->wipe_free(cf->hctx, text, MAX_KEY_FILE + 1);
	return rc;
}

/* ---------------------------------------------------------------------
 * HTTP
 * ------------------------------------------------------------------ */

struct buf {
	struct cf *cf;
	char *p;
	size_t len, cap;
	bool too_big, nomem;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb, cap;
	char *p;

	if (b->len + n + 1 > MAX_REPLY) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 8192;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = b->cf->host->realloc(b->cf->hctx, b->p, cap);
		if (!p) {
			b->nomem = true;
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static void handle_free(struct cf *cf, struct handle *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	xfree(cf, h);
}

/* A handle with everything but the URL, the body and the output. */
static struct handle *handle_new(struct cf *cf)
{
	struct handle *h = xalloc(cf, sizeof(*h));
	bool ok;

	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->curl = curl_easy_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	ok = h->curl && h->headers;
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers) ==
			   CURLE_OK;
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR,
				    "http,https") == CURLE_OK;
#else
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS,
				    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
			   CURLE_OK;
#endif
	ok = ok &&
	     curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS,
				    cf->timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
				    cf->connect_timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body) ==
			   CURLE_OK;
	ok = ok &&
	     curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok = ok &&
	     curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	if (ok && cf->ca_file)
		ok = curl_easy_setopt(h->curl, CURLOPT_CAINFO, cf->ca_file) ==
		     CURLE_OK;
	if (!ok) {
		handle_free(cf, h);
		return NULL;
	}
	return h;
}

static struct handle *handle_get(struct cf *cf)
{
	struct handle *h;

	pthread_mutex_lock(&cf->lock);
	h = cf->idle;
	if (h)
		cf->idle = h->next;
	pthread_mutex_unlock(&cf->lock);
	if (h) {
		h->next = NULL;
		return h;
	}
	return handle_new(cf);
}

/* Back into the pool; after a transport failure the handle (and its
 * connection) is dropped and the next caller opens a new one. */
static void handle_put(struct cf *cf, struct handle *h, bool failed)
{
	if (!h)
		return;
	if (failed) {
		handle_free(cf, h);
		return;
	}
	pthread_mutex_lock(&cf->lock);
	h->next = cf->idle;
	cf->idle = h;
	pthread_mutex_unlock(&cf->lock);
}

/*
 * POST 'body' to 'url'; the answer's status and JSON.  MSSL_EIO when
 * CFSSL does not answer, or answers something that is not JSON.
 */
static int post(struct cf *cf, const char *url, const char *body, long *status,
		json_t **reply)
{
	struct buf b = { cf, NULL, 0, 0, false, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct handle *h = handle_get(cf);
	json_error_t jerr;
	CURLcode cc;
	int rc = 0;

	*reply = NULL;
	*status = 0;
	if (!h)
		return nomem(cf);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	if (b.nomem) {
		rc = nomem(cf);
		goto out;
	}
	if (b.too_big) {
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_reply",
			MSSL_N_("cfssl at %s answered more than %d bytes"),
			cf->base, MAX_REPLY);
		rc = MSSL_EIO;
		goto out;
	}
	if (cc != CURLE_OK) {
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_io",
			MSSL_N_("cfssl at %s did not answer: %s; check that it runs and that url points at it"),
			cf->base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		rc = MSSL_EIO;
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	*reply = b.p ? json_loadb(b.p, b.len, 0, &jerr) : NULL;
	if (!*reply || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_reply",
			MSSL_N_("cfssl at %s gave an answer that is not cfssl's JSON (HTTP %ld); is url a cfssl API?"),
			cf->base, *status);
		rc = MSSL_EIO;
	}
out:
	handle_put(cf, h, rc == MSSL_EIO);
	xfree(cf, b.p);
	return rc;
}

/*
 * A failed answer: {"success": false, "errors": [{"code", "message"}]}.
 * A refused token is a configuration error worth naming.
 */
static int refused(struct cf *cf, long status, json_t *reply, bool info)
{
	json_t *e = json_array_get(json_object_get(reply, "errors"), 0);
	const char *msg = json_string_value(json_object_get(e, "message"));
	json_int_t code = json_integer_value(json_object_get(e, "code"));

	if (!msg)
		msg = "(no message)";
	if (strcmp(msg, "invalid token") == 0) {
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.auth",
			MSSL_N_("cfssl at %s refused the authentication token: the key in auth_key_file is not the one of profile %s in cfssl's configuration"),
			cf->base, cf->profile ? cf->profile : "(default)");
		return MSSL_ECRYPTO;
	}
	if (strcmp(msg, "authentication required") == 0) {
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.auth",
			MSSL_N_("cfssl at %s requires authentication for profile %s: set auth_key_file"),
			cf->base, cf->profile ? cf->profile : "(default)");
		return MSSL_ECRYPTO;
	}
	if (info)
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.refused",
			MSSL_N_("cfssl at %s refused to give its CA certificate (HTTP %ld, cfssl error %lld): %s"),
			cf->base, status, (long long)code, msg);
	else
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.refused",
			MSSL_N_("cfssl at %s refused to sign (HTTP %ld, cfssl error %lld): %s"),
			cf->base, status, (long long)code, msg);
	return MSSL_ECRYPTO;
}

/*
 * The certificate of a successful answer: result.certificate, PEM, as
 * DER in *der (GnuTLS memory).
 */
static int answer_cert(struct cf *cf, long status, json_t *reply, bool info,
		       gnutls_datum_t *der)
{
	json_t *ok = json_object_get(reply, "success");
	const char *pem = json_string_value(json_object_get(
		json_object_get(reply, "result"), "certificate"));
	gnutls_datum_t in;
	int ret;

	der->data = NULL;
	der->size = 0;
	if (status != 200 || !json_is_true(ok))
		return refused(cf, status, reply, info);
	if (!pem) {
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_reply",
			MSSL_N_("cfssl at %s said it succeeded but sent no certificate"),
			cf->base);
		return MSSL_EIO;
	}
	in.data = (unsigned char *)pem;
	in.size = (unsigned)strlen(pem);
	ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, der);
	if (ret < 0) {
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_reply",
			MSSL_N_("cfssl at %s sent a certificate that is not PEM: %s"),
			cf->base, gnutls_strerror(ret));
		return MSSL_EIO;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * The chain
 * ------------------------------------------------------------------ */

static void chain_clear(struct cf *cf)
{
	size_t i;

	for (i = 0; i < cf->n_chain; i++)
		xfree(cf, cf->chain_der[i]);
	cf->n_chain = 0;
	cf->chain_ready = false;
}

static int chain_add(struct cf *cf, const uint8_t *der, size_t len,
		     const char *key)
{
	uint8_t *p;

	if (cf->n_chain == MAX_CHAIN)
		return cf->host->config_error(
			cf->hctx, key,
			MSSL_N_("the chain has more than %d certificates"),
			MAX_CHAIN);
	p = xalloc(cf, len);
	if (!p)
		return nomem(cf);
	memcpy(p, der, len);
	cf->chain_der[cf->n_chain] = p;
	cf->chain_len[cf->n_chain] = len;
	cf->n_chain++;
	return 0;
}

/* Every certificate of a PEM file; *n 0 when it holds none. */
static int read_pem_certs(struct cf *cf, const char *key, const char *path,
			  gnutls_x509_crt_t **crts, unsigned *n)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	*crts = NULL;
	*n = 0;
	ret = gnutls_load_file(path, &d);
	if (ret < 0)
		return cf->host->config_error(cf->hctx, key,
					      MSSL_N_("cannot read %s: %s"),
					      path, gnutls_strerror(ret));
	ret = gnutls_x509_crt_list_import2(crts, n, &d, GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(d.data);
	if (ret < 0 || *n == 0)
		return cf->host->config_error(
			cf->hctx, key,
			MSSL_N_("%s holds no PEM certificate (%s)"), path,
			ret < 0 ? gnutls_strerror(ret) : "empty");
	return 0;
}

static void free_crts(gnutls_x509_crt_t *crts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

static int crt_der(struct cf *cf, gnutls_x509_crt_t crt, const char *key)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d) < 0)
		return nomem(cf);
	rc = chain_add(cf, d.data, d.size, key);
	gnutls_free(d.data);
	return rc;
}

/*
 * The issuing CA 'ca' (a CA certificate) and the chain file's
 * certificates (which may start with the issuing CA again) up to a
 * self-signed root, each signed by the next.
 */
static int chain_build(struct cf *cf, gnutls_x509_crt_t ca, const char *key)
{
	gnutls_x509_crt_t *rest = NULL, list[MAX_CHAIN];
	unsigned n_rest = 0, i, n = 0, status = 0, is_ca = 0;
	int ret, rc = 0;

	ret = gnutls_x509_crt_get_basic_constraints(ca, NULL, &is_ca, NULL);
	if (ret < 0 || !is_ca) {
		rc = cf->host->config_error(
			cf->hctx, key,
			MSSL_N_("the issuing certificate is not a CA certificate (basicConstraints cA TRUE)"));
		goto out;
	}
	list[n++] = ca;
	if (cf->chain_file) {
		rc = read_pem_certs(cf, "chain", cf->chain_file, &rest,
				    &n_rest);
		if (rc < 0)
			goto out;
		for (i = 0; i < n_rest; i++) {
			if (i == 0 && gnutls_x509_crt_equals(rest[0], ca))
				continue;
			if (n == MAX_CHAIN) {
				rc = cf->host->config_error(
					cf->hctx, "chain",
					MSSL_N_("the chain has more than %d certificates"),
					MAX_CHAIN);
				goto out;
			}
			list[n++] = rest[i];
		}
	}
	if (!gnutls_x509_crt_check_issuer(list[n - 1], list[n - 1])) {
		rc = cf->host->config_error(
			cf->hctx, cf->chain_file ? "chain" : key,
			MSSL_N_("the chain does not end with a self-signed root: give the rest of the chain up to the root in chain"));
		goto out;
	}
	/* Signatures and CA constraints up to the root (time is the core's
	 * business when it verifies each certificate). */
	ret = gnutls_x509_crt_list_verify(
		list, n, &list[n - 1], 1, NULL, 0,
		GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
			GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
		&status);
	if (ret < 0 || status) {
		rc = cf->host->config_error(
			cf->hctx, cf->chain_file ? "chain" : key,
			MSSL_N_("the issuing CA does not verify up to the root of the chain"));
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = crt_der(cf, list[i], key);
	if (rc == 0)
		cf->chain_ready = true;
out:
	if (rc < 0)
		chain_clear(cf);
	free_crts(rest, n_rest);
	return rc;
}

static int chain_from_file(struct cf *cf, const char *path)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc;

	rc = read_pem_certs(cf, "certificate", path, &crts, &n);
	if (rc == 0 && n != 1)
		rc = cf->host->config_error(
			cf->hctx, "certificate",
			MSSL_N_("%s must hold exactly one certificate, the issuing CA's, not %u"),
			path, n);
	if (rc == 0)
		rc = chain_build(cf, crts[0], "certificate");
	free_crts(crts, n);
	return rc;
}

/* The issuing CA from /api/v1/cfssl/info, then the chain file. */
static int chain_from_info(struct cf *cf)
{
	json_t *req = json_object(), *reply = NULL;
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	char *body = NULL;
	long status = 0;
	int rc;

	if (!req ||
	    json_object_set_new(req, "label",
				json_string(cf->label ? cf->label : "")) < 0 ||
	    json_object_set_new(req, "profile",
				json_string(cf->profile ? cf->profile : "")) <
		    0 ||
	    !(body = json_dumps(req, JSON_COMPACT))) {
		rc = nomem(cf);
		goto out;
	}
	rc = post(cf, cf->url_info, body, &status, &reply);
	if (rc == 0)
		rc = answer_cert(cf, status, reply, true, &der);
	if (rc < 0)
		goto out;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rc = nomem(cf);
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0) {
		cf->host->error(
			cf->hctx, MSSL_EIO, "ca.remote_reply",
			MSSL_N_("cfssl at %s sent an unreadable CA certificate"),
			cf->base);
		rc = MSSL_EIO;
		goto out;
	}
	rc = chain_build(cf, crt, "url");
	if (rc == MSSL_ECONFIG) {
		/* Not at init: say it as an error of the signer. */
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.chain",
			MSSL_N_("the CA certificate cfssl at %s gave does not chain to the root in chain, or is not a CA"),
			cf->base);
		rc = MSSL_ECRYPTO;
	}
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(der.data);
	free(body);
	json_decref(req);
	json_decref(reply);
	return rc;
}

static int cf_chain(void *state, mssl_der_cb cb, void *ud)
{
	struct cf *cf = state;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&cf->chain_lock);
	if (!cf->chain_ready)
		rc = chain_from_info(cf);
	pthread_mutex_unlock(&cf->chain_lock);
	/* Once ready the chain never changes: read it unlocked. */
	for (i = 0; rc == 0 && i < cf->n_chain; i++)
		rc = cb(ud, cf->chain_der[i], cf->chain_len[i]);
	return rc;
}

/* ---------------------------------------------------------------------
 * Signing
 * ------------------------------------------------------------------ */

/* Minimal size of struct mssl_tbs as of ABI 1.0. */
#define TBS_SIZE_1_0 (offsetof(struct mssl_tbs, profile) + sizeof(char *))

/* A request cfssl cannot be asked to sign; 'msg' a literal MSSL_N_(). */
#define BAD_TBS(cf, id, msg)                                                   \
	((cf)->host->error((cf)->hctx, MSSL_EINVAL, (id), msg), MSSL_EINVAL)

/* The subject attributes CFSSL 1.2.0 can write, by its JSON names. */
static const struct {
	const char *oid;
	const char *name;
} subject_names[] = {
	{ "2.5.4.6", "C" },  { "2.5.4.8", "ST" },  { "2.5.4.7", "L" },
	{ "2.5.4.10", "O" }, { "2.5.4.11", "OU" },
};

/*
 * The text of a subject value given as DER: UTF8String, PrintableString
 * or IA5String with a definite length.  Host memory, NUL-terminated.
 */
static char *attr_text(struct cf *cf, const struct mssl_dn_attr *a)
{
	const uint8_t *d = a->der;
	size_t n = a->der_len, len, hdr = 2, i;
	char *s;

	if (n < 2 || (d[0] != 0x0c && d[0] != 0x13 && d[0] != 0x16))
		return NULL;
	if (d[1] < 0x80) {
		len = d[1];
	} else if (d[1] == 0x81 && n >= 3) {
		len = d[2];
		hdr = 3;
	} else if (d[1] == 0x82 && n >= 4) {
		len = (size_t)d[2] << 8 | d[3];
		hdr = 4;
	} else {
		return NULL;
	}
	if (hdr + len != n)
		return NULL;
	for (i = 0; i < len; i++)
		if (d[hdr + i] == 0)
			return NULL;
	s = xalloc(cf, len + 1);
	if (s) {
		memcpy(s, d + hdr, len);
		s[len] = '\0';
	}
	return s;
}

/* "subject": {"CN": ..., "names": [{"C": ..., "O": ...}]} */
static int put_subject(struct cf *cf, const struct mssl_tbs *tbs, json_t *req)
{
	json_t *subj = json_object(), *names = json_array(),
	       *name = json_object();
	size_t i, j;
	char *text;
	int rc = 0;

	if (!subj || !names || !name) {
		rc = nomem(cf);
		goto out;
	}
	for (i = 0; i < tbs->n_subject; i++) {
		const struct mssl_dn_attr *a = &tbs->subject[i];
		const char *key = NULL;

		if (!a->oid || !a->der) {
			rc = BAD_TBS(
				cf, "ca.tbs",
				MSSL_N_("cannot ask cfssl to sign this: a subject attribute without value"));
			goto out;
		}
		if (strcmp(a->oid, "2.5.4.3") == 0)
			key = "CN";
		for (j = 0; !key && j < sizeof(subject_names) /
						    sizeof(subject_names[0]);
		     j++)
			if (strcmp(a->oid, subject_names[j].oid) == 0)
				key = subject_names[j].name;
		if (!key) {
			cf->host->error(
				cf->hctx, MSSL_EINVAL, "ca.unsupported",
				MSSL_N_("cfssl 1.2.0 cannot write subject attribute %s (EV certificates need jurisdiction, business category and serial number attributes): issue this product with ca-gnutls"),
				a->oid);
			rc = MSSL_EINVAL;
			goto out;
		}
		if (json_object_get(strcmp(key, "CN") == 0 ? subj : name,
				    key)) {
			rc = BAD_TBS(
				cf, "ca.unsupported",
				MSSL_N_("cannot ask cfssl to sign this: a subject attribute given twice"));
			goto out;
		}
		text = attr_text(cf, a);
		if (!text) {
			rc = BAD_TBS(
				cf, "ca.tbs",
				MSSL_N_("cannot ask cfssl to sign this: a subject value that is not a string"));
			goto out;
		}
		if (json_object_set_new(strcmp(key, "CN") == 0 ? subj : name,
					key, json_string(text)) < 0)
			rc = nomem(cf);
		xfree(cf, text);
		if (rc < 0)
			goto out;
	}
	if (json_array_append(names, name) < 0 ||
	    json_object_set(subj, "names", names) < 0 ||
	    json_object_set(req, "subject", subj) < 0)
		rc = nomem(cf);
out:
	json_decref(subj);
	json_decref(names);
	json_decref(name);
	return rc;
}

/* "hosts": the DNS names of the subjectAltName the core built. */
static int put_hosts(struct cf *cf, const struct mssl_tbs *tbs, json_t *req)
{
	gnutls_subject_alt_names_t sans = NULL;
	json_t *hosts = NULL;
	gnutls_datum_t d, name;
	unsigned i, type;
	size_t k;
	int rc = 0;

	for (k = 0; k < tbs->n_exts; k++)
		if (tbs->exts[k].oid && tbs->exts[k].der &&
		    strcmp(tbs->exts[k].oid, "2.5.29.17") == 0)
			break;
	if (k == tbs->n_exts)
		return BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: no subjectAltName"));
	if (gnutls_subject_alt_names_init(&sans) < 0 ||
	    !(hosts = json_array())) {
		rc = nomem(cf);
		goto out;
	}
	d.data = (unsigned char *)tbs->exts[k].der;
	d.size = (unsigned)tbs->exts[k].der_len;
	if (gnutls_x509_ext_import_subject_alt_names(&d, sans, 0) < 0) {
		rc = BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: an unreadable subjectAltName"));
		goto out;
	}
	for (i = 0;
	     gnutls_subject_alt_names_get(sans, i, &type, &name, NULL) >= 0;
	     i++) {
		char *s;

		/* CFSSL reads IP and e-mail addresses out of hosts too: the
		 * profile has DNS names only, and nothing else may pass. */
		if (type != GNUTLS_SAN_DNSNAME || i >= MAX_HOSTS ||
		    memchr(name.data, 0, name.size)) {
			rc = BAD_TBS(
				cf, "ca.unsupported",
				MSSL_N_("cannot ask cfssl to sign this: a subjectAltName that is not a DNS name"));
			goto out;
		}
		s = xalloc(cf, name.size + 1);
		if (!s) {
			rc = nomem(cf);
			goto out;
		}
		memcpy(s, name.data, name.size);
		s[name.size] = '\0';
		if (json_array_append_new(hosts, json_string(s)) < 0)
			rc = nomem(cf);
		xfree(cf, s);
		if (rc < 0)
			goto out;
	}
	if (i == 0) {
		rc = BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: an empty subjectAltName"));
		goto out;
	}
	if (json_object_set(req, "hosts", hosts) < 0)
		rc = nomem(cf);
out:
	if (sans)
		gnutls_subject_alt_names_deinit(sans);
	json_decref(hosts);
	return rc;
}

/* "certificate_request": the validated request as PEM. */
static int put_csr(struct cf *cf, const struct mssl_tbs *tbs, json_t *req)
{
	gnutls_datum_t in = { (unsigned char *)tbs->csr,
			      (unsigned)tbs->csr_len };
	gnutls_datum_t pem = { NULL, 0 };
	char *s;
	int rc = 0;

	if (!tbs->csr || !tbs->csr_len)
		return BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: no request (CSR) to send"));
	if (gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &in, &pem) < 0)
		return nomem(cf);
	s = xalloc(cf, pem.size + 1);
	if (!s) {
		rc = nomem(cf);
		goto out;
	}
	memcpy(s, pem.data, pem.size);
	s[pem.size] = '\0';
	if (json_object_set_new(req, "certificate_request", json_string(s)) < 0)
		rc = nomem(cf);
	xfree(cf, s);
out:
	gnutls_free(pem.data);
	return rc;
}

/*
 * The serial as a decimal number: CFSSL reads "serial" as a JSON number
 * (a Go big.Int), which JSON libraries cannot hold in an integer.
 */
static bool serial_decimal(const uint8_t *v, size_t n, char *out, size_t cap)
{
	uint8_t q[20];
	char rev[64];
	size_t len = 0, i, start;
	unsigned rem;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	if (n == 0 || n > sizeof(q) || (v[0] & 0x80) || cap < 50)
		return false;
	memcpy(q, v, n);
	for (start = 0; start < n;) {
		rem = 0;
		for (i = start; i < n; i++) {
			unsigned cur = rem << 8 | q[i];

			q[i] = (uint8_t)(cur / 10);
			rem = cur % 10;
		}
		rev[len++] = (char)('0' + rem);
		while (start < n && q[start] == 0)
			start++;
	}
	for (i = 0; i < len; i++)
		out[i] = rev[len - 1 - i];
	out[len] = '\0';
	return len > 0 && !(len == 1 && out[0] == '0');
}

/* The sign request's JSON text (host memory). */
static int sign_body(struct cf *cf, const struct mssl_tbs *tbs, char **out)
{
	json_t *req = json_object();
	char *text = NULL, num[64];
	size_t len;
	int rc;

	*out = NULL;
	if (!req)
		return nomem(cf);
	if ((rc = put_csr(cf, tbs, req)) < 0 ||
	    (rc = put_hosts(cf, tbs, req)) < 0 ||
	    (rc = put_subject(cf, tbs, req)) < 0)
		goto out;
	if ((cf->profile &&
	     json_object_set_new(req, "profile", json_string(cf->profile)) <
		     0) ||
	    (cf->label &&
	     json_object_set_new(req, "label", json_string(cf->label)) < 0)) {
		rc = nomem(cf);
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (!text) {
		rc = nomem(cf);
		goto out;
	}
	len = strlen(text);
	if (cf->client_serial) {
		/* ... "}" becomes ... ,"serial":<decimal>} */
		if (!tbs->serial ||
		    !serial_decimal(tbs->serial, tbs->serial_len, num,
				    sizeof(num))) {
			rc = BAD_TBS(
				cf, "ca.tbs",
				MSSL_N_("cannot ask cfssl to sign this: the serial must be positive and fit 20 octets"));
			goto out;
		}
		*out = xalloc(cf, len + strlen(num) + 16);
		if (!*out) {
			rc = nomem(cf);
			goto out;
		}
		snprintf(*out, len + strlen(num) + 16, "%.*s,\"serial\":%s}",
			 (int)(len - 1), text, num);
	} else {
		*out = xalloc(cf, len + 1);
		if (!*out) {
			rc = nomem(cf);
			goto out;
		}
		memcpy(*out, text, len + 1);
	}
out:
	free(text);
	json_decref(req);
	return rc;
}

/*
 * CFSSL's "standard" authentication: {"token": base64(HMAC-SHA-256(key,
 * request)), "request": base64(request)}.
 */
static int auth_wrap(struct cf *cf, const char *body, char **out)
{
	uint8_t mac[32];
	gnutls_datum_t m = { mac, sizeof(mac) };
	gnutls_datum_t b = { (unsigned char *)body, (unsigned)strlen(body) };
	gnutls_datum_t bm = { NULL, 0 }, bb = { NULL, 0 };
	json_t *w = NULL;
	char *text = NULL, *tm = NULL, *tb = NULL;
	int rc = 0;

	*out = NULL;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, cf->key, cf->key_len, body,
			     strlen(body), mac) < 0) {
		cf->host->error(
			cf->hctx, MSSL_ECRYPTO, "ca.auth",
			MSSL_N_("cannot compute the authentication token"));
		return MSSL_ECRYPTO;
	}
	if (gnutls_base64_encode2(&m, &bm) < 0 ||
	    gnutls_base64_encode2(&b, &bb) < 0) {
		rc = nomem(cf);
		goto out;
	}
	tm = xalloc(cf, bm.size + 1);
	tb = xalloc(cf, bb.size + 1);
	if (!tm || !tb) {
		rc = nomem(cf);
		goto out;
	}
	memcpy(tm, bm.data, bm.size);
	tm[bm.size] = '\0';
	memcpy(tb, bb.data, bb.size);
	tb[bb.size] = '\0';
	w = json_pack("{s:s, s:s}", "token", tm, "request", tb);
	text = w ? json_dumps(w, JSON_COMPACT) : NULL;
	if (!text) {
		rc = nomem(cf);
		goto out;
	}
	*out = concat(cf, text, "");
	if (!*out)
		rc = nomem(cf);
out:
	gnutls_memset(mac, 0, sizeof(mac));
	gnutls_free(bm.data);
	gnutls_free(bb.data);
	xfree(cf, tm);
	xfree(cf, tb);
	free(text);
	json_decref(w);
	return rc;
}

static int cf_issue(void *state, const struct mssl_tbs *tbs, uint8_t **der,
		    size_t *der_len)
{
	struct cf *cf = state;
	gnutls_datum_t cert = { NULL, 0 };
	json_t *reply = NULL;
	char *body = NULL, *wrapped = NULL;
	long status = 0;
	int rc;

	if (!der || !der_len)
		return BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: no output"));
	*der = NULL;
	*der_len = 0;
	if (!tbs || tbs->abi_major != MSSL_PLUGIN_ABI_MAJOR ||
	    tbs->size < TBS_SIZE_1_0)
		return BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: struct mssl_tbs of another ABI"));
	if ((tbs->n_subject && !tbs->subject) || (tbs->n_exts && !tbs->exts))
		return BAD_TBS(
			cf, "ca.tbs",
			MSSL_N_("cannot ask cfssl to sign this: no subject or extensions"));
	rc = sign_body(cf, tbs, &body);
	if (rc == 0 && cf->key)
		rc = auth_wrap(cf, body, &wrapped);
	if (rc == 0)
		rc = post(cf, cf->url_sign, wrapped ? wrapped : body, &status,
			  &reply);
	if (rc == 0)
		rc = answer_cert(cf, status, reply, false, &cert);
	if (rc < 0)
		goto out;
	*der = xalloc(cf, cert.size);
	if (!*der) {
		rc = nomem(cf);
		goto out;
	}
	memcpy(*der, cert.data, cert.size);
	*der_len = cert.size;
out:
	gnutls_free(cert.data);
	json_decref(reply);
	xfree(cf, body);
	xfree(cf, wrapped);
	return rc;
}

static int cf_crl(void *state, const struct mssl_crl_tbs *tbs, uint8_t **der,
		  size_t *der_len)
{
	struct cf *cf = state;

	(void)tbs;
	if (der)
		*der = NULL;
	if (der_len)
		*der_len = 0;
	cf->host->error(
		cf->hctx, MSSL_ESTATE, "ca.crl_unsupported",
		MSSL_N_("this backend cannot sign CRLs: cfssl 1.2.0 has no API that signs a CRL with the key it holds (its gencrl endpoint wants the CA's private key in the request); sign the CRL with ca-gnutls and the same CA key, or publish cfssl's own"));
	return MSSL_ESTATE;
}

static uint32_t cf_caps(void *state)
{
	struct cf *cf = state;

	return MSSL_CA_OWN_PROFILE |
	       (cf->client_serial ? 0 : MSSL_CA_OWN_SERIAL);
}

/* ---------------------------------------------------------------------
 * Plugin: configuration, init, fini
 * ------------------------------------------------------------------ */

/*
 * url: http:// or https://, a host, maybe a port and a path prefix (a
 * reverse proxy); no credentials, query or fragment.
 */
static int check_url(struct cf *cf, const char *url, bool *https)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL,
	     *frag = NULL;
	int rc = 0;

	*https = false;
	if (!u)
		return nomem(cf);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = cf->host->config_error(
			cf->hctx, "url",
			MSSL_N_("\"%s\" is not a URL; give cfssl's address, e.g. http://127.0.0.1:8888"),
			url);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		rc = cf->host->config_error(
			cf->hctx, "url",
			MSSL_N_("\"%s\": only http:// and https:// are possible"),
			url);
		goto out;
	}
	*https = strcmp(scheme, "https") == 0;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
		rc = cf->host->config_error(
			cf->hctx, "url",
			MSSL_N_("\"%s\" may not hold a user, a query or a fragment (the key belongs in auth_key_file)"),
			url);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

static void cf_fini(void *state)
{
	struct cf *cf = state;
	struct handle *h;

	if (!cf)
		return;
	while ((h = cf->idle)) {
		cf->idle = h->next;
		handle_free(cf, h);
	}
	chain_clear(cf);
	if (cf->key)
		cf->host->wipe_free(cf->hctx, cf->key, cf->key_len);
	xfree(cf, cf->base);
	xfree(cf, cf->url_sign);
	xfree(cf, cf->url_info);
	xfree(cf, cf->ca_file);
	xfree(cf, cf->profile);
	xfree(cf, cf->label);
	xfree(cf, cf->chain_file);
	if (cf->curl_ready)
		curl_global_cleanup();
	pthread_mutex_destroy(&cf->lock);
	pthread_mutex_destroy(&cf->chain_lock);
	xfree(cf, cf);
}

/* A configured string copied into host memory (NULL when absent). */
static int keep(struct cf *cf, const char *key, char **out)
{
	const char *v = cfg(cf, key);

	*out = NULL;
	if (!v)
		return 0;
	*out = cf->host->strdup(cf->hctx, v);
	return *out ? 0 : nomem(cf);
}

static int cf_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct cf *cf;
	const char *url, *key_file, *cert;
	bool https;
	long t;
	size_t n;
	int rc;

	*state = NULL;
	cf = host->alloc(hctx, sizeof(*cf));
	if (!cf)
		return MSSL_ENOMEM;
	memset(cf, 0, sizeof(*cf));
	cf->host = host;
	cf->hctx = hctx;
	pthread_mutex_init(&cf->lock, NULL);
	pthread_mutex_init(&cf->chain_lock, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		host->error(hctx, MSSL_EIO, "ca.curl",
			    MSSL_N_("libcurl does not start"));
		rc = MSSL_EIO;
		goto out;
	}
	cf->curl_ready = true;

	url = cfg(cf, "url");
	if (!url) {
		rc = host->config_error(
			hctx, "url",
			MSSL_N_("is required: cfssl's address, e.g. http://127.0.0.1:8888"));
		goto out;
	}
	if ((rc = check_url(cf, url, &https)) < 0)
		goto out;
	cf->base = host->strdup(hctx, url);
	if (!cf->base) {
		rc = nomem(cf);
		goto out;
	}
	for (n = strlen(cf->base); n > 0 && cf->base[n - 1] == '/'; n--)
		cf->base[n - 1] = '\0';

	if ((rc = keep(cf, "ca_file", &cf->ca_file)) < 0 ||
	    (rc = keep(cf, "profile", &cf->profile)) < 0 ||
	    (rc = keep(cf, "label", &cf->label)) < 0 ||
	    (rc = keep(cf, "chain", &cf->chain_file)) < 0)
		goto out;
	if (cf->ca_file && !https) {
		rc = host->config_error(
			hctx, "ca_file",
			MSSL_N_("is only for an https:// url (the url is %s)"),
			url);
		goto out;
	}
	if ((cf->ca_file &&
	     (rc = need_absolute(cf, "ca_file", cf->ca_file)) < 0) ||
	    (cf->chain_file &&
	     (rc = need_absolute(cf, "chain", cf->chain_file)) < 0))
		goto out;
	if (cf->ca_file && access(cf->ca_file, R_OK) != 0) {
		rc = host->config_error(hctx, "ca_file",
					MSSL_N_("cannot read %s: %s"),
					cf->ca_file, strerror(errno));
		goto out;
	}
	if ((rc = config_bool(cf, "client_serial", &cf->client_serial)) < 0)
		goto out;
	if ((rc = config_long(cf, "timeout_s", 1, 600, 30, &t)) < 0)
		goto out;
	cf->timeout_ms = t * 1000;
	if ((rc = config_long(cf, "connect_timeout_s", 1, 60, 5, &t)) < 0)
		goto out;
	cf->connect_timeout_ms = t * 1000;

	key_file = cfg(cf, "auth_key_file");
	if (key_file &&
	    ((rc = need_absolute(cf, "auth_key_file", key_file)) < 0 ||
	     (rc = load_auth_key(cf, key_file)) < 0))
		goto out;
	cf->url_sign =
		concat(cf, cf->base, cf->key ? PATH_AUTHSIGN : PATH_SIGN);
	cf->url_info = concat(cf, cf->base, PATH_INFO);
	if (!cf->url_sign || !cf->url_info) {
		rc = nomem(cf);
		goto out;
	}

	/* Without it, the issuing CA comes from cfssl on first use: init
	 * makes no request, so a signer that is down does not stop the
	 * operations that do not sign. */
	cert = cfg(cf, "certificate");
	if (cert && ((rc = need_absolute(cf, "certificate", cert)) < 0 ||
		     (rc = chain_from_file(cf, cert)) < 0))
		goto out;
	if (!https && strncmp(url, "http://127.", 11) != 0 &&
	    strncmp(url, "http://localhost", 16) != 0 &&
	    strncmp(url, "http://[::1]", 12) != 0)
		host->log(
			hctx, MSSL_LOG_WARNING,
			"url %s is plain http beyond this host: requests can be read on the way (every certificate is still checked before it is stored); prefer https",
			url);
	host->log(hctx, MSSL_LOG_INFO,
		  "cfssl at %s, profile %s, %s, serials chosen by %s", cf->base,
		  cf->profile ? cf->profile : "(default)",
		  cf->key ? "authenticated" : "unauthenticated",
		  cf->client_serial ? "mssl" : "cfssl");
	*state = cf;
	cf = NULL;
out:
	cf_fini(cf);
	return rc;
}

static const struct mssl_ca_ops ca_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_ca_ops),
	.chain = cf_chain,
	.issue = cf_issue,
	.crl = cf_crl,
	.caps = cf_caps,
};

static const char *const config_keys[] = {
	"url",
	"ca_file",
	"auth_key_file",
	"profile",
	"label",
	"client_serial",
	"timeout_s",
	"connect_timeout_s",
	"certificate",
	"chain",
	NULL,
};

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_CA,
	/* Each caller has a libcurl handle of its own (see the top). */
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "ca-cfssl",
	.version = "1",
	.description = "has a remote CFSSL signer sign over its HTTP API",
	.init = cf_init,
	.fini = cf_fini,
	.ops = &ca_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
