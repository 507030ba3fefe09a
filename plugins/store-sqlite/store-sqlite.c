/*
 * store-sqlite: the default mssl store, one SQLite file.
 *
 * One sqlite3 connection per mssl store connection; the host gives each
 * worker thread its own connection, so connections are opened with
 * SQLITE_OPEN_NOMUTEX.  Concurrent writers are serialised by WAL mode and
 * BEGIN IMMEDIATE; in one process first by a write lock of our own per
 * file (a condition variable: a waiting thread wakes when the lock is
 * free, where SQLite's busy handler sleeps and polls), across processes
 * by SQLite's busy timeout.
 *
 * Group commit (synchronous = full on a WAL file): a commit writes its
 * frames to the WAL without an fsync (SQLite's NORMAL), releases the
 * write lock, and only then waits until the WAL is on disk.  One waiter
 * at a time (the leader) fsyncs the WAL for every commit written so far;
 * the others wait for it.  So concurrent commits share one fsync, and the
 * next transaction runs while the previous one's fsync is under way.  A
 * commit still returns only once it is durable, and WAL recovery keeps a
 * prefix of the commits, so nothing later survives without everything
 * before it.  A read transaction first waits until every commit it may
 * see is durable (in this process; see README on other processes).
 *
 * MSSL_TXN_LAZY (ABI 1.3): that commit does not wait for the disk.  It is
 * durable with the next full commit's fsync or the next checkpoint.
 *
 * Includes only <mssl/plugin.h> and SQLite; never links libmssl.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <mssl/plugin.h>

#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define MAX_BUSY_TIMEOUT_MS 600000
#define WAL_RETRY_MS 10

/* Name of the CHECK whose failure is MSSL_EBALANCE. */
#define BALANCE_CHECK "ledger_balance_nonnegative"

/* ---------------------------------------------------------------------
 * Schema and its forward migrations
 * ------------------------------------------------------------------ */

/*
 * 'meta' is created outside the migrations so that the stored version can
 * always be read, whatever the version.
 */
static const char meta_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);";

/*
 * Step 1: every table of the system, including those whose operations
 * arrive in later versions of the ABI.  A later change of the schema is a
 * new step appended below; a step is never edited once released.
 */
static const char schema_v1[] =
	"CREATE TABLE accounts ("
	" id TEXT PRIMARY KEY,"
	" org_name_en TEXT NOT NULL,"
	" org_name_zh TEXT,"
	" products INTEGER NOT NULL,"
	" ev_country TEXT,"
	" ev_state TEXT,"
	" ev_locality TEXT,"
	" ev_category TEXT,"
	" status INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"

	"CREATE TABLE domains ("
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" name TEXT NOT NULL,"
	" added INTEGER NOT NULL,"
	" UNIQUE (account_id, name));"
	"CREATE INDEX domains_name ON domains(name);"

	"CREATE TABLE contacts ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" kind TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" email TEXT,"
	" phone TEXT);"
	"CREATE INDEX contacts_account ON contacts(account_id, id);"

	"CREATE TABLE persons ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" name TEXT NOT NULL,"
	" email TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('manager', 'auditor')),"
	" status TEXT NOT NULL DEFAULT 'active',"
	" created INTEGER NOT NULL);"
	"CREATE INDEX persons_account ON persons(account_id);"

	"CREATE TABLE cards ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" person_id INTEGER NOT NULL REFERENCES persons(id),"
	" token_serial TEXT NOT NULL,"
	" cert_der BLOB,"
	" cert_sha256 BLOB UNIQUE,"
	" state TEXT NOT NULL CHECK (state IN ('issued_pin', 'active',"
	"  'locked', 'revoked', 'suspended')),"
	" created INTEGER NOT NULL);"
	"CREATE INDEX cards_person ON cards(person_id);"
	"CREATE INDEX cards_token ON cards(token_serial);"

	"CREATE TABLE certificates ("
	" serial TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" cn TEXT NOT NULL,"
	" product INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'issued',"
	"  'revoked', 'failed')),"
	" years INTEGER NOT NULL DEFAULT 0,"
	" not_before INTEGER,"
	" not_after INTEGER,"
	" der BLOB,"
	" renewal_of TEXT REFERENCES certificates(serial),"
	" requested_by TEXT,"
	" server_vendor TEXT,"
	" passphrase_hash TEXT,"
	" tech_name TEXT,"
	" tech_email TEXT,"
	" tech_phone TEXT,"
	" note TEXT,"
	" seal_name TEXT,"
	" revoked_at INTEGER,"
	" revoke_reason INTEGER,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX certificates_account ON certificates(account_id, cn);"
	"CREATE INDEX certificates_expiry"
	" ON certificates(account_id, not_after);"
	"CREATE INDEX certificates_state ON certificates(state);"

	/* The balance CHECK is named: its failure maps to MSSL_EBALANCE. */
	"CREATE TABLE ledger ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" time INTEGER NOT NULL,"
	" kind INTEGER NOT NULL,"
	" delta INTEGER NOT NULL,"
	" balance_after INTEGER NOT NULL"
	"  CONSTRAINT " BALANCE_CHECK " CHECK (balance_after >= 0),"
	" actor TEXT NOT NULL,"
	" memo TEXT,"
	" cert_serial TEXT);"
	"CREATE INDEX ledger_account ON ledger(account_id, id);"

	/*
	 * No foreign key to accounts: refused operations are audited too,
	 * and they may name accounts that do not exist.
	 */
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" actor_role TEXT NOT NULL,"
	" actor_name TEXT,"
	" account_id TEXT,"
	" remote TEXT,"
	" action TEXT NOT NULL,"
	" object TEXT,"
	" outcome TEXT NOT NULL,"
	" detail TEXT,"
	" prev_hash BLOB NOT NULL,"
	" hash BLOB NOT NULL);"

	"CREATE TABLE sessions ("
	" token_hash BLOB PRIMARY KEY,"
	" person_id INTEGER NOT NULL REFERENCES persons(id),"
	" card_id INTEGER NOT NULL REFERENCES cards(id),"
	" created INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" pin_change_only INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_expires ON sessions(expires);"

	/* No foreign key: a challenge may name an account that is unknown. */
	"CREATE TABLE login_challenges ("
	" nonce_hash BLOB PRIMARY KEY,"
	" account_id TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX login_challenges_expires ON login_challenges(expires);"

	"CREATE TABLE notices ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" account_id TEXT REFERENCES accounts(id),"
	" title TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" author TEXT NOT NULL);"
	"CREATE INDEX notices_time ON notices(time);"

	"CREATE TABLE unlock_requests ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" card_id INTEGER NOT NULL REFERENCES cards(id),"
	" code_hash BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0,"
	" approved_by TEXT,"
	" verified_with TEXT);"
	"CREATE INDEX unlock_requests_card ON unlock_requests(card_id);"

	/*
	 * The audit log is append-only.  The hash chain detects tampering;
	 * these triggers stop the program itself from rewriting history by
	 * mistake.
	 */
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

/*
 * Step 2: the list of keys nobody may certify.  The certificates table of
 * step 1 already holds every field of struct mssl_cert_rec.
 */
static const char schema_v2[] =
	"CREATE TABLE blocked_keys ("
	" spki_sha256 BLOB PRIMARY KEY CHECK (length(spki_sha256) = 32),"
	" added INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" reason TEXT);";

/*
 * Step 3: issuance.  Certificates gain the client's idempotency key,
 * unique per account (NULL never conflicts), and the indexes cert_each
 * needs:
 *  - certificates_cn: cn compared case-insensitively, alone or with the
 *    account (then in cert_each's order).  It replaces step 1's
 *    (account_id, cn), whose BINARY collation a NOCASE comparison cannot
 *    use;
 *  - certificates_account_created, certificates_account_state: an
 *    account's certificates (of one state) already in the order cert_each
 *    returns them, so a page with a limit stops early;
 *  - certificates_not_after: expiry across accounts (reminders, CRLs);
 *    an account's expiry keeps step 1's certificates_expiry;
 *  - certificates_renewal: the child side of the renewal_of foreign key,
 *    checked when cert_finish changes a serial.
 * Then the paid terms of CNs, named counters and the mail outbox.  The
 * outbox says "not sent" with a NULL sent_at (the record shows 0).
 */
static const char schema_v3[] =
	"ALTER TABLE certificates ADD COLUMN idempotency_key TEXT;"
	"CREATE UNIQUE INDEX certificates_idempotency"
	" ON certificates(account_id, idempotency_key)"
	" WHERE idempotency_key IS NOT NULL;"
	"DROP INDEX certificates_account;"
	"CREATE INDEX certificates_cn"
	" ON certificates(cn COLLATE NOCASE, account_id, created, serial);"
	"CREATE INDEX certificates_account_created"
	" ON certificates(account_id, created, serial);"
	"CREATE INDEX certificates_account_state"
	" ON certificates(account_id, state, created, serial);"
	"CREATE INDEX certificates_not_after ON certificates(not_after);"
	"CREATE INDEX certificates_renewal ON certificates(renewal_of);"

	"CREATE TABLE cn_terms ("
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" cn TEXT NOT NULL COLLATE NOCASE,"
	" started INTEGER NOT NULL,"
	" paid_until INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, cn));"

	"CREATE TABLE counters ("
	" name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"

	"CREATE TABLE mail_outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" created INTEGER NOT NULL,"
	" to_addr TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" related TEXT,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL DEFAULT 0,"
	" sent_at INTEGER,"
	" last_error TEXT);"
	"CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, next_attempt);";

/*
 * Step 4: persons, cards and login, and ledger_cert (below).  Their tables are step 1's; what the
 * operations need besides:
 *  - login_failures: one row per failed login, counted per key
 *    ("account:ID", "card:HEX") over a recent window, hence the index on
 *    (key, time); login_purge drops old rows by time alone;
 *  - sessions_card: session_delete_card ends every session of a card
 *    when it is suspended, revoked or gets a new PIN;
 *  - a person's status is active or suspended.  Step 1 gave cards and
 *    roles a CHECK but not persons.status, and SQLite cannot add a CHECK
 *    to an existing table without rebuilding it (and every foreign key
 *    to it): triggers refuse any other value instead, as a CHECK would.
 */
static const char schema_v4[] =
	"CREATE TABLE login_failures ("
	" key TEXT NOT NULL,"
	" time INTEGER NOT NULL);"
	"CREATE INDEX login_failures_key ON login_failures(key, time);"
	"CREATE INDEX login_failures_time ON login_failures(time);"

	"CREATE INDEX sessions_card ON sessions(card_id);"

	"CREATE TRIGGER persons_status_insert BEFORE INSERT ON persons"
	" WHEN NEW.status NOT IN ('active', 'suspended')"
	" BEGIN SELECT RAISE(ABORT,"
	"  'persons.status must be active or suspended'); END;"
	"CREATE TRIGGER persons_status_update BEFORE UPDATE OF status"
	" ON persons WHEN NEW.status NOT IN ('active', 'suspended')"
	" BEGIN SELECT RAISE(ABORT,"
	"  'persons.status must be active or suspended'); END;"

	/* Ledger entries by the certificate they name: ledger_reserial (a
	 * signer that chose its own serial) touches one or two rows. */
	"CREATE INDEX ledger_cert ON ledger(cert_serial)"
	" WHERE cert_serial IS NOT NULL;";

/*
 * Step 5 (plugin ABI 1.4): expiry reminders.  One row per (certificate,
 * threshold in days): the primary key is what makes a reminder queued
 * once, whatever the number of processes or restarts.  The certificate
 * must exist; mail_id names the outbox row (a plain column).  No other
 * index: remind_due walks certificates by not_after and looks reminders
 * up by serial, a prefix of the primary key.  Only issued certificates
 * get reminders, and cert_finish changes only pending serials, so the
 * foreign key never stands in its way.
 */
static const char schema_v5[] =
	"CREATE TABLE cert_reminders ("
	" serial TEXT NOT NULL REFERENCES certificates(serial),"
	" days INTEGER NOT NULL CHECK (days > 0),"
	" queued_at INTEGER NOT NULL,"
	" mail_id INTEGER,"
	" PRIMARY KEY (serial, days)) WITHOUT ROWID;";

/*
 * Step 6: agreed domains looked up by name come back in account order
 * (domain_find) straight from the index, with no sort per lookup; a
 * check makes one such lookup per distinct suffix of its names.
 */
static const char schema_v6[] =
	"DROP INDEX domains_name;"
	"CREATE INDEX domains_name_account ON domains(name, account_id);";

/* Migration step i + 1 is migrations[i]. */
static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---------------------------------------------------------------------
 * Prepared statements, cached per connection
 * ------------------------------------------------------------------ */

