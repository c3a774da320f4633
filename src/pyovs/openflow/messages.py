"""OpenFlow messages: framing, and encoders/decoders per version.

Sans-I/O: bytes in, message objects out, and the reverse.  ``Framer``
splits a byte stream into whole messages (bounding the length field);
``encode_*`` functions build messages for a version and xid; ``decode_*``
functions take one whole message and raise DecodeError (carrying the
OpenFlow error type/code to answer with) on malformed input.

OpenFlow 1.0 flow_mods and flow stats come in three formats, chosen by the
"protocol" (protocols.py): the plain 1.0 ofp_match, Nicira's NXM (NXT_FLOW_MOD,
NXST_FLOW), and OXM for 1.2+; 1.1 has its own fixed match (ofp11_match.py)
in 1.2's message layouts (put_match/pull_match choose).

Public API:
  Header (version, type, length, xid); parse_header(data); Framer(max_len)
    .feed(data) -> list of bytes
  OFPT_* / OFPST_* / NXT_* / NXST_* numbers; type_name(data) -> name as
    ofp-print prints it (e.g. "OFPT_FLOW_MOD", "NXST_FLOW reply").
  encode_hello(versions, xid) / decode_hello(data) -> set of versions
  negotiate(our_versions, hello_data) -> version or None
  encode_simple(version, type, xid, body=b"") (echo, barrier, features
    request, get-config request ...)
  encode_set_flow_format(nxm, xid), encode_flow_mod_table_id(enable, xid),
  encode_set_packet_in_format(fmt, xid), encode_set_controller_id(id, xid)
  put_match(match, version) / pull_match(data, version) -> (Match, used):
    the match of a 1.1+ message (1.1's standard match, else OXM)
  encode_flow_mod(fm, protocol, xid) / decode_flow_mod(data) -> FlowMod
  encode_flow_stats_request(protocol, match, table_id, out_port, out_group,
    cookie, cookie_mask, aggregate, xid)
  decode_flow_stats_reply(data) -> list of FlowStats
  decode_aggregate_reply(data) -> (packets, bytes, flows)
  encode_stats_request(version, stats_type, xid, body=b"")
  decode_stats_reply(data) -> (stats_type, flags, body)
  decode_features_reply(data) -> SwitchFeatures
  decode_ports(data, version) -> list of PhyPort ; decode_port_stats(body, version)
  decode_desc(body) -> dict ; decode_get_config_reply(data) -> (flags, miss)
  decode_error(data) -> (OVS error name, payload)
  Async config: ASYNC_TYPES; format_async_config(data) -> the text after
    ofp-print's header line; encode_async_config(version, master, slave)
    -> get-async reply body (1.3: six masks; 1.4+: a property per type and
    role), decode_async_props(body) -> (master, slave) dicts of what a 1.4+
    set-async names (OVS's errors: OFPACFC_INVALID/_UNSUPPORTED, bad lengths)
  encode_bundle_control(version, xid, bundle_id, type, flags),
  encode_bundle_add(bundle_id, inner), decode_bundle_control(data) ->
    (bundle_id, type, flags), decode_bundle_add(data) -> (bundle_id, flags,
    inner), bundle_body(data) (after the header): OpenFlow 1.4+ messages, and in 1.3 the ONF extension 2300
    (ONFT_BUNDLE_CONTROL / ONFT_BUNDLE_ADD_MESSAGE) OVS implements
"""

import struct
from dataclasses import dataclass, field as dc_field

from . import protocols as P
from .errors import DecodeError, BAD_REQUEST, Unsupported
from .flow import FlowMod, FlowStats, FF_SEND_FLOW_REM, FF_CHECK_OVERLAP, \
    FF_RESET_COUNTS, FF_NO_PKT_COUNTS, FF_NO_BYT_COUNTS, OFPFC_ADD, \
    OFPFC_DELETE, OFPFC_DELETE_STRICT
from .nx_match import (put_nxm, pull_nxm, put_ofp10_match, pull_ofp10_match,
                       put_ofp11_match, pull_ofp11_match)
from .ofp11_match import put_ofp11_std_match, pull_ofp11_std_match
from .ofp_actions import encode_actions, decode_actions, NX_VENDOR_ID
from .ports import to_ofp11, from_ofp11, OFPP_ANY

OFP10, OFP11, OFP12, OFP13, OFP14, OFP15 = 1, 2, 3, 4, 5, 6
HEADER = struct.Struct("!BBHI")
MAX_MESSAGE = 65535

OFPT_HELLO, OFPT_ERROR, OFPT_ECHO_REQUEST, OFPT_ECHO_REPLY = 0, 1, 2, 3
OFPT_VENDOR = 4
OFPT_FEATURES_REQUEST, OFPT_FEATURES_REPLY = 5, 6
OFPT_GET_CONFIG_REQUEST, OFPT_GET_CONFIG_REPLY, OFPT_SET_CONFIG = 7, 8, 9
OFPT_PACKET_IN, OFPT_FLOW_REMOVED, OFPT_PORT_STATUS = 10, 11, 12
OFPT_PACKET_OUT, OFPT_FLOW_MOD = 13, 14

# Types that moved after 1.0: name -> (1.0 number, 1.1+ number).
_MOVED = {"OFPT_PORT_MOD": (15, 16), "OFPT_STATS_REQUEST": (16, 18),
          "OFPT_STATS_REPLY": (17, 19), "OFPT_BARRIER_REQUEST": (18, 20),
          "OFPT_BARRIER_REPLY": (19, 21)}
_NAMES10 = {0: "OFPT_HELLO", 1: "OFPT_ERROR", 2: "OFPT_ECHO_REQUEST",
            3: "OFPT_ECHO_REPLY", 4: "OFPT_VENDOR", 5: "OFPT_FEATURES_REQUEST",
            6: "OFPT_FEATURES_REPLY", 7: "OFPT_GET_CONFIG_REQUEST",
            8: "OFPT_GET_CONFIG_REPLY", 9: "OFPT_SET_CONFIG",
            10: "OFPT_PACKET_IN", 11: "OFPT_FLOW_REMOVED",
            12: "OFPT_PORT_STATUS", 13: "OFPT_PACKET_OUT",
            14: "OFPT_FLOW_MOD", 15: "OFPT_PORT_MOD",
            16: "OFPST_REQUEST", 17: "OFPST_REPLY",
            18: "OFPT_BARRIER_REQUEST", 19: "OFPT_BARRIER_REPLY",
            20: "OFPT_QUEUE_GET_CONFIG_REQUEST",
            21: "OFPT_QUEUE_GET_CONFIG_REPLY"}
_NAMES11 = dict(_NAMES10)
_NAMES11.update({33: "OFPT_BUNDLE_CONTROL", 34: "OFPT_BUNDLE_ADD_MESSAGE",
                 15: "OFPT_GROUP_MOD", 16: "OFPT_PORT_MOD",
                 17: "OFPT_TABLE_MOD", 18: "OFPST_REQUEST",
                 19: "OFPST_REPLY", 20: "OFPT_BARRIER_REQUEST",
                 21: "OFPT_BARRIER_REPLY", 24: "OFPT_ROLE_REQUEST",
                 25: "OFPT_ROLE_REPLY", 26: "OFPT_GET_ASYNC_REQUEST",
                 27: "OFPT_GET_ASYNC_REPLY", 28: "OFPT_SET_ASYNC",
                 29: "OFPT_METER_MOD", 22: "OFPT_QUEUE_GET_CONFIG_REQUEST",
                 23: "OFPT_QUEUE_GET_CONFIG_REPLY"})

