"""The whole fast path in miniature: OpenFlow classifier -> megaflows in the
dpcls -> exact-match cache, with every packet's answer checked against the
OpenFlow table itself."""

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.dpif.dpcls import Dpcls, Megaflow
from pyovs.dpif.emc import Emc, flow_key
from pyovs.ofproto.classifier import Classifier, Rule
from tests.unit.test_classifier import SPACE, matches, flows

# Packets as small variations of a few base packets, so that many of them
# fall into each other's megaflows.
variations = st.lists(
    st.tuples(st.integers(0, 2),
              st.dictionaries(st.sampled_from(sorted(SPACE)),
                              st.integers(0, 2), max_size=2)),
    min_size=1, max_size=40)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(matches(), st.integers(0, 5)), max_size=12),
       st.lists(flows(), min_size=3, max_size=3), variations,
       st.lists(st.integers(0, 39), max_size=5))
def test_megaflows_give_the_tables_answer(specs, bases, variants, changes):
    # Each base packet is made to match one of the rules (when there are).
    for i, (value, mask) in enumerate(s[0] for s in specs[:len(bases)]):
        for m, mk in mask.items():
            bases[i][m] = (bases[i][m] & ~mk) | (value.get(m, 0) & mk)
    packets = []
    for base, changed in variants:
        pkt = dict(bases[base])
        for m, choice in changed.items():
            values = SPACE[m][0]
            pkt[m] = values[choice % len(values)]
        packets.append(pkt)
    table = Classifier()
    for n, ((value, mask), prio) in enumerate(specs):
        table.replace(Rule(value, mask, prio, payload=n))
    dp = Dpcls()
    emc = Emc(n_entries=16, insert_inv_prob=1)
    seen = set()            # packets since the last flush
    for i, pkt in enumerate(packets):
        if i in changes:
            # The OpenFlow table changed: the datapath is flushed (the
            # revalidator's bluntest answer), so no packet follows an old
            # decision.
            table.replace(Rule({"in_port": 1}, {"in_port": 0xffffffff}, 9,
                               payload="new"))
            dp.flush()
            seen = set()
        key = flow_key(pkt)
        mf = emc.lookup(key)
        if mf is None:
            mf = dp.lookup(pkt)
            if mf is None:
                # A packet seen before is covered by its own megaflow.
                assert key not in seen
                wc = {}
                rule = table.lookup(pkt, wc)
                mf = Megaflow(pkt, wc, actions=rule)
                dp.insert(mf)
            emc.probabilistic_insert(key, mf)
        assert not mf.dead
        assert mf.matches(pkt)
        assert mf.actions is table.lookup(pkt)
        seen.add(key)
