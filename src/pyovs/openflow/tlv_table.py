"""The switch's TLV map: which Geneve option (class, type, length) each
tun_metadata<i> field stands for (Nicira NXT_TLV_TABLE_MOD/REQUEST/REPLY).

ovs-ofctl add-tlv-map/del-tlv-map/dump-tlv-map speak these messages; the
switch keeps a :class:`TlvTable` and answers with OVS's errors.  Text
syntax, message layout, limits (64 fields, 256 bytes of option space,
lengths a multiple of 4 up to 124) and printing are OVS's.

Public API:
  TlvMapping(option_class, option_type, option_len, index)
  parse_tlv_mappings(text) -> [TlvMapping] (FlowParseError "invalid tlv
    mapping"; numbers truncate to their widths, as OVS's scanf does)
  encode_tlv_table_mod(version, xid, command, mappings); decode_tlv_table_mod
    (msg) -> (command, mappings) (OFPError NXTTMFC_BAD_COMMAND/_BAD_OPT_LEN/
    _BAD_FIELD_IDX); encode_tlv_table_request(version, xid);
  encode_tlv_table_reply(version, xid, table); decode_tlv_table_reply(msg)
    -> (max_space, max_fields, mappings)
  format_tlv_table_mod(msg), format_tlv_table_reply(msg): ofp-print text
    after the header line.
  TlvTable: .mappings (index -> TlvMapping), .allocated; mod(command,
    mappings, in_use=lambda index: False) applies all or nothing.
  NXTTMC_ADD, NXTTMC_DELETE, NXTTMC_CLEAR; NXT_TLV_TABLE_MOD/REQUEST/REPLY.
"""

import re
import struct
from dataclasses import dataclass

from .errors import DecodeError, FlowParseError, OFPError

NX_VENDOR_ID = 0x00002320
NXT_TLV_TABLE_MOD, NXT_TLV_TABLE_REQUEST, NXT_TLV_TABLE_REPLY = 24, 25, 26
NXTTMC_ADD, NXTTMC_DELETE, NXTTMC_CLEAR = 0, 1, 2
COMMAND_NAMES = {NXTTMC_ADD: "ADD", NXTTMC_DELETE: "DEL", NXTTMC_CLEAR: "CLEAR"}
TUN_METADATA_NUM_OPTS = 64
TUN_METADATA_TOT_OPT_SIZE = 256
TLV_MAX_OPT_SIZE = 124
MAX_MAPPINGS = 4096


@dataclass(frozen=True)
class TlvMapping:
    option_class: int
    option_type: int
    option_len: int
    index: int


# --- text --------------------------------------------------------------------

_MAPPING = re.compile(r"\{class=([^,{}]+),type=([^,{}]+),len=([^,{}]+)\}"
                      r"->tun_metadata([^,]+)")


def _c_int(text, bits):
    """A number as scanf's %i reads it, truncated to BITS."""
    text = text.strip()
    neg = text.startswith("-")
    body = text[1:] if neg else text
    try:
        if body.lower().startswith("0x"):
            v = int(body[2:], 16)
        elif body.startswith("0") and len(body) > 1:
            v = int(body[1:], 8)
        else:
            v = int(body, 10)
    except ValueError:
        raise FlowParseError("invalid tlv mapping") from None
    return (-v if neg else v) & ((1 << bits) - 1)


def parse_tlv_mappings(text):
    """'{class=C,type=T,len=L}->tun_metadataN,...' (an empty TEXT: none)."""
    mappings = []
    pos = 0
    while pos < len(text) and len(mappings) < MAX_MAPPINGS:
        m = _MAPPING.match(text, pos)
        if m is None:
            raise FlowParseError("invalid tlv mapping")
        mappings.append(TlvMapping(_c_int(m.group(1), 16), _c_int(m.group(2), 8),
                                   _c_int(m.group(3), 8), _c_int(m.group(4), 16)))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise FlowParseError("invalid tlv mapping")
            pos += 1
    return mappings


def _table_text(mappings):
    out = ["  class  type  length  match field",
           " ------  ----  ------  --------------"]
    for mp in mappings:
        out.append(f" {_hexc(mp.option_class):>6}  {_hexc(mp.option_type):>4}  "
                   f"{mp.option_len:6d}  tun_metadata{mp.index}")
    return "\n".join(out)


def _hexc(v):
    """C's %#x: 0 stays 0."""
    return "0" if v == 0 else f"0x{v:x}"


# --- messages ----------------------------------------------------------------

def _nx_msg(version, xid, subtype, body=b""):
    return struct.pack("!BBHIII", version, 4, 16 + len(body), xid,
                       NX_VENDOR_ID, subtype) + body


def _pack_mappings(mappings):
    return b"".join(struct.pack("!HBBH2x", mp.option_class, mp.option_type,
                                mp.option_len, mp.index) for mp in mappings)


def _pull_mappings(data):
    if len(data) % 8:
        raise DecodeError("bad TLV table message length", 1, 6)
    return [TlvMapping(*struct.unpack_from("!HBBH", data, ofs))
            for ofs in range(0, len(data), 8)]


