"""OpenFlow actions: the model and its text (ovs-actions(7)).

Each action is a small object with ``format(port_names)`` giving the text
ovs-ofctl prints; ``parse_actions(text)`` reads the text back.  ``raw`` on an
action records which wire form it came from when OVS prints the forms
differently (``strip_vlan`` vs ``pop_vlan``, ``load`` vs ``set_field``).  The
wire encodings live in ofp_actions.py.

Public API:
  parse_actions(text, port_names=None) -> list of actions (raises
    FlowParseError with ovs-ofctl's message)
  format_actions(actions, port_names=None) -> str ("drop" when empty)
  Subfield(field, ofs, n_bits); parse_subfield(text)
  Action classes: Output, OutputReg, OutputTrunc, Controller, Enqueue,
    SetVlanVid, SetVlanPcp, StripVlan, PushVlan, SetEth, SetIPv4, SetIPDscp,
    SetIPEcn, SetIPTtl, SetL4Port, SetField (set_field and load), RegMove,
    Resubmit, GotoTable, WriteMetadata, Meter, Group, ClearActions,
    WriteActions, Note, DecTtl, SetQueue, PopQueue, Conjunction, Clone, Exit,
    Ct (with Nat and exec actions), CtClear, Learn/LearnSpec, SetTunnel,
    FinTimeout, PushMpls, PopMpls, SetMplsLabel, SetMplsTc, SetMplsTtl,
    DecMplsTtl.
    Multipath, Bundle, Sample, CheckPktLarger, DeleteField, Encap (with
    NshTlv properties), Decap.
  Not yet: stack push/pop, dec_nsh_ttl, debug_recirc/debug_slow.
"""

import re
from dataclasses import dataclass, field as dc_field

from . import fields as F
from .errors import FlowParseError
from .match import (parse_field_value, format_field_value, parse_int,
                    format_eth, format_ipv4, parse_eth, parse_ipv4)
from .ports import (port_from_string, port_to_string, OFPP_MAX,
                    OFPP_CONTROLLER, OFPP_IN_PORT)

MAX_ACTIONS_TEXT = 64 * 1024
MAX_NESTING = 16

OFPR_NO_MATCH, OFPR_ACTION, OFPR_INVALID_TTL = 0, 1, 2
NX_CTLR_NO_METER = 0xffffffff
REASONS = {0: "no_match", 1: "action", 2: "invalid_ttl", 3: "action_set",
           4: "group", 5: "packet_out"}


# --- subfields ---------------------------------------------------------------

@dataclass(frozen=True)
class Subfield:
    field: F.Field
    ofs: int
    n_bits: int

    def format(self):
        f = self.field
        name = f.nxm_name or f.oxm_name or f.name
        if self.ofs == 0 and self.n_bits == f.n_bits:
            return f"{name}[]"
        if self.n_bits == 1:
            return f"{name}[{self.ofs}]"
        return f"{name}[{self.ofs}..{self.ofs + self.n_bits - 1}]"


def parse_subfield(text):
    """NAME[], NAME[ofs], NAME[start..end] or NAME (the whole field)."""
    name, bracket, rest = text.partition("[")
    field = F.field_by_name(name.strip())
    if field is None:
        raise FlowParseError(f"{text}: unknown field `{name}'"
                             if bracket else f"{text}: unknown field `{name}'")
    if not bracket:
        return Subfield(field, 0, field.n_bits)
    if not rest.endswith("]"):
        raise FlowParseError(f"{text}: missing `]' following field")
    inner = rest[:-1]
    if inner == "":
        return Subfield(field, 0, field.n_bits)
    lo, dots, hi = inner.partition("..")
    a = parse_int(lo)
    b = parse_int(hi) if dots else a
    if a is None or b is None:
        raise FlowParseError(f"{text}: syntax error expecting [] or [<bit>] or "
                             f"[<start>..<end>]")
    if b < a:
        raise FlowParseError(f"{text}: starting bit {a} is after ending bit {b}")
    if b >= field.n_bits:
        raise FlowParseError(f"{text}: {field.name} has only {field.n_bits} bits")
    return Subfield(field, a, b - a + 1)


# --- actions -----------------------------------------------------------------

class Action:
    """Base of all actions: format() gives the ovs-actions(7) text."""

    def format(self, port_names=None):
        raise NotImplementedError


@dataclass
class Output(Action):
    port: int
    max_len: int = 0

    def format(self, port_names=None):
        if self.port < OFPP_MAX:
            return "output:" + port_to_string(self.port, port_names)
        text = port_to_string(self.port, port_names)
        if self.port == OFPP_CONTROLLER:
            text += f":{self.max_len}"
        return text


@dataclass
class OutputReg(Action):
    src: Subfield
    max_len: int = 0xffff

    def format(self, port_names=None):
        return "output:" + self.src.format()


@dataclass
class Controller(Action):
    max_len: int = 0xffff
    reason: int = OFPR_ACTION
    controller_id: int = 0
    userdata: bytes = b""
    pause: bool = False
    meter_id: int = NX_CTLR_NO_METER

    def is_plain(self):
        return (self.reason == OFPR_ACTION and not self.controller_id
                and not self.userdata and not self.pause
                and self.meter_id == NX_CTLR_NO_METER)

    def format(self, port_names=None):
        if self.is_plain():
            return f"CONTROLLER:{self.max_len}"
        parts = []
        if self.reason != OFPR_ACTION:
            parts.append("reason=" + REASONS.get(self.reason, str(self.reason)))
        if self.max_len != 0xffff:
            parts.append(f"max_len={self.max_len}")
        if self.controller_id:
            parts.append(f"id={self.controller_id}")
        if self.userdata:
            parts.append("userdata=" + ".".join(f"{b:02x}" for b in self.userdata))
        if self.pause:
            parts.append("pause")
        if self.meter_id != NX_CTLR_NO_METER:
            parts.append(f"meter_id={self.meter_id}")
        return "controller(" + ",".join(parts) + ")"


@dataclass
class Enqueue(Action):
    port: int
    queue: int

    def format(self, port_names=None):
        return f"enqueue:{port_to_string(self.port, port_names)}:{self.queue}"


@dataclass
class SetVlanVid(Action):
    vid: int
    push: bool = True     # push a VLAN header if there is none (mod_vlan_vid)
    # Whether the flow has a VLAN header when this action runs, as
    # flow.check_actions() finds it (None: unknown); OpenFlow 1.1+ encoding
    # pushes one only when it has not.
    flow_has_vlan: object = dc_field(default=None, compare=False, repr=False)

    def format(self, port_names=None):
        # OpenFlow 1.1's set_vlan_vid never pushes (OVS names it so).
        return f"{'mod' if self.push else 'set'}_vlan_vid:{self.vid}"


@dataclass
class SetVlanPcp(Action):
    pcp: int
    push: bool = True
    flow_has_vlan: object = dc_field(default=None, compare=False, repr=False)

    def format(self, port_names=None):
        return f"{'mod' if self.push else 'set'}_vlan_pcp:{self.pcp}"


@dataclass
class StripVlan(Action):
    raw: str = "strip_vlan"

    def format(self, port_names=None):
        return self.raw


