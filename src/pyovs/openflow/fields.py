"""The field table: every OpenFlow match field, described once.

This is pyovs's counterpart of OVS's meta-flow.  Each :class:`Field` names a
field as ovs-fields(7) does (its name and the older aliases), says where it
lives in a flow (``storage``: the member of OVS's ``struct flow`` it views,
and which bits of it), how wide it is on the wire, whether it can be masked,
what it requires of the packet (its prerequisite, e.g. ``tcp``), how its
values are written (decimal, hexadecimal, Ethernet, IPv4, IPv6, port, flags),
and its NXM and OXM headers.  The match, the flow-syntax parser and printer
and the NXM/OXM codecs all read this table; none of them repeats a fact that
is here.

Public API:
  FIELDS: list of Field, in OVS's meta-flow order.
  field_by_name(name) -> Field or None (any name or alias, or an NXM/OXM name
    such as "NXM_OF_ETH_SRC").
  field_by_header(cls, code, experimenter=None) -> Field or None.
  STORAGE: dict storage name -> width in bits (the members of a flow).
  SHORTHANDS: dict "tcp" -> (dl_type, nw_proto or None).
  Field.header(version) -> (cls, code, experimenter, n_bytes) for OpenFlow
    VERSION (0x01 means NXM) choosing the OXM header when one exists.
"""

from dataclasses import dataclass, field as _dc_field

# OpenFlow wire versions.
OFP10, OFP11, OFP12, OFP13, OFP14, OFP15 = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06

NXM_OF = 0x0000
NXM_NX = 0x0001
OXM_OF = 0x8000
OXM_EXPERIMENTER = 0xffff
ONF_EXPERIMENTER_ID = 0x4f4e4600

ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ETH_TYPE_RARP = 0x8035
ETH_TYPE_IPV6 = 0x86dd
ETH_TYPE_MPLS = 0x8847
ETH_TYPE_MPLS_MCAST = 0x8848
IPPROTO_ICMP, IPPROTO_IGMP, IPPROTO_TCP, IPPROTO_UDP = 1, 2, 6, 17
IPPROTO_ICMPV6, IPPROTO_SCTP = 58, 132

#: Geneve options as tun_metadata<i>: up to 124 bytes, their length set by
#: the switch's TLV map (NXT_TLV_TABLE_MOD); NXM entries carry any length.
TUN_METADATA_BITS = 124 * 8
N_TUN_METADATA = 64

#: Members of a flow (OVS's struct flow) that fields view, and their widths.
STORAGE = {
    "dp_hash": 32, "recirc_id": 32, "conj_id": 32, "skb_priority": 32,
    "pkt_mark": 32, "actset_output": 32,
    "tun_id": 64, "tun_src": 32, "tun_dst": 32, "tun_ipv6_src": 128,
    "tun_ipv6_dst": 128, "tun_flags": 16, "tun_ttl": 8, "tun_tos": 8,
    "tun_gbp_id": 16, "tun_gbp_flags": 8,
    **{f"tun_metadata{i}": TUN_METADATA_BITS for i in range(64)},
    "metadata": 64, "in_port": 32,
    "ct_state": 32, "ct_zone": 16, "ct_mark": 32, "ct_label": 128,
    "ct_nw_proto": 8, "ct_nw_src": 32, "ct_nw_dst": 32,
    "ct_ipv6_src": 128, "ct_ipv6_dst": 128, "ct_tp_src": 16, "ct_tp_dst": 16,
    **{f"reg{i}": 32 for i in range(16)},
    "dl_src": 48, "dl_dst": 48, "dl_type": 16, "vlan_tci": 16,
    "mpls_lse": 32,
    "nw_src": 32, "nw_dst": 32, "ipv6_src": 128, "ipv6_dst": 128,
    "ipv6_label": 32, "nw_proto": 8, "nw_tos": 8, "nw_ttl": 8, "nw_frag": 8,
    "arp_sha": 48, "arp_tha": 48, "nd_target": 128, "nd_reserved": 32,
    "nd_options_type": 8,
    "tp_src": 16, "tp_dst": 16, "tcp_flags": 16,
    # OVS's packet_type (namespace << 16 | type) and NSH header fields.
    "packet_type": 32,
    "nsh_flags": 8, "nsh_ttl": 8, "nsh_mdtype": 8, "nsh_np": 8,
    "nsh_spi": 24, "nsh_si": 8,
    "nsh_c1": 32, "nsh_c2": 32, "nsh_c3": 32, "nsh_c4": 32,
}

