/*
 * Modules, cards, login and PIN management over PKCS#11 through p11-kit.
 *
 * The card is the authority on its PIN: it counts wrong PINs and locks
 * itself.  This code sends each PIN exactly once, reads the card's flags
 * back to tell the person where they stand, and never retries.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <p11-kit/uri.h>

/* ---- errors ----------------------------------------------------------- */

int mssl__token_ckr(mssl_error *err, CK_RV rv, const char *what)
{
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_HOST_MEMORY:
		return mssl_error_set(err, MSSL_ENOMEM, "token.pkcs11", NULL,
				      N_("The PKCS#11 module ran out of memory "
					 "in %s."),
				      what);
	case CKR_SESSION_EXISTS:
	case CKR_SESSION_READ_ONLY_EXISTS:
		return mssl_error_set(
			err, MSSL_ESTATE, "token.busy", NULL,
			N_("The card is in use by another session "
			   "of this program (%s): close it "
			   "first."),
			what);
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SLOT_ID_INVALID:
		return mssl_error_set(err, MSSL_EIO, "token.removed", NULL,
				      N_("The card was removed (%s: %s)."),
				      what, p11_kit_strerror(rv));
	default:
		return mssl_error_set(err, MSSL_EIO, "token.pkcs11", NULL,
				      N_("The card or its PKCS#11 module "
					 "failed in %s: %s (CKR 0x%08lx)."),
				      what, p11_kit_strerror(rv),
				      (unsigned long)rv);
	}
}

/* ---- modules ---------------------------------------------------------- */

/*
 * A path names a file; anything else is a name p11-kit registered.  A
 * bare "x.so" is a file too: p11-kit looks it up in its module directory.
 */
static bool is_path(const char *module)
{
	size_t n = strlen(module);

	return strchr(module, '/') ||
	       (n > 3 && strcmp(module + n - 3, ".so") == 0);
}

static const char *p11_reason(void)
{
	const char *m = p11_kit_message();

	return m && *m ? m : "unknown reason";
}

MSSL_API int mssl_token_module_open(const char *module, mssl_token_module **out,
				    mssl_error *err)
{
	mssl_token_module *m = NULL;
	CK_RV rv;
	int rc;

	return_val_if_fail(module && *module && out, MSSL_EINVAL);
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return MSSL_ENOMEM;
	if (is_path(module)) {
		m->fn = p11_kit_module_load(module, 0);
		if (!m->fn) {
			rc = mssl_error_set(err, MSSL_ECONFIG, "token.module",
					    "module",
					    N_("PKCS#11 module not loadable: "
					       "%s (%s)."),
					    module, p11_reason());
			goto out;
		}
	} else {
		/*
		 * Load every registered module but initialise only the one
		 * asked for: initialising them all would make each scan its
		 * readers, and one that cannot start (a missing daemon)
		 * would stand in the way of the others.
		 */
		m->registered = p11_kit_modules_load(NULL, 0);
		if (!m->registered) {
			rc = mssl_error_set(err, MSSL_ECONFIG, "token.module",
					    "module",
					    N_("PKCS#11 module not loadable: "
					       "%s (%s)."),
					    module, p11_reason());
			goto out;
		}
		m->fn = p11_kit_module_for_name(m->registered, module);
		if (!m->fn) {
			rc = mssl_error_set(
				err, MSSL_ECONFIG, "token.module", "module",
				N_("PKCS#11 module not loadable: "
				   "%s (no file path, and no module "
				   "of that name is registered "
				   "with p11-kit)."),
				module);
			goto out;
		}
	}
	rv = p11_kit_module_initialize(m->fn);
	if (rv != CKR_OK) {
		rc = mssl_error_set(err, MSSL_ECONFIG, "token.module", "module",
				    N_("PKCS#11 module not loadable: %s (its "
				       "C_Initialize failed: %s)."),
				    module, p11_kit_strerror(rv));
		goto out_loaded;
	}
	m->path = p11_kit_module_get_filename(m->fn);
	if (!m->path)
		m->path = strdup(module);
	if (!m->path) {
		p11_kit_module_finalize(m->fn);
		rc = MSSL_ENOMEM;
		goto out_loaded;
	}
	*out = m;
	return 0;

out_loaded:
	if (!m->registered)
		p11_kit_module_release(m->fn);
out:
	if (m->registered)
		p11_kit_modules_release(m->registered);
	free(m);
	return rc;
}

