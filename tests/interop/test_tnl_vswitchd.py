"""Native tunneling in ovs-vswitchd on the dummy datapath, pyovs's daemon
against Debian's real ovs-vswitchd 3.1 running the same steps (the model
is OVS's own tests/tunnel-push-pop.at): tunnel ports in dpif/show and
tnl/ports/show, ARP snooping into tnl/neigh/show, the neighbor miss,
ofproto/trace of overlay packets to VXLAN, GRE and Geneve ports
(tnl_push, with or without clone, set_tunnel / set_field tun_dst, no
route) and of underlay packets to the switch's tunnel endpoints
(tnl_pop, megaflows), real encapsulated packets received through
netdev-dummy/receive (dpctl/dump-flows with the tunnel(...) key, port
statistics), and the Interface error column for bad tunnel options.
Texts must be equal; only the order of tnl/ports/show and of the flow
dump (hash order in OVS) and 'used:' times are normalised."""

import os
import re
import signal
import struct
import subprocess
from pathlib import Path

from tests.conftest import pyovs_bin, real_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import start_server

INNER = bytes.fromhex(
    "fe71d883724fbeb6f4e1494a080045000054ba200000400184861e0000011e00000200004227e754"
    "00030af3195500000000f265010000000000101112131415161718191a1b1c1d1e1f20212223"
    "2425262728292a2b2c2d2e2f3031323334353637")
BR_MAC = "aa:55:aa:55:00:00"
OVERLAY = ("in_port(2),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),"
           "ipv4(src=1.1.3.88,dst=1.1.3.112,proto=47,tos=0,ttl=64,frag=no)")


def tx_frames(pcap):
    """The frames a dummy port's tx_pcap file holds so far ([] while it is
    missing or being written)."""
    from pyovs.netdev.pcap import read_pcap
    try:
        return [bytes(f) for f in read_pcap(str(pcap))]
    except (OSError, ValueError):
        return []


def dumped_flows(sw, *args, counts=False):
    """SW's dpctl/dump-flows lines, sorted, 'used:' times normalised (and
    the statistics, which reach the real switch's dump on its own time,
    unless COUNTS)."""
    text = re.sub(r"used:[0-9.]+s|used:never", "used:X", sw.appctl("dpctl/dump-flows", *args))
    if not counts:
        text = re.sub(r"packets:\d+, bytes:\d+", "packets:N, bytes:N", text)
    return sorted(text.splitlines())


class Switch:
    """pyovs's ovsdb-server plus KIND's ovs-vswitchd (dummy datapath, no
    kernel routes) in DIRECTORY."""

    def __init__(self, request, kind, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        srv = start_server(request, "pyovs", str(self.dir))
        self.remote = srv.remote
        self.env = dict(os.environ, OVS_RUNDIR=str(self.dir), OVS_LOGDIR=str(self.dir),
                        OVS_DBDIR=str(self.dir))
        run([real_bin("ovs-vsctl"), "--no-wait", "--db=" + self.remote, "init"], check=True)
        self.ctl = str(self.dir / "vswitchd.ctl")
        exe = pyovs_bin("ovs-vswitchd") if kind == "pyovs" else real_bin("ovs-vswitchd")
        self.proc = subprocess.Popen(
            [exe, self.remote, "--enable-dummy", "--disable-system",
             "--disable-system-route", "--no-chdir", "--unixctl=" + self.ctl,
             "--log-file=" + str(self.dir / "vswitchd.log"), "-vconsole:off"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=self.env)
        request.addfinalizer(self.stop)
        wait_for(lambda: os.path.exists(self.ctl) or self.proc.poll() is not None,
                 timeout=20, what="ovs-vswitchd control socket")
        assert self.proc.poll() is None, self.proc.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            run([real_bin("ovs-appctl"), "-t", self.ctl, "exit"], timeout=10, env=self.env)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)

    def appctl(self, *args):
        r = run([real_bin("ovs-appctl"), "-t", self.ctl, *args], timeout=20, env=self.env)
        return r.stdout + r.stderr

    def vsctl(self, *args):
        r = run([real_bin("ovs-vsctl"), "--db=" + self.remote, "--timeout=20", *args],
                timeout=30, env=self.env)
        return r.stdout + r.stderr

    def ofctl(self, *args):
        r = run([real_bin("ovs-ofctl"), *args], timeout=20, env=self.env)
        return r.stdout + r.stderr


def _csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def vxlan_frame(vni, dst_ip=(1, 1, 2, 88)):
    vx = struct.pack("!II", 0x08000000, vni << 8) + INNER
    udp = struct.pack("!HHHH", 51283, 4789, 8 + len(vx), 0) + vx
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64,
                               17, 0, bytes([1, 1, 2, 92]), bytes(dst_ip)))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    return "aa55aa550000f8bc124434b60800" + bytes(ip + udp).hex()