enum stmt_id {
	S_BEGIN_READ,
	S_BEGIN_WRITE,
	S_COMMIT,
	S_ROLLBACK,
	S_META_GET,
	S_META_PUT,
	S_META_UPDATE,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_UPDATE,
	S_ACCOUNT_GET,
	S_ACCOUNT_EACH,
	S_DOMAIN_INSERT,
	S_DOMAIN_DELETE,
	S_DOMAIN_FIND,
	S_DOMAIN_EACH,
	S_CONTACT_INSERT,
	S_CONTACT_EACH,
	S_LEDGER_INSERT,
	S_LEDGER_BALANCE,
	S_LEDGER_EACH_ASC,
	S_LEDGER_EACH_DESC,
	S_AUDIT_INSERT,
	S_AUDIT_EACH,
	S_NOTICE_INSERT,
	S_NOTICE_EACH,
	S_BLOCKED_KEY_INSERT,
	S_BLOCKED_KEY_GET,
	S_CERT_INSERT,
	S_CERT_GET,
	S_CERT_FINISH,
	S_CERT_REVOKE,
	S_CERT_BY_KEY,
	S_TERM_GET,
	S_TERM_PUT,
	S_COUNTER_NEXT,
	S_MAIL_INSERT,
	S_MAIL_DUE,
	S_MAIL_SENT,
	S_MAIL_RETRY,
	S_PERSON_INSERT,
	S_PERSON_GET,
	S_PERSON_EACH,
	S_PERSON_SET_STATUS,
	S_CARD_INSERT,
	S_CARD_GET,
	S_CARD_BY_CERT,
	S_CARD_BY_SERIAL,
	S_CARD_EACH,
	S_CARD_SET_STATE,
	S_CHALLENGE_INSERT,
	S_CHALLENGE_USE,
	S_CHALLENGE_GET,
	S_SESSION_INSERT,
	S_SESSION_GET,
	S_SESSION_TOUCH,
	S_SESSION_DELETE,
	S_SESSION_DELETE_CARD,
	S_FAILURE_ADD,
	S_FAILURE_COUNT,
	S_FAILURE_CLEAR,
	S_PURGE_CHALLENGES,
	S_PURGE_SESSIONS,
	S_PURGE_FAILURES,
	S_UNLOCK_INSERT,
	S_UNLOCK_FIND,
	S_UNLOCK_SET_USED,
	S_LEDGER_RESERIAL,
	S_REMIND_DUE,
	S_REMIND_INSERT,
	S_REMIND_EACH,
	S_COUNT
};

#define ACCOUNT_COLS                                                         \
	"id, org_name_en, org_name_zh, products, ev_country, ev_state,"      \
	" ev_locality, ev_category, status, created"
#define LEDGER_COLS                                                          \
	"id, account_id, time, kind, delta, balance_after, actor, memo,"     \
	" cert_serial"
#define AUDIT_COLS                                                           \
	"seq, time, actor_role, actor_name, account_id, remote, action,"     \
	" object, outcome, detail, prev_hash, hash"
#define BLOCKED_KEY_COLS "spki_sha256, added, source, reason"
#define CERT_COLS                                                            \
	"serial, account_id, cn, product, state, years, not_before,"         \
	" not_after, der, renewal_of, requested_by, server_vendor,"          \
	" passphrase_hash, tech_name, tech_email, tech_phone, note,"         \
	" seal_name, revoked_at, revoke_reason, created, idempotency_key"
#define TERM_COLS "account_id, cn, started, paid_until"
#define MAIL_COLS                                                            \
	"id, created, to_addr, subject, body, related, attempts,"            \
	" next_attempt, sent_at, last_error"
#define PERSON_COLS "id, account_id, name, email, role, status, created"
#define CARD_COLS                                                            \
	"id, person_id, token_serial, cert_der, cert_sha256, state, created"
#define CHALLENGE_COLS "nonce_hash, account_id, created, expires"
#define SESSION_COLS                                                         \
	"token_hash, person_id, card_id, created, last_seen, expires,"       \
	" pin_change_only"
#define UNLOCK_COLS                                                          \
	"id, card_id, code_hash, created, expires, used, approved_by,"       \
	" verified_with"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN_READ] = "BEGIN",
	[S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_PUT] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_META_UPDATE] = "UPDATE meta SET value = ?2 WHERE key = ?1",
	[S_ACCOUNT_INSERT] = "INSERT INTO accounts(" ACCOUNT_COLS ")"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			     " ?10)",
	[S_ACCOUNT_UPDATE] = "UPDATE accounts SET org_name_en = ?2,"
			     " org_name_zh = ?3, products = ?4,"
			     " ev_country = ?5, ev_state = ?6,"
			     " ev_locality = ?7, ev_category = ?8,"
			     " status = ?9 WHERE id = ?1",
	[S_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1",
	[S_ACCOUNT_EACH] = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY id",
	[S_DOMAIN_INSERT] = "INSERT INTO domains(account_id, name, added)"
			    " VALUES (?1, ?2, ?3)",
	[S_DOMAIN_DELETE] = "DELETE FROM domains"
			    " WHERE account_id = ?1 AND name = ?2",
	[S_DOMAIN_FIND] = "SELECT account_id, name, added FROM domains"
			  " WHERE name = ?1 ORDER BY account_id",
	[S_DOMAIN_EACH] = "SELECT account_id, name, added FROM domains"
			  " WHERE account_id = ?1 ORDER BY name",
	[S_CONTACT_INSERT] = "INSERT INTO contacts(account_id, kind, name,"
			     " email, phone) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_CONTACT_EACH] = "SELECT id, account_id, kind, name, email, phone"
			   " FROM contacts WHERE account_id = ?1 ORDER BY id",
	[S_LEDGER_INSERT] = "INSERT INTO ledger(account_id, time, kind, delta,"
			    " balance_after, actor, memo, cert_serial)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_LEDGER_BALANCE] = "SELECT balance_after FROM ledger"
			     " WHERE account_id = ?1 ORDER BY id DESC LIMIT 1",
	[S_LEDGER_EACH_ASC] = "SELECT " LEDGER_COLS " FROM ledger"
			      " WHERE account_id = ?1 ORDER BY id"
			      " LIMIT ?3 OFFSET ?2",
	[S_LEDGER_EACH_DESC] = "SELECT " LEDGER_COLS " FROM ledger"
			       " WHERE account_id = ?1 ORDER BY id DESC"
			       " LIMIT ?3 OFFSET ?2",
	[S_AUDIT_INSERT] = "INSERT INTO audit(" AUDIT_COLS ") VALUES (?1, ?2,"
			   " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_AUDIT_EACH] = "SELECT " AUDIT_COLS " FROM audit WHERE seq >= ?1"
			 " ORDER BY seq",
	[S_NOTICE_INSERT] = "INSERT INTO notices(time, expires, account_id,"
			    " title, body, author)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_NOTICE_EACH] = "SELECT id, time, expires, account_id, title, body,"
			  " author FROM notices"
			  " WHERE (?1 IS NULL OR account_id IS NULL"
			  "  OR account_id = ?1)"
			  " AND (expires = 0 OR expires > ?2)"
			  " ORDER BY time DESC, id DESC",
	[S_BLOCKED_KEY_INSERT] = "INSERT INTO blocked_keys(" BLOCKED_KEY_COLS
				 ") VALUES (?1, ?2, ?3, ?4)",
	[S_BLOCKED_KEY_GET] = "SELECT " BLOCKED_KEY_COLS " FROM blocked_keys"
			      " WHERE spki_sha256 = ?1",
	[S_CERT_INSERT] = "INSERT INTO certificates(" CERT_COLS ") VALUES (?1,"
			  " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			  " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
			  " ?22)",
	[S_CERT_GET] = "SELECT " CERT_COLS " FROM certificates"
		       " WHERE serial = ?1",
	[S_CERT_FINISH] = "UPDATE certificates SET serial = ?2, state = ?3,"
			  " der = ?4, not_before = ?5, not_after = ?6"
			  " WHERE serial = ?1 AND state = 'pending'",
	[S_CERT_REVOKE] = "UPDATE certificates SET state = 'revoked',"
			  " revoked_at = ?2, revoke_reason = ?3"
			  " WHERE serial = ?1 AND state = 'issued'",
	[S_CERT_BY_KEY] = "SELECT " CERT_COLS " FROM certificates"
			  " WHERE account_id = ?1 AND idempotency_key = ?2",
	[S_TERM_GET] = "SELECT " TERM_COLS " FROM cn_terms"
		       " WHERE account_id = ?1 AND cn = ?2",
	[S_TERM_PUT] = "INSERT INTO cn_terms(" TERM_COLS ")"
		       " VALUES (?1, ?2, ?3, ?4)"
		       " ON CONFLICT(account_id, cn) DO UPDATE"
		       " SET cn = excluded.cn, started = excluded.started,"
		       " paid_until = excluded.paid_until",
	/* One statement: atomic however many connections count. */
	[S_COUNTER_NEXT] = "INSERT INTO counters(name, value) VALUES (?1, 1)"
			   " ON CONFLICT(name) DO UPDATE"
			   " SET value = value + 1 RETURNING value",
	[S_MAIL_INSERT] = "INSERT INTO mail_outbox(created, to_addr, subject,"
			  " body, related, attempts, next_attempt, sent_at,"
			  " last_error)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_MAIL_DUE] = "SELECT " MAIL_COLS " FROM mail_outbox"
		       " WHERE sent_at IS NULL AND next_attempt <= ?1"
		       " ORDER BY id LIMIT ?2",
	[S_MAIL_SENT] = "UPDATE mail_outbox SET sent_at = ?2 WHERE id = ?1",
	[S_MAIL_RETRY] = "UPDATE mail_outbox SET attempts = attempts + 1,"
			 " next_attempt = ?2, last_error = ?3 WHERE id = ?1",
	[S_PERSON_INSERT] = "INSERT INTO persons(account_id, name, email,"
			    " role, status, created)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_PERSON_GET] = "SELECT " PERSON_COLS " FROM persons WHERE id = ?1",
	[S_PERSON_EACH] = "SELECT " PERSON_COLS " FROM persons"
			  " WHERE account_id = ?1 ORDER BY id",
	[S_PERSON_SET_STATUS] = "UPDATE persons SET status = ?2 WHERE id = ?1",
	[S_CARD_INSERT] = "INSERT INTO cards(person_id, token_serial,"
			  " cert_der, cert_sha256, state, created)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_CARD_GET] = "SELECT " CARD_COLS " FROM cards WHERE id = ?1",
	[S_CARD_BY_CERT] = "SELECT " CARD_COLS " FROM cards"
			   " WHERE cert_sha256 = ?1",
	[S_CARD_BY_SERIAL] = "SELECT " CARD_COLS " FROM cards"
			     " WHERE token_serial = ?1 ORDER BY id DESC",
	[S_CARD_EACH] = "SELECT c.id, c.person_id, c.token_serial,"
			" c.cert_der, c.cert_sha256, c.state, c.created"
			" FROM cards c JOIN persons p ON p.id = c.person_id"
			" WHERE p.account_id = ?1 ORDER BY c.id",
	[S_CARD_SET_STATE] = "UPDATE cards SET state = ?2 WHERE id = ?1",
	[S_CHALLENGE_INSERT] = "INSERT INTO login_challenges(" CHALLENGE_COLS
			       ") VALUES (?1, ?2, ?3, ?4)",
	/* The only way to take a challenge: at most one caller changes it. */
	[S_CHALLENGE_USE] = "UPDATE login_challenges SET used = 1"
			    " WHERE nonce_hash = ?1 AND used = 0",
	[S_CHALLENGE_GET] = "SELECT " CHALLENGE_COLS " FROM login_challenges"
			    " WHERE nonce_hash = ?1",
	[S_SESSION_INSERT] = "INSERT INTO sessions(" SESSION_COLS ")"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions"
			  " WHERE token_hash = ?1",
	[S_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2"
			    " WHERE token_hash = ?1",
	[S_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
	[S_SESSION_DELETE_CARD] = "DELETE FROM sessions WHERE card_id = ?1",
	[S_FAILURE_ADD] = "INSERT INTO login_failures(key, time)"
			  " VALUES (?1, ?2)",
	[S_FAILURE_COUNT] = "SELECT count(*) FROM login_failures"
			    " WHERE key = ?1 AND time >= ?2",
	[S_FAILURE_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
	[S_PURGE_CHALLENGES] = "DELETE FROM login_challenges"
			       " WHERE expires < ?1",
	[S_PURGE_SESSIONS] = "DELETE FROM sessions WHERE expires < ?1",
	[S_PURGE_FAILURES] = "DELETE FROM login_failures WHERE time < ?1",
	[S_UNLOCK_INSERT] = "INSERT INTO unlock_requests(card_id, code_hash,"
			    " created, expires, used, approved_by,"
			    " verified_with)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_UNLOCK_FIND] = "SELECT " UNLOCK_COLS " FROM unlock_requests"
			  " WHERE card_id = ?1 AND code_hash = ?2"
			  " ORDER BY id DESC LIMIT 1",
	[S_UNLOCK_SET_USED] = "UPDATE unlock_requests SET used = ?2"
			      " WHERE id = ?1",
	[S_LEDGER_RESERIAL] = "UPDATE ledger SET cert_serial = ?2"
			      " WHERE cert_serial = ?1",
	/*
	 * Through certificates_not_after for the window, the primary key of
	 * cert_reminders, certificates_renewal and certificates_cn for the
	 * three exclusions.  The unary + keeps the planner off
	 * certificates_state and certificates_expiry, which it prefers
	 * without statistics: with them the window (75,000 certificates in
	 * a store of 1,000,000) took twice as long, walking every issued
	 * certificate, and the same-CN check walked every later certificate
	 * of the account.
	 */
	[S_REMIND_DUE] = "SELECT " CERT_COLS " FROM certificates c"
			 " WHERE +c.state = 'issued' AND c.not_after > ?1"
			 " AND c.not_after <= ?2"
			 " AND NOT EXISTS (SELECT 1 FROM cert_reminders m"
			 "  WHERE m.serial = c.serial AND m.days <= ?3)"
			 " AND NOT EXISTS (SELECT 1 FROM certificates r"
			 "  WHERE r.renewal_of = c.serial"
			 "  AND +r.state = 'issued')"
			 " AND NOT EXISTS (SELECT 1 FROM certificates n"
			 "  WHERE n.cn = c.cn COLLATE NOCASE"
			 "  AND n.account_id = c.account_id"
			 "  AND +n.state = 'issued'"
			 "  AND +n.not_after > c.not_after)"
			 " ORDER BY c.not_after, c.serial LIMIT ?4",
	[S_REMIND_INSERT] = "INSERT INTO cert_reminders(serial, days,"
			    " queued_at, mail_id) VALUES (?1, ?2, ?3, ?4)",
	[S_REMIND_EACH] = "SELECT serial, days, queued_at, mail_id"
			  " FROM cert_reminders WHERE serial = ?1"
			  " ORDER BY days DESC",
};

/* ---------------------------------------------------------------------
 * State and connections
 * ------------------------------------------------------------------ */

/*
 * The store file as this process sees it, shared by every store instance
 * (every mssl_ctx) on that file: the write lock and the group commit.
 * Tickets number the write transactions' commits in the order they take
 * the lock.
 */
struct file_group {
	struct file_group *next;
	dev_t dev;
	ino_t ino;
	int refs;
	pthread_mutex_t m;
	pthread_cond_t lock_cv; /* the write lock was released */
	pthread_cond_t sync_cv; /* a commit or an fsync is done */
	bool locked; /* a write transaction is open */
	uint64_t issued; /* tickets handed out (before COMMIT) */
	uint64_t committed; /* commits done up to this ticket */
	uint64_t synced; /* on disk up to this ticket */
	uint64_t failed; /* an fsync failed: not durable up to this */
	bool syncing; /* a leader is in fsync */
};

static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_group *groups;

struct store {
	const struct mssl_host *host;
	void *hctx;
	char *path;
	const char *synchronous_sql; /* "PRAGMA synchronous=..." */
	bool full; /* synchronous = full: group commit on a WAL file */
	bool lazy_pragma; /* synchronous above normal: LAZY lowers it */
	int busy_timeout_ms;
	struct file_group *g; /* NULL for ":memory:" */
};

/*
 * cert_each builds its statement from the filter members that are set, so
 * that SQLite can pick an index for each combination: one statement per
 * combination (a bit each, CERT_F_*), prepared on first use.
 */
#define CERT_F_ACCOUNT 0x01u
#define CERT_F_STATE 0x02u
#define CERT_F_CN 0x04u
#define CERT_F_BEFORE 0x08u
#define CERT_F_AFTER 0x10u
#define CERT_F_NEWEST 0x20u
#define CERT_F_CONTAINS 0x40u /* cert_match: CN substring */
#define CERT_F_DOMAIN 0x80u /* cert_match: CN in a domain */
#define CERT_F_COUNT 0x100u

struct conn {
	struct store *st;
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	sqlite3_stmt *cert_each[CERT_F_COUNT];
	bool group; /* group commit: WAL, full, synchronous NORMAL here */
	bool writing; /* in a write transaction, holding the write lock */
	bool lazy; /* that transaction's commit need not wait for the disk */
	bool legacy_head; /* the audit head read was in the old two rows */
};

/* Another connection holds the lock past the busy timeout. */
static int is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/*
 * Map a SQLite result onto an MSSL_E... code and report its detail.
 * 'what' names the operation for the operator's log.
 */
static int fail(struct conn *c, int rc, const char *what)
{
	const struct mssl_host *h = c->st->host;
	const char *id = "store.sqlite";
	int code = MSSL_ESTORE;

	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		code = MSSL_EEXIST;
		id = "store.exists";
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* The row named by a reference does not exist. */
		code = MSSL_ENOENT;
		id = "store.no_parent";
		break;
	default:
		if (is_busy(rc)) {
			code = MSSL_EBUSY;
			id = "store.busy";
		} else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			id = "store.constraint";
		}
		break;
	}
	h->error(c->st->hctx, code, id, "sqlite: %s: %s", what,
		 sqlite3_errmsg(c->db));
	return code;
}

/*
 * A lookup that finds no row returns MSSL_ENOENT and reports nothing to
 * the host: that is an answer (a CN's first term, a key not blocked),
 * each caller says in its own words what is missing, and a message left
 * here would be wasted work and stale text for the next real failure.
 */

/* The cached statement 'id', prepared on first use. */
static int stmt_get(struct conn *c, enum stmt_id id, sqlite3_stmt **out)
{
	int rc;

	/*
	 * A callback calling the operation that is iterating would reset
	 * the iteration under it: refuse rather than return wrong rows.
	 */
	if (c->stmt[id] && sqlite3_stmt_busy(c->stmt[id])) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.reentrant",
				   "sqlite: statement already in use: %s",
				   stmt_sql[id]);
		return MSSL_ESTORE;
	}
	if (!c->stmt[id]) {
		rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT,
					&c->stmt[id], NULL);
		if (rc != SQLITE_OK)
			return fail(c, rc, "prepare");
	}
	*out = c->stmt[id];
	return 0;
}

