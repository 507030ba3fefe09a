/*
 * mssl, the account user's command line client (mssl(1)): internal
 * interfaces shared by its source files.  Nothing here is a library API.
 */
#ifndef MSSL_CLI_H
#define MSSL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mssl/mssl.h"

#define _(s) gettext(s)
#define N_(s) s

/* Exit status, as mssl-admin(8): 0 done/issuable, 1 refused or failed,
 * 2 unusable input or bad usage. */
enum {
	CLI_OK = 0,
	CLI_REFUSED = 1,
	CLI_USAGE = 2
};

/* A setting's value (malloc'd), NULL when none was given. */
struct cli_setting {
	char *value;
};

struct cli {
	/* Settings: flag > environment > config file > default. */
	struct cli_setting server; /* https://host[:port] */
	struct cli_setting ca_file; /* PEM bundle the server is checked with */
	struct cli_setting module; /* PKCS#11 module of the card */
	struct cli_setting token; /* pkcs11: URI of the card */
	struct cli_setting account; /* the account logged in to by default */
	char *config_path; /* the config file read (may not exist) */
	char *session_path; /* where the session token is kept */
	char *session; /* the bearer token, when logged in */
	bool json; /* --json: print the server's JSON */
	bool zh; /* messages in Traditional Chinese */
	bool assume_yes; /* --yes: no confirmation prompt */
	int pin_fd; /* --pin-fd: PINs from this descriptor, not a TTY */
	void *curl; /* the one libcurl handle, its connection kept */
	/* The TLS exporter of the connection the last answer came on. */
	uint8_t exporter[32];
	bool have_exporter;
	const char *exporter_error; /* why there is none over https */
};

/* The answer to one request. */
struct cli_resp {
	long status; /* HTTP status; 0 when no answer came */
	json_t *json; /* the parsed body, when it was JSON */
	char *body; /* the raw body (NUL-terminated) unless streamed */
	size_t body_len;
};

/* settings.c */
int cli_settings_load(struct cli *c, const char *config_flag);
/* A flag's value for a setting (flags come first and win); 0 or -1. */
int cli_setting_flag(struct cli_setting *s, const char *value);
void cli_settings_free(struct cli *c);
int cli_session_save(struct cli *c, const char *token);
int cli_session_forget(struct cli *c);

/* http.c */
int cli_http_init(void);
void cli_http_cleanup(struct cli *c);
/* RFC 9266 tls-exporter value of the connection the last answer came
 * on; *have false over plain HTTP.  0 or an exit status. */
int cli_tls_exporter(struct cli *c, uint8_t out[32], bool *have);
/* Send 'method' 'path' (under the server URL) with an optional JSON
 * body; fills 'r'.  When 'out' is given the body is streamed there
 * instead of kept.  Returns 0 when an HTTP answer came (any status),
 * CLI_REFUSED after printing why when none did. */
int cli_request(struct cli *c, const char *method, const char *path,
		json_t *body, const char *idempotency_key, FILE *out,
		struct cli_resp *r);
void cli_resp_clear(struct cli_resp *r);
/* Print the error the answer carries (the server's message in the
 * user's language, its code and field) and return the exit status it
 * maps to: 2 for unusable input (400, 413, 415), 1 otherwise. */
int cli_fail(struct cli *c, const struct cli_resp *r);
/* Percent-encode 's' for a query string; malloc'd. */
char *cli_escape(const char *s);

/* out.c */
void cli_print_json(const json_t *j);
const char *cli_str(const json_t *obj, const char *key);
void cli_kv(const char *label, const char *value);
void cli_kv_int(const char *label, json_int_t value);
/* A table: column headings, then rows of strings; widths by the
 * terminal's idea of display width (CJK characters count 2). */
struct cli_table;
struct cli_table *cli_table_new(size_t ncols, const char *const *heads);
int cli_table_row(struct cli_table *t, const char *const *cells);
void cli_table_print(struct cli_table *t, FILE *fp);
void cli_table_free(struct cli_table *t);
void cli_err(const char *fmt, ...) MSSL_PRINTF(1, 2);

#endif
