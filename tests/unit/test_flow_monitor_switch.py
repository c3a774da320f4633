"""Flow monitors in the switch's sans-I/O core (ofproto/ofmonitor.py through
ConnMgr/OFConn), and the request decoder under random input.  The wire
bytes are compared with the real switch's in
tests/interop/test_flow_monitor_switch.py."""

import struct

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.openflow import flow_monitor as FM
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.errors import DecodeError, OFPError
from pyovs.openflow.flow import parse_flow_mod, OFPFC_ADD, OFPFC_DELETE, \
    OFPFC_MODIFY
from pyovs.ofproto.connmgr import ConnMgr, OFConn
from pyovs.ofproto.ofproto import OFProto


def _switch():
    ofp = OFProto("br0", 0x1234)
    for i in (1, 2):
        ofp.add_port(f"p{i}", i)
    ofp.take_events()
    return ConnMgr(ofp)


def _connect(mgr, version):
    c = OFConn(mgr, "test", "service", 0.0)
    mgr.add_conn(c)
    c.receive(M.encode_hello([version], 1), 0.0)
    c.take_output()
    return c


def _flow_mod(conn, text, command=OFPFC_ADD, xid=9):
    fm = parse_flow_mod(text, command)[0]
    proto = P.OF10_STD if conn.version == M.OFP10 else \
        P.from_versions({conn.version})
    conn.receive(M.encode_flow_mod(fm, proto, xid), 0.0)


def _updates(conn):
    out = []
    for msg in M.Framer().feed(conn.take_output()):
        out.append((M.parse_header(msg).xid,
                    [(u.event, u.match and u.match.format(),
                      [a.format() for a in u.actions or []], u.xid)
                     for u in FM.decode_flow_monitor_reply(msg)]))
    return out


def _watch(conn, spec, mid=1, xid=5):
    req = FM.parse_watch(spec)
    req.id = mid
    conn.receive(FM.encode_flow_monitor_request(conn.version, xid, req), 0.0)


def test_initial_then_updates_in_each_form():
    for version in (M.OFP10, M.OFP13, M.OFP14):
        mgr = _switch()
        other = _connect(mgr, version)
        _flow_mod(other, "in_port=1,actions=output:2")
        mon = _connect(mgr, version)
        _watch(mon, "")
        initial = FM.EVENT_INITIAL if version >= M.OFP14 else FM.NXFME_ADDED
        assert _updates(mon) == [(5, [(initial, "in_port=1", ["output:2"], 0)])]
        _flow_mod(other, "tcp,actions=output:1")
        _flow_mod(other, "tcp,actions=output:1", OFPFC_MODIFY)  # no change
        _flow_mod(other, "tcp,actions=drop", OFPFC_MODIFY)
        _flow_mod(other, "", OFPFC_DELETE)
        assert _updates(mon) == [
            (0, [(FM.NXFME_ADDED, "tcp", ["output:1"], 0)]),
            (0, [(FM.NXFME_MODIFIED, "tcp", [], 0)]),
            (0, [(FM.NXFME_DELETED, "in_port=1", ["output:2"], 0),
                 (FM.NXFME_DELETED, "tcp", [], 0)])]


def test_filters_own_changes_and_cancel():
    mgr = _switch()
    mon = _connect(mgr, M.OFP13)
    _watch(mon, "!own,out_port=2,table=0", mid=1)
    _watch(mon, "!initial,udp,!actions", mid=2, xid=6)
    assert [x for x, _ in _updates(mon)] == [5, 6]
    _flow_mod(mon, "tcp,actions=output:2", xid=21)
    _flow_mod(mon, "tcp,actions=output:1", OFPFC_MODIFY, xid=22)  # was on 2
    _flow_mod(mon, "tcp,actions=output:3", OFPFC_MODIFY, xid=23)  # never 2
    _flow_mod(mon, "table=1,udp,actions=output:2", xid=24)
    abbrev = FM.NXFME_ABBREV
    # (monitor 2 keeps "own": its own udp flow in full, without actions)
    assert _updates(mon) == [(0, [(abbrev, None, [], 21)]),
                             (0, [(abbrev, None, [], 22)]),
                             (0, [(FM.NXFME_ADDED, "udp", [], 0)])]
    other = _connect(mgr, M.OFP13)
    _flow_mod(other, "table=1,udp,actions=output:1", xid=31)
    assert _updates(mon) == [(0, [(FM.NXFME_ADDED, "udp", [], 0)])]
    cancel = struct.pack("!BBHIIII", 4, 4, 20, 40, FM.ONF_EXPERIMENTER_ID,
                         FM.ONFT_FLOW_MONITOR_CANCEL, 2)
    mon.receive(cancel, 0.0)
    _flow_mod(other, "table=1,udp,actions=output:2", xid=32)
    assert _updates(mon) == []
    mon.receive(cancel, 0.0)            # twice: unknown now
    (err,) = M.Framer().feed(mon.take_output())
    assert err[1] == M.OFPT_ERROR and M.parse_header(err).xid == 40
    mgr.remove_conn(mon)
    assert mgr.monitors.monitors(mon) == {}


