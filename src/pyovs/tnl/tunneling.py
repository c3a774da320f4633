"""The switch's native tunneling state (OVS's ofproto/tunnel.c plus the
daemon-wide tables), one per ovs-vswitchd.

It owns the route table, the neighbor cache, the tunnel port table
(tnl_ports, the listeners), tnl/egress_port_range, and the OpenFlow
tunnel ports of every bridge.  A tunnel port added to a bridge
(add_port) gets the datapath tunnel port its type and destination port
share (vxlan_sys_4789, gre_sys, genev_sys_6081: created in the datapath
on first use, removed with the last user) and registers it as a
listener, so "tnl/ports/show" lists it with a reference count per
OpenFlow port, as OVS.

Receive (tnl_port_receive()): a packet that tnl_pop'ed into datapath
port N with tunnel metadata belongs to the OpenFlow tunnel port that
matches best, OVS's tnl_find() order: an exact in_key before in_key=flow,
an exact remote_ip before remote_ip=flow, then local_ip configured, not
configured, flow; keyless ports take only tun_id 0.  receive_wc() is the
megaflow mask that decision needs (OVS's tnl_wc_init()).

Send (tnl_port_send()): send(port, flow, wc) fills the flow's tunnel
fields from the port's configuration -- tun_dst/tun_ipv6_dst unless
remote_ip=flow, tun_src unless local_ip=flow, tun_id from out_key unless
out_key=flow, tos (inherit: the inner DSCP), ttl (inherit: the inner
TTL), the inner ECN bits, flags df/csum/key, tun_tp_dst -- and returns
what tnl/native.py needs to build the tnl_push header.

Addresses of devices: the route table asks get_addrs(dev); the kernel's
(SystemRoutes, started by the daemon) unless netdev-dummy/ip4addr or
ip6addr gave the device addresses here (set_dev_addr), as OVS's dummy
devices have them.  When --enable-dummy=system|override makes the system
devices dummies (.kernel_devices False), only those: as in OVS, whose
get_src_addr() opens the route's device as a netdev, a kernel route then
finds no source address and is not cached.

Public API: Tunneling(use_system_routes=True): .router .neigh .tnl_ports
.egress .ports; .bridge_mac(name) and .bridge_local_odp(name) hooks (set
by the owner); add_port(bridge, ofp_port, netdev, dp, port_no=None) ->
odp port; del_port(bridge, ofp_port, dp); port(bridge, ofp_port); has_tunnels(dp);
receive(flow) -> TnlPort | None; receive_wc(flow, wc); send(port, flow,
wc) -> dict of header parameters; set_dev_addr(dev, text) -> error|None;
start(loop) / close() (kernel routes); run(now);
register_unixctl_commands(server, enable_dummy=False); TNL_F_*.
"""

import ipaddress
import time

from pyovs import netdev as netdev_mod
from pyovs.netdev.tunnel import NetdevTunnel
from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_DONT_FRAGMENT, TNL_F_KEY
from pyovs.tnl import neigh_cache, ovs_router, tnl_ports as tnl_ports_mod
from pyovs.tnl.header import EgressPortRange
from pyovs.util.vlog import Vlog

vlog = Vlog("tunnel")

IP_ECN_MASK = 0x03
IP_DSCP_MASK = 0xfc
V4 = 0xFFFF << 32


class TnlPort:
    __slots__ = ("bridge", "ofp_port", "netdev", "odp_port", "dpif_name")

    def __init__(self, bridge, ofp_port, netdev, odp_port, dpif_name):
        self.bridge, self.ofp_port, self.netdev = bridge, ofp_port, netdev
        self.odp_port, self.dpif_name = odp_port, dpif_name

    @property
    def cfg(self):
        return self.netdev.cfg

    @property
    def type(self):
        return self.netdev.type


