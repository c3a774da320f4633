"""Translation: one flow through the OpenFlow tables to datapath actions.

What it does
------------
On a datapath miss the switch hands translation the flow of the first packet
(a flow dict of ``openflow.fields.STORAGE`` members, ``in_port`` the OpenFlow
port) and gets back what the datapath should do with that packet and with
every later packet of the same *megaflow*:

- ``actions``: datapath actions in pyovs.odp's representation (a list of
  ``(name, arg)``; ``odp.actions.format_actions`` prints them as OVS does);
- ``wc``: the megaflow mask, a dict member -> bits, holding every bit of the
  flow that the decision looked at;
- side effects the caller applies: MACs to learn (NORMAL) and packet-ins to
  send (CONTROLLER, dec_ttl's invalid-TTL exception).

Translation itself changes nothing: the tables, the ports and the MAC
learning table are only read, so the same call serves ofproto/trace
(``allow_side_effects=False``, as OVS's trace marks its packet-ins
``dont_send``).

Two flows, lazily committed
---------------------------
As in OVS's ofproto-dpif-xlate, the walk keeps two copies of the flow:
``flow``, the packet as the OpenFlow pipeline sees it after every action so
far, and ``base``, the packet as the datapath actions emitted so far leave
it.  Field-setting actions (mod_dl_src, set_field, load, mod_vlan_vid, ...)
change only ``flow``.  Just before an action that lets the packet go (an
output, a packet-in, a datapath clone), commit() compares the two and emits
what makes ``base`` equal to ``flow``, in OVS's order (commit_odp_actions):
Ethernet addresses, then IPv4/IPv6, then L4 ports, then the VLAN header.  A
set changing only some fields of a header is a *masked* set naming just the
changed fields (``set(ipv4(src=9.9.9.9))``); one covering every field is a
plain set.  A changed VLAN pops the old header and pushes the new one.  So
``mod_nw_src:9.9.9.9,output:2,mod_nw_src:1.1.1.1`` costs one set, and a
clone whose actions can be undone by later sets needs no datapath clone.

Un-wildcarding
--------------
Every classifier lookup ORs into ``wc`` the bits its answer depended on
(classifier.py's invariant).  Translation adds what it reads and what it
writes, as OVS does: always ``in_port``, ``dl_type``, ``recirc_id`` and, for
IP, ``nw_frag``; each set action its field (mod_tp_* also ``nw_proto``);
dec_ttl ``nw_ttl``; NORMAL the Ethernet addresses and the VLAN VID; a popped
VLAN header its whole TCI.  At the end pipeline-only members (registers,
metadata) are dropped -- the datapath never sees them -- and OVS's fix-ups
apply (CFI with any VLAN bit, 8-bit ICMP type/code, no L4 ports for later
fragments).

NORMAL
------
The L2 learning switch of OVS's xlate_normal(): drop frames with a reserved
(802.1D) destination unless forward_bpdu; check the frame's VLAN against the
input port's mode (access ``tag``; ``trunks``; native-tagged and
native-untagged, whose untagged frames are on ``tag``); learn the source
(never a multicast source); then output to the learned port, or flood to
every other floodable port that carries the VLAN.  On the way out each port
gets the frame tagged or untagged as its mode says (access and the native
VLAN of native-untagged untagged; everything else tagged), the priority
kept.  A dot1q-tunnel port puts every frame it receives (untagged, or
tagged with one of its ``cvlans``) into its ``tag`` as an outer 802.1ad
header (``qinq_ethtype``) and takes that header off on the way out; so a
frame can carry two VLAN headers (flow members vlan_tpid/vlan_tci and
vlan_tpid2/vlan_tci2, outermost first, as pyovs.odp's flows have them).

Groups of type all and indirect run each of their buckets, fast-failover
groups their first live one, each bucket (an action set, ordered as the
OpenFlow spec says) on a copy of the flow, as OVS does.  The learn action
yields the flow to add (``flow_mods``), and its source fields join the
megaflow; fin_idle_timeout/fin_hard_timeout and limit are not carried.

write_actions/clear_actions keep OpenFlow 1.1+'s action set, run (in the
spec's order) when the pipeline ends.

Patch ports: output to an XPort with a ``peer`` (XBridge, ofp_port) goes on
translating in the peer bridge from table 0 (OVS's patch_port_output()), so
one datapath flow crosses both bridges; MACs learned there carry the peer's
table as a fourth element.  ``rules`` lists every rule matched on the way
(the datapath's statistics are credited to them).

Tunnels (native tunneling, pyovs.tnl.tnl_xlate through ``XBridge.tnl``):
output to a tunnel port (``XPort.tunnel``) becomes tnl_push followed by the
underlay bridge's actions; output to a bridge's LOCAL port of a packet for
a tunnel endpoint becomes tnl_pop; ARP/ND replies to LOCAL are snooped.
set_field/set_tunnel set tun_id, tun_src, tun_dst, tun_ipv6_src/dst and
tun_metadata<i> (Geneve options of the pushed header, through the TLV map).

NSH (OVS's encap/decap): encap(nsh(...)) makes the packet an NSH packet
(packet_type (1,0x894f), dl_type 0x894f, OVS's fresh header: ttl 63, si
255, np from the packet type it wraps, md_type's TLVs kept aside) and
encap(ethernet) an Ethernet one again (zero addresses); the header is
pushed at the next commit (push_nsh with every NSH field, push_eth with the
addresses), as OVS's commit_encap_decap_action().  set_field/load/move on
NSH fields commit as one masked set(nsh(...)) holding every NSH field the
megaflow has bits of (mdtype and np are never written; an MD type 2
header shows its context words zeroed and exact), after the L3 sets.
decap() of an Ethernet frame makes it a layer-3 packet (pop_eth at the
next commit); decap() of an NSH packet gives the packet type its next
protocol says, commits (pop_nsh()) and freezes: the rest of the action
list, with the port the packet is in, gets a recirculation id from
``XBridge.freeze_decap(in_port, actions)`` (ofproto_dpif: the same state,
the same id), translation ends and the datapath recirculates the inner
packet (recirc(ID)); its upcall resumes with those actions, the megaflow
then matching a VLAN header's VID as OVS's thawed translation does.  Only the current
action list is frozen: actions left in resubmitting tables or in the
bridge before a patch port run now, and an action set makes the decap
fail (OVS freezes them too).

check_pkt_larger(N)->DST commits, then translates the rest of its action
list twice, DST's bit 1 into the datapath check_pkt_len's gt() list and 0
into its le() list, and ends the list (OVS's xlate_check_pkt_larger()).
sample does nothing (pyovs has no IPFIX/sFlow collector, and OVS emits
nothing without one).  delete_field:tun_metadata<i> removes the option.

controller(pause) freezes translation (OVS's freezing): the packet-in goes
out and the rest -- the remaining actions of each level on the way back
up, with UnrollXlate markers saying which table and cookie they ran in,
and the action set -- becomes its continuation (openflow/continuation.py);
NXT_RESUME translates that (``frozen``) from where it stopped.

Select groups choose a bucket as OVS 3.1 does (select_group.py): with the
dp_hash method (any group whose weights fit 256 hash values) the first
translation freezes at the group like a pause, with no packet-in: the
group action and what follows it go into decap()'s frozen state
(``XBridge.freeze_decap``) and the datapath gets hash(sym_l4(0)),
recirc(ID); translating the recirculated packet, its dp_hash picks the
bucket through the group's table (those bits join the megaflow).  Other
groups use the default method's scores at once.

Not here (yet): meters, conntrack, MPLS, enqueue, set_queue,
multipath and bundle, a third VLAN header, bonds, mirrors, mcast snooping, priority tags
(other_config:priority-tags), recirculation (but decap()'s and select
groups': see NSH and above), a select group's freeze with an action set
pending.  Such an action makes the
translation fail cleanly: no actions (drop) and ``error`` naming it.

Public API:
  XPort(ofp_port, odp_port, name=None, tag=None, trunks=None, vlan_mode=None,
        no_flood=False, no_fwd=False, cvlans=None, qinq_ethtype=0x88a8,
        live=True, peer=None, no_recv=False)
    (trunks, cvlans: iterables of VIDs, None = all; vlan_mode as the Port
    table's, default access with a tag, else trunk)
  XBridge(name, tables, ports, ml=None, miss="drop", forward_bpdu=False,
          groups=None)  (groups: dict group_id -> openflow.groups.Group, or
          OFProto.groups' (Group, created) pairs)
    tables: dict table_id -> Classifier (or a list); rule payloads are F's
    OFRule (``.actions``, ``.cookie``) or a plain list of actions.
    ports: dict ofp_port -> XPort.  miss: what a miss in table 0 does --
    "drop" (secure, or no controller), "normal" (standalone with no
    controller) or "controller".
  xlate(bridge, flow, now=0, allow_side_effects=True, actions=None, trace=None)
    -> XlateResult  (ACTIONS: a packet-out's actions, translated instead of
    the tables; output:CONTROLLER then gives reason packet_out; TRACE: a
    list that gets ofproto/trace's nodes, see pyovs.ofproto.trace)
    (NOW is not read today: learning is left to apply_side_effects(), and
    MAC entries past their age count until MacLearning.run() removes them,
    as in OVS)
  XlateResult: .actions .wc (always holds in_port, dl_type, recirc_id and
    the CFI bit of vlan_tci: whether a VLAN header is there)
    .learned [(mac, vlan, ofp_port)]
    .packet_ins [dict reason, table_id, cookie, max_len, controller_id,
    userdata, recirc_id] .flow_mods [openflow.flow.FlowMod to add: the learn
    action's flows] .rules [matched rules' payloads] .sources [every source
    NORMAL could learn, new or not, as .learned: what keeps a MAC entry
    young while its megaflow forwards] .dests [(mac, vlan, MacLearning)
    every destination NORMAL looked up: the MAC entries the decision
    depends on] .error (None or text) .final_flow (the flow as the
    pipeline left it) .text() (datapath actions)
  apply_side_effects(result, ml, now): learn the result's MACs (the flow_mods
    are for the OpenFlow switch: OFProto.handle_flow_mod).
  megaflow_match(flow, wc) -> openflow.match.Match (for printing).
"""