#: Shorthand protocol keywords of ovs-fields(7): name -> (dl_type, nw_proto).
SHORTHANDS = {
    "ip": (ETH_TYPE_IP, None), "ipv4": (ETH_TYPE_IP, None),
    "icmp": (ETH_TYPE_IP, IPPROTO_ICMP), "icmp4": (ETH_TYPE_IP, IPPROTO_ICMP),
    "igmp": (ETH_TYPE_IP, IPPROTO_IGMP),
    "tcp": (ETH_TYPE_IP, IPPROTO_TCP), "tcp4": (ETH_TYPE_IP, IPPROTO_TCP),
    "udp": (ETH_TYPE_IP, IPPROTO_UDP), "udp4": (ETH_TYPE_IP, IPPROTO_UDP),
    "sctp": (ETH_TYPE_IP, IPPROTO_SCTP), "sctp4": (ETH_TYPE_IP, IPPROTO_SCTP),
    "ipv6": (ETH_TYPE_IPV6, None), "ip6": (ETH_TYPE_IPV6, None),
    "icmp6": (ETH_TYPE_IPV6, IPPROTO_ICMPV6),
    "tcp6": (ETH_TYPE_IPV6, IPPROTO_TCP), "udp6": (ETH_TYPE_IPV6, IPPROTO_UDP),
    "sctp6": (ETH_TYPE_IPV6, IPPROTO_SCTP),
    "arp": (ETH_TYPE_ARP, None), "rarp": (ETH_TYPE_RARP, None),
    "mpls": (ETH_TYPE_MPLS, None), "mplsm": (ETH_TYPE_MPLS_MCAST, None),
}

# Prerequisites, as predicates over a match's (value, mask) lookup.
PREREQS = ("none", "eth", "vlan", "arp", "ip", "ipv6", "ip_any", "tcp", "udp",
           "sctp", "icmp", "icmpv6", "nd", "nd_solicit", "nd_advert", "mpls",
           "ct", "nsh")

# Which protocols can carry a field (OVS's usable protocols, simplified to
# the three generations that differ): "of10" plain OpenFlow 1.0 match,
# "of11" the OpenFlow 1.1 match, "nxm" only NXM/OXM.
USABLE = ("of10", "of11", "nxm")


@dataclass(frozen=True)
class Field:
    name: str                 # meta-flow name, e.g. "eth_src"
    aliases: tuple            # other accepted names, e.g. ("dl_src",)
    storage: str              # flow member, e.g. "dl_src"
    n_bits: int               # width of the field's value in bits
    n_bytes: int              # width on the wire (NXM/OXM payload)
    fmt: str                  # decimal hexadecimal ethernet ipv4 ipv6 port
                              # tcp_flags ct_state frag
    maskable: bool
    prereq: str
    usable: str               # of10 | of11 | nxm
    nxm: tuple = None         # (class, code) of the NXM header, or None
    oxm: tuple = ()           # ((class, code, experimenter, since_version),)
    shift: int = 0            # field value << shift gives the storage bits
    writable: bool = True
    extra: dict = _dc_field(default_factory=dict, compare=False, hash=False)

    @property
    def all_names(self):
        return (self.name,) + self.aliases

    @property
    def max_value(self):
        return (1 << self.n_bits) - 1

    @property
    def storage_mask(self):
        """The bits of the storage this field covers."""
        return self.max_value << self.shift

    @property
    def nxm_name(self):
        return self.extra.get("nxm_name")

    @property
    def variable(self):
        """Variable length on the wire (tun_metadata<i>)."""
        return self.extra.get("variable", False)

    @property
    def oxm_name(self):
        return self.extra.get("oxm_name")

    def header(self, version):
        """Header for VERSION: (class, code, experimenter, n_bytes).

        VERSION 0x01 (OpenFlow 1.0) means NXM; later versions use the newest
        OXM header the version has, else the NXM header."""
        best = None
        if version >= OFP12:
            for cls, code, exp, since in self.oxm:
                if since <= version and (best is None or since >= best[3]):
                    best = (cls, code, exp, since)
        if best is not None:
            return best[0], best[1], best[2], self.n_bytes
        if self.nxm is None:
            if self.oxm:       # NXM carries OXM headers too (e.g. metadata)
                cls, code, exp, _ = min(self.oxm, key=lambda o: o[3])
                return cls, code, exp, self.n_bytes
            return None
        return self.nxm[0], self.nxm[1], None, self.n_bytes


