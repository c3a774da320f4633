"""The OpenFlow 1.3+ table-features reply as OVS's switch sends it.

Every table advertises the same feature property lists (OVS's
ofproto_init_tables_features): instructions, the tables a goto_table may
name (every later table except the hidden one), the actions allowed in
write/apply-actions, and three lists of OXM/NXM headers -- fields that can
be matched (with the mask bit for maskable ones), fields that can be
wildcarded, and fields set-field may write.  The header lists are OVS 3.1's
facts, kept here as the bytes it sends.  Property order, the table entry
layout and the splitting of the multipart reply (a new part when the next
table would overflow 64 kB) are OVS's too.

Printing (ovs-ofctl dump-table-features, OVS's
ofputil_table_features_format()): each reply entry decodes to a
:class:`TableFeatures`; a table equal to the one before it (next tables
aside) is folded into a "tables A...B: ditto" line, and what equals the
previous table's within a table prints as "(same actions)", "(same
matching)".  Field-name lists are abbreviated as OVS does: consecutive
names sharing a prefix up to an underscore are braced
(``tun_{id,src,ipv6_{src,dst}}``), and numbered runs become
``reg0...reg15``.  Field names come from the field table (fields.py), plus
the few fields OVS 3.1 advertises that pyovs cannot match (_EXTRA_NAMES).

Public API: encode_table_features_replies(version, xid, n_tables) -> list
of messages; decode_table_features(version, body) -> [TableFeatures]
(DecodeError on a bad length); DumpPrinter(): .add(features) -> text,
.finish() -> text (the lines ovs-ofctl prints); abbreviate(names) -> text.
"""

import re
import struct

from . import fields as F
from . import messages as M
from .errors import DecodeError

OFPMP_TABLE_FEATURES = 12
OFPTFPT_INSTRUCTIONS, OFPTFPT_NEXT_TABLES = 0, 2
OFPTFPT_WRITE_ACTIONS, OFPTFPT_APPLY_ACTIONS = 4, 6
OFPTFPT_MATCH, OFPTFPT_WILDCARDS = 8, 10
OFPTFPT_WRITE_SETFIELD, OFPTFPT_APPLY_SETFIELD = 12, 14
MISS = 1                        # the *_MISS variant of each property type

# goto_table, write_metadata, write_actions, apply_actions, clear_actions,
# meter.
INSTRUCTIONS = (1, 2, 3, 4, 5, 6)
OFPIT_GOTO_TABLE, OFPIT_METER = 1, 6     # (1.5 meters are actions)
# output, and set_queue .. push/pop (OpenFlow 1.1+ action type numbers).
ACTIONS = (0, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25)
MAX_ENTRIES = 1000000

MATCH = bytes.fromhex(
    "00014708000148048000580400014a0480004d1000013f08000141080001db200001dd20"
    "0001d10400014d0400014f02ffff170c00002320ffff190600002320ffff1b0600002320"
    "ffff1d0600002320ffff1f0600002320ffff210600002320000151f8000153f8000155f8"
    "000157f8000159f800015bf800015df800015ff8000161f8000163f8000165f8000167f8"
    "000169f800016bf800016df800016ff8000171f8000173f8000175f8000177f8000179f8"
    "00017bf800017df800017ff8000181f8000183f8000185f8000187f8000189f800018bf8"
    "00018df800018ff8000191f8000193f8000195f8000197f8000199f800019bf800019df8"
    "00019ff80001a1f80001a3f80001a5f80001a7f80001a9f80001abf80001adf80001aff8"
    "0001b1f80001b3f80001b5f80001b7f80001b9f80001bbf80001bdf80001bff80001c1f8"
    "0001c3f80001c5f80001c7f80001c9f80001cbf80001cdf80001cff88000051000000002"
    "80000004ffff56084f4e4600000143080001d3080001d4020001d7080001d9200001ee01"
    "0001f1080001f3080001f5200001f7200001f9040001fb04000101080001030800010508"
    "000107080001090800010b0800010d0800010f0800011108000113080001150800011708"
    "0001190800011b0800011d0800011f088001011080010310800105108001071080010910"
    "80010b1080010d1080010f100001df200001e1200001e3200001e5208000090c8000070c"
    "80000a020000090480000d0480000e0180004404800046018000480100013c0180001708"
    "800019088000352080003720800039088000140100000a01800010018000120100013a01"
    "0001350280002a0280002d0880002f088000310c8000330c80001b0480001d04ffff5508"
    "4f4e460080001f04800021048000230480002504800026018000280180003a0180003c01"
    "80003f208000410c8000430c1000020410000401ffff0306005ad650ffff0405005ad650"
    "ffff0605005ad650ffff0808005ad650ffff0a05005ad650ffff0d0c005ad650ffff0f0c"
    "005ad650ffff110c005ad650ffff130c005ad650ffff1405005ad650"
)

