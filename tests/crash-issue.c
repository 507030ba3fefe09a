/*
 * crash-issue CONFIG ACCOUNT CSR: issue one certificate through the
 * testable library, whose crash points (MSSL_CRASH_AT) kill the process
 * with SIGKILL mid-issuance.  Used by tests/test-crash.sh.
 * Exit: 0 issued, 1 refused or failed, 2 usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "mssl/mssl.h"

int main(int argc, char **argv)
{
	mssl_issue_params p = {
		.product = MSSL_PRODUCT_SSL,
		.years = 1,
		.server_vendor = "nginx",
		.passphrase = "crash test pass",
		.tech_name = "Crash",
		.tech_email = "crash@twca.com.tw",
		.seal_name = "Crash test",
	};
	mssl_error *err = mssl_error_new();
	mssl_actor *op = mssl_actor_new(MSSL_ROLE_OPERATOR, "crash-test", NULL,
					"local:test");
	mssl_ctx *ctx = NULL;
	mssl_csr *csr = NULL;
	mssl_cert *cert = NULL;
	char buf[65536];
	size_t n;
	FILE *fp;
	int rc;

	if (argc != 4 || !(fp = fopen(argv[3], "rb")))
		return 2;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	rc = mssl_csr_parse(buf, n, &csr, err);
	if (rc == 0)
		rc = mssl_ctx_open_file(argv[1], &ctx, err);
	if (rc == 0)
		rc = mssl_issue(ctx, op, argv[2], csr, &p, &cert, NULL, err);
	if (rc < 0)
		fprintf(stderr, "crash-issue: %s: %s\n", mssl_err_name(rc),
			mssl_error_message(err, MSSL_LANG_EN));
	mssl_cert_free(cert);
	mssl_csr_free(csr);
	mssl_ctx_free(ctx);
	mssl_actor_free(op);
	mssl_error_free(err);
	return rc < 0 ? 1 : 0;
}
