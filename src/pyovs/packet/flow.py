"""Flow-key extraction: packet bytes -> the fields OVS's miniflow_extract() reads.

This is the per-miss path of the datapath, so it is written as straight-line
``struct.unpack_from`` calls over the buffer with explicit bounds checks, and
it returns one plain dict.  It never raises on bad input: a truncated or
garbled header simply ends extraction, leaving the later fields at their
zero defaults, exactly as OVS stops at the first header that fails its sanity
check.

Field names and encodings follow OVS's ``struct flow``:

- metadata: ``in_port``, ``recirc_id``, ``dp_hash``, ``skb_priority``,
  ``pkt_mark``, ``ct_state``, ``ct_zone``, ``ct_mark``, ``ct_label``
  (taken from the ``metadata`` argument, default 0);
- ``dl_dst``/``dl_src`` (6-byte ``bytes``), ``dl_type`` (int; 0x05ff for
  802.2 frames without SNAP);
- ``vlans``: a tuple of ``(tpid, tci)`` for up to two VLAN headers, outermost
  first, with the CFI bit (0x1000) set in ``tci`` to mean "present";
- ``nw_src``/``nw_dst`` (IPv4 and ARP SPA/TPA, ints), ``nw_proto`` (for ARP
  the low byte of the opcode), ``nw_tos`` (the whole TOS / traffic class
  byte), ``nw_ttl``, ``nw_frag`` (FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
- ``ipv6_src``/``ipv6_dst`` (16-byte ``bytes``), ``ipv6_label``;
- ``tp_src``/``tp_dst`` (TCP/UDP/SCTP ports; for ICMP and ICMPv6 the type
  and code), ``tcp_flags``;
- ``arp_sha``/``arp_tha`` (ARP hardware addresses, and ND's SLL/TLL),
  ``nd_target`` (16 bytes), ``nd_reserved``, ``nd_options_type``.

Also returned, for the datapath's own use: ``l3_ofs`` and ``l4_ofs`` (offsets
of the network and transport headers, or None).
"""

from . import headers as h

_ZERO_MAC = bytes(6)
_ZERO_IN6 = bytes(16)

#: Every field flow_extract() sets, with its default (zero) value.
FLOW_DEFAULTS = {
    "in_port": 0, "recirc_id": 0, "dp_hash": 0, "skb_priority": 0, "pkt_mark": 0,
    "ct_state": 0, "ct_zone": 0, "ct_mark": 0, "ct_label": 0,
    "dl_dst": _ZERO_MAC, "dl_src": _ZERO_MAC, "dl_type": 0, "vlans": (),
    "nw_src": 0, "nw_dst": 0, "nw_proto": 0, "nw_tos": 0, "nw_ttl": 0, "nw_frag": 0,
    "ipv6_src": _ZERO_IN6, "ipv6_dst": _ZERO_IN6, "ipv6_label": 0,
    "tp_src": 0, "tp_dst": 0, "tcp_flags": 0,
    "arp_sha": _ZERO_MAC, "arp_tha": _ZERO_MAC,
    "nd_target": _ZERO_IN6, "nd_reserved": 0, "nd_options_type": 0,
    "l3_ofs": None, "l4_ofs": None,
}

_eth = h.ETH_HEADER.unpack_from
_u16 = h.PORTS.unpack_from      # two u16s
_vlan = h.VLAN_HEADER.unpack_from
_llc = h.LLC_SNAP_HEADER.unpack_from
_ipv4 = h.IPV4_HEADER.unpack_from
_ipv4_addrs = h.IPV4_ADDRS.unpack_from
_ipv6 = h.IPV6_HEADER.unpack_from
_ext = h.IPV6_EXT_HEADER.unpack_from
_frag6 = h.IPV6_FRAG_HEADER.unpack_from
_tcp = h.TCP_PORTS_FLAGS.unpack_from
_arp = h.ARP_ETH_HEADER.unpack_from
_nd = h.ND_MSG.unpack_from
_ndopt = h.ND_OPT_HEADER.unpack_from

_VLAN_TPIDS = (h.ETH_TYPE_VLAN_8021Q, h.ETH_TYPE_VLAN_8021AD)
_IPV6_SIMPLE_EXT = (h.IPPROTO_HOPOPTS, h.IPPROTO_ROUTING, h.IPPROTO_DSTOPTS)


