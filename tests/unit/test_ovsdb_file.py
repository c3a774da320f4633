"""pyovs.ovsdb.file: standalone database files (records, diffs, replay)."""

import copy
import uuid

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.ovsdb import file as ovsfile
from pyovs.ovsdb import log as ovslog
from pyovs.util import json as ovs_json
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Database, Row
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.schema import DbSchema
from pyovs.ovsdb.types import Type

SCHEMA_JSON = {
    "name": "T",
    "version": "1.0.0",
    "tables": {
        "A": {
            "columns": {
                "name": {"type": "string"},
                "i": {"type": "integer"},
                "opt": {"type": {"key": "string", "min": 0, "max": 1}},
                "s": {"type": {"key": "integer", "min": 0, "max": "unlimited"}},
                "m": {"type": {"key": "string", "value": "string",
                               "min": 0, "max": "unlimited"}},
                "e": {"type": "integer", "ephemeral": True},
            },
            "isRoot": True,
        },
    },
}

U1 = uuid.UUID("11111111-2222-4333-8444-555555555555")
U2 = uuid.UUID("66666666-7777-4888-8999-aaaaaaaaaaaa")


@pytest.fixture
def schema():
    return DbSchema.from_json(copy.deepcopy(SCHEMA_JSON))


def col_type(schema, name):
    return schema.tables["A"].columns[name].type


def make_row(schema, u, **values):
    row = Row.new(schema.tables["A"], u, uuid.uuid4())
    cols = dict(row.columns)
    for k, v in values.items():
        cols[k] = Datum.from_json(col_type(schema, k), v)
    return Row(u, row.version, cols)


class Changes:
    """The shape of transaction.Changes that file.py relies on."""

    def __init__(self, tables):
        self.tables = tables


def test_insert_writes_non_default_persistent_columns(schema):
    new = make_row(schema, U1, name="a", s=["set", [1, 2]], e=5)
    rec = ovsfile.changes_to_record(Changes({"A": {U1: (None, new)}}),
                                    "hi", 1234, schema)
    assert rec == {"A": {str(U1): {"name": "a", "s": ["set", [1, 2]]}},
                   "_comment": "hi", "_date": 1234, "_is_diff": True}
    # Members are added in OVS's order: tables, _comment, _date, _is_diff
    # (json_to_string then hashes them as OVS's shash does).
    assert list(rec) == ["A", "_comment", "_date", "_is_diff"]


def test_modify_writes_changed_columns_as_diffs(schema):
    old = make_row(schema, U1, name="a", opt="x", s=["set", [1, 2]],
                   m=["map", [["k", "v"], ["l", "w"]]])
    new = make_row(schema, U1, name="a", opt=["set", []], s=["set", [2, 3]],
                   m=["map", [["k", "v2"], ["n", "z"]]])
    rec = ovsfile.changes_to_record(Changes({"A": {U1: (old, new)}}), None, 1, schema)
    assert rec["A"][str(U1)] == {
        "opt": ["set", []],                               # at most 1: whole
        "s": ["set", [1, 3]],                             # symmetric difference
        "m": ["map", [["k", "v2"], ["l", "w"], ["n", "z"]]],
    }
    assert "_comment" not in rec
    plain = ovsfile.changes_to_record(Changes({"A": {U1: (old, new)}}), None, 1,
                                      schema, column_diff=False)
    assert plain["A"][str(U1)]["s"] == ["set", [2, 3]] and "_is_diff" not in plain


def test_nothing_persistent_changed_writes_no_record(schema):
    old = make_row(schema, U1, name="a", e=1)
    new = make_row(schema, U1, name="a", e=2)
    assert ovsfile.changes_to_record(Changes({"A": {U1: (old, new)}}), "c", 1, schema) is None


def test_delete_is_null(schema):
    old = make_row(schema, U1, name="a")
    rec = ovsfile.changes_to_record(Changes({"A": {U1: (old, None)}}), None, 1, schema)
    assert rec["A"] == {str(U1): None}


def db_rows(db):
    return {t: {u: {k: v.to_json() for k, v in r.columns.items()}
                for u, r in table.rows.items()}
            for t, table in db.tables.items()}


