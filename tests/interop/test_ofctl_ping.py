"""`ovs-ofctl ping` and `benchmark` against Debian's real ovs-vswitchd,
compared with the real tool (round-trip times and rates normalised)."""

import re

import pytest

from tests.interop.test_ofctl_switch import switch, real, ours  # noqa: F401

pytestmark = pytest.mark.interop

_RATE = r"\((?:[0-9]+|-nan|inf) (?:packets|bytes)/s\)"
_TIMES = [(re.compile(r"time=[0-9.]+ ms"), "time=? ms"),
          (re.compile(rf"Finished in [0-9.]+ ms {_RATE} {_RATE}"),
           "Finished in ? ms (?) (?)")]


def _norm(result):
    rc, out, err = result
    for rx, repl in _TIMES:
        out = rx.sub(repl, out)
    return rc, out, err


@pytest.mark.parametrize("args", [
    ["ping", "br0"], ["ping", "br0", "0"], ["ping", "br0", "5"],
    ["-O", "OpenFlow13", "ping", "br0", "100"], ["ping", "br0", "abc"],
    ["ping", "br0", "70000"], ["ping", "nosuchbr"],
    ["benchmark", "br0", "100", "20"], ["benchmark", "br0", "abc", "2"],
    ["benchmark", "br0", "70000", "2"], ["benchmark", "br0", "10", "0x5"],
    ["-O", "OpenFlow13", "benchmark", "br0", "0", "3"],
], ids=lambda a: " ".join(a))
def test_ping_benchmark_against_real(switch, args):  # noqa: F811
    r = _norm(real(switch, *args))
    o = _norm(ours(switch, *args))
    assert r == o
    if r[0] == 0:
        assert r[1]
