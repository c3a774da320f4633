"""Daemon plumbing shared by every pyovs daemon (OVS's lib/daemon).

A daemon's life:

1. ``add_daemon_options(parser)`` adds OVS's daemon, logging and control
   options to an argparse parser; ``-V/--version`` prints
   ``PROGRAM (Open vSwitch) 3.1.0`` and exits at once.  The parser is made
   to read --pidfile, --log-file and -v/--verbose as getopt_long does: their
   optional argument must be attached (``--pidfile=FILE``, ``-vSPEC``).
2. ``apply_daemon_options(args)`` applies the logging options (-v specs,
   --log-file, --syslog-method, --syslog-target) and records the rest.
3. ``daemonize_start()`` -- before any event loop exists.  With --detach it
   forks: the parent waits, the child carries on in a new session.  The
   child (or the only process) then takes the pidfile: ``PID\\n`` written to
   ``FILE.tmp``, locked with an fcntl write lock and renamed into place, the
   lock held for the life of the process.  OVS's read_pidfile() checks that
   lock, so real ovs-appctl accepts pyovs's pidfiles and vice versa.
4. The daemon starts listening (unixctl socket, remotes) and then calls
   ``daemonize_complete()``: the waiting parent exits 0, so that
   ``DAEMON --detach ...; ovs-appctl ...`` works immediately; the child
   closes its standard streams, turns console logging off and leaves the
   working directory for / unless --no-chdir.
5. SIGTERM, SIGINT, SIGHUP and SIGALRM are fatal (pyovs.util.fatal_signal):
   logged, the pidfile and control sockets removed, then the process dies
   of the signal.  A daemon may install its own handlers instead (e.g. with
   loop.add_signal_handler); atexit still removes the pidfile.

With --monitor a monitor process sits between the two: it forks the daemon
proper, and if the daemon dies of a crash signal (SIGSEGV, SIGABRT, ...)
it logs ``pid N died, killed (...), restarting`` and forks it again, at most
once every 10 seconds.  A daemon that exits, or is killed by any other
signal (SIGTERM, SIGKILL), is not restarted.  The pidfile always names the
daemon proper, not the monitor.

API: add_daemon_options(parser, program=None), apply_daemon_options(args),
daemonize_start(), daemonize_complete(), read_pidfile(path) -> pid (raises
OSError), remove_pidfile(), pidfile_name(), unixctl_path(), is_detached();
rundir()/logdir()/dbdir()/pkgdatadir() (from pyovs.util.dirs);
version_text(program).
"""

import argparse
import errno
import fcntl
import os
import signal
import struct
import sys

import pyovs
from pyovs.util import fatal_signal
from pyovs.util import vlog as vlog_mod
from pyovs.util.dirs import dbdir, logdir, pkgdatadir, rundir  # noqa: F401
from pyovs.util.vlog import Vlog

vlog = Vlog("daemon_unix")

_state = {
    "program": None,
    "detach": False,
    "no_chdir": False,
    "monitor": False,
    "pidfile": None,
    "overwrite_pidfile": False,
    "user": None,
    "unixctl": None,
    "ready_fd": None,      # pipe to the waiting parent (with --detach)
    "pidfile_fd": None,
    "pidfile_created": False,
}


def version_text(program):
    return "%s (Open vSwitch) %s" % (program, pyovs.OVS_VERSION)


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text(parser.prog))
        parser.exit(0)


_DEFAULT = object()

#: Options whose argument is optional and, as with getopt_long, can only be
#: given attached ("--pidfile=FILE", "-vSPEC"): a following word is never
#: their argument ("ovsdb-server --pidfile conf.db" names a database).
_OPTIONAL_ARG_OPTIONS = ("--pidfile", "--log-file", "--verbose")


def _attach_optional_args(argv, long_options=()):
    out = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[i:])
        if arg.startswith("--") and "=" not in arg:
            # An unambiguous abbreviation counts, as with getopt_long.
            matches = [o for o in long_options if o.startswith(arg)]
            full = arg if arg in long_options else (
                matches[0] if len(matches) == 1 else arg)
            if full in _OPTIONAL_ARG_OPTIONS:
                arg = full + "="
        elif arg.startswith("-v") and not arg.startswith("--"):
            arg = "--verbose=" + arg[2:]
        out.append(arg)
    return out


