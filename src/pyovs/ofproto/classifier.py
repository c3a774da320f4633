"""The classifier of the OpenFlow tables: priority rules over flow members.

What it does
------------
A classifier holds rules.  A rule is a match -- a value and a mask for each
member of a flow (``openflow.fields.STORAGE``: ``in_port``, ``dl_src``,
``nw_src``, ``tp_dst``, ``reg0``, ...; a missing member is wildcarded) -- a
priority and an opaque payload (the OpenFlow rule: actions, cookie,
counters).  lookup(flow) returns the highest-priority rule whose match the
flow satisfies.  A flow is a plain dict member -> int (MACs and IP addresses
as ints; a missing member is 0); a mask is the same kind of dict (member ->
bit mask; missing means wildcarded).

Un-wildcarding
--------------
The switch does not ask the classifier once per packet.  It asks once per
*megaflow*: translation walks the OpenFlow tables for the first packet and
the datapath then handles, without asking again, every later packet that
agrees with the first one on the bits the walk looked at.  So lookup() takes
a second argument, ``wc``, a mask dict the caller owns, and ORs into it the
bits of the flow its answer depended on.  The invariant is:

    every flow that agrees with FLOW on all bits set in WC gets the same
    answer from lookup().

Any superset of the needed bits is correct; fewer bits mean fewer, wider
megaflows and fewer upcalls, so the classifier tries to look at little.

The design (OVS's)
------------------
Tuple space search.  Rules with the same mask live in one *subtable*; within
it a rule is found with one dict lookup on the flow's masked values.  A
lookup visits the subtables one by one and keeps the best rule so far.

Priority order with early exit.  Each subtable knows the highest priority it
holds; subtables are visited in decreasing order of it and the walk stops
once the best rule found is at least as high as the next subtable's maximum.
Unvisited subtables add nothing to WC.

Staged lookup.  A subtable's members are split into four stages in the order
of the packet's layers: metadata (in_port, registers, tunnel, conntrack...),
L2, L3 and L4.  For each stage but the last the subtable keeps a counted
index of the masked values of the stages so far.  A miss in an early stage
ends the search in that subtable having looked only at that stage and the
ones before it, so only their bits are un-wildcarded: a subtable of rules on
``in_port=1,tcp,tp_dst=80`` that a packet from port 2 visits costs the
megaflow only ``in_port``, not ``tp_dst``.  A hit un-wildcards the whole
subtable mask.

Prefix tracking.  For the configured prefix fields (OVS's default: nw_dst and
nw_src; at most three) the classifier keeps a path-compressed binary trie of
the prefixes of all rules whose mask on that field is a CIDR prefix.  One
walk per lookup yields the prefix lengths that have a rule matching the
flow's value and the number of leading bits that decided it (up to and
including the first bit where the flow left the trie).  When the walk
reaches a subtable's stage holding the field and no rule of the subtable's
prefix length matched, the subtable is skipped, un-wildcarding only those
bits -- if they are no more than the subtable would have cost.  A table of
10.0.0.0/8 rules so looks at one bit of a 192.168.1.1 packet, not eight.
The walk is made only for flows of the field's protocol (dl_type IPv4 for
nw_src/nw_dst, IPv6 for ipv6_src/ipv6_dst), so dl_type joins WC with it.

Ports trie.  A subtable whose last stage holds only tp_src/tp_dst also keeps
a trie of its rules' (masked) port pairs; when that stage misses, only the
port bits the trie needed to rule all of them out are un-wildcarded, not
the whole port mask.

Conjunctive matches (ovs-fields(7), "Conjunctive Match Fields").  A rule may
carry conjunctions, (id, k, n) for its conjunction(id, k/n) actions.  Such a
rule is a "soft" match: when the best soft matches are of higher priority
than the best plain one and together satisfy all n clauses of some id, the
classifier looks up again with conj_id set to that id (ignoring conjunctive
rules this time) and returns what that finds; else it drops that priority
and tries the next.  The conj_id bits join WC like any others.

Metadata partitions.  A subtable whose rules all match metadata exactly is
skipped outright when none of them has the flow's metadata value (OVS keeps
a set of such subtables per metadata value).  This costs only metadata bits,
and metadata is pipeline state, never part of a datapath megaflow.

These are OVS's rules, so pyovs's megaflows come out as OVS's do.  (One
exception: OVS marks partitions with 64-bit bloom tags, so on a tag
collision it searches a subtable that this exact set skips.)

Invariants: a rule's value has no bits outside its mask; at most one rule per
(match, priority); a subtable exists only while it holds rules and its
indices count exactly its rules; the tries count exactly the rules with a
CIDR mask on the field (the ports trie: the subtable's rules); the
partitions count exactly the rules of partitioned subtables.

Not here (yet): rule versioning.

Public API:
  Rule(value, mask, priority, payload=None, conjunctions=()): .value .mask
    (dicts, normalised: value & mask, no zero masks; read-only: rules of one
    subtable share their mask dict) .priority .payload
    .conjunctions (tuple of (id, k, n)); Rule.from_match(match, priority,
    payload=None, conjunctions=()) from an openflow.match.Match;
    rule.matches(flow) -> bool; rule.is_loose_match(value, mask) -> bool.
  match_to_dicts(match) -> (value, mask): an openflow.match.Match as dicts.
  Classifier(prefix_fields=("nw_dst", "nw_src")):
    .replace(rule) -> displaced Rule or None (same match and priority);
    .insert(rule) (ValueError if it would displace one); .remove(rule) -> bool;
    .lookup(flow, wc=None) -> Rule or None;
    .find_exactly(value, mask, priority) -> Rule or None (strict);
    .find_loose(value, mask) -> iterator of rules at least as specific;
    .rule_overlaps(rule) -> bool (OFPFF_CHECK_OVERLAP);
    .set_prefix_fields(fields); iter(cls): rules by decreasing priority, then
    insertion order; len(cls); .n_subtables.
"""

