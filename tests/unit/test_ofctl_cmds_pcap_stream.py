"""pcap_stream: OVS's tcp_reader rules for OpenFlow in a capture."""

import io

from pyovs.netdev.pcap import PcapWriter
from pyovs.openflow import messages as M
from pyovs.openflow.pcap_stream import parse_pcap
from pyovs.packet import build, headers as h

CLI, SRV = ("10.0.0.1", 40000), ("10.0.0.2", 6653)


def _seg(src, dst, flags, seq, payload=b"", ip_src=None):
    seg = build.tcp(src[0], dst[0], src[1], dst[1], flags, payload, seq=seq)
    return build.eth("00:00:00:00:00:02", "00:00:00:00:00:01", h.ETH_TYPE_IP,
                     build.ipv4(src[0], dst[0], h.IPPROTO_TCP, seg))


def _pcap(frames):
    f = io.BytesIO()
    w = PcapWriter(f)
    for i, frame in enumerate(frames):
        w.write(frame, ts=1000 + i)
    f.seek(0)
    return f


def _msgs(frames, ports=()):
    return [m for _t, _f, m in parse_pcap(_pcap(frames), ports)]


ECHO = [M.encode_simple(M.OFP10, 2, xid) for xid in range(1, 4)]   # echo requests
PSH = h.TCP_ACK | h.TCP_PSH


def test_messages_across_segments_and_retransmissions():
    data = b"".join(ECHO)
    frames = [_seg(CLI, SRV, h.TCP_SYN, 99)]
    seq = 100
    for i in range(0, len(data), 5):
        frames.append(_seg(CLI, SRV, PSH, seq, data[i:i + 5]))
        frames.append(_seg(CLI, SRV, PSH, seq, data[i:i + 5]))   # retransmitted
        seq += len(data[i:i + 5])
    assert _msgs(frames) == ECHO


def test_no_syn_out_of_order_fin_and_other_ports():
    frames = [_seg(CLI, SRV, PSH, 100, ECHO[0]),                  # no SYN: a start
              _seg(CLI, SRV, PSH, 200, ECHO[1]),                  # a gap: dropped
              _seg(CLI, SRV, h.TCP_FIN | h.TCP_ACK, 999, ECHO[1]),  # ends it
              _seg(CLI, SRV, PSH, 108, ECHO[2]),                  # a new start
              _seg(CLI, ("10.0.0.2", 80), PSH, 1, ECHO[1])]
    assert _msgs(frames) == [ECHO[0], ECHO[2]]
    assert _msgs(frames, [80]) == [ECHO[1]]


def test_syn_restarts_and_bad_length_stops_the_stream():
    bad = b"\x01\x02\x00\x04\x00\x00\x00\x00"          # length 4 < header
    frames = [_seg(CLI, SRV, h.TCP_SYN, 0),
              _seg(CLI, SRV, PSH, 1, ECHO[0][:4]),
              _seg(CLI, SRV, h.TCP_SYN, 500),               # restart: buffer cleared
              _seg(CLI, SRV, PSH, 501, ECHO[1] + bad),
              _seg(CLI, SRV, PSH, 501 + 16, ECHO[2])]
    assert _msgs(frames) == [ECHO[1]]


# --- bad input is normal input ------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from pyovs.netdev.pcap import PcapError  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([h.TCP_SYN, PSH, h.TCP_FIN, h.TCP_RST]),
                          st.integers(0, 300), st.binary(max_size=40)), max_size=12))
def test_fuzz_segments(segs):
    """Any sequence of segments: messages come out whole, each a prefix-
    consistent OpenFlow header, never more bytes than went in."""
    frames = [_seg(CLI, SRV, flags, seq, data) for flags, seq, data in segs]
    total = sum(len(d) for _f, _s, d in segs)
    out = _msgs(frames)
    assert sum(len(m) for m in out) <= total
    for m in out:
        assert len(m) >= 8 and int.from_bytes(m[2:4], "big") == len(m)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_pcap_bytes(blob):
    """A garbled capture file raises PcapError or yields whole messages."""
    good = _pcap([_seg(CLI, SRV, h.TCP_SYN, 0), _seg(CLI, SRV, PSH, 1, ECHO[0])]).read()
    for data in (blob, good[:24] + blob, good + blob):
        try:
            for _t, _f, m in parse_pcap(io.BytesIO(data)):
                assert len(m) >= 8
        except PcapError:
            pass