@dataclass
class PushVlan(Action):
    ethertype: int = 0x8100

    def format(self, port_names=None):
        return f"push_vlan:0x{self.ethertype:x}"


@dataclass
class SetEth(Action):
    which: str       # "src" or "dst"
    mac: int

    def format(self, port_names=None):
        return f"mod_dl_{self.which}:{format_eth(self.mac)}"


@dataclass
class SetIPv4(Action):
    which: str
    addr: int

    def format(self, port_names=None):
        return f"mod_nw_{self.which}:{format_ipv4(self.addr)}"


@dataclass
class SetIPDscp(Action):
    tos: int          # the DSCP bits in place (a multiple of 4)

    def format(self, port_names=None):
        return f"mod_nw_tos:{self.tos}"


@dataclass
class SetIPEcn(Action):
    ecn: int

    def format(self, port_names=None):
        return f"mod_nw_ecn:{self.ecn}"


@dataclass
class SetIPTtl(Action):
    ttl: int

    def format(self, port_names=None):
        return f"mod_nw_ttl:{self.ttl}"


@dataclass
class SetL4Port(Action):
    which: str
    port: int

    def format(self, port_names=None):
        return f"mod_tp_{self.which}:{self.port}"


@dataclass
class SetField(Action):
    field: F.Field
    value: int
    mask: int          # bits of the field to set
    raw: str = "set_field"   # or "load"; "set_field_masked": a mask that
                             # covers the field but not its wire width

    def format(self, port_names=None):
        # (A variable-length field's load goes as NXAST_REG_LOAD2, which
        # prints as set_field.)
        if self.raw == "load" and not self.field.variable:
            return ",".join(f"load:{_hex(v)}->{sf.format()}"
                            for sf, v in self.load_segments())
        full = self.field.max_value if self.raw != "set_field_masked" else None
        return ("set_field:" + format_field_value(
            self.field, self.value, None if self.mask == full else self.mask)
            + "->" + self.field.name)

    def load_segments(self):
        """(Subfield, value) per contiguous run of set mask bits."""
        segs = []
        mask = self.mask
        ofs = 0
        while mask >> ofs:
            if not (mask >> ofs) & 1:
                ofs += 1
                continue
            end = ofs
            while (mask >> end) & 1:
                end += 1
            n = end - ofs
            segs.append((Subfield(self.field, ofs, n),
                         (self.value >> ofs) & ((1 << n) - 1)))
            ofs = end
        return segs


@dataclass
class RegMove(Action):
    src: Subfield
    dst: Subfield

    def format(self, port_names=None):
        return f"move:{self.src.format()}->{self.dst.format()}"


@dataclass
class Resubmit(Action):
    in_port: int = OFPP_IN_PORT
    table: int = 255
    with_ct: bool = False
    raw: str = "resubmit_table"    # or "resubmit" (decoded NXAST_RESUBMIT)

    def format(self, port_names=None):
        if self.in_port != OFPP_IN_PORT and self.table == 255 and not self.with_ct:
            return "resubmit:" + port_to_string(self.in_port, port_names)
        text = "resubmit("
        if self.in_port != OFPP_IN_PORT:
            text += port_to_string(self.in_port, port_names)
        text += ","
        if self.table != 255:
            text += str(self.table)
        if self.with_ct:
            text += ",ct"
        return text + ")"


@dataclass
class GotoTable(Action):
    table: int

    def format(self, port_names=None):
        return f"goto_table:{self.table}"


@dataclass
class WriteMetadata(Action):
    value: int
    mask: int = (1 << 64) - 1

    def format(self, port_names=None):
        text = f"write_metadata:{_hex(self.value)}"
        if self.mask != (1 << 64) - 1:
            text += f"/{_hex(self.mask)}"
        return text


@dataclass
class Meter(Action):
    meter_id: int

    def format(self, port_names=None):
        return f"meter:{self.meter_id}"


@dataclass
class Group(Action):
    group_id: int

    def format(self, port_names=None):
        return f"group:{self.group_id}"


@dataclass
class ClearActions(Action):
    def format(self, port_names=None):
        return "clear_actions"


@dataclass
class WriteActions(Action):
    actions: list

    def format(self, port_names=None):
        return "write_actions(" + format_actions(self.actions, port_names) + ")"


@dataclass
class Note(Action):
    data: bytes

    def format(self, port_names=None):
        return "note:" + ".".join(f"{b:02x}" for b in self.data)


@dataclass
class DecTtl(Action):
    ids: tuple = ()      # empty: plain dec_ttl

    def format(self, port_names=None):
        if not self.ids:
            return "dec_ttl"
        return "dec_ttl(" + ",".join(str(i) for i in self.ids) + ")"


@dataclass
class SetQueue(Action):
    queue: int

    def format(self, port_names=None):
        return f"set_queue:{self.queue}"


@dataclass
class PopQueue(Action):
    def format(self, port_names=None):
        return "pop_queue"


@dataclass
class Conjunction(Action):
    conj_id: int
    clause: int         # 0-based
    n_clauses: int

    def format(self, port_names=None):
        return f"conjunction({self.conj_id},{self.clause + 1}/{self.n_clauses})"


# NX_HASH_FIELDS_* and NX_MP_ALG_* names (multipath, bundle).
HASH_FIELDS = ("eth_src", "symmetric_l4", "symmetric_l3l4",
               "symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3")
MP_ALGORITHMS = ("modulo_n", "hash_threshold", "hrw", "iter_hash")


@dataclass
class Multipath(Action):
    fields: int
    basis: int
    algorithm: int
    n_links: int
    arg: int
    dst: Subfield

    def format(self, port_names=None):
        return (f"multipath({HASH_FIELDS[self.fields]},{self.basis},"
                f"{MP_ALGORITHMS[self.algorithm]},{self.n_links},{self.arg},"
                f"{self.dst.format()})")


BD_ALGORITHMS = ("active_backup", "hrw")
BUNDLE_MAX_MEMBERS = 2048


@dataclass
class Bundle(Action):
    """bundle (DST None) and bundle_load (DST the subfield loaded)."""
    fields: int
    basis: int
    algorithm: int
    members: list
    dst: Subfield = None

    def format(self, port_names=None):
        name = "bundle" if self.dst is None else "bundle_load"
        dst = "" if self.dst is None else self.dst.format() + ","
        members = ",".join(port_to_string(p, port_names) for p in self.members)
        return (f"{name}({HASH_FIELDS[self.fields]},{self.basis},"
                f"{BD_ALGORITHMS[self.algorithm]},ofport,{dst}"
                f"members:{members})")


@dataclass
class Clone(Action):
    actions: list = dc_field(default_factory=list)

    def format(self, port_names=None):
        return "clone(" + format_actions(self.actions, port_names, empty="") + ")"


@dataclass
class Exit(Action):
    def format(self, port_names=None):
        return "exit"


def _hex(v):
    return "0" if v == 0 else f"0x{v:x}"


# --- text ------------------------------------------------------------------

def format_actions(actions, port_names=None, empty="drop"):
    if not actions:
        return empty
    return ",".join(a.format(port_names) for a in actions)