WILDCARDS = bytes.fromhex(
    "00014604000148048000580400014a0480004c0800013e04000140040001da100001dc10"
    "0001d00200014c0200014e01ffff160800002320ffff180500002320ffff1a0500002320"
    "ffff1c0500002320ffff1e0500002320ffff2005000023200001507c0001527c0001547c"
    "0001567c0001587c00015a7c00015c7c00015e7c0001607c0001627c0001647c0001667c"
    "0001687c00016a7c00016c7c00016e7c0001707c0001727c0001747c0001767c0001787c"
    "00017a7c00017c7c00017e7c0001807c0001827c0001847c0001867c0001887c00018a7c"
    "00018c7c00018e7c0001907c0001927c0001947c0001967c0001987c00019a7c00019c7c"
    "00019e7c0001a07c0001a27c0001a47c0001a67c0001a87c0001aa7c0001ac7c0001ae7c"
    "0001b07c0001b27c0001b47c0001b67c0001b87c0001ba7c0001bc7c0001be7c0001c07c"
    "0001c27c0001c47c0001c67c0001c87c0001ca7c0001cc7c0001ce7c8000040800000002"
    "80000004ffff56084f4e4600000142040001d2040001d4020001d6040001d8100001ee01"
    "0001f0040001f2040001f4100001f6100001f8020001fa02000100040001020400010404"
    "000106040001080400010a0400010c0400010e0400011004000112040001140400011604"
    "0001180400011a0400011c0400011e048001000880010208800104088001060880010808"
    "80010a0880010c0880010e080001de100001e0100001e2100001e4108000080680000606"
    "80000a020000080280000c0280000e0180004404800046018000480100013c0180001604"
    "800018048000341080003610800038048000140100000a01800010018000120100013a01"
    "0001340180002a0280002c0480002e04800030068000320680001a0280001c02ffff5406"
    "4f4e460080001e02800020028000220280002402800026018000280180003a0180003c01"
    "80003e1080004006800042061000020410000401ffff0205005ad650ffff0405005ad650"
    "ffff0605005ad650ffff0808005ad650ffff0a05005ad650ffff0c08005ad650ffff0e08"
    "005ad650ffff1008005ad650ffff1208005ad650ffff1405005ad650"
)

