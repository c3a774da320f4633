"""Partial column writes as OVS's ovs-vsctl makes them: "set T R col:key=v"
and "add T R col ..." go out as "mutate" operations (a second partial write
to the same row in a chain turns the first into a verified whole-column
"update"), so the server checks them as mutations and a constraint failure
has OVS's text.  Debian's ovs-vsctl is the oracle, both against Debian's
ovsdb-server: the same outcomes, and the same transact operations on the
wire (from -vjsonrpc:dbg, UUIDs and the comment normalised)."""

import json
import re
import shlex
import subprocess

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin
from tests.interop.test_vsctl_cases import OvsdbServer, normalised, run_sequence

SETUP = ["init -- add-br br0 -- add-port br0 p1 tag=9 -- set bridge br0 "
         "external_ids:a=1 flood_vlans=1,2"]

# Each: the chain to run after SETUP (on a fresh database).
CHAINS = [
    "set bridge br0 external_ids:a=2 other_config:q=r",
    "set bridge br0 external_ids:a=1",                 # no change: no op
    "set bridge br0 external_ids:b=1 -- set bridge br0 external_ids:c=1",
    "add bridge br0 flood_vlans 3",
    "add bridge br0 flood_vlans 2 3 -- add bridge br0 flood_vlans 4",
    "add bridge br0 flood_vlans 5 -- set bridge br0 external_ids:a=3",
    "add bridge br0 external_ids a=9 z=1",
    "set bridge br0 external_ids:a=5 -- remove bridge br0 external_ids a",
    # Server-side constraint failures, reported as the server words them
    # for a mutation.
    "add port p1 tag 10",
    "add port p1 trunks 1 -- add port p1 tag 11",
]


def _transacts(stderr):
    """The transact operations logged by -vjsonrpc:dbg, normalised."""
    out = []
    for line in stderr.splitlines():
        m = re.search(r'send request, method="transact", params=(.*), id=', line)
        if not m:
            continue
        ops = json.loads(m.group(1))[1:]
        ops = [op for op in ops if op.get("op") != "comment"]
        text = json.dumps(ops, sort_keys=True)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{12}", "<uuid>", text)
        out.append(json.loads(text))
    return out


def _canon_mutations(ops):
    """Element order inside a mutation's set or map does not matter."""
    for op in ops:
        for mut in op.get("mutations", ()):
            arg = mut[2]
            if isinstance(arg, list) and arg and arg[0] in ("set", "map"):
                mut[2] = [arg[0], sorted(arg[1], key=json.dumps)]
    return ops


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = OvsdbServer(real_bin("ovsdb-server"), real_bin("ovsdb-tool"),
                      REAL_VSWITCH_SCHEMA, tmp_path_factory.mktemp("mut"), "real")
    yield srv
    srv.stop()


def _run(server, vsctl, chain):
    server.reset()
    setup = run_sequence(vsctl, server.remote, SETUP)
    assert setup[0][1] == 0, setup
    argv = [vsctl, "--db=" + server.remote, "--no-wait", "-vjsonrpc:dbg",
            "-vconsole:ovsdb_idl:warn"] + shlex.split(chain)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    # Log serial numbers count the jsonrpc debug lines too: not compared.
    messages = [re.sub(r"\|\d{5}\|", "|N|", l) for l in p.stderr.splitlines()
                if "|jsonrpc|" not in l]
    state = run_sequence(vsctl, server.remote,
                         ["get bridge br0 external_ids other_config flood_vlans",
                          "get port p1 tag trunks"])
    return (p.returncode, p.stdout, normalised(
        [("", 0, "", "\n".join(messages))], "exact"),
        _canon_mutations([op for ops in _transacts(p.stderr) for op in ops]),
        [s[2] for s in state])


@pytest.mark.parametrize("chain", CHAINS)
def test_partial_writes_as_real(server, chain):
    expected = _run(server, real_bin("ovs-vsctl"), chain)
    # Not vacuous: the real tool reached the server and logged its ops.
    assert expected[4][0], expected
    got = _run(server, pyovs_bin("ovs-vsctl"), chain)
    assert got == expected
