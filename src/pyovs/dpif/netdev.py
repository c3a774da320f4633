"""The userspace datapath, as OVS's dpif-netdev.

What it is
----------
A datapath is a set of ports (odp port numbers -> netdevs) and a flow
table of *megaflows*: masked flow keys with datapath actions
(pyovs.odp.actions lists).  It knows nothing of OpenFlow.  Whoever owns it
(ofproto, or a test) answers *upcalls*: when a packet matches no megaflow,
the datapath calls ``upcall(flow, packet)`` and gets back
``(actions, mask)`` (or None: drop this packet, install nothing; or
``(actions, None)``: execute for this packet only, OVS's slow path); it
installs the megaflow, so the next packets of that flow never leave the
datapath, and executes the actions on the packet.  A datapath holds at most
MAX_FLOWS (65536, as dpif-netdev per thread) megaflows; past that, missed
packets are still executed but nothing is installed.

Port 0 is the datapath's local port, named after the datapath as OVS names
it: datapath "ovs-netdev" (type "netdev") has "port 0: ovs-netdev (tap)",
datapath "ovs-dummy" (type "dummy") "port 0: ovs-dummy (dummy-internal)";
an "internal" port is shown as "tap" (netdev) or "dummy-internal" (dummy)
too, as dpif-netdev opens it.
Other ports get the lowest free number from 1, or the one asked for.

The per-packet path
-------------------
``receive(port_no, packets, md=None)`` takes a batch (what a netdev's rx_batch
returned) and for each packet: flow_extract (pyovs.packet.flow) -> the
exact-match cache (dpif/emc.py) on ``tuple(flow.items())`` -> the megaflow
classifier of the input port (dpif/dpcls.py, one Dpcls per in_port as
dpif-netdev keeps one per port) -> on a miss, the upcall.  A frame of the
batch whose bytes that flow_extract reads equal an earlier one's (plain
IPv4 TCP/UDP, ``_flow_bytes``) reuses that one's flow key and answer.  Hits are
grouped by megaflow, so actions run once per (megaflow, sub-batch) and a
port's send_batch gets whole batches.  Statistics are kept per megaflow as
OVS keeps them: packets, bytes, used (ms, the datapath's clock) and the OR
of the TCP flags seen; the packet that caused an upcall is not counted in
the new megaflow (as OVS), but in the datapath's "missed"; a failed upcall
(None) counts as "lost" only, and a frame too short for an Ethernet header
is dropped before the lookup and counted in neither (coverage
datapath_drop_rx_invalid_packet), as dpif-netdev does.

When a megaflow is installed its in_port and recirc_id are forced exact (as
dpif-netdev does), so a megaflow lives in exactly one port's classifier.

Actions
-------
output, push_vlan, pop_vlan, set (plain and masked) of eth, ipv4, ipv6,
tcp, udp (checksums updated incrementally, RFC 1624) and of the metadata
skb_priority/skb_mark, recirc (the packet re-enters the pipeline with
recirc_id set; depth bounded as OVS's MAX_RECIRC_DEPTH 6), userspace (to the
``userspace`` callback, for CONTROLLER), clone, trunc (the next output
sends at most N bytes), check_pkt_len (frames longer than SIZE run
the gt() list, the others the le() list, each as a clone), hash (dp_hash
into the metadata, pyovs.packet.hash; sym_l4 only), push_nsh, pop_nsh,
push_eth, pop_eth and set(nsh) (pyovs.packet.nsh; the batch's packet type
is followed through the list and kept with the metadata across
recirculation), and an empty list (drop).  Anything else is
"not supported": the packet is dropped and counted (``n_unsupported``),
with a rate-limited log line.

Native tunneling (pyovs.tnl): ``tnl_push`` puts the outer header built at
translation time in front of each packet and fixes what varies per
packet -- IPv4 total length and header checksum, IPv6 payload length, UDP
length, the UDP source port (from the inner packet's RSS hash computed as
OVS's datapath does, in the range of tnl/egress_port_range: ``egress``;
so the wire bytes equal OVS's), the UDP or GRE checksum when the
header asks for one -- and the following actions (the underlay bridge's
output) send it.  A TSO super-packet is segmented first (netdev/gso), so
each segment is encapsulated whole (cut and encapsulated in one copy); at
the far end the system port's send merges the popped segments again
(netdev/gro).  ``tnl_pop(N)``: the outer headers of
each packet are parsed (tnl/pop.py) for datapath tunnel port N (a port
whose type is vxlan, gre or geneve), the tunnel metadata becomes flow
metadata (tun_id, tun_src, tun_dst, tun_ipv6_src/dst, tun_tos, tun_ttl,
tun_tp_src, tun_tp_dst, tun_flags; Geneve options raw in tun_geneve) and
the inner packet recirculates with
in_port N; a malformed outer header is dropped and counted
(``n_tnl_pop_errors``, the last reason in ``tnl_pop_error``).  A layer-3
payload (GRE with an IP protocol, VXLAN-GPE) goes on as a layer 3 packet:
its metadata has packet_type (1, Ethertype) and flow extraction starts at
the network header.

TSO super-packets (Packet.vnet) go through whole: output hands the vnet
header to the port, push_vlan/pop_vlan move its offsets; an action that
rewrites L3/L4 headers first resolves the packet into ordinary frames
(netdev/gso.resolve), since a partial checksum cannot be updated in place.

asyncio shell
-------------
``attach(loop)`` registers each port's fileno() with loop.add_reader; a
readable port is drained with rx_batch(32) into receive().  ``detach()``
removes them.  ``run_periodic(now)`` sorts the classifiers' subtables (as
OVS does every second).

Flow table API (dpctl and revalidation)
---------------------------------------
flow_put(flow, mask, actions, create=True, modify=True) -> Megaflow
(raises DpifError errno EEXIST/ENOENT/EINVAL/EFBIG); flow_get(flow, mask) ->
Megaflow or None; flow_del(flow, mask) -> the removed Megaflow (DpifError
ENOENT when none); flow_flush(); flow_dump() -> list of Megaflow;
ufid(mf) -> uuid.UUID; revalidate(callback): callback(mf) returns the
actions the megaflow should have (it is kept, and fixed when they differ)
or None (it is deleted); returns (n_kept, n_fixed, n_deleted);
flow_expire(max_idle_ms, now=None) deletes the megaflows not used (or, if
never used, not created) within MAX_IDLE_MS and returns them, final
statistics included, as OVS's revalidators expire idle flows.

Public API:
  DpifNetdev(name="ovs-netdev", dp_type="netdev", upcall=None,
             userspace=None, local_netdev=None, clock=None)
    .name .dp_type .full_name ("netdev@ovs-netdev") .ports (dict no -> DpPort)
    .n_hit .n_missed .n_lost .n_unsupported .n_tnl_pop_errors
    .egress (tnl.header.EgressPortRange)
    add_port(netdev, port_no=None) -> port_no; del_port(port_no);
    port_by_name(name) -> DpPort or None; receive(port_no, packets);
    execute(packets, actions, in_port=0) (OVS's dpif_execute);
    attach(loop); detach(); run_periodic(); close(); plus the flow table
    API above.
  DpPort: .port_no .name .type .netdev (None for a local port without
    a device).
  DpifError(text, errno).
"""

