"""ovs-ofctl bundle SWITCH FILE: pyovs's against Debian's real ovs-ofctl,
both against the real ovs-vswitchd (dummy datapath): same output, errors
and status, and the same flows and groups in the switch afterwards."""

import re

import pytest

from tests.conftest import real_bin
from tests.interop.test_ofctl_cmds_pcap import _port
from tests.interop.test_ofctl_switch import Switch, real, ours

pytestmark = pytest.mark.interop

FILES = {
    "mixed": "flow add in_port=1,actions=drop\n"
             "group add group_id=1,type=all,bucket=output:1\n"
             "# a comment\n\n"
             "flow in_port=2,actions=group:1\n"
             "fl delete in_port=1\n"
             "flow modify_strict in_port=2,actions=output:1\n"
             "g mod group_id=1,type=all,bucket=output:2\n",
    "group-twice": "flow add in_port=1,actions=drop\n"
                   "group add group_id=1,type=all,bucket=output:1\n"
                   "group add group_id=1,type=all,bucket=output:2\n",
    "unknown-kind": "flow add in_port=1,actions=drop\nbogus add x\n",
    "bad-action": "flow add in_port=1,actions=bogus\n",
    "refused": "flow add table=1,actions=goto_table:0\n",
    "missing-group": "flow add in_port=3,actions=group:99\n",
}


@pytest.fixture(scope="module")
def switch():
    real_bin("ovs-vswitchd")
    sw = Switch()
    sw.tcp_port = _port(2)
    try:
        sw.start()
        yield sw
    finally:
        sw.stop()


def _state(sw):
    flows = real(sw, "-O", "OpenFlow13", "dump-flows", "br0")[1]
    groups = real(sw, "-O", "OpenFlow13", "dump-groups", "br0")[1]
    real(sw, "del-flows", "br0")
    real(sw, "-O", "OpenFlow13", "del-groups", "br0")
    return re.sub(r"duration=[0-9.]+s", "duration=?", flows), groups


@pytest.mark.parametrize("vers", [[], ["-O", "OpenFlow13"], ["-O", "OpenFlow14"]],
                         ids=["default", "of13", "of14"])
@pytest.mark.parametrize("name", sorted(FILES))
def test_bundle_same_as_ovs(switch, tmp_path, name, vers):
    path = tmp_path / f"{name}.txt"
    path.write_text(FILES[name])
    _state(switch)
    r = real(switch, *vers, "bundle", "br0", str(path))
    r_state = _state(switch)
    o = ours(switch, *vers, "bundle", "br0", str(path))
    o_state = _state(switch)
    assert o == r
    assert o_state == r_state
    if name == "mixed":
        assert "group:1" not in r_state[0] and "output:1" in r_state[0]


def test_bundle_missing_file(switch):
    assert ours(switch, "bundle", "br0", "/nonexistent") == \
        real(switch, "bundle", "br0", "/nonexistent")
