"""Fixtures for the tests that drive a real mssld(8) with real cards
(tests/test-mssld-api.py, tests/test-mssld-authz.py): TAP output, a card
CA and SoftHSM2 tokens enrolled by mssl-admin through libmssl-token, a CA
from `mssl-admin ca init`, a SQLite store, mssld on loopback (plain HTTP
or native TLS), and the client side of the API: JSON calls, card logins
signed by tests/mssld-prove, PIN changes with mssl-card.

Module state (T, D, CARDS) belongs to the one test script that imports
it.  Use:

    import mssldfix as fx
    fx.init("test-x")
    def my_setup():
        fx.setup(CARDS_SPEC)  # accounts fx.A and fx.B, cards, mssld
    ...fx.ok(...)...
    sys.exit(fx.main([my_setup, test_a, test_b]))
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import http.client

TOP = os.environ.get("MSSL_TOP_BUILDDIR")
PLUGINS = os.environ.get("MSSL_PLUGIN_BUILDDIR")
SRC = os.environ.get("MSSL_TEST_SRCDIR",
                     os.path.dirname(os.path.abspath(__file__)))
if not TOP or not PLUGINS:
    print("Bail out! run me through make check (MSSL_TOP_BUILDDIR)")
    sys.exit(99)
MSSLD = os.path.join(TOP, "daemon", "mssld", "mssld")
ADMIN = os.path.join(TOP, "daemon", "mssl-admin")
MSSL = os.path.join(TOP, "cli", "mssl")
CARD = os.path.join(TOP, "tokens", "mssl-card")
PROVE = os.path.join(TOP, "tests", "mssld-prove")
# What [login] origin says; None: the daemon's own plain-HTTP loopback
# URL, as a client that signs the URL it connects to (mssl) needs.
ORIGIN = "https://mssl.test"
A = "70759028-01"   # Taiwan-CA Inc., twca.com.tw
B = "12345675-01"   # Other Co., Ltd., other.com.tw
ORGS = {A: ("Taiwan-CA Inc.", "twca.com.tw"),
        B: ("Other Co., Ltd.", "other.com.tw")}
ISSUED_PIN = "12345678"
TRANSPORT_SO = "87654321"

n = 0
failed = 0
T = None        # the test's temporary directory
D = None        # the running Daemon
procs = []
CARDS = {}      # label -> {"pin", "account", "role", "name", "card_id",
                #           "serial"}
_conf = {}      # what setup() put in the configuration


# ---- TAP -------------------------------------------------------------------

def ok(cond, name, diag_text=None):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        if diag_text is not None:
            for line in str(diag_text).splitlines()[:40]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def skip(name, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, name, why))
    sys.stdout.flush()


def diag(text):
    for line in str(text).splitlines():
        print("# " + line)


def init(prefix):
    """The temporary directory of this test run."""
    global T
    T = tempfile.mkdtemp(prefix=prefix + ".")
    return T


def main(tests):
    """Run the functions in order (the first is usually the test's setup,
    calling setup()), then stop the daemon cleanly and print the plan.
    KEEP=1 in the environment keeps the temporary directory (store,
    logs) for a post-mortem.
    A fixture failure is one failed test with its traceback and the
    daemon's last log lines."""
    try:
        for t in tests:
            t()
        ok(D.p.poll() is None, "the daemon is still up")
        ok(D.stop() == 0, "and stops cleanly")
    except Exception:
        import traceback
        ok(False, "the test script ran to its end", traceback.format_exc())
        if D:
            try:
                with open(os.path.join(T, "mssld.log")) as f:
                    diag(f.read()[-3000:])
            except OSError:
                pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if not os.environ.get("KEEP"):
            shutil.rmtree(T, ignore_errors=True)
    print("1..%d" % n)
    return 0


# ---- processes ---------------------------------------------------------------

