"""The one-line summary OVS prints after a packet's bytes (packet-in,
packet-out): the packet's flow as an OpenFlow match (OVS's flow_format()
over flow_extract()), with context fields left out when zero, followed by
the L4 checksum when the L4 header is complete.

Public API: packet_to_string(data) -> "icmp,vlan_tci=0x0000,...\\n";
flow_to_string(flow) -> the same for a flow dict (no checksum, no newline).
"""

import struct

from ..packet.flow import flow_extract
from .match import Match, NSH_STORAGE
from .fields import STORAGE

ETH_TYPE_IP, ETH_TYPE_IPV6 = 0x0800, 0x86dd
ETH_TYPE_ARP, ETH_TYPE_RARP = 0x0806, 0x8035
ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST = 0x8847, 0x8848
ETH_TYPE_NSH = 0x894f
FRAG_LATER = 2
FRAG_MASK = 3
VLAN_CFI = 0x1000
# Members whose exact match is narrower than their storage.
_MASKS = {"nw_frag": FRAG_MASK, "tcp_flags": 0x0fff, "ipv6_label": 0xfffff}

# proto -> (checksum name, L4 header length, checksum offset, width)
_CSUMS = {6: ("tcp_csum", 20, 16, 2), 17: ("udp_csum", 8, 6, 2),
          132: ("sctp_csum", 12, 8, 4), 1: ("icmp_csum", 8, 2, 2),
          58: ("icmp6_csum", 4, 2, 2)}


def _packet_fields(flow):
    """The members OVS's flow_wildcards_init_for_packet() makes exact."""
    dl_type = flow.get("dl_type", 0)
    names = ["dl_src", "dl_dst", "dl_type", "vlan_tci"]
    proto = flow.get("nw_proto", 0)
    if dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6):
        if dl_type == ETH_TYPE_IP:
            names += ["nw_src", "nw_dst"]
        else:
            names += ["ipv6_src", "ipv6_dst", "ipv6_label"]
        names += ["nw_frag", "nw_tos", "nw_ttl", "nw_proto"]
        if not flow.get("nw_frag", 0) & FRAG_LATER:
            if proto in (6, 17, 132, 1, 58, 2):
                names += ["tp_src", "tp_dst"]
            if proto == 6:
                names.append("tcp_flags")
            if proto == 58 and flow.get("tp_src") in (135, 136):
                names += ["arp_sha", "arp_tha", "nd_target"]
    elif dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP):
        names += ["nw_src", "nw_dst", "nw_proto", "arp_sha", "arp_tha"]
    elif dl_type in (ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST):
        names.append("mpls_lse")
    elif dl_type == ETH_TYPE_NSH:
        names += list(NSH_STORAGE) + ["nw_frag", "nw_tos", "nw_ttl", "nw_proto"]
    return names


def packet_to_string(data):
    """DATA's flow as ovs-ofctl prints it under a packet-in or packet-out."""
    data = bytes(data)
    offsets = []
    flow = flow_extract(data, offsets=offsets)
    text = flow_to_string(flow)
    l4 = offsets[1] if len(offsets) > 1 else None
    csum = _CSUMS.get(flow.get("nw_proto")) if flow.get("dl_type") in (
        ETH_TYPE_IP, ETH_TYPE_IPV6) else None
    if (l4 is None and flow.get("nw_frag", 0) & FRAG_LATER
            and flow.get("dl_type") == ETH_TYPE_IP and offsets[0] is not None):
        # OVS still points its L4 offset past a later fragment's IP header.
        l4 = offsets[0] + (data[offsets[0]] & 0xf) * 4
    if csum is not None and l4 is not None and len(data) - l4 >= csum[1]:
        name, _hlen, ofs, width = csum
        value = int.from_bytes(data[l4 + ofs:l4 + ofs + width], "big")
        text += f" {name}:{value:x}"
    return text + "\n"


def flow_to_string(flow):
    """A packet's FLOW (flow_extract()'s dict) as OVS's flow_format()."""
    match = Match()
    packet = set(_packet_fields(flow))
    for member, value in flow.items():       # metadata: registers, tun_id...
        if value and member not in packet and member != "in_port" \
                and member in STORAGE and not member.startswith("vlan_"):
            match.set_storage(member, value)
    if flow.get("in_port"):
        match.set_storage("in_port", flow["in_port"])
    for name in _packet_fields(flow):
        mask = _MASKS.get(name)
        match.set_storage(name, flow.get(name, 0), mask)
    text = match.format()
    if flow.get("vlan_tci", 0) & VLAN_CFI:
        # The second VLAN header slot is exact too: OVS names it after the
        # first header's fields.
        tci2 = flow.get("vlan_tci2", 0)
        if tci2 & VLAN_CFI:
            inner = f"dl_vlan1={tci2 & 0xfff},dl_vlan_pcp1={tci2 >> 13},"
        else:
            inner = f"vlan_tci1=0x{tci2:04x},"
        i = text.find("dl_src=")
        text = text[:i] + inner + text[i:]
    return text
