/*
 * mock-small: a validator that claims the host's ABI version but declares
 * a struct mssl_plugin that ends before config_keys, as one compiled
 * against a mis-edited header would.  The host must refuse it rather than
 * read members the plugin does not have: "plugin.size".
 */
#include <mssl/plugin.h>

static int small_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static int small_check(void *state, const struct mssl_check *in,
		       struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops small_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = small_check,
};

static const struct mssl_plugin small_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = offsetof(struct mssl_plugin, config_keys),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-small",
	.init = small_init,
	.ops = &small_ops,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &small_plugin;
}
