/*
 * libmssl: self-managed SSL certificate issuance.
 *
 * Conventions (see doc/ARCHITECTURE.md):
 *  - Functions return 0 on success or a negative MSSL_E... code, and fill
 *    an optional mssl_error with a stable id, the field concerned and the
 *    message in English and Traditional Chinese.
 *  - Every operation takes an mssl_actor.  The library checks the actor's
 *    role and account and appends an audit record for every operation,
 *    refused or not; a failed audit write fails the operation.
 *  - const char * results are borrowed from their owner; char * and
 *    *_info results are the caller's, freed with the matching _free.
 *  - An mssl_ctx may be used from several threads at once; an mssl_error
 *    or mssl_actor by one thread at a time.
 */
#ifndef MSSL_H
#define MSSL_H

#include <stddef.h>
#include <stdint.h>
#include <mssl/errors.h>
#include <mssl/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MSSL_API __attribute__((visibility("default")))
#else
#define MSSL_API
#endif

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------ */

/*
 * mssl_strerror - short English text for a status code.
 * Returns a static string; "unknown error" for a code not in the list.
 * Thread-safe.
 */
MSSL_API const char *mssl_strerror(int code);

/*
 * mssl_err_name - the code's name, e.g. "MSSL_EINVAL".
 * Returns a static string; "MSSL_UNKNOWN" for a code not in the list.
 * Thread-safe.
 */
MSSL_API const char *mssl_err_name(int code);

typedef struct mssl_error mssl_error;

/* Languages of messages. */
enum mssl_lang {
	MSSL_LANG_LOCALE = 0, /* the calling program's LC_MESSAGES */
	MSSL_LANG_EN = 1,
	MSSL_LANG_ZH_TW = 2,
};

/*
 * mssl_error_new - an empty error detail; free with mssl_error_free.
 * Returns NULL when out of memory.
 */
MSSL_API mssl_error *mssl_error_new(void);

/* mssl_error_free - free an error detail; accepts NULL. */
MSSL_API void mssl_error_free(mssl_error *err);

/* mssl_error_clear - forget the recorded error. */
MSSL_API void mssl_error_clear(mssl_error *err);

/* mssl_error_code - the MSSL_E... code recorded, 0 when none. */
MSSL_API int mssl_error_code(const mssl_error *err);

/*
 * mssl_error_id - stable dotted id of the rule or failure, e.g.
 * "account.id_checksum".  Borrowed; "" when none.
 */
MSSL_API const char *mssl_error_id(const mssl_error *err);

/* mssl_error_field - input field concerned, e.g. "id"; NULL when none. */
MSSL_API const char *mssl_error_field(const mssl_error *err);

/*
 * mssl_error_message - the message in the given language (enum mssl_lang).
 * Borrowed; lives until the error is cleared or freed.  "" when none.
 */
MSSL_API const char *mssl_error_message(const mssl_error *err, int lang);

/*
 * mssl_error_set - record an error in err (may be NULL), for libraries
 * built on libmssl (libmssl-token).  'msgid' is an English printf format
 * from the "mssl" gettext domain: the message is formatted as written and
 * from its zh_TW translation.  'id' is a stable dotted id, 'field' the
 * input concerned (may be NULL).  Returns code.  Thread-safe for distinct
 * err objects.
 */
MSSL_API int mssl_error_set(mssl_error *err, int code, const char *id,
			    const char *field, const char *msgid, ...)
	MSSL_PRINTF(5, 6);

/* ---------------------------------------------------------------------
 * Context
 * ------------------------------------------------------------------ */

typedef struct mssl_ctx mssl_ctx;

/*
 * mssl_ctx_new - an empty context: no configuration, nothing loaded.
 * Returns 0 or MSSL_ENOMEM.  Free with mssl_ctx_free.
 */
MSSL_API int mssl_ctx_new(mssl_ctx **out);

/*
 * mssl_ctx_add_builtin - register a plugin linked into the program.
 * Built-ins go through the same checks as plugins loaded from files and
 * take precedence over a file of the same name.  Call before mssl_ctx_open.
 * Returns 0, MSSL_EINVAL, MSSL_ESTATE (already open), MSSL_EEXIST (a
 * built-in of that name is already registered) or MSSL_ENOMEM.
 */
MSSL_API int mssl_ctx_add_builtin(mssl_ctx *ctx, mssl_plugin_entry_fn entry);

/*
 * mssl_ctx_load_config - read an INI configuration file (mssl.conf(5)).
 * An unknown section or key or a bad value fails with MSSL_ECONFIG and a
 * message naming the file, line and key.  Call before mssl_ctx_open.
 */
MSSL_API int mssl_ctx_load_config(mssl_ctx *ctx, const char *path,
				  mssl_error *err);

/*
 * mssl_ctx_open - load the configured plugins, open the store and bring
 * its schema up to date.  Plugin refusals name the file and versions.
 */
MSSL_API int mssl_ctx_open(mssl_ctx *ctx, mssl_error *err);

/*
 * mssl_ctx_open_file - mssl_ctx_new + mssl_ctx_load_config + mssl_ctx_open.
 * On failure *out is NULL.
 */
MSSL_API int mssl_ctx_open_file(const char *config_path, mssl_ctx **out,
				mssl_error *err);

/* mssl_ctx_free - close the store, unload plugins, free; accepts NULL. */
MSSL_API void mssl_ctx_free(mssl_ctx *ctx);

/*
 * mssl_ctx_set_clock - replace the clock (seconds since the epoch), e.g.
 * for tests.  NULL restores the system clock.  Not thread-safe: call before
 * sharing the context.
 */
MSSL_API void mssl_ctx_set_clock(mssl_ctx *ctx, int64_t (*now)(void *ud),
				 void *ud);

/*
 * mssl_ctx_set_log - receive log lines (enum mssl_log_level) instead of
 * stderr.  Not thread-safe: call before sharing the context.
 */
MSSL_API void mssl_ctx_set_log(mssl_ctx *ctx,
			       void (*log)(void *ud, int level,
					   const char *msg),
			       void *ud);

/* ---------------------------------------------------------------------
 * Actors: who asks for an operation
 * ------------------------------------------------------------------ */