import re
import struct

from ..odp import actions as odp_actions
from ..odp import keys as odp_keys
from ..openflow import actions as A
from ..openflow import fields as F
from ..openflow import groups as G
from . import select_group
from ..openflow.continuation import UnrollXlate
from ..openflow.flow import FlowMod, OFPFC_ADD, FF_SEND_FLOW_REM
from ..openflow.match import Match, format_eth, format_field_value
from ..openflow.ports import (OFPP_MAX, OFPP_IN_PORT, OFPP_TABLE, OFPP_NORMAL,
                              OFPP_FLOOD, OFPP_ALL, OFPP_CONTROLLER, OFPP_LOCAL,
                              OFPP_NONE, from_ofp11)

VLAN_CFI = 0x1000
VLAN_VID_MASK = 0x0fff
VLAN_PCP_MASK = 0xe000
IP_DSCP_MASK = 0xfc
IP_ECN_MASK = 0x03
FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER = 1, 2

OFPR_NO_MATCH, OFPR_ACTION, OFPR_INVALID_TTL = 0, 1, 2
OFPR_ACTION_SET, OFPR_GROUP, OFPR_PACKET_OUT, OFPR_EXPLICIT_MISS = 3, 4, 5, 6

MAX_DEPTH = 64              # resubmit nesting, as OVS
MAX_RESUBMITS = 4096        # resubmits/goto_tables per translation, as OVS

_FULL = {m: (1 << w) - 1 for m, w in F.STORAGE.items()}
for _m in ("vlan_tpid", "vlan_tci2", "vlan_tpid2"):
    _FULL.setdefault(_m, 0xffff)
# Members the datapath never sees (flow_wildcards_clear_non_packet_fields).
_NON_PACKET = frozenset(["metadata", "conj_id", "actset_output"]
                        + [f"reg{i}" for i in range(16)])

VLAN_MODES = ("access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel")
#: The flow members of the (at most two) VLAN headers, outermost first.
VLAN_LAYERS = (("vlan_tpid", "vlan_tci"), ("vlan_tpid2", "vlan_tci2"))


class XlateError(Exception):
    """Translation cannot go on (unsupported action, too deep)."""


class XPort:
    """A port as translation sees it (OVS's xport plus its bundle's VLAN setup)."""

    #: A tunnel port's pyovs.tnl.tunneling.TnlPort (set by the owner), else None.
    tunnel = None

    def __init__(self, ofp_port, odp_port, name=None, tag=None, trunks=None,
                 vlan_mode=None, no_flood=False, no_fwd=False, cvlans=None,
                 qinq_ethtype=0x88a8, live=True, peer=None, no_recv=False):
        self.ofp_port, self.odp_port = ofp_port, odp_port
        #: A patch port's other end: (XBridge, ofp_port), else None.
        self.peer = peer
        self.name = name or str(ofp_port)
        self.tag = tag
        self.trunks = None if trunks is None else frozenset(trunks)
        self.cvlans = None if not cvlans else frozenset(cvlans)
        self.qinq_ethtype = qinq_ethtype
        if vlan_mode is None:
            vlan_mode = "access" if tag is not None else "trunk"
        if vlan_mode not in VLAN_MODES:
            raise ValueError(f"vlan_mode {vlan_mode}: not supported")
        if vlan_mode != "trunk" and tag is None:
            tag = 0
        self.vlan_mode = vlan_mode
        self.vlan = tag if vlan_mode != "trunk" else -1
        self.no_flood, self.no_fwd = no_flood, no_fwd
        self.live = live            # link up (fast-failover buckets watch this)
        self.no_recv = no_recv      # OFPPC_NO_RECV: its packets are dropped

    def trunks_vlan(self, vlan):
        return (self.vlan_mode not in ("access", "dot1q-tunnel")
                and (self.trunks is None or vlan in self.trunks))

    def includes_vlan(self, vlan):
        return vlan == self.vlan or self.trunks_vlan(vlan)


class XBridge:
    #: The switch's pyovs.tnl.tnl_xlate.TnlHooks (native tunneling), else None.
    tnl = None
    #: Called with a learn action's FlowMod at once, so the rest of the
    #: translation sees the learned flow (as OVS adds it during the upcall);
    #: None: the flow is left in XlateResult.flow_mods for the caller.
    learn = None

    def __init__(self, name, tables, ports, ml=None, miss="drop", forward_bpdu=False,
                 groups=None):
        self.name = name
        self.tables = tables
        self.groups = groups if groups is not None else {}
        self.ports = ports
        self.ml = ml
        self.miss = miss
        self.forward_bpdu = forward_bpdu
        self._next_recirc = 1

    def table(self, table_id):
        t = self.tables
        if isinstance(t, dict):
            return t.get(table_id)
        return t[table_id] if 0 <= table_id < len(t) else None

    def alloc_recirc_id(self):
        rid = self._next_recirc
        self._next_recirc += 1
        return rid


class XlateResult:
    __slots__ = ("actions", "wc", "learned", "packet_ins", "flow_mods", "error",
                 "final_flow", "rules", "sources", "dests")

    def __init__(self):
        self.actions, self.wc = [], {}
        self.final_flow = None
        self.learned, self.packet_ins, self.flow_mods, self.error = [], [], [], None
        self.rules = []         # the rules' payloads, in lookup order
        self.sources = []       # NORMAL's learnable sources, as .learned
        self.dests = []         # (mac, vlan, MacLearning) NORMAL looked up

    def text(self, port_names=None):
        return odp_actions.format_actions(self.actions, port_names)


def apply_side_effects(result, ml, now):
    for item in result.learned:
        # (mac, vlan, port), plus the table when learned behind a patch port
        (item[3] if len(item) > 3 else ml).learn(item[0], item[1], item[2], now)


def megaflow_match(flow, wc):
    """The megaflow as ofproto/trace prints it, as an OpenFlow match.

    recirc_id is left out.  Whether the frame has a VLAN header is in every
    datapath key (its outer Ethertype), and the VLAN bits of an untagged
    frame are in none, so neither shows, as in OVS's trace: the CFI bit alone
    is dropped, and so is the whole TCI mask of an untagged (all-zero TCI)
    flow.  A nonzero TCI without CFI (a traced flow's vlan_tci=5) shows
    whatever bits were looked at, as OVS's."""
    values = {m: (flow.get(m, 0) & mask, mask) for m, mask in wc.items()
              if mask and m in F.STORAGE and m != "recirc_id"}
    tci_mask = wc.get("vlan_tci", 0)
    if tci_mask == VLAN_CFI or not flow.get("vlan_tci", 0):
        values.pop("vlan_tci", None)
    return Match(values)


def is_reserved_mac(mac):
    """OVS's eth_addr_is_reserved(): 802.1D and a few vendor protocols."""
    return (mac >> 4 == 0x0180c200000 or mac in (0x01000ccccccc, 0x01000ccccccd,
                                                  0x01000ccdcdcd))


# --- the walk --------------------------------------------------------------------------------

class _Ctx:
    def __init__(self, bridge, flow, allow_side_effects):
        self.bridge = bridge
        self.flow = dict(flow)
        self.base = dict(flow)
        self.wc = {}
        self.odp = []
        self.result = XlateResult()
        self.allow_side_effects = allow_side_effects
        self.depth = 0
        self.n_resubmits = 0
        self.table_id = 0
        self.rule = None
        self.exit = False
        self.action_set = []        # OpenFlow 1.1+ write_actions, run at the end
        self.in_action_set = False
        self.in_group = 0
        self.packet_out = False
        self.pending_encap = False  # encap's header goes on at the next commit
        self.pending_decap = False  # decap() of NSH: pop_nsh at the next commit
        self.encap_data = b""       # encap(nsh(md_type=2,...))'s metadata TLVs
        self.trace = None           # the trace node list being appended to
        self.root = bridge          # the bridge translation started in
        self.freezing = False       # controller(pause): the rest is frozen
        self.frozen = []            # ... into this (continuation.py)
        self.pause_pin = None       # ... for this packet-in
        self.recirc_hash = None     # or a select group's: ("sym_l4", basis)

    def report(self, kind, text):
        """Add a trace node (see pyovs.ofproto.trace) when tracing."""
        if self.trace is None:
            return None
        node = (kind, text, [])
        self.trace.append(node)
        return node

    # wildcards
    def unwild(self, member, bits=None):
        self.wc[member] = self.wc.get(member, 0) | (_FULL[member] if bits is None else bits)

    def g(self, member):
        return self.flow.get(member, 0)

    def is_ip_any(self):
        return self.g("dl_type") in (0x0800, 0x86dd)


