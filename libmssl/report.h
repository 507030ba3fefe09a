/* Findings and verdicts of one validation (internal). */
#ifndef MSSL_REPORT_H
#define MSSL_REPORT_H

#include "internal.h"

/* What a validator writes into: the report and who is writing. */
struct mssl_findings {
	mssl_report *report;
	const char *source;
};

mssl_report *mssl__report_new(void);

/* The collector for 'source' (a plugin name, or "core"); borrowed. */
struct mssl_findings *mssl__report_collector(mssl_report *r,
					     const char *source);

int mssl__finding_addv(struct mssl_findings *out, int severity,
		       const char *code, const char *field,
		       const char *value, const char *msgid, va_list ap);
int mssl__finding_add(struct mssl_findings *out, int severity,
		      const char *code, const char *field, const char *value,
		      const char *msgid, ...) MSSL_PRINTF(6, 7);
int mssl__verdict_addv(struct mssl_findings *out, const char *name,
		       const char *msgid, va_list ap);
int mssl__verdict_add(struct mssl_findings *out, const char *name,
		      const char *msgid, ...) MSSL_PRINTF(3, 4);

/*
 * Build the per-name verdicts for 'names' from the rules recorded and the
 * error findings: a name is accepted when a rule accepted it and no error
 * finding about it (field "name", value the name) exists.  Call once,
 * after every validator ran.
 */
int mssl__report_finish(mssl_report *r, const char *const *names,
			size_t n_names);

/* Number of findings of severity error. */
size_t mssl__report_n_errors(const mssl_report *r);

/*
 * What a dry run needs to quote the price and validity for any number of
 * years: the CN's paid term as the check saw it, the time and the policy
 * maximum (issue.c's mssl__quote_load fills it; mssl_report_quote reads it).
 */
struct mssl__quote {
	bool set; /* filled by a check of a request with a CN */
	bool renewal;
	bool have_term;
	int64_t started, paid_until; /* the term, when have_term */
	int64_t now, max; /* the check's time; the policy's longest validity */
	int max_years;
};

void mssl__report_set_quote(mssl_report *r, const struct mssl__quote *q);
const struct mssl__quote *mssl__report_get_quote(const mssl_report *r);

#endif
