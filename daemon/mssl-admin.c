/*
 * mssl-admin: the operator's local tool over libmssl (mssl-admin(8)).
 *
 * Every action runs as the operator who invoked it (the login behind
 * sudo when there is one) and is audited by the library.  Exit status:
 * 0 done, 1 refused or failed, 2 bad usage or input (nothing written).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mssl/mssl.h"
#include "mssl/token.h"

#define _(s) gettext(s)
#define N_(s) s
#define MSSL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* ---- options --------------------------------------------------------- */

struct opt {
	const char *name; /* long option without "--" */
	bool takes_value;
	const char *value;
	bool set;
};

struct args {
	struct opt *opts;
	size_t n_opts;
	const char *pos[8];
	size_t n_pos;
};

static const char *progname = "mssl-admin";
static bool json_out;
static const char *config_path;

static void usage_error(const char *fmt, ...) MSSL_PRINTF(1, 2);
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", _("Try 'mssl-admin --help'."));
	exit(EXIT_USAGE);
}

/* Parse "--name value", "--name=value", flags and positionals. */
static void parse(int argc, char **argv, struct args *a)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq;
		size_t j, len;

		if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
			if (a->n_pos == MSSL_ARRAY_SIZE(a->pos))
				usage_error(_("too many arguments"));
			a->pos[a->n_pos++] = arg;
			continue;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (j = 0; j < a->n_opts; j++)
			if (strlen(a->opts[j].name) == len &&
			    strncmp(a->opts[j].name, arg, len) == 0)
				break;
		if (j == a->n_opts)
			usage_error(_("unknown option --%.*s"), (int)len, arg);
		a->opts[j].set = true;
		if (!a->opts[j].takes_value) {
			if (eq)
				usage_error(_("option --%s takes no value"),
					    a->opts[j].name);
			continue;
		}
		if (eq)
			a->opts[j].value = eq + 1;
		else if (i + 1 < argc)
			a->opts[j].value = argv[++i];
		else
			usage_error(_("option --%s needs a value"),
				    a->opts[j].name);
	}
}

static const char *opt(const struct args *a, const char *name)
{
	size_t j;

	for (j = 0; j < a->n_opts; j++)
		if (strcmp(a->opts[j].name, name) == 0)
			return a->opts[j].set ? (a->opts[j].value ?
							 a->opts[j].value :
							 "") :
						NULL;
	return NULL;
}

static const char *need_opt(const struct args *a, const char *name)
{
	const char *v = opt(a, name);

	if (!v || !*v)
		usage_error(_("option --%s is required"), name);
	return v;
}

static void need_pos(const struct args *a, size_t n, const char *what)
{
	if (a->n_pos < n)
		usage_error(_("missing %s"), what);
	if (a->n_pos > n)
		usage_error(_("unexpected argument \"%s\""), a->pos[n]);
}

/* A whole decimal number in [min, max]; names the input when it is not. */
static int64_t number(const char *s, const char *what, int64_t min,
		      int64_t max)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max)
		usage_error(_("%s must be a whole number from %" PRId64
			      " to %" PRId64 ", not \"%s\""),
			    what, min, max, s);
	return (int64_t)v;
}

/* ---- output ----------------------------------------------------------- */

static void fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "%" PRId64, t);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jtime(int64_t t)
{
	char buf[32];

	fmt_time(t, buf, sizeof(buf));
	return json_string(buf);
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

/* Print the library's error and return the exit status it calls for. */
static int fail(int rc, mssl_error *err)
{
	const char *msg = mssl_error_message(err, MSSL_LANG_LOCALE);

	if (!*msg)
		msg = mssl_strerror(rc);
	if (json_out) {
		json_t *j = json_pack("{s:{s:s,s:s,s:s,s:s,s:o}}", "error",
				      "code", mssl_error_id(err)[0] ?
						      mssl_error_id(err) :
						      mssl_err_name(rc),
				      "message",
				      mssl_error_message(err, MSSL_LANG_EN),
				      "message_zh",
				      mssl_error_message(err, MSSL_LANG_ZH_TW),
				      "status", mssl_err_name(rc), "field",
				      jstr(mssl_error_field(err)));

		json_dumpf(j, stderr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stderr);
		json_decref(j);
	} else {
		fprintf(stderr, "%s: %s", progname, msg);
		if (mssl_error_id(err)[0])
			fprintf(stderr, " [%s]", mssl_error_id(err));
		fputc('\n', stderr);
	}
	switch (rc) {
	case MSSL_EINPUT:
	case MSSL_EINVAL:
	case MSSL_ECONFIG:
	case MSSL_EUSAGE:
		return EXIT_USAGE;
	default:
		return EXIT_REFUSED;
	}
}

/* ---- context ---------------------------------------------------------- */

struct env {
	mssl_ctx *ctx;
	mssl_actor *op;
	mssl_error *err;
};

/*
 * The operator is the human at the keyboard: the login behind sudo when
 * root runs us through sudo (only root's environment is trusted for it),
 * else the login of the real user.  'remote' keeps the uid either way.
 */
static mssl_actor *local_operator(void)
{
	const char *sudo = getenv("SUDO_USER"), *name = NULL;
	struct passwd *pw = getpwuid(getuid());
	char remote[96];

	if (getuid() == 0 && sudo && *sudo) {
		name = sudo;
		snprintf(remote, sizeof(remote), "local:uid=0:sudo");
	} else {
		name = pw ? pw->pw_name : "unknown";
		snprintf(remote, sizeof(remote), "local:uid=%u",
			 (unsigned)getuid());
	}
	return mssl_actor_new(MSSL_ROLE_OPERATOR, name, NULL, remote);
}

/*
 * Open the store only once a command's arguments are known to be good:
 * bad usage must not even create the store.
 */
static int env_open(struct env *e)
{
	int rc;

	rc = mssl_ctx_new(&e->ctx);
	/* mssld's section of the shared file is mssld's to check. */
	if (rc == 0)
		rc = mssl_ctx_claim_section(e->ctx, "mssld", NULL);
	if (rc == 0 && config_path)
		rc = mssl_ctx_load_config(e->ctx, config_path, e->err);
	if (rc == 0)
		rc = mssl_ctx_open(e->ctx, e->err);
	if (rc < 0) {
		mssl_ctx_free(e->ctx);
		e->ctx = NULL;
		return fail(rc, e->err);
	}
	return 0;
}

#define OPEN(e)                                                              \
	do {                                                                 \
		int open_rc_ = env_open(e);                                  \
		if (open_rc_)                                                \
			return open_rc_;                                     \
	} while (0)

static void env_close(struct env *e)
{
	mssl_ctx_free(e->ctx);
	mssl_actor_free(e->op);
	mssl_error_free(e->err);
}

/* The end of every listing: the JSON array, or the error. */
static int list_done(struct env *e, int rc, json_t *arr)
{
	if (rc < 0) {
		json_decref(arr);
		return fail(rc, e->err);
	}
	if (arr)
		print_json(arr);
	return 0;
}

/* ---- account ---------------------------------------------------------- */

static json_t *account_json(const mssl_account_info *a)
{
	char *products = mssl_products_format(a->products);
	json_t *j = json_pack(
		"{s:s,s:s,s:o,s:s,s:s,s:I,s:o}", "id", a->id, "org_name_en",
		a->org_name_en, "org_name_zh", jstr(a->org_name_zh),
		"products", products ? products : "", "status",
		a->status == MSSL_ACCOUNT_ACTIVE ? "active" : "suspended",
		"balance", (json_int_t)a->balance, "created",
		jtime(a->created));
	size_t i;

	free(products);
	if (a->ev_country || a->ev_category)
		json_object_set_new(
			j, "ev",
			json_pack("{s:o,s:o,s:o,s:o}", "country",
				  jstr(a->ev_country), "state",
				  jstr(a->ev_state), "locality",
				  jstr(a->ev_locality), "category",
				  jstr(a->ev_category)));
	if (a->domains) {
		json_t *d = json_array();

		for (i = 0; i < a->n_domains; i++)
			json_array_append_new(d, json_string(a->domains[i]));
		json_object_set_new(j, "domains", d);
	}
	if (a->contacts) {
		json_t *c = json_array();

		for (i = 0; i < a->n_contacts; i++)
			json_array_append_new(
				c, json_pack("{s:I,s:s,s:s,s:s,s:o}", "id",
					     (json_int_t)a->contacts[i].id,
					     "kind", a->contacts[i].kind, "name",
					     a->contacts[i].name, "email",
					     a->contacts[i].email, "phone",
					     jstr(a->contacts[i].phone)));
		json_object_set_new(j, "contacts", c);
	}
	return j;
}

static void account_print(const mssl_account_info *a)
{
	char *products = mssl_products_format(a->products);
	char when[32];
	size_t i;

	fmt_time(a->created, when, sizeof(when));
	printf("%-22s %s\n", _("Account:"), a->id);
	printf("%-22s %s\n", _("Organisation (en):"), a->org_name_en);
	if (a->org_name_zh)
		printf("%-22s %s\n", _("Organisation (zh):"), a->org_name_zh);
	printf("%-22s %s\n", _("Products:"), products ? products : "");
	if (a->ev_country || a->ev_category)
		printf("%-22s %s / %s / %s / %s\n", _("EV jurisdiction:"),
		       a->ev_country ? a->ev_country : "-",
		       a->ev_state ? a->ev_state : "-",
		       a->ev_locality ? a->ev_locality : "-",
		       a->ev_category ? a->ev_category : "-");
	printf("%-22s %s\n", _("Status:"),
	       a->status == MSSL_ACCOUNT_ACTIVE ? _("active") : _("suspended"));
	printf("%-22s %" PRId64 "\n", _("Cert-year balance:"), a->balance);
	printf("%-22s %s\n", _("Created:"), when);
	printf("%s\n", _("Agreed domains:"));
	for (i = 0; i < a->n_domains; i++)
		printf("  %s\n", a->domains[i]);
	if (!a->n_domains)
		printf("  %s\n", _("(none)"));
	printf("%s\n", _("Contacts:"));
	for (i = 0; i < a->n_contacts; i++)
		printf("  [%s] %s <%s>%s%s\n", a->contacts[i].kind,
		       a->contacts[i].name, a->contacts[i].email,
		       a->contacts[i].phone ? " " : "",
		       a->contacts[i].phone ? a->contacts[i].phone : "");
	free(products);
}

static int cmd_account_create(struct env *e, int argc, char **argv)
{
	struct opt o[] = {
		{ "id", 1 }, { "org-en", 1 }, { "org-zh", 1 }, { "products", 1 },
		{ "ev-country", 1 }, { "ev-state", 1 }, { "ev-locality", 1 },
		{ "ev-category", 1 }, { "supervisor-name", 1 },
		{ "supervisor-email", 1 }, { "supervisor-phone", 1 },
	};
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	mssl_account_spec s = { 0 };
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	s.id = need_opt(&a, "id");
	s.org_name_en = need_opt(&a, "org-en");
	s.org_name_zh = opt(&a, "org-zh");
	s.ev_country = opt(&a, "ev-country");
	s.ev_state = opt(&a, "ev-state");
	s.ev_locality = opt(&a, "ev-locality");
	s.ev_category = opt(&a, "ev-category");
	s.supervisor_name = need_opt(&a, "supervisor-name");
	s.supervisor_email = need_opt(&a, "supervisor-email");
	s.supervisor_phone = opt(&a, "supervisor-phone");
	rc = mssl_products_parse(need_opt(&a, "products"), "products",
				 &s.products, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	OPEN(e);
	rc = mssl_account_create(e->ctx, e->op, &s, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:s}", "id", s.id, "status",
				     "created"));
	else
		printf(_("Account %s created.\n"), s.id);
	return 0;
}

