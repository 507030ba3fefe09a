/*
 * Accounts, their agreed domains and contacts.  Every input is checked
 * before anything is written, so bad input never changes the store.
 */
#include "op.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest organisation name we accept (X.520 ub-organization-name). */
#define ORG_NAME_MAX 64

static const char *const ev_categories[] = {
	MSSL_EV_PRIVATE, MSSL_EV_GOVERNMENT, MSSL_EV_BUSINESS,
	MSSL_EV_NON_COMMERCIAL, NULL,
};

static const char *const contact_kinds[] = {
	"supervisor", "technical", "billing", "other", NULL,
};

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Printable ASCII only: the subject O is matched against it exactly. */
static int check_org_en(const char *v, mssl_error *err)
{
	const char *c;

	if (mssl__str_empty(v))
		return mssl__error_set(err, MSSL_EINPUT, "account.org_name_en",
				       "org_name_en",
				       N_("the organisation's English name is required"));
	if (strlen(v) > ORG_NAME_MAX)
		return mssl__error_set(err, MSSL_EINPUT, "account.org_name_en",
				       "org_name_en",
				       N_("the organisation's English name may have at most %d characters"),
				       ORG_NAME_MAX);
	for (c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return mssl__error_set(err, MSSL_EINPUT,
					       "account.org_name_en",
					       "org_name_en",
					       N_("the organisation's English name \"%s\" may contain only printable ASCII characters"),
					       v);
	if (v[0] == ' ' || v[strlen(v) - 1] == ' ')
		return mssl__error_set(err, MSSL_EINPUT, "account.org_name_en",
				       "org_name_en",
				       N_("the organisation's English name \"%s\" must not begin or end with a space"),
				       v);
	return 0;
}

/* EV data is required with the EV product and must be sound without it. */
static int check_ev(mssl_ctx *ctx, uint32_t products, const char *country,
		    const char *category, mssl_error *err)
{
	int rc;

	if (products & MSSL_PRODUCT_EV) {
		if (mssl__str_empty(country))
			return mssl__error_set(err, MSSL_EINPUT,
					       "account.ev_country", "ev_country",
					       N_("the EV product needs the jurisdiction country (ev_country)"));
		if (mssl__str_empty(category))
			return mssl__error_set(err, MSSL_EINPUT,
					       "account.ev_category",
					       "ev_category",
					       N_("the EV product needs the business category (ev_category)"));
	}
	if (!mssl__str_empty(country) &&
	    (rc = mssl_country_check(ctx, country, "ev_country", err)) < 0)
		return rc;
	if (!mssl__str_empty(category) && !one_of(category, ev_categories))
		return mssl__error_set(err, MSSL_EINPUT, "account.ev_category",
				       "ev_category",
				       N_("\"%s\" is not an EV business category: use Private Organization, Government Entity, Business Entity or Non-Commercial Entity"),
				       category);
	return 0;
}

static int check_contact(const mssl_contact *c, mssl_error *err)
{
	int rc;

	if (mssl__str_empty(c->kind) || !one_of(c->kind, contact_kinds))
		return mssl__error_set(err, MSSL_EINPUT, "contact.kind", "kind",
				       N_("\"%s\" is not a contact kind: use supervisor, technical, billing or other"),
				       c->kind ? c->kind : "");
	if ((rc = mssl__text_check(c->name, "name", true, err)) < 0 ||
	    (rc = mssl_email_check(c->email, "email", err)) < 0 ||
	    (rc = mssl__text_check(c->phone, "phone", false, err)) < 0)
		return rc;
	return 0;
}

static const char *nz(const char *s)
{
	return mssl__str_empty(s) ? NULL : s;
}

MSSL_API int mssl_account_create(mssl_ctx *ctx, const mssl_actor *actor,
				 const mssl_account_spec *spec,
				 mssl_error *err)
{
	struct mssl__op op;
	struct mssl_account_rec r;
	mssl_contact sup = { 0 };
	int64_t cid;
	int rc;

	return_val_if_fail(spec, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_ACCOUNT_CREATE, spec->id,
			    spec->id, err);
	if (rc < 0)
		return rc;
	sup.kind = "supervisor";
	sup.name = spec->supervisor_name;
	sup.email = spec->supervisor_email;
	sup.phone = spec->supervisor_phone;
	if ((rc = mssl_account_id_check(spec->id, err)) < 0 ||
	    (rc = check_org_en(spec->org_name_en, err)) < 0 ||
	    (rc = mssl__text_check(spec->org_name_zh, "org_name_zh", false, err)) <
		    0 ||
	    (rc = check_ev(ctx, spec->products, spec->ev_country,
			   spec->ev_category, err)) < 0 ||
	    (rc = mssl__text_check(spec->ev_state, "ev_state", false, err)) < 0 ||
	    (rc = mssl__text_check(spec->ev_locality, "ev_locality", false, err)) <
		    0)
		goto out;
	if (!spec->products) {
		rc = mssl__error_set(err, MSSL_EINPUT, "products.empty",
				     "products",
				     N_("name at least one product: ssl, wildcard or ev"));
		goto out;
	}
	if (spec->products & ~(uint32_t)(MSSL_PRODUCT_SSL |
					 MSSL_PRODUCT_WILDCARD |
					 MSSL_PRODUCT_EV)) {
		rc = mssl__error_set(err, MSSL_EINPUT, "products.unknown",
				     "products",
				     N_("unknown product bits 0x%x: the products are ssl, wildcard and ev"),
				     (unsigned)spec->products);
		goto out;
	}
	if (mssl__str_empty(spec->supervisor_name)) {
		rc = mssl__error_set(err, MSSL_EINPUT, "account.supervisor",
				     "supervisor_name",
				     N_("the account's supervisor (作業主管) is required: the CA calls this person before unlocking a card"));
		goto out;
	}
	/* Name the spec's own fields, not those of a contact. */
	if ((rc = mssl_email_check(sup.email, "supervisor_email", err)) < 0 ||
	    (rc = mssl__text_check(sup.phone, "supervisor_phone", false, err)) < 0 ||
	    (rc = check_contact(&sup, err)) < 0)
		goto out;
	memset(&r, 0, sizeof(r));
	r.id = spec->id;
	r.org_name_en = spec->org_name_en;
	r.org_name_zh = nz(spec->org_name_zh);
	r.products = spec->products;
	r.ev_country = nz(spec->ev_country);
	r.ev_state = nz(spec->ev_state);
	r.ev_locality = nz(spec->ev_locality);
	r.ev_category = nz(spec->ev_category);
	r.status = MSSL_ACCOUNT_ACTIVE;
	r.created = mssl__now(ctx);
	rc = ctx->sops->account_insert(op.conn, &r);
	if (rc == MSSL_EEXIST) {
		rc = mssl__error_set(err, MSSL_EEXIST, "account.exists", "id",
				     N_("account %s already exists"), spec->id);
		goto out;
	}
	if (rc == 0)
		rc = ctx->sops->contact_insert(
			op.conn,
			&(struct mssl_contact_rec){
				.account_id = spec->id,
				.kind = "supervisor",
				.name = sup.name,
				.email = sup.email,
				.phone = nz(sup.phone) },
			&cid);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	else
		snprintf(op.detail, sizeof(op.detail), "org=\"%s\"",
			 spec->org_name_en);
out:
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_account_set(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *id, const char *key,
			      const char *value, mssl_error *err)
{
	struct mssl__op op;
	struct mssl_account_rec r;
	const char *v = nz(value);
	int rc;

	return_val_if_fail(key, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_ACCOUNT_SET, id, id, err);
	if (rc < 0)
		return rc;
	r = op.account;
	if (strcmp(key, "org_name_en") == 0) {
		rc = check_org_en(value, err);
		r.org_name_en = value;
	} else if (strcmp(key, "org_name_zh") == 0) {
		rc = mssl__text_check(value, key, false, err);
		r.org_name_zh = v;
	} else if (strcmp(key, "products") == 0) {
		rc = mssl_products_parse(value, key, &r.products, err);
	} else if (strcmp(key, "ev_country") == 0) {
		r.ev_country = v;
	} else if (strcmp(key, "ev_state") == 0) {
		rc = mssl__text_check(value, key, false, err);
		r.ev_state = v;
	} else if (strcmp(key, "ev_locality") == 0) {
		rc = mssl__text_check(value, key, false, err);
		r.ev_locality = v;
	} else if (strcmp(key, "ev_category") == 0) {
		r.ev_category = v;
	} else {
		rc = mssl__error_set(err, MSSL_EINPUT, "account.key", "key",
				     N_("\"%s\" cannot be set: use org_name_en, org_name_zh, products, ev_country, ev_state, ev_locality or ev_category"),
				     key);
	}
	/* The EV rules concern the account as a whole after the change. */
	if (rc == 0)
		rc = check_ev(ctx, r.products, r.ev_country, r.ev_category,
			      err);
	if (rc == 0) {
		rc = ctx->sops->account_update(op.conn, &r);
		if (rc < 0)
			rc = mssl__op_store_error(&op, rc);
	}
	snprintf(op.detail, sizeof(op.detail), "%s=\"%s\"", key,
		 value ? value : "");
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_account_suspend(mssl_ctx *ctx, const mssl_actor *actor,
				  const char *id, int suspend,
				  const char *reason, mssl_error *err)
{
	struct mssl__op op;
	struct mssl_account_rec r;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_ACCOUNT_SUSPEND, id, id,
			    err);
	if (rc < 0)
		return rc;
	if ((rc = mssl__text_check(reason, "reason", true, err)) < 0)
		goto out;
	r = op.account;
	r.status = suspend ? MSSL_ACCOUNT_SUSPENDED : MSSL_ACCOUNT_ACTIVE;
	if (r.status == op.account.status) {
		rc = mssl__error_set(err, MSSL_ESTATE, "account.status", NULL,
				     suspend ? N_("account %s is already suspended") :
					       N_("account %s is already active"),
				     id);
		goto out;
	}
	rc = ctx->sops->account_update(op.conn, &r);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	snprintf(op.detail, sizeof(op.detail), "%s: %s",
		 suspend ? "suspended" : "reactivated", reason);
out:
	return mssl__op_end(&op, rc);
}

/* ---- reading accounts -------------------------------------------------- */

/*
 * An account_info and everything it points to in one allocation list: a
 * small arena so mssl_account_info_free is one call.
 */
struct info_arena {
	mssl_account_info info;
	char **strs;
	size_t n_strs, cap_strs;
	char **domains;
	size_t cap_domains;
	mssl_contact *contacts;
	size_t cap_contacts;
};

static char *keep(struct info_arena *a, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	if (a->n_strs == a->cap_strs) {
		size_t nc = a->cap_strs ? a->cap_strs * 2 : 32;
		char **v = realloc(a->strs, nc * sizeof(*v));

		if (!v)
			return NULL;
		a->strs = v;
		a->cap_strs = nc;
	}
	c = strdup(s);
	if (c)
		a->strs[a->n_strs++] = c;
	return c;
}

#define KEEP(a, dst, s)                                                      \
	do {                                                                 \
		if ((s) && !((dst) = keep((a), (s))))                        \
			return MSSL_ENOMEM;                                  \
	} while (0)

static int fill_account(struct info_arena *a, const struct mssl_account_rec *r)
{
	mssl_account_info *i = &a->info;

	KEEP(a, i->id, r->id);
	KEEP(a, i->org_name_en, r->org_name_en);
	KEEP(a, i->org_name_zh, r->org_name_zh);
	KEEP(a, i->ev_country, r->ev_country);
	KEEP(a, i->ev_state, r->ev_state);
	KEEP(a, i->ev_locality, r->ev_locality);
	KEEP(a, i->ev_category, r->ev_category);
	i->products = r->products;
	i->status = r->status;
	i->created = r->created;
	return 0;
}

static int add_domain(void *ud, const struct mssl_domain_rec *r)
{
	struct info_arena *a = ud;
	mssl_account_info *i = &a->info;

	if (i->n_domains + 1 >= a->cap_domains) {
		size_t nc = a->cap_domains ? a->cap_domains * 2 : 16;
		char **v = realloc(a->domains, nc * sizeof(*v));

		if (!v)
			return MSSL_ENOMEM;
		a->domains = v;
		a->cap_domains = nc;
		i->domains = (const char *const *)v;
	}
	KEEP(a, a->domains[i->n_domains], r->name);
	a->domains[++i->n_domains] = NULL;
	return 0;
}

static int add_contact(void *ud, const struct mssl_contact_rec *r)
{
	struct info_arena *a = ud;
	mssl_account_info *i = &a->info;
	mssl_contact *c;

	if (i->n_contacts == a->cap_contacts) {
		size_t nc = a->cap_contacts ? a->cap_contacts * 2 : 4;
		mssl_contact *v = realloc(a->contacts, nc * sizeof(*v));

		if (!v)
			return MSSL_ENOMEM;
		a->contacts = v;
		a->cap_contacts = nc;
		i->contacts = v;
	}
	c = &a->contacts[i->n_contacts];
	memset(c, 0, sizeof(*c));
	c->id = r->id;
	KEEP(a, c->kind, r->kind);
	KEEP(a, c->name, r->name);
	KEEP(a, c->email, r->email);
	KEEP(a, c->phone, r->phone);
	i->n_contacts++;
	return 0;
}

MSSL_API void mssl_account_info_free(mssl_account_info *info)
{
	struct info_arena *a = (struct info_arena *)info;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n_strs; i++)
		free(a->strs[i]);
	free(a->strs);
	free(a->domains);
	free(a->contacts);
	free(a);
}

MSSL_API int mssl_account_get(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *id, mssl_account_info **out,
			      mssl_error *err)
{
	struct mssl__op op;
	struct info_arena *a = NULL;
	int rc;

	return_val_if_fail(out, MSSL_EINVAL);
	*out = NULL;
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_ACCOUNT_SHOW, id, id, err);
	if (rc < 0)
		return rc;
	a = calloc(1, sizeof(*a));
	rc = a ? fill_account(a, &op.account) : MSSL_ENOMEM;
	if (rc == 0)
		rc = ctx->sops->ledger_balance(op.conn, op.account_id,
					       &a->info.balance);
	if (rc == 0)
		rc = ctx->sops->domain_each(op.conn, op.account_id, add_domain,
					    a);
	if (rc == 0)
		rc = ctx->sops->contact_each(op.conn, op.account_id,
					     add_contact, a);
	if (rc == MSSL_ENOMEM)
		mssl__error_set(err, rc, "nomem", NULL, N_("out of memory"));
	else if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	rc = mssl__op_end(&op, rc);
	if (rc < 0) {
		if (a)
			mssl_account_info_free(&a->info);
		return rc;
	}
	*out = &a->info;
	return 0;
}