from ..openflow import fields as F

# Stages (OVS's flow segments, as struct flow in OVS 3.1 lays them out).
_L2 = frozenset(("dl_src", "dl_dst", "dl_type", "vlan_tci", "mpls_lse"))
_L3 = frozenset(("nw_src", "nw_dst", "ct_nw_src", "ct_nw_dst", "ipv6_src",
                 "ipv6_dst", "ct_ipv6_src", "ct_ipv6_dst", "ipv6_label",
                 "nw_frag", "nw_tos", "nw_ttl", "nw_proto", "nd_target",
                 "arp_sha", "arp_tha", "tcp_flags", "nsh_flags", "nsh_ttl",
                 "nsh_mdtype", "nsh_np", "nsh_spi", "nsh_si", "nsh_c1",
                 "nsh_c2", "nsh_c3", "nsh_c4"))
_L4 = frozenset(("tp_src", "tp_dst", "ct_tp_src", "ct_tp_dst",
                 "nd_reserved"))
N_STAGES = 4


def stage_of(member):
    """0 metadata, 1 L2, 2 L3, 3 L4."""
    if member not in F.STORAGE:
        raise ValueError(f"{member}: unknown flow member")
    return 1 if member in _L2 else 2 if member in _L3 else \
        3 if member in _L4 else 0


#: Flow members by stage, then in OVS's struct flow order: keys use it.
MEMBERS = tuple(sorted(F.STORAGE, key=stage_of))
_ORDER = {m: i for i, m in enumerate(MEMBERS)}
_STAGE = {m: stage_of(m) for m in MEMBERS}


def _normalise(value, mask):
    """Checked copies of VALUE/MASK: known members, in range, value & mask."""
    nv, nm = {}, {}
    for m, mk in mask.items():
        width = F.STORAGE.get(m)
        if width is None:
            raise ValueError(f"{m}: unknown flow member")
        if not isinstance(mk, int) or mk < 0 or mk >> width:
            raise ValueError(f"{m}: mask {mk!r} out of range")
        if mk:
            nm[m] = mk
            v = value.get(m, 0) & mk
            if v:
                nv[m] = v
    for m in value:
        if m not in F.STORAGE:
            raise ValueError(f"{m}: unknown flow member")
    return nv, nm


def _check_conjunctions(conjunctions):
    """A tuple of (id, k, n) as conjunction(id, k/n) actions give them."""
    out = []
    for c in conjunctions:
        cid, k, n = c
        if not (0 <= cid <= 0xffffffff and 2 <= n <= 64 and 1 <= k <= n):
            raise ValueError(f"bad conjunction {c!r}")
        out.append((cid, k, n))
    return tuple(out)


def match_to_dicts(match):
    """(value, mask) dicts of an openflow.match.Match."""
    value, mask = {}, {}
    for m, (v, mk) in match.values.items():
        if mk:
            mask[m] = mk
            if v & mk:
                value[m] = v & mk
    return value, mask