SET_FIELDS = bytes.fromhex(
    "80004c0800013e04000140040001da100001dc100001d00200014c0200014e01ffff1608"
    "00002320ffff180500002320ffff1a0500002320ffff1c05000023200001507c0001527c"
    "0001547c0001567c0001587c00015a7c00015c7c00015e7c0001607c0001627c0001647c"
    "0001667c0001687c00016a7c00016c7c00016e7c0001707c0001727c0001747c0001767c"
    "0001787c00017a7c00017c7c00017e7c0001807c0001827c0001847c0001867c0001887c"
    "00018a7c00018c7c00018e7c0001907c0001927c0001947c0001967c0001987c00019a7c"
    "00019c7c00019e7c0001a07c0001a27c0001a47c0001a67c0001a87c0001aa7c0001ac7c"
    "0001ae7c0001b07c0001b27c0001b47c0001b67c0001b87c0001ba7c0001bc7c0001be7c"
    "0001c07c0001c27c0001c47c0001c67c0001c87c0001ca7c0001cc7c0001ce7c80000408"
    "0000000280000004000142040001d6040001d81000010004000102040001040400010604"
    "0001080400010a0400010c0400010e040001100400011204000114040001160400011804"
    "00011a0400011c0400011e04800100088001020880010408800106088001080880010a08"
    "80010c0880010e080001de100001e0100001e2100001e410800008068000060600000802"
    "80000c0280000e01800044048000460100013c0180001604800018048000341080003610"
    "8000380400000a01800010018000120100013a0180002a0280002c0480002e0480003006"
    "8000320680001a0280001c0280001e028000200280002202800024028000260180002801"
    "80003a0180003c0180003e1080004006800042061000020410000401ffff0205005ad650"
    "ffff0808005ad650ffff0a05005ad650ffff0c08005ad650ffff0e08005ad650ffff1008"
    "005ad650ffff1208005ad650ffff1405005ad650"
)


ONF_EXPERIMENTER = b"\x4f\x4e\x46\x00"


def headers_for(version, blob):
    """BLOB's headers as VERSION writes them: OpenFlow 1.5 has standard OXM
    codes for the fields earlier versions reach through ONF's experimenter
    class (tcp_flags, actset_output), with the experimenter ID's 4 bytes
    gone from the length."""
    if version < M.OFP15:
        return blob
    out, i = [], 0
    while i + 4 <= len(blob):
        cls, field, length = struct.unpack_from("!HBB", blob, i)
        if cls == 0xffff:
            if blob[i + 4:i + 8] == ONF_EXPERIMENTER:
                out.append(struct.pack("!HBB", 0x8000, field, length - 4))
            else:
                out.append(blob[i:i + 8])
            i += 8
        else:
            out.append(blob[i:i + 4])
            i += 4
    return b"".join(out)


def _prop(ptype, body):
    data = struct.pack("!HH", ptype, 4 + len(body)) + body
    return data + b"\0" * (-len(data) % 8)


def _u16s_with_len(values):
    return b"".join(struct.pack("!HH", v, 4) for v in values)


def encode_table_entry(table_id, n_tables, version=M.OFP13):
    """One ofp13_table_features entry for TABLE_ID of N_TABLES."""
    instructions = [i for i in INSTRUCTIONS
                    if (i != OFPIT_GOTO_TABLE or table_id < n_tables - 1)
                    and (i != OFPIT_METER or version < M.OFP15)]
    instr = _u16s_with_len(instructions)
    nexts = bytes(range(table_id + 1, n_tables))
    acts = _u16s_with_len(ACTIONS)
    set_fields = headers_for(version, SET_FIELDS)
    props = b""
    for miss in (0, MISS):
        props += (_prop(OFPTFPT_INSTRUCTIONS + miss, instr)
                  + _prop(OFPTFPT_NEXT_TABLES + miss, nexts)
                  + _prop(OFPTFPT_WRITE_ACTIONS + miss, acts)
                  + _prop(OFPTFPT_WRITE_SETFIELD + miss, set_fields)
                  + _prop(OFPTFPT_APPLY_ACTIONS + miss, acts)
                  + _prop(OFPTFPT_APPLY_SETFIELD + miss, set_fields))
    props += (_prop(OFPTFPT_MATCH, headers_for(version, MATCH))
              + _prop(OFPTFPT_WILDCARDS, headers_for(version, WILDCARDS)))
    head = struct.pack("!HB5x32sQQII", 64 + len(props), table_id, b"",
                       (1 << 64) - 1, (1 << 64) - 1, 0, MAX_ENTRIES)
    return head + props


