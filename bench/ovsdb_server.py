#!/usr/bin/env python3
"""Benchmark pyovs's ovsdb-server against Debian's real one, same run.

    .venv/bin/python bench/ovsdb_server.py [--txns 10000] [--vsctl 1000]
                                           [--rss-rows 10000] [--repeat 3]
    .venv/bin/python bench/ovsdb_server.py --quick     # a smoke run

Measures, for each server (each on a fresh database in a scratch dir):

* txn/s for N single-row insert transactions over one unix connection,
  sequential (wait for each reply) and pipelined (a window of 100 in flight),
  plain and with {"op": "commit", "durable": true} (OVS fsyncs only those);
* runs/s of N sequential real `ovs-vsctl --no-wait add-port br0 pI`;
* the server's RSS (VmRSS) after loading ROWS Port and Interface rows.

Prints medians over --repeat runs and the pyovs/OVS ratios, as a Markdown
table that goes into docs/benchmarks.md.  Never run as a test.
"""

import argparse
import collections
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PYOVS_SERVER = str(VENV_BIN / "ovsdb-server")
REAL_SERVER = "/usr/sbin/ovsdb-server"
REAL_VSCTL = "/usr/bin/ovs-vsctl"
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"

BENCH_SCHEMA = {
    "name": "Bench", "version": "1.0.0",
    "tables": {"T": {"isRoot": True, "columns": {
        "name": {"type": "string"}, "n": {"type": "integer"}}}},
}


def create_db(path, schema):
    sys.path.insert(0, str(REPO / "src"))
    from pyovs.ovsdb.log import open_log
    log = open_log(str(path), "create")
    log.write(schema)
    log.commit()
    log.close()


