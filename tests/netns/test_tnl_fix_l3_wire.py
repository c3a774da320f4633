"""Layer-3 tunnels with real traffic (needs root): the two-hypervisor
layout of test_tnl_topo.py, hypervisor 1 pyovs's switch, hypervisor 2
Debian's real OVS 3.1, joined by a GRE or a VXLAN-GPE tunnel with
packet_type=legacy_l3 (each side pops the VM's Ethernet header before
tnl_push -- GRE protocol 0x0800, GPE next protocol IPv4 on the wire --
and pushes a zero one on receive; br-int puts the VM's address into
it).  The VMs ping each other, and the underlay carries the IPv4 packet
right after the tunnel header, no inner Ethernet header."""

import re

import pytest

from tests.conftest import needs_root, real_bin, run, wait_for
from tests.netns.test_tnl_topo import Topo

GRE_KEY = 7


def _mac(ns, dev):
    out = run(["ip", "-n", ns, "link", "show", dev], timeout=10).stdout
    return re.search(r"link/ether (\S+)", out).group(1)


@pytest.mark.parametrize("type_", ["gre", "vxlan-gpe"])
def test_legacy_l3_ping_between_pyovs_and_real(request, tmp_path, type_):
    real_bin("ovs-vswitchd")
    needs_root()
    topo = Topo(tmp_path, [(type_.split("-")[0], GRE_KEY)])
    request.addfinalizer(topo.close)
    switches = [topo.ovs(0, "pyovs"), topo.ovs(1, "real")]
    for i, sw in enumerate(switches):
        sw.vsctl("set", "interface", "tun1", "options:packet_type=legacy_l3",
                 *(["options:exts=gpe"] if type_ == "vxlan-gpe" else []))
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
             what="a ping through the legacy_l3 tunnel")
    r = topo.ping(1, count=3)
    assert r.returncode == 0, r.stdout
    frames = capture()
    # from pyovs's hypervisor: the tunnel header, then an IPv4 header at once
    proto = 47 if type_ == "gre" else 17
    ours = [f for f in frames if len(f) > 50 and f[12:14] == b"\x08\x00" and f[23] == proto
            and f[26:30] == bytes(map(int, topo.underlay[0].split(".")))]
    assert ours, "no tunnel frame from pyovs's hypervisor"
    for f in ours:
        at = 14 + (f[14] & 0xf) * 4
        if type_ == "gre":
            assert f[at:at + 4] == b"\x20\x00\x08\x00", f.hex()    # key, IPv4
            assert int.from_bytes(f[at + 4:at + 8], "big") == GRE_KEY
            inner = at + 8
        else:
            assert f[at + 2:at + 4] == b"\x12\xb5", f.hex()          # to 4789
            assert f[at + 8:at + 12] == b"\x0c\x00\x00\x01", f.hex()  # GPE, IPv4
            assert int.from_bytes(f[at + 12:at + 15], "big") == GRE_KEY
            inner = at + 16
        assert f[inner] >> 4 == 4, f.hex()          # the inner IPv4 header
    for sw in switches:
        assert sw.procs[1].poll() is None, sw.kind
