"""pyovs's OpenFlow switch (the standalone ofproto harness) against Debian's
real ovs-vswitchd, both driven by Debian's real ovs-ofctl: the same command
sequences must print the same text, in OpenFlow 1.0 and 1.3.

Normalised: durations and ages, port MAC addresses and the datapath id
(each switch picks its own), and port packet/byte counters (the datapath's).  Both switches carry no traffic (the real one
runs on the dummy datapath), so counters are zero on both; pyovs has no
datapath yet and owns only the OpenFlow side, which is what is compared.
dump-flows output is compared as a sorted list of lines, since the order in
which a classifier walks its rules is not part of the contract.
"""

import os
import re
import struct
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from tests.conftest import real_bin, wait_for
from tests.interop.test_ofctl_switch import Switch
from pyovs.openflow import messages as M
from pyovs.openflow import async_msgs as A
from pyovs.openflow import groups as G
from pyovs.openflow import meters as MT
from pyovs.openflow import protocols as P
from pyovs.openflow.match import Match
from pyovs.openflow.flow import parse_flow_mod
from pyovs.openflow.vconn import Vconn

pytestmark = pytest.mark.interop

PORT_BASE = 16550


def _worker_port(offset=0):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit()) or "0"
    return PORT_BASE + (int(digits) * 4 + offset) % 50


class Harness:
    """python -m pyovs.ofproto.standalone br0 --port p1=1 --port p2=2"""

    def __init__(self, *extra):
        os.makedirs("/tmp/pf", exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="of", dir="/tmp/pf")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir)
        self.mgmt = "unix:" + os.path.join(self.dir, "br0.mgmt")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyovs.ofproto.standalone", "br0",
             "--port", "p1=1", "--port", "p2=2", *extra],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError("harness did not start")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def switch():
    """Real ovsdb-server + ovs-vswitchd (dummy datapath, br0 with p1=1 and
    p2=2), as test_ofctl_switch starts them, but with its ptcp: port from
    this module's own range so both modules can run in one worker."""
    real_bin("ovs-vswitchd")
    sw = Switch()
    sw.tcp_port = _worker_port(2)
    try:
        sw.start()
    except BaseException:
        sw.stop()
        raise
    yield sw
    sw.stop()


@pytest.fixture(scope="module")
def harness():
    real_bin("ovs-ofctl")
    h = Harness()
    yield h
    h.stop()


def ofctl(env, *args):
    p = subprocess.run([real_bin("ovs-ofctl"), *args], capture_output=True,
                       text=True, timeout=30, env=env)
    err = "".join(line + "\n" for line in p.stderr.splitlines()
                  if "|" not in line)
    return p.returncode, p.stdout, err


_VOLATILE = [(re.compile(r"duration[=:][0-9.]+s"), "duration=?s"),
             (re.compile(r"(idle|hard)_age=[0-9]+"), r"\1_age=?"),
             (re.compile(r"addr:[0-9a-f:]{17}"), "addr:?"),
             (re.compile(r"dpid:[0-9a-f]{16}"), "dpid:?"),
             # Port counters belong to the datapath (the real switch's move
             # when packet-outs are sent; pyovs has no datapath yet).
             (re.compile(r" pkts=[0-9]+, bytes=[0-9]+"), " pkts=?, bytes=?")]


def normalise(result, sort):
    rc, out, err = result
    for rx, repl in _VOLATILE:
        out = rx.sub(repl, out)
    lines = out.splitlines()
    if sort:
        lines = lines[:1] + sorted(lines[1:])
    return rc, lines, err


