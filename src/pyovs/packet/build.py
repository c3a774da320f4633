"""Packet builders for tests and for packets the switch itself sends.

Addresses are given as text ("10.0.0.1", "2001::1", "50:54:00:00:00:01") or
bytes; every builder fills in lengths and checksums.  flow_compose() builds a
packet from a flow dict as OVS does for ``netdev-dummy/receive PORT FLOW``.

Public API: mac, ip4, ip6, eth, ipv4, ipv6, udp, tcp, icmp, icmpv6,
arp_packet, icmp_packet, udp_packet, tcp_packet, nd_ns_packet,
flow_compose(flow, l7=None, l7_len=64)."""

import socket
import struct

from . import headers as h
from .csum import csum, ipv4_pseudo_header, ipv6_pseudo_header, l4_csum


def mac(addr):
    """6-byte MAC from "aa:bb:cc:dd:ee:ff" (or bytes, returned as is)."""
    if isinstance(addr, (bytes, bytearray)):
        return bytes(addr)
    parts = addr.split(":")
    if len(parts) != 6:
        raise ValueError(f"{addr}: invalid Ethernet address")
    return bytes(int(p, 16) for p in parts)


def ip4(addr):
    return bytes(addr) if isinstance(addr, (bytes, bytearray)) else socket.inet_aton(addr)


def ip6(addr):
    return bytes(addr) if isinstance(addr, (bytes, bytearray)) else socket.inet_pton(
        socket.AF_INET6, addr)


def eth(dst, src, eth_type, payload=b"", vlans=()):
    """Ethernet frame; VLANS is a sequence of (tpid, tci) outermost first."""
    out = mac(dst) + mac(src)
    for tpid, tci in vlans:
        out += struct.pack("!HH", tpid, tci & ~h.VLAN_CFI & 0xffff)
    return out + struct.pack("!H", eth_type) + payload


def ipv4(src, dst, proto, payload=b"", tos=0, ttl=64, ident=0, frag_off=h.IP_DONT_FRAGMENT):
    """IPv4 datagram with a correct header checksum."""
    hdr = bytearray(h.IPV4_HEADER.pack(0x45, tos, h.IP_HEADER_LEN + len(payload), ident,
                                       frag_off, ttl, proto, 0, ip4(src), ip4(dst)))
    struct.pack_into("!H", hdr, 10, csum(hdr))
    return bytes(hdr) + payload


def ipv6(src, dst, proto, payload=b"", tclass=0, label=0, hlimit=64):
    return h.IPV6_HEADER.pack(6 << 28 | tclass << 20 | label, len(payload), proto, hlimit,
                              ip6(src), ip6(dst)) + payload


def _with_l4_csum(segment, csum_ofs, pseudo):
    seg = bytearray(segment)
    value = l4_csum(pseudo, seg)
    struct.pack_into("!H", seg, csum_ofs, value)
    return bytes(seg)


def udp(src_ip, dst_ip, sport, dport, payload=b""):
    """UDP segment with checksum (IPv4 or IPv6 by the address form)."""
    length = h.UDP_HEADER_LEN + len(payload)
    seg = h.UDP_HEADER.pack(sport, dport, length, 0) + payload
    seg = _with_l4_csum(seg, 6, _pseudo(src_ip, dst_ip, h.IPPROTO_UDP, length))
    if seg[6:8] == b"\0\0":
        seg = seg[:6] + b"\xff\xff" + seg[8:]
    return seg


def tcp(src_ip, dst_ip, sport, dport, flags=h.TCP_SYN, payload=b"", seq=0, ack=0, window=65535):
    seg = h.TCP_HEADER.pack(sport, dport, seq, ack, 5 << 12 | flags, window, 0, 0) + payload
    return _with_l4_csum(seg, 16, _pseudo(src_ip, dst_ip, h.IPPROTO_TCP, len(seg)))


def icmp(icmp_type=h.ICMP4_ECHO_REQUEST, code=0, ident=0, seq=0, payload=b""):
    msg = bytearray(h.ICMP_HEADER.pack(icmp_type, code, 0, ident, seq) + payload)
    struct.pack_into("!H", msg, 2, csum(msg))
    return bytes(msg)


def icmpv6(src_ip, dst_ip, icmp_type, code=0, body=b""):
    msg = h.ICMP6_HEADER.pack(icmp_type, code, 0) + body
    return _with_l4_csum(msg, 2, _pseudo(src_ip, dst_ip, h.IPPROTO_ICMPV6, len(msg)))


