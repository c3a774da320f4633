"""Datapath port numbers on the dummy datapath, against the real OVS.

OVS's dpif-netdev, for a datapath of the dummy class (the "dummy" type, and
every type --enable-dummy=override overrides), gives a port the number its
name's first digits spell ("p3" is 3, "br0" is 100) when that one is free,
else the lowest free one.  Both switches run in a sandbox (as the tutorial
does) and their ``dpctl/show`` port numbers are compared.  (The port type
names are not compared: pyovs calls an overridden system port "dummy", OVS
"system".  Nor does any step add two ports that compete for a number:
the order in which OVS adds the ports of one transaction is its hash
order, not pyovs's.)
"""

import os
import re

import pytest

from tests.conftest import REAL
from tests.daemons.test_tutorial import run_steps, REAL_BINDIRS

STEPS = [
    "ovs-vsctl add-br br0 -- set Bridge br0 fail-mode=secure",
    "for i in 1 2 3 4; do ovs-vsctl add-port br0 p$i -- set Interface p$i ofport_request=$i; done",
    # p3 is taken: the lowest free number; a name without digits too
    "ovs-vsctl add-br br7 -- add-port br7 x9 -- add-port br7 a2b3",
    "ovs-vsctl add-port br7 q1",
    "ovs-vsctl del-port p2 -- add-port br0 zz",
    # the netdev type is overridden as well: its own datapath, same rule
    "ovs-vsctl add-br br1 -- set Bridge br1 datapath_type=netdev -- add-port br1 p5",
    "ovs-vsctl add-port br1 eth12",
    "ovs-appctl dpctl/show",
]


def port_numbers(text):
    """{(datapath, port name): number} of a dpctl/show text."""
    got, dp = {}, None
    for line in text.splitlines():
        if not line.startswith(" "):
            dp = line.rstrip(":")
        m = re.match(r"  port (\d+): (\S+)", line)
        if m:
            got[(dp, m.group(2))] = int(m.group(1))
    return got


def test_port_numbers_match_real(tmp_path):
    for name in ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"):
        if not os.path.exists(REAL[name]):
            pytest.skip(f"{REAL[name]} not installed")
    steps = [(cmd, "") for cmd in STEPS]
    real = run_steps(steps, tmp_path / "real", bindirs=REAL_BINDIRS)[-1][2]
    mine = run_steps(steps, tmp_path / "pyovs")[-1][2]
    theirs = port_numbers(real)
    assert theirs[("system@ovs-system", "p3")] == 3, real
    assert port_numbers(mine) == theirs, "\n" + mine + "\n" + real
