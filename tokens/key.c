/*
 * The card's login key: finding it, signing with it, its public key and
 * its certificate.
 *
 * Signatures leave this file in the form X.509 and GnuTLS verify (DER
 * ECDSA-Sig-Value, PKCS#1 v1.5 or PSS), whatever mechanism the card
 * offered, so that the server verifies every card the same way.
 */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* ---- objects and attributes ------------------------------------------- */

/* All objects matching tmpl; *objs is the caller's. */
static int find_objects(mssl_token *tok, CK_ATTRIBUTE *tmpl, CK_ULONG n,
			CK_OBJECT_HANDLE **objs, size_t *count, mssl_error *err)
{
	CK_OBJECT_HANDLE *list = NULL, *bigger, batch[16];
	CK_ULONG got = 0, i;
	size_t total = 0;
	CK_RV rv;
	int rc = 0;

	rv = tok->fn->C_FindObjectsInit(tok->session, tmpl, n);
	if (rv != CKR_OK)
		return mssl__token_ckr(err, rv, "C_FindObjectsInit");
	for (;;) {
		rv = tok->fn->C_FindObjects(tok->session, batch,
					    TOKEN_ARRAY_SIZE(batch), &got);
		if (rv != CKR_OK) {
			rc = mssl__token_ckr(err, rv, "C_FindObjects");
			break;
		}
		if (got == 0)
			break;
		bigger = realloc(list, (total + got) * sizeof(*list));
		if (!bigger) {
			rc = MSSL_ENOMEM;
			break;
		}
		list = bigger;
		for (i = 0; i < got; i++)
			list[total++] = batch[i];
	}
	tok->fn->C_FindObjectsFinal(tok->session);
	if (rc) {
		free(list);
		return rc;
	}
	*objs = list;
	*count = total;
	return 0;
}

/*
 * One attribute's value; *val is the caller's (NULL with *len 0 when the
 * value is empty).  Returns the module's CK_RV: CKR_ATTRIBUTE_TYPE_INVALID
 * or CKR_ATTRIBUTE_SENSITIVE when the object has no readable value.
 */
