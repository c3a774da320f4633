"""The ovs-ofctl flow syntax: flow_mods and flow stats as text.

parse_flow_mod() reads what add-flow, mod-flows and del-flows take (ovs-ofctl(8)
"Flow Syntax"): match fields and shorthands, priority, cookie, table,
timeouts, flags and ``actions=``.  It also reports which protocols can carry
the result, as ovs-ofctl's "usable protocols" line.  format_flow_mod() and
format_flow_stats() print as ofp-print and dump-flows do.

Public API:
  FlowMod (dataclass): command, match, priority, cookie, cookie_mask,
    new_cookie, table_id, idle_timeout, hard_timeout, importance, buffer_id,
    out_port, out_group, flags, actions.
  FlowStats (dataclass): table_id, duration_sec, duration_nsec, priority,
    idle_timeout, hard_timeout, flags, importance, cookie, packet_count,
    byte_count, idle_age, hard_age, match, actions.
  parse_flow_mod(text, command, port_names=None) -> (FlowMod, usable)
  format_flow_mod_body(fm, version) -> text after "(xid=0x..):"
  format_flow_stats(fs, show_stats=True, port_names=None) -> one line
  flow_mod_flags_text(flags) ; OFPFC_* ; FF_* flags.
"""

from dataclasses import dataclass, field as dc_field

from . import fields as F
from . import protocols as P
from .actions import (parse_actions, format_actions, split_items, SetField,
                      WriteMetadata, StripVlan, Meter, PushVlan, ClearActions,
                      WriteActions, GotoTable, RegMove, OutputReg, SetIPv4,
                      SetIPDscp, SetIPEcn, SetIPTtl, DecTtl, SetL4Port,
                      Resubmit, Clone, Ct, Learn, FinTimeout, PushMpls, PopMpls,
                      SetMplsLabel, SetMplsTc, SetMplsTtl, DecMplsTtl,
                      SetVlanVid, SetVlanPcp, DeleteField, Encap, Decap)
from .errors import FlowParseError
from .match import Match, parse_field_value, parse_int, OFP_DEFAULT_PRIORITY
from .ports import port_from_string, port_to_string, OFPP_ANY

OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT = 0, 1, 2
OFPFC_DELETE, OFPFC_DELETE_STRICT = 3, 4
COMMAND_NAMES = {0: "ADD", 1: "MOD", 2: "MOD_STRICT", 3: "DEL", 4: "DEL_STRICT"}

# OVS's ofputil_flow_mod_flags, in the order it prints them.
FF_SEND_FLOW_REM = 1 << 0
FF_RESET_COUNTS = 1 << 1
FF_CHECK_OVERLAP = 1 << 2
FF_NO_PKT_COUNTS = 1 << 3
FF_NO_BYT_COUNTS = 1 << 4
FF_HIDDEN_FIELDS = 1 << 5
FF_NO_READONLY = 1 << 6
FLAG_NAMES = ((FF_SEND_FLOW_REM, "send_flow_rem"),
              (FF_CHECK_OVERLAP, "check_overlap"),
              (FF_RESET_COUNTS, "reset_counts"),
              (FF_NO_PKT_COUNTS, "no_packet_counts"),
              (FF_NO_BYT_COUNTS, "no_byte_counts"))
OFPG_ANY = 0xffffffff
MAX_FLOW_TEXT = 256 * 1024


@dataclass
class FlowMod:
    command: int = OFPFC_ADD
    match: Match = dc_field(default_factory=Match)
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    cookie_mask: int = 0
    new_cookie: int = 0
    table_id: int = 0xff
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    buffer_id: int = 0xffffffff
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    flags: int = 0
    actions: list = dc_field(default_factory=list)


@dataclass
class FlowStats:
    table_id: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    idle_timeout: int = 0
    hard_timeout: int = 0
    flags: int = 0
    importance: int = 0
    cookie: int = 0
    packet_count: int = 0
    byte_count: int = 0
    idle_age: int = -1
    hard_age: int = -1
    match: Match = dc_field(default_factory=Match)
    actions: list = dc_field(default_factory=list)


