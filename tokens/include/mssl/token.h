/*
 * libmssl-token: a person's IC card through any PKCS#11 module.
 *
 * Modules are loaded through p11-kit, by file path or by the name p11-kit
 * registers them under; cards are picked by PKCS#11 URI (RFC 7512).  The
 * library logs in, signs with the card's login key, changes and unblocks
 * the PIN, and reports the card's own PIN state; the card counts wrong
 * PINs and locks itself, and this library never retries a PIN.  For the
 * operator it also enrols a blank card: initialises it, sets its PINs,
 * generates the login key on the card and stores the card certificate.
 *
 * Conventions (those of libmssl, see mssl(3)):
 *  - Functions return 0 on success or a negative MSSL_E... code and fill
 *    an optional mssl_error with a stable id ("token.pin_locked", ...)
 *    and the message in English and Traditional Chinese.
 *  - Memory returned through uint8_t ** or char ** is the caller's; free
 *    it with mssl_free.  const pointers are borrowed from their owner.
 *  - PINs are passed with their length and are never copied, logged or
 *    kept; buffers this library fills with a PIN are the caller's to wipe.
 *  - An mssl_token_module may be used by several threads; each
 *    mssl_token by one thread at a time.  PKCS#11 keeps one login state
 *    per token and process: two mssl_token handles on the same card share
 *    it.
 *
 * Error ids:
 *   token.module           module not loadable
 *   token.none             no card present, or none matches the URI
 *   token.several          several cards present and no URI to choose
 *   token.uri              the URI does not parse
 *   token.pin_incorrect    wrong PIN (message says how many tries are left)
 *   token.pin_final_try    wrong PIN, one try left
 *   token.pin_locked       the card is locked after too many wrong PINs
 *                          (or has no user PIN at all)
 *   token.pin_len          the card refuses a PIN of that length
 *   token.pin_invalid      the card refuses characters of the PIN
 *   token.pin_policy       the new PIN breaks mssl's PIN policy
 *   token.pin_expired      the card wants its PIN (or SO PIN) changed first
 *   token.so_pin_incorrect wrong SO PIN;  token.so_pin_locked  SO PIN locked
 *   token.cancelled        PIN entry cancelled on the reader's PIN pad
 *   token.not_logged_in    the operation needs mssl_token_login first
 *   token.no_key           no login key (or certificate) on the card
 *   token.key_ambiguous    several keys or certificates and no way to choose
 *   token.no_mechanism     the card offers no signature mechanism we use
 *   token.removed          the card was removed
 *   token.blank            the card is not initialised (enrol it first)
 *   token.initialized      mssl_token_init on a card already initialised
 *   token.busy             another session of this process has the card
 *   token.label            a card label that is empty or too long
 *   token.key_exists       mssl_token_keygen on a card with a signing key
 *   token.cert             not a DER X.509 certificate
 *   token.cert_mismatch    a certificate for another key than the card's
 *   token.pkcs11           any other PKCS#11 failure (its CKR text kept)
 */
#ifndef MSSL_TOKEN_H
#define MSSL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <mssl/mssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The PIN every card is issued with; a PIN change must leave it. */
#define MSSL_TOKEN_ISSUED_PIN "12345678"
/* mssl's PIN policy: length in characters (bytes of UTF-8). */
#define MSSL_TOKEN_PIN_MIN 6
#define MSSL_TOKEN_PIN_MAX 16

typedef struct mssl_token_module mssl_token_module;
typedef struct mssl_token mssl_token;