def test_one_message_per_flow_mod_and_expiry_each_alone():
    mgr = _switch()
    mon = _connect(mgr, M.OFP13)
    _watch(mon, "!initial,!add")
    other = _connect(mgr, M.OFP13)
    for i in range(3):
        _flow_mod(other, f"priority={i + 1},idle_timeout=5,ip,actions=drop")
    mon.take_output()
    mgr.run(100.0)                      # all three expire
    got = _updates(mon)
    assert [len(u) for _, u in got] == [1, 1, 1]
    assert all(u[0][0] == FM.NXFME_DELETED for _, u in got)


def test_big_updates_split_with_more_flag():
    updates = [FM.encode_flow_update(M.OFP14, FM.FlowUpdate(
        FM.NXFME_ADDED, match=FM.Match(), actions=[])) for _ in range(3)]
    msgs = FM.encode_flow_monitor_replies(M.OFP14, 0, updates, max_size=70)
    assert [struct.unpack_from("!H", m, 10)[0] for m in msgs] == [1, 1, 0]
    assert sum(len(FM.decode_flow_monitor_reply(m)) for m in msgs) == 3


def test_requests_round_trip():
    for version in (M.OFP10, M.OFP13, M.OFP14, M.OFP15):
        req = FM.parse_watch("table=3,tcp,tp_dst=80,out_port=2,!initial,!own")
        (got,) = FM.decode_flow_monitor_request(
            FM.encode_flow_monitor_request(version, 1, req))
        assert (got.id, got.flags, got.out_port, got.table_id,
                got.match.format()) == (req.id, req.flags, 2, 3,
                                        "tcp,tp_dst=80")


SEEDS = [FM.encode_flow_monitor_request(v, 1, FM.parse_watch(
    "table=3,tcp,out_port=2")) for v in (1, 4, 5)]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.integers(0, 80), st.binary(max_size=8),
       st.booleans())
def test_request_decoder_bad_input(seed, at, junk, fix_length):
    data = bytearray(seed[:at] + junk + seed[at + len(junk):])
    if fix_length and len(data) >= 4:
        data[2:4] = struct.pack("!H", len(data))
    if len(data) < 8 or FM.monitor_message_kind(bytes(data)) != "request":
        return
    try:
        reqs = FM.decode_flow_monitor_request(bytes(data))
    except (DecodeError, OFPError):
        return
    assert all(isinstance(r, FM.FlowMonitorRequest) for r in reqs)


def test_pause_notices():
    for version, text in ((M.OFP14, "\n event=PAUSED"),):
        msg = FM.encode_flow_monitor_pause(version, True)
        assert FM.format_flow_monitor_reply(msg) == text
    msg = FM.encode_flow_monitor_pause(M.OFP10, False)
    assert struct.unpack_from("!II", msg, 8) == (FM.NX_VENDOR_ID,
                                                 FM.NXT_FLOW_MONITOR_RESUMED)


def test_backlog_pauses_and_resume_refreshes():
    mgr = _switch()
    mon = _connect(mgr, M.OFP10)
    _watch(mon, "!initial")
    other = _connect(mgr, M.OFP10)
    _flow_mod(other, "tcp,actions=output:1")
    mon.take_output()
    mon.backlog = 200000                # the shell could not write it
    _flow_mod(other, "udp,actions=output:1")
    msgs = M.Framer().feed(mon.take_output())
    assert struct.unpack_from("!I", msgs[-1], 12)[0] == \
        FM.NXT_FLOW_MONITOR_PAUSED
    _flow_mod(other, "icmp,actions=output:1")       # not heard of now
    _flow_mod(other, "tcp", OFPFC_DELETE)           # heard of: deleted
    assert [u for _, u in _updates(mon)] == [
        [(FM.NXFME_DELETED, "tcp", ["output:1"], 0)]]
    mgr.run(1.0)
    assert mon.take_output() == b""      # still backed up
    mon.backlog = 0
    mgr.run(2.0)
    msgs = M.Framer().feed(mon.take_output())
    assert [u.match.format() for u in FM.decode_flow_monitor_reply(msgs[0])] \
        == ["icmp"]
    assert struct.unpack_from("!I", msgs[1], 12)[0] == \
        FM.NXT_FLOW_MONITOR_RESUMED
