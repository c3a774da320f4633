"""The switch's side of requests: decoding what a controller or a tool
sends, for the messages whose encoders live in messages.py.

decode_request(data) looks at one whole message and returns a Request
(kind, version, xid, and the decoded fields), raising DecodeError (with the
OpenFlow error to answer) on malformed input and Unsupported for valid
messages pyovs does not handle yet.  Request.encode() rebuilds the bytes,
which lets tests prove decoding loses nothing.

Kinds: "hello", "echo_request", "features_request", "get_config_request",
"set_config", "barrier_request", "flow_mod", "packet_out", "port_mod",
"table_mod", "group_mod", "meter_mod", "role_request", "set_flow_format",
"flow_mod_table_id", "set_packet_in_format", "set_controller_id",
"ct_flush_zone", "bundle_control", "bundle_add", "get_async_request",
"set_async" (OpenFlow 1.3: fields packet_in, port_status, flow_removed,
each a (master/equal, slave) pair of reason masks; 1.4+: fields master
and slave, dicts of the masks the properties set), and stats requests
"flow_stats", "aggregate_stats", "desc_stats", "table_stats", "port_stats",
"port_desc", "queue_stats", "group_stats", "group_desc", "group_features",
"meter_stats",
"meter_config", "meter_features", "table_features", "table_desc".

Public API: Request (dataclass), decode_request(data).
"""

import struct
from dataclasses import dataclass, field as dc_field

from . import async_msgs as A
from . import groups as G
from . import messages as M
from . import tlv_table as TLV
from . import meters as MT
from . import protocols as P
from .errors import DecodeError, Unsupported, BAD_REQUEST
from .nx_match import pull_nxm, pull_ofp10_match, pull_ofp11_match
from .ports import from_ofp11, OFPP_ANY

NX_VENDOR_ID = M.NX_VENDOR_ID
_STATS_KINDS = {0: "desc_stats", 1: "flow_stats", 2: "aggregate_stats",
                3: "table_stats", 4: "port_stats", 5: "queue_stats",
                6: "group_stats", 7: "group_desc",
                8: "group_features", 9: "meter_stats",
                10: "meter_config", 11: "meter_features",
                12: "table_features", 13: "port_desc", 14: "table_desc"}

# OpenFlow 1.0 group stats (Nicira): body as 1.5's (a group id), or none.
_NXST_GROUP_KINDS = {M.NXST_GROUP: "group_stats", M.NXST_GROUP_DESC: "group_desc",
                     M.NXST_GROUP_FEATURES: "group_features"}


@dataclass
class Request:
    kind: str
    version: int
    xid: int
    fields: dict = dc_field(default_factory=dict)
    raw: bytes = b""

    def encode(self):
        """The message again, from the decoded fields."""
        f = self.fields
        k = self.kind
        if k == "flow_mod":
            return M.encode_flow_mod(f["flow_mod"], f["protocol"], self.xid)
        if k in ("flow_stats", "aggregate_stats"):
            return M.encode_flow_stats_request(
                f["protocol"], f["match"], f["table_id"], f["out_port"],
                f["out_group"], f["cookie"], f["cookie_mask"],
                k == "aggregate_stats", self.xid)
        if k in ("packet_out", "port_mod", "table_mod", "set_config",
                 "group_mod", "meter_mod", "role_request"):
            return f["message"].encode(self.version, self.xid)
        if k == "set_flow_format":
            return M.encode_set_flow_format(f["nxm"], self.xid)
        if k == "flow_mod_table_id":
            return M.encode_flow_mod_table_id(f["enable"], self.xid)
        if k == "set_packet_in_format":
            return M.encode_set_packet_in_format(f["format"], self.xid)
        if k == "set_controller_id":
            return M.encode_set_controller_id(f["controller_id"], self.xid)
        if k == "bundle_add":
            return M.encode_bundle_add(f["bundle_id"], f["inner"], f["flags"])
        return self.raw


