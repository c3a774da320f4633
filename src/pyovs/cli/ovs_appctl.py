"""ovs-appctl: run a command on a running Open vSwitch daemon (ovs-appctl(8)).

Exit status: 0 on success, 1 if the target cannot be reached or the command
line is wrong, 2 if the daemon answered with an error.  With -T/--timeout
the program kills itself with SIGALRM when the time runs out, as OVS does.
"""

import signal
import sys

import pyovs
from pyovs.util import fatal_signal, jsonrpc, unixctl
from pyovs.util import vlog as vlog_mod
from pyovs.util import command_line
from pyovs.util.command_line import (NO_ARGUMENT, OPTIONAL_ARGUMENT,
                                     REQUIRED_ARGUMENT, GetoptError,
                                     LongOption, getopt_long)

PROGRAM = "ovs-appctl"

LONG_OPTIONS = [
    LongOption("target", REQUIRED_ARGUMENT, "t"),
    LongOption("execute", NO_ARGUMENT, "e"),
    LongOption("help", NO_ARGUMENT, "h"),
    LongOption("option", NO_ARGUMENT, "o"),
    LongOption("version", NO_ARGUMENT, "V"),
    LongOption("timeout", REQUIRED_ARGUMENT, "T"),
    LongOption("verbose", OPTIONAL_ARGUMENT, "v"),
    LongOption("log-file", OPTIONAL_ARGUMENT),
    LongOption("syslog-method", REQUIRED_ARGUMENT),
    LongOption("syslog-target", REQUIRED_ARGUMENT),
]
SHORT_OPTIONS = "+t:ehoVT:v::"

USAGE = """\
%(p)s, for querying and controlling Open vSwitch daemon
usage: %(p)s [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  -h, --help         Print this helpful information
  -V, --version      Display %(p)s version information
"""


def fatal(text, err=None):
    if err:
        text += " (%s)" % err
    sys.stderr.write("%s: %s\n" % (PROGRAM, text))
    sys.exit(1)


def parse_command_line(argv):
    """(target, timeout, command, args) or exit as OVS's ovs-appctl does."""
    try:
        opts, rest = getopt_long(argv, SHORT_OPTIONS, LONG_OPTIONS)
    except GetoptError as e:
        # glibc's getopt names the program by argv[0], as typed.
        sys.stderr.write("%s: %s\n" % (sys.argv[0] if sys.argv else PROGRAM, e))
        sys.exit(1)
    target = None
    timeout = 0
    e_options = 0
    for key, value in opts:
        if key == "t":
            if target is not None:
                fatal("-t or --target may be specified only once")
            target = value
        elif key == "e":
            e_options += 1
            if e_options > 1:
                fatal("-e or --execute may be speciifed only once")
        elif key == "h":
            sys.stdout.write(USAGE % {"p": PROGRAM})
            sys.exit(0)
        elif key == "o":
            command_line.print_options(LONG_OPTIONS)
            sys.exit(0)
        elif key == "T":
            if not value.isdigit() or int(value) == 0 or int(value) >= 2 ** 32:
                fatal("value %s on -T or --timeout is invalid" % value)
            timeout = int(value)
        elif key == "V":
            print("%s (Open vSwitch) %s" % (PROGRAM, pyovs.OVS_VERSION))
            sys.exit(0)
        elif key == "v":
            vlog_mod.handle_verbose(value)
        elif key == "--log-file":
            error = vlog_mod.set_log_file(value)
            if error:
                fatal("could not open log file", error)
        elif key in ("--syslog-method", "--syslog-target"):
            try:
                if key == "--syslog-method":
                    vlog_mod.set_syslog_method(value)
                else:
                    vlog_mod.set_syslog_target(value)
            except ValueError as e:
                fatal(str(e))
    if not rest:
        fatal("at least one non-option argument is required "
              "(use --help for help)")
    return target or "ovs-vswitchd", timeout, rest[0], rest[1:]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # Like a C program: a closed output pipe ends us quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    vlog_mod.set_program_name(PROGRAM)
    target, timeout, command, args = parse_command_line(argv)
    if timeout:
        fatal_signal.install([signal.SIGALRM])
        signal.alarm(timeout)

    try:
        socket_path = unixctl.target_to_socket_path(target)
    except OSError as e:
        fatal('cannot read pidfile "%s"' % e.filename, e.strerror)
    try:
        client = unixctl.client_connect(socket_path)
    except OSError as e:
        fatal('cannot connect to "%s"' % socket_path, e.strerror)

    try:
        error, result = unixctl.client_transact(client, command, args)
    except (OSError, EOFError, jsonrpc.JsonRpcError) as e:
        if isinstance(e, jsonrpc.JsonRpcError):
            text = "Protocol error"
        else:
            text = getattr(e, "strerror", None) or str(e)
        fatal("%s: transaction error" % target, text)
    finally:
        client.close()

    if error is not None:
        sys.stderr.write(error)
        sys.stderr.flush()
        sys.stderr.write("%s: %s: server returned an error\n" % (PROGRAM, target))
        sys.exit(2)
    sys.stdout.write(result)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
