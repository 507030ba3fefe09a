/*
 * The plugin loader (libmssl/plugin.c) and the configuration path that
 * feeds it (libmssl/ctx.c, libmssl/conf.c).
 *
 * Mock plugins (tests/mock/, built into MOCK_PLUGIN_DIR) are broken one
 * way each; every refusal must be MSSL_EPLUGIN with a stable id and a
 * message naming the file and both ABI versions, must stop loading and
 * leave the context closed with every plugin loaded so far finalised.
 * mock-good, mock-store and mock-initfail append a line to a "marker" file
 * from init, fini and (the store) connection open/close, so the tests see
 * what ran, how often and in which order.  Built-ins defined here go
 * through the same checks.  Finally every real plugin of the build tree
 * ($MSSL_PLUGIN_BUILDDIR) must load.
 */
#include "internal.h"
#include "ctx.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhelp.h"

#ifndef MOCK_PLUGIN_DIR
#error "MOCK_PLUGIN_DIR must name the directory of the built mock plugins"
#endif

/* ---------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

struct fx {
	char *dir;
	char *marker; /* dir/marker: written by the mocks */
	char *conf; /* dir/mssl.conf */
	mssl_ctx *ctx;
	mssl_error *err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = th_mkdtemp();
	assert_true(asprintf(&f->marker, "%s/marker", f->dir) > 0);
	f->err = mssl_error_new();
	assert_non_null(f->err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mssl_ctx_free(f->ctx);
	mssl_error_free(f->err);
	th_rmrf(f->dir);
	free(f->dir);
	free(f->marker);
	free(f->conf);
	free(f);
	return 0;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		fail_msg("out of memory");
	return s;
}

static char *xasprintf(const char *fmt, ...) MSSL_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* Write f->dir/mssl.conf from a format; f->conf is its path. */
static void write_conf(struct fx *f, const char *fmt, ...) MSSL_PRINTF(2, 3);
static void write_conf(struct fx *f, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	free(f->conf);
	f->conf = th_write_file(f->dir, "mssl.conf", text);
	free(text);
}

/*
 * A configuration with the mock store (and its marker) and 'validators'
 * (may be NULL), followed by 'extra' verbatim.
 */
static void write_mock_conf(struct fx *f, const char *validators,
			    const char *extra)
{
	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n%s%s\n\n"
		   "[mock-store]\nmarker = %s\n\n%s",
		   MOCK_PLUGIN_DIR, validators ? "validators = " : "",
		   validators ? validators : "", f->marker, extra ? extra : "");
}

/* mssl_ctx_new and mssl_ctx_load_config(f->conf). */
static int load_conf(struct fx *f)
{
	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	mssl_error_clear(f->err);
	assert_int_equal(mssl_ctx_new(&f->ctx), 0);
	return mssl_ctx_load_config(f->ctx, f->conf, f->err);
}

/* load_conf, which must succeed, then mssl_ctx_open. */
static int open_conf(struct fx *f)
{
	TH_RC(load_conf(f), 0, f->err);
	return mssl_ctx_open(f->ctx, f->err);
}

