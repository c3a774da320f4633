"""The real ovs-ofctl against both switches -- Debian's ovs-vswitchd and
pyovs's OpenFlow switch -- with flows added in one OpenFlow version and
dumped in another: what a flow_mod implies in its own version (an OpenFlow
1.0 flow_mod resets counters; its mod_vlan_vid pushes a VLAN header) must
show the same way in every version's dump.  Dumps are compared sorted."""

import pytest

from tests.interop.test_ofproto import run_both, switch, harness  # noqa: F401

pytestmark = pytest.mark.interop

OF10, OF13, OF15 = ["-O", "OpenFlow10"], ["-O", "OpenFlow13"], ["-O", "OpenFlow15"]

MIXED = [
    [*OF13, "add-flow", "BR", "priority=5,in_port=1,reset_counts,actions=output:2"],
    [*OF10, "add-flow", "BR", "priority=6,in_port=1,actions=output:2"],
    [*OF13, "add-flow", "BR", "priority=7,in_port=1,actions=mod_vlan_vid:5,output:2"],
    [*OF10, "add-flow", "BR", "priority=8,in_port=1,actions=mod_vlan_vid:5,output:2"],
    [*OF10, "add-flow", "BR", "priority=11,dl_vlan=3,actions=mod_vlan_vid:5,mod_vlan_pcp:2"],
    [*OF13, "add-flow", "BR", "priority=9,in_port=1,send_flow_rem,check_overlap,"
     "no_packet_counts,actions=output:2"],
    [*OF13, "add-flow", "BR", "priority=10,tcp,actions=conjunction(1,1/2)"],
    [*OF13, "add-flow", "BR", "priority=10,conj_id=1,tcp,actions=output:1"],
    [*OF13, "add-flow", "BR", "ip,actions=sample(probability=5),"
     "check_pkt_larger(100)->reg0[0],controller(meter_id=3)"],
    [*OF13, "add-flow", "BR", "icmp6,icmp_type=135,nd_reserved=7,xxreg1=0x5/0xff,"
     "actions=push_vlan:0x8100,set_field:4100->vlan_vid"],
    [*OF13, "dump-flows", "BR"], ["dump-flows", "BR"], [*OF15, "dump-flows", "BR"],
    [*OF13, "mod-flows", "BR", "priority=10,tcp,actions=output:2"],
    [*OF10, "mod-flows", "BR", "priority=5,in_port=1,actions=output:1"],
    [*OF13, "dump-flows", "BR"],
]


def test_flows_added_in_one_version_dump_as_real_in_others(switch, harness):
    real, mine = run_both(switch, harness, MIXED, [])
    for cmd, r, o in zip(MIXED, real, mine):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert harness.alive()


GROUPS15 = [
    [*OF15, "add-group", "BR", "group_id=1,type=all,bucket=bucket_id:1,"
     "actions=output:1,bucket=bucket_id:2,actions=output:2"],
    [*OF13, "add-group", "BR", "group_id=2,type=select,bucket=weight:5,"
     "watch_port:2,actions=output:1,bucket=actions=output:2"],
    [*OF15, "dump-groups", "BR"], [*OF15, "dump-groups", "BR", "2"],
    [*OF13, "dump-groups", "BR"],
    [*OF15, "insert-buckets", "BR", "group_id=1,command_bucket_id=1,"
     "bucket=bucket_id:5,actions=output:5"],
    [*OF15, "insert-buckets", "BR", "group_id=1,command_bucket_id=9,"
     "bucket=bucket_id:6,actions=output:5"],
    [*OF15, "insert-buckets", "BR", "group_id=1,command_bucket_id=first,"
     "bucket=bucket_id:5,actions=output:5"],
    [*OF15, "remove-buckets", "BR", "group_id=1,command_bucket_id=9"],
    [*OF15, "remove-buckets", "BR", "group_id=1,command_bucket_id=first"],
    [*OF15, "dump-groups", "BR"],
    [*OF15, "remove-buckets", "BR", "group_id=1,command_bucket_id=last"],
    [*OF15, "remove-buckets", "BR", "group_id=7"],
    [*OF15, "insert-buckets", "BR", "group_id=1,command_bucket_id=last,"
     "bucket=actions=output:1,bucket=actions=output:2"],
    [*OF15, "dump-groups", "BR"], [*OF13, "dump-groups", "BR"],
    [*OF15, "del-groups", "BR"], [*OF15, "dump-groups", "BR"],
]


def test_openflow15_bucket_commands_as_real(switch, harness):
    real, mine = run_both(switch, harness, GROUPS15, [])
    for cmd, r, o in zip(GROUPS15, real, mine):
        assert r == o, f"{cmd}:\nreal: {r}\nours: {o}"
    assert any("bucket_id:5" in line for r in mine for line in r[1])


INCONSISTENT = [("ip,actions=set_field:1.1.1.1->ip_src", "actions=drop"),
                 ("ip,actions=mod_nw_src:1.1.1.1", "actions=drop"),
                 ("tcp,actions=mod_tp_src:5", "ip,actions=drop"),
                 ("dl_vlan=5,actions=strip_vlan", "actions=drop"),
                 ("ip,actions=dec_ttl", "actions=drop"),
                 ("ip,actions=ct(commit)", "actions=drop"),
                 ("tcp,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15]",
                  "actions=drop"),
                 ("dl_vlan=5,actions=set_field:5->vlan_vid", "actions=drop"),
                 ("ip,actions=output:1", "ip,actions=drop")]


def _send_inconsistent(mgmt):
    """Each flow's actions with another flow's match, as a controller could
    send them (ovs-ofctl refuses to): the error name per flow and version."""
    from pyovs.openflow import messages as M, protocols as P
    from pyovs.openflow.flow import parse_flow_mod
    from pyovs.openflow.vconn import Vconn
    out = []
    for proto, ver in ((P.OF13_OXM, 4), (P.OF10_NXM, 1)):
        v = Vconn.open(mgmt, [ver], 10)
        try:
            if ver == 1:
                v.transact_noreply([M.encode_set_protocol(
                    P.OF10_STD, P.OF10_NXM, v.next_xid())[0]])
            for acts, other in INCONSISTENT:
                fm = parse_flow_mod(acts)[0]
                fm.match = parse_flow_mod(other)[0].match
                err = v.transact_noreply([M.encode_flow_mod(fm, proto,
                                                            v.next_xid())])
                out.append((ver, acts, M.decode_error(err)[0] if err else None))
        finally:
            v.close()
    return out


def test_inconsistent_flow_mods_refused_as_real(switch, harness):
    real_results, mine = (_send_inconsistent(switch.mgmt),
                          _send_inconsistent(harness.mgmt))
    assert real_results == mine
    assert sum(r[2] is not None for r in mine) >= 8
    assert harness.alive()