def encode_tlv_table_mod(version, xid, command, mappings):
    return _nx_msg(version, xid, NXT_TLV_TABLE_MOD,
                   struct.pack("!H6x", command) + _pack_mappings(mappings))


def _length(msg, least):
    length = struct.unpack_from("!H", msg, 2)[0] if len(msg) >= 4 else 0
    if length < least or length > len(msg):
        raise DecodeError("bad TLV table message length", 1, 6)
    return length


def decode_tlv_table_mod(msg):
    """(command, mappings), checked as OVS's ofputil_decode_tlv_table_mod."""
    length = _length(msg, 24)
    if length < 24:
        raise DecodeError("bad TLV table message length", 1, 6)
    command = struct.unpack_from("!H", msg, 16)[0]
    if command not in COMMAND_NAMES:
        raise DecodeError("NXTTMFC_BAD_COMMAND", 1, 527, name="NXTTMFC_BAD_COMMAND")
    mappings = _pull_mappings(msg[24:length])
    for mp in mappings:
        if mp.index >= TUN_METADATA_NUM_OPTS:
            raise DecodeError("NXTTMFC_BAD_FIELD_IDX", 1, 529, name="NXTTMFC_BAD_FIELD_IDX")
        if mp.option_len % 4 or mp.option_len > TLV_MAX_OPT_SIZE:
            raise DecodeError("NXTTMFC_BAD_OPT_LEN", 1, 528, name="NXTTMFC_BAD_OPT_LEN")
    return command, mappings


def encode_tlv_table_request(version, xid):
    return _nx_msg(version, xid, NXT_TLV_TABLE_REQUEST)


def encode_tlv_table_reply(version, xid, table):
    body = struct.pack("!IH10x", TUN_METADATA_TOT_OPT_SIZE,
                       TUN_METADATA_NUM_OPTS)
    return _nx_msg(version, xid, NXT_TLV_TABLE_REPLY,
                   body + _pack_mappings(table.sorted()))


def decode_tlv_table_reply(msg):
    length = _length(msg, 32)
    if length < 32:
        raise DecodeError("bad TLV table message length", 1, 6)
    max_space, max_fields = struct.unpack_from("!IH", msg, 16)
    return max_space, max_fields, _pull_mappings(msg[32:length])


def format_tlv_table_mod(msg):
    command, mappings = decode_tlv_table_mod(msg)
    if command == NXTTMC_CLEAR:
        return "\n CLEAR"
    return (f"\n {COMMAND_NAMES[command]} mapping table:\n"
            + _table_text(mappings))


def format_tlv_table_reply(msg):
    max_space, max_fields, mappings = decode_tlv_table_reply(msg)
    allocated = sum(mp.option_len for mp in mappings)
    return (f"\n max option space={max_space} max fields={max_fields}\n"
            f" allocated option space={allocated}\n\n mapping table:\n"
            + _table_text(mappings))


# --- the switch's table ---------------------------------------------------------

class TlvTable:
    """The switch's TLV map (OVS's tun_table)."""

    def __init__(self):
        self.mappings = {}          # index -> TlvMapping

    @property
    def allocated(self):
        return sum(mp.option_len for mp in self.mappings.values())

    def sorted(self):
        return [self.mappings[i] for i in sorted(self.mappings)]

    def length_of(self, index):
        """The option length tun_metadata<INDEX> maps to, or None."""
        mp = self.mappings.get(index)
        return None if mp is None else mp.option_len

    def mod(self, command, mappings, in_use=lambda index: False):
        """Apply a TLV table mod all or nothing; OFPError as OVS."""
        new = dict(self.mappings)
        if command == NXTTMC_ADD:
            for mp in mappings:
                if mp.index in new:
                    raise OFPError(1, 531, name="NXTTMFC_ALREADY_MAPPED")
                if any((o.option_class, o.option_type) == (mp.option_class,
                                                           mp.option_type)
                       for o in new.values()):
                    raise OFPError(1, 532, name="NXTTMFC_DUP_ENTRY")
                new[mp.index] = mp
            if sum(mp.option_len for mp in new.values()) > TUN_METADATA_TOT_OPT_SIZE:
                raise OFPError(1, 530, name="NXTTMFC_TABLE_FULL")
        else:
            doomed = (list(new) if command == NXTTMC_CLEAR
                      else [mp.index for mp in mappings if mp.index in new])
            for index in doomed:
                if in_use(index):
                    raise OFPError(1, 537, name="NXTTMFC_INVALID_TLV_DEL")
                del new[index]
        self.mappings = new


def tun_metadata_used(match, actions):
    """The tun_metadata indexes a flow matches on or writes (set_field, load,
    move), nested actions included."""
    used = {int(s[12:]) for s in match.values if s.startswith("tun_metadata")}
    stack = list(actions)
    while stack:
        a = stack.pop()
        for name in ("field",):     # set_field, load, delete_field
            f = getattr(a, name, None)
            if f is not None and getattr(f, "variable", False):
                used.add(int(f.name[12:]))
        for name in ("src", "dst"):
            sf = getattr(a, name, None)
            f = getattr(sf, "field", None)
            if f is not None and getattr(f, "variable", False):
                used.add(int(f.name[12:]))
        stack.extend(getattr(a, "actions", None) or [])
    return used
