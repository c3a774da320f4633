"""The userspace datapath (dpif/netdev.py) with dummy ports: upcalls,
the fast path, actions, statistics, revalidation and dpctl text."""

import struct
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs import netdev
from pyovs.dpif import dpctl
from pyovs.dpif.netdev import DpifError, DpifNetdev
from pyovs.netdev.pcap import read_pcap
from pyovs.odp.actions import parse_actions
from pyovs.packet import build
from pyovs.packet.csum import csum
from pyovs.packet.flow import flow_extract

MAC1, MAC2 = "00:00:00:00:00:01", "00:00:00:00:00:02"
_n = [0]


def _name(prefix):
    _n[0] += 1
    return "%s%d" % (prefix, _n[0])


class Clock:
    def __init__(self):
        self.now = 1000

    def __call__(self):
        return self.now


@pytest.fixture
def dp(tmp_path):
    """A dummy datapath with ports 1 and 2 recording what they send."""
    clock = Clock()
    calls = []

    def upcall(flow, pkt):
        calls.append(flow)
        # Forward by in_port only, matching on in_port and the Ethernet
        # addresses (a tiny translation).
        out = 2 if flow["in_port"] == 1 else 1
        mask = {"dl_src": (1 << 48) - 1, "dl_dst": (1 << 48) - 1, "dl_type": 0xffff,
                "nw_frag": 3}
        return [("output", out)], mask

    d = DpifNetdev("ovs-dummy", "dummy", upcall=upcall, clock=clock)
    devs = []
    for i in (1, 2):
        dev = netdev.open(_name("pad"), "dummy",
                          {"tx_pcap": str(tmp_path / ("p%d.pcap" % i))})
        devs.append(dev)
        assert d.add_port(dev) == i
    d.calls, d.devs, d.clock, d.tmp = calls, devs, clock, tmp_path
    yield d
    d.close()
    for dev in devs:
        dev.close()


def sent(d, i):
    d.devs[i - 1].set_config({})        # closes (flushes) the pcap
    path = d.tmp / ("p%d.pcap" % i)
    pkts = read_pcap(str(path)) if path.exists() else []
    path.unlink(missing_ok=True)        # each call returns what was sent since the last
    d.devs[i - 1].set_config({"tx_pcap": str(d.tmp / ("p%d.pcap" % i))})
    return [bytes(p if isinstance(p, (bytes, bytearray)) else p[-1]) for p in pkts]


def udp(sport=1, **kw):
    return build.udp_packet(MAC1, MAC2, "10.0.0.1", "10.0.0.2", sport, 2, b"x" * 20, **kw)


def test_upcall_once_then_fast_path(dp):
    pkt = udp()
    dp.receive(1, [pkt])
    assert len(dp.calls) == 1
    assert len(dp) == 1
    dp.clock.now = 1500
    dp.receive(1, [udp(sport=s) for s in range(2, 7)])
    assert len(dp.calls) == 1           # same megaflow: no more upcalls
    assert dp.n_missed == 1 and dp.n_hit == 5
    mf, = dp.flow_dump()
    assert (mf.n_packets, mf.n_bytes, mf.used) == (5, 5 * len(pkt), 1500)
    out = sent(dp, 2)
    assert len(out) == 6 and out[0] == pkt and sent(dp, 1) == []


def test_other_port_and_other_flow_upcall(dp):
    dp.receive(1, [udp()])
    dp.receive(2, [udp()])
    other = build.udp_packet(MAC2, MAC1, "10.0.0.2", "10.0.0.1", 1, 2)
    dp.receive(1, [other])
    assert len(dp.calls) == 3 and len(dp) == 3
    assert len(sent(dp, 1)) == 1 and len(sent(dp, 2)) == 2


def test_batch_misses_install_once(dp):
    dp.receive(1, [udp(sport=s) for s in range(10)])
    assert len(dp.calls) == 1 and len(dp) == 1
    assert len(sent(dp, 2)) == 10


def test_tcp_flags_and_dump_text(dp):
    syn = build.tcp_packet(MAC1, MAC2, "10.0.0.1", "10.0.0.2", 1, 2, flags=0x02)
    ack = build.tcp_packet(MAC1, MAC2, "10.0.0.1", "10.0.0.2", 1, 2, flags=0x10)
    dp.receive(1, [syn])
    dp.receive(1, [syn, ack])
    dp.clock.now = 3500
    text = dpctl.dump_flows([dp], [])
    assert text.startswith("flow-dump from the main thread:\n")
    line = text.splitlines()[1]
    assert line == ("recirc_id(0),in_port(1),packet_type(ns=0,id=0),"
                    "eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),"
                    "ipv4(frag=no), packets:2, bytes:%d, used:2.500s, flags:S., actions:2"
                    % (2 * len(syn)))


