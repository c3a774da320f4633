"""Bad tunnel packets (issue 6, "Bad input"), crafted with scapy: truncated
and malformed outer headers, a VXLAN VNI no port has, GRE with unknown
flags or without the key its port has, Geneve options longer than the
packet.  Each is counted and dropped, the switch keeps running and its
tunnels keep working.

Two ways in: netdev-dummy/receive on the dummy datapath, where pyovs's
ovs-vswitchd and Debian's real one 3.1 get the same packets and must
count the same drops (coverage datapath_drop_tunnel_pop_error) and
install the same megaflows; and the underlay veth of a real two-namespace
tunnel layout (test_tnl_topo.py, needs root), pyovs's switch against the
real switch: nothing is delivered to the VM, the same drops are counted,
and pings through every tunnel still work afterwards."""

import re
import subprocess

import pytest

from tests.conftest import needs_root, real_bin, run, wait_for
from tests.interop.test_tnl_vswitchd import Switch as DummySwitch
from tests.netns.test_tnl_topo import Topo

scapy_l2 = pytest.importorskip("scapy.layers.l2")
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.layers.inet import ICMP, IP, UDP, IPOption_NOP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402
from scapy.packet import Raw  # noqa: E402

Ether, GRE = scapy_l2.Ether, scapy_l2.GRE

POP_ERROR = "datapath_drop_tunnel_pop_error"
INVALID = "datapath_drop_rx_invalid_packet"


def inner(k=1, mark=0):
    """A VM's ping as the tunnel carries it (10.9.K.2 -> 10.9.K.1); MARK
    tells the copies apart."""
    return (Ether(src="02:00:00:00:09:02", dst="02:00:00:00:09:01")
            / IP(src="10.9.%d.2" % k, dst="10.9.%d.1" % k) / ICMP(id=0x7077, seq=mark)
            / Raw(b"pw-bad-input"))


def bad_packets(outer, k_vxlan, k_gre, k_geneve):
    """[(name, frame bytes, a tunnel pop error?)]: OUTER is the underlay
    Ether/IP (to the switch's tunnel endpoint); K_*: the (tunnel number,
    key) of the VXLAN, GRE and Geneve ports."""
    def vxlan(**kw):
        return outer() / UDP(sport=50000, dport=4789) / VXLAN(**dict(dict(flags=0x08), **kw))

    def geneve(**kw):
        return outer() / UDP(sport=50000, dport=6081) / GENEVE(**kw)

    (kv, vni), (kg, key), (kn, gvni) = k_vxlan, k_gre, k_geneve
    ok_v = vxlan(vni=vni) / inner(kv, 1)
    out = [
        ("vxlan unknown VNI", vxlan(vni=vni + 1000) / inner(kv, 2), False),
        ("vxlan unknown flags", vxlan(vni=vni, flags=0x88) / inner(kv, 3), True),
        # (VXLAN-GPE: OVS takes its bits out on any VXLAN port)
        ("vxlan-gpe next protocol Ethernet",
         vxlan(vni=vni, flags=0x0c, NextProtocol=3) / inner(kv, 13), False),
        ("vxlan-gpe next protocol 0",
         vxlan(vni=vni, flags=0x0c, NextProtocol=0) / inner(kv, 14), True),
        ("vxlan reserved VNI byte", vxlan(vni=vni, reserved2=1) / inner(kv, 4), True),
        ("vxlan header truncated",
         outer() / UDP(sport=50000, dport=4789) / Raw(b"\x08\0\0\0"), True),
        ("outer ip bad checksum", _set(ok_v, IP, chksum=0x1234), True),
        ("outer ip length beyond the packet", _iplen(ok_v, 1400), False),
        ("outer udp header cut",
         bytes(_iplen(outer() / UDP(sport=50000, dport=4789), 24))[:38], False),
        ("outer ip options", _opts(ok_v), True),
        ("outer ip later fragment", _frag(ok_v, 0, 100), False),
        ("outer udp bad checksum", _set(ok_v, UDP, chksum=0x1234), True),
        ("gre unknown flags (routing)",
         outer() / GRE(proto=0x6558, routing_present=1, key_present=1, key=key)
         / inner(kg, 5), True),
        ("gre version 1", outer() / GRE(proto=0x6558, version=1, key_present=1, key=key)
         / inner(kg, 6), True),
        ("gre bad checksum", outer() / GRE(proto=0x6558, chksum_present=1, chksum=0x1234,
                                           key_present=1, key=key) / inner(kg, 7), True),
        ("gre key missing", outer() / GRE(proto=0x6558) / inner(kg, 8), False),
        ("gre unknown key", outer() / GRE(proto=0x6558, key_present=1, key=key + 1000)
         / inner(kg, 9), False),
        ("geneve options longer than the packet",
         geneve(vni=gvni, optionlen=63) / Raw(b"\0" * 8), True),
        ("geneve version 1", geneve(vni=gvni, version=1) / inner(kn, 10), True),
        ("geneve unknown protocol", geneve(vni=gvni, proto=0x0800) / inner(kn, 11), True),
        ("geneve unknown VNI", geneve(vni=gvni + 1000) / inner(kn, 12), False),
    ]
    return [(name, bytes(p), err) for name, p, err in out]


