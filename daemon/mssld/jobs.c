/*
 * Periodic jobs on libuv timers, each run on the thread pool (never two
 * runs of one job at once) and its outcome logged:
 *  - crl: regenerate the CRL once half of its validity has passed (or it
 *    is missing), well before nextUpdate ([mssld] crl_check_s);
 *  - mail: send the outbox ([mssld] mail_flush_s); stops by itself when
 *    no [mail] server is configured;
 *  - expire: forget expired login challenges and sessions
 *    ([mssld] expire_s), through mssld_auth_expire (auth-session.c);
 *  - remind: queue expiry reminders in the outbox ([mssld] remind_s),
 *    through mssl_remind_expiring; the mail job sends them.  Stops by
 *    itself when [mail] remind_days is empty.
 * Each runs as the operator actor "mssld", so libmssl audits it.
 */
#include "auth.h"

#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
	const char *name;
	int (*run)(struct job *j, mssl_error *err);
	struct mssld_server *srv;
	mssl_actor *actor;
	uv_timer_t timer;
	uv_work_t work;
	bool started, running, stop;
	int rc;
	char result[256];
	mssl_error *err;
};

static int run_crl(struct job *j, mssl_error *err);
static int run_mail(struct job *j, mssl_error *err);
static int run_expire(struct job *j, mssl_error *err);
static int run_remind(struct job *j, mssl_error *err);

static struct job jobs[] = {
	{ .name = "crl", .run = run_crl },
	{ .name = "mail", .run = run_mail },
	{ .name = "expire", .run = run_expire },
	{ .name = "remind", .run = run_remind },
};

/* Is the CRL in 'file' past half of its validity (or unreadable)? */
static bool crl_due(const char *file, time_t now, time_t *next)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_x509_crl_t crl = NULL;
	time_t this_u, next_u;
	bool due = true;

	*next = 0;
	if (gnutls_load_file(file, &d) < 0)
		return true;
	if (gnutls_x509_crl_init(&crl) == 0 &&
	    gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER) == 0) {
		this_u = gnutls_x509_crl_get_this_update(crl);
		next_u = gnutls_x509_crl_get_next_update(crl);
		if (this_u != (time_t)-1 && next_u != (time_t)-1 &&
		    next_u > this_u) {
			*next = next_u;
			due = now >= this_u + (next_u - this_u) / 2;
		}
	}
	if (crl)
		gnutls_x509_crl_deinit(crl);
	gnutls_free(d.data);
	return due;
}

static int run_crl(struct job *j, mssl_error *err)
{
	const char *file = mssl_ctx_crl_file(j->srv->ctx);
	time_t next;
	int rc;

	if (!crl_due(file, time(NULL), &next)) {
		snprintf(j->result, sizeof(j->result),
			 "CRL current, nextUpdate in %llds",
			 (long long)(next - time(NULL)));
		return 0;
	}
	rc = mssl_crl_generate(j->srv->ctx, j->actor, NULL, NULL, err);
	if (rc == 0)
		snprintf(j->result, sizeof(j->result), "CRL regenerated: %s",
			 file);
	return rc;
}

static int run_mail(struct job *j, mssl_error *err)
{
	int64_t sent = 0, failed = 0;
	int rc = mssl_mail_flush(j->srv->ctx, j->actor, &sent, &failed, err);

	if (rc == MSSL_ESTATE &&
	    strcmp(mssl_error_id(err), "mail.no_server") == 0) {
		j->stop = true;
		snprintf(j->result, sizeof(j->result),
			 "no [mail] server: the outbox is not sent");
		return 0;
	}
	if (rc == 0)
		snprintf(j->result, sizeof(j->result),
			 "mail outbox: %lld sent, %lld failed", (long long)sent,
			 (long long)failed);
	return rc;
}

static int run_expire(struct job *j, mssl_error *err)
{
	int64_t n = 0;
	int rc = mssld_auth_expire(j->srv->ctx, j->actor, &n, err);

	if (rc == 0)
		snprintf(j->result, sizeof(j->result),
			 "expired challenges and sessions: %lld",
			 (long long)n);
	return rc;
}

