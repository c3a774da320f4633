"""NSH in ovs-vswitchd on the dummy datapath, pyovs's daemon against
Debian's real ovs-vswitchd 3.1 running the same steps (the model is OVS's
tests/nsh.at): flows with NSH matches and actions added by the real
ovs-ofctl and dumped back, and ofproto/trace of an NSH packet whose fields
set_field/load rewrite (set(nsh(...)) with masks) and of IPv4 packets that
encap(nsh(md_type=1 or 2)) and encap(ethernet) push into NSH and a new
Ethernet header (push_nsh, push_eth).  Texts must be equal."""

import re

import pytest

from tests.conftest import real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl

pytestmark = pytest.mark.interop

FLOWS = [
    # nsh.at "match and set"
    "table=0,in_port=1,dl_type=0x894f,nsh_ttl=63,nsh_mdtype=1,nsh_np=3,"
    "nsh_spi=0x123456,nsh_si=255,nsh_c1=0x11223344,actions=set_field:0x2->"
    "nsh_flags,set_field:254->nsh_si,set_field:0x44332211->nsh_c1,"
    "load:0x77->nsh_c3[8..15],2",
    # nsh.at "md1 encap", "md2 encap" (without the patch ports' decap)
    "table=0,in_port=1,ip,actions=encap(nsh(md_type=1)),set_field:0x1234->"
    "nsh_spi,set_field:0x11223344->nsh_c1,encap(ethernet),"
    "set_field:11:22:33:44:55:66->dl_dst,2",
    "table=0,in_port=3,ip,actions=encap(nsh(md_type=2,tlv(0x1000,10,"
    "0x12345678),tlv(0x2000,20,0xfedcba9876543210))),set_field:0x1234->"
    "nsh_spi,encap(ethernet),set_field:11:22:33:44:55:66->dl_dst,2",
    "table=0,in_port=3,dl_type=0x894f,nsh_mdtype=1,actions=set_field:3/0x3->"
    "nsh_flags,set_field:5->nsh_ttl,set_field:0x1234->nsh_spi,"
    "move:nsh_c2->nsh_c4,2",
    "table=0,in_port=3,dl_type=0x894f,nsh_mdtype=2,actions=set_field:7->nsh_si,"
    "set_field:0x5/0xff->nsh_c1,2",
    "table=0,in_port=4,actions=encap(nsh),encap(ethernet),2",
]

NSH_HEADER = ("nsh_flags=0,nsh_ttl=63,nsh_mdtype=1,nsh_np=3,nsh_spi=0x123456,"
              "nsh_si=255,nsh_c1=0x11223344,nsh_c2=0x55667788,"
              "nsh_c3=0x99aabbcc,nsh_c4=0xddeeff00")
ICMP = ("icmp,dl_src=00:11:22:33:44:55,dl_dst=66:77:88:99:aa:bb,"
        "nw_dst=10.10.10.10,nw_src=20.20.20.20")
TRACES = [
    "in_port=1,eth_type=0x894f," + NSH_HEADER,
    "in_port=1," + ICMP,
    "in_port=3," + ICMP,
    "in_port=3,eth_type=0x894f," + NSH_HEADER,
    "in_port=3,eth_type=0x894f,nsh_mdtype=2,nsh_np=1,nsh_spi=0x10,nsh_si=3",
    "in_port=4," + ICMP,
    "in_port=4,dl_vlan=5," + ICMP,
]


#: nsh.at's ICMP echo request, and the same in NSH (MD type 1, NSH_HEADER's
#: fields) after an Ethernet header.
ICMP_FRAME = bytes.fromhex(
    "1e2ce92a669e3a6dd2099cab0800450000548a53400040011addc0a80a0ac0a80a1e0800"
    "6f200a4d0001fc509a58000000002715020000000000101112131415161718191a1b1c1d"
    "1e1f202122232425262728292a2b2c2d2e2f3031323334353637")
NSH_FRAME = (bytes.fromhex("112233445566" "001122334455" "894f"
                           "0fc6" "0103" "12345 6ff".replace(" ", "")
                           + "11223344" "55667788" "99aabbcc" "ddeeff00")
             + ICMP_FRAME)


def ofctl(sw, *args):
    r = run([real_bin("ovs-ofctl"), *args], timeout=20, env=sw.env)
    return r.returncode, r.stdout, r.stderr


