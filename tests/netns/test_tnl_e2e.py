"""End to end (needs root): VMs on two hypervisors talk across VXLAN, GRE
and Geneve tunnels, with and without keys, through pyovs's ovs-vswitchd
on the userspace datapath (OVS's userspace-tunneling howto layout, see
test_tnl_topo.py); the other hypervisor is pyovs again, the Linux
kernel's own tunnel devices, or Debian's real OVS 3.1 userspace switch.
Underlay packets are captured and decoded by scapy, independently of
pyovs's parsers: the right VNI/key and Geneve options, valid outer IPv4
and UDP/GRE checksums where set, a valid inner Ethernet/IP/ICMP packet."""

import pytest

from tests.conftest import needs_root, real_bin, wait_for
from tests.netns.test_tnl_topo import Topo

scapy_l2 = pytest.importorskip("scapy.layers.l2")
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.layers.inet import ICMP, IP, UDP, in4_chksum  # noqa: E402
from scapy.layers.inet6 import IPv6, in6_chksum  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402
from scapy.packet import bind_layers  # noqa: E402
from scapy.utils import checksum  # noqa: E402

Ether, GRE = scapy_l2.Ether, scapy_l2.GRE
bind_layers(UDP, GENEVE, dport=6081)

TUNNELS = [("vxlan", None), ("vxlan", 100), ("gre", None), ("gre", 200),
           ("geneve", None), ("geneve", 300)]
PORT = 16210
#: The Geneve option pyovs's first switch puts on tunnel 6 in
#: test_pyovs_to_pyovs (class, type, data), through its TLV map.
GENEVE_OPT = (0xffff, 0x80, bytes.fromhex("00001234"))


def decode(frame, partial_ok=False):
    """(type, key or None, Geneve options, inner Ether) of a captured
    underlay tunnel frame, None for other frames; asserts that every
    checksum the frame carries is valid.  PARTIAL_OK: the sender is the
    kernel, whose UDP checksums a veth hands over unfinished (only the
    pseudo-header's sum, CHECKSUM_PARTIAL), which is then valid too."""
    pkt = Ether(frame)
    outer = pkt.payload
    if type(outer) not in (IP, IPv6):
        return None
    l4 = outer.payload
    if not (type(l4) is GRE or type(l4) is UDP and type(l4.payload) in (VXLAN, GENEVE)):
        return None
    if isinstance(outer, IP):
        assert checksum(bytes(outer)[:outer.ihl * 4]) == 0, "outer IPv4 checksum"
        assert outer.len == len(bytes(outer)) and not outer.frag and not outer.flags.MF
    if type(l4) is GRE:
        gre = l4
        if gre.chksum_present:
            assert checksum(bytes(gre)) == 0, "GRE checksum"
        assert gre.proto == 0x6558 and not gre.routing_present and gre.version == 0
        type_, key, opts, inner = "gre", gre.key if gre.key_present else None, (), gre.payload
    else:
        udp = l4
        assert udp.len == len(bytes(udp))
        if udp.chksum:
            ck = in4_chksum if isinstance(outer, IP) else in6_chksum
            ok = ck(17, outer, bytes(udp)) == 0
            if not ok and partial_ok:
                ok = udp.chksum == 0xffff & ~ck(17, outer, b"\0" * len(bytes(udp)))
            assert ok, "outer UDP checksum"
        else:
            assert isinstance(outer, IP), "IPv6 UDP without a checksum"
        if type(udp.payload) is VXLAN:
            vx = udp.payload
            assert udp.dport == 4789 and vx.flags == 0x08 and vx.reserved2 == 0
            type_, key, opts, inner = "vxlan", vx.vni, (), vx.payload
        else:
            gnv = udp.payload
            assert gnv.version == 0 and gnv.proto == 0x6558
            opts = tuple((o.classid, o.type, bytes(o.data)) for o in gnv.options)
            assert sum(4 + len(o[2]) for o in opts) == gnv.optionlen * 4
            type_, key, inner = "geneve", gnv.vni, gnv.payload
    inner = Ether(bytes(inner))
    if inner.haslayer(ICMP):
        ip = inner[IP]
        assert checksum(bytes(ip)[:ip.ihl * 4]) == 0, "inner IPv4 checksum"
        assert checksum(bytes(inner[ICMP])) == 0, "inner ICMP checksum"
    return type_, key, opts, inner


def _seen(frames, k, partial_ok=False):
    """(type, key, Geneve options) of the captured tunnel frames carrying
    a ping between 10.9.K.1 and 10.9.K.2."""
    out = set()
    for f in frames:
        d = decode(f, partial_ok)
        if d and d[3].haslayer(ICMP) and d[3][ICMP].type in (0, 8) \
                and {d[3][IP].src, d[3][IP].dst} == {"10.9.%d.1" % k, "10.9.%d.2" % k}:
            out.add(d[:3])
    return out


def _topo(request, tmp_path, ipv6=False):
    needs_root()
    t = Topo(tmp_path, TUNNELS, ipv6=ipv6)
    request.addfinalizer(t.close)
    return t


@pytest.fixture
def topo(request, tmp_path):
    return _topo(request, tmp_path)


def _expect(type_, key, opts=()):
    return (type_, key if key is not None else (0 if type_ != "gre" else None), opts)


def _converged(topo, k):
    """Wait until tunnel K carries a ping (the first packets only resolve
    the underlay neighbors and set up megaflows)."""
    wait_for(lambda: topo.ping(k, count=1).returncode == 0, timeout=20, interval=0.2,
             what="a ping through tunnel %d" % k)