typedef enum mssl_role {
	MSSL_ROLE_NONE = 0,
	MSSL_ROLE_OPERATOR = 1, /* the CA's staff */
	MSSL_ROLE_MANAGER = 2, /* of one account */
	MSSL_ROLE_AUDITOR = 3, /* of one account, read only */
} mssl_role;

typedef struct mssl_actor mssl_actor;

/*
 * mssl_actor_new - describe who acts.  'name' is a login or person name;
 * 'account_id' is the actor's own account (required for manager and
 * auditor, ignored for operator); 'remote' says where from ("local:uid=0",
 * an IP address).  Strings are copied.  Returns NULL on bad arguments or
 * out of memory.
 */
MSSL_API mssl_actor *mssl_actor_new(mssl_role role, const char *name,
				    const char *account_id,
				    const char *remote);

/* mssl_actor_free - accepts NULL. */
MSSL_API void mssl_actor_free(mssl_actor *actor);

/* mssl_role_name - "operator", "manager", "auditor" or "none"; static. */
MSSL_API const char *mssl_role_name(mssl_role role);

/* ---------------------------------------------------------------------
 * Input checks (pure; no actor, no audit)
 * ------------------------------------------------------------------ */

/*
 * mssl_ubn_check - is 'ubn' a valid 統一編號 (8 digits, checksum)?
 * Returns 0 or MSSL_EINPUT with the rule in err.
 */
MSSL_API int mssl_ubn_check(const char *ubn, mssl_error *err);

/*
 * mssl_account_id_check - is 'id' "<UBN>-<NN>" with a valid UBN?
 * Returns 0 or MSSL_EINPUT with the rule in err.
 */
MSSL_API int mssl_account_id_check(const char *id, mssl_error *err);

/*
 * mssl_domain_check - may 'name' be agreed as a domain?  (LDH DNS name,
 * not an IP, not internationalised, not a public suffix.)  On success, when
 * 'normalised' is not NULL, it receives the lower-cased name (free with
 * mssl_free).  Returns 0, MSSL_EINPUT or MSSL_ENOMEM.
 */
MSSL_API int mssl_domain_check(mssl_ctx *ctx, const char *name,
			       char **normalised, mssl_error *err);

/*
 * mssl_email_check - is 'email' a syntactically valid address
 * (local@domain, ASCII, domain an LDH name with a dot)?  'field' names the
 * input in the error.  Returns 0 or MSSL_EINPUT.
 */
MSSL_API int mssl_email_check(const char *email, const char *field,
			      mssl_error *err);

/*
 * mssl_country_check - is 'code' an ISO 3166-1 alpha-2 code (upper case)?
 * 'field' names the input in the error.  Returns 0 or MSSL_EINPUT.
 */
MSSL_API int mssl_country_check(mssl_ctx *ctx, const char *code,
				const char *field, mssl_error *err);

/* mssl_free - free memory returned by libmssl; accepts NULL. */
MSSL_API void mssl_free(void *p);

/* ---------------------------------------------------------------------
 * Accounts (operator creates and changes; members read their own)
 * ------------------------------------------------------------------ */

/* What an operator gives to create an account. */
typedef struct mssl_account_spec {
	const char *id; /* "70759028-01" */
	const char *org_name_en; /* the only value subject O may take */
	const char *org_name_zh;
	uint32_t products; /* MSSL_PRODUCT_* */
	const char *ev_country; /* required with EV */
	const char *ev_state;
	const char *ev_locality;
	const char *ev_category; /* required with EV */
	/* The 作業主管 (supervisor), required. */
	const char *supervisor_name;
	const char *supervisor_email;
	const char *supervisor_phone;
} mssl_account_spec;

/* A contact, as given and as returned. */
typedef struct mssl_contact {
	int64_t id;
	const char *kind; /* "supervisor", "technical", "billing", "other" */
	const char *name;
	const char *email;
	const char *phone;
} mssl_contact;

/*
 * An account as returned.  Allocated by the library; add members at the
 * end only (programs never allocate it).
 */
typedef struct mssl_account_info {
	const char *id;
	const char *org_name_en;
	const char *org_name_zh;
	uint32_t products;
	const char *ev_country;
	const char *ev_state;
	const char *ev_locality;
	const char *ev_category;
	int status; /* enum mssl_account_status */
	int64_t created;
	int64_t balance; /* cert-years */
	size_t n_domains;
	const char *const *domains; /* sorted */
	size_t n_contacts;
	const mssl_contact *contacts;
} mssl_account_info;

/* EV business categories (CA/B Forum EV Guidelines). */
#define MSSL_EV_PRIVATE "Private Organization"
#define MSSL_EV_GOVERNMENT "Government Entity"
#define MSSL_EV_BUSINESS "Business Entity"
#define MSSL_EV_NON_COMMERCIAL "Non-Commercial Entity"

/*
 * mssl_products_parse - "ssl,wildcard,ev" to MSSL_PRODUCT_* bits.
 * Returns 0 or MSSL_EINPUT naming 'field'.
 */
MSSL_API int mssl_products_parse(const char *text, const char *field,
				 uint32_t *out, mssl_error *err);

/*
 * mssl_products_format - bits to "ssl,wildcard,ev"; caller frees with
 * mssl_free.  NULL when out of memory.
 */
MSSL_API char *mssl_products_format(uint32_t products);

/*
 * mssl_account_create - create an account with its supervisor contact.
 * Operator only.  Every field is checked first; bad input writes nothing.
 */
MSSL_API int mssl_account_create(mssl_ctx *ctx, const mssl_actor *actor,
				 const mssl_account_spec *spec,
				 mssl_error *err);

/*
 * mssl_account_set - change one attribute: "org_name_en", "org_name_zh",
 * "products", "ev_country", "ev_state", "ev_locality", "ev_category".
 * An empty value clears an optional attribute.  Operator only.
 */
MSSL_API int mssl_account_set(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *id, const char *key,
			      const char *value, mssl_error *err);

/*
 * mssl_account_suspend - suspend (suspend != 0) or reactivate an account.
 * 'reason' is required and recorded.  Operator only.
 */
MSSL_API int mssl_account_suspend(mssl_ctx *ctx, const mssl_actor *actor,
				  const char *id, int suspend,
				  const char *reason, mssl_error *err);

