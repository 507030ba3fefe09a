/*
 * Login (DESIGN.md "Login"): a single-use challenge, a signature by the
 * card over a canonical blob, and sessions kept only as hashes.
 *
 * Every failed login is audited with its real reason; the caller gets one
 * answer for all of them, so probing cannot tell a wrong account from an
 * unknown card.  Failures are counted per account and per card, and past
 * [login] max_failures_* within throttle_window_s further attempts are
 * refused before any check: the card's own PIN counter is the first
 * line, this the second.
 */
#include "login.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOGIN_LABEL "mssl-login"
#define LOGIN_VERSION 1
#define TOKEN_BYTES 32
#define MAX_EXPORTER 64
#define SECRET_MIN 32
#define SECRET_MAX 4096
/* A session's last_seen is written at most this often. */
#define TOUCH_EVERY_S 30

/*
 * The stateless challenge (MSSL_NONCE_LEN = 32 bytes):
 *
 *	[0]	 version, CHALLENGE_V1
 *	[1..8]	 random
 *	[9..13]	 expiry, seconds, 40-bit big-endian
 *	[14..19] server tag: HMAC(K, label || [0..13]), first 6 bytes
 *	[20..31] account tag: HMAC(K, label || [0..19] || account), first 12
 *
 * K is the challenge key (challenge_key()).  Only the account tag makes a
 * nonce acceptable (96 bits to guess, online and throttled); the server
 * tag only lets the audit record tell a nonce made for another account
 * from one that is forged, altered or made under another key.
 */
#define CHALLENGE_V1 1
#define CH_RANDOM 1
#define CH_EXPIRES 9
#define CH_SERVER_TAG 14
#define CH_ACCOUNT_TAG 20
#define CH_SERVER_TAG_LEN 6
#define CH_ACCOUNT_TAG_LEN 12
#define CHALLENGE_KEY_LABEL "mssl-login-challenge-key-v1:"
#define CHALLENGE_MAC_LABEL "mssl-login-challenge-v1"
/*
 * A consumed nonce is kept this long past its expiry before the purge may
 * drop it, so that a process whose clock is a little behind the purging
 * one still finds it (it refuses the nonce by time once the row is gone).
 */
#define CONSUMED_KEEP_S 300

/* The card key cache: KEY_SETS x KEY_WAYS public keys at most. */
#define KEY_SETS 256
#define KEY_WAYS 4

/*
 * A card's public key, parsed from its certificate once the certificate
 * was checked against the card CA.  pub NULL: a free slot.
 */
struct key_entry {
	uint8_t cert_hash[32];
	gnutls_pubkey_t pub;
	int64_t not_before, not_after;
	uint64_t used; /* LRU tick */
};

/*
 * What a context keeps for logins between calls, under 'lock'.  A key in
 * use is taken out of the table (its slot emptied) and put back after,
 * so no two threads ever use one gnutls_pubkey_t at the same time;
 * another login with the same card meanwhile parses its own copy.
 */
struct mssl__login_state {
	pthread_mutex_t lock;
	bool have_key;
	uint8_t challenge_key[32];
	uint64_t tick;
	struct key_entry keys[KEY_SETS][KEY_WAYS];
};

int mssl__sha256(const void *data, size_t n, uint8_t out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, out) < 0 ?
		       MSSL_ECRYPTO :
		       0;
}

/* ---- configuration ------------------------------------------------------ */

static const char *const login_keys[] = {
	"origin", "challenge_ttl_s", "clock_skew_s", "session_idle_s",
	"session_max_s", "max_failures_card", "max_failures_account",
	"throttle_window_s", NULL,
};

static const char *const cards_keys[] = {
	"ca_cert", "ca_key", "master_secret_file", "cert_days", "unlock_ttl_s",
	NULL,
};

static void state_free(struct mssl__login_state *st)
{
	size_t i, j;

	if (!st)
		return;
	for (i = 0; i < KEY_SETS; i++)
		for (j = 0; j < KEY_WAYS; j++)
			if (st->keys[i][j].pub)
				gnutls_pubkey_deinit(st->keys[i][j].pub);
	gnutls_memset(st->challenge_key, 0, sizeof(st->challenge_key));
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void mssl__login_config_free(mssl_ctx *ctx)
{
	state_free(ctx->login.state);
	free(ctx->login.origin);
	memset(&ctx->login, 0, sizeof(ctx->login));
	free(ctx->cards.ca_cert_file);
	free(ctx->cards.ca_key);
	free(ctx->cards.master_secret_file);
	if (ctx->cards.ca_crt)
		gnutls_x509_crt_deinit(ctx->cards.ca_crt);
	memset(&ctx->cards, 0, sizeof(ctx->cards));
}

static int dup_opt(const struct mssl__config *cfg, const char *section,
		   const char *key, char **out)
{
	const char *v = mssl__config_get(cfg, section, key);

	*out = NULL;
	if (!v || !*v)
		return 0;
	return (*out = strdup(v)) ? 0 : MSSL_ENOMEM;
}

/* "https://host[:port]" with nothing after: what the card signs. */
static bool origin_ok(const char *o)
{
	const char *h;

	if (strncmp(o, "https://", 8) == 0)
		h = o + 8;
	else if (strncmp(o, "http://", 7) == 0)
		h = o + 7;
	else
		return false;
	if (!*h || strlen(o) > 255)
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') ||
		      *h == '-' || *h == '.' || *h == ':' || *h == '[' ||
		      *h == ']'))
			return false;
	return true;
}

static int load_card_ca(mssl_ctx *ctx, mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	unsigned int ca = 0;
	int r;

	r = gnutls_load_file(ctx->cards.ca_cert_file, &d);
	if (r < 0)
		return mssl__config_error(ctx->cfg, err, "cards", "ca_cert",
					  "config.file",
					  N_("\"%s\" cannot be read"),
					  ctx->cards.ca_cert_file);
	if ((r = gnutls_x509_crt_init(&crt)) == 0)
		r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	if (r == 0 && gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca,
							    NULL) < 0)
		ca = 0;
	if (r < 0 || !ca) {
		if (crt)
			gnutls_x509_crt_deinit(crt);
		return mssl__config_error(ctx->cfg, err, "cards", "ca_cert",
					  "cards.ca_cert",
					  N_("\"%s\" is not a PEM CA certificate"),
					  ctx->cards.ca_cert_file);
	}
	ctx->cards.ca_crt = crt;
	return 0;
}