def run_both(sw, h, cmds, vers):
    """Run CMDS (lists of ovs-ofctl arguments, BR standing for the switch)
    on both switches from a clean state; the per-command results."""
    results = []
    for target, env in ((sw.mgmt, sw.env), (h.mgmt, h.env)):
        ofctl(env, *vers, "del-flows", target)
        if vers:
            ofctl(env, *vers, "del-groups", target)
            ofctl(env, *vers, "del-meters", target)
        mine = []
        for cmd in cmds:
            args = [target if a == "BR" else a for a in cmd]
            sort = any(c in cmd for c in ("dump-flows", "dump-groups",
                                          "dump-group-stats", "dump-meters",
                                          "meter-stats"))
            rc, out, err = ofctl(env, *vers, *args)
            mine.append(normalise((rc, out.replace(target, "BR"),
                                   err.replace(target, "BR")), sort))
        results.append(mine)
    return results


VERSIONS = pytest.mark.parametrize("vers", [[], ["-O", "OpenFlow13"]],
                                   ids=["of10", "of13"])

FLOWS = ["priority=5,ip,nw_src=10.0.0.0/8,actions=output:2",
         "in_port=1,actions=output:2",
         "table=1,priority=7,dl_vlan=5,actions=drop",
         "cookie=0x10,tcp,tp_dst=80,actions=output:1",
         "cookie=0x20,priority=100,udp,actions=output:1,output:2",
         "priority=9,in_port=2,dl_src=00:11:22:33:44:55,actions=output:1"]