def _wrap_parse(parser):
    """Make PARSER treat optional option arguments as getopt_long does."""
    original = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        if args is None:
            args = sys.argv[1:]
        long_options = [o for o in parser._option_string_actions
                        if o.startswith("--")]
        return original(_attach_optional_args(list(args), long_options),
                        namespace)

    parser.parse_known_args = parse_known_args


def add_daemon_options(parser, program=None):
    """Add OVS's daemon, vlog and unixctl options to argparse PARSER."""
    if program:
        parser.prog = program
    g = parser.add_argument_group("Daemon options")
    g.add_argument("--detach", action="store_true",
                   help="run in background as daemon")
    g.add_argument("--monitor", action="store_true",
                   help="creates a process to monitor this daemon")
    g.add_argument("--user", metavar="username[:group]",
                   help="changes the effective daemon user:group")
    g.add_argument("--no-chdir", action="store_true",
                   help="do not chdir to '/'")
    g.add_argument("--pidfile", nargs="?", const=_DEFAULT, metavar="FILE",
                   help="create pidfile (default: %s/%s.pid)"
                   % (rundir(), parser.prog))
    g.add_argument("--overwrite-pidfile", action="store_true",
                   help="with --pidfile, start even if already running")
    g = parser.add_argument_group("Logging options")
    g.add_argument("-v", "--verbose", action="append", nargs="?", const="",
                   metavar="SPEC", help="set logging levels")
    g.add_argument("--log-file", nargs="?", const=_DEFAULT, metavar="FILE",
                   help="enable logging to specified FILE (default: %s/%s.log)"
                   % (logdir(), parser.prog))
    g.add_argument("--syslog-method", metavar="(libc|unix:file|udp:ip:port)",
                   help="specify how to send messages to syslog daemon")
    g.add_argument("--syslog-target", metavar="HOST:PORT",
                   help="also send syslog msgs to HOST:PORT via UDP")
    g = parser.add_argument_group("Other options")
    g.add_argument("--unixctl", metavar="SOCKET",
                   help="override default control socket name")
    g.add_argument("-V", "--version", action=_VersionAction,
                   help="display version information")
    _wrap_parse(parser)
    return parser


def apply_daemon_options(args, program=None):
    """Apply parsed options; PROGRAM defaults to the argparse prog name."""
    program = program or _state["program"] or os.path.basename(sys.argv[0])
    _state["program"] = program
    vlog_mod.set_program_name(program)
    try:
        if getattr(args, "syslog_method", None):
            vlog_mod.set_syslog_method(args.syslog_method)
        if getattr(args, "syslog_target", None):
            vlog_mod.set_syslog_target(args.syslog_target)
    except ValueError as e:
        _fatal(str(e))
    for spec in getattr(args, "verbose", None) or []:
        vlog_mod.handle_verbose(spec or None)
    _state["detach"] = bool(getattr(args, "detach", False))
    _state["no_chdir"] = bool(getattr(args, "no_chdir", False))
    _state["monitor"] = bool(getattr(args, "monitor", False))
    _state["overwrite_pidfile"] = bool(getattr(args, "overwrite_pidfile", False))
    _state["user"] = getattr(args, "user", None)
    _state["unixctl"] = getattr(args, "unixctl", None)
    pidfile = getattr(args, "pidfile", None)
    if pidfile is _DEFAULT or pidfile == "":
        pidfile = os.path.join(rundir(), program + ".pid")
    elif pidfile:
        pidfile = os.path.abspath(os.path.join(rundir(), pidfile)) \
            if not pidfile.startswith("/") else pidfile
    _state["pidfile"] = pidfile
    log_file = getattr(args, "log_file", None)
    if log_file is not None:
        error = vlog_mod.set_log_file(None if log_file in (_DEFAULT, "") else log_file)
        if error:
            _fatal("could not open log file (%s)" % error)


