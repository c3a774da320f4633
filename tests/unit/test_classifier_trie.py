"""The classifier's prefix trie against a brute-force definition."""

from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.ofproto.classifier import _Trie

W = 8       # narrow values so random prefixes share bits often


def lcp(a, b):
    x = a ^ b
    return W - x.bit_length()


def brute(prefixes, v):
    """OVS's trie_lookup_value: (lengths whose prefixes match V, the bits
    needed to decide that)."""
    plens = set()
    d = 0
    for bits, plen in prefixes:
        full = bits << (W - plen)
        common = min(lcp(v, full), plen)
        if common == plen:
            plens.add(plen)
        d = max(d, common)
    if not prefixes:
        return plens, 0
    if d == W:
        return plens, W
    deeper = any(plen > d and min(lcp(v, bits << (W - plen)), plen) >= d
                 for bits, plen in prefixes)
    return plens, d + 1 if deeper else d


prefix = st.integers(1, W).flatmap(
    lambda p: st.tuples(st.integers(0, (1 << p) - 1), st.just(p)))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), prefix), max_size=40),
       st.lists(st.integers(0, (1 << W) - 1), min_size=1, max_size=10))
def test_trie_lookup_equals_brute_force(script, values):
    trie = _Trie(W)
    live = []
    for add, (bits, plen) in script:
        if add or (bits, plen) not in live:
            trie.insert(bits << (W - plen), plen)
            live.append((bits, plen))
        else:
            trie.remove(bits << (W - plen), plen)
            live.remove((bits, plen))
        for v in values:
            assert trie.lookup(v) == brute(live, v)
    for bits, plen in list(live):
        trie.remove(bits << (W - plen), plen)
    assert trie.root is None