int mssl__login_config(mssl_ctx *ctx, mssl_error *err)
{
	const struct mssl__config *cfg = ctx->cfg;
	struct mssl__login_conf *l = &ctx->login;
	struct mssl__cards_conf *c = &ctx->cards;
	int rc;

	mssl__login_config_free(ctx);
	if (!(l->state = calloc(1, sizeof(*l->state))))
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	pthread_mutex_init(&l->state->lock, NULL);
	if ((rc = mssl__config_check_keys(cfg, "login", login_keys, err)) < 0 ||
	    (rc = mssl__config_check_keys(cfg, "cards", cards_keys, err)) < 0)
		return rc;
	if ((rc = mssl__config_int(cfg, "login", "challenge_ttl_s", 10, 3600,
				   120, &l->challenge_ttl_s, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "clock_skew_s", 0, 3600, 300,
				   &l->clock_skew_s, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "session_idle_s", 60, 86400,
				   900, &l->session_idle_s, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "session_max_s", 300,
				   7 * 86400, 8 * 3600, &l->session_max_s,
				   err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "max_failures_card", 1, 1000,
				   5, &l->max_failures_card, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "max_failures_account", 1,
				   100000, 20, &l->max_failures_account,
				   err)) < 0 ||
	    (rc = mssl__config_int(cfg, "login", "throttle_window_s", 1,
				   86400, 900, &l->throttle_window_s, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "cards", "cert_days", 1, 3650, 1825,
				   &c->cert_days, err)) < 0 ||
	    (rc = mssl__config_int(cfg, "cards", "unlock_ttl_s", 300,
				   30 * 86400, 86400, &c->unlock_ttl_s,
				   err)) < 0)
		return rc;
	if (dup_opt(cfg, "login", "origin", &l->origin) < 0 ||
	    dup_opt(cfg, "cards", "ca_cert", &c->ca_cert_file) < 0 ||
	    dup_opt(cfg, "cards", "ca_key", &c->ca_key) < 0 ||
	    dup_opt(cfg, "cards", "master_secret_file",
		    &c->master_secret_file) < 0)
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	if (l->origin && !origin_ok(l->origin))
		return mssl__config_error(cfg, err, "login", "origin",
					  "config.origin",
					  N_("\"%s\" is not an origin like https://mssl.example.com (lower case, no path)"),
					  l->origin);
	if (l->session_idle_s > l->session_max_s)
		return mssl__config_error(cfg, err, "login", "session_idle_s",
					  "config.range",
					  N_("session_idle_s may not exceed session_max_s"));
	if (c->ca_key && !c->ca_cert_file)
		return mssl__config_error(cfg, err, "cards", "ca_key",
					  "config.requires",
					  N_("ca_key needs ca_cert too"));
	if (c->ca_cert_file)
		return load_card_ca(ctx, err);
	return 0;
}

int mssl__cards_hmac(mssl_ctx *ctx, const char *label, const char *data,
		     uint8_t out[32], mssl_error *err)
{
	const char *path = ctx->cards.master_secret_file;
	uint8_t secret[SECRET_MAX];
	gnutls_hmac_hd_t h = NULL;
	struct stat st;
	ssize_t n;
	int fd, r;

	if (!path)
		return mssl__error_set(err, MSSL_ECONFIG, "cards.no_secret",
				       "cards.master_secret_file",
				       N_("no master secret is configured: set master_secret_file in [cards]"));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return mssl__error_set(err, MSSL_ECONFIG, "cards.secret",
				       "cards.master_secret_file",
				       N_("the master secret %s cannot be read: %s"),
				       path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077)) {
		close(fd);
		return mssl__error_set(err, MSSL_ECONFIG, "cards.secret_mode",
				       "cards.master_secret_file",
				       N_("the master secret %s must be a file readable by its owner only (chmod 600)"),
				       path);
	}
	n = read(fd, secret, sizeof(secret));
	close(fd);
	if (n < SECRET_MIN) {
		gnutls_memset(secret, 0, sizeof(secret));
		return mssl__error_set(err, MSSL_ECONFIG, "cards.secret_short",
				       "cards.master_secret_file",
				       N_("the master secret %s must hold at least %d bytes (e.g. head -c 64 /dev/urandom)"),
				       path, SECRET_MIN);
	}
	r = gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, secret, (size_t)n);
	if (r == 0)
		r = gnutls_hmac(h, label, strlen(label));
	if (r == 0)
		r = gnutls_hmac(h, data, strlen(data));
	if (h)
		gnutls_hmac_deinit(h, r == 0 ? out : NULL);
	gnutls_memset(secret, 0, sizeof(secret));
	if (r < 0)
		return mssl__error_set(err, MSSL_ECRYPTO, "crypto.hmac", NULL,
				       N_("HMAC failed: %s"), gnutls_strerror(r));
	return 0;
}

/* ---- the signed blob ---------------------------------------------------- */

static uint8_t *put_field(uint8_t *p, const void *v, size_t n)
{
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (n)
		memcpy(p + 4, v, n);
	return p + 4 + n;
}

