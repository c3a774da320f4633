"""ofproto/trace of sample, check_pkt_larger, delete_field and tun_metadata
writes: pyovs's whole text against Debian's real OVS 3.1 (test_xlate.py's
real dummy switch; a TLV map gives tun_metadata0 a 4-byte Geneve option in
both).  Nothing is normalised but the slow-path note.
"""

import pytest

from pyovs.ofproto.mac_learning import MacLearning
from pyovs.ofproto.ofproto import OFProto
from pyovs.ofproto.trace import trace
from pyovs.ofproto.xlate import XBridge, xlate
from pyovs.openflow import fields as F
from pyovs.openflow import ofp_actions as OA
from pyovs.openflow.flow import parse_flow_mod
from pyovs.openflow.tlv_table import NXTTMC_ADD, parse_tlv_mappings

from tests.interop.test_xlate import (  # noqa: F401  (real: the fixture)
    real, real_trace, TCP, xports, parse_trace_flow)

TLV = "{class=0xffff,type=0,len=4}->tun_metadata0"
FLOW = f"in_port=1,{TCP}"

# (id, flows)
CASES = [
    ("sample", ["actions=sample(probability=65535,collector_set_id=1),output:2"]),
    ("sample-all-options", ["actions=sample(probability=100,collector_set_id=1,obs_domain_id=2,"
                            "obs_point_id=3,sampling_port=2,ingress),output:2"]),
    ("cpl-resubmit", ["actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,1)",
                      "table=1,reg0=1,actions=output:2", "table=1,reg0=0,actions=output:3"]),
    ("cpl-output", ["actions=check_pkt_larger(200)->NXM_NX_REG0[0],output:2"]),
    ("cpl-last", ["actions=output:3,check_pkt_larger(200)->NXM_NX_REG0[0]"]),
    ("cpl-commit-and-sets", [
        "actions=mod_nw_src:9.9.9.9,check_pkt_larger(100)->NXM_NX_REG1[3],resubmit(,1),output:4",
        "table=1,reg1=0x8/0x8,actions=mod_dl_src:00:00:00:00:00:09,output:2",
        "table=1,actions=drop"]),
    ("cpl-in-resubmit", ["actions=resubmit(,1),output:4",
                         "table=1,actions=check_pkt_larger(100)->NXM_NX_REG1[3],output:2"]),
    ("cpl-in-clone", ["actions=clone(check_pkt_larger(300)->NXM_NX_REG0[1],"
                      "mod_dl_dst:00:00:00:00:00:07,output:2),output:3"]),
    ("cpl-nested", ["actions=check_pkt_larger(100)->NXM_NX_REG0[0],"
                    "check_pkt_larger(200)->NXM_NX_REG0[1],resubmit(,1)",
                    "table=1,reg0=3,actions=output:2", "table=1,reg0=1,actions=output:3",
                    "table=1,reg0=0,actions=output:4"]),
    ("cpl-after-vlan", ["actions=mod_vlan_vid:7,check_pkt_larger(100)->NXM_NX_REG0[0],"
                        "output:2,strip_vlan,output:3"]),
    ("tun-md-set-delete", ["actions=set_field:0x1234->tun_metadata0,output:2,"
                           "delete_field:tun_metadata0,output:3"]),
    ("tun-md-delete-only", ["actions=delete_field:tun_metadata0,output:3"]),
    ("tun-md-match", ["actions=set_field:0x1234->tun_metadata0,resubmit(,1)",
                      "table=1,tun_metadata0=0x1234,actions=output:2",
                      "table=1,priority=1,actions=output:3"]),
    ("tun-md-deleted-no-match", ["actions=set_field:0x1234->tun_metadata0,"
                                 "delete_field:tun_metadata0,resubmit(,1)",
                                 "table=1,tun_metadata0=0x1234,actions=output:2",
                                 "table=1,priority=1,actions=output:3"]),
]


@pytest.fixture(scope="module")
def real_tlv(real):
    real.ofctl("del-flows", "br0")
    real.ofctl("add-tlv-map", "br0", TLV)
    yield real
    real.ofctl("del-flows", "br0")
    real.ofctl("del-tlv-map", "br0")


def pyovs_bridge(flows):
    """FLOWS in an OFProto with the TLV map, their actions through
    OpenFlow 1.0's wire encoding as ovs-ofctl sends them."""
    ofp = OFProto("br0")
    ofp.tlv_table_mod(NXTTMC_ADD, parse_tlv_mappings(TLV))
    for line in flows:
        fm = parse_flow_mod(line)[0]
        fm.actions = OA.decode_actions(OA.encode_actions(fm.actions, F.OFP10, fm.match),
                                       F.OFP10)
        ofp.handle_flow_mod(fm, 0)
    return XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trace_matches_real(real_tlv, case):
    _, flows = case
    _, _, theirs = real_trace(real_tlv, flows, FLOW)
    theirs = theirs.split("This flow is handled by the userspace slow path")[0]
    mine = trace(pyovs_bridge(flows), parse_trace_flow(FLOW))
    assert mine == theirs, "\n" + mine + "\n" + theirs


def test_check_pkt_larger_branches():
    """The destination bit is 1 in gt(), 0 in le(), and restored after."""
    bridge = pyovs_bridge(["actions=check_pkt_larger(64)->NXM_NX_REG2[5],resubmit(,1)",
                           "table=1,reg2=0x20/0x20,actions=output:2",
                           "table=1,reg2=0/0x20,actions=output:3"])
    result = xlate(bridge, parse_trace_flow(FLOW), allow_side_effects=False)
    assert result.error is None
    assert result.actions == [("check_pkt_len", (64, [("output", 2)], [("output", 3)]))]
    assert result.final_flow.get("reg2", 0) == 0