MSSL_API void mssl_token_module_free(mssl_token_module *m)
{
	if (!m)
		return;
	p11_kit_module_finalize(m->fn);
	if (m->registered)
		p11_kit_modules_release(m->registered);
	else
		p11_kit_module_release(m->fn);
	free(m->path);
	free(m);
}

MSSL_API const char *mssl_token_module_path(const mssl_token_module *m)
{
	return m && m->path ? m->path : "";
}

/* ---- token descriptions ----------------------------------------------- */

static void padded(char *dst, size_t size, const CK_UTF8CHAR *src, size_t max)
{
	size_t n = p11_kit_space_strlen(src, max);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static unsigned int flags_of(CK_FLAGS f)
{
	static const struct {
		CK_FLAGS ck;
		unsigned int ours;
	} map[] = {
		{ CKF_USER_PIN_COUNT_LOW, MSSL_TOKEN_PIN_COUNT_LOW },
		{ CKF_USER_PIN_FINAL_TRY, MSSL_TOKEN_PIN_FINAL_TRY },
		{ CKF_USER_PIN_LOCKED, MSSL_TOKEN_PIN_LOCKED },
		{ CKF_USER_PIN_TO_BE_CHANGED, MSSL_TOKEN_PIN_TO_BE_CHANGED },
		{ CKF_SO_PIN_COUNT_LOW, MSSL_TOKEN_SO_PIN_COUNT_LOW },
		{ CKF_SO_PIN_FINAL_TRY, MSSL_TOKEN_SO_PIN_FINAL_TRY },
		{ CKF_SO_PIN_LOCKED, MSSL_TOKEN_SO_PIN_LOCKED },
		{ CKF_PROTECTED_AUTHENTICATION_PATH,
		  MSSL_TOKEN_PROTECTED_PATH },
		{ CKF_TOKEN_INITIALIZED, MSSL_TOKEN_INITIALIZED },
		{ CKF_USER_PIN_INITIALIZED, MSSL_TOKEN_PIN_INITIALIZED },
		{ CKF_SO_PIN_TO_BE_CHANGED, MSSL_TOKEN_SO_PIN_TO_BE_CHANGED },
	};
	unsigned int out = 0;
	size_t i;

	for (i = 0; i < TOKEN_ARRAY_SIZE(map); i++)
		if (f & map[i].ck)
			out |= map[i].ours;
	return out;
}

int mssl__token_info_fill(const CK_TOKEN_INFO *ck, CK_SLOT_ID slot,
			  struct token_strings *s, struct mssl_token_info *ti)
{
	P11KitUri *u;
	char *uri = NULL;

	padded(s->label, sizeof(s->label), ck->label, sizeof(ck->label));
	padded(s->serial, sizeof(s->serial), ck->serialNumber,
	       sizeof(ck->serialNumber));
	padded(s->manufacturer, sizeof(s->manufacturer), ck->manufacturerID,
	       sizeof(ck->manufacturerID));
	padded(s->model, sizeof(s->model), ck->model, sizeof(ck->model));
	u = p11_kit_uri_new();
	if (!u)
		return MSSL_ENOMEM;
	memcpy(p11_kit_uri_get_token_info(u), ck, sizeof(*ck));
	if (p11_kit_uri_format(u, P11_KIT_URI_FOR_TOKEN, &uri) !=
	    P11_KIT_URI_OK)
		uri = NULL;
	p11_kit_uri_free(u);
	if (!uri)
		return MSSL_ENOMEM;
	free(s->uri);
	s->uri = uri;
	ti->label = s->label;
	ti->serial = s->serial;
	ti->manufacturer = s->manufacturer;
	ti->model = s->model;
	ti->uri = s->uri;
	ti->flags = flags_of(ck->flags);
	/* Modules say "unknown" with CK_UNAVAILABLE_INFORMATION or 0. */
	ti->min_pin_len = ck->ulMinPinLen == CK_UNAVAILABLE_INFORMATION ?
				  0 :
				  ck->ulMinPinLen;
	ti->max_pin_len = ck->ulMaxPinLen == CK_UNAVAILABLE_INFORMATION ?
				  0 :
				  ck->ulMaxPinLen;
	ti->slot_id = slot;
	return 0;
}

void mssl__token_refresh(mssl_token *tok)
{
	CK_TOKEN_INFO ck;

	if (tok->fn->C_GetTokenInfo(tok->slot, &ck) == CKR_OK)
		mssl__token_info_fill(&ck, tok->slot, &tok->s, &tok->info);
}

MSSL_API const struct mssl_token_info *mssl_token_info(mssl_token *tok)
{
	mssl__token_refresh(tok);
	return &tok->info;
}

/* ---- slots ------------------------------------------------------------ */

/* The slots with a card in them; *slots is the caller's. */
static int present_slots(CK_FUNCTION_LIST *fn, CK_SLOT_ID **slots, CK_ULONG *n,
			 mssl_error *err)
{
	CK_SLOT_ID *list = NULL, *bigger;
	CK_ULONG count = 0;
	CK_RV rv;

	/* The count can grow between the two calls (a card inserted). */
	for (;;) {
		rv = fn->C_GetSlotList(CK_TRUE, NULL, &count);
		if (rv != CKR_OK)
			break;
		bigger = realloc(list, (count ? count : 1) * sizeof(*list));
		if (!bigger) {
			free(list);
			return MSSL_ENOMEM;
		}
		list = bigger;
		rv = fn->C_GetSlotList(CK_TRUE, list, &count);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		free(list);
		return mssl__token_ckr(err, rv, "C_GetSlotList");
	}
	*slots = list;
	*n = count;
	return 0;
}

MSSL_API int mssl_token_list(mssl_token_module *m,
			     void (*cb)(const struct mssl_token_info *info,
					void *ud),
			     void *ud, mssl_error *err)
{
	struct token_strings s = { 0 };
	struct mssl_token_info ti;
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ck;
	CK_ULONG n = 0, i;
	int rc;

	return_val_if_fail(m && cb, MSSL_EINVAL);
	rc = present_slots(m->fn, &slots, &n, err);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		/* A card pulled out meanwhile is simply not listed. */
		if (m->fn->C_GetTokenInfo(slots[i], &ck) != CKR_OK)
			continue;
		memset(&ti, 0, sizeof(ti));
		rc = mssl__token_info_fill(&ck, slots[i], &s, &ti);
		if (rc)
			goto out;
		cb(&ti, ud);
	}
out:
	free(s.uri);
	free(slots);
	return rc;
}

