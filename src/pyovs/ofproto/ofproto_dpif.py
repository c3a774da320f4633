"""OpenFlow switches over the userspace datapath (OVS's ofproto-dpif).

What it does
------------
This is where ovs-vswitchd's pieces meet: the OpenFlow switch of each
bridge (ofproto.OFProto, its tables, ports and groups), translation
(xlate.py), MAC learning (mac_learning.py) and the userspace datapath
(dpif/netdev.py).  As in OVS there is one datapath per datapath *type*,
shared by every bridge of that type (a :class:`Backer`, OVS's
dpif_backer): type "netdev" is "netdev@ovs-netdev", "dummy" is
"dummy@ovs-dummy" and, since pyovs has no kernel datapath, "system" is a
userspace datapath too, "system@ovs-system".  Each bridge
(:class:`OFProtoDpif`) adds its ports to its backer's datapath and gets odp
port numbers there; the backer maps an odp port back to (bridge, OpenFlow
port).  Datapath port numbers are chosen as dpif-netdev does: the lowest
free one, except on the dummy datapath, where a name with digits asks for
that number (plus 100 for names starting "br"), so tests can predict them.

The upcall
----------
On a datapath miss the backer finds the input port's bridge, turns the
datapath flow into an OpenFlow one (in_port -> the OpenFlow port), and runs
xlate() on the bridge's XBridge -- built from the OFProto's tables, groups
and ports and the Port rows' VLAN configuration, and rebuilt only when one
of those changed.  A learn action's flow goes into the OFProto during the
walk (XBridge.learn), so later lookups of the same translation see it, as
in OVS.  Side effects are applied after it: learned MACs into the bridge's
MacLearning, the upcall's packet credited to the rules translation matched.  The answer to the
datapath is (actions, mask); actions name odp ports already (XPort.odp_port).

Packet-ins take OVS's slow path: a translation that sends to a controller
installs no megaflow (every such packet comes up), and its packet-ins wait,
keyed by the recirc_id translation gave each one, until the datapath
executes the userspace() action; then the packet, as the actions before it
left it, goes to the bridge's connection manager.  A controller's
packet-out is translated the same way (xlate(..., actions=...)) and run by
the datapath's execute().

Table miss: without a connected controller a standalone bridge has OVS's
"priority=0 actions=NORMAL" flow (vswitchd/ofconnect.py installs it), so a
miss drops; with one, a miss goes to the controller when a controller
connection speaks OpenFlow 1.0-1.2 (1.3+ drop on a miss, as OVS).

Keeping the datapath right
--------------------------
``run(now)`` (every RUN_INTERVAL seconds, from the daemon's loop) does what
OVS's revalidator threads do.  It pushes each megaflow's new packets and
bytes to the OpenFlow rules that produced it (remembered per megaflow,
found by translating it again when not known), so dump-flows counts
packets; expires megaflows idle for MAX_IDLE_MS; ages MAC entries; keeps
port link state (OFProto.set_port_link, so controllers get port-status);
refreshes the device counters OpenFlow port stats report; and
revalidates every megaflow of a backer when anything translation reads
changed -- an OpenFlow table, group or port (OFProto.changed), a MAC
table (MacLearning.seqno) or the bridge configuration: each megaflow's
flow is translated again; a changed mask deletes it, changed actions fix
it in place.  ``changed()`` asks for that at once (the daemon calls it
after OpenFlow messages), so no packet follows an old decision for long;
when a pass is costly (many megaflows) passes are paced so that at most
REVALIDATE_SHARE of the time goes to them (changes meanwhile coalesce, as
they do for OVS's revalidator threads).

MAC learning is the exception, since every new source MAC changes the MAC
table: each megaflow is tagged with the MAC entries NORMAL looked up for it
(XlateResult.dests), each MAC table notes the entries that changed
(MacLearning.changes: learned, moved, aged, evicted, flushed), and only the
megaflows tagged with those are translated again.

Patch ports have no datapath port: output to one continues translation in
the peer bridge (xlate.py), which must be in the same backer.

Public API:
  DpifContext(): per daemon.  .backers (dp_type -> Backer), .bridges
    (name -> OFProtoDpif), .tunnel (None, or the native tunneling hooks:
    pyovs.tnl.ofproto_hooks.OfprotoTunnels, which sets it).
    create_bridge(ofproto, dp_type) -> OFProtoDpif; destroy_bridge(ofdp);
    attach(loop) (datapath ports read from LOOP, run() scheduled);
    detach(); run(now); changed(); xbridges() -> {name: XBridge};
    dpifs() -> [DpifNetdev]; dpif_show() -> text.
  Backer(dp_type, ctx): .dp (DpifNetdev) .odp_ports (odp -> (OFProtoDpif,
    ofp_port)); upcall(flow, packet); revalidate(); alloc_recirc_id().
  OFProtoDpif: .name .ofproto .backer .ml .connmgr (set by the OpenFlow
    side) .wake (callable, set by it too) .ports (ofp -> DpifPort)
    add_port(ofp_port, netdev) -> odp port or None; del_port(ofp_port);
    set_port_config(ofp_port, **vlan settings); configure(mac_table_size,
    mac_aging_time, forward_bpdu); xbridge(); packet_out(po, conn=None);
    ofp_to_odp(ofp) / odp_to_ofp(odp).
  register_unixctl_commands(server, ctx): ofproto/trace (bridge + OpenFlow
    flow, or [dp] + datapath flow), dpif/show, upcall/show, dpif/dump-dps,
    dpif/dump-flows, fdb/show, fdb/flush, fdb/add, fdb/del, fdb/stats-show, fdb/stats-clear,
    bridge/dump-flows, revalidator/purge, revalidator/wait, dpctl/*,
    coverage/show, coverage/read-counter.
  flow_to_packet(text, size=0) -> bytes (netdev-dummy/receive's flow form).
  DP_NAMES: dp_type -> datapath name.
"""

import re
import time

from pyovs.dpif.dpcls import Megaflow
from pyovs.dpif.netdev import MAX_FLOWS, DpifNetdev, DpifError
from pyovs.netdev.base import NetdevError, Packet, mac_from_str
from pyovs.openflow.async_msgs import PacketIn
from pyovs.openflow.continuation import Continuation
from pyovs.openflow.errors import OFPError
from pyovs.openflow.match import Match
from pyovs.openflow.ports import OFPP_LOCAL, OFPP_NONE
from pyovs.packet.flow import flow_extract
from pyovs.util.vlog import Vlog
from pyovs.vswitchd import coverage
from . import xlate as X
from .mac_learning import MacLearning, MAC_DEFAULT_MAX, MAC_ENTRY_DEFAULT_IDLE_TIME
from .ofproto import OFPPC_NO_FWD, OFPPC_NO_RECV, OFPPC_PORT_DOWN, OFProto

