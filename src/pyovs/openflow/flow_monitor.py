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
  Switch side: monitor_message_kind(msg) -> "request" | "cancel" | None;
    decode_flow_monitor_request(msg) -> [FlowMonitorRequest] (.command:
    OFPFMC14_ADD/MODIFY/DELETE; DecodeError with OVS's error name);
    decode_flow_monitor_cancel(msg) -> id; encode_flow_update(version,
    FlowUpdate) -> bytes; encode_flow_monitor_replies(version, xid,
    [update bytes]) -> [messages]; encode_flow_monitor_pause(version,
    paused) -> message; encode_monitor_error(version, xid, name, request);
    encode_nx_error(version, xid, codes, request).
"""

import itertools
import struct
from dataclasses import dataclass, field as dc_field

from . import fields as F
from .actions import split_items
from .errors import DecodeError, FlowParseError, BAD_REQUEST, NX_ERRORS
from .match import Match, parse_field_value, parse_int
from .nx_match import put_nxm, pull_nxm, put_ofp11_match, pull_ofp11_match
from .ofp_actions import decode_actions, decode_action_list
from .actions import format_actions
from .async_msgs import FLOW_REMOVED_REASONS
from .ports import port_from_string, to_ofp11, from_ofp11, OFPP_ANY

NXFMF_INITIAL, NXFMF_ADD, NXFMF_DELETE = 1, 2, 4
NXFMF_MODIFY, NXFMF_ACTIONS, NXFMF_OWN = 8, 16, 32
OFPFMF14_ONLY_OWN = 64
NXFME_ADDED, NXFME_DELETED, NXFME_MODIFIED, NXFME_ABBREV = 0, 1, 2, 3
EVENT_INITIAL = "INITIAL"       # OpenFlow 1.4's own event for initial flows
EVENT_PAUSED, EVENT_RESUMED = "PAUSED", "RESUMED"   # ... and pause notices
_OF14_EVENTS = {0: EVENT_INITIAL, 1: NXFME_ADDED, 2: NXFME_DELETED,
                3: NXFME_MODIFIED, 4: NXFME_ABBREV, 5: EVENT_PAUSED,
                6: EVENT_RESUMED}
_EVENT_NAMES = {NXFME_ADDED: "ADDED", NXFME_DELETED: "DELETED",
                NXFME_MODIFIED: "MODIFIED", NXFME_ABBREV: "ABBREV",
                EVENT_INITIAL: "INITIAL", EVENT_PAUSED: "PAUSED",
                EVENT_RESUMED: "RESUMED"}
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
    command: int = 0            # OFPFMC14_*: OpenFlow 1.4+ requests only


_NOT = {"!initial": NXFMF_INITIAL, "!add": NXFMF_ADD, "!delete": NXFMF_DELETE,
        "!modify": NXFMF_MODIFY, "!actions": NXFMF_ACTIONS, "!own": NXFMF_OWN}


_ids = itertools.count()


def parse_watch(text, port_names=None):
    """The SPEC of "watch:SPEC" (ovs-ofctl(8)), as OVS's
    parse_flow_monitor_request(); each request of the process gets the
    next monitor id (0, 1, ...), as OVS's tool numbers them."""
    req = FlowMonitorRequest(id=next(_ids) & 0xffffffff)
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
                           req.out_group, flags, req.table_id, req.command)
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
        if self.event in (EVENT_PAUSED, EVENT_RESUMED):
            return s
        if self.event == NXFME_DELETED:
            s += " reason=" + FLOW_REMOVED_REASONS.get(self.reason,
                                                      str(self.reason))
        s += f" table={self.table_id}"
        if self.idle_timeout:
            s += f" idle_timeout={self.idle_timeout}"
        if self.hard_timeout:
            s += f" hard_timeout={self.hard_timeout}"
        s += " cookie=" + ("0" if not self.cookie else f"0x{self.cookie:x}")
        match = self.match.format(port_names=port_names)
        if match:
            s += " " + match
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
        if event in (EVENT_PAUSED, EVENT_RESUMED):
            return FlowUpdate(event)
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


