/*
 * HTTP/1.1 over libuv: accept, read, parse with http-parser, answer in
 * order, keep alive.  One request per connection is handled at a time:
 * when a request is complete the parser pauses, and the next pipelined
 * request is parsed only after the answer to this one has been written,
 * so answers go out in order and a client that does not read its
 * answers stops being read from.
 *
 * Limits (mssld(8)): request line and headers (431, or 414 for the
 * target), number of headers (431), body (413, before the body is read
 * when Content-Length says so), connections in all and per address
 * (503), requests per second per address (429), time to send one whole
 * request (408: a slow client cannot hold a connection for long, and
 * never holds a worker: handlers run only on complete requests), idle
 * time between requests, time to take one answer.
 *
 * Smuggling: Content-Length together with Transfer-Encoding, two
 * Content-Lengths, a Transfer-Encoding other than "chunked", bad chunk
 * sizes, obs-fold, bare CR or LF and control characters in the header
 * block are all answered 400 and the connection is closed, so no two
 * parsers can disagree on where a request ends.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static void process(struct mssld_conn *c);
static void timer_cb(uv_timer_t *t);
static void mssld_conn_resume(struct mssld_conn *c);
static void respond(struct mssld_conn *c, struct mssld_req *r,
		    struct mssld_resp *resp);

/* ---- small helpers -------------------------------------------------- */

static uint64_t now_ns(void)
{
	return uv_hrtime();
}

static void arm(struct mssld_conn *c, enum conn_phase phase)
{
	const struct mssld_conf *cf = &c->srv->conf;
	int64_t s = 0;

	c->phase = phase;
	switch (phase) {
	case PHASE_IDLE:
		s = cf->idle_timeout_s;
		break;
	case PHASE_READING:
		s = cf->request_timeout_s;
		break;
	case PHASE_WRITING:
		s = cf->write_timeout_s;
		break;
	case PHASE_BUSY:
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, timer_cb, (uint64_t)s * 1000, 0);
}

static void req_free(struct mssld_req *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nh; i++) {
		/* Values may hold credentials: wipe before free. */
		if (r->h[i].value)
			memset(r->h[i].value, 0, strlen(r->h[i].value));
		free(r->h[i].name);
		free(r->h[i].value);
	}
	free(r->h);
	free(r->url);
	free(r->path);
	free(r->body);
	free(r->param_buf);
	free(r);
}

const char *mssld_req_header(const struct mssld_req *r, const char *name)
{
	size_t i;

	for (i = r->nh; i-- > 0;)
		if (r->h[i].name && strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value ? r->h[i].value : "";
	return NULL;
}

size_t mssld_req_header_count(const struct mssld_req *r, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->nh; i++)
		if (r->h[i].name && strcasecmp(r->h[i].name, name) == 0)
			n++;
	return n;
}

static int append(char **s, const char *data, size_t len)
{
	size_t have = *s ? strlen(*s) : 0;
	char *n = realloc(*s, have + len + 1);

	if (!n)
		return -1;
	memcpy(n + have, data, len);
	n[have + len] = '\0';
	*s = n;
	return 0;
}

static int fail(struct mssld_req *r, int status, const char *id,
		const char *msg)
{
	if (!r->fail_status) {
		r->fail_status = status;
		r->fail_id = id;
		r->fail_msg = msg;
	}
	return -1;
}

/* ---- the header scanner ----------------------------------------------- */

enum { SCAN_LINE, SCAN_CR, SCAN_START, SCAN_DONE };

/*
 * Look at the header block before http-parser does, byte by byte over
 * the reads: lines end in CRLF only, no control characters but HT, no
 * line of the block starts with white space (obs-fold).  Leading empty
 * lines before the request line are allowed (RFC 9112 2.2).
 * Returns -1 (and records the failure) on a bad byte.
 */
