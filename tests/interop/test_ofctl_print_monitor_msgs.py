"""ofp-print of the flow monitor control messages and NXT_RESUME names and
prints them as Debian's ovs-ofctl does (Nicira subtypes 21-23, ONF
experimenter 1870-1872 in OpenFlow 1.3)."""

import pytest

from tests.conftest import pyovs_bin, real_bin, run

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("hexmsg", [
    "010400140000000000002320000000150000000a",      # NXT_FLOW_MONITOR_CANCEL id=10
    "01040010000000000000232000000016",              # NXT_FLOW_MONITOR_PAUSED
    "01040010000000000000232000000017",              # NXT_FLOW_MONITOR_RESUMED
    "04040014000000004f4e46000000074e0000000a",      # ONFT_FLOW_MONITOR_CANCEL
    "04040010000000004f4e46000000074f",              # ONFT_FLOW_MONITOR_PAUSED
    "04040010000000004f4e460000000750",              # ONFT_FLOW_MONITOR_RESUMED
    "01040013000000000000232000000015000000",        # a cancel one byte short
])
def test_monitor_control_messages_print_as_real(hexmsg):
    real = run([real_bin("ovs-ofctl"), "ofp-print", hexmsg])
    ours = run([pyovs_bin("ovs-ofctl"), "ofp-print", hexmsg])
    assert (ours.returncode, ours.stdout) == (real.returncode, real.stdout)
