"""`pyovs sandbox`: daemons come up on the dummy datapath, the user's
command or interactive shell sees pyovs's tools, and nothing is left
running afterwards -- also after a crashed run."""

import os
import pty
import select
import signal
import subprocess
import time

import pytest

from tests.conftest import pyovs_bin, wait_for

DAEMONS = ("ovsdb-server", "ovs-vswitchd")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _daemon_pids(directory):
    """pid of each daemon whose pidfile is in DIRECTORY."""
    pids = {}
    for name in DAEMONS:
        try:
            with open(os.path.join(directory, f"{name}.pid")) as f:
                pids[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return pids


@pytest.fixture
def sandbox_dir(tmp_path):
    """A sandbox directory; any daemon still running in it at the end of
    the test is killed."""
    d = tmp_path / "sb"
    seen = {}
    yield d, seen
    seen.update(_daemon_pids(d))
    for pid in seen.values():
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _env():
    env = dict(os.environ)
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
        env.pop(var, None)
    env["PATH"] = "/usr/bin:/bin"      # the sandbox must put pyovs's bin first
    return env


def _sandbox(directory, *command, timeout=90):
    return subprocess.run([pyovs_bin("pyovs"), "sandbox", "--dir", str(directory),
                           "--", *command],
                          capture_output=True, text=True, timeout=timeout,
                          env=_env(), stdin=subprocess.DEVNULL)


def _assert_stopped(directory):
    for name in DAEMONS:
        assert not (directory / f"{name}.pid").exists(), name
        assert not list(directory.glob(f"{name}.*.ctl")), name


def test_command_configures_dummy_switch(sandbox_dir):
    d, seen = sandbox_dir
    script = ("echo pids $(cat $OVS_RUNDIR/ovsdb-server.pid) "
              "$(cat $OVS_RUNDIR/ovs-vswitchd.pid); "
              "ovs-vsctl add-br br0 && "
              "ovs-vsctl add-port br0 p1 -- set interface p1 type=dummy && "
              "ovs-vsctl show && ovs-ofctl show br0 || true; "
              "ovs-appctl version; command -v ovs-vsctl; pwd")
    proc = _sandbox(d, "sh", "-c", script)
    out = proc.stdout
    pids = [int(p) for p in out.split("pids ", 1)[1].split("\n", 1)[0].split()]
    seen.update(zip(DAEMONS, pids))
    assert proc.returncode == 0, proc.stderr
    assert "    Bridge br0\n" in out
    assert "        Port p1\n            Interface p1\n                type: dummy\n" in out
    assert "        Port br0\n            Interface br0\n                type: internal\n" in out
    assert "ovs-vswitchd (Open vSwitch) 3.1.0\n" in out
    lines = out.splitlines()
    assert lines[-2] == str(pyovs_bin("ovs-vsctl"))
    assert lines[-1] == str(d)
    # Stopped, directory left for inspection.
    for pid in pids:
        assert not _alive(pid)
    _assert_stopped(d)
    assert (d / "conf.db").exists()
    assert (d / "ovs-vswitchd.log").exists()


@pytest.mark.skipif(not os.path.exists("/usr/bin/ovs-vsctl"), reason="no real ovs-vsctl")
def test_real_ovs_vsctl_works_in_sandbox(sandbox_dir):
    """The environment is OVS's: Debian's ovs-vsctl finds the database by
    $OVS_RUNDIR and, without --no-wait, sees ovs-vswitchd apply its change."""
    d, seen = sandbox_dir
    script = ("/usr/bin/ovs-vsctl --timeout=30 add-br br9 -- "
              "add-port br9 p9 -- set interface p9 type=dummy && "
              "ovs-vsctl list-ports br9 && /usr/bin/ovs-vsctl get interface p9 type")
    proc = _sandbox(d, "sh", "-c", script)
    assert (proc.returncode, proc.stdout) == (0, "p9\ndummy\n"), proc.stderr
    _assert_stopped(d)


def test_leftover_from_crashed_run_is_cleaned(sandbox_dir):
    d, seen = sandbox_dir
    # The sandbox process dies without cleaning up: its daemons stay.
    proc = _sandbox(d, "sh", "-c", "kill -9 $PPID")
    assert proc.returncode == -signal.SIGKILL
    left = _daemon_pids(d)
    seen.update(left)
    assert sorted(left) == sorted(DAEMONS)
    assert all(_alive(pid) for pid in left.values())
    (d / "marker").write_text("old")

    proc = _sandbox(d, "sh", "-c", "ovs-vsctl br-exists br0; echo br-exists=$?; exit 3")
    assert proc.returncode == 3, proc.stderr
    assert "br-exists=2\n" in proc.stdout          # a fresh database
    wait_for(lambda: not any(_alive(pid) for pid in left.values()),
             what="old daemons gone")
    assert not (d / "marker").exists()
    _assert_stopped(d)


def test_sigterm_stops_daemons(sandbox_dir):
    d, seen = sandbox_dir
    proc = _sandbox(d, "sh", "-c", "cat ovsdb-server.pid ovs-vswitchd.pid; kill -TERM $PPID; sleep 1")
    seen.update(zip(DAEMONS, map(int, proc.stdout.split())))
    assert proc.returncode == 128 + signal.SIGTERM
    assert len(seen) == 2
    assert not any(_alive(p) for p in seen.values())
    _assert_stopped(d)


def test_failure_to_start_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = _sandbox(blocker / "sb", "true")
    assert proc.returncode == 1
    assert proc.stderr.startswith("pyovs sandbox: ")


def test_options_as_ovs_sandbox(tmp_path):
    def sandbox(*args):
        return subprocess.run([pyovs_bin("pyovs"), "sandbox", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=30, env=_env())
    proc = sandbox("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("pyovs sandbox, for starting a sandboxed dummy "
                                  "Open vSwitch environment\n")
    assert "--dummy=ARG" in proc.stdout and "--schema=FILE" in proc.stdout
    proc = sandbox("--frobnicate")
    assert (proc.returncode, proc.stderr) == (
        1, "unrecognized option --frobnicate (use --help for help)\n")
    proc = sandbox("ls")
    assert proc.returncode == 1
    assert proc.stderr.startswith("ls: non-option arguments not supported")
    proc = sandbox("--gdb-vswitchd")
    assert proc.returncode == 1 and "not supported" in proc.stderr
    proc = sandbox("--schema=" + str(tmp_path / "nonexistent"), "--", "true")
    assert proc.returncode == 1
    assert "please specify --schema" in proc.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "sandbox"]   # the default dir


def _read_until(fd, needle, timeout=60.0):
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen in {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:          # EIO: the other side is closed
                data = b""
            if not data:
                raise AssertionError(f"EOF before {needle!r} in {buf!r}")
            buf += data
    return buf


def test_interactive_shell_through_pty(sandbox_dir):
    d, seen = sandbox_dir
    env = _env()
    env["SHELL"] = "/bin/sh"
    argv = [str(pyovs_bin("pyovs")), "sandbox", "--dir", str(d)]
    pid, fd = pty.fork()
    if pid == 0:                      # child
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    try:
        out = _read_until(fd, b"Exit the shell to kill the running daemons.")
        assert b"You are running in a dummy Open vSwitch environment" in out
        assert b"\r\novs-vsctl --no-wait -- init\r\n" in out      # echoed as OVS
        assert b'"sb" subdirectory' in out
        seen.update(_daemon_pids(d))
        assert sorted(seen) == sorted(DAEMONS)
        os.write(fd, b"ovs-vsctl add-br br0; ovs-vsctl br-exists br0; echo rc=$?\n")
        _read_until(fd, b"rc=0")
        # Ctrl-C is the foreground command's, not the sandbox's.
        os.write(fd, b"sleep 30\n")
        time.sleep(0.3)
        os.write(fd, b"\x03")
        os.write(fd, b"echo still-$((20+22))\n")
        _read_until(fd, b"still-42")
        assert all(_alive(p) for p in seen.values())
        os.write(fd, b"exit\n")
        try:
            _read_until(fd, b"\0", timeout=60)      # until EOF
        except AssertionError as e:
            assert "EOF" in str(e), e
        _, status = os.waitpid(pid, 0)
        pid = None
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert not any(_alive(p) for p in seen.values())
    _assert_stopped(d)
