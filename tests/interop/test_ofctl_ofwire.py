"""Wire formats OVS has beyond the plain 1.0/1.3 ones, three ways against
Debian's real tools: the real ovs-ofctl against the real ovs-vswitchd and
against pyovs's switch, and pyovs's ovs-ofctl against the real
ovs-vswitchd, all printing the same; and the bytes pyovs's ovs-ofctl sends
equal the real tool's (the recording fake switch of test_ofctl_wire).

Covered: groups in OpenFlow 1.0 (NXT_GROUP_MOD, NXST_GROUP*), OpenFlow 1.1
flow_mods, flow/aggregate/table stats (the 88-byte ofp11_match), OpenFlow
1.4+ async config (properties) and OpenFlow 1.3 bundles (ONF extension 2300).
"""

import os
import struct

import pytest

from tests.conftest import real_bin
from tests.interop.test_ofctl_switch import Switch, ours
from tests.interop.test_ofctl_wire import FakeSwitch, _compare
from tests.interop.test_ofproto import Harness, ofctl, normalise, run_both
from pyovs.openflow import messages as M
from pyovs.openflow.vconn import Vconn

pytestmark = pytest.mark.interop

ALL = "OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15"
OF10, OF11 = ["-O", "OpenFlow10"], ["-O", "OpenFlow11"]


def _port():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit()) or "0"
    return 16040 + int(digits) % 50        # (16001 is test_util_stream's)


@pytest.fixture(scope="module")
def switch():
    """The real switch with every version, 1.1 included."""
    real_bin("ovs-vswitchd")
    sw = Switch()
    sw.tcp_port = _port()
    try:
        sw.start()
        sw._run([real_bin("ovs-vsctl"), f"--db={sw.db}", "set", "bridge",
                 "br0", f"protocols={ALL}"])
    except BaseException:
        sw.stop()
        raise
    yield sw
    sw.stop()


@pytest.fixture(scope="module")
def harness():
    real_bin("ovs-ofctl")
    h = Harness("--protocols", ALL)
    yield h
    h.stop()


@pytest.fixture(scope="module")
def fake_switch(tmp_path_factory):
    d = tmp_path_factory.mktemp("qa")
    sw = FakeSwitch(str(d / "sw.sock"))
    yield sw
    sw.close()


def clean(sw, h):
    """No flows in any table (an OpenFlow 1.1 del-flows clears table 0 only)."""
    for target, env in ((sw.mgmt, sw.env), (h.mgmt, h.env)):
        ofctl(env, "-O", "OpenFlow13", "del-flows", target)


def three_way(sw, h, cmds, vers):
    """Per command: (real tool -> real switch, real tool -> pyovs's switch,
    pyovs's tool -> real switch), each from a clean switch."""
    clean(sw, h)
    real, mine = run_both(sw, h, cmds, vers)
    clean(sw, h)
    ofctl(sw.env, *vers, "del-flows", sw.mgmt)
    ofctl(sw.env, *vers, "del-groups", sw.mgmt)
    tool = []
    for cmd in cmds:
        args = [sw.mgmt if a == "BR" else a for a in cmd]
        sort = any(c in cmd for c in ("dump-flows", "dump-groups", "dump-group-stats"))
        rc, out, err = ours(sw, *vers, *args)
        tool.append(normalise((rc, out.replace(sw.mgmt, "BR"),
                               err.replace(sw.mgmt, "BR")), sort))
    return real, mine, tool


def assert_three_way(sw, h, cmds, vers):
    real, mine, tool = three_way(sw, h, cmds, vers)
    for cmd, r, m, t in zip(cmds, real, mine, tool):
        assert r == m, f"real switch vs pyovs switch, {cmd}:\nreal: {r}\nours: {m}"
        assert r == t, f"real tool vs pyovs tool, {cmd}:\nreal: {r}\nours: {t}"
    assert h.alive()
    return real


