/*
 * mssld: the mssl server (mssld(8)).  Reads mssl.conf (its own [mssld]
 * section claimed from libmssl), opens the library context, settles
 * issuances left pending by a crash, listens, and runs the libuv loop
 * until SIGTERM or SIGINT.
 *
 * Exit status: 0 stopped cleanly, 1 could not start (configuration,
 * store, TLS, listening address), 2 bad usage.
 */
#include "auth.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libintl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define _(s) gettext(s)

static struct mssld_server srv;
static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t shutdown_timer;
static bool stopping;

static void usage(FILE *fp)
{
	fprintf(fp, "%s",
		("Usage: mssld [--config FILE] [--check] [--routes]\n"
		  "  --config FILE  configuration (default: $MSSL_CONFIG or "
		  SYSCONFDIR "/mssl/mssl.conf)\n"
		  "  --check        check the configuration and exit\n"
		  "  --routes       print the route table and exit\n"
		  "  --version      print the version and exit\n"));
}

static const char *auth_name(enum mssld_auth_need a)
{
	return a == MSSLD_AUTH_NONE	     ? "none" :
	       a == MSSLD_AUTH_SESSION ? "session" :
					       "session+csrf";
}

static void print_routes(void)
{
	size_t i;

	for (i = 0; i < mssld_n_routes; i++)
		printf("%s %s %s\n", mssld_routes[i].method,
		       mssld_routes[i].pattern,
		       auth_name(mssld_routes[i].auth));
}

/* Say why we cannot start, in the user's language, and exit 1. */
static void die(int rc, mssl_error *err)
{
	const char *msg = mssl_error_message(err, MSSL_LANG_LOCALE);

	fprintf(stderr, "mssld: %s [%s]\n", *msg ? msg : mssl_strerror(rc),
		*mssl_error_id(err) ? mssl_error_id(err) : mssl_err_name(rc));
	exit(1);
}

static void shutdown_cb(uv_timer_t *t)
{
	mssld_log(MSSL_LOG_WARNING, NULL,
		  "in-flight requests did not finish in %llds: closing %llu "
		  "connections",
		  (long long)srv.conf.shutdown_timeout_s,
		  (unsigned long long)srv.nconns);
	mssld_server_close_all(&srv);
	(void)t;
}

static void stop(const char *why)
{
	if (stopping) {
		/* A second signal: do not wait any more. */
		mssld_server_close_all(&srv);
		return;
	}
	stopping = true;
	mssld_log(MSSL_LOG_INFO, NULL,
		  "%s: stopping (%llu connections, %llu requests in flight)",
		  why, (unsigned long long)srv.nconns,
		  (unsigned long long)srv.inflight);
	mssld_server_drain(&srv);
	mssld_jobs_stop();
	uv_timer_stop(&srv.sweep);
	uv_close((uv_handle_t *)&srv.sweep, NULL);
	/* The signals and the deadline must not keep the loop alive. */
	uv_unref((uv_handle_t *)&sig_term);
	uv_unref((uv_handle_t *)&sig_int);
	uv_unref((uv_handle_t *)&sig_hup);
	uv_timer_init(srv.loop, &shutdown_timer);
	uv_timer_start(&shutdown_timer, shutdown_cb,
		       (uint64_t)srv.conf.shutdown_timeout_s * 1000, 0);
	uv_unref((uv_handle_t *)&shutdown_timer);
}

static void signal_cb(uv_signal_t *s, int signum)
{
	int rc;

	if (signum == SIGHUP) {
		rc = mssld_log_reopen();
		if (rc < 0)
			mssld_log(MSSL_LOG_ERROR, NULL,
				  "cannot reopen the log file: %s",
				  strerror(-rc));
		else
			mssld_log(MSSL_LOG_INFO, NULL, "log file reopened");
		return;
	}
	stop(signum == SIGTERM ? "SIGTERM" : "SIGINT");
	(void)s;
}

static void sweep_cb(uv_timer_t *t)
{
	mssld_ip_sweep(t->data);
}

static void close_walk(uv_handle_t *h, void *ud)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
	(void)ud;
}

