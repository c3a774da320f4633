"""tnl_pop: strip the outer headers of a tunnel packet, keep the metadata.

The receive half of native tunneling, as OVS's *_pop_header(): the
packet matched a tunnel listener (tnl_ports), so it is Ethernet + IPv4/
IPv6 + UDP/GRE + VXLAN/Geneve/GRE options + the inner packet.  Every
header is checked against the bytes really there; anything wrong gives
(None, reason) so the datapath counts and drops it (and may log the
reason), never an exception:

* IPv4: IHL >= 5 and present, header checksum valid, total length within
  the packet, no options (OVS: "ip options not supported on tunnel
  packets"), not a fragment.  IPv6: header present, payload length
  within the packet;
* UDP: a nonzero checksum must verify (and sets the csum flag);
* VXLAN: flags exactly 0x08000000 and the VNI's low byte zero, after the
  VXLAN-GPE bits are taken out as OVS does (a GPE header is accepted on
  any VXLAN port: OAM dropped, next protocol Ethernet, or IPv4/IPv6/NSH
  as an L3 packet_type, anything else dropped);
* Geneve: version 0, options within the packet, protocol 0x6558;
* GRE: no flag but C, K, S and version 0; a present checksum must
  verify; protocol 0x6558 (Ethernet inner packet) or another ethertype
  (an L3 inner packet: packet_type (1, ethertype)).

The metadata is a dict in pyovs.odp.tunnel's shape (tun_id, src, dst or
ipv6_src/ipv6_dst, tos, ttl, tp_src, tp_dst, geneve [(class, type,
data)], flags with TNL_F_KEY/TNL_F_CSUM/TNL_F_OAM), ready for the
recirculated inner packet's flow.

The reasons OVS logs (its native_tnl module, a rate-limited warning) are
Logged strings with OVS's text; the others OVS drops silently.

Public API: pop_header(data, tnl_type) -> (Popped(md, inner_ofs,
packet_type), None) | (None, reason); Logged (a reason OVS logs).
tnl_type: "vxlan", "geneve", "gre".
"""

import struct
from dataclasses import dataclass

from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_KEY, TNL_F_OAM
from pyovs.packet import headers as h
from pyovs.packet.csum import csum, ipv4_pseudo_header, ipv6_pseudo_header, l4_csum

PT_ETH = (0, 0)
# VXLAN-GPE in the first word of a VXLAN header (OVS's VXLAN_HF_*): the
# version, next-protocol (= GPE) and OAM flags and the next protocol byte.
_VXLAN_HF_GPE, _VXLAN_GPE_OAM = 0x04000000, 0x01000000
_VXLAN_GPE_USED_BITS = 0x30000000 | _VXLAN_HF_GPE | _VXLAN_GPE_OAM | 0xff
_VXLAN_GPE_NP = {1: (1, h.ETH_TYPE_IP), 2: (1, h.ETH_TYPE_IPV6), 3: PT_ETH, 4: (1, 0x894f)}


class Logged(str):
    """A drop reason OVS logs as native_tnl's warning, in OVS's words."""


@dataclass
class Popped:
    md: dict
    inner_ofs: int
    packet_type: tuple = PT_ETH      # (namespace, type): (0, 0) Ethernet


def _ip(data, md):
    """-> (l4 offset, l4 end, proto, pseudo-header maker) or reason."""
    if len(data) < 14:
        return "packet too short for Ethernet"
    dl_type = struct.unpack_from("!H", data, 12)[0]
    ofs = 14
    if dl_type == h.ETH_TYPE_IP:
        if len(data) < ofs + 20:
            return "ip packet too short"
        vihl, tos, tot_len, _id, frag, ttl, proto = struct.unpack_from("!BBHHHBB", data, ofs)
        ihl = (vihl & 0xf) * 4
        if vihl >> 4 != 4:
            return Logged("ipv4 packet has invalid version (%d)" % (vihl >> 4))
        if ihl < 20 or len(data) < ofs + ihl:
            return "ip packet has invalid header length"
        if csum(data[ofs:ofs + ihl]):
            return Logged("ip packet has invalid checksum")
        if tot_len > len(data) - ofs or tot_len < ihl:
            return Logged("ip packet is truncated (IP length %d, actual %d)"
                          % (tot_len, len(data) - ofs))
        if ihl > 20:
            return Logged("ip options not supported on tunnel packets (%d bytes)" % ihl)
        if frag & (h.IP_MORE_FRAGMENTS | h.IP_FRAG_OFF_MASK):
            return "ip packet has fragments"
        src, dst = data[ofs + 12:ofs + 16], data[ofs + 16:ofs + 20]
        md.update(src=int.from_bytes(src, "big"), dst=int.from_bytes(dst, "big"),
                  tos=tos, ttl=ttl)
        return ofs + ihl, ofs + tot_len, proto, \
            lambda p, n: ipv4_pseudo_header(src, dst, p, n)
    if dl_type == h.ETH_TYPE_IPV6:
        if len(data) < ofs + 40:
            return "ipv6 packet too short"
        vtc, plen, proto, hlim = struct.unpack_from("!IHBB", data, ofs)
        if vtc >> 28 != 6:
            return "ipv6 packet has invalid version"
        if plen > len(data) - ofs - 40:
            return "ipv6 packet is truncated"
        src, dst = data[ofs + 8:ofs + 24], data[ofs + 24:ofs + 40]
        md.update(ipv6_src=int.from_bytes(src, "big"), ipv6_dst=int.from_bytes(dst, "big"),
                  tos=(vtc >> 20) & 0xff, ttl=hlim)
        return ofs + 40, ofs + 40 + plen, proto, \
            lambda p, n: ipv6_pseudo_header(src, dst, p, n)
    return "not an IP packet"


