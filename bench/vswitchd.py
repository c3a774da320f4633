"""Benchmark: two namespaces through one bridge doing NORMAL, in the same
run: the Linux bridge, Debian's Open vSwitch 3.1 and pyovs.

Topology as bench/netdev.py (its Topo is reused, with namespaces
pb-vs<pid>{a,b,f}): ns1 (10.9.0.1) and ns2 (10.9.0.2) joined through a
third namespace by veth pairs p1, p2.  In the third, one after the other:

- real OVS: /usr/bin/ovsdb-tool, /usr/sbin/ovsdb-server and
  /usr/sbin/ovs-vswitchd in a private run directory, bridge br0 with
  datapath_type=netdev, p1 and p2 as system ports, no controller (so the
  bridge does NORMAL), other_config:userspace-tso-enable=true;
- pyovs: the same with ovsdb-tool, ovsdb-server and ovs-vswitchd from the
  venv (the directory of the Python running this script);
- the Linux bridge.

Both OVS daemons are configured and queried with Debian's real ovs-vsctl,
ovs-ofctl and ovs-appctl.  Measured for each: iperf3 TCP throughput
(offloads on); UDP datagrams of 64-byte payload delivered per second
(iperf3 -u -l 64 -b 0, the receiver's count); ping round trip (median);
ovs-vswitchd's CPU seconds (/proc/PID/stat) per million packets the bridge
received (rx counters of p1 and p2) during the iperf3 runs; new megaflows
set up per second (a generator in ns1 sends frames from N distinct source
MACs, paced at --offered per second; the datapath's flow count, from
dpctl/show, is polled until it stops growing); ovs-vswitchd's RSS with
one idle bridge and holding N OpenFlow flows added with `ovs-ofctl
add-flows br0 FILE`.  Prints the medians and
the ratios pyovs/real OVS and pyovs/Linux bridge.  Needs root and iperf3.

    .venv/bin/python bench/vswitchd.py [--quick] [--repeat N] [--seconds N]
        [--flows N] [--macs N] [--switches linux,ovs,pyovs]
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdev import Topo, cpu_seconds, sh  # noqa: E402  (bench/netdev.py)

IPERF_PORT = 16100
ECHO_PORT = 16101
VENV_BIN = os.path.dirname(sys.executable)
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
#: Debian's client tools, used against both switches.
OVS_VSCTL, OVS_OFCTL, OVS_APPCTL = "/usr/bin/ovs-vsctl", "/usr/bin/ovs-ofctl", "/usr/bin/ovs-appctl"

#: Sends argv[1] frames from distinct source MACs to argv[2] out of eth0,
#: paced at argv[3] frames per second (in bursts of 100).
GENERATOR = """
import socket, struct, sys, time
n, dst, rate = int(sys.argv[1]), bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
tail = b"\\x88\\xb5" + bytes(46)
print(time.time(), flush=True)
t = time.perf_counter()
for i in range(n):
    s.send(dst + b"\\x02\\x01" + struct.pack("!I", i) + tail)
    if i % 100 == 99:
        pause = t + (i + 1) / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
print(n / (time.perf_counter() - t))
"""


class Vswitchd:
    """ovsdb-server + ovs-vswitchd from TOOLS (name -> path) in a private
    run directory, ovs-vswitchd inside namespace NS."""

    def __init__(self, label, tools, ns):
        self.label, self.tools, self.ns = label, tools, ns
        self.dir = tempfile.mkdtemp(prefix="pb-bench-")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir)
        self.sock = os.path.join(self.dir, "db.sock")
        self.ctl = os.path.join(self.dir, "vswitchd.ctl")
        self.procs = []
        self.vswitchd = None

    def start(self):
        d = self.dir
        db = os.path.join(d, "conf.db")
        sh(self.tools["ovsdb-tool"], "create", db, SCHEMA)
        self.procs.append(subprocess.Popen(
            [self.tools["ovsdb-server"], db, "--remote=punix:" + self.sock,
             "--unixctl=" + os.path.join(d, "db.ctl"), "--no-chdir", "-vconsole:off",
             "--log-file=" + os.path.join(d, "ovsdb-server.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=self.env))
        _wait(lambda: os.path.exists(self.sock), "%s ovsdb-server" % self.label)
        self.vsctl("--no-wait", "init", "--", "set", "Open_vSwitch", ".",
                   "other_config:userspace-tso-enable=true")
        # ip netns exec execs the daemon: the PID is ovs-vswitchd's own.
        self.vswitchd = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.tools["ovs-vswitchd"],
             "unix:" + self.sock, "--unixctl=" + self.ctl, "--no-chdir",
             "-vconsole:off", "--log-file=" + os.path.join(d, "ovs-vswitchd.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=self.env)
        self.procs.append(self.vswitchd)
        _wait(lambda: os.path.exists(self.ctl) or self.vswitchd.poll() is not None,
              "%s ovs-vswitchd" % self.label)
        if self.vswitchd.poll() is not None:
            raise SystemExit("%s ovs-vswitchd exited: see %s" % (self.label, d))

    def add_bridge(self, *ports):
        cmd = ["add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev"]
        for p in ports:
            cmd += ["--", "add-port", "br0", p]
        self.vsctl(*cmd)

    def vsctl(self, *args):
        return sh(OVS_VSCTL, "--db=unix:" + self.sock, "--timeout=60", *args)

    def appctl(self, *args, check=True):
        return sh(OVS_APPCTL, "-t", self.ctl, "--timeout=20", *args, check=check)

    def ofctl(self, *args):
        r = subprocess.run([OVS_OFCTL, *args], capture_output=True, text=True,
                           timeout=1800, env=self.env)
        if r.returncode:
            raise SystemExit("ovs-ofctl %s: %s" % (" ".join(args), r.stderr.strip()))
        return r

    @property
    def pid(self):
        return self.vswitchd.pid

    def n_flows(self):
        """The datapath's flow count (dpctl/show), or None if unavailable."""
        r = self.appctl("dpctl/show", check=False)
        counts = re.findall(r"^\s*flows: (\d+)$", r.stdout, re.M)
        return sum(map(int, counts)) if r.returncode == 0 and counts else None

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


