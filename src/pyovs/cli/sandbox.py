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
"""

import argparse
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

BANNER = """\

----------------------------------------------------------------------
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


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        time.sleep(0.05)
    return False


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
    """One sandbox directory and the two daemons running in it."""

    def __init__(self, directory):
        self.dir = Path(directory).absolute()
        self.env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
            self.env[var] = str(self.dir)
        path = self.env.get("PATH", os.defpath)
        self.env["PATH"] = str(BIN) + (os.pathsep + path if path else "")
        self.started = []

    def _run(self, *argv):
        argv = [str(BIN / argv[0])] + [str(a) for a in argv[1:]]
        try:
            proc = subprocess.run(argv, env=self.env, cwd=self.dir,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SandboxError(f"{Path(argv[0]).name}: {e}") from e
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).strip()
            raise SandboxError(f"{Path(argv[0]).name} failed (exit "
                               f"{proc.returncode}){': ' + msg if msg else ''}")
        return proc.stdout

    def create(self):
        """Remove an earlier sandbox in the directory and make a fresh one."""
        if self.dir.exists():
            kill_leftovers(self.dir)
            if self.dir.is_dir() and not self.dir.is_symlink():
                shutil.rmtree(self.dir)
            else:
                self.dir.unlink()
        self.dir.mkdir(parents=True)

    def start(self):
        """Create conf.db and start ovsdb-server and ovs-vswitchd."""
        self._run("ovsdb-tool", "create", self.dir / "conf.db", vswitch.schema_path())
        self._run("ovsdb-server", "--detach", "--no-chdir", "--pidfile",
                  "-vconsole:off", "--log-file",
                  f"--remote=punix:{self.dir}/db.sock")
        self.started.append("ovsdb-server")
        self._run("ovs-vsctl", "--no-wait", "--", "init")
        self._run("ovs-vswitchd", "--enable-dummy=override", "--detach",
                  "--no-chdir", "--pidfile", "-vconsole:off", "--log-file")
        self.started.append("ovs-vswitchd")

    def stop(self):
        """Stop the daemons this sandbox started, newest first."""
        for name in reversed(DAEMONS):
            pidfile = self.dir / f"{name}.pid"
            pid = _pidfile_pid(pidfile) if pidfile.exists() else None
            if pid is None:
                continue
            try:
                self._run("ovs-appctl", "-t", name, "exit")
            except SandboxError:
                pass
            if not _wait_gone(pid, STOP_TIMEOUT):
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        break
                    if _wait_gone(pid, STOP_TIMEOUT):
                        break
        self.started = []

    def run_user(self, command):
        """Run COMMAND (argv list), or an interactive shell if empty, in the
        sandbox; its exit status (128+N when killed by signal N)."""
        if not command:
            command = [self.env.get("SHELL") or shutil.which("bash", path=self.env["PATH"])
                       or "/bin/sh"]
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
        return 128 - status if status < 0 else status


def _restore_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _on_fatal_signal(signum, frame):
    raise SystemExit(128 + signum)


def build_parser():
    p = argparse.ArgumentParser(
        prog="pyovs sandbox",
        usage="pyovs sandbox [--dir DIR] [-- COMMAND [ARG...]]",
        description="Start ovsdb-server and ovs-vswitchd (dummy datapath) in a "
                    "private directory and run a shell, or COMMAND, there; "
                    "everything stops when it exits.")
    p.add_argument("--dir", default="sandbox",
                   help="sandbox directory, recreated (default: ./sandbox)")
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    command = []
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    args = build_parser().parse_args(argv)
    box = Sandbox(args.dir)
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
