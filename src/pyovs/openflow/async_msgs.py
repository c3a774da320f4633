"""Asynchronous and controller-to-switch messages: packet-in, flow-removed,
port-status (switch to controller) and packet-out, port-mod, table-mod,
set-config, role request/reply (controller to switch), for OpenFlow 1.0
and 1.2+ (1.3 is the tested one).

Each message is a dataclass with encode(version, xid) -> bytes and a
module-level decode_*(data) -> object raising DecodeError on malformed
input; format_*() print the text ofp-print prints after the header.

Packet-in and packet-out texts end with the packet's flow
(packet_print.packet_to_string), as OVS prints them.

Public API: PacketIn, FlowRemoved, PortStatus, PacketOut, PortMod,
TableMod, SetConfig, RoleMessage and decode_packet_in, decode_packet_in2
(NXT_PACKET_IN2 -> PacketIn), decode_flow_removed,
decode_port_status, decode_packet_out, decode_port_mod, decode_table_mod,
decode_set_config, decode_role; REASONS_* name tables.
"""

import struct
from dataclasses import dataclass, field as dc_field

from . import messages as M
from .errors import DecodeError, BAD_REQUEST
from .flow import format_duration
from .match import Match, format_eth, OFP_DEFAULT_PRIORITY
from .messages import OFP10, _msg
from .nx_match import (pull_nxm, put_ofp10_match, pull_ofp10_match, put_ofp11_match,
                       pull_ofp11_match)
from .actions import format_actions
from .packet_print import packet_to_string
from .ofp_actions import encode_action_list, decode_action_list
from .ports import port_to_string, to_ofp11, from_ofp11, OFPP_NONE

OFPT_PACKET_IN, OFPT_FLOW_REMOVED, OFPT_PORT_STATUS = 10, 11, 12
OFPT_PACKET_OUT, OFPT_SET_CONFIG = 13, 9
OFPT_ROLE_REQUEST, OFPT_ROLE_REPLY = 24, 25
OFPT10_PORT_MOD, OFPT11_PORT_MOD, OFPT11_TABLE_MOD = 15, 16, 17
NO_BUFFER = 0xffffffff

PACKET_IN_REASONS = {0: "no_match", 1: "action", 2: "invalid_ttl",
                     3: "action_set", 4: "group", 5: "packet_out"}
FLOW_REMOVED_REASONS = {0: "idle", 1: "hard", 2: "delete", 3: "group_delete",
                        4: "meter_delete", 5: "eviction"}
PORT_STATUS_REASONS = {0: "ADD", 1: "DEL", 2: "MOD"}
ROLES = {0: "nochange", 1: "equal", 2: "primary", 3: "secondary"}


def _short(what):
    return DecodeError(f"{what} too short", BAD_REQUEST, 6)


def _header(data, what, min_len):
    h = M.parse_header(data)
    if h.length < min_len:
        raise _short(what)
    return h, data[:h.length]


# --- packet-in ----------------------------------------------------------------

@dataclass
class PacketIn:
    data: bytes = b""
    in_port: int = 0
    reason: int = 0
    buffer_id: int = NO_BUFFER
    total_len: int = None
    table_id: int = 0
    cookie: int = (1 << 64) - 1
    match: Match = None       # 1.2+: the pipeline fields (in_port at least)
    controller_id: int = 0    # only connections with this id receive it
    continuation: object = None     # continuation.Continuation (pause)
    userdata: bytes = b""           # controller(userdata=...), packet-in2

    def encode(self, version, xid):
        total = len(self.data) if self.total_len is None else self.total_len
        if version == OFP10:
            body = struct.pack("!IHHBx", self.buffer_id, total, self.in_port,
                               self.reason)
            return _msg(OFP10, OFPT_PACKET_IN, xid, body + self.data)
        match = self.match.copy() if self.match is not None else Match()
        match.set_storage("in_port", self.in_port, 0xffff)
        body = struct.pack("!IHBBQ", self.buffer_id, total, self.reason,
                           self.table_id, self.cookie)
        body += put_ofp11_match(match, version) + b"\0\0" + self.data
        return _msg(version, OFPT_PACKET_IN, xid, body)

    def format(self, port_names=None):
        """The text ofp-print prints after the header: the packet-in's
        fields, then the packet's flow when there is data."""
        total = len(self.data) if self.total_len is None else self.total_len
        match = self.match.copy() if self.match is not None else Match()
        match.set_storage("in_port", self.in_port, 0xffff)
        s = ""
        if self.table_id:
            s += f" table_id={self.table_id}"
        if self.cookie != (1 << 64) - 1:
            s += f" cookie=0x{self.cookie:x}"
        s += f" total_len={total} " + match.format(port_names=port_names)
        s += " (via " + PACKET_IN_REASONS.get(self.reason, str(self.reason)) + ")"
        s += f" data_len={len(self.data)}"
        if self.buffer_id == NO_BUFFER:
            s += " (unbuffered)"
        else:
            s += f" buffer=0x{self.buffer_id:08x}"
        if self.userdata:
            s += "\n userdata=" + ".".join(f"{b:02x}" for b in self.userdata)
        if self.continuation is not None:
            s += self.continuation.format(port_names)
        if self.data:
            s += "\n" + packet_to_string(self.data).rstrip("\n")
        return s


