"""ofproto/trace's printer and command, without a switch (tests/interop/
test_trace.py compares the whole text with the real OVS)."""

from hypothesis import given, settings, strategies as st

from pyovs.ofproto.mac_learning import MacLearning
from pyovs.ofproto.ofproto import OFProto
from pyovs.ofproto.trace import format_flow, format_nodes, trace, trace_command
from pyovs.ofproto.xlate import XBridge, XPort
from pyovs.openflow.flow import parse_flow_mod


def bridge(flows, **kw):
    ofp = OFProto("br0")
    for line in flows:
        ofp.handle_flow_mod(parse_flow_mod(line)[0], 0)
    ports = {n: XPort(n, n, f"p{n}") for n in (1, 2, 3)}
    return XBridge("br0", [t.cls for t in ofp.tables], ports, MacLearning(), **kw)


TCP = {"in_port": 1, "dl_src": 1, "dl_dst": 2, "dl_type": 0x0800, "nw_proto": 6,
       "nw_ttl": 64, "tp_dst": 80}


def test_indentation_follows_ovs_rule():
    """(level + more) * 4 spaces; subs at level + 2 * more."""
    nodes = [("table", " 0. priority 1", [
        ("action", "resubmit(,1)", []),
        ("table", " 1. priority 2", [("action", "output:2", []),
                                     ("detail", "d", []), ("warn", "w", []),
                                     ("error", "e", [])]),
        ("action", "output:3", []),
        ("table", " 2. No match.", [("action", "drop", [])])])]
    assert format_nodes(nodes) == [
        " 0. priority 1",
        "    resubmit(,1)",
        "     1. priority 2",
        "            output:2",
        "             -> d",
        "             >> w",
        "             >>>> e <<<<",
        "    output:3",
        " 2. No match.",
        "    drop"]


def test_resubmit_nests_and_registers_show_in_final_flow():
    text = trace(bridge(["table=0,actions=load:0x7->NXM_NX_REG0[],resubmit(,1),output:3",
                         "table=1,reg0=7,cookie=0x9,actions=output:2"]), TCP)
    lines = text.splitlines()
    assert lines[2:5] == ['bridge("br0")', "-------------", " 0. priority 32768"]
    assert "     1. reg0=0x7, priority 32768, cookie 0x9" in lines
    assert "            output:2" in lines
    assert lines[-3].startswith("Final flow: tcp,reg0=0x7,in_port=1,")
    assert lines[-1] == "Datapath actions: 2,3"


def test_unchanged_miss_and_skipped_input():
    text = trace(bridge(["in_port=2,actions=output:1"]), TCP)
    assert " 0. No match.\n    drop\n" in text
    assert "Final flow: unchanged\n" in text and text.endswith("Datapath actions: drop\n")
    text = trace(bridge(["actions=output:1,output:2"]), TCP)
    assert "    output:1\n     >> skipping output to input port\n    output:2\n" in text


def test_normal_details():
    b = bridge(["actions=NORMAL"])
    assert "     -> no learned MAC for destination, flooding\n" in trace(b, TCP)
    b.ml.add_static(2, 0, 3, now=0)
    assert "     -> forwarding to learned port\n" in trace(b, TCP)
    b.ml.add_static(2, 0, 1, now=0)
    text = trace(b, TCP)
    assert "learned port is input port, dropping" in text
    assert text.endswith("Datapath actions: drop\n")


def test_flow_line_second_vlan_header():
    flow = dict(TCP, vlan_tci=0x1005)
    assert ",dl_vlan=5,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=" in format_flow(flow)
    assert ",vlan_tci=0x0000,dl_src=" in format_flow(TCP)


def test_command_arguments():
    bridges = {"br0": bridge(["actions=output:2"])}
    err, text = trace_command(bridges, ["br0", "in_port=1,tcp,tp_dst=80"])
    assert err is None and text.startswith("Flow: tcp,in_port=1,")
    assert trace_command(bridges, ["br1", "in_port=1"]) == ("br1: unknown bridge", None)
    err, _ = trace_command(bridges, ["br0", "in_port=1,x=1"])
    assert err == "Bad openflow flow syntax: in_port=1,x=1: unknown field x"
    for args in ([], ["br0"], ["br0", "in_port=1", "0000"], ["a", "b", "c", "d"]):
        err, text = trace_command(bridges, args)
        assert err and text is None


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="in_port=12,tcpdl_vlanx:./-()0xff", max_size=60))
def test_command_never_raises(flow_text):
    err, text = trace_command({"br0": bridge(["actions=output:2,NORMAL"])},
                              ["br0", flow_text])
    assert (err is None) != (text is None)



_MEMBERS = {"in_port": st.sampled_from([1, 2, 3, 9, 0xfffe]),
            "vlan_tci": st.sampled_from([0, 0x1005, 0x3000, 0x1fff]),
            "dl_type": st.sampled_from([0x0800, 0x86dd, 0x0806, 0x1234]),
            "nw_proto": st.sampled_from([1, 6, 17, 58, 0]),
            "nw_ttl": st.integers(0, 255), "tp_dst": st.integers(0, 65535),
            "dl_dst": st.integers(0, (1 << 48) - 1), "reg0": st.integers(0, 2**32 - 1)}


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({}, optional=_MEMBERS))
def test_trace_of_any_flow_is_well_formed(flow):
    b = bridge(["table=0,priority=5,tcp,actions=move:NXM_OF_TCP_DST[]->NXM_NX_REG0[0..15],"
                "resubmit(,1),dec_ttl,NORMAL",
                "table=0,priority=1,actions=mod_vlan_vid:7,output:2,strip_vlan,FLOOD",
                "table=1,reg0=80,actions=output:3,clone(mod_dl_dst:00:00:00:00:00:01,IN_PORT)"])
    text = trace(b, flow)
    lines = text.splitlines()
    assert lines[0].startswith("Flow: ") and lines[1] == ""
    assert lines[2] == 'bridge("br0")' and lines[3] == "-------------"
    assert lines[-3].startswith("Final flow: ") and lines[-2].startswith("Megaflow: ")
    assert lines[-1].startswith("Datapath actions: ")
    body = lines[4:-4]
    assert body and lines[-4] == ""
    assert all(ln.startswith(" ") and (len(ln) - len(ln.lstrip(" "))) % 4 in (0, 1)
               for ln in body)


