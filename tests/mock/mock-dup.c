/*
 * mock-dup: a well-formed validator in file mock-dup.so that calls itself
 * "mock-good".  A plugin's name is its file's name, so that a section
 * [mock-good] or a "validators = mock-good" always means one file; the
 * host must refuse it: "plugin.name".
 */
#include <mssl/plugin.h>

static int dup_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static int dup_check(void *state, const struct mssl_check *in,
		     struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops dup_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = dup_check,
};

static const struct mssl_plugin dup_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	.name = "mock-good",
	.init = dup_init,
	.ops = &dup_ops,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &dup_plugin;
}
