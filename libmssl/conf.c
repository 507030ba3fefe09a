/*
 * Configuration: an INI file parsed by inih into (section, key, value,
 * line) entries.  Nothing is interpreted here; the core and each plugin
 * check their own sections, and every complaint names file, line and key.
 */
#include "conf.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *section;
	char *key;
	char *value;
	int line;
};

struct mssl__config {
	char *path;
	struct entry *e;
	size_t n, cap;
	/* Sections in order of appearance, with the line of their header. */
	struct entry *sec;
	size_t nsec, capsec;
};

struct parse {
	struct mssl__config *cfg;
	FILE *fp;
	int line;
	mssl_error *err;
	int rc;
};

static const struct entry *find_section(const struct mssl__config *cfg,
					const char *section);
static int push(struct entry **v, size_t *n, size_t *cap, const char *s,
		const char *k, const char *val, int line);

/*
 * inih calls the handler for keys only, so note each "[section]" header as
 * it is read: a section is then known with its header's line, even when
 * it holds no key.
 */
static int note_section(struct parse *p, const char *line)
{
	const char *end;
	char *name;
	int rc = 0;

	if (line[0] != '[' || !(end = strchr(line + 1, ']')))
		return 0; /* not a header, or inih reports the syntax error */
	name = strndup(line + 1, (size_t)(end - line - 1));
	if (!name)
		return MSSL_ENOMEM;
	if (!find_section(p->cfg, name))
		rc = push(&p->cfg->sec, &p->cfg->nsec, &p->cfg->capsec, name,
			  NULL, NULL, p->line);
	free(name);
	return rc;
}

