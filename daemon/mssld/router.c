/*
 * The route table (the one list of what mssld answers; the OpenAPI test
 * compares it with doc/api/openapi.yaml), the JSON error shape, and the
 * handlers.  Handlers marked 'pool' run on a worker thread and may call
 * libmssl; the others run on the loop and must not block.
 */
#include "auth.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <fcntl.h>
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void h_health(struct mssld_call *call);
static void h_crl(struct mssld_call *call);
static void h_account(struct mssld_call *call);
static void h_check(struct mssld_call *call);

#define MEMBERS (MSSLD_ROLE(MSSL_ROLE_MANAGER) | MSSLD_ROLE(MSSL_ROLE_AUDITOR))
#define MANAGER MSSLD_ROLE(MSSL_ROLE_MANAGER)

const struct mssld_route mssld_routes[] = {
	{ "GET", "/api/v1/health", MSSLD_AUTH_NONE, 0, false, false, h_health,
	  "The daemon is up (and whether it is shutting down)" },
	{ "GET", "/crl/{name}", MSSLD_AUTH_NONE, 0, true, false, h_crl,
	  "The current CRL, DER, as [issuance] crl_file holds it" },
	{ "GET", "/api/v1/account", MSSLD_AUTH_SESSION, MEMBERS, true, false,
	  h_account, "The caller's account: balance, rules, contacts" },
	{ "GET", "/api/v1/home", MSSLD_AUTH_SESSION, MEMBERS, true, false,
	  mssld_h_home,
	  "Notices, balance, certificates by state, expiring soon" },
	{ "GET", "/api/v1/account/activity", MSSLD_AUTH_SESSION, MEMBERS, true,
	  false, mssld_h_activity,
	  "The cert-year ledger, newest first, a page at a time" },
	{ "POST", "/api/v1/requests/check", MSSLD_AUTH_SESSION_CSRF, MANAGER,
	  true, true, h_check,
	  "Validate a CSR for the caller's account without issuing" },
	/* Login with a card (api-auth.c). */
	{ "POST", "/api/v1/auth/challenge", MSSLD_AUTH_NONE, 0, true, true,
	  mssld_h_challenge, "A single-use nonce for a card login" },
	{ "POST", "/api/v1/auth/login", MSSLD_AUTH_NONE, 0, true, true,
	  mssld_h_login, "Open a session with a card's signed login proof" },
	{ "POST", "/api/v1/auth/logout", MSSLD_AUTH_SESSION_CSRF, MEMBERS, true,
	  false, mssld_h_logout, "End the caller's session" },
	{ "GET", "/api/v1/auth/me", MSSLD_AUTH_SESSION, MEMBERS, true, false,
	  mssld_h_me, "The caller: account, person, role and menu" },
	{ "POST", "/api/v1/card/pin-changed", MSSLD_AUTH_SESSION_CSRF, MEMBERS,
	  true, true, mssld_h_pin_changed,
	  "The card's PIN was changed: prove it, end the session" },
	{ "POST", "/api/v1/card/unlock/begin", MSSLD_AUTH_NONE, 0, true, true,
	  mssld_h_unlock_begin,
	  "Redeem an unlock code for the card's SO PIN" },
	{ "POST", "/api/v1/card/unlock/done", MSSLD_AUTH_NONE, 0, true, true,
	  mssld_h_unlock_done, "The card was unblocked with a new PIN" },
	/* Certificates (api-certs.c, api-issue.c); export before {serial}. */
	{ "GET", "/api/v1/certificates", MSSLD_AUTH_SESSION, MEMBERS, true,
	  false, mssld_h_cert_list,
	  "The account's certificates, filtered, a page at a time" },
	{ "POST", "/api/v1/certificates", MSSLD_AUTH_SESSION_CSRF, MANAGER,
	  true, true, mssld_h_issue,
	  "Issue a certificate (the checked request, confirmed)" },
	{ "GET", "/api/v1/certificates/export", MSSLD_AUTH_SESSION, MEMBERS,
	  true, false, mssld_h_cert_export,
	  "The same list as CSV (RFC 4180, UTF-8 with BOM), streamed" },
	{ "GET", "/api/v1/certificates/{serial}", MSSLD_AUTH_SESSION, MEMBERS,
	  true, false, mssld_h_cert_show, "One certificate of the account" },
	{ "GET", "/api/v1/certificates/{serial}/download", MSSLD_AUTH_SESSION,
	  MEMBERS, true, false, mssld_h_cert_download,
	  "The certificate as a file: pem, chain, der, p7b or vendor" },
	{ "GET", "/api/v1/renewals", MSSLD_AUTH_SESSION, MANAGER, true, false,
	  mssld_h_renewals, "Issued certificates close to expiry" },
	{ "POST", "/api/v1/certificates/{serial}/renew",
	  MSSLD_AUTH_SESSION_CSRF, MANAGER, true, true, mssld_h_renew,
	  "Renew a certificate: same CN, validity from its expiry" },
	{ "GET", "/api/v1/revocable", MSSLD_AUTH_SESSION, MANAGER, true, false,
	  mssld_h_revocable, "Issued certificates and the revocation reasons" },
	{ "POST", "/api/v1/certificates/{serial}/revoke",
	  MSSLD_AUTH_SESSION_CSRF, MANAGER, true, true, mssld_h_revoke,
	  "Revoke a certificate for an RFC 5280 reason" },
};
const size_t mssld_n_routes = MSSLD_ARRAY_SIZE(mssld_routes);

