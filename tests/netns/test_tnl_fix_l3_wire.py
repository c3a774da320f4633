"""Layer-3 tunnels with real traffic (needs root): the two-hypervisor
layout of test_tnl_topo.py, hypervisor 1 pyovs's switch, hypervisor 2
Debian's real OVS 3.1, joined by a GRE tunnel with packet_type=legacy_l3
(each side pops the VM's Ethernet header before tnl_push -- GRE protocol
0x0800 on the wire -- and pushes a zero one on receive; br-int puts the
VM's address into it).  The VMs ping each other, and the underlay
carries GRE with the IPv4 protocol, no inner Ethernet header."""

import re

from tests.conftest import needs_root, real_bin, run, wait_for
from tests.netns.test_tnl_topo import Topo

GRE_KEY = 7


def _mac(ns, dev):
    out = run(["ip", "-n", ns, "link", "show", dev], timeout=10).stdout
    return re.search(r"link/ether (\S+)", out).group(1)


def test_legacy_l3_gre_ping_between_pyovs_and_real(request, tmp_path):
    real_bin("ovs-vswitchd")
    needs_root()
    topo = Topo(tmp_path, [("gre", GRE_KEY)])
    request.addfinalizer(topo.close)
    switches = [topo.ovs(0, "pyovs"), topo.ovs(1, "real")]
    for i, sw in enumerate(switches):
        sw.vsctl("set", "interface", "tun1", "options:packet_type=legacy_l3")
        sw.ofctl("del-flows", "br-int")
        sw.ofctl("add-flow", "br-int", "in_port=1,ip,actions=output:11")
        sw.ofctl("add-flow", "br-int", "in_port=11,ip,actions=mod_dl_dst:%s,output:1"
                 % _mac(topo.m[i], "ptk1"))
        # (no ARP across a layer-3 tunnel: the peer's address is static)
        r = topo.vm(i, "ip", "neigh", "replace", "10.9.1.%d" % (2 - i), "lladdr",
                    "02:00:00:00:00:99", "dev", "ptk1")
        assert r.returncode == 0, r.stderr
    capture = topo.sniff(1, 6)
    wait_for(lambda: topo.ping(1, count=1).returncode == 0, timeout=20, interval=0.2,
             what="a ping through the legacy_l3 GRE tunnel")
    r = topo.ping(1, count=3)
    assert r.returncode == 0, r.stdout
    frames = capture()
    # GRE (key present) from pyovs's hypervisor: protocol 0x0800, an IPv4
    # header right after the key -- no Ethernet header inside
    gre = [f for f in frames if len(f) > 46 and f[12:14] == b"\x08\x00" and f[23] == 47
           and f[26:30] == bytes(map(int, topo.underlay[0].split(".")))]
    assert gre, "no GRE frame from pyovs's hypervisor"
    for f in gre:
        ihl = (f[14] & 0xf) * 4
        flags, proto = int.from_bytes(f[14 + ihl:16 + ihl], "big"), f[16 + ihl:18 + ihl]
        assert flags == 0x2000 and proto == b"\x08\x00", f.hex()
        assert int.from_bytes(f[18 + ihl:22 + ihl], "big") == GRE_KEY
        assert f[22 + ihl] >> 4 == 4, f.hex()          # the inner IPv4 header
    for sw in switches:
        assert sw.procs[1].poll() is None, sw.kind
