#!/usr/bin/env python3
"""Integration and abuse tests of mssld(8): a real daemon on a free
loopback port with a SQLite store, driven with raw sockets, curl,
gnutls-cli and certtool.  Speaks TAP.

The daemon must stay up, answer others and write nothing wrong while
clients send oversized, malformed, slow, smuggling and unauthenticated
requests.  tests/mssld-test is the same daemon with a stub session
resolver (tests/mssld-auth-stub.c), for what lies behind a session.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import mssldfix as fx  # noqa: E402
from mssldfix import (TOP, PLUGINS, SRC, MSSLD, ADMIN,  # noqa: E402
                      ok, skip, diag, free_port)

MSSLD_TEST = os.path.join(TOP, "tests", "mssld-test")
ACC = "70759028-01"
MANAGER = "test-manager-token-0001"
CSRF = "test-csrf-token-0001"
SECRET = "Bearer sEcReT-tOkEn-vAlUe-0123456789"


T = tempfile.mkdtemp(prefix="test-mssld.")
procs = []


def write_conf(name, mssld, extra=""):
    d = os.path.join(T, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "mssl.conf")
    with open(path, "w") as f:
        f.write("[mssl]\nplugin_dir = %s\nstore = store-sqlite\n\n"
                "[store-sqlite]\npath = %s/mssl.db\nsynchronous = off\n\n"
                "%s\n[mssld]\n%s\n" % (PLUGINS, d,
                                      extra, mssld))
    return d, path


class Daemon:
    def __init__(self, name, mssld="", binary=MSSLD, extra="", tls=None,
                 env=None, head=""):
        self.port = free_port()
        self.dir, self.conf = write_conf(
            name, "port = %d\nlog_file = %s/mssld.log\n%s" % (
                self.port, os.path.join(T, name), mssld), extra)
        if head:
            with open(self.conf) as f:
                text = f.read()
            with open(self.conf, "w") as f:
                f.write(text.replace("store = store-sqlite\n",
                                     "store = store-sqlite\n" + head, 1))
        self.log = os.path.join(self.dir, "mssld.log")
        self.tls = tls
        e = dict(os.environ)
        e.update(env or {})
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")
        self.p = subprocess.Popen([binary, "--config", self.conf],
                                  stdout=self.stderr, stderr=self.stderr,
                                  env=e)
        procs.append(self.p)
        fx.wait_listening(self.p, self.port,
                          os.path.join(self.dir, "stderr"))

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        rc = fx.terminate(self.p)
        self.stderr.close()
        return rc

    def logtext(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def rss_kib(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


# ---- a small HTTP client on raw sockets ------------------------------------

def connect(d, timeout=10):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
    return s


def read_response(s, buf=b""):
    """One response from s (buf: bytes already read).  Returns
    (status, headers dict lower-case, body, rest) or None on EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def request(d, method, path, headers=None, body=b"", raw=None):
    s = connect(d)
    try:
        if raw is None:
            h = {"Host": "localhost"}
            h.update(headers or {})
            if body:
                h.setdefault("Content-Length", str(len(body)))
            raw = ("%s %s HTTP/1.1\r\n" % (method, path)).encode() + \
                b"".join(("%s: %s\r\n" % kv).encode() for kv in h.items()) + \
                b"\r\n" + body
        s.sendall(raw)
        r = read_response(s)
        if r is None:
            return None, {}, b"", True
        status, hd, b, rest = r
        # Was the connection closed after the answer?  Only when the
        # answer says so is the socket watched (briefly) for the end.
        closed = False
        if hd.get("connection") == "close":
            s.settimeout(2)
            try:
                closed = rest == b"" and s.recv(1) == b""
            except socket.timeout:
                closed = False
            except OSError:
                closed = True
        return status, hd, b, closed
    finally:
        s.close()


def is_error(body, code=None):
    try:
        e = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return (set(e) == {"code", "message", "message_zh", "field"} and
            isinstance(e["message"], str) and e["message"] and
            isinstance(e["message_zh"], str) and e["message_zh"] and
            (code is None or e["code"] == code))


