"""The packaged Open_vSwitch schema matches Debian's and parses like it."""

import json
import os

import pytest

from pyovs.ovsdb.schema import DbSchema, schema_cksum
from pyovs.vswitch import (SCHEMA_NAME, SCHEMA_VERSION, load_vswitch_schema,
                           schema_path)
from tests.conftest import REAL_VSWITCH_SCHEMA


def test_packaged_schema_loads():
    s = load_vswitch_schema()
    assert s.name == SCHEMA_NAME
    assert s.version == SCHEMA_VERSION
    assert {"Open_vSwitch", "Bridge", "Port", "Interface"} <= set(s.tables)
    # The stored cksum is the one the file's own contents produce.
    with open(schema_path(), "rb") as f:
        assert schema_cksum(f.read()) == s.cksum


def test_packaged_schema_round_trips():
    s = load_vswitch_schema()
    assert DbSchema.from_json(s.to_json()) == s


@pytest.mark.skipif(not os.path.exists(REAL_VSWITCH_SCHEMA),
                    reason="Debian's openvswitch-common is not installed")
def test_same_as_debian():
    with open(REAL_VSWITCH_SCHEMA) as f:
        real = DbSchema.from_json(json.load(f))
    ours = load_vswitch_schema()
    assert ours == real
    assert ours.cksum == real.cksum
    assert ours.version == real.version
    assert ours.to_json() == real.to_json()


def test_vsctl_like_transactions_like_ovsdb_server(tmp_path, request):
    """ovs-vsctl-style transactions on the Open_vSwitch schema give the same
    replies from pyovs's engine as from the real ovsdb-server."""
    from pyovs.ovsdb.database import Database
    from pyovs.ovsdb.error import json_to_string
    from pyovs.ovsdb.transaction import execute
    from tests.unit.test_ovsdb_transaction import RealServer, normalise

    with open(schema_path()) as f:
        schema_json = json.load(f)
    srv = RealServer(tmp_path, schema_json)
    request.addfinalizer(srv.close)
    db = Database(DbSchema.from_json(srv.stored_schema))

    def U(n):
        return "00000000-0000-0000-0000-%012d" % n

    ovs = {"op": "insert", "table": "Open_vSwitch", "uuid": U(1), "row": {}}
    add_br = [
        {"op": "wait", "table": "Open_vSwitch", "timeout": 0,
         "where": [["_uuid", "==", ["uuid", U(1)]]], "columns": ["bridges"],
         "until": "==", "rows": [{"bridges": ["set", []]}]},
        {"op": "insert", "table": "Interface", "uuid": U(11),
         "row": {"name": "br0", "type": "internal"}},
        {"op": "insert", "table": "Port", "uuid": U(21),
         "row": {"name": "br0", "interfaces": ["uuid", U(11)]}},
        {"op": "insert", "table": "Bridge", "uuid": U(31),
         "row": {"name": "br0", "ports": ["uuid", U(21)],
                 "other_config": ["map", [["hwaddr", "00:11:22:33:44:55"]]]}},
        {"op": "mutate", "table": "Open_vSwitch", "where": [],
         "mutations": [["bridges", "insert", ["set", [["uuid", U(31)]]]],
                       ["next_cfg", "+=", 1]]},
        {"op": "select", "table": "Open_vSwitch", "where": [],
         "columns": ["next_cfg", "bridges"]},
        {"op": "comment", "comment": "ovs-vsctl: add-br br0"},
    ]
    txns = [
        [ovs],
        add_br,
        add_br,                               # the wait fails now
        [{"op": "insert", "table": "Port", "row": {"name": "p1"}}],
        [{"op": "update", "table": "Interface", "where": [],
          "row": {"type": "bogus-type", "ofport_request": 70000}}],
        [{"op": "update", "table": "Port", "where": [],
          "row": {"vlan_mode": "sideways"}}],
        [{"op": "update", "table": "Port", "where": [],
          "row": {"tag": 4095}}],
        [{"op": "update", "table": "Port", "where": [],
          "row": {"tag": 10, "vlan_mode": "access"}}],
        [{"op": "insert", "table": "Bridge", "row": {"name": "br0"}},
         {"op": "mutate", "table": "Open_vSwitch", "where": [],
          "mutations": [["bridges", "insert", ["named-uuid", "x"]]]}],
        [{"op": "select", "table": "Port", "where": [],
          "columns": ["name", "tag", "vlan_mode", "interfaces"]},
         {"op": "select", "table": "Interface", "where": [],
          "columns": ["name", "type", "ofport_request"]}],
        # del-br: the Port and Interface rows go with the Bridge.
        [{"op": "mutate", "table": "Open_vSwitch", "where": [],
          "mutations": [["bridges", "delete", ["uuid", U(31)]]]}],
        [{"op": "select", "table": "Bridge", "where": [], "columns": ["name"]},
         {"op": "select", "table": "Port", "where": [], "columns": ["name"]},
         {"op": "select", "table": "Interface", "where": [],
          "columns": ["name"]}],
    ]
    try:
        for ops in txns:
            reply = srv.transact(ops, db="Open_vSwitch")
            assert reply["error"] is None
            mine = json.loads(json_to_string(execute(db, ops).results))
            assert normalise(mine) == normalise(reply["result"]), ops
    finally:
        srv.close()
    assert not db.tables["Bridge"].rows and not db.tables["Port"].rows


