"""OpenFlow 1.4+ port stats with their properties (the dummy netdev's
custom statistics, OVS's Intel experimenter property): pyovs's ovs-ofctl
dump-ports against the real ovs-vswitchd prints what the real tool does."""

import re

import pytest

from tests.interop.test_ofctl_cmds_bundle import switch  # noqa: F401
from tests.interop.test_ofctl_switch import real, ours

pytestmark = pytest.mark.interop


def _norm(result):
    rc, out, err = result
    return rc, re.sub(r"duration=[0-9.]+s", "duration=?s", out), err


@pytest.mark.parametrize("vers", ["OpenFlow14", "OpenFlow15"])
@pytest.mark.parametrize("port", [[], ["1"], ["p2"], ["LOCAL"]])
def test_dump_ports_custom_stats(switch, vers, port):  # noqa: F811
    r = _norm(real(switch, "-O", vers, "dump-ports", "br0", *port))
    assert "CUSTOM Statistics" in r[1]
    assert _norm(ours(switch, "-O", vers, "dump-ports", "br0", *port)) == r


@pytest.mark.parametrize("args", [["dump-meter", "br0", "meter=1"],
                                  ["del-meter", "br0", "meter=1"],
                                  ["dump-meter", "br0"], ["del-meter", "br0"]])
def test_meter_singular_commands(switch, args):  # noqa: F811
    o13 = ["-O", "OpenFlow13"]
    real(switch, *o13, "add-meter", "br0", "meter=1,pktps,band=type=drop,rate=10")
    r = _norm(real(switch, *o13, *args))
    after_real = real(switch, *o13, "dump-meters", "br0")
    real(switch, *o13, "add-meter", "br0", "meter=1,pktps,band=type=drop,rate=10")
    o = _norm(ours(switch, *o13, *args))
    after_ours = real(switch, *o13, "dump-meters", "br0")
    real(switch, *o13, "del-meters", "br0")
    assert o == r
    assert after_ours == after_real