def encode_table_features_replies(version, xid, n_tables):
    """The multipart reply parts for a switch of N_TABLES visible tables."""
    parts, body = [], b""
    for table_id in range(n_tables):
        entry = encode_table_entry(table_id, n_tables, version)
        if body and 16 + len(body) + len(entry) > 0xffff:
            parts.append(body)
            body = b""
        body += entry
    parts.append(body)
    return [M._msg(version, 19, xid,
                   struct.pack("!HH4x", OFPMP_TABLE_FEATURES,
                               1 if i < len(parts) - 1 else 0) + b)
            for i, b in enumerate(parts)]


# --- decoding and printing ---------------------------------------------------------------

#: Fields OVS 3.1 advertises that pyovs's field table lacks:
#: (class, code, experimenter) -> name.
_EXTRA_NAMES = {
    (0x8000, 44, None): "packet_type",
    **{(0xffff, code, 0x2320): name for code, name in (
        (11, "tun_erspan_idx"), (12, "tun_erspan_ver"), (13, "tun_erspan_dir"),
        (14, "tun_erspan_hwid"), (15, "tun_gtpu_flags"), (16, "tun_gtpu_msgtype"))},
    **{(0xffff, code, 0x005ad650): "nsh_" + name for code, name in enumerate(
        ("flags", "mdtype", "np", "spi", "si", "c1", "c2", "c3", "c4", "ttl"), 1)},
}

#: OpenFlow 1.1+ action types in OVS's ofpact order, with OVS's names.
_ACTION_NAMES = ((0, "output"), (22, "group"), (25, "set_field"), (18, "strip_vlan"),
                 (17, "push_vlan"), (23, "mod_nw_ttl"), (24, "dec_ttl"),
                 (15, "set_mpls_ttl"), (16, "dec_mpls_ttl"), (19, "push_mpls"),
                 (20, "pop_mpls"), (21, "set_queue"))
#: Instruction types in OVS's order (OVS_INSTRUCTIONS), with their names.
_INSTRUCTION_NAMES = ((6, "meter"), (4, "apply_actions"), (5, "clear_actions"),
                      (3, "write_actions"), (2, "write_metadata"), (1, "goto_table"))
OFPTFC14_EVICTION, OFPTFC14_VACANCY_EVENTS = 1 << 2, 1 << 3


def _field_name(cls, code, exp):
    if cls == 0x8000 and code in (42, 43):      # OpenFlow 1.5's own codes
        cls, exp = 0xffff, 0x4f4e4600
    f = F.field_by_header(cls, code, exp)
    return f.name if f is not None else _EXTRA_NAMES.get((cls, code, exp))


def _headers(data):
    """[(name, hasmask)] of an OXM header list, unknown fields left out."""
    out, i = [], 0
    while i + 4 <= len(data):
        cls, field, _length = struct.unpack_from("!HBB", data, i)
        exp = None
        if cls == 0xffff:
            if i + 8 > len(data):
                raise DecodeError("table features: truncated experimenter OXM header")
            exp = struct.unpack_from("!I", data, i + 4)[0]
        i += 8 if cls == 0xffff else 4
        name = _field_name(cls, field >> 1, exp)
        if name is not None and all(n != name for n, _ in out):
            out.append((name, field & 1))
    return out


def _ids(data):
    """The types of an instruction/action ID list."""
    out, i = [], 0
    while i + 4 <= len(data):
        t, length = struct.unpack_from("!HH", data, i)
        if length < 4 or i + length > len(data):
            raise DecodeError("table features: bad ID length")
        out.append(t)
        i += length
    return frozenset(out)


