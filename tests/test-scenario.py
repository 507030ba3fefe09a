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
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mssldfix as fx  # noqa: E402
from mssldfix import A, CARDS, ok, adm  # noqa: E402

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
    (a HOME of their own: config and session file)."""
    return fx.mssl_as(HOMES[who or WHO], *args, pins=pins, fd3=fd3)


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
                  # The mail job every second; no CRL job: the CRL
                  # is the one the revocation itself publishes, never
                  # one of a periodic run racing it.
                  mssld_extra="mail_flush_s = 1\ncrl_check_s = 0\n",
                  extra=mail,
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


# ---- 2. the manager's first login (§3) --------------------------------------

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


# ---- 3. issue SSL (OV), Wildcard and EV (§4) --------------------------------

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
        p = mssl("check", "--csr", f, "--product", prod, "--years",
                 str(years))
        ok(p.returncode == 0 and "The request can be issued." in p.stdout
           and all(re.search(re.escape(n) + r"\s+accepted", p.stdout)
                   for n in sans) and "O=" + ORG in p.stdout and
           re.search(r"Price \(cert-years\)\s+%d\n" % years, p.stdout),
           "3: %s: the dry run shows the subject, every name accepted, "
           "the price (%d cert-years for a new CN)" % (prod, years), out(p))
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
        q = d[0] if d else {}
        v = q.get("validity") or {}
        ok(q.get("years") == years and q.get("price") == years and
           v.get("days") == (c.get("not_after", 0) -
                             c.get("not_before", 0)) // 86400 and
           v.get("term_until", 0) >= c.get("not_after", 1),
           "3: %s: the quote's price and validity are what was charged "
           "and given" % prod, json.dumps([q, c]))
        S[name + "_quote_term"] = v.get("term_until")
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
    # The same CN again inside its paid term (a new key): no charge.
    f = csr("ssl-reissue", "www." + DOMAIN, sans=["www." + DOMAIN, DOMAIN])
    p = mssl("--json", "check", "--csr", f, "--years", "1")
    j = js(p) or {}
    ok(p.returncode == 0 and j.get("price") == 0 and
       (j.get("validity") or {}).get("term_until") ==
       S["ssl_quote_term"],
       "3: a reissue of www inside its term is quoted at 0 cert-years, "
       "the term unchanged", out(p))
    # The pass phrase is kept only as a salted hash.
    db = sqlite3.connect(os.path.join(fx.T, "mssl.db"))
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    ok(PASS not in dump, "3: the pass phrase is not in the store")


# ---- 4. refused requests, every finding listed (§4.2, §4.3) -----------------

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


# ---- 5. the issuance e-mail (§4.6) ------------------------------------------

def step5_mail():
    if not SMTP:
        fx.skip("5: the issuance e-mails", "python3-aiosmtpd is missing")
        return
    want = {i[7]: i for i in ISSUES}

    def all_there(msgs):
        return set(want) <= {m["X-Envelope-To"] for m in msgs}

    msgs = fx.mail_wait(SMTP[1], all_there)
    ok(all_there(msgs), "5: mssld's mail job delivered a message to each "
       "technical contact", [(m["X-Envelope-To"], m["Subject"])
                             for m in msgs])
    for m in msgs:
        i = want.get(m["X-Envelope-To"])
        if not i:
            continue
        body = m.get_body(preferencelist=("plain",)).get_content()
        serial = S[i[0]]
        ok(i[2] in m["Subject"] and i[2] in body and serial in body and
           m["To"] == i[7],
           "5: %s: the e-mail to %s names the CN and serial %s"
           % (i[1], i[7], serial), str(m["Subject"]) + "\n" + body)
    S["mails"] = len(msgs)


# ---- 6. downloads, each format verified (§4.6, §7) --------------------------

def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE"
                      r"-----\n", text, re.S)


def leaf_first(blocks, issuing):
    """A PKCS#7 bag is a SET: its order says nothing.  The certificates
    that are not the issuing CA first."""
    return [b for b in blocks if b != issuing] + \
        [b for b in blocks if b == issuing]


def verify(name, blocks):
    """certtool and openssl both verify the leaf (blocks[0]) with the
    intermediates after it against the CA's root; (ok, diagnostics)."""
    root = os.path.join(fx.T, "ca", "root.pem")
    chain = os.path.join(fx.T, name + ".vchain.pem")
    leaf = os.path.join(fx.T, name + ".vleaf.pem")
    inter = os.path.join(fx.T, name + ".vinter.pem")
    with open(chain, "w") as f:
        f.write("".join(blocks))
    with open(leaf, "w") as f:
        f.write(blocks[0])
    with open(inter, "w") as f:
        f.write("".join(blocks[1:]))
    c = fx.run("certtool", "--verify", "--load-ca-certificate", root,
               "--infile", chain, check=False)
    o = fx.run("openssl", "verify", "-purpose", "sslserver", "-CAfile", root,
               "-untrusted", inter, leaf, check=False)
    good = (c.returncode == 0 and "Chain verification output: Verified"
            in c.stdout and o.returncode == 0 and
            o.stdout.strip().endswith(": OK"))
    return good, c.stdout + c.stderr + o.stdout + o.stderr


