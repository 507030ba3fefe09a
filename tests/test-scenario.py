#!/usr/bin/env python3
"""The end-to-end scenario: SPEC §3-§9 walked in order against a real
mssld (SQLite store, the CA's key on SoftHSM2, SoftHSM2 cards, an SMTP
sink), the operator with mssl-admin, the account's people with mssl(1)
as they would type it (PINs through --pin-fd).  Each step asserts what a
user or the operator would see.  Speaks TAP."""
import csv
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mssldfix as fx  # noqa: E402
from mssldfix import A, CARDS, ok, adm  # noqa: E402

MSSL = os.path.join(fx.TOP, "cli", "mssl")
ORG, DOMAIN = fx.ORGS[A]
SUB = "mis." + DOMAIN           # a second agreed domain
HOMES = {}                      # person -> the HOME of their own computer
WHO = "mgr"                     # whose computer mssl() runs on
SMTP = None                     # (port, inbox) of the SMTP sink
TOPUP = 20
PASS = "pass phrase 1"
S = {}                          # what the steps learn: serials, ...


def mssl(*args, pins=(), fd3=None, who=None):
    """mssl as the account's person 'who' runs it on their own computer
    (a HOME of their own: config and session file); 'pins' are the
    lines typed on --pin-fd 4, fd3 the text on descriptor 3 (a pass
    phrase)."""
    home = HOMES[who or WHO]
    feeds = {}
    if pins:
        feeds[4] = "".join(p + "\n" for p in pins)
    if fd3 is not None:
        feeds[3] = fd3 + "\n"
    e = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "cfg"),
             LANGUAGE="", LC_ALL="C.UTF-8",
             MSSL_SERVER="http://127.0.0.1:%d" % fx.D.port,
             MSSL_CARD_MODULE="softhsm2")
    e.pop("MSSL_CLIENT_CONFIG", None)
    pre = ["--pin-fd", "4"] if pins else []
    return fx.run(MSSL, *pre, *args, fds=feeds, check=False, env=e)


def docs(p):
    """Every JSON document mssl --json printed, in order (check and
    issue print the dry run's report, then the certificate)."""
    d, text, res = json.JSONDecoder(), p.stdout, []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] not in "{[":
            return res
        try:
            v, i = d.raw_decode(text, i)
        except ValueError:
            return res
        res.append(v)


def js(p):
    """The (first) JSON document mssl --json printed, or None."""
    d = docs(p)
    return d[0] if d else None


def out(p):
    return "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr)


def card(label):
    return ["--token", "pkcs11:token=" + label]


def saved_token(who=None):
    """The bearer token mssl keeps in the person's session file."""
    try:
        with open(os.path.join(HOMES[who or WHO], "cfg", "mssl",
                               "session")) as f:
            return f.read().splitlines()[1]
    except (OSError, IndexError):
        return None


def balance():
    return js(mssl("--json", "account"))["balance"]


def csr(name, cn, subj=None, sans=None):
    """A P-256 CSR (file T/name.csr) with subject 'subj' (default C, L,
    O of the account and cn) and subject alternative names 'sans'
    (default [cn]; an IP address becomes an IP: name)."""
    path = os.path.join(fx.T, name + ".csr")
    subj = subj or "/C=TW/L=Taipei/O=%s/CN=%s" % (ORG, cn)
    sans = sans if sans is not None else [cn]
    args = ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            os.path.join(fx.T, name + ".key"), "-out", path, "-subj", subj,
            "-utf8"]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(
            ("IP:" if re.match(r"^[0-9.:]+$", x) else "DNS:") + x
            for x in sans)]
    fx.run(*args)
    return path


def codes(text):
    """The finding codes mssl's report lists ("[code]" ending a line
    under "Findings:"), in order."""
    res, on = [], False
    for line in text.splitlines():
        if line.startswith("Findings:"):
            on = True
        elif on and line.startswith("  "):
            m = re.search(r"\[([a-z_.]+)\]$", line)
            res.append(m.group(1) if m else "?")
        else:
            on = False
    return res


