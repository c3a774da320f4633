"""The field table, flow syntax, matches and actions, and the codecs' round
trips (pure; the real ovs-ofctl comparisons are in tests/interop)."""

import pytest

from pyovs.openflow import fields as F
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.errors import FlowParseError
from pyovs.openflow.flow import (parse_flow_mod, format_flow_mod_body,
                                 OFPFC_ADD, OFPFC_DELETE, OFPFC_MODIFY)
from pyovs.openflow.match import Match
from pyovs.openflow.nx_match import (put_nxm, pull_nxm, put_ofp10_match,
                                     pull_ofp10_match)


# --- the field table -----------------------------------------------------------

def test_names_resolve_to_their_field():
    for fld in F.FIELDS:
        for name in fld.all_names:
            assert F.field_by_name(name) is not None
        assert F.field_by_name(fld.name) is fld


def test_headers_are_unique_and_resolve_back():
    seen = {}
    for fld in F.FIELDS:
        for version in (F.OFP10, F.OFP13, F.OFP15):
            hdr = fld.header(version)
            if hdr is None:
                continue
            cls, code, exp, n = hdr
            assert n == fld.n_bytes
            back = F.field_by_header(cls, code, exp)
            assert back is not None
            key = (cls, code, exp)
            seen.setdefault(key, back.name)
            assert seen[key] == back.name


def test_storage_covers_every_field():
    for fld in F.FIELDS:
        if fld.name.startswith(("xreg", "xxreg")):
            continue
        assert fld.storage in F.STORAGE
        assert fld.shift + fld.n_bits <= F.STORAGE[fld.storage]


def test_known_codes():
    assert F.field_by_name("dl_src").header(F.OFP10)[:2] == (F.NXM_OF, 2)
    assert F.field_by_name("eth_src").header(F.OFP13)[:2] == (F.OXM_OF, 4)
    assert F.field_by_name("reg3").header(F.OFP13)[:2] == (F.NXM_NX, 3)
    assert F.field_by_name("tun_id").header(F.OFP12)[:2] == (F.NXM_NX, 16)
    assert F.field_by_name("tun_id").header(F.OFP13)[:2] == (F.OXM_OF, 38)


# --- flow syntax -------------------------------------------------------------------

# (input, text after "ADD", usable protocols) -- as Debian's ovs-ofctl 3.1
# prints them (tests/interop compares the whole corpus with the real tool).
CASES = [
    ("in_port=1,dl_vlan=10,ip,nw_src=10.0.0.0/8,tcp,tp_dst=80,"
     "actions=mod_vlan_vid:20,output:2",
     " ADD tcp,in_port=1,dl_vlan=10,nw_src=10.0.0.0/8,tp_dst=80 "
     "actions=mod_vlan_vid:20,output:2", "any"),
    ("priority=100,arp,arp_op=1,actions=NORMAL",
     " ADD priority=100,arp,arp_op=1 actions=NORMAL", "any"),
    ("reg0=5,actions=resubmit(,3)", " ADD reg0=0x5 actions=resubmit(,3)",
     "NXM,OXM"),
    ("table=3,in_port=1,actions=drop", " ADD table:3 in_port=1 actions=drop",
     "OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11"),
    ("ip,nw_src=1.0.0.0/255.0.255.0,actions=drop",
     " ADD ip,nw_src=1.0.0.0/255.0.255.0 actions=drop", "NXM,OXM,OpenFlow11"),
    ("ct_state=+trk-new,actions=drop", " ADD ct_state=-new+trk actions=drop",
     "NXM,OXM"),
    ("tcp,tcp_flags=0x012,actions=drop", " ADD tcp,tcp_flags=syn|ack actions=drop",
     "NXM,OXM"),
    ("xreg0=5,actions=drop", " ADD reg0=0,reg1=0x5 actions=drop", "NXM,OXM"),
    ("dl_vlan=0xffff,actions=drop", " ADD vlan_tci=0x0000 actions=drop", "any"),
    ("tp_dst=80,actions=drop", " ADD actions=drop", "any"),
    ("cookie=0x5,idle_timeout=10,hard_timeout=3,send_flow_rem,actions=drop",
     " ADD cookie:0x5 idle:10 hard:3 send_flow_rem actions=drop", "any"),
]


