"""pyovs end to end without Debian's tools: pyovs's ovs-vsctl (waiting
for the switch, no --no-wait) against pyovs's ovs-vswitchd on pyovs's
ovsdb-server, and pyovs's ovs-appctl for the daemon's commands."""

import os
import signal
import subprocess

import pytest

from tests.conftest import pyovs_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import start_server


@pytest.fixture
def switch(request, tmp_path):
    srv = start_server(request, "pyovs", tmp_path)
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    vsctl = [pyovs_bin("ovs-vsctl"), "--db=" + srv.remote, "--timeout=20"]
    r = run(vsctl[:2] + ["--no-wait", "init"], timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    ctl = str(tmp_path / "vswitchd.ctl")
    proc = subprocess.Popen([pyovs_bin("ovs-vswitchd"), srv.remote,
                             "--enable-dummy=override", "--no-chdir",
                             "--unixctl=" + ctl, "-vconsole:off",
                             "--log-file=" + str(tmp_path / "v.log")],
                            env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    request.addfinalizer(stop)
    wait_for(lambda: os.path.exists(ctl) or proc.poll() is not None, timeout=20)
    assert proc.poll() is None, proc.stderr.read()

    def vs(*args):
        r = run(vsctl + list(args), timeout=30, env=env)
        return r
    appctl = [pyovs_bin("ovs-appctl"), "-t", ctl]
    return vs, appctl, proc, env


def test_pyovs_vsctl_waits_for_pyovs_switch(switch):
    vs, appctl, proc, env = switch
    for args in (["add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy"],
                 ["add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy"],
                 ["add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=dummy",
                  "ofport_request=10"]):
        r = vs(*args)
        assert r.returncode == 0, r.stderr
    r = vs("get", "Interface", "p1", "ofport", "--", "get", "Interface", "p2", "ofport",
           "--", "get", "Open_vSwitch", ".", "cur_cfg", "next_cfg")
    p1, p2, cur, nxt = r.stdout.split()
    assert (p1, p2) == ("1", "10") and cur == nxt
    r = vs("add-port", "br0", "bad", "--", "set", "Interface", "bad", "type=nosuch")
    assert "could not open network device bad" in r.stderr
    r = vs("del-br", "br0")
    assert r.returncode == 0, r.stderr
    r = run(appctl + ["exit"], timeout=20, env=env)
    assert r.returncode == 0, r.stderr
    assert proc.wait(timeout=10) == 0