OFPST_DESC, OFPST_FLOW, OFPST_AGGREGATE, OFPST_TABLE = 0, 1, 2, 3
OFPST_PORT, OFPST_QUEUE, OFPST_PORT_DESC = 4, 5, 13
OFPST_VENDOR = 0xffff
STATS_NAMES = {0: "OFPST_DESC", 1: "OFPST_FLOW", 2: "OFPST_AGGREGATE",
               3: "OFPST_TABLE", 4: "OFPST_PORT", 5: "OFPST_QUEUE",
               6: "OFPST_GROUP", 7: "OFPST_GROUP_DESC",
               8: "OFPST_GROUP_FEATURES", 9: "OFPST_METER",
               10: "OFPST_METER_CONFIG", 11: "OFPST_METER_FEATURES",
               12: "OFPST_TABLE_FEATURES", 13: "OFPST_PORT_DESC",
               14: "OFPST_TABLE_DESC", 15: "OFPST_QUEUE_DESC",
               16: "OFPST_FLOW_MONITOR"}
OFPSF_REPLY_MORE = 1

NXT_SET_FLOW_FORMAT, NXT_FLOW_MOD, NXT_FLOW_MOD_TABLE_ID = 12, 13, 15
NXT_CT_FLUSH_ZONE = 29
NXT_SET_PACKET_IN_FORMAT, NXT_SET_CONTROLLER_ID = 16, 20
NXT_NAMES = {12: "NXT_SET_FLOW_FORMAT", 13: "NXT_FLOW_MOD",
             15: "NXT_FLOW_MOD_TABLE_ID", 29: "NXT_CT_FLUSH_ZONE",
             16: "NXT_SET_PACKET_IN_FORMAT", 20: "NXT_SET_CONTROLLER_ID",
             30: "NXT_PACKET_IN2", 24: "NXT_TLV_TABLE_MOD",
             25: "NXT_TLV_TABLE_REQUEST", 26: "NXT_TLV_TABLE_REPLY",
             31: "NXT_GROUP_MOD", 32: "NXT_CT_FLUSH",
             21: "NXT_FLOW_MONITOR_CANCEL", 22: "NXT_FLOW_MONITOR_PAUSED",
             23: "NXT_FLOW_MONITOR_RESUMED", 28: "NXT_RESUME"}
PACKET_IN_FORMATS = {0: "standard", 1: "nxt_packet_in", 2: "nxt_packet_in2"}
NXST_FLOW, NXST_AGGREGATE = 0, 1
NXST_NAMES = {0: "NXST_FLOW", 1: "NXST_AGGREGATE", 2: "NXST_FLOW_MONITOR",
              3: "NXST_IPFIX_BRIDGE", 4: "NXST_IPFIX_FLOW", 7: "NXST_GROUP",
              8: "NXST_GROUP_DESC", 9: "NXST_GROUP_FEATURES"}
NXST_IPFIX_BRIDGE, NXST_IPFIX_FLOW = 3, 4
# Groups in OpenFlow 1.0 (OVS's extensions): an OpenFlow 1.5 group_mod and
# group stats/desc/features bodies, with OpenFlow 1.0 actions.
NXT_GROUP_MOD = 31
NXST_GROUP, NXST_GROUP_DESC, NXST_GROUP_FEATURES = 7, 8, 9
NXFF_OPENFLOW10, NXFF_NXM = 0, 2

OFPHET_VERSIONBITMAP = 1


def type_number(version, name):
    """Wire type number of NAME (e.g. "OFPT_BARRIER_REQUEST") in VERSION."""
    if name in _MOVED:
        return _MOVED[name][0 if version == OFP10 else 1]
    names = _NAMES10 if version == OFP10 else _NAMES11
    for num, n in names.items():
        if n == name:
            return num
    raise KeyError(name)


@dataclass
class Header:
    version: int
    type: int
    length: int
    xid: int


def parse_header(data):
    """The header of one whole message.  Only a hello may carry a version
    pyovs does not know (that is how negotiation works)."""
    if len(data) < 8:
        raise DecodeError("message shorter than an OpenFlow header", BAD_REQUEST, 6)
    h = Header(*HEADER.unpack_from(data))
    if h.length < 8 or h.length > len(data):
        raise DecodeError(f"bad message length {h.length}", BAD_REQUEST, 6)
    if not OFP10 <= h.version <= OFP15 and h.type != OFPT_HELLO:
        raise DecodeError(f"unsupported OpenFlow version 0x{h.version:02x}",
                          BAD_REQUEST, 0)
    return h


class Framer:
    """Splits a byte stream into whole OpenFlow messages."""

    def __init__(self, max_len=MAX_MESSAGE):
        self.buf = bytearray()
        self.max_len = max_len

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 8:
            length = struct.unpack_from("!H", self.buf, 2)[0]
            if length < 8 or length > self.max_len:
                raise DecodeError(f"bad message length {length}", BAD_REQUEST, 6)
            if len(self.buf) < length:
                break
            out.append(bytes(self.buf[:length]))
            del self.buf[:length]
        return out


def _msg(version, mtype, xid, body=b""):
    length = 8 + len(body)
    if length > MAX_MESSAGE:
        raise ValueError("OpenFlow message too long")
    return HEADER.pack(version, mtype, length, xid) + body


def encode_simple(version, mtype, xid, body=b""):
    if isinstance(mtype, str):
        mtype = type_number(version, mtype)
    return _msg(version, mtype, xid, body)


def _version_suffix(version):
    return "" if version == OFP10 else f" (OF1.{version - 1})"


# --- hello ------------------------------------------------------------------

def encode_hello(versions, xid):
    """Hello for the set of wire VERSIONS, with a version bitmap only when
    the set is not simply "1.0 up to the highest" (as OVS does)."""
    versions = sorted(versions)
    top = versions[-1]
    bitmap = sum(1 << v for v in versions)
    body = b""
    filled = (bitmap >> 1) + 1          # OVS sends a bitmap unless the
    contiguous = filled & (filled - 1) == 0   # set is 1.0 up to the top
    if not contiguous:
        body = struct.pack("!HHI", OFPHET_VERSIONBITMAP, 8, bitmap)
    return _msg(top, OFPT_HELLO, xid, body)


def decode_hello(data):
    """The versions a peer's hello offers."""
    h = parse_header(data)
    body = data[8:h.length]
    ofs = 0
    while ofs + 4 <= len(body):
        etype, elen = struct.unpack_from("!HH", body, ofs)
        if elen < 4 or ofs + elen > len(body):
            break
        if etype == OFPHET_VERSIONBITMAP and elen >= 8:
            bitmap = int.from_bytes(body[ofs + 4:ofs + 8], "big")
            return {v for v in range(32) if bitmap >> v & 1}
        ofs += (elen + 7) // 8 * 8
    return set(range(1, h.version + 1))


