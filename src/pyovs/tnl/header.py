"""The outer header of tnl_push, built once at translation time.

When a flow is output to a native tunnel port, OVS builds the whole
encapsulation (Ethernet + IPv4/IPv6 + UDP/GRE + VXLAN/Geneve/GRE key)
from the route (source address, output bridge), the neighbor cache (the
next hop's MAC) and the tunnel's configuration, and puts those bytes in
the datapath action tnl_push(tnl_port(N),header(...),out_port(M)).  The
variable parts are left for the datapath to fill per packet: IPv4 total
length 0 (the header checksum computed over that), IPv6 payload length
0, UDP source port and length 0.  As OVS's *_build_header():

* IPv4: DF (frag=0x4000) unless df_default=false, ttl default 64;
* UDP checksum: 0xffff ("to be computed") for IPv6, or with csum=true;
  otherwise 0;
* VXLAN: flags 0x08000000 (the I bit), VNI << 8;
* Geneve: protocol 0x6558, VNI << 8, options (TLVs) appended, the C flag
  when one of them has a critical type (geneve_options() makes them from a
  flow's tun_metadata<i> and the switch's TLV map);
* GRE: protocol 0x6558 (Ethernet) or the inner packet type's ethertype
  for packet_type=legacy_l3; K bit and key when the tunnel has a key, C
  bit and a zero checksum word when csum=true.

Public API: TNL_TYPE_GRE/VXLAN/GENEVE/IP6GRE (the header type numbers
OVS prints), build_header(tnl_type, eth_dst, eth_src, ip_src, ip_dst,
*, key=None, tos=0, ttl=64, df=True, csum=False, dst_port=None,
geneve_opts=b"", gre_proto=0x6558) -> (header_type, bytes).  key=None: no key
(GRE without the K bit; VNI 0 for VXLAN/Geneve).  EgressPortRange:
tnl/egress_port_range and the UDP source port from an RSS hash.
"""

import struct

from pyovs.packet import headers as h
from pyovs.packet.csum import csum as ip_csum
from pyovs.tnl.ovs_router import UINT32_MAX, is_v4_mapped, mapped

TNL_TYPE_GRE = 3           # OVS_VPORT_TYPE_GRE
TNL_TYPE_VXLAN = 4         # OVS_VPORT_TYPE_VXLAN
TNL_TYPE_GENEVE = 5        # OVS_VPORT_TYPE_GENEVE
TNL_TYPE_IP6GRE = 109      # OVS_VPORT_TYPE_IP6GRE

DEFAULT_DST_PORT = {"vxlan": 4789, "geneve": 6081}
_TYPES = {"vxlan": TNL_TYPE_VXLAN, "geneve": TNL_TYPE_GENEVE,
          "gre": TNL_TYPE_GRE, "ip6gre": TNL_TYPE_IP6GRE}
VXLAN_FLAGS = 0x08000000
MAX_GENEVE_OPTS = 252      # 63 words


def _addr(a):
    if isinstance(a, int):
        return a
    return mapped(a)


def _mac(m):
    if isinstance(m, int):
        return m.to_bytes(6, "big")
    if isinstance(m, (bytes, bytearray)):
        return bytes(m)
    return bytes.fromhex(m.replace(":", ""))


VXLAN_HF_GPE_VNI = 0x0c000000       # VXLAN-GPE's I and P flags


