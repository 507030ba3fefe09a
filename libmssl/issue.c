/*
 * Issuance, crash-safe (DESIGN.md "Issuance, crash-safe"):
 *
 *  T1, one audited transaction: role and account, the full validation,
 *     the CN's term and the charge, the certificate recorded "pending"
 *     with its random serial, the debit.  Nothing is signed that is not
 *     recorded first.
 *  Sign: build the certificate from its profile, lint it, have the CA
 *     backend sign it, re-parse and compare it with what was asked.
 *  T2, one transaction: the DER stored and the certificate "issued", the
 *     term moved, the mail to the technical contact queued, audited.
 *
 * Any failure after T1 runs a compensating transaction: "failed" and the
 * charge refunded.  A crash between T1 and T2 leaves a pending row that
 * mssl_cert_resolve_pending settles the same way.  So the balance never
 * goes below zero, every charge has its certificate or its refund, and a
 * serial is never used twice (the store keeps them unique).
 *
 * Cert-years as terms: issuing for N years charges N and opens a term of
 * N years for the CN; each certificate covers at most the policy maximum
 * (CA/B Forum: 200 days now); reissuing the CN inside its term charges
 * nothing; a renewal charges N again and the term continues from its old
 * end.  doc/ARCHITECTURE.md has worked examples.
 */
#include "op.h"
#include "profile.h"
#include "report.h"
#include "mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define PASSPHRASE_ITERATIONS 10000

/*
 * Crash points for the kill -9 tests: only the testable library is built
 * with them (MSSL_CRASH_POINTS); there, MSSL_CRASH_AT=<name> kills the
 * process at that point.  The shipped library has none.
 */
#ifdef MSSL_CRASH_POINTS
#include <signal.h>
static void crash_point(const char *name)
{
	const char *at = getenv("MSSL_CRASH_AT");

	if (at && strcmp(at, name) == 0)
		raise(SIGKILL);
}
#else
#define crash_point(name) ((void)0)
#endif
#define NOTE_MAX 1000

struct mssl_cert {
	struct mssl_cert_rec rec;
	char *strs[20];
	size_t n_strs;
	uint8_t *der;
};

MSSL_API void mssl_cert_free(mssl_cert *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_strs; i++)
		free(c->strs[i]);
	free(c->der);
	free(c);
}

MSSL_API const struct mssl_cert_rec *mssl_cert_record(const mssl_cert *c)
{
	return c ? &c->rec : NULL;
}

static const char *keep(mssl_cert *c, const char *s)
{
	char *d;

	if (!s || c->n_strs == MSSL_ARRAY_SIZE(c->strs) || !(d = strdup(s)))
		return NULL;
	c->strs[c->n_strs++] = d;
	return d;
}

/* A copy of a stored record, owned by the caller. */
static int copy_cert(void *ud, const struct mssl_cert_rec *r)
{
	mssl_cert **out = ud, *c = calloc(1, sizeof(**out));

	if (!c)
		return MSSL_ENOMEM;
	c->rec = *r;
	c->rec.serial = keep(c, r->serial);
	c->rec.account_id = keep(c, r->account_id);
	c->rec.cn = keep(c, r->cn);
	c->rec.state = keep(c, r->state);
	c->rec.renewal_of = keep(c, r->renewal_of);
	c->rec.requested_by = keep(c, r->requested_by);
	c->rec.server_vendor = keep(c, r->server_vendor);
	c->rec.passphrase_hash = keep(c, r->passphrase_hash);
	c->rec.tech_name = keep(c, r->tech_name);
	c->rec.tech_email = keep(c, r->tech_email);
	c->rec.tech_phone = keep(c, r->tech_phone);
	c->rec.note = keep(c, r->note);
	c->rec.seal_name = keep(c, r->seal_name);
	c->rec.idempotency_key = keep(c, r->idempotency_key);
	if (r->der && r->der_len) {
		c->der = malloc(r->der_len);
		if (c->der)
			memcpy(c->der, r->der, r->der_len);
		c->rec.der = c->der;
	}
	if (!c->rec.serial || (r->der_len && !c->der)) {
		mssl_cert_free(c);
		return MSSL_ENOMEM;
	}
	mssl_cert_free(*out);
	*out = c;
	return 0;
}