def negotiate(our_versions, hello_data):
    common = set(our_versions) & decode_hello(hello_data)
    return max(common) if common else None


# --- Nicira messages ----------------------------------------------------------

def _nxt(subtype, xid, body=b""):
    return _msg(OFP10, OFPT_VENDOR, xid, struct.pack("!II", NX_VENDOR_ID, subtype) + body)


def encode_set_flow_format(nxm, xid):
    return _nxt(NXT_SET_FLOW_FORMAT, xid,
                struct.pack("!I", NXFF_NXM if nxm else NXFF_OPENFLOW10))


def encode_flow_mod_table_id(enable, xid):
    return _nxt(NXT_FLOW_MOD_TABLE_ID, xid, struct.pack("!B7x", int(enable)))


def encode_set_packet_in_format(fmt, xid):
    """FMT: 0 standard, 1 nxt_packet_in, 2 nxt_packet_in2."""
    return _nxt(NXT_SET_PACKET_IN_FORMAT, xid, struct.pack("!I", fmt))


def encode_set_controller_id(controller_id, xid):
    return _nxt(NXT_SET_CONTROLLER_ID, xid, struct.pack("!6xH", controller_id))


def encode_set_protocol(cur, want, xid):
    """One step from protocol CUR towards WANT (OVS's
    ofputil_encode_set_protocol): (message or None, next protocol).
    XID may be a callable, called only when a message is needed."""
    if callable(xid):
        msg, nxt = encode_set_protocol(cur, want, 0)
        if msg is None:
            return None, nxt
        return encode_set_protocol(cur, want, xid())
    if P.version_of(cur) != P.version_of(want):
        return None, cur
    if cur == want:
        return None, cur
    base = {P.OF10_STD: P.OF10_STD, P.OF10_STD_TID: P.OF10_STD,
            P.OF10_NXM: P.OF10_NXM, P.OF10_NXM_TID: P.OF10_NXM}
    if cur not in base or want not in base:
        return None, cur
    if base[cur] != base[want]:
        nxt = P.set_tid(base[want], P.has_tid(cur))
        return encode_set_flow_format(base[want] == P.OF10_NXM, xid), nxt
    return encode_flow_mod_table_id(P.has_tid(want), xid), want


# --- flow_mod ---------------------------------------------------------------

def _flags_to_wire(flags, version):
    w = 0
    if flags & FF_SEND_FLOW_REM:
        w |= 1
    if flags & FF_CHECK_OVERLAP:
        w |= 2
    if version >= OFP13:
        if flags & FF_RESET_COUNTS:
            w |= 4
        if flags & FF_NO_PKT_COUNTS:
            w |= 8
        if flags & FF_NO_BYT_COUNTS:
            w |= 16
    return w


def _flags_from_wire(w, version):
    """Flow-mod/flow-stats flags from the wire.  (A 1.0 or 1.1 flow_mod
    always resets counters: decode_flow_mod adds RESET_COUNTS, as OVS.)"""
    flags = 0
    if w & 1:
        flags |= FF_SEND_FLOW_REM
    if w & 2:
        flags |= FF_CHECK_OVERLAP
    if version >= OFP13:
        if w & 4:
            flags |= FF_RESET_COUNTS
        if w & 8:
            flags |= FF_NO_PKT_COUNTS
        if w & 16:
            flags |= FF_NO_BYT_COUNTS
    elif version in (OFP11, OFP12) and w & 4:
        flags |= FF_RESET_COUNTS
    return flags


def _pad8(b):
    return b + b"\0" * ((-len(b)) % 8)


def put_match(match, version):
    if version == OFP11:
        return put_ofp11_std_match(match)
    return put_ofp11_match(match, version)


def pull_match(data, version):
    """OpenFlow 1.1 accepts an OXM-typed match too (OVS's switch replies
    with one), as OVS's ofputil_pull_ofp11_match."""
    if version == OFP11 and data[:2] != b"\0\1":
        return pull_ofp11_std_match(data)
    return pull_ofp11_match(data, version)


def encode_flow_mod(fm, protocol, xid):
    """FM (flow.FlowMod) as a message in PROTOCOL (a protocols bit)."""
    version = P.version_of(protocol)
    match = fm.match
    if protocol in (P.OF10_STD, P.OF10_STD_TID, P.OF10_NXM, P.OF10_NXM_TID):
        new_cookie = fm.new_cookie
        command = fm.command
        if P.has_tid(protocol):
            command |= fm.table_id << 8
        actions = encode_actions(fm.actions, OFP10, match)
        if protocol in (P.OF10_STD, P.OF10_STD_TID):
            body = put_ofp10_match(match) + struct.pack(
                "!QHHHHIHH", new_cookie, command, fm.idle_timeout,
                fm.hard_timeout, fm.priority, fm.buffer_id, fm.out_port,
                _flags_to_wire(fm.flags, OFP10))
            return _msg(OFP10, OFPT_FLOW_MOD, xid, body + actions)
        nxm = put_nxm(match, OFP10, fm.cookie, fm.cookie_mask)
        body = struct.pack("!IIQHHHHIHHH6x", NX_VENDOR_ID, NXT_FLOW_MOD,
                           new_cookie, command, fm.idle_timeout,
                           fm.hard_timeout, fm.priority, fm.buffer_id,
                           fm.out_port, _flags_to_wire(fm.flags, OFP10),
                           len(nxm))
        return _msg(OFP10, OFPT_VENDOR, xid, body + _pad8(nxm) + actions)
    if fm.command == OFPFC_ADD:
        cookie = fm.new_cookie
    else:
        cookie = fm.cookie & fm.cookie_mask
    table_id = fm.table_id
    if table_id == 0xff and (version == OFP11 or fm.command not in (
            OFPFC_DELETE, OFPFC_DELETE_STRICT)):
        table_id = 0        # OpenFlow 1.1 has no "all tables", as OVS sends
    body = struct.pack("!QQBBHHHIIIHH", cookie, fm.cookie_mask, table_id,
                       fm.command, fm.idle_timeout, fm.hard_timeout,
                       fm.priority, fm.buffer_id, to_ofp11(fm.out_port),
                       fm.out_group, _flags_to_wire(fm.flags, version),
                       fm.importance if version >= OFP14 else 0)
    body += put_match(match, version)
    body += encode_actions(fm.actions, version, match)
    return _msg(version, OFPT_FLOW_MOD, xid, body)


