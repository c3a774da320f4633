"""Groups (OpenFlow 1.1+): the group syntax of ovs-ofctl(8), group_mod
messages, and group description/statistics replies.

OpenFlow 1.0 carries groups through OVS's Nicira extensions: NXT_GROUP_MOD
and the NXST_GROUP / NXST_GROUP_DESC / NXST_GROUP_FEATURES stats, whose
bodies are OpenFlow 1.5's (bucket ids and properties; group stats as 1.3)
with OpenFlow 1.0 actions.  So every function here that takes a version
treats 1.0 as "1.5 layout, 1.0 actions" (_layout15).

Public API:
  Bucket(actions, weight, watch_port, watch_group, bucket_id); Group(group_id,
    type, buckets); GroupMod(command, group, command_bucket_id); OpenFlow 1.5
    group_mods (bucket ids and properties; insert_bucket/remove_bucket)
  parse_group(text, command, port_names=None) -> GroupMod (FlowParseError)
  format_group(group) -> text as dump-groups prints it
  GroupMod.encode(version, xid); decode_group_mod(data) -> GroupMod
  encode_group_desc_request / encode_group_stats_request(version, xid, id)
  decode_group_desc(body, version) -> list of Group
  decode_group_stats(body, version) -> list of dicts
  encode_group_desc_reply (switch side)
  encode_group_features_request; decode_group_features(body, version);
  format_group_features(f) -> lines; encode_group_features_reply(version,
  xid) (switch side: OVS's capabilities)
"""

import struct
from dataclasses import dataclass, field as dc_field

from .actions import parse_actions, format_actions, split_items
from .errors import FlowParseError, DecodeError, Unsupported, BAD_REQUEST
from .flow import format_duration
from .match import parse_int
from .messages import (OFP10, OFP11, _msg, _nxt, encode_stats_request,
                       encode_nx_stats_request, NXT_GROUP_MOD, NXST_GROUP,
                       NXST_GROUP_DESC, NXST_GROUP_FEATURES)
from .ofp_actions import encode_action_list, decode_action_list
from .ports import port_from_string, port_to_string, to_ofp11, from_ofp11

OFPT11_GROUP_MOD = 15
OFPST_GROUP, OFPST_GROUP_DESC = 6, 7
OFPGC_ADD, OFPGC_MODIFY, OFPGC_DELETE = 0, 1, 2
OFPGC15_INSERT_BUCKET, OFPGC15_REMOVE_BUCKET = 3, 5
COMMAND_NAMES = {0: "ADD", 1: "MOD", 2: "DEL", 3: "INSERT_BUCKET",
                 5: "REMOVE_BUCKET"}
# OpenFlow 1.5 command_bucket_id values.
OFPG15_BUCKET_FIRST, OFPG15_BUCKET_LAST = 0xfffffffd, 0xfffffffe
OFPG15_BUCKET_ALL = 0xffffffff
_BUCKET_ID_NAMES = {OFPG15_BUCKET_FIRST: "first", OFPG15_BUCKET_LAST: "last",
                    OFPG15_BUCKET_ALL: "all"}
OFPGBPT15_WEIGHT, OFPGBPT15_WATCH_PORT, OFPGBPT15_WATCH_GROUP = 0, 1, 2
OFP15 = 6
TYPES = {0: "all", 1: "select", 2: "indirect", 3: "ff"}
TYPE_ALIASES = {"all": 0, "select": 1, "indirect": 2, "ff": 3,
                "fast_failover": 3}
OFPG_MAX = 0xffffff00
OFPG_ALL = 0xfffffffc
OFPG_ANY = 0xffffffff
OFPP11_ANY = 0xffffffff
MAX_BUCKETS = 4096


@dataclass
class Bucket:
    actions: list = dc_field(default_factory=list)
    weight: int = 0
    watch_port: int = OFPP11_ANY      # 32-bit, as on the wire
    watch_group: int = OFPG_ANY
    bucket_id: int = None             # OpenFlow 1.5 (None: numbered in order)


@dataclass
class Group:
    group_id: int
    type: int = 0
    buckets: list = dc_field(default_factory=list)


