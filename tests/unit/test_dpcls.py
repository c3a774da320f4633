"""The datapath megaflow classifier against brute force."""

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.dpif.dpcls import Dpcls, Megaflow

SETTINGS = dict(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

SPACE = {
    "recirc_id": ([0, 1], [0xffffffff]),
    "in_port": ([1, 2, 3], [0xffffffff]),
    "dl_dst": ([0xaa, 0xbb, 1 << 40], [(1 << 48) - 1, 1 << 40]),
    "dl_type": ([0x0800, 0x86dd], [0xffff]),
    "nw_dst": ([0x0a000001, 0x0a000102, 0xc0a80101],
               [0xffffffff, 0xffffff00, 0xff000000]),
    "tp_dst": ([22, 80], [0xffff, 0xfff0]),
}


@st.composite
def megaflows(draw):
    members = draw(st.sets(st.sampled_from(sorted(SPACE)), max_size=4))
    value, mask = {}, {}
    for m in members:
        vals, masks = SPACE[m]
        value[m] = draw(st.sampled_from(vals))
        mask[m] = draw(st.sampled_from(masks))
    return value, mask


@st.composite
def flows(draw):
    return {m: draw(st.sampled_from(vals)) for m, (vals, _) in SPACE.items()}


def same_match(a, b):
    return a.value == b.value and a.mask == b.mask


@settings(**SETTINGS)
@given(st.lists(megaflows(), max_size=30), st.lists(flows(), max_size=10),
       st.data())
def test_lookup_equals_brute_force(specs, fl, data):
    cls = Dpcls()
    live = []
    for n, (value, mask) in enumerate(specs):
        mf = Megaflow(value, mask, actions=n)
        old = cls.insert(mf)
        twins = [x for x in live if same_match(x, mf)]
        assert (old is None) == (not twins)
        if old is not None:
            assert old is twins[0] and old.dead
            live.remove(old)
        live.append(mf)
    # Remove some, and rank subtables in between.
    for i in sorted(data.draw(st.sets(st.integers(0, 29))), reverse=True):
        if i < len(live):
            assert cls.remove(live[i]) and live[i].dead
            assert not cls.remove(live[i])
            del live[i]
        cls.sort_subtables()
    assert len(cls) == len(live)
    assert sorted(map(id, cls)) == sorted(map(id, live))
    batch = cls.lookup_batch(fl)
    for flow, got_b in zip(fl, batch):
        covering = [mf for mf in live if mf.matches(flow)]
        assert (got_b is None) == (not covering)
        assert got_b is None or got_b in covering
    for flow in fl:
        got = cls.lookup(flow)
        covering = [mf for mf in live if mf.matches(flow)]
        if covering:
            assert got is not None and got.matches(flow) and got in covering
        else:
            assert got is None
    for mf in live:
        assert cls.find(mf.value, mf.mask) is mf


def test_ranking_moves_busy_subtables_first():
    cls = Dpcls()
    a = Megaflow({"in_port": 1}, {"in_port": 0xffffffff}, "a")
    b = Megaflow({"tp_dst": 80}, {"tp_dst": 0xffff}, "b")
    cls.insert(a)
    cls.insert(b)
    for _ in range(5):
        assert cls.lookup({"tp_dst": 80}) is b
    cls.sort_subtables()
    assert list(cls) == [b, a]
    cls.flush()
    assert len(cls) == 0 and cls.n_subtables == 0 and a.dead and b.dead


def test_bad_masks_refused():
    with pytest.raises(ValueError):
        Megaflow({}, {"bogus": 1})
    with pytest.raises(ValueError):
        Megaflow({}, {"tp_dst": 1 << 16})
    mf = Megaflow({}, {})
    cls = Dpcls()
    cls.insert(mf)
    assert cls.lookup({"in_port": 5}) is mf      # the catch-all megaflow
    with pytest.raises(ValueError):
        cls.insert(mf)


def test_megaflows_over_extracted_packet_flows():
    """Flows as pyovs.packet.flow extracts them, VLAN extras included."""
    from pyovs.packet import build
    from pyovs.packet.flow import flow_extract
    from pyovs.dpif.emc import Emc, flow_key

    def pkt(vid, dport, port=1):
        vlans = ((0x8100, vid),) if vid else ()
        data = build.tcp_packet("02:00:00:00:00:01", "02:00:00:00:00:02",
                                "10.0.0.1", "10.0.0.2", 1234, dport,
                                vlans=vlans)
        return flow_extract(data, in_port=port)

    cls = Dpcls()
    tagged = Megaflow({"in_port": 1, "vlan_tpid": 0x8100, "vlan_tci": 0x100a,
                       "dl_type": 0x0800},
                      {"in_port": 0xffffffff, "vlan_tpid": 0xffff,
                       "vlan_tci": 0x1fff, "dl_type": 0xffff}, "tagged")
    untagged = Megaflow({"in_port": 1, "dl_type": 0x0800, "tp_dst": 80},
                        {"in_port": 0xffffffff, "vlan_tci": 0x1000,
                         "dl_type": 0xffff, "tp_dst": 0xffff}, "plain")
    cls.insert(tagged)
    cls.insert(untagged)
    assert cls.lookup(pkt(10, 22)) is tagged
    assert cls.lookup(pkt(11, 22)) is None
    assert cls.lookup(pkt(0, 80)) is untagged
    assert cls.lookup(pkt(0, 80, port=2)) is None
    # Two packets of one flow give one EMC key.
    emc = Emc(insert_inv_prob=1)
    emc.insert(flow_key(pkt(10, 22)), tagged)
    assert emc.lookup(flow_key(pkt(10, 22))) is tagged
    cls.remove(tagged)
    assert emc.lookup(flow_key(pkt(10, 22))) is None


def test_find_takes_any_member_order_and_unmasked_values():
    cls = Dpcls()
    mf = Megaflow({"in_port": 1, "dl_type": 0x800, "nw_src": 0x0a000001},
                  {"in_port": 0xffffffff, "dl_type": 0xffff, "nw_src": 0xffffff00})
    cls.insert(mf)
    mask = {"nw_src": 0xffffff00, "in_port": 0xffffffff, "dl_type": 0xffff}
    assert cls.find({"in_port": 1, "dl_type": 0x800, "nw_src": 0x0a0000ff}, mask) is mf
    assert cls.find({"in_port": 1, "dl_type": 0x800, "nw_src": 0x0a0000ff},
                    dict(mask, tp_dst=0)) is mf            # a zero mask is no member
    assert cls.find({"in_port": 1, "dl_type": 0x800, "nw_src": 0x0b000001}, mask) is None
    assert cls.find({"in_port": 1}, {"in_port": 0xffffffff}) is None
    with pytest.raises(ValueError):
        cls.find({"in_port": 1}, {"bogus": 1})
