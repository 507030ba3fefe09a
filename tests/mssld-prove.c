/*
 * mssld-prove: sign a login proof with a card, for tests/test-mssld-api.py
 * (what the mssl CLI and the card agent do before POST /api/v1/auth/login).
 *
 *   mssld-prove --module M --token URI --pin PIN --origin O --account A
 *               --nonce BASE64 [--time T] [--tls-exporter BASE64]
 *
 * Logs in to the card with the PIN (libmssl-token), has it sign
 * mssl_login_blob() through mssl_token_prove and prints the body members
 * {"cert", "sig", "sig_alg", "time"} as JSON on stdout.  Exit 0, or 1
 * with the card's or library's message on stderr.  Test use only: the PIN
 * is on the command line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "mssl/mssl.h"
#include "mssl/token.h"

static int b64dec(const char *s, uint8_t **out, size_t *len)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)strlen(s) };
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_base64_decode2(&in, &d) < 0)
		return -1;
	*out = d.data;
	*len = d.size;
	return 0;
}

static void b64print(const char *name, const uint8_t *p, size_t n)
{
	gnutls_datum_t in = { (unsigned char *)p, (unsigned)n };
	gnutls_datum_t e = { NULL, 0 };

	if (gnutls_base64_encode2(&in, &e) < 0)
		exit(1);
	printf("\"%s\": \"%.*s\"", name, (int)e.size, e.data);
	gnutls_free(e.data);
}

int main(int argc, char **argv)
{
	const char *module = NULL, *uri = NULL, *pin = NULL;
	struct mssl_login_proof p = { 0 };
	uint8_t *nonce = NULL, *tlsx = NULL;
	size_t nonce_len = 0, tlsx_len = 0;
	mssl_token_module *m = NULL;
	mssl_token *tok = NULL;
	mssl_error *err = mssl_error_new();
	int i, rc = 1;

	p.time = (int64_t)time(NULL);
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--module") == 0)
			module = v;
		else if (strcmp(k, "--token") == 0)
			uri = v;
		else if (strcmp(k, "--pin") == 0)
			pin = v;
		else if (strcmp(k, "--origin") == 0)
			p.origin = v;
		else if (strcmp(k, "--account") == 0)
			p.account_id = v;
		else if (strcmp(k, "--time") == 0)
			p.time = strtoll(v, NULL, 10);
		else if (strcmp(k, "--nonce") == 0) {
			if (b64dec(v, &nonce, &nonce_len) < 0)
				goto usage;
		} else if (strcmp(k, "--tls-exporter") == 0) {
			if (b64dec(v, &tlsx, &tlsx_len) < 0)
				goto usage;
		} else
			goto usage;
	}
	if (i != argc || !module || !uri || !pin || !p.origin ||
	    !p.account_id || nonce_len != MSSL_NONCE_LEN)
		goto usage;
	p.nonce = nonce;
	p.tls_exporter = tlsx;
	p.tls_exporter_len = tlsx_len;
	if (mssl_token_module_open(module, &m, err) < 0 ||
	    mssl_token_open(m, uri, &tok, err) < 0 ||
	    mssl_token_login(tok, pin, strlen(pin), err) < 0 ||
	    mssl_token_prove(tok, &p, err) < 0) {
		fprintf(stderr, "mssld-prove: %s: %s\n", mssl_error_id(err),
			mssl_error_message(err, MSSL_LANG_EN));
		goto out;
	}
	printf("{");
	b64print("cert", p.cert, p.cert_len);
	printf(", ");
	b64print("sig", p.sig, p.sig_len);
	printf(", \"sig_alg\": %d, \"time\": %lld}\n", p.sig_alg,
	       (long long)p.time);
	rc = 0;
	goto out;
usage:
	fprintf(stderr, "usage: mssld-prove --module M --token URI --pin PIN "
			"--origin O --account A --nonce B64 [--time T] "
			"[--tls-exporter B64]\n");
	rc = 2;
out:
	mssl_token_proof_clear(&p);
	mssl_token_free(tok);
	mssl_token_module_free(m);
	mssl_error_free(err);
	gnutls_free(nonce);
	gnutls_free(tlsx);
	return rc;
}
