"""tnl_push and tnl_pop in the userspace datapath (dpif/netdev.py): the
outer header is completed per packet (lengths, checksums, the UDP source
port from the inner flow, in tnl/egress_port_range), super-packets are
segmented first, popped packets recirculate with their tunnel metadata in
the flow and the megaflow key, malformed outer headers are counted and
dropped."""

import pytest

from pyovs import netdev
from pyovs.dpif import dpctl
from pyovs.dpif.netdev import DpifNetdev
from pyovs.netdev.base import Netdev, Packet, VirtioNetHdr, VIRTIO_NET_HDR_GSO_TCPV4, \
    VIRTIO_NET_HDR_F_NEEDS_CSUM
from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_KEY
from pyovs.packet import build
from pyovs.tnl.header import build_header
from pyovs.tnl.pop import pop_header

INNER = build.icmp_packet("fe:71:d8:83:72:4f", "be:b6:f4:e1:49:4a", "30.0.0.1",
                          "30.0.0.2", payload=bytes(56))


class Sink(Netdev):
    TYPE = "sink"

    def __init__(self, name):
        super().__init__(name)
        self.sent = []

    def send_batch(self, packets):
        self.sent += [bytes(p.data if isinstance(p, Packet) else p) for p in packets]


_n = [0]


def _vport(type_, port=None):
    _n[0] += 1
    dev = netdev.open("ptv%d" % _n[0], type_)
    if port:
        dev.cfg.dst_port = port
    return dev


def _push(type_, **kw):
    htype, hdr = build_header(type_, "f8:bc:12:44:34:b6", "aa:55:aa:55:00:00",
                              "1.1.2.88", "1.1.2.92", **kw)
    return ("tnl_push", {"tnl_port": 4789, "header_type": htype, "header": hdr,
                         "out_port": 100})


@pytest.mark.parametrize("type_,kw,flags", [
    ("vxlan", {"key": 123}, TNL_F_KEY),
    ("vxlan", {"key": 123, "csum": True}, TNL_F_KEY | TNL_F_CSUM),
    ("geneve", {"key": 7}, TNL_F_KEY),
    ("gre", {"key": 456, "csum": True}, TNL_F_KEY | TNL_F_CSUM),
    ("gre", {}, 0),
])
def test_push_then_pop_round_trip(type_, kw, flags):
    dp = DpifNetdev("ovs-dummy", "dummy")
    out = Sink("pts1")
    dp.add_port(out, 1)
    dp.execute([INNER, INNER], [_push(type_, **kw), ("output", 1)])
    assert len(out.sent) == 2 and out.sent[0] == out.sent[1]   # one flow, one port
    popped, why = pop_header(out.sent[0], type_)               # checks every checksum
    assert why is None
    assert out.sent[0][popped.inner_ofs:] == INNER
    md = popped.md
    assert md["flags"] == flags and md.get("tun_id") == kw.get("key")
    assert (md["src"], md["dst"]) == (0x01010258, 0x0101025c)
    if type_ != "gre":
        assert dp.egress.min <= md["tp_src"] <= dp.egress.max


def test_source_port_follows_range_and_flow():
    dp = DpifNetdev("ovs-dummy", "dummy")
    out = Sink("pts2")
    dp.add_port(out, 1)
    assert dp.egress.command(["5000", "5001"]) == "OK"
    other = build.udp_packet("fe:71:d8:83:72:4f", "be:b6:f4:e1:49:4a", "30.0.0.1",
                             "30.0.0.9", 1000, 2000, bytes(20))
    dp.execute([INNER, other], [_push("vxlan", key=1), ("output", 1)])
    ports = [pop_header(f, "vxlan")[0].md["tp_src"] for f in out.sent]
    assert all(5000 <= p <= 5001 for p in ports)


def test_tso_super_packet_is_segmented_before_push():
    dp = DpifNetdev("ovs-dummy", "dummy")
    out = Sink("pts3")
    dp.add_port(out, 1)
    payload = bytes(range(256)) * 16                 # 4096 bytes of TCP payload
    frame = build.tcp_packet("fe:71:d8:83:72:4f", "be:b6:f4:e1:49:4a", "30.0.0.1",
                             "30.0.0.2", 1000, 80, flags=0x18, payload=payload)
    vnet = VirtioNetHdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1400,
                        34, 16).pack()
    dp.execute([Packet(frame, vnet)], [_push("vxlan", key=5), ("output", 1)])
    assert len(out.sent) == 3
    got = b""
    for f in out.sent:
        popped, why = pop_header(f, "vxlan")
        assert why is None
        inner = f[popped.inner_ofs:]
        assert len(inner) <= 14 + 20 + 20 + 1400
        got += inner[54:]
    assert got == payload
    # Byte for byte what pushing the segments one by one gives (the cut and
    # the push are done in one copy for a super-packet).
    from pyovs.netdev import gso
    one_by_one = Sink("pts4")
    dp.add_port(one_by_one, 2)
    dp.execute([Packet(f) for f in gso.resolve(frame, vnet)],
               [_push("vxlan", key=5), ("output", 2)])
    assert one_by_one.sent == out.sent