def split_items(text):
    """Split "a,b(c,d),e:f" at top-level commas into (key, value) pairs,
    as OVS's ofputil_parse_key_value() does."""
    items = []
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in ", \t\r\n":
            i += 1
        if i >= n:
            break
        j = i
        while j < n and text[j] not in ":=(, \t\r\n":
            j += 1
        key = text[i:j]
        value = ""
        if j < n and text[j] == "(":
            depth = 0
            k = j
            while k < n:
                if text[k] == "(":
                    depth += 1
                elif text[k] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if depth:
                raise FlowParseError(f"{text}: unbalanced parentheses")
            value = text[j + 1:k]
            j = k + 1
        elif j < n and text[j] in ":=":
            k = j + 1
            depth = 0
            while k < n and (depth or text[k] not in ", \t\r\n"):
                if text[k] == "(":
                    depth += 1
                elif text[k] == ")":
                    depth -= 1
                k += 1
            value = text[j + 1:k]
            j = k
        items.append((key, value))
        i = j
    return items


def _u(text, name, bits):
    v = parse_int(text)
    if v is None or v >= (1 << bits):
        raise FlowParseError(f'invalid {name} "{text}"')
    return v


def parse_actions(text, port_names=None, _depth=0):
    """Parse an ovs-actions(7) list."""
    if len(text) > MAX_ACTIONS_TEXT:
        raise FlowParseError("actions too long")
    if _depth > MAX_NESTING:
        raise FlowParseError("actions nested too deeply")
    items = split_items(text)
    if len(items) == 1 and items[0] == ("drop", ""):
        return []
    actions = []
    items = _join_check_pkt_larger(items)
    for key, value in items:
        if key == "drop":
            raise FlowParseError('"drop" must not be accompanied by any other '
                                 'action or instruction')
        parser = _PARSERS.get(key.lower() if key.lower() in _CASELESS else key)
        if parser is not None:
            result = parser(value, port_names, _depth)
            if isinstance(result, list):
                actions.extend(result)
            else:
                actions.append(result)
            continue
        port = port_from_string(key, port_names)
        if port is not None and not value:
            actions.append(Output(port))
            continue
        raise FlowParseError(f"unknown action {key}")
    if _depth == 0:
        verify_actions(actions)
    conj = [a for a in actions if isinstance(a, Conjunction)]
    if conj:
        for a in actions:
            if not isinstance(a, (Conjunction, Note)):
                kind = ofpact_name(a)
                raise FlowParseError(
                    '"conjunction" actions may be used along with "note" but '
                    f'not any other kind of action (such as the "{kind}" '
                    'action used here)')
    return actions


_CASELESS = {"controller", "in_port", "normal", "flood", "all", "local"}


def _join_check_pkt_larger(items):
    """check_pkt_larger(LEN)->DST splits as two items; join them again."""
    out = []
    for key, value in items:
        if key.startswith("->") and out and out[-1][0] == "check_pkt_larger":
            out[-1] = ("check_pkt_larger", (out[-1][1], key[2:]))
        else:
            out.append((key, value))
    return out


def _p_output(value, names, depth):
    if value.startswith("port=") or "max_len=" in value:
        port = None
        max_len = None
        for key, arg in split_items(value):
            if key == "port":
                port = port_from_string(arg, names)
                if port is None:
                    raise FlowParseError(f"{arg}: output to unknown port")
            elif key == "max_len":
                max_len = _u(arg, "max_len", 32)
                if max_len < 14:
                    raise FlowParseError(f"max_len {max_len} is less than the "
                                         "minimum value 14")
            else:
                raise FlowParseError(f"{key}: unknown output parameter")
        if port is None:
            raise FlowParseError("output to unknown port")
        if max_len is None:
            return Output(port)
        return OutputTrunc(port, max_len)
    if "[" in value or (F.field_by_name(value) and
                        port_from_string(value, names) is None):
        return OutputReg(parse_subfield(value))
    port = port_from_string(value, names)
    if port is None:
        raise FlowParseError(f"{value}: output to unknown port")
    if port == OFPP_CONTROLLER:
        return Controller()
    return Output(port)


def _p_controller(value, names, depth):
    c = Controller()
    if not value:
        return c
    if "=" not in value and "," not in value and value != "pause":
        c.max_len = _u(value, "max_len", 16)
        return c
    for key, arg in split_items(value):
        if key == "reason":
            rev = {v: k for k, v in REASONS.items()}
            if arg not in rev:
                raise FlowParseError(f"unknown reason \"{arg}\"")
            c.reason = rev[arg]
        elif key == "max_len":
            c.max_len = _u(arg, "max_len", 16)
        elif key == "id":
            c.controller_id = _u(arg, "id", 16)
        elif key == "userdata":
            try:
                c.userdata = bytes.fromhex(arg.replace(".", ""))
            except ValueError:
                raise FlowParseError(f"{arg}: bad hex digit in userdata") from None
        elif key == "pause":
            c.pause = True
        elif key == "meter_id":
            c.meter_id = parse_int(arg)
            if c.meter_id is None or c.meter_id >> 32:
                raise FlowParseError(f"invalid numeric format {arg}")
        else:
            raise FlowParseError(f"{key}: unknown controller action parameter")
    return c


def _p_enqueue(value, names, depth):
    sep = ":" if ":" in value else ","
    port_s, _, q = value.partition(sep)
    port = port_from_string(port_s, names)
    if port is None or not q:
        raise FlowParseError('"enqueue" syntax is "enqueue:PORT:QUEUE" or '
                             '"enqueue(PORT,QUEUE)"')
    return Enqueue(port, _u(q, "queue", 32))


def _p_vid(value, names, depth, push=True):
    vid = _u(value, "VLAN VID", 16)
    if vid & ~0xfff:
        raise FlowParseError(f"{value}: not a valid VLAN VID")
    return SetVlanVid(vid, push)


def _p_pcp(value, names, depth, push=True):
    pcp = _u(value, "VLAN PCP", 8)
    if pcp & ~7:
        raise FlowParseError(f"{value}: not a valid VLAN PCP")
    return SetVlanPcp(pcp, push)


def _p_push_vlan(value, names, depth):
    et = _u(value, "ethertype", 16)
    if et not in (0x8100, 0x88a8):
        raise FlowParseError(f"{value}: not a valid VLAN ethertype")
    return PushVlan(et)


def _mk_eth(which):
    def p(value, names, depth):
        mac = parse_eth(value)
        if mac is None:
            raise FlowParseError(f"{value}: invalid Ethernet address")
        return SetEth(which, mac)
    return p


def _mk_ip(which):
    def p(value, names, depth):
        ip = parse_ipv4(value)
        if ip is None:
            raise FlowParseError(f"{value}: invalid IP address")
        return SetIPv4(which, ip)
    return p


def _p_tos(value, names, depth):
    tos = _u(value, "TOS", 8)
    if tos & ~0xfc:
        raise FlowParseError(f"{value}: not a valid TOS")
    return SetIPDscp(tos)


