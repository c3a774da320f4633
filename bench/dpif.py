"""Benchmark: packets through pyovs's userspace datapath vs the Linux bridge
and Debian's real OVS 3.1 userspace datapath, in the same run.

Topology as bench/netdev.py (its Topo and measure are reused): namespaces
ns1 (10.9.0.1) and ns2 (10.9.0.2) joined through a third by veth pairs p1,
p2.  In the third namespace, one after the other:

- pyovs: ``python -m pyovs.dpif.learning --normal p1 p2`` (dpif/netdev.py
  with NORMAL as ofproto/xlate.py translates it in the upcall: EMC -> dpcls
  -> upcall, batched I/O, TSO kept);
- real OVS: Debian's ovsdb-server + ovs-vswitchd, bridge br0 with
  datapath_type=netdev, p1/p2 as system ports, NORMAL,
  other_config:userspace-tso-enable=true;
- the Linux bridge.

Measured with iperf3 (TCP throughput, offloads on; 18-byte UDP datagrams
delivered per second) and the median RTT of a 56-byte UDP echo; plus the
switch's CPU seconds per million packets where known.  Needs root, iperf3.
Also, in-process (no root needed for this part): new megaflows set up per
second through NORMAL (upcall, xlate, install, execute) for frames from
20,000 distinct source MACs.

    .venv/bin/python bench/dpif.py [--seconds N | --quick] [--no-real-ovs]
"""

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdev import Topo, cpu_seconds, measure  # noqa: E402  (bench/netdev.py)
from vswitchd import REAL_TOOLS, Vswitchd  # noqa: E402  (bench/vswitchd.py)


def run_pyovs(topo, seconds):
    sw = topo.spawn(topo.fwd, sys.executable, "-m", "pyovs.dpif.learning", "--normal",
                    "p1", "p2")
    if sw.stdout.readline().strip() != "ready":
        raise SystemExit("pyovs datapath failed: %s" % sw.stderr.read())
    try:
        tcp, udp, rtt = measure(topo, seconds)
        cpu = cpu_seconds(sw.pid)
    finally:
        sw.terminate()
        out = sw.communicate(timeout=20)[0]
    counters = json.loads(out.strip().splitlines()[-1])
    return (tcp, udp, rtt), cpu, counters


def run_real_ovs(topo, seconds):
    sw = Vswitchd("real OVS", REAL_TOOLS, topo.fwd)
    try:
        sw.start()
        sw.add_bridge("p1", "p2")
        time.sleep(1.0)
        cpu0 = cpu_seconds(sw.pid)
        result = measure(topo, seconds)
        cpu = cpu_seconds(sw.pid) - cpu0
        return result, cpu, sw.appctl("dpctl/show").stdout
    finally:
        sw.stop()


def setup_rate(n=20000):
    """Megaflows installed per second through NORMAL, in-process."""
    from pyovs.dpif.learning import NormalSwitch
    from pyovs.dpif.netdev import DpifNetdev
    from pyovs.netdev.base import Packet
    from pyovs.packet import build

    class Sink:
        type = "sink"

        def __init__(self, name):
            self.name = name

        def send_batch(self, pkts):
            pass

        def fileno(self):
            return None
    dp = DpifNetdev()
    for i in (1, 2, 3):
        dp.add_port(Sink("s%d" % i))
    sw = NormalSwitch(dp)
    sw.revalidate = lambda: None        # measure setup alone
    frames = [Packet(build.udp_packet("02:00:00:%02x:%02x:%02x" % (i >> 16, i >> 8 & 255, i & 255),
                                      "02:ff:00:00:00:01", "10.0.0.1", "10.0.0.2", 1, 2))
              for i in range(n)]
    t = time.perf_counter()
    for i in range(0, n, 32):
        dp.receive(1, frames[i:i + 32])
    return len(dp) / (time.perf_counter() - t), len(dp)


def _lookups(text):
    for line in text.splitlines():
        if "lookups:" in line:
            parts = dict(p.split(":") for p in line.split()[1:])
            return int(parts["hit"]), int(parts["missed"])
    return 0, 0


def main():
    ap = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--seconds", type=int, default=3,
                    help="length of each iperf3 run (default 3)")
    ap.add_argument("--no-real-ovs", action="store_true",
                    help="skip Debian's ovs-vswitchd")
    ap.add_argument("--quick", action="store_true",
                    help="1-second iperf3 runs and 2,000 frames for the setup rate")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 1
    rate, n = setup_rate(2000 if args.quick else 20000)
    print("megaflow setup through NORMAL (in-process): %.0f per second (%d megaflows)"
          % (rate, n))
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    topo = Topo()
    rows = []
    notes = []
    try:
        res, cpu, c = run_pyovs(topo, args.seconds)
        rows.append(("pyovs dpif-netdev NORMAL", *res))
        n = c["hit"] + c["missed"]
        notes.append("pyovs: %d packets (%d hit, %d missed), %d megaflows, "
                     "%.1f CPU s per million packets"
                     % (n, c["hit"], c["missed"], c["flows"], cpu / max(n, 1) * 1e6))
        if not args.no_real_ovs and shutil.which("ovs-vswitchd"):
            res, cpu, stats = run_real_ovs(topo, args.seconds)
            rows.append(("real OVS 3.1 netdev", *res))
            hit, missed = _lookups(stats)
            notes.append("real OVS: %d packets (%d hit, %d missed), "
                         "%.1f CPU s per million packets"
                         % (hit + missed, hit, missed, cpu / max(hit + missed, 1) * 1e6))
        topo.exec(topo.fwd, "ip", "link", "add", "lbr0", "type", "bridge")
        for dev in ("p1", "p2"):
            topo.exec(topo.fwd, "ip", "link", "set", dev, "master", "lbr0")
        topo.exec(topo.fwd, "ip", "link", "set", "lbr0", "up")
        time.sleep(0.5)
        rows.append(("Linux bridge", *measure(topo, args.seconds)))
    finally:
        topo.close()
    print("%-24s %12s %16s %14s" % ("", "TCP Gbit/s", "UDP 60B pkts/s", "UDP RTT us"))
    for name, tcp, udp, rtt in rows:
        print("%-24s %12.2f %16.0f %14.1f" % (name, tcp / 1e9, udp, rtt))
    for note in notes:
        print(note)
    for name, tcp, udp, rtt in rows[1:]:
        print("ratio pyovs/%s: TCP %.2f, UDP pkts/s %.2f, RTT %.2f"
              % (name, rows[0][1] / tcp, rows[0][2] / udp, rows[0][3] / rtt))


if __name__ == "__main__":
    main()
