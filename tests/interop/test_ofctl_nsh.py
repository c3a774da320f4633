"""NSH and packet types in pyovs's ovs-ofctl against Debian's real one:
the NSH match fields (nsh_flags..nsh_c4, NXOXM experimenter OXMs),
packet_type, encap(nsh(...))/encap(ethernet)/decap(...) and set_field,
load and move on NSH fields -- parse-flow text in OpenFlow 1.0, 1.3 and
1.5, the bytes add-flow sends, the real ofp-parse reading pyovs's bytes,
and flows added to a real ovs-vswitchd (OVS's tests/nsh.at flows)."""

import os
import subprocess

import pytest

from tests.conftest import real_bin
from tests.interop.test_ofctl_parse import run_pyovs
from tests.interop.test_ofctl_wire import fake_switch, _compare  # noqa: F401
from tests.interop import test_ofctl_switch as TS

from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.flow import parse_flow_mod

pytestmark = pytest.mark.interop

#: Flows good and bad; each is compared with the real tool.
CORPUS = [
    # nsh.at's flows
    "table=0,in_port=1,dl_type=0x894f,nsh_ttl=63,nsh_mdtype=1,nsh_np=3,"
    "nsh_spi=0x123456,nsh_si=255,nsh_c1=0x11223344,actions=set_field:0x2->"
    "nsh_flags,set_field:254->nsh_si,set_field:0x44332211->nsh_c1,"
    "load:0x77->nsh_c3[8..15],2",
    "table=0,in_port=1,ip,actions=encap(nsh(md_type=1)),set_field:0x1234->"
    "nsh_spi,set_field:0x11223344->nsh_c1,encap(ethernet),"
    "set_field:11:22:33:44:55:66->dl_dst,3",
    "table=0,in_port=4,dl_type=0x894f,nsh_mdtype=1,nsh_spi=0x1234,"
    "nsh_c1=0x11223344,actions=decap(),decap(),2",
    "table=0,in_port=1,ip,actions=encap(nsh(md_type=2,tlv(0x1000,10,"
    "0x12345678),tlv(0x2000,20,0xfedcba9876543210))),set_field:0x1234->"
    "nsh_spi,encap(ethernet),set_field:11:22:33:44:55:66->dl_dst,3",
    "table=0,in_port=4,dl_type=0x894f,nsh_mdtype=2,nsh_spi=0x1234,"
    "actions=decap(),decap(),2",
    "table=0,in_port=4,actions=encap(nsh),decap(),2",
    # match fields
    "packet_type=(1,0x894f),nsh_spi=0x5,nsh_si=255,actions=drop",
    "dl_type=0x894f,nsh_mdtype=1,nsh_c1=0x11223344,nsh_np=3,nsh_flags=2,"
    "nsh_ttl=5,actions=drop",
    "dl_type=0x894f,nsh_mdtype=1,nsh_c2=0x1/0x1,nsh_c3=5,nsh_c4=0xffffffff,"
    "actions=drop",
    "dl_type=0x894f,nsh_flags=3/0x3,nsh_c1=0x1/0xff,actions=drop",
    "dl_type=0x894f,nsh_spi=0x1000000,actions=drop",
    "dl_type=0x894f,nsh_si=3/0x3,actions=drop",
    "nsh_ttl=3/0x3,dl_type=0x894f,actions=drop",
    "dl_type=0x894f,nsh_ttl=64,actions=drop",
    "nsh_spi=5,actions=drop",
    "packet_type=(0,0),actions=drop",
    "packet_type=(0,0),ip,actions=drop",
    "packet_type=(0,0x1),actions=drop",
    "packet_type=(1,0x800),nw_src=1.2.3.4,actions=drop",
    "packet_type=(1,0x800),ip,actions=drop",
    "packet_type=(1,0x800),dl_src=00:00:00:00:00:01,actions=drop",
    "packet_type=(1,0x806),arp_op=1,actions=drop",
    "packet_type=(1,0x86dd),ipv6_src=::1,nw_proto=6,tcp_dst=5,actions=drop",
    "packet_type=(2,5),actions=drop",
    "packet_type=(10,10),actions=drop",
    "packet_type=(0xffff,0xfffe),actions=drop",
    "packet_type=(1,0x800/0xff),actions=drop",
    "packet_type=1,actions=drop",
    "packet_type=(1),actions=drop",
    "packet_type=(x,1),actions=drop",
    "packet_type=(1,70000),actions=drop",
    "packet_type=(0x1,0800),actions=drop",
    # actions
    "dl_type=0x894f,actions=set_field:5->nsh_spi,set_field:3->nsh_si,"
    "set_field:0x7700/0xff00->nsh_c3,set_field:2->nsh_flags,"
    "set_field:5->nsh_ttl,load:1->nsh_c2[0..3]",
    "dl_type=0x894f,actions=load:5->nsh_c1[],load:5->nsh_spi[],"
    "move:nsh_c1->nsh_c2,move:reg0->nsh_c1,move:nsh_spi->reg1[0..23]",
    "dl_type=0x894f,actions=set_field:0x40->nsh_ttl",
    "dl_type=0x894f,actions=load:64->nsh_ttl[]",
    "dl_type=0x894f,actions=set_field:0x1000000->nsh_spi",
    "dl_type=0x894f,actions=set_field:1->nsh_mdtype",
    "dl_type=0x894f,actions=set_field:1->nsh_np",
    "dl_type=0x894f,actions=set_field:0x3/0x3->nsh_flags",
    "actions=set_field:5->nsh_spi",
    "packet_type=(1,0x894f),actions=set_field:5->nsh_spi,decap(),"
    "set_field:1->nsh_si",
    "packet_type=(1,0x800),actions=encap(ethernet)",
    "packet_type=(0,0x894f),actions=decap(packet_type(ns=0,type=0))",
    "actions=decap(),set_field:5->nsh_spi",
    "actions=encap(nsh),clone(decap()),set_field:5->nsh_spi",
    "actions=clone(encap(nsh)),set_field:5->nsh_spi",
    "actions=encap(ethernet),set_field:00:00:00:00:00:01->eth_dst",
    "ip,actions=encap(nsh),set_field:1.2.3.4->ip_src",
    "ip,actions=decap(),set_field:1.2.3.4->ip_src",
    *("actions=" + a for a in [
        "encap(ethernet)", "encap(nsh)", "encap(nsh())", "encap(mpls)",
        "encap(mpls_mc)", "encap(nsh(md_type=1))", "encap(nsh(md_type=01))",
        "encap(nsh(md_type=2))", "encap(nsh(md_type=2,tlv(0x1000,10,0x12)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,0x123)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,0x1234567890)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,0x12),tlv(0x1000,10,0x12)))",
        "encap(nsh(md_type=2,tlv(0x10000,1,0x12)))",
        "encap(nsh(md_type=2,tlv(0x1000,300,0x12)))",
        "encap(nsh(md_type=2,tlv(0x1000, 10,0x12)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,0x12zz)))",
        "encap(nsh(tlv(0x1,1,0x11)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,5)))",
        "encap(nsh(md_type=2,tlv(4096,300,0x12)))",
        "encap(nsh(md_type=2,tlv(0x1000,10)))",
        "encap(nsh(md_type=2,tlv(0x1000,10,0x)))",
        "encap(nsh(md_type=1,foo=2))", "encap(nsh(foo))",
        "encap(nsh(md_type=x))", "encap(nsh(md_type=3))",
        "encap(nsh(md_type=))", "encap(nsh(md_type))",
        "encap(ethernet(foo))", "encap()", "encap", "encap(foo)",
        "encap(NSH)",
        "decap", "decap()", "decap(packet_type(ns=1,type=0x894f))",
        "decap(packet_type(ns=0,type=0))", "decap(packet_type(ns=4,type=1))",
        "decap(packet_type(ns=1,type=0x800,foo=1))",
        "decap(foo)", "decap(packet_type(ns=1))",
        "decap(packet_type(type=0x800))", "decap(packet_type(ns=x,type=1))",
        "decap(packet_type(ns=5,type=1))",
        "decap(packet_type(ns=70000,type=1))",
    ]),
]

