"""pyovs.odp: datapath key/mask and action text (pure).  The texts here are
OVS's own output (see tests/interop/test_odp.py, which checks them against the
real ovs-vswitchd)."""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.odp import lex
from pyovs.odp.actions import (TNL_TYPE_VXLAN, format_actions, parse_actions,
                               tnl_header_format, tnl_header_parse)
from pyovs.odp.keys import (flow_to_key, format_flow, key_to_flow, parse_flow,
                            STRUCT_MEMBERS, SCALAR_MEMBERS)
from pyovs.packet import build as b
from pyovs.packet.csum import csum
from pyovs.packet.flow import flow_extract
from pyovs.openflow.fields import STORAGE

M1, M2 = "50:54:00:00:00:01", "50:54:00:00:00:02"

FLOW_TEXTS = [
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,"
    "dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no)",
    "recirc_id(0),in_port(1),eth(src=50:54:00:00:00:03/ff:ff:ff:00:00:00),eth_type(0x0800),"
    "ipv4(src=10.0.0.0/255.0.0.0,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2),"
    "tcp_flags(+syn-ack)",
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=7,pcp=0),"
    "encap(eth_type(0x0800),ipv4(src=10.0.0.1/255.0.0.0,proto=17,ttl=64,frag=no))",
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(src=2001::1/ffff::,"
    "proto=58,frag=no),icmpv6(type=135)",
    "skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),"
    "recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,"
    "dst=ff:ff:ff:ff:ff:ff/00:00:00:00:00:00),eth_type(0x0806),arp(sip=10.0.0.1/0.0.0.0,"
    "tip=10.0.0.2,op=1/0,sha=50:54:00:00:00:01/00:00:00:00:00:00,"
    "tha=00:00:00:00:00:00/00:00:00:00:00:00)",
    "skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),"
    "recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,"
    "dst=50:54:00:00:00:02),eth_type(0/0xffff)",
]


@pytest.mark.parametrize("text", FLOW_TEXTS)
def test_flow_text_round_trip(text):
    verbose = text.startswith("skb_priority")
    names = {1: "p1"} if verbose else None   # dump-flows -m names ports
    assert format_flow(parse_flow(text, names), verbose, names) == text


def test_wildcarded_fields_are_left_out_unless_verbose():
    attrs = parse_flow("in_port(1),eth(src=50:54:00:00:00:01),eth_type(0x0800),"
                       "ipv4(dst=10.0.0.0/255.0.0.0,frag=no)")
    assert format_flow(attrs) == ("in_port(1),eth(src=50:54:00:00:00:01),eth_type(0x0800),"
                                  "ipv4(dst=10.0.0.0/255.0.0.0,frag=no)")
    assert format_flow(attrs, verbose=True) == (
        "in_port(1),eth(src=50:54:00:00:00:01,dst=00:00:00:00:00:00/00:00:00:00:00:00),"
        "eth_type(0x0800),ipv4(src=0.0.0.0/0.0.0.0,dst=10.0.0.0/255.0.0.0,proto=0/0,tos=0/0,"
        "ttl=0/0,frag=no)")
    # An all-wildcarded eth() still says "Ethernet" when packet_type is absent.
    assert format_flow(parse_flow("in_port(1),eth()")) == "in_port(1),eth()"
    assert format_flow(parse_flow("in_port(1),packet_type(ns=0,id=0),eth()")) == \
        "in_port(1),packet_type(ns=0,id=0)"


def test_flags_and_prefix_masks_parse():
    attrs = parse_flow("tcp_flags(syn|ack),ct_state(+trk-inv),ipv4(src=10.0.0.0/8,frag=no)")
    assert attrs[0][1:] == (0x012, 0xfff)
    assert attrs[1][1:] == (0x20, 0x30)
    assert (attrs[2][1]["src"], attrs[2][2]["src"]) == (0x0a000000, 0xff000000)
    assert format_flow(attrs) == "tcp_flags(syn|ack),ct_state(-inv+trk)," \
        "ipv4(src=10.0.0.0/255.0.0.0,frag=no)"


@pytest.mark.parametrize("bad", [
    "in_port(1", "in_port(1))", "bogus(1)", "eth(src=1:2:3)", "ipv4(src=10.0.0.300)",
    "ipv4(frag=maybe)", "ipv4(sauce=1)", "in_port(1),in_port(2)", "tcp_flags(+syn+bogus)",
    "vlan(vid=1,pcp=0,dei=1)", "in_port(x)", "eth,", "ipv6(src=2001::g)",
])
def test_bad_flow_text_is_a_value_error(bad):
    with pytest.raises(ValueError):
        parse_flow(bad)


