"""Actions and instructions on the wire, per OpenFlow version, with Nicira
extension actions.

encode_actions() chooses the wire form OVS chooses for each version (e.g.
mod_vlan_vid is OFPAT10_SET_VLAN_VID in 1.0 and push_vlan+set_field in 1.3
when the packet has no VLAN header); decode_actions() builds the action
objects back, tagging them with the form they came in so that they print as
OVS prints them.  Decoders bound every length and raise DecodeError with the
OpenFlow error (bad action / bad instruction) the spec names.

Public API:
  encode_actions(actions, version, match=None) -> bytes (1.0: action list;
    1.1+: instruction list)
  decode_actions(data, version) -> list of actions (1.0: actions;
    1.1+: instructions)
  encode_action_list / decode_action_list: a plain action list in any
    version (packet-out)
  NX_VENDOR_ID
"""

import struct

from . import fields as F
from .actions import (Output, OutputReg, Controller, Enqueue, SetVlanVid,
                      SetVlanPcp, StripVlan, PushVlan, SetEth, SetIPv4,
                      SetIPDscp, SetIPEcn, SetIPTtl, SetL4Port, SetField,
                      RegMove, Resubmit, GotoTable, WriteMetadata, Meter,
                      Group, ClearActions, WriteActions, Note, DecTtl,
                      SetQueue, PopQueue, Conjunction, Clone, Exit, Subfield,
                      Multipath, HASH_FIELDS, MP_ALGORITHMS, Bundle,
                      BD_ALGORITHMS,
                      OFPR_ACTION, Ct, CtClear, Nat, Learn, LearnSpec,
                      SetTunnel, FinTimeout, OutputTrunc, PushMpls, PopMpls,
                      SetMplsLabel, SetMplsTc, SetMplsTtl, DecMplsTtl,
                      Sample, CheckPktLarger, NX_CTLR_NO_METER, OFPP_NONE,
                      DeleteField, Encap, Decap, NshTlv, ENCAP_NAMES,
                      OFPPPC_NSH, NSH_PROP_MDTYPE, NSH_PROP_TLV,
                      NX_ACTION_SAMPLE_DEFAULT, NX_ACTION_SAMPLE_EGRESS)
from .errors import DecodeError, OFPError, BAD_ACTION, BAD_INSTRUCTION
from .ports import to_ofp11, from_ofp11, OFPP_CONTROLLER
from ..util.vlog import Vlog

NX_VENDOR_ID = 0x00002320
MAX_DEPTH = 16
_VLOG = Vlog("ofp_actions")

# OpenFlow 1.0 action types.
OFPAT10_OUTPUT, OFPAT10_SET_VLAN_VID, OFPAT10_SET_VLAN_PCP = 0, 1, 2
OFPAT10_STRIP_VLAN, OFPAT10_SET_DL_SRC, OFPAT10_SET_DL_DST = 3, 4, 5
OFPAT10_SET_NW_SRC, OFPAT10_SET_NW_DST, OFPAT10_SET_NW_TOS = 6, 7, 8
OFPAT10_SET_TP_SRC, OFPAT10_SET_TP_DST, OFPAT10_ENQUEUE = 9, 10, 11
OFPAT_VENDOR = 0xffff
# OpenFlow 1.1+ action types.
OFPAT11_OUTPUT, OFPAT11_SET_QUEUE, OFPAT11_GROUP = 0, 21, 22
OFPAT11_PUSH_VLAN, OFPAT11_POP_VLAN = 17, 18
OFPAT11_SET_NW_TTL, OFPAT11_DEC_NW_TTL, OFPAT12_SET_FIELD = 23, 24, 25
# OpenFlow 1.1+ instructions.
OFPIT_GOTO_TABLE, OFPIT_WRITE_METADATA, OFPIT_WRITE_ACTIONS = 1, 2, 3
OFPIT_APPLY_ACTIONS, OFPIT_CLEAR_ACTIONS, OFPIT_METER = 4, 5, 6
# Nicira extension action subtypes.
NXAST_RESUBMIT, NXAST_SET_QUEUE, NXAST_POP_QUEUE = 1, 4, 5
NXAST_REG_MOVE, NXAST_REG_LOAD, NXAST_NOTE = 6, 7, 8
NXAST_RESUBMIT_TABLE, NXAST_OUTPUT_REG, NXAST_EXIT = 14, 15, 17
NXAST_DEC_TTL, NXAST_CONTROLLER, NXAST_DEC_TTL_CNT_IDS = 18, 20, 21
NXAST_WRITE_METADATA, NXAST_CONJUNCTION, NXAST_CONTROLLER2 = 22, 34, 37
NXAST_GROUP, NXAST_CLONE, NXAST_RESUBMIT_TABLE_CT = 40, 42, 44
NXAST_LEARN, NXAST_CT, NXAST_NAT, NXAST_CT_CLEAR = 16, 35, 36, 43
NXAST_LEARN2 = 45
NX_LEARN_F_WRITE_RESULT = 4
NXAST_SET_TUNNEL, NXAST_SET_TUNNEL64, NXAST_FIN_TIMEOUT = 2, 9, 19
NXAST_MULTIPATH, NXAST_BUNDLE, NXAST_BUNDLE_LOAD = 10, 12, 13
NXM_OF_IN_PORT_HEADER = 0x00000002
NXAST_OUTPUT_TRUNC = 39
NXAST_PUSH_MPLS, NXAST_POP_MPLS, NXAST_SET_MPLS_TTL = 23, 24, 25
NXAST_DEC_MPLS_TTL, NXAST_SET_MPLS_LABEL, NXAST_SET_MPLS_TC = 26, 30, 31
OFPAT11_SET_MPLS_TTL, OFPAT11_DEC_MPLS_TTL = 15, 16
OFPAT11_PUSH_MPLS, OFPAT11_POP_MPLS = 19, 20
NX_LEARN_SRC_IMMEDIATE = 1 << 13
NX_LEARN_DST = {"match": 0, "load": 1 << 11, "output": 2 << 11}
NXAC2PT_MAX_LEN, NXAC2PT_CONTROLLER_ID, NXAC2PT_REASON = 0, 1, 2
NXAC2PT_USERDATA, NXAC2PT_PAUSE, NXAC2PT_METER_ID = 3, 4, 5
NXAST_SAMPLE, NXAST_SAMPLE2, NXAST_SAMPLE3 = 29, 38, 41
NXAST_CHECK_PKT_LARGER = 49
NXAST_REG_LOAD2 = 33
NXAST_DELETE_FIELD = 50
NXAST_ENCAP, NXAST_DECAP = 46, 47
OFPAT15_COPY_FIELD = 28

_LEGACY10 = {"eth_src": OFPAT10_SET_DL_SRC, "eth_dst": OFPAT10_SET_DL_DST,
             "ip_src": OFPAT10_SET_NW_SRC, "ip_dst": OFPAT10_SET_NW_DST,
             "tcp_src": OFPAT10_SET_TP_SRC, "udp_src": OFPAT10_SET_TP_SRC,
             "tcp_dst": OFPAT10_SET_TP_DST, "udp_dst": OFPAT10_SET_TP_DST}


def _pad8(b):
    return b + b"\0" * ((-len(b)) % 8)


def _nx(subtype, body):
    """A Nicira action: header + BODY, padded to a multiple of 8."""
    raw = struct.pack("!HHIH", OFPAT_VENDOR, 0, NX_VENDOR_ID, subtype) + body
    raw = _pad8(raw)
    return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]


def _nxm_header32(field, version=F.OFP10):
    hdr = field.header(F.OFP10)
    if hdr is None or hdr[2] is not None:
        raise OFPError(2, 5, text=f"{field.name} cannot be used in NXM actions")
    cls, code, _, n = hdr
    return (cls << 16) | (code << 9) | n


