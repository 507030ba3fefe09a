/*
 * mssl's session and card commands: login, logout, whoami, pin change,
 * card unlock.  The card is reached through libmssl-token (any PKCS#11
 * module); the PIN never leaves this process, only the card's signature
 * over the login blob does.
 */
#include "config.h"

#include <getopt.h>
#include <libintl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "cmd.h"
#include "mssl/token.h"

/* Room for a PIN or code and the line end; longer input is refused. */
#define PIN_BUF 64

struct card {
	mssl_token_module *m;
	mssl_token *tok;
	mssl_error *err;
	char pin[PIN_BUF];
	size_t pin_len;
	char new_pin[PIN_BUF];
	size_t new_len;
};

static void card_close(struct card *k)
{
	if (k->tok)
		mssl_token_logout(k->tok);
	mssl_token_free(k->tok);
	mssl_token_module_free(k->m);
	mssl_error_free(k->err);
	gnutls_memset(k->pin, 0, sizeof(k->pin));
	gnutls_memset(k->new_pin, 0, sizeof(k->new_pin));
	memset(k, 0, sizeof(*k));
}

/* libmssl(-token)'s error, in the user's language; the exit status. */
static int lib_fail(struct cli *c, int rc, mssl_error *err)
{
	const char *msg = mssl_error_message(err, c->zh ? MSSL_LANG_ZH_TW :
							  MSSL_LANG_EN);

	if (!msg || !*msg)
		msg = mssl_strerror(rc);
	if (mssl_error_id(err)[0])
		cli_err("%s [%s]", msg, mssl_error_id(err));
	else
		cli_err("%s", msg);
	switch (rc) {
	case MSSL_EINPUT:
	case MSSL_EINVAL:
	case MSSL_ECONFIG:
	case MSSL_EUSAGE:
		return CLI_USAGE;
	default:
		return CLI_REFUSED;
	}
}

static int card_open(struct cli *c, struct card *k)
{
	int rc;

	memset(k, 0, sizeof(*k));
	if (!(k->err = mssl_error_new())) {
		cli_err("%s", _("out of memory"));
		return CLI_REFUSED;
	}
	rc = mssl_token_module_open(c->module.value, &k->m, k->err);
	if (rc == 0)
		rc = mssl_token_open(k->m, c->token.value, &k->tok, k->err);
	return rc ? lib_fail(c, rc, k->err) : 0;
}

/* Read a PIN (or code) into buf; 0 or the exit status. */
static int ask(struct cli *c, const char *prompt, char *buf, size_t *len)
{
	int n = mssl_token_read_pin(prompt, c->pin_fd, buf, PIN_BUF);

	if (n > 0) {
		*len = (size_t)n;
		return 0;
	}
	if (n == MSSL_EINPUT)
		cli_err("%s", _("nothing given, or more than 63 characters"));
	else if (c->pin_fd >= 0)
		cli_err("%s", _("cannot read from the --pin-fd descriptor"));
	else
		cli_err("%s", _("no terminal to ask on (use --pin-fd)"));
	return CLI_USAGE;
}

static int card_login(struct cli *c, struct card *k)
{
	char *prompt = NULL;
	int rc;

	if (asprintf(&prompt, _("PIN of card \"%s\": "),
		     mssl_token_info(k->tok)->label) < 0)
		prompt = NULL;
	rc = ask(c, prompt ? prompt : "PIN: ", k->pin, &k->pin_len);
	free(prompt);
	if (rc)
		return rc;
	rc = mssl_token_login(k->tok, k->pin, k->pin_len, k->err);
	return rc ? lib_fail(c, rc, k->err) : 0;
}

/* A new PIN twice, checked against the policy before the card sees it. */
static int ask_new_pin(struct cli *c, struct card *k)
{
	char again[PIN_BUF];
	size_t len2 = 0;
	int rc;

	rc = ask(c, _("New PIN (6 to 16 characters): "), k->new_pin,
		 &k->new_len);
	if (rc)
		return rc;
	rc = mssl_token_pin_check(k->new_pin, k->new_len, "new_pin", k->err);
	if (rc)
		return lib_fail(c, rc, k->err);
	rc = ask(c, _("New PIN again: "), again, &len2);
	if (rc == 0 && (len2 != k->new_len ||
			memcmp(again, k->new_pin, len2) != 0)) {
		cli_err("%s", _("the two new PINs differ; nothing was changed"));
		rc = CLI_USAGE;
	}
	gnutls_memset(again, 0, sizeof(again));
	return rc;
}

