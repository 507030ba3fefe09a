/*
 * validate-names: the DNS-name rules of SPEC §4.2.
 *
 * Every DNS name of the request (the CN and each DNS SAN, csr->names) must
 * be a plain host name: not an IP address, ASCII only (no internationalised
 * names, in Unicode or punycode), labels of A-Z a-z 0-9 and '-' that start
 * and end with a letter or digit, at most 63 characters a label and 253 a
 * name, and '*' only as the whole leftmost label of a Wildcard request.
 * Every SAN that is not a DNS name is refused.  Each name gets a finding
 * for each rule it breaks (one per rule); no name stops the others.
 *
 * Includes only <mssl/plugin.h>, libc and libidn2; never links libmssl.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>

#include <mssl/plugin.h>

#define MAX_LABEL 63
#define MAX_NAME 253

struct state {
	const struct mssl_host *host;
	void *hctx;
};

/* One check: the host, its handle and the collector. */
struct run {
	const struct state *st;
	struct mssl_findings *out;
	const struct mssl_check *in;
};

#define FINDING(r, sev, code, field, value, ...)                               \
	((r)->st->host->finding((r)->out, (sev), (code), (field), (value),     \
				__VA_ARGS__))

static bool ascii_eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return false;
	for (i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i];
		unsigned char y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static bool streq_nocase(const char *a, const char *b)
{
	return ascii_eq_nocase(a, strlen(a), b, strlen(b));
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_ldh(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

/*
 * An IPv4 address in any form a resolver or browser takes for one: the
 * name (less one trailing dot) ends in a label that is a number, decimal
 * or 0x-hexadecimal (the WHATWG URL "ends in a number" rule).  This covers
 * 192.168.1.1, the short forms 127.1 and 2130706433, 0x7f.1, and also
 * out-of-range look-alikes such as 999.1.1.1, which no CA may certify as
 * DNS names either (no top-level domain is numeric).
 */
static bool looks_ipv4(const char *s, size_t n)
{
	size_t start, i;

	if (n && s[n - 1] == '.')
		n--;
	if (!n)
		return false;
	for (start = n; start > 0 && s[start - 1] != '.'; start--)
		;
	if (start == n)
		return false;
	if (n - start > 2 && s[start] == '0' &&
	    (s[start + 1] == 'x' || s[start + 1] == 'X')) {
		for (i = start + 2; i < n; i++)
			if (!is_hex((unsigned char)s[i]))
				return false;
		return true;
	}
	for (i = start; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* An IPv6 address, bare or in brackets, with or without a zone (%eth0). */
static bool looks_ipv6(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 64];
	unsigned char addr[16];
	const char *pct;

	if (!memchr(s, ':', n))
		return false;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	pct = memchr(s, '%', n);
	if (pct)
		n = (size_t)(pct - s);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* A character for messages: 'c' when visible, else U+00XX. */
static void char_repr(char *buf, size_t size, unsigned char c)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "U+%04X", c);
}

static int check_ip(struct run *r, const char *name)
{
	return FINDING(
		r, MSSL_SEV_ERROR, "name.ip_address", "name", name,
		MSSL_N_("%s is an IP address (or written like one): certificates are issued only for DNS names. Use the server's DNS name (such as www.example.com) instead."),
		name);
}

static int check_punycode(struct run *r, const char *name, const char *label,
			  size_t label_len)
{
	const struct mssl_host *h = r->st->host;
	char *uni = NULL, *lab;
	int rc;

	if (idn2_to_unicode_8z8z(name, &uni, 0) == IDN2_OK && uni) {
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.punycode", "name", name,
			MSSL_N_("%s is the internationalised domain name %s written in punycode (xn--): internationalised names cannot be certified. Use a name made only of A-Z, a-z, 0-9 and '-'."),
			name, uni);
		idn2_free(uni);
		return rc;
	}
	idn2_free(uni);
	lab = h->alloc(r->st->hctx, label_len + 1);
	if (!lab)
		return MSSL_ENOMEM;
	memcpy(lab, label, label_len);
	lab[label_len] = '\0';
	rc = FINDING(
		r, MSSL_SEV_ERROR, "name.punycode", "name", name,
		MSSL_N_("%s has the label %s, which starts with xn-- (the mark of an internationalised domain name) but is not valid punycode: such names cannot be certified. Use a name made only of A-Z, a-z, 0-9 and '-'."),
		name, lab);
	h->free(r->st->hctx, lab);
	return rc;
}

/* What one pass over the labels of a name found (first offender each). */
struct scan {
	bool non_ascii;
	const char *puny;
	size_t puny_len;
	bool underscore;
	int bad_char; /* -1: none */
	const char *hyphen;
	size_t hyphen_len;
	const char *long_label;
	size_t long_len;
	bool empty_label;
	bool trailing_dot;
	bool star_misplaced;
	bool wildcard; /* "*." followed by at least one label */
};

static void scan_name(const char *s, size_t n, struct scan *sc)
{
	size_t start = 0, end, i, label_no = 0;

	memset(sc, 0, sizeof(*sc));
	sc->bad_char = -1;
	if (n && s[n - 1] == '.') {
		sc->trailing_dot = true;
		n--;
	}
	while (start <= n) {
		const char *l = s + start;
		size_t len;

		for (end = start; end < n && s[end] != '.'; end++)
			;
		len = end - start;
		if (len == 0)
			sc->empty_label = true;
		if (len > MAX_LABEL && !sc->long_label) {
			sc->long_label = l;
			sc->long_len = len;
		}
		if (len && (l[0] == '-' || l[len - 1] == '-') && !sc->hyphen) {
			sc->hyphen = l;
			sc->hyphen_len = len;
		}
		if (len >= 4 && ascii_eq_nocase(l, 4, "xn--", 4) && !sc->puny) {
			sc->puny = l;
			sc->puny_len = len;
		}
		if (label_no == 0 && len == 1 && l[0] == '*') {
			if (end < n)
				sc->wildcard = true;
			else
				sc->star_misplaced = true;
		} else if (memchr(l, '*', len)) {
			sc->star_misplaced = true;
		}
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)l[i];

			if (c >= 0x80)
				sc->non_ascii = true;
			else if (c == '_')
				sc->underscore = true;
			else if (c != '*' && !is_ldh(c) && sc->bad_char < 0)
				sc->bad_char = c;
		}
		label_no++;
		start = end + 1;
	}
}