def decode_packet_in(data):
    h, data = _header(data, "packet-in", 18)
    if h.version == OFP10:
        buffer_id, total, in_port, reason = struct.unpack_from("!IHHB", data, 8)
        return PacketIn(data[18:], in_port, reason, buffer_id, total)
    if h.length < 24:
        raise _short("packet-in")
    buffer_id, total, reason, table_id, cookie = struct.unpack_from("!IHBBQ", data, 8)
    match, used = pull_ofp11_match(data[24:], h.version)
    ofs = 24 + used + 2
    if ofs > h.length:
        raise _short("packet-in")
    return PacketIn(data[ofs:], match.value("in_port"), reason, buffer_id,
                    total, table_id, cookie, match)


# NXT_PACKET_IN2 properties (OVS's nx_packet_in2_prop_type).
NXPINT_PACKET, NXPINT_FULL_LEN, NXPINT_BUFFER_ID, NXPINT_TABLE_ID = 0, 1, 2, 3
NXPINT_COOKIE, NXPINT_REASON, NXPINT_METADATA, NXPINT_USERDATA = 4, 5, 6, 7
NXPINT_CONTINUATION = 8


def decode_packet_in2(data):
    """An NXT_PACKET_IN2 (a property list after the 16-byte NX header; also
    NXT_RESUME's body) as a PacketIn."""
    h, data = _header(data, "packet-in2", 16)
    pin = PacketIn(match=Match())
    ofs = 16
    while ofs < h.length:
        if h.length - ofs < 4:
            raise _short("packet-in2 property")
        ptype, plen = struct.unpack_from("!HH", data, ofs)
        if plen < 4 or ofs + plen > h.length:
            raise DecodeError("bad property length", BAD_REQUEST, 6)
        value = data[ofs + 4:ofs + plen]
        if ptype == NXPINT_PACKET:
            pin.data = value
        elif ptype == NXPINT_FULL_LEN and len(value) == 4:
            pin.total_len = int.from_bytes(value, "big")
        elif ptype == NXPINT_BUFFER_ID and len(value) == 4:
            pin.buffer_id = int.from_bytes(value, "big")
        elif ptype in (NXPINT_TABLE_ID, NXPINT_REASON) and len(value) == 1:
            if ptype == NXPINT_TABLE_ID:
                pin.table_id = value[0]
            else:
                pin.reason = value[0]
        elif ptype == NXPINT_COOKIE and len(value) == 12:
            pin.cookie = int.from_bytes(value[4:], "big")
        elif ptype == NXPINT_METADATA:
            pin.match = pull_nxm(value, M.OFP13)[0]
        elif ptype == NXPINT_USERDATA:
            pin.userdata = value
        elif ptype == NXPINT_CONTINUATION:
            from .continuation import decode_continuation
            pin.continuation = decode_continuation(value, h.version)
        ofs += plen + (-plen % 8)
    pin.in_port = pin.match.value("in_port")
    return pin


# --- flow-removed -----------------------------------------------------------------

