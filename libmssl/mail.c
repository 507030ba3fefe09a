/*
 * E-mail notices: the persistent outbox sent over SMTP with libcurl.
 *
 * Issuance queues a message in the same transaction as the certificate;
 * mssl_mail_flush sends what is due.  A send never happens inside a
 * store transaction: the due list is read in the operation's frame, the
 * messages go out after it has committed, and each outcome (sent, or a
 * retry with backoff) is recorded with its audit record in a small
 * transaction of its own.
 */
#include "mail.h"
#include "op.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Keys of the [mail] section; see doc/mssl.conf.5. */
static const char *const mail_keys[] = {
	"server", "port", "security", "username", "password_file", "from",
	"retry_s", "max_attempts", "ca_file", "remind_days", NULL,
};

/* Expiry reminders when [mail] remind_days is absent (SPEC: 30, 14, 7). */
static const int default_remind_days[] = { 30, 14, 7 };
#define REMIND_DAYS_MAX 365

static const char *const security_names[] = {
	[MSSL__MAIL_STARTTLS] = "starttls",
	[MSSL__MAIL_TLS] = "tls",
	[MSSL__MAIL_NONE] = "none",
};

static const int default_ports[] = {
	[MSSL__MAIL_STARTTLS] = 587,
	[MSSL__MAIL_TLS] = 465,
	[MSSL__MAIL_NONE] = 25,
};

#define MAX_BACKOFF 86400 /* one day */
#define FLUSH_MAX 100 /* messages sent per flush */
#define DUE_SCAN 100000 /* rows looked at per flush (given up ones too) */
#define CONNECT_TIMEOUT 30L
#define SEND_TIMEOUT 120L

/* ---- configuration ------------------------------------------------------ */

void mssl__mail_config_free(struct mssl__mail_conf *m)
{
	free(m->server);
	free(m->username);
	free(m->password_file);
	free(m->from);
	free(m->ca_file);
	memset(m, 0, sizeof(*m));
}

/* A host name (letters, digits, '-', '.') or an IP address literal. */
static bool host_ok(const char *h)
{
	unsigned char a[16];
	size_t i;

	if (!*h || strlen(h) > 253)
		return false;
	if (inet_pton(AF_INET6, h, a) == 1)
		return true;
	for (i = 0; h[i]; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		      (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' ||
		      h[i] == '.'))
			return false;
	return h[0] != '-' && h[0] != '.';
}

