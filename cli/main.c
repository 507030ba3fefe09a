/*
 * mssl: the account user's command line client (mssl(1)).
 *
 * Talks to mssld's JSON API (/api/v1/) with a session opened by a card
 * login; prints human tables, or the server's JSON with --json.  Exit
 * status as mssl-admin(8): 0 done (or issuable), 1 refused or failed,
 * 2 unusable input or bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mssl.h"
#include "cmd.h"

static void usage(FILE *fp)
{
	fprintf(fp, "%s",
		_("Usage: mssl [OPTIONS] COMMAND [ARGS]\n"
		  "\n"
		  "Session:\n"
		  "  login --account ID        log in with your IC card\n"
		  "  logout                    end the session\n"
		  "  whoami                    who is logged in, with which role\n"
		  "\n"
		  "Account:\n"
		  "  home                      notices, balance, certificates by state\n"
		  "  account                   the account's details and agreed domains\n"
		  "  activity [--page N]       the ledger, newest first\n"
		  "\n"
		  "Certificates:\n"
		  "  certs [--cn S] [--domain D] [--state S] [--page N] [--csv FILE]\n"
		  "  cert SERIAL               one certificate\n"
		  "  check --csr FILE [--product P] [--years N]\n"
		  "                            dry run: names, findings, price\n"
		  "  issue --csr FILE [OPTIONS]  check, confirm, issue (asks for what\n"
		  "                            is not given: --years, --vendor,\n"
		  "                            --tech-name, --tech-email, --tech-phone,\n"
		  "                            --note, --seal-name, --passphrase-fd N)\n"
		  "  renew [SERIAL --csr FILE [OPTIONS]]\n"
		  "                            list renewable certificates, or renew one\n"
		  "  revoke [SERIAL --reason R]  list revocable certificates, or revoke one\n"
		  "  download SERIAL --format F [--out FILE]\n"
		  "                            F: pem, chain, der, p7b, vendor\n"
		  "\n"
		  "Card:\n"
		  "  pin change                change the card's PIN\n"
		  "  card unlock --account ID  unlock a locked card with the mailed code\n"
		  "\n"
		  "Options:\n"
		  "  --server URL      mssld's address (MSSL_SERVER, server = in the config)\n"
		  "  --ca-file FILE    CA certificates the server is checked with (MSSL_CA_FILE)\n"
		  "  --config FILE     client config (MSSL_CLIENT_CONFIG; default\n"
		  "                    ~/.config/mssl/config, section [client])\n"
		  "  --module M        the card's PKCS#11 module (MSSL_CARD_MODULE)\n"
		  "  --token URI       the card, as a pkcs11: URI (MSSL_CARD_TOKEN)\n"
		  "  --pin-fd N        read PINs and codes from descriptor N, not the terminal\n"
		  "  --json            print the server's JSON, for scripts\n"
		  "  --yes             do not ask for confirmation\n"
		  "  --help, --version\n"
		  "\n"
		  "Exit status: 0 done, 1 refused or failed, 2 unusable input.\n"));
}

static const struct cli_cmd commands[] = {
	{ "login", cmd_login },
	{ "logout", cmd_logout },
	{ "whoami", cmd_whoami },
	{ "home", cmd_home },
	{ "account", cmd_account },
	{ "activity", cmd_activity },
	{ "certs", cmd_certs },
	{ "cert", cmd_cert },
	{ "check", cmd_check },
	{ "issue", cmd_issue },
	{ "renew", cmd_renew },
	{ "revoke", cmd_revoke },
	{ "download", cmd_download },
	{ "pin", cmd_pin },
	{ "card", cmd_card },
};

int main(int argc, char **argv)
{
	enum { O_SERVER = 256, O_CA, O_CONFIG, O_MODULE, O_TOKEN, O_PIN_FD,
	       O_JSON, O_YES, O_HELP, O_VERSION };
	static const struct option global[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "ca-file", required_argument, NULL, O_CA },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "module", required_argument, NULL, O_MODULE },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "pin-fd", required_argument, NULL, O_PIN_FD },
		{ "json", no_argument, NULL, O_JSON },
		{ "yes", no_argument, NULL, O_YES },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c;
	const char *config = NULL, *dir, *lang;
	size_t i;
	int opt, rc;

	setlocale(LC_ALL, "");
	dir = getenv("MSSL_LOCALEDIR");
	bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
	memset(&c, 0, sizeof(c));
	c.pin_fd = -1;
	lang = getenv("LANGUAGE");
	if (!lang || !*lang)
		lang = setlocale(LC_MESSAGES, NULL);
	c.zh = lang && strncmp(lang, "zh", 2) == 0;

	/* Global options come before the command; "+" stops at it. */
	while ((opt = getopt_long(argc, argv, "+", global, NULL)) != -1) {
		switch (opt) {
		case O_SERVER:
			if (cli_setting_flag(&c.server, optarg) < 0)
				goto nomem;
			break;
		case O_CA:
			if (cli_setting_flag(&c.ca_file, optarg) < 0)
				goto nomem;
			break;
		case O_CONFIG:
			config = optarg;
			break;
		case O_MODULE:
			if (cli_setting_flag(&c.module, optarg) < 0)
				goto nomem;
			break;
		case O_TOKEN:
			if (cli_setting_flag(&c.token, optarg) < 0)
				goto nomem;
			break;
		case O_PIN_FD:
			c.pin_fd = cli_fd_number(optarg, "--pin-fd");
			if (c.pin_fd < 0) {
				rc = CLI_USAGE;
				goto out;
			}
			break;
		case O_JSON:
			c.json = true;
			break;
		case O_YES:
			c.assume_yes = true;
			break;
		case O_HELP:
			usage(stdout);
			rc = CLI_OK;
			goto out;
		case O_VERSION:
			printf("mssl %s\n", PACKAGE_VERSION);
			rc = CLI_OK;
			goto out;
		default:
			usage(stderr);
			rc = CLI_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		rc = CLI_USAGE;
		goto out;
	}
	rc = cli_settings_load(&c, config);
	if (rc)
		goto out;
	if (cli_http_init() < 0) {
		cli_err("%s", _("cannot start libcurl"));
		rc = CLI_REFUSED;
		goto out;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			/* The command parses its own options from argv[0]. */
			int cargc = argc - optind;
			char **cargv = argv + optind;

			optind = 0;
			rc = commands[i].run(&c, cargc, cargv);
			break;
		}
	}
	if (i == sizeof(commands) / sizeof(commands[0])) {
		cli_err(_("unknown command \"%s\"; see mssl --help"),
			argv[optind]);
		rc = CLI_USAGE;
	}
	cli_http_cleanup(&c);
	goto out;
nomem:
	cli_err("%s", _("out of memory"));
	rc = CLI_REFUSED;
out:
	cli_settings_free(&c);
	return rc;
}
