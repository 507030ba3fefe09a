/*
 * validate-ev: the subject rules of an EV request (SPEC §2, §4; CA/Browser
 * Forum EV Guidelines 9.2).
 *
 * Only for requests of the EV product; others get no finding.  The EV
 * attributes must be exactly what the CA vetted and recorded on the
 * account: serialNumber the Unified Business Number, jurisdictionC (and
 * jurisdictionST, jurisdictionL exactly when vetted) and businessCategory;
 * and no name may be a wildcard.  Every rule broken gets its finding.
 *
 * Includes only <mssl/plugin.h> and libc; never links libmssl.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <mssl/plugin.h>

struct state {
	const struct mssl_host *host;
	void *hctx;
};

/* One check: the plugin, the collector and the request. */
struct run {
	const struct state *st;
	struct mssl_findings *out;
	const struct mssl_subject_info *s;
	const struct mssl_check_account *acct;
	const struct mssl_csr_info *csr;
};

#define FINDING(r, code, field, value, ...)                                    \
	((r)->st->host->finding((r)->out, MSSL_SEV_ERROR, (code), (field),     \
				(value), __VA_ARGS__))

/* EV Guidelines 9.2.3: the four business categories, exactly spelt. */
static const char *const categories[] = {
	"Private Organization",
	"Government Entity",
	"Business Entity",
	"Non-Commercial Entity",
};

/* v when given and not empty, else NULL. */
static const char *given(const char *v)
{
	return v && *v ? v : NULL;
}

static bool vetted(const struct mssl_check_account *a)
{
	return given(a->ev_country) && given(a->ev_category);
}

static int check_vetted(struct run *r)
{
	return FINDING(
		r, "ev.not_allowed", "product", "EV",
		MSSL_N_("Account %s has no EV vetting on record (jurisdiction and business category), so it cannot request an EV certificate. Ask the CA to vet the organisation for EV, or request an SSL certificate instead."),
		r->acct->id ? r->acct->id : "");
}

static int check_serial(struct run *r)
{
	const char *sn = given(r->s->serial_number), *ubn = r->acct->ubn;

	if (!sn)
		return FINDING(
			r, "ev.serial_number", "subject.serialNumber", NULL,
			MSSL_N_("The request has no serialNumber: an EV certificate carries the organisation's registration number, its Unified Business Number %s. Put serialNumber = %s in the CSR's subject."),
			ubn, ubn);
	if (strcmp(sn, ubn) == 0)
		return 0;
	return FINDING(
		r, "ev.serial_number", "subject.serialNumber", sn,
		MSSL_N_("The serialNumber \"%s\" is not the organisation's Unified Business Number %s. Use serialNumber = %s."),
		sn, ubn, ubn);
}

static int check_jur_country(struct run *r)
{
	const char *c = given(r->s->jur_c), *want = r->acct->ev_country;

	if (!c)
		return FINDING(
			r, "ev.jurisdiction_country", "subject.jurisdictionC",
			NULL,
			MSSL_N_("The request has no jurisdictionCountryName (jurisdictionC): an EV certificate names the country where the organisation is registered, vetted as %s. Put jurisdictionC = %s in the CSR's subject."),
			want, want);
	if (strcmp(c, want) == 0)
		return 0;
	return FINDING(
		r, "ev.jurisdiction_country", "subject.jurisdictionC", c,
		MSSL_N_("The jurisdictionCountryName (jurisdictionC) \"%s\" is not the vetted jurisdiction country %s. Use jurisdictionC = %s."),
		c, want, want);
}

static int check_jur_state(struct run *r)
{
	const char *v = given(r->s->jur_st), *want = given(r->acct->ev_state);

	if (!want && !v)
		return 0;
	if (!want)
		return FINDING(
			r, "ev.jurisdiction_state", "subject.jurisdictionST", v,
			MSSL_N_("The request has the jurisdictionStateOrProvinceName (jurisdictionST) \"%s\", but the organisation was vetted without one. Remove jurisdictionST from the CSR's subject."),
			v);
	if (!v)
		return FINDING(
			r, "ev.jurisdiction_state", "subject.jurisdictionST",
			NULL,
			MSSL_N_("The request has no jurisdictionStateOrProvinceName (jurisdictionST), but the organisation was vetted with the jurisdiction state or province \"%s\". Put jurisdictionST = %s in the CSR's subject."),
			want, want);
	if (strcmp(v, want) == 0)
		return 0;
	return FINDING(
		r, "ev.jurisdiction_state", "subject.jurisdictionST", v,
		MSSL_N_("The jurisdictionStateOrProvinceName (jurisdictionST) \"%s\" is not the vetted \"%s\". Use jurisdictionST = %s."),
		v, want, want);
}