SEQUENCES = {
    "add-dump": [["add-flow", "BR", f] for f in FLOWS] + [
        ["dump-flows", "BR"], ["dump-aggregate", "BR"], ["dump-tables", "BR"],
        ["dump-flows", "BR", "ip"], ["dump-flows", "BR", "table=1"],
        ["dump-flows", "BR", "cookie=0x10/0xff"],
        ["dump-aggregate", "BR", "udp"],
        ["dump-flows", "BR", "out_port=2"],
        ["--strict", "dump-flows", "BR", "in_port=1"]],
    "replace-overlap": [
        ["add-flow", "BR", "priority=3,in_port=1,actions=output:2"],
        ["add-flow", "BR", "priority=3,in_port=1,actions=drop"],
        ["add-flow", "BR", "priority=3,actions=output:1"],
        ["add-flow", "BR", "check_overlap,priority=3,in_port=1,ip,actions=output:1"],
        ["add-flow", "BR", "check_overlap,priority=4,in_port=1,ip,actions=output:1"],
        ["dump-flows", "BR"]],
    "mod": [["add-flow", "BR", f] for f in FLOWS] + [
        ["mod-flows", "BR", "ip,actions=output:1"],
        ["dump-flows", "BR"],
        ["mod-flows", "BR", "cookie=0x20/-1,actions=drop"],
        ["--strict", "mod-flows", "BR", "priority=5,ip,nw_src=10.0.0.0/8,actions=output:3"],
        ["--strict", "mod-flows", "BR", "priority=6,ip,nw_src=10.0.0.0/8,actions=output:4"],
        ["mod-flows", "BR", "table=1,actions=output:2"],
        ["mod-flows", "BR", "cookie=0x99/-1,actions=output:2"],
        ["dump-flows", "BR"]],
    "del": [["add-flow", "BR", f] for f in FLOWS] + [
        ["del-flows", "BR", "out_port=1"],
        ["dump-flows", "BR"],
        ["--strict", "del-flows", "BR", "in_port=1"],
        ["--strict", "del-flows", "BR", "priority=5,ip"],
        ["dump-flows", "BR"],
        ["del-flows", "BR", "table=1"],
        ["del-flows", "BR", "cookie=0x10/-1"],
        ["dump-flows", "BR"], ["dump-aggregate", "BR"],
        ["del-flows", "BR"], ["dump-flows", "BR"]],
    "exact-match": [
        ["add-flow", "BR", "in_port=1,dl_src=00:00:00:00:00:01,"
         "dl_dst=00:00:00:00:00:02,dl_vlan=5,dl_vlan_pcp=1,tcp,"
         "nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_tos=0,tp_src=1,tp_dst=2,"
         "actions=drop"],
        ["add-flow", "BR", "priority=7,in_port=1,dl_src=00:00:00:00:00:01,"
         "dl_dst=00:00:00:00:00:02,dl_vlan=5,dl_vlan_pcp=1,udp,"
         "nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_tos=0,tp_src=1,tp_dst=2,"
         "actions=drop"],
        ["dump-flows", "BR"],
        ["--strict", "del-flows", "BR", "priority=7,in_port=1,"
         "dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_vlan=5,"
         "dl_vlan_pcp=1,udp,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_tos=0,tp_src=1,"
         "tp_dst=2"],
        ["dump-flows", "BR"]],
    "cookies-flags": [
        ["add-flow", "BR", "cookie=0x1,in_port=1,actions=drop"],
        ["add-flow", "BR", "cookie=0x2,in_port=2,actions=drop"],
        ["add-flow", "BR", "reset_counts,no_packet_counts,no_byte_counts,"
                           "priority=3,ip,actions=drop"],
        ["mod-flows", "BR", "cookie=0x7,in_port=1,actions=output:2"],
        ["mod-flows", "BR", "cookie=0x2/0xf,actions=output:1"],
        ["dump-flows", "BR"], ["dump-flows", "BR", "cookie=0x7/-1"],
        ["dump-aggregate", "BR", "cookie=0x0/0x1"],
        ["del-flows", "BR", "cookie=0x2/0x2"], ["dump-flows", "BR"]],
    "timeouts-shown": [
        ["add-flow", "BR", "idle_timeout=50,hard_timeout=100,send_flow_rem,"
                           "in_port=1,actions=drop"],
        ["dump-flows", "BR"]],
    "errors": [
        ["add-flow", "BR", "table=254,actions=drop"],
        ["mod-port", "BR", "p1", "down"], ["dump-ports-desc", "BR"],
        ["mod-port", "BR", "p1", "up"], ["show", "BR"],
        ["dump-ports-desc", "BR"]],
    "info": [["dump-desc", "BR"], ["dump-ports", "BR"], ["dump-ports", "BR", "1"],
             ["dump-ports", "BR", "p9"], ["probe", "BR"], ["get-frags", "BR"],
             ["set-frags", "BR", "drop"], ["get-frags", "BR"],
             ["set-frags", "BR", "normal"], ["set-frags", "BR", "bogus"],
             ["queue-stats", "BR"], ["queue-stats", "BR", "p2", "0"],
             ["queue-stats", "BR", "p9"], ["mod-port", "BR", "p9", "up"],
             ["packet-out", "BR", "in_port=LOCAL,actions=output:2",
              "ffffffffffff00000000000108060001080006040001000000000001c0a80001"
              "000000000000c0a80002"],
             ["dump-table-desc", "BR"],
             ["mod-table", "BR", "0", "evict"]],
    "nxm-fields": [
        ["add-flow", "BR", "reg0=5,actions=output:1"],
        ["add-flow", "BR", "priority=2,tun_id=0x7,ipv6,ipv6_src=2001:db8::/32,"
                           "actions=mod_dl_dst:00:00:00:00:00:01,output:2"],
        ["add-flow", "BR", "priority=3,tcp,tcp_flags=+syn-ack,actions=drop"],
        ["add-flow", "BR", "priority=4,ct_state=+trk,actions=resubmit(,1)"],
        ["add-flow", "BR", "table=1,priority=4,arp,arp_tpa=10.0.0.1,"
                           "actions=load:0x1->NXM_NX_REG1[],output:1"],
        ["dump-flows", "BR"], ["dump-flows", "BR", "reg0=5"],
        ["--strict", "del-flows", "BR", "priority=3,tcp,tcp_flags=+syn-ack"],
        ["del-flows", "BR", "ipv6"], ["dump-flows", "BR"],
        ["dump-aggregate", "BR", "table=1"]],
}


@VERSIONS
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequences_as_real(switch, harness, vers, name):
    real, mine = run_both(switch, harness, SEQUENCES[name], vers)
    for cmd, r, o in zip(SEQUENCES[name], real, mine):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert harness.alive()


