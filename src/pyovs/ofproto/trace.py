"""ofproto/trace: one flow through a bridge, told step by step as OVS tells it.

The walk is translation's own (xlate.xlate(..., trace=nodes)): while it
runs, translation appends *trace nodes* -- ``(kind, text, subs)`` tuples --
to the list it is told to, as OVS's ofproto-dpif-xlate does with its
oftrace_node tree.  Kinds: "bridge" (the bridge header), "table" (a lookup:
``" 0. in_port=1, priority 32768, cookie 0x5"`` or ``" 5. No match."``, and
``"--. Executing action set:"``), "action" (an action as executed, in
ovs-ofctl's syntax), "detail" (``" -> ..."``), "warn" (``" >> ..."``) and
"error" (``" >>>> ... <<<<"``).  A table's actions and whatever they look up
are its subs; a resubmit's table is a node among the resubmitting table's
actions.

Printing follows OVS's oftrace_node_print_details(): a "bridge" node
(the first, or one a patch port or a native tunnel leads to) follows a
blank line unless it is the first; a node at nesting
LEVEL is indented by (LEVEL + more) * 4 spaces, where *more* is 1 for
terminal nodes (actions, details, warnings, errors) and for any node that
is not the last of its list; its subs print at LEVEL + 2 * more.  So a
resubmit in the middle of a list nests its table (and that table's actions
by eight more spaces), and a lookup that ends a list stays at its level.

Around the tree: the "Flow:" header (the flow as OVS's flow_format()
prints it), then "Final flow:" ("unchanged" when the walk changed
nothing, actset_output included), "Megaflow:" (the datapath flow's match)
and "Datapath actions:", and after a failed translation "Translation
failed (<xlate_strerror text>), packet is dropped."

The one thing that is not OVS's: the order in which FLOOD, ALL and NORMAL
flooding visit the ports (OVS's hash-map and bundle-list order; pyovs's is
the bridge's port order).

A standalone bridge's miss (XBridge miss="normal") is told as the
"priority=0 actions=NORMAL" flow OVS installs for it.

With a packet (``-generate``/``--generate``: one composed from the flow,
as OVS's flow_compose(); or hex packet data after the flow, whose headers
then replace the flow's, the flow giving only the packet's metadata) the
walk has its side effects, as OVS's trace with a packet: MAC learning and
learn() flows.  Nothing is output.  (--l7 and --l7-len shape the composed
packet; --ct-next is not supported: pyovs has no connection tracker.)

Not told (yet) as OVS tells it: a miss that goes to a controller and the
"slow path" note after the datapath actions.

Public API:
  format_flow(flow) -> the "Flow:" text of a flow dict.
  format_megaflow(flow, wc) -> the "Megaflow:" text.
  format_nodes(nodes) -> the tree's lines.
  trace(bridge, flow, packet=None) -> the whole ofproto/trace text of
    FLOW (a flow dict) through BRIDGE (xlate.XBridge); nothing is learned
    or sent unless PACKET (bytes) is given (then MACs are learned into
    bridge.ml and learn() flows go to bridge.learn).
  parse_args(args) -> (error|None, positional args, TraceOptions): the
    options and "-generate" / packet hex taken out of ARGS.
  packet_flow(packet_hex, flow) -> (error|None, flow, packet): the hex
    packet form: headers from the packet, metadata from FLOW.
  trace_command(bridges, args, changed=None) -> (error_text|None,
    text|None): the ofproto/trace unixctl command over BRIDGES (dict name
    -> XBridge) with ARGS as ovs-appctl passes them ("BRIDGE FLOW" in
    ovs-ofctl's flow syntax, port names allowed, options, -generate or
    packet hex), ready for UnixctlServer.register("ofproto/trace", ...):
    the daemon's handler replies with the text or the error.  CHANGED()
    is called after a trace that had side effects.
"""

import re
import time

from ..openflow import fields as F
from ..openflow.match import Match
from ..openflow.packet_print import _packet_fields
from .xlate import xlate, megaflow_match, apply_side_effects

TERMINAL = frozenset(["action", "detail", "warn", "error"])
_PREFIX = {"detail": " -> ", "warn": " >> "}

