"""The MAC learning table behind the NORMAL action (OVS's lib/mac-learning).

A bridge that forwards with NORMAL remembers, for every (VLAN, source MAC)
it has seen, the port the frame came in on; a later frame to that MAC on that
VLAN goes out of that port only instead of being flooded.

The rules are OVS's:

- Multicast (and broadcast) source addresses are never learned.
- An entry ages out ``idle_time`` seconds (other_config:mac-aging-time,
  default 300) after the last frame from it; the age fdb/show prints is the
  time since that frame.
- The table holds at most ``max_entries`` entries (other_config:
  mac-table-size, default 8192).  Learning a new address in a full table
  evicts fairly: the least recently used entry of the port that holds the
  most entries.
- A frame from a known address on a new port moves the entry (counted as a
  "port moved" entry).  Every learn, even on the same port, makes the entry
  the most recently used and restarts its age.
- Static entries (fdb/add) never age, are never evicted nor moved by
  learning, and survive fdb/flush; fdb/del removes them.

``now`` is passed in (seconds, as time_now() in OVS), so the table is a pure
data structure.  ``seqno`` is bumped by every change that can alter a
forwarding decision (a new entry, a port move, an expiry, an eviction, a
flush), so the datapath knows when its megaflows need revalidating;
``changes``, when the datapath sets it to a set, also collects the
(mac, vlan) of each such change, so it can revalidate only the megaflows
that looked those entries up.

fdb/show lists entries from the least to the most recently used, as OVS does.

Public API:
  MAC_DEFAULT_MAX = 8192, MAC_MIN_ENTRIES = 10, MAC_ENTRY_DEFAULT_IDLE_TIME = 300
  MacLearning(idle_time=300, max_entries=8192):
    .may_learn(mac, vlan) -> bool
    .learn(mac, vlan, port, now) -> bool (True when a forwarding decision may
      change: new entry or moved; static entries are left alone)
    .lookup(mac, vlan) -> port or None (no LRU effect, as OVS's lookup)
    .add_static(mac, vlan, port, now) ; .del_static(mac, vlan) -> bool
    .run(now) -> bool (expired or over-limit entries removed)
    .flush(port=None, vlan=None, include_static=None) -> number removed
      (fdb/flush without arguments keeps static entries; flushing a port
      or a VLAN removes its static entries too)
    .set_idle_time(seconds), .set_max_entries(n)
    .next_expiry() -> seconds or None
    .entries() -> list of MacEntry in LRU order; len(table); .seqno
    .changes: None, or a set that gets the (mac, vlan) of every change
    .format_show(now, port_to_string=None) -> fdb/show text
    .format_stats(bridge) -> fdb/stats-show text ; .clear_stats()
  MacEntry: .mac .vlan .port .expires .static
"""

from collections import OrderedDict

MAC_DEFAULT_MAX = 8192
MAC_ENTRY_DEFAULT_IDLE_TIME = 300
MAC_MIN_ENTRIES = 10              # OVS's least mac-table-size
MAC_ENTRY_MIN_IDLE_TIME = 15      # OVS clamps mac-aging-time to [15, 3600]
MAC_ENTRY_MAX_IDLE_TIME = 3600

OFPP_LOCAL = 0xfffe


def is_multicast(mac):
    """The group bit of a 48-bit MAC (as an int)."""
    return bool(mac >> 40 & 1)


def format_mac(mac):
    return ":".join("%02x" % (mac >> s & 0xff) for s in range(40, -8, -8))


def _default_port_to_string(port):
    return "LOCAL" if port == OFPP_LOCAL else str(port)


class MacEntry:
    __slots__ = ("mac", "vlan", "port", "expires", "static")

    def __init__(self, mac, vlan, port, expires, static=False):
        self.mac, self.vlan, self.port = mac, vlan, port
        self.expires, self.static = expires, static

    def __repr__(self):
        return "MacEntry(%s, vlan=%d, port=%r%s)" % (
            format_mac(self.mac), self.vlan, self.port, ", static" if self.static else "")