def setup():
    global SMTP
    fx.ORIGIN = None            # login proofs name the URL mssl uses
    fx.init("test-scenario")
    for who in ("mgr", "aud"):
        HOMES[who] = os.path.join(fx.T, "home-" + who)
        os.makedirs(HOMES[who])
    SMTP = None
    mail = ""
    # The sink first: mssld's mail job is configured with its port.
    sink = fx.smtp_sink()
    if sink:
        SMTP = sink
        mail = ("\n[mail]\nserver = 127.0.0.1\nport = %d\nsecurity = none\n"
                "from = mssl@ca.example.com\n" % sink[0])
    fx.setup_bare(["mgr", "aud"],
                  issuance="crl_file = %s/ca.crl\n" % fx.T,
                  mssld_extra="mail_flush_s = 1\n", extra=mail,
                  validators="validate-names, validate-domains, "
                  "validate-org, validate-key, validate-ev")


# ---- 1. the operator: account, domains, products, balance, cards (§1, §2) -

def step1_operator():
    r = adm("account", "create", "--id", "70759029-01", "--org-en", ORG,
            "--products", "ssl", "--supervisor-name", "Wang",
            "--supervisor-email", "wang@" + DOMAIN, check=False)
    ok(r.returncode == 2 and "70759029" in r.stderr,
       "1: an account ID with a bad UBN checksum is refused (2)", out(r))
    r = adm("account", "create", "--id", A, "--org-en", ORG, "--org-zh",
            "台灣網路認證股份有限公司", "--products", "ssl,wildcard,ev",
            "--ev-country", "TW", "--ev-category", "Private Organization",
            "--supervisor-name", "Wang Da-ming", "--supervisor-email",
            "wang@" + DOMAIN, "--supervisor-phone", "+886-2-2370-8886",
            check=False)
    ok(r.returncode == 0, "1: the operator creates the account "
       "(organisation, products SSL, Wildcard, EV with its vetting)", out(r))
    r = adm("domain", "add", A, "com.tw", check=False)
    ok(r.returncode != 0 and "com.tw" in r.stderr,
       "1: a public suffix is never an agreed domain", out(r))
    for d in (DOMAIN, SUB):
        r = adm("domain", "add", A, d, check=False)
        ok(r.returncode == 0, "1: agreed domain " + d, out(r))
    r = adm("topup", A, str(TOPUP), "--memo", "order 1", check=False)
    ok(r.returncode == 0, "1: %d cert-years sold (top-up)" % TOPUP, out(r))
    acc = json.loads(adm("--json", "account", "show", A).stdout)
    ok(acc["org_name_en"] == ORG and acc["balance"] == TOPUP and
       sorted(acc["domains"]) == sorted([DOMAIN, SUB]) and
       set(acc["products"].split(",")) == {"ssl", "wildcard", "ev"} and
       acc["ev"]["country"] == "TW" and
       acc["ev"]["category"] == "Private Organization",
       "1: the account as recorded: O, domains, products, EV data, balance",
       json.dumps(acc))
    S["mgr_pid"] = fx.enrol("mgr", A, "Lee Manager", "manager",
                            "mgr@" + DOMAIN)
    S["aud_pid"] = fx.enrol("aud", A, "Chen Auditor", "auditor",
                            "aud@" + DOMAIN)
    cards = {c["holder"]: c for c in
             json.loads(adm("--json", "card", "list", A).stdout)}
    ok(cards.get("Lee Manager", {}).get("role") == "manager" and
       cards.get("Chen Auditor", {}).get("role") == "auditor" and
       all(c["state"] == "issued_pin" for c in cards.values()) and
       len(cards) == 2,
       "1: a manager's and an auditor's card enrolled, on the issued PIN",
       json.dumps(cards))


# ---- 2. the manager's first login (§3) ----------------------------------------

MGR_PIN = "mgr-pin-01"


