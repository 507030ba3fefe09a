/*
 * Revocation and the CRL (SPEC §5).
 *
 * One audited transaction revokes: the certificate "revoked" with its
 * time and reason; inside the refund window the cert-years it charged
 * come back as a "refund" ledger entry naming it and the CN's term ends
 * (so the refunded years are not used again); keyCompromise puts its key
 * on the blocked list.  Then the CRL is regenerated, in a transaction of
 * its own: a CRL failure is logged and audited but leaves the revocation
 * standing.
 *
 * The CRL is full (every revoked certificate), its number comes from the
 * store's "crl" counter inside the same write transaction that lists the
 * entries, so numbers strictly increase; nextUpdate is at most 10 days
 * after thisUpdate ([issuance] crl_days).  The file is replaced by rename
 * after the transaction commits, so a number is never published twice,
 * and only by a CRL of a higher number than the one there (two
 * regenerations overlapping: the later one, which lists everything the
 * earlier did, stays published).  A store behind the published file (a
 * restored backup) first moves its counter past the file's number.
 */
#include "op.h"
#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define DAY 86400

static const struct {
	const char *name;
	int value;
} reasons[] = {
	{ "unspecified", MSSL_REVOKE_UNSPECIFIED },
	{ "keyCompromise", MSSL_REVOKE_KEY_COMPROMISE },
	{ "affiliationChanged", MSSL_REVOKE_AFFILIATION_CHANGED },
	{ "superseded", MSSL_REVOKE_SUPERSEDED },
	{ "cessationOfOperation", MSSL_REVOKE_CESSATION_OF_OPERATION },
};

MSSL_API int mssl_revoke_reason_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < MSSL_ARRAY_SIZE(reasons); i++)
		if (strcasecmp(name, reasons[i].name) == 0)
			return reasons[i].value;
	return MSSL_EINPUT;
}

MSSL_API const char *mssl_revoke_reason_name(int reason)
{
	size_t i;

	if (reason < 0)
		return "unspecified";
	for (i = 0; i < MSSL_ARRAY_SIZE(reasons); i++)
		if (reasons[i].value == reason)
			return reasons[i].name;
	return "unknown";
}

/* What revocation needs of the stored certificate. */
struct victim {
	bool found;
	char account[64];
	char cn[256];
	char state[16];
	int years;
	int64_t created;
	char tech_email[256];
	uint8_t *der;
	size_t der_len;
};

static int got_victim(void *ud, const struct mssl_cert_rec *r)
{
	struct victim *v = ud;

	v->found = true;
	snprintf(v->account, sizeof(v->account), "%s", r->account_id);
	snprintf(v->cn, sizeof(v->cn), "%s", r->cn ? r->cn : "");
	snprintf(v->state, sizeof(v->state), "%s", r->state);
	v->years = r->years;
	v->created = r->created;
	snprintf(v->tech_email, sizeof(v->tech_email), "%s",
		 r->tech_email ? r->tech_email : "");
	if (r->der && r->der_len) {
		v->der = malloc(r->der_len);
		if (!v->der)
			return MSSL_ENOMEM;
		memcpy(v->der, r->der, r->der_len);
		v->der_len = r->der_len;
	}
	return 0;
}

static int got_term(void *ud, const struct mssl_term_rec *r)
{
	*(int64_t *)ud = r->started;
	return 0;
}

/* SHA-256 of the certificate's SubjectPublicKeyInfo. */
static int spki_sha256(const uint8_t *der, size_t len, uint8_t out[32])
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	gnutls_datum_t spki = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int rc = MSSL_ECRYPTO;

	if (gnutls_x509_crt_init(&crt) < 0)
		return MSSL_ENOMEM;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, out) < 0)
		goto out;
	rc = 0;
out:
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* ---- the CRL ------------------------------------------------------------- */

struct entries {
	struct mssl_crl_entry *v;
	uint8_t (*serials)[20];
	size_t n, cap;
};