class MacLearning:
    """See the module docstring."""

    def __init__(self, idle_time=MAC_ENTRY_DEFAULT_IDLE_TIME, max_entries=MAC_DEFAULT_MAX):
        self.idle_time = self._clamp_idle(idle_time)
        self.max_entries = max(MAC_MIN_ENTRIES, int(max_entries))
        self._lru = OrderedDict()          # (vlan, mac) -> MacEntry, least recent first
        self._port_lru = {}                # port -> OrderedDict of keys (learned only)
        self.seqno = 0
        self.changes = None                # set of (mac, vlan) changed, when wanted
        self.n_static = 0
        self.clear_stats()

    # --- configuration ------------------------------------------------------------------

    @staticmethod
    def _clamp_idle(idle_time):
        idle_time = int(idle_time)
        return min(max(idle_time, MAC_ENTRY_MIN_IDLE_TIME), MAC_ENTRY_MAX_IDLE_TIME)

    def set_idle_time(self, idle_time):
        """Change the aging time; existing entries are re-timed by the difference."""
        idle_time = self._clamp_idle(idle_time)
        delta = idle_time - self.idle_time
        if delta:
            for e in self._lru.values():
                if not e.static:
                    e.expires += delta
            self.idle_time = idle_time

    def set_max_entries(self, n):
        """At least 10, as OVS; takes effect (expiring the least recently used)
        at the next run()."""
        self.max_entries = max(MAC_MIN_ENTRIES, int(n))

    def clear_stats(self):
        self.total_learned = self.total_expired = self.total_evicted = self.total_moved = 0

    # --- learning -----------------------------------------------------------------------

    def may_learn(self, mac, vlan):
        return not is_multicast(mac)

    def learn(self, mac, vlan, port, now):
        """A frame from MAC on VLAN arrived on PORT.  True if forwarding may change."""
        if not self.may_learn(mac, vlan):
            return False
        key = (vlan, mac)
        e = self._lru.get(key)
        if e is not None and e.static:
            return False
        changed = False
        if e is None:
            if len(self._lru) >= self.max_entries:
                self._evict_fairly()
            e = MacEntry(mac, vlan, port, now + self.idle_time)
            self._lru[key] = e
            self._port_add(port, key)
            self.total_learned += 1
            changed = True
        else:
            self._lru.move_to_end(key)
            e.expires = now + self.idle_time
            if e.port != port:
                self._port_del(e.port, key)
                e.port = port
                self._port_add(port, key)
                self.total_moved += 1
                changed = True
            else:
                self._port_lru[port].move_to_end(key)
        if changed:
            self.seqno += 1
            if self.changes is not None:
                self.changes.add((mac, vlan))
        return changed

    def lookup(self, mac, vlan):
        e = self._lru.get((vlan, mac))
        return None if e is None else e.port

    def get(self, mac, vlan):
        return self._lru.get((vlan, mac))

    def add_static(self, mac, vlan, port, now):
        """fdb/add: a static entry (replacing a learned one)."""
        key = (vlan, mac)
        e = self._lru.get(key)
        if e is None:
            if len(self._lru) >= self.max_entries:
                self._evict_fairly()
            e = MacEntry(mac, vlan, port, None, True)
            self._lru[key] = e
            self.n_static += 1
        else:
            self._lru.move_to_end(key)
            if not e.static:
                self._port_del(e.port, key)
                e.static = True
                self.n_static += 1
            e.port, e.expires = port, None
        self.seqno += 1
        if self.changes is not None:
            self.changes.add((mac, vlan))
        return True

    def del_static(self, mac, vlan):
        """fdb/del: False if there is no static entry for (MAC, VLAN)."""
        e = self._lru.get((vlan, mac))
        if e is None or not e.static:
            return False
        self._remove(e)
        self.seqno += 1
        return True

    # --- aging and eviction -------------------------------------------------------------

    def run(self, now):
        """Expire idle entries and trim to max_entries.  True if any went."""
        removed = False
        for e in list(self._lru.values()):
            if e.static:
                continue
            if len(self._lru) > self.max_entries or now >= e.expires:
                self._remove(e)
                self.total_expired += 1
                removed = True
            else:
                break       # entries are in LRU order: later ones expire later
        if removed:
            self.seqno += 1
        return removed

    def next_expiry(self):
        for e in self._lru.values():
            if not e.static:
                return e.expires
        return None

    def _evict_fairly(self):
        if not self._port_lru:
            return
        port = max(self._port_lru, key=lambda p: len(self._port_lru[p]))
        key = next(iter(self._port_lru[port]))
        self._remove(self._lru[key])
        self.total_evicted += 1
        self.seqno += 1

    def flush(self, port=None, vlan=None, include_static=None):
        """Remove the entries of PORT and/or VLAN (all when both None)."""
        if include_static is None:
            include_static = port is not None or vlan is not None
        doomed = [e for e in self._lru.values()
                  if (port is None or e.port == port) and (vlan is None or e.vlan == vlan)
                  and (include_static or not e.static)]
        for e in doomed:
            self._remove(e)
        if doomed:
            self.seqno += 1
        return len(doomed)

    # --- internals ----------------------------------------------------------------------

    def _port_add(self, port, key):
        self._port_lru.setdefault(port, OrderedDict())[key] = None

    def _port_del(self, port, key):
        keys = self._port_lru.get(port)
        if keys is not None:
            keys.pop(key, None)
            if not keys:
                del self._port_lru[port]

    def _remove(self, e):
        key = (e.vlan, e.mac)
        del self._lru[key]
        if self.changes is not None:
            self.changes.add((e.mac, e.vlan))
        if e.static:
            self.n_static -= 1
        else:
            self._port_del(e.port, key)

    # --- views --------------------------------------------------------------------------

    def __len__(self):
        return len(self._lru)

    def entries(self):
        return list(self._lru.values())

    def format_show(self, now, port_to_string=None):
        """The text of `ovs-appctl fdb/show BRIDGE`."""
        name = port_to_string or _default_port_to_string
        lines = [" port  VLAN  MAC                Age"]
        for e in self._lru.values():
            age = "static" if e.static else "%3d" % int(now - (e.expires - self.idle_time))
            lines.append("%5s  %4d  %s  %s" % (name(e.port), e.vlan, format_mac(e.mac), age))
        return "\n".join(lines) + "\n"

    def format_stats(self, bridge):
        """The text of `ovs-appctl fdb/stats-show BRIDGE`."""
        return ('Statistics for bridge "%s":\n'
                "  Current/maximum MAC entries in the table: %d/%d\n"
                "  Current static MAC entries in the table : %d\n"
                "  Total number of learned MAC entries     : %d\n"
                "  Total number of expired MAC entries     : %d\n"
                "  Total number of evicted MAC entries     : %d\n"
                "  Total number of port moved MAC entries  : %d\n"
                % (bridge, len(self._lru), self.max_entries, self.n_static,
                   self.total_learned, self.total_expired, self.total_evicted,
                   self.total_moved))
