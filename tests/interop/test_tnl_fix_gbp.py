"""VXLAN-GBP (options:exts=gbp) on the userspace datapath, pyovs's
ovs-vswitchd against Debian's real one 3.1 on the dummy datapath (the
harness of test_tnl_vswitchd.py).  OVS 3.1's native tunneling has no GBP:
tnl_push writes a plain VXLAN header whatever tun_gbp_id/tun_gbp_flags
say, and a received header with the G bit is a tunnel pop error ("invalid
vxlan flags"); the OpenFlow fields tun_gbp_id/tun_gbp_flags still match
and print (ofproto/trace of datapath flows carrying vxlan(gbp(...)), the
Flow:/Megaflow: lines, dump-flows).  pyovs must do exactly that."""

import re
import struct

from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import BR_MAC, INNER, Switch, _csum, dumped_flows

TRACE = ("tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,%sflags(key)),in_port(4789),"
         "eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.1.1,"
         "dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=4789)")


def vxlan_gbp_frame(flags_word, vni=123):
    """A VXLAN frame to 1.1.2.88 whose first header word is FLAGS_WORD."""
    vxh = struct.pack("!II", flags_word, vni << 8) + INNER
    udp = struct.pack("!HHHH", 51283, 4789, 8 + len(vxh), 0) + vxh
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64,
                               17, 0, bytes([1, 1, 2, 92]), bytes([1, 1, 2, 88])))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    return "aa55aa550000f8bc124434b60800" + bytes(ip + udp).hex()


def scenario(sw):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t2", "--", "set", "Interface", "t2", "type=vxlan",
             "options:remote_ip=1.1.2.92", "options:key=123", "options:exts=gbp",
             "ofport_request=2")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.appctl("tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6")
    sw.ofctl("add-flow", "br0", "action=normal")
    sw.appctl("vlog/disable-rate-limit", "native_tnl")
    out = [sw.appctl("dpif/show"), sw.vsctl("get", "interface", "t2", "error", "status")]
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=set_field:0x64->tun_gbp_id,"
             "set_field:0x1->tun_gbp_flags,2")
    sw.ofctl("add-flow", "int-br", "priority=20,in_port=2,tun_gbp_id=0x65,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "priority=10,in_port=2,tun_gbp_flags=0x8/0x8,"
             "actions=output:2")
    sw.ofctl("add-flow", "int-br", "priority=0,actions=drop")
    out.append(sw.ofctl("dump-flows", "int-br", "--no-stats"))
    out.append(sw.appctl("ofproto/trace", "int-br", "in_port=LOCAL,udp"))
    for gbp in ("vxlan(gbp(id=101,flags=0x1)),", "vxlan(gbp(id=7,flags=0x48)),",
                "vxlan(gbp(id=7,flags=0)),", ""):
        out.append(sw.appctl("ofproto/trace", "ovs-dummy", TRACE % gbp))
    # received with the G bit: dropped as a tunnel pop error, logged
    for word in (0x88010065, 0x88000066, 0x08000000):
        sw.appctl("netdev-dummy/receive", "p0", vxlan_gbp_frame(word))

    wait_for(lambda: any(ln.startswith("tunnel(") for ln in dumped_flows(sw)),
             what="megaflows")
    out.append(dumped_flows(sw))
    out.append(sw.appctl("coverage/read-counter", "datapath_drop_tunnel_pop_error"))
    log = (sw.dir / "vswitchd.log").read_text()
    out.append(re.findall(r"\|native_tnl\|WARN\|(.*)", log))
    return out


def test_vxlan_gbp_on_userspace_datapath_as_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)