/*
 * Make a statement ready for its next use.  Bindings are cleared because
 * they point into the caller's strings (SQLITE_STATIC).
 */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Bind a string that may be NULL. */
static int bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static const char *col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Run a statement that returns no rows; 'changes' may be NULL. */
static int stmt_exec(struct conn *c, sqlite3_stmt *s, const char *what,
		     int *changes)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		rc = fail(c, rc, what);
		stmt_done(s);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes(c->db);
	stmt_done(s);
	return 0;
}

/* Run a statement taking no parameters and returning no rows. */
static int simple(struct conn *c, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, id, &s);

	if (rc)
		return rc;
	return stmt_exec(c, s, what, NULL);
}

/*
 * Iterate: one callback per row.  'row' builds the record from the
 * current row and calls the user's callback; its non-zero result stops
 * the iteration and is returned.
 */
typedef int (*row_fn)(sqlite3_stmt *s, void *cb, void *ud);

static int stmt_each(struct conn *c, sqlite3_stmt *s, const char *what,
		     row_fn row, void *cb, void *ud)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rc = row(s, cb, ud);
		if (rc)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(c, rc, what);
out:
	stmt_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Meta keys
 * ------------------------------------------------------------------ */

/*
 * Read meta 'key' as an integer (0 when absent) and, when 'text' is not
 * NULL, copy its text (empty when absent) into text[n].
 */
static int meta_get(struct conn *c, const char *key, int64_t *num, char *text,
		    size_t n)
{
	sqlite3_stmt *s = NULL;
	const char *v;
	int rc = stmt_get(c, S_META_GET, &s);

	if (rc)
		return rc;
	*num = 0;
	if (text && n)
		text[0] = '\0';
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*num = sqlite3_column_int64(s, 0);
		v = col_str(s, 0);
		if (text && n && v)
			snprintf(text, n, "%s", v);
		rc = SQLITE_DONE;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(c, rc, "meta read");
	stmt_done(s);
	return rc;
}

static int meta_put(struct conn *c, const char *key, const char *text)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_META_PUT, &s);

	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	return stmt_exec(c, s, "meta write", NULL);
}

static int meta_put_int(struct conn *c, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return meta_put(c, key, buf);
}

/* ---------------------------------------------------------------------
 * Opening: pragmas and migration
 * ------------------------------------------------------------------ */

static int exec_sql(struct conn *c, const char *sql, const char *what)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(c, rc, what);
}

/* Run "PRAGMA journal_mode=WAL" once; the mode it reports goes in mode. */
static int try_wal(struct conn *c, char *mode, size_t n)
{
	sqlite3_stmt *s = NULL;
	const char *m;
	int rc;

	rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		m = col_str(s, 0);
		snprintf(mode, n, "%s", m ? m : "(none)");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * WAL lets readers proceed while one writer commits.  The mode is kept in
 * the file, but switching a new file to it needs an exclusive lock and
 * SQLite does not wait for that one on its busy handler: when several
 * processes create the store at once, retry for the busy timeout.
 */
static int set_wal(struct conn *c, bool *wal)
{
	char mode[16];
	int waited = 0;
	int rc;

	while ((rc = try_wal(c, mode, sizeof(mode))) != SQLITE_OK) {
		if (!is_busy(rc) || waited >= c->st->busy_timeout_ms)
			return fail(c, rc, "journal_mode");
		sqlite3_sleep(WAL_RETRY_MS);
		waited += WAL_RETRY_MS;
	}
	*wal = strcasecmp(mode, "wal") == 0;
	if (!*wal)
		c->st->host->log(c->st->hctx, MSSL_LOG_WARNING,
				 "%s: journal mode is %s, not WAL",
				 c->st->path, mode);
	return 0;
}

static int apply_migrations(struct conn *c, int from)
{
	int rc = 0;
	int v;

	for (v = from + 1; v <= SCHEMA_VERSION; v++) {
		rc = exec_sql(c, migrations[v - 1], "migration");
		if (rc)
			return rc;
		c->st->host->log(c->st->hctx, MSSL_LOG_INFO,
				 "%s: schema migrated to version %d",
				 c->st->path, v);
	}
	if (from < SCHEMA_VERSION)
		rc = meta_put_int(c, "schema_version", SCHEMA_VERSION);
	return rc;
}

/*
 * Create or migrate the schema.  BEGIN IMMEDIATE serialises connections
 * opening the same file at once: the second one waits, then finds the
 * schema current.
 */
static int migrate(struct conn *c)
{
	int64_t version;
	int rc;

	rc = exec_sql(c, "BEGIN IMMEDIATE", "migration begin");
	if (rc)
		return rc;
	rc = exec_sql(c, meta_sql, "migration");
	if (rc)
		goto out;
	rc = meta_get(c, "schema_version", &version, NULL, 0);
	if (rc)
		goto out;
	if (version < 0) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.schema",
				   "%s: schema version %lld is malformed",
				   c->st->path, (long long)version);
		rc = MSSL_ESTORE;
		goto out;
	}
	if (version > SCHEMA_VERSION) {
		c->st->host->error(c->st->hctx, MSSL_ESCHEMA, "store.schema",
				   "%s: schema version %lld, this program "
				   "knows up to %d: upgrade mssl",
				   c->st->path, (long long)version,
				   SCHEMA_VERSION);
		rc = MSSL_ESCHEMA;
		goto out;
	}
	rc = apply_migrations(c, (int)version);
	if (rc)
		goto out;
	rc = exec_sql(c, "COMMIT", "migration commit");
out:
	if (rc)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int configure_db(struct conn *c)
{
	bool wal = false;
	int rc;

	sqlite3_extended_result_codes(c->db, 1);
	rc = sqlite3_busy_timeout(c->db, c->st->busy_timeout_ms);
	if (rc != SQLITE_OK)
		return fail(c, rc, "busy_timeout");
	rc = set_wal(c, &wal);
	if (rc)
		return rc;
	/* Group commit: SQLite writes the WAL, conn_commit syncs it. */
	c->group = c->st->full && wal && c->st->g;
	rc = exec_sql(c,
		      c->group ? "PRAGMA synchronous=NORMAL" :
				 c->st->synchronous_sql,
		      "synchronous");
	if (rc)
		return rc;
	return exec_sql(c, "PRAGMA foreign_keys=ON", "foreign_keys");
}

/*
 * Create the file readable by its owner only before SQLite opens it: it
 * holds session and challenge hashes.  SQLite gives the -wal and -shm
 * files the permissions of the main file.
 *
 * Only a file that does not exist yet is opened here (O_EXCL): closing a
 * descriptor of a file drops every POSIX lock this process holds on it,
 * the shared locks of this process's open SQLite connections included.
 * Another process closing its last connection would then take the file
 * as unused, checkpoint and delete the WAL under our connections, whose
 * later commits would go to the deleted WAL and be lost.
 */