@dataclass
class GroupMod:
    command: int
    group: Group
    command_bucket_id: int = OFPG15_BUCKET_ALL      # OpenFlow 1.5

    def encode(self, version, xid):
        g = self.group
        if _layout15(version):
            buckets = _encode_buckets15(g, version)
            body = struct.pack("!HBxIH2xI", self.command, g.type, g.group_id,
                               len(buckets), self.command_bucket_id) + buckets
            if version == OFP10:
                return _nxt(NXT_GROUP_MOD, xid, body)
        else:
            if self.command > OFPGC_DELETE:
                raise Unsupported(f"{COMMAND_NAMES[self.command].lower()} "
                                  "needs OpenFlow 1.5")
            body = struct.pack("!HBxI", self.command, g.type, g.group_id)
            body += _encode_buckets(g.buckets, version)
        return _msg(version, OFPT11_GROUP_MOD, xid, body)

    def format(self, port_names=None, version=None):
        s = "\n " + COMMAND_NAMES.get(self.command, str(self.command)) + " "
        if self.command in (OFPGC15_INSERT_BUCKET, OFPGC15_REMOVE_BUCKET):
            cid = self.command_bucket_id
            s += f"command_bucket_id:{_BUCKET_ID_NAMES.get(cid, cid)},"
        if self.command == OFPGC15_REMOVE_BUCKET:
            return s + f"group_id={self.group.group_id}"
        return s + format_group(self.group, port_names, version,
                                self.command != OFPGC15_INSERT_BUCKET)


def _layout15(version):
    """Whether VERSION's groups have OpenFlow 1.5's layout (1.0's Nicira
    extensions borrow it)."""
    return version == OFP10 or version >= OFP15


def _actions_version(version):
    return OFP10 if version == OFP10 else OFP15


def _encode_buckets(buckets, version):
    out = b""
    for b in buckets:
        acts = encode_action_list(b.actions, version)
        out += struct.pack("!HHII4x", 16 + len(acts), b.weight, b.watch_port,
                           b.watch_group) + acts
    return out


def _bucket_ids(g):
    """Bucket ids as OpenFlow 1.5 sends them: given, else in order from 0."""
    return [b.bucket_id if b.bucket_id is not None else i
            for i, b in enumerate(g.buckets)]


def _encode_buckets15(g, version=OFP15):
    out = b""
    for b, bid in zip(g.buckets, _bucket_ids(g)):
        acts = encode_action_list(b.actions, _actions_version(version))
        props = b""
        if g.type == 1:
            props += struct.pack("!HHH2x", OFPGBPT15_WEIGHT, 8, b.weight)
        if b.watch_port != OFPP11_ANY:
            props += struct.pack("!HHI", OFPGBPT15_WATCH_PORT, 8, b.watch_port)
        if b.watch_group != OFPG_ANY:
            props += struct.pack("!HHI", OFPGBPT15_WATCH_GROUP, 8, b.watch_group)
        out += struct.pack("!HHI", 8 + len(acts) + len(props), len(acts),
                           bid) + acts + props
    return out


def _decode_buckets15(data, gtype, version=OFP15):
    buckets = []
    ofs = 0
    while ofs < len(data):
        if len(data) - ofs < 8 or len(buckets) >= MAX_BUCKETS:
            raise DecodeError("bad bucket", 6, 12)
        length, act_len, bid = struct.unpack_from("!HHI", data, ofs)
        if length < 8 or ofs + length > len(data) or 8 + act_len > length:
            raise DecodeError("bad bucket length", 6, 12)
        b = Bucket(decode_action_list(data[ofs + 8:ofs + 8 + act_len],
                                      _actions_version(version)),
                   1 if gtype == 1 else 0, bucket_id=bid)
        pofs = ofs + 8 + act_len
        while pofs < ofs + length:          # properties, as OVS's ofpprop_pull
            if pofs + 4 > ofs + length:
                raise DecodeError("bucket property truncated", 14, 1,
                                  name="OFPBPC_BAD_LEN")
            ptype, plen = struct.unpack_from("!HH", data, pofs)
            if plen < 4 or pofs + (plen + 7) // 8 * 8 > ofs + length:
                raise DecodeError("bad bucket property length", 14, 1,
                                  name="OFPBPC_BAD_LEN")
            if ptype == OFPGBPT15_WEIGHT and plen >= 6:
                b.weight = struct.unpack_from("!H", data, pofs + 4)[0]
            elif ptype == OFPGBPT15_WATCH_PORT and plen >= 8:
                b.watch_port = struct.unpack_from("!I", data, pofs + 4)[0]
            elif ptype == OFPGBPT15_WATCH_GROUP and plen >= 8:
                b.watch_group = struct.unpack_from("!I", data, pofs + 4)[0]
            pofs += (plen + 7) // 8 * 8
        buckets.append(b)
        ofs += length
    return buckets