class TableFeatures:
    """One table's features as OVS's ofputil_table_features holds them;
    miss/nonmiss each (next, instructions, write, apply) where write and
    apply are (action types, set-field names)."""

    def __init__(self, table_id, name, metadata_match, metadata_write, capabilities,
                 max_entries, props, version):
        self.table_id, self.name = table_id, name
        self.metadata_match, self.metadata_write = metadata_match, metadata_write
        self.max_entries = max_entries
        if version >= M.OFP14:
            self.eviction = bool(capabilities & OFPTFC14_EVICTION)
            self.vacancy = bool(capabilities & OFPTFC14_VACANCY_EVENTS)
        else:
            self.eviction = self.vacancy = None

        def inst(miss):
            return (frozenset(props.get(OFPTFPT_NEXT_TABLES + miss, b"")),
                    _ids(props.get(OFPTFPT_INSTRUCTIONS + miss, b"")),
                    (_ids(props.get(OFPTFPT_WRITE_ACTIONS + miss, b"")),
                     tuple(n for n, _ in _headers(props.get(OFPTFPT_WRITE_SETFIELD + miss,
                                                            b"")))),
                    (_ids(props.get(OFPTFPT_APPLY_ACTIONS + miss, b"")),
                     tuple(n for n, _ in _headers(props.get(OFPTFPT_APPLY_SETFIELD + miss,
                                                            b"")))))
        self.nonmiss, self.miss = inst(0), inst(MISS)
        self.match = tuple(_headers(props.get(OFPTFPT_MATCH, b"")))
        self.wildcards = frozenset(n for n, _ in _headers(props.get(OFPTFPT_WILDCARDS, b"")))

    def same_as(self, other):
        """OVS's table_features_equal(), next tables aside."""
        return (other is not None and self.metadata_match == other.metadata_match
                and self.metadata_write == other.metadata_write
                and self.eviction == other.eviction and self.vacancy == other.vacancy
                and self.max_entries == other.max_entries
                and self.nonmiss[1:] == other.nonmiss[1:]
                and self.miss[1:] == other.miss[1:]
                and self.match == other.match and self.wildcards == other.wildcards)


def decode_table_features(version, body):
    """The TableFeatures of a multipart reply's body."""
    out, i = [], 0
    while i < len(body):
        if i + 64 > len(body):
            raise DecodeError("table features: truncated entry")
        (length, table_id, name, mm, mw, caps,
         max_entries) = struct.unpack_from("!HB5x32sQQII", body, i)
        if length < 64 or i + length > len(body):
            raise DecodeError("table features: bad entry length %d" % length)
        props, j, end = {}, i + 64, i + length
        while j + 4 <= end:
            ptype, plen = struct.unpack_from("!HH", body, j)
            if plen < 4 or j + plen > end:
                raise DecodeError("table features: bad property length %d" % plen)
            props[ptype] = body[j + 4:j + plen]
            j += (plen + 7) // 8 * 8
        out.append(TableFeatures(table_id, name.split(b"\0")[0].decode("ascii", "replace"),
                                 mm, mw, caps, max_entries, props, version))
        i += length
    return out


def abbreviate(names, sep=" "):
    """OVS's abbreviated field-name list (see the module docstring)."""
    out, i = [], 0
    while i < len(names):
        n = names[i]
        if "_" in n:
            p = n[:n.index("_") + 1]
            j = i + 1
            while j < len(names) and names[j].startswith(p):
                j += 1
            if j - i > 1:
                out.append(p + "{" + abbreviate([x[len(p):] for x in names[i:j]], ",")
                           + "}")
                i = j
                continue
        m = re.fullmatch(r"(.*?)(\d+)", n)
        if m:
            stem, k = m.group(1), int(m.group(2))
            j = i + 1
            while j < len(names) and names[j] == "%s%d" % (stem, k + j - i):
                j += 1
            if j - i > 1:
                out.append("%s...%s" % (n, names[j - 1]))
                i = j
                continue
        out.append(n)
        i += 1
    return sep.join(out)


def _ranges(ids):
    out, ids = [], sorted(ids)
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(out)