def _fatal(text):
    sys.stderr.write("%s: %s\n" % (_state["program"], text))
    sys.exit(1)


def pidfile_name():
    return _state["pidfile"]


def unixctl_path():
    """The --unixctl value (None means the default PROGRAM.PID.ctl)."""
    return _state["unixctl"]


def is_detached():
    return _state["detach"]


# ---------------------------------------------------------------------------
# Pidfiles with OVS's fcntl locking.

_FLOCK = "hhqqi"


def _getlk(fd):
    """(lock type, pid) of a conflicting write lock on FD, as F_GETLK."""
    buf = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + b"\0" * 4
    res = fcntl.fcntl(fd, fcntl.F_GETLK, buf)
    l_type, _, _, _, l_pid = struct.unpack(_FLOCK, res[:struct.calcsize(_FLOCK)])
    return l_type, l_pid


def read_pidfile(path):
    """The pid of the running process holding pidfile PATH.

    Raises OSError (ENOENT, ESRCH for a stale file, ...) after logging as
    OVS's read_pidfile does."""
    try:
        f = open(path, "r+b")
    except OSError as e:
        vlog.warn("%s: open: %s", path, e.strerror)
        raise
    with f:
        try:
            l_type, l_pid = _getlk(f.fileno())
        except OSError as e:
            vlog.warn("%s: fcntl: %s", path, e.strerror)
            raise
        if l_type == fcntl.F_UNLCK:
            if os.getpid() == _pidfile_owner(path):
                return os.getpid()
            vlog.dbg("%s: pid file is stale", path)
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
        line = f.readline()
        if not line:
            vlog.warn("%s: read: unexpected end of file", path)
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
        try:
            pid = int(line.strip() or b"0")
        except ValueError:
            pid = 0
        if pid != l_pid:
            vlog.warn("%s: stale pidfile for pid %s being deleted by pid %d",
                      path, line.decode(errors="replace").strip(), l_pid)
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
        return pid


def _pidfile_owner(path):
    """Our own pid if we hold PATH (F_GETLK cannot see our own lock)."""
    if _state["pidfile_fd"] is not None and _state["pidfile"] == path:
        return os.getpid()
    return None


def _make_pidfile():
    path = _state["pidfile"]
    if not path:
        return
    tmp = path + ".tmp"
    if os.path.exists(path) and not _state["overwrite_pidfile"]:
        try:
            pid = read_pidfile(path)
        except OSError:
            pass
        else:
            _fatal("%s: already running as pid %d, aborting" % (path, pid))
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError as e:
        _fatal("%s: failed to delete stale pidfile (%s)" % (tmp, e.strerror))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as e:
        _fatal("%s: create failed (%s)" % (tmp, e.strerror))
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        _fatal("%s: fcntl(F_SETLK) failed (%s)" % (tmp, e.strerror))
    os.write(fd, b"%d\n" % os.getpid())
    os.fsync(fd)
    try:
        os.rename(tmp, path)
    except OSError as e:
        _fatal("failed to rename \"%s\" to \"%s\" (%s)" % (tmp, path, e.strerror))
    _state["pidfile_fd"] = fd
    _state["pidfile_created"] = True


def remove_pidfile():
    """Remove our pidfile (call on clean exit)."""
    if _state["pidfile_created"]:
        try:
            os.unlink(_state["pidfile"])
        except OSError:
            pass
        _state["pidfile_created"] = False
    if _state["pidfile_fd"] is not None:
        os.close(_state["pidfile_fd"])
        _state["pidfile_fd"] = None


# ---------------------------------------------------------------------------
# Detaching.

def _switch_user(spec):
    import grp
    import pwd
    user, _, group = spec.partition(":")
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        _fatal("%s: invalid user name" % user)
    gid = pw.pw_gid
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            _fatal("%s: invalid group name" % group)
    if os.getuid() == pw.pw_uid and os.getgid() == gid:
        return
    try:
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(pw.pw_uid)
    except OSError as e:
        _fatal("failed to switch to user %s (%s)" % (spec, e.strerror))