static bool is_loopback(const char *h)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcasecmp(h, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int dup_to(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : MSSL_ENOMEM;
}

int mssl__mail_config(mssl_ctx *ctx, mssl_error *err)
{
	const struct mssl__config *cfg = ctx->cfg;
	struct mssl__mail_conf *m = &ctx->mail;
	const char *v;
	struct stat st;
	size_t i;
	int rc;

	mssl__mail_config_free(m);
	m->security = MSSL__MAIL_STARTTLS;
	if ((rc = mssl__config_check_keys(cfg, "mail", mail_keys, err)) < 0)
		return rc;
	v = mssl__config_get(cfg, "mail", "security");
	if (v) {
		for (i = 0; i < MSSL_ARRAY_SIZE(security_names); i++)
			if (strcmp(v, security_names[i]) == 0)
				break;
		if (i == MSSL_ARRAY_SIZE(security_names))
			return mssl__config_error(cfg, err, "mail", "security",
						  "config.mail_security",
						  N_("\"%s\" is not a security mode: use starttls, tls or none"),
						  v);
		m->security = (int)i;
	}
	if ((rc = mssl__config_int(cfg, "mail", "port", 1, 65535, default_ports[m->security],
			   &m->port, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "mail", "retry_s", 1, MAX_BACKOFF, 300, &m->retry_s,
			   err)) < 0 ||
	    (rc = mssl__config_int(cfg, "mail", "max_attempts", 1, 1000, 10,
			   &m->max_attempts, err)) < 0 ||
	    (rc = mssl__config_days_list(
		     cfg, "mail", "remind_days", 1, REMIND_DAYS_MAX,
		     default_remind_days,
		     MSSL_ARRAY_SIZE(default_remind_days), m->remind_days,
		     MSSL__REMIND_MAX, &m->n_remind_days, err)) < 0)
		return rc;
	v = mssl__config_get(cfg, "mail", "server");
	if (v && *v) {
		if (!host_ok(v))
			return mssl__config_error(cfg, err, "mail", "server",
						  "config.mail_server",
						  N_("\"%s\" is not a host name or IP address"),
						  v);
		if (m->security == MSSL__MAIL_NONE && !is_loopback(v))
			return mssl__config_error(cfg, err, "mail", "security",
						  "config.mail_plaintext",
						  N_("security = none sends mail unencrypted and is allowed only to a loopback server (127.0.0.1, ::1, localhost), not to %s; use starttls or tls"),
						  v);
		if ((rc = dup_to(&m->server, v)) < 0)
			return rc;
	}
	v = mssl__config_get(cfg, "mail", "from");
	if (v && *v) {
		if (strpbrk(v, "\r\n<>\" ") ||
		    mssl_email_check(v, "from", NULL) < 0)
			return mssl__config_error(cfg, err, "mail", "from",
						  "config.mail_from",
						  N_("\"%s\" is not a valid e-mail address"),
						  v);
		if ((rc = dup_to(&m->from, v)) < 0)
			return rc;
	} else if (m->server) {
		return mssl__config_error(cfg, err, "mail", "from",
					  "config.mail_from_missing",
					  N_("a sender address is required when a mail server is set"));
	}
	v = mssl__config_get(cfg, "mail", "username");
	if (v && *v) {
		if (strpbrk(v, "\r\n"))
			return mssl__config_error(cfg, err, "mail", "username",
						  "config.mail_username",
						  N_("the user name may not contain line breaks"));
		if ((rc = dup_to(&m->username, v)) < 0)
			return rc;
	}
	v = mssl__config_get(cfg, "mail", "password_file");
	if (v && *v) {
		if (v[0] != '/')
			return mssl__config_error(cfg, err, "mail",
						  "password_file",
						  "config.absolute_path",
						  N_("must be an absolute file path"));
		if (stat(v, &st) < 0 || !S_ISREG(st.st_mode))
			return mssl__config_error(cfg, err, "mail",
						  "password_file",
						  "config.mail_password_file",
						  N_("%s is not a readable file"),
						  v);
		if (st.st_mode & (S_IRWXG | S_IRWXO) ||
		    (st.st_uid != 0 && st.st_uid != geteuid()))
			return mssl__config_error(cfg, err, "mail",
						  "password_file",
						  "config.mail_password_mode",
						  N_("%s must be owned by root (or this service's user) and not accessible to group or others (chmod 600)"),
						  v);
		if ((rc = dup_to(&m->password_file, v)) < 0)
			return rc;
	}
	if (!m->username != !m->password_file)
		return mssl__config_error(cfg, err, "mail",
					  m->username ? "password_file" :
							"username",
					  "config.mail_auth",
					  N_("username and password_file go together (the password is never written in the configuration)"));
	v = mssl__config_get(cfg, "mail", "ca_file");
	if (v && *v) {
		if (v[0] != '/')
			return mssl__config_error(cfg, err, "mail", "ca_file",
						  "config.absolute_path",
						  N_("must be an absolute file path"));
		if (access(v, R_OK) < 0)
			return mssl__config_error(cfg, err, "mail", "ca_file",
						  "config.mail_ca_file",
						  N_("%s is not a readable file"),
						  v);
		if ((rc = dup_to(&m->ca_file, v)) < 0)
			return rc;
	}
	return 0;
}

/* ---- the message ------------------------------------------------------------ */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t len)
{
	char *p;
	size_t cap;

	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->n + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...) MSSL_PRINTF(2, 3);