/* Every rule for one DNS name; sets *wildcard when it is "*.<domain>". */
static int check_name(struct run *r, const char *name, bool *wildcard)
{
	bool want_wild = r->in->request &&
			 r->in->request->product == MSSL_PRODUCT_WILDCARD;
	size_t n = strlen(name);
	struct scan sc;
	char rep[16];
	int rc = 0;

	*wildcard = false;
	if (n == 0)
		return FINDING(
			r, MSSL_SEV_ERROR, "name.empty_label", "name", name,
			MSSL_N_("The request has an empty DNS name: every name needs at least one label. Remove the empty name from the CSR."));
	if (looks_ipv4(name, n) || looks_ipv6(name, n))
		return check_ip(r, name);

	scan_name(name, n, &sc);
	*wildcard = sc.wildcard;

	if (sc.non_ascii)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.idn", "name", name,
			MSSL_N_("%s is an internationalised (non-ASCII) domain name: such names cannot be certified. Use a name made only of A-Z, a-z, 0-9 and '-'."),
			name);
	if (!rc && sc.puny)
		rc = check_punycode(r, name, sc.puny, sc.puny_len);
	if (!rc && sc.underscore)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.underscore", "name", name,
			MSSL_N_("%s contains '_': an underscore is not allowed in a host name. Use '-' or remove it."),
			name);
	if (!rc && sc.bad_char >= 0) {
		char_repr(rep, sizeof(rep), (unsigned char)sc.bad_char);
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.characters", "name", name,
			MSSL_N_("%s contains %s, which a DNS name may not hold: use only the letters A-Z and a-z, the digits 0-9, '-' and '.' (and '*' as the whole leftmost label of a wildcard)."),
			name, rep);
	}
	if (!rc && sc.hyphen)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.hyphen", "name", name,
			MSSL_N_("%s has the label %.*s, which begins or ends with '-': a label must begin and end with a letter or digit. Correct the name."),
			name, (int)sc.hyphen_len, sc.hyphen);
	if (!rc && sc.long_label)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.label_too_long", "name", name,
			MSSL_N_("%s has a label of %zu characters (%.*s): a label may have at most 63. Use a shorter name."),
			name, sc.long_len, (int)sc.long_len, sc.long_label);
	if (!rc && n - sc.trailing_dot > MAX_NAME)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.too_long", "name", name,
			MSSL_N_("%s is %zu characters long: a DNS name may have at most 253. Use a shorter name."),
			name, n - sc.trailing_dot);
	if (!rc && sc.empty_label)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.empty_label", "name", name,
			MSSL_N_("%s has an empty label (a leading dot or two dots in a row): remove the extra dot."),
			name);
	if (!rc && sc.trailing_dot)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.trailing_dot", "name", name,
			MSSL_N_("%s ends with a dot: write the name without the trailing dot."),
			name);
	if (!rc && sc.star_misplaced)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.wildcard_position", "name",
			name,
			MSSL_N_("%s has a '*' that is not the whole leftmost label: a wildcard is written only as '*.' before a domain, as in *.example.com. Write it that way or remove the '*'."),
			name);
	if (!rc && sc.wildcard && !want_wild)
		rc = FINDING(
			r, MSSL_SEV_ERROR, "name.wildcard_product", "name",
			name,
			MSSL_N_("%s is a wildcard name, but this request is not for a Wildcard certificate: remove the name from the CSR, or request a Wildcard certificate."),
			name);
	return rc;
}

