"""The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

``csum(data)`` is the 16-bit one's-complement checksum ready to store in a
header (so a correct header re-summed with it gives 0).  ``csum_add`` keeps a
partial 32-bit sum so that a pseudo-header and a payload can be summed
separately; ``csum_finish`` folds and complements.  ``word_sum`` is the fast
way for long data (a payload): the sum of the 16-bit words modulo 0xffff,
computed on the data as one big integer, since 2**16 == 1 (mod 0xffff).  ``recalc_csum16/32`` patch
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


def _fold_plan(nbits):
    """Shifts (multiples of 16 bits) that halve an NBITS-bit integer down to
    about 1024 bits, each with its mask; a remainder is cheaper there."""
    plan = []
    while nbits > 1024:
        k = ((nbits + 1) >> 1) & ~15
        plan.append((k, (1 << k) - 1))
        nbits = max(k, nbits - k) + 1
    return plan


_PLANS = {}
_MAX_PLANS = 256


def word_sum(data):
    """The sum of DATA's 16-bit big-endian words (odd length zero-padded),
    modulo 0xffff (so 0 stands for both 0 and 0xffff)."""
    n = len(data)
    v = int.from_bytes(data, "big")
    if n & 1:
        v <<= 8
    if n > 128:
        plan = _PLANS.get(n)
        if plan is None:
            plan = _fold_plan(n * 8 + 8)
            if len(_PLANS) < _MAX_PLANS:
                _PLANS[n] = plan
        # Adding the high part to the low part keeps the residue: the
        # high part's weight 2**k is 1 modulo 0xffff.
        for k, mask in plan:
            v = (v >> k) + (v & mask)
    return v % 0xffff


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

