/*
 * The mail outbox sent to a real SMTP server (python3-aiosmtpd on
 * loopback): the received message, the outbox row, the audit records,
 * retries with backoff, and the [mail] configuration checks.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "ctx.h"
#include "mail.h"
#include "smtpsink.h"

#define TO "tech@example.com.tw"
#define FROM "mssl@ca.example.com.tw"
#define CN "www.example.com.tw"
#define SERIAL "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
#define SUBJECT "[mssl] " CN " certificate issued / 憑證已簽發"
#define ZH_LINE "您的 SSL 憑證已簽發。"
#define BODY                                                                 \
	"Your SSL certificate has been issued.\n\nCommon name: " CN           \
	"\nSerial number: " SERIAL "\n\n----\n\n" ZH_LINE                     \
	"\n\n一般名稱: " CN "\n序號: " SERIAL "\n"

struct t {
	struct fx *f;
	struct th_smtp s;
};

static int setup_extra(void **state, const char *fmt_extra)
{
	struct t *t = calloc(1, sizeof(*t));
	char extra[512];

	assert_non_null(t);
	if (th_smtp_init(&t->s) < 0) {
		free(t);
		print_message("python3-aiosmtpd is not installed\n");
		return -1;
	}
	snprintf(extra, sizeof(extra), fmt_extra, t->s.port);
	t->f = fx_new(0, extra);
	th_smtp_start_in(&t->s, t->f->dir);
	*state = t;
	return 0;
}

#define MAIL_CONF                                                            \
	"\n[mail]\nserver = 127.0.0.1\nport = %d\nsecurity = none\n"          \
	"from = " FROM "\n"

static int setup(void **state)
{
	return setup_extra(state, MAIL_CONF);
}

static int setup_give_up(void **state)
{
	return setup_extra(state, MAIL_CONF "max_attempts = 2\nretry_s = 60\n");
}

static int teardown(void **state)
{
	struct t *t = *state;

	th_smtp_free(&t->s);
	fx_free(t->f);
	free(t);
	return 0;
}

/* Queue one message through the store, as issuance does. */
static int64_t queue(struct fx *f, const char *to, const char *subject)
{
	mssl_ctx *ctx = f->ctx;
	void *conn = NULL;
	int64_t id = 0;

	assert_int_equal(mssl__conn_get(ctx, &conn, NULL), 0);
	assert_int_equal(ctx->sops->begin(conn, MSSL_TXN_WRITE), 0);
	assert_int_equal(
		ctx->sops->mail_insert(
			conn,
			&(struct mssl_mail_rec){ .created = f->now,
						 .to_addr = to,
						 .subject = subject,
						 .body = BODY,
						 .related = SERIAL,
						 .next_attempt = f->now },
			&id),
		0);
	assert_int_equal(ctx->sops->commit(conn), 0);
	mssl__conn_put(ctx, conn);
	assert_true(id > 0);
	return id;
}

static void flush(struct fx *f, int64_t want_sent, int64_t want_failed)
{
	int64_t sent = -1, failed = -1;

	TH_RC(mssl_mail_flush(f->ctx, f->op, &sent, &failed, f->err), 0,
	      f->err);
	assert_int_equal(sent, want_sent);
	assert_int_equal(failed, want_failed);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p;
	long n;

	if (!fp)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	p[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return p;
}

/* Base64 text (line breaks allowed) to a NUL-terminated string. */
static char *unb64(const char *s, size_t len)
{
	gnutls_datum_t in, out = { NULL, 0 };
	char *clean = malloc(len + 1), *r;
	size_t i, n = 0;

	assert_non_null(clean);
	for (i = 0; i < len; i++)
		if (s[i] != '\r' && s[i] != '\n')
			clean[n++] = s[i];
	in.data = (unsigned char *)clean;
	in.size = (unsigned)n;
	assert_int_equal(gnutls_base64_decode2(&in, &out), 0);
	r = malloc(out.size + 1);
	assert_non_null(r);
	memcpy(r, out.data, out.size);
	r[out.size] = '\0';
	gnutls_free(out.data);
	free(clean);
	return r;
}

/* The decoded value of the (folded, RFC 2047) Subject header. */
static char *subject_of(const char *hdrs)
{
	const char *p = strstr(hdrs, "\r\nSubject:"), *w, *e;
	char *out = calloc(1, 1), *part, *n;

	assert_non_null(p);
	assert_non_null(out);
	p += strlen("\r\nSubject:");
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		assert_true(strncmp(p, "=?UTF-8?B?", 10) == 0);
		w = p + 10;
		e = strstr(w, "?=");
		assert_non_null(e);
		/* An encoded word is at most 75 characters (RFC 2047). */
		assert_true(e + 2 - p <= 75);
		part = unb64(w, (size_t)(e - w));
		n = malloc(strlen(out) + strlen(part) + 1);
		assert_non_null(n);
		memcpy(n, out, strlen(out));
		memcpy(n + strlen(out), part, strlen(part) + 1);
		free(out);
		free(part);
		out = n;
		p = e + 2;
		if (strncmp(p, "\r\n ", 3) != 0)
			break;
		p += 2;
	}
	assert_true(strncmp(p, "\r\n", 2) == 0);
	return out;
}