def download(serial, fmt, who=None):
    """mssl download SERIAL --format fmt into a new file: (process,
    the file's bytes or None)."""
    path = os.path.join(fx.T, "dl-%s-%s-%s" % (who or WHO, serial, fmt))
    p = mssl("download", serial, "--format", fmt, "--out", path, who=who)
    try:
        with open(path, "rb") as f:
            return p, f.read()
    except OSError:
        return p, None


def step6_download():
    issuing = open(os.path.join(fx.T, "ca", "issuing.pem")).read()
    ssl_serial = S["ssl"]
    p, pem = download(ssl_serial, "pem")
    blocks = pem_blocks((pem or b"").decode())
    ok(p.returncode == 0 and len(blocks) == 1, "6: pem: the certificate",
       out(p))
    S["ssl_pem"] = blocks[0] if blocks else ""
    good, why = verify("pem", blocks + [issuing])
    ok(good, "6: pem: certtool --verify and openssl verify -purpose "
       "sslserver accept it with the issuing CA", why)
    p, chain = download(ssl_serial, "chain")
    cb = pem_blocks((chain or b"").decode())
    ok(p.returncode == 0 and len(cb) == 2 and cb[0] == S["ssl_pem"] and
       cb[1] == issuing, "6: chain: the certificate, then the issuing CA "
       "(no root)", out(p))
    good, why = verify("chain", cb)
    ok(good, "6: chain: verified as downloaded", why)
    p, der = download(ssl_serial, "der")
    x = fx.run("openssl", "x509", "-inform", "DER", "-in",
               os.path.join(fx.T, "dl-mgr-%s-der" % ssl_serial),
               check=False)
    ok(p.returncode == 0 and der and der[:1] == b"\x30" and
       x.returncode == 0 and x.stdout == S["ssl_pem"],
       "6: der: the same certificate, DER", out(p) + x.stderr)
    good, why = verify("der", [x.stdout, issuing])
    ok(good, "6: der: verified", why)
    p, p7b = download(ssl_serial, "p7b")
    x = fx.run("openssl", "pkcs7", "-print_certs", "-in",
               os.path.join(fx.T, "dl-mgr-%s-p7b" % ssl_serial),
               check=False)
    pb = leaf_first(pem_blocks(x.stdout), issuing)
    ok(p.returncode == 0 and x.returncode == 0 and len(pb) == 2 and
       pb[0] == S["ssl_pem"] and pb[1] == issuing,
       "6: p7b: PKCS#7 with the certificate and the issuing CA "
       "(openssl pkcs7 -print_certs)", out(p) + x.stdout + x.stderr)
    good, why = verify("p7b", pb)
    ok(good, "6: p7b: verified", why)
    # vendor: the format of each certificate's server software.
    for name, vend_fmt in (("ssl", "chain"), ("wild", "p7b"),
                           ("ev", "chain")):
        serial = S[name]
        p, vend = download(serial, "vendor")
        _, same = download(serial, vend_fmt)
        ok(p.returncode == 0 and vend and vend == same,
           "6: vendor of %s (%s): the %s download" % (
               name, S[name + "_cert"].get("server_vendor") or
               [i[6] for i in ISSUES if i[0] == name][0], vend_fmt), out(p))
        if vend_fmt == "p7b":
            x = fx.run("openssl", "pkcs7", "-print_certs", "-in",
                       os.path.join(fx.T, "dl-mgr-%s-vendor" % serial),
                       check=False)
            vb = leaf_first(pem_blocks(x.stdout), issuing)
        else:
            vb = pem_blocks((vend or b"").decode())
        good, why = verify("vendor-" + name, vb)
        ok(good, "6: vendor of %s: verified" % name, why)
        t = fx.run("openssl", "x509", "-noout", "-text", "-nameopt",
                   "RFC2253", check=False, stdin=vb[0] if vb else "")
        S[name + "_text"] = t.stdout
    t = S["ssl_text"]
    ok("CN=www.%s,O=%s,L=Taipei,C=TW" % (DOMAIN, ORG) in t and
       "DNS:www.%s, DNS:%s\n" % (DOMAIN, DOMAIN) in t and
       "TLS Web Server Authentication" in t and "2.23.140.1.2.2" in t,
       "6: the SSL certificate: subject as asked, both names, serverAuth, "
       "the OV policy",
       t)
    t = S["wild_text"]
    ok("CN=*.%s" % DOMAIN in t and "DNS:*.%s" % DOMAIN in t,
       "6: the Wildcard certificate: *.%s" % DOMAIN, t)
    t = S["ev_text"]
    ok("serialNumber=70759028" in t and "jurisdictionC=TW" in t and
       "businessCategory=Private Organization" in t and
       "2.23.140.1.1" in t,
       "6: the EV certificate: UBN, jurisdiction, category, EV policy", t)


