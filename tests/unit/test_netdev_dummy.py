"""netdev base, dummy, patch and pcap: pure, in-memory."""

import io
import os
import select
import struct

import pytest
from hypothesis import given, settings, strategies as st

from pyovs import netdev
from pyovs.netdev import base, dummy, pcap

ETH = bytes.fromhex("ffffffffffff" "aa55aa550001" "0800")


def frame(n=60, fill=0):
    return ETH + bytes([fill]) * (n - len(ETH))


@pytest.fixture
def dev(request):
    opened = []

    def make(name=None, type="dummy", options=None):
        name = name or "pa-d%d-%d" % (os.getpid(), len(opened))
        d = netdev.open(name, type, options)
        opened.append(d)
        return d
    yield make
    for d in opened:
        while not d.closed:
            d.close()


def test_registry_knows_every_type():
    assert {"system", "internal", "dummy", "patch"} <= set(netdev.provider_types())


def test_unknown_type_error_text():
    with pytest.raises(netdev.NetdevError) as e:
        netdev.open("x0", "nosuchtype")
    # The Interface error column's text; the log line names the type.
    assert str(e.value) == ("could not open network device x0 "
                            "(Address family not supported by protocol)")


def test_missing_system_device_error_text():
    with pytest.raises(netdev.NetdevError) as e:
        netdev.open("pa-nosuch0", "system")
    assert str(e.value) == "could not open network device pa-nosuch0 (No such device)"
    assert e.value.errno == 19


def test_open_twice_shares_and_counts_references(dev):
    a = dev()
    b = netdev.open(a.name, "dummy")
    assert a is b and netdev.lookup(a.name) is a
    a.close()
    assert not a.closed and netdev.lookup(a.name) is a
    a.close()
    assert a.closed and netdev.lookup(a.name) is None


def test_open_with_other_type_refused(dev):
    a = dev()
    with pytest.raises(netdev.NetdevError):
        netdev.open(a.name, "patch", {"peer": "x"})


def test_dummy_macs_count_up_from_aa55aa55(dev):
    a, b = dev(), dev()
    ma, mb = a.get_etheraddr(), b.get_etheraddr()
    assert ma[:2] == b"\xaa\x55" and mb[:2] == b"\xaa\x55"
    assert int.from_bytes(mb[2:], "big") == int.from_bytes(ma[2:], "big") + 1
    a.set_etheraddr("02:00:00:00:00:07")
    assert netdev.mac_to_str(a.get_etheraddr()) == "02:00:00:00:00:07"


def test_dummy_receive_then_rx_batch_and_stats(dev):
    d = dev()
    frames = [frame(60 + i, i) for i in range(5)]
    for f in frames:
        assert d.receive(f)
    got = d.rx_batch(3) + d.rx_batch(32)
    assert [p.data for p in got] == frames
    assert d.rx_batch() == []
    s = d.get_stats()
    assert (s.rx_packets, s.rx_bytes) == (5, sum(map(len, frames)))
    assert s.interface_statistics() == {   # the keys real OVS writes for a dummy
        "rx_packets": 5, "rx_bytes": sum(map(len, frames)), "tx_packets": 0, "tx_bytes": 0}


def test_dummy_fileno_readable_only_while_queue_not_empty(dev):
    d = dev()

    def readable():
        return bool(select.select([d.fileno()], [], [], 0)[0])
    assert not readable()
    d.receive(frame())
    d.receive(frame())
    assert readable()
    d.rx_batch(1)
    assert readable()
    d.rx_batch(1)
    assert not readable()


def test_dummy_queue_is_bounded(dev):
    d = dev()
    results = [d.receive(frame()) for _ in range(dummy.NETDEV_DUMMY_MAX_QUEUE + 7)]
    assert results.count(False) == 7
    assert len(d.rx_batch(1000)) == dummy.NETDEV_DUMMY_MAX_QUEUE
    assert d.rx_dropped == 7


