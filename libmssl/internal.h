/*
 * libmssl internals: not installed, not exported.  Names mssl__*.
 * Unit tests reach these through libmssl-testable.la.
 */
#ifndef MSSL_INTERNAL_H
#define MSSL_INTERNAL_H

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <libintl.h>

#include "mssl/mssl.h"

/* gettext: text domain of libmssl and its programs. */
#define MSSL_TEXTDOMAIN PACKAGE
#define _(s) dgettext(MSSL_TEXTDOMAIN, s)
#define N_(s) s

#define return_val_if_fail(x, v)                                             \
	do {                                                                 \
		if (!(x))                                                    \
			return (v);                                          \
	} while (0)

#define MSSL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (error.c) ------------------------------------------------ */

/*
 * Record an error whose message is a translatable format string (the
 * msgid, English; wrap it in N_() at the call site so xgettext sees it).
 * The message is formatted twice: as written (English) and from its
 * zh_TW translation.  'id' is the stable dotted id, 'field' the input
 * concerned (may be NULL).  err may be NULL.  Returns code.
 */
int mssl__error_set(mssl_error *err, int code, const char *id,
		    const char *field, const char *msgid, ...)
	MSSL_PRINTF(5, 6);
int mssl__error_setv(mssl_error *err, int code, const char *id,
		     const char *field, const char *msgid, va_list ap);

/*
 * Format the Chinese message again, from msgid's translation with these
 * arguments, leaving the English one: for a message one of whose
 * arguments exists in two languages (a plugin's detail, see plugin.c).
 */
void mssl__error_zh(mssl_error *err, const char *msgid, ...) MSSL_PRINTF(2, 3);

/*
 * Prefix the recorded messages with an untranslated context such as
 * "file:line: " (both languages).
 */
void mssl__error_prefix(mssl_error *err, const char *prefix);

/* ---- i18n (i18n.c) --------------------------------------------------- */

/* Bind the text domain once (thread-safe). */
void mssl__i18n_init(void);

/*
 * msgid translated into Traditional Chinese, whatever the program's
 * locale.  Returns msgid when no translation exists.  Thread-safe.
 */
const char *mssl__tr_zh(const char *msgid);
/* Forget cached translations: a plugin's msgids are going away. */
void mssl__tr_forget(void);

/* Does the program's LC_MESSAGES ask for Chinese? */
bool mssl__locale_is_zh(void);

/* ---- small helpers (util.c) ----------------------------------------- */

char *mssl__strdup(const char *s); /* NULL-safe, NULL on ENOMEM */
char *mssl__asprintf(const char *fmt, ...) MSSL_PRINTF(1, 2);
void mssl__hex(const uint8_t *in, size_t n, char *out); /* out: 2n+1 */
int mssl__unhex(const char *in, uint8_t *out, size_t n);
bool mssl__str_empty(const char *s); /* NULL or only blanks */
/* "2024-12-18 22:12 UTC" whatever the locale; the number when it is no date. */
void mssl__utc_text(int64_t t, char *out, size_t n);

/* Free text given by a person: name, note, reason. */
#define MSSL__TEXT_MAX 256
/*
 * NULL/blank is refused when required (input.required); longer than
 * MSSL__TEXT_MAX bytes (input.too_long) or with a control character
 * (input.control) always.  'field' names the input.
 */
int mssl__text_check(const char *v, const char *field, bool required,
		     mssl_error *err);
/* One DER element at *p (not past end): tag and contents; *p moves on. */
bool mssl__der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag,
		    const uint8_t **val, size_t *len);

/* ---- requests (csr.c) ----------------------------------------------- */

/* The request's DER and its SubjectPublicKeyInfo DER; borrowed. */
const uint8_t *mssl__csr_der(const mssl_csr *c, size_t *len);
const uint8_t *mssl__csr_spki(const mssl_csr *c, size_t *len);
int mssl__csr_parse_gnutls(const void *data, size_t len, mssl_csr **out,
			   mssl_error *err); /* tests: GnuTLS accessors only */

/* ---- context internals used by tests -------------------------------- */

/*
 * The open store of ctx: its ops and plugin state (borrowed, valid while
 * ctx lives).  Returns MSSL_ESTATE when ctx is not open.
 */
int mssl__ctx_store(mssl_ctx *ctx, const struct mssl_store_ops **ops,
		    void **state);

#endif /* MSSL_INTERNAL_H */