def step2_first_login():
    # The PIN change not done: the session may do nothing else.
    p = mssl(*card("mgr"), "login", "--account", A, pins=["12345678"])
    ok(p.returncode == 2 and "only the PIN change" in p.stdout and
       "issued PIN" in p.stdout,
       "2: first login: the issued PIN opens a PIN-change-only session",
       out(p))
    p = mssl("home")
    ok(p.returncode == 1 and "[auth.pin_change_required]" in p.stderr,
       "2: that session cannot see the home screen (1)", out(p))
    r = fx.call("GET", "/api/v1/certificates", token=saved_token())
    ok(r.status == 403 and r.err() == "auth.pin_change_required",
       "2: nor list certificates (403 auth.pin_change_required)", r)
    # The forced change, then that session is over.
    p = mssl(*card("mgr"), "--json", "login", "--account", A,
             pins=["12345678", MGR_PIN, MGR_PIN])
    j = js(p)
    ok(p.returncode == 0 and j and j["pin_change_required"] is True and
       j["menu"] == ["pin_change", "logout"] and "PIN changed" in p.stdout,
       "2: login on the issued PIN forces the PIN change (old PIN, new "
       "twice)", out(p))
    CARDS["mgr"]["pin"] = MGR_PIN
    r = fx.call("GET", "/api/v1/auth/me", token=j["token"] if j else "x")
    ok(r.status == 401 and r.err() == "auth.session",
       "2: the PIN change ended that session (401)", r)
    p = mssl("whoami")
    ok(p.returncode == 1 and saved_token() is None,
       "2: and mssl forgot it (whoami: not logged in)", out(p))
    p = mssl(*card("mgr"), "login", "--account", A, pins=["12345678"])
    ok(p.returncode == 1, "2: the issued PIN no longer opens the card (1)",
       out(p))
    p = mssl(*card("mgr"), "--json", "login", "--account", A,
             pins=[MGR_PIN])
    j = js(p)
    ok(p.returncode == 0 and j and j["role"] == "manager" and
       not j["pin_change_required"] and
       {"issue", "renew", "revoke"} <= set(j["menu"]),
       "2: login with the new PIN: a manager session, full menu", out(p))
    state = {c["holder"]: c["state"] for c in
             json.loads(adm("--json", "card", "list", A).stdout)}
    ok(state["Lee Manager"] != "issued_pin" and
       state["Chen Auditor"] == "issued_pin",
       "2: the server records the manager's card off its issued PIN", state)
    p = mssl("--json", "home")
    j = js(p)
    ok(p.returncode == 0 and j["balance"] == TOPUP and
       j["certificates"]["issued"] == 0,
       "2: home: balance and no certificate yet", out(p))


# ---- 3. issue SSL (OV), Wildcard and EV (§4) ------------------------------------

EV_SUBJ = ("/serialNumber=70759028/jurisdictionC=TW/businessCategory="
           "Private Organization/C=TW/L=Taipei/O=%s/CN=ww2.%s" % (ORG, SUB))
# name, product, CN, SANs, subject, years, vendor, tech e-mail, note, seal
ISSUES = [
    ("ssl", "ssl", "www." + DOMAIN, ["www." + DOMAIN, DOMAIN], None, 1,
     "nginx", "ssl-tech@" + DOMAIN, "主站 web, \"front\"", "Taiwan-CA"),
    ("wild", "wildcard", "*." + DOMAIN, ["*." + DOMAIN], None, 2, "IIS",
     "wild-tech@" + DOMAIN, "wildcard for the farm", "Taiwan-CA wildcard"),
    ("ev", "ev", "ww2." + SUB, ["ww2." + SUB], EV_SUBJ, 2, "Apache",
     "ev-tech@" + DOMAIN, "EV 主站", "Taiwan-CA EV"),
]


def issue_args(f, product, years, vendor, email, note, seal):
    args = ["--csr", f, "--product", product, "--years", str(years),
            "--vendor", vendor, "--tech-name", "Tech " + product.upper(),
            "--tech-email", email, "--tech-phone", "+886-2-2370-8886",
            "--note", note, "--passphrase-fd", "3"]
    if seal:
        args += ["--seal-name", seal]
    return args