def _p_ecn(value, names, depth):
    ecn = _u(value, "ECN", 8)
    if ecn & ~3:
        raise FlowParseError(f"{value}: not a valid ECN")
    return SetIPEcn(ecn)


def _mk_tp(which):
    def p(value, names, depth):
        return SetL4Port(which, _u(value, "port", 16))
    return p


def _p_set_field(value, names, depth):
    val, arrow, dst = value.partition("->")
    if not arrow:
        raise FlowParseError(f"{value}: missing `->'")
    field = F.field_by_name(dst.strip())
    if field is None:
        raise FlowParseError(f"{dst} is not a valid OXM field name")
    if not field.writable:
        raise FlowParseError(f"{dst} is read-only")
    v, m = parse_field_value(field, val.strip(), names)
    full = field.max_value
    if field.prereq == "nsh" and min(full, F.MAX_VALID.get(field.name, full)) < v:
        raise FlowParseError(f"{val.strip()} is not a valid value for field "
                             f"{field.name}")
    return SetField(field, v & (full if m is None else m),
                    full if m is None else m & full)


def _p_load(value, names, depth):
    val, arrow, dst = value.partition("->")
    if not arrow:
        raise FlowParseError(f"{value}: missing `->'")
    sf = parse_subfield(dst.strip())
    if not sf.field.writable:
        raise FlowParseError(f"{dst} is read-only")
    v = parse_int(val.strip())
    if v is None:
        raise FlowParseError(f"{val}: could not convert to integer")
    if v >> sf.n_bits:
        raise FlowParseError(f"{value}: value {val.strip()} does not fit into "
                             f"{sf.n_bits} bits")
    mask = ((1 << sf.n_bits) - 1) << sf.ofs
    return SetField(sf.field, v << sf.ofs, mask, "load")


def _p_move(value, names, depth):
    src, arrow, dst = value.partition("->")
    if not arrow:
        raise FlowParseError(f"{value}: missing `->' following source")
    s = parse_subfield(src.strip())
    d = parse_subfield(dst.strip())
    if s.n_bits != d.n_bits:
        raise FlowParseError(f"{value}: source field is {s.n_bits} bits wide but "
                             f"destination is {d.n_bits} bits wide")
    return RegMove(s, d)


def _p_resubmit(value, names, depth):
    if "," not in value and value:
        port = port_from_string(value, names)
        if port is None:
            raise FlowParseError(f"{value}: resubmit to unknown port")
        return Resubmit(port)
    parts = value.split(",")
    r = Resubmit()
    if parts[0].strip():
        port = port_from_string(parts[0].strip(), names)
        if port is None:
            raise FlowParseError(f"{parts[0]}: resubmit to unknown port")
        r.in_port = port
    if len(parts) > 1 and parts[1].strip():
        r.table = _u(parts[1].strip(), "table", 8)
    for extra in parts[2:]:
        if extra.strip() != "ct":
            raise FlowParseError(f"{extra.strip()}: unknown parameter")
        r.with_ct = True
    if r.in_port == OFPP_IN_PORT and r.table == 255:
        raise FlowParseError('at least one "in_port" or "table" must be '
                             'specified on resubmit')
    return r


def _p_goto(value, names, depth):
    return GotoTable(_u(value, "table", 8))


def _p_write_metadata(value, names, depth):
    v, sep, m = value.partition("/")
    val = parse_int(v)
    mask = parse_int(m) if sep else (1 << 64) - 1
    if val is None or mask is None or val >> 64 or mask >> 64:
        raise FlowParseError(f"{value}: invalid metadata")
    return WriteMetadata(val & mask, mask)


def _p_note(value, names, depth):
    hexs = value.replace(".", "")
    try:
        data = bytes.fromhex(hexs)
    except ValueError:
        raise FlowParseError("bad hex digit in `note' argument") from None
    return Note(data)


def _p_dec_ttl(value, names, depth):
    if not value:
        return DecTtl()
    ids = tuple(_u(x.strip(), "controller id", 16) for x in value.split(","))
    return DecTtl(ids)


def _p_conjunction(value, names, depth):
    try:
        cid, rest = value.split(",", 1)
        k, n = rest.split("/")
        cid, k, n = int(cid), int(k), int(n)
    except ValueError:
        raise FlowParseError(f'"conjunction" syntax is "conjunction(id,i/n)"') from None
    if n < 2:
        raise FlowParseError("conjunction must have at least 2 clauses")
    if n > 64:
        raise FlowParseError("conjunction must have at most 64 clauses")
    if k < 1:
        raise FlowParseError("clause index must be positive")
    if k > n:
        raise FlowParseError("clause index must be less than or equal to "
                             "number of clauses")
    return Conjunction(cid, k - 1, n)


def _atoi(text):
    """C's atoi() (pyovs's actions take OVS's lax integers where OVS does)."""
    text = text.lstrip()
    i = 1 if text[:1] in "+-" else 0
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    return int(text[:j]) if j > i else 0


def _p_multipath(value, names, depth):
    args = [a for a in value.replace(" ", ",").split(",") if a]
    if len(args) < 6:
        raise FlowParseError(f"{value}: not enough arguments to multipath action")
    fields, basis, algorithm, n_links, arg, dst = args[:6]
    if fields not in HASH_FIELDS:
        raise FlowParseError(f"{value}: unknown fields `{fields}'")
    if algorithm not in MP_ALGORITHMS:
        raise FlowParseError(f"{value}: unknown algorithm `{algorithm}'")
    n = _atoi(n_links)
    if not 1 <= n <= 65536:
        raise FlowParseError(f"{value}: n_links {n} is not in valid range 1 "
                             "to 65536")
    sub = parse_subfield(dst)
    if sub.n_bits < 16 and n > (1 << sub.n_bits):
        raise FlowParseError(f"{value}: {sub.n_bits}-bit destination field has "
                             f"{1 << sub.n_bits} possible values, less than "
                             f"specified n_links {n}")
    return Multipath(HASH_FIELDS.index(fields), _atoi(basis) & 0xffff,
                     MP_ALGORITHMS.index(algorithm), n,
                     _atoi(arg) & 0xffffffff, sub)


def _mk_bundle(load):
    def parse(value, names, depth):
        head, colon, tail = value.partition(":")
        args = [a for a in re.split("[, ]", head) if a]
        n_fixed = 5 if load else 4
        if len(args) < n_fixed + 1:
            raise FlowParseError(f"{value}: not enough arguments to bundle action")
        delim = args[n_fixed]
        if delim.lower() not in ("members", "slaves"):
            raise FlowParseError(f"{value}: missing member delimiter, expected "
                                 f"`members', got `{delim}'")
        members = []
        for text in (t for t in re.split(r"[, \[\]]", tail) if t):
            if len(members) >= BUNDLE_MAX_MEMBERS:
                break
            port = port_from_string(text, names)
            if port is None:
                raise FlowParseError(f"{text}: bad port number")
            members.append(port)
        fields, basis, algorithm, member_type = args[:4]
        if fields.lower() not in HASH_FIELDS:
            raise FlowParseError(f"{value}: unknown fields `{fields}'")
        if algorithm.lower() not in BD_ALGORITHMS:
            raise FlowParseError(f"{value}: unknown algorithm `{algorithm}'")
        if member_type.lower() != "ofport":
            raise FlowParseError(f"{value}: unknown member_type `{member_type}'")
        dst = parse_subfield(args[4]) if load else None
        return Bundle(HASH_FIELDS.index(fields.lower()), _atoi(basis) & 0xffff,
                      BD_ALGORITHMS.index(algorithm.lower()), members, dst)
    return parse