def run(*args, stdin=None, check=True, fds=None, env=None):
    """Run a tool; fds maps descriptor numbers in the child to text fed
    on them (as a holder types PINs into --pin-fd); env: its whole
    environment (default: ours)."""
    pipes = []
    for fd, text in (fds or {}).items():
        r, w = os.pipe()
        os.write(w, text.encode())
        os.close(w)
        pipes.append((r, fd))

    def child():
        # Out of the way first: a pipe's own number may be another's
        # target.
        high = [(os.dup(r), fd) for r, fd in pipes]
        for h, fd in high:
            os.dup2(h, fd)

    try:
        p = subprocess.run(args, input=stdin, capture_output=True, text=True,
                           pass_fds=[x for rf in pipes for x in rf],
                           preexec_fn=child if pipes else None, env=env)
    finally:
        for r, _ in pipes:
            os.close(r)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s%s" % (" ".join(args),
                                                  p.returncode, p.stdout,
                                                  p.stderr))
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the route table and its document -------------------------------------

def routes():
    """mssld --routes: (METHOD, path) -> its authentication."""
    p = subprocess.run([MSSLD, "--routes"], capture_output=True,
                       text=True, check=True)
    return {tuple(line.split()[:2]): line.split()[2]
            for line in p.stdout.splitlines()}


def openapi():
    """doc/api/openapi.yaml: (METHOD, path) -> {"roles": x-mssl-roles
    or None, "statuses": {the documented response codes}}."""
    doc = {}
    path = op = None
    with open(os.path.join(SRC, "..", "doc", "api", "openapi.yaml")) as f:
        in_paths = False
        for line in f:
            if line.startswith("paths:"):
                in_paths = True
                continue
            if in_paths and re.match(r"^\S", line):
                in_paths = False
            if not in_paths:
                continue
            m = re.match(r"^  (/\S*):\s*$", line)
            if m:
                path = m.group(1)
                continue
            m = re.match(r"^    (get|post|put|patch|delete|head|options):",
                         line)
            if m and path:
                op = doc[(m.group(1).upper(), path)] = {"roles": None,
                                                        "statuses": set()}
                continue
            m = re.match(r"^      x-mssl-roles: \[(.*)\]", line)
            if m and op is not None:
                op["roles"] = [x.strip() for x in m.group(1).split(",")]
            m = re.match(r'^        "(\d{3})":', line)
            if m and op is not None:
                op["statuses"].add(int(m.group(1)))
    return doc


def wait_listening(p, port, errfile, secs=15):
    """Return once process p accepts connections on the loopback port;
    RuntimeError with what it wrote to errfile when it dies first or
    takes longer than secs."""
    deadline = time.time() + secs
    while time.time() < deadline and p.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    with open(errfile, errors="replace") as f:
        raise RuntimeError("mssld did not start: " + f.read())