vlog = Vlog("ofproto_dpif")

DP_NAMES = {"netdev": "ovs-netdev", "dummy": "ovs-dummy", "system": "ovs-system"}
#: How often run() pushes statistics, expires and ages (seconds).
RUN_INTERVAL = 1.0
#: How often OpenFlow-side changes are looked for (seconds; a cheap check).
POLL_INTERVAL = 0.05
#: At most this share of the time goes to revalidation when changes keep
#: coming, and no change waits longer than MAX_REVALIDATE_DELAY seconds.
REVALIDATE_SHARE = 0.2
MAX_REVALIDATE_DELAY = 1.0
#: Megaflows idle this long are removed (OVS's other_config:max-idle default).
MAX_IDLE_MS = 10000
OFPPC_NO_FLOOD = 1 << 4         # OpenFlow 1.0's no_flood bit
#: OpenFlow port stats <- netdev counters.
_PORT_STATS = (("rx_packets", "rx_packets"), ("tx_packets", "tx_packets"),
               ("rx_bytes", "rx_bytes"), ("tx_bytes", "tx_bytes"),
               ("rx_dropped", "rx_dropped"), ("tx_dropped", "tx_dropped"),
               ("rx_errors", "rx_errors"), ("tx_errors", "tx_errors"),
               ("rx_frame_err", "rx_frame_errors"), ("rx_over_err", "rx_over_errors"),
               ("rx_crc_err", "rx_crc_errors"), ("collisions", "collisions"))
_PIPELINE = ("metadata",) + tuple("reg%d" % i for i in range(16))


def choose_port(dp, name):
    """dpif-netdev's choose_port(): on a datapath of the dummy class (the
    "dummy" type, and those --enable-dummy overrides: Backer sets
    dp.dummy_class) a name's first digits ask for that port number (plus
    100 for "br..."); else None (the lowest free one)."""
    if not getattr(dp, "dummy_class", dp.dp_type == "dummy"):
        return None
    start = 100 if name.startswith("br") else 0
    for i, ch in enumerate(name):
        if ch.isdigit():
            j = i
            while j < len(name) and name[j].isdigit():
                j += 1
            no = start + int(name[i:j])
            if 0 < no < 0xffff and no not in dp.ports:
                return no
            return None
    return None


def _count_reasons(before, after):
    """Coverage: why a revalidation ran (OVS's rev_* counters)."""
    if before is None or len(before) != len(after):
        coverage.inc("rev_reconfigure")
        return
    for b, a in zip(before[:-1], after[:-1]):
        if b[1] != a[1]:
            coverage.inc("rev_flow_table")
        if b[2] != a[2]:
            coverage.inc("rev_mac_learning")
        if b[3:] != a[3:]:
            coverage.inc("rev_reconfigure")
    if before[-1] != after[-1]:
        coverage.inc("rev_port_toggled")


def _flow_key(flow):
    """The upcall's flow, as the datapath keeps it with the megaflow it
    installs (flow_key(); tcp_flags may be dropped there)."""
    return tuple([i for i in flow.items() if i[0] != "tcp_flags"])


class DpifPort:
    """A bridge port as the datapath side keeps it."""
    __slots__ = ("ofp_port", "name", "netdev", "odp_port", "vlan", "peer")

    def __init__(self, ofp_port, name, netdev, odp_port):
        self.ofp_port, self.name, self.netdev = ofp_port, name, netdev
        self.odp_port = odp_port
        self.vlan = {}              # XPort keyword arguments (tag, trunks, ...)
        self.peer = getattr(netdev, "peer", None) if netdev is not None \
            and getattr(netdev, "type", "") == "patch" else None


