/*
 * The account's certificates (SPEC §7): the list with filters and pages,
 * the CSV export, one certificate, and downloads in each format.  Reads
 * go through libmssl (mssl_cert_list, mssl_cert_get, mssl_cert_export),
 * which checks role and account and writes the audit record.  All run
 * on the thread pool.
 *
 * The CSV export streams: each row goes from the store's cursor into a
 * spool file (unlinked at once) through a small buffer, and the
 * connection sends that file a chunk at a time, so memory stays flat
 * however many certificates there are; the store's read transaction and
 * the worker end as soon as the rows are read, whatever the client's
 * speed.
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000

static json_t *jtime(int64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

json_t *mssld_cert_json(const struct mssl_cert_rec *r, bool full)
{
	char *product = mssl_products_format(r->product);
	json_t *j;

	j = json_pack("{s:s,s:o,s:o,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o}",
		      "serial", r->serial, "cn", mssld_jstr(r->cn), "product",
		      mssld_jstr(product), "state", r->state, "years",
		      r->years, "not_before", jtime(r->not_before),
		      "not_after", jtime(r->not_after), "created",
		      jtime(r->created), "revoked_at", jtime(r->revoked_at),
		      "revoke_reason",
		      r->revoke_reason >= 0 ?
			      json_string(mssl_revoke_reason_name(
				      r->revoke_reason)) :
			      json_null(),
		      "note", mssld_jstr(r->note));
	mssl_free(product);
	if (j && full) {
		json_object_set_new(j, "renewal_of", mssld_jstr(r->renewal_of));
		json_object_set_new(j, "requested_by",
				    mssld_jstr(r->requested_by));
		json_object_set_new(j, "server_vendor",
				    mssld_jstr(r->server_vendor));
		json_object_set_new(j, "seal_name", mssld_jstr(r->seal_name));
		json_object_set_new(
			j, "technical_contact",
			json_pack("{s:o,s:o,s:o}", "name",
				  mssld_jstr(r->tech_name), "email",
				  mssld_jstr(r->tech_email), "phone",
				  mssld_jstr(r->tech_phone)));
	}
	return j;
}

/* A whole number query parameter in [min, max], dflt when absent. */
static int query_int(struct mssld_call *call, const char *name, int64_t min,
		     int64_t max, int64_t dflt, int64_t *out)
{
	char buf[32], *end;
	bool bad = false;
	const char *v = mssld_query_param(call->req, name, buf, sizeof(buf),
					  &bad);
	long long x;

	*out = dflt;
	if (!v && !bad)
		return 0;
	errno = 0;
	x = v ? strtoll(v, &end, 10) : 0;
	if (bad || !*v || *end || errno || x < min || x > max) {
		mssld_resp_error(&call->resp, 400, "query.range", name,
				 N_("%s must be a whole number from %lld to %lld"),
				 name, (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

struct filters {
	char cn[256], domain[256], state[16];
	mssl_cert_query q;
};

/* cn, domain and state from the query string. */
static int filters_of(struct mssld_call *call, struct filters *f)
{
	static const char *const names[] = { "cn", "domain", "state" };
	char *bufs[] = { f->cn, f->domain, f->state };
	size_t sizes[] = { sizeof(f->cn), sizeof(f->domain),
			   sizeof(f->state) };
	const char *vals[3];
	size_t i;

	memset(&f->q, 0, sizeof(f->q));
	for (i = 0; i < 3; i++) {
		bool bad = false;

		vals[i] = mssld_query_param(call->req, names[i], bufs[i],
					    sizes[i], &bad);
		if (bad) {
			mssld_resp_error(&call->resp, 400, "query.value",
					 names[i],
					 N_("%s is too long or not text"),
					 names[i]);
			return -1;
		}
	}
	f->q.cn_contains = vals[0];
	f->q.domain = vals[1];
	f->q.state = vals[2];
	f->q.newest_first = 1;
	return 0;
}

struct page {
	json_t *items;
	int64_t want;
	bool more;
};

static int page_add(void *ud, const struct mssl_cert_rec *r)
{
	struct page *p = ud;

	if ((int64_t)json_array_size(p->items) == p->want) {
		p->more = true;
		return 1;
	}
	return json_array_append_new(p->items, mssld_cert_json(r, false)) < 0 ?
		       MSSL_ENOMEM :
		       0;
}

void mssld_h_cert_list(struct mssld_call *call)
{
	struct filters f;
	struct page p = { 0 };
	int64_t offset, limit;
	int rc;

	if (filters_of(call, &f) < 0 ||
	    query_int(call, "offset", 0, INT64_MAX / 2, 0, &offset) < 0 ||
	    query_int(call, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) < 0)
		return;
	f.q.offset = offset;
	f.q.limit = limit + 1; /* one more says whether there is a next page */
	p.items = json_array();
	p.want = limit;
	rc = mssl_cert_list(call->ctx, call->actor, call->account_id, &f.q,
			    page_add, &p, call->err);
	if (rc < 0) {
		json_decref(p.items);
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:o,s:I,s:I,s:b}", "items", p.items,
				  "offset", (json_int_t)offset, "limit",
				  (json_int_t)limit, "has_more", p.more));
}

/* ---- CSV (RFC 4180, UTF-8 with a BOM so Excel reads Chinese notes) ---- */

struct spool {
	int fd;
	char buf[64 * 1024];
	size_t n;
	uint64_t total;
	int error; /* errno of a failed write */
};

static int spool_flush(struct spool *s)
{
	size_t off = 0;
	ssize_t k;

	while (off < s->n) {
		k = write(s->fd, s->buf + off, s->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			s->error = k < 0 ? errno : EIO;
			return -1;
		}
		off += (size_t)k;
	}
	s->total += s->n;
	s->n = 0;
	return 0;
}

static int spool_put(struct spool *s, const char *p, size_t len)
{
	while (len) {
		size_t take = sizeof(s->buf) - s->n;

		if (take > len)
			take = len;
		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n == sizeof(s->buf) && spool_flush(s) < 0)
			return -1;
	}
	return 0;
}

/*
 * One field: quoted when it holds a comma, quote, CR or LF (quotes
 * doubled).  Text a spreadsheet would run as a formula (=, +, -, @,
 * tab, CR first) gets a leading apostrophe, as OWASP advises.
 */
static int csv_field(struct spool *s, const char *v, bool last)
{
	bool quote = false, formula;
	const char *p;
	int r = 0;

	v = v ? v : "";
	formula = v[0] && strchr("=+-@\t\r", v[0]) != NULL;
	for (p = v; *p && !quote; p++)
		quote = *p == ',' || *p == '"' || *p == '\r' || *p == '\n';
	if (quote)
		r |= spool_put(s, "\"", 1);
	if (formula)
		r |= spool_put(s, "'", 1);
	for (p = v; *p; p++) {
		if (*p == '"')
			r |= spool_put(s, "\"", 1);
		r |= spool_put(s, p, 1);
	}
	if (quote)
		r |= spool_put(s, "\"", 1);
	r |= spool_put(s, last ? "\r\n" : ",", last ? 2 : 1);
	return r ? -1 : 0;
}

static void iso_time(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *const csv_head[] = {
	"serial",	"cn",	      "product",       "state",
	"years",	"not_before", "not_after",     "created",
	"revoked_at",	"revoke_reason", "server_vendor", "technical_contact",
	"technical_email", "technical_phone", "seal_name", "renewal_of",
	"requested_by", "note",
};

static int csv_row(void *ud, const struct mssl_cert_rec *r)
{
	struct spool *s = ud;
	char *product = mssl_products_format(r->product);
	char years[16], nb[32], na[32], cr[32], rv[32];
	const char *v[MSSLD_ARRAY_SIZE(csv_head)];
	size_t i;
	int rc = 0;

	snprintf(years, sizeof(years), "%d", r->years);
	iso_time(r->not_before, nb);
	iso_time(r->not_after, na);
	iso_time(r->created, cr);
	iso_time(r->revoked_at, rv);
	v[0] = r->serial;
	v[1] = r->cn;
	v[2] = product;
	v[3] = r->state;
	v[4] = years;
	v[5] = nb;
	v[6] = na;
	v[7] = cr;
	v[8] = rv;
	v[9] = r->revoke_reason >= 0 ?
		       mssl_revoke_reason_name(r->revoke_reason) :
		       "";
	v[10] = r->server_vendor;
	v[11] = r->tech_name;
	v[12] = r->tech_email;
	v[13] = r->tech_phone;
	v[14] = r->seal_name;
	v[15] = r->renewal_of;
	v[16] = r->requested_by;
	v[17] = r->note;
	for (i = 0; rc == 0 && i < MSSLD_ARRAY_SIZE(v); i++)
		rc = csv_field(s, v[i], i + 1 == MSSLD_ARRAY_SIZE(v));
	mssl_free(product);
	return rc < 0 ? MSSL_EIO : 0;
}

/* An anonymous file for the spool: gone from the file system at once. */
static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	snprintf(path, sizeof(path), "%s/mssld-export.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

void mssld_h_cert_export(struct mssld_call *call)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct filters f;
	struct spool *s;
	size_t i;
	int rc = 0;

	if (filters_of(call, &f) < 0)
		return;
	s = malloc(sizeof(*s));
	if (!s) {
		mssld_resp_error(&call->resp, 503, "nomem", NULL,
				 N_("out of memory"));
		return;
	}
	s->n = 0;
	s->total = 0;
	s->error = 0;
	s->fd = spool_open();
	if (s->fd < 0) {
		mssld_log(MSSL_LOG_ERROR, call->req->rid,
			  "cannot create a spool file: %s", strerror(errno));
		mssld_resp_error(&call->resp, 503, "export.spool", NULL,
				 N_("the export cannot be prepared now; try again later"));
		free(s);
		return;
	}
	spool_put(s, bom, 3);
	for (i = 0; i < MSSLD_ARRAY_SIZE(csv_head); i++)
		csv_field(s, csv_head[i], i + 1 == MSSLD_ARRAY_SIZE(csv_head));
	rc = mssl_cert_list(call->ctx, call->actor, call->account_id, &f.q,
			    csv_row, s, call->err);
	if (rc >= 0 && !s->error)
		spool_flush(s);
	if (rc >= 0 && s->error)
		rc = MSSL_EIO;
	if (rc < 0) {
		if (s->error)
			mssld_log(MSSL_LOG_ERROR, call->req->rid,
				  "cannot write the spool file: %s",
				  strerror(s->error));
		close(s->fd);
		free(s);
		if (rc == MSSL_EIO && !mssl_error_code(call->err))
			mssld_resp_error(&call->resp, 503, "export.spool", NULL,
					 N_("the export cannot be prepared now; try again later"));
		else
			mssld_fail_lib(call, rc);
		return;
	}
	if (lseek(s->fd, 0, SEEK_SET) != 0) {
		close(s->fd);
		free(s);
		mssld_resp_error(&call->resp, 503, "export.spool", NULL,
				 N_("the export cannot be prepared now; try again later"));
		return;
	}
	call->resp.status = 200;
	call->resp.content_type = "text/csv; charset=utf-8; header=present";
	call->resp.file_open = true;
	call->resp.file_fd = s->fd;
	call->resp.file_size = s->total;
	snprintf(call->resp.extra, sizeof(call->resp.extra),
		 "Content-Disposition: attachment; "
		 "filename=\"certificates-%s.csv\"\r\n",
		 call->account_id ? call->account_id : "all");
	free(s);
}

/* ---- one certificate, downloads ------------------------------------------ */

static int one_cert(void *ud, const struct mssl_cert_rec *r)
{
	json_t **out = ud;

	*out = mssld_cert_json(r, true);
	return *out ? 0 : MSSL_ENOMEM;
}

void mssld_h_cert_show(struct mssld_call *call)
{
	json_t *j = NULL;
	int rc;

	rc = mssl_cert_get(call->ctx, call->actor, call->account_id,
			   call->req->param[0], one_cert, &j, call->err);
	if (rc < 0) {
		json_decref(j);
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200, j);
}

static const struct {
	const char *format;
	const char *type;
} formats[] = {
	{ "pem", "application/x-pem-file" },
	{ "chain", "application/x-pem-file" },
	{ "der", "application/pkix-cert" },
	{ "p7b", "application/x-pkcs7-certificates" },
	{ "vendor", NULL }, /* by what libmssl picked: see the file name */
};

/* The file name for Content-Disposition: [A-Za-z0-9._-] and '_'. */
static void safe_name(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < n; i++)
		out[i] = ((in[i] >= 'a' && in[i] <= 'z') ||
			  (in[i] >= 'A' && in[i] <= 'Z') ||
			  (in[i] >= '0' && in[i] <= '9') ||
			  strchr("._-", in[i])) ?
				 in[i] :
				 '_';
	out[i] = '\0';
}

static const char *type_of_name(const char *name)
{
	size_t n = strlen(name);

	if (n > 4 && strcmp(name + n - 4, ".der") == 0)
		return "application/pkix-cert";
	if (n > 4 && strcmp(name + n - 4, ".p7b") == 0)
		return "application/x-pkcs7-certificates";
	return "application/x-pem-file";
}

void mssld_h_cert_download(struct mssld_call *call)
{
	char fbuf[16], safe[128], *buf = NULL, *name = NULL;
	const char *format, *type = NULL;
	bool bad = false;
	size_t len = 0, i;
	int rc;

	format = mssld_query_param(call->req, "format", fbuf, sizeof(fbuf),
				   &bad);
	if (!format && !bad)
		format = "pem";
	for (i = 0; format && i < MSSLD_ARRAY_SIZE(formats); i++)
		if (strcmp(format, formats[i].format) == 0)
			break;
	if (!format || i == MSSLD_ARRAY_SIZE(formats)) {
		mssld_resp_error(&call->resp, 400, "query.format", "format",
				 N_("format must be pem, chain, der, p7b or vendor"));
		return;
	}
	type = formats[i].type;
	rc = mssl_cert_export(call->ctx, call->actor, call->account_id,
			      call->req->param[0], format, &buf, &len, &name,
			      call->err);
	if (rc < 0) {
		mssld_fail_lib(call, rc);
		return;
	}
	safe_name(name ? name : "certificate", safe, sizeof(safe));
	call->resp.status = 200;
	call->resp.content_type = type ? type : type_of_name(safe);
	call->resp.body = malloc(len ? len : 1);
	if (!call->resp.body) {
		mssl_free(buf);
		mssl_free(name);
		mssld_resp_error(&call->resp, 503, "nomem", NULL,
				 N_("out of memory"));
		return;
	}
	memcpy(call->resp.body, buf, len);
	call->resp.body_len = len;
	snprintf(call->resp.extra, sizeof(call->resp.extra),
		 "Content-Disposition: attachment; filename=\"%s\"\r\n", safe);
	mssl_free(buf);
	mssl_free(name);
}

/* ---- home and activity (SPEC §3.5, §7) ------------------------------------ */

static int notice_add(void *ud, const struct mssl_notice_rec *r)
{
	return json_array_append_new(
		       ud, json_pack("{s:I,s:I,s:o,s:o,s:o,s:b}", "id",
				     (json_int_t)r->id, "time",
				     (json_int_t)r->time, "title",
				     mssld_jstr(r->title), "body",
				     mssld_jstr(r->body), "expires",
				     jtime(r->expires), "everyone",
				     r->account_id == NULL)) < 0 ?
		       MSSL_ENOMEM :
		       0;
}

#define EXPIRING_DAYS 30

void mssld_h_home(struct mssld_call *call)
{
	json_t *notices = json_array();
	mssl_cert_stats st;
	int rc;

	rc = mssl_notice_list(call->ctx, call->actor, call->account_id,
			      notice_add, notices, call->err);
	if (rc >= 0)
		rc = mssl_cert_stats_get(call->ctx, call->actor,
					 call->account_id, EXPIRING_DAYS, &st,
					 call->err);
	if (rc < 0) {
		json_decref(notices);
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(
		&call->resp, 200,
		json_pack("{s:o,s:I,s:{s:I,s:I,s:I,s:I,s:I},s:{s:i,s:I}}",
			  "notices", notices, "balance",
			  (json_int_t)st.balance, "certificates", "issued",
			  (json_int_t)st.issued, "expired",
			  (json_int_t)st.expired, "revoked",
			  (json_int_t)st.revoked, "pending",
			  (json_int_t)st.pending, "failed",
			  (json_int_t)st.failed, "expiring", "days",
			  EXPIRING_DAYS, "count", (json_int_t)st.expiring));
}

static int ledger_add(void *ud, const struct mssl_ledger_rec *r)
{
	return json_array_append_new(
		       ud, json_pack("{s:I,s:I,s:s,s:I,s:I,s:o,s:o,s:o}", "id",
				     (json_int_t)r->id, "time",
				     (json_int_t)r->time, "kind",
				     mssl_ledger_kind_name(r->kind), "delta",
				     (json_int_t)r->delta, "balance_after",
				     (json_int_t)r->balance_after, "actor",
				     mssld_jstr(r->actor), "memo",
				     mssld_jstr(r->memo), "certificate",
				     mssld_jstr(r->cert_serial))) < 0 ?
		       MSSL_ENOMEM :
		       0;
}

void mssld_h_activity(struct mssld_call *call)
{
	json_t *items;
	int64_t offset, limit;
	bool more = false;
	int rc;

	if (query_int(call, "offset", 0, INT64_MAX / 2, 0, &offset) < 0 ||
	    query_int(call, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) < 0)
		return;
	items = json_array();
	rc = mssl_ledger_list(call->ctx, call->actor, call->account_id, 1,
			      offset, limit + 1, ledger_add, items,
			      call->err);
	if (rc < 0) {
		json_decref(items);
		mssld_fail_lib(call, rc);
		return;
	}
	if ((int64_t)json_array_size(items) > limit) {
		more = true;
		json_array_remove(items, (size_t)limit);
	}
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:o,s:I,s:I,s:b}", "items", items,
				  "offset", (json_int_t)offset, "limit",
				  (json_int_t)limit, "has_more", more));
}