GROUPS10 = [
    ["add-group", "BR", "group_id=1,type=all,bucket=output:1,bucket=output:2"],
    ["add-group", "BR", "group_id=2,type=select,bucket=weight:5,watch_port:2,"
     "actions=mod_vlan_vid:5,output:1,bucket=actions=output:2"],
    ["add-group", "BR", "group_id=3,type=ff,bucket=watch_port:1,output:1"],
    ["add-group", "BR", "group_id=1,type=all,bucket=output:1"],      # exists
    ["dump-groups", "BR"], ["dump-groups", "BR", "2"],
    ["dump-group-stats", "BR"], ["dump-group-stats", "BR", "group_id=1"],
    ["dump-group-features", "BR"],
    ["mod-group", "BR", "group_id=1,type=all,bucket=output:2"],
    ["mod-group", "BR", "group_id=9,type=all,bucket=output:2"],      # unknown
    ["insert-buckets", "BR", "group_id=1,command_bucket_id=last,"
     "bucket=bucket_id:7,actions=output:1"],
    ["insert-buckets", "BR", "group_id=1,command_bucket_id=first,"
     "bucket=bucket_id:8,actions=strip_vlan,output:1"],
    ["dump-groups", "BR"],
    ["remove-buckets", "BR", "group_id=1,command_bucket_id=7"],
    ["remove-buckets", "BR", "group_id=1,command_bucket_id=9"],      # unknown
    ["dump-groups", "BR", "1"],
    ["del-groups", "BR", "group_id=2"], ["dump-groups", "BR"],
    ["del-groups", "BR"], ["dump-groups", "BR"],
]


def test_openflow10_groups_three_ways(switch, harness):
    real = assert_three_way(switch, harness, GROUPS10, OF10)
    assert "NXST_GROUP_DESC reply" in real[4][1][0]
    assert any("bucket_id:8" in line for line in real[13][1])


@pytest.mark.parametrize("version", ["OpenFlow11", "OpenFlow12"])
def test_groups_in_11_and_12_three_ways(switch, harness, version):
    """Group stats without durations, and 1.1's group features through the
    Nicira extension with 1.1 action bits, as OVS."""
    cmds = [["add-group", "BR", "group_id=1,type=select,bucket=weight:5,"
             "output:1,bucket=output:2"],
            ["add-group", "BR", "group_id=2,type=all,bucket=output:2"],
            ["dump-groups", "BR"], ["dump-group-stats", "BR"],
            ["dump-group-stats", "BR", "group_id=2"], ["dump-group-features", "BR"]]
    real = assert_three_way(switch, harness, cmds, ["-O", version])
    assert "NXST_GROUP_FEATURES" in real[5][1][0] or version != "OpenFlow11"
    assert any("bucket1:packet_count=0" in line for line in real[3][1])


@pytest.mark.parametrize("args", [
    ["add-group", "SW", "group_id=1,type=all,bucket=output:1,bucket=output:2"],
    ["add-group", "SW", "group_id=2,type=select,bucket=weight:5,watch_port:2,"
     "actions=mod_vlan_vid:5,output:1"],
    ["mod-group", "SW", "group_id=1,type=indirect,bucket=actions=strip_vlan,output:3"],
    ["del-groups", "SW"], ["del-groups", "SW", "group_id=1"],
    ["dump-groups", "SW"], ["dump-groups", "SW", "2"],
    ["dump-group-stats", "SW"], ["dump-group-stats", "SW", "group_id=5"],
    ["insert-buckets", "SW", "group_id=1,command_bucket_id=last,bucket=output:4"],
    ["remove-buckets", "SW", "group_id=1,command_bucket_id=first"],
], ids=lambda a: a[0] + "-" + str(len(a)))
def test_openflow10_group_bytes_equal(fake_switch, args):
    real, real_conv, mine, mine_conv = _compare(fake_switch, [*OF10, *args])
    assert real.returncode == mine[0], (real.stderr, mine[2])
    assert real_conv == mine_conv
    assert any(len(m) > 16 for conv in real_conv for m in conv)


