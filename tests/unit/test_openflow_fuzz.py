"""Bad input is normal input: the OpenFlow decoders and the flow parser,
fed random and mutated data, either succeed or raise their own error."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow import async_msgs as A
from pyovs.openflow.requests import decode_request
from pyovs.openflow.errors import DecodeError, FlowParseError, OFPError, Unsupported
from pyovs.openflow.flow import parse_flow_mod
from pyovs.openflow.nx_match import pull_nxm, pull_ofp10_match, pull_ofp11_match
from pyovs.openflow.ofp_actions import decode_actions
from pyovs.openflow import ofp_print
from pyovs.openflow import tlv_table as TLV
from pyovs.openflow import flow_monitor as FM

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

SEEDS = [
    "in_port=1,dl_vlan=10,ip,nw_src=10.0.0.0/8,tcp,tp_dst=80,actions=mod_vlan_vid:20,output:2",
    "reg0=5,tcp6,ipv6_src=2001:db8::/32,actions=resubmit(,3),load:0x5->NXM_NX_REG2[0..7]",
    "ct_state=+trk,actions=clone(output:1),controller(userdata=01.02),note:aa,dec_ttl(1,2)",
    "tcp,actions=conjunction(1,1/2),note:01",
    "actions=multipath(symmetric_l3l4,5,hrw,3,0,reg0[0..3]),"
    "bundle_load(eth_src,0,hrw,ofport,reg1[],members:1,2),"
    "bundle(nw_src,1,active_backup,ofport,members:3)",
    "actions=sample(probability=5,sampling_port=3,egress),sample(probability=1),"
    "check_pkt_larger(1500)->reg3[31],controller(meter_id=3,userdata=01)",
    "icmp6,icmp_type=136,nd_reserved=1,nd_options_type=2,xxreg1=5,"
    "actions=push_vlan:0x8100,mod_vlan_vid:5,set_field:7->xxreg2",
]


def _seed_messages():
    out = []
    for text in SEEDS:
        fm, usable = parse_flow_mod(text)
        for proto in (P.OF10_STD, P.OF10_NXM, P.OF13_OXM):
            if usable & proto:
                out.append(M.encode_flow_mod(fm, proto, 1))
    return out


def _seed_async():
    from tests.unit.test_openflow_async import samples
    from tests.unit.test_openflow_replies import sample_flows
    from pyovs.openflow import switch_replies as R
    out = [obj.encode(v, 1) for v in (1, 4) for obj, _ in samples(v)]
    out += [A.PacketIn(b"\x01" * 30, 1, 0, 5).encode(v, 2) for v in (1, 4)]
    for proto in (P.OF10_STD, P.OF10_NXM, P.OF13_OXM, P.OF15_OXM):
        out.append(R.encode_flow_stats_reply(proto, 3, sample_flows()))
    return out


def _seed_tlv():
    maps = TLV.parse_tlv_mappings("{class=0xffff,type=0,len=4}->tun_metadata0,"
                                  "{class=1,type=2,len=124}->tun_metadata63")
    table = TLV.TlvTable()
    table.mod(TLV.NXTTMC_ADD, maps)
    return [TLV.encode_tlv_table_mod(v, 3, TLV.NXTTMC_ADD, maps) for v in (1, 4)] + [
        TLV.encode_tlv_table_reply(v, 4, table) for v in (1, 4)]


# Flow monitor replies as the real switch sends them (NX, ONF, OF1.4).
_SEED_MONITOR = [bytes.fromhex(h) for h in (
    "0111004000000006ffff000000002320000000020000000000280000000000050032000000"
    "060000000000000000000500000002000100000000000800020000",
    "0413005800000000ffff0000000000004f4e46000000074e004000010002000600000000000f"
    "000000000000000000000001000f80000a0208008000140106000004001800000000000000"
    "10000000010000000000000000",
    "0513005000000000001000000000000000400002000200000000000600000000000000000000"
    "00000001000f80000a0208008000140106000004001800000000000000100000000100000000"
    "00000000")]
SEED_MESSAGES = _seed_messages() + _seed_async() + _seed_tlv() + _SEED_MONITOR

DECODERS = (M.decode_flow_mod, M.decode_flow_stats_reply, ofp_print.to_string,
            M.decode_hello, M.decode_features_reply, M.decode_error,
            A.decode_packet_in, A.decode_flow_removed, A.decode_port_status,
            A.decode_packet_out, A.decode_port_mod, A.decode_table_mod,
            A.decode_set_config, A.decode_role, M.decode_aggregate_reply,
            M.decode_stats_reply, decode_request, TLV.decode_tlv_table_mod,
            TLV.decode_tlv_table_reply, FM.decode_flow_monitor_reply)


def _decode_all(data):
    for fn in DECODERS:
        try:
            fn(data)
        except (DecodeError, OFPError, Unsupported):
            pass
    for version in (1, 4, 5):
        for fn in (M.decode_ports, M.decode_port_stats, M.decode_table_stats):
            try:
                fn(data[8:], version)
            except (DecodeError, Unsupported):
                pass


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    _decode_all(data)
    for version in (1, 4):
        for fn in (lambda d: pull_nxm(d, version),
                   lambda d: decode_actions(d, version),
                   lambda d: pull_ofp11_match(d, version)):
            try:
                fn(data)
            except (DecodeError, OFPError):
                pass
    try:
        pull_ofp10_match(data)
    except DecodeError:
        pass


@SETTINGS
@given(st.sampled_from(SEED_MESSAGES), st.integers(0, 400), st.integers(0, 255),
       st.integers(0, 400))
def test_mutated_flow_mods(msg, pos, byte, cut):
    data = bytearray(msg)
    if data:
        data[pos % len(data)] = byte
    data = bytes(data[:max(8, len(data) - cut % 16)])
    # Keep the header's length consistent so decoders reach the body.
    data = data[:2] + struct.pack("!H", len(data)) + data[4:]
    _decode_all(data)


@SETTINGS
@given(st.binary(max_size=200))
def test_framer_never_overruns(data):
    fr = M.Framer()
    try:
        for msg in fr.feed(data):
            assert 8 <= len(msg) == struct.unpack_from("!H", msg, 2)[0]
    except DecodeError:
        pass


ALPHABET = st.sampled_from(list("=,:()[]/.->+x0123456789abcdefipnortvl_ ") +
                           ["in_port", "actions", "tcp", "reg0", "output",
                            "resubmit", "load", "move", "set_field", "clone",
                            "NXM_NX_REG0", "nw_src", "dl_vlan", "ct_state"])


@SETTINGS
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_flow_parser_only_raises_its_error(text):
    try:
        parse_flow_mod(text)
    except FlowParseError:
        pass


def _packet_in2_seed():
    from pyovs.ofproto.connmgr import encode_packet_in2
    data = bytes.fromhex("ffffffffffff000000000001080045000014000000004001f96b"
                         "0a0000010a000002")
    return encode_packet_in2(M.OFP13, A.PacketIn(data, in_port=1, reason=1,
                                                 table_id=2, cookie=9))


def test_packet_in2_roundtrip():
    pin = A.decode_packet_in2(_packet_in2_seed())
    assert (pin.in_port, pin.reason, pin.table_id, pin.cookie) == (1, 1, 2, 9)
    text = ofp_print.to_string(_packet_in2_seed())
    assert text.startswith("NXT_PACKET_IN2 (OF1.3) (xid=0x0): table_id=2 "
                           "cookie=0x9 total_len=34 in_port=1 (via action)")
    assert text.endswith("nw_frag=no,icmp_type=0,icmp_code=0")


@SETTINGS
@given(st.data())
def test_packet_in2_and_packet_summary_fuzz(data):
    seed = bytearray(_packet_in2_seed())
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(16, len(seed) - 1))
        seed[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(16, len(seed)))
    msg = bytes(seed[:cut])
    msg = msg[:2] + struct.pack("!H", len(msg)) + msg[4:]
    try:
        A.decode_packet_in2(msg)
    except DecodeError:
        pass
    assert ofp_print.to_string(msg).startswith("NXT_PACKET_IN2")
    from pyovs.openflow.packet_print import packet_to_string
    raw = data.draw(st.binary(max_size=120))
    assert packet_to_string(raw).endswith("\n")