GROUP_METER_SEQ = [
    ["add-group", "BR", "group_id=1,type=all,bucket=output:1,bucket=output:2"],
    ["add-group", "BR", "group_id=2,type=indirect,bucket=output:1"],
    ["add-group", "BR", "group_id=1,type=all,bucket=output:1"],
    ["dump-groups", "BR"], ["dump-group-stats", "BR"],
    ["mod-group", "BR", "group_id=2,type=indirect,bucket=output:2"],
    ["mod-group", "BR", "group_id=9,type=indirect,bucket=output:2"],
    ["add-flow", "BR", "actions=group:1"],
    ["add-flow", "BR", "ip,actions=group:5"],
    ["dump-flows", "BR"], ["dump-group-stats", "BR", "1"],
    ["del-groups", "BR", "group_id=1"], ["dump-flows", "BR"],
    ["dump-groups", "BR"],
    ["add-meter", "BR", "meter=1,kbps,band=type=drop,rate=100"],
    ["add-meter", "BR", "meter=1,kbps,band=type=drop,rate=100"],
    ["add-meter", "BR", "meter=2,pktps,burst,stats,band=type=drop,rate=10,burst_size=5"],
    ["dump-meters", "BR"], ["meter-stats", "BR"],
    ["mod-meter", "BR", "meter=2,kbps,band=type=drop,rate=20"],
    ["dump-meters", "BR", "meter=2"],
    ["del-meter", "BR", "meter=1"], ["dump-meters", "BR"],
]


def test_groups_and_meters_as_real(switch, harness):
    vers = ["-O", "OpenFlow13"]
    real, mine = run_both(switch, harness, GROUP_METER_SEQ, vers)
    for cmd, r, o in zip(GROUP_METER_SEQ, real, mine):
        if cmd[0] in ("dump-meters", "meter-stats") and r[0] != 0:
            continue
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"


# --- asynchronous messages --------------------------------------------------

def _listener(target, env, version=M.OFP13):
    """An `ovs-ofctl monitor`-like connection: asks for async messages by
    setting a miss_send_len, as monitor does."""
    old = os.environ.get("OVS_RUNDIR")
    os.environ["OVS_RUNDIR"] = env["OVS_RUNDIR"]
    try:
        v = Vconn.open(target, [version], timeout=10)
    finally:
        if old is None:
            del os.environ["OVS_RUNDIR"]
        else:
            os.environ["OVS_RUNDIR"] = old
    v.sock.settimeout(10)
    v.send(A.SetConfig(0, 128).encode(version, v.next_xid()))
    assert v.transact_noreply([]) is None
    return v


def _wait_flow_removed(v):
    while True:
        msg = v.recv()
        if M.parse_header(msg).type == A.OFPT_FLOW_REMOVED:
            return A.decode_flow_removed(msg)


@pytest.mark.parametrize("timeout,reason", [("hard_timeout=1", 1),
                                            ("idle_timeout=1", 0)])
def test_timeouts_expire_with_flow_removed(switch, harness, timeout, reason):
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        ofctl(env, "del-flows", target)
        v = _listener(target, env)
        try:
            rc, _, err = ofctl(env, "-O", "OpenFlow13", "add-flow", target,
                               f"{timeout},send_flow_rem,cookie=0x7,priority=9,"
                               "in_port=2,actions=output:1")
            assert rc == 0, err
            fr = _wait_flow_removed(v)
        finally:
            v.close()
        got.append((fr.reason, fr.cookie, fr.priority, fr.table_id,
                    fr.idle_timeout, fr.hard_timeout,
                    fr.format().split(" duration")[0]))
        assert ofctl(env, "dump-flows", target, "in_port=2")[1].count("\n") == 1
    assert got[0] == got[1]
    assert got[1][0] == reason