def _last(text, n):
    return text.splitlines()[-n:]


def scenario(sw):
    out = []
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t2", "--", "set", "Interface", "t2", "type=vxlan",
             "options:remote_ip=1.1.2.92", "options:key=123", "ofport_request=2",
             "--", "add-port", "int-br", "t1", "--", "set", "Interface", "t1", "type=gre",
             "options:remote_ip=1.1.2.92", "options:key=456", "ofport_request=3",
             "--", "add-port", "int-br", "t3", "--", "set", "Interface", "t3",
             "type=vxlan", "options:remote_ip=1.1.2.93", "options:out_key=flow",
             "options:csum=true", "ofport_request=4",
             "--", "add-port", "int-br", "t4", "--", "set", "Interface", "t4",
             "type=geneve", "options:remote_ip=flow", "options:key=123",
             "ofport_request=5",
             "--", "add-port", "int-br", "t5", "--", "set", "Interface", "t5",
             "type=geneve", "options:remote_ip=1.1.2.93", "options:out_key=flow",
             "options:egress_pkt_mark=1234", "ofport_request=6")
    out.append(sw.appctl("dpif/show"))
    out.append(sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24"))
    out.append(sw.appctl("ovs/route/add", "1.1.2.92/24", "br0"))
    out.append(sw.appctl("ovs/route/add", "1.1.2.92/24", "br0", "pkt_mark=1234"))
    sw.ofctl("add-flow", "br0", "action=normal")
    out.append(sorted(sw.appctl("tnl/ports/show").splitlines()))
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    sw.ofctl("add-flow", "int-br", "action=2")
    out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 4))
    for sip, mac, tip in (("1.1.2.92", "f8:bc:12:44:34:b6", "1.1.2.88"),
                          ("1.1.2.93", "f8:bc:12:44:34:b7", "1.1.2.88"),
                          ("1.1.2.94", "f8:bc:12:44:34:b8", "1.1.2.90")):
        sw.appctl("netdev-dummy/receive", "p0",
                  "recirc_id(0),in_port(1),eth(src=%s,dst=ff:ff:ff:ff:ff:ff),"
                  "eth_type(0x0806),arp(sip=%s,tip=%s,op=2,sha=%s,"
                  "tha=00:00:00:00:00:00)" % (mac, sip, tip, mac))
    wait_for(lambda: "1.1.2.93" in sw.appctl("tnl/neigh/show"), what="ARP snooping")
    out.append(sorted(sw.appctl("tnl/neigh/show").splitlines()))   # hash order in OVS
    for flow in ("action=2", "action=3", "actions=set_tunnel:124,4",
                 "actions=set_field:1.1.2.92->tun_dst,5", "actions=2,3",
                 "actions=set_tunnel:234,6", "actions=set_tunnel:234,6,2",
                 "actions=5",       # remote_ip=flow without tun_dst
                 "actions=set_field:9.9.9.9->tun_dst,5"):
        sw.ofctl("del-flows", "int-br")
        sw.ofctl("add-flow", "int-br", flow)
        out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 4))
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "action=2")
    text = sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY)
    out.append(text.splitlines())
    for l4 in ("proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=4789)",
               "proto=47,tos=0,ttl=64,frag=no)",
               "proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=6081)",
               "proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=53)",
               "proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)"):
        out.append(_last(sw.appctl(
            "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,"
            "dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,"
            + l4), 2))
    # OpenFlow matches on the tunnel fields of packets out of a tunnel
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=2,tun_id=0x7b,tun_src=1.1.2.92,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "priority=5,tun_dst=1.1.2.88,actions=3")
    for key in (0x7b, 0x7c):
        out.append(sw.appctl(
            "ofproto/trace", "ovs-dummy", "tunnel(tun_id=%#x,src=1.1.2.92,dst=1.1.2.88,"
            "ttl=64,flags(key)),in_port(4789),eth(src=f8:bc:12:44:34:b6,dst=%s),"
            "eth_type(0x0800),ipv4(src=1.1.1.1,dst=1.1.2.88,proto=17,tos=0,ttl=64,"
            "frag=no),udp(src=1,dst=4789)" % (key, BR_MAC)).replace(sw.ctl, "CTL")
            .splitlines())
    # out of one tunnel into another (the underlay bridge nested in the trace)
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=2,actions=3,LOCAL")
    out.append(sw.appctl(
        "ofproto/trace", "ovs-dummy", "tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,"
        "ttl=64,flags(key)),in_port(4789),eth(src=f8:bc:12:44:34:b6,dst=%s),"
        "eth_type(0x0800),ipv4(src=1.1.1.1,dst=1.1.2.88,proto=17,tos=0,ttl=64,"
        "frag=no),udp(src=1,dst=4789)" % BR_MAC).splitlines())
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "in_port=2,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=2")
    sw.appctl("dpctl/del-flows")
    out.append(sw.appctl("tnl/neigh/flush"))       # relearned from the tunnel packet
    for _ in range(2):
        sw.appctl("netdev-dummy/receive", "p0", vxlan_frame(123))
    sw.appctl("netdev-dummy/receive", "int-br", "50540000000a5054000000091234")

    def flows():
        text = re.sub(r"used:[0-9.]+s", "used:X", sw.appctl("dpctl/dump-flows"))
        return sorted(text.splitlines())
    wait_for(lambda: sum(("0x1234" in ln) + ("tun_id=0x7b" in ln)
                         for ln in flows()) == 2, what="megaflows")
    out.append(flows())
    # the megaflow's packet reaches the port's counters with the next
    # statistics push (OVS's revalidators; pyovs's run() each second)
    out.append(sorted(sw.appctl("tnl/neigh/show").splitlines()))
    wait_for(lambda: "rx pkts=2," in sw.ofctl("dump-ports", "int-br", "2"),
             what="tunnel port statistics")
    ports = sw.ofctl("dump-ports", "int-br", "2")
    out.append([ln for ln in ports.splitlines() if "rx pkts=" in ln])
    # (transmit counters: both count the pushed packets, but the real
    # switch's count here includes a packet pyovs does not know of)
    out.append(re.search(r"tx pkts=(\d+)", ports).group(1) != "0")
    out.append([ln for ln in sw.appctl("dpctl/show").splitlines()
                if "lookups:" not in ln and "flows:" not in ln])
    sw.appctl("netdev-dummy/receive", "p0", vxlan_frame(99))     # no such key: dropped
    out.append(sorted(sw.appctl("tnl/ports/show").splitlines()))   # still serving
    # A neighbor or a route that goes away: resolving again, not garbage.
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "action=2")
    out.append(sw.appctl("tnl/neigh/flush"))
    out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 6))
    out.append(sw.appctl("ovs/route/del", "1.1.2.92/24"))
    out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 6))
    # IPv6 underlay: listeners, the ND miss, ND snooping, push and pop
    sw.vsctl("add-port", "int-br", "t6", "--", "set", "Interface", "t6", "type=vxlan",
             "options:remote_ip=2001:cafe::92", "options:key=66", "ofport_request=9")
    out.append(sw.appctl("netdev-dummy/ip6addr", "br0", "2001:cafe::88/24"))
    out.append(sw.appctl("ovs/route/add", "2001:cafe::92/24", "br0"))
    out.append(sorted(sw.appctl("tnl/ports/show", "-v").splitlines()))
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "action=9")
    out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 5))
    sw.appctl("netdev-dummy/receive", "p0",
              "recirc_id(0),in_port(1),eth(src=f8:bc:12:44:34:c8,dst=%s),eth_type(0x86dd),"
              "ipv6(src=2001:cafe::92,dst=2001:cafe::88,label=0,proto=58,tclass=0,"
              "hlimit=255,frag=no),icmpv6(type=136,code=0),nd(target=2001:cafe::92,"
              "sll=00:00:00:00:00:00,tll=f8:bc:12:44:34:c8)" % BR_MAC)
    wait_for(lambda: "cafe" in sw.appctl("tnl/neigh/show"), what="ND snooping")
    out.append(sorted(sw.appctl("tnl/neigh/show").splitlines()))
    out.append(_last(sw.appctl("ofproto/trace", "ovs-dummy", OVERLAY), 3))
    out.append(_last(sw.appctl(
        "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=%s),"
        "eth_type(0x86dd),ipv6(src=2001:cafe::92,dst=2001:cafe::88,label=0,proto=17,"
        "tclass=0,hlimit=64,frag=no),udp(src=1,dst=4789)" % BR_MAC), 2))
    # New options move a port to another datapath tunnel port
    sw.vsctl("set", "interface", "t3", "options:dst_port=5000")
    wait_for(lambda: "5000" in sw.appctl("tnl/ports/show"), what="t3 re-registered")
    out.append(sorted(sw.appctl("tnl/ports/show").splitlines()))
    out.append([ln for ln in sw.appctl("dpif/show").splitlines() if " t3 " in ln])
    out.append([ln for ln in sw.appctl("dpctl/show").splitlines() if "_sys" in ln])
    return out


