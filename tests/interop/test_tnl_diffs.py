"""Native tunneling's small differences from the real switch, fixed: on
the dummy datapath, pyovs's ovs-vswitchd and Debian's real ovs-vswitchd
3.1 get the same configuration and packets (netdev-dummy/receive in the
datapath flow syntax) and must install the same megaflows.

- a bridge whose datapath has no tunnel port, or no endpoint listening,
  does not look at the tunnel endpoint's fields when it outputs to LOCAL
  (OVS's tnl_count; an empty tnl-ports classifier);
- a UDP first fragment to the tunnel endpoint is not popped, and its
  megaflow leaves the UDP ports wildcarded (the tnl-ports classifier
  stops at nw_frag);
- a VXLAN packet whose VNI no port has installs no flow (each is an
  upcall), in both switches;
- dpctl/dump-flows --names names tnl_pop's port."""

import re

from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import Switch, vxlan_frame

BR_MAC = "aa:55:aa:55:00:00"
PEER_MAC = "f8:bc:12:44:34:b6"


def _flows(sw):
    names = dict(re.findall(r"port (\d+): (\S+)", sw.appctl("dpctl/show")))
    text = re.sub(r"used:[0-9.]+s|used:never", "used:X", sw.appctl("dpctl/dump-flows"))
    text = re.sub(r"(in_port\(|tnl_pop\(|actions:|,)(\d+)(?=[,)\n]|$)",
                  lambda m: m.group(1) + names.get(m.group(2), m.group(2)), text)
    return sorted(text.splitlines())


def _udp(dst, dport, frag="no", src="1.1.2.92"):
    return ("in_port(1),eth(src=%s,dst=%s),eth_type(0x0800),"
            "ipv4(src=%s,dst=%s,proto=17,tos=0,ttl=64,frag=%s),"
            "udp(src=5000,dst=%d)" % (PEER_MAC, BR_MAC, src, dst, frag, dport))


def scenario(sw):
    out = []
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC,
             "--", "add-port", "br0", "p0", "--", "set", "Interface", "p0", "type=dummy",
             "ofport_request=1",
             "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy",
             "ofport_request=2")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.ofctl("add-flow", "br0", "action=2,LOCAL")   # (flood order: hash order in OVS)
    # no tunnel port: an output to LOCAL looks at no tunnel field
    for pkt in (_udp("1.1.2.88", 4789), _udp("1.1.2.77", 53, src="1.1.2.93")):
        sw.appctl("netdev-dummy/receive", "p0", pkt)
    out.append(_flows(sw))
    sw.appctl("revalidator/purge")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy",
             "--", "add-port", "int-br", "t2", "--", "set", "Interface", "t2",
             "type=vxlan", "options:remote_ip=1.1.2.92", "options:key=123",
             "ofport_request=2")
    sw.ofctl("add-flow", "int-br", "action=LOCAL")
    # no endpoint listens yet (the address came before the tunnel): the
    # empty tnl-ports classifier looks at nothing
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    sw.appctl("netdev-dummy/receive", "p0", _udp("1.1.2.88", 4789))
    wait_for(lambda: len(_flows(sw)) > 1, timeout=10, what="a megaflow")
    out.append(_flows(sw))
    sw.appctl("revalidator/purge")
    # (OVS reads the endpoint's addresses when they are set with tunnels there)
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    for pkt in (_udp("1.1.2.88", 4789, "first"), _udp("1.1.2.88", 4789, "later"),
                _udp("1.1.2.88", 4790), _udp("1.1.2.77", 53, src="1.1.2.93")):
        sw.appctl("netdev-dummy/receive", "p0", pkt)
    sw.appctl("netdev-dummy/receive", "p0", vxlan_frame(124))   # no port has VNI 124
    out.append(_flows(sw))
    # the unknown VNI's packet: an upcall that installs nothing, counted lost
    out.append(re.findall(r"lost:\d+", sw.appctl("dpctl/show")))
    # port names as OVS gives them: tnl_pop(vxlan_sys_4789)
    text = sw.appctl("dpctl/dump-flows", "--names")
    out.append(sorted(re.sub(r"used:[0-9.]+s|used:never", "used:X", text).splitlines()))
    assert sw.proc.poll() is None
    return out


def test_tunnel_endpoint_megaflows_match_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    assert ours == real
    assert real[1] == ["Listening ports:"] and "eth(dst" not in str(real[2])
    assert not any("tunnel(" in f for f in real[4])
    assert any("ipv4(dst=1.1.2.88,proto=17,frag=first), " in f for f in real[4])
    assert any("tnl_pop(vxlan_sys_4789)" in f for f in real[6])
