/*
 * mock-nosym: a shared object with a complete validator descriptor that
 * does not export mssl_plugin_entry (its entry has a near-miss name), as
 * a library dropped into the plugin directory by mistake would.  The host
 * must refuse it: "plugin.symbol".
 */
#include <mssl/plugin.h>

static int nosym_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static const struct mssl_plugin nosym_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-nosym",
	.init = nosym_init,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry_v1(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry_v1(void)
{
	return &nosym_plugin;
}