/* inih reads through us so that we know the line of every entry. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *r = fgets(str, num, p->fp);

	if (r) {
		p->line++;
		if (note_section(p, r) < 0 && p->rc == 0)
			p->rc = mssl__error_set(p->err, MSSL_ENOMEM, "nomem",
						NULL, N_("out of memory"));
	}
	return r;
}

static const struct entry *find(const struct mssl__config *cfg,
				const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < cfg->n; i++)
		if (strcmp(cfg->e[i].section, section) == 0 &&
		    strcmp(cfg->e[i].key, key) == 0)
			return &cfg->e[i];
	return NULL;
}

static const struct entry *find_section(const struct mssl__config *cfg,
					const char *section)
{
	size_t i;

	for (i = 0; i < cfg->nsec; i++)
		if (strcmp(cfg->sec[i].section, section) == 0)
			return &cfg->sec[i];
	return NULL;
}

static int push(struct entry **v, size_t *n, size_t *cap, const char *s,
		const char *k, const char *val, int line)
{
	struct entry *e;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;

		e = realloc(*v, nc * sizeof(**v));
		if (!e)
			return MSSL_ENOMEM;
		*v = e;
		*cap = nc;
	}
	e = &(*v)[*n];
	e->section = strdup(s);
	e->key = k ? strdup(k) : NULL;
	e->value = val ? strdup(val) : NULL;
	e->line = line;
	if (!e->section || (k && !e->key) || (val && !e->value)) {
		free(e->section);
		free(e->key);
		free(e->value);
		return MSSL_ENOMEM;
	}
	(*n)++;
	return 0;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	struct mssl__config *cfg = p->cfg;

	if (!find_section(cfg, section) &&
	    push(&cfg->sec, &cfg->nsec, &cfg->capsec, section, NULL, NULL,
		 p->line) < 0)
		goto nomem;
	if (!name) /* section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!*section) {
		p->rc = mssl__config_error(cfg, p->err, section, name,
					   "config.no_section",
					   N_("a key outside any [section]"));
		return 0;
	}
	if (find(cfg, section, name)) {
		char *pre = mssl__asprintf("%s:%d: ", cfg->path, p->line);

		p->rc = mssl__error_set(p->err, MSSL_ECONFIG, "config.repeated",
					name,
					N_("[%s] %s is given twice; give each key once"),
					section, name);
		mssl__error_prefix(p->err, pre);
		free(pre);
		return 0;
	}
	if (push(&cfg->e, &cfg->n, &cfg->cap, section, name, value, p->line) <
	    0)
		goto nomem;
	return 1;
nomem:
	p->rc = mssl__error_set(p->err, MSSL_ENOMEM, "nomem", NULL,
				N_("out of memory"));
	return 0;
}

int mssl__config_load(const char *path, struct mssl__config **out,
		      mssl_error *err)
{
	struct parse p = { 0 };
	int r, rc = 0;

	*out = NULL;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg || !(p.cfg->path = strdup(path))) {
		rc = mssl__error_set(err, MSSL_ENOMEM, "nomem", NULL,
				     N_("out of memory"));
		goto out;
	}
	p.fp = fopen(path, "re");
	if (!p.fp) {
		rc = mssl__error_set(err, MSSL_ECONFIG, "config.open", "config",
				     N_("cannot read the configuration file %s: %s"),
				     path, strerror(errno));
		goto out;
	}
	p.err = err;
	r = ini_parse_stream(reader, &p, handler, &p);
	if (p.rc < 0) {
		rc = p.rc;
	} else if (r != 0) {
		char *pre = mssl__asprintf("%s:%d: ", path, r > 0 ? r : 0);

		rc = mssl__error_set(err, MSSL_ECONFIG, "config.syntax", NULL,
				     N_("syntax error: expected [section] or key = value"));
		mssl__error_prefix(err, pre);
		free(pre);
	}
out:
	if (p.fp)
		fclose(p.fp);
	if (rc < 0)
		mssl__config_free(p.cfg);
	else
		*out = p.cfg;
	return rc;
}

void mssl__config_free(struct mssl__config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n; i++) {
		free(cfg->e[i].section);
		free(cfg->e[i].key);
		free(cfg->e[i].value);
	}
	for (i = 0; i < cfg->nsec; i++)
		free(cfg->sec[i].section);
	free(cfg->e);
	free(cfg->sec);
	free(cfg->path);
	free(cfg);
}

const char *mssl__config_get(const struct mssl__config *cfg,
			     const char *section, const char *key)
{
	const struct entry *e = cfg ? find(cfg, section, key) : NULL;

	return e ? e->value : NULL;
}

bool mssl__config_has_section(const struct mssl__config *cfg,
			      const char *section)
{
	return cfg && find_section(cfg, section);
}

/* "file:line: [section] key: ", the line of the key or of its section. */
static void prefix_where(const struct mssl__config *cfg, mssl_error *err,
			 const char *section, const char *key)
{
	const struct entry *e = NULL;
	char *pre;
	int line = 0;

	if (cfg) {
		e = key ? find(cfg, section, key) : NULL;
		if (!e)
			e = find_section(cfg, section);
		line = e ? e->line : 0;
	}
	pre = mssl__asprintf("%s:%d: [%s]%s%s: ",
			     cfg ? cfg->path : "(no configuration file)", line,
			     section, key ? " " : "", key ? key : "");
	mssl__error_prefix(err, pre);
	free(pre);
}

int mssl__config_error(const struct mssl__config *cfg, mssl_error *err,
		       const char *section, const char *key, const char *id,
		       const char *msgid, ...)
{
	va_list ap;

	va_start(ap, msgid);
	mssl__error_setv(err, MSSL_ECONFIG, id, key, msgid, ap);
	va_end(ap);
	prefix_where(cfg, err, section, key);
	return MSSL_ECONFIG;
}