static json_t *b64(const uint8_t *data, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned int)len };
	gnutls_datum_t out = { NULL, 0 };
	json_t *j;

	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	j = json_stringn((const char *)out.data, out.size);
	gnutls_free(out.data);
	return j;
}

/*
 * A fresh challenge for 'account', signed on the (logged-in) card: the
 * login proof as the body mssld takes (account_id, origin, nonce, time,
 * cert, sig, sig_alg).  The origin is the server URL as this client
 * knows it, so a proof made for one server is useless at another.
 */
static int prove(struct cli *c, struct card *k, const char *account,
		 json_t **body)
{
	struct mssl_login_proof p;
	struct cli_resp r;
	gnutls_datum_t in, nonce = { NULL, 0 };
	uint8_t exporter[32];
	const char *n64, *origin;
	json_t *req;
	bool have = false;
	int rc;

	*body = NULL;
	req = json_pack("{s:s}", "account_id", account);
	rc = cli_request(c, "POST", "/api/v1/auth/challenge", req, NULL, NULL,
			 &r);
	json_decref(req);
	if (rc)
		return rc;
	if (r.status != 200) {
		rc = cli_fail(c, &r);
		goto out;
	}
	n64 = cli_str(r.json, "nonce");
	origin = cli_str(r.json, "origin");
	in.data = (unsigned char *)(n64 ? n64 : "");
	in.size = n64 ? (unsigned int)strlen(n64) : 0;
	if (!n64 || gnutls_base64_decode2(&in, &nonce) < 0 ||
	    nonce.size != MSSL_NONCE_LEN) {
		cli_err("%s", _("the server's challenge carries no valid nonce"));
		rc = CLI_REFUSED;
		goto out;
	}
	if (origin && strcmp(origin, c->server.value) != 0)
		cli_err(_("warning: the server calls itself %s but you connect to %s; the login will be refused unless they are the same (set server = %s)"),
			origin, c->server.value, origin);
	rc = cli_tls_exporter(c, exporter, &have);
	if (rc)
		goto out;
	memset(&p, 0, sizeof(p));
	p.origin = c->server.value;
	p.account_id = account;
	p.nonce = nonce.data;
	p.time = (int64_t)time(NULL);
	if (have) {
		p.tls_exporter = exporter;
		p.tls_exporter_len = sizeof(exporter);
	}
	rc = mssl_token_prove(k->tok, &p, k->err);
	if (rc) {
		rc = lib_fail(c, rc, k->err);
		goto out;
	}
	*body = json_pack("{s:s,s:s,s:o,s:I,s:o,s:o,s:i}", "account_id",
			  account, "origin", c->server.value, "nonce",
			  b64(nonce.data, nonce.size), "time",
			  (json_int_t)p.time, "cert", b64(p.cert, p.cert_len),
			  "sig", b64(p.sig, p.sig_len), "sig_alg", p.sig_alg);
	mssl_token_proof_clear(&p);
	if (!*body) {
		cli_err("%s", _("out of memory"));
		rc = CLI_REFUSED;
	}
out:
	gnutls_free(nonce.data);
	cli_resp_clear(&r);
	return rc;
}

/* The card's PIN change, then the server told with a fresh proof. */
static int change_pin(struct cli *c, struct card *k, const char *account)
{
	struct cli_resp r;
	json_t *body = NULL;
	int rc;

	rc = ask_new_pin(c, k);
	if (rc)
		return rc;
	rc = mssl_token_change_pin(k->tok, k->pin, k->pin_len, k->new_pin,
				   k->new_len, k->err);
	if (rc)
		return lib_fail(c, rc, k->err);
	/* The card logged out: in again with the new PIN, same process. */
	rc = mssl_token_login(k->tok, k->new_pin, k->new_len, k->err);
	if (rc)
		return lib_fail(c, rc, k->err);
	rc = prove(c, k, account, &body);
	if (rc)
		return rc;
	rc = cli_request(c, "POST", "/api/v1/card/pin-changed", body, NULL,
			 NULL, &r);
	json_decref(body);
	if (rc)
		return rc;
	if (r.status != 200) {
		cli_err("%s", _("the card's PIN was changed, but the server did not record it:"));
		rc = cli_fail(c, &r);
	} else {
		cli_session_forget(c);
		printf("%s\n", _("PIN changed.  Log in again with the new PIN (mssl login)."));
	}
	cli_resp_clear(&r);
	return rc;
}

