"""ovs-ofctl: administer OpenFlow switches (as ovs-ofctl(8)).

Thin: parses argv, calls pyovs.openflow, prints.  Supported commands:
show, dump-desc, dump-tables, dump-table-desc, mod-table, get-frags,
set-frags, dump-ports, dump-ports-desc, mod-port, dump-flows,
dump-aggregate, queue-stats, queue-get-config, add-flow, add-flows,
mod-flows, del-flows, replace-flows, diff-flows, packet-out, monitor
(miss-len, watch:, invalid_ttl, resume), snoop, add-group(s), mod-group, del-groups,
insert-buckets, remove-buckets, dump-groups, dump-group-stats,
dump-group-features (in OpenFlow 1.0 as Nicira extensions), add-meter, mod-meter,
del-meters, dump-meters, meter-stats, meter-features, add-tlv-map,
del-tlv-map, dump-tlv-map, dump-ipfix-bridge, dump-ipfix-flow,
ct-flush-zone, ct-flush, probe, ping, benchmark, parse-flow, parse-flows,
ofp-parse, ofp-parse-pcap, ofp-print, dump-table-features, bundle, and
the hidden encode-hello, compose-packet, parse-packet.  The other hidden
commands (NOT_SUPPORTED) exit with "not supported by pyovs yet".
"""

import functools
import os
import struct
import sys
import time

from pyovs.openflow import fields as F
from pyovs.util import dirs
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow import ofp_print
from pyovs.openflow import async_msgs as A
from pyovs.openflow import groups as G
from pyovs.openflow import meters as MT
from pyovs.openflow import tlv_table as TLV
from pyovs.openflow import flow_monitor as FM
from pyovs.openflow import queue_config as QC
from pyovs.openflow import ct_flush as CTF
from pyovs.openflow import table_features as TF
from pyovs.openflow.actions import parse_actions, split_items, format_actions
from pyovs.openflow.errors import FlowParseError, DecodeError, OFPError, Unsupported
from pyovs.openflow.flow import (parse_flow_mod, format_flow_stats, OFPFC_ADD,
                                 OFPFC_MODIFY, OFPFC_MODIFY_STRICT,
                                 OFPFC_DELETE, OFPFC_DELETE_STRICT)
from pyovs.openflow.match import parse_int
from pyovs.openflow.ports import OFPP_ANY, OFPP_MAX, port_from_string
from pyovs.openflow.vconn import Vconn, VconnError, reset_xids, alloc_xid

PROGRAM = "ovs-ofctl"
MAX_FILE = 64 * 1024 * 1024


class Fatal(Exception):
    pass


class Exit(Exception):
    """Leave with a status, the message already printed."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Options:
    def __init__(self):
        self.versions = [M.OFP10]
        self.flow_formats = P.ANY
        self.bundle = False
        self.timeout = None
        self.strict = False
        self.show_stats = True
        self.sort = []          # list of (field or None, ascending)
        self.names = None
        self.verbosity = 0
        self.timestamp = False
        self.pcap = False
        self.packet_in_format = None    # -P: an NXPIF_* number


def fatal(text):
    raise Fatal(text)


# --- option parsing ------------------------------------------------------------

_WITH_ARG = {"-P": "packet-in-format", "--packet-in-format": "packet-in-format",
             "-O": "protocols", "--protocols": "protocols", "-t": "timeout",
             "--timeout": "timeout", "-F": "flow-format",
             "--flow-format": "flow-format"}


# -P names (OVS's ofputil_packet_in_format_from_string).
_PACKET_IN_FORMAT_NAMES = {"standard": 0, "openflow10": 0, "nxt_packet_in": 1,
                           "nxm": 1, "nxt_packet_in2": 2}


def parse_args(argv):
    opts = Options()
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if not a.startswith("-") or a == "-":
            args.append(a)
            continue
        name, eq, val = a.partition("=")
        if name in _WITH_ARG and not eq:
            if len(name) == 2 and len(a) > 2:       # -OOpenFlow13
                name, val = a[:2], a[2:]
            else:
                if i >= len(argv):
                    fatal(f"option '{name}' requires an argument")
                val = argv[i]
                i += 1
        kind = _WITH_ARG.get(name)
        if kind == "packet-in-format":
            fmt = _PACKET_IN_FORMAT_NAMES.get(val)
            if fmt is None:
                fatal(f"unknown packet-in format `{val}'")
            opts.packet_in_format = fmt
        elif kind == "protocols":
            opts.versions = parse_versions(val)
        elif kind == "flow-format":
            try:
                opts.flow_formats = P.protocols_from_string(val)
            except ValueError as e:
                fatal(str(e))
        elif kind == "timeout":
            if not val.isdigit() or int(val) <= 0:
                fatal(f"value {val} on -t or --timeout is invalid")
            opts.timeout = int(val)
        elif name == "--bundle":
            opts.bundle = True
        elif name == "--strict":
            opts.strict = True
        elif name == "--no-stats":
            opts.show_stats = False
        elif name in ("--sort", "--rsort"):
            fld = None
            if eq and val != "priority":
                fld = F.field_by_name(val)
                if fld is None:
                    fatal(f"{val}: unknown field name")
            opts.sort.append((fld, name == "--sort"))
        elif name == "--names":
            opts.names = True
        elif name == "--no-names":
            opts.names = False
        elif name in ("-v", "--verbose") or name.startswith("-v"):
            pass
        elif name in ("-m", "--more"):
            opts.verbosity += 1
        elif name == "--timestamp":
            opts.timestamp = True
        elif name == "--pcap":
            opts.pcap = True
        elif name in ("-h", "--help"):
            print_help()
            raise Exit(0)
        elif name in ("-V", "--version"):
            import pyovs
            print(f"ovs-ofctl (Open vSwitch) {pyovs.OVS_VERSION}")
            print("OpenFlow versions 0x1:0x6")
            raise Exit(0)
        else:
            fatal(f"unrecognized option '{a}'")
    if opts.bundle and max(opts.versions) < M.OFP13:
        opts.versions = [M.OFP14]       # bundles need 1.4 (or 1.3's ONF ones)
    return opts, args


def parse_versions(text):
    names = {v: k for k, v in P.VERSION_NAMES.items()}
    versions = set()
    for word in text.split(","):
        word = word.strip()
        if not word:
            continue
        if word not in names:
            fatal(f'Unknown OpenFlow version: "{word}"')
        versions.add(names[word])
    if not versions:
        fatal("at least one OpenFlow version must be specified")
    return sorted(versions)


def print_help():
    """OVS 3.1's ovs-ofctl --help, line for line."""
    from pyovs.util import usage
    print(_COMMANDS_USAGE + usage.vconn_usage(True, False, False)
          + usage.daemon_usage("ovs-ofctl") + _VERSION_USAGE
          + usage.vlog_usage("ovs-ofctl") + _OTHER_USAGE, end="")


_COMMANDS_USAGE = """\
ovs-ofctl: OpenFlow switch management utility
usage: ovs-ofctl [OPTIONS] COMMAND [ARG...]

For OpenFlow switches:
  show SWITCH                 show OpenFlow information
  dump-desc SWITCH            print switch description
  dump-tables SWITCH          print table stats
  dump-table-features SWITCH  print table features
  dump-table-desc SWITCH      print table description (OF1.4+)
  mod-port SWITCH IFACE ACT   modify port behavior
  mod-table SWITCH MOD        modify flow table behavior
      OF1.1/1.2 MOD: controller, continue, drop
      OF1.4+ MOD: evict, noevict, vacancy:low,high, novacancy
  get-frags SWITCH            print fragment handling behavior
  set-frags SWITCH FRAG_MODE  set fragment handling behavior
      FRAG_MODE: normal, drop, reassemble, nx-match
  dump-ports SWITCH [PORT]    print port statistics
  dump-ports-desc SWITCH [PORT]  print port descriptions
  dump-flows SWITCH           print all flow entries
  dump-flows SWITCH FLOW      print matching FLOWs
  dump-aggregate SWITCH       print aggregate flow statistics
  dump-aggregate SWITCH FLOW  print aggregate stats for FLOWs
  queue-stats SWITCH [PORT [QUEUE]]  dump queue stats
  add-flow SWITCH FLOW        add flow described by FLOW
  add-flows SWITCH FILE       add flows from FILE
  mod-flows SWITCH FLOW       modify actions of matching FLOWs
  del-flows SWITCH [FLOW]     delete matching FLOWs
  replace-flows SWITCH FILE   replace flows with those in FILE
  diff-flows SOURCE1 SOURCE2  compare flows from two sources
  packet-out SWITCH IN_PORT ACTIONS PACKET...
                              execute ACTIONS on PACKET
  monitor SWITCH [MISSLEN] [invalid_ttl] [watch:[...]]
                              print packets received from SWITCH
  snoop SWITCH                snoop on SWITCH and its controller
  add-group SWITCH GROUP      add group described by GROUP
  add-groups SWITCH FILE      add group from FILE
  [--may-create] mod-group SWITCH GROUP   modify specific group
  del-groups SWITCH [GROUP]   delete matching GROUPs
  insert-buckets SWITCH [GROUP] add buckets to GROUP
  remove-buckets SWITCH [GROUP] remove buckets from GROUP
  dump-group-features SWITCH  print group features
  dump-groups SWITCH [GROUP]  print group description
  dump-group-stats SWITCH [GROUP]  print group statistics
  queue-get-config SWITCH [PORT]  print queue config for PORT
  add-meter SWITCH METER      add meter described by METER
  mod-meter SWITCH METER      modify specific METER
  del-meters SWITCH [METER]   delete meters matching METER
  dump-meters SWITCH [METER]  print METER configuration
  meter-stats SWITCH [METER]  print meter statistics
  meter-features SWITCH       print meter features
  add-tlv-map SWITCH MAP      add TLV option MAPpings
  del-tlv-map SWITCH [MAP] delete TLV option MAPpings
  dump-tlv-map SWITCH      print TLV option mappings
  dump-ipfix-bridge SWITCH    print ipfix stats of bridge
  dump-ipfix-flow SWITCH      print flow ipfix of a bridge
  ct-flush-zone SWITCH ZONE   flush conntrack entries in ZONE
  ct-flush SWITCH [ZONE] [CT_ORIG_TUPLE [CT_REPLY_TUPLE]]
                              flush conntrack entries specified
                              by CT_ORIG/REPLY_TUPLE and ZONE

For OpenFlow switches and controllers:
  probe TARGET                probe whether TARGET is up
  ping TARGET [N]             latency of N-byte echos
  benchmark TARGET N COUNT    bandwidth of COUNT N-byte echos
SWITCH or TARGET is an active OpenFlow connection method.

Other commands:
  ofp-parse FILE              print messages read from FILE
  ofp-parse-pcap PCAP         print OpenFlow read from PCAP
"""

_VERSION_USAGE = """
OpenFlow version options:
  -V, --version           display version information
  -O, --protocols         set allowed OpenFlow versions
                          (default: OpenFlow10, OpenFlow11, OpenFlow12, \
OpenFlow13, OpenFlow14, OpenFlow15)
"""

_OTHER_USAGE = """
Other options:
  --strict                    use strict match for flow commands
  --read-only                 do not execute read/write commands
  --readd                     replace flows that haven't changed
  -F, --flow-format=FORMAT    force particular flow format
  -P, --packet-in-format=FRMT force particular packet in format
  -m, --more                  be more verbose printing OpenFlow
  --timestamp                 (monitor, snoop) print timestamps
  -t, --timeout=SECS          give up after SECS seconds
  --sort[=field]              sort in ascending order
  --rsort[=field]             sort in descending order
  --names                     show port names instead of numbers
  --no-names                  show port numbers, but not names
  --unixctl=SOCKET            set control socket name
  --color[=always|never|auto] control use of color in output
  -h, --help                  display this help message
  -V, --version               display version information
"""