# flow_format(): pipeline metadata shows when set.
_METADATA = (["pkt_mark", "metadata"] + [f"reg{i}" for i in range(16)])
_EXACT_MASKS = {"nw_frag": 3, "tcp_flags": 0x0fff, "ipv6_label": 0xfffff}


_TUN_NAMES = ((1, "oam"), (2, "df"), (4, "csum"), (8, "key"))


def _ip4(v):
    return "%d.%d.%d.%d" % (v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255)


def _tunnel_flow(flow):
    """A tunnel packet's metadata as flow_format() prints it, or []."""
    g = flow.get
    if not (g("tun_dst", 0) or g("tun_ipv6_dst", 0)):
        return ["tun_id=%#x" % g("tun_id")] if g("tun_id", 0) else []
    import ipaddress
    out = ["tun_id=%#x" % g("tun_id")] if g("tun_id", 0) else []
    flags = g("tun_flags", 0)
    out += ["tun_src=" + _ip4(g("tun_src", 0)), "tun_dst=" + _ip4(g("tun_dst", 0)),
            "tun_ipv6_src=%s" % ipaddress.IPv6Address(g("tun_ipv6_src", 0)),
            "tun_ipv6_dst=%s" % ipaddress.IPv6Address(g("tun_ipv6_dst", 0)),
            "tun_gbp_id=%d" % g("tun_gbp_id", 0),
            "tun_gbp_flags=%s" % ("%#x" % g("tun_gbp_flags") if g("tun_gbp_flags", 0) else "0"),
            "tun_tos=%d" % g("tun_tos", 0), "tun_ttl=%d" % g("tun_ttl", 0),
            "tun_erspan_ver=0", "gtpu_flags=0", "gtpu_msgtype=0",
            "tun_flags=" + ("|".join(n for b, n in _TUN_NAMES if flags & b) or "0")]
    out += ["tun_metadata%d=%s" % (i, "%#x" % g(m) if g(m) else "0")
            for i, m in ((i, "tun_metadata%d" % i) for i in range(64)) if m in flow]
    return out


def _with_tunnel(text, tunnel):
    """Put TUNNEL's items after the protocol name that starts TEXT."""
    if not tunnel:
        return text
    items = text.split(",")
    proto = [i for i, x in enumerate(items) if x and "=" not in x]
    inp = [i for i, x in enumerate(items) if x.startswith("in_port=")]
    at = proto[0] + 1 if proto else (inp[0] if inp else 0)
    return ",".join(items[:at] + tunnel + items[at:])


def format_flow(flow):
    """FLOW as OVS's flow_format() prints it (the trace's "Flow:" line)."""
    m = Match()
    for name in _METADATA:
        if flow.get(name, 0) and name in F.STORAGE:
            m.set_storage(name, flow[name])
    m.set_storage("in_port", flow.get("in_port", 0))
    names = _packet_fields(flow)
    if flow.get("packet_type", 0):
        # Not Ethernet: the packet type says what dl_type would (OVS's
        # flow_wildcards_init_for_packet()).
        m.set_storage("packet_type", flow["packet_type"])
        names = [n for n in names if n not in ("dl_src", "dl_dst", "dl_type", "vlan_tci")]
    for name in names:
        if name in F.STORAGE:
            m.set_storage(name, flow.get(name, 0), _EXACT_MASKS.get(name))
    text = m.format()
    if flow.get("skb_priority", 0):
        # Not an OpenFlow field: after pkt_mark, before the rest.
        parts = text.split(",")
        at = 1 if parts[0].startswith("pkt_mark=") else 0
        parts.insert(at, "skb_priority=%#x" % flow["skb_priority"])
        text = ",".join(parts)
    if flow.get("vlan_tci", 0):
        # The second VLAN header (OVS's vlan_tci1) follows any nonzero
        # first one (a CFI-less vlan_tci=5 too).
        parts = text.split(",")
        at = max(i for i, p in enumerate(parts)
                 if p.startswith(("dl_vlan=", "dl_vlan_pcp=", "vlan_tci=")))
        parts.insert(at + 1, "vlan_tci1=0x%04x" % flow.get("vlan_tci2", 0))
        text = ",".join(parts)
    return _with_tunnel(text, _tunnel_flow(flow))


