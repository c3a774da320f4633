"""Layer-3 packets (packet_type namespace 1) in datapath flow keys: the
flow member packet_type and the key's packet_type(ns=1,id=ETHERTYPE)
attribute, with no eth() and no VLAN, as OVS writes a tunnelled layer-3
packet's megaflow."""

from pyovs.odp.keys import flow_to_key, format_flow, key_to_flow, parse_flow

L3 = ("tunnel(tun_id=0x6,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(-df-csum+key)),recirc_id(0),"
      "in_port(4789),packet_type(ns=1,id=0x800),eth_type(0x0800),ipv4(frag=no)")


def test_layer3_packet_type_round_trip():
    flow, mask = key_to_flow(parse_flow(L3))
    assert (flow["packet_type"], flow["dl_type"]) == (0x10800, 0x800)
    assert mask["packet_type"] == 0xffffffff
    assert format_flow(flow_to_key(flow, mask)) == L3


def test_packet_type_implies_the_ethertype():
    flow, _ = key_to_flow(parse_flow(
        "in_port(3),packet_type(ns=1,id=0x86dd),ipv6(src=2001::1,dst=2001::2,label=0,"
        "proto=58,tclass=0,hlimit=64,frag=no),icmpv6(type=128,code=0)"))
    assert (flow["packet_type"], flow["dl_type"], flow["nw_proto"]) == (0x186dd, 0x86dd, 58)
    text = format_flow(flow_to_key(flow))
    assert "eth(" not in text and "packet_type(ns=1,id=0x86dd),eth_type(0x86dd)" in text


def test_ethernet_packet_type_stays_default():
    flow, _ = key_to_flow(parse_flow("in_port(1),packet_type(ns=0,id=0),eth(),"
                                     "eth_type(0x0800),ipv4(frag=no)"))
    assert "packet_type" not in flow
    assert "packet_type(ns=0,id=0),eth(" in format_flow(flow_to_key(flow))
