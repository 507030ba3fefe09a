/*
 * Input checks (checks.c): the data they need, loaded once per context.
 *
 * The public checks live in mssl.h.  ctx.c loads the public suffix list and
 * the country list once and hands them out through the two accessors below;
 * the *_psl / *_list variants do the work and take the data directly, so
 * that unit tests need no context.
 */
#ifndef MSSL_CHECKS_H
#define MSSL_CHECKS_H

#include <stdbool.h>

#include <libpsl.h>

#include "mssl/mssl.h"

/* The ISO 3166-1 alpha-2 codes, sorted (opaque; checks.c). */
struct mssl_countries;

/*
 * Load the public suffix list from 'path' (DAFSA or .dat; NULL for the
 * configured PSLFILE).  *out is the caller's, freed with psl_free().
 * Returns 0 or MSSL_ECONFIG (id "psl.load").
 */
int mssl__psl_load(const char *path, psl_ctx_t **out, mssl_error *err);

/*
 * The context's public suffix list (ctx.c), loaded once; borrowed.
 * NULL when it could not be loaded.
 */
psl_ctx_t *mssl__ctx_psl(mssl_ctx *ctx);

/* mssl_domain_check against a given public suffix list. */
int mssl__domain_check_psl(const psl_ctx_t *psl, const char *name,
			   char **normalised, mssl_error *err);

/*
 * Load the alpha-2 codes from 'dir'/iso_3166-1.json (iso-codes; NULL for
 * the configured ISOCODESDIR).  *out is the caller's, freed with
 * mssl__countries_free.  Returns 0, MSSL_ENOMEM or MSSL_ECONFIG (id
 * "country.load").
 */
int mssl__countries_load(const char *dir, struct mssl_countries **out,
			 mssl_error *err);

/* Accepts NULL. */
void mssl__countries_free(struct mssl_countries *countries);

/* Is 'code' in the list (exact, case-sensitive)?  Thread-safe. */
bool mssl__country_known(const struct mssl_countries *countries,
			 const char *code);

/*
 * The context's country list (ctx.c), loaded once; borrowed.  NULL when it
 * could not be loaded.
 */
const struct mssl_countries *mssl__ctx_countries(mssl_ctx *ctx);

/* mssl_country_check against a given country list. */
int mssl__country_check_list(const struct mssl_countries *countries,
			     const char *code, const char *field,
			     mssl_error *err);

#endif /* MSSL_CHECKS_H */