import errno
import functools
import struct
import sys
import time
import uuid

from pyovs.dpif.dpcls import Dpcls, Megaflow
from pyovs.dpif.emc import Emc
from pyovs.packet import nsh
from pyovs.netdev import gso
from pyovs.netdev.base import Packet, VNET_HDR_LEN
from pyovs.packet.csum import csum, recalc_csum16, recalc_csum32
from pyovs.packet.hash import datapath_hash, rss_hash
from pyovs.packet.flow import flow_extract
from pyovs.tnl import pop as tnl_pop
from pyovs.tnl.header import EgressPortRange
from pyovs.util.vlog import RateLimit, Vlog
from pyovs.vswitchd import coverage

vlog = Vlog("dpif_netdev")
_native_tnl = Vlog("native_tnl")          # OVS's module for tunnel header errors
_native_tnl_rl = RateLimit(60, 5)

MAX_RECIRC_DEPTH = 6
NETDEV_MAX_BURST = 32
MAX_BATCHES_PER_POLL = 8
MAX_FLOWS = 65536
ODPP_LOCAL = 0

_LOCAL_TYPES = {"netdev": "tap", "dummy": "dummy-internal"}
_VLAN_TPIDS = (b"\x81\x00", b"\x88\xa8")


class DpifError(Exception):
    """A datapath operation failure; .errno as OVS's dpif functions return."""

    def __init__(self, text, err=0):
        super().__init__(text)
        self.errno = err


class DpPort:
    """One datapath port."""
    __slots__ = ("port_no", "name", "type", "netdev")

    def __init__(self, port_no, name, type_, netdev):
        self.port_no, self.name, self.type, self.netdev = port_no, name, type_, netdev

    def __repr__(self):
        return "DpPort(%d, %r, %r)" % (self.port_no, self.name, self.type)