MSSL_API int mssl_login_blob(const struct mssl_login_proof *p,
			     uint8_t **blob, size_t *len)
{
	uint8_t ver[4] = { 0, 0, 0, LOGIN_VERSION }, t[8], h[32], *b, *q;
	size_t n, i;

	return_val_if_fail(blob && len, MSSL_EINVAL);
	*blob = NULL;
	*len = 0;
	if (!p || !p->origin || !p->account_id || !p->nonce || !p->cert ||
	    !p->cert_len || p->tls_exporter_len > MAX_EXPORTER ||
	    (p->tls_exporter_len && !p->tls_exporter))
		return MSSL_EINVAL;
	for (i = 0; i < 8; i++)
		t[i] = (uint8_t)((uint64_t)p->time >> (56 - 8 * i));
	if (mssl__sha256(p->cert, p->cert_len, h) < 0)
		return MSSL_ECRYPTO;
	n = 8 * 4 + strlen(LOGIN_LABEL) + sizeof(ver) + strlen(p->origin) +
	    strlen(p->account_id) + MSSL_NONCE_LEN + sizeof(t) + sizeof(h) +
	    p->tls_exporter_len;
	b = malloc(n);
	if (!b)
		return MSSL_ENOMEM;
	q = put_field(b, LOGIN_LABEL, strlen(LOGIN_LABEL));
	q = put_field(q, ver, sizeof(ver));
	q = put_field(q, p->origin, strlen(p->origin));
	q = put_field(q, p->account_id, strlen(p->account_id));
	q = put_field(q, p->nonce, MSSL_NONCE_LEN);
	q = put_field(q, t, sizeof(t));
	q = put_field(q, h, sizeof(h));
	put_field(q, p->tls_exporter, p->tls_exporter_len);
	*blob = b;
	*len = n;
	return 0;
}

/* ---- challenges --------------------------------------------------------- */

/*
 * The key of the challenges' HMACs: with [cards] master_secret_file,
 * HMAC(master secret, CHALLENGE_KEY_LABEL), so that every process on the
 * same store (and configuration) accepts the others' challenges; without
 * it, random and this context's own.  Made at the first use and kept
 * (the master secret itself is read, used and wiped as always).
 */
static int challenge_key(mssl_ctx *ctx, uint8_t key[32], mssl_error *err)
{
	struct mssl__login_state *st = ctx->login.state;
	uint8_t k[32];
	bool have;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if ((have = st->have_key))
		memcpy(key, st->challenge_key, 32);
	pthread_mutex_unlock(&st->lock);
	if (have)
		return 0;
	/* Read outside the lock: two first callers derive the same key. */
	if (ctx->cards.master_secret_file)
		rc = mssl__cards_hmac(ctx, CHALLENGE_KEY_LABEL, "", k, err);
	else if (gnutls_rnd(GNUTLS_RND_KEY, k, sizeof(k)) < 0)
		rc = mssl__error_set(err, MSSL_ECRYPTO, "crypto.random", NULL,
				     N_("no random numbers"));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	if (!st->have_key) {
		memcpy(st->challenge_key, k, 32);
		st->have_key = true;
	}
	memcpy(key, st->challenge_key, 32);
	pthread_mutex_unlock(&st->lock);
	gnutls_memset(k, 0, sizeof(k));
	return 0;
}

/*
 * The two tags of a challenge whose first CH_SERVER_TAG bytes are set:
 * server (CH_SERVER_TAG_LEN bytes) and account (CH_ACCOUNT_TAG_LEN).  An
 * account ID longer than any valid one gets no account tag
 * (MSSL_EINVAL; the server tag is made all the same).
 */
static int challenge_tags(const uint8_t key[32], const uint8_t *nonce,
			  const char *account_id,
			  uint8_t server[CH_SERVER_TAG_LEN],
			  uint8_t account[CH_ACCOUNT_TAG_LEN])
{
	static const char label[] = CHALLENGE_MAC_LABEL;
	const size_t ll = sizeof(label) - 1;
	uint8_t buf[sizeof(label) + CH_ACCOUNT_TAG + 4 + 64], mac[32];
	size_t n = strlen(account_id);
	int rc = 0;

	/* HMAC(K, label || nonce[0..13]) */
	memcpy(buf, label, ll);
	memcpy(buf + ll, nonce, CH_SERVER_TAG);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, 32, buf,
			     ll + CH_SERVER_TAG, mac) < 0)
		return MSSL_ECRYPTO;
	memcpy(server, mac, CH_SERVER_TAG_LEN);
	if (n > 64)
		return MSSL_EINVAL;
	/* HMAC(K, label || nonce[0..13] || server tag || F(account)) */
	memcpy(buf + ll + CH_SERVER_TAG, server, CH_SERVER_TAG_LEN);
	buf[ll + CH_ACCOUNT_TAG] = buf[ll + CH_ACCOUNT_TAG + 1] =
		buf[ll + CH_ACCOUNT_TAG + 2] = 0;
	buf[ll + CH_ACCOUNT_TAG + 3] = (uint8_t)n;
	memcpy(buf + ll + CH_ACCOUNT_TAG + 4, account_id, n);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, 32, buf,
			     ll + CH_ACCOUNT_TAG + 4 + n, mac) < 0)
		rc = MSSL_ECRYPTO;
	else
		memcpy(account, mac, CH_ACCOUNT_TAG_LEN);
	gnutls_memset(mac, 0, sizeof(mac));
	return rc;
}

MSSL_API int mssl_login_challenge(mssl_ctx *ctx, const char *account_id,
				  const char *remote,
				  uint8_t nonce[MSSL_NONCE_LEN],
				  int64_t *expires, mssl_error *err)
{
	uint8_t key[32];
	int64_t exp;
	int i, rc;

	return_val_if_fail(ctx && nonce, MSSL_EINVAL);
	(void)remote;
	if (!ctx->open)
		return mssl__error_set(err, MSSL_ESTATE, "ctx.not_open", NULL,
				       N_("the library context is not open"));
	if (!mssl__store_has_cards(ctx))
		return mssl__error_set(err, MSSL_ECONFIG, "store.too_old", NULL,
				       N_("the store plugin is too old for persons, cards and logins (it needs plugin ABI 1.2)"));
	/* Only the shape: whether the account exists is not told. */
	if (mssl_account_id_check(account_id, err) < 0)
		return MSSL_EINPUT;
	if ((rc = challenge_key(ctx, key, err)) < 0)
		return rc;
	exp = mssl__now(ctx) + ctx->login.challenge_ttl_s;
	nonce[0] = CHALLENGE_V1;
	if (gnutls_rnd(GNUTLS_RND_NONCE, nonce + CH_RANDOM,
		       CH_EXPIRES - CH_RANDOM) < 0) {
		rc = mssl__error_set(err, MSSL_ECRYPTO, "crypto.random", NULL,
				     N_("no random numbers"));
		goto out;
	}
	for (i = 0; i < 5; i++)
		nonce[CH_EXPIRES + i] = (uint8_t)((uint64_t)exp >> (32 - 8 * i));
	if (challenge_tags(key, nonce, account_id, nonce + CH_SERVER_TAG,
			   nonce + CH_ACCOUNT_TAG) < 0) {
		rc = mssl__error_set(err, MSSL_ECRYPTO, "crypto.hmac", NULL,
				     N_("HMAC failed: %s"), "challenge");
		goto out;
	}
	if (expires)
		*expires = exp;
out:
	gnutls_memset(key, 0, sizeof(key));
	return rc;
}