def _pseudo(src_ip, dst_ip, proto, length):
    if (isinstance(src_ip, str) and ":" in src_ip) or len(src_ip) == 16:
        return ipv6_pseudo_header(ip6(src_ip), ip6(dst_ip), proto, length)
    return ipv4_pseudo_header(ip4(src_ip), ip4(dst_ip), proto, length)


# --- whole frames ---------------------------------------------------------------------

def arp_packet(op, sha, spa, tha, tpa, eth_src=None, eth_dst=None):
    """An Ethernet ARP frame (request: OP=1, broadcast by default)."""
    body = h.ARP_ETH_HEADER.pack(1, h.ETH_TYPE_IP, 6, 4, op, mac(sha), ip4(spa),
                                 mac(tha), ip4(tpa))
    if eth_dst is None:
        eth_dst = b"\xff" * 6 if op == h.ARP_OP_REQUEST else tha
    return eth(eth_dst, eth_src or sha, h.ETH_TYPE_ARP, body)


def icmp_packet(eth_src, eth_dst, ip_src, ip_dst, icmp_type=8, code=0, ttl=64, payload=b"",
                vlans=()):
    msg = icmp(icmp_type, code, payload=payload)
    return eth(eth_dst, eth_src, h.ETH_TYPE_IP,
               ipv4(ip_src, ip_dst, h.IPPROTO_ICMP, msg, ttl=ttl), vlans)


def udp_packet(eth_src, eth_dst, ip_src, ip_dst, sport, dport, payload=b"", vlans=(), **ip_kw):
    if ":" in ip_src:
        return eth(eth_dst, eth_src, h.ETH_TYPE_IPV6,
                   ipv6(ip_src, ip_dst, h.IPPROTO_UDP, udp(ip_src, ip_dst, sport, dport, payload),
                        **ip_kw), vlans)
    return eth(eth_dst, eth_src, h.ETH_TYPE_IP,
               ipv4(ip_src, ip_dst, h.IPPROTO_UDP, udp(ip_src, ip_dst, sport, dport, payload),
                    **ip_kw), vlans)


def tcp_packet(eth_src, eth_dst, ip_src, ip_dst, sport, dport, flags=h.TCP_SYN, payload=b"",
               vlans=(), **ip_kw):
    seg = tcp(ip_src, ip_dst, sport, dport, flags, payload)
    if ":" in ip_src:
        return eth(eth_dst, eth_src, h.ETH_TYPE_IPV6,
                   ipv6(ip_src, ip_dst, h.IPPROTO_TCP, seg, **ip_kw), vlans)
    return eth(eth_dst, eth_src, h.ETH_TYPE_IP,
               ipv4(ip_src, ip_dst, h.IPPROTO_TCP, seg, **ip_kw), vlans)


def nd_ns_packet(eth_src, ip_src, target, eth_dst=None, ip_dst=None, sll=None, hlimit=255):
    """An IPv6 neighbor solicitation for TARGET (to its solicited-node group)."""
    tgt = ip6(target)
    if ip_dst is None:
        ip_dst = b"\xff\x02" + bytes(9) + b"\x01\xff" + tgt[13:]
    if eth_dst is None:
        eth_dst = b"\x33\x33" + ip6(ip_dst)[12:]
    body = struct.pack("!I", 0) + tgt
    if sll is not False:
        body += struct.pack("!BB", h.ND_OPT_SOURCE_LINKADDR, 1) + mac(sll or eth_src)
    msg = icmpv6(ip_src, ip_dst, h.ND_NEIGHBOR_SOLICIT, 0, body)
    return eth(eth_dst, eth_src, h.ETH_TYPE_IPV6,
               ipv6(ip_src, ip_dst, h.IPPROTO_ICMPV6, msg, hlimit=hlimit))


# --- packets from flows --------------------------------------------------------------------------

def _payload(l7, l7_len):
    if l7 is not None:
        return bytes(l7)
    return bytes(i & 0xff for i in range(l7_len))