def decode_flow_mod(data):
    """Decode an OFPT_FLOW_MOD or NXT_FLOW_MOD into a FlowMod."""
    h = parse_header(data)
    data = data[:h.length]
    fm = FlowMod()
    if h.version == OFP10 and h.type == OFPT_FLOW_MOD:
        if h.length < 72:
            raise DecodeError("flow_mod too short", BAD_REQUEST, 6)
        fm.match = pull_ofp10_match(data[8:48])
        (fm.new_cookie, command, fm.idle_timeout, fm.hard_timeout, fm.priority,
         fm.buffer_id, fm.out_port, wflags) = struct.unpack_from("!QHHHHIHH", data, 48)
        fm.command, fm.table_id = command & 0xff, command >> 8
        fm.flags = _flags_from_wire(wflags, OFP10) | FF_RESET_COUNTS
        fm.actions = decode_actions(data[72:], OFP10)
        return fm
    if h.version == OFP10 and h.type == OFPT_VENDOR:
        if h.length < 48:
            raise DecodeError("NXT_FLOW_MOD too short", BAD_REQUEST, 6)
        (vendor, subtype, fm.new_cookie, command, fm.idle_timeout,
         fm.hard_timeout, fm.priority, fm.buffer_id, fm.out_port, wflags,
         match_len) = struct.unpack_from("!IIQHHHHIHHH", data, 8)
        if vendor != NX_VENDOR_ID or subtype != NXT_FLOW_MOD:
            raise DecodeError("not an NXT_FLOW_MOD", BAD_REQUEST, 4)
        end = 48 + (match_len + 7) // 8 * 8
        if end > h.length:
            raise DecodeError("match runs past the message", BAD_REQUEST, 6)
        fm.match, fm.cookie, fm.cookie_mask = pull_nxm(data[48:48 + match_len], OFP10)
        fm.command, fm.table_id = command & 0xff, command >> 8
        fm.flags = _flags_from_wire(wflags, OFP10) | FF_RESET_COUNTS
        fm.actions = decode_actions(data[end:], OFP10)
        return fm
    if h.version >= OFP11 and h.type == OFPT_FLOW_MOD:
        # A fixed part, then match and instructions in 8-byte units.
        if h.length < 56 or (h.length - 48) % 8:
            raise DecodeError("bad flow_mod length", BAD_REQUEST, 6)
        (cookie, cookie_mask, fm.table_id, fm.command, fm.idle_timeout,
         fm.hard_timeout, fm.priority, fm.buffer_id, out_port, fm.out_group,
         wflags, importance) = struct.unpack_from("!QQBBHHHIIIHH", data, 8)
        if fm.command == OFPFC_ADD:
            fm.new_cookie = cookie
        else:
            fm.cookie, fm.cookie_mask = cookie, cookie_mask
            fm.new_cookie = (1 << 64) - 1
        port = from_ofp11(out_port)
        fm.out_port = OFPP_ANY if port is None else port
        fm.flags = _flags_from_wire(wflags, h.version)
        if h.version == OFP11:
            fm.flags |= FF_RESET_COUNTS
        fm.importance = importance if h.version >= OFP14 else 0
        fm.match, used = pull_match(data[48:], h.version)
        fm.actions = decode_actions(data[48 + used:], h.version)
        return fm
    raise DecodeError("not a flow_mod", BAD_REQUEST, 1)


# --- bundles (OpenFlow 1.4+; 1.3 as ONF extension 2300) ---------------------

OFPT14_BUNDLE_CONTROL, OFPT14_BUNDLE_ADD_MESSAGE = 33, 34
OFPBCT_OPEN_REQUEST, OFPBCT_OPEN_REPLY = 0, 1
OFPBCT_COMMIT_REQUEST, OFPBCT_COMMIT_REPLY = 4, 5
OFPBF_ATOMIC, OFPBF_ORDERED = 1, 2
OFPT_EXPERIMENTER = 4
ONF_VENDOR_ID = 0x4f4e4600
ONFT_BUNDLE_CONTROL, ONFT_BUNDLE_ADD_MESSAGE = 2300, 2301
ONFT_NAMES = {ONFT_BUNDLE_CONTROL: "ONFT_BUNDLE_CONTROL",
              ONFT_BUNDLE_ADD_MESSAGE: "ONFT_BUNDLE_ADD_MESSAGE",
              1870: "ONFT_FLOW_MONITOR_CANCEL", 1871: "ONFT_FLOW_MONITOR_PAUSED",
              1872: "ONFT_FLOW_MONITOR_RESUMED"}


def _bundle_msg(version, xid, onft, ofpt, body):
    if version == OFP13:
        return _msg(version, OFPT_EXPERIMENTER, xid,
                    struct.pack("!II", ONF_VENDOR_ID, onft) + body)
    if version < OFP13:
        raise Unsupported("bundles need OpenFlow 1.3 or later")
    return _msg(version, ofpt, xid, body)


def bundle_body(data):
    """The body of a bundle message after its header (1.3: after the ONF
    experimenter header too)."""
    h = parse_header(data)
    ofs = 16 if h.version == OFP13 else 8
    if h.length < ofs + 8:
        raise DecodeError("bundle message too short", BAD_REQUEST, 6)
    return data[ofs:h.length]


def encode_bundle_control(version, xid, bundle_id, ctype,
                          flags=OFPBF_ATOMIC | OFPBF_ORDERED):
    return _bundle_msg(version, xid, ONFT_BUNDLE_CONTROL, OFPT14_BUNDLE_CONTROL,
                       struct.pack("!IHH", bundle_id, ctype, flags))


def encode_bundle_add(bundle_id, inner, flags=OFPBF_ATOMIC | OFPBF_ORDERED):
    """Wrap message INNER for bundle BUNDLE_ID (same version and xid)."""
    h = parse_header(inner)
    return _bundle_msg(h.version, h.xid, ONFT_BUNDLE_ADD_MESSAGE,
                       OFPT14_BUNDLE_ADD_MESSAGE,
                       struct.pack("!I2xH", bundle_id, flags) + inner)


def decode_bundle_control(data):
    return struct.unpack_from("!IHH", bundle_body(data))


def decode_bundle_add(data):
    body = bundle_body(data)
    bundle_id, flags = struct.unpack_from("!I2xH", body)
    return bundle_id, flags, body[8:]


# --- statistics -------------------------------------------------------------

def encode_stats_request(version, stats_type, xid, body=b""):
    if version == OFP10:
        return _msg(OFP10, 16, xid, struct.pack("!HH", stats_type, 0) + body)
    return _msg(version, 18, xid, struct.pack("!HH4x", stats_type, 0) + body)


def _nx_stats_request(subtype, xid, body, version=OFP10):
    if version == OFP10:
        return _msg(OFP10, 16, xid, struct.pack("!HHII4x", OFPST_VENDOR, 0,
                                                NX_VENDOR_ID, subtype) + body)
    return _msg(version, 18, xid, struct.pack("!HH4xII", OFPST_VENDOR, 0,
                                              NX_VENDOR_ID, subtype) + body)


def encode_nx_stats_request(version, subtype, xid, body=b""):
    """A Nicira vendor stats (multipart) request, e.g. NXST_IPFIX_BRIDGE."""
    return _nx_stats_request(subtype, xid, body, version)


def decode_stats_reply(data):
    """(stats_type or ("nx", subtype), flags, body) of a stats reply."""
    h = parse_header(data)
    data = data[:h.length]
    if h.version == OFP10:
        if h.type != 17 or h.length < 12:
            raise DecodeError("not a stats reply", BAD_REQUEST, 1)
        stype, flags = struct.unpack_from("!HH", data, 8)
        body = data[12:]
    else:
        if h.type != 19 or h.length < 16:
            raise DecodeError("not a multipart reply", BAD_REQUEST, 1)
        stype, flags = struct.unpack_from("!HH", data, 8)
        body = data[16:]
    if stype == OFPST_VENDOR:
        if len(body) < 12:
            raise DecodeError("vendor stats too short", BAD_REQUEST, 6)
        vendor, subtype = struct.unpack_from("!II", body)
        # (OpenFlow 1.0's Nicira stats header has 4 bytes of padding more.)
        return ("nx", subtype), flags, body[12:] if h.version == OFP10 else body[8:]
    return stype, flags, body