/* PIN and token state, from the card's CK_TOKEN_INFO flags. */
enum mssl_token_flag {
	/* A wrong user PIN was given since the last good one. */
	MSSL_TOKEN_PIN_COUNT_LOW = 1 << 0,
	/* One more wrong user PIN locks the card. */
	MSSL_TOKEN_PIN_FINAL_TRY = 1 << 1,
	/* The user PIN is locked: only an unblock (SO PIN) helps. */
	MSSL_TOKEN_PIN_LOCKED = 1 << 2,
	/* The card asks for the user PIN to be changed. */
	MSSL_TOKEN_PIN_TO_BE_CHANGED = 1 << 3,
	MSSL_TOKEN_SO_PIN_COUNT_LOW = 1 << 4,
	MSSL_TOKEN_SO_PIN_FINAL_TRY = 1 << 5,
	MSSL_TOKEN_SO_PIN_LOCKED = 1 << 6,
	/* PINs are entered on the reader's PIN pad, not by the host. */
	MSSL_TOKEN_PROTECTED_PATH = 1 << 7,
	MSSL_TOKEN_INITIALIZED = 1 << 8,
	MSSL_TOKEN_PIN_INITIALIZED = 1 << 9,
	/* The SO PIN is still the one the card came with.  Blank tokens
	 * set it too (SoftHSM's free slot even says SO_PIN_LOCKED then). */
	MSSL_TOKEN_SO_PIN_TO_BE_CHANGED = 1 << 10,
};

/*
 * What a card says about itself.  The library allocates it; add members
 * at the end only.  Strings have the card's space padding removed.
 */
struct mssl_token_info {
	const char *label;
	const char *serial;
	const char *manufacturer;
	const char *model;
	/* A pkcs11: URI naming exactly this card (model, manufacturer,
	 * serial, token), for mssl_token_open. */
	const char *uri;
	unsigned int flags; /* enum mssl_token_flag */
	unsigned long min_pin_len; /* what the card itself accepts */
	unsigned long max_pin_len;
	unsigned long slot_id;
};

/* ---------------------------------------------------------------------
 * Modules
 * ------------------------------------------------------------------ */

/*
 * mssl_token_module_open - load and initialise a PKCS#11 module.
 * 'module' is a file path (it contains a '/' or ends in ".so": a bare
 * file name is looked up in p11-kit's module directory) or the name of a
 * module registered with p11-kit (e.g. "opensc-pkcs11", "softhsm2").
 * Other users of the same module in the process (GnuTLS, ...) are not
 * disturbed: p11-kit shares one initialisation among them.
 * On success *out is the caller's; free it with mssl_token_module_free
 * after every mssl_token opened on it.
 * Returns 0, MSSL_ECONFIG (token.module) when the module cannot be loaded
 * or initialised, MSSL_EINVAL, MSSL_ENOMEM.  Thread-safe.
 */
MSSL_API int mssl_token_module_open(const char *module, mssl_token_module **out,
				    mssl_error *err);

/*
 * mssl_token_module_free - finalise and unload; accepts NULL.
 * Not while a token opened on it is still in use.
 */
MSSL_API void mssl_token_module_free(mssl_token_module *m);

/*
 * mssl_token_module_path - the module's file name as p11-kit loaded it
 * (borrowed, lives as long as m).  Never NULL.
 */
MSSL_API const char *mssl_token_module_path(const mssl_token_module *m);

/*
 * mssl_token_list - call cb once per card present in the module's slots,
 * in slot order.  'info' is borrowed for the duration of the call.
 * Returns 0 (also when no card is present), or a negative MSSL_E... code
 * from the module (MSSL_EIO, token.pkcs11).  Thread-safe.
 */
MSSL_API int mssl_token_list(mssl_token_module *m,
			     void (*cb)(const struct mssl_token_info *info,
					void *ud),
			     void *ud, mssl_error *err);

/* ---------------------------------------------------------------------
 * Cards
 * ------------------------------------------------------------------ */

/*
 * mssl_token_open - open a session on one card.
 * 'uri' is a pkcs11: URI; its token, slot and library parts choose the
 * card (object parts such as id= are ignored).  With uri NULL or "" the
 * card is the only one present.  Blank (uninitialised) tokens count only
 * when no initialised card matches: SoftHSM and some readers always
 * offer one beside the real cards.  To open a blank token beside others,
 * pass the uri mssl_token_list reports for it.  A blank token may refuse
 * sessions (SoftHSM's does): it opens all the same, but only
 * mssl_token_info and mssl_token_init work on it until it is initialised
 * (the others return MSSL_ESTATE with token.blank).
 * On success *out is the caller's (mssl_token_free).
 * Returns 0; MSSL_EINPUT with token.uri for a URI that does not parse or
 * has parts this library does not know; MSSL_ENOENT with token.none when
 * no card is present or none matches; MSSL_EUSAGE with token.several
 * (listing each card's label and serial) when several match;
 * MSSL_EIO with token.pkcs11 or token.removed.  Thread-safe.
 */
