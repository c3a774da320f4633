"""Matches on the wire: NXM/OXM TLVs, the OpenFlow 1.0 ofp_match and the
OpenFlow 1.1+ ofp_match wrapper.

The NXM/OXM encoder emits fields in OVS's order (nx_put_raw), so the bytes
equal what OVS writes; the decoder takes any order, rejects duplicates,
unknown fields, bad lengths and bad masks with the OpenFlow error the spec
names, and never reads past the buffer.

Public API:
  put_nxm(match, version, cookie=0, cookie_mask=0) -> bytes (unpadded TLVs;
    version 0x01 means NXM)
  pull_nxm(data, version) -> (Match, cookie, cookie_mask)
  put_ofp10_match(match) -> 40 bytes ; pull_ofp10_match(data) -> Match
  put_ofp11_match(match, version) -> bytes (type 1 OXM, padded to 8)
  pull_ofp11_match(data, version) -> (Match, consumed_len)
  NXM_NX_COOKIE
"""

import struct

from . import fields as F
from .errors import DecodeError, BAD_MATCH
from .match import (Match, VLAN_CFI, VLAN_VID_MASK, VLAN_PCP_MASK, _cidr_len,
                    PT_ETH, NSH_STORAGE)
from .ports import to_ofp11, from_ofp11

NXM_NX_COOKIE = (F.NXM_NX, 30)
MAX_MATCH_LEN = 65535

OFPFW10_IN_PORT = 1 << 0
OFPFW10_DL_VLAN = 1 << 1
OFPFW10_DL_SRC = 1 << 2
OFPFW10_DL_DST = 1 << 3
OFPFW10_DL_TYPE = 1 << 4
OFPFW10_NW_PROTO = 1 << 5
OFPFW10_TP_SRC = 1 << 6
OFPFW10_TP_DST = 1 << 7
OFPFW10_NW_SRC_SHIFT = 8
OFPFW10_NW_DST_SHIFT = 14
OFPFW10_DL_VLAN_PCP = 1 << 20
OFPFW10_NW_TOS = 1 << 21
OFPFW10_ALL = (1 << 22) - 1
OFP10_VLAN_NONE = 0xffff


def _header_bytes(cls, code, exp, masked, length):
    hdr = struct.pack("!HBB", cls, (code << 1) | int(masked), length)
    if exp is not None:
        hdr += struct.pack("!I", exp)
    return hdr


def _emitter(version):
    out = []
    # Fields as OXM names them from 1.1 on (OVS's OXM-typed 1.1 matches),
    # each under its header for VERSION (NXM's where 1.1 has no OXM one).
    oxm = version >= F.OFP11

    def put(name, value, mask=None):
        if mask == 0:
            return
        fld = F.field_by_name(name)
        full = (1 << (8 * fld.n_bytes)) - 1
        hdr = fld.header(version)
        if hdr is None:
            hdr = _oldest_oxm(fld)
            if hdr is None:
                return
        cls, code, exp, n = hdr
        masked = mask is not None and mask != full and (
            mask != fld.max_value or fld.name in ("ct_state", "tun_flags"))
        if fld.variable:        # as short as the value (and mask) allow
            n = (max(value, mask if masked else 0).bit_length() + 7) // 8
        plen = n * (2 if masked else 1) + (4 if exp is not None else 0)
        out.append(_header_bytes(cls, code, exp, masked, plen))
        out.append((value & full).to_bytes(n, "big"))
        if masked:
            out.append(mask.to_bytes(n, "big"))
    return out, put, oxm


def _oldest_oxm(fld):
    if not fld.oxm:
        return None
    cls, code, exp, _ = min(fld.oxm, key=lambda o: o[3])
    return cls, code, exp, fld.n_bytes


PACKET_TYPE_ETH_TLV = bytes.fromhex("8000580400000000")


