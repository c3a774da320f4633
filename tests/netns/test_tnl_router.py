"""SystemRoutes follows a private namespace's kernel routes live (root)."""
import subprocess
import sys
import uuid


from tests.conftest import needs_root

SCRIPT = r'''
import asyncio, subprocess, sys
from pyovs.tnl import ovs_router as R
ns, use_system = sys.argv[1], sys.argv[2] == "1"
router = R.Router(None, use_system)
sr = R.SystemRoutes(router)
router.get_addrs = sr.kernel_addrs

def ip(*a):
    subprocess.run(["ip"] + list(a), check=True)

async def settle(pred):
    for _ in range(200):
        if pred():
            return True
        await asyncio.sleep(0.01)
    return False

async def main():
    loop = asyncio.get_running_loop()
    sr.start(loop)
    ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
    ip("link", "set", "v0", "up")
    ip("addr", "add", "10.7.0.1/24", "dev", "v0")
    ip("route", "add", "30.0.0.0/8", "via", "10.7.0.254")
    line = "Cached: 30.0.0.0/8 dev v0 GW 10.7.0.254 SRC 10.7.0.1"
    print("added", await settle(lambda: line in router.show()))
    print(router.show(), end="")
    assert R.route_add(router, ["40.0.0.0/8", "v0", "10.7.0.9"]) == (None, "OK")
    ip("route", "del", "30.0.0.0/8")
    print("deleted", await settle(lambda: line not in router.show()))
    print("user kept", "User: 40.0.0.0/8" in router.show())
    sr.close()

asyncio.run(main())
'''


def _run(use_system):
    needs_root()
    ns = "pc-n" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SCRIPT,
                               ns, "1" if use_system else "0"],
                              capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def test_follows_kernel_routes():
    r = _run(True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "added True" in lines and "deleted True" in lines and "user kept True" in lines
    assert "Cached: 10.7.0.0/24 dev v0 SRC 10.7.0.1" in lines
    assert "Cached: 10.7.0.1/32 dev v0 SRC 10.7.0.1 local" in lines


def test_disable_system_route():
    r = _run(False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "added False" in lines
    assert not any(l.startswith("Cached:") for l in lines)
    assert "user kept True" in lines