def format_megaflow(flow, wc):
    """The "Megaflow:" text: OVS's match_format() of the datapath flow."""
    # tun_flags is written below, with OVS's datapath flag names, whether
    # or not the OpenFlow match printed it.
    items = [i for i in megaflow_match(flow, wc).format().split(",")
             if not i.startswith("tun_flags=")]
    # The packet's metadata comes before recirc_id and the packet type.
    meta = [i for i in items if i.startswith("pkt_mark=")]
    rest = [i for i in items if i and i not in meta]
    # A Geneve option the packet lacks: matched as not present.
    rest = [i.split("=")[0] + "=NP" if i.startswith("tun_metadata")
            and i.split("=")[0] not in flow else i for i in rest]
    # ICMP type and code are 8 bits in a 16-bit member: OVS writes them
    # masked (value/0xff).
    rest = [re.sub(r"^(icmp_type|icmp_code)=(\d+)$",
                   lambda m: "%s=%#x/0xff" % (m.group(1), int(m.group(2))), i)
            for i in rest]
    # Tunnel bits the OpenFlow match has no field for (tun_tos, tun_ttl,
    # the df/csum/key flags) follow the tunnel fields it printed.
    extra = []
    for m, name in (("tun_tos", "tun_tos"), ("tun_ttl", "tun_ttl")):
        if wc.get(m):
            extra.append("%s=%d" % (name, flow.get(m, 0) & wc[m]))
    if wc.get("tun_flags"):
        from ..odp.tunnel import _flags_masked
        extra.append("tun_flags=" + _flags_masked(flow.get("tun_flags", 0), wc["tun_flags"]))
    if extra:
        # (after the tunnel header fields; tun_metadata<i> come last, as in OVS)
        last = max([i for i, x in enumerate(rest) if x.startswith("tun_")
                    and not x.startswith("tun_metadata")], default=-1)
        rest = rest[:last + 1] + extra + rest[last + 1:]
    # ("eth" stands for the default packet type)
    eth = [] if any(i.startswith("packet_type=") for i in rest) else ["eth"]
    return ",".join(meta + ["recirc_id=0"] + eth + rest)


def format_nodes(nodes, level=0, out=None):
    """The trace tree's lines (oftrace_node_print_details())."""
    if out is None:
        out = []
    for i, (kind, text, subs) in enumerate(nodes):
        more = 1 if (i < len(nodes) - 1 or kind in TERMINAL) else 0
        indent = " " * ((level + more) * 4)
        if kind == "bridge":
            # A bridge a patch port or a native tunnel leads to is set off
            # by a blank line, as OVS prints it.
            if out:
                out.append("")
            out.append(indent + text)
            out.append(indent + "-" * len(text))
        elif kind == "error":
            out.append(indent + " >>>> " + text + " <<<<")
        else:
            out.append(indent + _PREFIX.get(kind, "") + text)
        format_nodes(subs, level + 2 * more, out)
    return out


def trace(bridge, flow, packet=None):
    """The whole ofproto/trace text of FLOW through BRIDGE; with PACKET, its
    side effects happen."""
    nodes = []
    now = time.monotonic()
    result = xlate(bridge, flow, now, allow_side_effects=packet is not None,
                   trace=nodes)
    if packet is not None:
        apply_side_effects(result, bridge.ml, now)
    before = format_flow(flow)
    after = format_flow(result.final_flow)
    lines = ["Flow: " + before, ""]
    lines += format_nodes(nodes)
    lines.append("")
    final = result.final_flow
    unchanged = (after == before and final.get("actset_output")
                 == flow.get("actset_output")
                 # tunnel metadata the text leaves out (no tun_dst) counts
                 and all(final.get(m) == flow.get(m) for m in set(final) | set(flow)
                         if m.startswith("tun_")))
    lines.append("Final flow: " + ("unchanged" if unchanged else after))
    lines.append("Megaflow: " + format_megaflow(flow, result.wc))
    lines.append("Datapath actions: " + result.text())
    if result.error:
        lines.append("Translation failed (%s), packet is dropped." % result.error)
    return "\n".join(lines) + "\n"


class TraceOptions:
    """The options of an ofproto/trace command."""

    def __init__(self):
        self.generate = False
        self.l7 = None
        self.l7_len = 64
        self.packet = None      # hex packet data after the flow


