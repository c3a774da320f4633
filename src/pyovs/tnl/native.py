"""Native tunnel output: route + neighbor -> outer header, or why not.

The first half of OVS's native_tunnel_output(), for the translation
layer: look the tunnel's remote IP up in the route table (with the
packet's pkt_mark), find the output bridge, take the next hop (the
gateway, else the remote itself), look its MAC up in the neighbor
cache on that bridge and build the tnl_push header.  On a neighbor miss
the caller sends the returned ARP request / neighbor solicitation out
of the output bridge and drops the packet, as OVS does; later packets
go through once the reply has been snooped.  `notes` are the lines
ofproto/trace prints ("-> tunneling to ... via ...", "-> neighbor cache
miss ...", ">> native tunnel routing failed"), as the real switch
prints them.

Public API: resolve(router, neigh, remote_ip, *, mark, now, bridge_mac,
tnl_type, src=None (the tunnel's own source address, mapped int: must be
local), **header_kw) -> Resolution(status, notes, out_bridge, header_type,
header, request) with status "ok", "miss", "no-route" or "no-bridge".
bridge_mac(name) -> MAC (int/text) if `name` is one of the switch's
bridges, else None.
"""

from dataclasses import dataclass, field

from pyovs.tnl.header import build_header
from pyovs.tnl.neigh_cache import build_neigh_request
from pyovs.tnl.ovs_router import format_mapped, is_v4_mapped, mapped


@dataclass
class Resolution:
    status: str
    notes: list = field(default_factory=list)
    out_bridge: str = None
    header_type: int = None
    header: bytes = None
    request: bytes = None       # ARP/ND frame to send on a miss


def resolve(router, neigh, remote_ip, *, mark=0, now, bridge_mac, tnl_type,
            src=None, **header_kw):
    dst = remote_ip if isinstance(remote_ip, int) else mapped(remote_ip)
    if src:
        # A tunnel with its own source (local_ip, tun_src) needs that to be
        # one of this host's addresses, as ovs_router_lookup() checks.
        own = router.lookup(mark, src)
        if own is None or not own.local:
            return Resolution("no-route", [">> native tunnel routing failed"])
    route = router.lookup(mark, dst)
    if route is None:
        return Resolution("no-route", [">> native tunnel routing failed"])
    mac = bridge_mac(route.output_bridge)
    if mac is None:
        return Resolution("no-bridge", [">> native tunnel routing failed"],
                          route.output_bridge)
    nexthop = route.gw or dst
    notes = [f"-> tunneling to {format_mapped(nexthop)} via {route.output_bridge}"]
    nh_mac = neigh.lookup(route.output_bridge, nexthop, now)
    if nh_mac is None:
        kind = "ARP" if is_v4_mapped(nexthop) else "ND"
        notes.append(f"-> neighbor cache miss for {format_mapped(nexthop)} on bridge "
                     f"{route.output_bridge}, sending {kind} request")
        return Resolution("miss", notes, route.output_bridge,
                          request=build_neigh_request(mac, route.src_addr, nexthop))
    htype, header = build_header(tnl_type, nh_mac, mac, src or route.src_addr, dst,
                                 **header_kw)
    return Resolution("ok", notes, route.output_bridge, htype, header)
