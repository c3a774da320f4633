"""pyovs's netdevs against Debian's real Open vSwitch 3.1 (needs root).

A real ovsdb-server and ovs-vswitchd (--enable-dummy, userspace datapath) run
in a private run directory, ovs-vswitchd inside a private network namespace
holding a veth pair.  What the real switch writes into the Interface table
for a system port, the pcap files its dummy ports record, and its
netdev-dummy/* command replies are compared with what pyovs's netdevs give
for the same device or the same command.
"""

import asyncio
import itertools
import json
import os
import shutil
import sys
import tempfile
import textwrap
import threading

import pytest

from pyovs import netdev
from pyovs.netdev import dummy, pcap
from pyovs.util import unixctl
from tests.conftest import REAL_VSWITCH_SCHEMA, needs_root, real_bin, run, wait_for

_seq = itertools.count()
PACKET = ("ffffffffffff" "000000000001" "0800" "4500001400000000400000000a0900010a090002")


class RealOvs:
    def __init__(self):
        needs_root()
        # A short private directory: unix socket paths must stay < 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="pa-ovs-")
        self.ns = "pa-%d-%do" % (os.getpid(), next(_seq))
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.db = "unix:%s/db.sock" % self.dir
        self.started = []
        r = run(["ip", "netns", "add", self.ns])
        if r.returncode:
            pytest.skip("cannot create network namespaces: %s" % r.stderr.strip())
        self.sh("ip", "-n", self.ns, "link", "add", "p1", "type", "veth", "peer", "name", "q1")
        for dev in ("p1", "q1", "lo"):
            self.sh("ip", "-n", self.ns, "link", "set", dev, "up")
        self.sh(real_bin("ovsdb-tool"), "create", "%s/conf.db" % self.dir, REAL_VSWITCH_SCHEMA)
        self.sh(real_bin("ovsdb-server"), "--remote=punix:%s/db.sock" % self.dir,
                "--pidfile", "--detach", "--no-chdir", "--log-file",
                "%s/conf.db" % self.dir)
        self.started.append("ovsdb-server")
        self.vsctl("--no-wait", "init")
        self.sh("ip", "netns", "exec", self.ns, real_bin("ovs-vswitchd"), self.db,
                "--pidfile", "--detach", "--no-chdir", "--log-file", "--enable-dummy")
        self.started.append("ovs-vswitchd")

    def sh(self, *cmd):
        r = run(list(cmd), env=self.env, timeout=30)
        assert r.returncode == 0, "%s: %s" % (" ".join(cmd), r.stderr)
        return r.stdout

    def vsctl(self, *args):
        return self.sh(real_bin("ovs-vsctl"), "--db=" + self.db, "--timeout=20", *args)

    def appctl(self, target, *args):
        return run([real_bin("ovs-appctl"), "-t", target] + list(args),
                   env=self.env, timeout=30)

    def get(self, iface, column):
        return json.loads(self.vsctl("--format=json", "--data=json", "--columns=" + column,
                                     "list", "Interface", iface))["data"][0][0]

    def close(self):
        for target in reversed(self.started):
            self.appctl(target, "exit")
        for name in self.started:
            pidfile = os.path.join(self.dir, name + ".pid")
            if os.path.exists(pidfile):
                try:
                    pid = int(open(pidfile).read())
                    os.kill(pid, 9)
                except (ValueError, OSError):
                    pass
        run(["ip", "netns", "del", self.ns])
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def ovs():
    o = RealOvs()
    yield o
    o.close()


def omap(value):
    """An OVSDB JSON map ["map", [[k, v], ...]] as a dict."""
    return dict(value[1])