def scenario(sw):
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
          "datapath_type=dummy", "fail-mode=secure",
          "protocols=OpenFlow10,OpenFlow13,OpenFlow14,OpenFlow15",
          *[a for i in (1, 2, 3, 4) for a in (
              "--", "add-port", "br0", f"p{i}", "--", "set", "interface",
              f"p{i}", "type=dummy", f"ofport_request={i}")],
          "--", "set", "interface", "p2", f"options:tx_pcap={sw.dir}/p2.pcap")
    out = []
    flows = sw.dir / "flows.txt"
    flows.write_text("\n".join(FLOWS) + "\n")
    out.append(ofctl(sw, "-Oopenflow13", "add-flows", "br0", str(flows)))
    out.append(ofctl(sw, "-Oopenflow13", "--no-stats", "--sort", "dump-flows",
                     "br0"))
    for flow in TRACES:
        r = sw.appctl("ofproto/trace", "br0", flow)
        out.append((flow, r.returncode, r.stdout, r.stderr))
    # Real packets: two of each, the second one on the megaflow the first
    # installed.
    for port, frame in (("p1", NSH_FRAME), ("p1", ICMP_FRAME), ("p4", ICMP_FRAME),
                        ("p3", NSH_FRAME)):
        for _ in range(2):
            r = sw.appctl("netdev-dummy/receive", port, frame.hex())
            out.append((port, r.returncode, r.stdout, r.stderr))
    r = sw.appctl("dpctl/dump-flows", "dummy@ovs-dummy")
    flows = sorted(re.sub(r"used:[^,]*", "used:?", line)
                   for line in r.stdout.splitlines())
    out.append((r.returncode, flows, r.stderr))
    return out


def frames(sw, want):
    """What p2 sent (waiting a little for WANT frames)."""
    from tests.interop.test_tnl_vswitchd import tx_frames
    try:
        wait_for(lambda: len(tx_frames(sw.dir / "p2.pcap")) >= want, timeout=3,
                 what="frames")
    except AssertionError:
        pass
    return tx_frames(sw.dir / "p2.pcap")


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """The scenario on the real switch and on pyovs's: (texts, frames) each."""
    out = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, str(tmp_path_factory.mktemp(kind)))
        texts = scenario(sw)
        out[kind] = (texts, frames(sw, len(out["real"][1]) if out else 8))
    return out


def test_nsh_traces_and_flows_match_real(runs):
    real, ours = runs["real"][0], runs["pyovs"][0]
    assert len(real) == len(ours)
    for a, b in zip(real, ours):
        assert b == a


def test_nsh_frames_match_real(runs):
    real, ours = runs["real"][1], runs["pyovs"][1]
    assert len(real) == 8
    assert [f.hex() for f in ours] == [f.hex() for f in real]


RECEIVED = [("1", NSH_FRAME), ("1", ICMP_FRAME), ("4", ICMP_FRAME),
            ("3", NSH_FRAME)]


def test_packet_nsh_makes_the_real_switchs_frames(runs):
    """pyovs.packet.nsh run on the received frames with the datapath
    actions the real switch installed gives the frames it sent."""
    from pyovs.odp import actions as odp_actions
    from pyovs.packet import nsh
    texts, real_frames = runs["real"]
    dump = texts[-1][1]
    ours = []
    for port, frame in RECEIVED:
        eth_type = "eth_type(0x%04x)" % int.from_bytes(frame[12:14], "big")
        line = next(x for x in dump if f"in_port({port})" in x and eth_type in x)
        actions = odp_actions.parse_actions(line.split("actions:", 1)[1])
        for _ in range(2):
            data, pt = frame, nsh.PT_ETH
            for name, arg in actions:
                if name == "set":
                    assert arg[0] == "nsh"
                    data = nsh.set_nsh(data, arg[1], arg[2])
                elif name == "output":
                    ours.append(data)
                else:
                    data, pt = nsh.apply(name, arg, data, pt)
    assert len(real_frames) == 8
    assert [f.hex() for f in ours] == [f.hex() for f in real_frames]