def _recirc_dp():
    dp = DpifNetdev("ovs-dummy", "dummy")
    phy = Sink("ptp1")
    dp.add_port(phy, 1)
    vx = _vport("vxlan")
    dp.add_port(vx, 4789)
    seen = []

    def upcall(flow, packet):
        seen.append((flow, bytes(packet.data)))
        if flow["in_port"] == 1:
            return [("tnl_pop", 4789)], {"dl_type": 0xffff, "nw_proto": 0xff,
                                         "tp_dst": 0xffff}
        mask = {"tun_id": (1 << 64) - 1, "tun_src": 0xffffffff,
                "tun_dst": 0xffffffff, "tun_flags": 0xe, "tun_tos": 0xff,
                "dl_type": 0xffff, "nw_frag": 3}
        return [], mask
    dp.upcall = upcall
    return dp, seen


def test_pop_recirculates_with_tunnel_metadata():
    dp, seen = _recirc_dp()
    out = Sink("pts4")
    dp.add_port(out, 2)
    dp.execute([INNER], [_push("vxlan", key=123), ("output", 2)])
    frame = out.sent[0]
    dp.receive(1, [frame, frame])
    inner_flows = [f for f, _ in seen if f["in_port"] == 4789]
    assert len(inner_flows) == 1            # the second packet hit the megaflow
    f = inner_flows[0]
    assert f["tun_id"] == 123 and f["tun_src"] == 0x01010258 and f["tun_dst"] == 0x0101025c
    assert f["tun_flags"] == TNL_F_KEY and f["tun_ttl"] == 64 and f["tun_tp_dst"] == 4789
    assert seen[-1][1] == INNER
    dumps = [m for m in dp.flow_dump() if m.value.get("in_port") == 4789]
    assert len(dumps) == 1 and dumps[0].n_packets == 1
    line = dpctl.format_flow_line(dp, dumps[0], 0)
    assert line.startswith("tunnel(tun_id=0x7b,src=1.1.2.88,dst=1.1.2.92,"
                           "flags(-df-csum+key)),recirc_id(0),in_port(4789),"), line


@pytest.mark.parametrize("mangle", [
    lambda f: f[:20],                                   # truncated IP
    lambda f: f[:14] + b"\x46" + f[15:],                # bad IHL / checksum
    lambda f: f[:42] + b"\x00\x00\x00\x00" + f[46:],    # VXLAN without the I flag
    lambda f: f[:16] + b"\xff\xff" + f[18:],            # IP length beyond the frame
])
def test_malformed_outer_headers_are_counted_and_dropped(mangle):
    dp, seen = _recirc_dp()
    out = Sink("pts5")
    dp.add_port(out, 2)
    dp.execute([INNER], [_push("vxlan", key=1), ("output", 2)])
    dp.receive(1, [mangle(out.sent[0])])
    assert dp.n_tnl_pop_errors == 1 and dp.tnl_pop_error
    assert not [f for f, _ in seen if f["in_port"] == 4789]


def test_pop_to_a_non_tunnel_port_is_refused():
    dp = DpifNetdev("ovs-dummy", "dummy")
    dp.add_port(Sink("pts6"), 1)
    dp.execute([INNER], [("tnl_pop", 1)])
    assert dp.n_unsupported == 1


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(type_=st.sampled_from(["vxlan", "gre", "geneve"]), cut=st.integers(0, 200),
       flips=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=6))
def test_tnl_pop_survives_garbled_outer_headers(type_, cut, flips):
    """Bad input is normal input: whatever the outer header says, tnl_pop
    either recirculates an inner packet or counts and drops it."""
    dp = DpifNetdev("ovs-dummy", "dummy")
    out = Sink("ptf%d" % cut)
    dp.add_port(out, 1)
    vport = _vport(type_)
    dp.add_port(vport, 4789)
    seen = []
    dp.upcall = lambda flow, pkt: (seen.append(flow) or ([], {"dl_type": 0xffff}))
    kw = {"key": 5} if type_ != "gre" else {"key": 5, "csum": True}
    dp.execute([INNER], [_push(type_, **kw), ("output", 1)])
    frame = bytearray(out.sent[0][:cut] if cut < len(out.sent[0]) else out.sent[0])
    for ofs, val in flips:
        if ofs < len(frame):
            frame[ofs] = val
    dp.execute([bytes(frame)], [("tnl_pop", 4789)])
    assert dp.n_tnl_pop_errors + len(seen) == 1
    vport.close()


def test_layer3_gre_payload_goes_on_as_a_layer3_packet():
    dp, seen = _recirc_dp()
    out = Sink("pts7")
    dp.add_port(out, 2)
    gre = _vport("gre")
    dp.add_port(gre, 3)
    htype, hdr = build_header("gre", "f8:bc:12:44:34:b6", "aa:55:aa:55:00:00", "1.1.2.88",
                              "1.1.2.92", gre_proto=0x0800)
    dp.execute([INNER[14:]], [("tnl_push", {"tnl_port": 3, "header_type": htype,
                                            "header": hdr, "out_port": 100}), ("output", 2)])
    dp.execute([out.sent[0]] * 2, [("tnl_pop", 3)])     # (a batch of two)
    assert dp.n_tnl_pop_errors == 0
    (flow,) = [f for f, _ in seen if f["in_port"] == 3]
    assert (dp.n_missed, dp.n_hit) == (1, 1)        # the second hit the new megaflow
    # no Ethernet header: the flow starts at the IPv4 header
    assert flow["packet_type"] == 0x10800 and flow["dl_type"] == 0x0800
    assert "dl_src" not in flow and flow["nw_src"] == int.from_bytes(INNER[26:30], "big")
