"""The OpenFlow switch's state: ports, flow tables, groups and meters.

What it does
------------
OFProto is the part of ovs-vswitchd's ofproto that owns what OpenFlow can
see and change, and nothing that moves packets.  It is sans-I/O: every
method that depends on time takes ``now`` (seconds, a float) from the caller,
and what the switch must tell its controllers (flow-removed, port-status) is
queued as events that the connection manager (connmgr.py) drains and
encodes per connection.

The tables
----------
Each of the N tables is a classifier (classifier.py) whose rule payloads are
:class:`OFRule` objects: match, priority, cookie, timeouts, flags, actions,
the times it was created/modified/last used and its packet/byte counters.
flow_mod follows OVS's ofproto.c:

* add: table 0xff means table 0; an identical rule (same match and
  priority) is replaced, keeping its counters unless RESET_COUNTS, and
  CHECK_OVERLAP refuses a rule that overlaps another of the same priority.
* modify/modify_strict: every (loosely/strictly) matching rule, in every
  table when table_id is 0xff, filtered by cookie/cookie_mask, gets the new
  actions; the cookie changes only when new_cookie is not all-ones;
  timeouts, flags and creation time stay; RESET_COUNTS zeroes counters.
  When nothing matches, modify adds the flow if it sets a cookie and
  selects none (OpenFlow 1.0 and NXM flow_mods; 1.1+ modify never adds).
* delete/delete_strict: the same selection, plus out_port/out_group (the
  rule must output to that port / group); SEND_FLOW_REM rules report
  reason "delete".

Idle and hard timeouts are checked by run(now); expired rules are removed
and, with SEND_FLOW_REM, reported.  Counters are credited by
credit_stats(rule, packets, bytes, now) -- the datapath's hook -- which also
refreshes the idle timer.  Every change that can alter forwarding bumps
``changed``, the sequence number the datapath's revalidator watches.

Public API:
  OFProto(name, datapath_id=None, n_tables=254, now=0.0)
    .ports: dict ofp_port -> OFPort (.name .hw_addr .config .link_down
    .stats: device counters for port stats); add_port(name, port_no=None,
    hw_addr=None, now=0.0) (LOCAL, named after the bridge, exists from the
    start); del_port(port_no); set_port_link(port_no, up);
    port_mod(PortMod) (OFPError); port_by_name(name); phy_ports(version)
    .tables: list of OFTable (.cls, .n_lookup, .n_matched, .config)
    handle_flow_mod(fm, now) (raises OFPError with OVS's error)
    collect_rules(table_id, match, priority=None, strict=False, cookie=0,
      cookie_mask=0, out_port=OFPP_ANY, out_group=OFPG_ANY) -> [OFRule]
    flow_stats(...same selection..., now) -> [flow.FlowStats]
    aggregate(...) -> (packets, bytes, flows); table_stats() -> [dict]
    credit_stats(rule, packets, bytes_, now); run(now); next_deadline()
    group_mod(GroupMod, now), group_list(id), group_stats(group_id, now)
    meter_mod(MeterMod, now), meter_list(id), meter_stats(meter_id, now)
    snapshot() / restore(snap): all-or-nothing application (bundles)
    link_follows_admin: a port's link goes down with its admin state (true
      for ports without a device, as OVS's dummy netdev; the datapath
      clears it and reports links with set_port_link)
    fail_mode ("secure" or "standalone"): the table-miss behaviour when
      no controller is connected; miss_actions(connected) tells translation
      what a miss does (a learning switch or drop; "controller" otherwise)
    events: list of ("flow_removed", FlowRemoved) / ("port_status",
      OFPort snapshot, reason); take_events() empties it.
    flow_updates: what flow monitors (ofmonitor.py) hear of: a FlowChange
      per flow added, modified or deleted, None ending the updates OVS
      sends in one message (each expired flow alone);
      take_flow_updates() empties it.
    requester: (connection, xid) of the flow_mod being applied, set by the
      connection manager (FlowChange.requester: abbreviated updates).
    changed: int, bumped on every forwarding change.
"""

import copy
import itertools
import random
import uuid
from typing import NamedTuple

from ..openflow import flow as FL
from ..openflow import groups as G
from ..openflow import meters as MT
from ..openflow.actions import (Output, Enqueue, Group as GroupAction,
                                WriteActions, Clone)