# --- protocol selection (as ovs-ofctl) -------------------------------------------

def allowed_protocols(opts):
    return P.from_versions(opts.versions) & opts.flow_formats


def initial_protocol(version):
    return {M.OFP10: P.OF10_STD, M.OFP11: P.OF11_STD, M.OFP12: P.OF12_OXM,
            M.OFP13: P.OF13_OXM, M.OFP14: P.OF14_OXM, M.OFP15: P.OF15_OXM}[version]


def try_set_protocol(vconn, want, cur):
    """Switch the connection from CUR to WANT; (ok, new protocol)."""
    while True:
        msg, nxt = M.encode_set_protocol(cur, want, vconn.next_xid)
        if msg is None:
            return cur == want, cur
        error = vconn.transact_noreply([msg])
        if error is not None:
            return False, cur
        cur = nxt


def open_for_flow_mod(target, opts, usable):
    allowed = allowed_protocols(opts)
    if not usable & allowed:
        fatal(f"none of the usable flow formats ({P.to_string(usable)}) is among "
              f"the allowed flow formats ({P.to_string(allowed)})")
    vconn = open_vconn(target, opts)
    cur = initial_protocol(vconn.version)
    if usable & allowed & cur:
        return vconn, cur
    for i in range(9):
        f = 1 << i
        if f != cur and f & usable & allowed:
            ok, cur = try_set_protocol(vconn, f, cur)
            if ok:
                return vconn, f
    fatal(f"switch does not support any of the usable flow formats "
          f"({P.to_string(usable)})")


_DUMP_ORDER = (P.OF15_OXM, P.OF14_OXM, P.OF13_OXM, P.OF12_OXM, P.OF11_STD,
               P.OF10_NXM, P.OF10_STD)


def open_for_flow_dump(target, opts, usable):
    vconn = open_vconn(target, opts)
    cur = initial_protocol(vconn.version)
    for f in _DUMP_ORDER:
        if f & usable & allowed_protocols(opts):
            ok, cur = try_set_protocol(vconn, f, cur)
            if ok:
                return vconn, f
    fatal(f"switch does not support any of the usable flow formats "
          f"({P.to_string(usable)})")


def open_vconn(target, opts):
    try:
        return Vconn.open(target, opts.versions, opts.timeout)
    except VconnError as e:
        fatal(str(e))


# --- port and table maps -----------------------------------------------------------

class Maps:
    """Port names, fetched from the switch at most once (as ovs-ofctl)."""

    def __init__(self, target, opts):
        self.target = target
        self.opts = opts
        self._ports = None
        self._tables_done = False

    def ports(self):
        if self._ports is None:
            vconn = open_vconn(self.target, self.opts)
            try:
                ports = fetch_ports(vconn)
            finally:
                vconn.close()
            self._ports = {p.port_no: p.name for p in ports}
        return self._ports

    def port_names_for_parse(self):
        return {name: no for no, name in self.ports().items()}

    def tables(self):
        """Fetch table names (pyovs prints table numbers, but fetches the
        map exactly when ovs-ofctl does)."""
        if not self._tables_done:
            vconn = open_vconn(self.target, self.opts)
            try:
                if vconn.version < M.OFP13:      # no table features before 1.3
                    req = M.encode_stats_request(vconn.version, M.OFPST_TABLE,
                                                 vconn.next_xid())
                else:
                    req = M.encode_stats_request(vconn.version, 12, vconn.next_xid())
                vconn.dump(req)
            finally:
                vconn.close()
            self._tables_done = True
        return {}


def fetch_ports(vconn):
    if vconn.version < M.OFP13:
        reply = vconn.transact(M.encode_simple(vconn.version, M.OFPT_FEATURES_REQUEST,
                                               vconn.next_xid()))
        check_error(reply)
        return M.decode_features_reply(reply).ports
    ports = []
    for reply in vconn.dump(M.encode_port_desc_request(vconn.version, vconn.next_xid())):
        check_error(reply)
        _t, _f, body = M.decode_stats_reply(reply)
        ports += M.decode_ports(body, vconn.version)
    return ports


def check_error(reply):
    """Leave with the error printed if REPLY is an OpenFlow error."""
    if M.parse_header(reply).type == M.OFPT_ERROR:
        sys.stdout.flush()
        sys.stderr.write(ofp_print.to_string(reply) + "\n")
        raise Exit(1)


# --- commands --------------------------------------------------------------------

def print_msg(data, port_names=None, show_stats=True):
    print(ofp_print.to_string(data, port_names, show_stats))


def cmd_parse_flow(opts, args):
    parse_flows_and_print(opts, [args[0]])


def read_flow_lines(path):
    if path == "-":
        text = sys.stdin.read(MAX_FILE)
    else:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(MAX_FILE)
        except OSError as e:
            fatal(f"{path}: open failed ({e.strerror})")
    lines = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append((n, line))        # numbered as in the file
    return lines


def _numbered(texts):
    """(line number, text) pairs from read_flow_lines() or plain strings."""
    for i, t in enumerate(texts, 1):
        yield t if isinstance(t, tuple) else (i, t)


def cmd_parse_flows(opts, args):
    parse_flows_and_print(opts, read_flow_lines(args[0]), from_file=args[0])


def parse_flows_and_print(opts, texts, from_file=None, command=OFPFC_ADD):
    fms = []
    usable = P.ANY
    for n, text in _numbered(texts):
        try:
            fm, u = parse_flow_mod(text, command)
        except FlowParseError as e:
            if from_file is not None:
                fatal(f"{from_file}:{n}: {e}")
            fatal(str(e))
        fms.append(fm)
        usable &= u
    print(f"usable protocols: {P.to_string(usable)}")
    allowed = allowed_protocols(opts)
    if not usable & allowed:
        fatal("no usable protocol")
    protocol = next(1 << i for i in range(9) if (1 << i) & usable & allowed)
    print(f"chosen protocol: {P.name(protocol)}")
    for fm in fms:
        try:
            msg = M.encode_flow_mod(fm, protocol, alloc_xid())
        except (OFPError, ValueError) as e:
            fatal(str(e))
        print_msg(msg)


def cmd_ofp_parse(opts, args):
    path = args[0]
    try:
        f = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        fatal(f"{path}: open failed ({e.strerror})")
    with f:
        framer = M.Framer()
        while True:
            data = f.read(65536)
            if not data:
                break
            try:
                msgs = framer.feed(data)
            except DecodeError as e:
                fatal(f"{path}: {e}")
            for msg in msgs:
                print_msg(msg)
        if framer.buf:
            fatal(f"{path}: unexpected end of file mid-message")


def cmd_show(opts, args):
    vconn = open_vconn(args[0], opts)
    v = vconn.version
    reply = vconn.transact(M.encode_simple(v, M.OFPT_FEATURES_REQUEST, vconn.next_xid()))
    print_msg(reply)
    if v >= M.OFP13:
        for r in vconn.dump(M.encode_port_desc_request(v, vconn.next_xid())):
            print_msg(r)
    vconn.close()
    vconn = open_vconn(args[0], opts)      # as ovs-ofctl, on a new connection
    reply = vconn.transact(M.encode_simple(v, M.OFPT_GET_CONFIG_REQUEST, vconn.next_xid()))
    print_msg(reply)
    vconn.close()


def dump_transaction(vconn, request, port_names=None, show_stats=True):
    for r in vconn.dump(request):
        print_msg(r, port_names, show_stats)


def cmd_dump_desc(opts, args):
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, M.encode_stats_request(vconn.version, M.OFPST_DESC,
                                                   vconn.next_xid()))


def _port_arg(maps, args):
    """The port named by ARGS[1] (OFPP_ANY if none), names fetched only
    when it is not a number, as ovs-ofctl."""
    if len(args) < 2:
        return OFPP_ANY
    port = port_from_string(args[1])
    if port is None:
        port = port_from_string(args[1], maps.port_names_for_parse())
    if port is None:
        fatal(f"{args[0]}: unknown port `{args[1]}'")
    return port


def cmd_dump_ports_desc(opts, args):
    port = _port_arg(Maps(args[0], opts), args)
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, M.encode_port_desc_request(vconn.version,
                                                       vconn.next_xid(), port))


def cmd_dump_ports(opts, args):
    port = _port_arg(Maps(args[0], opts), args)
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, M.encode_port_stats_request(vconn.version, port,
                                                        vconn.next_xid()))


def cmd_probe(opts, args):
    vconn = open_vconn(args[0], opts)
    reply = vconn.transact(M.encode_simple(vconn.version, M.OFPT_ECHO_REQUEST, 0))
    if M.parse_header(reply).type != M.OFPT_ECHO_REPLY:
        fatal("reply to echo request is not an echo reply")
    vconn.close()


def _parse_request_flow(text, maps, aggregate=False, strict=False):
    """Parse the optional FLOW of dump-flows/del-flows style commands."""
    command = OFPFC_DELETE_STRICT if strict else OFPFC_DELETE
    try:
        fm, usable = parse_flow_mod(text, command,
                                    maps.port_names_for_parse() if text else None,
                                    stats=True)
    except FlowParseError as e:
        fatal(str(e))
    return fm, usable


def cmd_dump_flows(opts, args, aggregate=False):
    target = args[0]
    maps = Maps(target, opts)
    text = args[1] if len(args) > 1 else ""
    if text:
        maps.ports()
        maps.tables()
    fm, usable = _parse_request_flow(text, maps)
    vconn, protocol = open_for_flow_dump(target, opts, usable)
    request = M.encode_flow_stats_request(
        protocol, fm.match, fm.table_id, fm.out_port, fm.out_group,
        fm.cookie, fm.cookie_mask, aggregate, vconn.next_xid())
    replies = vconn.dump(request)
    vconn.close()
    show_names = opts.names if opts.names is not None else sys.stdout.isatty()
    if aggregate or (not opts.sort and not show_names and opts.show_stats):
        for r in replies:
            print_msg(r)
        return
    # As ovs-ofctl's sorting/naming path: no header, no flow ages.
    flows = []
    for r in replies:
        if M.parse_header(r).type == M.OFPT_ERROR:
            check_error(r)
        flows += M.decode_flow_stats_reply(r)
    names = maps.ports() if show_names else None
    if show_names:
        maps.tables()
    for fs in flows:
        fs.idle_age = fs.hard_age = -1
    if opts.sort:
        flows.sort(key=functools.cmp_to_key(functools.partial(compare_flows, opts.sort)))
    for fs in flows:
        print(format_flow_stats(fs, opts.show_stats, names))


def _field_bytes(match, fld):
    v, m = match.get_field(fld)
    return v & m


def _field_present(match, fld):
    _v, m = match.get_field(fld)
    return m != 0


def compare_flows(criteria, a, b):
    for fld, asc in criteria:
        if fld is None:
            ret = (a.priority > b.priority) - (a.priority < b.priority)
        else:
            ina, inb = _field_present(a.match, fld), _field_present(b.match, fld)
            if ina != inb:
                return -1 if ina else 1
            va, vb = _field_bytes(a.match, fld), _field_bytes(b.match, fld)
            ret = (va > vb) - (va < vb)
        if ret:
            return ret if asc else -ret
    # Ties: higher priority first, as ovs-ofctl prints them.
    return (a.priority < b.priority) - (a.priority > b.priority)