def test_revalidation_deletes_and_fixes(dp):
    dp.receive(1, [udp()])
    dp.receive(2, [udp()])
    assert len(dp) == 2 and len(sent(dp, 1)) == 1
    r = dp.revalidate(lambda mf: None if mf.value["in_port"] == 2 else [("output", 1)])
    assert r == (0, 1, 1)
    dp.receive(1, [udp()])
    assert len(dp.calls) == 2           # the fixed flow is still used
    assert len(sent(dp, 1)) == 1        # ... with its new actions
    dp.receive(2, [udp()])
    assert len(dp.calls) == 3           # the deleted one is gone (EMC too)


def test_actions_vlan_set_checksums(dp):
    acts = parse_actions("push_vlan(vid=10,pcp=3),set(ipv4(src=192.168.1.1,ttl=7)),"
                         "set(udp(src=999)),2,pop_vlan,set(eth(src=00:00:00:00:00:aa)),1")
    pkt = udp()
    dp.execute([pkt], acts, in_port=1)
    tagged, = sent(dp, 2)
    assert tagged[12:16] == struct.pack("!HH", 0x8100, 3 << 13 | 10)
    f = flow_extract(tagged)
    assert (f["nw_src"], f["nw_ttl"], f["tp_src"]) == (0xc0a80101, 7, 999)
    ip = tagged[18:38]
    assert csum(ip) == 0                # IP header checksum valid
    plain, = sent(dp, 1)
    assert plain[6:12] == b"\0\0\0\0\0\xaa" and plain[12:14] == b"\x08\x00"
    # The UDP checksum over the pseudo-header verifies.
    l4 = plain[34:]
    pseudo = plain[26:34] + struct.pack("!BBH", 0, 17, len(l4))
    assert csum(pseudo + l4) == 0


def test_masked_set_and_ipv6(dp):
    pkt = build.tcp_packet(MAC1, MAC2, "fe80::1", "fe80::2", 5, 6, flags=0x02)
    acts = parse_actions("set(ipv6(dst=fe80::99,hlimit=9)),set(tcp(dst=0x1234/0xff00)),2")
    dp.execute([pkt], acts, in_port=1)
    out, = sent(dp, 2)
    f = flow_extract(out)
    assert f["ipv6_dst"] == 0xfe800000000000000000000000000099
    assert f["nw_ttl"] == 9 and f["tp_dst"] == 0x1206
    l4 = out[54:]
    pseudo = out[22:54] + struct.pack("!IxxxB", len(l4), 6)
    assert csum(pseudo + l4) == 0


def test_recirc_clone_trunc_userspace(dp):
    got = []
    dp.userspace = lambda pkt, flow, arg: got.append((len(pkt.data), arg))
    dp.upcall = lambda flow, pkt: ([("output", 1)], {"recirc_id": 0xffffffff})
    dp.flow_put({"in_port": 1, "recirc_id": 0}, {"in_port": 0xffffffff},
                parse_actions("clone(trunc(20),2),recirc(0x5)"))
    dp.receive(1, [udp()])
    assert len(sent(dp, 2)) == 1 and len(sent(dp, 2)) == 0
    # recirculated: an upcall with recirc_id 5 whose megaflow sends to port 1
    assert len(sent(dp, 1)) == 1
    mfs = {mf.value.get("recirc_id", 0): mf for mf in dp.flow_dump()}
    assert set(mfs) == {0, 5}
    dp.execute([udp()], parse_actions("userspace(pid=0,userdata(01020304))"), 1)
    assert got and got[0][0] == len(udp())


def test_trunc_cuts_next_output_only(dp):
    dp.execute([udp()], parse_actions("trunc(20),2,1"), 1)
    assert [len(p) for p in sent(dp, 2)] == [20]
    assert [len(p) for p in sent(dp, 1)] == [len(udp())]


def test_unsupported_action_drops(dp):
    dp.execute([udp()], parse_actions("ct_clear,2"), 1)
    assert dp.n_unsupported == 1 and sent(dp, 2) == []


def test_upcall_none_is_lost(dp):
    # A failed upcall is lost, not missed (dpif-netdev's fast_path_processing
    # adds only the upcalls that succeeded to the misses); a runt frame is
    # dropped before the lookup and counted in neither.
    dp.upcall = lambda flow, pkt: None
    dp.receive(1, [udp(), b"\x00" * 10])
    assert (dp.n_missed, dp.n_lost, len(dp)) == (0, 1, 0)
    dp.upcall = lambda flow, pkt: ([], {})
    dp.receive(1, [udp()])
    assert (dp.n_missed, dp.n_lost, len(dp)) == (1, 1, 1)


