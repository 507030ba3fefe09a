/*
 * Expiry reminders end to end: real certificates from a CA made by
 * tools/ca-init.sh (ca-gnutls, every validator, SQLite), the injected
 * clock moved towards their notAfter, the reminders read back from the
 * outbox and the store, and delivered to a real SMTP server
 * (python3-aiosmtpd on loopback).  Also the [mail] remind_days checks.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cafix.h"
#include "ctx.h"

#define TECH "it@twca.com.tw" /* cafix_params' technical contact */
#define FROM "mssl@ca.example.com.tw"
#define WHAT "certificate expires soon"
#define WHAT_ZH "憑證即將到期"

/* ---- an SMTP sink (as in test-mail.c) ---------------------------------- */

static const char server_py[] =
	"import os, signal, sys\n"
	"from aiosmtpd.controller import Controller\n"
	"port, outdir = int(sys.argv[1]), sys.argv[2]\n"
	"class H:\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        n = len([f for f in os.listdir(outdir) if f.endswith('.eml')])\n"
	"        base = os.path.join(outdir, 'msg%d' % (n + 1))\n"
	"        with open(base + '.tmp', 'wb') as f:\n"
	"            f.write(('RCPT %s\\r\\n' % ','.join(envelope.rcpt_tos)).encode())\n"
	"            f.write(envelope.original_content)\n"
	"        os.rename(base + '.tmp', base + '.eml')\n"
	"        return '250 OK'\n"
	"signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
	"c = Controller(H(), hostname='127.0.0.1', port=port)\n"
	"c.start()\n"
	"open(os.path.join(outdir, 'ready'), 'w').close()\n"
	"try:\n"
	"    signal.pause()\n"
	"finally:\n"
	"    c.stop()\n";

struct t {
	struct env *e;
	char *inbox, *script;
	const char *python;
	int port;
	pid_t pid;
};

static const char *python_with_aiosmtpd(void)
{
	static const char *const cands[] = { "python3", "/usr/bin/python3" };
	size_t i;

	for (i = 0; i < 2; i++)
		if (th_system("%s -c 'import aiosmtpd' >/dev/null 2>&1",
			      cands[i]) == 0)
			return cands[i];
	return NULL;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void srv_start(struct t *t)
{
	char ready[512], port[16];
	int i, status;

	snprintf(ready, sizeof(ready), "%s/ready", t->inbox);
	snprintf(port, sizeof(port), "%d", t->port);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		execlp(t->python, t->python, t->script, port, t->inbox,
		       (char *)NULL);
		_exit(127);
	}
	/* Bounded: 10 s for the server to listen. */
	for (i = 0; i < 200; i++) {
		if (access(ready, F_OK) == 0)
			return;
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			fail_msg("the SMTP server exited (status %d)", status);
		}
		sleep_ms(50);
	}
	fail_msg("the SMTP server did not start within 10 s");
}

static void srv_stop(struct t *t)
{
	int i, status;

	if (t->pid <= 0)
		return;
	kill(t->pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			return;
		}
		sleep_ms(50);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
	t->pid = 0;
}

/* ---- fixture ------------------------------------------------------------------ */

/* [mail] with the sink and 'remind' (a remind_days line, or ""). */
static int setup_with(void **state, const char *remind, bool smtp)
{
	struct t *t = calloc(1, sizeof(*t));
	char *issuance = NULL;

	assert_non_null(t);
	if (smtp) {
		t->python = python_with_aiosmtpd();
		if (!t->python) {
			free(t);
			print_message("python3-aiosmtpd is not installed\n");
			return -1;
		}
	}
	t->port = free_port();
	/* cafix puts this after [issuance]'s lines: a section of its own. */
	assert_true(asprintf(&issuance,
			     "\n[mail]\nserver = 127.0.0.1\nport = %d\n"
			     "security = none\nfrom = " FROM "\n%s\n",
			     t->port, remind) > 0);
	assert_int_equal(cafix_setup((void **)&t->e, issuance), 0);
	free(issuance);
	/* Enough cert-years for every CN the tests issue. */
	TH_RC(mssl_topup(t->e->ctx, t->e->op, ACC, 20, "test", NULL,
			 t->e->err),
	      0, t->e->err);
	if (smtp) {
		assert_true(asprintf(&t->inbox, "%s/inbox", t->e->dir) > 0);
		assert_int_equal(mkdir(t->inbox, 0700), 0);
		t->script = th_write_file(t->e->dir, "smtpd.py", server_py);
		srv_start(t);
	}
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "", false);
}