struct list_ctx {
	struct mssl__op *op;
	mssl_account_info_cb cb;
	void *ud;
};

static int list_one(void *ud, const struct mssl_account_rec *r)
{
	struct list_ctx *l = ud;
	mssl_account_info i;
	int rc;

	memset(&i, 0, sizeof(i));
	i.id = r->id;
	i.org_name_en = r->org_name_en;
	i.org_name_zh = r->org_name_zh;
	i.products = r->products;
	i.ev_country = r->ev_country;
	i.ev_state = r->ev_state;
	i.ev_locality = r->ev_locality;
	i.ev_category = r->ev_category;
	i.status = r->status;
	i.created = r->created;
	rc = l->op->ctx->sops->ledger_balance(l->op->conn, r->id, &i.balance);
	if (rc < 0)
		return rc;
	return l->cb(l->ud, &i);
}

MSSL_API int mssl_account_list(mssl_ctx *ctx, const mssl_actor *actor,
			       mssl_account_info_cb cb, void *ud,
			       mssl_error *err)
{
	struct mssl__op op;
	struct list_ctx l = { &op, cb, ud };
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_ACCOUNT_LIST, NULL, NULL,
			    err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->account_each(op.conn, list_one, &l);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}

/* ---- domains ------------------------------------------------------------ */