/* ---- messages in two languages ---------------------------------------- */

static pthread_once_t zh_once = PTHREAD_ONCE_INIT;
static locale_t zh_locale = (locale_t)0;

static void zh_setup(void)
{
	static const char *const names[] = { "zh_TW.UTF-8", "zh_TW.utf8",
					     "zh_TW" };
	size_t i;

	for (i = 0; i < MSSLD_ARRAY_SIZE(names) && !zh_locale; i++)
		zh_locale = newlocale(LC_MESSAGES_MASK, names[i], (locale_t)0);
}

/*
 * The zh-TW text of one of our msgids, whatever the process locale: only
 * this thread switches locale (libmssl has bound the "mssl" domain).
 */
static const char *tr_zh(const char *msgid)
{
	locale_t old;
	const char *t;

	pthread_once(&zh_once, zh_setup);
	if (!zh_locale)
		return msgid;
	old = uselocale(zh_locale);
	t = dgettext(PACKAGE, msgid);
	uselocale(old);
	return t;
}

static void set_body(struct mssld_resp *resp, int status, json_t *j)
{
	free(resp->body);
	resp->body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) :
			 NULL;
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	resp->status = resp->body ? status : 503;
	resp->content_type = "application/json";
	json_decref(j);
}

static void error_body(struct mssld_resp *resp, int status, const char *code,
		       const char *field, const char *en, const char *zh)
{
	set_body(resp, status,
		 json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", code,
			   "message", en, "message_zh", zh, "field",
			   field ? json_string(field) : json_null()));
}

void mssld_resp_error(struct mssld_resp *resp, int status, const char *code,
		      const char *field, const char *msgid, ...)
{
	char en[512], zh[1024];
	va_list ap;

	va_start(ap, msgid);
	vsnprintf(en, sizeof(en), msgid, ap);
	va_end(ap);
	va_start(ap, msgid);
	vsnprintf(zh, sizeof(zh), tr_zh(msgid), ap);
	va_end(ap);
	error_body(resp, status, code, field, en, zh);
}

void mssld_resp_mssl_error(struct mssld_resp *resp, int status, int rc,
			   mssl_error *err)
{
	const char *en = mssl_error_message(err, MSSL_LANG_EN);
	const char *zh = mssl_error_message(err, MSSL_LANG_ZH_TW);
	const char *id = mssl_error_id(err);

	error_body(resp, status, *id ? id : mssl_err_name(rc), mssl_error_field(err),
		   *en ? en : mssl_strerror(rc), *zh ? zh : mssl_strerror(rc));
}

void mssld_resp_json(struct mssld_resp *resp, int status, json_t *j)
{
	set_body(resp, status, j);
}

