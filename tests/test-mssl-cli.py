#!/usr/bin/env python3
"""mssl(1), the account user's client, against a real mssld: SoftHSM2
cards enrolled by mssl-admin, PINs typed through --pin-fd, the first
login's forced PIN change, every command a user runs (SPEC §3-§9), the
exit statuses 0/1/2, and certificates checked with certtool.  Speaks
TAP."""
import csv
import io
import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mssldfix as fx  # noqa: E402
from mssldfix import A, B, CARDS, ok, adm  # noqa: E402

HOME = None


def mssl(*args, pins=(), fd3=None, check=None, env=None):
    """Run mssl as the user (fx.mssl_as); 'check': the exit status it
    must end with."""
    p = fx.mssl_as(HOME, *args, pins=pins, fd3=fd3, env=env)
    if check is not None and p.returncode != check:
        raise RuntimeError("mssl %s: exit %d (want %d)\n%s%s" % (
            " ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p


def balance():
    return json.loads(mssl("--json", "account", check=0).stdout)["balance"]


def card(label):
    return ["--token", "pkcs11:token=" + label]


def setup():
    global HOME
    fx.ORIGIN = None
    fx.init("test-mssl-cli")
    HOME = os.path.join(fx.T, "home")
    os.makedirs(HOME)
    fx.setup([("alice", A, "Alice Wang", "manager"),
              ("bob", A, "Bob Lin", "auditor"),
              ("carol", B, "Carol Chen", "manager")],
             issuance="crl_file = %s/ca.crl\n" % fx.T)


def test_usage():
    p = mssl("frobnicate")
    ok(p.returncode == 2 and "unknown command" in p.stderr,
       "an unknown command is bad usage (2)", p.stderr)
    p = mssl("whoami", env={"MSSL_SERVER": "http://example.com"})
    ok(p.returncode == 2 and "https" in p.stderr,
       "plain http to a non-loopback server is refused (2)", p.stderr)
    p = mssl("--server", "http://example.com", "whoami")
    ok(p.returncode == 2 and "example.com" in p.stderr,
       "--server wins over MSSL_SERVER (2)", p.stderr)
    p = mssl("whoami")
    ok(p.returncode == 1 and "not logged in" in p.stderr,
       "whoami before login: refused (1), says to log in", p.stderr)
    p = mssl("login")
    ok(p.returncode == 2 and "--account" in p.stderr,
       "login without an account names --account (2)", p.stderr)
    cfg = os.path.join(fx.T, "bad.conf")
    with open(cfg, "w") as f:
        f.write("[client]\nserverr = x\n")
    p = mssl("--config", cfg, "whoami")
    ok(p.returncode == 2 and "bad.conf:2" in p.stderr and "serverr" in
       p.stderr, "a config typo names file, line and key (2)", p.stderr)


def test_first_login():
    p = mssl(*card("alice"), "login", "--account", A,
             pins=["12345678", "alice-pin-1", "alice-pin-1"])
    ok(p.returncode == 0 and "PIN changed" in p.stdout,
       "first login: issued PIN, forced change, told to log in again",
       p.stdout + p.stderr)
    CARDS["alice"]["pin"] = "alice-pin-1"
    p = mssl("whoami")
    ok(p.returncode == 1, "the PIN-change session ended with the change",
       p.stdout + p.stderr)
    p = mssl(*card("alice"), "login", "--account", A, pins=["12345678"])
    ok(p.returncode == 1 and "PIN" in p.stderr,
       "the issued PIN no longer works on the card (1)", p.stderr)
    p = mssl(*card("alice"), "login", "--account", A, pins=["alice-pin-1"])
    ok(p.returncode == 0 and "manager" in p.stdout,
       "login with the new PIN: a manager session", p.stdout + p.stderr)
    sess = os.path.join(HOME, "cfg", "mssl", "session")
    mode = stat.S_IMODE(os.stat(sess).st_mode)
    ok(mode == 0o600, "the session file is the user's only (0600)",
       oct(mode))
    p = mssl("--json", "whoami")
    j = json.loads(p.stdout)
    ok(p.returncode == 0 and j["account"]["id"] == A and
       j["role"] == "manager" and "issue" in j["menu"],
       "whoami --json: account, role and menu from the server", p.stdout)


def test_account_views():
    p = mssl("account")
    ok(p.returncode == 0 and fx.ORGS[A][0] in p.stdout and
       fx.ORGS[A][1] in p.stdout, "account: organisation and domains",
       p.stdout + p.stderr)
    p = mssl("home")
    ok(p.returncode == 0 and "Balance" in p.stdout, "home: the balance",
       p.stdout + p.stderr)
    p = mssl("--json", "activity")
    ok(p.returncode == 0 and json.loads(p.stdout)["items"][0]["kind"] ==
       "top-up", "activity --json: the ledger, newest first", p.stdout)


SERIAL = None


def issue_args(csr, **kw):
    args = ["--yes", "issue", "--csr", csr, "--years", "1", "--vendor",
            "nginx", "--tech-name", "Tech Lee", "--tech-email",
            "tech@twca.com.tw", "--seal-name", "Taiwan-CA",
            "--passphrase-fd", "3"]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), v]
    return args


