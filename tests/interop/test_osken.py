"""End to end with a real OpenFlow 1.3 controller: os-ken (PyPI) running a
simple_switch_13 application, a bridge (fail_mode=secure,
protocols=OpenFlow13) joining two network namespaces, real ping between
them, and the flows the controller installed read back with Debian's real
``ovs-ofctl -O OpenFlow13 dump-flows br0``.  The same test runs on
Debian's ovs-vswitchd 3.1 (proving the test) and on pyovs's.

The application: os-ken's own simple_switch_13 shipped in os-ken up to
1.4.x, whose osken-manager no longer starts on Python 3.11 (it needs an
eventlet older than 0.30.3, which does not run on 3.11); later os-ken
releases dropped the sample applications (and 4.x osken-manager itself).
So the test writes its own application with the same behaviour, written
against os-ken's API: on the switch's features reply, a priority-0
table-miss flow sending packets to the controller; on each packet-in,
learn the source MAC's port, output to the destination's port when known
(installing a priority-1 flow on in_port, eth_dst and eth_src) or flood
otherwise.  Needs root and os-ken (osken-manager) in the venv.
"""

import importlib.util
import json
import re
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, needs_root, pyovs_bin, real_bin, run, wait_for

OSKEN_MANAGER = os.path.join(os.path.dirname(sys.executable), "osken-manager")
PORTS = {"real": 16110, "pyovs": 16111}

SIMPLE_SWITCH_13 = '''
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class SimpleSwitch13(app_manager.OSKenApp):
    """A learning switch over OpenFlow 1.3, as os-ken's sample app."""
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mac_to_port = {}

    def add_flow(self, dp, priority, match, actions):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match,
                                      instructions=inst))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features_handler(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.add_flow(dp, 0, parser.OFPMatch(),
                      [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in_handler(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == 0x88cc:         # LLDP
            return
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            self.add_flow(dp, 1, parser.OFPMatch(in_port=in_port, eth_dst=eth.dst,
                                                 eth_src=eth.src), actions)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id,
                                        in_port=in_port, actions=actions, data=data))
'''


def sh(*cmd, check=True):
    r = run(list(cmd), timeout=60)
    if check:
        assert r.returncode == 0, "%s: %s" % (" ".join(cmd), r.stderr)
    return r


class Net:
    """Namespaces pbk<pid><kind>{a,b,f}: pbe0 (10.8.0.1, 10.8.0.2) in a and
    b, their veth peers pbk1, pbk2 in f, where the switch runs."""

    def __init__(self, tag):
        base = "pbk%d%s" % (os.getpid(), tag)
        self.ns1, self.ns2, self.fwd = base + "a", base + "b", base + "f"
        self.made = []
        for ns in (self.ns1, self.ns2, self.fwd):
            if run(["ip", "netns", "add", ns], timeout=10).returncode:
                pytest.skip("cannot create network namespaces")
            self.made.append(ns)
        sh("ip", "-n", self.fwd, "link", "set", "lo", "up")
        for i, ns in ((1, self.ns1), (2, self.ns2)):
            sh("ip", "-n", self.fwd, "link", "add", "pbk%d" % i, "type", "veth",
               "peer", "name", "pbe0", "netns", ns)
            sh("ip", "-n", ns, "addr", "add", "10.8.0.%d/24" % i, "dev", "pbe0")
            sh("ip", "-n", ns, "link", "set", "pbe0", "up")
            sh("ip", "-n", self.fwd, "link", "set", "pbk%d" % i, "up")

    def mac(self, ns):
        out = sh("ip", "-n", ns, "-j", "link", "show", "pbe0").stdout
        return json.loads(out)[0]["address"]

    def close(self):
        for ns in self.made:
            run(["ip", "netns", "del", ns], timeout=10)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def needs_osken():
    needs_root()
    if importlib.util.find_spec("os_ken") is None:
        pytest.skip("os_ken not importable: pip install os-ken==3.1.1")
    if not os.path.exists(OSKEN_MANAGER):
        pytest.skip("no osken-manager beside the test's Python (os-ken 4.x has none)")


@pytest.fixture(params=["real", "pyovs"])
def setup(request, tmp_path):
    """(net, env, ovs-ofctl command) with the controller and KIND's switch up."""
    needs_osken()
    kind = request.param
    return start(request, kind, tmp_path, PORTS[kind], kind[0])