def test_records_replay_to_the_same_database(schema):
    db = Database(schema)
    steps = [
        {U1: (None, make_row(schema, U1, name="a", s=["set", [1]])),
         U2: (None, make_row(schema, U2, name="b"))},
        {U1: (make_row(schema, U1, name="a", s=["set", [1]]),
              make_row(schema, U1, name="a", s=["set", [2, 3]], m=["map", [["k", "v"]]]))},
        {U2: (make_row(schema, U2, name="b"), None)},
    ]
    expected = Database(schema)
    for step in steps:
        rec = ovsfile.changes_to_record(Changes({"A": step}), None, 1, schema)
        ovsfile.apply_record(db, ovs_json.from_string(ovs_json.to_string(rec, shash=True)))
        for u, (_, new) in step.items():
            if new is None:
                del expected.tables["A"].rows[u]
            else:
                expected.tables["A"].rows[u] = new
    assert db_rows(db) == db_rows(expected)


@pytest.mark.parametrize("record,message", [
    ({"B": {}}, "unknown table: No table named B."),
    ({"A": {"nope": {}}}, 'syntax error: "nope" is not a valid UUID'),
    ({"A": {str(U1): None}}, "transaction deletes row %s that does not exist" % U1),
    ({"A": {str(U1): {"zz": 1}}}, "unknown column: No column zz in table A."),
    ({"A": {str(U1): {"i": "x"}}}, None),
    ({"A": []}, "syntax error: object expected"),
])
def test_bad_records_are_rejected_whole(schema, record, message):
    db = Database(schema)
    ovsfile.apply_record(db, {"A": {str(U2): {"name": "keep"}}})
    before = db_rows(db)
    with pytest.raises(OvsdbError) as e:
        ovsfile.apply_record(db, record)
    if message:
        assert message in "%s: %s" % (e.value.error, e.value.details)
    assert db_rows(db) == before


def test_converting_ignores_unknown_names(schema):
    db = Database(schema)
    ovsfile.apply_record(db, {"B": {}, "A": {str(U1): {"zz": 1, "name": "x"}}},
                         converting=True)
    assert db.tables["A"].rows[U1].columns["name"].to_json() == "x"


def composite_types():
    return st.sampled_from([
        Type.from_json({"key": "integer", "min": 0, "max": "unlimited"}),
        Type.from_json({"key": "string", "value": "integer", "min": 0, "max": "unlimited"}),
    ])


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_fuzz_diff_then_apply_is_identity(data):
    t = data.draw(composite_types())
    keys = st.integers(0, 6) if t.key.type == "integer" else st.sampled_from("abcdef")
    if t.is_map():
        values = st.dictionaries(keys, st.integers(0, 3), max_size=5)
    else:
        values = st.dictionaries(keys, st.none(), max_size=5)
    old = Datum(t, data.draw(values))
    new = Datum(t, data.draw(values))
    diff = ovsfile.datum_diff(old, new)
    assert ovsfile.datum_apply_diff(old, diff) == new
    if old == new:
        assert len(diff) == 0


def test_apply_diff_checks_size():
    t = Type.from_json({"key": "integer", "min": 0, "max": 2})
    with pytest.raises(OvsdbError):
        ovsfile.datum_apply_diff(Datum(t, {1: None, 2: None}), Datum(t, {3: None}))


# Files.

def new_file(tmp_path, schema):
    path = str(tmp_path / "t.db")
    ovsfile.create_db(path, schema)
    return path


def test_storage_commit_reopen_compact(tmp_path, schema):
    path = new_file(tmp_path, schema)
    _, db, storage = ovsfile.open_db(path, rw=True)
    new = make_row(schema, U1, name="a", s=["set", [1]])
    storage.commit(Changes({"A": {U1: (None, new)}}), "first")
    db.tables["A"].rows[U1] = new
    new2 = make_row(schema, U1, name="a", s=["set", [1, 9]])
    storage.commit(Changes({"A": {U1: (new, new2)}}))
    db.tables["A"].rows[U1] = new2
    storage.close()

    _, db2, storage2 = ovsfile.open_db(path, rw=True)
    assert db_rows(db2) == db_rows(db)
    storage2.compact(db2, "compacted")
    storage2.commit(Changes({"A": {U2: (None, make_row(schema, U2, name="b"))}}))
    storage2.close()
    records, error = ovslog.read_records(path)
    assert error is None and len(records) == 3
    # As ovsdb-server compacts: one inserting snapshot, marked "_is_diff".
    assert records[1]["_is_diff"] is True and records[1]["_comment"] == "compacted"
    _, db3, s3 = ovsfile.open_db(path)
    s3.close()
    assert set(db3.tables["A"].rows) == {U1, U2}