def _set(pkt, layer, **fields):
    """PKT built, then LAYER's FIELDS overwritten (checksums left wrong)."""
    p = pkt.__class__(bytes(pkt))
    for f, v in fields.items():
        setattr(p[layer], f, v)
    return p


def _iplen(pkt, n):
    """PKT with its outer IPv4 total length N (the checksum to match)."""
    p = pkt.__class__(bytes(pkt))
    p[IP].len = n
    del p[IP].chksum
    return p.__class__(bytes(p))


def _frag(pkt, flags, offset):
    """PKT as an IPv4 fragment (FLAGS, OFFSET in 8 bytes)."""
    p = pkt.__class__(bytes(pkt))
    p[IP].flags, p[IP].frag = flags, offset
    del p[IP].chksum
    return p.__class__(bytes(p))


def _opts(pkt):
    """PKT with 4 bytes of IPv4 options (NOPs) in its outer header."""
    p = pkt.__class__(bytes(pkt))
    ip = p[IP]
    ip.options = [IPOption_NOP()] * 4
    del ip.ihl, ip.len, ip.chksum
    return p


# -- netdev-dummy/receive, pyovs against the real switch ----------------------

BR_MAC, PEER_MAC = "aa:55:aa:55:00:00", "f8:bc:12:44:34:b6"
LOCAL, PEER = "1.1.2.88", "1.1.2.92"
DUMMY_TUNNELS = ((2, "vxlan", 123), (3, "gre", 456), (4, "geneve", 789))
LOCAL6, PEER6 = "2001:cafe::88", "2001:cafe::92"


def _dummy_outer():
    return Ether(src=PEER_MAC, dst=BR_MAC) / IP(src=PEER, dst=LOCAL)


def _ipv6_packets():
    """[(name, frame, a tunnel pop error?)] over an IPv6 underlay (the
    VXLAN port t5, key 66)."""
    def outer(**kw):
        return Ether(src=PEER_MAC, dst=BR_MAC) / IPv6(src=PEER6, dst=LOCAL6, **kw)
    ok = outer() / UDP(sport=50000, dport=4789) / VXLAN(flags=0x08, vni=66) / inner(5, 20)
    return [
        ("ipv6 vxlan", bytes(ok), False),
        ("ipv6 payload length beyond the packet", bytes(_set(ok, IPv6, plen=1400)), False),
        ("ipv6 udp bad checksum", bytes(_set(ok, UDP, chksum=0x1234)), True),
        ("ipv6 udp zero checksum", bytes(_set(ok, UDP, chksum=0)), False),
        ("ipv6 geneve options longer than the packet",
         bytes(outer() / UDP(sport=50000, dport=6081) / GENEVE(vni=66, optionlen=40)
               / Raw(b"\0" * 8)), True),
        ("ipv6 header cut", bytes(ok)[:40], False),
    ]