/*
 * mssl_account_get - one account with balance, domains and contacts.
 * Operator: any account; manager, auditor: their own.  *out is the
 * caller's, freed with mssl_account_info_free.
 */
MSSL_API int mssl_account_get(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *id, mssl_account_info **out,
			      mssl_error *err);

/* mssl_account_info_free - accepts NULL. */
MSSL_API void mssl_account_info_free(mssl_account_info *info);

typedef int (*mssl_account_info_cb)(void *ud, const mssl_account_info *a);

/*
 * mssl_account_list - every account in id order (domains and contacts not
 * filled).  Operator only.  The info is borrowed for the callback's
 * duration; a non-zero return from cb stops the listing and is returned.
 */
MSSL_API int mssl_account_list(mssl_ctx *ctx, const mssl_actor *actor,
			       mssl_account_info_cb cb, void *ud,
			       mssl_error *err);

/* ---------------------------------------------------------------------
 * Agreed domains and contacts
 * ------------------------------------------------------------------ */

/* Flags for mssl_domain_add. */
#define MSSL_DOMAIN_FORCE 0x1u /* agree even if another account holds it */

/*
 * mssl_domain_add - agree a domain for an account after mssl_domain_check.
 * A domain agreed to another account is refused (MSSL_EEXIST) unless
 * MSSL_DOMAIN_FORCE is given (recorded in the audit log).  Operator only.
 */
MSSL_API int mssl_domain_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *name,
			     unsigned flags, mssl_error *err);

/* mssl_domain_remove - Operator only.  MSSL_ENOENT when not agreed. */
MSSL_API int mssl_domain_remove(mssl_ctx *ctx, const mssl_actor *actor,
				const char *account_id, const char *name,
				mssl_error *err);

/*
 * mssl_domain_list - the account's agreed domains in name order.
 * Operator: any account; manager, auditor: their own.  Records borrowed
 * for the callback's duration.
 */
MSSL_API int mssl_domain_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, mssl_domain_cb cb,
			      void *ud, mssl_error *err);

/*
 * mssl_contact_add - add a contact ('id' ignored); name and a valid
 * e-mail required.  Operator only.  *id_out (may be NULL) gets its id.
 */
MSSL_API int mssl_contact_add(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const mssl_contact *c,
			      int64_t *id_out, mssl_error *err);

typedef int (*mssl_contact_list_cb)(void *ud, const mssl_contact *c);

/* mssl_contact_list - Operator: any account; members: their own. */
MSSL_API int mssl_contact_list(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id,
			       mssl_contact_list_cb cb, void *ud,
			       mssl_error *err);

/* ---------------------------------------------------------------------
 * Cert-year ledger (張年數)
 * ------------------------------------------------------------------ */

/* mssl_ledger_kind_name - "top-up", "charge", "refund", "adjustment". */
MSSL_API const char *mssl_ledger_kind_name(int kind);

/*
 * mssl_topup - sell 'years' (> 0) cert-years to an account.  Operator
 * only.  *balance_after (may be NULL) receives the new balance.
 */
MSSL_API int mssl_topup(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, int64_t years,
			const char *memo, int64_t *balance_after,
			mssl_error *err);

/*
 * mssl_adjust - correct the balance by 'delta' (non-zero, either sign) with
 * a required memo saying why.  The balance never goes below zero
 * (MSSL_EBALANCE).  Operator only.
 */
MSSL_API int mssl_adjust(mssl_ctx *ctx, const mssl_actor *actor,
			 const char *account_id, int64_t delta,
			 const char *memo, int64_t *balance_after,
			 mssl_error *err);

/*
 * mssl_ledger_list - the account's ledger entries; newest first when
 * newest_first; 'limit' 0 for all.  Operator: any; members: their own.
 */
MSSL_API int mssl_ledger_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, int newest_first,
			      int64_t offset, int64_t limit, mssl_ledger_cb cb,
			      void *ud, mssl_error *err);

/*
 * mssl_ledger_check - verify, for one account or every account (NULL),
 * that each entry's balance_after is the previous one plus its delta, never
 * negative, and that the balance equals the sum of entries.  Returns 0 or
 * MSSL_ELEDGER naming the account and entry.  Operator only.
 * *n_checked (may be NULL) receives the number of entries checked.
 */
MSSL_API int mssl_ledger_check(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id, int64_t *n_checked,
			       mssl_error *err);

/* ---------------------------------------------------------------------
 * Notices (operator publishes; everyone reads)
 * ------------------------------------------------------------------ */

/*
 * mssl_notice_add - publish a notice to one account or, with account_id
 * NULL, to all.  'expires' 0 for never.  Operator only.
 */
MSSL_API int mssl_notice_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *title,
			     const char *body, int64_t expires,
			     int64_t *id_out, mssl_error *err);

/*
 * mssl_notice_list - current notices newest first.  Operator: all
 * (account_id NULL) or one account's; members: their own account's and
 * those for everyone.
 */
MSSL_API int mssl_notice_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, mssl_notice_cb cb,
			      void *ud, mssl_error *err);

/* ---------------------------------------------------------------------
 * Audit log
 * ------------------------------------------------------------------ */

/*
 * mssl_audit_verify - recompute the hash chain from the first record.
 * Returns 0 with *n_records (may be NULL) set, or MSSL_ETAMPER with err
 * naming the first broken record and how it is broken.  Operator only.
 */
MSSL_API int mssl_audit_verify(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t *n_records, mssl_error *err);

/*
 * mssl_audit_export - every record with seq >= from_seq in order.
 * Records borrowed for the callback's duration.  Operator only.
 */
MSSL_API int mssl_audit_export(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t from_seq, mssl_audit_cb cb, void *ud,
			       mssl_error *err);

/* ---------------------------------------------------------------------
 * Certificate requests: parsing and validation
 * ------------------------------------------------------------------ */

/* Largest CSR accepted, PEM or DER (a CSR is a few kilobytes at most). */
#define MSSL_CSR_MAX_SIZE (64 * 1024)

typedef struct mssl_csr mssl_csr;

