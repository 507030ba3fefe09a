/*
 * The validation pipeline (SPEC §4 items 1-3): one path for the dry run
 * and for issuance.  The core gathers what validators need (the account,
 * the agreed domains that matter, the renewed certificate), applies its
 * own rules (product bought, renewal CN, blocked keys), then runs every
 * configured validator in order and keeps every finding.
 */
#include "op.h"
#include "report.h"
#include "checks.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct strset {
	char **v;
	size_t n, cap;
};

static int strset_add(struct strset *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return 0;
	if (s->n + 1 >= s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		char **v = realloc(s->v, nc * sizeof(*v));

		if (!v)
			return MSSL_ENOMEM;
		s->v = v;
		s->cap = nc;
	}
	if (!(s->v[s->n] = strdup(x)))
		return MSSL_ENOMEM;
	s->v[++s->n] = NULL;
	return 0;
}

struct find_ctx {
	const char *account;
	bool found;
};

static int is_account(void *ud, const struct mssl_domain_rec *r)
{
	struct find_ctx *f = ud;

	if (strcmp(r->account_id, f->account) == 0)
		f->found = true;
	return 0;
}

/*
 * The suffixes already looked up for this request: an open-addressed set
 * of pointers into the lower-cased names.  Names share their parents
 * ("www.x.com.tw", "mail.x.com.tw": "x.com.tw", "com.tw", "tw"), and each
 * store lookup costs about a microsecond, so each suffix is looked up once.
 */
struct suffix_set {
	const char **slot;
	size_t mask;
};

static size_t suffix_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* Add s; false when it was there already. */
static bool suffix_add(struct suffix_set *set, const char *s)
{
	size_t i = suffix_hash(s) & set->mask;

	for (; set->slot[i]; i = (i + 1) & set->mask)
		if (strcmp(set->slot[i], s) == 0)
			return false;
	set->slot[i] = s;
	return true;
}

/*
 * The agreed domains that can matter for the request's names: every
 * suffix of one of them on a label boundary that the account agreed (a
 * wildcard's '*' label left out), in the order first met.  One indexed
 * lookup per distinct suffix that could be agreed (not a single label,
 * not a public suffix), so the cost does not depend on how many domains
 * the account has.
 */
static int relevant_domains(struct mssl__op *op, const struct mssl_csr_info *ci,
			    struct strset *out)
{
	const psl_ctx_t *psl = mssl__ctx_psl(op->ctx);
	struct suffix_set set = { NULL, 0 };
	size_t i, j, total = 0, labels = 0, cap;
	char *lower = NULL, *w;
	const char *p;
	int rc = 0;

	for (i = 0; i < ci->n_names; i++) {
		total += strlen(ci->names[i]) + 1;
		for (p = ci->names[i]; *p; p++)
			labels += *p == '.';
		labels++;
	}
	for (cap = 16; cap < 2 * labels; cap *= 2)
		;
	lower = malloc(total ? total : 1);
	set.slot = calloc(cap, sizeof(*set.slot));
	set.mask = cap - 1;
	if (!lower || !set.slot) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	for (w = lower, i = 0; rc == 0 && i < ci->n_names; i++) {
		const char *name = ci->names[i], *start = w;
		size_t n = strlen(name);

		if (strncmp(name, "*.", 2) == 0) {
			name += 2;
			n -= 2;
		}
		if (n >= 256)
			continue;
		for (j = 0; j <= n; j++)
			w[j] = (char)tolower((unsigned char)name[j]);
		w += n + 1;
		/* Longest first: once a suffix was met, so were its own. */
		for (p = start; rc == 0 && p && *p;
		     p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
			struct find_ctx f = { op->account_id, false };

			if (!suffix_add(&set, p))
				break;
			/*
			 * mssl_domain_add never agrees a single label or an
			 * ICANN public suffix (com.tw), so no lookup for them.
			 * libpsl costs about what a lookup does, so it is
			 * asked only of two-label suffixes, where nearly all
			 * public suffixes are; a deeper one is looked up.
			 */
			if (!strchr(p, '.'))
				break;
			if (p != start && psl && !strchr(strchr(p, '.') + 1, '.') &&
			    psl_is_public_suffix2(psl, p,
						  PSL_TYPE_ICANN |
							  PSL_TYPE_NO_STAR_RULE))
				continue;
			rc = op->ctx->sops->domain_find(op->conn, p, is_account,
							&f);
			if (rc < 0)
				rc = mssl__op_store_error(op, rc);
			else if (f.found)
				rc = strset_add(out, p);
		}
	}
out:
	free(set.slot);
	free(lower);
	return rc;
}

