"""Byte compatibility: what pyovs's ovs-ofctl puts on the wire equals what
Debian's real ovs-ofctl sends for the same command, message for message.

A small fake switch on a Unix socket answers what the tools ask (hello,
features, stats, barrier) and records every message each tool sends on each
connection; the two recordings must be identical.  The fake switch is a
stand-in only for recording: the behaviour against a real switch is tested
in test_ofctl_switch.py.
"""

import os
import socket
import struct
import subprocess
import tempfile
import threading

import pytest

from tests.conftest import real_bin
from tests.interop.test_ofctl_parse import CORPUS, run_pyovs

from pyovs.openflow import messages as M

pytestmark = pytest.mark.interop


class FakeSwitch:
    """Records messages; replies to hello/echo/features/stats/barrier."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.conversations = []
        self.active = 0
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.conversations = []

    def recorded(self):
        """The conversations so far, once every session has ended (the tool
        has exited, so its connections are closing)."""
        import time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if self.active == 0:
                    return [list(c) for c in self.conversations]
            time.sleep(0.01)
        with self.lock:
            return [list(c) for c in self.conversations]

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                log = []
                self.conversations.append(log)
                self.active += 1
            threading.Thread(target=self._session, args=(conn, log),
                             daemon=True).start()

    def _session(self, conn, log):
        conn.settimeout(10)
        framer = M.Framer()
        version = None
        conn.sendall(M.encode_hello([1, 2, 3, 4, 5, 6], 0x1000))
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for msg in framer.feed(data):
                    with self.lock:
                        log.append(msg)
                    h = M.parse_header(msg)
                    if h.type == M.OFPT_HELLO:
                        version = M.negotiate([1, 2, 3, 4, 5, 6], msg)
                        continue
                    reply = self._reply(h, msg, version)
                    if reply:
                        conn.sendall(reply)
        except OSError:
            return
        finally:
            conn.close()
            with self.lock:
                self.active -= 1

    @staticmethod
    def _reply(h, msg, version):
        v = h.version
        if h.type == M.OFPT_ECHO_REQUEST:
            return M.encode_simple(v, M.OFPT_ECHO_REPLY, h.xid, msg[8:])
        if h.type == M.OFPT_FEATURES_REQUEST:
            if v == 1:
                body = struct.pack("!QIB3xII", 0x1234, 0, 254, 0xc7, 0xfff)
            else:
                body = struct.pack("!QIBBxxII", 0x1234, 0, 254, 0, 0x4f, 0)
            return M.encode_simple(v, M.OFPT_FEATURES_REPLY, h.xid, body)
        if h.type == M.OFPT_GET_CONFIG_REQUEST:
            return M.encode_simple(v, M.OFPT_GET_CONFIG_REPLY, h.xid,
                                   struct.pack("!HH", 0, 0))
        if (v == 1 and h.type == 16) or (v > 1 and h.type == 18):
            stype = struct.unpack_from("!H", msg, 8)[0]
            if v == 1:
                body = struct.pack("!HH", stype, 0)
                if stype == 0xffff:
                    body += msg[12:20] + b"\0" * 4
                return M.encode_simple(v, 17, h.xid, body)
            body = struct.pack("!HH4x", stype, 0)
            if stype == 12:     # table features: one table, empty properties
                props = b"".join(struct.pack("!HH4x", t, 4)
                                 for t in (0, 2, 4, 6, 8, 10, 12, 14))
                body += struct.pack("!HB5x32sQQII", 64 + len(props), 0,
                                    b"table0", 0, 0, 0, 1000) + props
            return M.encode_simple(v, 19, h.xid, body)
        if v >= 5 and h.type == 33:      # bundle control: reply in kind
            body = bytearray(msg[8:h.length])
            body[4:6] = struct.pack("!H", struct.unpack_from("!H", msg, 12)[0] + 1)
            return M.encode_simple(v, 33, h.xid, bytes(body))
        if (v == 1 and h.type == 18) or (v > 1 and h.type == 20):
            return M.encode_simple(v, h.type + 1, h.xid)
        return None


@pytest.fixture(scope="module")
def fake_switch():
    os.makedirs("/tmp/pf", exist_ok=True)
    d = tempfile.mkdtemp(prefix="wire", dir="/tmp/pf")
    sw = FakeSwitch(os.path.join(d, "sw.sock"))
    yield sw
    sw.close()
    os.unlink(sw.path)
    os.rmdir(d)


def _conversation(switch, run):
    switch.reset()
    result = run()
    return result, switch.recorded()


def _compare(switch, args):
    target = "unix:" + switch.path
    real_args = [a if a != "SW" else target for a in args]
    real = subprocess.run([real_bin("ovs-ofctl"), *real_args], capture_output=True,
                          text=True, timeout=30)
    real_conv = switch.recorded()
    switch.reset()
    ours = run_pyovs(real_args)
    ours_conv = switch.recorded()
    switch.reset()
    return real, real_conv, ours, ours_conv


def _good_flows():
    return [f for f in CORPUS if run_pyovs(["parse-flow", f])[0] == 0]


@pytest.mark.parametrize("versions", [[], ["-O", "OpenFlow13"]], ids=["of10", "of13"])
def test_add_flow_bytes_equal(fake_switch, versions):
    flows = _good_flows()
    assert len(flows) > 50
    checked = 0
    for flow in flows:
        if versions and run_pyovs([*versions, "parse-flow", flow])[0] != 0:
            continue
        fake_switch.reset()
        real, real_conv, ours, ours_conv = _compare(
            fake_switch, [*versions, "add-flow", "SW", flow])
        assert real.returncode == ours[0] == 0, (flow, real.stderr, ours[2])
        assert real_conv == ours_conv, flow
        checked += 1
    assert checked > 40


@pytest.mark.parametrize("args", [
    ["dump-flows", "SW"],
    ["dump-flows", "SW", "in_port=1,tcp"],
    ["dump-flows", "SW", "table=3,reg0=5"],
    ["-O", "OpenFlow13", "dump-flows", "SW", "cookie=0x5/0xff"],
    ["dump-aggregate", "SW", "ip"],
    ["del-flows", "SW"],
    ["--strict", "del-flows", "SW", "priority=5,in_port=1"],
    ["mod-flows", "SW", "in_port=1,actions=output:2"],
    ["-O", "OpenFlow13", "--strict", "mod-flows", "SW", "priority=4,ip,actions=drop"],
    ["show", "SW"],
    ["-O", "OpenFlow13", "show", "SW"],
    ["dump-desc", "SW"],
    ["dump-ports", "SW"],
    ["-O", "OpenFlow13", "dump-ports-desc", "SW"],
    ["probe", "SW"],
    ["dump-tables", "SW"],
    ["-O", "OpenFlow13", "dump-tables", "SW"],
    ["ct-flush-zone", "SW", "5"],
    ["add-tlv-map", "SW", "{class=0xffff,type=0,len=4}->tun_metadata0,"
     "{class=0x102,type=0x80,len=8}->tun_metadata5"],
    ["-O", "OpenFlow13", "del-tlv-map", "SW", "{class=1,type=2,len=4}->tun_metadata3"],
    ["del-tlv-map", "SW"],
    ["packet-out", "SW", "LOCAL", "output:2", "ffffffffffff0000000000010800",
     "ffffffffffff0000000000020800"],
    ["packet-out", "SW", "LOCAL", "output:2"],
    ["packet-out", "SW", "LOCAL", "output:2", "zz"],
    ["--bundle", "add-flow", "SW", "priority=5,in_port=1,actions=drop"],
    ["-O", "OpenFlow14", "--bundle", "del-flows", "SW", "ip"],
    ["get-frags", "SW"],
    ["set-frags", "SW", "drop"],
    ["mod-port", "SW", "1", "down"],
    ["packet-out", "SW", "in_port=1,packet=ffffffffffff0000000000010800,actions=output:2"],
    ["-O", "OpenFlow13", "add-group", "SW",
     "group_id=2,type=select,bucket=weight:10,actions=output:1,"
     "bucket=weight:20,watch_port=2,actions=mod_dl_src:00:00:00:00:00:01,output:2"],
    ["-O", "OpenFlow13", "mod-group", "SW", "group_id=3,type=ff,bucket=watch_port:1,output:1"],
    ["-O", "OpenFlow13", "del-groups", "SW", "group_id=7"],
    ["-O", "OpenFlow13", "del-groups", "SW"],
    ["-O", "OpenFlow13", "dump-groups", "SW"],
    ["-O", "OpenFlow13", "dump-group-stats", "SW", "group_id=3"],
    ["-O", "OpenFlow13", "add-meter", "SW",
     "meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10"],
    ["-O", "OpenFlow13", "mod-meter", "SW", "meter=3,kbps,band=type=dscp_remark,"
     "rate=100,prec_level=1"],
    ["-O", "OpenFlow13", "del-meters", "SW"],
    ["-O", "OpenFlow13", "dump-meters", "SW", "meter=7"],
    ["-O", "OpenFlow13", "meter-stats", "SW"],
    ["-O", "OpenFlow13", "meter-features", "SW"],
    ["-O", "OpenFlow13", "packet-out", "SW",
     "in_port=LOCAL,packet=ffffffffffff0000000000010800,actions=NORMAL"],
], ids=lambda a: " ".join(a))
def test_command_bytes_equal(fake_switch, args):
    real, real_conv, ours, ours_conv = _compare(fake_switch, args)
    assert real_conv == ours_conv


def test_add_flows_file_bytes_equal(fake_switch, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(_good_flows()[:60]) + "\n")
    real, real_conv, ours, ours_conv = _compare(fake_switch,
                                                ["add-flows", "SW", str(path)])
    assert real.returncode == 0
    assert real_conv == ours_conv


def test_pyovs_decodes_what_real_ovs_ofctl_sends(fake_switch):
    """Every request the real ovs-ofctl sent in a varied session decodes in
    pyovs (the switch side), and re-encodes to the very same bytes."""
    from pyovs.openflow.requests import decode_request
    from pyovs.openflow.flow import parse_flow_mod
    # (Flows that match on fields their prerequisites rule out are normalised
    # when decoded, as OVS does, so they cannot come back byte for byte.)
    flows = [f for f in _good_flows() if not parse_flow_mod(f)[0].match.copy().normalize()]
    commands = [["add-flow", "SW", f] for f in flows[:60]]
    commands += [["-O", "OpenFlow13", "add-flow", "SW", f] for f in flows[:60]]
    commands += [["dump-flows", "SW", "tcp,tp_dst=80"], ["dump-aggregate", "SW"],
                 ["-O", "OpenFlow13", "dump-flows", "SW", "cookie=1/1,ip"],
                 ["del-flows", "SW", "table=3"],
                 ["-O", "OpenFlow13", "add-group", "SW",
                  "group_id=1,type=all,bucket=output:1"],
                 ["-O", "OpenFlow13", "add-meter", "SW", "meter=1,kbps,band=type=drop,rate=5"],
                 ["--bundle", "add-flow", "SW", "ip,actions=NORMAL"],
                 ["packet-out", "SW", "in_port=1,packet=ffffffffffff0000000000010800,"
                  "actions=output:2"], ["dump-ports", "SW"], ["show", "SW"]]
    kinds = set()
    for args in commands:
        fake_switch.reset()
        subprocess.run([real_bin("ovs-ofctl"), *[a if a != "SW" else "unix:" + fake_switch.path
                                                 for a in args]],
                       capture_output=True, timeout=30)
        for conversation in fake_switch.recorded():
            for msg in conversation:
                req = decode_request(msg)
                kinds.add(req.kind)
                assert req.encode() == msg, (args, req.kind)
    assert {"flow_mod", "flow_stats", "aggregate_stats", "set_flow_format",
            "group_mod", "meter_mod", "bundle_add", "packet_out",
            "barrier_request"} <= kinds


def test_timeout_as_real(tmp_path):
    """--timeout against a peer that never answers: both tools die of
    SIGALRM after logging it."""
    import re
    from tests.conftest import pyovs_bin
    path = os.path.join(tempfile.mkdtemp(prefix="silent", dir="/tmp/pf"), "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    try:
        results = []
        for tool in (real_bin("ovs-ofctl"), pyovs_bin("ovs-ofctl")):
            p = subprocess.run([tool, "--timeout=1", "show", "unix:" + path],
                               capture_output=True, text=True, timeout=30)
            results.append((p.returncode, p.stdout,
                            re.sub(r"^\S+\|", "", p.stderr, flags=re.M)))
        assert results[0] == results[1]
        assert results[0][0] == -14
    finally:
        listener.close()
        os.unlink(path)
        os.rmdir(os.path.dirname(path))