MSSL_API int mssl_token_open(mssl_token_module *m, const char *uri,
			     mssl_token **out, mssl_error *err);

/*
 * mssl_token_free - log out, close the session; accepts NULL.
 */
MSSL_API void mssl_token_free(mssl_token *tok);

/*
 * mssl_token_info - the card's description and current PIN state.
 * Reads the card's flags afresh at every call (they change with every
 * wrong PIN); when the card cannot be read the last values stay.
 * Returns a pointer borrowed from tok, valid until the next call on tok
 * or mssl_token_free.  Never NULL.
 */
MSSL_API const struct mssl_token_info *mssl_token_info(mssl_token *tok);

/*
 * mssl_token_login - log the card holder in with the user PIN.
 * pin/len: the PIN's bytes (no terminator needed).  pin NULL logs in on
 * the reader's PIN pad when the card has one (MSSL_TOKEN_PROTECTED_PATH).
 * Sends the PIN once: never retries.  A previous login on the card is
 * ended first, so a success always means this PIN was right.
 * Returns 0; MSSL_EPERM with token.pin_incorrect or token.pin_final_try
 * (the message says how many tries are left, read back from the card);
 * MSSL_ESTATE with token.pin_locked, token.pin_expired; MSSL_EINPUT with
 * token.pin_len, token.pin_invalid; MSSL_EIO with token.removed or
 * token.pkcs11.
 */
MSSL_API int mssl_token_login(mssl_token *tok, const char *pin, size_t len,
			      mssl_error *err);

/* mssl_token_logout - end the login (harmless when not logged in). */
MSSL_API void mssl_token_logout(mssl_token *tok);

/*
 * mssl_token_sign - sign data with the card's login key: the private key
 * whose CKA_ID is that of a certificate on the card, or the only private
 * key.  The mechanism is chosen from those the card offers:
 *   EC:  CKM_ECDSA over SHA-256(data) (or CKM_ECDSA_SHA256); the card's
 *        raw r||s is returned DER-encoded (ECDSA-Sig-Value), as X.509
 *        and GnuTLS expect; *alg = GNUTLS_SIGN_ECDSA_SHA256.
 *   RSA: CKM_SHA256_RSA_PKCS, else CKM_RSA_PKCS over a DER DigestInfo of
 *        SHA-256(data) (*alg = GNUTLS_SIGN_RSA_SHA256 both); else PSS
 *        with SHA-256, MGF1-SHA-256 and a 32-byte salt
 *        (*alg = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256).
 * *alg is a gnutls_sign_algorithm_t value, for gnutls_pubkey_verify_data2.
 * Needs a logged-in card (private keys are invisible before).
 * On success *sig (free with mssl_free) and *sig_len are the caller's.
 * Returns 0; MSSL_ESTATE with token.not_logged_in; MSSL_ENOENT with
 * token.no_key; MSSL_EINPUT with token.key_ambiguous; MSSL_ECRYPTO with
 * token.no_mechanism; MSSL_EIO; MSSL_ENOMEM.
 */
MSSL_API int mssl_token_sign(mssl_token *tok, const void *data, size_t len,
			     uint8_t **sig, size_t *sig_len, int *alg,
			     mssl_error *err);

/*
 * mssl_token_pubkey - the login key's public key as a DER
 * SubjectPublicKeyInfo, from the card's public key object, else from the
 * certificate with the same CKA_ID, else (RSA) from the private key's
 * public attributes.  Needs a logged-in card.
 * On success *der (mssl_free) and *len are the caller's.
 * Returns 0 or as mssl_token_sign.
 */
MSSL_API int mssl_token_pubkey(mssl_token *tok, uint8_t **der, size_t *len,
			       mssl_error *err);