def xlate(bridge, flow, now=0, allow_side_effects=True, actions=None, trace=None,
          frozen=None):
    """Translate FLOW through BRIDGE's tables; see the module docstring.
    With ACTIONS (a packet-out's), translate those instead of looking up
    table 0.  With TRACE (a list), append ofproto/trace's nodes to it.
    FROZEN: (actions, action set) of a continuation to resume (NXT_RESUME)."""
    ctx = _Ctx(bridge, flow, allow_side_effects)
    ctx.in_flow = flow
    ctx.packet_out = actions is not None
    if frozen is not None:
        actions, ctx.action_set = list(frozen[0]), list(frozen[1])
    if trace is not None:
        ctx.trace = trace
        ctx.trace = ctx.report("bridge", 'bridge("%s")' % bridge.name)[2]
    # xlate_wc_init(): fields always examined.
    for m in ("in_port", "dl_type", "recirc_id"):
        ctx.unwild(m)
    # Whether there is a VLAN header: the outer Ethertype, which OVS's
    # datapath key always matches (see megaflow_match()).
    ctx.unwild("vlan_tci", VLAN_CFI)
    if ctx.g("vlan_tci") & VLAN_CFI:
        ctx.unwild("vlan_tci2", VLAN_CFI)     # the Ethertype inside the first one
        if actions is not None and flow.get("recirc_id"):
            ctx.unwild("vlan_tci", VLAN_VID_MASK)     # (resuming after decap())
    if ctx.is_ip_any():
        ctx.unwild("nw_frag", FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER)
    ctx.trace_root = trace
    try:
        if bridge.tnl is not None:
            bridge.tnl.input(ctx)       # (bad Geneve options: XlateError)
        if actions is not None:
            _do_actions(ctx, actions)
        else:
            _xlate_table(ctx, 0, first=True)
        if ctx.freezing:
            _finish_freezing(ctx)
        else:
            ctx.exit = False
            _xlate_action_set(ctx)
    except XlateError as e:
        if not getattr(e, "reported", False):
            ctx.report("error", str(e))
        ctx.odp = []
        ctx.result.error = str(e)
        ctx.result.packet_ins = []
        ctx.result.flow_mods = []
    _finish_wc(ctx)
    if bridge.tnl is not None:
        bridge.tnl.finish(ctx)      # a tunnel output's clone that ends the list
    ctx.result.actions = ctx.odp
    ctx.result.wc = ctx.wc
    ctx.result.final_flow = ctx.flow
    return ctx.result


def _may_receive(ctx):
    """OVS's may_receive(): a port configured no_recv drops what it
    receives (after table 0's lookup, whose rule's actions are not run)."""
    p = ctx.bridge.ports.get(ctx.g("in_port"))
    return p is None or not p.no_recv


def _finish_wc(ctx):
    wc = ctx.wc
    # A packet that came in on no tunnel has no tunnel key in the datapath
    # flow: what translation read of tunnel metadata the actions wrote
    # (tun_metadata<i> in a lookup) is not matched (OVS's odp key has no
    # tunnel attribute without a tunnel destination).
    untunneled = not (ctx.in_flow.get("tun_dst") or ctx.in_flow.get("tun_ipv6_dst"))
    for m in list(wc):
        if m in _NON_PACKET or not wc[m] or (untunneled and m.startswith("tun_")):
            del wc[m]
    if ctx.is_ip_any() and ctx.g("nw_proto") in (1, 58):
        for m in ("tp_src", "tp_dst"):
            if m in wc:
                wc[m] &= 0xff
    if ctx.g("nw_frag") & FLOW_NW_FRAG_LATER:
        wc.pop("tp_src", None)
        wc.pop("tp_dst", None)
    for m in [m for m, v in wc.items() if not v]:
        del wc[m]


def _lookup(ctx, table_id, in_port=OFPP_IN_PORT):
    """Look TABLE_ID up; IN_PORT (resubmit's port) replaces in_port for this
    lookup only, as OVS's rule_dpif_lookup_from_table() does."""
    table = ctx.bridge.table(table_id)
    if table is None:
        return None
    if in_port == OFPP_IN_PORT:
        return table.lookup(ctx.flow, ctx.wc)
    old = ctx.g("in_port")
    ctx.flow["in_port"] = in_port
    try:
        return table.lookup(ctx.flow, ctx.wc)
    finally:
        ctx.flow["in_port"] = old


def _xlate_table(ctx, table_id, first=False, goto=False, in_port=OFPP_IN_PORT):
    ctx.n_resubmits += not first        # the first lookup is not a resubmit
    if ctx.n_resubmits > MAX_RESUBMITS:
        _fail(ctx, "Too many resubmits", "over %d resubmit actions" % MAX_RESUBMITS)
    old_table, old_rule, old_trace = ctx.table_id, ctx.rule, ctx.trace
    ctx.table_id = table_id
    try:
        rule = _lookup(ctx, table_id, in_port)
        # A no_recv port's packets are looked up but not acted on (OVS).
        blocked = first and not _may_receive(ctx)
        if rule is None and first and ctx.bridge.miss == "normal":
            # Standalone with no controller: OVS has a real flow for it.
            node = ctx.report("table", "%2d. priority 0" % table_id)
            if node is not None:
                ctx.trace = node[2]
            if blocked:
                return
            ctx.report("action", "NORMAL")
            _table_miss(ctx, table_id, first)
            return
        node = (ctx.report("table", _table_text(table_id, rule))
                if ctx.trace is not None else None)
        if node is not None:
            ctx.trace = node[2]
        if blocked:
            return
        if rule is None:
            if not (first and ctx.bridge.miss != "drop"):
                ctx.report("action", "drop")
            if first or goto:
                _table_miss(ctx, table_id, first)
            return
        ctx.rule = rule
        ctx.result.rules.append(rule.payload)
        actions = _rule_actions(rule)
        if not actions:
            ctx.report("action", "drop")
        _do_actions(ctx, actions)
    finally:
        ctx.table_id, ctx.rule = old_table, old_rule
        if not first:
            ctx.trace = old_trace


def _table_text(table_id, rule):
    """A table node's text: the rule as ofproto/trace prints it."""
    if rule is None:
        return "%2d. No match." % table_id
    match = getattr(rule.payload, "match", None)
    text = match.format(rule.priority) if match is not None else ""
    # Match.format() gives "priority=N,..." (or just "priority=N").
    text = re.sub(r"^priority=\d+,?", "", text)
    text = (text + ", " if text else "") + "priority %d" % rule.priority
    cookie = _rule_cookie(rule)
    if cookie:
        text += ", cookie %#x" % cookie
    return "%2d. %s" % (table_id, text)


def _too_deep(ctx):
    _fail(ctx, "Recursion too deep", "over max translation depth %d" % MAX_DEPTH)


def _fail(ctx, error, trace_text):
    """Stop translating with ERROR (OVS's xlate_strerror() text), telling
    the trace TRACE_TEXT where it happened."""
    ctx.report("error", trace_text)
    e = XlateError(error)
    e.reported = True
    raise e


def _rule_actions(rule):
    payload = rule.payload
    if isinstance(payload, (list, tuple)):
        return payload
    return getattr(payload, "actions", None) or []


def _rule_cookie(rule):
    return 0 if rule is None else getattr(rule.payload, "cookie", 0) or 0


def _is_table_miss_rule(rule):
    return rule is not None and rule.priority == 0 and not rule.mask


def _table_miss(ctx, table_id, first):
    miss = ctx.bridge.miss
    if miss == "normal" and first:
        _xlate_normal(ctx)
    elif miss == "controller":
        _controller(ctx, 0xffff, OFPR_NO_MATCH)


def _do_actions(ctx, actions, is_last=True):
    n = len(actions)
    for i, act in enumerate(actions):
        if ctx.exit:
            if ctx.freezing:
                _freeze_rest(ctx, actions[i:])
            return
        if ctx.trace is not None:
            ctx.report("action", act.format())
        last = is_last and i == n - 1
        if type(act) is A.CheckPktLarger:
            _check_pkt_larger(ctx, act, actions[i + 1:], is_last)
            return          # the rest of the list ran in both branches
        if type(act) is A.Decap:
            if _decap(ctx, act, actions[i + 1:]):
                return      # the rest runs after recirculation
            continue
        if _do_action(ctx, act, last):
            return          # dec_ttl exception: stop this action list


def _check_pkt_larger(ctx, act, rest, is_last):
    """OVS's xlate_check_pkt_larger(): commit, then translate REST twice --
    with the destination bit 1 into check_pkt_len's gt() list, with 0 into
    its le() list -- from the same flow and datapath state; afterwards the
    flow is as before the action, and this action list is over.  (The
    datapath decides per packet, so the bit itself never shows.)

    Each branch ends as the pipeline does, by running the action set (or
    finishing a freeze), and running it empties it: so the gt() branch runs
    a copy of the action set as it was, the le() branch only what its own
    actions wrote (OVS's order, quirk included), and the set as it was is
    restored for the pipeline's real end."""
    commit(ctx)
    old_flow, old_base, old_odp = dict(ctx.flow), dict(ctx.base), ctx.odp
    old_set, old_trace = ctx.action_set, ctx.trace
    ctx.action_set = list(old_set)
    member, shift, bits = _subfield_bits(act.dst)
    branches = []
    for bit in (1, 0):
        ctx.flow, ctx.base, ctx.odp = dict(old_flow), dict(old_base), []
        ctx.exit = False
        ctx.flow[member] = (ctx.g(member) & ~bits) | ((bit << shift) & bits)
        if not rest:
            ctx.report("action", "drop")
        _do_actions(ctx, rest, is_last)
        if ctx.freezing:
            _finish_freezing(ctx)
        else:
            _xlate_action_set(ctx)
        ctx.trace = old_trace
        branches.append(ctx.odp)
    ctx.flow, ctx.base, ctx.odp = old_flow, old_base, old_odp
    ctx.action_set = old_set
    ctx.exit = False
    ctx.odp.append(("check_pkt_len", (act.pkt_len, branches[0], branches[1])))


def _xlate_action_set(ctx):
    """OVS's xlate_action_set(): run the action set (in the spec's order),
    emptying it."""
    actions = _action_set_to_list(ctx.action_set) if ctx.action_set else []
    ctx.action_set = []
    if not actions:
        return
    was = ctx.in_action_set
    ctx.in_action_set = True
    node = ctx.report("table", "--. Executing action set:")
    if node is not None:
        ctx.trace = node[2]
    try:
        _do_actions(ctx, actions)
    finally:
        ctx.in_action_set = was


