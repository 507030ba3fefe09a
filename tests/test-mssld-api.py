#!/usr/bin/env python3
"""The JSON API of mssld(8) end to end with real cards: SoftHSM2 tokens
enrolled by mssl-admin through libmssl-token, a card CA, a SQLite store
and a real mssld on loopback.  A card signs each login challenge through
tests/mssld-prove (mssl_token_prove); PINs are changed and cards unblocked
with mssl-card, as a holder would.  Speaks TAP.

Covers SPEC §3 (login, first PIN change, roles and menus) and §8 (PIN
change, unlock), then the account user's queries and operations.
"""
import base64
import hashlib
import json
import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import mssldfix as fx  # noqa: E402
from mssldfix import (A, B, CARDS, ORIGIN, adm, call, card_tool,  # noqa
                      challenge, change_pin, issue_body, login, login_body,
                      make_csr, ok, prove, run, session, balance)


# ---- §3 login --------------------------------------------------------------

def test_challenge():
    r = call("POST", "/api/v1/auth/challenge", {"account_id": "7075902-01"})
    ok(r.status == 400 and r.err() and r.err().startswith("account."),
       "challenge: a malformed account ID is 400 naming the rule", r)
    r = call("POST", "/api/v1/auth/challenge", {})
    ok(r.status == 400 and r.err() == "json.required" and
       r.json()["error"]["field"] == "account_id",
       "challenge: account_id is required", r)
    r = call("POST", "/api/v1/auth/challenge", {"account_id": A})
    j = r.json() or {}
    ok(r.status == 200 and len(base64.b64decode(j.get("nonce", ""))) == 32
       and j.get("origin") == ORIGIN and j.get("channel_binding") is None
       and j.get("expires", 0) > time.time(),
       "challenge: 32 random bytes, the origin to sign, an expiry", r)
    r2 = call("POST", "/api/v1/auth/challenge", {"account_id": "12345675-02"})
    ok(r2.status == 200, "challenge: an unknown account gets one too "
       "(the answer does not tell)", r2)


def test_first_login():
    r = login("alice")
    j = r.json() or {}
    ok(r.status == 200 and j.get("pin_change_required") is True and
       j.get("role") == "manager" and j.get("account", {}).get("id") == A
       and len(j.get("token", "")) >= 32 and "set-cookie" not in r.headers,
       "first login on the issued PIN: a session, PIN change required, "
       "the bearer token in the body and no cookie", r)
    tok = j.get("token")
    r = call("GET", "/api/v1/auth/me", token=tok)
    ok(r.status == 200 and r.json()["menu"] == ["pin_change", "logout"],
       "me: an issued-PIN session's menu is the PIN change only", r)
    r = call("GET", "/api/v1/account", token=tok)
    ok(r.status == 403 and r.err() == "auth.pin_change_required",
       "an issued-PIN session is refused everything else by libmssl", r)
    # The same proof again: the nonce was consumed.
    body = login_body("alice")
    r1 = call("POST", "/api/v1/auth/login", body)
    r2 = call("POST", "/api/v1/auth/login", body)
    ok(r1.status == 200 and r2.status == 401 and
       r2.err() == "auth.login_failed",
       "a replayed login proof is refused (401)", (r1, r2))
    body = login_body("alice")
    sig = bytearray(base64.b64decode(body["sig"]))
    sig[-3] ^= 1
    body["sig"] = base64.b64encode(bytes(sig)).decode()
    r = call("POST", "/api/v1/auth/login", body)
    ok(r.status == 401 and r.err() == "auth.login_failed",
       "a bad signature is refused (401, the same answer)", r)
    r = call("POST", "/api/v1/auth/login",
             login_body("alice", origin="https://evil.test"))
    ok(r.status == 401 and r.err() == "auth.login_failed",
       "a proof for another origin is refused", r)
    r = call("POST", "/api/v1/auth/login", login_body("alice", account=B))
    ok(r.status == 401 and r.err() == "auth.login_failed",
       "a card of account A cannot log in to account B", r)
    body = login_body("alice")
    body["nonce"] = base64.b64encode(b"x" * 16).decode()
    r = call("POST", "/api/v1/auth/login", body)
    ok(r.status == 400 and r.err() == "auth.nonce",
       "a nonce of the wrong size: 400", r)
    body = login_body("alice")
    body["session"] = "both"
    r = call("POST", "/api/v1/auth/login", body)
    ok(r.status == 400 and r.json()["error"]["field"] == "session",
       "session must be cookie or bearer", r)
    r = call("POST", "/api/v1/auth/login", raw=b"{}",
             headers={"Content-Type": "text/plain"})
    ok(r.status == 415, "login takes application/json only", r)