static CK_RV get_attr(mssl_token *tok, CK_OBJECT_HANDLE obj,
		      CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = tok->fn->C_GetAttributeValue(tok->session, obj, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (a.ulValueLen == 0)
		return CKR_OK;
	a.pValue = malloc(a.ulValueLen);
	if (!a.pValue)
		return CKR_HOST_MEMORY;
	rv = tok->fn->C_GetAttributeValue(tok->session, obj, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/* A CK_ULONG or CK_BBOOL attribute; false when unreadable. */
static bool get_ulong(mssl_token *tok, CK_OBJECT_HANDLE obj,
		      CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
	CK_ATTRIBUTE a = { type, out, sizeof(*out) };

	return tok->fn->C_GetAttributeValue(tok->session, obj, &a, 1) ==
		       CKR_OK &&
	       a.ulValueLen == sizeof(*out);
}

static bool get_bool(mssl_token *tok, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, CK_BBOOL *out)
{
	CK_ATTRIBUTE a = { type, out, sizeof(*out) };

	return tok->fn->C_GetAttributeValue(tok->session, obj, &a, 1) ==
		       CKR_OK &&
	       a.ulValueLen == sizeof(*out);
}

struct idbuf {
	uint8_t *id;
	size_t len;
};

static bool same_id(const struct idbuf *a, const struct idbuf *b)
{
	return a->len && a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

static void ids_free(struct idbuf *ids, size_t n)
{
	size_t i;

	for (i = 0; ids && i < n; i++)
		free(ids[i].id);
	free(ids);
}

/* CKA_ID of each object; an object without one gets an empty id. */
static int read_ids(mssl_token *tok, const CK_OBJECT_HANDLE *objs, size_t n,
		    struct idbuf **out)
{
	struct idbuf *ids = calloc(n ? n : 1, sizeof(*ids));
	size_t i;

	if (!ids)
		return MSSL_ENOMEM;
	for (i = 0; i < n; i++) {
		if (get_attr(tok, objs[i], CKA_ID, &ids[i].id, &ids[i].len) ==
		    CKR_HOST_MEMORY) {
			ids_free(ids, n);
			return MSSL_ENOMEM;
		}
	}
	*out = ids;
	return 0;
}

static int find_certs(mssl_token *tok, CK_OBJECT_HANDLE **objs, size_t *n,
		      mssl_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
	};

	return find_objects(tok, tmpl, TOKEN_ARRAY_SIZE(tmpl), objs, n, err);
}

/* ---- the login key ------------------------------------------------------- */

struct login_key {
	CK_OBJECT_HANDLE handle;
	CK_KEY_TYPE type;
	struct idbuf id;
};

static void login_key_clear(struct login_key *k)
{
	free(k->id.id);
	memset(k, 0, sizeof(*k));
}

static int not_logged_in(mssl_error *err)
{
	return mssl_error_set(err, MSSL_ESTATE, "token.not_logged_in", "pin",
			      N_("Log in to the card first."));
}

/*
 * The private keys that may sign (an unreadable CKA_SIGN may): the
 * candidates for the login key.  *keys is the caller's.
 */
static int find_signing_keys(mssl_token *tok, CK_OBJECT_HANDLE **keys,
			     size_t *n, mssl_error *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *all = NULL;
	size_t n_all = 0, i, n_sign = 0;
	CK_BBOOL can_sign;
	int rc;

	rc = find_objects(tok, tmpl, TOKEN_ARRAY_SIZE(tmpl), &all, &n_all, err);
	if (rc)
		return rc;
	for (i = 0; i < n_all; i++)
		if (!get_bool(tok, all[i], CKA_SIGN, &can_sign) || can_sign)
			all[n_sign++] = all[i];
	*keys = all;
	*n = n_sign;
	return 0;
}

/*
 * The private key that signs logins: the only signing key, or the one
 * whose CKA_ID is that of a certificate on the card (cards also carry
 * keys for other uses).
 */
static int find_login_key(mssl_token *tok, struct login_key *k, mssl_error *err)
{
	CK_OBJECT_HANDLE *keys = NULL, *certs = NULL;
	struct idbuf *key_ids = NULL, *cert_ids = NULL;
	size_t n_certs = 0, i, j, n_sign = 0, n_match = 0;
	size_t pick = 0;
	int rc;

	memset(k, 0, sizeof(*k));
	if (!tok->logged_in)
		return not_logged_in(err);
	rc = find_signing_keys(tok, &keys, &n_sign, err);
	if (rc)
		goto out;
	if (n_sign == 0) {
		rc = mssl_error_set(err, MSSL_ENOENT, "token.no_key", NULL,
				    N_("The card holds no signing key."));
		goto out;
	}
	rc = read_ids(tok, keys, n_sign, &key_ids);
	if (rc)
		goto out;
	if (n_sign > 1) {
		rc = find_certs(tok, &certs, &n_certs, err);
		if (rc)
			goto out;
		rc = read_ids(tok, certs, n_certs, &cert_ids);
		if (rc)
			goto out;
		for (i = 0; i < n_sign; i++) {
			for (j = 0; j < n_certs; j++)
				if (same_id(&key_ids[i], &cert_ids[j]))
					break;
			if (j < n_certs) {
				pick = i;
				n_match++;
			}
		}
		if (n_match != 1) {
			rc = mssl_error_set(
				err, MSSL_EINPUT, "token.key_ambiguous", NULL,
				N_("The card holds %zu signing keys and not "
				   "exactly one of them has a certificate: "
				   "cannot tell which one logs in."),
				n_sign);
			goto out;
		}
	}
	k->handle = keys[pick];
	k->id = key_ids[pick];
	key_ids[pick].id = NULL;
	if (!get_ulong(tok, k->handle, CKA_KEY_TYPE, &k->type))
		k->type = CKK_VENDOR_DEFINED;
	if (k->type != CKK_EC && k->type != CKK_RSA) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.no_mechanism",
				    NULL,
				    N_("The card's key is of a type mssl does "
				       "not sign with (CKK 0x%lx): only RSA "
				       "and ECDSA keys are used."),
				    (unsigned long)k->type);
		login_key_clear(k);
	}
out:
	ids_free(key_ids, n_sign);
	ids_free(cert_ids, n_certs);
	free(keys);
	free(certs);
	return rc;
}

/* ---- mechanisms -------------------------------------------------------- */

/*
 * Does the card offer 'mech' for 'flag' (CKF_SIGN, ...) and, when 'bits'
 * is not 0 and the card states a range, for keys of that size?
 */
static bool offers_for(mssl_token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS flag,
		       CK_ULONG bits)
{
	CK_MECHANISM_INFO mi;
	size_t i;

	for (i = 0; i < tok->n_mechs; i++)
		if (tok->mechs[i] == mech)
			break;
	if (i == tok->n_mechs)
		return false;
	if (tok->fn->C_GetMechanismInfo(tok->slot, mech, &mi) != CKR_OK ||
	    !(mi.flags & flag))
		return false;
	return !bits || !mi.ulMaxKeySize ||
	       (bits >= mi.ulMinKeySize && bits <= mi.ulMaxKeySize);
}

static bool offers(mssl_token *tok, CK_MECHANISM_TYPE mech)
{
	return offers_for(tok, mech, CKF_SIGN, 0);
}

int mssl__token_deny_mechanism(mssl_token *tok, CK_MECHANISM_TYPE mech)
{
	size_t i;

	for (i = 0; i < tok->n_mechs; i++) {
		if (tok->mechs[i] != mech)
			continue;
		tok->mechs[i] = tok->mechs[--tok->n_mechs];
		return 0;
	}
	return MSSL_ENOENT;
}

/* C_SignInit + C_Sign; *out is the caller's (malloc). */
static int card_sign(mssl_token *tok, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		     const uint8_t *in, size_t in_len, uint8_t **out,
		     size_t *out_len, mssl_error *err)
{
	/* Enough for RSA-16384: one call, and no operation left open by a
	 * failed allocation between a length query and the signature. */
	uint8_t local[2048], *buf = local, *copy;
	CK_ULONG len = sizeof(local);
	CK_RV rv;
	int rc = 0;

	rv = tok->fn->C_SignInit(tok->session, mech, key);
	if (rv != CKR_OK)
		goto fail;
	rv = tok->fn->C_Sign(tok->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len,
			     buf, &len);
	if (rv == CKR_BUFFER_TOO_SMALL) {
		buf = malloc(len);
		if (!buf)
			return MSSL_ENOMEM;
		rv = tok->fn->C_Sign(tok->session, (CK_BYTE_PTR)in,
				     (CK_ULONG)in_len, buf, &len);
	}
	if (rv != CKR_OK)
		goto fail;
	copy = malloc(len ? len : 1);
	if (!copy) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	memcpy(copy, buf, len);
	*out = copy;
	*out_len = len;
	goto out;
fail:
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		tok->logged_in = false;
		rc = not_logged_in(err);
	} else {
		rc = mssl__token_ckr(err, rv, "C_Sign");
	}
out:
	if (buf != local)
		free(buf);
	return rc;
}

