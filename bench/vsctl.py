"""ovs-vsctl benchmark: pyovs's against Debian's, same server, same run.

Two workloads, each on a freshly emptied database holding one bridge:

* N sequential ``ovs-vsctl add-port br0 pI`` runs (one process each: this
  measures start-up, connection, replica sync and one transaction, on a
  database that grows to N ports);
* one ``ovs-vsctl add-port br0 p0 -- add-port br0 p1 -- ...`` call adding
  N ports in one transaction.

Prints the median wall-clock and CPU time (user + system of the ovs-vsctl
process) per run, the total, and the ratios pyovs/real.  Usage: python bench/vsctl.py [--quick N] [--server real|pyovs]
(default N = 1000, server = Debian's ovsdb-server; ``--quick 50`` is a smoke
run).  The scratch directory and the server are removed on exit.
"""

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REAL_VSCTL = "/usr/bin/ovs-vsctl"
PYOVS_VSCTL = os.path.join(os.path.dirname(sys.executable), "ovs-vsctl")
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def start_server(kind, d):
    db = os.path.join(d, "conf.db")
    sock = os.path.join(d, "db.sock")
    subprocess.run(["/usr/bin/ovsdb-tool", "create", db, SCHEMA], check=True)
    server = "/usr/sbin/ovsdb-server" if kind == "real" else \
        os.path.join(os.path.dirname(sys.executable), "ovsdb-server")
    p = subprocess.Popen([server, db, "--remote=punix:" + sock, "--no-chdir",
                          "--unixctl=" + os.path.join(d, "ctl"),
                          "--log-file=" + os.path.join(d, "log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
            break
        except OSError:
            if time.monotonic() > deadline or p.poll() is not None:
                p.kill()
                p.wait()
                raise SystemExit("ovsdb-server did not start")
            time.sleep(0.02)
    return p, "unix:" + sock


def empty_db(remote):
    with open(SCHEMA) as f:
        tables = json.load(f)["tables"]
    ops = [{"op": "delete", "table": t, "where": []} for t in tables]
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(remote[5:])
        s.sendall(json.dumps({"method": "transact", "id": 0,
                              "params": ["Open_vSwitch"] + ops}).encode())
        buf = b""
        while True:
            buf += s.recv(65536)
            try:
                json.loads(buf)
                return
            except ValueError:
                continue


def children_cpu():
    """User + system CPU seconds of all waited-for child processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def vsctl(tool, remote, args):
    """Run the tool once; return the CPU seconds it used (load-independent,
    unlike wall-clock time)."""
    cpu = children_cpu()
    subprocess.run([tool, "--db=" + remote, "--no-wait"] + args, check=True,
                   stdout=subprocess.DEVNULL)
    return children_cpu() - cpu


def sequential(tool, remote, n):
    empty_db(remote)
    vsctl(tool, remote, ["add-br", "br0"])
    times, cpus = [], []
    for i in range(n):
        t = time.perf_counter()
        cpus.append(vsctl(tool, remote, ["add-port", "br0", "p%d" % i]))
        times.append(time.perf_counter() - t)
    return times, cpus


def one_call(tool, remote, n):
    empty_db(remote)
    vsctl(tool, remote, ["add-br", "br0"])
    args = []
    for i in range(n):
        args += ["--", "add-port", "br0", "p%d" % i]
    t = time.perf_counter()
    cpu = vsctl(tool, remote, args[1:])
    return time.perf_counter() - t, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", type=int, metavar="N", default=1000,
                    help="number of ports (default 1000)")
    ap.add_argument("--server", choices=("real", "pyovs"), default="real",
                    help="which ovsdb-server both tools talk to (default real)")
    a = ap.parse_args()
    n = a.quick
    d = tempfile.mkdtemp(prefix="pg-bench-")
    server = None
    try:
        server, remote = start_server(a.server, d)
        print("ovs-vsctl benchmark: %d ports, %s ovsdb-server" % (n, a.server))
        seq = {}
        for name, tool in (("real", REAL_VSCTL), ("pyovs", PYOVS_VSCTL)):
            seq[name] = sequential(tool, remote, n)
        med = {}
        for name in ("real", "pyovs"):
            ts, cpus = seq[name]
            med[name] = statistics.median(ts), statistics.median(cpus)
            print("  %d sequential add-port runs, %-5s: median %7.1f ms wall, "
                  "%6.1f ms CPU; total %7.2f s wall"
                  % (n, name, med[name][0] * 1000, med[name][1] * 1000, sum(ts)))
        print("    ratio pyovs/real (medians): wall %.1fx, CPU %.1fx"
              % (med["pyovs"][0] / med["real"][0], med["pyovs"][1] / med["real"][1]))
        one = {}
        for name, tool in (("real", REAL_VSCTL), ("pyovs", PYOVS_VSCTL)):
            runs = [one_call(tool, remote, n) for _ in range(3)]
            one[name] = (statistics.median(w for w, _ in runs),
                         statistics.median(c for _, c in runs))
        for name in ("real", "pyovs"):
            print("  one call adding %d ports, %-5s: median of 3 %7.1f ms wall, %6.1f ms CPU"
                  % (n, name, one[name][0] * 1000, one[name][1] * 1000))
        print("    ratio pyovs/real: wall %.1fx, CPU %.1fx"
              % (one["pyovs"][0] / one["real"][0], one["pyovs"][1] / one["real"][1]))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
