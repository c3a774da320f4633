"""OVS's hashes of packets and flows, bit for bit (its lib/hash.h murmur
functions in their portable build, as Debian's, and lib/jhash.c): what
the userspace datapath computes (the RSS hash that picks a tunnel's UDP
source port, the hash(sym_l4(N)) action's dp_hash) and what translation
hashes (select groups).

Public API:
  hash_add, hash_add64, hash_finish, hash_int(x, basis), hash_bytes(data,
    basis): the murmur primitives.
  rss_hash(frame, depth=0) -> the packet's RSS hash as dpif-netdev computes
    it (miniflow_hash_5tuple(), then the recirculation depth).
  flow_hash_symmetric_l4(flow, basis); SYMMETRIC_L4_FIELDS;
  flow_hash_symmetric_l3l4(flow, basis) (non-IP: flow_hash_symmetric_l2);
  datapath_hash(data, alg, basis) -> what the datapath's hash(ALG(BASIS))
    action sets as dp_hash (None for an algorithm pyovs does not compute).
"""

import struct

from pyovs.packet.flow import flow_extract
from pyovs.util.json import hash_bytes  # noqa: F401  (OVS's hash_bytes(): one copy)

MASK32 = 0xffffffff


def _rot(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK32


def hash_add(h, data):
    """OVS's hash_add() (murmur3 step)."""
    data &= MASK32
    if data:
        data = (data * 0xcc9e2d51) & MASK32
        data = _rot(data, 15)
        data = (data * 0x1b873593) & MASK32
        h ^= data
    h = _rot(h, 13)
    return (h * 5 + 0xe6546b64) & MASK32


def hash_add64(h, data):
    return hash_add(hash_add(h, data & MASK32), data >> 32)


def hash_finish(h, final):
    h = (h ^ final) & MASK32
    h ^= h >> 16
    h = (h * 0x85ebca6b) & MASK32
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & MASK32
    return h ^ (h >> 16)


def hash_int(x, basis):
    """hash_2words(X, BASIS)."""
    return hash_finish(hash_add(hash_add(x, 0), basis), 8)


def _be32_in_memory(value):
    """A network-order 32-bit field as the host (little-endian) reads it."""
    return int.from_bytes(value.to_bytes(4, "big"), "little")


def _be16_in_memory(value):
    return int.from_bytes(value.to_bytes(2, "big"), "little")


#: The flow members flow_mask_hash_fields(NX_HASH_FIELDS_SYMMETRIC_L4) reads.
SYMMETRIC_L4_FIELDS = ("dl_src", "dl_dst", "dl_type", "vlan_tci", "nw_src",
                       "nw_dst", "ipv6_src", "ipv6_dst", "nw_proto", "tp_src",
                       "tp_dst")


def flow_hash_symmetric_l4(flow, basis):
    """OVS's flow_hash_symmetric_l4(): a jhash of the XORed Ethernet
    addresses, the VLAN VIDs, the Ethertype and, for IP, the XORed
    addresses, the protocol and (TCP, SCTP) the XORed ports."""
    g = flow.get
    eth = (g("dl_src", 0) ^ g("dl_dst", 0)).to_bytes(6, "big")
    vlan = (g("vlan_tci", 0) ^ g("vlan_tci2", 0)) & 0x0fff     # the VIDs
    dl_type = g("dl_type", 0)
    addr = bytes(16)
    ip_proto = tp = 0
    if dl_type in (0x0800, 0x86dd):
        if dl_type == 0x0800:
            addr = (g("nw_src", 0) ^ g("nw_dst", 0)).to_bytes(4, "big") + bytes(12)
        else:
            addr = (g("ipv6_src", 0) ^ g("ipv6_dst", 0)).to_bytes(16, "big")
        ip_proto = g("nw_proto", 0)
        if ip_proto in (6, 132):
            tp = g("tp_src", 0) ^ g("tp_dst", 0)
    # struct { union { be32 ipv4; in6_addr ipv6; }; be16 eth_type, vlan_tci,
    #          tp_port; eth_addr; u8 ip_proto; } -- 29 bytes, padded to 32
    fields = (addr + struct.pack("!HHH", dl_type, vlan, tp) + eth
              + bytes([ip_proto]) + bytes(3))
    return _jhash_bytes(fields, basis)


def _jhash_bytes(data, basis):
    """OVS's jhash_bytes() (Bob Jenkins' lookup3 over little-endian words)."""
    def rot(x, k):
        return ((x << k) | (x >> (32 - k))) & MASK32

    def mix(a, b, c):
        a = (a - c) & MASK32; a ^= rot(c, 4); c = (c + b) & MASK32
        b = (b - a) & MASK32; b ^= rot(a, 6); a = (a + c) & MASK32
        c = (c - b) & MASK32; c ^= rot(b, 8); b = (b + a) & MASK32
        a = (a - c) & MASK32; a ^= rot(c, 16); c = (c + b) & MASK32
        b = (b - a) & MASK32; b ^= rot(a, 19); a = (a + c) & MASK32
        c = (c - b) & MASK32; c ^= rot(b, 4); b = (b + a) & MASK32
        return a, b, c

    def final(a, b, c):
        c ^= b; c = (c - rot(b, 14)) & MASK32
        a ^= c; a = (a - rot(c, 11)) & MASK32
        b ^= a; b = (b - rot(a, 25)) & MASK32
        c ^= b; c = (c - rot(b, 16)) & MASK32
        a ^= c; a = (a - rot(c, 4)) & MASK32
        b ^= a; b = (b - rot(a, 14)) & MASK32
        c ^= b; c = (c - rot(b, 24)) & MASK32
        return c

    n = len(data)
    a = b = c = (0xdeadbeef + n + basis) & MASK32
    ofs = 0
    while n >= 12:
        x, y, z = struct.unpack_from("<III", data, ofs)
        a, b, c = mix((a + x) & MASK32, (b + y) & MASK32, (c + z) & MASK32)
        ofs += 12
        n -= 12
    if n == 0:
        return c
    tail = data[ofs:] + bytes(12 - n)
    x, y, z = struct.unpack("<III", tail)
    return final((a + x) & MASK32, (b + y) & MASK32, (c + z) & MASK32)


def flow_hash_symmetric_l3l4(flow, basis):
    """The datapath's hash(sym_l4(BASIS)) of a packet's flow (OVS's
    flow_hash_symmetric_l3l4() without UDP ports; non-IP packets hash
    their L2 header)."""
    g = flow.get
    h = basis
    dl_type = g("dl_type", 0)
    if dl_type == 0x0800:
        h = hash_add(h, _be32_in_memory(g("nw_src", 0) ^ g("nw_dst", 0)))
    elif dl_type == 0x86dd:
        x = (g("ipv6_src", 0) ^ g("ipv6_dst", 0)).to_bytes(16, "big")
        for (word,) in struct.iter_unpack("<Q", x):
            h = hash_add64(h, word)
    else:
        return flow_hash_symmetric_l2(flow, basis)
    proto = g("nw_proto", 0)
    h = hash_add(h, proto)
    if proto in (6, 132):
        h = hash_add(h, _be16_in_memory(g("tp_src", 0) ^ g("tp_dst", 0)))
    return hash_finish(h, basis)


def flow_hash_symmetric_l2(flow, basis):
    """OVS's flow_hash_symmetric_l2() (the datapath hash of non-IP
    packets): the Ethertype, the XORed VLAN VIDs and Ethernet addresses."""
    g = flow.get
    if g("packet_type", 0) not in (0,):     # not Ethernet
        return 0
    vlan = (g("vlan_tci", 0) ^ g("vlan_tci2", 0)) & 0x0fff
    data = (struct.pack("!HH", g("dl_type", 0), vlan)
            + (g("dl_src", 0) ^ g("dl_dst", 0)).to_bytes(6, "big") + bytes(2))
    h = basis
    for (word,) in struct.iter_unpack("<I", data):
        h = hash_add(h, word)
    return hash_finish(h, basis)


def datapath_hash(data, alg, basis):
    """The dp_hash the datapath's hash(ALG(BASIS)) action gives packet DATA
    (bytes): ALG "sym_l4" as OVS's userspace datapath computes it; None for
    an algorithm pyovs does not compute ("l4")."""
    if alg != "sym_l4":
        return None
    return flow_hash_symmetric_l3l4(flow_extract(data), basis)


_LE32 = struct.Struct("<I").unpack_from
_L4_PROTOS = (6, 17, 132, 1, 58)
_RSS_MEMO = {}


def rss_hash(d, depth=0):
    """The packet's RSS hash as OVS's userspace datapath computes it
    (miniflow_hash_5tuple(): addresses, protocol and ports, as the words
    lie in memory; then the recirculation depth), so the UDP source port
    of a tunnel packet is the one OVS would pick."""
    n = len(d)
    ofs, t = 12, d[12:14] if n >= 14 else b""
    while t in (b"\x81\x00", b"\x88\xa8") and n >= ofs + 6:
        ofs += 4
        t = d[ofs:ofs + 2]
    ofs += 2
    if t == b"\x08\x00" and n >= ofs + 20:
        ihl = (d[ofs] & 0xf) * 4
        frag_later = (d[ofs + 6] & 0x1f) or d[ofs + 7]
        key = (d[ofs + 12:ofs + 20], d[ofs + 9],
               d[ofs + ihl:ofs + ihl + 4] if not frag_later else b"")
        words = 2
    elif t == b"\x86\xdd" and n >= ofs + 40:
        key = (d[ofs + 8:ofs + 40], d[ofs + 6], d[ofs + 40:ofs + 44])
        words = 8
    elif t == b"\x08\x06" and n >= ofs + 28:
        key = (d[ofs + 14:ofs + 18] + d[ofs + 24:ofs + 28], d[ofs + 7], None)
        words = 2
    else:
        key = None
    h = _RSS_MEMO.get(key)
    if h is None:
        h = 0
        if key is not None:
            addrs, proto, ports = key
            for i in range(words):
                h = hash_add(h, _LE32(addrs, 4 * i)[0])
            h = hash_add(h, proto)
            if proto in _L4_PROTOS and ports is not None:
                if proto in (1, 58):     # ICMP type and code, each in a be16
                    ports = bytes((0, ports[0], 0, ports[1])) if len(ports) >= 2 else b""
                h = hash_add(h, _LE32(ports)[0] if len(ports) == 4 else 0)
        h = hash_finish(h, 42)
        if len(_RSS_MEMO) > 4096:
            _RSS_MEMO.clear()
        _RSS_MEMO[key] = h
    return hash_finish(h, depth) if depth else h