class Backer:
    """One datapath shared by the bridges of a type (OVS's dpif_backer)."""

    def __init__(self, dp_type, ctx):
        self.ctx = ctx
        self.dp = DpifNetdev(DP_NAMES.get(dp_type, "ovs-" + dp_type), dp_type,
                             upcall=self.upcall, userspace=self.userspace)
        self.dp.dummy_class = ctx.is_dummy_class(dp_type)
        if self.dp.dummy_class:
            self.dp.ports[0].type = "dummy-internal"
        self.odp_ports = {}         # odp port -> (OFProtoDpif, ofp_port)
        self.mf_rules = {}          # Megaflow -> [rules, packets, bytes] pushed
        self.pins = {}              # recirc_id -> (OFProtoDpif, packet-in dict, ofp in_port, flow)
        self.recirc_owner = {}      # recirc_id -> the OFProtoDpif that allocated it
        self.decap_recircs = {}     # recirc_id -> (OFProtoDpif, ofp in_port, actions)
        self._decap_ids = {}        # the same frozen state -> its recirc_id
        self._pending = {}          # megaflow key -> what the upcall's xlate saw
        self._next_recirc = 1
        self._seen = None           # what translation read, at the last revalidation
        self._tags = {}             # (mac, vlan, MacLearning) -> [(flow, mask)] that read it
        self._n_tagged = 0
        self._tracked = {}          # MacLearning -> its .changes set, since the last full one
        self.n_revalidations = 0
        # upcall/show's figures, taken at each sweep of the flows (run())
        self.avg_n_flows = self.max_n_flows = 0
        self.dump_duration = 0      # ms, the last sweep

    def alloc_recirc_id(self, owner=None):
        """A new recirculation id; OWNER (an OFProtoDpif): the bridge whose
        translation froze there (OVS's recirc node's ofproto_uuid)."""
        rid = self._alloc_id()
        if owner is not None:
            if len(self.recirc_owner) > 4096:
                self.recirc_owner.clear()
            self.recirc_owner[rid] = owner
        return rid

    def _alloc_id(self):
        rid = self._next_recirc
        self._next_recirc = rid + 1 if rid < 0xfffffff0 else 1
        return rid

    def bridges(self):
        return [b for b in self.ctx.bridges.values() if b.backer is self]

    # -- the upcall ---------------------------------------------------------
    def upcall(self, flow, packet):
        owner = self.odp_ports.get(flow.get("in_port"))
        tnl = self.ctx.tunnel
        if owner is None and tnl is not None:
            owner = tnl.owner(self, flow)   # out of a tunnel (tnl_pop)
            if owner is not None:
                tnl.credit_rx(self, flow, 1, len(packet.data))
        if owner is None:
            # out of a tunnel no port has (unknown VNI or key): dropped
            # with no megaflow, as OVS (each such packet is an upcall);
            # a datapath port of no bridge: a drop megaflow
            if flow.get("tun_dst") or flow.get("tun_ipv6_dst"):
                return None
            return [], {}
        ofdp, ofp_port = owner
        if len(packet.data) < 14:   # no Ethernet header: dropped, as OVS
            coverage.inc("datapath_drop_rx_invalid_packet")
            return None
        now = time.monotonic()
        xflow = dict(flow)
        xflow["in_port"] = ofp_port
        coverage.inc("xlate_actions")
        if tnl is not None:
            tnl.take_miss()
        r = self._xlate(ofdp, xflow, now, True)
        # ARP/ND requests sent, neighbors learned; a neighbor miss is not
        # installed (slow path), so later packets ask again
        tnl_miss = tnl is not None and tnl.after_upcall()
        if tnl is not None:
            tnl.credit(self, None, r.actions, 1, len(packet.data))
        if r.learned or r.flow_mods:
            coverage.inc("mac_learning_learned", len(r.learned))
            ofdp.apply_side_effects(r, now, packet, ofp_port)
            self.ctx.changed()
        for rule in r.rules:
            OFProto.credit_stats(None, rule, 1, len(packet.data), now)
        if r.packet_ins:
            self._keep_pins(ofdp, r, ofp_port)
            return r.actions, None  # slow path: every packet comes up
        if tnl_miss:
            return r.actions, None
        self._pending[_flow_key(flow)] = (r.rules, r.sources, ofdp.ml)
        self._tag(flow, dict(r.wc, in_port=0xffffffff, recirc_id=0xffffffff), r)
        coverage.inc("upcall_flow_put")
        return r.actions, r.wc

    def _keep_pins(self, ofdp, r, ofp_port):
        if len(self.pins) > 1024:   # never executed (dropped): forget
            self.pins.clear()
        for pin in r.packet_ins:
            owner = self.recirc_owner.pop(pin["recirc_id"], ofdp)
            if owner is ofdp:
                self.pins[pin["recirc_id"]] = (ofdp, pin, ofp_port, r.final_flow)
            else:
                # raised in a patched peer: that bridge's controllers get it,
                # from the patch port it entered by (the pipeline fields
                # start cleared there, as OVS's patch_port_output())
                self.pins[pin["recirc_id"]] = (owner, pin, owner.patch_port_to(ofdp), None)

    def userspace(self, packet, flow, arg):
        """The datapath ran userspace(): a packet-in waiting for its packet."""
        cookie = arg.get("cookie") if isinstance(arg, dict) else None
        if not cookie or cookie[0] != "controller":
            return
        entry = self.pins.pop(cookie[1].get("recirc_id"), None)
        if entry is None:
            return
        ofdp, pin, ofp_port, final = entry
        if cookie[1].get("dont_send"):
            return
        ofdp.send_packet_in(packet.data, pin, ofp_port, final)

    def _tag(self, flow, mask, r):
        """Remember that megaflow FLOW/MASK's translation R read the MAC
        entries in R.dests (OVS's xlate cache entry for NORMAL)."""
        tags = self._tags
        for dest in r.dests:
            entry = tags.get(dest)
            if entry is None:
                tags[dest] = [(flow, mask)]
            else:
                entry.append((flow, mask))
        self._n_tagged += len(r.dests)

    # -- revalidation -------------------------------------------------------
    def _state(self):
        return tuple((b.name, b.ofproto.changed, b.ml.seqno, b.config_seq,
                      b.miss()) for b in self.bridges()) + (self.ctx.topology,)

    def needs_revalidation(self):
        return (any(b.ml.changes for b in self.bridges())
                or self._state() != self._seen)

    def _needs_full(self, state):
        """Whether more than the noted MAC entries changed since the last
        full revalidation: anything else translation reads, a MAC table's
        change it did not note, or too many stale tags to keep."""
        seen = self._seen
        if seen is None or len(seen) != len(state) or seen[-1] != state[-1]:
            return True
        for b, a in zip(seen[:-1], state[:-1]):
            if b[:2] != a[:2] or b[3:] != a[3:]:
                return True
        if any(self._tracked.get(b.ml) is not b.ml.changes or b.ml.changes is None
               for b in self.bridges()):
            return True
        return self._n_tagged > 4 * len(self.dp) + 4096

    def _translate(self, mf):
        """(XlateResult, flow) of megaflow MF now, without side effects, or
        (None, None) when its port belongs to no bridge."""
        flow = self.dp.flow_key(mf)[0]
        owner = self.odp_ports.get(flow.get("in_port"))
        if owner is None and self.ctx.tunnel is not None:
            owner = self.ctx.tunnel.owner(self, flow)
        if owner is None:
            return None, None
        xflow = dict(flow)
        xflow["in_port"] = owner[1]
        return self._xlate(owner[0], xflow, time.monotonic(), False), flow

    def _xlate(self, ofdp, xflow, now, side_effects):
        """Translate XFLOW through OFDP's bridge; a packet recirculated after
        decap() resumes with the actions decap() froze, in their bridge."""
        frozen = self.decap_recircs.get(xflow.get("recirc_id", 0))
        if frozen is None:
            return X.xlate(ofdp.xbridge(), xflow, now, side_effects)
        ofdp, xflow["in_port"], actions = frozen
        return X.xlate(ofdp.xbridge(), xflow, now, side_effects, actions=actions)

    def freeze_decap(self, ofdp, in_port, actions):
        """The recirculation id of a decap()'s frozen state (the rest of the
        action list, in OFDP's bridge, from ofp port IN_PORT): the same
        state always has the same id, so revalidation keeps it."""
        key = (id(ofdp), in_port, tuple(a.format() for a in actions))
        rid = self._decap_ids.get(key)
        if rid is None:
            if len(self._decap_ids) > 4096:
                self._decap_ids.clear()
                self.decap_recircs.clear()
            rid = self._decap_ids[key] = self.alloc_recirc_id(ofdp)
            self.decap_recircs[rid] = (ofdp, in_port, list(actions))
        return rid

    def revalidate(self):
        """Translate every megaflow again (only those tagged with the
        learned MAC entries, when nothing else changed): fix changed
        actions, delete those whose decision now needs bits their mask
        lacks (OVS's revalidate_ukey)."""
        state = self._state()
        if not self._needs_full(state):
            self._revalidate_macs(state)
            return
        self.push_stats()
        before, self._seen = self._seen, state
        self.n_revalidations += 1
        _count_reasons(before, self._seen)
        self._tags, self._n_tagged, self._tracked = {}, 0, {}
        for b in self.bridges():
            b.ml.changes = self._tracked[b.ml] = set()
        kept, fixed, deleted = self.dp.revalidate(self._check)
        coverage.inc("xlate_actions", kept + fixed + deleted)
        coverage.inc("dpif_flow_del", deleted)

    def _revalidate_macs(self, state):
        """Translate again only the megaflows whose decision read a MAC
        entry learned or moved since (OVS revalidates all of them; the
        tags make it proportional to what changed)."""
        dirty = [(mac, vlan, ml) for ml, changes in self._tracked.items()
                 for mac, vlan in changes]
        for changes in self._tracked.values():
            changes.clear()
        if self._seen != state:
            coverage.inc("rev_mac_learning")
        self._seen = state
        done = set()
        gone = []
        for key in dirty:
            tagged = self._tags.pop(key, ())
            self._n_tagged -= len(tagged)
            for flow, mask in tagged:
                mf = self.dp.flow_get(flow, mask)
                if mf is None or id(mf) in done:
                    continue
                done.add(id(mf))
                actions = self._check(mf)
                if actions is None:
                    gone.append(self.dp.flow_del(flow, mask))
                elif actions != mf.actions:
                    mf.actions = actions
        coverage.inc("xlate_actions", len(done))
        if gone:
            coverage.inc("dpif_flow_del", len(gone))
            self.push_stats(gone)   # their last packets still count

    def _check(self, mf):
        """MF's actions now, or None when it must go (revalidate_ukey)."""
        tnl = self.ctx.tunnel
        if tnl is not None:
            tnl.take_miss()
        r, flow = self._translate(mf)
        if r is None or r.packet_ins or (tnl is not None and tnl.take_miss()):
            return None             # (a tunnel neighbor miss: upcall again)
        wc = dict(r.wc, in_port=mf.mask.get("in_port"),
                  recirc_id=mf.mask.get("recirc_id"))
        old = mf.mask
        if any(bits & ~old.get(m, 0) for m, bits in Megaflow(flow, wc).mask.items()):
            return None     # now too generic: must be narrowed (OVS deletes)
        rec = self.mf_rules.get(mf)
        if rec is not None:
            rec[0], rec[3] = r.rules, r.sources
        self._tag(flow, mf.mask, r)
        return r.actions

    def push_stats(self, gone=()):
        """Credit the megaflows' new packets and bytes to their rules, and
        keep the MAC entries their NORMAL forwarding relies on young (OVS's
        xlate cache: a MAC seen only in the datapath is still seen)."""
        now = time.monotonic()
        old, self.mf_rules = self.mf_rules, {}
        pending, self._pending = self._pending, {}
        for mf in list(self.dp.flow_dump()) + list(gone):
            rec = old.get(mf)
            if rec is None:
                seen = pending.get(_flow_key(self.dp.flow_key(mf)[0]))
                if seen is None:
                    r, _ = self._translate(mf)
                    seen = (r.rules, r.sources, None) if r is not None else ([], [], None)
                rules, sources, ml = seen
                if ml is None and sources:
                    owner = self.odp_ports.get(mf.value.get("in_port"))
                    ml = owner[0].ml if owner is not None else None
                rec = [rules, 0, 0, sources, ml]
            dp_, db = mf.n_packets - rec[1], mf.n_bytes - rec[2]
            if (dp_ or db) and self.ctx.tunnel is not None:
                self.ctx.tunnel.credit(self, self.dp.flow_key(mf)[0], mf.actions, dp_, db)
            if dp_ or db:
                for rule in rec[0]:
                    OFProto.credit_stats(None, rule, dp_, db, now)
                rec[1], rec[2] = mf.n_packets, mf.n_bytes
                if rec[4] is not None:
                    for item in rec[3]:
                        ml = item[3] if len(item) > 3 else rec[4]
                        e = ml.get(item[0], item[1])
                        if e is not None and e.port == item[2]:
                            ml.learn(item[0], item[1], item[2], now)
            if not mf.dead:
                self.mf_rules[mf] = rec

    def run(self, now):
        start = time.monotonic()
        n = len(self.dp)
        self.avg_n_flows = (self.avg_n_flows + n) // 2
        self.max_n_flows = max(self.max_n_flows, n)
        gone = self.dp.flow_expire(MAX_IDLE_MS)
        coverage.inc("dpif_flow_del", len(gone))
        self.push_stats(gone)
        self.dump_duration = int((time.monotonic() - start) * 1000)
        self.dp.run_periodic()

    def upcall_show(self):
        """upcall/show's lines for this datapath, OVS's layout: one
        revalidator (the daemon's loop, numbered 0) keeping every flow; the
        limit is the datapath's (pyovs has no dynamic flow limit)."""
        n = len(self.dp)
        return ("%s:\n"
                "  flows         : (current %d) (avg %d) (max %d) (limit %d)\n"
                "  dump duration : %dms\n"
                "  ufid enabled : true\n"
                "\n"
                "  0: (keys %d)\n" % (self.dp.full_name, n, self.avg_n_flows,
                                      max(self.max_n_flows, n), MAX_FLOWS,
                                      self.dump_duration, n))

    def close(self):
        self.dp.close()


