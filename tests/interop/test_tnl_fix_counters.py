"""The datapath's lookup counters (dpctl/show "lookups: hit:H missed:M
lost:L") when a tunnel packet carries a VNI no port has, pyovs's
ovs-vswitchd against Debian's real one on the dummy datapath (the harness
of test_tnl_vswitchd.py).  The inner packet's upcall installs nothing and
fails: OVS's dpif-netdev counts it lost, not missed (fast_path_processing()
adds only the upcalls that succeeded to PMD_STAT_MISS), and a runt frame,
dropped before the lookup, in neither."""

import re

from tests.conftest import wait_for
from tests.interop.test_tnl_vswitchd import BR_MAC, Switch, vxlan_frame


def scenario(sw):
    sw.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
             "other-config:hwaddr=" + BR_MAC, "--", "add-port", "br0", "p0", "--", "set",
             "Interface", "p0", "type=dummy", "ofport_request=1")
    sw.vsctl("add-br", "int-br", "--", "set", "bridge", "int-br", "datapath_type=dummy",
             "--", "add-port", "int-br", "t2", "--", "set", "Interface", "t2",
             "type=vxlan", "options:remote_ip=1.1.2.92", "options:key=123",
             "ofport_request=2")
    sw.appctl("netdev-dummy/ip4addr", "br0", "1.1.2.88/24")
    sw.appctl("ovs/route/add", "1.1.2.92/24", "br0")
    sw.ofctl("add-flow", "br0", "action=normal")
    sw.ofctl("add-flow", "int-br", "action=LOCAL")
    out = []

    def lookups():
        return re.search(r"lookups: .*", sw.appctl("dpctl/show")).group(0)
    before = lookups()
    for frame in (vxlan_frame(1123), vxlan_frame(123), "aa55aa550000f8bc1244",
                  vxlan_frame(123), vxlan_frame(1124)):
        sw.appctl("netdev-dummy/receive", "p0", frame)
        if len(frame) > 28:
            # (the real switch counts a packet once its batch is done)
            wait_for(lambda: lookups() != before, what="counters moved")
        before = lookups()
        out.append(before)
    return out


def test_unknown_vni_counted_lost_not_missed_as_real(request, tmp_path):
    real = scenario(Switch(request, "real", tmp_path / "real"))
    ours = scenario(Switch(request, "pyovs", tmp_path / "pyovs"))
    assert ours == real