static int add_entry(void *ud, const struct mssl_cert_rec *r)
{
	struct entries *e = ud;
	char hex[41];
	size_t len = strlen(r->serial);

	if (len == 0 || len > 40)
		return MSSL_ESTORE;
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 64;
		struct mssl_crl_entry *v = realloc(e->v, nc * sizeof(*v));
		uint8_t(*s)[20];

		if (!v)
			return MSSL_ENOMEM;
		e->v = v;
		s = realloc(e->serials, nc * sizeof(*s));
		if (!s)
			return MSSL_ENOMEM;
		e->serials = s;
		e->cap = nc;
	}
	/* An odd number of digits gets a leading zero. */
	snprintf(hex, sizeof(hex), "%s%s", len % 2 ? "0" : "", r->serial);
	len = (len + 1) / 2;
	if (mssl__unhex(hex, e->serials[e->n], len) < 0)
		return MSSL_ESTORE;
	e->v[e->n].serial = e->serials[e->n];
	e->v[e->n].serial_len = len;
	e->v[e->n].revoked_at = r->revoked_at;
	/* The CA/B Forum forbids reasonCode unspecified: leave it out. */
	e->v[e->n].reason = r->revoke_reason <= 0 ? -1 : r->revoke_reason;
	e->n++;
	return 0;
}

/*
 * Write der to a new file named by the template tmp ("...XXXXXX",
 * completed in place), readable by all, fsynced; the caller renames it.
 */