def _hex_packet(text):
    """(error, bytes) of hex packet data, as OVS's eth_from_hex()."""
    digits = "".join(text.split())
    n = 0
    while n + 1 < len(digits) and all(c in "0123456789abcdefABCDEF"
                                      for c in digits[n:n + 2]):
        n += 2
    if n != len(digits):
        return "Trailing garbage in packet data", None
    data = bytes.fromhex(digits)
    if len(data) < 14:
        return "Packet data too short for Ethernet", None
    return None, data


def parse_args(args):
    """(error, positional, TraceOptions) of ofproto/trace's ARGS."""
    opts = TraceOptions()
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-generate", "--generate"):
            opts.generate = True
        elif a in ("--l7", "--l7-len", "--ct-next"):
            if i + 1 >= len(args):
                return "Missing argument for option %s" % a, None, None
            i += 1
            if a == "--ct-next":
                return "--ct-next: not supported (pyovs has no connection tracker)", None, None
            if a == "--l7":
                err, opts.l7 = _hex_l7(args[i])
                if err:
                    return err, None, None
            else:
                try:
                    opts.l7_len = int(args[i])
                except ValueError:
                    return "%s: invalid length" % args[i], None, None
                if not 0 <= opts.l7_len <= 65535:
                    return "%s: invalid length" % args[i], None, None
        elif len(pos) >= 3:
            return "too many arguments", None, None
        else:
            pos.append(a)
        i += 1
    if not pos:
        return "Syntax error", None, None
    # Packet data ends the arguments: always the third, the second when
    # it reads as a packet (the datapath flow form names no bridge).
    if len(pos) == 3 or (len(pos) == 2 and _hex_packet(pos[1])[0] is None):
        if opts.generate:
            return "Syntax error", None, None
        opts.packet = pos.pop()
    return None, pos, opts


def _hex_l7(text):
    try:
        return None, bytes.fromhex("".join(text.split()))
    except ValueError:
        return "Trailing garbage in packet data", None


#: The flow members a packet carries as metadata (OVS's pkt_metadata):
#: what the flow gives in the hex packet form.
_PACKET_METADATA = ("in_port", "pkt_mark", "skb_priority", "dp_hash", "recirc_id")


def packet_flow(packet_hex, flow):
    """(error, flow, packet): the flow of hex packet data received with
    FLOW's metadata."""
    from ..packet.flow import flow_extract
    err, data = _hex_packet(packet_hex)
    if err:
        return err, None, None
    md = {k: v for k, v in flow.items()
          if k in _PACKET_METADATA or k.startswith(("tun_", "ct_"))}
    return None, flow_extract(data, flow.get("in_port", 0), md), data


def with_packet(flow, opts):
    """(error, flow, packet|None) for the trace of FLOW under OPTS."""
    if opts.packet is not None:
        return packet_flow(opts.packet, flow)
    if opts.generate:
        from ..packet.build import flow_compose
        return None, flow, flow_compose(flow, l7=opts.l7, l7_len=opts.l7_len)
    return None, flow, None


def trace_command(bridges, args, changed=None):
    """ofproto/trace [OPTIONS] BRIDGE FLOW [-generate|PACKET], as the
    unixctl command answers it."""
    from ..openflow.flow import parse_flow_mod, OFPFC_DELETE
    from ..openflow.errors import FlowParseError
    from .classifier import match_to_dicts
    err, args, opts = parse_args(args)
    if err:
        return err, None
    if len(args) == 1:
        # OVS reads a lone argument as a datapath flow naming no bridge.
        return "syntax error at %s (or the bridge name was omitted)" % args[0], None
    name, flow_text = args
    bridge = bridges.get(name)
    if bridge is None:
        return "%s: unknown bridge" % name, None
    try:
        names = {p.name: p.ofp_port for p in bridge.ports.values()}
        fm = parse_flow_mod(flow_text, command=OFPFC_DELETE, stats=True,
                            port_names=names)[0]
    except (FlowParseError, ValueError) as e:
        msg = str(e)
        if msg.startswith("unknown keyword "):
            # OVS parses a trace flow with parse_ofp_exact_flow().
            msg = "%s: unknown field %s" % (flow_text, msg[len("unknown keyword "):])
        return "Bad openflow flow syntax: " + msg, None
    err, flow, packet = with_packet(match_to_dicts(fm.match)[0], opts)
    if err:
        return err, None
    text = trace(bridge, flow, packet)
    if packet is not None and changed is not None:
        changed()
    return None, text
