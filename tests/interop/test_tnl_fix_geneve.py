"""Geneve options in the datapath's tunnel key, pyovs's ovs-vswitchd against
Debian's real one side by side on the dummy datapath (the harness of
test_tnl_vswitchd.py): received Geneve packets give megaflows whose
tunnel(...,geneve({class=..,type=..,len=..,DATA/MASK}...)) key and mask
are OVS's (dpctl/dump-flows, plain and --names), with and without a TLV
map, options matched partly, options the map does not name, a critical
option it does not name (dropped); ofproto/trace of datapath flows
carrying Geneve options (the Flow:, Megaflow: -- NP for options the packet
lacks -- and Datapath actions: lines) and its errors; netdev-dummy/receive
of such flows; a tunnel key without TTL refused as OVS refuses it."""


from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import BR_MAC, Switch, dumped_flows, geneve_frame

TRACE = ("tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,geneve(%s),flags(key)),"
         "in_port(6081),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),"
         "ipv4(src=1.1.1.1,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=4789)")


def _setup(sw):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy")
    sw.vsctl("add-port", "int-br", "t4", "--", "set", "Interface", "t4", "type=geneve",
             "options:remote_ip=1.1.2.92", "options:key=123", "ofport_request=5",
             "--", "add-port", "int-br", "t5", "--", "set", "Interface", "t5",
             "type=geneve", "options:remote_ip=1.1.2.92", "options:key=124",
             "ofport_request=6")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.ofctl("add-flow", "br0", "action=normal")


def _tunnel_flows(sw, n, *args, key="tun_id=0x7b", counts=False):
    """The megaflows of packets out of the tunnel with KEY, once there are N
    (their statistics, which reach the real switch's dump on its own time,
    only with COUNTS)."""
    def get():
        return [ln for ln in dumped_flows(sw, *args, counts=counts)
                if ln.startswith("tunnel(") and key in ln]
    wait_for(lambda: len(get()) >= n, what="%d tunnel megaflows" % n)
    return get()


def scenario(sw):
    _setup(sw)
    out = []
    # No TLV map: the options not matched (a critical one is dropped)
    sw.ofctl("add-flow", "int-br", "actions=LOCAL")
    sw.appctl("netdev-dummy/receive", "p0", geneve_frame(
        123, [(0xffff, 0x80, b"\0\0\0\x0a"), (0x102, 0x3, b"\1" * 8)]))
    _tunnel_flows(sw, 1)
    # (other options hit that megaflow)
    sw.appctl("netdev-dummy/receive", "p0", geneve_frame(123, [(0x102, 0x3, b"\1" * 4)]))
    wait_for(lambda: "packets:1," in " ".join(_tunnel_flows(sw, 1, counts=True)),
             what="megaflow hit")
    out.append(_tunnel_flows(sw, 1))
    out.append(sw.appctl("ofproto/trace", "ovs-dummy",
                         TRACE % "{class=0xffff,type=0x80,len=4,0xa}")
               .replace(sw.ctl, "CTL"))
    # A TLV map and matches on tun_metadata0 (partly) and tun_metadata1
    sw.ofctl("add-tlv-map", "int-br", "{class=0xffff,type=0x80,len=4}->tun_metadata0,"
             "{class=0x102,type=0x3,len=8}->tun_metadata1")
    sw.ofctl("del-flows", "int-br")
    sw.ofctl("add-flow", "int-br", "priority=10,tun_metadata0=0xa/0xff,actions=LOCAL")
    sw.ofctl("add-flow", "int-br", "priority=8,tun_metadata1=0x1/0x1,actions=2")
    sw.ofctl("add-flow", "int-br", "priority=5,actions=drop")
    for opts in ([(0xffff, 0x80, b"\0\0\1\x0a"), (0x102, 0x3, bytes(8))],
                 [(0xffff, 0x80, b"\0\0\0\x0b"), (0x102, 0x3, b"\0" * 7 + b"\1")],
                 [(0x102, 0x3, b"\0" * 7 + b"\3")],
                 [(0x103, 0x3, b"\0" * 4)]):
        sw.appctl("netdev-dummy/receive", "p0", geneve_frame(124, opts))
    out.append(_tunnel_flows(sw, 4, key="tun_id=0x7c"))
    out.append(_tunnel_flows(sw, 4, "--names", key="tun_id=0x7c"))
    for g in ("{class=0xffff,type=0x80,len=4,0xa}",
              "{class=0xffff,type=0x80,len=4,0x10a}{class=0x102,type=0x3,len=8,0x1}",
              "{class=0x102,type=0x3,len=8,0x1}",
              "{class=0xffff,type=0x80,len=4,0xa/0xff}",
              "{class=0xffff,type=0x80,len=4}",
              "{class=0x103,type=0x3,len=4,0xffffffff}",
              "{class=0xffff/0xff,type=0x80/0xf0,len=4/0x1f,0xa/0xff}",
              "{class=0xffff,type=0x80,len=3,0xa}",      # not a datapath flow
              "{class=0xffff,type=0x80}",                # len 0: not the map's
              "{class=0x104,type=0x81,len=4,0x1}",       # critical, not mapped
              "{}"):
        out.append(sw.appctl("ofproto/trace", "ovs-dummy", TRACE % g)
                   .replace(sw.ctl, "CTL").splitlines())
    out.append(sw.appctl("ofproto/trace", TRACE % "{class=0xffff,type=0x80,len=3,0xa}")
               .replace(sw.ctl, "CTL").splitlines())
    # a tunnel key without a TTL is no flow: trace, receive and dpctl refuse it
    no_ttl = TRACE.replace("ttl=64,geneve(%s),", "")
    out.append(sw.appctl("ofproto/trace", "ovs-dummy", no_ttl).replace(sw.ctl, "CTL"))
    out.append(sw.appctl("ofproto/trace", no_ttl).replace(sw.ctl, "CTL"))
    out.append(sw.appctl("netdev-dummy/receive", "p0", no_ttl.replace("in_port(6081)",
                                                                      "in_port(1)"))
               .replace(sw.ctl, "CTL"))
    out.append(sw.appctl("dpctl/add-flow", "tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,"
                         "flags(-df-csum+key)),recirc_id(0),in_port(6081),eth_type(0x0800),"
                         "ipv4(frag=no)", "2").replace(sw.ctl, "CTL"))
    # netdev-dummy/receive reads such flows too (the packet has no metadata)
    for g in ("{class=0xffff,type=0x80,len=4,0xa}", "{class=0xffff,type=0x80,len=3,0xa}"):
        out.append(sw.appctl("netdev-dummy/receive", "p0",
                             TRACE.replace("in_port(6081)", "in_port(1)") % g)
                   .replace(sw.ctl, "CTL"))
    return out


def test_geneve_options_in_datapath_flows_match_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    for i, (a, b) in enumerate(zip(real, ours)):
        assert b == a, "step %d differs" % i
    assert len(real) == len(ours)