def test_parse_args_options_generate_and_packet():
    from pyovs.ofproto.trace import parse_args
    err, pos, opts = parse_args(["--generate", "br0", "in_port=1"])
    assert err is None and pos == ["br0", "in_port=1"] and opts.generate
    err, pos, opts = parse_args(["br0", "in_port=1", "-generate", "--l7-len", "5"])
    assert err is None and opts.generate and opts.l7_len == 5 and opts.packet is None
    hex_ = "50540000000a" "505400000009" "0800"
    err, pos, opts = parse_args(["br0", "in_port=1", hex_])
    assert err is None and pos == ["br0", "in_port=1"] and opts.packet == hex_
    # the datapath flow form: the packet follows the flow
    err, pos, opts = parse_args(["in_port(1)", hex_])
    assert err is None and pos == ["in_port(1)"] and opts.packet == hex_
    assert parse_args(["br0", "in_port=1", "-generate", "ff"])[0] == "Syntax error"
    assert parse_args(["a", "b", "c", "d"])[0] == "too many arguments"
    assert parse_args(["-generate"])[0] == "Syntax error"
    assert parse_args(["br0", "x", "--l7-len"])[0]
    err = parse_args(["--ct-next", "trk", "br0", "x"])[0]
    assert err.endswith("not supported (pyovs has no connection tracker)")


def test_command_packet_errors():
    bridges = {"br0": bridge(["actions=NORMAL"])}
    assert trace_command(bridges, ["br0", "in_port=1", "zz"]) == (
        "Trailing garbage in packet data", None)
    assert trace_command(bridges, ["br0", "in_port=1", "505400"]) == (
        "Packet data too short for Ethernet", None)


def test_generate_has_side_effects_plain_trace_has_none():
    b = bridge(["actions=NORMAL"])
    trace_command({"br0": b}, ["br0", "in_port=1,dl_src=00:00:00:00:00:07"])
    assert b.ml.lookup(7, 0) is None
    calls = []
    err, text = trace_command({"br0": b}, ["br0", "in_port=1,dl_src=00:00:00:00:00:07",
                                           "-generate"], lambda: calls.append(1))
    assert err is None and calls == [1]
    assert "     -> learned that 00:00:00:00:00:07 is on port p1 in VLAN 0\n" in text
    assert b.ml.lookup(7, 0) == 1
    err, text = trace_command({"br0": b}, ["br0", "in_port=2,dl_dst=00:00:00:00:00:07"])
    assert "forwarding to learned port" in text and text.endswith("actions: 1\n")


def test_packet_headers_replace_the_flows():
    b = bridge(["actions=NORMAL"])
    pkt = ("50540000000a" "505400000009" "0800" "4500001c00000000401100000a0000010a000002"
           "04d2005000080000")
    err, text = trace_command({"br0": b}, ["br0", "in_port=1,dl_vlan=7,pkt_mark=3", pkt])
    assert err is None
    flow = text.splitlines()[0][len("Flow: "):].split(",")
    assert "udp" in flow and "pkt_mark=0x3" in flow and "vlan_tci=0x0000" in flow
    assert "dl_src=50:54:00:00:00:09" in flow and "tp_dst=80" in flow
    assert b.ml.lookup(0x505400000009, 0) == 1


def test_learn_detail_with_side_effects():
    b = bridge(["actions=learn(table=10,idle_timeout=30,hard_timeout=60,cookie=0x5,"
                "priority=7,send_flow_rem,fin_idle_timeout=3,"
                "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),learn(table=11)"])
    err, text = trace_command({"br0": b}, ["br0", "in_port=1,dl_src=00:00:00:00:00:07",
                                           "--generate"])
    assert ("     -> table=10 dl_dst=00:00:00:00:00:07 priority=7 cookie=0x5 idle=30 "
            "hard=60 send_flow_rem actions=fin_timeout(idle_timeout=3),output:1\n") in text
    assert "     -> table=11 priority=32768 actions=drop\n" in text
    _, text = trace_command({"br0": b}, ["br0", "in_port=1"])
    assert text.count(">> suppressing side effects, so learn action ignored") == 2


def test_megaflow_vlan_tci_without_cfi():
    """A traced vlan_tci=5 (no CFI bit) shows the TCI bits the walk looked
    at; an all-zero TCI shows none (OVS's trace)."""
    from pyovs.ofproto.trace import format_megaflow
    wc = {"in_port": 0xffffffff, "vlan_tci": 0xffff}
    assert format_megaflow({"in_port": 2, "vlan_tci": 5}, wc) == \
        "recirc_id=0,eth,in_port=2,vlan_tci=0x0005"
    assert format_megaflow({"in_port": 2, "vlan_tci": 0x14}, dict(wc, vlan_tci=0x1fff)) == \
        "recirc_id=0,eth,in_port=2,vlan_tci=0x0014/0x1fff"
    assert format_megaflow({"in_port": 2, "vlan_tci": 0}, wc) == "recirc_id=0,eth,in_port=2"
    assert format_megaflow({"in_port": 2, "vlan_tci": 0x1005}, dict(wc, vlan_tci=0x1000)) == \
        "recirc_id=0,eth,in_port=2"