static int scan(struct mssld_req *r, const char *p, size_t n)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < n && r->scan_state != SCAN_DONE; i++) {
		ch = (unsigned char)p[i];
		switch (r->scan_state) {
		case SCAN_START:
			if (ch == ' ' || ch == '\t') {
				if (r->scan_lines > 0)
					return fail(r, 400, "http.obs_fold",
						    N_("folded header lines are not accepted"));
				return fail(r, 400, "http.malformed",
					    N_("malformed request"));
			}
			r->scan_linelen = 0;
			r->scan_state = SCAN_LINE;
			/* fall through */
		case SCAN_LINE:
			if (ch == '\r') {
				r->scan_state = SCAN_CR;
			} else if (ch == '\n') {
				return fail(r, 400, "http.bare_lf",
					    N_("header lines must end in CR LF"));
			} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				return fail(r, 400, "http.control_char",
					    N_("control characters are not allowed in headers"));
			} else {
				r->scan_linelen++;
			}
			break;
		case SCAN_CR:
			if (ch != '\n')
				return fail(r, 400, "http.bare_cr",
					    N_("header lines must end in CR LF"));
			if (r->scan_linelen == 0 && r->scan_lines > 0) {
				r->scan_state = SCAN_DONE;
				break;
			}
			if (r->scan_linelen > 0)
				r->scan_lines++;
			r->scan_state = SCAN_START;
			break;
		}
	}
	return 0;
}

/* ---- http-parser callbacks --------------------------------------------- */