static int cmd_account_show(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	mssl_account_info *info = NULL;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	OPEN(e);
	rc = mssl_account_get(e->ctx, e->op, a.pos[0], &info, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(account_json(info));
	else
		account_print(info);
	mssl_account_info_free(info);
	return 0;
}

static int list_cb(void *ud, const mssl_account_info *a)
{
	char *products;

	if (ud) {
		json_array_append_new(ud, account_json(a));
		return 0;
	}
	products = mssl_products_format(a->products);
	printf("%-12s %-9s %8" PRId64 "  %-16s %s\n", a->id,
	       a->status == MSSL_ACCOUNT_ACTIVE ? "active" : "suspended",
	       a->balance, products ? products : "", a->org_name_en);
	free(products);
	return 0;
}

static int cmd_account_list(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	if (!json_out)
		printf("%-12s %-9s %8s  %-16s %s\n", _("ACCOUNT"), _("STATUS"),
		       _("BALANCE"), _("PRODUCTS"), _("ORGANISATION"));
	rc = mssl_account_list(e->ctx, e->op, list_cb, arr, e->err);
	return list_done(e, rc, arr);
}

static int cmd_account_set(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 3, _("account ID, key and value"));
	OPEN(e);
	rc = mssl_account_set(e->ctx, e->op, a.pos[0], a.pos[1], a.pos[2],
			      e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:s,s:s}", "id", a.pos[0], "key",
				     a.pos[1], "value", a.pos[2]));
	else
		printf(_("Account %s: %s set.\n"), a.pos[0], a.pos[1]);
	return 0;
}

static int cmd_account_suspend(struct env *e, int argc, char **argv,
			       int suspend)
{
	struct opt o[] = { { "reason", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	const char *reason;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	reason = need_opt(&a, "reason");
	OPEN(e);
	rc = mssl_account_suspend(e->ctx, e->op, a.pos[0], suspend, reason,
				  e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:s}", "id", a.pos[0], "status",
				     suspend ? "suspended" : "active"));
	else
		printf(suspend ? _("Account %s suspended.\n") :
				 _("Account %s reactivated.\n"),
		       a.pos[0]);
	return 0;
}

/* ---- domains and contacts --------------------------------------------- */

static int cmd_domain(struct env *e, const char *verb, int argc, char **argv)
{
	struct opt o[] = { { "force", 0 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 2, _("account ID and domain"));
	OPEN(e);
	if (strcmp(verb, "add") == 0)
		rc = mssl_domain_add(e->ctx, e->op, a.pos[0], a.pos[1],
				     opt(&a, "force") ? MSSL_DOMAIN_FORCE : 0,
				     e->err);
	else
		rc = mssl_domain_remove(e->ctx, e->op, a.pos[0], a.pos[1],
					e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:s,s:s}", "account", a.pos[0],
				     "domain", a.pos[1], "action", verb));
	else
		printf(strcmp(verb, "add") == 0 ?
			       _("Domain %s agreed for account %s.\n") :
			       _("Domain %s removed from account %s.\n"),
		       a.pos[1], a.pos[0]);
	return 0;
}

static int domain_cb(void *ud, const struct mssl_domain_rec *r)
{
	char when[32];

	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:s,s:o}", "domain", r->name, "added",
				      jtime(r->added)));
	fmt_time(r->added, when, sizeof(when));
	printf("%-40s %s\n", r->name, when);
	return 0;
}

static int cmd_domain_list(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_domain_list(e->ctx, e->op, a.pos[0], domain_cb, arr, e->err);
	return list_done(e, rc, arr);
}

static int cmd_contact_add(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "kind", 1 }, { "name", 1 }, { "email", 1 },
			   { "phone", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	mssl_contact c = { 0 };
	int64_t id = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	c.kind = opt(&a, "kind") ? opt(&a, "kind") : "other";
	c.name = need_opt(&a, "name");
	c.email = need_opt(&a, "email");
	c.phone = opt(&a, "phone");
	OPEN(e);
	rc = mssl_contact_add(e->ctx, e->op, a.pos[0], &c, &id, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:I}", "account", a.pos[0], "id",
				     (json_int_t)id));
	else
		printf(_("Contact %" PRId64 " added to account %s.\n"), id,
		       a.pos[0]);
	return 0;
}

