"""Native tunneling wired into ofproto_dpif (one per ovs-vswitchd).

ofproto/ofproto_dpif.py calls these hooks when ``DpifContext.tunnel`` is
set (``OfprotoTunnels(ctx)`` sets it):

* ``add_port``/``del_port`` for a tunnel netdev: the datapath gets the
  shared tunnel port (vxlan_sys_4789, ...) and tnl_ports the listener,
  instead of a port of its own;
* ``owner(backer, flow)``: the bridge and OpenFlow port of a packet that
  tnl_pop'ed into a datapath tunnel port (tnl_find()), or None;
  ``unknown_mask(flow)`` the megaflow mask that drops one that matches no
  tunnel port without dropping the others;
* ``decorate(ofdp, xbridge)``: translation's hooks (tnl_xlate.TnlHooks)
  and each tunnel XPort's configuration;
* ``after_upcall()``: the ARP requests / neighbor solicitations a
  neighbor miss asked for are sent from the route's bridge (translated as
  a packet-out to TABLE from its LOCAL port, as OVS's
  compose_table_xlate()), at most every ARP_RETRY seconds per neighbor,
  and a changed neighbor cache or route table revalidates the megaflows;
  it answers whether translation met a neighbor miss, and ``take_miss()``
  does for a revalidation: such a flow is not installed (or is deleted),
  so the next packet comes up and asks again -- a drop megaflow would
  keep the tunnel dead once the neighbor entry went (OVS leaves one);
* ``config_text(netdev)`` for dpif/show; ``credit(backer, flow, actions,
  n, bytes)``: the tunnel ports' receive and transmit counters, from
  upcalls and megaflows (a pushed header names its OpenFlow port).

The daemon calls ``register_unixctl_commands(server, enable_dummy)``
(ovs/route/*, tnl/*, netdev-dummy/ip4addr|ip6addr) and ``start(loop)``
(kernel routes, unless --disable-system-route; neighbor aging).

Public API: OfprotoTunnels(ctx, use_system_routes=True) with the hooks
above and .tnl (tunneling.Tunneling), .hooks (TnlHooks), close().
"""

import time

from pyovs.netdev.tunnel import NetdevTunnel
from pyovs.openflow.ports import OFPP_LOCAL, OFPP_TABLE
from pyovs.tnl.tnl_xlate import TnlHooks
from pyovs.tnl.tunneling import Tunneling
from pyovs.util.vlog import Vlog

vlog = Vlog("tunnel")

RUN_INTERVAL = 1.0
#: A neighbor still missing is asked for again after this long (seconds).
ARP_RETRY = 0.5