def _move_header(field, version=F.OFP10):
    """FIELD's header for reg_move (NXM) or copy_field (OpenFlow 1.5's OXM):
    4 bytes, or 8 for an experimenter OXM field (the NSH fields)."""
    hdr = field.header(version)
    if hdr is not None and hdr[2] is not None:
        cls, code, exp, n = hdr
        return struct.pack("!HBBI", cls, code << 1, 4 + n, exp)
    if version == F.OFP10:
        return struct.pack("!I", _nxm_header32(field))
    cls, code, _, n = hdr
    return struct.pack("!I", (cls << 16) | (code << 9) | n)


def _experimenter_set_field(field, value, mask, version, load):
    """set_field/load of an experimenter OXM field (the NSH fields), as OVS:
    OFPAT_SET_FIELD (1.2+ unmasked, 1.5 masked too), else NXAST_REG_LOAD2;
    load goes as NXAST_REG_LOAD2 before 1.5, masked unless it covers the
    whole wire width."""
    cls, code, exp, n = field.header(version)
    wire_full = (1 << (8 * n)) - 1
    masked = mask != (wire_full if load else field.max_value)
    tlv = struct.pack("!HBBI", cls, (code << 1) | masked,
                      4 + n * (2 if masked else 1), exp)
    tlv += (value & mask).to_bytes(n, "big")
    if masked:
        tlv += mask.to_bytes(n, "big")
    if version >= F.OFP15 or (version >= F.OFP12 and not masked and not load):
        raw = _pad8(struct.pack("!HH", OFPAT12_SET_FIELD, 0) + tlv)
        return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]
    return _nx(NXAST_REG_LOAD2, tlv)


def _encode_ed_props(encap):
    out = b""
    for p in encap.props:
        if isinstance(p, NshTlv):
            n = len(p.value)
            prop = struct.pack("!HBBHBB", OFPPPC_NSH, NSH_PROP_TLV,
                               8 + n + (-n) % 8, p.tlv_class, p.tlv_type, n)
            out += _pad8(prop + p.value)
        else:
            out += _pad8(struct.pack("!HBBB", OFPPPC_NSH, NSH_PROP_MDTYPE, 5, p))
    return out


def _decode_encap(raw, version):
    if version < F.OFP13:
        raise _bad("encap needs OpenFlow 1.3+", 3)
    _hdr_size, pkt_type = struct.unpack_from("!HI", raw, 10)
    if pkt_type not in ENCAP_NAMES:
        raise _bad(f"encap of packet type {pkt_type:#x}", 5)
    encap = Encap(pkt_type)
    ofs = 16
    while ofs < len(raw):
        if len(raw) - ofs < 4:
            raise _bad("encap property too short", 1)
        pclass, ptype, plen = struct.unpack_from("!HBB", raw, ofs)
        padded = plen + (-plen) % 8
        if plen < 4 or ofs + padded > len(raw):
            raise _bad("bad encap property length", 1)
        if pclass != OFPPPC_NSH or ptype not in (NSH_PROP_MDTYPE, NSH_PROP_TLV):
            raise _bad("unknown encap property", 5)
        if ptype == NSH_PROP_MDTYPE:
            if plen != 5:
                raise _bad("bad md_type property", 5)
            encap.props.append(raw[ofs + 4])
        else:
            if plen < 8:
                raise _bad("bad tlv property", 1)
            tclass, ttype, tlen = struct.unpack_from("!HBB", raw, ofs + 4)
            if plen != 8 + tlen + (-tlen) % 8:
                raise _bad("bad tlv property", 5)
            encap.props.append(NshTlv(tclass, ttype,
                                      bytes(raw[ofs + 8:ofs + 8 + tlen])))
        ofs += padded
    return encap


def _ofs_nbits(ofs, n_bits):
    return (ofs << 6) | (n_bits - 1)


def _reg_load(field, value, mask):
    out = b""
    hdr = _nxm_header32(field)
    ofs = 0
    while mask >> ofs:
        if not (mask >> ofs) & 1:
            ofs += 1
            continue
        end = ofs
        while (mask >> end) & 1 and end - ofs < 64:
            end += 1
        n = end - ofs
        out += _nx(NXAST_REG_LOAD, struct.pack("!HIQ", _ofs_nbits(ofs, n), hdr,
                                               (value >> ofs) & ((1 << n) - 1)))
        ofs = end
    return out


# OpenFlow 1.1's own set actions (1.2 replaced them by set_field): the field
# each writes -> (action type, body layout), and back.
_OF11_SET = {"vlan_vid": (1, "!H2x"), "vlan_pcp": (2, "!B3x"),
             "eth_src": (3, "!6s6x"), "eth_dst": (4, "!6s6x"),
             "ip_src": (5, "!I"), "ip_dst": (6, "!I"), "ip_dscp": (7, "!B3x"),
             "nw_ecn": (8, "!B3x"), "tcp_src": (9, "!H2x"),
             "udp_src": (9, "!H2x"), "tcp_dst": (10, "!H2x"),
             "udp_dst": (10, "!H2x"), "mpls_label": (13, "!I"),
             "mpls_tc": (14, "!B3x")}
_OF11_SET_TYPES = {t: (name, fmt) for name, (t, fmt) in _OF11_SET.items()
                   if not name.startswith("udp")}


def _of11_set_action(field, value):
    """FIELD := VALUE as OpenFlow 1.1 writes it (vlan_vid without its CFI
    bit, ip_dscp as the TOS byte)."""
    if field.name not in _OF11_SET:         # (OVS writes the rest as
        return _reg_load(field, value, (1 << field.n_bits) - 1)    # NXM loads)
    atype, fmt = _OF11_SET[field.name]
    if field.name == "vlan_vid":
        value &= 0xfff
    elif field.name == "ip_dscp":
        value <<= 2
    elif fmt == "!6s6x":
        value = value.to_bytes(6, "big")
    return _a11(atype, struct.pack(fmt, value))


def _decode_of11_set(atype, raw):
    name, fmt = _OF11_SET_TYPES[atype]
    if len(raw) != 4 + struct.calcsize(fmt):
        raise _bad("bad length", 1)
    value = struct.unpack_from(fmt, raw, 4)[0]
    if name == "vlan_vid":
        if value & ~0xfff:
            raise _bad("bad VLAN VID", 5)
        return SetVlanVid(value, False)
    if name == "vlan_pcp":
        if value & ~7:
            raise _bad("bad VLAN PCP", 5)
        return SetVlanPcp(value, False)
    if name.startswith("eth_"):
        return SetEth(name[4:], int.from_bytes(value, "big"))
    if name.startswith("ip_") and name != "ip_dscp":
        return SetIPv4(name[3:], value)
    if name == "ip_dscp":
        if value & 3:
            raise _bad("bad TOS", 5)
        return SetIPDscp(value)
    if name == "nw_ecn":
        if value & ~3:
            raise _bad("bad ECN", 5)
        return SetIPEcn(value)
    if name.startswith("tcp_"):
        return SetL4Port(name[4:], value)
    if name == "mpls_label":
        if value >> 20:
            raise _bad("bad MPLS label", 5)
        return SetMplsLabel(value)
    if value > 7:
        raise _bad("bad MPLS TC", 5)
    return SetMplsTc(value)


def _set_field_oxm(field, value, version):
    if version == F.OFP11:
        return _of11_set_action(field, value)
    cls, code, exp, n = field.header(version)
    tlv = struct.pack("!HBB", cls, code << 1, n + (4 if exp is not None else 0))
    if exp is not None:
        tlv += struct.pack("!I", exp)
    tlv += value.to_bytes(n, "big")
    raw = _pad8(struct.pack("!HH", OFPAT12_SET_FIELD, 0) + tlv)
    return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]


def _a11(atype, body=b"\0\0\0\0"):
    return struct.pack("!HH", atype, 4 + len(body)) + body


def _tp_field(which, match):
    proto = match.value("nw_proto") if match is not None else 6
    name = {17: "udp", 132: "sctp"}.get(proto, "tcp")
    return F.field_by_name(f"{name}_{which}")