from ..openflow.async_msgs import FlowRemoved
from ..openflow.errors import OFPError
from ..openflow.messages import PhyPort, OFP10, PORT_STATS_FIELDS
from ..openflow.tlv_table import TlvTable, tun_metadata_used
from ..openflow.ports import OFPP_ANY, OFPP_LOCAL, OFPP_MAX
from .classifier import Classifier, Rule, match_to_dicts

ALL_ONES64 = (1 << 64) - 1
OFPG_ANY = FL.OFPG_ANY
OFPTT_ALL = 0xff
OFPTT_HIDDEN = 0xfe

# Port config/state bits (OpenFlow 1.0 values; 1.1+ shares these bits).
OFPPC_PORT_DOWN = 1 << 0
OFPPC_NO_RECV = 1 << 2
OFPPC_NO_FWD = 1 << 5
OFPPC_NO_PACKET_IN = 1 << 6
OFPPC_CONFIG_MASK = (OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD
                     | OFPPC_NO_PACKET_IN)
OFPPC10_EXTRA = (1 << 1) | (1 << 3) | (1 << 4)     # no_stp, no_recv_stp, no_flood
OFPPS_LINK_DOWN = 1 << 0
OFPPS11_LIVE = 1 << 2

OFPRR_IDLE_TIMEOUT, OFPRR_HARD_TIMEOUT, OFPRR_DELETE = 0, 1, 2
OFPRR_GROUP_DELETE, OFPRR_METER_DELETE = 3, 4
OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY = 0, 1, 2

MAX_TABLES = 255
MAX_PORTS = 0xfeff


def _err(name):
    from ..openflow.errors import OFPERR_NAMES
    for key, value in OFPERR_NAMES.items():
        if value == name:
            return OFPError(key[0], key[1], name=name)
    return OFPError(1, 6, name=name)


class OFPort:
    """An OpenFlow port: number, name, address, config and link state."""

    def __init__(self, port_no, name, hw_addr, now=0.0):
        self.port_no = port_no
        self.name = name
        self.hw_addr = hw_addr
        self.config = 0
        self.link_down = False
        self.created = now
        # Counters the device reports (messages.PORT_STATS_FIELDS); the
        # datapath updates them.  Unknown ones are all-ones, as OVS prints
        # them "?": without a device only packets and bytes are known.
        self.stats = {k: (0 if k.endswith(("_packets", "_bytes")) else ALL_ONES64)
                      for k in PORT_STATS_FIELDS}

    def state(self, version):
        if self.link_down:
            return OFPPS_LINK_DOWN
        if version != OFP10 and not self.config & OFPPC_PORT_DOWN:
            return OFPPS11_LIVE
        return 0

    def phy(self, version):
        return PhyPort(self.port_no, self.hw_addr, self.name, self.config,
                       self.state(version), 0, 0, 0, 0, 0, 0)


class FlowChange(NamedTuple):
    """A flow added, modified or deleted, as flow monitors hear of it:
    EVENT (flow_monitor.NXFME_*), the RULE, its ACTIONS and COOKIE then,
    REASON (deleted), OLD_ACTIONS (modified actions: monitors on an
    out_port the old ones output to hear of it too) and REQUESTER."""
    event: int
    rule: object
    actions: list
    cookie: int
    reason: int = 0
    old_actions: list = None
    requester: object = None

    def __deepcopy__(self, memo):
        # (snapshot(): the rule is copied with the tables, the requester,
        # a connection, is not copied at all)
        return FlowChange(*[v if i == 6 else copy.deepcopy(v, memo)
                            for i, v in enumerate(self)])


NXFME_ADDED, NXFME_DELETED, NXFME_MODIFIED = 0, 1, 2
_monitor_seqno = itertools.count(1)     # (process-wide, as OVS's)


def next_monitor_seqno():
    return next(_monitor_seqno)


def _conjunctions(actions):
    """The classifier's (id, k, n) of a flow's conjunction(id, k/n) actions."""
    return tuple((a.conj_id, a.clause + 1, a.n_clauses) for a in actions
                 if type(a).__name__ == "Conjunction")