static void precreate(const char *path)
{
	int fd;

	if (strcmp(path, ":memory:") == 0)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/* The file's group, made on first use; NULL for ":memory:". */
static int group_attach(struct store *st)
{
	struct file_group *g;
	pthread_condattr_t ca;
	struct stat sb;
	int rc = 0;

	if (strcmp(st->path, ":memory:") == 0)
		return 0;
	pthread_mutex_lock(&groups_lock);
	if (st->g)
		goto out;
	if (stat(st->path, &sb) != 0)
		goto out; /* sqlite3_open_v2 says why */
	for (g = groups; g; g = g->next)
		if (g->dev == sb.st_dev && g->ino == sb.st_ino)
			break;
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g) {
			rc = MSSL_ENOMEM;
			goto out;
		}
		g->dev = sb.st_dev;
		g->ino = sb.st_ino;
		pthread_mutex_init(&g->m, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&g->lock_cv, &ca);
		pthread_cond_init(&g->sync_cv, &ca);
		pthread_condattr_destroy(&ca);
		g->next = groups;
		groups = g;
	}
	g->refs++;
	st->g = g;
out:
	pthread_mutex_unlock(&groups_lock);
	return rc;
}

static void group_detach(struct store *st)
{
	struct file_group **pp, *g = st->g;

	if (!g)
		return;
	pthread_mutex_lock(&groups_lock);
	if (--g->refs == 0) {
		for (pp = &groups; *pp != g; pp = &(*pp)->next)
			;
		*pp = g->next;
		pthread_mutex_destroy(&g->m);
		pthread_cond_destroy(&g->lock_cv);
		pthread_cond_destroy(&g->sync_cv);
		free(g);
	}
	pthread_mutex_unlock(&groups_lock);
	st->g = NULL;
}

static void conn_close(void *conn)
{
	struct conn *c = conn;
	int i;

	if (!c)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (i = 0; i < (int)CERT_F_COUNT; i++)
		sqlite3_finalize(c->cert_each[i]);
	sqlite3_close(c->db);
	c->st->host->free(c->st->hctx, c);
}

static int conn_open(void *state, void **out)
{
	struct store *st = state;
	struct conn *c;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;
	int rc;

	*out = NULL;
	c = st->host->alloc(st->hctx, sizeof(*c));
	if (!c)
		return MSSL_ENOMEM;
	memset(c, 0, sizeof(*c));
	c->st = st;
	precreate(st->path);
	rc = group_attach(st);
	if (rc) {
		st->host->free(st->hctx, c);
		return rc;
	}
	rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		/* c->db is set even on failure, unless out of memory. */
		rc = c->db ? fail(c, rc, "open") : MSSL_ENOMEM;
		goto out;
	}
	rc = configure_db(c);
	if (rc)
		goto out;
	rc = migrate(c);
out:
	if (rc) {
		conn_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------ */

/* An absolute CLOCK_MONOTONIC time ms from now. */
static struct timespec deadline_in(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/*
 * This process's write lock on the file, taken before BEGIN IMMEDIATE:
 * threads queue here, woken as soon as it is free, and never meet
 * SQLite's busy handler, which sleeps in steps of milliseconds.  Waits at
 * most the busy timeout, like SQLite.
 */
static int write_lock(struct conn *c)
{
	struct file_group *g = c->st->g;
	struct timespec until;
	int r = 0;

	if (!g)
		return 0;
	pthread_mutex_lock(&g->m);
	if (g->locked) {
		until = deadline_in(c->st->busy_timeout_ms);
		while (g->locked && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&g->lock_cv, &g->m, &until);
	}
	if (g->locked) {
		pthread_mutex_unlock(&g->m);
		c->st->host->error(c->st->hctx, MSSL_EBUSY, "store.busy",
				   "sqlite: begin: another thread kept the "
				   "store locked for %d ms",
				   c->st->busy_timeout_ms);
		return MSSL_EBUSY;
	}
	g->locked = true;
	pthread_mutex_unlock(&g->m);
	return 0;
}

/* Release it; with g->m held. */
static void write_unlock_locked(struct conn *c)
{
	struct file_group *g = c->st->g;

	c->writing = false;
	if (!g)
		return;
	g->locked = false;
	pthread_cond_signal(&g->lock_cv);
}

static void write_unlock(struct conn *c)
{
	struct file_group *g = c->st->g;

	if (!g) {
		c->writing = false;
		return;
	}
	pthread_mutex_lock(&g->m);
	write_unlock_locked(c);
	pthread_mutex_unlock(&g->m);
}

/* fsync the WAL: every frame written so far, by any connection. */
static int wal_sync(struct conn *c)
{
	sqlite3_file *f = NULL;
	int rc;

	rc = sqlite3_file_control(c->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
				  &f);
	if (rc == SQLITE_OK && (!f || !f->pMethods))
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK)
		rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.sync",
				   "sqlite: fsync of the write-ahead log of "
				   "%s failed (error %d): the last commits "
				   "may not be on disk",
				   c->st->path, rc);
		return MSSL_ESTORE;
	}
	return 0;
}

/*
 * Wait, with g->m held, until every commit up to ticket t is on disk.
 * Whoever finds no fsync under way while the commits it needs are
 * written leads: it fsyncs for every commit written so far, so one fsync
 * serves all the commits that queued behind the previous one.
 */
static int wait_synced(struct conn *c, uint64_t t)
{
	struct file_group *g = c->st->g;
	uint64_t target;
	int rc;

	for (;;) {
		if (t <= g->failed) {
			c->st->host->error(c->st->hctx, MSSL_ESTORE,
					   "store.sync",
					   "sqlite: fsync of the write-ahead "
					   "log of %s failed: this commit may "
					   "not be on disk", c->st->path);
			return MSSL_ESTORE;
		}
		if (g->synced >= t)
			return 0;
		if (g->syncing || g->committed < t) {
			/* An fsync under way, or a commit still writing. */
			pthread_cond_wait(&g->sync_cv, &g->m);
			continue;
		}
		target = g->committed;
		g->syncing = true;
		pthread_mutex_unlock(&g->m);
		rc = wal_sync(c);
		pthread_mutex_lock(&g->m);
		g->syncing = false;
		if (rc == 0 && target > g->synced)
			g->synced = target;
		else if (rc != 0 && target > g->failed)
			g->failed = target;
		pthread_cond_broadcast(&g->sync_cv);
		if (rc != 0)
			return rc;
	}
}

/*
 * A read transaction sees only what is on disk, as under SQLite's own
 * synchronous = full: its snapshot is taken at once, then it waits for
 * the commits that snapshot may hold (issued counts commits not yet
 * done, so it holds every one the snapshot can see).
 */
static int read_barrier(struct conn *c)
{
	struct file_group *g = c->st->g;
	uint64_t t;
	int rc;

	rc = sqlite3_exec(c->db, "SELECT 1 FROM meta LIMIT 1", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK)
		return fail(c, rc, "begin");
	pthread_mutex_lock(&g->m);
	t = g->issued;
	rc = g->synced >= t ? 0 : wait_synced(c, t);
	pthread_mutex_unlock(&g->m);
	return rc;
}

static int conn_begin(void *conn, int mode)
{
	struct conn *c = conn;
	int rc;

	if ((mode & ~MSSL_TXN_LAZY) != MSSL_TXN_WRITE) {
		rc = simple(c, S_BEGIN_READ, "begin");
		if (rc == 0 && c->group && (rc = read_barrier(c)) != 0)
			simple(c, S_ROLLBACK, "rollback");
		return rc;
	}
	rc = write_lock(c);
	if (rc)
		return rc;
	rc = simple(c, S_BEGIN_WRITE, "begin");
	if (rc) {
		write_unlock(c);
		return rc;
	}
	c->writing = true;
	c->lazy = (mode & MSSL_TXN_LAZY) != 0;
	return 0;
}

/* Without group commit: LAZY lowers synchronous for this commit only. */
static int commit_plain(struct conn *c)
{
	int rc, r;

	if (!c->lazy || !c->st->lazy_pragma)
		return simple(c, S_COMMIT, "commit");
	rc = exec_sql(c, "PRAGMA synchronous=NORMAL", "synchronous");
	if (rc == 0)
		rc = simple(c, S_COMMIT, "commit");
	r = exec_sql(c, c->st->synchronous_sql, "synchronous");
	return rc ? rc : r;
}

static int conn_commit(void *conn)
{
	struct conn *c = conn;
	struct file_group *g = c->st->g;
	uint64_t t;
	int rc;

	if (!c->writing)
		return simple(c, S_COMMIT, "commit");
	if (!c->group) {
		rc = commit_plain(c);
		/* A failed COMMIT leaves the transaction to rollback. */
		if (rc == 0 || sqlite3_get_autocommit(c->db))
			write_unlock(c);
		return rc;
	}
	/* The ticket before COMMIT: a reader counting it waits for it. */
	pthread_mutex_lock(&g->m);
	t = ++g->issued;
	pthread_mutex_unlock(&g->m);
	rc = simple(c, S_COMMIT, "commit");
	pthread_mutex_lock(&g->m);
	g->committed = t; /* written (or nothing to write) */
	pthread_cond_broadcast(&g->sync_cv);
	if (rc == 0 || sqlite3_get_autocommit(c->db))
		write_unlock_locked(c);
	/* The next writer runs while this one waits for the disk. */
	if (rc == 0 && !c->lazy)
		rc = wait_synced(c, t);
	pthread_mutex_unlock(&g->m);
	return rc;
}

static int conn_rollback(void *conn)
{
	struct conn *c = conn;
	int rc = 0;

	/* A failed COMMIT or an error may already have ended it. */
	if (!sqlite3_get_autocommit(c->db))
		rc = simple(c, S_ROLLBACK, "rollback");
	if (c->writing)
		write_unlock(c);
	return rc;
}

static int conn_schema_version(void *conn, int *version)
{
	int64_t v;
	int rc = meta_get(conn, "schema_version", &v, NULL, 0);

	if (rc)
		return rc;
	*version = (int)v;
	return 0;
}

/* ---------------------------------------------------------------------
 * Accounts
 * ------------------------------------------------------------------ */

static void bind_account(sqlite3_stmt *s, const struct mssl_account_rec *r)
{
	bind_str(s, 1, r->id);
	bind_str(s, 2, r->org_name_en);
	bind_str(s, 3, r->org_name_zh);
	sqlite3_bind_int64(s, 4, r->products);
	bind_str(s, 5, r->ev_country);
	bind_str(s, 6, r->ev_state);
	bind_str(s, 7, r->ev_locality);
	bind_str(s, 8, r->ev_category);
	sqlite3_bind_int(s, 9, r->status);
}

static int account_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_account_rec r = {
		.id = col_str(s, 0),
		.org_name_en = col_str(s, 1),
		.org_name_zh = col_str(s, 2),
		.products = (uint32_t)sqlite3_column_int64(s, 3),
		.ev_country = col_str(s, 4),
		.ev_state = col_str(s, 5),
		.ev_locality = col_str(s, 6),
		.ev_category = col_str(s, 7),
		.status = sqlite3_column_int(s, 8),
		.created = sqlite3_column_int64(s, 9),
	};

	return ((mssl_account_cb)cb)(ud, &r);
}

static int account_insert(void *conn, const struct mssl_account_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_ACCOUNT_INSERT, &s);

	if (rc)
		return rc;
	bind_account(s, r);
	sqlite3_bind_int64(s, 10, r->created);
	return stmt_exec(conn, s, "account insert", NULL);
}

/* Every field but the id (the key) and the creation time. */
static int account_update(void *conn, const struct mssl_account_rec *r)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	int rc = stmt_get(conn, S_ACCOUNT_UPDATE, &s);

	if (rc)
		return rc;
	bind_account(s, r);
	rc = stmt_exec(conn, s, "account update", &changes);
	if (!rc && changes == 0)
		rc = MSSL_ENOENT;
	return rc;
}

/*
 * account_get finds at most one row; the callback's result is returned,
 * ENOENT when there was no row.
 */
struct get_ctx {
	row_fn row;
	void *cb;
	void *ud;
	int found;
};

static int get_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct get_ctx *g = ud;

	(void)cb;
	g->found = 1;
	return g->row(s, g->cb, g->ud);
}