def _decode_buckets(data, version):
    buckets = []
    ofs = 0
    while ofs < len(data):
        if len(data) - ofs < 16 or len(buckets) >= MAX_BUCKETS:
            raise DecodeError("bad bucket", 6, 12)
        length, weight, watch_port, watch_group = struct.unpack_from("!HHII", data, ofs)
        if length < 16 or length % 8 or ofs + length > len(data):
            raise DecodeError("bad bucket length", 6, 12)
        acts = decode_action_list(data[ofs + 16:ofs + length], version)
        buckets.append(Bucket(acts, weight, watch_port, watch_group))
        ofs += length
    return buckets


def decode_group_mod(data):
    from .messages import parse_header
    h = parse_header(data)
    ofs = 16 if h.version == OFP10 else 8       # NXT_GROUP_MOD's vendor header
    if h.length < ofs + 8:
        raise DecodeError("group_mod too short", BAD_REQUEST, 6)
    command, gtype, group_id = struct.unpack_from("!HBxI", data, ofs)
    if _layout15(h.version):
        if h.length < ofs + 16:
            raise DecodeError("group_mod too short", BAD_REQUEST, 6)
        blen, cid = struct.unpack_from("!H2xI", data, ofs + 8)
        start = ofs + 16
        if start + blen > h.length:
            raise DecodeError("bucket array runs past the message", BAD_REQUEST, 6)
        return GroupMod(command, Group(group_id, gtype, _decode_buckets15(
            data[start:start + blen], gtype, h.version)), cid)
    return GroupMod(command, Group(group_id, gtype,
                                   _decode_buckets(data[16:h.length], h.version)))


# --- text -------------------------------------------------------------------------

def _format_group_id(group_id):
    return {OFPG_ALL: "ALL", OFPG_ANY: "ANY"}.get(group_id, str(group_id))


def format_group(g, port_names=None, version=None, with_type=True):
    """As dump-groups prints G (bucket ids from OpenFlow 1.5 on)."""
    v15 = version is not None and _layout15(version)
    gid = str(g.group_id) if v15 else _format_group_id(g.group_id)
    s = f"group_id={gid}"
    if with_type:
        s += f",type={TYPES.get(g.type, g.type)}"
    for b in g.buckets:
        s += ",bucket="
        if v15 and b.bucket_id is not None:
            s += f"bucket_id:{b.bucket_id},"
        if g.type == 1 and b.weight != 1:
            s += f"weight:{b.weight},"
        if b.watch_port != OFPP11_ANY:
            port = from_ofp11(b.watch_port)
            s += "watch_port:" + (port_to_string(port, port_names)
                                  if port is not None else str(b.watch_port)) + ","
        if b.watch_group != OFPG_ANY:
            s += f"watch_group:{b.watch_group},"
        s += "actions=" + format_actions(b.actions, port_names)
    return s


def _parse_group_id(text):
    low = text.lower()
    if low == "all":
        return OFPG_ALL
    if low == "any":
        return OFPG_ANY
    v = parse_int(text)
    if v is None or v > OFPG_MAX:
        raise FlowParseError(f"invalid group id {text}")
    return v


def _split_top(text):
    """TEXT's top-level comma-separated segments, raw."""
    segs, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            segs.append(text[start:i])
            start = i + 1
    segs.append(text[start:])
    return [s.strip() for s in segs if s.strip()]


def _parse_bucket(text, gtype, names):
    b = Bucket(weight=1 if gtype == 1 else 0)
    segs = _split_top(text)
    action_segs = []
    for i, seg in enumerate(segs):
        key, _sep, value = seg.replace("=", ":", 1).partition(":")
        if key == "actions":
            action_segs = [seg[len("actions") + 1:]] + segs[i + 1:]
            break
        if key == "weight":
            v = parse_int(value)
            if v is None or v > 0xffff:
                raise FlowParseError(f'invalid weight "{value}"')
            b.weight = v
        elif key == "watch_port":
            port = port_from_string(value, names)
            if port is None:
                raise FlowParseError(f"{value}: invalid watch_port")
            b.watch_port = to_ofp11(port)
        elif key == "watch_group":
            b.watch_group = _parse_group_id(value)
        elif key == "bucket_id":
            v = parse_int(value)
            if v is None or v > 0xffffff00:
                raise FlowParseError(f'invalid bucket_id "{value}"')
            b.bucket_id = v
        else:
            action_segs.append(seg)
    b.actions = parse_actions(",".join(action_segs), names) if action_segs else []
    return b


