#!/usr/bin/env python3
"""bench-mssld: mssld's memory and speed on this machine.

Starts the built mssld (plain HTTP on a free loopback port, SQLite store
in a temporary directory) and prints, beside bench/baseline.txt:
  mssld_idle_rss_kib         RSS after start
  mssld_10k_idle_rss_kib     RSS holding 10,000 idle connections
                             (target below 64 MiB = 65536 KiB)
  mssld_health_per_s         GET /api/v1/health per second (wrk, 2
                             threads, 50 connections, 5 s)
  mssld_export_1m_rss_growth_kib
                             peak RSS (VmHWM) during GET
                             /api/v1/certificates/export of 1,000,000
                             certificates, less RSS before it (target
                             below 64 MiB: the CSV is streamed)
  mssld_export_1m_s          that export's time, first byte to last
The export uses tests/mssldfix.py (a SoftHSM2 card, a CA, a session) and
writes the rows straight into the SQLite store; it needs tests/mssld-prove
(the bench-mssld make target builds it) and is skipped without SoftHSM2.
Usage: bench-mssld.py TOP_BUILDDIR BASELINE
"""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

top, baseline = sys.argv[1], sys.argv[2]
mssld = os.path.join(top, "daemon", "mssld", "mssld")
plugins = os.path.join(top, "plugins", ".build")
base = {}
for line in open(baseline):
    if line.strip() and not line.startswith("#"):
        k, v = line.split()[:2]
        base[k] = v

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
d = tempfile.mkdtemp(prefix="bench-mssld.")
conf = os.path.join(d, "mssl.conf")
with open(conf, "w") as f:
    f.write("[mssl]\nplugin_dir = %s\nstore = store-sqlite\n\n"
            "[store-sqlite]\npath = %s/mssl.db\n\n[mssld]\nport = %d\n"
            "max_connections = 20000\nmax_connections_per_ip = 20000\n"
            "rate_per_ip = 1000000\nrate_burst = 1000000\n"
            "idle_timeout_s = 300\nlog_level = warning\n" % (plugins, d, port))
p = subprocess.Popen([mssld, "--config", conf])


def rss():
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def show(name, value, unit):
    print("%-26s %10s %-6s (baseline %s)" % (name, value, unit,
                                            base.get(name, "-")))


try:
    for i in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.5)
    show("mssld_idle_rss_kib", rss(), "KiB")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= 10300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 10300), hard))
        socks = []
        for i in range(10000):
            c = socket.socket()
            c.connect(("127.0.0.1", port))
            socks.append(c)
        time.sleep(1)
        r = rss()
        show("mssld_10k_idle_rss_kib", r, "KiB")
        print("  target: below 65536 KiB: %s" % ("met" if r < 65536
                                                   else "NOT MET"))
        for c in socks:
            c.close()
        time.sleep(1)
    else:
        print("mssld_10k_idle_rss_kib: skipped, descriptor limit %d" % hard)
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", "-c50", "-d5s",
                              "http://127.0.0.1:%d/api/v1/health" % port],
                             capture_output=True, text=True).stdout
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        show("mssld_health_per_s", int(float(m.group(1))) if m else "?",
             "req/s")
    else:
        print("mssld_health_per_s: skipped, wrk is not installed")
finally:
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    shutil.rmtree(d, ignore_errors=True)


def export_bench(rows=1000000):
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ.setdefault("MSSL_TOP_BUILDDIR", top)
    os.environ.setdefault("MSSL_PLUGIN_BUILDDIR", plugins)
    os.environ.setdefault("MSSL_TEST_SRCDIR", os.path.join(here, "..",
                                                           "tests"))
    os.environ.setdefault("MSSL_CA_INIT", os.path.join(here, "..", "tools",
                                                       "ca-init.sh"))
    sys.path.insert(0, os.path.join(here, "..", "tests"))
    sys.dont_write_bytecode = True
    import mssldfix as fx
    if not os.path.exists(fx.PROVE):
        print("mssld_export_1m_rss_growth_kib: skipped, build "
              "tests/mssld-prove first")
        return
    fx.init("bench-mssld-export")
    try:
        try:
            fx.setup([("alice", fx.A, "Alice Wang", "manager")])
        except SystemExit:
            print("mssld_export_1m_rss_growth_kib: skipped, no SoftHSM2")
            return
        fx.change_pin("alice", "pin-2468")
        tok = fx.session("alice")
        t0 = time.time()
        fx.fill_certificates(fx.A, rows)
        print("  (%d rows written into the store in %.1f s)"
              % (rows, time.time() - t0))
        idle = fx.D.status("VmRSS")
        t0 = time.time()
        r, res = fx.export_csv(tok)
        took = time.time() - t0
        growth = fx.D.status("VmHWM") - idle
        if r.status != 200 or res["lines"] - 1 != rows:
            print("mssld_export_1m: FAILED: status %d, %s rows"
                  % (r.status, res.get("lines")))
            return
        show("mssld_export_1m_rss_growth_kib", growth, "KiB")
        print("  target: below 65536 KiB: %s (CSV %d KiB, RSS before %d "
              "KiB)" % ("met" if growth < 65536 else "NOT MET",
                        res["size"] // 1024, idle))
        show("mssld_export_1m_s", "%.1f" % took, "s")
    finally:
        if fx.D:
            fx.D.stop()
        for q in fx.procs:
            if q.poll() is None:
                q.kill()
                q.wait()
        shutil.rmtree(fx.T, ignore_errors=True)


export_bench()