/*
 * mssl_csr_parse - parse one PKCS#10 request, PEM or DER, and verify its
 * self-signature (proof of possession of the key).  Refuses, each with its
 * own error id (MSSL_EINPUT): empty or oversized input ("csr.empty",
 * "csr.too_large"), something that is not a CSR ("csr.garbage"), another
 * kind of PEM block ("csr.wrong_type"), bad base64 ("csr.base64"), a PEM
 * block cut short ("csr.truncated"), data after the request
 * ("csr.trailing_data"), several requests ("csr.multiple"), a bad
 * signature ("csr.signature"), unreadable names ("csr.encoding").  Text
 * before a PEM block (as certtool and openssl -text write) is ignored.
 * *out is the caller's, freed with mssl_csr_free.  Thread-safe.
 */
MSSL_API int mssl_csr_parse(const void *data, size_t len, mssl_csr **out,
			    mssl_error *err);

/* mssl_csr_free - accepts NULL. */
MSSL_API void mssl_csr_free(mssl_csr *csr);

/*
 * mssl_csr_info - the parsed request: subject, SANs, key, DNS names.
 * Borrowed; lives as long as csr.
 */
MSSL_API const struct mssl_csr_info *mssl_csr_info(const mssl_csr *csr);

/* What is asked for, beside the CSR. */
typedef struct mssl_check_params {
	uint32_t product; /* exactly one MSSL_PRODUCT_* */
	const char *renewal_of; /* serial of the certificate renewed, or NULL */
} mssl_check_params;

/* One finding of the validation. */
typedef struct mssl_finding {
	int severity; /* enum mssl_severity */
	const char *code; /* stable, e.g. "domain.too_deep" */
	const char *field; /* e.g. "subject.O", "name", "key" */
	const char *value; /* may be NULL */
	const char *message_en;
	const char *message_zh;
	const char *source; /* the validator (or "core") that found it */
} mssl_finding;

/* Whether a DNS name is accepted, and by which rule. */
typedef struct mssl_verdict {
	const char *name;
	int accepted; /* accepted by a rule and no error finding names it */
	const char *rule_en; /* "equals agreed domain twca.com.tw", or NULL */
	const char *rule_zh;
} mssl_verdict;

typedef struct mssl_report mssl_report;

/*
 * mssl_check - run the whole validation of a request for an account: the
 * core's rules (product bought, renewal CN, blocked keys) and every
 * configured validator, in order, collecting every finding.  This is the
 * path issuance takes.  Operator or the account's manager.
 *
 * Returns 0 when the request is issuable, MSSL_EREJECTED when a finding
 * of severity error stops it; in both cases *out is the report (the
 * caller's, freed with mssl_report_free).  Other errors leave *out NULL.
 * With no validator configured every request is refused (fail closed).
 */
MSSL_API int mssl_check(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, const mssl_csr *csr,
			const mssl_check_params *params, mssl_report **out,
			mssl_error *err);

/* mssl_report_free - accepts NULL. */
MSSL_API void mssl_report_free(mssl_report *report);

/* mssl_report_issuable - 1 when no finding has severity error. */
MSSL_API int mssl_report_issuable(const mssl_report *report);

/* Findings in the order found; borrowed from the report. */
MSSL_API size_t mssl_report_n_findings(const mssl_report *report);
MSSL_API const mssl_finding *mssl_report_finding(const mssl_report *report,
						 size_t i);

/* One verdict per DNS name of the request, in the request's order. */
MSSL_API size_t mssl_report_n_verdicts(const mssl_report *report);
MSSL_API const mssl_verdict *mssl_report_verdict(const mssl_report *report,
						 size_t i);

/*
 * mssl_report_quote - what issuing the checked request for 'years' would
 * charge and give, as the store stood when mssl_check ran (issuance
 * computes it again in its own transaction):
 *   *cert_years  the cert-years charged: 'years' when the CN's paid term
 *                has ended (or, for a renewal, is shorter than one
 *                certificate), 0 when a reissue falls inside it;
 *   *not_before, *not_after  the certificate's validity (Unix time): the
 *                policy maximum, cut at the end of the paid term;
 *   *term_until  the end of the CN's paid term afterwards.
 * Any out pointer may be NULL.  Returns 0; MSSL_EINPUT (field "years")
 * when 'years' is not 1 to [issuance] max_years; MSSL_ESTATE when the
 * report holds no quote (the request has no CN, or 'report' did not come
 * from mssl_check).
 */
MSSL_API int mssl_report_quote(const mssl_report *report, int years,
			       int *cert_years, int64_t *not_before,
			       int64_t *not_after, int64_t *term_until,
			       mssl_error *err);

/*
 * mssl_key_block - put a key (SHA-256 of its SubjectPublicKeyInfo) on the
 * blocked list: no request with it will pass validation.  'source' says
 * where it came from ("operator", a weak-key list's name); 'reason' may be
 * NULL.  MSSL_EEXIST when already listed.  Operator only.
 */
MSSL_API int mssl_key_block(mssl_ctx *ctx, const mssl_actor *actor,
			    const uint8_t spki_sha256[32], const char *source,
			    const char *reason, mssl_error *err);

/* ---------------------------------------------------------------------
 * Issuance
 * ------------------------------------------------------------------ */

/* The options of SPEC 4.4, beside the CSR. */
typedef struct mssl_issue_params {
	uint32_t product; /* exactly one MSSL_PRODUCT_* */
	int years; /* cert-years of the term, 1 to [issuance] max_years */
	const char *server_vendor; /* one of [issuance] server_vendors */
	const char *passphrase; /* 8-128 characters; kept only as a hash */
	const char *tech_name; /* technical contact: notices go there */
	const char *tech_email;
	const char *tech_phone; /* may be NULL */
	const char *note; /* may be NULL */
	const char *seal_name; /* required for a CN never issued before */
	const char *renewal_of; /* serial renewed, or NULL */
	const char *idempotency_key; /* a retry returns the same certificate */
} mssl_issue_params;

typedef struct mssl_cert mssl_cert;

/*
 * mssl_issue - validate and issue one certificate, crash-safely: it is
 * recorded "pending" and charged before it is signed, and refunded if
 * anything fails after.  Operator or the account's manager.  Returns 0
 * with *out the certificate (free with mssl_cert_free); MSSL_EREJECTED
 * with *report (when report is not NULL) holding every finding;
 * MSSL_EBALANCE when the cert-years do not suffice; other errors.
 * With an idempotency key already used by an issued certificate, returns
 * that certificate and charges nothing.
 */