# --- the switch's side -----------------------------------------------------------

OFPFMC14_ADD, OFPFMC14_MODIFY, OFPFMC14_DELETE = 0, 1, 2
OFPFMF14_NO_ABBREV = 32
NXT_FLOW_MONITOR_CANCEL, NXT_FLOW_MONITOR_PAUSED = 21, 22
NXT_FLOW_MONITOR_RESUMED = 23
ONFT_FLOW_MONITOR_CANCEL, ONFT_FLOW_MONITOR_PAUSED = 1870, 1871
ONFT_FLOW_MONITOR_RESUMED = 1872
OFPFME14_PAUSED, OFPFME14_RESUMED = 5, 6
_NX_FLAGS = (NXFMF_INITIAL | NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY
             | NXFMF_ACTIONS | NXFMF_OWN)
_OF14_EVENT_CODES = {NXFME_ADDED: 1, NXFME_DELETED: 2, NXFME_MODIFIED: 3,
                     NXFME_ABBREV: 4, EVENT_INITIAL: 0}
MAX_REQUESTS = 4096
# OVS's codes for the flow monitor errors: (NX1.0-1.1 vendor type/code,
# NX1.2-1.3 experimenter code, OpenFlow 1.4+ OFPET_FLOW_MONITOR_FAILED code).
MONITOR_ERRORS = {name: NX_ERRORS[name] + (code14,) for name, code14 in (
    ("OFPMOFC_MONITOR_EXISTS", 1), ("OFPMOFC_BAD_FLAGS", 5), ("OFPMOFC_UNKNOWN_MONITOR", 3))}
OFPET14_FLOW_MONITOR_FAILED = 16


def _exp_head(msg):
    """(experimenter, subtype) of a vendor/experimenter message or stats
    request, or None."""
    version, mtype, length = struct.unpack_from("!BBH", msg)
    if mtype == 4 and length >= 16:                     # OFPT_VENDOR
        return struct.unpack_from("!II", msg, 8)
    if version == F.OFP10 and mtype == 16 and length >= 20:
        stype = struct.unpack_from("!H", msg, 8)[0]
        if stype == 0xffff:
            return struct.unpack_from("!II", msg, 12)
    if version > F.OFP10 and mtype == 18 and length >= 24:
        stype = struct.unpack_from("!H", msg, 8)[0]
        if stype == 0xffff:
            return struct.unpack_from("!II", msg, 16)
    return None


def monitor_message_kind(msg):
    """"request" or "cancel" for a flow monitor message in any of its
    forms, else None."""
    if len(msg) < 8:
        return None
    version, mtype = msg[0], msg[1]
    if version >= F.OFP14 and mtype == 18 and len(msg) >= 10 and \
            struct.unpack_from("!H", msg, 8)[0] == OFPMP_FLOW_MONITOR:
        return "request"
    head = _exp_head(msg)
    if head is None:
        return None
    if mtype == 4:
        if head in ((NX_VENDOR_ID, NXT_FLOW_MONITOR_CANCEL),
                    (ONF_EXPERIMENTER_ID, ONFT_FLOW_MONITOR_CANCEL)):
            return "cancel"
        return None
    if head in ((NX_VENDOR_ID, NXST_FLOW_MONITOR),
                (ONF_EXPERIMENTER_ID, ONFMP_FLOW_MONITOR)):
        return "request"
    return None


def _bad_flags(flags):
    return (not flags & (NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY)
            or flags & ~_NX_FLAGS)


def _flags_from_of14(flags):
    if flags & ~(_NX_FLAGS | OFPFMF14_NO_ABBREV | OFPFMF14_ONLY_OWN):
        raise DecodeError(f"bad flow monitor flags {flags:#x}",
                          name="OFPMOFC_BAD_FLAGS")
    nx = flags & (NXFMF_INITIAL | NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY
                  | NXFMF_ACTIONS)
    return nx | (NXFMF_OWN if flags & OFPFMF14_ONLY_OWN else 0)