def step3_issue():
    for name, prod, cn, sans, subj, years, vendor, email, note, seal in \
            ISSUES:
        f = csr(name, cn, subj=subj, sans=sans)
        p = mssl("check", "--csr", f, "--product", prod)
        ok(p.returncode == 0 and "The request can be issued." in p.stdout
           and all(re.search(re.escape(n) + r"\s+accepted", p.stdout)
                   for n in sans) and "O=" + ORG in p.stdout,
           "3: %s: the dry run shows the subject, every name accepted"
           % prod, out(p))
        before = balance()
        p = mssl("--json", "--yes", "issue",
                 *issue_args(f, prod, years, vendor, email, note, seal),
                 fd3=PASS)
        d = docs(p)
        c = d[-1] if len(d) == 2 else {}
        ok(p.returncode == 0 and d and d[0].get("issuable") is True and
           c.get("state") == "issued" and c.get("cn") == cn and
           c.get("product") == prod and c.get("years") == years,
           "3: %s: checked again, issued at once (%d cert-years)"
           % (prod, years), out(p))
        S[name] = c.get("serial")
        S[name + "_cert"] = c
        ok(balance() == before - years,
           "3: %s: the balance is charged %d cert-years" % (prod, years),
           "%d -> %d" % (before, balance()))
        j = js(mssl("--json", "cert", S[name] or "00"))
        tc = (j or {}).get("technical_contact") or {}
        ok(j and j["server_vendor"] == vendor and j["note"] == note and
           j["seal_name"] == seal and tc.get("email") == email and
           tc.get("name") == "Tech " + prod.upper() and
           tc.get("phone") == "+886-2-2370-8886" and
           j["requested_by"] and "Lee Manager" in j["requested_by"] and
           j["renewal_of"] is None,
           "3: %s: every SPEC 4.4 option is recorded" % prod, json.dumps(j))
    # The pass phrase is kept only as a salted hash.
    import sqlite3
    db = sqlite3.connect(os.path.join(fx.T, "mssl.db"))
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    ok(PASS not in dump, "3: the pass phrase is not in the store")


# ---- 4. refused requests, every finding listed (§4.2, §4.3) -------------------

REFUSED = [
    ("not an agreed domain", "bad-cn", "www.example.com", None, None, "ssl",
     ["domain.not_agreed"]),
    ("wrong O", "bad-o", "www." + DOMAIN,
     "/C=TW/L=Taipei/O=Wrong Corp./CN=www." + DOMAIN, None, "ssl",
     ["org.mismatch"]),
    ("an IP address as CN", "bad-ip", "192.168.1.1", None, [], "ssl",
     ["name.ip_address", "name.cn_not_in_san", "domain.not_agreed"]),
    ("an IDN (xn-- label)", "bad-idn", "xn--fiq228c." + DOMAIN, None, None,
     "ssl", ["name.punycode"]),
    ("a name too deep", "bad-deep", "www.level2." + DOMAIN, None, None,
     "ssl", ["domain.too_deep"]),
    ("everything at once", "bad-all", "www.level2." + DOMAIN,
     "/C=TW/L=Taipei/O=Wrong Corp./CN=www.level2." + DOMAIN,
     ["www.level2." + DOMAIN, "www.example.com", "10.1.2.3"], "ssl",
     ["name.san_type", "domain.too_deep", "domain.not_agreed",
      "org.mismatch"]),
    ("EV without the vetted attributes", "bad-ev", "ev2." + SUB, None, None,
     "ev", ["ev.serial_number", "ev.jurisdiction_country",
            "ev.business_category"]),
]


def step4_refused():
    for what, name, cn, subj, sans, prod, want in REFUSED:
        f = csr(name, cn, subj=subj, sans=sans)
        p = mssl("check", "--csr", f, "--product", prod)
        got = codes(p.stdout)
        ok(p.returncode == 1 and "cannot be issued" in p.stdout and
           sorted(got) == sorted(want),
           "4: %s: refused (1), findings %s" % (what, ", ".join(want)),
           out(p))
        j = js(mssl("--json", "check", "--csr", f, "--product", prod))
        ok(j and j["issuable"] is False and
           sorted(x["code"] for x in j["findings"]) == sorted(want) and
           all(x["severity"] == "error" or x["code"] == "name.cn_not_in_san"
               for x in j["findings"]),
           "4: %s: the same findings in the JSON report" % what,
           json.dumps(j, ensure_ascii=False))
    before = balance()
    f = os.path.join(fx.T, "bad-all.csr")
    p = mssl("--yes", "issue", *issue_args(f, "ssl", 1, "nginx",
                                           "t@" + DOMAIN, "x", "x"),
             fd3=PASS)
    ok(p.returncode == 1 and balance() == before and
       "cannot be issued" in p.stdout,
       "4: issue of a refused request: nothing issued or charged (1)",
       out(p))


if __name__ == "__main__":
    sys.exit(fx.main([setup, step1_operator, step2_first_login, step3_issue,
                      step4_refused]))
