/*
 * Input checks: 統一編號 (UBN), account IDs, agreed domains, e-mail
 * addresses, country codes and product lists.  Pure functions of their
 * input and of two read-only tables (the public suffix list and the
 * ISO 3166-1 codes) that the context loads once.
 *
 * Error ids (stable; tests and programs match on them):
 *   ubn.length           not 8 characters (or empty)
 *   ubn.digits           a character that is not an ASCII digit
 *   ubn.checksum         weighted digit sum fails
 *   account.id_format    not "<8 digits>-<2 digits>": missing serial,
 *                        wrong separator, letters, wrong lengths
 *   account.id_serial    serial 00 (serials run 01 to 99)
 *   account.id_checksum  the UBN part fails its checksum
 *   domain.empty, domain.too_long, domain.label_too_long,
 *   domain.empty_label, domain.trailing_dot, domain.ip_address,
 *   domain.idn, domain.punycode, domain.characters, domain.hyphen,
 *   domain.single_label, domain.public_suffix, domain.unknown_tld
 *   email.invalid
 *   country.invalid
 *   products.empty, products.unknown
 *   psl.load, country.load  the tables cannot be read (MSSL_ECONFIG)
 */
#include "internal.h"
#include "checks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <jansson.h>
#include <libpsl.h>

/* ASCII classes, independent of the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static char to_lower(char c)
{
	return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static bool is_ldh(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

/* ---------------------------------------------------------------------
 * 統一編號
 * ------------------------------------------------------------------ */

/*
 * SPEC §2: weights 1,2,1,2,1,2,4,1; add the two digits of each product;
 * valid when the sum is divisible by 5.  When the 7th digit is 7 its
 * product 28 gives 2 + 8 = 10, which may also be read as 1 + 0 = 1, so
 * sum + 1 divisible by 5 is valid too.  'd' is 8 ASCII digits.
 */
static bool ubn_checksum_ok(const char *d)
{
	static const unsigned char weight[8] = { 1, 2, 1, 2, 1, 2, 4, 1 };
	unsigned int sum = 0, p;
	size_t i;

	for (i = 0; i < 8; i++) {
		p = (unsigned int)(d[i] - '0') * weight[i];
		sum += p / 10 + p % 10;
	}
	if (sum % 5 == 0)
		return true;
	return d[6] == '7' && (sum + 1) % 5 == 0;
}

MSSL_API int mssl_ubn_check(const char *ubn, mssl_error *err)
{
	size_t i, len;

	if (!ubn || !*ubn)
		return mssl__error_set(
			err, MSSL_EINPUT, "ubn.length", "ubn",
			N_("No unified business number (UBN) was given; "
			   "enter its 8 digits."));
	len = strlen(ubn);
	for (i = 0; i < len; i++)
		if (!is_digit(ubn[i]))
			return mssl__error_set(
				err, MSSL_EINPUT, "ubn.digits", "ubn",
				N_("The unified business number (UBN) %s "
				   "contains a character that is not a digit; "
				   "a UBN is exactly 8 digits 0-9."),
				ubn);
	if (len != 8)
		return mssl__error_set(
			err, MSSL_EINPUT, "ubn.length", "ubn",
			N_("The unified business number (UBN) %s has %zu "
			   "digits; a UBN has exactly 8."),
			ubn, len);
	if (!ubn_checksum_ok(ubn))
		return mssl__error_set(
			err, MSSL_EINPUT, "ubn.checksum", "ubn",
			N_("The unified business number (UBN) %s fails its "
			   "checksum; check it for a mistyped digit."),
			ubn);
	return 0;
}

/* ---------------------------------------------------------------------
 * Account IDs: <UBN>-<NN>, NN from 01 to 99
 * ------------------------------------------------------------------ */