class Tunneling:
    def __init__(self, use_system_routes=True):
        self.dev_addrs = {}          # dev -> [ip_interface] (netdev-dummy/ip*addr)
        self.system = None           # ovs_router.SystemRoutes once started
        self.kernel_devices = True   # False: system devices are dummies
        self.router = ovs_router.Router(self._get_addrs, use_system_routes)
        self.neigh = neigh_cache.NeighCache()
        self.tnl_ports = tnl_ports_mod.TnlPorts()
        self.egress = EgressPortRange()
        self.ports = {}              # (bridge, ofp_port) -> TnlPort
        self._dp_ports = {}          # (id(dp), dpif name) -> [odp port, users, netdev]
        self.bridge_mac = lambda name: None
        self.get_mac = lambda name: None    # any device's MAC (ip devices)
        self.on_change = lambda: None       # routes/neighbors changed: revalidate
        NetdevTunnel.egress_lookup = self.egress_iface

    def egress_iface(self, cfg):
        """The device a tunnel's packets leave by (the Interface status)."""
        if not cfg.ip_dst:
            return None
        route = self.router.lookup(cfg.egress_pkt_mark, cfg.ip_dst)
        return route.output_bridge if route is not None else None

    # -- addresses ------------------------------------------------------------
    def _get_addrs(self, name):
        if name in self.dev_addrs:
            return list(self.dev_addrs[name])
        if self.system is not None and self.kernel_devices:
            return self.system.kernel_addrs(name)
        return None

    def _dev_mac(self, name):
        mac = self.bridge_mac(name) or self.get_mac(name)
        if mac is None and self.system is not None and self.kernel_devices:
            mac = self.system.kernel_mac(name)
        return mac

    def set_dev_addr(self, dev, text, v6):
        """netdev-dummy/ip4addr|ip6addr DEV ADDR/PLEN -> error text or None."""
        try:
            addr = ipaddress.ip_interface(text)
        except ValueError:
            return "Invalid parameters"
        if (addr.version == 6) != v6 or "/" not in text:
            return "Invalid parameters"
        self.dev_addrs.setdefault(dev, []).append(addr)
        self.sync_ipdevs()
        return None

    def sync_ipdevs(self):
        tnl_ports_mod.sync_ipdevs(self.tnl_ports, self.router, self._dev_mac,
                                  self._get_addrs)

    # -- ports ----------------------------------------------------------------
    def add_port(self, bridge, ofp_port, dev, dp, port_no=None):
        """Register tunnel netdev DEV as BRIDGE's OpenFlow port OFP_PORT on
        datapath DP; returns the datapath tunnel port's number."""
        self.del_port(bridge, ofp_port, dp)
        name = dev.dpif_port_name()
        key = (id(dp), name)
        entry = self._dp_ports.get(key)
        if entry is None:
            existing = dp.port_by_name(name)
            if existing is not None:
                entry = [existing.port_no, 0, None]
            else:
                vport = netdev_mod.open(name, dev.type)
                vport.cfg.dst_port = dev.cfg.dst_port
                vport.cfg.pt_mode = "ptap"      # as dpif-netdev opens it (dpctl/show)
                no = dp.add_port(vport, port_no)
                entry = [no, 0, vport]
            self._dp_ports[key] = entry
        entry[1] += 1
        p = TnlPort(bridge, ofp_port, dev, entry[0], name)
        self.ports[(bridge, ofp_port)] = p
        self.tnl_ports.insert(entry[0], dev.dst_port(), name, dev.type)
        self.sync_ipdevs()
        return entry[0]

    def del_port(self, bridge, ofp_port, dp):
        p = self.ports.pop((bridge, ofp_port), None)
        if p is None:
            return
        self.tnl_ports.delete(p.odp_port, p.type)
        key = (id(dp), p.dpif_name)
        entry = self._dp_ports.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del self._dp_ports[key]
                if entry[2] is not None:
                    try:
                        dp.del_port(entry[0])
                    except Exception:       # already gone with its datapath
                        pass
                    entry[2].close()

    def port(self, bridge, ofp_port):
        return self.ports.get((bridge, ofp_port))

    def has_tunnels(self, dp):
        """Whether datapath DP has tunnel ports (None: any datapath)."""
        if dp is None:
            return bool(self._dp_ports)
        return any(k[0] == id(dp) for k in self._dp_ports)

    def is_tunnel_odp(self, odp_port):
        return any(e[0] == odp_port for e in self._dp_ports.values())

    # -- receive --------------------------------------------------------------
    def receive(self, flow):
        """tnl_find(): the TnlPort FLOW (in_port: a datapath tunnel port,
        tun_* from tnl_pop) belongs to, or None."""
        g = flow.get
        odp = g("in_port", 0)
        if g("tun_dst", 0):
            src, dst = V4 | g("tun_src", 0), V4 | g("tun_dst", 0)
        else:
            src, dst = g("tun_ipv6_src", 0), g("tun_ipv6_dst", 0)
        tun_id = g("tun_id", 0)
        mark = g("pkt_mark", 0)
        best, best_rank = None, None
        for p in self.ports.values():
            if p.odp_port != odp:
                continue
            c = p.cfg
            if c.egress_pkt_mark != mark:
                continue
            if not c.in_key_flow and c.in_key != tun_id:
                continue
            if not c.ip_dst_flow and c.ip_dst != src:
                continue
            if c.ip_src_flow:
                src_rank = 2
            elif c.ip_src:
                if c.ip_src != dst:
                    continue
                src_rank = 0
            else:
                src_rank = 1
            rank = (c.in_key_flow, c.ip_dst_flow, src_rank)
            if best_rank is None or rank < best_rank:
                best, best_rank = p, rank
        return best

    @staticmethod
    def receive_wc(flow, wc):
        """tnl_wc_init(): the tunnel bits a received packet's megaflow holds."""
        def unwild(m, bits):
            wc[m] = wc.get(m, 0) | bits
        unwild("tun_id", (1 << 64) - 1)
        if flow.get("tun_dst", 0):
            unwild("tun_src", 0xffffffff)
            unwild("tun_dst", 0xffffffff)
        else:
            unwild("tun_ipv6_src", (1 << 128) - 1)
            unwild("tun_ipv6_dst", (1 << 128) - 1)
        unwild("tun_flags", TNL_F_DONT_FRAGMENT | TNL_F_CSUM | TNL_F_KEY)
        unwild("tun_tos", 0xff)
        if (flow.get("dl_type") in (0x0800, 0x86dd)
                and flow.get("tun_tos", 0) & IP_ECN_MASK == IP_ECN_MASK):
            unwild("nw_tos", IP_ECN_MASK)

    # -- send -----------------------------------------------------------------
    def send(self, p, flow, wc):
        """tnl_port_send(): set FLOW's tunnel fields for output to P (un-
        wildcarding what that reads in WC); -> header parameters for
        tnl/native.resolve()."""
        c = p.cfg
        if not c.ip_dst_flow:
            if c.ip_dst >> 32 == 0xFFFF:
                flow["tun_dst"] = c.ip_dst & 0xffffffff
                flow.pop("tun_ipv6_dst", None)
            else:
                flow["tun_ipv6_dst"] = c.ip_dst
                flow.pop("tun_dst", None)
        if not c.ip_src_flow:
            if c.ip_src >> 32 == 0xFFFF:
                flow["tun_src"] = c.ip_src & 0xffffffff
            elif c.ip_src:
                flow["tun_ipv6_src"] = c.ip_src
            else:
                flow.pop("tun_src", None)
                flow.pop("tun_ipv6_src", None)
        if not c.out_key_flow:
            flow["tun_id"] = c.out_key
        if c.set_egress_pkt_mark:
            flow["pkt_mark"] = c.egress_pkt_mark
            wc["pkt_mark"] = 0xffffffff
        is_ip = flow.get("dl_type") in (0x0800, 0x86dd)
        if c.ttl_inherit and is_ip:
            wc["nw_ttl"] = wc.get("nw_ttl", 0) | 0xff
            ttl = flow.get("nw_ttl", 0)
        else:
            ttl = c.ttl
        if c.tos_inherit and is_ip:
            wc["nw_tos"] = wc.get("nw_tos", 0) | IP_DSCP_MASK
            tos = flow.get("nw_tos", 0) & IP_DSCP_MASK
        else:
            tos = c.tos
        if is_ip:
            wc["nw_tos"] = wc.get("nw_tos", 0) | IP_ECN_MASK
            ecn = flow.get("nw_tos", 0) & IP_ECN_MASK
            if ecn == IP_ECN_MASK:
                tos |= 0x02          # CE is sent as ECT(0), as OVS
            else:
                tos |= ecn
        flags = ((TNL_F_DONT_FRAGMENT if c.dont_fragment else 0)
                 | (TNL_F_CSUM if c.csum else 0)
                 | (TNL_F_KEY if c.out_key_present else 0))
        flow["tun_tos"], flow["tun_ttl"], flow["tun_flags"] = tos, ttl, flags
        flow["tun_tp_dst"] = p.netdev.dst_port()
        v4 = "tun_dst" in flow and flow["tun_dst"]
        remote = (V4 | flow["tun_dst"]) if v4 else flow.get("tun_ipv6_dst", 0)
        src = ((V4 | flow["tun_src"]) if v4 and flow.get("tun_src")
               else flow.get("tun_ipv6_src", 0) if not v4 else 0)
        return {"remote": remote, "src": src or None, "mark": flow.get("pkt_mark", 0),
                "tnl_type": p.type,
                "key": flow.get("tun_id", 0) if c.out_key_present else None,
                "tos": tos, "ttl": ttl, "df": c.dont_fragment, "csum": c.csum,
                "dst_port": p.netdev.dst_port() or None}

    # -- the daemon -----------------------------------------------------------
    def start(self, loop):
        """Cache the kernel's routes (a worker thread; see SystemRoutes)."""
        if self.system is None:
            self.system = ovs_router.SystemRoutes(self.router)
            self.system.on_change = self._routes_changed
            try:
                self.system.start(loop)
            except Exception as e:      # no netlink: user routes only
                vlog.warn("route table: %s", e)

    def _routes_changed(self):
        self.sync_ipdevs()
        self.on_change()

    def run(self, now=None):
        if self.neigh.run(time.monotonic() if now is None else now):
            self.on_change()

    def close(self):
        if self.system is not None:
            self.system.close()
            self.system = None

    def register_unixctl_commands(self, server, enable_dummy=False):
        ovs_router.register_unixctl_commands(server, self.router,
                                             self._routes_changed)
        neigh_cache.register_unixctl_commands(server, self.neigh, time.monotonic,
                                              self.on_change)
        tnl_ports_mod.register_unixctl_commands(server, self.tnl_ports)
        self.egress.register_unixctl_commands(server, self.on_change)
        if enable_dummy:
            for cmd, v6 in (("netdev-dummy/ip4addr", False),
                            ("netdev-dummy/ip6addr", True)):
                def handler(conn, args, v6=v6):
                    err = self.set_dev_addr(args[0], args[1], v6)
                    if err:
                        conn.reply_error(err)
                    else:
                        conn.reply("OK")
                        self.on_change()
                server.register(cmd, "[netdev] ipaddr/mask-prefix-len", 2, 2, handler)
