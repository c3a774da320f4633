"""ofproto/trace's whole text against Debian's real OVS 3.1.

The pipelines are test_xlate.py's table (same real switch setup, same
flows, same traced flows, same static MACs).  pyovs's tables get each flow
as the real switch does: parsed by pyovs's ovs-ofctl syntax parser, then
its actions encoded to the OpenFlow version ovs-ofctl used and decoded
back, so an OpenFlow 1.0 set_field reads as the mod_nw_dst or load the
switch holds (and prints).

What is normalised, and only that:
- recirc_id values in userspace() actions (allocated ids);
- the order of the "Datapath actions:" outputs where the real switch
  floods in its hash order (cases not marked exact): those are compared as
  the multiset each port receives, as test_xlate.py does;
- in test_trace_text_matches_real only, the order of the "Megaflow:"
  items and an 8-bit ICMP type/code written as value/0xff (the whole-text
  test compares them exactly);
- the "This flow is handled by the userspace slow path" note, which
  depends on what the datapath can do, not on translation.
"""

import re

import pytest

from pyovs.odp.actions import parse_actions
from pyovs.ofproto.mac_learning import MacLearning
from pyovs.ofproto.ofproto import OFProto
from pyovs.ofproto.trace import trace, trace_command
from pyovs.ofproto.xlate import XBridge
from pyovs.openflow import actions as A
from pyovs.openflow import fields as F
from pyovs.openflow import ofp_actions as OA
from pyovs.openflow.flow import parse_flow_mod

from pyovs.openflow.groups import parse_group

from tests.conftest import wait_for
from tests.interop.test_xlate import (  # noqa: F401  (real: the fixture)
    real, real_trace, CASES, OF13, GROUP_CASES, LEARN_FLOW, TCP, MACS, xports, parse_trace_flow,
    outputs)


def wire_ofproto(flows, of13, groups=()):
    """GROUPS and FLOWS in an OFProto, their actions through the wire as
    ovs-ofctl sends them."""
    version = F.OFP13 if of13 else F.OFP10
    ofp = OFProto("br0")
    for text in groups:
        g = parse_group(text)
        for b in g.group.buckets:
            b.actions = OA.decode_action_list(OA.encode_action_list(b.actions, version),
                                              version)
        ofp.group_mod(g, 0)
    for line in flows:
        fm = parse_flow_mod(line)[0]
        if of13:
            _no_push_after_push_vlan(fm.actions)
        fm.actions = OA.decode_actions(OA.encode_actions(fm.actions, version, fm.match),
                                       version)
        if not of13:
            _of10_vlan_push(fm.actions)
        ofp.handle_flow_mod(fm, 0)
    return ofp


def _no_push_after_push_vlan(actions):
    """The real ovs-ofctl parses "push_vlan:0x8100,mod_vlan_vid:5" as
    push_vlan:0x8100,set_field:4101->vlan_vid (no second push); pyovs's
    parser (F's) still marks that mod_vlan_vid as pushing, so it is undone
    here."""
    pushed = False
    for a in actions:
        if isinstance(a, A.PushVlan):
            pushed = True
        elif pushed and isinstance(a, (A.SetVlanVid, A.SetVlanPcp)):
            a.push = False


def _of10_vlan_push(actions):
    """OVS decodes OpenFlow 1.0's set_vlan_vid/pcp as pushing a header when
    there is none (decode_OFPAT_RAW10_SET_VLAN_VID); pyovs's decoder (F's
    ofp_actions) does not yet, so the flag is put back here."""
    for a in actions:
        if isinstance(a, (A.SetVlanVid, A.SetVlanPcp)):
            a.push = True
        elif isinstance(a, A.Clone):
            _of10_vlan_push(a.actions)


def pyovs_bridge(flows, statics=(), of13=False):
    ml = MacLearning()
    for port, vlan, mac in statics:
        ml.add_static(int(mac.replace(":", ""), 16), vlan, port, now=0)
    return XBridge("br0", [t.cls for t in wire_ofproto(flows, of13).tables], xports(), ml)


