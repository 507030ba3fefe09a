/*
 * mock-badops: a store whose descriptor is current but whose operations
 * struct is of ABI 2.0.  The host must check the ops header too and
 * refuse it: "plugin.ops_abi".  Its few operations work, so that a host
 * that wrongly accepts it fails a test instead of crashing.
 */
#include <mssl/plugin.h>

static int badops_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static int conn_dummy;

static int b_open(void *state, void **conn)
{
	*conn = &conn_dummy;
	return 0;
}

static void b_close(void *conn)
{
}

static int b_begin(void *conn, int mode)
{
	return 0;
}

static int b_done(void *conn)
{
	return 0;
}

static int b_schema_version(void *conn, int *version)
{
	*version = 1;
	return 0;
}

static const struct mssl_store_ops badops_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct mssl_store_ops),
	.open = b_open,
	.close = b_close,
	.begin = b_begin,
	.commit = b_done,
	.rollback = b_done,
	.schema_version = b_schema_version,
};

static const struct mssl_plugin badops_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_STORE,
	.name = "mock-badops",
	.init = badops_init,
	.ops = &badops_ops,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &badops_plugin;
}