def test_dummy_tx_and_rxq_pcap(dev, tmp_path):
    tx, rxq = tmp_path / "tx.pcap", tmp_path / "rxq.pcap"
    d = dev(options={"tx_pcap": str(tx), "rxq_pcap": str(rxq)})
    sent = [frame(64, 1), frame(100, 2)]
    d.send_batch(sent + [netdev.Packet(frame(70, 3))])
    d.receive(frame(80, 4))
    assert pcap.read_pcap(tx) == sent + [frame(70, 3)]
    assert pcap.read_pcap(rxq) == [frame(80, 4)]
    s = d.get_stats()
    assert (s.tx_packets, s.tx_bytes) == (3, 64 + 100 + 70)


def test_dummy_same_file_for_tx_and_rxq(dev, tmp_path):
    both = tmp_path / "both.pcap"
    d = dev(options={"tx_pcap": str(both), "rxq_pcap": str(both)})
    d.receive(frame(61))
    d.send_batch([frame(62)])
    assert [len(p) for p in pcap.read_pcap(both)] == [61, 62]


def test_dummy_tx_checks_length_and_mtu(dev, tmp_path):
    tx = tmp_path / "tx.pcap"
    d = dev(options={"tx_pcap": str(tx)})
    d.set_mtu(100)
    vlan = ETH[:12] + b"\x81\x00\x00\x0a" + b"\x08\x00" + bytes(100)
    d.send_batch([b"short", frame(114), frame(115), vlan])
    assert [len(p) for p in pcap.read_pcap(tx)] == [114, 118]
    assert (d.tx_errors, d.tx_dropped, d.get_stats().tx_packets) == (1, 1, 2)


def test_dummy_mtu_limits(dev):
    d = dev()
    assert d.get_mtu() == 1500
    d.set_mtu(9000)
    assert d.get_mtu() == 9000
    for bad in (67, 9001):
        with pytest.raises(netdev.NetdevError) as e:
            d.set_mtu(bad)
        assert str(e.value) == ("failed to set MTU for network device %s: "
                                "Invalid argument" % d.name)
    assert d.get_mtu() == 9000


def test_dummy_admin_state_and_ifindex(dev):
    d = dev()
    with pytest.raises(netdev.NetdevError):
        d.get_ifindex()
    d.set_config({"ifindex": "42"})
    assert d.get_ifindex() == 42
    assert d.get_admin_state() and d.get_carrier()
    d.set_admin_state(False)
    assert not d.get_admin_state() and not d.get_carrier()


