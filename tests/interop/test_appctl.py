"""ovs-appctl interop: pyovs's ovs-appctl against Debian's real ovsdb-server,
and Debian's real ovs-appctl against a pyovs daemon (test-unixctl)."""

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, run, wait_for

pytestmark = pytest.mark.interop

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\|", re.M)


def normalise(text):
    return TIMESTAMP.sub("TIMESTAMP|", text)


def _kill_pidfile(pidfile):
    try:
        pid = int(open(pidfile).read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait_for(lambda: not os.path.exists("/proc/%d" % pid)
                 or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
                 timeout=10, what="daemon exit")
    except AssertionError:
        os.kill(pid, signal.SIGKILL)


def start_real_ovsdb_server(d, unixctl=True):
    db = d / "conf.db"
    if not db.exists():
        run([real_bin("ovsdb-tool"), "create", str(db), REAL_VSWITCH_SCHEMA], check=True)
    pidfile = d / "ovsdb-server.pid"
    cmd = [real_bin("ovsdb-server"), str(db), "--remote=punix:%s" % (d / "db.sock"),
           "--pidfile=%s" % pidfile, "--detach", "--no-chdir",
           "--log-file=%s" % (d / "ovsdb-server.log")]
    if unixctl:
        cmd.append("--unixctl=%s" % (d / "ovsdb-server.ctl"))
    run(cmd, check=True, timeout=30)
    return pidfile


@pytest.fixture
def real_server(ovs_dirs):
    pidfile = start_real_ovsdb_server(ovs_dirs)
    yield str(ovs_dirs / "ovsdb-server.ctl")
    _kill_pidfile(pidfile)


@pytest.fixture
def pyovs_daemon(ovs_dirs):
    """pyovs's test-unixctl daemon, detached, with a pidfile and a log."""
    pidfile = ovs_dirs / "test-unixctl.pid"
    r = run([sys.executable, "-m", "pyovs.util.unixctl_test_daemon", "--detach",
             "--pidfile", "--log-file", "--no-chdir", "--max-lifetime=120"],
            timeout=30)
    assert r.returncode == 0, r.stderr
    yield "test-unixctl"
    _kill_pidfile(pidfile)


def both(args, env=None):
    """Run real and pyovs ovs-appctl with ARGS; return both results, with
    argv[0] (which glibc's getopt messages print) written as "ovs-appctl"."""
    results = []
    for exe in (real_bin("ovs-appctl"), pyovs_bin("ovs-appctl")):
        r = run([exe] + args, env=env)
        r.stderr = r.stderr.replace(exe + ":", "ovs-appctl:")
        results.append(r)
    return results


def assert_same(real, ours):
    assert (ours.returncode, ours.stdout, normalise(ours.stderr)) == \
        (real.returncode, real.stdout, normalise(real.stderr))


# --- pyovs's ovs-appctl against the real ovsdb-server ------------------------

@pytest.mark.parametrize("args", [
    ["list-commands"], ["version"], ["vlog/list"], ["vlog/list-pattern"],
    ["ovsdb-server/list-dbs"], ["no/such-command"], ["vlog/set", "nosuch"],
    ["vlog/set", "jsonrpc:console:bar"], ["list-commands", "extra"],
    ["ovsdb-server/add-db"], ["vlog/set", "PATTERN:nowhere:%m"],
])
def test_pyovs_appctl_vs_real_server(real_server, args):
    real, ours = both(["-t", real_server] + args)
    assert_same(real, ours)
    assert real.stdout or real.stderr


def test_vlog_set_then_list_matches(real_server):
    for spec in (["jsonrpc:file:dbg"], ["reconnect:off", "unixctl:syslog:warn"]):
        real = run([real_bin("ovs-appctl"), "-t", real_server, "vlog/set"] + spec)
        ours = run([pyovs_bin("ovs-appctl"), "-t", real_server, "vlog/set"] + spec)
        assert real.returncode == ours.returncode == 0
        assert real.stdout == ours.stdout == ""
    real, ours = both(["-t", real_server, "vlog/list"])
    assert_same(real, ours)
    assert re.search(r"^jsonrpc +OFF +INFO +DBG$", ours.stdout, re.M)
    assert re.search(r"^unixctl +OFF +WARN +INFO$", ours.stdout, re.M)


def test_target_by_name_via_pidfile(ovs_dirs):
    pidfile = start_real_ovsdb_server(ovs_dirs, unixctl=False)
    try:
        real, ours = both(["-t", "ovsdb-server", "version"])
        assert_same(real, ours)
        assert real.returncode == 0
        real, ours = both(["--target=ovsdb-server", "vlog/list-pattern"])
        assert_same(real, ours)
    finally:
        _kill_pidfile(pidfile)


@pytest.mark.parametrize("args", [
    [], ["-T", "0", "x"], ["--timeout=abc", "x"], ["--foo"], ["-t"], ["-x"],
    ["-t", "a", "-t", "b", "x"], ["-h"], ["--help"], ["-V"], ["-o"],
    ["-t", "nosuchd", "version"], ["version"], ["--version=3"],
    ["-t", "/nonexistent/x.ctl", "version"],
])
def test_command_line_handling_matches(ovs_dirs, args):
    real, ours = both(args)
    assert_same(real, ours)


def test_stale_pidfile(ovs_dirs):
    # A pidfile nobody holds a lock on is stale, whatever pid it names.
    (ovs_dirs / "ghost.pid").write_text("%d\n" % os.getpid())
    real, ours = both(["-t", "ghost", "version"])
    assert_same(real, ours)
    assert "No such process" in ours.stderr and ours.returncode == 1


# --- the real ovs-appctl against pyovs's daemon -------------------------------

def real_appctl(*args):
    return run([real_bin("ovs-appctl")] + list(args))


def test_real_appctl_reads_pyovs_pidfile_and_socket(pyovs_daemon, ovs_dirs):
    r = real_appctl("-t", pyovs_daemon, "version")
    assert (r.returncode, r.stdout, r.stderr) == (0, "test-unixctl (Open vSwitch) 3.1.0\n", "")
    pid = int((ovs_dirs / "test-unixctl.pid").read_text())
    assert (ovs_dirs / "test-unixctl.pid").read_text() == "%d\n" % pid
    assert (ovs_dirs / ("test-unixctl.%d.ctl" % pid)).exists()


def test_real_appctl_list_commands(pyovs_daemon, real_server):
    ours = real_appctl("-t", pyovs_daemon, "list-commands")
    real = real_appctl("-t", real_server, "list-commands")
    assert ours.returncode == 0 and ours.stdout.startswith("The available commands are:\n")
    # The commands both programs have are listed identically.
    real_lines = set(real.stdout.splitlines())
    common = [line for line in ours.stdout.splitlines()
              if line.split()[0] in ("list-commands", "version", "exit")
              or line.split()[0].startswith("vlog/")]
    assert len(common) == 10
    assert all(line in real_lines for line in common), common
    assert "  echo_error              [ARG...]" in ours.stdout.splitlines()


def test_real_appctl_vlog_list_and_set(pyovs_daemon, real_server):
    for target in (pyovs_daemon, real_server):
        r = real_appctl("-t", target, "vlog/set", "jsonrpc:file:dbg", "unixctl:syslog:warn")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    ours = real_appctl("-t", pyovs_daemon, "vlog/list").stdout.splitlines(keepends=True)
    real = real_appctl("-t", real_server, "vlog/list").stdout.splitlines(keepends=True)
    assert ours[:2] == real[:2]                       # headings
    for module in ("jsonrpc", "reconnect", "unixctl", "vlog"):
        line = [x for x in ours if x.split()[0] == module]
        assert line and line[0] in real, module
    assert ours[2:] == sorted(ours[2:])
    # Console logging is off once detached, as with the real daemon.
    assert all(x.split()[1] == "OFF" for x in ours[2:])
    ours = real_appctl("-t", pyovs_daemon, "vlog/list-pattern")
    real = real_appctl("-t", real_server, "vlog/list-pattern")
    assert ours.stdout == real.stdout


def test_real_appctl_error_replies(pyovs_daemon, real_server):
    r = real_appctl("-t", pyovs_daemon, "echo_error", "it", "failed")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "it failed\novs-appctl: test-unixctl: server returned an error\n"
    for args in (["no/such"], ["vlog/set", "bogus"], ["vlog/disable-rate-limit", "nosuch"], ["version", "x"], ["vlog/set", "info:dbg"],
                 ["vlog/set", "console:file"], ["vlog/set", "PATTERN"]):
        ours = real_appctl("-t", pyovs_daemon, *args)
        real = real_appctl("-t", real_server, *args)
        assert ours.returncode == real.returncode == 2
        assert ours.stderr.replace("test-unixctl", "TARGET") == \
            real.stderr.replace(real_server, "TARGET")


def test_real_appctl_log_file_and_reopen(pyovs_daemon, ovs_dirs):
    assert real_appctl("-t", pyovs_daemon, "log", "hello", "there").returncode == 0
    log = (ovs_dirs / "test-unixctl.log").read_text()
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|test_unixctl\|INFO\|hello there$",
                     log, re.M), log
    os.rename(ovs_dirs / "test-unixctl.log", ovs_dirs / "old.log")
    r = real_appctl("-t", pyovs_daemon, "vlog/reopen")
    assert (r.returncode, r.stderr) == (0, "")
    real_appctl("-t", pyovs_daemon, "log", "after")
    assert "|test_unixctl|INFO|after" in (ovs_dirs / "test-unixctl.log").read_text()
    assert "after" not in (ovs_dirs / "old.log").read_text()


