/*
 * mssl's certificate commands: certs, cert, download, check, issue,
 * renew, revoke.  Issuance follows SPEC §4: the request is checked (a dry
 * run showing every finding), the user confirms, the server checks it
 * again and issues.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libintl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "cmd.h"
#include "mssl/token.h"

/* A CSR is a few KiB; the server refuses more than this anyway. */
#define MAX_CSR (64u << 10)
/* Longest pass phrase the server takes, plus the line end. */
#define PASS_BUF 130

/* A table of certificates (list, renewals, revocable). */
static int cert_table(const json_t *items)
{
	const char *heads[] = { _("SERIAL"), _("CN"), _("PRODUCT"),
				_("STATE"), _("EXPIRES"), _("NOTE") };
	struct cli_table *t = cli_table_new(6, heads);
	json_t *v;
	size_t i;

	if (!t)
		return CLI_REFUSED;
	json_array_foreach(items, i, v) {
		char exp[16];
		const char *row[6];

		day_of(json_object_get(v, "not_after"), exp, sizeof(exp));
		row[0] = cli_str(v, "serial");
		row[1] = cli_str(v, "cn");
		row[2] = cli_str(v, "product");
		row[3] = cli_str(v, "state");
		row[4] = exp;
		row[5] = cli_str(v, "note");
		if (cli_table_row(t, row) < 0)
			break;
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	return 0;
}

/* Append "&key=value" (escaped) to a query string. */
static int query_add(char **q, const char *key, const char *value)
{
	char *e, *n = NULL;

	if (!value)
		return 0;
	if (!(e = cli_escape(value)))
		return -1;
	if (asprintf(&n, "%s%c%s=%s", *q, strchr(*q, '?') ? '&' : '?', key,
		     e) < 0)
		n = NULL;
	free(e);
	if (!n)
		return -1;
	free(*q);
	*q = n;
	return 0;
}

/* Open a file for a download: refuse to overwrite, "-" is stdout. */
static FILE *open_out(const char *path)
{
	FILE *fp;
	int fd;

	if (strcmp(path, "-") == 0)
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		cli_err(_("cannot create %s: %s%s"), path, strerror(errno),
			errno == EEXIST ? _(" (it is not overwritten)") : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return fp;
}

/* GET path into a new file; removed again when the answer is an error. */
static int fetch_to(struct cli *c, const char *path, const char *out)
{
	struct cli_resp r;
	FILE *fp = open_out(out);
	int rc;

	if (!fp)
		return CLI_USAGE;
	rc = cli_request(c, "GET", path, NULL, NULL, fp, &r);
	if (fp != stdout && fclose(fp) != 0 && rc == 0) {
		cli_err(_("cannot write %s: %s"), out, strerror(errno));
		rc = CLI_REFUSED;
	}
	if (rc == 0 && r.status != 200) {
		/* The error body went to the file: read it back. */
		FILE *in = strcmp(out, "-") ? fopen(out, "re") : NULL;

		if (in) {
			r.json = json_loadf(in, 0, NULL);
			fclose(in);
		}
		rc = cli_fail(c, &r);
	}
	if (rc && strcmp(out, "-") != 0)
		unlink(out);
	else if (strcmp(out, "-") != 0)
		fprintf(stderr, _("Saved %s\n"), out);
	cli_resp_clear(&r);
	return rc;
}

static int show_list(struct cli *c, const json_t *j)
{
	int rc = cert_table(json_object_get(j, "items"));

	(void)c;
	if (rc == 0)
		cli_more(j);
	return rc;
}

int cmd_certs(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "cn", required_argument, NULL, 'c' },
		{ "domain", required_argument, NULL, 'd' },
		{ "state", required_argument, NULL, 's' },
		{ "page", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "csv", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cn = NULL, *domain = NULL, *state = NULL, *csv = NULL;
	long page = 1, limit = 50;
	char *q = NULL, num[32];
	int opt, rc = CLI_REFUSED;

	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (opt) {
		case 'c': cn = optarg; break;
		case 'd': domain = optarg; break;
		case 's': state = optarg; break;
		case 'x': csv = optarg; break;
		case 'p':
			if ((page = cli_positive(optarg, "--page")) < 0)
				return CLI_USAGE;
			break;
		case 'l':
			if ((limit = cli_positive(optarg, "--limit")) < 0 ||
			    limit > 1000) {
				cli_err("%s", _("--limit: at most 1000 rows a page"));
				return CLI_USAGE;
			}
			break;
		default:
			cli_err("%s", _("usage: mssl certs [--cn S] [--domain D] [--state S] [--page N] [--limit N] [--csv FILE]"));
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_err(_("certs: unexpected argument \"%s\""), argv[optind]);
		return CLI_USAGE;
	}
	q = strdup(csv ? "/api/v1/certificates/export" :
			 "/api/v1/certificates");
	if (!q || query_add(&q, "cn", cn) < 0 ||
	    query_add(&q, "domain", domain) < 0 ||
	    query_add(&q, "state", state) < 0)
		goto nomem;
	if (csv) {
		rc = fetch_to(c, q, csv);
		goto out;
	}
	snprintf(num, sizeof(num), "%ld", (page - 1) * limit);
	if (query_add(&q, "offset", num) < 0)
		goto nomem;
	snprintf(num, sizeof(num), "%ld", limit);
	if (query_add(&q, "limit", num) < 0)
		goto nomem;
	rc = cli_get_show(c, q, show_list);
	goto out;
nomem:
	cli_err("%s", _("out of memory"));
out:
	free(q);
	return rc;
}

static int show_cert(struct cli *c, const json_t *j)
{
	json_t *tc = json_object_get(j, "technical_contact");
	char nb[16], na[16], cr[16];

	(void)c;
	day_of(json_object_get(j, "not_before"), nb, sizeof(nb));
	day_of(json_object_get(j, "not_after"), na, sizeof(na));
	day_of(json_object_get(j, "created"), cr, sizeof(cr));
	cli_kv(_("Serial"), cli_str(j, "serial"));
	cli_kv(_("CN"), cli_str(j, "cn"));
	cli_kv(_("Product"), cli_str(j, "product"));
	cli_kv(_("State"), cli_str(j, "state"));
	cli_kv_int(_("Cert-years charged"),
		   json_integer_value(json_object_get(j, "years")));
	cli_kv(_("Valid from"), nb);
	cli_kv(_("Valid until"), na);
	cli_kv(_("Requested"), cr);
	if (cli_str(j, "requested_by"))
		cli_kv(_("Requested by"), cli_str(j, "requested_by"));
	if (cli_str(j, "server_vendor"))
		cli_kv(_("Server software"), cli_str(j, "server_vendor"));
	if (tc) {
		cli_kv(_("Technical contact"), cli_str(tc, "name"));
		cli_kv("", cli_str(tc, "email"));
	}
	if (cli_str(j, "seal_name"))
		cli_kv(_("Site seal name"), cli_str(j, "seal_name"));
	if (cli_str(j, "note"))
		cli_kv(_("Note"), cli_str(j, "note"));
	if (cli_str(j, "renewal_of"))
		cli_kv(_("Renews"), cli_str(j, "renewal_of"));
	if (cli_str(j, "revoke_reason"))
		cli_kv(_("Revoked for"), cli_str(j, "revoke_reason"));
	return 0;
}

/* "/api/v1/certificates/SERIAL[suffix]" for a serial of hex digits. */
static char *cert_path(const char *serial, const char *suffix)
{
	char *p = NULL;

	if (!*serial || strspn(serial, "0123456789abcdefABCDEF") !=
				strlen(serial)) {
		cli_err(_("serial \"%s\": hexadecimal digits expected, as \"mssl certs\" shows them"),
			serial);
		return NULL;
	}
	if (asprintf(&p, "/api/v1/certificates/%s%s", serial, suffix) < 0)
		return NULL;
	for (char *s = p + strlen("/api/v1/certificates/"); *s && *s != '/';
	     s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
	return p;
}

int cmd_cert(struct cli *c, int argc, char **argv)
{
	char *path;
	int rc;

	if (argc != 2) {
		cli_err("%s", _("usage: mssl cert SERIAL"));
		return CLI_USAGE;
	}
	if (!(path = cert_path(argv[1], "")))
		return CLI_USAGE;
	rc = cli_get_show(c, path, show_cert);
	free(path);
	return rc;
}

int cmd_download(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const formats[] = { "pem", "chain", "der", "p7b",
					       "vendor" };
	const char *format = NULL, *out = NULL, *serial;
	char *path = NULL, *name = NULL, *q;
	size_t i;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		if (opt == 'f')
			format = optarg;
		else if (opt == 'o')
			out = optarg;
		else
			goto usage;
	}
	if (optind + 1 != argc || !format)
		goto usage;
	serial = argv[optind];
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(format, formats[i]) == 0)
			break;
	if (i == sizeof(formats) / sizeof(formats[0])) {
		cli_err(_("--format %s: choose pem, chain, der, p7b or vendor (the format your server software takes)"),
			format);
		return CLI_USAGE;
	}
	if (asprintf(&q, "/download?format=%s", format) < 0)
		return CLI_REFUSED;
	path = cert_path(serial, q);
	free(q);
	if (!path)
		return CLI_USAGE;
	if (!out) {
		/* The name the server suggests, e.g. www.example.com.p7b, is
		 * not known before the answer: name it after serial and
		 * format, as the server does. */
		const char *ext = strcmp(format, "der") == 0 ? "cer" :
				  strcmp(format, "p7b") == 0 ? "p7b" :
				  strcmp(format, "chain") == 0 ? "chain.pem" :
				  strcmp(format, "vendor") == 0 ? "vendor" :
								  "pem";

		if (asprintf(&name, "%s.%s", serial, ext) < 0) {
			free(path);
			return CLI_REFUSED;
		}
		out = name;
	}
	rc = fetch_to(c, path, out);
	free(name);
	free(path);
	return rc;
usage:
	cli_err("%s", _("usage: mssl download SERIAL --format pem|chain|der|p7b|vendor [--out FILE|-]"));
	return CLI_USAGE;
}

/* ---- check and issue ------------------------------------------------- */

struct request {
	const char *csr_file;
	const char *product;
	const char *years;
	const char *vendor;
	const char *tech_name;
	const char *tech_email;
	const char *tech_phone;
	const char *note;
	const char *seal_name;
	const char *idem;
	int pass_fd;
	char *csr; /* the file's text */
	char *asked[7]; /* answers typed in, freed at the end */
	char pass[PASS_BUF];
	size_t pass_len;
};

static void request_clear(struct request *q)
{
	size_t i;

	free(q->csr);
	for (i = 0; i < sizeof(q->asked) / sizeof(q->asked[0]); i++)
		free(q->asked[i]);
	gnutls_memset(q->pass, 0, sizeof(q->pass));
}

/* Options shared by check, issue and renew; returns 0, -1 on a bad one
 * (usage printed by the caller). */
static int request_opts(int argc, char **argv, struct request *q,
			bool issue)
{
	static const struct option o[] = {
		{ "csr", required_argument, NULL, 'c' },
		{ "product", required_argument, NULL, 'p' },
		{ "years", required_argument, NULL, 'y' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "tech-name", required_argument, NULL, 'n' },
		{ "tech-email", required_argument, NULL, 'e' },
		{ "tech-phone", required_argument, NULL, 't' },
		{ "note", required_argument, NULL, 'o' },
		{ "seal-name", required_argument, NULL, 's' },
		{ "idempotency-key", required_argument, NULL, 'i' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	memset(q, 0, sizeof(*q));
	q->pass_fd = -1;
	q->product = "ssl";
	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (opt) {
		case 'c': q->csr_file = optarg; break;
		case 'p': q->product = optarg; break;
		case 'y': q->years = optarg; break;
		case 'v': q->vendor = optarg; break;
		case 'n': q->tech_name = optarg; break;
		case 'e': q->tech_email = optarg; break;
		case 't': q->tech_phone = optarg; break;
		case 'o': q->note = optarg; break;
		case 's': q->seal_name = optarg; break;
		case 'i': q->idem = optarg; break;
		case 'f':
			if ((q->pass_fd = cli_fd_number(optarg,
							"--passphrase-fd")) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (!issue && (q->vendor || q->tech_name || q->tech_email ||
		       q->tech_phone || q->note || q->seal_name || q->idem ||
		       q->pass_fd >= 0)) {
		cli_err("%s", _("check takes only --csr, --product and --years; the other issuance options belong to issue and renew"));
		return -1;
	}
	return 0;
}

static int read_csr(struct request *q)
{
	FILE *fp;
	size_t n;

	if (!q->csr_file) {
		cli_err("%s", _("--csr FILE is required: the certificate request (PEM) made on your server"));
		return CLI_USAGE;
	}
	fp = strcmp(q->csr_file, "-") ? fopen(q->csr_file, "re") : stdin;
	if (!fp) {
		cli_err(_("--csr %s: %s"), q->csr_file, strerror(errno));
		return CLI_USAGE;
	}
	q->csr = malloc(MAX_CSR + 1);
	n = q->csr ? fread(q->csr, 1, MAX_CSR + 1, fp) : 0;
	if (fp != stdin)
		fclose(fp);
	if (!q->csr)
		return CLI_REFUSED;
	if (n > MAX_CSR) {
		cli_err(_("--csr %s: larger than %u KiB, not a certificate request"),
			q->csr_file, MAX_CSR >> 10);
		return CLI_USAGE;
	}
	q->csr[n] = '\0';
	if (strlen(q->csr) != n) {
		cli_err(_("--csr %s: binary data; give the request as PEM text (-----BEGIN CERTIFICATE REQUEST-----)"),
			q->csr_file);
		return CLI_USAGE;
	}
	return 0;
}

static void show_report(struct cli *c, const json_t *j)
{
	json_t *subj = json_object_get(j, "subject"), *v;
	size_t i;

	if (subj) {
		json_t *key = json_object_get(subj, "key");
		char kb[64];

		cli_kv(_("Subject"), cli_str(subj, "dn"));
		snprintf(kb, sizeof(kb), "%s %lld",
			 cli_str(key, "algorithm") ? cli_str(key, "algorithm") :
						     "?",
			 (long long)json_integer_value(
				 json_object_get(key, "bits")));
		cli_kv(_("Key"), kb);
	}
	if (json_object_get(j, "price")) {
		json_t *val = json_object_get(j, "validity");
		char from[32], to[32], buf[128];

		cli_kv_int(_("Price (cert-years)"),
			   json_integer_value(json_object_get(j, "price")));
		day_of(json_object_get(val, "not_before"), from, sizeof(from));
		day_of(json_object_get(val, "not_after"), to, sizeof(to));
		snprintf(buf, sizeof(buf), _("%s to %s (%lld days)"), from, to,
			 (long long)json_integer_value(
				 json_object_get(val, "days")));
		cli_kv(_("Validity"), buf);
		day_of(json_object_get(val, "term_until"), to, sizeof(to));
		cli_kv(_("Paid term until"), to);
	}
	printf("%s\n", _("Names:"));
	json_array_foreach(json_object_get(j, "names"), i, v) {
		const char *rule = cli_str(v, c->zh ? "rule_zh" : "rule");

		printf("  %-40s %s%s%s\n", cli_str(v, "name"),
		       json_is_true(json_object_get(v, "accepted")) ?
			       _("accepted") :
			       _("REFUSED"),
		       rule ? ": " : "", rule ? rule : "");
	}
	if (json_array_size(json_object_get(j, "findings")))
		printf("%s\n", _("Findings:"));
	json_array_foreach(json_object_get(j, "findings"), i, v) {
		const char *msg = cli_str(v, c->zh ? "message_zh" : "message");

		printf("  %-7s %s", cli_str(v, "severity"), msg ? msg : "");
		if (cli_str(v, "value"))
			printf(" (%s: %s)", cli_str(v, "field") ?
						   cli_str(v, "field") :
						   "-",
			       cli_str(v, "value"));
		printf(" [%s]\n", cli_str(v, "code"));
	}
	printf("%s\n", json_is_true(json_object_get(j, "issuable")) ?
			       _("The request can be issued.") :
			       _("The request cannot be issued: fix every error above."));
}

/* POST the dry run; *out the report (the caller's) when one came. */
static int dry_run(struct cli *c, struct request *q, const char *renewal_of,
		   json_t **out)
{
	struct cli_resp r;
	json_t *body;
	int rc;

	*out = NULL;
	body = json_pack("{s:s,s:s}", "product", q->product, "csr", q->csr);
	if (body && q->years) {
		long years = cli_positive(q->years, _("validity in years"));

		if (years < 0) {
			json_decref(body);
			return CLI_USAGE;
		}
		json_object_set_new(body, "years", json_integer(years));
	}
	if (renewal_of)
		json_object_set_new(body, "renewal_of",
				    json_string(renewal_of));
	rc = cli_request(c, "POST", "/api/v1/requests/check", body, NULL, NULL,
			 &r);
	json_decref(body);
	if (rc)
		return rc;
	if (r.status == 200 && r.json) {
		*out = json_incref(r.json);
		if (c->json)
			cli_print_json(r.json);
		else
			show_report(c, r.json);
		rc = json_is_true(json_object_get(r.json, "issuable")) ?
			     CLI_OK :
			     CLI_REFUSED;
	} else
		rc = cli_fail(c, &r);
	cli_resp_clear(&r);
	return rc;
}

int cmd_check(struct cli *c, int argc, char **argv)
{
	struct request q;
	json_t *rep = NULL;
	int rc;

	if (request_opts(argc, argv, &q, false) < 0 || optind < argc) {
		cli_err("%s", _("usage: mssl check --csr FILE [--product ssl|wildcard|ev] [--years N]"));
		request_clear(&q);
		return CLI_USAGE;
	}
	rc = read_csr(&q);
	if (rc == 0)
		rc = dry_run(c, &q, NULL, &rep);
	json_decref(rep);
	request_clear(&q);
	return rc;
}

/* Ask for one option on the terminal when it was not given. */
static int ask_text(struct cli *c, struct request *q, size_t slot,
		    const char *prompt, bool required, const char **value)
{
	char line[512];
	size_t n;

	if (*value)
		return 0;
	if (c->assume_yes || !isatty(STDIN_FILENO)) {
		if (!required)
			return 0;
		cli_err(_("%s is required; give it as an option (see mssl --help) or run on a terminal to be asked"),
			prompt);
		return CLI_USAGE;
	}
	printf("%s%s: ", prompt, required ? "" : _(" (optional)"));
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return CLI_USAGE;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n && required) {
		cli_err(_("%s is required"), prompt);
		return CLI_USAGE;
	}
	if (!n)
		return 0;
	if (!(q->asked[slot] = strdup(line)))
		return CLI_REFUSED;
	*value = q->asked[slot];
	return 0;
}

/* Every SPEC §4.4 option, asked for when not given. */
static int ask_options(struct cli *c, struct request *q)
{
	int rc, n;

	rc = ask_text(c, q, 0, _("Server software (e.g. apache, nginx, iis, tomcat)"),
		      true, &q->vendor);
	if (!rc)
		rc = ask_text(c, q, 1, _("Validity in years"), true, &q->years);
	if (!rc)
		rc = ask_text(c, q, 2, _("Technical contact's name"), true,
			      &q->tech_name);
	if (!rc)
		rc = ask_text(c, q, 3, _("Technical contact's e-mail"), true,
			      &q->tech_email);
	if (!rc)
		rc = ask_text(c, q, 4, _("Technical contact's phone"), false,
			      &q->tech_phone);
	if (!rc)
		rc = ask_text(c, q, 5, _("Note"), false, &q->note);
	if (rc)
		return rc;
	/* The pass phrase: no echo, from the terminal or --passphrase-fd. */
	n = mssl_token_read_pin(_("Pass phrase (8 to 128 characters, kept only as a salted hash): "),
				q->pass_fd, q->pass, sizeof(q->pass));
	if (n < 0) {
		cli_err("%s", _("no pass phrase given (type it, or use --passphrase-fd N)"));
		return CLI_USAGE;
	}
	q->pass_len = (size_t)n;
	return 0;
}

static void random_key(char out[33])
{
	uint8_t b[16];
	size_t i;

	if (gnutls_rnd(GNUTLS_RND_NONCE, b, sizeof(b)) < 0)
		memset(b, 0, sizeof(b));
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* check, confirm, POST path (issue or renew), show the certificate. */
static int issue_flow(struct cli *c, struct request *q, const char *path,
		      const char *renewal_of)
{
	struct cli_resp r = { 0 };
	json_t *rep = NULL, *body = NULL;
	char key[33];
	long years;
	int rc;

	rc = read_csr(q);
	if (!rc)
		rc = ask_options(c, q);
	if (rc)
		goto out;
	years = cli_positive(q->years, _("validity in years"));
	if (years < 0) {
		rc = CLI_USAGE;
		goto out;
	}
	rc = dry_run(c, q, renewal_of, &rep);
	if (rc)
		goto out;
	if (!q->seal_name && !c->assume_yes && isatty(STDIN_FILENO)) {
		/* Filled by the server for a CN issued before; asked only
		 * when the user wants to set it. */
		rc = ask_text(c, q, 6, _("Site seal name (empty: the one of the CN's last certificate)"),
			      false, &q->seal_name);
		if (rc)
			goto out;
	}
	if (!cli_confirm(c, _("Issue this certificate and charge the balance?"))) {
		printf("%s\n", _("Nothing was issued."));
		rc = CLI_REFUSED;
		goto out;
	}
	if (!q->idem) {
		/* A retry of this run's request returns the same certificate. */
		random_key(key);
		q->idem = key;
	}
	body = json_pack("{s:s,s:s,s:I,s:s,s:s%,s:s,s:s,s:b}", "product",
			 q->product, "csr", q->csr, "years", (json_int_t)years,
			 "server_vendor", q->vendor, "passphrase", q->pass,
			 q->pass_len, "tech_name", q->tech_name, "tech_email",
			 q->tech_email, "confirm", 1);
	if (!body) {
		cli_err("%s", _("out of memory"));
		rc = CLI_REFUSED;
		goto out;
	}
	if (q->tech_phone)
		json_object_set_new(body, "tech_phone",
				    json_string(q->tech_phone));
	if (q->note)
		json_object_set_new(body, "note", json_string(q->note));
	if (q->seal_name)
		json_object_set_new(body, "seal_name",
				    json_string(q->seal_name));
	rc = cli_request(c, "POST", path, body, q->idem, NULL, &r);
	if (rc)
		goto out;
	if ((r.status == 200 || r.status == 201) && r.json) {
		if (c->json)
			cli_print_json(r.json);
		else {
			printf("%s\n", _("Issued:"));
			show_cert(c, r.json);
			printf(_("Download it with: mssl download %s --format pem\n"),
			       cli_str(r.json, "serial"));
		}
	} else if (r.status == 422 && r.json && !c->json) {
		/* Refused on the second check: every finding. */
		rc = cli_fail(c, &r);
		show_report(c, json_object_get(r.json, "report") ?
				       json_object_get(r.json, "report") :
				       r.json);
	} else
		rc = cli_fail(c, &r);
out:
	if (body) {
		json_t *p = json_object_get(body, "passphrase");

		if (p)
			gnutls_memset((char *)json_string_value(p), 0,
				      json_string_length(p));
	}
	json_decref(body);
	json_decref(rep);
	cli_resp_clear(&r);
	return rc;
}

static const char issue_usage[] =
	N_("usage: mssl %s --csr FILE [--product ssl|wildcard|ev] [--years N] [--vendor V] [--tech-name N] [--tech-email E] [--tech-phone P] [--note T] [--seal-name S] [--passphrase-fd N] [--idempotency-key K]");

int cmd_issue(struct cli *c, int argc, char **argv)
{
	struct request q;
	int rc;

	if (request_opts(argc, argv, &q, true) < 0 || optind < argc) {
		cli_err(_(issue_usage), "issue");
		request_clear(&q);
		return CLI_USAGE;
	}
	rc = issue_flow(c, &q, "/api/v1/certificates", NULL);
	request_clear(&q);
	return rc;
}

static int show_candidates(struct cli *c, const json_t *j)
{
	json_t *reasons = json_object_get(j, "reasons"), *v;
	size_t i;

	(void)c;
	cert_table(json_object_get(j, "items"));
	if (json_array_size(reasons)) {
		printf("%s", _("Reasons:"));
		json_array_foreach(reasons, i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	}
	return 0;
}

int cmd_renew(struct cli *c, int argc, char **argv)
{
	struct request q;
	char *path;
	int rc;

	if (argc == 1)
		return cli_get_show(c, "/api/v1/renewals", show_candidates);
	if (request_opts(argc, argv, &q, true) < 0 || optind + 1 != argc) {
		cli_err(_(issue_usage), "renew SERIAL");
		request_clear(&q);
		return CLI_USAGE;
	}
	path = cert_path(argv[optind], "/renew");
	rc = path ? issue_flow(c, &q, path, argv[optind]) : CLI_USAGE;
	free(path);
	request_clear(&q);
	return rc;
}

int cmd_revoke(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_resp r;
	const char *reason = NULL;
	char *path, *question = NULL;
	json_t *body;
	int opt, rc;

	if (argc == 1)
		return cli_get_show(c, "/api/v1/revocable", show_candidates);
	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		if (opt != 'r')
			goto usage;
		reason = optarg;
	}
	if (optind + 1 != argc || !reason)
		goto usage;
	if (!(path = cert_path(argv[optind], "/revoke")))
		return CLI_USAGE;
	if (asprintf(&question,
		     _("Revoke certificate %s for %s?  This cannot be undone."),
		     argv[optind], reason) < 0)
		question = NULL;
	if (!cli_confirm(c, question ? question : "?")) {
		printf("%s\n", _("Nothing was revoked."));
		free(question);
		free(path);
		return CLI_REFUSED;
	}
	free(question);
	body = json_pack("{s:s}", "reason", reason);
	rc = cli_request(c, "POST", path, body, NULL, NULL, &r);
	json_decref(body);
	free(path);
	if (rc)
		return rc;
	if (r.status == 200 && r.json) {
		if (c->json)
			cli_print_json(r.json);
		else
			printf(_("Certificate %s revoked (%s).\n"),
			       cli_str(r.json, "serial"),
			       cli_str(r.json, "reason"));
	} else
		rc = cli_fail(c, &r);
	cli_resp_clear(&r);
	return rc;
usage:
	cli_err("%s", _("usage: mssl revoke [SERIAL --reason unspecified|keyCompromise|affiliationChanged|superseded|cessationOfOperation]"));
	return CLI_USAGE;
}