@dataclass
class FlowRemoved:
    match: Match = dc_field(default_factory=Match)
    cookie: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    reason: int = 0
    table_id: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    packet_count: int = 0
    byte_count: int = 0

    def encode(self, version, xid):
        if version == OFP10:
            body = put_ofp10_match(self.match) + struct.pack(
                "!QHBxIIH2xQQ", self.cookie, self.priority, self.reason,
                self.duration_sec, self.duration_nsec, self.idle_timeout,
                self.packet_count, self.byte_count)
            return _msg(OFP10, OFPT_FLOW_REMOVED, xid, body)
        body = struct.pack("!QHBBIIHHQQ", self.cookie, self.priority,
                           self.reason, self.table_id, self.duration_sec,
                           self.duration_nsec, self.idle_timeout,
                           self.hard_timeout, self.packet_count, self.byte_count)
        return _msg(version, OFPT_FLOW_REMOVED, xid,
                    body + put_ofp11_match(self.match, version))

    def format(self, port_names=None):
        s = " " + self.match.format(self.priority, port_names)
        s += " reason=" + FLOW_REMOVED_REASONS.get(self.reason, str(self.reason))
        if self.table_id != 255:
            s += f" table_id={self.table_id}"
        if self.cookie:
            s += f" cookie:0x{self.cookie:x}"
        s += " duration" + format_duration(self.duration_sec, self.duration_nsec)
        s += f" idle{self.idle_timeout}"
        if self.hard_timeout:
            s += f" hard{self.hard_timeout}"
        return s + f" pkts{self.packet_count} bytes{self.byte_count}"


def decode_flow_removed(data):
    h, data = _header(data, "flow-removed", 56)
    if h.version == OFP10:
        if h.length < 88:
            raise _short("flow-removed")
        match = pull_ofp10_match(data[8:48])
        (cookie, prio, reason, dsec, dnsec, idle, pkts,
         byts) = struct.unpack_from("!QHBxIIH2xQQ", data, 48)
        return FlowRemoved(match, cookie, prio, reason, 255, dsec, dnsec, idle,
                           0, pkts, byts)
    (cookie, prio, reason, table, dsec, dnsec, idle, hard, pkts,
     byts) = struct.unpack_from("!QHBBIIHHQQ", data, 8)
    match, _used = pull_ofp11_match(data[48:], h.version)
    return FlowRemoved(match, cookie, prio, reason, table, dsec, dnsec, idle,
                       hard, pkts, byts)


# --- port-status ---------------------------------------------------------------------

@dataclass
class PortStatus:
    reason: int
    port: M.PhyPort

    def encode(self, version, xid):
        from .switch_replies import encode_ports
        body = struct.pack("!B7x", self.reason) + encode_ports([self.port], version)
        return _msg(version, OFPT_PORT_STATUS, xid, body)

    def format(self, version):
        from .ofp_print import format_ports
        lines = format_ports([self.port], version)
        head = " " + PORT_STATUS_REASONS.get(self.reason, str(self.reason)) + ":"
        return "\n".join([head + lines[0]] + lines[1:])


def decode_port_status(data):
    h, data = _header(data, "port-status", 16)
    ports = M.decode_ports(data[16:], h.version)
    if len(ports) != 1:
        raise DecodeError("port-status without exactly one port", BAD_REQUEST, 6)
    return PortStatus(data[8], ports[0])


# --- packet-out ------------------------------------------------------------------

@dataclass
class PacketOut:
    actions: list = dc_field(default_factory=list)
    in_port: int = OFPP_NONE
    buffer_id: int = NO_BUFFER
    data: bytes = b""

    def encode(self, version, xid):
        acts = encode_action_list(self.actions, version)
        if version == OFP10:
            body = struct.pack("!IHH", self.buffer_id, self.in_port, len(acts))
        else:
            body = struct.pack("!IIH6x", self.buffer_id, to_ofp11(self.in_port),
                               len(acts))
        return _msg(version, OFPT_PACKET_OUT, xid, body + acts + self.data)

    def format(self, port_names=None):
        s = " in_port=" + port_to_string(self.in_port, port_names)
        s += " actions=" + format_actions(self.actions, port_names)
        if self.buffer_id == NO_BUFFER:
            s += f" data_len={len(self.data)}"
        else:
            s += f" buffer=0x{self.buffer_id:08x}"
        if self.data:
            s += "\n" + packet_to_string(self.data).rstrip("\n")
        return s