/* Check the one message in the inbox (msgN.eml). */
static void check_message(struct th_smtp *s, int n)
{
	char path[512], *m, *hdrs, *body, *subj, *sep, *line;
	size_t len = 0, i;

	snprintf(path, sizeof(path), "%s/msg%d.eml", s->dir, n);
	m = slurp(path, &len);
	assert_non_null(m);
	/* The envelope. */
	assert_non_null(strstr(m, "MAILFROM " FROM "\r\nRCPT " TO "\r\n"));
	/* CRLF only: no bare LF, no bare CR. */
	for (i = 0; i < len; i++) {
		if (m[i] == '\n')
			assert_true(i > 0 && m[i - 1] == '\r');
		if (m[i] == '\r')
			assert_true(i + 1 < len && m[i + 1] == '\n');
	}
	sep = strstr(m, "\r\n\r\n");
	assert_non_null(sep);
	sep[2] = '\0'; /* keep the last header's CRLF */
	hdrs = m;
	body = sep + 4;
	assert_non_null(strstr(hdrs, "\r\nFrom: " FROM "\r\n"));
	assert_non_null(strstr(hdrs, "\r\nTo: " TO "\r\n"));
	assert_non_null(strstr(hdrs, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(
		hdrs, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(
		strstr(hdrs, "\r\nContent-Transfer-Encoding: base64\r\n"));
	assert_non_null(strstr(hdrs, "\r\nDate: "));
	assert_non_null(strstr(hdrs, "\r\nMessage-ID: <mssl."));
	assert_non_null(strstr(hdrs, "@ca.example.com.tw>\r\n"));
	subj = subject_of(hdrs);
	assert_string_equal(subj, SUBJECT);
	assert_non_null(strstr(subj, CN));
	free(subj);
	/* Body lines of at most 76 characters. */
	for (line = body; *line; line = strstr(line, "\r\n") + 2)
		assert_true(strstr(line, "\r\n") - line <= 76);
	body = unb64(body, strlen(body));
	assert_non_null(strstr(body, "Serial number: " SERIAL "\r\n"));
	assert_non_null(strstr(body, ZH_LINE "\r\n"));
	assert_non_null(strstr(body, "序號: " SERIAL));
	free(body);
	free(m);
}

/* Is there an audit record action/object since seq 'from'? */
static const struct fx_audit *find_audit(const struct fx_audit *v, size_t n,
					 const char *action)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fx_streq(v[i].action, action) && fx_streq(v[i].object, TO))
			return &v[i];
	return NULL;
}

static void test_send(void **state)
{
	struct t *t = *state;
	struct fx *f = t->f;
	const struct fx_audit *a;
	struct fx_audit *v = NULL;
	int64_t before = fx_audit_head(f), id;
	size_t n;

	id = queue(f, TO, SUBJECT);
	flush(f, 1, 0);
	assert_int_equal(th_smtp_count(&t->s), 1);
	check_message(&t->s, 1);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT sent_at FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 f->now);
	n = fx_audit_read(f, before + 1, &v);
	a = find_audit(v, n, "mail.sent");
	assert_non_null(a);
	assert_string_equal(a->outcome, "ok");
	assert_non_null(strstr(a->detail, SERIAL));
	assert_string_equal(v[0].action, "mail.flush");
	fx_audit_free(v, n);
	/* Nothing is sent twice. */
	flush(f, 0, 0);
	assert_int_equal(th_smtp_count(&t->s), 1);
}