static int account_get(void *conn, const char *id, mssl_account_cb cb,
		       void *ud)
{
	struct get_ctx g = { account_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_ACCOUNT_GET, &s);

	if (rc)
		return rc;
	bind_str(s, 1, id);
	rc = stmt_each(conn, s, "account get", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = MSSL_ENOENT;
	return rc;
}

static int account_each(void *conn, mssl_account_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_ACCOUNT_EACH, &s);

	if (rc)
		return rc;
	return stmt_each(conn, s, "account each", account_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Domains
 * ------------------------------------------------------------------ */

static int domain_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_domain_rec r = {
		.account_id = col_str(s, 0),
		.name = col_str(s, 1),
		.added = sqlite3_column_int64(s, 2),
	};

	return ((mssl_domain_cb)cb)(ud, &r);
}

static int domain_insert(void *conn, const struct mssl_domain_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_DOMAIN_INSERT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->account_id);
	bind_str(s, 2, r->name);
	sqlite3_bind_int64(s, 3, r->added);
	return stmt_exec(conn, s, "domain insert", NULL);
}

static int domain_delete(void *conn, const char *account_id, const char *name)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	int rc = stmt_get(conn, S_DOMAIN_DELETE, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	bind_str(s, 2, name);
	rc = stmt_exec(conn, s, "domain delete", &changes);
	if (!rc && changes == 0)
		rc = MSSL_ENOENT;
	return rc;
}

static int domain_find(void *conn, const char *name, mssl_domain_cb cb,
		       void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_DOMAIN_FIND, &s);

	if (rc)
		return rc;
	bind_str(s, 1, name);
	return stmt_each(conn, s, "domain find", domain_row, (void *)cb, ud);
}

static int domain_each(void *conn, const char *account_id, mssl_domain_cb cb,
		       void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_DOMAIN_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	return stmt_each(conn, s, "domain each", domain_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Contacts
 * ------------------------------------------------------------------ */

static int contact_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_contact_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.account_id = col_str(s, 1),
		.kind = col_str(s, 2),
		.name = col_str(s, 3),
		.email = col_str(s, 4),
		.phone = col_str(s, 5),
	};

	return ((mssl_contact_cb)cb)(ud, &r);
}

static int contact_insert(void *conn, const struct mssl_contact_rec *r,
			  int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_CONTACT_INSERT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->account_id);
	bind_str(s, 2, r->kind);
	bind_str(s, 3, r->name);
	bind_str(s, 4, r->email);
	bind_str(s, 5, r->phone);
	rc = stmt_exec(c, s, "contact insert", NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

/* In id order, that is, in the order they were added. */
static int contact_each(void *conn, const char *account_id,
			mssl_contact_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CONTACT_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	return stmt_each(conn, s, "contact each", contact_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Ledger
 * ------------------------------------------------------------------ */

static int ledger_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_ledger_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.account_id = col_str(s, 1),
		.time = sqlite3_column_int64(s, 2),
		.kind = sqlite3_column_int(s, 3),
		.delta = sqlite3_column_int64(s, 4),
		.balance_after = sqlite3_column_int64(s, 5),
		.actor = col_str(s, 6),
		.memo = col_str(s, 7),
		.cert_serial = col_str(s, 8),
	};

	return ((mssl_ledger_cb)cb)(ud, &r);
}

/* The named CHECK on balance_after failed. */
static int ledger_refused(struct conn *c)
{
	c->st->host->error(c->st->hctx, MSSL_EBALANCE, "store.balance",
			   "sqlite: ledger insert: %s", sqlite3_errmsg(c->db));
	return MSSL_EBALANCE;
}

static int ledger_insert(void *conn, const struct mssl_ledger_rec *r,
			 int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_LEDGER_INSERT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->account_id);
	sqlite3_bind_int64(s, 2, r->time);
	sqlite3_bind_int(s, 3, r->kind);
	sqlite3_bind_int64(s, 4, r->delta);
	sqlite3_bind_int64(s, 5, r->balance_after);
	bind_str(s, 6, r->actor);
	bind_str(s, 7, r->memo);
	bind_str(s, 8, r->cert_serial);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		if (id_out)
			*id_out = sqlite3_last_insert_rowid(c->db);
		rc = 0;
	} else if (rc == SQLITE_CONSTRAINT_CHECK &&
		   strstr(sqlite3_errmsg(c->db), BALANCE_CHECK)) {
		rc = ledger_refused(c);
	} else {
		rc = fail(c, rc, "ledger insert");
	}
	stmt_done(s);
	return rc;
}

static int ledger_balance(void *conn, const char *account_id,
			  int64_t *balance)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_LEDGER_BALANCE, &s);

	if (rc)
		return rc;
	*balance = 0;
	bind_str(s, 1, account_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*balance = sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(conn, rc, "ledger balance");
	stmt_done(s);
	return rc;
}

static int ledger_each(void *conn, const char *account_id, int newest_first,
		       int64_t offset, int64_t limit, mssl_ledger_cb cb,
		       void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = stmt_get(conn, newest_first ? S_LEDGER_EACH_DESC :
					   S_LEDGER_EACH_ASC, &s);
	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	sqlite3_bind_int64(s, 2, offset > 0 ? offset : 0);
	/* SQLite reads a negative LIMIT as "no limit". */
	sqlite3_bind_int64(s, 3, limit > 0 ? limit : -1);
	return stmt_each(conn, s, "ledger each", ledger_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Audit log
 * ------------------------------------------------------------------ */

/*
 * Copy a hash column.  A wrong length is copied as far as it goes and
 * zero-filled: the core's chain check then reports the damage, which is
 * what an operator needs to see.
 */
static void col_hash(sqlite3_stmt *s, int i, uint8_t out[32])
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	memset(out, 0, 32);
	if (p && n > 0)
		memcpy(out, p, n < 32 ? (size_t)n : 32);
}

static int audit_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_audit_rec r = {
		.seq = sqlite3_column_int64(s, 0),
		.time = sqlite3_column_int64(s, 1),
		.actor_role = col_str(s, 2),
		.actor_name = col_str(s, 3),
		.account_id = col_str(s, 4),
		.remote = col_str(s, 5),
		.action = col_str(s, 6),
		.object = col_str(s, 7),
		.outcome = col_str(s, 8),
		.detail = col_str(s, 9),
	};

	col_hash(s, 10, r.prev_hash);
	col_hash(s, 11, r.hash);
	return ((mssl_audit_cb)cb)(ud, &r);
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode exactly 2n hex digits; -1 on anything else. */
static int hex_decode(const char *in, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(in) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = hex_value(in[2 * i]);
		lo = hex_value(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * The log's head, one meta row "audit_head" = "<seq> <hash hex>": one
 * write per record appended and one read per record to append.  Stores
 * written before kept it in two rows (audit_head_seq, audit_head_hash):
 * read when the new row is missing, removed with the first write after.
 */
#define HEAD_KEY "audit_head"
#define LEGACY_SEQ_KEY "audit_head_seq"
#define LEGACY_HASH_KEY "audit_head_hash"

static int audit_put_head(struct conn *c, int64_t seq, const uint8_t hash[32])
{
	sqlite3_stmt *s = NULL;
	char v[100];
	int n, rc, changes = 0;

	n = snprintf(v, sizeof(v), "%lld ", (long long)seq);
	hex_encode(hash, 32, v + n);
	/* An UPDATE of the row there is costs less than an upsert. */
	rc = stmt_get(c, S_META_UPDATE, &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, HEAD_KEY, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
	rc = stmt_exec(c, s, "meta write", &changes);
	if (rc == 0 && changes == 0)
		rc = meta_put(c, HEAD_KEY, v);
	if (rc == 0 && c->legacy_head) {
		rc = exec_sql(c, "DELETE FROM meta WHERE key IN ('"
				 LEGACY_SEQ_KEY "', '" LEGACY_HASH_KEY "')",
			      "audit head migration");
		if (rc == 0)
			c->legacy_head = false;
	}
	return rc;
}

static int audit_insert(void *conn, const struct mssl_audit_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_AUDIT_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->seq);
	sqlite3_bind_int64(s, 2, r->time);
	bind_str(s, 3, r->actor_role);
	bind_str(s, 4, r->actor_name);
	bind_str(s, 5, r->account_id);
	bind_str(s, 6, r->remote);
	bind_str(s, 7, r->action);
	bind_str(s, 8, r->object);
	bind_str(s, 9, r->outcome);
	bind_str(s, 10, r->detail);
	sqlite3_bind_blob(s, 11, r->prev_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 12, r->hash, 32, SQLITE_STATIC);
	rc = stmt_exec(conn, s, "audit insert", NULL);
	if (rc)
		return rc;
	return audit_put_head(conn, r->seq, r->hash);
}

static int audit_head(void *conn, int64_t *seq, uint8_t hash[32])
{
	struct conn *c = conn;
	int64_t ignored;
	char hex[80];
	int rc;

	memset(hash, 0, 32);
	rc = meta_get(c, HEAD_KEY, seq, hex, sizeof(hex));
	if (rc)
		return rc;
	c->legacy_head = !hex[0];
	if (c->legacy_head) {
		rc = meta_get(c, LEGACY_SEQ_KEY, seq, NULL, 0);
		if (rc || *seq == 0)
			return rc;
		rc = meta_get(c, LEGACY_HASH_KEY, &ignored, hex, sizeof(hex));
	} else {
		/* "<seq> <hex>" */
		char *end = NULL;

		errno = 0;
		*seq = strtoll(hex, &end, 10);
		if (errno || end == hex || *end != ' ' || *seq < 1)
			end = hex + strlen(hex) - 1; /* malformed below */
		memmove(hex, end + 1, strlen(end + 1) + 1);
	}
	if (rc)
		return rc;
	if (hex_decode(hex, hash, 32) != 0) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.audit_head",
				   "sqlite: audit head hash is malformed");
		return MSSL_ESTORE;
	}
	return 0;
}

static int audit_each(void *conn, int64_t from_seq, mssl_audit_cb cb,
		      void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_AUDIT_EACH, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, from_seq);
	return stmt_each(conn, s, "audit each", audit_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Notices
 * ------------------------------------------------------------------ */

static int notice_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_notice_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.time = sqlite3_column_int64(s, 1),
		.expires = sqlite3_column_int64(s, 2),
		.account_id = col_str(s, 3),
		.title = col_str(s, 4),
		.body = col_str(s, 5),
		.author = col_str(s, 6),
	};

	return ((mssl_notice_cb)cb)(ud, &r);
}

static int notice_insert(void *conn, const struct mssl_notice_rec *r,
			 int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_NOTICE_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->time);
	sqlite3_bind_int64(s, 2, r->expires);
	bind_str(s, 3, r->account_id);
	bind_str(s, 4, r->title);
	bind_str(s, 5, r->body);
	bind_str(s, 6, r->author);
	rc = stmt_exec(c, s, "notice insert", NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

/* Newest first: by time, then by id for notices of the same second. */
static int notice_each(void *conn, const char *account_id, int64_t now,
		       mssl_notice_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_NOTICE_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now);
	return stmt_each(conn, s, "notice each", notice_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Blocked keys
 * ------------------------------------------------------------------ */

static int blocked_key_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_blocked_key_rec r = {
		.added = sqlite3_column_int64(s, 1),
		.source = col_str(s, 2),
		.reason = col_str(s, 3),
	};

	/* The column's CHECK keeps it 32 bytes long. */
	col_hash(s, 0, r.spki_sha256);
	return ((mssl_blocked_key_cb)cb)(ud, &r);
}

static int blocked_key_insert(void *conn, const struct mssl_blocked_key_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_BLOCKED_KEY_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, r->spki_sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->added);
	bind_str(s, 3, r->source);
	bind_str(s, 4, r->reason);
	return stmt_exec(conn, s, "blocked key insert", NULL);
}