/* Contents of the marker file; "" when no mock wrote it.  Caller frees. */
static char *marker(const struct fx *f)
{
	char buf[4096];
	size_t n = 0;
	FILE *fp;

	fp = fopen(f->marker, "r");
	if (!fp) {
		if (errno != ENOENT)
			fail_msg("%s: %s", f->marker, strerror(errno));
		return strdup("");
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strdup(buf);
}

static void assert_marker(const struct fx *f, const char *expected)
{
	char *m = marker(f);

	if (strcmp(m, expected) != 0)
		fail_msg("marker file holds:\n%s-- expected:\n%s--", m,
			 expected);
	free(m);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The ABI of plugins built against this header, as messages print it. */
#define ABI_STR2(x) #x
#define ABI_STR(x) ABI_STR2(x)
#define CUR_ABI                                                              \
	ABI_STR(MSSL_PLUGIN_ABI_MAJOR) "." ABI_STR(MSSL_PLUGIN_ABI_MINOR)

/* The host's ABI version as messages print it ("1.1"). */
static const char *host_abi(void)
{
	static char v[32];

	snprintf(v, sizeof(v), "%d.%d", MSSL_PLUGIN_ABI_MAJOR,
		 MSSL_PLUGIN_ABI_MINOR);
	return v;
}

/* rc and err are 'code' with stable id 'id'; prints the error if not. */
static void expect_error(int rc, const mssl_error *err, int code,
			 const char *id)
{
	if (rc != code || mssl_error_code(err) != code ||
	    strcmp(mssl_error_id(err), id) != 0)
		fail_msg("expected %s [%s], got %s (err %s) [%s]: %s",
			 mssl_err_name(code), id, mssl_err_name(rc),
			 mssl_err_name(mssl_error_code(err)),
			 mssl_error_id(err),
			 mssl_error_message(err, MSSL_LANG_EN));
}

static void expect_text(const mssl_error *err, const char *text)
{
	const char *en = mssl_error_message(err, MSSL_LANG_EN);
	const char *zh = mssl_error_message(err, MSSL_LANG_ZH_TW);

	if (!strstr(en, text))
		fail_msg("message does not show \"%s\": %s", text, en);
	if (!strstr(zh, text))
		fail_msg("zh message does not show \"%s\": %s", text, zh);
}

/*
 * A plugin refusal: MSSL_EPLUGIN, 'id', and a message (in both languages)
 * naming 'origin' (the file, or "built-in"), the plugin's ABI version
 * 'pver' (NULL when it has none: no entry symbol, no file) and the host's.
 */
static void expect_refusal(int rc, const mssl_error *err, const char *id,
			   const char *origin, const char *pver)
{
	const char *en = mssl_error_message(err, MSSL_LANG_EN);

	expect_error(rc, err, MSSL_EPLUGIN, id);
	expect_text(err, origin);
	expect_text(err, host_abi());
	if (pver && strcmp(pver, host_abi()) == 0) {
		if (count(en, pver) < 2)
			fail_msg("message does not give both versions (%s): %s",
				 pver, en);
	} else if (pver) {
		expect_text(err, pver);
	}
}

/* After a failed open: not open, no store, no plugin left loaded. */
static void assert_not_open(mssl_ctx *ctx)
{
	const struct mssl_store_ops *ops = NULL;
	void *st = NULL;

	assert_false(ctx->open);
	assert_null(ctx->plugins);
	assert_null(ctx->store);
	assert_int_equal(mssl__ctx_store(ctx, &ops, &st), MSSL_ESTATE);
}

static char *mock_path(const char *name)
{
	return xasprintf("%s/%s.so", MOCK_PLUGIN_DIR, name);
}

/* ---------------------------------------------------------------------
 * A good plugin: load order, config, fini once in reverse order
 * ------------------------------------------------------------------ */

static void test_good_loads(void **state)
{
	struct fx *f = *state;
	struct mssl__plugin *pl;
	char *path = mock_path("mock-good");
	char *extra =
		xasprintf("[mock-good]\nmarker = %s\nlevel = 7\n", f->marker);

	write_mock_conf(f, "mock-good", extra);
	TH_RC(open_conf(f), 0, f->err);
	assert_true(f->ctx->open);

	pl = f->ctx->plugins;
	assert_non_null(pl);
	assert_string_equal(pl->p->name, "mock-store");
	assert_ptr_equal(f->ctx->store, pl);
	pl = pl->next;
	assert_non_null(pl);
	assert_string_equal(pl->p->name, "mock-good");
	assert_string_equal(pl->origin, path);
	assert_non_null(pl->dl);
	assert_true(pl->initialised);
	assert_null(pl->next);

	/* Store, then validators, then one connection to check the schema. */
	assert_marker(f, "mock-store init\nmock-good init\nmock-store open\n");

	/* fini exactly once each, in reverse load order, after the pool. */
	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	assert_marker(f, "mock-store init\nmock-good init\nmock-store open\n"
			 "mock-store close\nmock-good fini\nmock-store fini\n");
	free(path);
	free(extra);
}

/* A section for a plugin that declares config keys is optional. */
static void test_good_without_section(void **state)
{
	struct fx *f = *state;

	write_mock_conf(f, "mock-good", NULL);
	TH_RC(open_conf(f), 0, f->err);
	assert_non_null(f->ctx->plugins->next);
	assert_string_equal(f->ctx->plugins->next->p->name, "mock-good");
	/* No marker key: mock-good wrote nothing. */
	assert_marker(f, "mock-store init\nmock-store open\n");
}

/* ---------------------------------------------------------------------
 * 1. Each broken mock is refused; loading stops; the ctx stays closed
 * ------------------------------------------------------------------ */

struct refusal {
	const char *name;
	bool as_store; /* configured as the store instead of a validator */
	const char *id;
	const char *pver; /* the plugin's ABI as printed; NULL: none */
	const char *shown; /* also in the message; may be NULL */
};

static void test_broken_mocks(void **state)
{
	struct fx *f = *state;
	char newer[32];
	const struct refusal cases[] = {
		{ "mock-nosym", false, "plugin.symbol", NULL,
		  MSSL_PLUGIN_ENTRY_SYMBOL },
		{ "mock-major", false, "plugin.abi_major", "2.0", NULL },
		{ "mock-minor", false, "plugin.abi_minor", newer, NULL },
		{ "mock-small", false, "plugin.size", CUR_ABI, NULL },
		{ "mock-kind", false, "plugin.kind", CUR_ABI, "99" },
		{ "mock-dup", false, "plugin.name", CUR_ABI, "mock-good" },
		{ "mock-initfail", false, "plugin.init", CUR_ABI,
		  "/nonexistent/mock.dat is missing" },
		{ "mock-absent", false, "plugin.open", NULL, NULL },
		{ "mock-badops", true, "plugin.ops_abi", "2.0", NULL },
		{ "mock-good", true, "plugin.wrong_kind", CUR_ABI, "validator" },
	};
	size_t i;

	snprintf(newer, sizeof(newer), "%d.%d", MSSL_PLUGIN_ABI_MAJOR,
		 MSSL_PLUGIN_ABI_MINOR + 1);
	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		const struct refusal *c = &cases[i];
		char *path = mock_path(c->name);
		int rc;

		print_message("# %s\n", c->name);
		unlink(f->marker);
		if (c->as_store)
			write_conf(f, "[mssl]\nplugin_dir = %s\nstore = %s\n",
				   MOCK_PLUGIN_DIR, c->name);
		else
			write_mock_conf(f, c->name, NULL);
		rc = open_conf(f);
		expect_refusal(rc, f->err, c->id, path, c->pver);
		if (c->shown)
			expect_text(f->err, c->shown);
		assert_not_open(f->ctx);
		/* The store, loaded first, was finalised again. */
		assert_marker(f, c->as_store ?
					 "" :
					 "mock-store init\nmock-store fini\n");
		free(path);
	}
}

/* Loading stops at the first refusal; those before it are finalised. */
static void test_loading_stops(void **state)
{
	struct fx *f = *state;
	char *extra = xasprintf("[mock-good]\nmarker = %s\n", f->marker);

	write_mock_conf(f, "mock-major, mock-good", extra);
	expect_error(open_conf(f), f->err, MSSL_EPLUGIN, "plugin.abi_major");
	assert_not_open(f->ctx);
	assert_marker(f, "mock-store init\nmock-store fini\n");

	unlink(f->marker);
	write_mock_conf(f, "mock-good, mock-major", extra);
	expect_error(open_conf(f), f->err, MSSL_EPLUGIN, "plugin.abi_major");
	assert_not_open(f->ctx);
	assert_marker(f, "mock-store init\nmock-good init\n"
			 "mock-good fini\nmock-store fini\n");

	/* Freeing the context finalises nothing twice. */
	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	assert_marker(f, "mock-store init\nmock-good init\n"
			 "mock-good fini\nmock-store fini\n");
	free(extra);
}

/* 6. A plugin whose init failed is never finalised. */
static void test_initfail_no_fini(void **state)
{
	struct fx *f = *state;
	char *extra = xasprintf("[mock-initfail]\nmarker = %s\n", f->marker);

	write_mock_conf(f, "mock-initfail", extra);
	expect_error(open_conf(f), f->err, MSSL_EPLUGIN, "plugin.init");
	assert_not_open(f->ctx);
	assert_marker(f, "mock-store init\nmock-initfail init\n"
			 "mock-store fini\n");
	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	assert_marker(f, "mock-store init\nmock-initfail init\n"
			 "mock-store fini\n");
	free(extra);
}

/*
 * Duplicate names.  A name is a file name in one directory, and built-ins
 * shadow files, so the only way to meet one name twice is to ask for it
 * twice: listed twice, or loaded again while loaded.  The second is
 * refused, naming where the first came from.
 */
static void test_duplicate_name(void **state)
{
	struct fx *f = *state;
	char *path = mock_path("mock-good");
	char *extra = xasprintf("[mock-good]\nmarker = %s\n", f->marker);
	struct mssl__plugin *pl = NULL;

	write_mock_conf(f, "mock-good, mock-good", extra);
	expect_refusal(open_conf(f), f->err, "plugin.duplicate", path, CUR_ABI);
	/* The file is named twice: as the refused one and the loaded one. */
	assert_int_equal(count(mssl_error_message(f->err, MSSL_LANG_EN), path),
			 2);
	assert_not_open(f->ctx);
	assert_marker(f, "mock-store init\nmock-good init\n"
			 "mock-good fini\nmock-store fini\n");

	/* The loader itself, without mssl_ctx_open. */
	unlink(f->marker);
	write_mock_conf(f, "mock-good", extra);
	TH_RC(load_conf(f), 0, f->err);
	TH_RC(mssl__plugin_load(f->ctx, "mock-good", MSSL_PLUGIN_VALIDATOR, &pl,
				f->err),
	      0, f->err);
	assert_non_null(pl);
	pl = (void *)1;
	expect_refusal(mssl__plugin_load(f->ctx, "mock-good", 0, &pl, f->err),
		       f->err, "plugin.duplicate", path, CUR_ABI);
	assert_null(pl);
	assert_non_null(f->ctx->plugins);
	assert_null(f->ctx->plugins->next);
	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	assert_marker(f, "mock-good init\nmock-good fini\n");
	free(path);
	free(extra);
}

/*
 * Kind 0 ("any", as mssl-admin's plugin check uses) must not skip the
 * checks of the operations struct: mock-badops's ops are of ABI 2.0.
 */
static void test_any_kind_checks_ops(void **state)
{
	struct fx *f = *state;
	struct mssl__plugin *pl = NULL;
	char *path = mock_path("mock-badops");

	write_conf(f, "[mssl]\nplugin_dir = %s\nstore = mock-badops\n",
		   MOCK_PLUGIN_DIR);
	TH_RC(load_conf(f), 0, f->err);
	expect_refusal(mssl__plugin_load(f->ctx, "mock-badops", 0, &pl, f->err),
		       f->err, "plugin.ops_abi", path, "2.0");
	assert_null(pl);
	assert_null(f->ctx->plugins);
	free(path);
}

/* ---------------------------------------------------------------------
 * 2, 3. The plugin's section: unknown keys, bad values
 * ------------------------------------------------------------------ */

/* err is MSSL_ECONFIG 'id' about 'key', its message "<conf>:<line>: ". */
static void expect_config_error(const struct fx *f, int rc, const char *id,
				int line, const char *key)
{
	char *pre = xasprintf("%s:%d: ", f->conf, line);
	const char *en = mssl_error_message(f->err, MSSL_LANG_EN);
	const char *zh = mssl_error_message(f->err, MSSL_LANG_ZH_TW);

	expect_error(rc, f->err, MSSL_ECONFIG, id);
	if (strncmp(en, pre, strlen(pre)) != 0)
		fail_msg("message does not begin with \"%s\": %s", pre, en);
	if (strncmp(zh, pre, strlen(pre)) != 0)
		fail_msg("zh message does not begin with \"%s\": %s", pre, zh);
	if (key) {
		if (!mssl_error_field(f->err) ||
		    strcmp(mssl_error_field(f->err), key) != 0)
			fail_msg("field is %s, expected %s",
				 mssl_error_field(f->err) ?
					 mssl_error_field(f->err) :
					 "(none)",
				 key);
		expect_text(f->err, key);
	}
	free(pre);
}

static void test_plugin_unknown_key(void **state)
{
	struct fx *f = *state;

	/* Lines: 1 [mssl], 2-4 keys, 5 blank, 6 [mock-store], 7 marker,
	 * 8 blank, 9 [mock-good], 10 marker, 11 colour. */
	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\n\n"
		   "[mock-store]\nmarker = %s\n\n"
		   "[mock-good]\nmarker = %s\ncolour = blue\n",
		   MOCK_PLUGIN_DIR, f->marker, f->marker);
	expect_config_error(f, open_conf(f), "config.unknown_key", 11,
			    "colour");
	expect_text(f->err, "[mock-good] colour");
	assert_not_open(f->ctx);
	/* mock-good's init never ran. */
	assert_marker(f, "mock-store init\nmock-store fini\n");
}