FIELDS = []
_BY_NAME = {}
_BY_HEADER = {}


def _f(name, aliases, storage, n_bits, fmt, maskable, prereq, usable,
       nxm=None, oxm=(), shift=0, n_bytes=None, nxm_name=None, oxm_name=None,
       writable=True):
    if isinstance(aliases, str):
        aliases = tuple(a for a in aliases.split() if a)
    if n_bytes is None:
        n_bytes = (n_bits + 7) // 8
    extra = {"nxm_name": nxm_name, "oxm_name": oxm_name,
             "variable": storage.startswith("tun_metadata")}
    fld = Field(name, tuple(aliases), storage, n_bits, n_bytes, fmt, maskable,
                prereq, usable, nxm, tuple(oxm), shift, writable, extra)
    FIELDS.append(fld)
    for n in fld.all_names:
        _BY_NAME.setdefault(n, fld)
    for n in (nxm_name, oxm_name):
        if n:
            _BY_NAME.setdefault(n, fld)
    if nxm:
        _BY_HEADER.setdefault((nxm[0], nxm[1], None), fld)
    for cls, code, exp, _since in fld.oxm:
        _BY_HEADER.setdefault((cls, code, exp), fld)
    return fld


def _oxm(code, since=OFP12):
    return ((OXM_OF, code, None, since),)


# --- Metadata -------------------------------------------------------------
_f("dp_hash", "", "dp_hash", 32, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 35), nxm_name="NXM_NX_DP_HASH", writable=False)
_f("recirc_id", "", "recirc_id", 32, "decimal", False, "none", "nxm",
   (NXM_NX, 36), nxm_name="NXM_NX_RECIRC_ID", writable=False)
_f("conj_id", "", "conj_id", 32, "decimal", False, "none", "nxm",
   (NXM_NX, 37), nxm_name="NXM_NX_CONJ_ID", writable=False)
_f("tun_id", "tunnel_id", "tun_id", 64, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 16), _oxm(38, OFP13), nxm_name="NXM_NX_TUN_ID",
   oxm_name="OXM_OF_TUNNEL_ID")
_f("tun_src", "", "tun_src", 32, "ipv4", True, "none", "nxm",
   (NXM_NX, 31), nxm_name="NXM_NX_TUN_IPV4_SRC")
_f("tun_dst", "", "tun_dst", 32, "ipv4", True, "none", "nxm",
   (NXM_NX, 32), nxm_name="NXM_NX_TUN_IPV4_DST")
_f("tun_ipv6_src", "", "tun_ipv6_src", 128, "ipv6", True, "none", "nxm",
   (NXM_NX, 109), nxm_name="NXM_NX_TUN_IPV6_SRC")
_f("tun_ipv6_dst", "", "tun_ipv6_dst", 128, "ipv6", True, "none", "nxm",
   (NXM_NX, 110), nxm_name="NXM_NX_TUN_IPV6_DST")
_f("tun_gbp_id", "", "tun_gbp_id", 16, "decimal", True, "none", "nxm",
   (NXM_NX, 38), nxm_name="NXM_NX_TUN_GBP_ID")
_f("tun_gbp_flags", "", "tun_gbp_flags", 8, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 39), nxm_name="NXM_NX_TUN_GBP_FLAGS")
_f("tun_flags", "", "tun_flags", 1, "tun_flags", True, "none", "nxm",
   (NXM_NX, 104), n_bytes=2, nxm_name="NXM_NX_TUN_FLAGS")
for _i in range(N_TUN_METADATA):
    _f(f"tun_metadata{_i}", "", f"tun_metadata{_i}", TUN_METADATA_BITS,
       "hexadecimal", True, "none", "nxm", (NXM_NX, 40 + _i),
       nxm_name=f"NXM_NX_TUN_METADATA{_i}")
_f("metadata", "", "metadata", 64, "hexadecimal", True, "none", "of11",
   None, _oxm(2), nxm_name=None, oxm_name="OXM_OF_METADATA")