@pytest.mark.parametrize("text,body,usable", CASES)
def test_parse_and_print(text, body, usable):
    """As parse-flow: encode in the lowest usable protocol, decode, print."""
    fm, u = parse_flow_mod(text)
    assert P.to_string(u) == usable
    protocol = next(1 << i for i in range(9) if u & (1 << i))
    msg = M.encode_flow_mod(fm, protocol, 1)
    assert format_flow_mod_body(M.decode_flow_mod(msg), F.OFP10) == body


@pytest.mark.parametrize("text,error", [
    ("foo=1,actions=drop", "unknown keyword foo"),
    ("in_port=1", "must specify an action"),
    ("in_port=abc,actions=drop", "abc: invalid or unknown port for in_port"),
    ("dl_src=zz,actions=drop", "zz: invalid Ethernet address"),
    ("tcp,tp_dst=99999,actions=drop",
     "99999: value too large for 2-byte field tcp_dst"),
    ("priority=70000,actions=drop", 'invalid priority "70000"'),
    ("in_port=1,actions=bogus", "unknown action bogus"),
    ("actions=output:abc", "abc: output to unknown port"),
    ("actions=resubmit:", 'at least one "in_port" or "table" must be '
                          'specified on resubmit'),
    ("cookie=1/1,actions=drop", "flow additions cannot use a cookie mask"),
    ("actions=conjunction(1,2/3),output:1",
     '"conjunction" actions may be used along with "note" but not any other '
     'kind of action (such as the "output" action used here)'),
    ("tcp,actions=set_field:1->vlan_pcp",
     "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"),
])
def test_parse_errors(text, error):
    with pytest.raises(FlowParseError) as e:
        parse_flow_mod(text)
    assert str(e.value) == error


def test_command_keywords():
    with pytest.raises(FlowParseError, match="unknown keyword priority"):
        parse_flow_mod("priority=5", OFPFC_DELETE)
    with pytest.raises(FlowParseError, match="unknown keyword out_port"):
        parse_flow_mod("out_port=1,actions=drop", OFPFC_MODIFY)
    fm, _ = parse_flow_mod("cookie=0x1/-1", OFPFC_DELETE)
    assert fm.cookie_mask == (1 << 64) - 1


def test_dump_flows_output_parses_back():
    line = ("cookie=0x0, duration=1.5s, table=0, n_packets=3, n_bytes=180, "
            "idle_age=1, priority=100,ip,nw_src=10.0.0.0/8 actions=drop")
    fm, _ = parse_flow_mod(line)
    assert fm.priority == 100 and fm.match.format(100) == "priority=100,ip,nw_src=10.0.0.0/8"


# --- codecs ------------------------------------------------------------------------

ROUNDTRIP_FLOWS = [
    "in_port=1,dl_vlan=10,ip,nw_src=10.0.0.0/8,tcp,tp_dst=80,actions=mod_vlan_vid:20,output:2",
    "priority=100,arp,arp_op=1,arp_spa=1.1.1.1,actions=NORMAL,LOCAL,IN_PORT",
    "ip,nw_tos=32,nw_dst=1.2.3.4,actions=mod_nw_src:1.1.1.1,mod_nw_tos:4,CONTROLLER:100",
    "udp,tp_src=53,actions=mod_tp_dst:5353,enqueue:1:2",
    "dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff,actions=mod_dl_dst:00:00:00:00:00:01,FLOOD",
    "actions=strip_vlan,mod_vlan_pcp:3,ALL",
]
NXM_FLOWS = [
    "reg0=5,reg1=0x3/0xf,actions=resubmit(,3),load:0x5->NXM_NX_REG2[0..7]",
    "tcp6,ipv6_src=2001:db8::/32,tcp_flags=+syn-ack,actions=move:NXM_NX_REG0[0..15]->NXM_OF_TCP_DST[]",
    "icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::1,nd_sll=00:00:00:00:00:01,actions=drop",
    "ct_state=+trk+est,ct_zone=5,ct_mark=0x1/0xff,pkt_mark=3,actions=note:01.02.03.04.05.06,exit",
    "tun_id=0x10,tun_src=1.1.1.1,metadata=0x5/0xff,ip,nw_frag=first,nw_ttl=3,nw_ecn=1,actions=dec_ttl,dec_ttl(1,2)",
    "dl_vlan_pcp=3,actions=conjunction(7,1/2)",
    "actions=clone(output:1,set_field:5->reg3),controller(reason=no_match,id=3,userdata=01.02)",
    "tcp,actions=output:NXM_NX_REG0[0..15],set_queue:3,pop_queue,resubmit(1,2,ct)"
    .replace(",resubmit(1,2,ct)", ""),
]