def terminate(p):
    """SIGTERM (SIGKILL after 20 s) unless p has ended: its exit status."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


class Daemon:
    """mssld on loopback with the configuration text given; tls_ca set
    means it speaks native TLS and clients trust that CA file."""

    def __init__(self, conf_text, port, tls_ca=None):
        self.port = port
        self.tls_ca = tls_ca
        self.conf = os.path.join(T, "mssl.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.err = open(os.path.join(T, "mssld.err"), "a")
        self.p = subprocess.Popen([MSSLD, "--config", self.conf],
                                  stdout=self.err, stderr=self.err)
        procs.append(self.p)
        wait_listening(self.p, port, os.path.join(T, "mssld.err"))

    def stop(self):
        rc = terminate(self.p)
        self.err.close()
        return rc

    def status(self, key):
        """A line of /proc/PID/status in KiB (VmRSS, VmHWM)."""
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return None


# ---- HTTP ----------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def err(self):
        """The error code of the one JSON error shape, or None."""
        j = self.json()
        if not isinstance(j, dict) or "error" not in j:
            return None
        e = j["error"]
        if set(e) != {"code", "message", "message_zh", "field"}:
            return None
        return e["code"]

    def __repr__(self):
        return "%d %s %r" % (self.status, self.headers,
                             self.body[:600])


def connection(timeout=60):
    if D.tls_ca:
        ctx = ssl.create_default_context(cafile=D.tls_ca)
        return http.client.HTTPSConnection("localhost", D.port,
                                           timeout=timeout, context=ctx)
    return http.client.HTTPConnection("127.0.0.1", D.port, timeout=timeout)


def call(method, path, body=None, token=None, cookie=None, csrf=None,
         headers=None, raw=None, stream=None):
    """One request on a new connection.  stream(resp) may read a large
    body itself (the Resp then has body None)."""
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if cookie:
        h["Cookie"] = "mssl_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c = connection()
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        hd = {k.lower(): v for k, v in r.getheaders()}
        if stream:
            stream(r)
            return Resp(r.status, hd, None)
        return Resp(r.status, hd, r.read())
    finally:
        c.close()


# ---- cards -------------------------------------------------------------------

def adm(*args, fds=None, check=True):
    return run(ADMIN, "--config", D.conf, *args, fds=fds, check=check)


def card_tool(label, *args, fds=None, check=False):
    return run(CARD, "--module", "softhsm2", "--token",
               "pkcs11:token=" + label, *args, fds=fds, check=check)


def challenge(account):
    r = call("POST", "/api/v1/auth/challenge", {"account_id": account})
    if r.status != 200:
        raise RuntimeError("challenge: %r" % r)
    return r.json()


def prove(label, pin, account, nonce, origin=ORIGIN, when=None):
    args = [PROVE, "--module", "softhsm2", "--token",
            "pkcs11:token=" + label, "--pin", pin, "--origin", origin,
            "--account", account, "--nonce", nonce]
    if when is not None:
        args += ["--time", str(when)]
    p = run(*args, check=False)
    if p.returncode != 0:
        raise RuntimeError("mssld-prove: " + p.stderr)
    return json.loads(p.stdout)


def login_body(label, pin=None, account=None, mode="bearer", origin=ORIGIN):
    """A complete login body signed by the card 'label' (for its own
    account unless 'account' names another)."""
    c = CARDS[label]
    account = account or c["account"]
    ch = challenge(account)
    pr = prove(label, pin or c["pin"], account, ch["nonce"], origin)
    body = {"account_id": account, "origin": origin, "nonce": ch["nonce"],
            "session": mode}
    body.update(pr)
    return body


def proof_body(label, account=None):
    """A fresh login proof by 'label' without the session mode (the PIN
    change takes one)."""
    body = login_body(label, account=account)
    del body["session"]
    return body


def login(label, mode="bearer", headers=None):
    return call("POST", "/api/v1/auth/login", login_body(label, mode=mode),
                headers=headers)


def change_pin(label, new_pin):
    """The holder changes the PIN on the card, then proves it."""
    c = CARDS[label]
    r = login(label)
    tok = r.json()["token"]
    p = card_tool(label, "--pin-fd", "3", "pin", "change",
                  fds={3: "%s\n%s\n%s\n" % (c["pin"], new_pin, new_pin)})
    if p.returncode != 0:
        raise RuntimeError("mssl-card pin change: " + p.stderr)
    c["pin"] = new_pin
    return tok, call("POST", "/api/v1/card/pin-changed", proof_body(label),
                     token=tok)


def session(label):
    """A bearer session of the card 'label'."""
    r = login(label)
    if r.status != 200:
        raise RuntimeError("login %s: %r" % (label, r))
    return r.json()["token"]


def cookie_session(label):
    """A browser session of the card 'label': (cookie, CSRF token)."""
    r = login(label, mode="cookie")
    sc = r.headers.get("set-cookie", "")
    if r.status != 200 or not sc.startswith("mssl_session="):
        raise RuntimeError("cookie login %s: %r" % (label, r))
    return sc.split(";")[0].split("=", 1)[1], r.json()["csrf_token"]


# ---- requests ----------------------------------------------------------------

def make_csr(cn, org=None, sans=None, tag=""):
    """A P-256 CSR for cn (O of account A unless org), its PEM text;
    the request stays in T as r-<cn><tag>.pem."""
    org = org or ORGS[A][0]
    name = cn.replace("*", "star") + tag
    key = os.path.join(T, "k-%s.pem" % name)
    out = os.path.join(T, "r-%s.pem" % name)
    sans = sans or [cn]
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", out,
        "-subj", "/C=TW/L=Taipei/O=%s/CN=%s" % (org, cn), "-addext",
        "subjectAltName=" + ",".join("DNS:" + x for x in sans))
    with open(out) as f:
        return f.read()


def issue_body(csr, **kw):
    b = {"product": "ssl", "csr": csr, "years": 1,
         "server_vendor": "nginx", "passphrase": "pass phrase 1",
         "tech_name": "Tech Lee", "tech_email": "tech@twca.com.tw",
         "seal_name": "Taiwan-CA", "confirm": True}
    b.update(kw)
    return b


def balance(tok):
    return call("GET", "/api/v1/account", token=tok).json()["balance"]


# ---- the world -------------------------------------------------------------------

def conf_text(mssld_extra="", extra=""):
    """The configuration setup() wrote, with more [mssld] keys and more
    sections (for a second daemon on the same store and cards)."""
    c = _conf
    return ("[mssl]\nplugin_dir = %s\nstore = store-sqlite\n"
            "ca = ca-gnutls\nvalidators = validate-names, "
            "validate-domains, validate-org, validate-key\n\n"
            "[issuance]\nrenewal_window_days = 365\n%s\n%s\n"
            "[store-sqlite]\npath = %s/mssl.db\nsynchronous = off\n\n"
            "[login]\norigin = %s\n\n"
            "[cards]\nca_cert = %s/ca.pem\nca_key = %s/ca-key.pem\n"
            "master_secret_file = %s/master.key\n\n"
            "[mssld]\nport = %d\nlog_file = %s/mssld.log\n"
            # Several workers, each with its store connection, beside
            # mssl-admin in other processes: the daemon must see their
            # writes and they its (store-sqlite once dropped its own
            # file locks when a connection opened, and the daemon's
            # writes went to a WAL another process had deleted).
            "rate_per_ip = 10000\nrate_burst = 10000\nworkers = 4\n%s\n%s"
            % (PLUGINS, c["issuance"], c["ca"], T,
               ORIGIN or "http://127.0.0.1:%d" % c["port"], c["cadir"],
               c["cadir"], c["cadir"], c["port"], T, mssld_extra, extra))


def mssl_as(home, *args, pins=(), fd3=None, env=None):
    """Run the mssl client as a user whose HOME is 'home' (config and
    session file there) against the daemon D; 'pins' are the lines typed
    on --pin-fd 4, fd3 the text on descriptor 3 (a pass phrase)."""
    feeds = {}
    if pins:
        feeds[4] = "".join(p + "\n" for p in pins)
    if fd3 is not None:
        feeds[3] = fd3 + "\n"
    e = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "cfg"),
             LANGUAGE="", LC_ALL="C.UTF-8",
             MSSL_SERVER="http://127.0.0.1:%d" % D.port,
             MSSL_CARD_MODULE="softhsm2")
    e.pop("MSSL_CLIENT_CONFIG", None)
    e.update(env or {})
    pre = ["--pin-fd", "4"] if pins else []
    return run(MSSL, *pre, *args, fds=feeds, check=False, env=e)


def _cards_and_ca(labels, issuance):
    """The card CA, blank SoftHSM2 tokens 'labels', the issuing CA with
    its key on SoftHSM2 and the [issuance] of the daemon to come in
    _conf.  Exits with a TAP skip when SoftHSM2 is missing."""
    cadir = card_ca()
    p = run("sh", os.path.join(SRC, "cards", "softhsm.sh"),
            os.path.join(T, "hsm"), *["%s:blank" % x for x in labels],
            check=False)
    if p.returncode == 77:
        print("1..0 # SKIP SoftHSM2 cards: " + p.stderr.strip())
        shutil.rmtree(T, ignore_errors=True)
        sys.exit(0)
    if p.returncode != 0:
        raise RuntimeError("softhsm.sh: " + p.stderr)
    os.environ["SOFTHSM2_CONF"] = p.stdout.strip().splitlines()[-1]
    run(ADMIN, "ca", "init", "--dir", os.path.join(T, "ca"), "--name",
        "API Test CA", "--key-type", "ecdsa-p256")
    with open(os.path.join(T, "ca", "ca-gnutls.conf")) as f:
        _conf["ca"] = f.read()
    _conf.update(cadir=cadir, port=free_port(), issuance=issuance)


def card_ca():
    """The card CA (an ECDSA P-256 key and certificate made by certtool)
    and the cards' master secret, in T/cardca; returns that directory."""
    cadir = os.path.join(T, "cardca")
    os.makedirs(cadir)
    with open(os.path.join(cadir, "ca.tmpl"), "w") as f:
        f.write('cn = "mssld test card CA"\nca\ncert_signing_key\n'
                'expiration_days = 3650\n')
    run("certtool", "--generate-privkey", "--key-type=ecdsa",
        "--curve=secp256r1", "--outfile", os.path.join(cadir, "ca-key.pem"),
        "--no-text")
    run("certtool", "--generate-self-signed", "--load-privkey",
        os.path.join(cadir, "ca-key.pem"), "--template",
        os.path.join(cadir, "ca.tmpl"), "--outfile",
        os.path.join(cadir, "ca.pem"), "--no-text")
    with open(os.path.join(cadir, "master.key"), "wb") as f:
        f.write(os.urandom(64))
    os.chmod(os.path.join(cadir, "master.key"), 0o600)
    return cadir