static void test_plugin_bad_value(void **state)
{
	struct fx *f = *state;

	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\n\n"
		   "[mock-store]\nmarker = %s\n\n"
		   "[mock-good]\nmarker = %s\n\nlevel = eleven\n",
		   MOCK_PLUGIN_DIR, f->marker, f->marker);
	expect_config_error(f, open_conf(f), "config.plugin_value", 12,
			    "level");
	expect_text(f->err, "[mock-good] level");
	expect_text(f->err, "\"eleven\" is not a level from 1 to 9");
	assert_not_open(f->ctx);
	/* init failed before its own marker line; no fini. */
	assert_marker(f, "mock-store init\nmock-store fini\n");
}

/* ---------------------------------------------------------------------
 * 4. Plugins load by name from the plugin directory only
 * ------------------------------------------------------------------ */

static void test_bad_names(void **state)
{
	struct fx *f = *state;
	char *abs = xasprintf("%s/mock-good", MOCK_PLUGIN_DIR);
	const char *names[] = {
		"../mock/mock-good",
		"../../tests/mock/.libs/mock-good",
		abs,
		"mock-good.so",
		"..",
		".",
		"sub/mock-good",
		"Mock-Good",
		"mock good",
		"",
	};
	struct mssl__plugin *pl;
	size_t i;

	write_mock_conf(f, NULL, NULL);
	TH_RC(load_conf(f), 0, f->err);
	for (i = 0; i < MSSL_ARRAY_SIZE(names); i++) {
		print_message("# \"%s\"\n", names[i]);
		pl = (void *)1;
		expect_error(mssl__plugin_load(f->ctx, names[i], 0, &pl,
					       f->err),
			     f->err, MSSL_EPLUGIN, "plugin.bad_name");
		assert_null(pl);
		if (names[i][0])
			expect_text(f->err, names[i]);
	}
	assert_null(f->ctx->plugins);

	/* The same through the configuration. */
	write_mock_conf(f, "../mock/mock-good", NULL);
	expect_error(open_conf(f), f->err, MSSL_EPLUGIN, "plugin.bad_name");
	expect_text(f->err, "../mock/mock-good");
	assert_not_open(f->ctx);
	free(abs);
}

