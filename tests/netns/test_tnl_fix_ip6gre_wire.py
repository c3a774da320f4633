"""ip6gre with real traffic (needs root): the two-hypervisor layout of
test_tnl_topo.py over an IPv6 underlay, hypervisor 1 pyovs's switch,
hypervisor 2 Debian's real OVS 3.1, joined by an ip6gre tunnel with a
key: the VMs ping each other and the underlay carries GRE over IPv6
(next header 47, the key, Ethernet inside)."""

from tests.conftest import needs_root, real_bin, wait_for
from tests.netns.test_tnl_topo import Topo

KEY = 0x2a


def test_ip6gre_ping_between_pyovs_and_real(request, tmp_path):
    real_bin("ovs-vswitchd")
    needs_root()
    topo = Topo(tmp_path, [("ip6gre", KEY)], ipv6=True)
    request.addfinalizer(topo.close)
    switches = [topo.ovs(0, "pyovs"), topo.ovs(1, "real")]
    capture = topo.sniff(1, 8)
    wait_for(lambda: topo.ping(1, count=1).returncode == 0, timeout=25, interval=0.2,
             what="a ping through the ip6gre tunnel")
    r = topo.ping(1, count=3)
    assert r.returncode == 0, r.stdout
    ours = [f for f in capture() if len(f) > 62 and f[12:14] == b"\x86\xdd" and f[20] == 47
            and f[22:38] == bytes.fromhex("fd000031000000000000000000000001")]
    assert ours, "no GRE over IPv6 from pyovs's hypervisor"
    for f in ours:
        assert f[54:58] == b"\x20\x00\x65\x58", f.hex()            # key, Ethernet
        assert int.from_bytes(f[58:62], "big") == KEY
    for sw in switches:
        assert sw.procs[1].poll() is None, sw.kind
