"""The dpctl commands (ovs-dpctl(8), ``ovs-appctl dpctl/...``) over userspace
datapaths (dpif/netdev.py), with OVS 3.1's texts.

Each command is a function (dpifs, args) -> text that raises DpctlError
with OVS's message ("ovs-vswitchd: updating flow table (Invalid
argument)\\n" and the like); register_unixctl_commands() exposes them on a
pyovs.util.unixctl server, as ovs-vswitchd does.

Commands: dpctl/show [-s] [dp...], dpctl/dump-dps, dpctl/dump-flows [-m]
[--names|--no-names] [dp], dpctl/add-flow [dp] flow actions, dpctl/mod-flow
[dp] flow actions, dpctl/del-flow [dp] flow, dpctl/del-flows [dp],
dpctl/get-flow [dp] ufid.  (OVS 3.1 has no dpctl/flush; conntrack, ipf,
cache and offload commands are not supported: the datapath has none of
them.)  dump-flows filter=/type=/pmd= are refused as not supported.

A flow key is taken only when it holds exactly the attributes its values
call for (OVS's ODP_FIT_PERFECT: eth_type's L3 attribute, the protocol's
L4 attribute unless a later fragment, nd for ND, vlan+encap for 802.1Q),
else "updating flow table (Invalid argument)" as OVS.  One difference:
a key without eth() is refused, where OVS takes it as an L3 packet_type
flow; pyovs's datapath carries Ethernet frames only.

Texts: a flow line is ``KEY, packets:N, bytes:N, used:never|S.SSSs[,
flags:F], actions:A`` under ``flow-dump from the main thread:`` (printed only when there is a
flow); with -m
``ufid:U, VERBOSE-KEY, packets:..., used:..., dp:ovs, actions:A`` (OVS
appends ``dp-extra-info:miniflow_bits(..)``, which pyovs does not).

Public API:
  register_unixctl_commands(server, get_dpifs, program="ovs-vswitchd")
    get_dpifs() -> list of DpifNetdev
  show(dpifs, args), dump_dps(dpifs, args), dump_flows(dpifs, args, now=None),
  add_flow / mod_flow / del_flow / del_flows / get_flow (dpifs, args) -> text
  format_flow_line(dpif, mf, now, verbose=False, names=False) -> str
  format_tcp_flags(flags) -> "S." style text; DpctlError.
"""

import errno
import os
import uuid

from pyovs.dpif.netdev import DpifError
from pyovs.netdev.base import STAT_UNSUPPORTED
from pyovs.odp import actions as odp_actions
from pyovs.odp import keys as odp_keys

PROGRAM = "ovs-vswitchd"


class DpctlError(Exception):
    """A dpctl failure; str() is the whole error text."""


def _err(what, err, program):
    return DpctlError("%s: %s (%s)\n" % (program, what, os.strerror(err)))


def format_tcp_flags(flags):
    """packet_format_tcp_flags(): 'S', 'F', 'P', 'R', 'U', '.', 'E', 'C', 'N'."""
    out = ""
    for bit, ch in ((0x002, "S"), (0x001, "F"), (0x008, "P"), (0x004, "R"),
                    (0x020, "U"), (0x010, "."), (0x040, "E"), (0x080, "C"),
                    (0x100, "N")):
        if flags & bit:
            out += ch
    for bit in (0x200, 0x400, 0x800):
        if flags & bit:
            out += "[%x]" % bit
    return out


def _port_names(dpif):
    return {no: p.name for no, p in dpif.ports.items()}


def _lookup_dp(dpifs, name):
    for dp in dpifs:
        if name in (dp.name, dp.full_name):
            return dp
    return None


def _not_found(program, prefix=""):
    return DpctlError(prefix + "%s: datapath not found (%s)\n"
                      % (program, os.strerror(errno.EINVAL)))


class Options:
    """The options OVS's dpctl handler takes in front of any command."""
    verbosity = 0
    statistics = False
    clear = False
    may_create = False
    names = None        # None: names when verbose


_LONG_OPTIONS = {"--statistics": ("statistics", True), "--clear": ("clear", True),
                 "--may-create": ("may_create", True), "--names": ("names", True),
                 "--no-names": ("names", False)}