/* ---- the issuing CA ------------------------------------------------------ */

static int first_der(void *ud, const uint8_t *der, size_t len)
{
	gnutls_x509_crt_t *crt = ud;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };

	if (*crt)
		return 0;
	if (gnutls_x509_crt_init(crt) < 0)
		return MSSL_ENOMEM;
	if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		return MSSL_ECRYPTO;
	}
	return 1;
}

/* The issuing CA's certificate, asked of the backend once. */
static int ca_cert(mssl_ctx *ctx, gnutls_x509_crt_t *out, mssl_error *err)
{
	const struct mssl_ca_ops *ops;
	gnutls_x509_crt_t crt = NULL;
	int rc = 0;

	if (!ctx->ca)
		return mssl__error_set(err, MSSL_ESTATE, "ca.none", NULL,
				       N_("no CA is configured: set [mssl] ca in mssl.conf"));
	pthread_mutex_lock(&ctx->pool_lock);
	if (!ctx->ca_crt) {
		ops = ctx->ca->p->ops;
		rc = ops->chain(ctx->ca->state, first_der, &crt);
		if (rc >= 0 && crt)
			ctx->ca_crt = crt;
		else if (rc >= 0)
			rc = MSSL_ECRYPTO;
	}
	*out = ctx->ca_crt;
	pthread_mutex_unlock(&ctx->pool_lock);
	if (rc < 0)
		return mssl__error_set(err, rc, "ca.chain", NULL,
				       N_("the CA backend gave no usable issuing certificate (%s)"),
				       mssl_strerror(rc));
	return 0;
}

/* ---- inputs ---------------------------------------------------------------- */

static int hash_passphrase(const char *pw, char **out, mssl_error *err)
{
	uint8_t salt[16], dk[32];
	char hs[33], hd[65];
	gnutls_datum_t key = { (unsigned char *)pw, (unsigned)strlen(pw) };
	gnutls_datum_t s = { salt, sizeof(salt) };

	if (gnutls_rnd(GNUTLS_RND_RANDOM, salt, sizeof(salt)) < 0 ||
	    gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, PASSPHRASE_ITERATIONS,
			  dk, sizeof(dk)) < 0)
		return mssl__error_set(err, MSSL_ECRYPTO, "crypto.pbkdf2", NULL,
				       N_("the pass phrase could not be hashed"));
	mssl__hex(salt, sizeof(salt), hs);
	mssl__hex(dk, sizeof(dk), hd);
	gnutls_memset(dk, 0, sizeof(dk));
	*out = mssl__asprintf("pbkdf2-sha256$%d$%s$%s", PASSPHRASE_ITERATIONS,
			      hs, hd);
	return *out ? 0 : MSSL_ENOMEM;
}

/* The pass phrase's shape (check_params says what is wrong with it). */
static bool passphrase_ok(const char *pw)
{
	return pw && strlen(pw) >= 8 && strlen(pw) <= 128;
}

static int check_params(mssl_ctx *ctx, const mssl_issue_params *p,
			const char **vendor, mssl_error *err)
{
	size_t i;
	int rc;

	if (p->years < 1 || p->years > ctx->policy.max_years)
		return mssl__error_set(err, MSSL_EINPUT, "issue.years", "years",
				       N_("the validity must be 1 to %d years, not %d"),
				       ctx->policy.max_years, p->years);
	*vendor = NULL;
	for (i = 0; p->server_vendor && i < ctx->policy.n_vendors; i++)
		if (strcasecmp(p->server_vendor, ctx->policy.vendors[i]) == 0)
			*vendor = ctx->policy.vendors[i];
	if (!*vendor)
		return mssl__error_set(err, MSSL_EINPUT, "issue.vendor",
				       "server_vendor",
				       N_("\"%s\" is not a server vendor of this CA; choose one of the list (it decides the download format)"),
				       p->server_vendor ? p->server_vendor : "");
	if (!passphrase_ok(p->passphrase))
		return mssl__error_set(err, MSSL_EINPUT, "issue.passphrase",
				       "passphrase",
				       N_("the pass phrase must have 8 to 128 characters"));
	if (mssl__str_empty(p->tech_name))
		return mssl__error_set(err, MSSL_EINPUT, "issue.tech_name",
				       "tech_name",
				       N_("the technical contact's name is required"));
	if ((rc = mssl_email_check(p->tech_email, "tech_email", err)) < 0)
		return rc;
	if (p->note && strlen(p->note) > NOTE_MAX)
		return mssl__error_set(err, MSSL_EINPUT, "issue.note", "note",
				       N_("the note may have at most %d bytes"),
				       NOTE_MAX);
	return 0;
}