def decode_packet_out(data):
    h, data = _header(data, "packet-out", 16)
    if h.version == OFP10:
        buffer_id, in_port, alen = struct.unpack_from("!IHH", data, 8)
        ofs = 16
    else:
        if h.length < 24:
            raise _short("packet-out")
        buffer_id, port32, alen = struct.unpack_from("!IIH", data, 8)
        in_port = from_ofp11(port32)
        if in_port is None:
            raise DecodeError("bad packet-out in_port", BAD_REQUEST, 11)
        ofs = 24
    if ofs + alen > h.length:
        raise DecodeError("packet-out actions run past the message", BAD_REQUEST, 6)
    actions = decode_action_list(data[ofs:ofs + alen], h.version)
    return PacketOut(actions, in_port, buffer_id, data[ofs + alen:])


# --- port-mod, table-mod, set-config, role ------------------------------------------

@dataclass
class PortMod:
    port_no: int
    hw_addr: int
    config: int
    mask: int
    advertise: int = 0

    def encode(self, version, xid):
        hw = self.hw_addr.to_bytes(6, "big")
        if version == OFP10:
            return _msg(OFP10, OFPT10_PORT_MOD, xid, struct.pack(
                "!H6sIII4x", self.port_no, hw, self.config, self.mask,
                self.advertise))
        if version >= 5:
            props = (struct.pack("!HHI", 0, 8, self.advertise)
                     if self.advertise else b"")
            return _msg(version, OFPT11_PORT_MOD, xid, struct.pack(
                "!I4x6s2xII", to_ofp11(self.port_no), hw, self.config,
                self.mask) + props)
        return _msg(version, OFPT11_PORT_MOD, xid, struct.pack(
            "!I4x6s2xIII4x", to_ofp11(self.port_no), hw, self.config,
            self.mask, self.advertise))

    def format(self, version, port_names=None):
        from .ofp_print import _bits, _CONFIG, _CONFIG11, _FEATURES10, _FEATURES11
        cfg = _CONFIG if version == OFP10 else _CONFIG11
        feats = _FEATURES10 if version == OFP10 else _FEATURES11
        return (f" port: {port_to_string(self.port_no, port_names)}: "
                f"addr:{format_eth(self.hw_addr)}\n"
                f"     config: {_bits(self.config, cfg)}\n"
                f"     mask:   {_bits(self.mask, cfg)}\n"
                "     advertise: " + (_bits(self.advertise, feats)
                                      if self.advertise else "UNCHANGED"))


def decode_port_mod(data):
    h, data = _header(data, "port-mod", 32)
    if h.version == OFP10:
        port, hw, config, mask, adv = struct.unpack_from("!H6sIII", data, 8)
    elif h.version >= 5:
        # OpenFlow 1.4+: the advertised features are an optional property.
        port32, hw, config, mask = struct.unpack_from("!I4x6s2xII", data, 8)
        adv = 0
        ofs = 32
        while ofs + 4 <= h.length:
            ptype, plen = struct.unpack_from("!HH", data, ofs)
            if plen < 4 or ofs + plen > h.length:
                raise DecodeError("bad port-mod property", BAD_REQUEST, 6)
            if ptype == 0 and plen >= 8:
                adv = struct.unpack_from("!I", data, ofs + 4)[0]
            ofs += (plen + 7) // 8 * 8
    else:
        if h.length < 40:
            raise _short("port-mod")
        port32, hw, config, mask, adv = struct.unpack_from("!I4x6s2xIII", data, 8)
    if h.version != OFP10:
        port = from_ofp11(port32)
        if port is None:
            raise DecodeError("bad port-mod port", BAD_REQUEST, 11)
    return PortMod(port, int.from_bytes(hw, "big"), config, mask, adv)


