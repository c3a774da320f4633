"""pyovs.ovsdb.server without sockets: sessions fed Messages directly."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyovs.ovsdb.database import Database
from pyovs.ovsdb.schema import load_schema
from pyovs.ovsdb.server import OvsdbServer
from pyovs.ovsdb.server_db import ServedDb
from pyovs.util.jsonrpc import Message
from tests.daemons.test_ovsdb_server_util import vswitch_schema_path


def new_server():
    schema = load_schema(vswitch_schema_path())
    server = OvsdbServer()
    server.add_db(ServedDb(schema.name, schema, Database(schema)))
    return server


def request(method, params, id=1):
    return Message("request", method=method, params=params, id=id)


def test_group_commit_defers_nothing_but_storage():
    """Replies are queued at once; flush() writes each commit once."""
    class Storage:
        def __init__(self):
            self.written, self.flushes = [], 0

        def write(self, changes, comment=None):
            self.written.append(changes)

        def flush(self):
            self.flushes += 1

        def grew_lots(self):
            return False
    server = new_server()
    storage = server.dbs["Open_vSwitch"].storage = Storage()
    s = server.new_session("t")
    for i in range(5):
        s.receive(request("transact", ["Open_vSwitch", {
            "op": "insert", "table": "Open_vSwitch", "row": {"next_cfg": i}}]
            if i == 0 else ["Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch",
                                             "where": [], "mutations": [["next_cfg", "+=", 1]]}],
            id=i), now=0)
    assert [m.id for m in s.outbox] == [0, 1, 2, 3, 4]
    assert storage.flushes == 0
    server.flush()
    # As ovsdb-server: written, but fsynced only for a durable commit.
    assert (len(storage.written), storage.flushes) == (5, 0)
    for i in range(5, 8):
        ops = ["Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                                "mutations": [["next_cfg", "+=", 1]]}]
        if i == 6:
            ops.append({"op": "commit", "durable": True})
        s.receive(request("transact", ops, id=i), now=0)
    server.flush()
    assert (len(storage.written), storage.flushes) == (8, 1)


def test_wait_trigger_deadline():
    server = new_server()
    s = server.new_session("t")
    wait = {"op": "wait", "table": "Bridge", "where": [], "columns": ["name"],
            "until": "!=", "rows": [], "timeout": 250}
    s.receive(request("transact", ["Open_vSwitch", wait], id="w"), now=10.0)
    assert s.outbox == [] and server.next_deadline() == pytest.approx(10.25)
    server.run(10.1)
    assert s.outbox == []
    server.run(10.3)
    (reply,) = s.take_outbox()
    assert reply.result == [{"error": "timed out",
                             "details": '"wait" timed out after 300 ms'}]
    assert server.next_deadline() is None


def test_closing_session_releases_locks_and_triggers():
    server = new_server()
    a, b = server.new_session("a"), server.new_session("b")
    a.receive(request("lock", ["L"]))
    b.receive(request("lock", ["L"]))
    b.take_outbox()
    a.receive(request("transact", ["Open_vSwitch", {
        "op": "wait", "table": "Bridge", "where": [], "columns": ["name"],
        "until": "!=", "rows": []}], id="w"))
    a.close()
    assert server.triggers == []
    assert [m.method for m in b.take_outbox()] == ["locked"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
    | st.text(max_size=8) | st.sampled_from(["Open_vSwitch", "_Server", "Bridge", "name"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["op", "table", "where", "row", "columns",
                                       "select", "name", "x"]), children, max_size=4),
    max_leaves=12)
methods = st.sampled_from(["list_dbs", "get_schema", "transact", "monitor",
                           "monitor_cond", "monitor_cond_since", "monitor_cancel",
                           "monitor_cond_change", "lock", "steal", "unlock", "echo",
                           "set_db_change_aware", "cancel", "nonsense"])


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(methods, st.lists(json_values, max_size=4)), max_size=12))
def test_fuzzed_requests_always_get_answers(msgs):
    """Whatever the params, the session answers every request (or parks it
    on a "wait") and never raises."""
    server = new_server()
    s = server.new_session("fuzz")
    for i, (method, params) in enumerate(msgs):
        s.receive(request(method, params, id=i), now=float(i))
        answered = {m.id for m in s.outbox if m.type in ("reply", "error")}
        parked = {t.id for t in server.triggers}
        assert i in answered or i in parked, (method, params)
        server.flush()
        s.take_outbox()
    s.close()
    assert server.sessions == []


def test_storage_failure_stops_without_acknowledging():
    """If the commit cannot be written, no client hears it succeeded."""
    import asyncio
    from pyovs.ovsdb.server_io import ServerLoop

    class BrokenStorage:
        def write(self, changes, comment=None):
            raise OSError(28, "No space left on device")

        def flush(self):
            pass

        def grew_lots(self):
            return False

    async def scenario():
        server = new_server()
        server.dbs["Open_vSwitch"].storage = BrokenStorage()
        loop = ServerLoop(server)
        s = server.new_session("t")
        s.receive(request("transact", ["Open_vSwitch", {
            "op": "insert", "table": "Open_vSwitch", "row": {}}]))
        assert len(s.outbox) == 1
        loop.flush()
        return loop, s
    loop, s = asyncio.run(scenario())
    assert loop.storage_failed and loop.exit_event.is_set()
    assert s.outbox == []