def _u(text, what, bits):
    v = parse_int(text)
    if v is None or v >> bits:
        raise FlowParseError(f'invalid {what} "{text}"')
    return v


def _extract_actions(text):
    """Split TEXT at "actions=": (match part, actions part or None)."""
    idx = text.find("action")
    while idx != -1:
        j = idx + len("action")
        if text[j:j + 1] == "s":
            j += 1
        k = j
        while k < len(text) and text[k] in " \t":
            k += 1
        if text[k:k + 1] in ("=", ":"):
            return text[:idx], text[k + 1:]
        idx = text.find("action", idx + 1)
    return text, None


def parse_flow_mod(text, command=OFPFC_ADD, port_names=None, stats=False):
    """Parse a flow in ovs-ofctl syntax for COMMAND; -> (FlowMod, usable).
    STATS: the flow selects flows for dump-flows/dump-aggregate."""
    if len(text) > MAX_FLOW_TEXT:
        raise FlowParseError("flow too long")
    fm = FlowMod(command=command)
    usable = P.ANY
    want_actions = command in (OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT)
    if want_actions:
        match_text, act_text = _extract_actions(text)
        if act_text is None:
            raise FlowParseError("must specify an action")
    else:
        match_text, act_text = text, None
    allowed = _COMMAND_FIELDS[command]
    table_given = False
    for key, value in split_items(match_text):
        if key in _FIELD_KEYS and _FIELD_KEYS[key] not in allowed:
            if key in _FLAG_KEYS:
                raise FlowParseError(f"field {key} missing value")
            raise FlowParseError(f"unknown keyword {key}")
        if key in F.SHORTHANDS:
            dl_type, proto = F.SHORTHANDS[key]
            fm.match.set_storage("dl_type", dl_type)
            if proto is not None:
                fm.match.set_storage("nw_proto", proto)
            continue
        if key == "table":
            if value == "all":
                fm.table_id = 0xff
            else:
                t = parse_int(value)
                if t is None or t > 255:
                    raise FlowParseError(f'unknown table "{value}"')
                fm.table_id = t
            table_given = True
        elif key == "priority":
            fm.priority = _u(value, "priority", 16)
        elif key == "idle_timeout":
            fm.idle_timeout = _u(value, "idle_timeout", 16)
        elif key == "hard_timeout":
            fm.hard_timeout = _u(value, "hard_timeout", 16)
        elif key == "importance":
            fm.importance = _u(value, "importance", 16)
        elif key == "cookie":
            ctext, sep, mtext = value.partition("/")
            fm.cookie = _u(ctext, "cookie", 64)
            if sep:
                if command == OFPFC_ADD:
                    raise FlowParseError("flow additions cannot use a cookie mask")
                fm.cookie_mask = _u(mtext, "cookie mask", 64)
                usable &= P.NXM_OF11_UP
                if command in (OFPFC_MODIFY, OFPFC_MODIFY_STRICT):
                    fm.new_cookie = (1 << 64) - 1    # keep the cookies
            elif command in (OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT):
                fm.new_cookie = fm.cookie
            else:
                raise FlowParseError("cannot set cookie (to match on a cookie, "
                                     "specify a mask, e.g. cookie=0x1/-1)")
        elif key == "out_port":
            port = port_from_string(value, port_names)
            if port is None:
                raise FlowParseError(f"{value}: invalid or unknown port for out_port")
            fm.out_port = port
        elif key == "out_group":
            fm.out_group = _u(value, "out_group", 32)
        elif key in ("send_flow_rem", "check_overlap", "reset_counts",
                     "no_packet_counts", "no_byte_counts"):
            fm.flags |= dict((n, b) for b, n in FLAG_NAMES)[key]
            if key == "reset_counts":
                usable &= P.ANY_OXM
            elif key in ("no_packet_counts", "no_byte_counts"):
                usable &= P.OF13_OXM | P.OF14_OXM | P.OF15_OXM
        elif key in ("duration", "n_packets", "n_bytes", "idle_age",
                     "hard_age"):
            pass   # dump-flows output fed back in
        else:
            fld = F.field_by_name(key)
            if fld is None:
                if not value:
                    raise FlowParseError(f"field {key} missing value")
                raise FlowParseError(f"unknown keyword {key}")
            if not value:
                continue
            v, m = parse_field_value(fld, value, port_names)
            if fld.variable and fm.match.is_set(fld.storage):
                raise FlowParseError(f"field {fld.name} set multiple times")
            fm.match.set_field(fld, v, m)
            if fld.usable == "of11":
                # As OVS's mf_set(): the field as written, not just the
                # match it makes (in_port_oxm=1 is in_port=1, but OF1.1+).
                usable &= P.NXM_OF11_UP
    if table_given and fm.table_id != 0xff and not stats:
        usable &= P.TID
    usable &= fm.match.usable_protocols()
    if act_text is not None:
        fm.actions = parse_actions(act_text, port_names)
        usable &= parse_usable(fm.actions)
        usable &= check_actions(fm.actions, fm.match, fm.table_id)
        if not usable:
            raise FlowParseError(_INCONSISTENT)
        check_instruction_order(fm.actions)
    return fm, usable


