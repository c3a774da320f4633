"""The standalone ofproto harness as a process, driven by pyovs's own
ovs-ofctl (no real OVS needed): BR.mgmt and ptcp: service, bridge-name
targets, a controller that goes away and comes back (reconnect), a peer
that hangs up mid-message, and a clean exit on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import pyovs_bin, wait_for
from pyovs.openflow import messages as M

PORT_BASE = 16520


def _port(offset):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit()) or "0"
    return PORT_BASE + (int(digits) * 3 + offset) % 30


class Harness:
    def __init__(self, *extra):
        os.makedirs("/tmp/pf", exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="dm", dir="/tmp/pf")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyovs.ofproto.standalone", "br0",
             "--port", "p1", "--port", "p2", *extra],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.ready = self.proc.stdout.readline().split()
        assert self.ready and self.ready[0] == "ready", self.proc.stderr.read()

    def ofctl(self, *args):
        p = subprocess.run([pyovs_bin("ovs-ofctl"), *args], env=self.env,
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def harness():
    hs = []

    def start(*extra):
        h = Harness(*extra)
        hs.append(h)
        return h
    yield start
    for h in hs:
        h.stop()


def test_bridge_name_target_and_ptcp(harness):
    port = _port(0)
    h = harness("--listen", f"ptcp:{port}:127.0.0.1")
    assert f"ptcp:{port}:127.0.0.1" in h.ready
    rc, out, err = h.ofctl("add-flow", "br0", "priority=7,in_port=p1,actions=output:p2")
    assert rc == 0, err
    rc, out, err = h.ofctl("dump-flows", f"tcp:127.0.0.1:{port}")
    assert rc == 0, err
    assert "priority=7,in_port=1 actions=output:2" in out
    rc, out, _ = h.ofctl("--names", "dump-flows", "br0")
    assert 'in_port=p1 actions=output:p2' in out
    rc, out, _ = h.ofctl("show", "br0")
    assert " 1(p1): " in out and " LOCAL(br0): " in out


def test_hangup_mid_message_keeps_running(harness):
    h = harness()
    path = os.path.join(h.dir, "br0.mgmt")
    for junk in (b"\x04\x00\x00", b"\x04\x0e\xff\xff\x00\x00\x00\x01" + b"x" * 40,
                 b"\x06\x00\x00\x08\x00\x00\x00\x01\x04\x05\x00"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(junk)
        s.close()
    rc, out, err = h.ofctl("show", "br0")
    assert rc == 0, err
    assert h.proc.poll() is None


def test_controller_reconnects(harness):
    port = _port(1)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    srv.settimeout(20)
    try:
        harness("--controller", f"tcp:127.0.0.1:{port}")
        for _ in range(2):
            conn, _ = srv.accept()
            conn.settimeout(10)
            hello = conn.recv(64)
            assert M.parse_header(hello).type == M.OFPT_HELLO
            conn.close()                    # the controller goes away
    finally:
        srv.close()


def test_sigterm_removes_the_socket(harness):
    h = harness()
    path = os.path.join(h.dir, "br0.mgmt")
    assert os.path.exists(path)
    h.proc.send_signal(signal.SIGTERM)
    assert h.proc.wait(10) == 0
    wait_for(lambda: not os.path.exists(path), timeout=5, what="socket removal")


def test_controller_status_in_process():
    """ConnMgrShell in this process: a controller that refuses, then
    accepts; the status OVS would write to the Controller row."""
    import asyncio
    from pyovs.ofproto.connmgr import ConnMgr, ConnMgrShell
    from pyovs.ofproto.ofproto import OFProto

    port = _port(2)

    async def main():
        loop = asyncio.get_running_loop()
        shell = ConnMgrShell(ConnMgr(OFProto("br0", 1, now=loop.time())),
                             clock=loop.time)
        runner = asyncio.ensure_future(shell.run_forever())
        name = f"tcp:127.0.0.1:{port}"
        shell.add_controller(name)
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                st = shell.controller_status(name) if name in shell.controllers else None
                if st and "last_error" in st["status"]:
                    break
            assert st["is_connected"] is False
            assert st["status"]["last_error"] == "Connection refused"
            accepted = asyncio.Event()

            async def on_conn(reader, writer):
                writer.write(M.encode_hello([M.OFP13], 1))
                accepted.set()
                await reader.read(100)
                await asyncio.sleep(5)
                writer.close()
            server = await asyncio.start_server(on_conn, "127.0.0.1", port)
            try:
                await asyncio.wait_for(accepted.wait(), 15)
                for _ in range(100):
                    st = shell.controller_status(name)
                    if st["is_connected"]:
                        break
                    await asyncio.sleep(0.05)
                assert st["is_connected"] and st["role"] == "other"
                assert st["status"]["state"] == "ACTIVE"
                assert "sec_since_connect" in st["status"]
            finally:
                server.close()
        finally:
            runner.cancel()
            shell.close()
    asyncio.run(main())