def flow_extract(data, in_port=0, metadata=None):
    """Extract the flow key of packet DATA (bytes-like) received on IN_PORT.

    METADATA, if given, is a dict of metadata fields (recirc_id, ct_state,
    ...) copied into the result."""
    flow = FLOW_DEFAULTS.copy()
    flow["in_port"] = in_port
    if metadata:
        flow.update(metadata)
    size = len(data)
    if size < h.ETH_HEADER_LEN:
        return flow
    dst, src, dl_type = _eth(data, 0)
    flow["dl_dst"] = dst
    flow["dl_src"] = src
    ofs = 12

    # VLAN headers: TPID, TCI; each needs 4 bytes plus the next type field.
    vlans = ()
    while dl_type in _VLAN_TPIDS and len(vlans) < h.FLOW_MAX_VLAN_HEADERS:
        if ofs + 6 > size:
            return flow
        tci, next_type = _vlan(data, ofs + 2)
        vlans += ((dl_type, tci | h.VLAN_CFI),)
        ofs += 4
        dl_type = next_type
    flow["vlans"] = vlans
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
        _extract_ipv4(data, ofs, size, flow)
    elif dl_type == h.ETH_TYPE_IPV6:
        _extract_ipv6(data, ofs, size, flow)
    elif dl_type == h.ETH_TYPE_ARP or dl_type == h.ETH_TYPE_RARP:
        if ofs + h.ARP_ETH_HEADER_LEN <= size:
            flow["l3_ofs"] = ofs
            hrd, pro, hln, pln, op, sha, spa, tha, tpa = _arp(data, ofs)
            if hrd == 1 and pro == h.ETH_TYPE_IP and hln == 6 and pln == 4:
                flow["nw_src"] = int.from_bytes(spa, "big")
                flow["nw_dst"] = int.from_bytes(tpa, "big")
                if op <= 0xff:
                    flow["nw_proto"] = op
                flow["arp_sha"] = sha
                flow["arp_tha"] = tha
    return flow


def _extract_ipv4(data, ofs, size, flow):
    if ofs + h.IP_HEADER_LEN > size:
        return
    ihl_ver, tos, tot_len, _id, frag_off, ttl, proto, _csum, _s, _d = _ipv4(data, ofs)
    ip_len = (ihl_ver & 0x0f) * 4
    avail = size - ofs
    if ip_len < h.IP_HEADER_LEN or avail < ip_len or tot_len > avail or ip_len > tot_len:
        return
    flow["l3_ofs"] = ofs
    flow["nw_src"], flow["nw_dst"] = _ipv4_addrs(data, ofs + 12)
    flow["nw_tos"] = tos
    flow["nw_ttl"] = ttl
    flow["nw_proto"] = proto
    if frag_off & (h.IP_MORE_FRAGMENTS | h.IP_FRAG_OFF_MASK):
        if frag_off & h.IP_FRAG_OFF_MASK:
            flow["nw_frag"] = h.FLOW_NW_FRAG_ANY | h.FLOW_NW_FRAG_LATER
            return
        flow["nw_frag"] = h.FLOW_NW_FRAG_ANY
    # Ethernet padding beyond the IP datagram is not part of the L4 payload.
    _extract_l4(data, ofs + ip_len, ofs + tot_len, proto, flow, False)


def _extract_ipv6(data, ofs, size, flow):
    if ofs + h.IPV6_HEADER_LEN > size:
        return
    vtl, plen, nexthdr, hlimit, src, dst = _ipv6(data, ofs)
    end = ofs + h.IPV6_HEADER_LEN + plen
    if end > size:
        return
    flow["l3_ofs"] = ofs
    flow["ipv6_src"] = src
    flow["ipv6_dst"] = dst
    flow["ipv6_label"] = vtl & h.IPV6_LABEL_MASK
    flow["nw_tos"] = (vtl >> 20) & 0xff
    flow["nw_ttl"] = hlimit
    ofs += h.IPV6_HEADER_LEN
    frag = 0
    for _ in range(16):   # bound the walk over extension headers
        if nexthdr in _IPV6_SIMPLE_EXT or nexthdr == h.IPPROTO_AH:
            if ofs + 2 > end:
                break
            nxt, ext_len = _ext(data, ofs)
            ext_len = (ext_len + 2) * 4 if nexthdr == h.IPPROTO_AH else (ext_len + 1) * 8
            if ofs + ext_len > end:
                break
            nexthdr = nxt
            ofs += ext_len
        elif nexthdr == h.IPPROTO_FRAGMENT:
            if ofs + h.IPV6_FRAG_HEADER_LEN > end:
                break
            nxt, _r, off_flags, _ident = _frag6(data, ofs)
            nexthdr = nxt
            ofs += h.IPV6_FRAG_HEADER_LEN
            if off_flags & h.IP6F_OFF_MASK:
                frag = h.FLOW_NW_FRAG_ANY | h.FLOW_NW_FRAG_LATER
                break
            if off_flags & h.IP6F_MORE_FRAG:
                frag = h.FLOW_NW_FRAG_ANY
        else:
            break
    flow["nw_proto"] = nexthdr
    flow["nw_frag"] = frag
    if not frag & h.FLOW_NW_FRAG_LATER:
        _extract_l4(data, ofs, end, nexthdr, flow, True)