def test_delete_sends_flow_removed(switch, harness):
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        ofctl(env, "del-flows", target)
        ofctl(env, "-O", "OpenFlow13", "add-flow", target,
              "send_flow_rem,cookie=0x3,tcp,actions=drop")
        ofctl(env, "-O", "OpenFlow13", "add-flow", target, "udp,actions=drop")
        v = _listener(target, env)
        try:
            assert ofctl(env, "del-flows", target)[0] == 0
            fr = _wait_flow_removed(v)
        finally:
            v.close()
        got.append(fr.format().split(" duration")[0])
    assert got[0] == got[1]
    assert "reason=delete" in got[1]


# --- a controller ------------------------------------------------------------

def test_controller_gets_features_and_port_status(tmp_path):
    port = _worker_port(1)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(20)
    h = Harness("--controller", f"tcp:127.0.0.1:{port}")
    try:
        conn, _ = srv.accept()
        conn.settimeout(10)
        framer = M.Framer()
        pending = []

        def recv():
            while not pending:
                data = conn.recv(65536)
                assert data, "switch closed the connection"
                pending.extend(framer.feed(data))
            return pending.pop(0)

        conn.sendall(M.encode_hello([M.OFP13], 1))
        hello = recv()
        assert M.negotiate([M.OFP13], hello) == M.OFP13
        conn.sendall(M.encode_simple(M.OFP13, "OFPT_FEATURES_REQUEST", 2))
        while True:
            msg = recv()
            if M.parse_header(msg).xid == 2:
                break
        f = M.decode_features_reply(msg)
        assert f.n_tables == 254
        # A controller is a master by default and gets port-status.
        assert ofctl(h.env, "mod-port", h.mgmt, "p2", "no-flood")[0] == 0
        assert ofctl(h.env, "mod-port", h.mgmt, "p1", "down")[0] == 0
        while True:
            msg = recv()
            if M.parse_header(msg).type == A.OFPT_PORT_STATUS:
                ps = A.decode_port_status(msg)
                if ps.port.name == "p1":
                    break
        assert ps.reason == 2 and ps.port.config & 1
        # Becoming a slave: flow_mods are refused with OFPBRC_IS_SLAVE.
        conn.sendall(A.RoleMessage(3, 5).encode(M.OFP13, 3))
        while True:
            msg = recv()
            if M.parse_header(msg).xid == 3:
                break
        assert A.decode_role(msg).role == 3
        conn.sendall(_flow_mod(4))
        while True:
            msg = recv()
            if M.parse_header(msg).xid == 4:
                break
        assert M.decode_error(msg)[0] == "OFPBRC_IS_SLAVE"
        conn.close()
    finally:
        h.stop()
        srv.close()


# --- bad input ---------------------------------------------------------------

ARP = ("ffffffffffff00000000000108060001080006040001000000000001c0a80001"
       "000000000000c0a80002")


def _flow_mod(xid):
    """An OpenFlow 1.3 flow_mod: in_port=1,actions=output:2."""
    fm, _ = parse_flow_mod("in_port=1,actions=output:2", 0)
    return M.encode_flow_mod(fm, P.OF13_OXM, xid)


def _group_mod(text, command=0, type_=None):
    gm = G.parse_group(text, command)
    if type_ is not None:
        gm.group.type = type_
    return gm.encode(M.OFP13, 9)


def _meter_mod(text, command=0):
    return MT.parse_meter(text, command).encode(M.OFP13, 9)


def _packet_out():
    """An OpenFlow 1.3 packet-out whose actions length runs past its end."""
    po = A.PacketOut(parse_flow_mod("actions=output:2", 0)[0].actions,
                     1, A.NO_BUFFER, bytes.fromhex(ARP))
    data = bytearray(po.encode(M.OFP13, 9))
    data[16:18] = struct.pack("!H", 0x400)
    return bytes(data)