FLOWS11 = [
    ["add-flow", "BR", "priority=5,ip,nw_src=10.0.0.0/8,actions=output:2"],
    ["add-flow", "BR", "in_port=1,dl_vlan=5,dl_vlan_pcp=3,dl_src=00:11:22:33:44:55/"
     "ff:ff:ff:00:00:00,tcp,tp_dst=80,nw_tos=8,actions=drop"],
    ["add-flow", "BR", "vlan_tci=0,metadata=0x5/0xff,arp,arp_spa=1.2.3.4,"
     "actions=goto_table:1"],
    ["add-flow", "BR", "icmp,icmp_type=3,icmp_code=1,cookie=0x77,idle_timeout=5,"
     "actions=output:1,goto_table:2"],
    ["add-flow", "BR", "table=1,priority=9,udp,tp_src=53,dl_dst=01:00:00:00:00:00/"
     "01:00:00:00:00:00,actions=output:1,write_metadata:0x3/0xf"],
    ["dump-flows", "BR"], ["dump-flows", "BR", "in_port=1"],
    ["dump-flows", "BR", "table=1"], ["dump-aggregate", "BR"],
    ["dump-aggregate", "BR", "ip"],
    ["mod-flows", "BR", "cookie=0x77/-1,actions=output:2"],
    ["del-flows", "BR", "tcp"], ["dump-flows", "BR"],
    ["del-flows", "BR"], ["dump-flows", "BR"],
]


def test_openflow11_flows_three_ways(switch, harness):
    real = assert_three_way(switch, harness, FLOWS11, OF11)
    dump = real[5][1]
    assert dump[0].startswith("OFPST_FLOW reply (OF1.1)") and len(dump) == 6
    assert "flow_count=5" in real[8][1][0]


ACTIONS11 = [
    ["add-flow", "BR", "priority=1,dl_vlan=0xffff,actions=mod_vlan_vid:7"],
    ["add-flow", "BR", "priority=2,dl_vlan=5,actions=mod_vlan_vid:7,mod_vlan_pcp:3"],
    ["add-flow", "BR", "priority=3,tcp,actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,"
     "mod_tp_src:5,mod_tp_dst:6,mod_nw_tos:8,mod_nw_ecn:2,"
     "mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02"],
    ["add-flow", "BR", "priority=4,udp,actions=set_field:1.1.1.1->ip_src,mod_tp_dst:7"],
    ["add-flow", "BR", "priority=5,mpls,actions=set_mpls_label:5,set_mpls_tc:3,"
     "set_mpls_ttl:9"],
    ["add-flow", "BR", "priority=6,ip,actions=mod_nw_ttl:9"],
    ["add-flow", "BR", "priority=7,ip,actions=dec_ttl,set_queue:3,strip_vlan"],
    ["add-flow", "BR", "priority=8,actions=set_vlan_vid:5"],
    ["add-flow", "BR", "priority=9,sctp,actions=set_field:5->sctp_dst"],
    ["dump-flows", "BR"],
    ["--no-names", "-O", "OpenFlow13", "dump-flows", "BR"],
]


def test_openflow11_set_actions_three_ways(switch, harness):
    """OpenFlow 1.1's own set actions (set_vlan_vid ... set_mpls_tc), as
    the real tools write, read and print them."""
    real = assert_three_way(switch, harness, ACTIONS11, OF11)
    assert any("push_vlan:0x8100,set_vlan_vid:7" in line for line in real[9][1])
    assert len(real[9][1]) == 8            # two refused, as by the real tool


@pytest.mark.parametrize("args", [a for a in ACTIONS11 if a[0] == "add-flow"],
                         ids=lambda a: a[2][:24])
def test_openflow11_set_action_bytes_equal(fake_switch, args):
    args = ["SW" if a == "BR" else a for a in args]
    real, real_conv, mine, mine_conv = _compare(fake_switch, [*OF11, *args])
    assert real.returncode == mine[0], (real.stderr, mine[2])
    assert real_conv == mine_conv


