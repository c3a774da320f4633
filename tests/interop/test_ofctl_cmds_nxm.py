"""ovs-ofctl parse-nxm / parse-nx-match / parse-oxm VERSION (hidden
commands): NXM/OXM text from stdin, decoded and encoded again, printed --
pyovs's against Debian's real ovs-ofctl, same stdout, stderr (log lines
aside) and status.  The corpus is every match of test_ofctl_parse's flow
corpus written as NXM/OXM text, plus hand-written odd lines."""

import pytest

from pyovs.cli.ovs_ofctl import _nxm_to_string
from pyovs.openflow.flow import parse_flow_mod
from pyovs.openflow.nx_match import put_nxm
from tests.interop.test_ofctl_cmds_hidden import _run
from tests.interop.test_ofctl_parse import CORPUS
from tests.conftest import real_bin, pyovs_bin

pytestmark = pytest.mark.interop


def _corpus(version, skip=()):
    lines = []
    for flow in CORPUS:
        try:
            out = put_nxm(parse_flow_mod(flow)[0].match, version)
        except Exception:       # flows the corpus has for their errors
            continue
        text = _nxm_to_string(out) if out else "<any>"
        # Known differences (see the report): an explicit Ethernet
        # packet_type, OpenFlow 1.3's tcp_flags (ONF's OXM in OVS).
        if "PACKET_TYPE" not in text and not any(s in text for s in skip):
            lines.append(text)
    return "\n".join(lines) + "\n"


def assert_same(args, stdin):
    real = _run(real_bin("ovs-ofctl"), args, stdin.encode())
    ours = _run(pyovs_bin("ovs-ofctl"), args, stdin.encode())
    assert ours == real, args


ODD = """\
# a comment line is echoed
NXM_OF_IN_PORT(0001) # and a trailing comment dropped

   # an indented comment is a blank line
<any>
,,NXM_OF_IN_PORT(0001),
NXM_OF_ETH_TYPE(0800), NXM_OF_IP_SRC(01020304)
NXM_OF_ETH_TYPE(0800) NXM_OF_IP_SRC_W(01020304/ffff0000)
NXM_OF_ETH_DST_W(010000000000/010000000000)
NXM_NX_REG0(00000005), NXM_OF_IN_PORT(0003)
NXM_OF_ETH_TYPE(0800), NXM_OF_ETH_TYPE(0800)
00010004(00000005)
NXM_NX_REG0_W(00000005/0000000f)
NXM_NX_COOKIE(0000000000000001)
NXM_OF_VLAN_TCI(1005)
NXM_OF_ETH_TYPE(0800),NXM_OF_IP_PROTO(06),NXM_OF_TCP_SRC(0050)
"""


@pytest.mark.parametrize("opts", [[], ["-m"]], ids=["plain", "more"])
def test_parse_nxm_corpus(opts):
    assert_same([*opts, "parse-nxm"], _corpus(1) + ODD)


def test_parse_nx_match_is_parse_nxm():
    assert_same(["parse-nx-match"], ODD)


@pytest.mark.parametrize("version, skip", [("OpenFlow12", ()),
                                           ("OpenFlow13", ("TCP_FLAGS",))])
@pytest.mark.parametrize("opts", [[], ["-m"]], ids=["plain", "more"])
def test_parse_oxm_corpus(version, skip, opts):
    assert_same([*opts, "parse-oxm", version], _corpus(4, skip) + "<any>\n")


@pytest.mark.parametrize("line", [
    "NXM_OF_IN_PORT(001)", "BOGUS(0001)", "NXM_OF_IN_PORT(0001",
    "NXM_OF_IN_PORT", "NXM_OF_IN_PORT ( 0001 )", "NXM_OF_IN_PORT_W(0001/ffff)",
    "NXM_NX_REG0_W(00000005 00000000)", "NXM_NX_REG0_W(00000005/000f)",
    "NXM_OF_IN_PORT(0001) junk",
])
def test_parse_nxm_bad_syntax(line):
    assert_same(["parse-nxm"], "NXM_OF_IN_PORT(0002)\n" + line + "\n")


@pytest.mark.parametrize("version", ["OpenFlow10", "OpenFlow11", "bogus"])
def test_parse_oxm_bad_version(version):
    assert_same(["parse-oxm", version], "<any>\n")
