"""The OpenFlow switch's cores without sockets: OFProto (flow_mod semantics,
timeouts, counters, groups, meters) and OFConn/ConnMgr (negotiation,
requests, roles, probes, async dispatch, bad input)."""

import struct

from hypothesis import given, settings, strategies as st

from pyovs.ofproto.connmgr import ConnMgr, OFConn
from pyovs.ofproto.ofproto import OFProto
from pyovs.openflow import async_msgs as A
from pyovs.openflow import flow as FL
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.errors import OFPError
from pyovs.openflow.match import Match


def fm(text, command=FL.OFPFC_ADD):
    return FL.parse_flow_mod(text, command)[0]


def make(n_ports=2):
    ofp = OFProto("br0", 0x1234, now=0.0)
    for i in range(1, n_ports + 1):
        ofp.add_port(f"p{i}", i)
    ofp.take_events()
    return ofp


def test_add_replaces_identical_and_keeps_counters():
    ofp = make()
    ofp.handle_flow_mod(fm("in_port=1,actions=output:2"), 0)
    (rule,) = ofp.collect_rules(0xff, Match())
    ofp.credit_stats(rule, 3, 300, 1.0)
    ofp.handle_flow_mod(fm("in_port=1,actions=drop"), 2.0)
    (new,) = ofp.collect_rules(0xff, Match())
    assert new is not rule and new.actions == []
    assert (new.packet_count, new.byte_count) == (3, 300)
    ofp.handle_flow_mod(fm("reset_counts,in_port=1,actions=drop"), 3.0)
    (newer,) = ofp.collect_rules(0xff, Match())
    assert (newer.packet_count, newer.byte_count) == (0, 0)


def test_check_overlap_and_bad_table():
    ofp = make()
    ofp.handle_flow_mod(fm("priority=5,in_port=1,actions=drop"), 0)
    try:
        ofp.handle_flow_mod(fm("check_overlap,priority=5,ip,actions=drop"), 0)
    except OFPError as e:
        assert e.name == "OFPFMFC_OVERLAP"
    else:
        raise AssertionError("overlap accepted")
    ofp.handle_flow_mod(fm("check_overlap,priority=6,ip,actions=drop"), 0)
    for table, name in ((254, "OFPBRC_EPERM"),):
        try:
            ofp.handle_flow_mod(fm(f"table={table},actions=drop"), 0)
        except OFPError as e:
            assert e.name == name
        else:
            raise AssertionError("bad table accepted")
    assert len(ofp.collect_rules(0xff, Match())) == 2


def test_modify_keeps_timeouts_and_cookie_rules():
    ofp = make()
    ofp.handle_flow_mod(fm("idle_timeout=10,cookie=0x5,in_port=1,actions=drop"), 0)
    ofp.handle_flow_mod(fm("in_port=2,actions=drop"), 0)
    m = fm("cookie=0x5/-1,actions=output:1", FL.OFPFC_MODIFY)
    ofp.handle_flow_mod(m, 1.0)
    r1 = ofp.collect_rules(0xff, fm("in_port=1", FL.OFPFC_DELETE).match)[0]
    r2 = ofp.collect_rules(0xff, fm("in_port=2", FL.OFPFC_DELETE).match)[0]
    assert r1.idle_timeout == 10 and r1.cookie == 5
    assert [a.port for a in r1.actions] == [1]
    assert r2.actions == []
    # OpenFlow 1.0 modify with a new cookie and no match adds the flow.
    add = fm("in_port=3,actions=drop", FL.OFPFC_MODIFY_STRICT)
    add.new_cookie = 0x9
    ofp.handle_flow_mod(add, 2.0)
    assert len(ofp.collect_rules(0xff, Match())) == 3
    # A 1.1+ modify (new_cookie all-ones) never adds.
    add = fm("in_port=4,actions=drop", FL.OFPFC_MODIFY_STRICT)
    add.new_cookie = (1 << 64) - 1
    ofp.handle_flow_mod(add, 2.0)
    assert len(ofp.collect_rules(0xff, Match())) == 3


