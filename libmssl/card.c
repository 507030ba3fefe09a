/*
 * Persons and their IC cards: registration, the internal card CA, the
 * derived SO PINs and the unlock flow (SPEC §3, §8; DESIGN.md "Login").
 *
 * A card's SO PIN is never stored: it is HMAC-SHA-256(master secret,
 * "mssl-so-pin-v1:" || token serial), so the server can release it for an
 * unlock without a per-card secret.  Unlock codes are stored as an HMAC
 * under the same secret, so a copy of the store alone does not help to
 * guess them.
 */
#include "login.h"
#include "mail.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mssl_role mssl__role_of(const char *s)
{
	if (s && strcmp(s, "manager") == 0)
		return MSSL_ROLE_MANAGER;
	if (s && strcmp(s, "auditor") == 0)
		return MSSL_ROLE_AUDITOR;
	return MSSL_ROLE_NONE;
}

bool mssl__card_usable(const char *state)
{
	return strcmp(state, "active") == 0 || strcmp(state, "issued_pin") == 0;
}

/* ---- persons ------------------------------------------------------------ */

MSSL_API int mssl_person_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *name,
			     const char *email, mssl_role role, int64_t *id,
			     mssl_error *err)
{
	struct mssl__op op;
	int64_t pid = 0;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_PERSON_ADD, account_id,
			    email, err);
	if (rc < 0)
		return rc;
	if ((rc = mssl__text_check(name, "name", true, err)) < 0 ||
	    (rc = mssl_email_check(email, "email", err)) < 0)
		goto out;
	if (role != MSSL_ROLE_MANAGER && role != MSSL_ROLE_AUDITOR) {
		rc = mssl__error_set(err, MSSL_EINPUT, "person.role", "role",
				     N_("a person's role is manager or auditor"));
		goto out;
	}
	rc = ctx->sops->person_insert(
		op.conn,
		&(struct mssl_person_rec){ .account_id = account_id,
					   .name = name,
					   .email = email,
					   .role = mssl_role_name(role),
					   .status = "active",
					   .created = mssl__now(ctx) },
		&pid);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "person %" PRId64 " %s",
		 pid, mssl_role_name(role));
	if (id)
		*id = pid;
out:
	return mssl__op_end(&op, rc);
}

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

int mssl__person_copy_cb(void *ud, const struct mssl_person_rec *r)
{
	struct mssl__person_copy *p = ud;

	p->r = *r;
	copy_str(p->account_id, sizeof(p->account_id), r->account_id);
	copy_str(p->name, sizeof(p->name), r->name);
	copy_str(p->email, sizeof(p->email), r->email);
	copy_str(p->role, sizeof(p->role), r->role);
	copy_str(p->status, sizeof(p->status), r->status);
	p->r.account_id = p->account_id;
	p->r.name = p->name;
	p->r.email = p->email;
	p->r.role = p->role;
	p->r.status = p->status;
	return 0;
}

int mssl__card_copy_cb(void *ud, const struct mssl_card_rec *r)
{
	struct mssl__card_copy *c = ud;

	c->r = *r;
	copy_str(c->serial, sizeof(c->serial), r->token_serial);
	copy_str(c->state, sizeof(c->state), r->state);
	c->r.token_serial = c->serial;
	c->r.state = c->state;
	c->r.cert_der = NULL; /* not kept */
	c->r.cert_len = 0;
	return 0;
}

/* Person 'id' into *p; MSSL_ENOENT with person.not_found. */
static int get_person(struct mssl__op *op, int64_t id, struct mssl__person_copy *p)
{
	int rc = op->ctx->sops->person_get(op->conn, id, mssl__person_copy_cb, p);

	if (rc == MSSL_ENOENT)
		return mssl__error_set(op->err, MSSL_ENOENT, "person.not_found",
				       "person", N_("there is no person %" PRId64),
				       id);
	return rc < 0 ? mssl__op_store_error(op, rc) : 0;
}

static int get_card(struct mssl__op *op, int64_t id, struct mssl__card_copy *c)
{
	int rc = op->ctx->sops->card_get(op->conn, id, mssl__card_copy_cb, c);

	if (rc == MSSL_ENOENT)
		return mssl__error_set(op->err, MSSL_ENOENT, "card.not_found",
				       "card", N_("there is no card %" PRId64), id);
	return rc < 0 ? mssl__op_store_error(op, rc) : 0;
}