struct cert_ctx {
	char account[64];
	char cn[256];
	char state[16];
};

static int copy_cert(void *ud, const struct mssl_cert_rec *r)
{
	struct cert_ctx *c = ud;

	snprintf(c->account, sizeof(c->account), "%s", r->account_id);
	snprintf(c->cn, sizeof(c->cn), "%s", r->cn ? r->cn : "");
	snprintf(c->state, sizeof(c->state), "%s", r->state);
	return 0;
}

static int blocked_found(void *ud, const struct mssl_blocked_key_rec *r)
{
	*(bool *)ud = true;
	return 0;
}

static const char *product_name(uint32_t p)
{
	switch (p) {
	case MSSL_PRODUCT_SSL:
		return "ssl";
	case MSSL_PRODUCT_WILDCARD:
		return "wildcard";
	case MSSL_PRODUCT_EV:
		return "ev";
	default:
		return "?";
	}
}

/* The core's own rules; findings with source "core". */
static int core_rules(struct mssl__op *op, const struct mssl_csr_info *ci,
		      const mssl_check_params *params,
		      struct mssl_check_request *req, struct cert_ctx *old,
		      mssl_report *report)
{
	struct mssl_findings *out = mssl__report_collector(report, "core");
	const struct mssl_store_ops *so = op->ctx->sops;
	bool blocked = false;
	char hex[65];
	int rc;

	if (!(op->account.products & params->product) &&
	    (rc = mssl__finding_add(out, MSSL_SEV_ERROR,
				    "request.product_not_bought", "product",
				    product_name(params->product),
				    N_("account %s has not bought the %s product; ask the CA to add it, or choose a product the account has"),
				    op->account_id,
				    product_name(params->product))) < 0)
		return rc;
	if (params->renewal_of) {
		rc = so->cert_get(op->conn, params->renewal_of, copy_cert, old);
		if (rc < 0 && rc != MSSL_ENOENT)
			return mssl__op_store_error(op, rc);
		if (rc == MSSL_ENOENT ||
		    strcmp(old->account, op->account_id) != 0) {
			rc = mssl__finding_add(out, MSSL_SEV_ERROR,
					       "request.renew_unknown",
					       "renewal_of", params->renewal_of,
					       N_("account %s has no certificate with serial %s to renew; pick one from the renewal list"),
					       op->account_id,
					       params->renewal_of);
		} else if (strcmp(old->state, "issued") != 0) {
			rc = mssl__finding_add(out, MSSL_SEV_ERROR,
					       "request.renew_state",
					       "renewal_of", params->renewal_of,
					       N_("certificate %s is %s and cannot be renewed; issue a new certificate instead"),
					       params->renewal_of, old->state);
		} else {
			req->renewal_of = params->renewal_of;
			req->renewal_cn = old->cn;
			if (!ci->subject.cn ||
			    strcasecmp(ci->subject.cn, old->cn) != 0)
				rc = mssl__finding_add(
					out, MSSL_SEV_ERROR, "request.renew_cn",
					"subject.CN",
					ci->subject.cn ? ci->subject.cn : "",
					N_("a renewal keeps the common name: the request has CN \"%s\" but certificate %s has \"%s\"; make the request with CN %s"),
					ci->subject.cn ? ci->subject.cn : "",
					params->renewal_of, old->cn, old->cn);
		}
		if (rc < 0)
			return rc;
	}
	rc = so->blocked_key_get(op->conn, ci->key.spki_sha256, blocked_found,
				 &blocked);
	if (rc < 0 && rc != MSSL_ENOENT)
		return mssl__op_store_error(op, rc);
	if (blocked) {
		mssl__hex(ci->key.spki_sha256, 32, hex);
		rc = mssl__finding_add(out, MSSL_SEV_ERROR, "key.blocked", "key",
				       hex,
				       N_("this key (SPKI SHA-256 %s) is blocked: it is known to be weak or compromised; generate a new key pair and a new request"),
				       hex);
		if (rc < 0)
			return rc;
	}
	if (!ci->signature_verified &&
	    (rc = mssl__finding_add(out, MSSL_SEV_ERROR,
				    "csr.signature_unverified", "key",
				    ci->key.alg_name,
				    N_("the request's signature cannot be checked: its key (%s) is of a kind mssl does not support, so possession of the key is not proven; make a request with an RSA or ECDSA P-256/P-384 key"),
				    ci->key.alg_name)) < 0)
		return rc;
	if (op->ctx->n_validators == 0)
		return mssl__finding_add(out, MSSL_SEV_ERROR,
					 "request.no_validators", NULL, NULL,
					 N_("no validators are configured, so nothing can be issued; the operator must list them in mssl.conf"));
	return 0;
}

