/*
 * The opencryptoki software token of the card-layer tests: started by
 * tests/cards/opencryptoki.sh (root, its slot daemon), before cmocka
 * prints its plan, so that where it cannot run the whole file is skipped
 * with the reason (TAP "1..0 # SKIP"), never passed.
 */
#include "config.h"

#include "tokenhelp.h"
#include "testhelp.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tk_ock *running;

/*
 * Lazily and globally, as opencryptoki loads them: one token library
 * takes symbols from another.
 */
static void keep_loaded(const char *path)
{
	if (!dlopen(path, RTLD_LAZY | RTLD_GLOBAL | RTLD_NODELETE))
		printf("# cannot keep %s loaded: %s\n", path, dlerror());
}

/*
 * opencryptoki 3.8 leaks in its token libraries (not our code): the
 * software token's, and those of the other slots its configuration names,
 * which it loads in every process and unloads when they find no device.
 * Keeping them loaded to the end (RTLD_NODELETE) lets LeakSanitizer see
 * whose the leaks are (the test files suppress them), where an unloaded
 * library is an "unknown module".
 */
static void keep_opencryptoki_loaded(const struct tk_ock *ock)
{
	static const char *const stdlls[] = { "libpkcs11_sw.so",
					      "libpkcs11_tpm.so",
					      "libpkcs11_cca.so" };
	char path[600];
	size_t i;

	keep_loaded(ock->module);
	for (i = 0; i < sizeof(stdlls) / sizeof(stdlls[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ock->stdll_dir,
			 stdlls[i]);
		if (access(path, R_OK) == 0)
			keep_loaded(path);
	}
}

void tk_ock_stop(void)
{
	struct tk_ock *ock = running;

	if (!ock)
		return;
	running = NULL;
	th_system("sh '%s/cards/opencryptoki.sh' stop '%s'",
		  getenv("MSSL_TEST_SRCDIR"), ock->dir);
	th_rmrf(ock->dir);
	free(ock->dir);
	ock->dir = NULL;
}

/* KEY=value lines of DIR/ock.env. */
static void read_env(struct tk_ock *ock)
{
	char *path = NULL, line[300];
	FILE *fp;

	if (asprintf(&path, "%s/ock.env", ock->dir) < 0 ||
	    !(fp = fopen(path, "r"))) {
		printf("Bail out! no %s\n", path ? path : "ock.env");
		exit(99);
	}
	while (fgets(line, sizeof(line), fp)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (strcmp(line, "OCK_MODULE") == 0)
			snprintf(ock->module, sizeof(ock->module), "%s", v);
		else if (strcmp(line, "OCK_STDLL_DIR") == 0)
			snprintf(ock->stdll_dir, sizeof(ock->stdll_dir), "%s",
				 v);
		else if (strcmp(line, "OCK_LABEL") == 0)
			snprintf(ock->label, sizeof(ock->label), "%s", v);
		else if (strcmp(line, "OCK_PIN") == 0)
			snprintf(ock->pin, sizeof(ock->pin), "%s", v);
		else if (strcmp(line, "OCK_SO_PIN") == 0)
			snprintf(ock->so_pin, sizeof(ock->so_pin), "%s", v);
	}
	fclose(fp);
	free(path);
}

void tk_ock_start(const char *mode, struct tk_ock *ock)
{
	const char *src = getenv("MSSL_TEST_SRCDIR");
	char reason[300] = "", *path = NULL;
	FILE *fp;
	int rc;

	memset(ock, 0, sizeof(*ock));
	if (!src) {
		printf("Bail out! MSSL_TEST_SRCDIR is not set\n");
		exit(99);
	}
	ock->dir = th_mkdtemp();
	rc = th_system("sh '%s/cards/opencryptoki.sh' %s '%s' %ld "
		       ">'%s/log' 2>&1",
		       src, mode, ock->dir, (long)getpid(), ock->dir);
	if (asprintf(&path, "%s/log", ock->dir) >= 0 &&
	    (fp = fopen(path, "r"))) {
		if (!fgets(reason, sizeof(reason), fp))
			reason[0] = '\0';
		reason[strcspn(reason, "\n")] = '\0';
		fclose(fp);
	}
	free(path);
	if (rc == 77) {
		printf("1..0 # SKIP opencryptoki: %s\n", reason);
		th_rmrf(ock->dir);
		exit(0);
	}
	running = ock;
	atexit(tk_ock_stop);
	if (rc != 0) {
		printf("Bail out! tests/cards/opencryptoki.sh %s failed "
		       "(status %d): %s\n",
		       mode, rc, reason);
		exit(99);
	}
	read_env(ock);
	keep_opencryptoki_loaded(ock);
}