static int setup_smtp(void **state)
{
	return setup_with(state, "", true);
}

static int setup_custom(void **state)
{
	return setup_with(state, "remind_days = 3, 10", false);
}

static int setup_off(void **state)
{
	return setup_with(state, "remind_days =", false);
}

static int teardown(void **state)
{
	struct t *t = *state;
	void *e = t->e;

	srv_stop(t);
	cafix_teardown(&e);
	free(t->inbox);
	free(t->script);
	free(t);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

/* A request for 'host'.twca.com.tw (ECDSA P-256, the account's O). */
static mssl_csr *csr_for(const char *host)
{
	struct csrgen g = cafix_www;
	char cn[64];

	snprintf(cn, sizeof(cn), "%s.twca.com.tw", host);
	g.cn = cn;
	g.dns[0] = cn;
	g.dns[1] = NULL;
	return cafix_csr(&g);
}

/* Issue a certificate for 'host' at the clock's time; renewal_of may be
 * NULL.  The serial goes to serial[41], notAfter is returned. */
static int64_t issue(struct env *e, const char *host, const char *renewal_of,
		     char serial[41])
{
	mssl_issue_params p = cafix_params(1);
	mssl_csr *csr = csr_for(host);
	mssl_cert *c = NULL;
	int64_t na;

	p.renewal_of = renewal_of;
	TH_RC(mssl_issue(e->ctx, e->op, ACC, csr, &p, &c, NULL, e->err), 0,
	      e->err);
	assert_string_equal(mssl_cert_record(c)->state, "issued");
	snprintf(serial, 41, "%s", mssl_cert_record(c)->serial);
	na = mssl_cert_record(c)->not_after;
	assert_true(na > e->now + 40 * DAY);
	mssl_cert_free(c);
	mssl_csr_free(csr);
	return na;
}

/* Run the reminders at 'now' as the operator; returns how many queued. */
static size_t remind_at(struct env *e, int64_t now)
{
	size_t n = 12345;

	TH_RC(mssl_remind_expiring(e->ctx, e->op, now, &n, e->err), 0,
	      e->err);
	return n;
}

/* The reminder mails in the outbox, unsent. */
struct outbox {
	int n;
	char subject[8][256];
	char body[8][2048];
	char to[8][64];
	char related[8][64];
};

static int outbox_cb(void *ud, const struct mssl_mail_rec *r)
{
	struct outbox *o = ud;

	if (!strstr(r->subject, WHAT))
		return 0;
	assert_true(o->n < 8);
	snprintf(o->subject[o->n], sizeof(o->subject[0]), "%s", r->subject);
	snprintf(o->body[o->n], sizeof(o->body[0]), "%s", r->body);
	snprintf(o->to[o->n], sizeof(o->to[0]), "%s", r->to_addr);
	snprintf(o->related[o->n], sizeof(o->related[0]), "%s",
		 r->related ? r->related : "");
	o->n++;
	return 0;
}

static void *store_open(struct env *e, const struct mssl_store_ops **ops)
{
	void *st, *conn;

	assert_int_equal(mssl__ctx_store(e->ctx, ops, &st), 0);
	assert_int_equal((*ops)->open(st, &conn), 0);
	return conn;
}

static void read_outbox(struct env *e, struct outbox *o)
{
	const struct mssl_store_ops *ops;
	void *conn = store_open(e, &ops);

	memset(o, 0, sizeof(*o));
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->mail_due(conn, INT64_MAX, 0, outbox_cb, o), 0);
	ops->rollback(conn);
	ops->close(conn);
}

/* The thresholds recorded for a certificate, as "30 14 7". */
struct recorded {
	char days[64];
	int with_mail;
};