void mssld_resp_clear(struct mssld_resp *resp)
{
	/* A body may carry a session token or an SO PIN. */
	if (resp->body)
		gnutls_memset(resp->body, 0, resp->body_len);
	free(resp->body);
	if (resp->file_open)
		close(resp->file_fd);
	memset(resp, 0, sizeof(*resp));
}

int mssld_status_of(int rc)
{
	switch (rc) {
	case MSSL_EINPUT:
	case MSSL_EINVAL:
		return 400;
	case MSSL_EPERM:
		return 403;
	case MSSL_ENOENT:
		return 404;
	case MSSL_EEXIST:
	case MSSL_ESTATE:
	case MSSL_EBALANCE:
		return 409;
	case MSSL_EREJECTED:
		return 422;
	case MSSL_EBUSY:
	case MSSL_ENOMEM:
		return 503;
	default:
		return 500;
	}
}

void mssld_fail_lib(struct mssld_call *call, int rc)
{
	int status = mssld_status_of(rc);

	if (status >= 500)
		mssld_log(MSSL_LOG_ERROR, call->req->rid, "%s: %s: %s",
			  call->route->pattern, mssl_err_name(rc),
			  mssl_error_message(call->err, MSSL_LANG_EN));
	mssld_resp_mssl_error(&call->resp, status, rc, call->err);
}

/* ---- matching ----------------------------------------------------------- */

/*
 * Match 'path' against 'pattern'; a {name} segment takes one non-empty
 * segment of letters, digits, '.', '_' and '-' (no '..').  Captured
 * segments go to r->param (copied to r->param_buf).
 */
static bool match(const char *pattern, const char *path, struct mssld_req *r,
		  bool capture)
{
	const char *p = pattern, *s = path, *seg;
	size_t np = 0, n, off = 0;
	char *buf = NULL;

	if (capture) {
		buf = malloc(strlen(path) + 1);
		if (!buf)
			return false;
	}
	while (*p && *s) {
		if (*p == '{') {
			seg = s;
			while (*s && *s != '/') {
				if (!((*s >= 'a' && *s <= 'z') ||
				      (*s >= 'A' && *s <= 'Z') ||
				      (*s >= '0' && *s <= '9') ||
				      strchr("._-", *s)))
					goto no;
				s++;
			}
			n = (size_t)(s - seg);
			if (n == 0 || (n == 2 && seg[0] == '.' && seg[1] == '.') ||
			    np == MSSLD_MAX_PARAMS)
				goto no;
			if (capture) {
				memcpy(buf + off, seg, n);
				buf[off + n] = '\0';
				r->param[np] = buf + off;
				off += n + 1;
			}
			np++;
			p = strchr(p, '}');
			if (!p)
				goto no;
			p++;
			continue;
		}
		if (*p != *s)
			goto no;
		p++;
		s++;
	}
	if (*p || *s)
		goto no;
	if (capture) {
		free(r->param_buf);
		r->param_buf = buf;
	}
	return true;
no:
	free(buf);
	return false;
}

const struct mssld_route *mssld_route_find(struct mssld_req *r, int *status,
					   char *allow, size_t allow_len)
{
	struct http_parser_url u;
	const char *method;
	char *path;
	size_t i, k = 0;
	bool known = false;

	*status = 404;
	http_parser_url_init(&u);
	if (!r->url ||
	    http_parser_parse_url(r->url, r->url_len,
				  r->method == HTTP_CONNECT, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH)))
		return NULL;
	path = strndup(r->url + u.field_data[UF_PATH].off,
		       u.field_data[UF_PATH].len);
	if (!path)
		return NULL;
	free(r->path);
	r->path = path;
	/* HEAD is GET without the body. */
	method = http_method_str(r->method == HTTP_HEAD ?
					 HTTP_GET :
					 (enum http_method)r->method);
	for (i = 0; i < mssld_n_routes; i++) {
		const struct mssld_route *rt = &mssld_routes[i];

		if (!match(rt->pattern, path, r, false))
			continue;
		if (strcmp(rt->method, method) == 0) {
			if (!match(rt->pattern, path, r, true))
				return NULL;
			return rt;
		}
		known = true;
		k += (size_t)snprintf(allow + k, k < allow_len ? allow_len - k : 0,
				      "%s%s", k ? ", " : "", rt->method);
		if (strcmp(rt->method, "GET") == 0)
			k += (size_t)snprintf(allow + k,
					      k < allow_len ? allow_len - k : 0,
					      ", HEAD");
	}
	if (known)
		*status = 405;
	return NULL;
}

