"""Benchmark: ovs-ofctl, pyovs's against Debian's real one (OVS 3.1), in the
same run, on the same flows, end to end (process start included):

  parse-flows FILE     no switch: read N flows, print them parsed
  add-flows br0 FILE   parse and encode N flows and send them to a switch
  dump-flows br0       decode and print the N flows' statistics

The switch is Debian's real ovs-vswitchd (``--enable-dummy``, a bridge on
the dummy datapath, with its own ovsdb-server in a private run directory),
so only the tool differs.  The flows mix four shapes (drop by IPv4
destination; TCP with set-field and output in table 1; VLAN + UDP with
strip_vlan, a register load and resubmit in table 2; a cookie, in_port
and Ethernet source with output and controller in table 3), each flow
distinct.  add-flows runs against an empty table (del-flows first);
dump-flows against all N.  Each figure is the median wall time of
--repeat runs; the outputs of the two dump-flows (durations blanked) are
compared (durations and idle ages blanked).  No root needed.

    .venv/bin/python bench/ofctl.py [--flows N] [--repeat N] [--quick]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

VENV_BIN = os.path.dirname(os.path.abspath(sys.executable))
TOOLS = {"real": "/usr/bin/ovs-ofctl", "pyovs": os.path.join(VENV_BIN, "ovs-ofctl")}
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def flows_file(path, n):
    with open(path, "w") as f:
        for i in range(n):
            ip = "172.%d.%d.%d" % (16 + (i >> 16) % 16, (i >> 8) & 255, i & 255)
            kind = i % 4
            if kind == 0:
                line = "priority=100,ip,nw_dst=%s,actions=drop" % ip
            elif kind == 1:
                line = ("table=1,priority=200,tcp,nw_src=%s,tp_dst=%d,"
                        "actions=mod_nw_tos:8,output:1" % (ip, 1 + i % 60000))
            elif kind == 2:
                line = ("table=2,priority=300,dl_vlan=%d,udp,nw_dst=%s,"
                        "actions=strip_vlan,load:0x%x->NXM_NX_REG0[],resubmit(,3)"
                        % (1 + i % 4000, ip, i))
            else:
                line = ("cookie=0x%x,table=3,priority=400,in_port=1,dl_src=02:00:%02x:%02x:%02x:%02x,"
                        "actions=output:2,controller" % (i, (i >> 24) & 255, (i >> 16) & 255,
                                                         (i >> 8) & 255, i & 255))
            f.write(line + "\n")


class RealSwitch:
    """Debian's ovsdb-server and ovs-vswitchd --enable-dummy, bridge br0."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pofctl-bench-")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir)
        self.procs = []
        db, sock = os.path.join(self.dir, "conf.db"), os.path.join(self.dir, "db.sock")
        subprocess.run(["/usr/bin/ovsdb-tool", "create", db, SCHEMA], check=True)
        self.procs.append(subprocess.Popen(
            ["/usr/sbin/ovsdb-server", db, "--remote=punix:" + sock, "--no-chdir",
             "--unixctl=" + os.path.join(self.dir, "db.ctl"), "-vconsole:off",
             "--log-file=" + os.path.join(self.dir, "db.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=self.env))
        self._wait(lambda: os.path.exists(sock), "ovsdb-server")
        vsctl = ["/usr/bin/ovs-vsctl", "--db=unix:" + sock, "--timeout=30"]
        subprocess.run(vsctl + ["--no-wait", "init"], check=True, env=self.env)
        ctl = os.path.join(self.dir, "vswitchd.ctl")
        self.procs.append(subprocess.Popen(
            ["/usr/sbin/ovs-vswitchd", "unix:" + sock, "--enable-dummy",
             "--disable-system", "--no-chdir", "--unixctl=" + ctl, "-vconsole:off",
             "--log-file=" + os.path.join(self.dir, "vswitchd.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=self.env))
        self._wait(lambda: os.path.exists(ctl), "ovs-vswitchd")
        subprocess.run(vsctl + ["add-br", "br0", "--", "set", "bridge", "br0",
                                "datapath_type=dummy"], check=True, env=self.env)

    @staticmethod
    def _wait(pred, what):
        deadline = time.monotonic() + 30
        while not pred():
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for " + what)
            time.sleep(0.05)

    def run(self, tool, *args, stdout=subprocess.DEVNULL):
        """Wall seconds of ovs-ofctl TOOL ARGS (and its output if asked)."""
        t = time.perf_counter()
        r = subprocess.run([TOOLS[tool], *args], stdout=stdout, stderr=subprocess.PIPE,
                           text=True, env=self.env, timeout=3600)
        dt = time.perf_counter() - t
        if r.returncode:
            raise SystemExit("%s ovs-ofctl %s: %s" % (tool, " ".join(args), r.stderr.strip()))
        return dt, r.stdout

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--flows", type=int, default=100000, help="flows in the file (100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measure (3)")
    ap.add_argument("--quick", action="store_true", help="--flows 10000 --repeat 1")
    args = ap.parse_args()
    if args.quick:
        args.flows, args.repeat = 10000, 1
    for path in list(TOOLS.values()) + ["/usr/sbin/ovs-vswitchd"]:
        if not os.path.exists(path):
            raise SystemExit("%s is missing (apt-get install openvswitch-switch; "
                             "pip install -e . in the venv)" % path)
    print("start: %s UTC, load average %.2f %.2f %.2f" % (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), *os.getloadavg()), flush=True)
    sw = RealSwitch()
    times = {}
    dumps = {}
    try:
        path = os.path.join(sw.dir, "flows.txt")
        flows_file(path, args.flows)
        for _ in range(args.repeat):
            for tool in TOOLS:
                times.setdefault(("parse-flows", tool), []).append(
                    sw.run(tool, "parse-flows", path)[0])
                sw.run("real", "del-flows", "br0")
                times.setdefault(("add-flows", tool), []).append(
                    sw.run(tool, "add-flows", "br0", path)[0])
            for tool in TOOLS:
                dt, out = sw.run(tool, "dump-flows", "br0", stdout=subprocess.PIPE)
                times.setdefault(("dump-flows", tool), []).append(dt)
                dumps[tool] = sorted(re.sub(r"duration=[0-9.]+s|idle_age=\d+", "X", out)
                                     .splitlines())
    finally:
        sw.stop()
    n_lines = len(dumps["real"]) - 1
    print("end: %s UTC, load average %.2f %.2f %.2f" % (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), *os.getloadavg()))
    print()
    print("| %d flows, wall seconds (median of %d) | OVS 3.1 ovs-ofctl | pyovs ovs-ofctl "
          "| pyovs/OVS |" % (args.flows, args.repeat))
    print("|---|---:|---:|---:|")
    for what in ("parse-flows", "add-flows", "dump-flows"):
        real = statistics.median(times[(what, "real")])
        ours = statistics.median(times[(what, "pyovs")])
        print("| %s | %.2f | %.2f | %.2f |" % (what, real, ours, ours / real))
    print()
    print("dump-flows: %d flows listed; pyovs's output %s the real tool's"
          % (n_lines, "equals" if dumps["real"] == dumps["pyovs"] else "DIFFERS FROM"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
