/*
 * A main for fuzz targets built without libFuzzer (as p11-kit's
 * fuzz/main.c), so that the seed corpus runs under plain `make check`.
 *
 *	csr-fuzzer [FILE | DIR | -]...
 *
 * Runs LLVMFuzzerTestOneInput once on each FILE, on each regular file of
 * each DIR (not recursively, in name order, hidden files skipped) and,
 * for "-", on standard input.  Without arguments it runs the corpus
 * directory compiled in as FUZZ_CORPUS_DIR (make check) or, when there is
 * none, standard input.
 *
 * Output is TAP: the plan, then one "ok" line per input.  An input that
 * cannot be read is "not ok"; one that breaks the target does not return
 * (the sanitizers or abort() stop the program), which the TAP driver
 * reports as an error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any input worth running (libFuzzer's -max_len is 4096). */
#define INPUT_MAX (1024 * 1024)

struct inputs {
	char **v;
	size_t n, cap;
};

static int add_input(struct inputs *in, const char *dir, const char *name)
{
	size_t len = strlen(name) + (dir ? strlen(dir) + 1 : 0) + 1;
	char **v, *path;

	if (in->n == in->cap) {
		size_t nc = in->cap ? in->cap * 2 : 64;

		v = realloc(in->v, nc * sizeof(*v));
		if (!v)
			return -1;
		in->v = v;
		in->cap = nc;
	}
	path = malloc(len);
	if (!path)
		return -1;
	if (dir)
		snprintf(path, len, "%s/%s", dir, name);
	else
		snprintf(path, len, "%s", name);
	in->v[in->n++] = path;
	return 0;
}

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Every regular file of dir, in name order. */
static int add_dir(struct inputs *in, const char *dir)
{
	struct dirent **list = NULL;
	struct stat st;
	int i, n, rc = 0;

	n = scandir(dir, &list, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "# %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(list[i]->d_name) + 2;
		char *path = malloc(len);

		if (path) {
			snprintf(path, len, "%s/%s", dir, list[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    rc == 0)
				rc = add_input(in, dir, list[i]->d_name);
			free(path);
		} else {
			rc = -1;
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int add_arg(struct inputs *in, const char *arg)
{
	struct stat st;

	if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return add_dir(in, arg);
	return add_input(in, NULL, arg);
}

/* The whole of fp into a new buffer; NULL on error or when too large. */
static uint8_t *read_all(FILE *fp, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap), *b;

	while (buf) {
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (n < cap) {
			if (ferror(fp))
				break;
			*len = n;
			return buf;
		}
		if (cap >= INPUT_MAX)
			break;
		b = realloc(buf, cap * 2);
		if (!b)
			break;
		buf = b;
		cap *= 2;
	}
	free(buf);
	return NULL;
}

static int run_one(const char *path, size_t num)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0;

	if (fp)
		data = read_all(fp, &len);
	if (fp && fp != stdin)
		fclose(fp);
	if (!data) {
		printf("not ok %zu - %s # cannot read: %s\n", num, path,
		       fp ? "read error or too large" : strerror(errno));
		return -1;
	}
	/* Announce the input first: a crash leaves its name in the log. */
	printf("# %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("ok %zu - %s\n", num, path);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct inputs in = { NULL, 0, 0 };
	int i, failed = 0;
	size_t k;

	for (i = 1; i < argc; i++)
		if (add_arg(&in, argv[i]) < 0)
			failed = 1;
#ifdef FUZZ_CORPUS_DIR
	if (argc < 2 && add_arg(&in, FUZZ_CORPUS_DIR) < 0)
		failed = 1;
#endif
	if (argc < 2 && in.n == 0 && !failed && add_input(&in, NULL, "-") < 0)
		failed = 1;
	if (failed) {
		printf("Bail out! cannot list the inputs\n");
		return 1;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	printf("1..%zu\n", in.n);
	for (k = 0; k < in.n; k++) {
		if (run_one(in.v[k], k + 1) < 0)
			failed = 1;
		free(in.v[k]);
	}
	free(in.v);
	return failed;
}