def test_delete_filters_and_flow_removed():
    ofp = make()
    ofp.handle_flow_mod(fm("send_flow_rem,in_port=1,actions=output:2"), 0)
    ofp.handle_flow_mod(fm("in_port=2,actions=output:1"), 0)
    ofp.handle_flow_mod(fm("table=3,in_port=2,ip,actions=output:2"), 0)
    c0 = ofp.changed
    d = fm("", FL.OFPFC_DELETE)
    d.out_port = 2
    ofp.handle_flow_mod(d, 5.0)
    left = ofp.collect_rules(0xff, Match())
    assert [(r.table_id, r.match.format()) for r in left] == [(0, "in_port=2")]
    assert ofp.changed > c0
    events = ofp.take_events()
    assert len(events) == 1 and events[0][0] == "flow_removed"
    fr = events[0][1]
    assert fr.reason == 2 and fr.duration_sec == 5
    strict = fm("priority=1,in_port=2", FL.OFPFC_DELETE_STRICT)
    ofp.handle_flow_mod(strict, 6.0)
    assert len(ofp.collect_rules(0xff, Match())) == 1


def test_idle_and_hard_timeouts():
    ofp = make()
    ofp.handle_flow_mod(fm("idle_timeout=5,send_flow_rem,in_port=1,actions=drop"), 0)
    ofp.handle_flow_mod(fm("hard_timeout=8,send_flow_rem,in_port=2,actions=drop"), 0)
    ofp.handle_flow_mod(fm("hard_timeout=3,in_port=3,actions=drop"), 0)
    assert ofp.next_deadline() == 3
    (r1,) = ofp.collect_rules(0xff, fm("in_port=1", 3).match)
    ofp.credit_stats(r1, 1, 60, 4.0)      # traffic refreshes the idle timer
    ofp.run(6.0)
    assert ofp.take_events() == []        # only the silent hard=3 flow went
    assert len(ofp.collect_rules(0xff, Match())) == 2
    ofp.run(9.0)
    reasons = sorted((ev[1].reason, ev[1].packet_count)
                     for ev in ofp.take_events())
    assert reasons == [(0, 1), (1, 0)]
    assert ofp.next_deadline() is None


def test_flow_stats_and_aggregate():
    ofp = make()
    ofp.handle_flow_mod(fm("no_packet_counts,ip,actions=drop"), 0)
    ofp.handle_flow_mod(fm("cookie=0x3,tcp,actions=output:1"), 0)
    for r in ofp.collect_rules(0xff, Match()):
        ofp.credit_stats(r, 2, 100, 1.0)
    stats = ofp.flow_stats(0xff, fm("ip", 3).match, now=2.5)
    assert sorted(s.packet_count for s in stats) == [0, 2]
    assert all(s.duration_sec == 2 for s in stats)
    assert ofp.aggregate(0xff, Match()) == (2, 200, 2)
    assert ofp.aggregate(0xff, Match(), cookie=3, cookie_mask=0xff) == (2, 100, 1)
    assert ofp.table_stats()[0]["active"] == 2


def test_groups_and_meters():
    from pyovs.openflow.groups import parse_group
    from pyovs.openflow.meters import parse_meter
    ofp = make()
    ofp.group_mod(parse_group("group_id=1,type=all,bucket=output:1"), 0)
    try:
        ofp.group_mod(parse_group("group_id=1,type=all,bucket=output:1"), 0)
    except OFPError as e:
        assert e.name == "OFPGMFC_GROUP_EXISTS"
    ofp.handle_flow_mod(fm("send_flow_rem,actions=group:1"), 0)
    assert ofp.group_stats(1, 1.0)[0]["ref_count"] == 1
    ofp.group_mod(parse_group("group_id=1", 2), 2.0)
    assert ofp.collect_rules(0xff, Match()) == []
    assert ofp.take_events()[0][1].reason == 3       # group_delete
    ofp.meter_mod(parse_meter("meter=1,kbps,band=type=drop,rate=10"), 0)
    assert [m.meter_id for m, _ in ofp.meter_list()] == [1]
    ofp.meter_mod(parse_meter("meter=all", 2), 0)
    assert ofp.meter_list() == []


def test_ports_and_port_mod():
    ofp = make()
    ofp.set_port_link(1, False)
    ev = ofp.take_events()
    assert ev[0][0] == "port_status" and ev[0][2] == 2
    assert [p.port_no for p in ofp.phy_ports(4)] == [1, 2, 0xfffe]
    p2 = ofp.ports[2]
    try:
        ofp.port_mod(A.PortMod(9, 0, 1, 1))
    except OFPError as e:
        assert e.name == "OFPPMFC_BAD_PORT"
    ofp.port_mod(A.PortMod(2, p2.hw_addr, 1, 1))
    assert p2.phy(4).state & 1 and p2.phy(4).config == 1