def _needs_push(a, match):
    """Whether mod_vlan_vid/mod_vlan_pcp pushes a VLAN header in 1.1+: when
    it may and the flow has none where it runs (as flow.check_actions()
    recorded it; else as the match says)."""
    if not a.push:
        return False
    if a.flow_has_vlan is not None:
        return not a.flow_has_vlan
    return not (match is not None and match.mask("vlan_tci") & 0x1000
                and match.value("vlan_tci") & 0x1000)


def _encode_one(a, version, match):
    of10 = version == F.OFP10
    if isinstance(a, Output):
        if of10:
            return struct.pack("!HHHH", OFPAT10_OUTPUT, 8, a.port, a.max_len)
        return struct.pack("!HHIH6x", OFPAT11_OUTPUT, 16, to_ofp11(a.port), a.max_len)
    if isinstance(a, Controller):
        if a.is_plain():
            return _encode_one(Output(OFPP_CONTROLLER, a.max_len), version, match)
        if not a.userdata and not a.pause and a.meter_id == NX_CTLR_NO_METER:
            return _nx(NXAST_CONTROLLER, struct.pack("!HHBx", a.max_len,
                                                     a.controller_id, a.reason))
        props = b""
        if a.max_len != 0xffff:
            props += struct.pack("!HHH2x", NXAC2PT_MAX_LEN, 8, a.max_len)
        if a.controller_id:
            props += struct.pack("!HHH2x", NXAC2PT_CONTROLLER_ID, 8, a.controller_id)
        if a.reason != OFPR_ACTION:
            props += _pad8(struct.pack("!HHB", NXAC2PT_REASON, 5, a.reason))
        if a.userdata:
            props += _pad8(struct.pack("!HH", NXAC2PT_USERDATA, 4 + len(a.userdata))
                           + a.userdata)
        if a.pause:
            props += struct.pack("!HH4x", NXAC2PT_PAUSE, 4)
        if a.meter_id != NX_CTLR_NO_METER:
            props += struct.pack("!HHI", NXAC2PT_METER_ID, 8, a.meter_id)
        return _nx(NXAST_CONTROLLER2, b"\0" * 6 + props)
    if isinstance(a, Sample):
        body = struct.pack("!HIII", a.probability, a.collector_set_id,
                           a.obs_domain_id, a.obs_point_id)
        if a.direction != NX_ACTION_SAMPLE_DEFAULT:
            return _nx(NXAST_SAMPLE3, body + struct.pack(
                "!HB", a.sampling_port, a.direction))
        if a.sampling_port != OFPP_NONE:
            return _nx(NXAST_SAMPLE2, body + struct.pack("!H", a.sampling_port))
        return _nx(NXAST_SAMPLE, body)
    if isinstance(a, DeleteField):
        return _nx(NXAST_DELETE_FIELD, struct.pack("!I10x",
                                                   _nxm_header32(a.field)))
    if isinstance(a, CheckPktLarger):
        return _nx(NXAST_CHECK_PKT_LARGER, struct.pack(
            "!HHI", a.pkt_len, a.dst.ofs, _nxm_header32(a.dst.field)))
    if isinstance(a, Enqueue):
        if of10:
            return struct.pack("!HHH6xI", OFPAT10_ENQUEUE, 16, a.port, a.queue)
        return (_encode_one(SetQueue(a.queue), version, match)
                + _encode_one(Output(a.port, 0xffff), version, match)
                + _encode_one(PopQueue(), version, match))
    if isinstance(a, SetVlanVid):
        if of10:
            return struct.pack("!HHH2x", OFPAT10_SET_VLAN_VID, 8, a.vid)
        out = b""
        if _needs_push(a, match):
            out += _a11(OFPAT11_PUSH_VLAN, struct.pack("!H2x", 0x8100))
        return out + _set_field_oxm(F.field_by_name("vlan_vid"), a.vid | 0x1000, version)
    if isinstance(a, SetVlanPcp):
        if of10:
            return struct.pack("!HHB3x", OFPAT10_SET_VLAN_PCP, 8, a.pcp)
        out = b""
        if _needs_push(a, match):
            out += _a11(OFPAT11_PUSH_VLAN, struct.pack("!H2x", 0x8100))
        return out + _set_field_oxm(F.field_by_name("vlan_pcp"), a.pcp, version)
    if isinstance(a, StripVlan):
        if of10:
            return struct.pack("!HH4x", OFPAT10_STRIP_VLAN, 8)
        return _a11(OFPAT11_POP_VLAN)
    if isinstance(a, PushVlan):
        if of10:
            return b""      # as OVS: the mod_vlan_vid that follows pushes
        return _a11(OFPAT11_PUSH_VLAN, struct.pack("!H2x", a.ethertype))
    if isinstance(a, SetEth):
        if of10:
            t = OFPAT10_SET_DL_SRC if a.which == "src" else OFPAT10_SET_DL_DST
            return struct.pack("!HH6s6x", t, 16, a.mac.to_bytes(6, "big"))
        return _set_field_oxm(F.field_by_name("eth_" + a.which), a.mac, version)
    if isinstance(a, SetIPv4):
        if of10:
            t = OFPAT10_SET_NW_SRC if a.which == "src" else OFPAT10_SET_NW_DST
            return struct.pack("!HHI", t, 8, a.addr)
        return _set_field_oxm(F.field_by_name("ip_" + a.which), a.addr, version)
    if isinstance(a, SetIPDscp):
        if of10:
            return struct.pack("!HHB3x", OFPAT10_SET_NW_TOS, 8, a.tos)
        return _set_field_oxm(F.field_by_name("ip_dscp"), a.tos >> 2, version)
    if isinstance(a, SetIPEcn):
        if of10:
            return _reg_load(F.field_by_name("nw_ecn"), a.ecn, 3)
        return _set_field_oxm(F.field_by_name("nw_ecn"), a.ecn, version)
    if isinstance(a, SetIPTtl):
        if of10:
            return _reg_load(F.field_by_name("nw_ttl"), a.ttl, 0xff)
        return _a11(OFPAT11_SET_NW_TTL, struct.pack("!B3x", a.ttl))
    if isinstance(a, SetL4Port):
        if of10:
            t = OFPAT10_SET_TP_SRC if a.which == "src" else OFPAT10_SET_TP_DST
            return struct.pack("!HHH2x", t, 8, a.port)
        return _set_field_oxm(_tp_field(a.which, match), a.port, version)
    if isinstance(a, SetField):
        return _encode_set_field(a, version, match)
    if isinstance(a, Encap):
        return _nx(NXAST_ENCAP, struct.pack("!HI", 0, a.new_pkt_type)
                   + _encode_ed_props(a))
    if isinstance(a, Decap):
        return _nx(NXAST_DECAP, struct.pack("!2xI", a.new_pkt_type))
    if isinstance(a, RegMove) and version >= F.OFP15:
        raw = _pad8(struct.pack("!HHHHHxx", OFPAT15_COPY_FIELD, 0, a.src.n_bits,
                                a.src.ofs, a.dst.ofs)
                    + _move_header(a.src.field, version)
                    + _move_header(a.dst.field, version))
        return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]
    if isinstance(a, RegMove):
        return _nx(NXAST_REG_MOVE, struct.pack(
            "!HHH", a.src.n_bits, a.src.ofs, a.dst.ofs)
            + _move_header(a.src.field) + _move_header(a.dst.field))
    if isinstance(a, OutputReg):
        return _nx(NXAST_OUTPUT_REG, struct.pack(
            "!HIH6x", _ofs_nbits(a.src.ofs, a.src.n_bits),
            _nxm_header32(a.src.field), a.max_len))
    if isinstance(a, Resubmit):
        if a.with_ct:
            return _nx(NXAST_RESUBMIT_TABLE_CT, struct.pack("!HB3x", a.in_port, a.table))
        if a.table == 255 and a.raw == "resubmit":
            return _nx(NXAST_RESUBMIT, struct.pack("!H4x", a.in_port))
        return _nx(NXAST_RESUBMIT_TABLE, struct.pack("!HB3x", a.in_port, a.table))
    if isinstance(a, WriteMetadata):
        return _nx(NXAST_WRITE_METADATA, struct.pack("!6xQQ", a.value, a.mask))
    if isinstance(a, Group):
        if of10:
            return _nx(NXAST_GROUP, struct.pack("!2xI", a.group_id))
        return _a11(OFPAT11_GROUP, struct.pack("!I", a.group_id))
    if isinstance(a, Note):
        body = a.data + b"\0" * max(0, 6 - len(a.data))
        return _nx(NXAST_NOTE, body)
    if isinstance(a, DecTtl):
        if not a.ids:
            if of10:
                return _nx(NXAST_DEC_TTL, b"\0" * 6)
            return _a11(OFPAT11_DEC_NW_TTL)
        body = struct.pack("!H4x", len(a.ids)) + b"".join(
            struct.pack("!H", i) for i in a.ids)
        return _nx(NXAST_DEC_TTL_CNT_IDS, body)
    if isinstance(a, SetQueue):
        if of10:
            return _nx(NXAST_SET_QUEUE, struct.pack("!2xI", a.queue))
        return _a11(OFPAT11_SET_QUEUE, struct.pack("!I", a.queue))
    if isinstance(a, PopQueue):
        return _nx(NXAST_POP_QUEUE, b"\0" * 6)
    if isinstance(a, Bundle):
        if a.dst is None:
            subtype, ofs_nbits, dst = NXAST_BUNDLE, 0, 0
        else:
            subtype = NXAST_BUNDLE_LOAD
            ofs_nbits = _ofs_nbits(a.dst.ofs, a.dst.n_bits)
            dst = _nxm_header32(a.dst.field)
        body = struct.pack("!HHHIHHI4x", a.algorithm, a.fields, a.basis,
                           NXM_OF_IN_PORT_HEADER, len(a.members), ofs_nbits, dst)
        body += b"".join(struct.pack("!H", p & 0xffff) for p in a.members)
        return _nx(subtype, body)
    if isinstance(a, Multipath):
        return _nx(NXAST_MULTIPATH, struct.pack(
            "!HH2xHHI2xHI", a.fields, a.basis, a.algorithm, a.n_links - 1,
            a.arg, _ofs_nbits(a.dst.ofs, a.dst.n_bits),
            _nxm_header32(a.dst.field)))
    if isinstance(a, Conjunction):
        return _nx(NXAST_CONJUNCTION, struct.pack("!BBI", a.clause, a.n_clauses,
                                                  a.conj_id))
    if isinstance(a, Clone):
        inner = _encode_list(a.actions, version, match)
        raw = struct.pack("!HHIH6x", OFPAT_VENDOR, 16 + len(inner), NX_VENDOR_ID,
                          NXAST_CLONE) + inner
        return raw
    if isinstance(a, Exit):
        return _nx(NXAST_EXIT, b"\0" * 6)
    if isinstance(a, PushMpls):
        if of10:
            return _nx(NXAST_PUSH_MPLS, struct.pack("!H4x", a.ethertype))
        return _a11(OFPAT11_PUSH_MPLS, struct.pack("!H2x", a.ethertype))
    if isinstance(a, PopMpls):
        if of10:
            return _nx(NXAST_POP_MPLS, struct.pack("!H4x", a.ethertype))
        return _a11(OFPAT11_POP_MPLS, struct.pack("!H2x", a.ethertype))
    if isinstance(a, SetMplsLabel):
        if of10:
            return _nx(NXAST_SET_MPLS_LABEL, struct.pack("!2xI", a.label))
        return _set_field_oxm(F.field_by_name("mpls_label"), a.label, version)
    if isinstance(a, SetMplsTc):
        if of10:
            return _nx(NXAST_SET_MPLS_TC, struct.pack("!B5x", a.tc))
        return _set_field_oxm(F.field_by_name("mpls_tc"), a.tc, version)
    if isinstance(a, SetMplsTtl):
        if of10:
            return _nx(NXAST_SET_MPLS_TTL, struct.pack("!B5x", a.ttl))
        return _a11(OFPAT11_SET_MPLS_TTL, struct.pack("!B3x", a.ttl))
    if isinstance(a, DecMplsTtl):
        if of10:
            return _nx(NXAST_DEC_MPLS_TTL, b"\0" * 6)
        return _a11(OFPAT11_DEC_MPLS_TTL)
    if isinstance(a, SetTunnel):
        if not of10:
            return _set_field_oxm(F.field_by_name("tun_id"), a.tun_id, version)
        if a.raw == "set_tunnel" and a.tun_id <= 0xffffffff:
            return _nx(NXAST_SET_TUNNEL, struct.pack("!2xI", a.tun_id))
        return _nx(NXAST_SET_TUNNEL64, struct.pack("!6xQ", a.tun_id))
    if isinstance(a, FinTimeout):
        return _nx(NXAST_FIN_TIMEOUT, struct.pack("!HH2x", a.idle_timeout,
                                                  a.hard_timeout))
    if isinstance(a, OutputTrunc):
        return _nx(NXAST_OUTPUT_TRUNC, struct.pack("!HI", a.port, a.max_len))
    if isinstance(a, Ct):
        zone_src = zone = 0
        if a.zone_src is not None:
            zone_src = _nxm_header32(a.zone_src.field)
            zone = _ofs_nbits(a.zone_src.ofs, a.zone_src.n_bits)
        else:
            zone = a.zone_imm
        inner = _encode_list(a.actions, version, match)
        return struct.pack("!HHIHHIHB3xH", OFPAT_VENDOR, 24 + len(inner),
                           NX_VENDOR_ID, NXAST_CT, a.flags, zone_src, zone,
                           a.table, a.alg) + inner
    if isinstance(a, CtClear):
        return _nx(NXAST_CT_CLEAR, b"\0" * 6)
    if isinstance(a, Nat):
        present = 0
        body = b""
        for bit, value in ((1, a.ip_min), (2, a.ip_max)):
            if value:
                present |= bit
                body += struct.pack("!I", value)
        for bit, value in ((16, a.proto_min), (32, a.proto_max)):
            if value:
                present |= bit
                body += struct.pack("!H", value)
        return _nx(NXAST_NAT, struct.pack("!2xHH", a.flags, present) + body)
    if isinstance(a, Learn):
        return _encode_learn(a)
    if of10 and isinstance(a, GotoTable):
        return _nx(NXAST_RESUBMIT_TABLE, struct.pack("!HB3x", 0xfff8, a.table))
    if of10 and isinstance(a, (ClearActions, WriteActions, Meter)):
        return b""      # OpenFlow 1.0 has no instructions; OVS drops these
    raise OFPError(2, 0, text=f"{type(a).__name__} cannot be encoded in this "
                              "OpenFlow version")


