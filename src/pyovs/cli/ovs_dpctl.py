"""ovs-dpctl: the datapath management utility (ovs-dpctl(8)).

OVS's ovs-dpctl opens kernel datapaths itself.  pyovs has no kernel
datapath: its datapaths (dpif/netdev.py) live inside ovs-vswitchd, so this
ovs-dpctl runs each command there, as the daemon's ``dpctl/COMMAND``
unixctl command (what ``ovs-appctl dpctl/COMMAND`` does), found through
$OVS_RUNDIR/ovs-vswitchd.pid.  What stays local is what OVS checks before
touching a datapath: the options, the command table (unknown command, too
few or too many arguments, --read-only), --help, -V, -o, help and
list-commands, with OVS 3.1's texts and exit status 1 on any failure.

The options that change a command's behaviour (-s, -m, --names,
--no-names, --may-create, --clear) travel in front of the arguments, where
the daemon's dpctl/* handler looks for them.  The daemon's texts name it
("ovs-vswitchd: datapath not found (...)"); each such line is printed as
OVS's ovs-dpctl prints it, under its own name, on stderr, the other lines
on stdout.  A file argument (add-flows,
mod-flows, del-flows) is passed as an absolute path, since the daemon reads
it.  A command the daemon lacks (conntrack, ipf, cache and offload
commands in pyovs) fails as "not supported by ovs-vswitchd".  Of OVS's
undocumented test commands, parse-actions runs here, as in OVS (each
argument parsed and printed back by pyovs.odp.actions, which also reads a
few things OVS prints but does not parse, see there); normalize-actions
is not supported.
"""

import os
import signal
import sys

import pyovs
from pyovs.util import dirs, fatal_signal, jsonrpc, unixctl
from pyovs.util import vlog as vlog_mod
from pyovs.util import command_line
from pyovs.util.command_line import (NO_ARGUMENT, OPTIONAL_ARGUMENT,
                                     REQUIRED_ARGUMENT, GetoptError,
                                     LongOption, getopt_long)

PROGRAM = "ovs-dpctl"
TARGET = "ovs-vswitchd"
INT_MAX = 2 ** 31 - 1

LONG_OPTIONS = [
    LongOption("statistics", NO_ARGUMENT, "s"),
    LongOption("clear", NO_ARGUMENT),
    LongOption("may-create", NO_ARGUMENT),
    LongOption("read-only", NO_ARGUMENT),
    LongOption("more", NO_ARGUMENT, "m"),
    LongOption("names", NO_ARGUMENT),
    LongOption("no-names", NO_ARGUMENT),
    LongOption("timeout", REQUIRED_ARGUMENT, "t"),
    LongOption("help", NO_ARGUMENT, "h"),
    LongOption("option", NO_ARGUMENT, "o"),
    LongOption("version", NO_ARGUMENT, "V"),
    LongOption("verbose", OPTIONAL_ARGUMENT, "v"),
    LongOption("log-file", OPTIONAL_ARGUMENT),
    LongOption("syslog-method", REQUIRED_ARGUMENT),
    LongOption("syslog-target", REQUIRED_ARGUMENT),
]
SHORT_OPTIONS = "smt:hoVv::"

#: OVS 3.1's command table: (name, usage, min args, max args, read-write).
COMMANDS = [
    ("add-dp", "dp [iface...]", 1, INT_MAX, True),
    ("del-dp", "dp", 1, 1, True),
    ("add-if", "dp iface...", 2, INT_MAX, True),
    ("del-if", "dp iface...", 2, INT_MAX, True),
    ("set-if", "dp iface...", 2, INT_MAX, True),
    ("dump-dps", "", 0, 0, False),
    ("show", "[-s] [dp...]", 0, INT_MAX, False),
    ("dump-flows", "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]", 0, 6, False),
    ("add-flow", "[dp] flow actions", 2, 3, True),
    ("mod-flow", "[dp] flow actions", 2, 3, True),
    ("get-flow", "[dp] ufid", 1, 2, False),
    ("del-flow", "[dp] flow", 1, 2, True),
    ("add-flows", "[dp] file", 1, 2, True),
    ("mod-flows", "[dp] file", 1, 2, True),
    ("del-flows", "[dp] [file]", 0, 2, True),
    ("offload-stats-show", "[dp]", 0, 1, False),
    ("dump-conntrack", "[-m] [-s] [dp] [zone=N]", 0, 4, False),
    ("flush-conntrack", "[dp] [zone=N] [ct-orig-tuple] [ct-reply-tuple]", 0, 4, True),
    ("cache-get-size", "[dp]", 0, 1, False),
    ("cache-set-size", "dp cache <size>", 3, 3, True),
    ("ct-stats-show", "[dp] [zone=N]", 0, 3, False),
    ("ct-bkts", "[dp] [gt=N]", 0, 2, False),
    ("ct-set-maxconns", "[dp] maxconns", 1, 2, True),
    ("ct-get-maxconns", "[dp]", 0, 1, False),
    ("ct-get-nconns", "[dp]", 0, 1, False),
    ("ct-enable-tcp-seq-chk", "[dp]", 0, 1, True),
    ("ct-disable-tcp-seq-chk", "[dp]", 0, 1, True),
    ("ct-get-tcp-seq-chk", "[dp]", 0, 1, False),
    ("ct-set-limits", "[dp] [default=L] [zone=N,limit=L]...", 1, INT_MAX, False),
    ("ct-del-limits", "[dp] zone=N1[,N2]...", 1, 2, False),
    ("ct-get-limits", "[dp] [zone=N1[,N2]...]", 0, 2, False),
    ("ipf-set-enabled", "[dp] v4|v6", 1, 2, True),
    ("ipf-set-disabled", "[dp] v4|v6", 1, 2, True),
    ("ipf-set-min-frag", "[dp] v4|v6 minfragment", 2, 3, True),
    ("ipf-set-max-nfrags", "[dp] maxfrags", 1, 2, True),
    ("ipf-get-status", "[dp]", 0, 1, False),
    ("help", "", 0, INT_MAX, False),
    ("list-commands", "", 0, INT_MAX, False),
    ("parse-actions", "actions", 1, INT_MAX, False),
    ("normalize-actions", "actions", 2, INT_MAX, False),
]
#: Commands whose last argument may be a file the daemon reads.
FILE_COMMANDS = ("add-flows", "mod-flows", "del-flows")
#: Commands that are not supported.
NOT_SUPPORTED = ("normalize-actions",)

