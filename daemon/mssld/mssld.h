/*
 * mssld internals: the server, its configuration, connections, requests
 * and the route table.  See doc/ARCHITECTURE.md ("mssld") and mssld(8).
 *
 * Threads: everything here runs on the libuv loop thread except the
 * route handlers marked 'pool' and the periodic jobs, which run on the
 * libuv thread pool and touch only their own call (request, response)
 * and the mssl_ctx (thread-safe).  Logging is thread-safe.
 */
#ifndef MSSLD_H
#define MSSLD_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <jansson.h>
#include <uv.h>

#include "mssl/mssl.h"

#define N_(s) s
#define MSSLD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- configuration ([mssld] of mssl.conf; config.c) ------------------ */

struct mssld_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int bits;
};

struct mssld_conf {
	char *listen; /* numeric address */
	int port;
	char *tls_cert; /* file or pkcs11: URI; NULL: plain HTTP */
	char *tls_key;
	char *tls_pin_file;
	char *tls_priority;
	int allow_plain_public;
	struct mssld_cidr *proxies;
	size_t n_proxies;
	int64_t max_header_bytes;
	int64_t max_headers;
	int64_t max_body_bytes;
	int64_t max_connections;
	int64_t max_connections_per_ip;
	int64_t rate_per_ip; /* requests per second, refilled continuously */
	int64_t rate_burst;
	int64_t request_timeout_s; /* to receive one whole request */
	int64_t idle_timeout_s; /* between requests on a kept-alive connection */
	int64_t write_timeout_s; /* to send one response */
	int64_t shutdown_timeout_s; /* in-flight requests at SIGTERM */
	int64_t workers; /* thread pool size */
	int64_t crl_check_s; /* 0: no CRL job */
	int64_t mail_flush_s; /* 0: no mail job */
	int64_t expire_s; /* 0: no expiry job */
	char *log_file; /* NULL: stderr */
	int log_level; /* MSSL_LOG_* */
	int64_t remind_s; /* 0: no expiry reminder job */
};

/* Read [mssld] (claimed before the file is loaded). */
extern const char *const mssld_conf_keys[];
int mssld_conf_read(mssl_ctx *ctx, struct mssld_conf *c, mssl_error *err);
void mssld_conf_free(struct mssld_conf *c);
bool mssld_cidr_match(const struct mssld_cidr *v, size_t n,
		      const char *addr);
bool mssld_addr_is_loopback(const char *addr);

/* ---- logging (log.c) -------------------------------------------------- */

/* Levels are libmssl's: MSSL_LOG_ERROR .. MSSL_LOG_DEBUG. */
int mssld_log_open(const char *path, int level);
int mssld_log_reopen(void);
void mssld_log_close(void);
bool mssld_log_enabled(int level);
void mssld_log(int level, const char *rid, const char *fmt, ...)
	MSSL_PRINTF(3, 4);
/* libmssl's log sink (mssl_ctx_set_log). */
void mssld_log_lib(void *ud, int level, const char *msg);

/* ---- requests and responses ------------------------------------------- */

struct mssld_header {
	char *name; /* as received */
	char *value;
};

#define MSSLD_MAX_PARAMS 4

struct mssld_req {
	char rid[17]; /* request id, 16 hex digits */
	int method; /* enum http_method */
	char *url;
	size_t url_len;
	char *path; /* decoded path, without the query */
	struct mssld_header *h;
	size_t nh, caph;
	bool last_was_value;
	size_t header_bytes;
	char *body;
	size_t body_len, body_cap;
	bool headers_done, complete, keep_alive;
	int fail_status; /* set by a parser callback: answer and close */
	const char *fail_id;
	const char *fail_msg;
	/* Header scanner (bare LF, obs-fold, control characters). */
	int scan_state;
	size_t scan_lines, scan_linelen;
	/* Client as seen through trusted proxies. */
	char client[64];
	bool secure; /* TLS here, or X-Forwarded-Proto https from a proxy */
	/* tls-exporter (RFC 9266) of the connection, when TLS. */
	uint8_t cb[32];
	size_t cb_len;
	/* Path parameters captured by the router ({name}). */
	const char *param[MSSLD_MAX_PARAMS];
	char *param_buf;
	uint64_t start_ns;
};

