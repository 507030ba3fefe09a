/*
 * Reading a PIN: from the terminal with echo off, or from a file
 * descriptor a script hands over.  Never from the command line, where
 * every user of the machine could read it in the process list.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

static void put(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/*
 * One line, a byte at a time so that whatever follows on the descriptor
 * (the next PIN of the same script) is left for the next read.
 */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	bool too_long = false;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return MSSL_EIO;
		if (r == 0) {
			if (len == 0 && !too_long)
				return MSSL_EIO;
			break;
		}
		if (c == '\n')
			break;
		if (len + 1 >= size) {
			/* Drain the rest of the line, keep nothing. */
			too_long = true;
			continue;
		}
		buf[len++] = c;
	}
	c = 0;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (too_long)
		return MSSL_EINPUT;
	return (int)len;
}

MSSL_API int mssl_token_read_pin(const char *prompt, int fd, char *buf,
				 size_t size)
{
	struct termios saved, quiet;
	int tty = -1, rc;

	return_val_if_fail(buf && size >= 2 && size <= INT_MAX, MSSL_EINVAL);
	if (fd >= 0) {
		rc = read_line(fd, buf, size);
		goto out;
	}
	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		return MSSL_EIO;
	if (tcgetattr(tty, &saved) < 0) {
		close(tty);
		return MSSL_EIO;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL | ICANON;
	/* TCSAFLUSH: nothing typed before the prompt counts as the PIN. */
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0) {
		close(tty);
		return MSSL_EIO;
	}
	if (prompt)
		put(tty, prompt);
	rc = read_line(tty, buf, size);
	tcsetattr(tty, TCSAFLUSH, &saved);
	close(tty);
out:
	if (rc == 0)
		rc = MSSL_EINPUT;
	if (rc < 0)
		gnutls_memset(buf, 0, size);
	return rc;
}
