"""The exact-match cache in front of the megaflow classifier (OVS's EMC).

Most packets belong to a few busy connections.  The EMC remembers, for the
exact flow key of a recent packet, which megaflow (dpif/dpcls.py) covered
it, so such a packet costs one hash and one comparison instead of a probe
per dpcls subtable.

As OVS's, the cache is a fixed array of 8192 entries, two-way
set-associative: a key may live in one of two slots picked by two parts of
its hash.  It never grows, so nothing is ever swept: a new entry takes a
free or dead slot among its two, else the one whose key hash is smaller.

Entries are added with probability 1/``insert_inv_prob`` (OVS's
other_config:emc-insert-inv-prob: default 100; 1 inserts every flow, 0
turns the cache off), so that a flood of one-packet flows does not churn
the cache while long flows get in after a few packets.

A megaflow that is removed from the dpcls is marked dead; lookup() never
returns a dead megaflow and drops its entry when it meets one.

The key is any hashable that identifies a packet's whole flow exactly; the
datapath uses one canonical form for all its packets (flow_key() builds one
from a flow dict, but a packet parser can produce a cheaper one directly).

Public API:
  EM_FLOW_HASH_ENTRIES (8192); DEFAULT_EM_FLOW_INSERT_INV_PROB (100).
  flow_key(flow) -> hashable exact key of a flow dict (zero members ignored).
  Emc(n_entries=EM_FLOW_HASH_ENTRIES, insert_inv_prob=100, rng=random.random):
    .lookup(key) -> live Megaflow or None; .insert(key, mf) (always);
    .probabilistic_insert(key, mf) -> bool; .set_insert_inv_prob(n);
    .flush(); len(emc) (live entries; O(n), for tests and dumps);
    .hits .misses counters.
"""

import random

EM_FLOW_HASH_SHIFT = 13
EM_FLOW_HASH_ENTRIES = 1 << EM_FLOW_HASH_SHIFT
DEFAULT_EM_FLOW_INSERT_INV_PROB = 100
MAX_INSERT_INV_PROB = 0xffffffff


def flow_key(flow):
    """A hashable exact key of FLOW (a dict member -> int)."""
    return tuple(sorted([i for i in flow.items() if i[1]]))


class Emc:
    """Exact-match cache (see the module essay)."""

    def __init__(self, n_entries=EM_FLOW_HASH_ENTRIES,
                 insert_inv_prob=DEFAULT_EM_FLOW_INSERT_INV_PROB,
                 rng=random.random):
        if n_entries < 2 or n_entries & (n_entries - 1):
            raise ValueError("n_entries must be a power of 2 and >= 2")
        self._mask = n_entries - 1
        self._shift = n_entries.bit_length() - 1
        # Parallel arrays: the key's hash, the key, the megaflow.
        self._hash = [0] * n_entries
        self._keys = [None] * n_entries
        self._flows = [None] * n_entries
        self._rng = rng
        self.insert_inv_prob = DEFAULT_EM_FLOW_INSERT_INV_PROB
        self.set_insert_inv_prob(insert_inv_prob)
        self.hits = 0
        self.misses = 0

    def set_insert_inv_prob(self, n):
        n = int(n)
        if not 0 <= n <= MAX_INSERT_INV_PROB:
            raise ValueError("emc-insert-inv-prob out of range")
        self.insert_inv_prob = n

    def _slots(self, h):
        return h & self._mask, (h >> self._shift) & self._mask

    def lookup(self, key):
        h = hash(key)
        for i in (h & self._mask, (h >> self._shift) & self._mask):
            if self._hash[i] == h:
                mf = self._flows[i]
                if mf is not None and self._keys[i] == key:
                    if mf.dead:
                        self._clear(i)
                        break
                    self.hits += 1
                    return mf
        self.misses += 1
        return None

    def _clear(self, i):
        self._hash[i] = 0
        self._keys[i] = None
        self._flows[i] = None

    def insert(self, key, mf):
        """Cache MF for KEY, replacing a dead, empty or lower-hash entry."""
        h = hash(key)
        victim = None
        for i in self._slots(h):
            cur = self._flows[i]
            if cur is not None and self._hash[i] == h \
                    and self._keys[i] == key:
                self._flows[i] = mf
                return
            if victim is None:
                victim = i
                continue
            vf = self._flows[victim]
            if vf is None or vf.dead:
                continue
            if cur is None or cur.dead or self._hash[i] < self._hash[victim]:
                victim = i
        self._hash[victim] = h
        self._keys[victim] = key
        self._flows[victim] = mf

    def probabilistic_insert(self, key, mf):
        """Insert with probability 1/insert_inv_prob; True if inserted."""
        n = self.insert_inv_prob
        if n == 0 or (n > 1 and self._rng() * n >= 1.0):
            return False
        self.insert(key, mf)
        return True

    def flush(self):
        for i in range(self._mask + 1):
            self._clear(i)

    def __len__(self):
        return sum(1 for mf in self._flows if mf is not None and not mf.dead)