# Which keywords each command takes (OVS's F_* sets); others are unknown.
_FIELD_KEYS = {"priority": "priority", "idle_timeout": "timeout",
               "hard_timeout": "timeout", "importance": "importance",
               "out_port": "out_port", "out_group": "out_port",
               "send_flow_rem": "flags", "check_overlap": "flags",
               "reset_counts": "flags", "no_packet_counts": "flags",
               "no_byte_counts": "flags"}
_FLAG_KEYS = {"send_flow_rem", "check_overlap", "reset_counts",
              "no_packet_counts", "no_byte_counts"}
_COMMAND_FIELDS = {
    OFPFC_ADD: {"priority", "timeout", "flags", "importance"},
    OFPFC_MODIFY: {"priority", "timeout", "flags"},
    OFPFC_MODIFY_STRICT: {"priority", "timeout", "flags"},
    OFPFC_DELETE: {"out_port"},
    OFPFC_DELETE_STRICT: {"out_port", "priority"},
}

_INSTRUCTION_ORDER = ("meter", "apply_actions", "clear_actions",
                      "write_actions", "write_metadata", "goto_table")


def instruction_of(action):
    if isinstance(action, Meter):
        return "meter"
    if isinstance(action, ClearActions):
        return "clear_actions"
    if isinstance(action, WriteActions):
        return "write_actions"
    if isinstance(action, WriteMetadata):
        return "write_metadata"
    if isinstance(action, GotoTable):
        return "goto_table"
    return "apply_actions"


def check_instruction_order(actions):
    last = -1
    last_name = None
    for a in actions:
        name = instruction_of(a)
        idx = _INSTRUCTION_ORDER.index(name)
        if idx < last:
            raise FlowParseError(f"invalid instruction ordering: {name} must "
                                 f"appear before {last_name}, for OpenFlow "
                                 f"1.1+ compatibility")
        if idx == last and name != "apply_actions":
            raise FlowParseError(f"duplicate {name} instruction not allowed, "
                                 f"for OpenFlow 1.1+ compatibility")
        last, last_name = idx, name


_INCONSISTENT = ("actions are invalid with specified match "
                 "(OFPBAC_MATCH_INCONSISTENT)")
_OF10_ANY = P.OF10_STD_ANY | P.OF10_NXM_ANY


