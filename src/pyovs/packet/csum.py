"""The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

``csum(data)`` is the 16-bit one's-complement checksum ready to store in a
header (so a correct header re-summed with it gives 0).  ``csum_add`` keeps a
partial 32-bit sum so that a pseudo-header and a payload can be summed
separately; ``csum_finish`` folds and complements.  ``recalc_csum16/32`` patch
a stored checksum when one 16/32-bit word changes, as OVS does for set().
"""

import struct

_LITTLE = struct.pack("=H", 1) == b"\x01\x00"
_IPV4_PSEUDO = struct.Struct("!4s4sBBH")


def csum_add(data, partial=0):
    """Add DATA's 16-bit big-endian words to PARTIAL (odd length zero-padded)."""
    if len(data) & 1:
        data = bytes(data) + b"\0"
    # Summing native-order words is fine: the one's-complement sum commutes
    # with byte swapping, so csum_finish swaps once at the end if needed.
    return partial + sum(memoryview(data).cast("H"))


def csum_finish(partial):
    """Fold a partial sum into the stored 16-bit checksum."""
    while partial >> 16:
        partial = (partial & 0xffff) + (partial >> 16)
    value = ~partial & 0xffff
    return ((value & 0xff) << 8 | value >> 8) if _LITTLE else value


def csum(data):
    """The Internet checksum of DATA, as stored in a header (network order int)."""
    return csum_finish(csum_add(data))


def ipv4_pseudo_header(src, dst, proto, length):
    """IPv4 pseudo-header bytes; SRC and DST are 4-byte strings."""
    return _IPV4_PSEUDO.pack(src, dst, 0, proto, length)


def ipv6_pseudo_header(src, dst, proto, length):
    """IPv6 pseudo-header bytes; SRC and DST are 16-byte strings."""
    return src + dst + struct.pack("!IxxxB", length, proto)


def l4_csum(pseudo, segment):
    """Checksum of a TCP/UDP/ICMPv6 SEGMENT (checksum field zeroed) under PSEUDO."""
    return csum_finish(csum_add(segment, csum_add(pseudo)))


def recalc_csum16(old_csum, old_u16, new_u16):
    """RFC 1624 eqn. 3: new checksum after a 16-bit word changes."""
    total = (~old_csum & 0xffff) + (~old_u16 & 0xffff) + new_u16
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def recalc_csum32(old_csum, old_u32, new_u32):
    """New checksum after a 32-bit word (e.g. an IPv4 address) changes."""
    old_csum = recalc_csum16(old_csum, old_u32 >> 16, new_u32 >> 16)
    return recalc_csum16(old_csum, old_u32 & 0xffff, new_u32 & 0xffff)

