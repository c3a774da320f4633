"""OpenFlow 1.1's standard match (struct ofp11_match, 88 bytes).

OpenFlow 1.1 is the one version with a fixed match other than 1.0's: a
wildcard bitmap for the fields that have no mask, and *inverted* masks (a 1
bit means "don't care") for the Ethernet and IPv4 addresses and metadata.
The encoder and decoder follow OVS's ofputil_match_to_ofp11_match() and
ofputil_match_from_ofp11_match(): what the decoder refuses it refuses with
OVS's error (OFPBMC_BAD_LEN, _BAD_TYPE, _BAD_VALUE, _BAD_FIELD), and the
encoder writes exactly the bytes OVS writes.

Public API:
  OFPMT11_STANDARD_LENGTH (88)
  put_ofp11_std_match(match) -> 88 bytes
  pull_ofp11_std_match(data) -> (Match, 88); DecodeError on bad input
"""

import struct

from . import fields as F
from .errors import DecodeError, BAD_MATCH
from .match import Match, VLAN_CFI, VLAN_VID_MASK, VLAN_PCP_MASK
from .ports import to_ofp11, from_ofp11

OFPMT11_STANDARD, OFPMT11_STANDARD_LENGTH = 0, 88
OFPFW11_IN_PORT, OFPFW11_DL_VLAN, OFPFW11_DL_VLAN_PCP = 1 << 0, 1 << 1, 1 << 2
OFPFW11_DL_TYPE, OFPFW11_NW_TOS, OFPFW11_NW_PROTO = 1 << 3, 1 << 4, 1 << 5
OFPFW11_TP_SRC, OFPFW11_TP_DST = 1 << 6, 1 << 7
OFPFW11_MPLS_LABEL, OFPFW11_MPLS_TC = 1 << 8, 1 << 9
OFPFW11_TP_ALL = OFPFW11_TP_SRC | OFPFW11_TP_DST
OFPVID11_ANY, OFPVID11_NONE = 0xfffe, 0xffff
IP_DSCP_MASK = 0xfc
_LAYOUT = struct.Struct("!HHII6s6s6s6sHBxHBBIIIIHHIB3xQQ")
_ONES48, _ONES32, _ONES64 = (1 << 48) - 1, (1 << 32) - 1, (1 << 64) - 1
_MPLS_TYPES = (0x8847, 0x8848)

# OpenFlow 1.1 errors, as OVS names them (type 4, OFPET_BAD_MATCH).
_BAD_TYPE, _BAD_LEN, _BAD_FIELD, _BAD_VALUE = 0, 1, 6, 7


def _mac(v):
    return v.to_bytes(6, "big")


def put_ofp11_std_match(match):
    m = match
    wc = 0
    in_port = 0
    if not m.is_set("in_port"):
        wc |= OFPFW11_IN_PORT
    else:
        in_port = to_ofp11(m.value("in_port"))
    tci, tci_m = m.get("vlan_tci")
    dl_vlan = pcp = 0
    if tci_m == 0:
        wc |= OFPFW11_DL_VLAN | OFPFW11_DL_VLAN_PCP
    elif tci_m & VLAN_CFI and not tci & VLAN_CFI:
        dl_vlan = OFPVID11_NONE
        wc |= OFPFW11_DL_VLAN_PCP
    else:
        dl_vlan = tci & VLAN_VID_MASK if tci_m & VLAN_VID_MASK else OFPVID11_ANY
        if not tci_m & VLAN_PCP_MASK:
            wc |= OFPFW11_DL_VLAN_PCP
        else:
            pcp = tci >> 13
    dl_type = 0
    if not m.is_set("dl_type"):
        wc |= OFPFW11_DL_TYPE
    else:
        dl_type = m.value("dl_type")
    tos = 0
    if not m.mask("nw_tos") & IP_DSCP_MASK:
        wc |= OFPFW11_NW_TOS
    else:
        tos = m.value("nw_tos") & IP_DSCP_MASK
    proto = 0
    if not m.is_set("nw_proto"):
        wc |= OFPFW11_NW_PROTO
    else:
        proto = m.value("nw_proto")
    tp_src = tp_dst = 0
    if not m.is_set("tp_src"):
        wc |= OFPFW11_TP_SRC
    else:
        tp_src = m.value("tp_src")
    if not m.is_set("tp_dst"):
        wc |= OFPFW11_TP_DST
    else:
        tp_dst = m.value("tp_dst")
    lse, lse_m = m.get("mpls_lse")
    label = tc = 0
    if not lse_m & 0xfffff000:
        wc |= OFPFW11_MPLS_LABEL
    else:
        label = lse >> 12
    if not lse_m & 0xe00:
        wc |= OFPFW11_MPLS_TC
    else:
        tc = (lse >> 9) & 7
    return _LAYOUT.pack(
        OFPMT11_STANDARD, OFPMT11_STANDARD_LENGTH, in_port, wc,
        _mac(m.value("dl_src")), _mac(~m.mask("dl_src") & _ONES48),
        _mac(m.value("dl_dst")), _mac(~m.mask("dl_dst") & _ONES48),
        dl_vlan, pcp, dl_type, tos, proto,
        m.value("nw_src"), ~m.mask("nw_src") & _ONES32,
        m.value("nw_dst"), ~m.mask("nw_dst") & _ONES32,
        tp_src, tp_dst, label, tc,
        m.value("metadata"), ~m.mask("metadata") & _ONES64)