def _counter(sw, name):
    out = sw.appctl("coverage/read-counter", name).strip()
    return int(out) if out.isdigit() else 0


def _flows(sw):
    """The datapath's flows, datapath port numbers as port names (the
    numbers follow the order the tunnel ports were added, hash order in
    OVS), without counters and times.  (Packets out of a tunnel no port
    has install no flow in either switch: each is an upcall.)"""
    names = dict(re.findall(r"port (\d+): (\S+)", sw.appctl("dpctl/show")))
    text = re.sub(r"used:[0-9.]+s|used:never", "used:X", sw.appctl("dpctl/dump-flows"))
    text = re.sub(r"packets:\d+, bytes:\d+", "packets:N, bytes:N", text)
    text = re.sub(r"(in_port\(|tnl_pop\(|actions:)(\d+)",
                  lambda m: m.group(1) + names.get(m.group(2), m.group(2)), text)
    return sorted(text.splitlines())


def dummy_scenario(sw):
    """Every bad packet into the dummy underlay port (each followed by a
    good one): [(name, pop errors counted so far)], the invalid packets
    counted, the datapath's flows, the native_tnl warnings logged."""
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    args = ["add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy"]
    for ofport, type_, key in DUMMY_TUNNELS:
        args += ["--", "add-port", "int-br", "t%d" % ofport, "--", "set", "Interface",
                 "t%d" % ofport, "type=" + type_, "options:remote_ip=" + PEER,
                 "options:key=%d" % key, "ofport_request=%d" % ofport]
    args += ["--", "add-port", "int-br", "t5", "--", "set", "Interface", "t5",
             "type=vxlan", "options:remote_ip=" + PEER6, "options:key=66",
             "ofport_request=5"]
    sw.vsctl(*args)
    sw.appctl("netdev-dummy/ip4addr", "br0", LOCAL + "/24")
    sw.appctl("ovs/route/add", PEER + "/24", "br0")
    sw.appctl("netdev-dummy/ip6addr", "br0", LOCAL6 + "/64")
    sw.appctl("ovs/route/add", PEER6 + "/64", "br0")
    sw.ofctl("add-flow", "br0", "action=normal")
    sw.ofctl("add-flow", "int-br", "action=LOCAL")
    sw.appctl("vlog/disable-rate-limit", "native_tnl")
    out = []
    n_err = 0
    pkts = bad_packets(_dummy_outer, *[(p, k) for p, _t, k in DUMMY_TUNNELS])
    pkts += _ipv6_packets()
    pkts.append(("runt", bytes.fromhex("aa55aa550000f8bc1244"), False))
    good = bytes(_dummy_outer() / UDP(sport=50000, dport=4789) / VXLAN(flags=0x08, vni=123)
                 / inner())
    for name, frame, pop_error in pkts:
        sw.appctl("netdev-dummy/receive", "p0", frame.hex())
        # (the real switch folds its count in on the next packet's loop)
        sw.appctl("netdev-dummy/receive", "p0", good.hex())
        n_err += pop_error
        wait_for(lambda: _counter(sw, POP_ERROR) >= n_err, timeout=5,
                 what="%s: %d tunnel pop errors" % (name, n_err))
        out.append((name, _counter(sw, POP_ERROR)))
    assert sw.proc.poll() is None
    out.append(_counter(sw, INVALID))
    out.append(_flows(sw))
    # the drops OVS logs, in its words
    log = (sw.dir / "vswitchd.log").read_text()
    out.append(re.findall(r"\|native_tnl\|WARN\|(.*)", log))
    return out


def test_bad_tunnel_packets_dummy_match_real(request, tmp_path):
    real = dummy_scenario(DummySwitch(request, "real", tmp_path / "real"))
    ours = dummy_scenario(DummySwitch(request, "pyovs", tmp_path / "pyovs"))
    for a, b in zip(real, ours):
        assert b == a
    assert len(ours) == len(real)


# -- the underlay veth of two namespaces: pyovs's switch and the real one -------