static int check_jur_locality(struct run *r)
{
	const char *v = given(r->s->jur_l), *want = given(r->acct->ev_locality);

	if (!want && !v)
		return 0;
	if (!want)
		return FINDING(
			r, "ev.jurisdiction_locality", "subject.jurisdictionL",
			v,
			MSSL_N_("The request has the jurisdictionLocalityName (jurisdictionL) \"%s\", but the organisation was vetted without one. Remove jurisdictionL from the CSR's subject."),
			v);
	if (!v)
		return FINDING(
			r, "ev.jurisdiction_locality", "subject.jurisdictionL",
			NULL,
			MSSL_N_("The request has no jurisdictionLocalityName (jurisdictionL), but the organisation was vetted with the jurisdiction locality \"%s\". Put jurisdictionL = %s in the CSR's subject."),
			want, want);
	if (strcmp(v, want) == 0)
		return 0;
	return FINDING(
		r, "ev.jurisdiction_locality", "subject.jurisdictionL", v,
		MSSL_N_("The jurisdictionLocalityName (jurisdictionL) \"%s\" is not the vetted \"%s\". Use jurisdictionL = %s."),
		v, want, want);
}

static bool known_category(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(v, categories[i]) == 0)
			return true;
	return false;
}

static int check_category(struct run *r)
{
	const char *v = given(r->s->business_category);
	const char *want = r->acct->ev_category;

	if (!v)
		return FINDING(
			r, "ev.business_category", "subject.businessCategory",
			NULL,
			MSSL_N_("The request has no businessCategory: an EV certificate states the organisation's category, vetted as \"%s\". Put businessCategory = %s in the CSR's subject."),
			want, want);
	if (!known_category(v))
		return FINDING(
			r, "ev.business_category", "subject.businessCategory",
			v,
			MSSL_N_("The businessCategory \"%s\" is not one of the EV categories \"Private Organization\", \"Government Entity\", \"Business Entity\" and \"Non-Commercial Entity\". Use the vetted category, businessCategory = %s."),
			v, want);
	if (strcmp(v, want) == 0)
		return 0;
	return FINDING(
		r, "ev.business_category", "subject.businessCategory", v,
		MSSL_N_("The businessCategory \"%s\" is not the organisation's vetted category \"%s\". Use businessCategory = %s."),
		v, want, want);
}

static int check_wildcards(struct run *r)
{
	size_t i;
	int rc;

	for (i = 0; i < r->csr->n_names; i++) {
		const char *name = r->csr->names[i];

		if (!name || strncmp(name, "*.", 2) != 0)
			continue;
		rc = FINDING(
			r, "ev.wildcard", "name", name,
			MSSL_N_("%s is a wildcard name, which an EV certificate may not carry. Remove it from the CSR and list each host name instead, or request a Wildcard certificate (which is not EV)."),
			name);
		if (rc)
			return rc;
	}
	return 0;
}

static int ev_check(void *state, const struct mssl_check *in,
		    struct mssl_findings *out)
{
	struct run r = { .st = state, .out = out };
	int rc;

	if (!in || !in->request || in->request->product != MSSL_PRODUCT_EV)
		return 0;
	if (!in->csr || !in->account || !in->account->ubn)
		return MSSL_EINVAL;
	r.s = &in->csr->subject;
	r.acct = in->account;
	r.csr = in->csr;

	/*
	 * Without vetting only what does not compare with vetted values is
	 * checked: the rest would be noise.
	 */
	if (!vetted(r.acct)) {
		rc = check_vetted(&r);
		if (!rc)
			rc = check_serial(&r);
		if (!rc)
			rc = check_wildcards(&r);
		return rc;
	}
	rc = check_serial(&r);
	if (!rc)
		rc = check_jur_country(&r);
	if (!rc)
		rc = check_jur_state(&r);
	if (!rc)
		rc = check_jur_locality(&r);
	if (!rc)
		rc = check_category(&r);
	if (!rc)
		rc = check_wildcards(&r);
	return rc;
}

static int ev_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct state *st = host->alloc(hctx, sizeof(*st));

	if (!st)
		return MSSL_ENOMEM;
	st->host = host;
	st->hctx = hctx;
	*state = st;
	return 0;
}

static void ev_fini(void *state)
{
	struct state *st = state;

	if (st)
		st->host->free(st->hctx, st);
}

static const struct mssl_validator_ops ev_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = ev_check,
};

static const char *const config_keys[] = { NULL };

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "validate-ev",
	.version = "1",
	.description =
		"EV subject rules: UBN, vetted jurisdiction and category",
	.init = ev_init,
	.fini = ev_fini,
	.ops = &ev_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
