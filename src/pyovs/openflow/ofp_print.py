"""OpenFlow messages as text, as OVS's ofp-print writes them.

Public API:
  to_string(data, port_names=None) -> text of one message (ends without
    newline), for the messages pyovs decodes; others print their header
    line and "***decode error***"-free raw length.
  format_ports(ports, version) ; format_port_stats(stats, version)
  format_features(features, version)
"""

import struct

from . import messages as M
from . import async_msgs as A
from . import groups as G
from . import meters as MT
from . import tlv_table as TLV
from . import flow_monitor as FM
from . import queue_config as QC
from . import ct_flush as CTF
from . import table_features as TF
from .errors import DecodeError
from .flow import format_flow_mod_body, format_flow_stats, format_duration
from .match import format_eth
from .ports import port_to_string, from_ofp11, OFPP_ANY, OFPP_ALL

_CAPS = ((0x1, "FLOW_STATS"), (0x2, "TABLE_STATS"), (0x4, "PORT_STATS"),
         (0x8, "STP"), (0x20, "IP_REASM"), (0x40, "QUEUE_STATS"),
         (0x80, "ARP_MATCH_IP"))
_CAPS11 = ((0x1, "FLOW_STATS"), (0x2, "TABLE_STATS"), (0x4, "PORT_STATS"),
           (0x8, "GROUP_STATS"), (0x20, "IP_REASM"), (0x40, "QUEUE_STATS"),
           (0x100, "PORT_BLOCKED"), (0x200, "BUNDLES"),
           (0x400, "FLOW_MONITORING"))
_ACTIONS10 = ((0, "output"), (11, "enqueue"), (1, "set_vlan_vid"),
              (2, "set_vlan_pcp"), (3, "strip_vlan"), (4, "mod_dl_src"),
              (5, "mod_dl_dst"), (6, "mod_nw_src"), (7, "mod_nw_dst"),
              (8, "mod_nw_tos"), (9, "mod_tp_src"), (10, "mod_tp_dst"))
_CONFIG = ((0x1, "PORT_DOWN"), (0x2, "NO_STP"), (0x4, "NO_RECV"),
           (0x8, "NO_RECV_STP"), (0x10, "NO_FLOOD"), (0x20, "NO_FWD"),
           (0x40, "NO_PACKET_IN"))
_CONFIG11 = ((0x1, "PORT_DOWN"), (0x4, "NO_RECV"), (0x20, "NO_FWD"),
             (0x40, "NO_PACKET_IN"))
_STATE11 = ((0x1, "LINK_DOWN"), (0x2, "BLOCKED"), (0x4, "LIVE"))
_FEATURES10 = ((0x1, "10MB-HD"), (0x2, "10MB-FD"), (0x4, "100MB-HD"),
               (0x8, "100MB-FD"), (0x10, "1GB-HD"), (0x20, "1GB-FD"),
               (0x40, "10GB-FD"), (0x80, "COPPER"), (0x100, "FIBER"),
               (0x200, "AUTO_NEG"), (0x400, "AUTO_PAUSE"),
               (0x800, "AUTO_PAUSE_ASYM"))
_FEATURES11 = ((0x1, "10MB-HD"), (0x2, "10MB-FD"), (0x4, "100MB-HD"),
               (0x8, "100MB-FD"), (0x10, "1GB-HD"), (0x20, "1GB-FD"),
               (0x40, "10GB-FD"), (0x80, "40GB-FD"), (0x100, "100GB-FD"),
               (0x200, "1TB-FD"), (0x400, "OTHER"), (0x800, "COPPER"),
               (0x1000, "FIBER"), (0x2000, "AUTO_NEG"), (0x4000, "AUTO_PAUSE"),
               (0x8000, "AUTO_PAUSE_ASYM"))


def _bits(value, names):
    parts = [n for bit, n in names if value & bit]
    return " ".join(parts) if parts else "0"


def _state_text(state, version):
    if version == M.OFP10:
        parts = []
        if state & 1:
            parts.append("LINK_DOWN")
        stp = state & 0x300
        if stp:
            parts.insert(0, {0x100: "STP_LEARN", 0x200: "STP_FORWARD",
                             0x300: "STP_BLOCK"}[stp])
        return " ".join(parts) if parts else "0"
    return _bits(state, _STATE11)


