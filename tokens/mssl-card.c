/*
 * mssl-card: the card holder's tool for an IC card (mssl-card(1)).
 *
 * Lists cards, shows a card's PIN state, tests a login and a signature,
 * changes and unblocks the PIN.  PINs come from the terminal with echo
 * off or from a file descriptor (--pin-fd, --so-pin-fd), never from the
 * command line.  Exit status: 0 done, 1 refused or failed (wrong PIN,
 * locked card, no card), 2 bad usage or input.
 */
#include "config.h"

#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <p11-kit/p11-kit.h>

#include "mssl/mssl.h"
#include "mssl/token.h"

#define _(s) gettext(s)
#define N_(s) s

enum {
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2
};

/* Room for a PIN and the line end; longer input is refused, not cut. */
#define PIN_BUF 64

static const char *progname = "mssl-card";

struct opts {
	const char *module;
	const char *token;
	int pin_fd;
	int so_pin_fd;
	int code_fd;
	const char *account;
	const char *config;
	const char *pos[4];
	size_t n_pos;
};

static void usage(FILE *fp)
{
	fprintf(fp, "%s",
		_("Usage: mssl-card [--module M] [--token URI] [--pin-fd N] "
		  "COMMAND\n"
		  "\n"
		  "Commands:\n"
		  "  list                      the cards present\n"
		  "  info                      one card and its PIN state\n"
		  "  login-test                log in with the PIN\n"
		  "  sign-test                 sign a random challenge and "
		  "verify it\n"
		  "  pin change                change the PIN (old, new "
		  "twice)\n"
		  "  pin unblock [--so-pin-fd N]\n"
		  "                            unblock with the SO PIN, set a "
		  "new PIN\n"
		  "  unlock --account ID [--config FILE] [--code-fd N]\n"
		  "                            unlock a locked card with the "
		  "code from the\n"
		  "                            CA's unlock notice, set a new "
		  "PIN\n"
		  "\n"
		  "Options:\n"
		  "  --module M      PKCS#11 module: a file path or a p11-kit "
		  "module name\n"
		  "                  (default $MSSL_CARD_MODULE, else "
		  "opensc-pkcs11)\n"
		  "  --token URI     the card, as a pkcs11: URI (needed when "
		  "several\n"
		  "                  cards are present)\n"
		  "  --pin-fd N      read PINs from file descriptor N, one "
		  "per line\n"
		  "  --so-pin-fd N   read the SO PIN from file descriptor N\n"
		  "  --code-fd N     read the unlock code from file descriptor "
		  "N\n"
		  "  --config FILE   mssl.conf of the server (unlock on the "
		  "server's host;\n"
		  "                  default $MSSL_CONFIG)\n"
		  "  --help, --version\n"));
}

static void usage_error(const char *fmt, ...) MSSL_PRINTF(1, 2)
	__attribute__((noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", _("Try 'mssl-card --help'."));
	exit(EXIT_USAGE);
}

static int fd_number(const char *s, const char *name)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 0 || v > INT_MAX)
		usage_error(_("option --%s takes a file descriptor number, "
			      "not \"%s\""),
			    name, s);
	return (int)v;
}

/* "--name value" or "--name=value"; options may come anywhere. */
static void parse(int argc, char **argv, struct opts *o)
{
	static const char *const valued[] = { "module", "token", "pin-fd",
					      "so-pin-fd", "code-fd",
					      "account", "config" };
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		size_t j, len;

		if (strncmp(arg, "--", 2) != 0) {
			if (o->n_pos == sizeof(o->pos) / sizeof(o->pos[0]))
				usage_error(_("too many arguments"));
			o->pos[o->n_pos++] = arg;
			continue;
		}
		arg += 2;
		if (strcmp(arg, "help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(arg, "version") == 0) {
			printf("mssl-card %s\n", PACKAGE_VERSION);
			exit(0);
		}
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (j = 0; j < sizeof(valued) / sizeof(valued[0]); j++)
			if (strlen(valued[j]) == len &&
			    strncmp(valued[j], arg, len) == 0)
				break;
		if (j == sizeof(valued) / sizeof(valued[0]))
			usage_error(_("unknown option --%.*s"), (int)len, arg);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			usage_error(_("option --%s needs a value"), valued[j]);
		switch (j) {
		case 0:
			o->module = val;
			break;
		case 1:
			o->token = val;
			break;
		case 2:
			o->pin_fd = fd_number(val, valued[j]);
			break;
		case 3:
			o->so_pin_fd = fd_number(val, valued[j]);
			break;
		case 4:
			o->code_fd = fd_number(val, valued[j]);
			break;
		case 5:
			o->account = val;
			break;
		default:
			o->config = val;
			break;
		}
	}
}

