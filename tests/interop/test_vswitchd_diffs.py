"""ovs-vswitchd's small differences from the real switch, fixed: pyovs's
daemon and Debian's real ovs-vswitchd 3.1 (--enable-dummy=override) get
the same configuration and must print the same texts.

- a system port served by the dummy netdev is "(system)" in dpif/show and
  has no type in dpctl/show, as OVS registers the dummy class under the
  type it stands for;
- a packet-in raised in a patched peer bridge goes to that bridge's
  controller, from the patch port the packet entered it by;
- upcall/show in OVS's layout (the average, maximum and limit of flows,
  the dump duration and the revalidator's number are the daemon's own)."""

import random
import re

import pytest

from tests.conftest import real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl


def _override_scenario(sw):
    # (ofport_request: OVS numbers the others in hash order)
    vsctl(sw, "add-br", "br0", "--", "add-port", "br0", "p1", "--", "set", "interface",
          "p1", "ofport_request=1",
          "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=internal",
          "ofport_request=2",
          "--", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
          "--", "add-port", "br1", "q1", "--", "set", "interface", "q1", "type=system",
          "ofport_request=1",
          "--", "add-port", "br1", "q2", "--", "set", "interface", "q2", "type=dummy",
          "ofport_request=2")
    out = []
    for cmd in (["dpif/show"], ["dpctl/show"], ["dpctl/show", "dummy@ovs-dummy"]):
        r = sw.appctl(*cmd)
        out.append((r.returncode, r.stdout, r.stderr))
    # the overridden port still takes packets
    r = sw.appctl("netdev-dummy/receive", "p1",
                  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),"
                  "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,"
                  "ttl=64,frag=no),icmp(type=8,code=0)")
    out.append((r.returncode, r.stdout, r.stderr))
    out.append(sw.appctl("dpctl/show", "system@ovs-system").stdout)
    assert sw.alive()
    return out


def test_overridden_system_ports_show_as_real(request, tmp_path):
    real_bin("ovs-vswitchd")
    real = _override_scenario(start_switch(request, "real", str(tmp_path / "real")))
    ours = _override_scenario(start_switch(request, "pyovs", str(tmp_path / "pyovs")))
    assert ours == real
    assert "p1 1/" in real[0][1] and ": (system)" in real[0][1]
    assert "  port 2: q2 (dummy)\n" in real[2][1]
    assert any(ln.startswith("  port ") and ln.endswith(": q1")
               for ln in real[2][1].splitlines())


def _controller():
    """A controller on a free port of this suite's range (16300-16399)."""
    from tests.interop.test_vswitchd_openflow import Controller
    for port in random.sample(range(16300, 16400), 100):
        try:
            return Controller(port), port
        except OSError:
            continue
    pytest.skip("no free port in 16300-16399")


def _peer_packet_in_scenario(sw):
    from pyovs.openflow import async_msgs as A
    from pyovs.openflow import messages as M
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
          "fail_mode=secure",
          "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy",
          "ofport_request=1",
          "--", "add-port", "br0", "patch0", "--", "set", "interface", "patch0",
          "type=patch", "options:peer=patch1", "ofport_request=3",
          "--", "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
          "fail_mode=secure",
          "--", "add-port", "br1", "p3", "--", "set", "interface", "p3", "type=dummy",
          "ofport_request=1",
          "--", "add-port", "br1", "patch1", "--", "set", "interface", "patch1",
          "type=patch", "options:peer=patch0", "ofport_request=2")
    ctl, port = _controller()
    try:
        vsctl(sw, "set-controller", "br1", "tcp:127.0.0.1:%d" % port)
        ctl.sock, _ = ctl.ls.accept()
        ctl.sock.settimeout(20)
        ctl.sock.sendall(M.encode_hello([1], 1))
        ctl.recv(M.OFPT_HELLO)
        for br, flow in (("br0", "in_port=1,actions=output:3"),
                         ("br1", "in_port=2,actions=load:5->NXM_NX_REG0[],controller")):
            run([real_bin("ovs-ofctl"), "add-flow", br, flow], env=sw.env, check=True)
        sw.appctl("netdev-dummy/receive", "p1",
                  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:03),"
                  "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.3,proto=1,tos=0,"
                  "ttl=64,frag=no),icmp(type=8,code=0)")
        pin = A.decode_packet_in(ctl.recv(M.OFPT_PACKET_IN))
        return (pin.reason, pin.in_port, pin.table_id, pin.cookie, pin.data.hex())
    finally:
        ctl.close()


def test_peer_bridge_packet_in_goes_to_its_controller_as_real(request, tmp_path):
    real_bin("ovs-vswitchd")
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, str(tmp_path / kind))
        got[kind] = _peer_packet_in_scenario(sw)
        sw.stop()
    assert got["pyovs"] == got["real"]
    assert got["real"][1] == 2


def _upcall_show_scenario(sw):
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
          "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy",
          "ofport_request=1",
          "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy",
          "ofport_request=2")
    out = [sw.appctl("upcall/show").stdout]
    for a, b in ((1, 2), (2, 1)):
        sw.appctl("netdev-dummy/receive", "p%d" % a,
                  "in_port(%d),eth(src=50:54:00:00:00:0%d,dst=50:54:00:00:00:0%d),"
                  "eth_type(0x0800),ipv4(src=10.0.0.%d,dst=10.0.0.%d,proto=1,tos=0,"
                  "ttl=64,frag=no),icmp(type=8,code=0)" % (a, a, b, a, b))
    # (OVS refreshes its current count at most every 100 ms)
    wait_for(lambda: "(current 2)" in sw.appctl("upcall/show").stdout, timeout=10,
             what="two flows in upcall/show")
    out.append(sw.appctl("upcall/show").stdout)
    r = sw.appctl("upcall/show", "extra")
    out.append((r.returncode, r.stdout, r.stderr.replace(sw.ctl, "CTL")))
    return [re.sub(r"(?m)\(avg \d+\) \(max \d+\) \(limit \d+\)|\d+ms|^  \d+:",
                   "N", o) if isinstance(o, str) else o for o in out]


def test_upcall_show_as_real(request, tmp_path):
    real_bin("ovs-vswitchd")
    real = _upcall_show_scenario(start_switch(request, "real", str(tmp_path / "real")))
    ours = _upcall_show_scenario(start_switch(request, "pyovs", str(tmp_path / "pyovs")))
    assert ours == real
    assert "(current 2)" in real[1] and "N (keys 2)" in real[1]
