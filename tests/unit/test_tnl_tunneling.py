"""The switch's tunnel state (tnl/tunneling.py): tunnel ports share one
datapath port per type and destination port and register listeners
(tnl/ports/show ref_cnt); a popped packet finds its OpenFlow port in
OVS's tnl_find() order; send() fills the tunnel fields as
tnl_port_send()."""

from pyovs import netdev
from pyovs.dpif.netdev import DpifNetdev
from pyovs.odp.tunnel import TNL_F_CSUM, TNL_F_DONT_FRAGMENT, TNL_F_KEY
from pyovs.tnl.tunneling import Tunneling

V4 = 0xFFFF << 32
_n = [0]


def _port(type_, **options):
    _n[0] += 1
    dev = netdev.open("ptn%d" % _n[0], type_)
    dev.set_config(options)
    return dev


def _ip(text):
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def test_ports_share_datapath_ports_and_listeners():
    t, dp = Tunneling(use_system_routes=False), DpifNetdev("ovs-dummy", "dummy")
    a = t.add_port("br", 1, _port("vxlan", remote_ip="1.1.1.1", key="1"), dp, 4789)
    b = t.add_port("br", 2, _port("vxlan", remote_ip="1.1.1.2"), dp, 4789)
    g = t.add_port("br", 3, _port("gre", remote_ip="1.1.1.1"), dp)
    c = t.add_port("br", 4, _port("vxlan", remote_ip="1.1.1.1", dst_port="5000"), dp)
    assert a == b == 4789 and len({a, g, c}) == 3
    assert dp.ports[a].name == "vxlan_sys_4789" and dp.ports[g].name == "gre_sys"
    assert t.tnl_ports.show() == ("Listening ports:\nvxlan_sys_4789 (4789) ref_cnt=2\n"
                                  "gre_sys (%d) ref_cnt=1\nvxlan_sys_5000 (%d) ref_cnt=1\n"
                                  % (g, c))
    t.del_port("br", 1, dp)
    assert a in dp.ports
    t.del_port("br", 2, dp)
    assert a not in dp.ports
    assert "vxlan_sys_4789" not in t.tnl_ports.show()


def test_receive_order_as_tnl_find():
    t, dp = Tunneling(use_system_routes=False), DpifNetdev("ovs-dummy", "dummy")
    t.add_port("br", 1, _port("vxlan", remote_ip="flow", key="flow"), dp, 4789)
    t.add_port("br", 2, _port("vxlan", remote_ip="1.1.1.1", key="flow"), dp, 4789)
    t.add_port("br", 3, _port("vxlan", remote_ip="flow", key="7"), dp, 4789)
    t.add_port("br", 4, _port("vxlan", remote_ip="1.1.1.1", key="7"), dp, 4789)
    t.add_port("br", 5, _port("vxlan", remote_ip="1.1.1.1", key="7",
                              local_ip="2.2.2.2"), dp, 4789)
    t.add_port("br", 6, _port("vxlan", remote_ip="1.1.1.9"), dp, 4789)

    def who(src, key, dst="2.2.2.2"):
        flow = {"in_port": 4789, "tun_src": _ip(src), "tun_dst": _ip(dst),
                "tun_id": key, "tun_flags": TNL_F_KEY}
        p = t.receive(flow)
        return p and p.ofp_port
    assert who("1.1.1.1", 7) == 5                  # local_ip configured first
    assert who("1.1.1.1", 7, dst="2.2.2.3") == 4
    assert who("1.1.1.1", 8) == 2                  # key=flow after exact keys
    assert who("3.3.3.3", 7) == 3                  # remote_ip=flow after exact
    assert who("3.3.3.3", 8) == 1
    assert who("1.1.1.9", 0) == 6                  # keyless: tun_id 0 only
    assert who("1.1.1.9", 5) == 1
    assert t.receive({"in_port": 6081, "tun_src": 1, "tun_dst": 2}) is None


def test_send_fills_tunnel_fields():
    t, dp = Tunneling(use_system_routes=False), DpifNetdev("ovs-dummy", "dummy")
    t.add_port("br", 1, _port("vxlan", remote_ip="1.1.1.1", out_key="9", tos="inherit",
                              ttl="20", csum="true"), dp, 4789)
    t.add_port("br", 2, _port("gre", remote_ip="flow", key="flow", df_default="false"), dp)
    flow, wc = {"dl_type": 0x0800, "nw_tos": 0x2b, "tun_id": 5}, {}
    params = t.send(t.port("br", 1), flow, wc)
    assert flow["tun_dst"] == _ip("1.1.1.1") and flow["tun_id"] == 9
    assert flow["tun_flags"] == TNL_F_DONT_FRAGMENT | TNL_F_CSUM | TNL_F_KEY
    assert params == {"remote": V4 | _ip("1.1.1.1"), "src": None, "mark": 0, "tnl_type": "vxlan",
                      "key": 9, "tos": 0x2a, "ttl": 20, "df": True, "csum": True,
                      "dst_port": 4789}
    assert wc["nw_tos"] == 0xff        # DSCP inherited; CE goes out as ECT(0), as OVS
    flow = {"dl_type": 0x0806, "tun_dst": _ip("4.4.4.4"), "tun_id": 77}
    params = t.send(t.port("br", 2), flow, {})
    assert params["remote"] == V4 | _ip("4.4.4.4") and params["key"] == 77
    assert params["df"] is False and params["dst_port"] is None


class _Kernel:
    """SystemRoutes' address side, for a device eth0 with 192.0.2.2/24."""

    def kernel_addrs(self, name):
        return ["192.0.2.2/24"] if name == "eth0" else None

    def kernel_mac(self, name):
        return None


def test_kernel_routes_need_kernel_devices():
    """With the system devices dummies (--enable-dummy=system|override), a
    kernel route finds no source address on its device and is not cached,
    as in OVS; a dummy device's own addresses still serve."""
    from pyovs.tnl.ovs_router import mapped
    dst = mapped("192.0.2.0")
    for kernel_devices, cached in ((True, 1), (False, 0)):
        t = Tunneling()
        t.system = _Kernel()
        t.kernel_devices = kernel_devices
        t.router.insert_system(0, dst, 96 + 24, False, "eth0")
        assert len([e for e in t.router.entries() if not e.user]) == cached
        assert t.set_dev_addr("br-phy", "172.31.1.1/24", False) is None
        assert t.router.get_src_addr(mapped("172.31.1.2"), "br-phy")[0] == 0
