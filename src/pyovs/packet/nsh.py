"""The Network Service Header (RFC 8300) as OVS reads and writes it.

Header layout (OVS's struct nsh_hdr): a 16-bit word holding version (2
bits, 0), flags (O and U, 2 bits), TTL (6 bits) and length (6 bits, in
4-byte words); MD type (low 4 bits of a byte); next protocol (a byte); the
path header (SPI 24 bits, SI 8 bits); then for MD type 1 four 32-bit
context words, for MD type 2 variable-length TLVs (class 16 bits, type 8
bits, length in bytes 8 bits, value padded to 4 bytes).

Flows hold the header in the members nsh_flags, nsh_ttl, nsh_mdtype,
nsh_np, nsh_spi, nsh_si and nsh_c1..nsh_c4 (the context words only for MD
type 1; as OVS, MD type 2 metadata is not parsed).  The datapath's actions
are pure functions over bytes here: push_nsh() puts a header in front of
the packet (the whole Ethernet frame when the packet is one: next protocol
3), pop_nsh() takes it off, push_eth()/pop_eth() do the same with an
Ethernet header, set_nsh() rewrites the header after an Ethernet header.

Public API:
  NSH_MEMBERS: the flow members, in the key's order.
  extract(data, ofs) -> dict of NSH_MEMBERS, or None if the header is
    short or bad (OVS's parse_nsh()); consumed length in "_len".
  build(fields, md2=b"") -> header bytes (fields: the odp nsh key dict:
    flags, ttl, mdtype, np, spi, si, c1..c4).
  push_nsh(packet, fields, md2=b"") -> bytes; pop_nsh(packet) -> (bytes,
    next protocol) or None.
  push_eth(packet, src, dst, eth_type) -> bytes; pop_eth(frame) ->
    (bytes, Ethertype) or None.
  set_nsh(frame, value, mask) -> bytes: a masked set(nsh(...)) on an
    Ethernet frame carrying NSH (VLAN tags allowed); others unchanged.
  apply(name, arg, data, packet_type) -> (data or None, packet_type): the
    datapath actions in ACTIONS (push_nsh, pop_nsh, push_eth, pop_eth) on a
    packet whose type the caller tracks through the action list (after
    push_nsh it is no Ethernet frame until push_eth).
"""

import struct

ETH_TYPE_NSH = 0x894f
NSH_BASE_LEN = 8
NSH_M_TYPE1, NSH_M_TYPE2 = 1, 2
NSH_M_TYPE1_LEN = 24
#: Next protocols (RFC 8300).
NSH_P_IPV4, NSH_P_IPV6, NSH_P_ETHERNET, NSH_P_NSH = 1, 2, 3, 4

NSH_MEMBERS = ("nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi",
               "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")
_KEY_FIELDS = tuple(m[4:] for m in NSH_MEMBERS)

_base = struct.Struct("!HBBI")
_ctx = struct.Struct("!IIII")
_VLAN_TPIDS = (0x8100, 0x88a8)


def extract(data, ofs):
    """The NSH header at OFS of DATA as flow members, or None."""
    if len(data) - ofs < NSH_BASE_LEN:
        return None
    word, md_type, np, path = _base.unpack_from(data, ofs)
    length = (word & 0x3f) * 4
    if word >> 14 or length > len(data) - ofs:
        return None
    md_type &= 0x0f
    flow = {"nsh_flags": (word >> 12) & 3, "nsh_ttl": (word >> 6) & 0x3f,
            "nsh_mdtype": md_type, "nsh_np": np, "nsh_spi": path >> 8,
            "nsh_si": path & 0xff, "nsh_c1": 0, "nsh_c2": 0, "nsh_c3": 0,
            "nsh_c4": 0}
    if md_type == NSH_M_TYPE1:
        if length != NSH_M_TYPE1_LEN:
            return None
        (flow["nsh_c1"], flow["nsh_c2"], flow["nsh_c3"],
         flow["nsh_c4"]) = _ctx.unpack_from(data, ofs + NSH_BASE_LEN)
    elif md_type == NSH_M_TYPE2 and length < NSH_BASE_LEN:
        return None
    flow["_len"] = length
    return flow