def test_dummy_bad_pcap_path_is_logged_not_fatal(dev, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(base.vlog, "warn", lambda fmt, *a: warnings.append(fmt % a))
    bad = str(tmp_path / "no" / "dir.pcap")
    d = dev(options={"tx_pcap": bad})
    d.send_batch([frame()])
    assert d.get_stats().tx_packets == 1
    assert warnings == ["%s: failed to open pcap file for appending "
                        "(No such file or directory)" % bad]


def test_dummy_pcap_appends(dev, tmp_path):
    path = tmp_path / "tx.pcap"
    d = dev(options={"tx_pcap": str(path)})
    d.send_batch([frame(60, 1)])
    d.close()
    d = dev(options={"tx_pcap": str(path)})
    d.send_batch([frame(61, 2)])
    assert pcap.read_pcap(path) == [frame(60, 1), frame(61, 2)]


def test_patch_needs_a_peer(dev):
    with pytest.raises(netdev.NetdevError) as e:
        dev(name="pa-patch0", type="patch")
    assert str(e.value) == "pa-patch0: patch type requires valid 'peer' argument"
    with pytest.raises(netdev.NetdevError) as e:
        dev(name="pa-patch0", type="patch", options={"peer": "pa-patch0"})
    assert str(e.value) == "pa-patch0: patch peer must not be self"
    with pytest.raises(netdev.NetdevError) as e:
        dev(name="pa-patch0", type="patch", options={"peer": "x", "color": "red"})
    assert str(e.value) == "pa-patch0: patch type takes only a 'peer' argument"
    p = dev(name="pa-patch0", type="patch", options={"peer": "pa-patch1"})
    assert p.peer == "pa-patch1" and p.get_config() == {"peer": "pa-patch1"}
    p.count_tx(2, 120)
    assert p.get_stats().tx_packets == 2


def test_not_configurable_device_warns_about_options(monkeypatch):
    class Plain(base.Netdev):
        TYPE = "plain"
    warnings = []
    monkeypatch.setattr(base.vlog, "warn", lambda fmt, *a: warnings.append(fmt % a))
    d = Plain("pa-plain0")
    d.set_config({})
    assert warnings == []
    d.set_config({"a": "b"})
    assert warnings == ["pa-plain0: arguments provided to device that is not configurable"]
    assert d.get_config() == {}


def test_features_to_bps():
    assert base.features_to_bps(base.NETDEV_F_10GB_FD | base.NETDEV_F_1GB_FD) == 10 ** 10
    assert base.features_to_bps(base.NETDEV_F_100MB_HD) == 10 ** 8
    assert base.features_to_bps(base.NETDEV_F_AUTONEG) == 0


def test_random_mac_is_local_unicast():
    for _ in range(20):
        m = netdev.random_mac()
        assert len(m) == 6 and m[0] & 1 == 0 and m[0] & 2 == 2


@pytest.mark.parametrize("text", ["", "1:2:3:4:5", "01:02:03:04:05:0g", "001:2:3:4:5:6"])
def test_mac_from_str_rejects(text):
    with pytest.raises(ValueError):
        netdev.mac_from_str(text)


def test_vnet_header_roundtrip():
    h = netdev.VirtioNetHdr(1, 1, 66, 1448, 34, 16)
    assert netdev.VirtioNetHdr.unpack(h.pack()) == h and h.is_gso
    p = netdev.Packet(frame(), h.pack())
    assert p.is_gso() and p.offload() == h
    assert not netdev.Packet(frame()).is_gso()


# -- pcap ----------------------------------------------------------------

def test_pcap_header_is_ovs_s(tmp_path):
    path = tmp_path / "x.pcap"
    w = pcap.PcapWriter(str(path))
    w.write(b"abc", ts=12.5)
    w.close()
    raw = path.read_bytes()
    assert struct.unpack("=IHHiIII", raw[:24]) == (0xa1b2c3d4, 2, 4, 0, 0, 1518, 1)
    assert struct.unpack("=IIII", raw[24:40]) == (12, 500000, 3, 3)
    assert raw[40:] == b"abc"


def test_pcap_reads_other_byte_order_and_nanoseconds():
    other = ">" if struct.pack("=I", 1) == struct.pack("<I", 1) else "<"
    raw = struct.pack(other + "IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)
    raw += struct.pack(other + "IIII", 3, 250000000, 2, 2) + b"hi"
    r = pcap.PcapReader(io.BytesIO(raw))
    assert r.swapped
    assert list(r) == [(3.25, b"hi")]


@pytest.mark.parametrize("raw,msg", [
    (b"", "end of file"),
    (b"\xa1\xb2", "truncated"),
    (b"\0" * 24, "bad magic"),
])
def test_pcap_bad_headers(raw, msg):
    with pytest.raises(pcap.PcapError) as e:
        pcap.PcapReader(io.BytesIO(raw))
    assert msg in str(e.value)


def test_pcap_record_too_big():
    raw = struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 1518, 1)
    raw += struct.pack("=IIII", 0, 0, 0x10000, 0x10000)
    with pytest.raises(pcap.PcapError) as e:
        pcap.PcapReader(io.BytesIO(raw)).read()
    assert "too big" in str(e.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=200), max_size=8))
def test_pcap_roundtrip(packets):
    buf = io.BytesIO()
    w = pcap.PcapWriter(buf)
    for p in packets:
        w.write(p)
    assert [d for _, d in pcap.PcapReader(io.BytesIO(buf.getvalue()))] == packets


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120))
def test_pcap_reader_survives_garbage(tail):
    raw = struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 1518, 1) + tail
    try:
        for _, data in pcap.PcapReader(io.BytesIO(raw)):
            assert len(data) <= pcap.MAX_RECORD
    except pcap.PcapError:
        pass


# -- netdev-dummy/* unixctl commands (handlers driven with a recording conn) --

class FakeServer:
    def __init__(self):
        self.commands = {}

    def register(self, name, usage, min_args, max_args, handler):
        self.commands[name] = (usage, min_args, max_args, handler)