class OFProtoDpif:
    """One bridge on its backer's datapath (see the module essay)."""

    def __init__(self, ofproto, backer, ctx):
        self.name = ofproto.name
        self.ofproto = ofproto
        self.backer = backer
        self.ctx = ctx
        self.ml = MacLearning()
        self.ports = {}             # ofp_port -> DpifPort
        self.connmgr = None
        self.wake = None
        self.forward_bpdu = False
        self.config_seq = 0
        self._xb = None
        self._xkey = None
        ofproto.link_follows_admin = False  # run() reports the devices' links

    # -- ports ----------------------------------------------------------------
    def add_port(self, ofp_port, netdev):
        """Add NETDEV as OpenFlow port OFP_PORT; its odp port, or None
        (patch ports have none)."""
        odp = None
        tnl = self.ctx.tunnel
        if tnl is not None and tnl.is_tunnel(netdev):
            odp = tnl.add_port(self, ofp_port, netdev, choose_port)
        elif netdev is not None and getattr(netdev, "type", "") != "patch":
            dp = self.backer.dp
            try:
                odp = dp.add_port(netdev, choose_port(dp, netdev.name))
            except DpifError as e:
                vlog.warn("%s: could not add port %s to the datapath (%s)",
                          self.name, netdev.name, e)
                return None
            self.backer.odp_ports[odp] = (self, ofp_port)
            coverage.inc("dpif_port_add")
            if ofp_port == OFPP_LOCAL:
                # The bridge's own port is the datapath's kind of internal port.
                dp.ports[odp].type = dp.ports[0].type
        self.ports[ofp_port] = DpifPort(ofp_port, getattr(netdev, "name", str(ofp_port)),
                                        netdev, odp)
        self.ctx.topology += 1
        return odp

    def del_port(self, ofp_port):
        port = self.ports.pop(ofp_port, None)
        if port is None:
            return
        if self.ctx.tunnel is not None and self.ctx.tunnel.del_port(self, ofp_port):
            pass                    # the shared tunnel port stays while used
        elif port.odp_port is not None:
            self.backer.odp_ports.pop(port.odp_port, None)
            try:
                self.backer.dp.del_port(port.odp_port)
                coverage.inc("dpif_port_del")
            except DpifError:
                pass
        self.ml.flush(port=ofp_port)
        self.ctx.topology += 1
        self.ctx.changed()

    def set_port_config(self, ofp_port, **vlan):
        """The Port row's VLAN settings (XPort's keywords: tag, trunks,
        vlan_mode, cvlans, qinq_ethtype) for OFP_PORT."""
        port = self.ports.get(ofp_port)
        if port is not None and port.vlan != vlan:
            port.vlan = vlan
            self.ml.flush(port=ofp_port)
            self.config_seq += 1

    def configure(self, mac_table_size=MAC_DEFAULT_MAX,
                  mac_aging_time=MAC_ENTRY_DEFAULT_IDLE_TIME, forward_bpdu=False):
        """The Bridge row's other_config settings."""
        key = (mac_table_size, mac_aging_time, forward_bpdu)
        if key != getattr(self, "_config", None):
            self._config = key
            self.ml.set_max_entries(mac_table_size)
            self.ml.set_idle_time(mac_aging_time)
            self.forward_bpdu = forward_bpdu
            self.config_seq += 1

    def ofp_to_odp(self, ofp_port):
        port = self.ports.get(ofp_port)
        return None if port is None else port.odp_port

    def odp_to_ofp(self, odp_port):
        owner = self.backer.odp_ports.get(odp_port)
        return owner[1] if owner is not None and owner[0] is self else None

    # -- translation's view ---------------------------------------------------
    def miss(self):
        """What a table miss does: "controller" when a controller connection
        wants packet-ins on a miss (OpenFlow 1.0-1.2), else "drop"."""
        mgr = self.connmgr
        if mgr is not None:
            for c in mgr.conns:
                if (c.kind == "primary" and not c.closed and c.version
                        and c.version < 4):
                    return "controller"
        return "drop"

    def xbridge(self):
        """The XBridge translation reads, rebuilt when anything in it changed."""
        ofp = self.ofproto
        key = (ofp.changed, id(ofp.tables), self.config_seq, self.ctx.topology,
               self.miss())
        if key == self._xkey:
            return self._xb
        xb = X.XBridge(self.name, [t.cls for t in ofp.tables], {}, ml=self.ml,
                       miss=key[-1], forward_bpdu=self.forward_bpdu,
                       groups=ofp.groups)
        xb.alloc_recirc_id = self._alloc_recirc_id
        xb.freeze_decap = self._freeze_decap
        xb.dp = self.backer.dp              # (native tunneling: its tunnel ports)
        xb.learn = self._learn
        self._xb, self._xkey = xb, key      # before the peers: they may ask back
        for no, op in ofp.ports.items():
            port = self.ports.get(no)
            if port is None:
                continue
            peer = None
            if port.peer is not None:
                peer = self.ctx.patch_peer(self, port)
                if peer is None:
                    continue        # a patch port without its other end
            try:
                xb.ports[no] = X.XPort(
                    no, port.odp_port, name=op.name, no_flood=bool(op.config & OFPPC_NO_FLOOD),
                    no_fwd=bool(op.config & OFPPC_NO_FWD),
                    live=not op.link_down and not op.config & OFPPC_PORT_DOWN,
                    no_recv=bool(op.config & OFPPC_NO_RECV),
                    peer=peer, **port.vlan)
            except ValueError as e:
                vlog.warn("%s: port %s: %s", self.name, op.name, e)
        if self.ctx.tunnel is not None:
            self.ctx.tunnel.decorate(self, xb)
        return xb

    # -- side effects -----------------------------------------------------------
    def apply_side_effects(self, r, now, packet=None, ofp_port=None):
        X.apply_side_effects(r, self.ml, now)
        if r.flow_mods:
            for fm in r.flow_mods:
                try:
                    self.ofproto.handle_flow_mod(fm, now)
                except OFPError as e:
                    vlog.warn("%s: learn action failed (%s)", self.name, e)
            if self.wake is not None:
                self.wake()

    def _learn(self, fm):
        """A learn action's flow, added during translation (XBridge.learn)."""
        try:
            self.ofproto.handle_flow_mod(fm, time.monotonic())
        except OFPError as e:
            vlog.warn("%s: learn action failed (%s)", self.name, e)
            return
        self.ctx.changed()
        if self.wake is not None:
            self.wake()

    def _alloc_recirc_id(self):
        return self.backer.alloc_recirc_id(self)

    def _freeze_decap(self, in_port, actions):
        return self.backer.freeze_decap(self, in_port, actions)

    def patch_port_to(self, other):
        """The OpenFlow number of this bridge's patch port whose peer is
        in bridge OTHER (the lowest if several; else the lowest patch port,
        for a chain of bridges; else OFPP_NONE)."""
        names = {p.name for p in other.ports.values()}
        patches = [no for no, p in self.ports.items() if p.peer is not None]
        nos = [no for no in patches if self.ports[no].peer in names] or patches
        return min(nos) if nos else OFPP_NONE

    def send_packet_in(self, data, pin, ofp_port, final):
        if self.connmgr is None:
            return
        match = Match()
        for m in _PIPELINE:
            if final and final.get(m):
                match.set_storage(m, final[m])
        cont = pin.get("continuation")
        if cont is not None:        # controller(pause)
            odp = self.ofp_to_odp(ofp_port)
            cont = Continuation(self.ofproto.uuid.bytes, cont[0], cont[1],
                                0 if odp is None else odp)
        self.connmgr.send_packet_in(PacketIn(
            bytes(data), ofp_port, pin["reason"], table_id=pin["table_id"],
            cookie=pin["cookie"], match=match,
            controller_id=pin.get("controller_id", 0), continuation=cont,
            userdata=bytes(pin.get("userdata") or b"")))
        if self.wake is not None:
            self.wake()

    def packet_out(self, po, conn=None):
        """A controller's packet-out: its actions translated, then executed.
        (Also NXT_RESUME's packet-in: its continuation carried on.)"""
        now = time.monotonic()
        in_port = po.in_port
        flow = flow_extract(bytes(po.data), in_port)
        coverage.inc("xlate_actions")
        coverage.inc("dpif_execute")
        if isinstance(po, PacketIn):
            cont = po.continuation
            if cont.bridge != self.ofproto.uuid.bytes:
                vlog.warn("%s: continuation of another bridge", self.name)
                return
            for m in _PIPELINE:
                if po.match is not None and po.match.value(m):
                    flow[m] = po.match.value(m)
            r = X.xlate(self.xbridge(), flow, now, True,
                        frozen=(cont.actions, cont.action_set))
        else:
            r = X.xlate(self.xbridge(), flow, now, True,
                        actions=list(po.actions))
        self.apply_side_effects(r, now)
        if r.error:
            vlog.warn("%s: packet-out translation failed (%s)", self.name, r.error)
        if r.packet_ins:
            self.backer._keep_pins(self, r, in_port)
        odp_in = self.ofp_to_odp(in_port)
        self.backer.dp.execute([Packet(bytes(po.data))], r.actions,
                               in_port=odp_in if odp_in is not None else 0)

    def close(self):
        for no in list(self.ports):
            self.del_port(no)