static void test_outside_plugin_dir(void **state)
{
	struct fx *f = *state;
	char *pdir = xasprintf("%s/plugins", f->dir);
	char *inside = xasprintf("%s/mock-good.so", pdir);
	char *outside = xasprintf("%s/outside/mock-good", f->dir);
	const char *names[] = { "../outside/mock-good", outside };
	struct mssl__plugin *pl = NULL;
	size_t i;

	/* plugins/ holds only a link to mock-store; outside/ a mock-good. */
	assert_int_equal(th_system("mkdir '%s' '%s/outside' && "
				   "ln -s '%s/mock-store.so' '%s/' && "
				   "cp '%s/mock-good.so' '%s/outside/'",
				   pdir, f->dir, MOCK_PLUGIN_DIR, pdir,
				   MOCK_PLUGIN_DIR, f->dir),
			 0);
	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\n\n"
		   "[mock-good]\nmarker = %s\n",
		   pdir, f->marker);
	TH_RC(load_conf(f), 0, f->err);

	/* A link in the plugin directory is followed (as in the build). */
	TH_RC(mssl__plugin_load(f->ctx, "mock-store", MSSL_PLUGIN_STORE, &pl,
				f->err),
	      0, f->err);
	assert_non_null(pl);

	/* By its own name it is looked for in the plugin directory only. */
	expect_refusal(mssl__plugin_load(f->ctx, "mock-good", 0, &pl, f->err),
		       f->err, "plugin.open", inside, NULL);
	assert_null(pl);
	for (i = 0; i < MSSL_ARRAY_SIZE(names); i++) {
		expect_error(mssl__plugin_load(f->ctx, names[i], 0, &pl,
					       f->err),
			     f->err, MSSL_EPLUGIN, "plugin.bad_name");
		assert_null(pl);
	}
	assert_marker(f, "");

	/* And mssl_ctx_open does not find it either. */
	expect_refusal(open_conf(f), f->err, "plugin.open", inside, NULL);
	assert_not_open(f->ctx);
	assert_marker(f, "");
	free(pdir);
	free(inside);
	free(outside);
}

