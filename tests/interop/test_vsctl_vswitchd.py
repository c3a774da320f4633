"""ovs-vsctl without --no-wait against Debian's real ovs-vswitchd.

Both ovs-vsctl implementations wait for the real switch to apply each change
(next_cfg -> cur_cfg) and then report interfaces it could not set up; their
stdout, stderr and exit status must be the same.
"""

import os
import signal
import subprocess

import pytest

from tests.conftest import pyovs_bin, real_bin, run, wait_for


@pytest.fixture(scope="module")
def real_switch(tmp_path_factory):
    d = tmp_path_factory.mktemp("vsctl-vswitchd")
    env = dict(os.environ, OVS_RUNDIR=str(d), OVS_LOGDIR=str(d), OVS_DBDIR=str(d))
    sock = d / "db.sock"
    run([real_bin("ovsdb-tool"), "create", str(d / "conf.db"),
         "/usr/share/openvswitch/vswitch.ovsschema"], check=True, env=env)
    procs = [subprocess.Popen([real_bin("ovsdb-server"), str(d / "conf.db"),
                               f"--remote=punix:{sock}", f"--unixctl={d}/db.ctl",
                               "-vconsole:off"], env=env)]
    wait_for(sock.exists, what="ovsdb-server socket")
    run([real_bin("ovs-vsctl"), "--no-wait", "init"], check=True, env=env)
    procs.append(subprocess.Popen([real_bin("ovs-vswitchd"), f"unix:{sock}",
                                   "--enable-dummy=override", f"--unixctl={d}/vs.ctl",
                                   "-vconsole:off"], env=env))
    wait_for(lambda: (d / "vs.ctl").exists(), what="ovs-vswitchd control socket")
    yield env, d
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)


def _norm(text, d, names):
    for real, generic in names.items():
        text = text.replace(real, generic)
    return text.replace(str(d), "DIR")


SEQUENCES = {
    "bridge-and-ports": [
        ["add-br", "{br}", "--", "set", "bridge", "{br}", "datapath_type=dummy"],
        ["add-port", "{br}", "{br}p1", "--", "set", "interface", "{br}p1", "type=dummy"],
        ["list-ports", "{br}"],
        ["get", "interface", "{br}p1", "type"],
    ],
    "bad-interfaces": [
        ["add-br", "{br}", "--", "set", "bridge", "{br}", "datapath_type=dummy"],
        ["add-port", "{br}", "{br}a", "--", "set", "interface", "{br}a", "type=nosuch"],
        ["add-port", "{br}", "{br}c", "--", "set", "interface", "{br}c", "type=patch"],
        ["del-port", "{br}", "{br}a"],
        ["--may-exist", "add-port", "{br}", "{br}c"],
    ],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_vsctl_waits_like_real(real_switch, name):
    env, d = real_switch
    results = {}
    for tool, exe in (("real", real_bin("ovs-vsctl")), ("pyovs", pyovs_bin("ovs-vsctl"))):
        br = f"{tool[0]}{name[:3]}"
        out = []
        for cmd in SEQUENCES[name]:
            argv = [exe, "--timeout=20"] + [a.format(br=br) for a in cmd]
            p = run(argv, env=env, timeout=30)
            out.append((p.returncode, _norm(p.stdout, d, {br: "BR"}),
                        _norm(p.stderr, d, {br: "BR"})))
        results[tool] = out
    assert results["pyovs"] == results["real"]
    # The comparison is not vacuous: the real tool's add-br went through.
    assert results["real"][0][0] == 0, results["real"][0]
    if name == "bad-interfaces":
        # ... and the real tool did report the errors.
        assert "Error detected while setting up 'BRa': could not open" in results["real"][1][2]
