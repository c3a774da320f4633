"""pyovs's ovs-vsctl against Debian's: the same command sequences, each on
a fresh database, must give the same stdout, stderr and exit status (UUIDs
normalised), against Debian's real ovsdb-server and against pyovs's; and
Debian's ovs-vsctl must see the same through pyovs's ovsdb-server."""

import os

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin
from tests.interop.test_vsctl_cases import (CASES, OvsdbServer, normalised,
                                            run_sequence)


@pytest.fixture(scope="session")
def vsctl_env(tmp_path_factory):
    d = tmp_path_factory.mktemp("pg-vsctl")
    env = dict(os.environ, OVS_RUNDIR=str(d), OVS_LOGDIR=str(d), OVS_DBDIR=str(d))
    return d, env


@pytest.fixture(scope="session")
def real_server(vsctl_env):
    d, _ = vsctl_env
    s = OvsdbServer(real_bin("ovsdb-server"), real_bin("ovsdb-tool"),
                    REAL_VSWITCH_SCHEMA, d, "real")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def pyovs_server(vsctl_env):
    d, _ = vsctl_env
    s = OvsdbServer(pyovs_bin("ovsdb-server"), real_bin("ovsdb-tool"),
                    REAL_VSWITCH_SCHEMA, d, "pyovs")
    yield s
    s.stop()


def _run(server, vsctl, case, env):
    server.reset()
    name, invocations, mode = case
    return normalised(run_sequence(vsctl, server.remote, invocations, env), mode)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_vsctl_same_as_real(case, real_server, pyovs_server, vsctl_env):
    _, env = vsctl_env
    real = real_bin("ovs-vsctl")
    ours = pyovs_bin("ovs-vsctl")
    expected = _run(real_server, real, case, env)
    assert _run(real_server, ours, case, env) == expected
    assert _run(pyovs_server, ours, case, env) == expected