static int contact_cb(void *ud, const mssl_contact *c)
{
	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:I,s:s,s:s,s:s,s:o}", "id",
				      (json_int_t)c->id, "kind", c->kind,
				      "name", c->name, "email", c->email,
				      "phone", jstr(c->phone)));
	printf("%-4" PRId64 " %-11s %-24s %-32s %s\n", c->id, c->kind, c->name,
	       c->email, c->phone ? c->phone : "");
	return 0;
}

static int cmd_contact_list(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_contact_list(e->ctx, e->op, a.pos[0], contact_cb, arr,
			       e->err);
	return list_done(e, rc, arr);
}

/* ---- ledger ------------------------------------------------------------ */

static int cmd_topup_adjust(struct env *e, int argc, char **argv, bool topup)
{
	struct opt o[] = { { "memo", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int64_t n, bal = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 2, topup ? _("account ID and cert-years") :
				_("account ID and change"));
	n = number(a.pos[1], topup ? "years" : "delta", INT32_MIN, INT32_MAX);
	OPEN(e);
	rc = topup ? mssl_topup(e->ctx, e->op, a.pos[0], n, opt(&a, "memo"),
				&bal, e->err) :
		     mssl_adjust(e->ctx, e->op, a.pos[0], n, opt(&a, "memo"),
				 &bal, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:I,s:I}", "account", a.pos[0],
				     "delta", (json_int_t)n, "balance",
				     (json_int_t)bal));
	else
		printf(_("Account %s: %+" PRId64 " cert-years, balance %" PRId64
			 ".\n"),
		       a.pos[0], n, bal);
	return 0;
}

static int ledger_cb(void *ud, const struct mssl_ledger_rec *r)
{
	char when[32];

	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:I,s:o,s:s,s:I,s:I,s:s,s:o,s:o}", "id",
				      (json_int_t)r->id, "time",
				      jtime(r->time), "kind",
				      mssl_ledger_kind_name(r->kind), "delta",
				      (json_int_t)r->delta, "balance_after",
				      (json_int_t)r->balance_after, "actor",
				      r->actor, "memo", jstr(r->memo),
				      "certificate", jstr(r->cert_serial)));
	fmt_time(r->time, when, sizeof(when));
	printf("%-6" PRId64 " %-20s %-10s %+6" PRId64 " %8" PRId64
	       "  %-28s %s\n",
	       r->id, when, mssl_ledger_kind_name(r->kind), r->delta,
	       r->balance_after, r->actor, r->memo ? r->memo : "");
	return 0;
}

static int cmd_ledger_show(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "limit", 1 }, { "offset", 1 },
			   { "oldest-first", 0 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	json_t *arr;
	int64_t limit = 0, offset = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	if (opt(&a, "limit"))
		limit = number(opt(&a, "limit"), "--limit", 0, INT32_MAX);
	if (opt(&a, "offset"))
		offset = number(opt(&a, "offset"), "--offset", 0, INT32_MAX);
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	if (!json_out)
		printf("%-6s %-20s %-10s %6s %8s  %-28s %s\n", _("ENTRY"),
		       _("TIME (UTC)"), _("KIND"), _("CHANGE"), _("BALANCE"),
		       _("BY"), _("MEMO"));
	rc = mssl_ledger_list(e->ctx, e->op, a.pos[0], !opt(&a, "oldest-first"),
			      offset, limit, ledger_cb, arr, e->err);
	return list_done(e, rc, arr);
}

static int cmd_ledger_check(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	int64_t n = 0;
	int rc;

	parse(argc, argv, &a);
	if (a.n_pos > 1)
		usage_error(_("unexpected argument \"%s\""), a.pos[1]);
	OPEN(e);
	rc = mssl_ledger_check(e->ctx, e->op, a.n_pos ? a.pos[0] : NULL, &n,
			       e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:b,s:I}", "consistent", 1, "entries",
				     (json_int_t)n));
	else
		printf(_("Ledger consistent: %" PRId64
			 " entries checked; every balance equals the sum of its entries.\n"),
		       n);
	return 0;
}

/* ---- notices ----------------------------------------------------------- */

static int cmd_notice_add(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 }, { "title", 1 }, { "body", 1 },
			   { "expires-days", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int64_t id = 0, expires = 0;
	const char *title, *body;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	if (opt(&a, "expires-days"))
		expires = (int64_t)time(NULL) +
			  86400 * number(opt(&a, "expires-days"),
					 "--expires-days", 1, 3650);
	title = need_opt(&a, "title");
	body = need_opt(&a, "body");
	OPEN(e);
	rc = mssl_notice_add(e->ctx, e->op, opt(&a, "account"), title, body,
			     expires, &id, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I}", "id", (json_int_t)id));
	else
		printf(_("Notice %" PRId64 " published.\n"), id);
	return 0;
}

static int notice_cb(void *ud, const struct mssl_notice_rec *r)
{
	char when[32];

	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:I,s:o,s:o,s:o,s:s,s:s,s:s}", "id",
				      (json_int_t)r->id, "time",
				      jtime(r->time), "expires",
				      r->expires ? jtime(r->expires) :
						   json_null(),
				      "account", jstr(r->account_id), "title",
				      r->title, "body", r->body, "author",
				      r->author ? r->author : ""));
	fmt_time(r->time, when, sizeof(when));
	printf("#%" PRId64 " %s [%s] %s\n    %s\n", r->id, when,
	       r->account_id ? r->account_id : _("everyone"), r->title,
	       r->body);
	return 0;
}

static int cmd_notice_list(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_notice_list(e->ctx, e->op, opt(&a, "account"), notice_cb,
			      arr, e->err);
	return list_done(e, rc, arr);
}

/* ---- audit ------------------------------------------------------------- */

static int cmd_audit_verify(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	int64_t n = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	OPEN(e);
	rc = mssl_audit_verify(e->ctx, e->op, &n, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:b,s:I}", "intact", 1, "records",
				     (json_int_t)n));
	else
		printf(_("Audit log intact: %" PRId64
			 " records, hash chain verified.\n"),
		       n);
	return 0;
}

/*
 * One field of a tab-separated line: tabs, newlines and other control
 * bytes are escaped, so that text anyone typed (a memo, a notice title)
 * can never make a line look like another record.
 */
static void put_field(const char *s, const char *sep)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			fputc(c, stdout);
	}
	fputs(sep, stdout);
}

static int audit_cb(void *ud, const struct mssl_audit_rec *r)
{
	char when[32], hash[65];
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", r->hash[i]);
	fmt_time(r->time, when, sizeof(when));
	if (ud)
		return json_array_append_new(
			ud,
			json_pack("{s:I,s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:s,s:o,s:s}",
				  "seq", (json_int_t)r->seq, "time", when,
				  "role", r->actor_role, "actor",
				  r->actor_name, "account", jstr(r->account_id),
				  "remote", r->remote, "action", r->action,
				  "object", jstr(r->object), "outcome",
				  r->outcome, "detail", jstr(r->detail),
				  "hash", hash));
	printf("%" PRId64 "\t%s\t", r->seq, when);
	put_field(r->actor_role, ":");
	put_field(r->actor_name, "\t");
	put_field(r->remote, "\t");
	put_field(r->account_id ? r->account_id : "-", "\t");
	put_field(r->action, "\t");
	put_field(r->object ? r->object : "-", "\t");
	put_field(r->outcome, "\t");
	put_field(r->detail ? r->detail : "", "\t");
	printf("%s\n", hash);
	return 0;
}

static int cmd_audit_export(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "from", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	json_t *arr;
	int64_t from = 1;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	if (opt(&a, "from"))
		from = number(opt(&a, "from"), "--from", 1, INT64_MAX);
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_audit_export(e->ctx, e->op, from, audit_cb, arr, e->err);
	return list_done(e, rc, arr);
}

/* ---- requests: check, blocked keys ------------------------------------- */

/* Read a whole file ("-" for standard input), at most 'limit' bytes. */
static char *read_file(const char *path, size_t limit, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (!fp) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		exit(EXIT_USAGE);
	}
	buf = malloc(limit + 1);
	if (!buf) {
		fprintf(stderr, "%s: %s\n", progname, _("out of memory"));
		exit(EXIT_REFUSED);
	}
	n = fread(buf, 1, limit + 1, fp);
	if (ferror(fp)) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		exit(EXIT_USAGE);
	}
	if (fp != stdin)
		fclose(fp);
	buf[n > limit ? limit : n] = '\0';
	*len = n;
	return buf;
}