static int recorded_cb(void *ud, const struct mssl_remind_rec *r)
{
	struct recorded *c = ud;
	size_t len = strlen(c->days);

	snprintf(c->days + len, sizeof(c->days) - len, "%s%d", len ? " " : "",
		 r->days);
	if (r->mail_id > 0)
		c->with_mail++;
	return 0;
}

static const char *recorded(struct env *e, const char *serial)
{
	static struct recorded c;
	const struct mssl_store_ops *ops;
	void *conn = store_open(e, &ops);

	memset(&c, 0, sizeof(c));
	assert_int_equal(ops->begin(conn, MSSL_TXN_READ), 0);
	assert_int_equal(ops->remind_each(conn, serial, recorded_cb, &c), 0);
	ops->rollback(conn);
	ops->close(conn);
	return c.days;
}

/* ---- tests ------------------------------------------------------------------ */

/*
 * One certificate walks towards its notAfter: one reminder at each of
 * 30, 14 and 7 days, none in between, none twice, none once expired.
 * The message names CN, serial, expiry and the days left in English and
 * Traditional Chinese, and says how to renew.
 */
static void test_thresholds(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	struct outbox o;
	char serial[41], line[128], date[40];
	int64_t na = issue(e, "a", NULL, serial);
	time_t tt = (time_t)na;
	struct tm tm;

	assert_int_equal(remind_at(e, na - 40 * DAY), 0);
	assert_int_equal(remind_at(e, na - 30 * DAY - 60), 0);
	/* 29 days and 23 hours left. */
	assert_int_equal(remind_at(e, na - 30 * DAY + 3600), 1);
	assert_string_equal(recorded(e, serial), "30");
	read_outbox(e, &o);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.subject[0],
			    "[mssl] a.twca.com.tw " WHAT " / " WHAT_ZH);
	assert_string_equal(o.to[0], TECH);
	assert_string_equal(o.related[0], serial);
	assert_non_null(strstr(o.body[0], "Common name: a.twca.com.tw\n"));
	snprintf(line, sizeof(line), "Serial number: %s\n", serial);
	assert_non_null(strstr(o.body[0], line));
	assert_non_null(strstr(o.body[0], "Days left: 29\n"));
	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
	snprintf(line, sizeof(line), "Expires: %s\n", date);
	assert_non_null(strstr(o.body[0], line));
	assert_non_null(strstr(o.body[0], "mssl renew"));
	/* The Chinese half: its labels, the full-width colon. */
	assert_non_null(strstr(o.body[0], "\n----\n"));
	assert_non_null(strstr(o.body[0], "剩餘天數：29\n"));
	snprintf(line, sizeof(line), "到期時間：%s\n", date);
	assert_non_null(strstr(o.body[0], line));
	assert_non_null(strstr(o.body[0], "一般名稱（CN）：a.twca.com.tw\n"));

	/* Again at once, again later within the same threshold: nothing. */
	assert_int_equal(remind_at(e, na - 30 * DAY + 3600), 0);
	assert_int_equal(remind_at(e, na - 15 * DAY), 0);
	assert_int_equal(remind_at(e, na - 13 * DAY), 1);
	assert_int_equal(remind_at(e, na - 13 * DAY), 0);
	assert_int_equal(remind_at(e, na - 8 * DAY), 0);
	assert_int_equal(remind_at(e, na - 6 * DAY - 7200), 1);
	assert_int_equal(remind_at(e, na - 1 * DAY), 0);
	assert_int_equal(remind_at(e, na + 1 * DAY), 0);
	assert_string_equal(recorded(e, serial), "30 14 7");
	read_outbox(e, &o);
	assert_int_equal(o.n, 3);
	assert_non_null(strstr(o.body[1], "Days left: 13\n"));
	assert_non_null(strstr(o.body[2], "Days left: 6\n"));
	assert_non_null(strstr(o.body[2], "剩餘天數：6\n"));
}

/*
 * A certificate first looked at past several thresholds gets only the
 * most urgent reminder, once; the skipped ones never follow.
 */
