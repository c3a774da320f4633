"""A flow match: values and masks over the members of a flow.

A :class:`Match` maps each flow member of ``fields.STORAGE`` that it
constrains to ``(value, mask)`` (integers, value already masked).  Fields are
views onto those members (``dl_vlan`` is bits 0-11 of ``vlan_tci``, ``tcp_src``
and ``icmp_type`` are both ``tp_src``), so setting a field only touches its
bits, and printing works from the members exactly as OVS's match_format()
does: the members decide the text, whichever names were used to write them.

Public API:
  Match(): .set_field(field, value, mask=None); .get(storage) -> (value, mask);
    .is_set(storage); .clear(storage); .normalize() -> bool (OVS's
    ofputil_normalize_match: drops fields whose prerequisites the match does
    not meet); .usable_protocols() -> protocol bitmask (see protocols.py);
    .format(priority=OFP_DEFAULT_PRIORITY, port_names=None) -> str;
    ==, copy().
  parse_field_value(field, text, port_names=None) -> (value, mask or None)
    raises FlowParseError with ovs-ofctl's wording.
  format_field_value(field, value, mask=None) -> str (as mf_format does).
"""

import ipaddress
import re

from . import fields as F
from .errors import FlowParseError
from .ports import port_from_string, port_to_string, OFPP_MAX
from . import protocols as P

OFP_DEFAULT_PRIORITY = 0x8000
VLAN_CFI = 0x1000
VLAN_VID_MASK = 0x0fff
VLAN_PCP_MASK = 0xe000
FRAG_ANY, FRAG_LATER = 1, 2

TCP_FLAG_NAMES = {0x001: "fin", 0x002: "syn", 0x004: "rst", 0x008: "psh",
                  0x010: "ack", 0x020: "urg", 0x040: "ece", 0x080: "cwr",
                  0x100: "ns", 0x200: "[200]", 0x400: "[400]", 0x800: "[800]"}
CT_STATE_NAMES = {0x01: "new", 0x02: "est", 0x04: "rel", 0x08: "rpl",
                  0x10: "inv", 0x20: "trk", 0x40: "snat", 0x80: "dnat"}
TUN_FLAG_NAMES = {0x1: "oam"}
FLAG_NAMES = {"tcp_flags": (TCP_FLAG_NAMES, 0x0fff),
              "ct_state": (CT_STATE_NAMES, 0xff),
              "tun_flags": (TUN_FLAG_NAMES, 0x1)}
# What OVS's flag errors call each kind of flag.
_FLAG_NOUNS = {"tcp_flags": "TCP", "tun_flags": "tunnel"}
FRAG_VALUES = {"no": (0, FRAG_ANY | FRAG_LATER), "yes": (FRAG_ANY, FRAG_ANY),
               "first": (FRAG_ANY, FRAG_ANY | FRAG_LATER),
               "later": (FRAG_ANY | FRAG_LATER, FRAG_ANY | FRAG_LATER),
               "not_later": (0, FRAG_LATER)}

MAX_VALUE_LEN = 1024

PT_ETH = 0              # packet_type (0,0): Ethernet, the default
NSH_STORAGE = ("nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi",
               "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")


# Flow members only NXM/OXM can match (OpenFlow 1.0 and 1.1 cannot).
_NXM_ONLY = frozenset({
    "dp_hash", "recirc_id", "conj_id", "pkt_mark", "tun_id", "tun_src",
    "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_gbp_id", "tun_gbp_flags",
    "tun_flags",
    "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_proto", "ct_nw_src",
    "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "ct_tp_src", "ct_tp_dst",
    "ipv6_src", "ipv6_dst", "ipv6_label", "nd_target", "arp_sha", "arp_tha",
    *(f"tun_metadata{i}" for i in range(F.N_TUN_METADATA)),
    "nw_ttl", "nw_frag", "tcp_flags", "actset_output", "nd_reserved",
    "nd_options_type", "packet_type",
    *(f"reg{i}" for i in range(16)), *NSH_STORAGE})


def _reg_words(name):
    """The 32-bit registers xreg<i>/xxreg<i> are made of, highest first."""
    if name.startswith("xxreg"):
        i = int(name[5:])
        return [f"reg{4 * i + k}" for k in range(4)]
    if name.startswith("xreg"):
        i = int(name[4:])
        return [f"reg{2 * i}", f"reg{2 * i + 1}"]
    return None