class OFRule:
    """An OpenFlow flow: the classifier rule's payload."""
    __slots__ = ("table_id", "match", "priority", "cookie", "idle_timeout",
                 "hard_timeout", "importance", "flags", "actions", "created",
                 "modified", "used", "packet_count", "byte_count", "cr",
                 "add_seqno", "modify_seqno")

    def __init__(self, fm, table_id, now):
        self.table_id = table_id
        self.match = fm.match.copy()
        self.priority = fm.priority
        self.cookie = fm.new_cookie if fm.new_cookie != ALL_ONES64 else 0
        self.idle_timeout = fm.idle_timeout
        self.hard_timeout = fm.hard_timeout
        self.importance = fm.importance
        self.flags = fm.flags & (FL.FF_SEND_FLOW_REM | FL.FF_NO_PKT_COUNTS
                                 | FL.FF_NO_BYT_COUNTS | FL.FF_RESET_COUNTS
                                 | FL.FF_CHECK_OVERLAP)
        self.actions = list(fm.actions)
        self.created = self.modified = self.used = now
        self.packet_count = self.byte_count = 0
        # when flow monitors last heard it added / modified (ofmonitor.py)
        self.add_seqno = self.modify_seqno = 0
        value, mask = match_to_dicts(self.match)
        self.cr = Rule(value, mask, self.priority, self,
                       _conjunctions(self.actions))

    def expiry(self):
        """(time, reason) of the earliest timeout, or None."""
        best = None
        if self.hard_timeout:
            best = (self.modified + self.hard_timeout, OFPRR_HARD_TIMEOUT)
        if self.idle_timeout:
            t = self.used + self.idle_timeout
            if best is None or t < best[0]:
                best = (t, OFPRR_IDLE_TIMEOUT)
        return best

    def outputs_to(self, port):
        return actions_output_to(self.actions, port)

    def uses_group(self, group_id):
        return group_id == OFPG_ANY or _any_action(
            self.actions, lambda a: isinstance(a, GroupAction)
            and a.group_id == group_id)

    def stats(self, now):
        sec, frac = _duration(now - self.created)
        return FL.FlowStats(
            table_id=self.table_id, duration_sec=sec, duration_nsec=frac,
            priority=self.priority, idle_timeout=self.idle_timeout,
            hard_timeout=self.hard_timeout,
            flags=self.flags,
            importance=self.importance, cookie=self.cookie,
            packet_count=self.packet_count, byte_count=self.byte_count,
            idle_age=int(now - self.used), hard_age=int(now - self.modified),
            match=self.match.copy(), actions=list(self.actions))

    def removed(self, reason, now):
        sec, frac = _duration(now - self.created)
        return FlowRemoved(self.match.copy(), self.cookie, self.priority,
                           reason, self.table_id, sec, frac,
                           self.idle_timeout, self.hard_timeout,
                           self.packet_count, self.byte_count)


def actions_output_to(actions, port):
    """Whether ACTIONS output to PORT (any port for OFPP_ANY)."""
    return port == OFPP_ANY or _any_action(
        actions, lambda a: isinstance(a, (Output, Enqueue)) and a.port == port)


def _any_action(actions, pred):
    for a in actions:
        if pred(a):
            return True
        inner = getattr(a, "actions", None)
        if isinstance(a, (WriteActions, Clone)) and inner \
                and _any_action(inner, pred):
            return True
    return False


def _duration(seconds):
    """(sec, nsec) at OVS's millisecond resolution."""
    ms = int(max(0.0, seconds) * 1000)
    return ms // 1000, ms % 1000 * 1000000


class OFTable:
    """One flow table: its classifier and lookup counters."""

    def __init__(self, table_id):
        self.table_id = table_id
        self.cls = Classifier()
        self.n_lookup = 0
        self.n_matched = 0
        self.config = 0

    def rules(self):
        return [r.payload for r in self.cls]


