"""pyovs.ovsdb.monitor: updates computed from changes, without a server."""

import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Database, Row
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.file import datum_apply_diff
from pyovs.ovsdb.monitor import Monitor, TxnHistory, merge_changes
from pyovs.ovsdb.schema import load_schema
from tests.daemons.test_ovsdb_server_util import vswitch_schema_path


class Changes:
    """Stand-in with the shape of transaction.Changes."""

    def __init__(self, rows):
        self.tables = {}
        for table, u, old, new in rows:
            self.tables.setdefault(table, {})[u] = (old, new)


@pytest.fixture(scope="module")
def schema():
    return load_schema(vswitch_schema_path())


def bridge(schema, u, **values):
    ts = schema.tables["Bridge"]
    row = Row.new(ts, u, uuid.uuid4())
    cols = dict(row.columns)
    for k, v in values.items():
        cols[k] = Datum.from_json(ts.columns[k].type, v)
    return Row(u, uuid.uuid4(), cols)


def test_update1_old_has_only_changed_columns(schema):
    mon = Monitor.parse(schema, 1, "m", {"Bridge": {"columns": ["name", "fail_mode",
                                                                "datapath_type"]}})
    u = uuid.uuid4()
    old = bridge(schema, u, name="br0", datapath_type="netdev")
    new = bridge(schema, u, name="br0", datapath_type="netdev", fail_mode="secure")
    up = mon.updates(Changes([("Bridge", u, old, new)]))
    assert up == {"Bridge": {str(u): {
        "old": {"fail_mode": ["set", []]},
        "new": {"name": "br0", "fail_mode": "secure", "datapath_type": "netdev"}}}}
    # Nothing monitored changed: no update at all.
    other = bridge(schema, u, name="br0", datapath_type="netdev", fail_mode="secure",
                   external_ids=["map", [["a", "b"]]])
    assert mon.updates(Changes([("Bridge", u, new, other)])) is None


def test_update2_insert_omits_defaults_and_delete_is_null(schema):
    mon = Monitor.parse(schema, 2, "m", {"Bridge": [{"columns": ["name", "ports",
                                                                 "fail_mode"]}]})
    u = uuid.uuid4()
    row = bridge(schema, u, name="br0")
    assert mon.updates(Changes([("Bridge", u, None, row)])) == \
        {"Bridge": {str(u): {"insert": {"name": "br0"}}}}
    assert mon.updates(Changes([("Bridge", u, row, None)])) == \
        {"Bridge": {str(u): {"delete": None}}}


vlans = st.sets(st.integers(0, 4095), max_size=6)
ids = st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["x", "y", "z"]),
                      max_size=4)
mode = st.sampled_from([["set", []], "secure", "standalone"])


@settings(max_examples=80, deadline=None)
@given(vlans, vlans, ids, ids, mode, mode)
def test_update2_diff_applies_back(schema, v1, v2, e1, e2, m1, m2):
    """Applying the "modify" diff to the old value gives the new one."""
    mon = Monitor.parse(schema, 2, "m", {"Bridge": [{"columns": [
        "flood_vlans", "external_ids", "fail_mode"]}]})
    ts = schema.tables["Bridge"]
    u = uuid.uuid4()
    old = bridge(schema, u, name="b", flood_vlans=["set", sorted(v1)],
                 external_ids=["map", [list(p) for p in sorted(e1.items())]], fail_mode=m1)
    new = bridge(schema, u, name="b", flood_vlans=["set", sorted(v2)],
                 external_ids=["map", [list(p) for p in sorted(e2.items())]], fail_mode=m2)
    up = mon.updates(Changes([("Bridge", u, old, new)]))
    changed = {c for c in ("flood_vlans", "external_ids", "fail_mode")
               if old.columns[c] != new.columns[c]}
    if not changed:
        assert up is None
        return
    diff = up["Bridge"][str(u)]["modify"]
    assert set(diff) == changed
    for c, j in diff.items():
        d = Datum.from_json(ts.columns[c].type.__class__(
            ts.columns[c].type.key, ts.columns[c].type.value, 0,
            ts.columns[c].type.n_max), j)
        assert datum_apply_diff(old.columns[c], d) == new.columns[c]


def test_condition_transitions(schema):
    mon = Monitor.parse(schema, 2, "m", {"Bridge": [{"columns": ["name", "fail_mode"],
                                                     "where": [["fail_mode", "==", "secure"],
                                                               ["name", "==", "always"]]}]})
    u = uuid.uuid4()
    plain = bridge(schema, u, name="br0")
    secure = bridge(schema, u, name="br0", fail_mode="secure")
    assert mon.updates(Changes([("Bridge", u, None, plain)])) is None
    assert mon.updates(Changes([("Bridge", u, plain, secure)])) == \
        {"Bridge": {str(u): {"insert": {"name": "br0", "fail_mode": "secure"}}}}
    assert mon.updates(Changes([("Bridge", u, secure, plain)])) == \
        {"Bridge": {str(u): {"delete": None}}}
    # Clauses are alternatives: "always" is visible whatever its fail_mode.
    v = uuid.uuid4()
    always = bridge(schema, v, name="always")
    assert mon.updates(Changes([("Bridge", v, None, always)])) == \
        {"Bridge": {str(v): {"insert": {"name": "always"}}}}


def test_condition_change(schema):
    db = Database(schema)
    u = uuid.uuid4()
    db.tables["Bridge"].rows[u] = bridge(schema, u, name="br0")
    mon = Monitor.parse(schema, 2, "m", {"Bridge": [{"columns": ["name"],
                                                     "where": [["name", "==", "x"]]}]})
    assert mon.initial(db) == {}
    assert mon.change_condition(db, {"Bridge": [{"where": [["name", "==", "br0"]]}]}) == \
        {"Bridge": {str(u): {"insert": {"name": "br0"}}}}
    assert mon.change_condition(db, {"Bridge": [{"where": [False]}]}) == \
        {"Bridge": {str(u): {"delete": None}}}
    with pytest.raises(OvsdbError) as e:
        mon.change_condition(db, {"Bridge": [{"columns": ["name"], "where": []}]})
    assert e.value.details == "changing columns is unsupported"


def test_parse_errors(schema):
    for req, details in [
        ({"Nope": {}}, "no table named Nope"),
        ({"Bridge": {"columns": ["zz"]}}, "zz is not a valid column name"),
        ({"Bridge": [{"columns": ["name"]}, {"columns": ["name"]}]},
         "column name mentioned more than once"),
        ([], "monitor-requests must be object"),
    ]:
        with pytest.raises(OvsdbError) as e:
            Monitor.parse(schema, 2, "m", req)
        assert (e.value.error, e.value.details) == ("syntax error", details)


def test_history_since():
    h = TxnHistory(max_txns=3)
    ids = [uuid.uuid4() for _ in range(5)]
    for i, t in enumerate(ids):
        h.add(t, Changes([("T", i, None, i)]))
    assert h.since(ids[-1]) == []
    assert [list(c.tables["T"]) for c in h.since(ids[2])] == [[3], [4]]
    assert h.since(ids[0]) is None          # forgotten
    assert h.since(uuid.uuid4()) is None
    merged = merge_changes([Changes([("T", 1, "a", "b")]), Changes([("T", 1, "b", "c")])])
    assert merged == [("T", 1, "a", "c")]