def encode_flow_stats_request(protocol, match, table_id=0xff, out_port=OFPP_ANY,
                              out_group=0xffffffff, cookie=0, cookie_mask=0,
                              aggregate=False, xid=0):
    version = P.version_of(protocol)
    if protocol in (P.OF10_NXM, P.OF10_NXM_TID):
        nxm = put_nxm(match, OFP10, cookie, cookie_mask)
        body = struct.pack("!HHB3x", out_port, len(nxm), table_id) + _pad8(nxm)
        return _nx_stats_request(NXST_AGGREGATE if aggregate else NXST_FLOW, xid, body)
    if version == OFP10:
        body = put_ofp10_match(match) + struct.pack("!BxH", table_id, out_port)
        return encode_stats_request(OFP10, OFPST_AGGREGATE if aggregate else OFPST_FLOW,
                                    xid, body)
    body = struct.pack("!B3xII4xQQ", table_id, to_ofp11(out_port), out_group,
                       cookie, cookie_mask) + put_match(match, version)
    return encode_stats_request(version, OFPST_AGGREGATE if aggregate else OFPST_FLOW,
                                xid, body)


def decode_flow_stats_reply(data):
    """The FlowStats in one flow stats reply (OF1.0, NXST or OF1.2+)."""
    h = parse_header(data)
    stype, _flags, body = decode_stats_reply(data)
    out = []
    ofs = 0
    while ofs < len(body):
        if len(body) - ofs < 2:
            raise DecodeError("flow stats entry truncated", BAD_REQUEST, 6)
        length = struct.unpack_from("!H", body, ofs)[0]
        if length < 8 or ofs + length > len(body):
            raise DecodeError(f"bad flow stats length {length}", BAD_REQUEST, 6)
        e = body[ofs:ofs + length]
        fs = FlowStats()
        if stype == ("nx", NXST_FLOW):
            if length < 48:
                raise DecodeError("NXST_FLOW entry too short", BAD_REQUEST, 6)
            (_, fs.table_id, fs.duration_sec, fs.duration_nsec, fs.priority,
             fs.idle_timeout, fs.hard_timeout, match_len, idle_age, hard_age,
             fs.cookie, fs.packet_count, fs.byte_count) = struct.unpack_from(
                "!HBxIIHHHHHHQQQ", e)
            fs.idle_age = idle_age - 1 if idle_age else -1
            fs.hard_age = hard_age - 1 if hard_age else -1
            mend = 48 + (match_len + 7) // 8 * 8
            if mend > length:
                raise DecodeError("match runs past the entry", BAD_REQUEST, 6)
            fs.match, _, _ = pull_nxm(e[48:48 + match_len], OFP10)
            fs.actions = decode_actions(e[mend:], OFP10)
        elif h.version == OFP10 and stype == OFPST_FLOW:
            if length < 88:
                raise DecodeError("flow stats entry too short", BAD_REQUEST, 6)
            fs.table_id = e[2]
            fs.match = pull_ofp10_match(e[4:44])
            (fs.duration_sec, fs.duration_nsec, fs.priority, fs.idle_timeout,
             fs.hard_timeout, fs.cookie, fs.packet_count,
             fs.byte_count) = struct.unpack_from("!IIHHH6xQQQ", e, 44)
            fs.actions = decode_actions(e[88:], OFP10)
        elif stype == OFPST_FLOW and h.version == OFP15:
            _decode_flow_desc15(e, fs)
        elif h.version >= OFP11 and stype == OFPST_FLOW:
            if length < 56:
                raise DecodeError("flow stats entry too short", BAD_REQUEST, 6)
            (_, fs.table_id, fs.duration_sec, fs.duration_nsec, fs.priority,
             fs.idle_timeout, fs.hard_timeout, wflags, importance, fs.cookie,
             fs.packet_count, fs.byte_count) = struct.unpack_from(
                "!HBxIIHHHHH2xQQQ", e)
            fs.flags = _flags_from_wire(wflags, h.version)
            fs.importance = importance if h.version >= OFP14 else 0
            fs.match, used = pull_match(e[48:], h.version)
            fs.actions = decode_actions(e[48 + used:], h.version)
        else:
            raise DecodeError("not a flow stats reply", BAD_REQUEST, 2)
        out.append(fs)
        ofs += length
    return out


OXS_CLASS = 0x8002
OXS_DURATION, OXS_IDLE_TIME, OXS_FLOW_COUNT = 0, 1, 3
OXS_PACKET_COUNT, OXS_BYTE_COUNT = 4, 5


def _decode_flow_desc15(e, fs):
    """One OpenFlow 1.5 flow description: fixed part, match, OXS stats,
    instructions."""
    if len(e) < 40:
        raise DecodeError("flow desc too short", BAD_REQUEST, 6)
    (fs.table_id, fs.priority, fs.idle_timeout, fs.hard_timeout, wflags,
     fs.importance, fs.cookie) = struct.unpack_from("!4xBxHHHHHQ", e)
    fs.flags = _flags_from_wire(wflags, OFP15)
    fs.match, used = pull_ofp11_match(e[24:], OFP15)
    ofs = 24 + used
    if ofs + 4 > len(e):
        raise DecodeError("flow desc stats missing", BAD_REQUEST, 6)
    stats_len = struct.unpack_from("!H", e, ofs + 2)[0]
    if stats_len < 4 or ofs + stats_len > len(e):
        raise DecodeError("bad OXS stats length", BAD_REQUEST, 6)
    t = ofs + 4
    end = ofs + stats_len
    while t + 4 <= end:
        cls, fbyte, length = struct.unpack_from("!HBB", e, t)
        val = e[t + 4:t + 4 + length]
        if t + 4 + length > end:
            raise DecodeError("OXS field runs past the stats", BAD_REQUEST, 6)
        field = fbyte >> 1
        if cls == OXS_CLASS and field == OXS_DURATION and length == 8:
            fs.duration_sec, fs.duration_nsec = struct.unpack("!II", val)
        elif cls == OXS_CLASS and field == OXS_IDLE_TIME and length == 8:
            fs.idle_age = struct.unpack("!II", val)[0]
        elif cls == OXS_CLASS and field == OXS_PACKET_COUNT and length == 8:
            fs.packet_count = int.from_bytes(val, "big")
        elif cls == OXS_CLASS and field == OXS_BYTE_COUNT and length == 8:
            fs.byte_count = int.from_bytes(val, "big")
        t += 4 + length
    ofs += (stats_len + 7) // 8 * 8
    fs.actions = decode_actions(e[ofs:], OFP15)


