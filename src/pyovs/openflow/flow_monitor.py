"""Flow monitors: a controller asks to hear of flow table changes
(``ovs-ofctl monitor SWITCH watch:...``).

Three wire forms carry the same request and updates, as OVS sends them:
NXST_FLOW_MONITOR (Nicira vendor stats, OpenFlow 1.0), ONFST_FLOW_MONITOR
(ONF experimenter multipart 1870, OpenFlow 1.3) and OFPMP_FLOW_MONITOR
(OpenFlow 1.4+).  Updates arrive as replies to the request (the initial
flows) and later unsolicited (xid 0) as flows are added, modified and
deleted.  This module parses the ``watch:`` syntax, encodes the request,
decodes the updates and prints them as ofp-print does.

Public API:
  FlowMonitorRequest (id, flags, out_port, out_group, table_id, match)
  parse_watch(text, port_names=None) -> FlowMonitorRequest
  encode_flow_monitor_request(version, xid, req) -> bytes
  FlowUpdate (event, reason, table_id, idle_timeout, hard_timeout,
    priority, cookie, match, actions, xid)
  decode_flow_monitor_reply(msg) -> [FlowUpdate]
  format_flow_monitor_reply(msg, port_names=None) -> text after the header
  NXFMF_* flags; NXFME_* events.
"""

import struct
from dataclasses import dataclass, field as dc_field

from . import fields as F
from .actions import split_items
from .errors import DecodeError, FlowParseError, BAD_REQUEST
from .match import Match, parse_field_value, parse_int
from .nx_match import put_nxm, pull_nxm, put_ofp11_match, pull_ofp11_match
from .ofp_actions import decode_actions, decode_action_list
from .actions import format_actions
from .ports import port_from_string, to_ofp11, from_ofp11, OFPP_ANY

NXFMF_INITIAL, NXFMF_ADD, NXFMF_DELETE = 1, 2, 4
NXFMF_MODIFY, NXFMF_ACTIONS, NXFMF_OWN = 8, 16, 32
OFPFMF14_ONLY_OWN = 64
NXFME_ADDED, NXFME_DELETED, NXFME_MODIFIED, NXFME_ABBREV = 0, 1, 2, 3
EVENT_INITIAL = "INITIAL"       # OpenFlow 1.4's own event for initial flows
_OF14_EVENTS = {0: EVENT_INITIAL, 1: NXFME_ADDED, 2: NXFME_DELETED,
                3: NXFME_MODIFIED, 4: NXFME_ABBREV}
_EVENT_NAMES = {NXFME_ADDED: "ADDED", NXFME_DELETED: "DELETED",
                NXFME_MODIFIED: "MODIFIED", NXFME_ABBREV: "ABBREV",
                EVENT_INITIAL: "INITIAL"}
_REASONS = {0: "idle", 1: "hard", 2: "delete", 3: "group_delete",
            4: "eviction", 5: "meter_delete"}
NX_VENDOR_ID = 0x00002320
ONF_EXPERIMENTER_ID = 0x4f4e4600
ONFMP_FLOW_MONITOR = 1870
NXST_FLOW_MONITOR = 2
OFPMP_FLOW_MONITOR = 16
OFPG_ANY = 0xffffffff
MAX_UPDATES = 100000


@dataclass
class FlowMonitorRequest:
    id: int = 0
    flags: int = (NXFMF_INITIAL | NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY
                  | NXFMF_ACTIONS | NXFMF_OWN)
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    table_id: int = 0xff
    match: Match = dc_field(default_factory=Match)


_NOT = {"!initial": NXFMF_INITIAL, "!add": NXFMF_ADD, "!delete": NXFMF_DELETE,
        "!modify": NXFMF_MODIFY, "!actions": NXFMF_ACTIONS, "!own": NXFMF_OWN}


def parse_watch(text, port_names=None):
    """The SPEC of "watch:SPEC" (ovs-ofctl(8)), as OVS's
    parse_flow_monitor_request()."""
    req = FlowMonitorRequest()
    for key, value in split_items(text):
        if key in _NOT:
            req.flags &= ~_NOT[key]
        elif key in F.SHORTHANDS:
            dl_type, proto = F.SHORTHANDS[key]
            req.match.set_storage("dl_type", dl_type)
            if proto is not None:
                req.match.set_storage("nw_proto", proto)
        elif key == "table":
            t = parse_int(value)
            if t is None or t > 255:
                raise FlowParseError(f'unknown table "{value}"')
            req.table_id = t
        elif key == "out_port":
            port = port_from_string(value, port_names)
            if port is None:
                raise FlowParseError(f"{value}: unknown port")
            req.out_port = port
        elif key == "out_group":
            g = parse_int(value)
            if g is None or g >> 32:
                raise FlowParseError(f'invalid out_group "{value}"')
            req.out_group = g
        else:
            fld = F.field_by_name(key)
            if fld is None:
                raise FlowParseError(f"{text}: unknown keyword {key}")
            if not value:
                raise FlowParseError(f"field {key} missing value")
            v, m = parse_field_value(fld, value, port_names)
            req.match.set_field(fld, v, m)
    return req


def _pad8(b):
    return b + b"\0" * ((-len(b)) % 8)