def put_nxm(match, version, cookie=0, cookie_mask=0):
    """MATCH as NXM (version 0x01) or OXM TLVs, in OVS's order.

    Like OVS, a match that normalisation changes (fields whose
    prerequisites it lacks) is sent with an explicit packet_type=Ethernet
    first."""
    out, put, oxm = _emitter(version)
    m = match
    pt, pt_mask = m.get("packet_type")
    if pt_mask and (pt, pt_mask) != (PT_ETH, 0xffffffff):
        put("packet_type", pt)
    if match.copy().normalize() or (
            (pt, pt_mask) == (PT_ETH, 0xffffffff)
            and _IMPLIES_ETHERNET.isdisjoint(match.values)):
        out.append(PACKET_TYPE_ETH_TLV)
    for s in ("dp_hash",):
        if m.is_set(s):
            put(s, *m.get(s))
    for s in ("recirc_id", "conj_id"):
        if m.is_set(s):
            put(s, m.value(s))
    if m.is_set("in_port"):
        if oxm:
            put("in_port_oxm", to_ofp11(m.value("in_port")))
        else:
            put("in_port", m.value("in_port"))
    if m.is_set("actset_output"):
        put("actset_output", to_ofp11(m.value("actset_output")))
    put("eth_src", *m.get("dl_src"))
    put("eth_dst", *m.get("dl_dst"))
    dl_v, dl_m = m.get("dl_type")
    if dl_m:
        put("eth_type", dl_v, dl_m)
    tci, tci_m = m.get("vlan_tci")
    if oxm:
        vid, vid_m = tci & 0x1fff, tci_m & 0x1fff
        if vid_m == 0x1fff:
            put("vlan_vid", vid)
        elif vid_m:
            put("vlan_vid", vid, vid_m)
        if vid and tci_m & VLAN_PCP_MASK:
            put("vlan_pcp", tci >> 13)
    elif tci_m:
        put("vlan_tci", tci, tci_m)
    dl_type = match.flow_dl_type()
    if dl_type in (F.ETH_TYPE_MPLS, F.ETH_TYPE_MPLS_MCAST):
        lv, lm = m.get("mpls_lse")
        if lm & 0xe00:
            put("mpls_tc", (lv >> 9) & 7)
        if lm & 0x100:
            put("mpls_bos", (lv >> 8) & 1)
        if lm & 0xff:
            put("mpls_ttl", lv & 0xff)
        if lm & 0xfffff000:
            put("mpls_label", lv >> 12)
    if dl_type in (F.ETH_TYPE_IP, F.ETH_TYPE_IPV6):
        _put_ip(m, put, oxm, dl_type)
    elif dl_type in (F.ETH_TYPE_ARP, F.ETH_TYPE_RARP):
        if m.is_set("nw_proto"):
            put("arp_op", m.value("nw_proto"))
        put("arp_spa", *m.get("nw_src"))
        put("arp_tpa", *m.get("nw_dst"))
        put("arp_sha", *m.get("arp_sha"))
        put("arp_tha", *m.get("arp_tha"))
    put("tun_id", *m.get("tun_id"))
    put("tun_src", *m.get("tun_src"))
    put("tun_dst", *m.get("tun_dst"))
    put("tun_ipv6_src", *m.get("tun_ipv6_src"))
    put("tun_ipv6_dst", *m.get("tun_ipv6_dst"))
    put("tun_flags", *m.get("tun_flags"))
    put("tun_gbp_id", *m.get("tun_gbp_id"))
    put("tun_gbp_flags", *m.get("tun_gbp_flags"))
    for i in range(F.N_TUN_METADATA):
        if m.is_set(f"tun_metadata{i}"):
            put(f"tun_metadata{i}", *m.get(f"tun_metadata{i}"))
    for s in NSH_STORAGE:
        put(s, *m.get(s))
    for i in range(16):
        put(f"reg{i}", *m.get(f"reg{i}"))
    put("pkt_mark", *m.get("pkt_mark"))
    put("ct_state", *m.get("ct_state"))
    put("ct_zone", *m.get("ct_zone"))
    put("ct_mark", *m.get("ct_mark"))
    put("ct_label", *m.get("ct_label"))
    if m.is_set("ct_nw_proto"):
        put("ct_nw_proto", m.value("ct_nw_proto"))
    for s in ("ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst",
              "ct_tp_src", "ct_tp_dst"):
        put(s, *m.get(s))
    put("metadata", *m.get("metadata"))
    if cookie_mask:
        masked = cookie_mask != (1 << 64) - 1
        out.append(_header_bytes(F.NXM_NX, 30, None, masked, 16 if masked else 8))
        out.append((cookie & cookie_mask).to_bytes(8, "big"))
        if masked:
            out.append(cookie_mask.to_bytes(8, "big"))
    return b"".join(out)


