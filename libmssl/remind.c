/*
 * Expiry reminders: the technical contact of each issued certificate
 * hears that it expires soon, once per threshold of [mail] remind_days
 * (30, 14, 7 by default).
 *
 * The store decides what is due (remind_due: issued, in the window, not
 * renewed, no reminder of this threshold or a sooner one yet) and keeps
 * what was queued (remind_insert, one row per certificate and threshold
 * under a unique key).  The message goes into the persistent outbox in
 * the same transaction as that row, so a reminder is recorded exactly
 * when its message exists; mssl_mail_flush sends it later.  Two
 * processes running this at once queue each reminder once: each batch
 * runs in a write transaction (the store's write lock), and the unique
 * key refuses a second row should anything slip past.
 *
 * Thresholds are looked at from the most urgent: the window of threshold
 * d is (now + next smaller threshold, now + d], so a certificate first
 * seen with 5 days left falls in the 7-day window only and gets that one
 * reminder, and the 30- and 14-day ones are never sent afterwards
 * (remind_due skips a certificate with a reminder of d days or fewer).
 */
#include "mail.h"
#include "op.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY INT64_C(86400)
#define BATCH 200 /* reminders per transaction */
#define MAX_BATCHES 10000 /* a bound, should the store not keep its word */

/* One certificate a reminder is due for, copied out of the callback. */
struct due {
	char *serial, *cn, *to;
	int64_t not_after;
	int days; /* the threshold */
};

struct due_set {
	struct due *v;
	size_t n, cap;
	int days; /* the threshold being listed */
	bool oom;
};

static void due_set_free(struct due_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].serial);
		free(s->v[i].cn);
		free(s->v[i].to);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int collect(void *ud, const struct mssl_cert_rec *r)
{
	struct due_set *s = ud;
	struct due *d;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 16;
		d = realloc(s->v, cap * sizeof(*d));
		if (!d)
			goto oom;
		s->v = d;
		s->cap = cap;
	}
	d = &s->v[s->n];
	memset(d, 0, sizeof(*d));
	s->n++;
	d->serial = mssl__strdup(r->serial);
	d->cn = mssl__strdup(r->cn ? r->cn : "");
	d->to = r->tech_email && *r->tech_email ?
			mssl__strdup(r->tech_email) :
			NULL;
	d->not_after = r->not_after;
	d->days = s->days;
	if (!d->serial || !d->cn || (r->tech_email && *r->tech_email && !d->to))
		goto oom;
	return 0;
oom:
	s->oom = true;
	return MSSL_ENOMEM;
}

/* Queue d's message and record it, in the transaction open on conn. */
static int remind_one(struct mssl__op *op, const struct due *d, int64_t now,
		      bool *sent)
{
	mssl_ctx *ctx = op->ctx;
	char expires[40], left[24];
	int64_t mail_id = 0;
	int rc = 0;

	*sent = false;
	mssl__utc_text(d->not_after, expires, sizeof(expires));
	snprintf(left, sizeof(left), "%" PRId64,
		 d->not_after > now ? (d->not_after - now) / DAY : 0);
	if (d->to) {
		const struct mssl__notice_line lines[] = {
			{ N_("Common name"), d->cn },
			{ N_("Serial number"), d->serial },
			{ N_("Expires"), expires },
			{ N_("Days left"), left },
		};

		rc = mssl__notice_queue_id(
			ctx, op->conn, d->to, d->serial, d->cn,
			N_("certificate expires soon"),
			N_("Your SSL certificate expires soon. When it has expired, browsers warn everyone who visits the site."),
			lines, MSSL_ARRAY_SIZE(lines),
			N_("Renew it before then: run \"mssl renew\", or choose Renew in the web interface. The renewal keeps the common name, and its term continues from this one's, so renewing early loses no paid time."),
			&mail_id);
		if (rc == MSSL_ENOMEM)
			return mssl__error_set(op->err, rc, "nomem", NULL,
					       N_("out of memory"));
		if (rc < 0)
			return mssl__op_store_error(op, rc);
		*sent = true;
	} else {
		mssl__log(ctx, MSSL_LOG_WARNING,
			  "certificate %s (%s) expires in %s days and has no technical contact: no reminder sent",
			  d->serial, d->cn, left);
	}
	rc = ctx->sops->remind_insert(
		op->conn, &(struct mssl_remind_rec){ .serial = d->serial,
						     .days = d->days,
						     .queued_at = mssl__now(ctx),
						     .mail_id = mail_id });
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	return 0;
}