def test_tunnel_push_pop_matches_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)


BAD = [("vxlan", ["options:remote_ip=foo"]),
       ("vxlan", ["options:key=1"]),
       ("gre", ["options:remote_ip=224.1.1.1"]),
       ("vxlan", ["options:remote_ip=1.1.1.1", "options:packet_type=legacy_l3"]),
       ("geneve", ["options:remote_ip=1.1.1.1", "options:packet_type=legacy_l3"]),
       ("gre", ["options:remote_ip=1.1.1.1", "options:packet_type=foo"]),
       ("vxlan", ["options:remote_ip=1.1.1.1", "options:local_ip=flow"]),
       ("geneve", ["options:remote_ip=::1", "options:local_ip=1.1.1.1"]),
       ("vxlan", ["options:remote_ip=1.1.1.1", "options:dst_port=5000", "options:tos=4",
                  "options:ttl=10", "options:df_default=false", "options:in_key=5",
                  "options:out_key=7", "options:local_ip=2.2.2.2", "options:csum=true"]),
       ("gre", ["options:remote_ip=2001::1", "options:key=flow", "options:bogus=1"])]


def bad_options(sw):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy")
    out = []
    for i, (type_, opts) in enumerate(BAD):
        name = "tx%d" % i
        sw.vsctl("add-port", "br0", name, "--", "set", "interface", name,
                 "type=" + type_, *opts)
        out.append(sw.vsctl("get", "interface", name, "error"))
        out.append([ln for ln in sw.appctl("dpif/show").splitlines()
                    if ln.strip().startswith(name + " ")])
    out.append(sorted(sw.appctl("tnl/ports/show").splitlines()))
    out.append(sw.appctl("dpif/show").count("\n"))
    return out