/* ---------------------------------------------------------------------
 * 5. Built-ins go through the same checks
 * ------------------------------------------------------------------ */

static int bi_init_calls, bi_fini_calls;
static char bi_greeting[64];

static void bi_reset(void)
{
	bi_init_calls = 0;
	bi_fini_calls = 0;
	bi_greeting[0] = '\0';
}

static int bi_init(const struct mssl_host *host, void *hctx, void **state)
{
	const char *g = host->config_get(hctx, "greeting");

	bi_init_calls++;
	snprintf(bi_greeting, sizeof(bi_greeting), "%s", g ? g : "");
	*state = &bi_init_calls;
	return 0;
}

static int bi_init_fails(const struct mssl_host *host, void *hctx, void **state)
{
	bi_init_calls++;
	*state = &bi_init_calls;
	host->error(hctx, MSSL_ENOMEM, "bi.nomem", "built-in ran out of %s",
		    "memory");
	return MSSL_ENOMEM;
}

static void bi_fini(void *state)
{
	assert_ptr_equal(state, &bi_init_calls);
	bi_fini_calls++;
}

static int bi_check(void *state, const struct mssl_check *in,
		    struct mssl_findings *out)
{
	return 0;
}

static const struct mssl_validator_ops bi_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = bi_check,
};

/* Operations of an older, smaller layout than their version claims. */
static const struct mssl_validator_ops bi_small_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = offsetof(struct mssl_validator_ops, check),
	.check = bi_check,
};

/* Operations of the right size with one left out. */
static const struct mssl_validator_ops bi_null_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = NULL,
};

static const char *const bi_keys[] = { "greeting", NULL };

#define BI_PLUGIN(var, nm, major, ini, ops_)                                   \
	static const struct mssl_plugin var = {                                \
		.abi_major = (major),                                          \
		.abi_minor = 0,                                                \
		.size = sizeof(struct mssl_plugin),                            \
		.kind = MSSL_PLUGIN_VALIDATOR,                                 \
		.name = (nm),                                                  \
		.init = (ini),                                                 \
		.fini = bi_fini,                                               \
		.ops = (ops_),                                                 \
		.config_keys = bi_keys,                                        \
	};                                                                     \
	static const struct mssl_plugin *var##_entry(void)                     \
	{                                                                      \
		return &var;                                                   \
	}

