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


ONE_TRANSACTION = [
    "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy"
    " -- add-port br0 vx -- set interface vx type=vxlan options:remote_ip=1.1.1.1"
    " -- add-port br0 gre -- set interface gre type=gre options:remote_ip=1.1.1.2"
    " -- add-port br0 eth -- add-port br0 ab -- add-port br0 q -- add-port br0 zz"
    " -- add-port br0 m",
    "ovs-vsctl --bare --columns=_uuid,name list port",
    "ovs-vsctl --bare --columns=name,ofport list interface",
]


def _add_order(results):
    """(ports in ofport order, OVS's bridge_add_ports() order for the
    transaction's Port UUIDs) from ONE_TRANSACTION's outputs."""
    from pyovs.util.json import hash_string, hmap_order
    words = results[1][2].split()
    ports = sorted(zip(words[0::2], words[1::2]))          # by UUID
    expected = [p for p in hmap_order([(n, hash_string(n)) for _, n in ports])
                if p != "br0"]
    words = results[2][2].split()
    ofports = {n: int(o) for n, o in zip(words[0::2], words[1::2])}
    got = [n for n in sorted(ofports, key=ofports.get) if n != "br0"]
    return got, expected


def test_ports_of_one_transaction_numbered_in_ovs_order(tmp_path):
    """The ports one transaction adds are numbered in the order of OVS's
    wanted-ports hash table (Port names inserted in UUID order): shown on
    the real switch, then on pyovs (the UUIDs differ from run to run, so
    does the order; the rule does not)."""
    for name in ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl"):
        if not os.path.exists(REAL[name]):
            pytest.skip(f"{REAL[name]} not installed")
    steps = [(cmd, "") for cmd in ONE_TRANSACTION]
    got, expected = _add_order(run_steps(steps, tmp_path / "real", bindirs=REAL_BINDIRS,
                                         dummy="system"))
    assert got == expected
    got, expected = _add_order(run_steps(steps, tmp_path / "pyovs", dummy="system"))
    assert got == expected