class DpifNetdev:
    """A userspace datapath (see the module essay)."""

    def __init__(self, name="ovs-netdev", dp_type="netdev", upcall=None,
                 userspace=None, local_netdev=None, clock=None):
        self.name = name
        self.dp_type = dp_type
        self.upcall = upcall
        self.userspace = userspace
        self._clock = clock or (lambda: int(time.monotonic() * 1000))
        self.ports = {}
        self._cls = {}              # in_port -> Dpcls
        self._ufids = {}            # Megaflow -> UUID
        self._keys = {}             # Megaflow -> (flow as given, packet_type in key)
        self.emc = Emc()
        self.n_hit = self.n_missed = self.n_lost = 0
        self.n_unsupported = 0
        self.n_tnl_pop_errors = 0
        self.tnl_pop_error = None
        self.egress = EgressPortRange()
        self._loop = None
        self._warned = set()
        local_type = getattr(local_netdev, "type", None) or _LOCAL_TYPES.get(dp_type, "tap")
        self.ports[ODPP_LOCAL] = DpPort(ODPP_LOCAL, name, local_type, local_netdev)

    @property
    def full_name(self):
        return "%s@%s" % (self.dp_type, self.name)

    # -- ports ------------------------------------------------------------
    def add_port(self, netdev, port_no=None):
        """Add NETDEV (a pyovs.netdev.Netdev) as PORT_NO (or the lowest free
        number from 1); returns the port number."""
        if any(p.name == netdev.name for p in self.ports.values()):
            raise DpifError("%s: port already in datapath" % netdev.name, errno.EEXIST)
        if port_no is None:
            port_no = 1
            while port_no in self.ports:
                port_no += 1
        elif port_no in self.ports or not 0 < port_no < 0xffff:
            raise DpifError("port %d: already in use or out of range" % port_no,
                            errno.EBUSY)
        type_ = netdev.type
        if type_ == "internal":         # as dpif_netdev_port_open_type()
            type_ = _LOCAL_TYPES.get(self.dp_type, "tap")
        self.ports[port_no] = DpPort(port_no, netdev.name, type_, netdev)
        if self._loop is not None:
            self._add_reader(port_no)
        return port_no

    def del_port(self, port_no):
        """Remove PORT_NO (its megaflows go with it); the netdev is not
        closed (the caller owns it)."""
        if port_no == ODPP_LOCAL or port_no not in self.ports:
            raise DpifError("port %d: no such port" % port_no, errno.ENOENT)
        if self._loop is not None:
            self._remove_reader(port_no)
        del self.ports[port_no]
        cls = self._cls.pop(port_no, None)
        if cls is not None:
            for mf in list(cls):
                self._ufids.pop(mf, None)
                self._keys.pop(mf, None)
            cls.flush()

    def port_by_name(self, name):
        for p in self.ports.values():
            if p.name == name:
                return p
        return None

    # -- asyncio shell ----------------------------------------------------
    def attach(self, loop):
        """Read every port from LOOP (loop.add_reader on fileno())."""
        self._loop = loop
        for no in self.ports:
            self._add_reader(no)

    def detach(self):
        if self._loop is None:
            return
        for no in self.ports:
            self._remove_reader(no)
        self._loop = None

    def _fd(self, port_no):
        dev = self.ports[port_no].netdev
        if dev is None:
            return None
        try:
            return dev.fileno()     # (every netdev has one; None: no rx)
        except OSError:             # a device being torn down
            return None

    def _add_reader(self, port_no):
        fd = self._fd(port_no)
        if fd is not None:
            self._loop.add_reader(fd, self._poll_port, port_no)

    def _remove_reader(self, port_no):
        fd = self._fd(port_no)
        if fd is not None:
            self._loop.remove_reader(fd)

    def _poll_port(self, port_no):
        port = self.ports.get(port_no)
        if port is None or port.netdev is None:
            return
        rx_batch = port.netdev.rx_batch
        # Drain a busy port a few batches at a time (as a PMD's burst loop),
        # then let the other ports have their turn.
        for _ in range(MAX_BATCHES_PER_POLL):
            pkts = rx_batch(NETDEV_MAX_BURST)
            if pkts:
                self.receive(port_no, pkts)
            if len(pkts) < NETDEV_MAX_BURST:
                break

    def run_periodic(self):
        for cls in self._cls.values():
            cls.sort_subtables()

    def close(self):
        self.detach()
        self.flow_flush()

    # -- the per-packet path ----------------------------------------------
    def receive(self, port_no, packets, recirc_id=0, depth=0, md=None):
        """Process PACKETS (Packet objects or bytes) received on PORT_NO;
        MD: metadata members (tunnel metadata, packet_type of a layer 3
        packet) the packets carry."""
        cls = self._cls.get(port_no)
        emc_lookup = self.emc.lookup
        if recirc_id:
            md = dict(md or (), recirc_id=recirc_id)
        # (_flow_bytes reads an Ethernet frame's offsets)
        flow_bytes = _flow_bytes if not md or not md.get("packet_type") else _no_flow_bytes
        groups = {}             # Megaflow -> [packets]
        flags = None            # Megaflow -> TCP flags seen
        misses = None
        seen = {}               # _flow_bytes -> (EMC key, megaflow, from EMC?, TCP flags)
        for pkt in packets:
            if pkt.__class__ is not Packet:
                pkt = Packet(bytes(pkt))
            data = pkt.data
            fb = flow_bytes(data)
            hit = seen.get(fb) if fb is not None else None
            if hit is not None:
                key, mf, in_emc, tcp_flags = hit
                if not in_emc:
                    self.emc.probabilistic_insert(key, mf)
            else:
                if len(data) < 14 and flow_bytes is _flow_bytes:
                    # no Ethernet header: dropped before the lookup
                    coverage.inc("datapath_drop_rx_invalid_packet")
                    continue
                flow = flow_extract(data, port_no, md)
                key = tuple(flow.items())
                mf = emc_lookup(key)
                in_emc = mf is not None
                if mf is None:
                    mf = cls.lookup(flow) if cls is not None else None
                    if mf is None:
                        if misses is None:
                            misses = []
                        misses.append((flow, pkt))
                        continue
                    self.emc.probabilistic_insert(key, mf)
                tcp_flags = flow.get("tcp_flags")
                if fb is not None:
                    seen[fb] = key, mf, in_emc, tcp_flags
            g = groups.get(mf)
            if g is None:
                groups[mf] = [pkt]
            else:
                g.append(pkt)
            if tcp_flags:
                if flags is None:
                    flags = {}
                flags[mf] = flags.get(mf, 0) | tcp_flags
        if groups:
            now = self._clock()
            for mf, pkts in groups.items():
                n = len(pkts)
                self.n_hit += n
                mf.used_by(n, sum([len(p.data) for p in pkts]), now,
                           flags.get(mf, 0) if flags else 0)
                self._execute(pkts, mf.actions, port_no, depth, md)
        if misses:
            for flow, pkt in misses:
                self._handle_miss(port_no, flow, pkt, depth, md)

    def _handle_miss(self, port_no, flow, pkt, depth, md):
        # An earlier miss of this batch may have installed a covering flow.
        cls = self._cls.get(port_no)
        mf = cls.lookup(flow) if cls is not None else None
        if mf is not None:
            self.n_hit += 1
            mf.used_by(1, len(pkt.data), self._clock(), flow.get("tcp_flags", 0))
            self._execute([pkt], mf.actions, port_no, depth, md)
            return
        answer = None
        if self.upcall is not None:
            try:
                answer = self.upcall(flow, pkt)
            except Exception as e:      # the caller's bug must not stop the datapath
                vlog.err("upcall failed: %s", e)
                answer = None
        if answer is None:              # a failed upcall: lost, not missed (as OVS)
            self.n_lost += 1
            return
        self.n_missed += 1
        actions, mask = answer
        if mask is None:                # slow path: this packet only
            self._execute([pkt], actions, port_no, depth, md)
            return
        try:
            mf = self._install(flow, mask, actions)
        except (DpifError, ValueError) as e:
            text = str(e)
            if text not in self._warned:    # once per kind, not per packet
                self._warned.add(text)
                vlog.warn("failed to put megaflow: %s", text)
            mf = None
        self._execute([pkt], actions if mf is None else mf.actions, port_no, depth, md)

    def _install(self, flow, mask, actions):
        mask = dict(mask)
        mask["in_port"] = 0xffffffff
        mask["recirc_id"] = 0xffffffff
        if not mask.get("tcp_flags"):
            flow = dict(flow)
            flow.pop("tcp_flags", None)
        return self.flow_put(flow, mask, actions, create=True, modify=True)

    # -- action execution -------------------------------------------------
    def execute(self, packets, actions, in_port=ODPP_LOCAL):
        """Run ACTIONS on PACKETS (OVS's dpif_execute, for packet-out)."""
        pkts = [p if isinstance(p, Packet) else Packet(bytes(p)) for p in packets]
        self._execute(pkts, actions, in_port, 0)

    def _execute(self, pkts, actions, in_port, depth, md=None):
        """Run ACTIONS on the batch PKTS, whose metadata is MD (kept across
        recirculation, as OVS keeps a packet's metadata)."""
        cutlen = None
        # the batch's packet type (encap/decap change it)
        ptype = md.get("packet_type", nsh.PT_ETH) if md else nsh.PT_ETH
        for i, (name, arg) in enumerate(actions):
            if not pkts:
                return
            if name == "output":
                port = self.ports.get(arg)
                if port is None or port.netdev is None:
                    continue
                out = pkts
                if cutlen is not None:
                    out = [Packet(bytes(f[:cutlen])) for f in _frames(pkts)]
                    cutlen = None
                port.netdev.send_batch(list(out))
            elif name == "push_vlan":
                pkts = [_push_vlan(p, arg[0], arg[1] & ~0x1000) for p in pkts]
            elif name == "pop_vlan":
                pkts = [_pop_vlan(p) for p in pkts]
            elif name == "set":
                pkts = self._set(pkts, arg)
            elif name in nsh.ACTIONS:
                out = []
                for data in _frames(pkts):
                    data, new_type = nsh.apply(name, arg, data, ptype)
                    if data is not None:
                        out.append(Packet(data))
                if out:
                    ptype = new_type
                pkts = out
            elif name == "hash":
                # dp_hash, per packet: the rest of the list runs once for
                # each value (it is in the metadata recirc carries on).
                by_hash = {}
                for p in pkts:
                    h = datapath_hash(p.data, arg[0], arg[1])
                    if h is None:
                        self._unsupported("hash(%s)" % arg[0], 1)
                        continue
                    by_hash.setdefault(h, []).append(p)
                rest = actions[i + 1:]
                for h, group in by_hash.items():
                    self._execute(group, rest, in_port, depth,
                                  dict(_with_type(md, ptype) or (), dp_hash=h))
                return
            elif name == "recirc":
                if depth >= MAX_RECIRC_DEPTH:
                    vlog.warn("packet dropped: recirculation depth exceeded")
                    self.n_lost += len(pkts)
                    return
                self.receive(in_port, pkts, recirc_id=arg, depth=depth + 1,
                             md=_with_type(md, ptype))
                return
            elif name == "clone":
                self._execute(list(pkts), arg, in_port, depth, _with_type(md, ptype))
            elif name == "userspace":
                if self.userspace is not None:
                    umd = _with_type(md, ptype)
                    for p in pkts:
                        try:
                            self.userspace(p, flow_extract(p.data, in_port, umd), arg)
                        except Exception as e:
                            vlog.err("userspace action failed: %s", e)
            elif name == "trunc":
                cutlen = arg if cutlen is None else min(cutlen, arg)
            elif name == "check_pkt_len":
                # (as a clone: what follows sees every frame unchanged)
                size, gt, le = arg
                longer = [p for p in pkts if len(p.data) > size]
                if longer:
                    self._execute(longer, gt, in_port, depth, _with_type(md, ptype))
                if len(longer) < len(pkts):
                    self._execute([p for p in pkts if len(p.data) <= size], le,
                                  in_port, depth, _with_type(md, ptype))
            elif name == "tnl_push":
                pkts = self._tnl_push(pkts, arg)
            elif name == "tnl_pop":
                self._tnl_pop(pkts, arg, depth)
                return
            else:
                self._unsupported(name, len(pkts))
                return

    # -- native tunneling -------------------------------------------------
    def _tnl_push(self, pkts, arg):
        header = arg["header"]
        prep = _PUSH_PREP.get(header) or _push_prep(header)
        src_port = self.egress.src_port if prep[2] == 17 else None
        made = {}               # (frame length, UDP source port) -> outer header
        ports = {}              # _hash_bytes -> UDP source port, for this batch
        out = []
        plain = not prep[3] and src_port is not None
        for p in pkts:
            data = p.data
            if plain and p.vnet is None:
                # The common case inline: frames of one stream share the
                # hash's input bytes, so one source port and one outer header.
                hb = _hash_bytes(data)
                sp = ports.get(hb) if hb is not None else None
                if sp is None:
                    sp = src_port(rss_hash(data))
                    if hb is not None:
                        ports[hb] = sp
                h = made.get((len(header) + len(data), sp))
                if h is None:
                    h = _outer_for(header, prep, sp, made, len(data))
                out.append(Packet(h + data))
                continue
            if p.vnet is not None:
                if not prep[3] and p.is_gso():
                    # Cut and encapsulated in one copy per segment.
                    sp = src_port(rss_hash(data)) if src_port is not None else 0
                    segs = gso.segment_tcp(data, p.vnet, functools.partial(
                        _outer_for, header, prep, sp, made))
                    if segs is not None:
                        out += [Packet(f) for f in segs]
                        continue
                frames = gso.resolve(data, p.vnet)
                if frames is None:
                    self._unsupported("tnl_push of an unresolvable offload", 1)
                    continue
            else:
                frames = (data,)
            # A super-packet's segments share its addresses and ports: one
            # RSS hash, one source port for all of them.
            sp = src_port(rss_hash(data)) if src_port is not None else 0
            for f in frames:
                out.append(Packet(_push_header(header, prep, f, sp, made)))
        return out

    def _tnl_pop(self, pkts, port_no, depth):
        port = self.ports.get(port_no)
        type_ = _TNL_TYPES.get(port.type) if port is not None else None
        if type_ is None:
            self._unsupported("tnl_pop(%d)" % port_no, len(pkts))
            return
        groups = {}                 # metadata items -> (metadata, [inner packets])
        n_bytes = 0
        for p in pkts:
            data = p.data
            if p.vnet is not None:
                data = gso.complete_csum(data, p.vnet) if not p.is_gso() else data
            r = _pop_fast_keyed(data, type_)
            if r is None:
                popped, why = tnl_pop.pop_header(data, type_)
                if popped is None:
                    self.n_tnl_pop_errors += 1
                    self.tnl_pop_error = why
                    coverage.inc("datapath_drop_tunnel_pop_error")
                    if isinstance(why, tnl_pop.Logged):
                        _native_tnl.warn_rl(_native_tnl_rl, "%s", why)
                    continue
                md = _tunnel_md(popped.md)
                if popped.packet_type != tnl_pop.PT_ETH:
                    ns, ns_type = popped.packet_type
                    md["packet_type"] = ns << 16 | ns_type
                r = md, popped.inner_ofs, tuple(md.items())
            md, ofs, key = r
            n_bytes += len(data) - ofs
            g = groups.get(key)
            if g is None:
                groups[key] = g = (md, [])
            g[1].append(Packet(data[ofs:]))
        if port.netdev is not None and hasattr(port.netdev, "count_rx"):
            port.netdev.count_rx(sum(len(g[1]) for g in groups.values()), n_bytes)
        if depth >= MAX_RECIRC_DEPTH:
            self.n_lost += sum(len(g[1]) for g in groups.values())
            return
        for md, inner in groups.values():
            self.receive(port_no, inner, depth=depth + 1, md=md)

    def _unsupported(self, name, n):
        self.n_unsupported += n
        if name not in self._warned:
            self._warned.add(name)
            vlog.warn("%s: datapath action not supported, packets dropped", name)

    def _set(self, pkts, attr):
        name, value, mask = attr
        if name in ("skb_priority", "skb_mark"):
            return pkts         # no kernel below a userspace datapath to read them
        if name not in _SETTERS:
            self._unsupported("set(%s)" % name, len(pkts))
            return []
        setter = _SETTERS[name]
        out = []
        for p in pkts:
            if p.vnet is not None and name != "eth":
                frames = gso.resolve(p.data, p.vnet)
                if frames is None:
                    continue
                for f in frames:
                    out.append(Packet(setter(bytearray(f), value, mask)))
            else:
                out.append(Packet(setter(bytearray(p.data), value, mask), p.vnet))
        return out

    # -- the flow table ---------------------------------------------------
    def _check(self, flow, mask):
        # (A flow for a port not (yet) in the datapath is accepted, as OVS.)
        if mask.get("in_port", 0) != 0xffffffff:
            raise DpifError("in_port must be exact", errno.EINVAL)

    def flow_put(self, flow, mask, actions, create=True, modify=True,
                 packet_type=True):
        """Add or modify the megaflow FLOW/MASK (mask dicts as dpcls's).
        FLOW is kept whole for dumps (OVS dumps the unmasked key);
        PACKET_TYPE False leaves packet_type out of dumps (a flow added
        without it, as dpctl/add-flow)."""
        mask = dict(mask)
        mask.setdefault("recirc_id", 0xffffffff)
        self._check(flow, mask)
        in_port = flow["in_port"]
        cls = self._cls.get(in_port)
        probe = Megaflow(flow, mask, actions)
        old = cls.find(probe.value, probe.mask) if cls is not None else None
        if old is not None:
            if not modify:
                raise DpifError("flow exists", errno.EEXIST)
            old.actions = actions
            return old
        if not create:
            raise DpifError("no such flow", errno.ENOENT)
        if len(self._ufids) >= MAX_FLOWS:
            raise DpifError("datapath flow table full", errno.EFBIG)
        if cls is None:
            self._cls[in_port] = cls = Dpcls()
        cls.insert(probe)
        self._ufids[probe] = uuid.uuid4()
        self._keys[probe] = (dict(flow), packet_type, self._clock())
        return probe

    def flow_get(self, flow, mask):
        mask = dict(mask)
        mask.setdefault("recirc_id", 0xffffffff)
        cls = self._cls.get(flow.get("in_port", 0))
        if cls is None:
            return None
        probe = Megaflow(flow, mask)
        return cls.find(probe.value, probe.mask)

    def flow_del(self, flow, mask):
        mf = self.flow_get(flow, mask)
        if mf is None:
            raise DpifError("no such flow", errno.ENOENT)
        self._remove(mf)
        return mf

    def _remove(self, mf):
        in_port = mf.value.get("in_port", 0)
        cls = self._cls.get(in_port)
        if cls is not None:
            cls.remove(mf)
            if not len(cls):
                del self._cls[in_port]
        self._ufids.pop(mf, None)
        self._keys.pop(mf, None)

    def flow_flush(self):
        for cls in self._cls.values():
            cls.flush()
        self._cls.clear()
        self._ufids.clear()
        self._keys.clear()
        self.emc.flush()

    def flow_dump(self):
        return [mf for no in sorted(self._cls) for mf in self._cls[no]]

    def ufid(self, mf):
        return self._ufids.get(mf)

    def flow_key(self, mf):
        """(flow, packet_type) as the megaflow was put, for dumps."""
        return self._keys.get(mf, (mf.value, True, 0))[:2]

    def flow_expire(self, max_idle_ms, now=None):
        """Delete and return the megaflows idle for more than MAX_IDLE_MS."""
        if now is None:
            now = self._clock()
        gone = [mf for mf in self.flow_dump()
                if now - (mf.used or self._keys.get(mf, (0, 0, 0))[2]) > max_idle_ms]
        for mf in gone:
            self._remove(mf)
        return gone

    def flow_by_ufid(self, ufid):
        for mf, u in self._ufids.items():
            if u == ufid:
                return mf
        return None

    def __len__(self):
        return len(self._ufids)

    def revalidate(self, callback):
        """Ask CALLBACK(mf) for each megaflow's actions: None deletes it,
        other actions replace its own.  Returns (kept, fixed, deleted)."""
        kept = fixed = deleted = 0
        for mf in self.flow_dump():
            actions = callback(mf)
            if actions is None:
                self._remove(mf)
                deleted += 1
            elif actions != mf.actions:
                mf.actions = actions
                fixed += 1
            else:
                kept += 1
        return kept, fixed, deleted