static int budget(struct mssld_conn *c, struct mssld_req *r, size_t len)
{
	r->header_bytes += len;
	if (r->header_bytes > (size_t)c->srv->conf.max_header_bytes)
		return fail(r, 431, "limit.header_size",
			    N_("the request headers are too large"));
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct mssld_conn *c = p->data;
	struct mssld_req *r = c->req;

	if (r->url_len + len > (size_t)c->srv->conf.max_header_bytes)
		return fail(r, 414, "limit.uri_size",
			    N_("the request target is too long"));
	if (budget(c, r, len) < 0 || append(&r->url, at, len) < 0)
		return fail(r, 503, "nomem", N_("out of memory"));
	r->url_len += len;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct mssld_conn *c = p->data;
	struct mssld_req *r = c->req;
	struct mssld_header *h;

	if (budget(c, r, len) < 0)
		return -1;
	if (r->nh == 0 || r->last_was_value) {
		if (r->nh == (size_t)c->srv->conf.max_headers)
			return fail(r, 431, "limit.header_count",
				    N_("the request has too many headers"));
		if (r->nh == r->caph) {
			size_t nc = r->caph ? r->caph * 2 : 16;

			h = realloc(r->h, nc * sizeof(*h));
			if (!h)
				return fail(r, 503, "nomem", N_("out of memory"));
			r->h = h;
			r->caph = nc;
		}
		r->h[r->nh].name = NULL;
		r->h[r->nh].value = NULL;
		r->nh++;
		r->last_was_value = false;
	}
	if (append(&r->h[r->nh - 1].name, at, len) < 0)
		return fail(r, 503, "nomem", N_("out of memory"));
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct mssld_conn *c = p->data;
	struct mssld_req *r = c->req;

	if (budget(c, r, len) < 0)
		return -1;
	r->last_was_value = true;
	if (append(&r->h[r->nh - 1].value, at, len) < 0)
		return fail(r, 503, "nomem", N_("out of memory"));
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct mssld_conn *c = p->data;
	struct mssld_req *r = c->req;
	size_t ncl = mssld_req_header_count(r, "content-length");
	size_t nte = mssld_req_header_count(r, "transfer-encoding");
	const char *te = mssld_req_header(r, "transfer-encoding");
	const char *expect = mssld_req_header(r, "expect");
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	r->headers_done = true;
	r->method = p->method;
	if (p->http_major != 1)
		return fail(r, 505, "http.version",
			    N_("only HTTP/1.1 and HTTP/1.0 are spoken here"));
	if (ncl > 1 || nte > 1 || (ncl && nte))
		return fail(r, 400, "http.smuggling",
			    N_("conflicting Content-Length and Transfer-Encoding headers"));
	if (nte && (strcasecmp(te, "chunked") != 0 || p->http_minor == 0))
		return fail(r, 400, "http.transfer_encoding",
			    N_("only Transfer-Encoding: chunked is accepted, in HTTP/1.1"));
	if (p->http_minor >= 1 && mssld_req_header_count(r, "host") != 1)
		return fail(r, 400, "http.host",
			    N_("an HTTP/1.1 request needs exactly one Host header"));
	if (ncl && p->content_length != ULLONG_MAX &&
	    p->content_length > (uint64_t)c->srv->conf.max_body_bytes)
		return fail(r, 413, "limit.body_size",
			    N_("the request body is too large"));
	if (expect) {
		if (strcasecmp(expect, "100-continue") != 0)
			return fail(r, 417, "http.expect",
				    N_("only Expect: 100-continue is understood"));
		if ((nte || (ncl && p->content_length > 0)) &&
		    mssld_conn_send(c, cont, sizeof(cont) - 1) < 0)
			return fail(r, 503, "nomem", N_("out of memory"));
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct mssld_conn *c = p->data;
	struct mssld_req *r = c->req;
	char *n;

	if (r->body_len + len > (size_t)c->srv->conf.max_body_bytes)
		return fail(r, 413, "limit.body_size",
			    N_("the request body is too large"));
	if (r->body_len + len + 1 > r->body_cap) {
		size_t nc = r->body_cap ? r->body_cap : 1024;

		while (nc < r->body_len + len + 1)
			nc *= 2;
		n = realloc(r->body, nc);
		if (!n)
			return fail(r, 503, "nomem", N_("out of memory"));
		r->body = n;
		r->body_cap = nc;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct mssld_req *r = ((struct mssld_conn *)p->data)->req;

	r->complete = true;
	r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- writing ---------------------------------------------------------- */

struct wreq {
	uv_write_t w;
	struct mssld_conn *c;
	char *data;
};

static void after_response(struct mssld_conn *c);
static void arm(struct mssld_conn *c, enum conn_phase phase);

#define FILE_CHUNK (64 * 1024)

static void file_done(struct mssld_conn *c)
{
	if (c->file_open)
		close(c->file_fd);
	c->file_open = false;
	c->file_left = 0;
}

/*
 * The next chunk of a file body.  The file is a spool the pool just
 * wrote (in the page cache), so reading it here does not stall the loop
 * the way waiting on a client or a store would.
 */
static int send_file_chunk(struct mssld_conn *c)
{
	size_t want = c->file_left < FILE_CHUNK ? (size_t)c->file_left :
						  FILE_CHUNK;
	char *buf = malloc(want);
	ssize_t k;
	int r;

	if (!buf)
		return -1;
	do
		k = read(c->file_fd, buf, want);
	while (k < 0 && errno == EINTR);
	if (k <= 0) {
		free(buf);
		file_done(c);
		return -1;
	}
	c->file_left -= (uint64_t)k;
	if (!c->file_left)
		file_done(c);
	arm(c, PHASE_WRITING);
	if (c->tls) {
		r = mssld_tls_send(c, buf, (size_t)k);
		free(buf);
	} else {
		r = mssld_conn_write_owned(c, buf, (size_t)k);
	}
	return r;
}

static void write_cb(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;
	struct mssld_conn *c = wr->c;

	free(wr->data);
	free(wr);
	c->writes--;
	if (status < 0) {
		mssld_conn_close(c);
		return;
	}
	if (c->writes == 0 && c->phase == PHASE_WRITING && !c->closing) {
		if (c->file_open && c->file_left) {
			if (send_file_chunk(c) < 0)
				mssld_conn_close(c);
			return;
		}
		after_response(c);
	}
}

int mssld_conn_write_owned(struct mssld_conn *c, char *data, size_t len)
{
	struct wreq *wr;
	uv_buf_t b;

	if (c->closing) {
		free(data);
		return -1;
	}
	wr = malloc(sizeof(*wr));
	if (!wr) {
		free(data);
		return -1;
	}
	wr->c = c;
	wr->data = data;
	b = uv_buf_init(data, (unsigned)len);
	if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, write_cb) < 0) {
		free(data);
		free(wr);
		return -1;
	}
	c->writes++;
	return 0;
}

int mssld_conn_send(struct mssld_conn *c, const char *data, size_t len)
{
	char *copy;

	if (c->tls)
		return mssld_tls_send(c, data, len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	return mssld_conn_write_owned(c, copy, len);
}

/* ---- closing ---------------------------------------------------------- */

static void conn_free(struct mssld_conn *c)
{
	struct mssld_server *srv = c->srv;

	if (--c->refs > 0)
		return;
	mssld_tls_conn_free(c);
	file_done(c);
	req_free(c->req);
	free(c->in);
	free(c);
	(void)srv;
}

static void close_cb(uv_handle_t *h)
{
	conn_free(h->data);
}

void mssld_conn_close(struct mssld_conn *c)
{
	struct mssld_server *srv = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	mssld_ip_put(srv, c->ip);
	c->ip = NULL;
	uv_close((uv_handle_t *)&c->timer, close_cb);
	uv_close((uv_handle_t *)&c->tcp, close_cb);
	mssld_server_check_idle(srv);
}

/* ---- answering --------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

static void http_date(char *buf, size_t n)
{
	static time_t last;
	static char cached[64];
	time_t t = time(NULL);
	struct tm tm;

	if (t != last) {
		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT",
			 &tm);
		last = t;
	}
	snprintf(buf, n, "%s", cached);
}

/* The path for the log: printable, without the query, bounded. */
static void log_path(const struct mssld_req *r, char *out, size_t n)
{
	size_t i, k = 0;
	const char *u = r->url ? r->url : "";

	for (i = 0; u[i] && u[i] != '?' && k + 1 < n && i < 200; i++)
		out[k++] = (u[i] > 0x20 && u[i] < 0x7f && u[i] != '"') ?
				   u[i] :
				   '_';
	out[k] = '\0';
}

static void respond(struct mssld_conn *c, struct mssld_req *r,
		    struct mssld_resp *resp)
{
	struct mssld_server *srv = c->srv;
	bool close = resp->close || !r->keep_alive || srv->draining ||
		     c->want_close;
	bool head = r->method == HTTP_HEAD;
	char date[64], path[256], *buf;
	size_t hlen, blen = head ? 0 : resp->body_len;
	int k;

	http_date(date, sizeof(date));
	buf = malloc(1024 + blen);
	if (!buf) {
		mssld_conn_close(c);
		return;
	}
	k = snprintf(buf, 1024,
		     "HTTP/1.1 %d %s\r\n"
		     "Date: %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Request-Id: %s\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "%s%s%s"
		     "Connection: %s\r\n\r\n",
		     resp->status, reason(resp->status), date,
		     resp->content_type ? resp->content_type :
					  "application/json",
		     resp->file_open ? (size_t)resp->file_size :
				       resp->body_len,
		     r->rid,
		     strstr(resp->extra, "Cache-Control:") ?
			     "" :
			     "Cache-Control: no-store\r\n",
		     c->tls ? "Strict-Transport-Security: max-age=31536000\r\n" :
			      "",
		     resp->extra, close ? "close" : "keep-alive");
	if (k < 0 || k >= 1024) {
		free(buf);
		mssld_conn_close(c);
		return;
	}
	hlen = (size_t)k;
	if (blen)
		memcpy(buf + hlen, resp->body, blen);
	if (mssld_log_enabled(MSSL_LOG_INFO)) {
		log_path(r, path, sizeof(path));
		mssld_log(MSSL_LOG_INFO, r->rid, "%s \"%s %s\" %d %zu %.1fms",
			  r->client[0] ? r->client : c->peer,
			  http_method_str((enum http_method)r->method), path,
			  resp->status,
			  resp->file_open ? (size_t)resp->file_size :
					    resp->body_len,
			  (double)(now_ns() - r->start_ns) / 1e6);
	}
	c->want_close = close;
	if (resp->file_open && !head && resp->file_size) {
		/* The connection takes the file; write_cb sends it. */
		c->file_open = true;
		c->file_fd = resp->file_fd;
		c->file_left = resp->file_size;
		resp->file_open = false;
	}
	arm(c, PHASE_WRITING);
	if (c->tls) {
		k = mssld_tls_send(c, buf, hlen + blen);
		free(buf);
	} else {
		k = mssld_conn_write_owned(c, buf, hlen + blen);
	}
	if (k < 0) {
		mssld_conn_close(c);
		return;
	}
	if (c->writes == 0) /* nothing pending (cannot happen, but) */
		after_response(c);
}

/* Answer a failed request with the error body and close. */
static void respond_fail(struct mssld_conn *c, int status, const char *id,
			 const char *msg)
{
	struct mssld_req *r = c->req;
	struct mssld_resp resp = { 0 };

	mssld_resp_error(&resp, status, id, NULL, "%s", msg);
	resp.close = true;
	if (mssld_log_enabled(MSSL_LOG_INFO))
		mssld_log(MSSL_LOG_INFO, r->rid, "%s: refused: %s (%s)",
			  c->peer, id, msg);
	respond(c, r, &resp);
	mssld_resp_clear(&resp);
}

static void after_response(struct mssld_conn *c)
{
	req_free(c->req);
	c->req = NULL;
	if (c->want_close) {
		mssld_tls_bye(c);
		mssld_conn_close(c);
		return;
	}
	arm(c, c->in_len ? PHASE_READING : PHASE_IDLE);
	if (!c->reading) {
		c->reading = true;
		mssld_conn_resume(c);
	}
	process(c);
}

/* ---- dispatch ------------------------------------------------------------ */

struct work {
	uv_work_t w;
	struct mssld_conn *c;
	struct mssld_call call;
};

static void work_cb(uv_work_t *w)
{
	mssld_call_run(&((struct work *)w)->call);
}

static void call_done(struct mssld_conn *c, struct mssld_call *call)
{
	if (!c->closing)
		respond(c, call->req, &call->resp);
	mssld_resp_clear(&call->resp);
	json_decref(call->json);
	mssl_actor_free(call->actor);
	free(call->account_id);
	free(call->person_name);
	if (call->token) {
		memset(call->token, 0, strlen(call->token));
		free(call->token);
	}
	mssl_error_free(call->err);
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct work *wk = (struct work *)w;
	struct mssld_conn *c = wk->c;
	struct mssld_server *srv = c->srv;

	srv->inflight--;
	if (status < 0 && !c->closing)
		mssld_resp_error(&wk->call.resp, 503, "server.cancelled", NULL,
				 N_("the server is shutting down"));
	call_done(c, &wk->call);
	free(wk);
	conn_free(c); /* the reference the work held */
	if (srv->draining)
		mssld_server_check_idle(srv);
}

/* The client's address: the peer, or through trusted proxies. */
static void client_of(struct mssld_conn *c, struct mssld_req *r)
{
	const struct mssld_conf *cf = &c->srv->conf;
	const char *proto;
	char buf[1024], *tok, *save = NULL;
	char pick[64] = "";
	uint8_t a[16];
	size_t i;

	snprintf(r->client, sizeof(r->client), "%s", c->peer);
	r->secure = c->tls != NULL;
	if (!cf->n_proxies || !mssld_cidr_match(cf->proxies, cf->n_proxies,
						  c->peer))
		return;
	/*
	 * The rightmost address that is not one of our proxies: what the
	 * nearest untrusted hop connected from.  Anything to its left was
	 * written by the client and proves nothing.
	 */
	for (i = 0; i < r->nh; i++) {
		if (!r->h[i].name ||
		    strcasecmp(r->h[i].name, "x-forwarded-for") != 0 ||
		    !r->h[i].value)
			continue;
		snprintf(buf, sizeof(buf), "%s", r->h[i].value);
		for (tok = strtok_r(buf, ", \t", &save); tok;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (inet_pton(AF_INET, tok, a) != 1 &&
			    inet_pton(AF_INET6, tok, a) != 1) {
				pick[0] = '\0'; /* garbage: start over */
				continue;
			}
			if (!mssld_cidr_match(cf->proxies, cf->n_proxies, tok))
				snprintf(pick, sizeof(pick), "%s", tok);
		}
	}
	if (pick[0])
		snprintf(r->client, sizeof(r->client), "%s", pick);
	proto = mssld_req_header(r, "x-forwarded-proto");
	if (proto)
		r->secure = strcasecmp(proto, "https") == 0;
}

static void dispatch(struct mssld_conn *c)
{
	struct mssld_server *srv = c->srv;
	struct mssld_req *r = c->req;
	const struct mssld_route *route;
	struct mssld_resp resp = { 0 };
	struct work *wk;
	char allow[64] = "";
	int status = 0;

	arm(c, PHASE_BUSY);
	c->requests++;
	client_of(c, r);
	memcpy(r->cb, c->cb, c->cb_len);
	r->cb_len = c->cb_len;
	if (mssld_log_enabled(MSSL_LOG_DEBUG)) {
		size_t i;

		for (i = 0; i < r->nh; i++) {
			const char *n = r->h[i].name ? r->h[i].name : "";
			bool secret = strcasecmp(n, "authorization") == 0 ||
				      strcasecmp(n, "cookie") == 0 ||
				      strcasecmp(n, "x-csrf-token") == 0 ||
				      strcasecmp(n, "proxy-authorization") == 0;

			mssld_log(MSSL_LOG_DEBUG, r->rid, "header %.64s: %.200s",
				  n, secret ? "[redacted]" :
					      (r->h[i].value ? r->h[i].value : ""));
		}
	}
	if (!mssld_rate_take(srv, r->client)) {
		mssld_resp_error(&resp, 429, "limit.rate", NULL,
				 N_("too many requests from your address; try again shortly"));
		snprintf(resp.extra, sizeof(resp.extra), "Retry-After: 1\r\n");
		goto answer;
	}
	route = mssld_route_find(r, &status, allow, sizeof(allow));
	if (!route) {
		if (status == 405) {
			mssld_resp_error(&resp, 405, "http.method", NULL,
					 N_("this method is not allowed here"));
			snprintf(resp.extra, sizeof(resp.extra),
				 "Allow: %s\r\n", allow);
		} else {
			mssld_resp_error(&resp, 404, "http.not_found", NULL,
					 N_("no such resource"));
		}
		goto answer;
	}
	wk = calloc(1, sizeof(*wk));
	if (!wk || !(wk->call.err = mssl_error_new())) {
		free(wk);
		mssld_resp_error(&resp, 503, "nomem", NULL,
				 N_("out of memory"));
		goto answer;
	}
	wk->c = c;
	wk->call.srv = srv;
	wk->call.ctx = srv->ctx;
	wk->call.route = route;
	wk->call.req = r;
	if (!route->pool) {
		mssld_call_run(&wk->call);
		call_done(c, &wk->call);
		free(wk);
		return;
	}
	c->refs++;
	srv->inflight++;
	if (uv_queue_work(srv->loop, &wk->w, work_cb, after_work_cb) < 0) {
		srv->inflight--;
		c->refs--;
		mssl_error_free(wk->call.err);
		free(wk);
		mssld_resp_error(&resp, 503, "server.busy", NULL,
				 N_("the server is busy"));
		goto answer;
	}
	return;
answer:
	respond(c, r, &resp);
	mssld_resp_clear(&resp);
}

/* ---- reading ----------------------------------------------------------- */

static void consume(struct mssld_conn *c, size_t n)
{
	if (n >= c->in_len) {
		free(c->in);
		c->in = NULL;
		c->in_len = c->in_cap = 0;
		return;
	}
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static struct mssld_req *req_new(struct mssld_conn *c)
{
	struct mssld_server *srv = c->srv;
	struct mssld_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->rid, sizeof(r->rid), "%08x%08x", srv->rid_prefix,
		 (unsigned)++srv->rid_counter);
	r->scan_state = SCAN_START;
	r->start_ns = now_ns();
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	return r;
}

static void process(struct mssld_conn *c)
{
	struct mssld_req *r;
	enum http_errno e;
	size_t n;

	while (!c->closing && c->in_len > 0 &&
	       (c->phase == PHASE_IDLE || c->phase == PHASE_READING)) {
		if (!c->req) {
			if (!(c->req = req_new(c))) {
				mssld_conn_close(c);
				return;
			}
			arm(c, PHASE_READING);
		}
		r = c->req;
		if (!r->headers_done && r->scan_state != SCAN_DONE &&
		    scan(r, c->in, c->in_len) < 0) {
			respond_fail(c, r->fail_status, r->fail_id, r->fail_msg);
			return;
		}
		n = http_parser_execute(&c->parser, &settings, c->in,
					c->in_len);
		e = HTTP_PARSER_ERRNO(&c->parser);
		consume(c, n);
		if (r->fail_status) {
			respond_fail(c, r->fail_status, r->fail_id, r->fail_msg);
			return;
		}
		if (e == HPE_HEADER_OVERFLOW) {
			respond_fail(c, 431, "limit.header_size",
				     N_("the request headers are too large"));
			return;
		}
		if (e != HPE_OK && e != HPE_PAUSED) {
			mssld_log(MSSL_LOG_DEBUG, r->rid, "http-parser: %s",
				  http_errno_name(e));
			respond_fail(c, 400,
				     e == HPE_UNEXPECTED_CONTENT_LENGTH ?
					     "http.smuggling" :
					     "http.malformed",
				     e == HPE_UNEXPECTED_CONTENT_LENGTH ?
					     N_("conflicting Content-Length and Transfer-Encoding headers") :
					     N_("malformed request"));
			return;
		}
		if (r->complete) {
			if (c->parser.upgrade)
				c->want_close = true;
			dispatch(c);
			continue;
		}
		if (n == 0)
			break;
	}
	/* Backpressure: stop reading while a big backlog waits. */
	if (c->reading && !c->closing && c->phase != PHASE_READING &&
	    c->phase != PHASE_IDLE && c->in_len > 65536) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct mssld_conn *c = h->data;

	*buf = uv_buf_init(c->srv->readbuf, sizeof(c->srv->readbuf));
	(void)suggested;
}

static int in_append(struct mssld_conn *c, const char *data, size_t len)
{
	char *n;

	if (c->in_len + len > c->in_cap) {
		size_t nc = c->in_cap ? c->in_cap : 4096;

		while (nc < c->in_len + len)
			nc *= 2;
		n = realloc(c->in, nc);
		if (!n)
			return -1;
		c->in = n;
		c->in_cap = nc;
	}
	memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	return 0;
}

int mssld_conn_take_plain(struct mssld_conn *c, const char *data, size_t len)
{
	return in_append(c, data, len);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mssld_conn *c = s->data;

	if (nread == 0 || c->closing)
		return;
	if (nread < 0) {
		/*
		 * The client is gone, or has only stopped sending: a request
		 * already read is still answered, then the connection closes.
		 */
		uv_read_stop(s);
		c->reading = false;
		c->want_close = true;
		if (c->phase == PHASE_IDLE || c->phase == PHASE_READING)
			mssld_conn_close(c);
		return;
	}
	if (c->tls) {
		if (mssld_tls_feed(c, buf->base, (size_t)nread) < 0) {
			mssld_conn_close(c);
			return;
		}
		if (!c->handshaken)
			return;
		/* Handshake done, nothing asked yet: the idle clock runs. */
		if (!c->req && !c->in_len && c->phase == PHASE_READING)
			arm(c, PHASE_IDLE);
	} else if (in_append(c, buf->base, (size_t)nread) < 0) {
		mssld_conn_close(c);
		return;
	}
	if (c->phase == PHASE_IDLE && c->in_len)
		arm(c, PHASE_READING);
	process(c);
}

static void timer_cb(uv_timer_t *t)
{
	struct mssld_conn *c = t->data;

	switch (c->phase) {
	case PHASE_IDLE:
		mssld_conn_close(c);
		break;
	case PHASE_READING:
		if (c->req && (!c->tls || c->handshaken)) {
			mssld_log(MSSL_LOG_INFO, c->req->rid,
				  "%s: request not received in %llds", c->peer,
				  (long long)c->srv->conf.request_timeout_s);
			respond_fail(c, 408, "limit.request_timeout",
				     N_("the request took too long to arrive"));
		} else {
			mssld_conn_close(c);
		}
		break;
	case PHASE_WRITING:
		mssld_log(MSSL_LOG_INFO, NULL, "%s: answer not taken in %llds",
			  c->peer, (long long)c->srv->conf.write_timeout_s);
		mssld_conn_close(c);
		break;
	case PHASE_BUSY:
		break;
	}
}

/* ---- accepting ---------------------------------------------------------- */

static void refuse(struct mssld_conn *c, const char *id, const char *msg)
{
	struct mssld_resp resp = { 0 };
	char *buf;
	int k;

	mssld_log(MSSL_LOG_WARNING, NULL, "%s: connection refused: %s", c->peer,
		  id);
	if (!c->tls) {
		mssld_resp_error(&resp, 503, id, NULL, "%s", msg);
		buf = malloc(512 + resp.body_len);
		k = buf ? snprintf(buf, 512,
				   "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: %zu\r\nRetry-After: 1\r\n"
				   "Connection: close\r\n\r\n",
				   resp.body_len) :
			    -1;
		if (k > 0 && k < 512) {
			memcpy(buf + k, resp.body, resp.body_len);
			k = mssld_conn_write_owned(c, buf,
						   (size_t)k + resp.body_len);
		} else {
			free(buf);
			k = -1;
		}
		mssld_resp_clear(&resp);
		if (k == 0) {
			/* Closed once the answer is written. */
			c->want_close = true;
			arm(c, PHASE_WRITING);
			return;
		}
	}
	mssld_conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct mssld_server *srv = server->data;
	struct sockaddr_storage ss;
	struct mssld_conn *c;
	int len = sizeof(ss);

	if (status < 0) {
		mssld_log(MSSL_LOG_WARNING, NULL, "accept: %s",
			  uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->refs = 2;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		mssld_conn_close(c);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)&ss, c->peer,
				    sizeof(c->peer));
		else
			uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer,
				    sizeof(c->peer));
	}
	c->ip = mssld_ip_get(srv, c->peer);
	if (!c->ip) {
		mssld_conn_close(c);
		return;
	}
	if (srv->nconns > (uint64_t)srv->conf.max_connections) {
		refuse(c, "limit.connections",
		       N_("the server has too many connections; try again shortly"));
		return;
	}
	if (mssld_ip_conns(c->ip) > (unsigned)srv->conf.max_connections_per_ip) {
		refuse(c, "limit.connections_per_ip",
		       N_("too many connections from your address"));
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (srv->tls && mssld_tls_conn_new(c) < 0) {
		mssld_conn_close(c);
		return;
	}
	/* A TLS handshake must be done within the request timeout. */
	arm(c, c->tls ? PHASE_READING : PHASE_IDLE);
	c->reading = true;
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

/*
 * uv_read_start needs the callbacks again after a stop; keep them here so
 * after_response can resume with the same ones.
 */
static void mssld_conn_resume(struct mssld_conn *c)
{
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

int mssld_server_start(struct mssld_server *srv, mssl_error *err)
{
	struct sockaddr_storage ss;
	const struct mssld_conf *cf = &srv->conf;
	int rc;

	if (strchr(cf->listen, ':'))
		rc = uv_ip6_addr(cf->listen, cf->port,
				 (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(cf->listen, cf->port,
				 (struct sockaddr_in *)&ss);
	if (rc == 0)
		rc = uv_tcp_init(srv->loop, &srv->listener);
	if (rc < 0)
		goto fail;
	srv->listener.data = srv;
	srv->listening = true;
	rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, 1024,
			       on_connection);
	if (rc < 0)
		goto fail;
	uv_timer_init(srv->loop, &srv->sweep);
	srv->sweep.data = srv;
	return 0;
fail:
	return mssl_error_set(err, MSSL_EIO, "mssld.listen", "listen",
			      N_("cannot listen on %s port %d: %s"),
			      cf->listen, cf->port, uv_strerror(rc));
}

void mssld_server_drain(struct mssld_server *srv)
{
	struct mssld_conn *c, *next;

	srv->draining = true;
	if (srv->listening) {
		uv_close((uv_handle_t *)&srv->listener, NULL);
		srv->listening = false;
	}
	for (c = srv->conns; c; c = next) {
		next = c->next;
		c->want_close = true;
		if (c->phase == PHASE_IDLE)
			mssld_conn_close(c);
	}
	mssld_server_check_idle(srv);
}

void mssld_server_close_all(struct mssld_server *srv)
{
	while (srv->conns)
		mssld_conn_close(srv->conns);
}

bool mssld_server_idle(const struct mssld_server *srv)
{
	return srv->nconns == 0 && srv->inflight == 0;
}

void mssld_server_check_idle(struct mssld_server *srv)
{
	if (srv->draining && mssld_server_idle(srv) && srv->on_idle)
		srv->on_idle(srv);
}
