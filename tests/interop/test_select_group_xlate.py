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


# --- select groups -----------------------------------------------------------

import re  # noqa: E402

from pyovs.openflow import actions as A  # noqa: E402
from tests.interop.test_xlate import build_ofproto  # noqa: E402

# Weights needing more than 256 hash values: OVS's default method, decided
# in translation (each live bucket's score in the trace).
DEFAULT_METHOD = [
    "group_id=1,type=select,bucket=weight:1,output:2,bucket=weight:300,output:3",
    "group_id=1,type=select,bucket=weight:2,output:2,bucket=weight:300,output:3,"
    "bucket=weight:250,output:4,bucket=weight:1,actions=mod_vlan_vid:5,output:5",
    "group_id=1,type=select,bucket=bucket_id:7,weight:1,output:2,"
    "bucket=bucket_id:3,weight:400,output:3",
]
FLOWS = [
    FLOW,
    FLOW.replace("tp_src=1000", "tp_src=1001"),
    "in_port=1,dl_src=00:00:00:00:00:03,dl_dst=00:00:00:00:00:02,udp,"
    "nw_src=1.1.1.9,nw_dst=2.2.2.2,udp_src=5,udp_dst=53",
    "in_port=1,dl_vlan=7,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,"
    "tcp6,ipv6_src=::1,ipv6_dst=::2,tp_src=9,tp_dst=10",
    "in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,icmp,"
    "nw_src=1.1.1.1,nw_dst=2.2.2.2,icmp_type=8",
    "in_port=1,dl_src=00:00:00:00:00:05,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1",
]


def _bridge(flows, groups):
    ofp = build_ofproto(flows, groups)
    return XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning(),
                   groups=ofp.groups)


def _real_with_group(real, group, flows, flow_text):  # noqa: F811
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("-O", "OpenFlow15", "add-group", "br0", group)
    return real_trace(real, flows, flow_text, of13=True)


@pytest.mark.parametrize("group", DEFAULT_METHOD)
@pytest.mark.parametrize("flow_text", FLOWS)
def test_select_group_default_method(real, group, flow_text):  # noqa: F811
    flows = ["in_port=1,actions=group:1,output:6"]
    megaflow, actions, text = _real_with_group(real, group, flows, flow_text)
    flow = parse_trace_flow(flow_text)
    result = xlate(_bridge(flows, [group]), flow, allow_side_effects=False)
    assert result.text() == actions
    megaflow = re.sub(r"(icmp_type|icmp_code)=0x([0-9a-f]+)/0xff",
                      lambda m: f"{m.group(1)}={int(m.group(2), 16)}", megaflow)
    assert "recirc_id=0,eth," + megaflow_match(flow, result.wc).format() == megaflow
    ours = T.trace(_bridge(flows, [group]), flow)
    assert ours == text, "\n".join(difflib.unified_diff(
        text.splitlines(), ours.splitlines(), "real", "ours", lineterm=""))


# Weights that fit 256 hash values: the dp_hash method.  The real switch's
# first translation recirculates with hash(sym_l4(0)); tracing the
# recirculated packet (its recirc_id, a dp_hash) shows the bucket that
# dp_hash maps to, which pyovs's translation of the group with that
# dp_hash must choose too, with the same dp_hash bits in the megaflow.
DP_HASH = [
    "group_id=1,type=select,bucket=output:2,bucket=output:3",
    "group_id=1,type=select,bucket=weight:3,output:2,bucket=weight:5,output:3,"
    "bucket=weight:7,output:4",
    "group_id=1,type=select,bucket=weight:1,output:2,bucket=weight:100,output:3",
    "group_id=1,type=select,bucket=weight:0,output:2,bucket=weight:2,output:3,"
    "bucket=weight:1,output:4",
    "group_id=1,type=select,bucket=watch_port:9,output:2,bucket=output:3,"
    "bucket=watch_port:4,output:4",
]


@pytest.mark.parametrize("group", DP_HASH)
def test_select_group_dp_hash_buckets(real, group):  # noqa: F811
    flows = ["in_port=1,actions=group:1"]
    _m, actions, _t = _real_with_group(real, group, flows, FLOW)
    rid = re.fullmatch(r"hash\(sym_l4\(0\)\),recirc\((0x[0-9a-f]+)\)", actions).group(1)
    bridge = _bridge(flows, [group])
    seen = set()
    for dp_hash in list(range(1, 40)) + [0x101, 0xfff3, 0x12345678]:
        out = real.appctl("ofproto/trace", "br0",
                          f"recirc_id={rid},dp_hash={dp_hash}," + FLOW).stdout
        real_actions = re.search(r"^Datapath actions: (.*)$", out, re.M).group(1)
        real_mask = re.search(r"^Megaflow: .*?(dp_hash=[^,]*)", out, re.M).group(1)
        flow = dict(parse_trace_flow(FLOW), dp_hash=dp_hash)
        result = xlate(bridge, flow, allow_side_effects=False, actions=[A.Group(1)])
        mask = re.search(r"dp_hash=[^,]*", megaflow_match(flow, result.wc).format())
        assert (result.text(), mask.group(0)) == (real_actions, real_mask), dp_hash
        seen.add(real_actions)
    if "weight:100" not in group:       # (its light bucket has 1 slot in 128)
        assert len(seen) > 1