/* Copy a GnuTLS datum into malloc memory (callers free with mssl_free). */
static int take_datum(gnutls_datum_t *d, uint8_t **out, size_t *len)
{
	uint8_t *p = malloc(d->size ? d->size : 1);

	if (!p) {
		gnutls_free(d->data);
		d->data = NULL;
		return MSSL_ENOMEM;
	}
	memcpy(p, d->data, d->size);
	*out = p;
	*len = d->size;
	gnutls_free(d->data);
	d->data = NULL;
	return 0;
}

static int no_mechanism(mssl_error *err, const char *kind)
{
	return mssl_error_set(err, MSSL_ECRYPTO, "token.no_mechanism", NULL,
			      N_("The card offers no %s signature mechanism "
				 "mssl can use."),
			      kind);
}

static int sign_ec(mssl_token *tok, const struct login_key *k, const void *data,
		   size_t len, const uint8_t *hash, uint8_t **sig,
		   size_t *sig_len, int *alg, mssl_error *err)
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	gnutls_datum_t r, s, der = { NULL, 0 };
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int rc;

	if (offers(tok, CKM_ECDSA)) {
		rc = card_sign(tok, &mech, k->handle, hash, 32, &raw, &raw_len,
			       err);
	} else if (offers(tok, CKM_ECDSA_SHA256)) {
		mech.mechanism = CKM_ECDSA_SHA256;
		rc = card_sign(tok, &mech, k->handle, data, len, &raw, &raw_len,
			       err);
	} else {
		return no_mechanism(err, "ECDSA");
	}
	if (rc)
		return rc;
	/* PKCS#11 gives r||s, each as long as the curve's order. */
	if (raw_len == 0 || raw_len % 2) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				    N_("The card returned a malformed ECDSA "
				       "signature (%zu bytes)."),
				    raw_len);
		goto out;
	}
	r.data = raw;
	r.size = (unsigned int)(raw_len / 2);
	s.data = raw + raw_len / 2;
	s.size = r.size;
	if (gnutls_encode_rs_value(&der, &r, &s) < 0) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	rc = take_datum(&der, sig, sig_len);
	if (!rc)
		*alg = GNUTLS_SIGN_ECDSA_SHA256;
out:
	free(raw);
	return rc;
}

