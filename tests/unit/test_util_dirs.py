"""pyovs.util.dirs: OVS's directories and their environment overrides."""

import pytest

from pyovs.util import dirs


@pytest.mark.parametrize("env, expected", [
    ({}, "/etc/openvswitch"),
    ({"OVS_SYSCONFDIR": "/x"}, "/x/openvswitch"),
    ({"OVS_SYSCONFDIR": ""}, "/openvswitch"),        # set, even if empty
    ({"OVS_SYSCONFDIR": "/x", "OVS_DBDIR": "/y"}, "/y"),
    ({"OVS_DBDIR": ""}, "/etc/openvswitch"),
])
def test_dbdir_as_ovs_dbdir(env, expected, monkeypatch):
    for var in ("OVS_DBDIR", "OVS_SYSCONFDIR"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert dirs.dbdir() == expected
