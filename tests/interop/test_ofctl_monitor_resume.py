"""`ovs-ofctl monitor SWITCH MISSLEN invalid_ttl`: the tool asks (set-config
OFPC_INVALID_TTL_TO_CONTROLLER, OpenFlow 1.0-1.2 only) for the packet-ins
dec_ttl raises when a TTL runs out; the switch sends them (reason
invalid_ttl) to the connections that asked and whose controller id
dec_ttl names.  The real ovs-ofctl and pyovs's, against pyovs's switch,
print what the real ovs-ofctl prints against the real switch (dummy
datapath, packets from netdev-dummy/receive).

`ovs-ofctl monitor SWITCH resume`: the tool answers each packet-in that
carries a continuation (controller(pause)) with NXT_RESUME, and the switch
carries on translating where it paused.  The real tool and pyovs's,
against pyovs's switch and the real one, print what the real tool prints
against the real switch (the bridge UUID aside), and the frames that come
out of p2 are the same."""

import re
import subprocess
import threading

from pyovs.netdev import pcap

import pytest

from tests.conftest import pyovs_bin, real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl

pytestmark = pytest.mark.interop

KINDS = ("real", "pyovs")
MAC = "eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)"
IP4 = ("in_port(%d)," + MAC + ",eth_type(0x0800),ipv4(src=10.0.0.1,"
       "dst=10.0.0.2,proto=1,tos=0,ttl=%d,frag=no),icmp(type=8,code=0)")
IP6 = ("in_port(%d)," + MAC + ",eth_type(0x86dd),ipv6(src=2001:db8::1,"
       "dst=2001:db8::2,label=0,proto=58,tclass=0,hlimit=%d,frag=no),"
       "icmpv6(type=128,code=0)")
#: Packet-ins by output:CONTROLLER that frame what a case's packets give:
#: the first says the tool is set up, the second that all came.
READY, DONE = IP4 % (2, 64), IP4 % (2, 63)


@pytest.fixture(scope="module")
def switches(request, tmp_path_factory):
    real_bin("ovs-vswitchd")
    base = tmp_path_factory.mktemp("qbmon")
    sws = {}
    for kind in KINDS:
        sw = start_switch(request, kind, base / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
              "datapath_type=dummy", "fail_mode=secure",
              "protocols=OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,"
              "OpenFlow14,OpenFlow15")
        for n in (1, 2):
            vsctl(sw, "add-port", "br0", f"p{n}", "--", "set", "interface",
                  f"p{n}", "type=dummy", f"ofport_request={n}")
        vsctl(sw, "set", "interface", "p2", f"options:tx_pcap={sw.dir}/p2.pcap")
        sws[kind] = sw
    return sws


def ofctl(sw, *args):
    return run([real_bin("ovs-ofctl"), *args], timeout=20, env=sw.env)


def _sentinel_at(lines, ttl):
    """Index of the packet line of the last NXT_PACKET_IN2 of a sentinel
    with TTL in LINES, or None."""
    found = None
    for i in range(len(lines) - 1):
        if lines[i].startswith("NXT_PACKET_IN2") and "in_port=2 " in lines[i] \
                and f"nw_ttl={ttl}," in lines[i + 1]:
            found = i + 1
    return found


def _send_until(sw, lines, packet, ttl):
    def seen():
        if _sentinel_at(lines, ttl) is not None:
            return True
        sw.appctl("netdev-dummy/receive", "p2", packet)
        return False
    wait_for(seen, timeout=15, interval=0.5, what="sentinel packet-in")