static int blocked_key_get(void *conn, const uint8_t spki_sha256[32],
			   mssl_blocked_key_cb cb, void *ud)
{
	struct get_ctx g = { blocked_key_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	char hex[65];
	int rc = stmt_get(conn, S_BLOCKED_KEY_GET, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, spki_sha256, 32, SQLITE_STATIC);
	rc = stmt_each(conn, s, "blocked key get", get_row, NULL, &g);
	if (!rc && !g.found) {
		hex_encode(spki_sha256, 32, hex);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * Certificates
 * ------------------------------------------------------------------ */

/*
 * Not revoked is stored as NULL in revoked_at and revoke_reason, so that
 * SQL sees "revoked_at IS NULL"; the record says 0 and -1.  Reason 0 is
 * RFC 5280's "unspecified", a real reason.
 */
#define NOT_REVOKED_AT 0
#define NOT_REVOKED_REASON (-1)

static void bind_int64_or_null(sqlite3_stmt *s, int i, int64_t v,
			       int64_t null_value)
{
	if (v == null_value)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static int64_t col_int64_or(sqlite3_stmt *s, int i, int64_t null_value)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return null_value;
	return sqlite3_column_int64(s, i);
}

/*
 * A BLOB column that may be NULL.  SQLite returns a NULL pointer for an
 * empty BLOB too: give a non-NULL one so that empty and NULL differ.
 */
static const uint8_t *col_blob(sqlite3_stmt *s, int i, size_t *len)
{
	static const uint8_t empty[1];
	const uint8_t *p;

	*len = 0;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(s, i);
	*len = (size_t)sqlite3_column_bytes(s, i);
	return p ? p : empty;
}

static int cert_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_cert_rec r = {
		.serial = col_str(s, 0),
		.account_id = col_str(s, 1),
		.cn = col_str(s, 2),
		.product = (uint32_t)sqlite3_column_int64(s, 3),
		.state = col_str(s, 4),
		.years = sqlite3_column_int(s, 5),
		.not_before = sqlite3_column_int64(s, 6),
		.not_after = sqlite3_column_int64(s, 7),
		.renewal_of = col_str(s, 9),
		.requested_by = col_str(s, 10),
		.server_vendor = col_str(s, 11),
		.passphrase_hash = col_str(s, 12),
		.tech_name = col_str(s, 13),
		.tech_email = col_str(s, 14),
		.tech_phone = col_str(s, 15),
		.note = col_str(s, 16),
		.seal_name = col_str(s, 17),
		.revoked_at = col_int64_or(s, 18, NOT_REVOKED_AT),
		.revoke_reason = (int)col_int64_or(s, 19, NOT_REVOKED_REASON),
		.created = sqlite3_column_int64(s, 20),
		.idempotency_key = col_str(s, 21),
	};

	r.der = col_blob(s, 8, &r.der_len);
	return ((mssl_cert_cb)cb)(ud, &r);
}

static int cert_insert(void *conn, const struct mssl_cert_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CERT_INSERT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->serial);
	bind_str(s, 2, r->account_id);
	bind_str(s, 3, r->cn);
	sqlite3_bind_int64(s, 4, r->product);
	bind_str(s, 5, r->state);
	sqlite3_bind_int(s, 6, r->years);
	sqlite3_bind_int64(s, 7, r->not_before);
	sqlite3_bind_int64(s, 8, r->not_after);
	bind_str(s, 10, r->renewal_of);
	bind_str(s, 11, r->requested_by);
	bind_str(s, 12, r->server_vendor);
	bind_str(s, 13, r->passphrase_hash);
	bind_str(s, 14, r->tech_name);
	bind_str(s, 15, r->tech_email);
	bind_str(s, 16, r->tech_phone);
	bind_str(s, 17, r->note);
	bind_str(s, 18, r->seal_name);
	bind_int64_or_null(s, 19, r->revoked_at, NOT_REVOKED_AT);
	bind_int64_or_null(s, 20, r->revoke_reason, NOT_REVOKED_REASON);
	sqlite3_bind_int64(s, 21, r->created);
	bind_str(s, 22, r->idempotency_key);
	/* A NULL pointer binds NULL; a non-NULL one a BLOB, even empty. */
	rc = sqlite3_bind_blob64(s, 9, r->der, r->der_len, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		goto out;
	return stmt_exec(conn, s, "cert insert", NULL);
out:
	/* SQLITE_TOOBIG: longer than the file's length limit. */
	rc = fail(conn, rc, "cert insert: der");
	stmt_done(s);
	return rc;
}

static int cert_get(void *conn, const char *serial, mssl_cert_cb cb, void *ud)
{
	struct get_ctx g = { cert_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CERT_GET, &s);

	if (rc)
		return rc;
	bind_str(s, 1, serial);
	rc = stmt_each(conn, s, "cert get", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = MSSL_ENOENT;
	return rc;
}

/*
 * A pending certificate becomes issued or failed, under 'new_serial' when
 * the signer chose its own.  The serial is the primary key: a plain
 * UPDATE changes it.  Other rows refer to a certificate only through
 * renewal_of, and a pending certificate has no renewal yet; should one
 * exist all the same, the foreign key refuses the change (MSSL_ESTORE)
 * rather than leave the renewal pointing nowhere.
 */
static int cert_finish(void *conn, const char *serial, const char *new_serial,
		       const char *state, const uint8_t *der, size_t der_len,
		       int64_t not_before, int64_t not_after)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int changes = 0;
	int rc;

	if (!state || (strcmp(state, "issued") != 0 &&
		       strcmp(state, "failed") != 0)) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.invalid",
				   "sqlite: cert finish: state '%s' is neither "
				   "issued nor failed", state ? state : "");
		return MSSL_ESTORE;
	}
	rc = stmt_get(c, S_CERT_FINISH, &s);
	if (rc)
		return rc;
	bind_str(s, 1, serial);
	bind_str(s, 2, new_serial ? new_serial : serial);
	bind_str(s, 3, state);
	sqlite3_bind_int64(s, 5, not_before);
	sqlite3_bind_int64(s, 6, not_after);
	rc = sqlite3_bind_blob64(s, 4, der, der_len, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		changes = sqlite3_changes(c->db);
		rc = 0;
	} else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		/* The row's own references do not change: a renewal's does. */
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.constraint",
				   "sqlite: cert finish: a renewal refers to "
				   "'%s', whose serial cannot change", serial);
		rc = MSSL_ESTORE;
	} else {
		rc = fail(c, rc, "cert finish");
	}
	stmt_done(s);
	if (!rc && changes == 0) {
		c->st->host->error(c->st->hctx, MSSL_ENOENT, "store.not_found",
				   "sqlite: cert finish: no pending "
				   "certificate '%s'", serial);
		rc = MSSL_ENOENT;
	}
	return rc;
out:
	rc = fail(c, rc, "cert finish: der");
	stmt_done(s);
	return rc;
}

static int cert_revoke(void *conn, const char *serial, int64_t revoked_at,
		       int reason)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int changes = 0;
	int rc = stmt_get(c, S_CERT_REVOKE, &s);

	if (rc)
		return rc;
	bind_str(s, 1, serial);
	bind_int64_or_null(s, 2, revoked_at, NOT_REVOKED_AT);
	bind_int64_or_null(s, 3, reason, NOT_REVOKED_REASON);
	rc = stmt_exec(c, s, "cert revoke", &changes);
	if (!rc && changes == 0) {
		c->st->host->error(c->st->hctx, MSSL_ENOENT, "store.not_found",
				   "sqlite: cert revoke: no issued "
				   "certificate '%s'", serial);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/* The statement for one combination of filter members (CERT_F_*). */
static int cert_each_stmt(struct conn *c, unsigned mask, sqlite3_stmt **out)
{
	sqlite3_stmt **slot = &c->cert_each[mask];
	char sql[1536];
	int n, rc;

	if (*slot && sqlite3_stmt_busy(*slot)) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.reentrant",
				   "sqlite: cert each: already iterating "
				   "with this filter");
		return MSSL_ESTORE;
	}
	if (*slot)
		goto done;
	n = snprintf(sql, sizeof(sql),
		     "SELECT " CERT_COLS " FROM certificates WHERE 1%s%s%s%s%s%s%s"
		     " ORDER BY %s LIMIT ?7 OFFSET ?6",
		     mask & CERT_F_ACCOUNT ? " AND account_id = ?1" : "",
		     /*
		      * With a CN, its index (cn, account_id, created,
		      * serial) finds the few rows of that name in order;
		      * left to itself, SQLite prefers (account_id, state,
		      * ...) and reads every certificate of the account in
		      * that state: "+" keeps state out of the choice.
		      */
		     !(mask & CERT_F_STATE) ? "" :
		     mask & CERT_F_CN	    ? " AND +state = ?2" :
					      " AND state = ?2",
		     mask & CERT_F_CN ? " AND cn = ?3 COLLATE NOCASE" : "",
		     mask & CERT_F_BEFORE ? " AND not_after < ?4" : "",
		     mask & CERT_F_AFTER ? " AND not_after >= ?5" : "",
		     /* SQLite's lower() folds ASCII only, as the ABI says. */
		     mask & CERT_F_CONTAINS ?
			     " AND instr(lower(cn), lower(?8)) > 0" :
			     "",
		     mask & CERT_F_DOMAIN ?
			     " AND (cn = ?9 COLLATE NOCASE OR (length(cn) >"
			     " length(?9) AND lower(substr(cn, -length(?9) -"
			     " 1)) = '.' || lower(?9)))" :
			     "",
		     mask & CERT_F_NEWEST ? "created DESC, serial DESC" :
					    "created, serial");
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.sqlite",
				   "sqlite: cert each: query too long");
		return MSSL_ESTORE;
	}
	rc = sqlite3_prepare_v3(c->db, sql, n, SQLITE_PREPARE_PERSISTENT, slot,
				NULL);
	if (rc != SQLITE_OK)
		return fail(c, rc, "prepare cert each");
done:
	*out = *slot;
	return 0;
}

/* m's member (NULL when m's size does not reach it, or it is empty). */
#define MATCH_STR(m, member)                                                 \
	((m) && (m)->size >= offsetof(struct mssl_cert_match, member) +      \
				    sizeof((m)->member) &&                   \
			 (m)->member && (m)->member[0] ?                     \
		 (m)->member :                                               \
		 NULL)

/*
 * Members that are NULL or 0 do not filter.  Ascending: created, then
 * serial; newest first is the exact reverse, so that pages in either
 * direction hold the same certificates.  m's filters come before the
 * offset and limit.
 */
static int cert_match(void *conn, const struct mssl_cert_filter *f,
		      const struct mssl_cert_match *m, mssl_cert_cb cb,
		      void *ud)
{
	static const struct mssl_cert_filter all;
	const char *contains = MATCH_STR(m, cn_contains);
	const char *domain = MATCH_STR(m, domain);
	sqlite3_stmt *s = NULL;
	unsigned mask = 0;
	int rc;

	if (!f)
		f = &all;
	if (f->account_id)
		mask |= CERT_F_ACCOUNT;
	if (f->state)
		mask |= CERT_F_STATE;
	if (f->cn)
		mask |= CERT_F_CN;
	if (f->expires_before)
		mask |= CERT_F_BEFORE;
	if (f->expires_after)
		mask |= CERT_F_AFTER;
	if (f->newest_first)
		mask |= CERT_F_NEWEST;
	if (contains)
		mask |= CERT_F_CONTAINS;
	if (domain)
		mask |= CERT_F_DOMAIN;
	rc = cert_each_stmt(conn, mask, &s);
	if (rc)
		return rc;
	/* Only the parameters the statement names. */
	if (f->account_id)
		bind_str(s, 1, f->account_id);
	if (f->state)
		bind_str(s, 2, f->state);
	if (f->cn)
		bind_str(s, 3, f->cn);
	if (f->expires_before)
		sqlite3_bind_int64(s, 4, f->expires_before);
	if (f->expires_after)
		sqlite3_bind_int64(s, 5, f->expires_after);
	sqlite3_bind_int64(s, 6, f->offset > 0 ? f->offset : 0);
	/* SQLite reads a negative LIMIT as "no limit". */
	sqlite3_bind_int64(s, 7, f->limit > 0 ? f->limit : -1);
	if (contains)
		bind_str(s, 8, contains);
	if (domain)
		bind_str(s, 9, domain);
	return stmt_each(conn, s, "cert each", cert_row, (void *)cb, ud);
}

static int cert_each(void *conn, const struct mssl_cert_filter *f,
		     mssl_cert_cb cb, void *ud)
{
	return cert_match(conn, f, NULL, cb, ud);
}

static int cert_by_key(void *conn, const char *account_id,
		       const char *idempotency_key, mssl_cert_cb cb, void *ud)
{
	struct get_ctx g = { cert_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CERT_BY_KEY, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	bind_str(s, 2, idempotency_key);
	rc = stmt_each(conn, s, "cert by key", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = MSSL_ENOENT;
	return rc;
}

/* ---------------------------------------------------------------------
 * CN terms
 * ------------------------------------------------------------------ */

static int term_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_term_rec r = {
		.account_id = col_str(s, 0),
		.cn = col_str(s, 1),
		.started = sqlite3_column_int64(s, 2),
		.paid_until = sqlite3_column_int64(s, 3),
	};

	return ((mssl_term_cb)cb)(ud, &r);
}

/* cn is compared case-insensitively (the column is NOCASE). */
static int term_get(void *conn, const char *account_id, const char *cn,
		    mssl_term_cb cb, void *ud)
{
	struct get_ctx g = { term_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_TERM_GET, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	bind_str(s, 2, cn);
	rc = stmt_each(conn, s, "term get", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = MSSL_ENOENT;
	return rc;
}

static int term_put(void *conn, const struct mssl_term_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_TERM_PUT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->account_id);
	bind_str(s, 2, r->cn);
	sqlite3_bind_int64(s, 3, r->started);
	sqlite3_bind_int64(s, 4, r->paid_until);
	return stmt_exec(conn, s, "term put", NULL);
}

/* ---------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------ */

/*
 * One INSERT ... ON CONFLICT DO UPDATE ... RETURNING: the read and the
 * increment cannot be separated, and the caller's write transaction
 * (BEGIN IMMEDIATE) holds the write lock until it commits.
 */
static int counter_next(void *conn, const char *name, int64_t *value)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_COUNTER_NEXT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, name);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		goto out;
	*value = sqlite3_column_int64(s, 0);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	if (rc != SQLITE_OK)
		rc = fail(c, rc == SQLITE_DONE ? SQLITE_ERROR : rc,
			  "counter next");
	stmt_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Mail outbox
 * ------------------------------------------------------------------ */

/* Not sent is NULL in sent_at, 0 in the record. */
#define NOT_SENT 0

static int mail_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_mail_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.created = sqlite3_column_int64(s, 1),
		.to_addr = col_str(s, 2),
		.subject = col_str(s, 3),
		.body = col_str(s, 4),
		.related = col_str(s, 5),
		.attempts = sqlite3_column_int(s, 6),
		.next_attempt = sqlite3_column_int64(s, 7),
		.sent_at = col_int64_or(s, 8, NOT_SENT),
		.last_error = col_str(s, 9),
	};

	return ((mssl_mail_cb)cb)(ud, &r);
}

