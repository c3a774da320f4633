"""Native tunnel output: route + neighbor -> header, miss, no route
(texts as Debian's ovs-vswitchd 3.1 traces them)."""
from pyovs.odp.actions import tnl_header_format
from pyovs.tnl.native import resolve
from pyovs.tnl.neigh_cache import NeighCache
from pyovs.tnl.ovs_router import Router, mapped

BR0 = "aa:55:aa:55:00:01"


def setup():
    r = Router({"br0": ["192.168.10.1/24", "2001:db8::1/64"]}.get)
    r.insert_system(0, mapped("192.168.10.0"), 120, False, "br0")
    r.insert_system(0, mapped("2001:db8::"), 64, False, "br0")
    assert r.insert_user(0, mapped("3.0.0.0"), 104, "br0", mapped("192.168.10.77")) == 0
    return r, NeighCache()


def test_gateway_miss_then_hit():
    r, n = setup()
    macs = {"br0": BR0}.get
    res = resolve(r, n, "3.3.3.3", now=0, bridge_mac=macs, tnl_type="vxlan", key=5)
    assert res.status == "miss"
    assert res.notes == [
        "-> tunneling to 192.168.10.77 via br0",
        "-> neighbor cache miss for 192.168.10.77 on bridge br0, sending ARP request"]
    assert res.request.hex() == ("ffffffffffffaa55aa55000108060001080006040001aa55aa550001"
                                 "c0a80a01000000000000c0a80a4d")
    n.set("br0", mapped("192.168.10.77"), 0x77, now=1)
    res = resolve(r, n, "3.3.3.3", now=2, bridge_mac=macs, tnl_type="vxlan", key=5)
    assert res.status == "ok"
    # The real switch's datapath action for the same setup.
    assert tnl_header_format(res.header_type, res.header) == (
        "header(size=50,type=4,eth(dst=00:00:00:00:00:77,src=aa:55:aa:55:00:01,"
        "dl_type=0x0800),ipv4(src=192.168.10.1,dst=3.3.3.3,proto=17,tos=0,ttl=64,"
        "frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x5))")


def test_nd_miss_and_no_route():
    r, n = setup()
    res = resolve(r, n, "2001:db8::2", now=0, bridge_mac={"br0": BR0}.get,
                  tnl_type="vxlan")
    assert res.status == "miss" and res.notes[-1] == (
        "-> neighbor cache miss for 2001:db8::2 on bridge br0, sending ND request")
    res = resolve(r, n, "9.3.3.3", now=0, bridge_mac={"br0": BR0}.get, tnl_type="vxlan")
    assert (res.status, res.notes) == ("no-route", [">> native tunnel routing failed"])
    res = resolve(r, n, "3.3.3.3", now=0, bridge_mac={}.get, tnl_type="vxlan")
    assert res.status == "no-bridge"