static int run_validators(mssl_ctx *ctx, const struct mssl_check *in,
			  mssl_report *report)
{
	struct mssl__plugin *pl;
	int rc;

	for (pl = ctx->plugins; pl; pl = pl->next) {
		const struct mssl_validator_ops *v = pl->p->ops;

		if (pl->p->kind != MSSL_PLUGIN_VALIDATOR)
			continue;
		rc = v->check(pl->state, in,
			      mssl__report_collector(report, pl->p->name));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The audit detail: product, names and the codes found. */
static void summarise(struct mssl__op *op, uint32_t product,
		      const struct mssl_csr_info *ci, const mssl_report *r)
{
	size_t i, len;

	len = (size_t)snprintf(op->detail, sizeof(op->detail),
			       "product=%s cn=%s names=%zu",
			       product_name(product),
			       ci->subject.cn ? ci->subject.cn : "-",
			       ci->n_names);
	for (i = 0; i < mssl_report_n_findings(r) && len < sizeof(op->detail);
	     i++) {
		const mssl_finding *f = mssl_report_finding(r, i);

		if (f->severity == MSSL_SEV_ERROR)
			len += (size_t)snprintf(op->detail + len,
						sizeof(op->detail) - len,
						" %s", f->code);
	}
}

/*
 * The whole validation of one request inside an open operation 'op' (the
 * dry run's or issuance's): every finding into 'report'.  Returns 0 or an
 * error that stopped the validation itself; findings are not errors.
 */
int mssl__check_run(struct mssl__op *op, const mssl_csr *csr,
		    const mssl_check_params *params, mssl_report *report)
{
	const struct mssl_csr_info *ci = mssl_csr_info(csr);
	struct mssl_check_account acc;
	struct mssl_check_request req;
	struct mssl_check in;
	struct cert_ctx old = { "", "", "" };
	struct strset domains = { 0 };
	char ubn[9];
	int rc;

	if (params->product != MSSL_PRODUCT_SSL &&
	    params->product != MSSL_PRODUCT_WILDCARD &&
	    params->product != MSSL_PRODUCT_EV)
		return mssl__error_set(op->err, MSSL_EINPUT, "request.product",
				       "product",
				       N_("choose exactly one product: ssl, wildcard or ev"));
	memset(&req, 0, sizeof(req));
	req.product = params->product;
	rc = core_rules(op, ci, params, &req, &old, report);
	if (rc == 0)
		rc = relevant_domains(op, ci, &domains);
	if (rc < 0)
		goto out;
	snprintf(ubn, sizeof(ubn), "%s", op->account_id);
	memset(&acc, 0, sizeof(acc));
	acc.id = op->account_id;
	acc.ubn = ubn;
	acc.org_name_en = op->account.org_name_en;
	acc.products = op->account.products;
	acc.ev_country = op->account.ev_country;
	acc.ev_state = op->account.ev_state;
	acc.ev_locality = op->account.ev_locality;
	acc.ev_category = op->account.ev_category;
	acc.domains = (const char *const *)domains.v;
	acc.n_domains = domains.n;
	memset(&in, 0, sizeof(in));
	in.abi_major = MSSL_PLUGIN_ABI_MAJOR;
	in.abi_minor = MSSL_PLUGIN_ABI_MINOR;
	in.size = sizeof(in);
	in.csr = ci;
	in.account = &acc;
	in.request = &req;
	rc = run_validators(op->ctx, &in, report);
	if (rc == 0)
		rc = mssl__report_finish(report, ci->names, ci->n_names);
	if (rc == 0)
		summarise(op, params->product, ci, report);
out:
	if (rc == MSSL_ENOMEM)
		mssl__error_set(op->err, rc, "nomem", NULL, N_("out of memory"));
	mssl__strv_free(domains.v);
	return rc;
}

MSSL_API int mssl_check(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, const mssl_csr *csr,
			const mssl_check_params *params, mssl_report **out,
			mssl_error *err)
{
	mssl_report *report = NULL;
	struct mssl__op op;
	int rc;

	return_val_if_fail(csr && params && out, MSSL_EINVAL);
	*out = NULL;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_REQUEST_CHECK, account_id,
			    mssl_csr_info(csr)->subject.cn, err);
	if (rc < 0)
		return rc;
	report = mssl__report_new();
	rc = report ? mssl__check_run(&op, csr, params, report) :
		      mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				      N_("out of memory"));
	if (rc == 0)
		rc = mssl__quote_load(&op, mssl_csr_info(csr)->subject.cn,
				      params->renewal_of != NULL, report);
	if (rc == 0 && mssl__report_n_errors(report) > 0)
		rc = mssl__error_set(err, MSSL_EREJECTED, "request.rejected",
				     NULL,
				     N_("the request was refused: %zu findings must be fixed first"),
				     mssl__report_n_errors(report));
	rc = mssl__op_end(&op, rc);
	if (rc == 0 || rc == MSSL_EREJECTED)
		*out = report;
	else
		mssl_report_free(report);
	return rc;
}

MSSL_API int mssl_key_block(mssl_ctx *ctx, const mssl_actor *actor,
			    const uint8_t spki_sha256[32], const char *source,
			    const char *reason, mssl_error *err)
{
	struct mssl_blocked_key_rec r;
	struct mssl__op op;
	char hex[65];
	int rc;

	return_val_if_fail(spki_sha256, MSSL_EINVAL);
	mssl__hex(spki_sha256, 32, hex);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_KEY_BLOCK, NULL, hex,
			    err);
	if (rc < 0)
		return rc;
	memset(&r, 0, sizeof(r));
	memcpy(r.spki_sha256, spki_sha256, 32);
	r.added = mssl__now(ctx);
	r.source = mssl__str_empty(source) ? "operator" : source;
	r.reason = mssl__str_empty(reason) ? NULL : reason;
	rc = ctx->sops->blocked_key_insert(op.conn, &r);
	if (rc == MSSL_EEXIST)
		rc = mssl__error_set(err, MSSL_EEXIST, "key.already_blocked",
				     "spki", N_("key %s is already blocked"),
				     hex);
	else if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	snprintf(op.detail, sizeof(op.detail), "source=%s", r.source);
	return mssl__op_end(&op, rc);
}
