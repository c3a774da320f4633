"""OpenFlow 1.4+ async config properties and OpenFlow 1.3 bundles (ONF
extension 2300): encodings equal the bytes Debian's OVS 3.1 sent (the
real switch's get-async reply; the real ovs-ofctl's bundle messages,
captured through a proxy), decoders refuse bad input with OVS's errors and
take any bytes."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import messages as M
from pyovs.openflow import ofp_print
from pyovs.openflow import protocols as P
from pyovs.openflow import switch_replies as SR
from pyovs.openflow.errors import DecodeError, OFPError, Unsupported
from pyovs.openflow.flow import parse_flow_mod
from pyovs.openflow.requests import decode_request

# The real switch's OFPT_GET_ASYNC_REPLY (OF1.4) with OVS's defaults.
REAL_ASYNC14 = ("051b0068000000510000000800000000000100080000003b0002000800000007"
                "00030008000000070004000800000000000500080000003f0006000800000000"
                "000700080000000000080008000000000009000800000000000a000800000000"
                "000b000800000000")
REAL_ASYNC13 = "041b002000000051000000030000000000000007000000070000000f00000000"
DEFAULT_MASTER = {"packet_in": 0x3b, "port_status": 7, "flow_removed": 0x3f,
                  "role_status": 0, "table_status": 0, "requestforward": 0}
DEFAULT_SLAVE = {"packet_in": 0, "port_status": 7, "flow_removed": 0,
                 "role_status": 0, "table_status": 0, "requestforward": 0}
# `ovs-ofctl -O OpenFlow13 --bundle add-flows` (open, one add, commit) and
# the real switch's error for a failed commit.
REAL_OPEN = "04040018000000084f4e4600000008fc0000000000000003"
REAL_ADD = ("04040058000000064f4e4600000008fd0000000000000003040e0040000000060000"
            "00000000000000000000000000000000000000000003ffffffffffffffffffffffff"
            "000000000001000a80000a020800000000000000")
REAL_COMMIT = "040400180000000a4f4e4600000008fc0000000000040003"
REAL_COMMIT_ERROR = ("0401002800000009ffff09094f4e460004040018000000094f4e4600000008fc"
                     "0000000000040003")


def test_get_async_replies_as_real():
    for version, real in ((M.OFP14, REAL_ASYNC14), (M.OFP13, REAL_ASYNC13)):
        body = M.encode_async_config(version, DEFAULT_MASTER, DEFAULT_SLAVE)
        assert M._msg(version, 27, 0x51, body).hex() == real
    assert M.decode_async_props(bytes.fromhex(REAL_ASYNC14)[8:]) == (
        DEFAULT_MASTER, DEFAULT_SLAVE)


def test_set_async_decodes_what_it_names():
    body = struct.pack("!HHIHHI", 1, 8, 1, 8, 8, 0x10)
    req = decode_request(M._msg(M.OFP15, 28, 7, body))
    assert (req.kind, req.fields) == ("set_async", dict(
        master={"packet_in": 1}, slave={"table_status": 0x10}))


def _error(body):
    try:
        decode_request(M._msg(M.OFP14, 28, 1, body))
    except DecodeError as e:
        return e.name
    raise AssertionError("decoded")


def test_bad_set_async_gets_ovs_errors():
    assert _error(struct.pack("!HHI", 0x20, 8, 1)) == "OFPACFC_UNSUPPORTED"
    assert _error(struct.pack("!HHI", 1, 8, 1 << 6)) == "OFPACFC_INVALID"
    assert _error(struct.pack("!HHI", 9, 8, 1)) == "OFPACFC_INVALID"
    assert _error(struct.pack("!HHII", 1, 12, 1, 0)) == "OFPBRC_BAD_LEN"
    assert _error(struct.pack("!HH", 1, 8)) == "OFPBRC_BAD_LEN"
    assert _error(struct.pack("!HH4x", 1, 4)) == "OFPBPC_BAD_LEN"
    assert _error(struct.pack("!HHI", 0xffff, 8, 1)) == "OFPBPC_BAD_LEN"


def test_openflow13_bundle_messages_as_real():
    assert M.encode_bundle_control(M.OFP13, 8, 0, M.OFPBCT_OPEN_REQUEST).hex() == REAL_OPEN
    assert M.encode_bundle_control(M.OFP13, 10, 0, M.OFPBCT_COMMIT_REQUEST).hex() \
        == REAL_COMMIT
    fm, _ = parse_flow_mod("priority=3,ip,actions=drop")
    add = M.encode_bundle_add(0, M.encode_flow_mod(fm, P.OF13_OXM, 6))
    assert add.hex() == REAL_ADD
    req = decode_request(add)
    assert (req.kind, req.fields["bundle_id"]) == ("bundle_add", 0)
    assert req.encode() == add
    ctl = decode_request(bytes.fromhex(REAL_COMMIT))
    assert ctl.kind == "bundle_control" and ctl.fields["type"] == M.OFPBCT_COMMIT_REQUEST
    assert ofp_print.to_string(bytes.fromhex(REAL_COMMIT)) == (
        "ONFT_BUNDLE_CONTROL (OF1.3) (xid=0xa):\n"
        " bundle_id=0 type=COMMIT_REQUEST flags=atomic ordered")


def test_openflow13_bundle_errors_are_onf_experimenter_errors():
    commit = bytes.fromhex(REAL_COMMIT_ERROR)[16:]
    wire = SR.encode_error(M.OFP13, 9, "OFPBFC_MSG_FAILED", commit)
    assert wire.hex() == REAL_COMMIT_ERROR
    assert M.decode_error(wire)[0] == "OFPBFC_MSG_FAILED"
    assert M.decode_error(SR.encode_error(M.OFP14, 9, "OFPBFC_MSG_FAILED"))[0] \
        == "OFPBFC_MSG_FAILED"


def test_bundles_need_openflow13():
    for version in (M.OFP10, M.OFP12):
        try:
            M.encode_bundle_control(version, 1, 0, M.OFPBCT_OPEN_REQUEST)
        except Unsupported:
            continue
        raise AssertionError(version)


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=64))
def test_fuzzed_async_props_decode_or_fail_cleanly(body):
    try:
        master, slave = M.decode_async_props(body)
    except DecodeError:
        return
    again = M.encode_async_config(M.OFP14, dict(DEFAULT_MASTER, **master),
                                  dict(DEFAULT_SLAVE, **slave))
    assert M.decode_async_props(again) == (dict(DEFAULT_MASTER, **master),
                                           dict(DEFAULT_SLAVE, **slave))


@SETTINGS
@given(st.sampled_from([REAL_OPEN, REAL_ADD, REAL_COMMIT]),
       st.lists(st.tuples(st.integers(4, 90), st.integers(0, 255)), max_size=5),
       st.integers(0, 60))
def test_fuzzed_bundle_messages_decode_or_fail_cleanly(base, edits, cut):
    data = bytearray(bytes.fromhex(base))
    for pos, val in edits:
        if pos < len(data):
            data[pos] = val
    data = data[:max(8, len(data) - cut)]
    data[2:4] = struct.pack("!H", len(data))
    try:
        decode_request(bytes(data))
    except (DecodeError, OFPError, Unsupported):
        pass
    assert isinstance(ofp_print.to_string(bytes(data)), str)
