/*
 * bench-core: throughput of the foundation's hot paths, on a real SQLite
 * file in a temporary directory.
 *
 *   topup (synchronous=full)    one complete operation: role check, write
 *                               transaction, ledger entry, audit record,
 *                               fsync'd commit
 *   topup (synchronous=normal)  the same without the per-commit fsync
 *   audit verify                records re-hashed and checked per second
 *   domain check                mssl_domain_check calls per second
 *
 * Prints each figure, its ratio to bench/baseline.txt when that names it,
 * and the ratio of the two topup modes.  Run with `make bench`.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mssl/mssl.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc, mssl_error *err)
{
	fprintf(stderr, "bench-core: %s: %s: %s\n", what, mssl_err_name(rc),
		mssl_error_message(err, MSSL_LANG_EN));
	exit(1);
}

static mssl_ctx *open_store(const char *dir, const char *sync)
{
	char path[512], text[1024];
	const char *plugins = getenv("MSSL_PLUGIN_BUILDDIR");
	mssl_error *err = mssl_error_new();
	mssl_ctx *ctx = NULL;
	FILE *fp;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.conf", dir, sync);
	snprintf(text, sizeof(text),
		 "[mssl]\nplugin_dir = %s\n[store-sqlite]\npath = %s/%s.db\n"
		 "synchronous = %s\n",
		 plugins, dir, sync, sync);
	fp = fopen(path, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	rc = mssl_ctx_open_file(path, &ctx, err);
	if (rc < 0)
		die("open", rc, err);
	mssl_error_free(err);
	return ctx;
}

static void make_account(mssl_ctx *ctx, const mssl_actor *op)
{
	mssl_account_spec s = {
		.id = "70759028-01",
		.org_name_en = "Bench Co., Ltd.",
		.products = MSSL_PRODUCT_SSL,
		.supervisor_name = "Bench",
		.supervisor_email = "bench@example.com.tw",
	};
	mssl_error *err = mssl_error_new();
	int rc = mssl_account_create(ctx, op, &s, err);

	if (rc < 0)
		die("account create", rc, err);
	mssl_error_free(err);
}

static double bench_topup(mssl_ctx *ctx, const mssl_actor *op, int n)
{
	mssl_error *err = mssl_error_new();
	double t0 = now_s();
	int i, rc;

	for (i = 0; i < n; i++) {
		rc = mssl_topup(ctx, op, "70759028-01", 1, NULL, NULL, err);
		if (rc < 0)
			die("topup", rc, err);
	}
	mssl_error_free(err);
	return n / (now_s() - t0);
}

static double bench_verify(mssl_ctx *ctx, const mssl_actor *op)
{
	mssl_error *err = mssl_error_new();
	int64_t n = 0;
	double t0 = now_s(), dt;
	int rc = mssl_audit_verify(ctx, op, &n, err);

	if (rc < 0)
		die("audit verify", rc, err);
	dt = now_s() - t0;
	mssl_error_free(err);
	return (double)n / dt;
}

static double bench_domain(mssl_ctx *ctx, int n)
{
	static const char *const names[] = { "twca.com.tw", "mis.twca.com.tw",
					     "example.co.uk", "com.tw",
					     "192.168.1.1" };
	double t0 = now_s();
	int i;

	for (i = 0; i < n; i++)
		mssl_domain_check(ctx, names[i % 5], NULL, NULL);
	return n / (now_s() - t0);
}

/* Baseline figures: lines "name value". */
static double baseline(const char *file, const char *name)
{
	char line[256], key[128];
	double v;
	FILE *fp = file ? fopen(file, "r") : NULL;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (line[0] != '#' &&
		    sscanf(line, "%127s %lf", key, &v) == 2 &&
		    strcmp(key, name) == 0) {
			fclose(fp);
			return v;
		}
	fclose(fp);
	return 0;
}

static void report(const char *base, const char *name, double v,
		   const char *unit)
{
	double b = baseline(base, name);

	if (b > 0)
		printf("%-22s %12.0f %-10s baseline %10.0f  ratio %.2f\n", name,
		       v, unit, b, v / b);
	else
		printf("%-22s %12.0f %s\n", name, v, unit);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : NULL;
	char dir[] = "/tmp/mssl-bench-XXXXXX";
	mssl_actor *op = mssl_actor_new(MSSL_ROLE_OPERATOR, "bench", NULL,
					"local:bench");
	mssl_ctx *full, *normal;
	double t_full, t_normal, verify, dom;
	char cmd[600];

	if (!getenv("MSSL_PLUGIN_BUILDDIR") || !mkdtemp(dir)) {
		fprintf(stderr, "bench-core: run through `make bench`\n");
		return 1;
	}
	full = open_store(dir, "full");
	normal = open_store(dir, "normal");
	make_account(full, op);
	make_account(normal, op);
	t_full = bench_topup(full, op, 500);
	t_normal = bench_topup(normal, op, 5000);
	verify = bench_verify(normal, op);
	dom = bench_domain(normal, 200000);
	report(base, "topup_full_per_s", t_full, "ops/s");
	report(base, "topup_normal_per_s", t_normal, "ops/s");
	report(base, "audit_verify_per_s", verify, "records/s");
	report(base, "domain_check_per_s", dom, "checks/s");
	printf("%-22s %12.2f (fsync cost per operation)\n", "normal/full ratio",
	       t_normal / t_full);
	printf("%-22s %12.2f (verifying vs. writing a record)\n",
	       "verify/write ratio", verify / t_normal);
	mssl_ctx_free(full);
	mssl_ctx_free(normal);
	mssl_actor_free(op);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