/* ---- running a call ------------------------------------------------------ */

/* application/json, with parameters allowed (charset must be UTF-8). */
static bool is_json_type(const char *ct)
{
	const char *semi, *cs;

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	semi = ct + 16;
	while (*semi == ' ')
		semi++;
	if (!*semi)
		return true;
	if (*semi != ';')
		return false;
	cs = strcasestr(semi, "charset=");
	return !cs || strncasecmp(cs + 8, "utf-8", 5) == 0 ||
	       strncasecmp(cs + 8, "\"utf-8\"", 7) == 0;
}

void mssld_call_run(struct mssld_call *call)
{
	const struct mssld_route *rt = call->route;
	struct mssld_req *r = call->req;
	json_error_t jerr;

	/* Authentication first: a stranger learns nothing of the body rules. */
	if (rt->auth != MSSLD_AUTH_NONE && mssld_auth_call(call) < 0)
		return;
	if (rt->json_body) {
		if (!is_json_type(mssld_req_header(r, "content-type"))) {
			mssld_resp_error(&call->resp, 415, "http.content_type",
					 NULL,
					 N_("send the body as application/json"));
			return;
		}
		call->json = json_loadb(r->body ? r->body : "", r->body_len,
					JSON_REJECT_DUPLICATES, &jerr);
		if (!call->json) {
			mssld_resp_error(&call->resp, 400, "json.syntax", NULL,
					 N_("the body is not valid JSON (line %d, column %d)"),
					 jerr.line, jerr.column);
			return;
		}
		if (!json_is_object(call->json)) {
			mssld_resp_error(&call->resp, 400, "json.not_object",
					 NULL,
					 N_("the body must be a JSON object"));
			return;
		}
	}
	rt->handler(call);
}

/* ---- handlers ------------------------------------------------------------ */

static void h_health(struct mssld_call *call)
{
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:s,s:s,s:b}", "status", "ok", "version",
				  PACKAGE_VERSION, "draining",
				  call->srv->draining));
}

#define CRL_MAX (64 * 1024 * 1024)

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The CRL file as libmssl last wrote it (renamed into place whole). */
static void h_crl(struct mssld_call *call)
{
	const char *file = mssl_ctx_crl_file(call->ctx);
	const char *name = call->req->param[0];
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd = -1;

	if (!file || !name || strcmp(base_name(file), name) != 0)
		goto missing;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			mssld_log(MSSL_LOG_ERROR, call->req->rid,
				  "cannot read the CRL %s: %s", file,
				  strerror(errno));
		goto missing;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CRL_MAX || !(buf = malloc((size_t)st.st_size + 1)))
		goto broken;
	while (got < (size_t)st.st_size &&
	       (k = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)k;
	if (got != (size_t)st.st_size)
		goto broken;
	close(fd);
	call->resp.status = 200;
	call->resp.content_type = "application/pkix-crl";
	call->resp.body = buf;
	call->resp.body_len = got;
	snprintf(call->resp.extra, sizeof(call->resp.extra),
		 "Cache-Control: public, max-age=300\r\n");
	return;
broken:
	mssld_log(MSSL_LOG_ERROR, call->req->rid, "cannot read the CRL %s",
		  file);
	free(buf);
	close(fd);
	mssld_resp_error(&call->resp, 500, "crl.read", NULL,
			 N_("the CRL cannot be read"));
	return;
missing:
	mssld_resp_error(&call->resp, 404, "crl.not_found", NULL,
			 N_("no such CRL"));
}

json_t *mssld_jstr(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	/* Text that is not UTF-8 (it came from a CSR) goes out as null
	 * rather than failing the whole answer. */
	return j ? j : json_null();
}

/*
 * The body member 'name': *v is NULL when it is absent or null, which is
 * an answered error (-1) when it is required.
 */