static void test_most_urgent_only(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	struct outbox o;
	char s5[41], s10[41], s25[41];
	int64_t na = issue(e, "b", NULL, s5), now;

	e->now += 5 * DAY;
	assert_int_equal(issue(e, "c", NULL, s10), na + 5 * DAY);
	e->now += 15 * DAY;
	assert_int_equal(issue(e, "d", NULL, s25), na + 20 * DAY);
	/* b has 5 days left, c 10, d 25. */
	now = na - 5 * DAY;
	assert_int_equal(remind_at(e, now), 3);
	assert_string_equal(recorded(e, s5), "7");
	assert_string_equal(recorded(e, s10), "14");
	assert_string_equal(recorded(e, s25), "30");
	read_outbox(e, &o);
	assert_int_equal(o.n, 3);
	/* Most urgent first. */
	assert_string_equal(o.related[0], s5);
	assert_non_null(strstr(o.body[0], "Days left: 5\n"));
	assert_string_equal(o.related[1], s10);
	assert_string_equal(o.related[2], s25);
	assert_int_equal(remind_at(e, now + DAY), 0);
	/* c crosses 7 (b has had its 7, d is still within 30). */
	assert_int_equal(remind_at(e, now + 4 * DAY), 1);
	assert_string_equal(recorded(e, s5), "7");
	assert_string_equal(recorded(e, s10), "14 7");
	assert_string_equal(recorded(e, s25), "30");
	/* d crosses 14 after b and c have expired. */
	assert_int_equal(remind_at(e, now + 12 * DAY), 1);
	assert_string_equal(recorded(e, s25), "30 14");
}

/*
 * No reminder for a revoked certificate, for one renewed, nor for one
 * replaced by a later certificate for the same CN; a renewal that was
 * revoked replaces nothing.
 */
static void test_revoked_renewed(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char rev[41], old[41], renewal[41], repl_old[41], repl_new[41];
	char kept[41], bad_renewal[41];
	int64_t na = issue(e, "r", NULL, rev);

	issue(e, "n", NULL, old);
	issue(e, "s", NULL, repl_old);
	issue(e, "k", NULL, kept);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, rev, 1, e->err), 0, e->err);
	/* Renewed (renewal_of) and replaced (a new issuance, same CN). */
	e->now += 60 * DAY;
	issue(e, "n", old, renewal);
	issue(e, "s", NULL, repl_new);
	/* k's renewal is revoked: k still needs renewing. */
	issue(e, "k", kept, bad_renewal);
	TH_RC(mssl_cert_revoke(e->ctx, e->op, ACC, bad_renewal, 4, e->err), 0,
	      e->err);

	assert_int_equal(remind_at(e, na - 6 * DAY), 1);
	assert_string_equal(recorded(e, kept), "7");
	assert_string_equal(recorded(e, rev), "");
	assert_string_equal(recorded(e, old), "");
	assert_string_equal(recorded(e, repl_old), "");
	assert_int_equal(remind_at(e, na - 6 * DAY), 0);
	/* The renewal and the replacement get theirs in their time. */
	assert_int_equal(remind_at(e, na + 54 * DAY), 2);
	assert_string_equal(recorded(e, renewal), "7");
	assert_string_equal(recorded(e, repl_new), "7");
	assert_string_equal(recorded(e, bad_renewal), "");
}

/*
 * Recorded in the store, not in memory: a new context on the same file
 * queues nothing again, and two processes racing queue each reminder
 * once between them.
 */
