"""Software offload: what a port without offloads needs done before a packet
leaves (OVS's dp-packet-gso and checksum completion in netdev_send).

A packet read from a veth or tap with offloads on may carry a virtio_net_hdr
saying "checksum still to be completed" (NEEDS_CSUM: the 16-bit field at
csum_start + csum_offset holds only the pseudo-header sum) or "this is a
super-packet, cut it into gso_size pieces" (GSO TCPV4/TCPV6).  The system and
internal providers hand both to the kernel as they are; a device that cannot
(dummy, pcap files, a future tunnel encapsulation) calls ``resolve`` to get
ordinary wire frames: each segment with its own IP total length or payload
length, IPv4 identification and header checksum, TCP sequence number and
full TCP checksum; FIN and PSH only on the last segment, CWR only on the
first, as the kernel's TCP segmentation does.

Public API: resolve(data, vnet) -> list of frames (None if the packet cannot
be resolved: a GSO type other than TCP, or headers that do not parse);
complete_csum(data, vnet) -> bytes; segment_tcp(data, vnet, prefix=None) -> list or None;
csum(data, initial=0) -> 16-bit Internet checksum.
"""

import struct

from pyovs.packet.csum import _PLANS, word_sum
from pyovs.netdev.base import (
    VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE,
    VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6)

_VNET = struct.Struct("=BBHHHH")
_IP4_VARY = struct.Struct("!HH")        # IPv4 total length, identification
_SEQ = struct.Struct("!I")
_U16 = struct.Struct("!H")
_VLAN_TPIDS = (0x8100, 0x88a8, 0x9100)
ETH_TYPE_IP = 0x0800
ETH_TYPE_IPV6 = 0x86dd
TCP_FIN, TCP_PSH, TCP_CWR = 0x01, 0x08, 0x80
MAX_SEGMENTS = 65536


def _fold(n, nonzero):
    """One's-complement sum of 16-bit words from the big integer N of the
    words (2**16 == 1 modulo 0xffff)."""
    s = n % 0xffff
    if s == 0 and nonzero:
        s = 0xffff
    return s


def csum_add(data, initial=0):
    """One's-complement sum (not complemented) of DATA plus INITIAL."""
    s = (word_sum(data) + initial) % 0xffff
    if s == 0 and (initial or any(data)):
        s = 0xffff
    return s


def csum(data, initial=0):
    """The Internet checksum (RFC 1071) of DATA, starting from the partial
    sum INITIAL."""
    return ~csum_add(data, initial) & 0xffff


def complete_csum(data, vnet):
    """DATA with the checksum that NEEDS_CSUM left pending filled in."""
    flags, _, _, _, start, offset = _VNET.unpack(vnet)
    if not flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
        return data
    at = start + offset
    if at + 2 > len(data) or start >= len(data):
        return None
    seg = data[start:]
    s = word_sum(seg)
    if s == 0 and any(seg):
        s = 0xffff
    c = ~s & 0xffff
    if c == 0 and offset == 6:         # UDP: a computed 0 is sent as 0xffff
        c = 0xffff
    return b"".join((data[:at], bytes((c >> 8, c & 0xff)), data[at + 2:]))


def _l3_offset(data):
    off, n = 12, len(data)
    while off + 2 <= n:
        ethertype = int.from_bytes(data[off:off + 2], "big")
        if ethertype in _VLAN_TPIDS:
            off += 4
            continue
        return ethertype, off + 2
    return None, None