static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = true; /* only short, fixed lines go through here */
		return;
	}
	buf_add(b, tmp, (size_t)n);
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of s[0..len) appended to b (no line breaks). */
static void buf_b64(struct buf *b, const unsigned char *s, size_t len)
{
	char q[4];
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = b64chars[v >> 18];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = b64chars[(v >> 6) & 63];
		q[3] = b64chars[v & 63];
		buf_add(b, q, 4);
	}
	if (i < len) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		q[0] = b64chars[v >> 18];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		q[3] = '=';
		buf_add(b, q, 4);
	}
}

/* A header value must not be able to start another header. */
static bool header_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * Subject as RFC 2047 encoded words of at most 42 bytes (56 base64
 * characters, 68 with the markers: "Subject: " and a word fit in 78),
 * never splitting a UTF-8 sequence, folded onto continuation lines.
 */
static void buf_subject(struct buf *b, const char *s)
{
	size_t len = strlen(s), n;
	bool first = true;

	buf_str(b, "Subject:");
	while (len > 0 || first) {
		n = len > 42 ? 42 : len;
		while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		buf_str(b, first ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
		buf_b64(b, (const unsigned char *)s, n);
		buf_str(b, "?=");
		s += n;
		len -= n;
		first = false;
	}
	buf_str(b, "\r\n");
}

/* RFC 5322 date-time in UTC, independent of the locale. */
static void buf_date(struct buf *b, int64_t now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
					    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)now;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		b->oom = true;
		return;
	}
	buf_fmt(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
		days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The body in canonical form (CRLF), base64 in lines of 76. */
static void buf_body(struct buf *b, const char *body)
{
	struct buf c = { 0 };
	const char *p;
	size_t i, n;

	for (p = body; *p; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			buf_add(&c, "\r\n", 2);
		else
			buf_add(&c, p, 1);
	}
	if (c.oom) {
		b->oom = true;
		goto out;
	}
	/* 57 bytes make one 76-character line. */
	for (i = 0; i < c.n; i += n) {
		n = c.n - i > 57 ? 57 : c.n - i;
		buf_b64(b, (const unsigned char *)c.p + i, n);
		buf_str(b, "\r\n");
	}
out:
	free(c.p);
}

int mssl__mail_message(const char *from, const struct mssl_mail_rec *r,
		       int64_t now, char **out, size_t *len, mssl_error *err)
{
	struct buf b = { 0 };
	unsigned char rnd[8];
	const char *domain;
	char hex[17];
	size_t i;

	*out = NULL;
	*len = 0;
	if (!from || !header_ok(from) || strpbrk(from, "<>\" ") ||
	    mssl_email_check(from, "from", NULL) < 0)
		return mssl__error_set(err, MSSL_EINPUT, "mail.from", "from",
				       N_("the sender address is not valid"));
	if (!r->to_addr || !header_ok(r->to_addr) ||
	    strpbrk(r->to_addr, "<>\" ") ||
	    mssl_email_check(r->to_addr, "to", NULL) < 0)
		return mssl__error_set(err, MSSL_EINPUT, "mail.to", "to",
				       N_("the recipient address is not valid"));
	if (!r->subject || !header_ok(r->subject))
		return mssl__error_set(err, MSSL_EINPUT, "mail.subject",
				       "subject",
				       N_("the subject may not contain line breaks or control characters"));
	if (!r->body)
		return mssl__error_set(err, MSSL_EINPUT, "mail.body", "body",
				       N_("the message has no body"));
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		return mssl__error_set(err, MSSL_ECRYPTO, "crypto.rnd", NULL,
				       N_("no random numbers"));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	domain = strrchr(from, '@') + 1;

	buf_str(&b, "From: ");
	buf_str(&b, from);
	buf_str(&b, "\r\nTo: ");
	buf_str(&b, r->to_addr);
	buf_str(&b, "\r\n");
	buf_subject(&b, r->subject);
	buf_date(&b, now);
	buf_fmt(&b, "Message-ID: <mssl.%" PRId64 ".%" PRId64 ".%s@", r->id,
		now, hex);
	buf_str(&b, domain);
	buf_str(&b, ">\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "\r\n");
	buf_body(&b, r->body);
	if (b.oom) {
		free(b.p);
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	}
	*out = b.p;
	*len = b.n;
	return 0;
}

/* ---- sending ------------------------------------------------------------------ */

/* One due message, copied out of the store's callback. */
struct due_mail {
	struct mssl_mail_rec r;
	char *to, *subject, *body, *related;
};

struct due_list {
	struct due_mail *v;
	size_t n, cap;
	size_t given_up; /* unsent after max_attempts */
	int max_attempts;
};

static void due_free(struct due_list *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].to);
		free(d->v[i].subject);
		free(d->v[i].body);
		free(d->v[i].related);
	}
	free(d->v);
}

