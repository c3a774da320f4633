"""MAC learning table: learning rules, aging, fair eviction, static entries, text."""

from hypothesis import given, settings, strategies as st

from pyovs.ofproto.mac_learning import MacLearning, OFPP_LOCAL

M1, M2, M3 = 0x000000000001, 0x000000000002, 0x000000000003
BCAST, MCAST = 0xffffffffffff, 0x01005e000001


def test_learn_lookup_and_multicast_sources_ignored():
    ml = MacLearning()
    assert ml.learn(M1, 0, 1, now=10)
    assert ml.lookup(M1, 0) == 1
    assert ml.lookup(M1, 5) is None          # per VLAN
    assert not ml.learn(BCAST, 0, 1, now=10)
    assert not ml.learn(MCAST, 0, 1, now=10)
    assert len(ml) == 1 and ml.total_learned == 1


def test_move_counts_and_bumps_seqno_relearn_does_not():
    ml = MacLearning()
    ml.learn(M1, 0, 1, now=0)
    s = ml.seqno
    assert not ml.learn(M1, 0, 1, now=5)
    assert ml.seqno == s
    assert ml.learn(M1, 0, 2, now=6)
    assert ml.seqno > s
    assert ml.lookup(M1, 0) == 2 and ml.total_moved == 1 and ml.total_learned == 1


def test_aging_restarts_on_each_frame():
    ml = MacLearning(idle_time=300)
    ml.learn(M1, 0, 1, now=0)
    ml.learn(M2, 0, 2, now=100)
    ml.learn(M1, 0, 1, now=200)      # refreshes M1, now most recent
    assert not ml.run(now=399)
    assert ml.run(now=400)           # M2 idle for 300 s
    assert ml.lookup(M2, 0) is None and ml.lookup(M1, 0) == 1
    assert ml.total_expired == 1
    assert ml.next_expiry() == 500


def test_idle_time_clamped_as_ovs():
    assert MacLearning(idle_time=1).idle_time == 15
    assert MacLearning(idle_time=10 ** 6).idle_time == 3600


def test_fair_eviction_takes_from_the_busiest_port():
    ml = MacLearning(max_entries=10)
    for i in range(6):
        ml.learn(0x10 + i, 0, 1, now=i)
    for i in range(4):
        ml.learn(0x20 + i, 0, 2, now=10 + i)
    ml.learn(0x30, 0, 3, now=20)     # full: evict port 1's least recent
    assert ml.lookup(0x10, 0) is None
    assert {e.mac for e in ml.entries()} == (
        {0x11, 0x12, 0x13, 0x14, 0x15, 0x20, 0x21, 0x22, 0x23, 0x30})
    assert ml.total_evicted == 1 and len(ml) == 10


def test_table_size_at_least_ten_as_ovs():
    assert MacLearning(max_entries=3).max_entries == 10


def test_shrinking_max_entries_trims_lru_at_run():
    ml = MacLearning()
    for i in range(12):
        ml.learn(0x100 + i, 0, 1, now=i)
    ml.set_max_entries(10)
    assert ml.run(now=12)
    assert [e.mac for e in ml.entries()] == [0x100 + i for i in range(2, 12)]


def test_static_entries():
    ml = MacLearning()
    ml.add_static(M1, 7, 3, now=0)
    assert not ml.learn(M1, 7, 1, now=1)           # not moved by learning
    assert ml.lookup(M1, 7) == 3
    assert not ml.run(now=10 ** 6)                 # never ages
    ml.learn(M2, 0, 1, now=0)
    assert ml.flush() == 1                         # fdb/flush keeps static entries
    assert ml.lookup(M1, 7) == 3 and ml.n_static == 1
    assert ml.del_static(M1, 7)
    assert not ml.del_static(M1, 7)
    assert len(ml) == 0 and ml.n_static == 0


def test_flush_port_and_vlan():
    ml = MacLearning()
    ml.learn(M1, 0, 1, now=0)
    ml.learn(M2, 5, 1, now=0)
    ml.learn(M3, 5, 2, now=0)
    assert ml.flush(vlan=5) == 2
    assert ml.flush(port=1) == 1
    assert len(ml) == 0


def test_show_and_stats_text():
    ml = MacLearning()
    ml.learn(M1, 0, 1, now=100)
    ml.learn(M2, 5, 2, now=103)
    ml.add_static(M3, 7, OFPP_LOCAL, now=104)
    ml.learn(M1, 0, 3, now=106)
    lines = ml.format_show(now=110).splitlines()
    assert lines[0] == " port  VLAN  MAC                Age"
    assert lines[1:] == ["    2     5  00:00:00:00:00:02    7",
                         "LOCAL     7  00:00:00:00:00:03  static",
                         "    3     0  00:00:00:00:00:01    4"]
    stats = ml.format_stats("br0").splitlines()
    assert stats[0] == 'Statistics for bridge "br0":'
    assert stats[1].endswith(": 3/8192") and stats[2].endswith(": 1")
    assert stats[3].endswith(": 2") and stats[6].endswith(": 1")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2), st.integers(1, 4),
                          st.integers(0, 3)), max_size=60),
       st.integers(10, 12))
def test_invariants_under_random_operations(ops, limit):
    ml = MacLearning(idle_time=15, max_entries=limit)
    now = 0
    for mac, vlan, port, dt in ops:
        now += dt
        ml.learn(mac << 1, vlan, port, now)     # even first octet: unicast
        ml.run(now)
        assert len(ml) <= limit
        entries = ml.entries()
        assert len({(e.vlan, e.mac) for e in entries}) == len(entries)
        assert all(now < e.expires <= now + 15 for e in entries)
        assert ml.lookup(mac << 1, vlan) == port
