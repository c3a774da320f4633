"""Translation's tunnel parts (OVS's native_tunnel_output(),
terminate_native_tunnel() and the neighbor snooping of ofproto-dpif-xlate).

xlate.py calls three hooks through ``XBridge.tnl`` (a TnlHooks shared by
every bridge of a switch):

* ``input(ctx)`` at the start: a packet that came out of a tunnel has its
  tunnel fields in the megaflow (tnl_wc_init()); its Geneve options become
  tun_metadata<i> (an unmapped critical one fails translation, "Invalid
  Geneve tunnel metadata"); a layer-3 packet (packet_type (1, Ethertype))
  out of a legacy_l3 port gets an Ethernet header at the next commit.
* ``output(ctx, xport)`` for output to a tunnel port (``XPort.tunnel``,
  a tnl.tunneling.TnlPort): the tunnel fields are set from the port
  (tnl_port_send()), the pending header changes committed, the route and
  the next hop's MAC resolved (tnl/native.py) and the outer header built;
  the encapsulated packet then enters the route's bridge at its LOCAL port
  and translation goes on there, with a fresh megaflow mask that is not
  kept and no side effects, as OVS does.  The datapath actions are
  ``tnl_push(...)`` followed by what that bridge does, inside ``clone(...)``
  unless nothing follows in the whole list (``finish(ctx)`` at the end of
  translation takes that clone off).  A neighbor miss queues an ARP
  request / neighbor solicitation (``pending``, sent by the owner from the
  route's bridge when side effects are allowed) and drops, as OVS; no route
  drops with ">> native tunnel routing failed".  A legacy_l3 port (GRE,
  VXLAN-GPE) gets the packet without its Ethernet header (``pop_eth``
  first, in the clone); a VXLAN-GPE header says what it carries.
* ``terminate(ctx, xport)`` for output to any other port: a layer-3 packet
  is dropped (an Ethernet port); for a bridge's LOCAL port, a packet
  for one of the switch's tunnel endpoints becomes ``tnl_pop(N)`` instead
  (and its sender's address and MAC go into the neighbor cache);
  an ARP reply or neighbor advertisement for one of the bridge's own
  addresses is snooped into the neighbor cache.

Geneve options: the flow's tun_metadata<i> fields become options of the
pushed header through the bridge's TLV map (``tlv_map``); a received
packet's options (tun_geneve, raw, from the datapath) become tun_metadata<i>
in input(); once one was read, the megaflow matches every option's class,
type and length and the data translation read (finish()); otherwise it
does not match the options at all, as OVS.

Public API: TnlHooks(tunneling, xbridge, bridge_local_odp, now=time.monotonic,
tlv_map=bridge name -> {index: (class, type, len)})
with .input(ctx), .output(ctx, xport), .terminate(ctx, xport),
.metadata_from_geneve(bridge name, flow) -> {tun_metadata<i>: value}, .pushed
(header -> TnlPort, for the ports' transmit counters), .pending
(list of (bridge name, frame) to send), take_pending(), take_miss() (whether
a neighbor miss happened since the last call).
"""

import time

from pyovs.odp.tunnel import (GENEVE_HEADER_MASK, GENEVE_MEMBER, geneve_from_member,
                              geneve_mask_to_member)
from pyovs.openflow.ports import OFPP_LOCAL
from pyovs.tnl import native
from pyovs.tnl.header import geneve_options
from pyovs.tnl.ovs_router import format_mapped

IPPROTO_UDP, IPPROTO_GRE = 17, 47
#: What output to a tunnel changes only for that output (OVS restores the
#: tunnel metadata afterwards; an egress_pkt_mark stays, as there).
_TUN_MEMBERS = ("tun_id", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst",
                "tun_tos", "tun_ttl", "tun_flags", "tun_tp_src", "tun_tp_dst")


def _fmt_mac(m):
    return ":".join(f"{b:02x}" for b in m.to_bytes(6, "big"))