def get(d, path, headers=None):
    return request(d, "GET", path, headers)


def health(d):
    st, _, body, _ = get(d, "/api/v1/health")
    return st == 200 and json.loads(body)["status"] == "ok"


# ---- the main daemon: plain HTTP, real resolver ----------------------------

def test_basics(d):
    st, h, body, closed = get(d, "/api/v1/health")
    ok(st == 200 and json.loads(body) == {"status": "ok", "version":
                                          json.loads(body)["version"],
                                          "draining": False},
       "GET /api/v1/health answers 200 with the status", body)
    ok(re.fullmatch(r"[0-9a-f]{16}", h.get("x-request-id", "")) and
       h.get("content-type") == "application/json" and not closed,
       "a request id, JSON, and the connection kept alive", h)
    st, h, body, _ = get(d, "/api/v1/nothing")
    ok(st == 404 and is_error(body, "http.not_found"),
       "an unknown path is 404 with the JSON error shape", body)
    st, h, body, _ = request(d, "DELETE", "/api/v1/health")
    ok(st == 405 and is_error(body, "http.method") and
       h.get("allow") == "GET, HEAD",
       "a known path with another method is 405 with Allow", (st, h, body))
    st, h, body, _ = request(d, "HEAD", "/api/v1/health")
    ok(st == 200 and body == b"" and int(h["content-length"]) > 0,
       "HEAD answers the headers of GET without the body", (st, h))
    zh = json.loads(get(d, "/api/v1/nothing")[2])["error"]
    ok(zh["message_zh"] != zh["message"],
       "error messages come in Traditional Chinese too", zh)


def test_keepalive_pipelining(d):
    s = connect(d)
    ids = []
    for i in range(3):
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, _, rest = read_response(s)
        ids.append((st, h["x-request-id"]))
    ok([x[0] for x in ids] == [200] * 3 and len(set(x[1] for x in ids)) == 3,
       "three requests on one kept-alive connection", ids)
    # Three requests in one write; answers in order.
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
              b"DELETE /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    got, rest = [], b""
    for i in range(4):
        r = read_response(s, rest)
        if r is None:
            break
        got.append(r[0])
        rest = r[3]
    ok(got == [200, 404, 405, 200],
       "pipelined requests are answered in order", got)
    s.close()