def cmd_dump_aggregate(opts, args):
    cmd_dump_flows(opts, args, aggregate=True)


def do_flow_mods(opts, target, texts, command, from_file=None):
    maps = Maps(target, opts)
    maps.tables()
    names = maps.port_names_for_parse()
    fms = []
    usable = P.ANY
    for n, text in _numbered(texts):
        try:
            fm, u = parse_flow_mod(text, command, names)
        except FlowParseError as e:
            fatal(f"{from_file}:{n}: {e}" if from_file else str(e))
        fms.append(fm)
        usable &= u
    vconn, protocol = open_for_flow_mod(target, opts, usable)
    if opts.bundle:
        try:
            msgs = [M.encode_flow_mod(fm, protocol, vconn.next_xid()) for fm in fms]
        except (OFPError, ValueError) as e:
            fatal(str(e))
        bundle_transact(vconn, msgs)
        vconn.close()
        return
    for fm in fms:
        try:
            msg = M.encode_flow_mod(fm, protocol, vconn.next_xid())
        except (OFPError, ValueError) as e:
            fatal(str(e))
        error = vconn.transact_noreply([msg])    # each with its barrier
        if error is not None:
            vconn.close()
            sys.stdout.flush()
            sys.stderr.write(ofp_print.to_string(error) + "\n")
            raise Exit(1)
    vconn.close()


def bundle_transact(vconn, msgs, bundle_id=0):
    """Open bundle BUNDLE_ID, add MSGS, commit (as ovs-ofctl --bundle).
    Errors are reported as ovs-ofctl reports them: "Error X for: <request>"
    for each refused request, then a protocol error."""
    sent = {}
    errors = []

    def control(ctype):
        msg = M.encode_bundle_control(vconn.version, vconn.next_xid(), bundle_id, ctype)
        xid = M.parse_header(msg).xid
        sent[xid] = msg
        vconn.send(msg)
        while True:
            reply = vconn.recv()
            h = M.parse_header(reply)
            if h.type == M.OFPT_ERROR:
                errors.append(reply)
            if h.xid == xid:
                return h.type != M.OFPT_ERROR

    if control(M.OFPBCT_OPEN_REQUEST):
        adds = [M.encode_bundle_add(bundle_id, m) for m in msgs]
        for m in msgs:
            sent[M.parse_header(m).xid] = m
        for a in adds:
            vconn.send(a)
        bxid = vconn.next_xid()
        vconn.send(M.encode_simple(vconn.version, "OFPT_BARRIER_REQUEST", bxid))
        while True:
            reply = vconn.recv()
            h = M.parse_header(reply)
            if h.xid == bxid:
                break
            if h.type == M.OFPT_ERROR:
                errors.append(reply)
        control(M.OFPBCT_COMMIT_REQUEST)
    if errors:
        vconn.close()
        sys.stdout.flush()
        for err in errors:
            name, _quoted = M.decode_error(err)
            request = sent.get(M.parse_header(err).xid, b"")
            text = ofp_print.to_string(request) if request else ""
            sys.stderr.write(f"Error {name} for: {text}\n")
        fatal(f"talking to {vconn.name} (Protocol error)")


def cmd_add_flow(opts, args):
    do_flow_mods(opts, args[0], [args[1]], OFPFC_ADD)


def cmd_add_flows(opts, args):
    do_flow_mods(opts, args[0], read_flow_lines(args[1]), OFPFC_ADD,
                 from_file=args[1])


def cmd_mod_flows(opts, args):
    do_flow_mods(opts, args[0], [args[1]],
                 OFPFC_MODIFY_STRICT if opts.strict else OFPFC_MODIFY)


def cmd_del_flows(opts, args):
    text = args[1] if len(args) > 1 else ""
    do_flow_mods(opts, args[0], [text],
                 OFPFC_DELETE_STRICT if opts.strict else OFPFC_DELETE)


FRAG_MODES = {"normal": 0, "drop": 1, "reassemble": 2, "nx-match": 3}


def fetch_config(vconn):
    reply = vconn.transact(M.encode_simple(vconn.version, M.OFPT_GET_CONFIG_REQUEST,
                                           vconn.next_xid()))
    check_error(reply)
    return M.decode_get_config_reply(reply)


def cmd_get_frags(opts, args):
    vconn = open_vconn(args[0], opts)
    flags, _miss = fetch_config(vconn)
    vconn.close()
    print({v: k for k, v in FRAG_MODES.items()}[flags & 3])


def cmd_set_frags(opts, args):
    if args[1] not in FRAG_MODES:
        fatal(f"{args[1]}: unknown fragment handling mode")
    mode = FRAG_MODES[args[1]]
    vconn = open_vconn(args[0], opts)
    flags, miss = fetch_config(vconn)
    if flags & 3 != mode:
        msg = A.SetConfig((flags & ~3) | mode, miss).encode(vconn.version,
                                                             vconn.next_xid())
        error = vconn.transact_noreply([msg])
        if error is not None:
            check_error(error)
        flags, _miss = fetch_config(vconn)
        if flags & 3 != mode:
            fatal(f"{args[0]}: setting fragment handling mode failed (this "
                  f"switch probably doesn't support mode \"{args[1]}\")")
    vconn.close()


# mod-port commands: name -> (config bit, set?)
_PORT_CONFIG = {"up": (0x1, False), "down": (0x1, True),
                "stp": (0x2, False), "no-stp": (0x2, True),
                "receive": (0x4, False), "no-receive": (0x4, True),
                "receive-stp": (0x8, False), "no-receive-stp": (0x8, True),
                "flood": (0x10, False), "no-flood": (0x10, True),
                "forward": (0x20, False), "no-forward": (0x20, True),
                "packet-in": (0x40, False), "no-packet-in": (0x40, True)}


def cmd_mod_port(opts, args):
    target, port_text, command = args
    vconn = open_vconn(target, opts)
    try:
        ports = fetch_ports(vconn)
    finally:
        vconn.close()
    number = port_from_string(port_text)
    port = next((p for p in ports
                 if p.name == port_text or (number is not None and p.port_no == number)),
                None)
    if port is None:
        fatal(f"{target}: couldn't find port `{port_text}'")
    if command.lower() not in _PORT_CONFIG:
        fatal(f"unknown mod-port command '{command}'")
    bit, on = _PORT_CONFIG[command.lower()]
    vconn = open_vconn(target, opts)
    if vconn.version > M.OFP10 and bit in (0x2, 0x8, 0x10):
        bit = 0        # 1.0-only bits: OVS sends an empty change
    pm = A.PortMod(port.port_no, port.hw_addr, bit if on else 0, bit, 0)
    error = vconn.transact_noreply([pm.encode(vconn.version, vconn.next_xid())])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def cmd_packet_out(opts, args):
    target = args[0]
    if len(args) == 3:
        fatal(f"Too many arguments ({len(args) + 1})")
    if len(args) > 3:
        return _packet_out_legacy(opts, args)
    maps = Maps(target, opts)
    maps.tables()
    names = maps.port_names_for_parse()
    text = args[1]
    match_text, act_text = text, ""
    idx = text.find("actions=")
    if idx >= 0:
        match_text, act_text = text[:idx], text[idx + len("actions="):]
    po = A.PacketOut()
    packet = None
    for key, value in split_items(match_text):
        if key == "in_port":
            port = port_from_string(value, names)
            if port is None:
                fatal(f"{value}: invalid or unknown port for in_port")
            po.in_port = port
        elif key == "packet":
            try:
                packet = bytes.fromhex(value)
            except ValueError:
                fatal(f"{value}: invalid hex packet")
        else:
            fatal(f"unknown keyword {key}")
    if packet is None:
        fatal("must specify packet")
    po.data = packet
    try:
        po.actions = parse_actions(act_text, names)
    except FlowParseError as e:
        fatal(str(e))
    vconn = open_vconn(target, opts)
    try:
        msg = po.encode(vconn.version, vconn.next_xid())
    except (OFPError, ValueError) as e:
        fatal(str(e))
    error = vconn.transact_noreply([msg])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def _group_mods(opts, target, texts, command, from_file=None):
    maps = Maps(target, opts)
    maps.tables()
    names = maps.port_names_for_parse()
    gms = []
    for n, text in _numbered(texts):
        try:
            gms.append(G.parse_group(text, command, names))
        except FlowParseError as e:
            fatal(f"{from_file}:{n}: {e}" if from_file else str(e))
    vconn = open_vconn(target, opts)
    for gm in gms:
        error = vconn.transact_noreply([gm.encode(vconn.version, vconn.next_xid())])
        if error is not None:
            vconn.close()
            sys.stderr.write(ofp_print.to_string(error) + "\n")
            raise Exit(1)
    vconn.close()


def cmd_add_group(opts, args):
    _group_mods(opts, args[0], [args[1]], G.OFPGC_ADD)


def cmd_add_groups(opts, args):
    _group_mods(opts, args[0], read_flow_lines(args[1]), G.OFPGC_ADD, args[1])


def cmd_mod_group(opts, args):
    _group_mods(opts, args[0], [args[1]], G.OFPGC_MODIFY)


def cmd_del_groups(opts, args):
    _group_mods(opts, args[0], [args[1] if len(args) > 1 else ""], G.OFPGC_DELETE)


def cmd_parse_group(opts, args):
    try:
        gm = G.parse_group(args[0], G.OFPGC_ADD)
    except FlowParseError as e:
        fatal(str(e))
    version = min(opts.versions)
    print("usable protocols: any")
    print(f"chosen version: {P.VERSION_NAMES[version]}")
    print(ofp_print.to_string(gm.encode(version, alloc_xid())))


def cmd_dump_groups(opts, args):
    # As ovs-ofctl: a decimal group number; anything else means all groups.
    group_id = G.OFPG_ALL
    if len(args) > 1 and args[1].isdigit() and int(args[1]) <= G.OFPG_MAX:
        group_id = int(args[1])
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, G.encode_group_desc_request(vconn.version,
                                                        vconn.next_xid(), group_id))
    vconn.close()


def cmd_insert_buckets(opts, args):
    _group_mods(opts, args[0], [args[1]], G.OFPGC15_INSERT_BUCKET)


def cmd_remove_buckets(opts, args):
    _group_mods(opts, args[0], [args[1] if len(args) > 1 else ""],
                G.OFPGC15_REMOVE_BUCKET)


def cmd_dump_group_features(opts, args):
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, G.encode_group_features_request(vconn.version,
                                                            vconn.next_xid()))
    vconn.close()


def cmd_dump_group_stats(opts, args):
    maps = Maps(args[0], opts)
    maps.tables()
    names = maps.port_names_for_parse()
    try:
        gm = G.parse_group(args[1] if len(args) > 1 else "", G.OFPGC_DELETE, names)
    except FlowParseError as e:
        fatal(str(e))
    group_id = gm.group.group_id
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, G.encode_group_stats_request(vconn.version, vconn.next_xid(),
                                                         group_id))
    vconn.close()


def _open_for_meters(opts, target):
    allowed = allowed_protocols(opts)
    if not MT.USABLE & allowed:
        fatal(f"none of the usable flow formats ({P.to_string(MT.USABLE)}) is "
              f"among the allowed flow formats ({P.to_string(allowed)})")
    return open_vconn(target, opts)


