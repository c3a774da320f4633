"""Conditions: direct API checks and fuzzing (the engine's behaviour is
compared with the real ovsdb-server in test_ovsdb_transaction.py)."""

import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.condition import Condition
from pyovs.ovsdb.database import Row
from pyovs.ovsdb.error import OvsdbError
from tests.unit.test_ovsdb_transaction import new_db

TS = new_db().schema.tables["A"]


def row(**values):
    from pyovs.ovsdb.data import Datum
    r = Row.new(TS, uuid.uuid4(), uuid.uuid4())
    for k, v in values.items():
        r.columns[k] = Datum.from_json(TS.columns[k].type, v)
    return r


def test_evaluate():
    r = row(i=5, s="x", **{"is": ["set", [1, 2]]},
            m=["map", [["a", 1]]], oi=["set", []])
    yes = [[], [True], [["i", "==", 5]], [["i", ">", 4], ["s", "!=", "y"]],
           [["is", "includes", 1]], [["is", "excludes", ["set", [3]]]],
           [["m", "includes", ["map", [["a", 1]]]]],
           [["m", "excludes", ["map", [["a", 2]]]]],
           [["oi", "!=", 3]], [["oi", "==", ["set", []]]],
           [["_uuid", "==", ["uuid", str(r.uuid)]]]]
    no = [[False], [["i", "<", 5]], [["is", "==", ["set", [1]]]],
          [["oi", "<", 3]], [["oi", "==", 3]], [True, False],
          [["_uuid", "!=", ["uuid", str(r.uuid)]]]]
    for j in yes:
        assert Condition.from_json(TS, j).evaluate(r), j
    for j in no:
        assert not Condition.from_json(TS, j).evaluate(r), j
    c = Condition.from_json(TS, [True])
    assert c.is_true() and not c.is_false() and c.to_json() == [True]
    assert Condition.from_json(TS, [False]).is_false()


def test_errors():
    cases = [
        ([["i", "==", 1, 2]], "syntax error", "Parse error in condition."),
        ([["zz", "==", 1]], "unknown column", "No column zz in table A."),
        ([["i", "~", 1]], "unknown function", "No function named ~."),
        ([["s", "<", "a"]], "syntax error",
         'Type mismatch: "<" operator may not be applied to column s of '
         'type string.'),
        ([["is", "<", 1]], "syntax error",
         'Type mismatch: "<" operator may not be applied to column is of '
         'type set of integers.'),
        ([["ri", "==", 11]], "constraint violation",
         "11 is not in the valid range 0 to 10 (inclusive)"),
    ]
    for j, tag, details in cases:
        with pytest.raises(OvsdbError) as e:
            Condition.from_json(TS, j)
        assert (e.value.error, e.value.details) == (tag, details)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4)
    | st.sampled_from(["==", "<", "includes", "i", "is", "m", "_uuid"]),
    lambda c: st.lists(c, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_fuzz(j):
    r = row()
    for candidate in (j, [j]):
        try:
            c = Condition.from_json(TS, candidate, symtab={})
        except OvsdbError:
            continue
        assert c.evaluate(r) in (True, False)