def _put_ip(m, put, oxm, dl_type):
    if dl_type == F.ETH_TYPE_IP:
        put("ip_src", *m.get("nw_src"))
        put("ip_dst", *m.get("nw_dst"))
    else:
        put("ipv6_src", *m.get("ipv6_src"))
        put("ipv6_dst", *m.get("ipv6_dst"))
    fv, fm = m.get("nw_frag")
    if fm:
        put("ip_frag", fv, 0xff if fm == 3 else fm)
    tos, tos_m = m.get("nw_tos")
    if tos_m & 0xfc:
        if oxm:
            put("ip_dscp", tos >> 2)
        else:
            put("nw_tos", tos & 0xfc)
    if tos_m & 0x03:
        put("nw_ecn", tos & 0x03)
    if m.is_set("nw_ttl"):
        put("nw_ttl", m.value("nw_ttl"))
    put("ipv6_label", *m.get("ipv6_label"))
    if m.is_set("nw_proto"):
        proto = m.value("nw_proto")
        put("nw_proto", proto)
        if proto == F.IPPROTO_TCP:
            put("tcp_src", *m.get("tp_src"))
            put("tcp_dst", *m.get("tp_dst"))
            put("tcp_flags", *m.get("tcp_flags"))
        elif proto == F.IPPROTO_UDP:
            put("udp_src", *m.get("tp_src"))
            put("udp_dst", *m.get("tp_dst"))
        elif proto == F.IPPROTO_SCTP:
            put("sctp_src", *m.get("tp_src"))
            put("sctp_dst", *m.get("tp_dst"))
        elif proto == F.IPPROTO_ICMP and dl_type == F.ETH_TYPE_IP:
            if m.is_set("tp_src"):
                put("icmp_type", m.value("tp_src"))
            if m.is_set("tp_dst"):
                put("icmp_code", m.value("tp_dst"))
        elif proto == F.IPPROTO_ICMPV6 and dl_type == F.ETH_TYPE_IPV6:
            if m.is_set("tp_src"):
                put("icmpv6_type", m.value("tp_src"))
            if m.is_set("tp_dst"):
                put("icmpv6_code", m.value("tp_dst"))
            t = m.value("tp_src")
            if m.mask("tp_src") == 0xffff or m.mask("tp_src") == 0xff:
                if t in (135, 136) and m.value("tp_dst") == 0:
                    if m.is_set("nd_reserved"):
                        put("nd_reserved", m.value("nd_reserved"))
                    put("nd_target", *m.get("nd_target"))
                    if m.is_set("nd_options_type"):
                        put("nd_options_type", m.value("nd_options_type"))
                    if t == 135:
                        put("nd_sll", *m.get("arp_sha"))
                    else:
                        put("nd_tll", *m.get("arp_tha"))


def pull_nxm(data, version):
    """Decode NXM/OXM TLVs (DATA holds exactly them, padding excluded)."""
    match = Match()
    cookie = cookie_mask = 0
    seen = set()
    ofs = 0
    n = len(data)
    while ofs < n:
        if n - ofs < 4:
            raise DecodeError("match ends in the middle of an NXM/OXM header",
                              BAD_MATCH, 1)
        cls, fm, length = struct.unpack_from("!HBB", data, ofs)
        code, masked = fm >> 1, fm & 1
        body = ofs + 4
        exp = None
        if cls == F.OXM_EXPERIMENTER:
            if length < 4 or n - body < 4:
                raise DecodeError("bad experimenter OXM", BAD_MATCH, 1)
            exp = struct.unpack_from("!I", data, body)[0]
            body += 4
            length -= 4
        if body + length > n:
            raise DecodeError("NXM/OXM entry runs past the end of the match",
                              BAD_MATCH, 1)
        payload = data[body:body + length]
        ofs = body + length
        if (cls, code) == NXM_NX_COOKIE and length != 1:
            if length != (16 if masked else 8):
                raise DecodeError("bad cookie length", BAD_MATCH, 1)
            cookie = int.from_bytes(payload[:8], "big")
            cookie_mask = int.from_bytes(payload[8:], "big") if masked else (1 << 64) - 1
            continue
        if (cls, code, length, masked) == (F.OXM_OF, 44, 4, 0):
            if payload != b"\0\0\0\0":
                match.set_storage("packet_type", int.from_bytes(payload, "big"))
            continue            # packet_type=Ethernet: the default
        fld = F.field_by_header(cls, code, exp)
        if fld is None:
            raise DecodeError(f"unknown NXM/OXM field {cls:#x}:{code}",
                              BAD_MATCH, 6)
        want = fld.n_bytes * (2 if masked else 1)
        if fld.variable and length <= want and not (masked and length % 2):
            want = length
        if length != want:
            raise DecodeError(f"{fld.name}: bad length {length}", BAD_MATCH, 1)
        if masked and not fld.maskable:
            raise DecodeError(f"{fld.name}: not maskable", BAD_MATCH, 8)
        if fld.name in seen:
            raise DecodeError(f"{fld.name}: duplicate field", BAD_MATCH, 10)
        seen.add(fld.name)
        nb = length // 2 if masked else length
        value = int.from_bytes(payload[:nb], "big")
        mask = int.from_bytes(payload[nb:], "big") if masked else None
        if fld.name == "in_port_oxm":
            port = from_ofp11(value)
            if port is None:
                raise DecodeError("bad in_port", BAD_MATCH, 7)
            match.set_field(F.field_by_name("in_port"), port)
            continue
        if fld.name == "actset_output":
            port = from_ofp11(value)
            if port is None:
                raise DecodeError("bad actset_output", BAD_MATCH, 7)
            match.set_storage("actset_output", port)
            continue
        if fld.name == "ip_frag":
            if mask is None or mask == 0xff:
                mask = 3
            value &= 3
            mask &= 3
        if fld.name == "vlan_pcp":
            match.set_field(fld, value)
            continue
        if mask is not None:
            mask &= (1 << fld.n_bits) - 1 if fld.n_bits < 8 * fld.n_bytes else mask
            value &= mask
        elif fld.n_bits < 8 * fld.n_bytes and fld.name not in ("nw_tos",):
            value &= fld.max_value
        match.set_field(fld, value, mask)
    _check_prereqs(match)
    return match, cookie, cookie_mask


