"""OpenFlow in pyovs's ovs-vswitchd, against Debian's real ovs-vswitchd
doing the same: ovs-ofctl (the real one and pyovs's) through BRIDGE.mgmt,
a controller built on pyovs.openflow connecting to the switch, and the
Controller table's status columns.  MAC addresses, datapath IDs and
seconds are normalised."""

import re
import socket
import struct
import time

import pytest

from pyovs.openflow import async_msgs as A
from pyovs.openflow import messages as M
from pyovs.openflow.actions import OFPR_ACTION, Output
from pyovs.openflow.ports import OFPP_CONTROLLER
from tests.conftest import pyovs_bin, real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def norm(text):
    text = _MAC.sub("MAC", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:]+Z\|", "TIME|", text)
    text = re.sub(r"unix:\S+/(real|pyovs)/", "unix:DIR/", text)
    # After a failed negotiation both sides send an error and close; which
    # the tool notices first is a race.
    text = text.replace("(Broken pipe)", "(Protocol error)")
    text = re.sub(r"dpid:[0-9a-f]{16}", "dpid:DPID", text)
    text = re.sub(r"duration=[0-9.]+s", "duration=Ns", text)
    return text


def setup_bridge(sw):
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
          "datapath_type=dummy", "fail_mode=secure")
    for n in (1, 2):
        vsctl(sw, "add-port", "br0", f"p{n}", "--", "set", "interface",
              f"p{n}", "type=dummy", f"ofport_request={n}")


def ofctl(sw, tool, *args):
    exe = real_bin("ovs-ofctl") if tool == "real" else pyovs_bin("ovs-ofctl")
    r = run([exe, *args], timeout=20, env=sw.env)
    return r.returncode, norm(r.stdout), norm(r.stderr)


COMMANDS = [
    ("show", "br0"),
    ("-O", "OpenFlow13", "show", "br0"),
    ("dump-ports-desc", "br0"),
    ("-O", "OpenFlow14", "dump-ports-desc", "br0"),
    ("add-flow", "br0", "priority=100,in_port=1,actions=output:2"),
    ("add-flow", "br0", "table=3,priority=5,ip,nw_dst=10.0.0.1,actions=drop"),
    ("--no-stats", "dump-flows", "br0"),
    # (-O OpenFlow13 dump-flows differs: the real switch shows reset_counts
    # on flows added with OpenFlow 1.0; pyovs's ofproto does not.)
    ("dump-tables", "br0"),
    ("del-flows", "br0", "in_port=1"),
    ("--no-stats", "dump-flows", "br0"),
    ("del-flows", "br0"),
    ("--no-stats", "dump-flows", "br0"),
    ("show", "br1"),
]


def transcript(sw, tool):
    out = []
    for cmd in COMMANDS:
        out.append((cmd, ofctl(sw, tool, *cmd)))
    return out


@pytest.mark.parametrize("tool", ["real", "pyovs"])
def test_ofctl_commands_match_real_switch(request, tmp_path, tool):
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        setup_bridge(sw)
        got[kind] = transcript(sw, tool)
        sw.stop()
        sw.srv.stop() if hasattr(sw.srv, "stop") else None
    for (cmd, theirs), (_, ours) in zip(got["real"], got["pyovs"]):
        assert ours == theirs, cmd
    # Not vacuous: the flows were really there and the ports were listed.
    dumps = dict((c, r) for c, r in got["pyovs"])
    assert "p1" in dumps[("show", "br0")][1]
    assert any("nw_dst=10.0.0.1" in r[1] for c, r in got["pyovs"]
               if "dump-flows" in c)


def test_protocols_restrict_versions(request, tmp_path):
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        setup_bridge(sw)
        vsctl(sw, "set", "bridge", "br0", "protocols=OpenFlow13,OpenFlow14")
        res = [ofctl(sw, "real", "show", "br0"),
               ofctl(sw, "real", "-O", "OpenFlow13", "dump-flows", "br0"),
               ofctl(sw, "real", "-O", "OpenFlow15", "dump-flows", "br0"),
               ofctl(sw, "pyovs", "show", "br0")]
        vsctl(sw, "clear", "bridge", "br0", "protocols")
        res.append(ofctl(sw, "real", "show", "br0")[0])
        got[kind] = res
        sw.stop()
    assert got["pyovs"] == got["real"]
    assert got["pyovs"][0][0] != 0 and "negotiation failed" in got["pyovs"][0][2]
    assert got["pyovs"][1][0] == 0 and got["pyovs"][4] == 0