/* ---- terms ------------------------------------------------------------------ */

struct term {
	bool have;
	int64_t started;
	int64_t paid_until;
};

static int got_term(void *ud, const struct mssl_term_rec *r)
{
	struct term *t = ud;

	t->have = true;
	t->started = r->started;
	t->paid_until = r->paid_until;
	return 0;
}

static int64_t add_years(int64_t t, int years)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_year += years;
	return (int64_t)timegm(&tm);
}

struct plan {
	int charge; /* cert-years debited now */
	struct term before, after;
	int64_t not_before, not_after;
};

static void plan_term(const struct term *t, bool renewal, int years,
		      int64_t now, int64_t max, struct plan *p)
{
	p->before = *t;
	p->after = *t;
	p->charge = 0;
	if (renewal) {
		/* Extend unless the term already covers a whole certificate. */
		if (!t->have || t->paid_until - now < max) {
			p->charge = years;
			p->after.paid_until = add_years(
				t->have && t->paid_until > now ? t->paid_until :
								 now,
				years);
			if (!t->have)
				p->after.started = now;
		}
	} else if (!t->have || t->paid_until <= now) {
		p->charge = years;
		p->after.started = now;
		p->after.paid_until = add_years(now, years);
	}
	p->after.have = true;
	/* notBefore a minute back for clocks slightly behind. */
	p->not_before = now - 60;
	p->not_after = p->not_before + max;
	if (p->not_after > p->after.paid_until)
		p->not_after = p->after.paid_until;
}

/* The CN as stored: ASCII lower case, at most 255 bytes. */
static void cn_lower(const char *in, char out[256])
{
	size_t i;

	for (i = 0; in[i] && i < 255; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' :
							      in[i]);
	out[i] = '\0';
}

static int64_t policy_max(mssl_ctx *ctx, int64_t now)
{
	return ctx->policy.max_validity ? ctx->policy.max_validity :
					  mssl__cabf_max_validity(now);
}

/*
 * Inside the dry run's operation: keep what mssl_report_quote needs (the
 * CN's term, the time, the policy) in the report.
 */
int mssl__quote_load(struct mssl__op *op, const char *cn_in, bool renewal,
		     mssl_report *report)
{
	struct mssl__quote q = { 0 };
	struct term t = { 0 };
	char cn[256];
	int rc;

	if (!cn_in || !*cn_in)
		return 0;
	cn_lower(cn_in, cn);
	rc = op->ctx->sops->term_get(op->conn, op->account_id, cn, got_term,
				     &t);
	if (rc < 0 && rc != MSSL_ENOENT)
		return mssl__op_store_error(op, rc);
	q.renewal = renewal;
	q.have_term = t.have;
	q.started = t.started;
	q.paid_until = t.paid_until;
	q.now = mssl__now(op->ctx);
	q.max = policy_max(op->ctx, q.now);
	q.max_years = op->ctx->policy.max_years;
	mssl__report_set_quote(report, &q);
	return 0;
}