def setup(cards, issuance="", topup=20):
    """Card CA, SoftHSM2 tokens, the issuing CA, mssld, accounts A and B
    (each with its domain and 'topup' cert-years) and the cards:
    'cards' is a list of (label, account, holder name, role).  Exits
    with a TAP skip when SoftHSM2 is missing."""
    global D
    _cards_and_ca([c[0] for c in cards], issuance)
    D = Daemon(conf_text(), _conf["port"])
    for acc, (org, dom) in ORGS.items():
        adm("account", "create", "--id", acc, "--org-en", org,
            "--products", "ssl,wildcard", "--supervisor-name", "Wang",
            "--supervisor-email", "wang@" + dom)
        adm("domain", "add", acc, dom)
        adm("topup", acc, str(topup))
    for label, acc, name, role in cards:
        pid = json.loads(adm("--json", "person", "add", acc, "--name", name,
                             "--email", label + "@example.com", "--role",
                             role).stdout)["id"]
        adm("card", "enroll", "--person", str(pid), "--module", "softhsm2",
            "--token", "pkcs11:token=" + label, "--so-pin-fd", "3",
            fds={3: TRANSPORT_SO + "\n"})
        CARDS[label] = {"pin": ISSUED_PIN, "account": acc, "role": role,
                        "name": name}
    for acc in ORGS:
        for c in json.loads(adm("--json", "card", "list", acc).stdout):
            for label, v in CARDS.items():
                if v["name"] == c["holder"]:
                    v["card_id"] = c["id"]
                    v["serial"] = c["serial"]