static void test_restart_and_processes(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char serial[4][41], *conf = NULL;
	int64_t na = issue(e, "p0", NULL, serial[0]), now = na - 2 * DAY;
	size_t total = 0, got;
	int i, status, fd[2][2];
	pid_t pid[2];
	mssl_ctx *ctx2 = NULL;
	mssl_error *err = mssl_error_new();
	struct outbox o;

	issue(e, "p1", NULL, serial[1]);
	issue(e, "p2", NULL, serial[2]);
	issue(e, "p3", NULL, serial[3]);
	assert_true(asprintf(&conf, "%s/mssl.conf", e->dir) > 0);

	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe(fd[i]), 0);
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			mssl_ctx *c = NULL;
			mssl_error *ce = mssl_error_new();
			size_t n = 0;
			int rc = mssl_ctx_open_file(conf, &c, ce);

			if (rc == 0)
				rc = mssl_remind_expiring(c, e->op, now, &n,
							  ce);
			if (rc < 0)
				fprintf(stderr, "child: %s\n",
					mssl_error_message(ce, MSSL_LANG_EN));
			if (write(fd[i][1], &n, sizeof(n)) != sizeof(n))
				rc = -1;
			mssl_ctx_free(c);
			_exit(rc == 0 ? 0 : 1);
		}
		close(fd[i][1]);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(read(fd[i][0], &got, sizeof(got)),
				 sizeof(got));
		close(fd[i][0]);
		total += got;
	}
	assert_int_equal(total, 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(recorded(e, serial[i]), "7");
	read_outbox(e, &o);
	assert_int_equal(o.n, 4);

	/* A restart: a new context on the same file. */
	TH_RC(mssl_ctx_open_file(conf, &ctx2, err), 0, err);
	TH_RC(mssl_remind_expiring(ctx2, e->op, now, &got, err), 0, err);
	assert_int_equal(got, 0);
	TH_RC(mssl_remind_expiring(ctx2, e->op, now + DAY, &got, err), 0,
	      err);
	assert_int_equal(got, 0);
	mssl_ctx_free(ctx2);
	mssl_error_free(err);
	free(conf);
}

/* The audit records' action, outcome and detail, one line each. */
static int audit_cb(void *ud, const struct mssl_audit_rec *r)
{
	FILE *f = ud;

	fprintf(f, "%s %s %s\n", r->action, r->outcome,
		r->detail ? r->detail : "");
	return 0;
}

/* Only the operator; each run is audited with what it queued. */
static void test_roles_and_audit(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	mssl_actor *mgr = th_manager(ACC);
	char serial[41];
	int64_t na = issue(e, "q", NULL, serial);
	size_t n = 7;
	char *csv = NULL;
	FILE *f;
	size_t len = 0;

	TH_RC(mssl_remind_expiring(e->ctx, mgr, na - DAY, &n, e->err),
	      MSSL_EPERM, e->err);
	assert_int_equal(n, 0);
	TH_RC(mssl_remind_expiring(e->ctx, e->op, -5, &n, e->err),
	      MSSL_EINPUT, e->err);
	assert_string_equal(mssl_error_field(e->err), "now");
	assert_string_equal(recorded(e, serial), "");
	assert_int_equal(remind_at(e, na - DAY), 1);
	/* The audit log says who, what and when. */
	f = open_memstream(&csv, &len);
	assert_non_null(f);
	TH_RC(mssl_audit_export(e->ctx, e->op, 0, audit_cb, f, e->err), 0,
	      e->err);
	fclose(f);
	assert_non_null(strstr(csv, "mail.remind refused"));
	assert_non_null(strstr(csv, "mail.remind ok queued 1, no contact 0"));
	assert_non_null(strstr(csv, " 30d=0 14d=0 7d=1\n"));
	free(csv);
	TH_RC(mssl_audit_verify(e->ctx, e->op, NULL, e->err), 0, e->err);
	mssl_actor_free(mgr);
}