def test_limits(d):
    big = "x" * 20000
    st, h, body, closed = request(d, "GET", "/api/v1/health",
                                  {"X-Big": big})
    ok(st == 431 and is_error(body, "limit.header_size") and closed,
       "huge headers: 431, JSON, connection closed", (st, body))
    many = dict(("X-H%d" % i, "1") for i in range(100))
    st, h, body, closed = request(d, "GET", "/api/v1/health", many)
    ok(st == 431 and is_error(body, "limit.header_count"),
       "too many headers: 431", (st, body))
    st, h, body, closed = request(d, "GET", "/" + "a" * 9000)
    ok(st == 414 and is_error(body, "limit.uri_size"),
       "a huge request target: 414", (st, body))
    # Content-Length too large: refused before the body is sent.
    s = connect(d)
    s.sendall(b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: 10000000\r\n\r\n")
    r = read_response(s)
    s.close()
    ok(r and r[0] == 413 and is_error(r[2], "limit.body_size"),
       "a body announced too large: 413 before it is sent", r)
    # A chunked body that grows too large.
    s = connect(d)
    s.sendall(b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    r = None
    try:
        for i in range(8):
            s.sendall(chunk)
        r = read_response(s)
    except OSError:
        r = read_response(s) if r is None else r
    s.close()
    ok(r and r[0] == 413, "a chunked body growing too large: 413", r)
    st, h, body, _ = request(d, "GET", "/api/v1/health",
                             {"Expect": "something"})
    ok(st == 417 and is_error(body), "an unknown Expect: 417", (st, body))


def test_smuggling(d):
    cases = [
        ("Content-Length and Transfer-Encoding",
         b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"0\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("two Content-Lengths",
         b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 4\r\nContent-Length: 40\r\n\r\nabcd"),
        ("Transfer-Encoding other than chunked",
         b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("an obs-fold header line",
         b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
         b"X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n"),
        ("a bare LF",
         b"GET /api/v1/health HTTP/1.1\nHost: x\r\n\r\n"),
        ("a bad chunk size",
         b"POST /api/v1/requests/check HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("a control character in a header",
         b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"),
        ("no Host in HTTP/1.1",
         b"GET /api/v1/health HTTP/1.1\r\n\r\n"),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    ]
    for name, raw in cases:
        st, h, body, closed = request(d, None, None, raw=raw)
        ok(st == 400 and is_error(body) and closed,
           "%s: 400 and the connection closed" % name, (st, body, closed))


def test_auth(d):
    st, h, body, _ = get(d, "/api/v1/account")
    ok(st == 401 and is_error(body, "auth.required") and
       "www-authenticate" in h, "a session route without a session: 401",
       (st, body))
    st, h, body, _ = get(d, "/api/v1/account",
                         {"Authorization": SECRET})
    ok(st == 401 and is_error(body),
       "an unknown bearer token: 401 (no sessions yet)", (st, body))
    st, h, body, _ = get(d, "/api/v1/account",
                         {"Cookie": "mssl_session=abcdefghijklmnopqrstuvwxyz"})
    ok(st == 401 and is_error(body), "an unknown session cookie: 401",
       (st, body))
    st, h, body, _ = request(d, "POST", "/api/v1/requests/check",
                             {"Content-Type": "text/plain"}, b"{bad json")
    ok(st == 401 and is_error(body, "auth.required"),
       "a POST without a session: 401 before its body is looked at",
       (st, body))
    st, h, body, _ = request(
        d, "POST", "/api/v1/requests/check",
        {"Cookie": "mssl_session=abcdefghijklmnopqrstuvwxyz",
         "Content-Type": "application/json"}, b"{}")
    ok(st == 403 and is_error(body, "auth.csrf"),
       "a cookie session without the CSRF header: 403", (st, body))


def test_slowloris(d):
    """Slow clients (one byte a second) are cut off after the request
    timeout; a normal client is served all along."""
    slow = []
    for i in range(30):
        s = connect(d)
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
    served = []
    t0 = time.time()
    for i in range(4):
        for s in slow:
            try:
                s.sendall(b"a")
            except OSError:
                pass
        start = time.time()
        served.append(health(d) and time.time() - start < 1.0)
        time.sleep(1)
    ok(all(served), "a normal client is served while 30 clients drip bytes",
       served)
    cut = 0
    for s in slow:
        s.settimeout(5)
        try:
            data = s.recv(65536)
            if data == b"" or b" 408 " in data.split(b"\r\n")[0]:
                cut += 1
        except OSError:
            cut += 1
        s.close()
    ok(cut == len(slow) and time.time() - t0 < 12,
       "slow requests are answered 408 and closed after request_timeout_s",
       "%d of %d cut" % (cut, len(slow)))
    # An idle connection sending nothing is closed after idle_timeout_s.
    s = connect(d)
    s.settimeout(10)
    t0 = time.time()
    try:
        data = s.recv(1)
    except OSError:
        data = b""
    ok(data == b"" and time.time() - t0 < 9,
       "an idle connection is closed after idle_timeout_s",
       time.time() - t0)
    s.close()


def test_log(d):
    get(d, "/api/v1/account", {"Authorization": SECRET,
                               "Cookie": "mssl_session=cOoKiEsEcReT0123456789"})
    time.sleep(0.2)
    text = d.logtext()
    ok("sEcReT-tOkEn" not in text and "cOoKiEsEcReT" not in text,
       "no Authorization or Cookie value in the log (debug level)")
    ok("[redacted]" in text and re.search(r"\[[0-9a-f]{16}\] 127\.0\.0\.1 "
                                          r"\"GET /api/v1/account\" 401",
                                          text),
       "the log has request ids and says what was redacted", text[-2000:])
    # SIGHUP: logrotate moved the file; the daemon opens it again.
    os.rename(d.log, d.log + ".1")
    d.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    get(d, "/api/v1/health")
    time.sleep(0.2)
    ok(os.path.exists(d.log) and "log file reopened" in d.logtext() and
       "/api/v1/health" in d.logtext(),
       "SIGHUP reopens the log file", d.logtext())


def test_idle_connections(name, count=10000):
    need = count + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        skip("%d idle connections" % count,
             "the file descriptor limit is %d (need %d)" % (hard, need))
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    d = Daemon(name, "max_connections = 20000\n"
               "max_connections_per_ip = 20000\nidle_timeout_s = 120\n"
               "log_level = warning\n")
    rss0 = d.rss_kib()
    socks = []
    try:
        for i in range(count):
            s = socket.socket()
            s.setblocking(True)
            s.connect(("127.0.0.1", d.port))
            socks.append(s)
        time.sleep(1)
        start = time.time()
        up = health(d)
        took = time.time() - start
        rss = d.rss_kib()
        diag("idle RSS %d KiB, with %d idle connections %d KiB"
             % (rss0, count, rss))
        ok(up and took < 2,
           "%d idle connections held, and the daemon still answers"
           % count, took)
        # Each is still open (not refused or dropped).
        for s in socks[:50]:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        good = sum(1 for s in socks[:50] if read_response(s)[0] == 200)
        ok(good == 50, "idle connections are still served", good)
    finally:
        for s in socks:
            s.close()
    ok(d.stop() == 0, "and it stops cleanly")


def test_rate(name):
    d = Daemon(name, "rate_per_ip = 2\nrate_burst = 3\n")
    s = connect(d)
    got = []
    rest = b""
    for i in range(10):
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        r = read_response(s, rest)
        got.append((r[0], r[1].get("retry-after"), r[2]))
        rest = r[3]
    s.close()
    n429 = [g for g in got if g[0] == 429]
    ok(got[0][0] == 200 and n429 and n429[0][1] == "1" and
       is_error(n429[0][2], "limit.rate"),
       "over the per-address rate: 429 with Retry-After and JSON",
       [g[0] for g in got])
    time.sleep(1.2)
    ok(health(d), "the bucket refills: served again after a second")
    d.stop()
    # Behind a trusted proxy the client address is X-Forwarded-For's.
    d = Daemon(name + "-proxy", "rate_per_ip = 1\nrate_burst = 1\n"
               "trusted_proxies = 127.0.0.0/8\n")
    codes = []
    for i in range(3):
        st, _, _, _ = get(d, "/api/v1/health",
                          {"X-Forwarded-For": "198.51.100.%d" % (i + 1)})
        codes.append(st)
    st2, _, _, _ = get(d, "/api/v1/health",
                       {"X-Forwarded-For": "198.51.100.1"})
    ok(codes == [200, 200, 200] and st2 == 429,
       "X-Forwarded-For from a trusted proxy names the client", (codes, st2))
    d.stop()
    d = Daemon(name + "-noproxy", "rate_per_ip = 1\nrate_burst = 1\n")
    codes = [get(d, "/api/v1/health",
                 {"X-Forwarded-For": "198.51.100.%d" % (i + 1)})[0]
             for i in range(2)]
    ok(codes == [200, 429],
       "X-Forwarded-For from anyone else is ignored", codes)
    d.stop()


def test_config():
    _, conf = write_conf("cfg-public", "listen = 0.0.0.0\nport = 8080\n")
    r = subprocess.run([MSSLD, "--config", conf, "--check"],
                       capture_output=True, text=True,
                       env=dict(os.environ, LANG="C", LANGUAGE=""))
    ok(r.returncode == 1 and "[mssld] listen" in r.stderr and
       "loopback" in r.stderr and "mssld.plain_public" in r.stderr,
       "plain HTTP refuses a public address, naming file, line and key",
       r.stderr)
    r = subprocess.run([MSSLD, "--config", conf, "--check"],
                       capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="zh_TW.UTF-8",
                                LANGUAGE=""))
    ok(r.returncode == 1 and "[mssld] listen" in r.stderr and
       re.search(r"[\u4e00-\u9fff]", r.stderr),
       "... and says so in Traditional Chinese", r.stderr)
    _, conf = write_conf("cfg-allowed", "listen = 0.0.0.0\nport = 8080\n"
                         "allow_plain_public = yes\n")
    r = subprocess.run([MSSLD, "--config", conf, "--check"],
                       capture_output=True, text=True)
    ok(r.returncode == 0, "unless allow_plain_public = yes", r.stderr)
    _, conf = write_conf("cfg-bad", "max_body_bytes = 12\nport = 8080\n")
    r = subprocess.run([MSSLD, "--config", conf, "--check"],
                       capture_output=True, text=True,
                       env=dict(os.environ, LANG="C", LANGUAGE=""))
    ok(r.returncode == 1 and re.search(r"mssl\.conf:\d+: \[mssld\] "
                                       r"max_body_bytes: \"12\" must be "
                                       r"a whole number from 1024",
                                       r.stderr),
       "a value out of range names file, line, key and the rule",
       r.stderr)
    _, conf = write_conf("cfg-unknown", "prot = 8080\n")
    r = subprocess.run([MSSLD, "--config", conf, "--check"],
                       capture_output=True, text=True)
    ok(r.returncode == 1 and "[mssld] prot" in r.stderr,
       "an unknown [mssld] key is refused", r.stderr)
    r = subprocess.run([MSSLD, "--bogus"], capture_output=True, text=True)
    ok(r.returncode == 2, "bad usage exits 2", r.stderr)


def make_tls(d):
    def run(*args):
        subprocess.run(args, check=True, capture_output=True)

    with open(os.path.join(d, "ca.tmpl"), "w") as f:
        f.write('cn = "mssld test CA"\nca\ncert_signing_key\n'
                'expiration_days = 2\n')
    with open(os.path.join(d, "srv.tmpl"), "w") as f:
        f.write('cn = "localhost"\ndns_name = "localhost"\n'
                'ip_address = "127.0.0.1"\ntls_www_server\nsigning_key\n'
                'encryption_key\nexpiration_days = 2\n')
    j = lambda x: os.path.join(d, x)
    run("certtool", "--generate-privkey", "--key-type", "ecdsa",
        "--outfile", j("ca.key"))
    run("certtool", "--generate-self-signed", "--load-privkey", j("ca.key"),
        "--template", j("ca.tmpl"), "--outfile", j("ca.pem"))
    run("certtool", "--generate-privkey", "--key-type", "ecdsa",
        "--outfile", j("srv.key"))
    run("certtool", "--generate-certificate", "--load-privkey", j("srv.key"),
        "--load-ca-certificate", j("ca.pem"), "--load-ca-privkey",
        j("ca.key"), "--template", j("srv.tmpl"), "--outfile", j("srv.pem"))
    return j("ca.pem"), j("srv.pem"), j("srv.key")


def test_tls(name):
    if not shutil.which("certtool") or not shutil.which("curl"):
        skip("TLS", "certtool and curl are needed")
        return
    tdir = os.path.join(T, "tls-files")
    os.makedirs(tdir, exist_ok=True)
    ca, crt, key = make_tls(tdir)
    d = Daemon(name, "tls_cert = %s\ntls_key = %s\nlisten = 127.0.0.1\n"
               % (crt, key))
    url = "https://localhost:%d/api/v1/health" % d.port
    base = ["curl", "-s", "--cacert", ca, "--resolve",
            "localhost:%d:127.0.0.1" % d.port, "-D", "-"]
    r = subprocess.run(base + [url], capture_output=True, text=True)
    ok(r.returncode == 0 and " 200 " in r.stdout.split("\n")[0] and
       "Strict-Transport-Security" in r.stdout,
       "TLS: curl --cacert gets 200 with HSTS", r.stdout + r.stderr)
    for ver, args in (("1.2", ["--tlsv1.2", "--tls-max", "1.2"]),
                      ("1.3", ["--tlsv1.3"])):
        r = subprocess.run(base + args + [url], capture_output=True,
                           text=True)
        ok(r.returncode == 0 and " 200 " in r.stdout.split("\n")[0],
           "TLS %s is spoken" % ver, r.stdout + r.stderr)
    if shutil.which("gnutls-cli"):
        r = subprocess.run(["gnutls-cli", "--x509cafile", ca, "-p",
                            str(d.port), "--priority",
                            "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0",
                            "localhost"], input="", capture_output=True,
                           text=True, timeout=20)
        ok(r.returncode != 0, "TLS 1.0 and 1.1 are refused",
           r.stdout[-500:] + r.stderr[-500:])
    else:
        skip("TLS 1.0 and 1.1 are refused", "gnutls-cli is missing")
    # Plain HTTP to the TLS port is not answered as HTTP.
    st, _, _, _ = request(d, "GET", "/api/v1/health")
    ok(st is None, "plain HTTP on the TLS port gets no HTTP answer", st)
    ok(d.alive() and d.stop() == 0, "the TLS daemon stops cleanly")


def test_crl(name):
    cadir = os.path.join(T, name + "-ca")
    r = subprocess.run(["sh", os.path.join(SRC, "..", "tools", "ca-init.sh"),
                        "--dir", cadir, "--name", "Test CA", "--key-type",
                        "ecdsa-p256"], capture_output=True, text=True)
    if r.returncode != 0:
        ok(False, "a test CA for the CRL", r.stderr)
        return
    with open(os.path.join(cadir, "ca-gnutls.conf")) as f:
        caconf = f.read()
    crl = os.path.join(T, name, "ca.crl")
    d = Daemon(name, "crl_check_s = 1\n", head="ca = ca-gnutls\n",
               extra="[issuance]\ncrl_url = http://crl.example.test/ca.crl\n"
               "crl_file = %s\n\n%s\n" % (crl, caconf))
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(crl):
        time.sleep(0.2)
    st, h, body, _ = get(d, "/crl/ca.crl")
    ok(st == 200 and h.get("content-type") == "application/pkix-crl" and
       body[:1] == b"\x30" and "job crl: CRL regenerated" in d.logtext(),
       "the CRL job writes the CRL and GET /crl/ca.crl serves it (DER)",
       (st, h, d.logtext()[-1500:]))
    with open(os.path.join(T, name, "got.crl"), "wb") as f:
        f.write(body)
    r = subprocess.run(["certtool", "--crl-info", "--inder", "--infile",
                        os.path.join(T, name, "got.crl")],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and "CRL Number" in r.stdout,
       "it is a CRL certtool reads", r.stdout[-800:] + r.stderr)
    time.sleep(1.5)
    ok(d.logtext().count("CRL regenerated") == 1 and
       "CRL current" in d.logtext(),
       "a fresh CRL is not regenerated again", d.logtext()[-1500:])
    for path in ("/crl/other.crl", "/crl/..", "/crl/ca.crl/x"):
        st, h, body, _ = get(d, path)
        ok(st == 404 and is_error(body), "GET %s is 404" % path, (st, body))
    d.stop()


def test_stub(name):
    """Behind a session (stub resolver): body checks come after auth."""
    d = Daemon(name, "", binary=MSSLD_TEST,
               env={"MSSLD_TEST_ACCOUNT": ACC})
    subprocess.run([ADMIN, "--config", d.conf, "account", "create",
                    "--id", ACC, "--org-en", "Taiwan-CA Inc.", "--products",
                    "ssl,wildcard", "--supervisor-name", "Wang",
                    "--supervisor-email", "wang@twca.com.tw"],
                   capture_output=True, check=True)
    subprocess.run([ADMIN, "--config", d.conf, "domain", "add", ACC,
                    "twca.com.tw"], capture_output=True, check=True)
    bearer = {"Authorization": "Bearer " + MANAGER}
    st, h, body, _ = get(d, "/api/v1/account", bearer)
    j = json.loads(body) if st == 200 else {}
    ok(st == 200 and j.get("id") == ACC and j.get("domains") ==
       ["twca.com.tw"], "with a session, GET /api/v1/account reads the "
       "account through libmssl on a worker", (st, body))
    post = "/api/v1/requests/check"
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "text/plain"}), b"{}")
    ok(st == 415 and is_error(body, "http.content_type"),
       "a wrong content type: 415", (st, body))
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "application/json"}), b"{\"a\": ")
    ok(st == 400 and is_error(body, "json.syntax"), "bad JSON: 400",
       (st, body))
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "application/json"}), b"[1]")
    ok(st == 400 and is_error(body, "json.not_object"),
       "JSON that is not an object: 400", (st, body))
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "application/json"}),
        b"{\"product\": \"ssl\", \"product\": \"ev\"}")
    ok(st == 400 and is_error(body, "json.syntax"),
       "duplicate keys in JSON: 400", (st, body))
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "application/json; charset=utf-8"}),
        b"{\"product\": \"ssl\"}")
    ok(st == 400 and is_error(body, "json.required") and
       json.loads(body)["error"]["field"] == "csr",
       "a missing field: 400 naming it", (st, body))
    st, h, body, _ = request(d, "POST", post, dict(
        bearer, **{"Content-Type": "application/json"}),
        b"{\"product\": \"ssl\", \"csr\": \"not a request\"}")
    ok(st == 400 and is_error(body) and
       json.loads(body)["error"]["code"].startswith("csr."),
       "libmssl's refusal comes back as 400 with its id", (st, body))
    cookie = {"Cookie": "mssl_session=" + MANAGER,
              "Content-Type": "application/json"}
    st, h, body, _ = request(d, "POST", post, cookie, b"{}")
    ok(st == 403 and is_error(body, "auth.csrf"),
       "cookie session, no CSRF header: 403", (st, body))
    st, h, body, _ = request(d, "POST", post,
                             dict(cookie, **{"X-CSRF-Token": "wrong-token"}),
                             b"{}")
    ok(st == 403 and is_error(body, "auth.csrf_mismatch"),
       "cookie session, wrong CSRF token: 403 (resolver)", (st, body))
    st, h, body, _ = request(d, "POST", post,
                             dict(cookie, **{"X-CSRF-Token": CSRF}),
                             b"{\"product\": \"ssl\"}")
    ok(st == 400 and is_error(body, "json.required"),
       "cookie session with the CSRF token reaches the handler", (st, body))
    # SIGTERM with a request in flight: it is finished, then exit 0.
    res = {}

    def slow():
        res["r"] = get(d, "/api/v1/account",
                       {"Authorization": "Bearer test-slow-token-0000001"})

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.7)
    d.p.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    th.join(10)
    r = res.get("r")
    ok(r and r[0] == 200 and r[3], "SIGTERM: the request in flight is "
       "answered (Connection: close)", r)
    ok(refused, "SIGTERM: new connections are refused at once")
    try:
        rc = d.p.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0 and "stopped" in d.logtext(),
       "SIGTERM: the daemon exits 0 after closing the store", rc)
    d.stop()