def _encode_learn(a):
    specs = b""
    for sp in a.specs:
        hdr = NX_LEARN_DST[sp.kind] | sp.n_bits
        if sp.src is None:
            hdr |= NX_LEARN_SRC_IMMEDIATE
            n = (sp.n_bits + 15) // 16 * 2
            src = sp.imm.to_bytes(n, "big")
        else:
            src = struct.pack("!IH", _nxm_header32(sp.src.field), sp.src.ofs)
        dst = b""
        if sp.kind != "output":
            dst = struct.pack("!IH", _nxm_header32(sp.dst.field), sp.dst.ofs)
        specs += struct.pack("!H", hdr) + src + dst
    body = struct.pack("!HHHQHBxHH", a.idle_timeout, a.hard_timeout, a.priority,
                       a.cookie, a.flags, a.table, a.fin_idle_timeout,
                       a.fin_hard_timeout)
    if not a.limit and not a.flags & NX_LEARN_F_WRITE_RESULT:
        return _nx(NXAST_LEARN, body + specs)
    # NXAST_LEARN2: the limit, the result bit's offset, then its field.
    dst = a.result_dst
    write = a.flags & NX_LEARN_F_WRITE_RESULT and dst is not None
    body += struct.pack("!IH2x", a.limit, dst.ofs if write else 0)
    if write:
        body += struct.pack("!I", _nxm_header32(dst.field))
    return _nx(NXAST_LEARN2, body + specs)