# -- tunnels ----------------------------------------------------------------
_TNL_TYPES = {"vxlan": "vxlan", "gre": "gre", "geneve": "geneve",
              "ip6gre": "gre"}     # port type -> the header it pops (OVS's pop_header)
coverage.inc("datapath_drop_tunnel_pop_error", 0)     # defined, as OVS's
coverage.inc("datapath_drop_rx_invalid_packet", 0)
_TNL_F_KEY = 1 << 3                 # pyovs.odp.tunnel.TNL_F_KEY
#: tnl/pop.py's metadata names -> flow members (pyovs.odp.keys.TUNNEL_MEMBERS)
_TNL_MEMBERS = (("tun_id", "tun_id"), ("src", "tun_src"), ("dst", "tun_dst"),
                ("ipv6_src", "tun_ipv6_src"), ("ipv6_dst", "tun_ipv6_dst"),
                ("tos", "tun_tos"), ("ttl", "tun_ttl"), ("tp_src", "tun_tp_src"),
                ("tp_dst", "tun_tp_dst"), ("flags", "tun_flags"))


_OUTER4 = struct.Struct("!HBBHHHBBHII").unpack_from   # type, vihl, tos, len, id,
#                                                     frag, ttl, proto, csum, src, dst
_UDP_VXLAN = struct.Struct("!HHHHII").unpack_from


