"""TSO super-packets through the userspace datapath: they pass whole, VLAN
push/pop moves their offload offsets, and header rewrites segment them
first.  The super-packets are the gso tests' (tests/unit/test_netdev_gso.py)."""

from pyovs.dpif.netdev import DpifNetdev
from pyovs.netdev import gso
from pyovs.netdev.base import Packet, VirtioNetHdr
from pyovs.odp.actions import parse_actions
from pyovs.packet.flow import flow_extract
from tests.unit.test_netdev_gso import check_segments, super_packet


class Recorder:
    """A port that keeps what it is sent (Packet objects, vnet and all)."""
    type = "recorder"

    def __init__(self, name):
        self.name = name
        self.sent = []

    def send_batch(self, pkts):
        self.sent.extend(pkts)

    def fileno(self):
        return None


def datapath():
    dp = DpifNetdev("ovs-dummy", "dummy",
                    upcall=lambda flow, pkt: ([("output", 2)], {"dl_type": 0xffff}))
    a, b = Recorder("a"), Recorder("b")
    dp.add_port(a)
    dp.add_port(b)
    return dp, b


def test_super_packet_passes_whole():
    frame, vnet, _ = super_packet(payload=bytes(range(256)) * 40)
    dp, out = datapath()
    dp.receive(1, [Packet(frame, vnet)])
    dp.receive(1, [Packet(frame, vnet)])
    assert [(p.data, p.vnet) for p in out.sent] == [(frame, vnet)] * 2
    assert dp.n_hit == 1
    mf, = dp.flow_dump()
    assert mf.n_bytes == len(frame)


def test_push_pop_vlan_move_offsets():
    frame, vnet, l4 = super_packet(payload=bytes(5000))
    dp, out = datapath()
    dp.execute([Packet(frame, vnet)], parse_actions("push_vlan(vid=10,pcp=0),2,pop_vlan,2"), 1)
    tagged, untagged = out.sent
    h = VirtioNetHdr.unpack(tagged.vnet)
    assert (h.csum_start, h.hdr_len) == (l4 + 4, VirtioNetHdr.unpack(vnet).hdr_len + 4)
    assert flow_extract(tagged.data)["vlan_tci"] == 0x1000 | 10
    # Segmenting the tagged super-packet gives valid segments with the tag.
    segs = gso.resolve(tagged.data, tagged.vnet)
    tagged_frame, _, tagged_l4 = super_packet(payload=bytes(5000), vlan=True)
    check_segments(segs, tagged_frame, tagged_l4, 1448, False)
    assert (untagged.data, untagged.vnet) == (frame, vnet)


def test_rewrite_segments_first():
    frame, vnet, l4 = super_packet(payload=bytes(range(200)) * 20)
    dp, out = datapath()
    dp.execute([Packet(frame, vnet)], parse_actions("set(ipv4(ttl=9)),2"), 1)
    assert len(out.sent) == 3 and all(p.vnet is None for p in out.sent)
    expect = gso.resolve(frame, vnet)
    for seg, orig in zip(out.sent, expect):
        assert flow_extract(seg.data)["nw_ttl"] == 9
        assert seg.data[:22] == orig[:22] and seg.data[23:24] == orig[23:24]
        assert seg.data[34:] == orig[34:]
    # The rewritten segments still check (ttl is covered by the IP checksum only).
    check_segments([bytes(s.data) for s in out.sent],
                   frame[:22] + b"\x09" + frame[23:24] + b"\0\0" + frame[26:], l4, 1448, False)


def test_trunc_segments_then_cuts():
    frame, vnet, _ = super_packet(payload=bytes(4000))
    dp, out = datapath()
    dp.execute([Packet(frame, vnet)], parse_actions("trunc(100),2"), 1)
    assert [len(p.data) for p in out.sent] == [100] * 3
    assert all(p.vnet is None for p in out.sent)
