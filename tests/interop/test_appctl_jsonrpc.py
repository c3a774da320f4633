"""JSON-RPC interop (the transport under ovs-appctl): pyovs's jsonrpc
against Debian's real ovsdb-server and ovsdb-client."""

import asyncio
import os
import socket
import threading

import pytest

from pyovs.util import jsonrpc, stream
from pyovs.util.jsonrpc import Message
from tests.conftest import real_bin, run
from tests.interop.test_appctl import _kill_pidfile, start_real_ovsdb_server

pytestmark = pytest.mark.interop


@pytest.fixture
def real_db_sock(ovs_dirs):
    pidfile = start_real_ovsdb_server(ovs_dirs)
    yield str(ovs_dirs / "db.sock")
    _kill_pidfile(pidfile)


def test_blocking_connection_to_real_server(real_db_sock):
    with jsonrpc.BlockingConnection.open("unix:" + real_db_sock, timeout=10) as c:
        reply = c.transact_block(Message.create_request("list_dbs", []), timeout=10)
        assert reply.type == "reply" and reply.result == ["Open_vSwitch", "_Server"]
        echo = Message("request", method="echo", params=["x", 1], id="echo")
        assert c.transact_block(echo, timeout=10).result == ["x", 1]
        err = c.transact_block(Message.create_request("no_such", []), timeout=10)
        assert (err.type, err.error) == ("error", "unknown method")


def test_real_server_bytes_parse_and_reencode_identically(real_db_sock):
    """Bytes the real server writes are parsed and re-encoded unchanged."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(real_db_sock)
    s.sendall(b'{"id":0,"method":"get_schema","params":["_Server"]}'
              b'{"id":1,"method":"bogus","params":[]}')
    parser = jsonrpc.Parser()
    raw = b""
    values = []
    while len(values) < 2:
        chunk = s.recv(65536)
        assert chunk
        raw += chunk
        values += parser.feed(chunk)
    s.close()
    msgs = [Message.from_json(v) for v in values]
    assert [m.type for m in msgs] == ["reply", "error"]
    assert b"".join(jsonrpc.encode(m.to_json()) for m in msgs) == raw


def test_real_server_drops_what_pyovs_rejects(real_db_sock):
    """A message pyovs calls invalid makes the real server hang up too."""
    bad = b'{"id":5,"result":1,"error":null,"extra":1}'
    with pytest.raises(jsonrpc.JsonRpcError) as e:
        Message.from_json(jsonrpc.Parser().feed(bad)[0])
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(real_db_sock)
    s.sendall(bad)
    assert s.recv(100) == b""
    s.close()
    log = open(real_db_sock.replace("db.sock", "ovsdb-server.log")).read()
    assert "received bad JSON-RPC message: %s" % e.value in log


def test_real_ovsdb_client_against_pyovs_connection(ovs_dirs):
    """Debian's ovsdb-client talks to a pyovs jsonrpc server (list-dbs)."""
    path = str(ovs_dirs / "fake.sock")
    seen = []
    ready = threading.Event()
    stop = None

    async def handle(reader, writer):
        conn = jsonrpc.Connection(reader, writer, "fake")
        while True:
            msg = await conn.recv()
            if msg is None:
                break
            seen.append(msg)
            if msg.method == "list_dbs":
                conn.send(Message.create_reply(["A_DB", "Other"], msg.id))
            else:
                conn.send(Message.create_error("unknown method", msg.id))
        conn.close()

    async def main():
        nonlocal stop
        stop = asyncio.Event()
        listener = await stream.open_passive("punix:" + path, handle)
        ready.set()
        await stop.wait()
        listener.close()

    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_until_complete, args=(main(),))
    t.start()
    try:
        assert ready.wait(10)
        r = run([real_bin("ovsdb-client"), "list-dbs", "unix:" + path], timeout=30)
        assert (r.returncode, r.stdout) == (0, "A_DB\nOther\n")
        assert seen[0].to_json() == {"id": 0, "method": "list_dbs", "params": []}
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(10)
        loop.close()


@pytest.mark.parametrize("passive, active", [
    ("ptcp:16030:127.0.0.1", "tcp:127.0.0.1:16030"),
    ("punix:%(dir)s/rev.sock", "unix:%(dir)s/rev.sock"),
])
def test_passive_blocking_connection_serves_real_client(ovs_dirs, passive, active):
    """BlockingConnection.accept: the real ovsdb-client connects to us."""
    passive %= {"dir": ovs_dirs}
    active %= {"dir": ovs_dirs}
    result = {}

    def serve():
        try:
            with jsonrpc.BlockingConnection.accept(passive, timeout=20) as c:
                request = c.recv(timeout=20)
                c.send(Message.create_reply(["Reversed"], request.id))
                result["request"] = request
                try:
                    c.recv(timeout=20)          # the client hangs up
                except jsonrpc.ConnectionEOF:
                    pass
        except Exception as e:                  # reported below
            result["error"] = e

    t = threading.Thread(target=serve)
    t.start()
    try:
        r = None
        import time
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = run([real_bin("ovsdb-client"), "list-dbs", active], timeout=30)
            if r.returncode == 0 or "refused" not in r.stderr and "No such file" not in r.stderr:
                break
            time.sleep(0.05)
        assert (r.returncode, r.stdout) == (0, "Reversed\n"), r.stderr
    finally:
        t.join(30)
    assert "error" not in result, result.get("error")
    assert result["request"].method == "list_dbs"
    if passive.startswith("punix:"):
        assert not os.path.exists(passive[6:])      # stopped listening
