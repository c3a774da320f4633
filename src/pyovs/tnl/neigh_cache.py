"""The tunnel neighbor cache (OVS's tnl-neigh-cache).

tnl_push needs the next hop's MAC.  OVS learns it by snooping the
packets its bridges see: ARP replies and gratuitous ARPs (ARP SPA ==
TPA, request or reply) give (SPA -> SHA); IPv6 neighbor advertisements
give (target -> TLL, or the Ethernet source when the TLL option is
absent, as Linux answers unicast solicitations).  Entries are keyed by
(bridge, IP) with IPv4 stored IPv4-mapped, and expire `aging` after
they were last confirmed (900 s by default; tnl/neigh/aging takes 1 to
3600 s and also shortens entries that would outlive the new value).
Learning an entry with the same MAC only refreshes it; a different MAC
replaces it.  `allow_update=False` (a trace, not a real packet) leaves
the cache as it was.

On a miss the switch sends, from the output bridge, an ARP request
(broadcast, THA zero) or a neighbor solicitation (to the solicited-node
group, with a source link-layer option) and drops the packet;
build_arp_request()/build_nd_solicitation() make those frames.

Time is passed in (`now`, seconds, float); nothing here does I/O.

Public API: NeighCache(aging=900) with .snoop(flow, bridge, now,
allow_update=True) -> bool, .set(bridge, ip, mac, now), .lookup(bridge,
ip, now) -> mac int | None, .run(now) (expire), .flush(), .show(now);
parse_ip(text) -> mapped int | None; handlers neigh_show/neigh_flush/
neigh_set/neigh_aging(cache, args, now) -> (error, text);
register_unixctl_commands(server, cache, clock, on_change=None);
build_arp_request(), build_nd_solicitation().
"""

import time

from pyovs.packet import build
from pyovs.packet import headers as h
from pyovs.tnl.ovs_router import (V4_MAPPED_PREFIX, format_mapped, _parse_ipv4,
                                  _parse_ipv6, is_v4_mapped, UINT32_MAX)

DEFAULT_AGING = 900          # NEIGH_ENTRY_DEFAULT_IDLE_TIME_MS / 1000
MAX_AGING = 3600             # NEIGH_ENTRY_MAX_AGING_TIME_S
INET6_ADDRSTRLEN = 46
ARP_OP_REPLY = 2
ND_NEIGHBOR_ADVERT = 136

HEADER = ("IP                                            MAC                 Bridge\n"
          "==========================================================================\n")

COMMANDS = (
    # name, usage, min_args, max_args, handler name
    ("tnl/neigh/show", "", 0, 0, "show"),
    ("tnl/neigh/set", "BRIDGE IP MAC", 3, 3, "set"),
    ("tnl/neigh/flush", "", 0, 0, "flush"),
    ("tnl/neigh/aging", "[SECS]", 0, 1, "aging"),
    ("tnl/arp/show", "", 0, 0, "show"),
    ("tnl/arp/set", "BRIDGE IP MAC", 3, 3, "set"),
    ("tnl/arp/flush", "", 0, 0, "flush"),
    ("tnl/arp/aging", "[SECS]", 0, 1, "aging"),
)


def parse_ip(s):
    """OVS's parse: IPv4 dotted quad or IPv6 text -> mapped int, else None."""
    v4 = _parse_ipv4(s)
    if v4 is not None:
        return V4_MAPPED_PREFIX | v4
    return _parse_ipv6(s)


def parse_mac(s):
    """eth_addr_from_string(): 'xx:xx:xx:xx:xx:xx' -> int, else None."""
    parts = s.split(":")
    if len(parts) != 6 or len(s) > 17:
        return None
    try:
        vals = [int(p, 16) for p in parts]
    except ValueError:
        return None
    if any(not p or len(p) > 2 or not p.isascii() or v > 255
           for p, v in zip(parts, vals)):
        return None
    out = 0
    for v in vals:
        out = out << 8 | v
    return out


def format_mac(m):
    return ":".join(f"{b:02x}" for b in m.to_bytes(6, "big"))


class NeighEntry:
    __slots__ = ("ip", "mac", "bridge", "expires")

    def __init__(self, ip, mac, bridge, expires):
        self.ip, self.mac, self.bridge, self.expires = ip, mac, bridge, expires