def _decode_learn(raw, learn2=False):
    if len(raw) < (40 if learn2 else 32):
        raise _bad("learn too short", 1)
    (idle, hard, prio, cookie, flags, table, fin_idle,
     fin_hard) = struct.unpack_from("!HHHQHBxHH", raw, 10)
    learn = Learn(table, idle, hard, fin_idle, fin_hard, prio, cookie, flags)
    ofs = 32
    if learn2:
        learn.limit, dst_ofs = struct.unpack_from("!IH", raw, 32)
        ofs = 40
        if flags & NX_LEARN_F_WRITE_RESULT:
            if len(raw) < 44:
                raise _bad("learn too short", 1)
            learn.result_dst = _subfield(struct.unpack_from("!I", raw, 40)[0],
                                         dst_ofs, 1)
            ofs = 44
    elif flags & NX_LEARN_F_WRITE_RESULT:
        raise _bad("learn flags need NXAST_LEARN2", 5)
    while ofs + 2 <= len(raw):
        hdr = struct.unpack_from("!H", raw, ofs)[0]
        ofs += 2
        if hdr == 0:
            break
        n_bits = hdr & 0x3ff
        kind = {0: "match", 1: "load", 2: "output"}.get((hdr >> 11) & 3)
        if kind is None or n_bits == 0:
            raise _bad("bad learn spec", 5)
        src = None
        imm = 0
        if hdr & NX_LEARN_SRC_IMMEDIATE:
            if kind == "output":
                raise _bad("bad learn spec", 5)
            n = (n_bits + 15) // 16 * 2
            if ofs + n > len(raw):
                raise _bad("learn spec runs past the action", 1)
            imm = int.from_bytes(raw[ofs:ofs + n], "big")
            ofs += n
        else:
            if ofs + 6 > len(raw):
                raise _bad("learn spec runs past the action", 1)
            h, o = struct.unpack_from("!IH", raw, ofs)
            src = _subfield(h, o, n_bits)
            ofs += 6
        dst = None
        if kind != "output":
            if ofs + 6 > len(raw):
                raise _bad("learn spec runs past the action", 1)
            h, o = struct.unpack_from("!IH", raw, ofs)
            dst = _subfield(h, o, n_bits)
            ofs += 6
        learn.specs.append(LearnSpec(kind, dst, src, imm, n_bits))
    return learn


def _variable_set_field(field, value, mask, version, load=False):
    """A variable-length field (tun_metadata<i>) set as OVS does: its
    NXM/OXM entry as short as VALUE and MASK allow, in OFPAT_SET_FIELD
    (set_field in 1.2+; masked only in 1.5) or else NXAST_REG_LOAD2."""
    cls, code, exp, _ = field.header(F.OFP10)
    masked = mask != field.max_value
    n = (max(value, mask if masked else 0).bit_length() + 7) // 8
    tlv = struct.pack("!HBB", cls, (code << 1) | masked, n * (2 if masked else 1))
    tlv += value.to_bytes(n, "big")
    if masked:
        tlv += mask.to_bytes(n, "big")
    if not load and (version >= F.OFP15 or (version >= F.OFP12 and not masked)):
        raw = _pad8(struct.pack("!HH", OFPAT12_SET_FIELD, 0) + tlv)
        return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]
    return _nx(NXAST_REG_LOAD2, tlv)


def _encode_set_field(a, version, match):
    full = a.field.max_value
    hdr = a.field.header(version)
    if hdr is not None and hdr[2] is not None and a.field.prereq == "nsh":
        return _experimenter_set_field(a.field, a.value, a.mask, version,
                                       a.raw == "load")
    if a.field.variable:
        return _variable_set_field(a.field, a.value & a.mask, a.mask, version,
                                   a.raw == "load")
    if a.raw == "load":
        return _reg_load(a.field, a.value, a.mask)
    if version == F.OFP10:
        name = a.field.name
        if name == "vlan_vid":
            return struct.pack("!HHH2x", OFPAT10_SET_VLAN_VID, 8, a.value & 0xfff)
        if name == "vlan_pcp":
            return struct.pack("!HHB3x", OFPAT10_SET_VLAN_PCP, 8, a.value)
        if a.mask == full and name in _LEGACY10:
            t = _LEGACY10[name]
            if name.startswith("eth"):
                return struct.pack("!HH6s6x", t, 16, a.value.to_bytes(6, "big"))
            if name.startswith("ip"):
                return struct.pack("!HHI", t, 8, a.value)
            return struct.pack("!HHH2x", t, 8, a.value)
        if a.mask == full and name == "ip_dscp":
            return struct.pack("!HHB3x", OFPAT10_SET_NW_TOS, 8, a.value << 2)
        if a.mask == full and name == "nw_tos":
            return struct.pack("!HHB3x", OFPAT10_SET_NW_TOS, 8, a.value)
        return _reg_load(a.field, a.value, a.mask)
    if a.mask == full:
        value = a.value
        if a.field.name == "in_port":
            return _set_field_oxm(F.field_by_name("in_port_oxm"), to_ofp11(value), version)
        if a.field.name == "nw_tos":
            return _set_field_oxm(F.field_by_name("ip_dscp"), value >> 2, version)
        return _set_field_oxm(a.field, value, version)
    return _reg_load(a.field, a.value, a.mask)


def _encode_list(actions, version, match):
    return b"".join(_encode_one(a, version, match) for a in actions)


def encode_actions(actions, version, match=None):
    """ACTIONS for VERSION: an action list (1.0) or instructions (1.1+)."""
    if version == F.OFP10:
        return _encode_list(actions, version, match)
    out = b""
    apply = [a for a in actions
             if not isinstance(a, (Meter, ClearActions, WriteActions,
                                   WriteMetadata, GotoTable))]
    for a in actions:
        if isinstance(a, Meter):
            out += struct.pack("!HHI", OFPIT_METER, 8, a.meter_id)
    if apply:
        body = _encode_list(apply, version, match)
        out += struct.pack("!HH4x", OFPIT_APPLY_ACTIONS, 8 + len(body)) + body
    for a in actions:
        if isinstance(a, ClearActions):
            out += struct.pack("!HH4x", OFPIT_CLEAR_ACTIONS, 8)
    for a in actions:
        if isinstance(a, WriteActions):
            body = _encode_list(a.actions, version, match)
            out += struct.pack("!HH4x", OFPIT_WRITE_ACTIONS, 8 + len(body)) + body
    for a in actions:
        if isinstance(a, WriteMetadata):
            out += struct.pack("!HH4xQQ", OFPIT_WRITE_METADATA, 24, a.value, a.mask)
    for a in actions:
        if isinstance(a, GotoTable):
            out += struct.pack("!HHB3x", OFPIT_GOTO_TABLE, 8, a.table)
    return out


# --- decoding --------------------------------------------------------------------

def _bad(text, code=1):
    return DecodeError(text, BAD_ACTION, code)


def _field_from_nxm32(header):
    cls, code, n = header >> 16, (header >> 9) & 0x7f, header & 0xff
    fld = F.field_by_header(cls, code)
    if fld is None:
        raise _bad(f"unknown NXM field {header:#x}", 5)
    return fld


def _decode_reg_load2(body):
    if len(body) < 4:
        raise _bad("reg_load2 too short", 1)
    cls, fm, length = struct.unpack_from("!HBB", body)
    code, masked = fm >> 1, fm & 1
    exp = None
    if cls == F.OXM_EXPERIMENTER and length >= 4 and len(body) >= 8:
        exp = struct.unpack_from("!I", body, 4)[0]
        body = body[4:]
        length -= 4
    elif cls == F.OXM_EXPERIMENTER:
        raise _bad("bad reg_load2 field", 1)
    if 4 + length > len(body):
        raise _bad("bad reg_load2 field", 1)
    fld = F.field_by_header(cls, code, exp)
    if fld is None or not fld.writable:
        raise DecodeError("reg_load2 to an unknown or read-only field",
                          BAD_ACTION, 15)
    if masked and length % 2:
        raise _bad("bad reg_load2 length", 1)
    nb = length // 2 if masked else length
    if nb > fld.n_bytes or (not fld.variable and nb != fld.n_bytes):
        raise _bad("bad reg_load2 length", 1)
    value = int.from_bytes(body[4:4 + nb], "big")
    mask = (int.from_bytes(body[4 + nb:4 + 2 * nb], "big") if masked
            else fld.max_value)
    raw = "set_field"
    if not fld.variable:
        if masked and mask & fld.max_value == fld.max_value:
            raw = "set_field_masked"      # (nsh_spi/0xffffff, as OVS prints)
        mask &= fld.max_value
    return SetField(fld, value & mask, mask, raw)