REAL_TOOLS = {"ovsdb-tool": "/usr/bin/ovsdb-tool", "ovsdb-server": "/usr/sbin/ovsdb-server",
              "ovs-vswitchd": "/usr/sbin/ovs-vswitchd"}
PYOVS_TOOLS = {name: os.path.join(VENV_BIN, name) for name in REAL_TOOLS}


def _wait(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.05)


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def rx_packets(topo):
    """Packets the switch has received on p1 and p2 (kernel counters)."""
    r = topo.exec(topo.fwd, "ip", "-s", "-j", "link", "show")
    return sum(link["stats64"]["rx"]["packets"] for link in json.loads(r.stdout)
               if link["ifname"] in ("p1", "p2"))


def mac_of(topo, ns, dev="eth0"):
    return json.loads(topo.exec(ns, "ip", "-j", "link", "show", dev).stdout)[0]["address"]


def ping_rtt_us(topo, count):
    """Median of COUNT ping round trips ns1 -> ns2 (the first left out), µs."""
    r = topo.exec(topo.ns1, "ping", "-n", "-c", str(count + 1), "-i", "0.01",
                  "-W", "1", "10.9.0.2", check=False)
    times = [float(t) for t in re.findall(r"time=([\d.]+) ms", r.stdout)][1:]
    return statistics.median(times) * 1000 if times else None