_f("in_port", "", "in_port", 16, "port", False, "none", "of10",
   (NXM_OF, 0), nxm_name="NXM_OF_IN_PORT")
_f("in_port_oxm", "", "in_port", 32, "port", False, "none", "of11",
   None, _oxm(0), oxm_name="OXM_OF_IN_PORT")
_f("actset_output", "", "actset_output", 32, "port", False, "none", "nxm",
   None, ((OXM_EXPERIMENTER, 43, ONF_EXPERIMENTER_ID, OFP13),
          (OXM_OF, 43, None, OFP15)), oxm_name="ONFOXM_ET_ACTSET_OUTPUT",
   writable=False)
_f("skb_priority", "", "skb_priority", 32, "hexadecimal", False, "none",
   "nxm", writable=False)
_f("pkt_mark", "", "pkt_mark", 32, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 33), nxm_name="NXM_NX_PKT_MARK")
_f("ct_state", "", "ct_state", 8, "ct_state", True, "none", "nxm",
   (NXM_NX, 105), n_bytes=4, nxm_name="NXM_NX_CT_STATE", writable=False)
_f("ct_zone", "", "ct_zone", 16, "hexadecimal", False, "none", "nxm",
   (NXM_NX, 106), nxm_name="NXM_NX_CT_ZONE", writable=False)
_f("ct_mark", "", "ct_mark", 32, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 107), nxm_name="NXM_NX_CT_MARK")
_f("ct_label", "", "ct_label", 128, "hexadecimal", True, "none", "nxm",
   (NXM_NX, 108), nxm_name="NXM_NX_CT_LABEL")
_f("ct_nw_proto", "", "ct_nw_proto", 8, "decimal", False, "ct", "nxm",
   (NXM_NX, 119), nxm_name="NXM_NX_CT_NW_PROTO", writable=False)
_f("ct_nw_src", "", "ct_nw_src", 32, "ipv4", True, "ct", "nxm",
   (NXM_NX, 120), nxm_name="NXM_NX_CT_NW_SRC", writable=False)
_f("ct_nw_dst", "", "ct_nw_dst", 32, "ipv4", True, "ct", "nxm",
   (NXM_NX, 121), nxm_name="NXM_NX_CT_NW_DST", writable=False)
_f("ct_ipv6_src", "", "ct_ipv6_src", 128, "ipv6", True, "ct", "nxm",
   (NXM_NX, 122), nxm_name="NXM_NX_CT_IPV6_SRC", writable=False)
_f("ct_ipv6_dst", "", "ct_ipv6_dst", 128, "ipv6", True, "ct", "nxm",
   (NXM_NX, 123), nxm_name="NXM_NX_CT_IPV6_DST", writable=False)
_f("ct_tp_src", "", "ct_tp_src", 16, "decimal", True, "ct", "nxm",
   (NXM_NX, 124), nxm_name="NXM_NX_CT_TP_SRC", writable=False)
_f("ct_tp_dst", "", "ct_tp_dst", 16, "decimal", True, "ct", "nxm",
   (NXM_NX, 125), nxm_name="NXM_NX_CT_TP_DST", writable=False)
for _i in range(16):
    _f(f"reg{_i}", "", f"reg{_i}", 32, "hexadecimal", True, "none", "nxm",
       (NXM_NX, _i), nxm_name=f"NXM_NX_REG{_i}")
# xreg<i> is reg<2i> (high half) and reg<2i+1> (low half); match.py splits it.
for _i in range(8):
    _f(f"xreg{_i}", "", f"xreg{_i}", 64, "hexadecimal", True, "none", "nxm",
       None, ((OXM_OF + 1, _i, None, OFP15),), oxm_name=f"OXM_OF_PKT_REG{_i}")
# xxreg<i> is reg<4i> (highest word) .. reg<4i+3>; match.py splits it too.
for _i in range(4):
    _f(f"xxreg{_i}", "", f"xxreg{_i}", 128, "hexadecimal", True, "none",
       "nxm", (NXM_NX, 111 + _i), nxm_name=f"NXM_NX_XXREG{_i}")

# --- Ethernet and VLAN ----------------------------------------------------
_f("eth_src", "dl_src", "dl_src", 48, "ethernet", True, "none", "of10",
   (NXM_OF, 2), _oxm(4), nxm_name="NXM_OF_ETH_SRC", oxm_name="OXM_OF_ETH_SRC")
