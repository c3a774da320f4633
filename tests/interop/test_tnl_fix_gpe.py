"""VXLAN-GPE ports (options:exts=gpe), pyovs's ovs-vswitchd against
Debian's real one 3.1 on the dummy datapath (the harness of
test_tnl_vswitchd.py): exts parsed (unknown extensions only logged),
packet_type=legacy_l3 allowed with gpe, the ports in dpif/show, dpctl/show
and tnl/ports/show; ofproto/trace of overlay packets out of them -- the
GPE header's next protocol Ethernet (flags=0xc000003), or for legacy_l3
pop_eth and IPv4/IPv6 (0xc000001/0xc000002), an ARP packet failing the
header build -- the encapsulated frames on the wire, and a received GPE
frame popped into the overlay bridge."""

import struct

from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import (BR_MAC, INNER, Switch, _csum, dumped_flows,
                                             tx_frames)


def gpe_frame(vni, np=3):
    """A VXLAN-GPE frame to 1.1.2.88 (next protocol NP) carrying INNER."""
    vxh = struct.pack("!II", 0x0c000000 | np, vni << 8) + INNER
    udp = struct.pack("!HHHH", 51283, 4789, 8 + len(vxh), 0) + vxh
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64,
                               17, 0, bytes([1, 1, 2, 92]), bytes([1, 1, 2, 88])))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    return "aa55aa550000f8bc124434b60800" + bytes(ip + udp).hex()


def scenario(sw, pcap):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1",
             "options:tx_pcap=" + str(pcap))
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.appctl("tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6")
    sw.ofctl("add-flow", "br0", "action=normal")
    out = []
    for name, ofport, opts in (
            ("t1", 3, ["options:exts=gpe", "options:key=5"]),
            ("t2", 4, ["options:exts=gpe", "options:key=6", "options:packet_type=legacy_l3",
                       "options:dst_port=4791"]),
            ("t3", 5, ["options:exts=gpe,foo,gbp", "options:key=7", "options:dst_port=4792"]),
            ("t4", 6, ["options:key=8", "options:packet_type=legacy_l3",
                       "options:dst_port=4793"])):
        out.append(sw.vsctl("add-port", "int-br", name, "--", "set", "Interface", name,
                            "type=vxlan", "options:remote_ip=1.1.2.92",
                            "ofport_request=%d" % ofport, *opts)
                   .replace(str(sw.dir), "DIR"))
        out.append(sw.vsctl("get", "interface", name, "error"))
    out.append(sw.appctl("dpif/show"))
    out.append([ln for ln in sw.appctl("dpctl/show").splitlines() if " p0 " not in ln])
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    for port in (3, 4):
        sw.ofctl("del-flows", "int-br")
        sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=%d" % port)
        for pkt in ("in_port=LOCAL,udp,nw_src=1.2.3.4", "in_port=LOCAL,ipv6",
                    "in_port=LOCAL,arp"):
            out.append(sw.appctl("ofproto/trace", "int-br", pkt))
    # on the wire, and back
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=3")
    sw.ofctl("add-flow", "int-br", "in_port=3,actions=LOCAL")
    sw.appctl("netdev-dummy/receive", "int-br",
              "in_port(2),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),"
              "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),"
              "udp(src=1234,dst=5678)")
    wait_for(lambda: tx_frames(pcap), what="an encapsulated frame")
    out.append([f.hex() for f in tx_frames(pcap)])
    sw.appctl("netdev-dummy/receive", "p0", gpe_frame(5))

    wait_for(lambda: any(ln.startswith("tunnel(") for ln in dumped_flows(sw)),
             what="popped flow")
    out.append(dumped_flows(sw))
    return out


def test_vxlan_gpe_ports_as_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"), tmp_path / "real.pcap")
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"), tmp_path / "pyovs.pcap")
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)