static void test_retry(void **state)
{
	struct t *t = *state;
	struct fx *f = t->f;
	const struct fx_audit *a;
	struct fx_audit *v = NULL;
	int64_t before = fx_audit_head(f), id, t0 = f->now;
	char *why;
	size_t n;

	id = queue(f, TO, SUBJECT);
	th_smtp_stop(&t->s);
	flush(f, 0, 1);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT attempts FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 1);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT next_attempt FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 t0 + 300);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT sent_at IS NULL FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 1);
	why = fx_sql_text(f, "SELECT last_error FROM mail_outbox"
			     " WHERE id = %lld",
			  (long long)id);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	n = fx_audit_read(f, before + 1, &v);
	a = find_audit(v, n, "mail.failed");
	assert_non_null(a);
	assert_string_equal(a->outcome, "failed");
	assert_non_null(strstr(a->detail, SERIAL));
	assert_non_null(strstr(a->detail, why));
	fx_audit_free(v, n);
	free(why);

	/* Not due yet. */
	flush(f, 0, 0);
	/* Due, server still down: the delay doubles. */
	f->now = t0 + 301;
	flush(f, 0, 1);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT next_attempt FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 t0 + 301 + 600);

	th_smtp_start(&t->s);
	f->now = t0 + 301 + 601;
	flush(f, 1, 0);
	check_message(&t->s, 1);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT sent_at FROM mail_outbox"
				    " WHERE id = %lld",
				    (long long)id),
			 f->now);
	flush(f, 0, 0);
	assert_int_equal(th_smtp_count(&t->s), 1);
}

/* After max_attempts a message stays in the outbox, unsent. */
static void test_give_up(void **state)
{
	struct t *t = *state;
	struct fx *f = t->f;
	int64_t id;

	id = queue(f, TO, SUBJECT);
	th_smtp_stop(&t->s);
	flush(f, 0, 1);
	f->now += 61;
	flush(f, 0, 1);
	th_smtp_start(&t->s);
	f->now += 3600;
	flush(f, 0, 0);
	assert_int_equal(th_smtp_count(&t->s), 0);
	assert_int_equal(fx_sql_int(f, -1,
				    "SELECT attempts FROM mail_outbox"
				    " WHERE id = %lld AND sent_at IS NULL",
				    (long long)id),
			 2);
}

/* A bad queued address fails that message only; the others go out. */
static void test_bad_message(void **state)
{
	struct t *t = *state;
	struct fx *f = t->f;
	int64_t bad;
	char *why;

	bad = queue(f, TO "\r\nBcc: victim@example.com", SUBJECT);
	queue(f, TO, SUBJECT);
	flush(f, 1, 1);
	assert_int_equal(th_smtp_count(&t->s), 1);
	check_message(&t->s, 1);
	why = fx_sql_text(f, "SELECT last_error FROM mail_outbox"
			     " WHERE id = %lld",
			  (long long)bad);
	assert_non_null(why);
	assert_non_null(strstr(why, "recipient"));
	free(why);
}

static void test_message_headers(void **state)
{
	struct mssl_mail_rec r = { .id = 7, .to_addr = TO, .body = "x\n" };
	mssl_error *err = mssl_error_new();
	char *m = NULL, long_subj[600];
	size_t len, i;

	(void)state;
	r.subject = "ok\r\nBcc: victim@example.com";
	assert_int_equal(mssl__mail_message(FROM, &r, 0, &m, &len, err),
			 MSSL_EINPUT);
	r.subject = "ok";
	r.to_addr = TO "\nBcc: victim@example.com";
	assert_int_equal(mssl__mail_message(FROM, &r, 0, &m, &len, err),
			 MSSL_EINPUT);
	r.to_addr = "<" TO ">";
	assert_int_equal(mssl__mail_message(FROM, &r, 0, &m, &len, err),
			 MSSL_EINPUT);
	r.to_addr = TO;
	assert_int_equal(
		mssl__mail_message("a@b.example\r\nX: y", &r, 0, &m, &len, err),
		MSSL_EINPUT);
	/* A long Chinese subject folds into words of at most 75. */
	for (i = 0; i < 40; i++)
		memcpy(long_subj + 6 * i, "憑證", 6);
	long_subj[6 * 40] = '\0';
	r.subject = long_subj;
	assert_int_equal(mssl__mail_message(FROM, &r, 0, &m, &len, err), 0);
	assert_non_null(strstr(m, "\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	{
		char *s = subject_of(m), *p, *e;

		assert_string_equal(s, long_subj);
		free(s);
		for (p = m; (e = strstr(p, "\r\n")); p = e + 2)
			assert_true(e - p <= 78);
	}
	free(m);
	mssl_error_free(err);
}

static void test_no_server(void **state)
{
	struct fx *f = fx_new(FX_ACCOUNTS, NULL);
	int64_t sent = -1, failed = -1;

	(void)state;
	queue(f, TO, SUBJECT);
	TH_RC(mssl_mail_flush(f->ctx, f->op, &sent, &failed, f->err),
	      MSSL_ESTATE, f->err);
	assert_string_equal(mssl_error_id(f->err), "mail.no_server");
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 0);
	TH_RC(mssl_mail_flush(f->ctx, f->mgr_a, &sent, &failed, f->err),
	      MSSL_EPERM, f->err);
	fx_free(f);
}