def test_openflow11_flows_seen_in_other_versions(switch, harness):
    """Flows added in 1.1 dump the same in 1.0 and 1.3, and the reverse."""
    cmds = [[*OF11, "add-flow", "BR", "priority=5,tcp,nw_src=10.0.0.0/8,tp_dst=22,"
             "actions=output:2"],
            ["-O", "OpenFlow13", "add-flow", "BR", "table=3,metadata=0x4/0xc,ip,"
             "nw_dst=192.168.0.0/16,actions=drop"],
            [*OF10, "dump-flows", "BR"], ["-O", "OpenFlow13", "dump-flows", "BR"],
            [*OF11, "dump-flows", "BR"]]
    clean(switch, harness)
    real, mine = run_both(switch, harness, cmds, [])
    assert real == mine
    assert len(real[4][1]) == 3


def test_openflow11_table_stats_three_ways(switch, harness):
    """ofp11_table_stats from pyovs's switch print as the real switch's
    (capabilities, the last table without goto_table, counters), and
    pyovs's tool prints the real switch's as the real tool does."""
    cmds = [["add-flow", "BR", "table=2,actions=drop"], ["dump-tables", "BR"]]
    real = assert_three_way(switch, harness, cmds, OF11)
    assert "    (same matching)" in real[1][1]
    assert "    (same features)" in real[1][1]


# (The recording switch answers aggregate requests with an empty body.)
@pytest.mark.parametrize("args", [a for a in FLOWS11 if a[0] != "dump-aggregate"],
                         ids=lambda a: "-".join(a[:1] + a[2:3])[:40])
def test_openflow11_bytes_equal(fake_switch, args):
    args = ["SW" if a == "BR" else a for a in args]
    real, real_conv, mine, mine_conv = _compare(fake_switch, [*OF11, *args])
    assert real.returncode == mine[0], (real.stderr, mine[2])
    assert real_conv == mine_conv


# --- OpenFlow 1.4+ async config ------------------------------------------------

def _prop(ptype, mask, length=8):
    return struct.pack("!HHI", ptype, length, mask)


def _set_async(xid, body):
    return M._msg(M.OFP14, 28, xid, body)


ASYNC14 = [
    M.encode_simple(M.OFP14, 26, 0x50),                              # defaults
    _set_async(0x51, _prop(1, 0x1) + _prop(5, 0x3) + _prop(2, 0x5)),
    M.encode_simple(M.OFP14, 26, 0x52),
    _set_async(0x53, _prop(7, 0x7) + _prop(8, 0x18) + _prop(11, 0x3)),
    M.encode_simple(M.OFP14, 26, 0x54),
    _set_async(0x55, struct.pack("!HHII", 1, 12, 1, 0)),             # runs past
    _set_async(0x56, _prop(0x20, 1)),                                # unknown type
    _set_async(0x57, _prop(1, 1 << 10)),                             # bad reason
    _set_async(0x58, _prop(9, 1)),                                   # bad reason
    _set_async(0x59, struct.pack("!HH", 1, 8)),                      # truncated
    _set_async(0x5a, _prop(0xffff, 1)),                              # experimenter
    _set_async(0x5b, struct.pack("!HH4x", 1, 4)),                    # short prop
    M.encode_simple(M.OFP14, 26, 0x5c),                              # unchanged
]


def _exchange_on_one_connection(target, env, version, msgs):
    old = os.environ.get("OVS_RUNDIR")
    os.environ["OVS_RUNDIR"] = env["OVS_RUNDIR"]
    try:
        v = Vconn.open(target, [version], timeout=10)
    finally:
        if old is None:
            del os.environ["OVS_RUNDIR"]
        else:
            os.environ["OVS_RUNDIR"] = old
    v.sock.settimeout(10)
    out = []
    try:
        for msg in msgs:
            v.send(msg)
            v.send(M.encode_simple(version, "OFPT_BARRIER_REQUEST", 0xbeef))
            replies = []
            while True:
                r = v.recv()
                if M.parse_header(r).xid == 0xbeef:
                    break
                replies.append(r)
            out.append(replies)
    finally:
        v.close()
    return out


