/*
 * mock-store: a store plugin that holds nothing, for the loader tests
 * (mssl_ctx_open always loads a store first).  Every operation succeeds:
 * writes are dropped, lookups find nothing (MSSL_ENOENT), iterations are
 * empty, balances and the audit head are zero, the schema version is 1.
 * ABI 1.3: begin() takes MSSL_TXN_LAZY with a write transaction; 1.5:
 * cert_match, as empty as cert_each.
 *
 * Config key:
 *   marker  a file to which it appends one line per init, fini, and
 *           connection open and close ("mock-store init", ...), so that
 *           tests can check what ran and in which order.
 */
#include <mssl/plugin.h>

#include <stdio.h>
#include <string.h>

struct state {
	const struct mssl_host *host;
	void *hctx;
	const char *marker;
};

static void mark(const struct state *st, const char *what)
{
	FILE *fp;

	if (!st->marker)
		return;
	fp = fopen(st->marker, "a");
	if (!fp)
		return;
	fprintf(fp, "mock-store %s\n", what);
	fclose(fp);
}

static int store_init(const struct mssl_host *host, void *hctx, void **out)
{
	struct state *st = host->alloc(hctx, sizeof(*st));

	if (!st)
		return MSSL_ENOMEM;
	st->host = host;
	st->hctx = hctx;
	st->marker = host->config_get(hctx, "marker");
	mark(st, "init");
	*out = st;
	return 0;
}

static void store_fini(void *state)
{
	struct state *st = state;

	mark(st, "fini");
	st->host->free(st->hctx, st);
}

/* A connection is the state itself: there is nothing to connect to. */
static int s_open(void *state, void **conn)
{
	mark(state, "open");
	*conn = state;
	return 0;
}

static void s_close(void *conn)
{
	mark(conn, "close");
}

/* Nothing to make durable: a lazy commit (ABI 1.3) is a commit.  A
 * mode of no known kind is refused, as a real store must. */
static int s_begin(void *conn, int mode)
{
	switch (mode) {
	case MSSL_TXN_READ:
	case MSSL_TXN_WRITE:
	case MSSL_TXN_WRITE | MSSL_TXN_LAZY:
		return 0;
	default:
		return MSSL_EINVAL;
	}
}

static int s_done(void *conn)
{
	return 0;
}

static int s_schema_version(void *conn, int *version)
{
	*version = 1;
	return 0;
}

static int s_account_put(void *conn, const struct mssl_account_rec *r)
{
	return 0;
}

static int s_account_get(void *conn, const char *id, mssl_account_cb cb,
			 void *ud)
{
	return MSSL_ENOENT;
}

static int s_account_each(void *conn, mssl_account_cb cb, void *ud)
{
	return 0;
}

static int s_domain_insert(void *conn, const struct mssl_domain_rec *r)
{
	return 0;
}

static int s_domain_delete(void *conn, const char *account_id, const char *name)
{
	return MSSL_ENOENT;
}

static int s_domain_find(void *conn, const char *name, mssl_domain_cb cb,
			 void *ud)
{
	return 0;
}

static int s_domain_each(void *conn, const char *account_id, mssl_domain_cb cb,
			 void *ud)
{
	return 0;
}

static int s_contact_insert(void *conn, const struct mssl_contact_rec *r,
			    int64_t *id_out)
{
	*id_out = 1;
	return 0;
}

static int s_contact_each(void *conn, const char *account_id,
			  mssl_contact_cb cb, void *ud)
{
	return 0;
}

static int s_ledger_insert(void *conn, const struct mssl_ledger_rec *r,
			   int64_t *id_out)
{
	*id_out = 1;
	return 0;
}

static int s_ledger_balance(void *conn, const char *account_id,
			    int64_t *balance)
{
	*balance = 0;
	return 0;
}

static int s_ledger_each(void *conn, const char *account_id, int newest_first,
			 int64_t offset, int64_t limit, mssl_ledger_cb cb,
			 void *ud)
{
	return 0;
}

static int s_audit_insert(void *conn, const struct mssl_audit_rec *r)
{
	return 0;
}

static int s_audit_head(void *conn, int64_t *seq, uint8_t hash[32])
{
	*seq = 0;
	memset(hash, 0, 32);
	return 0;
}

static int s_audit_each(void *conn, int64_t from_seq, mssl_audit_cb cb,
			void *ud)
{
	return 0;
}