/*
 * mssl_token_cert - the card certificate (DER): when logged in, the one
 * with the login key's CKA_ID; otherwise the only X.509 certificate on
 * the card.  On success *der (mssl_free) and *len are the caller's.
 * Returns 0; MSSL_ENOENT with token.no_key when there is none;
 * MSSL_EINPUT with token.key_ambiguous when several and not logged in;
 * MSSL_EIO; MSSL_ENOMEM.
 */
MSSL_API int mssl_token_cert(mssl_token *tok, uint8_t **der, size_t *len,
			     mssl_error *err);

/* ---------------------------------------------------------------------
 * PINs
 * ------------------------------------------------------------------ */

/*
 * mssl_token_pin_check - mssl's policy for a PIN a person chooses:
 * MSSL_TOKEN_PIN_MIN to MSSL_TOKEN_PIN_MAX characters and not the issued
 * PIN.  'field' names the input in the error (may be NULL).
 * Returns 0 or MSSL_EINPUT with token.pin_policy.  Thread-safe.
 */
MSSL_API int mssl_token_pin_check(const char *pin, size_t len,
				  const char *field, mssl_error *err);

/*
 * mssl_token_change_pin - change the user PIN (C_SetPIN).  The new PIN is
 * checked first against mssl_token_pin_check, against being the old PIN
 * and against the lengths the card accepts; only then is the old PIN
 * sent, once (a login, then C_SetPIN).  On success the card is logged
 * out: the holder logs in again with the new PIN.
 * Returns 0; MSSL_EINPUT with token.pin_policy or token.pin_len before
 * anything reaches the card; otherwise as mssl_token_login for a wrong
 * or locked old PIN.
 */
MSSL_API int mssl_token_change_pin(mssl_token *tok, const char *old_pin,
				   size_t old_len, const char *new_pin,
				   size_t new_len, mssl_error *err);

/*
 * mssl_token_unblock - unlock a locked card and set a new user PIN:
 * C_Login as security officer with so_pin, C_InitPIN(new_pin), log out.
 * new_pin must pass mssl_token_pin_check and the card's lengths.
 * Returns 0; MSSL_EINPUT with token.pin_policy or token.pin_len;
 * MSSL_EPERM with token.so_pin_incorrect; MSSL_ESTATE with
 * token.so_pin_locked; MSSL_EIO.
 */
MSSL_API int mssl_token_unblock(mssl_token *tok, const char *so_pin,
				size_t so_len, const char *new_pin,
				size_t new_len, mssl_error *err);

/* ---------------------------------------------------------------------
 * Enrolment (the operator's; mssl-admin card enroll)
 *
 * A blank card becomes an mssl card in this order, on one mssl_token:
 *
 *   mssl_token_open(m, uri_of_the_blank_token, &tok, err);
 *   mssl_token_init(tok, transport_so, n, "label", err);
 *   -- the serial is known now: mssl_token_info(tok)->serial, ->uri
 *   mssl_token_set_so_pin(tok, transport_so, n, derived_so, n2, err);
 *   mssl_token_init_user_pin(tok, derived_so, n2,
 *                            MSSL_TOKEN_ISSUED_PIN, 8, err);
 *   mssl_token_login(tok, MSSL_TOKEN_ISSUED_PIN, 8, err);
 *   mssl_token_keygen(tok, MSSL_TOKEN_KEY_AUTO, 0, NULL,
 *                     &spki, &spki_len, &made, err);
 *   -- the server issues the card certificate for spki
 *   mssl_token_write_cert(tok, cert_der, cert_len, NULL, err);
 *   mssl_token_free(tok);
 *
 * The transport SO PIN is the card's own default: 87654321 for
 * opencryptoki, whatever the vendor says for real cards (SoftHSM's free
 * slot takes any SO PIN at mssl_token_init).  Every PIN is checked
 * against the lengths the card states (mssl_token_info: min_pin_len,
 * max_pin_len, which hold for the SO PIN too) before the card sees it:
 * opencryptoki takes at most 8 characters, so a 16-character SO PIN is
 * refused there with token.pin_len.
 * ------------------------------------------------------------------ */