def test_bad_tunnel_options_match_real(request, tmp_path):
    real = bad_options(Switch(request, "real", tmp_path / "real"))
    ours = bad_options(Switch(request, "pyovs", tmp_path / "pyovs"))
    assert ours == real


def test_garbled_tunnel_packets_keep_switch_serving(request, tmp_path):
    """Truncated and corrupted VXLAN frames to the tunnel endpoint are
    counted and dropped; the switch keeps serving and keeps its tunnels
    (pyovs only: what matters is that nothing breaks)."""
    import random
    sw = Switch(request, "pyovs", tmp_path / "pyovs")
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy",
             "--", "add-port", "int-br", "t2", "--", "set", "Interface", "t2",
             "type=vxlan", "options:remote_ip=1.1.2.92", "options:key=123")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.ofctl("add-flow", "br0", "action=normal")
    before = sw.appctl("tnl/ports/show")
    good = bytes.fromhex(vxlan_frame(123))
    rnd = random.Random(6)
    for _ in range(40):
        f = bytearray(good[:rnd.randrange(14, len(good) + 1)])
        for _ in range(rnd.randrange(0, 4)):
            i = rnd.randrange(14, 60)
            if i < len(f):
                f[i] = rnd.randrange(256)
        sw.appctl("netdev-dummy/receive", "p0", bytes(f).hex())
    sw.appctl("netdev-dummy/receive", "p0", good.hex())
    assert sw.proc.poll() is None
    assert sw.appctl("tnl/ports/show") == before
    assert "tun_id=0x7b" in wait_for(lambda: sw.appctl("dpctl/dump-flows").count(
        "tun_id=0x7b") and sw.appctl("dpctl/dump-flows"), what="the good packet's flow")


INNER_FLOWS = [
    "eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(src=10.0.0.1,"
    "dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1234,dst=5678)",
    "eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(src=10.0.0.1,"
    "dst=10.0.0.3,proto=6,tos=0x2,ttl=64,frag=no),tcp(src=80,dst=443)",
    "eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(src=10.0.0.1,"
    "dst=10.0.0.4,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)",
    "eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x86dd),ipv6(src=2001::1,"
    "dst=2001::2,label=0,proto=17,tclass=0,hlimit=64,frag=no),udp(src=7,dst=9)",
    "eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x1234)",
]