def test_system_port_facts_match_real_ovs(ovs):
    ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
              "--", "add-port", "br0", "p1")
    wait_for(lambda: ovs.get("p1", "link_speed") != ["set", []], what="p1 status from OVS")
    r = run(["ip", "netns", "exec", ovs.ns, sys.executable, "-c", textwrap.dedent("""
        import json
        from pyovs import netdev
        d = netdev.open("p1", "system")
        print(json.dumps(dict(
            mac=netdev.mac_to_str(d.get_etheraddr()), mtu=d.get_mtu(),
            ifindex=d.get_ifindex(), speed=d.get_speed(), status=d.get_status(),
            link="up" if d.get_carrier() else "down",
            admin="up" if d.get_admin_state() else "down",
            stats=sorted(d.get_stats().interface_statistics()))))
    """)])
    assert r.returncode == 0, r.stderr
    ours = json.loads(r.stdout)
    assert ours["mac"] == ovs.get("p1", "mac_in_use")
    assert ours["mtu"] == ovs.get("p1", "mtu")
    assert ours["ifindex"] == ovs.get("p1", "ifindex")
    assert ours["speed"] == ovs.get("p1", "link_speed")
    assert ours["status"] == omap(ovs.get("p1", "status"))
    assert ours["link"] == ovs.get("p1", "link_state")
    assert ours["admin"] == ovs.get("p1", "admin_state")
    wait_for(lambda: omap(ovs.get("p1", "statistics")), what="p1 statistics from OVS")
    assert ours["stats"] == sorted(omap(ovs.get("p1", "statistics")))


def test_dummy_pcap_files_match_real_ovs(ovs, tmp_path):
    d1_rx, d2_tx = str(tmp_path / "d1-rx.pcap"), str(tmp_path / "d2-tx.pcap")
    ovs.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
              "--", "add-port", "br1", "d1", "--", "set", "interface", "d1", "type=dummy",
              "options:rxq_pcap=" + d1_rx,
              "--", "add-port", "br1", "d2", "--", "set", "interface", "d2", "type=dummy",
              "options:tx_pcap=" + d2_tx)
    wait_for(lambda: ovs.get("d2", "ofport") not in (-1, ["set", []]), what="d2 attached")
    r = ovs.appctl("ovs-vswitchd", "netdev-dummy/receive", "d1", PACKET)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: os.path.getsize(d2_tx) > 24, what="real OVS writing d2's tx_pcap")
    packet = bytes.fromhex(PACKET)
    # Our reader reads real OVS's files ...
    assert pcap.read_pcap(d1_rx) == [packet]
    assert pcap.read_pcap(d2_tx) == [packet]          # flooded by NORMAL
    # ... and our writer writes the same bytes (timestamps aside).
    ours = tmp_path / "ours.pcap"
    d = dummy.NetdevDummy("pa-oracle-d", {"tx_pcap": str(ours)})
    d.send_batch([packet])
    d.close()
    real = open(d2_tx, "rb").read()
    mine = ours.read_bytes()
    assert mine[:24] == real[:24]
    assert mine[32:] == real[32:]                     # record lengths and data
    assert ovs.get("d1", "mac_in_use").startswith("aa:55:aa:55:00:")


CASES = [
    ("netdev-dummy/receive", "pa-nosuch", PACKET),
    ("netdev-dummy/receive", "d1", "--qid", "3", PACKET),
    ("netdev-dummy/receive", "d1", "in_port(1)", "--len", "20"),
    ("netdev-dummy/receive", "d1", PACKET),
    ("netdev-dummy/set-admin-state", "d1", "sideways"),
    ("netdev-dummy/set-admin-state", "pa-nosuch", "up"),
    ("netdev-dummy/set-admin-state", "d1", "down"),
    ("netdev-dummy/set-admin-state", "up"),
]


@pytest.fixture
def pyovs_appctl_server(ovs):
    """pyovs's netdev-dummy commands on a pyovs UnixctlServer, in a thread."""
    loop = asyncio.new_event_loop()
    server = unixctl.UnixctlServer(path=os.path.join(ovs.dir, "pyovs.ctl"),
                                   program="ovs-vswitchd")
    dummy.register_unixctl_commands(server)
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server.path
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_netdev_dummy_commands_answer_as_real_ovs(ovs, pyovs_appctl_server):
    ovs.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
              "--", "add-port", "br1", "d1", "--", "set", "interface", "d1", "type=dummy")
    wait_for(lambda: ovs.get("d1", "ofport") not in (-1, ["set", []]), what="d1 attached")
    d1 = netdev.open("d1", "dummy")
    try:
        real_target = os.path.join(ovs.dir, "ovs-vswitchd.%s.ctl"
                                   % open(os.path.join(ovs.dir, "ovs-vswitchd.pid")).read().strip())
        for case in CASES:
            real = ovs.appctl(real_target, *case)
            ours = ovs.appctl(pyovs_appctl_server, *case)
            assert (ours.returncode, ours.stdout) == (real.returncode, real.stdout), case
            assert (ours.stderr.replace(pyovs_appctl_server, "T")
                    == real.stderr.replace(real_target, "T")), case
        assert d1.get_admin_state()              # the last case set every dummy up
        assert len(d1.rx_batch()) == 1
    finally:
        d1.close()