/* The kinds of login key mssl_token_keygen makes. */
enum mssl_token_key_type {
	/* ECDSA P-256 when the card can make and sign with it, else
	 * RSA-2048. */
	MSSL_TOKEN_KEY_AUTO = 0,
	MSSL_TOKEN_KEY_EC_P256 = 1,
	MSSL_TOKEN_KEY_RSA_2048 = 2,
};

/* mssl_token_keygen flag: replace the signing keys already on the card. */
#define MSSL_TOKEN_KEYGEN_REPLACE (1u << 0)

/* CKA_LABEL of the login key pair and its certificate by default. */
#define MSSL_TOKEN_KEY_LABEL "mssl login"

/*
 * mssl_token_init - initialise a blank card (C_InitToken): set its SO PIN
 * and its label.  Only for a card whose flags lack MSSL_TOKEN_INITIALIZED:
 * initialising again would erase a card (SoftHSM) or break it
 * (opencryptoki), so an initialised card is always refused.
 * so_pin/so_len: the SO PIN the card takes at initialisation (for cards
 * that come with one, their transport SO PIN); NULL: entered on the
 * reader's PIN pad (MSSL_TOKEN_PROTECTED_PATH).  label: 1 to 32 bytes of
 * UTF-8 (CK_TOKEN_INFO's label).  The card then has no user PIN yet
 * (mssl_token_init_user_pin) and nothing on it.
 * The handle's own session is closed for the call (PKCS#11 wants none
 * open) and reopened after it; any other mssl_token on the same card in
 * this process must be freed first (else token.busy).
 * On success tok is the initialised card: mssl_token_info(tok) gives the
 * serial the card now has (SoftHSM assigns one at this call) and a uri
 * naming it by serial, which finds it again in later processes (SoftHSM
 * moves it to another slot id at the next module load; the uri does not
 * name the slot).
 * Returns 0; MSSL_ESTATE with token.initialized; MSSL_EINPUT with
 * token.label, or token.pin_len for an SO PIN of a length the card
 * refuses; MSSL_EPERM with token.so_pin_incorrect (a card with a
 * transport SO PIN: opencryptoki wants its default 87654321);
 * MSSL_ESTATE with token.so_pin_locked or token.busy; MSSL_EIO with
 * token.pkcs11 or token.removed.
 */
MSSL_API int mssl_token_init(mssl_token *tok, const char *so_pin, size_t so_len,
			     const char *label, mssl_error *err);

/*
 * mssl_token_set_so_pin - change the SO PIN: C_Login as security officer
 * with old_so, C_SetPIN(old_so, new_so), log out (ending a user's login
 * on the card too).  At enrolment old_so is the transport SO PIN and
 * new_so the one the server derives from the card's serial.  The new SO
 * PIN is checked against the lengths the card accepts before anything is
 * sent; no other policy applies.  PINs are not copied or kept.
 * Returns 0; MSSL_EINPUT with token.pin_len (field "new_so_pin") when the
 * card refuses the new SO PIN's length, before or at C_SetPIN, or
 * token.pin_invalid for its characters; MSSL_EPERM with
 * token.so_pin_incorrect for a wrong old_so (counted by the card);
 * MSSL_ESTATE with token.so_pin_locked, token.pin_expired, token.blank;
 * MSSL_EIO.
 */
MSSL_API int mssl_token_set_so_pin(mssl_token *tok, const char *old_so,
				   size_t old_len, const char *new_so,
				   size_t new_len, mssl_error *err);

/*
 * mssl_token_init_user_pin - set the user PIN as security officer:
 * C_Login(CKU_SO, so_pin), C_InitPIN(pin), log out.  Unlike
 * mssl_token_unblock the PIN is not held to mssl_token_pin_check: this is
 * how a card gets the issued PIN MSSL_TOKEN_ISSUED_PIN at enrolment (a
 * person may not choose it; opencryptoki's C_SetPIN refuses it too, but
 * its C_InitPIN takes it).  The card's lengths still apply.  It also
 * resets a locked card's PIN to the issued one, if the server wants that.
 * Returns 0; MSSL_EINPUT with token.pin_len or token.pin_invalid (field
 * "new_pin"); otherwise as mssl_token_unblock.
 */