def flow_compose(flow, l7=None, l7_len=64, packet_len=None):
    """A packet with FLOW's headers, as OVS's flow_compose() builds one.

    FLOW is a flow dict (pyovs.packet.flow's members, missing ones 0).  The
    payload is L7, or L7_LEN bytes 0, 1, 2, ... (OVS's
    ``netdev-dummy/receive PORT FLOW`` uses 64); it is added only where OVS
    adds one (UDP, TCP without SYN/FIN/RST, ICMP echo, ICMPv6 other than ND).
    Checksums are filled in (SCTP's is left 0, as OVS leaves it).

    With PACKET_LEN (``netdev-dummy/receive ... --len N``) the packet is built
    without payload and padded with zeros to that length, lengths and
    checksums fixed up as OVS's packet_expand() does (including its UDP
    length, which counts the padding twice); None if the headers alone are
    longer.  (netdev-dummy/receive itself refuses --len below 60: "too small
    packet len".)"""
    if packet_len is not None:
        return _compose_expanded(flow, packet_len)
    g = flow.get
    dl_type = g("dl_type", 0)
    out = bytearray(g("dl_dst", 0).to_bytes(6, "big") + g("dl_src", 0).to_bytes(6, "big"))
    if dl_type == h.FLOW_DL_TYPE_NONE:
        return bytes(out + struct.pack("!H", len(out) + 2))
    for tpid_member, tci_member in (("vlan_tpid", "vlan_tci"), ("vlan_tpid2", "vlan_tci2")):
        tci = g(tci_member, 0)
        if tci & h.VLAN_CFI:
            out += struct.pack("!HH", g(tpid_member, 0) or h.ETH_TYPE_VLAN_8021Q,
                               tci & ~h.VLAN_CFI & 0xffff)
    out += struct.pack("!H", dl_type)
    if dl_type == h.ETH_TYPE_IP:
        src, dst = struct.pack("!I", g("nw_src", 0)), struct.pack("!I", g("nw_dst", 0))
        frag_off = 0
        if g("nw_frag", 0) & h.FLOW_NW_FRAG_ANY:
            frag_off = h.IP_MORE_FRAGMENTS
            if g("nw_frag", 0) & h.FLOW_NW_FRAG_LATER:
                frag_off |= 100
        l4 = _compose_l4(flow, l7, l7_len, src, dst, False)
        ip = bytearray(h.IPV4_HEADER.pack(0x45, g("nw_tos", 0), h.IP_HEADER_LEN + len(l4), 0,
                                          frag_off, g("nw_ttl", 0), g("nw_proto", 0), 0, src, dst))
        struct.pack_into("!H", ip, 10, csum(ip))
        out += ip + l4
    elif dl_type == h.ETH_TYPE_IPV6:
        src = g("ipv6_src", 0).to_bytes(16, "big")
        dst = g("ipv6_dst", 0).to_bytes(16, "big")
        l4 = _compose_l4(flow, l7, l7_len, src, dst, True)
        out += h.IPV6_HEADER.pack(6 << 28 | g("nw_tos", 0) << 20 | g("ipv6_label", 0) & 0xfffff,
                                  len(l4), g("nw_proto", 0), g("nw_ttl", 0), src, dst) + l4
    elif dl_type in (h.ETH_TYPE_ARP, h.ETH_TYPE_RARP):
        op = g("nw_proto", 0)
        if op in (h.ARP_OP_REQUEST, h.ARP_OP_REPLY):
            out += h.ARP_ETH_HEADER.pack(
                1, h.ETH_TYPE_IP, 6, 4, op, g("arp_sha", 0).to_bytes(6, "big"),
                struct.pack("!I", g("nw_src", 0)), g("arp_tha", 0).to_bytes(6, "big"),
                struct.pack("!I", g("nw_dst", 0)))
        else:
            out += h.ARP_ETH_HEADER.pack(1, h.ETH_TYPE_IP, 6, 4, op, bytes(6), bytes(4),
                                         bytes(6), bytes(4))
    return bytes(out)