def _p_clone(value, names, depth):
    return Clone(parse_actions(value, names, depth + 1))


def _p_write_actions(value, names, depth):
    return WriteActions(parse_actions(value, names, depth + 1))


def _mk_fixed(cls):
    def p(value, names, depth):
        return cls()
    return p


_PARSERS = {
    "output": _p_output, "controller": _p_controller, "enqueue": _p_enqueue,
    "mod_vlan_vid": _p_vid, "mod_vlan_pcp": _p_pcp,
    "set_vlan_vid": lambda v, n, d: _p_vid(v, n, d, False),
    "set_vlan_pcp": lambda v, n, d: _p_pcp(v, n, d, False),
    "strip_vlan": lambda v, n, d: StripVlan("strip_vlan"),
    "pop_vlan": lambda v, n, d: StripVlan("pop_vlan"),
    "push_vlan": _p_push_vlan,
    "mod_dl_src": _mk_eth("src"), "mod_dl_dst": _mk_eth("dst"),
    "mod_nw_src": _mk_ip("src"), "mod_nw_dst": _mk_ip("dst"),
    "mod_nw_tos": _p_tos, "mod_nw_ecn": _p_ecn,
    "mod_nw_ttl": lambda v, n, d: SetIPTtl(_u(v, "TTL", 8)),
    "mod_tp_src": _mk_tp("src"), "mod_tp_dst": _mk_tp("dst"),
    "set_field": _p_set_field, "load": _p_load, "move": _p_move,
    "resubmit": _p_resubmit, "goto_table": _p_goto,
    "write_metadata": _p_write_metadata,
    "meter": lambda v, n, d: Meter(_u(v, "meter", 32)),
    "group": lambda v, n, d: Group(_u(v, "group", 32)),
    "clear_actions": _mk_fixed(ClearActions),
    "write_actions": _p_write_actions,
    "note": _p_note, "dec_ttl": _p_dec_ttl,
    "set_queue": lambda v, n, d: SetQueue(_u(v, "queue", 32)),
    "pop_queue": _mk_fixed(PopQueue),
    "conjunction": _p_conjunction, "clone": _p_clone,
    "multipath": _p_multipath, "bundle": _mk_bundle(False),
    "bundle_load": _mk_bundle(True), "exit": _mk_fixed(Exit),
}

def ofpact_name(a):
    """The name OVS's error messages give action A (ofpact_name())."""
    cls = type(a)
    if cls in (SetEth, SetIPv4, SetL4Port):
        return {SetEth: "mod_dl_", SetIPv4: "mod_nw_",
                SetL4Port: "mod_tp_"}[cls] + a.which
    if cls is Controller and a.is_plain():
        return "output"
    return _OFPACT_NAMES.get(cls) or re.sub(r"(?<!^)(?=[A-Z])", "_",
                                             cls.__name__).lower()


_OFPACT_NAMES = {RegMove: "move", SetIPDscp: "mod_nw_tos",
                 SetIPEcn: "mod_nw_ecn", SetIPTtl: "mod_nw_ttl"}


# --- conntrack -----------------------------------------------------------------

CT_RECIRC_NONE = 255
NX_CT_F_COMMIT, NX_CT_F_FORCE = 1, 2
CT_ALGS = {21: "ftp", 69: "tftp"}
NX_NAT_F_SRC, NX_NAT_F_DST, NX_NAT_F_PERSISTENT = 1, 2, 4
NX_NAT_F_PROTO_HASH, NX_NAT_F_PROTO_RANDOM = 8, 16


@dataclass
class Nat(Action):
    flags: int = 0
    ip_min: int = 0
    ip_max: int = 0
    proto_min: int = 0
    proto_max: int = 0

    def format(self, port_names=None):
        if not self.flags & (NX_NAT_F_SRC | NX_NAT_F_DST):
            return "nat"
        text = "nat(" + ("src" if self.flags & NX_NAT_F_SRC else "dst")
        if self.ip_min:
            text += "=" + format_ipv4(self.ip_min)
            if self.ip_max and self.ip_max != self.ip_min:
                text += "-" + format_ipv4(self.ip_max)
        if self.proto_min:
            text += f":{self.proto_min}"
            if self.proto_max and self.proto_max != self.proto_min:
                text += f"-{self.proto_max}"
        for bit, name in ((NX_NAT_F_PERSISTENT, "persistent"),
                          (NX_NAT_F_PROTO_HASH, "hash"),
                          (NX_NAT_F_PROTO_RANDOM, "random")):
            if self.flags & bit:
                text += "," + name
        return text + ")"


@dataclass
class Ct(Action):
    flags: int = 0
    zone_imm: int = 0
    zone_src: Subfield = None
    table: int = CT_RECIRC_NONE
    alg: int = 0
    actions: list = dc_field(default_factory=list)

    def format(self, port_names=None):
        parts = []
        if self.flags & NX_CT_F_COMMIT:
            parts.append("commit")
        if self.flags & NX_CT_F_FORCE:
            parts.append("force")
        if self.table != CT_RECIRC_NONE:
            parts.append(f"table={self.table}")
        if self.zone_src is not None:
            parts.append("zone=" + self.zone_src.format())
        elif self.zone_imm:
            parts.append(f"zone={self.zone_imm}")
        rest = list(self.actions)
        if rest and isinstance(rest[0], Nat):
            parts.append(rest.pop(0).format(port_names))
        if rest:
            parts.append("exec(" + format_actions(rest, port_names, empty="") + ")")
        if self.alg:
            parts.append("alg=" + CT_ALGS.get(self.alg, str(self.alg)))
        return "ct(" + ",".join(parts) + ")"


@dataclass
class CtClear(Action):
    def format(self, port_names=None):
        return "ct_clear"


def _p_nat(value, names, depth):
    nat = Nat()
    if not value:
        return nat
    for key, arg in split_items(value):
        if key in ("src", "dst"):
            if nat.flags & (NX_NAT_F_SRC | NX_NAT_F_DST):
                raise FlowParseError("May only specify one of \"src\" or \"dst\".")
            nat.flags |= NX_NAT_F_SRC if key == "src" else NX_NAT_F_DST
            if arg:
                addrs, colon, ports = arg.partition(":")
                lo, dash, hi = addrs.partition("-")
                nat.ip_min = parse_ipv4(lo)
                nat.ip_max = parse_ipv4(hi) if dash else 0
                if nat.ip_min is None or nat.ip_max is None:
                    raise FlowParseError(f"{arg}: bad address range")
                if colon:
                    plo, pdash, phi = ports.partition("-")
                    nat.proto_min = _u(plo, "port", 16)
                    nat.proto_max = _u(phi, "port", 16) if pdash else 0
        elif key == "persistent":
            nat.flags |= NX_NAT_F_PERSISTENT
        elif key == "hash":
            nat.flags |= NX_NAT_F_PROTO_HASH
        elif key == "random":
            nat.flags |= NX_NAT_F_PROTO_RANDOM
        else:
            raise FlowParseError(f"invalid key \"{key}\" in \"nat\" argument")
    return nat