def _do_action(ctx, act, is_last):
    cls = type(act)
    if cls is A.Output:
        _output(ctx, act.port, act.max_len, is_last)
    elif cls is A.Controller:
        if act.is_plain():      # on the wire this is an output to CONTROLLER
            _output(ctx, OFPP_CONTROLLER, act.max_len, is_last)
        else:
            _controller(ctx, act.max_len, act.reason, act.controller_id,
                        act.userdata, act.pause)
    elif cls is A.Resubmit:
        if act.with_ct:
            raise XlateError("resubmit with ct: not supported")
        _resubmit(ctx, act.in_port, act.table)
    elif cls is A.GotoTable:
        _resubmit(ctx, OFPP_IN_PORT, act.table, goto=True)
    elif cls is A.SetVlanVid:
        ctx.unwild("vlan_tci", VLAN_VID_MASK | VLAN_CFI)
        tci = ctx.g("vlan_tci")
        if tci & VLAN_CFI or act.push:
            ctx.flow["vlan_tci"] = (tci & ~VLAN_VID_MASK) | act.vid | VLAN_CFI
            ctx.flow.setdefault("vlan_tpid", 0x8100)
    elif cls is A.SetVlanPcp:
        ctx.unwild("vlan_tci", VLAN_PCP_MASK | VLAN_CFI)
        tci = ctx.g("vlan_tci")
        if tci & VLAN_CFI or act.push:
            ctx.flow["vlan_tci"] = (tci & ~VLAN_PCP_MASK) | (act.pcp << 13) | VLAN_CFI
            ctx.flow.setdefault("vlan_tpid", 0x8100)
    elif cls is A.StripVlan:
        _pop_vlan(ctx)
    elif cls is A.PushVlan:
        _push_vlan(ctx, act.ethertype)
    elif cls is A.SetEth:
        _set(ctx, "dl_" + act.which, act.mac)
    elif cls is A.SetIPv4:
        if ctx.g("dl_type") == 0x0800:
            _set(ctx, "nw_" + act.which, act.addr)
    elif cls is A.SetIPDscp:
        if ctx.is_ip_any():
            _set(ctx, "nw_tos", act.tos, IP_DSCP_MASK)
    elif cls is A.SetIPEcn:
        if ctx.is_ip_any():
            _set(ctx, "nw_tos", act.ecn, IP_ECN_MASK)
    elif cls is A.SetIPTtl:
        if ctx.is_ip_any():
            _set(ctx, "nw_ttl", act.ttl)
    elif cls is A.SetL4Port:
        if ctx.is_ip_any() and not ctx.g("nw_frag") & FLOW_NW_FRAG_LATER:
            ctx.unwild("nw_proto")
            _set(ctx, "tp_" + act.which, act.port)
    elif cls is A.SetField:
        _set_field(ctx, act.field, act.value, act.mask)
    elif cls is A.SetTunnel:
        ctx.flow["tun_id"] = act.tun_id     # metadata: no megaflow bits
    elif cls is A.RegMove:
        _reg_move(ctx, act.src, act.dst)
    elif cls is A.WriteMetadata:
        md = ctx.g("metadata")
        ctx.flow["metadata"] = (md & ~act.mask) | (act.value & act.mask)
    elif cls is A.DecTtl:
        return _dec_ttl(ctx, act.ids)
    elif cls is A.Note or cls is A.Conjunction:
        pass
    elif cls is UnrollXlate:        # (resuming a continuation)
        ctx.table_id, ctx.rule = act.table_id, _UnrolledRule(act.cookie)
    elif cls is A.DeleteField:
        _delete_field(ctx, act.field)
    elif cls is A.Sample:
        pass        # no IPFIX/sFlow collector in pyovs: OVS emits nothing then
    elif cls is A.Clone:
        _clone(ctx, act.actions, is_last)
    elif cls is A.Group:
        _group(ctx, act.group_id, is_last)
    elif cls is A.Learn:
        _learn(ctx, act)
    elif cls is A.WriteActions:
        ctx.action_set.extend(act.actions)
        _set_actset_output(ctx)
        if ctx.trace is not None:
            ctx.report("detail", _format_action_set("is", ctx.action_set))
    elif cls is A.ClearActions:
        if ctx.trace is not None:
            ctx.report("detail", _format_action_set("was", ctx.action_set))
        ctx.action_set = []
        _set_actset_output(ctx)
    elif cls is A.Exit:
        ctx.exit = True
    elif cls is A.Encap:
        _encap(ctx, act)
    else:
        name = act.format().split(":")[0].split("(")[0]
        raise XlateError(f"{name} action: not supported")
    return False


def _set_actset_output(ctx):
    """actset_output: the action set's output port (OFPP_UNSET without one)."""
    outs = [a for a in ctx.action_set if type(a) is A.Output
            or (type(a) is A.Controller and a.is_plain())]
    if not outs:
        ctx.flow.pop("actset_output", None)
    else:
        last = outs[-1]
        ctx.flow["actset_output"] = OFPP_CONTROLLER if type(last) is A.Controller \
            else last.port


def _vlan_layers(flow):
    """[(tpid, tci)] of FLOW's VLAN headers, outermost first."""
    out = []
    for tpid_m, tci_m in VLAN_LAYERS:
        tci = flow.get(tci_m, 0)
        if not tci & VLAN_CFI:
            break
        out.append((flow.get(tpid_m, 0x8100) or 0x8100, tci))
    return out


def _put_vlan_layers(flow, layers):
    for i, (tpid_m, tci_m) in enumerate(VLAN_LAYERS):
        if i < len(layers):
            flow[tpid_m], flow[tci_m] = layers[i]
        else:
            flow[tci_m] = 0


def _pop_vlan(ctx):
    """flow_pop_vlan(): the inner header (un-wildcarded) moves up."""
    layers = _vlan_layers(ctx.flow)
    for i in range(1, len(layers)):
        ctx.unwild(VLAN_LAYERS[i][0])
        ctx.unwild(VLAN_LAYERS[i][1])
    _put_vlan_layers(ctx.flow, layers[1:])


def _push_vlan(ctx, tpid):
    """flow_push_vlan_uninit(): the headers there (un-wildcarded) move down."""
    layers = _vlan_layers(ctx.flow)
    if len(layers) >= len(VLAN_LAYERS):
        raise XlateError("push_vlan on a frame with two VLAN headers: not supported")
    for i in range(len(layers)):
        ctx.unwild(VLAN_LAYERS[i][0])
        ctx.unwild(VLAN_LAYERS[i][1])
    _put_vlan_layers(ctx.flow, [(tpid, VLAN_CFI)] + layers)


def _set(ctx, member, value, bits=None):
    """Set BITS (default all) of MEMBER to VALUE and un-wildcard them."""
    full = _FULL[member]
    bits = full if bits is None else bits
    ctx.unwild(member, bits)
    ctx.flow[member] = (ctx.g(member) & ~bits & full) | (value & bits)


_PREREQ_TYPES = {"ip": (0x0800,), "ipv6": (0x86dd,), "ip_any": (0x0800, 0x86dd),
                 "arp": (0x0806, 0x8035), "mpls": (0x8847, 0x8848)}
_PREREQ_PROTOS = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmpv6": 58,
                  "nd": 58, "nd_solicit": 58, "nd_advert": 58}


def _prereqs_ok(ctx, field):
    """mf_are_prereqs_ok() on the current flow, un-wildcarding what it reads."""
    pr = field.prereq
    if pr == "none":
        return True
    if pr == "vlan":
        ctx.unwild("vlan_tci", VLAN_CFI)
        return bool(ctx.g("vlan_tci") & VLAN_CFI)
    if pr in _PREREQ_TYPES:
        return ctx.g("dl_type") in _PREREQ_TYPES[pr]
    if pr == "nsh":
        return ctx.g("dl_type") == ETH_TYPE_NSH
    if pr in _PREREQ_PROTOS:
        if not ctx.is_ip_any():
            return False
        ctx.unwild("nw_proto")
        if ctx.g("nw_proto") != _PREREQ_PROTOS[pr]:
            return False
        if pr == "icmp":
            return ctx.g("dl_type") == 0x0800
        if pr.startswith("nd") or pr == "icmpv6":
            if ctx.g("dl_type") != 0x86dd:
                return False
        if pr.startswith("nd"):
            ctx.unwild("tp_src", 0xff)
            ctx.unwild("tp_dst", 0xff)
            want = {"nd": (135, 136), "nd_solicit": (135,), "nd_advert": (136,)}[pr]
            return ctx.g("tp_src") in want and ctx.g("tp_dst") == 0
        return True
    return False


#: Tunnel fields set_field may set (output to a tunnel port reads them).
_TUN_SETTABLE = frozenset(["tun_id", "tun_src", "tun_dst", "tun_ipv6_src",
                           "tun_ipv6_dst", "tun_gbp_id", "tun_gbp_flags"]
                          + ["tun_metadata%d" % _i for _i in range(64)])


def _set_field(ctx, field, value, mask):
    if not field.writable:
        raise XlateError(f"set_field to {field.name}: not supported")
    if field.storage in ("skb_priority", "mpls_lse", "ct_mark", "ct_label") or (
            field.storage.startswith("tun_") and field.storage not in _TUN_SETTABLE):
        raise XlateError(f"set_field to {field.name}: not supported")
    if not _prereqs_ok(ctx, field):
        return
    bits = (mask & field.max_value) << field.shift
    v = (value & field.max_value) << field.shift
    if field.storage in _TUN_SETTABLE:      # metadata: no megaflow bits
        m = field.storage
        ctx.flow[m] = (ctx.g(m) & ~bits & _FULL[m]) | (v & bits)
        return
    if field.storage == "vlan_tci":
        name = field.name
        tci = ctx.g("vlan_tci")
        if name == "vlan_vid" and not v & VLAN_CFI and bits & VLAN_CFI:
            # OFPVID_NONE: like strip_vlan.
            ctx.unwild("vlan_tci", bits)
            ctx.flow["vlan_tci"] = 0
            return
        if name in ("dl_vlan", "dl_vlan_pcp", "vlan_pcp") and not tci & VLAN_CFI:
            ctx.unwild("vlan_tci", VLAN_CFI)
            return            # only on a tagged frame
        bits |= VLAN_CFI
        v |= VLAN_CFI
        ctx.flow.setdefault("vlan_tpid", 0x8100)
    _set(ctx, field.storage, v, bits)


# --- encap (NSH, Ethernet) ---------------------------------------------------------------------

ETH_TYPE_NSH = 0x894f
NSH_MEMBERS = ("nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi",
               "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")