def test_pin_change():
    old, r = change_pin("alice", "pin-2468")
    ok(r.status == 200 and r.json().get("session_ended") is True,
       "PIN change proven with a fresh signature: the session ends", r)
    r = call("GET", "/api/v1/auth/me", token=old)
    ok(r.status == 401, "the session used for the PIN change is over", r)
    r = call("POST", "/api/v1/auth/login",
             login_body("alice", pin="pin-2468"))
    j = r.json() or {}
    ok(r.status == 200 and j.get("pin_change_required") is False,
       "logging in with the new PIN gives a full session", r)
    for label, pin in (("bob", "pin-1357"), ("carol", "pin-8642"),
                       ("dave", "pin-9753")):
        _, r = change_pin(label, pin)
        ok(r.status == 200, "%s changes the issued PIN" % label, r)
    # Proving the PIN change without a proof of this card's.
    tok = session("alice")
    ch = challenge(A)
    body = {"account_id": A, "origin": ORIGIN, "nonce": ch["nonce"]}
    body.update(prove("dave", CARDS["dave"]["pin"], A, ch["nonce"]))
    r = call("POST", "/api/v1/card/pin-changed", body, token=tok)
    ok(r.status == 403 and call("GET", "/api/v1/auth/me",
                                token=tok).status == 200,
       "a PIN-change proof by another card is refused (403) and the "
       "session stays", r)


def test_sessions():
    r = login("alice", mode="cookie")
    j = r.json() or {}
    sc = r.headers.get("set-cookie", "")
    ok(r.status == 200 and "token" not in j and
       sc.startswith("mssl_session=") and "HttpOnly" in sc and
       "Secure" in sc and "SameSite=Strict" in sc and "Path=/" in sc,
       "cookie login: Set-Cookie HttpOnly; Secure; SameSite=Strict, the "
       "token not in the body", r)
    cookie = sc.split(";")[0].split("=", 1)[1]
    want = hashlib.sha256(b"mssl-csrf-v1:" + cookie.encode()).hexdigest()
    ok(j.get("csrf_token") == want,
       "the body carries the session's CSRF token", j)
    r = call("GET", "/api/v1/auth/me", cookie=cookie)
    me = r.json() or {}
    ok(r.status == 200 and me.get("person", {}).get("name") == "Alice Wang"
       and me.get("role") == "manager" and
       me.get("account", {}).get("id") == A and
       {"issue", "renew", "revoke", "certificates", "export", "account",
        "activity", "home", "download"} <= set(me.get("menu", [])),
       "me: account, person, role and a manager's menu", r)
    r = call("POST", "/api/v1/auth/logout", cookie=cookie)
    ok(r.status == 403 and r.err() == "auth.csrf",
       "logout with the cookie needs the CSRF token", r)
    r = call("POST", "/api/v1/auth/logout", cookie=cookie, csrf="0" * 64)
    ok(r.status == 403 and r.err() == "auth.csrf",
       "... the right one", r)
    r = call("POST", "/api/v1/auth/logout", cookie=cookie, csrf=want)
    ok(r.status == 200 and "Max-Age=0" in r.headers.get("set-cookie", ""),
       "logout ends the session and clears the cookie", r)
    ok(call("GET", "/api/v1/auth/me", cookie=cookie).status == 401,
       "the cookie is worth nothing after logout")
    bob = session("bob")
    me = call("GET", "/api/v1/auth/me", token=bob).json()
    ok(me["role"] == "auditor" and not {"issue", "renew", "revoke"} &
       set(me["menu"]) and {"certificates", "export", "download",
                            "activity", "account"} <= set(me["menu"]),
       "an auditor's menu has the queries and no certificate operation",
       me)
    # A new session id at login: the session the client came with ends.
    t1 = session("alice")
    r = login("alice", headers={"Authorization": "Bearer " + t1})
    t2 = (r.json() or {}).get("token")
    ok(r.status == 200 and t2 and t2 != t1 and
       call("GET", "/api/v1/auth/me", token=t1).status == 401 and
       call("GET", "/api/v1/auth/me", token=t2).status == 200,
       "login gives a new session id and ends the one presented", r)
    r = call("POST", "/api/v1/auth/logout", token=t2)
    ok(r.status == 200, "a bearer session logs out without a CSRF token", r)