def _check_all(topo, opts=None):
    """Pings through every tunnel; the frames each hypervisor receives
    carry each tunnel's VNI/key (and those of hypervisor 1 OPTS {k: Geneve
    options}), all checksums valid."""
    opts = opts or {}
    for k in range(1, len(TUNNELS) + 1):
        _converged(topo, k)
    sniffs = [topo.sniff(1, 6), topo.sniff(0, 6)]
    for k, (type_, key) in enumerate(TUNNELS, 1):
        r = topo.ping(k)
        assert r.returncode == 0, (type_, key, r.stdout, r.stderr)
    for sniff, sent_opts in zip(sniffs, (opts, {})):    # hypervisor 1's frames, 2's
        frames = sniff()
        for k, (type_, key) in enumerate(TUNNELS, 1):
            seen = _seen(frames, k)
            assert _expect(type_, key, sent_opts.get(k, ())) in seen, (type_, key, seen)


def test_pyovs_to_pyovs(topo):
    sw1 = topo.ovs(0, "pyovs")
    sw2 = topo.ovs(1, "pyovs")
    # (both ends map the option: a critical option (type 0x80) no map knows
    # drops the packet at the receiver, as OVS)
    for sw in (sw1, sw2):
        sw.ofctl("add-tlv-map", "br-int", "{class=0xffff,type=0x80,len=4}->tun_metadata0")
    sw1.ofctl("add-flow", "br-int", "in_port=6,actions=set_field:0x1234->tun_metadata0,16")
    _check_all(topo, {6: (GENEVE_OPT,)})
    for k in (2, 4, 5):            # vxlan key, gre key, geneve keyless
        res = topo.iperf(k, PORT + k)
        assert res.get("end", {}).get("sum_received", {}).get("bytes", 0) > 0, res
    flows = sw2.appctl("dpctl/dump-flows")
    assert "tnl_pop(" in flows and "tnl_push(" in flows
    assert "tunnel(tun_id=0x64,src=172.31.1.1,dst=172.31.1.2," in flows


def test_pyovs_to_real_ovs_ipv6_underlay(request, tmp_path):
    real_bin("ovs-vswitchd")
    topo = _topo(request, tmp_path, ipv6=True)
    ours = topo.ovs(0, "pyovs")
    topo.ovs(1, "real")
    _check_all(topo)
    flows = ours.appctl("dpctl/dump-flows")
    assert "ipv6_src=fd00:31::2,ipv6_dst=fd00:31::1" in flows and "tnl_pop(" in flows
    assert "fd00:31::2" in ours.appctl("tnl/neigh/show")     # learned from ND


def test_howto_layout_with_normal(request, tmp_path):
    """The howto exactly: br-int does NORMAL, one VXLAN port; MAC learning
    across the tunnel, flooding through it (clone(tnl_push(...)))."""
    needs_root()
    topo = Topo(tmp_path, [("vxlan", None)])
    request.addfinalizer(topo.close)
    sw1 = topo.ovs(0, "pyovs", normal=True)
    topo.ovs(1, "pyovs", normal=True)
    _converged(topo, 1)
    r = topo.ping(1)
    assert r.returncode == 0, r.stdout
    res = topo.iperf(1, PORT + 40)
    assert res.get("end", {}).get("sum_received", {}).get("bytes", 0) > 0, res
    # the other VM's MAC is learned on the tunnel port (ofport 11)
    fdb = sw1.appctl("fdb/show", "br-int").splitlines()
    assert any(ln.split()[:2] == ["11", "0"] for ln in fdb[1:]), fdb


def test_pyovs_to_kernel_tunnels(topo):
    topo.ovs(0, "pyovs")
    made = topo.kernel(1)
    if 1 not in made:
        pytest.skip("the kernel has no vxlan devices")
    # (this kernel may lack gretap and geneve: those tunnels are left out)
    for k in made:
        _converged(topo, k)
    sniffs = [topo.sniff(0, 4), topo.sniff(1, 4)]     # what each side receives
    for k in made:
        r = topo.ping(k)
        assert r.returncode == 0, (TUNNELS[k - 1], r.stdout, r.stderr)
    for sniff, kernel in zip(sniffs, (True, False)):    # the kernel's frames, pyovs's
        frames = sniff()
        for k in made:
            seen = _seen(frames, k, partial_ok=kernel)
            assert _expect(*TUNNELS[k - 1]) in seen, (TUNNELS[k - 1], seen)
    res = topo.iperf(2, PORT + 20, server_ns=topo.h[1])
    assert res.get("end", {}).get("sum_received", {}).get("bytes", 0) > 0, res


def test_pyovs_to_real_ovs_userspace(topo):
    real_bin("ovs-vswitchd")
    ours = topo.ovs(0, "pyovs")
    real = topo.ovs(1, "real")
    _check_all(topo)
    # The tunnel Interface rows as the real switch writes them (the
    # egress device and its carrier, link and admin state, ofport).
    cols = ["status", "link_state", "admin_state", "ofport", "error", "type"]
    for k in (1, 3, 6):
        got = [ours.vsctl("get", "interface", "tun%d" % k, c).strip() for c in cols]
        want = [real.vsctl("get", "interface", "tun%d" % k, c).strip() for c in cols]
        assert got == want, (k, got, want)
    res = topo.iperf(1, PORT + 30)
    assert res.get("end", {}).get("sum_received", {}).get("bytes", 0) > 0, res