MSSL_API int mssl_report_quote(const mssl_report *report, int years,
			       int *cert_years, int64_t *not_before,
			       int64_t *not_after, int64_t *term_until,
			       mssl_error *err)
{
	const struct mssl__quote *q = mssl__report_get_quote(report);
	struct term t;
	struct plan pl;

	if (!q)
		return mssl__error_set(err, MSSL_ESTATE, "quote.none", NULL,
				       N_("no price can be quoted for this request: it has no common name (CN)"));
	if (years < 1 || years > q->max_years)
		return mssl__error_set(err, MSSL_EINPUT, "issue.years", "years",
				       N_("the validity must be 1 to %d years, not %d"),
				       q->max_years, years);
	t.have = q->have_term;
	t.started = q->started;
	t.paid_until = q->paid_until;
	plan_term(&t, q->renewal, years, q->now, q->max, &pl);
	if (cert_years)
		*cert_years = pl.charge;
	if (not_before)
		*not_before = pl.not_before;
	if (not_after)
		*not_after = pl.not_after;
	if (term_until)
		*term_until = pl.after.paid_until;
	return 0;
}

/* ---- compensation ------------------------------------------------------------ */

/*
 * Undo a pending certificate: "failed" and its charge refunded, audited.
 * Runs on a fresh connection in a transaction of its own.
 */
static int compensate(mssl_ctx *ctx, const mssl_actor *actor,
		      const char *account_id, const char *serial, int charge,
		      const char *why)
{
	struct mssl__op tmp;
	char detail[512];
	void *conn = NULL;
	int rc;

	if ((rc = mssl__conn_get(ctx, &conn, NULL)) < 0)
		return rc;
	rc = ctx->sops->begin(conn, MSSL_TXN_WRITE);
	if (rc == 0)
		rc = ctx->sops->cert_finish(conn, serial, serial, "failed", NULL,
					    0, 0, 0);
	if (rc == 0 && charge > 0) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.ctx = ctx;
		tmp.actor = actor;
		tmp.conn = conn;
		tmp.account_id = account_id;
		rc = mssl__ledger_post(&tmp, MSSL_LEDGER_REFUND, charge,
				       "issuance failed", serial, NULL);
	}
	snprintf(detail, sizeof(detail), "serial=%s refund=%d: %s", serial,
		 charge, why);
	if (rc == 0)
		rc = mssl__audit_append(ctx, conn, actor, account_id,
					"cert.issue", serial, "failed", detail,
					NULL);
	if (rc == 0)
		rc = ctx->sops->commit(conn);
	if (rc < 0) {
		ctx->sops->rollback(conn);
		mssl__log(ctx, MSSL_LOG_ERROR,
			  "certificate %s stays pending: %s (%s)", serial,
			  mssl_strerror(rc), why);
	}
	mssl__conn_put(ctx, conn);
	return rc;
}

/* ---- T2 ---------------------------------------------------------------------- */

/* "2026-11-24 08:00 UTC - 2027-06-12 08:00 UTC" */
static void valid_text(int64_t from, int64_t until, char *out, size_t n)
{
	char nb[32], na[32];

	mssl__utc_text(from, nb, sizeof(nb));
	mssl__utc_text(until, na, sizeof(na));
	snprintf(out, n, "%s - %s", nb, na);
}

/*
 * A store of ABI 1.1 or later moves ledger entries to a serial the signer
 * chose; an older one keeps them naming the pending serial (the audit
 * record of T2 names both).
 */
static bool store_can_reserial(const mssl_ctx *ctx)
{
	const struct mssl_store_ops *o = ctx->sops;

	return o->abi_minor >= 1 &&
	       o->size >= offsetof(struct mssl_store_ops, ledger_reserial) +
				  sizeof(o->ledger_reserial) &&
	       o->ledger_reserial;
}