/* Print the library's error and return the exit status it calls for. */
static int fail(int rc, mssl_error *err)
{
	const char *msg = mssl_error_message(err, MSSL_LANG_LOCALE);

	if (!*msg)
		msg = mssl_strerror(rc);
	fprintf(stderr, "%s: %s", progname, msg);
	if (mssl_error_id(err)[0])
		fprintf(stderr, " [%s]", mssl_error_id(err));
	fputc('\n', stderr);
	switch (rc) {
	case MSSL_EINPUT:
	case MSSL_EINVAL:
	case MSSL_ECONFIG:
	case MSSL_EUSAGE:
		return EXIT_USAGE;
	default:
		return EXIT_REFUSED;
	}
}

/* The PIN state in words, from the card's own flags. */
static const char *pin_state(unsigned int f)
{
	if (!(f & MSSL_TOKEN_INITIALIZED))
		return _("blank: the card is not initialised");
	if (!(f & MSSL_TOKEN_PIN_INITIALIZED))
		return _("no PIN set: the card must be enrolled or unlocked");
	if (f & MSSL_TOKEN_PIN_LOCKED)
		return _("locked: ask the CA for an unlock");
	if (f & MSSL_TOKEN_PIN_FINAL_TRY)
		return _("1 try left: the next wrong PIN locks the card");
	if (f & MSSL_TOKEN_PIN_COUNT_LOW)
		return _("a wrong PIN was given: 2 tries left");
	if (f & MSSL_TOKEN_PIN_TO_BE_CHANGED)
		return _("the card asks for a new PIN");
	return _("ready");
}

static void print_card(const struct mssl_token_info *ti)
{
	printf("%-14s %s\n", _("Card:"), ti->label);
	printf("%-14s %s\n", _("Serial:"), ti->serial);
	printf("%-14s %s\n", _("Manufacturer:"), ti->manufacturer);
	printf("%-14s %s\n", _("Model:"), ti->model);
	printf("%-14s %s\n", _("PIN:"), pin_state(ti->flags));
	if (ti->flags & MSSL_TOKEN_PROTECTED_PATH)
		printf("%-14s %s\n", "", _("PINs are entered on the reader"));
	printf("%-14s %s\n", _("URI:"), ti->uri);
}

struct env {
	struct opts o;
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
	char pin[PIN_BUF];
	char pin2[PIN_BUF];
	char pin3[PIN_BUF];
};

static int env_module(struct env *e)
{
	return mssl_token_module_open(e->o.module, &e->m, e->err);
}

static int env_card(struct env *e)
{
	int rc = env_module(e);

	if (!rc)
		rc = mssl_token_open(e->m, e->o.token, &e->tok, e->err);
	return rc;
}

/*
 * Read one PIN into buf from fd (or the terminal); returns its length or
 * prints why not and returns the exit status, negated.
 */
static int ask(const char *prompt, int fd, char *buf)
{
	int n = mssl_token_read_pin(prompt, fd, buf, PIN_BUF);

	if (n >= 0)
		return n;
	if (n == MSSL_EINPUT)
		fprintf(stderr, "%s: %s\n", progname,
			_("No PIN given, or one longer than 63 characters."));
	else if (fd >= 0)
		fprintf(stderr, "%s: %s\n", progname,
			_("Cannot read a PIN from the file descriptor."));
	else
		fprintf(stderr, "%s: %s\n", progname,
			_("Cannot read a PIN: no terminal (use --pin-fd)."));
	return -EXIT_USAGE;
}

static char *prompt_for(const char *fmt, const struct mssl_token_info *ti)
{
	char *p = NULL;

	if (asprintf(&p, fmt, ti->label) < 0)
		return NULL;
	return p;
}

static void need_args(struct env *e, size_t n)
{
	if (e->o.n_pos > n)
		usage_error(_("unexpected argument \"%s\""), e->o.pos[n]);
}

/* ---- commands ------------------------------------------------------------ */

static void list_one(const struct mssl_token_info *ti, void *ud)
{
	size_t *n = ud;

	if ((*n)++)
		putchar('\n');
	print_card(ti);
}

static int cmd_list(struct env *e)
{
	size_t n = 0;
	int rc;

	need_args(e, 1);
	rc = env_module(e);
	if (!rc)
		rc = mssl_token_list(e->m, list_one, &n, e->err);
	if (rc)
		return fail(rc, e->err);
	if (n == 0)
		printf("%s\n", _("No card is present."));
	return 0;
}

/* The certificate's subject and expiry, when the card shows just one. */
static void print_cert(struct env *e)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d, dn = { NULL, 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	time_t until;
	char when[32];
	struct tm tm;

	if (mssl_token_cert(e->tok, &der, &len, NULL) != 0) {
		printf("%-14s %s\n", _("Certificate:"), _("none readable"));
		return;
	}
	d.data = der;
	d.size = (unsigned int)len;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0) {
		printf("%-14s %s\n", _("Certificate:"), _("not parsable"));
		goto out;
	}
	until = gnutls_x509_crt_get_expiration_time(crt);
	if (!gmtime_r(&until, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "?");
	printf("%-14s %s\n", _("Certificate:"), (const char *)dn.data);
	printf("%-14s %s\n", _("Valid until:"), when);
out:
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	free(der);
}