def fill_certificates(account, n):
    """n more issued SSL certificates of 'account' written straight into
    the SQLite store's certificates table (one transaction, columns of
    the real schema; no DER: the list and the export do not read it):
    serials ff000000..., CNs b<i>.<domain>, every tenth with a Chinese
    note holding a comma, quotes and a line break.  For the export's
    size tests and benchmarks; the daemon reads them like any other."""
    import sqlite3
    dom = ORGS[account][1]
    now = int(time.time())
    db = sqlite3.connect(os.path.join(T, "mssl.db"), timeout=60)

    def rows():
        for i in range(n):
            yield ("ff%030x" % i, account, "b%d.%s" % (i, dom), 0x1,
                   "issued", 1, now - 86400, now + 364 * 86400, "Bench",
                   "nginx", "Tech Lee", "tech@" + dom, "+886-2-1234",
                   '備註 %d, "批次"\n第二行' % i if i % 10 == 0 else None,
                   "Seal", now - 86400 + i)

    try:
        with db:
            db.executemany(
                "INSERT INTO certificates (serial, account_id, cn, product,"
                " state, years, not_before, not_after, requested_by,"
                " server_vendor, tech_name, tech_email, tech_phone, note,"
                " seal_name, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?)", rows())
    finally:
        db.close()