def _p_ct(value, names, depth):
    ct = Ct()
    for key, arg in split_items(value):
        if key == "commit":
            ct.flags |= NX_CT_F_COMMIT
        elif key == "force":
            ct.flags |= NX_CT_F_FORCE
        elif key == "table":
            ct.table = parse_int(arg)
            if ct.table is None or ct.table > 255:
                raise FlowParseError(f"unknown table {arg}")
        elif key == "zone":
            zone = parse_int(arg) if arg[:1].isdigit() else None
            if zone is not None and not zone >> 16:
                ct.zone_imm = zone
            else:
                ct.zone_src = parse_subfield(arg)
        elif key == "alg":
            rev = {v: k for k, v in CT_ALGS.items()}
            ct.alg = rev[arg] if arg in rev else _u(arg, "alg", 16)
        elif key == "nat":
            ct.actions.insert(0, _p_nat(arg, names, depth))
        elif key == "exec":
            ct.actions.extend(parse_actions(arg, names, depth + 1))
        else:
            raise FlowParseError(f"invalid argument to \"ct\" action: `{key}'")
    return ct


_PARSERS["ct"] = _p_ct
_PARSERS["ct_clear"] = _mk_fixed(CtClear)


# --- learn ------------------------------------------------------------------

NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_DELETE_LEARNED = 1, 2
NX_LEARN_F_WRITE_RESULT = 4


@dataclass
class LearnSpec:
    kind: str                 # "match", "load" or "output"
    dst: Subfield = None      # None for output
    src: Subfield = None      # None when the source is immediate
    imm: int = 0              # immediate value (src is None)
    n_bits: int = 0

    def format(self):
        n_bytes = (self.n_bits + 15) // 16 * 2
        if self.kind == "match" and self.src is None:
            d = self.dst
            if d.ofs == 0 and d.n_bits == d.field.n_bits:
                return d.field.name + "=" + format_field_value(d.field, self.imm)
            return d.format() + "=" + _hex(self.imm)
        if self.kind == "match":
            if self.src.field is self.dst.field and self.src.ofs == self.dst.ofs:
                return self.dst.format()
            return self.dst.format() + "=" + self.src.format()
        if self.kind == "load":
            src = _hex(self.imm) if self.src is None else self.src.format()
            return f"load:{src}->{self.dst.format()}"
        return "output:" + self.src.format()


@dataclass
class Learn(Action):
    table: int = 1
    idle_timeout: int = 0
    hard_timeout: int = 0
    fin_idle_timeout: int = 0
    fin_hard_timeout: int = 0
    priority: int = 0x8000
    cookie: int = 0
    flags: int = 0
    specs: list = dc_field(default_factory=list)
    limit: int = 0
    result_dst: Subfield = None     # with NX_LEARN_F_WRITE_RESULT

    def format(self, port_names=None):
        text = f"learn(table={self.table}"
        if self.idle_timeout:
            text += f",idle_timeout={self.idle_timeout}"
        if self.hard_timeout:
            text += f",hard_timeout={self.hard_timeout}"
        if self.fin_idle_timeout:
            text += f",fin_idle_timeout={self.fin_idle_timeout}"
        if self.fin_hard_timeout:
            text += f",fin_hard_timeout={self.fin_hard_timeout}"
        if self.priority != 0x8000:
            text += f",priority={self.priority}"
        if self.flags & NX_LEARN_F_SEND_FLOW_REM:
            text += ",send_flow_rem"
        if self.flags & NX_LEARN_F_DELETE_LEARNED:
            text += ",delete_learned"
        if self.cookie:
            text += f",cookie={_hex(self.cookie)}"
        if self.limit:
            text += f",limit={self.limit}"
        if self.flags & NX_LEARN_F_WRITE_RESULT and self.result_dst is not None:
            text += ",result_dst=" + self.result_dst.format()
        for spec in self.specs:
            text += "," + spec.format()
        return text + ")"


def _is_subfield_text(text):
    name = text.split("[", 1)[0]
    return F.field_by_name(name) is not None and not text[:1].isdigit()


def _p_learn_spec(key, value, raw):
    if key == "load":
        src_t, arrow, dst_t = value.partition("->")
        if not arrow:
            raise FlowParseError(f"{value}: missing `->'")
        dst = parse_subfield(dst_t)
        if _is_subfield_text(src_t):
            src = parse_subfield(src_t)
            if src.n_bits != dst.n_bits:
                raise FlowParseError(f"{raw}: bit widths of source and "
                                     "destination differ")
            return LearnSpec("load", dst, src, n_bits=dst.n_bits)
        v = parse_int(src_t)
        if v is None:
            raise FlowParseError(f"{src_t}: could not convert to integer")
        if v >> dst.n_bits:
            raise FlowParseError(f"{raw}: value {src_t} does not fit into "
                                 f"{dst.n_bits} bits")
        return LearnSpec("load", dst, None, v, dst.n_bits)
    if key == "output":
        src = parse_subfield(value)
        return LearnSpec("output", None, src, n_bits=src.n_bits)
    # FIELD[...]=VALUE, FIELD[...]=SRC[...], or FIELD[...] alone.
    name_part, eq, rhs = raw.partition("=")
    dst = parse_subfield(name_part)
    if not eq:
        return LearnSpec("match", dst, dst, n_bits=dst.n_bits)
    if _is_subfield_text(rhs):
        src = parse_subfield(rhs)
        if src.n_bits != dst.n_bits:
            raise FlowParseError(f"{raw}: bit widths of source and destination "
                                 "differ")
        return LearnSpec("match", dst, src, n_bits=dst.n_bits)
    whole = "[" not in name_part
    if whole:
        v, m = parse_field_value(dst.field, rhs)
    else:
        v = parse_int(rhs)
        if v is None or v >> dst.n_bits:
            raise FlowParseError(f"{raw}: cannot parse value")
    return LearnSpec("match", dst, None, v, dst.n_bits)


def _p_learn(value, names, depth):
    learn = Learn()
    for key, arg in split_items(value):
        raw = key + ("=" + arg if arg and key not in ("load", "output") else "")
        if key == "table":
            learn.table = _u(arg, "table", 8)
        elif key in ("priority", "idle_timeout", "hard_timeout",
                     "fin_idle_timeout", "fin_hard_timeout"):
            setattr(learn, key, _u(arg, key, 16))
        elif key == "cookie":
            learn.cookie = _u(arg, "cookie", 64)
        elif key == "send_flow_rem":
            learn.flags |= NX_LEARN_F_SEND_FLOW_REM
        elif key == "delete_learned":
            learn.flags |= NX_LEARN_F_DELETE_LEARNED
        elif key == "limit":
            learn.limit = _atoi(arg) & 0xffffffff
        elif key == "result_dst":
            sub = parse_subfield(arg)
            if sub.n_bits != 1:
                raise FlowParseError("result_dst in 'learn' action must be a "
                                     "single bit")
            learn.result_dst = sub
            learn.flags |= NX_LEARN_F_WRITE_RESULT
        elif key in ("load", "output"):
            learn.specs.append(_p_learn_spec(key, arg, f"{key}:{arg}"))
        elif F.field_by_name(key.split("[", 1)[0]) is not None:
            learn.specs.append(_p_learn_spec(None, None,
                                             key + ("=" + arg if arg else "")))
        else:
            raise FlowParseError(f"{key}={arg}: unknown keyword {key}" if arg
                                 else f"{key}: unknown keyword {key}")
    return learn