class Match:
    __slots__ = ("values",)

    def __init__(self, values=None):
        self.values = dict(values or {})

    def copy(self):
        return Match(self.values)

    def __eq__(self, other):
        return isinstance(other, Match) and self.values == other.values

    def __hash__(self):
        return hash(frozenset(self.values.items()))

    def __repr__(self):
        return f"Match({self.format()!r})"

    # --- storage access ---------------------------------------------------
    def get(self, storage):
        return self.values.get(storage, (0, 0))

    def value(self, storage):
        return self.values.get(storage, (0, 0))[0]

    def mask(self, storage):
        v = self.values.get(storage)
        return 0 if v is None else v[1]

    def is_set(self, storage):
        v = self.values.get(storage)
        return v is not None and v[1] != 0

    def clear(self, storage):
        self.values.pop(storage, None)

    def set_bits(self, storage, value, mask, covered):
        """Replace the COVERED bits of STORAGE by VALUE/MASK."""
        old_v, old_m = self.get(storage)
        new_m = (old_m & ~covered) | (mask & covered)
        new_v = ((old_v & ~covered) | (value & covered)) & new_m
        if new_m:
            self.values[storage] = (new_v, new_m)
        else:
            self.values.pop(storage, None)

    def set_storage(self, storage, value, mask=None):
        full = (1 << F.STORAGE[storage]) - 1
        if mask is None:
            mask = full
        self.set_bits(storage, value & mask, mask, full)

    # --- fields -------------------------------------------------------------
    def set_field(self, field, value, mask=None):
        """Set FIELD (a fields.Field) to VALUE, masked by MASK (None: exact)."""
        name = field.name
        if name == "dl_vlan":
            if value == 0xffff:
                self.set_storage("vlan_tci", 0, 0xffff)
            else:
                vid = (value & VLAN_VID_MASK) | VLAN_CFI
                cov = VLAN_VID_MASK | VLAN_CFI
                self.set_bits("vlan_tci", vid, cov, cov)
            return
        if name in ("dl_vlan_pcp", "vlan_pcp"):
            cov = VLAN_PCP_MASK | VLAN_CFI
            self.set_bits("vlan_tci", ((value & 7) << 13) | VLAN_CFI, cov, cov)
            return
        regs = _reg_words(name)
        if regs:
            m = field.max_value if mask is None else mask
            for k, reg in enumerate(reversed(regs)):
                self.set_bits(reg, (value >> 32 * k) & 0xffffffff,
                              (m >> 32 * k) & 0xffffffff, 0xffffffff)
            return
        if name in ("icmp_type", "icmp_code", "icmpv6_type", "icmpv6_code"):
            # As OVS: the ICMP type/code is the whole 16-bit tp_src/tp_dst.
            self.set_bits(field.storage, value & 0xff, 0xffff, 0xffff)
            return
        if name == "in_port_oxm":
            value = _port32_to_16(value)
            field = F.field_by_name("in_port")
        if name == "actset_output":      # kept as a 16-bit port, as in_port
            self.set_storage("actset_output", _port32_to_16(value))
            return
        if name == "nw_tos":
            value >>= 2
        if name == "arp_op":
            value &= 0xff
        if mask is None:
            mask = field.max_value
        cov = field.storage_mask
        self.set_bits(field.storage, (value << field.shift) & cov,
                      (mask << field.shift) & cov, cov)

    def get_field(self, field):
        """(value, mask) of FIELD as its own bits."""
        regs = _reg_words(field.name)
        if regs:
            v = m = 0
            for reg in regs:
                rv, rm = self.get(reg)
                v, m = (v << 32) | rv, (m << 32) | rm
            return v, m
        v, m = self.get(field.storage)
        v = (v >> field.shift) & field.max_value
        m = (m >> field.shift) & field.max_value
        if field.name == "nw_tos":
            v <<= 2
            m <<= 2
        return v, m

    # --- prerequisites and normalisation ----------------------------------
    def _dl_type(self):
        return self.value("dl_type") if self.mask("dl_type") == 0xffff else None

    def packet_type(self):
        """The exact packet_type matched (ns << 16 | type), or None."""
        v, m = self.get("packet_type")
        return v if m == 0xffffffff else None

    def flow_dl_type(self):
        """The Ethertype the match implies: dl_type, or the type of a
        packet_type in the Ethertype namespace (as OVS copies it into the
        flow's dl_type)."""
        pt = self.packet_type()
        if pt is not None and pt >> 16 == 1:
            return pt & 0xffff
        return self._dl_type()

    def _nw_proto(self):
        return self.value("nw_proto") if self.mask("nw_proto") == 0xff else None

    def normalize(self):
        """Clear what the dl_type/nw_proto do not allow (OVS's
        ofputil_normalize_match).  Returns True if anything changed."""
        before = dict(self.values)
        dl_type = self.flow_dl_type()
        proto = self.value("nw_proto")
        tp_src = self.value("tp_src")
        may = set()
        if dl_type == F.ETH_TYPE_IP:
            may |= {"nw_proto", "ipvx", "nw_addr"}
            if proto in (F.IPPROTO_TCP, F.IPPROTO_UDP, F.IPPROTO_SCTP,
                         F.IPPROTO_ICMP):
                may.add("tp")
        elif dl_type == F.ETH_TYPE_IPV6:
            may |= {"nw_proto", "ipvx", "ipv6"}
            if proto in (F.IPPROTO_TCP, F.IPPROTO_UDP, F.IPPROTO_SCTP):
                may.add("tp")
            elif proto == F.IPPROTO_ICMPV6:
                may.add("tp")
                if tp_src == 135:
                    may |= {"nd_target", "arp_sha"}
                elif tp_src == 136:
                    may |= {"nd_target", "arp_tha"}
        elif dl_type in (F.ETH_TYPE_ARP, F.ETH_TYPE_RARP):
            may |= {"nw_proto", "nw_addr", "arp_sha", "arp_tha"}
        elif dl_type in (F.ETH_TYPE_MPLS, F.ETH_TYPE_MPLS_MCAST):
            may.add("mpls")
        drop = []
        if "nw_addr" not in may:
            drop += ["nw_src", "nw_dst"]
        if "tp" not in may:
            drop += ["tp_src", "tp_dst"]
        if "nw_proto" not in may:
            drop.append("nw_proto")
        if "ipvx" not in may:
            drop += ["nw_tos", "nw_ttl"]
        if "arp_sha" not in may:
            drop.append("arp_sha")
        if "arp_tha" not in may:
            drop.append("arp_tha")
        if "ipv6" not in may:
            drop += ["ipv6_src", "ipv6_dst", "ipv6_label"]
        if "nd_target" not in may:
            drop.append("nd_target")   # OVS keeps nd_reserved/options_type
        if "mpls" not in may:
            drop.append("mpls_lse")
        for s in drop:
            self.values.pop(s, None)
        return self.values != before

    def prereqs_ok(self, field):
        """Whether this match meets FIELD's prerequisite (mf_are_prereqs_ok)."""
        pr = field.prereq
        dl = self.flow_dl_type()
        proto = self._nw_proto()
        ip_any = dl in (F.ETH_TYPE_IP, F.ETH_TYPE_IPV6)
        if pr == "none":
            return True
        if pr == "vlan":
            return bool(self.mask("vlan_tci") & VLAN_CFI
                        and self.value("vlan_tci") & VLAN_CFI)
        if pr == "arp":
            return dl in (F.ETH_TYPE_ARP, F.ETH_TYPE_RARP)
        if pr == "ip":
            return dl == F.ETH_TYPE_IP
        if pr == "ipv6":
            return dl == F.ETH_TYPE_IPV6
        if pr == "ip_any":
            return ip_any
        if pr == "mpls":
            return dl in (F.ETH_TYPE_MPLS, F.ETH_TYPE_MPLS_MCAST)
        if pr in ("tcp", "udp", "sctp"):
            want = {"tcp": F.IPPROTO_TCP, "udp": F.IPPROTO_UDP,
                    "sctp": F.IPPROTO_SCTP}[pr]
            return ip_any and proto == want
        if pr == "icmp":
            return dl == F.ETH_TYPE_IP and proto == F.IPPROTO_ICMP
        if pr in ("icmpv6", "nd", "nd_solicit", "nd_advert"):
            if not (dl == F.ETH_TYPE_IPV6 and proto == F.IPPROTO_ICMPV6):
                return False
            if pr == "icmpv6":
                return True
            t = self.value("tp_src") if self.mask("tp_src") & 0xff == 0xff else None
            code_ok = self.mask("tp_dst") & 0xff == 0xff and self.value("tp_dst") == 0
            if pr == "nd":
                return t in (135, 136) and code_ok
            return t == (135 if pr == "nd_solicit" else 136) and code_ok
        if pr == "ct":
            return bool(self.value("ct_state") & 0x20)
        if pr == "nsh":
            return dl == F.ETH_TYPE_NSH
        return True

    # --- protocols ----------------------------------------------------------
    def usable_protocols(self):
        """The protocols (protocols.P_* bitmask) that can express this match."""
        v = self.values
        for s in ("skb_priority", "tun_ttl", "tun_tos"):
            if s in v:
                return 0
        if not _NXM_ONLY.isdisjoint(v):
            return P.NXM_OXM_ANY
        if self._dl_type() == F.ETH_TYPE_IPV6:
            return P.NXM_OXM_ANY
        if self.mask("nw_tos") & 0x03:
            return P.NXM_OF11_UP
        if self.mask("mpls_lse") & 0x1ff:          # bos, ttl
            return P.NXM_OXM_ANY
        if "mpls_lse" in v:
            return P.NXM_OF11_UP
        for s in ("tp_src", "tp_dst"):
            if self.mask(s) not in (0, 0xffff) and not (
                    self._nw_proto() in (F.IPPROTO_ICMP, F.IPPROTO_ICMPV6)
                    and self.mask(s) == 0xff):
                return P.NXM_OXM_ANY
        vv, vm = self.get("vlan_tci")
        if vm and not (
                (vm == 0xffff and vv == 0)
                or (vm & VLAN_CFI and vv & VLAN_CFI
                    and (vm & VLAN_VID_MASK) in (0, VLAN_VID_MASK)
                    and (vm & VLAN_PCP_MASK) in (0, VLAN_PCP_MASK)
                    and vm & (VLAN_VID_MASK | VLAN_PCP_MASK))):
            return P.NXM_OXM_ANY
        if "metadata" in v:
            return P.NXM_OF11_UP
        for s in ("dl_src", "dl_dst"):
            if self.mask(s) not in (0, (1 << 48) - 1):
                return P.NXM_OF11_UP
        for s in ("nw_src", "nw_dst"):
            if _cidr_len(self.mask(s), 32) is None:
                return P.NXM_OF11_UP
        return P.ANY

    # --- printing -----------------------------------------------------------
    def format(self, priority=OFP_DEFAULT_PRIORITY, port_names=None):
        """The match as ovs-ofctl prints it (OVS's match_format())."""
        out = []
        put = out.append
        if priority != OFP_DEFAULT_PRIORITY:
            put(f"priority={priority}")
        self._put_u32m(out, "pkt_mark")
        if self.is_set("recirc_id"):
            put(f"recirc_id={_hex(self.value('recirc_id'))}")
        self._put_u32m(out, "dp_hash")
        if self.is_set("conj_id"):
            put(f"conj_id={self.value('conj_id')}")
        if self.is_set("skb_priority"):
            put(f"skb_priority={_hex(self.value('skb_priority'))}")
        if self.is_set("actset_output"):
            put("actset_output=" + port_to_string(self.value("actset_output"),
                                                  port_names))
        if self.is_set("ct_state"):
            v, m = self.get("ct_state")
            put("ct_state=" + format_flags(CT_STATE_NAMES, v, m, 0xff))
        if self.is_set("ct_zone"):
            put(f"ct_zone={self.value('ct_zone')}")
        self._put_u32m(out, "ct_mark")
        if self.is_set("ct_label"):
            v, m = self.get("ct_label")
            put("ct_label=" + _hex(v) + ("" if m == (1 << 128) - 1
                                          else "/" + _hex(m)))
        for s in ("ct_nw_src", "ct_nw_dst"):
            self._put_ip(out, s, s)
        for s in ("ct_ipv6_src", "ct_ipv6_dst"):
            self._put_ipv6(out, s, s)
        if self.is_set("ct_nw_proto"):
            put(f"ct_nw_proto={self.value('ct_nw_proto')}")
        for s in ("ct_tp_src", "ct_tp_dst"):
            self._put_be16m(out, s, s)

        pt = self.get("packet_type")
        if pt[1] and pt != (PT_ETH, 0xffffffff):
            put("packet_type=" + format_packet_type(*pt))
        dl_type = self._dl_type()
        skip_type = skip_proto = False
        if dl_type is not None:
            skip_type = True
            proto = self._nw_proto()
            if dl_type == F.ETH_TYPE_IP:
                names = {F.IPPROTO_ICMP: "icmp", F.IPPROTO_IGMP: "igmp",
                         F.IPPROTO_TCP: "tcp", F.IPPROTO_UDP: "udp",
                         F.IPPROTO_SCTP: "sctp"}
                if proto in names:
                    put(names[proto])
                    skip_proto = True
                else:
                    put("ip")
            elif dl_type == F.ETH_TYPE_IPV6:
                names = {F.IPPROTO_ICMPV6: "icmp6", F.IPPROTO_TCP: "tcp6",
                         F.IPPROTO_UDP: "udp6", F.IPPROTO_SCTP: "sctp6"}
                if proto in names:
                    put(names[proto])
                    skip_proto = True
                else:
                    put("ipv6")
            elif dl_type == F.ETH_TYPE_ARP:
                put("arp")
            elif dl_type == F.ETH_TYPE_RARP:
                put("rarp")
            elif dl_type == F.ETH_TYPE_MPLS:
                put("mpls")
            elif dl_type == F.ETH_TYPE_MPLS_MCAST:
                put("mplsm")
            else:
                skip_type = False
        for name in _REG_NAMES:
            if name in self.values:
                self._put_u32m(out, name)
        self._put_u64m(out, "tun_id")
        self._put_ip(out, "tun_src", "tun_src")
        self._put_ip(out, "tun_dst", "tun_dst")
        self._put_ipv6(out, "tun_ipv6_src", "tun_ipv6_src")
        self._put_ipv6(out, "tun_ipv6_dst", "tun_ipv6_dst")
        self._put_be16m(out, "tun_gbp_id", "tun_gbp_id")
        if self.is_set("tun_gbp_flags"):
            v = self.value("tun_gbp_flags")
            put(f"tun_gbp_flags={_hex(v)}")     # no mask, as OVS prints it
        if self.is_set("tun_flags"):
            v, m = self.get("tun_flags")
            # (A full mask is OVS's 16 bits, so one flag prints as +oam.)
            put("tun_flags=" + format_flags(TUN_FLAG_NAMES, v, m, 0xffff))
        for name in (_TUN_MD_NAMES if not _TUN_MD_SET.isdisjoint(self.values) else ()):
            if self.is_set(name):
                v, m = self.get(name)
                out.append(f"{name}={_hex(v)}" + (
                    "" if m == (1 << F.TUN_METADATA_BITS) - 1 else "/" + _hex(m)))
        self._put_u64m(out, "metadata")
        if self.is_set("in_port"):
            put("in_port=" + port_to_string(self.value("in_port"), port_names))
        vv, vm = self.get("vlan_tci")
        if vm:
            vid_m, pcp_m, cfi = vm & VLAN_VID_MASK, vm & VLAN_PCP_MASK, vm & VLAN_CFI
            if (cfi and vv & VLAN_CFI
                    and vid_m in (0, VLAN_VID_MASK)
                    and pcp_m in (0, VLAN_PCP_MASK) and (vid_m or pcp_m)):
                if vid_m:
                    put(f"dl_vlan={vv & VLAN_VID_MASK}")
                if pcp_m:
                    put(f"dl_vlan_pcp={vv >> 13}")
            elif vm == 0xffff:
                put(f"vlan_tci=0x{vv:04x}")
            else:
                put(f"vlan_tci=0x{vv:04x}/0x{vm:04x}")
        self._put_eth(out, "dl_src", "dl_src")
        self._put_eth(out, "dl_dst", "dl_dst")
        if not skip_type and self.is_set("dl_type"):
            put(f"dl_type=0x{self.value('dl_type'):04x}")
        dl_type = self.flow_dl_type()
        if dl_type == F.ETH_TYPE_NSH:
            self._put_nsh(out)
        lv, lm = self.get("mpls_lse")
        if lm & 0xfffff000:
            put(f"mpls_label={lv >> 12}")
        if lm & 0xe00:
            put(f"mpls_tc={(lv >> 9) & 7}")
        if lm & 0xff:
            put(f"mpls_ttl={lv & 0xff}")
        if lm & 0x100:
            put(f"mpls_bos={(lv >> 8) & 1}")
        is_arp = dl_type in (F.ETH_TYPE_ARP, F.ETH_TYPE_RARP)
        if dl_type == F.ETH_TYPE_IPV6:
            self._put_ipv6(out, "ipv6_src", "ipv6_src")
            self._put_ipv6(out, "ipv6_dst", "ipv6_dst")
            if self.is_set("ipv6_label"):
                v, m = self.get("ipv6_label")
                if m == 0xfffff:
                    put(f"ipv6_label=0x{v:05x}")
                else:
                    put(f"ipv6_label=0x{v:05x}/0x{m:05x}")
        elif is_arp:
            self._put_ip(out, "nw_src", "arp_spa")
            self._put_ip(out, "nw_dst", "arp_tpa")
        else:
            self._put_ip(out, "nw_src", "nw_src")
            self._put_ip(out, "nw_dst", "nw_dst")
        if not skip_proto and self.is_set("nw_proto"):
            if is_arp:
                put(f"arp_op={self.value('nw_proto')}")
            else:
                put(f"nw_proto={self.value('nw_proto')}")
        if is_arp:
            self._put_eth(out, "arp_sha", "arp_sha")
            self._put_eth(out, "arp_tha", "arp_tha")
        tv, tm = self.get("nw_tos")
        if tm & 0xfc:
            put(f"nw_tos={tv & 0xfc}")
        if tm & 0x03:
            put(f"nw_ecn={tv & 0x03}")
        if self.is_set("nw_ttl"):
            put(f"nw_ttl={self.value('nw_ttl')}")
        fv, fm = self.get("nw_frag")
        if fm == FRAG_ANY | FRAG_LATER:
            put("nw_frag=" + {0: "no", 1: "first", 3: "later"}.get(fv, "<error>"))
        elif fm == FRAG_ANY:
            put("nw_frag=" + ("yes" if fv else "no"))
        elif fm == FRAG_LATER:
            put("nw_frag=" + ("later" if fv else "not_later"))
        proto = self.value("nw_proto")
        icmp = ((dl_type == F.ETH_TYPE_IP and proto == F.IPPROTO_ICMP)
                or (dl_type == F.ETH_TYPE_IPV6 and proto == F.IPPROTO_ICMPV6))
        if icmp:
            if self.is_set("tp_src"):
                put(f"icmp_type={self.value('tp_src')}")
            if self.is_set("tp_dst"):
                put(f"icmp_code={self.value('tp_dst')}")
        elif dl_type == F.ETH_TYPE_IP and proto == F.IPPROTO_IGMP:
            if self.is_set("tp_src"):
                put(f"igmp_type={self.value('tp_src')}")
            if self.is_set("tp_dst"):
                put(f"igmp_code={self.value('tp_dst')}")
        else:
            self._put_be16m(out, "tp_src", "tp_src")
            self._put_be16m(out, "tp_dst", "tp_dst")
        if (dl_type in (F.ETH_TYPE_IP, F.ETH_TYPE_IPV6)
                and proto == F.IPPROTO_TCP and self.is_set("tcp_flags")):
            v, m = self.get("tcp_flags")
            put("tcp_flags=" + format_flags(TCP_FLAG_NAMES, v, m, 0x0fff))
        if dl_type == F.ETH_TYPE_IPV6 and proto == F.IPPROTO_ICMPV6:
            self._put_ipv6(out, "nd_target", "nd_target")
            self._put_eth(out, "arp_sha", "nd_sll")
            self._put_eth(out, "arp_tha", "nd_tll")
            for s in ("nd_reserved", "nd_options_type"):
                if self.is_set(s):
                    put(f"{s}={self.value(s)}")
        return ",".join(out)

    def _put_nsh(self, out):
        """OVS's format_nsh_masked(): the context headers only for MD type 1."""
        names = list(NSH_STORAGE[:6])
        if self.get("nsh_mdtype") == (1, 0xff):
            names += NSH_STORAGE[6:]
        for s in names:
            v, m = self.get(s)
            if not m:
                continue
            if F.STORAGE[s] == 8:
                out.append(f"{s}={v}" if m == 0xff
                           else f"{s}=0x{v:02x}/0x{m:02x}")
            else:
                full = (1 << F.STORAGE[s]) - 1
                out.append(f"{s}=0x{v:x}" if m == full
                           else f"{s}=0x{v:x}/0x{m:x}")

    def _put_u32m(self, out, storage):
        if self.is_set(storage):
            v, m = self.get(storage)
            out.append(f"{storage}={_hex(v)}" +
                       ("" if m == 0xffffffff else "/" + _hex(m)))

    def _put_u64m(self, out, storage):
        if self.is_set(storage):
            v, m = self.get(storage)
            out.append(f"{storage}={_hex(v)}" +
                       ("" if m == (1 << 64) - 1 else "/" + _hex(m)))

    def _put_be16m(self, out, storage, name):
        if self.is_set(storage):
            v, m = self.get(storage)
            if m == (1 << F.STORAGE[storage]) - 1:
                out.append(f"{name}={v}")
            else:
                out.append(f"{name}=0x{v:x}/0x{m:x}")

    def _put_eth(self, out, storage, name):
        if self.is_set(storage):
            v, m = self.get(storage)
            text = f"{name}={format_eth(v)}"
            if m != (1 << 48) - 1:
                text += "/" + format_eth(m)
            out.append(text)

    def _put_ip(self, out, storage, name):
        if self.is_set(storage):
            v, m = self.get(storage)
            out.append(f"{name}={format_ipv4_masked(v, m)}")

    def _put_ipv6(self, out, storage, name):
        if self.is_set(storage):
            v, m = self.get(storage)
            out.append(f"{name}={format_ipv6_masked(v, m)}")