/* End every session of the cards of one person. */
struct end_sessions {
	struct mssl__op *op;
	int64_t person_id;
};

static int end_card_sessions(void *ud, const struct mssl_card_rec *r)
{
	struct end_sessions *e = ud;

	if (r->person_id != e->person_id)
		return 0;
	return e->op->ctx->sops->session_delete_card(e->op->conn, r->id);
}

MSSL_API int mssl_person_suspend(mssl_ctx *ctx, const mssl_actor *actor,
				 int64_t person_id, int suspend,
				 const char *reason, mssl_error *err)
{
	struct mssl__op op;
	struct mssl__person_copy p;
	struct end_sessions e;
	char object[32];
	int rc;

	snprintf(object, sizeof(object), "person %" PRId64, person_id);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_PERSON_SUSPEND, NULL,
			    object, err);
	if (rc < 0)
		return rc;
	if ((rc = mssl__text_check(reason, "reason", true, err)) < 0 ||
	    (rc = get_person(&op, person_id, &p)) < 0)
		goto out;
	op.account_id = p.account_id;
	rc = ctx->sops->person_set_status(op.conn, person_id,
					  suspend ? "suspended" : "active");
	if (rc == 0 && suspend) {
		e.op = &op;
		e.person_id = person_id;
		rc = ctx->sops->card_each(op.conn, p.account_id,
					  end_card_sessions, &e);
	}
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "%s: %s",
		 suspend ? "suspended" : "reactivated", reason);
out:
	return mssl__op_end(&op, rc);
}

struct person_list {
	int (*cb)(void *ud, const struct mssl_person_info *p);
	void *ud;
};

static int person_one(void *ud, const struct mssl_person_rec *r)
{
	struct person_list *l = ud;
	struct mssl_person_info i = { r->id, r->account_id, r->name,
				      r->email, mssl__role_of(r->role), r->status,
				      r->created };

	return l->cb(l->ud, &i);
}

MSSL_API int mssl_person_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id,
			      int (*cb)(void *ud,
					const struct mssl_person_info *p),
			      void *ud, mssl_error *err)
{
	struct mssl__op op;
	struct person_list l = { cb, ud };
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_PERSON_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->person_each(op.conn, op.account_id, person_one, &l);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}

/* ---- cards -------------------------------------------------------------- */

struct card_list {
	struct mssl__op *op;
	int (*cb)(void *ud, const struct mssl_card_info *c);
	void *ud;
};

static int card_one(void *ud, const struct mssl_card_rec *r)
{
	struct card_list *l = ud;
	struct mssl__person_copy p;
	struct mssl_card_info i;
	int rc;

	rc = l->op->ctx->sops->person_get(l->op->conn, r->person_id,
					  mssl__person_copy_cb, &p);
	if (rc < 0)
		return rc;
	memset(&i, 0, sizeof(i));
	i.id = r->id;
	i.person_id = r->person_id;
	i.account_id = p.account_id;
	i.person_name = p.name;
	i.role = mssl__role_of(p.role);
	i.token_serial = r->token_serial;
	i.state = r->state;
	memcpy(i.cert_sha256, r->cert_sha256, 32);
	i.created = r->created;
	return l->cb(l->ud, &i);
}