@pytest.mark.parametrize("version", [M.OFP14, M.OFP15])
def test_async_config_properties_as_real(switch, harness, version):
    """get-async replies and set-async errors byte for byte as the real
    switch's, on one connection (a set changes only what it names)."""
    msgs = [bytes([version]) + m[1:] for m in ASYNC14]
    got = [_exchange_on_one_connection(t, e, version, msgs)
           for t, e in ((switch.mgmt, switch.env), (harness.mgmt, harness.env))]
    assert got[0] == got[1]
    assert [len(r) for r in got[1]] == [1, 0, 1, 0] + [1] * (len(msgs) - 4)
    defaults, after = got[1][0][0], got[1][2][0]
    assert after[8:] != defaults[8:] and got[1][4][0][8:] == got[1][12][0][8:]
    names = [M.decode_error(r[0])[0] for r in got[1][5:12]]
    assert names == ["OFPBRC_BAD_LEN", "OFPACFC_UNSUPPORTED", "OFPACFC_INVALID",
                     "OFPACFC_INVALID", "OFPBRC_BAD_LEN", "OFPBPC_BAD_LEN",
                     "OFPBPC_BAD_LEN"]
    assert harness.alive()


def test_openflow13_get_async_after_14_defaults(switch, harness):
    """1.3 sees the 1.3 bits of the same defaults, and a 1.3 set-async
    replaces the whole configuration."""
    msgs = [M.encode_simple(M.OFP13, 26, 1),
            M._msg(M.OFP13, 28, 2, struct.pack("!6I", 7, 1, 3, 2, 0xf, 1)),
            M.encode_simple(M.OFP13, 26, 3)]
    got = [_exchange_on_one_connection(t, e, M.OFP13, msgs)
           for t, e in ((switch.mgmt, switch.env), (harness.mgmt, harness.env))]
    assert got[0] == got[1]


# --- bundles in OpenFlow 1.3 (ONF extension 2300) ----------------------------