def _pop_fast(data, type_):
    """The common case of tnl/pop.py's parsing, inline: an IPv4 outer
    header without options or fragments, VXLAN or Geneve without a UDP
    checksum or options.  -> (metadata, inner offset), or None when the
    general parser must look (it also finds what is wrong)."""
    r = _pop_fast_keyed(data, type_)
    return r and r[:2]


_MD_MEMO = {}       # outer fields -> (metadata, 50, its items): shared, never changed


def _pop_fast_keyed(data, type_):
    """_pop_fast's answer and the metadata's items (a packet of a batch
    with the same outer fields as an earlier one, of any batch, gets the
    same metadata dict)."""
    if type_ == "gre" or len(data) < 50:
        return None
    (etype, vihl, tos, tot_len, _id, frag, ttl, proto, _c, src,
     dst) = _OUTER4(data, 12)
    if (etype != 0x0800 or vihl != 0x45 or proto != 17 or frag & 0x3fff
            or tot_len > len(data) - 14 or tot_len < 36):
        return None
    if int.from_bytes(data[14:34], "big") % 0xffff:   # sums to 0xffff if intact
        return None
    sport, dport, ulen, ucsum, w0, w1 = _UDP_VXLAN(data, 34)
    if ucsum:
        return None
    if type_ == "vxlan":
        if w0 != 0x08000000 or w1 & 0xff:
            return None
    elif w0 != 0x6558 or w1 & 0xff:    # Geneve: version 0, no options, not OAM
        return None
    fields = tos, ttl, src, dst, sport, dport, w1
    r = _MD_MEMO.get(fields)
    if r is None:
        md = {"tun_id": w1 >> 8, "tun_src": src, "tun_dst": dst, "tun_tos": tos,
              "tun_ttl": ttl, "tun_tp_src": sport, "tun_tp_dst": dport,
              "tun_flags": _TNL_F_KEY}
        if not md["tun_id"]:
            del md["tun_id"]
        if not tos:
            del md["tun_tos"]
        if len(_MD_MEMO) > 4096:
            _MD_MEMO.clear()
        r = _MD_MEMO[fields] = md, 50, tuple(md.items())
    return r