MSSL_API int mssl_account_id_check(const char *id, mssl_error *err)
{
	const char *dash, *serial;
	size_t i, len;

	if (!id || !*id)
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_format", "id",
			N_("No account ID was given; an account ID is the "
			   "8-digit unified business number, a hyphen and a "
			   "2-digit serial, e.g. 70759028-01."));
	len = strlen(id);
	for (i = 0; i < len; i++)
		if (!is_digit(id[i]) && id[i] != '-')
			return mssl__error_set(
				err, MSSL_EINPUT, "account.id_format", "id",
				N_("The account ID %s may contain only digits "
				   "and one hyphen; it is the 8-digit unified "
				   "business number, a hyphen and a 2-digit "
				   "serial, e.g. 70759028-01."),
				id);
	dash = strchr(id, '-');
	if (!dash)
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_format", "id",
			N_("The account ID %s has no serial; add a hyphen and "
			   "the 2-digit serial after the unified business "
			   "number, e.g. 70759028-01."),
			id);
	if (strchr(dash + 1, '-') || dash - id != 8)
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_format", "id",
			N_("The account ID %s does not start with an 8-digit "
			   "unified business number followed by one hyphen; "
			   "write it as e.g. 70759028-01."),
			id);
	serial = dash + 1;
	if (strlen(serial) != 2)
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_format", "id",
			N_("The serial in the account ID %s must be exactly 2 "
			   "digits, from 01 to 99, e.g. 70759028-01."),
			id);
	if (serial[0] == '0' && serial[1] == '0')
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_serial", "id",
			N_("The account ID %s has serial 00; serials run from "
			   "01 to 99."),
			id);
	if (!ubn_checksum_ok(id))
		return mssl__error_set(
			err, MSSL_EINPUT, "account.id_checksum", "id",
			N_("The account ID %s does not start with a valid "
			   "unified business number: %.8s fails its checksum; "
			   "check it for a mistyped digit."),
			id, id);
	return 0;
}

/* ---------------------------------------------------------------------
 * Agreed domains
 * ------------------------------------------------------------------ */

/*
 * Is 'name' an IP address in any form a resolver or browser would take:
 * dotted quad, IPv6, the inet_aton shorthands (127.1, 0x7f.0.0.1) and
 * IPv6 in brackets or with a zone ("[::1]", "fe80::1%eth0")?
 */
