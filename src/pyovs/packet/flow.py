"""Flow-key extraction: packet bytes -> the fields OVS's miniflow_extract() reads.

This is the per-miss path of the datapath, so it is written as straight-line
``struct.unpack_from`` calls over the buffer with explicit bounds checks, and
it returns one plain dict.  It never raises on bad input: a truncated or
garbled header simply ends extraction, leaving the later members out (that
is, 0), exactly as OVS stops at the first header that fails its sanity check.

The dict follows pyovs's flow convention (see pyovs.openflow.fields.STORAGE):
member name -> int, a missing member is 0.  MACs are 48-bit ints, IPv6
addresses 128-bit ints.  Members, as OVS's ``struct flow`` names them:

- ``in_port`` always, plus whatever ``metadata`` supplies (recirc_id,
  dp_hash, skb_priority, pkt_mark, ct_state, ...);
- ``dl_dst``, ``dl_src``, ``dl_type`` (0x05ff for 802.2 frames without SNAP);
- ``vlan_tci`` (with the CFI bit 0x1000 set to mean "present") and
  ``vlan_tpid`` for the outer VLAN header, ``vlan_tci2``/``vlan_tpid2`` for a
  second one (these three are pyovs extras, not OpenFlow fields);
- ``nw_src``/``nw_dst`` (IPv4, and ARP SPA/TPA), ``nw_proto`` (for ARP the
  low byte of the opcode), ``nw_tos`` (TOS / traffic class byte), ``nw_ttl``,
  ``nw_frag`` (FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
- ``ipv6_src``, ``ipv6_dst``, ``ipv6_label``;
- ``tp_src``/``tp_dst`` (ports; ICMP/ICMPv6 type and code), ``tcp_flags``;
- ``arp_sha``/``arp_tha`` (ARP addresses, and ND's SLL/TLL), ``nd_target``,
  ``nd_reserved``;
- ``mpls_lse``, ``mpls_lse1``, ``mpls_lse2``: up to three MPLS label stack
  entries, outermost first (the last two are pyovs extras);
- ``nsh_flags`` .. ``nsh_c4``: an NSH header (see pyovs.packet.nsh).

Each packet type sets the same members in the same order, so two packets of
one flow give equal ``tuple(flow.items())`` (the exact-match cache's key).
Pass a list as ``offsets`` to also get the network and transport header
offsets (``[l3_ofs, l4_ofs]``, None where absent) for actions that rewrite
headers.

Public API: flow_extract(data, in_port=0, metadata=None, offsets=None) -> dict.
"""

import struct

from . import headers as h
from . import nsh

_u16 = h.PORTS.unpack_from              # two u16s
_macs = struct.Struct("!HIHIH").unpack_from  # dst hi/lo, src hi/lo, type
_llc = h.LLC_SNAP_HEADER.unpack_from
_ipv4 = struct.Struct("!BBHHHBB2xII").unpack_from
_ipv6 = struct.Struct("!IHBBQQQQ").unpack_from
_ext = h.IPV6_EXT_HEADER.unpack_from
_frag6 = h.IPV6_FRAG_HEADER.unpack_from
_tcp = h.TCP_PORTS_FLAGS.unpack_from
# hrd, pro, hln, pln, op, sha (hi, lo), spa, tha (hi, lo), tpa
_arp = struct.Struct("!HHBBHHIIHII").unpack_from
_nd = struct.Struct("!4xIQQ").unpack_from          # reserved, target hi/lo
_ndopt = h.ND_OPT_HEADER.unpack_from
_mac = struct.Struct("!HI").unpack_from
_u32 = struct.Struct("!I").unpack_from

_VLAN_TPIDS = (h.ETH_TYPE_VLAN_8021Q, h.ETH_TYPE_VLAN_8021AD)
_IPV6_SIMPLE_EXT = (h.IPPROTO_HOPOPTS, h.IPPROTO_ROUTING, h.IPPROTO_DSTOPTS)
_VLAN_MEMBERS = (("vlan_tpid", "vlan_tci"), ("vlan_tpid2", "vlan_tci2"))
_MPLS_MEMBERS = ("mpls_lse", "mpls_lse1", "mpls_lse2")


