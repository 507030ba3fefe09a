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
#include <stdatomic.h>
#include <stdint.h>
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

/*
 * Translations looked up before, per thread, by the msgid's address: a
 * check translates the same few messages for every name, and gettext's
 * lookup (locale switch, hash, catalog) costs far more than the message.
 * The msgids are string constants of the library or of a plugin; a
 * plugin's go when it is unloaded, so unloading one (mssl__tr_forget)
 * starts a new generation and every entry of an older one is ignored.
 */
#define TR_CACHE 128 /* a power of 2 */

static atomic_uint tr_gen = 1;
static __thread struct {
	const char *id, *tr;
	unsigned gen;
} tr_cache[TR_CACHE];

void mssl__tr_forget(void)
{
	atomic_fetch_add(&tr_gen, 1);
}

const char *mssl__tr_zh(const char *msgid)
{
	unsigned gen = atomic_load_explicit(&tr_gen, memory_order_relaxed);
	uintptr_t a = (uintptr_t)msgid;
	size_t i = (size_t)((a >> 3) ^ (a >> 11)) & (TR_CACHE - 1);
	locale_t old;
	const char *t;

	if (msgid && tr_cache[i].id == msgid && tr_cache[i].gen == gen)
		return tr_cache[i].tr;
	mssl__i18n_init();
	if (!zh_locale || !msgid)
		return msgid;
	old = uselocale(zh_locale);
	t = dgettext(MSSL_TEXTDOMAIN, msgid);
	uselocale(old);
	tr_cache[i].id = msgid;
	tr_cache[i].tr = t;
	tr_cache[i].gen = gen;
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
