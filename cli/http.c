/*
 * mssl's HTTP client: libcurl to mssld's JSON API.
 *
 * The session token goes only to the configured server, only over TLS
 * checked against the CA file (or the system's trust store), except to a
 * loopback address, where plain HTTP is allowed for a daemon behind a
 * local proxy and for tests.  Redirects are not followed: a token never
 * goes anywhere else.
 */
#include "config.h"

#include <errno.h>
#include <libintl.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>

#include "mssl.h"

/* A JSON answer larger than this is not from mssld (downloads stream). */
#define MAX_BODY (16u << 20)

struct sink {
	char *buf;
	size_t len, cap;
	FILE *out;
	bool too_big;
	bool failed;
};

int cli_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void cli_http_cleanup(struct cli *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	curl_global_cleanup();
}

int cli_tls_exporter(struct cli *c, uint8_t out[32], bool *have)
{
	*have = false;
	if (c->exporter_error) {
		cli_err("%s", _(c->exporter_error));
		return CLI_REFUSED;
	}
	if (c->have_exporter) {
		memcpy(out, c->exporter, sizeof(c->exporter));
		*have = true;
	}
	return 0;
}

void cli_resp_clear(struct cli_resp *r)
{
	json_decref(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (s->out) {
		if (fwrite(data, 1, len, s->out) != len) {
			s->failed = true;
			return 0;
		}
		return len;
	}
	if (s->len + len + 1 > MAX_BODY) {
		s->too_big = true;
		return 0;
	}
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *p;

		while (cap < s->len + len + 1)
			cap *= 2;
		if (!(p = realloc(s->buf, cap)))
			return 0;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

struct hdr {
	struct cli *c;
	bool looked; /* the TLS exporter was looked for on this answer */
};

/*
 * The RFC 9266 exporter value of the TLS connection this answer comes on
 * ("EXPORTER-Channel-Binding", empty context, 32 bytes), kept in the cli.
 * libcurl hands out the TLS session only during a transfer.
 */
static void take_exporter(struct hdr *h)
{
	struct curl_tlssessioninfo *ti = NULL;
	struct cli *c = h->c;

	h->looked = true;
	c->have_exporter = false;
	c->exporter_error = NULL;
	if (strncmp(c->server.value, "https://", 8) != 0)
		return;
	if (curl_easy_getinfo(c->curl, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
	    !ti || ti->backend != CURLSSLBACKEND_GNUTLS || !ti->internals) {
		c->exporter_error = N_("this libcurl does not use GnuTLS, so the login cannot be bound to the TLS connection");
		return;
	}
	if (gnutls_prf_rfc5705(ti->internals, 24, "EXPORTER-Channel-Binding",
			       0, "", sizeof(c->exporter),
			       (char *)c->exporter) < 0) {
		c->exporter_error = N_("cannot read the TLS connection's exporter value");
		return;
	}
	c->have_exporter = true;
}

/* Each answer's first header: its TLS connection's exporter. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct hdr *hd = ud;

	(void)data;
	if (!hd->looked)
		take_exporter(hd);
	return size * n;
}

static bool loopback_http(const char *url)
{
	static const char *const ok[] = {
		"http://127.", "http://[::1]", "http://localhost:",
		"http://localhost/",
	};
	size_t i;

	if (strcmp(url, "http://localhost") == 0)
		return true;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

char *cli_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

int cli_request(struct cli *c, const char *method, const char *path,
		json_t *body, const char *idempotency_key, FILE *out,
		struct cli_resp *r)
{
	struct curl_slist *h = NULL;
	struct sink s = { .out = out };
	struct hdr hd = { c, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL, *payload = NULL, *auth = NULL, *idem = NULL;
	CURL *curl = c->curl;
	CURLcode cc;
	int rc = CLI_REFUSED;

	memset(r, 0, sizeof(*r));
	if (!c->server.value) {
		cli_err(_("no server given: use --server URL, MSSL_SERVER, or server = in [client] of %s"),
			c->config_path ? c->config_path : "~/.config/mssl/config");
		return CLI_USAGE;
	}
	if (strncmp(c->server.value, "https://", 8) != 0 &&
	    !loopback_http(c->server.value)) {
		cli_err(_("server %s: only https:// URLs are used (plain http:// only to a loopback address), so the session cannot be read on the way"),
			c->server.value);
		return CLI_USAGE;
	}
	if (asprintf(&url, "%s%s", c->server.value, path) < 0) {
		url = NULL;
		goto nomem;
	}
	/* One handle for the whole run: its connection is kept, so that a
	 * login is signed for, and sent over, the TLS connection whose
	 * exporter value it binds. */
	if (!curl && !(curl = c->curl = curl_easy_init()))
		goto nomem;
	curl_easy_reset(curl);
	h = curl_slist_append(h, "Accept: application/json");
	if (c->session) {
		if (asprintf(&auth, "Authorization: Bearer %s", c->session) < 0) {
			auth = NULL;
			goto nomem;
		}
		h = curl_slist_append(h, auth);
	}
	if (idempotency_key) {
		if (asprintf(&idem, "Idempotency-Key: %s", idempotency_key) < 0) {
			idem = NULL;
			goto nomem;
		}
		h = curl_slist_append(h, idem);
	}
	if (body) {
		if (!(payload = json_dumps(body, JSON_COMPACT)))
			goto nomem;
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	}
	if (!h)
		goto nomem;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	else if (!body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hd);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mssl/" PACKAGE_VERSION);
	if (c->ca_file.value)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file.value);
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && (s.too_big ||
							    s.failed))) {
		cli_err(_("cannot reach %s: %s"), c->server.value,
			errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (s.too_big) {
		cli_err(_("the answer from %s is larger than %u MiB: not an mssld answer"),
			c->server.value, MAX_BODY >> 20);
		goto out;
	}
	if (s.failed) {
		cli_err(_("cannot write the download: %s"), strerror(errno));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = s.buf;
	r->body_len = s.len;
	s.buf = NULL;
	if (r->body && r->body_len > 0) {
		char *ct = NULL;

		curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
		if (ct && strncmp(ct, "application/json", 16) == 0)
			r->json = json_loadb(r->body, r->body_len, 0, NULL);
	}
	rc = 0;
	goto out;
nomem:
	cli_err("%s", _("out of memory"));
out:
	free(s.buf);
	curl_slist_free_all(h);
	free(url);
	free(payload);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(idem);
	return rc;
}

int cli_fail(struct cli *c, const struct cli_resp *r)
{
	json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
	const char *code = cli_str(e, "code"), *field = cli_str(e, "field");
	const char *msg = cli_str(e, c->zh ? "message_zh" : "message");

	if (!msg)
		msg = cli_str(e, "message");
	if (msg && field)
		cli_err("%s [%s, %s]", msg, code ? code : "?", field);
	else if (msg)
		cli_err("%s [%s]", msg, code ? code : "?");
	else
		cli_err(_("the server answered HTTP %ld without an explanation"),
			r->status);
	if (r->status == 401 && c->session)
		cli_err("%s", _("the session has ended: log in again with \"mssl login\""));
	else if (r->status == 401)
		cli_err("%s", _("you are not logged in: run \"mssl login\" first"));
	switch (r->status) {
	case 400:
	case 413:
	case 414:
	case 415:
	case 431:
		return CLI_USAGE;
	default:
		return CLI_REFUSED;
	}
}
