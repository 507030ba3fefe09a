/*
 * An SMTP server for tests: python3-aiosmtpd on 127.0.0.1, writing each
 * message it receives to <dir>/msgN.eml (N from 1), preceded by the
 * envelope as two lines "MAILFROM <from>\r\nRCPT <to,...>\r\n".
 */
#ifndef MSSL_TESTS_SMTPSINK_H
#define MSSL_TESTS_SMTPSINK_H

#include <sys/types.h>

struct th_smtp {
	char *dir; /* the messages */
	char *script;
	const char *python;
	int port;
	pid_t pid;
};

/* A free TCP port on 127.0.0.1 (the kernel's choice). */
int th_free_port(void);

/*
 * Choose a port and find a python3 with aiosmtpd; 0, or -1 when it is
 * not installed (the caller skips).  Nothing is started yet: the port
 * can go into a configuration first.
 */
int th_smtp_init(struct th_smtp *s);

/* Make 'parent'/inbox and the server's script there, then start it. */
void th_smtp_start_in(struct th_smtp *s, const char *parent);

/* Start it again after th_smtp_stop (same port, same inbox). */
void th_smtp_start(struct th_smtp *s);

/* Stop it (SIGTERM, then SIGKILL after 5 s); safe when not running. */
void th_smtp_stop(struct th_smtp *s);

/* Stop it and free what th_smtp_init and th_smtp_start_in made. */
void th_smtp_free(struct th_smtp *s);

/* How many messages arrived. */
int th_smtp_count(const struct th_smtp *s);

/* Message n (from 1), whole, or NULL when it is not there (free it). */
char *th_smtp_message(const struct th_smtp *s, int n);

#endif
