/*
 * mock-kind: a plugin of kind 99, which no host knows.  The host must
 * refuse it: "plugin.kind".
 */
#include <mssl/plugin.h>

static int kind_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static const struct mssl_plugin kind_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = 99,
	.name = "mock-kind",
	.init = kind_init,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &kind_plugin;
}