MSSL_API int mssl_card_list(mssl_ctx *ctx, const mssl_actor *actor,
			    const char *account_id,
			    int (*cb)(void *ud, const struct mssl_card_info *c),
			    void *ud, mssl_error *err)
{
	struct mssl__op op;
	struct card_list l = { &op, cb, ud };
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CARD_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->card_each(op.conn, op.account_id, card_one, &l);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_card_set_state(mssl_ctx *ctx, const mssl_actor *actor,
				 int64_t card_id, const char *state,
				 const char *reason, mssl_error *err)
{
	struct mssl__op op;
	struct mssl__card_copy c;
	struct mssl__person_copy p;
	char object[32];
	bool ok;
	int rc;

	snprintf(object, sizeof(object), "card %" PRId64, card_id);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CARD_STATE, NULL, object,
			    err);
	if (rc < 0)
		return rc;
	if ((rc = mssl__text_check(reason, "reason", true, err)) < 0 ||
	    (rc = get_card(&op, card_id, &c)) < 0 ||
	    (rc = get_person(&op, c.r.person_id, &p)) < 0)
		goto out;
	op.account_id = p.account_id;
	if (!state || (strcmp(state, "suspended") != 0 &&
		       strcmp(state, "active") != 0 &&
		       strcmp(state, "revoked") != 0)) {
		rc = mssl__error_set(err, MSSL_EINPUT, "card.state", "state",
				     N_("\"%s\" is not a state an operator sets: use suspended, active or revoked"),
				     state ? state : "");
		goto out;
	}
	if (strcmp(c.state, "revoked") == 0)
		ok = false; /* final */
	else if (strcmp(state, "active") == 0)
		ok = strcmp(c.state, "suspended") == 0;
	else
		ok = strcmp(c.state, state) != 0;
	if (!ok) {
		rc = mssl__error_set(err, MSSL_ESTATE, "card.transition", "state",
				     N_("card %" PRId64 " is %s and cannot become %s"),
				     card_id, c.state, state);
		goto out;
	}
	/*
	 * Back from a suspension the card is on probation: its holder sets
	 * a new PIN at the next login, as on a new card (the store does not
	 * know whether the PIN was ever changed before).
	 */
	if (strcmp(state, "active") == 0)
		state = "issued_pin";
	rc = ctx->sops->card_set_state(op.conn, card_id, state);
	if (rc == 0)
		rc = ctx->sops->session_delete_card(op.conn, card_id);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "%s -> %s: %s", c.state, state,
		 reason);
out:
	return mssl__op_end(&op, rc);
}

/* ---- SO PINs ------------------------------------------------------------ */

int mssl__card_so_pin(mssl_ctx *ctx, const char *serial,
		      char so_pin[MSSL_SO_PIN_LEN + 1], mssl_error *err)
{
	uint8_t mac[32];
	char hex[65];
	int rc;

	rc = mssl__cards_hmac(ctx, "mssl-so-pin-v1:", serial, mac, err);
	if (rc < 0)
		return rc;
	mssl__hex(mac, sizeof(mac), hex);
	memcpy(so_pin, hex, MSSL_SO_PIN_LEN);
	so_pin[MSSL_SO_PIN_LEN] = '\0';
	gnutls_memset(mac, 0, sizeof(mac));
	gnutls_memset(hex, 0, sizeof(hex));
	return 0;
}

static int check_serial(const char *serial, mssl_error *err)
{
	size_t i;

	if (mssl__str_empty(serial) || strlen(serial) > 64)
		return mssl__error_set(err, MSSL_EINPUT, "card.serial", "serial",
				       N_("a token serial has 1 to 64 characters"));
	for (i = 0; serial[i]; i++)
		if ((unsigned char)serial[i] < 0x21 ||
		    (unsigned char)serial[i] > 0x7e)
			return mssl__error_set(err, MSSL_EINPUT, "card.serial",
					       "serial",
					       N_("a token serial has only printable ASCII characters"));
	return 0;
}

MSSL_API int mssl_card_so_pin(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *token_serial,
			      char so_pin[MSSL_SO_PIN_LEN + 1],
			      mssl_error *err)
{
	struct mssl__op op;
	int rc;

	return_val_if_fail(so_pin, MSSL_EINVAL);
	so_pin[0] = '\0';
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CARD_SO_PIN, NULL,
			    token_serial, err);
	if (rc < 0)
		return rc;
	if ((rc = check_serial(token_serial, err)) == 0)
		rc = mssl__card_so_pin(ctx, token_serial, so_pin, err);
	return mssl__op_end(&op, rc);
}

/* ---- the card CA -------------------------------------------------------- */

