/*
 * validate-domains: the agreed-domain rule of SPEC §4.3.
 *
 * A DNS name is accepted when it equals one of the account's agreed
 * domains, or is exactly one label under one (a host name); a wildcard
 * "*.X" is accepted when X equals an agreed domain, the '*' standing for
 * that one label.  Otherwise the name is more than one label under an
 * agreed domain (domain.too_deep) or under none (domain.not_agreed).
 * Names compare without regard to ASCII letter case, and a domain is an
 * ancestor of a name only on a label boundary (eviltwca.com.tw is not
 * under twca.com.tw).
 *
 * The host hands over, in account->domains, every agreed domain equal to
 * a suffix (self or any ancestor) of some name of the request, found by
 * one indexed lookup per suffix; so the lists here are short and a plain
 * loop is enough.
 *
 * Includes only <mssl/plugin.h> and libc; never links libmssl.
 */
#include <stdbool.h>
#include <string.h>

#include <mssl/plugin.h>

struct state {
	const struct mssl_host *host;
	void *hctx;
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* s[0..n) equals d, ignoring ASCII case. */
static bool eq_nocase(const char *s, size_t n, const char *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!d[i] ||
		    lower((unsigned char)s[i]) != lower((unsigned char)d[i]))
			return false;
	return d[n] == '\0';
}

/* d is a proper ancestor of s[0..n): s ends in "." d. */
static bool is_ancestor(const char *s, size_t n, const char *d)
{
	size_t dn = strlen(d);

	return dn > 0 && n > dn && s[n - dn - 1] == '.' &&
	       eq_nocase(s + n - dn, dn, d);
}

/* The agreed domain equal to s[0..n), or NULL. */
static const char *find_equal(const struct mssl_check_account *acct,
			      const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < acct->n_domains; i++)
		if (acct->domains[i] && eq_nocase(s, n, acct->domains[i]))
			return acct->domains[i];
	return NULL;
}

/* The nearest (longest) agreed domain that is a proper ancestor. */
static const char *find_ancestor(const struct mssl_check_account *acct,
				 const char *s, size_t n)
{
	const char *best = NULL;
	size_t i;

	for (i = 0; i < acct->n_domains; i++) {
		const char *d = acct->domains[i];

		if (d && is_ancestor(s, n, d) &&
		    (!best || strlen(d) > strlen(best)))
			best = d;
	}
	return best;
}

static int check_name(const struct state *st, const struct mssl_check *in,
		      struct mssl_findings *out, const char *name)
{
	static const struct mssl_check_account none = { 0 };
	const struct mssl_check_account *acct = in->account ? in->account :
							      &none;
	const struct mssl_host *h = st->host;
	size_t n = strlen(name);
	const char *dot = memchr(name, '.', n);
	const char *parent = dot ? dot + 1 : NULL;
	size_t pn = dot ? n - (size_t)(parent - name) : 0;
	bool wild = dot == name + 1 && name[0] == '*';
	const char *d;

	/* The name itself: never a wildcard (no agreed domain holds '*'). */
	if (!wild && n > 0) {
		d = find_equal(acct, name, n);
		if (d)
			return h->verdict(out, name,
					  MSSL_N_("equals agreed domain %s"),
					  d);
	}
	/* One label under: that label must not be empty (".x.com"). */
	if (parent && dot > name) {
		d = find_equal(acct, parent, pn);
		if (d && wild)
			return h->verdict(
				out, name,
				MSSL_N_("wildcard for one label under %s"), d);
		if (d)
			return h->verdict(out, name,
					  MSSL_N_("one label under %s"), d);
	}
	/* Deeper: name the nearest agreed ancestor of the parent. */
	d = parent ? find_ancestor(acct, parent, pn) : NULL;
	if (d)
		return h->finding(
			out, MSSL_SEV_ERROR, "domain.too_deep", "name", name,
			MSSL_N_("%s is more than one label under the agreed domain %s: only %s itself and names exactly one label under it (such as www.%s) may be certified. Use such a name, or ask the CA to agree the domain the name is directly under."),
			name, d, d, d);
	return h->finding(
		out, MSSL_SEV_ERROR, "domain.not_agreed", "name", name,
		MSSL_N_("%s is not one of the account's agreed domains nor under one: only those domains and names one label under them may be certified. Use such a name, or ask the CA to agree the domain with your organisation first."),
		name);
}

static int domains_check(void *state, const struct mssl_check *in,
			 struct mssl_findings *out)
{
	const struct mssl_csr_info *csr = in->csr;
	size_t i;
	int rc;

	if (!csr)
		return MSSL_EINVAL;
	for (i = 0; i < csr->n_names; i++) {
		rc = check_name(state, in, out,
				csr->names[i] ? csr->names[i] : "");
		if (rc)
			return rc;
	}
	return 0;
}

static int domains_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct state *st = host->alloc(hctx, sizeof(*st));

	if (!st)
		return MSSL_ENOMEM;
	st->host = host;
	st->hctx = hctx;
	*state = st;
	return 0;
}

static void domains_fini(void *state)
{
	struct state *st = state;

	if (st)
		st->host->free(st->hctx, st);
}

static const struct mssl_validator_ops domains_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = domains_check,
};

static const char *const config_keys[] = { NULL };

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "validate-domains",
	.version = "1",
	.description =
		"Agreed domains: the domain itself or one label under it",
	.init = domains_init,
	.fini = domains_fini,
	.ops = &domains_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