def _split(text):
    """(lines without Megaflow/Datapath actions/slow path note, megaflow, actions)."""
    text = text.split("\nThis flow is handled by the userspace slow path")[0]
    lines = text.rstrip("\n").split("\n")
    megaflow = actions = None
    rest = []
    for ln in lines:
        if ln.startswith("Megaflow: "):
            megaflow = ln[len("Megaflow: "):]
        elif ln.startswith("Datapath actions: "):
            actions = ln[len("Datapath actions: "):]
        else:
            rest.append(ln)
    return rest, megaflow, actions


def _megaflow_items(text):
    text = re.sub(r"(icmp_type|icmp_code)=0x([0-9a-f]+)/0xff",
                  lambda m: f"{m.group(1)}={int(m.group(2), 16)}", text)
    return sorted(text.split(","))


def _norm_recirc(text):
    return re.sub(r"recirc_id=\d+", "recirc_id=X", text)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trace_text_matches_real(real, case):
    name, flows, flow_text, statics, exact = case
    _, _, theirs = real_trace(real, flows, flow_text, statics, name in OF13)
    mine = trace(pyovs_bridge(flows, statics, name in OF13), parse_trace_flow(flow_text))
    m_lines, m_mf, m_act = _split(mine)
    r_lines, r_mf, r_act = _split(theirs)
    assert m_lines == r_lines, "\n" + mine + "\n" + theirs
    assert _megaflow_items(m_mf) == _megaflow_items(r_mf), "\n" + mine + "\n" + theirs
    if exact:
        assert _norm_recirc(m_act) == _norm_recirc(r_act), "\n" + mine + "\n" + theirs
    else:
        tci = parse_trace_flow(flow_text).get("vlan_tci", 0)
        start = ([(0x8100, tci)] if tci else [], {})
        assert (outputs(parse_actions(m_act), start)
                == outputs(parse_actions(r_act), start)), "\n" + mine + "\n" + theirs


def test_exact_cases_whole_text_identical(real):
    """Where nothing floods, the whole text is byte for byte the real one's
    once recirc_id values and the slow-path note are set aside."""
    n = 0
    for name, flows, flow_text, statics, exact in CASES:
        if not exact:
            continue
        _, _, theirs = real_trace(real, flows, flow_text, statics, name in OF13)
        theirs = theirs.split("This flow is handled by the userspace slow path")[0]
        mine = trace(pyovs_bridge(flows, statics, name in OF13), parse_trace_flow(flow_text))
        assert _norm_recirc(mine) == _norm_recirc(theirs), name
        n += 1
    assert n > 40


def test_trace_command_errors():
    bridges = {"br0": pyovs_bridge(["actions=output:2"])}
    err, text = trace_command(bridges, ["br0", "in_port=1,tcp"])
    assert err is None and text.startswith("Flow: tcp,in_port=1,")
    assert "Datapath actions: 2\n" in text
    err, _ = trace_command(bridges, ["br9", "in_port=1"])
    assert "br9" in err
    err, _ = trace_command(bridges, ["br0", "in_port=1,nonsense=3"])
    assert err


@pytest.mark.parametrize("case", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_group_trace_text_matches_real(real, case):
    """Groups: the "bucket N" nodes; everything but recirc_id compared exactly."""
    _, groups, flows = case
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("del-flows", "br0")
    for g in groups:
        real.ofctl("-O", "OpenFlow13", "add-group", "br0", g)
    try:
        _, _, theirs = real_trace(real, flows, f"in_port=1,{TCP}", of13=True)
    finally:
        real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    ofp = wire_ofproto(flows, True, groups)
    bridge = XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning(),
                     groups=ofp.groups)
    mine = trace(bridge, parse_trace_flow(f"in_port=1,{TCP}"))
    assert _norm_recirc(mine) == _norm_recirc(theirs), "\n" + mine + "\n" + theirs


def test_learn_trace_text_matches_real(real):
    flow_text = f"in_port=1,dl_vlan=5,{TCP}"
    _, _, theirs = real_trace(real, [LEARN_FLOW], flow_text)
    mine = trace(pyovs_bridge([LEARN_FLOW]), parse_trace_flow(flow_text))
    assert mine == theirs, "\n" + mine + "\n" + theirs