_f("eth_dst", "dl_dst", "dl_dst", 48, "ethernet", True, "none", "of10",
   (NXM_OF, 1), _oxm(3), nxm_name="NXM_OF_ETH_DST", oxm_name="OXM_OF_ETH_DST")
_f("eth_type", "dl_type", "dl_type", 16, "hexadecimal", False, "none", "of10",
   (NXM_OF, 3), _oxm(5), nxm_name="NXM_OF_ETH_TYPE",
   oxm_name="OXM_OF_ETH_TYPE", writable=False)
_f("vlan_tci", "", "vlan_tci", 16, "hexadecimal", True, "none", "of10",
   (NXM_OF, 4), nxm_name="NXM_OF_VLAN_TCI")
_f("dl_vlan", "", "vlan_tci", 12, "decimal", False, "none", "of10")
_f("vlan_vid", "", "vlan_tci", 13, "decimal", True, "none", "of10",
   None, _oxm(6), oxm_name="OXM_OF_VLAN_VID")
_f("dl_vlan_pcp", "", "vlan_tci", 3, "decimal", False, "none", "of10",
   shift=13)
_f("vlan_pcp", "", "vlan_tci", 3, "decimal", False, "vlan", "of10",
   None, _oxm(7), shift=13, oxm_name="OXM_OF_VLAN_PCP")

# --- MPLS -----------------------------------------------------------------
_f("mpls_label", "", "mpls_lse", 20, "decimal", False, "mpls", "of11",
   None, _oxm(34), shift=12, n_bytes=4, oxm_name="OXM_OF_MPLS_LABEL")
_f("mpls_tc", "", "mpls_lse", 3, "decimal", False, "mpls", "of11",
   None, _oxm(35), shift=9, oxm_name="OXM_OF_MPLS_TC")
_f("mpls_bos", "", "mpls_lse", 1, "decimal", False, "mpls", "nxm",
   None, _oxm(36, OFP13), shift=8, oxm_name="OXM_OF_MPLS_BOS")
# NXM_NX_MPLS_TTL shares code 30 with NXM_NX_COOKIE; lengths tell them apart.
_f("mpls_ttl", "", "mpls_lse", 8, "decimal", False, "mpls", "nxm",
   (NXM_NX, 30), nxm_name="NXM_NX_MPLS_TTL")

# --- IP -------------------------------------------------------------------
_f("ip_src", "nw_src", "nw_src", 32, "ipv4", True, "ip", "of10",
   (NXM_OF, 7), _oxm(11), nxm_name="NXM_OF_IP_SRC", oxm_name="OXM_OF_IPV4_SRC")
_f("ip_dst", "nw_dst", "nw_dst", 32, "ipv4", True, "ip", "of10",
   (NXM_OF, 8), _oxm(12), nxm_name="NXM_OF_IP_DST", oxm_name="OXM_OF_IPV4_DST")
_f("ipv6_src", "", "ipv6_src", 128, "ipv6", True, "ipv6", "nxm",
   (NXM_NX, 19), _oxm(26), nxm_name="NXM_NX_IPV6_SRC",
   oxm_name="OXM_OF_IPV6_SRC")
_f("ipv6_dst", "", "ipv6_dst", 128, "ipv6", True, "ipv6", "nxm",
   (NXM_NX, 20), _oxm(27), nxm_name="NXM_NX_IPV6_DST",
   oxm_name="OXM_OF_IPV6_DST")
_f("ipv6_label", "", "ipv6_label", 20, "hexadecimal", True, "ipv6", "nxm",
   (NXM_NX, 27), _oxm(28), n_bytes=4, nxm_name="NXM_NX_IPV6_LABEL",
   oxm_name="OXM_OF_IPV6_FLABEL")
_f("nw_proto", "ip_proto", "nw_proto", 8, "decimal", False, "ip_any", "of10",
   (NXM_OF, 6), _oxm(10), nxm_name="NXM_OF_IP_PROTO",
   oxm_name="OXM_OF_IP_PROTO", writable=False)
_f("nw_ttl", "", "nw_ttl", 8, "decimal", False, "ip_any", "nxm",
   (NXM_NX, 29), nxm_name="NXM_NX_IP_TTL")
