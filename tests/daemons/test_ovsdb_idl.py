"""The IDL against Debian's real ovsdb-server (and pyovs's own): initial
sync, transactions, changes made by the real ovs-vsctl, verify failure and
retry, locks, and resync after the server restarts (blocking and asyncio
shells)."""

import asyncio
import json
import os
import subprocess

import pytest

from pyovs.ovsdb import idl as idlmod
from pyovs.ovsdb.idl import AsyncIdl, BlockingIdl
from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, run, wait_for

TIMEOUT = 20


class RealServer:
    """An ovsdb-server (Debian's, or pyovs's with KIND "pyovs") on a unix
    socket in a private directory, holding the Open_vSwitch schema."""

    def __init__(self, tmp_path, kind="real"):
        self.kind = kind
        self.dir = tmp_path
        self.sock = str(tmp_path / "db.sock")
        self.remote = "unix:" + self.sock
        self.db = str(tmp_path / "conf.db")
        self.env = dict(os.environ, OVS_RUNDIR=str(tmp_path),
                        OVS_LOGDIR=str(tmp_path), OVS_DBDIR=str(tmp_path))
        run([self.bin("ovsdb-tool"), "create", self.db, REAL_VSWITCH_SCHEMA],
            check=True)
        self.proc = None

    def bin(self, name):
        return real_bin(name) if self.kind == "real" else pyovs_bin(name)

    def start(self):
        self.proc = subprocess.Popen(
            [self.bin("ovsdb-server"), self.db, "--remote=punix:" + self.sock,
             "--unixctl=" + str(self.dir / "server.ctl"), "--no-chdir",
             "--log-file=" + str(self.dir / "server.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        wait_for(lambda: os.path.exists(self.sock), what="ovsdb-server socket")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.sock):
            os.unlink(self.sock)

    def vsctl(self, *args):
        r = run([real_bin("ovs-vsctl"), "--db=" + self.remote, "--no-wait",
                 "--retry", "--timeout=20", *args], env=self.env)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def query(self, txn):
        r = run([real_bin("ovsdb-client"), "query", self.remote, json.dumps(txn)],
                check=True, env=self.env)
        return json.loads(r.stdout)


@pytest.fixture(params=["real", "pyovs"])
def server(tmp_path, request):
    srv = RealServer(tmp_path, request.param)
    srv.start()
    srv.vsctl("init", "--", "add-br", "br0", "--", "set", "Bridge", "br0",
              "external_ids:k=v", "--", "add-port", "br0", "p1")
    yield srv
    srv.stop()


@pytest.fixture
def blocking(server):
    b = BlockingIdl(server.remote, "Open_vSwitch",
                    tables={"Open_vSwitch": None, "Bridge": None, "Port": None,
                            "Interface": ["name", "type"]})
    yield b
    b.close()


def _bridge_names(server):
    return sorted(server.vsctl("list-br").split())


def test_initial_sync_matches_server(server, blocking):
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    assert sorted(r.name for r in idl.rows("Bridge")) == _bridge_names(server)
    br0 = idl.lookup("Bridge", "name", "br0")
    assert br0.external_ids == {"k": "v"}
    assert br0.fail_mode == []
    ports = {idl.get_row("Port", u).name for u in br0.ports}
    assert ports == {"br0", "p1"}
    # Only the registered columns are replicated.
    iface = idl.lookup("Interface", "name", "p1")
    assert set(iface.columns()) == {"name", "type"}
    with pytest.raises(AttributeError):
        iface.mtu
    real = server.query(["Open_vSwitch", {"op": "select", "table": "Bridge",
                                          "where": [], "columns": ["_uuid"]}])
    assert {r["_uuid"][1] for r in real[0]["rows"]} == \
        {str(r.uuid) for r in idl.rows("Bridge")}


def _add_bridge(name):
    def fn(idl, txn):
        ovs = idl.rows("Open_vSwitch")[0]
        iface = txn.insert("Interface")
        iface.name = name
        iface.type = "internal"
        port = txn.insert("Port")
        port.name = name
        port.interfaces = [iface]
        br = txn.insert("Bridge")
        br.name = name
        br.ports = [port]
        o = txn.update(ovs)
        o.verify("bridges")
        o.bridges = ovs.bridges + [br.uuid]
        txn.increment(ovs, "next_cfg")
        txn.add_comment("pyovs test: add-br %s" % name)
    return fn


def test_transaction_visible_to_real_tools(server, blocking):
    txn = blocking.transact(_add_bridge("br7"), TIMEOUT, wait_for_replica=True)
    assert txn.status == idlmod.SUCCESS, txn.error
    assert _bridge_names(server) == ["br0", "br7"]
    assert server.vsctl("list-ports", "br7").split() == []
    assert server.vsctl("get", "Interface", "br7", "type").strip() == "internal"
    # The increment read back the new value, which the server now holds.
    next_cfg = server.vsctl("get", "Open_vSwitch", ".", "next_cfg").strip()
    assert txn.increment_new_value == int(next_cfg)
    # The replica reflects the commit, with the UUIDs the server chose.
    new = blocking.idl.lookup("Bridge", "name", "br7")
    assert new.uuid == [txn.get_insert_uuid(u) for u, t in txn._inserts.items()
                        if t == "Bridge"][0]
    # Update and delete.
    def change(idl, t):
        br = idl.lookup("Bridge", "name", "br7")
        t.update(br).external_ids = {"a": "b"}
        br0 = idl.lookup("Bridge", "name", "br0")
        t.update(br0).fail_mode = ["secure"]
    assert blocking.transact(change, TIMEOUT).status == idlmod.SUCCESS
    assert server.vsctl("get", "Bridge", "br7", "external_ids").strip() == '{a=b}'
    assert server.vsctl("get", "Bridge", "br0", "fail_mode").strip() == "secure"


def test_changes_by_real_vsctl_are_tracked(server, blocking):
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    idl.clear_tracked()
    seqno = idl.change_seqno
    server.vsctl("add-br", "br5", "--", "set", "Bridge", "br0",
                 "external_ids:k=w", "other_config:x=1")
    blocking.run_until(lambda: idl.lookup("Bridge", "name", "br5") is not None
                       and idl.lookup("Bridge", "name", "br0").external_ids ==
                       {"k": "w"}, TIMEOUT)
    assert idl.change_seqno != seqno
    kinds = {(c.table, c.kind) for c in idl.tracked()}
    assert ("Bridge", "insert") in kinds and ("Bridge", "update") in kinds
    upd = [c for c in idl.tracked() if c.table == "Bridge" and c.kind == "update"
           and c.new.name == "br0"][0]
    assert {"external_ids", "other_config"} <= upd.columns
    assert upd.old.external_ids == {"k": "v"}
    assert upd.new.other_config == {"x": "1"}
    idl.clear_tracked()
    server.vsctl("del-br", "br5", "--", "remove", "Bridge", "br0", "other_config", "x")
    blocking.run_until(lambda: idl.lookup("Bridge", "name", "br5") is None, TIMEOUT)
    blocking.run_until(lambda: idl.lookup("Bridge", "name", "br0").other_config == {},
                       TIMEOUT)
    deleted = [c for c in idl.tracked() if c.kind == "delete"]
    assert {c.old.name for c in deleted if c.table == "Bridge"} == {"br5"}


def test_verify_failure_then_retry(server, blocking):
    """A verified column changed by someone else makes the commit "try
    again"; transact() then reruns the function on the fresh replica."""
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    calls = []

    def fn(idl_, txn):
        calls.append(1)
        br0 = idl_.lookup("Bridge", "name", "br0")
        row = txn.update(br0)
        row.verify("external_ids")
        ids = dict(br0.external_ids)
        ids["n"] = str(len(ids))
        row.external_ids = ids
        if len(calls) == 1:
            # Someone else changes the column before we commit.
            server.vsctl("set", "Bridge", "br0", "external_ids:other=1")

    txn = blocking.transact(fn, TIMEOUT)
    assert txn.status == idlmod.SUCCESS
    assert len(calls) == 2
    ids = server.vsctl("get", "Bridge", "br0", "external_ids").strip()
    assert ids == '{k=v, n="2", other="1"}'
    # Without retrying, a stale verify reports "try again".
    stale = idl.lookup("Bridge", "name", "br0")
    server.vsctl("set", "Bridge", "br0", "external_ids:again=1")
    txn = idl.transaction()
    r = txn.update(stale)
    r.verify("external_ids")
    r.external_ids = {}
    assert blocking.commit_block(txn, TIMEOUT) == idlmod.TRY_AGAIN


def test_error_status_and_unchanged(server, blocking):
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    txn = idl.transaction()
    assert blocking.commit_block(txn, TIMEOUT) == idlmod.UNCHANGED
    txn = idl.transaction()
    txn.insert("Open_vSwitch")      # the table has maxRows 1
    assert blocking.commit_block(txn, TIMEOUT) == idlmod.ERROR
    assert "constraint violation" in txn.error


def test_resync_after_server_restart(server, blocking):
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    server.stop()
    # While the server is down, the database changes behind our back.
    run([server.bin("ovsdb-tool"), "transact", server.db, json.dumps(
        ["Open_vSwitch", {"op": "update", "table": "Bridge",
                          "where": [["name", "==", "br0"]],
                          "row": {"external_ids": ["map", [["after", "restart"]]]}}])],
        check=True)
    server.start()
    idl.clear_tracked()
    blocking.run_until(lambda: idl.synced and
                       idl.lookup("Bridge", "name", "br0").external_ids ==
                       {"after": "restart"}, TIMEOUT)
    assert any(c.kind == "update" and c.table == "Bridge" for c in idl.tracked())
    txn = blocking.transact(_add_bridge("br8"), TIMEOUT)
    assert txn.status == idlmod.SUCCESS
    assert _bridge_names(server) == ["br0", "br8"]


def test_async_idl_follows_changes_and_reconnects(server):
    async def main():
        a = AsyncIdl(server.remote, "Open_vSwitch",
                     tables={"Open_vSwitch": None, "Bridge": ["name", "external_ids"]})
        await a.start()
        try:
            await asyncio.wait_for(a.wait_for_sync(), TIMEOUT)
            idl = a.idl
            assert [r.name for r in idl.rows("Bridge")] == ["br0"]
            seqno = idl.change_seqno
            await asyncio.to_thread(server.vsctl, "set", "Bridge", "br0",
                                    "external_ids:x=y")
            await asyncio.wait_for(a.wait_until(
                lambda: idl.lookup("Bridge", "name", "br0").external_ids.get("x")
                == "y"), TIMEOUT)
            assert idl.change_seqno != seqno

            txn = idl.transaction()
            txn.update(idl.lookup("Bridge", "name", "br0")).external_ids = {"z": "1"}
            assert await asyncio.wait_for(a.commit(txn), TIMEOUT) == idlmod.SUCCESS
            out = await asyncio.to_thread(server.vsctl, "get", "Bridge", "br0",
                                          "external_ids")
            assert out.strip() == '{z="1"}'

            await asyncio.to_thread(server.stop)
            await asyncio.wait_for(a.wait_until(lambda: not idl.synced), TIMEOUT)
            await asyncio.to_thread(server.start)
            await asyncio.to_thread(server.vsctl, "add-br", "br3")
            await asyncio.wait_for(a.wait_until(
                lambda: idl.synced and idl.lookup("Bridge", "name", "br3")), TIMEOUT)
        finally:
            await a.close()
    asyncio.run(main())


def test_lock_gates_transactions(server):
    """Two IDLs want the same lock: only the holder can commit; the other
    gets "not locked" until the holder lets go."""
    a = BlockingIdl(server.remote, "Open_vSwitch", tables={"Bridge": ["name",
                                                                      "external_ids"]},
                    lock_name="pyovs_test")
    b = BlockingIdl(server.remote, "Open_vSwitch", tables={"Bridge": ["name",
                                                                      "external_ids"]},
                    lock_name="pyovs_test")
    try:
        a.wait_for_sync(TIMEOUT)
        a.run_until(lambda: a.idl.has_lock, TIMEOUT)
        b.wait_for_sync(TIMEOUT)
        b.run_until(lambda: b.idl.is_lock_contended, TIMEOUT)

        def touch(value):
            def fn(idl, txn):
                txn.update(idl.lookup("Bridge", "name", "br0")).external_ids = \
                    {"by": value}
            return fn

        assert b.transact(touch("b"), TIMEOUT).status == idlmod.NOT_LOCKED
        assert a.transact(touch("a"), TIMEOUT).status == idlmod.SUCCESS
        a.close()
        b.run_until(lambda: b.idl.has_lock, TIMEOUT)
        assert b.transact(touch("b"), TIMEOUT).status == idlmod.SUCCESS
        assert server.vsctl("get", "Bridge", "br0", "external_ids").strip() == "{by=b}"
    finally:
        a.close()
        b.close()


def test_conditions_select_rows(server):
    """A monitor condition limits the replica; changing it brings the other
    rows in (monitor_cond_change), and rows that stop matching leave."""
    server.vsctl("add-br", "br1", "--", "add-br", "br2")
    b = BlockingIdl(server.remote, "Open_vSwitch", tables={"Bridge": ["name"]},
                    conditions={"Bridge": [["name", "==", "br1"]]})
    try:
        b.wait_for_sync(TIMEOUT)
        idl = b.idl
        assert [r.name for r in idl.rows("Bridge")] == ["br1"]
        server.vsctl("add-br", "br3")
        server.vsctl("set", "Bridge", "br2", "external_ids:x=1")
        b.set_condition("Bridge", [["name", "!=", "br1"]])
        b.run_until(lambda: sorted(r.name for r in idl.rows("Bridge"))
                    == ["br0", "br2", "br3"], TIMEOUT)
        idl.clear_tracked()
        b.set_condition("Bridge", [True])
        b.run_until(lambda: len(idl.rows("Bridge")) == 4, TIMEOUT)
        assert [c.new.name for c in idl.tracked() if c.kind == "insert"] == ["br1"]
    finally:
        b.close()


def test_newer_client_schema_against_older_server(server):
    """A client schema with a column and a table the server lacks still
    syncs (OVS asks only for what the server has) and commits."""
    from pyovs.ovsdb.schema import DbSchema
    with open(REAL_VSWITCH_SCHEMA) as f:
        j = json.load(f)
    j["tables"]["Bridge"]["columns"]["pyovs_future"] = {
        "type": {"key": "string", "min": 0, "max": 1}}
    j["tables"]["Pyovs_Future"] = {"columns": {"x": {"type": "integer"}}}
    b = BlockingIdl(server.remote, "Open_vSwitch", schema=DbSchema.from_json(j),
                    tables={"Bridge": ["name", "pyovs_future", "external_ids"],
                            "Pyovs_Future": None})
    try:
        b.wait_for_sync(TIMEOUT)
        br0 = b.idl.lookup("Bridge", "name", "br0")
        assert br0.pyovs_future == [] and br0.external_ids == {"k": "v"}

        def fn(idl, txn):
            txn.update(idl.lookup("Bridge", "name", "br0")).external_ids = {"n": "1"}
        assert b.transact(fn, TIMEOUT).status == idlmod.SUCCESS
        assert server.vsctl("get", "Bridge", "br0", "external_ids").strip() == '{n="1"}'
    finally:
        b.close()


def test_partial_map_and_set_writes(server, blocking):
    """setkey/delkey/addvalue/delvalue leave concurrent changes to other
    keys and elements alone."""
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    br0 = idl.lookup("Bridge", "name", "br0")
    server.vsctl("set", "Bridge", "br0", "external_ids:other=1",
                 "flood_vlans=1,2")      # the replica has not seen this yet
    txn = idl.transaction()
    txn.setkey(br0, "external_ids", "k", "w")
    txn.setkey(br0, "external_ids", "new", "x")
    txn.addvalue(br0, "flood_vlans", 7)
    txn.delvalue(br0, "flood_vlans", 1)
    row = txn.update(br0)
    assert row.external_ids == {"k": "w", "new": "x"}
    assert blocking.commit_block(txn, TIMEOUT) == idlmod.SUCCESS
    assert server.vsctl("get", "Bridge", "br0", "external_ids").strip() == \
        '{k=w, new=x, other="1"}'
    assert server.vsctl("get", "Bridge", "br0", "flood_vlans").strip() == "[2, 7]"
    txn = idl.transaction()
    txn.delkey(br0, "external_ids", "new")
    assert blocking.commit_block(txn, TIMEOUT) == idlmod.SUCCESS
    assert server.vsctl("get", "Bridge", "br0", "external_ids").strip() == \
        '{k=w, other="1"}'


def test_resync_after_online_conversion(server, blocking):
    """ovsdb-client convert cancels monitors; the IDL starts over and keeps
    following the converted database."""
    if server.kind != "real":
        pytest.skip("online conversion is exercised against the real server")
    blocking.wait_for_sync(TIMEOUT)
    idl = blocking.idl
    with open(REAL_VSWITCH_SCHEMA) as f:
        j = json.load(f)
    j["version"] = "8.3.2"
    j["tables"]["Bridge"]["columns"]["pyovs_new"] = {"type": "string"}
    new = server.dir / "new.ovsschema"
    new.write_text(json.dumps(j))
    run([real_bin("ovsdb-client"), "convert", server.remote, str(new)], check=True,
        env=server.env)
    blocking.run_until(lambda: not idl.synced, TIMEOUT)
    blocking.wait_for_sync(TIMEOUT)
    server.vsctl("add-br", "brc")
    blocking.run_until(lambda: idl.lookup("Bridge", "name", "brc") is not None, TIMEOUT)
    assert idl.lookup("Bridge", "name", "br0").external_ids == {"k": "v"}


@pytest.mark.parametrize("kind", ["real", "pyovs"])
def test_increment_of_a_row_the_transaction_inserts(tmp_path, kind):
    """As ovs-vsctl's "init" on an empty database: insert the Open_vSwitch
    row and increment its next_cfg in one transaction (the server reads
    the row by its named UUID); the select returns the new value."""
    srv = RealServer(tmp_path, kind)
    srv.start()
    b = BlockingIdl(srv.remote, "Open_vSwitch", tables={"Open_vSwitch": None})
    try:
        b.wait_for_sync(TIMEOUT)
        txn = b.idl.transaction()
        ovs = txn.insert("Open_vSwitch")
        assert txn.has_changes()
        txn.increment(ovs, "next_cfg")
        assert b.commit_block(txn, TIMEOUT) == idlmod.SUCCESS
        assert txn.increment_new_value == 1
        [res] = srv.query(["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                            "where": [], "columns": ["next_cfg"]}])
        assert res["rows"] == [{"next_cfg": 1}]
    finally:
        b.close()
        srv.stop()