VERSIONS = ["OpenFlow10", "OpenFlow13", "OpenFlow15"]


def _no_log(result):
    """Leave out log lines (with "|"): their times and sequence differ."""
    rc, out, err = result
    return rc, out, "".join(line + "\n" for line in err.splitlines()
                            if "|" not in line)


def run_real(args):
    p = subprocess.run([real_bin("ovs-ofctl"), *args], capture_output=True,
                       text=True, timeout=30)
    return _no_log((p.returncode, p.stdout, p.stderr))


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_flow_as_real(version):
    mismatches = []
    for flow in CORPUS:
        args = ["-O", version, "parse-flow", flow]
        real, ours = run_real(args), _no_log(run_pyovs(args))
        if real != ours:
            mismatches.append((flow, real, ours))
    assert not mismatches, "\n".join(f"{f!r}:\n real {r}\n ours {o}"
                                      for f, r, o in mismatches[:5])


def _good(version):
    """The corpus flows VERSION carries and decodes."""
    good = []
    for flow in CORPUS:
        rc, out, _ = run_pyovs(["-O", version, "parse-flow", flow])
        if rc == 0 and "decode error" not in out:
            good.append(flow)
    return good


@pytest.mark.parametrize("version", VERSIONS)
def test_add_flow_bytes_equal(fake_switch, version):  # noqa: F811
    flows = _good(version)
    assert len(flows) > 10
    for flow in flows:
        real, real_conv, ours, ours_conv = _compare(
            fake_switch, ["-O", version, "add-flow", "SW", flow])
        assert real.returncode == ours[0] == 0, flow
        assert real_conv == ours_conv, flow