_REG_NAMES = tuple(f"reg{i}" for i in range(16))
_TUN_MD_NAMES = tuple(f"tun_metadata{i}" for i in range(F.N_TUN_METADATA))
_TUN_MD_SET = frozenset(_TUN_MD_NAMES)


# --- value formatting ------------------------------------------------------

def _hex(v):
    return "0" if v == 0 else f"0x{v:x}"


def format_eth(v):
    return ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))


def _cidr_len(mask, width):
    """Prefix length if MASK is a CIDR mask of WIDTH bits, else None."""
    full = (1 << width) - 1
    inv = ~mask & full
    if inv & (inv + 1):
        return None
    return width - inv.bit_length()


def format_ipv4(v):
    return str(ipaddress.IPv4Address(v))


def format_ipv4_masked(v, m):
    text = format_ipv4(v)
    if m != 0xffffffff:
        plen = _cidr_len(m, 32)
        text += f"/{plen}" if plen is not None else "/" + format_ipv4(m)
    return text


def format_ipv6(v):
    return str(ipaddress.IPv6Address(v))


def format_ipv6_masked(v, m):
    text = format_ipv6(v)
    if m != (1 << 128) - 1:
        plen = _cidr_len(m, 128)
        text += f"/{plen}" if plen is not None else "/" + format_ipv6(m)
    return text