def test_miss_actions_by_fail_mode():
    ofp = make()
    assert ofp.miss_actions(False) == "drop"
    ofp.fail_mode = "standalone"
    assert ofp.miss_actions(False) == "normal"
    assert ofp.miss_actions(True) == "controller"


# --- connections -----------------------------------------------------------------

def messages(conn):
    return M.Framer().feed(conn.take_output())


def connect(mgr, kind="service", version=M.OFP13, now=0.0):
    c = OFConn(mgr, "test", kind, now)
    mgr.add_conn(c)
    hello = c.hello()
    assert M.parse_header(hello).type == M.OFPT_HELLO
    c.receive(M.encode_hello([version], 1), now)
    assert c.version == version
    return c


def test_negotiation_failure_closes_with_error():
    mgr = ConnMgr(make(), versions=(1, 5))
    c = OFConn(mgr, "x")
    c.receive(M.encode_hello([M.OFP13], 1), 0)
    (err,) = messages(c)
    assert M.parse_header(err).type == M.OFPT_ERROR
    assert b"version negotiation failed" in err
    assert c.closed


def test_requests_and_bad_input_keep_the_connection():
    mgr = ConnMgr(make())
    c = connect(mgr)
    c.receive(M.encode_simple(M.OFP13, "OFPT_ECHO_REQUEST", 7, b"hi"), 0)
    c.receive(M.encode_simple(M.OFP13, "OFPT_FEATURES_REQUEST", 8), 0)
    c.receive(bytes.fromhex("04fe00080000000a"), 0)
    c.receive(M.encode_simple(M.OFP13, "OFPT_BARRIER_REQUEST", 11), 0)
    out = messages(c)
    assert [M.parse_header(m).xid for m in out] == [7, 8, 10, 11]
    assert out[0][8:] == b"hi"
    assert M.decode_features_reply(out[1]).datapath_id == 0x1234
    assert M.decode_error(out[2])[0] == "OFPBRC_BAD_TYPE"
    assert not c.closed


def test_roles_generation_ids_and_slave_refusal():
    mgr = ConnMgr(make())
    a, b = connect(mgr, "primary"), connect(mgr, "primary")
    a.receive(A.RoleMessage(2, 10).encode(M.OFP13, 1), 0)
    assert A.decode_role(messages(a)[0]).role == 2
    b.receive(A.RoleMessage(2, 9).encode(M.OFP13, 2), 0)
    assert M.decode_error(messages(b)[0])[0] == "OFPRRFC_STALE"
    b.receive(A.RoleMessage(2, 11).encode(M.OFP13, 3), 0)
    assert A.decode_role(messages(b)[0]).generation_id == 11
    assert a.role == 3 and b.role == 2
    f, _ = FL.parse_flow_mod("actions=drop", 0)
    a.receive(M.encode_flow_mod(f, P.OF13_OXM, 4), 0)
    assert M.decode_error(messages(a)[0])[0] == "OFPBRC_IS_SLAVE"
    b.receive(M.encode_flow_mod(f, P.OF13_OXM, 5), 0)
    assert messages(b) == []
    assert len(mgr.ofproto.collect_rules(0xff, Match())) == 1


def test_async_messages_follow_miss_send_len_and_role():
    ofp = make()
    mgr = ConnMgr(ofp)
    svc = connect(mgr, "service")
    ctl = connect(mgr, "primary")
    ofp.handle_flow_mod(fm("hard_timeout=1,send_flow_rem,actions=drop"), 0)
    mgr.run(2.0)
    assert messages(svc) == []           # service: miss_send_len is 0
    (fr,) = [m for m in messages(ctl)
             if M.parse_header(m).type == A.OFPT_FLOW_REMOVED]
    assert A.decode_flow_removed(fr).reason == 1
    pin = A.PacketIn(bytes(range(200)), 1, 0)
    mgr.send_packet_in(pin)
    (msg,) = messages(ctl)
    got = A.decode_packet_in(msg)
    assert got.data == bytes(range(200)) and got.total_len == 200
    ctl.receive(A.RoleMessage(3, 1).encode(M.OFP13, 9), 0)
    messages(ctl)
    mgr.send_packet_in(pin)
    assert messages(ctl) == []           # slaves get no packet-ins


