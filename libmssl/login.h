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

/*
 * A person or card record copied out of a store callback (the store's
 * pointers are borrowed for the callback only).  The card's certificate
 * is not kept.  ud of the callbacks: the copy.
 */
struct mssl__person_copy {
	struct mssl_person_rec r;
	char account_id[64];
	char name[MSSL__TEXT_MAX + 1];
	char email[MSSL__TEXT_MAX + 1];
	char role[16];
	char status[16];
};
struct mssl__card_copy {
	struct mssl_card_rec r;
	char serial[128];
	char state[16];
};
int mssl__person_copy_cb(void *ud, const struct mssl_person_rec *r);
int mssl__card_copy_cb(void *ud, const struct mssl_card_rec *r);

/* "manager" and "auditor" to their role; MSSL_ROLE_NONE otherwise. */
mssl_role mssl__role_of(const char *s);

/* May a card in this state log in (active, or still on its issued PIN)? */
bool mssl__card_usable(const char *state);

/* SHA-256 over n bytes. */
int mssl__sha256(const void *data, size_t n, uint8_t out[32]);

#endif