# ---- 7. renewal (§6) --------------------------------------------------------

def step7_renew():
    old = S["ssl"]
    o = js(mssl("--json", "cert", old)) or {}
    p = mssl("renew")
    ok(p.returncode == 0 and old in p.stdout and S["ev"] in p.stdout,
       "7: renew: the issued certificates are candidates", out(p))
    other = csr("renew-other", "www2." + DOMAIN)
    before = balance()
    p = mssl("--yes", "renew", old,
             *issue_args(other, "ssl", 1, "nginx", "ssl-tech@" + DOMAIN,
                         "renewal", None), fd3=PASS)
    ok(p.returncode == 1 and codes(p.stdout) == ["request.renew_cn"] and
       balance() == before,
       "7: a renewal with another CN: refused (request.renew_cn), nothing "
       "charged", out(p))
    f = csr("renew", "www." + DOMAIN, sans=["www." + DOMAIN, DOMAIN])
    # No --seal-name: the CN was issued before, the server fills it in.
    p = mssl("--json", "--yes", "renew", old,
             *issue_args(f, "ssl", 1, "nginx", "ssl-tech@" + DOMAIN,
                         "renewal", None), fd3=PASS)
    d = docs(p)
    new = d[-1] if len(d) == 2 else {}
    S["renew"] = new.get("serial")
    ok(p.returncode == 0 and d[0].get("issuable") is True and
       new.get("state") == "issued" and S["renew"] != old,
       "7: renew SERIAL: checked, confirmed, a new certificate", out(p))
    j = js(mssl("--json", "cert", S["renew"] or "00")) or {}
    ok(j.get("cn") == o.get("cn") == "www." + DOMAIN and
       j.get("renewal_of") == old,
       "7: the new certificate's CN equals the old; renewal_of links it",
       json.dumps(j))
    ok(j.get("seal_name") == o.get("seal_name") == "Taiwan-CA",
       "7: the site-seal name is filled in from the CN's last certificate",
       json.dumps(j))
    # Terms (doc/ARCHITECTURE.md "Cert-years as terms"): the CN's term
    # has most of its year left, so this renewal charges nothing and the
    # certificate ends no earlier than the old one.
    ok(j.get("years") == 0 and balance() == before and
       d and d[0].get("price") == 0 and
       j.get("not_after", 0) >= o.get("not_after", 1),
       "7: inside the CN's paid term: quoted and charged 0, validity not "
       "shortened",
       "balance %d -> %d; %s" % (before, balance(), json.dumps(j)))
    o2 = js(mssl("--json", "cert", old)) or {}
    ok(o2.get("state") == "issued",
       "7: the old certificate stays valid until the holder revokes it",
       json.dumps(o2))


# ---- 8. revocation with refund, the CRL (§5) --------------------------------