def options(args, program=PROGRAM):
    """(Options, remaining args): the leading options of ARGS, parsed as
    OVS's dpctl_unixctl_handler parses them (-m/--more counts, -s, --clear,
    --may-create, --names, --no-names; short options may be combined)."""
    opts = Options()
    args = list(args)
    while args and args[0].startswith("-") and args[0] != "-":
        arg = args[0]
        if arg == "--more":
            opts.verbosity += 1
        elif arg.startswith("--"):
            if arg not in _LONG_OPTIONS:
                raise DpctlError("Unrecognized option %s" % arg)
            name, value = _LONG_OPTIONS[arg]
            setattr(opts, name, value)
        else:
            for c in arg[1:]:
                if c == "m":
                    opts.verbosity += 1
                elif c == "s":
                    opts.statistics = True
                else:
                    raise DpctlError("Unrecognized option -%s" % c)
        args.pop(0)
    if opts.names is None:
        opts.names = opts.verbosity > 0
    return opts, args


def _pick_dp(dpifs, args, n_rest, program):
    """(dpif, remaining args): a leading dp name when ARGS has more than
    N_REST arguments, else the only datapath (OVS's texts otherwise)."""
    if len(args) > n_rest:
        dp = _lookup_dp(dpifs, args[0])
        if dp is None:
            raise _not_found(program)
        return dp, args[1:]
    if len(dpifs) != 1:
        prefix = "%s: %s\n" % (program, "no datapaths exist" if not dpifs
                               else "multiple datapaths, specify one")
        raise _not_found(program, prefix)
    return dpifs[0], list(args)


# -- show -------------------------------------------------------------------
def _stat(v):
    return "?" if v is None or v == STAT_UNSUPPORTED else str(v)


def show(dpifs, args, program=PROGRAM):
    opts, names = options(args, program)
    stats = opts.statistics
    dps = []
    for n in names:
        dp = _lookup_dp(dpifs, n)
        if dp is None:
            # An unknown name of the default type "system": no such family.
            err = errno.ENODEV if "@" in n else errno.EAFNOSUPPORT
            raise _err("opening datapath %s failed" % n, err, program)
        dps.append(dp)
    if not names:
        dps = sorted(dpifs, key=lambda d: d.full_name)
    out = []
    for dp in dps:
        out.append("%s:\n" % dp.full_name)
        out.append("  lookups: hit:%d missed:%d lost:%d\n"
                   % (dp.n_hit, dp.n_missed, dp.n_lost))
        out.append("  flows: %d\n" % len(dp))
        for no in sorted(dp.ports):
            port = dp.ports[no]
            line = "  port %d: %s" % (no, port.name)
            if port.type != "system":       # OVS leaves "(system)" out
                line += " (%s" % port.type
                config = {}
                if port.netdev is not None and no != 0:
                    try:
                        config = port.netdev.get_config() or {}
                    except Exception:   # a provider without config
                        config = {}
                for i, k in enumerate(sorted(config)):
                    line += "%s %s=%s" % ("," if i else ":", k, config[k])
                line += ")"
            out.append(line + "\n")
            if stats:
                out.append(_port_stats(port))
    return "".join(out)


def _port_stats(port):
    s = {}
    if port.netdev is not None:
        try:
            s = port.netdev.get_stats().to_dict()
        except Exception:
            s = {}
    g = s.get
    return ("    RX packets:%s errors:%s dropped:%s overruns:? frame:?\n"
            "    TX packets:%s errors:%s dropped:%s aborted:? carrier:?\n"
            "    collisions:?\n"
            "    RX bytes:%s  TX bytes:%s\n"
            % (_stat(g("rx_packets", 0)), _stat(g("rx_errors")), _stat(g("rx_dropped")),
               _stat(g("tx_packets", 0)), _stat(g("tx_errors")), _stat(g("tx_dropped")),
               _stat(g("rx_bytes", 0)), _stat(g("tx_bytes", 0))))


def dump_dps(dpifs, args, program=PROGRAM):
    return "".join("%s\n" % dp.full_name for dp in sorted(dpifs, key=lambda d: d.full_name))


# -- flows ------------------------------------------------------------------
def _key_attrs(dpif, mf, verbose):
    flow, packet_type = dpif.flow_key(mf)
    attrs = odp_keys.flow_to_key(flow, mf.mask)
    if not packet_type:
        # Put without packet_type: OVS keeps it wildcarded, which -m shows
        # and the short form leaves out (printing "eth()" instead).
        if verbose:
            attrs = [(n, v, {"ns": 0, "id": 0}) if n == "packet_type" else (n, v, m)
                     for n, v, m in attrs]
        else:
            attrs = [a for a in attrs if a[0] != "packet_type"]
    return attrs