def parse_group(text, command=OFPGC_ADD, port_names=None):
    """Parse the group syntax of ovs-ofctl(8) for COMMAND."""
    if len(text) > 256 * 1024:
        raise FlowParseError("group too long")
    # Split off the buckets: each "bucket=" starts one.
    parts = text.split("bucket=")
    head = parts[0].rstrip(", ")
    group_id = None
    gtype = None
    command_bucket_id = None
    for key, value in split_items(head):
        if key == "command_bucket_id":
            names = {v: k for k, v in _BUCKET_ID_NAMES.items()}
            command_bucket_id = names.get(value, parse_int(value))
            if command_bucket_id is None or command_bucket_id > OFPG15_BUCKET_ALL:
                raise FlowParseError(f'invalid command bucket id "{value}"')
        elif key == "group_id":
            group_id = _parse_group_id(value)
        elif key == "type":
            if value not in TYPE_ALIASES:
                raise FlowParseError(f"invalid group type {value}")
            gtype = TYPE_ALIASES[value]
        elif key in ("selection_method", "selection_method_param", "fields"):
            raise FlowParseError(f"{key}: not supported by pyovs yet")
        else:
            raise FlowParseError(f"unknown keyword {key}")
    if group_id is None:
        if command == OFPGC_DELETE:
            group_id = OFPG_ALL
        else:
            raise FlowParseError("must specify a group_id")
    bucket_cmd = command in (OFPGC15_INSERT_BUCKET, OFPGC15_REMOVE_BUCKET)
    if command == OFPGC15_INSERT_BUCKET and command_bucket_id is None:
        raise FlowParseError("must specify a command bucket id")
    if gtype is None:
        if command == OFPGC_DELETE or bucket_cmd:
            gtype = 0
        else:
            raise FlowParseError("must specify a type")
    buckets = [_parse_bucket(p.rstrip(", "), gtype, port_names) for p in parts[1:]]
    if command in (OFPGC_DELETE, OFPGC15_REMOVE_BUCKET) and buckets:
        raise FlowParseError("bucket is not needed")
    return GroupMod(command, Group(group_id, gtype, buckets),
                    OFPG15_BUCKET_ALL if command_bucket_id is None
                    else command_bucket_id)


# --- statistics ----------------------------------------------------------------------

def encode_group_desc_request(version, xid, group_id=OFPG_ALL):
    if version == OFP10:
        return encode_nx_stats_request(OFP10, NXST_GROUP_DESC, xid,
                                       struct.pack("!I4x", group_id))
    return encode_stats_request(version, OFPST_GROUP_DESC, xid,
                                struct.pack("!I4x", group_id)
                                if version >= OFP15 else b"")


def encode_group_stats_request(version, xid, group_id=OFPG_ALL):
    if version == OFP10:
        return encode_nx_stats_request(OFP10, NXST_GROUP, xid,
                                       struct.pack("!I4x", group_id))
    return encode_stats_request(version, OFPST_GROUP, xid,
                                struct.pack("!I4x", group_id))


def decode_group_desc(body, version):
    groups = []
    ofs = 0
    if _layout15(version):
        while ofs + 16 <= len(body):
            length, gtype, group_id, blen = struct.unpack_from("!HBxIH", body, ofs)
            if length < 16 or ofs + length > len(body) or 16 + blen > length:
                raise DecodeError("bad group desc length", BAD_REQUEST, 6)
            groups.append(Group(group_id, gtype, _decode_buckets15(
                body[ofs + 16:ofs + 16 + blen], gtype, version)))
            ofs += length
        return groups
    while ofs + 8 <= len(body):
        length, gtype, group_id = struct.unpack_from("!HBxI", body, ofs)
        if length < 8 or ofs + length > len(body):
            raise DecodeError("bad group desc length", BAD_REQUEST, 6)
        groups.append(Group(group_id, gtype,
                            _decode_buckets(body[ofs + 8:ofs + length], version)))
        ofs += length
    return groups