def _protocol_of(version, nxm=False, tid=True):
    if version == M.OFP10:
        if nxm:
            return P.OF10_NXM_TID if tid else P.OF10_NXM
        return P.OF10_STD_TID if tid else P.OF10_STD
    return {M.OFP11: P.OF11_STD, M.OFP12: P.OF12_OXM, M.OFP13: P.OF13_OXM,
            M.OFP14: P.OF14_OXM, M.OFP15: P.OF15_OXM}[version]


def _check_consistency(fm, version, nxm):
    """OVS's ofpacts_check_consistency() on a received flow_mod: the actions
    must suit the match in the protocol they came in (OpenFlow 1.0 tolerates
    what later versions refuse)."""
    from .flow import check_actions, OFPFC_ADD, OFPFC_MODIFY_STRICT
    from .errors import FlowParseError, OFPError, OFPERR_NAMES
    if fm.command > OFPFC_MODIFY_STRICT or not fm.actions:
        return
    if version == M.OFP10:
        protocols = P.OF10_NXM_ANY if nxm else P.OF10_STD_ANY
    else:
        protocols = _protocol_of(version)
    try:
        usable = check_actions(fm.actions, fm.match, fm.table_id)
    except FlowParseError as e:
        name = str(e).rsplit("(", 1)[-1].rstrip(")")
        usable = None
    else:
        name = "OFPBAC_MATCH_INCONSISTENT"
    if usable is None or not usable & protocols:
        for key, value in OFPERR_NAMES.items():
            if value == name:
                raise OFPError(key[0], key[1], name=name)
        raise OFPError(2, 10, name="OFPBAC_MATCH_INCONSISTENT")


def _flow_stats_request(h, data, stype, body, nx):
    version = h.version
    fields = {}
    if nx:
        if len(body) < 8:
            raise DecodeError("NXST flow request too short", BAD_REQUEST, 6)
        out_port, match_len, table_id = struct.unpack_from("!HHB", body)
        if 8 + match_len > len(body):
            raise DecodeError("match runs past the request", BAD_REQUEST, 6)
        match, cookie, cookie_mask = pull_nxm(body[8:8 + match_len], M.OFP10)
        fields.update(protocol=P.OF10_NXM, match=match, table_id=table_id,
                      out_port=out_port, out_group=0xffffffff, cookie=cookie,
                      cookie_mask=cookie_mask)
    elif version == M.OFP10:
        if len(body) < 44:
            raise DecodeError("flow stats request too short", BAD_REQUEST, 6)
        match = pull_ofp10_match(body[:40])
        table_id, out_port = struct.unpack_from("!BxH", body, 40)
        fields.update(protocol=P.OF10_STD, match=match, table_id=table_id,
                      out_port=out_port, out_group=0xffffffff, cookie=0,
                      cookie_mask=0)
    else:
        if len(body) < 32:
            raise DecodeError("flow stats request too short", BAD_REQUEST, 6)
        table_id, port32, out_group, cookie, cookie_mask = struct.unpack_from(
            "!B3xII4xQQ", body)
        port = from_ofp11(port32)
        match, _used = M.pull_match(body[32:], version)
        fields.update(protocol=_protocol_of(version), match=match,
                      table_id=table_id,
                      out_port=OFPP_ANY if port is None else port,
                      out_group=out_group, cookie=cookie, cookie_mask=cookie_mask)
    return fields