static int body_member(struct mssld_call *call, const char *name,
		       bool required, json_t **v)
{
	*v = json_object_get(call->json, name);
	if (*v && json_is_null(*v))
		*v = NULL;
	if (*v || !required)
		return 0;
	mssld_resp_error(&call->resp, 400, "json.required", name,
			 N_("%s is required"), name);
	return -1;
}

int mssld_body_str(struct mssld_call *call, const char *name, bool required,
		   const char **out)
{
	json_t *v;

	*out = NULL;
	if (body_member(call, name, required, &v) < 0)
		return -1;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		mssld_resp_error(&call->resp, 400, "json.type", name,
				 N_("%s must be a string"), name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int mssld_body_int(struct mssld_call *call, const char *name, bool required,
		   int64_t min, int64_t max, int64_t dflt, int64_t *out)
{
	json_t *v;

	*out = dflt;
	if (body_member(call, name, required, &v) < 0)
		return -1;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		mssld_resp_error(&call->resp, 400, "json.range", name,
				 N_("%s must be a whole number from %lld to %lld"),
				 name, (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int mssld_body_b64(struct mssld_call *call, const char *name, bool required,
		   uint8_t **out, size_t *len)
{
	gnutls_datum_t in, dec = { NULL, 0 };
	const char *s;

	*out = NULL;
	*len = 0;
	if (mssld_body_str(call, name, required, &s) < 0)
		return -1;
	if (!s)
		return 0;
	in.data = (unsigned char *)s;
	in.size = (unsigned)strlen(s);
	if (in.size == 0 || gnutls_base64_decode2(&in, &dec) < 0) {
		mssld_resp_error(&call->resp, 400, "json.base64", name,
				 N_("%s must be base64"), name);
		return -1;
	}
	*out = malloc(dec.size ? dec.size : 1);
	if (!*out) {
		gnutls_free(dec.data);
		mssld_resp_error(&call->resp, 503, "nomem", NULL,
				 N_("out of memory"));
		return -1;
	}
	memcpy(*out, dec.data, dec.size);
	*len = dec.size;
	gnutls_free(dec.data);
	return 0;
}

json_t *mssld_json_b64(const uint8_t *data, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)len };
	gnutls_datum_t enc = { NULL, 0 };
	json_t *j;

	if (gnutls_base64_encode2(&in, &enc) < 0)
		return json_null();
	j = json_stringn((const char *)enc.data, enc.size);
	gnutls_free(enc.data);
	return j ? j : json_null();
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *mssld_query_param(const struct mssld_req *r, const char *name,
			      char *buf, size_t n, bool *bad)
{
	const char *q = r->url ? memchr(r->url, '?', r->url_len) : NULL;
	const char *end = r->url ? r->url + r->url_len : NULL, *p, *amp;
	size_t nl = strlen(name), k;
	json_t *check;

	if (!q)
		return NULL;
	for (p = q + 1; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (!amp)
			amp = end;
		if ((size_t)(amp - p) < nl || strncmp(p, name, nl) != 0 ||
		    (p + nl < amp && p[nl] != '=')) {
			if (amp == end)
				break;
			continue;
		}
		p += nl + (p + nl < amp);
		for (k = 0; p < amp; p++) {
			char c = *p;

			if (c == '+')
				c = ' ';
			else if (c == '%' && amp - p >= 3 &&
				 hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else if (c == '%') {
				*bad = true;
				return NULL;
			}
			if (k + 1 >= n || c == '\0') {
				*bad = true;
				return NULL;
			}
			buf[k++] = c;
		}
		buf[k] = '\0';
		/* Text only: jansson checks it is UTF-8. */
		check = json_string(buf);
		if (!check) {
			*bad = true;
			return NULL;
		}
		json_decref(check);
		return buf;
	}
	return NULL;
}

static void h_account(struct mssld_call *call)
{
	mssl_account_info *a = NULL;
	json_t *j, *doms, *cts;
	char *products;
	size_t i;
	int rc;

	if (!call->account_id) {
		mssl_error_set(call->err, MSSL_EINPUT, "account.none", NULL,
			       N_("this session belongs to no account"));
		mssld_fail_lib(call, MSSL_EINPUT);
		return;
	}
	rc = mssl_account_get(call->ctx, call->actor, call->account_id, &a,
			      call->err);
	if (rc < 0) {
		mssld_fail_lib(call, rc);
		return;
	}
	doms = json_array();
	cts = json_array();
	for (i = 0; i < a->n_domains; i++)
		json_array_append_new(doms, json_string(a->domains[i]));
	for (i = 0; i < a->n_contacts; i++)
		json_array_append_new(
			cts, json_pack("{s:I,s:o,s:o,s:o,s:o}", "id",
				       (json_int_t)a->contacts[i].id, "kind",
				       mssld_jstr(a->contacts[i].kind), "name",
				       mssld_jstr(a->contacts[i].name), "email",
				       mssld_jstr(a->contacts[i].email), "phone",
				       mssld_jstr(a->contacts[i].phone)));
	products = mssl_products_format(a->products);
	j = json_pack("{s:s,s:o,s:o,s:o,s:s,s:I,s:o,s:o}", "id", a->id,
		      "org_name_en", mssld_jstr(a->org_name_en), "org_name_zh",
		      mssld_jstr(a->org_name_zh), "products", mssld_jstr(products),
		      "status",
		      a->status == MSSL_ACCOUNT_SUSPENDED ? "suspended" :
							    "active",
		      "balance", (json_int_t)a->balance, "domains", doms,
		      "contacts", cts);
	mssl_free(products);
	mssl_account_info_free(a);
	mssld_resp_json(&call->resp, 200, j);
}

static void h_check(struct mssld_call *call)
{
	json_t *b = call->json, *v, *j;
	const char *product, *csr_text, *renew = NULL;
	mssl_check_params params = { 0 };
	mssl_report *rep = NULL;
	mssl_csr *csr = NULL;
	json_t *quote = NULL;
	int64_t years, nb, na, term;
	int rc, price;

	if (mssld_body_int(call, "years", false, 1, 1000, 1, &years) < 0)
		return;
	v = json_object_get(b, "product");
	product = json_string_value(v);
	v = json_object_get(b, "csr");
	csr_text = json_string_value(v);
	v = json_object_get(b, "renewal_of");
	if (v && !json_is_null(v) && !(renew = json_string_value(v))) {
		mssld_resp_error(&call->resp, 400, "json.type", "renewal_of",
				 N_("renewal_of must be a string"));
		return;
	}
	if (!product) {
		mssld_resp_error(&call->resp, 400, "json.required", "product",
				 N_("product is required: ssl, wildcard or ev"));
		return;
	}
	if (!csr_text) {
		mssld_resp_error(&call->resp, 400, "json.required", "csr",
				 N_("csr is required: the PEM request"));
		return;
	}
	rc = mssl_products_parse(product, "product", &params.product,
				 call->err);
	if (rc == 0)
		rc = mssl_csr_parse(csr_text, strlen(csr_text), &csr,
				    call->err);
	params.renewal_of = renew;
	if (rc == 0)
		rc = mssl_check(call->ctx, call->actor, call->account_id, csr,
				&params, &rep, call->err);
	if (rc < 0 && rc != MSSL_EREJECTED) {
		mssl_csr_free(csr);
		mssld_fail_lib(call, rc);
		return;
	}
	/* The price and validity for the years asked (default 1). */
	rc = mssl_report_quote(rep, (int)years, &price, &nb, &na, &term,
			       call->err);
	if (rc == MSSL_EINPUT) {
		mssl_report_free(rep);
		mssl_csr_free(csr);
		mssld_fail_lib(call, rc);
		return;
	}
	if (rc == 0)
		quote = json_pack("{s:I,s:I,s:{s:I,s:I,s:I,s:I}}", "years",
				  (json_int_t)years, "price", (json_int_t)price,
				  "validity", "not_before", (json_int_t)nb,
				  "not_after", (json_int_t)na, "days",
				  (json_int_t)((na - nb) / 86400), "term_until",
				  (json_int_t)term);
	j = mssld_report_json(rep);
	json_object_set_new(j, "subject", mssld_subject_json(csr));
	if (quote)
		json_object_update(j, quote);
	json_decref(quote);
	mssld_resp_json(&call->resp, 200, j);
	mssl_report_free(rep);
	mssl_csr_free(csr);
}