struct holder {
	const char *self;
	bool mine;
	char other[64];
};

/* Note whether the account itself and which other account hold it. */
static int find_other(void *ud, const struct mssl_domain_rec *r)
{
	struct holder *h = ud;

	if (strcmp(r->account_id, h->self) == 0)
		h->mine = true;
	else if (!h->other[0])
		snprintf(h->other, sizeof(h->other), "%s", r->account_id);
	return 0;
}

MSSL_API int mssl_domain_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *name,
			     unsigned flags, mssl_error *err)
{
	struct mssl__op op;
	struct holder h = { .self = account_id };
	char *norm = NULL;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_DOMAIN_ADD, account_id,
			    name, err);
	if (rc < 0)
		return rc;
	rc = mssl_domain_check(ctx, name, &norm, err);
	if (rc < 0)
		goto out;
	rc = ctx->sops->domain_find(op.conn, norm, find_other, &h);
	if (rc < 0)
		goto store;
	/* Already this account's: say so, whoever else also holds it. */
	if (h.mine) {
		rc = mssl__error_set(err, MSSL_EEXIST, "domain.exists", "domain",
				     N_("%s is already agreed to account %s"),
				     norm, account_id);
		goto out;
	}
	if (h.other[0] && !(flags & MSSL_DOMAIN_FORCE)) {
		rc = mssl__error_set(err, MSSL_EEXIST, "domain.other_account",
				     "domain",
				     N_("%s is already agreed to account %s; remove it there first, or force it if both accounts may use it"),
				     norm, h.other);
		goto out;
	}
	if (h.other[0])
		snprintf(op.detail, sizeof(op.detail),
			 "forced: also agreed to %s", h.other);
	rc = ctx->sops->domain_insert(
		op.conn, &(struct mssl_domain_rec){ .account_id = account_id,
						    .name = norm,
						    .added = mssl__now(ctx) });
	if (rc == MSSL_EEXIST) {
		rc = mssl__error_set(err, MSSL_EEXIST, "domain.exists", "domain",
				     N_("%s is already agreed to account %s"),
				     norm, account_id);
		goto out;
	}