def format_ports(ports, version):
    feats = _FEATURES10 if version == M.OFP10 else _FEATURES11
    lines = []
    for p in sorted(ports, key=lambda p: p.port_no):
        name = ""
        for c in p.name[:15]:
            if not c.isprintable() or ord(c) > 126:
                break
            name += c
        lines.append(f" {port_to_string(p.port_no)}({name}): addr:{format_eth(p.hw_addr)}")
        cfg = _CONFIG if version == M.OFP10 else _CONFIG11
        lines.append("     config:     " + _bits(p.config, cfg))
        lines.append("     state:      " + _state_text(p.state, version))
        for label, v in (("current:    ", p.curr), ("advertised: ", p.advertised),
                         ("supported:  ", p.supported), ("peer:       ", p.peer)):
            if v:
                lines.append(f"     {label}" + _bits(v, feats))
        lines.append(f"     speed: {p.curr_speed // 1000} Mbps now, "
                     f"{p.max_speed // 1000} Mbps max")
    return lines


def format_features(f, version):
    lines = [f"dpid:{f.datapath_id:016x}",
             f"n_tables:{f.n_tables}, n_buffers:{f.n_buffers}"]
    if f.auxiliary_id:
        lines[-1] += f", auxiliary_id:{f.auxiliary_id}"
    caps = _CAPS if version == M.OFP10 else _CAPS11
    lines.append("capabilities: " + _bits(f.capabilities, caps))
    if version == M.OFP10:
        lines.append("actions: " + " ".join(n for bit, n in _ACTIONS10
                                             if f.actions & (1 << bit)))
    return lines


def _stat(v):
    return "?" if v == (1 << 64) - 1 else str(v)


def format_port_stats(stats, version):
    lines = [f"{len(stats)} ports"]
    for st in stats:
        port = st["port_no"]
        pad = " " if port < 10 else ""
        lines.append(
            f"  port {pad}{port_to_string(port)}: rx pkts={_stat(st['rx_packets'])}, "
            f"bytes={_stat(st['rx_bytes'])}, drop={_stat(st['rx_dropped'])}, "
            f"errs={_stat(st['rx_errors'])}, frame={_stat(st['rx_frame_err'])}, "
            f"over={_stat(st['rx_over_err'])}, crc={_stat(st['rx_crc_err'])}")
        lines.append(
            f"           tx pkts={_stat(st['tx_packets'])}, bytes={_stat(st['tx_bytes'])}, "
            f"drop={_stat(st['tx_dropped'])}, errs={_stat(st['tx_errors'])}, "
            f"coll={_stat(st['collisions'])}")
        dur = st.get("duration")
        if dur is not None and dur[0] != 0xffffffff:
            lines.append("           duration=" + format_duration(*dur))
        custom = st.get("custom")
        if custom:
            text = "           CUSTOM Statistics"
            for i, (cname, value) in enumerate(custom):
                if cname:
                    text += ("\n" + " " * 22 if i % 3 == 0 else " ")
                    text += f"{cname}={value},"
            lines.append(text)
    return lines


INTEL_VENDOR_ID, INTEL_PORT_STATS_CUSTOM = 0x0000aa01, 2
OFPPSPT14_EXPERIMENTER = 0xffff


def custom_port_stats14(body):
    """[(name, value)] of each OpenFlow 1.4+ port stats entry in BODY: the
    counters of its Intel custom-statistics property (OVS's netdev custom
    stats), [] without one.  Bounded by the entry and property lengths."""
    out = []
    ofs = 0
    while ofs + 80 <= len(body):
        length = struct.unpack_from("!H", body, ofs)[0]
        if length < 80 or ofs + length > len(body):
            break
        counters = []
        pofs, end = ofs + 80, ofs + length
        while pofs + 16 <= end:
            ptype, plen, exp, etype = struct.unpack_from("!HHII", body, pofs)
            if plen < 4 or pofs + plen > end:
                break
            if (ptype == OFPPSPT14_EXPERIMENTER and exp == INTEL_VENDOR_ID
                    and etype == INTEL_PORT_STATS_CUSTOM):
                counters = _custom_counters(body[pofs + 16:pofs + plen],
                                            struct.unpack_from("!H", body, pofs + 14)[0])
            pofs += (plen + 7) // 8 * 8
        out.append(counters)
        ofs += length
    return out