class OFProto:
    """The OpenFlow switch's state (see the module essay)."""

    def __init__(self, name, datapath_id=None, n_tables=254, now=0.0):
        if not 1 <= n_tables <= MAX_TABLES:
            raise ValueError("n_tables must be 1..255")
        self.name = name
        self.now0 = now
        self.local_mac = random.getrandbits(48) & ~(1 << 40) | (1 << 41)
        self.datapath_id = (datapath_id if datapath_id is not None
                            else self.local_mac)
        self.tables = [OFTable(i) for i in range(n_tables)]
        self.ports = {}
        self.groups = {}            # id -> (Group, created)
        self.meters = {}            # id -> (Meter, created)
        self.events = []
        self.changed = 0
        self._timed = {}            # OFRule -> None: rules with a timeout
        self.fail_mode = "secure"
        self.frag_handling = 0
        self.link_follows_admin = True
        self.tlv_table = TlvTable()     # tun_metadata<i> -> Geneve option
        self.requester = None
        self.flow_updates = []
        self.uuid = uuid.uuid4()    # (continuations name their bridge)
        self.add_port(name, OFPP_LOCAL, self.local_mac, now=now)

    # --- ports -------------------------------------------------------------
    def _next_port_no(self):
        n = 1
        while n in self.ports:
            n += 1
        return n

    def add_port(self, name, port_no=None, hw_addr=None, now=0.0):
        """Add port NAME (ofp_port PORT_NO or the lowest free number)."""
        if self.port_by_name(name) is not None:
            raise ValueError(f"{name}: port exists")
        if port_no is None:
            port_no = self._next_port_no()
        if port_no in self.ports or not (1 <= port_no <= MAX_PORTS
                                         or port_no == OFPP_LOCAL):
            raise ValueError(f"{port_no}: bad or used port number")
        if len(self.ports) >= MAX_PORTS:
            raise ValueError("too many ports")
        if hw_addr is None:
            hw_addr = random.getrandbits(48) & ~(1 << 40) | (1 << 41)
        port = OFPort(port_no, name, hw_addr, now)
        self.ports[port_no] = port
        if port_no != OFPP_LOCAL or len(self.ports) > 1:
            self.events.append(("port_status", copy.copy(port), OFPPR_ADD))
        self.changed += 1
        return port

    def del_port(self, port_no):
        port = self.ports.pop(port_no)
        self.events.append(("port_status", copy.copy(port), OFPPR_DELETE))
        self.changed += 1

    def port_by_name(self, name):
        for p in self.ports.values():
            if p.name == name:
                return p
        return None

    def set_port_link(self, port_no, up):
        port = self.ports[port_no]
        if port.link_down == (not up):
            return
        port.link_down = not up
        self.events.append(("port_status", copy.copy(port), OFPPR_MODIFY))
        self.changed += 1

    def port_mod(self, pm):
        port = self.ports.get(pm.port_no)
        if port is None:
            raise _err("OFPPMFC_BAD_PORT")
        if pm.hw_addr != port.hw_addr:
            raise _err("OFPPMFC_BAD_HW_ADDR")
        mask = pm.mask & (OFPPC_CONFIG_MASK | OFPPC10_EXTRA)
        new = (port.config & ~mask) | (pm.config & mask)
        if new != port.config:
            port.config = new
            self.events.append(("port_status", copy.copy(port), OFPPR_MODIFY))
            self.changed += 1
            if self.link_follows_admin:
                # A port without a device (the dummy netdev) takes its
                # carrier from the admin state, reported as a second change.
                self.set_port_link(port.port_no,
                                   not new & OFPPC_PORT_DOWN)

    def phy_ports(self, version):
        """Ports for features/port-desc replies, LOCAL last as OVS lists them."""
        return [self.ports[n].phy(version)
                for n in sorted(self.ports, key=lambda n: (n == OFPP_LOCAL, n))]

    # --- flow_mod ----------------------------------------------------------
    def _table_for_add(self, table_id):
        if table_id == OFPTT_ALL:
            return 0
        if table_id == len(self.tables) or table_id == OFPTT_HIDDEN:
            raise _err("OFPBRC_EPERM")       # OVS's read-only hidden table
        if table_id >= len(self.tables):
            raise _err("OFPBRC_BAD_TABLE_ID")
        return table_id

    def handle_flow_mod(self, fm, now):
        """Apply flow_mod FM (flow.FlowMod) as OVS does; OFPError on refusal."""
        if fm.command == FL.OFPFC_ADD:
            self._add(fm, now)
        elif fm.command in (FL.OFPFC_MODIFY, FL.OFPFC_MODIFY_STRICT):
            self._modify(fm, now, fm.command == FL.OFPFC_MODIFY_STRICT)
        elif fm.command in (FL.OFPFC_DELETE, FL.OFPFC_DELETE_STRICT):
            strict = fm.command == FL.OFPFC_DELETE_STRICT
            rules = self.collect_rules(fm.table_id, fm.match, fm.priority,
                                       strict, fm.cookie, fm.cookie_mask,
                                       fm.out_port, fm.out_group)
            self._remove(rules, OFPRR_DELETE, now)
        else:
            raise _err("OFPFMFC_BAD_COMMAND")

    def _check_refs(self, fm):
        for a in fm.actions:
            if isinstance(a, GroupAction) and a.group_id not in self.groups:
                raise _err("OFPBAC_BAD_OUT_GROUP")
            if type(a).__name__ == "Meter" and a.meter_id not in self.meters:
                raise _err("OFPMMFC_INVALID_METER")
            if isinstance(a, Output) and a.port < OFPP_MAX and a.port == 0:
                raise _err("OFPBAC_BAD_OUT_PORT")
        for index in tun_metadata_used(fm.match, fm.actions):
            if self.tlv_table.length_of(index) is None:
                raise _err("NXFMFC_INVALID_TLV_FIELD")

    def tlv_table_mod(self, command, mappings):
        """NXT_TLV_TABLE_MOD: a mapping a flow uses cannot be deleted."""
        used = set()
        for t in self.tables:
            for rule in t.rules():
                used |= tun_metadata_used(rule.match, rule.actions)
        self.tlv_table.mod(command, mappings, used.__contains__)

    def _add(self, fm, now):
        table_id = self._table_for_add(fm.table_id)
        self._check_refs(fm)
        table = self.tables[table_id]
        rule = OFRule(fm, table_id, now)
        if fm.flags & FL.FF_CHECK_OVERLAP and table.cls.rule_overlaps(rule.cr):
            raise _err("OFPFMFC_OVERLAP")
        old = table.cls.replace(rule.cr)
        old_actions = None
        if old is not None:
            self._timed.pop(old.payload, None)
            if not fm.flags & FL.FF_RESET_COUNTS:
                rule.packet_count = old.payload.packet_count
                rule.byte_count = old.payload.byte_count
            if old.payload.actions != rule.actions:
                old_actions = old.payload.actions
        if rule.idle_timeout or rule.hard_timeout:
            self._timed[rule] = None
        self._report(NXFME_ADDED, rule, old_actions=old_actions)
        self.changed += 1

    def _modify(self, fm, now, strict):
        rules = self.collect_rules(fm.table_id, fm.match, fm.priority, strict,
                                   fm.cookie, fm.cookie_mask)
        if not rules:
            if fm.cookie_mask == 0 and fm.new_cookie != ALL_ONES64:
                self._add(FL.FlowMod(**{**fm.__dict__,
                                        "command": FL.OFPFC_ADD}), now)
            return
        self._check_refs(fm)
        for rule in rules:
            old_actions, old_cookie = rule.actions, rule.cookie
            rule.actions = list(fm.actions)
            rule.cr.conjunctions = _conjunctions(rule.actions)
            if fm.new_cookie != ALL_ONES64:
                rule.cookie = fm.new_cookie
            rule.modified = now
            if fm.flags & FL.FF_RESET_COUNTS:
                rule.packet_count = rule.byte_count = 0
            # As OVS: a modification that changes neither the actions nor
            # the cookie is no news.
            if old_actions != rule.actions:
                self._report(NXFME_MODIFIED, rule, old_actions=old_actions)
            elif old_cookie != rule.cookie:
                self._report(NXFME_MODIFIED, rule)
        self.changed += 1

    def _remove(self, rules, reason, now):
        for rule in rules:
            self.tables[rule.table_id].cls.remove(rule.cr)
            self._timed.pop(rule, None)
            if rule.flags & FL.FF_SEND_FLOW_REM:
                self.events.append(("flow_removed", rule.removed(reason, now)))
            self._report(NXFME_DELETED, rule, reason)
        if rules:
            self.changed += 1

    def _report(self, event, rule, reason=0, old_actions=None):
        if event == NXFME_ADDED:
            rule.add_seqno = rule.modify_seqno = next(_monitor_seqno)
        elif event == NXFME_MODIFIED:
            rule.modify_seqno = next(_monitor_seqno)
        self.flow_updates.append(FlowChange(
            event, rule, rule.actions, rule.cookie, reason, old_actions,
            self.requester))

    def collect_rules(self, table_id, match, priority=None, strict=False,
                      cookie=0, cookie_mask=0, out_port=OFPP_ANY,
                      out_group=OFPG_ANY):
        """The rules a flow_mod or stats request selects, OVS's way."""
        if table_id != OFPTT_ALL and table_id >= len(self.tables):
            raise _err("OFPBRC_BAD_TABLE_ID")
        tables = self.tables if table_id == OFPTT_ALL else [self.tables[table_id]]
        value, mask = match_to_dicts(match)
        found = []
        for t in tables:
            if strict:
                r = t.cls.find_exactly(value, mask, priority)
                cands = [r] if r is not None else []
            else:
                cands = list(t.cls.find_loose(value, mask))
            for r in cands:
                rule = r.payload
                if (rule.cookie ^ cookie) & cookie_mask:
                    continue
                if not rule.outputs_to(out_port) or not rule.uses_group(out_group):
                    continue
                found.append(rule)
        return found

    def flow_stats(self, table_id, match, out_port=OFPP_ANY,
                   out_group=OFPG_ANY, cookie=0, cookie_mask=0, now=0.0):
        return [r.stats(now) for r in self.collect_rules(
            table_id, match, None, False, cookie, cookie_mask, out_port,
            out_group)]

    def aggregate(self, table_id, match, out_port=OFPP_ANY,
                  out_group=OFPG_ANY, cookie=0, cookie_mask=0):
        packets = bytes_ = 0
        rules = self.collect_rules(table_id, match, None, False, cookie,
                                   cookie_mask, out_port, out_group)
        for r in rules:
            packets += r.packet_count
            bytes_ += r.byte_count
        return packets, bytes_, len(rules)

    def table_stats(self):
        last = len(self.tables) - 1
        return [dict(table_id=t.table_id, name="", max_entries=1000000,
                     active=len(t.cls), lookup=t.n_lookup, matched=t.n_matched,
                     instructions=0x3c if i == last else 0x3e)
                for i, t in enumerate(self.tables)]

    # --- time and statistics ------------------------------------------------
    def credit_stats(self, rule, packets, bytes_, now):
        """The datapath's hook: PACKETS/BYTES went through RULE at NOW
        (not counted when the flow asked for no_packet/byte_counts; they
        then read 0, as OVS's)."""
        if not rule.flags & FL.FF_NO_PKT_COUNTS:
            rule.packet_count += packets
        if not rule.flags & FL.FF_NO_BYT_COUNTS:
            rule.byte_count += bytes_
        if packets:
            rule.used = max(rule.used, now)

    def run(self, now):
        """Expire rules whose idle or hard timeout has passed."""
        expired = []
        for r in self._timed:
            exp = r.expiry()
            if exp[0] <= now:
                expired.append((r, exp[1]))
        for r, reason in expired:
            self._remove([r], reason, now)
            self.flow_updates.append(None)

    def next_deadline(self):
        """The earliest time run() has something to do, or None."""
        return min((r.expiry()[0] for r in self._timed), default=None)

    def snapshot(self):
        """A copy of the state flow_mods, group/meter/port mods change (for
        all-or-nothing bundle commits); restore(snapshot) puts it back."""
        keep = ("tables", "groups", "meters", "_timed", "events", "ports",
                "changed", "flow_updates")
        return copy.deepcopy({k: getattr(self, k) for k in keep})

    def restore(self, snap):
        for k, v in snap.items():
            setattr(self, k, v)

    def take_events(self):
        ev, self.events = self.events, []
        return ev

    def take_flow_updates(self):
        fu, self.flow_updates = self.flow_updates, []
        return fu

    def miss_actions(self, controller_connected):
        """What a table miss does: "controller" (send to the controller per
        the table-miss rules of the version), "normal" (standalone with no
        controller: a learning switch) or "drop"."""
        if controller_connected:
            return "controller"
        return "normal" if self.fail_mode == "standalone" else "drop"

    # --- groups ------------------------------------------------------------
    def group_mod(self, gm, now):
        g = gm.group
        if gm.command in (G.OFPGC_ADD, G.OFPGC_MODIFY) and g.type not in G.TYPES:
            raise _err("OFPGMFC_BAD_TYPE")
        if gm.command == G.OFPGC_ADD:
            if g.group_id > G.OFPG_MAX:
                raise _err("OFPGMFC_INVALID_GROUP")
            if g.group_id in self.groups:
                raise _err("OFPGMFC_GROUP_EXISTS")
            self.groups[g.group_id] = (g, now)
        elif gm.command == G.OFPGC_MODIFY:
            if g.group_id not in self.groups:
                raise _err("OFPGMFC_UNKNOWN_GROUP")
            self.groups[g.group_id] = (g, self.groups[g.group_id][1])
        elif gm.command == G.OFPGC_DELETE:
            ids = (list(self.groups) if g.group_id == G.OFPG_ALL
                   else [g.group_id] if g.group_id in self.groups else [])
            for gid in ids:
                del self.groups[gid]
                rules = [r for t in self.tables for r in t.rules()
                         if r.uses_group(gid)]
                self._remove(rules, OFPRR_GROUP_DELETE, now)
        elif gm.command in (G.OFPGC15_INSERT_BUCKET, G.OFPGC15_REMOVE_BUCKET):
            if g.group_id not in self.groups:
                raise _err("OFPGMFC_UNKNOWN_GROUP")
            old, created = self.groups[g.group_id]
            self.groups[g.group_id] = (G.edit_buckets(old, gm), created)
        else:
            raise _err("OFPGMFC_BAD_COMMAND")
        self.changed += 1

    def group_list(self, group_id=G.OFPG_ALL):
        ids = sorted(self.groups) if group_id == G.OFPG_ALL else \
            [group_id] if group_id in self.groups else []
        return [self.groups[i] for i in ids]

    def group_stats(self, group_id, now):
        out = []
        for g, created in self.group_list(group_id):
            refs = sum(1 for t in self.tables for r in t.rules()
                       if r.uses_group(g.group_id))
            out.append(dict(group_id=g.group_id, ref_count=refs, packets=0,
                            bytes=0, duration=_duration(now - created),
                            buckets=[(0, 0)] * len(g.buckets)))
        return out

    # --- meters ------------------------------------------------------------
    def meter_mod(self, mm, now):
        m = mm.meter
        if mm.command == MT.OFPMC_ADD:
            if not 1 <= m.meter_id <= MT.OFPM_MAX:
                raise _err("OFPMMFC_INVALID_METER")
            if m.meter_id in self.meters:
                raise _err("OFPMMFC_METER_EXISTS")
            self.meters[m.meter_id] = (m, now)
        elif mm.command == MT.OFPMC_MODIFY:
            if m.meter_id not in self.meters:
                raise _err("OFPMMFC_UNKNOWN_METER")
            self.meters[m.meter_id] = (m, self.meters[m.meter_id][1])
        elif mm.command == MT.OFPMC_DELETE:
            ids = (list(self.meters) if m.meter_id == MT.OFPM_ALL
                   else [m.meter_id] if m.meter_id in self.meters else [])
            for mid in ids:
                del self.meters[mid]
                rules = [r for t in self.tables for r in t.rules()
                         if any(type(a).__name__ == "Meter"
                                and a.meter_id == mid for a in r.actions)]
                self._remove(rules, OFPRR_METER_DELETE, now)
        else:
            raise _err("OFPMMFC_BAD_COMMAND")
        self.changed += 1

    def meter_list(self, meter_id=MT.OFPM_ALL):
        ids = sorted(self.meters) if meter_id == MT.OFPM_ALL else \
            [meter_id] if meter_id in self.meters else []
        return [self.meters[i] for i in ids]

    def meter_stats(self, meter_id, now):
        out = []
        for m, created in self.meter_list(meter_id):
            flows = sum(1 for t in self.tables for r in t.rules()
                        if any(type(a).__name__ == "Meter"
                               and a.meter_id == m.meter_id for a in r.actions))
            out.append(dict(meter_id=m.meter_id, flow_count=flows,
                            packet_in_count=0, byte_in_count=0,
                            duration=_duration(now - created),
                            bands=[(0, 0)] * len(m.bands)))
        return out
