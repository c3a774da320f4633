"""receive()'s batch shortcut: two frames with the same _flow_bytes must
have the same flow (flow_extract), whatever their other bytes; frames the
shortcut does not understand get None."""

from hypothesis import given, settings, strategies as st

from pyovs.dpif.netdev import _flow_bytes
from pyovs.packet import build
from pyovs.packet.flow import flow_extract

# Bytes of an IPv4 TCP/UDP frame outside what _flow_bytes keeps: the IP id
# and checksum, the L4 fields after the ports (but TCP's flags word), the
# payload.
_FREE_UDP = [18, 19, 24, 25] + list(range(38, 60))
_FREE_TCP = [18, 19, 24, 25] + [i for i in range(38, 60) if i not in (46, 47)]


@settings(max_examples=150, deadline=None)
@given(tcp=st.booleans(), sport=st.integers(0, 65535), dport=st.integers(0, 65535),
       flags=st.integers(0, 0xfff), tos=st.integers(0, 255), ttl=st.integers(1, 255),
       payload=st.binary(min_size=6, max_size=40), noise=st.binary(min_size=30, max_size=30),
       in_port=st.integers(1, 5))
def test_same_flow_bytes_same_flow(tcp, sport, dport, flags, tos, ttl, payload, noise,
                                   in_port):
    args = ("00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", sport, dport)
    if tcp:
        a = build.tcp_packet(*args, flags=flags, payload=payload, tos=tos, ttl=ttl)
    else:
        a = build.udp_packet(*args, payload=payload, tos=tos, ttl=ttl)
    b = bytearray(a)
    for i, x in zip(_FREE_TCP if tcp else _FREE_UDP, noise):
        if i < len(b):
            b[i] = x
    fa, fb = _flow_bytes(a), _flow_bytes(bytes(b))
    if fa is None:
        return
    assert fa == fb
    assert flow_extract(a, in_port) == flow_extract(bytes(b), in_port)


@st.composite
def frames(draw):
    args = ("00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2",
            draw(st.integers(0, 65535)), draw(st.integers(0, 65535)))
    payload = draw(st.binary(min_size=20, max_size=40))  # (>= 54-byte frames)
    if draw(st.booleans()):
        return build.tcp_packet(*args, flags=draw(st.integers(0, 0xfff)), payload=payload)
    return build.udp_packet(*args, payload=payload)


@settings(max_examples=60, deadline=None)
@given(frames(), st.integers(1, 5), st.integers(1, 255))
def test_any_byte_outside_flow_bytes_leaves_the_flow(data, in_port, xor):
    """Changing any one byte that _flow_bytes does not keep (so the key
    stays equal) leaves flow_extract's answer unchanged."""
    k = _flow_bytes(data)
    assert k is not None        # plain IPv4 TCP/UDP: the shortcut applies
    for i in range(len(data)):
        mutated = bytearray(data)
        mutated[i] ^= xor
        if _flow_bytes(bytes(mutated)) == k:
            assert flow_extract(bytes(mutated), in_port) == flow_extract(data, in_port), i