def step8_revoke():
    wild = S["wild"]
    p = mssl("revoke")
    ok(p.returncode == 0 and wild in p.stdout and "keyCompromise" in
       p.stdout, "8: revoke: the valid certificates and the RFC 5280 "
       "reasons", out(p))
    before = balance()
    p = mssl("--yes", "revoke", wild, "--reason", "keyCompromise")
    ok(p.returncode == 0 and ("%s revoked" % wild) in p.stdout,
       "8: revoke the Wildcard for keyCompromise", out(p))
    ok(balance() == before + 2,
       "8: inside the refund window: its 2 cert-years refunded",
       "%d -> %d" % (before, balance()))
    j = js(mssl("--json", "cert", wild)) or {}
    ok(j.get("state") == "revoked" and
       j.get("revoke_reason") == "keyCompromise" and j.get("revoked_at"),
       "8: the certificate is revoked, with time and reason", json.dumps(j))
    p = mssl("--yes", "revoke", wild, "--reason", "superseded")
    ok(p.returncode == 1 and balance() == before + 2,
       "8: a second revocation is refused, nothing refunded twice", out(p))
    # The CRL as anybody fetches it, over HTTP from mssld.
    r = fx.call("GET", "/crl/ca.crl")
    crl = os.path.join(fx.T, "got.crl")
    with open(crl, "wb") as f:
        f.write(r.body or b"")
    x = fx.run("openssl", "crl", "-inform", "DER", "-in", crl, "-text",
               "-noout", "-CAfile", os.path.join(fx.T, "ca", "issuing.pem"),
               check=False)
    fx.run("openssl", "crl", "-inform", "DER", "-in", crl, "-out",
           os.path.join(fx.T, "got-crl.pem"), check=False)
    listed = [m.lower() for m in
              re.findall(r"Serial Number: ([0-9A-F]+)", x.stdout)]
    ok(r.status == 200 and r.headers.get("content-type") ==
       "application/pkix-crl" and x.returncode == 0 and
       "verify OK" in x.stderr + x.stdout,
       "8: GET /crl/ca.crl: a DER CRL signed by the issuing CA", out(x))
    ok(listed == [wild] and "Key Compromise" in x.stdout,
       "8: the CRL lists the revoked serial (and only it), with its reason",
       x.stdout)
    c = fx.run("certtool", "--crl-info", "--inder", "--infile", crl,
               check=False)
    ok(c.returncode == 0 and wild in c.stdout.replace(":", "").lower(),
       "8: certtool reads the same CRL entry", c.stdout + c.stderr)
    leaf = os.path.join(fx.T, "wild-leaf.pem")
    with open(leaf, "w") as f:
        f.write(pem_blocks(open(os.path.join(
            fx.T, "vendor-wild.vleaf.pem")).read())[0])
    v = fx.run("openssl", "verify", "-crl_check", "-CRLfile",
               os.path.join(fx.T, "got-crl.pem"), "-CAfile",
               os.path.join(fx.T, "ca", "root.pem"), "-untrusted",
               os.path.join(fx.T, "ca", "issuing.pem"), leaf, check=False)
    ok(v.returncode != 0 and "certificate revoked" in v.stdout + v.stderr,
       "8: openssl verify -crl_check: the Wildcard is revoked", out(v))
    f = csr("wild-again", "*." + DOMAIN)
    j = js(mssl("--json", "check", "--csr", f, "--product", "wildcard",
                "--years", "2")) or {}
    ok(j.get("issuable") is True and j.get("price") == 2,
       "8: the refund ended the CN's term: a new key is quoted 2 "
       "cert-years again", json.dumps(j))
    p = mssl("check", "--csr", os.path.join(fx.T, "wild.csr"), "--product",
             "wildcard")
    ok(p.returncode == 1 and codes(p.stdout) == ["key.blocked"],
       "8: keyCompromise blocked its key: the same request is refused now",
       out(p))


# ---- 9. the activity log (§7) -----------------------------------------------

