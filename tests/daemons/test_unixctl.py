"""The daemon and unixctl plumbing from the outside: pyovs's test-unixctl
daemon driven by pyovs's ovs-appctl and by raw sockets."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from pyovs.util import daemon, unixctl
from tests.conftest import pyovs_bin, run, wait_for

DAEMON = [sys.executable, "-m", "pyovs.util.unixctl_test_daemon"]


def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _stop(pid):
    if _gone(pid):
        return
    os.kill(pid, signal.SIGTERM)
    try:
        wait_for(lambda: _gone(pid), timeout=10, what="daemon exit")
    except AssertionError:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def start_daemon(ovs_dirs):
    pids = []

    def start(*extra, check=True):
        r = run(DAEMON + ["--detach", "--pidfile", "--no-chdir",
                          "--max-lifetime=120"] + list(extra), timeout=30)
        if check:
            assert r.returncode == 0, r.stderr
            pid = int((ovs_dirs / "test-unixctl.pid").read_text())
            pids.append(pid)
        return r

    yield start
    for pid in pids:
        _stop(pid)


def appctl(*args, timeout=30):
    return run([pyovs_bin("ovs-appctl")] + list(args), timeout=timeout)


def test_detach_returns_when_ready(start_daemon, ovs_dirs):
    start_daemon()
    # No waiting: the control socket answers as soon as --detach returns.
    pid = daemon.read_pidfile(str(ovs_dirs / "test-unixctl.pid"))
    path = str(ovs_dirs / ("test-unixctl.%d.ctl" % pid))
    assert unixctl.unixctl_transact(path, "echo", ["a", "b"], timeout=10) == (None, "a b\n")
    assert unixctl.unixctl_transact(path, "echo_error", ["bad"], timeout=10) == ("bad\n", None)
    assert unixctl.unixctl_transact(path, "echo", [], timeout=10) == (None, "")
    assert unixctl.target_to_socket_path("test-unixctl") == path
    assert os.getsid(pid) == pid             # a new session, detached


def test_pidfile_is_locked_and_second_start_refused(start_daemon, ovs_dirs):
    start_daemon()
    pid = int((ovs_dirs / "test-unixctl.pid").read_text())
    r = start_daemon(check=False)
    assert r.returncode != 0
    assert "already running as pid %d" % pid in r.stderr
    assert appctl("-t", "test-unixctl", "version").returncode == 0


def test_stale_pidfile_is_replaced(start_daemon, ovs_dirs):
    (ovs_dirs / "test-unixctl.pid").write_text("999999\n")
    with pytest.raises(ProcessLookupError):
        daemon.read_pidfile(str(ovs_dirs / "test-unixctl.pid"))
    start_daemon()
    assert appctl("-t", "test-unixctl", "version").stdout == "test-unixctl (Open vSwitch) 3.1.0\n"


@pytest.mark.parametrize("sig, name", [(signal.SIGTERM, "Terminated"),
                                       (signal.SIGINT, "Interrupt")])
def test_fatal_signal_removes_pidfile_and_socket(start_daemon, ovs_dirs, sig, name):
    start_daemon("--log-file")
    pidfile = ovs_dirs / "test-unixctl.pid"
    pid = int(pidfile.read_text())
    ctl = ovs_dirs / ("test-unixctl.%d.ctl" % pid)
    assert ctl.exists()
    os.kill(pid, sig)
    wait_for(lambda: _gone(pid), what="daemon exit")
    assert not pidfile.exists() and not ctl.exists()
    assert "|fatal_signal|WARN|terminating with signal %d (%s)" % (sig, name) in \
        (ovs_dirs / "test-unixctl.log").read_text()


def test_unixctl_option_and_commands(start_daemon, ovs_dirs):
    start_daemon("--unixctl=ctl.sock")             # relative to the run dir
    path = str(ovs_dirs / "ctl.sock")
    r = appctl("-t", path, "list-commands")
    assert r.returncode == 0
    assert "  echo                    [ARG...]\n" in r.stdout
    r = appctl("-t", path, "echo", "x", "--", "-y")
    assert (r.returncode, r.stdout) == (0, "x -- -y\n")
    r = appctl("-t", path, "exit")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    wait_for(lambda: not os.path.exists(path), what="socket removal")


def test_vlog_commands_without_log_file(start_daemon):
    start_daemon()
    r = appctl("-t", "test-unixctl", "vlog/reopen")
    assert (r.returncode, r.stderr) == (
        2, "Logging to file not configured\novs-appctl: test-unixctl: server returned an error\n")
    assert appctl("-t", "test-unixctl", "vlog/close").returncode == 0
    assert appctl("-t", "test-unixctl", "vlog/set").returncode == 0
    lines = appctl("-t", "test-unixctl", "vlog/list").stdout.splitlines()[2:]
    assert lines and all(line.split()[1:] == ["DBG", "DBG", "DBG"] for line in lines)


def test_one_command_at_a_time_per_connection(start_daemon, ovs_dirs):
    start_daemon()
    path = unixctl.target_to_socket_path("test-unixctl")
    from pyovs.util import jsonrpc
    c = jsonrpc.BlockingConnection.open("unix:" + path, timeout=10)
    try:
        c.send(jsonrpc.Message("request", method="block", params=[], id=1))
        c.send(jsonrpc.Message("request", method="echo", params=["after"], id=2))
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.3)               # "block" holds the connection
        # Another connection is served meanwhile, and releases the first.
        assert unixctl.unixctl_transact(path, "unblock", [], timeout=10) == (None, "")
        first, second = c.recv(timeout=10), c.recv(timeout=10)
        assert (first.id, first.result) == (1, "unblocked\n")
        assert (second.id, second.result) == (2, "after\n")
    finally:
        c.close()


@pytest.mark.parametrize("payload", [
    b"\xff\xfe garbage",
    b'{"id":1,"result":"x","error":null}',          # not a request
    b'{"method":"echo","params":[1],"id":1,"x":2}',
    b"[" * 5000,
    b'{"method":"echo","params":"notalist","id":1}',
])
def test_malformed_input_closes_connection_daemon_survives(start_daemon, payload):
    start_daemon()
    path = unixctl.target_to_socket_path("test-unixctl")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(payload)
    assert s.recv(1000) == b""                    # clean close, no reply
    s.close()
    assert appctl("-t", "test-unixctl", "echo", "alive").stdout == "alive\n"


def test_bad_arguments_get_error_replies(start_daemon):
    start_daemon()
    path = unixctl.target_to_socket_path("test-unixctl")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(b'{"method":"echo","params":[1],"id":7}'
              b'{"method":"version","params":["x"],"id":8}')
    data = b""
    while data.count(b"}") < 2:
        chunk = s.recv(1000)
        assert chunk
        data += chunk
    s.close()
    assert data == (b'{"id":7,"error":"\\"echo\\" command has non-string argument\\n"}'
                    b'{"id":8,"error":"\\"version\\" command takes at most 0 arguments\\n"}')


def test_appctl_timeout_kills_itself_with_sigalrm(start_daemon):
    start_daemon()
    r = appctl("-T", "1", "-t", "test-unixctl", "block")
    assert r.returncode == -signal.SIGALRM
    assert "|fatal_signal|WARN|terminating with signal 14 (Alarm clock)" in r.stderr


def test_appctl_transaction_error_on_eof(tmp_path):
    """A server that hangs up mid-command: ovs-appctl reports End of file."""
    path = str(tmp_path / "eof.ctl")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    proc = subprocess.Popen([pyovs_bin("ovs-appctl"), "-t", path, "version"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        srv.settimeout(10)
        conn, _ = srv.accept()
        conn.recv(1000)
        conn.close()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        srv.close()
    assert proc.returncode == 1
    assert err == "ovs-appctl: %s: transaction error (End of file)\n" % path


def test_foreground_daemon_logs_to_console(ovs_dirs):
    proc = subprocess.Popen(DAEMON + ["--unixctl=fg.ctl", "--max-lifetime=60", "-vtest_unixctl:console:dbg"],
                            stderr=subprocess.PIPE, text=True)
    try:
        path = str(ovs_dirs / "fg.ctl")
        wait_for(lambda: os.path.exists(path), what="control socket")
        assert appctl("-t", path, "log", "to", "console").returncode == 0
        assert appctl("-t", path, "exit").returncode == 0
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "|test_unixctl|INFO|to console\n" in err


def test_monitor_restarts_crashed_daemon(start_daemon, ovs_dirs):
    start_daemon("--monitor", "--log-file")
    pidfile = ovs_dirs / "test-unixctl.pid"
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGSEGV)

    def restarted():
        try:
            new = daemon.read_pidfile(str(pidfile))
        except OSError:
            return None
        return new if new != pid else None
    new_pid = wait_for(restarted, what="restarted daemon")
    try:
        assert appctl("-t", "test-unixctl", "echo", "back").stdout == "back\n"
        log = (ovs_dirs / "test-unixctl.log").read_text()
        assert "|daemon_unix|ERR|pid %d died, killed (Segmentation fault)" % pid in log
        assert log.count("test-unixctl (Open vSwitch) 3.1.0") == 2
    finally:
        _stop(new_pid)
    # A daemon stopped by SIGTERM is not restarted; the monitor leaves too.
    wait_for(lambda: "pid %d died, killed (Terminated), exiting" % new_pid
             in (ovs_dirs / "test-unixctl.log").read_text(), what="monitor exit")


def test_unixctl_none_means_no_socket(start_daemon, ovs_dirs):
    start_daemon("--unixctl=none")
    pid = int((ovs_dirs / "test-unixctl.pid").read_text())
    assert not any(p.name.endswith(".ctl") for p in ovs_dirs.iterdir())
    r = appctl("-t", "test-unixctl", "version")
    assert r.returncode == 1
    assert 'cannot connect to "%s"' % (ovs_dirs / ("test-unixctl.%d.ctl" % pid)) in r.stderr


def test_overwrite_pidfile(start_daemon, ovs_dirs):
    start_daemon("--unixctl=first.ctl")
    first = int((ovs_dirs / "test-unixctl.pid").read_text())
    start_daemon("--unixctl=second.ctl", "--overwrite-pidfile")
    second = daemon.read_pidfile(str(ovs_dirs / "test-unixctl.pid"))
    assert second != first and not _gone(first)
    assert appctl("-t", str(ovs_dirs / "second.ctl"), "version").returncode == 0