def _extract_l4(data, ofs, end, proto, flow, ipv6):
    if proto == h.IPPROTO_TCP:
        if ofs + h.TCP_HEADER_LEN <= end:
            src, dst, off_flags = _tcp(data, ofs)
            tcp_len = (off_flags >> 12) * 4
            if tcp_len >= h.TCP_HEADER_LEN and ofs + tcp_len <= end:
                flow["l4_ofs"] = ofs
                flow["tp_src"] = src
                flow["tp_dst"] = dst
                flow["tcp_flags"] = off_flags & h.TCP_FLAGS_MASK
    elif proto == h.IPPROTO_UDP:
        if ofs + h.UDP_HEADER_LEN <= end:
            flow["l4_ofs"] = ofs
            flow["tp_src"], flow["tp_dst"] = _u16(data, ofs)
    elif proto == h.IPPROTO_SCTP:
        if ofs + h.SCTP_HEADER_LEN <= end:
            flow["l4_ofs"] = ofs
            flow["tp_src"], flow["tp_dst"] = _u16(data, ofs)
    elif proto == h.IPPROTO_ICMP and not ipv6:
        if ofs + h.ICMP_HEADER_LEN <= end:
            flow["l4_ofs"] = ofs
            flow["tp_src"] = data[ofs]
            flow["tp_dst"] = data[ofs + 1]
    elif proto == h.IPPROTO_ICMPV6 and ipv6:
        if ofs + h.ICMP6_HEADER_LEN <= end:
            flow["l4_ofs"] = ofs
            icmp_type = data[ofs]
            icmp_code = data[ofs + 1]
            flow["tp_src"] = icmp_type
            flow["tp_dst"] = icmp_code
            if (icmp_code == 0 and ofs + h.ND_MSG_LEN <= end
                    and icmp_type in (h.ND_NEIGHBOR_SOLICIT, h.ND_NEIGHBOR_ADVERT)):
                _extract_nd(data, ofs, end, flow)


def _extract_nd(data, ofs, end, flow):
    _t, _c, _cs, reserved, target = _nd(data, ofs)
    sll = tll = None
    options_type = 0
    first = True
    ofs += h.ND_MSG_LEN
    while ofs + 2 <= end:
        opt_type, opt_len = _ndopt(data, ofs)
        opt_bytes = opt_len * 8
        if not opt_bytes or ofs + opt_bytes > end:
            return _nd_invalid(flow)
        if first:
            options_type = opt_type
            first = False
        if opt_len == 1 and opt_type == h.ND_OPT_SOURCE_LINKADDR:
            if sll is not None:
                return _nd_invalid(flow)
            sll = bytes(data[ofs + 2:ofs + 8])
        elif opt_len == 1 and opt_type == h.ND_OPT_TARGET_LINKADDR:
            if tll is not None:
                return _nd_invalid(flow)
            tll = bytes(data[ofs + 2:ofs + 8])
        ofs += opt_bytes
    flow["nd_target"] = target
    flow["nd_reserved"] = reserved
    flow["nd_options_type"] = options_type
    if sll is not None:
        flow["arp_sha"] = sll
    if tll is not None:
        flow["arp_tha"] = tll


def _nd_invalid(flow):
    """A malformed ND option list: OVS keeps the ICMPv6 type/code, no ND fields."""
    flow["nd_target"] = _ZERO_IN6
    flow["arp_sha"] = _ZERO_MAC
    flow["arp_tha"] = _ZERO_MAC