def parse_usable(actions):
    """Protocols the action syntax itself restricts to, as OVS's action
    parsers record them.  As in OVS, parsing a clone's nested actions starts
    afresh, dropping what earlier actions recorded."""
    usable = P.ANY
    for a in actions:
        if isinstance(a, SetField) and a.raw == "set_field":
            if a.field.usable == "nxm":
                usable &= P.NXM_OXM_ANY
            elif a.field.usable == "of11":
                usable &= P.NXM_OF11_UP
        elif isinstance(a, WriteMetadata):
            usable &= P.NXM_OF11_UP
        elif isinstance(a, Meter):
            usable &= P.OF13_OXM | P.OF14_OXM | P.OF15_OXM
        elif isinstance(a, PushVlan):
            usable &= P.OF11_STD | P.ANY_OXM
        elif isinstance(a, Encap):
            usable &= P.OF13_OXM | P.OF14_OXM | P.OF15_OXM
        elif isinstance(a, Clone):
            usable = parse_usable(a.actions)
        elif isinstance(a, Ct):
            usable &= parse_usable(a.actions)
        elif isinstance(a, WriteActions):
            usable &= parse_usable(a.actions)
    return usable


_BAD_TAG = "actions are invalid with specified match (OFPBAC_BAD_TAG)"
_BAD_TABLE_ID = ("actions are invalid with specified match "
                 "(OFPBIC_BAD_TABLE_ID)")
VLAN_CFI = 0x1000


class _CheckFlow:
    """The flow as OVS's ofpacts_check() sees it while it walks the actions:
    the match, changed by the actions that push and pop headers (two VLAN
    headers at most, as OVS's FLOW_MAX_VLAN_HEADERS)."""

    def __init__(self, match, table_id=0xff):
        self.m = match
        self.table_id = table_id
        self.outer_vlan = False     # a second VLAN header under the first

    def has_vlan(self):
        return bool(self.m.mask("vlan_tci") & VLAN_CFI
                    and self.m.value("vlan_tci") & VLAN_CFI)

    def mark_vlan(self, present):
        tci = self.m.value("vlan_tci") & ~VLAN_CFI
        self.m.set_storage("vlan_tci", tci | (VLAN_CFI if present else 0),
                           self.m.mask("vlan_tci") | VLAN_CFI)

    def push_vlan(self):
        if self.outer_vlan:
            raise FlowParseError(_BAD_TAG)
        self.outer_vlan = self.has_vlan()
        self.mark_vlan(True)

    def pop_vlan(self):
        self.mark_vlan(self.outer_vlan)
        self.outer_vlan = False

    def save(self):
        m = self.m
        return (m.get("dl_type"), m.get("vlan_tci"), m.get("nw_proto"),
                m.get("packet_type"), self.outer_vlan)

    def restore(self, saved):
        for name, value in zip(("dl_type", "vlan_tci", "nw_proto",
                                "packet_type"), saved):
            self.m.clear(name)
            if value[1]:
                self.m.set_storage(name, value[0], value[1])
        self.outer_vlan = saved[4]

    def encap(self, new_pkt_type):
        """The packet type after encap: an Ethertype type is the dl_type."""
        self.m.set_storage("packet_type", new_pkt_type)
        if new_pkt_type >> 16 == 1:
            self.m.set_storage("dl_type", new_pkt_type & 0xffff)

    def decap(self):
        """After decap an Ethernet packet is its payload's Ethertype; of
        any other the type is known only at run time."""
        if self.m.value("packet_type") == 0:
            self.m.set_storage("packet_type", 1 << 16 | self.m.value("dl_type"))
        else:
            self.m.set_storage("packet_type", 0xfffffffe)
            self.m.set_storage("dl_type", 0xffff)


def check_actions(actions, match, table_id=0xff):
    """OVS's ofpacts_check(): the protocols that can carry ACTIONS with
    MATCH.  Actions whose prerequisites the match does not meet are only
    tolerated by OpenFlow 1.0; some are errors everywhere.  Records on VLAN
    actions whether the flow has a VLAN header where they run."""
    m = match.copy()
    m.normalize()
    return _check(actions, _CheckFlow(m, table_id))


