"""tnl-neigh-cache core: snooping, aging with `now`, texts, miss frames."""
from hypothesis import given, settings, strategies as st

from pyovs.packet import build
from pyovs.packet.flow import flow_extract
from pyovs.tnl import neigh_cache as N
from pyovs.tnl.ovs_router import mapped

HDR = ("IP                                            MAC                 Bridge\n"
       "==========================================================================\n")


def cmd(c, line, now=0.0):
    kind = line.split()[0].split("/")[-1]
    return N.HANDLERS[kind](c, line.split()[1:], now)


def test_texts_like_ovs():
    # Answers observed on Debian's ovs-vswitchd 3.1.
    c = N.NeighCache()
    assert cmd(c, "tnl/neigh/show") == (None, HDR)
    assert cmd(c, "tnl/arp/set br0 192.168.10.2 00:11:22:33:44:55") == (None, "OK")
    assert cmd(c, "tnl/neigh/set br0 2001:db8::2 00:11:22:33:44:66") == (None, "OK")
    assert cmd(c, "tnl/neigh/set br0 ::ffff:1.2.3.4 AA:BB:CC:DD:EE:0F") == (None, "OK")
    assert cmd(c, "tnl/neigh/set br0 1.1.1 aa:bb:cc:dd:ee:ff") == ("bad IP address", None)
    assert cmd(c, "tnl/neigh/set br0 1.1.1.3/24 aa:bb:cc:dd:ee:ff") == ("bad IP address", None)
    assert cmd(c, "tnl/neigh/set br0 1.1.1.1 aa:bb:cc:dd:ee") == ("bad MAC address", None)
    assert cmd(c, "tnl/neigh/set br0 1.1.1.1 aabb.ccdd.eeff") == ("bad MAC address", None)
    assert cmd(c, "tnl/neigh/set br0 1.1.1.1 AA:BB:CC:DD:EE:0Fx") == ("bad MAC address", None)
    err, text = cmd(c, "tnl/neigh/show")
    assert text.startswith(HDR)
    assert sorted(text[len(HDR):].splitlines()) == sorted([
        "192.168.10.2                                  00:11:22:33:44:55   br0",
        "2001:db8::2                                   00:11:22:33:44:66   br0",
        "1.2.3.4                                       aa:bb:cc:dd:ee:0f   br0"])
    assert cmd(c, "tnl/neigh/aging") == (None, "900")
    for bad in ("0", "3601", "x"):
        assert cmd(c, "tnl/neigh/aging " + bad) == ("bad aging value", None)
    assert cmd(c, "tnl/arp/aging 3600") == (None, "OK")
    assert cmd(c, "tnl/neigh/aging") == (None, "3600")
    assert cmd(c, "tnl/arp/flush") == (None, "OK")
    assert cmd(c, "tnl/arp/show") == (None, HDR)


def test_aging_with_now():
    c = N.NeighCache()
    ip = mapped("10.0.0.2")
    c.set("br0", ip, 0x112233445566, now=100.0)
    assert c.lookup("br0", ip, 100.0 + 899) == 0x112233445566
    assert c.lookup("br1", ip, 101.0) is None
    assert c.lookup("br0", ip, 100.0 + 900) is None
    c.set("br0", ip, 0x112233445566, now=500.0)      # refresh
    assert c.lookup("br0", ip, 1300.0) == 0x112233445566
    # Shortening the aging shortens the entries that would outlive it.
    assert cmd(c, "tnl/neigh/aging 10", now=600.0) == (None, "OK")
    assert c.lookup("br0", ip, 609.0) is not None
    assert not c.run(609.0)
    assert c.run(610.0)
    assert c.table == {}