def _meter_mod(opts, args, command):
    try:
        mm = MT.parse_meter(args[1] if len(args) > 1 else "", command)
    except FlowParseError as e:
        fatal(str(e))
    vconn = _open_for_meters(opts, args[0])
    error = vconn.transact_noreply([mm.encode(vconn.version, vconn.next_xid())])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def cmd_add_meter(opts, args):
    _meter_mod(opts, args, MT.OFPMC_ADD)


def cmd_mod_meter(opts, args):
    _meter_mod(opts, args, MT.OFPMC_MODIFY)


def cmd_del_meters(opts, args):
    _meter_mod(opts, args, MT.OFPMC_DELETE)


def _meter_request(opts, args, encode):
    try:
        mm = MT.parse_meter(args[1] if len(args) > 1 else "", MT.OFPMC_DELETE)
    except FlowParseError as e:
        fatal(str(e))
    vconn = _open_for_meters(opts, args[0])
    dump_transaction(vconn, encode(vconn.version, vconn.next_xid(), mm.meter.meter_id))
    vconn.close()


def cmd_dump_meters(opts, args):
    _meter_request(opts, args, MT.encode_meter_config_request)


def cmd_meter_stats(opts, args):
    _meter_request(opts, args, MT.encode_meter_stats_request)


def cmd_meter_features(opts, args):
    vconn = _open_for_meters(opts, args[0])
    dump_transaction(vconn, MT.encode_meter_features_request(vconn.version,
                                                              vconn.next_xid()))
    vconn.close()


# --- replace-flows and diff-flows ---------------------------------------------------
#
# As OVS's ofctl: flows are keyed by match and priority (not table); each
# key holds a "version" per source (table, timeouts, importance, cookie,
# actions).  OVS walks its classifier in hash order; pyovs uses insertion
# order, so the set of changes is the same but their order may differ.

def _fte_key(match, priority):
    m = match.copy()
    m.normalize()
    return (frozenset(m.values.items()), priority)


def _version_from_fm(fm):
    return dict(table_id=0 if fm.table_id == 255 else fm.table_id,
                idle_timeout=fm.idle_timeout, hard_timeout=fm.hard_timeout,
                importance=fm.importance, cookie=fm.new_cookie, flags=fm.flags,
                actions=fm.actions, match=fm.match, priority=fm.priority)


def _version_from_fs(fs):
    return dict(table_id=fs.table_id, idle_timeout=fs.idle_timeout,
                hard_timeout=fs.hard_timeout, importance=fs.importance,
                cookie=fs.cookie, flags=fs.flags, actions=fs.actions,
                match=fs.match, priority=fs.priority)


def _versions_equal(a, b):
    keys = ("cookie", "idle_timeout", "hard_timeout", "importance", "table_id")
    return (all(a[k] == b[k] for k in keys)
            and format_actions(a["actions"]) == format_actions(b["actions"]))


def _read_flow_file(path, names):
    ftes = {}
    usable = P.ANY
    for n, text in read_flow_lines(path):
        try:
            fm, u = parse_flow_mod(text, OFPFC_ADD, names)
        except FlowParseError as e:
            fatal(f"{path}:{n}: {e}")
        usable &= u
        ftes[_fte_key(fm.match, fm.priority)] = _version_from_fm(fm)
    return ftes, usable


def _set_protocol_for_dump(vconn, cur, usable, opts):
    for f in _DUMP_ORDER:
        if f & usable & allowed_protocols(opts):
            ok, cur = try_set_protocol(vconn, f, cur)
            if ok:
                return f
    fatal(f"switch does not support any of the usable flow formats "
          f"({P.to_string(usable)})")


def _read_switch_flows(vconn, protocol):
    from pyovs.openflow.match import Match
    request = M.encode_flow_stats_request(protocol, Match(), 0xff, xid=vconn.next_xid())
    ftes = {}
    for reply in vconn.dump(request):
        check_error(reply)
        for fs in M.decode_flow_stats_reply(reply):
            ftes[_fte_key(fs.match, fs.priority)] = _version_from_fs(fs)
    return ftes


def _flow_mod_from_version(v, command):
    from pyovs.openflow.flow import FlowMod
    return FlowMod(command=command, match=v["match"], priority=v["priority"],
                   new_cookie=v["cookie"], table_id=v["table_id"],
                   idle_timeout=v["idle_timeout"], hard_timeout=v["hard_timeout"],
                   importance=v["importance"], flags=v["flags"],
                   actions=v["actions"] if command == OFPFC_ADD else [])


def cmd_replace_flows(opts, args):
    target, path = args
    maps = Maps(target, opts)
    names = maps.port_names_for_parse()
    maps.tables()
    file_ftes, usable = _read_flow_file(path, names)
    vconn, protocol = open_for_flow_mod(target, opts, usable)
    dump_protocol = _set_protocol_for_dump(vconn, protocol, usable, opts)
    switch_ftes = _read_switch_flows(vconn, dump_protocol)
    fms = []
    for key, sv in switch_ftes.items():
        if key not in file_ftes:
            fms.append(_flow_mod_from_version(sv, OFPFC_DELETE_STRICT))
    for key, fv in file_ftes.items():
        sv = switch_ftes.get(key)
        if sv is None or not _versions_equal(fv, sv):
            fms.append(_flow_mod_from_version(fv, OFPFC_ADD))
    try:
        msgs = [M.encode_flow_mod(fm, dump_protocol, vconn.next_xid()) for fm in fms]
    except (OFPError, ValueError) as e:
        fatal(str(e))
    for msg in msgs:
        error = vconn.transact_noreply([msg])
        if error is not None:
            vconn.close()
            sys.stderr.write(ofp_print.to_string(error) + "\n")
            raise Exit(1)
    vconn.close()


def _read_source(source, opts):
    is_file = (source.startswith("/") or source.startswith(".")
               or (":" not in source and os.path.exists(source)))
    if is_file:
        return _read_flow_file(source, None)[0]
    vconn = open_vconn(source, opts)
    cur = initial_protocol(vconn.version)
    protocol = _set_protocol_for_dump(vconn, cur, P.ANY, opts)
    ftes = _read_switch_flows(vconn, protocol)
    vconn.close()
    return ftes


def _format_version(v):
    if v is None:
        return ""
    s = f"table={v['table_id']} " if v["table_id"] else ""
    s += v["match"].format(v["priority"])
    if v["cookie"]:
        s += f" cookie=0x{v['cookie']:x}"
    if v["idle_timeout"]:
        s += f" idle_timeout={v['idle_timeout']}"
    if v["hard_timeout"]:
        s += f" hard_timeout={v['hard_timeout']}"
    if v["importance"]:
        s += f" importance={v['importance']}"
    return s + " actions=" + format_actions(v["actions"])


def cmd_diff_flows(opts, args):
    a = _read_source(args[0], opts)
    b = _read_source(args[1], opts)
    differences = False
    for key in list(a) + [k for k in b if k not in a]:
        ta, tb = _format_version(a.get(key)), _format_version(b.get(key))
        if ta != tb:
            if ta:
                print("-" + ta)
            if tb:
                print("+" + tb)
            differences = True
    if differences:
        sys.stdout.flush()
        raise Exit(2)


def cmd_queue_stats(opts, args):
    port = OFPP_ANY
    queue = M.OFPQ_ALL
    if len(args) > 1 and args[1].upper() not in ("ALL", "ANY"):
        port = port_from_string(args[1])
        if port is None:
            port = port_from_string(args[1], Maps(args[0], opts).port_names_for_parse())
        if port is None:
            fatal(f"{args[0]}: unknown port `{args[1]}'")
    if len(args) > 2 and args[2].upper() != "ALL":
        q = parse_int(args[2])
        if q is None or q > 0xffffffff:
            fatal(f"{args[2]}: invalid queue id")
        queue = q
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, M.encode_queue_stats_request(vconn.version,
                                                         vconn.next_xid(), port, queue))
    vconn.close()


def cmd_ofp_print(opts, args):
    text = args[0].replace(" ", "").replace("\t", "").replace("\n", "")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        fatal("trailing garbage following hex bytes")
    if len(data) < 8:
        print(f"OpenFlow packet too short (only {len(data)} bytes):")
        print(ofp_print.hex_dump(data))
        return
    try:
        print(ofp_print.to_string(data))
    except DecodeError as e:
        fatal(str(e))


def cmd_ct_flush_zone(opts, args):
    zone = parse_int(args[1])
    if zone is None or zone > 0xffff:
        fatal(f'invalid zone_id "{args[1]}"')
    vconn = open_vconn(args[0], opts)
    msg = M._nxt(M.NXT_CT_FLUSH_ZONE, vconn.next_xid(), struct.pack("!6xH", zone))
    error = vconn.transact_noreply([msg])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def _tlv_table_mod(opts, args, command):
    try:
        mappings = TLV.parse_tlv_mappings(args[1] if len(args) > 1 else "")
    except FlowParseError as e:
        fatal(str(e))
    # As OVS: the connection is set up as for an NXM flow_mod.
    vconn, _protocol = open_for_flow_mod(args[0], opts, P.NXM_OXM_ANY)
    msg = TLV.encode_tlv_table_mod(vconn.version, vconn.next_xid(), command,
                                   mappings)
    error = vconn.transact_noreply([msg])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def _dump_nx_stats(opts, args, subtype):
    vconn = open_vconn(args[0], opts)
    dump_transaction(vconn, M.encode_nx_stats_request(vconn.version, subtype,
                                                      vconn.next_xid()))


def cmd_queue_get_config(opts, args):
    """One request per port (OpenFlow 1.0 asks for each port when none is
    named, as ovs-ofctl); the queue number only filters in 1.4+."""
    maps = Maps(args[0], opts)
    port = _port_arg(maps, args)
    queue = QC.OFPQ_ALL
    if len(args) > 2:
        queue = parse_int(args[2])
        if queue is None or queue >> 32:
            fatal(f'{args[2]}: queue id must be between 0 and 4294967295')
    vconn = open_vconn(args[0], opts)
    if port == OFPP_ANY and vconn.version == M.OFP10:
        ports = sorted(p for p in maps.ports() if p < OFPP_MAX)
    else:
        ports = [port]
    for p in ports:
        request = QC.encode_queue_get_config_request(vconn.version,
                                                     vconn.next_xid(), p, queue)
        if vconn.version >= M.OFP14:
            dump_transaction(vconn, request)
        else:       # not a multipart: one reply
            print_msg(vconn.transact(request))
    vconn.close()


def cmd_ct_flush(opts, args):
    try:
        ctf = CTF.parse_ct_flush(args[1:])
    except FlowParseError as e:
        fatal(str(e))
    vconn = open_vconn(args[0], opts)
    error = vconn.transact_noreply([CTF.encode_ct_flush(vconn.version,
                                                        vconn.next_xid(), ctf)])
    vconn.close()
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def cmd_add_tlv_map(opts, args):
    _tlv_table_mod(opts, args, TLV.NXTTMC_ADD)


def cmd_del_tlv_map(opts, args):
    _tlv_table_mod(opts, args, TLV.NXTTMC_DELETE if len(args) > 1
                   else TLV.NXTTMC_CLEAR)


def cmd_dump_tlv_map(opts, args):
    vconn = open_vconn(args[0], opts)
    reply = vconn.transact(TLV.encode_tlv_table_request(vconn.version,
                                                        vconn.next_xid()))
    vconn.close()
    if M.parse_header(reply).type == M.OFPT_ERROR:
        sys.stderr.write(ofp_print.to_string(reply) + "\n")
        raise Exit(1)
    print_msg(reply)