static int store_issued(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, const char *serial,
			const struct mssl__signed *got, const uint8_t *der,
			size_t der_len, const struct plan *pl, const char *cn,
			const mssl_issue_params *p, mssl_cert **out,
			mssl_error *err)
{
	struct mssl_term_rec t = { account_id, cn, pl->after.started,
				   pl->after.paid_until };
	const char *new_serial = got->serial_hex;
	bool moved = strcmp(serial, new_serial) != 0;
	char detail[256], valid[80];
	void *conn = NULL;
	int rc;

	if ((rc = mssl__conn_get(ctx, &conn, err)) < 0)
		return rc;
	valid_text(got->not_before, got->not_after, valid, sizeof(valid));
	rc = ctx->sops->begin(conn, MSSL_TXN_WRITE);
	/* The signer chose the serial: row and charge move to it at once
	 * (a serial already taken fails here, and the issuance with it). */
	if (rc == 0)
		rc = ctx->sops->cert_finish(conn, serial, new_serial, "issued",
					    der, der_len, got->not_before,
					    got->not_after);
	if (rc == 0 && moved && store_can_reserial(ctx))
		rc = ctx->sops->ledger_reserial(conn, serial, new_serial);
	if (rc == 0 && (pl->charge > 0 || !pl->before.have))
		rc = ctx->sops->term_put(conn, &t);
	if (rc == 0) {
		const struct mssl__notice_line lines[] = {
			{ N_("Common name"), cn },
			{ N_("Serial number"), new_serial },
			{ N_("Valid"), valid },
		};

		rc = mssl__notice_queue(
			ctx, conn, p->tech_email, new_serial, cn,
			N_("certificate issued"),
			N_("Your SSL certificate has been issued."), lines,
			MSSL_ARRAY_SIZE(lines),
			N_("Download it from the certificate list of your account."));
	}
	if (moved)
		snprintf(detail, sizeof(detail),
			 "cn=%.150s not_after=%" PRId64 " pending=%s", cn,
			 got->not_after, serial);
	else
		snprintf(detail, sizeof(detail), "cn=%.200s not_after=%" PRId64,
			 cn, got->not_after);
	if (rc == 0)
		rc = mssl__audit_append(ctx, conn, actor, account_id,
					"cert.issued", new_serial, "ok", detail,
					err);
	/*
	 * The record handed back, read in this transaction rather than in
	 * one more after it (a failed read leaves *out NULL: the caller
	 * says the certificate could not be read back).
	 */
	if (rc == 0)
		ctx->sops->cert_get(conn, new_serial, copy_cert, out);
	if (rc == 0)
		crash_point("before_commit");
	if (rc == 0)
		rc = ctx->sops->commit(conn);
	if (rc < 0) {
		mssl_cert_free(*out);
		*out = NULL;
		ctx->sops->rollback(conn);
		if (mssl_error_code(err) == 0)
			mssl__plugin_error(ctx, rc, err);
	}
	mssl__conn_put(ctx, conn);
	return rc;
}

/* ---- sign --------------------------------------------------------------------- */

/* What the backend decides by itself: nothing for a backend of ABI 1.0. */
static uint32_t ca_caps(const mssl_ctx *ctx)
{
	const struct mssl_ca_ops *o = ctx->ca->p->ops;

	if (o->abi_minor < 1 ||
	    o->size < offsetof(struct mssl_ca_ops, caps) + sizeof(o->caps) ||
	    !o->caps)
		return 0;
	return o->caps(ctx->ca->state) &
	       (MSSL_CA_OWN_SERIAL | MSSL_CA_OWN_PROFILE);
}

static int sign(mssl_ctx *ctx, const mssl_csr *csr, uint32_t product,
		const uint8_t *serial, size_t serial_len, const struct plan *pl,
		int64_t now, int64_t max, uint8_t **der, size_t *der_len,
		struct mssl__signed *got, mssl_error *err)
{
	const struct mssl_ca_ops *ops = ctx->ca->p->ops;
	struct mssl__profile_in in = { 0 };
	struct mssl__tbs_buf *tb = NULL;
	gnutls_x509_crt_t ca = NULL;
	int rc;