class Conn:
    def __init__(self):
        self.replies = []

    def reply(self, text=None):
        self.replies.append(("ok", text))

    def reply_error(self, text=None):
        self.replies.append(("error", text))


def call(server, name, *args):
    usage, lo, hi, handler = server.commands[name]
    assert lo <= len(args) <= hi
    conn = Conn()
    handler(conn, list(args))
    assert len(conn.replies) == 1
    return conn.replies[0]


@pytest.fixture
def appctl_server():
    s = FakeServer()
    dummy.register_unixctl_commands(s)
    return s


def test_unixctl_usages_are_ovs_s(appctl_server):
    assert appctl_server.commands["netdev-dummy/receive"][:2] == (
        "name [--qid queue_id] packet|flow [--len packet_len]", 2)
    assert appctl_server.commands["netdev-dummy/set-admin-state"][:3] == (
        "[netdev] up|down", 1, 2)


def test_unixctl_receive_hex(appctl_server, dev, tmp_path):
    d = dev(options={"rxq_pcap": str(tmp_path / "r.pcap")})
    pkt = frame(60, 9)
    spaced = " ".join("%02x" % b for b in pkt[:20]) + pkt[20:].hex()
    assert call(appctl_server, "netdev-dummy/receive", d.name, pkt.hex(), spaced) == ("ok", None)
    assert [p.data for p in d.rx_batch()] == [pkt, pkt]
    assert pcap.read_pcap(tmp_path / "r.pcap") == [pkt, pkt]
    assert call(appctl_server, "netdev-dummy/receive", d.name, "--qid", "0", pkt.hex()) == ("ok", None)
    assert call(appctl_server, "netdev-dummy/receive", d.name, "--qid", "3",
                pkt.hex()) == ("error", "bad rx queue id.")


def test_unixctl_receive_errors(appctl_server, dev):
    d = dev()
    assert call(appctl_server, "netdev-dummy/receive", "pa-nope", "00") == (
        "error", "no such dummy netdev")
    kind, text = call(appctl_server, "netdev-dummy/receive", d.name, "in_port(1),eth()")
    assert kind == "error" and "not supported" in text
    assert call(appctl_server, "netdev-dummy/receive", d.name, "in_port(1)", "--len", "20") == (
        "error", "too small packet len")
    assert d.rx_batch() == []


def test_unixctl_receive_uses_flow_hook(dev):
    s = FakeServer()
    seen = []

    def flow_to_packet(flow, size):
        seen.append((flow, size))
        return frame(max(size, 60))
    dummy.register_unixctl_commands(s, flow_to_packet)
    d = dev()
    assert call(s, "netdev-dummy/receive", d.name, "eth(x)", "--len", "128") == ("ok", None)
    assert seen == [("eth(x)", 128)] and len(d.rx_batch()[0].data) == 128


def test_unixctl_set_admin_state(appctl_server, dev):
    a, b = dev(), dev()
    assert call(appctl_server, "netdev-dummy/set-admin-state", a.name, "down") == ("ok", "OK")
    assert not a.get_admin_state() and b.get_admin_state()
    assert call(appctl_server, "netdev-dummy/set-admin-state", "DOWN") == ("ok", "OK")
    assert not b.get_admin_state()
    assert call(appctl_server, "netdev-dummy/set-admin-state", "sideways") == (
        "error", "Invalid Admin State")
    assert call(appctl_server, "netdev-dummy/set-admin-state", "pa-nope", "up") == (
        "error", "Unknown Dummy Interface")


@pytest.mark.parametrize("text,msg", [
    ("0011", "Packet data too short for Ethernet"),
    ("00112", "Trailing garbage in packet data"),
    ("zz" * 20, "Trailing garbage in packet data"),
])
def test_eth_from_hex_errors(text, msg):
    with pytest.raises(ValueError) as e:
        dummy.eth_from_hex(text)
    assert str(e.value) == msg


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_eth_from_hex_never_crashes(text):
    try:
        assert len(dummy.eth_from_hex(text)) >= 14
    except ValueError:
        pass
