/* Small helpers with lengths kept next to buffers. */
#include "internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *mssl__strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *mssl__asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

void mssl__hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int mssl__unhex(const char *in, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(in) != 2 * n)
		return MSSL_EINVAL;
	for (i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return MSSL_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool mssl__str_empty(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

MSSL_API void mssl_free(void *p)
{
	free(p);
}

/* One DER element at *p: its tag, contents; *p moves past it. */
bool mssl__der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag,
		     const uint8_t **val, size_t *len)
{
	const uint8_t *q = *p;
	size_t n, i, nb;

	if (end - q < 2)
		return false;
	*tag = q[0];
	n = q[1];
	q += 2;
	if (n & 0x80) {
		nb = n & 0x7f;
		if (nb == 0 || nb > 4 || (size_t)(end - q) < nb)
			return false;
		for (n = 0, i = 0; i < nb; i++)
			n = n << 8 | q[i];
		q += nb;
	}
	if ((size_t)(end - q) < n)
		return false;
	*val = q;
	*len = n;
	*p = q + n;
	return true;
}

int mssl__text_check(const char *v, const char *field, bool required,
		     mssl_error *err)
{
	const unsigned char *c;

	if (mssl__str_empty(v)) {
		if (!required)
			return 0;
		return mssl__error_set(err, MSSL_EINPUT, "input.required", field,
				       N_("%s is required"), field);
	}
	if (strlen(v) > MSSL__TEXT_MAX)
		return mssl__error_set(err, MSSL_EINPUT, "input.too_long", field,
				       N_("%s may have at most %d bytes"), field,
				       MSSL__TEXT_MAX);
	for (c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return mssl__error_set(err, MSSL_EINPUT,
					       "input.control", field,
					       N_("%s may not contain control characters such as line breaks"),
					       field);
	return 0;
}

void mssl__utc_text(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, n, "%" PRId64, t);
}