def test_snoop_arp_and_nd():
    c = N.NeighCache()
    req = flow_extract(build.arp_packet(1, "00:00:00:00:00:01", "10.0.0.1",
                                        "00:00:00:00:00:00", "10.0.0.2"))
    assert not c.snoop(req, "br0", 0)                     # plain request: no
    rep = flow_extract(build.arp_packet(2, "00:00:00:00:00:02", "10.0.0.2",
                                        "00:00:00:00:00:01", "10.0.0.1"))
    assert c.snoop(rep, "br0", 0)
    assert c.lookup("br0", mapped("10.0.0.2"), 1) == 2
    garp = flow_extract(build.arp_packet(1, "00:00:00:00:00:03", "10.0.0.3",
                                         "00:00:00:00:00:00", "10.0.0.3"))
    assert c.snoop(garp, "br0", 0)
    assert c.lookup("br0", mapped("10.0.0.3"), 1) == 3
    # Trace (allow_update=False) learns nothing.
    rep2 = flow_extract(build.arp_packet(2, "00:00:00:00:00:09", "10.0.0.9",
                                         "00:00:00:00:00:01", "10.0.0.1"))
    assert c.snoop(rep2, "br0", 0, allow_update=False)
    assert c.lookup("br0", mapped("10.0.0.9"), 1) is None
    # Neighbor advertisement, without a TLL option: the Ethernet source.
    import struct
    from pyovs.packet import headers as h
    tgt = "2001:db8::9"
    na = build.eth("00:00:00:00:00:01", "00:00:00:00:00:07", h.ETH_TYPE_IPV6,
                   build.ipv6(tgt, "2001:db8::1", h.IPPROTO_ICMPV6,
                              build.icmpv6(tgt, "2001:db8::1", 136, 0,
                                           struct.pack("!I", 0x60000000) + build.ip6(tgt)),
                              hlimit=255))
    assert c.snoop(flow_extract(na), "br0", 0)
    assert c.lookup("br0", mapped(tgt), 1) == 7
    # Not ARP/ND at all.
    udp = flow_extract(build.udp_packet("00:00:00:00:00:01", "00:00:00:00:00:02",
                                        "1.1.1.1", "2.2.2.2", 1, 2))
    assert not c.snoop(udp, "br0", 0)


def test_miss_frames():
    arp = N.build_arp_request("aa:bb:cc:dd:ee:01", "192.168.1.1", mapped("192.168.1.2"))
    f = flow_extract(arp)
    assert (f["dl_dst"], f["dl_src"], f["nw_proto"], f["nw_src"], f["nw_dst"],
            f["arp_tha"]) == (0xFFFFFFFFFFFF, 0xAABBCCDDEE01, 1, 0xC0A80101, 0xC0A80102, 0)
    assert len(arp) == 42
    ns = N.build_neigh_request("aa:bb:cc:dd:ee:01", "2001:db8::1", "2001:db8::2")
    f = flow_extract(ns)
    assert f["tp_src"] == 135 and f["nd_target"] == mapped("2001:db8::2")
    assert f["dl_dst"] == 0x3333FF000002 and f["arp_sha"] == 0xAABBCCDDEE01


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=0, max_size=3))
def test_fuzz_commands(args):
    c = N.NeighCache()
    for kind in ("set", "aging"):
        if kind == "set" and len(args) != 3:
            continue
        err, out = N.HANDLERS[kind](c, args[:1] if kind == "aging" else args, 0.0)
        assert (err is None) != (out is None)


def test_miss_frames_bytes_like_ovs():
    # Frames Debian's ovs-vswitchd 3.1 sent out of br0 (MAC aa:55:aa:55:00:01,
    # 192.168.10.1, 2001:db8::1) for tunnels to 192.168.10.2 and 2001:db8::2
    # with an empty neighbor cache (captured on the underlay veth).
    arp = ("ffffffffffffaa55aa55000108060001080006040001aa55aa550001c0a80a01"
           "000000000000c0a80a02")
    ns = ("3333ff000002aa55aa55000186dd6000000000203aff20010db8000000000000"
          "000000000001ff0200000000000000000001ff0000028700c97b000000002001"
          "0db80000000000000000000000020101aa55aa550001")
    assert N.build_neigh_request("aa:55:aa:55:00:01", mapped("192.168.10.1"),
                                 mapped("192.168.10.2")).hex() == arp
    assert N.build_neigh_request("aa:55:aa:55:00:01", "2001:db8::1",
                                 mapped("2001:db8::2")).hex() == ns
