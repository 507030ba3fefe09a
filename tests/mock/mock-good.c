/*
 * mock-good: a well-formed validator plugin for the loader tests.
 *
 * Config keys:
 *   marker  a file to which init and fini each append one line
 *           ("mock-good init", "mock-good fini"), so that a test can see
 *           from outside the process's memory how often each ran;
 *   level   optional, an integer from 1 to 9; anything else is reported
 *           through host->config_error and init fails.
 *
 * Its check records nothing.
 */
#include <mssl/plugin.h>

#include <stdio.h>
#include <stdlib.h>

struct state {
	const struct mssl_host *host;
	void *hctx;
	const char *marker; /* borrowed from the host's configuration */
	long level;
};

static void mark(const char *marker, const char *what)
{
	FILE *fp;

	if (!marker)
		return;
	fp = fopen(marker, "a");
	if (!fp)
		return;
	fprintf(fp, "mock-good %s\n", what);
	fclose(fp);
}

static int good_init(const struct mssl_host *host, void *hctx, void **out)
{
	struct state *st;
	const char *v;
	char *end = NULL;
	long level = 5;

	v = host->config_get(hctx, "level");
	if (v) {
		level = strtol(v, &end, 10);
		if (end == v || *end || level < 1 || level > 9)
			return host->config_error(
				hctx, "level",
				"\"%s\" is not a level from 1 to 9", v);
	}
	st = host->alloc(hctx, sizeof(*st));
	if (!st)
		return MSSL_ENOMEM;
	st->host = host;
	st->hctx = hctx;
	st->marker = host->config_get(hctx, "marker");
	st->level = level;
	mark(st->marker, "init");
	*out = st;
	return 0;
}

static void good_fini(void *state)
{
	struct state *st = state;

	mark(st->marker, "fini");
	st->host->free(st->hctx, st);
}

static int good_check(void *state, const struct mssl_check *in,
		      struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops good_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = good_check,
};

static const char *const good_keys[] = { "marker", "level", NULL };

static const struct mssl_plugin good_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-good",
	.version = "1",
	.description = "loader test: a well-formed validator",
	.init = good_init,
	.fini = good_fini,
	.ops = &good_ops,
	.config_keys = good_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &good_plugin;
}
