"""ofproto_dpif in one process: bridges on a shared dummy datapath, packets
fed to the datapath directly (no daemon, no loop: revalidation runs at once).
The daemon-level comparisons with the real OVS are in
tests/daemons/test_vswitchd_dpif.py."""

import itertools

import pytest

from pyovs import netdev
from pyovs.netdev.base import Packet
from pyovs.ofproto.ofproto import OFProto
from pyovs.ofproto.ofproto_dpif import DpifContext, MAX_IDLE_MS, choose_port
from pyovs.openflow import flow as FL
from pyovs.openflow.actions import Output
from pyovs.openflow.async_msgs import PacketOut
from pyovs.openflow.ports import OFPP_CONTROLLER, OFPP_LOCAL
from pyovs.packet import build as B

_n = itertools.count()
MAC = "50:54:00:00:00:%02x"


def frame(src, dst, sport=1):
    return Packet(B.udp_packet(MAC % src, MAC % dst, "10.0.0.%d" % src,
                               "10.0.0.%d" % dst, sport, 53))


class Switch:
    def __init__(self, request, ctx=None, name=None, n_ports=2, flows=("priority=0,actions=NORMAL",)):
        self.ctx = ctx or DpifContext()
        self.name = name or "brx%d" % next(_n)
        self.ofp = OFProto(self.name)
        self.ofdp = self.ctx.create_bridge(self.ofp, "dummy")
        for f in flows:
            self.ofp.handle_flow_mod(FL.parse_flow_mod(f)[0], 0)
        self.devs = {}
        for i in range(1, n_ports + 1):
            dev = netdev.open("pvu%d_%d" % (next(_n), i), "dummy")
            request.addfinalizer(dev.close)
            self.add(i, dev)

    def add(self, ofp_port, dev):
        self.ofp.add_port(dev.name, ofp_port)
        self.ofdp.add_port(ofp_port, dev)
        self.devs[ofp_port] = dev

    @property
    def dp(self):
        return self.ofdp.backer.dp

    def odp(self, ofp_port):
        return self.ofdp.ofp_to_odp(ofp_port)

    def send(self, ofp_port, pkt):
        self.dp.receive(self.odp(ofp_port), [pkt])

    def sent(self, ofp_port):
        return self.devs[ofp_port].tx_packets

    def actions_from(self, ofp_port):
        odp = self.odp(ofp_port)
        return [mf.actions for mf in self.dp.flow_dump() if mf.value.get("in_port") == odp]


def test_choose_port_as_dpif_netdev():
    ctx = DpifContext()
    ofdp = ctx.create_bridge(OFProto("br0"), "dummy")
    dp = ofdp.backer.dp
    assert choose_port(dp, "p7") == 7
    assert choose_port(dp, "br3") == 103
    assert choose_port(dp, "eth") is None
    netdev_dp = ctx.create_bridge(OFProto("brn"), "netdev").backer.dp
    assert choose_port(netdev_dp, "p7") is None
    assert len(ctx.backers) == 2


def test_normal_learns_and_revalidates(request):
    sw = Switch(request)
    sw.send(1, frame(1, 2))
    assert sw.sent(2) == 1
    assert sw.actions_from(1) == [[("output", sw.odp(2))]]      # flood (one other port)
    sw.send(2, frame(2, 1))
    assert sw.sent(1) == 1
    assert sw.ofdp.ml.lookup(int((MAC % 2).replace(":", ""), 16), 0) == 2
    sw.send(1, frame(1, 2))
    assert sw.sent(2) == 2 and sw.dp.n_hit == 1


def test_flood_fixed_by_revalidation(request):
    sw = Switch(request, n_ports=3)
    sw.send(1, frame(1, 2))
    assert sorted(a[1] for a in sw.actions_from(1)[0]) == sorted([sw.odp(2), sw.odp(3)])
    sw.send(2, frame(2, 1))         # learns MAC 2 on port 2: the flood is fixed
    assert sw.actions_from(1) == [[("output", sw.odp(2))]]


