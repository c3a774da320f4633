"""The userspace datapath between two network namespaces (needs root).

    ns1: eth0 10.9.0.1 ==veth== dp: p1 --DpifNetdev + learning upcall-- p2 ==veth== ns2: eth0 10.9.0.2

The switch is ``python -m pyovs.dpif.learning [--normal] p1 p2``
(dpif/learning.py: MAC learning in the upcall, or OVS's NORMAL through
ofproto/xlate.py; revalidation when a MAC is learned) in the middle
namespace; offloads stay on, so TCP crosses as TSO super-packets.
The topology and helpers are the netdev tests' (tests/netns/test_netdev_linux.py).
"""

import json
import sys

import pytest

from tests.netns.test_netdev_linux import Topo, iperf, ping


@pytest.fixture
def topo():
    t = Topo()
    yield t
    t.close()


@pytest.fixture(params=["learning", "normal"])
def kind(request):
    """The upcall: dpif/learning.py's own, or NORMAL through ofproto/xlate.py."""
    return request.param


def start_switch(topo, kind="learning"):
    opts = ["--normal"] if kind == "normal" else []
    return topo.start(topo.fwd, sys.executable, "-m", "pyovs.dpif.learning", *opts,
                      "p1", "p2", ready="ready")


def stop_switch(p):
    p.terminate()
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_ping_through_datapath(topo, kind):
    sw = start_switch(topo, kind)
    r = ping(topo.ns1, "10.9.0.2", 5)
    assert r.returncode == 0, r.stdout + r.stderr
    c = stop_switch(sw)
    # ARP and ICMP each way were learned once; the rest took the fast path.
    assert c["missed"] >= 2 and c["hit"] >= 5
    assert c["upcalls"] == c["missed"] and c["revalidations"] >= 1
    assert 2 <= c["flows"] <= 20


def test_no_switch_no_ping(topo):
    """The control: without the datapath nothing crosses."""
    assert ping(topo.ns1, "10.9.0.2", 1).returncode != 0


def test_iperf3_through_datapath(topo, kind):
    sw = start_switch(topo, kind)
    result = iperf(topo, topo.ns2, "10.9.0.2")
    c = stop_switch(sw)
    assert result["end"]["sum_received"]["bytes"] > 10 * 1000 * 1000
    # A whole TCP stream is a handful of megaflows (plus IPv6 multicast
    # chatter); nearly every packet hit.
    assert c["flows"] <= 20
    assert c["hit"] > 50 * c["missed"]
