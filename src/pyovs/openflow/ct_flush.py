"""NXT_CT_FLUSH: flush conntrack entries by zone and original/reply tuple
(ovs-ofctl ct-flush SWITCH [zone=N] [CT_ORIG_TUPLE [CT_REPLY_TUPLE]]).

Text, wire layout (nested properties, IPv4 addresses as IPv4-mapped IPv6)
and printing are OVS 3.1's.  ICMP tuples (icmp_id/type/code, from which
OVS derives the reply tuple) are not supported yet and say so.

Public API:
  CtFlush(zone, orig, reply, nw_proto); CtTuple(src, dst, src_port, dst_port)
  parse_ct_flush(args) -> CtFlush (FlowParseError with ovs-ofctl's text)
  encode_ct_flush(version, xid, ctf); decode_ct_flush(msg) -> CtFlush
  format_ct_flush(msg) -> text after the header
"""

import ipaddress
import struct
from dataclasses import dataclass, field as dc_field

from .actions import split_items
from .errors import DecodeError, FlowParseError, Unsupported, BAD_REQUEST
from .match import parse_int

NX_VENDOR_ID = 0x00002320
NXT_CT_FLUSH = 32
NXT_CT_ORIG_TUPLE, NXT_CT_REPLY_TUPLE, NXT_CT_ZONE_ID = 0, 1, 2
NXT_CT_TUPLE_SRC, NXT_CT_TUPLE_DST = 0, 1
NXT_CT_TUPLE_SRC_PORT, NXT_CT_TUPLE_DST_PORT = 2, 3
_V4_MAPPED = 0xffff << 32


@dataclass
class CtTuple:
    src: int = 0            # 128-bit (IPv4 as ::ffff:a.b.c.d)
    dst: int = 0
    src_port: int = 0
    dst_port: int = 0

    def empty(self):
        return not (self.src or self.dst or self.src_port or self.dst_port)

    def is_v4(self):
        return any(a >> 32 == 0xffff for a in (self.src, self.dst))

    def format(self, v4):
        prefix = "ct_nw_" if v4 else "ct_ipv6_"
        return (f"{prefix}src={_addr_text(self.src)},"
                f"{prefix}dst={_addr_text(self.dst)},"
                f"ct_tp_src={self.src_port},ct_tp_dst={self.dst_port}")


@dataclass
class CtFlush:
    zone: int = None
    orig: CtTuple = dc_field(default_factory=CtTuple)
    reply: CtTuple = dc_field(default_factory=CtTuple)
    nw_proto: int = 0


def _addr_text(a):
    if a >> 32 == 0xffff:
        return str(ipaddress.IPv4Address(a & 0xffffffff))
    return str(ipaddress.IPv6Address(a))


_ADDR_FIELDS = {"ct_nw_src": ("src", 4), "ct_nw_dst": ("dst", 4),
                "ct_ipv6_src": ("src", 6), "ct_ipv6_dst": ("dst", 6)}
_PORT_FIELDS = {"ct_tp_src": "src_port", "ct_tp_dst": "dst_port"}


def _parse_tuple(text, ctf):
    t = CtTuple()
    seen = set()
    family = None
    for key, value in split_items(text):
        if not value:
            raise FlowParseError(f"field {key} missing value")
        if key in ("icmp_id", "icmp_type", "icmp_code"):
            raise Unsupported("ct-flush with ICMP tuples is not supported by "
                              "pyovs yet")
        if key not in _ADDR_FIELDS and key not in _PORT_FIELDS \
                and key != "ct_nw_proto":
            raise FlowParseError(f"invalid conntrack tuple field: {key}")
        if key in seen:
            raise FlowParseError(f"{key} is set multiple times")
        seen.add(key)
        if key in _ADDR_FIELDS:
            attr, fam = _ADDR_FIELDS[key]
            try:
                addr = (ipaddress.IPv4Address(value) if fam == 4
                        else ipaddress.IPv6Address(value))
            except ValueError:
                raise FlowParseError(f"failed to parse field {key}") from None
            if family is not None and family != fam:
                raise FlowParseError(f"the L3 protocol does not match {value}")
            family = fam
            setattr(t, attr, int(addr) | (_V4_MAPPED if fam == 4 else 0))
        elif key in _PORT_FIELDS:
            v = parse_int(value)
            if v is None or v >> 16:
                raise FlowParseError(f"failed to parse field {key}")
            setattr(t, _PORT_FIELDS[key], v)
        else:
            v = parse_int(value)
            if v is None or v >> 8:
                raise FlowParseError(f"failed to parse field {key}")
            ctf.nw_proto = v
    if (t.src_port or t.dst_port) and not ctf.nw_proto:
        raise FlowParseError("port is set without protocol")
    return t


