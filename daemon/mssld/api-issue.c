/*
 * Certificate operations (SPEC §4-§6): issue, renew candidates and
 * renewal, revocation.  libmssl validates, checks role, account and
 * balance, charges, signs and records (mssl_issue, mssl_renewal_list,
 * mssl_cert_revoke); these handlers parse the body and shape the answer.
 * All run on the thread pool.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sev_name(int s)
{
	return s == MSSL_SEV_ERROR ? "error" :
	       s == MSSL_SEV_WARNING ? "warning" :
				       "notice";
}

json_t *mssld_report_json(const mssl_report *rep)
{
	json_t *fs = json_array(), *vs = json_array();
	size_t i;

	for (i = 0; i < mssl_report_n_findings(rep); i++) {
		const mssl_finding *f = mssl_report_finding(rep, i);

		json_array_append_new(
			fs, json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:o}",
				      "severity", sev_name(f->severity), "code",
				      f->code, "field", mssld_jstr(f->field),
				      "value", mssld_jstr(f->value), "message",
				      f->message_en, "message_zh",
				      f->message_zh, "source",
				      mssld_jstr(f->source)));
	}
	for (i = 0; i < mssl_report_n_verdicts(rep); i++) {
		const mssl_verdict *vd = mssl_report_verdict(rep, i);

		json_array_append_new(
			vs, json_pack("{s:s,s:b,s:o,s:o}", "name", vd->name,
				      "accepted", vd->accepted, "rule",
				      mssld_jstr(vd->rule_en), "rule_zh",
				      mssld_jstr(vd->rule_zh)));
	}
	return json_pack("{s:b,s:o,s:o}", "issuable",
			 rep ? mssl_report_issuable(rep) : 0, "findings", fs,
			 "names", vs);
}

json_t *mssld_subject_json(const mssl_csr *csr)
{
	const struct mssl_csr_info *ci = mssl_csr_info(csr);
	const struct mssl_subject_info *s = &ci->subject;

	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:i}}", "dn",
			 mssld_jstr(s->dn), "C", mssld_jstr(s->c), "ST",
			 mssld_jstr(s->st), "L", mssld_jstr(s->l), "O",
			 mssld_jstr(s->o), "OU", mssld_jstr(s->ou), "CN",
			 mssld_jstr(s->cn), "key", "algorithm",
			 mssld_jstr(ci->key.alg_name), "bits",
			 (int)ci->key.bits);
}

/* Issue (renew_of NULL) or renew: the same body, SPEC §4.4. */
static void issue(struct mssld_call *call, const char *renew_of)
{
	mssl_issue_params p = { 0 };
	const char *product, *csr_text, *ikey;
	mssl_report *rep = NULL;
	mssl_cert *cert = NULL;
	mssl_csr *csr = NULL;
	json_t *j = NULL, *confirm;
	int64_t years;
	int rc;

	confirm = json_object_get(call->json, "confirm");
	if (mssld_body_str(call, "product", true, &product) < 0 ||
	    mssld_body_str(call, "csr", true, &csr_text) < 0 ||
	    mssld_body_int(call, "years", true, 1, 100, 1, &years) < 0 ||
	    mssld_body_str(call, "server_vendor", true, &p.server_vendor) < 0 ||
	    mssld_body_str(call, "passphrase", true, &p.passphrase) < 0 ||
	    mssld_body_str(call, "tech_name", true, &p.tech_name) < 0 ||
	    mssld_body_str(call, "tech_email", true, &p.tech_email) < 0 ||
	    mssld_body_str(call, "tech_phone", false, &p.tech_phone) < 0 ||
	    mssld_body_str(call, "note", false, &p.note) < 0 ||
	    mssld_body_str(call, "seal_name", false, &p.seal_name) < 0)
		return;
	if (!renew_of &&
	    mssld_body_str(call, "renewal_of", false, &renew_of) < 0)
		return;
	/* SPEC §4.5: issued only after the user confirmed the dry run. */
	if (!json_is_true(confirm)) {
		mssld_resp_error(&call->resp, 400, "issue.confirm", "confirm",
				 N_("confirm must be true: check the request first, then confirm it"));
		return;
	}
	ikey = mssld_req_header(call->req, "idempotency-key");
	if (ikey && (!*ikey || strlen(ikey) > 128)) {
		mssld_resp_error(&call->resp, 400, "issue.idempotency_key",
				 "Idempotency-Key",
				 N_("Idempotency-Key must be 1 to 128 characters"));
		return;
	}
	p.years = (int)years;
	p.renewal_of = renew_of;
	p.idempotency_key = ikey;
	rc = mssl_products_parse(product, "product", &p.product, call->err);
	if (rc == 0)
		rc = mssl_csr_parse(csr_text, strlen(csr_text), &csr,
				    call->err);
	if (rc == 0)
		rc = mssl_issue(call->ctx, call->actor, call->account_id, csr,
				&p, &cert, &rep, call->err);
	if (rc == MSSL_EREJECTED) {
		/* Every finding, as the dry run shows them. */
		mssld_resp_mssl_error(&call->resp, 422, rc, call->err);
		j = json_loads(call->resp.body, 0, NULL);
		if (j) {
			json_object_set_new(j, "report", mssld_report_json(rep));
			mssld_resp_json(&call->resp, 422, j);
		}
		goto out;
	}
	if (rc < 0) {
		mssld_fail_lib(call, rc);
		goto out;
	}
	j = mssld_cert_json(mssl_cert_record(cert), true);
	mssld_resp_json(&call->resp, 201, j);
	snprintf(call->resp.extra, sizeof(call->resp.extra),
		 "Location: /api/v1/certificates/%s\r\n",
		 mssl_cert_record(cert)->serial);
out:
	mssl_cert_free(cert);
	mssl_report_free(rep);
	mssl_csr_free(csr);
}