# ---- §8 unlock ---------------------------------------------------------------

def test_unlock():
    c = CARDS["dave"]
    p = adm("--json", "card", "unlock-approve", str(c["card_id"]),
            "--verified-with", "Wang, by phone", "--show-code")
    code = json.loads(p.stdout)["code"]
    r = login("dave")
    ok(r.status == 401, "a card the operator marked locked cannot log in", r)
    body = {"account_id": A, "token_serial": c["serial"], "code": "WRONG-1"}
    r = call("POST", "/api/v1/card/unlock/begin", body)
    ok(r.status == 403 and r.err() == "card.unlock_refused",
       "unlock with a wrong code: 403", r)
    body["code"] = code
    r = call("POST", "/api/v1/card/unlock/begin", dict(body,
                                                       account_id=B))
    ok(r.status == 403 and r.err() == "card.unlock_refused",
       "unlock naming another account: 403", r)
    r = call("POST", "/api/v1/card/unlock/begin", body)
    so = (r.json() or {}).get("so_pin", "")
    ok(r.status == 200 and len(so) == 16,
       "unlock begin: the code buys the card's SO PIN once", r)
    r2 = call("POST", "/api/v1/card/unlock/begin", body)
    ok(r2.status == 403, "... and only once", r2)
    p = card_tool("dave", "--so-pin-fd", "3", "--pin-fd", "4", "pin",
                  "unblock", fds={3: so + "\n", 4: "pin-1111\npin-1111\n"})
    ok(p.returncode == 0, "the holder unblocks the card with it",
       p.stdout + p.stderr)
    c["pin"] = "pin-1111"
    r = call("POST", "/api/v1/card/unlock/done", body)
    ok(r.status == 200 and r.json() == {"state": "active"},
       "unlock done: the card is active", r)
    r = login("dave")
    ok(r.status == 200 and r.json()["pin_change_required"] is False,
       "the holder logs in with the new PIN", r)
    r = call("POST", "/api/v1/card/unlock/done", {"account_id": A})
    ok(r.status == 400 and r.err() == "json.required",
       "unlock done without its fields: 400", r)


# ---- §4-§7 certificates ------------------------------------------------------

SERIALS = {}


