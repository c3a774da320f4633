"""The tunnel port table (OVS's tnl-ports).

Which packets arriving on a bridge are tunnel traffic for this switch,
to be given tnl_pop(PORT)?  Those sent to one of the switch's own
addresses, unfragmented and without VLAN, with the IP protocol and (for
UDP tunnels) the destination port of a tunnel port.  OVS keeps two
things:

* the port list: one entry per datapath tunnel port (vxlan_sys_4789,
  gre_sys, genev_sys_6081, ...) keyed by (odp port, IP protocol), with a
  reference count of the OpenFlow tunnel ports that share it, in
  insertion order ("tnl/ports/show");
* the "ip devices": every device that is the output of a route (the
  route table registers them), with its MAC and addresses.

Their product is a classifier of exact-match entries (dl_dst = device
MAC, dl_type, nw_dst/ipv6_dst = device address, nw_proto, no fragment,
no VLAN, tp_dst for UDP) -> odp port; "tnl/ports/show -v" prints each as
an ODP flow.  The first port that claims an entry keeps it while any
claimant remains.

Public API: TnlPorts() with .insert(odp_port, tp_port, dev_name, type),
.delete(odp_port, type), .insert_ipdev(name, mac, addrs),
.delete_ipdev(name), .lookup(flow) -> odp port | None, .show(verbose);
nw_proto_for_type(type); sync_ipdevs(tp, router, get_mac, get_addrs);
ports_show(tp, args) -> (error, text);
register_unixctl_commands(server, tp).
"""

import ipaddress

from pyovs.tnl.ovs_router import (V4_MAPPED_PREFIX, format_mapped,
                                  is_v4_mapped, mapped)

IPPROTO_TCP, IPPROTO_UDP, IPPROTO_GRE = 6, 17, 47
ETH_TYPE_IP, ETH_TYPE_IPV6 = 0x0800, 0x86DD

_NW_PROTO = {
    "geneve": IPPROTO_UDP, "vxlan": IPPROTO_UDP, "lisp": IPPROTO_UDP,
    "gtpu": IPPROTO_UDP, "bareudp": IPPROTO_UDP, "stt": IPPROTO_TCP,
    "gre": IPPROTO_GRE, "ip6gre": IPPROTO_GRE, "erspan": IPPROTO_GRE,
    "ip6erspan": IPPROTO_GRE,
}


def nw_proto_for_type(type_):
    """OVS's tnl_type_to_nw_proto(); 0 for types with no listener."""
    return _NW_PROTO.get(type_, 0)


class TnlPort:
    __slots__ = ("port", "tp_port", "nw_proto", "dev_name", "ref_cnt")

    def __init__(self, port, tp_port, nw_proto, dev_name):
        self.port, self.tp_port, self.nw_proto = port, tp_port, nw_proto
        self.dev_name, self.ref_cnt = dev_name[:15], 1


class _Entry:
    __slots__ = ("key", "port", "dev_name", "refs")

    def __init__(self, key, port, dev_name):
        self.key, self.port, self.dev_name, self.refs = key, port, dev_name, 1


