"""tnl_push outer headers: the bytes behind the real switch's trace texts."""
import pytest

from pyovs.odp.actions import tnl_header_format, tnl_header_parse
from pyovs.tnl.header import build_header

MAC_NH, MAC_BR = "00:11:22:33:44:55", "aa:55:aa:55:00:01"

# header(...) texts from Debian's ovs-vswitchd 3.1 (ofproto/trace, datapath
# actions of a flow output to each tunnel port; see the module docstring).
CASES = [
    (dict(tnl_type="vxlan", ip_src="192.168.10.1", ip_dst="192.168.10.2"),
     "header(size=50,type=4,eth(dst=00:11:22:33:44:55,src=aa:55:aa:55:00:01,dl_type=0x0800),"
     "ipv4(src=192.168.10.1,dst=192.168.10.2,proto=17,tos=0,ttl=64,frag=0x4000),"
     "udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x0))"),
    (dict(tnl_type="geneve", ip_src="192.168.10.1", ip_dst="192.168.10.2", key=77, csum=True),
     "header(size=50,type=5,eth(dst=00:11:22:33:44:55,src=aa:55:aa:55:00:01,dl_type=0x0800),"
     "ipv4(src=192.168.10.1,dst=192.168.10.2,proto=17,tos=0,ttl=64,frag=0x4000),"
     "udp(src=0,dst=6081,csum=0xffff),geneve(vni=0x4d))"),
    (dict(tnl_type="gre", ip_src="192.168.10.1", ip_dst="192.168.10.2", key=0x55),
     "header(size=42,type=3,eth(dst=00:11:22:33:44:55,src=aa:55:aa:55:00:01,dl_type=0x0800),"
     "ipv4(src=192.168.10.1,dst=192.168.10.2,proto=47,tos=0,ttl=64,frag=0x4000),"
     "gre((flags=0x2000,proto=0x6558),key=0x55))"),
    (dict(tnl_type="vxlan", ip_src="2001:db8::1", ip_dst="2001:db8::2",
          eth_dst="00:11:22:33:44:66"),
     "header(size=70,type=4,eth(dst=00:11:22:33:44:66,src=aa:55:aa:55:00:01,dl_type=0x86dd),"
     "ipv6(src=2001:db8::1,dst=2001:db8::2,label=0,proto=17,tclass=0x0,hlimit=64),"
     "udp(src=0,dst=4789,csum=0xffff),vxlan(flags=0x8000000,vni=0x0))"),
]


@pytest.mark.parametrize("kw,text", CASES)
def test_header_like_ovs(kw, text):
    kw = dict(kw)
    kw.setdefault("eth_dst", MAC_NH)
    htype, data = build_header(eth_src=MAC_BR, **kw)
    assert tnl_header_format(htype, data) == text
    assert (htype, data) == tnl_header_parse(text)


def test_options():
    htype, data = build_header("gre", MAC_NH, MAC_BR, "10.0.0.1", "10.0.0.2",
                               key=0, csum=True, tos=0x10, ttl=9, df=False)
    text = tnl_header_format(htype, data)
    assert "gre((flags=0xa000,proto=0x6558),csum=0x0,key=0x0)" in text
    assert "tos=0x10,ttl=9,frag=0x0" in text
    htype, data = build_header("geneve", MAC_NH, MAC_BR, "10.0.0.1", "10.0.0.2",
                               key=1, dst_port=7000,
                               geneve_opts=bytes.fromhex("ffff0101deadbeef"))
    assert "udp(src=0,dst=7000,csum=0x0),geneve(vni=0x1,options({class=0xffff,type=0x1,len=4,0xdeadbeef}))" \
        in tnl_header_format(htype, data)
    assert tnl_header_parse(tnl_header_format(htype, data)) == (htype, data)
    with pytest.raises(ValueError):
        build_header("lisp", MAC_NH, MAC_BR, "10.0.0.1", "10.0.0.2")
    with pytest.raises(ValueError):
        build_header("vxlan", MAC_NH, MAC_BR, "10.0.0.1", "2001::2")


def test_egress_port_range_like_ovs():
    from pyovs.tnl.header import EgressPortRange
    e = EgressPortRange()
    # Replies of Debian's ovs-vswitchd 3.1, in this order.
    for args, reply in ((["x"], "Tunnel UDP source port range: 32768-61000\n"),
                        (["2000", "1000"], "OK"),
                        ([], "Tunnel UDP source port range: 1000-2000\n"),
                        (["x", "5"], "Invalid min."),
                        (["0", "70000"], "Invalid min."),
                        (["5", "70000"], "Invalid max."),
                        (["5", "5"], "OK")):
        assert e.command(args) == reply, args
    e = EgressPortRange()
    ports = {e.src_port(h) for h in (0, 1, 2**31, 2**32 - 1, 123456789)}
    assert min(ports) == 32768 and all(32768 <= p < 61000 for p in ports)
