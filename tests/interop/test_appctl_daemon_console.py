"""What a daemon prints on its terminal, compared with Debian's ovsdb-server.

With --detach only the parent's "opened log file" line (logged while the
options are parsed, before the fork) reaches the terminal: the child logs
its version line after daemonize_complete(), when its console is /dev/null.
In the foreground, SIGTERM is logged by fatal_signal and the process dies
of the signal.  pyovs's test-unixctl daemon shows that util's plumbing does
the same; pyovs's ovsdb-server is held to the same output.
"""

import os
import re
import signal
import subprocess
import sys


from tests.conftest import pyovs_bin, real_bin, run, wait_for

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)

#: pyovs's test daemon in place of ovsdb-server (names normalised below).
_TEST_DAEMON = [sys.executable, "-m", "pyovs.util.unixctl_test_daemon"]

def _normalised(text, program):
    text = _STAMP.sub("TIME|", text)
    return (text.replace("|test_unixctl|", "|ovsdb_server|")
            .replace(program, "PROGRAM"))


def _kill_pidfile(path):
    """Stop the daemon named by pidfile PATH (it removes the file)."""
    try:
        pid = int(open(path).read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists(path), what="daemon gone")
    except ProcessLookupError:
        pass
    except AssertionError:
        os.kill(pid, signal.SIGKILL)
        raise


def _server(cmd, ovs_dirs):
    """ovsdb-server's command line, on a fresh database."""
    db = ovs_dirs / "conf.db"
    if not db.exists():
        schema = "/usr/share/openvswitch/vswitch.ovsschema"
        run([real_bin("ovsdb-tool"), "create", str(db), schema], check=True)
    return [cmd, str(db), "--remote=punix:%s" % (ovs_dirs / "db.sock")]


def _detached_output(cmd, pidfile):
    try:
        r = subprocess.run(cmd + ["--pidfile", "--detach", "--log-file"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout
        wait_for(pidfile.exists, what="pidfile")
        return r.stdout
    finally:
        _kill_pidfile(pidfile)


def _foreground_sigterm_output(cmd, pidfile):
    log = pidfile.with_suffix(".log")
    log.unlink(missing_ok=True)  # an earlier run's log must not look like readiness
    p = subprocess.Popen(cmd + ["--pidfile", "--log-file"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        # Ready once the startup lines are logged (the pidfile comes earlier).
        wait_for(lambda: log.exists() and "(Open vSwitch)" in log.read_text(),
                 what="startup log line")
        os.kill(p.pid, signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
        return p.returncode, out
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()


def _real_detached(ovs_dirs):
    pidfile = ovs_dirs / "ovsdb-server.pid"
    out = _detached_output(_server(real_bin("ovsdb-server"), ovs_dirs), pidfile)
    return _normalised(out, "ovsdb-server")


def _real_foreground(ovs_dirs):
    pidfile = ovs_dirs / "ovsdb-server.pid"
    rc, out = _foreground_sigterm_output(_server(real_bin("ovsdb-server"), ovs_dirs),
                                         pidfile)
    return rc, _normalised(out, "ovsdb-server")


def test_test_daemon_detached_console_as_real(ovs_dirs):
    theirs = _real_detached(ovs_dirs)
    assert theirs.count("\n") == 1 and "|vlog|INFO|opened log file " in theirs
    ours = _detached_output(_TEST_DAEMON, ovs_dirs / "test-unixctl.pid")
    assert _normalised(ours, "test-unixctl") == theirs


def test_test_daemon_foreground_sigterm_console_as_real(ovs_dirs):
    theirs = _real_foreground(ovs_dirs)
    assert theirs[0] == -signal.SIGTERM
    assert theirs[1].endswith(
        "|fatal_signal|WARN|terminating with signal 15 (Terminated)\n")
    rc, ours = _foreground_sigterm_output(_TEST_DAEMON, ovs_dirs / "test-unixctl.pid")
    assert (rc, _normalised(ours, "test-unixctl")) == theirs


def test_ovsdb_server_detached_console_as_real(ovs_dirs):
    theirs = _real_detached(ovs_dirs)
    ours = _detached_output(_server(pyovs_bin("ovsdb-server"), ovs_dirs),
                            ovs_dirs / "ovsdb-server.pid")
    assert _normalised(ours, "ovsdb-server") == theirs


def test_ovsdb_server_foreground_sigterm_console_as_real(ovs_dirs):
    theirs = _real_foreground(ovs_dirs)
    rc, ours = _foreground_sigterm_output(_server(pyovs_bin("ovsdb-server"), ovs_dirs),
                                          ovs_dirs / "ovsdb-server.pid")
    assert (rc, _normalised(ours, "ovsdb-server")) == theirs