static int write_tmp(char *tmp, const uint8_t *der, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	errno = 0;
	fd = mkstemp(tmp);
	if (fd < 0)
		return MSSL_EIO;
	if (fchmod(fd, 0644) < 0) {
		saved = errno;
		close(fd);
		goto fail;
	}
	while (off < len) {
		n = write(fd, der + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != len || fsync(fd) < 0) {
		saved = off != len && errno == 0 ? EIO : errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return MSSL_EIO;
}

/* Counter steps crl_build takes to pass the published CRL's number. */
#define CRL_CATCH_UP_MAX 1000000

/*
 * The number of the CRL published at path, in *number: 0 when there is
 * no file, or one that is not a CRL with a number (DER as mssl writes it,
 * or PEM), which is then simply replaced; INT64_MAX for a number beyond
 * 63 bits (far ahead of any store's counter).
 */
static void published_number(mssl_ctx *ctx, const char *path, int64_t *number)
{
	gnutls_datum_t file = { NULL, 0 };
	gnutls_x509_crl_t crl = NULL;
	unsigned char num[20];
	size_t n = sizeof(num), i;
	uint64_t v = 0;

	*number = 0;
	if (gnutls_load_file(path, &file) < 0)
		return;
	if (gnutls_x509_crl_init(&crl) < 0)
		goto out;
	if ((gnutls_x509_crl_import(crl, &file, GNUTLS_X509_FMT_DER) < 0 &&
	     gnutls_x509_crl_import(crl, &file, GNUTLS_X509_FMT_PEM) < 0) ||
	    gnutls_x509_crl_get_number(crl, num, &n, NULL) < 0) {
		mssl__log(ctx, MSSL_LOG_WARNING,
			  "%s holds no CRL number mssl can read; it will be "
			  "replaced",
			  path);
		goto out;
	}
	for (i = 0; i < n && v <= INT64_MAX >> 8; i++)
		v = v << 8 | num[i];
	*number = i < n || v > INT64_MAX ? INT64_MAX : (int64_t)v;
out:
	if (crl)
		gnutls_x509_crl_deinit(crl);
	gnutls_free(file.data);
}

/*
 * The CRL's number: the store's "crl" counter, moved past the number of
 * the CRL already published (a store restored from a backup would
 * otherwise publish numbers that went back).
 */
static int crl_number(struct mssl__op *op, int64_t *number)
{
	mssl_ctx *ctx = op->ctx;
	int64_t published = 0, steps = 0;
	int rc;

	rc = ctx->sops->counter_next(op->conn, "crl", number);
	if (rc == 0 && ctx->policy.crl_file)
		published_number(ctx, ctx->policy.crl_file, &published);
	if (rc == 0 && *number <= published &&
	    published - *number >= CRL_CATCH_UP_MAX)
		return mssl__error_set(
			op->err, MSSL_ESTATE, "crl.number_behind", "crl_file",
			N_("the CRL published at %s has number %" PRId64 ", far ahead of this store's %" PRId64 ": another CA publishes there, or the store is not the one that published it; check crl_file"),
			ctx->policy.crl_file, published, *number);
	while (rc == 0 && *number <= published && steps++ < CRL_CATCH_UP_MAX)
		rc = ctx->sops->counter_next(op->conn, "crl", number);
	if (rc == 0 && steps > 0)
		mssl__log(ctx, MSSL_LOG_WARNING,
			  "CRL number moved from the store's counter to %" PRId64
			  ", past the %" PRId64 " published at %s",
			  *number, published, ctx->policy.crl_file);
	return rc < 0 ? mssl__op_store_error(op, rc) : 0;
}

/*
 * Build, sign and stage the CRL inside op's open write transaction.
 * *tmp (when crl_file is set) names the staged file to rename after
 * commit.
 */
static int crl_build(struct mssl__op *op, uint8_t **der, size_t *len,
		     char **tmp, int64_t *number_out)
{
	mssl_ctx *ctx = op->ctx;
	const struct mssl_ca_ops *ca;
	struct mssl_crl_tbs tbs;
	struct entries e = { 0 };
	int64_t number = 0, now = mssl__now(ctx);
	int rc;

	*der = NULL;
	*len = 0;
	*tmp = NULL;
	if (!ctx->ca)
		return mssl__error_set(
			op->err, MSSL_ESTATE, "ca.none", NULL,
			N_("no CA is configured: set [mssl] ca in mssl.conf"));
	ca = ctx->ca->p->ops;
	rc = ctx->sops->cert_each(
		op->conn, &(struct mssl_cert_filter){ .state = "revoked" },
		add_entry, &e);
	if (rc < 0) {
		rc = rc == MSSL_ENOMEM ?
			     mssl__error_set(op->err, rc, "nomem", NULL,
					     N_("out of memory")) :
			     mssl__op_store_error(op, rc);
		goto out;
	}
	rc = crl_number(op, &number);
	if (rc < 0)
		goto out;
	*number_out = number;
	memset(&tbs, 0, sizeof(tbs));
	tbs.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	tbs.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	tbs.size = sizeof(tbs);
	tbs.number = (uint64_t)number;
	tbs.this_update = now;
	tbs.next_update = now + (int64_t)ctx->policy.crl_days * DAY;
	tbs.entries = e.v;
	tbs.n_entries = e.n;
	rc = ca->crl(ctx->ca->state, &tbs, der, len);
	if (rc < 0) {
		*der = NULL;
		mssl__plugin_error(ctx, rc, op->err);
		goto out;
	}
	if (ctx->policy.crl_file) {
		*tmp = mssl__asprintf("%s.XXXXXX", ctx->policy.crl_file);
		if (!*tmp) {
			rc = MSSL_ENOMEM;
			goto out;
		}
		rc = write_tmp(*tmp, *der, *len);
		if (rc < 0) {
			rc = mssl__error_set(
				op->err, MSSL_EIO, "crl.write", "crl_file",
				N_("the CRL could not be written to %s: %s"),
				*tmp, strerror(errno));
			free(*tmp);
			*tmp = NULL;
			goto out;
		}
	}
	snprintf(op->detail, sizeof(op->detail),
		 "number=%" PRId64 " entries=%zu next_update=%" PRId64
		 "%s%.180s",
		 number, e.n, tbs.next_update, *tmp ? " file=" : "",
		 *tmp ? ctx->policy.crl_file : "");
out:
	if (rc < 0) {
		free(*der);
		*der = NULL;
		*len = 0;
	}
	free(e.v);
	free(e.serials);
	return rc;
}

/*
 * After commit: the staged file replaces the published one, unless that
 * one's number is as high already (a regeneration that started later
 * published first; it lists all this one does).  The directory is locked
 * meanwhile, so that two publishers compare and rename one at a time,
 * and synced after, so that the rename survives a crash.
 */
static int crl_publish(mssl_ctx *ctx, char *tmp, int64_t number,
		       mssl_error *err)
{
	const char *file = ctx->policy.crl_file, *slash;
	int64_t published = 0;
	char *dir = NULL;
	int dfd = -1, rc = 0;

	if (!tmp)
		return 0;
	slash = strrchr(file, '/');
	dir = slash ? mssl__asprintf("%.*s", (int)(slash - file) + (slash == file),
				     file) :
		      mssl__strdup(".");
	if (dir)
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && flock(dfd, LOCK_EX) < 0) {
		close(dfd);
		dfd = -1;
	}
	if (dfd < 0) {
		rc = mssl__error_set(
			err, MSSL_EIO, "crl.write", "crl_file",
			N_("the CRL could not be written to %s: %s"), file,
			strerror(dir ? errno : ENOMEM));
		unlink(tmp);
		goto out;
	}
	published_number(ctx, file, &published);
	if (published >= number) {
		mssl__log(ctx, MSSL_LOG_INFO,
			  "CRL %" PRId64 " not published: %s holds CRL %" PRId64
			  " already, made after it",
			  number, file, published);
		unlink(tmp);
	} else if (rename(tmp, file) < 0) {
		rc = mssl__error_set(
			err, MSSL_EIO, "crl.write", "crl_file",
			N_("the CRL could not be written to %s: %s"), file,
			strerror(errno));
		unlink(tmp);
	} else
		fsync(dfd);
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(tmp);
	return rc;
}

MSSL_API int mssl_crl_generate(mssl_ctx *ctx, const mssl_actor *actor,
			       uint8_t **der, size_t *len, mssl_error *err)
{
	struct mssl__op op;
	uint8_t *d = NULL;
	size_t n = 0;
	char *tmp = NULL;
	int64_t number = 0;
	int rc;

	if (der)
		*der = NULL;
	if (len)
		*len = 0;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CRL, NULL, NULL, err);
	if (rc < 0)
		return rc;
	rc = crl_build(&op, &d, &n, &tmp, &number);
	rc = mssl__op_end(&op, rc);
	if (rc < 0) {
		if (tmp)
			unlink(tmp);
		free(tmp);
		free(d);
		return rc;
	}
	rc = crl_publish(ctx, tmp, number, err);
	if (rc < 0)
		mssl__log(ctx, MSSL_LOG_ERROR, "%s",
			  mssl_error_message(err, MSSL_LANG_EN));
	if (rc == 0 && der) {
		*der = d;
		d = NULL;
	}
	if (rc == 0 && len)
		*len = n;
	free(d);
	return rc;
}