/* ---- opening a card ----------------------------------------------------- */

struct candidate {
	CK_SLOT_ID slot;
	bool initialized;
	char label[33];
	char serial[17];
};

static bool uri_matches(P11KitUri *u, CK_FUNCTION_LIST *fn, CK_SLOT_ID slot,
			CK_TOKEN_INFO *ck)
{
	CK_SLOT_INFO si;
	CK_INFO mi;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(u);

	if (want != (CK_SLOT_ID)-1 && want != slot)
		return false;
	if (fn->C_GetInfo(&mi) == CKR_OK &&
	    !p11_kit_uri_match_module_info(u, &mi))
		return false;
	if (fn->C_GetSlotInfo(slot, &si) == CKR_OK &&
	    !p11_kit_uri_match_slot_info(u, &si))
		return false;
	return p11_kit_uri_match_token_info(u, ck);
}

/* "label (serial S), label (serial S)" for the token.several message. */
static char *describe(const struct candidate *c, size_t n)
{
	char *text = NULL;
	size_t size = 0, i;
	FILE *fp = open_memstream(&text, &size);

	if (!fp)
		return NULL;
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\"%s\" (serial %s)", i ? ", " : "", c[i].label,
			c[i].serial);
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int read_mechanisms(mssl_token *tok, mssl_error *err)
{
	CK_ULONG n = 0;
	CK_RV rv;

	rv = tok->fn->C_GetMechanismList(tok->slot, NULL, &n);
	if (rv != CKR_OK)
		return mssl__token_ckr(err, rv, "C_GetMechanismList");
	tok->mechs = calloc(n ? n : 1, sizeof(*tok->mechs));
	if (!tok->mechs)
		return MSSL_ENOMEM;
	rv = tok->fn->C_GetMechanismList(tok->slot, tok->mechs, &n);
	if (rv != CKR_OK)
		return mssl__token_ckr(err, rv, "C_GetMechanismList");
	tok->n_mechs = n;
	return 0;
}