/* A SAN that is not a DNS name: "IP:192.0.2.1", "email:a@b", "URI:...". */
static int check_san_type(struct run *r, const struct mssl_san *san)
{
	const struct mssl_host *h = r->st->host;
	const char *v = san->value ? san->value : "";
	const char *prefix, *msgid;
	size_t len;
	char *value;
	int rc;

	switch (san->type) {
	case MSSL_SAN_IP:
		prefix = "IP:";
		msgid = MSSL_N_(
			"The request lists the IP address %s as a subject alternative name: certificates are issued only for DNS names. Remove it from the CSR.");
		break;
	case MSSL_SAN_EMAIL:
		prefix = "email:";
		msgid = MSSL_N_(
			"The request lists the e-mail address %s as a subject alternative name: SSL certificates carry only DNS names. Remove it from the CSR.");
		break;
	case MSSL_SAN_URI:
		prefix = "URI:";
		msgid = MSSL_N_(
			"The request lists the URI %s as a subject alternative name: SSL certificates carry only DNS names. Remove it from the CSR.");
		break;
	default:
		prefix = "";
		msgid = MSSL_N_(
			"The request has a subject alternative name that is not a DNS name (%s): SSL certificates carry only DNS names. Remove it from the CSR.");
		break;
	}
	len = strlen(prefix) + strlen(v) + 1;
	value = h->alloc(r->st->hctx, len);
	if (!value)
		return MSSL_ENOMEM;
	snprintf(value, len, "%s%s", prefix, v);
	rc = FINDING(r, MSSL_SEV_ERROR, "name.san_type", "san", value, msgid,
		     v);
	h->free(r->st->hctx, value);
	return rc;
}