/*
 * The CRL after a revocation, whoever revoked: no role check of its own
 * (the revocation was authorised), audited as "crl.generate" either way.
 */
static void crl_after_revoke(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *serial)
{
	struct mssl__op op;
	mssl_error *err = mssl_error_new();
	uint8_t *der = NULL;
	size_t len = 0;
	char *tmp = NULL, detail[512];
	const char *outcome = "ok";
	int64_t number = 0;
	int rc;

	memset(&op, 0, sizeof(op));
	op.ctx = ctx;
	op.actor = actor;
	op.err = err;
	rc = mssl__conn_get(ctx, &op.conn, err);
	if (rc == 0 && (rc = ctx->sops->begin(op.conn, MSSL_TXN_WRITE)) < 0)
		mssl__op_store_error(&op, rc);
	if (rc == 0)
		rc = crl_build(&op, &der, &len, &tmp, &number);
	if (rc == 0)
		rc = mssl__audit_append(ctx, op.conn, actor, NULL,
					"crl.generate", serial, "ok", op.detail,
					err);
	if (rc == 0 && (rc = ctx->sops->commit(op.conn)) < 0)
		mssl__op_store_error(&op, rc);
	if (rc < 0 && op.conn)
		ctx->sops->rollback(op.conn);
	if (rc < 0 && tmp)
		unlink(tmp);
	if (rc == 0) {
		rc = crl_publish(ctx, tmp, number, err);
		tmp = NULL;
	}
	if (rc < 0) {
		outcome = "failed";
		snprintf(detail, sizeof(detail), "after revoking %s: %s: %s",
			 serial,
			 mssl_error_id(err)[0] ? mssl_error_id(err) :
						 mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
		mssl__log(ctx, MSSL_LOG_ERROR, "CRL not regenerated %s",
			  detail);
		/* The failure in a transaction of its own. */
		if (op.conn && ctx->sops->begin(op.conn, MSSL_TXN_WRITE) == 0) {
			if (mssl__audit_append(ctx, op.conn, actor, NULL,
					       "crl.generate", serial, outcome,
					       detail, NULL) == 0)
				ctx->sops->commit(op.conn);
			else
				ctx->sops->rollback(op.conn);
		}
	}
	if (op.conn)
		mssl__conn_put(ctx, op.conn);
	free(tmp);
	free(der);
	mssl_error_free(err);
}

/* ---- revocation ------------------------------------------------------------ */

static bool reason_allowed(int reason)
{
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(reasons); i++)
		if (reasons[i].value == reason)
			return true;
	return false;
}