class TnlHooks:
    def __init__(self, tunneling, xbridge, bridge_local_odp, now=time.monotonic,
                 tlv_map=lambda bridge: {}):
        self.tnl = tunneling
        self.tlv_map = tlv_map                  # bridge name -> {index: (cls, type, len)}
        self.xbridge = xbridge                  # name -> XBridge or None
        self.bridge_local_odp = bridge_local_odp  # name -> odp port of LOCAL
        self.now = now
        self.pending = []
        self.missed = False         # a neighbor miss since take_miss()
        self.pushed = {}            # tnl_push header -> the TnlPort it is for
        self._clones = set()        # ids of the clone lists output() made

    def finish(self, ctx):
        """End of translation: the encapsulated packet needs no clone when
        nothing follows it (OVS's datapath actions have none then)."""
        odp = ctx.odp
        if odp and odp[-1][0] == "clone" and id(odp[-1][1]) in self._clones:
            odp[-1:] = odp[-1][1]
        self._clones.clear()
        # Once translation read a tun_metadata<i>, the datapath matches a
        # packet's Geneve options by length, every option's class, type and
        # length, and the data of those the TLV map names as far as it read
        # them (OVS's tun_metadata_to_geneve_udpif_mask()); otherwise not
        # at all (the real switch's all-zero mask matches any options).
        raw = ctx.base.get(GENEVE_MEMBER)
        if raw and any(m.startswith("tun_metadata") and v for m, v in ctx.wc.items()):
            opts = geneve_from_member(raw)
            masks = []
            by_opt = self._by_opt(ctx.bridge.name)
            for cls, typ, data in opts:
                i = by_opt.get((cls, typ, len(data)))
                dm = 0 if i is None else ctx.wc.get("tun_metadata%d" % i, 0)
                dm &= (1 << 8 * len(data)) - 1
                masks.append(GENEVE_HEADER_MASK + (dm.to_bytes(len(data), "big"),))
            ctx.wc[GENEVE_MEMBER] = geneve_mask_to_member(opts, masks)

    def take_pending(self):
        out, self.pending = self.pending, []
        return out

    def take_miss(self):
        missed, self.missed = self.missed, False
        return missed

    # -- input --------------------------------------------------------------
    def input(self, ctx):
        f = ctx.flow
        if f.get("tun_dst") or f.get("tun_ipv6_dst"):
            self.tnl.receive_wc(f, ctx.wc)
        pt = f.get("packet_type", 0)
        if pt:
            ctx.unwild("packet_type")       # (a layer-3 packet from a tunnel)
        if pt >> 16 == 1:
            xport = ctx.bridge.ports.get(f.get("in_port"))
            tp = getattr(xport, "tunnel", None)
            if tp is not None and tp.cfg.pt_mode == "legacy_l3":
                # A layer-3 packet out of a legacy_l3 port enters OpenFlow
                # as an Ethernet one with zero addresses: push_eth at the
                # next commit (OVS's xlate_actions(), as encap(ethernet)).
                f.update(packet_type=0, dl_type=pt & 0xffff, dl_src=0, dl_dst=0)
                ctx.pending_encap = True
        if f.get(GENEVE_MEMBER):
            try:
                md = self.metadata_from_geneve(ctx.bridge.name, f)
            except ValueError:
                from pyovs.ofproto.xlate import XlateError
                raise XlateError("Invalid Geneve tunnel metadata") from None
            ctx.flow.update(md)
            ctx.base.update(md)

    def metadata_from_geneve(self, bridge_name, flow):
        """{tun_metadata<i>: value} of the Geneve options in FLOW that
        BRIDGE_NAME's TLV map names (OVS's tun_metadata_from_geneve_udpif()).
        ValueError for an option the map gives another length, or a
        critical one it does not name."""
        by_key = {(c, t): (i, ln) for i, (c, t, ln) in self.tlv_map(bridge_name).items()}
        md = {}
        for cls, typ, data in geneve_from_member(flow.get(GENEVE_MEMBER, 0)):
            entry = by_key.get((cls, typ))
            if entry is None:
                if typ & 0x80:
                    raise ValueError("critical Geneve option %#x/%#x not mapped" % (cls, typ))
            elif entry[1] != len(data):
                raise ValueError("Geneve option %#x/%#x: length %d, mapped %d"
                                 % (cls, typ, len(data), entry[1]))
            else:
                md["tun_metadata%d" % entry[0]] = int.from_bytes(data, "big")
        return md

    def _by_opt(self, bridge_name):
        """(class, type, len) -> tun_metadata index, by the bridge's TLV map."""
        return {(c, t, ln): i for i, (c, t, ln) in self.tlv_map(bridge_name).items()}

    # -- output to a tunnel port ----------------------------------------------
    def output(self, ctx, xport, is_last=True):
        """(IS_LAST, xlate's, is not needed: finish() drops a final clone.)"""
        from pyovs.ofproto import xlate as X
        p = xport.tunnel
        saved_tun = {m: ctx.flow[m] for m in _TUN_MEMBERS if m in ctx.flow}
        params = self.tnl.send(p, ctx.flow, ctx.wc)
        # The packet's own tunnel destination (0 if it came from no tunnel):
        # never tunnel back to it, as OVS (the tunnel fields set stay).
        b = ctx.base
        own = ((0xFFFF << 32) | b["tun_dst"]) if b.get("tun_dst") else b.get("tun_ipv6_dst", 0)
        if params["remote"] == own or not params["remote"]:
            ctx.report("warn", "Not tunneling to our own address")
            return
        if ctx.flow.get("packet_type", 0) and p.cfg.pt_mode == "legacy_l2":
            ctx.report("warn", _L3_TO_L2)
            return
        ctx.report("detail", "output to native tunnel")
        # A legacy_l3 port (GRE, VXLAN-GPE) carries the packet without its
        # Ethernet header: pop_eth before the header changes are committed;
        # a layer-3 packet's GRE protocol is its Ethertype (OVS's
        # packet_type commit).
        l3 = p.cfg.pt_mode == "legacy_l3" or bool(ctx.flow.get("packet_type", 0))
        try:
            pre = [("pop_eth", None)] if l3 and not ctx.flow.get("packet_type", 0) else []
            if pre:
                n = len(ctx.odp)
                X.commit(ctx)
                pre += ctx.odp[n:]
                del ctx.odp[n:]
            else:
                X.commit(ctx)
            remote = params.pop("remote")
            mark = params.pop("mark")
            tnl_type = params.pop("tnl_type")
            if l3 and tnl_type == "gre":
                params["gre_proto"] = ctx.flow.get("dl_type", 0)
            if tnl_type == "geneve":
                params["geneve_opts"] = geneve_options(ctx.flow,
                                                       self.tlv_map(ctx.bridge.name))
            gpe = tnl_type == "vxlan" and "gpe" in p.cfg.exts
            np = _GPE_NP.get(ctx.flow.get("dl_type", 0) if l3 else "eth") if gpe else None
            if np is not None:
                params["gpe_np"] = np
            r = native.resolve(self.tnl.router, self.tnl.neigh, remote, mark=mark,
                               now=self.now(), bridge_mac=self.tnl.bridge_mac,
                               tnl_type=tnl_type, **params)
            for note in r.notes:
                if note.startswith(">> "):
                    ctx.report("warn", note[3:])
                else:
                    ctx.report("detail", note[3:])
            if r.status != "ok":
                ctx.odp.extend(pre[1:])     # (the committed changes stay)
            if r.status == "miss":
                self.missed = True
                # Sent whatever the translation (a trace too), as OVS's
                # tnl_send_arp_request(); the owner drains the list.
                if len(self.pending) < 1024:
                    self.pending.append((r.out_bridge, r.request))
                return
            if r.status != "ok":
                return
            h = r.header
            eth_dst = int.from_bytes(h[0:6], "big")
            eth_src = int.from_bytes(h[6:12], "big")
            ctx.report("detail", "tunneling from %s %s to %s %s" % (
                _fmt_mac(eth_src), format_mapped(self._src_of(h)),
                _fmt_mac(eth_dst), format_mapped(remote)))
            if gpe and np is None:      # (a layer-3 packet GPE has no number for)
                ctx.report("warn", "native tunnel header build failed")
                ctx.odp.extend(pre)
                return
            if len(self.pushed) > 65536:
                self.pushed.clear()
            self.pushed[h] = p
            out_odp = self.bridge_local_odp(r.out_bridge)
            push = ("tnl_push", {"tnl_port": p.odp_port, "header_type": r.header_type,
                                 "header": h, "out_port": out_odp if out_odp is not None
                                 else 0})
            tail = self._underlay(ctx, r.out_bridge, h, X)
            if not tail and not pre:
                ctx.odp.append(push)
            else:
                # (a popped Ethernet header is the encapsulated copy's only)
                clone = pre + [push] + tail
                self._clones.add(id(clone))
                ctx.odp.append(("clone", clone))
        finally:
            _restore(ctx.flow, saved_tun)

    @staticmethod
    def _src_of(h):
        if h[12:14] == b"\x08\x00":
            return (0xFFFF << 32) | int.from_bytes(h[26:30], "big")
        return int.from_bytes(h[22:38], "big")

    def _underlay(self, ctx, bridge_name, h, X):
        """The encapsulated packet through BRIDGE_NAME from its LOCAL port:
        the datapath actions (no megaflow bits, no side effects kept)."""
        xb = self.xbridge(bridge_name)
        if xb is None:
            return []
        outer = {"in_port": OFPP_LOCAL, "dl_dst": int.from_bytes(h[0:6], "big"),
                 "dl_src": int.from_bytes(h[6:12], "big")}
        if h[12:14] == b"\x08\x00":
            ihl = (h[14] & 0xf) * 4
            outer.update(dl_type=0x0800, nw_tos=h[15], nw_ttl=h[22], nw_proto=h[23],
                         nw_src=int.from_bytes(h[26:30], "big"),
                         nw_dst=int.from_bytes(h[30:34], "big"), nw_frag=0)
            l4 = 14 + ihl
        else:
            outer.update(dl_type=0x86dd, nw_tos=(int.from_bytes(h[14:18], "big") >> 20) & 0xff,
                         nw_ttl=h[21], nw_proto=h[20], nw_frag=0,
                         ipv6_src=int.from_bytes(h[22:38], "big"),
                         ipv6_dst=int.from_bytes(h[38:54], "big"))
            l4 = 54
        if outer["nw_proto"] == IPPROTO_UDP:
            outer.update(tp_src=0, tp_dst=int.from_bytes(h[l4 + 2:l4 + 4], "big"))
        saved = (ctx.bridge, ctx.flow, ctx.base, ctx.wc, ctx.odp, ctx.table_id,
                 ctx.rule, ctx.trace, ctx.action_set, ctx.exit, ctx.in_group,
                 ctx.in_action_set, ctx.allow_side_effects)
        ctx.bridge, ctx.flow, ctx.base, ctx.wc = xb, outer, dict(outer), {}
        ctx.odp, ctx.action_set, ctx.exit = [], [], False
        ctx.in_group, ctx.in_action_set, ctx.allow_side_effects = 0, False, False
        node = ctx.report("bridge", 'bridge("%s")' % xb.name)
        if node is not None:
            ctx.trace = node[2]
        ctx.depth += 1
        n_pins = len(ctx.result.packet_ins)
        try:
            X._xlate_table(ctx, 0, first=True)
            return ctx.odp
        finally:
            ctx.depth -= 1
            del ctx.result.packet_ins[n_pins:]
            (ctx.bridge, ctx.flow, ctx.base, ctx.wc, ctx.odp, ctx.table_id,
             ctx.rule, ctx.trace, ctx.action_set, ctx.exit, ctx.in_group,
             ctx.in_action_set, ctx.allow_side_effects) = saved

    # -- output to LOCAL ------------------------------------------------------
    def terminate(self, ctx, xport):
        """Output to a port that is no tunnel: True if it is done here --
        a layer-3 packet is dropped (OVS's check_output_prerequisites()),
        or, terminate_native_tunnel(), the output became tnl_pop.
        Only a LOCAL port with an IP address terminates tunnels, and only
        while the bridge's datapath has tunnel ports (OVS's
        ovs_native_tunneling_is_on(): its backer's tnl_count); the bits
        looked at are those OVS's tnl-ports classifier un-wildcards."""
        if ctx.flow.get("packet_type", 0):
            # a layer-3 packet (from a ptap tunnel) to an Ethernet port
            ctx.report("warn", _L3_TO_L2)
            return True
        if (xport.ofp_port != OFPP_LOCAL
                or not self.tnl.has_tunnels(getattr(ctx.bridge, "dp", None))
                or not self.tnl._get_addrs(ctx.bridge.name)):
            return False
        f = ctx.flow
        dl_type = f.get("dl_type", 0)
        if dl_type in (0x0800, 0x86dd):
            if not self.tnl.tnl_ports.map:      # an empty classifier looks at nothing
                if f.get("nw_proto") == 58 and f.get("tp_src") == 136:
                    self._snoop(ctx)
                return False
            ctx.unwild("dl_dst")
            if not self._is_local(f):
                return False
            ctx.unwild("ipv6_dst" if dl_type == 0x86dd else "nw_dst")
            ctx.unwild("nw_proto")
            ctx.unwild("nw_frag", 3)
            odp = self.tnl.tnl_ports.lookup(f)
            proto = f.get("nw_proto", 0)
            if odp is not None:
                if proto != IPPROTO_GRE:
                    ctx.unwild("tp_dst")
                if ctx.allow_side_effects:
                    # the sender is a neighbor too (OVS 3.1's tnl_neigh_set)
                    src = (f.get("ipv6_src", 0) if dl_type == 0x86dd
                           else (0xFFFF << 32) | f.get("nw_src", 0))
                    self.tnl.neigh.set(ctx.bridge.name, src, f.get("dl_src", 0),
                                       self.now())
                X_commit(ctx)
                ctx.odp.append(("tnl_pop", odp))
                return True
            # (a fragment differs from every listener in nw_frag, a stage
            # before the ports: the classifier looks no further)
            if proto == IPPROTO_UDP and not f.get("nw_frag") and self._is_local_ip(f):
                self._unwild_ports(ctx, f.get("tp_dst", 0))
            if proto == 58 and f.get("tp_src") == 136:
                self._snoop(ctx)
            return False
        if dl_type == 0x0806:
            self._snoop(ctx)
        return False

    def _is_local_ip(self, f):
        if f.get("dl_type") == 0x0800:
            a = (0xFFFF << 32) | f.get("nw_dst", 0)
        else:
            a = f.get("ipv6_dst", 0)
        return any(a in addrs for _m, addrs in self.tnl.tnl_ports.ipdevs.values())

    def _is_local(self, f):
        mac = f.get("dl_dst", 0)
        return any(m == mac for m, _a in self.tnl.tnl_ports.ipdevs.values())

    def _unwild_ports(self, ctx, tp_dst):
        """The bits of tp_dst a ports trie would have looked at to tell it
        from every listening UDP port."""
        n = 0
        for key in self.tnl.tnl_ports.map:
            port = key[3]
            if key[2] == IPPROTO_UDP and port:
                n = max(n, 16 - (tp_dst ^ port).bit_length() + 1)
        n = min(n, 16)
        if n:
            ctx.unwild("tp_dst", ((1 << n) - 1) << (16 - n))

    def _snoop(self, ctx):
        f = ctx.flow
        bridge = ctx.bridge.name
        addrs = self.tnl._get_addrs(bridge) or []
        mine = set()
        for a in addrs:
            ip = a.ip if hasattr(a, "ip") else a
            mine.add(int(ip) if ip.version == 6 else (0xFFFF << 32) | int(ip))
        if f.get("dl_type") == 0x0806:
            for m in ("nw_src", "nw_dst", "nw_proto", "arp_sha"):
                ctx.unwild(m)
            if (0xFFFF << 32) | f.get("nw_dst", 0) not in mine:
                return
        else:
            for m in ("ipv6_dst", "nd_target", "arp_tha", "dl_src"):
                ctx.unwild(m)
            if f.get("ipv6_dst", 0) not in mine:
                return
        self.tnl.neigh.snoop(f, bridge, self.now(), ctx.allow_side_effects)


_L3_TO_L2 = "Trying to send non-Ethernet packet through legacy L2 port. Dropping packet."
#: VXLAN-GPE next protocols: Ethernet, or a layer-3 packet's Ethertype.
_GPE_NP = {"eth": 3, 0x0800: 1, 0x86dd: 2, 0x894f: 4, 0x6558: 3}


def _restore(flow, saved):
    for m in _TUN_MEMBERS:
        flow.pop(m, None)
    flow.update(saved)


def X_commit(ctx):
    from pyovs.ofproto import xlate as X
    X.commit(ctx)
