"""Waiting for ovs-vswitchd (no --no-wait), pyovs's ovs-vsctl against
Debian's: the same sequences against Debian's ovsdb-server with the fake
ovs-vswitchd of tests/daemons/test_vsctl_fake_vswitchd.py give the same
output, exit status and next_cfg/cur_cfg."""

import os

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin
from tests.daemons.test_vsctl_wait import start_fake_vswitchd
from tests.interop.test_vsctl_cases import OvsdbServer, normalised, run_sequence

SEQUENCE = [
    "init",
    "add-br br0 -- add-port br0 p1",
    "list-br",
    "--no-wait get Open_vSwitch . next_cfg cur_cfg",
    "add-port br0 bad1 -- add-port br0 p2",
    "set bridge br0 other_config:x=1",
    "set bridge br0 other_config:x=1",
    "--no-wait get Open_vSwitch . next_cfg cur_cfg",
    "--timeout=1 --dry-run add-br br9",   # waits in vain, as OVS does
    "--no-wait get Open_vSwitch . next_cfg cur_cfg",
]


def _run(tmp_path, name, vsctl):
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    server = OvsdbServer(real_bin("ovsdb-server"), real_bin("ovsdb-tool"),
                         REAL_VSWITCH_SCHEMA, tmp_path, name)
    try:
        fake = start_fake_vswitchd(server.remote)
        try:
            # run_sequence adds --no-wait; these invocations must wait.
            results = []
            for inv in SEQUENCE:
                results += _run_one(vsctl, server.remote, inv, env)
            return normalised(results, "exact"), str(tmp_path)
        finally:
            fake.terminate()
            fake.wait(10)
    finally:
        server.stop()


def _run_one(vsctl, remote, inv, env):
    import shlex
    import subprocess
    p = subprocess.run([vsctl, "--db=" + remote, "--timeout=20"] + shlex.split(inv),
                       capture_output=True, text=True, env=env, timeout=30)
    return [(inv, p.returncode, p.stdout, p.stderr)]


def test_waiting_same_as_real(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "ours").mkdir()
    expected, real_dir = _run(tmp_path / "real", "real", real_bin("ovs-vsctl"))
    got, our_dir = _run(tmp_path / "ours", "ours", pyovs_bin("ovs-vsctl"))
    got = [(i, s, o, e.replace(our_dir, real_dir)) for i, s, o, e in got]
    # Not vacuous: the real tool's init, add-br and list-br went through.
    assert [s for _, s, _, _ in expected[:3]] == [0, 0, 0], expected[:3]
    assert expected[2][2] == "br0\n"
    assert got == expected
    assert any("Error detected while setting up 'bad1'" in e for _, _, _, e in got)