USAGE = """\
%(p)s: Open vSwitch datapath management utility
usage: %(p)s [OPTIONS] COMMAND [ARG...]
  add-dp DP [IFACE...]     add new datapath DP (with IFACEs)
  del-dp DP                delete local datapath DP
  add-if DP IFACE...       add each IFACE as a port on DP
  set-if DP IFACE...       reconfigure each IFACE within DP
  del-if DP IFACE...       delete each IFACE from DP
  dump-dps                 display names of all datapaths
  show                     show basic info on all datapaths
  show DP...               show basic info on each DP
  dump-flows [DP]          display flows in DP
  add-flow [DP] FLOW ACTIONS add FLOW with ACTIONS to DP
  add-flows [DP] FILE        add flows from FILE
  mod-flow [DP] FLOW ACTIONS change FLOW actions to ACTIONS in DP
  mod-flows [DP] FILE        change flows from FILE
  get-flow [DP] ufid:UFID    fetch flow corresponding to UFID
  del-flow [DP] FLOW         delete FLOW from DP
  del-flows [DP] [FILE]      delete all or specified flows from DP
  cache-get-size [DP]             Show the current size for all caches
  cache-set-size DP CACHE SIZE  Set cache size for a specific cache
  dump-conntrack [DP] [zone=ZONE]  display conntrack entries for ZONE
  flush-conntrack [DP] [zone=ZONE] [ct-tuple]delete matched conntrack entries in ZONE
  ct-stats-show [DP] [zone=ZONE] [verbose] CT connections grouped by protocol
  ct-bkts [DP] [gt=N] display connections per CT bucket
Each IFACE on add-dp, add-if, and set-if may be followed by
comma-separated options.  See ovs-dpctl(8) for syntax, or the
Interface table in ovs-vswitchd.conf.db(5) for an options list.
For COMMAND dump-flows, add-flow, add-flows, mod-flow,
mod-flows, del-flow and del-flows, DP is optional if there is
only one datapath.

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: %(logdir)s/%(p)s.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP

Options for show and mod-flow:
  -s,  --statistics           print statistics for port or flow

Options for dump-flows:
  -m, --more                  increase verbosity of output
  --names                     use port names in output

Options for mod-flow:
  --may-create                create flow if it doesn't exist
  --read-only                 do not run read/write commands
  --clear                     reset existing stats to zero

Other options:
  -t, --timeout=SECS          give up after SECS seconds
  -h, --help                  display this help message
  -V, --version               display version information
"""


class Failure(Exception):
    """A failed run: str() is the message, printed as "ovs-dpctl: MSG"."""


def usage_text():
    return USAGE % {"p": PROGRAM, "logdir": dirs.logdir()}


def list_commands_text():
    return "The available commands are:\n" + "".join(
        "  %-23s %s\n" % (name, usage) for name, usage, _, _, _ in COMMANDS)