class TnlPorts:
    def __init__(self):
        self.ports = []          # TnlPort, insertion order
        self.ipdevs = {}         # name -> (mac int, [mapped addr ints])
        self.map = {}            # (mac, addr, nw_proto, tp_port) -> _Entry
        self.seq = 0

    # -- the classifier -------------------------------------------------------
    def _map_insert(self, p, mac, addr):
        key = (mac, addr, p.nw_proto, p.tp_port)
        e = self.map.get(key)
        if e is not None:
            e.refs += 1
        else:
            self.map[key] = _Entry(key, p.port, p.dev_name)

    def _map_delete(self, p, mac, addr):
        key = (mac, addr, p.nw_proto, p.tp_port)
        e = self.map.get(key)
        if e is not None:
            e.refs -= 1
            if e.refs <= 0:
                del self.map[key]

    # -- ports ----------------------------------------------------------------
    def insert(self, odp_port, tp_port, dev_name, type_):
        """Register a tunnel port (tp_port: UDP destination port, 0 for GRE)."""
        nw_proto = nw_proto_for_type(type_)
        if not nw_proto:
            return
        for p in self.ports:
            if p.port == odp_port and p.nw_proto == nw_proto:
                p.ref_cnt += 1
                return
        p = TnlPort(odp_port, tp_port if nw_proto != IPPROTO_GRE else 0,
                    nw_proto, dev_name)
        self.ports.append(p)
        for mac, addrs in self.ipdevs.values():
            for a in addrs:
                self._map_insert(p, mac, a)
        self.seq += 1

    def delete(self, odp_port, type_):
        nw_proto = nw_proto_for_type(type_)
        for p in self.ports:
            if p.port == odp_port and p.nw_proto == nw_proto:
                p.ref_cnt -= 1
                if p.ref_cnt == 0:
                    self.ports.remove(p)
                    for mac, addrs in self.ipdevs.values():
                        for a in addrs:
                            self._map_delete(p, mac, a)
                    self.seq += 1
                return True
        return False

    # -- ip devices -----------------------------------------------------------
    def insert_ipdev(self, name, mac, addrs):
        """name's MAC (int or text) and addresses (ipaddress objects, text or
        mapped ints).  Re-registering a device replaces its addresses."""
        if name in self.ipdevs:
            self.delete_ipdev(name)
        if isinstance(mac, str):
            mac = int(mac.replace(":", ""), 16)
        ints = []
        for a in addrs:
            if isinstance(a, str):
                a = ipaddress.ip_interface(a).ip
            elif hasattr(a, "ip"):
                a = a.ip
            ints.append(a if isinstance(a, int) else mapped(a))
        self.ipdevs[name] = (mac, ints)
        for p in self.ports:
            for a in ints:
                self._map_insert(p, mac, a)
        self.seq += 1

    def delete_ipdev(self, name):
        dev = self.ipdevs.pop(name, None)
        if dev is None:
            return
        mac, addrs = dev
        for p in self.ports:
            for a in addrs:
                self._map_delete(p, mac, a)
        self.seq += 1

    # -- lookup ---------------------------------------------------------------
    def lookup(self, flow):
        """tnl_port_map_lookup(): the odp port to tnl_pop to, or None."""
        g = flow.get
        if g("vlan_tci", 0) or g("nw_frag", 0):
            return None
        dl_type = g("dl_type", 0)
        if dl_type == ETH_TYPE_IP:
            addr = V4_MAPPED_PREFIX | g("nw_dst", 0)
        elif dl_type == ETH_TYPE_IPV6:
            addr = g("ipv6_dst", 0)
        else:
            return None
        proto = g("nw_proto", 0)
        mac = g("dl_dst", 0)
        e = self.map.get((mac, addr, proto, 0))
        if e is None and proto != IPPROTO_GRE:
            e = self.map.get((mac, addr, proto, g("tp_dst", 0)))
        return None if e is None else e.port

    # -- text -----------------------------------------------------------------
    @staticmethod
    def _format_entry(e):
        mac, addr, proto, tp = e.key
        m = ":".join(f"{b:02x}" for b in mac.to_bytes(6, "big"))
        if is_v4_mapped(addr):
            l3 = f"eth_type(0x0800),ipv4(dst={format_mapped(addr)}"
        else:
            l3 = f"eth_type(0x86dd),ipv6(dst={format_mapped(addr)}"
        s = f"{e.dev_name} ({e.port}) : eth(dst={m}),{l3},proto={proto},frag=no)"
        if tp:
            s += f",{'udp' if proto == IPPROTO_UDP else 'tcp'}(dst={tp})"
        return s

    def show(self, verbose=False):
        out = ["Listening ports:\n"]
        if verbose:
            order = {(p.port, p.nw_proto): i for i, p in enumerate(self.ports)}
            entries = sorted(
                self.map.values(),
                key=lambda e: (e.key[3] == 0, not is_v4_mapped(e.key[1]),
                               order.get((e.port, e.key[2]), 0), e.key[0],
                               e.key[1]))
            out += [self._format_entry(e) + "\n" for e in entries]
        else:
            out += [f"{p.dev_name} ({p.port}) ref_cnt={p.ref_cnt}\n"
                    for p in self.ports]
        return "".join(out)


def sync_ipdevs(tp, router, get_mac, get_addrs):
    """Make tp's ip devices the route table's output devices, as OVS
    registers each route's device (ovs-router -> insert_ipdev).  Devices
    without an Ethernet address (lo) are left out, as OVS shows them.
    get_mac(name) -> MAC text/int or None; get_addrs as Router's."""
    wanted = {}
    for e in router.entries():
        name = e.output_bridge
        if name in wanted:
            continue
        mac = get_mac(name)
        if isinstance(mac, str):
            mac = int(mac.replace(":", ""), 16)
        addrs = get_addrs(name)
        if mac and addrs is not None:
            wanted[name] = (mac, addrs)
    for name in [n for n in tp.ipdevs if n not in wanted]:
        tp.delete_ipdev(name)
    for name, (mac, addrs) in wanted.items():
        old = tp.ipdevs.get(name)
        new_ints = [mapped(a.ip if hasattr(a, "ip") else ipaddress.ip_interface(a).ip)
                    for a in addrs]
        if old is None or old != (mac, new_ints):
            tp.insert_ipdev(name, mac, addrs)


def ports_show(tp, args):
    return None, tp.show(bool(args) and args[0].lower() == "-v")


def register_unixctl_commands(server, tp):
    server.register("tnl/ports/show", "-v", 0, 1,
                    lambda conn, args: conn.reply(ports_show(tp, list(args))[1]))
