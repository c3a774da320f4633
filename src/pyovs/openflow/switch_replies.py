"""The switch's side of the request/reply messages: encoders for the replies
a switch sends (the decoders tools use are in messages.py), and the error
reply a switch sends for a malformed or refused request.

Public API (each returns the whole message; VERSION is the wire version):
  encode_error(version, xid, name_or_type_code, request_bytes)
  encode_decode_error(request_bytes, exc) -> the error reply for a request
    that raised DecodeError/OFPError (what a switch answers bad input with)
  encode_echo_reply(request_bytes)
  encode_barrier_reply(version, xid)
  encode_features_reply(version, xid, features: messages.SwitchFeatures)
  encode_get_config_reply(version, xid, flags, miss_send_len)
  encode_desc_reply(version, xid, mfr, hw, sw, serial, dp)
  encode_flow_stats_reply(protocol, xid, flow_stats: list, more=False)
  encode_aggregate_reply(protocol, xid, packets, bytes_, flows)
  encode_port_stats_reply(version, xid, stats: list of dicts as
    messages.decode_port_stats returns)
  encode_port_desc_reply(version, xid, ports: list of messages.PhyPort)
  encode_ports(ports, version) -> bytes
  encode_table_stats_reply, encode_queue_stats_reply,
  encode_group_stats_reply, encode_meter_config_reply,
  encode_meter_stats_reply (entries as the matching decoders return them)
  Versions: ports, port stats and queue stats in each version's layout
  (1.4+ with properties); aggregate replies as OXS in 1.5; group stats
  in 1.0 as NXST_GROUP; table stats
  in 1.0, 1.1, 1.2 (ofp11/12_table_stats) and 1.3+; 1.1 flow stats carry
  an OXM-typed match, as OVS's switch sends them.
"""

import struct

from . import messages as M
from . import protocols as P
from .errors import (OFPERR_NAMES, OFPERR_NAMES_10, NX_ERRORS,
                     OF10_VENDOR_CODES, ONF_EXPERIMENTER, ONF_BUNDLE_CODE_BASE)
from .messages import (OFP10, OFP13, OFP14, _msg, _pad8, _flags_to_wire,
                       NX_VENDOR_ID, NXST_FLOW, NXST_AGGREGATE, NXET_VENDOR)
from .nx_match import put_nxm, put_ofp10_match, put_ofp11_match
from .ofp_actions import encode_actions
from .ports import to_ofp11

def _error_code(version, name):
    if version == OFP10 and name in OF10_VENDOR_CODES:
        return OF10_VENDOR_CODES[name], True
    table = OFPERR_NAMES_10 if version == OFP10 else OFPERR_NAMES
    for key, value in table.items():
        if value == name:
            return key, False
    if version == OFP10:
        for key, value in OFPERR_NAMES.items():
            if value == name:
                return key, True        # carried as a Nicira vendor error
    raise KeyError(name)


def encode_error(version, xid, error, request=b""):
    """An OFPT_ERROR for ERROR (an OVS error name such as "OFPBRC_BAD_LEN",
    or a (type, code) pair), quoting the offending REQUEST whole, as OVS
    does (bounded by the maximum message size)."""
    data = bytes(request)
    if isinstance(error, str) and error in NX_ERRORS:
        (etype, code), exp_code = NX_ERRORS[error]
        if version >= M.OFP12:
            body = struct.pack("!HHI", 0xffff, exp_code, NX_VENDOR_ID)
        else:
            body = struct.pack("!HHIHH", NXET_VENDOR, 0, NX_VENDOR_ID, etype, code)
        return _msg(version, M.OFPT_ERROR, xid,
                    body + data[:65535 - 8 - len(body)])
    if isinstance(error, str):
        (etype, code), vendor = _error_code(version, error)
    else:
        (etype, code), vendor = error, False
    if etype == 17 and version == OFP13:     # bundle errors: ONF's in 1.3
        body = struct.pack("!HHI", 0xffff, ONF_BUNDLE_CODE_BASE + code,
                           ONF_EXPERIMENTER)
        return _msg(version, M.OFPT_ERROR, xid, body + data[:65535 - 8 - len(body)])
    if vendor:
        body = struct.pack("!HHIHH", NXET_VENDOR, 0, NX_VENDOR_ID, etype, code)
    else:
        body = struct.pack("!HH", etype, code)
    return _msg(version, M.OFPT_ERROR, xid, body + data[:65535 - 8 - len(body)])