class Server:
    def __init__(self, exe, workdir, db):
        self.exe, self.dir, self.db = exe, Path(workdir), db
        self.sock = str(self.dir / "db.sock")

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.exe, self.db, "--remote=punix:" + self.sock,
             "--unixctl=" + str(self.dir / "ctl"), "--no-chdir",
             "--log-file=" + str(self.dir / "log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, OVS_RUNDIR=str(self.dir), OVS_LOGDIR=str(self.dir),
                     OVS_DBDIR=str(self.dir)))
        deadline = time.time() + 20
        while not (os.path.exists(self.sock) and os.path.exists(self.dir / "ctl")):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("%s did not start" % self.exe)
            time.sleep(0.02)
        return self

    def cpu_seconds(self):
        """User + system CPU time the server has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Rpc:
    def __init__(self, path):
        for _ in range(100):
            self.s = socket.socket(socket.AF_UNIX)
            try:
                self.s.connect(path)
                break
            except ConnectionRefusedError:      # bound, not yet listening
                self.s.close()
                time.sleep(0.05)
        self.buf = ""
        self.dec = json.JSONDecoder()

    def send(self, obj):
        self.s.sendall(json.dumps(obj).encode())

    def recv(self):
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    obj, end = self.dec.raw_decode(text)
                    self.buf = text[end:]
                    return obj
                except ValueError:
                    pass
            data = self.s.recv(1 << 20)
            if not data:
                raise EOFError
            self.buf += data.decode()

    def close(self):
        self.s.close()


def _insert(i, durable=False):
    params = ["Bench", {"op": "insert", "table": "T",
                        "row": {"name": "row%d" % i, "n": i}}]
    if durable:
        params.append({"op": "commit", "durable": True})
    return {"id": i, "method": "transact", "params": params}


def bench_txns(exe, n, work, window, durable=False):
    db = work / "bench.db"
    create_db(db, BENCH_SCHEMA)
    with Server(exe, work, str(db)) as srv:
        c = Rpc(srv.sock)
        cpu0 = srv.cpu_seconds()
        t0 = time.perf_counter()
        sent = got = 0
        while got < n:
            while sent < n and sent - got < window:
                c.send(_insert(sent, durable))
                sent += 1
            reply = c.recv()
            if reply.get("error") is not None or "error" in reply["result"][0]:
                raise RuntimeError(reply)
            got += 1
        dt = time.perf_counter() - t0
        CPU_US[(exe, window, durable)].append((srv.cpu_seconds() - cpu0) * 1e6 / n)
        c.close()
    return n / dt


#: Server CPU time per transaction (µs), by (server, window, durable):
#: unlike throughput, hardly affected by other load on the machine.
CPU_US = collections.defaultdict(list)


def bench_vsctl(exe, n, work):
    db = work / "conf.db"
    create_db(db, json.load(open(VSWITCH_SCHEMA)))
    with Server(exe, work, str(db)) as srv:
        base = [REAL_VSCTL, "--no-wait", "--db=unix:" + srv.sock]
        subprocess.run(base + ["init", "--", "add-br", "br0"], check=True)
        t0 = time.perf_counter()
        for i in range(n):
            subprocess.run(base + ["add-port", "br0", "p%d" % i], check=True,
                           stdout=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
    return n / dt


def bench_rss(exe, rows, work):
    db = work / "conf.db"
    create_db(db, json.load(open(VSWITCH_SCHEMA)))
    with Server(exe, work, str(db)) as srv:
        c = Rpc(srv.sock)
        c.send({"id": 0, "method": "transact", "params": [
            "Open_vSwitch",
            {"op": "insert", "table": "Bridge", "row": {"name": "br0"}, "uuid-name": "br"},
            {"op": "insert", "table": "Open_vSwitch",
             "row": {"bridges": ["named-uuid", "br"]}}]})
        c.recv()
        batch = 1000
        for start in range(0, rows, batch):
            ops = ["Open_vSwitch"]
            names = []
            for i in range(start, min(rows, start + batch)):
                ops.append({"op": "insert", "table": "Interface",
                            "row": {"name": "p%d" % i}, "uuid-name": "i%d" % i})
                ops.append({"op": "insert", "table": "Port",
                            "row": {"name": "p%d" % i,
                                    "interfaces": ["named-uuid", "i%d" % i]},
                            "uuid-name": "p%d" % i})
                names.append(["named-uuid", "p%d" % i])
            ops.append({"op": "mutate", "table": "Bridge", "where": [],
                        "mutations": [["ports", "insert", ["set", names]]]})
            c.send({"id": start + 1, "method": "transact", "params": ops})
            reply = c.recv()
            if reply.get("error") is not None:
                raise RuntimeError(reply)
        time.sleep(0.5)
        rss = srv.rss_kb()
        c.close()
    return rss / 1024.0


def median_of(fn, repeat):
    vals = []
    for _ in range(repeat):
        work = Path(tempfile.mkdtemp(prefix="pd-bench-", dir="/tmp"))
        try:
            vals.append(fn(work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return statistics.median(vals)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--txns", type=int, default=10000,
                   help="insert transactions per run (default 10000)")
    p.add_argument("--vsctl", type=int, default=1000,
                   help="ovs-vsctl add-port runs (default 1000)")
    p.add_argument("--rss-rows", type=int, default=10000,
                   help="Port and Interface rows for the RSS figure (default 10000)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per measurement; the median is reported (default 3)")
    p.add_argument("--only", choices=["txns", "vsctl", "rss"], action="append",
                   help="run only this measurement (may be repeated)")
    p.add_argument("--quick", action="store_true",
                   help="smoke-test sizes: --txns 500 --vsctl 20 --rss-rows 500 --repeat 1")
    args = p.parse_args()
    if args.quick:
        args.txns, args.vsctl, args.rss_rows, args.repeat = 500, 20, 500, 1
    only = set(args.only or ["txns", "vsctl", "rss"])
    servers = [("pyovs", PYOVS_SERVER), ("OVS 3.1", REAL_SERVER)]
    rows = []

    def measure(label, unit, fn, higher_is_better=True):
        vals = [median_of(lambda w, exe=exe: fn(exe, w), args.repeat)
                for _, exe in servers]
        ratio = vals[0] / vals[1] if vals[1] else float("nan")
        rows.append((label, unit, vals[0], vals[1], ratio))
        print("%-48s %10.1f %10.1f %8.2f  (%s)" % (label, vals[0], vals[1], ratio, unit),
              flush=True)

    print("%-48s %10s %10s %8s" % ("", "pyovs", "OVS 3.1", "ratio"))
    if "txns" in only:
        measure("%d insert txns, sequential" % args.txns, "txn/s",
                lambda exe, w: bench_txns(exe, args.txns, w, 1))
        measure("%d insert txns, pipelined (window 100)" % args.txns, "txn/s",
                lambda exe, w: bench_txns(exe, args.txns, w, 100))
        # OVS fsyncs only transactions that ask for it; pyovs fsyncs all.
        # With "durable": true both do the same work.
        measure("%d insert txns, sequential, durable" % args.txns, "txn/s",
                lambda exe, w: bench_txns(exe, args.txns, w, 1, durable=True))
        measure("%d insert txns, pipelined, durable" % args.txns, "txn/s",
                lambda exe, w: bench_txns(exe, args.txns, w, 100, durable=True))
    if "vsctl" in only:
        measure("%d x ovs-vsctl --no-wait add-port" % args.vsctl, "runs/s",
                lambda exe, w: bench_vsctl(exe, args.vsctl, w))
    if "rss" in only:
        measure("RSS with %d Port + Interface rows" % args.rss_rows, "MiB",
                lambda exe, w: bench_rss(exe, args.rss_rows, w))
    if CPU_US:
        print()
        print("server CPU time per transaction (median µs):")
        for label, window, durable in (("sequential", 1, False), ("pipelined", 100, False),
                                       ("sequential, durable", 1, True),
                                       ("pipelined, durable", 100, True)):
            vals = [statistics.median(CPU_US[(exe, window, durable)])
                    for _, exe in servers if CPU_US[(exe, window, durable)]]
            if len(vals) == 2:
                rows.append(("server CPU per txn, " + label, "µs", vals[0], vals[1],
                             vals[0] / vals[1] if vals[1] else float("nan")))
                print("  %-28s pyovs %7.1f  OVS %7.1f" % (label, vals[0], vals[1]))
    print()
    print("| measurement | pyovs | OVS 3.1 | pyovs/OVS |")
    print("|---|---:|---:|---:|")
    for label, unit, a, b, r in rows:
        print("| %s (%s) | %.1f | %.1f | %.2f |" % (label, unit, a, b, r))


if __name__ == "__main__":
    main()
