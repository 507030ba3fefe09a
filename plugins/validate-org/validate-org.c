/*
 * validate-org: the subject rules every product shares (SPEC §2, §4.1).
 *
 * O must be the account's registered English name, exactly; CN, C and
 * L or ST are required; C is an ISO 3166-1 alpha-2 code in upper case;
 * OU is refused (CA/Browser Forum Baseline Requirements, since
 * 2022-09-01); no attribute may be repeated; the X.520 upper bounds hold;
 * no subject attribute may hold a control character.  Every rule broken
 * gets its finding; none stops the others.
 *
 * The ISO 3166-1 list is read once, at init, from the iso-codes JSON; a
 * check does no I/O.
 *
 * Includes only <mssl/plugin.h>, libc and jansson; never links libmssl.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <mssl/plugin.h>

#ifndef ISOCODESDIR
#define ISOCODESDIR "/usr/share/iso-codes/json"
#endif

#define ISO_FILE "iso_3166-1.json"

/* X.520 upper bounds, in characters. */
#define MAX_CN 64
#define MAX_O 64
#define MAX_L 128
#define MAX_ST 128

struct country {
	char alpha2[3];
	char alpha3[4]; /* "" when the list gives none */
};

struct state {
	const struct mssl_host *host;
	void *hctx;
	struct country *countries; /* sorted by alpha2 */
	size_t n_countries;
};

/* One check: the plugin, the collector and the request. */
struct run {
	const struct state *st;
	struct mssl_findings *out;
	const struct mssl_subject_info *s;
	const struct mssl_check_account *acct;
};

#define FINDING(r, code, field, value, ...)                                    \
	((r)->st->host->finding((r)->out, MSSL_SEV_ERROR, (code), (field),     \
				(value), __VA_ARGS__))

/* Every subject attribute the host passes, in the host's order. */
static const struct {
	const char *name; /* as in struct mssl_subject_info.repeated */
	const char *field; /* the finding's field */
	size_t off;
} attrs[] = {
/* clang-format off */
#define A(name, f) \
	{ name, "subject." name, offsetof(struct mssl_subject_info, f) }
	A("C", c),
	A("ST", st),
	A("L", l),
	A("O", o),
	A("OU", ou),
	A("CN", cn),
	A("serialNumber", serial_number),
	A("businessCategory", business_category),
	A("jurisdictionC", jur_c),
	A("jurisdictionST", jur_st),
	A("jurisdictionL", jur_l),
#undef A
	/* clang-format on */
};

static const char *attr_value(const struct mssl_subject_info *s, size_t i)
{
	return *(const char *const *)((const char *)s + attrs[i].off);
}

static bool present(const char *v)
{
	return v && *v;
}

static bool is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(int c)
{
	return is_upper(c) || (c >= 'a' && c <= 'z');
}

static int to_lower(int c)
{
	return is_upper(c) ? c + ('a' - 'A') : c;
}

static int to_upper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

/* Characters of a UTF-8 string (bytes that do not continue a sequence). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The first control character of s (C0, DEL, or C1 as UTF-8), or -1.
 */
static long first_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return *p;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return p[1];
	}
	return -1;
}

/* ---- the ISO 3166-1 list ------------------------------------------------ */

static int country_cmp(const void *a, const void *b)
{
	const struct country *x = a, *y = b;

	return strcmp(x->alpha2, y->alpha2);
}

static bool country_known(const struct state *st, const char *code)
{
	struct country key = { { 0 }, { 0 } };

	if (!code || strlen(code) != 2)
		return false;
	memcpy(key.alpha2, code, 3);
	return bsearch(&key, st->countries, st->n_countries,
		       sizeof(*st->countries), country_cmp) != NULL;
}

/* The alpha-2 code whose alpha-3 code is 'code' in any case, or NULL. */
static const char *country_from_alpha3(const struct state *st, const char *code)
{
	char up[4];
	size_t i;

	if (!code || strlen(code) != 3)
		return NULL;
	for (i = 0; i < 3; i++)
		up[i] = (char)to_upper((unsigned char)code[i]);
	up[3] = '\0';
	for (i = 0; i < st->n_countries; i++)
		if (strcmp(st->countries[i].alpha3, up) == 0)
			return st->countries[i].alpha2;
	return NULL;
}