class DpifContext:
    """The datapath side of one ovs-vswitchd (see the module essay)."""

    def __init__(self, dummy_override=None):
        #: --enable-dummy's level: None, "system" or "override"
        self.dummy_override = dummy_override
        self.backers = {}
        self.bridges = {}
        self.topology = 0           # bumped on every port or bridge change
        self.tunnel = None          # the tunnel tables, when tunneling is wired in
        self.loop = None
        self._timer = self._poller = None
        self._soon = None
        self._next_ok = 0.0         # revalidation is paced (changed())

    def is_dummy_class(self, dp_type):
        """Is DP_TYPE's datapath of the dummy class (OVS's
        dpif_dummy_register(): "override" overrides every type, "system"
        the system one)?"""
        return (dp_type == "dummy" or self.dummy_override == "override"
                or (self.dummy_override == "system" and dp_type == "system"))

    def create_bridge(self, ofproto, dp_type):
        backer = self.backers.get(dp_type)
        if backer is None:
            backer = self.backers[dp_type] = Backer(dp_type, self)
            if self.loop is not None:
                backer.dp.attach(self.loop)
        ofdp = OFProtoDpif(ofproto, backer, self)
        self.bridges[ofproto.name] = ofdp
        self.topology += 1
        return ofdp

    def destroy_bridge(self, ofdp):
        ofdp.close()
        if self.bridges.get(ofdp.name) is ofdp:
            del self.bridges[ofdp.name]
        self.topology += 1
        backer = ofdp.backer
        if not backer.bridges():
            backer.close()
            self.backers.pop(backer.dp.dp_type, None)
        self.changed()

    def patch_peer(self, ofdp, port):
        """(XBridge, ofp_port) of PORT's peer, or None."""
        for other in self.bridges.values():
            if other.backer is not ofdp.backer:
                continue
            for p in other.ports.values():
                if p.name == port.peer and p.peer == port.name:
                    return other.xbridge(), p.ofp_port
        return None

    def xbridges(self):
        return {name: b.xbridge() for name, b in self.bridges.items()}

    def dpifs(self):
        return [b.dp for b in self.backers.values()]

    # -- the loop ---------------------------------------------------------------
    def attach(self, loop):
        self.loop = loop
        for b in self.backers.values():
            b.dp.attach(loop)
        self._timer = loop.call_later(RUN_INTERVAL, self._tick)
        self._poller = loop.call_later(POLL_INTERVAL, self._poll)

    def _poll(self):
        try:
            if self._soon is None and time.monotonic() >= self._next_ok:
                self.revalidate()
        except Exception as e:
            vlog.err("revalidation failed: %s", e)
        if self.loop is not None:
            self._poller = self.loop.call_later(POLL_INTERVAL, self._poll)

    def detach(self):
        for b in self.backers.values():
            b.dp.detach()
        for t in (self._timer, self._poller):
            if t is not None:
                t.cancel()
        self.loop = None

    def _tick(self):
        try:
            self.run(time.monotonic())
        except Exception as e:      # a bug here must not stop the switch
            vlog.err("periodic datapath work failed: %s", e)
        if self.loop is not None:
            self._timer = self.loop.call_later(RUN_INTERVAL, self._tick)

    def changed(self):
        """Something translation reads may have changed: revalidate soon --
        at once, unless revalidating is costly (many megaflows): then at
        most REVALIDATE_SHARE of the time goes to it, so a burst of changes
        (new MACs learned every batch) costs one pass, as OVS's
        revalidator threads coalesce them."""
        if self.loop is None:
            self.revalidate()
        elif self._soon is None:
            delay = self._next_ok - time.monotonic()
            self._soon = (self.loop.call_later(delay, self.revalidate) if delay > 0
                          else self.loop.call_soon(self.revalidate))

    def revalidate(self):
        self._soon = None
        start = time.monotonic()
        for b in list(self.backers.values()):
            if b.needs_revalidation():
                b.revalidate()
        end = time.monotonic()
        spent = end - start
        # The pause after a pass, not the period: a pass longer than
        # MAX_REVALIDATE_DELAY must not be followed by the next at once.
        self._next_ok = end + min(MAX_REVALIDATE_DELAY,
                                  spent * (1 / REVALIDATE_SHARE - 1))

    def run(self, now):
        coverage.run(now)
        for ofdp in list(self.bridges.values()):
            ofdp.ml.run(now)
            self._update_links(ofdp)
        for b in list(self.backers.values()):
            b.run(now)
        if self.loop is None or time.monotonic() >= self._next_ok:
            self.revalidate()       # else _poll() does, when the pause is over

    def _update_links(self, ofdp):
        """Port link state (port-status on a change) and the device
        counters port stats report."""
        for no, port in list(ofdp.ports.items()):
            if port.netdev is None or no not in ofdp.ofproto.ports:
                continue
            try:
                st = port.netdev.get_stats()
            except (NetdevError, OSError, AttributeError):
                st = None
            if st is not None:
                stats = ofdp.ofproto.ports[no].stats
                for ofp_name, dev_name in _PORT_STATS:
                    stats[ofp_name] = getattr(st, dev_name)
            try:
                up = bool(port.netdev.get_carrier())
            except (NetdevError, OSError, AttributeError):
                up = False
            if ofdp.ofproto.ports[no].link_down == up:
                coverage.inc("ofproto_update_port")
                ofdp.ofproto.set_port_link(no, up)
                if ofdp.wake is not None:
                    ofdp.wake()

    # -- unixctl texts ------------------------------------------------------------
    def dpif_show(self):
        out = []
        for dp_type in sorted(self.backers):
            b = self.backers[dp_type]
            dp = b.dp
            out.append("%s: hit:%d missed:%d\n" % (dp.full_name, dp.n_hit, dp.n_missed))
            for ofdp in sorted(b.bridges(), key=lambda o: o.name):
                out.append("  %s:\n" % ofdp.name)
                for no in sorted(ofdp.ofproto.ports,
                                 key=lambda n: ofdp.ofproto.ports[n].name):
                    op = ofdp.ofproto.ports[no]
                    port = ofdp.ports.get(no)
                    odp = port.odp_port if port is not None else None
                    if port is not None and port.peer is not None:
                        kind = "patch: peer=%s" % port.peer
                    elif odp is not None:
                        kind = dp.ports[odp].type
                        if self.tunnel is not None and port.netdev is not None:
                            kind = self.tunnel.config_text(port.netdev) or kind
                    else:
                        kind = "none"
                    out.append("    %s %d/%s: (%s)\n" % (
                        op.name, no, "none" if odp is None else odp, kind))
        return "".join(out)