@dataclass
class TableMod:
    """OFPT_TABLE_MOD.  CONFIG holds the wire bits: OpenFlow 1.1/1.2 table
    miss (0 controller, 1 continue, 2 drop), 1.4+ eviction (4) and vacancy
    events (8); 1.4+ PROPS: eviction_flags (None: no property) and vacancy
    (down, up) (None: no property)."""
    table_id: int
    config: int = 0
    version: int = 0
    eviction_flags: int = None
    vacancy: tuple = None

    def encode(self, version, xid):
        body = struct.pack("!B3xI", self.table_id, self.config)
        if version >= M.OFP14:
            if self.eviction_flags is not None:
                body += struct.pack("!HHI", OFPTMPT14_EVICTION, 8,
                                    self.eviction_flags)
            if self.vacancy is not None:
                body += struct.pack("!HHBBBx", OFPTMPT14_VACANCY, 8,
                                    self.vacancy[0], self.vacancy[1], 0)
        return _msg(version, OFPT11_TABLE_MOD, xid, body)

    def format(self):
        s = " table_id=" + ("all" if self.table_id == 255 else str(self.table_id))
        if self.version in (M.OFP11, M.OFP12):
            s += ", flow_miss_config=" + TABLE_MISS_NAMES.get(
                self.config & 3, "controller")
        elif self.version >= M.OFP14:
            s += ", eviction=" + ("on" if self.config & OFPTC14_EVICTION else "off")
            if self.eviction_flags is not None:
                s += ", eviction_flags=" + _eviction_flags(self.eviction_flags)
            s += ", vacancy=" + ("on" if self.config & OFPTC14_VACANCY else "off")
            if self.config & OFPTC14_VACANCY and self.vacancy is not None:
                s += (f" vacancy_down={self.vacancy[0]}%"
                      f" vacancy_up={self.vacancy[1]}%")
        return s


TABLE_MISS_NAMES = {0: "controller", 1: "continue", 2: "drop"}
OFPTC14_EVICTION, OFPTC14_VACANCY = 4, 8
OFPTMPT14_EVICTION, OFPTMPT14_VACANCY = 2, 3


def _eviction_flags(flags):
    names = [n for b, n in ((1, "OTHER"), (2, "IMPORTANCE"), (4, "LIFETIME"))
             if flags & b]
    return "|".join(names) if names else "0"


def decode_table_mod(data):
    h, data = _header(data, "table-mod", 16)
    table_id, config = struct.unpack_from("!B3xI", data, 8)
    tm = TableMod(table_id, config, h.version)
    ofs = 16
    while h.version >= M.OFP14 and ofs + 4 <= h.length:
        ptype, plen = struct.unpack_from("!HH", data, ofs)
        if plen < 4 or ofs + plen > h.length:
            raise DecodeError("bad property length", BAD_REQUEST, 6)
        if ptype == OFPTMPT14_EVICTION and plen == 8:
            tm.eviction_flags = struct.unpack_from("!I", data, ofs + 4)[0]
        elif ptype == OFPTMPT14_VACANCY and plen == 8:
            tm.vacancy = tuple(data[ofs + 4:ofs + 6])
        ofs += plen + (-plen % 8)
    return tm


FRAG_NAMES = {0: "normal", 1: "drop", 2: "reassemble", 3: "nx-match"}


@dataclass
class SetConfig:
    flags: int = 0
    miss_send_len: int = 128

    def encode(self, version, xid):
        return _msg(version, OFPT_SET_CONFIG, xid,
                    struct.pack("!HH", self.flags, self.miss_send_len))

    def format(self):
        return (f" frags={FRAG_NAMES.get(self.flags & 3)} "
                f"miss_send_len={self.miss_send_len}")


def decode_set_config(data):
    h, data = _header(data, "set-config", 12)
    return SetConfig(*struct.unpack_from("!HH", data, 8))


@dataclass
class RoleMessage:
    role: int
    generation_id: int = 0
    reply: bool = False

    def encode(self, version, xid):
        mtype = OFPT_ROLE_REPLY if self.reply else OFPT_ROLE_REQUEST
        return _msg(version, mtype, xid,
                    struct.pack("!I4xQ", self.role, self.generation_id))

    def format(self):
        s = " role=" + ROLES.get(self.role, str(self.role))
        if self.role != 0:
            s += f" generation_id={self.generation_id}"
        return s


def decode_role(data):
    h, data = _header(data, "role message", 24)
    role, gen = struct.unpack_from("!I4xQ", data, 8)
    return RoleMessage(role, gen, h.type == OFPT_ROLE_REPLY)

