"""The datapath classifier (dpif-netdev's dpcls): megaflows by mask.

What it does
------------
The userspace datapath forwards a packet by finding the *megaflow* that
covers it: a masked flow key (the bits translation looked at, see
ofproto/classifier.py) with the datapath actions translation chose.
Megaflows carry no priority: translation builds them so that they do not
overlap, and when two did, either answer would be right, so the first one
found is taken.

The key idea
------------
Tuple space search without priorities.  Megaflows with the same mask share a
*subtable*; a subtable turns a packet's flow into a key by masking the
members its mask names, in one fixed order, into a tuple, and finds the
megaflow with one dict lookup.  A lookup therefore costs one key build and
one dict probe per subtable visited, and stops at the first hit.  Subtables
are visited in order of how often they hit: lookups count hits per subtable
and sort_subtables() (called by the datapath every second or so, as OVS's
dpcls_sort_subtable_vector) moves the busy ones to the front, so a typical
packet is resolved by the first probe.  (dpif-netdev keeps one dpcls per
input port, so a port's packets never probe other ports' subtables; a
datapath does the same with a dict in_port -> Dpcls.)

The key builder of a subtable is a small function generated for its mask
when the subtable is created (``flow.get("in_port", 0), flow.get("dl_dst",
0) & 0xff..``), because that is the per-packet cost and a generated
expression is about twice as fast as a loop over (member, mask) pairs
(bench/dpcls.py).
Member names come only from MEMBER_WIDTHS and masks are ints, so the
generated text is never built from input.

Flows are plain dicts member -> int as everywhere in pyovs (a missing member
is 0), as pyovs.packet.flow extracts them; masks the same (a missing member
is wildcarded).  The members are MEMBER_WIDTHS: openflow.fields.STORAGE plus
the packet flow's VLAN extras (vlan_tpid, vlan_tci2, vlan_tpid2).

Invariants: a megaflow is in exactly one subtable under the key of its own
(masked) value; a subtable exists only while it holds megaflows; a removed
or replaced megaflow has ``dead`` set, which is how the exact-match cache
(dpif/emc.py) knows to drop it.

Public API:
  MEMBER_WIDTHS: member -> width in bits.
  Megaflow(value, mask, actions=None): .value .mask (normalised dicts)
    .actions .dead .n_packets .n_bytes .used .tcp_flags; mf.matches(flow);
    mf.used_by(n_packets, n_bytes, now, tcp_flags=0) adds statistics.
  Dpcls(): .insert(mf) -> the displaced megaflow with the same mask and key
    (now dead) or None; .remove(mf) -> bool; .lookup(flow) -> Megaflow or
    None; .lookup_batch(flows) -> list of Megaflow or None (same answers,
    cheaper per packet); .find(value, mask) -> Megaflow or None;
    .sort_subtables(); .flush(); iter(dpcls); len(dpcls); .n_subtables.
"""

from ..openflow import fields as F
from ..odp.keys import VLAN_MEMBERS
from ..odp.tunnel import GENEVE_MEMBER, GENEVE_MEMBER_BITS

#: Members a megaflow can match, with their widths: the flow members of
#: the field table plus the datapath-only VLAN members of packet flows
#: (TPIDs and the inner VLAN header, 16 bits each) and the raw Geneve options.
MEMBER_WIDTHS = dict(F.STORAGE)
MEMBER_WIDTHS[GENEVE_MEMBER] = GENEVE_MEMBER_BITS
for _pair in VLAN_MEMBERS:
    for _m in _pair:
        MEMBER_WIDTHS.setdefault(_m, 16)
_ORDER = {m: i for i, m in enumerate(MEMBER_WIDTHS)}


_INV = {m: ~((1 << w) - 1) for m, w in MEMBER_WIDTHS.items()}


def _normalise(value, mask):
    """(value, mask) with zero masks dropped and values masked; an
    unknown member or a bad mask is a ValueError (found by the slow loop)."""
    nv, nm = {}, {}
    get = value.get
    inv = _INV
    try:
        for m, mk in mask.items():
            if mk:
                if mk & inv[m] or mk < 0:
                    break
                nm[m] = mk
                v = get(m, 0) & mk
                if v:
                    nv[m] = v
            elif m not in inv:
                break
        else:
            return nv, nm
    except (KeyError, TypeError):
        pass
    return _normalise_checked(value, mask)


def _normalise_checked(value, mask):
    nv, nm = {}, {}
    for m, mk in mask.items():
        width = MEMBER_WIDTHS.get(m)
        if width is None:
            raise ValueError(f"{m}: unknown flow member")
        if not isinstance(mk, int) or mk < 0 or mk >> width:
            raise ValueError(f"{m}: mask {mk!r} out of range")
        if mk:
            nm[m] = mk
            v = value.get(m, 0) & mk
            if v:
                nv[m] = v
    return nv, nm


