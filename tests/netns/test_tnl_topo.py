"""(Helpers, no tests.) The two-hypervisor layout of OVS's userspace-tunneling howto, for the
tunnel tests and bench/tunnel.py (needs root).

Namespaces (prefix "pt"): H1 and H2 are hypervisors joined by an underlay
veth (ptu1 <-> ptu2, 172.31.1.1/2, or fd00:31::1/2 with ipv6=True, on each
side's br-phy); M1 and M2 are
their VMs, joined to br-int by one veth pair per tunnel (ptkN <-> ptkNh,
10.9.N.1/2 on the VM side, MTU 1400 for the encapsulation).  On each
hypervisor a switch (pyovs's or Debian's real OVS 3.1, each with its own
ovsdb-server, datapath_type=netdev) has br-phy (the underlay veth, the
underlay IP on its internal port) and br-int (the VM veths and one tunnel
port per tunnel, wired by OpenFlow flows: VM port k <-> tunnel port k).
Or the second hypervisor is the Linux kernel: a vxlan/gre/geneve device
per tunnel with the VM address on it.
"""

import itertools
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import pyovs_bin, real_bin, run, wait_for

UNDERLAY = ("172.31.1.1", "172.31.1.2")
UNDERLAY6 = ("fd00:31::1", "fd00:31::2")
_seq = itertools.count()

SNIFF = r'''
import socket, sys, time, select
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
end = time.monotonic() + float(sys.argv[2])
print("ready", flush=True)
while time.monotonic() < end:
    if select.select([s], [], [], 0.05)[0]:
        data, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            print(data.hex(), flush=True)
'''


def sh(*cmd, check=True, timeout=30):
    r = run(list(cmd), timeout=timeout)
    if check:
        assert r.returncode == 0, (cmd, r.stderr)
    return r


class Switch:
    """ovsdb-server + ovs-vswitchd of KIND ("pyovs" or "real") in netns NS."""

    def __init__(self, kind, ns, directory):
        self.kind, self.ns = kind, ns
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, OVS_RUNDIR=str(self.dir), OVS_LOGDIR=str(self.dir),
                        OVS_DBDIR=str(self.dir))
        exe = (lambda n: pyovs_bin(n)) if kind == "pyovs" else real_bin
        db = str(self.dir / "conf.db")
        self.sock = str(self.dir / "db.sock")
        self.remote = "unix:" + self.sock
        self.ctl = str(self.dir / "vswitchd.ctl")
        run([exe("ovsdb-tool"), "create", db, "/usr/share/openvswitch/vswitch.ovsschema"],
            check=True, env=self.env)
        self.procs = []
        self.procs.append(subprocess.Popen(
            [exe("ovsdb-server"), db, "--remote=punix:" + self.sock, "--no-chdir",
             "--unixctl=" + str(self.dir / "db.ctl"), "--log-file=" + str(self.dir / "db.log"),
             "-vconsole:off"], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: run([real_bin("ovs-vsctl"), "--db=" + self.remote, "--no-wait",
                              "--timeout=5", "init"], timeout=10, env=self.env)
                 .returncode == 0, timeout=20, interval=0.1, what="ovsdb-server")
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, exe("ovs-vswitchd"), self.remote, "--no-chdir",
             "--unixctl=" + self.ctl, "--log-file=" + str(self.dir / "vswitchd.log"),
             "-vconsole:off"], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(self.ctl), timeout=20, what="ovs-vswitchd")

    def vsctl(self, *args):
        r = run([real_bin("ovs-vsctl"), "--db=" + self.remote, "--timeout=30", *args],
                timeout=40, env=self.env)
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    def appctl(self, *args):
        return run([real_bin("ovs-appctl"), "-t", self.ctl, *args], timeout=20,
                   env=self.env).stdout

    def ofctl(self, *args):
        r = run([real_bin("ovs-ofctl"), *args], timeout=20, env=self.env)
        assert r.returncode == 0, (args, r.stderr)

    def stop(self):
        vs = self.procs[1:] and self.procs[1]
        if vs and vs.poll() is None:
            run([real_bin("ovs-appctl"), "-t", self.ctl, "exit", "--cleanup"], timeout=20)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10 if p is vs else 0.1)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)


