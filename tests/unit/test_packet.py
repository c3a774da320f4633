"""pyovs.packet: checksums, builders and flow extraction (pure, no processes)."""

import socket
import struct

from hypothesis import given, settings, strategies as st

from pyovs.openflow.fields import STORAGE
from pyovs.packet import build as b
from pyovs.packet import headers as h
from pyovs.packet.csum import csum, csum_add, csum_finish, recalc_csum16, recalc_csum32
from pyovs.packet.flow import flow_extract

M1, M2 = "50:54:00:00:00:01", "50:54:00:00:00:02"
EXTRA_MEMBERS = {"vlan_tpid": 16, "vlan_tpid2": 16, "vlan_tci2": 16, "mpls_lse1": 32,
                 "mpls_lse2": 32, "tun_tp_src": 16, "tun_tp_dst": 16}


def mac_int(text):
    return int(text.replace(":", ""), 16)


def ip_int(text):
    return int.from_bytes(socket.inet_aton(text), "big")


def ip6_int(text):
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


def _naive_csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


@given(st.binary(max_size=200))
@settings(max_examples=60)
def test_csum_matches_the_rfc1071_definition(data):
    assert csum(data) == _naive_csum(data)


@given(st.binary(min_size=20, max_size=20), st.integers(0, 9), st.integers(0, 0xffff))
@settings(max_examples=60)
def test_incremental_update_equals_recomputing(header, word, new):
    header = bytearray(header)
    struct.pack_into("!H", header, 10, 0)
    struct.pack_into("!H", header, 10, csum(header))
    if word == 5:       # the checksum field itself
        return
    old = struct.unpack_from("!H", header, word * 2)[0]
    updated = recalc_csum16(struct.unpack_from("!H", header, 10)[0], old, new)
    struct.pack_into("!H", header, word * 2, new)
    struct.pack_into("!H", header, 10, 0)
    assert updated == csum(header) or {updated, csum(header)} == {0, 0xffff}


def test_recalc_csum32_on_an_address_change():
    ip = bytearray(b.ipv4("10.0.0.1", "10.0.0.2", 17))
    old_csum = struct.unpack_from("!H", ip, 10)[0]
    new = b.ipv4("10.9.8.7", "10.0.0.2", 17)
    assert recalc_csum32(old_csum, ip_int("10.0.0.1"), ip_int("10.9.8.7")) == \
        struct.unpack_from("!H", new, 10)[0]


def test_built_headers_have_valid_checksums():
    ip = b.ipv4("10.0.0.1", "10.0.0.2", 6, b"x" * 7)
    assert csum(ip[:20]) == 0
    for src, dst in (("10.0.0.1", "10.0.0.2"), ("2001::1", "2001::2")):
        seg = b.udp(src, dst, 1, 2, b"hello")
        pseudo = b._pseudo(src, dst, h.IPPROTO_UDP, len(seg))
        assert csum_finish(csum_add(seg, csum_add(pseudo))) == 0
        seg = b.tcp(src, dst, 1, 2, payload=b"abc")
        pseudo = b._pseudo(src, dst, h.IPPROTO_TCP, len(seg))
        assert csum_finish(csum_add(seg, csum_add(pseudo))) == 0
    assert csum(b.icmp(8, 0, 1, 2, b"ping")) == 0


def test_extract_icmp():
    pkt = b.icmp_packet(M1, M2, "10.0.0.1", "10.0.0.2", icmp_type=8, code=0, ttl=17)
    offsets = []
    flow = flow_extract(pkt, in_port=3, offsets=offsets)
    assert flow == {"in_port": 3, "dl_dst": mac_int(M2), "dl_src": mac_int(M1),
                    "dl_type": h.ETH_TYPE_IP, "nw_src": ip_int("10.0.0.1"),
                    "nw_dst": ip_int("10.0.0.2"), "nw_proto": h.IPPROTO_ICMP, "nw_tos": 0,
                    "nw_ttl": 17, "nw_frag": 0, "tp_src": 8, "tp_dst": 0}
    assert offsets == [h.ETH_HEADER_LEN, h.ETH_HEADER_LEN + h.IP_HEADER_LEN]


