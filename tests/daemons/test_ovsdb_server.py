"""pyovs's ovsdb-server as a process: protocol, locks, bad input, crashes."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import pyovs_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import (RawClient, create_db,
                                                  start_server)

BR_OPS = [
    {"op": "insert", "table": "Bridge", "row": {"name": "br0"}, "uuid-name": "b"},
    {"op": "insert", "table": "Open_vSwitch", "row": {"bridges": ["named-uuid", "b"]}},
]


@pytest.fixture
def srv(request, tmp_path):
    return start_server(request, "pyovs", tmp_path)


@pytest.fixture
def client(srv, request):
    c = RawClient(srv.sock)
    request.addfinalizer(c.close)
    return c


def appctl(srv, *args):
    from pyovs.util.unixctl import unixctl_transact
    return unixctl_transact(srv.ctl, args[0], list(args[1:]), timeout=10)


def test_list_dbs_and_schema(client):
    reply, _ = client.call("list_dbs", [])
    assert reply["result"] == ["Open_vSwitch", "_Server"]
    reply, _ = client.call("get_schema", ["Open_vSwitch"])
    assert reply["result"]["name"] == "Open_vSwitch"
    assert "Bridge" in reply["result"]["tables"]


def test_transact_and_monitor_cond(srv, client):
    other = RawClient(srv.sock)
    try:
        reply, _ = other.call("monitor_cond", ["Open_vSwitch", "m",
                                               {"Bridge": [{"columns": ["name"]}]}])
        assert reply["result"] == {}
        reply, _ = client.call("transact", ["Open_vSwitch"] + BR_OPS)
        br_uuid = reply["result"][0]["uuid"][1]
        note = other.recv(timeout=10)
        assert note["method"] == "update2"
        assert note["params"] == ["m", {"Bridge": {br_uuid: {"insert": {"name": "br0"}}}}]
    finally:
        other.close()


def test_update_comes_before_reply_on_same_session(client):
    client.call("monitor", ["Open_vSwitch", None, {"Bridge": {"columns": ["name"]}}])
    reply, notes = client.call("transact", ["Open_vSwitch"] + BR_OPS)
    assert reply["error"] is None
    assert [n["method"] for n in notes] == ["update"]


def test_locks_between_two_clients(srv, client):
    b = RawClient(srv.sock)
    try:
        assert client.call("lock", ["L"])[0]["result"] == {"locked": True}
        assert b.call("lock", ["L"])[0]["result"] == {"locked": False}
        r, _ = b.call("transact", ["Open_vSwitch", {"op": "assert", "lock": "L"}])
        assert r["result"][0]["error"] == "not owner"
        b.call("unlock", ["L"])
        assert b.call("steal", ["L"])[0]["result"] == {"locked": True}
        assert client.recv(timeout=10) == {"id": None, "method": "stolen", "params": ["L"]}
        r, _ = b.call("transact", ["Open_vSwitch", {"op": "assert", "lock": "L"}])
        assert r["result"] == [{}]
        b.call("unlock", ["L"])
        assert client.recv(timeout=10) == {"id": None, "method": "locked", "params": ["L"]}
        # The owner vanishing hands the lock over too.
        assert b.call("lock", ["L"])[0]["result"] == {"locked": False}
        client.close()
        assert b.recv(timeout=10) == {"id": None, "method": "locked", "params": ["L"]}
    finally:
        b.close()


def _still_serving(srv):
    c = RawClient(srv.sock)
    try:
        return c.call("echo", ["ok"])[0]["result"] == ["ok"]
    finally:
        c.close()


def test_bad_input_closes_only_that_connection(srv, client):
    bystander = RawClient(srv.sock)
    try:
        client.send_raw(b"\x00\xffgarbage{]]")
        assert client.recv(timeout=10) is None          # closed
        c = RawClient(srv.sock)
        reply, _ = c.call("frobnicate", [])
        assert reply["error"] == "unknown method"
        c.send_raw(b'{"method":"echo","params":{},"id":1}')
        assert c.recv(timeout=10) is None
        c.close()
        assert bystander.call("echo", [1])[0]["result"] == [1]
        assert _still_serving(srv)
        assert srv.alive()
    finally:
        bystander.close()
    with open(srv.log) as f:
        assert "connection dropped" in f.read()


def test_huge_message_is_refused(srv, monkeypatch):
    from pyovs.ovsdb import server_io
    c = RawClient(srv.sock)
    try:
        big = b'{"method":"echo","id":1,"params":["' + b"x" * (server_io.MAX_MESSAGE_SIZE + 10)
        try:
            c.send_raw(big)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.recv(timeout=20) is None
    except ConnectionResetError:
        pass
    finally:
        c.close()
    assert _still_serving(srv) and srv.alive()


def test_monitor_with_bad_params_gets_error(client):
    reply, _ = client.call("monitor", ["Open_vSwitch", "m8"])
    assert reply["error"]["error"] == "syntax error"
    assert client.call("echo", [])[0]["result"] == []


def test_wait_times_out_and_cancel(client):
    wait = {"op": "wait", "table": "Bridge", "where": [], "columns": ["name"],
            "until": "!=", "rows": [], "timeout": 100}
    reply, _ = client.call("transact", ["Open_vSwitch", wait])
    assert reply["result"][0]["error"] == "timed out"
    assert reply["result"][0]["details"].startswith('"wait" timed out after ')
    del wait["timeout"]
    client.send({"method": "transact", "params": ["Open_vSwitch", wait], "id": "w"})
    client.send({"method": "cancel", "params": ["w"], "id": None})
    assert client.recv(timeout=10) == {"id": "w", "error": "canceled"}


def test_wait_is_released_by_a_commit(srv, client):
    wait = {"op": "wait", "table": "Bridge", "where": [], "columns": ["name"],
            "until": "!=", "rows": [], "timeout": 60000}
    client.request("transact", ["Open_vSwitch", wait])
    other = RawClient(srv.sock)
    try:
        other.call("transact", ["Open_vSwitch"] + BR_OPS)
    finally:
        other.close()
    reply = client.recv(timeout=10)
    assert reply["result"] == [{}]


def test_pipelined_transactions_all_acknowledged(srv, client):
    client.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch",
                                              "row": {}}])
    n = 300
    for i in range(n):
        client.send({"method": "transact", "id": i, "params": [
            "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                             "mutations": [["next_cfg", "+=", 1]]}]})
    ids = [client.recv(timeout=20)["id"] for _ in range(n)]
    assert ids == list(range(n))
    reply, _ = client.call("transact", ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                                         "where": [], "columns": ["next_cfg"]}])
    assert reply["result"][0]["rows"] == [{"next_cfg": n}]


def test_kill_9_keeps_acknowledged_transactions(request, tmp_path):
    srv = start_server(request, "pyovs", tmp_path)
    c = RawClient(srv.sock)
    c.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch", "row": {}}])
    acked = 0
    for i in range(1, 400):
        c.send({"method": "transact", "id": i, "params": [
            "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                             "mutations": [["next_cfg", "+=", 1]]}]})
        if i == 200:
            # Acknowledgements seen so far must survive the crash.
            while acked < 150:
                msg = c.recv(timeout=10)
                assert msg["error"] is None
                acked = msg["id"]
            os.kill(srv.proc.pid, signal.SIGKILL)
            break
    srv.proc.wait(timeout=10)
    c.close()
    srv.start()
    c = RawClient(srv.sock)
    reply, _ = c.call("transact", ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                                    "where": [], "columns": ["next_cfg"]}])
    assert reply["result"][0]["rows"][0]["next_cfg"] >= acked
    c.close()


def test_unixctl_commands(srv, tmp_path):
    assert appctl(srv, "ovsdb-server/list-dbs") == (None, "Open_vSwitch\n_Server\n")
    err, out = appctl(srv, "ovsdb-server/list-remotes")
    assert out == "punix:%s\n" % srv.sock
    assert appctl(srv, "ovsdb-server/remove-remote", "nothere")[0] == "no such remote\n"
    assert appctl(srv, "ovsdb-server/remove-db", "nodb")[0] == "Failed to find the database.\n"
    assert appctl(srv, "ovsdb-server/compact", "nodb")[0] == "no database by that name\n"
    assert appctl(srv, "ovsdb-server/compact")[0] is None
    extra = tmp_path / "extra.sock"
    assert appctl(srv, "ovsdb-server/add-remote", "punix:%s" % extra)[0] is None
    wait_for(lambda: extra.exists(), what="new listener")
    c = RawClient(str(extra))
    assert c.call("list_dbs", [])[0]["result"] == ["Open_vSwitch", "_Server"]
    c.close()
    assert appctl(srv, "ovsdb-server/remove-remote", "punix:%s" % extra)[0] is None
    # A second database, added and removed at run time.
    schema = tmp_path / "bench.ovsschema"
    schema.write_text(json.dumps({"name": "Other", "version": "1.0.0", "tables": {
        "T": {"columns": {"x": {"type": "integer"}}, "isRoot": True}}}))
    other = create_db(tmp_path / "other.db", str(schema))
    assert appctl(srv, "ovsdb-server/add-db", other) == (None, "")
    assert appctl(srv, "ovsdb-server/list-dbs")[1] == "Open_vSwitch\nOther\n_Server\n"
    assert appctl(srv, "ovsdb-server/remove-db", "Other") == (None, "")
    assert appctl(srv, "ovsdb-server/list-dbs")[1] == "Open_vSwitch\n_Server\n"
    assert appctl(srv, "exit")[0] is None
    srv.proc.wait(timeout=10)
    assert srv.proc.returncode == 0


def test_db_remote_from_manager_table(srv, client, tmp_path):
    from tests.daemons.test_ovsdb_server_util import PORT_BASE
    port = PORT_BASE + 1
    assert appctl(srv, "ovsdb-server/add-remote",
                  "db:Open_vSwitch,Open_vSwitch,manager_options")[0] is None
    client.call("transact", ["Open_vSwitch",
                             {"op": "insert", "table": "Manager", "uuid-name": "m",
                              "row": {"target": "ptcp:%d:127.0.0.1" % port}},
                             {"op": "insert", "table": "Open_vSwitch",
                              "row": {"manager_options": ["named-uuid", "m"]}}])

    def connect():
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            return None
    s = wait_for(connect, what="Manager listener")
    s.sendall(b'{"method":"list_dbs","params":[],"id":1}')
    assert b"Open_vSwitch" in s.recv(4096)
    s.close()


def test_run_option_exits_with_command(tmp_path):
    db = create_db(tmp_path / "conf.db")
    r = run([pyovs_bin("ovsdb-server"), db, "--no-chdir", "--unixctl=%s" % (tmp_path / "ctl"),
             "--remote=punix:%s" % (tmp_path / "s"), "--run=true"], timeout=30)
    assert r.returncode == 0, r.stderr


def _other_db(tmp_path):
    schema = tmp_path / "other.ovsschema"
    schema.write_text(json.dumps({"name": "Other", "version": "1.0.0", "tables": {
        "T": {"columns": {"x": {"type": "integer"}}, "isRoot": True}}}))
    return create_db(tmp_path / "other.db", str(schema))


def test_server_db_tracks_add_and_remove_db(srv, client, tmp_path):
    """_Server's Database table changes as databases come and go; a
    change-aware client's monitors on a removed database are cancelled, a
    client that is not change-aware is disconnected."""
    other = _other_db(tmp_path)
    client.call("set_db_change_aware", [True])
    reply, _ = client.call("monitor_cond", ["_Server", "s", {"Database": [
        {"columns": ["name", "model", "connected", "leader"]}]}])
    assert sorted(r["initial"]["name"] for r in reply["result"]["Database"].values()) == \
        ["Open_vSwitch", "_Server"]
    assert appctl(srv, "ovsdb-server/add-db", other) == (None, "")
    note = client.recv(timeout=10)
    assert note["method"] == "update2" and note["params"][0] == "s"
    (row,) = note["params"][1]["Database"].values()
    assert row == {"insert": {"name": "Other", "model": "standalone",
                              "connected": True, "leader": True}}
    client.call("monitor_cond", ["Other", "o", {"T": [{}]}])
    client.request("transact", ["Other", {"op": "wait", "table": "T", "where": [],
                                          "until": "!=", "rows": []}])
    unaware = RawClient(srv.sock)
    unaware.call("monitor_cond", ["Other", "o", {"T": [{}]}])
    assert appctl(srv, "ovsdb-server/remove-db", "Other") == (None, "")
    notes = [client.recv(timeout=10) for _ in range(3)]
    assert notes[:2] == [{"id": None, "method": "monitor_canceled", "params": ["o"]},
                         {"id": client.next_id, "error": "canceled"}]
    assert notes[2]["method"] == "update2"
    assert list(notes[2]["params"][1]["Database"].values()) == [{"delete": None}]
    assert unaware.recv(timeout=10) is None
    unaware.close()
    with open(srv.log) as f:
        assert "disconnecting (removing Other database by user request)" in f.read()
    assert client.call("list_dbs", [])[0]["result"] == ["Open_vSwitch", "_Server"]


def test_client_vanishing_mid_transaction(srv):
    """A client that sends a transaction and hangs up at once: the server
    commits it (as OVS does), logs nothing fatal and keeps serving."""
    for i in range(5):
        c = RawClient(srv.sock)
        c.send({"method": "transact", "id": 1, "params": [
            "Open_vSwitch", {"op": "insert", "table": "Open_vSwitch", "row": {}}]}
            if i == 0 else {"method": "transact", "id": 1, "params": [
                "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                                 "mutations": [["next_cfg", "+=", 1]]}]})
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
    c = RawClient(srv.sock)

    def count():
        r, _ = c.call("transact", ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                                    "where": [], "columns": ["next_cfg"]}])
        rows = r["result"][0]["rows"]
        return rows and rows[0]["next_cfg"] == 4
    wait_for(count, what="all five transactions")
    c.close()
    assert srv.alive()


def test_reconnect_drops_clients(srv, client):
    assert client.call("echo", [])[0]["result"] == []
    assert appctl(srv, "ovsdb-server/reconnect") == (None, "")
    assert client.recv(timeout=10) is None
    assert _still_serving(srv)


def test_active_remote_connects_out_and_reconnects(request, tmp_path):
    """--remote=unix:PATH: the server connects to a listening client, serves
    it like any other, and connects again after the client hangs up."""
    path = str(tmp_path / "client.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(4)
    listener.settimeout(20)
    request.addfinalizer(listener.close)
    srv = start_server(request, "pyovs", tmp_path, extra=["--remote=unix:" + path])
    for _ in range(2):
        conn, _ = listener.accept()
        c = RawClient.__new__(RawClient)
        c.sock, c.buf, c.next_id = conn, b"", 0
        c._dec = json.JSONDecoder()
        conn.settimeout(10)
        assert c.call("list_dbs", [])[0]["result"] == ["Open_vSwitch", "_Server"]
        conn.close()
    assert srv.alive()


def test_fuzzed_bytes_never_kill_the_server(srv):
    """Random bytes and random JSON-RPC-shaped messages: every connection
    gets answers or is closed, and the server keeps serving."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    leaf = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=6)
    values = st.recursive(leaf, lambda c: st.lists(c, max_size=3)
                          | st.dictionaries(st.text(max_size=4), c, max_size=3),
                          max_leaves=8)
    message = st.fixed_dictionaries({
        "method": st.sampled_from(["transact", "monitor", "monitor_cond", "lock",
                                   "get_schema", "echo", "x"]) | st.text(max_size=5),
        "params": st.lists(st.sampled_from(["Open_vSwitch", "_Server"]) | values,
                           max_size=4),
        "id": st.integers(0, 9) | st.text(max_size=3)})
    payloads = (st.binary(max_size=200)
                | message.map(lambda m: json.dumps(m).encode())
                | values.map(lambda v: json.dumps(v).encode()))

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(payloads)
    def check(data):
        c = RawClient(srv.sock, timeout=5)
        try:
            c.send_raw(data)
            try:
                c.recv(timeout=0.3)
            except (socket.timeout, ConnectionResetError):
                pass
        finally:
            c.close()
    check()
    assert srv.alive() and _still_serving(srv)
