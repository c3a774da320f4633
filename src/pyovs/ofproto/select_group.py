"""Select groups: which bucket a packet takes, as OVS 3.1 chooses it.

OVS gives a select group without a selection method (pyovs's groups have
none) the *dp_hash* method whenever its bucket weights fit a table of at
most 256 hash values: the datapath computes a symmetric L3/L4 hash of the
packet (``hash(sym_l4(0))``), recirculates, and translation of the
recirculated packet maps the hash's low bits through the table to a
bucket.  The table (OVS's group_setup_dp_hash_table()) has
max(16, the power of 2 at or above ceil(total weight / least weight))
slots dealt out by the Webster method, so each bucket gets slots in
proportion to its weight; a slot whose bucket is dead passes on to the
next slot's.  Only the table's bits of dp_hash join the megaflow.

Groups whose weights need more slots use the *default* method: in
translation, each live bucket scores hash_int(bucket id, the flow's
symmetric L4 hash) & 0xffff times its weight and the best (the last of
equals) wins; the hashed fields join the megaflow.

The hashes are OVS's, bit for bit (pyovs.packet.hash).

Public API:
  dp_hash_table(weights, max_hash=256) -> list (slot -> bucket index), or
    None when the dp_hash method does not apply
  flow_hash_symmetric_l4(flow, basis) -> int; SYMMETRIC_L4_FIELDS
  flow_hash_symmetric_l3l4(flow, basis) -> the datapath's hash(sym_l4(B))
    (non-IP: flow_hash_symmetric_l2); datapath_hash(data, alg, basis) ->
    the same for packet bytes (what the datapath's hash action sets)
  bucket_score(bucket_id, basis, weight) -> int
  hash_add, hash_finish, hash_int, hash_bytes
"""

import struct

from ..packet.hash import (  # noqa: F401  (re-exported: translation's names)
    MASK32, hash_add, hash_add64, hash_finish, hash_int, hash_bytes,
    SYMMETRIC_L4_FIELDS, flow_hash_symmetric_l4, flow_hash_symmetric_l3l4,
    flow_hash_symmetric_l2, datapath_hash)

MAX_SELECT_GROUP_HASH_VALUES = 256


def dp_hash_table(weights, max_hash=MAX_SELECT_GROUP_HASH_VALUES):
    """The slot -> bucket index table of OVS's group_setup_dp_hash_table()
    for buckets of WEIGHTS, or None (no buckets, no weight, too many
    slots)."""
    if not weights or not sum(weights):
        return None
    least = min((w for w in weights if w > 0), default=0xffff)
    total = sum(weights)
    min_slots = -(-total // least)
    n_hash = max(16, 1 << (min_slots - 1).bit_length())
    if n_hash > MAX_SELECT_GROUP_HASH_VALUES or (max_hash and n_hash > max_hash):
        return None
    divisor = [1] * len(weights)
    value = [float(w) for w in weights]
    table = []
    for _ in range(n_hash):
        winner = 0
        for i in range(1, len(weights)):
            if value[i] > value[winner]:
                winner = i
        divisor[winner] += 2
        value[winner] = weights[winner] / divisor[winner]
        table.append(winner)
    return table


def bucket_score(bucket_id, basis, weight):
    """A live bucket's score in OVS's group_best_live_bucket()."""
    return (hash_int(bucket_id, basis) & 0xffff) * weight