/* ---- verifying a proof -------------------------------------------------- */

struct proof_ctx {
	struct mssl__op *op;
	const struct mssl_login_proof *p;
	uint8_t cert_hash[32];
	char card_key[80]; /* "card:<hex>" */
	char account_key[80];
	int64_t card_failures; /* within the window, as throttled() counted */
	/* Filled as the checks go. */
	struct mssl__card_copy card;
	struct mssl__person_copy person;
};

static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int taken_cb(void *ud, const struct mssl_challenge_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

/*
 * The challenge of the proof: made with our key for this account,
 * unexpired, and not used before.  It is then recorded as used in op's
 * transaction (a consumed challenge: the store's challenge_insert, whose
 * unique nonce hash makes a second use fail, and challenge_take marking
 * the row used), so it stays consumed whatever the other checks say.
 */
static int challenge_use(struct proof_ctx *v)
{
	struct mssl__op *op = v->op;
	mssl_ctx *ctx = op->ctx;
	const struct mssl_login_proof *p = v->p;
	const struct mssl_store_ops *so = ctx->sops;
	struct mssl_challenge_rec r;
	uint8_t key[32], st[CH_SERVER_TAG_LEN], at[CH_ACCOUNT_TAG_LEN];
	int64_t now = mssl__now(ctx), exp = 0;
	bool server_ok = false, account_ok = false;
	int i, rc;

	if ((rc = challenge_key(ctx, key, op->err)) < 0)
		return rc;
	if (p->nonce[0] == CHALLENGE_V1) {
		rc = challenge_tags(key, p->nonce, p->account_id, st, at);
		if (rc == MSSL_ECRYPTO) {
			gnutls_memset(key, 0, sizeof(key));
			return mssl__error_set(op->err, MSSL_ECRYPTO,
					       "crypto.hmac", NULL,
					       N_("HMAC failed: %s"),
					       "challenge");
		}
		server_ok = same_bytes(st, p->nonce + CH_SERVER_TAG,
				       CH_SERVER_TAG_LEN);
		account_ok = rc == 0 && server_ok &&
			     same_bytes(at, p->nonce + CH_ACCOUNT_TAG,
					CH_ACCOUNT_TAG_LEN);
	}
	gnutls_memset(key, 0, sizeof(key));
	if (!server_ok)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.nonce_forged",
				       NULL,
				       N_("the challenge was not made by this server: altered, forged, or made under another master secret"));
	if (!account_ok)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.nonce_account",
				       NULL,
				       N_("the challenge was issued for another account than %s"),
				       p->account_id);
	for (i = 0; i < 5; i++)
		exp = (exp << 8) | p->nonce[CH_EXPIRES + i];
	if (exp < now)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.nonce_expired",
				       NULL, N_("the challenge has expired"));
	memset(&r, 0, sizeof(r));
	mssl__sha256(p->nonce, MSSL_NONCE_LEN, r.nonce_hash);
	r.account_id = p->account_id;
	r.created = now;
	r.expires = exp + CONSUMED_KEEP_S;
	rc = so->challenge_insert(op->conn, &r);
	if (rc == 0)
		rc = so->challenge_take(op->conn, r.nonce_hash, taken_cb, NULL);
	if (rc == MSSL_EEXIST)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.nonce", NULL,
				       N_("the challenge was used already"));
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	return 0;
}

/* A certificate of the proof, parsed; MSSL_EPERM auth.cert. */
static int cert_parse(const struct mssl_login_proof *p, gnutls_x509_crt_t *crt,
		      mssl_error *err)
{
	gnutls_datum_t d = { (unsigned char *)p->cert, (unsigned)p->cert_len };

	*crt = NULL;
	if (gnutls_x509_crt_init(crt) < 0 ||
	    gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		if (*crt)
			gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		return mssl__error_set(err, MSSL_EPERM, "auth.cert", NULL,
				       N_("the card certificate cannot be read"));
	}
	return 0;
}

/* The card certificate: from our card CA (its dates are checked apart). */
static int cert_from_card_ca(mssl_ctx *ctx, gnutls_x509_crt_t crt,
			     mssl_error *err)
{
	gnutls_x509_crt_t ca = ctx->cards.ca_crt;
	unsigned int status = 0;

	if (gnutls_x509_crt_verify(crt, &ca, 1,
				   GNUTLS_VERIFY_DISABLE_TIME_CHECKS,
				   &status) < 0 ||
	    status != 0)
		return mssl__error_set(err, MSSL_EPERM, "auth.card_ca", NULL,
				       N_("the card certificate was not issued by the card CA"));
	return 0;
}

/*
 * Why a certificate is not registered, for the audit record: not ours
 * at all (auth.card_ca), or ours but unknown to the store.
 */