@pytest.mark.parametrize("args", [["br9", "in_port=1"], ["br0", "in_port=1,foo=2"], ["br0"]])
def test_trace_command_errors_match_real(real, args):
    proc = real.appctl("ofproto/trace", *args, check=False)
    assert proc.returncode == 2
    theirs = proc.stderr.split("\novs-appctl: ")[0]
    err, text = trace_command({"br0": pyovs_bridge([])}, args)
    assert text is None and err == theirs


# Flows whose traced flow carries pipeline metadata, and a fast-failover
# group, beyond test_xlate.py's table.  (id, groups, flows, flow to trace)
EXTRA = [
    ("metadata-in-flow", (), ["table=0,reg3=0x10,actions=set_field:0x22->metadata,resubmit(,1)",
                              "table=1,metadata=0x22,pkt_mark=7,actions=output:2"],
     f"in_port=1,reg3=0x10,pkt_mark=7,{TCP}"),
    ("ff-group", ("group_id=5,type=ff,bucket=watch_port:2,output:2,"
                  "bucket=watch_port:3,mod_dl_dst:00:00:00:00:00:33,output:3",),
     ["actions=group:5,output:4"], f"in_port=1,{TCP}"),
    ("moves", (), ["tcp,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                   "move:NXM_NX_REG2[]->NXM_NX_REG0[],"
                   "move:NXM_OF_TCP_DST[0..3]->NXM_NX_REG1[4..7],"
                   "output:2"], f"in_port=1,{TCP}"),
    ("dec-ttl-ipv6", (), ["actions=dec_ttl,output:2"],
     f"in_port=1,{TCP.split(',tcp')[0]},tcp6,ipv6_src=::1,ipv6_dst=::2,nw_ttl=1"),
    ("clear-empty-set", (), ["actions=output:2,clear_actions"], f"in_port=1,{TCP}"),
    ("clear-set-only", (), ["table=0,actions=write_actions(mod_nw_ttl:9),goto_table:1",
                            "table=1,actions=output:2,clear_actions"], f"in_port=1,{TCP}"),
    ("write-set-only", (), ["table=0,actions=write_actions(mod_nw_ttl:9),goto_table:3",
                            "table=3,actions=output:2"], f"in_port=1,{TCP}"),
    ("deep-resubmits", (), ["table=0,actions=resubmit(,1),output:4",
                            "table=1,actions=resubmit(,2),output:3",
                            "table=2,actions=output:2,resubmit(,9)"], f"in_port=1,{TCP}"),
    ("resubmit-loop", (), ["table=0,actions=output:2,resubmit(,0)"], f"in_port=1,{TCP}"),
    ("too-many-resubmits", (), ["table=0,actions=" + ",".join(["resubmit(,1)"] * 70),
                                "table=1,actions=" + ",".join(["resubmit(,2)"] * 70)],
     f"in_port=1,{TCP}"),
    ("nonexistent-port", (), ["actions=output:9,output:2"], f"in_port=1,{TCP}"),
    ("normal-unknown-in-port", (), ["actions=NORMAL"], f"in_port=9,{TCP}"),
    ("pop-untagged", (), ["actions=strip_vlan,output:2"], f"in_port=1,{TCP}"),
    ("exit-in-bucket", ("group_id=8,type=all,bucket=output:2,exit,output:3,bucket=output:4",),
     ["actions=group:8,output:5"], f"in_port=1,{TCP}"),
    ("controller-forms", (), ["actions=controller(userdata=01.02.03,max_len=99),"
                              "controller(reason=invalid_ttl,id=4),output:2"], f"in_port=1,{TCP}"),
    ("dec-ttl-ids", (), ["actions=dec_ttl(3,5),output:2"], f"in_port=1,{MACS},tcp,nw_ttl=1"),
    ("write-metadata", (), ["table=0,actions=write_metadata:0x5/0xff,goto_table:1",
                            "table=1,metadata=0x5/0xff,actions=output:2"], f"in_port=1,{TCP}"),
    ("pcp-on-untagged", (), ["actions=mod_vlan_pcp:3,output:2"], f"in_port=1,{TCP}"),
    ("vid-none", (), ["dl_vlan=5,actions=set_field:0->vlan_vid,output:2"],
     f"in_port=1,dl_vlan=5,{TCP}"),
    ("goto-chain", (), ["table=0,actions=output:2,goto_table:1",
                        "table=1,actions=output:3,goto_table:2",
                        "table=2,tcp,actions=output:4"], f"in_port=1,{TCP}"),
    ("ipv6-flow-line", (), ["actions=output:2"],
     f"in_port=3,dl_vlan=7,dl_vlan_pcp=1,{TCP.split(',tcp')[0]},udp6,ipv6_src=::1,"
     "ipv6_dst=2001:db8::9,ipv6_label=0x12345,udp_src=1,udp_dst=2"),
]