def _check(actions, flow):
    usable = P.ANY
    m = flow.m
    saved = flow.save()
    for a in actions:
        # Actions can change the packet type (push/pop MPLS): look again.
        dl = m.value("dl_type") if m.mask("dl_type") == 0xffff else None
        proto = m.value("nw_proto") if m.mask("nw_proto") == 0xff else None
        ip_any = dl in (F.ETH_TYPE_IP, F.ETH_TYPE_IPV6)
        mpls = dl in (F.ETH_TYPE_MPLS, F.ETH_TYPE_MPLS_MCAST)
        if isinstance(a, PushMpls):
            m.set_storage("dl_type", a.ethertype)
        elif isinstance(a, PopMpls):
            if not mpls:
                usable &= _OF10_ANY
            m.set_storage("dl_type", a.ethertype)
        elif isinstance(a, (SetMplsLabel, SetMplsTc, SetMplsTtl, DecMplsTtl)):
            if not mpls:
                usable &= _OF10_ANY
        elif isinstance(a, (SetVlanVid, SetVlanPcp)):
            a.flow_has_vlan = flow.has_vlan()
            if not a.flow_has_vlan and not a.push:
                usable &= _OF10_ANY
            flow.mark_vlan(True)
        elif isinstance(a, PushVlan):
            flow.push_vlan()
        elif isinstance(a, Encap):
            flow.encap(a.new_pkt_type)
        elif isinstance(a, Decap):
            flow.decap()
        elif isinstance(a, StripVlan):
            if not flow.has_vlan():
                usable &= _OF10_ANY
            flow.pop_vlan()
        elif isinstance(a, SetField):
            if not m.prereqs_ok(a.field) or (a.field.name == "vlan_vid"
                                             and not flow.has_vlan()):
                raise FlowParseError(_INCONSISTENT)
            if a.field.name == "vlan_tci":
                flow.mark_vlan(bool(a.value & VLAN_CFI))
        elif isinstance(a, RegMove):
            if not m.prereqs_ok(a.src.field) or not m.prereqs_ok(a.dst.field):
                raise FlowParseError(_INCONSISTENT)
        elif isinstance(a, OutputReg):
            if not m.prereqs_ok(a.src.field):
                raise FlowParseError(_INCONSISTENT)
        elif isinstance(a, SetIPv4):
            if dl != F.ETH_TYPE_IP:
                usable &= _OF10_ANY
        elif isinstance(a, (SetIPDscp, SetIPEcn, SetIPTtl, DecTtl)):
            if not ip_any:
                usable &= _OF10_ANY
        elif isinstance(a, SetL4Port):
            if not ip_any or proto not in (F.IPPROTO_TCP, F.IPPROTO_UDP,
                                           F.IPPROTO_SCTP):
                usable &= _OF10_ANY
        elif isinstance(a, DeleteField):
            if not a.field.variable:
                raise FlowParseError("actions are invalid with specified match "
                                     "(OFPBAC_BAD_ARGUMENT)")
        elif isinstance(a, GotoTable):
            if flow.table_id != 0xff and a.table <= flow.table_id:
                raise FlowParseError(_BAD_TABLE_ID)
        elif isinstance(a, Resubmit):
            if a.with_ct and not m.value("ct_state") & 0x20:
                raise FlowParseError(_INCONSISTENT)
        elif isinstance(a, Learn):
            _check_learn(a, m)
        elif isinstance(a, FinTimeout):
            if not ip_any or proto != F.IPPROTO_TCP:
                usable &= _OF10_ANY
        elif isinstance(a, Ct):
            if not ip_any:
                raise FlowParseError(_INCONSISTENT)
            if a.alg and proto not in (F.IPPROTO_TCP, F.IPPROTO_UDP):
                raise FlowParseError(_INCONSISTENT)
            usable &= _check(a.actions, flow)
        elif isinstance(a, (WriteActions, Clone)):
            usable &= _check(a.actions, flow)
    flow.restore(saved)
    return usable