/* A key the card CA certifies: RSA >= 2048 or ECDSA P-256/P-384. */
static int card_key_check(gnutls_pubkey_t pub, mssl_error *err)
{
	unsigned int bits = 0;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

	if (pk == GNUTLS_PK_RSA && bits >= 2048 && bits <= 8192)
		return 0;
	if (pk == GNUTLS_PK_ECDSA &&
	    gnutls_pubkey_export_ecc_raw(pub, &curve, NULL, NULL) == 0 &&
	    (curve == GNUTLS_ECC_CURVE_SECP256R1 ||
	     curve == GNUTLS_ECC_CURVE_SECP384R1))
		return 0;
	return mssl__error_set(err, MSSL_EINPUT, "card.key", "key",
			       N_("a card key must be RSA of 2048 bits or more, or ECDSA P-256 or P-384"));
}

static int load_ca_key(mssl_ctx *ctx, gnutls_privkey_t *out, mssl_error *err)
{
	const char *k = ctx->cards.ca_key;
	gnutls_datum_t d = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	int r;

	*out = NULL;
	if (!k || !ctx->cards.ca_crt)
		return mssl__error_set(err, MSSL_ECONFIG, "cards.no_ca",
				       "cards.ca_key",
				       N_("no card CA is configured: set ca_cert and ca_key in [cards]"));
	if (gnutls_privkey_init(&key) < 0)
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	if (strncmp(k, "pkcs11:", 7) == 0) {
		r = gnutls_privkey_import_url(key, k, 0);
	} else {
		r = gnutls_load_file(k, &d);
		if (r == 0)
			r = gnutls_privkey_import_x509_raw(
				key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (d.data) {
			gnutls_memset(d.data, 0, d.size);
			gnutls_free(d.data);
		}
	}
	if (r < 0) {
		gnutls_privkey_deinit(key);
		return mssl__error_set(err, MSSL_ECONFIG, "cards.ca_key",
				       "cards.ca_key",
				       N_("the card CA key %s cannot be used: %s"),
				       k, gnutls_strerror(r));
	}
	*out = key;
	return 0;
}

/* The card certificate: person and account named, clientAuth only. */
static int card_cert_build(mssl_ctx *ctx, const struct mssl__person_copy *p,
			   const char *org, gnutls_pubkey_t pub,
			   gnutls_privkey_t cakey, gnutls_datum_t *der,
			   mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL, ca = ctx->cards.ca_crt;
	uint8_t serial[16], kid[64];
	size_t kid_len = sizeof(kid);
	int64_t now = mssl__now(ctx);
	int r;

	if ((r = gnutls_rnd(GNUTLS_RND_RANDOM, serial, sizeof(serial))) < 0)
		goto fail;
	serial[0] &= 0x7f;
	serial[0] |= 0x40; /* positive, 127 bits of entropy, no leading 0 */
	if ((r = gnutls_x509_crt_init(&crt)) < 0 ||
	    (r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 300)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(
		     crt, now + (int64_t)ctx->cards.cert_days * 86400)) < 0 ||
	    (r = gnutls_x509_crt_set_pubkey(crt, pub)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					       0, p->name,
					       strlen(p->name))) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
					       0, org, strlen(org))) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_LDAP_UID, 0,
					       p->account_id,
					       strlen(p->account_id))) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt,
					       GNUTLS_OID_X520_TITLE, 0,
					       p->role, strlen(p->role))) < 0 ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_RFC822NAME,
						      p->email, strlen(p->email),
						      GNUTLS_FSAN_SET)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt,
					       GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT,
						     1)) < 0)
		goto fail;
	if ((r = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid,
					    &kid_len)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len)) < 0)
		goto fail;
	kid_len = sizeof(kid);
	if (gnutls_x509_crt_get_subject_key_id(ca, kid, &kid_len, NULL) >= 0 &&
	    (r = gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len)) < 0)
		goto fail;
	if ((r = gnutls_x509_crt_privkey_sign(crt, ca, cakey,
					      GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der)) < 0)
		goto fail;
	gnutls_x509_crt_deinit(crt);
	return 0;
fail:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return mssl__error_set(err, MSSL_ECRYPTO, "cards.sign", NULL,
			       N_("the card certificate could not be made: %s"),
			       gnutls_strerror(r));
}

/*
 * The new certificate verifies against the card CA certificate.  Logins
 * rely on it: a registered card's certificate is not checked against the
 * CA at every login (login.c, the card key cache), so a ca_key that is
 * not the key of ca_cert must fail here, not make cards that log in.
 */