/* "--account ID" (or [client] account) from a command's arguments. */
static int account_arg(struct cli *c, int argc, char **argv,
		       const char **account)
{
	static const struct option o[] = {
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	*account = c->account.value;
	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		if (opt != 'a') {
			cli_err(_("usage: mssl %s --account ID"), argv[0]);
			return CLI_USAGE;
		}
		*account = optarg;
	}
	if (optind < argc) {
		cli_err(_("%s: unexpected argument \"%s\""), argv[0],
			argv[optind]);
		return CLI_USAGE;
	}
	if (!*account || !**account) {
		cli_err(_("%s: the account is required (--account ID, or account = in [client])"),
			argv[0]);
		return CLI_USAGE;
	}
	return 0;
}

static void show_session(const json_t *j)
{
	json_t *person = json_object_get(j, "person"), *acc;
	json_t *menu = json_object_get(j, "menu"), *v;
	char buf[64];
	time_t t;
	size_t i;

	acc = json_object_get(j, "account");
	cli_kv(_("Account"), cli_str(acc, "id"));
	cli_kv(_("Person"), cli_str(person, "name"));
	cli_kv(_("Role"), cli_str(j, "role"));
	t = (time_t)json_integer_value(json_object_get(j, "expires"));
	if (t > 0 && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z",
			      localtime(&t)) > 0)
		cli_kv(_("Session ends"), buf);
	if (json_is_true(json_object_get(j, "pin_change_required")))
		cli_kv(_("Allowed"), _("only the PIN change (mssl pin change)"));
	else if (json_is_array(menu)) {
		char items[512];
		size_t len = 0;

		items[0] = '\0';
		json_array_foreach(menu, i, v)
			if (json_is_string(v) && len < sizeof(items))
				len += (size_t)snprintf(items + len,
							sizeof(items) - len,
							"%s%s", len ? " " : "",
							json_string_value(v));
		cli_kv(_("Allowed"), items);
	}
}

int cmd_login(struct cli *c, int argc, char **argv)
{
	struct card k;
	struct cli_resp r;
	const char *account, *token;
	json_t *body = NULL;
	int rc;

	rc = account_arg(c, argc, argv, &account);
	if (rc)
		return rc;
	rc = card_open(c, &k);
	if (rc)
		goto out;
	rc = card_login(c, &k);
	if (rc)
		goto out;
	rc = prove(c, &k, account, &body);
	if (rc)
		goto out;
	json_object_set_new(body, "session", json_string("bearer"));
	rc = cli_request(c, "POST", "/api/v1/auth/login", body, NULL, NULL,
			 &r);
	json_decref(body);
	if (rc)
		goto out;
	if (r.status != 200 || !(token = cli_str(r.json, "token"))) {
		rc = cli_fail(c, &r);
		cli_resp_clear(&r);
		goto out;
	}
	rc = cli_session_save(c, token);
	free(c->session);
	c->session = strdup(token);
	if (rc == 0 && c->json)
		cli_print_json(r.json);
	else if (rc == 0)
		show_session(r.json);
	if (rc == 0 &&
	    json_is_true(json_object_get(r.json, "pin_change_required"))) {
		/* SPEC §3.3: the issued PIN must be changed before anything. */
		printf("%s\n", _("This card still has its issued PIN: choose your own now."));
		rc = change_pin(c, &k, account);
	}
	cli_resp_clear(&r);
out:
	card_close(&k);
	return rc;
}

int cmd_logout(struct cli *c, int argc, char **argv)
{
	struct cli_resp r;
	int rc;

	(void)argv;
	if (argc > 1) {
		cli_err("%s", _("usage: mssl logout"));
		return CLI_USAGE;
	}
	if (!c->session) {
		printf("%s\n", _("Not logged in."));
		return CLI_OK;
	}
	rc = cli_request(c, "POST", "/api/v1/auth/logout", NULL, NULL, NULL,
			 &r);
	if (rc == 0 && r.status != 200 && r.status != 401)
		rc = cli_fail(c, &r);
	cli_resp_clear(&r);
	/* The token is forgotten here in any case. */
	if (cli_session_forget(c) == 0 && rc == 0)
		printf("%s\n", _("Logged out."));
	return rc;
}