static int unregistered(mssl_ctx *ctx, const struct mssl_login_proof *p,
			mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	int rc;

	if ((rc = cert_parse(p, &crt, err)) == 0 &&
	    (rc = cert_from_card_ca(ctx, crt, err)) == 0)
		rc = mssl__error_set(err, MSSL_EPERM, "auth.card_unknown",
				     NULL,
				     N_("the card certificate is not registered"));
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

/*
 * The card key cache.  Cards are registered only with a certificate the
 * card CA made (mssl_card_certify, which checks it against ca_cert), and
 * a login finds its card by the certificate's SHA-256, so the chain is
 * checked once per certificate and context, when its key enters the
 * cache, not at every login; the card's state, person and account are
 * read from the store at every login all the same.  Bounded: a set of
 * KEY_WAYS per first byte of the hash, the least recently used goes.
 */
static bool key_take(mssl_ctx *ctx, const uint8_t hash[32],
		     struct key_entry *out)
{
	struct mssl__login_state *st = ctx->login.state;
	struct key_entry *set = st->keys[hash[0] % KEY_SETS];
	bool found = false;
	size_t i;

	pthread_mutex_lock(&st->lock);
	for (i = 0; i < KEY_WAYS && !found; i++)
		if (set[i].pub && memcmp(set[i].cert_hash, hash, 32) == 0) {
			*out = set[i];
			set[i].pub = NULL;
			found = true;
		}
	pthread_mutex_unlock(&st->lock);
	return found;
}

/* Back into the cache; e->pub is the cache's (or freed) after. */
static void key_put(mssl_ctx *ctx, struct key_entry *e)
{
	struct mssl__login_state *st = ctx->login.state;
	struct key_entry *set = st->keys[e->cert_hash[0] % KEY_SETS], *slot;
	gnutls_pubkey_t drop = NULL;
	size_t i;

	pthread_mutex_lock(&st->lock);
	slot = &set[0];
	for (i = 0; i < KEY_WAYS; i++) {
		if (set[i].pub &&
		    memcmp(set[i].cert_hash, e->cert_hash, 32) == 0) {
			/* Another login put the same key back first. */
			slot = NULL;
			break;
		}
		if (!set[i].pub || (slot->pub && set[i].used < slot->used))
			slot = &set[i];
	}
	if (slot) {
		drop = slot->pub;
		*slot = *e;
		slot->used = ++st->tick;
	} else {
		drop = e->pub;
	}
	pthread_mutex_unlock(&st->lock);
	e->pub = NULL;
	if (drop)
		gnutls_pubkey_deinit(drop);
}

/* A key not in the cache: certificate from the card CA, its dates, key. */
static int key_load(mssl_ctx *ctx, const struct proof_ctx *v,
		    struct key_entry *e, mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	memcpy(e->cert_hash, v->cert_hash, 32);
	if ((rc = cert_parse(v->p, &crt, err)) < 0 ||
	    (rc = cert_from_card_ca(ctx, crt, err)) < 0)
		goto out;
	e->not_before = gnutls_x509_crt_get_activation_time(crt);
	e->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (gnutls_pubkey_init(&e->pub) < 0 ||
	    gnutls_pubkey_import_x509(e->pub, crt, 0) < 0) {
		if (e->pub)
			gnutls_pubkey_deinit(e->pub);
		e->pub = NULL;
		rc = mssl__error_set(err, MSSL_EPERM, "auth.cert", NULL,
				     N_("the card certificate cannot be read"));
	}
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static bool sig_alg_allowed(int alg)
{
	switch (alg) {
	case GNUTLS_SIGN_ECDSA_SHA256:
	case GNUTLS_SIGN_ECDSA_SHA384:
	case GNUTLS_SIGN_RSA_SHA256:
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256:
		return true;
	default:
		return false;
	}
}

/* The card certificate in its dates and the signature by its key. */
static int verify_sig(struct proof_ctx *v)
{
	mssl_ctx *ctx = v->op->ctx;
	mssl_error *err = v->op->err;
	const struct mssl_login_proof *p = v->p;
	struct key_entry e;
	int64_t now = mssl__now(ctx);
	uint8_t *blob = NULL;
	size_t len = 0;
	gnutls_datum_t b, s;
	int rc, r;

	if (!key_take(ctx, v->cert_hash, &e) &&
	    (rc = key_load(ctx, v, &e, err)) < 0)
		return rc;
	if (e.not_before > now || e.not_after < now) {
		rc = mssl__error_set(err, MSSL_EPERM, "auth.card_expired", NULL,
				     N_("the card certificate is not valid at this time"));
		goto out;
	}
	if (!sig_alg_allowed(p->sig_alg)) {
		rc = mssl__error_set(err, MSSL_EPERM, "auth.sig_alg", NULL,
				     N_("signature algorithm %d is not accepted"),
				     p->sig_alg);
		goto out;
	}
	if (mssl_login_blob(p, &blob, &len) < 0) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	b.data = blob;
	b.size = (unsigned)len;
	s.data = (unsigned char *)p->sig;
	s.size = (unsigned)p->sig_len;
	r = gnutls_pubkey_verify_data2(e.pub, (gnutls_sign_algorithm_t)p->sig_alg,
				       0, &b, &s);
	free(blob);
	rc = r < 0 ? mssl__error_set(err, MSSL_EPERM, "auth.signature", NULL,
				     N_("the signature does not verify with the card's key")) :
		     0;
out:
	/* The key stays good whatever this proof was worth. */
	key_put(ctx, &e);
	return rc;
}

/*
 * Every check of a login proof, in the open transaction of v->op; the
 * challenge is consumed whatever follows.  Fills v's card and person.
 */
static int verify_proof(struct proof_ctx *v)
{
	struct mssl__op *op = v->op;
	mssl_ctx *ctx = op->ctx;
	const struct mssl_login_proof *p = v->p;
	const struct mssl_store_ops *so = ctx->sops;
	int64_t now = mssl__now(ctx), skew;
	int rc;

	if ((rc = challenge_use(v)) < 0)
		return rc;
	if (!ctx->login.origin)
		return mssl__error_set(op->err, MSSL_ECONFIG, "login.no_origin",
				       "login.origin",
				       N_("logins need [login] origin in the configuration"));
	if (strcmp(p->origin, ctx->login.origin) != 0)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.origin", NULL,
				       N_("the signature is for origin %s, not %s"),
				       p->origin, ctx->login.origin);
	skew = p->time - now;
	if (skew > ctx->login.clock_skew_s || -skew > ctx->login.clock_skew_s)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.clock", NULL,
				       N_("the client's time is %" PRId64 " s off"),
				       skew);
	if (!ctx->cards.ca_crt)
		return mssl__error_set(op->err, MSSL_ECONFIG, "cards.no_ca",
				       "cards.ca_cert",
				       N_("logins need the card CA: set ca_cert in [cards]"));
	rc = so->card_by_cert(op->conn, v->cert_hash, mssl__card_copy_cb, &v->card);
	if (rc == MSSL_ENOENT)
		return unregistered(ctx, p, op->err);
	if (rc == 0)
		rc = so->person_get(op->conn, v->card.r.person_id, mssl__person_copy_cb, &v->person);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	if (strcmp(v->person.r.account_id, p->account_id) != 0)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.card_account",
				       NULL,
				       N_("the card belongs to account %s"),
				       v->person.r.account_id);
	if (strcmp(v->person.r.status, "active") != 0)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.person",
				       NULL, N_("person %" PRId64 " is %s"),
				       v->person.r.id, v->person.r.status);
	if (!mssl__card_usable(v->card.r.state))
		return mssl__error_set(op->err, MSSL_EPERM, "auth.card_state",
				       NULL, N_("card %" PRId64 " is %s"),
				       v->card.r.id, v->card.r.state);
	rc = so->account_get(op->conn, p->account_id, mssl__op_copy_account,
			     op);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	if (op->account.status != MSSL_ACCOUNT_ACTIVE)
		return mssl__error_set(op->err, MSSL_EPERM, "auth.account",
				       NULL, N_("account %s is suspended"),
				       p->account_id);
	return verify_sig(v);
}