/*
 * One transaction: at most BATCH reminders, most urgent first.  *more is
 * set when the batch is full (there may be more due).  resume[pos] is
 * where the window of threshold pos is to be read from (0: its start):
 * a full batch notes the last notAfter it took, less a second (ties are
 * read again and skipped by the store, as reminded), so the next batch
 * does not walk the part already done; a window read to its end is
 * noted as done.
 */
static int remind_batch(mssl_ctx *ctx, const mssl_actor *actor, int64_t now,
			int64_t *resume, size_t *queued, bool *more,
			mssl_error *err)
{
	const struct mssl__mail_conf *m = &ctx->mail;
	struct due_set set = { 0 };
	size_t per[MSSL__REMIND_MAX] = { 0 }, i, n_mail = 0, no_contact = 0;
	struct mssl__op op;
	char at[40];
	bool sent;
	int rc, pos;

	*more = false;
	snprintf(at, sizeof(at), "%" PRId64, now);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_MAIL_REMIND, NULL, NULL,
			    err);
	if (rc < 0)
		return rc;
	if (!mssl__store_has_remind(ctx)) {
		rc = mssl__error_set(err, MSSL_ECONFIG, "store.too_old", NULL,
				     N_("the store plugin is too old for expiry reminders (it needs plugin ABI 1.4)"));
		goto out;
	}
	if (m->n_remind_days == 0) {
		rc = mssl__error_set(err, MSSL_ESTATE, "remind.off", NULL,
				     N_("expiry reminders are off ([mail] remind_days is empty)"));
		goto out;
	}
	/* remind_days is largest first: walk it from the end. */
	for (pos = (int)m->n_remind_days - 1; pos >= 0 && set.n < BATCH;
	     pos--) {
		int64_t from = now + (pos + 1 < (int)m->n_remind_days ?
					      m->remind_days[pos + 1] :
					      0) * DAY,
			until;
		size_t before = set.n;

		set.days = m->remind_days[pos];
		until = now + set.days * DAY;
		if (resume[pos] > from)
			from = resume[pos];
		if (from >= until)
			continue;
		rc = ctx->sops->remind_due(op.conn, from, until, set.days,
					   (int64_t)(BATCH - set.n), collect,
					   &set);
		if (rc == MSSL_ENOMEM && set.oom) {
			rc = mssl__error_set(err, rc, "nomem", NULL,
					     N_("out of memory"));
			goto out;
		}
		if (rc < 0) {
			rc = mssl__op_store_error(&op, rc);
			goto out;
		}
		resume[pos] = set.n < BATCH ? until :
			      set.n > before ? set.v[set.n - 1].not_after - 1 :
					       resume[pos];
	}
	*more = set.n >= BATCH;
	for (i = 0; i < set.n; i++) {
		rc = remind_one(&op, &set.v[i], now, &sent);
		if (rc < 0)
			goto out;
		for (pos = 0; pos < (int)m->n_remind_days; pos++)
			if (m->remind_days[pos] == set.v[i].days)
				per[pos]++;
		if (sent)
			n_mail++;
		else
			no_contact++;
	}
	pos = snprintf(op.detail, sizeof(op.detail),
		       "queued %zu, no contact %zu, now=%s;", n_mail,
		       no_contact, at);
	for (i = 0; i < m->n_remind_days && pos > 0 &&
		    (size_t)pos < sizeof(op.detail);
	     i++)
		pos += snprintf(op.detail + pos, sizeof(op.detail) - (size_t)pos,
				" %dd=%zu", m->remind_days[i], per[i]);
out:
	due_set_free(&set);
	rc = mssl__op_end(&op, rc);
	if (rc == 0 && queued)
		*queued += n_mail;
	return rc;
}

MSSL_API int mssl_remind_expiring(mssl_ctx *ctx, const mssl_actor *actor,
				  int64_t now, size_t *queued,
				  mssl_error *err)
{
	int64_t resume[MSSL__REMIND_MAX] = { 0 };
	size_t total = 0;
	bool more = true;
	int rc = 0, n;

	if (queued)
		*queued = 0;
	if (now < 0)
		return mssl__error_set(err, MSSL_EINPUT, "remind.now", "now",
				       N_("the time to count from may not be negative"));
	if (ctx && now == 0)
		now = mssl__now(ctx);
	for (n = 0; more && n < MAX_BATCHES; n++) {
		rc = remind_batch(ctx, actor, now, resume, &total, &more, err);
		if (rc < 0)
			break;
	}
	if (rc == 0 && more)
		mssl__log(ctx, MSSL_LOG_WARNING,
			  "expiry reminders: stopped after %d transactions; the rest is queued at the next run",
			  MAX_BATCHES);
	if (queued)
		*queued = total;
	return rc;
}
