"""Shared fixtures: where pyovs's executables and Debian's real ones live.

pyovs is installed in a virtual environment, so its ``ovs-*`` commands sit
beside the Python running the tests; Debian's real tools are called by their
full paths, so the two can never be confused.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent

#: Debian's real Open vSwitch executables (package openvswitch-switch/-common).
REAL = {
    "ovsdb-server": "/usr/sbin/ovsdb-server",
    "ovs-vswitchd": "/usr/sbin/ovs-vswitchd",
    "ovsdb-tool": "/usr/bin/ovsdb-tool",
    "ovsdb-client": "/usr/bin/ovsdb-client",
    "ovs-vsctl": "/usr/bin/ovs-vsctl",
    "ovs-appctl": "/usr/bin/ovs-appctl",
    "ovs-ofctl": "/usr/bin/ovs-ofctl",
    "ovs-dpctl": "/usr/bin/ovs-dpctl",
}

#: The Open_vSwitch schema as Debian's openvswitch-common installs it.
REAL_VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def pyovs_bin(name):
    """Path of pyovs's executable NAME (installed in the test venv)."""
    return str(VENV_BIN / name)


def real_bin(name):
    """Path of Debian's real executable NAME, or skip the test if absent."""
    path = REAL[name]
    if not os.path.exists(path):
        pytest.skip(f"{path} not installed (apt-get install openvswitch-switch openvswitch-common)")
    return path


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces and real interfaces)")


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll PREDICATE until it returns a true value; fail after TIMEOUT s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ovs_dirs(tmp_path, monkeypatch):
    """A private OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR, set in the environment so
    that both pyovs's and the real tools use it."""
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
        monkeypatch.setenv(var, str(tmp_path))
    return tmp_path


def run(cmd, check=False, input=None, timeout=60, env=None):
    """Run CMD (a list); return the CompletedProcess with text output."""
    return subprocess.run(cmd, capture_output=True, text=True, input=input,
                          timeout=timeout, check=check, env=env)