NS_TUNNELS = [("vxlan", 100), ("gre", 200), ("geneve", 300)]

SEND = r'''
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin.read().split():
    s.send(bytes.fromhex(line))
'''

SNIFF_ICMP = r'''
import select, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
end = time.monotonic() + float(sys.argv[1])
print("ready", flush=True)
while time.monotonic() < end:
    if select.select([s], [], [], 0.05)[0]:
        data, addr = s.recvfrom(65535)
        if len(data) >= 42 and data[12:14] == b"\x08\x00" and data[23] == 1 \
                and data[38:40] == b"\x70\x77":
            print(addr[0], int.from_bytes(data[40:42], "big"), flush=True)
'''


def _mac(ns, dev):
    out = run(["ip", "-n", ns, "link", "show", dev], timeout=10).stdout
    return re.search(r"link/ether (\S+)", out).group(1)


def _inject(topo, i):
    """Every bad packet into hypervisor I's switch through its underlay
    veth (sent from the other side): {ICMP seq of the packets its VM
    received}, and the tunnel pop errors that were expected."""
    j = 1 - i
    src_mac, dst_mac = _mac(topo.h[j], "br-phy"), _mac(topo.h[i], "br-phy")
    src_ip, dst_ip = topo.underlay[j], topo.underlay[i]

    def outer():
        return Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip)
    pkts = bad_packets(outer, *[(k, key) for k, (_t, key) in enumerate(NS_TUNNELS, 1)])
    sniff = subprocess.Popen(["ip", "netns", "exec", topo.m[i], "python3", "-c", SNIFF_ICMP,
                              "3"], stdout=subprocess.PIPE, text=True)
    topo.spawned.append(sniff)
    assert sniff.stdout.readline().strip() == "ready"
    r = run(["ip", "netns", "exec", topo.h[j], "python3", "-c", SEND, "ptu%d" % (j + 1)],
            input="\n".join(f.hex() for _n, f, _e in pkts), timeout=30)
    assert r.returncode == 0, r.stderr
    out, _ = sniff.communicate(timeout=15)
    names = {ICMP(bytes(Ether(f)[ICMP])).seq: n for n, f, _e in pkts if Ether(f).haslayer(ICMP)}
    got = {names.get(int(ln.split()[1])) for ln in out.splitlines()}
    return got, sum(e for _n, _f, e in pkts)


def test_bad_tunnel_packets_on_the_wire_match_real(request, tmp_path):
    """Hypervisor 1 is pyovs's switch, hypervisor 2 the real one; each gets
    the bad packets on its underlay veth: the same ones reach the VM (a
    VXLAN-GPE Ethernet packet does, as on any OVS VXLAN port), the same
    are counted as tunnel pop errors, and the tunnels still carry pings."""
    real_bin("ovs-vswitchd")
    needs_root()
    topo = Topo(tmp_path, NS_TUNNELS)
    request.addfinalizer(topo.close)
    switches = [topo.ovs(0, "pyovs"), topo.ovs(1, "real")]
    for k in range(1, len(NS_TUNNELS) + 1):
        wait_for(lambda: topo.ping(k, count=1).returncode == 0, timeout=20, interval=0.2,
                 what="a ping through tunnel %d" % k)
    results = []
    for i, sw in enumerate(switches):
        before = _counter(sw, POP_ERROR)
        delivered, n_err = _inject(topo, i)
        wait_for(lambda: _counter(sw, POP_ERROR) - before >= n_err, timeout=10,
                 what="%s: %d tunnel pop errors" % (sw.kind, n_err))
        results.append((delivered, _counter(sw, POP_ERROR) - before))
        assert sw.procs[1].poll() is None, sw.kind
    assert results[0] == results[1]
    assert results[0][0] == {"vxlan-gpe next protocol Ethernet"}
    for k in range(1, len(NS_TUNNELS) + 1):
        r = topo.ping(k, count=2)
        assert r.returncode == 0, (NS_TUNNELS[k - 1], r.stdout)