def _check_learn(learn, match):
    """The learned flow's match must meet its own prerequisites, in spec
    order; sources must exist in the flow that learns (OVS's learn_check)."""
    learned = Match()
    for spec in learn.specs:
        if spec.src is not None and not match.prereqs_ok(spec.src.field):
            raise FlowParseError(_INCONSISTENT)
        if spec.kind != "match":
            continue
        d = spec.dst
        if not learned.prereqs_ok(d.field):
            raise FlowParseError(_INCONSISTENT)
        value = spec.imm if spec.src is None else 0
        if d.ofs == 0 and d.n_bits == d.field.n_bits:
            learned.set_field(d.field, value)
        else:
            mask = ((1 << d.n_bits) - 1) << d.ofs
            learned.set_field(d.field, value << d.ofs, mask)


# --- printing ----------------------------------------------------------------

def flow_mod_flags_text(flags):
    return "".join(name + " " for bit, name in FLAG_NAMES if flags & bit)


def format_flow_mod_body(fm, version, port_names=None):
    """The text ofp-print puts after "OFPT_FLOW_MOD (xid=0x1):"."""
    s = " " + COMMAND_NAMES.get(fm.command, f"cmd:{fm.command}")
    if fm.table_id != 0:
        s += f" table:{fm.table_id}"
    s += " "
    s += fm.match.format(fm.priority, port_names)
    if not s.endswith(" "):
        s += " "
    if fm.new_cookie not in (0, (1 << 64) - 1):
        s += f"cookie:0x{fm.new_cookie:x} "
    if fm.cookie_mask:
        s += f"cookie:0x{fm.cookie:x}/0x{fm.cookie_mask:x} "
    if fm.idle_timeout:
        s += f"idle:{fm.idle_timeout} "
    if fm.hard_timeout:
        s += f"hard:{fm.hard_timeout} "
    if fm.importance:
        s += f"importance:{fm.importance} "
    if fm.buffer_id != 0xffffffff:
        s += f"buf:0x{fm.buffer_id:x} "
    if fm.out_port != OFPP_ANY:
        s += "out_port:" + port_to_string(fm.out_port, port_names) + " "
    flags = fm.flags
    if version in (0x01, 0x02):
        flags &= ~FF_RESET_COUNTS
    s += flow_mod_flags_text(flags)
    s += "actions=" + format_actions(fm.actions, port_names)
    return s


def format_duration(sec, nsec):
    text = str(sec)
    if nsec > 0:
        msec = nsec // 1000000
        if msec * 1000000 == nsec:
            text += f".{msec:03d}"
        else:
            text += f".{nsec:09d}".rstrip("0")
    return text + "s"


def format_flow_stats(fs, show_stats=True, port_names=None):
    """One flow of dump-flows, as OVS's ofputil_flow_stats_format()."""
    s = " "
    if show_stats or fs.cookie:
        s += f"cookie=0x{fs.cookie:x}, "
    if show_stats:
        s += "duration=" + format_duration(fs.duration_sec, fs.duration_nsec) + ", "
    if show_stats or fs.table_id:
        s += f"table={fs.table_id}, "
    if show_stats:
        s += f"n_packets={fs.packet_count}, n_bytes={fs.byte_count}, "
    if fs.idle_timeout:
        s += f"idle_timeout={fs.idle_timeout}, "
    if fs.hard_timeout:
        s += f"hard_timeout={fs.hard_timeout}, "
    if fs.flags:
        s += flow_mod_flags_text(fs.flags)
    if fs.importance:
        s += f"importance={fs.importance}, "
    if show_stats and fs.idle_age >= 0:
        s += f"idle_age={fs.idle_age}, "
    if show_stats and fs.hard_age >= 0 and fs.hard_age != fs.duration_sec:
        s += f"hard_age={fs.hard_age}, "
    m = fs.match.format(fs.priority, port_names)
    if m:
        s += m + " "
    s += "actions=" + format_actions(fs.actions, port_names)
    return s
