/*
 * mock-initfail: a validator whose init reports a failure through
 * host->error and returns MSSL_EIO, as one whose data file is missing
 * would.  Init and fini each append a line to the file named by its
 * 'marker' key, so that a test can see that fini never runs after a
 * failed init.
 */
#include <mssl/plugin.h>

#include <stdio.h>

/* The marker's path, kept where a wrongly called fini would find it. */
static char marker[4096];

static void mark(const char *what)
{
	FILE *fp;

	if (!marker[0])
		return;
	fp = fopen(marker, "a");
	if (!fp)
		return;
	fprintf(fp, "mock-initfail %s\n", what);
	fclose(fp);
}

static int initfail_init(const struct mssl_host *host, void *hctx, void **state)
{
	const char *v = host->config_get(hctx, "marker");

	snprintf(marker, sizeof(marker), "%s", v ? v : "");
	mark("init");
	*state = NULL;
	host->error(hctx, MSSL_EIO, "mock.initfail",
		    "the mock's data file /nonexistent/mock.dat is missing");
	return MSSL_EIO;
}

static void initfail_fini(void *state)
{
	mark("fini");
}

static int initfail_check(void *state, const struct mssl_check *in,
			  struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops initfail_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = initfail_check,
};

static const char *const initfail_keys[] = { "marker", NULL };

static const struct mssl_plugin initfail_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-initfail",
	.init = initfail_init,
	.fini = initfail_fini,
	.ops = &initfail_ops,
	.config_keys = initfail_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &initfail_plugin;
}