static uint32_t product_arg(const char *v)
{
	if (!v || strcmp(v, "ssl") == 0)
		return MSSL_PRODUCT_SSL;
	if (strcmp(v, "wildcard") == 0)
		return MSSL_PRODUCT_WILDCARD;
	if (strcmp(v, "ev") == 0)
		return MSSL_PRODUCT_EV;
	usage_error(_("--product must be ssl, wildcard or ev, not \"%s\""), v);
	return 0;
}

static const char *severity_name(int s)
{
	return s == MSSL_SEV_ERROR ? "error" :
	       s == MSSL_SEV_WARNING ? "warning" : "notice";
}

static const struct {
	const char *label;
	size_t off;
} subject_fields[] = {
#define F(l, f) { l, offsetof(struct mssl_subject_info, f) }
	F("C", c), F("ST", st), F("L", l), F("O", o), F("OU", ou),
	F("CN", cn), F("serialNumber", serial_number),
	F("businessCategory", business_category),
	F("jurisdictionC", jur_c), F("jurisdictionST", jur_st),
	F("jurisdictionL", jur_l),
#undef F
};

static const char *subject_field(const struct mssl_subject_info *s, size_t i)
{
	return *(const char *const *)((const char *)s + subject_fields[i].off);
}

static json_t *report_json(const struct mssl_csr_info *ci,
			   const mssl_report *r)
{
	json_t *j = json_object(), *subj = json_object(), *names, *finds,
	       *sans = json_array();
	char spki[65];
	size_t i;

	for (i = 0; i < MSSL_ARRAY_SIZE(subject_fields); i++)
		if (subject_field(&ci->subject, i))
			json_object_set_new(subj, subject_fields[i].label,
					    json_string(subject_field(
						    &ci->subject, i)));
	json_object_set_new(j, "subject", subj);
	json_object_set_new(j, "dn", json_string(ci->subject.dn));
	for (i = 0; i < ci->n_sans; i++)
		json_array_append_new(
			sans, json_pack("{s:s,s:s}", "type",
					ci->sans[i].type == MSSL_SAN_DNS ? "DNS" :
					ci->sans[i].type == MSSL_SAN_IP	 ? "IP" :
					ci->sans[i].type == MSSL_SAN_EMAIL ?
									 "email" :
					ci->sans[i].type == MSSL_SAN_URI ?
									 "URI" :
									 "other",
					"value", ci->sans[i].value));
	json_object_set_new(j, "sans", sans);
	for (i = 0; i < 32; i++)
		snprintf(spki + 2 * i, 3, "%02x", ci->key.spki_sha256[i]);
	json_object_set_new(j, "key",
			    json_pack("{s:s,s:i,s:o,s:s}", "algorithm",
				      ci->key.alg_name, "bits", ci->key.bits,
				      "curve", jstr(ci->key.ec_curve),
				      "spki_sha256", spki));
	names = json_array();
	for (i = 0; i < mssl_report_n_verdicts(r); i++) {
		const mssl_verdict *v = mssl_report_verdict(r, i);

		json_array_append_new(names,
				      json_pack("{s:s,s:b,s:o,s:o}", "name",
						v->name, "accepted", v->accepted,
						"rule", jstr(v->rule_en),
						"rule_zh", jstr(v->rule_zh)));
	}
	json_object_set_new(j, "names", names);
	finds = json_array();
	for (i = 0; i < mssl_report_n_findings(r); i++) {
		const mssl_finding *f = mssl_report_finding(r, i);

		json_array_append_new(
			finds,
			json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:s}", "severity",
				  severity_name(f->severity), "code", f->code,
				  "field", jstr(f->field), "value",
				  jstr(f->value), "message", f->message_en,
				  "message_zh", f->message_zh, "source",
				  f->source));
	}
	json_object_set_new(j, "findings", finds);
	json_object_set_new(j, "issuable",
			    json_boolean(mssl_report_issuable(r)));
	return j;
}

/* Chinese when the program's messages are (LANGUAGE first, as gettext). */
static bool want_zh(void)
{
	const char *l = getenv("LANGUAGE");

	if (!l || !*l)
		l = setlocale(LC_MESSAGES, NULL);
	return l && strncmp(l, "zh", 2) == 0;
}

static void report_print(const struct mssl_csr_info *ci,
			 const mssl_report *r)
{
	bool zh = want_zh();
	size_t i;

	printf("%s %s\n", _("Subject:"), ci->subject.dn);
	for (i = 0; i < MSSL_ARRAY_SIZE(subject_fields); i++)
		if (subject_field(&ci->subject, i))
			printf("  %-17s %s\n", subject_fields[i].label,
			       subject_field(&ci->subject, i));
	printf("%s %s %u%s%s\n", _("Key:"), ci->key.alg_name, ci->key.bits,
	       ci->key.ec_curve ? " " : "",
	       ci->key.ec_curve ? ci->key.ec_curve : "");
	printf("%s\n", _("Names:"));
	for (i = 0; i < mssl_report_n_verdicts(r); i++) {
		const mssl_verdict *v = mssl_report_verdict(r, i);
		const char *rule = zh ? v->rule_zh : v->rule_en;

		printf("  %s %-40s %s\n", v->accepted ? "[ok]" : "[no]",
		       v->name, rule ? rule : "");
	}
	printf("%s\n", _("Findings:"));
	for (i = 0; i < mssl_report_n_findings(r); i++) {
		const mssl_finding *f = mssl_report_finding(r, i);

		printf("  %-7s %-28s %s\n", severity_name(f->severity),
		       f->code, zh ? f->message_zh : f->message_en);
	}
	if (!mssl_report_n_findings(r))
		printf("  %s\n", _("(none)"));
	printf("%s\n", mssl_report_issuable(r) ?
			       _("Result: the request can be issued.") :
			       _("Result: the request is refused."));
}

static int cmd_check(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 }, { "csr", 1 }, { "product", 1 },
			   { "renew", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	mssl_check_params params = { 0 };
	mssl_report *report = NULL;
	mssl_csr *csr = NULL;
	const char *account;
	size_t len = 0;
	char *text;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	account = need_opt(&a, "account");
	params.product = product_arg(opt(&a, "product"));
	params.renewal_of = opt(&a, "renew");
	text = read_file(need_opt(&a, "csr"), MSSL_CSR_MAX_SIZE, &len);
	rc = mssl_csr_parse(text, len, &csr, e->err);
	free(text);
	if (rc < 0)
		return fail(rc, e->err);
	rc = env_open(e);
	if (rc == 0)
		rc = mssl_check(e->ctx, e->op, account, csr, &params, &report,
				e->err);
	if (report) {
		if (json_out)
			print_json(report_json(mssl_csr_info(csr), report));
		else
			report_print(mssl_csr_info(csr), report);
		rc = mssl_report_issuable(report) ? 0 : EXIT_REFUSED;
	} else if (rc < 0) {
		rc = fail(rc, e->err);
	}
	mssl_report_free(report);
	mssl_csr_free(csr);
	return rc;
}

/* Keys to block: one SPKI SHA-256 in hex per line; '#' starts a comment. */
static int parse_key_list(const char *text, uint8_t (**out)[32], size_t *n,
			  const char *path)
{
	uint8_t(*v)[32] = NULL;
	const char *line = text;
	size_t cap = 0, lineno = 0;

	*n = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), i, k = 0;
		char hex[65];

		lineno++;
		for (i = 0; i < len && line[i] != '#'; i++) {
			if (strchr(" \t\r:", line[i]))
				continue;
			if (k == 64 || !strchr("0123456789abcdefABCDEF",
					       line[i])) {
				k = 65;
				break;
			}
			hex[k++] = (char)tolower((unsigned char)line[i]);
		}
		if (k != 0 && k != 64) {
			fprintf(stderr,
				_("%s: %s:%zu: not a SHA-256 in hex (64 hex digits); nothing was blocked\n"),
				progname, path, lineno);
			free(v);
			exit(EXIT_USAGE);
		}
		if (k == 64) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					return EXIT_REFUSED;
			}
			for (i = 0; i < 32; i++) {
				char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };

				v[*n][i] = (uint8_t)strtoul(b, NULL, 16);
			}
			(*n)++;
		}
		line = nl ? nl + 1 : NULL;
	}
	*out = v;
	return 0;
}