static int sign_rsa(mssl_token *tok, const struct login_key *k,
		    const void *data, size_t len, const uint8_t *hash,
		    uint8_t **sig, size_t *sig_len, int *alg, mssl_error *err)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	gnutls_datum_t digest = { (unsigned char *)hash, 32 };
	gnutls_datum_t info = { NULL, 0 };
	int rc;

	if (offers(tok, CKM_SHA256_RSA_PKCS)) {
		rc = card_sign(tok, &mech, k->handle, data, len, sig, sig_len,
			       err);
		*alg = GNUTLS_SIGN_RSA_SHA256;
	} else if (offers(tok, CKM_RSA_PKCS)) {
		/* Raw PKCS#1 v1.5: the card pads what it gets, so it gets
		 * DigestInfo(SHA-256, hash), as the hashing mechanism would
		 * have built. */
		if (gnutls_encode_ber_digest_info(GNUTLS_DIG_SHA256, &digest,
						  &info) < 0)
			return MSSL_ENOMEM;
		mech.mechanism = CKM_RSA_PKCS;
		rc = card_sign(tok, &mech, k->handle, info.data, info.size, sig,
			       sig_len, err);
		gnutls_free(info.data);
		*alg = GNUTLS_SIGN_RSA_SHA256;
	} else if (offers(tok, CKM_SHA256_RSA_PKCS_PSS) ||
		   offers(tok, CKM_RSA_PKCS_PSS)) {
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
		if (offers(tok, CKM_SHA256_RSA_PKCS_PSS)) {
			mech.mechanism = CKM_SHA256_RSA_PKCS_PSS;
			rc = card_sign(tok, &mech, k->handle, data, len, sig,
				       sig_len, err);
		} else {
			mech.mechanism = CKM_RSA_PKCS_PSS;
			rc = card_sign(tok, &mech, k->handle, hash, 32, sig,
				       sig_len, err);
		}
		/* An rsaEncryption key signing with PSS ("RSAE"). */
		*alg = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	} else {
		return no_mechanism(err, "RSA");
	}
	return rc;
}

MSSL_API int mssl_token_sign(mssl_token *tok, const void *data, size_t len,
			     uint8_t **sig, size_t *sig_len, int *alg,
			     mssl_error *err)
{
	struct login_key k;
	uint8_t hash[32];
	int a = GNUTLS_SIGN_UNKNOWN, rc;

	return_val_if_fail(tok && (data || !len) && sig && sig_len && alg,
			   MSSL_EINVAL);
	*sig = NULL;
	*sig_len = 0;
	rc = find_login_key(tok, &k, err);
	if (rc)
		return rc;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, hash) < 0) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				    N_("SHA-256 is not available."));
		goto out;
	}
	if (k.type == CKK_EC)
		rc = sign_ec(tok, &k, data, len, hash, sig, sig_len, &a, err);
	else
		rc = sign_rsa(tok, &k, data, len, hash, sig, sig_len, &a, err);
	if (!rc)
		*alg = a;
out:
	login_key_clear(&k);
	return rc;
}

/* ---- public key and certificate ----------------------------------------- */

static int pubkey_from_cert(gnutls_pubkey_t pub, const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	gnutls_x509_crt_t crt = NULL;
	int r;

	r = gnutls_x509_crt_init(&crt);
	if (r < 0)
		return r;
	r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_pubkey_import_x509(pub, crt, 0);
	gnutls_x509_crt_deinit(crt);
	return r;
}

/*
 * CKA_EC_POINT is a DER OCTET STRING by the standard, yet some modules
 * give the bare point: try it as given, then wrapped.
 */
static int import_ec(gnutls_pubkey_t pub, const uint8_t *params,
		     size_t params_len, const uint8_t *point, size_t point_len)
{
	gnutls_datum_t p = { (unsigned char *)params,
			     (unsigned int)params_len };
	gnutls_datum_t q = { (unsigned char *)point, (unsigned int)point_len };
	uint8_t wrapped[2 + 127];
	int r;

	r = gnutls_pubkey_import_ecc_x962(pub, &p, &q);
	if (r >= 0 || point_len > 127)
		return r;
	wrapped[0] = 0x04; /* OCTET STRING */
	wrapped[1] = (uint8_t)point_len;
	memcpy(wrapped + 2, point, point_len);
	q.data = wrapped;
	q.size = (unsigned int)point_len + 2;
	return gnutls_pubkey_import_ecc_x962(pub, &p, &q);
}

/* The key's public half from an object holding its public attributes. */
static int pubkey_from_object(mssl_token *tok, CK_OBJECT_HANDLE obj,
			      CK_KEY_TYPE type, gnutls_pubkey_t pub)
{
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;
	gnutls_datum_t m, e;
	int r = GNUTLS_E_INVALID_REQUEST;

	if (type == CKK_RSA) {
		if (get_attr(tok, obj, CKA_MODULUS, &a, &a_len) != CKR_OK ||
		    get_attr(tok, obj, CKA_PUBLIC_EXPONENT, &b, &b_len) !=
			    CKR_OK ||
		    !a_len || !b_len)
			goto out;
		m.data = a;
		m.size = (unsigned int)a_len;
		e.data = b;
		e.size = (unsigned int)b_len;
		r = gnutls_pubkey_import_rsa_raw(pub, &m, &e);
	} else {
		if (get_attr(tok, obj, CKA_EC_PARAMS, &a, &a_len) != CKR_OK ||
		    get_attr(tok, obj, CKA_EC_POINT, &b, &b_len) != CKR_OK ||
		    !a_len || !b_len)
			goto out;
		r = import_ec(pub, a, a_len, b, b_len);
	}
out:
	free(a);
	free(b);
	return r;
}