def _pull_move_header(raw, ofs):
    """A reg_move field header at OFS: (Field, next offset)."""
    if ofs + 4 > len(raw):
        raise _bad("reg_move runs past its end", 1)
    if raw[ofs:ofs + 2] != b"\xff\xff":
        return struct.unpack_from("!I", raw, ofs)[0], ofs + 4
    if ofs + 8 > len(raw):
        raise _bad("reg_move runs past its end", 1)
    cls, fm, _n, exp = struct.unpack_from("!HBBI", raw, ofs)
    fld = F.field_by_header(cls, fm >> 1, exp)
    if fld is None:
        raise _bad("unknown experimenter field in reg_move", 5)
    return fld, ofs + 8


def _subfield(header, ofs, n_bits):
    fld = header if isinstance(header, F.Field) else _field_from_nxm32(header)
    if n_bits < 1 or ofs + n_bits > fld.n_bits:
        raise _bad(f"{fld.name}[{ofs}..{ofs + n_bits - 1}] out of range", 5)
    return Subfield(fld, ofs, n_bits)


def _split(data):
    """Yield (type, body-including-header) for each TLV action in DATA."""
    ofs = 0
    while ofs < len(data):
        if len(data) - ofs < 4:
            raise _bad("action list ends in the middle of an action", 1)
        atype, alen = struct.unpack_from("!HH", data, ofs)
        if alen < 8 or alen % 8 or ofs + alen > len(data):
            raise _bad(f"bad action length {alen}", 1)
        yield atype, data[ofs:ofs + alen]
        ofs += alen


def _decode_nx(raw, version, depth):
    if len(raw) < 16:
        raise _bad("Nicira action too short", 1)
    vendor, subtype = struct.unpack_from("!IH", raw, 4)
    if vendor != NX_VENDOR_ID:
        raise _bad(f"unknown vendor {vendor:#x}", 2)
    body = raw[10:]
    if subtype == NXAST_RESUBMIT:
        return Resubmit(struct.unpack_from("!H", body)[0], raw="resubmit")
    if subtype in (NXAST_RESUBMIT_TABLE, NXAST_RESUBMIT_TABLE_CT):
        port, table = struct.unpack_from("!HB", body)
        return Resubmit(port, table, subtype == NXAST_RESUBMIT_TABLE_CT)
    if subtype == NXAST_SET_QUEUE:
        return SetQueue(struct.unpack_from("!2xI", body)[0])
    if subtype == NXAST_POP_QUEUE:
        return PopQueue()
    if subtype == NXAST_REG_MOVE:
        if len(raw) < 24:
            raise _bad("bad reg_move length", 1)
        n_bits, src_ofs, dst_ofs = struct.unpack_from("!HHH", body)
        src, ofs = _pull_move_header(raw, 16)
        dst, ofs = _pull_move_header(raw, ofs)
        if len(raw) != ofs + (-ofs) % 8:
            raise _bad("bad reg_move length", 1)
        return RegMove(_subfield(src, src_ofs, n_bits),
                       _subfield(dst, dst_ofs, n_bits))
    if subtype == NXAST_ENCAP:
        return _decode_encap(raw, version)
    if subtype == NXAST_DECAP:
        if version < F.OFP13:
            raise _bad("decap needs OpenFlow 1.3+", 3)
        return Decap(struct.unpack_from("!2xI", body)[0])
    if subtype == NXAST_REG_LOAD:
        if len(raw) != 24:
            raise _bad("bad reg_load length", 1)
        ofs_nbits, dst, value = struct.unpack_from("!HIQ", body)
        sf = _subfield(dst, ofs_nbits >> 6, (ofs_nbits & 0x3f) + 1)
        if value >> sf.n_bits:
            raise _bad("reg_load value does not fit", 5)
        return SetField(sf.field, value << sf.ofs,
                        ((1 << sf.n_bits) - 1) << sf.ofs, "load")
    if subtype == NXAST_NOTE:
        return Note(bytes(body))
    if subtype == NXAST_OUTPUT_REG:
        ofs_nbits, src, max_len = struct.unpack_from("!HIH", body)
        return OutputReg(_subfield(src, ofs_nbits >> 6, (ofs_nbits & 0x3f) + 1),
                         max_len)
    if subtype == NXAST_EXIT:
        return Exit()
    if subtype == NXAST_DEC_TTL:
        return DecTtl()
    if subtype == NXAST_DEC_TTL_CNT_IDS:
        n = struct.unpack_from("!H", body)[0]
        if 16 + 2 * n > len(raw) + 6:
            raise _bad("dec_ttl ids run past the action", 1)
        ids = struct.unpack_from(f"!{n}H", body, 6)
        return DecTtl(tuple(ids))
    if subtype == NXAST_CONTROLLER:
        max_len, cid, reason = struct.unpack_from("!HHB", body)
        return Controller(max_len, reason, cid)
    if subtype == NXAST_CONTROLLER2:
        c = Controller()
        props = raw[16:]
        ofs = 0
        while ofs + 4 <= len(props):
            ptype, plen = struct.unpack_from("!HH", props, ofs)
            if plen < 4 or ofs + plen > len(props):
                raise _bad("bad controller2 property", 1)
            pv = props[ofs + 4:ofs + plen]
            if ptype == NXAC2PT_MAX_LEN:
                c.max_len = struct.unpack_from("!H", pv)[0]
            elif ptype == NXAC2PT_CONTROLLER_ID:
                c.controller_id = struct.unpack_from("!H", pv)[0]
            elif ptype == NXAC2PT_REASON:
                c.reason = pv[0]
            elif ptype == NXAC2PT_USERDATA:
                c.userdata = bytes(pv)
            elif ptype == NXAC2PT_PAUSE:
                c.pause = True
            elif ptype == NXAC2PT_METER_ID:
                if plen != 8:
                    raise _bad("bad controller2 meter_id", 1)
                c.meter_id = struct.unpack_from("!I", pv)[0]
            ofs += (plen + 7) // 8 * 8
        return c
    if subtype in (NXAST_SAMPLE, NXAST_SAMPLE2, NXAST_SAMPLE3):
        need = {NXAST_SAMPLE: 14, NXAST_SAMPLE2: 16, NXAST_SAMPLE3: 17}[subtype]
        if len(body) < need:
            raise _bad("bad sample length", 2)
        sample = Sample(*struct.unpack_from("!HIII", body))
        if subtype != NXAST_SAMPLE:
            sample.sampling_port = struct.unpack_from("!H", body, 14)[0]
        if subtype == NXAST_SAMPLE3:
            sample.direction = body[16]
            if sample.direction > NX_ACTION_SAMPLE_EGRESS:
                raise _bad("bad sample direction", 5)
        if sample.probability == 0:
            raise _bad("sample probability is zero", 5)
        return sample
    if subtype == NXAST_DELETE_FIELD:
        fld = _field_from_nxm32(struct.unpack_from("!I", body)[0])
        if not fld.variable:
            raise _bad("delete_field of a field that is not a TLV", 5)
        return DeleteField(fld)
    if subtype == NXAST_REG_LOAD2:
        return _decode_reg_load2(body)
    if subtype == NXAST_CHECK_PKT_LARGER:
        if len(body) < 8:
            raise _bad("bad check_pkt_larger length", 2)
        pkt_len, ofs, hdr = struct.unpack_from("!HHI", body)
        dst = _subfield(hdr, ofs, 1)
        if not dst.field.writable:
            raise _bad("bad check_pkt_larger destination", 15)
        return CheckPktLarger(pkt_len, dst)
    if subtype == NXAST_WRITE_METADATA:
        value, mask = struct.unpack_from("!6xQQ", body)
        return WriteMetadata(value, mask)
    if subtype in (NXAST_BUNDLE, NXAST_BUNDLE_LOAD):
        if len(body) < 22:
            raise _bad("bad bundle length", 2)
        (alg, fields, basis, member_type, n_members, ofs_nbits,
         dst) = struct.unpack_from("!HHHIHHI", body)
        if body[18:22] != b"\0\0\0\0":
            raise _bad("bundle reserved field is nonzero", 5)
        if fields >= len(HASH_FIELDS) or alg >= len(BD_ALGORITHMS):
            raise _bad("unsupported bundle fields or algorithm", 5)
        if member_type != NXM_OF_IN_PORT_HEADER:
            raise _bad("unsupported bundle member type", 5)
        if 22 + 2 * n_members > len(body):
            raise _bad("bundle members run past the action", 2)
        members = list(struct.unpack_from(f"!{n_members}H", body, 22))
        sub = None
        if subtype == NXAST_BUNDLE_LOAD:
            sub = _subfield(dst, ofs_nbits >> 6, (ofs_nbits & 0x3f) + 1)
        elif ofs_nbits or dst:
            raise _bad("bundle has a destination", 5)
        return Bundle(fields, basis, alg, members, sub)
    if subtype == NXAST_MULTIPATH:
        if len(body) < 22:
            raise _bad("bad multipath length", 2)
        (fields, basis, alg, max_link, arg, ofs_nbits,
         dst) = struct.unpack_from("!HH2xHHI2xHI", body)
        if fields >= len(HASH_FIELDS):
            raise _bad(f"unknown fields {fields}", 5)
        if alg >= len(MP_ALGORITHMS):
            raise _bad(f"unknown algorithm {alg}", 5)
        sub = _subfield(dst, ofs_nbits >> 6, (ofs_nbits & 0x3f) + 1)
        if sub.n_bits < 16 and max_link + 1 > (1 << sub.n_bits):
            raise _bad("multipath destination too narrow", 5)
        return Multipath(fields, basis, alg, max_link + 1, arg, sub)
    if subtype == NXAST_CONJUNCTION:
        clause, n, cid = struct.unpack_from("!BBI", body)
        if not (2 <= n <= 64) or clause >= n:
            raise _bad("bad conjunction", 5)
        return Conjunction(cid, clause, n)
    if subtype == NXAST_PUSH_MPLS:
        et = struct.unpack_from("!H", body)[0]
        if et not in (0x8847, 0x8848):
            raise _bad("bad push_mpls ethertype", 5)
        return PushMpls(et)
    if subtype == NXAST_POP_MPLS:
        return PopMpls(struct.unpack_from("!H", body)[0])
    if subtype == NXAST_SET_MPLS_LABEL:
        label = struct.unpack_from("!2xI", body)[0]
        if label >> 20:
            raise _bad("bad MPLS label", 5)
        return SetMplsLabel(label)
    if subtype == NXAST_SET_MPLS_TC:
        if body[0] > 7:
            raise _bad("bad MPLS TC", 5)
        return SetMplsTc(body[0])
    if subtype == NXAST_SET_MPLS_TTL:
        return SetMplsTtl(body[0])
    if subtype == NXAST_DEC_MPLS_TTL:
        return DecMplsTtl()
    if subtype == NXAST_SET_TUNNEL:
        return SetTunnel(struct.unpack_from("!2xI", body)[0], "set_tunnel")
    if subtype == NXAST_SET_TUNNEL64:
        if len(raw) != 24:
            raise _bad("bad set_tunnel64 length", 1)
        return SetTunnel(struct.unpack_from("!6xQ", body)[0], "set_tunnel64")
    if subtype == NXAST_FIN_TIMEOUT:
        idle, hard = struct.unpack_from("!HH", body)
        return FinTimeout(idle, hard)
    if subtype == NXAST_OUTPUT_TRUNC:
        port, max_len = struct.unpack_from("!HI", body)
        return OutputTrunc(port, max_len)
    if subtype == NXAST_CT:
        if len(raw) < 24:
            raise _bad("ct too short", 1)
        flags, zone_src, zone, table, alg = struct.unpack_from("!HIHB3xH", raw, 10)
        ct = Ct(flags=flags, table=table, alg=alg)
        if zone_src:
            ct.zone_src = _subfield(zone_src, zone >> 6, (zone & 0x3f) + 1)
        else:
            ct.zone_imm = zone
        ct.actions = _decode_list(raw[24:], version, depth + 1)
        return ct
    if subtype == NXAST_CT_CLEAR:
        return CtClear()
    if subtype == NXAST_NAT:
        flags, present = struct.unpack_from("!2xHH", raw, 10)
        nat = Nat(flags)
        ofs = 16
        for bit, attr, size in ((1, "ip_min", 4), (2, "ip_max", 4),
                                (4, None, 16), (8, None, 16),
                                (16, "proto_min", 2), (32, "proto_max", 2)):
            if present & bit:
                if ofs + size > len(raw):
                    raise _bad("nat range runs past the action", 1)
                if attr:
                    setattr(nat, attr, int.from_bytes(raw[ofs:ofs + size], "big"))
                ofs += size
        return nat
    if subtype in (NXAST_LEARN, NXAST_LEARN2):
        return _decode_learn(raw, subtype == NXAST_LEARN2)
    if subtype == NXAST_GROUP:
        return Group(struct.unpack_from("!2xI", body)[0])
    if subtype == NXAST_CLONE:
        return Clone(_decode_list(raw[16:], version, depth + 1))
    raise _bad(f"unsupported Nicira action subtype {subtype}", 3)


