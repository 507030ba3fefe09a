/* mssl's commands: each parses its own arguments (argv[0] is its name). */
#ifndef MSSL_CLI_CMD_H
#define MSSL_CLI_CMD_H

#include "mssl.h"

struct cli_cmd {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
};

int cmd_login(struct cli *c, int argc, char **argv);
int cmd_logout(struct cli *c, int argc, char **argv);
int cmd_whoami(struct cli *c, int argc, char **argv);
int cmd_home(struct cli *c, int argc, char **argv);
int cmd_account(struct cli *c, int argc, char **argv);
int cmd_activity(struct cli *c, int argc, char **argv);
int cmd_certs(struct cli *c, int argc, char **argv);
int cmd_cert(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_issue(struct cli *c, int argc, char **argv);
int cmd_renew(struct cli *c, int argc, char **argv);
int cmd_revoke(struct cli *c, int argc, char **argv);
int cmd_download(struct cli *c, int argc, char **argv);
int cmd_pin(struct cli *c, int argc, char **argv);
int cmd_card(struct cli *c, int argc, char **argv);

/* util.c */
int cli_fd_number(const char *s, const char *name);
/* GET 'path' and print it: --json as is, else through 'show'. */
int cli_get_show(struct cli *c, const char *path,
		 int (*show)(struct cli *c, const json_t *j));
/* Ask a yes/no question on the terminal; --yes answers yes. */
bool cli_confirm(struct cli *c, const char *question);

/* A time (seconds, JSON integer) as YYYY-MM-DD (UTC), "-" when none. */
void day_of(json_t *t, char *buf, size_t size);
/* A number 1..1000000 from an option; -1 after saying why. */
long cli_positive(const char *s, const char *name);
/* "(more: add --page N)" under a page that has more after it. */
void cli_more(const json_t *j);

#endif