def test_extract_tcp_in_vlans():
    pkt = b.tcp_packet(M1, M2, "10.0.0.1", "10.0.0.2", 1234, 80, flags=h.TCP_SYN | h.TCP_ACK,
                       vlans=[(h.ETH_TYPE_VLAN_8021AD, 5), (h.ETH_TYPE_VLAN_8021Q, 0x2007)])
    flow = flow_extract(pkt)
    assert flow["vlan_tpid"] == h.ETH_TYPE_VLAN_8021AD
    assert flow["vlan_tci"] == 5 | h.VLAN_CFI
    assert flow["vlan_tpid2"] == h.ETH_TYPE_VLAN_8021Q
    assert flow["vlan_tci2"] == 0x2007 | h.VLAN_CFI
    assert (flow["dl_type"], flow["tp_src"], flow["tp_dst"]) == (h.ETH_TYPE_IP, 1234, 80)
    assert flow["tcp_flags"] == h.TCP_SYN | h.TCP_ACK


def test_extract_ipv6_udp_and_nd():
    flow = flow_extract(b.udp_packet(M1, M2, "2001::1", "2001::2", 5, 53, tclass=0x12,
                                     label=0x12345, hlimit=9))
    assert (flow["ipv6_src"], flow["ipv6_dst"]) == (ip6_int("2001::1"), ip6_int("2001::2"))
    assert (flow["ipv6_label"], flow["nw_tos"], flow["nw_ttl"]) == (0x12345, 0x12, 9)
    assert (flow["nw_proto"], flow["tp_src"], flow["tp_dst"]) == (h.IPPROTO_UDP, 5, 53)
    flow = flow_extract(b.nd_ns_packet(M1, "2001::1", "2001::7"))
    assert flow["tp_src"] == h.ND_NEIGHBOR_SOLICIT
    assert flow["nd_target"] == ip6_int("2001::7")
    assert (flow["arp_sha"], flow["arp_tha"]) == (mac_int(M1), 0)


def test_extract_arp():
    flow = flow_extract(b.arp_packet(h.ARP_OP_REPLY, M1, "10.0.0.1", M2, "10.0.0.2"))
    assert (flow["nw_src"], flow["nw_dst"], flow["nw_proto"]) == (
        ip_int("10.0.0.1"), ip_int("10.0.0.2"), h.ARP_OP_REPLY)
    assert (flow["arp_sha"], flow["arp_tha"]) == (mac_int(M1), mac_int(M2))


def test_fragments():
    later = b.eth(M2, M1, h.ETH_TYPE_IP,
                  b.ipv4("1.1.1.1", "2.2.2.2", 17, bytes(16), frag_off=0x2003))
    flow = flow_extract(later)
    assert flow["nw_frag"] == h.FLOW_NW_FRAG_ANY | h.FLOW_NW_FRAG_LATER
    assert "tp_src" not in flow
    first = b.eth(M2, M1, h.ETH_TYPE_IP, b.ipv4(
        "1.1.1.1", "2.2.2.2", 17, b.udp("1.1.1.1", "2.2.2.2", 7, 8), frag_off=0x2000))
    flow = flow_extract(first)
    assert (flow["nw_frag"], flow["tp_src"], flow["tp_dst"]) == (h.FLOW_NW_FRAG_ANY, 7, 8)
    v6_later = b.eth(M2, M1, h.ETH_TYPE_IPV6, b.ipv6(
        "2001::1", "2001::2", h.IPPROTO_FRAGMENT, b"\x11\x00\x00\x09\x00\x00\x00\x07" + bytes(16)))
    flow = flow_extract(v6_later)
    assert (flow["nw_proto"], flow["nw_frag"]) == (h.IPPROTO_FRAGMENT, 3)


def test_ethernet_padding_is_not_payload():
    # A 60-byte minimum frame around a 28-byte datagram whose ICMP header is
    # 4 bytes short: the padding must not be read as the rest of it.
    pkt = b.eth(M2, M1, h.ETH_TYPE_IP, b.ipv4("1.1.1.1", "2.2.2.2", 1, b"\x08\x00\x00\x00"))
    flow = flow_extract(pkt + bytes(60 - len(pkt)))
    assert flow["nw_proto"] == 1 and "tp_src" not in flow