def flow_extract(data, in_port=0, metadata=None, offsets=None):
    """Extract the flow of packet DATA (bytes-like) received on IN_PORT.

    METADATA, if given, is a dict of metadata members (recirc_id, ct_state,
    ...) copied into the result.  OFFSETS, if a list, receives
    [l3_ofs, l4_ofs]."""
    flow = {"in_port": in_port}
    if metadata:
        flow.update(metadata)
    if offsets is not None:
        offsets[:] = [None, None]
    size = len(data)
    if metadata and metadata.get("packet_type"):
        return _extract_l3(data, size, flow, offsets)
    if size < h.ETH_HEADER_LEN:
        return flow
    dst_hi, dst_lo, src_hi, src_lo, dl_type = _macs(data, 0)
    flow["dl_dst"] = dst_hi << 32 | dst_lo
    flow["dl_src"] = src_hi << 32 | src_lo
    ofs = 12

    # VLAN headers: TPID, TCI; each needs 4 bytes plus the next type field.
    n_vlans = 0
    while dl_type in _VLAN_TPIDS and n_vlans < h.FLOW_MAX_VLAN_HEADERS:
        if ofs + 6 > size:
            break       # a cut-short tag: OVS reports its TPID as dl_type
        tci, next_type = _u16(data, ofs + 2)
        tpid_member, tci_member = _VLAN_MEMBERS[n_vlans]
        flow[tpid_member] = dl_type
        flow[tci_member] = tci | h.VLAN_CFI
        n_vlans += 1
        ofs += 4
        dl_type = next_type
    ofs += 2

    # 802.2 LLC frames: only SNAP with a zero OUI carries an Ethertype.
    if dl_type < h.ETH_TYPE_MIN:
        dl_type = h.FLOW_DL_TYPE_NONE
        if ofs + h.LLC_SNAP_HEADER_LEN <= size:
            dsap, ssap, cntl, oui, snap_type = _llc(data, ofs)
            if dsap == 0xaa and ssap == 0xaa and cntl == 0x03 and oui == b"\0\0\0":
                ofs += h.LLC_SNAP_HEADER_LEN
                if snap_type >= h.ETH_TYPE_MIN:
                    dl_type = snap_type
    flow["dl_type"] = dl_type

    if dl_type == h.ETH_TYPE_IP:
        _extract_ipv4(data, ofs, size, flow, offsets)
    elif dl_type == h.ETH_TYPE_IPV6:
        _extract_ipv6(data, ofs, size, flow, offsets)
    elif dl_type == h.ETH_TYPE_MPLS or dl_type == h.ETH_TYPE_MPLS_MCAST:
        # Up to three label stack entries, to the bottom of the stack; OVS
        # does not look beyond MPLS.
        for member in _MPLS_MEMBERS:
            if ofs + 4 > size:
                break
            lse = _u32(data, ofs)[0]
            flow[member] = lse
            ofs += 4
            if lse & 0x100:
                break
    elif dl_type == h.ETH_TYPE_ARP or dl_type == h.ETH_TYPE_RARP:
        if ofs + h.ARP_ETH_HEADER_LEN <= size:
            if offsets is not None:
                offsets[0] = ofs
            (hrd, pro, hln, pln, op, sha_hi, sha_lo, spa, tha_hi, tha_lo,
             tpa) = _arp(data, ofs)
            if hrd == 1 and pro == h.ETH_TYPE_IP and hln == 6 and pln == 4:
                flow["nw_src"] = spa
                flow["nw_dst"] = tpa
                if op <= 0xff:
                    flow["nw_proto"] = op
                flow["arp_sha"] = sha_hi << 32 | sha_lo
                flow["arp_tha"] = tha_hi << 32 | tha_lo
    elif dl_type == nsh.ETH_TYPE_NSH:
        hdr = nsh.extract(data, ofs)
        if hdr is not None:
            del hdr["_len"]
            flow.update(hdr)
    return flow


