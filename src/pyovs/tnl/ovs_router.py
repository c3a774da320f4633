"""The tunnel route table (OVS's ovs-router).

Native tunneling needs to know, for a tunnel's remote IP, which bridge
the encapsulated packet leaves by, the next hop and the source address
to put in the outer header.  OVS keeps its own route table for that,
a classifier over (ipv6_dst, pkt_mark): IPv4 addresses live in it as
IPv4-mapped IPv6 addresses (so an IPv4 /N is a /N+96), and each entry
has a priority computed from its prefix length:

* routes cached from the kernel: priority = plen (plen + 64 for the
  kernel's "local" routes, which the show command marks " local");
* user routes (ovs/route/add): priority = plen + 32, so a user route
  beats a cached one of the same length; "Cached:" versus "User:" in
  ovs/route/show is told apart by exactly that.

A lookup is the highest-priority entry whose prefix covers the address
and whose pkt_mark equals the packet's (pkt_mark always matches
exactly).  An entry with the same (prefix, plen, mark, priority)
replaces the old one.  The source address is chosen when an entry is
inserted: among the output device's addresses of the same family, the
one whose subnet contains the destination (then, failing that, the
gateway) with the longest mask; no such address means the insert fails
("Error while inserting route.").  Device addresses come from a
callback, get_addrs(devname) -> list of ipaddress interfaces, or None
if the device does not exist.

The kernel side is a thin shell (SystemRoutes, pyroute2): it dumps the
kernel's unicast and local routes of every table, and whenever
rtnetlink reports a route, address or link change it flushes the
cached entries and dumps again, as OVS's route-table module does.
With --disable-system-route (Router(use_system=False)) nothing is
cached.

Public API: Router(get_addrs, use_system=True) with .insert_user(),
.insert_system(), .delete_user(), .flush_system(), .lookup(mark, ip),
.entries() (in show order), .show(); unixctl-level handlers
route_add/route_del/route_show/route_lookup(router, args) ->
(error_text|None, reply_text|None); register_unixctl_commands(server,
router); SystemRoutes(router): .start(loop) in the daemon (a worker
thread; see its docstring), .reset()/.run() without a loop, .kernel_addrs(name)
as the Router's get_addrs, .kernel_mac(name), .close().
"""

import errno
import ipaddress
import socket
from dataclasses import dataclass, field
import itertools

V4_MAPPED_PREFIX = 0xFFFF << 32
V4_MAPPED_MASK = ((1 << 128) - 1) ^ ((1 << 32) - 1)
ALL_ONES = (1 << 128) - 1
UINT32_MAX = 0xFFFFFFFF

COMMANDS = (
    # name, usage, min_args, max_args
    ("ovs/route/add", "ip_addr/prefix_len out_br_name [gw] [pkt_mark=mark]",
     2, 4),
    ("ovs/route/show", "", 0, 0),
    ("ovs/route/del", "ip_addr/prefix_len [pkt_mark=mark]", 1, 2),
    ("ovs/route/lookup", "ip_addr [pkt_mark=mark]", 1, 2),
)


# ---------------------------------------------------------------------------
# Addresses: 128-bit ints, IPv4 mapped into ::ffff:0:0/96.

def is_v4_mapped(addr):
    return (addr & V4_MAPPED_MASK) == V4_MAPPED_PREFIX


def mapped(ip):
    """ipaddress.IPv4Address/IPv6Address (or text) -> 128-bit int."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip)
    if ip.version == 4:
        return V4_MAPPED_PREFIX | int(ip)
    return int(ip)


def plen_to_mask(plen):
    return ALL_ONES ^ ((1 << (128 - plen)) - 1)


def format_mapped(addr):
    """OVS's ipv6_format_mapped(): dotted quad for IPv4-mapped."""
    if is_v4_mapped(addr):
        return socket.inet_ntop(socket.AF_INET,
                                (addr & UINT32_MAX).to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, addr.to_bytes(16, "big"))


def _parse_ipv4(s):
    parts = s.split(".")
    if len(parts) != 4 or len(s) > 64:
        return None
    value = 0
    for p in parts:
        if not p.isdigit() or not p.isascii() or len(p) > 3 or int(p) > 255:
            return None
        value = value << 8 | int(p)
    return value


def _parse_ipv6(s):
    if len(s) > 64 or not s.isascii():
        return None
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, s), "big")
    except (OSError, ValueError):
        return None