static int cmd_info(struct env *e)
{
	int rc;

	need_args(e, 1);
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	print_card(mssl_token_info(e->tok));
	print_cert(e);
	return 0;
}

static int login(struct env *e)
{
	char *prompt =
		prompt_for(_("PIN of card \"%s\": "), mssl_token_info(e->tok));
	int n, rc;

	n = ask(prompt ? prompt : "PIN: ", e->o.pin_fd, e->pin);
	free(prompt);
	if (n < 0)
		return -n;
	rc = mssl_token_login(e->tok, e->pin, (size_t)n, e->err);
	if (rc)
		return fail(rc, e->err);
	if ((size_t)n == strlen(MSSL_TOKEN_ISSUED_PIN) &&
	    memcmp(e->pin, MSSL_TOKEN_ISSUED_PIN, (size_t)n) == 0)
		printf("%s\n", _("This is still the issued PIN: change it "
				 "with 'mssl-card pin change'."));
	return 0;
}

static int cmd_login_test(struct env *e)
{
	int rc;

	need_args(e, 1);
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	rc = login(e);
	if (rc)
		return rc;
	printf("%s\n", _("PIN accepted."));
	printf("%-14s %s\n", _("PIN:"),
	       pin_state(mssl_token_info(e->tok)->flags));
	return 0;
}

static int cmd_sign_test(struct env *e)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d, s, k;
	uint8_t challenge[32], *sig = NULL, *spki = NULL;
	size_t sig_len = 0, spki_len = 0;
	int alg = 0, rc, r;

	need_args(e, 1);
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	rc = login(e);
	if (rc)
		return rc;
	if (gnutls_rnd(GNUTLS_RND_NONCE, challenge, sizeof(challenge)) < 0) {
		fprintf(stderr, "%s: %s\n", progname,
			_("No random numbers for a challenge."));
		return EXIT_REFUSED;
	}
	rc = mssl_token_sign(e->tok, challenge, sizeof(challenge), &sig,
			     &sig_len, &alg, e->err);
	if (!rc)
		rc = mssl_token_pubkey(e->tok, &spki, &spki_len, e->err);
	if (rc) {
		rc = fail(rc, e->err);
		goto out;
	}
	d.data = challenge;
	d.size = sizeof(challenge);
	s.data = sig;
	s.size = (unsigned int)sig_len;
	k.data = spki;
	k.size = (unsigned int)spki_len;
	r = gnutls_pubkey_init(&pub);
	if (r >= 0)
		r = gnutls_pubkey_import(pub, &k, GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_pubkey_verify_data2(
			pub, (gnutls_sign_algorithm_t)alg, 0, &d, &s);
	if (r < 0) {
		fprintf(stderr, "%s: %s (%s)\n", progname,
			_("The card's signature does not verify."),
			gnutls_strerror(r));
		rc = EXIT_REFUSED;
		goto out;
	}
	printf(_("Signature verified: %s, %zu bytes.\n"),
	       gnutls_sign_get_name((gnutls_sign_algorithm_t)alg), sig_len);
out:
	gnutls_pubkey_deinit(pub);
	free(sig);
	free(spki);
	return rc;
}

/* The new PIN twice, checked against the policy before the card sees it. */
static int ask_new_pin(struct env *e, size_t *len)
{
	int n, n2, rc;

	n = ask(_("New PIN: "), e->o.pin_fd, e->pin2);
	if (n < 0)
		return -n;
	rc = mssl_token_pin_check(e->pin2, (size_t)n, "new_pin", e->err);
	if (rc)
		return fail(rc, e->err);
	n2 = ask(_("New PIN again: "), e->o.pin_fd, e->pin3);
	if (n2 < 0)
		return -n2;
	if (n != n2 || memcmp(e->pin2, e->pin3, (size_t)n) != 0) {
		fprintf(stderr, "%s: %s\n", progname,
			_("The two new PINs differ; nothing was changed."));
		return EXIT_USAGE;
	}
	*len = (size_t)n;
	return 0;
}

static int cmd_pin_change(struct env *e)
{
	size_t new_len = 0;
	char *prompt;
	int n, rc;

	need_args(e, 2);
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	prompt = prompt_for(_("Current PIN of card \"%s\": "),
			    mssl_token_info(e->tok));
	n = ask(prompt ? prompt : "PIN: ", e->o.pin_fd, e->pin);
	free(prompt);
	if (n < 0)
		return -n;
	rc = ask_new_pin(e, &new_len);
	if (rc)
		return rc;
	rc = mssl_token_change_pin(e->tok, e->pin, (size_t)n, e->pin2, new_len,
				   e->err);
	if (rc)
		return fail(rc, e->err);
	printf("%s\n", _("PIN changed.  Log in again with the new PIN."));
	return 0;
}