def test_real_appctl_exit(pyovs_daemon, ovs_dirs):
    pidfile = ovs_dirs / "test-unixctl.pid"
    pid = int(pidfile.read_text())
    r = real_appctl("-t", pyovs_daemon, "exit")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    wait_for(lambda: not pidfile.exists(), what="pidfile removal")
    wait_for(lambda: not os.path.exists("/proc/%d" % pid)
             or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
             what="daemon exit")


def test_pidfiles_read_both_ways(real_server, pyovs_daemon, ovs_dirs):
    """pyovs reads the real daemon's locked pidfile and vice versa (the
    real ovs-appctl -t NAME checks the fcntl lock, see above)."""
    from pyovs.util import daemon
    pid = daemon.read_pidfile(str(ovs_dirs / "ovsdb-server.pid"))
    assert pid == int((ovs_dirs / "ovsdb-server.pid").read_text())
    assert os.path.exists("/proc/%d" % pid)


def test_timeout_behaviour_matches(pyovs_daemon, ovs_dirs):
    """-T against a command that never answers: both kill themselves."""
    real, ours = both(["-T", "1", "-t", pyovs_daemon, "block"])
    assert real.returncode == ours.returncode == -signal.SIGALRM
    assert normalise(real.stderr) == normalise(ours.stderr)


def test_jsonrpc_debug_log_matches(real_server):
    """-vjsonrpc:console:dbg: the message log lines are OVS's."""
    real, ours = both(["-vjsonrpc:console:dbg", "-t", real_server, "version"])
    assert_same(real, ours)
    assert "|jsonrpc|DBG|unix:%s: send request, method=\"version\", params=[], id=0\n" \
        % real_server in ours.stderr


@pytest.mark.parametrize("spec", ["PATTERN:console:%D{%H:%M:%S}|%c|%m",
                                  "PATTERN:ANY:[%p] %-10c %m", "FACILITY:local5",
                                  "PATTERN::file::%05N %m"])
def test_vlog_patterns_set_like_real(pyovs_daemon, real_server, spec):
    for target in (pyovs_daemon, real_server):
        r = real_appctl("-t", target, "vlog/set", spec)
        assert (r.returncode, r.stderr) == (0, ""), (target, r.stderr)
    ours = real_appctl("-t", pyovs_daemon, "vlog/list-pattern")
    real = real_appctl("-t", real_server, "vlog/list-pattern")
    assert ours.stdout == real.stdout