/* A header's value (name compared case-insensitively), or NULL. */
const char *mssld_req_header(const struct mssld_req *r, const char *name);
/* How many headers have that name. */
size_t mssld_req_header_count(const struct mssld_req *r, const char *name);

struct mssld_resp {
	int status;
	const char *content_type; /* static */
	char *body; /* malloc'd */
	size_t body_len;
	char extra[256]; /* more header lines, each ending in \r\n */
	bool close;
	/*
	 * Or the body is the file_size bytes of an open file (from its
	 * current offset): the connection takes the descriptor and sends it
	 * in chunks, so a large export never sits in memory.
	 */
	bool file_open;
	int file_fd;
	uint64_t file_size;
};

/* The one error shape: {error: {code, message, message_zh, field}}. */
void mssld_resp_error(struct mssld_resp *resp, int status, const char *code,
		      const char *field, const char *msgid, ...)
	MSSL_PRINTF(5, 6);
/* The same from a libmssl error detail and a status code. */
void mssld_resp_mssl_error(struct mssld_resp *resp, int status, int rc,
			   mssl_error *err);
/* A JSON body (steals j). */
void mssld_resp_json(struct mssld_resp *resp, int status, json_t *j);
void mssld_resp_clear(struct mssld_resp *resp);

/* ---- routes (router.c) -------------------------------------------------- */

enum mssld_auth_need {
	MSSLD_AUTH_NONE = 0,
	MSSLD_AUTH_SESSION = 1, /* a session (cookie or bearer token) */
	MSSLD_AUTH_SESSION_CSRF = 2, /* and, with a cookie, the CSRF token */
};

/* Role hints: which roles the route is meant for (libmssl decides). */
#define MSSLD_ROLE(r) (1u << (r))

struct mssld_call; /* one request on its way through a handler */

struct mssld_route {
	const char *method; /* "GET", "POST" */
	const char *pattern; /* "/api/v1/health", "/crl/{name}" */
	enum mssld_auth_need auth;
	unsigned roles;
	bool pool; /* runs on the thread pool (calls libmssl, files) */
	bool json_body; /* takes an application/json body */
	void (*handler)(struct mssld_call *call);
	const char *summary;
};

extern const struct mssld_route mssld_routes[];
extern const size_t mssld_n_routes;

struct mssld_call {
	struct mssld_server *srv;
	mssl_ctx *ctx;
	const struct mssld_route *route;
	struct mssld_req *req;
	struct mssld_resp resp;
	json_t *json; /* the parsed body, for json_body routes */
	mssl_actor *actor; /* from the auth resolver, for session routes */
	char *account_id; /* the actor's account, or NULL */
	int role;
	mssl_error *err;
	/* The session behind the call (session routes): its token (wiped
	 * when the call ends; never logged), holder and PIN state. */
	char *token;
	bool pin_change_only;
	char *person_name;
	int64_t person_id;
	int64_t card_id;
	int64_t session_expires;
};

/* ---- helpers for handlers (router.c) ----------------------------------- */

/* Answer a libmssl failure with its status (status_of) and detail. */
void mssld_fail_lib(struct mssld_call *call, int rc);
/* The HTTP status for a libmssl error code. */
int mssld_status_of(int rc);
/* A JSON string or null. */
json_t *mssld_jstr(const char *s);

/*
 * A certificate as the API shows it: serial, CN, product, state, years,
 * times, revocation, note; with 'full' also renewal_of, requester,
 * vendor, seal name and technical contact.
 */
json_t *mssld_cert_json(const struct mssl_cert_rec *r, bool full);
/*
 * A string member of the body: *out borrowed, NULL when absent (or
 * null) and not required.  Returns 0, or -1 with a 400 answer naming
 * the field.
 */
int mssld_body_str(struct mssld_call *call, const char *name, bool required,
		   const char **out);
/* A whole-number member of the body in [min, max]; dflt when absent. */
int mssld_body_int(struct mssld_call *call, const char *name, bool required,
		   int64_t min, int64_t max, int64_t dflt, int64_t *out);
/*
 * A base64 member of the body, decoded: *out (free()) and *len.
 * Returns 0, or -1 with a 400 answer naming the field.
 */
int mssld_body_b64(struct mssld_call *call, const char *name, bool required,
		   uint8_t **out, size_t *len);