def _extract_l3(data, size, flow, offsets):
    """A packet with no Ethernet header, whose packet_type (namespace 1:
    an Ethertype) says what it starts with (OVS's miniflow_extract)."""
    pt = flow["packet_type"]
    if pt >> 16 != 1:
        return flow
    dl_type = flow["dl_type"] = pt & 0xffff
    if dl_type == h.ETH_TYPE_IP:
        _extract_ipv4(data, 0, size, flow, offsets)
    elif dl_type == h.ETH_TYPE_IPV6:
        _extract_ipv6(data, 0, size, flow, offsets)
    elif dl_type == nsh.ETH_TYPE_NSH:
        hdr = nsh.extract(data, 0)
        if hdr is not None:
            del hdr["_len"]
            flow.update(hdr)
    return flow


def _extract_ipv4(data, ofs, size, flow, offsets):
    if ofs + h.IP_HEADER_LEN > size:
        return
    ihl_ver, tos, tot_len, _id, frag_off, ttl, proto, src, dst = _ipv4(data, ofs)
    ip_len = (ihl_ver & 0x0f) * 4
    avail = size - ofs
    if ip_len < h.IP_HEADER_LEN or avail < ip_len or tot_len > avail or ip_len > tot_len:
        return
    if offsets is not None:
        offsets[0] = ofs
    flow["nw_src"] = src
    flow["nw_dst"] = dst
    flow["nw_proto"] = proto
    flow["nw_tos"] = tos
    flow["nw_ttl"] = ttl
    frag = 0
    if frag_off & (h.IP_MORE_FRAGMENTS | h.IP_FRAG_OFF_MASK):
        frag = h.FLOW_NW_FRAG_ANY
        if frag_off & h.IP_FRAG_OFF_MASK:
            frag |= h.FLOW_NW_FRAG_LATER
    flow["nw_frag"] = frag
    if not frag & h.FLOW_NW_FRAG_LATER:
        # Ethernet padding beyond the datagram is not part of the L4 payload.
        _extract_l4(data, ofs + ip_len, ofs + tot_len, proto, flow, False, offsets)


def _extract_ipv6(data, ofs, size, flow, offsets):
    if ofs + h.IPV6_HEADER_LEN > size:
        return
    vtl, plen, nexthdr, hlimit, s_hi, s_lo, d_hi, d_lo = _ipv6(data, ofs)
    end = ofs + h.IPV6_HEADER_LEN + plen
    if end > size:
        return
    if offsets is not None:
        offsets[0] = ofs
    flow["ipv6_src"] = s_hi << 64 | s_lo
    flow["ipv6_dst"] = d_hi << 64 | d_lo
    ofs += h.IPV6_HEADER_LEN
    frag = 0
    # Extension headers: each is at least 8 bytes, so the walk ends.  One
    # cut short leaves only the addresses recorded, as in OVS.
    while True:
        if nexthdr in _IPV6_SIMPLE_EXT or nexthdr == h.IPPROTO_AH:
            if ofs + 8 > end:
                return
            nxt, ext_len = _ext(data, ofs)
            ext_len = (ext_len + 2) * 4 if nexthdr == h.IPPROTO_AH else (ext_len + 1) * 8
            if ofs + ext_len > end:
                return
            nexthdr = nxt
            ofs += ext_len
        elif nexthdr == h.IPPROTO_FRAGMENT:
            if ofs + h.IPV6_FRAG_HEADER_LEN > end:
                return
            nxt, _r, off_flags, _ident = _frag6(data, ofs)
            nexthdr = nxt
            ofs += h.IPV6_FRAG_HEADER_LEN
            if off_flags:
                frag = h.FLOW_NW_FRAG_ANY
                if off_flags & h.IP6F_OFF_MASK:
                    # Only first fragments are looked into; OVS then reports
                    # the fragment header itself as the protocol.
                    frag |= h.FLOW_NW_FRAG_LATER
                    nexthdr = h.IPPROTO_FRAGMENT
                    break
        else:
            break
    flow["ipv6_label"] = vtl & h.IPV6_LABEL_MASK
    flow["nw_proto"] = nexthdr
    flow["nw_tos"] = (vtl >> 20) & 0xff
    flow["nw_ttl"] = hlimit
    flow["nw_frag"] = frag
    if not frag & h.FLOW_NW_FRAG_LATER:
        _extract_l4(data, ofs, end, nexthdr, flow, True, offsets)


