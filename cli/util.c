/* mssl's small helpers shared by the commands. */
#include "config.h"

#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int cli_fd_number(const char *s, const char *name)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX) {
		cli_err(_("%s: \"%s\" is not a file descriptor number"), name,
			s);
		return -1;
	}
	return (int)v;
}

int cli_get_show(struct cli *c, const char *path,
		 int (*show)(struct cli *c, const json_t *j))
{
	struct cli_resp r;
	int rc = cli_request(c, "GET", path, NULL, NULL, NULL, &r);

	if (rc)
		return rc;
	if (r.status != 200)
		rc = cli_fail(c, &r);
	else if (!r.json) {
		cli_err(_("the server's answer to %s is not JSON"), path);
		rc = CLI_REFUSED;
	} else if (c->json)
		cli_print_json(r.json);
	else
		rc = show(c, r.json);
	cli_resp_clear(&r);
	return rc;
}

bool cli_confirm(struct cli *c, const char *question)
{
	char line[16];

	if (c->assume_yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		cli_err("%s", _("confirmation needed but no terminal: add --yes to confirm"));
		return false;
	}
	printf("%s [y/N] ", question);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}