MSSL_API int mssl_issue(mssl_ctx *ctx, const mssl_actor *actor,
			const char *account_id, const mssl_csr *csr,
			const mssl_issue_params *params, mssl_cert **out,
			mssl_report **report, mssl_error *err);

/*
 * mssl_renewal_list - the account's issued certificates that expire within
 * [issuance] renewal_window_days (and have not expired), oldest first:
 * what the renew screen offers.  Operator or the account's manager.
 * Records borrowed for the callback's duration.
 */
MSSL_API int mssl_renewal_list(mssl_ctx *ctx, const mssl_actor *actor,
			       const char *account_id, mssl_cert_cb cb,
			       void *ud, mssl_error *err);

/* mssl_cert_record - the certificate's stored record; borrowed. */
MSSL_API const struct mssl_cert_rec *mssl_cert_record(const mssl_cert *c);

/* mssl_cert_free - accepts NULL. */
MSSL_API void mssl_cert_free(mssl_cert *c);

/*
 * mssl_cert_resolve_pending - settle certificates left "pending" longer
 * than [issuance] pending_timeout_s by an interrupted issuance: each
 * becomes "failed" and its charge is refunded.  Run at start-up.
 * Operator only.
 */
MSSL_API int mssl_cert_resolve_pending(mssl_ctx *ctx, const mssl_actor *actor,
				       int64_t *n_resolved, mssl_error *err);

/* ---------------------------------------------------------------------
 * Revocation, CRL, downloads
 * ------------------------------------------------------------------ */

/* RFC 5280 CRLReason values a subscriber may give (CA/B Forum). */
#define MSSL_REVOKE_UNSPECIFIED 0
#define MSSL_REVOKE_KEY_COMPROMISE 1
#define MSSL_REVOKE_AFFILIATION_CHANGED 3
#define MSSL_REVOKE_SUPERSEDED 4
#define MSSL_REVOKE_CESSATION_OF_OPERATION 5

/*
 * mssl_revoke_reason_parse - "unspecified", "keyCompromise",
 * "affiliationChanged", "superseded" or "cessationOfOperation" (case
 * does not matter) to its CRLReason value; MSSL_EINPUT for any other.
 */
MSSL_API int mssl_revoke_reason_parse(const char *name);

/* mssl_revoke_reason_name - the RFC 5280 name of a reason; static. */
MSSL_API const char *mssl_revoke_reason_name(int reason);

/*
 * mssl_cert_revoke - revoke an issued certificate of the account for one
 * of the reasons above (-1 means unspecified).  Inside [issuance]
 * refund_window_days of its issuance the cert-years it charged are
 * refunded and the CN's term ends; keyCompromise blocks its key.  Then
 * the CRL is regenerated when [issuance] crl_file is set (a failure there
 * is logged and audited, and does not undo the revocation).  Operator or
 * the account's manager.  MSSL_ENOENT: no such certificate of the
 * account; MSSL_ESTATE: not issued (pending, failed, revoked already).
 */
MSSL_API int mssl_cert_revoke(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const char *serial,
			      int reason, mssl_error *err);

/*
 * mssl_crl_generate - sign a full CRL of every revoked certificate with
 * the next CRL number, thisUpdate now and nextUpdate [issuance] crl_days
 * later, and write it to [issuance] crl_file when set (atomically).
 * *der (may be NULL) receives the DER, freed with mssl_free.  Operator
 * only.
 */
MSSL_API int mssl_crl_generate(mssl_ctx *ctx, const mssl_actor *actor,
			       uint8_t **der, size_t *len, mssl_error *err);

/*
 * mssl_cert_export - a certificate of the account for download, in
 * 'format': "pem" (the certificate), "chain" (the certificate then the CA
 * chain, PEM), "der", "p7b" (PKCS#7, certificates only, with the chain,
 * PEM) or "vendor" (chain for Apache and nginx, p7b for IIS and Tomcat,
 * else pem).  *buf (len bytes) and *filename (a name that says what it
 * is, e.g. "www.example.com_0a1b2c3d-chain.pem") are freed with
 * mssl_free.  Any role of the account.
 */
MSSL_API int mssl_cert_export(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id, const char *serial,
			      const char *format, char **buf, size_t *len,
			      char **filename, mssl_error *err);

/* ---------------------------------------------------------------------
 * E-mail notices
 * ------------------------------------------------------------------ */

/*
 * mssl_mail_flush - send the due messages of the mail outbox (queued by
 * issuance) through the [mail] SMTP server: at most 100 per call, each
 * marked sent, or failed and retried later ([mail] retry_s, doubling per
 * attempt up to a day), with an audit record mail.sent or mail.failed.
 * Messages that failed [mail] max_attempts times stay in the outbox and
 * are logged as a warning.  *sent and *failed (may be NULL) count this
 * call's messages.  Operator only.  MSSL_ESTATE when no [mail] server is
 * configured.
 */
MSSL_API int mssl_mail_flush(mssl_ctx *ctx, const mssl_actor *actor,
			     int64_t *sent, int64_t *failed, mssl_error *err);

/* ---------------------------------------------------------------------
 * Persons and their IC cards (SPEC §3, §8)
 * ------------------------------------------------------------------ */

/* A person of an account; strings borrowed for a callback's duration. */
struct mssl_person_info {
	int64_t id;
	const char *account_id;
	const char *name;
	const char *email;
	mssl_role role; /* MSSL_ROLE_MANAGER or MSSL_ROLE_AUDITOR */
	const char *status; /* "active", "suspended" */
	int64_t created;
};

/*
 * mssl_person_add - register a person of an account who will log in with
 * a card: a name, a valid e-mail address (unlock notices go there) and a
 * role, manager or auditor.  *id (may be NULL) receives the person's
 * number.  Operator only.
 */
MSSL_API int mssl_person_add(mssl_ctx *ctx, const mssl_actor *actor,
			     const char *account_id, const char *name,
			     const char *email, mssl_role role, int64_t *id,
			     mssl_error *err);

