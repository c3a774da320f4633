"""pyovs's ovs-vswitchd forwarding real traffic (needs root).

Each test builds its own namespaces: a switch namespace pv<id>s where
ovs-vswitchd runs, and host namespaces pv<id>a, pv<id>b (, pv<id>c) each
joined to it by a veth (host side "eth0" with 10.0.0.N/24, switch side
pv<id><x>0).  Offloads stay on.  Debian's real ovs-vsctl, ovs-ofctl and
ovs-appctl drive the switch; where a text is deterministic it is compared
with Debian's real ovs-vswitchd (userspace datapath) run on the same
topology."""

import itertools
import os
import re
import subprocess
import time

import pytest

from tests.conftest import needs_root, pyovs_bin, real_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import start_server

_seq = itertools.count()
HOSTS = "abc"


class Topo:
    """Namespaces, veths, ovsdb-server and one ovs-vswitchd (KIND)."""

    def __init__(self, request, tmp_path, kind="pyovs", n_hosts=2):
        needs_root()
        self.id = "%d%d" % (os.getpid() % 10000, next(_seq))
        self.sw = "pv%ss" % self.id
        self.hosts = {x: "pv%s%s" % (self.id, x) for x in HOSTS[:n_hosts]}
        self.ports = {x: "pv%s%s0" % (self.id, x) for x in self.hosts}
        self.br = "pv%sbr" % self.id
        for ns in [self.sw] + list(self.hosts.values()):
            if run(["ip", "netns", "add", ns], timeout=10).returncode != 0:
                pytest.skip("cannot create network namespaces")
            request.addfinalizer(lambda ns=ns: run(["ip", "netns", "del", ns], timeout=10))
        self.ip = {}
        self.mac = {}
        for i, (x, ns) in enumerate(self.hosts.items()):
            port = self.ports[x]
            self.sh(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0",
                     "netns", ns])
            self.sh(["ip", "link", "set", port, "up"])
            self.ip[x] = "10.0.0.%d" % (i + 1)
            self.sh(["ip", "-n", ns, "addr", "add", self.ip[x] + "/24", "dev", "eth0"])
            self.sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self.mac[x] = re.search(r"link/ether (\S+)", run(
                ["ip", "-n", ns, "link", "show", "eth0"]).stdout).group(1)
        self.dir = tmp_path
        self.srv = start_server(request, "pyovs", tmp_path)
        self.env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
                        OVS_DBDIR=str(tmp_path))
        self.vsctl("--no-wait", "init")
        self.ctl = str(tmp_path / "vswitchd.ctl")
        exe = pyovs_bin("ovs-vswitchd") if kind == "pyovs" else real_bin("ovs-vswitchd")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.sw, exe, self.srv.remote, "--no-chdir",
             "--unixctl=" + self.ctl, "--log-file=" + str(tmp_path / "v.log"),
             "-vconsole:off"], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        request.addfinalizer(self.stop)
        wait_for(lambda: os.path.exists(self.ctl) or self.proc.poll() is not None,
                 timeout=20, what="ovs-vswitchd control socket")
        assert self.proc.poll() is None

    def sh(self, cmd):
        r = run(["ip", "netns", "exec", self.sw] + cmd, timeout=20)
        assert r.returncode == 0, (cmd, r.stderr)
        return r

    def stop(self):
        if self.proc.poll() is None:
            run([real_bin("ovs-appctl"), "-t", self.ctl, "exit", "--cleanup"], timeout=20)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def vsctl(self, *args, check=True):
        r = run([real_bin("ovs-vsctl"), "--db=" + self.srv.remote, "--timeout=20"]
                + list(args), timeout=30, env=self.env)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def appctl(self, *args):
        return run([real_bin("ovs-appctl"), "-t", self.ctl] + list(args), timeout=20,
                   env=self.env)

    def ofctl(self, *args):
        r = run([real_bin("ovs-ofctl")] + list(args), timeout=20, env=self.env)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def bridge(self, *extra):
        self.vsctl("add-br", self.br, "--", "set", "bridge", self.br,
                   "datapath_type=netdev", *extra)
        for i, x in enumerate(self.hosts):
            self.vsctl("add-port", self.br, self.ports[x], "--", "set", "interface",
                       self.ports[x], "ofport_request=%d" % (i + 1))

    def ping(self, src, dst, count=3, check=True):
        r = run(["ip", "netns", "exec", self.hosts[src], "ping", "-c", str(count),
                 "-i", "0.2", "-W", "1", self.ip[dst]], timeout=30)
        if check:
            assert r.returncode == 0, r.stdout + r.stderr
        return r.returncode == 0

    def names(self, text):
        """TEXT with the hosts' MACs and the run's id replaced by names."""
        for x, mac in self.mac.items():
            text = text.replace(mac, "MAC_" + x)
        return text.replace(self.id, "ID")


