/* Cards and login: configuration and shared helpers (internal). */
#ifndef MSSL_LOGIN_H
#define MSSL_LOGIN_H

#include "op.h"

/*
 * Read and check [login] and [cards] into ctx->login and ctx->cards
 * (defaults when absent) and load the card CA certificate.  MSSL_ECONFIG
 * naming the key for a bad value.
 */
int mssl__login_config(mssl_ctx *ctx, mssl_error *err);

/* Free what ctx->login and ctx->cards own. */
void mssl__login_config_free(mssl_ctx *ctx);

/*
 * HMAC-SHA-256 of label || data keyed with the [cards] master secret.
 * The secret is read from its file for this call and wiped after.
 * MSSL_ECONFIG when the file is not set, unreadable, too short or
 * readable by others.
 */
int mssl__cards_hmac(mssl_ctx *ctx, const char *label, const char *data,
		     uint8_t out[32], mssl_error *err);

/* The card's SO PIN (MSSL_SO_PIN_LEN hex digits) for a token serial. */
int mssl__card_so_pin(mssl_ctx *ctx, const char *serial,
		      char so_pin[MSSL_SO_PIN_LEN + 1], mssl_error *err);

/* SHA-256 over n bytes. */
int mssl__sha256(const void *data, size_t n, uint8_t out[32]);

#endif