def test_flow_put_get_del(dp):
    flow, mask = {"in_port": 1, "dl_type": 0x806}, {"in_port": 0xffffffff, "dl_type": 0xffff}
    mf = dp.flow_put(flow, mask, [("output", 2)], modify=False)
    with pytest.raises(DpifError):
        dp.flow_put(flow, mask, [], modify=False)
    assert dp.flow_get(flow, mask) is mf
    dp.flow_put(flow, mask, [], create=False)
    assert mf.actions == []
    assert dp.flow_del(flow, mask) is mf
    with pytest.raises(DpifError):
        dp.flow_del(flow, mask)
    with pytest.raises(DpifError):
        dp.flow_put({"in_port": 1}, {}, [])         # in_port must be exact


def test_del_port_removes_its_flows(dp):
    dp.receive(1, [udp()])
    dp.receive(2, [udp()])
    dev = dp.devs[1]
    dp.del_port(2)
    assert len(dp) == 1 and 2 not in dp.ports
    assert dp.add_port(dev) == 2


def test_dpctl_show_text(dp):
    dp.receive(1, [udp()])
    dp.receive(1, [udp()])
    d1, d2 = dp.devs
    text = dpctl.show([dp], [])
    assert text.splitlines()[:4] == [
        "dummy@ovs-dummy:", "  lookups: hit:1 missed:1 lost:0", "  flows: 1",
        "  port 0: ovs-dummy (dummy-internal)"]
    assert text.splitlines()[4].startswith("  port 1: %s (dummy: tx_pcap=" % d1.name)


def test_dpctl_add_mod_del(dp):
    key = "in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0)"
    dpctl.add_flow([dp], [key, "push_vlan(vid=5,pcp=0),1"])
    with pytest.raises(dpctl.DpctlError, match=r"updating flow table \(File exists\)"):
        dpctl.add_flow([dp], [key, "1"])
    with pytest.raises(dpctl.DpctlError, match=r"\(Invalid argument\)"):
        dpctl.add_flow([dp], ["in_port(2),eth_type(0x0806)", "1"])
    assert dpctl.dump_flows([dp], []).splitlines()[1] == (
        "recirc_id(0),in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0),"
        " packets:0, bytes:0, used:never, actions:push_vlan(vid=5,pcp=0),1")
    dpctl.mod_flow([dp], ["ovs-dummy", key, "drop"])
    assert dpctl.dump_flows([dp], ["--names"]).splitlines()[1].endswith(
        "used:never, actions:drop")
    dp.receive(2, [udp()])
    assert dp.n_hit == 1 and sent(dp, 1) == []
    dpctl.del_flow([dp], [key])
    with pytest.raises(dpctl.DpctlError, match="Perhaps you need to specify a UFID"):
        dpctl.del_flow([dp], [key])
    dp.receive(1, [udp()])
    dpctl.del_flows([dp], [])
    assert dpctl.dump_flows([dp], []) == ""


def test_dpctl_get_flow(dp):
    dp.receive(1, [udp()])
    mf, = dp.flow_dump()
    line = dpctl.get_flow([dp], ["ufid:%s" % dp.ufid(mf)])
    assert line == dpctl.dump_flows([dp], []).splitlines(True)[1]
    with pytest.raises(dpctl.DpctlError, match=r"getting flow \(No such file"):
        dpctl.get_flow([dp], ["ufid:%s" % uuid.uuid4()])


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([
    "push_vlan(vid=1,pcp=0),2", "pop_vlan,2", "set(ipv4(src=1.2.3.4,ttl=1)),2",
    "set(tcp(src=1)),2", "set(udp(dst=2)),2", "set(ipv6(src=::1,label=5)),2",
    "set(eth(dst=00:00:00:00:00:01)),2", "trunc(10),2"]))
def test_garbage_through_actions(tmp_path_factory, data, acts):
    d = DpifNetdev("ovs-dummy", "dummy", upcall=lambda f, p: ([("output", 2)], {}))
    dev1, dev2 = netdev.open(_name("paf"), "dummy"), netdev.open(_name("paf"), "dummy")
    try:
        d.add_port(dev1)
        d.add_port(dev2)
        d.execute([data], parse_actions(acts), 1)
        d.receive(1, [data])
    finally:
        dev1.close()
        dev2.close()


def test_slow_path_installs_nothing(dp):
    dp.upcall = lambda flow, pkt: ([("output", 2)], None)
    dp.receive(1, [udp(), udp()])
    assert len(dp) == 0 and dp.n_missed == 2 and len(sent(dp, 2)) == 2


