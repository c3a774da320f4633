"""`pyovs demo` as root: the native tunneling layout in network namespaces,
ping and iperf3 through the tunnel, the tunnel megaflows shown, everything
removed afterwards -- also after Ctrl-C and after a crashed run.  Proved
with Debian's real daemons (--ovs-bin) and run with pyovs's."""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import REAL, needs_root, pyovs_bin, run

REAL_BIN = "/usr/sbin:/usr/bin"


def _namespaces(prefix):
    out = run(["ip", "netns", "list"]).stdout
    return sorted(line.split()[0] for line in out.splitlines()
                  if line.startswith(prefix))


def _daemons(workdir):
    """pids of processes whose command line or environment names WORKDIR
    (the daemons of both hypervisors)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            for what in ("cmdline", "environ"):
                try:
                    with open(f"/proc/{entry}/{what}", "rb") as f:
                        if str(workdir).encode() + b"/hv" in f.read():
                            pids.append(int(entry))
                            break
                except OSError:
                    pass
    return pids


@pytest.fixture
def demo_env(tmp_path, request):
    """(prefix, workdir) for one demo run; whatever it leaves is removed."""
    needs_root()
    for tool in ("ip", "ping", "iperf3", "ethtool"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"],
                          capture_output=True).returncode:
            pytest.skip(f"{tool} not installed")
    prefix = f"pd-{abs(hash(request.node.name)) % 10000}-"
    workdir = tmp_path / "demo"
    yield prefix, workdir
    run([pyovs_bin("pyovs"), "demo", "--clean", "--prefix", prefix, "--dir", str(workdir)],
        timeout=60)
    for ns in _namespaces(prefix):
        run(["ip", "netns", "del", ns])


def _demo(prefix, workdir, *args, timeout=180):
    return run([pyovs_bin("pyovs"), "demo", "--prefix", prefix, "--dir", str(workdir),
                "--seconds", "1", *args], timeout=timeout)


def _check_run(proc, prefix, workdir, tunnel):
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"^\d+ packets transmitted, [1-9]\d* received", out, re.M), out
    assert re.search(r"[\d.]+ Mbits/sec +receiver$", out, re.M), out
    flows = out.split("$ ovs-appctl dpctl/dump-flows\n", 1)[1]
    assert re.search(r"actions:.*tnl_push\(tnl_port\(", flows), out
    assert re.search(r"actions:tnl_pop\(", flows), out
    assert f"type: {tunnel}\n" in out
    assert "pyovs demo: everything was removed.\n" in out
    assert _namespaces(prefix) == []
    assert not workdir.exists()
    assert _daemons(workdir) == []


def _real():
    for name in ("ovsdb-server", "ovs-vswitchd"):
        if not os.path.exists(REAL[name]):
            pytest.skip(f"{REAL[name]} not installed")
    return ["--ovs-bin", REAL_BIN]


@pytest.mark.interop
@pytest.mark.parametrize("tunnel", ["vxlan"])
def test_demo_on_real_ovs(demo_env, tunnel):
    prefix, workdir = demo_env
    proc = _demo(prefix, workdir, "--tunnel", tunnel, *_real())
    _check_run(proc, prefix, workdir, tunnel)


def test_demo_on_pyovs(demo_env):
    """The README's first command: a plain `pyovs demo` (VXLAN)."""
    prefix, workdir = demo_env
    proc = _demo(prefix, workdir, timeout=240)
    _check_run(proc, prefix, workdir, "vxlan")


@pytest.mark.parametrize("tunnel", ["gre", "geneve"])
def test_demo_other_tunnels_on_pyovs(demo_env, tunnel):
    prefix, workdir = demo_env
    proc = _demo(prefix, workdir, "--tunnel", tunnel, timeout=240)
    _check_run(proc, prefix, workdir, tunnel)


def _start_and_wait(prefix, workdir, needle):
    proc = subprocess.Popen([pyovs_bin("pyovs"), "demo", "--tunnel", "vxlan", "--prefix",
                             prefix, "--dir", str(workdir), *_real()],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if needle in line:
            return proc, seen
    proc.wait()
    raise AssertionError(f"{needle!r} not in output:\n" + "".join(seen))


@pytest.mark.interop
def test_interrupt_and_crash_leave_nothing(demo_env):
    prefix, workdir = demo_env
    # Ctrl-C in the middle: everything goes.
    proc, _ = _start_and_wait(prefix, workdir, "# Open vSwitch on hv2")
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, rest
    assert "everything was removed" in rest
    assert _namespaces(prefix) == [] and _daemons(workdir) == []

    # A crash leaves namespaces and daemons; a rerun removes them first.
    proc, _ = _start_and_wait(prefix, workdir, "# Traffic from vm1")
    proc.kill()
    proc.communicate(timeout=30)
    assert len(_namespaces(prefix)) == 4
    left = _daemons(workdir)
    assert len(left) >= 4                     # two ovsdb-servers, two vswitchds
    proc = _demo(prefix, workdir, "--tunnel", "vxlan", "--keep", *_real())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not any(pid in _daemons(workdir) for pid in left)
    assert "pyovs demo --clean" in proc.stdout          # --keep says how to remove
    assert len(_namespaces(prefix)) == 4
    # --keep left it running: it still forwards.
    ping = run(["ip", "netns", "exec", f"{prefix}vm1", "ping", "-c", "1", "-W", "5",
                "10.0.0.2"], timeout=30)
    assert ping.returncode == 0, ping.stdout
    proc = run([pyovs_bin("pyovs"), "demo", "--clean", "--prefix", prefix, "--dir",
                str(workdir)], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _namespaces(prefix) == [] and _daemons(workdir) == []
    assert not workdir.exists()


def test_missing_tools_are_named_with_their_package(demo_env, tmp_path):
    prefix, workdir = demo_env
    env = dict(os.environ, PATH="/usr/sbin")      # ip and ethtool only
    proc = subprocess.run([pyovs_bin("pyovs"), "demo", "--tunnel", "vxlan", "--prefix",
                           prefix, "--dir", str(workdir)], capture_output=True, text=True,
                          timeout=60,
                          env=env)
    assert proc.returncode == 1
    assert proc.stderr == ("pyovs demo: missing tools: ping (apt-get install "
                           "iputils-ping), iperf3 (apt-get install iperf3)\n")
    assert _namespaces(prefix) == []