static bool proof_complete(const struct mssl_login_proof *p)
{
	return p && !mssl__str_empty(p->origin) &&
	       !mssl__str_empty(p->account_id) && p->nonce && p->cert &&
	       p->cert_len && p->cert_len < 16384 && p->sig && p->sig_len &&
	       p->sig_len < 4096 && p->tls_exporter_len <= MAX_EXPORTER &&
	       (!p->tls_exporter_len || p->tls_exporter);
}

static void proof_keys(struct proof_ctx *v)
{
	char hex[65];

	mssl__sha256(v->p->cert, v->p->cert_len, v->cert_hash);
	mssl__hex(v->cert_hash, 32, hex);
	snprintf(v->card_key, sizeof(v->card_key), "card:%s", hex);
	snprintf(v->account_key, sizeof(v->account_key), "account:%.64s",
		 v->p->account_id);
}

/* Past the failure limits?  MSSL_ESTATE auth.throttled. */
static int throttled(struct proof_ctx *v)
{
	struct mssl__op *op = v->op;
	mssl_ctx *ctx = op->ctx;
	int64_t since = mssl__now(ctx) - ctx->login.throttle_window_s;
	int64_t na = 0, nc = 0;
	int rc;

	rc = ctx->sops->login_failure_count(op->conn, v->account_key, since,
					    &na);
	if (rc == 0)
		rc = ctx->sops->login_failure_count(op->conn, v->card_key,
						    since, &nc);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	v->card_failures = nc;
	if (na < ctx->login.max_failures_account &&
	    nc < ctx->login.max_failures_card)
		return 0;
	return mssl__error_set(op->err, MSSL_ESTATE, "auth.throttled", NULL,
			       N_("too many failed logins: try again in %d minutes"),
			       (ctx->login.throttle_window_s + 59) / 60);
}

/*
 * A failed proof: count it, keep the consumed challenge, audit the real
 * reason, and tell the caller only that the login failed.
 */
static int proof_failed(struct proof_ctx *v, int rc)
{
	struct mssl__op *op = v->op;
	mssl_ctx *ctx = op->ctx;
	mssl_error *err = op->err;
	int64_t now = mssl__now(ctx);

	if (rc != MSSL_EPERM) /* our own trouble: not the client's fault */
		return mssl__op_end(op, rc);
	if (ctx->sops->login_failure_add(op->conn, v->account_key, now) < 0 ||
	    ctx->sops->login_failure_add(op->conn, v->card_key, now) < 0)
		mssl__op_end(op, rc);
	else
		mssl__op_end_refused(op, rc);
	return mssl__error_set(err, MSSL_EPERM, "auth.login_failed", NULL,
			       N_("the login failed: check the account ID and the card, then try again with a new challenge"));
}

static int hex_token(uint8_t raw[TOKEN_BYTES], char **token,
		     uint8_t hash[32])
{
	char hex[2 * TOKEN_BYTES + 1];

	if (gnutls_rnd(GNUTLS_RND_KEY, raw, TOKEN_BYTES) < 0)
		return MSSL_ECRYPTO;
	mssl__hex(raw, TOKEN_BYTES, hex);
	gnutls_memset(raw, 0, TOKEN_BYTES);
	mssl__sha256(hex, strlen(hex), hash);
	*token = strdup(hex);
	gnutls_memset(hex, 0, sizeof(hex));
	return *token ? 0 : MSSL_ENOMEM;
}

MSSL_API void mssl_session_info_free(mssl_session_info *s)
{
	if (!s)
		return;
	if (s->token) {
		gnutls_memset(s->token, 0, strlen(s->token));
		free(s->token);
	}
	free(s->account_id);
	free(s->person_name);
	free(s);
}

static mssl_session_info *session_info(const struct mssl_session_rec *r,
				       const char *account_id,
				       const char *person_name,
				       const char *role, int idle_s)
{
	mssl_session_info *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->account_id = strdup(account_id);
	s->person_name = strdup(person_name);
	s->person_id = r->person_id;
	s->card_id = r->card_id;
	s->role = mssl__role_of(role);
	s->pin_change_only = r->pin_change_only;
	s->created = r->created;
	s->expires = r->expires;
	s->idle_expires = r->last_seen + idle_s < r->expires ?
				  r->last_seen + idle_s :
				  r->expires;
	if (!s->account_id || !s->person_name) {
		mssl_session_info_free(s);
		return NULL;
	}
	return s;
}