@pytest.mark.parametrize("case", EXTRA, ids=[c[0] for c in EXTRA])
def test_extra_trace_text_matches_real(real, case):
    _, groups, flows, flow_text = case
    of13 = bool(groups) or any("_actions" in f or "goto" in f for f in flows)
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("del-flows", "br0")
    for g in groups:
        real.ofctl("-O", "OpenFlow13", "add-group", "br0", g)
    try:
        _, _, theirs = real_trace(real, flows, flow_text, of13=of13)
    finally:
        real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    ofp = wire_ofproto(flows, of13, groups)
    bridge = XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning(),
                     groups=ofp.groups)
    mine = trace(bridge, parse_trace_flow(flow_text))
    assert _norm_recirc(mine) == _norm_recirc(theirs), "\n" + mine + "\n" + theirs


def test_standalone_miss_matches_real(real):
    """fail-mode standalone without a controller: OVS's priority 0 NORMAL
    flow, pyovs's miss="normal"."""
    real.ofctl("del-flows", "br0")
    real.vsctl("set-fail-mode", "br0", "standalone")
    try:
        wait_for(lambda: "actions=NORMAL" in real.ofctl("dump-flows", "br0").stdout,
                 what="the standalone NORMAL flow")
        theirs = real.appctl("ofproto/trace", "br0", f"in_port=1,{TCP}").stdout
    finally:
        real.vsctl("set-fail-mode", "br0", "secure")
        real.ofctl("del-flows", "br0")
    bridge = XBridge("br0", [t.cls for t in wire_ofproto([], False).tables], xports(),
                     MacLearning(), miss="normal")
    mine = trace(bridge, parse_trace_flow(f"in_port=1,{TCP}"))
    assert mine == theirs, "\n" + mine + "\n" + theirs


@pytest.mark.parametrize("flows", [["actions=output:5,output:2"], ["actions=FLOOD"],
                                   ["actions=NORMAL"]], ids=["output", "flood", "normal"])
def test_port_config_trace_matches_real(real, flows):
    """p3 no-flood and p5 no-forward (ovs-ofctl mod-port): the whole text
    but the order of flooded outputs."""
    real.ofctl("mod-port", "br0", "p3", "no-flood")
    real.ofctl("mod-port", "br0", "p5", "no-forward")
    flow_text = f"in_port=1,dl_vlan=10,{TCP}"
    try:
        _, _, theirs = real_trace(real, flows, flow_text)
    finally:
        real.ofctl("mod-port", "br0", "p3", "flood")
        real.ofctl("mod-port", "br0", "p5", "forward")
    ports = xports()
    ports[3].no_flood = True
    ports[5].no_fwd = True
    bridge = XBridge("br0", [t.cls for t in wire_ofproto(flows, False).tables], ports,
                     MacLearning())
    mine = trace(bridge, parse_trace_flow(flow_text))
    m_lines, m_mf, m_act = _split(mine)
    r_lines, r_mf, r_act = _split(theirs)
    assert (m_lines, m_mf) == (r_lines, r_mf), "\n" + mine + "\n" + theirs
    start = ([(0x8100, 0x100a)], {})
    assert outputs(parse_actions(m_act), start) == outputs(parse_actions(r_act), start)


