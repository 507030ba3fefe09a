/*
 * libmssl-token internals: not installed, not exported.  Names
 * mssl__token_*.  Tests reach these through libmssl-token-testable.la.
 */
#ifndef MSSL_TOKEN_INTERNAL_H
#define MSSL_TOKEN_INTERNAL_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "mssl/token.h"

/* Messages are English msgids of the "mssl" domain (po/zh_TW.po). */
#define N_(s) s

#define return_val_if_fail(x, v)                                               \
	do {                                                                   \
		if (!(x))                                                      \
			return (v);                                            \
	} while (0)

#define TOKEN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct mssl_token_module {
	CK_FUNCTION_LIST *fn;
	/* Set when loaded by name: p11-kit's list the module belongs to. */
	CK_FUNCTION_LIST **registered;
	char *path;
};

/* Space-trimmed copies of CK_TOKEN_INFO's padded fields, plus the URI. */
struct token_strings {
	char label[33];
	char serial[17];
	char manufacturer[33];
	char model[17];
	char *uri;
};

struct mssl_token {
	mssl_token_module *m;
	CK_FUNCTION_LIST *fn;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	bool logged_in;
	struct token_strings s;
	struct mssl_token_info info;
	/* The card's mechanisms, read once at open. */
	CK_MECHANISM_TYPE *mechs;
	size_t n_mechs;
};

/* ---- token.c -------------------------------------------------------- */

/* Fill 'ti' and 's' (which it points into) from a CK_TOKEN_INFO. */
int mssl__token_info_fill(const CK_TOKEN_INFO *ck, CK_SLOT_ID slot,
			  struct token_strings *s, struct mssl_token_info *ti);

/*
 * Map a CK_RV from function 'what' (e.g. "C_Sign") onto an MSSL_E...
 * code and an error detail keeping the module's own text.
 */
int mssl__token_ckr(mssl_error *err, CK_RV rv, const char *what);

/* Re-read the token's flags into tok->info. */
void mssl__token_refresh(mssl_token *tok);

/*
 * 0 when tok has a session; else (a blank token that refused one) an
 * MSSL_ESTATE error token.blank: only mssl_token_init works on it.
 */
int mssl__token_need_session(mssl_token *tok, mssl_error *err);

/*
 * 0 when the card itself takes a PIN of len characters (its
 * min_pin_len to max_pin_len); else MSSL_EINPUT token.pin_len naming
 * 'field'.  Checked before the card, or a single-use code, sees a PIN.
 */
int mssl__token_card_len_check(mssl_token *tok, size_t len, const char *field,
			       mssl_error *err);

/* ---- key.c ---------------------------------------------------------- */

/*
 * Forget that the card offers 'mech', so that tests can drive every
 * mechanism choice on a card that offers them all.  Returns 0 or
 * MSSL_ENOENT when the card did not offer it.
 */
int mssl__token_deny_mechanism(mssl_token *tok, CK_MECHANISM_TYPE mech);

#endif /* MSSL_TOKEN_INTERNAL_H */