def _monitor(sw, tool, args, flows, packets, resumes=0):
    """TOOL's `monitor` with ARGS: what it prints (log lines left out) of
    PACKETS (datapath flow texts) coming in on FLOWS (after RESUMES
    NXT_RESUMEs were sent, when resuming)."""
    assert ofctl(sw, "del-flows", "br0").returncode == 0
    for flow in flows + ["priority=40000,in_port=2,actions=controller"]:
        assert ofctl(sw, "add-flow", "br0", flow).returncode == 0
    exe = real_bin("ovs-ofctl") if tool == "real" else pyovs_bin("ovs-ofctl")
    p = subprocess.Popen([exe, *args], env=sw.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr),
                              daemon=True)
    reader.start()
    try:
        _send_until(sw, lines, READY, 64)   # (packet-in2 is asked for last)
        for pkt in packets:
            r = sw.appctl("netdev-dummy/receive", "p" + pkt[8], pkt)
            assert r.returncode == 0, r.stderr
        # (the sentinel's packet-in must not meet the tool waiting for the
        # barrier after a resume: it would take it for the reply and stop)
        wait_for(lambda: sum(x.startswith("send: NXT_RESUME") for x in lines)
                 >= resumes, timeout=15, what="the resumes")
        _send_until(sw, lines, DONE, 63)
    finally:
        p.terminate()
        p.wait(10)
        reader.join(5)
    got = lines[_sentinel_at(lines, 64) + 1:_sentinel_at(lines, 63) - 1]
    return "".join(x for x in got if "|" not in x)


CASES = [
    (["65534", "invalid_ttl"], ["ip,actions=dec_ttl,output:2"],
     [IP4 % (1, 1), IP4 % (1, 2)]),
    (["65534", "invalid_ttl"], ["ipv6,actions=dec_ttl,output:2"],
     [IP6 % (1, 1), IP6 % (1, 5)]),
    (["65534", "invalid_ttl"], ["ip,actions=dec_ttl(1,2),output:2"],
     [IP4 % (1, 0)]),
    (["65534"], ["ip,actions=dec_ttl,output:2"], [IP4 % (1, 1)]),
    (["-O", "OpenFlow12", "65534", "invalid_ttl"],
     ["ip,actions=dec_ttl,output:2"], [IP4 % (1, 1)]),
]


@pytest.mark.parametrize("args,flows,packets", CASES,
                         ids=lambda c: " ".join(c) if isinstance(c, list) else c)
def test_invalid_ttl_as_real_switch(switches, args, flows, packets):
    opts = args[:2] if args[0] == "-O" else []
    cmd = [*opts, "monitor", "br0", *args[len(opts):]]
    expected = _monitor(switches["real"], "real", cmd, flows, packets)
    for tool in KINDS:
        got = _monitor(switches["pyovs"], tool, cmd, flows, packets)
        assert got == expected, tool
    asked = "invalid_ttl" in args and "dec_ttl(1,2)" not in flows[0]
    assert ("(via invalid_ttl)" in expected) == asked


@pytest.mark.parametrize("args", [
    ["-O", "OpenFlow13", "monitor", "br0", "invalid_ttl"],
    ["-O", "OpenFlow13,OpenFlow14", "monitor", "br0", "65534", "invalid_ttl"],
])
def test_invalid_ttl_needs_old_versions(switches, args):
    sw = switches["pyovs"]
    r = run([real_bin("ovs-ofctl"), *args], timeout=20, env=sw.env)
    o = run([pyovs_bin("ovs-ofctl"), *args], timeout=20, env=sw.env)
    assert (r.returncode, r.stderr) == (o.returncode, o.stderr)
    assert r.returncode == 1 and "requires one of" in r.stderr


RESUME_CASES = [
    ([], ["ip,actions=controller(pause),output:2"], [IP4 % (1, 5)]),
    ([], ["in_port=1,ip,actions=load:5->NXM_NX_REG0[],resubmit(,1),"
          "mod_nw_tos:8,output:2",
          "table=1,cookie=0x7,actions=set_field:0x7->reg1,"
          "controller(pause,userdata=01.02),resubmit(,2),"
          "mod_dl_src:00:00:00:00:00:09",
          "table=2,cookie=0x3,actions=set_field:0x1->reg2,output:2"],
     # (one packet, and no packet-in after the resume: as with OVS, one
     # that beats the barrier reply would end the tool, its "reply")
     [IP4 % (1, 5)]),
    (["-O", "OpenFlow13"], ["ip,actions=controller(pause),mod_nw_tos:4,"
                            "write_actions(output:2)"], [IP4 % (1, 5)]),
    (["-O", "OpenFlow15"], ["ip,actions=mod_nw_ttl:9,controller(pause),"
                            "dec_ttl,output:2"], [IP4 % (1, 5)]),
]


def _sent(sw):
    path = f"{sw.dir}/p2.pcap"
    try:
        return [bytes(f) for f in pcap.read_pcap(path)]
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("opts,flows,packets", RESUME_CASES,
                         ids=lambda c: " ".join(c) if isinstance(c, list) else c)