/*
 * mssl_person_suspend - suspend (suspend != 0) or reactivate a person;
 * a suspended person's sessions end and their cards cannot log in.
 * 'reason' is required and recorded.  Operator only.
 */
MSSL_API int mssl_person_suspend(mssl_ctx *ctx, const mssl_actor *actor,
				 int64_t person_id, int suspend,
				 const char *reason, mssl_error *err);

/*
 * mssl_person_list - the account's persons by number.  Operator, or any
 * role of the account.  A non-zero return from cb stops the listing and
 * is returned.
 */
MSSL_API int mssl_person_list(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *account_id,
			      int (*cb)(void *ud,
					const struct mssl_person_info *p),
			      void *ud, mssl_error *err);

/* A card and its holder; borrowed for a callback's duration. */
struct mssl_card_info {
	int64_t id;
	int64_t person_id;
	const char *account_id;
	const char *person_name;
	mssl_role role;
	const char *token_serial;
	/* "issued_pin", "active", "locked", "revoked", "suspended" */
	const char *state;
	uint8_t cert_sha256[32];
	int64_t created;
};

/*
 * mssl_card_list - the cards of an account's persons, by number.
 * Operator, or any role of the account.
 */
MSSL_API int mssl_card_list(mssl_ctx *ctx, const mssl_actor *actor,
			    const char *account_id,
			    int (*cb)(void *ud, const struct mssl_card_info *c),
			    void *ud, mssl_error *err);

/*
 * mssl_card_set_state - "suspended" (from active, issued_pin or locked),
 * "active" (back from suspended: the card returns as "issued_pin", so its
 * holder sets a new PIN at the next login) or "revoked" (final).  Every
 * session of the card ends.  'reason' is required and recorded.  Operator only.
 */
MSSL_API int mssl_card_set_state(mssl_ctx *ctx, const mssl_actor *actor,
				 int64_t card_id, const char *state,
				 const char *reason, mssl_error *err);

/* Length of a card's derived SO PIN (hex digits). */
#define MSSL_SO_PIN_LEN 16

/*
 * mssl_card_so_pin - the SO PIN of the card with this token serial:
 * HMAC-SHA-256 over the serial, keyed with the master secret in [cards]
 * master_secret_file, as MSSL_SO_PIN_LEN hex digits plus NUL into
 * so_pin.  The enrolment tool sets it on the card; the unlock flow
 * releases it once.  Operator only; audited (never the PIN itself).
 */
MSSL_API int mssl_card_so_pin(mssl_ctx *ctx, const mssl_actor *actor,
			      const char *token_serial,
			      char so_pin[MSSL_SO_PIN_LEN + 1],
			      mssl_error *err);

/*
 * mssl_card_certify - issue the card certificate for a key generated on
 * the card (spki: its DER SubjectPublicKeyInfo, RSA >= 2048 or ECDSA
 * P-256/P-384) with the internal card CA of [cards] (never the SSL
 * issuing CA), naming the person and the account, and register the card
 * to the person in state "issued_pin", in one transaction.  *cert (DER,
 * mssl_free) and *card_id (may be NULL) are the caller's.  Operator only.
 * MSSL_EEXIST when the serial already has a card that is not revoked.
 */
MSSL_API int mssl_card_certify(mssl_ctx *ctx, const mssl_actor *actor,
			       int64_t person_id, const char *token_serial,
			       const uint8_t *spki, size_t spki_len,
			       uint8_t **cert, size_t *cert_len,
			       int64_t *card_id, mssl_error *err);

/*
 * mssl_card_unlock_approve - after the operator confirmed the holder's
 * identity with the account's supervisor ('verified_with' names who):
 * mark the card locked, make a single-use unlock code (expires after
 * [cards] unlock_ttl_s, stored hashed) and queue an unlock notice with
 * the code to the holder's e-mail address.  *code (may be NULL; mssl_free)
 * gets the code for tests and for reading it out on the phone.
 * Operator only.
 */
MSSL_API int mssl_card_unlock_approve(mssl_ctx *ctx, const mssl_actor *actor,
				      int64_t card_id,
				      const char *verified_with, char **code,
				      mssl_error *err);

/*
 * mssl_card_unlock_begin - the holder's side: account ID, the card's
 * token serial and the unlock code.  When all three match an approval
 * that is unexpired and unused, the approval is consumed and the card's
 * SO PIN is written to so_pin: the client unblocks the card with it and
 * sets the new PIN, then calls mssl_card_unlock_done.  Any mismatch gives
 * the same refusal (MSSL_EPERM, card.unlock_refused) and is audited.
 */
MSSL_API int mssl_card_unlock_begin(mssl_ctx *ctx, const char *account_id,
				    const char *token_serial,
				    const char *code, const char *remote,
				    char so_pin[MSSL_SO_PIN_LEN + 1],
				    mssl_error *err);

/*
 * mssl_card_unlock_done - the card was unblocked with a new PIN chosen
 * by its holder: the card becomes active.  Same arguments as _begin,
 * whose approval it completes.
 */
MSSL_API int mssl_card_unlock_done(mssl_ctx *ctx, const char *account_id,
				   const char *token_serial, const char *code,
				   const char *remote, mssl_error *err);

/* ---------------------------------------------------------------------
 * Login: challenge, card signature, sessions (DESIGN.md "Login")
 * ------------------------------------------------------------------ */

#define MSSL_NONCE_LEN 32

/*
 * mssl_login_challenge - a fresh single-use nonce for a login to
 * 'account_id', valid until *expires ([login] challenge_ttl_s, default
 * 120 s).  The account need not exist: the answer does not tell.
 * Nothing is stored: the nonce carries its expiry and an HMAC under a key
 * derived from [cards] master_secret_file (random per context without
 * it); mssl_login records it as used.  Thread-safe.
 */
MSSL_API int mssl_login_challenge(mssl_ctx *ctx, const char *account_id,
				  const char *remote,
				  uint8_t nonce[MSSL_NONCE_LEN],
				  int64_t *expires, mssl_error *err);

