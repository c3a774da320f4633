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

Texts: a flow line is ``KEY, packets:N, bytes:N, used:never|S.SSSs[,
flags:F], actions:A`` under ``flow-dump from the main thread:``; with -m
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


def _find_dp(dpifs, name, program):
    for dp in dpifs:
        if name in (dp.name, dp.full_name):
            return dp
    raise _err("opening datapath", errno.ENODEV, program)


def _pick_dp(dpifs, args, n_rest, program):
    """(dpif, remaining args): a leading dp name when ARGS has more than
    N_REST arguments, else the only datapath."""
    if len(args) > n_rest:
        return _find_dp(dpifs, args[0], program), args[1:]
    if len(dpifs) != 1:
        if not dpifs:
            raise DpctlError("%s: no datapaths exist\n" % program)
        raise DpctlError("%s: multiple datapaths, specify one\n" % program)
    return dpifs[0], list(args)


# -- show -------------------------------------------------------------------
def _stat(v):
    return "?" if v is None else str(v)


def show(dpifs, args, program=PROGRAM):
    stats = False
    names = []
    for a in args:
        if a in ("-s", "--statistics"):
            stats = True
        else:
            names.append(a)
    dps = [_find_dp(dpifs, n, program) for n in names] if names else \
        sorted(dpifs, key=lambda d: d.full_name)
    out = []
    for dp in dps:
        out.append("%s:\n" % dp.full_name)
        out.append("  lookups: hit:%d missed:%d lost:%d\n"
                   % (dp.n_hit, dp.n_missed, dp.n_lost))
        out.append("  flows: %d\n" % len(dp))
        for no in sorted(dp.ports):
            port = dp.ports[no]
            line = "  port %d: %s (%s" % (no, port.name, port.type)
            config = {}
            if port.netdev is not None and no != 0:
                try:
                    config = port.netdev.get_config() or {}
                except Exception:   # a provider without config
                    config = {}
            for i, k in enumerate(sorted(config)):
                line += "%s %s=%s" % ("," if i else ":", k, config[k])
            out.append(line + ")\n")
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
def _key_attrs(dpif, mf):
    flow, packet_type = dpif.flow_key(mf)
    attrs = odp_keys.flow_to_key(flow, mf.mask)
    if not packet_type:
        attrs = [a for a in attrs if a[0] != "packet_type"]
    return attrs


def format_flow_line(dpif, mf, now, verbose=False, names=False):
    pn = _port_names(dpif) if names else None
    key = odp_keys.format_flow(_key_attrs(dpif, mf), verbose, pn)
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
    verbose = False
    names = None
    rest = []
    for a in args:
        if a in ("-m", "--more"):
            verbose = True
        elif a == "--names":
            names = True
        elif a == "--no-names":
            names = False
        elif a.split("=", 1)[0] in ("filter", "type", "pmd"):
            raise DpctlError("%s: dump-flows %s: not supported\n" % (program, a))
        else:
            rest.append(a)
    if names is None:
        names = verbose
    dp, rest = _pick_dp(dpifs, rest, 0, program)
    if rest:
        raise DpctlError("%s: too many arguments\n" % program)
    if now is None:
        now = dp._clock()
    lines = ["flow-dump from the main thread:\n"]
    for mf in dp.flow_dump():
        lines.append(format_flow_line(dp, mf, now, verbose, names) + "\n")
    return "".join(lines)


def _parse_key(dp, text, program):
    try:
        attrs = odp_keys.parse_flow(text, _port_names(dp))
        flow, mask = odp_keys.key_to_flow(attrs)
    except ValueError as e:
        raise DpctlError("%s: parsing flow key (%s)\n" % (program, e)) from None
    names = {a[0] for a in attrs}
    if "in_port" not in names or mask.get("in_port") != 0xffffffff:
        raise _err("updating flow table", errno.EINVAL, program)
    if "eth" not in names:
        # The userspace datapath carries Ethernet packets only.
        raise _err("updating flow table", errno.EINVAL, program)
    return flow, mask, "packet_type" in names


def _parse_actions(dp, text, program):
    try:
        return odp_actions.parse_actions(text, {v: k for k, v in _port_names(dp).items()})
    except (ValueError, TypeError) as e:
        raise DpctlError("%s: parsing actions (%s)\n" % (program, e)) from None


def _put(dpifs, args, create, modify, program):
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
    if len(args) > 1:
        raise DpctlError("%s: del-flows FILE: not supported\n" % program)
    dp, _ = _pick_dp(dpifs, args, 0, program)
    dp.flow_flush()
    return ""


def get_flow(dpifs, args, now=None, program=PROGRAM):
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
    return format_flow_line(dp, mf, now, verbose=True, names=True) + "\n"


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