	*der = NULL;
	if ((rc = ca_cert(ctx, &ca, err)) < 0)
		return rc;
	in.csr = mssl_csr_info(csr);
	in.csr_der = mssl__csr_der(csr, &in.csr_len);
	in.spki = mssl__csr_spki(csr, &in.spki_len);
	in.product = product;
	in.serial = serial;
	in.serial_len = serial_len;
	in.not_before = pl->not_before;
	in.not_after = pl->not_after;
	in.ca = ca;
	in.crl_url = ctx->policy.crl_url;
	in.ca_issuers_url = ctx->policy.ca_issuers_url;
	in.policy_oids = ctx->policy.policy_oids;
	if ((rc = mssl__profile_build(&in, &tb, err)) < 0 ||
	    (rc = mssl__profile_lint(mssl__tbs(tb), now, max, err)) < 0)
		goto out;
	rc = ops->issue(ctx->ca->state, mssl__tbs(tb), der, der_len);
	if (rc < 0) {
		mssl__plugin_error(ctx, rc, err);
		goto out;
	}
	rc = mssl__profile_compare(mssl__tbs(tb), *der, *der_len, ca,
				   ca_caps(ctx), got, err);
out:
	if (rc < 0 && *der) {
		free(*der);
		*der = NULL;
	}
	mssl__tbs_buf_free(tb);
	return rc;
}

/* ---- the operation --------------------------------------------------------------- */

struct seal {
	char name[256];
};

static int last_seal(void *ud, const struct mssl_cert_rec *r)
{
	struct seal *s = ud;

	if (r->seal_name && !s->name[0])
		snprintf(s->name, sizeof(s->name), "%s", r->seal_name);
	return 1;
}