static bool is_ip_address(const char *name)
{
	unsigned char addr[sizeof(struct in6_addr)];
	struct in_addr a4;
	char buf[INET6_ADDRSTRLEN + 1];
	const char *p, *end;
	size_t n;

	if (inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1)
		return true;

	/* inet_aton stops at blanks; only give it a clean candidate. */
	n = strspn(name, "0123456789abcdefABCDEFxX.");
	if (name[n] == '\0' && inet_aton(name, &a4))
		return true;

	if (!strchr(name, ':'))
		return false;
	p = name;
	end = name + strlen(name);
	if (*p == '[' && end > p + 1 && end[-1] == ']') {
		p++;
		end--;
	}
	n = strcspn(p, "%");
	if (p + n < end)
		end = p + n;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* Does label [s, s + n) start with "xn--" (already lower case)? */
static bool is_ace_label(const char *s, size_t n)
{
	return n >= 4 && memcmp(s, "xn--", 4) == 0;
}

int mssl__domain_check_psl(const psl_ctx_t *psl, const char *name,
			   char **normalised, mssl_error *err)
{
	char *lower = NULL, *uni = NULL;
	const char *label, *dot;
	size_t i, len, llen, n_dots = 0;
	unsigned char c;
	int rc = 0;

	if (normalised)
		*normalised = NULL;
	return_val_if_fail(psl, MSSL_EINVAL);

	if (!name || !*name) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.empty", "domain",
			N_("No domain name was given; enter the DNS name to "
			   "agree, e.g. example.com.tw."));
		goto out;
	}
	len = strlen(name);

	for (i = 0; i < len; i++) {
		if ((unsigned char)name[i] >= 0x80) {
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.idn", "domain",
				N_("%s is an internationalised domain name, "
				   "which cannot be agreed; use an ASCII name "
				   "of letters, digits, hyphens and dots."),
				name);
			goto out;
		}
	}

	if (is_ip_address(name)) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.ip_address", "domain",
			N_("%s is an IP address; an agreed domain must be a "
			   "DNS name, e.g. example.com.tw."),
			name);
		goto out;
	}

	if (name[len - 1] == '.') {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.trailing_dot", "domain",
			N_("%s ends with a dot; enter the domain name without "
			   "the trailing dot."),
			name);
		goto out;
	}

	if (len > 253) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.too_long", "domain",
			N_("%s is %zu characters long; a domain name may have "
			   "at most 253."),
			name, len);
		goto out;
	}

	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (is_ldh((char)c) || c == '.')
			continue;
		if (c == '*')
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.characters",
				"domain",
				N_("%s contains '*'; agree the domain itself "
				   "without a wildcard label (wildcard "
				   "certificates are chosen when issuing)."),
				name);
		else if (c > 0x20 && c < 0x7f)
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.characters",
				"domain",
				N_("%s contains the character '%c'; a domain "
				   "name may contain only letters A-Z, digits "
				   "0-9, hyphens and dots."),
				name, (int)c);
		else
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.characters",
				"domain",
				N_("%s contains a space or a control "
				   "character; a domain name may contain only "
				   "letters A-Z, digits 0-9, hyphens and "
				   "dots."),
				name);
		goto out;
	}

	lower = malloc(len + 1);
	if (!lower) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	for (i = 0; i < len; i++)
		lower[i] = to_lower(name[i]);
	lower[len] = '\0';

	for (label = lower;; label = dot + 1) {
		dot = strchr(label, '.');
		llen = dot ? (size_t)(dot - label) : strlen(label);
		if (llen == 0) {
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.empty_label",
				"domain",
				N_("%s has an empty label (a leading dot or "
				   "two dots in a row); remove the extra dot."),
				name);
			goto out;
		}
		if (llen > 63) {
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.label_too_long",
				"domain",
				N_("%s has a label of %zu characters; each "
				   "dot-separated label may have at most 63."),
				name, llen);
			goto out;
		}
		if (label[0] == '-' || label[llen - 1] == '-') {
			rc = mssl__error_set(
				err, MSSL_EINPUT, "domain.hyphen", "domain",
				N_("%s has a label that starts or ends with a "
				   "hyphen (%.*s); labels must begin and end "
				   "with a letter or a digit."),
				name, (int)llen, label);
			goto out;
		}
		if (is_ace_label(label, llen)) {
			if (idn2_to_unicode_8z8z(lower, &uni, 0) == IDN2_OK)
				rc = mssl__error_set(
					err, MSSL_EINPUT, "domain.punycode",
					"domain",
					N_("%s is the xn-- (Punycode) form of "
					   "the internationalised domain name "
					   "%s; internationalised names cannot "
					   "be agreed in either form."),
					name, uni);
			else
				rc = mssl__error_set(
					err, MSSL_EINPUT, "domain.punycode",
					"domain",
					N_("%s has a label starting with "
					   "xn--, which is reserved for "
					   "internationalised domain names; "
					   "such names cannot be agreed."),
					name);
			goto out;
		}
		if (!dot)
			break;
		n_dots++;
	}

	if (n_dots == 0) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.single_label", "domain",
			N_("%s has no dot; an agreed domain must be a full "
			   "DNS name such as example.com.tw."),
			name);
		goto out;
	}

	/*
	 * ICANN section only: private entries (github.io, ...) are names
	 * someone owns and may agree.  No '*' default rule: an unknown TLD
	 * is not a suffix here, and single labels were refused above.
	 */
	if (psl_is_public_suffix2(psl, lower,
				  PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE)) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.public_suffix", "domain",
			N_("%s is a public suffix, under which anyone may "
			   "register names; agree the organisation's own "
			   "domain under it instead, e.g. example.%s."),
			name, lower);
		goto out;
	}

	/*
	 * Internal names (intranet.corp, host.local) may never be certified
	 * (CA/B Forum Baseline Requirements): the top-level domain must be
	 * one ICANN delegates, and every such TLD is a rule in the list.
	 */
	dot = strrchr(lower, '.');
	if (!psl_is_public_suffix2(psl, dot + 1,
				   PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE)) {
		rc = mssl__error_set(
			err, MSSL_EINPUT, "domain.unknown_tld", "domain",
			N_("%s ends in .%s, which is not a top-level domain "
			   "on the Internet; internal names cannot be agreed "
			   "or certified."),
			name, dot + 1);
		goto out;
	}

	if (normalised) {
		*normalised = lower;
		lower = NULL;
	}