@pytest.fixture
def topo(request, tmp_path):
    return Topo(request, tmp_path)


def test_normal_ping_iperf_and_tools(topo):
    topo.bridge()
    topo.ping("a", "b")
    topo.ping("b", "a")
    srv = subprocess.Popen(["ip", "netns", "exec", topo.hosts["b"], "iperf3", "-s", "-1",
                            "-p", "16001"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        r = run(["ip", "netns", "exec", topo.hosts["a"], "iperf3", "-c", topo.ip["b"],
                 "-p", "16001", "-t", "2", "-J"], timeout=30)
        assert r.returncode == 0, r.stdout[-500:]
        import json
        bps = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
        assert bps > 0
    finally:
        srv.kill()
        srv.wait(timeout=10)
    # Megaflows in OVS's format, read with Debian's ovs-appctl.
    dump = topo.appctl("dpctl/dump-flows").stdout
    tcp = [line for line in dump.splitlines()
           if "eth(src=%s,dst=%s)" % (topo.mac["a"], topo.mac["b"]) in line]
    assert tcp and re.match(
        r"recirc_id\(0\),in_port\(\d+\),packet_type\(ns=0,id=0\),eth\(src=\S+,dst=\S+\),"
        r"eth_type\(0x0800\),ipv4\(frag=no\), packets:\d+, bytes:\d+, used:[0-9.]+s,"
        r"( flags:\S+,)? actions:\d+$", tcp[0]), dump
    fdb = topo.appctl("fdb/show", topo.br).stdout
    assert re.search(r"\n\s+1\s+0\s+%s\s+\d+\n" % topo.mac["a"], fdb), fdb
    assert re.search(r"\n\s+2\s+0\s+%s\s+\d+" % topo.mac["b"], fdb), fdb
    # The datapath's counts reach the OpenFlow flow (NORMAL).
    wait_for(lambda: int(re.search(r"n_packets=(\d+)", topo.ofctl(
        "dump-flows", topo.br)).group(1)) > 1000, what="flow statistics")
    assert topo.proc.poll() is None


def _trace_scenario(request, tmp_path, kind):
    t = Topo(request, tmp_path / kind, kind)
    t.bridge()
    t.ping("a", "b")
    flow = "in_port=1,dl_src=%s,dl_dst=%s,dl_type=0x0800" % (t.mac["a"], t.mac["b"])
    out = [t.names(t.appctl("ofproto/trace", t.br, flow).stdout)]
    fdb = t.appctl("fdb/show", t.br).stdout.splitlines()
    out.append(sorted(re.sub(r"\s+\d+$", " AGE", t.names(line)) for line in fdb
                      if "MAC_" in t.names(line)))
    show = t.names(t.appctl("dpif/show").stdout)
    out.append(re.sub(r"hit:\d+ missed:\d+", "hit:N missed:N", show))
    t.stop()
    return out


def test_trace_fdb_and_dpif_show_match_real_ovs(request, tmp_path):
    got = {kind: _trace_scenario(request, tmp_path, kind) for kind in ("real", "pyovs")}
    assert got["pyovs"] == got["real"]
    assert "forwarding to learned port" in got["pyovs"][0]
    assert len(got["pyovs"][1]) == 2


def test_flows_from_real_ofctl(topo):
    topo.bridge("fail_mode=secure")
    assert not topo.ping("a", "b", count=1, check=False)     # secure: no flows
    topo.ofctl("add-flow", topo.br, "in_port=1,actions=output:2")
    topo.ofctl("add-flow", topo.br, "in_port=2,actions=output:1")
    topo.ping("a", "b")
    wait_for(lambda: all(int(n) >= 3 for n in re.findall(
        r"n_packets=(\d+)", topo.ofctl("dump-flows", topo.br))), what="flow counters")
    trace = topo.appctl("ofproto/trace", topo.br, "in_port=1,ip").stdout
    odp = re.search(r"%s 2/(\d+): \(system\)" % topo.ports["b"],
                    topo.appctl("dpif/show").stdout).group(1)
    assert " 0. in_port=1, priority 32768\n    output:2\n" in trace, trace
    assert trace.endswith("Datapath actions: %s\n" % odp), trace
    # Deleting the flows stops the traffic at once (revalidation).
    topo.ofctl("del-flows", topo.br)
    assert not topo.ping("a", "b", count=1, check=False)


def test_vlan_access_ports_isolate(topo):
    topo.bridge()
    topo.vsctl("set", "port", topo.ports["a"], "tag=10")
    topo.vsctl("set", "port", topo.ports["b"], "tag=20")
    assert not topo.ping("a", "b", count=2, check=False)
    topo.vsctl("set", "port", topo.ports["b"], "tag=10")
    topo.ping("a", "b")
    fdb = topo.appctl("fdb/show", topo.br).stdout
    assert re.search(r"\s1\s+10\s+%s" % topo.mac["a"], fdb), fdb


def test_vanished_interface(request, tmp_path):
    t = Topo(request, tmp_path, n_hosts=3)
    t.bridge()
    t.ping("a", "c")
    t.sh(["ip", "link", "del", t.ports["c"]])
    wait_for(lambda: "No such device" in t.vsctl("get", "interface", t.ports["c"],
                                                 "error").stdout,
             timeout=20, what="the error in the Interface row")
    assert t.vsctl("get", "interface", t.ports["c"], "ofport").stdout.strip() == "-1"
    t.ping("a", "b")
    assert t.proc.poll() is None
    # The device comes back: it joins the bridge again, as with OVS's
    # if-notifier.
    t.sh(["ip", "link", "add", t.ports["c"], "type", "veth", "peer", "name", "eth1",
          "netns", t.hosts["c"]])
    t.sh(["ip", "link", "set", t.ports["c"], "up"])
    run(["ip", "-n", t.hosts["c"], "addr", "add", "10.0.0.5/24", "dev", "eth1"])
    run(["ip", "-n", t.hosts["c"], "link", "set", "eth1", "up"])
    wait_for(lambda: t.vsctl("get", "interface", t.ports["c"], "error").stdout.strip()
             == "[]", timeout=20, what="the error cleared")
    r = run(["ip", "netns", "exec", t.hosts["c"], "ping", "-c", "2", "-i", "0.2",
             "-W", "2", t.ip["a"]], timeout=30)
    assert r.returncode == 0, r.stdout


def test_host_reaches_hosts_through_local_and_internal_ports(topo):
    """The bridge's local port and an internal port are taps the switch's
    host (namespace) can address."""
    topo.bridge()
    internal = "pv%si" % topo.id
    topo.vsctl("add-port", topo.br, internal, "--", "set", "interface", internal,
               "type=internal")
    topo.sh(["ip", "addr", "add", "10.0.0.254/24", "dev", topo.br])
    topo.sh(["ip", "link", "set", topo.br, "up"])
    r = run(["ip", "netns", "exec", topo.hosts["a"], "ping", "-c", "2", "-i", "0.2",
             "-W", "2", "10.0.0.254"], timeout=30)
    assert r.returncode == 0, r.stdout
    # The internal port, in its own subnet, reaches host b.
    run(["ip", "-n", topo.hosts["b"], "addr", "add", "10.0.1.2/24", "dev", "eth0"])
    topo.sh(["ip", "addr", "add", "10.0.1.1/24", "dev", internal])
    topo.sh(["ip", "link", "set", internal, "up"])
    r = topo.sh(["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.1.2"])
    assert r.returncode == 0


def test_port_changes_do_not_disturb_others(request, tmp_path):
    t = Topo(request, tmp_path, n_hosts=3)
    t.vsctl("add-br", t.br, "--", "set", "bridge", t.br, "datapath_type=netdev")
    for x in "ab":
        t.vsctl("add-port", t.br, t.ports[x])
    t.ping("a", "b")
    ping = subprocess.Popen(["ip", "netns", "exec", t.hosts["a"], "ping", "-c", "30",
                             "-i", "0.05", "-W", "1", t.ip["b"]],
                            stdout=subprocess.PIPE, text=True)
    try:
        t.vsctl("add-port", t.br, t.ports["c"])
        t.ping("c", "a", count=1)
        t.vsctl("del-port", t.br, t.ports["c"])
        out = ping.communicate(timeout=30)[0]
    finally:
        if ping.poll() is None:
            ping.kill()
    assert " 0% packet loss" in out, out