def _samples():
    return [
        b.icmp_packet(M1, M2, "10.0.0.1", "10.0.0.2"),
        b.tcp_packet(M1, M2, "10.0.0.1", "10.0.0.2", 1, 2, vlans=[(0x8100, 7)]),
        b.tcp_packet(M1, M2, "10.0.0.1", "10.0.0.2", 1, 2,
                     vlans=[(0x88a8, 5), (0x8100, 7)]),
        b.udp_packet(M1, M2, "2001::1", "2001::2", 1, 2),
        b.arp_packet(1, M1, "10.0.0.1", M2, "10.0.0.2"),
        b.nd_ns_packet(M1, "2001::1", "2001::2"),
        b.eth(M2, M1, 60, b"\x42\x42\x03" + bytes(40)),
    ]


@pytest.mark.parametrize("pkt", _samples())
def test_flow_key_flow_round_trip(pkt):
    flow = flow_extract(pkt, 4, metadata={"recirc_id": 3, "ct_state": 0x21})
    key = flow_to_key(flow)
    back, mask = key_to_flow(parse_flow(format_flow(key, verbose=True)))
    for member, value in flow.items():
        assert back.get(member, 0) == value, member
        assert mask[member], member


MEMBERS = sorted({m for ms in STRUCT_MEMBERS.values() for m in ms.values()}
                 | set(SCALAR_MEMBERS.values()))


@given(st.sampled_from(_samples()),
       st.dictionaries(st.sampled_from(MEMBERS), st.integers(0, 2**128 - 1), max_size=8))
@settings(max_examples=80)
def test_megaflow_text_round_trip(pkt, raw_mask):
    flow = flow_extract(pkt, 1)
    mask = {m: v & ((1 << STORAGE[m]) - 1) for m, v in raw_mask.items()}
    mask["ct_state"] = mask.get("ct_state", 0) & 0xff   # OVS names only these bits
    mask["tcp_flags"] = mask.get("tcp_flags", 0) & 0xfff  # the key's 12 bits
    mask.update(dl_type=0xffff, in_port=0xffffffff, nw_frag=3)
    text = format_flow(flow_to_key(flow, mask))
    assert format_flow(parse_flow(text)) == text


# --- actions ---------------------------------------------------------------------------------

ACTION_TEXTS = [
    "drop", "1,2", "push_vlan(vid=10,pcp=3)", "push_vlan(tpid=0x88a8,vid=10,pcp=3,cfi=0)",
    "pop_vlan", "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=1,tos=0,ttl=3,frag=no))",
    "set(ipv4(ttl=63)),pop_vlan,2", "set(eth(src=00:00:00:00:00:09)),2",
    "ct(commit,zone=1,mark=0x1/0xff,nat(src=1.1.1.1-1.1.1.2:10-20,random))",
    "ct(nat(dst=[2001::1]-[2001::2]:80))", "clone(push_vlan(vid=1,pcp=0),1)",
    "sample(sample=50.0%,actions(1))", "check_pkt_len(size=200,gt(2),le(1))",
    "userspace(pid=0,slow_path(cfm))",
    "userspace(pid=4294967295,controller(reason=1,dont_send=0,continuation=0,recirc_id=1,"
    "rule_cookie=0x12,controller_id=0,max_len=65535))",
    "userspace(pid=1,userdata(0102030405060708090a),actions,tunnel_out_port=3)",
    "tnl_pop(4789)", "ct_clear", "trunc(100)", "meter(0)",
]


@pytest.mark.parametrize("text", ACTION_TEXTS)
def test_action_text_round_trip(text):
    assert format_actions(parse_actions(text)) == text


def test_what_ovs_prints_but_does_not_parse():
    # OVS prints these forms and (its own parser) refuses them; so does pyovs.
    assert format_actions(parse_actions("recirc(100)")) == "recirc(0x64)"
    assert format_actions(parse_actions("check_pkt_len(size=9,gt(),le())")) == \
        "check_pkt_len(size=9,gt(drop),le(drop))"
    assert format_actions(parse_actions("userspace(pid=0,slow_path(action|cfm))")) == \
        "userspace(pid=0,slow_path(cfm,action))"
    assert format_actions(parse_actions("")) == "drop"
    assert format_actions(parse_actions("clone(drop)")) == "clone(drop)"
    assert format_flow(parse_flow("")) == "<empty>"


def test_action_values():
    acts = parse_actions("3,push_vlan(vid=10,pcp=3),set(ipv4(ttl=9)),set(tcp(src=5))")
    assert acts[0] == ("output", 3)
    assert acts[1] == ("push_vlan", (0x8100, 10 | 3 << 13 | 0x1000))
    name, (attr, value, mask) = acts[2]
    assert (name, attr, value["ttl"], mask["ttl"], mask["src"]) == ("set", "ipv4", 9, 0xff, 0)
    assert acts[3] == ("set", ("tcp", {"src": 5, "dst": 0}, {"src": 0xffff, "dst": 0}))
    assert format_actions([]) == "drop"
    assert format_actions([("output", 1)], port_names={1: "p1"}) == "p1"