BAD_MESSAGES = {
    "short flow_mod": bytes.fromhex("040e00100000000a0000000000000000"),
    "unknown type": bytes.fromhex("04fe00080000000a"),
    "bad stats type": bytes.fromhex("041200100000000a00ee000000000000"),
    "wrong version": bytes.fromhex("0105000800000009"),
    "echo of another version": bytes.fromhex("010200080000000a"),
    # OXM match whose length runs past the message.
    "bad match length": _flow_mod(9)[:50] + b"\x00\xff" + _flow_mod(9)[52:],
    "unknown action": _flow_mod(9)[:-16] + bytes.fromhex(
        "00190010" "0000000000000000" "00000000")[:16],
    "flow stats for table 200": M.encode_flow_stats_request(
        P.OF13_OXM, Match(), table_id=200, xid=9),
    "group of unknown type": _group_mod("group_id=5,type=all,bucket=output:1",
                                        type_=9),
    "group delete unknown": _group_mod("group_id=77", command=2),
    "meter modify unknown": _meter_mod("meter=77,kbps,band=type=drop,rate=5",
                                       command=1),
    "packet-out actions past end": _packet_out(),
    "port-mod bad address": A.PortMod(1, 0x1, 1, 1).encode(M.OFP13, 9),
    "port-mod unknown port": A.PortMod(99, 0x1, 1, 1).encode(M.OFP13, 9),
    "table-mod bad table": A.TableMod(254, 0).encode(M.OFP13, 9),
}


def _exchange(target, env, raw):
    v = _listener(target, env)
    try:
        v.send(raw)
        xid = M.parse_header(raw).xid
        bxid = 0xfffffff0               # never one of the bad messages' xids
        v.send(M.encode_simple(M.OFP13, "OFPT_BARRIER_REQUEST", bxid))
        replies = []
        while True:
            msg = v.recv()
            h = M.parse_header(msg)
            if h.xid == bxid:
                return replies
            if h.xid == xid:
                replies.append(msg)
    finally:
        v.close()


def _describe(reply, n):
    if M.parse_header(reply).type == M.OFPT_ERROR:
        name, data = M.decode_error(reply)
        return name, data[:n]
    return reply.hex()


@pytest.mark.parametrize("name", sorted(BAD_MESSAGES))
def test_bad_messages_get_errors_as_real(switch, harness, name):
    raw = BAD_MESSAGES[name]
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        replies = _exchange(target, env, raw)
        got.append([_describe(r, len(raw)) for r in replies])
    assert got[0] == got[1]
    assert harness.alive()
    assert ofctl(harness.env, "show", harness.mgmt)[0] == 0


# --- Debian's ovs-ofctl monitor as the listener -----------------------------