def _extract_l4(data, ofs, end, proto, flow, ipv6, offsets):
    if proto == h.IPPROTO_TCP:
        if ofs + h.TCP_HEADER_LEN <= end:
            src, dst, off_flags = _tcp(data, ofs)
            tcp_len = (off_flags >> 12) * 4
            if tcp_len >= h.TCP_HEADER_LEN and ofs + tcp_len <= end:
                flow["tp_src"] = src
                flow["tp_dst"] = dst
                flow["tcp_flags"] = off_flags & h.TCP_FLAGS_MASK
            else:
                return
        else:
            return
    elif proto == h.IPPROTO_UDP:
        if ofs + h.UDP_HEADER_LEN > end:
            return
        flow["tp_src"], flow["tp_dst"] = _u16(data, ofs)
    elif proto == h.IPPROTO_SCTP:
        if ofs + h.SCTP_HEADER_LEN > end:
            return
        flow["tp_src"], flow["tp_dst"] = _u16(data, ofs)
    elif proto == h.IPPROTO_ICMP and not ipv6:
        if ofs + h.ICMP_HEADER_LEN > end:
            return
        flow["tp_src"] = data[ofs]
        flow["tp_dst"] = data[ofs + 1]
    elif proto == h.IPPROTO_ICMPV6 and ipv6:
        if ofs + h.ICMP6_DATA_HEADER_LEN > end:
            return
        icmp_type = data[ofs]
        icmp_code = data[ofs + 1]
        flow["tp_src"] = icmp_type
        flow["tp_dst"] = icmp_code
        if (icmp_code == 0 and ofs + h.ND_MSG_LEN <= end
                and icmp_type in (h.ND_NEIGHBOR_SOLICIT, h.ND_NEIGHBOR_ADVERT)):
            _extract_nd(data, ofs, end, flow)
    else:
        return
    if offsets is not None:
        offsets[1] = ofs


def _extract_nd(data, ofs, end, flow):
    reserved, t_hi, t_lo = _nd(data, ofs)
    flow["nd_target"] = t_hi << 64 | t_lo
    sll = tll = 0
    ofs += h.ND_MSG_LEN
    while ofs + 8 <= end:
        opt_type, opt_len = _ndopt(data, ofs)
        opt_bytes = opt_len * 8
        if not opt_bytes or ofs + opt_bytes > end:
            break       # OVS stops here, keeping what it found so far
        if opt_bytes == 8 and opt_type in (h.ND_OPT_SOURCE_LINKADDR, h.ND_OPT_TARGET_LINKADDR):
            hi, lo = _mac(data, ofs + 2)
            if opt_type == h.ND_OPT_SOURCE_LINKADDR:
                if sll:
                    return _nd_invalid(flow)
                sll = hi << 32 | lo
            else:
                if tll:
                    return _nd_invalid(flow)
                tll = hi << 32 | lo
        ofs += opt_bytes
    flow["arp_sha"] = sll
    flow["arp_tha"] = tll
    if reserved:
        flow["nd_reserved"] = reserved


def _nd_invalid(flow):
    """A second SLL or TLL option: OVS keeps no ND fields at all."""
    flow["nd_target"] = 0
    flow["arp_sha"] = 0
    flow["arp_tha"] = 0
