"""``pyovs sandbox``: a private, rootless Open vSwitch to play with.

This is OVS's ovs-sandbox (tutorial/ovs-sandbox) for pyovs.  It makes a
private directory (``./sandbox`` by default; ``--dir`` chooses another),
removing whatever an earlier run left there -- daemons still running from
a crashed run are found through their pidfiles and killed first.  It
points OVS_RUNDIR, OVS_LOGDIR, OVS_DBDIR and OVS_SYSCONFDIR at it, creates
conf.db from the packaged vswitch schema, starts pyovs's ovsdb-server and,
after ``ovs-vsctl --no-wait -- init``, pyovs's ovs-vswitchd on the dummy
datapath (``--enable-dummy=override``), with the same options ovs-sandbox
gives them.  The virtualenv's bin directory is put first in PATH, so that
``ovs-vsctl``, ``ovs-ofctl`` and ``ovs-appctl`` are pyovs's.

Then, as ovs-sandbox, it prints its banner and runs ``$SHELL`` (or bash)
in the sandbox directory; with a command after ``--`` it runs that command
instead and exits with its status.  When the shell or command ends, both
daemons are told to exit (``ovs-appctl -t DAEMON exit``, then SIGTERM via
the pidfile if they do not) and the directory is left for inspection.
With a command, the set-up commands are not echoed, so that stdout is the
command's own.

API: main(argv); Sandbox(directory, schema=None, dummy="override",
verbose=True) with .create(), .start(), .run_user(argv) -> status, .stop()
and .env (the sandbox's environment); kill_leftovers(directory); alive(pid).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pyovs import vswitch

#: The virtualenv (or installation) directory holding pyovs's commands.
BIN = Path(sys.executable).parent
#: In start order; stopped in reverse.
DAEMONS = ("ovsdb-server", "ovs-vswitchd")
#: How long a daemon gets to exit before it is sent SIGTERM, then SIGKILL.
STOP_TIMEOUT = 5.0

RULE = "-" * 70
BANNER = """\



""" + RULE + """
You are running in a dummy Open vSwitch environment, provided by pyovs
(Open vSwitch written in Python).  You can use ovs-vsctl, ovs-ofctl,
ovs-appctl, and other tools to work with the dummy switch.

Log files, pidfiles, and the configuration database are in the
"%s" subdirectory.

Exit the shell to kill the running daemons.
"""


class SandboxError(Exception):
    """A step of setting up the sandbox failed."""


def _pidfile_pid(path):
    """The pid of the live process holding pidfile PATH, or None."""
    from pyovs.util.daemon import read_pidfile
    try:
        return read_pidfile(str(path))
    except OSError:
        return None


def alive(pid):
    """Whether PID runs (a zombie, which an init slow to reap may leave
    around for a while, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def kill_leftovers(directory):
    """Kill daemons whose pidfiles in DIRECTORY are still held (a crashed
    or abandoned earlier sandbox)."""
    for pidfile in sorted(Path(directory).glob("*.pid")):
        pid = _pidfile_pid(pidfile)
        if pid is None or pid == os.getpid():
            continue
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if _wait_gone(pid, STOP_TIMEOUT):
                break


class Sandbox:
    """One sandbox directory and the two daemons running in it.  With
    VERBOSE, each set-up command is echoed before it runs, as ovs-sandbox
    does."""

    def __init__(self, directory, schema=None, dummy="override", verbose=True,
                 bindirs=None):
        self.dir = Path(directory).absolute()
        #: Where the executables come from: pyovs's by default; the real
        #: OVS's with bindirs=["/usr/sbin", "/usr/bin"] (--ovs-bin).
        self.bindirs = [str(d) for d in bindirs] if bindirs else [str(BIN)]
        self.schema = os.path.abspath(schema) if schema else vswitch.schema_path()
        self.dummy = dummy
        self.verbose = verbose
        self.env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
            self.env[var] = str(self.dir)
        path = self.env.get("PATH", os.defpath)
        self.env["PATH"] = os.pathsep.join(self.bindirs + ([path] if path else []))

    def _run(self, *argv, echo=True):
        argv = [str(a) for a in argv]
        if echo and self.verbose:
            print(" ".join(argv), flush=True)
        try:
            exe = shutil.which(argv[0], path=os.pathsep.join(self.bindirs))
            if exe is None:
                raise SandboxError(f"{argv[0]}: not found in {os.pathsep.join(self.bindirs)}")
            proc = subprocess.run([exe] + argv[1:], env=self.env,
                                  cwd=self.dir, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SandboxError(f"{argv[0]}: {e}") from e
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).strip()
            raise SandboxError(f"{argv[0]} failed (exit {proc.returncode})"
                               f"{': ' + msg if msg else ''}")
        return proc.stdout

    def create(self):
        """Remove an earlier sandbox in the directory and make a fresh one."""
        if self.dir.exists() or self.dir.is_symlink():
            if self.dir.is_dir() and not self.dir.is_symlink():
                kill_leftovers(self.dir)
                shutil.rmtree(self.dir)
            else:
                self.dir.unlink()
        self.dir.mkdir(parents=True)

    def start(self):
        """Create conf.db and start ovsdb-server and ovs-vswitchd with the
        options ovs-sandbox gives them."""
        if not os.access(self.schema, os.R_OK):
            raise SandboxError(f"can't find {self.schema}, please specify --schema")
        self._run("ovsdb-tool", "create", "conf.db", self.schema)
        self._run("ovsdb-server", "--detach", "--no-chdir", "--pidfile",
                  "-vconsole:off", "--log-file",
                  f"--remote=punix:{self.dir}/db.sock",
                  "--remote=db:Open_vSwitch,Open_vSwitch,manager_options")
        self._run("ovs-vsctl", "--no-wait", "--", "init")
        # ovs-sandbox also passes -vvconn -vnetdev_dummy; pyovs's
        # ovs-vswitchd has no log modules of those names yet.
        self._run("ovs-vswitchd", "--detach", "--no-chdir", "--pidfile",
                  "-vconsole:off", "--log-file", f"--enable-dummy={self.dummy}")

    def stop(self):
        """Stop the daemons running in the sandbox: ask each to exit, then
        wait for them, using signals on any that do not go."""
        pids = {}
        for name in reversed(DAEMONS):
            pidfile = self.dir / f"{name}.pid"
            pid = _pidfile_pid(pidfile) if pidfile.exists() else None
            if pid is None:
                continue
            pids[name] = pid
            try:
                self._run("ovs-appctl", "-t", name, "exit", echo=False)
            except SandboxError:
                pass
        for pid in pids.values():
            if _wait_gone(pid, STOP_TIMEOUT):
                continue
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                if _wait_gone(pid, STOP_TIMEOUT):
                    break

    def run_user(self, command):
        """Run COMMAND (argv list), or an interactive shell if empty, in the
        sandbox directory; its exit status (128+N when killed by signal N)."""
        interactive = not command
        if interactive:
            command = [self.env.get("SHELL")
                       or shutil.which("bash", path=self.env["PATH"]) or "/bin/sh"]
            print(BANNER % self.dir.name, flush=True)
        # As a shell does for its foreground job: Ctrl-C and Ctrl-\ are the
        # child's to handle; the sandbox must live on to clean up.
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGQUIT)}
        try:
            proc = subprocess.Popen(command, env=self.env, cwd=self.dir,
                                    preexec_fn=_restore_signals)
            status = proc.wait()
        except OSError as e:
            print(f"pyovs sandbox: {command[0]}: {e.strerror}", file=sys.stderr)
            return 127
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        if interactive:
            print(RULE + "\n\n\n", flush=True)
        return 128 - status if status < 0 else status