def test_tnl_push_header_bytes():
    text = ("header(size=50,type=4,eth(dst=aa:55:aa:55:00:00,src=aa:55:aa:55:00:01,"
            "dl_type=0x0800),ipv4(src=1.1.2.88,dst=1.1.2.92,proto=17,tos=0,ttl=64,"
            "frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x7b))")
    kind, data = tnl_header_parse(text)
    assert kind == TNL_TYPE_VXLAN and len(data) == 50
    assert csum(data[14:34]) == 0                     # a valid IPv4 header checksum
    assert struct.unpack_from("!HH", data, 34) == (0, 4789)
    assert struct.unpack_from("!II", data, 42) == (0x08000000, 0x7b << 8)
    assert tnl_header_format(kind, data) == text


@pytest.mark.parametrize("bad", [
    "1,drop", "drop,1", "clone(1,drop)", "recirc(4294967296)", "push_vlan(vid=1",
    "userspace(pid=0,slow_path(bogus))", "userspace(pid=x)", "ct(zone=1,frob)",
    "ct(nat(src=1.1.1.1-[2001::1]))", "sample(sample=200%,actions(1))",
    "check_pkt_len(size=1,gt(1))", "set(bogus(1))", "tnl_pop(-1)", "output(1)",
    "tnl_push(tnl_port(1),header(size=1,type=4),out_port(2))", "userspace(pid=0,userdata(zz))",
])
def test_bad_action_text_is_a_value_error(bad):
    with pytest.raises(ValueError):
        parse_actions(bad)


_ALPHABET = "()0123456789,=/:.abcdefilnoprstuvx[]{}-+|%"


@given(st.text(alphabet=_ALPHABET, max_size=60))
@settings(max_examples=300)
def test_random_text_never_raises_anything_but_value_error(text):
    for parse in (parse_actions, parse_flow):
        try:
            parse(text)
        except ValueError:
            pass


@given(st.sampled_from(ACTION_TEXTS + FLOW_TEXTS[:4]), st.integers(0, 200), st.text(
    alphabet=_ALPHABET, max_size=4))
@settings(max_examples=300)
def test_mutated_text_never_raises_anything_but_value_error(text, at, insert):
    at %= len(text) + 1
    mutated = text[:at] + insert + text[at + len(insert):]
    for parse in (parse_actions, parse_flow):
        try:
            parse(mutated)
        except ValueError:
            pass


def test_text_length_is_bounded():
    with pytest.raises(ValueError):
        parse_actions(",".join(["1"] * (lex.MAX_TEXT // 2 + 1)))
    deep = "clone(" * 40 + "1" + ")" * 40
    with pytest.raises(ValueError):
        parse_actions(deep)


TUNNEL_TEXTS = [
    "tunnel(tun_id=0x7b/0xff,src=1.1.2.92,dst=1.1.2.88/255.255.255.0,tos=0x3,ttl=64,"
    "tp_src=1234/0xff00,tp_dst=4789,flags(-df+csum+key)),in_port(2)",
    "tunnel(ipv6_src=2001::1,ipv6_dst=2001::2,ttl=64,tp_dst=6081,geneve({class=0xffff,"
    "type=0x80,len=4,0xa/0xf}{class=0x3,type=0x4/0xf,len=0}),flags(-df+csum)),in_port(3)",
    "tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,ttl=64,vxlan(gbp(id=10/0xff,flags=0x1/0x3)),"
    "flags(+key)),in_port(5)",
    "tunnel(src=1.1.1.1,dst=2.2.2.2,ttl=64,geneve({})),in_port(15)",
]


@pytest.mark.parametrize("text", TUNNEL_TEXTS)
def test_tunnel_text_round_trip(text):
    assert format_flow(parse_flow(text)) == text


def test_tunnel_flow_members():
    flow, mask = key_to_flow(parse_flow(TUNNEL_TEXTS[2]))
    assert (flow["tun_id"], flow["tun_src"], flow["tun_dst"], flow["tun_ttl"]) == (
        5, 0x01010101, 0x02020202, 64)
    assert (flow["tun_gbp_id"], mask["tun_gbp_id"]) == (10, 0xff)
    assert flow["tun_flags"] & 8 and mask["tun_flags"] & 8      # the key flag
    text = format_flow([a for a in flow_to_key(flow, mask) if a[0] != "packet_type"])
    assert text == TUNNEL_TEXTS[2] + ",eth()"     # the datapath carries Ethernet
    for t in (TUNNEL_TEXTS[1], TUNNEL_TEXTS[3]):     # Geneve options, raw in tun_geneve
        flow, mask = key_to_flow(parse_flow(t))
        assert "tun_geneve" in flow
        assert format_flow([a for a in flow_to_key(flow, mask)
                            if a[0] != "packet_type"]) == t + ",eth()"


def test_tunnel_in_set_action_is_printed_whole():
    text = "set(tunnel(tun_id=0x0,dst=1.1.1.1,ttl=64,flags(0)))"
    assert format_actions(parse_actions(text)) == \
        "set(tunnel(tun_id=0x0,dst=1.1.1.1,ttl=64,flags(key)))"