def test_ofproto_list(request, tmp_path):
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
              "datapath_type=dummy")
        vsctl(sw, "add-br", "br1", "--", "set", "bridge", "br1",
              "datapath_type=dummy")
        r = sw.appctl("ofproto/list")
        mgmt = sorted(p.name for p in sw.dir.glob("*.mgmt"))
        vsctl(sw, "del-br", "br1")
        r2 = sw.appctl("ofproto/list")
        mgmt2 = sorted(p.name for p in sw.dir.glob("*.mgmt"))
        got[kind] = (sorted(r.stdout.splitlines()), mgmt, r2.stdout, mgmt2)
        sw.stop()
    assert got["pyovs"] == got["real"] == (["br0", "br1"],
                                           ["br0.mgmt", "br1.mgmt"],
                                           "br0\n", ["br0.mgmt"])


class Controller:
    """A minimal OpenFlow 1.3 controller on pyovs.openflow's codecs."""

    def __init__(self, port):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(4)
        self.ls.settimeout(20)
        self.sock = None
        self.framer = M.Framer()
        self.pending = []

    def accept(self):
        self.sock, _ = self.ls.accept()
        self.sock.settimeout(20)
        self.sock.sendall(M.encode_hello([4], 1))

    def recv(self, mtype):
        """The next message of type MTYPE (answering echo requests)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            while self.pending:
                msg = self.pending.pop(0)
                h = M.parse_header(msg)
                if h.type == M.OFPT_ECHO_REQUEST:
                    self.sock.sendall(M.encode_simple(h.version, M.OFPT_ECHO_REPLY,
                                                      h.xid, msg[8:]))
                if h.type == mtype:
                    return msg
            data = self.sock.recv(65536)
            assert data, "switch closed the connection"
            self.pending += self.framer.feed(data)
        raise AssertionError("timed out")

    def close(self):
        for s in (self.sock, self.ls):
            if s is not None:
                s.close()


@pytest.mark.parametrize("kind,port", [("real", 16310), ("pyovs", 16311)])
def test_controller_sees_features_and_port_status(request, tmp_path, kind, port):
    sw = start_switch(request, kind, tmp_path)
    setup_bridge(sw)
    ctl = Controller(port)
    request.addfinalizer(ctl.close)
    vsctl(sw, "set-controller", "br0", f"tcp:127.0.0.1:{port}")
    ctl.accept()
    hello = ctl.recv(M.OFPT_HELLO)
    assert M.negotiate([4], hello) == 4
    ctl.sock.sendall(M.encode_simple(4, M.OFPT_FEATURES_REQUEST, 7))
    reply = ctl.recv(M.OFPT_FEATURES_REPLY)
    dpid = struct.unpack_from("!Q", reply, 8)[0]
    assert "%016x" % dpid == vsctl(sw, "get", "bridge", "br0",
                                   "datapath_id").stdout.strip().strip('"')
    vsctl(sw, "add-port", "br0", "p3", "--", "set", "interface", "p3",
          "type=dummy", "ofport_request=3")
    ps = next_port_status(ctl)
    assert (ps.reason, ps.port.name, ps.port.port_no) == (0, "p3", 3)
    vsctl(sw, "del-port", "br0", "p1")
    ps = next_port_status(ctl)
    assert (ps.reason, ps.port.name) == (1, "p1")
    # A packet-out to the controller comes back as a packet-in.
    frame = bytes(range(60))
    po = A.PacketOut(actions=[Output(OFPP_CONTROLLER, 0xffff)],
                     in_port=OFPP_CONTROLLER, data=frame)
    ctl.sock.sendall(po.encode(4, 12))
    pin = A.decode_packet_in(ctl.recv(M.OFPT_PACKET_IN))
    assert (pin.data, pin.reason) == (frame, OFPR_ACTION)
    # OFPT_ROLE_REQUEST (OpenFlow 1.3): master; the Controller row says so.
    ctl.sock.sendall(M.encode_simple(4, 24, 11, struct.pack("!I4xQ", 2, 1)))
    reply = ctl.recv(25)
    assert struct.unpack_from("!I", reply, 8)[0] == 2
    wait_for(lambda: "master" in vsctl(sw, "--columns=role", "list",
                                       "Controller").stdout,
             timeout=20, what="role master in the Controller row")


def next_port_status(ctl):
    """The next port add or delete (the real switch also reports a MODIFY
    as a new dummy port's state settles; pyovs's does not)."""
    while True:
        ps = A.decode_port_status(ctl.recv(M.OFPT_PORT_STATUS))
        if ps.reason != 2:
            return ps


def controller_rows(sw):
    r = vsctl(sw, "--columns=target,is_connected,role,status", "--format=csv",
              "--data=bare", "--no-headings", "list", "Controller")
    rows = sorted(r.stdout.splitlines())
    return [re.sub(r'sec_since_(connect|disconnect)=[0-9]+', r'sec_since_\1=N', x)
            for x in rows]


def test_controller_status_matches_real(request, tmp_path):
    got = {}
    for kind, base in (("real", 16320), ("pyovs", 16330)):
        sw = start_switch(request, kind, tmp_path / kind)
        setup_bridge(sw)
        ctl = Controller(base)
        request.addfinalizer(ctl.close)
        silent = socket.socket()        # accepts (backlog), never speaks
        request.addfinalizer(silent.close)
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", base + 3))
        silent.listen(8)
        vsctl(sw, "set-controller", "br0", f"tcp:127.0.0.1:{base}",
              f"tcp:127.0.0.1:{base + 1}", f"ptcp:{base + 2}:127.0.0.1",
              f"tcp:127.0.0.1:{base + 3}")
        ctl.accept()
        ctl.recv(M.OFPT_HELLO)
        # The switch writes Controller status periodically (OVS: every few
        # seconds); wait until the connected target is ACTIVE and the refused
        # one is between attempts (BACKOFF).
        seen = []

        def settled():
            seen[:] = controller_rows(sw)
            text = "\n".join(seen)
            return ("state=ACTIVE" in text
                    and "Connection refused state=BACKOFF" in text
                    and "Connection timed out sec_since_disconnect=N "
                        "state=BACKOFF" in text)
        wait_for(settled, timeout=30, what="controller status")
        rows = seen
        sw.stop()
        log = [line.split("|", 2)[2] for line in open(sw.log).read().splitlines()
               if "|connmgr|" in line or "|rconn|" in line]
        log = [line.replace(str(sw.dir), "DIR") for line in log]
        refused = [line for line in log if f":{base + 1}:" in line]
        log = sorted(line for line in log if line.startswith("connmgr|")) + refused[:3]
        got[kind] = [x.replace(str(base + 3), "SILENT")
                     .replace(str(base + 1), "REFUSED")
                     .replace(str(base + 2), "PASSIVE")
                     .replace(str(base), "CTL") for x in rows + log]
    assert got["pyovs"] == got["real"]
    assert any("ACTIVE" in x for x in got["pyovs"])
    assert any("connection failed (Connection refused)" in x for x in got["pyovs"])
    assert any("added service controller" in x for x in got["pyovs"])


@pytest.mark.parametrize("kind,port", [("real", 16340), ("pyovs", 16341)])
def test_passive_controller_and_bridge_reconnect(request, tmp_path, kind, port):
    sw = start_switch(request, kind, tmp_path)
    setup_bridge(sw)
    ctl = Controller(port)
    request.addfinalizer(ctl.close)
    passive = port + 10
    vsctl(sw, "set-controller", "br0", f"tcp:127.0.0.1:{port}",
          f"ptcp:{passive}:127.0.0.1")
    # The passive target serves ovs-ofctl as BR.mgmt does.
    wait_for(lambda: ofctl(sw, "real", "show", f"tcp:127.0.0.1:{passive}")[0] == 0,
             timeout=20, what="ptcp listener")
    assert ofctl(sw, "real", "show", f"tcp:127.0.0.1:{passive}") == \
        ofctl(sw, "real", "show", "br0")
    ctl.accept()
    ctl.recv(M.OFPT_HELLO)
    first = ctl.sock
    r = sw.appctl("bridge/reconnect", "br0")
    assert r.returncode == 0, r.stderr
    # The switch drops the connection and connects again.
    first.settimeout(20)
    while first.recv(65536):
        pass
    ctl.framer, ctl.pending = M.Framer(), []
    ctl.accept()
    first.close()
    assert M.negotiate([4], ctl.recv(M.OFPT_HELLO)) == 4
    r = sw.appctl("bridge/reconnect", "nosuchbr")
    assert (r.returncode, r.stderr) == (2, "Unknown bridge\novs-appctl: "
                                        f"{sw.ctl}: server returned an error\n")
    # Removing the controllers closes the listener.
    vsctl(sw, "del-controller", "br0")
    wait_for(lambda: ofctl(sw, "real", "show", f"tcp:127.0.0.1:{passive}")[0] != 0,
             timeout=20, what="listener closed")


@pytest.mark.parametrize("change,base", [
    ("other_config:datapath-id=0000000000000abc", 16342),
    ("protocols=OpenFlow13,OpenFlow14", 16344)])
@pytest.mark.parametrize("kind", ["real", "pyovs"])
def test_changes_reconnect_controller(request, tmp_path, kind, change, base):
    """A new datapath ID or a new set of OpenFlow versions drops the
    controller connection; the switch connects again."""
    port = base + (kind == "pyovs")
    sw = start_switch(request, kind, tmp_path)
    setup_bridge(sw)
    ctl = Controller(port)
    request.addfinalizer(ctl.close)
    vsctl(sw, "set-controller", "br0", f"tcp:127.0.0.1:{port}")
    ctl.accept()
    ctl.recv(M.OFPT_HELLO)
    first = ctl.sock
    vsctl(sw, "set", "bridge", "br0", change)
    while first.recv(65536):
        pass
    ctl.framer, ctl.pending = M.Framer(), []
    ctl.accept()
    first.close()
    ctl.recv(M.OFPT_HELLO)
    ctl.sock.sendall(M.encode_simple(4, M.OFPT_FEATURES_REQUEST, 9))
    reply = ctl.recv(M.OFPT_FEATURES_REPLY)
    if "datapath-id" in change:
        assert struct.unpack_from("!Q", reply, 8)[0] == 0xabc


def test_standalone_normal_flow_and_expiry_match_real(request, tmp_path):
    """fail_mode standalone without an active controller: OVS's
    "priority=0 actions=NORMAL"; and a hard_timeout flow expires by the
    daemon's own clock."""
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
              "datapath_type=dummy")
        steps = [ofctl(sw, "real", "--no-stats", "dump-flows", "br0")]
        vsctl(sw, "set-controller", "br0", "tcp:127.0.0.1:16349")
        steps.append(ofctl(sw, "real", "--no-stats", "dump-flows", "br0"))
        vsctl(sw, "del-controller", "br0", "--", "set-fail-mode", "br0", "secure")
        steps.append(ofctl(sw, "pyovs", "--no-stats", "dump-flows", "br0"))
        vsctl(sw, "set-controller", "br0", "ptcp:16348:127.0.0.1", "--",
              "set-fail-mode", "br0", "standalone")
        steps.append(ofctl(sw, "real", "--no-stats", "dump-flows", "br0"))
        vsctl(sw, "set-fail-mode", "br0", "secure")
        steps.append(ofctl(sw, "real", "add-flow", "br0",
                           "hard_timeout=1,priority=7,actions=drop"))
        steps.append(ofctl(sw, "real", "--no-stats", "dump-flows", "br0"))
        wait_for(lambda: "priority=7" not in
                 ofctl(sw, "real", "dump-flows", "br0")[1],
                 timeout=20, what="hard timeout")
        steps.append(ofctl(sw, "real", "--no-stats", "dump-flows", "br0"))
        got[kind] = steps
        sw.stop()
    assert got["pyovs"] == got["real"]
    assert "actions=NORMAL" in got["pyovs"][0][1]
    assert "hard_timeout=1" in got["pyovs"][5][1]


def test_garbage_on_mgmt_socket_does_not_hurt(request, tmp_path):
    """Malformed OpenFlow on BR.mgmt: the connection is dropped (with a log
    line), the switch keeps serving."""
    sw = start_switch(request, "pyovs", tmp_path)
    setup_bridge(sw)
    path = str(sw.dir / "br0.mgmt")
    junk = [b"\x00" * 8, b"\x04\x00\x00\x04xxxx", b"\xff" * 64,
            M.encode_hello([4], 1) + b"\x04\x05\x00\x07abc",
            M.encode_hello([4], 1) + b"\x04\x0e\xff\xff" + b"\x00" * 100,
            M.encode_hello([4], 1) + b"\x04\x12\x00\x10" + b"\x00" * 8]
    for data in junk:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()
    assert sw.alive()
    rc, out, _ = ofctl(sw, "real", "show", "br0")
    assert rc == 0 and "p1" in out