def _decode_set_field(raw, version):
    if len(raw) < 8:
        raise _bad("set_field too short", 1)
    cls, fm, length = struct.unpack_from("!HBB", raw, 4)
    exp = None
    ofs = 8
    if cls == F.OXM_EXPERIMENTER:
        exp = struct.unpack_from("!I", raw, 8)[0]
        ofs += 4
        length -= 4
    fld = F.field_by_header(cls, fm >> 1, exp)
    if fld is not None and (fld.variable or (fld.prereq == "nsh" and fm & 1)):
        return _decode_reg_load2(raw[4:])
    if fld is None or length != fld.n_bytes:
        # OVS: an unknown header (or one whose length is not the field's)
        # is OFPBMC_BAD_FIELD, which set_field reports as BAD_SET_TYPE.
        raise _bad("bad set_field field", 13)
    if fm & 1:
        raise _bad("bad set_field field", 5)
    if ofs + length > len(raw):
        raise _bad("bad set_field length", 1)
    value = int.from_bytes(raw[ofs:ofs + length], "big")
    if fld.name == "vlan_vid" and not value & 0x1000:
        raise _bad("set_field vlan_vid without OFPVID_PRESENT", 15)
    if fld.name == "in_port_oxm":
        port = from_ofp11(value)
        if port is None:
            raise _bad("bad in_port", 5)
        return SetField(F.field_by_name("in_port"), port, 0xffff)
    if value > fld.max_value:
        raise _bad(f"bad {fld.name} value", 5)
    if value > F.MAX_VALID.get(fld.name, value):
        raise _bad(f"bad {fld.name} value", 15)
    return SetField(fld, value, fld.max_value)