def format_flags(names, value, mask, max_mask):
    """OVS's format_flags_masked() without the name."""
    if mask == max_mask or mask == (1 << 32) - 1:
        if value == 0:
            return "0"
        parts = []
        rest = value
        while rest:
            bit = rest & -rest
            parts.append(names.get(bit, f"0x{bit:x}"))
            rest &= ~bit
        return "|".join(parts)
    if mask == 0:
        return "0/0"
    parts = []
    while mask:
        bit = mask & -mask
        parts.append(("+" if value & bit else "-") + names.get(bit, f"[{bit:x}]"))
        mask &= ~bit
    return "".join(parts)


def _small_hex(v):
    return str(v) if v < 10 else f"0x{v:x}"


def format_packet_type(value, mask=0xffffffff):
    """A packet_type as OVS writes it: (NS,TYPE)."""
    return f"({_small_hex(value >> 16)},{_small_hex(value & 0xffff)})"


def parse_packet_type(text):
    """"(NS,TYPE)" -> NS << 16 | TYPE, with OVS's errors."""
    def number(s, what):
        if s[:2].lower() == "0x":
            j = 2
            while j < len(s) and s[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == 2 or int(s[2:j], 16) >> 16:
                raise FlowParseError(f"{s}: bad syntax for packet type {what}")
            return int(s[2:j], 16), s[j:]
        m = _STRTOUL.match(s)
        v = parse_int(m.group(1)) if m and m.group(1) else None
        if v is None or m.group(1).lstrip().startswith("-") or v >> 16:
            raise FlowParseError(f"{s}: bad syntax for packet type {what}")
        return v, s[m.end():]

    if text[:1] != "(":
        raise FlowParseError(f"{text}: bad syntax for packet type missing '('")
    s = text[1:]
    ns, tail = number(s, "ns")
    if tail[:1] != ",":
        raise FlowParseError(f"{s}: bad syntax for packet type missing ','")
    s = tail[1:]
    ns_type, tail = number(s, "ns_type")
    if tail[:1] != ")":
        raise FlowParseError(f"{s}: bad syntax for packet type missing ')'")
    return ns << 16 | ns_type


# What C's strtoull(s, &tail, 0) consumes: blanks, sign, then a number.
_STRTOUL = re.compile(r"(\s*[-+]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))")


def format_field_value(field, value, mask=None):
    """FIELD's VALUE[/MASK] as OVS's mf_format() writes it."""
    fmt = field.fmt
    if fmt == "packet_type":
        return format_packet_type(value)
    if fmt == "ethernet":
        text = format_eth(value)
        return text + ("/" + format_eth(mask) if mask is not None else "")
    if fmt == "ipv4":
        return format_ipv4_masked(value, mask if mask is not None else 0xffffffff)
    if fmt == "ipv6":
        return format_ipv6_masked(value, mask if mask is not None else (1 << 128) - 1)
    if fmt == "port":
        if field.n_bits == 32:
            value = _port32_to_16(value)
        return port_to_string(value)
    if fmt in FLAG_NAMES:
        names = FLAG_NAMES[fmt][0]
        full = (1 << field.n_bits) - 1
        return format_flags(names, value, full if mask is None else mask, full)
    if fmt == "frag":
        for name, (v, m) in FRAG_VALUES.items():
            if v == value and m == (mask if mask is not None else 3):
                return name
    if fmt == "hexadecimal":
        text = _hex(value)
    else:
        text = str(value)
    if mask is not None:
        text += "/" + _hex(mask)
    return text


# --- value parsing -----------------------------------------------------------

def parse_int(text):
    """An integer as C's strtoull with base 0 reads it, or None."""
    t = text.strip()
    if not t or len(t) > 100:
        return None
    if t[0] == "-" and len(t) > 1:
        v = parse_int(t[1:])
        return None if v is None or v >> 64 else (-v) % (1 << 64)
    try:
        if t[:2].lower() == "0x":
            return int(t[2:], 16) if t[2:] else None
        if len(t) > 1 and t[0] == "0":
            return int(t[1:], 8)
        if t.isdigit():
            return int(t)
    except ValueError:
        return None
    return None


def parse_eth(text):
    parts = text.split(":")
    if len(parts) != 6:
        return None
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        return None
    if any(not (0 <= o <= 255) or not p or len(p) > 2
           for o, p in zip(octets, parts)):
        return None
    return int.from_bytes(bytes(octets), "big")


def parse_ipv4(text):
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 10 for p in parts):
        return None
    # OVS scans each octet with %hhu, so out-of-range octets wrap.
    return int.from_bytes(bytes(int(p) & 0xff for p in parts), "big")