class NeighCache:
    def __init__(self, aging=DEFAULT_AGING):
        self.aging = aging
        self.table = {}          # (bridge, ip) -> NeighEntry
        self.seq = 0             # bumped on every change (tnl_conf_seq)

    def set(self, bridge, ip, mac, now, allow_update=True):
        """Learn/refresh ip (mapped int) -> mac (int) on bridge."""
        key = (bridge, ip)
        e = self.table.get(key)
        if not allow_update:
            return
        if e is not None and e.mac == mac:
            e.expires = now + self.aging
            return
        self.table[key] = NeighEntry(ip, mac, bridge, now + self.aging)
        self.seq += 1

    def lookup(self, bridge, ip, now):
        e = self.table.get((bridge, ip))
        if e is None or e.expires <= now:
            return None
        return e.mac

    def run(self, now):
        """Drop expired entries; True if any went."""
        dead = [k for k, e in self.table.items() if e.expires <= now]
        for k in dead:
            del self.table[k]
        if dead:
            self.seq += 1
        return bool(dead)

    def flush(self):
        self.table.clear()
        self.seq += 1

    def set_aging(self, secs, now):
        self.aging = secs
        new_exp = now + secs
        for e in self.table.values():
            if new_exp < e.expires:
                e.expires = new_exp

    # -- snooping -----------------------------------------------------------
    def snoop(self, flow, bridge, now, allow_update=True):
        """Learn from a flow dict (pyovs.packet.flow.flow_extract output)
        seen on `bridge`.  True if the packet was ARP/ND that OVS snoops."""
        g = flow.get
        dl_type = g("dl_type", 0)
        if dl_type == h.ETH_TYPE_ARP:
            garp = g("nw_src", 0) == g("nw_dst", 0)
            if (not garp and g("nw_proto", 0) != ARP_OP_REPLY) \
                    or not g("arp_sha", 0):
                return False
            self.set(bridge, V4_MAPPED_PREFIX | g("nw_src", 0), g("arp_sha"),
                     now, allow_update)
            return True
        if (dl_type == h.ETH_TYPE_IPV6 and g("nw_proto", 0) == h.IPPROTO_ICMPV6
                and g("tp_src", 0) == ND_NEIGHBOR_ADVERT and g("tp_dst", 0) == 0):
            mac = g("arp_tha", 0) or g("dl_src", 0)
            if not mac:
                return False
            self.set(bridge, g("nd_target", 0), mac, now, allow_update)
            return True
        return False

    # -- text ---------------------------------------------------------------
    def show(self, now=None):
        out = [HEADER]
        for e in self.table.values():
            ip = format_mapped(e.ip)
            out.append(f"{ip}{' ' * (INET6_ADDRSTRLEN - len(ip))}"
                       f"{format_mac(e.mac)}   {e.bridge}\n")
        return "".join(out)


# ---------------------------------------------------------------------------
# unixctl handlers: (cache, args, now) -> (error, text)

def neigh_show(cache, args, now):
    cache.run(now)
    return None, cache.show(now)


def neigh_flush(cache, args, now):
    cache.flush()
    return None, "OK"


def neigh_set(cache, args, now):
    bridge, ip_s, mac_s = args
    ip = parse_ip(ip_s)
    if ip is None:
        return "bad IP address", None
    mac = parse_mac(mac_s)
    if mac is None:
        return "bad MAC address", None
    cache.set(bridge[:15], ip, mac, now)
    return None, "OK"


def neigh_aging(cache, args, now):
    if not args:
        return None, str(int(cache.aging))
    s = args[0].lstrip(" \t\n\v\f\r")
    n = 0
    while n < len(s) and n < 12 and s[n] in "0123456789":
        n += 1
    secs = int(s[:n]) if n else 0
    if not n or secs == 0 or secs > MAX_AGING:
        return "bad aging value", None
    cache.set_aging(secs, now)
    return None, "OK"


HANDLERS = {"show": neigh_show, "set": neigh_set, "flush": neigh_flush,
            "aging": neigh_aging}


def register_unixctl_commands(server, cache, clock=time.monotonic,
                              on_change=None):
    """Register tnl/neigh/* and tnl/arp/* on a UnixctlServer."""
    for name, usage, lo, hi, kind in COMMANDS:
        fn = HANDLERS[kind]

        def handler(conn, args, fn=fn, kind=kind):
            err, text = fn(cache, list(args), clock())
            if err is not None:
                conn.reply_error(err)
            else:
                conn.reply(text)
                if on_change and kind in ("set", "flush"):
                    on_change()
        server.register(name, usage, lo, hi, handler)


# ---------------------------------------------------------------------------
# What the switch sends on a miss.

def build_arp_request(eth_src, ip_src, ip_dst):
    """OVS's compose_arp(ARP_OP_REQUEST): broadcast, THA zero.  eth_src a
    MAC (text/bytes/int), ip_src/ip_dst IPv4 text or mapped int."""
    return build.arp_packet(h.ARP_OP_REQUEST, _mac_bytes(eth_src), _ip4(ip_src),
                            bytes(6), _ip4(ip_dst))


def build_nd_solicitation(eth_src, ip_src, ip_dst):
    """OVS's compose_nd_ns(): to the solicited-node group of ip_dst, hop
    limit 255, source link-layer option."""
    return build.nd_ns_packet(_mac_bytes(eth_src), _ip6(ip_src), _ip6(ip_dst))


def build_neigh_request(eth_src, ip_src, ip_dst):
    """ARP request for IPv4(-mapped) ip_dst, neighbor solicitation else."""
    if isinstance(ip_dst, int) and not is_v4_mapped(ip_dst) or \
            isinstance(ip_dst, str) and ":" in ip_dst:
        return build_nd_solicitation(eth_src, ip_src, ip_dst)
    return build_arp_request(eth_src, ip_src, ip_dst)


def _mac_bytes(m):
    return m.to_bytes(6, "big") if isinstance(m, int) else build.mac(m)


def _ip4(a):
    if isinstance(a, int):
        return (a & UINT32_MAX).to_bytes(4, "big")
    return build.ip4(a)


def _ip6(a):
    if isinstance(a, int):
        return a.to_bytes(16, "big")
    return build.ip6(a)