def encode_decode_error(request, exc):
    """The error reply for REQUEST that failed to decode with EXC (a
    DecodeError/OFPError): OVS's name for it, the request quoted whole."""
    from .errors import OFPERR_NAMES as NAMES11
    h = M.parse_header(request) if len(request) >= 8 else None
    version = h.version if h and 1 <= h.version <= 6 else OFP10
    xid = h.xid if h else 0
    name = exc.name
    if name not in NAMES11.values() and name not in OFPERR_NAMES_10.values():
        name = NAMES11.get((exc.type, exc.code), "OFPBRC_BAD_LEN")
    try:
        return encode_error(version, xid, name, request)
    except KeyError:
        return encode_error(version, xid, "OFPBRC_BAD_LEN", request)


def encode_echo_reply(request):
    h = M.parse_header(request)
    return _msg(h.version, M.OFPT_ECHO_REPLY, h.xid, request[8:h.length])


def encode_barrier_reply(version, xid):
    return M.encode_simple(version, "OFPT_BARRIER_REPLY", xid)


def encode_ports(ports, version):
    out = b""
    for p in ports:
        name = p.name.encode("latin-1")[:15].ljust(16, b"\0")
        hw = p.hw_addr.to_bytes(6, "big")
        if version == OFP10:
            out += struct.pack("!H6s16sIIIIII", p.port_no, hw, name, p.config,
                               p.state, p.curr, p.advertised, p.supported, p.peer)
        elif version >= OFP14:
            # ofp14_port: a fixed part and the Ethernet property.
            out += struct.pack("!IH2x6s2x16sII", to_ofp11(p.port_no), 72, hw,
                               name, p.config, p.state)
            out += struct.pack("!HH4x6I", 0, 32, p.curr, p.advertised,
                               p.supported, p.peer, p.curr_speed, p.max_speed)
        else:
            out += struct.pack("!I4x6s2x16sIIIIIIII", to_ofp11(p.port_no), hw,
                               name, p.config, p.state, p.curr, p.advertised,
                               p.supported, p.peer, p.curr_speed, p.max_speed)
    return out


def encode_features_reply(version, xid, f):
    if version == OFP10:
        body = struct.pack("!QIB3xII", f.datapath_id, f.n_buffers, f.n_tables,
                           f.capabilities, f.actions) + encode_ports(f.ports, version)
    else:
        body = struct.pack("!QIBBxxII", f.datapath_id, f.n_buffers, f.n_tables,
                           f.auxiliary_id, f.capabilities, 0)
        if version < OFP13:
            body += encode_ports(f.ports, version)
    return _msg(version, M.OFPT_FEATURES_REPLY, xid, body)


def encode_get_config_reply(version, xid, flags, miss_send_len):
    return _msg(version, M.OFPT_GET_CONFIG_REPLY, xid,
                struct.pack("!HH", flags, miss_send_len))


def _stats_reply(version, stype, xid, body, more=False):
    flags = M.OFPSF_REPLY_MORE if more else 0
    if version == OFP10:
        return _msg(OFP10, 17, xid, struct.pack("!HH", stype, flags) + body)
    return _msg(version, 19, xid, struct.pack("!HH4x", stype, flags) + body)


def _nx_stats_reply(subtype, xid, body, more=False, version=OFP10):
    flags = M.OFPSF_REPLY_MORE if more else 0
    if version != OFP10:
        return _msg(version, 19, xid, struct.pack(
            "!HH4xII", M.OFPST_VENDOR, flags, NX_VENDOR_ID, subtype) + body)
    return _msg(OFP10, 17, xid, struct.pack("!HHII4x", M.OFPST_VENDOR, flags,
                                            NX_VENDOR_ID, subtype) + body)


def encode_desc_reply(version, xid, mfr, hw, sw, serial, dp):
    def field(text, n):
        return text.encode("utf-8")[:n - 1].ljust(n, b"\0")
    body = (field(mfr, 256) + field(hw, 256) + field(sw, 256) +
            field(serial, 32) + field(dp, 256))
    return _stats_reply(version, M.OFPST_DESC, xid, body)


def _age(value):
    return 0 if value < 0 else min(value + 1, 0xffff)