static int collect_due(void *ud, const struct mssl_mail_rec *r)
{
	struct due_list *d = ud;
	struct due_mail *m;
	size_t cap;

	if (r->attempts >= d->max_attempts) {
		d->given_up++;
		return 0;
	}
	if (d->n == FLUSH_MAX)
		return 0; /* keep counting the given up ones */
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 8;
		m = realloc(d->v, cap * sizeof(*m));
		if (!m)
			return MSSL_ENOMEM;
		d->v = m;
		d->cap = cap;
	}
	m = &d->v[d->n];
	memset(m, 0, sizeof(*m));
	m->r = *r;
	m->to = mssl__strdup(r->to_addr);
	m->subject = mssl__strdup(r->subject);
	m->body = mssl__strdup(r->body);
	m->related = mssl__strdup(r->related);
	d->n++;
	m->r.to_addr = m->to;
	m->r.subject = m->subject;
	m->r.body = m->body;
	m->r.related = m->related;
	m->r.last_error = NULL;
	if ((r->to_addr && !m->to) || (r->subject && !m->subject) ||
	    (r->body && !m->body) || (r->related && !m->related))
		return MSSL_ENOMEM;
	return 0;
}

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* The first line of the password file into pw[n]. */
static int read_password(const char *path, char *pw, size_t n,
			 mssl_error *err)
{
	ssize_t got;
	size_t len = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return mssl__error_set(err, MSSL_EIO, "mail.password_file",
				       "password_file",
				       N_("cannot read the mail password file %s: %s"),
				       path, strerror(errno));
	while (len < n - 1) {
		got = read(fd, pw + len, n - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	pw[len] = '\0';
	pw[strcspn(pw, "\r\n")] = '\0';
	if (!*pw)
		rc = mssl__error_set(err, MSSL_ECONFIG, "mail.password_empty",
				     "password_file",
				     N_("the mail password file %s is empty"),
				     path);
	return rc;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *out, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(out, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A handle with everything but the message and its recipient. */
static CURL *smtp_handle(const struct mssl__mail_conf *m, const char *pw,
			 char *errbuf)
{
	char url[300], from[300];
	bool v6 = strchr(m->server, ':') != NULL;
	CURL *c;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return NULL;
	c = curl_easy_init();
	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s://%s%s%s:%d",
		 m->security == MSSL__MAIL_TLS ? "smtps" : "smtp",
		 v6 ? "[" : "", m->server, v6 ? "]" : "", m->port);
	snprintf(from, sizeof(from), "<%s>", m->from);
	if (curl_easy_setopt(c, CURLOPT_URL, url) ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") ||
#else
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS,
			     (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS)) ||
#endif
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, SEND_TIMEOUT) ||
	    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from) ||
	    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) ||
	    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb) ||
	    (m->security == MSSL__MAIL_STARTTLS &&
	     curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL)) ||
	    (m->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file)) ||
	    (m->username &&
	     (curl_easy_setopt(c, CURLOPT_USERNAME, m->username) ||
	      curl_easy_setopt(c, CURLOPT_PASSWORD, pw)))) {
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
}