# nsh.at "md1 encap over a veth link" and "md2 encap over a veth link": the
# packet goes out into NSH and back in through patch ports, where decap()
# twice takes it out of NSH again (pop_eth, pop_nsh(), recirculation); then
# VLAN-tagged packets encapsulated and decapsulated at once.
DECAP_FLOWS = [
    ["table=0,in_port=1,ip,actions=encap(nsh(md_type=1)),set_field:0x1234->"
     "nsh_spi,set_field:0x11223344->nsh_c1,encap(ethernet),"
     "set_field:11:22:33:44:55:66->dl_dst,3",
     "table=0,in_port=4,dl_type=0x894f,nsh_mdtype=1,nsh_spi=0x1234,"
     "nsh_c1=0x11223344,actions=decap(),decap(),2"],
    ["table=0,in_port=1,ip,actions=encap(nsh(md_type=2,tlv(0x1000,10,"
     "0x12345678),tlv(0x2000,20,0xfedcba9876543210))),set_field:0x1234->"
     "nsh_spi,encap(ethernet),set_field:11:22:33:44:55:66->dl_dst,3",
     "table=0,in_port=4,dl_type=0x894f,nsh_mdtype=2,nsh_spi=0x1234,"
     "actions=decap(),decap(),2"],
    ["table=0,in_port=1,actions=push_vlan:0x8100,mod_vlan_vid:100,3",
     "table=0,in_port=4,actions=encap(nsh),decap(),2"],
    # nsh.at "double encap over veth link using groups"
    ["table=0,in_port=1,ip,actions=group:100",
     "table=0,in_port=4,packet_type=(0,0),dl_type=0x894f,nsh_mdtype=1,"
     "nsh_spi=0x5678,nsh_c1=0x55667788,actions=decap(),goto_table:1",
     "table=1,packet_type=(1,0x894f),nsh_mdtype=1,nsh_spi=0x5678,"
     "nsh_c1=0x55667788,actions=decap(),goto_table:2",
     "table=2,packet_type=(1,0x894f),nsh_mdtype=1,nsh_spi=0x1234,"
     "nsh_c1=0x11223344,actions=decap(),output:2"],
]
GROUPS = [
    "add group_id=100,type=indirect,bucket=actions=encap(nsh(md_type=1)),"
    "set_field:0x1234->nsh_spi,set_field:0x11223344->nsh_c1,group:200",
    "add group_id=200,type=indirect,bucket=actions=encap(nsh(md_type=1)),"
    "set_field:0x5678->nsh_spi,set_field:0x55667788->nsh_c1,group:300",
    "add group_id=300,type=indirect,bucket=actions=encap(ethernet),"
    "set_field:11:22:33:44:55:66->dl_dst,3",
]
DECAP_TRACES = [
    "in_port=1," + ICMP,
    "in_port=4,dl_type=0x894f,nsh_mdtype=1,nsh_np=3,nsh_spi=0x1234,"
    "nsh_c1=0x11223344",
    "in_port=4,dl_type=0x894f,nsh_mdtype=2,nsh_np=3,nsh_spi=0x1234",
]
ICMP_FRAME2 = bytes.fromhex(
    "1e2ce92a669e3a6dd2099cab0800450000548a83400040011aadc0a80a0ac0a80a1e0800"
    "b7170a4d0002fd509a5800000000de1c020000000000101112131415161718191a1b1c1d"
    "1e1f202122232425262728292a2b2c2d2e2f3031323334353637")


def decap_scenario(sw, flows):
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
          "datapath_type=dummy", "fail-mode=secure",
          "protocols=OpenFlow10,OpenFlow13,OpenFlow14,OpenFlow15",
          "--", "add-port", "br0", "p1", "--", "set", "interface", "p1",
          "type=dummy", "ofport_request=1",
          "--", "add-port", "br0", "p2", "--", "set", "interface", "p2",
          "type=dummy", "ofport_request=2", f"options:tx_pcap={sw.dir}/p2.pcap",
          "--", "add-port", "br0", "v3", "--", "set", "interface", "v3",
          "type=patch", "options:peer=v4", "ofport_request=3",
          "--", "add-port", "br0", "v4", "--", "set", "interface", "v4",
          "type=patch", "options:peer=v3", "ofport_request=4")
    path = sw.dir / "groups.txt"
    path.write_text("\n".join(GROUPS) + "\n")
    ofctl(sw, "-Oopenflow13", "add-groups", "br0", str(path))
    path = sw.dir / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    out = [ofctl(sw, "-Oopenflow13", "add-flows", "br0", str(path)),
           ofctl(sw, "-Oopenflow13", "--no-stats", "--sort", "dump-flows", "br0")]
    for flow in DECAP_TRACES:
        r = sw.appctl("ofproto/trace", "br0", flow)
        out.append((flow, r.returncode, r.stdout, r.stderr))
    for frame in (ICMP_FRAME, ICMP_FRAME2):
        r = sw.appctl("netdev-dummy/receive", "p1", frame.hex())
        out.append((r.returncode, r.stdout, r.stderr))
    sent = frames(sw, 2)
    # (again after a revalidation: a flow table change re-translates every
    # megaflow, the recirculated ones from the state decap() froze.  Only
    # those are compared then: the real switch also drops the first one,
    # for reasons of its own revalidator.)
    for step in range(2):
        if step:
            ofctl(sw, "add-flow", "br0", "table=7,actions=drop")
            sw.appctl("revalidator/wait")
        r = sw.appctl("dpctl/dump-flows", "dummy@ovs-dummy")
        out.append((r.returncode, sorted(
            re.sub(r"used:[^,]*", "used:?", line)
            for line in r.stdout.splitlines() if "ipv6" not in line
            and not (step and line.startswith("recirc_id(0),"))), r.stderr))
    out.append([f.hex() for f in sent])
    return out


@pytest.mark.parametrize("flows", DECAP_FLOWS,
                         ids=["md1", "md2", "vlan", "double"])
def test_nsh_decap_over_patch_ports_as_real(request, tmp_path, flows):
    real = decap_scenario(start_switch(request, "real", str(tmp_path / "real")),
                          flows)
    ours = decap_scenario(start_switch(request, "pyovs", str(tmp_path / "ours")),
                          flows)
    assert len(real[-1]) == 2           # both packets came out of p2
    for a, b in zip(real, ours):
        assert b == a