def _prefix_len(mask, width):
    """N if MASK is a CIDR prefix of N bits (N > 0) over WIDTH bits, else 0."""
    if not mask:
        return 0
    inv = ((1 << width) - 1) ^ mask
    if inv & (inv + 1):
        return 0
    return width - inv.bit_length()


class Rule:
    """A match (value/mask dicts), a priority and an opaque payload."""
    __slots__ = ("value", "mask", "priority", "payload", "conjunctions",
                 "_seq", "_key", "_subtable")

    def __init__(self, value, mask, priority, payload=None, conjunctions=()):
        self.value, self.mask = _normalise(value, mask)
        self.priority = int(priority)
        self.payload = payload
        self.conjunctions = _check_conjunctions(conjunctions)
        self._seq = None
        self._subtable = None

    @classmethod
    def from_match(cls, match, priority, payload=None, conjunctions=()):
        value, mask = match_to_dicts(match)
        return cls(value, mask, priority, payload, conjunctions)

    def matches(self, flow):
        get = flow.get
        return all(get(m, 0) & mk == self.value.get(m, 0)
                   for m, mk in self.mask.items())

    def is_loose_match(self, value, mask):
        """True if this rule's match is at least as specific as VALUE/MASK
        (OVS's cls_rule_is_loose_match)."""
        for m, mk in mask.items():
            if mk & ~self.mask.get(m, 0):
                return False
            if (self.value.get(m, 0) ^ value.get(m, 0)) & mk:
                return False
        return True

    def same_match(self, other):
        return self.mask == other.mask and self.value == other.value

    def __repr__(self):
        parts = ",".join(f"{m}=0x{self.value.get(m, 0):x}/0x{mk:x}"
                         for m, mk in sorted(self.mask.items(),
                                             key=lambda i: _ORDER[i[0]]))
        return f"Rule(priority={self.priority},{parts or '*'})"


class _Subtable:
    """Rules sharing one mask: staged indices and the final rule map."""
    __slots__ = ("mask", "members", "stages", "indices", "buckets",
                 "max_priority", "n_rules", "plens", "ports_mask",
                 "ports_mlen", "ports_trie", "partitioned")

    def __init__(self, mask_items):
        self.mask = dict(mask_items)
        self.members = mask_items            # ((member, mask), ...) ordered
        stages = [[] for _ in range(N_STAGES)]
        for m, mk in mask_items:
            stages[_STAGE[m]].append((m, mk))
        # Only non-empty stages; each as (its (member, mask) pairs,
        # the cumulative mask dict up to and including it).
        self.stages = []
        cum = {}
        for s, items in enumerate(stages):
            if items:
                cum = dict(cum)
                cum.update(items)
                self.stages.append((s, tuple(items), cum))
        # indices[i]: counted cumulative keys for stage i (all but last).
        self.indices = [dict() for _ in self.stages[:-1]]
        self.buckets = {}       # full key -> [rules by decreasing priority]
        self.max_priority = None
        self.n_rules = 0
        self.plens = {}         # prefix field -> (CIDR length, stage)
        # Rules that all match one exact metadata value each: partitioned.
        self.partitioned = self.mask.get("metadata") == _METADATA_EXACT
        # Ports trie (OVS's): when the final stage is tp_src/tp_dst only, a
        # miss there un-wildcards just the port bits needed to tell.
        self.ports_mask = self.ports_mlen = 0
        self.ports_trie = None
        last = self.stages[-1][1] if self.stages else ()
        if last and all(m in ("tp_src", "tp_dst") for m, _ in last):
            self.ports_mask = ((self.mask.get("tp_src", 0) << 16)
                               | self.mask.get("tp_dst", 0))
            self.ports_mlen = 32 - _ctz(self.ports_mask)
            self.ports_trie = _Trie(32)

    def stage_keys(self, flow_or_value):
        """The cumulative key of each stage (the last is the full key)."""
        get = flow_or_value.get
        keys, key = [], ()
        for _, items, _ in self.stages:
            key = key + tuple([get(m, 0) & mk for m, mk in items])
            keys.append(key)
        return keys


class _TrieNode:
    __slots__ = ("bits", "n_bits", "n_rules", "e0", "e1")

    def __init__(self, bits, n_bits, n_rules):
        self.bits = bits            # the node's N_BITS bits, MSB first
        self.n_bits = n_bits
        self.n_rules = n_rules      # rules whose prefix ends here
        self.e0 = self.e1 = None    # children: next bit 0, next bit 1