@pytest.mark.parametrize("flows", [
    ["priority=3,ip,actions=drop", "actions=output:1"],
    ["ip,actions=drop", "table=1,actions=group:77"],                  # refused
    ["table=1,actions=drop", "table=254,actions=drop"],               # refused
], ids=["ok", "bad-group", "bad-table"])
def test_openflow13_bundles_three_ways(switch, harness, flows, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    cmds = [["add-flow", "BR", "priority=1,actions=drop"],
            ["--bundle", "add-flows", "BR", str(path)],
            ["--bundle", "add-flow", "BR", flows[0]],
            ["--no-stats", "--sort", "dump-flows", "BR"]]
    real = assert_three_way(switch, harness, cmds, ["-O", "OpenFlow13"])
    assert (real[1][0] == 1) == (flows[1] != "actions=output:1")
    assert all(r[0] == 0 for r in real[2:])


# --- bad input: the error the real switch sends, and the connection stays up --

def _truncated(hexmsg, cut):
    data = bytes.fromhex(hexmsg)[:cut]
    return data[:2] + struct.pack("!H", len(data)) + data[4:]


_GROUP_MOD10 = ("0104004000000006000023200000001f000000000000000100200000ffffffff"
                "0010000800000000000000080001000000100008000000010000000800020000")
_FLOW_MOD11 = ("020e00a000000006000000000000000000000000000000000000000000000005ffff"
               "ffffffffffffffffffff000000000000005800000000000003f7000000000000ffff"
               "ffffffff000000000000ffffffffffff00000000080000000a00000000ffffff0000"
               "0000ffffffff0000000000000000000000000000000000000000ffffffffffffffff"
               "000400180000000000000010000000020000000000000000")
BAD = {
    "group_mod10-short-header": (M.OFP10, _truncated(_GROUP_MOD10, 28)),
    "group_mod10-bucket-cut": (M.OFP10, _truncated(_GROUP_MOD10, 48)),
    "group_mod10-bad-bucket-len": (M.OFP10, bytes.fromhex(
        _GROUP_MOD10[:64] + "0011" + _GROUP_MOD10[68:])),
    "nxst_group_desc-short": (M.OFP10, bytes.fromhex(
        "0110001c00000002ffff000000002320000000080000000000000001")),
    "flow_mod11-odd-length": (M.OFP11, _truncated(_FLOW_MOD11, 100)),
    "flow_mod11-match-cut": (M.OFP11, _truncated(_FLOW_MOD11, 96)),
    "flow_mod11-match-len": (M.OFP11, bytes.fromhex(
        _FLOW_MOD11[:100] + "0050" + _FLOW_MOD11[104:])),
    "flow_mod11-match-type": (M.OFP11, bytes.fromhex(
        _FLOW_MOD11[:96] + "0007" + _FLOW_MOD11[100:])),
    "flow_mod11-bad-vlan": (M.OFP11, bytes.fromhex(
        _FLOW_MOD11[:104] + "00000000000003f5" + _FLOW_MOD11[120:168] + "1388"
        + _FLOW_MOD11[172:])),
    "flow_mod11-icmp-type-300": (M.OFP11, bytes.fromhex(
        _FLOW_MOD11[:104] + "0000000000000397" + _FLOW_MOD11[120:180] + "0001"
        + _FLOW_MOD11[184:216] + "012c" + _FLOW_MOD11[220:])),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_messages_get_the_real_switchs_error(switch, harness, name):
    version, msg = BAD[name]
    echo = M.encode_simple(version, M.OFPT_ECHO_REQUEST, 0x77)
    got = [_exchange_on_one_connection(t, e, version, [msg, echo])
           for t, e in ((switch.mgmt, switch.env), (harness.mgmt, harness.env))]
    real, mine = ([[M.decode_error(r)[0] if r[1] == M.OFPT_ERROR else r.hex()
                    for r in replies] for replies in g] for g in got)
    assert real == mine
    assert len(real[0]) == 1 and real[0][0].startswith("OFP")
    assert got[1][1] == [M.encode_simple(version, M.OFPT_ECHO_REPLY, 0x77)]


# --- ofp-print: the real tool's bytes print the same ---------------------------

PRINT = [
    # groups in 1.0 (what the real tool sent), a real switch's NXST replies
    _GROUP_MOD10,
    "0104002000000006000023200000001f000500000000000100000000fffffffd",
    "0111004800000002ffff00000000232000000008000000000030000000000001"
    "0020000000000000001000080000000000000008000100000010000800000001"
    "0000000800020000",
    "0111004000000002ffff00000000232000000009000000000000000f000000"
    "07ffffff00ffffff00ffffff00ffffff0000000fff00000fff00000fff0000"
    "0fff",
    # OpenFlow 1.1 flow_mods
    _FLOW_MOD11,
    "020e009000000006000000000000000000000000000000000000000000008000ffff"
    "ffffffffffffffffffff000000000000005800000000000003f5000000000000ffff"
    "ffffffff000000000000ffffffffffffffff00000806000001020304000000000000"
    "0000ffffffff0000000000000000000000000000000000000005ffffffffffffff00"
    "0001000801000000",
    # async config
    "051b0068000000510000000800000000000100080000003b0002000800000007"
    "00030008000000070004000800000000000500080000003f0006000800000000"
    "000700080000000000080008000000000009000800000000000a000800000000"
    "000b000800000000",
    "041b002000000051000000030000000000000007000000070000000f00000000",
    "051c00200000006100070008000000070009000800000018000b000800000003",
    # bundles in 1.3
    "04040018000000084f4e4600000008fc0000000000000003",
    "04040058000000064f4e4600000008fd0000000000000003040e0040000000060000"
    "00000000000000000000000000000000000000000003ffffffffffffffffffffffff"
    "000000000001000a80000a020800000000000000",
    "0401002800000009ffff09094f4e460004040018000000094f4e4600000008fc"
    "0000000000040003",
]


@pytest.mark.parametrize("hexmsg", PRINT, ids=lambda h: h[:8] + "-" + h[16:24])
def test_ofp_print_as_real(hexmsg):
    from tests.interop.test_ofctl_parse import run_pyovs, run_real
    assert run_pyovs(["ofp-print", hexmsg]) == run_real(["ofp-print", hexmsg])