#: Flow members that only fields with prerequisites view.
_PREREQ_STORAGE = frozenset(
    s for s in F.STORAGE
    if all(f.prereq != "none" for f in F.FIELDS if f.storage == s)
    and any(f.storage == s for f in F.FIELDS))
_ETHERNET_STORAGE = ("dl_src", "dl_dst", "dl_type", "vlan_tci")
#: What an explicit packet_type=(0,0) goes without on the wire: fields
#: that require a packet type (OVS's implied_ethernet).
_IMPLIES_ETHERNET = _PREREQ_STORAGE | frozenset(_ETHERNET_STORAGE)


def _check_prereqs(match):
    """What OVS's nx_pull_raw() checks of the NSH fields and packet_type:
    OFPBMC_BAD_PREREQ and OFPBMC_BAD_VALUE."""
    pt = match.packet_type()
    if (pt is not None and pt != PT_ETH
            and any(match.is_set(s) for s in _ETHERNET_STORAGE)):
        raise DecodeError("Ethernet fields with a non-Ethernet packet_type",
                          BAD_MATCH, 9)
    nsh = [s for s in NSH_STORAGE if match.is_set(s)]
    if nsh and match.flow_dl_type() != F.ETH_TYPE_NSH:
        raise DecodeError("NSH fields without an NSH packet", BAD_MATCH, 9)
    for name, top in F.MAX_VALID.items():
        if match.value(name) > top:
            raise DecodeError(f"bad {name} value", BAD_MATCH, 7)


# --- OpenFlow 1.0 ofp_match ----------------------------------------------------

def put_ofp10_match(match):
    m = match
    wc = 0
    if not m.is_set("in_port"):
        wc |= OFPFW10_IN_PORT
    if not m.is_set("dl_type"):
        wc |= OFPFW10_DL_TYPE
    if not m.is_set("nw_proto"):
        wc |= OFPFW10_NW_PROTO
    for s, shift in (("nw_src", OFPFW10_NW_SRC_SHIFT), ("nw_dst", OFPFW10_NW_DST_SHIFT)):
        plen = _cidr_len(m.mask(s), 32)
        wc |= (32 - (plen or 0)) << shift
    if not m.mask("nw_tos") & 0xfc:
        wc |= OFPFW10_NW_TOS
    if not m.is_set("tp_src"):
        wc |= OFPFW10_TP_SRC
    if not m.is_set("tp_dst"):
        wc |= OFPFW10_TP_DST
    if not m.is_set("dl_src"):
        wc |= OFPFW10_DL_SRC
    if not m.is_set("dl_dst"):
        wc |= OFPFW10_DL_DST
    tci, tci_m = m.get("vlan_tci")
    dl_vlan = pcp = 0
    if tci_m == 0:
        wc |= OFPFW10_DL_VLAN | OFPFW10_DL_VLAN_PCP
    elif tci_m & VLAN_CFI and not tci & VLAN_CFI:
        dl_vlan = OFP10_VLAN_NONE
    else:
        if not tci_m & VLAN_VID_MASK:
            wc |= OFPFW10_DL_VLAN
        else:
            dl_vlan = tci & VLAN_VID_MASK
        if not tci_m & VLAN_PCP_MASK:
            wc |= OFPFW10_DL_VLAN_PCP
        else:
            pcp = tci >> 13
    return struct.pack("!IH6s6sHBxHBBxxIIHH", wc, m.value("in_port"),
                       m.value("dl_src").to_bytes(6, "big"),
                       m.value("dl_dst").to_bytes(6, "big"), dl_vlan, pcp,
                       m.value("dl_type"), m.value("nw_tos") & 0xfc,
                       m.value("nw_proto"), m.value("nw_src"),
                       m.value("nw_dst"), m.value("tp_src"), m.value("tp_dst"))


