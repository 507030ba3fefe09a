/*
 * Status codes and error details.
 *
 * A detail keeps the message in both shipped languages: English is the
 * msgid itself, Traditional Chinese its translation through gettext, so
 * the API (and later the JSON API) can always give both, whatever the
 * calling program's locale is.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mssl_error {
	int code;
	char id[64];
	char field[64];
	char *msg_en;
	char *msg_zh;
};

MSSL_API const char *mssl_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define XX(name, num, text)                                                  \
	case MSSL_##name:                                                    \
		return text;
		MSSL_ERRNO_MAP(XX)
#undef XX
	default:
		return "unknown error";
	}
}

MSSL_API const char *mssl_err_name(int code)
{
	switch (code) {
	case 0:
		return "MSSL_OK";
#define XX(name, num, text)                                                  \
	case MSSL_##name:                                                    \
		return "MSSL_" #name;
		MSSL_ERRNO_MAP(XX)
#undef XX
	default:
		return "MSSL_UNKNOWN";
	}
}

MSSL_API mssl_error *mssl_error_new(void)
{
	return calloc(1, sizeof(mssl_error));
}

MSSL_API void mssl_error_clear(mssl_error *err)
{
	if (!err)
		return;
	free(err->msg_en);
	free(err->msg_zh);
	memset(err, 0, sizeof(*err));
}

MSSL_API void mssl_error_free(mssl_error *err)
{
	mssl_error_clear(err);
	free(err);
}

MSSL_API int mssl_error_code(const mssl_error *err)
{
	return err ? err->code : 0;
}

MSSL_API const char *mssl_error_id(const mssl_error *err)
{
	return err ? err->id : "";
}

MSSL_API const char *mssl_error_field(const mssl_error *err)
{
	return err && err->field[0] ? err->field : NULL;
}

MSSL_API const char *mssl_error_message(const mssl_error *err, int lang)
{
	const char *m;

	if (!err)
		return "";
	if (lang == MSSL_LANG_LOCALE)
		lang = mssl__locale_is_zh() ? MSSL_LANG_ZH_TW : MSSL_LANG_EN;
	m = lang == MSSL_LANG_ZH_TW ? err->msg_zh : err->msg_en;
	return m ? m : "";
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	char *buf;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return NULL;
	buf = malloc((size_t)n + 1);
	if (buf)
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
	return buf;
}

int mssl__error_setv(mssl_error *err, int code, const char *id,
		     const char *field, const char *msgid, va_list ap)
{
	va_list aq;

	if (!err)
		return code;
	mssl_error_clear(err);
	err->code = code;
	snprintf(err->id, sizeof(err->id), "%s", id ? id : "");
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_copy(aq, ap);
	err->msg_en = vformat(msgid, aq);
	va_end(aq);
	err->msg_zh = vformat(mssl__tr_zh(msgid), ap);
	return code;
}

int mssl__error_set(mssl_error *err, int code, const char *id,
		    const char *field, const char *msgid, ...)
{
	va_list ap;

	va_start(ap, msgid);
	mssl__error_setv(err, code, id, field, msgid, ap);
	va_end(ap);
	return code;
}

void mssl__error_zh(mssl_error *err, const char *msgid, ...)
{
	va_list ap;
	char *zh;

	if (!err)
		return;
	va_start(ap, msgid);
	zh = vformat(mssl__tr_zh(msgid), ap);
	va_end(ap);
	if (!zh)
		return;
	free(err->msg_zh);
	err->msg_zh = zh;
}

static char *prefixed(const char *prefix, char *msg)
{
	char *p;

	if (!msg)
		return NULL;
	p = mssl__asprintf("%s%s", prefix, msg);
	if (!p)
		return msg;
	free(msg);
	return p;
}

void mssl__error_prefix(mssl_error *err, const char *prefix)
{
	if (!err || !prefix)
		return;
	err->msg_en = prefixed(prefix, err->msg_en);
	err->msg_zh = prefixed(prefix, err->msg_zh);
}

MSSL_API int mssl_error_set(mssl_error *err, int code, const char *id,
			    const char *field, const char *msgid, ...)
{
	va_list ap;

	mssl__i18n_init();
	va_start(ap, msgid);
	mssl__error_setv(err, code, id, field, msgid, ap);
	va_end(ap);
	return code;
}