def encode_flow_stats_reply(protocol, xid, flows, more=False):
    """Flow stats entries FLOWS (flow.FlowStats) for PROTOCOL."""
    version = P.version_of(protocol)
    body = b""
    for fs in flows:
        if protocol in (P.OF10_NXM, P.OF10_NXM_TID):
            nxm = put_nxm(fs.match, OFP10)
            actions = encode_actions(fs.actions, OFP10, fs.match)
            length = 48 + len(_pad8(nxm)) + len(actions)
            body += struct.pack("!HBxIIHHHHHHQQQ", length, fs.table_id,
                                fs.duration_sec, fs.duration_nsec, fs.priority,
                                fs.idle_timeout, fs.hard_timeout, len(nxm),
                                _age(fs.idle_age), _age(fs.hard_age), fs.cookie,
                                fs.packet_count, fs.byte_count) + _pad8(nxm) + actions
        elif version == OFP10:
            actions = encode_actions(fs.actions, OFP10, fs.match)
            body += struct.pack("!HBx", 88 + len(actions), fs.table_id)
            body += put_ofp10_match(fs.match)
            body += struct.pack("!IIHHH6xQQQ", fs.duration_sec, fs.duration_nsec,
                                fs.priority, fs.idle_timeout, fs.hard_timeout,
                                fs.cookie, fs.packet_count, fs.byte_count) + actions
        elif version == M.OFP15:
            body += M.encode_flow_desc15(fs)
        elif version >= M.OFP11:
            # OVS answers OpenFlow 1.1 with an OXM-typed match too.
            match = put_ofp11_match(fs.match, version)
            actions = encode_actions(fs.actions, version, fs.match)
            body += struct.pack("!HBxIIHHHHH2xQQQ", 48 + len(match) + len(actions),
                                fs.table_id, fs.duration_sec, fs.duration_nsec,
                                fs.priority, fs.idle_timeout, fs.hard_timeout,
                                _flags_to_wire(fs.flags, version),
                                fs.importance if version >= OFP14 else 0,
                                fs.cookie, fs.packet_count, fs.byte_count)
            body += match + actions
    if protocol in (P.OF10_NXM, P.OF10_NXM_TID):
        return _nx_stats_reply(NXST_FLOW, xid, body, more)
    return _stats_reply(version, M.OFPST_FLOW, xid, body, more)


def encode_aggregate_reply(protocol, xid, packets, bytes_, flows):
    if protocol == P.OF15_OXM:
        # OpenFlow 1.5: the counts as OXS fields.
        oxs = (struct.pack("!HBBI", M.OXS_CLASS, M.OXS_FLOW_COUNT << 1, 4, flows)
               + struct.pack("!HBBQ", M.OXS_CLASS, M.OXS_PACKET_COUNT << 1, 8, packets)
               + struct.pack("!HBBQ", M.OXS_CLASS, M.OXS_BYTE_COUNT << 1, 8, bytes_))
        body = _pad8(struct.pack("!HH", 0, 4 + len(oxs)) + oxs)
        return _stats_reply(M.OFP15, M.OFPST_AGGREGATE, xid, body)
    body = struct.pack("!QQI4x", packets, bytes_, flows)
    if protocol in (P.OF10_NXM, P.OF10_NXM_TID):
        return _nx_stats_reply(NXST_AGGREGATE, xid, body)
    return _stats_reply(P.version_of(protocol), M.OFPST_AGGREGATE, xid, body)


def encode_port_stats_reply(version, xid, stats):
    body = b""
    for st in stats:
        vals = [st[k] for k in M.PORT_STATS_FIELDS]
        if version == OFP10:
            body += struct.pack("!H6x12Q", st["port_no"], *vals)
        elif version == OFP13:
            dur = st.get("duration") or (0xffffffff, 0xffffffff)
            body += struct.pack("!I4x12QII", to_ofp11(st["port_no"]), *vals, *dur)
        elif version < OFP13:
            body += struct.pack("!I4x12Q", to_ofp11(st["port_no"]), *vals)
        else:
            # ofp14_port_stats: fixed part, then the Ethernet property
            # carrying frame/over/crc errors and collisions.
            dur = st.get("duration") or (0xffffffff, 0xffffffff)
            body += struct.pack("!H2xIII8Q", 120, to_ofp11(st["port_no"]),
                                *dur, *vals[:8])
            body += struct.pack("!HH4x4Q", 0, 40, *vals[8:])
    return _stats_reply(version, M.OFPST_PORT, xid, body)


def encode_port_desc_reply(version, xid, ports):
    return _stats_reply(version, M.OFPST_PORT_DESC, xid, encode_ports(ports, version))