def _monitor_run(target, env, vers):
    """Run `ovs-ofctl monitor TARGET 65535` while a port goes down and up,
    packet-outs go to the controller and a flow times out; its output once
    the flow-removed was sent.  (monitor asks for NXT_PACKET_IN2.)"""
    ofctl(env, *vers, "del-flows", target)
    # A pipe, not a file: monitor's output reaches a pipe when it is
    # terminated, but not a file.
    mon = subprocess.Popen([real_bin("ovs-ofctl"), *vers, "monitor", target,
                            "65535"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.5)         # monitor connects and asks for async messages
        assert ofctl(env, *vers, "mod-port", target, "p1", "down")[0] == 0
        assert ofctl(env, *vers, "mod-port", target, "p1", "up")[0] == 0
        for acts in ("controller", "controller(max_len=20)", "output:2"):
            assert ofctl(env, *vers, "packet-out", target,
                         f"in_port=1,packet={ARP},actions={acts}")[0] == 0
        assert ofctl(env, *vers, "add-flow", target,
                     "hard_timeout=1,send_flow_rem,priority=3,tcp,"
                     "actions=drop")[0] == 0
        wait_for(lambda: "tcp" not in ofctl(env, *vers, "dump-flows",
                                            target)[1],
                 timeout=15, what="the flow to expire")
        time.sleep(0.3)
    finally:
        mon.terminate()
        text = mon.communicate(timeout=10)[0]
    for rx, repl in _VOLATILE + [(re.compile(r"duration[0-9.]+s"), "duration?s")]:
        text = rx.sub(repl, text)
    return [line for line in text.splitlines() if "|" not in line]


@VERSIONS
def test_monitor_sees_port_status_and_flow_removed(switch, harness, vers):
    real = _monitor_run(switch.mgmt, switch.env, vers)
    mine = _monitor_run(harness.mgmt, harness.env, vers)
    assert real == mine
    assert any("reason=hard" in line for line in mine), mine
    assert sum("PACKET_IN" in line for line in mine) == 2, mine


@VERSIONS
def test_many_flows_dump_in_parts_as_real(switch, harness, vers, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("".join(
        f"priority={i % 50},ip,nw_src=10.{i >> 8}.{i & 255}.0/24,tcp,"
        f"tp_dst={i},actions=output:2\n" for i in range(1500)))
    cmds = [["add-flows", "BR", str(path)], ["dump-flows", "BR"],
            ["dump-aggregate", "BR"], ["del-flows", "BR", "tcp,tp_dst=7"],
            ["dump-aggregate", "BR"]]
    real, mine = run_both(switch, harness, cmds, vers)
    assert real[1][1][0] == mine[1][1][0]
    # Entries compared as sets (classifier order is not part of the
    # contract); both switches split the reply into the same number of
    # messages.
    assert sorted(real[1][1]) == sorted(mine[1][1])
    assert real[2:] == mine[2:] and real[0] == mine[0]
    ofctl(switch.env, "del-flows", switch.mgmt)


def _no_custom_stats(result):
    """Drop the dummy netdev's "CUSTOM Statistics" block (1.4+ dump-ports):
    device counters, not ofproto's."""
    rc, lines, err = result
    keep = [ln for ln in lines if "CUSTOM Statistics" not in ln
            and not re.match(r"\s+(rx|tx)_\w+=", ln)]
    return rc, keep, err


@pytest.mark.parametrize("version", ["OpenFlow12", "OpenFlow14", "OpenFlow15"])
@pytest.mark.parametrize("name", ["add-dump", "mod", "del", "errors", "info"])
def test_sequences_other_versions(switch, harness, version, name):
    vers = ["-O", version]
    real, mine = run_both(switch, harness, SEQUENCES[name], vers)
    real = [_no_custom_stats(r) for r in real]
    for cmd, r, o in zip(SEQUENCES[name], real, mine):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"


@pytest.mark.parametrize("flows", [
    ["priority=5,in_port=1,actions=drop", "ip,actions=NORMAL"],
    ["ip,actions=NORMAL", "actions=group:98", "actions=group:99"],   # refused
    ["table=1,actions=drop", "table=254,actions=drop"],               # refused
], ids=["ok", "bad-group", "bad-table"])
def test_bundles_as_real(switch, harness, flows, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    cmds = [["add-flow", "BR", "priority=1,actions=drop"],
            ["--bundle", "add-flows", "BR", str(path)],
            ["--no-stats", "--sort", "dump-flows", "BR"]]
    real, mine = run_both(switch, harness, cmds, ["-O", "OpenFlow14"])
    assert real == mine


def test_nxm_connection_gets_nxt_flow_removed(switch, harness):
    """An OpenFlow 1.0 connection that chose the NXM flow format gets
    NXT_FLOW_REMOVED, byte for byte as the real switch sends it (the
    duration zeroed)."""
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        ofctl(env, "del-flows", target)
        assert ofctl(env, "add-flow", target, "send_flow_rem,cookie=0x5,"
                     "priority=11,reg3=7,tcp,tp_dst=22,actions=drop")[0] == 0
        v = _listener(target, env, M.OFP10)
        try:
            v.send(M.encode_set_flow_format(True, v.next_xid()))
            assert v.transact_noreply([]) is None
            assert ofctl(env, "del-flows", target)[0] == 0
            while True:
                msg = v.recv()
                if msg[1] == M.OFPT_VENDOR and msg[8:16] == bytes.fromhex(
                        "000023200000000e"):        # NXT_FLOW_REMOVED
                    break
        finally:
            v.close()
        got.append(msg[:28] + bytes(8) + msg[36:])
    assert got[0] == got[1]


def test_async_config_as_real(switch, harness):
    """OpenFlow 1.3 get-async (the defaults), then set-async and get-async
    on the same connection, compared with the real switch's replies."""
    get = M.encode_simple(M.OFP13, 26, 0x51)
    setm = M._msg(M.OFP13, 28, 0x52, struct.pack("!6I", 1, 0, 7, 1, 1, 3))
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        v = _listener(target, env)
        try:
            first = v.transact(get)
            v.send(setm)
            assert v.transact_noreply([]) is None
            got.append((first, v.transact(M.encode_simple(M.OFP13, 26, 0x53))))
        finally:
            v.close()
    assert got[0] == got[1]
    assert struct.unpack_from("!6I", got[1][1], 8) == (1, 0, 7, 1, 1, 3)


def test_roles_as_real(switch, harness):
    """Role requests on one OpenFlow 1.3 connection: replies, a stale
    generation id, a slave's refused flow_mod, back to equal."""
    fm, _ = parse_flow_mod("priority=1,actions=drop", 0)
    steps = [A.RoleMessage(2, 100), A.RoleMessage(3, 99), A.RoleMessage(0, 0),
             A.RoleMessage(3, 101), "flow_mod", A.RoleMessage(1, 0),
             "flow_mod", A.RoleMessage(4, 0)]
    got = []
    for target, env in ((switch.mgmt, switch.env), (harness.mgmt, harness.env)):
        v = _listener(target, env)
        replies = []
        try:
            for i, step in enumerate(steps):
                xid = 0x100 + i
                msg = (M.encode_flow_mod(fm, P.OF13_OXM, xid) if step == "flow_mod"
                       else step.encode(M.OFP13, xid))
                v.send(msg)
                bx = 0xfffffff0
                v.send(M.encode_simple(M.OFP13, "OFPT_BARRIER_REQUEST", bx))
                while True:
                    r = v.recv()
                    if M.parse_header(r).xid == bx:
                        break
                    if M.parse_header(r).xid == xid:
                        replies.append(_describe(r, 16))
        finally:
            v.close()
        got.append(replies)
    assert got[0] == got[1]
    assert ("OFPRRFC_STALE", steps[1].encode(M.OFP13, 0x101)[:16]) in got[1]
    assert ("OFPBRC_IS_SLAVE", M.encode_flow_mod(fm, P.OF13_OXM, 0x104)[:16]) \
        in got[1]


@VERSIONS
def test_replace_and_diff_flows_as_real(switch, harness, vers, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("priority=5,in_port=1,actions=drop\n"
                    "cookie=0x9,ip,actions=output:2\n"
                    "table=2,tcp,tp_dst=80,actions=output:1\n")
    cmds = [["add-flow", "BR", "priority=5,in_port=1,actions=output:2"],
            ["add-flow", "BR", "udp,actions=drop"],
            ["diff-flows", "BR", str(path)],
            ["replace-flows", "BR", str(path)],
            ["dump-flows", "BR"], ["diff-flows", "BR", str(path)]]
    real, mine = run_both(switch, harness, cmds, vers)
    for cmd, r, o in zip(cmds, real, mine):
        if cmd[0] == "diff-flows":      # its lines follow dump order
            r, o = (r[0], sorted(r[1]), r[2]), (o[0], sorted(o[1]), o[2])
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"


@pytest.mark.parametrize("version", ["OpenFlow13", "OpenFlow14", "OpenFlow15"])
def test_table_features_as_real(switch, harness, version):
    # The whole multi-part reply, every table's property lists, as the real
    # tool prints them (it compresses equal tables to "ditto").
    real, mine = run_both(switch, harness, [["dump-table-features", "BR"]],
                          ["-O", version])
    assert real[0][0] == 0 and "max_entries=1000000" in "\n".join(real[0][1])
    assert real == mine
    assert harness.alive()