_NSH_CONTEXT = NSH_MEMBERS[6:]
#: The packet type after decap() of NSH, by next protocol (OVS's).
_PT_OF_NP = {3: A.PT_ETH, 1: 0x10800, 2: 0x186dd, 4: A.PT_NSH}
#: NSH's next protocol for the packet type it wraps (OVS's encap_nsh()).
_NSH_NP = {A.PT_ETH: 3, 0x10800: 1, 0x186dd: 2, A.PT_NSH: 4}
#: What a new outer header hides of the packet (its VLANs, L3 and L4).
_INNER_MEMBERS = ("vlan_tci", "vlan_tpid", "vlan_tci2", "vlan_tpid2",
                  "nw_src", "nw_dst", "ipv6_src", "ipv6_dst", "ipv6_label",
                  "nw_proto", "nw_tos", "nw_ttl", "nw_frag", "tp_src", "tp_dst",
                  "tcp_flags", "arp_sha", "arp_tha", "nd_target", "nd_reserved",
                  "mpls_lse")


def _encap(ctx, act):
    """OVS's xlate_generic_encap_action(): commit what was pending on the
    inner packet, then change the flow into the encapsulated packet's."""
    commit(ctx)
    ctx.unwild("packet_type")
    pt = ctx.g("packet_type")
    flow = ctx.flow
    if act.new_pkt_type == A.PT_ETH:
        if pt >> 16 != 1:
            raise XlateError("encap(ethernet) of a packet without an Ethertype: "
                             "not supported")
        flow["dl_type"] = pt & 0xffff
        flow["dl_src"] = flow["dl_dst"] = 0
        flow["packet_type"] = A.PT_ETH
    elif act.new_pkt_type == A.PT_NSH:
        if pt not in _NSH_NP:
            raise XlateError("encap(nsh) of this packet type: not supported")
        for m in _INNER_MEMBERS:
            flow.pop(m, None)
        flow.update(packet_type=A.PT_NSH, dl_type=ETH_TYPE_NSH, nsh_flags=0,
                    nsh_ttl=63, nsh_mdtype=act.md_type, nsh_np=_NSH_NP[pt],
                    nsh_spi=0, nsh_si=255, nsh_c1=0, nsh_c2=0, nsh_c3=0, nsh_c4=0)
        ctx.encap_data = b"".join(
            struct.pack("!HBB", t.tlv_class, t.tlv_type, len(t.value))
            + t.value + b"\0" * (-len(t.value) % 4) for t in act.tlvs)
    else:
        raise XlateError(f"{act.format()}: not supported")
    ctx.pending_encap = True


def _decap(ctx, act, rest):
    """OVS's xlate_generic_decap_action(); True when translation froze."""
    if act.new_pkt_type != A.PT_USE_NEXT_PROTO:
        raise XlateError(f"{act.format()}: not supported")
    commit(ctx)
    pt = ctx.g("packet_type")
    if pt == A.PT_ETH:
        if ctx.g("vlan_tci") & VLAN_CFI:
            raise XlateError("decap() of an Ethernet frame with VLAN tags: "
                             "not supported")
        ctx.flow["packet_type"] = 1 << 16 | ctx.g("dl_type")
        ctx.unwild("dl_type")
        return False
    if pt != A.PT_NSH or ctx.g("nsh_np") not in _PT_OF_NP:
        raise XlateError("decap() of this packet type: not supported")
    if ctx.action_set:
        raise XlateError("decap() with an action set: not supported")
    ctx.unwild("nsh_np")
    ctx.flow["packet_type"] = _PT_OF_NP[ctx.g("nsh_np")]
    ctx.pending_decap = True
    commit(ctx)                 # pop_nsh()
    freeze = getattr(ctx.bridge, "freeze_decap", None)
    if freeze is not None and ctx.trace is None:
        rid = freeze(ctx.g("in_port"), rest)
    else:               # (a trace's recirculation id is its own, as OVS's)
        rid = ctx.bridge.alloc_recirc_id()
    ctx.odp.append(("recirc", rid))
    ctx.exit = True
    return True


def _commit_decap(ctx):
    """commit_encap_decap_action()'s decap: an Ethernet frame become layer 3
    loses its header (pop_eth); an NSH packet decap() ends its header
    (pop_nsh(), the rest is for after recirculation)."""
    pt, base_pt = ctx.g("packet_type"), ctx.base.get("packet_type", A.PT_ETH)
    if ctx.pending_decap:
        ctx.pending_decap = False
        if base_pt == A.PT_NSH:
            ctx.odp.append(("pop_nsh", None))
            return True
    if pt >> 16 == 1 and base_pt == A.PT_ETH:
        ctx.odp.append(("pop_eth", None))
        ctx.base.update(packet_type=pt, dl_src=0, dl_dst=0)
    return False


def _commit_encap(ctx):
    """commit_encap_decap_action(): push the pending encap's header."""
    ctx.pending_encap = False
    flow = ctx.flow
    if flow.get("packet_type", 0) == A.PT_ETH:
        ctx.odp.append(("push_eth", (ctx.g("dl_src"), ctx.g("dl_dst"))))
        for m in ("packet_type", "dl_src", "dl_dst", "dl_type"):
            ctx.base[m] = ctx.g(m)
        return
    arg = {m[4:]: ctx.g(m) for m in NSH_MEMBERS}
    if arg["mdtype"] == 2:
        arg["md2"] = ctx.encap_data
    ctx.odp.append(("push_nsh", arg))
    # Every header field of the packet is now the flow's (pkt_mark is not
    # a header field: it keeps its own commit).
    pkt_mark = ctx.base.get("pkt_mark")
    ctx.base = dict(flow)
    ctx.base.pop("pkt_mark", None)
    if pkt_mark is not None:
        ctx.base["pkt_mark"] = pkt_mark


def _commit_nsh(ctx):
    """commit_set_nsh_action(): one masked set(nsh(...)) of every NSH field
    the megaflow has bits of, but mdtype and np."""
    flow, base = ctx.flow, ctx.base
    md1 = flow.get("nsh_mdtype", 0) == 1

    def key(f):
        return {m[4:]: f.get(m, 0) if md1 or m not in _NSH_CONTEXT else 0
                for m in NSH_MEMBERS}
    new = key(flow)
    if new == key(base):
        return
    mask = {m[4:]: ctx.wc.get(m, 0) & _FULL[m] for m in NSH_MEMBERS}
    mask["mdtype"] = mask["np"] = 0
    if not md1:         # (no MD1 context in the key: OVS shows it exact)
        mask.update(c1=0xffffffff, c2=0xffffffff, c3=0xffffffff, c4=0xffffffff)
    ctx.odp.append(("set", ("nsh", {f: v & mask[f] for f, v in new.items()}, mask)))
    for m in NSH_MEMBERS:
        base[m] = flow.get(m, 0)


def _delete_field(ctx, field):
    """OVS's xlate_delete_field(): the Geneve option is no longer present
    (the parser lets only tun_metadata<i> through).  As in OVS, which only
    clears the option's present bit, the flow still differs from one that
    never had the option: its old value stays under ``tun_md_stale<i>``,
    a member nothing matches or encodes."""
    m = field.storage
    if m in ctx.flow:
        ctx.flow["tun_md_stale" + m[len("tun_metadata"):]] = ctx.flow.pop(m)
    ctx.report("detail", "delete " + field.name)


def _subfield_bits(sf):
    f = sf.field
    return f.storage, f.shift + sf.ofs, ((1 << sf.n_bits) - 1) << (f.shift + sf.ofs)


def _reg_move(ctx, src, dst):
    s_member, s_shift, s_bits = _subfield_bits(src)
    d_member, d_shift, d_bits = _subfield_bits(dst)
    if d_member in ("vlan_tci", "pkt_mark", "skb_priority", "mpls_lse") or \
            d_member.startswith("tun_") or d_member.startswith("ct_"):
        raise XlateError(f"move to {dst.field.name}: not supported")
    ctx.unwild(s_member, s_bits)
    value = (ctx.g(s_member) & s_bits) >> s_shift
    _set(ctx, d_member, value << d_shift, d_bits)
    if ctx.trace is not None:
        ctx.report("detail", "%s is now %s" % (dst.format(), _format_subvalue(dst, value)))


def _format_subvalue(sf, value):
    """A moved value as OVS's trace writes it: a whole field as mf_format()
    does, else (and for hexadecimal fields) as ds_put_hex() does."""
    f = sf.field
    if sf.ofs == 0 and sf.n_bits == f.n_bits and f.fmt != "hexadecimal":
        return format_field_value(f, value)
    return "%#x" % value if value else "0"


def _dec_ttl(ctx, ids):
    ctx.unwild("nw_ttl")        # as OVS, even for non-IP
    ctx.unwild("nw_proto")
    if not ctx.is_ip_any():
        return False
    ttl = ctx.g("nw_ttl")
    if ttl > 1:
        ctx.flow["nw_ttl"] = ttl - 1
        return False
    ctx.report("warn", "IPv%d decrement TTL exception"
               % (4 if ctx.g("dl_type") == 0x0800 else 6))
    for cid in (ids or (0,)):
        _controller(ctx, 0xffff, OFPR_INVALID_TTL, cid)
    return True