/* Send one message; 0, or -1 with the reason in why[n]. */
static int smtp_send(CURL *c, const char *errbuf, const char *msg,
		     size_t len, const char *to, char *why, size_t n)
{
	struct curl_slist *rcpt = NULL;
	struct upload u = { msg, len };
	char addr[300];
	CURLcode cc;

	snprintf(addr, sizeof(addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, addr);
	if (!rcpt) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	((char *)errbuf)[0] = '\0';
	cc = curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_READDATA, &u);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				      (curl_off_t)len);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (cc == CURLE_OK)
		return 0;
	snprintf(why, n, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return -1;
}

/* When to try again after attempt number 'attempts' (0-based) failed. */
static int64_t next_attempt(const struct mssl__mail_conf *m, int64_t now,
			    int attempts)
{
	int64_t d = m->retry_s;

	while (attempts-- > 0 && d < MAX_BACKOFF)
		d *= 2;
	return now + (d < MAX_BACKOFF ? d : MAX_BACKOFF);
}

/*
 * Record one outcome (sent, or a retry with its error) and its audit
 * record on a fresh connection, in a transaction of its own.
 */
static int record(mssl_ctx *ctx, const mssl_actor *actor,
		  const struct mssl_mail_rec *r, const char *why)
{
	const struct mssl_store_ops *so = ctx->sops;
	int64_t now = mssl__now(ctx);
	char detail[512];
	void *conn = NULL;
	int rc;

	if (why)
		snprintf(detail, sizeof(detail),
			 "id=%" PRId64 " serial=%s attempt=%d: %s", r->id,
			 r->related ? r->related : "-", r->attempts + 1, why);
	else
		snprintf(detail, sizeof(detail), "id=%" PRId64 " serial=%s",
			 r->id, r->related ? r->related : "-");
	if ((rc = mssl__conn_get(ctx, &conn, NULL)) < 0)
		goto log;
	rc = so->begin(conn, MSSL_TXN_WRITE);
	if (rc == 0)
		rc = why ? so->mail_retry(conn, r->id,
					  next_attempt(&ctx->mail, now,
						       r->attempts),
					  why) :
			   so->mail_sent(conn, r->id, now);
	if (rc == 0)
		rc = mssl__audit_append(ctx, conn, actor, NULL,
					why ? "mail.failed" : "mail.sent",
					r->to_addr, why ? "failed" : "ok",
					detail, NULL);
	if (rc == 0)
		rc = so->commit(conn);
	if (rc < 0)
		so->rollback(conn);
	mssl__conn_put(ctx, conn);
log:
	if (rc < 0)
		mssl__log(ctx, MSSL_LOG_ERROR,
			  "cannot record mail %" PRId64 " to %s as %s: %s",
			  r->id, r->to_addr, why ? "failed" : "sent",
			  mssl_strerror(rc));
	return rc;
}