/* The reminder reaches the SMTP server with both languages intact. */
static void test_delivered(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char serial[41], path[600], *m, *sep, *body, *p;
	int64_t na = issue(e, "m", NULL, serial), sent = 0, failed = 0;
	gnutls_datum_t in, out = { NULL, 0 };
	FILE *fp;
	long size;
	size_t i, k;

	assert_int_equal(remind_at(e, na - 10 * DAY), 1);
	TH_RC(mssl_mail_flush(e->ctx, e->op, &sent, &failed, e->err), 0,
	      e->err);
	/* The issuance notice and the reminder. */
	assert_int_equal(sent, 2);
	assert_int_equal(failed, 0);
	snprintf(path, sizeof(path), "%s/msg2.eml", t->inbox);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	rewind(fp);
	m = calloc(1, (size_t)size + 1);
	assert_non_null(m);
	assert_int_equal(fread(m, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	assert_non_null(strstr(m, "RCPT " TECH "\r\n"));
	/* "[mssl] m.twca" encoded as RFC 2047 base64 words. */
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?W21zc2xdIG0udHdjYS"));
	sep = strstr(m, "\r\n\r\n");
	assert_non_null(sep);
	body = sep + 4;
	for (i = k = 0; body[i]; i++)
		if (body[i] != '\r' && body[i] != '\n')
			body[k++] = body[i];
	body[k] = '\0';
	in.data = (unsigned char *)body;
	in.size = (unsigned)k;
	assert_int_equal(gnutls_base64_decode2(&in, &out), 0);
	p = calloc(1, out.size + 1);
	assert_non_null(p);
	memcpy(p, out.data, out.size);
	gnutls_free(out.data);
	assert_non_null(strstr(p, "Common name: m.twca.com.tw\r\n"));
	assert_non_null(strstr(p, serial));
	assert_non_null(strstr(p, "Days left: 10\r\n"));
	assert_non_null(strstr(p, "剩餘天數：10\r\n"));
	assert_non_null(strstr(p, "序號："));
	free(p);
	free(m);
	/* Sent once: a second flush and a second run send nothing. */
	assert_int_equal(remind_at(e, na - 10 * DAY), 0);
	TH_RC(mssl_mail_flush(e->ctx, e->op, &sent, &failed, e->err), 0,
	      e->err);
	assert_int_equal(sent, 0);
}

/* remind_days = 3, 10: those thresholds and no others. */
static void test_custom_days(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char serial[41];
	int64_t na = issue(e, "x", NULL, serial);

	assert_int_equal(remind_at(e, na - 20 * DAY), 0);
	assert_int_equal(remind_at(e, na - 9 * DAY), 1);
	assert_int_equal(remind_at(e, na - 6 * DAY), 0);
	assert_int_equal(remind_at(e, na - 2 * DAY), 1);
	assert_string_equal(recorded(e, serial), "10 3");
}

/* remind_days empty: off, and said so. */
static void test_off(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char serial[41];
	int64_t na = issue(e, "o", NULL, serial);
	size_t n = 9;

	TH_RC(mssl_remind_expiring(e->ctx, e->op, na - DAY, &n, e->err),
	      MSSL_ESTATE, e->err);
	assert_string_equal(mssl_error_id(e->err), "remind.off");
	assert_int_equal(n, 0);
	assert_string_equal(recorded(e, serial), "");
}

/* A certificate without a technical contact: recorded, no message. */
static void test_no_contact(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char serial[41], *db = NULL, *sql = NULL;
	int64_t na = issue(e, "nc", NULL, serial);
	struct outbox o;
	sqlite3 *h = NULL;

	assert_true(asprintf(&db, "%s/mssl.db", e->dir) > 0);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sql = sqlite3_mprintf("UPDATE certificates SET tech_email = NULL"
			      " WHERE serial = %Q", serial);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(h);
	free(db);
	assert_int_equal(remind_at(e, na - 3 * DAY), 0);
	assert_string_equal(recorded(e, serial), "7");
	read_outbox(e, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(remind_at(e, na - 2 * DAY), 0);
}

/*
 * More than one transaction's worth (200): 450 certificates due, many
 * expiring in the same second, all queued in one call, each once, in
 * three audited batches.
 */
static void test_batches(void **state)
{
	struct t *t = *state;
	struct env *e = t->e;
	char *db = NULL, *sql;
	int64_t now = e->now + 100 * DAY;
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int i, n = -1, batches = -1;

	assert_true(asprintf(&db, "%s/mssl.db", e->dir) > 0);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN", NULL, NULL, NULL),
			 SQLITE_OK);
	for (i = 0; i < 450; i++) {
		/* 1 to 30 days left, seven certificates per second (so a
		 * batch ends inside a second). */
		sql = sqlite3_mprintf(
			"INSERT INTO certificates (serial, account_id, cn,"
			" product, state, years, not_before, not_after,"
			" tech_email, created) VALUES ('%x', %Q,"
			" 'h%d.twca.com.tw', 1, 'issued', 1, %lld, %lld,"
			" 'it@twca.com.tw', %lld)",
			0x10000 + i, ACC, i, (long long)e->now,
			(long long)(now + DAY + (i / 7) * (29 * DAY / 65)),
			(long long)e->now);
		assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_free(sql);
	}
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(remind_at(e, now), 450);
	assert_int_equal(remind_at(e, now), 0);
	assert_int_equal(sqlite3_prepare_v2(h,
					    "SELECT count(*), count(DISTINCT"
					    " serial) FROM cert_reminders r"
					    " JOIN mail_outbox m ON m.id ="
					    " r.mail_id AND m.related ="
					    " r.serial",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	assert_int_equal(sqlite3_column_int(st, 1), 450);
	sqlite3_finalize(st);
	assert_int_equal(n, 450);
	assert_int_equal(sqlite3_prepare_v2(h,
					    "SELECT count(*) FROM audit WHERE"
					    " action = 'mail.remind' AND"
					    " outcome = 'ok' AND detail LIKE"
					    " 'queued 200,%'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	batches = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(batches, 2);
	sqlite3_close(h);
	free(db);
}

/* Load [mail] with remind_days = 'value'; expect rc and the key named. */
static void conf_case(const char *dir, const char *value, int want,
		      const char *rule)
{
	char *text = NULL, *conf;
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int rc;

	assert_true(asprintf(&text, "\n[mail]\nremind_days = %s\n", value) >
		    0);
	conf = th_write_config(dir, NULL, text);
	assert_int_equal(mssl_ctx_new(&ctx), 0);
	rc = mssl_ctx_load_config(ctx, conf, err);
	if (rc != want)
		fail_msg("remind_days = %s: got %s (%s), want %s", value,
			 mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN),
			 mssl_err_name(want));
	if (want < 0) {
		const char *en = mssl_error_message(err, MSSL_LANG_EN);
		const char *zh = mssl_error_message(err, MSSL_LANG_ZH_TW);

		if (!strstr(en, "[mail] remind_days") || !strstr(en, rule))
			fail_msg("remind_days = %s: %s", value, en);
		/* The same, in Chinese (not the English text again). */
		if (!strstr(zh, "[mail] remind_days") || strcmp(zh, en) == 0 ||
		    strstr(zh, rule))
			fail_msg("remind_days = %s: zh: %s", value, zh);
	}
	mssl_ctx_free(ctx);
	mssl_error_free(err);
	free(conf);
	free(text);
}

static void test_config(void **state)
{
	char *dir = th_mkdtemp();

	(void)state;
	conf_case(dir, "30, 14, 7", 0, NULL);
	conf_case(dir, "7 14 30", 0, NULL);
	conf_case(dir, "1", 0, NULL);
	conf_case(dir, "365,1", 0, NULL);
	conf_case(dir, "", 0, NULL);
	conf_case(dir, "0", MSSL_ECONFIG, "number of days from 1 to 365");
	conf_case(dir, "366", MSSL_ECONFIG, "number of days from 1 to 365");
	conf_case(dir, "30, fourteen", MSSL_ECONFIG, "\"fourteen\" is not");
	conf_case(dir, "-7", MSSL_ECONFIG, "number of days");
	conf_case(dir, "7d", MSSL_ECONFIG, "number of days");
	conf_case(dir, "14, 7, 14", MSSL_ECONFIG, "listed twice");
	conf_case(dir, "1 2 3 4 5 6 7 8 9 10 11", MSSL_ECONFIG,
		  "at most 10 values");
	th_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thresholds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_most_urgent_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_revoked_renewed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_and_processes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles_and_audit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delivered, setup_smtp,
						teardown),
		cmocka_unit_test_setup_teardown(test_custom_days,
						setup_custom, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup_off, teardown),
		cmocka_unit_test_setup_teardown(test_no_contact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup,
						teardown),
		cmocka_unit_test(test_config),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