def _flow_bytes(d):
    """For the common IPv4 TCP or UDP frame (no VLAN, no IP options, the
    datagram within the frame), the bytes flow_extract reads of it, as one
    bytes object: two such frames of a batch with the same ones have the
    same flow (the batch shares in_port and metadata), so receive()
    extracts and looks up only the first.  None for any other frame."""
    if len(d) < 54 or d[12] != 8 or d[13] or d[14] != 0x45:
        return None
    proto = d[23]
    if proto == 17:
        k = d[:18] + d[20:24] + d[26:38]
    elif proto == 6:
        k = d[:18] + d[20:24] + d[26:38] + d[46:48]
    else:
        return None
    if (d[16] << 8 | d[17]) > len(d) - 14:
        return None
    return k


def _with_type(md, ptype):
    """MD with packet_type PTYPE (Ethernet: none)."""
    if ptype == (md.get("packet_type", 0) if md else 0):
        return md
    md = dict(md or ())
    if ptype:
        md["packet_type"] = ptype
    else:
        md.pop("packet_type", None)
    return md


def _no_flow_bytes(d):
    return None


def _tunnel_md(popped):
    md = {}
    for name, member in _TNL_MEMBERS:
        v = popped.get(name)
        if v:
            md[member] = v
    opts = popped.get("geneve")
    if opts:
        # Geneve options, raw, as one int (a leading 1 byte keeps the
        # length): ofproto maps them to tun_metadata<i> (tnl/tnl_xlate.py).
        raw = b"".join(struct.pack("!HBB", cls, typ, len(data) // 4) + data
                       for cls, typ, data in opts)
        md["tun_geneve"] = int.from_bytes(b"\x01" + raw, "big")
    return md


_PUSH_PREP = {}                     # header -> what _push_header needs of it


def _push_prep(header):
    v4 = header[12:14] == b"\x08\x00"
    if v4:
        l4, proto = 14 + (header[14] & 0xf) * 4, header[23]
        pseudo = bytes(header[26:34])
    else:
        l4, proto, pseudo = 54, header[20], bytes(header[22:54])
    if proto == 17:
        want_csum = bool(header[l4 + 6] or header[l4 + 7])
    else:
        want_csum = bool(header[l4] & 0x80)     # GRE's C bit
    base = int.from_bytes(header[24:26], "big") if v4 else 0
    prep = (v4, l4, proto, want_csum, pseudo, base)
    if len(_PUSH_PREP) > 4096:
        _PUSH_PREP.clear()
    _PUSH_PREP[header] = prep
    return prep


def _outer(header, prep, n, sp):
    """HEADER (tnl_push's) with the lengths for an N-byte frame, the IPv4
    header checksum and UDP source port SP filled in (bytearray)."""
    v4, l4, proto, _, _, base = prep
    h = bytearray(header)
    if v4:
        tot = n - 14
        h[16], h[17] = tot >> 8, tot & 0xff
        c = recalc_csum16(base, 0, tot)
        h[24], h[25] = c >> 8, c & 0xff
    else:
        h[18], h[19] = (n - 54) >> 8, (n - 54) & 0xff
    if proto == 17:
        ulen = n - l4
        h[l4], h[l4 + 1], h[l4 + 4], h[l4 + 5] = sp >> 8, sp & 0xff, ulen >> 8, ulen & 0xff
    return h


def _hash_bytes(d):
    """For an untagged IPv4 frame without options, the bytes rss_hash
    reads (fragment bits, protocol, addresses, ports) as one bytes object;
    None for any other frame."""
    if d[12:15] != b"\x08\x00\x45" or len(d) < 38:
        return None
    return d[20:22] + d[23:24] + d[26:38]


def _outer_for(header, prep, sp, made, inner_len):
    """The outer header (bytes) for an INNER_LEN-byte frame, without an
    outer checksum (MADE: as _push_header's)."""
    n = len(header) + inner_len
    h = made.get((n, sp))
    if h is None:
        h = made[(n, sp)] = bytes(_outer(header, prep, n, sp))
    return h


def _push_header(header, prep, inner, sp, made):
    """HEADER (tnl_push's, PREP what _push_prep knows of it) + INNER with
    lengths and checksums filled in, SP the UDP source port.  Without an
    outer checksum the outer header depends only on the frame's length and
    SP: MADE (a dict the caller keeps for a batch) holds those already
    built, so a frame costs one concatenation."""
    if not prep[3]:
        return _outer_for(header, prep, sp, made, len(inner)) + inner
    n = len(header) + len(inner)
    l4, proto, pseudo = prep[1], prep[2], prep[4]
    h = _outer(header, prep, n, sp)
    if proto == 17:
        ulen = n - l4
        h[l4 + 6] = h[l4 + 7] = 0
        c = csum(_pseudo(pseudo, 17, ulen) + bytes(h[l4:]) + bytes(inner))
        c = c or 0xffff
        h[l4 + 6], h[l4 + 7] = c >> 8, c & 0xff
    else:                                       # GRE with a checksum
        h[l4 + 4] = h[l4 + 5] = 0
        c = csum(bytes(h[l4:]) + bytes(inner))
        h[l4 + 4], h[l4 + 5] = c >> 8, c & 0xff
    h += inner
    return bytes(h)


def _pseudo(addrs, proto, length):
    if len(addrs) == 8:
        return addrs + bytes((0, proto)) + length.to_bytes(2, "big")
    return addrs + length.to_bytes(4, "big") + bytes((0, 0, 0, proto))


# -- packet rewriting -----------------------------------------------------
def _frames(pkts):
    """The ordinary frames of PKTS (super-packets segmented)."""
    for p in pkts:
        if p.vnet is None:
            yield p.data
        else:
            yield from gso.resolve(p.data, p.vnet) or ()



def _vnet_shift(vnet, delta):
    """VNET with hdr_len and csum_start moved by DELTA bytes."""
    if vnet is None or len(vnet) != VNET_HDR_LEN:
        return vnet
    v = bytearray(vnet)
    for ofs in (2, 6):          # hdr_len, csum_start (native u16)
        n = int.from_bytes(v[ofs:ofs + 2], sys.byteorder)
        if n:
            v[ofs:ofs + 2] = max(0, n + delta).to_bytes(2, sys.byteorder)
    return bytes(v)


def _push_vlan(p, tpid, tci):
    d = p.data
    if len(d) < 12:
        return p
    return Packet(bytes(d[:12]) + tpid.to_bytes(2, "big") + tci.to_bytes(2, "big")
                  + bytes(d[12:]), _vnet_shift(p.vnet, 4))


def _pop_vlan(p):
    d = p.data
    if len(d) < 18 or bytes(d[12:14]) not in _VLAN_TPIDS:
        return p
    return Packet(bytes(d[:12]) + bytes(d[16:]), _vnet_shift(p.vnet, -4))


def _merge(old, new, mask, width):
    if mask is None:
        return new & ((1 << width) - 1)
    return (old & ~mask | new & mask) & ((1 << width) - 1)


def _get(value, mask, field):
    return value.get(field, 0), (None if mask is None else mask.get(field, 0))


def _set_eth(d, value, mask):
    if len(d) < 14:
        return bytes(d)
    for field, ofs in (("dst", 0), ("src", 6)):
        v, m = _get(value, mask, field)
        if m == 0:
            continue
        old = int.from_bytes(d[ofs:ofs + 6], "big")
        d[ofs:ofs + 6] = _merge(old, v, m, 48).to_bytes(6, "big")
    return bytes(d)


def _offsets(d):
    ofs = []
    flow = flow_extract(bytes(d), 0, None, ofs)
    return flow, ofs[0], ofs[1]


def _l4_csum_ofs(flow, l4):
    """Offset of the TCP/UDP checksum, or None (UDP without checksum: None)."""
    proto = flow.get("nw_proto")
    if l4 is None or flow.get("nw_frag", 0) & 2:
        return None
    if proto == 6:
        return l4 + 16
    if proto == 17:
        return l4 + 6
    return None


def _fix_l4(d, ofs, old, new, bits):
    """Update the L4 checksum at OFS of frame D (a _Frame) after a BITS-wide
    field went from OLD to NEW."""
    if ofs is None or ofs + 2 > len(d):
        return
    c = int.from_bytes(d[ofs:ofs + 2], "big")
    if c == 0 and d.udp:
        return                  # UDP without a checksum stays so
    if bits == 16:
        c = recalc_csum16(c, old, new)
    else:
        for shift in range(bits - 32, -1, -32):
            c = recalc_csum32(c, old >> shift & 0xffffffff, new >> shift & 0xffffffff)
    if c == 0 and d.udp:
        c = 0xffff
    d[ofs:ofs + 2] = c.to_bytes(2, "big")


class _Frame(bytearray):
    """A bytearray that remembers whether its L4 checksum is UDP's."""
    udp = False


def _set_ipv4(d, value, mask):
    flow, l3, l4 = _offsets(d)
    if flow.get("dl_type") != 0x0800 or l3 is None:
        return bytes(d)
    d = _Frame(d)
    d.udp = flow.get("nw_proto") == 17
    l4c = _l4_csum_ofs(flow, l4)
    ihl_end = l3 + 20
    changed = False
    for field, ofs in (("src", l3 + 12), ("dst", l3 + 16)):
        v, m = _get(value, mask, field)
        if m == 0:
            continue
        old = int.from_bytes(d[ofs:ofs + 4], "big")
        new = _merge(old, v, m, 32)
        if new != old:
            d[ofs:ofs + 4] = new.to_bytes(4, "big")
            _fix_l4(d, l4c, old, new, 32)
            changed = True
    for field, ofs in (("tos", l3 + 1), ("ttl", l3 + 8)):
        v, m = _get(value, mask, field)
        if m == 0:
            continue
        new = _merge(d[ofs], v, m, 8)
        if new != d[ofs]:
            d[ofs] = new
            changed = True
    if changed and ihl_end <= len(d):
        hl = (d[l3] & 0xf) * 4
        d[l3 + 10:l3 + 12] = b"\0\0"
        d[l3 + 10:l3 + 12] = csum(bytes(d[l3:l3 + hl])).to_bytes(2, "big")
    return bytes(d)


def _set_ipv6(d, value, mask):
    flow, l3, l4 = _offsets(d)
    if flow.get("dl_type") != 0x86dd or l3 is None:
        return bytes(d)
    d = _Frame(d)
    d.udp = flow.get("nw_proto") == 17
    l4c = _l4_csum_ofs(flow, l4)
    for field, ofs in (("src", l3 + 8), ("dst", l3 + 24)):
        v, m = _get(value, mask, field)
        if m == 0:
            continue
        old = int.from_bytes(d[ofs:ofs + 16], "big")
        new = _merge(old, v, m, 128)
        if new != old:
            d[ofs:ofs + 16] = new.to_bytes(16, "big")
            _fix_l4(d, l4c, old, new, 128)
    word = int.from_bytes(d[l3:l3 + 4], "big")
    v, m = _get(value, mask, "label")
    if m != 0:
        word = word & ~0xfffff | _merge(word & 0xfffff, v, None if m is None else m & 0xfffff, 20)
    v, m = _get(value, mask, "tclass")
    if m != 0:
        word = word & ~(0xff << 20) | _merge(word >> 20 & 0xff, v, m, 8) << 20
    d[l3:l3 + 4] = word.to_bytes(4, "big")
    v, m = _get(value, mask, "hlimit")
    if m != 0:
        d[l3 + 7] = _merge(d[l3 + 7], v, m, 8)
    return bytes(d)


def _set_ports(proto):
    def setter(d, value, mask):
        flow, l3, l4 = _offsets(d)
        if flow.get("nw_proto") != proto or l4 is None or flow.get("nw_frag", 0) & 2:
            return bytes(d)
        d = _Frame(d)
        d.udp = proto == 17
        l4c = _l4_csum_ofs(flow, l4)
        for field, ofs in (("src", l4), ("dst", l4 + 2)):
            v, m = _get(value, mask, field)
            if m == 0 or ofs + 2 > len(d):
                continue
            old = int.from_bytes(d[ofs:ofs + 2], "big")
            new = _merge(old, v, m, 16)
            if new != old:
                d[ofs:ofs + 2] = new.to_bytes(2, "big")
                _fix_l4(d, l4c, old, new, 16)
        return bytes(d)
    return setter


_SETTERS = {"eth": _set_eth, "ipv4": _set_ipv4, "ipv6": _set_ipv6,
            "tcp": _set_ports(6), "udp": _set_ports(17), "nsh": nsh.set_nsh}
