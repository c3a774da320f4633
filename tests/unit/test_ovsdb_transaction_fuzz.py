"""Random transactions never leave a constraint violated, and Changes
describe exactly what happened (hypothesis)."""

import itertools
import json
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from pyovs.ovsdb.database import index_key
from pyovs.ovsdb.error import json_to_string
from pyovs.ovsdb.transaction import execute
from tests.conftest import real_bin
from tests.unit.test_ovsdb_transaction import (SCHEMA, RealServer, U,
                                                new_db, normalise)

_runs = itertools.count()

# Row UUIDs of each table, plus one that never exists.  Tables do not share
# UUIDs: OVS itself misbehaves when two tables have rows with the same UUID.
POOLS = {"A": (1, 2, 3), "B": (101, 102, 103, 199), "C": (201, 202, 299),
         "R": (301, 302)}


def pool(table):
    return st.sampled_from(POOLS[table]).map(lambda n: ["uuid", U(n)])


uuids = pool("B")
small_int = st.integers(-3, 12)
names = st.sampled_from(["a", "b", "c"])

COLUMN_VALUES = {
    "A": {"i": small_int, "ri": st.lists(st.integers(-1, 11), max_size=4,
                                         unique=True).map(lambda l: ["set", l]),
          "e": st.sampled_from(["red", "pink", ["set", []]]),
          "two": st.lists(small_int, max_size=3, unique=True)
          .map(lambda l: ["set", l]),
          "sref": st.lists(uuids, max_size=3, unique_by=str)
          .map(lambda l: ["set", l]),
          "wref": st.lists(uuids, max_size=3, unique_by=str)
          .map(lambda l: ["set", l]),
          "wmap": st.dictionaries(names, uuids, max_size=2)
          .map(lambda d: ["map", [[k, v] for k, v in d.items()]])},
    "B": {"name": names, "n": small_int,
          "c": st.lists(pool("C"), max_size=2, unique_by=str)
          .map(lambda l: ["set", l])},
    "C": {"x": small_int},
    "R": {"name": names, "k": st.integers(0, 2), "w1": uuids,
          "ref": st.lists(uuids, max_size=1).map(lambda l: ["set", l])},
}


int_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "includes",
                           "excludes"])
set_ops = st.sampled_from(["==", "!=", "includes", "excludes"])
CLAUSES = {
    "A": st.one_of(
        st.tuples(st.just("i"), int_ops, small_int).map(list),
        st.tuples(st.just("ri"), set_ops,
                  st.lists(st.integers(0, 10), max_size=3, unique=True)
                  .map(lambda l: ["set", l])).map(list),
        st.tuples(st.just("two"), set_ops,
                  st.lists(small_int, min_size=1, max_size=2, unique=True)
                  .map(lambda l: ["set", l])).map(list),
        st.tuples(st.just("e"), set_ops,
                  st.sampled_from(["red", ["set", []]])).map(list),
        st.tuples(st.just("wref"), set_ops,
                  st.lists(uuids, max_size=2, unique_by=str)
                  .map(lambda l: ["set", l])).map(list),
        st.tuples(st.just("wmap"), set_ops,
                  st.dictionaries(names, uuids, max_size=2)
                  .map(lambda d: ["map", [[k, v] for k, v in d.items()]]))
        .map(list),
        st.booleans()),
    "B": st.tuples(st.sampled_from(["name"]), set_ops, names).map(list),
    "R": st.tuples(st.just("k"), int_ops, st.integers(0, 2)).map(list),
}


@st.composite
def operation(draw):
    table = draw(st.sampled_from(sorted(COLUMN_VALUES)))
    cols = COLUMN_VALUES[table]
    row = draw(st.fixed_dictionaries(
        {}, optional={c: v for c, v in cols.items()}))
    where = draw(st.sampled_from([[], [["_uuid", "==",
                                         draw(pool(table))]]]))
    kind = draw(st.sampled_from(["insert", "insert", "update", "delete",
                                 "mutate", "select"]))
    if kind == "select" and table in CLAUSES:
        clauses = draw(st.lists(CLAUSES[table], max_size=2))
        return {"op": "select", "table": table, "where": clauses,
                "columns": sorted(cols)}
    if kind == "insert":
        return {"op": "insert", "table": table,
                "uuid": draw(pool(table))[1], "row": row}
    if kind == "update":
        return {"op": "update", "table": table, "where": where, "row": row}
    if kind == "delete":
        return {"op": "delete", "table": table, "where": where}
    if table == "A":
        m = draw(st.sampled_from([["sref", "insert", draw(uuids)],
                                  ["sref", "delete", draw(uuids)],
                                  ["i", "*=", 2], ["ri", "+=", 3],
                                  ["two", "delete", draw(small_int)]]))
    elif table == "B":
        m = draw(st.sampled_from([["c", "insert", draw(pool("C"))],
                                  ["n", "-=", 5]]))
    else:
        return {"op": "delete", "table": table, "where": where}
    return {"op": "mutate", "table": table, "where": where, "mutations": [m]}


