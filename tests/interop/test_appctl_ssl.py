"""ssl:/pssl: streams (pyovs.util.stream_ssl) against Debian's real
ovsdb-server and ovsdb-client, with a throw-away CA made by openssl.
Ports 16010-16019 (engineer A's range)."""

import asyncio
import shutil
import subprocess
import threading

import pytest

from pyovs.util import jsonrpc, stream, stream_ssl
from pyovs.util.jsonrpc import Message
from tests.conftest import REAL_VSWITCH_SCHEMA, real_bin, run
from tests.interop.test_appctl import _kill_pidfile

pytestmark = pytest.mark.interop


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=pyovs test CA", cwd=d)
    for name in ("server", "client", "rogue"):
        _openssl("req", *ec, "-keyout", name + "-key.pem", "-out", name + ".csr",
                 "-subj", "/CN=" + name, cwd=d)
    for name in ("server", "client"):
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                 "-CAkey", "ca-key.pem", "-CAcreateserial", "-out",
                 name + "-cert.pem", "-days", "2", cwd=d)
    # A certificate from another CA: must be refused.
    _openssl("x509", "-req", "-in", "rogue.csr", "-signkey", "rogue-key.pem",
             "-out", "rogue-cert.pem", "-days", "2", cwd=d)
    return d


@pytest.fixture
def pyovs_ssl_as(pki, monkeypatch):
    """Configure pyovs's SSL as NAME (client/server/rogue), undone after."""
    monkeypatch.setattr(stream_ssl, "_config", dict(stream_ssl._config))
    monkeypatch.setattr(stream_ssl, "_contexts", {})

    def configure(name):
        stream_ssl.set_private_key(str(pki / (name + "-key.pem")))
        stream_ssl.set_certificate(str(pki / (name + "-cert.pem")))
        stream_ssl.set_ca_cert(str(pki / "ca.pem"))
    return configure


@pytest.fixture
def real_ssl_server(pki, ovs_dirs):
    db = ovs_dirs / "conf.db"
    run([real_bin("ovsdb-tool"), "create", str(db), REAL_VSWITCH_SCHEMA], check=True)
    pidfile = ovs_dirs / "ovsdb-server.pid"
    run([real_bin("ovsdb-server"), str(db), "--remote=pssl:16010:127.0.0.1",
         "-p", str(pki / "server-key.pem"), "-c", str(pki / "server-cert.pem"),
         "-C", str(pki / "ca.pem"), "--pidfile=%s" % pidfile, "--detach",
         "--no-chdir", "--log-file=%s" % (ovs_dirs / "ovsdb-server.log"),
         "--unixctl=%s" % (ovs_dirs / "ctl")], check=True, timeout=30)
    yield "ssl:127.0.0.1:16010"
    _kill_pidfile(pidfile)


def _connect_when_listening(name):
    import time
    deadline = time.monotonic() + 10
    while True:
        try:
            return jsonrpc.BlockingConnection.open(name, timeout=10)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_pyovs_client_to_real_ssl_server(real_ssl_server, pyovs_ssl_as):
    pyovs_ssl_as("client")
    with _connect_when_listening(real_ssl_server) as c:
        reply = c.transact_block(Message.create_request("list_dbs", []), timeout=10)
        assert reply.result == ["Open_vSwitch", "_Server"]


def test_real_ssl_server_refuses_foreign_certificate(real_ssl_server, pyovs_ssl_as):
    pyovs_ssl_as("rogue")
    with pytest.raises((OSError, EOFError)):
        with _connect_when_listening(real_ssl_server) as c:
            c.transact_block(Message.create_request("list_dbs", []), timeout=10)


def test_real_ovsdb_client_to_pyovs_pssl(pki, pyovs_ssl_as):
    pyovs_ssl_as("server")
    ready = threading.Event()
    state = {}

    async def handle(reader, writer):
        conn = jsonrpc.Connection(reader, writer, "pssl")
        while (msg := await conn.recv()) is not None:
            conn.send(Message.create_reply(["Over_TLS"], msg.id))
        conn.close()

    async def main():
        state["stop"] = asyncio.Event()
        listener = await stream.open_passive("pssl:16011:127.0.0.1", handle)
        state["bound"] = listener.bound_name
        ready.set()
        await state["stop"].wait()
        listener.close()

    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_until_complete, args=(main(),))
    t.start()
    try:
        assert ready.wait(10)
        assert state["bound"] == "pssl:16011:127.0.0.1"
        args = ["-p", str(pki / "client-key.pem"), "-c", str(pki / "client-cert.pem"),
                "-C", str(pki / "ca.pem"), "list-dbs", "ssl:127.0.0.1:16011"]
        r = run([real_bin("ovsdb-client")] + args, timeout=30)
        assert (r.returncode, r.stdout) == (0, "Over_TLS\n"), r.stderr
        # Without a certificate the real client cannot even start TLS.
        r = run([real_bin("ovsdb-client"), "list-dbs", "ssl:127.0.0.1:16011"], timeout=30)
        assert r.returncode != 0
        assert "Protocol not available" in r.stderr
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        t.join(10)
        loop.close()