def _learn(ctx, learn):
    """xlate_learn_action(): the flow to add, from LEARN's specs and the
    current flow, whose source bits join the megaflow (learn_mask())."""
    match = Match()
    actions = []
    for spec in learn.specs:
        if spec.src is not None:
            member, shift, bits = _subfield_bits(spec.src)
            ctx.unwild(member, bits)
            value = (ctx.g(member) & bits) >> shift
        else:
            value = spec.imm & ((1 << spec.n_bits) - 1)
        if spec.kind == "output":
            actions.append(A.Output(value))
            continue
        d = spec.dst
        if spec.kind == "match":
            member, shift, bits = _subfield_bits(d)
            match.set_bits(member, value << shift, bits, bits)
        else:
            actions.append(A.SetField(d.field, value << d.ofs,
                                      ((1 << d.n_bits) - 1) << d.ofs, raw="load"))
    if not ctx.allow_side_effects:
        ctx.report("warn", "suppressing side effects, so learn action ignored")
        return
    if learn.fin_idle_timeout or learn.fin_hard_timeout:
        actions.insert(0, A.FinTimeout(learn.fin_idle_timeout, learn.fin_hard_timeout))
    if ctx.trace is not None:
        # The flow as OVS's trace tells it.
        text = "table=%d %s priority=%d" % (learn.table, match.format(), learn.priority)
        for name, v in (("cookie", "%#x" % learn.cookie if learn.cookie else 0),
                        ("idle", learn.idle_timeout), ("hard", learn.hard_timeout)):
            if v:
                text += " %s=%s" % (name, v)
        if learn.flags & A.NX_LEARN_F_SEND_FLOW_REM:
            text += " send_flow_rem"
        ctx.report("detail", text.replace("  ", " ") + " actions="
                   + A.format_actions(actions))
    fm = FlowMod(command=OFPFC_ADD, match=match, priority=learn.priority,
                 new_cookie=learn.cookie, table_id=learn.table,
                 idle_timeout=learn.idle_timeout, hard_timeout=learn.hard_timeout,
                 flags=FF_SEND_FLOW_REM if learn.flags & A.NX_LEARN_F_SEND_FLOW_REM else 0,
                 actions=actions)
    if ctx.bridge.learn is not None:
        ctx.bridge.learn(fm)
    else:
        ctx.result.flow_mods.append(fm)


_REVERSIBLE = (A.Output, A.Controller, A.SetVlanVid, A.SetVlanPcp, A.StripVlan,
               A.PushVlan, A.SetEth, A.SetIPv4, A.SetIPDscp, A.SetIPEcn, A.SetIPTtl,
               A.SetL4Port, A.SetField, A.RegMove, A.Resubmit, A.GotoTable,
               A.WriteMetadata, A.Note, A.Exit, A.DecTtl, A.Conjunction, A.Learn,
               A.CheckPktLarger, A.Sample, A.DeleteField)


def _reversible(actions):
    """OVS's reversible_actions(): can later sets undo what ACTIONS do?"""
    return all(_reversible(a.actions) if type(a) is A.Clone else isinstance(a, _REVERSIBLE)
               for a in actions)


def _clone(ctx, actions, is_last):
    old_flow = dict(ctx.flow)
    if is_last or _reversible(actions):
        _do_actions(ctx, actions, is_last)
    else:
        old_base, outer = dict(ctx.base), ctx.odp
        ctx.odp = []
        _do_actions(ctx, actions, False)
        nested, ctx.odp = ctx.odp, outer
        if nested:
            ctx.odp.append(("clone", nested))
        ctx.base = old_base
    ctx.flow = old_flow         # an exit inside the clone ends everything, as OVS


# OVS's ofpacts_execute_action_set(): an action set's actions in the order
# the OpenFlow spec gives; of each kind but the sets only the last one.
_SET_KINDS = (A.SetField, A.RegMove, A.SetEth, A.SetIPv4, A.SetIPDscp, A.SetIPEcn,
              A.SetIPTtl, A.SetL4Port, A.SetVlanVid, A.SetVlanPcp)


def _action_set_to_list(actions):
    # A plain controller action is an output to CONTROLLER (its wire form).
    actions = [A.Output(OFPP_CONTROLLER, a.max_len)
               if type(a) is A.Controller and a.is_plain() else a for a in actions]

    def last(kind):
        found = [a for a in actions if type(a) is kind]
        return found[-1:]
    out = (last(A.StripVlan) + last(A.Decap) + last(A.Encap) + last(A.PushVlan)
           + last(A.DecTtl))
    out += [a for a in actions if type(a) in _SET_KINDS]
    # An exit has no place in an action set: OVS leaves it out.
    unsupported = [a for a in actions if type(a) not in _SET_KINDS and type(a) not in (
        A.StripVlan, A.PushVlan, A.DecTtl, A.Group, A.Output, A.Resubmit, A.Exit,
        A.Decap, A.Encap)]
    if unsupported:
        raise XlateError("%s in an action set: not supported"
                         % unsupported[0].format().split(":")[0].split("(")[0])
    tail = last(A.Group) or last(A.Output) or last(A.Resubmit)
    return out + tail if tail else []


GROUP_SELECT, GROUP_FF = G.TYPE_ALIASES["select"], G.TYPE_ALIASES["ff"]


def _get_group(ctx, group_id):
    entry = ctx.bridge.groups.get(group_id)
    return entry[0] if isinstance(entry, tuple) else entry


def _bucket_is_alive(ctx, bucket, depth=0):
    """OVS's bucket_is_alive(): its watched port is live and its watched
    group has a live bucket."""
    if depth >= MAX_DEPTH:
        return False
    if bucket.watch_port != G.OFPP11_ANY:
        p = ctx.bridge.ports.get(from_ofp11(bucket.watch_port))
        if p is None or not p.live:
            return False
    if bucket.watch_group != G.OFPG_ANY:
        g = _get_group(ctx, bucket.watch_group)
        if g is None or not any(_bucket_is_alive(ctx, b, depth + 1) for b in g.buckets):
            return False
    return True


def _group(ctx, group_id, is_last):
    """xlate_group_action(): all, indirect and fast-failover groups."""
    group = _get_group(ctx, group_id)
    if group is None:
        return
    if ctx.depth >= MAX_DEPTH:
        _too_deep(ctx)
    buckets = list(enumerate(group.buckets))     # (bucket id, bucket): ids 0..n-1
    if group.type == GROUP_SELECT:
        buckets = _select_bucket(ctx, group)
    elif group.type == GROUP_FF:
        buckets = [(j, b) for j, b in buckets if _bucket_is_alive(ctx, b)][:1]
        if buckets:
            ctx.report("detail", "using bucket %d" % buckets[0][0])
    n = len(buckets)
    for i, (bucket_id, bucket) in enumerate(buckets):
        old_flow, old_trace = dict(ctx.flow), ctx.trace
        node = ctx.report("action", "bucket %d" % bucket_id)
        if node is not None:
            ctx.trace = node[2]
        ctx.depth += 1
        ctx.in_group += 1
        try:
            _do_actions(ctx, _action_set_to_list(bucket.actions), is_last and i == n - 1)
        finally:
            ctx.depth -= 1
            ctx.in_group -= 1
            ctx.trace = old_trace
        # Each bucket works on a copy of the packet; an exit ends only it.
        ctx.flow = old_flow
        ctx.exit = False


def _select_bucket(ctx, group):
    """[(bucket id, bucket)] a select group's packet takes (or []), as OVS
    3.1 chooses it (see select_group.py): dp_hash through the group's hash
    table when its weights allow, else the default method's best score."""
    ids = [j if b.bucket_id is None else b.bucket_id
           for j, b in enumerate(group.buckets)]
    table = select_group.dp_hash_table([b.weight for b in group.buckets])
    if table is not None:
        dp_hash = ctx.g("dp_hash")
        if not dp_hash:
            _freeze_for_hash(ctx, group)
            return []
        mask = len(table) - 1
        ctx.unwild("dp_hash", mask)
        for i in range(len(table)):
            j = table[(dp_hash + i) & mask]
            if _bucket_is_alive(ctx, group.buckets[j]):
                ctx.report("detail", "using bucket %d" % ids[j])
                return [(ids[j], group.buckets[j])]
        ctx.report("detail", "no live bucket")
        return []
    basis = select_group.flow_hash_symmetric_l4(ctx.flow, 0)
    for m in ("dl_src", "dl_dst"):
        ctx.unwild(m)
    if ctx.g("dl_type") == 0x0800:
        ctx.unwild("nw_src")
        ctx.unwild("nw_dst")
    elif ctx.g("dl_type") == 0x86dd:
        ctx.unwild("ipv6_src")
        ctx.unwild("ipv6_dst")
    if ctx.is_ip_any():
        ctx.unwild("nw_proto")
        if ctx.g("nw_proto") != 17:     # UDP ports are not hashed
            bits = 0xff if ctx.g("nw_proto") in (1, 58) else 0xffff
            ctx.unwild("tp_src", bits)
            ctx.unwild("tp_dst", bits)
    ctx.unwild("vlan_tci", VLAN_VID_MASK | VLAN_CFI)
    best, best_score = None, 0
    for j, b in enumerate(group.buckets):
        if _bucket_is_alive(ctx, b):
            score = select_group.bucket_score(ids[j], basis, b.weight)
            if score >= best_score:
                best, best_score = j, score
            ctx.report("detail", "bucket %d: score %d" % (ids[j], score))
    if best is None:
        ctx.report("detail", "no live bucket")
        return []
    ctx.report("detail", "using bucket %d" % ids[best])
    return [(ids[best], group.buckets[best])]


_PIPELINE_STATE = frozenset(["metadata"] + [f"reg{i}" for i in range(16)])


def _freeze_for_hash(ctx, group):
    """OVS's ctx_trigger_recirculate_with_hash(): translation stops and
    freezes, the group action first (then what is left of each action list
    on the way out, _freeze_rest()); the datapath hashes the packet
    (hash(sym_l4(0))) and recirculates it into them (_finish_freezing())."""
    if ctx.action_set:
        raise XlateError("select group with an action set: not supported")
    if ctx.freezing:
        raise XlateError("select group after a pause: not supported")
    commit(ctx)
    # The pipeline's own fields go with the frozen state (OVS freezes its
    # metadata); the thaw sets them back before the group runs.
    restore = [A.SetField(F.field_by_name(m), ctx.flow[m], F.field_by_name(m).max_value)
               for m in sorted(_PIPELINE_STATE) if ctx.flow.get(m)]
    ctx.frozen = [UnrollXlate(ctx.table_id, _rule_cookie(ctx.rule)), *restore,
                  A.Group(group.group_id)]
    ctx.recirc_hash = ("sym_l4", 0)
    ctx.exit = ctx.freezing = True
    ctx.report("detail", "no live bucket")