class OfprotoTunnels:
    def __init__(self, ctx, use_system_routes=True):
        self.ctx = ctx
        self.tnl = Tunneling(use_system_routes)
        # --enable-dummy=system|override: the system devices are dummies
        self.tnl.kernel_devices = getattr(ctx, "dummy_override", None) is None
        self.tnl.bridge_mac = self._bridge_mac
        self.tnl.on_change = self.changed
        self.hooks = TnlHooks(self.tnl, self._xbridge, self._local_odp,
                              tlv_map=self._tlv_map)
        self._neigh_seq = self.tnl.neigh.seq
        self._asked = {}            # (bridge, request target) -> when sent
        self._timer = None
        self._loop = None
        ctx.tunnel = self

    # -- bridges as the tunnel tables see them ----------------------------------
    def _ofdp(self, name):
        return self.ctx.bridges.get(name)

    def _bridge_mac(self, name):
        ofdp = self._ofdp(name)
        port = ofdp.ports.get(OFPP_LOCAL) if ofdp is not None else None
        if port is None or port.netdev is None:
            return None
        try:
            return int.from_bytes(port.netdev.get_etheraddr(), "big")
        except Exception:
            return None

    def _xbridge(self, name):
        ofdp = self._ofdp(name)
        return ofdp.xbridge() if ofdp is not None else None

    def _tlv_map(self, name):
        ofdp = self._ofdp(name)
        table = getattr(ofdp.ofproto, "tlv_table", None) if ofdp is not None else None
        if table is None:
            return {}
        return {i: (mp.option_class, mp.option_type, mp.option_len)
                for i, mp in table.mappings.items()}

    def _local_odp(self, name):
        ofdp = self._ofdp(name)
        return ofdp.ofp_to_odp(OFPP_LOCAL) if ofdp is not None else None

    # -- ports ------------------------------------------------------------------
    @staticmethod
    def is_tunnel(netdev):
        return isinstance(netdev, NetdevTunnel)

    def add_port(self, ofdp, ofp_port, netdev, choose_port):
        dp = ofdp.backer.dp
        dp.egress = self.tnl.egress         # tnl/egress_port_range
        odp = self.tnl.add_port(ofdp.name, ofp_port, netdev, dp,
                                choose_port(dp, netdev.dpif_port_name()))
        netdev.on_change = lambda: self._reconfigured(ofdp, ofp_port, netdev,
                                                      choose_port)
        self.changed()
        return odp

    def _reconfigured(self, ofdp, ofp_port, netdev, choose_port):
        """New options: another datapath tunnel port (dst_port changed)
        means registering again (OVS's tnl_port_reconfigure())."""
        p = self.tnl.port(ofdp.name, ofp_port)
        if p is not None and p.dpif_name != netdev.dpif_port_name():
            self.tnl.del_port(ofdp.name, ofp_port, ofdp.backer.dp)
            dp = ofdp.backer.dp
            odp = self.tnl.add_port(ofdp.name, ofp_port, netdev, dp,
                                    choose_port(dp, netdev.dpif_port_name()))
            port = ofdp.ports.get(ofp_port)
            if port is not None:
                port.odp_port = odp
        self.changed()

    def del_port(self, ofdp, ofp_port):
        p = self.tnl.port(ofdp.name, ofp_port)
        if p is not None:
            p.netdev.on_change = None
            self.tnl.del_port(ofdp.name, ofp_port, ofdp.backer.dp)
            return True
        return False

    @staticmethod
    def config_text(netdev):
        return netdev.config_text() if isinstance(netdev, NetdevTunnel) else None

    # -- receive ----------------------------------------------------------------
    def owner(self, backer, flow):
        p = self.tnl.receive(flow)
        if p is None:
            return None
        ofdp = self._ofdp(p.bridge)
        if ofdp is None or ofdp.backer is not backer:
            return None
        return ofdp, p.ofp_port

    def credit(self, backer, flow, actions, n_packets, n_bytes):
        """A megaflow's (or an upcall's) new packets: received on the
        tunnel port FLOW came out of, sent on the tunnel ports whose
        headers ACTIONS push."""
        if flow is not None:
            self.credit_rx(backer, flow, n_packets, n_bytes)
        for p in self._pushed(actions):
            p.netdev.count_tx(n_packets, n_bytes)
            self._ofp_stats(p, "tx", n_packets, n_bytes)

    def _pushed(self, actions):
        for name, arg in actions:
            if name == "tnl_push":
                p = self.hooks.pushed.get(arg["header"])
                if p is not None:
                    yield p
            elif name == "clone":
                yield from self._pushed(arg)

    def _ofp_stats(self, p, way, n_packets, n_bytes):
        ofdp = self._ofdp(p.bridge)
        op = ofdp.ofproto.ports.get(p.ofp_port) if ofdp is not None else None
        if op is not None:
            op.stats[way + "_packets"] += n_packets
            op.stats[way + "_bytes"] += n_bytes

    def credit_rx(self, backer, flow, n_packets, n_bytes):
        """Count packets out of a tunnel on their OpenFlow tunnel port (OVS
        credits them through its xlate cache)."""
        if not (flow.get("tun_dst") or flow.get("tun_ipv6_dst")):
            return
        p = self.tnl.receive(flow)
        if p is None:
            return
        p.netdev.count_rx(n_packets, n_bytes)
        self._ofp_stats(p, "rx", n_packets, n_bytes)

    def unknown_mask(self, flow):
        wc = {}
        if flow.get("tun_dst") or flow.get("tun_ipv6_dst"):
            self.tnl.receive_wc(flow, wc)
        return wc

    # -- translation --------------------------------------------------------------
    def decorate(self, ofdp, xb):
        xb.tnl = self.hooks
        for no, xp in xb.ports.items():
            p = self.tnl.port(ofdp.name, no)
            if p is not None:
                xp.tunnel = p

    def after_upcall(self):
        """-> whether translation met a neighbor miss (its flow must not be
        installed: the next packets must come up and ask again)."""
        now = time.monotonic()
        for bridge, frame in self.hooks.take_pending():
            key = (bridge, frame[-20:])         # who asks for whom
            if now - self._asked.get(key, -1e9) >= ARP_RETRY:
                self._asked[key] = now
                self._send_from_local(bridge, frame)
        if len(self._asked) > 4096:
            self._asked.clear()
        if self.tnl.neigh.seq != self._neigh_seq:
            self.changed()
        return self.take_miss()

    def take_miss(self):
        return self.hooks.take_miss()

    def _send_from_local(self, bridge, frame):
        from pyovs.netdev.base import Packet
        from pyovs.ofproto import xlate as X
        from pyovs.openflow import actions as A
        from pyovs.packet.flow import flow_extract
        ofdp = self._ofdp(bridge)
        if ofdp is None:
            return
        now = time.monotonic()
        r = X.xlate(ofdp.xbridge(), flow_extract(frame, OFPP_LOCAL), now, True,
                    actions=[A.Output(OFPP_TABLE)])
        ofdp.apply_side_effects(r, now)
        odp_in = ofdp.ofp_to_odp(OFPP_LOCAL)
        ofdp.backer.dp.execute([Packet(frame)], r.actions,
                               in_port=odp_in if odp_in is not None else 0)

    def changed(self):
        """Routes, neighbors or tunnel ports changed: re-translate."""
        self._neigh_seq = self.tnl.neigh.seq
        self.ctx.topology += 1
        self.ctx.changed()

    # -- the daemon ---------------------------------------------------------------
    def register_unixctl_commands(self, server, enable_dummy=False):
        self.tnl.register_unixctl_commands(server, enable_dummy)

    def start(self, loop):
        self._loop = loop
        if self.tnl.router.use_system:
            self.tnl.start(loop)
        self._timer = loop.call_later(RUN_INTERVAL, self._tick)

    def _tick(self):
        try:
            self.tnl.run(time.monotonic())
        except Exception as e:          # never stop the switch
            vlog.err("tunnel upkeep failed: %s", e)
        if self._loop is not None:
            self._timer = self._loop.call_later(RUN_INTERVAL, self._tick)

    def close(self):
        if self._timer is not None:
            self._timer.cancel()
        self._loop = None
        self.tnl.close()