def parse_ct_flush(args):
    """ARGS after the switch: [zone=N] [ORIG [REPLY]]."""
    ctf = CtFlush()
    args = list(args)
    if args and args[0].startswith("zone="):
        zone = parse_int(args.pop(0)[5:])
        if zone is None:
            raise FlowParseError("Failed to parse zone")
        ctf.zone = zone & 0xffff
    try:
        if args:
            ctf.orig = _parse_tuple(args[0], ctf)
        if len(args) > 1:
            ctf.reply = _parse_tuple(args[1], ctf)
    except FlowParseError as e:
        raise FlowParseError(f"Failed to parse ct-tuple: {e}") from None
    return ctf


def _prop(ptype, value):
    raw = struct.pack("!HH", ptype, 4 + len(value)) + value
    return raw + b"\0" * ((-len(raw)) % 8)


def _tuple_props(t):
    out = b""
    if t.src:
        out += _prop(NXT_CT_TUPLE_SRC, t.src.to_bytes(16, "big"))
    if t.dst:
        out += _prop(NXT_CT_TUPLE_DST, t.dst.to_bytes(16, "big"))
    if t.src_port:
        out += struct.pack("!HHH2x", NXT_CT_TUPLE_SRC_PORT, 8, t.src_port)
    if t.dst_port:
        out += struct.pack("!HHH2x", NXT_CT_TUPLE_DST_PORT, 8, t.dst_port)
    return out


def encode_ct_flush(version, xid, ctf):
    body = struct.pack("!B7x", ctf.nw_proto)
    if not ctf.orig.empty():
        body += _prop(NXT_CT_ORIG_TUPLE, b"\0" * 4 + _tuple_props(ctf.orig))
    if not ctf.reply.empty():
        body += _prop(NXT_CT_REPLY_TUPLE, b"\0" * 4 + _tuple_props(ctf.reply))
    if ctf.zone is not None:
        body += struct.pack("!HHH2x", NXT_CT_ZONE_ID, 8, ctf.zone)
    return struct.pack("!BBHIII", version, 4, 16 + len(body), xid,
                       NX_VENDOR_ID, NXT_CT_FLUSH) + body


def _props(data):
    ofs = 0
    while ofs < len(data):
        if len(data) - ofs < 4:
            raise DecodeError("ct flush property ends early", BAD_REQUEST, 6)
        ptype, plen = struct.unpack_from("!HH", data, ofs)
        if plen < 4 or ofs + plen > len(data):
            raise DecodeError("bad ct flush property length", BAD_REQUEST, 6)
        yield ptype, data[ofs + 4:ofs + plen]
        ofs += (plen + 7) // 8 * 8


def _decode_tuple(data):
    t = CtTuple()
    for ptype, value in _props(data[4:]):
        if ptype in (NXT_CT_TUPLE_SRC, NXT_CT_TUPLE_DST) and len(value) == 16:
            setattr(t, "src" if ptype == NXT_CT_TUPLE_SRC else "dst",
                    int.from_bytes(value, "big"))
        elif ptype in (NXT_CT_TUPLE_SRC_PORT, NXT_CT_TUPLE_DST_PORT) \
                and len(value) >= 2:
            setattr(t, "src_port" if ptype == NXT_CT_TUPLE_SRC_PORT
                    else "dst_port", struct.unpack_from("!H", value)[0])
    return t


def decode_ct_flush(msg):
    length = struct.unpack_from("!H", msg, 2)[0] if len(msg) >= 4 else 0
    if length < 24 or length > len(msg):
        raise DecodeError("bad ct flush length", BAD_REQUEST, 6)
    ctf = CtFlush(nw_proto=msg[16])
    for ptype, value in _props(msg[24:length]):
        if ptype == NXT_CT_ORIG_TUPLE:
            ctf.orig = _decode_tuple(value)
        elif ptype == NXT_CT_REPLY_TUPLE:
            ctf.reply = _decode_tuple(value)
        elif ptype == NXT_CT_ZONE_ID and len(value) >= 2:
            ctf.zone = struct.unpack_from("!H", value)[0]
    return ctf


def format_ct_flush(msg):
    ctf = decode_ct_flush(msg)
    v4 = ctf.orig.is_v4() or ctf.reply.is_v4()      # one family per flush
    return (f" zone={ctf.zone or 0} '{ctf.orig.format(v4)},"
            f"ct_nw_proto={ctf.nw_proto}' '{ctf.reply.format(v4)}'")