def _resubmit(ctx, in_port, table, goto=False):
    if ctx.depth >= MAX_DEPTH:
        _too_deep(ctx)
    table_id = ctx.table_id if table == 255 else table
    ctx.depth += 1
    try:
        _xlate_table(ctx, table_id, goto=goto, in_port=in_port)
    finally:
        ctx.depth -= 1


# --- outputs ---------------------------------------------------------------------------------

def _output(ctx, port, max_len, is_last):
    in_port = ctx.g("in_port")
    if port < OFPP_MAX:
        if port == in_port:
            ctx.report("warn", "skipping output to input port")
            return
        _output_port(ctx, port, is_last)
    elif port == OFPP_IN_PORT:
        _output_port(ctx, in_port)
    elif port == OFPP_LOCAL:
        if in_port != OFPP_LOCAL:
            _output_port(ctx, OFPP_LOCAL)
        else:
            ctx.report("warn", "skipping output to input port")
    elif port == OFPP_NORMAL:
        _xlate_normal(ctx)
    elif port in (OFPP_FLOOD, OFPP_ALL):
        for p in ctx.bridge.ports.values():
            if p.ofp_port == in_port:
                continue
            if port == OFPP_FLOOD and p.no_flood:
                continue
            _output_port(ctx, p.ofp_port)
    elif port == OFPP_CONTROLLER:
        _controller(ctx, max_len, OFPR_PACKET_OUT if ctx.packet_out
                    else OFPR_GROUP if ctx.in_group
                    else OFPR_ACTION_SET if ctx.in_action_set else OFPR_ACTION)
    elif port == OFPP_NONE:
        pass
    elif port == OFPP_TABLE and ctx.packet_out:
        # A packet-out's packet through the tables, from table 0.
        if ctx.depth >= MAX_DEPTH:
            _too_deep(ctx)
        ctx.depth += 1
        was, ctx.packet_out = ctx.packet_out, False
        try:
            _xlate_table(ctx, 0, first=True)
        finally:
            ctx.depth -= 1
            ctx.packet_out = was
    elif port == OFPP_TABLE:
        raise XlateError("output to TABLE outside a packet-out: not supported")
    else:
        raise XlateError(f"output to port {port}: not supported")


def _output_port(ctx, ofp_port, is_last=False):
    p = ctx.bridge.ports.get(ofp_port)
    if p is None:
        ctx.report("warn", "Nonexistent output port")
        return
    if p.no_fwd:
        ctx.report("detail", "OFPPC_NO_FWD set, skipping output")
        return
    if p.peer is not None:
        _patch_port_output(ctx, p.peer)
        return
    tnl = ctx.bridge.tnl
    if tnl is not None:
        if p.tunnel is not None:
            tnl.output(ctx, p, is_last)     # tnl_push (pyovs.tnl.tnl_xlate)
            return
        if tnl.terminate(ctx, p):           # tnl_pop instead of output to LOCAL
            return
    if p.odp_port is None:
        ctx.report("warn", "output port has no datapath port, skipping")
        return
    commit(ctx)
    ctx.odp.append(("output", p.odp_port))


def _patch_port_output(ctx, peer):
    """OVS's patch_port_output(): the packet enters the peer bridge at the
    peer port and translation goes on there, from table 0, with a fresh
    pipeline (registers, metadata and action set cleared); afterwards the
    flow is as it was before the output."""
    bridge, port = peer
    if ctx.depth >= MAX_DEPTH:
        _too_deep(ctx)
    saved = (ctx.bridge, ctx.flow, ctx.table_id, ctx.rule, ctx.trace,
             ctx.action_set, ctx.exit, ctx.in_group, ctx.in_action_set)
    flow = {m: v for m, v in ctx.flow.items() if m not in _NON_PACKET}
    flow["in_port"] = port
    ctx.bridge, ctx.flow, ctx.action_set = bridge, flow, []
    ctx.in_group, ctx.in_action_set = 0, False
    node = ctx.report("bridge", 'bridge("%s")' % bridge.name)
    if node is not None:
        ctx.trace = node[2]
    ctx.depth += 1
    try:
        _xlate_table(ctx, 0, first=True)
    finally:
        ctx.depth -= 1
        (ctx.bridge, ctx.flow, ctx.table_id, ctx.rule, ctx.trace,
         ctx.action_set, ctx.exit, ctx.in_group, ctx.in_action_set) = saved


def _controller(ctx, max_len, reason, controller_id=0, userdata=b"",
                pause=False):
    if reason == OFPR_ACTION and _is_table_miss_rule(ctx.rule):
        reason = OFPR_EXPLICIT_MISS
    if pause:
        # OVS's controller(pause): translation stops here and what is left
        # goes with the packet-in (_freeze_rest, _finish_freezing); a trace
        # sends nothing (what was set is committed all the same).
        ctx.exit = ctx.freezing = True
        if not ctx.allow_side_effects:
            commit(ctx)
            return
    commit(ctx)
    recirc_id = ctx.bridge.alloc_recirc_id()
    cookie = _rule_cookie(ctx.rule)
    ctx.odp.append(("userspace", {
        "pid": 0, "actions": False, "tunnel_out_port": None,
        "cookie": ("controller", {
            "reason": reason, "dont_send": 0 if ctx.allow_side_effects else 1,
            "continuation": int(pause), "recirc_id": recirc_id,
            "rule_cookie": cookie, "controller_id": controller_id,
            "max_len": max_len})}))
    ctx.result.packet_ins.append({
        "reason": reason, "table_id": ctx.table_id, "cookie": cookie,
        "max_len": max_len, "controller_id": controller_id,
        "userdata": userdata, "recirc_id": recirc_id})
    if pause:
        ctx.pause_pin = ctx.result.packet_ins[-1]


class _UnrolledRule:
    """The rule a resumed continuation's actions ran in: only its cookie is
    known (for the packet-ins they raise)."""
    __slots__ = ("payload",)
    priority, mask = None, None

    def __init__(self, cookie):
        self.payload = UnrollXlate(cookie=cookie)


# Actions that can raise a packet-in, which names table and cookie: a frozen
# one is preceded by where it ran (OVS's freeze_unroll_actions()).
_NAMES_TABLE = (A.Output, A.OutputReg, A.Group, A.Controller, A.DecTtl)


def _freeze_rest(ctx, rest):
    """Keep REST, the actions after a pause at this level, for the
    continuation, each that may raise a packet-in after an UnrollXlate
    giving the table and cookie it ran in."""
    for a in rest:
        if isinstance(a, _NAMES_TABLE) or (
                type(a) is A.Resubmit and a.in_port == OFPP_IN_PORT
                and a.table == 255):
            cookie = _rule_cookie(ctx.rule)
            last = next((u for u in reversed(ctx.frozen)
                         if type(u) is UnrollXlate), None)
            if last is None or (last.table_id, last.cookie) != (ctx.table_id,
                                                                 cookie):
                ctx.frozen.append(UnrollXlate(ctx.table_id, cookie))
        ctx.frozen.append(a)


def _finish_freezing(ctx):
    """The paused packet-in gets the continuation, and the table and cookie
    of where translation ended up (the top level), as OVS's
    emit_continuation()."""
    if ctx.recirc_hash is not None:
        # A select group's dp_hash: the datapath hashes the packet and
        # recirculates it into the frozen actions (the group first).
        freeze = getattr(ctx.bridge, "freeze_decap", None)
        if freeze is not None and ctx.trace is None:
            rid = freeze(ctx.g("in_port"), list(ctx.frozen))
        else:           # (a trace's recirculation id is its own, as OVS's)
            rid = ctx.bridge.alloc_recirc_id()
        ctx.odp += [("hash", ctx.recirc_hash), ("recirc", rid)]
        ctx.recirc_hash, ctx.frozen = None, []
        return
    pin = ctx.pause_pin
    if pin is not None:
        pin["continuation"] = (list(ctx.frozen), list(ctx.action_set))
        pin["table_id"], pin["cookie"] = ctx.table_id, _rule_cookie(ctx.rule)


# --- NORMAL ----------------------------------------------------------------------------------

def _is_gratuitous_arp(ctx):
    if ctx.g("dl_type") != 0x0806:
        return False
    ctx.unwild("dl_dst")
    if ctx.g("dl_dst") != 0xffffffffffff:
        return False
    ctx.unwild("nw_proto")
    op = ctx.g("nw_proto")
    if op == 2:
        return True
    if op == 1:
        ctx.unwild("nw_src")
        ctx.unwild("nw_dst")
        return ctx.g("nw_src") == ctx.g("nw_dst")
    return False


def _input_vid_is_valid(port, vid):
    if port is None:
        return True
    mode = port.vlan_mode
    if mode == "access":
        return not vid
    if mode == "dot1q-tunnel":
        return port.cvlans is None or vid in port.cvlans
    if mode in ("native-tagged", "native-untagged") and not vid:
        return True
    return port.trunks_vlan(vid)


# An "xvlan" is OVS's view of a frame's VLANs in NORMAL: a list of two
# [tpid, vid, pcp], outermost first, zeros where there is no header.

def _xvlan_extract(flow):
    xv = [[0, 0, 0], [0, 0, 0]]
    for i, (tpid, tci) in enumerate(_vlan_layers(flow)):
        xv[i] = [tpid, tci & VLAN_VID_MASK, tci & VLAN_PCP_MASK]
    return xv


def _xvlan_input(port, xv):
    """xvlan_input_translate()."""
    if port is None:
        return [list(v) for v in xv]
    mode = port.vlan_mode
    out = [list(v) for v in xv]
    if mode == "access":
        out = [[xv[0][0] or 0x8100, port.vlan, xv[0][2]], [0, 0, 0]]
    elif mode in ("native-tagged", "native-untagged") and not xv[0][1]:
        out[0] = [xv[0][0] or 0x8100, port.vlan, xv[0][2]]
    elif mode == "dot1q-tunnel":
        out = [[port.qinq_ethtype, port.vlan, 0], list(xv[0])]
    return out