def _cidr_len(mask, bits):
    """Prefix length of a CIDR mask, or None if it has holes."""
    inv = ((1 << bits) - 1) ^ mask
    if inv & (inv + 1):
        return None
    return bits - inv.bit_length()


def scan_ipv4_route(s):
    """OVS's ip_parse_cidr(): 'A.B.C.D[/LEN|/MASK]' -> (int, plen) or None."""
    addr_s, slash, rest = s.partition("/")
    addr = _parse_ipv4(addr_s)
    if addr is None:
        return None
    if not slash:
        return addr, 32
    if rest.isdigit() and rest.isascii() and len(rest) <= 10:
        plen = int(rest)
        return (addr, plen) if plen <= 32 else None
    mask = _parse_ipv4(rest)
    if mask is None:
        return None
    plen = _cidr_len(mask, 32)
    return None if plen is None else (addr, plen)


def scan_ipv6_route(s):
    """OVS's ipv6_parse_cidr(): 'X:X::X[/LEN|/MASK]' -> (int, plen) or None."""
    addr_s, slash, rest = s.partition("/")
    addr = _parse_ipv6(addr_s)
    if addr is None:
        return None
    if not slash:
        return addr, 128
    if rest.isdigit() and rest.isascii() and len(rest) <= 10:
        plen = int(rest)
        return (addr, plen) if plen <= 128 else None
    mask = _parse_ipv6(rest)
    if mask is None:
        return None
    plen = _cidr_len(mask, 128)
    return None if plen is None else (addr, plen)


def scan_route(s):
    """IPv4 or IPv6 'IP[/PLEN]' -> (mapped int, 128-bit plen) or None."""
    r = scan_ipv4_route(s)
    if r is not None:
        return V4_MAPPED_PREFIX | r[0], r[1] + 96
    return scan_ipv6_route(s)


def scan_pkt_mark(s):
    """ovs_scan(s, "pkt_mark=%i"): C strtol base 0, trailing text ignored,
    truncated to 32 bits.  Returns None when it does not match."""
    if not s.startswith("pkt_mark="):
        return None
    t = s[len("pkt_mark="):].lstrip(" \t\n\v\f\r")
    sign = 1
    if t[:1] in "+-" and t[:1]:
        sign = -1 if t[0] == "-" else 1
        t = t[1:]
    if t[:2].lower() == "0x" and t[2:3] and t[2:3] in "0123456789abcdefABCDEF":
        base, digits, t = 16, "0123456789abcdef", t[2:]
    elif t[:1] == "0":
        base, digits = 8, "01234567"
    else:
        base, digits = 10, "0123456789"
    n = 0
    while n < len(t) and t[n].lower() in digits and n < 64:
        n += 1
    if n == 0:
        return None
    return (sign * int(t[:n], base)) & UINT32_MAX


# ---------------------------------------------------------------------------
# The table.

@dataclass
class RouteEntry:
    nw_addr: int            # mapped, masked
    plen: int               # 0..128 (IPv4: +96)
    mark: int
    priority: int
    output_bridge: str
    gw: int                 # 0 = none
    src_addr: int
    local: bool = False     # kernel RTN_LOCAL
    seq: int = field(default=0, compare=False)

    @property
    def user(self):
        return not (self.priority == self.plen or self.local)

    def key(self):
        return (self.nw_addr, self.plen, self.mark, self.priority)

    def format(self):
        kind = "User: " if self.user else "Cached: "
        plen = self.plen - 96 if is_v4_mapped(self.nw_addr) else self.plen
        s = f"{kind}{format_mapped(self.nw_addr)}/{plen}"
        if self.mark:
            s += f" MARK {self.mark}"
        s += f" dev {self.output_bridge}"
        if self.gw:
            s += f" GW {format_mapped(self.gw)}"
        s += f" SRC {format_mapped(self.src_addr)}"
        if self.local:
            s += " local"
        return s


def _device_addrs(get_addrs, name):
    """[(addr, mask)] as 128-bit ints, or None if no such device."""
    addrs = get_addrs(name)
    if addrs is None:
        return None
    out = []
    for a in addrs:
        if isinstance(a, str):
            a = ipaddress.ip_interface(a)
        if a.version == 4:
            out.append((V4_MAPPED_PREFIX | int(a.ip),
                        V4_MAPPED_MASK | int(a.network.netmask)))
        else:
            out.append((int(a.ip), int(a.network.netmask)))
    return out