static int card_cert_check(mssl_ctx *ctx, const gnutls_datum_t *der,
			   mssl_error *err)
{
	gnutls_x509_crt_t crt = NULL, ca = ctx->cards.ca_crt;
	unsigned int status = 0;
	int r;

	r = gnutls_x509_crt_init(&crt);
	if (r == 0)
		r = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER);
	if (r == 0)
		r = gnutls_x509_crt_verify(crt, &ca, 1, 0, &status);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (r < 0 || status != 0)
		return mssl__error_set(err, MSSL_ECONFIG, "cards.ca_mismatch",
				       "cards.ca_key",
				       N_("the card CA key %s did not make a certificate that verifies with the card CA certificate %s: is it the key of that certificate?"),
				       ctx->cards.ca_key,
				       ctx->cards.ca_cert_file);
	return 0;
}

/* A card with this serial that still counts (not revoked)? */
static int serial_taken(void *ud, const struct mssl_card_rec *r)
{
	int64_t *id = ud;

	if (strcmp(r->state, "revoked") != 0 && !*id)
		*id = r->id;
	return 0;
}

MSSL_API int mssl_card_certify(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t person_id, const char *token_serial,
			       const uint8_t *spki, size_t spki_len,
			       uint8_t **cert, size_t *cert_len,
			       int64_t *card_id, mssl_error *err)
{
	struct mssl__op op;
	struct mssl__person_copy p;
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t cakey = NULL;
	gnutls_datum_t der = { NULL, 0 };
	gnutls_datum_t sd = { (unsigned char *)spki, (unsigned)spki_len };
	struct mssl_card_rec r;
	int64_t taken = 0, cid = 0;
	int rc;

	return_val_if_fail(cert && cert_len, MSSL_EINVAL);
	*cert = NULL;
	*cert_len = 0;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CARD_CERTIFY, NULL,
			    token_serial, err);
	if (rc < 0)
		return rc;
	if ((rc = check_serial(token_serial, err)) < 0 ||
	    (rc = get_person(&op, person_id, &p)) < 0)
		goto out;
	op.account_id = p.account_id;
	if (strcmp(p.status, "active") != 0) {
		rc = mssl__error_set(err, MSSL_ESTATE, "person.suspended",
				     "person",
				     N_("person %" PRId64 " is suspended"),
				     person_id);
		goto out;
	}
	rc = ctx->sops->account_get(op.conn, p.account_id, mssl__op_copy_account,
				    &op);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	rc = ctx->sops->card_by_serial(op.conn, token_serial, serial_taken,
				       &taken);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	if (taken) {
		rc = mssl__error_set(err, MSSL_EEXIST, "card.serial_taken",
				     "serial",
				     N_("the card with serial %s is already registered as card %" PRId64 "; revoke that card first"),
				     token_serial, taken);
		goto out;
	}
	if (!spki || !spki_len || gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import(pub, &sd, GNUTLS_X509_FMT_DER) < 0) {
		rc = mssl__error_set(err, MSSL_EINPUT, "card.key", "key",
				     N_("the card's public key is not a DER SubjectPublicKeyInfo"));
		goto out;
	}
	if ((rc = card_key_check(pub, err)) < 0 ||
	    (rc = load_ca_key(ctx, &cakey, err)) < 0 ||
	    (rc = card_cert_build(ctx, &p, op.account.org_name_en, pub, cakey,
				  &der, err)) < 0 ||
	    (rc = card_cert_check(ctx, &der, err)) < 0)
		goto out;
	memset(&r, 0, sizeof(r));
	r.person_id = person_id;
	r.token_serial = token_serial;
	r.cert_der = der.data;
	r.cert_len = der.size;
	r.state = "issued_pin";
	r.created = mssl__now(ctx);
	mssl__sha256(der.data, der.size, r.cert_sha256);
	rc = ctx->sops->card_insert(op.conn, &r, &cid);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	*cert = malloc(der.size);
	if (!*cert) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	memcpy(*cert, der.data, der.size);
	*cert_len = der.size;
	if (card_id)
		*card_id = cid;
	snprintf(op.detail, sizeof(op.detail),
		 "card %" PRId64 " for person %" PRId64 " (%s)", cid, person_id,
		 p.role);