def parse_ipv6(text):
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def _parse_flags(field, text):
    names, full = FLAG_NAMES[field.fmt]
    by_name = {v: k for k, v in names.items()}
    if text[:1] in "+-":
        value = mask = 0
        i = 0
        while i < len(text):
            sign = text[i]
            if sign not in "+-":
                raise FlowParseError(f"{text}: {field.name} must be +flag1-flag2 etc.")
            j = i + 1
            while j < len(text) and text[j] not in "+-":
                j += 1
            name = text[i + 1:j]
            bit = by_name.get(name)
            if bit is None:
                raise FlowParseError(f"{name}: unknown "
                                     f"{_FLAG_NOUNS.get(field.name, field.name)} flag(s)")
            if mask & bit:
                raise FlowParseError(f"{name}: Each {field.name} flag can be specified only once")
            mask |= bit
            if sign == "+":
                value |= bit
            i = j
        return value, mask
    if text[:1].isdigit():
        return _parse_integer(field, text)
    value = 0
    for name in text.split("|"):
        bit = by_name.get(name)
        if bit is None:
            raise FlowParseError(f"{name}: unknown "
                                 f"{_FLAG_NOUNS.get(field.name, field.name)} flag(s)")
        value |= bit
    return value, None


def _parse_integer(field, text):
    vtext, sep, mtext = text.partition("/")
    value = parse_int(vtext)
    if value is None:
        raise FlowParseError(f"{text}: bad syntax for {field.name} value")
    limit = 1 << (8 * field.n_bytes)
    if value >= limit:
        raise FlowParseError(f"{vtext}: value too large for {field.n_bytes}-byte "
                             f"field {field.name}")
    mask = None
    if sep:
        mask = parse_int(mtext)
        if mask is None:
            raise FlowParseError(f"{text}: bad syntax for {field.name} mask")
        if mask >= limit:
            raise FlowParseError(f"{mtext}: value too large for {field.n_bytes}-byte "
                                 f"field {field.name}")
    return value, mask