static int cmd_key_block(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "spki", 1 }, { "file", 1 }, { "csr", 1 },
			   { "reason", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	uint8_t(*keys)[32] = NULL;
	const char *source = "operator";
	size_t n = 0, i, added = 0, already = 0, len;
	int rc = 0, given;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	given = !!opt(&a, "spki") + !!opt(&a, "file") + !!opt(&a, "csr");
	if (given != 1)
		usage_error(_("give exactly one of --spki, --file and --csr"));
	if (opt(&a, "spki")) {
		rc = parse_key_list(opt(&a, "spki"), &keys, &n, "--spki");
	} else if (opt(&a, "file")) {
		char *text = read_file(opt(&a, "file"), 256u << 20, &len);

		rc = parse_key_list(text, &keys, &n, opt(&a, "file"));
		free(text);
		source = opt(&a, "file");
	} else {
		char *text = read_file(opt(&a, "csr"), MSSL_CSR_MAX_SIZE, &len);
		mssl_csr *csr = NULL;

		rc = mssl_csr_parse(text, len, &csr, e->err);
		free(text);
		if (rc < 0)
			return fail(rc, e->err);
		keys = malloc(sizeof(*keys));
		if (keys)
			memcpy(keys[0], mssl_csr_info(csr)->key.spki_sha256, 32);
		n = keys ? 1 : 0;
		mssl_csr_free(csr);
	}
	if (rc)
		return rc;
	if (n == 0)
		usage_error(_("no key to block was given"));
	OPEN(e);
	for (i = 0; i < n && rc == 0; i++) {
		rc = mssl_key_block(e->ctx, e->op, keys[i], source,
				    opt(&a, "reason"), e->err);
		if (rc == MSSL_EEXIST) {
			already++;
			rc = 0;
		} else if (rc == 0) {
			added++;
		}
	}
	free(keys);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I,s:I}", "blocked", (json_int_t)added,
				     "already_blocked", (json_int_t)already));
	else
		printf(_("%zu keys blocked, %zu already on the list.\n"), added,
		       already);
	return 0;
}

/* ---- persons and cards ---------------------------------------------------- */

static mssl_role parse_role(const char *s)
{
	if (strcmp(s, "manager") == 0)
		return MSSL_ROLE_MANAGER;
	if (strcmp(s, "auditor") == 0)
		return MSSL_ROLE_AUDITOR;
	usage_error(_("--role must be manager or auditor, not \"%s\""), s);
	return MSSL_ROLE_NONE;
}

static int cmd_person_add(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "name", 1 }, { "email", 1 }, { "role", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	mssl_role role;
	int64_t id = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	role = parse_role(need_opt(&a, "role"));
	OPEN(e);
	rc = mssl_person_add(e->ctx, e->op, a.pos[0], need_opt(&a, "name"),
			     need_opt(&a, "email"), role, &id, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:I,s:s}", "account", a.pos[0], "id",
				     (json_int_t)id, "role",
				     mssl_role_name(role)));
	else
		printf(_("Person %" PRId64 " (%s) added to account %s.\n"), id,
		       mssl_role_name(role), a.pos[0]);
	return 0;
}

static int person_cb(void *ud, const struct mssl_person_info *p)
{
	char when[32];

	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}", "id",
				      (json_int_t)p->id, "name", p->name,
				      "email", p->email, "role",
				      mssl_role_name(p->role), "status",
				      p->status, "created", jtime(p->created)));
	fmt_time(p->created, when, sizeof(when));
	printf("%-5" PRId64 " %-8s %-10s %-24s %-32s %s\n", p->id,
	       mssl_role_name(p->role), p->status, p->name, p->email, when);
	return 0;
}

static int cmd_person_list(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_person_list(e->ctx, e->op, a.pos[0], person_cb, arr, e->err);
	return list_done(e, rc, arr);
}

static int cmd_person_suspend(struct env *e, int argc, char **argv,
			      int suspend)
{
	struct opt o[] = { { "reason", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int64_t id;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("person number"));
	id = number(a.pos[0], _("person number"), 1, INT64_MAX);
	OPEN(e);
	rc = mssl_person_suspend(e->ctx, e->op, id, suspend,
				 need_opt(&a, "reason"), e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I,s:s}", "person", (json_int_t)id,
				     "status", suspend ? "suspended" : "active"));
	else
		printf(suspend ? _("Person %" PRId64 " suspended; their sessions ended.\n") :
				 _("Person %" PRId64 " is active again.\n"),
		       id);
	return 0;
}

static int c_person_suspend(struct env *e, int argc, char **argv)
{
	return cmd_person_suspend(e, argc, argv, 1);
}

static int c_person_resume(struct env *e, int argc, char **argv)
{
	return cmd_person_suspend(e, argc, argv, 0);
}

static int card_cb(void *ud, const struct mssl_card_info *c)
{
	char when[32], hex[65];
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", c->cert_sha256[i]);
	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id",
				      (json_int_t)c->id, "person",
				      (json_int_t)c->person_id, "holder",
				      c->person_name, "role",
				      mssl_role_name(c->role), "serial",
				      c->token_serial, "state", c->state,
				      "cert_sha256", hex, "created",
				      jtime(c->created)));
	fmt_time(c->created, when, sizeof(when));
	printf("%-5" PRId64 " %-5" PRId64 " %-10s %-18s %-24s %-8s %s\n",
	       c->id, c->person_id, c->state, c->token_serial, c->person_name,
	       mssl_role_name(c->role), when);
	return 0;
}

static int cmd_card_list(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("account ID"));
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	rc = mssl_card_list(e->ctx, e->op, a.pos[0], card_cb, arr, e->err);
	return list_done(e, rc, arr);
}

static int cmd_card_state(struct env *e, int argc, char **argv,
			  const char *state)
{
	struct opt o[] = { { "reason", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int64_t id;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("card number"));
	id = number(a.pos[0], _("card number"), 1, INT64_MAX);
	OPEN(e);
	rc = mssl_card_set_state(e->ctx, e->op, id, state,
				 need_opt(&a, "reason"), e->err);
	if (rc < 0)
		return fail(rc, e->err);
	/* A resumed card returns on probation (mssl_card_set_state). */
	if (strcmp(state, "active") == 0)
		state = "issued_pin";
	if (json_out)
		print_json(json_pack("{s:I,s:s}", "card", (json_int_t)id,
				     "state", state));
	else if (strcmp(state, "issued_pin") == 0)
		printf(_("Card %" PRId64 " may log in again; its holder sets a new PIN at the next login.\n"),
		       id);
	else
		printf(_("Card %" PRId64 " is now %s.\n"), id, state);
	return 0;
}

static int c_card_suspend(struct env *e, int argc, char **argv)
{
	return cmd_card_state(e, argc, argv, "suspended");
}

static int c_card_resume(struct env *e, int argc, char **argv)
{
	return cmd_card_state(e, argc, argv, "active");
}

static int c_card_revoke(struct env *e, int argc, char **argv)
{
	return cmd_card_state(e, argc, argv, "revoked");
}

static int cmd_card_unlock_approve(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "verified-with", 1 }, { "show-code", 0 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	char *code = NULL;
	bool show;
	int64_t id;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("card number"));
	id = number(a.pos[0], _("card number"), 1, INT64_MAX);
	show = opt(&a, "show-code") != NULL;
	OPEN(e);
	rc = mssl_card_unlock_approve(e->ctx, e->op, id,
				      need_opt(&a, "verified-with"), &code,
				      e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I,s:s,s:o}", "card", (json_int_t)id,
				     "state", "locked", "code",
				     show ? json_string(code) : json_null()));
	else if (show)
		printf(_("Unlock of card %" PRId64 " approved; the notice with code %s is queued to the holder.\n"),
		       id, code);
	else
		printf(_("Unlock of card %" PRId64 " approved; the notice with the code is queued to the holder.\n"),
		       id);
	explicit_bzero(code, strlen(code));
	free(code);
	return 0;
}