def step9_activity():
    p = mssl("--json", "activity")
    j = js(p) or {}
    items = j.get("items", [])
    got = [(x["kind"], x["delta"], x["certificate"]) for x in items]
    want = [("refund", 2, S["wild"]), ("charge", -2, S["ev"]),
            ("charge", -2, S["wild"]), ("charge", -1, S["ssl"]),
            ("top-up", TOPUP, None)]
    ok(p.returncode == 0 and got == want and j.get("has_more") is False,
       "9: activity: every balance change, newest first (refund, 3 "
       "charges, top-up)", out(p))
    ids = [x["id"] for x in items]
    times = [x["time"] for x in items]
    ok(ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) and
       times == sorted(times, reverse=True),
       "9: ordered newest first", list(zip(ids, times)))
    chain = all(items[k]["balance_after"] - items[k]["delta"] ==
                items[k + 1]["balance_after"] for k in range(len(items) - 1))
    ok(chain and items and items[-1]["balance_after"] == items[-1]["delta"],
       "9: each entry's balance after it follows from the one before",
       json.dumps(items))
    home = js(mssl("--json", "home")) or {}
    ok(items and items[0]["balance_after"] == balance() ==
       home.get("balance") == TOPUP - 5 + 2,
       "9: the balance agrees with the ledger (account and home)",
       "%s %s" % (balance(), home.get("balance")))
    ok(all("Lee Manager" in (x["actor"] or "") for x in items[:-1]) and
       items[-1]["actor"].startswith("operator:"),
       "9: each entry names the person behind it",
       [x["actor"] for x in items])
    r = adm("ledger", "check", A, check=False)
    ok(r.returncode == 0, "9: mssl-admin ledger check: consistent", out(r))
    p = mssl("activity")
    ok(p.returncode == 0 and all(x[2] in p.stdout for x in want[:4]),
       "9: the human table names the certificates", out(p))


# ---- 10. the CSV export matches the list (§7) -------------------------------

CSV_HEAD = ["serial", "cn", "product", "state", "years", "not_before",
            "not_after", "created", "revoked_at", "revoke_reason",
            "server_vendor", "technical_contact", "technical_email",
            "technical_phone", "seal_name", "renewal_of", "requested_by",
            "note"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else ""


def cell(v):
    """A value as the export writes it: text a spreadsheet would run as
    a formula (=, +, -, @ first) behind an apostrophe (OWASP)."""
    v = "" if v is None else str(v)
    return "'" + v if v[:1] in ("=", "+", "-", "@") else v


def step10_csv():
    j = js(mssl("--json", "certs")) or {}
    items = j.get("items", [])
    ok(sorted(x["serial"] for x in items) ==
       sorted([S["ssl"], S["wild"], S["ev"], S["renew"]]),
       "10: certs --json: the account's 4 certificates", json.dumps(j))
    path = os.path.join(fx.T, "certs.csv")
    p = mssl("certs", "--csv", path)
    data = open(path, "rb").read() if os.path.exists(path) else b""
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"),
                                       newline="")))
    ok(p.returncode == 0 and data[:3] == b"\xef\xbb\xbf" and rows and
       rows[0] == CSV_HEAD and b"\r\n" in data,
       "10: certs --csv FILE: UTF-8 with BOM, CRLF, the header", out(p))
    body = rows[1:]
    ok(len(body) == len(items) and
       [r[0] for r in body] == [x["serial"] for x in items],
       "10: the same rows in the same order as the list",
       "%s\n%s" % ([r[0] for r in body], [x["serial"] for x in items]))
    bad = []
    for r, x in zip(body, items):
        row = dict(zip(CSV_HEAD, r))
        full = js(mssl("--json", "cert", x["serial"])) or {}
        tc = full.get("technical_contact") or {}
        want = {"serial": x["serial"], "cn": x["cn"],
                "product": x["product"], "state": x["state"],
                "years": str(x["years"]), "not_before": iso(x["not_before"]),
                "not_after": iso(x["not_after"]),
                "created": iso(x["created"]),
                "revoked_at": iso(x["revoked_at"]),
                "revoke_reason": x["revoke_reason"], "note": x["note"],
                "server_vendor": full.get("server_vendor"),
                "technical_contact": tc.get("name"),
                "technical_email": tc.get("email"),
                "technical_phone": tc.get("phone"),
                "seal_name": full.get("seal_name"),
                "renewal_of": full.get("renewal_of"),
                "requested_by": full.get("requested_by")}
        want = {k: cell(v) for k, v in want.items()}
        if row != want:
            bad.append((row, want))
    ok(not bad and body, "10: every field of every row agrees with the "
       "list and the certificate (Chinese notes, quotes, commas; a phone "
       "+886... behind the formula guard)",
       json.dumps(bad, ensure_ascii=False, indent=1))


# ---- 11. the auditor reads, cannot act (§1, §7) -----------------------------

AUD_PIN = "aud-pin-01"