static int run_remind(struct job *j, mssl_error *err)
{
	size_t n = 0;
	int rc = mssl_remind_expiring(j->srv->ctx, j->actor, 0, &n, err);

	if (rc == MSSL_ESTATE &&
	    strcmp(mssl_error_id(err), "remind.off") == 0) {
		j->stop = true;
		snprintf(j->result, sizeof(j->result),
			 "[mail] remind_days is empty: no expiry reminders");
		return 0;
	}
	if (rc == 0)
		snprintf(j->result, sizeof(j->result),
			 "expiry reminders queued: %zu", n);
	return rc;
}

static void work_cb(uv_work_t *w)
{
	struct job *j = w->data;

	mssl_error_clear(j->err);
	j->result[0] = '\0';
	j->rc = j->run(j, j->err);
}

static void after_cb(uv_work_t *w, int status)
{
	struct job *j = w->data;

	j->running = false;
	if (status < 0)
		return;
	if (j->rc < 0)
		mssld_log(MSSL_LOG_ERROR, NULL, "job %s: %s [%s] %s", j->name,
			  mssl_err_name(j->rc), mssl_error_id(j->err),
			  mssl_error_message(j->err, MSSL_LANG_EN));
	else if (j->result[0])
		mssld_log(MSSL_LOG_INFO, NULL, "job %s: %s", j->name,
			  j->result);
	if (j->stop && j->started) {
		uv_timer_stop(&j->timer);
		j->stop = false;
	}
}

static void timer_cb(uv_timer_t *t)
{
	struct job *j = t->data;

	if (j->running)
		return;
	j->running = true;
	j->work.data = j;
	if (uv_queue_work(t->loop, &j->work, work_cb, after_cb) < 0)
		j->running = false;
}

void mssld_jobs_start(struct mssld_server *srv)
{
	const struct mssld_conf *cf = &srv->conf;
	int64_t every[] = { cf->crl_check_s, cf->mail_flush_s, cf->expire_s,
			    cf->remind_s };
	size_t i;

	for (i = 0; i < MSSLD_ARRAY_SIZE(jobs); i++) {
		struct job *j = &jobs[i];

		if (every[i] <= 0)
			continue;
		if (i == 0 && !mssl_ctx_crl_file(srv->ctx)) {
			mssld_log(MSSL_LOG_INFO, NULL,
				  "no [issuance] crl_file: no CRL job");
			continue;
		}
		j->srv = srv;
		j->actor = mssl_actor_new(MSSL_ROLE_OPERATOR, "mssld", NULL,
					  "local:mssld");
		j->err = mssl_error_new();
		if (!j->actor || !j->err) {
			mssld_log(MSSL_LOG_ERROR, NULL, "job %s: out of memory",
				  j->name);
			continue;
		}
		uv_timer_init(srv->loop, &j->timer);
		j->timer.data = j;
		/* First run soon after start, then every interval. */
		uv_timer_start(&j->timer, timer_cb, 1000,
			       (uint64_t)every[i] * 1000);
		j->started = true;
	}
}

static void closed_cb(uv_handle_t *h)
{
	(void)h;
}

void mssld_jobs_stop(void)
{
	size_t i;

	for (i = 0; i < MSSLD_ARRAY_SIZE(jobs); i++)
		if (jobs[i].started) {
			uv_close((uv_handle_t *)&jobs[i].timer, closed_cb);
			jobs[i].started = false;
		}
}

/* After the loop has ended (no job runs any more). */
void mssld_jobs_free(void)
{
	size_t i;

	for (i = 0; i < MSSLD_ARRAY_SIZE(jobs); i++) {
		mssl_actor_free(jobs[i].actor);
		mssl_error_free(jobs[i].err);
		jobs[i].actor = NULL;
		jobs[i].err = NULL;
	}
}