/* Objects of class cls with the login key's CKA_ID. */
static int find_by_id(mssl_token *tok, CK_OBJECT_CLASS cls,
		      const struct idbuf *id, CK_OBJECT_HANDLE **objs,
		      size_t *n, mssl_error *err)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, id->id, id->len },
	};

	/* A key without an id pairs with nothing. */
	if (!id->len) {
		*objs = NULL;
		*n = 0;
		return 0;
	}
	return find_objects(tok, tmpl, TOKEN_ARRAY_SIZE(tmpl), objs, n, err);
}

/* A public key as a DER SubjectPublicKeyInfo; *der is the caller's. */
static int export_spki(gnutls_pubkey_t pub, uint8_t **der, size_t *len,
		       mssl_error *err)
{
	gnutls_datum_t out = { NULL, 0 };

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &out) < 0)
		return mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				      N_("The card's public key cannot be "
					 "encoded."));
	return take_datum(&out, der, len);
}

/* The SubjectPublicKeyInfo of key k, as mssl_token_pubkey says. */
static int login_spki(mssl_token *tok, const struct login_key *k, uint8_t **der,
		      size_t *len, mssl_error *err)
{
	CK_OBJECT_HANDLE *objs = NULL;
	gnutls_pubkey_t pub = NULL;
	uint8_t *value = NULL;
	size_t n = 0, value_len = 0, i;
	int rc, r = GNUTLS_E_INVALID_REQUEST;

	if (gnutls_pubkey_init(&pub) < 0)
		return MSSL_ENOMEM;
	rc = find_by_id(tok, CKO_PUBLIC_KEY, &k->id, &objs, &n, err);
	if (rc)
		goto out;
	for (i = 0; i < n && r < 0; i++)
		r = pubkey_from_object(tok, objs[i], k->type, pub);
	free(objs);
	objs = NULL;
	if (r < 0) {
		rc = find_by_id(tok, CKO_CERTIFICATE, &k->id, &objs, &n, err);
		if (rc)
			goto out;
		for (i = 0; i < n && r < 0; i++) {
			if (get_attr(tok, objs[i], CKA_VALUE, &value,
				     &value_len) == CKR_OK)
				r = pubkey_from_cert(pub, value, value_len);
			free(value);
			value = NULL;
		}
	}
	/* An RSA private key carries its modulus and exponent too. */
	if (r < 0 && k->type == CKK_RSA)
		r = pubkey_from_object(tok, k->handle, k->type, pub);
	if (r < 0) {
		rc = mssl_error_set(err, MSSL_ENOENT, "token.no_key", NULL,
				    N_("The card holds neither the public key "
				       "nor a certificate of its login key."));
		goto out;
	}
	rc = export_spki(pub, der, len, err);
out:
	free(objs);
	gnutls_pubkey_deinit(pub);
	return rc;
}

MSSL_API int mssl_token_pubkey(mssl_token *tok, uint8_t **der, size_t *len,
			       mssl_error *err)
{
	struct login_key k;
	int rc;

	return_val_if_fail(tok && der && len, MSSL_EINVAL);
	*der = NULL;
	*len = 0;
	rc = find_login_key(tok, &k, err);
	if (rc)
		return rc;
	rc = login_spki(tok, &k, der, len, err);
	login_key_clear(&k);
	return rc;
}

MSSL_API int mssl_token_cert(mssl_token *tok, uint8_t **der, size_t *len,
			     mssl_error *err)
{
	CK_OBJECT_HANDLE *objs = NULL;
	struct login_key k = { 0 };
	size_t n = 0;
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && der && len, MSSL_EINVAL);
	*der = NULL;
	*len = 0;
	if (tok->logged_in) {
		rc = find_login_key(tok, &k, err);
		if (rc)
			return rc;
		rc = find_by_id(tok, CKO_CERTIFICATE, &k.id, &objs, &n, err);
	} else {
		rc = mssl__token_need_session(tok, err);
		if (!rc)
			rc = find_certs(tok, &objs, &n, err);
	}
	if (rc)
		goto out;
	if (n == 0) {
		rc = mssl_error_set(err, MSSL_ENOENT, "token.no_key", NULL,
				    N_("The card holds no certificate for "
				       "its login key."));
		goto out;
	}
	if (n > 1) {
		rc = mssl_error_set(err, MSSL_EINPUT, "token.key_ambiguous",
				    NULL,
				    N_("The card holds %zu certificates: log "
				       "in to pick the login key's."),
				    n);
		goto out;
	}
	rv = get_attr(tok, objs[0], CKA_VALUE, der, len);
	if (rv != CKR_OK)
		rc = mssl__token_ckr(err, rv, "C_GetAttributeValue");