/* Another live certificate of the CN that the revoked one paid for. */
struct rider {
	const char *serial;
	int64_t since;
	char found[41];
};

static int find_rider(void *ud, const struct mssl_cert_rec *r)
{
	struct rider *d = ud;

	if (strcmp(r->serial, d->serial) != 0 && r->years == 0 &&
	    r->created >= d->since) {
		snprintf(d->found, sizeof(d->found), "%s", r->serial);
		return 1;
	}
	return 0;
}

MSSL_API int mssl_cert_revoke(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const char *serial,
			      int reason, mssl_error *err)
{
	const struct mssl_store_ops *so;
	struct victim v = { 0 };
	struct mssl__op op;
	uint8_t spki[32] = { 0 };
	char hex[65], memo[128];
	int64_t now, started = 0;
	int refund = 0, rc;
	bool blocked = false, refundable;
	struct rider rider = { serial, 0, "" };

	return_val_if_fail(serial, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CERT_REVOKE, account_id,
			    serial, err);
	if (rc < 0)
		return rc;
	so = ctx->sops;
	account_id = op.account_id;
	now = mssl__now(ctx);
	if (reason == -1)
		reason = MSSL_REVOKE_UNSPECIFIED;
	if (!reason_allowed(reason)) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "revoke.reason", "reason",
			N_("%d is not a reason a subscriber may give; use unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation"),
			reason);
		goto out;
	}
	rc = so->cert_get(op.conn, serial, got_victim, &v);
	if (rc < 0 && rc != MSSL_ENOENT) {
		rc = rc == MSSL_ENOMEM ? rc : mssl__op_store_error(&op, rc);
		goto out;
	}
	/* Another account's certificate is as good as none. */
	if (rc == MSSL_ENOENT || strcmp(v.account, account_id) != 0) {
		rc = mssl__error_set(
			err, MSSL_ENOENT, "cert.not_found", "serial",
			N_("account %s has no certificate with serial %s"),
			account_id, serial);
		goto out;
	}
	if (strcmp(v.state, "issued") != 0) {
		rc = mssl__error_set(
			err, MSSL_ESTATE, "revoke.state", "serial",
			N_("certificate %s is %s; only an issued certificate can be revoked"),
			serial, v.state);
		goto out;
	}
	rider.since = v.created;
	rc = so->cert_revoke(op.conn, serial, now, reason);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	/*
	 * Newly issued: the cert-years come back and the term ends - unless
	 * a certificate of the CN issued since without charge (a reissue or
	 * a renewal inside the term) still stands on what this one paid:
	 * refunding then would leave that one valid and unpaid.
	 */
	refundable = v.years > 0 &&
		     now - v.created <
			     (int64_t)ctx->policy.refund_window_days * DAY;
	if (refundable) {
		rc = so->cert_each(op.conn,
				   &(struct mssl_cert_filter){
					   .account_id = account_id,
					   .cn = v.cn,
					   .state = "issued" },
				   find_rider, &rider);
		if (rc < 0) {
			rc = mssl__op_store_error(&op, rc);
			goto out;
		}
		rc = 0;
	}
	if (refundable && !rider.found[0]) {
		refund = v.years;
		snprintf(memo, sizeof(memo), "revoked %.40s (%s)", serial,
			 mssl_revoke_reason_name(reason));
		rc = mssl__ledger_post(&op, MSSL_LEDGER_REFUND, refund, memo,
				       serial, NULL);
		if (rc < 0)
			goto out;
		rc = so->term_get(op.conn, account_id, v.cn, got_term,
				  &started);
		if (rc == 0)
			rc = so->term_put(op.conn,
					  &(struct mssl_term_rec){
						  .account_id = account_id,
						  .cn = v.cn,
						  .started = started,
						  .paid_until = now });
		if (rc == MSSL_ENOENT)
			rc = 0;
		if (rc < 0) {
			rc = mssl__op_store_error(&op, rc);
			goto out;
		}
	}
	if (reason == MSSL_REVOKE_KEY_COMPROMISE) {
		struct mssl_blocked_key_rec b = { .added = now,
						  .source = "revocation" };

		rc = v.der ? spki_sha256(v.der, v.der_len, spki) : MSSL_ECRYPTO;
		if (rc < 0) {
			rc = mssl__error_set(
				err, rc, "revoke.key", NULL,
				N_("the key of certificate %s could not be read to block it"),
				serial);
			goto out;
		}
		snprintf(memo, sizeof(memo), "keyCompromise of %.40s", serial);
		memcpy(b.spki_sha256, spki, sizeof(spki));
		b.reason = memo;
		rc = so->blocked_key_insert(op.conn, &b);
		/* Already blocked (by an operator or another certificate). */
		if (rc < 0 && rc != MSSL_EEXIST) {
			rc = mssl__op_store_error(&op, rc);
			goto out;
		}
		blocked = true;
	}
	/* The technical contact hears of it as of the issuance. */
	if (v.tech_email[0]) {
		const struct mssl__notice_line lines[] = {
			{ N_("Common name"), v.cn },
			{ N_("Serial number"), serial },
			{ N_("Reason"), mssl_revoke_reason_name(reason) },
		};

		rc = mssl__notice_queue(ctx, op.conn, v.tech_email, serial,
					v.cn, N_("certificate revoked"),
					N_("Your SSL certificate has been revoked."),
					lines, MSSL_ARRAY_SIZE(lines), NULL);
		if (rc == MSSL_ENOMEM)
			mssl__error_set(err, rc, "nomem", NULL,
					N_("out of memory"));
		else if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
		if (rc < 0)
			goto out;
	}
	mssl__hex(spki, sizeof(spki), hex);
	snprintf(op.detail, sizeof(op.detail),
		 "cn=%.120s reason=%s refund=%d%s%s%s%s", v.cn,
		 mssl_revoke_reason_name(reason), refund,
		 rider.found[0] ? " no_refund_paid_for=" : "", rider.found,
		 blocked ? " blocked_key=" : "", blocked ? hex : "");
out:
	free(v.der);
	rc = mssl__op_end(&op, rc);
	if (rc == 0 && ctx->policy.crl_file)
		crl_after_revoke(ctx, actor, serial);
	return rc;
}