def encode_flow_desc15(fs):
    """FlowStats FS as an OpenFlow 1.5 flow description (switch side)."""
    match = put_ofp11_match(fs.match, OFP15)
    oxs = (struct.pack("!HBBII", OXS_CLASS, OXS_DURATION << 1, 8,
                       fs.duration_sec, fs.duration_nsec)
           + struct.pack("!HBBII", OXS_CLASS, OXS_IDLE_TIME << 1, 8,
                         max(fs.idle_age, 0), 0)
           + struct.pack("!HBBQ", OXS_CLASS, OXS_PACKET_COUNT << 1, 8, fs.packet_count)
           + struct.pack("!HBBQ", OXS_CLASS, OXS_BYTE_COUNT << 1, 8, fs.byte_count))
    stats = _pad8(struct.pack("!HH", 0, 4 + len(oxs)) + oxs)
    actions = encode_actions(fs.actions, OFP15, fs.match)
    body = struct.pack("!HHBxHHHHHQ", 0, 0, fs.table_id, fs.priority,
                       fs.idle_timeout, fs.hard_timeout,
                       _flags_to_wire(fs.flags, OFP15), fs.importance, fs.cookie)
    body += match + stats + actions
    return struct.pack("!H", len(body)) + body[2:]


def decode_aggregate_reply(data):
    h = parse_header(data)
    _stype, _flags, body = decode_stats_reply(data)
    if h.version == OFP15:
        if len(body) < 4:
            raise DecodeError("aggregate reply too short", BAD_REQUEST, 6)
        end = min(len(body), struct.unpack_from("!H", body, 2)[0])
        counts = {OXS_PACKET_COUNT: 0, OXS_BYTE_COUNT: 0, OXS_FLOW_COUNT: 0}
        t = 4
        while t + 4 <= end:
            cls, fbyte, length = struct.unpack_from("!HBB", body, t)
            if t + 4 + length > end:
                raise DecodeError("OXS field runs past the stats", BAD_REQUEST, 6)
            if cls == OXS_CLASS and fbyte >> 1 in counts:
                counts[fbyte >> 1] = int.from_bytes(body[t + 4:t + 4 + length], "big")
            t += 4 + length
        return counts[OXS_PACKET_COUNT], counts[OXS_BYTE_COUNT], counts[OXS_FLOW_COUNT]
    if len(body) < 20:
        raise DecodeError("aggregate reply too short", BAD_REQUEST, 6)
    return struct.unpack_from("!QQI", body)


# --- switch description -------------------------------------------------------

@dataclass
class PhyPort:
    port_no: int
    hw_addr: int
    name: str
    config: int
    state: int
    curr: int
    advertised: int
    supported: int
    peer: int
    curr_speed: int
    max_speed: int


@dataclass
class SwitchFeatures:
    datapath_id: int
    n_buffers: int
    n_tables: int
    auxiliary_id: int
    capabilities: int
    actions: int
    ports: list = dc_field(default_factory=list)


def _cstr(b):
    return b.split(b"\0", 1)[0].decode("latin-1")


# Feature bits, by wire version, to bps (OVS's netdev_features_to_bps).
_SPEED10 = {0x1: 10e6, 0x2: 10e6, 0x4: 100e6, 0x8: 100e6, 0x10: 1e9,
            0x20: 1e9, 0x40: 10e9}
_SPEED11 = dict(_SPEED10)
_SPEED11.update({0x80: 40e9, 0x100: 100e9, 0x200: 1e12})


