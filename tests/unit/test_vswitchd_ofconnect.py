"""pyovs.vswitchd.ofconnect: a bridge's protocols, fail_mode and Controller
rows becoming connection-manager settings."""

import asyncio

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.openflow.protocols import VERSION_NAMES
from pyovs.vswitchd import ofconnect as OC
from pyovs.ofproto.ofproto import OFProto


@pytest.mark.parametrize("protocols,versions", [
    ((), (1, 2, 3, 4, 5, 6)),
    (("OpenFlow13",), (4,)),
    (("OpenFlow10", "OpenFlow15"), (1, 6)),
    (("OpenFlow10", "OpenFlow11"), (1, 2)),
    (("OpenFlow11",), (2,)),
])
def test_bridge_versions(protocols, versions):
    assert OC.bridge_versions(protocols) == versions


def test_bridge_versions_bad_name():
    with pytest.raises(ValueError, match="OpenFlow16: unknown OpenFlow version"):
        OC.bridge_versions(["OpenFlow16"])


@settings(max_examples=50, deadline=None)
@given(st.sets(st.sampled_from(sorted(VERSION_NAMES.values()))))
def test_bridge_versions_subset(names):
    vs = OC.bridge_versions(sorted(names))
    wanted = {k for k, v in VERSION_NAMES.items() if v in names} or set(VERSION_NAMES)
    assert vs and set(vs) == wanted


class Datum:
    def __init__(self, values):
        self.values = list(values)

    def keys(self):
        return sorted(self.values)


class Row:
    def __init__(self, **cols):
        self.target = cols.pop("target", None)
        self.cols = cols

    def datum(self, column):
        return Datum(self.cols.get(column, []))


def test_configure(tmp_path):
    async def scenario():
        ofp = OFProto("br0")
        bof = OC.BridgeOpenFlow(ofp, str(tmp_path))
        await bof.start()
        assert (tmp_path / "br0.mgmt").exists()
        br = Row(protocols=["OpenFlow13", "OpenFlow14"], fail_mode=["secure"])
        a = Row(target="tcp:127.0.0.1:16385", max_backoff=[2000],
                inactivity_probe=[0])
        p = Row(target="ptcp:16386:127.0.0.1")
        bof.configure(br, [a, p])
        await asyncio.sleep(0.1)
        assert bof.mgr.versions == (4, 5)
        assert ofp.fail_mode == "secure"
        assert bof.active == {"tcp:127.0.0.1:16385": (2000, 0)}
        assert bof.passive["ptcp:16386:127.0.0.1"] is not None
        assert bof.controller_status(p) == dict(is_connected=False, role=None,
                                                status={})
        # New settings restart the target; a dropped one goes away.
        a2 = Row(target="tcp:127.0.0.1:16385")
        bof.configure(Row(), [a2])
        await asyncio.sleep(0.1)
        assert bof.mgr.versions == (1, 2, 3, 4, 5, 6)
        assert ofp.fail_mode == "standalone"
        assert bof.active == {"tcp:127.0.0.1:16385": (8000, 5000)}
        assert list(bof.shell.controller_tasks) == ["tcp:127.0.0.1:16385"]
        assert bof.passive == {}
        bof.configure(Row(), [])
        assert bof.active == {} and bof.shell.controllers == {}
        # A bad target is logged and skipped, not fatal.
        bof.configure(Row(protocols=["OpenFlow99"]), [Row(target="tcp:")])
        assert bof.active == {}
        bof.close()
        assert not (tmp_path / "br0.mgmt").exists()
    asyncio.run(scenario())
