"""MAC learning revalidates only the megaflows that read the learned MAC
(ofproto_dpif.Backer's tags), and still gets every decision right."""

from pyovs.netdev.dummy import NetdevDummy
from pyovs.odp.actions import format_actions
from pyovs.ofproto import ofproto_dpif as OD
from pyovs.ofproto.ofproto import OFProto
from pyovs.openflow import flow as FL
from pyovs.openflow.ports import OFPP_LOCAL

A = bytes.fromhex("020000000001")
B = bytes.fromhex("020000000002")
C = bytes.fromhex("020000000003")


def frame(src, dst):
    return dst + src + b"\x88\xb5" + bytes(46)


def bridge(mac_table_size=None):
    ctx = OD.DpifContext()              # no loop: changed() revalidates at once
    ofp = OFProto("br0")
    ofdp = ctx.create_bridge(ofp, "dummy")
    devs = {}
    for no, name in ((OFPP_LOCAL, "br0"), (1, "p1"), (2, "p2"), (3, "p3")):
        dev = NetdevDummy(name)
        if no != OFPP_LOCAL:
            ofp.add_port(name, no, dev.get_etheraddr())
        ofdp.add_port(no, dev)
        devs[no] = dev
    if mac_table_size:
        ofdp.configure(mac_table_size=mac_table_size)
    fm, _ = FL.parse_flow_mod("table=0,priority=0,actions=NORMAL")
    ofp.handle_flow_mod(fm, 0.0)
    ctx.revalidate()
    return ctx, ofdp, devs


def send(ofdp, port, src, dst):
    ofdp.backer.dp.receive(ofdp.ofp_to_odp(port), [frame(src, dst)])


def actions_for(ofdp, port, src, dst):
    """The actions of the megaflow the datapath holds for this frame."""
    dp = ofdp.backer.dp
    from pyovs.packet.flow import flow_extract
    flow = flow_extract(frame(src, dst), ofdp.ofp_to_odp(port))
    for mf in dp.flow_dump():
        if mf.matches(flow):
            return format_actions(mf.actions)
    return None


def test_learned_destination_turns_flood_into_unicast_without_full_revalidation():
    ctx, ofdp, devs = bridge()
    backer = ofdp.backer
    send(ofdp, 1, A, C)                 # C unknown: flood to 2 and 3
    send(ofdp, 2, B, A)                 # B -> A (A learned on 1): unicast
    p1, p2, p3 = (str(ofdp.ofp_to_odp(n)) for n in (1, 2, 3))
    local = str(ofdp.ofp_to_odp(OFPP_LOCAL))
    assert sorted(actions_for(ofdp, 1, A, C).split(",")) == sorted([local, p2, p3])
    assert actions_for(ofdp, 2, B, A) == p1
    full = backer.n_revalidations
    send(ofdp, 3, C, A)                 # C learned on 3
    assert backer.n_revalidations == full
    assert actions_for(ofdp, 1, A, C) == p3
    assert actions_for(ofdp, 2, B, A) == p1
    # C moves to port 2: the megaflow to C follows it
    send(ofdp, 2, C, B)
    assert backer.n_revalidations == full
    assert actions_for(ofdp, 1, A, C) == p2
    assert len(ofdp.ml) == 3


def test_flush_revalidates_only_what_read_the_flushed_entries():
    ctx, ofdp, devs = bridge()
    send(ofdp, 1, A, C)
    send(ofdp, 3, C, A)
    p3 = str(ofdp.ofp_to_odp(3))
    assert actions_for(ofdp, 1, A, C) == p3
    full = ofdp.backer.n_revalidations
    ofdp.ml.flush()                     # fdb/flush
    ctx.revalidate()
    assert ofdp.backer.n_revalidations == full
    assert actions_for(ofdp, 1, A, C) != p3     # flooding again


def test_eviction_by_learning_revalidates_what_read_the_evicted_entry():
    ctx, ofdp, devs = bridge(mac_table_size=10)     # OVS's minimum
    xs = [bytes.fromhex("0200000001%02x" % i) for i in range(9)]
    for x in xs:
        send(ofdp, 2, x, A)             # 9 entries on port 2, the oldest first
    send(ofdp, 1, A, xs[0])             # A on 1: the table is full
    p2 = str(ofdp.ofp_to_odp(2))
    assert actions_for(ofdp, 1, A, xs[0]) == p2
    assert len(ofdp.ml) == 10
    full = ofdp.backer.n_revalidations
    send(ofdp, 3, C, B)                 # learning C evicts port 2's oldest
    assert ofdp.ml.lookup(int.from_bytes(xs[0], "big"), 0) is None
    assert ofdp.backer.n_revalidations == full
    assert actions_for(ofdp, 1, A, xs[0]) != p2     # flooding again


def test_other_changes_revalidate_everything():
    ctx, ofdp, devs = bridge()
    send(ofdp, 1, A, C)
    full = ofdp.backer.n_revalidations
    fm, _ = FL.parse_flow_mod("table=0,priority=10,dl_type=0x88b5,actions=drop")
    ofdp.ofproto.handle_flow_mod(fm, 0.0)
    ctx.revalidate()
    assert ofdp.backer.n_revalidations == full + 1
    assert actions_for(ofdp, 1, A, C) == "drop"