/* Room for the connections: the soft descriptor limit up to the hard. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY &&
	    (int64_t)rl.rlim_cur < srv.conf.max_connections + 64)
		mssld_log(MSSL_LOG_WARNING, NULL,
			  "max_connections is %lld but only %llu file "
			  "descriptors are allowed (LimitNOFILE)",
			  (long long)srv.conf.max_connections,
			  (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	const char *config = getenv("MSSL_CONFIG");
	bool check = false;
	mssl_error *err;
	mssl_actor *self;
	char workers[16];
	int64_t n = 0;
	int i, rc;

	setlocale(LC_ALL, "");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config = argv[i] + 9;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--routes") == 0) {
			print_routes();
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("mssld %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, _("mssld: unknown argument \"%s\"\n"),
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config || !*config)
		config = SYSCONFDIR "/mssl/mssl.conf";
	signal(SIGPIPE, SIG_IGN);
	err = mssl_error_new();
	if (!err || mssl_ctx_new(&srv.ctx) < 0) {
		fprintf(stderr, "mssld: out of memory\n");
		return 1;
	}
	textdomain(PACKAGE);
	if ((rc = mssl_ctx_claim_section(srv.ctx, "mssld", mssld_conf_keys)) <
		    0 ||
	    (rc = mssl_ctx_load_config(srv.ctx, config, err)) < 0 ||
	    (rc = mssld_conf_read(srv.ctx, &srv.conf, err)) < 0)
		die(rc, err);
	if (check) {
		printf(_("%s: configuration ok\n"), config);
		mssl_ctx_free(srv.ctx);
		mssld_conf_free(&srv.conf);
		mssl_error_free(err);
		return 0;
	}
	rc = mssld_log_open(srv.conf.log_file, srv.conf.log_level);
	if (rc < 0) {
		fprintf(stderr, "mssld: %s: %s\n", srv.conf.log_file,
			strerror(-rc));
		return 1;
	}
	/* One store connection per worker: the pool grows to this many. */
	snprintf(workers, sizeof(workers), "%lld",
		 (long long)srv.conf.workers);
	setenv("UV_THREADPOOL_SIZE", workers, 1);
	srv.loop = uv_default_loop();
	raise_nofile();
	mssl_ctx_set_log(srv.ctx, mssld_log_lib, NULL);
	if ((rc = mssl_ctx_open(srv.ctx, err)) < 0)
		die(rc, err);
	/* Issuances a crash left pending are settled before we serve. */
	self = mssl_actor_new(MSSL_ROLE_OPERATOR, "mssld", NULL, "local:mssld");
	rc = self ? mssl_cert_resolve_pending(srv.ctx, self, &n, err) :
		    MSSL_ENOMEM;
	mssl_actor_free(self);
	if (rc < 0)
		mssld_log(MSSL_LOG_ERROR, NULL,
			  "cannot settle pending issuances: %s",
			  mssl_error_message(err, MSSL_LANG_EN));
	else if (n)
		mssld_log(MSSL_LOG_WARNING, NULL,
			  "settled %lld issuances left pending", (long long)n);
	if (srv.conf.tls_cert && (rc = mssld_tls_setup(&srv, err)) < 0)
		die(rc, err);
	if (gnutls_rnd(GNUTLS_RND_NONCE, &srv.rid_prefix,
		       sizeof(srv.rid_prefix)) < 0)
		srv.rid_prefix = (uint32_t)getpid();
	if ((rc = mssld_server_start(&srv, err)) < 0)
		die(rc, err);
	uv_signal_init(srv.loop, &sig_term);
	uv_signal_init(srv.loop, &sig_int);
	uv_signal_init(srv.loop, &sig_hup);
	uv_signal_start(&sig_term, signal_cb, SIGTERM);
	uv_signal_start(&sig_int, signal_cb, SIGINT);
	uv_signal_start(&sig_hup, signal_cb, SIGHUP);
	uv_timer_start(&srv.sweep, sweep_cb, 60000, 60000);
	mssld_jobs_start(&srv);
	mssld_log(MSSL_LOG_INFO, NULL, "listening on %s port %d (%s), %lld workers",
		  srv.conf.listen, srv.conf.port,
		  srv.conf.tls_cert ? "TLS" : "plain HTTP",
		  (long long)srv.conf.workers);
	uv_run(srv.loop, UV_RUN_DEFAULT);
	/* Whatever is left (closed signals, the deadline) closes now. */
	uv_walk(srv.loop, close_walk, NULL);
	uv_run(srv.loop, UV_RUN_DEFAULT);
	uv_loop_close(srv.loop);
	mssld_jobs_free();
	mssld_ip_free_all(&srv);
	mssld_tls_free(srv.tls);
	mssl_ctx_free(srv.ctx);
	mssld_log(MSSL_LOG_INFO, NULL, "stopped");
	mssld_conf_free(&srv.conf);
	mssld_log_close();
	mssl_error_free(err);
	return 0;
}
