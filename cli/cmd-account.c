/* mssl's account commands: home, account, activity. */
#include "config.h"

#include <libintl.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static int show_account(struct cli *c, const json_t *j)
{
	json_t *v, *contacts = json_object_get(j, "contacts");
	struct cli_table *t;
	size_t i;

	(void)c;
	cli_kv(_("Account"), cli_str(j, "id"));
	cli_kv(_("Organisation"), cli_str(j, "org_name_en"));
	if (cli_str(j, "org_name_zh"))
		cli_kv(_("Organisation (zh)"), cli_str(j, "org_name_zh"));
	cli_kv(_("Status"), cli_str(j, "status"));
	cli_kv(_("Products"), cli_str(j, "products"));
	cli_kv_int(_("Balance (cert-years)"),
		   json_integer_value(json_object_get(j, "balance")));
	printf("%s\n", _("Agreed domains:"));
	json_array_foreach(json_object_get(j, "domains"), i, v)
		printf("  %s\n", json_string_value(v));
	if (!json_array_size(contacts))
		return 0;
	printf("%s\n", _("Contacts:"));
	{
		const char *heads[] = { _("KIND"), _("NAME"), _("E-MAIL"),
					_("PHONE") };

		t = cli_table_new(4, heads);
	}
	if (!t)
		return CLI_REFUSED;
	json_array_foreach(contacts, i, v) {
		const char *row[] = { cli_str(v, "kind"), cli_str(v, "name"),
				      cli_str(v, "email"), cli_str(v, "phone") };

		if (cli_table_row(t, row) < 0)
			break;
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	return 0;
}

int cmd_account(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cli_err("%s", _("usage: mssl account"));
		return CLI_USAGE;
	}
	return cli_get_show(c, "/api/v1/account", show_account);
}

static int show_home(struct cli *c, const json_t *j)
{
	json_t *certs = json_object_get(j, "certificates");
	json_t *exp = json_object_get(j, "expiring"), *v;
	char buf[64];
	size_t i;

	(void)c;
	json_array_foreach(json_object_get(j, "notices"), i, v) {
		day_of(json_object_get(v, "time"), buf, sizeof(buf));
		printf("[%s] %s\n", buf, cli_str(v, "title"));
		if (cli_str(v, "body"))
			printf("  %s\n", cli_str(v, "body"));
	}
	cli_kv_int(_("Balance (cert-years)"),
		   json_integer_value(json_object_get(j, "balance")));
	cli_kv_int(_("Issued"),
		   json_integer_value(json_object_get(certs, "issued")));
	cli_kv_int(_("Expired"),
		   json_integer_value(json_object_get(certs, "expired")));
	cli_kv_int(_("Revoked"),
		   json_integer_value(json_object_get(certs, "revoked")));
	cli_kv_int(_("Pending"),
		   json_integer_value(json_object_get(certs, "pending")));
	snprintf(buf, sizeof(buf), _("Expiring in %lld days"),
		 (long long)json_integer_value(json_object_get(exp, "days")));
	cli_kv_int(buf, json_integer_value(json_object_get(exp, "count")));
	return 0;
}

int cmd_home(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cli_err("%s", _("usage: mssl home"));
		return CLI_USAGE;
	}
	return cli_get_show(c, "/api/v1/home", show_home);
}

static int show_activity(struct cli *c, const json_t *j)
{
	const char *heads[] = { _("DATE"), _("KIND"), _("CHANGE"),
				_("BALANCE"), _("BY"), _("CERTIFICATE"),
				_("MEMO") };
	struct cli_table *t = cli_table_new(7, heads);
	json_t *v;
	size_t i;

	(void)c;
	if (!t)
		return CLI_REFUSED;
	json_array_foreach(json_object_get(j, "items"), i, v) {
		char when[32], delta[24], bal[24];
		const char *row[7];

		day_of(json_object_get(v, "time"), when, sizeof(when));
		snprintf(delta, sizeof(delta), "%+lld",
			 (long long)json_integer_value(
				 json_object_get(v, "delta")));
		snprintf(bal, sizeof(bal), "%lld",
			 (long long)json_integer_value(
				 json_object_get(v, "balance_after")));
		row[0] = when;
		row[1] = cli_str(v, "kind");
		row[2] = delta;
		row[3] = bal;
		row[4] = cli_str(v, "actor");
		row[5] = cli_str(v, "certificate");
		row[6] = cli_str(v, "memo");
		if (cli_table_row(t, row) < 0)
			break;
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	cli_more(j);
	return 0;
}

int cmd_activity(struct cli *c, int argc, char **argv)
{
	char path[96];
	long page = 1;

	if (argc == 3 && strcmp(argv[1], "--page") == 0) {
		if ((page = cli_positive(argv[2], "--page")) < 0)
			return CLI_USAGE;
	} else if (argc != 1) {
		cli_err("%s", _("usage: mssl activity [--page N]"));
		return CLI_USAGE;
	}
	snprintf(path, sizeof(path),
		 "/api/v1/account/activity?offset=%ld&limit=50",
		 (page - 1) * 50);
	return cli_get_show(c, path, show_activity);
}