MSSL_API int mssl_login(mssl_ctx *ctx, const struct mssl_login_proof *p,
			const char *remote, mssl_session_info **out,
			mssl_error *err)
{
	struct mssl__op op;
	struct proof_ctx *v = NULL;
	struct mssl_session_rec s;
	mssl_session_info *info = NULL;
	mssl_actor *anon = NULL;
	uint8_t raw[TOKEN_BYTES];
	char *token = NULL;
	int rc;

	return_val_if_fail(ctx && out, MSSL_EINVAL);
	*out = NULL;
	if (!proof_complete(p))
		return mssl__error_set(err, MSSL_EINPUT, "auth.proof", NULL,
				       N_("a login needs the origin, account ID, challenge, card certificate and signature"));
	anon = mssl__actor_anonymous(p->account_id, remote);
	v = calloc(1, sizeof(*v));
	if (!anon || !v) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto done;
	}
	v->p = p;
	v->op = &op;
	proof_keys(v);
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_LOGIN, p->account_id,
			    v->card_key + 5, err);
	if (rc < 0)
		goto done;
	if ((rc = throttled(v)) < 0) {
		rc = mssl__op_end_refused(&op, rc);
		goto done;
	}
	if ((rc = verify_proof(v)) < 0) {
		rc = proof_failed(v, rc);
		goto done;
	}
	memset(&s, 0, sizeof(s));
	s.person_id = v->person.r.id;
	s.card_id = v->card.r.id;
	s.created = s.last_seen = mssl__now(ctx);
	s.expires = s.created + ctx->login.session_max_s;
	s.pin_change_only = strcmp(v->card.r.state, "issued_pin") == 0;
	if (hex_token(raw, &token, s.token_hash) < 0) {
		rc = mssl__op_end(&op, mssl__error_set(err, MSSL_ECRYPTO,
						       "crypto.random", NULL,
						       N_("no random numbers")));
		goto done;
	}
	rc = ctx->sops->session_insert(op.conn, &s);
	/* Failures older than the window are the purge's to drop. */
	if (rc == 0 && v->card_failures > 0)
		rc = ctx->sops->login_failure_clear(op.conn, v->card_key);
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	info = session_info(&s, v->person.r.account_id, v->person.r.name,
			    v->person.r.role, ctx->login.session_idle_s);
	if (!info) {
		rc = mssl__op_end(&op, mssl__error_set(err, MSSL_ENOMEM, "nomem",
						       NULL,
						       N_("out of memory")));
		goto done;
	}
	snprintf(op.detail, sizeof(op.detail),
		 "person %" PRId64 " (%s) card %" PRId64 "%s", v->person.r.id,
		 v->person.r.role, v->card.r.id,
		 s.pin_change_only ? ", PIN change only" : "");
	rc = mssl__op_end(&op, 0);
	if (rc == 0) {
		info->token = token;
		token = NULL;
		*out = info;
		info = NULL;
	}
done:
	if (token) {
		gnutls_memset(token, 0, strlen(token));
		free(token);
	}
	mssl_session_info_free(info);
	mssl_actor_free(anon);
	free(v);
	return rc;
}

/* ---- sessions ----------------------------------------------------------- */

struct session_ctx {
	struct mssl_session_rec s;
	struct mssl__card_copy card;
	struct mssl__person_copy person;
};

static int session_cb(void *ud, const struct mssl_session_rec *r)
{
	struct session_ctx *c = ud;

	c->s = *r;
	return 0;
}