BAD_INTERFACES = [
    ("pp0", "patch", {}),
    ("pp1", "patch", {"peer": "pp1"}),
    ("pp2", "patch", {"peer": "x", "color": "red"}),
    ("bad0", "nosuchtype", {}),
    ("pa-nosuch0", "system", {}),
]


def test_interface_errors_match_real_ovs(ovs):
    args = ["add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy"]
    for name, kind, options in BAD_INTERFACES:
        args += ["--", "add-port", "br1", name, "--", "set", "interface", name, "type=" + kind]
        args += ["options:%s=%s" % kv for kv in options.items()]
    ovs.vsctl(*args)
    for name, kind, options in BAD_INTERFACES:
        real = wait_for(lambda: ovs.get(name, "error") != ["set", []] and ovs.get(name, "error"),
                        what="real OVS's error for " + name)
        with pytest.raises(netdev.NetdevError) as e:
            netdev.open(name, kind, options).close()
        assert str(e.value) == real


def test_internal_port_facts_match_real_ovs(ovs):
    """Real OVS's bridge-local tap br0 (userspace datapath) and a pyovs
    internal port, side by side in the same namespace."""
    ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
    wait_for(lambda: ovs.get("br0", "link_speed") != ["set", []], what="br0 status from OVS")
    r = run(["ip", "netns", "exec", ovs.ns, sys.executable, "-c", textwrap.dedent("""
        import json
        from pyovs import netdev
        d = netdev.open("pa-br7", "internal")
        mac = d.get_etheraddr()
        print(json.dumps(dict(
            mtu=d.get_mtu(), speed=d.get_speed(), status=d.get_status(),
            local=bool(mac[0] & 2), unicast=not mac[0] & 1,
            stats=sorted(d.get_stats().interface_statistics()))))
    """)])
    assert r.returncode == 0, r.stderr
    ours = json.loads(r.stdout)
    assert ours["mtu"] == ovs.get("br0", "mtu")
    assert ours["speed"] == ovs.get("br0", "link_speed")
    assert ours["status"] == omap(ovs.get("br0", "status"))
    assert ours["local"] and ours["unicast"]
    wait_for(lambda: omap(ovs.get("br0", "statistics")), what="br0 statistics from OVS")
    assert ours["stats"] == sorted(omap(ovs.get("br0", "statistics")))


def test_patch_port_facts_match_real_ovs(ovs):
    ovs.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
              "--", "add-br", "br2", "--", "set", "bridge", "br2", "datapath_type=dummy",
              "--", "add-port", "br1", "pa", "--", "set", "interface", "pa", "type=patch",
              "options:peer=pb",
              "--", "add-port", "br2", "pb", "--", "set", "interface", "pb", "type=patch",
              "options:peer=pa")
    wait_for(lambda: omap(ovs.get("pa", "statistics")), what="pa statistics from OVS")
    p = netdev.open("pa-patch9", "patch", {"peer": "pa-patch8"})
    try:
        mac = p.get_etheraddr()
        real_mac = bytes.fromhex(ovs.get("pa", "mac_in_use").replace(":", ""))
        assert (mac[0] & 3, mac != bytes(6)) == (real_mac[0] & 3, True)   # random, local
        with pytest.raises(netdev.NetdevError):
            p.get_mtu()
        assert ovs.get("pa", "mtu") == ["set", []]
        assert sorted(p.get_stats().interface_statistics()) == sorted(omap(ovs.get("pa", "statistics")))
        assert p.get_status() == omap(ovs.get("pa", "status"))
        assert ("up" if p.get_carrier() else "down") == ovs.get("pa", "link_state")
    finally:
        p.close()
