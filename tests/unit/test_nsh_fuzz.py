"""Bad input is normal input, NSH edition: flow_mods carrying NSH matches,
packet_type, encap/decap and NSH set_field/move, mutated byte by byte,
decode or raise the decoders' own errors in every OpenFlow version; random
encap/decap/packet_type text raises only the flow parser's error; random
bytes never trip the NSH packet functions."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow import ofp_print
from pyovs.openflow.errors import DecodeError, FlowParseError, OFPError, Unsupported
from pyovs.openflow.flow import parse_flow_mod
from pyovs.packet import nsh
from pyovs.packet.flow import flow_extract
from tests.unit.test_openflow_fuzz import _decode_all

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

SEEDS = [
    "in_port=1,dl_type=0x894f,nsh_flags=1/0x3,nsh_ttl=63,nsh_mdtype=1,nsh_np=3,"
    "nsh_spi=0x123456,nsh_si=255,nsh_c1=0x11223344/0xffff,actions=set_field:2->"
    "nsh_flags,load:0x77->nsh_c3[8..15],move:nsh_c1->nsh_c2,move:reg0->nsh_c4,2",
    "in_port=1,ip,actions=encap(nsh(md_type=2,tlv(0x1000,10,0x12345678),"
    "tlv(0x2000,20,0xfedcba9876543210))),set_field:0x1234->nsh_spi,"
    "encap(ethernet),decap(),decap(packet_type(ns=1,type=0x894f)),2",
    "packet_type=(1,0x894f),nsh_spi=5,nsh_si=3,actions=set_field:0x5/0xff->nsh_c1",
]
MESSAGES = []
for _text in SEEDS:
    _fm, _usable = parse_flow_mod(_text)
    for _proto in (P.OF10_NXM, P.OF13_OXM, P.OF15_OXM):
        MESSAGES.append(M.encode_flow_mod(_fm, _proto, 1))


@SETTINGS
@given(st.sampled_from(MESSAGES), st.integers(0, 400), st.integers(0, 255),
       st.integers(0, 400))
def test_mutated_nsh_flow_mods(msg, pos, byte, cut):
    data = bytearray(msg)
    data[pos % len(data)] = byte
    data = bytes(data[:max(8, len(data) - cut % 16)])
    data = data[:2] + struct.pack("!H", len(data)) + data[4:]
    _decode_all(data)
    try:
        ofp_print.to_string(data)
    except (DecodeError, OFPError, Unsupported):
        pass


_WORDS = ["encap", "decap", "nsh", "ethernet", "md_type", "tlv", "packet_type",
          "ns", "type", "0x1000", "10", "0x12", "1", "(", ")", ",", "=",
          "set_field:", "->nsh_spi", "nsh_ttl", "0x894f", "mpls"]


@SETTINGS
@given(st.lists(st.sampled_from(_WORDS), max_size=20))
def test_flow_text_raises_only_its_error(words):
    for prefix in ("actions=", "packet_type="):
        try:
            parse_flow_mod(prefix + "".join(words))
        except FlowParseError:
            pass


@SETTINGS
@given(st.binary(max_size=120), st.integers(0, 0xffffffff))
def test_nsh_packet_functions_take_any_bytes(data, pt):
    frame = bytes(12) + b"\x89\x4f" + data
    flow_extract(frame)
    nsh.extract(data, 0)
    nsh.set_nsh(frame, {"flags": 3, "ttl": 1, "c1": 5}, {"flags": 3, "ttl": 63,
                                                          "c1": 0xff})
    for name, arg in (("pop_nsh", None), ("pop_eth", None),
                      ("push_eth", (1, 2)),
                      ("push_nsh", {"mdtype": 2, "np": 3, "md2": data[:8]})):
        nsh.apply(name, arg, data, pt)