def decode_request(data):
    """Decode one whole request message (see the module docstring)."""
    h = M.parse_header(data)
    data = data[:h.length]
    v = h.version
    name = M.type_name(data)
    simple = {"OFPT_HELLO": "hello", "OFPT_ECHO_REQUEST": "echo_request",
              "OFPT_FEATURES_REQUEST": "features_request",
              "OFPT_GET_CONFIG_REQUEST": "get_config_request",
              "OFPT_BARRIER_REQUEST": "barrier_request"}
    if name in simple:
        return Request(simple[name], v, h.xid, {}, data)
    if name in ("OFPT_GET_ASYNC_REQUEST", "OFPT_SET_ASYNC"):
        if name == "OFPT_GET_ASYNC_REQUEST":
            return Request("get_async_request", v, h.xid, {}, data)
        if v >= M.OFP14:
            master, slave = M.decode_async_props(data[8:])
            return Request("set_async", v, h.xid,
                           dict(master=master, slave=slave), data)
        if h.length != 32:
            raise DecodeError("set_async has the wrong length", BAD_REQUEST, 6)
        masks = struct.unpack_from("!6I", data, 8)
        return Request("set_async", v, h.xid, dict(
            packet_in=masks[0:2], port_status=masks[2:4],
            flow_removed=masks[4:6]), data)
    if name in ("OFPT_FLOW_MOD", "NXT_FLOW_MOD"):
        fm = M.decode_flow_mod(data)
        _check_consistency(fm, v, name == "NXT_FLOW_MOD")
        return Request("flow_mod", v, h.xid, dict(
            flow_mod=fm, protocol=_protocol_of(v, name == "NXT_FLOW_MOD",
                                               tid=fm.table_id != 0)), data)
    decoders = {"OFPT_PACKET_OUT": ("packet_out", A.decode_packet_out),
                "OFPT_PORT_MOD": ("port_mod", A.decode_port_mod),
                "OFPT_TABLE_MOD": ("table_mod", A.decode_table_mod),
                "OFPT_SET_CONFIG": ("set_config", A.decode_set_config),
                "OFPT_GROUP_MOD": ("group_mod", G.decode_group_mod),
                "NXT_GROUP_MOD": ("group_mod", G.decode_group_mod),
                "OFPT_METER_MOD": ("meter_mod", MT.decode_meter_mod),
                "OFPT_ROLE_REQUEST": ("role_request", A.decode_role)}
    if name in decoders:
        kind, fn = decoders[name]
        return Request(kind, v, h.xid, dict(message=fn(data)), data)
    if name == "NXT_SET_FLOW_FORMAT":
        if h.length < 20:
            raise DecodeError("set_flow_format too short", BAD_REQUEST, 6)
        fmt = struct.unpack_from("!I", data, 16)[0]
        if fmt not in (M.NXFF_OPENFLOW10, M.NXFF_NXM):
            raise DecodeError(f"unknown flow format {fmt}", BAD_REQUEST, 4)
        return Request("set_flow_format", v, h.xid, dict(nxm=fmt == M.NXFF_NXM), data)
    if name == "NXT_SET_PACKET_IN_FORMAT":
        if h.length < 20:
            raise DecodeError("set_packet_in_format too short", BAD_REQUEST, 6)
        fmt = struct.unpack_from("!I", data, 16)[0]
        if fmt not in M.PACKET_IN_FORMATS:
            raise DecodeError(f"unknown packet-in format {fmt}", BAD_REQUEST, 4)
        return Request("set_packet_in_format", v, h.xid, dict(format=fmt), data)
    if name == "NXT_SET_CONTROLLER_ID":
        if h.length < 24:
            raise DecodeError("set_controller_id too short", BAD_REQUEST, 6)
        return Request("set_controller_id", v, h.xid,
                       dict(controller_id=struct.unpack_from("!H", data, 22)[0]), data)
    if name == "NXT_CT_FLUSH_ZONE":
        if h.length < 24:
            raise DecodeError("ct_flush_zone too short", BAD_REQUEST, 6)
        return Request("ct_flush_zone", v, h.xid,
                       dict(zone=struct.unpack_from("!H", data, 22)[0]), data)
    if name == "NXT_TLV_TABLE_MOD":
        command, mappings = TLV.decode_tlv_table_mod(data)
        return Request("tlv_table_mod", v, h.xid,
                       dict(command=command, mappings=mappings), data)
    if name == "NXT_TLV_TABLE_REQUEST":
        return Request("tlv_table_request", v, h.xid, {}, data)
    if name == "NXT_FLOW_MOD_TABLE_ID":
        if h.length < 24:
            raise DecodeError("flow_mod_table_id too short", BAD_REQUEST, 6)
        return Request("flow_mod_table_id", v, h.xid, dict(enable=bool(data[16])), data)
    if name in ("OFPT_BUNDLE_CONTROL", "ONFT_BUNDLE_CONTROL"):
        bid, ctype, flags = M.decode_bundle_control(data)
        return Request("bundle_control", v, h.xid,
                       dict(bundle_id=bid, type=ctype, flags=flags), data)
    if name in ("OFPT_BUNDLE_ADD_MESSAGE", "ONFT_BUNDLE_ADD_MESSAGE"):
        bid, flags, inner = M.decode_bundle_add(data)
        if len(inner) < 8:
            raise DecodeError("bundle add too short", BAD_REQUEST, 6)
        ih = M.parse_header(inner)
        if ih.length != len(inner) or ih.xid != h.xid or ih.version != v:
            raise DecodeError("bad bundled message", 17, 8, name="OFPBFC_MSG_BAD_LEN")
        return Request("bundle_add", v, h.xid,
                       dict(bundle_id=bid, flags=flags, inner=inner), data)
    if name.endswith(" request"):
        stype = struct.unpack_from("!H", data, 8)[0] if h.length >= 12 else None
        if v == M.OFP10:
            body = data[12:]
        else:
            body = data[16:]
        if stype == M.OFPST_VENDOR:
            if len(body) < (12 if v == M.OFP10 else 8):     # 1.0: 4 pad bytes
                raise DecodeError("vendor stats request too short", BAD_REQUEST, 6)
            vendor, sub = struct.unpack_from("!II", body)
            if vendor == NX_VENDOR_ID and sub in _NXST_GROUP_KINDS and (
                    v == M.OFP10 or (v == M.OFP11 and sub == M.NXST_GROUP_FEATURES)):
                kind = _NXST_GROUP_KINDS[sub]
                fields = {}
                if kind != "group_features":
                    if len(body) < 20:
                        raise DecodeError(f"{name} too short", BAD_REQUEST, 6)
                    fields["id"] = struct.unpack_from("!I", body, 12)[0]
                return Request(kind, v, h.xid, fields, data)
            if vendor != NX_VENDOR_ID or sub not in (M.NXST_FLOW, M.NXST_AGGREGATE):
                raise DecodeError("unknown vendor stats", BAD_REQUEST, 4)
            kind = "flow_stats" if sub == M.NXST_FLOW else "aggregate_stats"
            return Request(kind, v, h.xid,
                           _flow_stats_request(h, data, stype, body[12:], True), data)
        kind = _STATS_KINDS.get(stype)
        if kind is None:
            raise DecodeError(f"unknown stats type {stype}", BAD_REQUEST, 2)
        if kind in ("flow_stats", "aggregate_stats"):
            return Request(kind, v, h.xid,
                           _flow_stats_request(h, data, stype, body, False), data)
        fields = {}
        if kind in ("port_stats", "queue_stats"):
            if v == M.OFP10:
                fields["port"] = struct.unpack_from("!H", body)[0] if len(body) >= 2 else OFPP_ANY
            elif len(body) >= 4:
                port = from_ofp11(struct.unpack_from("!I", body)[0])
                fields["port"] = OFPP_ANY if port is None else port
        if kind in ("group_stats", "meter_stats", "meter_config") and len(body) >= 4:
            fields["id"] = struct.unpack_from("!I", body)[0]
        if kind == "group_desc" and v >= M.OFP15 and len(body) >= 4:
            fields["id"] = struct.unpack_from("!I", body)[0]    # 1.5: one group
        return Request(kind, v, h.xid, fields, data)
    raise Unsupported(f"{name} is not supported by pyovs yet")