def decode_flow_monitor_request(msg):
    """The monitors a flow monitor request (any form) asks for, as OVS's
    ofputil_decode_flow_monitor_request() reads them."""
    version, _t, length, _x = struct.unpack_from("!BBHI", msg)
    msg = msg[:length]
    ofs = 24 if version <= F.OFP13 else 16
    out = []
    while ofs < len(msg):
        if len(out) >= MAX_REQUESTS:
            raise DecodeError("too many flow monitor requests", BAD_REQUEST, 6)
        if version == F.OFP10:
            if len(msg) - ofs < 16:
                raise DecodeError("flow monitor request has leftover bytes",
                                  BAD_REQUEST, 6)
            mid, flags, out_port, match_len, table_id = struct.unpack_from(
                "!IHHHB", msg, ofs)
            if any(msg[ofs + 11:ofs + 16]):
                raise DecodeError("flow monitor request: nonzero padding",
                                  name="NXBRC_MUST_BE_ZERO")
            end = ofs + 16 + (match_len + 7) // 8 * 8
            if end > len(msg):
                raise DecodeError("flow monitor match too long", BAD_REQUEST, 6)
            match = pull_nxm(msg[ofs + 16:ofs + 16 + match_len], F.OFP10)[0]
            req = FlowMonitorRequest(mid, flags, out_port, OFPG_ANY,
                                     table_id, match)
            ofs = end
        else:
            size = 16
            if len(msg) - ofs < size + 4:
                raise DecodeError("flow monitor request has leftover bytes",
                                  BAD_REQUEST, 6)
            if version < F.OFP14:
                mid, flags, _ml, port32, table_id = struct.unpack_from(
                    "!IHHIB", msg, ofs)
                group, command = OFPG_ANY, OFPFMC14_ADD
            else:
                (mid, port32, group, flags, table_id,
                 command) = struct.unpack_from("!IIIHBB", msg, ofs)
                flags = _flags_from_of14(flags)
            match, used = pull_ofp11_match(msg[ofs + size:], version)
            port = from_ofp11(port32)
            if port is None:
                raise DecodeError(f"bad out_port {port32:#x}", BAD_REQUEST, 11)
            req = FlowMonitorRequest(mid, flags, port, group, table_id, match,
                                     command)
            ofs += size + used
        if _bad_flags(req.flags) and req.command != OFPFMC14_DELETE:
            raise DecodeError(f"bad flow monitor flags {req.flags:#x}",
                              name="OFPMOFC_BAD_FLAGS")
        out.append(req)
    return out


def decode_flow_monitor_cancel(msg):
    """The monitor id of NXT/ONFT_FLOW_MONITOR_CANCEL."""
    if len(msg) < 20 or struct.unpack_from("!H", msg, 2)[0] != 20:
        raise DecodeError("flow monitor cancel has the wrong length",
                          BAD_REQUEST, 6)
    return struct.unpack_from("!I", msg, 16)[0]


def encode_flow_update(version, u):
    """One update (FlowUpdate) as VERSION carries it in a reply."""
    if u.event == NXFME_ABBREV:
        event = _OF14_EVENT_CODES[u.event] if version >= F.OFP14 else u.event
        return struct.pack("!HHI", 8, event, u.xid)
    actions = u.actions or []
    if version >= F.OFP14:
        body = struct.pack("!BBHHH4xQ", u.table_id, u.reason, u.idle_timeout,
                           u.hard_timeout, u.priority, u.cookie)
        body += put_ofp11_match(u.match, version)
        body += _encode_actions(actions, version, u.match)
        event = _OF14_EVENT_CODES[u.event]
    else:
        if version == F.OFP10:
            m = put_nxm(u.match, F.OFP10)
            match_len, m = len(m), _pad8(m)
        else:
            m = put_ofp11_match(u.match, version)
            match_len = struct.unpack_from("!H", m, 2)[0]
        body = struct.pack("!HHHHHBxQ", u.reason, u.priority, u.idle_timeout,
                           u.hard_timeout, match_len, u.table_id, u.cookie)
        body += m + _encode_actions(actions, version, u.match)
        event = NXFME_ADDED if u.event == EVENT_INITIAL else u.event
    return struct.pack("!HH", 4 + len(body), event) + body