/* DNS SANs repeated (case-insensitively): one notice per extra copy. */
static int check_duplicates(struct run *r, const struct mssl_csr_info *csr)
{
	size_t i, j;
	int rc;

	for (i = 0; i < csr->n_sans; i++) {
		const struct mssl_san *a = &csr->sans[i];

		if (a->type != MSSL_SAN_DNS || !a->value)
			continue;
		for (j = 0; j < i; j++) {
			const struct mssl_san *b = &csr->sans[j];

			if (b->type == MSSL_SAN_DNS && b->value &&
			    streq_nocase(a->value, b->value))
				break;
		}
		if (j == i)
			continue;
		rc = FINDING(
			r, MSSL_SEV_NOTICE, "name.duplicate_san", "name",
			a->value,
			MSSL_N_("The DNS name %s is listed more than once among the subject alternative names (letter case does not matter): the certificate will carry it once. You may remove the repeat from the CSR."),
			a->value);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_cn_in_san(struct run *r, const struct mssl_csr_info *csr)
{
	const char *cn = csr->subject.cn;
	size_t i;

	if (!cn || !*cn)
		return 0;
	for (i = 0; i < csr->n_sans; i++)
		if (csr->sans[i].type == MSSL_SAN_DNS && csr->sans[i].value &&
		    streq_nocase(csr->sans[i].value, cn))
			return 0;
	return FINDING(
		r, MSSL_SEV_NOTICE, "name.cn_not_in_san", "name", cn,
		MSSL_N_("The common name %s is not among the request's DNS subject alternative names: it will be added to them, as browsers look only there. Nothing to do, unless you did not mean to certify %s."),
		cn, cn);
}

static int names_check(void *state, const struct mssl_check *in,
		       struct mssl_findings *out)
{
	const struct mssl_csr_info *csr = in->csr;
	struct run r = { .st = state, .out = out, .in = in };
	bool any_wild = false, wild;
	size_t i;
	int rc;

	if (!csr)
		return MSSL_EINVAL;
	if (csr->n_names == 0) {
		rc = FINDING(
			&r, MSSL_SEV_ERROR, "name.no_names", "name", NULL,
			MSSL_N_("The request names no server: it has neither a common name (CN) nor a DNS subject alternative name. Put the server's DNS name in the CN of the CSR."));
		if (rc)
			return rc;
	}
	for (i = 0; i < csr->n_names; i++) {
		const char *name = csr->names[i] ? csr->names[i] : "";

		rc = check_name(&r, name, &wild);
		if (rc)
			return rc;
		any_wild |= wild;
	}
	for (i = 0; i < csr->n_sans; i++) {
		if (csr->sans[i].type == MSSL_SAN_DNS)
			continue;
		rc = check_san_type(&r, &csr->sans[i]);
		if (rc)
			return rc;
	}
	if (in->request && in->request->product == MSSL_PRODUCT_WILDCARD &&
	    csr->n_names > 0 && !any_wild) {
		rc = FINDING(
			&r, MSSL_SEV_ERROR, "name.wildcard_missing", "name",
			NULL,
			MSSL_N_("This request is for a Wildcard certificate, but none of its names (the first is %s) is a wildcard such as *.example.com: put the wildcard name in the CSR, or request an SSL certificate instead."),
			csr->names[0] ? csr->names[0] : "");
		if (rc)
			return rc;
	}
	rc = check_cn_in_san(&r, csr);
	if (rc)
		return rc;
	return check_duplicates(&r, csr);
}

static int names_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct state *st = host->alloc(hctx, sizeof(*st));

	if (!st)
		return MSSL_ENOMEM;
	st->host = host;
	st->hctx = hctx;
	*state = st;
	return 0;
}

static void names_fini(void *state)
{
	struct state *st = state;

	if (st)
		st->host->free(st->hctx, st);
}

static const struct mssl_validator_ops names_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = names_check,
};

static const char *const config_keys[] = { NULL };

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "validate-names",
	.version = "1",
	.description = "DNS name rules (no IP, no IDN, LDH labels, wildcards)",
	.init = names_init,
	.fini = names_fini,
	.ops = &names_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
