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

#endif