BI_PLUGIN(bi_good, "bi-good", MSSL_PLUGIN_ABI_MAJOR, bi_init, &bi_ops)
BI_PLUGIN(bi_major, "bi-major", MSSL_PLUGIN_ABI_MAJOR + 1, bi_init, &bi_ops)
BI_PLUGIN(bi_initfail, "bi-initfail", MSSL_PLUGIN_ABI_MAJOR, bi_init_fails,
	  &bi_ops)
BI_PLUGIN(bi_noops, "bi-noops", MSSL_PLUGIN_ABI_MAJOR, bi_init, NULL)
BI_PLUGIN(bi_smallops, "bi-smallops", MSSL_PLUGIN_ABI_MAJOR, bi_init,
	  &bi_small_ops)
BI_PLUGIN(bi_nullop, "bi-nullop", MSSL_PLUGIN_ABI_MAJOR, bi_init,
	  &bi_null_ops)
/* Named like a file in the mock directory, which it shadows. */
BI_PLUGIN(bi_shadow, "mock-good", MSSL_PLUGIN_ABI_MAJOR, bi_init, &bi_ops)

/* A context with every built-in above and the mock store. */
static int open_builtins(struct fx *f, const char *validators,
			 const char *extra)
{
	write_mock_conf(f, validators, extra);
	TH_RC(load_conf(f), 0, f->err);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_good_entry), 0);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_major_entry), 0);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_initfail_entry), 0);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_noops_entry), 0);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_smallops_entry), 0);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_nullop_entry), 0);
	bi_reset();
	return mssl_ctx_open(f->ctx, f->err);
}

static void test_builtin_good(void **state)
{
	struct fx *f = *state;
	struct mssl__plugin *pl;

	TH_RC(open_builtins(f, "bi-good", "[bi-good]\ngreeting = hello\n"), 0,
	      f->err);
	pl = f->ctx->plugins->next;
	assert_non_null(pl);
	assert_string_equal(pl->p->name, "bi-good");
	assert_string_equal(pl->origin, "built-in");
	assert_null(pl->dl);
	assert_int_equal(bi_init_calls, 1);
	assert_string_equal(bi_greeting, "hello");
	assert_int_equal(bi_fini_calls, 0);

	/* Registering after open is a state error. */
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_good_entry),
			 MSSL_ESTATE);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, NULL), MSSL_EINVAL);

	mssl_ctx_free(f->ctx);
	f->ctx = NULL;
	assert_int_equal(bi_init_calls, 1);
	assert_int_equal(bi_fini_calls, 1);
}

static void test_builtin_refused(void **state)
{
	struct fx *f = *state;
	const struct refusal cases[] = {
		{ "bi-major", false, "plugin.abi_major", "2.0", NULL },
		{ "bi-initfail", false, "plugin.init", "1.0",
		  "built-in ran out of memory" },
		{ "bi-smallops", false, "plugin.ops_size", CUR_ABI, NULL },
		/* A NULL operation would crash the host when first used. */
		{ "bi-nullop", false, "plugin.ops_missing", CUR_ABI, NULL },
	};
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(cases); i++) {
		const struct refusal *c = &cases[i];

		print_message("# %s\n", c->name);
		expect_refusal(open_builtins(f, c->name, NULL), f->err, c->id,
			       "built-in", c->pver);
		if (c->shown)
			expect_text(f->err, c->shown);
		assert_not_open(f->ctx);
		assert_int_equal(bi_fini_calls, 0);
		assert_int_equal(bi_init_calls,
				 strcmp(c->name, "bi-initfail") == 0);
	}

	/* An undeclared key in a built-in's section: init never runs. */
	expect_config_error(
		f,
		open_builtins(f, "bi-good",
			      "[bi-good]\ngreeting = hi\nfarewell = bye\n"),
		"config.unknown_key", 11, "farewell");
	assert_not_open(f->ctx);
	assert_int_equal(bi_init_calls, 0);
	assert_int_equal(bi_fini_calls, 0);
}

/*
 * A descriptor without operations: refused like the others, with both
 * versions in the message.
 */
static void test_builtin_noops(void **state)
{
	struct fx *f = *state;

	expect_refusal(open_builtins(f, "bi-noops", NULL), f->err, "plugin.ops",
		       "built-in", "1.0");
	expect_text(f->err, "bi-noops");
	assert_not_open(f->ctx);
	assert_int_equal(bi_init_calls, 0);
}