def test_issue():
    tok = session("alice")
    bob = session("bob")
    good = make_csr("www.twca.com.tw")
    r = call("POST", "/api/v1/requests/check",
             {"product": "ssl", "csr": good}, token=tok)
    j = r.json() or {}
    ok(r.status == 200 and j.get("issuable") is True and
       j["subject"]["CN"] == "www.twca.com.tw" and
       j["subject"]["O"] == "Taiwan-CA Inc." and
       j["names"][0]["accepted"] is True,
       "check: issuable, the parsed subject and each name's verdict", r)
    bad = make_csr("www.level2.twca.com.tw", org="Someone Else",
                   sans=["www.level2.twca.com.tw", "192.168.1.1"])
    r = call("POST", "/api/v1/requests/check",
             {"product": "ssl", "csr": bad}, token=tok)
    j = r.json() or {}
    codes = {f["code"] for f in j.get("findings", [])}
    ok(r.status == 200 and j.get("issuable") is False and len(codes) >= 2,
       "check: a bad request gets every finding at once", r)
    before = balance(tok)
    r = call("POST", "/api/v1/certificates", issue_body(good, confirm=None),
             token=tok)
    ok(r.status == 400 and r.err() == "issue.confirm",
       "issue without confirm: 400", r)
    r = call("POST", "/api/v1/certificates", issue_body(bad), token=tok)
    ok(r.status == 422 and r.err() and
       len(r.json().get("report", {}).get("findings", [])) >= 2 and
       balance(tok) == before,
       "issue of a bad request: 422 with every finding, nothing charged", r)
    r = call("POST", "/api/v1/certificates", issue_body(good), token=bob)
    ok(r.status == 403 and r.err() == "auth.role",
       "an auditor may not issue (libmssl's role check)", r)
    hdr = {"Idempotency-Key": "order-0001"}
    r1 = call("POST", "/api/v1/certificates", issue_body(good), token=tok,
              headers=hdr)
    r2 = call("POST", "/api/v1/certificates", issue_body(good), token=tok,
              headers=hdr)
    j1 = r1.json() or {}
    ok(r1.status == 201 and j1.get("state") == "issued" and
       r1.headers.get("location") == "/api/v1/certificates/" +
       j1.get("serial", "") and r2.status in (200, 201) and
       r2.json()["serial"] == j1["serial"] and balance(tok) == before - 1,
       "issue: 201 with Location; the same Idempotency-Key gives the same "
       "certificate and charges once", (r1, r2, balance(tok)))
    SERIALS["www"] = j1.get("serial")
    ok(j1.get("created") and j1.get("requested_by") and
       j1.get("server_vendor") == "nginx" and j1.get("seal_name") ==
       "Taiwan-CA" and (j1.get("technical_contact") or {}).get("email") ==
       "tech@twca.com.tw",
       "issue answers the whole certificate, as GET /certificates/SERIAL",
       j1)
    r = call("POST", "/api/v1/requests/check",
             {"product": "ssl", "csr": good, "years": 2}, token=tok)
    j = r.json() or {}
    v = j.get("validity") or {}
    ok(r.status == 200 and j.get("years") == 2 and j.get("price") == 0 and
       v.get("days") == 200 and v.get("term_until", "") > v["not_after"],
       "check after issuing: a reissue inside the paid term costs 0, "
       "200 days, inside the term", r)
    new = make_csr("shop.twca.com.tw")
    r = call("POST", "/api/v1/requests/check",
             {"product": "ssl", "csr": new, "years": 2}, token=tok)
    j = r.json() or {}
    ok(r.status == 200 and j.get("price") == 2 and
       j.get("validity", {}).get("days") == 200 and balance(tok) == before - 1,
       "check of a new CN for 2 years: price 2 cert-years, 200 days "
       "(CA/B Forum), nothing charged", r)
    r = call("POST", "/api/v1/requests/check",
             {"product": "ssl", "csr": new}, token=tok)
    ok(r.status == 200 and (r.json() or {}).get("years") == 1 and
       r.json().get("price") == 1, "check without years quotes 1 year", r)
    for years, code in ((0, "json.range"), (4, "issue.years"),
                        ("2", "json.range")):
        r = call("POST", "/api/v1/requests/check",
                 {"product": "ssl", "csr": new, "years": years}, token=tok)
        ok(r.status in (400, 422) and r.err() == code and
           (r.json() or {}).get("error", {}).get("field") == "years",
           "check with years %r: %s naming years" % (years, code), r)
    for cn in ("api.twca.com.tw", "mail.twca.com.tw"):
        r = call("POST", "/api/v1/certificates",
                 issue_body(make_csr(cn), note="備註, \"quoted\"\nline 2"),
                 token=tok)
        ok(r.status == 201, "issue %s" % cn, r)
        SERIALS[cn.split(".")[0]] = (r.json() or {}).get("serial")


