"""Header layouts: one struct.Struct per header, plus the numbers that name things.

Every layout is network byte order and covers only the fixed part of its
header; variable parts (IPv4 options, TCP options, IPv6 extension headers,
Geneve options) are walked by the code that needs them using the length
fields these layouts expose.  Parsers call ``LAYOUT.unpack_from(buf, off)``
after checking ``off + LAYOUT.size <= len(buf)``.
"""

import struct

# --- Ethernet and VLANs -------------------------------------------------------
ETH_HEADER = struct.Struct("!6s6sH")          # dst, src, type
ETH_HEADER_LEN = 14
ETH_ADDR_LEN = 6
VLAN_HEADER = struct.Struct("!HH")            # tci, encapsulated type (after the TPID)
VLAN_HEADER_LEN = 4
LLC_SNAP_HEADER = struct.Struct("!BBB3sH")    # dsap, ssap, cntl, oui, snap type
LLC_SNAP_HEADER_LEN = 8

ETH_TYPE_MIN = 0x600
ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ETH_TYPE_TEB = 0x6558
ETH_TYPE_VLAN_8021Q = 0x8100
ETH_TYPE_VLAN = ETH_TYPE_VLAN_8021Q
ETH_TYPE_VLAN_8021AD = 0x88a8
ETH_TYPE_IPV6 = 0x86dd
ETH_TYPE_LACP = 0x8809
ETH_TYPE_RARP = 0x8035
ETH_TYPE_MPLS = 0x8847
ETH_TYPE_MPLS_MCAST = 0x8848
ETH_TYPE_NSH = 0x894f
FLOW_DL_TYPE_NONE = 0x5ff   # an 802.2 frame without SNAP, as OVS records it

VLAN_VID_MASK = 0x0fff
VLAN_PCP_MASK = 0xe000
VLAN_PCP_SHIFT = 13
VLAN_CFI = 0x1000           # OVS sets this bit in a flow's tci to mean "a VLAN header is present"
FLOW_MAX_VLAN_HEADERS = 2

# --- IPv4 ------------------------------------------------------------------------
# ihl_ver, tos, tot_len, id, frag_off, ttl, proto, csum, src, dst
IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV4_ADDRS = struct.Struct("!II")             # src, dst as integers (at offset 12)
IP_HEADER_LEN = 20
IP_DONT_FRAGMENT = 0x4000
IP_MORE_FRAGMENTS = 0x2000
IP_FRAG_OFF_MASK = 0x1fff

IPPROTO_HOPOPTS = 0
IPPROTO_ICMP = 1
IPPROTO_IGMP = 2
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_GRE = 47
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_ICMPV6 = 58
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60
IPPROTO_SCTP = 132

# nw_frag bits of a flow (and the ODP frag enumeration built from them)
FLOW_NW_FRAG_ANY = 1
FLOW_NW_FRAG_LATER = 2
FLOW_NW_FRAG_MASK = 3

# --- IPv6 ------------------------------------------------------------------------
# version/tclass/label, payload length, next header, hop limit, src, dst
IPV6_HEADER = struct.Struct("!IHBB16s16s")
IPV6_HEADER_LEN = 40
IPV6_EXT_HEADER = struct.Struct("!BB")        # next header, length (units depend on the header)
IPV6_FRAG_HEADER = struct.Struct("!BBHI")     # next header, reserved, offset+flags, identification
IPV6_FRAG_HEADER_LEN = 8
IP6F_OFF_MASK = 0xfff8
IP6F_MORE_FRAG = 0x0001
IPV6_LABEL_MASK = 0x000fffff

# --- transport -----------------------------------------------------------------
TCP_HEADER = struct.Struct("!HHIIHHHH")       # src, dst, seq, ack, offset/flags, window, csum, urg
TCP_HEADER_LEN = 20
TCP_PORTS_FLAGS = struct.Struct("!HH8xH")     # src, dst, offset/flags
TCP_FLAGS_MASK = 0x0fff
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR, TCP_NS = (
    0x001, 0x002, 0x004, 0x008, 0x010, 0x020, 0x040, 0x080, 0x100)
UDP_HEADER = struct.Struct("!HHHH")           # src, dst, len, csum
UDP_HEADER_LEN = 8
SCTP_HEADER = struct.Struct("!HHII")          # src, dst, vtag, csum
SCTP_HEADER_LEN = 12
PORTS = struct.Struct("!HH")

ICMP_HEADER = struct.Struct("!BBHHH")         # type, code, csum, id, seq (echo layout)
ICMP_HEADER_LEN = 8
ICMP4_ECHO_REPLY = 0
ICMP4_DST_UNREACH = 3
ICMP4_ECHO_REQUEST = 8
ICMP4_TIME_EXCEEDED = 11

ICMP6_HEADER = struct.Struct("!BBH")          # type, code, csum
ICMP6_HEADER_LEN = 4
ICMP6_DATA_HEADER_LEN = 8                     # with the 4-byte data word: the least OVS reads
ICMP6_ECHO_REQUEST = 128
ICMP6_ECHO_REPLY = 129
ND_ROUTER_SOLICIT = 133
ND_ROUTER_ADVERT = 134
ND_NEIGHBOR_SOLICIT = 135
ND_NEIGHBOR_ADVERT = 136
ND_MSG = struct.Struct("!BBHI16s")            # type, code, csum, reserved/flags, target
ND_MSG_LEN = 24
ND_OPT_HEADER = struct.Struct("!BB")          # type, length in 8-byte units
ND_OPT_SOURCE_LINKADDR = 1
ND_OPT_TARGET_LINKADDR = 2

# --- ARP -------------------------------------------------------------------------
ARP_ETH_HEADER = struct.Struct("!HHBBH6s4s6s4s")  # hrd, pro, hln, pln, op, sha, spa, tha, tpa
ARP_ETH_HEADER_LEN = 28
ARP_HRD_ETHERNET = 1
ARP_OP_REQUEST = 1
ARP_OP_REPLY = 2
ARP_OP_RARP = 3

# --- tunnels -----------------------------------------------------------------------
VXLAN_HEADER = struct.Struct("!II")           # flags (0x08000000 = VNI present), vni << 8
VXLAN_HEADER_LEN = 8
VXLAN_FLAGS = 0x08000000
VXLAN_DST_PORT = 4789
GRE_BASE_HEADER = struct.Struct("!HH")        # flags/version, protocol
GRE_BASE_HEADER_LEN = 4
GRE_CSUM = 0x8000
GRE_KEY = 0x2000
GRE_SEQ = 0x1000
GENEVE_HEADER = struct.Struct("!BBHI")        # ver/opt_len(4-byte words), flags, protocol, vni << 8
GENEVE_HEADER_LEN = 8
GENEVE_OPT_HEADER = struct.Struct("!HBB")     # option class, type, flags/length (4-byte words)
GENEVE_DST_PORT = 6081
GENEVE_CRIT_OPT_TYPE = 0x80
GENEVE_OAM = 0x80
GENEVE_CRIT = 0x40