class _Trie:
    """A path-compressed binary trie of rule prefixes over WIDTH-bit values
    (OVS's prefix tree), counting rules per prefix."""

    def __init__(self, width):
        self.width = width
        self.root = None

    def _seg(self, value, ofs, n):
        return (value >> (self.width - ofs - n)) & ((1 << n) - 1)

    def insert(self, prefix, mlen):
        width = self.width
        parent, idx, node, ofs = None, 0, self.root, 0
        while node is not None:
            # Leading bits of NODE equal to PREFIX's from OFS (<= mlen - ofs).
            n = node.n_bits
            k = n if n <= mlen - ofs else mlen - ofs
            diff = (node.bits >> (n - k)) ^ \
                ((prefix >> (width - ofs - k)) & ((1 << k) - 1))
            eq = k - diff.bit_length()
            ofs += eq
            if eq < n:
                # Split NODE: a new parent holds the common bits.
                new = _TrieNode(node.bits >> (n - eq), eq,
                                1 if ofs == mlen else 0)
                old_branch = (node.bits >> (n - eq - 1)) & 1
                node.n_bits = n - eq
                node.bits &= (1 << node.n_bits) - 1
                other = None
                if ofs < mlen:
                    other = _TrieNode(self._seg(prefix, ofs, mlen - ofs),
                                      mlen - ofs, 1)
                if old_branch:
                    new.e0, new.e1 = other, node
                else:
                    new.e0, new.e1 = node, other
                self._set(parent, idx, new)
                return
            if ofs == mlen:
                node.n_rules += 1
                return
            parent, idx = node, (prefix >> (width - 1 - ofs)) & 1
            node = node.e1 if idx else node.e0
        self._set(parent, idx,
                  _TrieNode(self._seg(prefix, ofs, mlen - ofs), mlen - ofs, 1))

    def _set(self, parent, idx, node):
        if parent is None:
            self.root = node
        elif idx:
            parent.e1 = node
        else:
            parent.e0 = node

    def remove(self, prefix, mlen):
        width = self.width
        path = []               # (parent, idx) leading to each node
        parent, idx, node, ofs = None, 0, self.root, 0
        while node is not None:
            n = node.n_bits
            if n > mlen - ofs or node.bits != self._seg(prefix, ofs, n):
                break
            ofs += n
            path.append((parent, idx))
            if ofs == mlen:
                if not node.n_rules:
                    break
                node.n_rules -= 1
                # Prune nodes left without rules and with < 2 children.
                while not node.n_rules:
                    e0, e1 = node.e0, node.e1
                    if e0 is not None and e1 is not None:
                        break
                    nxt = e0 if e0 is not None else e1
                    if nxt is not None:
                        nxt.bits |= node.bits << nxt.n_bits
                        nxt.n_bits += node.n_bits
                    parent, idx = path.pop()
                    self._set(parent, idx, nxt)
                    if nxt is not None or parent is None:
                        break
                    node = parent
                return
            parent, idx = node, (prefix >> (width - 1 - ofs)) & 1
            node = node.e1 if idx else node.e0
        raise KeyError("prefix not in trie")

    def lookup(self, value):
        """(set of prefix lengths with rules matching VALUE, number of
        leading bits of VALUE that decide it), as OVS's trie_lookup_value."""
        width = self.width
        plens = set()
        prev, node, match_len = None, self.root, 0
        while node is not None:
            n = node.n_bits         # never more than width - match_len
            diff = node.bits ^ \
                ((value >> (width - match_len - n)) & ((1 << n) - 1))
            if diff:
                # Bits up to and including the first that differs.
                return plens, match_len + n - diff.bit_length() + 1
            match_len += n
            if node.n_rules:
                plens.add(match_len)
            if match_len >= width:
                return plens, width
            prev = node
            node = prev.e1 if (value >> (width - 1 - match_len)) & 1 \
                else prev.e0
        if prev is None or (prev.e0 is None and prev.e1 is None):
            return plens, match_len
        return plens, match_len + 1


_METADATA_EXACT = (1 << 64) - 1


def _ctz(x):
    return (x & -x).bit_length() - 1


def _ports(v):
    return (v.get("tp_src", 0) << 16) | v.get("tp_dst", 0)