# -- unixctl commands -----------------------------------------------------------

def flow_to_packet(text, size=0):
    """A packet from the datapath flow syntax (netdev-dummy/receive's
    FLOW [--len N]), as OVS's flow_compose() builds it."""
    from pyovs.odp import keys as K
    from pyovs.packet.build import flow_compose
    try:
        flow, _ = K.key_to_flow(K.parse_flow(text))
    except K.FlowKeyError:
        raise
    except (ValueError, KeyError):
        raise ValueError("syntax error at %s" % text) from None
    pkt = flow_compose(flow, packet_len=size or None)
    if pkt is None:
        raise ValueError("too small packet len")
    return pkt


def _port_to_string(ofp_port):
    return "LOCAL" if ofp_port == OFPP_LOCAL else str(ofp_port)


def _odp_trace(ctx, args, opts):
    """ofproto/trace [DP] ODP_FLOW [-generate|PACKET]: (error, text)."""
    from pyovs.odp import keys as K
    from .trace import trace, with_packet
    dpifs = {}
    for b in ctx.backers.values():
        dpifs[b.dp.name] = dpifs[b.dp.full_name] = b
    if len(args) >= 2 and args[0] in dpifs:
        backer, text = dpifs[args[0]], args[1]
    elif len(ctx.backers) == 1:
        backer, text = next(iter(ctx.backers.values())), args[0]
    else:
        return "syntax error at %s (or the bridge name was omitted)" % args[0], None
    try:
        flow, _ = K.key_to_flow(K.parse_flow(text))
    except K.FlowKeyError as e:
        return str(e), None
    except (ValueError, KeyError):
        if len(args) >= 2:
            # not a datapath flow: OVS reads it as BRIDGE OPENFLOW_FLOW
            return "%s: unknown bridge" % args[0], None
        return "syntax error at %s (or the bridge name was omitted)" % text, None
    odp = flow.get("in_port", 0)
    owner = backer.odp_ports.get(odp)
    tnl = ctx.tunnel
    if owner is None and tnl is not None and tnl.tnl.is_tunnel_odp(odp):
        owner = tnl.owner(backer, flow)
        if owner is None:
            return "no OpenFlow tunnel port for this packet", None
    if owner is None:
        return "no OpenFlow port for datapath port %d" % odp, None
    flow["in_port"] = owner[1]
    if tnl is not None:
        # Geneve options in the bridge's TLV map are its tun_metadata<i>
        try:
            flow.update(tnl.hooks.metadata_from_geneve(owner[0].name, flow))
        except ValueError:
            return "Failed to parse Geneve options", None
    err, flow, packet = with_packet(flow, opts)
    if err:
        return err, None
    text = trace(owner[0].xbridge(), flow, packet)
    if packet is not None:
        ctx.changed()
    return None, text