int mssl__config_error_text(const struct mssl__config *cfg, mssl_error *err,
			    const char *section, const char *key,
			    const char *id, const char *en, const char *zh)
{
	mssl__error_set(err, MSSL_ECONFIG, id, key, "%s", en);
	mssl__error_zh(err, "%s", zh ? zh : en);
	prefix_where(cfg, err, section, key);
	return MSSL_ECONFIG;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int mssl__config_check_keys(const struct mssl__config *cfg,
			    const char *section, const char *const *keys,
			    mssl_error *err)
{
	size_t i;

	if (!cfg)
		return 0;
	for (i = 0; i < cfg->n; i++) {
		const struct entry *e = &cfg->e[i];

		if (strcmp(e->section, section) != 0 || in_list(e->key, keys))
			continue;
		return mssl__config_error(cfg, err, section, e->key,
					  "config.unknown_key",
					  N_("unknown key; see mssl.conf(5) for the keys of this section"));
	}
	return 0;
}

int mssl__config_check_sections(const struct mssl__config *cfg,
				const char *const *sections, mssl_error *err)
{
	size_t i;

	if (!cfg)
		return 0;
	for (i = 0; i < cfg->nsec; i++) {
		if (in_list(cfg->sec[i].section, sections))
			continue;
		return mssl__config_error(cfg, err, cfg->sec[i].section, NULL,
					  "config.unknown_section",
					  N_("unknown section: it is neither [mssl] nor the section of a configured plugin"));
	}
	return 0;
}

int mssl__split_list(const char *text, char ***out, size_t *n)
{
	char **v = NULL, *copy, *tok, *save = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	copy = strdup(text ? text : "");
	if (!copy)
		return MSSL_ENOMEM;
	v = calloc(strlen(copy) / 2 + 2, sizeof(*v));
	if (!v) {
		free(copy);
		return MSSL_ENOMEM;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		v[count] = strdup(tok);
		if (!v[count]) {
			free(copy);
			mssl__strv_free(v);
			return MSSL_ENOMEM;
		}
		count++;
	}
	free(copy);
	*out = v;
	*n = count;
	return 0;
}

void mssl__strv_free(char **v)
{
	char **p;

	if (!v)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

int mssl__config_int(const struct mssl__config *cfg, const char *section,
		     const char *key, long min, long max, long dflt, int *out,
		     mssl_error *err)
{
	const char *v = mssl__config_get(cfg, section, key);
	char *end = NULL;
	long n;

	*out = (int)dflt;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max)
		return mssl__config_error(cfg, err, section, key,
					  "config.range",
					  N_("\"%s\" must be a whole number from %ld to %ld"),
					  v, min, max);
	*out = (int)n;
	return 0;
}

/*
 * As mssl__config_error, with a va_list: for mssl_ctx_config_error, the
 * public door programs use for complaints about their own sections.
 */
int mssl__config_errorv(const struct mssl__config *cfg, mssl_error *err,
			const char *section, const char *key, const char *id,
			const char *msgid, va_list ap)
{
	const struct entry *e = NULL;
	char *pre;
	int line = 0;

	if (cfg) {
		e = key ? find(cfg, section, key) : NULL;
		if (!e)
			e = find_section(cfg, section);
		line = e ? e->line : 0;
	}
	mssl__error_setv(err, MSSL_ECONFIG, id, key, msgid, ap);
	pre = mssl__asprintf("%s:%d: [%s]%s%s: ",
			     cfg ? cfg->path : "(no configuration file)", line,
			     section, key ? " " : "", key ? key : "");
	mssl__error_prefix(err, pre);
	free(pre);
	return MSSL_ECONFIG;
}

const char *mssl__config_path(const struct mssl__config *cfg)
{
	return cfg ? cfg->path : NULL;
}

int mssl__config_days_list(const struct mssl__config *cfg,
			   const char *section, const char *key, int min,
			   int max, const int *dflt, size_t n_dflt, int *out,
			   size_t cap, size_t *n_out, mssl_error *err)
{
	const char *v = mssl__config_get(cfg, section, key);
	char **items = NULL, *end;
	size_t n = 0, i, j;
	long d;
	int rc = 0, t;

	*n_out = 0;
	if (!v) {
		for (i = 0; i < n_dflt && i < cap; i++)
			out[i] = dflt[i];
		n = i;
		goto sort;
	}
	if ((rc = mssl__split_list(v, &items, &n)) < 0)
		return mssl__error_set(err, rc, "nomem", NULL,
				       N_("out of memory"));
	if (n > cap) {
		rc = mssl__config_error(cfg, err, section, key,
					"config.list_length",
					N_("at most %zu values, not %zu"), cap,
					n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		errno = 0;
		d = strtol(items[i], &end, 10);
		if (!*items[i] || *end || errno || d < min || d > max) {
			rc = mssl__config_error(cfg, err, section, key,
						"config.days",
						N_("\"%s\" is not a number of days from %d to %d (write them as a list such as \"30, 14, 7\", or leave it empty for none)"),
						items[i], min, max);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (out[j] == (int)d) {
				rc = mssl__config_error(cfg, err, section,
							key,
							"config.days_repeated",
							N_("%ld days is listed twice"),
							d);
				goto out;
			}
		out[i] = (int)d;
	}
sort:
	/* Largest first: the order a certificate crosses them in. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && out[j - 1] < out[j]; j--) {
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	*n_out = n;
out:
	mssl__strv_free(items);
	return rc;
}
