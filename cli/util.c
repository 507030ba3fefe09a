/* mssl's small helpers shared by the commands. */
#include "config.h"

#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

void day_of(json_t *t, char *buf, size_t size)
{
	time_t v = (time_t)json_integer_value(t);

	if (!json_is_integer(t) || v <= 0 ||
	    strftime(buf, size, "%Y-%m-%d", gmtime(&v)) == 0)
		snprintf(buf, size, "-");
}

long cli_positive(const char *s, const char *name)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 1000000) {
		cli_err(_("%s: \"%s\" is not a number from 1 to 1000000"), name,
			s);
		return -1;
	}
	return v;
}

void cli_more(const json_t *j)
{
	json_int_t off = json_integer_value(json_object_get(j, "offset"));
	json_int_t lim = json_integer_value(json_object_get(j, "limit"));

	if (json_is_true(json_object_get(j, "has_more")) && lim > 0)
		printf(_("(more: add --page %lld)\n"),
		       (long long)(off / lim + 2));
}
