"""OpenFlow 1.5 groups: bucket ids and bucket properties, insert-buckets and
remove-buckets.  pyovs's ovs-ofctl and the real one, each running the same
sequence against Debian's real switch from a clean state, print the same."""

import pytest

from tests.interop.test_ofctl_switch import switch, real, ours, normalise  # noqa: F401

pytestmark = pytest.mark.interop

OF15 = ["-O", "OpenFlow15"]
SEQUENCE = [
    [*OF15, "add-group", "br0", "group_id=1,type=all,bucket=bucket_id:1,"
     "actions=output:1,bucket=bucket_id:2,actions=output:2"],
    [*OF15, "add-group", "br0", "group_id=2,type=select,bucket=weight:5,"
     "watch_port:2,actions=output:1,bucket=actions=output:2"],
    [*OF15, "add-group", "br0", "group_id=3,type=ff,bucket=watch_group:1,"
     "actions=output:1"],
    [*OF15, "dump-groups", "br0"], [*OF15, "dump-groups", "br0", "2"],
    [*OF15, "dump-groups", "br0", "group_id=2"],
    [*OF15, "insert-buckets", "br0", "group_id=1,command_bucket_id=last,"
     "bucket=bucket_id:3,actions=output:3"],
    [*OF15, "insert-buckets", "br0", "group_id=1,command_bucket_id=first,"
     "bucket=bucket_id:7,actions=output:4"],
    [*OF15, "insert-buckets", "br0", "group_id=1,command_bucket_id=last,"
     "bucket=bucket_id:3,actions=output:3"],
    [*OF15, "insert-buckets", "br0", "group_id=1,bucket=actions=output:3"],
    [*OF15, "dump-groups", "br0"],
    [*OF15, "remove-buckets", "br0", "group_id=1,command_bucket_id=2"],
    [*OF15, "remove-buckets", "br0", "group_id=1,command_bucket_id=9"],
    [*OF15, "dump-groups", "br0", "1"],
    [*OF15, "remove-buckets", "br0", "group_id=1"],
    [*OF15, "dump-groups", "br0"],
    ["-O", "OpenFlow13", "dump-groups", "br0"],
    [*OF15, "mod-group", "br0", "group_id=3,type=ff,bucket=watch_group:2,"
     "actions=output:2"],
    [*OF15, "dump-groups", "br0"],
    [*OF15, "del-groups", "br0", "group_id=2"], [*OF15, "del-groups", "br0"],
    [*OF15, "dump-groups", "br0"],
]


def _run(sw, tool):
    real(sw, *OF15, "del-groups", "br0")
    out = []
    for cmd in SEQUENCE:
        rc, o, e = tool(sw, *cmd)
        e = "".join(x + "\n" for x in e.splitlines() if "|" not in x)
        lines = o.splitlines()
        if "dump-groups" in cmd:        # the switch's hash order varies
            lines = lines[:1] + sorted(lines[1:])
        out.append(normalise((rc, "\n".join(lines), e)))
    real(sw, *OF15, "del-groups", "br0")
    return out


def test_openflow15_groups_as_real(switch):
    by_real = _run(switch, real)
    by_ours = _run(switch, ours)
    for cmd, r, o in zip(SEQUENCE, by_real, by_ours):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert any("bucket_id:3" in r[1] for r in by_real)