def _print(msg):
    fm = M.decode_flow_mod(msg)
    return format_flow_mod_body(fm, M.parse_header(msg).version)


@pytest.mark.parametrize("text", ROUNDTRIP_FLOWS + NXM_FLOWS)
@pytest.mark.parametrize("protocol", [P.OF10_STD, P.OF10_NXM, P.OF10_NXM_TID,
                                      P.OF13_OXM, P.OF15_OXM])
def test_flow_mod_roundtrip(text, protocol):
    fm, usable = parse_flow_mod(text)
    if not usable & protocol:
        pytest.skip("flow not expressible in this protocol")
    msg = M.encode_flow_mod(fm, protocol, 7)
    again = M.encode_flow_mod(M.decode_flow_mod(msg), protocol, 7)
    assert again == msg
    assert M.parse_header(msg).xid == 7
    text1 = _print(msg)
    text2 = _print(again)
    assert text1 == text2


@pytest.mark.parametrize("text", ROUNDTRIP_FLOWS + NXM_FLOWS)
def test_nxm_match_roundtrip(text):
    fm, _ = parse_flow_mod(text)
    fm.match.normalize()
    for version in (F.OFP10, F.OFP13):
        tlvs = put_nxm(fm.match, version)
        match, _, _ = pull_nxm(tlvs, version)
        assert match.format() == fm.match.format()


@pytest.mark.parametrize("text", ROUNDTRIP_FLOWS)
def test_ofp10_match_roundtrip(text):
    fm, _ = parse_flow_mod(text)
    fm.match.normalize()
    raw = put_ofp10_match(fm.match)
    assert len(raw) == 40
    assert pull_ofp10_match(raw).format() == fm.match.format()


def test_hello_bitmap_only_when_needed():
    assert M.encode_hello([1], 1) == bytes.fromhex("0100000800000001")
    assert len(M.encode_hello([1, 2, 3, 4], 1)) == 8
    assert len(M.encode_hello([4], 1)) == 16
    hello = M.encode_hello([1, 4], 1)
    assert hello == bytes.fromhex("0400001000000001" "0001000800000012")
    assert M.decode_hello(hello) == {1, 4}
    assert M.negotiate([1, 2, 3, 4], hello) == 4
    assert M.negotiate([2], hello) is None


def test_framer_splits_and_bounds():
    fr = M.Framer()
    msg = M.encode_simple(1, M.OFPT_ECHO_REQUEST, 5, b"abc")
    assert fr.feed(msg[:5]) == []
    assert fr.feed(msg[5:] + msg) == [msg, msg]
    with pytest.raises(M.DecodeError):
        M.Framer().feed(b"\x01\x00\x00\x04\x00\x00\x00\x00")


def test_match_views_share_storage():
    m = Match()
    m.set_field(F.field_by_name("dl_vlan"), 10)
    m.set_field(F.field_by_name("dl_vlan_pcp"), 3)
    assert m.format() == "dl_vlan=10,dl_vlan_pcp=3"
    assert m.get("vlan_tci") == (0x1000 | 10 | (3 << 13), 0xffff)