def _packet_out_legacy(opts, args):
    """packet-out SWITCH IN_PORT ACTIONS PACKET...: one packet-out each."""
    target, in_port_text, act_text = args[:3]
    maps = Maps(target, opts)
    names = maps.port_names_for_parse()
    maps.tables()
    in_port = port_from_string(in_port_text, names)
    if in_port is None:
        fatal(f"{in_port_text}: invalid or unknown port for in_port")
    try:
        actions = parse_actions(act_text, names)
    except FlowParseError as e:
        fatal(str(e))
    vconn = open_vconn(target, opts)
    for text in args[3:]:
        try:
            packet = bytes.fromhex(text.replace(" ", ""))
        except ValueError:
            fatal("Trailing garbage in packet data")
        po = A.PacketOut(actions, in_port, data=packet)
        error = vconn.transact_noreply([po.encode(vconn.version, vconn.next_xid())])
        if error is not None:
            vconn.close()
            sys.stderr.write(ofp_print.to_string(error) + "\n")
            raise Exit(1)
    vconn.close()


def cmd_dump_tables(opts, args):
    vconn = open_vconn(args[0], opts)
    req = M.encode_stats_request(vconn.version, M.OFPST_TABLE, vconn.next_xid())
    dump_transaction(vconn, req)
    vconn.close()


COMMANDS = {
    # name: (min args, max args, handler)
    "parse-flow": (1, 1, cmd_parse_flow),
    "parse-flows": (1, 1, cmd_parse_flows),
    "ofp-parse": (1, 1, cmd_ofp_parse),
    "show": (1, 1, cmd_show),
    "dump-desc": (1, 1, cmd_dump_desc),
    "dump-flows": (1, 2, cmd_dump_flows),
    "dump-aggregate": (1, 2, cmd_dump_aggregate),
    "add-flow": (2, 2, cmd_add_flow),
    "add-flows": (2, 2, cmd_add_flows),
    "mod-flows": (2, 2, cmd_mod_flows),
    "del-flows": (1, 2, cmd_del_flows),
    "dump-ports": (1, 2, cmd_dump_ports),
    "dump-ports-desc": (1, 2, cmd_dump_ports_desc),
    "probe": (1, 1, cmd_probe),
    "get-frags": (1, 1, cmd_get_frags),
    "set-frags": (2, 2, cmd_set_frags),
    "mod-port": (3, 3, cmd_mod_port),
    "packet-out": (2, 1000, cmd_packet_out),
    "dump-tables": (1, 1, cmd_dump_tables),
    "parse-group": (1, 1, cmd_parse_group),
    "queue-stats": (1, 3, cmd_queue_stats),
    "replace-flows": (2, 2, cmd_replace_flows),
    "diff-flows": (2, 2, cmd_diff_flows),
    "add-meter": (2, 2, cmd_add_meter),
    "mod-meter": (2, 2, cmd_mod_meter),
    "del-meters": (1, 2, cmd_del_meters),
    "dump-meters": (1, 2, cmd_dump_meters),
    "meter-stats": (1, 2, cmd_meter_stats),
    "meter-features": (1, 1, cmd_meter_features),
    "add-group": (2, 2, cmd_add_group),
    "add-groups": (2, 2, cmd_add_groups),
    "mod-group": (2, 2, cmd_mod_group),
    "del-groups": (1, 2, cmd_del_groups),
    "dump-groups": (1, 2, cmd_dump_groups),
    "dump-group-stats": (1, 2, cmd_dump_group_stats),
    "dump-group-features": (1, 1, cmd_dump_group_features),
    "ofp-print": (1, 2, cmd_ofp_print),
    "ct-flush-zone": (2, 2, cmd_ct_flush_zone),
}

# --- monitor and snoop ---------------------------------------------------------

NXPIF_STANDARD, NXPIF_NXT_PACKET_IN, NXPIF_NXT_PACKET_IN2 = 0, 1, 2
OFPC_INVALID_TTL_TO_CONTROLLER = 4


def set_packet_in_format(vconn, fmt):
    """Ask for packet-in format FMT; whether the switch accepted it."""
    msg = M.encode_set_packet_in_format(fmt, vconn.next_xid())
    if vconn.version != M.OFP10:
        msg = bytes([vconn.version]) + msg[1:]
    return vconn.transact_noreply([msg]) is None


def _resume(vconn, msg):
    """ovs-ofctl monitor's "resume": answer packet-in MSG, if it carries a
    continuation (controller(pause)), with NXT_RESUME, printed as sent."""
    from pyovs.ofproto.connmgr import encode_packet_in2
    from pyovs.openflow.continuation import NXT_RESUME
    try:
        pin = (A.decode_packet_in2(msg) if msg[1] == M.OFPT_VENDOR
               else A.decode_packet_in(msg))
    except DecodeError as e:
        sys.stderr.write(f"decoding packet-in failed: {e.name}")
        return
    if pin.continuation is None:
        return
    # NXT_RESUME is an NXT_PACKET_IN2 (the same properties but userdata,
    # as OVS's ofputil_encode_resume()) of its own subtype, at xid 0.
    pin.userdata = b""
    reply = bytearray(encode_packet_in2(vconn.version, pin))
    reply[12:16] = NXT_RESUME.to_bytes(4, "big")
    sys.stderr.write("send: " + ofp_print.to_string(bytes(reply)) + "\n")
    # (as OVS's transact_noreply(), a message of the resume's xid 0 that
    # comes before the barrier reply is its "reply": printed, and the end)
    error = vconn.transact_noreply([bytes(reply)])
    if error is not None:
        sys.stderr.write(ofp_print.to_string(error) + "\n")
        raise Exit(1)


def monitor_vconn(vconn, reply_to_echo, resume=False):
    """Print every message VCONN receives on stderr, as ovs-ofctl does,
    until the peer closes the connection (answering continuations with
    NXT_RESUME if RESUME)."""
    import signal

    def terminate(signum, frame):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stderr.write(f"{stamp}|00001|fatal_signal|WARN|terminating with "
                         f"signal {signum} ({signal.strsignal(signum)})\n")
        sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, terminate)
    vconn.sock.settimeout(None)
    while True:
        try:
            msg = vconn.recv_raw()
        except VconnError as e:
            if "closed by peer" in str(e):
                fatal("vconn_recv: End of file")
            raise
        sys.stderr.write(ofp_print.to_string(msg) + "\n")
        sys.stderr.flush()
        h = M.parse_header(msg)
        if h.type == M.OFPT_ECHO_REQUEST and reply_to_echo:
            vconn.send(M.encode_simple(h.version, M.OFPT_ECHO_REPLY, h.xid,
                                       msg[8:h.length]))
        elif resume and M.type_name(msg) in ("OFPT_PACKET_IN",
                                             "NXT_PACKET_IN2"):
            _resume(vconn, msg)


def _set_config(vconn, flags, miss_send_len):
    error = vconn.transact_noreply([A.SetConfig(flags, miss_send_len).encode(
        vconn.version, vconn.next_xid())])
    if error is not None:
        check_error(error)


def cmd_monitor(opts, args):
    target = args[0]
    if "invalid_ttl" in args[1:]:
        # Only OpenFlow 1.0-1.2 can ask for it (1.0: an OVS extension).
        usable = [v for v in opts.versions if v <= M.OFP12]
        if not usable:
            fatal("invalid_ttl requires one of the OpenFlow versions "
                  "OpenFlow10, OpenFlow11, OpenFlow12 but none is enabled "
                  "(use -O)")
        opts.versions = usable
    vconn = open_vconn(target, opts)
    maps = None
    resume = False
    for arg in args[1:]:
        if arg[:1].isdigit():
            digits = ""
            for c in arg:
                if not c.isdigit():
                    break
                digits += c
            flags, _miss = fetch_config(vconn)
            _set_config(vconn, flags, int(digits) & 0xffff)
        elif arg == "invalid_ttl":
            flags, miss = fetch_config(vconn)
            if not flags & OFPC_INVALID_TTL_TO_CONTROLLER:
                _set_config(vconn, flags | OFPC_INVALID_TTL_TO_CONTROLLER, miss)
                # (OpenFlow reports bad flags poorly: read it back.)
                if not fetch_config(vconn)[0] & OFPC_INVALID_TTL_TO_CONTROLLER:
                    fatal("setting invalid_ttl_to_controller failed (this "
                          "switch probably doesn't support this feature)")
        elif arg.startswith("watch:"):
            if maps is None:
                maps = Maps(target, opts)
                maps.tables()
            try:
                req = FM.parse_watch(arg[6:], maps.port_names_for_parse())
            except FlowParseError as e:
                fatal(str(e))
            # The initial flows are the request's reply, on stdout.
            dump_transaction(vconn, FM.encode_flow_monitor_request(
                vconn.version, vconn.next_xid(), req))
            sys.stdout.flush()
        elif arg == "resume":
            # (undocumented, for tests) answer continuations; packet-ins
            # whole (OVS's UINT16_MAX miss_send_len)
            resume = True
            flags, _miss = fetch_config(vconn)
            _set_config(vconn, flags, 0xffff)
        else:
            fatal(f'{arg}: unsupported "monitor" argument')
    if opts.packet_in_format is not None:
        if not set_packet_in_format(vconn, opts.packet_in_format):
            fatal(f"{vconn.name}: failed to set packet in format to "
                  + M.PACKET_IN_FORMATS[opts.packet_in_format])
    elif not set_packet_in_format(vconn, NXPIF_NXT_PACKET_IN2):
        if vconn.version == M.OFP10:
            set_packet_in_format(vconn, NXPIF_NXT_PACKET_IN)
    monitor_vconn(vconn, True, resume)


def cmd_snoop(opts, args):
    target = args[0]
    if ":" in target:
        name = target
    else:
        name = "unix:" + os.path.join(dirs.rundir(), target + ".snoop")
    try:
        vconn = Vconn.open(name, opts.versions, opts.timeout)
    except VconnError as e:
        fatal(str(e).replace(name, target, 1) if name != target else str(e))
    monitor_vconn(vconn, False)


# --- mod-table ---------------------------------------------------------------

_MISS_SETTINGS = {"controller": 0, "continue": 1, "drop": 2}


def _parse_vacancy(setting):
    """(down, up) from "vacancy:DOWN,UP", as OVS parses it."""
    rest = setting.split(":", 1)[1] if ":" in setting else ""
    parts = [x for x in rest.split(",") if x]

    def pct(text, which):
        try:
            value = int(text, 0)
        except ValueError:
            value = -1
        if not 0 <= value <= 100:
            fatal(f'Invalid vacancy {which} value "{text}"')
        return value

    if not parts:
        fatal("Vacancy down value missing")
    down = pct(parts[0], "down")
    if len(parts) < 2:
        fatal("Vacancy up value missing")
    up = pct(parts[1], "up")
    if down > up:
        fatal("Invalid vacancy range, vacancy up should be greater than "
              "vacancy down (OFPBPC_BAD_VALUE)")
    return down, up


def _fetch_table_desc(vconn, table_id):
    """(config, vacancy) of TABLE_ID from an OFPMP_TABLE_DESC dump."""
    found = (0, None)
    for reply in vconn.dump(M.encode_stats_request(vconn.version, 14,
                                                   vconn.next_xid())):
        check_error(reply)
        _t, _f, body = M.decode_stats_reply(reply)
        ofs = 0
        while ofs + 8 <= len(body):
            length, tid, config = struct.unpack_from("!HBxI", body, ofs)
            if length < 8:
                break
            vacancy = None
            p = ofs + 8
            while p + 4 <= ofs + length:
                ptype, plen = struct.unpack_from("!HH", body, p)
                if plen < 4:
                    break
                if ptype == A.OFPTMPT14_VACANCY and plen >= 6:
                    vacancy = (body[p + 4], body[p + 5])
                p += plen + (-plen % 8)
            if tid == table_id:
                found = (config, vacancy)
            ofs += length
    return found


