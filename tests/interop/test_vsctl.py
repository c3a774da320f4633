"""pyovs's ovs-vsctl against Debian's: the same command sequences, each on
a fresh database, must give the same stdout, stderr and exit status (UUIDs
normalised):

* pyovs's ovs-vsctl against Debian's ovsdb-server and against pyovs's,
  run in-process (pyovs.vswitch.vsctl.run) to keep the suite fast, and as
  the installed executable for the cases in EXECUTABLE_CASES (start-up,
  argv[0] and exit status through a real process);
* Debian's ovs-vsctl against pyovs's ovsdb-server (the server's side of the
  contract)."""

import os

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin
from tests.interop.test_vsctl_cases import (CASES, OvsdbServer, assert_real_ran,
                                            normalised, run_sequence,
                                            run_sequence_inproc)


#: Cases also run through the installed ovs-vsctl executable.
EXECUTABLE_CASES = {"add-br", "ports", "formats", "parse-errors", "wait-until",
                    "version"}


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


def _expected(real_server, case, env):
    real_server.reset()
    name, invocations, mode = case
    results = run_sequence(real_bin("ovs-vsctl"), real_server.remote, invocations, env)
    assert_real_ran(results)
    return normalised(results, mode)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_vsctl_same_as_real(case, real_server, pyovs_server, vsctl_env):
    _, env = vsctl_env
    name, invocations, mode = case
    expected = _expected(real_server, case, env)

    if name in EXECUTABLE_CASES:
        real_server.reset()
        got = run_sequence(pyovs_bin("ovs-vsctl"), real_server.remote,
                           invocations, env)
        assert normalised(got, mode) == expected

    real_server.reset()
    got = run_sequence_inproc(real_server.remote, invocations, env)
    assert normalised(got, mode) == expected

    pyovs_server.reset()
    got = run_sequence_inproc(pyovs_server.remote, invocations, env)
    assert normalised(got, mode) == expected

    pyovs_server.reset()
    got = run_sequence(real_bin("ovs-vsctl"), pyovs_server.remote, invocations, env)
    assert_real_ran(got)
    assert normalised(got, mode) == expected


@pytest.mark.parametrize("db", ["unix:{dir}/nonexistent.sock", "tcp:127.0.0.1:16699",
                                "bogus:x"])
def test_connection_failures_same_as_real(db, vsctl_env):
    d, env = vsctl_env
    db = db.format(dir=d)
    real = run_sequence(real_bin("ovs-vsctl"), db, ["list-br"], env)
    assert real[0][1] != 0 and real[0][3]      # the real tool did fail, and said why
    expected = normalised(real, "exact")
    assert normalised(run_sequence(pyovs_bin("ovs-vsctl"), db, ["list-br"], env),
                      "exact") == expected


def test_server_without_the_database_same_as_real(tmp_path, vsctl_env):
    _, env = vsctl_env
    schema = tmp_path / "other.ovsschema"
    schema.write_text('{"name": "Other", "version": "1.0.0", "tables": '
                      '{"T": {"columns": {"a": {"type": "integer"}}}}}')
    server = OvsdbServer(pyovs_bin("ovsdb-server"), real_bin("ovsdb-tool"),
                         str(schema), tmp_path, "other")
    try:
        for inv in (["list-br"], ["add-br", "br0"]):
            argv = " ".join(inv)
            expected = run_sequence(real_bin("ovs-vsctl"), server.remote, [argv], env)
            got = run_sequence(pyovs_bin("ovs-vsctl"), server.remote, [argv], env)
            assert got == expected
            assert expected[0][1] == 1
    finally:
        server.stop()
