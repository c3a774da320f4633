"""ovs-ofctl ct-flush: pyovs's tool against Debian's real switch behaves as
the real tool (errors, exit status), sends the same bytes, and prints
NXT_CT_FLUSH as the real ofp-print does."""

import subprocess

import pytest

from tests.conftest import real_bin
from tests.interop.test_ofctl_switch import switch, assert_same  # noqa: F401
from tests.interop.test_ofctl_parse import run_pyovs
from pyovs.openflow import ct_flush as CTF

pytestmark = pytest.mark.interop

ARGS = [[], ["zone=5"], ["zone=70000"], ["zone=x"], ["5"], ["bogus=1"],
        ["ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=6,ct_tp_src=1,"
         "ct_tp_dst=2"],
        ["zone=5", "ct_nw_src=1.1.1.1,ct_nw_proto=6,ct_tp_dst=80"],
        ["ct_nw_src=1.1.1.1", "ct_nw_dst=2.2.2.2"],
        ["ct_ipv6_src=::1,ct_nw_proto=17,ct_tp_src=5"],
        ["ct_nw_src=1.1.1.1,ct_ipv6_dst=::1"], ["ct_nw_src=x"],
        ["ct_tp_src=5"], ["ct_nw_proto=300"],
        ["ct_nw_src=1.1.1.1,ct_nw_src=2.2.2.2"],
        ["zone=5", "ct_nw_proto=6", "ct_nw_proto=17"]]


@pytest.mark.parametrize("args", ARGS, ids=lambda a: " ".join(a) or "all")
def test_ct_flush_as_real(switch, args):
    assert_same(switch, "ct-flush", "br0", *args)


@pytest.mark.parametrize("args", [a for a in ARGS if run_pyovs(
    ["ct-flush", "unix:/nonexistent", *a])[2].startswith("ovs-ofctl: connecting")],
    ids=lambda a: " ".join(a) or "all")
def test_ct_flush_prints_as_real(args):
    msg = CTF.encode_ct_flush(1, 2, CTF.parse_ct_flush(args)).hex()
    real = subprocess.run([real_bin("ovs-ofctl"), "ofp-print", msg],
                          capture_output=True, text=True, timeout=30)
    assert (real.returncode, real.stdout) == run_pyovs(["ofp-print", msg])[:2]