static bool token_shape_ok(const char *token)
{
	size_t i;

	if (!token || strlen(token) != 2 * TOKEN_BYTES)
		return false;
	for (i = 0; token[i]; i++)
		if (!((token[i] >= '0' && token[i] <= '9') ||
		      (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	return true;
}

/*
 * The session of 'token' in op's transaction, with its person and card,
 * still valid: MSSL_EPERM auth.session otherwise (the detail says why).
 */
static int session_load(struct mssl__op *op, const char *token,
			struct session_ctx *c)
{
	mssl_ctx *ctx = op->ctx;
	const struct mssl_store_ops *so = ctx->sops;
	uint8_t h[32];
	int64_t now = mssl__now(ctx);
	const char *why = NULL;
	int rc;

	if (!token_shape_ok(token)) {
		why = "malformed token";
		goto refuse;
	}
	mssl__sha256(token, strlen(token), h);
	rc = so->session_get(op->conn, h, session_cb, c);
	if (rc == MSSL_ENOENT) {
		why = "no such session (ended or never opened)";
		goto refuse;
	}
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	if (c->s.expires < now) {
		why = "session past its absolute end";
		goto refuse;
	}
	if (c->s.last_seen + ctx->login.session_idle_s < now) {
		why = "session idle too long";
		goto refuse;
	}
	rc = so->card_get(op->conn, c->s.card_id, mssl__card_copy_cb, &c->card);
	if (rc == 0)
		rc = so->person_get(op->conn, c->s.person_id, mssl__person_copy_cb, &c->person);
	if (rc == 0)
		rc = so->account_get(op->conn, c->person.account_id,
				     mssl__op_copy_account, op);
	if (rc < 0)
		return mssl__op_store_error(op, rc);
	op->account_id = c->person.account_id;
	if (strcmp(c->person.status, "active") != 0)
		why = "person suspended";
	else if (strcmp(c->card.state, "active") != 0 &&
		 strcmp(c->card.state, "issued_pin") != 0)
		why = "card no longer usable";
	else if (op->account.status != MSSL_ACCOUNT_ACTIVE)
		why = "account suspended";
	if (!why)
		return 0;
refuse:
	snprintf(op->detail, sizeof(op->detail), "%s", why);
	return mssl__error_set(op->err, MSSL_EPERM, "auth.session", NULL,
			       N_("the session has ended: log in again"));
}

MSSL_API int mssl_session_resume(mssl_ctx *ctx, const char *token,
				 const char *remote, mssl_actor **actor,
				 mssl_session_info **info, mssl_error *err)
{
	struct mssl__op op;
	struct session_ctx *c;
	mssl_actor *anon, *a = NULL;
	mssl_session_info *i = NULL;
	int64_t now;
	int rc;

	return_val_if_fail(ctx, MSSL_EINVAL);
	if (actor)
		*actor = NULL;
	if (info)
		*info = NULL;
	anon = mssl__actor_anonymous(NULL, remote);
	c = calloc(1, sizeof(*c));
	if (!anon || !c) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto done;
	}
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_SESSION, NULL, NULL, err);
	if (rc < 0)
		goto done;
	op.quiet = true; /* what the session then does is audited */
	if ((rc = session_load(&op, token, c)) < 0) {
		rc = mssl__op_end(&op, rc);
		goto done;
	}
	now = mssl__now(ctx);
	if (now - c->s.last_seen >= TOUCH_EVERY_S) {
		rc = ctx->sops->session_touch(op.conn, c->s.token_hash, now);
		if (rc < 0) {
			rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
			goto done;
		}
		c->s.last_seen = now;
	}
	if (actor) {
		a = mssl_actor_new(strcmp(c->person.role, "manager") == 0 ?
					   MSSL_ROLE_MANAGER :
					   MSSL_ROLE_AUDITOR,
				   c->person.name, c->person.account_id,
				   remote);
		if (a && c->s.pin_change_only)
			mssl__actor_set_pin_change_only(a);
	}
	if (info)
		i = session_info(&c->s, c->person.account_id,
				 c->person.name, c->person.role,
				 ctx->login.session_idle_s);
	if ((actor && !a) || (info && !i)) {
		rc = mssl__op_end(&op, mssl__error_set(err, MSSL_ENOMEM, "nomem",
						       NULL,
						       N_("out of memory")));
		goto done;
	}
	rc = mssl__op_end(&op, 0);
	if (rc == 0) {
		if (actor)
			*actor = a;
		if (info)
			*info = i;
		a = NULL;
		i = NULL;
	}
done:
	mssl_actor_free(a);
	mssl_session_info_free(i);
	mssl_actor_free(anon);
	free(c);
	return rc;
}

MSSL_API int mssl_logout(mssl_ctx *ctx, const char *token, const char *remote,
			 mssl_error *err)
{
	struct mssl__op op;
	struct session_ctx *c;
	mssl_actor *anon;
	int rc;

	return_val_if_fail(ctx, MSSL_EINVAL);
	anon = mssl__actor_anonymous(NULL, remote);
	c = calloc(1, sizeof(*c));
	if (!anon || !c) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto done;
	}
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_LOGOUT, NULL, NULL, err);
	if (rc < 0)
		goto done;
	if ((rc = session_load(&op, token, c)) == 0) {
		rc = ctx->sops->session_delete(op.conn, c->s.token_hash);
		if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
		else
			snprintf(op.detail, sizeof(op.detail),
				 "person %" PRId64 " card %" PRId64,
				 c->s.person_id, c->s.card_id);
	}
	rc = mssl__op_end(&op, rc);
done:
	mssl_actor_free(anon);
	free(c);
	return rc;
}

MSSL_API int mssl_pin_changed(mssl_ctx *ctx, const char *token,
			      const struct mssl_login_proof *proof,
			      const char *remote, mssl_error *err)
{
	struct mssl__op op;
	struct session_ctx *c;
	struct proof_ctx *v;
	mssl_actor *anon;
	int rc;

	return_val_if_fail(ctx, MSSL_EINVAL);
	if (!proof_complete(proof))
		return mssl__error_set(err, MSSL_EINPUT, "auth.proof", NULL,
				       N_("a login needs the origin, account ID, challenge, card certificate and signature"));
	anon = mssl__actor_anonymous(proof->account_id, remote);
	c = calloc(1, sizeof(*c));
	v = calloc(1, sizeof(*v));
	if (!anon || !c || !v) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto done;
	}
	v->p = proof;
	v->op = &op;
	proof_keys(v);
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_PIN_CHANGED,
			    proof->account_id, NULL, err);
	if (rc < 0)
		goto done;
	if ((rc = session_load(&op, token, c)) < 0) {
		rc = mssl__op_end(&op, rc);
		goto done;
	}
	if ((rc = throttled(v)) < 0) {
		rc = mssl__op_end_refused(&op, rc);
		goto done;
	}
	if ((rc = verify_proof(v)) == 0 && v->card.r.id != c->s.card_id)
		rc = mssl__error_set(err, MSSL_EPERM, "auth.other_card", NULL,
				     N_("the proof was signed by card %" PRId64 ", not by the session's card %" PRId64),
				     v->card.r.id, c->s.card_id);
	if (rc < 0) {
		rc = proof_failed(v, rc);
		goto done;
	}
	rc = 0;
	if (strcmp(v->card.r.state, "issued_pin") == 0)
		rc = ctx->sops->card_set_state(op.conn, v->card.r.id, "active");
	if (rc == 0)
		rc = ctx->sops->session_delete_card(op.conn, v->card.r.id);
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	snprintf(op.detail, sizeof(op.detail),
		 "card %" PRId64 " PIN changed%s; its sessions ended",
		 v->card.r.id,
		 strcmp(v->card.r.state, "issued_pin") == 0 ?
			 " from the issued PIN" :
			 "");
	rc = mssl__op_end(&op, 0);
done:
	mssl_actor_free(anon);
	free(c);
	free(v);
	return rc;
}

MSSL_API int mssl_login_purge(mssl_ctx *ctx, mssl_error *err)
{
	struct mssl__op op;
	mssl_actor *anon;
	int64_t now;
	int rc;

	return_val_if_fail(ctx, MSSL_EINVAL);
	anon = mssl__actor_anonymous(NULL, "local");
	if (!anon)
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_LOGIN_PURGE, NULL, NULL,
			    err);
	if (rc == 0) {
		op.quiet = true; /* housekeeping, every few minutes */
		now = mssl__now(ctx);
		rc = ctx->sops->login_purge(op.conn, now,
					    now - ctx->login.throttle_window_s);
		if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
		rc = mssl__op_end(&op, rc);
	}
	mssl_actor_free(anon);
	return rc;
}
