"""netdev/gro: runs of TCP segments merge into super-packets that cut back
(netdev/gso, as the kernel's TSO would) into exactly the frames merged;
everything else passes through untouched and in order."""

import struct

from hypothesis import given, settings, strategies as st

from pyovs.netdev import gro, gso
from pyovs.netdev.base import Packet, VIRTIO_NET_HDR_GSO_ECN
from pyovs.packet.csum import word_sum

ETH4 = bytes.fromhex("0200000000020200000000010800")
ETH6 = bytes.fromhex("02000000000202000000000186dd")
A4, B4 = bytes([10, 9, 1, 1]), bytes([10, 9, 1, 2])
A6, B6 = bytes(range(16)), bytes(range(16, 32))


def super_packet(payload, mss, v6=False, flags=0x18, seq=1000, opts=b"", ip_id=7):
    """A TSO super-packet as a sender's stack hands it over (partial
    checksum) and its virtio_net_hdr."""
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 77, (5 + len(opts) // 4) << 4,
                      flags, 500, 0, 0) + opts
    if v6:
        l3 = struct.pack("!IHBB", 0x60000000, len(tcp) + len(payload), 6, 64) + A6 + B6
        eth, l4, kind = ETH6, 54, 4
    else:
        l3 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), ip_id,
                         0x4000, 64, 6, 0, A4, B4)
        eth, l4, kind = ETH4, 34, 1
    data = eth + l3 + tcp + payload
    vnet = struct.pack("=BBHHHH", 1, kind, l4 + len(tcp), mss, l4, 16)
    return data, vnet


def segments(payload, mss, **kw):
    return gso.segment_tcp(*super_packet(payload, mss, **kw))


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=9000), st.integers(100, 1460), st.booleans(),
       st.sampled_from([0x10, 0x18, 0x11, 0x90, 0x58]),
       st.sampled_from([b"", b"\x01\x01\x08\x0a" + bytes(range(8))]),
       st.integers(0, 2 ** 32 - 1))
def test_merge_then_cut_gives_the_segments_back(payload, mss, v6, flags, opts, seq):
    segs = segments(payload, mss, v6=v6, flags=flags, opts=opts, seq=seq)
    out = gro.coalesce([Packet(s) for s in segs])
    assert sum(len(s) for s in segs) >= sum(len(p.data) for p in out)
    back = []
    for p in out:
        back += gso.resolve(p.data, p.vnet) if p.vnet else [p.data]
    assert back == segs
    if len(segs) > 1 and sum(len(s) for s in segs) < 60000:
        assert len(out) == 1 and out[0].is_gso()
        assert bool(out[0].vnet[1] & VIRTIO_NET_HDR_GSO_ECN) == bool(flags & 0x80)


def test_merged_packet_carries_the_offload_checksum_seed():
    segs = segments(bytes(range(256)) * 20, 1000)
    (p,) = gro.coalesce([Packet(s) for s in segs])
    # The TCP checksum field holds the pseudo-header sum (not complemented),
    # for the full TCP length, as a sender's stack leaves it for TSO.
    tcp_len = len(p.data) - 34
    seed = (word_sum(A4 + B4) + 6 + tcp_len) % 0xffff
    assert p.data[50:52] == seed.to_bytes(2, "big")
    flags, kind, hdr_len, gso_size, start, offset = struct.unpack("=BBHHHH", p.vnet)
    assert (flags, kind, hdr_len, gso_size, start, offset) == (1, 1, 54, 1000, 34, 16)
    assert int.from_bytes(p.data[16:18], "big") == len(p.data) - 14
    assert word_sum(p.data[14:34]) == 0          # the IPv4 header checksum is right


def test_a_bad_checksum_keeps_the_run_apart():
    segs = segments(bytes(5000), 1000)
    bad = bytearray(segs[2])
    bad[-1] ^= 1
    segs[2] = bytes(bad)
    pkts = [Packet(s) for s in segs]
    assert [p.data for p in gro.coalesce(pkts)] == segs


def test_a_bad_ip_header_checksum_keeps_the_run_apart():
    segs = segments(bytes(5000), 1000)
    bad = bytearray(segs[1])
    bad[25] ^= 1                                 # the IPv4 header checksum itself
    segs[1] = bytes(bad)
    assert [p.data for p in gro.coalesce([Packet(s) for s in segs])] == segs


def test_other_frames_pass_in_order_and_split_runs():
    a = segments(bytes(4000), 1000)
    b = segments(bytes(3000), 1000, seq=5)
    b = [s[:34] + s[34:36] + (40001).to_bytes(2, "big")[1:] + s[37:] for s in b]
    udp = ETH4 + bytes(20) + bytes(200)
    ack = segments(b"x", 1000)[0][:54]          # short: left alone
    pkts = [Packet(f) for f in [udp] + a[:2] + [ack] + a[2:] + b]
    out = gro.coalesce(pkts)
    assert out[0].data == udp
    assert [len(gso.resolve(p.data, p.vnet)) if p.vnet else 1 for p in out] == [1, 2, 1, 2, 1, 1, 1]
    back = []
    for p in out:
        back += gso.resolve(p.data, p.vnet) if p.vnet else [p.data]
    assert back == [udp] + a[:2] + [ack] + a[2:] + b


def test_gaps_short_segments_push_and_cwr_end_runs():
    segs = segments(bytes(6000), 1000)               # 6 segments, PSH on the last
    swapped = [segs[0], segs[2], segs[1]] + segs[3:]
    out = gro.coalesce([Packet(s) for s in swapped])
    assert len(out) == 4                             # 0 | 2 | 1 | 3+4+5 merged
    back = []
    for p in out:
        back += gso.resolve(p.data, p.vnet) if p.vnet else [p.data]
    assert back == swapped
    short = segments(bytes(2500), 1000)              # 1000, 1000, 500
    extra = segments(bytes(1000), 1000, seq=1000 + 2500)
    out = gro.coalesce([Packet(s) for s in short + extra])
    assert len(out) == 2                             # nothing follows a short one


def test_super_packets_and_plain_frames_untouched():
    data, vnet = super_packet(bytes(3000), 1000)
    p = Packet(data, vnet)
    pkts = [p, Packet(b"\x00" * 60), b"\xff" * 300]
    assert gro.coalesce(pkts) is pkts


def test_run_stops_below_64k():
    segs = (segments(bytes(1400 * 40), 1400, flags=0x10)
            + segments(bytes(1400 * 20), 1400, seq=1000 + 1400 * 40, ip_id=7 + 40))
    out = gro.coalesce([Packet(s) for s in segs])
    assert len(out) >= 2
    assert all(len(p.data) - 14 <= 65535 for p in out)
    back = []
    for p in out:
        back += gso.resolve(p.data, p.vnet) if p.vnet else [p.data]
    assert back == segs


@given(st.binary(max_size=5000))
def test_word_sum_is_the_ones_complement_sum(data):
    padded = data + b"\0" * (len(data) & 1)
    naive = sum(int.from_bytes(padded[i:i + 2], "big") for i in range(0, len(padded), 2))
    assert word_sum(data) == naive % 0xffff
    c = gso.csum_add(data)
    assert c == (0 if naive == 0 else (naive % 0xffff or 0xffff))
