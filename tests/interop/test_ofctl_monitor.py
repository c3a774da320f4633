"""`ovs-ofctl monitor` and `snoop`: pyovs's tool and Debian's real one watch
the same real ovs-vswitchd at the same time, through the same events
(packet-ins from `packet-out` and `netdev-dummy/receive`, port-status from
a new port and `mod-port`, flow-removed from an idle timeout), and must
print the same text.  Also the packet summary under packet-in/packet-out
data against the real `ofp-print`.
"""

import os
import re
import socket
import subprocess
import struct
import sys
import threading

import pytest

from tests.conftest import real_bin, wait_for
from tests.interop.test_ofctl_switch import Switch
from pyovs.openflow import messages as M
from pyovs.openflow.async_msgs import PacketOut, PacketIn
from pyovs.openflow.match import Match

pytestmark = pytest.mark.interop

SYNC = ("ffffffffffff000000000099080045000014000000004001f96b"
        "0a0000010a000002")


class MonitorSwitch(Switch):
    """A switch of its own (the test adds ports), on its own TCP port."""

    def __init__(self):
        super().__init__()
        self.tcp_port += 50


@pytest.fixture(scope="module")
def msw():
    real_bin("ovs-vswitchd")
    sw = MonitorSwitch()
    try:
        sw.start()
    except BaseException:
        sw.stop()
        raise
    yield sw
    sw.stop()


def _pyovs_ofctl():
    return [sys.executable, "-c",
            "import sys; from pyovs.cli.ovs_ofctl import main; sys.exit(main())"]