static int show_me(struct cli *c, const json_t *j)
{
	(void)c;
	show_session(j);
	return 0;
}

int cmd_whoami(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cli_err("%s", _("usage: mssl whoami"));
		return CLI_USAGE;
	}
	return cli_get_show(c, "/api/v1/auth/me", show_me);
}

int cmd_pin(struct cli *c, int argc, char **argv)
{
	struct card k;
	struct cli_resp r;
	const char *account;
	int rc;

	if (argc != 2 || strcmp(argv[1], "change") != 0) {
		cli_err("%s", _("usage: mssl pin change"));
		return CLI_USAGE;
	}
	if (!c->session) {
		cli_err("%s", _("log in first (mssl login): the server records the PIN change for your session"));
		return CLI_REFUSED;
	}
	rc = cli_request(c, "GET", "/api/v1/auth/me", NULL, NULL, NULL, &r);
	if (rc)
		return rc;
	if (r.status != 200) {
		rc = cli_fail(c, &r);
		cli_resp_clear(&r);
		return rc;
	}
	account = cli_str(json_object_get(r.json, "account"), "id");
	rc = card_open(c, &k);
	if (rc == 0) {
		char *prompt = NULL;

		if (asprintf(&prompt, _("Current PIN of card \"%s\": "),
			     mssl_token_info(k.tok)->label) < 0)
			prompt = NULL;
		rc = ask(c, prompt ? prompt : "PIN: ", k.pin, &k.pin_len);
		free(prompt);
	}
	if (rc == 0)
		rc = change_pin(c, &k, account ? account : "");
	card_close(&k);
	cli_resp_clear(&r);
	return rc;
}

/* One step of the unlock (begin, done) with the code and card serial. */
static int unlock_step(struct cli *c, const char *step, const char *account,
		       const char *serial, const char *code,
		       struct cli_resp *r)
{
	char path[64];
	json_t *body = json_pack("{s:s,s:s,s:s}", "account_id", account,
				 "token_serial", serial, "code", code);
	int rc;

	snprintf(path, sizeof(path), "/api/v1/card/unlock/%s", step);
	rc = cli_request(c, "POST", path, body, NULL, NULL, r);
	json_decref(body);
	if (rc == 0 && r->status != 200) {
		rc = cli_fail(c, r);
		cli_resp_clear(r);
	}
	return rc;
}

int cmd_card(struct cli *c, int argc, char **argv)
{
	struct card k;
	struct cli_resp r;
	char code[PIN_BUF];
	size_t code_len = 0;
	const char *account, *so_pin, *serial;
	int rc;

	if (argc < 2 || strcmp(argv[1], "unlock") != 0) {
		cli_err("%s", _("usage: mssl card unlock --account ID"));
		return CLI_USAGE;
	}
	rc = account_arg(c, argc - 1, argv + 1, &account);
	if (rc)
		return rc;
	rc = card_open(c, &k);
	if (rc)
		goto out;
	serial = mssl_token_info(k.tok)->serial;
	rc = ask(c, _("Unlock code from the notice: "), code, &code_len);
	/* The new PIN is checked before the single-use code is spent. */
	if (rc == 0)
		rc = ask_new_pin(c, &k);
	if (rc == 0)
		rc = unlock_step(c, "begin", account, serial, code, &r);
	if (rc)
		goto out;
	so_pin = cli_str(r.json, "so_pin");
	if (!so_pin) {
		cli_err("%s", _("the server's answer carries no unblock key"));
		rc = CLI_REFUSED;
	} else {
		rc = mssl_token_unblock(k.tok, so_pin, strlen(so_pin), k.new_pin,
					k.new_len, k.err);
		if (rc)
			rc = lib_fail(c, rc, k.err);
	}
	if (so_pin)
		gnutls_memset((char *)so_pin, 0, strlen(so_pin));
	if (r.body)
		gnutls_memset(r.body, 0, r.body_len);
	cli_resp_clear(&r);
	if (rc == 0)
		rc = unlock_step(c, "done", account, serial, code, &r);
	if (rc == 0) {
		cli_resp_clear(&r);
		printf("%s\n", _("Card unlocked.  Log in with the new PIN."));
	}
out:
	gnutls_memset(code, 0, sizeof(code));
	card_close(&k);
	return rc;
}
