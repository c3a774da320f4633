"""ovs-vsctl without --no-wait: it bumps next_cfg in its transaction and
waits until ovs-vswitchd (here a fake that copies next_cfg into cur_cfg)
reports cur_cfg at least that high; then it reports interfaces that the
switch failed to set up.  Runs pyovs's ovs-vsctl against pyovs's
ovsdb-server."""

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin
from tests.interop.test_vsctl_cases import OvsdbServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def server(tmp_path):
    from pyovs.vswitch import schema_path
    tool = "/usr/bin/ovsdb-tool"
    if not os.path.exists(tool):
        tool = pyovs_bin("ovsdb-tool")
    s = OvsdbServer(pyovs_bin("ovsdb-server"), tool, schema_path(), tmp_path, "db")
    yield s
    s.stop()


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
                OVS_DBDIR=str(tmp_path))


def start_fake_vswitchd(remote):
    """The fake ovs-vswitchd, once its replica is in sync."""
    p = subprocess.Popen([sys.executable, "-m", "tests.daemons.test_vsctl_fake_vswitchd",
                          remote], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


@pytest.fixture
def fake_vswitchd(server):
    p = start_fake_vswitchd(server.remote)
    yield p
    p.terminate()
    p.wait(10)


def vsctl(server, env, *args, timeout=30):
    return subprocess.run([pyovs_bin("ovs-vsctl"), "--db=" + server.remote] + list(args),
                          capture_output=True, text=True, env=env, timeout=timeout)


def get(server, env, *args):
    r = vsctl(server, env, "--no-wait", "get", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_waits_for_cur_cfg(server, env, fake_vswitchd):
    r = vsctl(server, env, "add-br", "br0", "--", "add-port", "br0", "p1")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    next_cfg, cur_cfg = get(server, env, "Open_vSwitch", ".", "next_cfg", "cur_cfg")
    assert int(next_cfg) >= 1 and int(cur_cfg) == int(next_cfg)
    assert get(server, env, "Interface", "p1", "ofport") != ["[]"]
    r = vsctl(server, env, "set", "bridge", "br0", "other_config:x=1")
    assert r.returncode == 0
    assert int(get(server, env, "Open_vSwitch", ".", "cur_cfg")[0]) == int(next_cfg) + 1


def test_reports_interfaces_that_failed(server, env, fake_vswitchd, tmp_path):
    r = vsctl(server, env, "add-br", "br0", "--", "add-port", "br0", "bad1",
              "--", "add-bond", "br0", "b0", "bad2", "ok3")
    assert r.returncode == 0
    # One line per interface, in the replica's order (as OVS 3.1's vsctl.c).
    lines = r.stderr.splitlines(keepends=True)
    err = ("ovs-vsctl: Error detected while setting up '%s'.  See ovs-vswitchd "
           "log for details.\n")
    assert sorted(lines[:2]) == [err % "bad1", err % "bad2"]
    assert lines[2:] == ['ovs-vsctl: The default log directory is "%s".\n' % tmp_path]


def test_times_out_without_vswitchd(server, env):
    r = vsctl(server, env, "--timeout=1", "add-br", "br0")
    assert r.returncode == -signal.SIGALRM
    assert r.stderr.endswith("|fatal_signal|WARN|terminating with signal 14 "
                             "(Alarm clock)\n")
    # The change itself was committed; only the wait was cut short.
    assert get(server, env, "Bridge", "br0", "name") == ["br0"]
    next_cfg, cur_cfg = get(server, env, "Open_vSwitch", ".", "next_cfg", "cur_cfg")
    assert (int(next_cfg), int(cur_cfg)) == (1, 0)


def test_nothing_to_wait_for_when_unchanged(server, env):
    assert vsctl(server, env, "--no-wait", "add-br", "br0").returncode == 0
    r = vsctl(server, env, "--timeout=5", "list-br", "--", "br-exists", "br0")
    assert (r.returncode, r.stdout, r.stderr) == (0, "br0\n", "")
    assert get(server, env, "Open_vSwitch", ".", "next_cfg") == ["0"]


def test_vswitchd_arriving_later(server, env):
    p = subprocess.Popen([pyovs_bin("ovs-vsctl"), "--db=" + server.remote,
                          "--timeout=20", "add-br", "br0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    try:
        from tests.conftest import wait_for
        wait_for(lambda: vsctl(server, env, "--no-wait", "br-exists", "br0")
                 .returncode == 0, what="bridge committed")
        assert p.poll() is None
        fake = start_fake_vswitchd(server.remote)
        try:
            out, err = p.communicate(timeout=20)
        finally:
            fake.terminate()
            fake.wait(10)
        assert (p.returncode, out, err) == (0, "", "")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
