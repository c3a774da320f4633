"""tnl_pop: push (header.py) then pop gives back the packet and metadata;
bad outer headers are refused with a reason, never an exception."""
import struct

from hypothesis import given, settings, strategies as st

from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_KEY
from pyovs.packet import build
from pyovs.packet.csum import csum
from pyovs.tnl.header import build_header
from pyovs.tnl.pop import pop_header

INNER = build.udp_packet("00:00:00:00:00:01", "00:00:00:00:00:02", "1.1.1.1",
                         "2.2.2.2", 1, 2, b"payload")


def push(tnl_type, src="192.168.10.1", dst="192.168.10.2", sport=40000, **kw):
    """What the datapath does with a tnl_push header: fill lengths, csums."""
    _, hdr = build_header(tnl_type, "00:11:22:33:44:55", "aa:55:aa:55:00:01",
                          src, dst, **kw)
    pkt = bytearray(hdr + INNER)
    v4 = pkt[12:14] == b"\x08\x00"
    l4 = 34 if v4 else 54
    if v4:
        struct.pack_into("!H", pkt, 16, len(pkt) - 14)
        struct.pack_into("!H", pkt, 24, 0)
        struct.pack_into("!H", pkt, 24, csum(bytes(pkt[14:34])))
    else:
        struct.pack_into("!H", pkt, 18, len(pkt) - 54)
    if tnl_type != "gre":
        struct.pack_into("!H", pkt, l4, sport)
        struct.pack_into("!H", pkt, l4 + 4, len(pkt) - l4)
        if pkt[l4 + 6:l4 + 8] == b"\xff\xff":
            seg = bytes(pkt[l4:l4 + 6]) + b"\0\0" + bytes(pkt[l4 + 8:])
            out = build.udp(src, dst, sport, struct.unpack_from("!H", pkt, l4 + 2)[0],
                            seg[8:])
            pkt[l4:] = out
    elif kw.get("csum"):
        struct.pack_into("!H", pkt, l4 + 4, csum(bytes(pkt[l4:])))
    return bytes(pkt)


def test_round_trips():
    for tnl_type, kw, want in (
            ("vxlan", dict(key=5), dict(tun_id=5, flags=TNL_F_KEY, tp_dst=4789)),
            ("geneve", dict(key=77, csum=True, geneve_opts=bytes.fromhex("ffff0101deadbeef")),
             dict(tun_id=77, flags=TNL_F_KEY | TNL_F_CSUM, tp_dst=6081,
                  geneve=[(0xffff, 1, bytes.fromhex("deadbeef"))])),
            ("gre", dict(key=0x55, csum=True), dict(tun_id=0x55, flags=TNL_F_KEY | TNL_F_CSUM)),
            ("gre", dict(), dict(flags=0))):
        p, err = pop_header(push(tnl_type, **kw), tnl_type)
        assert err is None, (tnl_type, err)
        pkt = push(tnl_type, **kw)
        assert pkt[p.inner_ofs:] == INNER
        for k, v in want.items():
            assert p.md[k] == v, (tnl_type, k)
        assert p.md["src"] == 0xC0A80A01 and p.md["dst"] == 0xC0A80A02 and p.md["ttl"] == 64
    p, err = pop_header(push("vxlan", "2001:db8::1", "2001:db8::2", key=9), "vxlan")
    assert err is None and p.md["ipv6_src"] and p.md["flags"] == TNL_F_KEY | TNL_F_CSUM


def test_bad_headers():
    good = push("vxlan", key=5)
    bad_vxlan = bytearray(good)
    bad_vxlan[42] = 0x0c                          # unknown VXLAN flag
    assert pop_header(bytes(bad_vxlan), "vxlan")[1].startswith("invalid vxlan flags")
    bad_ipcsum = bytearray(good)
    bad_ipcsum[24] ^= 0xff
    assert pop_header(bytes(bad_ipcsum), "vxlan") == (None, "ip packet has invalid checksum")
    assert pop_header(good[:40], "vxlan")[0] is None
    gre = bytearray(push("gre", key=1))
    gre[34] |= 0x40                               # routing bit
    assert "unsupported flags" in pop_header(bytes(gre), "gre")[1]
    gre_nokey = push("gre")
    assert pop_header(gre_nokey, "gre")[0].md.get("tun_id") is None
    gnv = bytearray(push("geneve", key=1))
    gnv[42] = 0x3f                                # 252 bytes of options claimed
    assert "too small" in pop_header(bytes(gnv), "geneve")[1]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["vxlan", "geneve", "gre"]), st.binary(max_size=120),
       st.integers(0, 119), st.integers(0, 255))
def test_fuzz_never_raises(tnl_type, junk, pos, byte):
    for data in (junk, _flip(push(tnl_type, key=3), pos, byte)):
        p, err = pop_header(data, tnl_type)
        assert (p is None) != (err is None)
        if p is not None:
            assert p.inner_ofs <= len(data)


def _flip(data, pos, byte):
    b = bytearray(data)
    b[pos % len(b)] = byte
    return bytes(b)