out:
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (cakey)
		gnutls_privkey_deinit(cakey);
	gnutls_free(der.data);
	rc = mssl__op_end(&op, rc);
	if (rc < 0) {
		free(*cert);
		*cert = NULL;
		*cert_len = 0;
	}
	return rc;
}

/* ---- unlock ------------------------------------------------------------- */

/* Unambiguous letters and digits: no 0/O, 1/I/L, 5/S, 8/B, 2/Z. */
static const char code_alphabet[] = "34679ACDEFGHJKMNPQRTUVWXY";
#define CODE_GROUPS 3
#define CODE_GROUP_LEN 4

static int make_code(char *out, size_t size)
{
	uint8_t rnd[CODE_GROUPS * CODE_GROUP_LEN];
	size_t i, n = 0;

	if (size < sizeof(rnd) + CODE_GROUPS ||
	    gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0)
		return MSSL_ECRYPTO;
	for (i = 0; i < sizeof(rnd); i++) {
		if (i && i % CODE_GROUP_LEN == 0)
			out[n++] = '-';
		/* 25 letters: 250 = 10 * 25 keeps the draw uniform. */
		while (rnd[i] >= 250)
			if (gnutls_rnd(GNUTLS_RND_KEY, &rnd[i], 1) < 0)
				return MSSL_ECRYPTO;
		out[n++] = code_alphabet[rnd[i] % 25];
	}
	out[n] = '\0';
	gnutls_memset(rnd, 0, sizeof(rnd));
	return 0;
}

/* The code as typed ("abcd efgh-jkmn") to its canonical form, hashed. */
static int code_hash(mssl_ctx *ctx, const char *code, uint8_t out[32],
		     mssl_error *err)
{
	char canon[64];
	size_t n = 0;
	int rc;

	for (; code && *code && n + 1 < sizeof(canon); code++) {
		char c = *code;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		canon[n++] = c;
	}
	canon[n] = '\0';
	rc = mssl__cards_hmac(ctx, "mssl-unlock-v1:", canon, out, err);
	gnutls_memset(canon, 0, sizeof(canon));
	return rc;
}

MSSL_API int mssl_card_unlock_approve(mssl_ctx *ctx, const mssl_actor *actor,
				      int64_t card_id,
				      const char *verified_with, char **code,
				      mssl_error *err)
{
	struct mssl__op op;
	struct mssl__card_copy c;
	struct mssl__person_copy p;
	struct mssl_unlock_rec u;
	char object[32], text[32], until[32];
	int64_t now;
	int rc;

	if (code)
		*code = NULL;
	snprintf(object, sizeof(object), "card %" PRId64, card_id);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CARD_UNLOCK_APPROVE, NULL,
			    object, err);
	if (rc < 0)
		return rc;
	text[0] = '\0';
	if ((rc = mssl__text_check(verified_with, "verified_with", true,
				   err)) < 0 ||
	    (rc = get_card(&op, card_id, &c)) < 0 ||
	    (rc = get_person(&op, c.r.person_id, &p)) < 0)
		goto out;
	op.account_id = p.account_id;
	if (strcmp(c.state, "revoked") == 0 ||
	    strcmp(c.state, "suspended") == 0) {
		rc = mssl__error_set(err, MSSL_ESTATE, "card.transition", "card",
				     N_("card %" PRId64 " is %s and cannot be unlocked"),
				     card_id, c.state);
		goto out;
	}
	now = mssl__now(ctx);
	memset(&u, 0, sizeof(u));
	u.card_id = card_id;
	u.created = now;
	u.expires = now + ctx->cards.unlock_ttl_s;
	u.approved_by = mssl__actor_label(actor);
	u.verified_with = verified_with;
	if (make_code(text, sizeof(text)) < 0) {
		rc = mssl__error_set(err, MSSL_ECRYPTO, "crypto.random", NULL,
				     N_("no random numbers"));
		goto out;
	}
	if ((rc = code_hash(ctx, text, u.code_hash, err)) < 0)
		goto out;
	rc = ctx->sops->unlock_insert(op.conn, &u, &u.id);
	if (rc == 0)
		rc = ctx->sops->card_set_state(op.conn, card_id, "locked");
	if (rc == 0)
		rc = ctx->sops->session_delete_card(op.conn, card_id);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	mssl__utc_text(u.expires, until, sizeof(until));
	{
		const struct mssl__notice_line lines[] = {
			{ N_("Account"), p.account_id },
			{ N_("Card holder"), p.name },
			{ N_("Card serial"), c.serial },
			{ N_("Unlock code"), text },
			{ N_("Valid until"), until },
		};

		rc = mssl__notice_queue(ctx, op.conn, p.email, object,
					c.serial, N_("card unlock"),
					N_("An unlock of your card was approved."),
					lines, MSSL_ARRAY_SIZE(lines),
					N_("Insert the card, open the unlock page (or run: mssl-card unlock --account ID), give the code and choose a new PIN. The code works once."));
	}
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail),
		 "unlock %" PRId64 " verified with %.60s, notice to %.60s, valid until %s",
		 u.id, verified_with, p.email, until);
	if (code && !(*code = strdup(text)))
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
out:
	gnutls_memset(text, 0, sizeof(text));
	rc = mssl__op_end(&op, rc);
	if (rc < 0 && code && *code) {
		free(*code);
		*code = NULL;
	}
	return rc;
}