def _norm_recirc(text):
    return re.sub(r"recirc\(0x[0-9a-f]+\)", "recirc(X)", text)


@pytest.mark.parametrize("flows", [
    ["in_port=1,actions=group:1"],
    ["in_port=1,actions=set_field:00:00:00:00:00:09->eth_src,group:1,output:6"],
    ["in_port=1,actions=resubmit(,1),output:5",
     "table=1,actions=group:1,output:6"],
], ids=["alone", "set-before-output-after", "in-resubmit"])
@pytest.mark.parametrize("group", DP_HASH[:2])
def test_select_group_dp_hash_recirculates(real, group, flows):  # noqa: F811
    """The first translation: hash(sym_l4(0)),recirc(ID), everything after
    the group frozen, the trace as the real switch's."""
    megaflow, actions, text = _real_with_group(real, group, flows, FLOW)
    flow = parse_trace_flow(FLOW)
    result = xlate(_bridge(flows, [group]), flow, allow_side_effects=False)
    assert _norm_recirc(result.text()) == _norm_recirc(actions)
    assert "hash(sym_l4(0)),recirc(" in actions
    assert "recirc_id=0,eth," + megaflow_match(flow, result.wc).format() == megaflow
    ours = T.trace(_bridge(flows, [group]), flow)
    assert _norm_recirc(ours) == _norm_recirc(text), "\n".join(difflib.unified_diff(
        text.splitlines(), ours.splitlines(), "real", "ours", lineterm=""))


def test_datapath_hash_as_real_datapath(real):  # noqa: F811
    """The dp_hash the real userspace datapath's hash(sym_l4(0)) gives a
    packet (dpctl/dump-flows shows it, unmasked, in the recirculated
    megaflow) is datapath_hash()'s, for IPv4/IPv6 TCP, UDP, ICMP and ARP."""
    import time
    from pyovs.ofproto.select_group import datapath_hash
    from pyovs.packet import build
    src, dst = "50:54:00:00:00:01", "50:54:00:00:00:02"
    packets = [
        build.tcp_packet(src, dst, "10.0.0.1", "10.0.0.2", 1000, 80),
        build.tcp_packet(src, dst, "10.0.0.3", "10.0.0.2", 80, 1234),
        build.udp_packet(src, dst, "10.0.0.5", "10.0.0.2", 1, 2),
        build.icmp_packet(src, dst, "10.0.0.7", "10.0.0.2"),
        build.tcp_packet(src, dst, "2001::1", "2001::2", 5, 6),
        build.arp_packet(1, src, "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2",
                         eth_dst="ff:ff:ff:ff:ff:ff"),
    ]
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("-O", "OpenFlow13", "add-group", "br0", DP_HASH[1])
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flow", "br0", "in_port=1,actions=group:1")
    try:
        for pkt in packets:
            real.appctl("dpctl/del-flows")
            real.appctl("netdev-dummy/receive", "p1", pkt.hex())
            for _ in range(100):
                dump = real.appctl("dpctl/dump-flows").stdout
                m = re.search(r"dp_hash\((0x[0-9a-f]+)/", dump)
                if m:
                    break
                time.sleep(0.02)
            assert m, dump
            assert datapath_hash(pkt, "sym_l4", 0) == int(m.group(1), 16), pkt.hex()
    finally:
        real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
        real.appctl("dpctl/del-flows")


@pytest.mark.parametrize("flows", [
    ["in_port=1,actions=load:5->reg0,group:1,output:6",
     "table=1,reg0=5,actions=output:3", "table=1,priority=0,actions=output:4"],
    ["in_port=1,actions=write_metadata:0x7,goto_table:2",
     "table=2,actions=group:1", "table=1,metadata=7,actions=output:3",
     "table=1,priority=0,actions=output:4"],
], ids=["reg0-then-output", "metadata-through-goto"])
def test_select_group_thaw_as_real(real, flows):  # noqa: F811
    """The frozen state: translating the recirculated packet from what the
    first translation froze (XBridge.freeze_decap) gives the real switch's
    datapath actions for the same dp_hash, the pipeline's registers and
    metadata restored."""
    group = "group_id=1,type=select,bucket=resubmit(,1),bucket=output:2"
    _m, actions, _t = _real_with_group(real, group, flows, FLOW)
    rid = re.fullmatch(r"hash\(sym_l4\(0\)\),recirc\((0x[0-9a-f]+)\)", actions).group(1)
    bridge = _bridge(flows, [group])
    frozen = []
    bridge.freeze_decap = lambda in_port, acts: frozen.append(list(acts)) or 99
    flow = parse_trace_flow(FLOW)
    first = xlate(bridge, flow, allow_side_effects=False)
    assert first.text() == "hash(sym_l4(0)),recirc(0x63)"
    for dp_hash in range(1, 9):
        out = real.appctl("ofproto/trace", "br0",
                          f"recirc_id={rid},dp_hash={dp_hash}," + FLOW).stdout
        real_actions = re.search(r"^Datapath actions: (.*)$", out, re.M).group(1)
        thaw = xlate(bridge, dict(flow, dp_hash=dp_hash, recirc_id=99),
                     allow_side_effects=False, actions=frozen[0])
        assert thaw.text() == real_actions, dp_hash