static bool upper_code(const char *s, size_t len)
{
	size_t i;

	if (!s || strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (!is_upper((unsigned char)s[i]))
			return false;
	return true;
}

static int load_countries(struct state *st)
{
	const struct mssl_host *h = st->host;
	const char *dir = h->config_get(st->hctx, "iso_codes_dir");
	json_t *root = NULL, *list, *entry;
	json_error_t jerr;
	char *path = NULL;
	size_t i, n, len;
	int rc = 0;

	if (!dir)
		dir = ISOCODESDIR;
	else if (dir[0] != '/') {
		rc = h->config_error(
			st->hctx, "iso_codes_dir",
			"\"%s\" is not an absolute directory path; give the directory holding %s (Debian package iso-codes: %s)",
			dir, ISO_FILE, ISOCODESDIR);
		goto out;
	}
	len = strlen(dir) + sizeof("/" ISO_FILE);
	path = h->alloc(st->hctx, len);
	if (!path) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	snprintf(path, len, "%s/%s", dir, ISO_FILE);

	root = json_load_file(path, 0, &jerr);
	if (!root) {
		rc = h->config_error(
			st->hctx, "iso_codes_dir",
			"cannot read the ISO 3166-1 country list %s: %s; install the Debian package iso-codes or set iso_codes_dir to the directory holding %s",
			path, jerr.text, ISO_FILE);
		goto out;
	}
	list = json_object_get(root, "3166-1");
	n = json_array_size(list);
	if (!json_is_array(list) || n == 0) {
		rc = h->config_error(
			st->hctx, "iso_codes_dir",
			"%s has no \"3166-1\" array of countries; install the Debian package iso-codes",
			path);
		goto out;
	}
	if (n > SIZE_MAX / sizeof(*st->countries)) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	st->countries = h->alloc(st->hctx, n * sizeof(*st->countries));
	if (!st->countries) {
		rc = MSSL_ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, entry) {
		const char *a2, *a3;

		a2 = json_string_value(json_object_get(entry, "alpha_2"));
		a3 = json_string_value(json_object_get(entry, "alpha_3"));
		if (!upper_code(a2, 2)) {
			rc = h->config_error(
				st->hctx, "iso_codes_dir",
				"entry %zu of %s has no valid \"alpha_2\" code; install the Debian package iso-codes",
				i + 1, path);
			goto out;
		}
		memcpy(st->countries[i].alpha2, a2, 3);
		if (upper_code(a3, 3))
			memcpy(st->countries[i].alpha3, a3, 4);
		else
			st->countries[i].alpha3[0] = '\0';
	}
	st->n_countries = n;
	qsort(st->countries, n, sizeof(*st->countries), country_cmp);
out:
	json_decref(root);
	h->free(st->hctx, path);
	return rc;
}

/* ---- the rules ---------------------------------------------------------- */

static int check_repeated(struct run *r)
{
	const char *name = r->s->repeated ? r->s->repeated : "?";

	if (!r->s->n_repeated)
		return 0;
	return FINDING(
		r, "subject.repeated", "subject", name,
		MSSL_N_("The subject gives the attribute %s more than once (extra values in all: %u): each subject attribute may appear only once. Make a new CSR that gives %s once."),
		name, r->s->n_repeated, name);
}

/* a and b are equal when compared on letters and digits only, any case. */
static bool same_alnum_nocase(const char *a, const char *b)
{
	for (;;) {
		while (*a && !is_alpha((unsigned char)*a) &&
		       !(*a >= '0' && *a <= '9') && !((unsigned char)*a & 0x80))
			a++;
		while (*b && !is_alpha((unsigned char)*b) &&
		       !(*b >= '0' && *b <= '9') && !((unsigned char)*b & 0x80))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (to_lower((unsigned char)*a) != to_lower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

static bool same_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (to_lower((unsigned char)*a) != to_lower((unsigned char)*b))
			return false;
	return !*a && !*b;
}

static int check_org(struct run *r)
{
	const char *o = r->s->o, *want = r->acct->org_name_en;

	if (!present(o))
		return FINDING(
			r, "org.missing", "subject.O", NULL,
			MSSL_N_("The request has no organisation (O): it must be the account's registered English name. Put O = \"%s\" in the CSR's subject."),
			want);
	if (strcmp(o, want) == 0)
		return 0;
	if (same_nocase(o, want))
		return FINDING(
			r, "org.mismatch", "subject.O", o,
			MSSL_N_("The organisation \"%s\" is not the account's registered name \"%s\": they differ only in letter case, and O must match exactly. Use exactly \"%s\"."),
			o, want, want);
	if (same_alnum_nocase(o, want))
		return FINDING(
			r, "org.mismatch", "subject.O", o,
			MSSL_N_("The organisation \"%s\" is not the account's registered name \"%s\": they differ only in spaces, punctuation or letter case, and O must match exactly. Use exactly \"%s\"."),
			o, want, want);
	return FINDING(
		r, "org.mismatch", "subject.O", o,
		MSSL_N_("The organisation \"%s\" is not the account's registered name \"%s\". Use exactly \"%s\"; if the organisation's English name has changed, ask the CA to update the account first."),
		o, want, want);
}

static int check_cn(struct run *r)
{
	if (present(r->s->cn))
		return 0;
	return FINDING(
		r, "subject.cn_missing", "subject.CN", NULL,
		MSSL_N_("The request has no common name (CN). Put the server's DNS name (such as www.example.com) in the CN of the CSR."));
}

static int check_country(struct run *r)
{
	const char *c = r->s->c, *a2;
	char up[3];

	if (!present(c))
		return FINDING(
			r, "subject.country_missing", "subject.C", NULL,
			MSSL_N_("The request has no country (C). Put the ISO 3166-1 two-letter code of the organisation's country in the CSR's subject, e.g. C = TW."));
	if (upper_code(c, 2) && country_known(r->st, c))
		return 0;
	if (strlen(c) == 2 && is_alpha((unsigned char)c[0]) &&
	    is_alpha((unsigned char)c[1])) {
		up[0] = (char)to_upper((unsigned char)c[0]);
		up[1] = (char)to_upper((unsigned char)c[1]);
		up[2] = '\0';
		if (country_known(r->st, up))
			return FINDING(
				r, "subject.country_invalid", "subject.C", c,
				MSSL_N_("The country (C) \"%s\" must be written in upper case. Use C = %s."),
				c, up);
	}
	a2 = country_from_alpha3(r->st, c);
	if (a2)
		return FINDING(
			r, "subject.country_invalid", "subject.C", c,
			MSSL_N_("The country (C) \"%s\" is a three-letter ISO 3166-1 code, but C takes the two-letter code. Use C = %s."),
			c, a2);
	return FINDING(
		r, "subject.country_invalid", "subject.C", c,
		MSSL_N_("The country (C) \"%s\" is not an ISO 3166-1 alpha-2 country code. Use the two upper-case letters of the organisation's country, e.g. C = TW."),
		c);
}

/* CA/B Forum BR 7.1.4.2.2: L is required without ST, and ST without L. */
static int check_locality(struct run *r)
{
	if (present(r->s->l) || present(r->s->st))
		return 0;
	return FINDING(
		r, "subject.locality_missing", "subject.L", NULL,
		MSSL_N_("The request has neither a locality (L) nor a state or province (ST): at least one is required. Put the organisation's city in L (e.g. L = Taipei City), or its state or province in ST."));
}

static int check_ou(struct run *r)
{
	if (!r->s->ou)
		return 0;
	return FINDING(
		r, "subject.ou", "subject.OU", r->s->ou,
		MSSL_N_("The request has an organisational unit (OU) \"%s\": the CA/Browser Forum Baseline Requirements forbid OU in server certificates since 1 September 2022. Remove OU from the CSR's subject."),
		r->s->ou);
}

static int check_lengths(struct run *r)
{
	const struct {
		const char *name, *field, *value;
		unsigned max;
	} lim[] = {
		{ "CN", "subject.CN", r->s->cn, MAX_CN },
		{ "O", "subject.O", r->s->o, MAX_O },
		{ "L", "subject.L", r->s->l, MAX_L },
		{ "ST", "subject.ST", r->s->st, MAX_ST },
	};
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		if (!lim[i].value)
			continue;
		n = utf8_len(lim[i].value);
		if (n <= lim[i].max)
			continue;
		rc = FINDING(
			r, "subject.field_too_long", lim[i].field, lim[i].value,
			MSSL_N_("The subject attribute %s is %zu characters long (\"%s\"), but may have at most %u. Shorten it in the CSR."),
			lim[i].name, n, lim[i].value, lim[i].max);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_characters(struct run *r)
{
	const char *v;
	char rep[16];
	size_t i;
	long c;
	int rc;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		v = attr_value(r->s, i);
		if (!v || (c = first_control(v)) < 0)
			continue;
		snprintf(rep, sizeof(rep), "U+%04lX", (unsigned long)c);
		rc = FINDING(
			r, "subject.characters", attrs[i].field, v,
			MSSL_N_("The subject attribute %s (\"%s\") contains the control character %s, which a certificate may not carry. Remove it from the CSR."),
			attrs[i].name, v, rep);
		if (rc)
			return rc;
	}
	return 0;
}

static int (*const rules[])(struct run *) = {
	check_repeated, check_org, check_cn,	  check_country,
	check_locality, check_ou,  check_lengths, check_characters,
};

static int org_check(void *state, const struct mssl_check *in,
		     struct mssl_findings *out)
{
	struct run r = { .st = state, .out = out };
	size_t i;
	int rc;

	if (!in || !in->csr || !in->account || !in->account->org_name_en)
		return MSSL_EINVAL;
	r.s = &in->csr->subject;
	r.acct = in->account;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		rc = rules[i](&r);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the plugin --------------------------------------------------------- */

static void org_fini(void *state)
{
	struct state *st = state;

	if (!st)
		return;
	st->host->free(st->hctx, st->countries);
	st->host->free(st->hctx, st);
}

static int org_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct state *st;
	int rc;

	st = host->alloc(hctx, sizeof(*st));
	if (!st)
		return MSSL_ENOMEM;
	memset(st, 0, sizeof(*st));
	st->host = host;
	st->hctx = hctx;
	rc = load_countries(st);
	if (rc < 0)
		goto fail;
	*state = st;
	return 0;
fail:
	org_fini(st);
	return rc;
}

static const struct mssl_validator_ops org_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = org_check,
};

static const char *const config_keys[] = { "iso_codes_dir", NULL };

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "validate-org",
	.version = "1",
	.description =
		"Subject rules: exact O, CN, C (ISO 3166-1), L/ST, no OU",
	.init = org_init,
	.fini = org_fini,
	.ops = &org_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