def parse_field_value(field, text, port_names=None):
    """Parse TEXT as a value of FIELD: (value, mask or None)."""
    if len(text) > MAX_VALUE_LEN:
        raise FlowParseError(f"{field.name}: value too long")
    fmt = field.fmt
    if fmt == "packet_type":
        return parse_packet_type(text), None
    if fmt == "port":
        port = port_from_string(text, port_names if field.n_bits == 16 else None)
        if port is None and field.n_bits == 32:
            raise FlowParseError(f"{text}: port value out of range for {field.name}")
        if port is None:
            raise FlowParseError(f"{text}: invalid or unknown port for {field.name}")
        return (port if field.n_bits == 16 else _port16_to_32(port)), None
    if fmt in FLAG_NAMES:
        value, mask = _parse_flags(field, text)
    elif fmt == "frag":
        if text not in FRAG_VALUES:
            raise FlowParseError(f"{text}: unknown fragment type (valid types are "
                                 f"\"no\", \"yes\", \"first\", \"later\", \"not_first\"")
        value, mask = FRAG_VALUES[text]
    elif fmt == "ethernet":
        vtext, sep, mtext = text.partition("/")
        value = parse_eth(vtext)
        mask = parse_eth(mtext) if sep else None
        if value is None or (sep and mask is None):
            raise FlowParseError(f"{text}: invalid Ethernet address")
    elif fmt == "ipv4":
        vtext, sep, mtext = text.partition("/")
        value = parse_ipv4(vtext)
        if value is None:
            raise FlowParseError(f"{text}: invalid IP address")
        mask = None
        if sep:
            if mtext.isdigit() and len(mtext) <= 3:
                plen = int(mtext)
                if plen > 32:
                    raise FlowParseError(f"{text}: invalid IP address")
                mask = (0xffffffff << (32 - plen)) & 0xffffffff
            else:
                mask = parse_ipv4(mtext)
                if mask is None:
                    raise FlowParseError(f"{text}: invalid IP address")
    elif fmt == "ipv6":
        vtext, sep, mtext = text.partition("/")
        value = parse_ipv6(vtext)
        if value is None:
            raise FlowParseError(f"{text}: invalid IPv6 address")
        mask = None
        if sep:
            if mtext.isdigit() and len(mtext) <= 3:
                plen = int(mtext)
                if plen > 128:
                    raise FlowParseError(f"{text}: invalid IPv6 address")
                mask = ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
            else:
                mask = parse_ipv6(mtext)
                if mask is None:
                    raise FlowParseError(f"{text}: invalid IPv6 address")
    else:
        value, mask = _parse_integer(field, text)
    if mask is not None and not field.maskable and mask != (1 << field.n_bits) - 1:
        raise FlowParseError(f"{text}: invalid mask for field {field.name}")
    return value, mask


def _port16_to_32(port):
    return port + 0xffff0000 if port >= OFPP_MAX else port


def _port32_to_16(port):
    return port - 0xffff0000 if port >= 0xffffff00 else port & 0xffff
