/* Helpers of the card-layer tests. */
#include "config.h"

#include "tokenhelp.h"
#include "testhelp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

const char *tk_softhsm_module(void)
{
	static const char *const paths[] = {
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	fail_msg("libsofthsm2.so not found: install the Debian package "
		 "softhsm2");
	return NULL;
}

char *tk_softhsm_cards(const char *specs)
{
	const char *src = getenv("MSSL_TEST_SRCDIR");
	char *dir = th_mkdtemp();
	int rc;

	if (!src)
		fail_msg("MSSL_TEST_SRCDIR is not set: run through make check");
	rc = th_system("sh '%s/cards/softhsm.sh' '%s' %s >/dev/null", src, dir,
		       specs);
	if (rc != 0)
		fail_msg("tests/cards/softhsm.sh %s failed (status %d)", specs,
			 rc);
	return dir;
}

void tk_softhsm_use(const char *dir)
{
	char *conf = NULL;

	if (asprintf(&conf, "%s/softhsm2.conf", dir) < 0)
		fail_msg("out of memory");
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
}

uint8_t *tk_read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	FILE *fp = fopen(path, "rb");
	long n = -1;

	if (!fp)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) == 0)
		n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET) != 0)
		fail_msg("cannot size %s", path);
	size = (size_t)n;
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, fp) != size)
		fail_msg("cannot read %s", path);
	fclose(fp);
	*len = size;
	return buf;
}

void tk_verify(const char *pub_der, int alg, const void *data, size_t len,
	       const uint8_t *sig, size_t sig_len)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t k, d, s;
	uint8_t *spki, *other;
	size_t spki_len;
	int r;

	spki = tk_read_file(pub_der, &spki_len);
	k.data = spki;
	k.size = (unsigned int)spki_len;
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	r = gnutls_pubkey_import(pub, &k, GNUTLS_X509_FMT_DER);
	if (r < 0)
		fail_msg("%s: %s", pub_der, gnutls_strerror(r));
	d.data = (unsigned char *)data;
	d.size = (unsigned int)len;
	s.data = (unsigned char *)sig;
	s.size = (unsigned int)sig_len;
	r = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)alg, 0, &d,
				       &s);
	if (r < 0)
		fail_msg("signature (%s, %zu bytes) does not verify: %s",
			 gnutls_sign_get_name((gnutls_sign_algorithm_t)alg),
			 sig_len, gnutls_strerror(r));
	/* The same signature over other data must not. */
	other = malloc(len ? len : 1);
	assert_non_null(other);
	memcpy(other, data, len);
	other[0] ^= 1;
	d.data = other;
	r = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)alg, 0, &d,
				       &s);
	assert_true(r < 0);
	free(other);
	gnutls_pubkey_deinit(pub);
	free(spki);
}

void tk_assert_err(int rc, int code, const char *id, mssl_error *err,
		   const char *expr, const char *file, int line)
{
	if (rc == code && strcmp(mssl_error_id(err), id) == 0)
		return;
	print_error("%s:%d: %s\n  returned %s [%s], expected %s [%s]\n"
		    "  en: %s\n  zh: %s\n",
		    file, line, expr, mssl_err_name(rc), mssl_error_id(err),
		    mssl_err_name(code), id,
		    mssl_error_message(err, MSSL_LANG_EN),
		    mssl_error_message(err, MSSL_LANG_ZH_TW));
	fail();
}

void tk_assert_msg(mssl_error *err, int lang, const char *text)
{
	const char *m = mssl_error_message(err, lang);

	if (strstr(m, text))
		return;
	print_error("message \"%s\" lacks \"%s\"\n", m, text);
	fail();
}