def _encode_actions(actions, version, match):
    from .ofp_actions import encode_actions
    return encode_actions(actions, version, match) if actions else b""


def _reply_head(version, flags):
    if version == F.OFP10:
        return struct.pack("!HHII4x", 0xffff, flags, NX_VENDOR_ID,
                           NXST_FLOW_MONITOR), 17
    if version < F.OFP14:
        return struct.pack("!HH4xII", 0xffff, flags, ONF_EXPERIMENTER_ID,
                           ONFMP_FLOW_MONITOR), 19
    return struct.pack("!HH4x", OFPMP_FLOW_MONITOR, flags), 19


def encode_flow_monitor_replies(version, xid, updates, max_size=65535):
    """UPDATES (encoded ones) in as few replies as fit, all but the last
    flagged "more" (OVS's ofpmp_postappend)."""
    head_len = 8 + len(_reply_head(version, 0)[0])
    chunks, cur, size = [], [], head_len
    for u in updates:
        if cur and size + len(u) > max_size:
            chunks.append(cur)
            cur, size = [], head_len
        cur.append(u)
        size += len(u)
    chunks.append(cur)
    out = []
    for i, chunk in enumerate(chunks):
        head, mtype = _reply_head(version, 1 if i < len(chunks) - 1 else 0)
        payload = head + b"".join(chunk)
        out.append(struct.pack("!BBHI", version, mtype, 8 + len(payload), xid)
                   + payload)
    return out


def encode_flow_monitor_pause(version, paused):
    """The notice that updates stop (PAUSED) or start again (not PAUSED)."""
    if version == F.OFP10:
        sub = NXT_FLOW_MONITOR_PAUSED if paused else NXT_FLOW_MONITOR_RESUMED
        return struct.pack("!BBHIII", version, 4, 16, 0, NX_VENDOR_ID, sub)
    if version < F.OFP14:
        sub = ONFT_FLOW_MONITOR_PAUSED if paused else ONFT_FLOW_MONITOR_RESUMED
        return struct.pack("!BBHIII", version, 4, 16, 0, ONF_EXPERIMENTER_ID,
                           sub)
    event = OFPFME14_PAUSED if paused else OFPFME14_RESUMED
    return encode_flow_monitor_replies(
        version, 0, [struct.pack("!HH4x", 8, event)])[0]


def encode_monitor_error(version, xid, name, request):
    """The OFPT_ERROR for flow monitor error NAME (MONITOR_ERRORS) in
    VERSION's form, quoting REQUEST."""
    return encode_nx_error(version, xid, MONITOR_ERRORS[name], request)


def encode_nx_error(version, xid, codes, request):
    """An OVS extension error (errors.NX_ERRORS names it): CODES is
    ((type, code) of the NX1.0-1.1 vendor error, NX1.2+ experimenter code,
    OpenFlow 1.4+ OFPET_FLOW_MONITOR_FAILED code or None)."""
    (vtype, vcode), exp_code, code14 = codes
    if version >= F.OFP14 and code14 is not None:
        body = struct.pack("!HH", OFPET14_FLOW_MONITOR_FAILED, code14)
    elif version >= F.OFP12:
        body = struct.pack("!HHI", 0xffff, exp_code, NX_VENDOR_ID)
    else:
        body = struct.pack("!HHIHH", 0xb0c2, 0, NX_VENDOR_ID, vtype, vcode)
    body += bytes(request)[:65535 - 8 - len(body)]
    return struct.pack("!BBHI", version, 1, 8 + len(body), xid) + body