def cmd_mod_table(opts, args):
    target, table, setting = args
    Maps(target, opts).tables()
    if table.lower() == "all":
        table_id = 0xff
    elif table.isdigit() and int(table) <= 0xff:
        table_id = int(table)
    else:
        fatal(f'unknown table "{table}"')
    eviction = vacancy_on = None
    vacancy = None
    if setting in _MISS_SETTINGS:
        usable = [M.OFP11, M.OFP12]
    elif setting in ("evict", "noevict"):
        usable, eviction = [M.OFP14, M.OFP15], setting == "evict"
    elif setting.startswith("vacancy"):
        usable, vacancy_on = [M.OFP14, M.OFP15], True
        vacancy = _parse_vacancy(setting)
    elif setting == "novacancy":
        usable, vacancy_on = [M.OFP14, M.OFP15], False
    else:
        fatal(f"invalid table_mod setting {setting}")
    allowed = [v for v in opts.versions if v in usable]
    if not allowed:
        names = ", ".join(P.VERSION_NAMES[v] for v in usable)
        fatal(f"table_mod '{setting}' requires one of the OpenFlow versions "
              f"{names}")
    was = opts.versions
    opts.versions = allowed
    try:
        vconn = open_vconn(target, opts)
    finally:
        opts.versions = was
    if vconn.version < M.OFP14:
        msgs = [A.TableMod(table_id, _MISS_SETTINGS[setting]).encode(
            vconn.version, vconn.next_xid())]
        error = vconn.transact_noreply(msgs)
        if error is not None:
            check_error(error)
    else:
        for tid in (range(0xfe) if table_id == 0xff else [table_id]):
            config, cur_vacancy = _fetch_table_desc(vconn, tid)
            ev = (config & A.OFPTC14_EVICTION) if eviction is None else eviction
            vac = (config & A.OFPTC14_VACANCY) if vacancy_on is None else vacancy_on
            props = vacancy if vacancy is not None else cur_vacancy
            tm = A.TableMod(tid, (A.OFPTC14_EVICTION if ev else 0)
                            | (A.OFPTC14_VACANCY if vac else 0),
                            vacancy=props if vac else None)
            error = vconn.transact_noreply([tm.encode(vconn.version,
                                                      vconn.next_xid())])
            if error is not None:
                check_error(error)
    vconn.close()


COMMANDS["mod-table"] = (3, 3, cmd_mod_table)


def cmd_dump_table_desc(opts, args):
    vconn = open_vconn(args[0], opts)
    if vconn.version < M.OFP14:
        fatal("dump-table-desc needs OpenFlow 1.4 or later ('-O OpenFlow14')")
    dump_transaction(vconn, M.encode_stats_request(vconn.version, 14,
                                                   vconn.next_xid()))
    vconn.close()


COMMANDS["dump-table-desc"] = (1, 1, cmd_dump_table_desc)


def cmd_dump_table_features(opts, args):
    vconn = open_vconn(args[0], opts)
    if vconn.version < M.OFP13:
        fatal("dump-table-features needs OpenFlow 1.3 or later ('-O OpenFlow13')")
    printer = TF.DumpPrinter()
    for r in vconn.dump(M.encode_stats_request(vconn.version, TF.OFPMP_TABLE_FEATURES,
                                               vconn.next_xid())):
        if M.parse_header(r).type == M.OFPT_ERROR:
            print_msg(r)
            continue
        try:
            for tf in TF.decode_table_features(vconn.version, r[16:]):
                sys.stdout.write(printer.add(tf))
        except DecodeError as e:
            fatal(str(e))
    sys.stdout.write(printer.finish())
    vconn.close()


COMMANDS["dump-table-features"] = (1, 1, cmd_dump_table_features)


# --- ping and benchmark --------------------------------------------------------

MAX_ECHO_PAYLOAD = 65535 - 8


def atoi(text):
    """C's atoi(): optional blanks and sign, then leading digits; else 0."""
    text = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    digits = ""
    for c in text:
        if not c.isdigit():
            break
        digits += c
    value = sign * int(digits) if digits else 0
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)     # an int's range


def _payload_size(text):
    size = atoi(text) & 0xffffffff          # stored as unsigned, as OVS
    if size > MAX_ECHO_PAYLOAD:
        fatal(f"payload must be between 0 and {MAX_ECHO_PAYLOAD} bytes")
    return size


def cmd_ping(opts, args):
    payload = _payload_size(args[1]) if len(args) > 1 else 64
    vconn = open_vconn(args[0], opts)
    for _ in range(10):
        body = os.urandom(payload)
        request = M.encode_simple(vconn.version, M.OFPT_ECHO_REQUEST,
                                  vconn.next_xid(), body)
        start = time.monotonic()
        reply = vconn.transact(request)
        elapsed = (time.monotonic() - start) * 1000
        h = M.parse_header(reply)
        got = reply[8:h.length]
        if h.type != M.OFPT_ECHO_REPLY or got != body:
            print("Reply does not match request.  Request:")
            print(ofp_print.to_string(request))
            print("Reply:")
            print(ofp_print.to_string(reply))
        print(f"{len(got)} bytes from {args[0]}: xid={h.xid:08x} "
              f"time={elapsed:.1f} ms")
        sys.stdout.flush()
    vconn.close()


