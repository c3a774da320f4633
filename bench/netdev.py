"""Micro benchmark: packets through pyovs's netdevs vs the Linux bridge.

Two namespaces (10.9.0.1, 10.9.0.2) are joined through a third by veth
pairs; in the third, either ``python -m pyovs.netdev.forward p1 p2`` (system
netdevs: AF_PACKET, batched, TSO kept) or a Linux bridge joins p1 and p2.
Both are measured in the same run with iperf3: TCP throughput (offloads on)
small UDP datagrams (18-byte payload, 60-byte frames) delivered per
second, and the median round trip of a 56-byte UDP echo.  Needs root and iperf3.

    .venv/bin/python bench/netdev.py [--seconds N | --quick]
    .venv/bin/python bench/netdev.py --io [--rounds N]

Namespaces are named pa-bench<pid>{a,b,f} and are deleted on exit.

--io measures send_batch and rx_batch alone instead: 64-byte frames in
batches of 32 across a veth pair in namespace pi-io<pid>, through
sendmmsg/recvmmsg (netdev/mmsg.py) and through one system call per frame
(the fallback), rounds alternating; CPU microseconds (user + system, the
kernel's veth transmit included) per frame, medians.
"""

import argparse
import json
import os
import subprocess
import sys
import time

PORT = 16002
ECHO_PORT = 16003

ECHO_SERVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.2", %(port)d))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(data, addr)
"""

ECHO_CLIENT = """
import socket, statistics, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
rtts = []
for i in range(300):
    t = time.perf_counter()
    s.sendto(b"x" * 56, ("10.9.0.2", %(port)d))
    try:
        s.recvfrom(2048)
    except socket.timeout:
        continue
    rtts.append(time.perf_counter() - t)
    time.sleep(0.002)
print(statistics.median(rtts[20:]) * 1e6)
"""


def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120)
    if check and r.returncode:
        raise SystemExit("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Topo:
    """Namespaces PREFIX<pid>{a,b,f}; iperf3 on PORT, the UDP echo on ECHO_PORT."""

    def __init__(self, prefix="pa-bench", port=PORT, echo_port=ECHO_PORT):
        base = "%s%d" % (prefix, os.getpid())
        self.ns1, self.ns2, self.fwd = base + "a", base + "b", base + "f"
        self.port, self.echo_port = port, echo_port
        self.procs = []
        try:
            self._build()
        except BaseException:
            self.close()        # no half-built namespaces left behind
            raise

    def _build(self):
        for ns in (self.ns1, self.ns2, self.fwd):
            sh("ip", "netns", "add", ns)
        for i, ns in ((1, self.ns1), (2, self.ns2)):
            sh("ip", "-n", self.fwd, "link", "add", "p%d" % i, "type", "veth",
               "peer", "name", "eth0", "netns", ns)
            sh("ip", "-n", ns, "addr", "add", "10.9.0.%d/24" % i, "dev", "eth0")
            for dev in ("eth0", "lo"):
                sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", self.fwd, "link", "set", "p%d" % i, "up")

    def exec(self, ns, *cmd, **kw):
        return sh("ip", "netns", "exec", ns, *cmd, **kw)

    def spawn(self, ns, *cmd):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def iperf(self, seconds, udp=False, length=18):
        """One complete iperf3 run (retried while the server is not up or
        the run is incomplete): TCP bits/s or UDP datagrams (LENGTH-byte
        payload) delivered/s."""
        server = self.spawn(self.ns2, "iperf3", "-s", "-p", str(self.port))
        cmd = ["iperf3", "-c", "10.9.0.2", "-p", str(self.port), "-t", str(seconds), "-J"]
        if udp:
            cmd += ["-u", "-l", str(length), "-b", "0"]
        key = "sum" if udp else "sum_received"
        try:
            for _ in range(50):
                r = self.exec(self.ns1, *cmd, check=False)
                try:
                    end = json.loads(r.stdout).get("end", {})
                except ValueError:
                    end = {}
                if r.returncode == 0 and key in end:
                    break
                time.sleep(0.2)
            else:
                raise SystemExit("iperf3 failed: %s" % r.stdout[-500:])
        finally:
            server.kill()
            server.communicate(timeout=30)
        if udp:
            s = end["sum"]
            return (s["packets"] - s["lost_packets"]) / s["seconds"]
        return end["sum_received"]["bits_per_second"]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        for ns in (self.ns1, self.ns2, self.fwd):
            sh("ip", "netns", "del", ns, check=False)


def rtt_us(topo):
    """Median round trip of a 56-byte UDP echo, microseconds."""
    server = topo.spawn(topo.ns2, sys.executable, "-c",
                        ECHO_SERVER % {"port": topo.echo_port})
    server.stdout.readline()
    try:
        r = topo.exec(topo.ns1, sys.executable, "-c",
                      ECHO_CLIENT % {"port": topo.echo_port})
        return float(r.stdout)
    finally:
        server.kill()


def measure(topo, seconds):
    rtt = rtt_us(topo)
    tcp = topo.iperf(seconds)
    udp = topo.iperf(seconds, udp=True)
    return tcp, udp, rtt


IO_CODE = """
import json, statistics, sys, time
from pyovs import netdev
a, b = netdev.open("pix0a", "system"), netdev.open("pix0b", "system")
frame = bytes.fromhex("020000000002020000000001" "88b5") + bytes(46)
batch = [netdev.Packet(frame) for _ in range(32)]
tx, rx = a._tx, b._rx
res = {"mmsg": ([], []), "each": ([], [])}
for r in range(%(rounds)d):
    for mode in ("mmsg", "each"):
        a._tx, b._rx = (tx, rx) if mode == "mmsg" else (None, None)
        ts = tr = 0.0
        got = 0
        for _ in range(500):
            t0 = time.thread_time()
            a.send_batch(batch)
            t1 = time.thread_time()
            while True:
                n = len(b.rx_batch(32))
                got += n
                if n < 32:
                    break
            ts += t1 - t0
            tr += time.thread_time() - t1
        res[mode][0].append(ts / 16000 * 1e6)
        res[mode][1].append(tr / max(got, 1) * 1e6)
