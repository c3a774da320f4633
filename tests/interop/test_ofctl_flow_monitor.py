"""ovs-ofctl monitor SWITCH watch:... -- flow monitors in their three wire
forms (NXST_FLOW_MONITOR in OpenFlow 1.0, ONFST_FLOW_MONITOR in 1.3,
OFPMP_FLOW_MONITOR in 1.4+): pyovs's ovs-ofctl against Debian's real switch
prints what the real ovs-ofctl prints, the initial flows (stdout) and the
updates as flows are added, modified and deleted (stderr)."""

import subprocess
import threading

import pytest

from tests.conftest import real_bin, pyovs_bin, wait_for
from tests.interop.test_ofctl_switch import switch, real  # noqa: F401

pytestmark = pytest.mark.interop

CHANGES = [["add-flow", "br0", "priority=6,tcp,tp_dst=80,actions=output:1"],
           ["mod-flows", "br0", "tcp,actions=drop"],
           ["add-flow", "br0", "table=3,hard_timeout=90,ip,actions=drop"],
           ["del-flows", "br0", "tcp"]]


def _watch(sw, tool, args, n_events):
    """Run TOOL's monitor with ARGS while CHANGES happen; (stdout, stderr)
    once N_EVENTS updates have been printed."""
    real(sw, "del-flows", "br0")
    real(sw, "add-flow", "br0",
         "cookie=0x5,priority=5,in_port=1,idle_timeout=500,actions=output:2")
    p = subprocess.Popen([tool, *args], env=sw.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    err_lines = []
    reader = threading.Thread(target=lambda: err_lines.extend(p.stderr),
                              daemon=True)
    reader.start()
    try:
        first = p.stdout.readline()        # the request's reply: set up
        for change in CHANGES:
            real(sw, *change)
        wait_for(lambda: sum("event=" in x for x in err_lines) >= n_events,
                 timeout=15, what="flow updates")
    finally:
        p.terminate()
        p.wait(10)
        rest = p.stdout.read()       # (what readline() buffered too)
        reader.join(5)
    err = "".join(x for x in err_lines if "|" not in x)
    return first + rest, err


@pytest.mark.parametrize("args,n_events", [
    (["watch:"], 4),
    (["-O", "OpenFlow13", "watch:"], 4),
    (["-O", "OpenFlow14", "watch:"], 4),
    (["watch:!initial,!actions,tcp"], 3),
    (["-O", "OpenFlow13", "watch:out_port=1,!delete"], 2),
    (["-O", "OpenFlow14", "watch:table=3"], 1),
], ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_watch_as_real(switch, args, n_events):
    *opts, spec = args
    cmd = [*opts, "monitor", "br0", spec]
    by_real = _watch(switch, real_bin("ovs-ofctl"), cmd, n_events)
    by_ours = _watch(switch, pyovs_bin("ovs-ofctl"), cmd, n_events)
    assert by_real == by_ours
    assert "FLOW_MONITOR reply" in by_ours[0]


@pytest.mark.parametrize("spec", ["watch:bogus=1", "watch:table=x"])
def test_bad_watch_as_real(switch, spec):
    r = real(switch, "monitor", "br0", spec)
    p = subprocess.run([pyovs_bin("ovs-ofctl"), "monitor", "br0", spec],
                       env=switch.env, capture_output=True, text=True, timeout=30)
    assert r[0] == p.returncode == 1
    assert r[2] == p.stderr