MSSL_API int mssl_token_init_user_pin(mssl_token *tok, const char *so_pin,
				      size_t so_len, const char *pin,
				      size_t len, mssl_error *err);

/*
 * mssl_token_keygen - generate the login key pair on the card, as the
 * logged-in user (mssl_token_login first).
 * type (enum mssl_token_key_type): MSSL_TOKEN_KEY_AUTO makes ECDSA P-256
 * when the card offers CKM_EC_KEY_PAIR_GEN for 256 bits and CKM_ECDSA or
 * CKM_ECDSA_SHA256, else RSA-2048 (CKM_RSA_PKCS_KEY_PAIR_GEN, e = 65537)
 * when it offers that and an RSA signature mechanism mssl_token_sign
 * uses; the other values ask for that kind or fail.
 * The private key: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN, not
 * CKA_EXTRACTABLE (read back: a card that ignores these gets the pair
 * removed again and an error).  The public key: CKA_TOKEN, CKA_VERIFY,
 * public.  Both get the same CKA_ID, 16 random bytes (set at generation:
 * not every card lets CKA_ID change later), and CKA_LABEL label (NULL:
 * MSSL_TOKEN_KEY_LABEL).
 * A card that already holds a signing private key is refused
 * (token.key_exists), unless flags has MSSL_TOKEN_KEYGEN_REPLACE: then
 * the new pair is made first and, once it stands, every signing private
 * key there was before is destroyed with the public keys and
 * certificates of the same CKA_ID.  If that removal fails the error is
 * returned and the new pair stays beside what was not removed; calling
 * again with MSSL_TOKEN_KEYGEN_REPLACE clears it.  Cards with room for
 * one key only may refuse a replacement (token.pkcs11).
 * On success the new key is the login key (mssl_token_sign,
 * mssl_token_pubkey), *spki (free with mssl_free) and *spki_len are its
 * DER SubjectPublicKeyInfo, the same bytes mssl_token_pubkey returns, and
 * *made is the type made (never MSSL_TOKEN_KEY_AUTO).
 * Returns 0; MSSL_ESTATE with token.not_logged_in; MSSL_ECRYPTO with
 * token.no_mechanism (the card cannot make that kind); MSSL_EEXIST with
 * token.key_exists; MSSL_EIO with token.pkcs11 (e.g. the card is full);
 * MSSL_ECRYPTO with token.pkcs11; MSSL_ENOMEM; MSSL_EINVAL for an
 * unknown type or flag.
 */
MSSL_API int mssl_token_keygen(mssl_token *tok, int type, unsigned int flags,
			       const char *label, uint8_t **spki,
			       size_t *spki_len, int *made, mssl_error *err);

/*
 * mssl_token_write_cert - store the card certificate beside the login key,
 * as the logged-in user.  der/len: one DER X.509 certificate whose public
 * key must be the login key's (compared as SubjectPublicKeyInfo with
 * mssl_token_pubkey's); the server issues it for the spki of
 * mssl_token_keygen.  The object: CKO_CERTIFICATE, CKC_X_509, on the
 * token, public (readable before login), CKA_ID of the login key (so
 * that mssl_token_cert and mssl_token_sign pair them), CKA_LABEL label
 * (NULL: MSSL_TOKEN_KEY_LABEL), CKA_SUBJECT, CKA_ISSUER and
 * CKA_SERIAL_NUMBER (a DER INTEGER) taken from the certificate, CKA_VALUE
 * the bytes given.  A certificate already on the card with that CKA_ID
 * (an earlier card certificate) is destroyed once the new one is stored.
 * Returns 0; MSSL_EINPUT with token.cert (not a certificate, field
 * "cert") or token.cert_mismatch (for another key); MSSL_ESTATE with
 * token.not_logged_in, or token.no_key when the login key has no CKA_ID;
 * MSSL_ENOENT with token.no_key; MSSL_EINPUT with token.key_ambiguous;
 * MSSL_EIO with token.pkcs11 (e.g. the card is full); MSSL_ENOMEM.
 */