def test_check_issue():
    global SERIAL
    fx.make_csr("www.twca.com.tw")
    good = os.path.join(fx.T, "r-www.twca.com.tw.pem")
    p = mssl("check", "--csr", good)
    ok(p.returncode == 0 and "can be issued" in p.stdout and
       "www.twca.com.tw" in p.stdout, "check: issuable, names shown (0)",
       p.stdout + p.stderr)
    p = mssl("check", "--csr", good, "--years", "2")
    price = [l for l in p.stdout.splitlines() if l.startswith("Price")]
    valid = [l for l in p.stdout.splitlines() if l.startswith("Validity")]
    ok(p.returncode == 0 and price and price[0].split()[-1] == "2" and
       valid and "(200 days)" in valid[0],
       "check --years 2: price 2 cert-years, 200 days of validity",
       p.stdout + p.stderr)
    p = mssl("--json", "check", "--csr", good, "--years", "9")
    ok(p.returncode != 0 and "years" in p.stdout + p.stderr,
       "check --years beyond the policy: refused naming years",
       p.stdout + p.stderr)
    fx.make_csr("www.level2.twca.com.tw")
    bad = os.path.join(fx.T, "r-www.level2.twca.com.tw.pem")
    p = mssl("check", "--csr", bad)
    ok(p.returncode == 1 and "domain." in p.stdout and "REFUSED" in
       p.stdout, "check: a name too deep is refused with its finding (1)",
       p.stdout + p.stderr)
    junk = os.path.join(fx.T, "junk.csr")
    with open(junk, "w") as f:
        f.write("not a request\n")
    p = mssl("check", "--csr", junk)
    ok(p.returncode == 2, "check: garbage is unusable input (2)",
       p.stdout + p.stderr)
    p = mssl("check", "--csr", os.path.join(fx.T, "missing.csr"))
    ok(p.returncode == 2 and "missing.csr" in p.stderr,
       "check: a missing file is named (2)", p.stderr)
    before = balance()
    p = mssl(*issue_args(good), fd3="pass phrase 1")
    ok(p.returncode == 0 and "Issued" in p.stdout,
       "issue: checked, confirmed (--yes) and issued (0)",
       p.stdout + p.stderr)
    for line in p.stdout.splitlines():
        if line.startswith("Serial"):
            SERIAL = line.split()[-1]
    ok(SERIAL and balance() == before - 1,
       "one cert-year charged", SERIAL)
    p = mssl(*issue_args(bad), fd3="pass phrase 1")
    ok(p.returncode == 1 and balance() == before - 1,
       "issue of a refused request: nothing issued or charged (1)",
       p.stdout + p.stderr)
    p = mssl("--yes", "issue", "--csr", good, "--years", "1",
             "--passphrase-fd", "3", fd3="pass phrase 1")
    ok(p.returncode == 2 and "required" in p.stderr,
       "issue without a terminal: a missing option is named (2)", p.stderr)