MSSL_API int mssl_issue(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, const mssl_csr *csr,
			const mssl_issue_params *p, mssl_cert **out,
			mssl_report **report_out, mssl_error *err)
{
	const struct mssl_csr_info *ci = mssl_csr_info(csr);
	mssl_check_params cp = { 0 };
	struct mssl_cert_rec rec = { 0 };
	struct term term = { 0 };
	struct plan pl = { 0 };
	struct seal seal = { "" };
	struct mssl__op op;
	mssl_report *report = NULL;
	const char *vendor = NULL;
	struct mssl__signed got = { "" };
	char *pwhash = NULL, cn[256], serial_hex[41];
	uint8_t serial[16], *der = NULL;
	size_t der_len = 0;
	int64_t now, max;
	int rc, hash_rc = 0;

	return_val_if_fail(csr && p && out, MSSL_EINVAL);
	*out = NULL;
	if (report_out)
		*report_out = NULL;
	/*
	 * The pass phrase's PBKDF2, the costliest step but signing, runs
	 * before the write transaction, so that no other issuance waits on
	 * the store's write lock for it.  Only for an actor who may issue
	 * and a pass phrase of the right shape: anything else is refused
	 * and audited below without it (and a failure here is audited
	 * there too).
	 */
	if (ctx && actor &&
	    mssl__op_role_allowed(MSSL_OP_CERT_ISSUE,
				  mssl__actor_role(actor)) &&
	    passphrase_ok(p->passphrase))
		hash_rc = hash_passphrase(p->passphrase, &pwhash, err);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_ISSUE, account_id,
			    ci->subject.cn, err);
	if (rc < 0)
		goto done;
	account_id = op.account_id;
	now = mssl__now(ctx);
	max = policy_max(ctx, now);
	if ((rc = check_params(ctx, p, &vendor, err)) < 0)
		goto refuse;
	if (hash_rc < 0 || !pwhash) {
		rc = hash_rc < 0 ? hash_rc : MSSL_ENOMEM;
		goto refuse;
	}
	if (!ctx->ca) {
		rc = mssl__error_set(err, MSSL_ESTATE, "ca.none", NULL,
				     N_("no CA is configured: set [mssl] ca in mssl.conf"));
		goto refuse;
	}
	/* A retried request returns what the first one made. */
	if (p->idempotency_key) {
		rc = ctx->sops->cert_by_key(op.conn, account_id,
					    p->idempotency_key, copy_cert, out);
		if (rc == 0 && strcmp((*out)->rec.state, "issued") == 0) {
			snprintf(op.detail, sizeof(op.detail),
				 "replay of %.40s for key %.150s", (*out)->rec.serial,
				 p->idempotency_key);
			rc = mssl__op_end(&op, 0);
			goto done;
		}
		if (rc == 0) {
			rc = mssl__error_set(err, MSSL_ESTATE, "issue.key_used",
					     "idempotency_key",
					     N_("the request with this idempotency key is %s; use a new key for a new request"),
					     (*out)->rec.state);
			mssl_cert_free(*out);
			*out = NULL;
			goto refuse;
		}
		if (rc != MSSL_ENOENT) {
			rc = mssl__op_store_error(&op, rc);
			goto refuse;
		}
	}
	cp.product = p->product;
	cp.renewal_of = p->renewal_of;
	report = mssl__report_new();
	rc = report ? mssl__check_run(&op, csr, &cp, report) : MSSL_ENOMEM;
	if (rc == 0 && mssl__report_n_errors(report) > 0)
		rc = mssl__error_set(err, MSSL_EREJECTED, "request.rejected",
				     NULL,
				     N_("the request was refused: %zu findings must be fixed first"),
				     mssl__report_n_errors(report));
	if (rc < 0)
		goto refuse;
	/* The validators may not include validate-org: never trust a CN. */
	if (!ci->subject.cn || !*ci->subject.cn) {
		rc = mssl__error_set(err, MSSL_EINPUT, "issue.cn_missing",
				     "subject.CN",
				     N_("the request has no common name (CN); make a request whose CN is the site's name"));
		goto refuse;
	}
	cn_lower(ci->subject.cn, cn);
	/* The site seal name: given, or the last one of this CN. */
	rc = ctx->sops->cert_each(
		op.conn,
		&(struct mssl_cert_filter){ .account_id = account_id,
					    .cn = cn,
					    .state = "issued",
					    .newest_first = 1,
					    .limit = 1 },
		last_seal, &seal);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto refuse;
	}
	if (!mssl__str_empty(p->seal_name))
		snprintf(seal.name, sizeof(seal.name), "%s", p->seal_name);
	if (!seal.name[0]) {
		rc = mssl__error_set(err, MSSL_EINPUT, "issue.seal_name",
				     "seal_name",
				     N_("%s has no certificate yet, so its site seal name is required"),
				     cn);
		goto refuse;
	}
	rc = ctx->sops->term_get(op.conn, account_id, cn, got_term, &term);
	if (rc < 0 && rc != MSSL_ENOENT) {
		rc = mssl__op_store_error(&op, rc);
		goto refuse;
	}
	plan_term(&term, p->renewal_of != NULL, p->years, now, max, &pl);
	if (gnutls_rnd(GNUTLS_RND_RANDOM, serial, sizeof(serial)) < 0) {
		rc = MSSL_ECRYPTO;
		goto refuse;
	}
	/* Positive, 120+ bits of CSPRNG output, minimally encoded. */
	serial[0] &= 0x7f;
	if (serial[0] == 0)
		serial[0] = 0x01;
	mssl__hex(serial, sizeof(serial), serial_hex);
	rec.serial = serial_hex;
	rec.account_id = account_id;
	rec.cn = cn;
	rec.product = p->product;
	rec.state = "pending";
	rec.years = pl.charge;
	rec.renewal_of = p->renewal_of;
	rec.requested_by = mssl__actor_label(actor);
	rec.server_vendor = vendor;
	rec.passphrase_hash = pwhash;
	rec.tech_name = p->tech_name;
	rec.tech_email = p->tech_email;
	rec.tech_phone = mssl__str_empty(p->tech_phone) ? NULL : p->tech_phone;
	rec.note = mssl__str_empty(p->note) ? NULL : p->note;
	rec.seal_name = seal.name;
	rec.revoke_reason = -1;
	rec.created = now;
	rec.idempotency_key = p->idempotency_key;
	rc = ctx->sops->cert_insert(op.conn, &rec);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto refuse;
	}
	if (pl.charge > 0 &&
	    (rc = mssl__ledger_post(&op, MSSL_LEDGER_CHARGE, -pl.charge, cn,
				    serial_hex, NULL)) < 0)
		goto refuse;
	snprintf(op.detail, sizeof(op.detail),
		 "pending serial=%s product=%s years=%d charged=%d", serial_hex,
		 p->product == MSSL_PRODUCT_EV	     ? "ev" :
		 p->product == MSSL_PRODUCT_WILDCARD ? "wildcard" :
						       "ssl",
		 p->years, pl.charge);
	rc = mssl__op_end(&op, 0);
	if (rc < 0)
		goto done;
	crash_point("after_pending");

	/* Recorded and paid for: now sign. */
	rc = sign(ctx, csr, p->product, serial, sizeof(serial), &pl, now, max,
		  &der, &der_len, &got, err);
	if (rc == 0)
		crash_point("after_sign");
	if (rc == 0)
		rc = store_issued(ctx, actor, account_id, serial_hex, &got, der,
				  der_len, &pl, cn, p, out, err);
	if (rc < 0) {
		compensate(ctx, actor, account_id, serial_hex, pl.charge,
			   mssl_error_message(err, MSSL_LANG_EN));
		goto done;
	}
	if (!*out)
		rc = mssl__error_set(err, MSSL_ESTORE, "issue.reread", NULL,
				     N_("the certificate %s was issued but could not be read back"),
				     got.serial_hex);
	goto done;
