"""The TLV map (add-tlv-map, del-tlv-map, dump-tlv-map) and the
tun_metadata<i> fields it gives meaning to: the real ovs-ofctl against both
switches, and pyovs's ovs-ofctl against the real switch, print the same."""

import pytest

from tests.interop.test_ofproto import run_both, switch, harness  # noqa: F401
from tests.interop.test_ofctl_switch import real, ours, normalise

pytestmark = pytest.mark.interop

OF13 = ["-O", "OpenFlow13"]
MAPS = ("{class=0xffff,type=0,len=4}->tun_metadata0,"
        "{class=0x0102,type=0x80,len=8}->tun_metadata5")

SEQUENCE = [
    ["dump-tlv-map", "BR"],
    ["add-tlv-map", "BR", MAPS],
    ["dump-tlv-map", "BR"], [*OF13, "dump-tlv-map", "BR"],
    ["add-tlv-map", "BR", "{class=0xffff,type=0,len=4}->tun_metadata1"],
    ["add-tlv-map", "BR", "{class=0xffff,type=1,len=4}->tun_metadata0"],
    [*OF13, "add-tlv-map", "BR", "{class=0xffff,type=1,len=4}->tun_metadata0"],
    ["add-tlv-map", "BR", "{class=0xffff,type=0,len=4}->tun_metadata64"],
    [*OF13, "add-tlv-map", "BR", "{class=1,type=0,len=6}->tun_metadata9"],
    ["add-tlv-map", "BR", "{class=7,type=0,len=124}->tun_metadata10,"
     "{class=7,type=1,len=124}->tun_metadata11"],
    ["add-tlv-map", "BR", "class=0xffff"],
    ["add-flow", "BR", "tun_metadata0=5,actions=set_field:3->tun_metadata5"],
    ["add-flow", "BR", "tun_metadata1=5,actions=drop"],
    [*OF13, "add-flow", "BR", "tun_metadata1=5,actions=drop"],
    ["add-flow", "BR", "actions=move:tun_metadata2[0..7]->reg0[0..7]"],
    ["dump-flows", "BR"], [*OF13, "dump-flows", "BR"],
    ["del-tlv-map", "BR", "{class=0xffff,type=0,len=4}->tun_metadata0"],
    [*OF13, "del-tlv-map", "BR"],
    ["del-tlv-map", "BR", "{class=0xffff,type=9,len=4}->tun_metadata9"],
    ["del-flows", "BR"],
    ["del-tlv-map", "BR", "{class=0xffff,type=0,len=4}->tun_metadata0"],
    ["dump-tlv-map", "BR"],
    ["del-tlv-map", "BR"], ["dump-tlv-map", "BR"],
]


def test_real_tool_against_both_switches(switch, harness):
    real_results, mine = run_both(switch, harness, SEQUENCE, [])
    for cmd, r, o in zip(SEQUENCE, real_results, mine):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert any("tun_metadata5" in line for r in mine for line in r[1])
    assert harness.alive()


def _run_sequence(sw, tool):
    tool(sw, "del-flows", "br0")
    tool(sw, "del-tlv-map", "br0")
    out = []
    for cmd in SEQUENCE:
        args = ["br0" if a == "BR" else a for a in cmd]
        out.append(normalise(tool(sw, *args)))
    return out


def _ours(sw, *args):
    """pyovs's tool, its stderr filtered as real() filters the real tool's
    (which drops log lines, and with them hex dumps)."""
    rc, out, err = ours(sw, *args)
    return rc, out, "".join(line + "\n" for line in err.splitlines()
                            if "|" not in line)


def test_pyovs_tool_against_real_switch(switch):
    by_real = _run_sequence(switch, real)
    by_ours = _run_sequence(switch, _ours)
    for cmd, r, o in zip(SEQUENCE, by_real, by_ours):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert sum(r[0] != 0 for r in by_real) >= 6     # the refusals happened