def _features_speed(bits, table):
    best = 0
    for bit, bps in table.items():
        if bits & bit:
            best = max(best, bps)
    return int(best // 1000)


def decode_ports(body, version):
    out = []
    if version == OFP10:
        size = 48
        for ofs in range(0, len(body) - size + 1, size):
            (port_no, hw, name, config, state, curr, adv, sup,
             peer) = struct.unpack_from("!H6s16sIIIIII", body, ofs)
            out.append(PhyPort(port_no, int.from_bytes(hw, "big"), _cstr(name),
                               config, state, curr, adv, sup, peer,
                               _features_speed(curr, _SPEED10),
                               _features_speed(sup, _SPEED10)))
        return out
    if version >= OFP14:
        return _decode_ports14(body)
    size = 64
    for ofs in range(0, len(body) - size + 1, size):
        (port32, hw, name, config, state, curr, adv, sup, peer, cs,
         ms) = struct.unpack_from("!I4x6s2x16sIIIIIIII", body, ofs)
        port = from_ofp11(port32)
        out.append(PhyPort(port if port is not None else port32,
                           int.from_bytes(hw, "big"), _cstr(name), config,
                           state, curr, adv, sup, peer, cs, ms))
    return out


def _decode_ports14(body):
    """OpenFlow 1.4+ ports: a fixed part and properties (Ethernet)."""
    out = []
    ofs = 0
    while ofs + 40 <= len(body):
        port32, length, hw, name, config, state = struct.unpack_from(
            "!IH2x6s2x16sII", body, ofs)
        if length < 40 or ofs + length > len(body):
            raise DecodeError("bad port length", BAD_REQUEST, 6)
        curr = adv = sup = peer = cs = ms = 0
        pofs = ofs + 40
        while pofs + 4 <= ofs + length:
            ptype, plen = struct.unpack_from("!HH", body, pofs)
            if plen < 4 or pofs + plen > ofs + length:
                raise DecodeError("bad port property length", BAD_REQUEST, 6)
            if ptype == 0 and plen >= 32:
                curr, adv, sup, peer, cs, ms = struct.unpack_from("!4x6I", body, pofs + 4)
            pofs += (plen + 7) // 8 * 8
        port = from_ofp11(port32)
        out.append(PhyPort(port if port is not None else port32,
                           int.from_bytes(hw, "big"), _cstr(name), config,
                           state, curr, adv, sup, peer, cs, ms))
        ofs += length
    return out


def decode_features_reply(data):
    h = parse_header(data)
    if h.type != OFPT_FEATURES_REPLY or h.length < 32:
        raise DecodeError("bad features reply", BAD_REQUEST, 6)
    if h.version == OFP10:
        dpid, nb, nt, caps, acts = struct.unpack_from("!QIB3xII", data, 8)
        return SwitchFeatures(dpid, nb, nt, 0, caps, acts,
                              decode_ports(data[32:h.length], OFP10))
    dpid, nb, nt, aux, caps = struct.unpack_from("!QIBBxxI", data, 8)
    ports = decode_ports(data[32:h.length], h.version) if h.version < OFP13 else []
    return SwitchFeatures(dpid, nb, nt, aux, caps, 0, ports)


def decode_desc(body):
    if len(body) < 1056:
        raise DecodeError("desc reply too short", BAD_REQUEST, 6)
    mfr, hw, sw, serial, dp = struct.unpack_from("!256s256s256s32s256s", body)
    return {"mfr": _cstr(mfr), "hw": _cstr(hw), "sw": _cstr(sw),
            "serial": _cstr(serial), "dp": _cstr(dp)}


def decode_get_config_reply(data):
    h = parse_header(data)
    if h.length < 12:
        raise DecodeError("get_config reply too short", BAD_REQUEST, 6)
    return struct.unpack_from("!HH", data, 8)


def decode_table_stats(body, version):
    """Table stats entries: dicts with table_id, active, lookup, matched and,
    for 1.0, name, wildcards and max_entries."""
    out = []
    if version == OFP10:
        for ofs in range(0, len(body) - 63, 64):
            (tid, name, wc, max_entries, active, lookup,
             matched) = struct.unpack_from("!B3x32sIIIQQ", body, ofs)
            out.append(dict(table_id=tid, name=_cstr(name), wildcards=wc,
                            max_entries=max_entries, active=active,
                            lookup=lookup, matched=matched))
        return out
    if version == OFP11:
        for ofs in range(0, len(body) - 87, 88):
            (tid, name, wc, match, instructions, write_actions, apply_actions,
             config, max_entries, active, lookup, matched) = struct.unpack_from(
                "!B7x32sIIIIIIIIQQ", body, ofs)
            out.append(dict(table_id=tid, name=_cstr(name), wildcards=wc,
                            match=match, instructions=instructions,
                            write_actions=write_actions,
                            apply_actions=apply_actions, config=config,
                            max_entries=max_entries, active=active,
                            lookup=lookup, matched=matched))
        return out
    if version < OFP13:
        raise DecodeError("table stats in OpenFlow 1.2 are not supported",
                          BAD_REQUEST, 2)
    for ofs in range(0, len(body) - 23, 24):
        tid, active, lookup, matched = struct.unpack_from("!B3xIQQ", body, ofs)
        out.append(dict(table_id=tid, active=active, lookup=lookup,
                        matched=matched))
    return out


OFPQ_ALL = 0xffffffff
# What OVS's switch announces in OpenFlow 1.1 table stats: every
# ofp11_match wildcard bit but the MPLS ones' reserved neighbour, and the
# 1.1 actions it implements.
OFPFW11_TABLE, OFPAT11_TABLE = 0xfbff, 0x01ffe7ff


def encode_queue_stats_request(version, xid, port, queue_id=OFPQ_ALL):
    if version == OFP10:
        body = struct.pack("!H2xI", port, queue_id)
    else:
        body = struct.pack("!II", to_ofp11(port), queue_id)
    return encode_stats_request(version, OFPST_QUEUE, xid, body)


def decode_queue_stats(body, version):
    """Queue stats entries; the layout differs in 1.0, 1.1-1.2 (no
    duration), 1.3 and 1.4+ (a length and properties)."""
    out = []
    ofs = 0
    while True:
        unknown = (0xffffffff, 0xffffffff)
        if version == OFP10:
            size = 32
            if ofs + size > len(body):
                break
            port, queue, tx_bytes, tx_pkts, tx_errs = struct.unpack_from(
                "!H2xIQQQ", body, ofs)
            dur = unknown
        elif version >= OFP14:
            if ofs + 48 > len(body):
                break
            size = struct.unpack_from("!H", body, ofs)[0]
            if size < 48 or ofs + size > len(body):
                raise DecodeError("bad queue stats length", BAD_REQUEST, 6)
            port32, queue, tx_bytes, tx_pkts, tx_errs, dsec, dnsec = \
                struct.unpack_from("!IIQQQII", body, ofs + 8)
            dur = (dsec, dnsec)
        else:
            size = 32 if version < OFP13 else 40
            if ofs + size > len(body):
                break
            port32, queue, tx_bytes, tx_pkts, tx_errs = struct.unpack_from(
                "!IIQQQ", body, ofs)
            dur = (struct.unpack_from("!II", body, ofs + 32)
                   if version == OFP13 else unknown)
        if version != OFP10:
            port = from_ofp11(port32)
            port = port32 if port is None else port
        out.append(dict(port_no=port, queue_id=queue, tx_bytes=tx_bytes,
                        tx_packets=tx_pkts, tx_errors=tx_errs, duration=dur))
        ofs += size
    return out


PORT_STATS_FIELDS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
                     "rx_dropped", "tx_dropped", "rx_errors", "tx_errors",
                     "rx_frame_err", "rx_over_err", "rx_crc_err", "collisions")


def decode_port_stats(body, version):
    if version >= OFP14:
        return _decode_port_stats14(body)
    out = []
    size = 112 if version == OFP13 else 104     # 1.3 added the duration
    for ofs in range(0, len(body) - size + 1, size):
        if version == OFP10:
            port = struct.unpack_from("!H", body, ofs)[0]
        else:
            port32 = struct.unpack_from("!I", body, ofs)[0]
            port = from_ofp11(port32)
            port = port32 if port is None else port
        vals = struct.unpack_from("!12Q", body, ofs + 8)
        dur = struct.unpack_from("!II", body, ofs + 104) if version == OFP13 else None
        st = dict(zip(PORT_STATS_FIELDS, vals))
        st["port_no"] = port
        st["duration"] = dur
        out.append(st)
    return out


def _decode_port_stats14(body):
    out = []
    ofs = 0
    while ofs + 80 <= len(body):
        length, port32, dsec, dnsec = struct.unpack_from("!H2xIII", body, ofs)
        if length < 80 or ofs + length > len(body):
            raise DecodeError("bad port stats length", BAD_REQUEST, 6)
        vals = list(struct.unpack_from("!8Q", body, ofs + 16))
        extra = [(1 << 64) - 1] * 4       # frame, over, crc, collisions
        pofs = ofs + 80
        while pofs + 4 <= ofs + length:
            ptype, plen = struct.unpack_from("!HH", body, pofs)
            if plen < 4 or pofs + plen > ofs + length:
                raise DecodeError("bad port stats property", BAD_REQUEST, 6)
            if ptype == 0 and plen >= 40:
                extra = list(struct.unpack_from("!4Q", body, pofs + 8))
            pofs += (plen + 7) // 8 * 8
        port = from_ofp11(port32)
        st = dict(zip(PORT_STATS_FIELDS, vals + extra))
        st["port_no"] = port if port is not None else port32
        st["duration"] = (dsec, dnsec)
        out.append(st)
        ofs += length
    return out


def encode_port_stats_request(version, port, xid):
    if version == OFP10:
        body = struct.pack("!H6x", port)
    else:
        body = struct.pack("!I4x", to_ofp11(port))
    return encode_stats_request(version, OFPST_PORT, xid, body)


def encode_port_desc_request(version, xid, port=0xffff):
    """OFPMP_PORT_DESC (OpenFlow 1.0-1.2: OVS's OFPST_PORT_DESC extension);
    only OpenFlow 1.5 carries PORT (OFPP_ANY: all)."""
    from .ports import to_ofp11
    return encode_stats_request(version, OFPST_PORT_DESC, xid,
                                struct.pack("!I4x", to_ofp11(port))
                                if version >= OFP15 else b"")


NXET_VENDOR = 0xb0c2