/* The holder's card: newest card of that serial in that account. */
struct find_card {
	struct mssl__op *op;
	const char *account_id;
	struct mssl__card_copy c;
	bool found;
};

static int find_card_cb(void *ud, const struct mssl_card_rec *r)
{
	struct find_card *f = ud;
	struct mssl__person_copy p;
	int rc;

	if (f->found || strcmp(r->state, "revoked") == 0)
		return 0;
	rc = f->op->ctx->sops->person_get(f->op->conn, r->person_id,
					  mssl__person_copy_cb, &p);
	if (rc < 0)
		return rc;
	if (strcmp(p.account_id, f->account_id) != 0)
		return 0;
	mssl__card_copy_cb(&f->c, r);
	f->found = true;
	return 0;
}

struct find_unlock {
	struct mssl_unlock_rec u;
};

static int unlock_cb(void *ud, const struct mssl_unlock_rec *r)
{
	struct find_unlock *f = ud;

	f->u = *r;
	f->u.approved_by = NULL;
	f->u.verified_with = NULL;
	return 0;
}

/*
 * Shared by both halves of the unlock: find the approval for account,
 * serial and code in state 'want' (0 for begin, 1 for done) and move it
 * to want + 1.  Every refusal says the same to the caller.
 */
static int unlock_step(mssl_ctx *ctx, const char *account_id,
		       const char *serial, const char *code, const char *remote,
		       int want, char so_pin[MSSL_SO_PIN_LEN + 1],
		       mssl_error *err)
{
	struct mssl__op op;
	struct find_card f;
	struct find_unlock fu;
	mssl_actor *anon;
	char key[96];
	int64_t n = 0, now;
	int rc;

	anon = mssl__actor_anonymous(account_id, remote);
	if (!anon)
		return mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				       N_("out of memory"));
	rc = mssl__op_begin(&op, ctx, anon, MSSL_OP_CARD_UNLOCK, account_id,
			    serial, err);
	if (rc < 0)
		goto done;
	snprintf(op.detail, sizeof(op.detail), "%s",
		 want == 0 ? "begin" : "done");
	if (mssl__str_empty(account_id) || check_serial(serial, NULL) < 0 ||
	    mssl__str_empty(code)) {
		rc = mssl__error_set(err, MSSL_EINPUT, "card.unlock_input", NULL,
				     N_("an unlock needs the account ID, the card and the unlock code"));
		rc = mssl__op_end(&op, rc);
		goto done;
	}
	now = mssl__now(ctx);
	snprintf(key, sizeof(key), "unlock:%s", serial);
	rc = ctx->sops->login_failure_count(op.conn, key,
					    now - ctx->login.throttle_window_s,
					    &n);
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	if (n >= ctx->login.max_failures_card) {
		rc = mssl__error_set(err, MSSL_ESTATE, "auth.throttled", NULL,
				     N_("too many failed attempts: try again in %d minutes"),
				     (ctx->login.throttle_window_s + 59) / 60);
		rc = mssl__op_end_refused(&op, rc);
		goto done;
	}
	memset(&f, 0, sizeof(f));
	f.op = &op;
	f.account_id = account_id;
	rc = ctx->sops->card_by_serial(op.conn, serial, find_card_cb, &f);
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	if (!f.found) {
		rc = mssl__error_set(err, MSSL_EPERM, "card.unlock_refused",
				     NULL, N_("no card %s in account %s"),
				     serial, account_id);
		goto refused;
	}
	if (strcmp(f.c.state, "locked") != 0) {
		rc = mssl__error_set(err, MSSL_EPERM, "card.unlock_refused",
				     NULL, N_("card %" PRId64 " is %s, not locked"),
				     f.c.r.id, f.c.state);
		goto refused;
	}
	free(op.object); /* the card number says more than the serial */
	op.object = mssl__asprintf("card %" PRId64, f.c.r.id);
	if ((rc = code_hash(ctx, code, fu.u.code_hash, err)) < 0) {
		rc = mssl__op_end(&op, rc);
		goto done;
	}
	rc = ctx->sops->unlock_find(op.conn, f.c.r.id, fu.u.code_hash,
				    unlock_cb, &fu);
	if (rc == MSSL_ENOENT) {
		rc = mssl__error_set(err, MSSL_EPERM, "card.unlock_refused",
				     NULL, N_("wrong unlock code"));
		goto refused;
	}
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	if (fu.u.used != want || fu.u.expires < now) {
		rc = mssl__error_set(err, MSSL_EPERM, "card.unlock_refused",
				     NULL,
				     fu.u.expires < now ?
					     N_("the unlock code has expired") :
					     N_("the unlock code was used already"));
		goto refused;
	}
	rc = ctx->sops->unlock_set_used(op.conn, fu.u.id, want + 1);
	if (rc == 0 && want == 1)
		rc = ctx->sops->card_set_state(op.conn, f.c.r.id, "active");
	if (rc == 0)
		rc = ctx->sops->login_failure_clear(op.conn, key);
	if (rc < 0) {
		rc = mssl__op_end(&op, mssl__op_store_error(&op, rc));
		goto done;
	}
	if (want == 0)
		rc = mssl__card_so_pin(ctx, serial, so_pin, err);
	snprintf(op.detail, sizeof(op.detail), "unlock %" PRId64 " %s",
		 fu.u.id,
		 want == 0 ? "SO PIN released" : "card unblocked, active");
	rc = mssl__op_end(&op, rc);
	goto done;