# The fields Flow_Table:prefixes supports (ovs-vswitchd.conf.db(5)), each
# with its prerequisite (OVS's trie_lookup checks it): the dl_type the flow
# must have, or None.
_PREFIX_PREREQ = {"tun_id": None, "tun_src": None, "tun_dst": None,
                  "tun_ipv6_src": None, "tun_ipv6_dst": None,
                  "nw_src": 0x0800, "nw_dst": 0x0800,
                  "ipv6_src": 0x86dd, "ipv6_dst": 0x86dd}
_PREFIX_ALIASES = {"ip_src": "nw_src", "ip_dst": "nw_dst"}


def _or_into(wc, mask):
    for m, mk in mask.items():
        wc[m] = wc.get(m, 0) | mk


class Classifier:
    """OpenFlow table classifier (see the module essay)."""

    def __init__(self, prefix_fields=("nw_dst", "nw_src")):
        self._subtables = {}        # mask items tuple -> _Subtable
        self._order = []            # subtables by decreasing max_priority
        self._order_dirty = False
        self._n_rules = 0
        self._seq = 0
        self._prefix = {}
        # metadata value -> {partitioned subtable: its rules with that value}
        self._partitions = {}
        self.set_prefix_fields(prefix_fields)

    # --- configuration ----------------------------------------------------
    def set_prefix_fields(self, fields):
        """Track prefixes of FIELDS: at most 3 of tun_id, tun_src, tun_dst,
        tun_ipv6_src, tun_ipv6_dst, nw_src (ip_src), nw_dst (ip_dst),
        ipv6_src, ipv6_dst, as OVS's Flow_Table prefixes."""
        fields = tuple(_PREFIX_ALIASES.get(f, f) for f in fields)
        for f in fields:
            if f not in _PREFIX_PREREQ:
                raise ValueError(f"{f}: not a prefix field")
        if len(fields) > 3 or len(set(fields)) != len(fields):
            raise ValueError("at most 3 distinct prefix fields")
        self._prefix = {f: _Trie(F.STORAGE[f]) for f in fields}
        for st in self._subtables.values():
            self._set_plens(st)
            for rules in st.buckets.values():
                for r in rules:
                    self._prefix_change(st, r, 1, ports=False)

    def _set_plens(self, st):
        st.plens = {}
        for f in self._prefix:
            p = _prefix_len(st.mask.get(f, 0), F.STORAGE[f])
            if p:
                st.plens[f] = (p, stage_of(f))

    def _prefix_change(self, st, rule, delta, ports=True):
        for f, (p, _) in st.plens.items():
            if delta > 0:
                self._prefix[f].insert(rule.value.get(f, 0), p)
            else:
                self._prefix[f].remove(rule.value.get(f, 0), p)
        if ports and st.ports_trie is not None:
            if delta > 0:
                st.ports_trie.insert(_ports(rule.value), st.ports_mlen)
            else:
                st.ports_trie.remove(_ports(rule.value), st.ports_mlen)

    # --- modification -----------------------------------------------------
    def replace(self, rule):
        """Insert RULE; return the rule with the same match and priority it
        displaces, or None."""
        return self._put(rule, True)

    def insert(self, rule):
        """Insert RULE, which must not have a twin (same match, priority):
        ValueError if it has, and then nothing changes."""
        self._put(rule, False)

    def _put(self, rule, may_replace):
        if rule._subtable is not None:
            raise ValueError("rule is already in a classifier")
        items = tuple(sorted(rule.mask.items(), key=lambda i: _ORDER[i[0]]))
        st = self._subtables.get(items)
        if st is None:
            st = _Subtable(items)
            self._set_plens(st)
            self._subtables[items] = st
            self._order.append(st)
        keys = st.stage_keys(rule.value)
        full = keys[-1] if keys else ()
        rules = st.buckets.get(full)
        if rules is None:
            rules = st.buckets[full] = []
        for i, old in enumerate(rules):
            if old.priority == rule.priority:
                if not may_replace:
                    raise ValueError(
                        "a rule with this match and priority exists")
                rules[i] = rule
                rule.mask = st.mask         # one mask dict per subtable
                rule._seq = old._seq        # keeps its place in iteration
                rule._key = full
                rule._subtable = st
                old._subtable = None
                return old
        self._seq += 1
        rule._seq = self._seq
        rule.mask = st.mask
        rule._key = full
        rule._subtable = st
        # New rule: keep the bucket sorted by decreasing priority.
        i = 0
        while i < len(rules) and rules[i].priority > rule.priority:
            i += 1
        rules.insert(i, rule)
        for idx, k in zip(st.indices, keys):
            idx[k] = idx.get(k, 0) + 1
        st.n_rules += 1
        self._n_rules += 1
        self._prefix_change(st, rule, 1)
        if st.partitioned:
            part = self._partitions.setdefault(rule.value.get("metadata", 0),
                                               {})
            part[st] = part.get(st, 0) + 1
        if st.max_priority is None or rule.priority > st.max_priority:
            st.max_priority = rule.priority
            self._order_dirty = True
        return None

    def remove(self, rule):
        """Remove RULE (the object inserted).  False if it is not here."""
        st = rule._subtable
        if st is None or self._subtables.get(st.members) is not st:
            return False
        rules = st.buckets.get(rule._key)
        if not rules or not any(r is rule for r in rules):
            return False
        rules[:] = [r for r in rules if r is not rule]
        if not rules:
            del st.buckets[rule._key]
        keys = st.stage_keys(rule.value)
        for idx, k in zip(st.indices, keys):
            n = idx[k] - 1
            if n:
                idx[k] = n
            else:
                del idx[k]
        st.n_rules -= 1
        self._n_rules -= 1
        self._prefix_change(st, rule, -1)
        if st.partitioned:
            md = rule.value.get("metadata", 0)
            part = self._partitions[md]
            part[st] -= 1
            if not part[st]:
                del part[st]
                if not part:
                    del self._partitions[md]
        rule._subtable = None
        if not st.n_rules:
            del self._subtables[st.members]
            self._order.remove(st)
        elif rule.priority == st.max_priority:
            st.max_priority = max(rs[0].priority for rs in st.buckets.values())
            self._order_dirty = True
        return True

    # --- lookup -----------------------------------------------------------
    def _ordered(self):
        if self._order_dirty:
            self._order.sort(key=lambda s: -s.max_priority)
            self._order_dirty = False
        return self._order

    def lookup(self, flow, wc=None):
        """The highest-priority rule matching FLOW, or None.  ORs into WC
        (if given) the bits the answer depended on."""
        return self._lookup(flow, {} if wc is None else wc, True)

    def _lookup(self, flow, wc, allow_conjunctive):
        """OVS's classifier_lookup__: the best plain ("hard") match, and
        conjunctive ("soft") matches of higher priority, tried from the
        highest priority down: a conjunction whose n clauses all matched
        leads to a second lookup with conj_id set to its id."""
        hard = None
        soft = []
        tries = {}          # prefix field -> (matched lengths, bits needed)
        partition = None
        if self._partitions:
            partition = self._partitions.get(flow.get("metadata", 0), {})
        for st in self._ordered():
            if hard is not None and hard.priority >= st.max_priority:
                break
            if st.partitioned and st not in partition:
                # No rule here has the flow's metadata (OVS's partitions;
                # metadata is pipeline state, so this costs no megaflow).
                wc["metadata"] = _METADATA_EXACT
                continue
            rules = self._find_match_wc(st, flow, tries, wc)
            if not rules:
                continue
            match = rules[0]
            if hard is not None and match.priority <= hard.priority:
                continue
            if not match.conjunctions:
                hard = match
            elif allow_conjunctive:
                soft.append(match)
        if hard is not None:
            soft = [s for s in soft if s.priority > hard.priority]
        while soft:
            pri = max(s.priority for s in soft)
            clauses = {}        # (id, n) -> set of clause numbers matched
            for s in soft:
                if s.priority == pri:
                    for cid, k, n in s.conjunctions:
                        clauses.setdefault((cid, n), set()).add(k)
            done = sorted(cid for (cid, n), ks in clauses.items()
                          if len(ks) == n)
            if done:
                conj_flow = dict(flow)
                conj_flow["conj_id"] = done[0]
                rule = self._lookup(conj_flow, wc, False)
                if rule is not None:
                    return rule
            soft = [s for s in soft if s.priority != pri]
        return hard

    def _find_match_wc(self, st, flow, tries, wc):
        """The bucket of subtable ST matching FLOW (rules by decreasing
        priority), or None; ORs into WC what finding that out looked at."""
        if not st.stages:                   # the catch-all subtable
            return st.buckets[()]
        get = flow.get
        key = ()
        last = len(st.stages) - 1
        for i, (stage, items, cum) in enumerate(st.stages):
            if st.plens and self._trie_skip(st, stage, flow, tries, wc):
                if i:
                    _or_into(wc, st.stages[i - 1][2])
                return None
            key = key + tuple([get(m, 0) & mk for m, mk in items])
            if i < last:
                if key not in st.indices[i]:
                    _or_into(wc, cum)
                    return None
                continue
            rules = st.buckets.get(key)
            if rules is None and st.ports_trie is not None:
                # Only the port bits that rule out every rule's ports.
                if i:
                    _or_into(wc, st.stages[i - 1][2])
                pm = st.ports_mask
                _, mbits = st.ports_trie.lookup(_ports(flow) & pm)
                bits = pm & (((1 << mbits) - 1) << (32 - mbits))
                if bits >> 16:
                    wc["tp_src"] = wc.get("tp_src", 0) | bits >> 16
                if bits & 0xffff:
                    wc["tp_dst"] = wc.get("tp_dst", 0) | bits & 0xffff
                return None
            _or_into(wc, st.mask)
            return rules
        return None

    def _trie_skip(self, st, stage, flow, tries, wc):
        """Whether prefix tracking rules out subtable ST before its stage
        STAGE; if so, un-wildcards what that took (OVS's check_tries)."""
        for f, (plen, fstage) in st.plens.items():
            if fstage != stage:
                continue
            t = tries.get(f)
            if t is None:
                prereq = _PREFIX_PREREQ[f]
                if prereq is not None:
                    # OVS relies on translation always un-wildcarding
                    # dl_type; say so here too, so WC stays self-contained.
                    wc["dl_type"] = 0xffff
                if prereq is None or flow.get("dl_type", 0) == prereq:
                    t = self._prefix[f].lookup(flow.get(f, 0))
                else:
                    t = (None, 0)           # not this protocol: no skipping
                tries[f] = t
            matched, need = t
            if matched is None or plen in matched:
                continue
            width = F.STORAGE[f]
            bits = ((1 << need) - 1) << (width - need)
            if need <= plen:
                if bits:
                    wc[f] = wc.get(f, 0) | bits
                return True
            if wc.get(f, 0) & bits == bits:
                return True
        return False

    # --- queries ----------------------------------------------------------
    def find_exactly(self, value, mask, priority):
        """The rule with exactly this match and PRIORITY, or None."""
        value, mask = _normalise(value, mask)
        items = tuple(sorted(mask.items(), key=lambda i: _ORDER[i[0]]))
        st = self._subtables.get(items)
        if st is None:
            return None
        keys = st.stage_keys(value)
        for r in st.buckets.get(keys[-1] if keys else (), ()):
            if r.priority == priority:
                return r
        return None

    def find_loose(self, value, mask):
        """Rules whose match is at least as specific as VALUE/MASK, in
        iteration order (non-strict modify/delete, flow stats)."""
        value, mask = _normalise(value, mask)
        found = []
        for st in self._subtables.values():
            if any(mk & ~st.mask.get(m, 0) for m, mk in mask.items()):
                continue
            for rules in st.buckets.values():
                if rules[0].is_loose_match(value, mask):
                    found.extend(rules)
        found.sort(key=_iter_key)
        return iter(found)

    def rule_overlaps(self, rule):
        """Whether another rule of RULE's priority could match a packet that
        RULE matches (OFPFF_CHECK_OVERLAP)."""
        for st in self._subtables.values():
            if st.max_priority < rule.priority:
                continue
            for rules in st.buckets.values():
                for r in rules:
                    if r.priority != rule.priority or r is rule:
                        continue
                    if _overlap(r, rule):
                        return True
        return False

    def __iter__(self):
        rules = [r for st in self._subtables.values()
                 for rs in st.buckets.values() for r in rs]
        rules.sort(key=_iter_key)
        return iter(rules)

    def __len__(self):
        return self._n_rules

    def __contains__(self, rule):
        return rule._subtable is not None and \
            self._subtables.get(rule._subtable.members) is rule._subtable

    @property
    def n_subtables(self):
        return len(self._subtables)


def _iter_key(rule):
    return (-rule.priority, rule._seq)


def _overlap(a, b):
    for m, mk in a.mask.items():
        both = mk & b.mask.get(m, 0)
        if both and (a.value.get(m, 0) ^ b.value.get(m, 0)) & both:
            return False
    return True
