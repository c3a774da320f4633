"""`pyovs demo` without the tunnel layout: the database story (--db) and
the sandbox story (--sandbox, what runs without root), the latter proved
against Debian's real Open vSwitch first."""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REAL, pyovs_bin, run


def test_db_story_runs_and_cleans_up():
    proc = run([pyovs_bin("pyovs"), "demo", "--db"], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    # The bridge configured through the server is read back by ovsdb-client.
    assert re.search(r"^br0\s+\[[0-9a-f-]{36}, [0-9a-f-]{36}\]$", out, re.M), out
    assert "Open_vSwitch\n_Server\n" in out
    # The transaction is in the log on disk with its comment.
    assert re.search(r'^record 1: \S+ \S+ "pyovs demo: add-br br0', out, re.M), out
    workdir = re.search(r"database in (\S+)", out).group(1)
    # The server was stopped: its pidfile is gone.
    assert not list(Path(workdir).glob("*.pid"))


#: What each tunnel's sandbox story must show: the listener, the push header
#: type and the pop.
EXPECT = {
    "vxlan": ("vxlan_sys_4789 (4789)", "tnl_push(tnl_port(4789),header(size=50,type=4,",
              "Datapath actions: tnl_pop(4789)"),
    "geneve": ("genev_sys_6081 (6081)", "tnl_push(tnl_port(6081),header(size=50,type=5,",
               "Datapath actions: tnl_pop(6081)"),
    "gre": ("gre_sys (3)", "tnl_push(tnl_port(3),header(size=38,type=3,",
            "Datapath actions: tnl_pop(3)"),
}


def _sandbox_story(tunnel, *extra):
    env = dict(os.environ)
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
        env.pop(var, None)
    return run([pyovs_bin("pyovs"), "demo", "--sandbox", "--tunnel", tunnel, *extra],
               timeout=120, env=env)


def _check_story(proc, tunnel):
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for text in EXPECT[tunnel]:
        assert text in out, out
    assert ("172.31.1.2                                    aa:55:aa:55:00:02   br-phy\n"
            in out), out
    assert "User: 172.31.1.0/24 dev br-phy SRC 172.31.1.1\n" in out, out
    sandbox = re.search(r"dummy datapath in (\S+)", out).group(1)
    assert not Path(sandbox).exists()         # removed afterwards


@pytest.mark.interop
@pytest.mark.parametrize("tunnel", ["vxlan", "gre"])
def test_sandbox_story_on_real_ovs(tunnel):
    for name in ("ovsdb-server", "ovs-vswitchd"):
        if not os.path.exists(REAL[name]):
            pytest.skip(f"{REAL[name]} not installed")
    _check_story(_sandbox_story(tunnel, "--ovs-bin", "/usr/sbin:/usr/bin"), tunnel)


@pytest.mark.parametrize("tunnel", ["gre"])     # vxlan: the test after this
def test_sandbox_story_on_pyovs(tunnel):
    _check_story(_sandbox_story(tunnel), tunnel)


def test_bad_tunnel_type():
    proc = run([pyovs_bin("pyovs"), "demo", "--tunnel", "ipsec"], timeout=30)
    assert proc.returncode == 2
    assert "invalid choice: 'ipsec'" in proc.stderr


def test_without_root_tells_the_sandbox_story(monkeypatch, capsys):
    """Not root: says why, then the sandbox story (run in-process with the
    effective uid faked)."""
    from pyovs.cli import demo
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pyovs demo: the tunnel demo needs root (it creates network "
                          "namespaces and veth interfaces);\n")
    assert EXPECT["vxlan"][1] in out and EXPECT["vxlan"][2] in out
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert demo.main(["--clean"]) == 1