out:
	free(lower);
	if (uni)
		idn2_free(uni);
	return rc;
}

MSSL_API int mssl_domain_check(mssl_ctx *ctx, const char *name,
			       char **normalised, mssl_error *err)
{
	const psl_ctx_t *psl;

	if (normalised)
		*normalised = NULL;
	return_val_if_fail(ctx, MSSL_EINVAL);
	psl = mssl__ctx_psl(ctx);
	if (!psl)
		return mssl__error_set(
			err, MSSL_ECONFIG, "psl.load", NULL,
			N_("The public suffix list could not be loaded, so "
			   "domains cannot be checked; install the Debian "
			   "package publicsuffix or set psl_file in the "
			   "configuration."));
	return mssl__domain_check_psl(psl, name, normalised, err);
}

int mssl__psl_load(const char *path, psl_ctx_t **out, mssl_error *err)
{
	return_val_if_fail(out, MSSL_EINVAL);
	if (!path)
		path = PSLFILE;
	*out = psl_load_file(path);
	if (!*out)
		return mssl__error_set(
			err, MSSL_ECONFIG, "psl.load", NULL,
			N_("The public suffix list %s could not be read; "
			   "install the Debian package publicsuffix or set "
			   "psl_file in the configuration."),
			path);
	return 0;
}

/* ---------------------------------------------------------------------
 * E-mail addresses
 * ------------------------------------------------------------------ */

/* RFC 5322 atext. */
static bool is_atext(char c)
{
	return is_alpha(c) || is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* An LDH name with at least one dot and labels of 1 to 63 characters? */
static bool ldh_name_ok(const char *s)
{
	size_t n = 0, dots = 0;
	char prev = '.';

	for (; *s; prev = *s++) {
		if (*s == '.') {
			if (prev == '.' || prev == '-')
				return false;
			dots++;
			n = 0;
			continue;
		}
		if (!is_ldh(*s) || (prev == '.' && *s == '-') || ++n > 63)
			return false;
	}
	return prev != '.' && prev != '-' && dots > 0;
}

MSSL_API int mssl_email_check(const char *email, const char *field,
			      mssl_error *err)
{
	const char *at;
	size_t i, len, llen;
	unsigned char c;

	if (!field)
		field = "email";
	if (!email || !*email)
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("No e-mail address was given; enter an address "
			   "such as name@example.com.tw."));
	len = strlen(email);
	for (i = 0; i < len; i++) {
		c = (unsigned char)email[i];
		if (c >= 0x80)
			return mssl__error_set(
				err, MSSL_EINPUT, "email.invalid", field,
				N_("The e-mail address %s contains a "
				   "non-ASCII character; only ASCII addresses "
				   "are accepted."),
				email);
		if (c <= 0x20 || c == 0x7f)
			return mssl__error_set(
				err, MSSL_EINPUT, "email.invalid", field,
				N_("The e-mail address %s contains a space or "
				   "a control character; remove it."),
				email);
	}
	if (len > 254)
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The e-mail address %s is %zu characters long; an "
			   "address may have at most 254."),
			email, len);
	at = strchr(email, '@');
	if (!at)
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The e-mail address %s has no @; write it as "
			   "name@domain, e.g. name@example.com.tw."),
			email);
	if (strchr(at + 1, '@'))
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The e-mail address %s contains more than one @; "
			   "an address has exactly one."),
			email);
	llen = (size_t)(at - email);
	if (llen == 0)
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The e-mail address %s has nothing before the @; "
			   "write it as name@domain."),
			email);
	if (llen > 64)
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The part of the e-mail address %s before the @ is "
			   "%zu characters long; it may have at most 64."),
			email, llen);
	for (i = 0; i < llen; i++) {
		if (email[i] == '.' || is_atext(email[i]))
			continue;
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The part of the e-mail address %s before the @ "
			   "contains '%c'; it may contain only letters, "
			   "digits, dots and !#$%%&'*+-/=?^_`{|}~."),
			email, (int)email[i]);
	}
	for (i = 0; i < llen; i++) {
		if (email[i] == '.' &&
		    (i == 0 || i == llen - 1 || email[i + 1] == '.'))
			return mssl__error_set(
				err, MSSL_EINPUT, "email.invalid", field,
				N_("The part of the e-mail address %s before "
				   "the @ starts or ends with a dot or has two "
				   "dots in a row; remove the extra dot."),
				email);
	}
	if (!at[1])
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The e-mail address %s has nothing after the @; "
			   "write it as name@domain."),
			email);
	if (!ldh_name_ok(at + 1))
		return mssl__error_set(
			err, MSSL_EINPUT, "email.invalid", field,
			N_("The domain %s of the e-mail address %s is not a "
			   "valid DNS name: it needs at least one dot, and "
			   "labels of letters, digits and hyphens that do "
			   "not start or end with a hyphen."),
			at + 1, email);
	return 0;
}

