"""The switch-side reply encoders decode back to what was encoded."""

import pytest

from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow import switch_replies as R
from pyovs.openflow.flow import parse_flow_mod, FlowStats

PORTS = [M.PhyPort(1, 0xaa55aa55000f, "p1", 0, 4, 0x802, 0x2820, 0x282f, 0,
                   1000000, 10000000),
         M.PhyPort(0xfffe, 0x6e03db8d7e4d, "br0", 1, 1, 0, 0, 0, 0, 0, 0)]


def sample_flows():
    flows = []
    for i, text in enumerate(["priority=5,in_port=1,actions=drop",
                              "table=2,idle_timeout=5,ip,nw_src=1.2.3.4,actions=output:2",
                              "cookie=0x9,tcp,tp_dst=80,actions=NORMAL"]):
        fm, _ = parse_flow_mod(text)
        flows.append(FlowStats(table_id=fm.table_id % 255, duration_sec=3,
                               duration_nsec=5000000, priority=fm.priority,
                               idle_timeout=fm.idle_timeout, cookie=fm.new_cookie,
                               packet_count=i, byte_count=100 * i, match=fm.match,
                               actions=fm.actions))
    return flows


@pytest.mark.parametrize("version", [1, 4])
def test_features_and_ports_roundtrip(version):
    f = M.SwitchFeatures(0x1234, 0, 254, 0, 0x4f, 0xfff if version == 1 else 0, PORTS)
    back = M.decode_features_reply(R.encode_features_reply(version, 2, f))
    assert back.datapath_id == 0x1234 and back.n_tables == 254
    if version == 1:
        assert [p.name for p in back.ports] == ["p1", "br0"]
    msg = R.encode_port_desc_reply(4, 3, PORTS)
    _t, _f, body = M.decode_stats_reply(msg)
    assert M.decode_ports(body, 4) == PORTS


@pytest.mark.parametrize("protocol", [P.OF10_STD, P.OF10_NXM, P.OF13_OXM,
                                      P.OF15_OXM])
def test_flow_stats_roundtrip(protocol):
    flows = sample_flows()
    back = M.decode_flow_stats_reply(R.encode_flow_stats_reply(protocol, 9, flows))
    assert [(f.table_id, f.priority, f.cookie, f.packet_count, f.match.format())
            for f in back] == [(f.table_id, f.priority, f.cookie, f.packet_count,
                                f.match.format()) for f in flows]
    if protocol != P.OF15_OXM:
        assert M.decode_aggregate_reply(R.encode_aggregate_reply(protocol, 1, 5, 6, 7)) == (5, 6, 7)


def test_error_quotes_request_and_uses_vendor_form_in_of10():
    req = M.encode_simple(1, M.OFPT_ECHO_REQUEST, 8, b"xy")
    assert M.decode_error(R.encode_error(1, 8, "OFPBRC_BAD_LEN", req)) == ("OFPBRC_BAD_LEN", req)
    # OFPBAC_BAD_OUT_GROUP does not exist in 1.0: OVS sends it as a
    # Nicira vendor error.
    msg = R.encode_error(1, 8, "OFPBAC_BAD_OUT_GROUP", req)
    assert msg[8:10] == b"\xb0\xc2"
    assert M.decode_error(msg) == ("OFPBAC_BAD_OUT_GROUP", req)
    assert M.decode_error(R.encode_error(4, 8, "OFPBAC_BAD_OUT_GROUP", req))[0] == "OFPBAC_BAD_OUT_GROUP"


@pytest.mark.parametrize("version", [1, 4])
def test_malformed_request_gets_named_error_with_the_bytes(version):
    """Bad input is normal input: a flow_mod with a broken match or action
    is answered with the OpenFlow error for it, quoting the request."""
    from pyovs.openflow.errors import DecodeError
    fm, _ = parse_flow_mod("reg0=5,tcp,actions=output:1")
    protocol = P.OF10_NXM if version == 1 else P.OF13_OXM
    good = M.encode_flow_mod(fm, protocol, 77)
    seen = set()
    for pos in range(8, len(good)):
        bad = bytearray(good)
        bad[pos] ^= 0xff
        bad = bytes(bad)
        try:
            M.decode_flow_mod(bad)
            continue
        except DecodeError as exc:
            reply = R.encode_decode_error(bad, exc)
        name, quoted = M.decode_error(reply)
        assert M.parse_header(reply).xid == 77
        assert quoted == bad
        seen.add(name)
    assert any(n.startswith("OFPBMC_") for n in seen)
    assert any(n.startswith("OFPBAC_") for n in seen)


def test_table_features_reply_parts():
    import struct as _s
    from pyovs.openflow.table_features import (encode_table_features_replies,
                                               headers_for, MATCH)
    for version in (4, 5, 6):
        parts = encode_table_features_replies(version, 9, 254)
        assert all(len(p) <= 0xffff for p in parts)
        flags = [_s.unpack_from("!H", p, 10)[0] for p in parts]
        assert flags == [1] * (len(parts) - 1) + [0]
        ids = []
        for p in parts:
            ofs = 16
            while ofs < len(p):
                length, tid = _s.unpack_from("!HB", p, ofs)
                ids.append(tid)
                ofs += length
            assert ofs == len(p)
        assert ids == list(range(254))
    # OpenFlow 1.5 spells the ONF experimenter fields as standard OXM.
    assert b"ONF\0" in MATCH and b"ONF\0" not in headers_for(6, MATCH)
    assert len(headers_for(6, MATCH)) == len(MATCH) - 8