def cmd_benchmark(opts, args):
    payload = _payload_size(args[1])
    message_size = 8 + payload
    count = atoi(args[2])
    total = (count * message_size + (1 << 31)) % (1 << 32) - (1 << 31)
    print(f"Sending {count} packets * {message_size} bytes (with header) = "
          f"{total} bytes total")
    sys.stdout.flush()
    vconn = open_vconn(args[0], opts)
    start = time.time_ns() // 1000          # microseconds, as gettimeofday()
    for _ in range(max(count, 0)):
        vconn.transact(M.encode_simple(vconn.version, M.OFPT_ECHO_REQUEST,
                                       vconn.next_xid(), bytes(payload)))
    duration = (time.time_ns() // 1000 - start) / 1000
    vconn.close()
    secs = duration / 1000.0
    rate = (lambda n: f"{n / secs:.0f}") if secs else (
        lambda n: "inf" if n > 0 else ("-inf" if n < 0 else "-nan"))
    print(f"Finished in {duration:.1f} ms ({rate(count)} packets/s) "
          f"({rate(count * message_size)} bytes/s)")


COMMANDS["ping"] = (1, 2, cmd_ping)
COMMANDS["benchmark"] = (3, 3, cmd_benchmark)
COMMANDS["monitor"] = (1, 3, cmd_monitor)
COMMANDS["snoop"] = (1, 1, cmd_snoop)
COMMANDS["dump-ipfix-bridge"] = (1, 1, lambda o, a: _dump_nx_stats(
    o, a, M.NXST_IPFIX_BRIDGE))
COMMANDS["dump-ipfix-flow"] = (1, 1, lambda o, a: _dump_nx_stats(
    o, a, M.NXST_IPFIX_FLOW))
COMMANDS["queue-get-config"] = (1, 3, cmd_queue_get_config)
COMMANDS["ct-flush"] = (1, 4, cmd_ct_flush)
COMMANDS["insert-buckets"] = (2, 2, cmd_insert_buckets)
COMMANDS["remove-buckets"] = (1, 2, cmd_remove_buckets)
COMMANDS["add-tlv-map"] = (2, 2, cmd_add_tlv_map)
COMMANDS["del-tlv-map"] = (1, 2, cmd_del_tlv_map)
COMMANDS["dump-tlv-map"] = (1, 1, cmd_dump_tlv_map)


# Commands of ovs-ofctl(8) that pyovs does not implement yet.
# --- ofp-parse-pcap ------------------------------------------------------------

def cmd_ofp_parse_pcap(opts, args):
    """ofp-parse-pcap PCAP [PORT...]: the OpenFlow messages of the capture's
    TCP streams, each under its "src > dst:" line (pcap_stream.py)."""
    from pyovs.netdev.pcap import PcapError, PcapReader
    from pyovs.openflow import pcap_stream
    path = args[0]
    try:
        f = open(path, "rb")
        PcapReader(f)           # the header, read again by parse_pcap()
        f.seek(0)
    except IsADirectoryError as e:
        _pcap_warn(f"failed to read pcap header: {e.strerror}")
        fatal(f"{path}: open failed ({e.strerror})")
    except OSError as e:
        _pcap_warn(f"{path}: failed to open pcap file for reading ({e.strerror})")
        fatal(f"{path}: open failed ({e.strerror})")
    except PcapError as e:
        if "magic" in str(e):
            magic = int(str(e).split()[2], 16)
            _pcap_warn(f"bad magic {magic:#x} reading pcap file (expected "
                       "0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, or 0x4d3cb2a1)")
            fatal(f"{path}: open failed (Protocol error)")
        _pcap_warn("failed to read pcap header: End of file")
        fatal(f"{path}: open failed (End of file)")
    ports = [atoi(p) for p in args[1:]]
    first = True
    with f:
        try:
            for when, flow, msg in pcap_stream.parse_pcap(f, ports):
                if not first:
                    sys.stdout.write("\n")
                first = False
                if opts.timestamp:
                    sys.stdout.write(time.strftime("%H:%M:%S", time.gmtime(when))
                                     + ".%03d " % (int(when * 1000) % 1000))
                sys.stdout.write("%s.%d > %s.%d:\n" % (
                    _ip(flow.get("nw_src", 0)), flow.get("tp_src", 0),
                    _ip(flow.get("nw_dst", 0)), flow.get("tp_dst", 0)))
                text = ofp_print.to_string(msg, verbosity=opts.verbosity + 1)
                sys.stdout.write(text.rstrip("\n") + "\n")
        except PcapError as e:
            # OVS stops at the first unreadable record; a cut-short record
            # header is a quiet end of file.
            text = str(e)
            if "too big" in text:
                n = int(text.split()[1])
                swapped = int.from_bytes(n.to_bytes(4, "little"), "big")
                _pcap_warn(f"bad packet length {swapped} or {n} reading pcap file")
            elif "record header" not in text:
                _pcap_warn("failed to read pcap packet: End of file")


def _pcap_warn(text):
    sys.stdout.flush()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sys.stderr.write(f"{stamp}|00001|pcap|WARN|{text}\n")


def _ip(addr):
    return ".".join(str((addr >> s) & 0xff) for s in (24, 16, 8, 0))


COMMANDS["ofp-parse-pcap"] = (1, 1 << 31, cmd_ofp_parse_pcap)


# --- hidden commands: encode-hello, parse-packet, compose-packet -------------

def _strtol(text):
    """C's strtol(TEXT, NULL, 0) as an unsigned 32-bit value: leading
    blanks, sign, 0x/0 prefixes, digits up to the first that does not fit;
    out of range clamps as glibc's does."""
    import re
    m = re.match(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?", text)
    digits = m.group(2) if m else None
    if not digits:
        return 0
    value = (int(digits, 16) if digits[:2].lower() == "0x"
             else int(digits, 8) if digits.startswith("0") else int(digits))
    value = min(value, (1 << 63) - 1)
    return (-value if m.group(1) == "-" else value) & 0xffffffff


def cmd_encode_hello(opts, args):
    """encode-hello BITMAP: the hello OVS sends for version BITMAP, dumped
    and printed."""
    bitmap = _strtol(args[0])
    versions = [v for v in range(32) if bitmap >> v & 1]
    if not bitmap or versions[-1] == 0:
        sys.stdout.flush()
        sys.stderr.write(f"{PROGRAM}: ../lib/ofp-msgs.c:1317: assertion version >= "
                         "info->min_version && version <= info->max_version "
                         "failed in raw_instance_get()\n")
        sys.stderr.flush()
        os.abort()
    hello = M.encode_hello(versions, 1)
    print(ofp_print.hex_dump(hello, ascii=False))
    print(ofp_print.to_string(hello, verbosity=opts.verbosity))


def cmd_parse_packet(opts, args):
    """parse-packet: the flow of the packet read from stdin."""
    from pyovs.openflow.packet_print import packet_to_string
    data = sys.stdin.buffer.read(65535)
    sys.stdout.write(packet_to_string(data))


def _exact_flow(text):
    """The flow dict of TEXT in OVS's exact-flow syntax (what
    parse_ofp_exact_flow() takes: a flow_mod's match, no wildcards),
    in_port OFPP_NONE (= ANY) unless given; fatal() with OVS's text if bad."""
    from pyovs.ofproto.classifier import match_to_dicts
    from pyovs.openflow.flow import OFPFC_DELETE
    try:
        fm = parse_flow_mod(text, command=OFPFC_DELETE, stats=True)[0]
    except (FlowParseError, ValueError) as e:
        msg = str(e)
        if msg.startswith("unknown keyword "):
            msg = f"{text}: unknown field {msg[len('unknown keyword '):]}"
        fatal(msg)
    _exact_flow_checks(text)
    value, _mask = match_to_dicts(fm.match)
    value.setdefault("in_port", OFPP_ANY)
    return value


def _exact_flow_checks(text):
    """What parse_ofp_exact_flow() refuses that a flow_mod's match takes:
    a second protocol keyword, a field before its prerequisite (fields are
    set one by one; "tp_dst" is tcp_dst), wildcards."""
    from pyovs.openflow.flow import OFPFC_DELETE
    items = split_items(text)
    dl_type = nw_proto = None
    for i, (key, val) in enumerate(items):
        short = F.SHORTHANDS.get(key) if not val else None
        if short is not None:
            if dl_type is not None:
                fatal(f"{text}: Ethernet type set multiple times")
            dl_type = short[0]
            if short[1] is not None:
                if nw_proto is not None:
                    fatal(f"{text}: nw_proto set multiple times")
                nw_proto = short[1]
            continue
        field = F.field_by_name(key)
        if field is None:
            continue            # parse_flow_mod() names it
        prefix = ",".join(k + ("=" + v if v else "") for k, v in items[:i])
        match = parse_flow_mod(prefix, command=OFPFC_DELETE, stats=True)[0].match
        for member in ("tp_src", "tp_dst"):   # an exact flow's are 0 if unset
            if not match.mask(member):
                match.values[member] = (0, 0xffff)
        if not match.prereqs_ok(field):
            fatal(f"{text}: prerequisites not met for setting {key}")
        if match.value(field.storage) & field.storage_mask:
            fatal(f"{text}: field {key} set multiple times")
        if val and ("/" in val or (key == "tcp_flags" and val[:1] in "+-")):
            fatal(f"{text}: bad value for {key} ({val}: wildcards not allowed here)")
        if field.storage == "nw_proto" and val:
            nw_proto = val


def cmd_compose_packet(opts, args):
    """compose-packet [--pcap] FLOW [L7]: the packet OVS's flow_compose()
    builds for FLOW, as a hex dump or a pcap file on stdout."""
    from pyovs.netdev.pcap import PcapWriter
    from pyovs.packet.build import flow_compose
    from pyovs.packet.flow import flow_extract
    from pyovs.openflow.packet_print import flow_to_string
    flow = _exact_flow(args[0])
    l7 = None
    if len(args) > 1:
        digits = "".join(args[1].split())
        n = 0
        while n + 1 < len(digits) and all(c in "0123456789abcdefABCDEF"
                                          for c in digits[n:n + 2]):
            n += 2
        if n != len(digits):
            fatal(f"{args[1]}: trailing garbage in packet data")
        l7 = bytes.fromhex(digits)
    packet = flow_compose(flow, l7=l7, l7_len=64 if l7 is None else len(l7))
    if opts.pcap:
        sys.stdout.flush()
        w = PcapWriter(sys.stdout.buffer)
        w.write(packet)
        w.flush()
    else:
        print(ofp_print.hex_dump(packet, ascii=False))
    extracted = flow_extract(packet, OFPP_ANY)
    extras = ("vlan_tpid", "vlan_tpid2", "vlan_tci2", "mpls_lse1", "mpls_lse2")
    same = lambda f: {k: v for k, v in f.items() if v and k not in extras}
    if same(extracted) != same(flow):
        sys.stdout.flush()
        sys.stderr.write("specified and extracted flows differ:\nspecified: "
                         + flow_to_string(flow) + "\nextracted: "
                         + flow_to_string(extracted))
        raise Exit(1)


COMMANDS["encode-hello"] = (1, 1, cmd_encode_hello)
COMMANDS["parse-packet"] = (0, 0, cmd_parse_packet)
COMMANDS["compose-packet"] = (1, 2, cmd_compose_packet)


# --- bundle ----------------------------------------------------------------------

def _prefix_command(text, words, default):
    """OVS's leading-keyword parse (parse_ofp_str() with command -2): the
    first token, when a prefix of one of WORDS (tried in order), names the
    command and is taken off; else DEFAULT and TEXT as it is."""
    body = text.lstrip(" \t\r\n")
    end = next((i for i, c in enumerate(body) if c in ", \t\r\n"), len(body))
    for word, command in words:
        if word.startswith(body[:end]):
            return command, body[end:]
    return default, body


_FLOW_COMMANDS = (("add", OFPFC_ADD), ("delete", 3), ("delete_strict", 4),
                  ("modify", 1), ("modify_strict", 2))
_GROUP_COMMANDS = (("add", G.OFPGC_ADD), ("modify", G.OFPGC_MODIFY),
                   ("add_or_mod", 0x8000), ("delete", G.OFPGC_DELETE),
                   ("insert_bucket", G.OFPGC15_INSERT_BUCKET),
                   ("remove_bucket", G.OFPGC15_REMOVE_BUCKET))


def cmd_bundle(opts, args):
    """bundle SWITCH FILE: FILE's "flow ..." and "group ..." lines (each
    optionally led by add, modify, delete...) in one atomic, ordered
    bundle (OVS's parse_ofp_bundle_file() and bundle_transact())."""
    target, path = args
    maps = Maps(target, opts)
    maps.tables()
    names = maps.port_names_for_parse()
    items = []
    usable = P.ANY
    for n, line in read_flow_lines(path):
        kind_end = next((i for i, c in enumerate(line) if c in " \t\r\n"), len(line))
        kind, rest = line[:kind_end], line[kind_end:]
        try:
            if "flow".startswith(kind):
                command, text = _prefix_command(rest, _FLOW_COMMANDS, OFPFC_ADD)
                fm, u = parse_flow_mod(text, command, names)
                items.append(("flow", fm))
                usable &= u
            elif "group".startswith(kind):
                command, text = _prefix_command(rest, _GROUP_COMMANDS, G.OFPGC_ADD)
                if command == 0x8000:
                    raise FlowParseError("add_or_mod: not supported by pyovs yet")
                items.append(("group", G.parse_group(text, command, names)))
            elif "packet-out".startswith(kind):
                raise FlowParseError("packet-out in a bundle: not supported by "
                                     "pyovs yet")
            else:
                raise FlowParseError(f"Unsupported bundle message type: {kind}")
        except FlowParseError as e:
            fatal(f"{path}:{n}: {e}")
    if max(opts.versions) < M.OFP13:
        opts.versions = [M.OFP14]       # bundles need 1.4 (or 1.3's ONF ones)
    vconn, protocol = open_for_flow_mod(target, opts, usable)
    try:
        msgs = [M.encode_flow_mod(x, protocol, vconn.next_xid()) if kind == "flow"
                else x.encode(vconn.version, vconn.next_xid()) for kind, x in items]
    except (OFPError, ValueError) as e:
        fatal(str(e))
    bundle_transact(vconn, msgs)
    vconn.close()


COMMANDS["bundle"] = (2, 2, cmd_bundle)


# --- parse-nxm, parse-nx-match, parse-oxm ----------------------------------------

def _nxm_header_of_name(name):
    """(class, code, experimenter, masked) of an NXM/OXM field NAME
    ("NXM_OF_IN_PORT", "OXM_OF_IPV4_SRC_W", "NXM_NX_COOKIE", or a header
    as 8 hex digits), or None (OVS's parse_nxm_field_name())."""
    from pyovs.openflow.nx_match import NXM_NX_COOKIE
    masked = name.endswith("_W")
    base = name[:-2] if masked else name
    if base == "NXM_NX_COOKIE":
        return NXM_NX_COOKIE[0], NXM_NX_COOKIE[1], None, masked
    field = F.field_by_name(base) if base.upper() == base and "_" in base else None
    if field is not None and not (masked and not field.maskable):
        if base == field.oxm_name and field.oxm:
            cls, code, exp, _since = min(field.oxm, key=lambda o: o[3])
            return cls, code, exp, masked
        if base == field.nxm_name and field.nxm:
            return field.nxm[0], field.nxm[1], None, masked
    if len(name) == 8 and all(c in "0123456789abcdefABCDEF" for c in name):
        h = int(name, 16)
        return h >> 16, (h >> 9) & 0x7f, None, bool(h & 0x100)
    return None


def _nxm_field_bytes(cls, code, exp):
    field = F.field_by_header(cls, code, exp)
    if (cls, code) == (1, 30):
        return 8, None
    return (field.n_bytes, field) if field is not None else (None, None)


def _hex_run(text, i):
    """OVS's ofpbuf_put_hex(): hex byte pairs, blanks between them allowed;
    (bytes, index after)."""
    out = bytearray()
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i + 1 < n and all(c in "0123456789abcdefABCDEF" for c in text[i:i + 2]):
            out.append(int(text[i:i + 2], 16))
            i += 2
        else:
            return bytes(out), i


def _nxm_from_string(text):
    """The NXM/OXM entries TEXT names (OVS's nx_match_from_string_raw());
    fatal() with OVS's message on bad syntax."""
    if text == "<any>":
        return b""
    out = bytearray()
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in ", ":
            i += 1
        if i >= n:
            return bytes(out)
        j = text.find("(", i)
        if j < 0:
            fatal(f"{text}: missing ( at end of nx_match")
        name = text[i:j]
        hdr = _nxm_header_of_name(name)
        if hdr is None:
            fatal(f"{text}: unknown field `{name}'")
        cls, code, exp, masked = hdr
        size, field = _nxm_field_bytes(cls, code, exp)
        value, i = _hex_run(text, j + 1)
        if size is None:
            size = len(value)
        if len(value) != size:
            if field is not None and field.variable and len(value) <= field.n_bytes:
                size = len(value)
            elif field is not None and field.variable:
                fatal(f"expected to read at most {field.n_bytes} bytes but got "
                      f"{len(value)}")
            else:
                fatal(f"expected to read {size} bytes but got {len(value)}")
        mask = b""
        if masked:
            while i < n and text[i] == " ":
                i += 1
            if i >= n or text[i] != "/":
                fatal(f"{text}: missing / in masked field {name}")
            mask, i = _hex_run(text, i + 1)
            if len(mask) != size:
                fatal(f"{text[i:]}: hex digits expected")
        while i < n and text[i] == " ":
            i += 1
        if i >= n or text[i] != ")":
            fatal(f"{text}: missing ) following field {name}")
        i += 1
        length = size * (2 if masked else 1) + (4 if exp is not None else 0)
        out += struct.pack("!HBB", cls, code << 1 | masked, length)
        if exp is not None:
            out += struct.pack("!I", exp)
        out += value + mask


def _nxm_to_string(data):
    """OVS's nx_match_to_string__(): "NAME(value)" / "NAME_W(value/mask)"
    joined by ", ", then "<N invalid bytes>" for a cut-short tail."""
    parts = []
    ofs = 0
    while len(data) - ofs >= 4:
        cls, fm, length = struct.unpack_from("!HBB", data, ofs)
        code, masked = fm >> 1, fm & 1
        exp = None
        body = ofs + 4
        if cls == 0xffff and length >= 4:
            exp = struct.unpack_from("!I", data, body)[0]
            body, length = body + 4, length - 4
        if body + length > len(data) or (masked and length % 2):
            break
        field = F.field_by_header(cls, code, exp)
        if (cls, code) == (1, 30):
            name = "NXM_NX_COOKIE"
        elif field is not None:
            name = field.oxm_name if cls == F.OXM_OF or exp is not None else field.nxm_name
            name = name or f"{cls}:{code}"
        else:
            name = f"{cls}:{code}"
        size = length // 2 if masked else length
        value = data[body:body + size].hex()
        if masked:
            parts.append(f"{name}_W({value}/{data[body + size:body + length].hex()})")
        else:
            parts.append(f"{name}({value})")
        ofs = body + length
    if ofs < len(data):
        parts.append(f"<{len(data) - ofs} invalid bytes>")
    return ", ".join(parts)


def _loose(data):
    """The entries of DATA whose fields pyovs knows (OVS's loose pull
    skips unknown fields)."""
    out = bytearray()
    ofs = 0
    while len(data) - ofs >= 4:
        cls, fm, length = struct.unpack_from("!HBB", data, ofs)
        exp = struct.unpack_from("!I", data, ofs + 4)[0] if cls == 0xffff and \
            len(data) - ofs >= 8 else None
        end = ofs + 4 + length
        known = F.field_by_header(cls, fm >> 1, exp) is not None or \
            (cls, fm >> 1) == (1, 30) or (cls, fm >> 1) == (F.OXM_OF, 44)
        if known or end > len(data):
            out += data[ofs:end]
        ofs = end
    return bytes(out + data[ofs:])


def _check_wildcards(data):
    """OVS refuses a masked entry with 1-bits its mask wildcards."""
    ofs = 0
    while len(data) - ofs >= 4:
        cls, fm, length = struct.unpack_from("!HBB", data, ofs)
        body = ofs + 4 + (4 if cls == 0xffff else 0)
        end = ofs + 4 + length
        if fm & 1 and end <= len(data):
            half = (end - body) // 2
            value = int.from_bytes(data[body:body + half], "big")
            mask = int.from_bytes(data[body + half:end], "big")
            if value & ~mask:
                raise DecodeError("1-bits in value for wildcarded bits",
                                  name="OFPBMC_BAD_WILDCARDS")
        ofs = end


def _parse_nxm_lines(opts, version):
    from pyovs.openflow.nx_match import pull_nxm, put_nxm
    for raw in sys.stdin.read(MAX_FILE).splitlines():
        if raw.startswith("#"):
            print(raw)
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            print()
            continue
        data = _nxm_from_string(line)
        try:
            _check_wildcards(data)
            match, cookie, cookie_mask = pull_nxm(_loose(data), version)
            out = put_nxm(match, version, cookie, cookie_mask)
        except DecodeError as e:
            print(f"nx_pull_match() returned error {e.name}")
            continue
        print(_nxm_to_string(out) if out else "<any>")
        if opts.verbosity > 0:
            wire = (out if version == M.OFP10 else
                    struct.pack("!HH", 1, 4 + len(out)) + out)
            wire += bytes(-len(wire) % 8)
            if wire:
                print(ofp_print.hex_dump(wire, ascii=False))


def cmd_parse_nxm(opts, args):
    """parse-nxm (parse-nx-match): NXM text lines from stdin, through
    OVS's decoder and encoder, printed back."""
    _parse_nxm_lines(opts, M.OFP10)


def cmd_parse_oxm(opts, args):
    """parse-oxm VERSION: the same for OXM in OpenFlow VERSION (1.2+)."""
    names = {v: k for k, v in P.VERSION_NAMES.items()}
    version = names.get(args[0])
    if version is None or version < M.OFP12:
        fatal(f"{args[0]}: not a valid version for OXM")
    _parse_nxm_lines(opts, version)


COMMANDS["parse-nxm"] = (0, 0, cmd_parse_nxm)
COMMANDS["parse-nx-match"] = (0, 0, cmd_parse_nxm)
COMMANDS["parse-oxm"] = (1, 1, cmd_parse_oxm)


# --- list-commands, help, del-meter, dump-meter -------------------------------

#: OVS 3.1's command table, in its order, with the usage list-commands prints.
COMMAND_USAGE = (
    ("show", "switch"),
    ("monitor", "switch [misslen] [invalid_ttl] [watch:[...]]"),
    ("snoop", "switch"),
    ("dump-desc", "switch"),
    ("dump-tables", "switch"),
    ("dump-table-features", "switch"),
    ("dump-table-desc", "switch"),
    ("dump-flows", "switch"),
    ("dump-aggregate", "switch"),
    ("queue-stats", "switch [port [queue]]"),
    ("queue-get-config", "switch [port [queue]]"),
    ("add-flow", "switch flow"),
    ("add-flows", "switch file"),
    ("mod-flows", "switch flow"),
    ("del-flows", "switch [flow]"),
    ("replace-flows", "switch file"),
    ("diff-flows", "source1 source2"),
    ("add-meter", "switch meter"),
    ("mod-meter", "switch meter"),
    ("del-meter", "switch meter"),
    ("del-meters", "switch"),
    ("dump-meter", "switch meter"),
    ("dump-meters", "switch"),
    ("meter-stats", "switch [meter]"),
    ("meter-features", "switch"),
    ("packet-out", 'switch "in_port=<port> packet=<hex data> actions=..."'),
    ("dump-ports", "switch [port]"),
    ("dump-ports-desc", "switch [port]"),
    ("mod-port", "switch iface act"),
    ("mod-table", "switch mod"),
    ("get-frags", "switch"),
    ("set-frags", "switch frag_mode"),
    ("probe", "target"),
    ("ping", "target [n]"),
    ("benchmark", "target n count"),
    ("dump-ipfix-bridge", "switch"),
    ("dump-ipfix-flow", "switch"),
    ("ct-flush-zone", "switch zone"),
    ("ct-flush", "switch [zone=N] [ct-orig-tuple [ct-reply-tuple]]"),
    ("ofp-parse", "file"),
    ("ofp-parse-pcap", "pcap"),
    ("add-group", "switch group"),
    ("add-groups", "switch file"),
    ("mod-group", "switch group"),
    ("del-groups", "switch [group]"),
    ("insert-buckets", "switch [group]"),
    ("remove-buckets", "switch [group]"),
    ("dump-groups", "switch [group]"),
    ("dump-group-stats", "switch [group]"),
    ("dump-group-features", "switch"),
    ("bundle", "switch file"),
    ("add-tlv-map", "switch map"),
    ("del-tlv-map", "switch [map]"),
    ("dump-tlv-map", "switch"),
    ("help", ""),
    ("list-commands", ""),
    ("parse-flow", ""),
    ("parse-flows", ""),
    ("parse-group", ""),
    ("parse-nx-match", ""),
    ("parse-nxm", ""),
    ("parse-oxm", ""),
    ("parse-actions", ""),
    ("parse-instructions", ""),
    ("parse-ofp10-match", ""),
    ("parse-ofp11-match", ""),
    ("parse-pcap", ""),
    ("check-vlan", ""),
    ("print-error", ""),
    ("encode-error-reply", ""),
    ("ofp-print", ""),
    ("encode-hello", ""),
    ("parse-key-value", ""),
    ("compose-packet", ""),
    ("parse-packet", ""),
)


def cmd_list_commands(opts, args):
    lines = ["The available commands are:"]
    lines += ["  %-23s %s" % (name, usage) for name, usage in COMMAND_USAGE]
    print("\n".join(lines))


def cmd_help(opts, args):
    print_help()


COMMANDS["list-commands"] = (0, 1 << 31, cmd_list_commands)
COMMANDS["help"] = (0, 1 << 31, cmd_help)
COMMANDS["del-meter"] = (1, 2, cmd_del_meters)
COMMANDS["dump-meter"] = (1, 2, cmd_dump_meters)


def cmd_parse_key_value(opts, args):
    """parse-key-value ARG...: each ARG split as OVS's
    ofputil_parse_key_value() splits flows and actions."""
    for arg in args:
        print(", ".join(k + ("=" + v if v else "") for k, v in split_items(arg)))


COMMANDS["parse-key-value"] = (1, 1 << 31, cmd_parse_key_value)


NOT_SUPPORTED = {
    # OVS 3.1's hidden commands (`ovs-ofctl list-commands`) pyovs lacks
    "parse-actions",
    "parse-instructions", "parse-ofp10-match", "parse-ofp11-match",
    "parse-pcap", "check-vlan", "print-error", "encode-error-reply",
}


def arm_timeout(seconds):
    """--timeout as OVS does it: SIGALRM ends the process (status 142 in a
    shell) after logging the fatal signal."""
    import signal
    import time

    def expire(signum, frame):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stderr.write(f"{stamp}|00001|fatal_signal|WARN|terminating with "
                         "signal 14 (Alarm clock)\n")
        sys.stderr.flush()
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGALRM)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    reset_xids()
    try:
        opts, args = parse_args(argv)
        if not P.from_versions(opts.versions) & opts.flow_formats:
            versions = ",".join(P.VERSION_NAMES[v] for v in opts.versions)
            fatal(f"None of the enabled OpenFlow versions ({versions}) supports "
                  f"any of the enabled flow formats "
                  f"({P.to_string(opts.flow_formats)}).  (Use -O to enable "
                  "additional OpenFlow versions or -F to enable additional flow "
                  "formats.)")
        if not args:
            fatal("missing command name; use --help for help")
        name, rest = args[0], args[1:]
        if name not in COMMANDS:
            if name in NOT_SUPPORTED:
                fatal(f"'{name}' command is not supported by pyovs yet")
            fatal(f"unknown command '{name}'; use --help for help")
        if opts.timeout:
            arm_timeout(opts.timeout)
        lo, hi, handler = COMMANDS[name]
        if len(rest) < lo:
            fatal(f"'{name}' command requires at least {lo} arguments")
        if len(rest) > hi:
            fatal(f"'{name}' command takes at most {hi} arguments")
        handler(opts, rest)
        sys.stdout.flush()
        return 0
    except Fatal as e:
        sys.stdout.flush()
        sys.stderr.write(f"{PROGRAM}: {e}\n")
        return 1
    except (VconnError, Unsupported, DecodeError) as e:
        sys.stdout.flush()
        sys.stderr.write(f"{PROGRAM}: {e}\n")
        return 1
    except Exit as e:
        return e.status
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