_f("ip_frag", "nw_frag", "nw_frag", 2, "frag", True, "ip_any", "nxm",
   (NXM_NX, 26), n_bytes=1, nxm_name="NXM_NX_IP_FRAG", writable=False)
_f("nw_tos", "", "nw_tos", 6, "decimal", False, "ip_any", "of10",
   (NXM_OF, 5), shift=2, nxm_name="NXM_OF_IP_TOS")
_f("ip_dscp", "", "nw_tos", 6, "decimal", False, "ip_any", "of10",
   None, _oxm(8), shift=2, oxm_name="OXM_OF_IP_DSCP")
_f("nw_ecn", "ip_ecn", "nw_tos", 2, "decimal", False, "ip_any", "nxm",
   (NXM_NX, 28), _oxm(9), nxm_name="NXM_NX_IP_ECN", oxm_name="OXM_OF_IP_ECN")

# --- ARP ------------------------------------------------------------------
_f("arp_op", "", "nw_proto", 8, "decimal", False, "arp", "of10",
   (NXM_OF, 15), _oxm(21), n_bytes=2, nxm_name="NXM_OF_ARP_OP",
   oxm_name="OXM_OF_ARP_OP")
_f("arp_spa", "", "nw_src", 32, "ipv4", True, "arp", "of10",
   (NXM_OF, 16), _oxm(22), nxm_name="NXM_OF_ARP_SPA", oxm_name="OXM_OF_ARP_SPA")
_f("arp_tpa", "", "nw_dst", 32, "ipv4", True, "arp", "of10",
   (NXM_OF, 17), _oxm(23), nxm_name="NXM_OF_ARP_TPA", oxm_name="OXM_OF_ARP_TPA")
_f("arp_sha", "", "arp_sha", 48, "ethernet", True, "arp", "nxm",
   (NXM_NX, 17), _oxm(24), nxm_name="NXM_NX_ARP_SHA", oxm_name="OXM_OF_ARP_SHA")
_f("arp_tha", "", "arp_tha", 48, "ethernet", True, "arp", "nxm",
   (NXM_NX, 18), _oxm(25), nxm_name="NXM_NX_ARP_THA", oxm_name="OXM_OF_ARP_THA")

# --- L4 -------------------------------------------------------------------
_f("tcp_src", "tp_src", "tp_src", 16, "decimal", True, "tcp", "of10",
   (NXM_OF, 9), _oxm(13), nxm_name="NXM_OF_TCP_SRC", oxm_name="OXM_OF_TCP_SRC")
_f("tcp_dst", "tp_dst", "tp_dst", 16, "decimal", True, "tcp", "of10",
   (NXM_OF, 10), _oxm(14), nxm_name="NXM_OF_TCP_DST", oxm_name="OXM_OF_TCP_DST")
_f("tcp_flags", "", "tcp_flags", 12, "tcp_flags", True, "tcp", "nxm",
   (NXM_NX, 34), ((OXM_EXPERIMENTER, 42, ONF_EXPERIMENTER_ID, OFP13),
                  (OXM_OF, 42, None, OFP15)),
   n_bytes=2, nxm_name="NXM_NX_TCP_FLAGS", oxm_name="OXM_OF_TCP_FLAGS",
   writable=False)
_f("udp_src", "", "tp_src", 16, "decimal", True, "udp", "of10",
   (NXM_OF, 11), _oxm(15), nxm_name="NXM_OF_UDP_SRC", oxm_name="OXM_OF_UDP_SRC")
_f("udp_dst", "", "tp_dst", 16, "decimal", True, "udp", "of10",
   (NXM_OF, 12), _oxm(16), nxm_name="NXM_OF_UDP_DST", oxm_name="OXM_OF_UDP_DST")
_f("sctp_src", "", "tp_src", 16, "decimal", True, "sctp", "of11",
   None, _oxm(17), oxm_name="OXM_OF_SCTP_SRC")
_f("sctp_dst", "", "tp_dst", 16, "decimal", True, "sctp", "of11",
   None, _oxm(18), oxm_name="OXM_OF_SCTP_DST")
_f("icmp_type", "", "tp_src", 8, "decimal", False, "icmp", "of10",
   (NXM_OF, 13), _oxm(19), nxm_name="NXM_OF_ICMP_TYPE",
   oxm_name="OXM_OF_ICMPV4_TYPE")