/* The operator enrols a card: see mssl_token_enroll. */
static int cmd_card_enroll(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "person", 1 }, { "module", 1 }, { "token", 1 },
			   { "so-pin-fd", 1 }, { "key", 1 }, { "label", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	struct mssl_token_enrollment en = { 0 };
	mssl_token_module *m = NULL;
	mssl_token *tok = NULL;
	char so[64];
	const char *key;
	int64_t card = 0;
	int rc, n;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	en.person_id = number(need_opt(&a, "person"), "--person", 1,
			      INT64_MAX);
	key = opt(&a, "key") ? opt(&a, "key") : "auto";
	if (strcmp(key, "auto") == 0)
		en.key_type = MSSL_TOKEN_KEY_AUTO;
	else if (strcmp(key, "ec") == 0)
		en.key_type = MSSL_TOKEN_KEY_EC_P256;
	else if (strcmp(key, "rsa") == 0)
		en.key_type = MSSL_TOKEN_KEY_RSA_2048;
	else
		usage_error(_("--key must be auto, ec or rsa, not \"%s\""), key);
	n = mssl_token_read_pin(_("Card's current (transport) SO PIN: "),
				opt(&a, "so-pin-fd") ?
					(int)number(opt(&a, "so-pin-fd"),
						    "--so-pin-fd", 0, 1024) :
					-1,
				so, sizeof(so));
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", progname,
			_("no SO PIN read (give it on the terminal or with --so-pin-fd)"));
		return EXIT_USAGE;
	}
	OPEN(e);
	rc = mssl_token_module_open(need_opt(&a, "module"), &m, e->err);
	if (rc == 0)
		rc = mssl_token_open(m, opt(&a, "token"), &tok, e->err);
	if (rc == 0) {
		en.ctx = e->ctx;
		en.actor = e->op;
		en.transport_so_pin = so;
		en.transport_so_len = (size_t)n;
		en.label = opt(&a, "label");
		rc = mssl_token_enroll(tok, &en, &card, e->err);
	}
	explicit_bzero(so, sizeof(so));
	if (rc == 0) {
		const struct mssl_token_info *i = mssl_token_info(tok);

		if (json_out)
			print_json(json_pack("{s:I,s:I,s:s,s:s}", "card",
					     (json_int_t)card, "person",
					     (json_int_t)en.person_id,
					     "serial", i->serial, "state",
					     "issued_pin"));
		else
			printf(_("Card %" PRId64 " (serial %s) enrolled for person %" PRId64 " with PIN %s; the holder must change it at the first login.\n"),
			       card, i->serial, en.person_id,
			       MSSL_TOKEN_ISSUED_PIN);
	}
	mssl_token_free(tok);
	mssl_token_module_free(m);
	return rc < 0 ? fail(rc, e->err) : 0;
}

/* ---- issuance --------------------------------------------------------- */

/* A secret from a file descriptor ("--passphrase-fd N"), never argv. */
static char *read_secret_fd(const char *fdtext, const char *optname)
{
	char buf[256], *nl;
	ssize_t n;
	int fd = (int)number(fdtext, optname, 0, 1024);

	/* One line; a pipe may deliver it in pieces. */
	for (size_t got = 0;; got += (size_t)n) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "%s: %s %d: %s\n", progname, optname,
				fd, strerror(errno));
			exit(EXIT_USAGE);
		}
		buf[got + (size_t)n] = '\0';
		if (n == 0 || strchr(buf, '\n') ||
		    got + (size_t)n == sizeof(buf) - 1)
			break;
	}
	if (fd > 2)
		close(fd);
	buf[strcspn(buf, "\r\n")] = '\0';
	nl = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return nl;
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wx");

	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return EXIT_REFUSED;
	}
	return 0;
}

/* PEM of a DER certificate; caller frees. */
static char *cert_pem(const uint8_t *der, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t out_len = 64 + (len + 2) / 3 * 4 + len / 48 + 64, i, w = 0,
	       col = 0;
	char *out = malloc(out_len);

	if (!out)
		return NULL;
	w += (size_t)snprintf(out, out_len, "-----BEGIN CERTIFICATE-----\n");
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16 |
			     (i + 1 < len ? (uint32_t)der[i + 1] << 8 : 0) |
			     (i + 2 < len ? der[i + 2] : 0);

		out[w++] = b64[v >> 18 & 63];
		out[w++] = b64[v >> 12 & 63];
		out[w++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		out[w++] = i + 2 < len ? b64[v & 63] : '=';
		if ((col += 4) == 64) {
			out[w++] = '\n';
			col = 0;
		}
	}
	if (col)
		out[w++] = '\n';
	snprintf(out + w, out_len - w, "-----END CERTIFICATE-----\n");
	return out;
}

static int cmd_issue(struct env *e, int argc, char **argv)
{
	struct opt o[] = {
		{ "account", 1 }, { "csr", 1 }, { "product", 1 }, { "years", 1 },
		{ "vendor", 1 }, { "passphrase-fd", 1 }, { "tech-name", 1 },
		{ "tech-email", 1 }, { "tech-phone", 1 }, { "note", 1 },
		{ "seal-name", 1 }, { "renew", 1 }, { "idempotency-key", 1 },
		{ "out", 1 },
	};
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	mssl_issue_params p = { 0 };
	mssl_report *report = NULL;
	mssl_cert *cert = NULL;
	const struct mssl_cert_rec *r;
	mssl_csr *csr = NULL;
	const char *account, *outpath;
	char *text, *pem = NULL;
	size_t len = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	account = need_opt(&a, "account");
	p.product = product_arg(opt(&a, "product"));
	p.years = (int)number(opt(&a, "years") ? opt(&a, "years") : "1",
			      "--years", 1, 10);
	p.server_vendor = need_opt(&a, "vendor");
	p.tech_name = need_opt(&a, "tech-name");
	p.tech_email = need_opt(&a, "tech-email");
	p.tech_phone = opt(&a, "tech-phone");
	p.note = opt(&a, "note");
	p.seal_name = opt(&a, "seal-name");
	p.renewal_of = opt(&a, "renew");
	p.idempotency_key = opt(&a, "idempotency-key");
	outpath = opt(&a, "out");
	/* Decide where the certificate goes before it is paid for. */
	if (outpath && access(outpath, F_OK) == 0)
		usage_error(_("%s already exists; give --out a new file name"),
			    outpath);
	p.passphrase = read_secret_fd(need_opt(&a, "passphrase-fd"), "--passphrase-fd");
	text = read_file(need_opt(&a, "csr"), MSSL_CSR_MAX_SIZE, &len);
	rc = mssl_csr_parse(text, len, &csr, e->err);
	free(text);
	if (rc < 0) {
		rc = fail(rc, e->err);
		goto out;
	}
	if ((rc = env_open(e)) != 0)
		goto out;
	rc = mssl_issue(e->ctx, e->op, account, csr, &p, &cert, &report,
			e->err);
	if (rc == MSSL_EREJECTED && report) {
		if (json_out)
			print_json(report_json(mssl_csr_info(csr), report));
		else
			report_print(mssl_csr_info(csr), report);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (rc < 0) {
		rc = fail(rc, e->err);
		goto out;
	}
	r = mssl_cert_record(cert);
	pem = cert_pem(r->der, r->der_len);
	rc = pem && outpath ? write_file(outpath, pem, strlen(pem)) : 0;
	/* Issued and paid for: never lose it because a file failed. */
	if (rc != 0) {
		fprintf(stderr, _("%s: the certificate is printed below instead\n"),
			progname);
		outpath = NULL;
	}
	if (json_out)
		print_json(json_pack("{s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o}", "serial",
				     r->serial, "cn", r->cn, "state", r->state,
				     "charged", r->years, "not_before",
				     jtime(r->not_before), "not_after",
				     jtime(r->not_after), "file",
				     jstr(outpath), "pem",
				     outpath ? json_null() : jstr(pem)));
	else {
		char until[32];

		fmt_time(r->not_after, until, sizeof(until));
		printf(_("Certificate %s issued for %s, valid until %s; %d cert-years charged.\n"),
		       r->serial, r->cn, until, r->years);
		if (outpath)
			printf(_("Written to %s.\n"), outpath);
		else if (pem)
			fputs(pem, stdout);
	}
out:
	if (p.passphrase) {
		explicit_bzero((char *)p.passphrase, strlen(p.passphrase));
		free((char *)p.passphrase);
	}
	free(pem);
	mssl_cert_free(cert);
	mssl_report_free(report);
	mssl_csr_free(csr);
	return rc;
}

static int cmd_resolve_pending(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	int64_t n = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	OPEN(e);
	rc = mssl_cert_resolve_pending(e->ctx, e->op, &n, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I}", "resolved", (json_int_t)n));
	else
		printf(_("%" PRId64 " interrupted issuances settled (failed, refunded).\n"),
		       n);
	return 0;
}

static int cmd_mail_flush(struct env *e, int argc, char **argv)
{
	struct args a = { 0 };
	int64_t sent = 0, failed = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	OPEN(e);
	rc = mssl_mail_flush(e->ctx, e->op, &sent, &failed, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I,s:I}", "sent", (json_int_t)sent,
				     "failed", (json_int_t)failed));
	else
		printf(_("%" PRId64 " mails sent, %" PRId64 " failed (kept in the outbox for a retry).\n"),
		       sent, failed);
	return failed > 0 ? EXIT_REFUSED : 0;
}