/* A built-in takes precedence over a file of the same name. */
static void test_builtin_shadows_file(void **state)
{
	struct fx *f = *state;
	char *extra = xasprintf("[mock-good]\nmarker = %s\n", f->marker);
	struct mssl__plugin *pl;

	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\n\n%s",
		   MOCK_PLUGIN_DIR, extra);
	/* bi-shadow does not declare 'marker'. */
	TH_RC(load_conf(f), 0, f->err);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_shadow_entry), 0);
	bi_reset();
	expect_config_error(f, mssl_ctx_open(f->ctx, f->err),
			    "config.unknown_key", 7, "marker");

	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\n\n[mock-good]\ngreeting = hi\n",
		   MOCK_PLUGIN_DIR);
	TH_RC(load_conf(f), 0, f->err);
	assert_int_equal(mssl_ctx_add_builtin(f->ctx, bi_shadow_entry), 0);
	bi_reset();
	TH_RC(mssl_ctx_open(f->ctx, f->err), 0, f->err);
	pl = f->ctx->plugins->next;
	assert_string_equal(pl->p->name, "mock-good");
	assert_string_equal(pl->origin, "built-in");
	assert_int_equal(bi_init_calls, 1);
	assert_string_equal(bi_greeting, "hi");
	assert_marker(f, "");
	free(extra);
}

/* ---------------------------------------------------------------------
 * 7. Every plugin of the build tree loads
 * ------------------------------------------------------------------ */

/* Minimal sections for the real plugins that need one; %s is the dir. */
static const struct {
	const char *name;
	const char *section;
} known_sections[] = {
	{ "store-sqlite", "[store-sqlite]\npath = %s/mssl.db\n" },
	/* Makes no request before it signs: no signer needed here. */
	{ "ca-cfssl", "[ca-cfssl]\nurl = http://127.0.0.1:9/\n# %s\n" },
};

/* Symbols the plugin defines in its dynamic symbol table, one per line. */
static char *exported(const char *path)
{
	char *cmd = xasprintf("nm -D --defined-only '%s' 2>/dev/null", path);
	char line[512], *out = strdup("");
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *sym = strrchr(line, ' ');
		char *n;

		sym = sym ? sym + 1 : line;
		n = xasprintf("%s%s", out, sym);
		free(out);
		out = n;
	}
	if (pclose(p) != 0) {
		/* No nm here: say nothing rather than something wrong. */
		free(out);
		out = NULL;
	}
	free(cmd);
	return out;
}

static void test_every_built_plugin(void **state)
{
	struct fx *f = *state;
	const char *bdir = getenv("MSSL_PLUGIN_BUILDDIR");
	struct dirent *de;
	size_t found = 0, i;
	DIR *d;

	if (!bdir)
		fail_msg(
			"MSSL_PLUGIN_BUILDDIR is not set: run through make check");
	d = opendir(bdir);
	if (!d)
		fail_msg("%s: %s", bdir, strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name, *section = xasprintf("%s", ""), *path, *syms;
		struct mssl__plugin *pl = NULL;

		if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0) {
			free(section);
			continue;
		}
		name = strndup(de->d_name, len - 3);
		print_message("# %s\n", name);
		for (i = 0; i < MSSL_ARRAY_SIZE(known_sections); i++)
			if (strcmp(known_sections[i].name, name) == 0) {
				free(section);
				section = xasprintf(known_sections[i].section,
						    f->dir);
			}
		/* The CA backend needs a CA: a fresh one from ca-init.sh. */
		if (strcmp(name, "ca-gnutls") == 0) {
			free(section);
			assert_int_equal(
				th_system("sh '%s/../tools/ca-init.sh' --dir '%s/ca' >/dev/null 2>&1",
					  getenv("MSSL_TEST_SRCDIR"), f->dir),
				0);
			section = xasprintf("[ca-gnutls]\nkey = %s/ca/issuing-key.pem\n"
					    "certificate = %s/ca/issuing.pem\n"
					    "chain = %s/ca/chain.pem\n",
					    f->dir, f->dir, f->dir);
		}
		/* The plugin is configured as the store only so that its
		 * section is allowed; it is loaded as kind "any". */
		write_conf(f, "[mssl]\nplugin_dir = %s\nstore = %s\n\n%s", bdir,
			   name, section);
		TH_RC(load_conf(f), 0, f->err);
		TH_RC(mssl__plugin_load(f->ctx, name, 0, &pl, f->err), 0,
		      f->err);
		assert_non_null(pl);
		assert_true(pl->initialised);
		assert_non_null(pl->dl);
		assert_string_equal(pl->p->name, name);
		assert_true(pl->p->kind == MSSL_PLUGIN_VALIDATOR ||
			    pl->p->kind == MSSL_PLUGIN_STORE ||
			    pl->p->kind == MSSL_PLUGIN_CA);
		if (pl->p->kind != MSSL_PLUGIN_CA)
			assert_non_null(pl->p->ops);

		/* It exports its entry symbol and nothing else. */
		path = xasprintf("%s/%s", bdir, de->d_name);
		syms = exported(path);
		if (syms && strcmp(syms, MSSL_PLUGIN_ENTRY_SYMBOL "\n") != 0)
			fail_msg("%s exports more than %s:\n%s", path,
				 MSSL_PLUGIN_ENTRY_SYMBOL, syms);
		free(syms);
		free(path);

		mssl_ctx_free(f->ctx);
		f->ctx = NULL;
		free(section);
		free(name);
		found++;
	}
	closedir(d);
	if (found == 0)
		fail_msg("no plugin (*.so) in %s", bdir);
	print_message("# %zu plugins loaded\n", found);
}