_f("icmp_code", "", "tp_dst", 8, "decimal", False, "icmp", "of10",
   (NXM_OF, 14), _oxm(20), nxm_name="NXM_OF_ICMP_CODE",
   oxm_name="OXM_OF_ICMPV4_CODE")
_f("icmpv6_type", "", "tp_src", 8, "decimal", False, "icmpv6", "nxm",
   (NXM_NX, 21), _oxm(29), nxm_name="NXM_NX_ICMPV6_TYPE",
   oxm_name="OXM_OF_ICMPV6_TYPE")
_f("icmpv6_code", "", "tp_dst", 8, "decimal", False, "icmpv6", "nxm",
   (NXM_NX, 22), _oxm(30), nxm_name="NXM_NX_ICMPV6_CODE",
   oxm_name="OXM_OF_ICMPV6_CODE")
_f("nd_target", "", "nd_target", 128, "ipv6", True, "nd", "nxm",
   (NXM_NX, 23), _oxm(31), nxm_name="NXM_NX_ND_TARGET",
   oxm_name="OXM_OF_IPV6_ND_TARGET")
_f("nd_sll", "", "arp_sha", 48, "ethernet", True, "nd_solicit", "nxm",
   (NXM_NX, 24), _oxm(32), nxm_name="NXM_NX_ND_SLL",
   oxm_name="OXM_OF_IPV6_ND_SLL")
_f("nd_tll", "", "arp_tha", 48, "ethernet", True, "nd_advert", "nxm",
   (NXM_NX, 25), _oxm(33), nxm_name="NXM_NX_ND_TLL",
   oxm_name="OXM_OF_IPV6_ND_TLL")

# Ericsson's OXM class (ERICOXM_OF_*), in NXM and OXM alike.
ERICOXM_OF = 0x1000
_f("nd_reserved", "", "nd_reserved", 32, "decimal", False, "nd", "nxm",
   None, ((ERICOXM_OF, 1, None, OFP12),), oxm_name="ERICOXM_OF_ICMPV6_ND_RESERVED")
_f("nd_options_type", "", "nd_options_type", 8, "decimal", False, "nd", "nxm",
   None, ((ERICOXM_OF, 2, None, OFP12),),
   oxm_name="ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE")


# --- packet_type and NSH (NXOXM: the Nicira experimenter OXM class) -------
NX_EXPERIMENTER_ID = 0x005ad650
ETH_TYPE_NSH = 0x894f
_f("packet_type", "", "packet_type", 32, "packet_type", False, "none", "nxm",
   None, _oxm(44, OFP13), oxm_name="OXM_OF_PACKET_TYPE", writable=False)


def _nxoxm(code):
    return ((OXM_EXPERIMENTER, code, NX_EXPERIMENTER_ID, OFP13),)


# (nsh_ttl is 6 bits held in a byte; its values above 63 are invalid.)
for _name, _code, _bits, _fmt, _mask, _w in (
        ("nsh_flags", 1, 8, "decimal", True, True),
        ("nsh_ttl", 10, 8, "decimal", False, True),
        ("nsh_mdtype", 2, 8, "decimal", False, False),
        ("nsh_np", 3, 8, "decimal", False, False),
        ("nsh_spi", 4, 24, "hexadecimal", False, True),
        ("nsh_si", 5, 8, "decimal", False, True),
        *((f"nsh_c{_i}", 5 + _i, 32, "hexadecimal", True, True)
          for _i in range(1, 5))):
    _f(_name, "", _name, _bits, _fmt, _mask, "nsh", "nxm", None, _nxoxm(_code),
       n_bytes=4 if _name == "nsh_spi" else None,
       oxm_name="NXOXM_" + _name.upper(), writable=_w)

#: Highest valid value of fields whose storage is wider than their values.
MAX_VALID = {"nsh_ttl": 63}


def field_by_name(name):
    """The Field called NAME (name, alias, NXM or OXM name), or None."""
    return _BY_NAME.get(name)


def field_by_header(cls, code, experimenter=None):
    """The Field with NXM/OXM header (CLS, CODE[, EXPERIMENTER]), or None."""
    return _BY_HEADER.get((cls, code, experimenter))