def test_certs_download():
    p = mssl("certs", "--cn", "www", "--state", "issued")
    ok(p.returncode == 0 and SERIAL in p.stdout,
       "certs --cn --state lists the certificate", p.stdout + p.stderr)
    p = mssl("certs", "--domain", fx.ORGS[B][1])
    ok(p.returncode == 0 and SERIAL not in p.stdout,
       "certs --domain of another domain: not listed", p.stdout)
    out = os.path.join(fx.T, "certs.csv")
    p = mssl("certs", "--csv", out)
    with open(out, "rb") as f:
        data = f.read()
    rows = list(csv.reader(io.StringIO(data[3:].decode())))
    ok(p.returncode == 0 and data[:3] == b"\xef\xbb\xbf" and
       any(SERIAL in r for r in rows), "certs --csv: the export with BOM",
       p.stderr)
    p = mssl("certs", "--csv", out)
    ok(p.returncode == 2 and "not overwritten" in p.stderr,
       "an existing file is not overwritten (2)", p.stderr)
    pem = os.path.join(fx.T, "dl.pem")
    p = mssl("download", SERIAL, "--format", "pem", "--out", pem)
    v = fx.run("certtool", "--verify", "--load-ca-certificate",
               os.path.join(fx.T, "ca", "root.pem"), "--infile", pem,
               check=False)
    i = fx.run("certtool", "-i", "--infile", pem, check=False)
    ok(p.returncode == 0 and "www.twca.com.tw" in i.stdout,
       "download --format pem: the certificate", p.stderr + i.stderr)
    chain = os.path.join(fx.T, "dl-chain.pem")
    p = mssl("download", SERIAL, "--format", "chain", "--out", chain)
    v = fx.run("certtool", "--verify-chain", "--infile", chain,
               check=False)
    ok(p.returncode == 0 and v.returncode == 0,
       "download --format chain: certtool verifies the chain",
       v.stdout + v.stderr)
    der = os.path.join(fx.T, "dl.der")
    p = mssl("download", SERIAL, "--format", "der", "--out", der)
    i = fx.run("certtool", "-i", "--inder", "--infile", der, check=False)
    ok(p.returncode == 0 and i.returncode == 0, "download --format der",
       i.stderr)
    p = mssl("download", SERIAL, "--format", "jpeg")
    ok(p.returncode == 2 and "pem" in p.stderr,
       "an unknown format names the choices (2)", p.stderr)
    p = mssl("cert", "ffff0000")
    ok(p.returncode == 1, "cert of an unknown serial: not found (1)",
       p.stderr)


def test_roles():
    p = mssl(*card("bob"), "login", "--account", A,
             pins=["12345678", "bob-pin-12", "bob-pin-12"])
    p = mssl(*card("bob"), "login", "--account", A, pins=["bob-pin-12"])
    ok(p.returncode == 0 and "auditor" in p.stdout, "the auditor logs in",
       p.stdout + p.stderr)
    p = mssl("certs")
    ok(p.returncode == 0 and SERIAL in p.stdout, "an auditor lists",
       p.stderr)
    good = os.path.join(fx.T, "r-www.twca.com.tw.pem")
    p = mssl(*issue_args(good), fd3="pass phrase 1")
    ok(p.returncode == 1, "an auditor cannot issue (1)", p.stdout + p.stderr)
    p = mssl("--yes", "revoke", SERIAL, "--reason", "superseded")
    ok(p.returncode == 1, "nor revoke (1)", p.stdout + p.stderr)
    p = mssl(*card("carol"), "login", "--account", B,
             pins=["12345678", "carol-pin-1", "carol-pin-1"])
    p = mssl(*card("carol"), "login", "--account", B, pins=["carol-pin-1"])
    p = mssl("cert", SERIAL)
    ok(p.returncode == 1, "another account's manager cannot see it (1)",
       p.stdout + p.stderr)
    p = mssl("logout")
    ok(p.returncode == 0 and "Logged out" in p.stdout, "logout",
       p.stdout + p.stderr)
    p = mssl("whoami")
    ok(p.returncode == 1, "after logout: not logged in (1)", p.stderr)