out:
	free(objs);
	login_key_clear(&k);
	return rc;
}

/* ---- enrolment: the key pair and its certificate ------------------------ */

/* DER OID 1.2.840.10045.3.1.7: the curve P-256 (prime256v1). */
static const uint8_t p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x03, 0x01, 0x07 };
/* The public exponent 65537. */
static const uint8_t f4_exponent[] = { 0x01, 0x00, 0x01 };

/* Can the card generate a key of this type and sign with it as we do? */
static bool can_make(mssl_token *tok, int type)
{
	if (type == MSSL_TOKEN_KEY_EC_P256)
		return offers_for(tok, CKM_EC_KEY_PAIR_GEN,
				  CKF_GENERATE_KEY_PAIR, 256) &&
		       (offers(tok, CKM_ECDSA) ||
			offers(tok, CKM_ECDSA_SHA256));
	return offers_for(tok, CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR,
			  2048) &&
	       (offers(tok, CKM_SHA256_RSA_PKCS) || offers(tok, CKM_RSA_PKCS) ||
		offers(tok, CKM_SHA256_RSA_PKCS_PSS) ||
		offers(tok, CKM_RSA_PKCS_PSS));
}

static const char *key_type_name(int type)
{
	return type == MSSL_TOKEN_KEY_EC_P256 ? "ECDSA P-256" : "RSA-2048";
}

static int destroy(mssl_token *tok, CK_OBJECT_HANDLE obj, mssl_error *err)
{
	CK_RV rv = tok->fn->C_DestroyObject(tok->session, obj);

	return rv == CKR_OK ? 0 : mssl__token_ckr(err, rv, "C_DestroyObject");
}

/* Objects of class cls with CKA_ID id, destroyed; 0 when none. */
static int destroy_by_id(mssl_token *tok, CK_OBJECT_CLASS cls,
			 const struct idbuf *id, mssl_error *err)
{
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n = 0, i;
	int rc;

	rc = find_by_id(tok, cls, id, &objs, &n, err);
	for (i = 0; !rc && i < n; i++)
		rc = destroy(tok, objs[i], err);
	free(objs);
	return rc;
}

/*
 * The old login keys, with the public keys and certificates sharing
 * their CKA_ID: what MSSL_TOKEN_KEYGEN_REPLACE removes.
 */
static int destroy_keys(mssl_token *tok, const CK_OBJECT_HANDLE *keys, size_t n,
			mssl_error *err)
{
	struct idbuf *ids = NULL;
	size_t i;
	int rc;

	rc = read_ids(tok, keys, n, &ids);
	for (i = 0; !rc && i < n; i++) {
		rc = destroy_by_id(tok, CKO_CERTIFICATE, &ids[i], err);
		if (!rc)
			rc = destroy_by_id(tok, CKO_PUBLIC_KEY, &ids[i], err);
		if (!rc)
			rc = destroy(tok, keys[i], err);
	}
	ids_free(ids, n);
	return rc;
}