def test_packet_out_reaches_the_callback():
    seen = []
    mgr = ConnMgr(make(), on_packet_out=lambda po, conn: seen.append(po))
    c = connect(mgr, version=M.OFP10)
    po = A.PacketOut(data=b"\x00" * 60, in_port=0xfffe,
                     actions=FL.parse_flow_mod("actions=output:1", 0)[0].actions)
    c.receive(po.encode(M.OFP10, 3), 0)
    assert messages(c) == [] and len(seen) == 1 and seen[0].data == b"\x00" * 60


def test_inactivity_probe_then_disconnect():
    mgr = ConnMgr(make())
    c = connect(mgr, "primary", now=0.0)
    assert c.deadline() == 5.0
    c.run(5.0)
    (probe,) = messages(c)
    assert M.parse_header(probe).type == M.OFPT_ECHO_REQUEST
    c.run(10.0)
    assert c.closed and "probe" in c.last_error


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_garbage_never_raises(data):
    mgr = ConnMgr(make())
    c = connect(mgr)
    # A well-framed message with a random body, then raw garbage.
    body = data[:120]
    mtype = data[0] if data else 0
    c.receive(struct.pack("!BBHI", 4, mtype, 8 + len(body), 1) + body, 0)
    c.receive(data, 0)
    c.take_output()


# --- flow_mod semantics against a brute-force model ----------------------------

_PARTS = st.lists(st.sampled_from(
    ["in_port=1", "in_port=2", "ip", "tcp", "nw_src=10.0.0.0/8",
     "nw_src=10.1.0.0/16", "dl_vlan=5", "reg0=1", "table=1"]),
    max_size=4, unique=True)


def _text(parts, prio):
    # "tcp" implies "ip"; keep one of them so the text parses.
    if "tcp" in parts and "ip" in parts:
        parts = [p for p in parts if p != "ip"]
    if any(p.startswith("nw_src") for p in parts) and not (
            "ip" in parts or "tcp" in parts):
        parts = parts + ["ip"]
    return ",".join([f"priority={prio}"] + parts)


def _covers(rule_v, rule_m, v, m):
    """OVS's loose match: the rule is at least as specific as V/M."""
    return all(rule_m.get(k, 0) & mk == mk and
               (rule_v.get(k, 0) ^ v.get(k, 0)) & mk == 0
               for k, mk in m.items())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "del", "del_strict",
                                            "mod", "mod_strict"]),
                          _PARTS, st.integers(1, 3)), max_size=25))
def test_flow_mods_match_a_brute_force_model(ops):
    from pyovs.ofproto.classifier import match_to_dicts
    ofp = make()
    model = {}          # (table, value items, mask items, prio) -> actions
    for i, (op, parts, prio) in enumerate(ops):
        text = _text(parts, prio)
        table = 1 if "table=1" in parts else 0
        cmd = {"add": 0, "mod": 1, "mod_strict": 2, "del": 3,
               "del_strict": 4}[op]
        if cmd in (0, 1, 2):
            f = fm(f"{text},actions=output:{i % 3 + 1}", cmd)
            if cmd != 0:
                f.new_cookie = (1 << 64) - 1        # 1.1+: modify never adds
        else:
            f = fm(text if cmd == 4 else text.split(",", 1)[1]
                   if "," in text else "", cmd)
            if "table=1" not in parts:
                f.table_id = 0xff                   # delete: every table
        v, m = match_to_dicts(f.match)
        key = (table, tuple(sorted(v.items())), tuple(sorted(m.items())), prio)
        ofp.handle_flow_mod(f, float(i))
        acts = [a.port for a in f.actions]
        if cmd == 0:
            model[key] = acts
            continue
        for k in list(model):
            kt, kv, km, kp = k
            if cmd in (1, 3) and f.table_id != 0xff and kt != table:
                continue
            if cmd in (2, 4):
                hit = k[1:] == key[1:] and (f.table_id == 0xff or kt == table)
            else:
                hit = _covers(dict(kv), dict(km), v, m)
            if hit:
                if cmd in (3, 4):
                    del model[k]
                else:
                    model[k] = acts
    got = {}
    for t in ofp.tables:
        for r in t.rules():
            v, m = match_to_dicts(r.match)
            got[(r.table_id, tuple(sorted(v.items())), tuple(sorted(m.items())),
                 r.priority)] = [a.port for a in r.actions]
    assert got == model