def test_revoke_renew():
    mssl(*card("alice"), "login", "--account", A, pins=["alice-pin-1"],
         check=0)
    p = mssl("renew")
    ok(p.returncode == 0 and SERIAL in p.stdout,
       "renew: the certificate is a candidate", p.stdout + p.stderr)
    fx.make_csr("www.twca.com.tw", tag="-renew")
    csr = os.path.join(fx.T, "r-www.twca.com.tw-renew.pem")
    args = issue_args(csr)
    args[1] = "renew"
    args.insert(2, SERIAL)
    p = mssl(*args, fd3="pass phrase 2")
    ok(p.returncode == 0 and "Issued" in p.stdout and "Renews" in p.stdout,
       "renew SERIAL: a new certificate linked to the old",
       p.stdout + p.stderr)
    p = mssl("revoke")
    ok(p.returncode == 0 and "keyCompromise" in p.stdout,
       "revoke: the candidates and the reasons", p.stdout + p.stderr)
    p = mssl("--yes", "revoke", SERIAL, "--reason", "superseded")
    ok(p.returncode == 0 and "revoked" in p.stdout,
       "revoke SERIAL --reason superseded", p.stdout + p.stderr)
    p = mssl("--json", "cert", SERIAL)
    ok(p.returncode == 0 and json.loads(p.stdout)["state"] == "revoked",
       "the certificate is revoked", p.stdout)
    p = mssl("--yes", "revoke", SERIAL, "--reason", "because")
    ok(p.returncode == 2, "an unknown reason is bad input (2)",
       p.stdout + p.stderr)


def test_pin_unlock():
    p = mssl(*card("alice"), "pin", "change",
             pins=["alice-pin-1", "alice-pin-2", "alice-pin-2"])
    ok(p.returncode == 0 and "PIN changed" in p.stdout,
       "pin change: recorded, session ended", p.stdout + p.stderr)
    p = mssl(*card("alice"), "login", "--account", A, pins=["wrong-pin-9"])
    ok(p.returncode == 1 and "tries left" in p.stderr,
       "a wrong PIN: the card's own count of tries left (1)", p.stderr)
    # The holder reports the card locked; the CA's operator approves.
    r = adm("--json", "card", "unlock-approve", str(CARDS["alice"]["card_id"]),
            "--verified-with", "Wang, by phone", "--show-code")
    code = json.loads(r.stdout)["code"]
    p = mssl(*card("alice"), "card", "unlock", "--account", A,
             pins=["WRONG-CODE-0000", "alice-pin-3", "alice-pin-3"])
    ok(p.returncode == 1, "unlock with a wrong code: refused (1)",
       p.stdout + p.stderr)
    p = mssl(*card("alice"), "card", "unlock", "--account", A,
             pins=[code, "alice-pin-3", "alice-pin-3"])
    ok(p.returncode == 0 and "unlocked" in p.stdout,
       "unlock with the mailed code and a new PIN", p.stdout + p.stderr)
    p = mssl(*card("alice"), "login", "--account", A, pins=["alice-pin-3"])
    ok(p.returncode == 0, "login with the new PIN after the unlock",
       p.stdout + p.stderr)


def test_tls():
    """Over mssld's own TLS the login is bound to the TLS connection: the
    client signs its exporter value (RFC 9266), read from the libcurl
    connection it then sends the login on."""
    ca, crt, key = fx.tls_files()
    fx.ORIGIN = "https://127.0.0.1:%d" % fx.D.port
    fx.restart("tls_cert = %s\ntls_key = %s\nlisten = 127.0.0.1\n"
               % (crt, key), tls_ca=ca)
    url = {"MSSL_SERVER": fx.ORIGIN}
    p = mssl(*card("alice"), "login", "--account", A, pins=["alice-pin-3"],
             env=url)
    ok(p.returncode == 1 and "certificate" in p.stderr.lower(),
       "TLS without the CA file: the server is not trusted (1)", p.stderr)
    url["MSSL_CA_FILE"] = ca
    p = mssl(*card("alice"), "login", "--account", A, pins=["alice-pin-3"],
             env=url)
    ok(p.returncode == 0 and "manager" in p.stdout,
       "login over TLS (mssld refuses a proof without the exporter)",
       p.stdout + p.stderr)
    p = mssl("whoami", env=url)
    ok(p.returncode == 0 and A in p.stdout,
       "the session works on a new TLS connection", p.stdout + p.stderr)


if __name__ == "__main__":
    sys.exit(fx.main([setup, test_usage, test_first_login,
                      test_account_views, test_check_issue,
                      test_certs_download, test_roles, test_revoke_renew,
                      test_pin_unlock, test_tls]))
