"""pyovs's ovs-vswitchd with real Linux ports (needs root): internal ports
are tap devices, system ports are existing interfaces (a veth), all inside
a private network namespace named pd-<pid>-<n>; real ovs-vsctl drives it."""

import itertools
import os
import signal
import subprocess

import pytest

from tests.conftest import needs_root, pyovs_bin, real_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import start_server

_seq = itertools.count()


def links(ns):
    """{name: (ifindex, mac)} of the namespace's interfaces."""
    r = run(["ip", "-n", ns, "-o", "link"], timeout=10)
    out = {}
    for line in r.stdout.splitlines():
        idx, rest = line.split(":", 1)
        name = rest.split(":", 1)[0].strip().split("@")[0]
        mac = line.split("link/ether ")[1].split()[0] if "link/ether" in line else None
        out[name] = (int(idx), mac)
    return out


@pytest.fixture
def switch(request, tmp_path):
    needs_root()
    ns = "pd-%d-%d" % (os.getpid(), next(_seq))
    if run(["ip", "netns", "add", ns], timeout=10).returncode != 0:
        pytest.skip("cannot create network namespaces")
    request.addfinalizer(lambda: run(["ip", "netns", "del", ns], timeout=10))
    run(["ip", "-n", ns, "link", "add", "pdv0", "type", "veth", "peer", "name",
         "pdv1"], timeout=10)
    srv = start_server(request, "pyovs", tmp_path)
    vsctl = [real_bin("ovs-vsctl"), "--db=" + srv.remote, "--timeout=20"]
    run(vsctl + ["--no-wait", "init"], timeout=30)
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    ctl = str(tmp_path / "vswitchd.ctl")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, pyovs_bin("ovs-vswitchd"), srv.remote,
         "--no-chdir", "--unixctl=" + ctl, "--log-file=" + str(tmp_path / "v.log"),
         "-vconsole:off"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop():
        if proc.poll() is None:
            run([real_bin("ovs-appctl"), "-t", ctl, "exit", "--cleanup"], timeout=20)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
    request.addfinalizer(stop)
    wait_for(lambda: os.path.exists(ctl) or proc.poll() is not None, timeout=20)

    def vs(*args, check=True):
        r = run(vsctl + list(args), timeout=30, env=env)
        if check:
            assert r.returncode == 0, r.stderr
        return r
    return ns, vs, proc


def test_internal_and_system_ports(switch):
    ns, vs, proc = switch
    vs("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev")
    vs("add-port", "br0", "pdint0", "--", "set", "Interface", "pdint0", "type=internal")
    vs("add-port", "br0", "pdv0")
    r = vs("add-port", "br0", "pdnosuch", check=False)
    assert ("could not open network device pdnosuch (No such device)"
            in r.stderr)
    kernel = links(ns)
    assert "br0" in kernel and "pdint0" in kernel
    for name in ("br0", "pdint0", "pdv0"):
        got = vs("get", "Interface", name, "ifindex", "mac_in_use", "error").stdout.split()
        assert got == [str(kernel[name][0]), '"%s"' % kernel[name][1], "[]"], name
    assert vs("get", "Interface", "br0", "ofport").stdout.strip() == "65534"
    assert vs("get", "Interface", "pdint0", "ofport").stdout.strip() == "1"
    assert vs("get", "Interface", "pdv0", "ofport").stdout.strip() == "2"
    assert vs("get", "Interface", "pdnosuch", "ofport").stdout.strip() == "-1"
    # Driver facts as OVS's netdev_get_status() gives them (ethtool's).
    assert vs("get", "Interface", "pdv0", "status:driver_name").stdout.strip() == "veth"
    assert vs("get", "Interface", "pdint0", "status:driver_name").stdout.strip() == "tun"
    # The veth's link follows its peer.
    run(["ip", "-n", ns, "link", "set", "pdv0", "up"], timeout=10)
    run(["ip", "-n", ns, "link", "set", "pdv1", "up"], timeout=10)
    wait_for(lambda: vs("get", "Interface", "pdv0", "link_state").stdout.strip() == "up",
             timeout=20, what="pdv0 link up")
    vs("del-port", "pdint0")
    assert "pdint0" not in links(ns)
    vs("del-br", "br0")
    after = links(ns)
    assert "br0" not in after and "pdv0" in after
    assert proc.poll() is None
