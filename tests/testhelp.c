/* Helpers shared by the unit tests. */
#include "config.h"

#include "testhelp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *th_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = NULL;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (asprintf(&dir, "%s/mssl-test-XXXXXX", tmp) < 0)
		fail_msg("out of memory");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

void th_rmrf(const char *dir)
{
	if (!dir || !strstr(dir, "/mssl-test-"))
		return;
	th_system("rm -rf '%s'", dir);
}

char *th_write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *fp;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		fail_msg("out of memory");
	fp = fopen(path, "w");
	if (!fp)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, fp);
	fclose(fp);
	return path;
}

char *th_write_config(const char *dir, const char *store, const char *extra)
{
	const char *plugins = getenv("MSSL_PLUGIN_BUILDDIR");
	char *text = NULL, *path;
	int rc;

	if (!plugins)
		fail_msg("MSSL_PLUGIN_BUILDDIR is not set: run through make check");
	if (!store)
		store = "store-sqlite";
	/* Only the configured store may have a section of its own. */
	if (strcmp(store, "store-sqlite") == 0)
		rc = asprintf(&text,
			      "[mssl]\nplugin_dir = %s\nstore = %s\n\n"
			      "[store-sqlite]\npath = %s/mssl.db\n%s",
			      plugins, store, dir, extra ? extra : "");
	else
		rc = asprintf(&text, "[mssl]\nplugin_dir = %s\nstore = %s\n\n%s",
			      plugins, store, extra ? extra : "");
	if (rc < 0)
		fail_msg("out of memory");
	path = th_write_file(dir, "mssl.conf", text);
	free(text);
	return path;
}

mssl_ctx *th_ctx_open(const char *dir, const char *extra)
{
	char *conf = th_write_config(dir, NULL, extra);
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	int rc;

	rc = mssl_ctx_open_file(conf, &ctx, err);
	if (rc < 0)
		fail_msg("cannot open %s: %s: %s", conf, mssl_err_name(rc),
			 mssl_error_message(err, MSSL_LANG_EN));
	mssl_error_free(err);
	free(conf);
	return ctx;
}

mssl_actor *th_operator(void)
{
	return mssl_actor_new(MSSL_ROLE_OPERATOR, "test-op", NULL,
			      "local:test");
}

mssl_actor *th_manager(const char *account_id)
{
	return mssl_actor_new(MSSL_ROLE_MANAGER, "test-manager", account_id,
			      "192.0.2.10");
}

mssl_actor *th_auditor(const char *account_id)
{
	return mssl_actor_new(MSSL_ROLE_AUDITOR, "test-auditor", account_id,
			      "192.0.2.11");
}

void th_assert_rc(int rc, int expected, mssl_error *err, const char *expr,
		  const char *file, int line)
{
	if (rc == expected)
		return;
	print_error("%s:%d: %s returned %s, expected %s (%s: %s)\n", file, line,
		    expr, mssl_err_name(rc), mssl_err_name(expected),
		    err ? mssl_error_id(err) : "",
		    err ? mssl_error_message(err, MSSL_LANG_EN) : "");
	fail();
}

int th_system(const char *fmt, ...)
{
	va_list ap;
	char *cmd = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (rc < 0)
		fail_msg("out of memory");
	rc = system(cmd);
	free(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}