static int open_session(mssl_token *tok, mssl_error *err)
{
	CK_TOKEN_INFO ck;
	CK_RV rv;

	/* PIN changes and unblocking need a read-write session. */
	rv = tok->fn->C_OpenSession(tok->slot,
				    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
				    NULL, &tok->session);
	if (rv == CKR_TOKEN_WRITE_PROTECTED)
		rv = tok->fn->C_OpenSession(tok->slot, CKF_SERIAL_SESSION, NULL,
					    NULL, &tok->session);
	if (rv == CKR_OK)
		return 0;
	tok->session = CK_INVALID_HANDLE;
	/*
	 * A blank token may refuse sessions (SoftHSM's free slot says
	 * CKR_TOKEN_NOT_RECOGNIZED), yet it is opened to be initialised,
	 * which needs none: C_InitToken wants no session at all.
	 */
	if (tok->fn->C_GetTokenInfo(tok->slot, &ck) == CKR_OK &&
	    !(ck.flags & CKF_TOKEN_INITIALIZED))
		return 0;
	return mssl__token_ckr(err, rv, "C_OpenSession");
}

int mssl__token_need_session(mssl_token *tok, mssl_error *err)
{
	if (tok->session != CK_INVALID_HANDLE)
		return 0;
	return mssl_error_set(err, MSSL_ESTATE, "token.blank", "token",
			      N_("The card is not initialised: enrol it "
				 "first."));
}

MSSL_API int mssl_token_open(mssl_token_module *m, const char *uri,
			     mssl_token **out, mssl_error *err)
{
	struct candidate *found = NULL;
	CK_SLOT_ID *slots = NULL;
	P11KitUri *u = NULL;
	mssl_token *tok = NULL;
	CK_TOKEN_INFO ck;
	CK_ULONG n = 0, i, j;
	size_t n_found = 0, n_initialized = 0;
	char *list = NULL;
	CK_RV rv;
	int rc, r;

	return_val_if_fail(m && out, MSSL_EINVAL);
	*out = NULL;
	if (uri && *uri) {
		u = p11_kit_uri_new();
		if (!u)
			return MSSL_ENOMEM;
		/* Any kind: a key's URI names its card as well. */
		r = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u);
		if (r != P11_KIT_URI_OK) {
			rc = mssl_error_set(err, MSSL_EINPUT, "token.uri",
					    "token",
					    N_("Not a usable PKCS#11 URI: "
					       "\"%s\" (%s)."),
					    uri, p11_kit_uri_message(r));
			goto out;
		}
		/* p11-kit matches nothing then: say why instead. */
		if (p11_kit_uri_any_unrecognized(u)) {
			rc = mssl_error_set(err, MSSL_EINPUT, "token.uri",
					    "token",
					    N_("Not a usable PKCS#11 URI: "
					       "\"%s\" (it has parts this "
					       "program does not know)."),
					    uri);
			goto out;
		}
	}
	rc = present_slots(m->fn, &slots, &n, err);
	if (rc)
		goto out;
	found = calloc(n ? n : 1, sizeof(*found));
	if (!found) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (m->fn->C_GetTokenInfo(slots[i], &ck) != CKR_OK)
			continue;
		if (u && !uri_matches(u, m->fn, slots[i], &ck))
			continue;
		found[n_found].slot = slots[i];
		found[n_found].initialized = ck.flags & CKF_TOKEN_INITIALIZED;
		padded(found[n_found].label, sizeof(found[n_found].label),
		       ck.label, sizeof(ck.label));
		padded(found[n_found].serial, sizeof(found[n_found].serial),
		       ck.serialNumber, sizeof(ck.serialNumber));
		n_initialized += found[n_found].initialized;
		n_found++;
	}
	/*
	 * Blank tokens do not compete with a personalised card: SoftHSM
	 * and some readers always offer one besides the real cards.  A
	 * blank token alone (about to be enrolled) is still found.
	 */
	if (n_found > 1 && n_initialized > 0) {
		for (i = 0, j = 0; i < n_found; i++)
			if (found[i].initialized)
				found[j++] = found[i];
		n_found = j;
	}
	if (n_found == 0) {
		if (u)
			rc = mssl_error_set(err, MSSL_ENOENT, "token.none",
					    "token", N_("No card matches %s."),
					    uri);
		else
			rc = mssl_error_set(err, MSSL_ENOENT, "token.none",
					    "token",
					    N_("No card is present (module "
					       "%s)."),
					    m->path);
		goto out;
	}
	if (n_found > 1) {
		list = describe(found, n_found);
		rc = mssl_error_set(err, MSSL_EUSAGE, "token.several", "token",
				    N_("Several cards are present: %s.  Name "
				       "one with a PKCS#11 URI, such as "
				       "pkcs11:token=%s;serial=%s."),
				    list ? list : "?", found[0].label,
				    found[0].serial);
		goto out;
	}
	tok = calloc(1, sizeof(*tok));
	if (!tok) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	tok->m = m;
	tok->fn = m->fn;
	tok->slot = found[0].slot;
	tok->session = CK_INVALID_HANDLE;
	rc = open_session(tok, err);
	if (rc)
		goto out;
	rc = read_mechanisms(tok, err);
	if (rc)
		goto out;
	rv = tok->fn->C_GetTokenInfo(tok->slot, &ck);
	if (rv != CKR_OK) {
		rc = mssl__token_ckr(err, rv, "C_GetTokenInfo");
		goto out;
	}
	rc = mssl__token_info_fill(&ck, tok->slot, &tok->s, &tok->info);
	if (rc)
		goto out;
	*out = tok;
	tok = NULL;