class Topo:
    """The namespaces and links; hypervisors added with ovs() / kernel()."""

    def __init__(self, tmp_path, tunnels, ipv6=False):
        n = "%d%d" % (os.getpid() % 10000, next(_seq))
        self.h = ["pt%sh1" % n, "pt%sh2" % n]
        self.m = ["pt%sm1" % n, "pt%sm2" % n]
        self.tmp = Path(tmp_path)
        self.tunnels = tunnels          # [(type, key or None)], port k = index + 1
        self.underlay, self.plen = (UNDERLAY6, 64) if ipv6 else (UNDERLAY, 24)
        self.switches = []
        self.spawned = []
        for ns in self.h + self.m:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "ptu1", "netns", self.h[0], "type", "veth", "peer",
           "name", "ptu2", "netns", self.h[1])
        for i in (0, 1):
            sh("ip", "-n", self.h[i], "link", "set", "ptu%d" % (i + 1), "up")
            for k in range(1, len(tunnels) + 1):
                vm, host = "ptk%d" % k, "ptk%dh" % k
                sh("ip", "link", "add", vm, "netns", self.m[i], "type", "veth", "peer",
                   "name", host, "netns", self.h[i])
                sh("ip", "-n", self.m[i], "link", "set", vm, "mtu", "1400", "up")
                sh("ip", "-n", self.m[i], "addr", "add", "10.9.%d.%d/24" % (k, i + 1),
                   "dev", vm)
                sh("ip", "-n", self.h[i], "link", "set", host, "up")

    def ovs(self, i, kind, normal=False):
        """Hypervisor I (0 or 1) as KIND's switch; NORMAL: br-int keeps the
        default NORMAL flow (as the howto's), else VM port k <-> tunnel k."""
        sw = Switch(kind, self.h[i], self.tmp / ("%s%d" % (kind, i)))
        self.switches.append(sw)
        remote = self.underlay[1 - i]
        sw.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
                 "--", "add-port", "br-phy", "ptu%d" % (i + 1))
        args = ["add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev"]
        for k, (type_, key) in enumerate(self.tunnels, 1):
            args += ["--", "add-port", "br-int", "ptk%dh" % k, "--", "set", "interface",
                     "ptk%dh" % k, "ofport_request=%d" % k,
                     "--", "add-port", "br-int", "tun%d" % k, "--", "set", "interface",
                     "tun%d" % k, "type=" + type_, "options:remote_ip=" + remote,
                     "ofport_request=%d" % (10 + k)]
            if key is not None:
                args.append("options:key=%d" % key)
        sw.vsctl(*args)
        sh("ip", "-n", self.h[i], "addr", "add", "%s/%d" % (self.underlay[i], self.plen),
           "dev", "br-phy", *(["nodad"] if self.plen == 64 else []))
        sh("ip", "-n", self.h[i], "link", "set", "br-phy", "up")
        sh("ip", "-n", self.h[i], "link", "set", "br-int", "up")
        if kind == "real":
            # OVS's userspace datapath cannot take partial checksums from
            # AF_PACKET: its VMs send complete ones (as its docs advise).
            for k in range(1, len(self.tunnels) + 1):
                run(["ip", "netns", "exec", self.m[i], "ethtool", "-K", "ptk%d" % k,
                     "tx", "off"], timeout=10)
        if normal:
            return sw
        sw.ofctl("del-flows", "br-int")
        for k in range(1, len(self.tunnels) + 1):
            sw.ofctl("add-flow", "br-int", "in_port=%d,actions=output:%d" % (k, 10 + k))
            sw.ofctl("add-flow", "br-int", "in_port=%d,actions=output:%d" % (10 + k, k))
        return sw

    def kernel(self, i):
        """Hypervisor I as the Linux kernel: one tunnel device per tunnel,
        the VM's address moved onto it.  Returns the tunnel numbers whose
        device type this kernel has (k: 1-based)."""
        ns, local, remote = self.h[i], UNDERLAY[i], UNDERLAY[1 - i]
        made = []
        sh("ip", "-n", ns, "addr", "add", local + "/24", "dev", "ptu%d" % (i + 1))
        for k, (type_, key) in enumerate(self.tunnels, 1):
            dev = "ptkt%d" % k
            if type_ == "vxlan":
                spec = ["vxlan", "id", str(key or 0), "remote", remote, "local", local,
                        "dstport", "4789"]
            elif type_ == "geneve":
                spec = ["geneve", "id", str(key or 0), "remote", remote]
            else:
                spec = ["gretap", "remote", remote, "local", local]
                if key is not None:
                    spec += ["key", str(key)]
            if run(["ip", "-n", ns, "link", "add", dev, "type", *spec],
                   timeout=30).returncode != 0:
                continue            # the kernel lacks this tunnel type
            made.append(k)
            sh("ip", "-n", ns, "link", "set", dev, "mtu", "1400", "up")
            # The VM is the kernel itself: its veth leaves, the address moves.
            sh("ip", "-n", self.m[i], "link", "del", "ptk%d" % k)
            sh("ip", "-n", ns, "addr", "add", "10.9.%d.%d/24" % (k, i + 1), "dev", dev)
        return made

    def vm(self, i, *cmd, timeout=60):
        return run(["ip", "netns", "exec", self.m[i], *cmd], timeout=timeout)

    def ping(self, k, count=3, src_ns=None):
        ns = src_ns or self.m[0]
        return run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.2",
                    "-W", "2", "10.9.%d.2" % k], timeout=30)

    def iperf(self, k, port, seconds=2, udp=False, server_ns=None, client_ns=None):
        """iperf3 -J result (dict) from VM 1 to VM 2 through tunnel K."""
        import json
        srv_ns, cli_ns = server_ns or self.m[1], client_ns or self.m[0]
        srv = subprocess.Popen(["ip", "netns", "exec", srv_ns, "iperf3", "-s", "-1", "-p",
                                str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.spawned.append(srv)
        time.sleep(0.3)
        cmd = ["ip", "netns", "exec", cli_ns, "iperf3", "-c", "10.9.%d.2" % k, "-p",
               str(port), "-t", str(seconds), "-J"]
        if udp:
            cmd += ["-u", "-b", "0", "-l", "64"]
        r = run(cmd, timeout=seconds + 30)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
        return json.loads(r.stdout) if r.stdout.strip().startswith("{") else {
            "error": r.stderr}

    def sniff(self, i, seconds):
        """Start capturing on hypervisor I's underlay veth; returns a
        function that waits and gives the frames received (bytes)."""
        p = subprocess.Popen(["ip", "netns", "exec", self.h[i], "python3", "-c", SNIFF,
                              "ptu%d" % (i + 1), str(seconds)], stdout=subprocess.PIPE,
                             text=True)
        self.spawned.append(p)
        assert p.stdout.readline().strip() == "ready"

        def result():
            out, _ = p.communicate(timeout=seconds + 10)
            return [bytes.fromhex(ln) for ln in out.split()]
        return result

    def close(self):
        for p in self.spawned:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
        for sw in self.switches:
            sw.stop()
        for ns in self.h + self.m:
            run(["ip", "netns", "del", ns], timeout=10)
