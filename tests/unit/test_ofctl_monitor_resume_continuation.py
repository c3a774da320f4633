"""Continuations (openflow/continuation.py): the NXPINT_CONTINUATION
property round-trips through NXT_PACKET_IN2 in every version, unroll_xlate
markers travel as table/cookie properties, and the decoder survives random
bytes.  The bytes against the real switch and tool:
tests/interop/test_ofctl_monitor_resume.py."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import async_msgs as A
from pyovs.openflow import messages as M
from pyovs.openflow.actions import parse_actions
from pyovs.openflow.ofp_actions import decode_action_list, encode_action_list
from pyovs.openflow.continuation import (Continuation, UnrollXlate,
                                         decode_continuation, is_resume)
from pyovs.openflow.errors import DecodeError, OFPError
from pyovs.openflow.match import Match
from pyovs.ofproto.connmgr import encode_packet_in2


def _cont(version):
    acts = parse_actions("resubmit(,2),mod_nw_tos:8")
    acts += [UnrollXlate(3, 0x77)] + parse_actions("output:2")
    acts += [UnrollXlate(0, 0)] + parse_actions("controller,output:1")
    return Continuation(bytes(range(16)), acts, parse_actions("output:3"),
                        odp_port=4)


def test_round_trip_in_packet_in2():
    for version in (M.OFP10, M.OFP13, M.OFP15):
        cont = _cont(version)
        match = Match()
        match.set_storage("reg0", 5)
        pin = A.PacketIn(b"\x01" * 60, 1, 1, table_id=2, cookie=9,
                         match=match, userdata=b"\x01\x02", continuation=cont)
        back = A.decode_packet_in2(encode_packet_in2(version, pin))
        assert back.userdata == b"\x01\x02" and back.match.value("reg0") == 5
        c = back.continuation
        # decoding puts a marker before each action list, the first one
        # included (where nothing was set: table 0, cookie 0)
        def wire(text):         # the actions as VERSION carries them
            return [x.format() for x in decode_action_list(
                encode_action_list(parse_actions(text), version), version)]
        assert [a.format() for a in c.actions] == (
            ["unroll_xlate(table=0, cookie=0)"] + wire("resubmit(,2),mod_nw_tos:8")
            + ["unroll_xlate(table=3, cookie=119)"] + wire("output:2")
            + ["unroll_xlate(table=0, cookie=0)"] + wire("controller,output:1"))
        assert (c.bridge, c.odp_port) == (cont.bridge, 4)
        assert [a.format() for a in c.action_set] == ["output:3"]
        # and again: stable
        assert c.encode(version) == Continuation(
            c.bridge, c.actions, c.action_set, 4).encode(version)
        text = back.format()
        assert " continuation.action_set=output:3" in text
        assert " userdata=01.02" in text


def test_is_resume():
    pin = A.PacketIn(b"\x01" * 14, 1, continuation=_cont(1))
    msg = bytearray(encode_packet_in2(1, pin))
    assert not is_resume(bytes(msg))
    msg[12:16] = struct.pack("!I", 28)
    assert is_resume(bytes(msg))


SEED = _cont(M.OFP13).encode(M.OFP13)[4:]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEED)), st.binary(max_size=12), st.booleans())
def test_decoder_bad_input(at, junk, cut):
    data = SEED[:at] + junk + (b"" if cut else SEED[at + len(junk):])
    try:
        decode_continuation(data, M.OFP13)
    except (DecodeError, OFPError):
        pass