def decode_error(data):
    """(name, payload) of an error message, naming it as OVS does; Nicira
    vendor errors (1.1+ errors sent in 1.0) are unwrapped."""
    from .errors import error_name
    h = parse_header(data)
    if h.length < 12:
        raise DecodeError("error message too short", BAD_REQUEST, 6)
    etype, code = struct.unpack_from("!HH", data, 8)
    payload = data[12:h.length]
    if h.version == OFP10 and etype == NXET_VENDOR and len(payload) >= 8:
        vendor, etype, code = struct.unpack_from("!IHH", payload)
        from .errors import OF10_VENDOR_NAMES
        if (etype, code) in OF10_VENDOR_NAMES:
            return OF10_VENDOR_NAMES[(etype, code)], payload[8:]
        return error_name(OFP11, etype, code), payload[8:]
    if h.version >= OFP12 and etype == 0xffff and len(payload) >= 4:
        experimenter = struct.unpack_from("!I", payload)[0]
        return error_name(h.version, etype, code, experimenter), payload[4:]
    return error_name(h.version, etype, code), payload


# --- async config (get-async / set-async) ----------------------------------------

#: The async message types in wire order: 1.4+ property type 2*i is the
#: slave's mask for ASYNC_TYPES[i], 2*i + 1 the master's; 1.3 has the first
#: three as (master, slave) mask pairs.
ASYNC_TYPES = ("packet_in", "port_status", "flow_removed", "role_status",
               "table_status", "requestforward")
# The reason bits each version can name (OVS's legal masks).
ASYNC_LEGAL = {"packet_in": 0x3f, "port_status": 0x7, "flow_removed": 0x3f,
               "role_status": 0x7, "table_status": 0x18, "requestforward": 0x3}
ASYNC13_LEGAL = {"packet_in": 0x7, "port_status": 0x7, "flow_removed": 0xf}
OFPACPT_EXPERIMENTER_SLAVE = 0xfffe


def encode_async_config(version, master, slave):
    """The body of a get-async reply for the MASTER and SLAVE masks (dicts
    keyed by ASYNC_TYPES)."""
    if version < OFP14:
        return struct.pack("!6I", *(side[t] & ASYNC13_LEGAL[t]
                                    for t in ASYNC13_LEGAL
                                    for side in (master, slave)))
    return b"".join(struct.pack("!HHI", 2 * i + m, 8, side.get(t, 0))
                    for i, t in enumerate(ASYNC_TYPES)
                    for m, side in ((0, slave), (1, master)))


# Reason names per async type, by bit, as OVS prints them.
_ASYNC_REASONS = {
    "packet_in": ("no_match", "action", "invalid_ttl", "action_set", "group",
                  "packet_out"),
    "port_status": ("add", "delete", "modify"),
    "flow_removed": ("idle", "hard", "delete", "group_delete", "meter_delete",
                     "eviction"),
    "role_status": ("primary_request", "configuration_changed",
                    "experimenter_data_changed"),
    "table_status": ("", "", "", "vacancy_down", "vacancy_up"),
    "requestforward": ("group_mod_request", "meter_mod_request")}


def format_async_config(data):
    """A get-async reply or set-async as ofp-print prints it: the primary's
    and the secondary's reasons per type (a 1.4+ set shows what it sets)."""
    h = parse_header(data)
    body = data[8:h.length]
    if h.version < OFP14:
        if len(body) < 24:
            raise DecodeError("async config too short", BAD_REQUEST, 6)
        masks = struct.unpack_from("!6I", body)
        master = dict(zip(ASYNC_TYPES, masks[0::2]))
        slave = dict(zip(ASYNC_TYPES, masks[1::2]))
    else:
        master, slave = decode_async_props(body)
    out = []
    for title, side in (("primary", master), ("secondary", slave)):
        out.append(f"\n {title}:")
        for t in ASYNC_TYPES:
            names = [n for i, n in enumerate(_ASYNC_REASONS[t])
                     if n and side.get(t, 0) >> i & 1]
            out.append("%16s: %s" % (t.upper(), " ".join(names) or "(off)"))
        out[-1] += "\n" if title == "primary" else ""
    return "".join(line if line.startswith("\n") else "\n" + line for line in out)


def decode_async_props(body):
    """The masks a 1.4+ set-async (or get-async reply) BODY sets, as OVS's
    ofputil_decode_set_async_config() checks them."""
    master, slave = {}, {}
    ofs = 0
    while ofs < len(body):
        if len(body) - ofs < 4:
            raise DecodeError("async config property truncated", BAD_REQUEST, 6)
        ptype, plen = struct.unpack_from("!HH", body, ofs)
        padded = (plen + 7) // 8 * 8
        if plen < 4 or ofs + padded > len(body):
            if plen < 4:
                raise DecodeError("bad async property length", 14, 1,
                                  name="OFPBPC_BAD_LEN")
            raise DecodeError("async property runs past the message",
                              BAD_REQUEST, 6)
        if ptype >= OFPACPT_EXPERIMENTER_SLAVE:
            if plen < 12:
                raise DecodeError("bad experimenter property length", 14, 1,
                                  name="OFPBPC_BAD_LEN")
            raise DecodeError("experimenter async property", 14, 5,
                              name="OFPBPC_BAD_EXPERIMENTER")
        if ptype >= 2 * len(ASYNC_TYPES):
            raise DecodeError(f"unknown async property {ptype}", 15, 1,
                              name="OFPACFC_UNSUPPORTED")
        if plen != 8:
            raise DecodeError("bad async property length", 14, 1,
                              name="OFPBPC_BAD_LEN")
        name = ASYNC_TYPES[ptype // 2]
        mask = struct.unpack_from("!I", body, ofs + 4)[0]
        if mask & ~ASYNC_LEGAL[name]:
            raise DecodeError(f"{name}: invalid reasons {mask:#x}", 15, 0,
                              name="OFPACFC_INVALID")
        (master if ptype & 1 else slave)[name] = mask
        ofs += padded
    return master, slave


# --- names as ofp-print writes them -------------------------------------------

def type_name(data):
    """The message's name as ofp-print prints it."""
    h = parse_header(data)
    names = _NAMES10 if h.version == OFP10 else _NAMES11
    if h.type == OFPT_VENDOR and h.length >= 16:
        vendor, subtype = struct.unpack_from("!II", data, 8)
        if vendor == NX_VENDOR_ID:
            return NXT_NAMES.get(subtype, f"NXT_{subtype}")
        if vendor == ONF_VENDOR_ID and subtype in ONFT_NAMES:
            return ONFT_NAMES[subtype]
    if names.get(h.type) in ("OFPST_REQUEST", "OFPST_REPLY"):
        kind = "request" if names[h.type] == "OFPST_REQUEST" else "reply"
        stype = struct.unpack_from("!H", data, 8)[0] if h.length >= 12 else None
        if stype == OFPST_VENDOR:
            ofs = 12 if h.version == OFP10 else 16
            if h.length >= ofs + 8:
                exp, sub = struct.unpack_from("!II", data, ofs)
                if exp == 0x4f4e4600 and sub == 1870:
                    return f"ONFST_FLOW_MONITOR {kind}"
                return f"{NXST_NAMES.get(sub, 'NXST_' + str(sub))} {kind}"
        return f"{STATS_NAMES.get(stype, f'OFPST_{stype}')} {kind}"
    return names.get(h.type, f"OFPT_{h.type}")


def header_text(data):
    """"NAME (OF1.x) (xid=0x..):" as ofp-print starts a message."""
    h = parse_header(data)
    return f"{type_name(data)}{_version_suffix(h.version)} (xid=0x{h.xid:x}):"
