"""The exact-match cache in front of the megaflow classifier (OVS's EMC).

Most packets belong to a few busy connections.  The EMC remembers, for the
exact flow key of a recent packet, which megaflow (dpif/dpcls.py) covered
it, so such a packet costs one dict probe instead of one per dpcls
subtable visited.

The cache holds at most 8192 entries, as OVS's, and never sweeps.  OVS
keeps them in a fixed two-way set-associative array; in Python a dict probe
is several times cheaper than hashing and indexing by hand, so here the
entries live in two generations of dicts: new entries go into the young
one, a hit in the old one is copied to the young one, and when the young
one is half the capacity the old one is dropped and the young one ages.  So
the cache is bounded and what is still in use survives.

Entries are added with probability 1/``insert_inv_prob`` (OVS's
other_config:emc-insert-inv-prob: default 100; 1 inserts every flow, 0
turns the cache off), so that a flood of one-packet flows does not churn
the cache while long flows get in after a few packets.

A megaflow that is removed from the dpcls is marked dead; lookup() never
returns a dead megaflow and drops its entry when it meets one.

The key is any hashable that is equal for two packets only if their flows
are equal.  flow_key() is tuple(flow.items()): exact, cheap, but not
canonical (the same flow built in another member order, or with explicit
zero members, gets another key, which only costs a miss).  A packet parser
that builds its flow dicts in one order per packet type gets one key per
flow; one that can produce such a tuple directly saves the cost of
flow_key().

Public API:
  EM_FLOW_HASH_ENTRIES (8192); DEFAULT_EM_FLOW_INSERT_INV_PROB (100).
  flow_key(flow) -> hashable exact key of a flow dict.
  Emc(n_entries=EM_FLOW_HASH_ENTRIES, insert_inv_prob=100, rng=random.random):
    .lookup(key) -> live Megaflow or None; .insert(key, mf) (always);
    .probabilistic_insert(key, mf) -> bool; .set_insert_inv_prob(n);
    .insert_inv_prob; .flush(); len(emc) (live entries, O(n): for tests and
    dumps).
"""

import random

EM_FLOW_HASH_SHIFT = 13
EM_FLOW_HASH_ENTRIES = 1 << EM_FLOW_HASH_SHIFT
DEFAULT_EM_FLOW_INSERT_INV_PROB = 100
MAX_INSERT_INV_PROB = 0xffffffff


def flow_key(flow):
    """A hashable exact key of FLOW (a dict member -> int)."""
    return tuple(flow.items())


class Emc:
    """Exact-match cache (see the module essay)."""

    def __init__(self, n_entries=EM_FLOW_HASH_ENTRIES,
                 insert_inv_prob=DEFAULT_EM_FLOW_INSERT_INV_PROB,
                 rng=random.random):
        if n_entries < 2:
            raise ValueError("n_entries must be at least 2")
        self._young_max = n_entries // 2
        self._young = {}
        self._old = {}
        self._rng = rng
        self.insert_inv_prob = DEFAULT_EM_FLOW_INSERT_INV_PROB
        self.set_insert_inv_prob(insert_inv_prob)

    def set_insert_inv_prob(self, n):
        n = int(n)
        if not 0 <= n <= MAX_INSERT_INV_PROB:
            raise ValueError("emc-insert-inv-prob out of range")
        self.insert_inv_prob = n

    def lookup(self, key):
        mf = self._young.get(key)
        if mf is None:
            mf = self._old.pop(key, None)
            if mf is None:
                return None
            if mf.dead:
                return None
            self._put(key, mf)
            return mf
        if mf.dead:
            del self._young[key]
            return None
        return mf

    def _put(self, key, mf):
        young = self._young
        if len(young) >= self._young_max and key not in young:
            self._old = young
            self._young = young = {}
        young[key] = mf

    def insert(self, key, mf):
        """Cache MF for KEY (replacing what KEY had)."""
        self._old.pop(key, None)
        self._put(key, mf)

    def probabilistic_insert(self, key, mf):
        """Insert with probability 1/insert_inv_prob; True if inserted."""
        n = self.insert_inv_prob
        if n == 0 or (n > 1 and self._rng() * n >= 1.0):
            return False
        self.insert(key, mf)
        return True

    def flush(self):
        self._young = {}
        self._old = {}

    def __len__(self):
        return sum(1 for d in (self._young, self._old)
                   for mf in d.values() if not mf.dead)