def _bad(text, code):
    return DecodeError(text, BAD_MATCH, code)


def pull_ofp11_std_match(data):
    if len(data) < 4:
        raise _bad("ofp11_match too short", _BAD_LEN)
    mtype, length = struct.unpack_from("!HH", data)
    if mtype != OFPMT11_STANDARD:
        raise _bad(f"unsupported match type {mtype}", _BAD_TYPE)
    if length != OFPMT11_STANDARD_LENGTH or len(data) < length:
        raise _bad(f"bad ofp11_match length {length}", _BAD_LEN)
    (_t, _l, in_port, wc, dl_src, dl_src_m, dl_dst, dl_dst_m, dl_vlan, pcp,
     dl_type, tos, proto, nw_src, nw_src_m, nw_dst, nw_dst_m, tp_src, tp_dst,
     label, tc, metadata, metadata_m) = _LAYOUT.unpack_from(data)
    m = Match()
    if not wc & OFPFW11_IN_PORT:
        port = from_ofp11(in_port)
        if port is None:
            raise _bad(f"bad in_port {in_port:#x}", _BAD_VALUE)
        m.set_field(F.field_by_name("in_port"), port)
    for name, value, inv in (("dl_src", dl_src, dl_src_m), ("dl_dst", dl_dst, dl_dst_m)):
        mask = ~int.from_bytes(inv, "big") & _ONES48
        if mask:
            m.set_storage(name, int.from_bytes(value, "big") & mask, mask)
    if not wc & OFPFW11_DL_VLAN:
        if dl_vlan == OFPVID11_NONE:        # no VLAN header
            m.set_storage("vlan_tci", 0, 0xffff)
        else:
            if dl_vlan == OFPVID11_ANY:
                tci, tci_m = VLAN_CFI, VLAN_CFI
            elif dl_vlan < 4096:
                tci, tci_m = VLAN_CFI | dl_vlan, VLAN_CFI | VLAN_VID_MASK
            else:
                raise _bad(f"bad dl_vlan {dl_vlan}", _BAD_VALUE)
            if not wc & OFPFW11_DL_VLAN_PCP:
                if pcp > 7:
                    raise _bad(f"bad dl_vlan_pcp {pcp}", _BAD_VALUE)
                tci |= pcp << 13
                tci_m |= VLAN_PCP_MASK
            m.set_storage("vlan_tci", tci, tci_m)
    if not wc & OFPFW11_DL_TYPE:
        m.set_storage("dl_type", dl_type)
    ipv4 = m.get("dl_type") == (F.ETH_TYPE_IP, 0xffff)
    arp = m.get("dl_type") == (0x0806, 0xffff)
    if ipv4 and not wc & OFPFW11_NW_TOS:
        if tos & ~IP_DSCP_MASK:
            raise _bad(f"bad nw_tos {tos}", _BAD_VALUE)
        m.set_storage("nw_tos", tos, IP_DSCP_MASK)
    if ipv4 or arp:
        if not wc & OFPFW11_NW_PROTO:
            m.set_storage("nw_proto", proto)
        for name, value, inv in (("nw_src", nw_src, nw_src_m),
                                 ("nw_dst", nw_dst, nw_dst_m)):
            mask = ~inv & _ONES32
            if mask:
                m.set_storage(name, value & mask, mask)
    if ipv4 and wc & OFPFW11_TP_ALL != OFPFW11_TP_ALL:
        nw_proto = m.value("nw_proto")
        if nw_proto == F.IPPROTO_ICMP:
            for name, bit, v in (("tp_src", OFPFW11_TP_SRC, tp_src),
                                 ("tp_dst", OFPFW11_TP_DST, tp_dst)):
                if not wc & bit:
                    if v >= 0x100:
                        raise _bad(f"bad ICMP {name} {v}", _BAD_FIELD)
                    m.set_storage(name, v)
        elif nw_proto in (F.IPPROTO_TCP, F.IPPROTO_UDP, F.IPPROTO_SCTP):
            if not wc & OFPFW11_TP_SRC:
                m.set_storage("tp_src", tp_src)
            if not wc & OFPFW11_TP_DST:
                m.set_storage("tp_dst", tp_dst)
        # (other protocols: the ports are ignored, as OVS 3.1's switch does)
    if m.value("dl_type") in _MPLS_TYPES and m.is_set("dl_type"):
        if not wc & OFPFW11_MPLS_LABEL:
            m.set_field(F.field_by_name("mpls_label"), label & 0xfffff)
        if not wc & OFPFW11_MPLS_TC:
            m.set_field(F.field_by_name("mpls_tc"), tc & 7)
    md_mask = ~metadata_m & _ONES64
    if md_mask:
        m.set_storage("metadata", metadata & md_mask, md_mask)
    return m, OFPMT11_STANDARD_LENGTH