/*
 * A time for --now: seconds since the epoch, or a UTC date
 * "YYYY-MM-DD" or date and time "YYYY-MM-DDTHH:MM:SSZ".
 */
static int64_t parse_time(const char *s, const char *what)
{
	struct tm tm;
	int n = 0, y, mo, d, h = 0, mi = 0, sec = 0;
	bool ok = false;

	if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-'))
		return number(s, what, 1, INT64_C(253402300799));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && !s[n])
		ok = true;
	else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi,
			&sec, &n) == 6 &&
		 !s[n])
		ok = true;
	if (ok && (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		   h > 23 || mi > 59 || sec > 60))
		ok = false;
	if (!ok)
		usage_error(_("%s must be seconds since 1970, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), not \"%s\""),
			    what, s);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm);
}

static int cmd_mail_remind(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "now", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	int64_t now = 0;
	size_t queued = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	if (opt(&a, "now"))
		now = parse_time(need_opt(&a, "now"), "--now");
	OPEN(e);
	rc = mssl_remind_expiring(e->ctx, e->op, now, &queued, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:I}", "queued", (json_int_t)queued));
	else
		printf(_("%zu expiry reminders queued in the mail outbox.\n"),
		       queued);
	return 0;
}

/* ---- revocation, CRL, downloads ---------------------------------------- */

static int cmd_revoke(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 }, { "reason", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	const char *serial, *account, *why;
	int reason, rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("a certificate serial"));
	serial = a.pos[0];
	account = need_opt(&a, "account");
	why = opt(&a, "reason") ? opt(&a, "reason") : "unspecified";
	reason = mssl_revoke_reason_parse(why);
	if (reason < 0)
		usage_error(_("--reason must be unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation, not \"%s\""),
			    why);
	OPEN(e);
	rc = mssl_cert_revoke(e->ctx, e->op, account, serial, reason, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	if (json_out)
		print_json(json_pack("{s:s,s:s,s:s}", "serial", serial,
				     "state", "revoked", "reason",
				     mssl_revoke_reason_name(reason)));
	else
		printf(_("Certificate %s revoked (%s).\n"), serial,
		       mssl_revoke_reason_name(reason));
	return 0;
}

static int cmd_crl(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "out", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	const char *outpath;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	outpath = opt(&a, "out");
	/* Before a CRL number is used up. */
	if (outpath && access(outpath, F_OK) == 0)
		usage_error(_("%s already exists; give --out a new file name"),
			    outpath);
	OPEN(e);
	rc = mssl_crl_generate(e->ctx, e->op, &der, &len, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	rc = outpath ? write_file(outpath, (const char *)der, len) : 0;
	if (rc == 0 && json_out)
		print_json(json_pack("{s:I,s:o}", "bytes", (json_int_t)len,
				     "file", jstr(outpath)));
	else if (rc == 0 && outpath)
		printf(_("CRL signed (%zu bytes, DER), written to %s.\n"), len,
		       outpath);
	else if (rc == 0)
		printf(_("CRL signed (%zu bytes, DER).\n"), len);
	mssl_free(der);
	return rc;
}

static int cmd_download(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 }, { "format", 1 }, { "out", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	const char *serial, *account, *format, *outpath;
	char *buf = NULL, *name = NULL;
	size_t len = 0;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 1, _("a certificate serial"));
	serial = a.pos[0];
	account = need_opt(&a, "account");
	format = opt(&a, "format") ? opt(&a, "format") : "vendor";
	/* Before the download is recorded. */
	if (opt(&a, "out") && access(opt(&a, "out"), F_OK) == 0)
		usage_error(_("%s already exists; give --out a new file name"),
			    opt(&a, "out"));
	OPEN(e);
	rc = mssl_cert_export(e->ctx, e->op, account, serial, format, &buf,
			      &len, &name, e->err);
	if (rc < 0)
		return fail(rc, e->err);
	/* Without --out: the name that says what it is, here. */
	outpath = opt(&a, "out") ? opt(&a, "out") : name;
	rc = write_file(outpath, buf, len);
	if (rc == 0 && json_out)
		print_json(json_pack("{s:s,s:I}", "file", outpath, "bytes",
				     (json_int_t)len));
	else if (rc == 0)
		printf(_("Written to %s.\n"), outpath);
	mssl_free(buf);
	mssl_free(name);
	return rc;
}

static int renewal_cb(void *ud, const struct mssl_cert_rec *r)
{
	char until[32];

	fmt_time(r->not_after, until, sizeof(until));
	if (ud)
		return json_array_append_new(
			ud, json_pack("{s:s,s:s,s:s,s:s}", "serial", r->serial,
				      "cn", r->cn, "not_after", until,
				      "seal_name", r->seal_name ? r->seal_name :
								  ""));
	printf("%-34s %-40s %s\n", r->serial, r->cn, until);
	return 0;
}

static int cmd_renewals(struct env *e, int argc, char **argv)
{
	struct opt o[] = { { "account", 1 } };
	struct args a = { o, MSSL_ARRAY_SIZE(o) };
	const char *account;
	json_t *arr;
	int rc;

	parse(argc, argv, &a);
	need_pos(&a, 0, "");
	account = need_opt(&a, "account");
	OPEN(e);
	arr = json_out ? json_array() : NULL;
	if (!json_out)
		printf("%-34s %-40s %s\n", _("SERIAL"), _("COMMON NAME"),
		       _("EXPIRES (UTC)"));
	rc = mssl_renewal_list(e->ctx, e->op, account, renewal_cb, arr,
			       e->err);
	return list_done(e, rc, arr);
}

/*
 * ca init: make a private CA (root and issuing CA, the issuing key on a
 * PKCS#11 token or in a file) with the generator shipped beside mssl;
 * every option goes to it unchanged (see tools/ca-init.sh).
 * MSSL_CA_INIT names another generator, e.g. in a build tree.
 */
static int cmd_ca_init(struct env *e, int argc, char **argv)
{
	const char *script = getenv("MSSL_CA_INIT");
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	int i;

	if (!script || !*script)
		script = PKGLIBEXECDIR "/ca-init.sh";
	if (!args)
		return EXIT_REFUSED;
	args[0] = (char *)"sh";
	args[1] = (char *)script;
	for (i = 0; i < argc; i++)
		args[i + 2] = argv[i];
	execv("/bin/sh", args);
	fprintf(stderr, "%s: %s: %s\n", progname, script, strerror(errno));
	free(args);
	return EXIT_REFUSED;
}

/* ---- dispatch ---------------------------------------------------------- */

