"""Groups in OpenFlow 1.0 (OVS's Nicira extensions): encodings equal the
bytes Debian's ovs-ofctl 3.1 sent (captured with a listening socket),
decoding gives back the same group, and the decoders take any bytes."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import groups as G
from pyovs.openflow import messages as M
from pyovs.openflow import ofp_print
from pyovs.openflow import switch_replies as SR
from pyovs.openflow.errors import DecodeError, OFPError, Unsupported
from pyovs.openflow.requests import decode_request

# What `ovs-ofctl -O OpenFlow10 CMD unix:SOCK ARG` sent (xid 6 or 2).
REAL = {
    ("add", "group_id=1,type=all,bucket=output:1,bucket=output:2"):
        "0104004000000006000023200000001f000000000000000100200000ffffffff0010"
        "000800000000000000080001000000100008000000010000000800020000",
    ("mod", "group_id=1,type=all,bucket=output:3"):
        "0104003000000006000023200000001f000100000000000100100000ffffffff0010"
        "0008000000000000000800030000",
    ("del", ""):
        "0104002000000006000023200000001f00020000fffffffc00000000ffffffff",
    ("insert", "group_id=1,command_bucket_id=last,bucket=output:4"):
        "0104003000000006000023200000001f000300000000000100100000fffffffe0010"
        "0008000000000000000800040000",
    ("remove", "group_id=1,command_bucket_id=first"):
        "0104002000000006000023200000001f000500000000000100000000fffffffd",
}
COMMANDS = {"add": G.OFPGC_ADD, "mod": G.OFPGC_MODIFY, "del": G.OFPGC_DELETE,
            "insert": G.OFPGC15_INSERT_BUCKET, "remove": G.OFPGC15_REMOVE_BUCKET}
# The real switch's replies (NXST_GROUP_DESC, NXST_GROUP_FEATURES).
REAL_DESC = ("0111004800000002ffff00000000232000000008000000000030000000000001"
             "0020000000000000001000080000000000000008000100000010000800000001"
             "0000000800020000")
REAL_FEATURES = ("0111004000000002ffff00000000232000000009000000000000000f000000"
                 "07ffffff00ffffff00ffffff00ffffff0000000fff00000fff00000fff0000"
                 "0fff")


def test_group_mods_encode_as_real_and_decode_back():
    for (cmd, text), hexmsg in REAL.items():
        gm = G.parse_group(text, COMMANDS[cmd])
        wire = gm.encode(M.OFP10, 6)
        assert wire.hex() == hexmsg, (cmd, text)
        back = G.decode_group_mod(wire)
        assert back.encode(M.OFP10, 6) == wire
        req = decode_request(wire)
        assert req.kind == "group_mod" and req.encode() == wire
        assert M.type_name(wire) == "NXT_GROUP_MOD"


def test_requests_as_real():
    assert G.encode_group_desc_request(M.OFP10, 2).hex() == (
        "0110002000000002ffff0000000023200000000800000000fffffffc00000000")
    assert G.encode_group_stats_request(M.OFP10, 6).hex() == (
        "0110002000000006ffff0000000023200000000700000000fffffffc00000000")
    assert G.encode_group_features_request(M.OFP10, 2).hex() == (
        "0110001800000002ffff0000000023200000000900000000")
    req = decode_request(G.encode_group_desc_request(M.OFP10, 2, 7))
    assert (req.kind, req.fields) == ("group_desc", {"id": 7})
    req = decode_request(G.encode_group_stats_request(M.OFP10, 2, 9))
    assert (req.kind, req.fields) == ("group_stats", {"id": 9})
    assert decode_request(G.encode_group_features_request(M.OFP10, 2)).kind == \
        "group_features"


def test_switch_replies_as_real():
    gm = G.parse_group("group_id=1,type=all,bucket=output:1,bucket=output:2")
    assert G.encode_group_desc_reply(M.OFP10, 2, [gm.group]).hex() == REAL_DESC
    assert G.encode_group_features_reply(M.OFP10, 2).hex() == REAL_FEATURES
    text = ofp_print.to_string(bytes.fromhex(REAL_DESC))
    assert text == ("NXST_GROUP_DESC reply (xid=0x2):\n group_id=1,type=all,"
                    "bucket=bucket_id:0,actions=output:1,bucket=bucket_id:1,"
                    "actions=output:2")
    feats = ofp_print.to_string(bytes.fromhex(REAL_FEATURES)).splitlines()
    assert feats[6] == ("       actions: output enqueue set_vlan_vid set_vlan_pcp "
                        "strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst "
                        "mod_nw_tos mod_tp_src mod_tp_dst")
    stats = [dict(group_id=1, ref_count=0, packets=3, bytes=180,
                  duration=(2, 500000000), buckets=[(1, 60), (2, 120)])]
    wire = SR.encode_group_stats_reply(M.OFP10, 6, stats)
    assert M.type_name(wire) == "NXST_GROUP reply"
    assert ofp_print.to_string(wire).splitlines()[1] == (
        " group_id=1,duration=2.500s,ref_count=0,packet_count=3,byte_count=180,"
        "bucket0:packet_count=1,byte_count=60,bucket1:packet_count=2,byte_count=120")


def test_truncated_group_mod_is_bad_len():
    wire = bytes.fromhex(REAL[("add", "group_id=1,type=all,bucket=output:1,bucket=output:2")])
    for cut in (20, 30, 40, 50):
        short = wire[:2] + struct.pack("!H", cut) + wire[4:cut]
        try:
            decode_request(short)
        except DecodeError as e:
            assert e.type in (1, 6)
        else:
            raise AssertionError(f"{cut} bytes decoded")


SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.sampled_from(sorted(REAL.values()) + [REAL_DESC, REAL_FEATURES]),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6),
       st.integers(0, 200))
def test_fuzzed_messages_decode_or_fail_cleanly(base, edits, cut):
    data = bytearray(bytes.fromhex(base))
    for pos, val in edits:
        if 4 <= pos < len(data):
            data[pos] = val
    data = bytes(data[:max(8, len(data) - cut)])
    data = data[:2] + struct.pack("!H", len(data)) + data[4:]
    try:
        decode_request(data)
    except (DecodeError, OFPError, Unsupported):
        pass
    text = ofp_print.to_string(data)
    assert isinstance(text, str)


@SETTINGS
@given(st.binary(max_size=120), st.sampled_from([M.OFP10, M.OFP11, M.OFP13, M.OFP15]))
def test_fuzzed_group_replies_decode_or_fail_cleanly(body, version):
    for decode in (G.decode_group_desc, G.decode_group_stats):
        try:
            decode(body, version)
        except DecodeError:
            pass