def build(fields, md2=b""):
    """An NSH header for FIELDS (odp nsh key names) with MD2's TLVs."""
    g = fields.get
    md_type = g("mdtype", 0)
    if md_type == NSH_M_TYPE1:
        body = _ctx.pack(g("c1", 0), g("c2", 0), g("c3", 0), g("c4", 0))
    elif md_type == NSH_M_TYPE2:
        body = bytes(md2) + b"\0" * (-len(md2) % 4)
    else:
        body = b""
    length = (NSH_BASE_LEN + len(body)) // 4
    word = (g("flags", 0) & 3) << 12 | (g("ttl", 0) & 0x3f) << 6 | (length & 0x3f)
    path = (g("spi", 0) & 0xffffff) << 8 | g("si", 0) & 0xff
    return _base.pack(word, md_type & 0x0f, g("np", 0) & 0xff, path) + body


def push_nsh(packet, fields, md2=b""):
    return build(fields, md2) + bytes(packet)


def pop_nsh(packet):
    """(the payload, its next protocol) or None if PACKET is no NSH packet."""
    hdr = extract(packet, 0)
    if hdr is None:
        return None
    return bytes(packet[hdr["_len"]:]), hdr["nsh_np"]


def push_eth(packet, src, dst, eth_type):
    return (dst.to_bytes(6, "big") + src.to_bytes(6, "big")
            + eth_type.to_bytes(2, "big") + bytes(packet))


def pop_eth(frame):
    """(the payload after the Ethernet header and its VLAN tags, Ethertype)."""
    ofs = _l3_offset(frame)
    if ofs is None:
        return None
    return bytes(frame[ofs:]), int.from_bytes(frame[ofs - 2:ofs], "big")


def _l3_offset(frame):
    if len(frame) < 14:
        return None
    ofs = 12
    while int.from_bytes(frame[ofs:ofs + 2], "big") in _VLAN_TPIDS:
        ofs += 4
        if len(frame) < ofs + 2:
            return None
    return ofs + 2


def set_nsh(frame, value, mask):
    """Rewrite the masked fields of FRAME's NSH header (mdtype and np are
    never written; the context words only in an MD type 1 header)."""
    ofs = _l3_offset(frame)
    if ofs is None or int.from_bytes(frame[ofs - 2:ofs], "big") != ETH_TYPE_NSH:
        return bytes(frame)
    hdr = extract(frame, ofs)
    if hdr is None:
        return bytes(frame)
    fields = {f: hdr["nsh_" + f] for f in _KEY_FIELDS}
    for f in _KEY_FIELDS:
        m = mask.get(f, 0)
        if f in ("mdtype", "np") or (f[0] == "c" and fields["mdtype"] != 1):
            continue
        fields[f] = (fields[f] & ~m) | (value.get(f, 0) & m)
    new = build(fields)
    if fields["mdtype"] != NSH_M_TYPE1:     # keep MD type 2 metadata as it was
        new = new[:NSH_BASE_LEN]
    old_word = int.from_bytes(frame[ofs:ofs + 2], "big")
    word = (old_word & ~0x3fff) | (int.from_bytes(new[:2], "big") & 0x3fc0) \
        | (old_word & 0x3f)
    out = bytearray(frame)
    out[ofs:ofs + 2] = word.to_bytes(2, "big")
    out[ofs + 4:ofs + len(new)] = new[4:]
    return bytes(out)


# --- the datapath's encap/decap actions, for a batch's packet type ------------

PT_ETH = 0x00000000
PT_NSH = 0x0001894f
#: The packet type after pop_nsh, by next protocol.
_PT_OF_NP = {NSH_P_IPV4: 0x00010800, NSH_P_IPV6: 0x000186dd,
             NSH_P_ETHERNET: PT_ETH, NSH_P_NSH: PT_NSH}


def apply(name, arg, data, packet_type):
    """Run datapath action NAME (push_nsh, pop_nsh, push_eth, pop_eth) on
    DATA, a packet of PACKET_TYPE (ns << 16 | type): (new data or None if
    the action cannot apply and the packet is dropped, new packet type)."""
    if name == "push_nsh":
        return push_nsh(data, arg, arg.get("md2", b"")), PT_NSH
    if name == "pop_nsh":
        popped = pop_nsh(data) if packet_type == PT_NSH else None
        if popped is None or popped[1] not in _PT_OF_NP:
            return None, packet_type
        return popped[0], _PT_OF_NP[popped[1]]
    if name == "push_eth":
        if packet_type >> 16 != 1:
            return None, packet_type
        return push_eth(data, arg[0], arg[1], packet_type & 0xffff), PT_ETH
    if name == "pop_eth":
        popped = pop_eth(data) if packet_type == PT_ETH else None
        if popped is None:
            return None, packet_type
        return popped[0], 1 << 16 | popped[1]
    raise ValueError(f"{name}: not an encap/decap action")


#: The actions apply() runs.
ACTIONS = frozenset(("push_nsh", "pop_nsh", "push_eth", "pop_eth"))