def _restore_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _on_fatal_signal(signum, frame):
    raise SystemExit(128 + signum)


USAGE = """\
pyovs sandbox, for starting a sandboxed dummy Open vSwitch environment
usage: pyovs sandbox [OPTION...] [-- COMMAND [ARG...]]

Starts pyovs's ovsdb-server and ovs-vswitchd (dummy datapath) in a private
directory and runs $SHELL there, or COMMAND if given; the daemons are
stopped when it exits and the directory is left for inspection.

General options:
  --dir=DIR            sandbox directory, recreated (default: ./sandbox)
  --dummy=ARG          pass --enable-dummy=ARG to vswitchd (default: override)
  -S, --schema=FILE    use FILE as vswitch.ovsschema
  --ovs-bin=DIR[:DIR]  run the daemons and tools found in DIRs instead of
                       pyovs's (/usr/sbin:/usr/bin: Debian's real OVS)

Other options:
  -h, --help           Print this usage message."""

#: ovs-sandbox options that make no sense for pyovs (builds, gdb, OVN).
UNSUPPORTED = ("-b", "--builddir", "-s", "--srcdir", "-i", "--installed",
               "-g", "--gdb-vswitchd", "-e", "--gdb-ex-vswitchd", "-d",
               "--gdb-ovsdb", "-r", "--gdb-ex-ovsdb", "-R", "--gdb-run",
               "--gdb-ovn-northd", "--gdb-ovn-controller",
               "--gdb-ovn-controller-vtep", "-o", "--ovn", "--no-ovn-rbac",
               "--n-northds", "--n-controllers", "--nbdb-model",
               "--nbdb-servers", "--sbdb-model", "--sbdb-servers")


class UsageError(Exception):
    pass


def parse_args(argv):
    """(options dict, command list) from ARGV, the way ovs-sandbox parses
    its options: --opt=ARG or --opt ARG; ``--`` ends them."""
    opts = {"dir": "sandbox", "dummy": "override", "schema": None, "help": False,
            "ovs_bin": None}
    takes_arg = {"--dir": "dir", "--dummy": "dummy", "-S": "schema", "--schema": "schema",
                 "--ovs-bin": "ovs_bin"}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            return opts, args
        name, eq, value = arg.partition("=")
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif name in takes_arg:
            if not eq:
                if not args:
                    raise UsageError(f"option {arg} requires an argument "
                                     "(use --help for help)")
                value = args.pop(0)
            opts[takes_arg[name]] = value
        elif name in UNSUPPORTED:
            raise UsageError(f"option {name} is not supported by pyovs sandbox "
                             "(use --help for help)")
        elif arg.startswith("-"):
            raise UsageError(f"unrecognized option {arg} (use --help for help)")
        else:
            raise UsageError(f"{arg}: non-option arguments not supported "
                             "(use --help for help; a command goes after --)")
    return opts, []


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        opts, command = parse_args(argv)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 1
    if opts["help"]:
        print(USAGE)
        return 0
    # With a COMMAND, its output is all the user sees on stdout.
    bindirs = opts["ovs_bin"].split(os.pathsep) if opts["ovs_bin"] else None
    box = Sandbox(opts["dir"], schema=opts["schema"], dummy=opts["dummy"],
                  verbose=not command, bindirs=bindirs)
    old = {s: signal.signal(s, _on_fatal_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            box.create()
            box.start()
        except (SandboxError, OSError) as e:
            print(f"pyovs sandbox: {e}", file=sys.stderr)
            print(f"pyovs sandbox: see the logs in {box.dir}", file=sys.stderr)
            return 1
        return box.run_user(command)
    finally:
        box.stop()
        for s, h in old.items():
            signal.signal(s, h)


if __name__ == "__main__":
    sys.exit(main())
