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