_PARSERS["learn"] = _p_learn



# --- tunnels, fin_timeout, truncation -----------------------------------------------

@dataclass
class SetTunnel(Action):
    tun_id: int
    raw: str = "set_tunnel"      # or "set_tunnel64"

    def format(self, port_names=None):
        wide = self.raw == "set_tunnel64" or self.tun_id > 0xffffffff
        return ("set_tunnel64:" if wide else "set_tunnel:") + f"0x{self.tun_id:x}"


@dataclass
class FinTimeout(Action):
    idle_timeout: int = 0
    hard_timeout: int = 0

    def format(self, port_names=None):
        parts = []
        if self.idle_timeout:
            parts.append(f"idle_timeout={self.idle_timeout}")
        if self.hard_timeout:
            parts.append(f"hard_timeout={self.hard_timeout}")
        return "fin_timeout(" + ",".join(parts) + ")"


@dataclass
class OutputTrunc(Action):
    port: int
    max_len: int

    def format(self, port_names=None):
        return (f"output(port={port_to_string(self.port, port_names)},"
                f"max_len={self.max_len})")


def _mk_set_tunnel(raw):
    def p(value, names, depth):
        return SetTunnel(_u(value, "tunnel id", 64), raw)
    return p


def _p_fin_timeout(value, names, depth):
    ft = FinTimeout()
    for key, arg in split_items(value):
        if key in ("idle_timeout", "hard_timeout"):
            setattr(ft, key, _u(arg, key, 16))
        else:
            raise FlowParseError(f"invalid key '{key}' in 'fin_timeout' argument")
    return ft


_PARSERS["set_tunnel"] = _mk_set_tunnel("set_tunnel")
_PARSERS["set_tunnel64"] = _mk_set_tunnel("set_tunnel64")
_PARSERS["fin_timeout"] = _p_fin_timeout


# --- MPLS ----------------------------------------------------------------------------

@dataclass
class PushMpls(Action):
    ethertype: int = 0x8847

    def format(self, port_names=None):
        return f"push_mpls:0x{self.ethertype:04x}"


@dataclass
class PopMpls(Action):
    ethertype: int

    def format(self, port_names=None):
        return f"pop_mpls:0x{self.ethertype:04x}"


@dataclass
class SetMplsLabel(Action):
    label: int

    def format(self, port_names=None):
        return f"set_mpls_label({self.label})"


@dataclass
class SetMplsTc(Action):
    tc: int

    def format(self, port_names=None):
        return f"set_mpls_tc({self.tc})"


@dataclass
class SetMplsTtl(Action):
    ttl: int

    def format(self, port_names=None):
        return f"set_mpls_ttl({self.ttl})"


@dataclass
class DecMplsTtl(Action):
    def format(self, port_names=None):
        return "dec_mpls_ttl"


def _p_push_mpls(value, names, depth):
    et = _u(value, "ethertype", 16)
    if et not in (0x8847, 0x8848):
        raise FlowParseError(f"{value}: not a valid MPLS ethertype")
    return PushMpls(et)


_PARSERS["push_mpls"] = _p_push_mpls
_PARSERS["pop_mpls"] = lambda v, n, d: PopMpls(_u(v, "ethertype", 16))
_PARSERS["set_mpls_label"] = lambda v, n, d: SetMplsLabel(_u(v, "MPLS label", 20))
_PARSERS["set_mpls_tc"] = lambda v, n, d: SetMplsTc(_u(v, "MPLS TC", 3))
_PARSERS["set_mpls_ttl"] = lambda v, n, d: SetMplsTtl(_u(v, "MPLS TTL", 8))
_PARSERS["dec_mpls_ttl"] = _mk_fixed(DecMplsTtl)


# --- sample and check_pkt_larger -----------------------------------------

NX_ACTION_SAMPLE_DEFAULT, NX_ACTION_SAMPLE_INGRESS = 0, 1
NX_ACTION_SAMPLE_EGRESS = 2
OFPP_NONE = 0xffff


@dataclass
class Sample(Action):
    probability: int
    collector_set_id: int = 0
    obs_domain_id: int = 0
    obs_point_id: int = 0
    sampling_port: int = OFPP_NONE
    direction: int = NX_ACTION_SAMPLE_DEFAULT

    def format(self, port_names=None):
        text = (f"sample(probability={self.probability},"
                f"collector_set_id={self.collector_set_id},"
                f"obs_domain_id={self.obs_domain_id},"
                f"obs_point_id={self.obs_point_id}")
        if self.sampling_port != OFPP_NONE:
            text += ",sampling_port=" + port_to_string(self.sampling_port,
                                                       port_names)
        if self.direction == NX_ACTION_SAMPLE_INGRESS:
            text += ",ingress"
        elif self.direction == NX_ACTION_SAMPLE_EGRESS:
            text += ",egress"
        return text + ")"


def _p_sample(value, names, depth):
    s = Sample(0)
    for key, arg in split_items(value):
        if key == "probability":
            s.probability = _u(arg, "probability", 16)
            if s.probability == 0:
                raise FlowParseError(f'invalid probability value "{arg}"')
        elif key == "collector_set_id":
            s.collector_set_id = _u(arg, "collector_set_id", 32)
        elif key == "obs_domain_id":
            s.obs_domain_id = _u(arg, "obs_domain_id", 32)
        elif key == "obs_point_id":
            s.obs_point_id = _u(arg, "obs_point_id", 32)
        elif key == "sampling_port":
            port = port_from_string(arg, names)
            if port is None:
                raise FlowParseError(f"{arg}: unknown port")
            s.sampling_port = port
        elif key == "ingress":
            s.direction = NX_ACTION_SAMPLE_INGRESS
        elif key == "egress":
            s.direction = NX_ACTION_SAMPLE_EGRESS
        else:
            raise FlowParseError(f'invalid key "{key}" in "sample" argument')
    if s.probability == 0:
        raise FlowParseError('non-zero "probability" must be specified on '
                             'sample')
    return s


@dataclass
class CheckPktLarger(Action):
    pkt_len: int
    dst: Subfield

    def format(self, port_names=None):
        return f"check_pkt_larger({self.pkt_len})->{self.dst.format()}"


def _p_check_pkt_larger(value, names, depth):
    if not isinstance(value, tuple):
        raise FlowParseError(f"{value}: missing `->'")
    length, dst = value
    n = parse_int(length)
    if n is None or n >> 16:
        raise FlowParseError(f'invalid (null) "{length}"')
    sf = parse_subfield(dst)
    if sf.n_bits != 1:
        raise FlowParseError("Only 1-bit destination field is allowed")
    return CheckPktLarger(n, sf)


