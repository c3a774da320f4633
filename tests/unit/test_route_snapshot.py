"""A kernel notification that changes nothing costs no revalidation
(ovs_router.SystemRoutes.apply with an unchanged snapshot)."""

import ipaddress

from pyovs.tnl.ovs_router import KernelRoute, Router, SystemRoutes, V4_MAPPED_PREFIX


def snapshot(gw=0):
    routes = [KernelRoute(V4_MAPPED_PREFIX | 0x0a000000, 96 + 24, False, "br-phy", gw, 0)]
    return routes, {"br-phy": [ipaddress.ip_interface("10.0.0.1/24")]}, {"br-phy": "aa:55:00:00:00:01"}


def test_unchanged_snapshot_is_not_a_change():
    calls = []
    sr = SystemRoutes(Router(lambda name: None))
    sr.on_change = lambda: calls.append(1)
    sr.apply(snapshot())
    sr.apply(snapshot())                # e.g. a link's flags notified, nothing else
    assert len(calls) == 1
    sr.apply(snapshot(gw=V4_MAPPED_PREFIX | 0x0a0000fe))
    assert len(calls) == 2
    assert sr.kernel_addrs("br-phy") == [ipaddress.ip_interface("10.0.0.1/24")]