def test_trace_command_with_port_names_matches_real(real):
    flows = ["in_port=2,actions=output:LOCAL,output:3"]
    flow_text = f"in_port=p2,{TCP}"
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flows", "br0", "-", input="\n".join(flows) + "\n")
    theirs = real.appctl("ofproto/trace", "br0", flow_text).stdout
    err, mine = trace_command({"br0": pyovs_bridge(flows)}, ["br0", flow_text])
    assert err is None and mine == theirs, "\n" + mine + "\n" + theirs


def _udp_packet_hex(src, dst):
    from pyovs.packet.build import flow_compose
    return flow_compose({"dl_src": src, "dl_dst": dst, "dl_type": 0x0800, "nw_proto": 17,
                         "nw_src": 0x0a000001, "nw_dst": 0x0a000002, "nw_ttl": 64,
                         "tp_src": 1234, "tp_dst": 80}).hex()


# Sequences of traces with a packet: each step's side effects (MAC learning,
# learn() flows) are seen by the next ones, on both switches.
SIDE_EFFECT_CASES = [
    ("normal-generate", ["actions=NORMAL"], [
        ["br0", f"in_port=1,{TCP}", "-generate"],
        ["br0", "in_port=3,dl_vlan=10,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01",
         "--generate"],
        ["--generate", "br0", "in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01"],
        ["br0", f"in_port=1,{TCP}"]]),
    ("learn-generate", [LEARN_FLOW], [
        ["br0", f"in_port=1,dl_vlan=5,{TCP}", "-generate"],
        ["br0", f"in_port=3,{TCP}", "--generate", "--l7-len", "10"]]),
    ("packet-hex", ["actions=learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
                    "output:NXM_OF_IN_PORT[]),NORMAL"], [
        ["br0", "in_port=1,dl_vlan=7,pkt_mark=3,skb_priority=2",
         _udp_packet_hex(0x505400000009, 0x50540000000a)],
        ["br0", "in_port=3", _udp_packet_hex(0x50540000000a, 0x505400000009)]]),
]


@pytest.mark.parametrize("case", SIDE_EFFECT_CASES, ids=[c[0] for c in SIDE_EFFECT_CASES])
def test_trace_with_packet_matches_real(real, case):
    """-generate / --generate / hex packet data: the text, and the side
    effects the later steps see, as the real switch's."""
    _, flows, steps = case
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flows", "br0", "-", input="\n".join(flows) + "\n")
    real.appctl("fdb/flush", "br0")
    bridges = {"br0": pyovs_bridge(flows)}
    try:
        for args in steps:
            theirs = real.appctl("ofproto/trace", *args).stdout
            err, mine = trace_command(bridges, args)
            assert err is None
            # flooding's port order is the one thing not OVS's (see trace.py)
            m_lines, m_mf, m_act = _split(mine)
            r_lines, r_mf, r_act = _split(theirs)
            assert (m_lines, m_mf) == (r_lines, r_mf), "\n" + mine + "\n" + theirs
            tci = parse_trace_flow(re.sub(r",vlan_tci1=[^,]*", "", r_lines[0][6:])).get(
                "vlan_tci", 0)
            start = ([(0x8100, tci)] if tci else [], {})
            assert (outputs(parse_actions(m_act), start)
                    == outputs(parse_actions(r_act), start)), "\n" + mine + "\n" + theirs
    finally:
        real.appctl("fdb/flush", "br0")
        real.ofctl("del-flows", "br0")


@pytest.mark.parametrize("args", [["br0", "in_port=1", "zz"], ["br0", "in_port=1", "505400"],
                                  ["br0", "in_port=1", "zz", "ff"],
                                  ["br0", "in_port=1", "-generate", "ff"]])
def test_trace_packet_argument_errors_match_real(real, args):
    proc = real.appctl("ofproto/trace", *args, check=False)
    assert proc.returncode == 2
    theirs = proc.stderr.split("\novs-appctl: ")[0]
    err, text = trace_command({"br0": pyovs_bridge([])}, args)
    assert text is None and err == theirs