static void usage(FILE *fp)
{
	fputs(_("Usage: mssl-admin [--config FILE] [--json] COMMAND ...\n"
		"\n"
		"Accounts:\n"
		"  account create --id ID --org-en NAME --products LIST\n"
		"                 --supervisor-name NAME --supervisor-email ADDR\n"
		"                 [--supervisor-phone PHONE] [--org-zh NAME]\n"
		"                 [--ev-country CC --ev-category CAT\n"
		"                  [--ev-state S] [--ev-locality L]]\n"
		"  account show ID | account list\n"
		"  account set ID KEY VALUE\n"
		"  account suspend ID --reason TEXT\n"
		"  account resume ID --reason TEXT\n"
		"  domain add ID DOMAIN [--force] | domain remove ID DOMAIN\n"
		"  domain list ID\n"
		"  contact add ID --name NAME --email ADDR [--kind KIND] [--phone P]\n"
		"  contact list ID\n"
		"Cert-years:\n"
		"  topup ID YEARS [--memo TEXT]\n"
		"  adjust ID CHANGE --memo TEXT\n"
		"  ledger show ID [--limit N] [--offset N] [--oldest-first]\n"
		"  ledger check [ID]\n"
		"Notices:\n"
		"  notice add [--account ID] --title T --body B [--expires-days N]\n"
		"  notice list [--account ID]\n"
		"Audit log:\n"
		"  audit verify | audit export [--from SEQ]\n"
		"Requests:\n"
		"  check --account ID --csr FILE [--product ssl|wildcard|ev]\n"
		"        [--renew SERIAL]\n"
		"  key block (--spki HEX | --file FILE | --csr FILE) [--reason TEXT]\n"
		"Certificates:\n"
		"  issue --account ID --csr FILE --vendor V --tech-name N\n"
		"        --tech-email ADDR --passphrase-fd FD [--product P]\n"
		"        [--years N] [--seal-name S] [--renew SERIAL] [--note T]\n"
		"        [--tech-phone P] [--idempotency-key K] [--out FILE]\n"
		"  cert resolve-pending\n"
		"  renewals --account ID\n"
		"  ca init --dir DIR [--name N] [--key-type T] [--token-label L] ...\n"
		"  revoke SERIAL --account ID [--reason R]\n"
		"         (unspecified, keyCompromise, affiliationChanged,\n"
		"          superseded, cessationOfOperation)\n"
		"  crl [--out FILE]\n"
		"  download SERIAL --account ID [--format pem|chain|der|p7b|vendor]\n"
		"           [--out FILE]\n"
		"Mail:\n"
		"  mail flush\n"
		"  mail remind [--now TIME]\n"
		"Persons and cards:\n"
		"  person add ID --name NAME --email ADDR --role manager|auditor\n"
		"  person list ID\n"
		"  person suspend PERSON --reason TEXT | person resume PERSON --reason TEXT\n"
		"  card enroll --person PERSON --module MODULE [--token URI]\n"
		"        [--so-pin-fd FD] [--key auto|ec|rsa] [--label L]\n"
		"  card list ID\n"
		"  card suspend|resume|revoke CARD --reason TEXT\n"
		"  card unlock-approve CARD --verified-with NAME [--show-code]\n"
		"\n"
		"Exit status: 0 done, 1 refused or failed, 2 bad usage or input.\n"
		"See mssl-admin(8).\n"),
	      fp);
}

struct cmd {
	const char *group, *verb;
	int (*fn)(struct env *e, int argc, char **argv);
};

static int c_suspend(struct env *e, int argc, char **argv)
{
	return cmd_account_suspend(e, argc, argv, 1);
}

static int c_resume(struct env *e, int argc, char **argv)
{
	return cmd_account_suspend(e, argc, argv, 0);
}

static int c_domain_add(struct env *e, int argc, char **argv)
{
	return cmd_domain(e, "add", argc, argv);
}

static int c_domain_remove(struct env *e, int argc, char **argv)
{
	return cmd_domain(e, "remove", argc, argv);
}

static int c_topup(struct env *e, int argc, char **argv)
{
	return cmd_topup_adjust(e, argc, argv, true);
}

static int c_adjust(struct env *e, int argc, char **argv)
{
	return cmd_topup_adjust(e, argc, argv, false);
}

static const struct cmd cmds[] = {
	{ "account", "create", cmd_account_create },
	{ "account", "show", cmd_account_show },
	{ "account", "list", cmd_account_list },
	{ "account", "set", cmd_account_set },
	{ "account", "suspend", c_suspend },
	{ "account", "resume", c_resume },
	{ "domain", "add", c_domain_add },
	{ "domain", "remove", c_domain_remove },
	{ "domain", "list", cmd_domain_list },
	{ "contact", "add", cmd_contact_add },
	{ "contact", "list", cmd_contact_list },
	{ "topup", NULL, c_topup },
	{ "adjust", NULL, c_adjust },
	{ "ledger", "show", cmd_ledger_show },
	{ "ledger", "check", cmd_ledger_check },
	{ "notice", "add", cmd_notice_add },
	{ "notice", "list", cmd_notice_list },
	{ "audit", "verify", cmd_audit_verify },
	{ "audit", "export", cmd_audit_export },
	{ "check", NULL, cmd_check },
	{ "key", "block", cmd_key_block },
	{ "issue", NULL, cmd_issue },
	{ "cert", "resolve-pending", cmd_resolve_pending },
	{ "renewals", NULL, cmd_renewals },
	{ "ca", "init", cmd_ca_init },
	{ "revoke", NULL, cmd_revoke },
	{ "crl", NULL, cmd_crl },
	{ "download", NULL, cmd_download },
	{ "mail", "flush", cmd_mail_flush },
	{ "mail", "remind", cmd_mail_remind },
	{ "person", "add", cmd_person_add },
	{ "person", "list", cmd_person_list },
	{ "person", "suspend", c_person_suspend },
	{ "person", "resume", c_person_resume },
	{ "card", "enroll", cmd_card_enroll },
	{ "card", "list", cmd_card_list },
	{ "card", "suspend", c_card_suspend },
	{ "card", "resume", c_card_resume },
	{ "card", "revoke", c_card_revoke },
	{ "card", "unlock-approve", cmd_card_unlock_approve },
};

int main(int argc, char **argv)
{
	const struct cmd *c = NULL;
	struct env e = { 0 };
	const char *dir;
	size_t i;
	int argi = 1, rc;

	setlocale(LC_ALL, "");
	dir = getenv("MSSL_LOCALEDIR");
	bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
	textdomain(PACKAGE);
	config_path = getenv("MSSL_CONFIG");
	if (!config_path || !*config_path)
		config_path = SYSCONFDIR "/mssl/mssl.conf";
	/* Global options come before the command. */
	while (argi < argc && strncmp(argv[argi], "--", 2) == 0) {
		if (strcmp(argv[argi], "--json") == 0) {
			json_out = true;
		} else if (strcmp(argv[argi], "--config") == 0 &&
			   argi + 1 < argc) {
			config_path = argv[++argi];
		} else if (strncmp(argv[argi], "--config=", 9) == 0) {
			config_path = argv[argi] + 9;
		} else if (strcmp(argv[argi], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[argi], "--version") == 0) {
			printf("mssl-admin %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			usage_error(_("unknown option %s"), argv[argi]);
		}
		argi++;
	}
	if (argi >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < MSSL_ARRAY_SIZE(cmds) && !c; i++) {
		if (strcmp(cmds[i].group, argv[argi]) != 0)
			continue;
		if (!cmds[i].verb)
			c = &cmds[i];
		else if (argi + 1 < argc &&
			 strcmp(cmds[i].verb, argv[argi + 1]) == 0)
			c = &cmds[i];
	}
	if (!c)
		usage_error(_("unknown command \"%s%s%s\""), argv[argi],
			    argi + 1 < argc ? " " : "",
			    argi + 1 < argc ? argv[argi + 1] : "");
	argi += c->verb ? 2 : 1;
	e.err = mssl_error_new();
	e.op = local_operator();
	if (!e.err || !e.op) {
		fprintf(stderr, "%s: %s\n", progname, _("out of memory"));
		rc = EXIT_REFUSED;
	} else {
		rc = c->fn(&e, argc - argi, argv + argi);
	}
	env_close(&e);
	return rc;
}