def encode_group_desc_reply(version, xid, groups):
    from .switch_replies import _stats_reply, _nx_stats_reply
    body = b""
    for g in groups:
        if _layout15(version):
            buckets = _encode_buckets15(g, version)
            body += struct.pack("!HBxIH6x", 16 + len(buckets), g.type,
                                g.group_id, len(buckets)) + buckets
            continue
        buckets = _encode_buckets(g.buckets, version)
        body += struct.pack("!HBxI", 8 + len(buckets), g.type, g.group_id) + buckets
    if version == OFP10:
        return _nx_stats_reply(NXST_GROUP_DESC, xid, body)
    return _stats_reply(version, OFPST_GROUP_DESC, xid, body)


def decode_group_stats(body, version):
    out = []
    ofs = 0
    with_duration = version >= 4 or version == OFP10    # NXST_GROUP: as 1.3
    base = 40 if with_duration else 32
    while ofs + base <= len(body):
        length, group_id, ref_count, packets, bytes_ = struct.unpack_from(
            "!H2xII4xQQ", body, ofs)
        if length < base or ofs + length > len(body) or (length - base) % 16:
            raise DecodeError("bad group stats length", BAD_REQUEST, 6)
        duration = struct.unpack_from("!II", body, ofs + 32) if with_duration else None
        buckets = [struct.unpack_from("!QQ", body, o)
                   for o in range(ofs + base, ofs + length, 16)]
        out.append(dict(group_id=group_id, ref_count=ref_count, packets=packets,
                        bytes=bytes_, duration=duration, buckets=buckets))
        ofs += length
    return out


def format_group_stats(st):
    s = f" group_id={st['group_id']},"
    if st["duration"] is not None and st["duration"][0] != 0xffffffff:
        s += "duration=" + format_duration(*st["duration"]) + ","
    s += (f"ref_count={st['ref_count']},packet_count={st['packets']},"
          f"byte_count={st['bytes']}")
    for i, (p, b) in enumerate(st["buckets"]):
        s += f",bucket{i}:packet_count={p},byte_count={b}"
    return s


# --- group features -----------------------------------------------------------------

OFPST_GROUP_FEATURES = 8
_TYPE_LONG_NAMES = ("all", "select", "indirect", "fast failover")
# OpenFlow 1.2+ action types, in the order OVS lists them.
_ACTION_BITS = ((0, "output"), (22, "group"), (25, "set_field"),
                (18, "strip_vlan"), (17, "push_vlan"), (23, "mod_nw_ttl"),
                (24, "dec_ttl"), (15, "set_mpls_ttl"), (16, "dec_mpls_ttl"),
                (19, "push_mpls"), (20, "pop_mpls"), (21, "set_queue"))
# OpenFlow 1.1 action types, in OVS's order (also what 1.1 table stats
# print, ofp_print.py).
ACTION_BITS11 = ((0, "output"), (22, "group"), (1, "set_vlan_vid"),
                 (2, "set_vlan_pcp"), (18, "strip_vlan"), (17, "push_vlan"),
                 (3, "mod_dl_src"), (4, "mod_dl_dst"), (5, "mod_nw_src"),
                 (6, "mod_nw_dst"), (7, "mod_nw_tos"), (8, "mod_nw_ecn"),
                 (23, "mod_nw_ttl"), (9, "mod_tp_src"), (10, "mod_tp_dst"),
                 (24, "dec_ttl"), (13, "set_mpls_label"), (14, "set_mpls_tc"),
                 (15, "set_mpls_ttl"), (16, "dec_mpls_ttl"), (19, "push_mpls"),
                 (20, "pop_mpls"), (21, "set_queue"))
# OpenFlow 1.0 action types (NXST_GROUP_FEATURES), in OVS's order.
_ACTION_BITS10 = ((0, "output"), (11, "enqueue"), (1, "set_vlan_vid"),
                  (2, "set_vlan_pcp"), (3, "strip_vlan"), (4, "mod_dl_src"),
                  (5, "mod_dl_dst"), (6, "mod_nw_src"), (7, "mod_nw_dst"),
                  (8, "mod_nw_tos"), (9, "mod_tp_src"), (10, "mod_tp_dst"))