def encode_flow_monitor_request(version, xid, req):
    """The request in VERSION's form (see the module essay)."""
    if version == F.OFP10:
        nxm = put_nxm(req.match, F.OFP10)
        body = struct.pack("!IHHHB5x", req.id, req.flags, req.out_port,
                           len(nxm), req.table_id) + _pad8(nxm)
        head = struct.pack("!HHIII", 0xffff, 0, NX_VENDOR_ID,
                           NXST_FLOW_MONITOR, 0)
        mtype = 16
    elif version < F.OFP14:
        match = put_ofp11_match(req.match, version)
        match_len = struct.unpack_from("!H", match, 2)[0]
        body = struct.pack("!IHHIB3x", req.id, req.flags, match_len,
                           to_ofp11(req.out_port), req.table_id) + match
        head = struct.pack("!HH4xII", 0xffff, 0, ONF_EXPERIMENTER_ID,
                           ONFMP_FLOW_MONITOR)
        mtype = 18
    else:
        flags = req.flags & ~NXFMF_OWN
        if req.flags & NXFMF_OWN:
            flags |= OFPFMF14_ONLY_OWN
        body = struct.pack("!IIIHBB", req.id, to_ofp11(req.out_port),
                           req.out_group, flags, req.table_id, 0)
        body += put_ofp11_match(req.match, version)
        head = struct.pack("!HH4x", OFPMP_FLOW_MONITOR, 0)
        mtype = 18
    payload = head + body
    return struct.pack("!BBHI", version, mtype, 8 + len(payload), xid) + payload


@dataclass
class FlowUpdate:
    event: object
    reason: int = 0
    table_id: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    priority: int = 0
    cookie: int = 0
    match: Match = None
    actions: list = None
    xid: int = 0

    def format(self, port_names=None):
        s = "\n event=" + _EVENT_NAMES.get(self.event, str(self.event))
        if self.event == NXFME_ABBREV:
            return s + f" xid=0x{self.xid:x}"
        if self.event == NXFME_DELETED:
            s += " reason=" + _REASONS.get(self.reason, str(self.reason))
        s += f" table={self.table_id}"
        if self.idle_timeout:
            s += f" idle_timeout={self.idle_timeout}"
        if self.hard_timeout:
            s += f" hard_timeout={self.hard_timeout}"
        s += " cookie=" + ("0" if not self.cookie else f"0x{self.cookie:x}")
        s += " " + self.match.format(port_names=port_names)
        if self.actions:
            if not s.endswith(" "):
                s += " "
            s += "actions=" + format_actions(self.actions, port_names)
        return s


def _body(msg):
    """(version, updates bytes) of a flow monitor reply."""
    if len(msg) < 8:
        raise DecodeError("flow monitor reply too short", BAD_REQUEST, 6)
    version, _t, length, _x = struct.unpack_from("!BBHI", msg)
    if length > len(msg):
        raise DecodeError("flow monitor reply truncated", BAD_REQUEST, 6)
    ofs = 24 if version <= F.OFP13 else 16
    if length < ofs:
        raise DecodeError("flow monitor reply too short", BAD_REQUEST, 6)
    return version, msg[ofs:length]


def decode_flow_monitor_reply(msg):
    """The updates of one flow monitor reply (any of the three forms)."""
    version, data = _body(msg)
    out = []
    ofs = 0
    while ofs < len(data) and len(out) < MAX_UPDATES:
        if len(data) - ofs < 4:
            raise DecodeError("flow update ends early", BAD_REQUEST, 6)
        length, event = struct.unpack_from("!HH", data, ofs)
        if length < 8 or length % 8 or ofs + length > len(data):
            raise DecodeError(f"bad flow update length {length}", BAD_REQUEST, 6)
        raw = data[ofs:ofs + length]
        ofs += length
        out.append(_decode_update(version, event, raw))
    return out


def _decode_update(version, event, raw):
    if version >= F.OFP14:
        if event not in _OF14_EVENTS:
            raise DecodeError(f"bad flow update event {event}", BAD_REQUEST, 6)
        event = _OF14_EVENTS[event]
        if event == NXFME_ABBREV:
            return FlowUpdate(event, xid=struct.unpack_from("!I", raw, 4)[0])
        if len(raw) < 32:
            raise DecodeError("flow update too short", BAD_REQUEST, 6)
        (table_id, reason, idle, hard, priority,
         cookie) = struct.unpack_from("!BBHHH4xQ", raw, 4)
        match, used = pull_ofp11_match(raw[24:], version)
        actions = decode_actions(raw[24 + used:], version)
        return FlowUpdate(event, reason, table_id, idle, hard, priority,
                          cookie, match, actions)
    if event == NXFME_ABBREV:
        return FlowUpdate(event, xid=struct.unpack_from("!I", raw, 4)[0])
    if event not in (NXFME_ADDED, NXFME_DELETED, NXFME_MODIFIED) or len(raw) < 24:
        raise DecodeError(f"bad flow update (event {event})", BAD_REQUEST, 6)
    (reason, priority, idle, hard, match_len, table_id,
     cookie) = struct.unpack_from("!HHHHHBxQ", raw, 4)
    if version == F.OFP10:
        end = 24 + (match_len + 7) // 8 * 8
        if end > len(raw):
            raise DecodeError("flow update match too long", BAD_REQUEST, 6)
        match = pull_nxm(raw[24:24 + match_len], F.OFP10)[0]
        actions = decode_action_list(raw[end:], F.OFP10)
    else:
        match, used = pull_ofp11_match(raw[24:], version)
        actions = decode_actions(raw[24 + used:], version)
    return FlowUpdate(event, reason, table_id, idle, hard, priority, cookie,
                      match, actions)


def format_flow_monitor_reply(msg, port_names=None):
    return "".join(u.format(port_names) for u in decode_flow_monitor_reply(msg))