def test_llc_and_snap():
    assert flow_extract(b.eth(M2, M1, 50, b"\x42\x42\x03" + bytes(47)))["dl_type"] == \
        h.FLOW_DL_TYPE_NONE
    snap = b.eth(M2, M1, 50, b"\xaa\xaa\x03\x00\x00\x00\x08\x06"
                 + b.arp_packet(1, M1, "1.1.1.1", M2, "2.2.2.2")[14:])
    flow = flow_extract(snap)
    assert flow["dl_type"] == h.ETH_TYPE_ARP and flow["nw_dst"] == ip_int("2.2.2.2")


def _check_members(flow):
    for member, value in flow.items():
        width = STORAGE.get(member) or EXTRA_MEMBERS[member]
        assert isinstance(value, int) and 0 <= value < 1 << width, member


SAMPLES = [
    b.icmp_packet(M1, M2, "10.0.0.1", "10.0.0.2"),
    b.tcp_packet(M1, M2, "10.0.0.1", "10.0.0.2", 1, 2, vlans=[(0x8100, 7)]),
    b.udp_packet(M1, M2, "2001::1", "2001::2", 1, 2),
    b.arp_packet(1, M1, "10.0.0.1", M2, "10.0.0.2"),
    b.nd_ns_packet(M1, "2001::1", "2001::2"),
]


def test_every_truncation_gives_a_partial_flow():
    for pkt in SAMPLES:
        full = flow_extract(pkt, 1)
        for n in range(len(pkt)):
            flow = flow_extract(pkt[:n], 1)
            _check_members(flow)
            # a truncated packet never shows a value the whole one does not
            # (but a cut-short VLAN tag's TPID is reported as dl_type, as OVS does)
            for member, value in flow.items():
                if member in full:
                    assert value == full[member] or member in ("nw_proto", "dl_type"), \
                        (n, member)
            if "vlan_tci" in full and "vlan_tci" not in flow and n >= 14:
                assert flow["dl_type"] == full["vlan_tpid"]


@given(st.binary(max_size=120), st.sampled_from(SAMPLES), st.integers(0, 100))
@settings(max_examples=150)
def test_garbage_never_raises(noise, base, cut):
    _check_members(flow_extract(noise))
    mixed = bytearray(base)
    mixed[cut % len(mixed):cut % len(mixed) + len(noise)] = noise
    _check_members(flow_extract(bytes(mixed), 7, offsets=[]))
    _check_members(flow_extract(memoryview(bytes(mixed))))


def test_compose_then_extract_gives_the_flow_back():
    for pkt in SAMPLES + [b.eth(M2, M1, h.ETH_TYPE_IP, b.ipv4("1.1.1.1", "2.2.2.2", 17, bytes(16),
                                                             frag_off=0x2003))]:
        flow = flow_extract(pkt, 1)
        composed = b.flow_compose(flow)
        assert flow_extract(composed, 1) == flow


def test_compose_payload():
    flow = {"dl_type": h.ETH_TYPE_IP, "nw_proto": h.IPPROTO_UDP, "nw_ttl": 9}
    assert b.flow_compose(flow, l7_len=5).endswith(bytes(range(5)))
    assert b.flow_compose(flow, l7=b"xyz").endswith(b"xyz")
    syn = dict(flow, nw_proto=h.IPPROTO_TCP, tcp_flags=h.TCP_SYN)
    assert len(b.flow_compose(syn)) == h.ETH_HEADER_LEN + h.IP_HEADER_LEN + h.TCP_HEADER_LEN


def test_compose_to_a_length():
    flow = flow_extract(SAMPLES[2], 1)          # UDP over IPv6
    pkt = b.flow_compose(flow, packet_len=100)
    assert len(pkt) == 100 and flow_extract(pkt, 1) == flow
    assert b.flow_compose(flow, packet_len=20) is None
    arp = flow_extract(SAMPLES[3], 1)
    assert b.flow_compose(arp, packet_len=60) == b.flow_compose(arp) + bytes(18)