static int s_notice_insert(void *conn, const struct mssl_notice_rec *r,
			   int64_t *id_out)
{
	*id_out = 1;
	return 0;
}

static int s_notice_each(void *conn, const char *account_id, int64_t now,
			 mssl_notice_cb cb, void *ud)
{
	return 0;
}

static int s_blocked_key_insert(void *conn,
				const struct mssl_blocked_key_rec *r)
{
	return 0;
}

static int s_blocked_key_get(void *conn, const uint8_t spki_sha256[32],
			     mssl_blocked_key_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_cert_insert(void *conn, const struct mssl_cert_rec *r)
{
	return 0;
}

static int s_cert_get(void *conn, const char *serial, mssl_cert_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_cert_finish(void *conn, const char *serial,
			 const char *new_serial, const char *state,
			 const uint8_t *der, size_t der_len, int64_t nb,
			 int64_t na)
{
	return MSSL_ENOENT;
}

static int s_cert_revoke(void *conn, const char *serial, int64_t at,
			 int reason)
{
	return MSSL_ENOENT;
}

static int s_cert_each(void *conn, const struct mssl_cert_filter *f,
		       mssl_cert_cb cb, void *ud)
{
	return 0;
}

static int s_cert_match(void *conn, const struct mssl_cert_filter *f,
			const struct mssl_cert_match *m, mssl_cert_cb cb,
			void *ud)
{
	return 0;
}

static int s_cert_by_key(void *conn, const char *account_id,
			 const char *key, mssl_cert_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_term_get(void *conn, const char *account_id, const char *cn,
		      mssl_term_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_term_put(void *conn, const struct mssl_term_rec *r)
{
	return 0;
}

static int s_counter_next(void *conn, const char *name, int64_t *value)
{
	*value = 1;
	return 0;
}

static int s_mail_insert(void *conn, const struct mssl_mail_rec *r,
			 int64_t *id)
{
	if (id)
		*id = 1;
	return 0;
}

static int s_mail_due(void *conn, int64_t now, int64_t limit,
		      mssl_mail_cb cb, void *ud)
{
	return 0;
}

static int s_mail_sent(void *conn, int64_t id, int64_t at)
{
	return MSSL_ENOENT;
}

static int s_mail_retry(void *conn, int64_t id, int64_t next,
			const char *error)
{
	return MSSL_ENOENT;
}

static int s_person_insert(void *conn, const struct mssl_person_rec *r,
			   int64_t *id)
{
	if (id)
		*id = 1;
	return 0;
}

static int s_person_get(void *conn, int64_t id, mssl_person_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_person_each(void *conn, const char *account_id,
			 mssl_person_cb cb, void *ud)
{
	return 0;
}

static int s_ledger_reserial(void *conn, const char *serial,
			     const char *new_serial)
{
	return 0;
}

/* Setting a field of a row that does not exist. */
static int s_set_text(void *conn, int64_t id, const char *value)
{
	return MSSL_ENOENT;
}

static int s_card_insert(void *conn, const struct mssl_card_rec *r,
			 int64_t *id)
{
	if (id)
		*id = 1;
	return 0;
}

static int s_card_get(void *conn, int64_t id, mssl_card_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_card_by_cert(void *conn, const uint8_t cert_sha256[32],
			  mssl_card_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_card_list(void *conn, const char *key, mssl_card_cb cb,
		       void *ud)
{
	return 0;
}

static int s_challenge_insert(void *conn, const struct mssl_challenge_rec *r)
{
	return 0;
}

static int s_challenge_take(void *conn, const uint8_t nonce_hash[32],
			    mssl_challenge_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_session_insert(void *conn, const struct mssl_session_rec *r)
{
	return 0;
}

static int s_session_get(void *conn, const uint8_t token_hash[32],
			 mssl_session_cb cb, void *ud)
{
	return MSSL_ENOENT;
}

static int s_session_touch(void *conn, const uint8_t token_hash[32],
			   int64_t last_seen)
{
	return MSSL_ENOENT;
}

static int s_session_delete(void *conn, const uint8_t token_hash[32])
{
	return MSSL_ENOENT;
}

static int s_session_delete_card(void *conn, int64_t card_id)
{
	return 0;
}

static int s_failure_add(void *conn, const char *key, int64_t time)
{
	return 0;
}

static int s_failure_count(void *conn, const char *key, int64_t since,
			   int64_t *count)
{
	*count = 0;
	return 0;
}

static int s_failure_clear(void *conn, const char *key)
{
	return 0;
}

static int s_login_purge(void *conn, int64_t now, int64_t failures_before)
{
	return 0;
}

static int s_unlock_insert(void *conn, const struct mssl_unlock_rec *r,
			   int64_t *id)
{
	if (id)
		*id = 1;
	return 0;
}

static int s_unlock_find(void *conn, int64_t card_id,
			 const uint8_t code_hash[32], mssl_unlock_cb cb,
			 void *ud)
{
	return MSSL_ENOENT;
}

static int s_unlock_set_used(void *conn, int64_t id, int used)
{
	return MSSL_ENOENT;
}

static int s_remind_due(void *conn, int64_t after, int64_t until, int days,
			int64_t limit, mssl_cert_cb cb, void *ud)
{
	return 0;
}

static int s_remind_insert(void *conn, const struct mssl_remind_rec *r)
{
	return 0;
}

static int s_remind_each(void *conn, const char *serial, mssl_remind_cb cb,
			 void *ud)
{
	return 0;
}

static const struct mssl_store_ops store_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_store_ops),
	.open = s_open,
	.close = s_close,
	.begin = s_begin,
	.commit = s_done,
	.rollback = s_done,
	.schema_version = s_schema_version,
	.account_insert = s_account_put,
	.account_update = s_account_put,
	.account_get = s_account_get,
	.account_each = s_account_each,
	.domain_insert = s_domain_insert,
	.domain_delete = s_domain_delete,
	.domain_find = s_domain_find,
	.domain_each = s_domain_each,
	.contact_insert = s_contact_insert,
	.contact_each = s_contact_each,
	.ledger_insert = s_ledger_insert,
	.ledger_balance = s_ledger_balance,
	.ledger_each = s_ledger_each,
	.audit_insert = s_audit_insert,
	.audit_head = s_audit_head,
	.audit_each = s_audit_each,
	.notice_insert = s_notice_insert,
	.notice_each = s_notice_each,
	.blocked_key_insert = s_blocked_key_insert,
	.blocked_key_get = s_blocked_key_get,
	.cert_insert = s_cert_insert,
	.cert_get = s_cert_get,
	.cert_finish = s_cert_finish,
	.cert_revoke = s_cert_revoke,
	.cert_each = s_cert_each,
	.cert_by_key = s_cert_by_key,
	.term_get = s_term_get,
	.term_put = s_term_put,
	.counter_next = s_counter_next,
	.mail_insert = s_mail_insert,
	.mail_due = s_mail_due,
	.mail_sent = s_mail_sent,
	.mail_retry = s_mail_retry,
	.person_insert = s_person_insert,
	.person_get = s_person_get,
	.person_each = s_person_each,
	.person_set_status = s_set_text,
	.card_insert = s_card_insert,
	.card_get = s_card_get,
	.card_by_cert = s_card_by_cert,
	.card_by_serial = s_card_list,
	.card_each = s_card_list,
	.card_set_state = s_set_text,
	.challenge_insert = s_challenge_insert,
	.challenge_take = s_challenge_take,
	.session_insert = s_session_insert,
	.session_get = s_session_get,
	.session_touch = s_session_touch,
	.session_delete = s_session_delete,
	.session_delete_card = s_session_delete_card,
	.login_failure_add = s_failure_add,
	.login_failure_count = s_failure_count,
	.login_failure_clear = s_failure_clear,
	.login_purge = s_login_purge,
	.unlock_insert = s_unlock_insert,
	.unlock_find = s_unlock_find,
	.unlock_set_used = s_unlock_set_used,
	.ledger_reserial = s_ledger_reserial,
	.remind_due = s_remind_due,
	.remind_insert = s_remind_insert,
	.remind_each = s_remind_each,
	.cert_match = s_cert_match,
};

static const char *const store_keys[] = { "marker", NULL };

static const struct mssl_plugin store_plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_STORE,
	.name = "mock-store",
	.version = "1",
	.description = "loader test: a store that holds nothing",
	.init = store_init,
	.fini = store_fini,
	.ops = &store_ops,
	.config_keys = store_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &store_plugin;
}