def _compose_l4(flow, l7, l7_len, src, dst, ipv6):
    g = flow.get
    if g("nw_frag", 0) & h.FLOW_NW_FRAG_LATER:
        return b""
    proto = g("nw_proto", 0)
    pseudo = (ipv6_pseudo_header if ipv6 else ipv4_pseudo_header)
    if proto == h.IPPROTO_TCP:
        flags = g("tcp_flags", 0)
        body = b"" if flags & (h.TCP_SYN | h.TCP_FIN | h.TCP_RST) else _payload(l7, l7_len)
        seg = h.TCP_HEADER.pack(g("tp_src", 0), g("tp_dst", 0), 0, 0, 5 << 12 | flags,
                                0, 0, 0) + body
        return _with_l4_csum(seg, 16, pseudo(src, dst, proto, len(seg)))
    if proto == h.IPPROTO_UDP:
        body = _payload(l7, l7_len)
        seg = h.UDP_HEADER.pack(g("tp_src", 0), g("tp_dst", 0), 8 + len(body), 0) + body
        seg = _with_l4_csum(seg, 6, pseudo(src, dst, proto, len(seg)))
        if seg[6:8] == b"\0\0":
            seg = seg[:6] + b"\xff\xff" + seg[8:]
        return seg
    if proto == h.IPPROTO_SCTP:
        return h.SCTP_HEADER.pack(g("tp_src", 0), g("tp_dst", 0), 0, 0)
    if proto == h.IPPROTO_ICMP and not ipv6:
        icmp_type, code = g("tp_src", 0) & 0xff, g("tp_dst", 0) & 0xff
        body = b""
        if icmp_type in (h.ICMP4_ECHO_REQUEST, h.ICMP4_ECHO_REPLY) and code == 0:
            body = _payload(l7, l7_len)
        msg = bytearray(h.ICMP_HEADER.pack(icmp_type, code, 0, 0, 0) + body)
        struct.pack_into("!H", msg, 2, csum(msg))
        return bytes(msg)
    if proto == h.IPPROTO_ICMPV6 and ipv6:
        icmp_type, code = g("tp_src", 0) & 0xff, g("tp_dst", 0) & 0xff
        msg = h.ICMP6_HEADER.pack(icmp_type, code, 0) + struct.pack("!I", g("nd_reserved", 0))
        if code == 0 and icmp_type in (h.ND_NEIGHBOR_SOLICIT, h.ND_NEIGHBOR_ADVERT):
            msg += g("nd_target", 0).to_bytes(16, "big")
            if g("arp_sha", 0):
                msg += struct.pack("!BB", h.ND_OPT_SOURCE_LINKADDR, 1) + \
                    g("arp_sha", 0).to_bytes(6, "big")
            if g("arp_tha", 0):
                msg += struct.pack("!BB", h.ND_OPT_TARGET_LINKADDR, 1) + \
                    g("arp_tha", 0).to_bytes(6, "big")
        else:
            msg += _payload(l7, l7_len)
        return _with_l4_csum(msg, 2, pseudo(src, dst, proto, len(msg)))
    return b""


def _compose_expanded(flow, packet_len):
    g = flow.get
    pkt = flow_compose(flow, l7_len=0)
    if len(pkt) > packet_len:
        return None
    extra = packet_len - len(pkt)
    if not extra:
        return pkt
    pkt = bytearray(pkt + bytes(extra))
    dl_type = g("dl_type", 0)
    if dl_type == h.FLOW_DL_TYPE_NONE:
        struct.pack_into("!H", pkt, 12, len(pkt))
        return bytes(pkt)
    if dl_type not in (h.ETH_TYPE_IP, h.ETH_TYPE_IPV6):
        return bytes(pkt)
    l3 = h.ETH_HEADER_LEN + 4 * sum(1 for m in ("vlan_tci", "vlan_tci2")
                                     if g(m, 0) & h.VLAN_CFI)
    if dl_type == h.ETH_TYPE_IP:
        l4 = l3 + h.IP_HEADER_LEN
        struct.pack_into("!H", pkt, l3 + 2, len(pkt) - l3)
        struct.pack_into("!H", pkt, l3 + 10, 0)
        struct.pack_into("!H", pkt, l3 + 10, csum(pkt[l3:l4]))
        pseudo = ipv4_pseudo_header
        src, dst = bytes(pkt[l3 + 12:l3 + 16]), bytes(pkt[l3 + 16:l3 + 20])
    else:
        l4 = l3 + h.IPV6_HEADER_LEN
        struct.pack_into("!H", pkt, l3 + 4, len(pkt) - l4)
        pseudo = ipv6_pseudo_header
        src, dst = bytes(pkt[l3 + 8:l3 + 24]), bytes(pkt[l3 + 24:l3 + 40])
    l4_len = len(pkt) - l4
    if g("nw_frag", 0) & h.FLOW_NW_FRAG_LATER:
        return bytes(pkt)
    proto = g("nw_proto", 0)
    if proto == h.IPPROTO_TCP:
        struct.pack_into("!H", pkt, l4 + 16, 0)
        struct.pack_into("!H", pkt, l4 + 16, l4_csum(pseudo(src, dst, proto, l4_len), pkt[l4:]))
    elif proto == h.IPPROTO_UDP:
        struct.pack_into("!HH", pkt, l4 + 4, (l4_len + extra) & 0xffff, 0)
        value = l4_csum(pseudo(src, dst, proto, l4_len), pkt[l4:]) or 0xffff
        struct.pack_into("!H", pkt, l4 + 6, value)
    elif proto == h.IPPROTO_ICMP and dl_type == h.ETH_TYPE_IP:
        struct.pack_into("!H", pkt, l4 + 2, 0)
        struct.pack_into("!H", pkt, l4 + 2, csum(pkt[l4:]))
    elif proto == h.IPPROTO_ICMPV6 and dl_type == h.ETH_TYPE_IPV6:
        struct.pack_into("!H", pkt, l4 + 2, 0)
        struct.pack_into("!H", pkt, l4 + 2, l4_csum(pseudo(src, dst, proto, l4_len), pkt[l4:]))
    return bytes(pkt)