def register_unixctl_commands(server, ctx):
    """ofproto/trace, dpif/*, fdb/*, bridge/dump-flows and dpctl/* over CTX,
    with OVS's names, usages and texts."""
    from pyovs.dpif import dpctl
    from .trace import trace_command, parse_args

    def reply(conn, fn, args):
        try:
            err, text = fn(list(args))
        except Exception as e:      # a bug must not take the daemon down
            vlog.err("command failed: %s", e)
            err, text = str(e), None
        if err is not None:
            conn.reply_error(err)
        else:
            conn.reply(text)

    def bridge_of(name):
        return ctx.bridges.get(name)

    def do_trace(args):
        err, pos, opts = parse_args(args)
        if err is None and (len(pos) == 1 or (pos[0] not in ctx.bridges
                                              and "(" in pos[-1])):
            r = _odp_trace(ctx, pos, opts)
        else:
            r = trace_command(ctx.xbridges(), args, ctx.changed)
        if ctx.tunnel is not None:
            # A neighbor miss's ARP request / solicitation is sent even by
            # a trace, as OVS sends it from translation.
            ctx.tunnel.after_upcall()
        return r

    def do_dpif_show(args):
        return None, ctx.dpif_show()

    def do_dpif_dump_flows(args):
        verbose = names = None
        rest = []
        for a in args:
            if a in ("-m", "--more"):
                verbose = True
            elif a == "--names":
                names = True
            elif a == "--no-names":
                names = False
            else:
                rest.append(a)
        ofdp = bridge_of(rest[-1]) if rest else None
        if ofdp is None:
            return "no such bridge", None
        verbose = bool(verbose)
        names = verbose if names is None else names
        dp = ofdp.backer.dp
        now = dp._clock()
        lines = []
        for mf in dp.flow_dump():
            owner = ofdp.backer.odp_ports.get(mf.value.get("in_port"))
            if owner is not None and owner[0] is ofdp:
                line = dpctl.format_flow_line(dp, mf, now, verbose, names)
                if verbose:     # ofproto-dpif's own -m layout
                    line = line.replace(", ", " ", 1).replace(", dp:ovs, ", ", ", 1)
                lines.append(line + "\n")
        return None, "".join(lines)

    def do_fdb_show(args):
        ofdp = bridge_of(args[0])
        if ofdp is None:
            return "no such bridge", None
        return None, ofdp.ml.format_show(time.monotonic(), _port_to_string)

    def do_fdb_flush(args):
        if args:
            ofdp = bridge_of(args[0])
            if ofdp is None:
                return "no such bridge", None
            targets = [ofdp]
        else:
            targets = list(ctx.bridges.values())
        for ofdp in targets:
            ofdp.ml.flush()
        ctx.changed()
        return None, "table successfully flushed"

    def do_fdb_stats_show(args):
        ofdp = bridge_of(args[0])
        if ofdp is None:
            return "no such bridge", None
        return None, ofdp.ml.format_stats(ofdp.name)

    def do_fdb_stats_clear(args):
        targets = [bridge_of(args[0])] if args else list(ctx.bridges.values())
        if None in targets:
            return "no such bridge", None
        for ofdp in targets:
            ofdp.ml.clear_stats()
        return None, "statistics successfully cleared"

    def _vlan_mac(vlan_text, mac_text):
        """OVS reads the VLAN with atoi() (so "x" is 0) and the MAC strictly."""
        m = re.match(r"\s*[-+]?\d+", vlan_text)
        vlan = int(m.group()) if m else 0
        try:
            mac = int.from_bytes(mac_from_str(mac_text), "big")
        except (ValueError, NetdevError):
            return vlan, None
        return vlan, mac

    def do_fdb_add(args):
        ofdp = bridge_of(args[0])
        if ofdp is None:
            return "no such bridge", None
        port = ofdp.ofproto.port_by_name(args[1])
        if port is None:
            return "software error, odp port is present but no ofp port", None
        vlan, mac = _vlan_mac(args[2], args[3])
        if mac is None:
            return "bad MAC address", None
        ofdp.ml.add_static(mac, vlan, port.port_no, time.monotonic())
        ctx.changed()
        return None, None

    def do_fdb_del(args):
        ofdp = bridge_of(args[0])
        if ofdp is None:
            return "no such bridge", None
        vlan, mac = _vlan_mac(args[1], args[2])
        if mac is None:
            return "bad MAC address", None
        if not ofdp.ml.del_static(mac, vlan):
            return "could not find static mac entry", None
        ctx.changed()
        return None, None

    def do_bridge_dump_flows(args):
        """OVS's flow_stats_ds() lines.  (OVS also lists its hidden table
        254 of internal flows; pyovs has no such flows.)"""
        ofdp = bridge_of(args[-1])
        offload = args[0] == "--offload-stats" if len(args) == 2 else False
        if ofdp is None or (len(args) == 2 and not offload):
            return "Unknown bridge", None
        now = time.monotonic()
        out = []
        for table in ofdp.ofproto.tables:
            rules = sorted(table.rules(), key=lambda r: -r.priority)
            for r in rules:
                line = "" if not table.table_id else "table_id=%d, " % table.table_id
                line += "duration=%ds, n_packets=%d, n_bytes=%d, " % (
                    int(now - r.created), r.packet_count, r.byte_count)
                if offload:
                    line += "n_offload_packets=0, n_offload_bytes=0, "
                line += r.match.format(r.priority) + ","
                line += "actions=" + (",".join(a.format() for a in r.actions) or "drop")
                out.append(line + "\n")
        return None, "".join(out)

    def cmd(fn):
        return lambda conn, args: reply(conn, fn, args)

    server.register("ofproto/trace",
                    "{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] "
                    "[-generate|packet]", 1, 2 ** 31 - 1, cmd(do_trace))
    server.register("dpif/show", "", 0, 0, cmd(do_dpif_show))

    def do_purge(args):
        for b in ctx.backers.values():
            b.push_stats()
            coverage.inc("dpif_flow_del", len(b.dp))
            b.dp.flow_flush()
        return None, None

    def do_wait(args):
        ctx.revalidate()
        return None, None
    server.register("upcall/show", "", 0, 0, cmd(
        lambda args: (None, "".join(b.upcall_show() for b in ctx.backers.values()))))
    server.register("revalidator/purge", "", 0, 0, cmd(do_purge))
    server.register("revalidator/wait", "", 0, 0, cmd(do_wait))
    server.register("dpif/dump-dps", "", 0, 0, cmd(
        lambda args: (None, "".join("%s@%s\n" % (o.backer.dp.dp_type, name)
                                    for name, o in sorted(ctx.bridges.items())))))
    server.register("dpif/dump-flows", "[-m] [--names | --no-names] bridge",
                    1, 4, cmd(do_dpif_dump_flows))
    server.register("fdb/show", "bridge", 1, 1, cmd(do_fdb_show))
    server.register("fdb/flush", "[bridge]", 0, 1, cmd(do_fdb_flush))
    server.register("fdb/stats-show", "bridge", 1, 1, cmd(do_fdb_stats_show))
    server.register("fdb/add", "bridge port vlan mac", 4, 4, cmd(do_fdb_add))
    server.register("fdb/del", "bridge vlan mac", 3, 3, cmd(do_fdb_del))
    server.register("fdb/stats-clear", "[bridge]", 0, 1, cmd(do_fdb_stats_clear))
    server.register("bridge/dump-flows", "[--offload-stats] bridge", 1, 2,
                    cmd(do_bridge_dump_flows))
    dpctl.register_unixctl_commands(server, ctx.dpifs)
    coverage.register_unixctl_commands(server)