def wire(sw, pcap):
    """Overlay packets into VXLAN (key, csum), GRE (key) and Geneve (two
    options from tun_metadata0/1 through the TLV map, one critical): the
    trace, and the frames p0 sends, byte for byte."""
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1",
             "options:tx_pcap=" + str(pcap))
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t2", "--", "set", "Interface", "t2", "type=vxlan",
             "options:remote_ip=1.1.2.92", "options:key=123", "ofport_request=2",
             "--", "add-port", "int-br", "t3", "--", "set", "Interface", "t3", "type=vxlan",
             "options:remote_ip=1.1.2.92", "options:key=7", "options:csum=true",
             "options:tos=inherit", "options:ttl=9", "ofport_request=3",
             "--", "add-port", "int-br", "t1", "--", "set", "Interface", "t1", "type=gre",
             "options:remote_ip=1.1.2.92", "options:key=456", "ofport_request=4",
             "--", "add-port", "int-br", "t4", "--", "set", "Interface", "t4",
             "type=geneve", "options:remote_ip=1.1.2.92", "options:df_default=false",
             "ofport_request=5")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.appctl("tnl/arp/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6")
    sw.ofctl("add-flow", "br0", "action=normal")
    sw.ofctl("add-tlv-map", "int-br", "{class=0xffff,type=0x80,len=4}->tun_metadata0,"
             "{class=0x102,type=0x3,len=8}->tun_metadata1")
    sw.ofctl("add-flow", "int-br", "in_port=LOCAL,actions=2,3,4,"
             "set_field:0xa->tun_metadata0,set_field:0x1122->tun_metadata1,5")
    trace = sw.appctl("ofproto/trace", "int-br", "in_port=LOCAL,udp").splitlines()
    for flow in INNER_FLOWS:
        sw.appctl("netdev-dummy/receive", "int-br", flow)
    wait_for(lambda: len(tx_frames(pcap)) >= 4 * len(INNER_FLOWS), what="encapsulated frames")
    return trace, tx_frames(pcap)


def test_encapsulated_frames_equal_the_real_switchs(request, tmp_path):
    real_trace, real = wire(Switch(request, "real", tmp_path / "real"),
                            tmp_path / "real.pcap")
    our_trace, ours = wire(Switch(request, "pyovs", tmp_path / "pyovs"),
                           tmp_path / "pyovs.pcap")
    assert our_trace == real_trace
    assert len(ours) == len(real)
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b.hex() == a.hex(), "frame %d" % i


def geneve_frame(vni, options):
    """A Geneve frame to 1.1.2.88 with OPTIONS [(class, type, data)]."""
    opts = b"".join(struct.pack("!HBB", c, t, len(d) // 4) + d for c, t, d in options)
    crit = 0x40 if any(t & 0x80 for _c, t, _d in options) else 0
    gnv = struct.pack("!BBHI", len(opts) // 4, crit, 0x6558, vni << 8) + opts + INNER
    udp = struct.pack("!HHHH", 51283, 6081, 8 + len(gnv), 0) + gnv
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64,
                               17, 0, bytes([1, 1, 2, 92]), bytes([1, 1, 2, 88])))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    return "aa55aa550000f8bc124434b60800" + bytes(ip + udp).hex()


def geneve_rx(sw):
    """Geneve options of received packets matched as tun_metadata0."""
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t4", "--", "set", "Interface", "t4", "type=geneve",
             "options:remote_ip=1.1.2.92", "options:key=123", "ofport_request=5")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.ofctl("add-flow", "br0", "action=normal")
    sw.ofctl("add-tlv-map", "int-br", "{class=0xffff,type=0x80,len=4}->tun_metadata0")
    sw.ofctl("add-flow", "int-br", "priority=10,tun_metadata0=0xa,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "priority=5,actions=drop")
    for data in (b"\0\0\0\x0a", b"\0\0\0\x0b", b"\0\0\0\x0a", b"\0\0\0\x0a"):
        sw.appctl("netdev-dummy/receive", "p0",
                  geneve_frame(123, [(0xffff, 0x80, data), (0x102, 0x3, bytes(8))]))

    def counts():
        text = sw.ofctl("dump-flows", "int-br")
        return sorted(re.sub(r"(duration|idle_age)=[^,]*, ?", "", ln).strip()
                      for ln in text.splitlines()[1:])
    wait_for(lambda: "n_packets=3" in " ".join(counts()), what="rule statistics")
    return counts()


def test_geneve_options_match_tun_metadata_as_real(request, tmp_path):
    real = geneve_rx(Switch(request, "real", tmp_path / "real"))
    ours = geneve_rx(Switch(request, "pyovs", tmp_path / "pyovs"))
    assert ours == real