def format_flow_line(dpif, mf, now, verbose=False, names=False):
    pn = _port_names(dpif) if names else None
    key = odp_keys.format_flow(_key_attrs(dpif, mf, verbose), verbose, pn)
    if mf.used:
        used = "%.3fs" % ((now - mf.used) / 1000.0)
    else:
        used = "never"
    text = ""
    if verbose:
        text += "ufid:%s, " % dpif.ufid(mf)
    text += "%s, packets:%d, bytes:%d, used:%s" % (key, mf.n_packets, mf.n_bytes, used)
    if mf.tcp_flags:
        text += ", flags:%s" % format_tcp_flags(mf.tcp_flags)
    if verbose:
        text += ", dp:ovs"
    return text + ", actions:%s" % odp_actions.format_actions(mf.actions, pn)


def dump_flows(dpifs, args, now=None, program=PROGRAM):
    opts, args = options(args, program)
    verbose, names = opts.verbosity > 0, opts.names
    rest = []
    for a in args:
        if a.split("=", 1)[0] in ("filter", "type", "pmd"):
            raise DpctlError("%s: dump-flows %s: not supported\n" % (program, a))
        rest.append(a)
    dp, rest = _pick_dp(dpifs, rest, 0, program)
    if rest:
        raise DpctlError("%s: too many arguments\n" % program)
    if now is None:
        now = dp._clock()
    lines = [format_flow_line(dp, mf, now, verbose, names) + "\n"
             for mf in dp.flow_dump()]
    if lines:       # OVS prints the heading before a thread's first flow
        lines.insert(0, "flow-dump from the main thread:\n")
    return "".join(lines)


_METADATA_ATTRS = frozenset(("skb_priority", "tunnel", "skb_mark", "ct_state", "ct_zone",
                             "ct_mark", "ct_label", "ct_tuple4", "ct_tuple6", "recirc_id",
                             "dp_hash", "in_port", "packet_type"))
_L3_ATTR = {0x0800: "ipv4", 0x86dd: "ipv6", 0x0806: "arp", 0x8035: "arp",
            0x8847: "mpls", 0x8848: "mpls"}


def _fits(attrs, top=True):
    """Whether ATTRS hold exactly the attributes their own values call for
    (OVS's ODP_FIT_PERFECT; anything else is refused with EINVAL)."""
    by_name = {a[0]: a for a in attrs}
    expected = set(_METADATA_ATTRS) if top else set()
    required = set()
    required.add("eth_type")            # inside encap() too
    if top:
        required.add("eth")
    expected |= required
    eth_type = by_name.get("eth_type")
    if eth_type is not None:
        expected.add("eth_type")
        et = eth_type[1]
        if et in (0x8100, 0x88a8):
            # What follows is judged inside encap(); OVS lets other
            # attributes beside it pass (checked with the real one).
            return ({"vlan", "encap"} <= set(by_name)
                    and _fits(by_name["encap"][1], False))
        elif et in _L3_ATTR:
            required.add(_L3_ATTR[et])
        l3 = by_name.get(_L3_ATTR.get(et))
        if et in (0x0800, 0x86dd) and l3 is not None and l3[1].get("frag") != 2:
            proto = l3[1].get("proto")
            l4 = {6: "tcp", 17: "udp", 132: "sctp"}.get(proto)
            if proto == 1 and et == 0x0800:
                l4 = "icmp"
            elif proto == 58 and et == 0x86dd:
                l4 = "icmpv6"
                icmp = by_name.get("icmpv6")
                if icmp is not None and icmp[1]["type"] in (135, 136) and icmp[1]["code"] == 0:
                    required.add("nd")
            if l4:
                required.add(l4)
            if proto == 6:
                expected.add("tcp_flags")
    expected |= required
    names = set(by_name)
    return required <= names and names <= expected


def _parse_key(dp, text, program):
    try:
        attrs = odp_keys.parse_flow(text, _port_names(dp))
    except ValueError as e:
        if "given twice" in str(e):
            # OVS's parser takes a repeated attribute; the datapath refuses it.
            raise _err("updating flow table", errno.EINVAL, program) from None
        raise DpctlError("%s: parsing flow key (%s) (%s)\n"
                         % (program, e, os.strerror(errno.EINVAL))) from None
    try:
        flow, mask = odp_keys.key_to_flow(attrs)
    except ValueError:          # parsed, but no flow the datapath can hold
        raise _err("updating flow table", errno.EINVAL, program) from None
    names = {a[0] for a in attrs}
    if "in_port" not in names or mask.get("in_port") != 0xffffffff or not _fits(attrs):
        raise _err("updating flow table", errno.EINVAL, program)
    return flow, mask, "packet_type" in names


