"""Translation of groups and action sets against Debian's real OVS 3.1
(ofproto/trace on its dummy datapath as the oracle, the harness of
test_xlate.py): check_pkt_larger while an OpenFlow 1.1+ action set is
pending -- each check_pkt_len branch ends by running the action set, the
gt() branch a copy of it, the le() branch what is left (nothing, as in
OVS), and the set as it was runs at the pipeline's end.

Compared: the whole ofproto/trace text, the megaflow and the datapath
actions."""

import difflib

import pytest

from tests.interop.test_xlate import (real, real_trace, build_tables, xports,  # noqa: F401
                                      parse_trace_flow, MacLearning, XBridge,
                                      xlate, megaflow_match)
from pyovs.ofproto import trace as T

pytestmark = pytest.mark.interop

FLOW = ("in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,tcp,"
        "nw_src=1.1.1.1,nw_dst=2.2.2.2,nw_ttl=64,tp_src=1000,tp_dst=80")
WRITE2 = "table=0,in_port=1,actions=write_actions(output:2),goto_table:1"

CHECK_PKT_CASES = {
    "rest-resubmits": [WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0],resubmit(,2)",
                       "table=2,reg0=1,actions=output:3", "table=2,reg0=0,actions=output:4"],
    "nothing-after": [WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0]"],
    "output-after": [WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0],output:3"],
    "branches-write-and-clear": [
        WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0],resubmit(,2)",
        "table=2,reg0=1,actions=write_actions(output:3)",
        "table=2,reg0=0,actions=clear_actions"],
    "set-in-action-set": [
        "table=0,in_port=1,actions=write_actions(set_field:00:00:00:00:00:09->eth_src,"
        "output:2),goto_table:1",
        "table=1,actions=check_pkt_larger(100)->reg0[0],resubmit(,2)",
        "table=2,reg0=1,actions=output:3", "table=2,reg0=0,actions=output:4"],
    "goto-after": [WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0],goto_table:2",
                   "table=2,reg0=1,actions=output:3", "table=2,reg0=0,actions=output:4"],
    "nested": [WRITE2, "table=1,actions=check_pkt_larger(100)->reg0[0],"
               "check_pkt_larger(200)->reg0[1],resubmit(,2)",
               "table=2,reg0=3,actions=output:3",
               "table=2,reg0=2,actions=write_actions(output:5)",
               "table=2,actions=output:4"],
    "no-action-set": ["table=0,in_port=1,actions=resubmit(,1),output:5",
                      "table=1,actions=check_pkt_larger(100)->reg0[0],output:3"],
}


@pytest.mark.parametrize("name", sorted(CHECK_PKT_CASES))
def test_check_pkt_larger_with_action_set(real, name):  # noqa: F811
    flows = CHECK_PKT_CASES[name]
    megaflow, actions, text = real_trace(real, flows, FLOW, of13=True)
    bridge = XBridge("br0", build_tables(flows), xports(), MacLearning())
    flow = parse_trace_flow(FLOW)
    result = xlate(bridge, flow, allow_side_effects=False)
    assert result.error is None
    assert result.text() == actions
    assert "check_pkt_len" in actions
    assert "recirc_id=0,eth," + megaflow_match(flow, result.wc).format() == megaflow
    ours = T.trace(XBridge("br0", build_tables(flows), xports(), MacLearning()), flow)
    assert ours == text, "\n".join(difflib.unified_diff(
        text.splitlines(), ours.splitlines(), "real", "ours", lineterm=""))