def encode_table_stats_reply(version, xid, tables):
    """TABLES: dicts as messages.decode_table_stats returns (1.0 entries
    also carry name, wildcards and max_entries)."""
    body = b""
    for t in tables:
        if version == OFP10:
            name = t.get("name", "").encode("latin-1")[:31].ljust(32, b"\0")
            body += struct.pack("!B3x32sIIIQQ", t["table_id"], name,
                                t.get("wildcards", 0x3fffff),
                                t.get("max_entries", 1000000), t["active"],
                                t["lookup"], t["matched"])
        elif version == M.OFP12:
            # ofp12_table_stats: OVS's capability bitmaps (OXM fields it can
            # match, wildcard and set; actions; instructions, where the last
            # table lacks goto_table), then the counters.
            name = t.get("name", "").encode("latin-1")[:31].ljust(32, b"\0")
            body += struct.pack(
                "!B7x32sQQIIQQQQIIIIQQ", t["table_id"], name,
                t.get("match", 0x0000101ffffffffd),
                t.get("wildcards", 0x0000101ffffffffd),
                t.get("write_actions", 0x03ff8001),
                t.get("apply_actions", 0x03ff8001),
                t.get("write_setfields", 0x0000000ffffffbdd),
                t.get("apply_setfields", 0x0000000ffffffbdd),
                (1 << 64) - 1, (1 << 64) - 1, t.get("instructions", 0x3e),
                t.get("config", 0), t.get("max_entries", 1000000),
                t["active"], t["lookup"], t["matched"])
        elif version == M.OFP11:
            # ofp11_table_stats: OVS's capability bitmaps, then the counters.
            name = t.get("name", "").encode("latin-1")[:31].ljust(32, b"\0")
            body += struct.pack(
                "!B7x32sIIIIIIIIQQ", t["table_id"], name, M.OFPFW11_TABLE,
                M.OFPFW11_TABLE, t.get("instructions", 0x3e),
                M.OFPAT11_TABLE, M.OFPAT11_TABLE, t.get("config", 0),
                t.get("max_entries", 1000000), t["active"], t["lookup"],
                t["matched"])
        else:
            body += struct.pack("!B3xIQQ", t["table_id"], t["active"],
                                t["lookup"], t["matched"])
    return _stats_reply(version, M.OFPST_TABLE, xid, body)


def encode_queue_stats_reply(version, xid, queues):
    body = b""
    for q in queues:
        if version == OFP10:
            body += struct.pack("!H2xIQQQ", q["port_no"], q["queue_id"],
                                q["tx_bytes"], q["tx_packets"], q["tx_errors"])
        elif version < OFP13:
            body += struct.pack("!IIQQQ", to_ofp11(q["port_no"]), q["queue_id"],
                                q["tx_bytes"], q["tx_packets"], q["tx_errors"])
        elif version >= OFP14:
            body += struct.pack("!H6xIIQQQII", 48, to_ofp11(q["port_no"]),
                                q["queue_id"], q["tx_bytes"], q["tx_packets"],
                                q["tx_errors"],
                                *q.get("duration", (0xffffffff, 0xffffffff)))
        else:
            body += struct.pack("!IIQQQII", to_ofp11(q["port_no"]), q["queue_id"],
                                q["tx_bytes"], q["tx_packets"], q["tx_errors"],
                                *q.get("duration", (0xffffffff, 0xffffffff)))
    return _stats_reply(version, M.OFPST_QUEUE, xid, body)


def encode_group_stats_reply(version, xid, stats):
    """STATS: dicts as groups.decode_group_stats returns."""
    body = b""
    for st in stats:
        buckets = b"".join(struct.pack("!QQ", p, b) for p, b in st["buckets"])
        if M.OFP10 < version < OFP13:       # 1.1, 1.2: no duration
            body += struct.pack("!H2xII4xQQ", 32 + len(buckets), st["group_id"],
                                st["ref_count"], st["packets"], st["bytes"]) + buckets
            continue
        dur = st.get("duration") or (0, 0)
        body += struct.pack("!H2xII4xQQII", 40 + len(buckets), st["group_id"],
                            st["ref_count"], st["packets"], st["bytes"], *dur) + buckets
    if version == OFP10:
        return _nx_stats_reply(M.NXST_GROUP, xid, body)
    return _stats_reply(version, 6, xid, body)


def encode_meter_config_reply(version, xid, meters):
    """METERS: meters.Meter objects."""
    from .meters import _encode_bands
    body = b""
    for m in meters:
        bands = _encode_bands(m.bands)
        body += struct.pack("!HHI", 8 + len(bands), m.flags, m.meter_id) + bands
    return _stats_reply(version, 10, xid, body)


def encode_meter_stats_reply(version, xid, stats):
    """STATS: dicts as meters.decode_meter_stats returns."""
    body = b""
    for st in stats:
        bands = b"".join(struct.pack("!QQ", p, b) for p, b in st["bands"])
        body += struct.pack("!IH6xIQQII", st["meter_id"], 40 + len(bands),
                            st["flow_count"], st["packet_in_count"],
                            st["byte_in_count"], *st["duration"]) + bands
    return _stats_reply(version, 9, xid, body)
