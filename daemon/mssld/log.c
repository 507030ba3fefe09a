/*
 * Log lines to stderr (the journal under systemd) or a file reopened on
 * SIGHUP.  One write(2) per line, so lines from worker threads never mix.
 * Callers never pass header values, tokens, PINs or pass phrases: the
 * request id ties a line to its request instead.
 */
#include "mssld.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static char *log_path;
static int log_level = MSSL_LOG_INFO;
static bool journal; /* stderr is the journal: "<N>" priority prefixes */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[] = { "error", "warning", "info", "debug" };
/* syslog priorities: err, warning, info, debug */
static const int prio[] = { 3, 4, 6, 7 };

int mssld_log_open(const char *path, int level)
{
	int fd;

	log_level = level;
	journal = !path && getenv("JOURNAL_STREAM");
	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	free(log_path);
	log_path = strdup(path);
	log_fd = fd;
	return 0;
}

/*
 * After logrotate moved the file: open the path again and put the new
 * file in place of the old descriptor, so a line being written by
 * another thread goes to one file or the other, whole.
 */
int mssld_log_reopen(void)
{
	int fd, rc = 0;

	if (!log_path)
		return 0;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&log_lock);
	if (dup3(fd, log_fd, O_CLOEXEC) < 0)
		rc = -errno;
	pthread_mutex_unlock(&log_lock);
	close(fd);
	return rc;
}

void mssld_log_close(void)
{
	if (log_path && log_fd > 2)
		close(log_fd);
	log_fd = 2;
	free(log_path);
	log_path = NULL;
}

bool mssld_log_enabled(int level)
{
	return level <= log_level;
}

static void emit(int level, const char *rid, const char *msg)
{
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	size_t n, i;
	int k;

	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	if (journal) {
		k = snprintf(line, sizeof(line), "<%d>%s%s%s%s\n", prio[level],
			     rid ? "[" : "", rid ? rid : "", rid ? "] " : "",
			     msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		k = snprintf(line, sizeof(line), "%s mssld[%ld]: %s: %s%s%s%s\n",
			     ts, (long)getpid(), names[level], rid ? "[" : "",
			     rid ? rid : "", rid ? "] " : "", msg);
	}
	if (k < 0)
		return;
	n = (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1;
	line[n - 1] = '\n';
	/* One line per line: a message's own newlines become spaces. */
	for (i = 0; i + 1 < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	pthread_mutex_lock(&log_lock);
	if (write(log_fd, line, n) < 0) {
		/* Nowhere left to say it. */
	}
	pthread_mutex_unlock(&log_lock);
}

void mssld_log(int level, const char *rid, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, rid, msg);
}

void mssld_log_lib(void *ud, int level, const char *msg)
{
	if (level > log_level)
		return;
	mssld_log(level, NULL, "libmssl: %s", msg);
}
