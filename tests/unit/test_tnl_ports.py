"""tnl-ports core: port list, -v entries, classifier lookup."""
from pyovs.packet import build
from pyovs.packet.flow import flow_extract
from pyovs.tnl.tnl_ports import TnlPorts

BR0 = "06:35:67:28:a3:4f"


def table():
    t = TnlPorts()
    t.insert_ipdev("br0", BR0, ["192.168.10.1/24", "2001:db8::1/64"])
    t.insert(2, 4789, "vxlan_sys_4789", "vxlan")
    t.insert(3, 4790, "vxlan_sys_4790", "vxlan")
    t.insert(4, 0, "gre_sys", "gre")
    t.insert(5, 6081, "genev_sys_6081", "geneve")
    t.insert(2, 4789, "vxlan_sys_4789", "vxlan")      # a second vxlan port
    return t


def test_show_like_ovs():
    t = table()
    # Text from Debian's ovs-vswitchd 3.1 with the same ports.
    assert t.show() == ("Listening ports:\n"
                        "vxlan_sys_4789 (2) ref_cnt=2\n"
                        "vxlan_sys_4790 (3) ref_cnt=1\n"
                        "gre_sys (4) ref_cnt=1\n"
                        "genev_sys_6081 (5) ref_cnt=1\n")
    v = t.show(verbose=True).splitlines()
    assert v[0] == "Listening ports:"
    assert sorted(v[1:]) == sorted([
        "vxlan_sys_4789 (2) : eth(dst=06:35:67:28:a3:4f),eth_type(0x0800),ipv4(dst=192.168.10.1,proto=17,frag=no),udp(dst=4789)",
        "vxlan_sys_4790 (3) : eth(dst=06:35:67:28:a3:4f),eth_type(0x0800),ipv4(dst=192.168.10.1,proto=17,frag=no),udp(dst=4790)",
        "genev_sys_6081 (5) : eth(dst=06:35:67:28:a3:4f),eth_type(0x0800),ipv4(dst=192.168.10.1,proto=17,frag=no),udp(dst=6081)",
        "vxlan_sys_4789 (2) : eth(dst=06:35:67:28:a3:4f),eth_type(0x86dd),ipv6(dst=2001:db8::1,proto=17,frag=no),udp(dst=4789)",
        "vxlan_sys_4790 (3) : eth(dst=06:35:67:28:a3:4f),eth_type(0x86dd),ipv6(dst=2001:db8::1,proto=17,frag=no),udp(dst=4790)",
        "genev_sys_6081 (5) : eth(dst=06:35:67:28:a3:4f),eth_type(0x86dd),ipv6(dst=2001:db8::1,proto=17,frag=no),udp(dst=6081)",
        "gre_sys (4) : eth(dst=06:35:67:28:a3:4f),eth_type(0x0800),ipv4(dst=192.168.10.1,proto=47,frag=no)",
        "gre_sys (4) : eth(dst=06:35:67:28:a3:4f),eth_type(0x86dd),ipv6(dst=2001:db8::1,proto=47,frag=no)",
    ])


def test_lookup():
    t = table()
    pkt = lambda dst, dport, **kw: flow_extract(build.udp_packet(
        "00:00:00:00:00:09", kw.get("mac", BR0), "192.168.10.9", dst, 5555, dport,
        vlans=kw.get("vlans", ())))
    assert t.lookup(pkt("192.168.10.1", 4789)) == 2
    assert t.lookup(pkt("192.168.10.1", 6081)) == 5
    assert t.lookup(pkt("192.168.10.1", 4791)) is None
    assert t.lookup(pkt("192.168.10.2", 4789)) is None
    assert t.lookup(pkt("192.168.10.1", 4789, mac="00:00:00:00:00:01")) is None
    assert t.lookup(pkt("192.168.10.1", 4789, vlans=((0x8100, 5),))) is None
    assert t.lookup(flow_extract(build.eth(BR0, "00:00:00:00:00:09", 0x0800, build.ipv4(
        "192.168.10.9", "192.168.10.1", 47, b"\x00\x00\x65\x58")))) == 4
    # Removing the last reference removes the listener.
    t.delete(3, "vxlan")
    assert t.lookup(pkt("192.168.10.1", 4790)) is None
    assert t.delete(2, "vxlan") and t.lookup(pkt("192.168.10.1", 4789)) == 2
    assert t.delete(2, "vxlan") and t.lookup(pkt("192.168.10.1", 4789)) is None
    t.delete_ipdev("br0")
    assert t.lookup(pkt("192.168.10.1", 6081)) is None
    assert t.map == {}
    assert t.show() == "Listening ports:\ngre_sys (4) ref_cnt=1\ngenev_sys_6081 (5) ref_cnt=1\n"


def test_sync_ipdevs_from_routes():
    from pyovs.tnl.ovs_router import Router, mapped
    from pyovs.tnl.tnl_ports import sync_ipdevs
    addrs = {"br0": ["192.168.10.1/24"], "lo": ["127.0.0.1/8"], "d0": ["10.9.0.2/16"]}
    macs = {"br0": BR0, "lo": "00:00:00:00:00:00", "d0": "9a:ad:b7:62:d7:63"}
    r = Router(addrs.get)
    for dev, net, plen in (("br0", "192.168.10.0", 120), ("lo", "127.0.0.0", 104),
                           ("d0", "10.9.0.0", 112)):
        assert r.insert_system(0, mapped(net), plen, False, dev) == 0
    t = TnlPorts()
    t.insert(2, 4789, "vxlan_sys_4789", "vxlan")
    sync_ipdevs(t, r, macs.get, addrs.get)
    assert sorted(t.ipdevs) == ["br0", "d0"]
    assert len(t.show(verbose=True).splitlines()) == 3
    r.flush_system()
    r.insert_system(0, mapped("192.168.10.0"), 120, False, "br0")
    sync_ipdevs(t, r, macs.get, addrs.get)
    assert sorted(t.ipdevs) == ["br0"]
    assert t.show(verbose=True).splitlines()[1:] == [
        "vxlan_sys_4789 (2) : eth(dst=06:35:67:28:a3:4f),eth_type(0x0800),"
        "ipv4(dst=192.168.10.1,proto=17,frag=no),udp(dst=4789)"]
