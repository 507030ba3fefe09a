#!/usr/bin/env python3
"""The authorization matrix of mssld(8): every route of the daemon's
table (`mssld --routes`) called as

  anonymous   no session at all
  auditor_a   the auditor of account A
  manager_a   a manager of account A
  manager_b   the manager of account B, on A's objects

with a request that is otherwise valid (the right body; the CSRF token
with a cookie session), so that the status says what the caller may do
and nothing else.  The expected statuses are the table MATRIX below,
written out by hand: the rules themselves live in libmssl (op.c), and
this test checks what mssld answers, not how.  A route that is in the
daemon's table but not in MATRIX (or in MATRIX but no longer in the
table) fails the test, so a new route cannot go unreviewed.

"A's objects" are what a request names: a certificate serial of A's in
the path, account ID A in the body (challenge, login proof, unlock).
Routes that name nothing act on the caller's own account (a manager of
B lists, checks and issues in B); that they show nothing of A's is
checked in tests/test-mssld-api.py.

The whole matrix runs twice: with bearer tokens (the CLI) and with the
session cookie plus X-CSRF-Token (a browser).  Besides, the table must
agree with the route table's auth kind (a session route is 401 to the
anonymous), with doc/api/openapi.yaml's x-mssl-roles, and every status
must be among the operation's documented responses.

Real components as in test-mssld-api.py (tests/mssldfix.py): SoftHSM2
cards enrolled by mssl-admin, a CA from `mssl-admin ca init`, SQLite, a
real mssld.  Speaks TAP.
"""
import json
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import mssldfix as fx  # noqa: E402
from mssldfix import (A, B, CARDS, adm, call, issue_body, login_body,  # noqa
                      make_csr, ok, proof_body)

CALLERS = ("anonymous", "auditor_a", "manager_a", "manager_b")
CARD_OF = {"auditor_a": "bob", "manager_a": "alice", "manager_b": "carol"}

# The expected status of each route for each caller, in CALLERS order.
MATRIX = {
    # route                                     anon  audA  mgrA  mgrB
    ("GET", "/api/v1/health"):                  (200, 200, 200, 200),
    ("GET", "/crl/{name}"):                     (200, 200, 200, 200),
    ("GET", "/api/v1/account"):                 (401, 200, 200, 200),
    ("GET", "/api/v1/home"):                    (401, 200, 200, 200),
    ("GET", "/api/v1/account/activity"):        (401, 200, 200, 200),
    ("POST", "/api/v1/requests/check"):         (401, 403, 200, 200),
    ("POST", "/api/v1/auth/challenge"):         (200, 200, 200, 200),
    # B's manager's card signing a login to account A.
    ("POST", "/api/v1/auth/login"):             (200, 200, 200, 401),
    ("POST", "/api/v1/auth/logout"):            (401, 200, 200, 200),
    ("GET", "/api/v1/auth/me"):                 (401, 200, 200, 200),
    # B's manager's session with the proof of a card of A's.
    ("POST", "/api/v1/card/pin-changed"):       (401, 200, 200, 403),
    # The unlock code is the credential, not the session.
    ("POST", "/api/v1/card/unlock/begin"):      (200, 200, 200, 200),
    ("POST", "/api/v1/card/unlock/done"):       (200, 200, 200, 200),
    ("GET", "/api/v1/certificates"):            (401, 200, 200, 200),
    ("POST", "/api/v1/certificates"):           (401, 403, 201, 201),
    ("GET", "/api/v1/certificates/export"):     (401, 200, 200, 200),
    ("GET", "/api/v1/certificates/{serial}"):   (401, 200, 200, 404),
    ("GET", "/api/v1/certificates/{serial}/download"):
                                                (401, 200, 200, 404),
    ("GET", "/api/v1/renewals"):                (401, 403, 200, 200),
    # Renewing a serial B does not have is a finding of the request
    # (request.renew_unknown), as for a serial nobody has.
    ("POST", "/api/v1/certificates/{serial}/renew"):
                                                (401, 403, 201, 422),
    ("GET", "/api/v1/revocable"):               (401, 403, 200, 200),
    ("POST", "/api/v1/certificates/{serial}/revoke"):
                                                (401, 403, 200, 404),
}

# Routes after which the caller's sessions are gone (or may be).
ENDS_SESSIONS = {("POST", "/api/v1/auth/login"),
                 ("POST", "/api/v1/auth/logout"),
                 ("POST", "/api/v1/card/pin-changed")}