def _action_features(lines, acts):
    types, set_fields = acts
    if types:
        lines.append("        actions: " + " ".join(n for t, n in _ACTION_NAMES if t in types))
    if set_fields:
        lines.append("        supported on Set-Field: " + abbreviate(list(set_fields)))


def _instruction_features(lines, tif, prev):
    nexts, instructions, write, apply_ = tif
    if nexts:
        lines.append("      next tables: " + _ranges(nexts))
    if instructions:
        if prev is not None and prev[1] == instructions:
            lines.append("      (same instructions)")
        else:
            lines.append("      instructions: " + " ".join(
                n for t, n in _INSTRUCTION_NAMES if t in instructions))
    if prev is not None and write == prev[2] and apply_ == prev[3] and write[1]:
        lines.append("      (same actions)")
    elif write != apply_:
        lines.append("      Write-Actions features:")
        _action_features(lines, write)
        lines.append("      Apply-Actions features:")
        _action_features(lines, apply_)
    elif write[0] or write[1]:
        lines.append("      Write-Actions and Apply-Actions features:")
        _action_features(lines, write)


class DumpPrinter:
    """ovs-ofctl dump-table-features' text, table by table."""

    def __init__(self):
        self.prev = None
        self.first_ditto = self.last_ditto = None

    def add(self, tf):
        """The text to print for TF ("" when it is folded into a ditto)."""
        prev = self.prev
        self.prev = tf
        if tf.same_as(prev) and not tf.name:
            if self.first_ditto is None:
                self.first_ditto = tf.table_id
            self.last_ditto = tf.table_id
            return ""
        text = self.finish()
        lines = ["  table %d%s:" % (tf.table_id, ' ("%s")' % tf.name if tf.name else "")]
        lines.append("    metadata: match=%#x write=%#x" % (tf.metadata_match,
                                                            tf.metadata_write))
        if tf.eviction is not None:
            lines.append("    eviction: %ssupported" % ("" if tf.eviction else "not "))
            lines.append("    vacancy events: %ssupported" % ("" if tf.vacancy else "not "))
        if tf.max_entries:
            lines.append("    max_entries=%d" % tf.max_entries)
        if prev is not None and tf.nonmiss[1:] == prev.nonmiss[1:] \
                and tf.miss[1:] == prev.miss[1:] and tf.nonmiss == prev.nonmiss:
            if any(tf.nonmiss[:2]) or any(tf.nonmiss[2]) or any(tf.nonmiss[3]):
                lines.append("    (same instructions)")
        elif tf.nonmiss != tf.miss:
            lines.append("    instructions (other than table miss):")
            _instruction_features(lines, tf.nonmiss, prev and prev.nonmiss)
            lines.append("    instructions (table miss):")
            _instruction_features(lines, tf.miss, prev and prev.miss)
        elif any(tf.nonmiss[:2]) or any(tf.nonmiss[2]) or any(tf.nonmiss[3]):
            lines.append("    instructions (table miss and others):")
            _instruction_features(lines, tf.nonmiss, prev and prev.nonmiss)
        if tf.match:
            if prev is not None and tf.match == prev.match:
                lines.append("    (same matching)")
            else:
                lines.append("    matching:")
                groups = (("arbitrary mask", [n for n, m in tf.match if m]),
                          ("exact match or wildcard",
                           [n for n, m in tf.match if not m and n in tf.wildcards]),
                          ("must exact match",
                           [n for n, m in tf.match if not m and n not in tf.wildcards]))
                for title, names in groups:
                    if names:
                        lines.append("      %s: %s" % (title, abbreviate(names)))
        return text + "\n".join(lines) + "\n\n"

    def finish(self):
        """The pending ditto line, if any."""
        if self.first_ditto is None:
            return ""
        a, b = self.first_ditto, self.last_ditto
        self.first_ditto = None
        if a == b:
            return "  table %d: ditto\n\n" % a
        return "  tables %d...%d: ditto\n\n" % (a, b)
