"""The exact-match cache: bounded, never returns a deleted megaflow."""

import random

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.dpif.dpcls import Dpcls, Megaflow
from pyovs.dpif.emc import Emc, flow_key, EM_FLOW_HASH_ENTRIES

SETTINGS = dict(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

ops = st.lists(st.tuples(st.sampled_from(["add", "del", "pkt"]),
                         st.integers(0, 7), st.integers(0, 40)),
               max_size=120)


@settings(**SETTINGS)
@given(ops, st.sampled_from([4, 16, 64]))
def test_emc_never_returns_dead_or_wrong_megaflow(script, size):
    """Megaflows on in_port (8 of them); packets carry in_port and tp_src."""
    dp = Dpcls()
    emc = Emc(n_entries=size, insert_inv_prob=1)
    flows = {}
    for op, port, sport in script:
        if op == "add" and port not in flows:
            flows[port] = Megaflow({"in_port": port}, {"in_port": 0xffff})
            dp.insert(flows[port])
        elif op == "del" and port in flows:
            assert dp.remove(flows.pop(port))
        else:
            pkt = {"in_port": port, "tp_src": sport}
            key = flow_key(pkt)
            mf = emc.lookup(key)
            if mf is not None:
                assert not mf.dead
                assert mf is flows.get(port)
            else:
                mf = dp.lookup(pkt)
                assert mf is flows.get(port)
                if mf is not None:
                    emc.probabilistic_insert(key, mf)
                    assert emc.lookup(key) is mf
        assert len(emc) <= size


def test_insertion_probability_and_disable():
    mf = Megaflow({}, {})
    draws = iter([0.5, 0.009, 0.5])
    emc = Emc(insert_inv_prob=100, rng=lambda: next(draws))
    assert not emc.probabilistic_insert(("a",), mf)
    assert emc.probabilistic_insert(("a",), mf)
    assert emc.lookup(("a",)) is mf
    emc.set_insert_inv_prob(0)
    assert not emc.probabilistic_insert(("b",), mf)
    assert emc.lookup(("b",)) is None
    emc.set_insert_inv_prob(1)
    assert emc.probabilistic_insert(("b",), mf)
    # Roughly 1 in N over many draws.
    rnd = random.Random(7)
    emc = Emc(insert_inv_prob=10, rng=rnd.random)
    n = sum(emc.probabilistic_insert((i,), mf) for i in range(5000))
    assert 300 < n < 700


def test_bounded_and_busy_entries_survive():
    emc = Emc()
    busy = Megaflow({"in_port": 1}, {"in_port": 0xffff})
    emc.insert(("busy",), busy)
    live = [Megaflow({"in_port": i}, {"in_port": 0xffff})
            for i in range(3 * EM_FLOW_HASH_ENTRIES)]
    for i, mf in enumerate(live):
        emc.insert((i,), mf)
        if i % 1000 == 0:
            assert emc.lookup(("busy",)) is busy
        assert len(emc._young) + len(emc._old) <= EM_FLOW_HASH_ENTRIES
    assert len(emc) <= EM_FLOW_HASH_ENTRIES
    assert emc.lookup(("busy",)) is busy
    busy.dead = True
    assert emc.lookup(("busy",)) is None
    # The most recent entries are there; the oldest are gone.
    hit = sum(emc.lookup((i,)) is live[i] for i in range(len(live)))
    assert EM_FLOW_HASH_ENTRIES // 2 <= hit <= EM_FLOW_HASH_ENTRIES
    assert emc.lookup((len(live) - 1,)) is live[-1]
    assert emc.lookup((0,)) is None
    assert emc.lookup(("busy",)) is None
    emc.flush()
    assert len(emc) == 0
