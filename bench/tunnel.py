"""Benchmark: VM to VM across VXLAN, in the same run: pyovs's userspace
tunneling, Debian's real OVS 3.1 userspace tunneling, and the Linux
kernel's vxlan device.

Topology: the two-hypervisor layout of OVS's userspace-tunneling howto
(tests/netns/test_tnl_topo.py; namespaces pt<pid><n>{h1,h2,m1,m2}): the
hypervisors are joined by an underlay veth; on each, br-phy holds the
underlay veth and the underlay IP, br-int holds the VM's veth and a
keyless VXLAN port (remote_ip = the other hypervisor), wired by two
OpenFlow flows; the VMs' veths have MTU 1400.  For real OVS the VMs'
transmit checksum offload is off (its AF_PACKET ports cannot take
partial checksums); pyovs takes the VMs' offloads as they are (TSO
super-packets are segmented before encapsulation).  For the kernel, each
hypervisor has a vxlan device with the VM's address on it (no VM
namespace, no switch).

Measured for each, --repeat times: iperf3 TCP throughput (-t --seconds,
the receiver's bytes) and UDP datagrams of 64-byte payload delivered per
second (iperf3 -u -l 64 -b 0: sent minus lost, per second).  With
--rounds N the whole list of variants is measured N times, one after the
other (pyovs, ovs, kernel, pyovs, ovs, ...), so that a machine whose load
drifts weighs on each alike; each round's ratios are printed too.  Prints
the medians and the ratios pyovs/real OVS and pyovs/kernel.  Needs root
and iperf3.

    .venv/bin/python bench/tunnel.py [--quick] [--repeat N] [--seconds N]
        [--rounds N] [--variants pyovs,ovs,kernel]
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.netns.test_tnl_topo import Topo  # noqa: E402

PORT = 16250


def measure(variant, seconds, repeat, tmp):
    topo = Topo(tmp, [("vxlan", None)])
    try:
        if variant == "kernel":
            topo.kernel(0)
            topo.kernel(1)
            src, dst = topo.h[0], topo.h[1]
        else:
            kind = "pyovs" if variant == "pyovs" else "real"
            topo.ovs(0, kind)
            topo.ovs(1, kind)
            src, dst = topo.m[0], topo.m[1]
        r = topo.ping(1, count=5, src_ns=src)
        if r.returncode != 0:
            raise RuntimeError("%s: no connectivity: %s" % (variant, r.stdout))
        tcp, udp = [], []
        for i in range(repeat):
            res = topo.iperf(1, PORT + 2 * i, seconds, server_ns=dst, client_ns=src)
            tcp.append(res["end"]["sum_received"]["bits_per_second"] if "end" in res else 0)
            res = topo.iperf(1, PORT + 2 * i + 1, seconds, udp=True, server_ns=dst,
                             client_ns=src)
            s = res.get("end", {}).get("sum", {})
            udp.append((s.get("packets", 0) - s.get("lost_packets", 0))
                       / max(s.get("seconds", seconds), 1e-9) if s else 0)
        return statistics.median(tcp), statistics.median(udp)
    finally:
        topo.close()


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--seconds", type=int, default=5, help="length of each iperf3 run (5)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (3)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure the variants this many times, interleaved (1)")
    ap.add_argument("--variants", default="pyovs,ovs,kernel",
                    help="which to run (pyovs,ovs,kernel)")
    ap.add_argument("--quick", action="store_true", help="--repeat 1 --seconds 2")
    args = ap.parse_args()
    if args.quick:
        args.repeat, args.seconds = 1, 2
    if os.geteuid() != 0:
        sys.exit("bench/tunnel.py needs root (network namespaces)")
    variants = args.variants.split(",")
    rounds = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as tmp:
        for r in range(args.rounds):
            for v in variants:
                rounds[v].append(measure(v, args.seconds, args.repeat,
                                         os.path.join(tmp, "%s%d" % (v, r))))
                print("%-7s TCP %8.1f Mbit/s   UDP 64B %9.0f pkt/s%s" % (
                    v, rounds[v][-1][0] / 1e6, rounds[v][-1][1],
                    "   (round %d)" % (r + 1) if args.rounds > 1 else ""), flush=True)
            if args.rounds > 1 and "pyovs" in rounds and "ovs" in rounds:
                (pt, pu), (ot, ou) = rounds["pyovs"][-1], rounds["ovs"][-1]
                print("round %d: pyovs/ovs TCP %.2fx, UDP 64B %.2fx" % (
                    r + 1, pt / ot if ot else 0, pu / ou if ou else 0), flush=True)
    results = {v: (statistics.median(x[0] for x in rs), statistics.median(x[1] for x in rs))
               for v, rs in rounds.items()}
    print()
    print("| VM to VM across VXLAN | %s |" % " | ".join(results))
    print("|---|" + "---|" * len(results))
    print("| TCP throughput (Mbit/s) | %s |" % " | ".join(
        "%.0f" % (r[0] / 1e6) for r in results.values()))
    print("| UDP 64 B delivered (pkt/s) | %s |" % " | ".join(
        "%.0f" % r[1] for r in results.values()))
    py = results.get("pyovs")
    for other in ("ovs", "kernel"):
        if py and other in results and all(results[other]):
            print("pyovs/%s: TCP %.2fx, UDP 64B %.2fx" % (
                other, py[0] / results[other][0], py[1] / results[other][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