def _custom_counters(data, n):
    counters, ofs = [], 0
    for _ in range(n):
        if ofs >= len(data):
            break
        nlen = data[ofs]
        if ofs + 1 + nlen + 8 > len(data):
            break
        name = data[ofs + 1:ofs + 1 + nlen].split(b"\0")[0].decode("latin-1")
        value = struct.unpack_from("!Q", data, ofs + 1 + nlen)[0]
        counters.append((name, value))
        ofs += 1 + nlen + 8
    return counters


def hex_dump(data, per_line=16, ascii=True):
    """OVS's ds_put_hex_dump() (with the ASCII column unless not ASCII),
    without the final newline."""
    lines = []
    for ofs in range(0, len(data), per_line):
        chunk = data[ofs:ofs + per_line]
        text = f"{ofs:08x}  "
        for i, b in enumerate(chunk):
            text += f"{b:02x}" + ("-" if i == per_line // 2 - 1 else " ")
        if not ascii:
            lines.append(text.rstrip(" -"))
            continue
        text += "   " * (per_line - len(chunk)) + "|"
        text += "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        text += " " * (per_line - len(chunk)) + "|"
        lines.append(text)
    return "\n".join(lines)


def _inner_to_string(payload, port_names):
    """A message quoted inside another (error data), possibly truncated."""
    if len(payload) < 8:
        return (f"OpenFlow packet too short (only {len(payload)} bytes):\n"
                + hex_dump(payload))
    length = int.from_bytes(payload[2:4], "big")
    if length > len(payload):
        return (f"(***truncated to {len(payload)} bytes from {length}***)\n"
                + hex_dump(payload))
    return to_string(payload[:length], port_names)


# OpenFlow 1.0 wildcard bits -> the field each makes wildcardable.
_WILDCARDS10 = ((1 << 0, "in_port"), (1 << 2, "eth_src"), (1 << 3, "eth_dst"),
                (1 << 4, "eth_type"), (1 << 1, "vlan_vid"), (1 << 20, "vlan_pcp"),
                (0x3f << 8, "ip_src"), (0x3f << 14, "ip_dst"),
                (1 << 5, "nw_proto"), (1 << 21, "nw_tos"), (1 << 6, "tcp_src"),
                (1 << 7, "tcp_dst"))


def _compress_names(names):
    """"eth_src eth_dst" -> "eth_{src,dst}", as OVS prints field sets."""
    groups = []
    for name in names:
        prefix, sep, rest = name.partition("_")
        if groups and sep and groups[-1][0] == prefix:
            groups[-1][1].append(rest)
        else:
            groups.append((prefix if sep else name, [rest] if sep else []))
    out = []
    for prefix, rests in groups:
        if not rests:
            out.append(prefix)
        elif len(rests) == 1:
            out.append(f"{prefix}_{rests[0]}")
        else:
            out.append(prefix + "_{" + ",".join(rests) + "}")
    return " ".join(out)


# OpenFlow 1.1 table stats carry capability bitmaps, which OVS prints as
# table features: (bit, name) in OVS's order.
_INSTRUCTIONS11 = ((4, "apply_actions"), (5, "clear_actions"),
                   (3, "write_actions"), (2, "write_metadata"), (1, "goto_table"))
_MATCH11 = ((15, "metadata"), (0, "in_port"), (11, "eth_src"), (12, "eth_dst"),
            (3, "eth_type"), (1, "vlan_vid"), (2, "vlan_pcp"), (8, "mpls_label"),
            (9, "mpls_tc"), (13, "ip_src"), (14, "ip_dst"), (5, "nw_proto"),
            (4, "nw_tos"), (6, "tcp_src"), (7, "tcp_dst"))
_TABLE_MISS11 = {0: "controller", 1: "continue", 2: "drop"}


def _names(bits, table):
    return [n for b, n in table if bits >> b & 1]


def _features11(t, prev):
    """An OpenFlow 1.1 table's features, as ofputil_table_features_format()
    prints them (PREV: the previous table's stats entry, or None)."""
    lines = [f"    config={_TABLE_MISS11.get(t['config'] & 3, 'controller')}",
             f"    max_entries={t['max_entries']}",
             "    instructions (table miss and others):",
             "      instructions: " + " ".join(_names(t["instructions"],
                                                     _INSTRUCTIONS11))]
    acts = [(t["write_actions"], "Write-Actions and Apply-Actions")]
    if t["write_actions"] != t["apply_actions"]:
        acts = [(t["write_actions"], "Write-Actions"),
                (t["apply_actions"], "Apply-Actions")]
    for bits, title in acts:
        lines += [f"      {title} features:",
                  "        actions: " + " ".join(_names(bits, G.ACTION_BITS11))]
    if prev is not None and (prev["match"], prev["wildcards"]) == \
            (t["match"], t["wildcards"]):
        return lines + ["    (same matching)"]
    lines.append("    matching:")
    wild = _names(t["match"] & t["wildcards"], _MATCH11)
    exact = _names(t["match"] & ~t["wildcards"], _MATCH11)
    if wild:
        lines.append("      exact match or wildcard: " + _compress_names(wild))
    if exact:
        lines.append("      must exact match: " + _compress_names(exact))
    return lines


def format_table_stats(tables, version):
    """Table stats as ofp-print: a block per table, runs of tables equal to
    the one before collapsed into "ditto" lines, blank lines between."""
    items = []
    prev = None
    first = last = -1

    def finish():
        if first >= 0:
            word = "table" if first == last else "tables"
            rng = str(first) if first == last else f"{first}...{last}"
            items.append([f"  {word} {rng}: ditto"])

    for t in tables:
        feats = tuple(t.get(k) for k in ("wildcards", "max_entries", "match",
                                         "instructions", "write_actions",
                                         "apply_actions", "config"))
        stats = (t["active"], t["lookup"], t["matched"])
        if prev is not None:
            if feats == prev[0] and stats == prev[1]:
                if first < 0:
                    first = t["table_id"]
                last = t["table_id"]
                continue
            finish()
            first = last = -1
        block = [f"  table {t['table_id']}:",
                 f"    active={t['active']}, lookup={t['lookup']}, "
                 f"matched={t['matched']}"]
        if version == M.OFP10:
            if prev is not None and feats == prev[0]:
                block.append("    (same features)")
            else:
                block.append(f"    max_entries={t['max_entries']}")
                names = [n for bit, n in _WILDCARDS10 if t["wildcards"] & bit]
                block.append("    matching:")
                block.append("      exact match or wildcard: " + _compress_names(names))
        elif version == M.OFP11:
            if prev is not None and feats == prev[0]:
                block.append("    (same features)")
            else:
                block += _features11(t, prev and prev[2])
        items.append(block)
        prev = (feats, stats, t)
    finish()
    lines = []
    for i, block in enumerate(items):
        if i:
            lines.append("")
        lines.extend(block)
    return lines


def format_table_desc(body):
    """An OFPMP_TABLE_DESC reply body as ofp-print prints it."""
    out, ofs = [], 0
    while ofs + 8 <= len(body):
        length, tid, config = struct.unpack_from("!HBxI", body, ofs)
        if length < 8 or ofs + length > len(body):
            raise DecodeError("bad table desc length", 1, 6)
        flags = vacancy = None
        p = ofs + 8
        while p + 4 <= ofs + length:
            ptype, plen = struct.unpack_from("!HH", body, p)
            if plen < 4 or p + plen > ofs + length:
                raise DecodeError("bad property length", 1, 6)
            if ptype == 2 and plen >= 8:
                flags = struct.unpack_from("!I", body, p + 4)[0]
            elif ptype == 3 and plen >= 7:
                vacancy = tuple(body[p + 4:p + 7])
            p += plen + (-plen % 8)
        line = "   eviction=" + ("on" if config & 4 else "off")
        if flags is not None:
            names = [n for b, n in ((1, "OTHER"), (2, "IMPORTANCE"),
                                    (4, "LIFETIME")) if flags & b]
            line += " eviction_flags=" + ("|".join(names) or "0")
        vline = "   vacancy=" + ("on" if config & 8 else "off")
        if config & 8 and vacancy is not None:
            vline += (f" vacancy_down={vacancy[0]}% vacancy_up={vacancy[1]}%"
                      f" vacancy={vacancy[2]}%")
        out.append(f"\n  table {tid}:\n{line}\n{vline}")
        ofs += length
    return "\n".join(out)


def _stats_flags(flags, reply):
    """A multipart message's flags as OVS's ofp_print_stats() writes them."""
    if reply and flags == M.OFPSF_REPLY_MORE:
        return "[more]"
    return "0x%04x" % flags if not reply else "[more]" + (
        "[0x%04x]" % (flags & ~1) if flags & ~1 else "")


OFPQ_ALL = 0xffffffff
_METER_IDS = {0xffffffff: "all", 0xfffffffd: "controller", 0xfffffffe: "slowpath"}


def _port32(body, ofs=0):
    port32 = struct.unpack_from("!I", body, ofs)[0]
    port = from_ofp11(port32)
    return port32 if port is None else port


_MONITOR_FLAGS = ("initial", "add", "delete", "modify", "actions", "own")


def _flow_monitor_request(req, port_names):
    """One monitor of a flow monitor request, as OVS's
    ofputil_flow_monitor_request_format()."""
    flags = ",".join(n for i, n in enumerate(_MONITOR_FLAGS) if req.flags >> i & 1)
    text = f"\n id={req.id} flags={flags}"
    if req.out_port != OFPP_ANY:
        text += " out_port=" + port_to_string(req.out_port, port_names)
    if req.out_group != 0xffffffff:
        text += f" out_group={req.out_group}"
    if req.table_id != 0xff:
        text += f" table={req.table_id}"
    match = req.match.format()
    return text + (" " + match if match else "")


def _stats_request(kind, data, v, port_names):
    """The body text of stats (multipart) request KIND, or None."""
    body = data[12:] if v == M.OFP10 else data[16:]
    if kind == "OFPST_PORT":
        if v == M.OFP10:
            port = struct.unpack_from("!H", body)[0] if len(body) >= 2 else None
        else:
            port = _port32(body) if len(body) >= 4 else None
        return None if port is None else " port_no=" + port_to_string(port, port_names)
    if kind == "OFPST_PORT_DESC":
        port = OFPP_ANY
        if v >= M.OFP15 and len(body) >= 4:
            port = _port32(body)
        return " port=" + port_to_string(port, port_names)
    if kind in ("OFPST_QUEUE", "OFPST_QUEUE_DESC"):
        if v == M.OFP10 and len(body) >= 8:
            port, queue = struct.unpack_from("!H2xI", body)
            port = OFPP_ANY if port == OFPP_ALL else port     # as OVS decodes it
        elif len(body) >= 8:
            port, queue = _port32(body), struct.unpack_from("!I", body, 4)[0]
        else:
            return None
        text = " port=" + port_to_string(port, port_names)
        if kind == "OFPST_QUEUE" or queue != OFPQ_ALL:
            text += " queue=" + ("ALL" if queue == OFPQ_ALL else str(queue))
        return text
    if kind in ("OFPST_METER", "OFPST_METER_CONFIG") and len(body) >= 4:
        meter = struct.unpack_from("!I", body)[0]
        return " meter=" + _METER_IDS.get(meter, str(meter))
    if kind in ("NXST_GROUP", "NXST_GROUP_DESC"):
        # OVS's OpenFlow 1.0 group extension: an OpenFlow 1.5-style body.
        group = (struct.unpack_from("!I", data, 24)[0] if len(data) >= 28
                 else 0xfffffffc)
        return " group_id=" + G._format_group_id(group)
    if kind.endswith("FLOW_MONITOR"):
        return "".join(_flow_monitor_request(r, port_names)
                       for r in FM.decode_flow_monitor_request(data))
    if kind in ("OFPST_GROUP_DESC", "OFPST_GROUP"):
        group = 0xfffffffc
        if (kind == "OFPST_GROUP" or v >= M.OFP15) and len(body) >= 4:
            group = struct.unpack_from("!I", body)[0]
        return " group_id=" + G._format_group_id(group)
    return None


_BUNDLE_TYPES = ("OPEN_REQUEST", "OPEN_REPLY", "CLOSE_REQUEST", "CLOSE_REPLY",
                 "COMMIT_REQUEST", "COMMIT_REPLY", "DISCARD_REQUEST",
                 "DISCARD_REPLY")
_BUNDLE_FLAGS = ((1, "atomic"), (2, "ordered"))
# What OVS lets into a bundle (ofputil_is_bundlable()).
_BUNDLABLE = ("OFPT_FLOW_MOD", "NXT_FLOW_MOD", "OFPT_GROUP_MOD", "OFPT_PORT_MOD",
              "OFPT_PACKET_OUT", "OFPT_METER_MOD", "OFPT_TABLE_MOD",
              "NXT_TLV_TABLE_MOD", "OFPT_ROLE_REQUEST", "NXT_ROLE_REQUEST",
              "NXT_FLOW_MOD_TABLE_ID", "NXT_SET_FLOW_FORMAT",
              "NXT_SET_PACKET_IN_FORMAT", "NXT_SET_CONTROLLER_ID",
              "NXT_SET_ASYNC_CONFIG", "OFPT_SET_ASYNC")


def _c_hex(n):
    """C's "%#x": 0 without the 0x."""
    return "%#x" % n if n else "0"


def _bundle_flags(flags):
    if not flags:
        return "0"
    parts = [n for b, n in _BUNDLE_FLAGS if flags & b]
    rest = flags & ~3
    if rest:
        parts.append("0x%x" % rest)
    return " ".join(parts)


def _bundle_control(body):
    """OpenFlow 1.4 bundle_ctrl_msg (or ONF's 1.3 one) after the header."""
    if len(body) < 8:
        raise DecodeError("bundle control too short", name="OFPBRC_BAD_LEN")
    bid, ctype, flags = struct.unpack_from("!IHH", body)
    tname = _BUNDLE_TYPES[ctype] if ctype < len(_BUNDLE_TYPES) else ""
    return "\n bundle_id=%s type=%s flags=%s" % (_c_hex(bid), tname, _bundle_flags(flags))


def _bundle_add(body, h, port_names, verbosity):
    """A bundle add message: its id and flags, then the message inside."""
    if len(body) < 16:
        raise DecodeError("bundle add too short", name="OFPBRC_BAD_LEN")
    bid, flags = struct.unpack_from("!I2xH", body)
    inner = body[8:]
    ih = M.parse_header(inner)
    if M.type_name(inner) not in _BUNDLABLE:
        raise DecodeError("bundle add: not bundlable", name="OFPBFC_MSG_UNSUP")
    if ih.length != len(inner) or ih.version != h.version:
        raise DecodeError("bundle add: bad inner message", name="OFPBFC_MSG_BAD_LEN")
    if ih.xid != h.xid:
        raise DecodeError("bundle add: xid differs", name="OFPBFC_MSG_BAD_XID")
    return ("\n bundle_id=%s flags=%s\n" % (_c_hex(bid), _bundle_flags(flags))
            + to_string(inner, port_names, verbosity=verbosity))


def to_string(data, port_names=None, show_stats=True, verbosity=0):
    """One message as ofp-print prints it (VERBOSITY as OVS's ofp_print():
    what ofp-parse-pcap and -m add)."""
    h = M.parse_header(data)
    head = M.header_text(data)
    name = M.type_name(data)
    v = h.version
    if name.endswith((" request", " reply")) and h.length >= 12:
        flags = struct.unpack_from("!H", data, 10)[0]
        if flags:
            head += " flags=" + _stats_flags(flags, name.endswith("reply"))
    try:
        if name.endswith(" request"):
            text = _stats_request(name[:-8], data, v, port_names)
            if text is not None:
                return head + text
        if name == "OFPST_TABLE_FEATURES reply":
            _t, _f, body = M.decode_stats_reply(data)
            printer = TF.DumpPrinter()
            text = "".join(printer.add(tf)
                           for tf in TF.decode_table_features(v, body))
            return head + "\n" + (text + printer.finish()).rstrip("\n")
        if name in ("OFPT_FLOW_MOD", "NXT_FLOW_MOD"):
            fm = M.decode_flow_mod(data)
            return head + format_flow_mod_body(fm, v, port_names)
        if name in ("OFPST_FLOW reply", "NXST_FLOW reply"):
            lines = [head]
            for fs in M.decode_flow_stats_reply(data):
                lines.append(format_flow_stats(fs, show_stats, port_names))
            return "\n".join(lines)
        if name in ("OFPST_AGGREGATE reply", "NXST_AGGREGATE reply"):
            pk, by, fl = M.decode_aggregate_reply(data)
            return f"{head} packet_count={pk} byte_count={by} flow_count={fl}"
        if name == "OFPT_FEATURES_REPLY":
            f = M.decode_features_reply(data)
            lines = [head + " " + format_features(f, v)[0]] + format_features(f, v)[1:]
            lines += format_ports(f.ports, v)
            return "\n".join(lines)
        if name.startswith("NXT_") and name[4:].isdigit():
            return (f"***decode error: OFPBRC_BAD_SUBTYPE***\n"
                    + hex_dump(data[:h.length]))
        if name == "NXT_SET_PACKET_IN_FORMAT" and h.length >= 20:
            fmt = int.from_bytes(data[16:20], "big")
            return f"{head} format=" + M.PACKET_IN_FORMATS.get(fmt, str(fmt))
        if name == "NXT_SET_CONTROLLER_ID" and h.length >= 24:
            return f"{head} id={int.from_bytes(data[22:24], 'big')}"
        if name == "NXT_CT_FLUSH_ZONE" and h.length >= 24:
            return f"{head} zone_id={int.from_bytes(data[22:24], 'big')}"
        if name == "NXT_SET_FLOW_FORMAT" and h.length >= 20:
            fmt = int.from_bytes(data[16:20], "big")
            return f"{head} format=" + {0: "openflow10", 2: "nxm"}.get(fmt, str(fmt))
        if name in ("OFPT_QUEUE_GET_CONFIG_REPLY", "OFPST_QUEUE_DESC reply"):
            return head + QC.format_queue_config(data, port_names)
        if name == "OFPT_QUEUE_GET_CONFIG_REQUEST":
            port = QC.decode_queue_get_config_request(data)
            return head + " port=" + port_to_string(port, port_names)
        if name.endswith("ST_FLOW_MONITOR reply"):
            return head + FM.format_flow_monitor_reply(data, port_names)
        if name == "NXT_CT_FLUSH":
            return head + CTF.format_ct_flush(data)
        if name == "NXT_TLV_TABLE_MOD":
            return head + TLV.format_tlv_table_mod(data)
        if name == "NXT_TLV_TABLE_REPLY":
            return head + TLV.format_tlv_table_reply(data)
        if name == "NXT_FLOW_MOD_TABLE_ID" and h.length >= 17:
            return f"{head} " + ("enable" if data[16] else "disable")
        if name in ("OFPT_BUNDLE_CONTROL", "ONFT_BUNDLE_CONTROL"):
            return head + _bundle_control(M.bundle_body(data))
        if name in ("OFPT_BUNDLE_ADD_MESSAGE", "ONFT_BUNDLE_ADD_MESSAGE"):
            return head + _bundle_add(M.bundle_body(data), h, port_names, verbosity)
        if name == "OFPT_METER_MOD":
            return head + MT.decode_meter_mod(data).format()
        if name == "OFPST_METER_CONFIG reply":
            _t, _f, body = M.decode_stats_reply(data)
            return head + "".join("\n" + MT.format_meter(m) + "\n"
                                  for m in MT.decode_meter_configs(body)).rstrip("\n")
        if name == "OFPST_METER reply":
            _t, _f, body = M.decode_stats_reply(data)
            return head + "".join("\n" + MT.format_meter_stats(st) + "\n"
                                  for st in MT.decode_meter_stats(body)).rstrip("\n")
        if name == "OFPST_METER_FEATURES reply":
            _t, _f, body = M.decode_stats_reply(data)
            return head + "\n" + MT.format_meter_features(MT.decode_meter_features(body))
        if name in ("OFPT_GROUP_MOD", "NXT_GROUP_MOD"):
            return head + G.decode_group_mod(data).format(port_names, v)
        if name in ("OFPST_GROUP_DESC reply", "NXST_GROUP_DESC reply"):
            _t, _f, body = M.decode_stats_reply(data)
            return "\n".join([head] + [" " + G.format_group(g, port_names, v)
                                        for g in G.decode_group_desc(body, v)])
        if name in ("OFPST_GROUP_FEATURES reply", "NXST_GROUP_FEATURES reply"):
            _t, _f, body = M.decode_stats_reply(data)
            return "\n".join([head] + G.format_group_features(
                G.decode_group_features(body, v)))
        if name in ("OFPST_GROUP reply", "NXST_GROUP reply"):
            _t, _f, body = M.decode_stats_reply(data)
            return "\n".join([head] + [G.format_group_stats(st)
                                        for st in G.decode_group_stats(body, v)])
        if name == "OFPST_QUEUE reply":
            _t, _f, body = M.decode_stats_reply(data)
            queues = M.decode_queue_stats(body, v)
            lines = [f"{head} {len(queues)} queues"]
            for q in queues:
                dur = ("?" if q["duration"][0] == 0xffffffff
                       else format_duration(*q["duration"]))
                lines.append(f"  port {port_to_string(q['port_no'])} queue "
                             f"{q['queue_id']}: bytes={_stat(q['tx_bytes'])}, "
                             f"pkts={_stat(q['tx_packets'])}, "
                             f"errors={_stat(q['tx_errors'])}, duration={dur}")
            return "\n".join(lines)
        if name == "OFPST_TABLE reply":
            _t, _f, body = M.decode_stats_reply(data)
            return "\n".join([head] + format_table_stats(M.decode_table_stats(body, v), v))
        if name == "OFPST_TABLE_DESC reply":
            _t, _f, body = M.decode_stats_reply(data)
            return head + format_table_desc(body)
        if name == "OFPST_PORT_DESC reply":
            _t, _f, body = M.decode_stats_reply(data)
            return "\n".join([head] + format_ports(M.decode_ports(body, v), v))
        if name == "OFPST_DESC reply":
            _t, _f, body = M.decode_stats_reply(data)
            d = M.decode_desc(body)
            return "\n".join([head, f"Manufacturer: {d['mfr']}",
                              f"Hardware: {d['hw']}", f"Software: {d['sw']}",
                              f"Serial Num: {d['serial']}",
                              f"DP Description: {d['dp']}"])
        if name == "OFPT_GET_CONFIG_REPLY":
            flags, miss = M.decode_get_config_reply(data)
            frags = {0: "normal", 1: "drop", 2: "reassemble", 3: "nx-match"}.get(
                flags & 3, "normal")
            return f"{head} frags={frags} miss_send_len={miss}"
        if name == "OFPST_PORT reply":
            _t, _f, body = M.decode_stats_reply(data)
            lines = M.decode_port_stats(body, v)
            if v >= M.OFP14:
                for st, custom in zip(lines, custom_port_stats14(body)):
                    st["custom"] = custom
            text = format_port_stats(lines, v)
            return "\n".join([head + " " + text[0]] + text[1:])
        if name == "OFPT_ERROR":
            ename, payload = M.decode_error(data)
            text = f"{head} {ename}\n"
            if ename in ("OFPHFC_INCOMPATIBLE", "OFPHFC_EPERM"):
                return text + payload.decode("latin-1")
            return text + _inner_to_string(payload, port_names)
        if name in ("NXT_PACKET_IN2", "NXT_RESUME"):     # (the same properties)
            return head + A.decode_packet_in2(data).format(port_names)
        if name in ("NXT_FLOW_MONITOR_CANCEL", "ONFT_FLOW_MONITOR_CANCEL"):
            if h.length != 20:
                return "***decode error: OFPBRC_BAD_LEN***\n" + hex_dump(data[:h.length])
            return head + " id=%d" % struct.unpack_from("!I", data, 16)[0]
        if name[4:] in ("FLOW_MONITOR_PAUSED", "FLOW_MONITOR_RESUMED"):
            return head
        if name == "OFPT_PACKET_IN":
            return head + A.decode_packet_in(data).format(port_names)
        if name == "OFPT_FLOW_REMOVED":
            return head + A.decode_flow_removed(data).format(port_names)
        if name == "OFPT_PORT_STATUS":
            return head + A.decode_port_status(data).format(v)
        if name == "OFPT_PACKET_OUT":
            # OVS follows this line with the packet's flow when there is
            # data; pyovs does not parse packets here yet.
            return head + A.decode_packet_out(data).format(port_names)
        if name == "OFPT_PORT_MOD":
            return head + A.decode_port_mod(data).format(v, port_names)
        if name == "OFPT_TABLE_MOD":
            return head + A.decode_table_mod(data).format()
        if name == "OFPT_SET_CONFIG":
            return head + A.decode_set_config(data).format()
        if name in ("OFPT_GET_ASYNC_REPLY", "OFPT_SET_ASYNC"):
            return head + M.format_async_config(data)
        if name in ("OFPT_ROLE_REQUEST", "OFPT_ROLE_REPLY"):
            return head + A.decode_role(data).format()
        if name in ("OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY"):
            text = f"{head} {h.length - 8} bytes of payload"
            if verbosity > 1 and h.length > 8:
                text += "\n" + hex_dump(data[8:h.length])
            return text
        if name == "OFPT_HELLO":
            versions = sorted(M.decode_hello(data))
            return head + "\n version bitmap: " + ", ".join(f"0x{x:02x}" for x in versions)
    except DecodeError as e:
        return (f"{head} ***decode error: {e.name}***\n"
                + hex_dump(data[:h.length]))
    return head