MSSL_API int mssl_token_keygen(mssl_token *tok, int type, unsigned int flags,
			       const char *label, uint8_t **spki,
			       size_t *spki_len, int *made, mssl_error *err)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, b;
	CK_ULONG bits = 2048;
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub_h = CK_INVALID_HANDLE, priv_h = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE *old = NULL;
	CK_KEY_TYPE ktype = CKK_RSA;
	gnutls_pubkey_t pub = NULL;
	uint8_t id[16];
	size_t n_old = 0, label_len;
	CK_ULONG n_pub = 0, n_priv = 0;
	CK_ATTRIBUTE pub_tmpl[8], priv_tmpl[8];
	bool kept = false;
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && spki && spki_len && made, MSSL_EINVAL);
	return_val_if_fail(type == MSSL_TOKEN_KEY_AUTO ||
				   type == MSSL_TOKEN_KEY_EC_P256 ||
				   type == MSSL_TOKEN_KEY_RSA_2048,
			   MSSL_EINVAL);
	return_val_if_fail(!(flags & ~(unsigned int)MSSL_TOKEN_KEYGEN_REPLACE),
			   MSSL_EINVAL);
	*spki = NULL;
	*spki_len = 0;
	*made = MSSL_TOKEN_KEY_AUTO;
	if (!label)
		label = MSSL_TOKEN_KEY_LABEL;
	label_len = strlen(label);
	if (!tok->logged_in)
		return not_logged_in(err);
	if (type == MSSL_TOKEN_KEY_AUTO)
		type = can_make(tok, MSSL_TOKEN_KEY_EC_P256) ?
			       MSSL_TOKEN_KEY_EC_P256 :
			       MSSL_TOKEN_KEY_RSA_2048;
	if (!can_make(tok, type))
		return mssl_error_set(err, MSSL_ECRYPTO, "token.no_mechanism",
				      NULL,
				      N_("The card cannot make %s keys that "
					 "mssl signs with."),
				      key_type_name(type));
	rc = find_signing_keys(tok, &old, &n_old, err);
	if (rc)
		return rc;
	if (n_old && !(flags & MSSL_TOKEN_KEYGEN_REPLACE)) {
		rc = mssl_error_set(err, MSSL_EEXIST, "token.key_exists", NULL,
				    N_("The card already holds a signing key: "
				       "it is replaced only when asked to."));
		goto out;
	}
	/*
	 * A random CKA_ID, set as the pair is made: setting it afterwards
	 * (a hash of the public key) needs CKA_ID modifiable, which not
	 * every card allows.
	 */
	if (gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id)) < 0) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				    N_("No random numbers for the key's "
				       "identifier."));
		goto out;
	}
#define ADD(t, n, type_, ptr, len)                                             \
	do {                                                                   \
		(t)[(n)].type = (type_);                                       \
		(t)[(n)].pValue = (void *)(ptr);                               \
		(t)[(n)].ulValueLen = (CK_ULONG)(len);                         \
		(n)++;                                                         \
	} while (0)
	ADD(pub_tmpl, n_pub, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub_tmpl, n_pub, CKA_PRIVATE, &no, sizeof(no));
	ADD(pub_tmpl, n_pub, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub_tmpl, n_pub, CKA_ID, id, sizeof(id));
	ADD(pub_tmpl, n_pub, CKA_LABEL, label, label_len);
	ADD(priv_tmpl, n_priv, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv_tmpl, n_priv, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv_tmpl, n_priv, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(priv_tmpl, n_priv, CKA_EXTRACTABLE, &no, sizeof(no));
	ADD(priv_tmpl, n_priv, CKA_SIGN, &yes, sizeof(yes));
	ADD(priv_tmpl, n_priv, CKA_ID, id, sizeof(id));
	ADD(priv_tmpl, n_priv, CKA_LABEL, label, label_len);
	if (type == MSSL_TOKEN_KEY_EC_P256) {
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		ktype = CKK_EC;
		ADD(pub_tmpl, n_pub, CKA_EC_PARAMS, p256_params,
		    sizeof(p256_params));
	} else {
		ADD(pub_tmpl, n_pub, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ADD(pub_tmpl, n_pub, CKA_PUBLIC_EXPONENT, f4_exponent,
		    sizeof(f4_exponent));
	}
#undef ADD
	rv = tok->fn->C_GenerateKeyPair(tok->session, &mech, pub_tmpl, n_pub,
					priv_tmpl, n_priv, &pub_h, &priv_h);
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		tok->logged_in = false;
		rc = not_logged_in(err);
		goto out;
	}
	if (rv != CKR_OK) {
		rc = mssl__token_ckr(err, rv, "C_GenerateKeyPair");
		goto out;
	}
	/* Some modules ignore attributes they dislike: check the ones
	 * that keep the key on the card. */
	if ((get_bool(tok, priv_h, CKA_SENSITIVE, &b) && !b) ||
	    (get_bool(tok, priv_h, CKA_EXTRACTABLE, &b) && b)) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				    N_("The card made a private key it would "
				       "let out: removed again."));
		goto out;
	}
	if (gnutls_pubkey_init(&pub) < 0) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	if (pubkey_from_object(tok, pub_h, ktype, pub) < 0 &&
	    (ktype != CKK_RSA ||
	     pubkey_from_object(tok, priv_h, ktype, pub) < 0)) {
		rc = mssl_error_set(err, MSSL_ECRYPTO, "token.pkcs11", NULL,
				    N_("The card's new public key cannot be "
				       "read: the key pair is removed "
				       "again."));
		goto out;
	}
	rc = export_spki(pub, spki, spki_len, err);
	if (rc)
		goto out;
	/* The new pair stands: now the old ones may go. */
	kept = true;
	if (n_old) {
		rc = destroy_keys(tok, old, n_old, err);
		if (rc) {
			free(*spki);
			*spki = NULL;
			*spki_len = 0;
			goto out;
		}
	}
	*made = type;
