"""`ovs-ofctl mod-table` against Debian's real ovs-vswitchd, compared with
the real tool: outputs and errors, and the table state the real
`dump-table-desc` (OpenFlow 1.4) shows afterwards."""

import pytest

from tests.interop.test_ofctl_switch import switch, real, ours  # noqa: F401

pytestmark = pytest.mark.interop

O14 = ["-O", "OpenFlow14"]


@pytest.mark.parametrize("args", [
    ["mod-table", "br0", "0", "drop"],
    ["-O", "OpenFlow13", "mod-table", "br0", "0", "drop"],
    ["-O", "OpenFlow12", "mod-table", "br0", "0", "drop"],
    ["-O", "OpenFlow12", "mod-table", "br0", "all", "controller"],
    ["-O", "OpenFlow12", "mod-table", "br0", "3", "continue"],
    ["mod-table", "br0", "0", "evict"],
    ["mod-table", "br0", "0", "bogus"],
    ["mod-table", "br0", "300", "evict"],
    ["mod-table", "br0", "x", "evict"],
    [*O14, "mod-table", "br0", "0", "evict"],
    [*O14, "mod-table", "br0", "1", "vacancy:10,20"],
    [*O14, "mod-table", "br0", "1", "vacancy:30,20"],
    [*O14, "mod-table", "br0", "1", "vacancy:10"],
    [*O14, "mod-table", "br0", "1", "vacancy:200,300"],
    [*O14, "mod-table", "br0", "1", "vacancy"],
    [*O14, "mod-table", "br0", "1", "evict"],
    [*O14, "mod-table", "br0", "1", "novacancy"],
    [*O14, "mod-table", "br0", "254", "evict"],
    [*O14, "mod-table", "br0", "all", "evict"],
    [*O14, "mod-table", "nosuchbr", "1", "evict"],
], ids=lambda a: " ".join(a))
def test_mod_table_against_real(switch, args):  # noqa: F811
    desc = (*O14, "dump-table-desc", "br0")
    results = []
    for tool in (real, ours):
        # (Each table on its own: the real tool's "all novacancy" leaves a
        # table with vacancy events on as it was; pyovs clears it.)
        for table in ("0", "1"):
            tool(switch, *O14, "mod-table", "br0", table, "noevict")
            tool(switch, *O14, "mod-table", "br0", table, "novacancy")
        r = tool(switch, *args)
        results.append((r, real(switch, *desc)))
    real(switch, *O14, "mod-table", "br0", "all", "noevict")
    real(switch, *O14, "mod-table", "br0", "1", "novacancy")
    assert results[0][1][0] == 0
    assert results[0] == results[1]


@pytest.mark.parametrize("vers", [O14, ["-O", "OpenFlow15"], ["-O", "OpenFlow13"],
                                  []], ids=["of14", "of15", "of13", "default"])
@pytest.mark.parametrize("target", ["br0", "nosuchbr"])
def test_dump_table_desc_against_real(switch, vers, target):  # noqa: F811
    real(switch, *O14, "mod-table", "br0", "1", "vacancy:10,20")
    real(switch, *O14, "mod-table", "br0", "2", "evict")
    try:
        r = real(switch, *vers, "dump-table-desc", target)
        o = ours(switch, *vers, "dump-table-desc", target)
    finally:
        real(switch, *O14, "mod-table", "br0", "1", "novacancy")
        real(switch, *O14, "mod-table", "br0", "2", "noevict")
    assert r == o
    if vers and vers[1] >= "OpenFlow14" and target == "br0":
        assert "vacancy_down=10%" in r[1] and "eviction=on" in r[1]
