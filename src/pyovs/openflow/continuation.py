"""Continuations: a packet-in that paused translation, and NXT_RESUME.

``controller(pause)`` sends the packet to the controller and stops
translating; what was left to do -- the rest of the action lists on the
way there, the action set -- travels with the packet-in (NXT_PACKET_IN2's
NXPINT_CONTINUATION property, opaque to the controller) and comes back in
NXT_RESUME, whose body is the packet-in's property list, for the switch to
carry on where it paused (OVS's ofputil_packet_in_private).

The frozen actions are a list of OpenFlow actions with ``UnrollXlate``
markers (OVS's unroll_xlate) giving the table and rule cookie that the
actions after them ran in (a packet-in they raise names them).  On the
wire the markers are NXCPT_TABLE_ID/NXCPT_COOKIE properties before each
NXCPT_ACTIONS list, sent only when they change (from 0); decoding puts a
marker before each list again, as OVS does.

Public API:
  UnrollXlate(table_id, cookie) (an action: format())
  Continuation(bridge, actions, action_set, odp_port, stack, mirrors,
    conntracked): encode(version) -> the NXPINT_CONTINUATION property;
    format(port_names) -> the " continuation.*" lines ofp-print prints
  decode_continuation(value, version) -> Continuation (DecodeError)
  NXT_RESUME; is_resume(msg); NXR_STALE (error codes for
    flow_monitor.encode_nx_error: a continuation of another bridge)
"""

import struct
import uuid as uuidlib
from dataclasses import dataclass, field as dc_field

from .actions import Action, format_actions
from .errors import DecodeError, BAD_REQUEST, NX_ERRORS

NX_VENDOR_ID = 0x00002320
NXT_RESUME = 28
NXPINT_CONTINUATION = 8
NXR_STALE = NX_ERRORS["NXR_STALE"] + (None,)
(NXCPT_BRIDGE, NXCPT_STACK, NXCPT_MIRRORS, NXCPT_CONNTRACKED, NXCPT_TABLE_ID,
 NXCPT_COOKIE, NXCPT_ACTIONS, NXCPT_ACTION_SET,
 NXCPT_ODP_PORT) = range(0x8000, 0x8009)


@dataclass
class UnrollXlate(Action):
    """Where the frozen actions after it ran: table and rule cookie."""
    table_id: int = 0
    cookie: int = 0

    def format(self, port_names=None):
        return f"unroll_xlate(table={self.table_id}, cookie={self.cookie})"


def _prop(ptype, value):
    data = struct.pack("!HH", ptype, 4 + len(value)) + value
    return data + b"\0" * (-len(data) % 8)


def _nested(ptype, value):
    """A property whose value starts 8-aligned (OVS's ofpprop_start_nested)."""
    data = struct.pack("!HH4x", ptype, 8 + len(value)) + value
    return data + b"\0" * (-len(data) % 8)


def _encode_actions(actions, version):
    from .ofp_actions import encode_action_list
    return encode_action_list(actions, version)


@dataclass
class Continuation:
    bridge: bytes = b"\0" * 16          # the bridge's UUID
    actions: list = dc_field(default_factory=list)
    action_set: list = dc_field(default_factory=list)
    odp_port: int = 0
    stack: bytes = b""
    mirrors: int = 0
    conntracked: bool = False

    def encode(self, version):
        body = _prop(NXCPT_BRIDGE, self.bridge)
        if self.stack:
            body += _prop(NXCPT_STACK, self.stack)
        if self.mirrors:
            body += _prop(NXCPT_MIRRORS, struct.pack("!I", self.mirrors))
        if self.conntracked:
            body += _prop(NXCPT_CONNTRACKED, b"")
        table_id = cookie = 0
        segment = []
        segments = []
        for a in self.actions:
            if isinstance(a, UnrollXlate):
                segments.append(segment)
                segment = [a]
            else:
                segment.append(a)
        segments.append(segment)
        for seg in segments:
            acts = seg
            if seg and isinstance(seg[0], UnrollXlate):
                unroll, acts = seg[0], seg[1:]
                if unroll.table_id != table_id:
                    body += _prop(NXCPT_TABLE_ID, bytes([unroll.table_id]))
                    table_id = unroll.table_id
                if unroll.cookie != cookie:
                    body += _prop(NXCPT_COOKIE,
                                  struct.pack("!4xQ", unroll.cookie))
                    cookie = unroll.cookie
            if acts:
                body += _nested(NXCPT_ACTIONS, _encode_actions(acts, version))
        if self.action_set:
            body += _nested(NXCPT_ACTION_SET,
                            _encode_actions(self.action_set, version))
        body += _prop(NXCPT_ODP_PORT, struct.pack("!I", self.odp_port))
        return _nested(NXPINT_CONTINUATION, body)

    def format(self, port_names=None):
        s = f"\n continuation.bridge={uuidlib.UUID(bytes=bytes(self.bridge))}"
        if self.mirrors:
            s += f"\n continuation.mirrors=0x{self.mirrors:x}"
        if self.conntracked:
            s += "\n continuation.conntracked=true"
        if self.actions:
            s += "\n continuation.actions=" + format_actions(self.actions,
                                                            port_names)
        if self.action_set:
            s += "\n continuation.action_set=" + format_actions(
                self.action_set, port_names)
        s += f"\n continuation.odp_port={self.odp_port}"
        return s


def decode_continuation(value, version):
    """The Continuation in an NXPINT_CONTINUATION property's VALUE (after
    its 4-byte header)."""
    from .ofp_actions import decode_action_list
    cont = Continuation()
    table_id = cookie = 0
    ofs = 4                             # (the nested value's alignment)
    n = len(value)
    while ofs < n:
        if n - ofs < 4:
            raise DecodeError("continuation property ends early", BAD_REQUEST, 6)
        ptype, plen = struct.unpack_from("!HH", value, ofs)
        if plen < 4 or ofs + plen > n:
            raise DecodeError("bad continuation property length", BAD_REQUEST, 6)
        v = value[ofs + 4:ofs + plen]
        if ptype == NXCPT_BRIDGE and len(v) == 16:
            cont.bridge = v
        elif ptype == NXCPT_STACK:
            cont.stack = v
        elif ptype == NXCPT_MIRRORS and len(v) == 4:
            cont.mirrors = struct.unpack("!I", v)[0]
        elif ptype == NXCPT_CONNTRACKED:
            cont.conntracked = True
        elif ptype == NXCPT_TABLE_ID and len(v) == 1:
            table_id = v[0]
        elif ptype == NXCPT_COOKIE and len(v) == 12:
            cookie = struct.unpack_from("!Q", v, 4)[0]
        elif ptype == NXCPT_ACTIONS and len(v) >= 4:
            cont.actions.append(UnrollXlate(table_id, cookie))
            cont.actions += decode_action_list(v[4:], version)
        elif ptype == NXCPT_ACTION_SET and len(v) >= 4:
            cont.action_set = decode_action_list(v[4:], version)
        elif ptype == NXCPT_ODP_PORT and len(v) == 4:
            cont.odp_port = struct.unpack("!I", v)[0]
        else:
            raise DecodeError(f"bad continuation property {ptype:#x}",
                              BAD_REQUEST, 6)
        ofs += plen + (-plen % 8)
    return cont


def is_resume(msg):
    return (len(msg) >= 16 and msg[1] == 4
            and struct.unpack_from("!II", msg, 8) == (NX_VENDOR_ID, NXT_RESUME))