static int cmd_pin_unblock(struct env *e)
{
	size_t new_len = 0;
	int n, rc;

	need_args(e, 2);
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	n = ask(_("SO PIN: "), e->o.so_pin_fd, e->pin);
	if (n < 0)
		return -n;
	rc = ask_new_pin(e, &new_len);
	if (rc)
		return rc;
	rc = mssl_token_unblock(e->tok, e->pin, (size_t)n, e->pin2, new_len,
				e->err);
	if (rc)
		return fail(rc, e->err);
	printf("%s\n", _("Card unblocked.  Log in with the new PIN."));
	return 0;
}

/*
 * The holder's unlock, against libmssl on this host: the code from the
 * unlock notice and a new PIN; the server releases the card's SO PIN
 * once, the card is unblocked with the new PIN.
 */
static int cmd_unlock(struct env *e)
{
	const char *conf = e->o.config;
	mssl_ctx *ctx = NULL;
	char code[PIN_BUF];
	size_t new_len = 0;
	int n, rc;

	need_args(e, 1);
	if (!e->o.account || !*e->o.account)
		usage_error(_("option --account is required"));
	if (!conf || !*conf)
		conf = getenv("MSSL_CONFIG");
	if (!conf || !*conf)
		conf = SYSCONFDIR "/mssl/mssl.conf";
	rc = env_card(e);
	if (rc)
		return fail(rc, e->err);
	n = mssl_token_read_pin(_("Unlock code from the notice: "),
				e->o.code_fd, code, sizeof(code));
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", progname,
			_("No unlock code given (type it or use --code-fd)."));
		return EXIT_USAGE;
	}
	rc = ask_new_pin(e, &new_len);
	if (rc) {
		gnutls_memset(code, 0, sizeof(code));
		return rc;
	}
	rc = mssl_ctx_open_file(conf, &ctx, e->err);
	if (rc == 0)
		rc = mssl_token_unlock_local(e->tok, ctx, e->o.account, code,
					     e->pin2, new_len, "local",
					     e->err);
	gnutls_memset(code, 0, sizeof(code));
	mssl_ctx_free(ctx);
	if (rc)
		return fail(rc, e->err);
	printf("%s\n", _("Card unlocked.  Log in with the new PIN."));
	return 0;
}

int main(int argc, char **argv)
{
	struct env e = { 0 };
	const char *dir, *cmd, *verb;
	int rc;

	setlocale(LC_ALL, "");
	dir = getenv("MSSL_LOCALEDIR");
	bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
	textdomain(PACKAGE);
	/* Our own messages say what failed; p11-kit's would repeat it. */
	p11_kit_be_quiet();

	e.o.pin_fd = -1;
	e.o.so_pin_fd = -1;
	e.o.code_fd = -1;
	parse(argc, argv, &e.o);
	if (!e.o.module || !*e.o.module)
		e.o.module = getenv("MSSL_CARD_MODULE");
	if (!e.o.module || !*e.o.module)
		e.o.module = "opensc-pkcs11";
	if (e.o.n_pos == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	e.err = mssl_error_new();
	if (!e.err) {
		fprintf(stderr, "%s: %s\n", progname, _("out of memory"));
		return EXIT_REFUSED;
	}
	cmd = e.o.pos[0];
	verb = e.o.n_pos > 1 ? e.o.pos[1] : "";
	if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&e);
	else if (strcmp(cmd, "info") == 0)
		rc = cmd_info(&e);
	else if (strcmp(cmd, "login-test") == 0)
		rc = cmd_login_test(&e);
	else if (strcmp(cmd, "sign-test") == 0)
		rc = cmd_sign_test(&e);
	else if (strcmp(cmd, "pin") == 0 && strcmp(verb, "change") == 0)
		rc = cmd_pin_change(&e);
	else if (strcmp(cmd, "pin") == 0 && strcmp(verb, "unblock") == 0)
		rc = cmd_pin_unblock(&e);
	else if (strcmp(cmd, "unlock") == 0)
		rc = cmd_unlock(&e);
	else
		usage_error(_("unknown command \"%s%s%s\""), cmd,
			    *verb ? " " : "", verb);

	gnutls_memset(e.pin, 0, sizeof(e.pin));
	gnutls_memset(e.pin2, 0, sizeof(e.pin2));
	gnutls_memset(e.pin3, 0, sizeof(e.pin3));
	mssl_token_free(e.tok);
	mssl_token_module_free(e.m);
	mssl_error_free(e.err);
	return rc;
}