def build_header(tnl_type, eth_dst, eth_src, ip_src, ip_dst, *, key=None, tos=0,
                 ttl=64, df=True, csum=False, dst_port=None, geneve_opts=b"",
                 gre_proto=h.ETH_TYPE_TEB, gpe_np=None):
    """-> (header_type, bytes).  tnl_type: "vxlan", "geneve", "gre" or
    "ip6gre"; addresses as text, ipaddress objects or mapped ints.
    GPE_NP: a VXLAN-GPE header (exts=gpe) with this next protocol."""
    if tnl_type not in _TYPES:
        raise ValueError(f"{tnl_type}: tunnel type not supported")
    src, dst = _addr(ip_src), _addr(ip_dst)
    v4 = is_v4_mapped(dst)
    if v4 != is_v4_mapped(src):
        raise ValueError("tunnel source and destination of different families")
    if len(geneve_opts) > MAX_GENEVE_OPTS or len(geneve_opts) % 4:
        raise ValueError("geneve options: bad length")
    udp = tnl_type in ("vxlan", "geneve")
    proto = h.IPPROTO_UDP if udp else h.IPPROTO_GRE
    header_type = _TYPES[tnl_type]
    if tnl_type == "gre" and not v4:
        header_type = TNL_TYPE_IP6GRE

    out = bytearray(_mac(eth_dst) + _mac(eth_src)
                    + struct.pack("!H", h.ETH_TYPE_IP if v4 else h.ETH_TYPE_IPV6))
    if v4:
        ip = bytearray(h.IPV4_HEADER.pack(
            0x45, tos & 0xff, 0, 0, h.IP_DONT_FRAGMENT if df else 0, ttl & 0xff,
            proto, 0, (src & UINT32_MAX).to_bytes(4, "big"),
            (dst & UINT32_MAX).to_bytes(4, "big")))
        struct.pack_into("!H", ip, 10, ip_csum(ip))
        out += ip
    else:
        out += h.IPV6_HEADER.pack(6 << 28 | (tos & 0xff) << 20, 0, proto, ttl & 0xff,
                                  src.to_bytes(16, "big"), dst.to_bytes(16, "big"))
    if udp:
        port = dst_port if dst_port is not None else DEFAULT_DST_PORT[tnl_type]
        out += h.UDP_HEADER.pack(0, port, 0, 0xffff if (csum or not v4) else 0)
        vni = ((key or 0) & 0xffffff) << 8
        if tnl_type == "vxlan":
            flags = VXLAN_FLAGS if gpe_np is None else VXLAN_HF_GPE_VNI | gpe_np
            out += h.VXLAN_HEADER.pack(flags, vni)
        else:
            out += h.GENEVE_HEADER.pack(len(geneve_opts) // 4,
                                        h.GENEVE_CRIT if _critical(geneve_opts) else 0,
                                        h.ETH_TYPE_TEB, vni) + bytes(geneve_opts)
    else:
        flags = (h.GRE_CSUM if csum else 0) | (h.GRE_KEY if key is not None else 0)
        out += h.GRE_BASE_HEADER.pack(flags, gre_proto)
        if csum:
            out += bytes(4)
        if key is not None:
            out += struct.pack("!I", key & UINT32_MAX)
    return header_type, bytes(out)


def _critical(opts):
    """Whether a Geneve option list has an option of a critical type."""
    ofs = 0
    while ofs + 4 <= len(opts):
        if opts[ofs + 2] & h.GENEVE_CRIT_OPT_TYPE:
            return True
        ofs += 4 + (opts[ofs + 3] & 0x1f) * 4
    return False


def geneve_options(flow, tlv_map):
    """The Geneve options a flow's tun_metadata<i> fields stand for, in
    index order (OVS's tun_metadata_to_geneve_nlattr()): TLV_MAP maps an
    index to (class, type, length)."""
    out = b""
    for i in sorted(tlv_map):
        v = flow.get("tun_metadata%d" % i)
        if v is None:
            continue
        cls, typ, length = tlv_map[i]
        out += (struct.pack("!HBB", cls, typ, length // 4)
                + (v & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    return out


class EgressPortRange:
    """The UDP source port range of tunnel packets (tnl/egress_port_range);
    the datapath picks a port from the packet's RSS hash, as OVS's
    netdev_tnl_get_src_port()."""

    def __init__(self, lo=32768, hi=61000):
        self.min, self.max = lo, hi

    def src_port(self, rss_hash):
        return (((rss_hash & UINT32_MAX) * (self.max - self.min)) >> 32) + self.min

    def command(self, args):
        """-> reply text (OVS answers bad values with a normal reply)."""
        if len(args) < 2:
            return f"Tunnel UDP source port range: {self.min}-{self.max}\n"
        a, b = _atoi(args[0]), _atoi(args[1])
        if not 0 < a <= 0xFFFF:
            return "Invalid min."
        if not 0 < b <= 0xFFFF:
            return "Invalid max."
        self.min, self.max = min(a, b), max(a, b)
        return "OK"

    def register_unixctl_commands(self, server, on_change=None):
        def handler(conn, args):
            text = self.command(list(args))
            conn.reply(text)
            if on_change and text == "OK":
                on_change()
        server.register("tnl/egress_port_range", "min max", 0, 2, handler)


def _atoi(s):
    """C atoi(): leading blanks, optional sign, digits; 0 if none."""
    s = s.lstrip(" \t\n\v\f\r")[:24]
    sign = -1 if s[:1] == "-" else 1
    if s[:1] in ("-", "+"):
        s = s[1:]
    n = 0
    while n < len(s) and s[n] in "0123456789":
        n += 1
    return sign * int(s[:n]) if n else 0
