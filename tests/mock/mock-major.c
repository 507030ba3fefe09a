/*
 * mock-major: a validator built for ABI 2.0 (another major).  The host
 * must refuse it, naming both versions: "plugin.abi_major".
 */
#include <mssl/plugin.h>

static int major_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static int major_check(void *state, const struct mssl_check *in,
		       struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops major_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct mssl_validator_ops),
	.check = major_check,
};

static const struct mssl_plugin major_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-major",
	.init = major_init,
	.ops = &major_ops,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &major_plugin;
}