def test_resume_as_real_switch(switches, opts, flows, packets):
    cmd = [*opts, "monitor", "br0", "resume"]
    got = {}
    for kind, tool in (("real", "real"), ("pyovs", "real"), ("pyovs", "pyovs"),
                       ("real", "pyovs")):
        sw = switches[kind]
        before = len(_sent(sw))
        text = _monitor(sw, tool, cmd, flows, packets, len(packets))
        text = re.sub(r"continuation.bridge=[-0-9a-f]+", "continuation.bridge=U",
                      text)
        got[kind, tool] = (text, _sent(sw)[before:])
    expected = got.pop(("real", "real"))
    for key, value in got.items():
        assert value == expected, key
    assert "send: NXT_RESUME" in expected[0]
    # (OVS drops a write_actions frozen after the pause: nothing comes out)
    assert bool(expected[1]) != ("write_actions" in flows[0])


@pytest.mark.parametrize("flows", [
    ["ip,actions=controller(pause),output:2"],
    ["ip,actions=resubmit(,1),output:2",
     "table=1,actions=mod_nw_tos:4,controller(pause),output:1"],
], ids=lambda f: " ".join(f))
def test_trace_of_pause_as_real_switch(switches, flows):
    """ofproto/trace sends nothing at a pause, commits what was set, and
    goes no further."""
    got = {}
    for kind in KINDS:
        sw = switches[kind]
        assert ofctl(sw, "del-flows", "br0").returncode == 0
        for flow in flows:
            assert ofctl(sw, "add-flow", "br0", flow).returncode == 0
        r = sw.appctl("ofproto/trace", "br0", "in_port=1,icmp,nw_ttl=5")
        got[kind] = (r.returncode, r.stdout)
    assert got["pyovs"] == got["real"]
    assert "controller(pause)" in got["pyovs"][1]


def _stale_resume(sw, version):
    """A paused packet-in, sent back as NXT_RESUME naming another bridge:
    the switch's answer, and whether it still answers an echo."""
    import os
    import struct
    from pyovs.ofproto.connmgr import encode_packet_in2
    from pyovs.openflow import async_msgs as A
    from pyovs.openflow import messages as M
    from pyovs.openflow.vconn import Vconn
    assert ofctl(sw, "del-flows", "br0").returncode == 0
    assert ofctl(sw, "add-flow", "br0",
                 "ip,actions=controller(pause),output:2").returncode == 0
    os.environ["OVS_RUNDIR"] = str(sw.dir)
    v = Vconn.open("br0", {version}, 10)
    try:
        v.send(struct.pack("!BBHIIII", version, 4, 20, 5, 0x2320, 16, 2))
        v.transact_noreply([struct.pack("!BBHIHH", version, 9, 12, 6, 0,
                                        0xffff)])
        pin = None

        def packet_in():
            nonlocal pin
            sw.appctl("netdev-dummy/receive", "p1", IP4 % (1, 5))
            v.sock.settimeout(0.5)
            try:
                pin = A.decode_packet_in2(v.recv())
            except OSError:
                return False
            return True
        wait_for(packet_in, timeout=15, what="a paused packet-in")
        v.sock.settimeout(10)
        pin.continuation.bridge = b"\x11" * 16
        msg = bytearray(encode_packet_in2(version, pin))
        msg[4:8] = struct.pack("!I", 77)
        msg[12:16] = struct.pack("!I", 28)          # NXT_RESUME
        v.send(bytes(msg))
        reply = v.recv()
        v.send(M.encode_simple(version, "OFPT_ECHO_REQUEST", 78))
        return reply, M.parse_header(v.recv()).xid
    finally:
        v.close()


@pytest.mark.parametrize("version", [1, 4, 6])
def test_stale_resume_as_real_switch(switches, version):
    got = {kind: _stale_resume(switches[kind], version) for kind in KINDS}
    assert got["pyovs"] == got["real"]
    r = run([real_bin("ovs-ofctl"), "ofp-print", got["pyovs"][0].hex()],
            timeout=20)
    assert "NXR_STALE" in r.stdout and got["pyovs"][1] == 78