static int mail_insert(void *conn, const struct mssl_mail_rec *r,
		       int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_MAIL_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->created);
	bind_str(s, 2, r->to_addr);
	bind_str(s, 3, r->subject);
	bind_str(s, 4, r->body);
	bind_str(s, 5, r->related);
	sqlite3_bind_int(s, 6, r->attempts);
	sqlite3_bind_int64(s, 7, r->next_attempt);
	bind_int64_or_null(s, 8, r->sent_at, NOT_SENT);
	bind_str(s, 9, r->last_error);
	rc = stmt_exec(c, s, "mail insert", NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

/* Oldest first: by id, the order they were queued in. */
static int mail_due(void *conn, int64_t now, int64_t limit, mssl_mail_cb cb,
		    void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_MAIL_DUE, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
	return stmt_each(conn, s, "mail due", mail_row, (void *)cb, ud);
}

/* Run an UPDATE of one mail; MSSL_ENOENT when no mail has that id. */
static int mail_update(struct conn *c, sqlite3_stmt *s, int64_t id,
		       const char *what)
{
	char key[24];
	int changes = 0;
	int rc = stmt_exec(c, s, what, &changes);

	if (!rc && changes == 0) {
		snprintf(key, sizeof(key), "%lld", (long long)id);
		rc = MSSL_ENOENT;
	}
	return rc;
}

static int mail_sent(void *conn, int64_t id, int64_t sent_at)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_MAIL_SENT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, sent_at);
	return mail_update(conn, s, id, "mail sent");
}

static int mail_retry(void *conn, int64_t id, int64_t next_attempt,
		      const char *error)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_MAIL_RETRY, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_attempt);
	bind_str(s, 3, error);
	return mail_update(conn, s, id, "mail retry");
}

/*
 * The charge of a pending certificate names its placeholder serial; when
 * the signer chose another, the entries follow it (in cert_finish's
 * transaction: the core calls both before one commit).
 */
static int ledger_reserial(void *conn, const char *serial,
			   const char *new_serial)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!serial || !new_serial) {
		struct conn *c = conn;

		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.invalid",
				   "sqlite: ledger reserial: no serial");
		return MSSL_ESTORE;
	}
	rc = stmt_get(conn, S_LEDGER_RESERIAL, &s);
	if (rc)
		return rc;
	bind_str(s, 1, serial);
	bind_str(s, 2, new_serial);
	return stmt_exec(conn, s, "ledger reserial", NULL);
}

/* ---------------------------------------------------------------------
 * Expiry reminders (ABI 1.4)
 * ------------------------------------------------------------------ */

static int remind_due(void *conn, int64_t after, int64_t until, int days,
		      int64_t limit, mssl_cert_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_REMIND_DUE, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, until);
	sqlite3_bind_int(s, 3, days);
	sqlite3_bind_int64(s, 4, limit > 0 ? limit : -1);
	return stmt_each(conn, s, "remind due", cert_row, (void *)cb, ud);
}

/* A reminder's mail_id of 0 is stored as NULL: no outbox message. */
#define NO_MAIL 0

static int remind_insert(void *conn, const struct mssl_remind_rec *r)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc;

	if (!r->serial) {
		c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.invalid",
				   "sqlite: remind insert: no serial");
		return MSSL_ESTORE;
	}
	rc = stmt_get(c, S_REMIND_INSERT, &s);
	if (rc)
		return rc;
	bind_str(s, 1, r->serial);
	sqlite3_bind_int(s, 2, r->days);
	sqlite3_bind_int64(s, 3, r->queued_at);
	bind_int64_or_null(s, 4, r->mail_id, NO_MAIL);
	return stmt_exec(c, s, "remind insert", NULL);
}

static int remind_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_remind_rec r = {
		.serial = col_str(s, 0),
		.days = sqlite3_column_int(s, 1),
		.queued_at = sqlite3_column_int64(s, 2),
		.mail_id = col_int64_or(s, 3, NO_MAIL),
	};

	return ((mssl_remind_cb)cb)(ud, &r);
}

static int remind_each(void *conn, const char *serial, mssl_remind_cb cb,
		       void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_REMIND_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, serial);
	return stmt_each(conn, s, "remind each", remind_row, (void *)cb, ud);
}

/* ---------------------------------------------------------------------
 * Persons, cards and login
 * ------------------------------------------------------------------ */

/*
 * A CHECK or a guarding trigger refused 'value' (a state, a status):
 * MSSL_ESTORE like any other constraint, with the value in the detail.
 * Any other failure is mapped as usual.
 */
static int refused(struct conn *c, int rc, const char *what,
		   const char *value)
{
	if (!value || (rc != SQLITE_CONSTRAINT_CHECK &&
		       rc != SQLITE_CONSTRAINT_TRIGGER))
		return fail(c, rc, what);
	c->st->host->error(c->st->hctx, MSSL_ESTORE, "store.constraint",
			   "sqlite: %s: '%s' refused: %s", what, value,
			   sqlite3_errmsg(c->db));
	return MSSL_ESTORE;
}

/* stmt_exec, naming 'value' (may be NULL) when a constraint refuses it. */
static int stmt_exec_value(struct conn *c, sqlite3_stmt *s, const char *what,
			   const char *value, int *changes)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		rc = refused(c, rc, what, value);
		stmt_done(s);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes(c->db);
	stmt_done(s);
	return 0;
}

/*
 * Run an UPDATE of the row 'id' that sets 'value' (may be NULL);
 * MSSL_ENOENT when there is no such row.
 */
static int update_id(struct conn *c, sqlite3_stmt *s, int64_t id,
		     const char *what, const char *value)
{
	char key[24];
	int changes = 0;
	int rc = stmt_exec_value(c, s, what, value, &changes);

	if (!rc && changes == 0) {
		snprintf(key, sizeof(key), "%lld", (long long)id);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/*
 * No row for the hash of a nonce or a session token.  The hash stays
 * out of the detail: operators' logs are no place for session keys,
 * hashed or not.
 */
static int no_secret(struct conn *c, const char *what, const char *noun)
{
	c->st->host->error(c->st->hctx, MSSL_ENOENT, "store.not_found",
			   "sqlite: %s: no such %s", what, noun);
	return MSSL_ENOENT;
}

static int person_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_person_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.account_id = col_str(s, 1),
		.name = col_str(s, 2),
		.email = col_str(s, 3),
		.role = col_str(s, 4),
		.status = col_str(s, 5),
		.created = sqlite3_column_int64(s, 6),
	};

	return ((mssl_person_cb)cb)(ud, &r);
}

/* The account must exist; role and status are checked by the schema. */
static int person_insert(void *conn, const struct mssl_person_rec *r,
			 int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_PERSON_INSERT, &s);

	if (rc)
		return rc;
	bind_str(s, 1, r->account_id);
	bind_str(s, 2, r->name);
	bind_str(s, 3, r->email);
	bind_str(s, 4, r->role);
	bind_str(s, 5, r->status);
	sqlite3_bind_int64(s, 6, r->created);
	rc = stmt_exec(c, s, "person insert", NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

static int person_get(void *conn, int64_t id, mssl_person_cb cb, void *ud)
{
	struct get_ctx g = { person_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	char key[24];
	int rc = stmt_get(conn, S_PERSON_GET, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = stmt_each(conn, s, "person get", get_row, NULL, &g);
	if (!rc && !g.found) {
		snprintf(key, sizeof(key), "%lld", (long long)id);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/* By id, through persons_account (its rowid follows account_id). */
static int person_each(void *conn, const char *account_id, mssl_person_cb cb,
		       void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_PERSON_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	return stmt_each(conn, s, "person each", person_row, (void *)cb, ud);
}

static int person_set_status(void *conn, int64_t id, const char *status)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_PERSON_SET_STATUS, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, status);
	return update_id(conn, s, id, "person set status", status);
}

static int card_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_card_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.person_id = sqlite3_column_int64(s, 1),
		.token_serial = col_str(s, 2),
		.state = col_str(s, 5),
		.created = sqlite3_column_int64(s, 6),
	};

	r.cert_der = col_blob(s, 3, &r.cert_len);
	col_hash(s, 4, r.cert_sha256);
	return ((mssl_card_cb)cb)(ud, &r);
}

/*
 * The person must exist (MSSL_ENOENT) and the certificate's hash be new
 * (MSSL_EEXIST); the state is checked by the schema.
 */
static int card_insert(void *conn, const struct mssl_card_rec *r,
		       int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_CARD_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->person_id);
	bind_str(s, 2, r->token_serial);
	sqlite3_bind_blob(s, 4, r->cert_sha256, 32, SQLITE_STATIC);
	bind_str(s, 5, r->state);
	sqlite3_bind_int64(s, 6, r->created);
	rc = sqlite3_bind_blob64(s, 3, r->cert_der, r->cert_len,
				 SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		/* SQLITE_TOOBIG: longer than the file's length limit. */
		rc = fail(c, rc, "card insert: certificate");
		stmt_done(s);
		return rc;
	}
	rc = stmt_exec_value(c, s, "card insert", r->state, NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

static int card_get(void *conn, int64_t id, mssl_card_cb cb, void *ud)
{
	struct get_ctx g = { card_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	char key[24];
	int rc = stmt_get(conn, S_CARD_GET, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = stmt_each(conn, s, "card get", get_row, NULL, &g);
	if (!rc && !g.found) {
		snprintf(key, sizeof(key), "%lld", (long long)id);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/* The certificate's hash is unique: at most one card. */
static int card_by_cert(void *conn, const uint8_t cert_sha256[32],
			mssl_card_cb cb, void *ud)
{
	struct get_ctx g = { card_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	char hex[65];
	int rc = stmt_get(conn, S_CARD_BY_CERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, cert_sha256, 32, SQLITE_STATIC);
	rc = stmt_each(conn, s, "card by cert", get_row, NULL, &g);
	if (!rc && !g.found) {
		hex_encode(cert_sha256, 32, hex);
		rc = MSSL_ENOENT;
	}
	return rc;
}

/*
 * A listing: a token re-enrolled after its card was revoked has several
 * rows, newest (highest id) first; none is not an error.
 */
static int card_by_serial(void *conn, const char *token_serial,
			  mssl_card_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CARD_BY_SERIAL, &s);

	if (rc)
		return rc;
	bind_str(s, 1, token_serial);
	return stmt_each(conn, s, "card by serial", card_row, (void *)cb, ud);
}

/* The cards of the account's persons, by card id. */
static int card_each(void *conn, const char *account_id, mssl_card_cb cb,
		     void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CARD_EACH, &s);

	if (rc)
		return rc;
	bind_str(s, 1, account_id);
	return stmt_each(conn, s, "card each", card_row, (void *)cb, ud);
}

static int card_set_state(void *conn, int64_t id, const char *state)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CARD_SET_STATE, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, state);
	return update_id(conn, s, id, "card set state", state);
}

static int challenge_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_challenge_rec r = {
		.account_id = col_str(s, 1),
		.created = sqlite3_column_int64(s, 2),
		.expires = sqlite3_column_int64(s, 3),
	};

	col_hash(s, 0, r.nonce_hash);
	return ((mssl_challenge_cb)cb)(ud, &r);
}

/* No foreign key: a challenge may be asked for an unknown account. */
static int challenge_insert(void *conn, const struct mssl_challenge_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_CHALLENGE_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, r->nonce_hash, 32, SQLITE_STATIC);
	bind_str(s, 2, r->account_id);
	sqlite3_bind_int64(s, 3, r->created);
	sqlite3_bind_int64(s, 4, r->expires);
	return stmt_exec(conn, s, "challenge insert", NULL);
}

/*
 * Single use: the UPDATE that marks the challenge changes it only while
 * it is unused, and only the caller whose UPDATE changed the row gets
 * it.  A second connection waits for the write lock and then finds it
 * used.  The row is read back in the same transaction; expiry is the
 * caller's to check.
 */
static int challenge_take(void *conn, const uint8_t nonce_hash[32],
			  mssl_challenge_cb cb, void *ud)
{
	struct get_ctx g = { challenge_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int changes = 0;
	int rc = stmt_get(conn, S_CHALLENGE_USE, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, nonce_hash, 32, SQLITE_STATIC);
	rc = stmt_exec(conn, s, "challenge take", &changes);
	if (rc)
		return rc;
	if (changes != 1)
		return no_secret(conn, "challenge take", "unused challenge");
	rc = stmt_get(conn, S_CHALLENGE_GET, &s);
	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, nonce_hash, 32, SQLITE_STATIC);
	rc = stmt_each(conn, s, "challenge take", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = no_secret(conn, "challenge take", "challenge");
	return rc;
}

static int session_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_session_rec r = {
		.person_id = sqlite3_column_int64(s, 1),
		.card_id = sqlite3_column_int64(s, 2),
		.created = sqlite3_column_int64(s, 3),
		.last_seen = sqlite3_column_int64(s, 4),
		.expires = sqlite3_column_int64(s, 5),
		.pin_change_only = sqlite3_column_int(s, 6),
	};

	col_hash(s, 0, r.token_hash);
	return ((mssl_session_cb)cb)(ud, &r);
}

/* Person and card must exist (MSSL_ENOENT). */
static int session_insert(void *conn, const struct mssl_session_rec *r)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_SESSION_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, r->token_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->person_id);
	sqlite3_bind_int64(s, 3, r->card_id);
	sqlite3_bind_int64(s, 4, r->created);
	sqlite3_bind_int64(s, 5, r->last_seen);
	sqlite3_bind_int64(s, 6, r->expires);
	sqlite3_bind_int(s, 7, r->pin_change_only != 0);
	return stmt_exec(conn, s, "session insert", NULL);
}