#: Deaths that --monitor answers with a restart (as OVS's should_restart).
_RESTART_SIGNALS = (signal.SIGABRT, signal.SIGALRM, signal.SIGBUS,
                    signal.SIGFPE, signal.SIGILL, signal.SIGPIPE,
                    signal.SIGSEGV, signal.SIGXCPU, signal.SIGXFSZ)


def _status_msg(status):
    if os.WIFEXITED(status):
        return "exit status %d" % os.WEXITSTATUS(status)
    sig = os.WTERMSIG(status)
    text = "killed (%s)" % signal.strsignal(sig)
    if os.WCOREDUMP(status):
        text += ", core dumped"
    return text


def _monitor():
    """Run the monitor loop; returns only in the daemon proper."""
    import time
    notify_fd = _state["ready_fd"]      # the original parent, or None
    last_restart = None
    first = True
    while True:
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            if notify_fd is not None:
                os.close(notify_fd)
            _state["ready_fd"] = wfd
            return
        os.close(wfd)
        ready = _read_ready(rfd)
        if first:
            first = False
            if not ready:
                _, status = os.waitpid(pid, 0)
                if notify_fd is None:
                    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
                os._exit(1)     # the parent sees the pipe close and reports
            if notify_fd is not None:
                os.write(notify_fd, b"1")
                os.close(notify_fd)
                notify_fd = None
                null = os.open(os.devnull, os.O_RDWR)
                for std in (0, 1, 2):
                    os.dup2(null, std)
                os.close(null)
                vlog_mod.set_levels(None, "console", "OFF")
            if not _state["no_chdir"]:
                os.chdir("/")
        _, status = os.waitpid(pid, 0)
        msg = "pid %d died, %s" % (pid, _status_msg(status))
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in _RESTART_SIGNALS:
            now = time.monotonic()
            if last_restart is not None and now < last_restart + 10:
                vlog.warn("%s, waiting until 10 seconds since last restart", msg)
                time.sleep(last_restart + 10 - now)
            vlog.err("%s, restarting", msg)
            last_restart = time.monotonic()
        else:
            vlog.info("%s, exiting", msg)
            os._exit(0)


def _read_ready(rfd):
    while True:
        try:
            data = os.read(rfd, 1)
            break
        except InterruptedError:
            continue
    os.close(rfd)
    return bool(data)


def daemonize_start():
    """Fork (with --detach and/or --monitor) and take the pidfile.  Call
    before any event loop or thread exists."""
    if _state["detach"]:
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid > 0:
            os.close(wfd)
            _wait_for_child(rfd, pid)      # never returns
        os.close(rfd)
        os.setsid()
        _state["ready_fd"] = wfd
    if _state["monitor"]:
        _monitor()
    if _state["user"]:
        _switch_user(_state["user"])
    _make_pidfile()
    import atexit
    atexit.register(remove_pidfile)
    fatal_signal.add_hook(remove_pidfile)
    fatal_signal.install()


def _wait_for_child(rfd, pid):
    data = b""
    while True:
        try:
            chunk = os.read(rfd, 1)
        except InterruptedError:
            continue
        data += chunk
        break
    if data:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        sys.stderr.write("%s: fork child died before signaling startup "
                         "(exit status %d)\n" % (_state["program"], code))
        os._exit(code or 1)
    sys.stderr.write("%s: fork child died before signaling startup "
                     "(killed (%s))\n" % (_state["program"],
                                           signal.strsignal(os.WTERMSIG(status))))
    os._exit(1)


def daemonize_complete():
    """The daemon is ready: release the waiting parent (or monitor) and,
    when detached, finish detaching."""
    fd = _state["ready_fd"]
    if fd is None:
        return
    _state["ready_fd"] = None
    if _state["detach"]:
        if not _state["no_chdir"]:
            os.chdir("/")
        vlog_mod.set_levels(None, "console", "OFF")
        null = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(null, std)
        os.close(null)
    try:
        os.write(fd, b"1")
    except OSError:
        pass
    os.close(fd)
