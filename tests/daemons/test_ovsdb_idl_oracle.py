"""pyovs's IDL against the official Open vSwitch Python IDL (PyPI "ovs"):
both replicate the same ovsdb-server (Debian's, then pyovs's) and must hold
the same rows and values, before and after changes made by real ovs-vsctl
and by pyovs."""

import time
import uuid

import pytest

from pyovs.ovsdb import idl as idlmod
from pyovs.ovsdb.idl import BlockingIdl
from tests.conftest import REAL_VSWITCH_SCHEMA
from tests.daemons.test_ovsdb_idl import TIMEOUT, RealServer

ovs_idl = pytest.importorskip("ovs.db.idl")
ovs_poller = pytest.importorskip("ovs.poller")


@pytest.fixture(params=["real", "pyovs"])
def server(tmp_path, request):
    srv = RealServer(tmp_path, request.param)
    srv.start()
    srv.vsctl("init", "--", "add-br", "br0", "--", "set", "Bridge", "br0",
              "external_ids:k=v", "other_config:hwaddr=00:11:22:33:44:55",
              "--", "add-port", "br0", "p1", "tag=9", "trunks=1,2",
              "--", "set", "Interface", "p1", "type=internal",
              "options:x=1", "ofport_request=5",
              "--", "--id=@q", "create", "QoS", "type=linux-htb",
              "queues:1=@queue", "--", "--id=@queue", "create", "Queue",
              "other_config:max-rate=100", "--", "set", "Port", "p1", "qos=@q")
    yield srv
    srv.stop()


class Official:
    """The official IDL, polled until a condition holds."""

    def __init__(self, remote):
        helper = ovs_idl.SchemaHelper(REAL_VSWITCH_SCHEMA)
        helper.register_all()
        self.idl = ovs_idl.Idl(remote, helper)

    def run_until(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            self.idl.run()
            if self.idl.has_ever_connected() and predicate():
                return
            if time.monotonic() > deadline:
                raise AssertionError("official IDL: timed out")
            poller = ovs_poller.Poller()
            self.idl.wait(poller)
            poller.timer_wait(50)
            poller.block()

    def close(self):
        self.idl.close()


def _plain(value):
    """An official-IDL value in pyovs's shape (rows by UUID, sets sorted)."""
    if hasattr(value, "uuid") and hasattr(value, "_table"):
        return value.uuid
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_plain(v) for v in value), key=repr)
    return value


def _ours(value):
    if isinstance(value, list):
        return sorted(value, key=repr)
    return value


def snapshot_official(official):
    out = {}
    for name, table in official.idl.tables.items():
        out[name] = {u: {c: _plain(getattr(row, c)) for c in table.columns}
                     for u, row in table.rows.items()}
    return out


def snapshot_ours(ours):
    out = {}
    for name in ours.idl.data:
        out[name] = {row.uuid: {c: _ours(row[c]) for c in row.columns()}
                     for row in ours.idl.rows(name)}
    return out


def test_same_replica_as_official_python_idl(server):
    official = Official(server.remote)
    ours = BlockingIdl(server.remote, "Open_vSwitch")
    try:
        official.run_until(lambda: official.idl.change_seqno > 0)
        ours.wait_for_sync(TIMEOUT)
        first = snapshot_ours(ours)
        assert first["Queue"] and first["QoS"] and first["Interface"]
        assert first == snapshot_official(official)

        # A change by the real ovs-vsctl reaches both.
        server.vsctl("add-br", "br1", "--", "set", "Bridge", "br0",
                     "external_ids:k=w", "--", "remove", "Port", "p1", "trunks", "2",
                     "--", "clear", "Port", "p1", "tag")
        ours.run_until(lambda: ours.idl.lookup("Bridge", "name", "br1") is not None
                       and ours.idl.lookup("Port", "name", "p1").tag == [], TIMEOUT)
        official.run_until(lambda: any(r.name == "br1" for r in
                                       official.idl.tables["Bridge"].rows.values())
                           and snapshot_official(official) == snapshot_ours(ours))
        assert snapshot_ours(ours) == snapshot_official(official)

        # A change committed through pyovs's IDL reaches the official one.
        def fn(idl, txn):
            txn.update(idl.lookup("Bridge", "name", "br1")).external_ids = {"by": "pyovs"}
            p1 = idl.lookup("Port", "name", "p1")
            txn.delete(idl.get_row("QoS", p1.qos[0]))
            txn.update(p1).qos = []
        txn = ours.transact(fn, TIMEOUT)
        assert txn.status == idlmod.SUCCESS, txn.error
        ours.run_until(lambda: not ours.idl.rows("QoS"), TIMEOUT)
        official.run_until(lambda: snapshot_official(official) == snapshot_ours(ours))
        final = snapshot_ours(ours)
        assert final == snapshot_official(official)
        # The QoS row went; its Queue stays (Queue is a root table).
        assert final["QoS"] == {} and len(final["Queue"]) == 1
        br1 = [r for r in final["Bridge"].values() if r["name"] == "br1"][0]
        assert br1["external_ids"] == {"by": "pyovs"}
        assert all(isinstance(u, uuid.UUID) for u in final["Bridge"])
    finally:
        official.close()
        ours.close()