def segment_tcp(data, vnet, prefix=None):
    """Cut a TCP super-packet into gso_size segments; None if it does not
    parse as one.  PREFIX: a function of a segment's length giving bytes
    to put in front of it (an encapsulation), so each leaves in one copy."""
    _, gso_type, _, gso_size, _, _ = _VNET.unpack(vnet)
    kind = gso_type & ~VIRTIO_NET_HDR_GSO_ECN
    ethertype, l3 = _l3_offset(data)
    if gso_size == 0 or ethertype is None:
        return None
    if kind == VIRTIO_NET_HDR_GSO_TCPV4 and ethertype == ETH_TYPE_IP:
        if l3 + 20 > len(data) or data[l3] >> 4 != 4 or data[l3 + 9] != 6:
            return None
        ip_hlen = (data[l3] & 0x0f) * 4
        v4 = True
    elif kind == VIRTIO_NET_HDR_GSO_TCPV6 and ethertype == ETH_TYPE_IPV6:
        if l3 + 40 > len(data) or data[l3] >> 4 != 6 or data[l3 + 6] != 6:
            return None    # extension headers before TCP are not handled
        ip_hlen = 40
        v4 = False
    else:
        return None
    l4 = l3 + ip_hlen
    if ip_hlen < 20 or l4 + 20 > len(data):
        return None
    tcp_hlen = (data[l4 + 12] >> 4) * 4
    hdr_end = l4 + tcp_hlen
    if tcp_hlen < 20 or hdr_end > len(data):
        return None
    payload = data[hdr_end:]
    if len(payload) // gso_size > MAX_SEGMENTS:
        return None
    if v4:
        ip_id = int.from_bytes(data[l3 + 4:l3 + 6], "big")
        addrs = data[l3 + 12:l3 + 20]
    else:
        addrs = data[l3 + 8:l3 + 40]
    addr_sum = csum_add(addrs)
    seq = int.from_bytes(data[l4 + 4:l4 + 8], "big")
    tcp_flags = data[l4 + 13]
    # One header template; each segment changes only the IP length (and
    # IPv4 identification and header checksum), the sequence number, the
    # flags and the TCP checksum.  The checksums are sums of the template's
    # constant words (computed once, with the changing fields zero) plus
    # the changing ones, so a segment sums only its own payload.
    head = bytearray(data[:hdr_end])
    if v4:
        head[l3 + 2:l3 + 6] = bytes(4)
        head[l3 + 10:l3 + 12] = bytes(2)
        ip_sum = csum_add(head[l3:l4])
    head[l4 + 4:l4 + 8] = bytes(4)
    head[l4 + 13] = 0
    head[l4 + 16:l4 + 18] = bytes(2)
    tcp_sum = csum_add(head[l4:hdr_end]) + addr_sum + 6
    out = []
    append = out.append
    mv = memoryview(payload)        # segments' payloads as views: no copy before the last
    n_chunks = max(1, -(-len(payload) // gso_size))
    last = n_chunks - 1
    head = bytes(head)
    pack_ip4, pack_seq, pack_u16 = _IP4_VARY.pack_into, _SEQ.pack_into, _U16.pack_into
    plans = _PLANS
    for i in range(n_chunks):
        chunk = mv[i * gso_size:(i + 1) * gso_size]
        h = bytearray(head)
        tcp_len = tcp_hlen + len(chunk)
        if v4:
            tot, ident = ip_hlen + tcp_len, (ip_id + i) & 0xffff
            pack_ip4(h, l3 + 2, tot, ident)
            pack_u16(h, l3 + 10, ~_fold(ip_sum + tot + ident, True) & 0xffff)
        else:
            pack_u16(h, l3 + 4, tcp_len)
        sq = (seq + i * gso_size) & 0xffffffff
        f = tcp_flags
        if i != last:
            f &= ~(TCP_FIN | TCP_PSH)
        if i != 0:
            f &= ~TCP_CWR
        pack_seq(h, l4 + 4, sq)
        h[l4 + 13] = f
        # The payload's words as one integer: 2**16 == 1 modulo 0xffff, so
        # its residue is their one's-complement sum (the total is never 0);
        # word_sum, inlined for the common even length.
        n = len(chunk)
        if n & 1 or n not in plans:
            w = word_sum(chunk)
        else:
            w = int.from_bytes(chunk, "big")
            for k, mask in plans[n]:
                w = (w >> k) + (w & mask)
        pack_u16(h, l4 + 16, ~((tcp_sum + (sq >> 16) + (sq & 0xffff) + f + tcp_len + w)
                                % 0xffff or 0xffff) & 0xffff)
        if prefix is None:
            append(b"".join((h, chunk)))
        else:
            append(b"".join((prefix(len(h) + n), h, chunk)))
    return out


def resolve(data, vnet):
    """Ordinary frames for DATA given its virtio_net_hdr VNET (None or 10
    bytes); None if the packet cannot be resolved."""
    if vnet is None:
        return [data]
    if len(vnet) != 10:
        return None
    gso_type = vnet[1] & ~VIRTIO_NET_HDR_GSO_ECN
    if gso_type == VIRTIO_NET_HDR_GSO_NONE:
        done = complete_csum(data, vnet)
        return None if done is None else [done]
    return segment_tcp(data, vnet)
