"""`ovs-ofctl dump-table-features`: pyovs's tool prints what Debian's real
one prints, against the real ovs-vswitchd and against pyovs's OpenFlow
switch (test_ofproto.py's pair), in every version that has the request;
before OpenFlow 1.3 both refuse alike.  (test_ofproto.py compares the real
tool against both switches.)"""

import subprocess

import pytest

from tests.conftest import pyovs_bin, real_bin
from tests.interop.test_ofproto import switch, harness  # noqa: F401
from pyovs.openflow.table_features import abbreviate

pytestmark = pytest.mark.interop


def _run(binary, env, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30,
                       env=env)
    err = "".join(line + "\n" for line in p.stderr.splitlines() if "|" not in line)
    return p.returncode, p.stdout, err


@pytest.mark.parametrize("vers", [["-O", "OpenFlow13"], ["-O", "OpenFlow14"],
                                  ["-O", "OpenFlow15"], []],
                         ids=["of13", "of14", "of15", "of10"])
@pytest.mark.parametrize("which", ["real-switch", "pyovs-switch"])
def test_dump_table_features_as_real_tool(switch, harness, vers, which):  # noqa: F811
    sw = switch if which == "real-switch" else harness
    theirs = _run(real_bin("ovs-ofctl"), sw.env, *vers, "dump-table-features", sw.mgmt)
    mine = _run(pyovs_bin("ovs-ofctl"), sw.env, *vers, "dump-table-features", sw.mgmt)
    assert mine == theirs
    if vers:
        assert theirs[0] == 0 and "tables 1...252: ditto" in theirs[1]
    else:
        assert theirs[0] == 1 and "needs OpenFlow 1.3" in theirs[2]


@pytest.mark.parametrize("names, text", [
    (["tun_id", "tun_src", "tun_ipv6_src", "tun_ipv6_dst", "metadata"],
     "tun_{id,src,ipv6_{src,dst}} metadata"),
    (["in_port", "in_port_oxm", "pkt_mark"], "in_{port,port_oxm} pkt_mark"),
    (["reg0", "reg1", "reg2", "xreg0"], "reg0...reg2 xreg0"),
    (["nw_tos", "ip_dscp", "nw_ecn", "nw_ttl"], "nw_tos ip_dscp nw_{ecn,ttl}"),
    (["nsh_spi", "nsh_c1", "nsh_c2", "nsh_c3"], "nsh_{spi,c1...c3}"),
    (["reg3", "reg5"], "reg3 reg5"),
])
def test_abbreviate(names, text):
    assert abbreviate(names) == text
