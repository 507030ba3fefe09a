/*
 * Messages in two languages.
 *
 * The library gives every message in English (the msgid) and in
 * Traditional Chinese regardless of the program's locale.  For the latter
 * it switches only the calling thread to a zh_TW locale (uselocale), which
 * glibc's gettext honours, so other threads are unaffected.
 */
#include "internal.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t i18n_once = PTHREAD_ONCE_INIT;
static locale_t zh_locale = (locale_t)0;

static void i18n_setup(void)
{
	const char *dir = getenv("MSSL_LOCALEDIR");
	static const char *const zh_names[] = { "zh_TW.UTF-8", "zh_TW.utf8",
						"zh_TW" };
	size_t i;

	bindtextdomain(MSSL_TEXTDOMAIN, dir && *dir ? dir : LOCALEDIR);
	bind_textdomain_codeset(MSSL_TEXTDOMAIN, "UTF-8");
	for (i = 0; i < MSSL_ARRAY_SIZE(zh_names) && !zh_locale; i++)
		zh_locale = newlocale(LC_MESSAGES_MASK, zh_names[i],
				      (locale_t)0);
}

void mssl__i18n_init(void)
{
	pthread_once(&i18n_once, i18n_setup);
}

const char *mssl__tr_zh(const char *msgid)
{
	locale_t old;
	const char *t;

	mssl__i18n_init();
	if (!zh_locale || !msgid)
		return msgid;
	old = uselocale(zh_locale);
	t = dgettext(MSSL_TEXTDOMAIN, msgid);
	uselocale(old);
	return t;
}

bool mssl__locale_is_zh(void)
{
	const char *l = getenv("LANGUAGE");

	/* gettext lets LANGUAGE override LC_MESSAGES; follow it the same way. */
	if (!l || !*l)
		l = setlocale(LC_MESSAGES, NULL);
	return l && strncmp(l, "zh", 2) == 0;
}
