"""ovs-vsctl behaviour that needs timing between processes or values known
only at run time: wait-until waiting for another client's change, records
named by UUID prefix, "create" printing the UUID the server assigned."""

import subprocess

import pytest

from tests.conftest import pyovs_bin, wait_for
from tests.daemons.test_vsctl_wait import env, get, server, vsctl  # noqa: F401


def test_wait_until_waits_for_another_client(server, env):
    p = subprocess.Popen([pyovs_bin("ovs-vsctl"), "--db=" + server.remote, "--no-wait",
                          "--timeout=20", "wait-until", "Bridge", "br0",
                          "other_config:x=1", "--", "get", "Bridge", "br0", "name"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    try:
        assert vsctl(server, env, "--no-wait", "add-br", "br0").returncode == 0
        assert vsctl(server, env, "--no-wait", "set", "Bridge", "br0",
                     "other_config:x=0").returncode == 0
        assert p.poll() is None
        assert vsctl(server, env, "--no-wait", "set", "Bridge", "br0",
                     "other_config:x=1").returncode == 0
        out, err = p.communicate(timeout=20)
        assert (p.returncode, out, err) == (0, "br0\n", "")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_records_by_uuid_and_prefix(server, env):
    r = vsctl(server, env, "--no-wait", "add-br", "br0", "--", "add-br", "br1",
              "--", "--id=@q", "create", "QoS", "type=x", "--",
              "set", "Port", "br0", "qos=@q")
    assert r.returncode == 0
    qos = r.stdout.strip()
    assert get(server, env, "QoS", qos, "_uuid") == [qos]
    assert get(server, env, "QoS", qos[:6], "type") == ["x"]
    assert get(server, env, "QoS", qos.upper(), "type") == ["x"]
    br0 = get(server, env, "Bridge", "br0", "_uuid")[0]
    assert get(server, env, "Bridge", br0[:4], "name") == ["br0"]
    r = vsctl(server, env, "--no-wait", "get", "Bridge", br0[:3], "name")
    assert (r.returncode, r.stderr) == (1, 'ovs-vsctl: no row "%s" in table Bridge\n'
                                        % br0[:3])
    # QoS records are also named by the port that uses them.
    assert get(server, env, "QoS", "br0", "_uuid") == [qos]


def test_concurrent_writers_retry_and_lose_nothing(server, env):
    """Each add-port rewrites the bridge's whole port set; only verifying
    what was read and retrying on "try again" keeps every port when many
    run at once."""
    assert vsctl(server, env, "--no-wait", "add-br", "br0").returncode == 0
    procs = [subprocess.Popen([pyovs_bin("ovs-vsctl"), "--db=" + server.remote,
                               "--no-wait", "--timeout=60", "add-port", "br0", "p%d" % i,
                               "--", "set", "Open_vSwitch", ".",
                               "external_ids:last=p%d" % i],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
             for i in range(12)]
    try:
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert (p.returncode, out, err) == (0, "", "")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    r = vsctl(server, env, "--no-wait", "list-ports", "br0")
    assert r.stdout.split() == sorted("p%d" % i for i in range(12))


def test_retry_waits_for_the_server(tmp_path, env):
    from pyovs.vswitch import schema_path
    from tests.interop.test_vsctl_cases import OvsdbServer
    import os
    remote = "unix:%s" % (tmp_path / "late.sock")
    p = subprocess.Popen([pyovs_bin("ovs-vsctl"), "--db=" + remote, "--retry",
                          "--no-wait", "--timeout=30", "add-br", "br0", "--", "list-br"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    late = None
    try:
        r = subprocess.run([pyovs_bin("ovs-vsctl"), "--db=" + remote, "--no-wait",
                            "list-br"], capture_output=True, text=True, env=env)
        assert r.returncode == 1 and "database connection failed" in r.stderr
        assert p.poll() is None
        tool = "/usr/bin/ovsdb-tool"
        if not os.path.exists(tool):
            tool = pyovs_bin("ovsdb-tool")
        late = OvsdbServer(pyovs_bin("ovsdb-server"), tool, schema_path(), tmp_path,
                           "late")
        out, err = p.communicate(timeout=30)
        assert (p.returncode, out, err) == (0, "br0\n", "")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if late is not None:
            late.stop()


def test_server_going_away_while_waiting(server, env):
    p = subprocess.Popen([pyovs_bin("ovs-vsctl"), "--db=" + server.remote, "--no-wait",
                          "--timeout=20", "wait-until", "Bridge", "br9"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    try:
        # Once the waiting client is connected, take the server away.
        wait_for(lambda: vsctl(server, env, "--no-wait", "list-br").returncode == 0)
        import time
        time.sleep(0.5)
        assert p.poll() is None
        server.stop()
        out, err = p.communicate(timeout=20)
        # "(End of file)" when the client was connected, as it almost surely
        # was; under extreme load it may still have been connecting.
        assert p.returncode == 1 and out == ""
        assert err.startswith("ovs-vsctl: %s: database connection failed ("
                              % server.remote)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
