"""Select groups forward traffic as the real switch does: pyovs's
ovs-vswitchd and Debian's 3.1 on the dummy datapath (the harness of
test_tnl_vswitchd.py) get the same packets of several TCP and UDP flows
through a two-bucket select group (OVS's dp_hash method: hash(sym_l4(0)),
recirc, a bucket per hash); each packet must leave by the same port on
both, and the datapath flows must be the same."""

import pytest

from pyovs.packet import build
from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import Switch, dumped_flows, tx_frames

pytestmark = pytest.mark.interop

FLOWS = ([("tcp", 1000 + i, 80) for i in range(6)]
         + [("udp", 2000 + i, 53) for i in range(6)])


def _frame(proto, sport, dport):
    make = build.tcp_packet if proto == "tcp" else build.udp_packet
    return make("00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2",
                sport, dport, payload=b"x" * 20)


def scenario(sw):
    pcaps = {p: sw.dir / ("%s.pcap" % p) for p in ("p2", "p3")}
    args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
            "protocols=OpenFlow15"]
    for i, p in enumerate(("p1", "p2", "p3"), 1):
        args += ["--", "add-port", "br0", p, "--", "set", "Interface", p, "type=dummy",
                 "ofport_request=%d" % i]
        if p in pcaps:
            args.append("options:tx_pcap=%s" % pcaps[p])
    sw.vsctl(*args)
    sw.ofctl("-O", "OpenFlow15", "add-group", "br0",
             "group_id=1,type=select,bucket=bucket_id=0,output:2,bucket=bucket_id=1,output:3")
    sw.ofctl("-O", "OpenFlow15", "add-flow", "br0", "in_port=1,actions=group:1")
    for flow in FLOWS:
        sw.appctl("netdev-dummy/receive", "p1", _frame(*flow).hex())
    def sent():
        return {port: tx_frames(path) for port, path in pcaps.items()}
    wait_for(lambda: sum(map(len, sent().values())) >= len(FLOWS), timeout=10,
             what="the packets out of the group")
    return sent(), dumped_flows(sw)


def test_select_group_forwards_as_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    frames = {p: [_frame(*f) for f in FLOWS] for p in ("p2", "p3")}
    assert {p: len(v) for p, v in real[0].items()} != {"p2": 0, "p3": len(FLOWS)}, \
        "the real switch used one bucket only: the test shows nothing"
    assert ours[0] == real[0]
    assert all(f in frames[p] for p, fs in ours[0].items() for f in fs)
    assert ours[1] == real[1]