# What OVS's switch announces: all four types; weight, liveness, chaining;
# the actions its buckets take, as each version numbers them.
_FEATURES_TYPES, _FEATURES_CAPS, _MAX_GROUPS = 0xf, 0x7, OFPG_MAX
_FEATURES_ACTIONS = {OFP10: 0xfff, OFP11: 0x01ffe7ff}
_ACTION_NAMES = {OFP10: _ACTION_BITS10, OFP11: ACTION_BITS11}
_FEATURES_ACTIONS_12 = 0x03ff8001


def encode_group_features_request(version, xid):
    if version in (OFP10, OFP11):       # (1.1 has no group features: OVS's)
        return encode_nx_stats_request(version, NXST_GROUP_FEATURES, xid)
    return encode_stats_request(version, OFPST_GROUP_FEATURES, xid)


def encode_group_features_reply(version, xid):
    from .switch_replies import _stats_reply, _nx_stats_reply
    actions = _FEATURES_ACTIONS.get(version, _FEATURES_ACTIONS_12)
    body = struct.pack("!II4I4I", _FEATURES_TYPES, _FEATURES_CAPS,
                       *[_MAX_GROUPS] * 4, *[actions] * 4)
    if version in (OFP10, OFP11):
        return _nx_stats_reply(NXST_GROUP_FEATURES, xid, body, version=version)
    return _stats_reply(version, OFPST_GROUP_FEATURES, xid, body)


def decode_group_features(body, version=None):
    if len(body) < 40:
        raise DecodeError("group features too short", BAD_REQUEST, 6)
    types, caps = struct.unpack_from("!II", body)
    max_groups = struct.unpack_from("!4I", body, 8)
    actions = struct.unpack_from("!4I", body, 24)
    return dict(types=types, capabilities=caps, max_groups=max_groups,
                actions=actions, version=version)


def format_group_features(f):
    lines = [" Group table:", f"    Types:  0x{f['types']:x}",
             f"    Capabilities:  0x{f['capabilities']:x}"]
    for i, name in enumerate(_TYPE_LONG_NAMES):
        if f["types"] & (1 << i):
            bits = _ACTION_NAMES.get(f.get("version"), _ACTION_BITS)
            acts = " ".join(n for bit, n in bits if f["actions"][i] & (1 << bit))
            lines += [f"    {name} group:", f"       max_groups=0x{f['max_groups'][i]:x}",
                      f"       actions: {acts}"]
    return lines


# --- OpenFlow 1.5 bucket commands (switch side) ----------------------------------

def edit_buckets(old, gm):
    """The group OLD becomes after GM's insert_bucket/remove_bucket, as OVS
    does it (new buckets go after the bucket COMMAND_BUCKET_ID names);
    OFPError OFPGMFC_UNKNOWN_BUCKET / _BUCKET_EXISTS."""
    from .errors import OFPError
    buckets = [Bucket(b.actions, b.weight, b.watch_port, b.watch_group, bid)
               for b, bid in zip(old.buckets, _bucket_ids(old))]
    ids = [b.bucket_id for b in buckets]
    cid = gm.command_bucket_id
    if gm.command == OFPGC15_INSERT_BUCKET:
        new = [Bucket(b.actions, b.weight, b.watch_port, b.watch_group, bid)
               for b, bid in zip(gm.group.buckets, _bucket_ids(gm.group))]
        if any(b.bucket_id in ids for b in new):
            raise OFPError(6, 16, name="OFPGMFC_BUCKET_EXISTS")
        if cid == OFPG15_BUCKET_FIRST:
            at = 0
        elif cid == OFPG15_BUCKET_LAST:
            at = len(buckets)
        elif cid in ids:
            at = ids.index(cid) + 1
        else:
            raise OFPError(6, 15, name="OFPGMFC_UNKNOWN_BUCKET")
        buckets[at:at] = new
    else:
        if cid == OFPG15_BUCKET_ALL:
            buckets = []
        elif cid == OFPG15_BUCKET_FIRST:
            buckets = buckets[1:]
        elif cid == OFPG15_BUCKET_LAST:
            buckets = buckets[:-1]
        elif cid in ids:
            del buckets[ids.index(cid)]
        else:
            raise OFPError(6, 15, name="OFPGMFC_UNKNOWN_BUCKET")
    return Group(old.group_id, old.type, buckets)