out:
	mssl_token_free(tok);
	free(list);
	free(found);
	free(slots);
	if (u)
		p11_kit_uri_free(u);
	return rc;
}

MSSL_API void mssl_token_free(mssl_token *tok)
{
	if (!tok)
		return;
	if (tok->session != CK_INVALID_HANDLE) {
		if (tok->logged_in)
			tok->fn->C_Logout(tok->session);
		tok->fn->C_CloseSession(tok->session);
	}
	free(tok->mechs);
	free(tok->s.uri);
	free(tok);
}

/* ---- PINs ------------------------------------------------------------- */

/*
 * The words for a refused PIN.  PKCS#11 tells no count, only flags; mssl
 * enrols cards that lock after three wrong PINs (SPEC §3.4), so "count
 * low" without "final try" means two are left.  'so': the PIN sent was
 * the SO PIN.  'new_field': the input that a refused length or character
 * concerns, for the calls that send a new PIN (NULL: the PIN sent).
 */
static int pin_error(mssl_token *tok, CK_RV rv, bool so, const char *new_field,
		     const char *what, mssl_error *err)
{
	const char *field = new_field ? new_field : so ? "so_pin" : "pin";
	unsigned int f;

	switch (rv) {
	case CKR_PIN_INCORRECT:
		mssl__token_refresh(tok);
		f = tok->info.flags;
		if (so) {
			if (f & MSSL_TOKEN_SO_PIN_LOCKED)
				return mssl_error_set(
					err, MSSL_ESTATE, "token.so_pin_locked",
					"so_pin",
					N_("Wrong SO PIN.  The card's SO PIN "
					   "is now locked: the card can no "
					   "longer be unblocked."));
			if (f & MSSL_TOKEN_SO_PIN_FINAL_TRY)
				return mssl_error_set(
					err, MSSL_EPERM,
					"token.so_pin_incorrect", "so_pin",
					N_("Wrong SO PIN: 1 try left, the next "
					   "wrong SO PIN locks it for good."));
			return mssl_error_set(err, MSSL_EPERM,
					      "token.so_pin_incorrect",
					      "so_pin", N_("Wrong SO PIN."));
		}
		if (f & MSSL_TOKEN_PIN_LOCKED)
			return mssl_error_set(err, MSSL_ESTATE,
					      "token.pin_locked", "pin",
					      N_("Wrong PIN.  The card is now "
						 "locked: ask the CA for an "
						 "unlock."));
		if (f & MSSL_TOKEN_PIN_FINAL_TRY)
			return mssl_error_set(err, MSSL_EPERM,
					      "token.pin_final_try", "pin",
					      N_("Wrong PIN: 1 try left, the "
						 "next wrong PIN locks the "
						 "card."));
		if (f & MSSL_TOKEN_PIN_COUNT_LOW)
			return mssl_error_set(err, MSSL_EPERM,
					      "token.pin_incorrect", "pin",
					      N_("Wrong PIN: 2 tries left."));
		return mssl_error_set(err, MSSL_EPERM, "token.pin_incorrect",
				      "pin",
				      N_("Wrong PIN (the card does not say "
					 "how many tries are left)."));
	case CKR_PIN_LOCKED:
		if (so)
			return mssl_error_set(err, MSSL_ESTATE,
					      "token.so_pin_locked", "so_pin",
					      N_("The card's SO PIN is locked: "
						 "the card can no longer be "
						 "unblocked."));
		return mssl_error_set(err, MSSL_ESTATE, "token.pin_locked",
				      "pin",
				      N_("The card is locked after too many "
					 "wrong PINs: ask the CA for an "
					 "unlock."));
	case CKR_PIN_LEN_RANGE:
		mssl__token_refresh(tok);
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_len", field,
				      N_("The card accepts PINs of %lu to %lu "
					 "characters."),
				      tok->info.min_pin_len,
				      tok->info.max_pin_len);
	case CKR_PIN_INVALID:
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_invalid",
				      field,
				      N_("The card does not accept the "
					 "characters of this PIN."));
	case CKR_PIN_EXPIRED:
		if (so)
			return mssl_error_set(
				err, MSSL_ESTATE, "token.pin_expired", "so_pin",
				N_("The card's SO PIN has expired: "
				   "change it first."));
		return mssl_error_set(err, MSSL_ESTATE, "token.pin_expired",
				      "pin",
				      N_("The card's PIN has expired: change "
					 "it first."));
	case CKR_USER_PIN_NOT_INITIALIZED:
		return mssl_error_set(err, MSSL_ESTATE, "token.pin_locked",
				      "pin",
				      N_("The card has no user PIN: ask the "
					 "CA to unlock or enrol it."));
	case CKR_FUNCTION_CANCELED:
		return mssl_error_set(err, MSSL_EPERM, "token.cancelled", "pin",
				      N_("PIN entry was cancelled on the "
					 "reader."));
	default:
		return mssl__token_ckr(err, rv, what);
	}
}