refuse:
	rc = mssl__op_end(&op, rc);
done:
	if (pwhash) {
		gnutls_memset(pwhash, 0, strlen(pwhash));
		free(pwhash);
	}
	free(der);
	if (report_out && report)
		*report_out = report;
	else
		mssl_report_free(report);
	return rc;
}

struct pending {
	char serial[41];
	char account[64];
	int years;
};

struct pendings {
	struct pending *v;
	size_t n, cap;
	int64_t older; /* only rows created before this */
};

static int collect_pending(void *ud, const struct mssl_cert_rec *r)
{
	struct pendings *ps = ud;

	/* A younger row may be an issuance still under way elsewhere. */
	if (r->created >= ps->older)
		return 0;
	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 8;
		struct pending *v = realloc(ps->v, nc * sizeof(*v));

		if (!v)
			return MSSL_ENOMEM;
		ps->v = v;
		ps->cap = nc;
	}
	snprintf(ps->v[ps->n].serial, sizeof(ps->v[0].serial), "%s", r->serial);
	snprintf(ps->v[ps->n].account, sizeof(ps->v[0].account), "%s",
		 r->account_id);
	ps->v[ps->n].years = r->years;
	ps->n++;
	return 0;
}

MSSL_API int mssl_cert_resolve_pending(mssl_ctx *ctx, const mssl_actor *actor,
				       int64_t *n_resolved, mssl_error *err)
{
	struct pendings ps = { 0 };
	struct mssl__op op;
	int64_t older;
	size_t i;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_RESOLVE, NULL, NULL,
			    err);
	if (rc < 0)
		return rc;
	older = mssl__now(ctx) - ctx->policy.pending_timeout_s;
	ps.older = older;
	rc = ctx->sops->cert_each(
		op.conn, &(struct mssl_cert_filter){ .state = "pending" },
		collect_pending, &ps);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	snprintf(op.detail, sizeof(op.detail), "%zu pending", ps.n);
	rc = mssl__op_end(&op, rc);
	/* Each settles in its own transaction, like a failed issuance. */
	for (i = 0; rc == 0 && i < ps.n; i++) {
		rc = compensate(ctx, actor, ps.v[i].account, ps.v[i].serial,
				ps.v[i].years,
				"left pending (interrupted issuance)");
	}
	if (rc == 0 && n_resolved)
		*n_resolved = (int64_t)ps.n;
	free(ps.v);
	return rc;
}

MSSL_API int mssl_renewal_list(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id, mssl_cert_cb cb,
			       void *ud, mssl_error *err)
{
	struct mssl_cert_filter f = { 0 };
	struct mssl__op op;
	int64_t now;
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_RENEWAL_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	now = mssl__now(ctx);
	f.account_id = op.account_id;
	f.state = "issued";
	f.expires_after = now;
	f.expires_before =
		now + (int64_t)ctx->policy.renewal_window_days * 86400;
	rc = ctx->sops->cert_each(op.conn, &f, cb, ud);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}
