/*
 * A validation report: every finding of every validator, and one verdict
 * per DNS name.  Messages are formatted in English and Traditional
 * Chinese when recorded (the msgid and its translation).
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rule {
	char *name;
	char *en;
	char *zh;
};

struct mssl_report {
	mssl_finding *f;
	size_t n_f, cap_f;
	struct rule *rules;
	size_t n_rules, cap_rules;
	mssl_verdict *v;
	size_t n_v;
	size_t n_errors;
	struct mssl_findings collector;
	struct mssl__quote quote;
};

mssl_report *mssl__report_new(void)
{
	return calloc(1, sizeof(mssl_report));
}

struct mssl_findings *mssl__report_collector(mssl_report *r,
					     const char *source)
{
	r->collector.report = r;
	r->collector.source = source;
	return &r->collector;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *p = NULL;

	return vasprintf(&p, fmt, ap) < 0 ? NULL : p;
}

int mssl__finding_addv(struct mssl_findings *out, int severity,
		       const char *code, const char *field,
		       const char *value, const char *msgid, va_list ap)
{
	mssl_report *r;
	mssl_finding *f;
	va_list aq;

	if (!out || !out->report || !code || !msgid)
		return MSSL_EINVAL;
	r = out->report;
	if (r->n_f == r->cap_f) {
		size_t nc = r->cap_f ? r->cap_f * 2 : 8;

		f = realloc(r->f, nc * sizeof(*f));
		if (!f)
			return MSSL_ENOMEM;
		r->f = f;
		r->cap_f = nc;
	}
	f = &r->f[r->n_f];
	memset(f, 0, sizeof(*f));
	f->severity = severity < MSSL_SEV_NOTICE ? MSSL_SEV_NOTICE :
		      severity > MSSL_SEV_ERROR	 ? MSSL_SEV_ERROR :
						   severity;
	va_copy(aq, ap);
	f->message_en = vfmt(msgid, aq);
	va_end(aq);
	f->message_zh = vfmt(mssl__tr_zh(msgid), ap);
	f->code = strdup(code);
	f->field = mssl__strdup(field);
	f->value = mssl__strdup(value);
	f->source = mssl__strdup(out->source ? out->source : "core");
	if (!f->message_en || !f->message_zh || !f->code ||
	    (field && !f->field) || (value && !f->value) || !f->source) {
		free((char *)f->message_en);
		free((char *)f->message_zh);
		free((char *)f->code);
		free((char *)f->field);
		free((char *)f->value);
		free((char *)f->source);
		return MSSL_ENOMEM;
	}
	if (f->severity == MSSL_SEV_ERROR)
		r->n_errors++;
	r->n_f++;
	return 0;
}

int mssl__finding_add(struct mssl_findings *out, int severity,
		      const char *code, const char *field, const char *value,
		      const char *msgid, ...)
{
	va_list ap;
	int rc;

	va_start(ap, msgid);
	rc = mssl__finding_addv(out, severity, code, field, value, msgid, ap);
	va_end(ap);
	return rc;
}

int mssl__verdict_addv(struct mssl_findings *out, const char *name,
		       const char *msgid, va_list ap)
{
	mssl_report *r;
	struct rule *ru;
	va_list aq;

	if (!out || !out->report || !name || !msgid)
		return MSSL_EINVAL;
	r = out->report;
	if (r->n_rules == r->cap_rules) {
		size_t nc = r->cap_rules ? r->cap_rules * 2 : 8;

		ru = realloc(r->rules, nc * sizeof(*ru));
		if (!ru)
			return MSSL_ENOMEM;
		r->rules = ru;
		r->cap_rules = nc;
	}
	ru = &r->rules[r->n_rules];
	va_copy(aq, ap);
	ru->en = vfmt(msgid, aq);
	va_end(aq);
	ru->zh = vfmt(mssl__tr_zh(msgid), ap);
	ru->name = strdup(name);
	if (!ru->en || !ru->zh || !ru->name) {
		free(ru->en);
		free(ru->zh);
		free(ru->name);
		return MSSL_ENOMEM;
	}
	r->n_rules++;
	return 0;
}

int mssl__verdict_add(struct mssl_findings *out, const char *name,
		      const char *msgid, ...)
{
	va_list ap;
	int rc;

	va_start(ap, msgid);
	rc = mssl__verdict_addv(out, name, msgid, ap);
	va_end(ap);
	return rc;
}

static const struct rule *rule_for(const mssl_report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_rules; i++)
		if (strcasecmp(r->rules[i].name, name) == 0)
			return &r->rules[i];
	return NULL;
}

static bool name_has_error(const mssl_report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_f; i++)
		if (r->f[i].severity == MSSL_SEV_ERROR && r->f[i].value &&
		    r->f[i].field && strcmp(r->f[i].field, "name") == 0 &&
		    strcasecmp(r->f[i].value, name) == 0)
			return true;
	return false;
}

int mssl__report_finish(mssl_report *r, const char *const *names,
			size_t n_names)
{
	size_t i;

	r->v = calloc(n_names ? n_names : 1, sizeof(*r->v));
	if (!r->v)
		return MSSL_ENOMEM;
	for (i = 0; i < n_names; i++) {
		const struct rule *ru = rule_for(r, names[i]);
		mssl_verdict *v = &r->v[i];

		v->name = strdup(names[i]);
		if (!v->name)
			return MSSL_ENOMEM;
		r->n_v++;
		v->accepted = ru && !name_has_error(r, names[i]);
		v->rule_en = ru ? ru->en : NULL;
		v->rule_zh = ru ? ru->zh : NULL;
	}
	return 0;
}

size_t mssl__report_n_errors(const mssl_report *r)
{
	return r ? r->n_errors : 0;
}

MSSL_API void mssl_report_free(mssl_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_f; i++) {
		free((char *)r->f[i].code);
		free((char *)r->f[i].field);
		free((char *)r->f[i].value);
		free((char *)r->f[i].message_en);
		free((char *)r->f[i].message_zh);
		free((char *)r->f[i].source);
	}
	for (i = 0; i < r->n_rules; i++) {
		free(r->rules[i].name);
		free(r->rules[i].en);
		free(r->rules[i].zh);
	}
	for (i = 0; i < r->n_v; i++)
		free((char *)r->v[i].name);
	free(r->f);
	free(r->rules);
	free(r->v);
	free(r);
}

void mssl__report_set_quote(mssl_report *r, const struct mssl__quote *q)
{
	r->quote = *q;
	r->quote.set = true;
}

const struct mssl__quote *mssl__report_get_quote(const mssl_report *r)
{
	return r && r->quote.set ? &r->quote : NULL;
}

MSSL_API int mssl_report_issuable(const mssl_report *r)
{
	return r && r->n_errors == 0;
}

MSSL_API size_t mssl_report_n_findings(const mssl_report *r)
{
	return r ? r->n_f : 0;
}

MSSL_API const mssl_finding *mssl_report_finding(const mssl_report *r,
						 size_t i)
{
	return r && i < r->n_f ? &r->f[i] : NULL;
}

MSSL_API size_t mssl_report_n_verdicts(const mssl_report *r)
{
	return r ? r->n_v : 0;
}

MSSL_API const mssl_verdict *mssl_report_verdict(const mssl_report *r,
						 size_t i)
{
	return r && i < r->n_v ? &r->v[i] : NULL;
}