MSSL_API int mssl_mail_flush(mssl_ctx *ctx, const mssl_actor *actor,
			     int64_t *sent, int64_t *failed, mssl_error *err)
{
	struct due_list due = { 0 };
	struct mssl__op op;
	char errbuf[CURL_ERROR_SIZE] = "", pw[512] = "", why[CURL_ERROR_SIZE];
	int64_t n_sent = 0, n_failed = 0;
	char *msg = NULL;
	CURL *c = NULL;
	size_t i, len;
	int rc;

	if (sent)
		*sent = 0;
	if (failed)
		*failed = 0;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_MAIL_FLUSH, NULL, NULL,
			    err);
	if (rc < 0)
		return rc;
	due.max_attempts = ctx->mail.max_attempts;
	if (!ctx->mail.server)
		rc = mssl__error_set(err, MSSL_ESTATE, "mail.no_server", NULL,
				     N_("no mail server configured ([mail] server)"));
	if (rc == 0 && ctx->mail.password_file)
		rc = read_password(ctx->mail.password_file, pw, sizeof(pw),
				   err);
	if (rc == 0) {
		rc = ctx->sops->mail_due(op.conn, mssl__now(ctx), DUE_SCAN,
					 collect_due, &due);
		if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
	}
	snprintf(op.detail, sizeof(op.detail), "%zu due, %zu given up", due.n,
		 due.given_up);
	/* Commits: no transaction is held while the network is used. */
	rc = mssl__op_end(&op, rc < 0 ? rc : 0);
	if (rc < 0)
		goto out;
	if (due.given_up)
		mssl__log(ctx, MSSL_LOG_WARNING,
			  "%zu mails were not sent after %d attempts and stay in the outbox",
			  due.given_up, ctx->mail.max_attempts);
	if (due.n == 0)
		goto out;
	c = smtp_handle(&ctx->mail, pw, errbuf);
	for (i = 0; i < due.n; i++) {
		struct mssl_mail_rec *r = &due.v[i].r;
		mssl_error *merr = mssl_error_new();

		why[0] = '\0';
		if (!c) {
			snprintf(why, sizeof(why), "cannot set up libcurl");
		} else if (mssl__mail_message(ctx->mail.from, r,
					      mssl__now(ctx), &msg, &len,
					      merr) < 0) {
			snprintf(why, sizeof(why), "%s",
				 merr ? mssl_error_message(merr,
							   MSSL_LANG_EN) :
					"invalid message");
		} else {
			smtp_send(c, errbuf, msg, len, r->to_addr, why,
				  sizeof(why));
		}
		mssl_error_free(merr);
		free(msg);
		msg = NULL;
		if (why[0])
			n_failed++;
		else
			n_sent++;
		/* The message went out even if this bookkeeping fails. */
		record(ctx, actor, r, why[0] ? why : NULL);
	}
	if (sent)
		*sent = n_sent;
	if (failed)
		*failed = n_failed;
out:
	if (c)
		curl_easy_cleanup(c);
	wipe(pw, sizeof(pw));
	due_free(&due);
	return rc;
}

/* One language's half of a notice; zh uses its translation and "：". */
static void notice_half(FILE *f, bool zh, const char *headline,
			const struct mssl__notice_line *lines, size_t n,
			const char *footer)
{
	const char *(*tr)(const char *) = zh ? mssl__tr_zh : NULL;
	size_t i;

	fprintf(f, "%s\n\n", tr ? tr(headline) : headline);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s%s\n", tr ? tr(lines[i].label) : lines[i].label,
			zh ? "\xef\xbc\x9a" : ": ", lines[i].value);
	if (footer)
		fprintf(f, "\n%s\n", tr ? tr(footer) : footer);
}

int mssl__notice_queue(mssl_ctx *ctx, void *conn, const char *to,
		       const char *related, const char *cn, const char *what,
		       const char *headline,
		       const struct mssl__notice_line *lines, size_t n,
		       const char *footer)
{
	return mssl__notice_queue_id(ctx, conn, to, related, cn, what,
				     headline, lines, n, footer, NULL);
}

int mssl__notice_queue_id(mssl_ctx *ctx, void *conn, const char *to,
			  const char *related, const char *cn,
			  const char *what, const char *headline,
			  const struct mssl__notice_line *lines, size_t n,
			  const char *footer, int64_t *id_out)
{
	char *subject = NULL, *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int64_t now = mssl__now(ctx);
	int rc = MSSL_ENOMEM;

	if (f) {
		notice_half(f, false, headline, lines, n, footer);
		fputs("\n----\n\n", f);
		notice_half(f, true, headline, lines, n, footer);
		if (fclose(f) == 0)
			rc = 0;
	}
	subject = mssl__asprintf("[mssl] %s %s / %s", cn, what,
				 mssl__tr_zh(what));
	if (rc == 0 && subject)
		rc = ctx->sops->mail_insert(
			conn,
			&(struct mssl_mail_rec){ .created = now,
						 .to_addr = to,
						 .subject = subject,
						 .body = body,
						 .related = related,
						 .next_attempt = now },
			id_out);
	else
		rc = MSSL_ENOMEM;
	free(subject);
	free(body);
	return rc;
}