# ---- the world ---------------------------------------------------------------

FIX = {}   # "serial": A's certificate for reads; "setup": dave's token
N_CSR = [0]


def fresh_csr(account, cn=None):
    N_CSR[0] += 1
    org, dom = fx.ORGS[account]
    cn = cn or "m%d.%s" % (N_CSR[0], dom)
    return make_csr(cn, org=org, tag="-%d" % N_CSR[0])


def setup_token():
    """dave (a manager of A outside the matrix) issues the objects."""
    tok = FIX.get("setup")
    if not tok or call("GET", "/api/v1/auth/me", token=tok).status != 200:
        tok = FIX["setup"] = fx.session("dave")
    return tok


def a_certificate():
    """A new certificate of account A: (serial, its CN)."""
    N_CSR[0] += 1
    cn = "c%d.twca.com.tw" % N_CSR[0]
    r = call("POST", "/api/v1/certificates",
             issue_body(make_csr(cn, tag="-%d" % N_CSR[0])),
             token=setup_token())
    if r.status != 201:
        raise RuntimeError("issue for A: %r" % r)
    return r.json()["serial"], cn


def unlock_body():
    """The operator approves an unlock of erin's card (of A): the body
    naming A, the card and the new code."""
    c = CARDS["erin"]
    p = adm("--json", "card", "unlock-approve", str(c["card_id"]),
            "--verified-with", "Wang, by phone", "--show-code")
    code = json.loads(p.stdout)["code"]
    return {"account_id": A, "token_serial": c["serial"], "code": code}


def setup():
    fx.setup([("alice", A, "Alice Wang", "manager"),
              ("bob", A, "Bob Lin", "auditor"),
              ("carol", B, "Carol Chen", "manager"),
              ("dave", A, "Dave Wu", "manager"),
              ("erin", A, "Erin Hsu", "manager")],
             issuance="crl_file = %s/ca.crl\n" % fx.T, topup=60)
    for label, pin in (("alice", "pin-2468"), ("bob", "pin-1357"),
                       ("carol", "pin-8642"), ("dave", "pin-9753")):
        _, r = fx.change_pin(label, pin)
        if r.status != 200:
            raise RuntimeError("PIN change of %s: %r" % (label, r))
    adm("crl")
    FIX["serial"], _ = a_certificate()


# ---- requests: one valid request per route and caller ---------------------------

def own_account(caller):
    return B if caller == "manager_b" else A


def req(caller, rt):
    """(path, body, after): the request 'caller' makes on route 'rt';
    after() runs once the call is answered (to finish a flow)."""
    method, pattern = rt
    after = None
    body = None
    path = pattern
    card = CARD_OF.get(caller, "alice")
    if pattern == "/crl/{name}":
        path = "/crl/ca.crl"
    elif pattern == "/api/v1/auth/challenge":
        body = {"account_id": A}
    elif pattern == "/api/v1/auth/login":
        body = login_body(card, account=A, mode=MODE[0])
    elif pattern == "/api/v1/card/pin-changed":
        # Manager of B: a proof of A's manager's card for account A.
        body = proof_body("alice" if caller == "manager_b" else card)
    elif pattern == "/api/v1/card/unlock/begin":
        body = unlock_body()
        after = lambda: call("POST", "/api/v1/card/unlock/done", body)
    elif pattern == "/api/v1/card/unlock/done":
        body = unlock_body()
        r = call("POST", "/api/v1/card/unlock/begin", body)
        if r.status != 200:
            raise RuntimeError("unlock begin: %r" % r)
    elif pattern == "/api/v1/requests/check":
        body = {"product": "ssl", "csr": fresh_csr(own_account(caller))}
    elif rt == ("POST", "/api/v1/certificates"):
        acc = own_account(caller)
        body = issue_body(fresh_csr(acc),
                          tech_email="tech@" + fx.ORGS[acc][1])
    elif pattern == "/api/v1/certificates/{serial}":
        path = "/api/v1/certificates/" + FIX["serial"]
    elif pattern == "/api/v1/certificates/{serial}/download":
        path = "/api/v1/certificates/%s/download?format=pem" % FIX["serial"]
    elif pattern == "/api/v1/certificates/{serial}/renew":
        serial, cn = a_certificate()
        path = "/api/v1/certificates/%s/renew" % serial
        body = issue_body(make_csr(cn, tag="-renew"))
    elif pattern == "/api/v1/certificates/{serial}/revoke":
        serial, _ = a_certificate()
        path = "/api/v1/certificates/%s/revoke" % serial
        body = {"reason": "superseded"}
    elif "{" in pattern or (method != "GET" and
                            pattern != "/api/v1/auth/logout"):
        raise RuntimeError("no request for %s %s: add one to req()" % rt)
    return path, body, after


