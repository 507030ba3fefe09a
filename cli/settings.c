/*
 * mssl's settings and session file.
 *
 * Each setting comes from, in order: its flag, its environment variable,
 * the [client] section of the config file ($MSSL_CLIENT_CONFIG, or
 * $XDG_CONFIG_HOME/mssl/config, or ~/.config/mssl/config), a default.
 * The session token of the last login is kept beside the config file in
 * "session" (mode 0600, with the server it belongs to), so that one
 * login serves the following commands until logout or expiry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libintl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mssl.h"

struct load {
	struct cli *c;
	const char *path;
	FILE *fp;
	int line; /* of the line inih read last, for messages */
	int rc;
};

/* inih's line reader, counting lines (its handler is not told them). */
static char *reader(char *buf, int size, void *ud)
{
	struct load *l = ud;
	char *s = fgets(buf, size, l->fp);

	if (s)
		l->line++;
	return s;
}

static int set_from(struct cli_setting *s, const char *value)
{
	char *v;

	if (s->value || !value || !*value)
		return 0;
	if (!(v = strdup(value)))
		return -1;
	s->value = v;
	return 0;
}

int cli_setting_flag(struct cli_setting *s, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -1;
	free(s->value);
	s->value = v;
	return 0;
}

static int handler(void *ud, const char *section, const char *key,
		   const char *value)
{
	struct load *l = ud;
	int line = l->line;
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "server", offsetof(struct cli, server) },
		{ "ca_file", offsetof(struct cli, ca_file) },
		{ "module", offsetof(struct cli, module) },
		{ "token", offsetof(struct cli, token) },
		{ "account", offsetof(struct cli, account) },
	};
	size_t i;

	if (strcmp(section, "client") != 0) {
		cli_err(_("%s:%d: unknown section [%s]; mssl reads only [client]"),
			l->path, line, section);
		l->rc = CLI_USAGE;
		return 1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) == 0) {
			struct cli_setting *s =
				(void *)((char *)l->c + keys[i].off);

			/* Flags and environment were read first and win. */
			if (set_from(s, value) < 0)
				return 0;
			return 1;
		}
	}
	cli_err(_("%s:%d: unknown key \"%s\" in [client]; known: server, ca_file, module, token, account"),
		l->path, line, key);
	l->rc = CLI_USAGE;
	return 1;
}

static char *config_dir(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *d = NULL;

	if (x && *x == '/') {
		if (asprintf(&d, "%s/mssl", x) < 0)
			d = NULL;
	} else if (home && *home) {
		if (asprintf(&d, "%s/.config/mssl", home) < 0)
			d = NULL;
	}
	return d;
}

/* The session file: "server URL\ntoken\n"; a token for another server
 * is ignored. */
static int session_load(struct cli *c)
{
	char line[2][512];
	FILE *fp;
	size_t n;

	if (!c->session_path || !(fp = fopen(c->session_path, "re")))
		return 0;
	if (!fgets(line[0], sizeof(line[0]), fp) ||
	    !fgets(line[1], sizeof(line[1]), fp)) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	for (n = 0; n < 2; n++)
		line[n][strcspn(line[n], "\r\n")] = '\0';
	if (c->server.value && strcmp(line[0], c->server.value) == 0 &&
	    line[1][0] && !(c->session = strdup(line[1])))
		return -1;
	explicit_bzero(line, sizeof(line));
	return 0;
}

int cli_settings_load(struct cli *c, const char *config_flag)
{
	struct load l = { c, NULL, NULL, 0, 0 };
	char *dir = NULL;
	int r;

	set_from(&c->server, getenv("MSSL_SERVER"));
	set_from(&c->ca_file, getenv("MSSL_CA_FILE"));
	set_from(&c->module, getenv("MSSL_CARD_MODULE"));
	set_from(&c->token, getenv("MSSL_CARD_TOKEN"));
	set_from(&c->account, getenv("MSSL_ACCOUNT"));
	dir = config_dir();
	if (config_flag)
		c->config_path = strdup(config_flag);
	else if (getenv("MSSL_CLIENT_CONFIG"))
		c->config_path = strdup(getenv("MSSL_CLIENT_CONFIG"));
	else if (dir && asprintf(&c->config_path, "%s/config", dir) < 0)
		c->config_path = NULL;
	if (dir && asprintf(&c->session_path, "%s/session", dir) < 0)
		c->session_path = NULL;
	free(dir);
	if (c->config_path) {
		FILE *fp = fopen(c->config_path, "re");

		if (!fp && (errno != ENOENT || config_flag)) {
			cli_err(_("cannot read the config file %s: %s"),
				c->config_path, strerror(errno));
			return CLI_USAGE;
		}
		if (fp) {
			l.path = c->config_path;
			l.fp = fp;
			r = ini_parse_stream(reader, &l, handler, &l);
			fclose(fp);
			if (l.rc)
				return l.rc;
			if (r != 0) {
				cli_err(_("%s:%d: not a valid line (expected key = value under [client])"),
					c->config_path, r);
				return CLI_USAGE;
			}
		}
	}
	if (c->server.value) {
		/* One spelling per server: no trailing slash. */
		size_t n = strlen(c->server.value);

		while (n > 0 && c->server.value[n - 1] == '/')
			c->server.value[--n] = '\0';
	}
	if (session_load(c) < 0)
		return CLI_REFUSED;
	return 0;
}

static void setting_free(struct cli_setting *s)
{
	free(s->value);
	s->value = NULL;
}

void cli_settings_free(struct cli *c)
{
	setting_free(&c->server);
	setting_free(&c->ca_file);
	setting_free(&c->module);
	setting_free(&c->token);
	setting_free(&c->account);
	free(c->config_path);
	free(c->session_path);
	if (c->session) {
		explicit_bzero(c->session, strlen(c->session));
		free(c->session);
	}
	c->config_path = c->session_path = c->session = NULL;
}

static int mkdir_p(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int cli_session_save(struct cli *c, const char *token)
{
	char *tmp = NULL;
	int fd = -1, rc = CLI_REFUSED;
	FILE *fp = NULL;

	if (!c->session_path) {
		cli_err(_("cannot keep the session: neither HOME nor XDG_CONFIG_HOME is set"));
		return CLI_REFUSED;
	}
	if (asprintf(&tmp, "%s.tmp", c->session_path) < 0) {
		tmp = NULL;
		goto out;
	}
	if (mkdir_p(tmp) < 0)
		goto fail;
	/* Written whole to a private file, then renamed over the old one. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !(fp = fdopen(fd, "w")))
		goto fail;
	fd = -1;
	if (fprintf(fp, "%s\n%s\n", c->server.value, token) < 0 ||
	    fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		goto fail;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, c->session_path) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	cli_err(_("cannot keep the session in %s: %s"), c->session_path,
		strerror(errno));
	if (tmp)
		unlink(tmp);
out:
	if (fp)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}

int cli_session_forget(struct cli *c)
{
	if (c->session_path && unlink(c->session_path) < 0 && errno != ENOENT) {
		cli_err(_("cannot remove the session file %s: %s"),
			c->session_path, strerror(errno));
		return CLI_REFUSED;
	}
	return 0;
}