def parse_options(argv):
    """(daemon flags, read_only, timeout, operands); exits for -h, -V, -o."""
    try:
        opts, rest = getopt_long(argv, SHORT_OPTIONS, LONG_OPTIONS)
    except GetoptError as e:
        sys.stderr.write("%s: %s\n" % (sys.argv[0] if sys.argv else PROGRAM, e))
        sys.exit(1)
    flags, read_only, timeout = [], False, 0
    for key, value in opts:
        if key in ("s", "m"):
            flags.append("-" + key)
        elif key in ("--clear", "--may-create", "--names", "--no-names"):
            flags.append(key)
        elif key == "--read-only":
            read_only = True
        elif key == "t":
            if not value.isdigit() or not 0 < int(value) < 2 ** 32:
                raise Failure("value %s on -t or --timeout is invalid" % value)
            timeout = int(value)
        elif key == "h":
            sys.stdout.write(usage_text())
            sys.exit(0)
        elif key == "o":
            command_line.print_options(LONG_OPTIONS)
            sys.exit(0)
        elif key == "V":
            print("%s (Open vSwitch) %s" % (PROGRAM, pyovs.OVS_VERSION))
            sys.exit(0)
        elif key == "v":
            vlog_mod.handle_verbose(value)
        elif key == "--log-file":
            error = vlog_mod.set_log_file(value)
            if error:
                raise Failure("could not open log file (%s)" % error)
        elif key == "--syslog-method":
            vlog_mod.set_syslog_method(value)
        elif key == "--syslog-target":
            vlog_mod.set_syslog_target(value)
    return flags, read_only, timeout, rest


def check_command(operands, read_only):
    """The command's table entry, or Failure with OVS's text."""
    if not operands:
        raise Failure("missing command name; use --help for help")
    name, n_args = operands[0], len(operands) - 1
    for entry in COMMANDS:
        if entry[0] == name:
            _, _, lo, hi, rw = entry
            if n_args < lo:
                raise Failure("'%s' command requires at least %d arguments" % (name, lo))
            if n_args > hi:
                raise Failure("'%s' command takes at most %d arguments" % (name, hi))
            if rw and read_only:
                raise Failure("'%s' command does not work in read only mode" % name)
            return entry
    raise Failure("unknown command '%s'; use --help for help" % name)


def _file_args(name, args):
    """ARGS with a file operand made absolute (the daemon reads it)."""
    if name in FILE_COMMANDS and args and (name != "del-flows" or os.path.exists(args[-1])):
        if args[-1] != "-":
            args = args[:-1] + [os.path.abspath(args[-1])]
    return args


def split_reply(text):
    """(stdout text, stderr text) of a reply from the daemon: the lines it
    signed are errors (ovs-dpctl prints them on stderr, under its own
    name), the others output."""
    out, err = [], []
    prefix = TARGET + ": "
    for line in text.splitlines(True):
        if line.startswith(prefix):
            err.append(PROGRAM + ": " + line[len(prefix):])
        else:
            out.append(line)
    return "".join(out), "".join(err)


def parse_actions(args):
    """parse-actions: each datapath action list printed back, up to the
    first that does not parse."""
    from pyovs.odp import actions as odp_actions
    for text in args:
        try:
            acts = odp_actions.parse_actions(text)
        except (ValueError, TypeError):
            raise Failure("odp_actions_from_string (Invalid argument)") from None
        sys.stdout.write(odp_actions.format_actions(acts) + "\n")
        sys.stdout.flush()


def run_in_daemon(name, flags, args):
    """Run dpctl/NAME in ovs-vswitchd: (error text or None, output text)."""
    try:
        path = unixctl.target_to_socket_path(TARGET)
    except OSError as e:
        raise Failure('cannot read pidfile "%s" (%s)' % (e.filename, e.strerror)) from None
    try:
        client = unixctl.client_connect(path)
    except OSError as e:
        raise Failure('cannot connect to "%s" (%s)' % (path, e.strerror)) from None
    try:
        error, result = unixctl.client_transact(client, "dpctl/" + name, flags + args)
    except (OSError, EOFError, jsonrpc.JsonRpcError) as e:
        text = ("Protocol error" if isinstance(e, jsonrpc.JsonRpcError)
                else getattr(e, "strerror", None) or str(e))
        raise Failure("%s: transaction error (%s)" % (TARGET, text)) from None
    finally:
        client.close()
    if error is not None and error.startswith('"dpctl/%s" is not a valid command' % name):
        raise Failure("'%s' command not supported by %s" % (name, TARGET))
    return error, result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    vlog_mod.set_program_name(PROGRAM)
    try:
        flags, read_only, timeout, operands = parse_options(argv)
        if timeout:
            fatal_signal.install([signal.SIGALRM])
            signal.alarm(timeout)
        name, _, _, _, _ = check_command(operands, read_only)
        args = operands[1:]
        if name == "help":
            sys.stdout.write(usage_text())
            return 0
        if name == "list-commands":
            sys.stdout.write(list_commands_text())
            return 0
        if name == "parse-actions":
            parse_actions(args)
            return 0
        if name in NOT_SUPPORTED:
            raise Failure("'%s' command not supported" % name)
        error, result = run_in_daemon(name, flags, _file_args(name, args))
    except Failure as e:
        sys.stderr.write("%s: %s\n" % (PROGRAM, e))
        return 1
    out, err = split_reply(result if error is None else error)
    if error is not None and not err:       # not signed: all of it is the error
        out, err = "", "%s: %s" % (PROGRAM, error)
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