MODE = ["bearer"]
SESSIONS = {}   # caller -> bearer token or (cookie, csrf)


def credentials(caller):
    if caller == "anonymous":
        return {}
    s = SESSIONS.get(caller)
    if s is None:
        card = CARD_OF[caller]
        s = SESSIONS[caller] = (fx.session(card) if MODE[0] == "bearer"
                                else fx.cookie_session(card))
    if MODE[0] == "bearer":
        return {"token": s}
    return {"cookie": s[0], "csrf": s[1]}


def run_matrix(mode):
    MODE[0] = mode
    SESSIONS.clear()
    for rt, want in MATRIX.items():
        for caller, status in zip(CALLERS, want):
            path, body, after = req(caller, rt)
            r = call(rt[0], path, body, **credentials(caller))
            if after:
                after()
            if rt in ENDS_SESSIONS:
                SESSIONS.clear()
            good = r.status == status
            if good and status >= 400:
                good = r.err() is not None
            ok(good, "%s: %s %s as %s: %d" % (mode, rt[0], rt[1], caller,
                                               status), r)


# ---- the table against the daemon and the document ------------------------------

def test_table():
    table = fx.routes()
    ok(set(table) == set(MATRIX),
       "every route of mssld's table has a row in MATRIX, and no other",
       "routes without a row: %s\nrows without a route: %s"
       % (sorted(set(table) - set(MATRIX)), sorted(set(MATRIX) - set(table))))
    bad = [rt for rt, auth in table.items() if rt in MATRIX and
           (MATRIX[rt][0] == 401) != (auth != "none")]
    ok(not bad, "the anonymous get 401 exactly on the session routes", bad)
    doc = fx.openapi()
    wrong = []
    for rt, want in MATRIX.items():
        d = doc.get(rt)
        if d is None:
            wrong.append("%s %s: not in openapi.yaml" % rt)
            continue
        if d["roles"] is not None:
            for caller, role in (("auditor_a", "auditor"),
                                 ("manager_a", "manager")):
                allowed = want[CALLERS.index(caller)] < 400
                if allowed != (role in d["roles"]):
                    wrong.append("%s %s: %s is %s but x-mssl-roles says %s"
                                 % (rt + (caller, want[CALLERS.index(caller)],
                                          d["roles"])))
        undoc = {s for s in want if s not in d["statuses"]}
        if undoc:
            wrong.append("%s %s: status %s not documented"
                         % (rt + (sorted(undoc),)))
    ok(not wrong, "MATRIX agrees with openapi.yaml's roles and responses",
       "\n".join(wrong))


def test_no_oracle():
    """Another account's certificate is answered as one that does not
    exist: B's manager learns nothing of A's serials."""
    tok = fx.session("carol")
    nobody = "0123456789abcdef0123456789abcdef"
    serial, cn = a_certificate()
    for method, tail, body in (
            ("GET", "", None),
            ("GET", "/download?format=der", None),
            ("POST", "/revoke", {"reason": "superseded"}),
            ("POST", "/renew", issue_body(make_csr(cn, tag="-oracle")))):
        got = []
        for s in (serial, nobody):
            r = call(method, "/api/v1/certificates/" + s + tail, body,
                     token=tok)
            e = (r.json() or {}).get("error", {})
            got.append((r.status, r.err(),
                        e.get("message", "").replace(s, "SERIAL")))
        ok(got[0] == got[1] and got[0][0] >= 400,
           "%s %s of A's certificate as B's manager: the answer for a "
           "serial nobody has" % (method, tail or "/"), got)


def test_bearer():
    run_matrix("bearer")


def test_cookie():
    run_matrix("cookie")


def main():
    fx.init("test-mssld-authz")
    return fx.main([setup, test_table, test_no_oracle, test_bearer,
                    test_cookie])


if __name__ == "__main__":
    sys.exit(main())