class Watcher:
    """One monitor/snoop process writing its stderr to a file."""

    def __init__(self, sw, tool, args, tag):
        self.path = os.path.join(sw.dir, tag + ".err")
        self.file = open(self.path, "w")
        self.proc = subprocess.Popen([*tool, *args], env=sw.env,
                                     stdout=subprocess.DEVNULL, stderr=self.file)

    def text(self):
        with open(self.path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.file.close()


@pytest.fixture
def watchers():
    started = []
    yield started
    for w in started:
        w.stop()


def _ofctl(sw, *args):
    p = subprocess.run([real_bin("ovs-ofctl"), *args], env=sw.env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _normalise(text):
    text = re.sub(r"duration[0-9.]+s", "duration?s", text)
    text = re.sub(r"\n[^\n]*\|fatal_signal\|[^\n]*", "", text)
    return text


def _after_sync(text):
    """The text after the last echo of the sync packet."""
    marker = "dl_src=00:00:00:00:00:99"
    i = text.rfind(marker)
    assert i >= 0
    return text[text.index("\n", i) + 1:]


def test_monitor_against_real(msw, watchers):
    real_tool = [real_bin("ovs-ofctl")]
    pairs = []
    for vers in ([], ["-O", "OpenFlow13"], ["-P", "standard"],
                 ["-O", "OpenFlow13", "-P", "standard"]):
        args = [*vers, "monitor", "br0", "65534"]
        tag = "-".join(vers) or "of10"
        pair = (Watcher(msw, real_tool, args, "real-" + tag),
                Watcher(msw, _pyovs_ofctl(), args, "ours-" + tag))
        watchers.extend(pair)
        pairs.append(pair)

    def synced():
        _ofctl(msw, "packet-out", "br0",
               f"in_port=controller packet={SYNC} actions=controller")
        try:
            wait_for(lambda: all("00:00:00:00:00:99" in w.text()
                                 for w in watchers), timeout=1, what="sync")
        except Exception:
            return False
        return True

    wait_for(synced, timeout=30, what="monitors ready")
    assert all(w.proc.poll() is None for w in watchers)

    _ofctl(msw, "add-flow", "br0", "in_port=1,actions=controller")
    _ofctl(msw, "packet-out", "br0",
           "in_port=controller packet=ffffffffffff00000000000108004500"
           "0014000000004001f96b0a0000010a000002 actions=controller")
    subprocess.run([real_bin("ovs-appctl"), "-t", f"{msw.dir}/vswitchd.ctl",
                    "netdev-dummy/receive", "p1",
                    "in_port(1),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),"
                    "eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,"
                    "tos=0,ttl=64,frag=no),icmp(type=8,code=0)"],
                   env=msw.env, check=True, capture_output=True, timeout=30)
    subprocess.run([real_bin("ovs-vsctl"), f"--db={msw.db}", "add-port", "br0",
                    "p3", "--", "set", "interface", "p3", "type=dummy",
                    "ofport_request=3"], env=msw.env, check=True,
                   capture_output=True, timeout=30)
    _ofctl(msw, "mod-port", "br0", "p3", "down")
    _ofctl(msw, "add-flow", "br0",
           "priority=7,idle_timeout=1,send_flow_rem,tcp,actions=drop")
    wait_for(lambda: all("OFPT_FLOW_REMOVED" in w.text() for w in watchers),
             timeout=30, what="flow-removed")
    for w in watchers:
        w.stop()
    for real_w, ours_w in pairs:
        r = _normalise(_after_sync(real_w.text()))
        o = _normalise(_after_sync(ours_w.text()))
        assert "PACKET_IN" in r and "OFPT_PORT_STATUS" in r
        assert r == o


@pytest.mark.parametrize("args", [["-P", "bogus", "monitor", "br0"],
                                  ["monitor", "br0", "x"],
                                  ["monitor", "nosuchbr"]])
def test_monitor_errors(msw, args):
    results = []
    for tool in ([real_bin("ovs-ofctl")], _pyovs_ofctl()):
        p = subprocess.run([*tool, *args], env=msw.env, capture_output=True,
                           text=True, timeout=30)
        results.append((p.returncode, p.stdout, p.stderr))
    assert results[0][0] == 1
    assert results[0] == results[1]


class Controller:
    """A minimal active controller (OVS lends snoopers only connections the
    switch makes): says hello, answers echo requests, reads the rest."""

    def __init__(self, port):
        self.listener = socket.create_server(("127.0.0.1", port))
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.conns.append(conn)
        framer = M.Framer()
        try:
            conn.sendall(bytes.fromhex("0100000800000001"))    # OF1.0 hello
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for msg in framer.feed(data):
                    h = M.parse_header(msg)
                    if h.type == M.OFPT_ECHO_REQUEST:
                        conn.sendall(M.encode_simple(h.version,
                                                     M.OFPT_ECHO_REPLY, h.xid))
        except (OSError, ValueError):
            return

    def close(self):
        self.listener.close()
        for c in self.conns:
            c.close()
        self.thread.join(10)


def test_snoop_against_real(msw, watchers):
    port = msw.tcp_port + 25
    ctl = Controller(port)
    vsctl = [real_bin("ovs-vsctl"), f"--db={msw.db}", "--timeout=20"]
    subprocess.run([*vsctl, "set-controller", "br0",
                    f"ptcp:{msw.tcp_port}:127.0.0.1", f"tcp:127.0.0.1:{port}"],
                   env=msw.env, check=True, capture_output=True, timeout=30)
    try:
        log = os.path.join(msw.dir, "vswitchd.log")
        wait_for(lambda: f"tcp:127.0.0.1:{port}: connected" in open(log).read(),
                 timeout=30, what="controller connected")
        pair = [Watcher(msw, [real_bin("ovs-ofctl")], ["snoop", "br0"],
                        "snoop-real"),
                Watcher(msw, _pyovs_ofctl(), ["snoop", "br0"], "snoop-ours")]
        watchers.extend(pair)

        def synced():
            assert all(w.proc.poll() is None for w in pair)
            _ofctl(msw, "packet-out", "br0",
                   f"in_port=controller packet={SYNC} actions=controller")
            try:
                wait_for(lambda: all("00:00:00:00:00:99" in w.text()
                                     for w in pair), timeout=1, what="sync")
            except AssertionError:
                return False
            return True

        wait_for(synced, timeout=30, what="snoopers attached")
        _ofctl(msw, "packet-out", "br0",
               "in_port=controller packet=ffffffffffff00000000000108004500"
               "0014000000004001f96b0a0000010a000002 actions=controller")
        wait_for(lambda: all("00:00:00:00:00:01" in w.text() for w in pair),
                 timeout=30, what="snooped packet-in")
        for w in pair:
            w.stop()
        r, o = (_normalise(_after_sync(w.text())) for w in pair)
        assert "OFPT_PACKET_IN" in r
        assert r == o
    finally:
        subprocess.run([*vsctl, "set-controller", "br0",
                        f"ptcp:{msw.tcp_port}:127.0.0.1"], env=msw.env,
                       capture_output=True, timeout=30)
        ctl.close()


def test_snoop_no_bridge(msw):
    for tool in ([real_bin("ovs-ofctl")], _pyovs_ofctl()):
        p = subprocess.run([*tool, "snoop", "nosuchbr"], env=msw.env,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1
        assert "nosuchbr" in p.stderr


def _eth(ethertype, payload, vlan=None):
    head = bytes.fromhex("50540000000a505400000009")
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", ethertype) + payload


def _ipv4(proto, l4, frag=0):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(l4), 0, frag, 64,
                       proto, 0x1234, bytes([10, 0, 0, 2]),
                       bytes([10, 0, 0, 1])) + l4


def _ipv6(nxt, l4):
    return (struct.pack("!IHBB", 0x60000005, len(l4), nxt, 255)
            + bytes.fromhex("fe800000000000000000000000000001")
            + bytes.fromhex("ff020000000000000000000000000001") + l4)


PACKETS = {
    "sync": bytes.fromhex(SYNC),
    "short": bytes.fromhex("abcdef"),
    "tcp": _eth(0x0800, _ipv4(6, struct.pack("!HHIIBBHHH", 1234, 80, 1, 0,
                                              0x50, 0x12, 8192, 0xab, 0))),
    "tcp-cut": _eth(0x0800, _ipv4(6, struct.pack("!HH", 1234, 80))),
    "udp": _eth(0x0800, _ipv4(17, struct.pack("!HHHH", 53, 53, 8, 0x0ab1))),
    "ip-later-frag": _eth(0x0800, _ipv4(17, b"12345678", frag=0x0010)),
    "arp": _eth(0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
                + bytes.fromhex("505400000009") + bytes([10, 0, 0, 2])
                + bytes(6) + bytes([10, 0, 0, 1])),
    "vlan-icmp": _eth(0x0800, _ipv4(1, b"\x08\x00\x12\x34\0\0\0\0"),
                      vlan=0x2064),
    "icmp6": _eth(0x86dd, _ipv6(58, b"\x80\x00\xab\xcd\0\0\0\0")),
    "nd-solicit": _eth(0x86dd, _ipv6(58, b"\x87\x00\xab\xcd\0\0\0\0"
                                     + bytes.fromhex("fe800000000000000000000000000002")
                                     + b"\x01\x01" + bytes.fromhex("505400000009"))),
    "mpls": _eth(0x8847, bytes.fromhex("000141ff4500")),
}


@pytest.mark.parametrize("packet", list(PACKETS))
def test_packet_summary_against_ofp_print(packet):
    data = PACKETS[packet]
    msgs = [PacketOut([], in_port=1, data=data).encode(v, 5) for v in (1, 4)]
    msgs.append(PacketIn(data, in_port=2, reason=0, table_id=1, cookie=3,
                         match=Match()).encode(4, 7))
    msgs.append(PacketIn(data, in_port=2, reason=1).encode(1, 7))
    from tests.interop.test_ofctl_parse import run_pyovs, run_real
    for msg in msgs:
        r = run_real(["ofp-print", msg.hex()])
        assert r[0] == 0 and "\n" in r[1].rstrip("\n")
        assert run_pyovs(["ofp-print", msg.hex()]) == r