store:
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
out:
	free(norm);
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_domain_remove(mssl_ctx *ctx, const mssl_actor *actor,
				const char *account_id, const char *name,
				mssl_error *err)
{
	struct mssl__op op;
	char *lower = NULL;
	size_t i;
	int rc;

	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_DOMAIN_REMOVE, account_id,
			    name, err);
	if (rc < 0)
		return rc;
	lower = mssl__strdup(name ? name : "");
	if (!lower) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	for (i = 0; lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	rc = ctx->sops->domain_delete(op.conn, account_id, lower);
	if (rc == MSSL_ENOENT)
		rc = mssl__error_set(err, MSSL_ENOENT, "domain.not_found",
				     "domain",
				     N_("%s is not an agreed domain of account %s"),
				     lower, account_id);
	else if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
out:
	free(lower);
	return mssl__op_end(&op, rc);
}

MSSL_API int mssl_domain_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, mssl_domain_cb cb,
			      void *ud, mssl_error *err)
{
	struct mssl__op op;
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_DOMAIN_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->domain_each(op.conn, op.account_id, cb, ud);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}

/* ---- contacts ----------------------------------------------------------- */

MSSL_API int mssl_contact_add(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const mssl_contact *c,
			      int64_t *id_out, mssl_error *err)
{
	struct mssl__op op;
	int64_t id = 0;
	int rc;

	return_val_if_fail(c, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CONTACT_ADD, account_id,
			    c->email, err);
	if (rc < 0)
		return rc;
	rc = check_contact(c, err);
	if (rc < 0)
		goto out;
	rc = ctx->sops->contact_insert(
		op.conn,
		&(struct mssl_contact_rec){ .account_id = account_id,
					    .kind = c->kind,
					    .name = c->name,
					    .email = c->email,
					    .phone = nz(c->phone) },
		&id);
	if (rc < 0) {
		rc = mssl__op_store_error(&op, rc);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "%s contact %" PRId64,
		 c->kind, id);
	if (id_out)
		*id_out = id;
out:
	return mssl__op_end(&op, rc);
}

struct contact_cb {
	mssl_contact_list_cb cb;
	void *ud;
};

static int contact_one(void *ud, const struct mssl_contact_rec *r)
{
	struct contact_cb *c = ud;
	mssl_contact m = { r->id, r->kind, r->name, r->email, r->phone };

	return c->cb(c->ud, &m);
}

MSSL_API int mssl_contact_list(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id,
			       mssl_contact_list_cb cb, void *ud,
			       mssl_error *err)
{
	struct mssl__op op;
	struct contact_cb c = { cb, ud };
	int rc;

	return_val_if_fail(cb, MSSL_EINVAL);
	rc = mssl__op_begin(&op, ctx, actor, MSSL_OP_CONTACT_LIST, account_id,
			    account_id, err);
	if (rc < 0)
		return rc;
	rc = ctx->sops->contact_each(op.conn, op.account_id, contact_one, &c);
	if (rc < 0)
		rc = mssl__op_store_error(&op, rc);
	return mssl__op_end(&op, rc);
}
