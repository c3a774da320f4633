"""Software segmentation and checksum completion (netdev/gso.py).

The segments are checked by rules independent of the code: a received IPv4
header or TCP segment (with its pseudo-header) sums to 0xffff in one's
complement, which the naive word-by-word sum below computes.  The real
kernel checks the same in tests/netns (test_iperf3_with_software_segmentation).
"""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from pyovs import netdev
from pyovs.netdev import gso, pcap

SRC4, DST4 = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])
SRC6, DST6 = bytes(range(16)), bytes(range(16, 32))


def naive_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = 0
    for (w,) in struct.iter_unpack("!H", data):
        s += w
        s = (s & 0xffff) + (s >> 16)
    return s


def tcp_header(seq, flags, options=b""):
    off = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", 40000, 5201, seq, 7, off << 4, flags, 512, 0, 0) + options


def partial_pseudo(src, dst, length):
    """What the kernel leaves in the checksum field with NEEDS_CSUM."""
    return naive_sum(src + dst + struct.pack("!HH", 6, length))


def super_packet(v6=False, payload=b"", mss=1448, flags=0x18 | 0x80, vlan=False,
                 options=b"\x01\x01\x08\x0a" + bytes(8)):
    tcp = bytearray(tcp_header(1000, flags, options) + payload)
    src, dst = (SRC6, DST6) if v6 else (SRC4, DST4)
    struct.pack_into("!H", tcp, 16, partial_pseudo(src, dst, len(tcp)))
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
        ethertype = b"\x86\xdd"
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x1234, 0x4000,
                         64, 6, 0, src, dst)
        ethertype = b"\x08\x00"
    eth = bytes.fromhex("020000000002020000000001")
    if vlan:
        eth += b"\x81\x00\x00\x0a"
    frame = eth + ethertype + ip + bytes(tcp)
    l4 = len(eth) + 2 + len(ip)
    gso_type = netdev.base.VIRTIO_NET_HDR_GSO_TCPV6 if v6 else netdev.base.VIRTIO_NET_HDR_GSO_TCPV4
    vnet = netdev.VirtioNetHdr(1, gso_type, l4 + 20 + len(options), mss, l4, 16).pack()
    return frame, vnet, l4


def check_segments(segs, frame, l4, mss, v6):
    l3 = l4 - (40 if v6 else 20)
    src, dst = (frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40]) if v6 else \
        (frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20])
    hlen = l4 + (frame[l4 + 12] >> 4) * 4
    payload = b""
    for i, s in enumerate(segs):
        assert s[:l3] == frame[:l3]
        if v6:
            assert struct.unpack_from("!H", s, l3 + 4)[0] == len(s) - l4
        else:
            assert struct.unpack_from("!H", s, l3 + 2)[0] == len(s) - l3
            assert struct.unpack_from("!H", s, l3 + 4)[0] == 0x1234 + i
            assert naive_sum(s[l3:l4]) == 0xffff
        seg_tcp = s[l4:]
        assert naive_sum(src + dst + struct.pack("!HH", 6, len(seg_tcp)) + seg_tcp) == 0xffff
        assert struct.unpack_from("!I", s, l4 + 4)[0] == 1000 + len(payload)
        chunk = s[hlen:]
        assert len(chunk) <= mss
        payload += chunk
        flags = s[l4 + 13]
        assert bool(flags & 0x08) == (i == len(segs) - 1)        # PSH last only
        assert bool(flags & 0x80) == (i == 0)                    # CWR first only
    assert payload == frame[hlen:]


@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("vlan", [False, True])
def test_segment_tcp(v6, vlan):
    data = bytes(range(256)) * 20 + b"tail"
    frame, vnet, l4 = super_packet(v6, data, vlan=vlan)
    segs = gso.resolve(frame, vnet)
    assert len(segs) == -(-len(data) // 1448)
    check_segments(segs, frame, l4, 1448, v6)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 9000), mss=st.integers(1, 2000), v6=st.booleans())