def start(request, kind, tmp_path, port, tag):
    """Namespaces, osken-manager on PORT and KIND's switch in TMP_PATH;
    finalizers on REQUEST stop them."""
    tool = pyovs_bin if kind == "pyovs" else real_bin
    net = Net(tag)
    request.addfinalizer(net.close)
    tmp_path.mkdir(parents=True, exist_ok=True)
    d = str(tmp_path)
    env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
    app = tmp_path / "simple_switch_13.py"
    app.write_text(SIMPLE_SWITCH_13)

    def spawn(*cmd, ns=None):
        prefix = ["ip", "netns", "exec", ns] if ns else []
        log = open(os.path.join(d, os.path.basename(cmd[0]) + ".out"), "w")
        p = subprocess.Popen(prefix + list(cmd), stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=env, cwd=d)
        log.close()
        request.addfinalizer(lambda: stop(p))
        return p

    ctl = spawn(OSKEN_MANAGER, "--ofp-listen-host", "127.0.0.1",
                "--ofp-tcp-listen-port", str(port), str(app), ns=net.fwd)
    wait_for(lambda: ctl.poll() is not None or ":%d " % port in sh(
        "ip", "netns", "exec", net.fwd, "ss", "-ltnH").stdout, timeout=30,
        what="osken-manager listening")
    assert ctl.poll() is None, open(os.path.join(d, "osken-manager.out")).read()

    db, sock = os.path.join(d, "conf.db"), os.path.join(d, "db.sock")
    sh(tool("ovsdb-tool"), "create", db, REAL_VSWITCH_SCHEMA)
    spawn(tool("ovsdb-server"), db, "--remote=punix:" + sock, "--no-chdir",
          "--unixctl=" + os.path.join(d, "db.ctl"), "-vconsole:off",
          "--log-file=" + os.path.join(d, "ovsdb-server.log"))
    wait_for(lambda: os.path.exists(sock), timeout=60, what="ovsdb-server")
    vsctl = [real_bin("ovs-vsctl"), "--db=unix:" + sock, "--timeout=60"]
    sh(*vsctl, "--no-wait", "init")
    vs = spawn(tool("ovs-vswitchd"), "unix:" + sock, "--no-chdir",
               "--unixctl=" + os.path.join(d, "vswitchd.ctl"), "-vconsole:off",
               "--log-file=" + os.path.join(d, "ovs-vswitchd.log"), ns=net.fwd)
    wait_for(lambda: os.path.exists(os.path.join(d, "vswitchd.ctl")) or vs.poll() is not None,
             timeout=60, what="ovs-vswitchd")
    assert vs.poll() is None
    r = run(vsctl + ["add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev",
                     "fail_mode=secure", "protocols=OpenFlow13",
                     "--", "set-controller", "br0", "tcp:127.0.0.1:%d" % port,
                     "--", "add-port", "br0", "pbk1", "--", "set", "Interface", "pbk1",
                     "ofport_request=1", "--", "add-port", "br0", "pbk2",
                     "--", "set", "Interface", "pbk2", "ofport_request=2"],
            env=env, timeout=90)
    assert r.returncode == 0, r.stderr
    ofctl = [real_bin("ovs-ofctl"), "-O", "OpenFlow13"]
    wait_for(lambda: run(vsctl + ["--bare", "--columns=is_connected", "list", "Controller"],
                         env=env).stdout.strip() == "true",
             timeout=30, interval=0.2, what="controller connected")
    return net, env, ofctl


def flows(env, ofctl):
    r = run(ofctl + ["dump-flows", "br0"], env=env, timeout=20)
    assert r.returncode == 0, r.stderr
    return [line.strip() for line in r.stdout.splitlines() if "actions=" in line]


def exercise(net, env, ofctl):
    """Ping both ways through the switch under simple_switch_13 and check
    the flows it installed; returns them, normalised (no counters or ages,
    the namespaces' MACs as MAC1 and MAC2), sorted."""
    # The table-miss flow arrives right after the features reply.
    wait_for(lambda: any("priority=0 actions=CONTROLLER:65535" in f
                         for f in flows(env, ofctl)), timeout=20, what="table-miss flow")
    deadline = time.monotonic() + 30
    while True:
        r = run(["ip", "netns", "exec", net.ns1, "ping", "-c", "3", "-i", "0.2", "-W", "2",
                 "10.8.0.2"], timeout=30)
        if r.returncode == 0 or time.monotonic() > deadline:
            break
    assert r.returncode == 0, r.stdout + r.stderr
    mac1, mac2 = net.mac(net.ns1), net.mac(net.ns2)
    fl = flows(env, ofctl)
    # One learned flow each way: in_port, dl_src and dl_dst to the peer's port.
    for src, dst, in_port, out in ((mac1, mac2, 1, 2), (mac2, mac1, 2, 1)):
        learned = [f for f in fl if "priority=1," in f and "dl_src=" + src in f
                   and "dl_dst=" + dst in f]
        assert len(learned) == 1, fl
        assert "in_port=%d," % in_port in learned[0], learned
        assert learned[0].endswith(" actions=output:%d" % out), learned
    r = run(["ip", "netns", "exec", net.ns2, "ping", "-c", "2", "-i", "0.2", "-W", "2",
             "10.8.0.1"], timeout=30)
    assert r.returncode == 0, r.stdout
    out = []
    for f in flows(env, ofctl):
        f = re.sub(r"\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^ ,]+, ?", "", f)
        out.append(f.replace(mac1, "MAC1").replace(mac2, "MAC2"))
    return sorted(out)


def test_simple_switch_13_pings(setup):
    exercise(*setup)


def test_flows_as_real_ovs(request, tmp_path):
    """The same controller session leaves the same flows, as the real
    ovs-ofctl prints them, on pyovs's switch as on Debian's."""
    needs_osken()
    real = exercise(*start(request, "real", tmp_path / "real", 16112, "R"))
    mine = exercise(*start(request, "pyovs", tmp_path / "pyovs", 16113, "P"))
    assert mine == real