void mssld_h_issue(struct mssld_call *call)
{
	issue(call, NULL);
}

void mssld_h_renew(struct mssld_call *call)
{
	issue(call, call->req->param[0]);
}

static int candidate(void *ud, const struct mssl_cert_rec *r)
{
	json_t *j = mssld_cert_json(r, true);

	return json_array_append_new(ud, j) < 0 ? MSSL_ENOMEM : 0;
}

void mssld_h_renewals(struct mssld_call *call)
{
	json_t *items = json_array();
	int rc = mssl_renewal_list(call->ctx, call->actor, call->account_id,
				   candidate, items, call->err);

	if (rc < 0) {
		json_decref(items);
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200, json_pack("{s:o}", "items", items));
}

/* What the revoke screen offers: the account's issued certificates. */
void mssld_h_revocable(struct mssld_call *call)
{
	mssl_cert_query q = { .state = "issued", .newest_first = 1 };
	json_t *items = json_array();
	json_t *reasons = json_array();
	static const int rs[] = { MSSL_REVOKE_UNSPECIFIED,
				  MSSL_REVOKE_KEY_COMPROMISE,
				  MSSL_REVOKE_AFFILIATION_CHANGED,
				  MSSL_REVOKE_SUPERSEDED,
				  MSSL_REVOKE_CESSATION_OF_OPERATION };
	size_t i;
	int rc;

	/*
	 * The list is cert.list's (auditors may read it elsewhere), but the
	 * screen is the revocation's: libmssl's role table says who.
	 */
	if (!mssl_role_allows((mssl_role)call->role, "cert.revoke")) {
		json_decref(items);
		json_decref(reasons);
		mssl_error_set(call->err, MSSL_EPERM, "auth.role", NULL,
			       N_("the %s role may not revoke certificates"),
			       mssl_role_name((mssl_role)call->role));
		mssld_fail_lib(call, MSSL_EPERM);
		return;
	}
	rc = mssl_cert_list(call->ctx, call->actor, call->account_id, &q,
			    candidate, items, call->err);
	if (rc < 0) {
		json_decref(items);
		json_decref(reasons);
		mssld_fail_lib(call, rc);
		return;
	}
	for (i = 0; i < MSSLD_ARRAY_SIZE(rs); i++)
		json_array_append_new(reasons,
				      json_string(mssl_revoke_reason_name(rs[i])));
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:o,s:o}", "items", items, "reasons",
				  reasons));
}

void mssld_h_revoke(struct mssld_call *call)
{
	const char *reason;
	int r, rc;

	if (mssld_body_str(call, "reason", true, &reason) < 0)
		return;
	r = mssl_revoke_reason_parse(reason);
	if (r < 0) {
		mssld_resp_error(&call->resp, 400, "revoke.reason", "reason",
				 N_("reason must be unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation"));
		return;
	}
	rc = mssl_cert_revoke(call->ctx, call->actor, call->account_id,
			      call->req->param[0], r, call->err);
	if (rc < 0) {
		mssld_fail_lib(call, rc);
		return;
	}
	mssld_resp_json(&call->resp, 200,
			json_pack("{s:s,s:s,s:s}", "serial",
				  call->req->param[0], "state", "revoked",
				  "reason", mssl_revoke_reason_name(r)));
}
