"""End to end (needs root): VMs on two hypervisors talk across VXLAN, GRE
and Geneve tunnels, with and without keys, through pyovs's ovs-vswitchd
on the userspace datapath (OVS's userspace-tunneling howto layout, see
test_tnl_topo.py); the other hypervisor is pyovs again, the Linux
kernel's own tunnel devices, or Debian's real OVS 3.1 userspace switch.
Underlay packets are captured and decoded here, independently of pyovs's
parsers, for the right VNI/key."""

import struct

import pytest

from tests.conftest import needs_root, real_bin, wait_for
from tests.netns.test_tnl_topo import Topo

TUNNELS = [("vxlan", None), ("vxlan", 100), ("gre", None), ("gre", 200),
           ("geneve", None), ("geneve", 300)]
PORT = 16210


def decode(frame):
    """(type, key or None, inner frame) of an underlay frame, or None."""
    if len(frame) >= 54 and frame[12:14] == b"\x86\xdd":
        proto, l4 = frame[20], 54
    elif len(frame) >= 34 and frame[12:14] == b"\x08\x00":
        proto, l4 = frame[23], 14 + (frame[14] & 0xf) * 4
    else:
        return None
    if proto == 17 and len(frame) >= l4 + 16:
        dport = struct.unpack_from("!H", frame, l4 + 2)[0]
        if dport == 4789:
            flags, vni = struct.unpack_from("!II", frame, l4 + 8)
            return "vxlan", (vni >> 8) if flags == 0x08000000 else -1, frame[l4 + 16:]
        if dport == 6081:
            optlen = (frame[l4 + 8] & 0x3f) * 4
            vni = struct.unpack_from("!I", frame, l4 + 12)[0] >> 8
            return "geneve", vni, frame[l4 + 16 + optlen:]
    if proto == 47:
        flags, gproto = struct.unpack_from("!HH", frame, l4)
        o = l4 + 4 + (4 if flags & 0x8000 else 0)
        key = None
        if flags & 0x2000:
            key = struct.unpack_from("!I", frame, o)[0]
            o += 4
        return "gre", key, frame[o:] if gproto == 0x6558 else None
    return None


def _seen(frames, k):
    """The (type, key) of captured tunnel frames carrying 10.9.K.x."""
    out = set()
    for f in frames:
        d = decode(f)
        if d and d[2] and len(d[2]) >= 34 and d[2][12:14] == b"\x08\x00" \
                and bytes([10, 9, k]) in (d[2][26:29], d[2][30:33]):
            out.add(d[:2])
    return out


def _topo(request, tmp_path, ipv6=False):
    needs_root()
    t = Topo(tmp_path, TUNNELS, ipv6=ipv6)
    request.addfinalizer(t.close)
    return t


@pytest.fixture
def topo(request, tmp_path):
    return _topo(request, tmp_path)


def _expect(type_, key):
    return (type_, key if key is not None else (0 if type_ != "gre" else None))


def _converged(topo, k):
    """Wait until tunnel K carries a ping (the first packets only resolve
    the underlay neighbors and set up megaflows)."""
    wait_for(lambda: topo.ping(k, count=1).returncode == 0, timeout=20, interval=0.2,
             what="a ping through tunnel %d" % k)


def _check_all(topo):
    for k in range(1, len(TUNNELS) + 1):
        _converged(topo, k)
    sniff = topo.sniff(1, 6)
    for k, (type_, key) in enumerate(TUNNELS, 1):
        r = topo.ping(k)
        assert r.returncode == 0, (type_, key, r.stdout, r.stderr)
    frames = sniff()
    for k, (type_, key) in enumerate(TUNNELS, 1):
        assert _expect(type_, key) in _seen(frames, k), (type_, key)


def test_pyovs_to_pyovs(topo):
    topo.ovs(0, "pyovs")
    sw2 = topo.ovs(1, "pyovs")
    _check_all(topo)
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
        r = topo.ping(k)
        assert r.returncode == 0, (TUNNELS[k - 1], r.stdout, r.stderr)
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