def test_certificates():
    tok = session("alice")
    bob = session("bob")
    carol = session("carol")
    r = call("GET", "/api/v1/certificates", token=bob)
    items = (r.json() or {}).get("items", [])
    ok(r.status == 200 and len(items) == 3 and
       {i["cn"] for i in items} == {"www.twca.com.tw", "api.twca.com.tw",
                                    "mail.twca.com.tw"},
       "list: an auditor sees the account's certificates", r)
    r = call("GET", "/api/v1/certificates?cn=AP", token=bob)
    ok(r.status == 200 and [i["cn"] for i in r.json()["items"]] ==
       ["api.twca.com.tw"], "list: filter by CN substring, any case", r)
    r = call("GET", "/api/v1/certificates?domain=twca.com.tw&state=issued"
             "&limit=2", token=bob)
    j = r.json() or {}
    ok(r.status == 200 and len(j["items"]) == 2 and j["has_more"] is True,
       "list: domain and state filters, a page of 2 says there is more", r)
    r = call("GET", "/api/v1/certificates?domain=twca.com.tw&offset=2"
             "&limit=2", token=bob)
    j = r.json() or {}
    ok(r.status == 200 and len(j["items"]) == 1 and j["has_more"] is False,
       "list: the last page", r)
    r = call("GET", "/api/v1/certificates?state=bogus", token=bob)
    ok(r.status == 400 and r.json()["error"]["field"] == "state",
       "list: a bad state is 400 naming it", r)
    r = call("GET", "/api/v1/certificates?limit=0", token=bob)
    ok(r.status == 400 and r.json()["error"]["field"] == "limit",
       "list: a bad limit is 400 naming it", r)
    r = call("GET", "/api/v1/certificates", token=carol)
    ok(r.status == 200 and r.json()["items"] == [],
       "list: another account's manager sees none of them", r)
    s = SERIALS["www"]
    r = call("GET", "/api/v1/certificates/" + s, token=bob)
    ok(r.status == 200 and r.json()["serial"] == s and
       r.json()["technical_contact"]["email"] == "tech@twca.com.tw",
       "one certificate, with its technical contact", r)
    r = call("GET", "/api/v1/certificates/" + s, token=carol)
    ok(r.status == 404 and r.err() == "cert.not_found",
       "another account's certificate is 404", r)
    for fmt, ctype, tool in (
            ("pem", "application/x-pem-file", ["--certificate-info"]),
            ("der", "application/pkix-cert",
             ["--certificate-info", "--inder"]),
            ("chain", "application/x-pem-file", ["--certificate-info"]),
            ("p7b", "application/x-pkcs7-certificates", ["--p7-info"])):
        r = call("GET", "/api/v1/certificates/%s/download?format=%s"
                 % (s, fmt), token=bob)
        path = os.path.join(fx.T, "dl." + fmt)
        with open(path, "wb") as f:
            f.write(r.body)
        p = run("certtool", *tool, "--infile", path, check=False)
        cd = r.headers.get("content-disposition", "")
        ok(r.status == 200 and r.headers.get("content-type") == ctype and
           cd.startswith("attachment; filename=\"www.twca.com.tw") and
           p.returncode == 0 and ("www.twca.com.tw" in p.stdout or
                                  (fmt == "p7b" and
                                   "Number of certificates: 2" in p.stdout)),
           "download %s: %s, a file name, certtool reads it" % (fmt, ctype),
           (r.headers, p.stderr[-400:]))
        if fmt == "chain":
            ok(r.body.count(b"BEGIN CERTIFICATE") >= 2,
               "the chain holds the CA certificate too")
    r = call("GET", "/api/v1/certificates/%s/download?format=zip" % s,
             token=bob)
    ok(r.status == 400 and r.json()["error"]["field"] == "format",
       "download: an unknown format is 400", r)
    r = call("GET", "/api/v1/certificates/%s/download" % s, token=carol)
    ok(r.status == 404, "download of another account's certificate: 404", r)