def export_csv(token, query=""):
    """GET the CSV export, streamed: (response, the number of lines
    after the header, the header line, the first 3 bytes, the body's
    length, its last line)."""
    res = {}

    def read(r):
        first = r.read(65536)
        res["head3"] = first[:3]
        res["header"] = first[3:first.index(b"\r\n")].decode()
        lines = first.count(b"\r\n")
        size = len(first)
        tail = first
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            lines += chunk.count(b"\r\n")
            if tail.endswith(b"\r") and chunk.startswith(b"\n"):
                lines += 1      # a line end across the read boundary
            tail = (tail + chunk)[-4096:]
        res["size"] = size
        res["tail"] = tail.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
        res["lines"] = lines

    r = call("GET", "/api/v1/certificates/export" + query, token=token,
             stream=read)
    return r, res


def tls_files():
    """A server key and certificate for localhost and 127.0.0.1 from the
    card CA of setup(): (CA file, certificate, key) for a TLS daemon."""
    cadir = _conf["cadir"]
    j = lambda x: os.path.join(cadir, x)
    with open(j("srv.tmpl"), "w") as f:
        f.write('cn = "localhost"\ndns_name = "localhost"\n'
                'ip_address = "127.0.0.1"\ntls_www_server\nsigning_key\n'
                'expiration_days = 2\n')
    run("certtool", "--generate-privkey", "--key-type=ecdsa",
        "--curve=secp256r1", "--outfile", j("srv-key.pem"), "--no-text")
    run("certtool", "--generate-certificate", "--load-privkey",
        j("srv-key.pem"), "--load-ca-certificate", j("ca.pem"),
        "--load-ca-privkey", j("ca-key.pem"), "--template", j("srv.tmpl"),
        "--outfile", j("srv.pem"), "--no-text")
    return j("ca.pem"), j("srv.pem"), j("srv-key.pem")


def tls_login(label, priority="NORMAL", exporter_of="this"):
    """The card 'label' logs in over native TLS through mssld-prove
    --connect: {"status", "body", "version", "exporter_len"}."""
    c = CARDS[label]
    p = run(PROVE, "--module", "softhsm2", "--token",
            "pkcs11:token=" + label, "--pin", c["pin"], "--origin", ORIGIN,
            "--account", c["account"], "--connect", str(D.port),
            "--cafile", D.tls_ca, "--priority", priority, "--exporter-of",
            exporter_of, check=False)
    if p.returncode != 0:
        raise RuntimeError("mssld-prove --connect: " + p.stderr)
    return json.loads(p.stdout)


def restart(mssld_extra="", extra="", tls_ca=None):
    """Stop the daemon and start another on the same store, port and
    cards with more configuration.  Returns the old one's exit code."""
    global D
    rc = D.stop()
    D = Daemon(conf_text(mssld_extra, extra), _conf["port"], tls_ca)
    return rc


# ---- a world the test's operator fills (tests/test-scenario.py) -------------

def setup_bare(labels, issuance="", mssld_extra="", extra="",
               validators="validate-names, validate-domains, validate-org, "
               "validate-key"):
    """What setup() makes but no account and no card: the card CA,
    blank SoftHSM2 tokens 'labels' (the cards the operator enrols
    later, with enrol()), the issuing CA with its key on SoftHSM2, and
    mssld with [mssl] validators = 'validators'.  Exits with a TAP skip
    when SoftHSM2 is missing."""
    global D
    _cards_and_ca(labels, issuance)
    text = conf_text(mssld_extra, extra)
    line = ("validators = validate-names, validate-domains, validate-org, "
            "validate-key\n")
    if line not in text:
        raise RuntimeError("conf_text() changed: no validators line")
    D = Daemon(text.replace(line, "validators = %s\n" % validators),
               _conf["port"])