/* Load a config with [mail] 'text'; expect rc and, on error, 'key'. */
static void conf_case(const char *dir, const char *text, int want,
		      const char *key)
{
	char *conf = th_write_config(dir, NULL, text);
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int rc;

	assert_int_equal(mssl_ctx_new(&ctx), 0);
	rc = mssl_ctx_load_config(ctx, conf, err);
	if (rc != want)
		fail_msg("%s: got %s (%s), want %s", text, mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN),
			 mssl_err_name(want));
	if (key && !strstr(mssl_error_message(err, MSSL_LANG_EN), key))
		fail_msg("%s: the error does not name %s: %s", text, key,
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_ctx_free(ctx);
	mssl_error_free(err);
	free(conf);
}

static void test_config(void **state)
{
	char *dir = th_mkdtemp(), *pw, text[1024];

	(void)state;
	pw = th_write_file(dir, "smtp.pw", "secret\n");
	assert_int_equal(chmod(pw, 0600), 0);
	snprintf(text, sizeof(text),
		 "\n[mail]\nserver = smtp.example.com\nfrom = " FROM
		 "\nusername = mssl\npassword_file = %s\nca_file = /etc/hosts\n",
		 pw);
	conf_case(dir, text, 0, NULL);
	conf_case(dir, "\n[mail]\nserver = ::1\nsecurity = none\nfrom = " FROM
		       "\n",
		  0, NULL);
	conf_case(dir,
		  "\n[mail]\nserver = smtp.example.com\nsecurity = none\n"
		  "from = " FROM "\n",
		  MSSL_ECONFIG, "security");
	conf_case(dir,
		  "\n[mail]\nserver = 10.0.0.1\nsecurity = none\n"
		  "from = " FROM "\n",
		  MSSL_ECONFIG, "security");
	conf_case(dir, "\n[mail]\nserver = smtp.example.com\nsecurity = ssl\n"
		       "from = " FROM "\n",
		  MSSL_ECONFIG, "security");
	assert_int_equal(chmod(pw, 0644), 0);
	conf_case(dir, text, MSSL_ECONFIG, "password_file");
	assert_int_equal(chmod(pw, 0640), 0);
	conf_case(dir, text, MSSL_ECONFIG, "password_file");
	conf_case(dir,
		  "\n[mail]\nserver = smtp.example.com\nfrom = not-an-address\n",
		  MSSL_ECONFIG, "from");
	conf_case(dir, "\n[mail]\nserver = smtp.example.com\n", MSSL_ECONFIG,
		  "from");
	conf_case(dir,
		  "\n[mail]\nserver = smtp.example.com\nfrom = " FROM
		  "\npassword = hunter2\n",
		  MSSL_ECONFIG, "password");
	conf_case(dir,
		  "\n[mail]\nserver = smtp.example.com\nfrom = " FROM
		  "\nport = 70000\n",
		  MSSL_ECONFIG, "port");
	conf_case(dir,
		  "\n[mail]\nserver = smtp.example.com\nfrom = " FROM
		  "\nusername = mssl\n",
		  MSSL_ECONFIG, "password_file");
	conf_case(dir,
		  "\n[mail]\nserver = smtp example.com\nfrom = " FROM "\n",
		  MSSL_ECONFIG, "server");
	free(pw);
	th_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup_give_up,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_message, setup,
						teardown),
		cmocka_unit_test(test_message_headers),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_config),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