/* ---------------------------------------------------------------------
 * ISO 3166-1 alpha-2 country codes
 * ------------------------------------------------------------------ */

struct mssl_countries {
	size_t n;
	char (*codes)[3]; /* sorted, NUL-terminated */
};

static int code_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int mssl__countries_load(const char *dir, struct mssl_countries **out,
			 mssl_error *err)
{
	struct mssl_countries *c = NULL;
	json_t *root = NULL, *list, *entry;
	json_error_t jerr;
	const char *alpha;
	char *path = NULL;
	size_t i, n;
	int rc = 0;

	return_val_if_fail(out, MSSL_EINVAL);
	*out = NULL;
	if (!dir)
		dir = ISOCODESDIR;
	path = mssl__asprintf("%s/iso_3166-1.json", dir);
	if (!path)
		goto nomem;
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		rc = mssl__error_set(
			err, MSSL_ECONFIG, "country.load", NULL,
			N_("The ISO 3166-1 country list %s could not be read "
			   "(%s); install the Debian package iso-codes or set "
			   "iso_codes_dir in the configuration."),
			path, jerr.text);
		goto out;
	}
	list = json_object_get(root, "3166-1");
	n = json_array_size(list);
	if (!json_is_array(list) || n == 0) {
		rc = mssl__error_set(
			err, MSSL_ECONFIG, "country.load", NULL,
			N_("The ISO 3166-1 country list %s has no \"3166-1\" "
			   "array; install the Debian package iso-codes."),
			path);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->codes = calloc(n, sizeof(*c->codes));
	if (!c->codes)
		goto nomem;
	json_array_foreach(list, i, entry)
	{
		alpha = json_string_value(json_object_get(entry, "alpha_2"));
		if (!alpha || strlen(alpha) != 2 || !is_upper(alpha[0]) ||
		    !is_upper(alpha[1])) {
			rc = mssl__error_set(
				err, MSSL_ECONFIG, "country.load", NULL,
				N_("Entry %zu of the ISO 3166-1 country list "
				   "%s has no valid \"alpha_2\" code; install "
				   "the Debian package iso-codes."),
				i + 1, path);
			goto out;
		}
		memcpy(c->codes[i], alpha, 3);
	}
	c->n = n;
	qsort(c->codes, c->n, sizeof(*c->codes), code_cmp);
	*out = c;
	c = NULL;
	goto out;
nomem:
	rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
			     N_("out of memory"));
out:
	mssl__countries_free(c);
	json_decref(root);
	free(path);
	return rc;
}

void mssl__countries_free(struct mssl_countries *countries)
{
	if (!countries)
		return;
	free(countries->codes);
	free(countries);
}

bool mssl__country_known(const struct mssl_countries *countries,
			 const char *code)
{
	char key[3];

	if (!countries || !code || strlen(code) != 2)
		return false;
	memcpy(key, code, 3);
	return bsearch(key, countries->codes, countries->n,
		       sizeof(*countries->codes), code_cmp) != NULL;
}