def test_export():
    import csv
    import io
    bob = session("bob")
    r = call("GET", "/api/v1/certificates/export", token=bob)
    ok(r.status == 200 and r.headers.get("content-type", "").startswith(
        "text/csv") and r.body.startswith(b"\xef\xbb\xbf") and
       "certificates-%s.csv" % A in r.headers.get("content-disposition", ""),
       "export: text/csv, UTF-8 with a BOM, a file name", r.headers)
    text = r.body[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    lines_ok = all(x.endswith("\r") or x == "" for x in
                   text.split("\n")[:1])
    listed = call("GET", "/api/v1/certificates", token=bob).json()["items"]
    ok(rows[0][:4] == ["serial", "cn", "product", "state"] and
       sorted(x[0] for x in rows[1:]) == sorted(i["serial"] for i in listed)
       and lines_ok,
       "export: a header line, then the rows of the list (CRLF)", text[:300])
    notes = [x[-1] for x in rows[1:] if x[1] == "api.twca.com.tw"]
    ok(notes == ["備註, \"quoted\"\nline 2"],
       "export: a Chinese note with comma, quotes and a line break "
       "round-trips (RFC 4180 quoting)", notes)
    r = call("GET", "/api/v1/certificates/export?cn=mail", token=bob)
    rows = list(csv.reader(io.StringIO(r.body[3:].decode(), newline="")))
    ok(len(rows) == 2 and rows[1][1] == "mail.twca.com.tw",
       "export takes the list's filters", rows)
    r = call("HEAD", "/api/v1/certificates/export", token=bob)
    ok(r.status == 200 and r.body == b"" and
       int(r.headers.get("content-length", 0)) > 100,
       "HEAD of the export: its length, no body", r)


def test_renew_revoke():
    tok = session("alice")
    bob = session("bob")
    r = call("GET", "/api/v1/renewals", token=tok)
    items = (r.json() or {}).get("items", [])
    ok(r.status == 200 and SERIALS["www"] in [i["serial"] for i in items],
       "renewals: issued certificates inside the renewal window", r)
    r = call("GET", "/api/v1/renewals", token=bob)
    ok(r.status == 403, "an auditor gets no renew screen", r)
    old = call("GET", "/api/v1/certificates/" + SERIALS["www"],
               token=tok).json()
    r = call("POST", "/api/v1/certificates/%s/renew" % SERIALS["www"],
             issue_body(make_csr("api.twca.com.tw")), token=tok)
    ok(r.status == 422 and r.err(),
       "renew with another CN is refused with the findings", r)
    csr = open(os.path.join(fx.T, "r-www.twca.com.tw.pem")).read()
    r = call("POST", "/api/v1/certificates/%s/renew" % SERIALS["www"],
             issue_body(csr), token=tok)
    j = r.json() or {}
    ok(r.status == 201 and j.get("renewal_of") == SERIALS["www"] and
       j.get("not_after", 0) >= old["not_after"] and j.get("years") == 0,
       "renew: a new certificate of the same CN, continuing the old term "
       "(already paid: no charge)", (r, old))
    r = call("GET", "/api/v1/revocable", token=tok)
    j = r.json() or {}
    ok(r.status == 200 and "keyCompromise" in j.get("reasons", []) and
       SERIALS["mail"] in [i["serial"] for i in j.get("items", [])],
       "revocable: the issued certificates and the RFC 5280 reasons", r)
    before = balance(tok)
    path = "/api/v1/certificates/%s/revoke" % SERIALS["mail"]
    r = call("POST", path, {"reason": "because"}, token=tok)
    ok(r.status == 400 and r.json()["error"]["field"] == "reason",
       "revoke: an unknown reason is 400", r)
    r = call("POST", path, {"reason": "superseded"}, token=bob)
    ok(r.status == 403, "an auditor may not revoke", r)
    r = call("POST", path, {"reason": "superseded"}, token=tok)
    ok(r.status == 200 and r.json()["state"] == "revoked" and
       balance(tok) == before + 1,
       "revoke a newly issued certificate: revoked and refunded", r)
    r = call("POST", path, {"reason": "superseded"}, token=tok)
    ok(r.status == 409, "revoking it again: 409", r)
    r = call("GET", "/api/v1/certificates/" + SERIALS["mail"], token=bob)
    ok(r.json()["state"] == "revoked" and
       r.json()["revoke_reason"] == "superseded",
       "the list shows it revoked with its reason", r)


def test_home_activity():
    adm("notice", "add", "--title", "Maintenance", "--body",
        "系統維護 Saturday")
    bob = session("bob")
    carol = session("carol")
    r = call("GET", "/api/v1/home", token=bob)
    j = r.json() or {}
    listed = call("GET", "/api/v1/certificates", token=bob).json()["items"]
    by = {}
    for i in listed:
        by[i["state"]] = by.get(i["state"], 0) + 1
    ok(r.status == 200 and j["notices"][0]["title"] == "Maintenance" and
       j["balance"] == call("GET", "/api/v1/account",
                            token=bob).json()["balance"] and
       j["certificates"]["issued"] == by.get("issued", 0) and
       j["certificates"]["revoked"] == by.get("revoked", 0) and
       j["expiring"]["days"] == 30,
       "home: notices, balance, certificates by state", r)
    r = call("GET", "/api/v1/home", token=carol)
    ok(r.status == 200 and r.json()["certificates"]["issued"] == 0,
       "home: another account's figures are its own", r)
    r = call("GET", "/api/v1/account/activity", token=bob)
    items = (r.json() or {}).get("items", [])
    ids = [i["id"] for i in items]
    ok(r.status == 200 and ids == sorted(ids, reverse=True) and
       items[0]["balance_after"] == call("GET", "/api/v1/home",
                                        token=bob).json()["balance"] and
       {"top-up", "charge", "refund"} <= {i["kind"] for i in items},
       "activity: every balance change newest first, the latest balance "
       "on top", r)
    r2 = call("GET", "/api/v1/account/activity?limit=1&offset=1", token=bob)
    ok(r2.status == 200 and [i["id"] for i in r2.json()["items"]] ==
       ids[1:2] and r2.json()["has_more"] is True,
       "activity: pages", r2)


# ---- a large export ---------------------------------------------------------------

EXPORT_ROWS = int(os.environ.get("MSSL_EXPORT_ROWS", "200000"))
EXPORT_MAX_GROWTH_KIB = 64 * 1024


def test_export_large():
    """The CSV export of many rows streams: every row arrives and
    mssld's peak RSS (VmHWM) stays within 64 MiB, and within a quarter
    of the CSV's size, of its RSS before the export.
    The suite writes 200,000 rows straight into the store (set
    MSSL_EXPORT_ROWS for more); bench/bench-mssld.py does 1,000,000."""
    import sqlite3
    bob = session("bob")
    fx.fill_certificates(A, EXPORT_ROWS)
    db = sqlite3.connect(os.path.join(fx.T, "mssl.db"))
    want = db.execute("SELECT count(*) FROM certificates WHERE "
                      "account_id = ?", (A,)).fetchone()[0]
    db.close()
    with open("/proc/%d/maps" % fx.D.p.pid) as f:
        if "libasan" in f.read():
            # Under AddressSanitizer freed memory waits in a quarantine
            # (256 MiB): without it the RSS tells what the export holds.
            os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "")
                                          + ":quarantine_size_mb=0"
                                          ":thread_local_quarantine_size_kb=0")
            fx.restart()
    idle = fx.D.status("VmRSS")
    r, res = fx.export_csv(bob)
    peak = fx.D.status("VmHWM")
    ok(r.status == 200 and res["head3"] == b"\xef\xbb\xbf" and
       res["header"].startswith("serial,cn,product,state,") and
       res["lines"] - 1 == want and
       int(r.headers.get("content-length", -1)) == res["size"],
       "export of %d certificates: the BOM, the header and every row, "
       "as long as Content-Length said" % want,
       (r, res.get("lines"), want, res.get("header")))
    # Below a quarter of the CSV too: an answer built in memory fails.
    bound = min(EXPORT_MAX_GROWTH_KIB, res.get("size", 0) // 4096)
    ok(peak - idle < bound,
       "export of %d rows (%d KiB): mssld's peak RSS grew %d KiB "
       "(< %d KiB)" % (want, res.get("size", 0) // 1024, peak - idle,
                       bound), (idle, peak))
    r = call("GET", "/api/v1/certificates?cn=b%d." % (EXPORT_ROWS - 1),
             token=bob)
    ok(r.status == 200 and [i["cn"] for i in r.json()["items"]] ==
       ["b%d.twca.com.tw" % (EXPORT_ROWS - 1)],
       "the list finds one of them by CN", r)


# ---- login over native TLS (RFC 9266 channel binding) -------------------------

def test_tls_login():
    ca, crt, key = fx.tls_files()
    rc = fx.restart("tls_cert = %s\ntls_key = %s\nlisten = 127.0.0.1\n"
                    % (crt, key), tls_ca=ca)
    ok(rc == 0, "the plain daemon stops cleanly; one with native TLS "
       "starts on the same store")
    r = call("POST", "/api/v1/auth/challenge", {"account_id": A})
    ok(r.status == 200 and r.json()["channel_binding"] == "tls-exporter",
       "over TLS the challenge says the proof must bind tls-exporter", r)
    for prio, ver in (("NORMAL:-VERS-ALL:+VERS-TLS1.3", "TLS1.3"),
                      ("NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLS1.2")):
        r = fx.tls_login("alice", prio, "this")
        tok = (r.get("body") or {}).get("token")
        ok(r["status"] == 200 and r["version"] == ver and
           r["exporter_len"] == 32 and tok and
           r["body"]["pin_change_required"] is False,
           "%s: a login signing its own connection's tls-exporter "
           "(32 bytes) opens a session" % ver, r)
        me = call("GET", "/api/v1/auth/me", token=tok)
        ok(me.status == 200 and me.json()["person"]["name"] == "Alice Wang",
           "%s: the session is good on another connection" % ver, me)
        r = fx.tls_login("alice", prio, "other")
        ok(r["status"] == 401 and
           r["body"]["error"]["code"] == "auth.login_failed",
           "%s: a proof signing ANOTHER connection's tls-exporter is "
           "refused (401)" % ver, r)
    r = login("alice")
    ok(r.status == 401 and r.err() == "auth.login_failed",
       "over TLS a proof that binds no tls-exporter is refused", r)


def setup():
    fx.setup([("alice", A, "Alice Wang", "manager"),
              ("bob", A, "Bob Lin", "auditor"),
              ("carol", B, "Carol Chen", "manager"),
              ("dave", A, "Dave Wu", "manager")])


def main():
    fx.init("test-mssld-api")
    return fx.main([setup, test_challenge, test_first_login, test_pin_change,
                    test_sessions, test_unlock, test_issue,
                    test_certificates, test_export, test_renew_revoke,
                    test_home_activity, test_export_large,
                    test_tls_login])


if __name__ == "__main__":
    sys.exit(main())