def pull_ofp10_match(data):
    if len(data) < 40:
        raise DecodeError("ofp10_match too short", BAD_MATCH, 1)
    (wc, in_port, dl_src, dl_dst, dl_vlan, pcp, dl_type, tos, proto, nw_src,
     nw_dst, tp_src, tp_dst) = struct.unpack_from("!IH6s6sHBxHBBxxIIHH", data)
    wc &= OFPFW10_ALL
    m = Match()
    if not wc & OFPFW10_IN_PORT:
        m.set_storage("in_port", in_port, 0xffff)
    if not wc & OFPFW10_DL_SRC:
        m.set_storage("dl_src", int.from_bytes(dl_src, "big"))
    if not wc & OFPFW10_DL_DST:
        m.set_storage("dl_dst", int.from_bytes(dl_dst, "big"))
    if not wc & OFPFW10_DL_TYPE:
        m.set_storage("dl_type", 0x05ff if dl_type == 0x05ff else dl_type)
    if not wc & OFPFW10_NW_TOS:
        m.set_storage("nw_tos", tos & 0xfc, 0xfc)
    if not wc & OFPFW10_NW_PROTO:
        m.set_storage("nw_proto", proto)
    for s, shift, v in (("nw_src", OFPFW10_NW_SRC_SHIFT, nw_src),
                        ("nw_dst", OFPFW10_NW_DST_SHIFT, nw_dst)):
        bits = (wc >> shift) & 0x3f
        if bits < 32:
            mask = (0xffffffff << bits) & 0xffffffff
            m.set_storage(s, v & mask, mask)
    if not wc & OFPFW10_TP_SRC:
        m.set_storage("tp_src", tp_src)
    if not wc & OFPFW10_TP_DST:
        m.set_storage("tp_dst", tp_dst)
    if not wc & OFPFW10_DL_VLAN:
        if dl_vlan == OFP10_VLAN_NONE:
            m.set_storage("vlan_tci", 0, 0xffff)
        else:
            m.set_field(F.field_by_name("dl_vlan"), dl_vlan & VLAN_VID_MASK)
            if not wc & OFPFW10_DL_VLAN_PCP:
                m.set_field(F.field_by_name("dl_vlan_pcp"), pcp & 7)
    elif not wc & OFPFW10_DL_VLAN_PCP:
        m.set_field(F.field_by_name("dl_vlan_pcp"), pcp & 7)
    m.normalize()
    return m


# --- OpenFlow 1.1+ ofp_match wrapper ---------------------------------------------

def put_ofp11_match(match, version):
    tlvs = put_nxm(match, version)
    length = 4 + len(tlvs)
    body = struct.pack("!HH", 1, length) + tlvs
    return body + b"\0" * ((-len(body)) % 8)


def pull_ofp11_match(data, version):
    if len(data) < 4:
        raise DecodeError("ofp_match too short", BAD_MATCH, 1)
    mtype, length = struct.unpack_from("!HH", data)
    if mtype != 1:
        raise DecodeError(f"unsupported match type {mtype}", BAD_MATCH, 0)
    padded = (length + 7) // 8 * 8
    if length < 4 or padded > len(data):
        raise DecodeError("bad ofp_match length", BAD_MATCH, 1)
    match, _, _ = pull_nxm(data[4:length], version)
    return match, padded