/* Without a PIN only a PIN pad can log in. */
static bool pin_usable(mssl_token *tok, const char *pin)
{
	return pin || (tok->info.flags & MSSL_TOKEN_PROTECTED_PATH);
}

MSSL_API int mssl_token_login(mssl_token *tok, const char *pin, size_t len,
			      mssl_error *err)
{
	CK_RV rv;
	int rc;

	return_val_if_fail(tok, MSSL_EINVAL);
	rc = mssl__token_need_session(tok, err);
	if (rc)
		return rc;
	mssl__token_refresh(tok);
	return_val_if_fail(pin_usable(tok, pin), MSSL_EINVAL);
	/*
	 * Even to a card that says it is locked the PIN goes once: the
	 * card, not its flags, decides (and then says CKR_PIN_LOCKED).
	 *
	 * The login state belongs to the card, not to this session: end
	 * any earlier login so that success means this PIN was right.
	 */
	tok->fn->C_Logout(tok->session);
	tok->logged_in = false;
	rv = tok->fn->C_Login(tok->session, CKU_USER, (CK_UTF8CHAR_PTR)pin,
			      pin ? (CK_ULONG)len : 0);
	if (rv != CKR_OK)
		return pin_error(tok, rv, false, NULL, "C_Login", err);
	tok->logged_in = true;
	mssl__token_refresh(tok);
	return 0;
}

MSSL_API void mssl_token_logout(mssl_token *tok)
{
	if (!tok)
		return;
	tok->fn->C_Logout(tok->session);
	tok->logged_in = false;
}

MSSL_API int mssl_token_pin_check(const char *pin, size_t len,
				  const char *field, mssl_error *err)
{
	return_val_if_fail(pin, MSSL_EINVAL);
	if (len < MSSL_TOKEN_PIN_MIN || len > MSSL_TOKEN_PIN_MAX)
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_policy",
				      field,
				      N_("A PIN has %d to %d characters."),
				      MSSL_TOKEN_PIN_MIN, MSSL_TOKEN_PIN_MAX);
	if (len == strlen(MSSL_TOKEN_ISSUED_PIN) &&
	    memcmp(pin, MSSL_TOKEN_ISSUED_PIN, len) == 0)
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_policy",
				      field,
				      N_("The new PIN must not be the issued "
					 "PIN %s."),
				      MSSL_TOKEN_ISSUED_PIN);
	return 0;
}

/* The lengths the card itself accepts, checked before it sees a PIN. */
int mssl__token_card_len_check(mssl_token *tok, size_t len, const char *field,
			       mssl_error *err)
{
	unsigned long lo, hi;

	mssl__token_refresh(tok);
	lo = tok->info.min_pin_len;
	hi = tok->info.max_pin_len;
	if (hi == 0 || lo > hi)
		return 0;
	if (len < lo || len > hi)
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_len", field,
				      N_("The card accepts PINs of %lu to %lu "
					 "characters."),
				      lo, hi);
	return 0;
}