def forwards(topo):
    """Whether ns1 reaches ns2 (within 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if topo.exec(topo.ns1, "ping", "-n", "-c", "1", "-W", "1", "10.9.0.2",
                     check=False).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def traffic(topo, args, pid=None):
    """{measure: value} for the traffic measures through the current switch."""
    out = {"ping RTT (µs, median)": ping_rtt_us(topo, args.pings)}
    cpu0, pkts0 = (cpu_seconds(pid) if pid else 0), rx_packets(topo)
    tcp = [topo.iperf(args.seconds) for _ in range(args.repeat)]
    udp = [topo.iperf(args.seconds, udp=True, length=64) for _ in range(args.repeat)]
    pkts = rx_packets(topo) - pkts0
    out["TCP (Gbit/s)"] = statistics.median(tcp) / 1e9
    out["UDP 64B datagrams delivered/s"] = statistics.median(udp)
    if pid:
        out["CPU s per Mpkt received"] = (cpu_seconds(pid) - cpu0) / max(pkts, 1) * 1e6
    return out


def megaflow_setup(topo, switch, n, offered):
    """(megaflows set up per second, how many, frames offered per second)
    while a generator in ns1 offers N frames from distinct source MACs at
    OFFERED per second: the rate is the datapath's new flows over the time
    from the generator's first frame to the last poll that saw the count
    grow.  (None, None, None) if the switch gives no flow count."""
    base = switch.n_flows()
    if base is None:
        return None, None, None
    gen = topo.spawn(topo.ns1, sys.executable, "-c", GENERATOR, str(n),
                     mac_of(topo, topo.ns2), str(offered))
    start = float(gen.stdout.readline() or 0)
    last, t_last = base, time.time()
    while time.time() - t_last < 1.0:      # until a second without growth
        time.sleep(0.05)
        count = switch.n_flows() or last
        if count > last:
            last, t_last = count, time.time()
    sent = float(gen.communicate(timeout=120)[0] or 0)
    return (last - base) / max(t_last - start, 1e-3), last - base, sent


def flows_file(path, n):
    """N OpenFlow flows that match no traffic of the benchmark."""
    net = int(ipaddress.IPv4Address("172.16.0.0"))
    with open(path, "w") as f:
        for i in range(n):
            f.write("priority=100,ip,nw_dst=%s,actions=drop\n"
                    % ipaddress.IPv4Address(net + i))


def run_ovs(topo, label, tools, args):
    sw = Vswitchd(label, tools, topo.fwd)
    res, notes = {}, []
    try:
        sw.start()
        sw.add_bridge("p1", "p2")
        time.sleep(2)
        res["RSS idle bridge (MiB)"] = rss_mib(sw.pid)
        if forwards(topo):
            res.update(traffic(topo, args, sw.pid))
            rate, made, sent = megaflow_setup(topo, sw, args.macs, args.offered)
            if rate is None:
                notes.append("%s: no flow count from dpctl/show: setup rate not measured"
                             % label)
            else:
                res["megaflows set up/s"] = rate
                notes.append("%s: %d of %d source MACs (offered at %.0f/s) got a megaflow"
                             % (label, made, args.macs, sent))
        else:
            notes.append("%s: ns1 cannot ping ns2 through it: traffic not measured" % label)
        path = os.path.join(sw.dir, "flows.txt")
        flows_file(path, args.flows)
        t = time.monotonic()
        sw.ofctl("add-flows", "br0", path)
        res["add-flows %d flows (s)" % args.flows] = time.monotonic() - t
        n = sum("actions=" in line for line in sw.ofctl("dump-flows", "br0").stdout.splitlines())
        notes.append("%s: dump-flows lists %d flows after add-flows" % (label, n))
        res["RSS with %d flows (MiB)" % args.flows] = rss_mib(sw.pid)
    finally:
        sw.stop()
    return res, notes


def run_linux_bridge(topo, args):
    topo.exec(topo.fwd, "ip", "link", "add", "pbbr0", "type", "bridge")
    try:
        for dev in ("p1", "p2"):
            topo.exec(topo.fwd, "ip", "link", "set", dev, "master", "pbbr0")
        topo.exec(topo.fwd, "ip", "link", "set", "pbbr0", "up")
        if not forwards(topo):
            return {}, ["Linux bridge: ns1 cannot ping ns2 through it"]
        return traffic(topo, args), []
    finally:
        topo.exec(topo.fwd, "ip", "link", "del", "pbbr0", check=False)


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--seconds", type=int, default=3, help="length of each iperf3 run (3)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="iperf3 runs per measure, median taken (3)")
    ap.add_argument("--pings", type=int, default=200, help="ping round trips (200)")
    ap.add_argument("--macs", type=int, default=50000,
                    help="distinct source MACs for the megaflow setup rate (50000)")
    ap.add_argument("--offered", type=int, default=50000,
                    help="frames per second the MAC generator offers (50000)")
    ap.add_argument("--flows", type=int, default=100000,
                    help="OpenFlow flows for the second RSS figure (100000)")
    ap.add_argument("--switches", default="linux,ovs,pyovs",
                    help="which to run, comma-separated (linux,ovs,pyovs)")
    ap.add_argument("--quick", action="store_true",
                    help="1-second iperf3 runs, once each; 50 pings, 20000 MACs, "
                         "20000 flows")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.repeat, args.pings, args.macs, args.flows = 1, 1, 50, 20000, 20000
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    chosen = args.switches.split(",")
    print("start:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), machine())
    topo = Topo(prefix="pb-vs", port=IPERF_PORT, echo_port=ECHO_PORT)
    cols, notes = {}, []
    try:
        if "ovs" in chosen:
            cols["OVS 3.1"], n = run_ovs(topo, "OVS 3.1", REAL_TOOLS, args)
            notes += n
        if "pyovs" in chosen:
            cols["pyovs"], n = run_ovs(topo, "pyovs", PYOVS_TOOLS, args)
            notes += n
        if "linux" in chosen:
            cols["Linux bridge"], n = run_linux_bridge(topo, args)
            notes += n
    finally:
        topo.close()
    print("end:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), machine())
    report(cols, notes)


def machine():
    """One line of machine facts for the record."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return ("%d CPUs (%s), Linux %s, Python %s, load average %.2f %.2f %.2f"
            % (os.cpu_count(), model, os.uname().release, sys.version.split()[0],
               *os.getloadavg()))


def report(cols, notes):
    names = [c for c in ("Linux bridge", "OVS 3.1", "pyovs") if c in cols]
    rows = []
    for col in names:
        rows += [k for k in cols[col] if k not in rows]
    ratios = [("pyovs/OVS", "OVS 3.1"), ("pyovs/bridge", "Linux bridge")]
    ratios = [(t, ref) for t, ref in ratios if ref in cols and "pyovs" in cols]
    print("%-32s" % "" + "".join("%14s" % c for c in names)
          + "".join("%14s" % t for t, _ in ratios))
    for row in rows:
        line = "%-32s" % row
        for col in names:
            v = cols[col].get(row)
            line += "%14s" % ("-" if v is None else "%.2f" % v if v < 100 else "%.0f" % v)
        for _, ref in ratios:
            a, b = cols["pyovs"].get(row), cols[ref].get(row)
            line += "%14s" % ("%.2f" % (a / b) if a is not None and b else "-")
        print(line)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
