"""The switches of dpif/learning.py over the userspace datapath: a flood
megaflow is fixed by revalidation once the destination is learned (the
NORMAL one translating through ofproto/xlate.py)."""

import pytest

from pyovs.dpif import dpctl
from pyovs.dpif.learning import LearningSwitch, NormalSwitch
from pyovs.dpif.netdev import DpifNetdev
from pyovs.packet import build

A, B, C = "00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03"


class Port:
    type = "dummy"

    def __init__(self, name):
        self.name = name
        self.sent = []

    def send_batch(self, pkts):
        self.sent.extend(pkts)

    def fileno(self):
        return None


def frame(src, dst):
    return build.udp_packet(src, dst, "10.0.0.1", "10.0.0.2", 1, 2)


@pytest.mark.parametrize("cls", [LearningSwitch, NormalSwitch])
def test_flood_then_fixed_by_revalidation(cls):
    dp = DpifNetdev()
    ports = [Port("p%d" % i) for i in (1, 2, 3)]
    for p in ports:
        dp.add_port(p)
    sw = cls(dp)
    dp.receive(1, [frame(A, B)])
    assert [len(p.sent) for p in ports] == [0, 1, 1]      # flooded
    dp.receive(2, [frame(B, A)])                          # learns B on 2 (and revalidates)
    assert sw.n_revalidations >= 2
    assert [len(p.sent) for p in ports] == [1, 1, 1]
    dp.receive(1, [frame(A, B)] * 3)
    assert [len(p.sent) for p in ports] == [1, 4, 1]      # no longer flooded
    assert sw.n_upcalls == 2                              # ... by the fixed megaflow
    assert dp.n_hit == 3


def test_normal_dump_is_ovs_text():
    dp = DpifNetdev()
    for i in (1, 2):
        dp.add_port(Port("p%d" % i))
    NormalSwitch(dp)
    dp.receive(1, [frame(A, C)])
    assert dpctl.dump_flows([dp], []).splitlines()[1] == (
        "recirc_id(0),in_port(1),packet_type(ns=0,id=0),"
        "eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:03),eth_type(0x0800),ipv4(frag=no),"
        " packets:0, bytes:0, used:never, actions:2")