int mssl__country_check_list(const struct mssl_countries *countries,
			     const char *code, const char *field,
			     mssl_error *err)
{
	char upper[3];

	if (!field)
		field = "country";
	if (!countries)
		return mssl__error_set(
			err, MSSL_ECONFIG, "country.load", NULL,
			N_("The ISO 3166-1 country list could not be loaded, "
			   "so country codes cannot be checked; install the "
			   "Debian package iso-codes or set iso_codes_dir in "
			   "the configuration."));
	if (!code || !*code)
		return mssl__error_set(
			err, MSSL_EINPUT, "country.invalid", field,
			N_("No country code was given; enter the ISO 3166-1 "
			   "alpha-2 code of the country, e.g. TW."));
	if (mssl__country_known(countries, code))
		return 0;
	if (strlen(code) == 2 && is_alpha(code[0]) && is_alpha(code[1])) {
		upper[0] = is_upper(code[0]) ? code[0] :
					       (char)(code[0] - 'a' + 'A');
		upper[1] = is_upper(code[1]) ? code[1] :
					       (char)(code[1] - 'a' + 'A');
		upper[2] = '\0';
		if (mssl__country_known(countries, upper))
			return mssl__error_set(
				err, MSSL_EINPUT, "country.invalid", field,
				N_("The country code %s must be written in "
				   "upper case; use %s."),
				code, upper);
	}
	return mssl__error_set(
		err, MSSL_EINPUT, "country.invalid", field,
		N_("%s is not an ISO 3166-1 alpha-2 country code; enter the "
		   "two upper-case letters of the country, e.g. TW."),
		code);
}

MSSL_API int mssl_country_check(mssl_ctx *ctx, const char *code,
				const char *field, mssl_error *err)
{
	return_val_if_fail(ctx, MSSL_EINVAL);
	return mssl__country_check_list(mssl__ctx_countries(ctx), code, field,
					err);
}

/* ---------------------------------------------------------------------
 * Product lists
 * ------------------------------------------------------------------ */

/* In the order mssl_products_format writes them. */
static const struct {
	const char *name;
	uint32_t bit;
} products[] = {
	{ "ssl", MSSL_PRODUCT_SSL },
	{ "wildcard", MSSL_PRODUCT_WILDCARD },
	{ "ev", MSSL_PRODUCT_EV },
};

static bool is_product_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* Does [s, s + n) equal the lower-case word 'w', ignoring ASCII case? */
static bool word_eq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!w[i] || to_lower(s[i]) != w[i])
			return false;
	return w[n] == '\0';
}

MSSL_API int mssl_products_parse(const char *text, const char *field,
				 uint32_t *out, mssl_error *err)
{
	const char *p = text ? text : "", *word;
	uint32_t bits = 0;
	size_t i, n;
	int shown;

	return_val_if_fail(out, MSSL_EINVAL);
	if (!field)
		field = "products";
	for (;;) {
		while (is_product_sep(*p))
			p++;
		if (!*p)
			break;
		word = p;
		while (*p && !is_product_sep(*p))
			p++;
		n = (size_t)(p - word);
		for (i = 0; i < MSSL_ARRAY_SIZE(products); i++)
			if (word_eq(word, n, products[i].name))
				break;
		if (i == MSSL_ARRAY_SIZE(products)) {
			shown = n > 64 ? 64 : (int)n;
			return mssl__error_set(
				err, MSSL_EINPUT, "products.unknown", field,
				N_("%.*s is not a product; the products are "
				   "ssl, wildcard and ev, separated by "
				   "commas."),
				shown, word);
		}
		bits |= products[i].bit;
	}
	if (!bits)
		return mssl__error_set(
			err, MSSL_EINPUT, "products.empty", field,
			N_("No product was given; list at least one of ssl, "
			   "wildcard and ev, separated by commas."));
	*out = bits;
	return 0;
}

MSSL_API char *mssl_products_format(uint32_t bits)
{
	char buf[32];
	size_t i, n, len = 0;

	for (i = 0; i < MSSL_ARRAY_SIZE(products); i++) {
		if (!(bits & products[i].bit))
			continue;
		n = strlen(products[i].name);
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, products[i].name, n);
		len += n;
	}
	buf[len] = '\0';
	return mssl__strdup(buf);
}