class Router:
    """The route table.  get_addrs(devname) -> list of
    ipaddress.IPv4Interface/IPv6Interface (or "ip/plen" strings), or
    None when the device does not exist."""

    def __init__(self, get_addrs, use_system=True):
        self.get_addrs = get_addrs
        self.use_system = use_system
        self._entries = {}          # key() -> RouteEntry
        self._seq = itertools.count()

    # -- source address -----------------------------------------------------
    def get_src_addr(self, dst, output_bridge):
        """OVS's get_src_addr(): errno or (0, src)."""
        addrs = _device_addrs(self.get_addrs, output_bridge)
        if addrs is None:
            return errno.ENODEV, None
        v4 = is_v4_mapped(dst)
        best, best_bits = None, -1
        for addr, mask in addrs:
            if v4 and not is_v4_mapped(addr):
                continue
            bits = bin(mask).count("1")
            if dst & mask == addr & mask and bits > best_bits:
                best, best_bits = addr, bits
        if best is None:
            return errno.ENOENT, None
        return 0, best

    # -- insertion / deletion -----------------------------------------------
    def _insert(self, mark, priority, local, dst, plen, output_bridge, gw):
        dst &= plen_to_mask(plen)
        err, src = self.get_src_addr(dst, output_bridge)
        if err and gw:
            err, src = self.get_src_addr(gw, output_bridge)
        if err:
            return err
        e = RouteEntry(dst, plen, mark & UINT32_MAX, priority, output_bridge,
                       gw, src, local, next(self._seq))
        self._entries[e.key()] = e
        return 0

    def insert_user(self, mark, dst, plen, output_bridge, gw=0):
        """ovs/route/add: dst/gw mapped ints, plen 0..128.  -> errno."""
        return self._insert(mark, plen + 32, False, dst, plen,
                            output_bridge, gw)

    def insert_system(self, mark, dst, plen, local, output_bridge, gw=0):
        """A route cached from the kernel (no-op without system routes)."""
        if not self.use_system:
            return 0
        priority = plen + 64 if local else plen
        return self._insert(mark, priority, local, dst, plen,
                            output_bridge, gw)

    def delete_user(self, mark, dst, plen):
        key = (dst & plen_to_mask(plen), plen, mark & UINT32_MAX, plen + 32)
        e = self._entries.get(key)
        if e is None or not e.user:
            return False
        del self._entries[key]
        return True

    def flush_system(self):
        """Drop every cached (non-user) entry, as before a kernel re-dump."""
        for k in [k for k, e in self._entries.items() if not e.user]:
            del self._entries[k]

    def flush(self):
        self._entries.clear()

    # -- lookup / listing ---------------------------------------------------
    def lookup(self, mark, ip):
        """ip: mapped int.  -> RouteEntry or None (highest priority wins)."""
        best = None
        for e in self._entries.values():
            if (e.mark == mark and ip & plen_to_mask(e.plen) == e.nw_addr
                    and (best is None or e.priority > best.priority)):
                best = e
        return best

    def entries(self):
        """In OVS's show order: grouped by prefix length (the classifier's
        subtables) ordered by their highest priority, then by priority."""
        groups = {}
        for e in self._entries.values():
            groups.setdefault(e.plen, []).append(e)
        ordered = sorted(groups.values(),
                         key=lambda g: -max(e.priority for e in g))
        out = []
        for g in ordered:
            out.extend(sorted(g, key=lambda e: (-e.priority, e.seq)))
        return out

    def show(self):
        return "Route Table:\n" + "".join(e.format() + "\n"
                                         for e in self.entries())


# ---------------------------------------------------------------------------
# unixctl commands: (router, args) -> (error_text, reply_text)

def route_add(router, args):
    r = scan_route(args[0])
    if r is None:
        return "Invalid parameters", None
    dst, plen = r
    v6 = not is_v4_mapped(dst)
    mark, gw = 0, 0
    if len(args) > 2:
        m = scan_pkt_mark(args[2])
        if m is not None:
            mark = m
        else:
            g = _parse_ipv6(args[2]) if v6 else _parse_ipv4(args[2])
            if g is None:
                return "Invalid pkt_mark or gateway", None
            gw = g if v6 else V4_MAPPED_PREFIX | g
        if len(args) > 3:
            m = scan_pkt_mark(args[3])
            if m is None:
                return "Invalid pkt_mark", None
            mark = m
    if router.insert_user(mark, dst, plen, args[1], gw):
        return "Error while inserting route.", None
    return None, "OK"


