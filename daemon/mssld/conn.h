/* One client connection (http.c), shared with the TLS layer (tls.c). */
#ifndef MSSLD_CONN_H
#define MSSLD_CONN_H

#include "mssld.h"

#include <gnutls/gnutls.h>

enum conn_phase {
	PHASE_IDLE, /* between requests: idle timeout */
	PHASE_READING, /* a request (or TLS handshake) under way */
	PHASE_BUSY, /* a handler runs */
	PHASE_WRITING, /* the response goes out: write timeout */
};

struct mssld_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct mssld_server *srv;
	struct mssld_conn *prev, *next; /* srv->conns */
	struct mssld_ip *ip;
	char peer[64]; /* numeric address of the other end */
	http_parser parser;
	enum conn_phase phase;
	/* Plain-text bytes read but not parsed yet. */
	char *in;
	size_t in_len, in_cap;
	struct mssld_req *req; /* being read or handled */
	unsigned writes; /* uv_write requests not completed */
	unsigned refs; /* handles open + calls on the pool */
	bool closing, reading, want_close, paused;
	uint64_t requests;
	/* TLS (NULL for plain HTTP). */
	gnutls_session_t tls;
	bool handshaken;
	char *tin; /* ciphertext not yet taken by GnuTLS */
	size_t tin_len, tin_off, tin_cap;
	char *tout; /* ciphertext to send */
	size_t tout_len, tout_cap;
	uint8_t cb[32]; /* tls-exporter */
	size_t cb_len;
	/* A response body still in a file (a CSV export), sent a chunk at
	 * a time as the previous one is written. */
	bool file_open;
	int file_fd;
	uint64_t file_left;
};

/* Plain text from the TLS layer, to be parsed. */
int mssld_conn_take_plain(struct mssld_conn *c, const char *data, size_t len);
/* Write raw bytes (plain) or encrypt them (TLS).  Returns 0 or -1. */
int mssld_conn_send(struct mssld_conn *c, const char *data, size_t len);
void mssld_conn_close(struct mssld_conn *c);

/* tls.c */
int mssld_tls_conn_new(struct mssld_conn *c);
void mssld_tls_conn_free(struct mssld_conn *c);
/*
 * Ciphertext came in: run the handshake and append the plain text to
 * c->in.  Returns 0, or -1 when the connection must be closed.
 */
int mssld_tls_feed(struct mssld_conn *c, const char *data, size_t len);
/* Encrypt and queue for writing; -1 on failure. */
int mssld_tls_send(struct mssld_conn *c, const char *data, size_t len);
/* Send close_notify (best effort). */
void mssld_tls_bye(struct mssld_conn *c);
/* Queue a raw write of len bytes that the write owns (free()d after). */
int mssld_conn_write_owned(struct mssld_conn *c, char *data, size_t len);

#endif
