/* E-mail notices: the [mail] section and the outbox sender (internal). */
#ifndef MSSL_MAIL_H
#define MSSL_MAIL_H

#include "ctx.h"

/*
 * Read and check the [mail] section into ctx->mail (defaults when the
 * file has none).  MSSL_ECONFIG naming the key for a bad value.
 */
int mssl__mail_config(mssl_ctx *ctx, mssl_error *err);

/* Free what ctx->mail owns. */
void mssl__mail_config_free(struct mssl__mail_conf *m);

/*
 * The RFC 5322 message (CRLF line endings, subject RFC 2047 encoded,
 * body base64) of outbox record r from 'from' at time 'now'.  *out is
 * freed with free().  MSSL_EINPUT when a header value is unusable (an
 * invalid address, a control character such as CR or LF).
 */
/* One "label: value" line of a notice; label is a msgid. */
struct mssl__notice_line {
	const char *label;
	const char *value;
};

/*
 * Queue a notice for 'to' in the write transaction open on conn: subject
 * "[mssl] <cn> <what> / <what in zh_TW>", body the headline and lines in
 * English, then again in Traditional Chinese, each followed by 'footer'
 * (may be NULL).  what, headline, labels and footer are msgids.
 * Returns 0, MSSL_ENOMEM or the store's error.
 */
int mssl__notice_queue(mssl_ctx *ctx, void *conn, const char *to,
		       const char *related, const char *cn, const char *what,
		       const char *headline,
		       const struct mssl__notice_line *lines, size_t n,
		       const char *footer);

/* mssl__notice_queue, with the outbox id of the message in *id_out. */
int mssl__notice_queue_id(mssl_ctx *ctx, void *conn, const char *to,
			  const char *related, const char *cn,
			  const char *what, const char *headline,
			  const struct mssl__notice_line *lines, size_t n,
			  const char *footer, int64_t *id_out);

int mssl__mail_message(const char *from, const struct mssl_mail_rec *r,
		       int64_t now, char **out, size_t *len, mssl_error *err);

#endif