def test_open_stops_at_bad_tail(tmp_path, schema):
    path = new_file(tmp_path, schema)
    _, db, storage = ovsfile.open_db(path, rw=True)
    storage.commit(Changes({"A": {U1: (None, make_row(schema, U1, name="a"))}}))
    storage.close()
    with open(path, "ab") as f:
        f.write(b"OVSDB JSON 9 ")
    with pytest.raises(ovslog.LogError):
        ovsfile.open_db(path)
    _, db, storage = ovsfile.open_db(path, rw=True, strict=False)
    assert "parse error" in str(storage.read_error)
    assert set(db.tables["A"].rows) == {U1}
    storage.commit(Changes({"A": {U2: (None, make_row(schema, U2, name="b"))}}))
    storage.close()
    assert ovslog.read_records(path)[1] is None


def test_clustered_file_is_refused(tmp_path):
    path = tmp_path / "c.db"
    path.write_bytes(ovslog.compose_record({}, ovslog.CLUSTER_MAGIC))
    with pytest.raises(OvsdbError) as e:
        ovsfile.open_db(str(path))
    assert "cannot apply this operation to clustered database file" in e.value.details


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=120), cut=st.integers(0, 400))
def test_fuzz_damaged_file_never_crashes(tmp_path_factory, garbage, cut):
    schema = DbSchema.from_json(copy.deepcopy(SCHEMA_JSON))
    d = tmp_path_factory.mktemp("pcfuzz")
    path = new_file(d, schema)
    _, db, storage = ovsfile.open_db(path, rw=True)
    storage.commit(Changes({"A": {U1: (None, make_row(schema, U1, name="a"))}}))
    storage.close()
    data = open(path, "rb").read()
    schema_len = len(ovslog.compose_record(ovsfile.schema_record(schema)))
    cut = schema_len + cut % (len(data) - schema_len + 1)
    with open(path, "wb") as f:
        f.write(data[:cut] + garbage)
    _, db, storage = ovsfile.open_db(path, rw=True, strict=False)
    if cut == len(data):
        assert U1 in db.tables["A"].rows
    storage.commit(Changes({"A": {U2: (None, make_row(schema, U2, name="b"))}}))
    storage.close()
    _, db, storage = ovsfile.open_db(path)
    storage.close()
    assert U2 in db.tables["A"].rows


BOUNDED = {"name": "B", "tables": {"T": {"columns": {
    "p": {"type": {"key": "string", "min": 0, "max": 3}}}}}}


def test_diff_larger_than_column_is_written_whole_and_read_back():
    schema = DbSchema.from_json(copy.deepcopy(BOUNDED))
    t = schema.tables["T"].columns["p"].type
    old = Row(U1, uuid.uuid4(), {"p": Datum.from_json(t, ["set", ["a", "b", "c"]])})
    new = Row(U1, uuid.uuid4(), {"p": Datum.from_json(t, ["set", ["d", "e", "f"]])})
    rec = ovsfile.changes_to_record(Changes({"T": {U1: (old, new)}}), None, 1, schema)
    # The diff would have 6 elements in a column of at most 3, which OVS 3.1
    # cannot read back: the record carries whole values instead.
    assert rec == {"T": {str(U1): {"p": ["set", ["d", "e", "f"]]}}, "_date": 1}
    # And such a diff, as OVS 3.1 writes it, is read correctly.
    db = Database(schema)
    db.tables["T"].rows[U1] = old
    ovsfile.apply_record(db, {"T": {str(U1): {"p": ["set", list("abcdef")]}},
                              "_is_diff": True})
    assert db.tables["T"].rows[U1].columns["p"] == new.columns["p"]