def _scan_mark_arg(args, i):
    if len(args) > i:
        return scan_pkt_mark(args[i])
    return 0


def route_del(router, args):
    r = scan_route(args[0])
    if r is None:
        return "Invalid parameters", None
    mark = _scan_mark_arg(args, 1)
    if mark is None:
        return "Invalid pkt_mark", None
    if router.delete_user(mark, r[0], r[1]):
        return None, "OK"
    return "Not found", None


def route_show(router, args):
    return None, router.show()


def route_lookup(router, args):
    r = scan_route(args[0])
    if r is None or r[1] != 128:
        return "Invalid parameters", None
    mark = _scan_mark_arg(args, 1)
    if mark is None:
        return "Invalid pkt_mark", None
    e = router.lookup(mark, r[0])
    if e is None:
        return "Not found", None
    return None, (f"src {format_mapped(e.src_addr)}\n"
                  f"gateway {format_mapped(e.gw)}\n"
                  f"dev {e.output_bridge}\n")


HANDLERS = {
    "ovs/route/add": route_add,
    "ovs/route/show": route_show,
    "ovs/route/del": route_del,
    "ovs/route/lookup": route_lookup,
}


def register_unixctl_commands(server, router, on_change=None):
    """Register ovs/route/* on a pyovs.util.unixctl.UnixctlServer.
    on_change() is called after a successful add/del (OVS bumps
    tnl_conf_seq there, so tunnels re-resolve)."""
    for name, usage, lo, hi in COMMANDS:
        fn = HANDLERS[name]

        def handler(conn, args, fn=fn, name=name):
            err, text = fn(router, list(args))
            if err is not None:
                conn.reply_error(err)
            else:
                conn.reply(text)
                if on_change and name in ("ovs/route/add", "ovs/route/del"):
                    on_change()
        server.register(name, usage, lo, hi, handler)


# ---------------------------------------------------------------------------
# Kernel shell (pyroute2).

@dataclass
class KernelRoute:
    """What OVS takes from one RTM_NEWROUTE."""
    dst: int
    plen: int            # 128-bit
    local: bool
    ifname: str
    gw: int
    mark: int


RTN_UNICAST, RTN_LOCAL = 1, 2
RT_SCOPE_NOWHERE = 255
RTM_F_CLONED = 0x200


def parse_route_msg(msg, ifnames):
    """A pyroute2 route message -> KernelRoute, or None if OVS ignores it
    (not unicast/local, scope nowhere, cloned, no output device)."""
    family = msg.get("family")
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    if msg.get("type") not in (RTN_UNICAST, RTN_LOCAL):
        return None
    if msg.get("scope") == RT_SCOPE_NOWHERE or msg.get("flags", 0) & RTM_F_CLONED:
        return None
    oif = msg.get_attr("RTA_OIF")
    ifname = ifnames.get(oif) if oif is not None else None
    if not ifname:
        return None
    dst_len = msg.get("dst_len", 0)
    dst_s = msg.get_attr("RTA_DST")
    gw_s = msg.get_attr("RTA_GATEWAY")
    mark = msg.get_attr("RTA_MARK") or 0
    v4 = family == socket.AF_INET
    dst = mapped(ipaddress.ip_address(dst_s)) if dst_s else (
        V4_MAPPED_PREFIX if v4 else 0)
    gw = mapped(ipaddress.ip_address(gw_s)) if gw_s else 0
    return KernelRoute(dst, dst_len + 96 if v4 else dst_len,
                       msg.get("type") == RTN_LOCAL, ifname, gw, mark)


_RELEVANT_EVENTS = ("RTM_NEWROUTE", "RTM_DELROUTE", "RTM_NEWLINK", "RTM_DELLINK",
                    "RTM_NEWADDR", "RTM_DELADDR")