/* Base64 of len bytes as a JSON string (null when out of memory). */
json_t *mssld_json_b64(const uint8_t *data, size_t len);
/*
 * A query parameter of the request target, percent-decoded into buf;
 * NULL when absent.  Returns buf or NULL; *bad set when it does not fit
 * or is not valid UTF-8 text.
 */
const char *mssld_query_param(const struct mssld_req *r, const char *name,
			      char *buf, size_t n, bool *bad);

/* Handlers (api-*.c). */
void mssld_h_challenge(struct mssld_call *call);
void mssld_h_login(struct mssld_call *call);
void mssld_h_logout(struct mssld_call *call);
void mssld_h_me(struct mssld_call *call);
void mssld_h_pin_changed(struct mssld_call *call);
void mssld_h_unlock_begin(struct mssld_call *call);
void mssld_h_unlock_done(struct mssld_call *call);
void mssld_h_cert_list(struct mssld_call *call);
void mssld_h_cert_export(struct mssld_call *call);
void mssld_h_cert_show(struct mssld_call *call);
void mssld_h_cert_download(struct mssld_call *call);
void mssld_h_home(struct mssld_call *call);
void mssld_h_activity(struct mssld_call *call);
void mssld_h_issue(struct mssld_call *call);
void mssld_h_renew(struct mssld_call *call);
void mssld_h_renewals(struct mssld_call *call);
void mssld_h_revocable(struct mssld_call *call);
void mssld_h_revoke(struct mssld_call *call);
/* The validation report and the parsed subject as JSON (api-issue.c). */
json_t *mssld_report_json(const mssl_report *rep);
json_t *mssld_subject_json(const mssl_csr *csr);

/*
 * Find the route for req (filling its path parameters).  Returns it, or
 * NULL with *status 404 (no such path) or 405 (path known, not that
 * method; *allow lists the methods).
 */
const struct mssld_route *mssld_route_find(struct mssld_req *req, int *status,
					   char *allow, size_t allow_len);
/* Run a call: auth, body checks, handler.  Loop or pool thread. */
void mssld_call_run(struct mssld_call *call);

/* ---- the server (http.c, tls.c, main.c) ------------------------------- */

struct mssld_tls; /* tls.c */
struct mssld_conn;
struct mssld_ip; /* per-address state (ratelimit.c) */

struct mssld_server {
	uv_loop_t *loop;
	mssl_ctx *ctx;
	struct mssld_conf conf;
	uv_tcp_t listener;
	bool listening;
	bool draining;
	uint64_t nconns;
	uint64_t inflight; /* calls on the pool */
	uint32_t rid_prefix;
	uint64_t rid_counter;
	struct mssld_tls *tls; /* NULL: plain HTTP */
	struct mssld_ip **ips; /* hash table */
	size_t ips_cap, ips_n;
	uv_timer_t sweep; /* forgets idle per-address state */
	struct mssld_conn *conns; /* every open connection (list) */
	void (*on_idle)(struct mssld_server *srv); /* drained */
	char readbuf[65536]; /* one read buffer for the loop */
};

int mssld_server_start(struct mssld_server *srv, mssl_error *err);
/* Stop accepting, close idle connections; busy ones close when done. */
void mssld_server_drain(struct mssld_server *srv);
/* Close every connection now (the drain took too long). */
void mssld_server_close_all(struct mssld_server *srv);
bool mssld_server_idle(const struct mssld_server *srv);
/* While draining: call srv->on_idle once nothing is left. */
void mssld_server_check_idle(struct mssld_server *srv);

/* Per-address token bucket and connection count (ratelimit.c). */
struct mssld_ip *mssld_ip_get(struct mssld_server *srv, const char *addr);
void mssld_ip_put(struct mssld_server *srv, struct mssld_ip *ip);
unsigned mssld_ip_conns(const struct mssld_ip *ip);
/* Take one token for addr; false when over the rate. */
bool mssld_rate_take(struct mssld_server *srv, const char *addr);
void mssld_ip_sweep(struct mssld_server *srv);
void mssld_ip_free_all(struct mssld_server *srv);

/* TLS over libuv (tls.c). */
int mssld_tls_setup(struct mssld_server *srv, mssl_error *err);
void mssld_tls_free(struct mssld_tls *tls);

/* Periodic jobs (jobs.c). */
void mssld_jobs_start(struct mssld_server *srv);
void mssld_jobs_stop(void);
void mssld_jobs_free(void);

#endif
