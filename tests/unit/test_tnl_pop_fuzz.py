"""tnl/pop.py against scapy: valid VXLAN, GRE and Geneve packets built by
scapy (IPv4/IPv6 outer header, keys, UDP and GRE checksums, Geneve
options) pop to scapy's own field values and inner packet; mutated
(truncated, bytes overwritten, bytes inserted) they never raise, and the
datapath's inline fast path (dpif/netdev.py) never disagrees with the
general parser."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyovs.dpif.netdev import _pop_fast, _tunnel_md
from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_KEY
from pyovs.tnl.pop import PT_ETH, pop_header

scapy_l2 = pytest.importorskip("scapy.layers.l2")
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402
from scapy.packet import Raw  # noqa: E402

Ether, GRE = scapy_l2.Ether, scapy_l2.GRE

INNER = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
              / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(b"x" * 18))


@st.composite
def tunnel_packets(draw):
    """(tnl_type, packet bytes, what pop_header must find)."""
    tnl_type = draw(st.sampled_from(["vxlan", "gre", "geneve"]))
    v6 = draw(st.booleans())
    tos, ttl = draw(st.integers(0, 255)), draw(st.integers(1, 255))
    key = draw(st.integers(0, (1 << 24) - 1))
    outer = Ether(src="00:11:22:33:44:55", dst="aa:55:aa:55:00:01") / (
        IPv6(src="2001:db8::1", dst="2001:db8::2", tc=tos, hlim=ttl) if v6 else
        IP(src="192.168.10.1", dst="192.168.10.2", tos=tos, ttl=ttl))
    want = {"tos": tos, "ttl": ttl, "flags": 0}
    if tnl_type == "gre":
        has_key, has_csum = draw(st.booleans()), draw(st.booleans())
        gre = GRE(proto=0x6558, key_present=int(has_key), chksum_present=int(has_csum))
        if has_key:
            gre.key = key = draw(st.integers(0, (1 << 32) - 1))
            want.update(tun_id=key, flags=TNL_F_KEY)
        if has_csum:
            want["flags"] |= TNL_F_CSUM
        pkt = outer / gre
    else:
        udp_csum = draw(st.booleans())
        sport = draw(st.integers(1, 65535))
        if tnl_type == "vxlan":
            pkt = outer / UDP(sport=sport, dport=4789) / VXLAN(flags=0x08, vni=key)
        else:
            opts = draw(st.lists(st.tuples(st.integers(0, 0xffff), st.integers(0, 255),
                                           st.binary(max_size=12).map(
                                               lambda b: b + b"\0" * (-len(b) % 4))),
                                 max_size=3))
            pkt = outer / UDP(sport=sport, dport=6081) / GENEVE(
                vni=key, proto=0x6558,
                options=[GeneveOptions(classid=c, type=t, length=len(d) // 4, data=d)
                         for c, t, d in opts])
            if opts:
                want["geneve"] = [tuple(o) for o in opts]
        want.update(tun_id=key, tp_src=sport, flags=TNL_F_KEY)
        if v6 or udp_csum:                  # (IPv6 always has one)
            want["flags"] |= TNL_F_CSUM
        else:
            pkt[UDP].chksum = 0
    return tnl_type, bytes(pkt / Raw(INNER)), want


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tunnel_packets())
def test_valid_packets_pop_to_scapys_fields(case):
    tnl_type, data, want = case
    p, err = pop_header(data, tnl_type)
    assert err is None, err
    assert data[p.inner_ofs:] == INNER and p.packet_type == PT_ETH
    for k, v in want.items():
        assert p.md.get(k) == v, (k, p.md)
    _fast_agrees(data, tnl_type)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tunnel_packets(), st.data())
def test_mutated_packets_never_raise(case, data_st):
    tnl_type, data, _want = case
    b = bytearray(data)
    for _ in range(data_st.draw(st.integers(1, 3))):
        how = data_st.draw(st.sampled_from(["cut", "set", "insert"]))
        pos = data_st.draw(st.integers(0, max(0, len(b) - 1)))
        if how == "cut":
            del b[pos:]
        elif how == "set" and b:
            b[pos] = data_st.draw(st.integers(0, 255))
        else:
            b[pos:pos] = data_st.draw(st.binary(min_size=1, max_size=8))
    p, err = pop_header(bytes(b), tnl_type)
    assert (p is None) != (err is None)
    if p is not None:
        assert 14 <= p.inner_ofs <= len(b)
    _fast_agrees(bytes(b), tnl_type)


def _fast_agrees(data, tnl_type):
    """The datapath's inline fast path, where it answers, gives what the
    general parser gives."""
    fast = _pop_fast(data, tnl_type)
    if fast is None:
        return
    p, err = pop_header(data, tnl_type)
    assert err is None, err
    assert fast == (_tunnel_md(p.md), p.inner_ofs)
