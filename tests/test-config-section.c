/*
 * Programs' own configuration sections (mssl_ctx_claim_section and the
 * getters): what mssld relies on to read [mssld] from mssl.conf.  Each
 * refusal must name the file, the line and the key, in both languages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"

static const char *const keys[] = { "port", "listen", "plain", NULL };

struct f {
	char *dir;
	mssl_ctx *ctx;
	mssl_error *err;
};

static int setup(void **state)
{
	struct f *f = calloc(1, sizeof(*f));

	f->dir = th_mkdtemp();
	f->err = mssl_error_new();
	assert_int_equal(mssl_ctx_new(&f->ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct f *f = *state;

	mssl_ctx_free(f->ctx);
	mssl_error_free(f->err);
	th_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Load the config with 'extra' after the store section. */
static int load(struct f *f, const char *extra)
{
	char *conf = th_write_config(f->dir, NULL, extra);
	int rc = mssl_ctx_load_config(f->ctx, conf, f->err);

	free(conf);
	return rc;
}

/* The error names file:line, [section] key, and says it in zh-TW too. */
static void names(struct f *f, const char *id, const char *where,
		  const char *text)
{
	const char *en = mssl_error_message(f->err, MSSL_LANG_EN);
	const char *zh = mssl_error_message(f->err, MSSL_LANG_ZH_TW);

	assert_string_equal(mssl_error_id(f->err), id);
	if (!strstr(en, where) || !strstr(zh, where) || !strstr(en, text))
		fail_msg("error lacks '%s' or '%s': %s / %s", where, text, en,
			 zh);
	assert_string_not_equal(en, zh);
}

static void test_unclaimed_refused(void **state)
{
	struct f *f = *state;

	assert_int_equal(load(f, "\n[mssld]\nport = 8443\n"), MSSL_ECONFIG);
	names(f, "config.unknown_section", "mssl.conf:8: [mssld]", "");
}

static void test_claimed_read(void **state)
{
	struct f *f = *state;
	int64_t n = 0;
	int b = -1;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys), 0);
	TH_RC(load(f, "\n[mssld]\nport = 8443\nplain = yes\n"), 0, f->err);
	assert_string_equal(mssl_ctx_config_get(f->ctx, "mssld", "port"),
			    "8443");
	assert_null(mssl_ctx_config_get(f->ctx, "mssld", "listen"));
	assert_non_null(strstr(mssl_ctx_config_path(f->ctx), "mssl.conf"));
	TH_RC(mssl_ctx_config_int(f->ctx, "mssld", "port", 1, 65535, 443, &n,
				  f->err),
	      0, f->err);
	assert_int_equal(n, 8443);
	TH_RC(mssl_ctx_config_int(f->ctx, "mssld", "listen", 1, 9, 7, &n,
				  f->err),
	      0, f->err);
	assert_int_equal(n, 7);
	TH_RC(mssl_ctx_config_bool(f->ctx, "mssld", "plain", 0, &b, f->err),
	      0, f->err);
	assert_int_equal(b, 1);
	assert_null(mssl_ctx_crl_file(f->ctx));
}

static void test_absent_section(void **state)
{
	struct f *f = *state;
	int64_t n = 0;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys), 0);
	TH_RC(load(f, NULL), 0, f->err);
	TH_RC(mssl_ctx_config_int(f->ctx, "mssld", "port", 1, 65535, 443, &n,
				  f->err),
	      0, f->err);
	assert_int_equal(n, 443);
}

static void test_unknown_key(void **state)
{
	struct f *f = *state;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys), 0);
	assert_int_equal(load(f, "\n[mssld]\nport = 1\nprot = 2\n"),
			 MSSL_ECONFIG);
	names(f, "config.unknown_key", "mssl.conf:10: [mssld] prot", "");
}

static void test_bad_values(void **state)
{
	struct f *f = *state;
	int64_t n = 0;
	int b = 0;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys), 0);
	TH_RC(load(f, "\n[mssld]\nport = 70000\nplain = maybe\nlisten = x\n"),
	      0, f->err);
	assert_int_equal(mssl_ctx_config_int(f->ctx, "mssld", "port", 1, 65535,
					     443, &n, f->err),
			 MSSL_ECONFIG);
	names(f, "config.range", "mssl.conf:9: [mssld] port", "1 to 65535");
	assert_int_equal(mssl_ctx_config_int(f->ctx, "mssld", "listen", 1, 2,
					     1, &n, f->err),
			 MSSL_ECONFIG);
	assert_int_equal(mssl_ctx_config_bool(f->ctx, "mssld", "plain", 0, &b,
					      f->err),
			 MSSL_ECONFIG);
	names(f, "config.bool", "mssl.conf:10: [mssld] plain", "yes or no");
	assert_int_equal(mssl_ctx_config_error(f->ctx, f->err, "mssld",
					       "listen", "mssld.listen",
					       "\"%s\" is not an address",
					       "x"),
			 MSSL_ECONFIG);
	assert_non_null(strstr(mssl_error_message(f->err, MSSL_LANG_EN),
			       "mssl.conf:11: [mssld] listen: \"x\" is not"));
}

static void test_claim_rules(void **state)
{
	struct f *f = *state;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssl", keys),
			 MSSL_EEXIST);
	assert_int_equal(mssl_ctx_claim_section(f->ctx, "issuance", keys),
			 MSSL_EEXIST);
	assert_int_equal(mssl_ctx_claim_section(f->ctx, "Bad Name", keys),
			 MSSL_EINVAL);
	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys), 0);
	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", keys),
			 MSSL_EEXIST);
	TH_RC(load(f, NULL), 0, f->err);
	assert_int_equal(mssl_ctx_claim_section(f->ctx, "other", keys),
			 MSSL_ESTATE);
}

/* Another program's section: accepted, its keys left to that program. */
static void test_foreign_section(void **state)
{
	struct f *f = *state;

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "mssld", NULL), 0);
	TH_RC(load(f, "\n[mssld]\nanything = 1\n"), 0, f->err);
	assert_string_equal(mssl_ctx_config_get(f->ctx, "mssld", "anything"),
			    "1");
}

/* A program may not take over a configured plugin's section. */
static void test_plugin_section(void **state)
{
	struct f *f = *state;
	static const char *const k[] = { "path", "synchronous", NULL };

	assert_int_equal(mssl_ctx_claim_section(f->ctx, "store-sqlite", k),
			 0);
	assert_int_equal(load(f, NULL), MSSL_ECONFIG);
	assert_string_equal(mssl_error_id(f->err), "config.claimed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unclaimed_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claimed_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_absent_section, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claim_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_section, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plugin_section, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
