"""ip6gre tunnel ports (GRE over IPv6), pyovs's ovs-vswitchd against
Debian's real one 3.1 on the dummy datapath (the harness of
test_tnl_vswitchd.py): the ports and their shared datapath port
ip6gre_sys (dpif/show, dpctl/show), the Interface error for
packet_type=legacy_l3, the listeners (tnl/ports/show -v), ofproto/trace
of overlay packets to them (tnl_push with header type 109, with and
without a key) and of underlay packets to the endpoint (tnl_pop),
megaflows, and the encapsulated frames on the wire byte for byte; then a
received ip6gre packet popped into the overlay bridge."""

import time

import pytest

from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import BR_MAC, Switch, dumped_flows, tx_frames

scapy_l2 = pytest.importorskip("scapy.layers.l2")
from scapy.layers.inet import ICMP, IP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

OVERLAY = ("in_port(2),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),"
           "ipv4(src=1.1.3.88,dst=1.1.3.112,proto=47,tos=0,ttl=64,frag=no)")


def _setup(sw, pcap):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1",
             "options:tx_pcap=" + str(pcap))
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    out = []
    for name, ofport, opts in (("t6", 9, ["options:remote_ip=2001:cafe::92", "options:key=66"]),
                               ("t7", 10, ["options:remote_ip=2001:cafe::93",
                                           "options:packet_type=legacy_l2", "options:csum=true"]),
                               ("t8", 11, ["options:remote_ip=1.1.1.1"]),
                               ("t9", 12, ["options:remote_ip=2001:cafe::94",
                                           "options:packet_type=legacy_l3"])):
        out.append(sw.vsctl("add-port", "int-br", name, "--", "set", "Interface", name,
                            "type=ip6gre", "ofport_request=%d" % ofport, *opts)
                   .replace(str(sw.dir), "DIR"))
        out.append(sw.vsctl("get", "interface", name, "error"))
    sw.appctl("netdev-dummy/ip6addr", "br0", "2001:cafe::88/24")
    sw.appctl("ovs/route/add", "2001:cafe::92/24", "br0")
    sw.appctl("tnl/neigh/set", "br0", "2001:cafe::92", "f8:bc:12:44:34:c8")
    sw.appctl("tnl/neigh/set", "br0", "2001:cafe::93", "f8:bc:12:44:34:c9")
    sw.ofctl("add-flow", "br0", "action=normal")
    return out


def scenario(sw, pcap):
    out = _setup(sw, pcap)
    out.append(sw.appctl("dpif/show"))
    # (p0's line left out: pyovs prints its tx_pcap option there, the real switch not)
    out.append([ln for ln in sw.appctl("dpctl/show").splitlines() if " p0 " not in ln])
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    for actions in ("9", "10", "set_tunnel:5,9", "9,10"):
        sw.ofctl("del-flows", "int-br")
        sw.ofctl("add-flow", "int-br", "actions=" + actions)
        out.append(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY))
    out.append(sw.appctl(
        "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=%s),"
        "eth_type(0x86dd),ipv6(src=2001:cafe::92,dst=2001:cafe::88,label=0,proto=47,"
        "tclass=0,hlimit=64,frag=no)" % BR_MAC))
    out.append(sw.appctl(
        "ofproto/trace", "ovs-dummy", "tunnel(tun_id=0x42,ipv6_src=2001:cafe::92,"
        "ipv6_dst=2001:cafe::88,ttl=64,flags(key)),in_port(6),eth(src=f8:bc:12:44:34:b6,"
        "dst=%s),eth_type(0x0800),ipv4(src=1.1.1.1,dst=1.1.2.88,proto=17,tos=0,ttl=64,"
        "frag=no),udp(src=1,dst=4789)" % BR_MAC))
    # IPv4 addresses too: listeners for both families
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    # the encapsulated frames, byte for byte, and their megaflow
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=9,10")
    sw.appctl("netdev-dummy/receive", "int-br", "50540000000a5054000000091234")
    wait_for(lambda: len(tx_frames(pcap)) >= 2, what="encapsulated frames")
    out.append([f.hex() for f in tx_frames(pcap)])
    out.append(dumped_flows(sw))
    return out


def test_ip6gre_ports_match_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"), tmp_path / "real.pcap")
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"), tmp_path / "pyovs.pcap")
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)


def receive(sw, pcap):
    _setup(sw, pcap)
    sw.ofctl("add-flow", "int-br", "in_port=9,actions=LOCAL")
    frame = (scapy_l2.Ether(src="f8:bc:12:44:34:c8", dst=BR_MAC)
             / IPv6(src="2001:cafe::92", dst="2001:cafe::88")
             / scapy_l2.GRE(proto=0x6558, key_present=1, key=66)
             / scapy_l2.Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
             / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP())
    for _ in range(2):
        sw.appctl("netdev-dummy/receive", "p0", bytes(frame).hex())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "tunnel(" not in sw.appctl("dpctl/dump-flows"):
        time.sleep(0.05)
    return (dumped_flows(sw),
            sw.appctl("coverage/read-counter", "datapath_drop_tunnel_pop_error"))


def test_ip6gre_packets_popped_as_real(request, tmp_path):
    real = receive(Switch(request, "real", tmp_path / "real"), tmp_path / "real.pcap")
    ours = receive(Switch(request, "pyovs", tmp_path / "pyovs"), tmp_path / "pyovs.pcap")
    assert ours == real