MSSL_API int mssl_token_change_pin(mssl_token *tok, const char *old_pin,
				   size_t old_len, const char *new_pin,
				   size_t new_len, mssl_error *err)
{
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && old_pin && new_pin, MSSL_EINVAL);
	rc = mssl_token_pin_check(new_pin, new_len, "new_pin", err);
	if (rc)
		return rc;
	if (old_len == new_len && memcmp(old_pin, new_pin, new_len) == 0)
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_policy",
				      "new_pin",
				      N_("The new PIN must differ from the "
					 "old one."));
	rc = mssl__token_card_len_check(tok, new_len, "new_pin", err);
	if (rc)
		return rc;
	/*
	 * Log in with the old PIN first, as cards want for C_SetPIN; a
	 * wrong old PIN is then reported, counted and never sent twice.
	 */
	rc = mssl_token_login(tok, old_pin, old_len, err);
	if (rc)
		return rc;
	rv = tok->fn->C_SetPIN(tok->session, (CK_UTF8CHAR_PTR)old_pin,
			       (CK_ULONG)old_len, (CK_UTF8CHAR_PTR)new_pin,
			       (CK_ULONG)new_len);
	/* The holder logs in again with the new PIN (SPEC §8). */
	mssl_token_logout(tok);
	if (rv != CKR_OK)
		return pin_error(tok, rv, false, "new_pin", "C_SetPIN", err);
	mssl__token_refresh(tok);
	return 0;
}

/*
 * Log in as security officer, alone: the SO cannot log in while the user
 * is, and the login state is the card's, not this session's.
 */
static int so_login(mssl_token *tok, const char *so_pin, size_t so_len,
		    mssl_error *err)
{
	CK_RV rv;

	mssl_token_logout(tok);
	rv = tok->fn->C_Login(tok->session, CKU_SO, (CK_UTF8CHAR_PTR)so_pin,
			      so_pin ? (CK_ULONG)so_len : 0);
	if (rv != CKR_OK)
		return pin_error(tok, rv, true, NULL, "C_Login", err);
	return 0;
}

/*
 * SO login, C_InitPIN, logout: the unblock and the enrolment's first
 * user PIN.  'policy': the new PIN is one a person chose, and must pass
 * mssl_token_pin_check.
 */
static int so_init_pin(mssl_token *tok, const char *so_pin, size_t so_len,
		       const char *new_pin, size_t new_len, bool policy,
		       mssl_error *err)
{
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && new_pin, MSSL_EINVAL);
	rc = mssl__token_need_session(tok, err);
	if (rc)
		return rc;
	mssl__token_refresh(tok);
	return_val_if_fail(pin_usable(tok, so_pin), MSSL_EINVAL);
	if (policy) {
		rc = mssl_token_pin_check(new_pin, new_len, "new_pin", err);
		if (rc)
			return rc;
	}
	rc = mssl__token_card_len_check(tok, new_len, "new_pin", err);
	if (rc)
		return rc;
	rc = so_login(tok, so_pin, so_len, err);
	if (rc)
		return rc;
	rv = tok->fn->C_InitPIN(tok->session, (CK_UTF8CHAR_PTR)new_pin,
				(CK_ULONG)new_len);
	tok->fn->C_Logout(tok->session);
	if (rv != CKR_OK)
		return pin_error(tok, rv, false, "new_pin", "C_InitPIN", err);
	mssl__token_refresh(tok);
	return 0;
}

MSSL_API int mssl_token_unblock(mssl_token *tok, const char *so_pin,
				size_t so_len, const char *new_pin,
				size_t new_len, mssl_error *err)
{
	return so_init_pin(tok, so_pin, so_len, new_pin, new_len, true, err);
}

MSSL_API int mssl_token_init_user_pin(mssl_token *tok, const char *so_pin,
				      size_t so_len, const char *pin,
				      size_t len, mssl_error *err)
{
	return so_init_pin(tok, so_pin, so_len, pin, len, false, err);
}