def dump_kernel(ipr):
    """One consistent look at the kernel: ([KernelRoute], {ifname: [ip
    interfaces]}, {ifname: mac text}).  Blocking (pyroute2)."""
    ifnames, macs = {}, {}
    for link in ipr.get_links():
        name = link.get_attr("IFLA_IFNAME")
        ifnames[link["index"]] = name
        macs[name] = link.get_attr("IFLA_ADDRESS")
    addrs = {name: [] for name in ifnames.values()}
    for a in ipr.get_addr():
        name = ifnames.get(a["index"])
        if name is None:
            continue
        ip = a.get_attr("IFA_ADDRESS") if a["family"] == socket.AF_INET6 \
            else (a.get_attr("IFA_LOCAL") or a.get_attr("IFA_ADDRESS"))
        if ip:
            addrs[name].append(ipaddress.ip_interface(f"{ip}/{a['prefixlen']}"))
    routes = []
    for family in (socket.AF_INET, socket.AF_INET6):
        for msg in ipr.route("dump", family=family):
            kr = parse_route_msg(msg, ifnames)
            if kr is not None:
                routes.append(kr)
    return routes, addrs, macs


class SystemRoutes:
    """Caches the kernel's routes into a Router and keeps them current.

    pyroute2's synchronous API cannot run inside a running asyncio loop,
    so netlink is only touched by the caller's thread when no loop runs
    (reset()/run(), for tools and tests) or by a worker thread (start(loop)
    for the daemon), which re-dumps on every route, address or link
    change and hands the snapshot to the loop with call_soon_threadsafe;
    a snapshot equal to the last one applied changes nothing (no flush, no
    on_change: the datapath's flows stay as they are).
    Device addresses come from the latest snapshot: kernel_addrs(name) is
    the get_addrs to give the Router (no netlink call), kernel_mac(name)
    the device's MAC."""

    def __init__(self, router):
        self.router = router
        self.addrs, self.macs = {}, {}
        self._stop = False
        self.ipr = self.mon = None
        self.on_change = None       # called (in the loop) after each apply
        self._applied = None        # the last snapshot applied

    # -- snapshot -------------------------------------------------------------
    def kernel_addrs(self, name):
        return self.addrs.get(name)

    def kernel_mac(self, name):
        return self.macs.get(name)

    def apply(self, snapshot):
        if snapshot == self._applied:
            return      # a notification that changed nothing OVS keeps
        self._applied = snapshot
        routes, self.addrs, self.macs = snapshot
        self.router.flush_system()
        if self.router.use_system:
            for kr in routes:
                self.router.insert_system(kr.mark, kr.dst, kr.plen, kr.local,
                                          kr.ifname, kr.gw)
        if self.on_change:
            self.on_change()

    # -- synchronous use (no running event loop) -------------------------------
    def _open(self):
        from pyroute2 import IPRoute   # runtime dependency, kernel shell only
        from pyroute2.netlink.rtnl import (RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_ROUTE,
                                           RTMGRP_LINK, RTMGRP_IPV4_IFADDR,
                                           RTMGRP_IPV6_IFADDR)
        self.ipr = IPRoute()
        self.mon = IPRoute()
        self.mon.bind(groups=RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK
                      | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)

    def fileno(self):
        if self.mon is None:
            self._open()
        return self.mon.fileno()

    def reset(self):
        """Dump the kernel now (subscribing first, so nothing is missed)."""
        if self.mon is None:
            self._open()
        self.apply(dump_kernel(self.ipr))

    def run(self):
        """Drain pending notifications (blocks if none); re-dump if any
        was relevant.  For callers without an event loop."""
        if any(m.get("event") in _RELEVANT_EVENTS for m in self.mon.get()):
            self.reset()
            return True
        return False

    # -- the daemon: a worker thread feeding the loop --------------------------
    def start(self, loop):
        import threading
        ready = threading.Event()

        def worker():
            try:
                self._open()
                loop.call_soon_threadsafe(self.apply, dump_kernel(self.ipr))
            finally:
                ready.set()
            while not self._stop:
                try:
                    msgs = self.mon.get()
                except Exception:       # socket closed by close()
                    return
                if self._stop:
                    return
                if any(m.get("event") in _RELEVANT_EVENTS for m in msgs):
                    snap = dump_kernel(self.ipr)
                    loop.call_soon_threadsafe(self.apply, snap)

        self._thread = threading.Thread(target=worker, name="route-table",
                                        daemon=True)
        self._thread.start()
        ready.wait(10)

    def close(self):
        self._stop = True
        for sock in (self.ipr, self.mon):
            if sock is not None:
                try:
                    sock.close()
                except Exception:
                    pass