def test_random_bridge_port_mirror_transactions_like_ovsdb_server(
        tmp_path, request):
    """Random add-br/add-port/mirror/del-port/del-br style transactions
    (garbage collection of ports and interfaces, weak references from
    mirrors, VLAN tag ranges, name indexes) give the same replies as the
    real ovsdb-server."""
    import random
    import uuid

    from pyovs.ovsdb.database import Database
    from pyovs.ovsdb.error import json_to_string
    from pyovs.ovsdb.transaction import execute
    from tests.unit.test_ovsdb_transaction import RealServer, normalise

    rnd = random.Random(8031)

    def ru():
        return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

    def uj(u):
        return ["uuid", u]

    with open(schema_path()) as f:
        schema_json = json.load(f)
    compared = 0
    for trial in range(4):
        d = tmp_path / ("t%d" % trial)
        d.mkdir()
        srv = RealServer(d, schema_json)
        request.addfinalizer(srv.close)
        db = Database(DbSchema.from_json(srv.stored_schema))
        bridges, ports = [], []
        txns = [[{"op": "insert", "table": "Open_vSwitch", "uuid": ru(),
                  "row": {}}]]
        for _ in range(12):
            k = rnd.random()
            if k < 0.25:
                b, p, i = ru(), ru(), ru()
                name = "br%d" % rnd.randrange(4)
                txns.append([
                    {"op": "insert", "table": "Interface", "uuid": i,
                     "row": {"name": name, "type": "internal"}},
                    {"op": "insert", "table": "Port", "uuid": p,
                     "row": {"name": name, "interfaces": uj(i)}},
                    {"op": "insert", "table": "Bridge", "uuid": b,
                     "row": {"name": name, "ports": uj(p)}},
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "insert", uj(b)]]}])
                bridges.append(b)
                ports.append(p)
            elif k < 0.5 and bridges:
                p, i = ru(), ru()
                name = "p%d" % rnd.randrange(6)
                txns.append([
                    {"op": "insert", "table": "Interface", "uuid": i,
                     "row": {"name": name}},
                    {"op": "insert", "table": "Port", "uuid": p,
                     "row": {"name": name, "interfaces": uj(i),
                             "tag": rnd.choice([1, 4095, 4096])}},
                    {"op": "mutate", "table": "Bridge", "where": [
                        ["_uuid", "==", uj(rnd.choice(bridges))]],
                     "mutations": [["ports", "insert", uj(p)]]}])
                ports.append(p)
            elif k < 0.65 and bridges:
                m = ru()
                txns.append([
                    {"op": "insert", "table": "Mirror", "uuid": m,
                     "row": {"name": "m%d" % rnd.randrange(3),
                             "select_src_port": ["set", [
                                 uj(x) for x in rnd.sample(ports, 2)
                                 if len(ports) > 1]],
                             "output_port": uj(rnd.choice(ports))}},
                    {"op": "mutate", "table": "Bridge", "where": [
                        ["_uuid", "==", uj(rnd.choice(bridges))]],
                     "mutations": [["mirrors", "insert", uj(m)]]}])
            elif k < 0.8 and bridges:
                txns.append([{"op": "mutate", "table": "Bridge", "where": [],
                              "mutations": [["ports", "delete",
                                             uj(rnd.choice(ports))]]}])
            elif k < 0.9 and bridges:
                txns.append([{"op": "mutate", "table": "Open_vSwitch",
                              "where": [], "mutations": [
                                  ["bridges", "delete",
                                   uj(rnd.choice(bridges))]]}])
            txns.append([{"op": "select", "table": t, "where": []}
                         for t in ("Bridge", "Port", "Interface", "Mirror")])
        try:
            for ops in txns:
                reply = srv.transact(ops, db="Open_vSwitch")
                mine = json.loads(json_to_string(execute(db, ops).results))
                assert normalise(mine) == normalise(reply["result"]), ops
                compared += 1
        finally:
            srv.close()
    assert compared > 50