MSSL_API int mssl_token_set_so_pin(mssl_token *tok, const char *old_so,
				   size_t old_len, const char *new_so,
				   size_t new_len, mssl_error *err)
{
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && old_so && new_so, MSSL_EINVAL);
	rc = mssl__token_need_session(tok, err);
	if (rc)
		return rc;
	/*
	 * The new SO PIN is checked before the old one reaches the card:
	 * a refused length then costs no SO login.
	 */
	if (new_len == 0)
		return mssl_error_set(err, MSSL_EINPUT, "token.pin_len",
				      "new_so_pin",
				      N_("The new SO PIN is empty."));
	rc = mssl__token_card_len_check(tok, new_len, "new_so_pin", err);
	if (rc)
		return rc;
	rc = so_login(tok, old_so, old_len, err);
	if (rc)
		return rc;
	rv = tok->fn->C_SetPIN(tok->session, (CK_UTF8CHAR_PTR)old_so,
			       (CK_ULONG)old_len, (CK_UTF8CHAR_PTR)new_so,
			       (CK_ULONG)new_len);
	tok->fn->C_Logout(tok->session);
	if (rv != CKR_OK)
		return pin_error(tok, rv, true, "new_so_pin", "C_SetPIN", err);
	mssl__token_refresh(tok);
	return 0;
}

/* ---- initialising a blank card ---------------------------------------- */

MSSL_API int mssl_token_init(mssl_token *tok, const char *so_pin, size_t so_len,
			     const char *label, mssl_error *err)
{
	CK_UTF8CHAR padded_label[32];
	CK_TOKEN_INFO ck;
	size_t n;
	CK_RV rv;
	int rc;

	return_val_if_fail(tok && label, MSSL_EINVAL);
	n = strlen(label);
	if (n == 0 || n > sizeof(padded_label))
		return mssl_error_set(err, MSSL_EINPUT, "token.label", "label",
				      N_("A card label has 1 to 32 bytes."));
	rv = tok->fn->C_GetTokenInfo(tok->slot, &ck);
	if (rv != CKR_OK)
		return mssl__token_ckr(err, rv, "C_GetTokenInfo");
	mssl__token_info_fill(&ck, tok->slot, &tok->s, &tok->info);
	/*
	 * C_InitToken on an initialised token erases it (SoftHSM) or
	 * leaves it unusable (opencryptoki): only blank cards, always.
	 */
	if (ck.flags & CKF_TOKEN_INITIALIZED)
		return mssl_error_set(err, MSSL_ESTATE, "token.initialized",
				      "token",
				      N_("The card \"%s\" (serial %s) is "
					 "already initialised: mssl "
					 "initialises blank cards only."),
				      tok->s.label, tok->s.serial);
	return_val_if_fail(pin_usable(tok, so_pin), MSSL_EINVAL);
	if (so_pin) {
		rc = mssl__token_card_len_check(tok, so_len, "so_pin", err);
		if (rc)
			return rc;
	}
	memset(padded_label, ' ', sizeof(padded_label));
	memcpy(padded_label, label, n);
	/* C_InitToken wants no session open on the token, ours included. */
	if (tok->session != CK_INVALID_HANDLE) {
		tok->fn->C_Logout(tok->session);
		tok->fn->C_CloseSession(tok->session);
		tok->session = CK_INVALID_HANDLE;
	}
	tok->logged_in = false;
	rv = tok->fn->C_InitToken(tok->slot, (CK_UTF8CHAR_PTR)so_pin,
				  so_pin ? (CK_ULONG)so_len : 0, padded_label);
	if (rv != CKR_OK) {
		rc = pin_error(tok, rv, true, NULL, "C_InitToken", err);
		/* Back to a session, as far as a blank token gives one. */
		open_session(tok, NULL);
		return rc;
	}
	/*
	 * The token stays in its slot for this process (SoftHSM moves it
	 * to a slot named after its new serial at the next load only):
	 * reopen there, and read what the card now says of itself.
	 */
	rc = open_session(tok, err);
	if (rc)
		return rc;
	free(tok->mechs);
	tok->mechs = NULL;
	tok->n_mechs = 0;
	rc = read_mechanisms(tok, err);
	if (rc)
		return rc;
	rv = tok->fn->C_GetTokenInfo(tok->slot, &ck);
	if (rv != CKR_OK)
		return mssl__token_ckr(err, rv, "C_GetTokenInfo");
	return mssl__token_info_fill(&ck, tok->slot, &tok->s, &tok->info);
}