/* What the card signs, and its signature. */
struct mssl_login_proof {
	const char *origin; /* "https://mssl.example.com" */
	const char *account_id;
	const uint8_t *nonce; /* MSSL_NONCE_LEN bytes */
	int64_t time; /* the client's clock, seconds */
	const uint8_t *cert; /* the card certificate, DER */
	size_t cert_len;
	/* RFC 9266 tls-exporter value when the server terminates TLS, else
	 * NULL/0 */
	const uint8_t *tls_exporter;
	size_t tls_exporter_len;
	const uint8_t *sig; /* over mssl_login_blob(); ignored there */
	size_t sig_len;
	int sig_alg; /* gnutls_sign_algorithm_t, as mssl_token_sign gives */
};

/*
 * mssl_login_blob - the canonical bytes a card signs: the context label
 * "mssl-login", version 1, origin, account ID, nonce, time, SHA-256 of
 * the card certificate and the tls-exporter value, each length-prefixed.
 * *blob (mssl_free) and *len are the caller's.  Pure; MSSL_EINVAL on a
 * missing member.
 */
MSSL_API int mssl_login_blob(const struct mssl_login_proof *p,
			     uint8_t **blob, size_t *len);

/* A session; the caller's, freed with mssl_session_info_free. */
typedef struct mssl_session_info {
	char *token; /* only from mssl_login: give it to the client */
	char *account_id;
	char *person_name;
	int64_t person_id;
	int64_t card_id;
	mssl_role role;
	int pin_change_only; /* only the PIN change is allowed */
	int64_t created;
	int64_t expires; /* absolute end */
	int64_t idle_expires; /* ends earlier when unused until then */
} mssl_session_info;

/* mssl_session_info_free - wipes the token; accepts NULL. */
MSSL_API void mssl_session_info_free(mssl_session_info *s);

/*
 * mssl_login - check a signed login and open a session.  Checks: the
 * nonce was issued for this account, is unexpired and unused (consumed
 * atomically), origin is [login] origin, the time is within
 * [login] clock_skew_s, the certificate was issued by the card CA and is
 * registered to an active person of the account, the card is neither
 * locked, suspended nor revoked, the account is active, and the
 * signature verifies.  A card still on its issued PIN gets a session
 * that only allows the PIN change.  Every attempt is audited with the
 * real reason; the error shown (MSSL_EPERM, auth.login_failed) is the
 * same for every reason but throttling (MSSL_ESTATE, auth.throttled).
 */
MSSL_API int mssl_login(mssl_ctx *ctx, const struct mssl_login_proof *p,
			const char *remote, mssl_session_info **out,
			mssl_error *err);

/*
 * mssl_session_resume - the session of a token, touched; *actor (may be
 * NULL; mssl_actor_free) acts for the person with their role (a
 * PIN-change-only session's actor is refused every operation);
 * *info (may be NULL) describes the session.  MSSL_EPERM with
 * auth.session when the token is unknown, expired, idle too long, or its
 * person, card or account is no longer active.
 */
MSSL_API int mssl_session_resume(mssl_ctx *ctx, const char *token,
				 const char *remote, mssl_actor **actor,
				 mssl_session_info **info, mssl_error *err);

/* mssl_logout - end the session of a token; audited. */
MSSL_API int mssl_logout(mssl_ctx *ctx, const char *token,
			 const char *remote, mssl_error *err);

/*
 * mssl_pin_changed - the holder changed the card's PIN and proves it
 * with a fresh login proof (new challenge, signed after the change) by
 * the same card: the card becomes active (no longer on its issued PIN),
 * and every session of the card ends, this one too.
 */
MSSL_API int mssl_pin_changed(mssl_ctx *ctx, const char *token,
			      const struct mssl_login_proof *proof,
			      const char *remote, mssl_error *err);

/*
 * mssl_login_purge - drop expired challenges and sessions and failure
 * records older than the throttling window (a periodic job).
 */
MSSL_API int mssl_login_purge(mssl_ctx *ctx, mssl_error *err);

/* ---------------------------------------------------------------------
 * Programs' own configuration sections
 *
 * A program that links libmssl (mssld) reads its settings from the same
 * mssl.conf, in a section of its own.  It claims the section before
 * loading the file; the library then refuses keys the program did not
 * declare, like its own, and keeps every entry's line so the program's
 * complaints name file, line and key in both languages.
 * ------------------------------------------------------------------ */

/*
 * mssl_ctx_claim_section - declare that the program reads [section]
 * (lower-case letters, digits, '-', '_') with the keys in the
 * NULL-terminated 'keys' (copied).  Call before mssl_ctx_load_config.
 * At load, a key of that section not in 'keys' fails with MSSL_ECONFIG
 * ("config.unknown_key"), and so does the section when it is also the
 * section of a configured plugin ("config.claimed").  With 'keys' NULL
 * the section belongs to another program reading the same file (as
 * mssl-admin leaves [mssld] to mssld): it is accepted and its keys are
 * not checked.  The section may be absent from the file.  Not thread-safe: call before sharing the context.
 * Returns 0, MSSL_EINVAL (bad name or arguments), MSSL_ESTATE (config
 * already loaded), MSSL_EEXIST (claimed already, or one of the library's
 * own sections: mssl, issuance, mail) or MSSL_ENOMEM.
 */
MSSL_API int mssl_ctx_claim_section(mssl_ctx *ctx, const char *section,
				    const char *const *keys);

/*
 * mssl_ctx_config_get - the value of section.key as written in the loaded
 * file, or NULL when absent (or no file is loaded).  Borrowed from ctx;
 * lives until the context is freed or another file is loaded.
 * Thread-safe once the file is loaded.
 */
MSSL_API const char *mssl_ctx_config_get(const mssl_ctx *ctx,
					 const char *section,
					 const char *key);

/*
 * mssl_ctx_config_path - the loaded configuration file's path, or NULL.
 * Borrowed from ctx.
 */
MSSL_API const char *mssl_ctx_config_path(const mssl_ctx *ctx);

/*
 * mssl_ctx_config_int - section.key as a whole number in [min, max]; *out
 * is 'dflt' when the key is absent.  A bad value fails with MSSL_ECONFIG
 * ("config.range") naming file, line, key and the range, in English and
 * zh-TW.  Thread-safe once the file is loaded.
 */
MSSL_API int mssl_ctx_config_int(const mssl_ctx *ctx, const char *section,
				 const char *key, int64_t min, int64_t max,
				 int64_t dflt, int64_t *out, mssl_error *err);

