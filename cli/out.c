/*
 * mssl's output: human tables (aligned by display width, so Chinese
 * notes line up) and JSON for scripts.
 */
#include "config.h"

#include <libintl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mssl.h"

struct cli_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows x ncols, row 0 the headings */
	size_t *width;
};

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("mssl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

const char *cli_str(const json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Columns the text takes on a terminal; bytes when not valid text. */
static size_t display_width(const char *s)
{
	mbstate_t st;
	size_t w = 0, n;
	wchar_t wc;

	memset(&st, 0, sizeof(st));
	while (*s) {
		int cw;

		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2)
			return w + strlen(s);
		cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		s += n;
	}
	return w;
}

static void pad(FILE *fp, const char *s, size_t width)
{
	size_t w = display_width(s);

	fputs(s, fp);
	while (w++ < width)
		fputc(' ', fp);
}

void cli_kv(const char *label, const char *value)
{
	pad(stdout, label, 22);
	printf(" %s\n", value ? value : "-");
}

void cli_kv_int(const char *label, json_int_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, value);
	cli_kv(label, buf);
}

struct cli_table *cli_table_new(size_t ncols, const char *const *heads)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t || !(t->width = calloc(ncols, sizeof(*t->width)))) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	if (cli_table_row(t, heads) < 0) {
		cli_table_free(t);
		return NULL;
	}
	return t;
}

int cli_table_row(struct cli_table *t, const char *const *cells)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof(*p));

		if (!p)
			return -1;
		t->cells = p;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "-";
		char **slot = &t->cells[t->nrows * t->ncols + i];
		size_t w;

		if (!(*slot = strdup(s))) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return -1;
		}
		w = display_width(s);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

void cli_table_print(struct cli_table *t, FILE *fp)
{
	size_t r, i;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				fputs(s, fp);
			else {
				pad(fp, s, t->width[i]);
				fputs("  ", fp);
			}
		}
		fputc('\n', fp);
	}
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}
