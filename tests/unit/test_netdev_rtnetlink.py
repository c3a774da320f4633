"""Parsing rtnetlink link announcements (netdev/rtnetlink.py); the real
kernel's are checked in tests/netns/test_netdev_linux.py."""

import struct

from hypothesis import given, settings, strategies as st

from pyovs.netdev import rtnetlink


def attr(kind, value):
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + bytes(-len(raw) % 4)


def link_msg(kind, ifindex, name, flags=0x1043, mtu=1500, mac=b"\x02\0\0\0\0\x01", oper=6):
    body = struct.pack("=BxHiII", 0, 1, ifindex, flags, 0)
    body += attr(rtnetlink.IFLA_IFNAME, name.encode() + b"\0")
    body += attr(rtnetlink.IFLA_MTU, struct.pack("=I", mtu))
    body += attr(rtnetlink.IFLA_ADDRESS, mac)
    body += attr(rtnetlink.IFLA_OPERSTATE, bytes([oper]))
    return struct.pack("=IHHII", 16 + len(body), kind, 0, 0, 0) + body


def test_new_and_del_in_one_datagram():
    data = link_msg(16, 7, "veth0") + link_msg(17, 8, "veth1", flags=0, oper=2)
    a, b = rtnetlink.parse_link_messages(data)
    assert (a.kind, a.ifindex, a.name, a.mtu, a.mac, a.operstate) == (
        "new", 7, "veth0", 1500, b"\x02\0\0\0\0\x01", "up")
    assert a.up and a.running
    assert (b.kind, b.ifindex, b.name, b.operstate, b.up) == ("del", 8, "veth1", "down", False)


def test_other_messages_skipped_and_truncation_stops():
    other = struct.pack("=IHHII", 20, 20, 0, 0, 0) + bytes(4)    # RTM_NEWADDR
    data = other + link_msg(16, 3, "x")
    assert [c.name for c in rtnetlink.parse_link_messages(data)] == ["x"]
    assert rtnetlink.parse_link_messages(data[:-3]) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_crashes(data):
    for change in rtnetlink.parse_link_messages(data):
        assert change.kind in ("new", "del")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([16, 17]), st.integers(1, 2 ** 31 - 1),
                          st.text("abcdefgh0123456789", min_size=1, max_size=15)),
                max_size=5))
def test_roundtrip(msgs):
    data = b"".join(link_msg(k, i, n) for k, i, n in msgs)
    got = rtnetlink.parse_link_messages(data)
    assert [(c.kind, c.ifindex, c.name) for c in got] == [
        ("new" if k == 16 else "del", i, n) for k, i, n in msgs]