@pytest.mark.parametrize("protocol", [P.OF10_NXM_TID, P.OF13_OXM, P.OF15_OXM])
def test_real_ofp_parse_reads_pyovs_bytes(tmp_path, protocol):
    version = {P.OF10_NXM_TID: "OpenFlow10", P.OF13_OXM: "OpenFlow13",
               P.OF15_OXM: "OpenFlow15"}[protocol]
    msgs = []
    # (Flows the version cannot decode are left out: the real tool rate
    # limits the log lines it writes about them.)
    for flow in _good(version):
        fm, usable = parse_flow_mod(flow)
        if usable & protocol:
            msgs.append(M.encode_flow_mod(fm, protocol, len(msgs) + 1))
    assert len(msgs) > 10
    path = tmp_path / "msgs.bin"
    path.write_bytes(b"".join(msgs))
    real = run_real(["ofp-parse", str(path)])
    assert real[0] == 0
    assert real == _no_log(run_pyovs(["ofp-parse", str(path)]))


class _Switch(TS.Switch):
    """The real switch of test_ofctl_switch.py on a port of this module's."""

    def __init__(self):
        super().__init__()
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        self.tcp_port = 16300 + int("".join(c for c in worker if c.isdigit())
                                    or "0") % 50


@pytest.fixture(scope="module")
def switch():
    real_bin("ovs-vswitchd")
    sw = _Switch()
    try:
        sw.start()
    except BaseException:
        sw.stop()
        raise
    yield sw
    sw.stop()


@pytest.mark.parametrize("version", ["OpenFlow13", "OpenFlow15"])
def test_flows_added_by_pyovs_dump_as_real(switch, version, tmp_path):
    """The flows pyovs's tool adds are those the real tool adds, and both
    tools dump them alike."""
    flows = [f for f in _good(version)
             if TS.real(switch, "-O", version, "add-flow", "br0", f)[0] == 0]
    assert len(flows) > 10
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    dump = ("-O", version, "--no-stats", "--sort", "dump-flows", "br0")
    TS.real(switch, "del-flows", "br0")
    assert TS.real(switch, "-O", version, "add-flows", "br0", str(path))[0] == 0
    by_real = TS.real(switch, *dump)
    TS.real(switch, "del-flows", "br0")
    assert TS.ours(switch, "-O", version, "add-flows", "br0", str(path))[0] == 0
    assert TS.real(switch, *dump) == by_real
    assert by_real == TS.normalise(TS.ours(switch, *dump))
    assert "nsh_spi=0x1234" in by_real[1]
    TS.real(switch, "del-flows", "br0")
