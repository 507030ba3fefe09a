/* Configuration file (INI, read with inih): entries with their lines. */
#ifndef MSSL_CONF_H
#define MSSL_CONF_H

#include "internal.h"

struct mssl__config;

/* Parse 'path'.  Syntax errors and repeated keys fail with file:line. */
int mssl__config_load(const char *path, struct mssl__config **out,
		      mssl_error *err);
void mssl__config_free(struct mssl__config *cfg);

/* Value of section.key, or NULL.  Borrowed from cfg. */
const char *mssl__config_get(const struct mssl__config *cfg,
			     const char *section, const char *key);

/* Does the file have a [section]? */
bool mssl__config_has_section(const struct mssl__config *cfg,
			      const char *section);

/*
 * Record a configuration error about section.key: the message (a msgid,
 * formatted in both languages) is prefixed with "file:line: [section] key: "
 * (line of the key, or of the section when the key is absent).
 * Returns MSSL_ECONFIG.
 */
int mssl__config_error(const struct mssl__config *cfg, mssl_error *err,
		       const char *section, const char *key, const char *id,
		       const char *msgid, ...) MSSL_PRINTF(6, 7);

/*
 * The same for a message already formatted in English ('en') and
 * Traditional Chinese ('zh', NULL: English in both): a plugin's.
 */
int mssl__config_error_text(const struct mssl__config *cfg, mssl_error *err,
			    const char *section, const char *key,
			    const char *id, const char *en, const char *zh);

/* Refuse any key of 'section' not in the NULL-terminated 'keys'. */
int mssl__config_check_keys(const struct mssl__config *cfg,
			    const char *section, const char *const *keys,
			    mssl_error *err);

/* Refuse any section not in the NULL-terminated 'sections'. */
int mssl__config_check_sections(const struct mssl__config *cfg,
				const char *const *sections, mssl_error *err);

/* Split a comma/space separated list; *out is NULL-terminated, free with
 * mssl__strv_free. */
/*
 * A whole number in [min, max] from section.key into *out, or 'dflt'
 * when absent; MSSL_ECONFIG naming file, line and key otherwise.
 */
int mssl__config_int(const struct mssl__config *cfg, const char *section,
		     const char *key, long min, long max, long dflt, int *out,
		     mssl_error *err);

int mssl__split_list(const char *text, char ***out, size_t *n);
void mssl__strv_free(char **v);

/* mssl__config_error with a va_list. */
int mssl__config_errorv(const struct mssl__config *cfg, mssl_error *err,
			const char *section, const char *key, const char *id,
			const char *msgid, va_list ap);

/* The file's path, or NULL without a file; borrowed from cfg. */
const char *mssl__config_path(const struct mssl__config *cfg);

/*
 * A list of whole numbers of days ("30, 14, 7"), each in [min, max] and
 * none twice, at most 'cap' of them, from section.key into out[],
 * largest first; dflt[n_dflt] when the key is absent; none when it is
 * empty.  MSSL_ECONFIG naming file, line and key otherwise.
 */
int mssl__config_days_list(const struct mssl__config *cfg,
			   const char *section, const char *key, int min,
			   int max, const int *dflt, size_t n_dflt, int *out,
			   size_t cap, size_t *n_out, mssl_error *err);

#endif