def snapshot(db):
    return {t: dict(table.rows) for t, table in db.tables.items()}


def check_invariants(db):
    recount = {}
    for tname, table in db.tables.items():
        ts = table.schema
        if ts.max_rows is not None:
            assert len(table.rows) <= ts.max_rows
        for u, row in table.rows.items():
            assert row.uuid == u and isinstance(row.version, uuid.UUID)
            assert set(row.columns) == set(ts.columns)
            for cname, col in ts.columns.items():
                d = row.columns[cname]
                t = col.type
                assert t.n_min <= len(d) <= t.n_max
                for k, v in d.items():
                    for base, atom in ((t.key, k), (t.value, v)):
                        if base is None:
                            continue
                        if base.ref_table is not None:
                            assert atom in db.tables[base.ref_table].rows
                            if base.ref_type == "strong":
                                key = (base.ref_table, atom)
                                recount[key] = recount.get(key, 0) + 1
                        # Defaults are not checked by OVS either.
                        elif d != d.default(t):
                            base.check_atom(atom)
        for names in ts.indexes:
            keys = [index_key(r, names) for r in table.rows.values()]
            assert len(keys) == len(set(keys))
    for tname, table in db.tables.items():
        for u in table.rows:
            n = recount.get((tname, u), 0)
            assert table.n_refs.get(u, 0) == n
            if not table.schema.is_root:
                assert n > 0, "unreferenced %s row survived" % tname


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(operation(), min_size=1, max_size=5), max_size=8))
def test_random_transactions_keep_constraints(txns):
    db = new_db()
    for ops in txns:
        before = snapshot(db)
        r = execute(db, ops)
        after = snapshot(db)
        if r.error is not None or r.changes is None:
            # Nothing changed at all: the very same Row objects.
            assert after == before
            assert all(a[u] is before[t][u] for t, a in after.items()
                       for u in a)
        else:
            seen = set()
            for tname, u, old, new in r.changes:
                seen.add((tname, u))
                assert old is before[tname].get(u)
                assert new is after[tname].get(u)
                assert old is not None or new is not None
                if old is not None and new is not None:
                    assert old.columns != new.columns
                    assert old.version != new.version
            for tname, rows in after.items():
                for u, row in rows.items():
                    if (tname, u) not in seen:
                        assert before[tname].get(u) is row
                for u in before[tname]:
                    if u not in rows:
                        assert (tname, u) in seen
        check_invariants(db)
    # The derived state survives a rebuild from scratch.
    counts = {t: dict(table.n_refs) for t, table in db.tables.items()}
    db.invalidate()
    db.ensure_derived()
    assert counts == {t: dict(table.n_refs) for t, table in db.tables.items()}


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(txns=st.lists(st.lists(operation(), min_size=1, max_size=4),
                     min_size=1, max_size=5))
def test_random_transactions_like_ovsdb_server(tmp_path, txns):
    """The same random transactions through the real ovsdb-server and the
    engine give the same replies (derandomized, so never flaky)."""
    real_bin("ovsdb-server")
    d = tmp_path / ("run%d" % next(_runs))
    d.mkdir()
    srv = RealServer(d, SCHEMA)
    try:
        db = new_db(srv)
        for ops in txns:
            reply = srv.transact(ops)
            mine = json.loads(json_to_string(execute(db, ops).results))
            assert normalise(mine) == normalise(reply["result"]), ops
    finally:
        srv.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=4) | st.sampled_from(
        ["op", "insert", "select", "update", "mutate", "delete", "wait",
         "commit", "abort", "comment", "assert", "table", "A", "B", "row",
         "where", "i", "==", "uuid", "named-uuid", "set", "map"]),
    lambda c: st.lists(c, max_size=4)
    | st.dictionaries(st.sampled_from(
        ["op", "table", "row", "where", "columns", "mutations", "uuid-name",
         "uuid", "until", "rows", "timeout", "durable", "comment", "lock",
         "i", "s", "is", "m"]), c, max_size=5),
    max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4))
def test_any_json_gets_an_answer(ops):
    db = new_db()
    r = execute(db, ops)
    if r.needs_retry:
        return
    assert len(r.results) in (len(ops), len(ops) + 1)
    json_to_string(r.results)
    if r.error is not None:
        assert all(not t.rows for t in db.tables.values())
    check_invariants(db)