def pop_header(data, tnl_type):
    data = bytes(data)
    md = {"flags": 0}
    r = _ip(data, md)
    if isinstance(r, str):
        return None, r
    ofs, end, proto, pseudo = r
    if tnl_type in ("vxlan", "geneve"):
        if proto != h.IPPROTO_UDP:
            return None, "not a UDP packet"
        if tnl_type == "geneve" and end - ofs < 16:
            return None, Logged("geneve packet too small: min header=16 packet size=%d"
                                % (end - ofs))
        if end - ofs < 8:
            return None, "udp packet too short"
        sport, dport, ulen, ucsum = struct.unpack_from("!HHHH", data, ofs)
        if ucsum:
            seg = bytearray(data[ofs:end])
            seg[6:8] = b"\0\0"
            want = l4_csum(pseudo(h.IPPROTO_UDP, len(seg)), seg) or 0xffff
            if want != ucsum:
                return None, "udp packet has invalid checksum"
            md["flags"] |= TNL_F_CSUM
        md.update(tp_src=sport, tp_dst=dport)
        ofs += 8
        if tnl_type == "vxlan":
            if end - ofs < 8:
                return None, "vxlan packet too short"
            flags, vni = struct.unpack_from("!II", data, ofs)
            pt = PT_ETH
            if flags & _VXLAN_HF_GPE:
                if flags & _VXLAN_GPE_OAM or (flags & 0xff) not in _VXLAN_GPE_NP:
                    return None, "invalid vxlan flags=%#x vni=%#x" % (flags, vni)
                pt = _VXLAN_GPE_NP[flags & 0xff]
                flags &= ~_VXLAN_GPE_USED_BITS
            if flags != h.VXLAN_FLAGS or vni & 0xff:
                return None, Logged("invalid vxlan flags=%#x vni=%#x" % (flags, vni))
            md["tun_id"] = vni >> 8
            md["flags"] |= TNL_F_KEY
            return Popped(md, ofs + 8, pt), None
        ver_opt, gflags, gproto, vni = h.GENEVE_HEADER.unpack_from(data, ofs)
        opt_len = (ver_opt & 0x3f) * 4
        if ofs + 8 + opt_len > end:
            return None, Logged("geneve packet too small: header len=%d packet size=%d"
                                % (ofs + 8 + opt_len, len(data)))
        if ver_opt >> 6:
            return None, Logged("unknown geneve version: %d" % (ver_opt >> 6))
        if gproto != h.ETH_TYPE_TEB:
            return None, Logged("unknown geneve encapsulated protocol: %#x" % gproto)
        opts, o, oend = [], ofs + 8, ofs + 8 + opt_len
        while o < oend:
            if oend - o < 4:
                return None, "geneve option truncated"
            cls, typ, ln = h.GENEVE_OPT_HEADER.unpack_from(data, o)
            dlen = (ln & 0x1f) * 4
            if o + 4 + dlen > oend:
                return None, "geneve option truncated"
            opts.append((cls, typ, data[o + 4:o + 4 + dlen]))
            o += 4 + dlen
        if gflags & h.GENEVE_OAM:
            md["flags"] |= TNL_F_OAM
        md["tun_id"] = vni >> 8
        md["flags"] |= TNL_F_KEY
        if opts:
            md["geneve"] = opts
        return Popped(md, oend), None
    if tnl_type == "gre":
        if proto != h.IPPROTO_GRE:
            return None, "not a GRE packet"
        if end - ofs < 4:
            return None, "gre packet too short"
        gflags, gproto = struct.unpack_from("!HH", data, ofs)
        if gflags & ~(h.GRE_CSUM | h.GRE_KEY | h.GRE_SEQ):
            return None, "gre packet has unsupported flags %#x" % gflags
        hlen = 4 + 4 * bin(gflags).count("1")
        if end - ofs < hlen:
            return None, "gre packet too short"
        o = ofs + 4
        if gflags & h.GRE_CSUM:
            if csum(data[ofs:end]):
                return None, "gre packet has invalid checksum"
            md["flags"] |= TNL_F_CSUM
            o += 4
        if gflags & h.GRE_KEY:
            md["tun_id"] = struct.unpack_from("!I", data, o)[0]
            md["flags"] |= TNL_F_KEY
            o += 4
        pt = PT_ETH if gproto == h.ETH_TYPE_TEB else (1, gproto)
        return Popped(md, ofs + hlen, pt), None
    return None, f"{tnl_type}: tunnel type not supported"
