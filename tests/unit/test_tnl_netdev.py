"""Tunnel ports as netdevs (netdev/tunnel.py): OVS's option parsing, its
error texts, and the options given back (dpif/show's text).  The texts
were taken from Debian's ovs-vswitchd 3.1 (the Interface error column and
dpif/show); tests/interop/test_tnl_vswitchd.py compares them live."""

import pytest

from pyovs import netdev
from pyovs.netdev.tunnel import NetdevTunnel

_n = [0]


def _dev(type_, options=None):
    _n[0] += 1
    dev = netdev.open("ptt%d" % _n[0], type_)
    if options is not None:
        dev.set_config(options)
    return dev


@pytest.mark.parametrize("type_", ["vxlan", "gre", "geneve"])
def test_registered_types(type_):
    assert type_ in netdev.provider_types()
    dev = _dev(type_, {"remote_ip": "1.1.2.92"})
    assert isinstance(dev, NetdevTunnel) and dev.type == type_
    dev.close()


@pytest.mark.parametrize("type_,options,text,dpif_port", [
    ("vxlan", {"remote_ip": "1.1.2.92", "key": "123"},
     "vxlan: key=123, remote_ip=1.1.2.92", "vxlan_sys_4789"),
    ("gre", {"remote_ip": "1.1.2.92", "key": "456"},
     "gre: key=456, remote_ip=1.1.2.92", "gre_sys"),
    ("vxlan", {"remote_ip": "1.1.2.93", "out_key": "flow", "csum": "true"},
     "vxlan: csum=true, out_key=flow, remote_ip=1.1.2.93", "vxlan_sys_4789"),
    ("geneve", {"remote_ip": "flow", "key": "123"},
     "geneve: key=123, remote_ip=flow", "genev_sys_6081"),
    ("gre", {"remote_ip": "1.1.2.92", "key": "456", "packet_type": "legacy_l3"},
     "gre: key=456, packet_type=legacy_l3, remote_ip=1.1.2.92", "gre_sys"),
    ("vxlan", {"remote_ip": "1.1.1.1", "dst_port": "5000", "csum": "true", "tos": "4",
               "ttl": "10", "df_default": "false", "in_key": "5", "out_key": "7",
               "local_ip": "2.2.2.2"},
     "vxlan: csum=true, df_default=false, dst_port=5000, in_key=5, local_ip=2.2.2.2, "
     "out_key=7, remote_ip=1.1.1.1, tos=0x4, ttl=10", "vxlan_sys_5000"),
    ("gre", {"remote_ip": "1.1.1.1", "dst_port": "5000"}, "gre: remote_ip=1.1.1.1",
     "gre_sys"),
    ("geneve", {"remote_ip": "2001::1", "key": "flow"},
     "geneve: key=flow, remote_ip=2001::1", "genev_sys_6081"),
    ("vxlan", {"remote_ip": "1.1.1.1", "packet_type": "ptap"},
     "vxlan: packet_type=ptap, remote_ip=1.1.1.1", "vxlan_sys_4789"),
    ("geneve", {"remote_ip": "1.1.1.1", "egress_pkt_mark": "1234", "out_key": "flow"},
     "geneve: egress_pkt_mark=1234, out_key=flow, remote_ip=1.1.1.1", "genev_sys_6081"),
    ("vxlan", {"remote_ip": "1.1.1.1", "bogus": "1", "tos": "300", "local_ip": "zz"},
     "vxlan: remote_ip=1.1.1.1", "vxlan_sys_4789"),
])
def test_config_text(type_, options, text, dpif_port):
    dev = _dev(type_, options)
    assert dev.config_text() == text
    assert dev.dpif_port_name() == dpif_port
    dev.close()


@pytest.mark.parametrize("type_,options,error", [
    ("vxlan", {"remote_ip": "foo"},
     "NAME: bad vxlan 'remote_ip'\nNAME: vxlan type requires valid 'remote_ip' argument"),
    ("vxlan", {"key": "1"}, "NAME: vxlan type requires valid 'remote_ip' argument"),
    ("gre", {"remote_ip": "224.1.1.1"}, "NAME: multicast remote_ip=224.1.1.1 not allowed"),
    ("vxlan", {"remote_ip": "1.1.1.1", "packet_type": "foo"},
     "NAME: unknown packet_type 'foo'"),
    ("vxlan", {"remote_ip": "1.1.1.1", "packet_type": "legacy_l3"},
     "NAME: legacy_l3 configured on VXLAN (without GPE) tunnel that cannot carry L3 traffic"),
    ("geneve", {"remote_ip": "1.1.1.1", "packet_type": "legacy_l3"},
     "NAME: legacy_l3 configured on geneve tunnel that cannot carry L3 traffic"),
    ("vxlan", {"remote_ip": "1.1.1.1", "local_ip": "flow"},
     "NAME: vxlan type requires 'remote_ip=flow' with 'local_ip=flow'"),
    ("geneve", {"remote_ip": "::1", "local_ip": "1.1.1.1"},
     "NAME: 'remote_ip' and 'local_ip' has to be of the same address family"),
])
def test_config_errors_keep_old_config(type_, options, error):
    dev = _dev(type_, {"remote_ip": "1.2.3.4", "key": "9"})
    with pytest.raises(netdev.NetdevError) as e:
        dev.set_config(options)
    assert str(e.value) == error.replace("NAME", dev.name)
    assert dev.get_config() == {"remote_ip": "1.2.3.4", "key": "9"}
    dev.close()


def test_key_forms():
    dev = _dev("vxlan", {"remote_ip": "1.1.1.1", "key": "0x10"})
    assert (dev.cfg.in_key, dev.cfg.out_key) == (16, 16)
    dev.set_config({"remote_ip": "1.1.1.1", "key": "flow", "out_key": "3"})
    assert dev.cfg.in_key_flow and not dev.cfg.out_key_flow and dev.cfg.out_key == 3
    dev.set_config({"remote_ip": "1.1.1.1", "key": "abc"})
    assert dev.cfg.in_key_present and dev.cfg.in_key == 0
    dev.set_config({"remote_ip": "1.1.1.1", "ttl": "0", "tos": "inherit"})
    assert dev.cfg.ttl == 64 and dev.cfg.tos_inherit
    dev.close()


def test_no_direct_io():
    dev = _dev("gre", {"remote_ip": "1.1.1.1"})
    assert dev.fileno() is None and dev.rx_batch() == []
    with pytest.raises(netdev.NetdevError):
        dev.send_batch([b"x" * 60])
    dev.close()