def _xvlan_output(port, xv):
    """xvlan_output_translate()."""
    mode = port.vlan_mode
    if mode == "access":
        return [[0, 0, 0], [0, 0, 0]]
    if mode == "dot1q-tunnel" or (mode == "native-untagged" and xv[0][1] == port.vlan):
        return [list(xv[1]), [0, 0, 0]]
    return [list(v) for v in xv]


def _xlate_normal(ctx):
    ctx.unwild("dl_src")
    ctx.unwild("dl_dst")
    ctx.unwild("vlan_tci", VLAN_VID_MASK | VLAN_CFI)
    ports = ctx.bridge.ports
    in_port = ctx.g("in_port")
    in_x = ports.get(in_port)
    if in_x is None and in_port != OFPP_NONE:
        ctx.report("error", "received packet on unknown port %d" % in_port)
        ctx.report("warn", "no input bundle, dropping")
        return
    in_xv = _xvlan_extract(ctx.flow)
    if not _input_vid_is_valid(in_x, in_xv[0][1]):
        if ctx.trace is not None:
            ctx.report("error", _bad_vid_text(in_x, in_xv[0][1]))
        ctx.report("warn", "disallowed VLAN VID for this input port, dropping")
        return
    xv = _xvlan_input(in_x, in_xv)
    vlan = xv[0][1]
    dl_dst = ctx.g("dl_dst")
    if not ctx.bridge.forward_bpdu and is_reserved_mac(dl_dst):
        ctx.report("detail", "packet has reserved destination MAC, dropping")
        return
    _is_gratuitous_arp(ctx)
    ml = ctx.bridge.ml
    dl_src = ctx.g("dl_src")
    if in_x is not None and ml is not None and ml.may_learn(dl_src, vlan):
        entry = ((dl_src, vlan, in_port) if ctx.bridge is ctx.root
                 else (dl_src, vlan, in_port, ml))
        ctx.result.sources.append(entry)
        e = ml.get(dl_src, vlan) if ctx.allow_side_effects else None
        if ctx.allow_side_effects and (e is None or (not e.static and e.port != in_port)):
            ctx.result.learned.append(entry)
            if ctx.trace is not None:
                ctx.report("detail", "learned that %s is on port %s in VLAN %d"
                           % (format_eth(dl_src), in_x.name, vlan))
    if ml is not None:
        ctx.result.dests.append((dl_dst, vlan, ml))
    out = ml.lookup(dl_dst, vlan) if ml is not None else None
    if out is not None:
        out_x = ports.get(out)
        if out_x is in_x:
            ctx.report("detail", "learned port is input port, dropping")
        elif out_x is not None:
            ctx.report("detail", "forwarding to learned port")
            _output_normal(ctx, out_x, xv)
        return
    ctx.report("detail", "no learned MAC for destination, flooding")
    for p in ports.values():
        if p is not in_x and p.includes_vlan(vlan) and not p.no_flood:
            _output_normal(ctx, p, xv)


def _bad_vid_text(port, vid):
    """Why NORMAL refuses VID on PORT, as OVS's trace says it."""
    if port.vlan_mode == "access":
        return ("dropping VLAN %d tagged packet received on port %s configured as "
                "VLAN %d access port" % (vid, port.name, port.vlan))
    if port.vlan_mode == "dot1q-tunnel":
        return ("dropping VLAN %d packet received on dot1q-tunnel port %s that "
                "excludes this VLAN" % (vid, port.name))
    return ("dropping VLAN %d packet received on port %s not configured for "
            "trunking VLAN %d" % (vid, port.name, vid))


def _format_action_set(verb, actions):
    """ "action set is: ..." as the trace says it.  Without an output or a
    group an action set does nothing, and OVS calls it empty."""
    try:
        actions = _action_set_to_list(actions)
    except XlateError:
        pass
    if not actions:
        return "action set %s empty" % verb
    return "action set %s: %s" % (verb, ",".join(a.format() for a in actions))


def _output_normal(ctx, port, xv):
    out = _xvlan_output(port, xv)
    saved = {m: ctx.flow.get(m) for layer in VLAN_LAYERS for m in layer}
    for (tpid_m, tci_m), (tpid, vid, pcp) in zip(VLAN_LAYERS, out):
        tci = vid | (pcp & VLAN_PCP_MASK)     # xvlan_put()
        if tci:
            tci |= VLAN_CFI
            ctx.flow[tpid_m] = tpid or 0x8100
        if tci or tci_m in ctx.flow:    # (an absent member is 0: leave it out)
            ctx.flow[tci_m] = tci
    _output_port(ctx, port.ofp_port)
    for m, v in saved.items():
        if v is None:
            ctx.flow.pop(m, None)
        else:
            ctx.flow[m] = v


# --- commit ----------------------------------------------------------------------------------

_SETTABLE = {
    "eth": ("src", "dst"),
    "ipv4": ("src", "dst", "tos", "ttl"),
    "ipv6": ("src", "dst", "label", "tclass", "hlimit"),
    "tcp": ("src", "dst"), "udp": ("src", "dst"), "sctp": ("src", "dst"),
    "icmp": ("type", "code"), "icmpv6": ("type", "code"),
    "arp": ("sip", "tip", "op", "sha", "tha"),
    "nd": ("target", "sll", "tll"),
}
_L4_ATTR = {6: "tcp", 17: "udp", 132: "sctp"}


def commit(ctx):
    """commit_odp_actions(): emit what turns BASE into FLOW."""
    if ctx.flow == ctx.base:
        return                  # nothing changed (the common case): nothing to emit
    if ctx.pending_encap:
        _commit_encap(ctx)
    elif ctx.pending_decap or ctx.g("packet_type") != ctx.base.get("packet_type", 0):
        if _commit_decap(ctx):
            return          # the headers are read again after recirculation
    if not ctx.g("packet_type"):    # (a layer-3 packet has no Ethernet header)
        _commit_struct(ctx, "eth")
    dl_type = ctx.g("dl_type")
    if dl_type == ETH_TYPE_NSH:
        _commit_nsh(ctx)
    if dl_type in (0x0800, 0x86dd):
        if _commit_struct(ctx, "ipv4" if dl_type == 0x0800 else "ipv6"):
            ctx.unwild("nw_proto")      # as OVS's commit of an L3 set
        if (dl_type == 0x86dd and ctx.g("nw_proto") == 58 and ctx.g("tp_dst") == 0
                and ctx.g("tp_src") in (135, 136)):
            _commit_struct(ctx, "nd")
    elif dl_type in (0x0806, 0x8035):
        _commit_struct(ctx, "arp")
    if dl_type in (0x0800, 0x86dd) and not ctx.g("nw_frag") & FLOW_NW_FRAG_LATER:
        proto = ctx.g("nw_proto")
        attr = _L4_ATTR.get(proto)
        if attr is None and proto == 1 and dl_type == 0x0800:
            attr = "icmp"
        elif attr is None and proto == 58 and dl_type == 0x86dd:
            attr = "icmpv6"
        if attr is not None:
            _commit_struct(ctx, attr)
    _commit_vlan(ctx)
    _commit_pkt_mark(ctx)


def _commit_pkt_mark(ctx):
    mark, base = ctx.g("pkt_mark"), ctx.base.get("pkt_mark", 0)
    if mark == base:
        return
    bits = ctx.wc.get("pkt_mark", 0) or 0xffffffff
    ctx.odp.append(("set", ("skb_mark", mark & bits, None if bits == 0xffffffff else bits)))
    ctx.base["pkt_mark"] = (base & ~bits) | (mark & bits)


def _commit_struct(ctx, attr):
    members = odp_keys.STRUCT_MEMBERS[attr]
    widths = odp_keys._FIELD_WIDTHS[attr]
    flow, base = ctx.flow, ctx.base
    changed = [f for f in _SETTABLE[attr]
               if (flow.get(members[f], 0) ^ base.get(members[f], 0)) & widths[f]]
    if not changed:
        return False
    value, mask = {}, {}
    for f, m in members.items():
        v = flow.get(m, 0) & widths[f]
        if f == "frag":
            v = odp_keys.frag_from_nw_frag(flow.get(m, 0))
        value[f] = v
        mask[f] = 0
    for f in changed:
        m = members[f]
        bits = ctx.wc.get(m, 0) & widths[f]
        if not bits or ctx.wc.get(m, 0) & _FULL[m] == _FULL[m]:
            bits = widths[f]        # the whole field (ARP's op is 16 bits in a key)
        mask[f] = bits
        base[m] = (base.get(m, 0) & ~bits) | (flow.get(m, 0) & bits)
    full = all(mask[f] == widths[f] for f in members)
    if full:
        ctx.odp.append(("set", (attr, value, None)))
    else:
        ctx.odp.append(("set", (attr, {f: value[f] & mask[f] for f in value}, mask)))
    return True


def _commit_vlan(ctx):
    """commit_vlan_action(): pop the base's headers that differ (counting
    from the innermost, un-wildcarding each), push the flow's."""
    base_l, flow_l = _vlan_layers(ctx.base), _vlan_layers(ctx.flow)
    bn, fn = len(base_l) - 1, len(flow_l) - 1
    if bn == 1 and base_l != flow_l:
        # The comparison reads the frame's inner header.  (OVS leaves it out
        # of the megaflow; then a frame differing only there could reuse a
        # wrong decision.  Single-tagged frames are unaffected.)
        ctx.unwild("vlan_tpid2")
        ctx.unwild("vlan_tci2")
    while bn >= 0 and fn >= 0 and base_l[bn] == flow_l[fn]:
        bn -= 1
        fn -= 1
    if bn < 0 and fn < 0:
        return
    for i in range(bn, -1, -1):
        ctx.odp.append(("pop_vlan", None))
        ctx.unwild(VLAN_LAYERS[i][0])
        ctx.unwild(VLAN_LAYERS[i][1])
    for i in range(fn, -1, -1):
        ctx.odp.append(("push_vlan", flow_l[i]))
    _put_vlan_layers(ctx.base, flow_l)


