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

Public API: encode_table_features_replies(version, xid, n_tables) -> list
of messages.
"""

import struct

from . import messages as M

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
