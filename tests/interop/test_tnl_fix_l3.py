"""GRE ports with packet_type=legacy_l3 (and ptap beside them), pyovs's
ovs-vswitchd against Debian's real one 3.1 on the dummy datapath (the
harness of test_tnl_vswitchd.py): dpif/show, and ofproto/trace of
overlay packets out of such a port -- pop_eth before the committed header
changes, then tnl_push with the Ethertype as GRE protocol -- for IPv4,
ARP and IPv6 packets, with a header change before the output; of
layer-3 packets out of them (datapath flows with packet_type(ns=1,...)):
a legacy_l3 port's get push_eth with zero addresses, a ptap port's stay
layer 3 (dropped on an Ethernet port, pushed as they are into tunnels).  (The real
switch aborts when a legacy_l3 output is followed by another output in
the same action list, so those are not compared; pyovs keeps the popped
header inside the encapsulated copy's clone.)"""

from tests.interop.test_tnl_vswitchd import BR_MAC, Switch, dumped_flows, tx_frames


def _setup(sw, pcap=None):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1",
             *(["options:tx_pcap=" + str(pcap)] if pcap else []))
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t1", "--", "set", "Interface", "t1", "type=gre",
             "options:remote_ip=1.1.2.92", "options:packet_type=legacy_l3",
             "options:key=7", "ofport_request=3")
    sw.vsctl("add-port", "int-br", "t2", "--", "set", "Interface", "t2", "type=gre",
             "options:remote_ip=1.1.2.93", "options:packet_type=ptap", "ofport_request=4")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.appctl("tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6")
    sw.appctl("tnl/arp/set", "br0", "1.1.2.93", "f8:bc:12:44:34:b7")
    sw.ofctl("add-flow", "br0", "action=normal")


def scenario(sw):
    _setup(sw)
    out = [sw.appctl("dpif/show")]
    for flow in ("in_port=LOCAL,actions=3", "in_port=LOCAL,actions=4",
                 "in_port=LOCAL,actions=LOCAL,3", "in_port=LOCAL,ip,actions=mod_nw_tos:8,3",
                 "in_port=LOCAL,arp,actions=mod_nw_dst:9.9.9.9,3"):
        sw.ofctl("del-flows", "int-br")
        sw.ofctl("add-flow", "int-br", flow)
        for pkt in ("in_port=LOCAL,udp,nw_src=1.2.3.4", "in_port=LOCAL,arp,arp_op=1",
                    "in_port=LOCAL,ipv6"):
            if "mod_nw" in flow and ("arp" in pkt) != ("arp" in flow):
                continue
            out.append(sw.appctl("ofproto/trace", "int-br", pkt))
    # layer-3 packets out of the tunnels: a legacy_l3 port's get an
    # Ethernet header (push_eth, zero addresses) into OpenFlow
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=3,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "in_port=4,actions=LOCAL")
    for tun, l3 in (("tun_id=0x7,src=1.1.2.92", "packet_type(ns=1,id=0x800),ipv4(src=1.1.1.1,"
                     "dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)"),
                    ("tun_id=0x7,src=1.1.2.92", "packet_type(ns=1,id=0x86dd),ipv6(src=2001::1,"
                     "dst=2001::2,label=0,proto=58,tclass=0,hlimit=64,frag=no),"
                     "icmpv6(type=128,code=0)"),
                    ("src=1.1.2.93", "packet_type(ns=1,id=0x800),ipv4(src=1.1.1.1,"
                     "dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)")):
        out.append(sw.appctl("ofproto/trace", "ovs-dummy", "tunnel(%s,dst=1.1.2.88,ttl=64,"
                             "flags(key)),in_port(3),%s" % (tun, l3)))
    # a ptap port's layer-3 packet stays one: into the legacy_l3 port as
    # it is, into VXLAN and Geneve ptap ports (as the real switch does)
    sw.vsctl("add-port", "int-br", "t5", "--", "set", "Interface", "t5", "type=vxlan",
             "options:remote_ip=1.1.2.92", "options:packet_type=ptap", "ofport_request=7",
             "--", "add-port", "int-br", "t6", "--", "set", "Interface", "t6",
             "type=geneve", "options:remote_ip=1.1.2.92", "options:packet_type=ptap",
             "ofport_request=8")
    for actions in ("4,3", "7", "8"):
        sw.ofctl("del-flows", "int-br")
        sw.ofctl("add-flow", "int-br", "in_port=4,actions=" + actions)
        out.append(sw.appctl(
            "ofproto/trace", "ovs-dummy", "tunnel(src=1.1.2.93,dst=1.1.2.88,ttl=64,flags(key)),"
            "in_port(3),packet_type(ns=1,id=0x800),ipv4(src=1.1.1.1,dst=1.1.2.88,proto=17,"
            "tos=0,ttl=64,frag=no),udp(src=1,dst=2)"))
    return out


def test_legacy_l3_gre_output_as_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)


def wire(sw, pcap):
    _setup(sw, pcap)
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=3")
    sw.appctl("netdev-dummy/receive", "int-br",
              "in_port(2),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),"
              "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),"
              "udp(src=1234,dst=5678)")
    from tests.conftest import wait_for
    wait_for(lambda: tx_frames(pcap), timeout=5, what="an encapsulated frame")
    return [f.hex() for f in tx_frames(pcap)]


def test_legacy_l3_gre_frames_as_real(request, tmp_path):
    real = wire(Switch(request, "real", tmp_path / "real"), tmp_path / "real.pcap")
    ours = wire(Switch(request, "pyovs", tmp_path / "pyovs"), tmp_path / "pyovs.pcap")
    assert ours == real


def receive(sw):
    """A layer-3 GRE packet to the legacy_l3 port, and one to the ptap port:
    the megaflows (tnl_pop, then packet_type(ns=1,id=0x800) with push_eth)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import GRE, Ether
    _setup(sw)
    sw.ofctl("add-flow", "int-br", "in_port=3,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "in_port=4,actions=3")
    for src, key in (("1.1.2.92", 7), ("1.1.2.93", None)):
        gre = GRE(proto=0x0800) if key is None else GRE(proto=0x0800, key_present=1, key=key)
        frame = (Ether(src="f8:bc:12:44:34:b6", dst=BR_MAC) / IP(src=src, dst="1.1.2.88")
                 / gre / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2))
        sw.appctl("netdev-dummy/receive", "p0", bytes(frame).hex())
    import time
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "tunnel(" not in sw.appctl("dpctl/dump-flows"):
        time.sleep(0.05)
    return dumped_flows(sw)


def test_layer3_gre_packets_received_as_real(request, tmp_path):
    real = receive(Switch(request, "real", tmp_path / "real"))
    ours = receive(Switch(request, "pyovs", tmp_path / "pyovs"))
    assert ours == real