refused:
	/* The failure counts; the reason goes to the audit log only. */
	if (ctx->sops->login_failure_add(op.conn, key, now) < 0)
		rc = mssl__op_end(&op, rc);
	else
		rc = mssl__op_end_refused(&op, rc);
	mssl__error_set(err, MSSL_EPERM, "card.unlock_refused", NULL,
			N_("the unlock was refused: check the account ID, the card and the code, or ask the CA for a new unlock"));
done:
	mssl_actor_free(anon);
	return rc;
}

MSSL_API int mssl_card_unlock_begin(mssl_ctx *ctx, const char *account_id,
				    const char *token_serial,
				    const char *code, const char *remote,
				    char so_pin[MSSL_SO_PIN_LEN + 1],
				    mssl_error *err)
{
	int rc;

	return_val_if_fail(ctx && so_pin, MSSL_EINVAL);
	so_pin[0] = '\0';
	rc = unlock_step(ctx, account_id, token_serial, code, remote, 0,
			 so_pin, err);
	if (rc < 0)
		gnutls_memset(so_pin, 0, MSSL_SO_PIN_LEN + 1);
	return rc;
}

MSSL_API int mssl_card_unlock_done(mssl_ctx *ctx, const char *account_id,
				   const char *token_serial, const char *code,
				   const char *remote, mssl_error *err)
{
	return_val_if_fail(ctx, MSSL_EINVAL);
	return unlock_step(ctx, account_id, token_serial, code, remote, 1,
			   NULL, err);
}