out:
	if (!kept && priv_h != CK_INVALID_HANDLE)
		tok->fn->C_DestroyObject(tok->session, priv_h);
	if (!kept && pub_h != CK_INVALID_HANDLE)
		tok->fn->C_DestroyObject(tok->session, pub_h);
	if (pub)
		gnutls_pubkey_deinit(pub);
	free(old);
	return rc;
}

/* A DER INTEGER around the serial number's content octets. */
static size_t serial_integer(const uint8_t *serial, size_t len, uint8_t *out)
{
	out[0] = 0x02;
	out[1] = (uint8_t)len;
	memcpy(out + 2, serial, len);
	return len + 2;
}

static int bad_cert(mssl_error *err, int r)
{
	return mssl_error_set(err, MSSL_EINPUT, "token.cert", "cert",
			      N_("Not a DER X.509 certificate mssl can store "
				 "on a card: %s."),
			      gnutls_strerror(r));
}

MSSL_API int mssl_token_write_cert(mssl_token *tok, const uint8_t *der,
				   size_t len, const char *label,
				   mssl_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ctype = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE *old = NULL, obj;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	gnutls_datum_t subject = { NULL, 0 }, issuer = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t cpub = NULL;
	struct login_key k = { 0 };
	uint8_t serial[64], serial_der[2 + sizeof(serial)];
	uint8_t *cert_spki = NULL, *key_spki = NULL;
	size_t serial_len = sizeof(serial), cert_spki_len = 0;
	size_t key_spki_len = 0, n_old = 0, i;
	CK_RV rv;
	int rc, r;

	return_val_if_fail(tok && der && len && len <= UINT_MAX, MSSL_EINVAL);
	if (!label)
		label = MSSL_TOKEN_KEY_LABEL;
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&cpub) < 0) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_x509_crt_get_raw_dn(crt, &subject);
	if (r >= 0)
		r = gnutls_x509_crt_get_raw_issuer_dn(crt, &issuer);
	/* RFC 5280 allows 20 octets; 64 leave room for careless CAs and
	 * keep the INTEGER's length in one byte. */
	if (r >= 0)
		r = gnutls_x509_crt_get_serial(crt, serial, &serial_len);
	if (r >= 0 && serial_len == 0)
		r = GNUTLS_E_ASN1_DER_ERROR;
	if (r >= 0)
		r = gnutls_pubkey_import_x509(cpub, crt, 0);
	if (r < 0) {
		rc = bad_cert(err, r);
		goto out;
	}
	rc = export_spki(cpub, &cert_spki, &cert_spki_len, err);
	if (rc)
		goto out;
	rc = find_login_key(tok, &k, err);
	if (rc)
		goto out;
	rc = login_spki(tok, &k, &key_spki, &key_spki_len, err);
	if (rc)
		goto out;
	if (cert_spki_len != key_spki_len ||
	    memcmp(cert_spki, key_spki, key_spki_len) != 0) {
		rc = mssl_error_set(err, MSSL_EINPUT, "token.cert_mismatch",
				    "cert",
				    N_("The certificate is not for this card: "
				       "its public key is not the card's "
				       "login key."));
		goto out;
	}
	if (!k.id.len) {
		rc = mssl_error_set(err, MSSL_ESTATE, "token.no_key", NULL,
				    N_("The card's login key has no "
				       "identifier (CKA_ID) to pair a "
				       "certificate with."));
		goto out;
	}
	rc = find_by_id(tok, CKO_CERTIFICATE, &k.id, &old, &n_old, err);
	if (rc)
		goto out;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			/* Public: read before login to choose the card. */
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, k.id.id, k.id.len },
			{ CKA_SUBJECT, subject.data, subject.size },
			{ CKA_ISSUER, issuer.data, issuer.size },
			{ CKA_SERIAL_NUMBER, serial_der,
			  serial_integer(serial, serial_len, serial_der) },
			{ CKA_VALUE, (void *)der, len },
		};

		rv = tok->fn->C_CreateObject(tok->session, tmpl,
					     TOKEN_ARRAY_SIZE(tmpl), &obj);
	}
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		tok->logged_in = false;
		rc = not_logged_in(err);
		goto out;
	}
	if (rv != CKR_OK) {
		rc = mssl__token_ckr(err, rv, "C_CreateObject");
		goto out;
	}
	/* The new certificate is on the card: the older ones may go. */
	for (i = 0; !rc && i < n_old; i++)
		rc = destroy(tok, old[i], err);
out:
	free(old);
	free(cert_spki);
	free(key_spki);
	login_key_clear(&k);
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	if (cpub)
		gnutls_pubkey_deinit(cpub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}
