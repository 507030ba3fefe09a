/*
 * mock-minor: a validator built against a newer minor of the ABI than the
 * host's, whose struct mssl_plugin therefore has a member the host does
 * not know.  The host must refuse it: "plugin.abi_minor".
 */
#include <mssl/plugin.h>

/* struct mssl_plugin as a newer header would declare it. */
struct newer_plugin {
	struct mssl_plugin p;
	const void *future_member;
};

static int minor_init(const struct mssl_host *host, void *hctx, void **state)
{
	*state = NULL;
	return 0;
}

static int minor_check(void *state, const struct mssl_check *in,
		       struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops minor_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR + 1,
	.size = sizeof(struct mssl_validator_ops),
	.check = minor_check,
};

static const struct newer_plugin minor_plugin = {
	.p = {
		.abi_major = MSSL_PLUGIN_ABI_MAJOR,
		.abi_minor = MSSL_PLUGIN_ABI_MINOR + 1,
		.size = sizeof(struct newer_plugin),
		.kind = MSSL_PLUGIN_VALIDATOR,
		.name = "mock-minor",
		.init = minor_init,
		.ops = &minor_ops,
	},
	.future_member = &minor_ops,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &minor_plugin.p;
}