def test_segment_any_size(size, mss, v6):
    frame, vnet, l4 = super_packet(v6, bytes(i & 0xff for i in range(size)), mss=mss)
    segs = gso.resolve(frame, vnet)
    assert len(segs) == max(1, -(-size // mss))
    check_segments(segs, frame, l4, mss, v6)


def test_complete_csum_only():
    frame, vnet, l4 = super_packet(payload=b"hello world")
    plain = netdev.VirtioNetHdr(1, 0, 0, 0, l4, 16).pack()
    (out,) = gso.resolve(frame, plain)
    assert out[:l4 + 16] == frame[:l4 + 16] and out[l4 + 18:] == frame[l4 + 18:]
    assert naive_sum(SRC4 + DST4 + struct.pack("!HH", 6, len(out) - l4) + out[l4:]) == 0xffff


def test_csum_matches_naive_sum():
    for data in (b"", b"\x00", b"\xff\xff", bytes(range(255)), b"\xff" * 7):
        assert gso.csum(data) == ~naive_sum(data) & 0xffff


def test_no_offload_passes_unchanged():
    assert gso.resolve(b"abc", None) == [b"abc"]


@pytest.mark.parametrize("mangle", [
    lambda f, l4: f[:l4],                        # no TCP header
    lambda f, l4: f[:12] + b"\x08\x06" + f[14:],  # ARP, not IP
    lambda f, l4: f[:l4 - 20 + 9] + b"\x11" + f[l4 - 20 + 10:],  # UDP in the IP header
])
def test_unparseable_super_packets_refused(mangle):
    frame, vnet, l4 = super_packet(payload=bytes(3000))
    assert gso.resolve(mangle(frame, l4), vnet) is None


def test_ufo_not_resolved():
    frame, _, l4 = super_packet(payload=bytes(3000))
    assert gso.resolve(frame, netdev.VirtioNetHdr(1, 3, 0, 1400, l4, 6).pack()) is None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.binary(min_size=10, max_size=10))
def test_resolve_never_crashes(data, vnet):
    out = gso.resolve(data, vnet)
    assert out is None or all(isinstance(f, bytes) for f in out)


def test_dummy_port_records_segments(tmp_path):
    tx = tmp_path / "tx.pcap"
    d = netdev.open("pa-gso0", "dummy", {"tx_pcap": str(tx)})
    try:
        frame, vnet, l4 = super_packet(payload=bytes(5000))
        d.send_batch([netdev.Packet(frame, vnet)])
        segs = pcap.read_pcap(tx)
        assert len(segs) == 4 and max(map(len, segs)) <= 1514
        check_segments(segs, frame, l4, 1448, False)
        assert d.get_stats().tx_packets == 4
        d.send_batch([netdev.Packet(frame[:40], vnet)])
        assert d.tx_errors == 1
    finally:
        d.close()


def test_vlan_reinsertion_shifts_offload_offsets():
    """rx_batch puts a stripped VLAN tag back in front of the network header;
    the virtio_net_hdr offsets move with it, so segmentation still finds the
    TCP header."""
    from pyovs.netdev.linux import _shift_vnet
    frame, vnet, l4 = super_packet(payload=bytes(4000))
    tagged = frame[:12] + b"\x81\x00\x00\x0a" + frame[12:]
    shifted = _shift_vnet(vnet, 4)
    h = netdev.VirtioNetHdr.unpack(shifted)
    assert (h.csum_start, h.hdr_len) == (l4 + 4, netdev.VirtioNetHdr.unpack(vnet).hdr_len + 4)
    check_segments(gso.resolve(tagged, shifted), tagged, l4 + 4, 1448, False)
    plain = netdev.VirtioNetHdr(0, 0, 0, 0, 0, 0).pack()
    assert _shift_vnet(plain, 4) == plain