def _parse_actions(dp, text, program):
    try:
        return odp_actions.parse_actions(text)      # (no port names, as OVS)
    except (ValueError, TypeError):
        raise _err("parsing actions", errno.EINVAL, program) from None


def _put(dpifs, args, create, modify, program):
    opts, args = options(args, program)
    create = create or opts.may_create
    if len(args) < 2:
        raise DpctlError("%s: flow and actions required\n" % program)
    dp, rest = _pick_dp(dpifs, args, 2, program)
    flow, mask, packet_type = _parse_key(dp, rest[0], program)
    actions = _parse_actions(dp, rest[1], program)
    try:
        dp.flow_put(flow, mask, actions, create=create, modify=modify,
                    packet_type=packet_type)
    except DpifError as e:
        raise _err("updating flow table", e.errno or errno.EINVAL, program) from None
    return ""


def add_flow(dpifs, args, program=PROGRAM):
    return _put(dpifs, args, True, False, program)


def mod_flow(dpifs, args, program=PROGRAM):
    return _put(dpifs, args, False, True, program)


def del_flow(dpifs, args, program=PROGRAM):
    _, args = options(args, program)
    if not args:
        raise DpctlError("%s: flow required\n" % program)
    dp, rest = _pick_dp(dpifs, args, 1, program)
    flow, mask, _ = _parse_key(dp, rest[0], program)
    try:
        dp.flow_del(flow, mask)
    except DpifError as e:
        raise DpctlError("%s: deleting flow (%s)\nPerhaps you need to specify a UFID?\n"
                         % (program, os.strerror(e.errno))) from None
    return ""


def del_flows(dpifs, args, program=PROGRAM):
    # One argument is the datapath if one has that name, else a file.
    _, args = options(args, program)
    n_rest = 0 if len(args) == 1 and _lookup_dp(dpifs, args[0]) is not None else 1
    dp, rest = _pick_dp(dpifs, args, n_rest, program)
    if rest:
        raise DpctlError("%s: del-flows FILE: not supported\n" % program)
    dp.flow_flush()
    return ""


def get_flow(dpifs, args, now=None, program=PROGRAM):
    opts, args = options(args, program)
    if not args:
        raise DpctlError("%s: ufid required\n" % program)
    dp, rest = _pick_dp(dpifs, args, 1, program)
    text = rest[0]
    if text.startswith("ufid:"):
        text = text[5:]
    try:
        ufid = uuid.UUID(text)
    except ValueError:
        raise DpctlError("%s: parsing flow ufid\n" % program) from None
    mf = dp.flow_by_ufid(ufid)
    if mf is None:
        raise _err("getting flow", errno.ENOENT, program)
    if now is None:
        now = dp._clock()
    return format_flow_line(dp, mf, now) + "\n"


#: name -> (usage, min_args, max_args, function), as OVS registers them.
COMMANDS = {
    "dpctl/show": ("[-s] [dp...]", 0, 10, show),
    "dpctl/dump-dps": ("", 0, 0, dump_dps),
    "dpctl/dump-flows": ("[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]", 0, 6,
                         dump_flows),
    "dpctl/add-flow": ("[dp] flow actions", 2, 3, add_flow),
    "dpctl/mod-flow": ("[dp] flow actions", 2, 3, mod_flow),
    "dpctl/del-flow": ("[dp] flow", 1, 2, del_flow),
    "dpctl/del-flows": ("[dp] [file]", 0, 2, del_flows),
    "dpctl/get-flow": ("[dp] ufid", 1, 2, get_flow),
}


def register_unixctl_commands(server, get_dpifs, program=PROGRAM):
    """Register the dpctl/* commands on SERVER (a UnixctlServer);
    GET_DPIFS() returns the datapaths to act on."""
    for name, (usage, lo, hi, fn) in COMMANDS.items():
        def handler(conn, args, fn=fn):
            try:
                text = fn(list(get_dpifs()), list(args), program=program)
            except DpctlError as e:
                conn.reply_error(str(e))
                return
            conn.reply(text)
        server.register(name, usage, lo, hi, handler)