MSSL_API int mssl_token_write_cert(mssl_token *tok, const uint8_t *der,
				   size_t len, const char *label,
				   mssl_error *err);

/*
 * mssl_token_read_pin - read one PIN into buf (NUL-terminated).
 * fd >= 0: read one line from that file descriptor (for scripts:
 * "--pin-fd N"), byte by byte so that further lines stay for later reads.
 * fd < 0: write prompt to the terminal (/dev/tty) and read a line with
 * echo off, restoring the terminal afterwards.
 * The line end is not stored.  On failure buf is wiped.
 * Returns the PIN's length (> 0); MSSL_EINPUT when the line is empty or
 * does not fit in size - 1 bytes (the rest of the line is skipped);
 * MSSL_EIO when there is no terminal or the read fails (or end of file
 * comes first); MSSL_EINVAL for size < 2.  Thread-safe apart from the
 * terminal itself.
 */
MSSL_API int mssl_token_read_pin(const char *prompt, int fd, char *buf,
				 size_t size);

/* ---------------------------------------------------------------------
 * Whole flows: login proof, enrolment, unlock (tokens/flows.c)
 * ------------------------------------------------------------------ */

/*
 * mssl_token_prove - complete a login proof with this card: p->cert
 * becomes the card certificate and p->sig/sig_len/sig_alg the card's
 * signature over mssl_login_blob(p).  The caller fills origin,
 * account_id, nonce, time and the tls-exporter value first.  Needs a
 * logged-in card.  Free what it added with mssl_token_proof_clear.
 * Returns 0 or as mssl_token_cert / mssl_token_sign.
 */
MSSL_API int mssl_token_prove(mssl_token *tok, struct mssl_login_proof *p,
			      mssl_error *err);

/* mssl_token_proof_clear - free p->cert and p->sig; accepts NULL. */
MSSL_API void mssl_token_proof_clear(struct mssl_login_proof *p);

/* What the operator's enrolment needs (mssl_token_enroll). */
struct mssl_token_enrollment {
	mssl_ctx *ctx; /* an open libmssl context with [cards] set */
	const mssl_actor *actor; /* the operator */
	int64_t person_id; /* the card's holder (mssl_person_add) */
	/* The card's current SO PIN: the factory/transport one, or the one
	 * to initialise a blank card with. */
	const char *transport_so_pin;
	size_t transport_so_len;
	const char *label; /* token label for a blank card; NULL: "mssl card" */
	int key_type; /* enum mssl_token_key_type; AUTO: EC if offered */
};

/*
 * mssl_token_enroll - enrol one card for a person: initialise it when
 * blank, set its SO PIN to the server's derived one (the first
 * max_pin_len characters when the card takes fewer than
 * MSSL_SO_PIN_LEN), set the issued user PIN MSSL_TOKEN_ISSUED_PIN,
 * generate the login key on the card (replacing an old one), have the
 * card CA certify it and register the card (mssl_card_certify), and
 * store the certificate on the card.  When the certificate cannot be
 * stored the new registration is revoked again.  *card_id (may be
 * NULL) gets the card's number.  Returns 0 or the failing step's error.
 */
MSSL_API int mssl_token_enroll(mssl_token *tok,
			       const struct mssl_token_enrollment *e,
			       int64_t *card_id, mssl_error *err);

/*
 * mssl_token_unlock_local - the holder's unlock against libmssl in this
 * process: check the new PIN against the policy, redeem the unlock code
 * (mssl_card_unlock_begin) for the card's SO PIN, unblock the card with
 * the new PIN, and report it done (mssl_card_unlock_done).  A failure
 * after the code was redeemed needs a new approval from the CA.
 */
MSSL_API int mssl_token_unlock_local(mssl_token *tok, mssl_ctx *ctx,
				     const char *account_id, const char *code,
				     const char *new_pin, size_t new_len,
				     const char *remote, mssl_error *err);


#ifdef __cplusplus
}
#endif

#endif /* MSSL_TOKEN_H */