class Megaflow:
    """A datapath flow: masked key, mask, actions and statistics."""
    __slots__ = ("value", "mask", "actions", "dead", "n_packets", "n_bytes",
                 "used", "tcp_flags", "_subtable", "_key", "__weakref__")

    def __init__(self, value, mask, actions=None):
        self.value, self.mask = _normalise(value, mask)
        self.actions = actions
        self.dead = False
        self.n_packets = 0
        self.n_bytes = 0
        self.used = 0
        self.tcp_flags = 0
        self._subtable = None
        self._key = None

    def matches(self, flow):
        get = flow.get
        value = self.value
        return all(get(m, 0) & mk == value.get(m, 0)
                   for m, mk in self.mask.items())

    def used_by(self, n_packets, n_bytes, now, tcp_flags=0):
        self.n_packets += n_packets
        self.n_bytes += n_bytes
        self.used = now
        self.tcp_flags |= tcp_flags

    def __repr__(self):
        parts = ",".join(f"{m}=0x{self.value.get(m, 0):x}/0x{mk:x}"
                         for m, mk in sorted(self.mask.items(),
                                             key=lambda i: _ORDER[i[0]]))
        return f"Megaflow({parts or '*'}, actions={self.actions!r})"


def _key_function(items):
    """A function flow -> key tuple for the (member, mask) ITEMS."""
    parts = []
    for m, mk in items:
        if m not in MEMBER_WIDTHS or not isinstance(mk, int):
            raise ValueError(f"{m}: bad mask item")
        if mk == (1 << MEMBER_WIDTHS[m]) - 1:
            parts.append(f"g({m!r}, 0)")
        else:
            parts.append(f"g({m!r}, 0) & {mk:#x}")
    src = ("def key(flow):\n"
           "    g = flow.get\n"
           f"    return ({', '.join(parts)}{',' if parts else ''})\n")
    namespace = {}
    exec(src, namespace)    # noqa: S102 - names and ints only
    return namespace["key"]


#: Dpcls._items()'s cache: mask items as given -> in field order.
_ITEMS = {}
_ITEMS_MAX = 4096


class _Subtable:
    __slots__ = ("items", "key", "flows", "hits")

    def __init__(self, items):
        self.items = items
        self.key = _key_function(items)
        self.flows = {}         # key tuple -> Megaflow
        self.hits = 0


class Dpcls:
    """Megaflow classifier (see the module essay)."""

    def __init__(self):
        self._by_mask = {}      # items tuple -> _Subtable
        self._ranked = []       # subtables, busiest first
        self._n = 0

    @staticmethod
    def _items(mask):
        """MASK's (member, mask) pairs in field order: a subtable's name.
        Cached by MASK's own order, which translation keeps stable."""
        raw = tuple(mask.items())
        items = _ITEMS.get(raw)
        if items is None:
            items = tuple(sorted(raw, key=lambda i: _ORDER[i[0]]))
            if len(_ITEMS) >= _ITEMS_MAX:
                _ITEMS.clear()
            _ITEMS[raw] = items
        return items

    def insert(self, mf):
        """Add MF; returns the megaflow it displaces (marked dead) or None."""
        if mf._subtable is not None or mf.dead:
            raise ValueError("megaflow already inserted or dead")
        items = self._items(mf.mask)
        st = self._by_mask.get(items)
        if st is None:
            st = self._by_mask[items] = _Subtable(items)
            self._ranked.append(st)
        key = st.key(mf.value)
        old = st.flows.get(key)
        st.flows[key] = mf
        mf._subtable, mf._key = st, key
        if old is None:
            self._n += 1
        else:
            old.dead = True
            old._subtable = None
        return old

    def remove(self, mf):
        """Remove MF and mark it dead.  False if it is not in this dpcls."""
        st = mf._subtable
        if st is None or self._by_mask.get(st.items) is not st \
                or st.flows.get(mf._key) is not mf:
            return False
        del st.flows[mf._key]
        mf.dead = True
        mf._subtable = None
        self._n -= 1
        if not st.flows:
            del self._by_mask[st.items]
            self._ranked.remove(st)
        return True

    def lookup(self, flow):
        """The megaflow covering FLOW, or None."""
        for st in self._ranked:
            mf = st.flows.get(st.key(flow))
            if mf is not None:
                st.hits += 1
                return mf
        return None

    def lookup_batch(self, flows):
        """[lookup(flow) for flow in FLOWS], with less overhead per packet:
        each subtable is probed for all packets still unresolved."""
        out = [None] * len(flows)
        todo = range(len(flows))
        for st in self._ranked:
            key, get = st.key, st.flows.get
            left = []
            hits = 0
            for i in todo:
                mf = get(key(flows[i]))
                if mf is None:
                    left.append(i)
                else:
                    out[i] = mf
                    hits += 1
            st.hits += hits
            if not left:
                break
            todo = left
        return out

    def find(self, value, mask):
        """The megaflow with exactly this match, or None.  (A subtable's
        key function masks VALUE itself; only zero masks need dropping
        before MASK names a subtable.  A mask out of range names none; an
        unknown member is a ValueError.)"""
        if 0 in mask.values():
            value, mask = _normalise(value, mask)
        try:
            items = self._items(mask)
        except KeyError:
            _normalise(value, mask)         # raises the ValueError
            raise
        st = self._by_mask.get(items)
        return st.flows.get(st.key(value)) if st else None

    def sort_subtables(self):
        """Rank subtables by hits since the last call, busiest first."""
        self._ranked.sort(key=lambda s: -s.hits)
        for st in self._ranked:
            st.hits = 0

    def flush(self):
        for mf in list(self):
            self.remove(mf)

    def __iter__(self):
        return iter([mf for st in self._ranked for mf in st.flows.values()])

    def __len__(self):
        return self._n

    @property
    def n_subtables(self):
        return len(self._by_mask)