def step11_auditor():
    global WHO
    WHO = "aud"
    p = mssl(*card("aud"), "login", "--account", A,
             pins=["12345678", AUD_PIN, AUD_PIN])
    ok(p.returncode == 0 and "PIN changed" in p.stdout,
       "11: the auditor's first login: the forced PIN change", out(p))
    CARDS["aud"]["pin"] = AUD_PIN
    p = mssl(*card("aud"), "--json", "login", "--account", A,
             pins=[AUD_PIN])
    j = js(p) or {}
    ok(p.returncode == 0 and j.get("role") == "auditor" and
       not {"issue", "renew", "revoke"} & set(j.get("menu", ["issue"])),
       "11: the auditor logs in; the menu has no issue, renew, revoke",
       out(p))
    p = mssl("--json", "home")
    ok(p.returncode == 0 and (js(p) or {}).get("balance") == TOPUP - 3,
       "11: the auditor reads home", out(p))
    p = mssl("--json", "certs")
    ok(p.returncode == 0 and len((js(p) or {}).get("items", [])) == 4,
       "11: the auditor lists the certificates", out(p))
    p = mssl("--json", "activity")
    ok(p.returncode == 0 and len((js(p) or {}).get("items", [])) == 5,
       "11: the auditor reads the activity log", out(p))
    p, pem = download(S["ssl"], "pem")
    ok(p.returncode == 0 and pem and pem.decode() == S["ssl_pem"],
       "11: the auditor downloads the certificate", out(p))
    tok = saved_token()
    before = balance()
    f = csr("aud", "aud." + DOMAIN)
    p = mssl("--yes", "issue", *issue_args(f, "ssl", 1, "nginx",
                                           "t@" + DOMAIN, "x", "x"),
             fd3=PASS)
    r = fx.call("POST", "/api/v1/certificates", fx.issue_body(
        open(f).read()), token=tok)
    ok(p.returncode == 1 and "[auth.role]" in p.stderr and r.status == 403
       and r.err() == "auth.role",
       "11: mssl issue is refused (1): 403 auth.role", out(p) + repr(r))
    p = mssl("--yes", "revoke", S["ev"], "--reason", "superseded")
    r = fx.call("POST", "/api/v1/certificates/%s/revoke" % S["ev"],
                {"reason": "superseded"}, token=tok)
    ok(p.returncode == 1 and "[auth.role]" in p.stderr and r.status == 403
       and r.err() == "auth.role",
       "11: mssl revoke is refused (1): 403 auth.role", out(p) + repr(r))
    p = mssl("renew")
    ok(p.returncode == 1 and "[auth.role]" in p.stderr,
       "11: so is the renewal screen (1)", out(p))
    WHO = "mgr"
    j = js(mssl("--json", "cert", S["ev"])) or {}
    ok(balance() == before and j.get("state") == "issued" and
       len((js(mssl("--json", "certs")) or {}).get("items", [])) == 4,
       "11: nothing was issued, revoked or charged", json.dumps(j))


# ---- 12. the manager changes the PIN: the session ends (§8) -----------------

def step12_pin_change():
    old_tok = saved_token("mgr")
    p = mssl("whoami")
    ok(p.returncode == 0 and old_tok, "12: the manager's session works",
       out(p))
    new_pin = "mgr-pin-02"
    p = mssl(*card("mgr"), "pin", "change",
             pins=[MGR_PIN, new_pin, new_pin])
    ok(p.returncode == 0 and "PIN changed" in p.stdout,
       "12: mssl pin change: old PIN, new PIN twice", out(p))
    CARDS["mgr"]["pin"] = new_pin
    r = fx.call("GET", "/api/v1/auth/me", token=old_tok)
    ok(r.status == 401 and r.err() == "auth.session",
       "12: the old session no longer works (401 auth.session)", r)
    p = mssl("whoami")
    ok(p.returncode == 1, "12: mssl whoami: not logged in (1)", out(p))
    p = mssl(*card("mgr"), "login", "--account", A, pins=[MGR_PIN])
    ok(p.returncode == 1, "12: the old PIN no longer opens the card (1)",
       out(p))
    p = mssl(*card("mgr"), "login", "--account", A, pins=[new_pin])
    ok(p.returncode == 0 and "manager" in p.stdout,
       "12: login with the new PIN", out(p))
    p = mssl("whoami", who="aud")
    ok(p.returncode == 0 and "auditor" in p.stdout,
       "12: the auditor's session is untouched", out(p))


if __name__ == "__main__":
    sys.exit(fx.main([setup, step1_operator, step2_first_login, step3_issue,
                      step4_refused, step5_mail, step6_download,
                      step7_renew, step8_revoke, step9_activity,
                      step10_csv, step11_auditor, step12_pin_change]))