def enrol(label, account, name, role, email):
    """The operator adds a person of 'account' and enrols the blank
    SoftHSM2 token 'label' as the person's card (issued PIN 12345678);
    CARDS[label] as setup() fills it.  Returns the person's id."""
    pid = json.loads(adm("--json", "person", "add", account, "--name", name,
                         "--email", email, "--role", role).stdout)["id"]
    adm("card", "enroll", "--person", str(pid), "--module", "softhsm2",
        "--token", "pkcs11:token=" + label, "--so-pin-fd", "3",
        fds={3: TRANSPORT_SO + "\n"})
    CARDS[label] = {"pin": ISSUED_PIN, "account": account, "role": role,
                    "name": name}
    for c in json.loads(adm("--json", "card", "list", account).stdout):
        if c["holder"] == name:
            CARDS[label]["card_id"] = c["id"]
            CARDS[label]["serial"] = c["serial"]
    return pid


_SMTPD = r"""
import os, signal, sys
from aiosmtpd.controller import Controller
port, outdir = int(sys.argv[1]), sys.argv[2]
class H:
    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(outdir) if f.endswith('.eml')])
        base = os.path.join(outdir, 'msg%d' % (n + 1))
        with open(base + '.tmp', 'wb') as f:
            f.write(('MAILFROM %s\r\nRCPT %s\r\n' % (envelope.mail_from,
                     ','.join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(base + '.tmp', base + '.eml')
        return '250 OK'
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
c = Controller(H(), hostname='127.0.0.1', port=port)
c.start()
open(os.path.join(outdir, 'ready'), 'w').close()
try:
    signal.pause()
finally:
    c.stop()
"""


def smtp_sink():
    """An SMTP server on a free loopback port (aiosmtpd's Controller, in
    whichever python3 has python3-aiosmtpd), writing each message with
    its envelope ("MAILFROM a\\r\\nRCPT b,c\\r\\n" then the message) to
    T/inbox/msgN.eml.  Returns (port, inbox), or None without aiosmtpd.
    Stopped with the other processes by main()."""
    py = None
    for cand in (sys.executable, "python3", "/usr/bin/python3"):
        if run(cand, "-c", "import aiosmtpd", check=False).returncode == 0:
            py = cand
            break
    if not py:
        return None
    inbox = os.path.join(T, "inbox")
    os.makedirs(inbox)
    script = os.path.join(T, "smtpd.py")
    with open(script, "w") as f:
        f.write(_SMTPD)
    port = free_port()
    p = subprocess.Popen([py, script, str(port), inbox],
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(T, "smtpd.err"), "w"))
    procs.append(p)
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(inbox, "ready")):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("the SMTP sink did not start: " +
                               open(os.path.join(T, "smtpd.err")).read())
        time.sleep(0.05)
    return port, inbox


def mail_wait(inbox, want, deadline_s=60):
    """The messages of 'inbox' (email.message objects, oldest first,
    each with its envelope as msg["X-Envelope-To"]) once 'want'(list)
    is true; the last list seen when it never is within deadline_s (a
    bound on a hang, not a timing assertion)."""
    import email
    import email.policy
    end = time.time() + deadline_s
    while True:
        msgs = []
        names = sorted((f for f in os.listdir(inbox) if f.endswith(".eml")),
                       key=lambda f: int(f[3:-4]))
        for name in names:
            with open(os.path.join(inbox, name), "rb") as f:
                raw = f.read()
            env, _, body = raw.partition(b"\r\nRCPT ")
            rcpt, _, body = body.partition(b"\r\n")
            m = email.message_from_bytes(body, policy=email.policy.default)
            m["X-Envelope-To"] = rcpt.decode()
            msgs.append(m)
        if want(msgs) or time.time() > end:
            return msgs
        time.sleep(0.1)