def test_openapi():
    table = set(fx.routes())
    doc = set(fx.openapi())
    ok(table and table == doc,
       "every route is in doc/api/openapi.yaml, and nothing else is",
       "only in the code: %s\nonly in the doc: %s"
       % (sorted(table - doc), sorted(doc - table)))


def test_remind(name):
    """The remind job queues an expiry reminder once; mssl-admin agrees."""
    import sqlite3
    d, conf = write_conf(name, "")
    subprocess.run([ADMIN, "--config", conf, "account", "create",
                    "--id", ACC, "--org-en", "Taiwan-CA Inc.", "--products",
                    "ssl", "--supervisor-name", "Wang",
                    "--supervisor-email", "wang@twca.com.tw"],
                   capture_output=True, check=True)
    now = int(time.time())
    na = now + 10 * 86400
    db = sqlite3.connect(os.path.join(d, "mssl.db"))
    # An issued certificate 10 days from expiry, as issuance leaves it.
    db.execute("INSERT INTO certificates (serial, account_id, cn, product,"
               " state, years, not_before, not_after, tech_email, created)"
               " VALUES ('0a0b0c', ?, 'www.twca.com.tw', 1, 'issued', 1,"
               " ?, ?, 'it@twca.com.tw', ?)", (ACC, now - 190 * 86400, na,
                                               now - 190 * 86400))
    db.commit()
    db.close()
    dm = Daemon(name, "remind_s = 1\n")
    deadline = time.time() + 15
    while (time.time() < deadline and
           "expiry reminders queued: 0" not in dm.logtext()):
        time.sleep(0.2)
    log = dm.logtext()
    ok("job remind: expiry reminders queued: 1" in log and
       "job remind: expiry reminders queued: 0" in log,
       "the remind job queues the reminder once, then nothing",
       log[-1500:])
    ok(dm.alive() and dm.stop() == 0, "the daemon with the remind job stops")
    db = sqlite3.connect(os.path.join(d, "mssl.db"))
    rows = db.execute("SELECT serial, days, mail_id FROM cert_reminders"
                      ).fetchall()
    mails = db.execute("SELECT id, to_addr, subject, body FROM mail_outbox"
                       " WHERE related = '0a0b0c'").fetchall()
    db.close()
    ok(len(mails) == 1 and rows == [("0a0b0c", 14, mails[0][0])] and
       mails[0][1] == "it@twca.com.tw" and
       "certificate expires soon" in mails[0][2] and
       ("Days left: 9\n" in mails[0][3] or
        "Days left: 10\n" in mails[0][3]),
       "one reminder recorded, at 14 days, with its outbox message",
       (rows, mails))
    r = subprocess.run([ADMIN, "--config", conf, "--json", "mail", "remind"],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and json.loads(r.stdout) == {"queued": 0},
       "mssl-admin mail remind: nothing more now", r.stdout + r.stderr)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(na - 5 * 86400))
    r = subprocess.run([ADMIN, "--config", conf, "--json", "mail", "remind",
                        "--now", when], capture_output=True, text=True)
    ok(r.returncode == 0 and json.loads(r.stdout) == {"queued": 1},
       "mssl-admin mail remind --now 5 days before: the 7-day one",
       r.stdout + r.stderr)
    r = subprocess.run([ADMIN, "--config", conf, "mail", "remind", "--now",
                        "yesterday"], capture_output=True, text=True)
    ok(r.returncode == 2 and "--now" in r.stderr,
       "mssl-admin mail remind --now with a bad time: usage error",
       r.stdout + r.stderr)
    dm = Daemon(name + "-off", "remind_s = 1\n",
                extra="[mail]\nremind_days =\n")
    deadline = time.time() + 15
    while (time.time() < deadline and
           "no expiry reminders" not in dm.logtext()):
        time.sleep(0.2)
    ok("job remind: [mail] remind_days is empty: no expiry reminders"
       in dm.logtext(), "remind_days empty: the job says so and stops",
       dm.logtext()[-1500:])
    ok(dm.alive() and dm.stop() == 0, "and the daemon stops cleanly")


def main():
    try:
        test_config()
        test_openapi()
        d = Daemon("main", "log_level = debug\nrequest_timeout_s = 2\n"
                   "idle_timeout_s = 4\nrate_per_ip = 10000\n"
                   "rate_burst = 10000\n")
        test_basics(d)
        test_keepalive_pipelining(d)
        test_limits(d)
        test_smuggling(d)
        test_auth(d)
        test_slowloris(d)
        test_log(d)
        ok(d.alive() and health(d),
           "after all that the daemon is up and answers")
        ok(d.stop() == 0, "SIGTERM: exit status 0")
        test_rate("rate")
        test_tls("tls")
        test_crl("crl")
        test_stub("stub")
        if os.environ.get("MSSLD_TEST_SKIP_IDLE"):
            skip("10000 idle connections", "MSSLD_TEST_SKIP_IDLE is set")
        else:
            test_idle_connections("idle")
        test_remind("remind")
    except Exception as e:  # a crash is a failure, not a lost plan
        import traceback
        ok(False, "the test script ran to its end", traceback.format_exc())
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(T, ignore_errors=True)
    print("1..%d" % fx.n)
    if fx.failed:
        print("# %d of %d failed" % (fx.failed, fx.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