/*
 * mssl_ctx_config_bool - section.key as yes/no (also true/false, on/off,
 * 1/0); *out is 1 or 0, 'dflt' when absent.  Anything else fails with
 * MSSL_ECONFIG ("config.bool") naming file, line and key.
 */
MSSL_API int mssl_ctx_config_bool(const mssl_ctx *ctx, const char *section,
				  const char *key, int dflt, int *out,
				  mssl_error *err);

/*
 * mssl_ctx_config_error - record in err (may be NULL) a complaint about
 * section.key (key may be NULL: the section itself) of the loaded file:
 * 'msgid' is an English printf format from the "mssl" gettext domain
 * saying the rule, formatted in English and zh-TW and prefixed with
 * "file:line: [section] key: ".  'id' is a stable dotted id.  Returns
 * MSSL_ECONFIG.  Thread-safe for distinct err objects.
 */
MSSL_API int mssl_ctx_config_error(const mssl_ctx *ctx, mssl_error *err,
				   const char *section, const char *key,
				   const char *id, const char *msgid, ...)
	MSSL_PRINTF(6, 7);

/*
 * mssl_ctx_crl_file - [issuance] crl_file, where the CRL is written (and
 * where a server reads it to publish it), or NULL when not set.
 * Borrowed from ctx.  Thread-safe.
 */
MSSL_API const char *mssl_ctx_crl_file(const mssl_ctx *ctx);

/* ---------------------------------------------------------------------
 * Queries for the account user's screens (SPEC §3.5, §7)
 * ------------------------------------------------------------------ */

/*
 * mssl_role_allows - may 'role' perform the operation named 'action'
 * (the audit action name, e.g. "cert.issue", "ledger.show") at all?
 * The account check comes on top when the operation runs.  For menus:
 * the one table of roles is libmssl's.  Returns 1 or 0 (0 for an
 * unknown action).  Pure; thread-safe.
 */
MSSL_API int mssl_role_allows(mssl_role role, const char *action);

/* Which of the account's certificates mssl_cert_list hands over. */
typedef struct mssl_cert_query {
	const char *cn_contains; /* CN substring, any case; NULL: any */
	const char *domain; /* CN equal to it or under it; NULL: any */
	const char *state; /* "pending", "issued", "revoked", "failed" */
	int newest_first; /* by creation; else oldest first */
	int64_t offset; /* matches skipped first */
	int64_t limit; /* at most this many; 0: all */
} mssl_cert_query;

/*
 * mssl_cert_list - the account's certificates matching q (NULL: all),
 * one callback per certificate, streamed from the store (a million rows
 * take no more memory than one).  The record is borrowed for the
 * callback's duration; a non-zero return stops the listing and is
 * returned.  Operator: any account; members: their own ("cert.list",
 * audited before the first row).  MSSL_EINPUT naming the field for a bad
 * state, offset or limit.
 */
MSSL_API int mssl_cert_list(mssl_ctx *ctx, const mssl_actor *actor,
			    const char *account_id, const mssl_cert_query *q,
			    mssl_cert_cb cb, void *ud, mssl_error *err);

/*
 * mssl_cert_get - one certificate of the account by serial: cb is
 * called once with its record (borrowed for the call) and its return is
 * returned.  MSSL_ENOENT (cert.not_found) when the account has no such
 * certificate, whoever else may have it.  Any role of the account.
 */
MSSL_API int mssl_cert_get(mssl_ctx *ctx, const mssl_actor *actor,
			   const char *account_id, const char *serial,
			   mssl_cert_cb cb, void *ud, mssl_error *err);

/* The home screen's figures; add members at the end only. */
typedef struct mssl_cert_stats {
	int64_t now; /* the time they were counted at */
	int64_t soon_days; /* the "expiring" window */
	int64_t balance; /* cert-years */
	int64_t issued; /* valid or expired, not revoked */
	int64_t expiring; /* issued, not expired, expiring within soon_days */
	int64_t expired; /* issued and past notAfter */
	int64_t revoked;
	int64_t pending;
	int64_t failed;
} mssl_cert_stats;

/*
 * mssl_cert_stats_get - count the account's certificates by state and
 * those expiring within soon_days, and read its balance, in one read.
 * Any role of the account.
 */
MSSL_API int mssl_cert_stats_get(mssl_ctx *ctx, const mssl_actor *actor,
				 const char *account_id, int soon_days,
				 mssl_cert_stats *out, mssl_error *err);

/* ---------------------------------------------------------------------
 * Expiry reminders
 * ------------------------------------------------------------------ */

/*
 * mssl_remind_expiring - queue expiry reminders in the mail outbox: for
 * every issued certificate that expires within a threshold of [mail]
 * remind_days (default 30, 14, 7) of 'now', one message to its technical
 * contact (CN, serial, expiry, days left, how to renew; English then
 * Traditional Chinese), recorded in the store with the threshold so that
 * it is never queued twice, across restarts and processes.  A
 * certificate that has crossed several thresholds since it was last
 * looked at gets only the most urgent one.  No reminder for a revoked or
 * expired certificate, nor for one already renewed: a renewal naming it
 * is issued, or the account holds another issued certificate for the
 * same CN that expires later.  A certificate without a technical contact
 * is recorded as reminded without a message, and logged.
 *
 * 'now' is the time to count from (0: the context's clock); an operator
 * passing a later time queues what would be due then, with the days left
 * counted from it, and those reminders are then recorded as done.
 * Queues in transactions of at most 200 reminders, each audited as
 * mail.remind, most urgent first; *queued (may be NULL) counts the
 * messages queued, also when a later transaction fails.  Sending is
 * mssl_mail_flush's.  Operator only.  Thread-safe (one store connection
 * per call).
 *
 * Returns 0; MSSL_ESTATE (remind.off) when [mail] remind_days is empty;
 * MSSL_EINPUT for a negative 'now'; MSSL_ECONFIG (store.too_old) when
 * the store plugin predates plugin ABI 1.4; MSSL_EPERM; the store's
 * errors.
 */
MSSL_API int mssl_remind_expiring(mssl_ctx *ctx, const mssl_actor *actor,
				  int64_t now, size_t *queued,
				  mssl_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MSSL_H */
