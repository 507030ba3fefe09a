/* The tests' SMTP sink (smtpsink.h). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smtpsink.h"
#include "testhelp.h"

static const char server_py[] =
	"import os, signal, sys\n"
	"from aiosmtpd.controller import Controller\n"
	"port, outdir = int(sys.argv[1]), sys.argv[2]\n"
	"class H:\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        n = len([f for f in os.listdir(outdir) if f.endswith('.eml')])\n"
	"        base = os.path.join(outdir, 'msg%d' % (n + 1))\n"
	"        with open(base + '.tmp', 'wb') as f:\n"
	"            f.write(('MAILFROM %s\\r\\nRCPT %s\\r\\n' % (envelope.mail_from,\n"
	"                     ','.join(envelope.rcpt_tos))).encode())\n"
	"            f.write(envelope.original_content)\n"
	"        os.rename(base + '.tmp', base + '.eml')\n"
	"        return '250 OK'\n"
	"signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
	"c = Controller(H(), hostname='127.0.0.1', port=port)\n"
	"c.start()\n"
	"open(os.path.join(outdir, 'ready'), 'w').close()\n"
	"try:\n"
	"    signal.pause()\n"
	"finally:\n"
	"    c.stop()\n";

int th_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int th_smtp_init(struct th_smtp *s)
{
	static const char *const cands[] = { "python3", "/usr/bin/python3" };
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 2 && !s->python; i++)
		if (th_system("%s -c 'import aiosmtpd' >/dev/null 2>&1",
			      cands[i]) == 0)
			s->python = cands[i];
	if (!s->python)
		return -1;
	s->port = th_free_port();
	return 0;
}

void th_smtp_start_in(struct th_smtp *s, const char *parent)
{
	assert_true(asprintf(&s->dir, "%s/inbox", parent) > 0);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	s->script = th_write_file(parent, "smtpd.py", server_py);
	th_smtp_start(s);
}

void th_smtp_start(struct th_smtp *s)
{
	char ready[512], port[16];
	int i, status;

	snprintf(ready, sizeof(ready), "%s/ready", s->dir);
	unlink(ready);
	snprintf(port, sizeof(port), "%d", s->port);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execlp(s->python, s->python, s->script, port, s->dir,
		       (char *)NULL);
		_exit(127);
	}
	/* Bounded: 10 s for the server to listen. */
	for (i = 0; i < 200; i++) {
		if (access(ready, F_OK) == 0)
			return;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			fail_msg("the SMTP server exited (status %d)", status);
		}
		sleep_ms(50);
	}
	fail_msg("the SMTP server did not start within 10 s");
}

void th_smtp_stop(struct th_smtp *s)
{
	int i, status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		sleep_ms(50);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

void th_smtp_free(struct th_smtp *s)
{
	th_smtp_stop(s);
	free(s->dir);
	free(s->script);
	s->dir = s->script = NULL;
}

int th_smtp_count(const struct th_smtp *s)
{
	char path[512];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "%s/msg%d.eml", s->dir, n + 1);
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

char *th_smtp_message(const struct th_smtp *s, int n)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/msg%d.eml", s->dir, n);
	fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	return buf;
}
