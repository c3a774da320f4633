"""ovs-vswitchd's small differences from the real switch, fixed: pyovs's
daemon and Debian's real ovs-vswitchd 3.1 (--enable-dummy=override) get
the same configuration and must print the same texts.

- a system port served by the dummy netdev is "(system)" in dpif/show and
  has no type in dpctl/show, as OVS registers the dummy class under the
  type it stands for."""

from tests.conftest import real_bin
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