def test_flow_table_bounded(dp, monkeypatch):
    monkeypatch.setattr("pyovs.dpif.netdev.MAX_FLOWS", 3)
    dp.upcall = lambda flow, pkt: ([("output", 2)], {"tp_src": 0xffff, "nw_proto": 0xff})
    dp.receive(1, [udp(sport=s) for s in range(5)])
    assert len(dp) == 3 and dp.n_missed == 5    # the last two found the table full
    dp.receive(1, [udp(sport=s) for s in range(5)])
    assert dp.n_hit == 3 and dp.n_missed == 7
    assert len(sent(dp, 2)) == 10       # every packet was still forwarded


def test_idle_flows_expire(dp):
    dp.receive(1, [udp()])              # created at 1000, never used
    dp.clock.now = 2000
    dp.receive(2, [udp()])              # created at 2000
    dp.receive(2, [udp()])              # used at 2000
    dp.clock.now = 11500
    gone = dp.flow_expire(10000)
    assert [mf.value["in_port"] for mf in gone] == [1]
    dp.clock.now = 12500
    gone = dp.flow_expire(10000)
    assert [(mf.value["in_port"], mf.n_packets) for mf in gone] == [(2, 1)]
    assert len(dp) == 0


def test_show_types_as_dpif_netdev():
    """'system' ports show no type, internal ones show as the datapath
    opens them (the real netdev datapath's "port 1: v1", "port 3: i1 (tap)")."""
    class Dev:
        def __init__(self, name, type_):
            self.name, self.type = name, type_

        def fileno(self):
            return None
    d = DpifNetdev()
    d.add_port(Dev("v1", "system"))
    d.add_port(Dev("i1", "internal"))
    assert dpctl.show([d], []) == (
        "netdev@ovs-netdev:\n  lookups: hit:0 missed:0 lost:0\n  flows: 0\n"
        "  port 0: ovs-netdev (tap)\n  port 1: v1\n  port 2: i1 (tap)\n")
    dd = DpifNetdev("ovs-dummy", "dummy")
    dd.add_port(Dev("i1", "internal"))
    assert dd.ports[1].type == "dummy-internal"


def test_attached_to_event_loop(dp):
    """The asyncio shell: packets queued on a dummy port (eventfd readable)
    are read, switched and sent without anyone calling receive()."""
    import asyncio

    async def main():
        dp.attach(asyncio.get_running_loop())
        for s in range(40):                 # more than a burst
            dp.devs[0].receive(udp(sport=s))
        for _ in range(200):
            if dp.n_hit + dp.n_missed == 40:
                break
            await asyncio.sleep(0.01)
        dp.detach()
    asyncio.run(main())
    assert (dp.n_missed, dp.n_hit) == (1, 39)
    assert len(sent(dp, 2)) == 40


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=120), st.text(max_size=60))
def test_dpctl_garbage_is_an_error_not_a_crash(key, actions):
    d = DpifNetdev("ovs-dummy", "dummy")
    for fn, args in ((dpctl.add_flow, [key, actions]), (dpctl.mod_flow, [key, actions]),
                     (dpctl.del_flow, [key]), (dpctl.get_flow, [key]),
                     (dpctl.dump_flows, [key]), (dpctl.show, [key])):
        try:
            text = fn([d], args)
        except dpctl.DpctlError as e:
            # the command's own errors, or the handler's for a leading option
            assert str(e).startswith(("ovs-vswitchd: ", "Unrecognized option -"))
        else:
            assert isinstance(text, str)


_FRAGMENTS = ["in_port(1)", "in_port(9)", "eth()", "eth(src=00:00:00:00:00:01)",
              "eth_type(0x0800)", "eth_type(0x8100)", "eth_type(0x0806)", "vlan(vid=5)",
              "encap(eth_type(0x0800),ipv4())", "encap()", "ipv4(proto=6)", "ipv4(frag=later)",
              "ipv6(proto=58)", "tcp()", "udp(dst=1)", "icmpv6(type=135,code=0)", "nd()",
              "arp(op=1)", "tcp_flags(syn)", "recirc_id(5)", "packet_type(ns=0,id=0)",
              "mpls(label=1)", "ct_state(+new)", "(", ")", "=", ""]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map(",".join),
       st.sampled_from(["1", "2", "drop", "push_vlan(vid=1,pcp=0),1", "recirc(1)", "x"]))
def test_dpctl_near_valid_keys(key, actions):
    d = DpifNetdev("ovs-dummy", "dummy")
    try:
        dpctl.add_flow([d], [key, actions])
    except dpctl.DpctlError as e:
        assert str(e).startswith("ovs-vswitchd: ")
    else:
        dump = dpctl.dump_flows([d], [])
        assert len(dump.splitlines()) == 2
        # What was added can be deleted by the same key.
        dpctl.del_flow([d], [key])
        assert len(d) == 0