def test_stats_pushed_to_rules_and_idle_flows_expire(request):
    sw = Switch(request, flows=("in_port=1,actions=output:2", "in_port=2,actions=output:1"))
    for _ in range(5):
        sw.send(1, frame(1, 2))
    sw.ctx.run(0)
    rule = sw.ofp.collect_rules(0, FL.parse_flow_mod(
        "in_port=1", command=FL.OFPFC_DELETE)[0].match, priority=32768, strict=True)[0]
    assert rule.packet_count == 5 and rule.byte_count == 5 * len(frame(1, 2).data)
    now = sw.dp._clock()
    sw.dp._clock = lambda: now + MAX_IDLE_MS + 1
    sw.ctx.run(0)
    assert len(sw.dp) == 0
    assert rule.packet_count == 5       # nothing lost with the expired flow


def test_flow_changes_revalidate(request):
    sw = Switch(request, flows=("in_port=1,actions=output:2",))
    sw.send(1, frame(1, 2))
    assert sw.actions_from(1) == [[("output", sw.odp(2))]]
    sw.ofp.handle_flow_mod(FL.parse_flow_mod("in_port=1,actions=drop",
                                             command=FL.OFPFC_MODIFY)[0], 0)
    sw.ctx.revalidate()
    assert sw.actions_from(1) == [[]]


def test_patch_ports_join_bridges(request):
    a = Switch(request, n_ports=1)
    b = Switch(request, ctx=a.ctx, n_ports=1)
    pa = netdev.open("pvu%dpa" % next(_n), "patch", {"peer": "pvu_pb"})
    request.addfinalizer(pa.close)
    pb = netdev.open("pvu_pb", "patch", {"peer": pa.name})
    request.addfinalizer(pb.close)
    a.add(2, pa)
    b.add(2, pb)
    assert a.odp(2) is None
    a.send(1, frame(1, 9))
    assert b.sent(1) == 1               # through the patch, flooded in b
    assert a.actions_from(1) == [[("output", b.odp(1))]]
    assert "patch: peer=pvu_pb" in a.ctx.dpif_show()
    # MAC 1 was learned in b, on b's patch port.
    assert b.ofdp.ml.lookup(int((MAC % 1).replace(":", ""), 16), 0) == 2


def test_packet_out_to_controller_and_port(request):
    sw = Switch(request)
    got = []

    class Mgr:
        conns = []

        def send_packet_in(self, pin):
            got.append(pin)
    sw.ofdp.connmgr = Mgr()
    data = frame(1, 2).data
    sw.ofdp.packet_out(PacketOut(actions=[Output(OFPP_CONTROLLER, 0xffff), Output(2, 0)],
                                 in_port=OFPP_CONTROLLER, data=data))
    assert [(p.data, p.in_port) for p in got] == [(data, OFPP_CONTROLLER)]
    assert sw.sent(2) == 1


def test_controller_action_is_slow_path(request):
    sw = Switch(request, flows=("in_port=1,actions=controller",))
    got = []

    class Mgr:
        conns = []

        def send_packet_in(self, pin):
            got.append(pin)
    sw.ofdp.connmgr = Mgr()
    for _ in range(3):
        sw.send(1, frame(1, 2))
    assert len(got) == 3 and len(sw.dp) == 0     # nothing installed
    assert got[0].in_port == 1


def test_dpif_show_layout(request):
    sw = Switch(request)
    local = netdev.open(sw.name, "dummy")
    request.addfinalizer(local.close)
    sw.ofdp.add_port(OFPP_LOCAL, local)
    text = sw.ctx.dpif_show()
    lines = text.splitlines()
    assert lines[0] == "dummy@ovs-dummy: hit:0 missed:0"
    assert lines[1] == "  %s:" % sw.name
    assert lines[2].startswith("    %s 65534/" % sw.name) and lines[2].endswith(
        ": (dummy-internal)")


@pytest.mark.parametrize("vlan, ok", [(10, True), (20, False)])
def test_access_ports(request, vlan, ok):
    sw = Switch(request)
    sw.ofdp.set_port_config(1, tag=10)
    sw.ofdp.set_port_config(2, tag=vlan)
    sw.send(1, frame(1, 2))
    assert sw.sent(2) == (1 if ok else 0)


def test_no_recv_port_drops(request):
    from pyovs.ofproto.ofproto import OFPPC_NO_RECV
    sw = Switch(request)
    sw.ofp.ports[1].config |= OFPPC_NO_RECV
    sw.ofp.changed += 1
    sw.send(1, frame(1, 2))
    assert sw.sent(2) == 0 and sw.actions_from(1) == [[]]
    sw.send(2, frame(2, 1))
    assert sw.sent(1) == 1
