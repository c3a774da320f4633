"""Conjunctive matches (ovs-fields(7)) against a brute-force model."""

import random

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.ofproto.classifier import Classifier, Rule
from tests.unit.test_classifier import SPACE, matches, flows, perturb

SETTINGS = dict(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

conj_actions = st.lists(st.tuples(st.sampled_from([1, 2]),
                                  st.sampled_from([1, 2])),
                        max_size=2, unique_by=lambda c: c[0])


@st.composite
def rules(draw):
    value, mask = draw(matches())
    prio = draw(st.integers(0, 4))
    kind = draw(st.sampled_from(["plain", "conj", "conj_id"]))
    conj = ()
    if kind == "conj":
        conj = tuple((cid, k, 2) for cid, k in draw(conj_actions))
    elif kind == "conj_id":
        mask = dict(mask, conj_id=0xffffffff)
        value = dict(value, conj_id=draw(st.sampled_from([1, 2])))
    return value, mask, prio, conj


def model(rules, flow, allow=True):
    """Priority of the rule OVS's lookup gives, by brute force.  Only the
    highest-priority rule of each distinct match is seen, as in OVS (a
    subtable bucket answers with its first rule)."""
    heads = {}
    for r in rules:
        k = (tuple(sorted(r.value.items())), tuple(sorted(r.mask.items())))
        if k not in heads or r.priority > heads[k].priority:
            heads[k] = r
    cands = [r for r in heads.values() if r.matches(flow)]
    hard = max((r.priority for r in cands if not r.conjunctions),
               default=None)
    if not allow:
        return hard
    soft = [r for r in cands if r.conjunctions
            and (hard is None or r.priority > hard)]
    for pri in sorted({r.priority for r in soft}, reverse=True):
        clauses = {}
        for r in soft:
            if r.priority == pri:
                for cid, k, n in r.conjunctions:
                    clauses.setdefault((cid, n), set()).add(k)
        done = sorted(cid for (cid, n), ks in clauses.items()
                      if len(ks) == n)
        if done:
            found = model(rules, dict(flow, conj_id=done[0]), False)
            if found is not None:
                return found
    return hard


@settings(**SETTINGS)
@given(st.lists(rules(), max_size=20), st.lists(flows(), min_size=1,
                                                 max_size=6))
def test_conjunctive_lookup_equals_model(specs, fl):
    cls = Classifier()
    live = {}
    for value, mask, prio, conj in specs:
        r = Rule(value, mask, prio, conjunctions=conj)
        old = cls.replace(r)
        if old is not None:
            live.pop(id(old))
        live[id(r)] = r
    rnd = random.Random(3)
    for flow in fl:
        wc = {}
        got = cls.lookup(flow, wc)
        assert (got.priority if got else None) == model(live.values(), flow)
        for _ in range(4):
            assert cls.lookup(perturb(flow, wc, rnd)) is got


def test_man_page_example():
    """The example of ovs-fields(7)."""
    cls = Classifier()
    ip = 0x0800
    target = Rule({"conj_id": 1234}, {"conj_id": 0xffffffff}, 0x8000,
                  payload="controller")
    cls.insert(target)
    for i, src in enumerate((1, 4, 6, 7)):
        cls.insert(Rule({"dl_type": ip, "nw_src": 0x0a000000 + src},
                        {"dl_type": 0xffff, "nw_src": 0xffffffff}, 0x8000,
                        conjunctions=[(1234, 1, 2)]))
    for dst in (2, 5, 7, 8):
        cls.insert(Rule({"dl_type": ip, "nw_dst": 0x0a000000 + dst},
                        {"dl_type": 0xffff, "nw_dst": 0xffffffff}, 0x8000,
                        conjunctions=[(1234, 2, 2)]))

    def pkt(src, dst):
        return {"dl_type": ip, "nw_src": 0x0a000000 + src,
                "nw_dst": 0x0a000000 + dst}

    wc = {}
    assert cls.lookup(pkt(4, 5), wc) is target
    assert wc["conj_id"] == 0xffffffff
    assert cls.lookup(pkt(4, 6)) is None        # only dimension 1
    assert cls.lookup(pkt(3, 5)) is None        # only dimension 2
    # A plain flow of lower priority is the fallback.
    low = Rule({"dl_type": ip}, {"dl_type": 0xffff}, 1)
    cls.insert(low)
    assert cls.lookup(pkt(4, 6)) is low
    assert cls.lookup(pkt(7, 7)) is target
    # Without the conj_id flow the conjunctive match does not count.
    cls.remove(target)
    assert cls.lookup(pkt(4, 5)) is low


def test_bad_conjunctions_refused():
    import pytest
    for bad in ([(1, 0, 2)], [(1, 3, 2)], [(1, 1, 1)], [(-1, 1, 2)]):
        with pytest.raises(ValueError):
            Rule({}, {}, 1, conjunctions=bad)