static int session_get(void *conn, const uint8_t token_hash[32],
		       mssl_session_cb cb, void *ud)
{
	struct get_ctx g = { session_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_SESSION_GET, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
	rc = stmt_each(conn, s, "session get", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = no_secret(conn, "session get", "session");
	return rc;
}

/* Run a statement on one session; MSSL_ENOENT when there is none. */
static int session_one(struct conn *c, sqlite3_stmt *s, const char *what)
{
	int changes = 0;
	int rc = stmt_exec(c, s, what, &changes);

	if (!rc && changes == 0)
		rc = no_secret(c, what, "session");
	return rc;
}

static int session_touch(void *conn, const uint8_t token_hash[32],
			 int64_t last_seen)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_SESSION_TOUCH, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, last_seen);
	return session_one(conn, s, "session touch");
}

static int session_delete(void *conn, const uint8_t token_hash[32])
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_SESSION_DELETE, &s);

	if (rc)
		return rc;
	sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
	return session_one(conn, s, "session delete");
}

/* Through sessions_card; a card without sessions is not an error. */
static int session_delete_card(void *conn, int64_t card_id)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_SESSION_DELETE_CARD, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, card_id);
	return stmt_exec(conn, s, "session delete card", NULL);
}

static int login_failure_add(void *conn, const char *key, int64_t time)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_FAILURE_ADD, &s);

	if (rc)
		return rc;
	bind_str(s, 1, key);
	sqlite3_bind_int64(s, 2, time);
	return stmt_exec(conn, s, "login failure add", NULL);
}

/* Failures of 'key' at 'since' or later (login_failures_key). */
static int login_failure_count(void *conn, const char *key, int64_t since,
			       int64_t *count)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_FAILURE_COUNT, &s);

	if (rc)
		return rc;
	*count = 0;
	bind_str(s, 1, key);
	sqlite3_bind_int64(s, 2, since);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(conn, rc, "login failure count");
	stmt_done(s);
	return rc;
}

/* Every failure of 'key' (a successful login); none is not an error. */
static int login_failure_clear(void *conn, const char *key)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_FAILURE_CLEAR, &s);

	if (rc)
		return rc;
	bind_str(s, 1, key);
	return stmt_exec(conn, s, "login failure clear", NULL);
}

/* Run one purge statement with its bound time. */
static int purge(struct conn *c, enum stmt_id id, int64_t before,
		 const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, id, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, before);
	return stmt_exec(c, s, what, NULL);
}

/*
 * Challenges and sessions whose expires < now, used or not (through
 * their expires indexes), and failures with time < failures_before
 * (login_failures_time).  A row expiring at 'now' itself stays.
 */
static int login_purge(void *conn, int64_t now, int64_t failures_before)
{
	int rc;

	rc = purge(conn, S_PURGE_CHALLENGES, now, "login purge challenges");
	if (!rc)
		rc = purge(conn, S_PURGE_SESSIONS, now, "login purge sessions");
	if (!rc)
		rc = purge(conn, S_PURGE_FAILURES, failures_before,
			   "login purge failures");
	return rc;
}

static int unlock_row(sqlite3_stmt *s, void *cb, void *ud)
{
	struct mssl_unlock_rec r = {
		.id = sqlite3_column_int64(s, 0),
		.card_id = sqlite3_column_int64(s, 1),
		.created = sqlite3_column_int64(s, 3),
		.expires = sqlite3_column_int64(s, 4),
		.used = sqlite3_column_int(s, 5),
		.approved_by = col_str(s, 6),
		.verified_with = col_str(s, 7),
	};

	col_hash(s, 2, r.code_hash);
	return ((mssl_unlock_cb)cb)(ud, &r);
}

/* The card must exist (MSSL_ENOENT). */
static int unlock_insert(void *conn, const struct mssl_unlock_rec *r,
			 int64_t *id_out)
{
	struct conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(c, S_UNLOCK_INSERT, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, r->card_id);
	sqlite3_bind_blob(s, 2, r->code_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->created);
	sqlite3_bind_int64(s, 4, r->expires);
	sqlite3_bind_int(s, 5, r->used);
	bind_str(s, 6, r->approved_by);
	bind_str(s, 7, r->verified_with);
	rc = stmt_exec(c, s, "unlock insert", NULL);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(c->db);
	return rc;
}

/*
 * The newest approval (highest id) of the card with that code hash,
 * used and expired ones too: the caller decides what they allow.
 */
static int unlock_find(void *conn, int64_t card_id,
		       const uint8_t code_hash[32], mssl_unlock_cb cb,
		       void *ud)
{
	struct get_ctx g = { unlock_row, (void *)cb, ud, 0 };
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_UNLOCK_FIND, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, card_id);
	sqlite3_bind_blob(s, 2, code_hash, 32, SQLITE_STATIC);
	rc = stmt_each(conn, s, "unlock find", get_row, NULL, &g);
	if (!rc && !g.found)
		rc = no_secret(conn, "unlock find", "unlock approval");
	return rc;
}

static int unlock_set_used(void *conn, int64_t id, int used)
{
	sqlite3_stmt *s = NULL;
	int rc = stmt_get(conn, S_UNLOCK_SET_USED, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, used);
	return update_id(conn, s, id, "unlock set used", NULL);
}

/* ---------------------------------------------------------------------
 * Plugin: configuration, init, fini
 * ------------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *sql;
} sync_modes[] = {
	{ "off", "PRAGMA synchronous=OFF" },
	{ "normal", "PRAGMA synchronous=NORMAL" },
	{ "full", "PRAGMA synchronous=FULL" },
	{ "extra", "PRAGMA synchronous=EXTRA" },
};

static int config_synchronous(struct store *st)
{
	const char *v = st->host->config_get(st->hctx, "synchronous");
	size_t i;

	if (!v)
		/* Durability of every committed charge by default. */
		v = "full";
	for (i = 0; i < sizeof(sync_modes) / sizeof(sync_modes[0]); i++) {
		if (strcasecmp(v, sync_modes[i].name) == 0) {
			st->synchronous_sql = sync_modes[i].sql;
			st->full = strcasecmp(v, "full") == 0;
			st->lazy_pragma = st->full ||
					  strcasecmp(v, "extra") == 0;
			return 0;
		}
	}
	return st->host->config_error(st->hctx, "synchronous",
				      "'%s' must be one of off, normal, full, "
				      "extra", v);
}

static int config_busy_timeout(struct store *st)
{
	const char *v = st->host->config_get(st->hctx, "busy_timeout_ms");
	char *end = NULL;
	long n;

	st->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno || *end != '\0' || n < 0 ||
	    n > MAX_BUSY_TIMEOUT_MS)
		return st->host->config_error(st->hctx, "busy_timeout_ms",
					      "'%s' must be an integer from 0 "
					      "to %d", v, MAX_BUSY_TIMEOUT_MS);
	st->busy_timeout_ms = (int)n;
	return 0;
}

static int config_path(struct store *st)
{
	const char *v = st->host->config_get(st->hctx, "path");

	if (!v || !v[0])
		return st->host->config_error(st->hctx, "path",
					      "the store's file name is "
					      "required");
	st->path = st->host->strdup(st->hctx, v);
	return st->path ? 0 : MSSL_ENOMEM;
}

static void store_fini(void *state)
{
	struct store *st = state;

	if (!st)
		return;
	group_detach(st);
	st->host->free(st->hctx, st->path);
	st->host->free(st->hctx, st);
}

static int store_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct store *st;
	int rc;

	*state = NULL;
	/* Connections are opened NOMUTEX: SQLite must be thread-capable. */
	if (!sqlite3_threadsafe()) {
		host->error(hctx, MSSL_EPLUGIN, "store.threads",
			    "sqlite: library built without thread support");
		return MSSL_EPLUGIN;
	}
	st = host->alloc(hctx, sizeof(*st));
	if (!st)
		return MSSL_ENOMEM;
	memset(st, 0, sizeof(*st));
	st->host = host;
	st->hctx = hctx;
	rc = config_path(st);
	if (!rc)
		rc = config_synchronous(st);
	if (!rc)
		rc = config_busy_timeout(st);
	if (rc) {
		store_fini(st);
		return rc;
	}
	*state = st;
	return 0;
}

static const struct mssl_store_ops store_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_store_ops),
	.open = conn_open,
	.close = conn_close,
	.begin = conn_begin,
	.commit = conn_commit,
	.rollback = conn_rollback,
	.schema_version = conn_schema_version,
	.account_insert = account_insert,
	.account_update = account_update,
	.account_get = account_get,
	.account_each = account_each,
	.domain_insert = domain_insert,
	.domain_delete = domain_delete,
	.domain_find = domain_find,
	.domain_each = domain_each,
	.contact_insert = contact_insert,
	.contact_each = contact_each,
	.ledger_insert = ledger_insert,
	.ledger_balance = ledger_balance,
	.ledger_each = ledger_each,
	.audit_insert = audit_insert,
	.audit_head = audit_head,
	.audit_each = audit_each,
	.notice_insert = notice_insert,
	.notice_each = notice_each,
	.blocked_key_insert = blocked_key_insert,
	.blocked_key_get = blocked_key_get,
	.cert_insert = cert_insert,
	.cert_get = cert_get,
	.cert_finish = cert_finish,
	.cert_revoke = cert_revoke,
	.cert_each = cert_each,
	.cert_by_key = cert_by_key,
	.term_get = term_get,
	.term_put = term_put,
	.counter_next = counter_next,
	.mail_insert = mail_insert,
	.mail_due = mail_due,
	.mail_sent = mail_sent,
	.mail_retry = mail_retry,
	.person_insert = person_insert,
	.person_get = person_get,
	.person_each = person_each,
	.person_set_status = person_set_status,
	.card_insert = card_insert,
	.card_get = card_get,
	.card_by_cert = card_by_cert,
	.card_by_serial = card_by_serial,
	.card_each = card_each,
	.card_set_state = card_set_state,
	.challenge_insert = challenge_insert,
	.challenge_take = challenge_take,
	.session_insert = session_insert,
	.session_get = session_get,
	.session_touch = session_touch,
	.session_delete = session_delete,
	.session_delete_card = session_delete_card,
	.login_failure_add = login_failure_add,
	.login_failure_count = login_failure_count,
	.login_failure_clear = login_failure_clear,
	.login_purge = login_purge,
	.unlock_insert = unlock_insert,
	.unlock_find = unlock_find,
	.unlock_set_used = unlock_set_used,
	.ledger_reserial = ledger_reserial,
	.remind_due = remind_due,
	.remind_insert = remind_insert,
	.remind_each = remind_each,
	.cert_match = cert_match,
};

static const char *const config_keys[] = {
	"path",
	"synchronous",
	"busy_timeout_ms",
	NULL,
};

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_STORE,
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "store-sqlite",
	.version = "1",
	.description = "SQLite store (one file, WAL)",
	.init = store_init,
	.fini = store_fini,
	.ops = &store_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