_PARSERS["sample"] = _p_sample
_PARSERS["check_pkt_larger"] = _p_check_pkt_larger


# --- verification ------------------------------------------------------------

_INSTRUCTIONS = (GotoTable, WriteMetadata, ClearActions, WriteActions, Meter)
_CT_FIELDS = ("ct_mark", "ct_label")


def _dst_field(a):
    if isinstance(a, SetField):
        return a.field
    if isinstance(a, RegMove):
        return a.dst.field
    return None


def verify_actions(actions, outer=None):
    """OVS's ofpacts_verify(): instructions only at the top level; conntrack
    fields written only inside ct(exec(...)), which writes nothing else."""
    for a in actions:
        dst = _dst_field(a)
        if dst is not None and dst.name in _CT_FIELDS and outer != "ct":
            raise FlowParseError("cannot set CT fields outside of ct action")
        if outer is not None and isinstance(a, Meter):
            raise FlowParseError(f"{outer} action doesn't support nested "
                                 "action meter")
        if outer is not None and isinstance(a, _INSTRUCTIONS):
            raise FlowParseError(f"{ofpact_name(a)} instruction not allowed here")
        if outer == "ct" and not isinstance(a, Nat):
            if dst is None:
                raise FlowParseError("ct action doesn't support nested action "
                                     + ofpact_name(a))
            if dst.name not in _CT_FIELDS:
                raise FlowParseError("ct action doesn't support nested "
                                     f"modification of {dst.name}")
        if isinstance(a, Ct):
            verify_actions(a.actions, "ct")
        elif isinstance(a, WriteActions):
            verify_actions(a.actions, "write_actions")
        elif isinstance(a, Clone):
            verify_actions(a.actions, "clone")


# --- delete_field --------------------------------------------------------------

@dataclass
class DeleteField(Action):
    """delete_field:FIELD -- remove a Geneve option (tun_metadata<i>)."""
    field: F.Field

    def format(self, port_names=None):
        return "delete_field:" + self.field.name


def _p_delete_field(value, names, depth):
    fld = F.field_by_name(value.strip())
    if fld is None:
        raise FlowParseError(f"unknown field `{value}'")
    return DeleteField(fld)


_PARSERS["delete_field"] = _p_delete_field


# --- encap and decap (packet type changes; NSH) -----------------------------

PT_ETH = 0x00000000
PT_NSH = 0x0001894f
PT_MPLS = 0x00018847
PT_MPLS_MC = 0x00018848
PT_USE_NEXT_PROTO = 0x0000fffe      # decap(): the next protocol decides
ENCAP_HEADERS = {"ethernet": PT_ETH, "nsh": PT_NSH, "mpls": PT_MPLS,
                 "mpls_mc": PT_MPLS_MC}
ENCAP_NAMES = {v: k for k, v in ENCAP_HEADERS.items()}
OFPHTN_N_TYPES = 5
# Encap properties: class OFPPPC_NSH, types md_type and tlv.
OFPPPC_NSH = 4
NSH_PROP_MDTYPE, NSH_PROP_TLV = 1, 2
_TLV_SYNTAX = re.compile(r"0x\s*([0-9a-fA-F]+),\s*(\d+),0x([0-9a-fA-F]{1,251})")


@dataclass
class NshTlv:
    """One NSH MD type 2 metadata TLV of encap(nsh(...,tlv(C,T,V)))."""
    tlv_class: int
    tlv_type: int
    value: bytes

    def format(self):
        return f"tlv(0x{self.tlv_class:04x},{self.tlv_type},0x{self.value.hex()})"


@dataclass
class Encap(Action):
    """encap(HEADER[(PROPS)]): push a header of packet type NEW_PKT_TYPE.
    PROPS: the NSH properties in order, "md_type" as an int, TLVs as NshTlv."""
    new_pkt_type: int
    props: list = dc_field(default_factory=list)

    @property
    def md_type(self):
        """The NSH MD type the properties ask for (1 when none does)."""
        types = [p for p in self.props if isinstance(p, int)]
        return types[-1] if types else 1

    @property
    def tlvs(self):
        return [p for p in self.props if isinstance(p, NshTlv)]

    def format(self, port_names=None):
        text = "encap(" + ENCAP_NAMES.get(self.new_pkt_type, "UNKNOWN")
        if self.props:
            text += "(" + ",".join(p.format() if isinstance(p, NshTlv)
                                   else f"md_type={p}" for p in self.props) + ")"
        return text + ")"


@dataclass
class Decap(Action):
    """decap([packet_type(ns=NS,type=TYPE)]): pop the outermost header."""
    new_pkt_type: int = PT_USE_NEXT_PROTO

    def format(self, port_names=None):
        if self.new_pkt_type == PT_USE_NEXT_PROTO:
            return "decap()"
        ns, ns_type = self.new_pkt_type >> 16, self.new_pkt_type & 0xffff
        return f"decap(packet_type(ns={ns},type={_hex(ns_type)}))"


def _p_encap(value, names, depth):
    items = split_items(value)
    if not items:
        raise FlowParseError(f"Missing encap hdr: {value}")
    hdr, props_text = items[0]
    if hdr not in ENCAP_HEADERS:
        raise FlowParseError(f"Encap hdr not supported: {props_text}")
    encap = Encap(ENCAP_HEADERS[hdr])
    for key, arg in split_items(props_text):
        if hdr != "nsh" or key not in ("md_type", "tlv"):
            raise FlowParseError(f"Invalid property: {key}")
        if not arg:
            raise FlowParseError("Value missing for encap property")
        if key == "md_type":
            md_type = _u(arg, "md_type", 8)
            if md_type not in (1, 2):
                raise FlowParseError("invalid md_type")
            encap.props.append(md_type)
        else:
            m = _TLV_SYNTAX.match(arg)
            if m is None:
                raise FlowParseError(f"Invalid NSH TLV header: {arg}")
            digits = m.group(3)
            encap.props.append(NshTlv(
                int(m.group(1), 16) & 0xffff, int(m.group(2)) & 0xff,
                bytes.fromhex(digits[:len(digits) // 2 * 2])))
    return encap


def _p_decap(value, names, depth):
    items = split_items(value)
    if not items:
        return Decap()
    key, arg = items[0]
    if key != "packet_type":
        raise FlowParseError(f"Invalid decap argument: {key}")
    attrs = split_items(arg)
    if not attrs or attrs[0][0] != "ns":
        raise FlowParseError("Missing packet_type attribute ns")
    ns = _u(attrs[0][1], "ns", 16)
    if ns >= OFPHTN_N_TYPES:
        raise FlowParseError(f"Unsupported ns value: {ns}")
    if len(attrs) < 2 or attrs[1][0] != "type":
        raise FlowParseError("Missing packet_type attribute type")
    return Decap(ns << 16 | _u(attrs[1][1], "type", 16))


_PARSERS["encap"] = _p_encap
_PARSERS["decap"] = _p_decap