print(json.dumps({m: [statistics.median(v[0]), statistics.median(v[1])]
                  for m, v in res.items()}))
"""


def io_bench(rounds):
    """send_batch and rx_batch alone: {mode: [tx us/frame, rx us/frame]}."""
    ns = "pi-io%d" % os.getpid()
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "pix0a", "type", "veth", "peer", "name", "pix0b")
        for dev in ("pix0a", "pix0b"):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        r = sh("ip", "netns", "exec", ns, sys.executable, "-c",
               IO_CODE % {"rounds": rounds})
        return json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        sh("ip", "netns", "del", ns, check=False)


def cpu_seconds(pid):
    """User + system CPU seconds of process PID so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3,
                    help="length of each iperf3 run (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="1-second iperf3 runs (same as --seconds 1)")
    ap.add_argument("--io", action="store_true",
                    help="send_batch/rx_batch alone: sendmmsg/recvmmsg vs one "
                    "system call per frame")
    ap.add_argument("--rounds", type=int, default=7,
                    help="--io rounds per mode, median taken (default 7)")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 1
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    if args.io:
        res = io_bench(args.rounds)
        print("64-byte frames, batches of 32, CPU us per frame (median)")
        print("%-28s %10s %10s" % ("", "send_batch", "rx_batch"))
        for mode, label in (("each", "one system call per frame"),
                            ("mmsg", "sendmmsg / recvmmsg")):
            print("%-28s %10.2f %10.2f" % (label, res[mode][0], res[mode][1]))
        print("ratio: send %.2fx, rx %.2fx faster"
              % (res["each"][0] / res["mmsg"][0], res["each"][1] / res["mmsg"][1]))
        return
    topo = Topo()
    rows = []
    try:
        fwd = topo.spawn(topo.fwd, sys.executable, "-m", "pyovs.netdev.forward", "p1", "p2")
        if fwd.stdout.readline().strip() != "ready":
            raise SystemExit("forwarder failed: %s" % fwd.stderr.read())
        tcp, udp, rtt = measure(topo, args.seconds)
        cpu = cpu_seconds(fwd.pid)
        fwd.terminate()
        counters = json.loads(fwd.communicate(timeout=10)[0].strip().splitlines()[-1])
        rows.append(("pyovs netdev forwarder", tcp, udp, rtt))
        gso = counters["p1"]["gso"]
        n_packets = counters["p1"]["packets"] + counters["p2"]["packets"]

        topo.exec(topo.fwd, "ip", "link", "add", "br0", "type", "bridge")
        for dev in ("p1", "p2"):
            topo.exec(topo.fwd, "ip", "link", "set", dev, "master", "br0")
        topo.exec(topo.fwd, "ip", "link", "set", "br0", "up")
        time.sleep(0.5)
        tcp, udp, rtt = measure(topo, args.seconds)
        rows.append(("Linux bridge", tcp, udp, rtt))
    finally:
        topo.close()
    print("%-24s %12s %16s %14s" % ("", "TCP Gbit/s", "UDP 60B pkts/s", "UDP RTT us"))
    for name, tcp, udp, rtt in rows:
        print("%-24s %12.2f %16.0f %14.1f" % (name, tcp / 1e9, udp, rtt))
    print("super-packets (GSO) forwarded ns1->ns2: %d" % gso)
    print("forwarder CPU: %.1f s per million packets (%d packets, %.1f s)"
          % (cpu / n_packets * 1e6, n_packets, cpu))
    print("ratio forwarder/bridge: TCP %.2f, UDP pkts/s %.2f, RTT %.2f"
          % (rows[0][1] / rows[1][1], rows[0][2] / rows[1][2], rows[0][3] / rows[1][3]))


if __name__ == "__main__":
    main()