/* ---------------------------------------------------------------------
 * 8. The core section: every complaint names file, line and key
 * ------------------------------------------------------------------ */

struct conf_case {
	const char *what;
	const char *text; /* one %s: the mock plugin directory (may be unused) */
	const char *id;
	int line;
	const char *field; /* NULL: none */
	const char *shown; /* also in the message; may be NULL */
};

static void run_conf_cases(struct fx *f, const struct conf_case *cases,
			   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct conf_case *c = &cases[i];

		print_message("# %s\n", c->what);
		write_conf(f, c->text, MOCK_PLUGIN_DIR);
		expect_config_error(f, load_conf(f), c->id, c->line, c->field);
		if (!c->field)
			assert_null(mssl_error_field(f->err));
		if (c->shown)
			expect_text(f->err, c->shown);
	}
}

/*
 * An unknown section is reported at its header line, and even when it
 * holds no key.
 */
static void test_core_config_sections(void **state)
{
	struct fx *f = *state;
	static const struct conf_case cases[] = {
		{ "unknown section",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n\n"
		  "[colours]\nred = 1\n",
		  "config.unknown_section", 5, NULL, "[colours]" },
		{ "section of a plugin not configured",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n\n"
		  "[mock-good]\n# one level\nlevel = 1\n",
		  "config.unknown_section", 5, NULL, "[mock-good]" },
		{ "empty unknown section",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n\n"
		  "[colours]\n",
		  "config.unknown_section", 5, NULL, "[colours]" },
	};

	run_conf_cases(f, cases, MSSL_ARRAY_SIZE(cases));
}

static void test_core_config(void **state)
{
	struct fx *f = *state;
	static const struct conf_case cases[] = {
		{ "unknown key",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\ncolour = blue\n",
		  "config.unknown_key", 4, "colour", "[mssl] colour" },
		{ "bad log level",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		  "# quiet, please\nlog_level = loud\n",
		  "config.log_level", 5, "log_level", "loud" },
		{ "relative plugin_dir",
		  "[mssl]\nstore = mock-store\n; %s\nplugin_dir = plugins\n",
		  "config.absolute_path", 4, "plugin_dir", NULL },
		{ "key given twice",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n\n"
		  "store = store-sqlite\n",
		  "config.repeated", 5, "store", "[mssl] store" },
		{ "key given twice in a plugin section",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		  "[mock-store]\nmarker = /a\nmarker = /b\n",
		  "config.repeated", 6, "marker", "[mock-store] marker" },
		{ "syntax error",
		  "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		  "this line is not ini\n",
		  "config.syntax", 4, NULL, NULL },
		{ "unterminated section header",
		  "[mssl]\nplugin_dir = %s\n\n[mock-store\nmarker = /a\n",
		  "config.syntax", 4, NULL, NULL },
		{ "key outside any section",
		  "store = mock-store\n[mssl]\nplugin_dir = %s\n",
		  "config.no_section", 1, "store", NULL },
	};

	run_conf_cases(f, cases, MSSL_ARRAY_SIZE(cases));

	/* And a file that is not there. */
	free(f->conf);
	f->conf = xasprintf("%s/absent.conf", f->dir);
	expect_error(load_conf(f), f->err, MSSL_ECONFIG, "config.open");
	expect_text(f->err, f->conf);

	/* The control: every core key, well given, loads. */
	write_conf(f,
		   "[mssl]\nplugin_dir = %s\nstore = mock-store\n"
		   "validators = mock-good\nca =\nlog_level = debug\n"
		   "psl_file = /nonexistent/psl.dat\n"
		   "iso_codes_dir = /nonexistent\n\n"
		   "[mock-store]\n[mock-good]\nlevel = 2\n",
		   MOCK_PLUGIN_DIR);
	TH_RC(load_conf(f), 0, f->err);
	assert_int_equal(f->ctx->log_level, MSSL_LOG_DEBUG);
	assert_string_equal(f->ctx->plugin_dir, MOCK_PLUGIN_DIR);
	assert_int_equal(f->ctx->n_validators, 1);
	assert_null(f->ctx->ca_name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_good_loads),	      T(test_good_without_section),
		T(test_broken_mocks),	      T(test_loading_stops),
		T(test_initfail_no_fini),     T(test_duplicate_name),
		T(test_any_kind_checks_ops),  T(test_plugin_unknown_key),
		T(test_plugin_bad_value),     T(test_bad_names),
		T(test_outside_plugin_dir),   T(test_builtin_good),
		T(test_builtin_refused),      T(test_builtin_noops),
		T(test_builtin_shadows_file), T(test_every_built_plugin),
		T(test_core_config),	      T(test_core_config_sections),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