def _decode_one(atype, raw, version, depth):
    if depth > MAX_DEPTH:
        raise _bad("actions nested too deeply", 7)
    if atype == OFPAT_VENDOR:
        return _decode_nx(raw, version, depth)
    if version == F.OFP10:
        if atype == OFPAT10_OUTPUT:
            port, max_len = struct.unpack_from("!HH", raw, 4)
            if port == OFPP_CONTROLLER:
                return Controller(max_len)
            return Output(port, max_len)
        if atype == OFPAT10_SET_VLAN_VID:
            vid = struct.unpack_from("!H", raw, 4)[0]
            if vid & ~0xfff:
                raise _bad("bad VLAN VID", 5)
            return SetVlanVid(vid, True)
        if atype == OFPAT10_SET_VLAN_PCP:
            pcp = raw[4]
            if pcp & ~7:
                raise _bad("bad VLAN PCP", 5)
            return SetVlanPcp(pcp, True)
        if atype == OFPAT10_STRIP_VLAN:
            return StripVlan("strip_vlan")
        if atype in (OFPAT10_SET_DL_SRC, OFPAT10_SET_DL_DST):
            if len(raw) != 16:
                raise _bad("bad length", 1)
            return SetEth("src" if atype == OFPAT10_SET_DL_SRC else "dst",
                          int.from_bytes(raw[4:10], "big"))
        if atype in (OFPAT10_SET_NW_SRC, OFPAT10_SET_NW_DST):
            return SetIPv4("src" if atype == OFPAT10_SET_NW_SRC else "dst",
                           struct.unpack_from("!I", raw, 4)[0])
        if atype == OFPAT10_SET_NW_TOS:
            if raw[4] & 3:
                raise _bad("bad TOS", 5)
            return SetIPDscp(raw[4])
        if atype in (OFPAT10_SET_TP_SRC, OFPAT10_SET_TP_DST):
            return SetL4Port("src" if atype == OFPAT10_SET_TP_SRC else "dst",
                             struct.unpack_from("!H", raw, 4)[0])
        if atype == OFPAT10_ENQUEUE:
            if len(raw) != 16:
                raise _bad("bad length", 1)
            port, queue = struct.unpack_from("!H6xI", raw, 4)
            return Enqueue(port, queue)
        raise _bad(f"unknown action type {atype}", 0)
    if version == F.OFP11 and atype in _OF11_SET_TYPES:
        return _decode_of11_set(atype, raw)
    if atype == OFPAT11_OUTPUT:
        if len(raw) != 16:
            raise _bad("bad length", 1)
        port32, max_len = struct.unpack_from("!IH", raw, 4)
        port = from_ofp11(port32)
        if port is None:
            raise _bad("bad output port", 4)
        if port == OFPP_CONTROLLER:
            return Controller(max_len)
        return Output(port, max_len)
    if atype == OFPAT11_PUSH_MPLS:
        et = struct.unpack_from("!H", raw, 4)[0]
        if et not in (0x8847, 0x8848):
            raise _bad("bad push_mpls ethertype", 5)
        return PushMpls(et)
    if atype == OFPAT11_POP_MPLS:
        return PopMpls(struct.unpack_from("!H", raw, 4)[0])
    if atype == OFPAT11_SET_MPLS_TTL:
        return SetMplsTtl(raw[4])
    if atype == OFPAT11_DEC_MPLS_TTL:
        return DecMplsTtl()
    if atype == OFPAT11_SET_QUEUE:
        return SetQueue(struct.unpack_from("!I", raw, 4)[0])
    if atype == OFPAT11_GROUP:
        return Group(struct.unpack_from("!I", raw, 4)[0])
    if atype == OFPAT11_PUSH_VLAN:
        et = struct.unpack_from("!H", raw, 4)[0]
        if et not in (0x8100, 0x88a8):
            raise _bad("bad push_vlan ethertype", 5)
        return PushVlan(et)
    if atype == OFPAT11_POP_VLAN:
        return StripVlan("pop_vlan")
    if atype == OFPAT11_SET_NW_TTL:
        return SetIPTtl(raw[4])
    if atype == OFPAT11_DEC_NW_TTL:
        return DecTtl()
    if atype == OFPAT12_SET_FIELD and version >= F.OFP12:
        return _decode_set_field(raw, version)
    if atype == OFPAT15_COPY_FIELD and version >= F.OFP15:
        n_bits, src_ofs, dst_ofs = struct.unpack_from("!HHH", raw, 4)
        src, ofs = _pull_move_header(raw, 12)
        dst, ofs = _pull_move_header(raw, ofs)
        if len(raw) != ofs + (-ofs) % 8:
            raise _bad("bad copy_field length", 1)
        return RegMove(_subfield(src, src_ofs, n_bits),
                       _subfield(dst, dst_ofs, n_bits))
    raise _bad(f"unknown action type {atype}", 0)


def _decode_list(data, version, depth=0):
    out = []
    ofs = 0
    try:
        for t, raw in _split(data):
            try:
                out.append(_decode_one(t, raw, version, depth))
            except struct.error:
                # An action shorter than its type's fixed part.
                raise _bad("action too short for its type", 1) from None
            ofs += len(raw)
    except DecodeError as e:
        if depth == 0:      # as OVS's ofpacts_pull_openflow_actions__()
            _VLOG.warn("bad action at offset %s (%s):\n%s",
                       f"{ofs:#x}" if ofs else "0", e.name, _hex_lines(data))
        raise
    return out


def _hex_lines(data):
    """OVS's ds_put_hex_dump() without the ASCII column."""
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16].hex(" ")
        if len(chunk) >= 23:
            chunk = chunk[:23] + "-" + chunk[24:]
        lines.append(f"{i:08x}  {chunk}")
    return "\n".join(lines)


def encode_action_list(actions, version, match=None):
    """A plain action list (packet-out, write_actions), any version."""
    return _encode_list(actions, version, match)


def decode_action_list(data, version):
    return _decode_list(data, version)


_INSTRUCTION_RANK = {Meter: 0, ClearActions: 2, WriteActions: 3,
                     WriteMetadata: 4, GotoTable: 5}


def _check_order(actions):
    """OpenFlow 1.0 action lists that carry instructions (write_metadata)
    must keep them in OpenFlow 1.1 instruction order, as OVS requires."""
    rank = -1
    for a in actions:
        r = _INSTRUCTION_RANK.get(type(a), 1)
        if r < rank or (r == rank and r != 1):
            raise DecodeError("invalid instruction ordering", BAD_ACTION, 0,
                              name="OFPBAC_UNSUPPORTED_ORDER")
        rank = r


def decode_actions(data, version):
    """Decode an action list (1.0) or an instruction list (1.1+)."""
    if version == F.OFP10:
        actions = _decode_list(data, version)
        _check_order(actions)
        return actions
    out = []
    ofs = 0
    seen = set()
    while ofs < len(data):
        if len(data) - ofs < 4:
            raise DecodeError("instruction list ends early", BAD_INSTRUCTION, 0)
        itype, ilen = struct.unpack_from("!HH", data, ofs)
        if ilen < 8 or ilen % 8 or ofs + ilen > len(data):
            raise DecodeError(f"bad instruction length {ilen}", BAD_INSTRUCTION, 7)
        if itype in seen:
            raise DecodeError("duplicate instruction", BAD_INSTRUCTION, 0)
        seen.add(itype)
        raw = data[ofs:ofs + ilen]
        if itype == OFPIT_GOTO_TABLE:
            out.append(GotoTable(raw[4]))
        elif itype == OFPIT_WRITE_METADATA:
            if ilen != 24:
                raise DecodeError("bad write_metadata", BAD_INSTRUCTION, 7)
            value, mask = struct.unpack_from("!QQ", raw, 8)
            out.append(WriteMetadata(value, mask))
        elif itype == OFPIT_WRITE_ACTIONS:
            out.append(WriteActions(_decode_list(raw[8:], version)))
        elif itype == OFPIT_APPLY_ACTIONS:
            out.extend(_decode_list(raw[8:], version))
        elif itype == OFPIT_CLEAR_ACTIONS:
            out.append(ClearActions())
        elif itype == OFPIT_METER:
            out.append(Meter(struct.unpack_from("!I", raw, 4)[0]))
        else:
            raise DecodeError(f"unknown instruction {itype}", BAD_INSTRUCTION, 0)
        ofs += ilen
    order = {Meter: 0, ClearActions: 2, WriteActions: 3, WriteMetadata: 4,
             GotoTable: 5}
    out.sort(key=lambda a: order.get(type(a), 1))
    return out
