"""Mutations: direct API checks and fuzzing (the engine's behaviour is
compared with the real ovsdb-server in test_ovsdb_transaction.py)."""

import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Row
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.mutation import MutationSet
from tests.unit.test_ovsdb_transaction import new_db

TS = new_db().schema.tables["A"]


def columns(**values):
    r = Row.new(TS, uuid.uuid4(), uuid.uuid4())
    for k, v in values.items():
        r.columns[k] = Datum.from_json(TS.columns[k].type, v)
    return r.columns


def apply(cols, j):
    MutationSet.from_json(TS, j).apply(cols)
    return {k: d.to_json() for k, d in cols.items()}


def test_arithmetic_is_c_arithmetic():
    out = apply(columns(i=-7), [["i", "/=", 2]])
    assert out["i"] == -3                       # truncation, not floor
    out = apply(columns(i=-7), [["i", "%=", 2]])
    assert out["i"] == -1                       # sign of the dividend
    out = apply(columns(r=1.5), [["r", "*=", 2]])
    assert out["r"] == 3.0


def test_sets_and_maps():
    cols = columns(m=["map", [["a", 1]]], ss=["set", ["x"]])
    out = apply(cols, [["m", "insert", ["map", [["a", 9], ["b", 2]]]],
                       ["ss", "insert", ["set", ["w", "x"]]]])
    assert out["m"] == ["map", [["a", 1], ["b", 2]]]   # no replacement
    assert out["ss"] == ["set", ["w", "x"]]
    out = apply(cols, [["m", "delete", ["map", [["a", 2], ["b", 2]]]]])
    assert out["m"] == ["map", [["a", 1]]]             # pairs must match
    out = apply(cols, [["m", "delete", ["set", ["a"]]]])
    assert out["m"] == ["map", []]                     # keys alone


def test_errors():
    cases = [
        ([["i", "+=", 1, 2]], "syntax error", "Parse error in mutation."),
        ([["zz", "+=", 1]], "unknown column", "No column zz in table A."),
        ([["im", "insert", 1]], "constraint violation",
         "Cannot mutate immutable column im in table A."),
        ([["i", "**", 1]], "unknown mutator", "No mutator named **."),
        ([["s", "+=", 1]], "syntax error",
         'Type mismatch: "+=" operator may not be applied to column s of '
         'type string.'),
        ([["i", "/=", 0]], "domain error", "Division by zero."),
        ([["i", "+=", 9223372036854775807], ["i", "+=", 1]], "range error",
         'Result of "+=" operation is out of range.'),
        ([["ri", "insert", ["set", [1, 2, 3]]], ["ri", "insert", 4]],
         "constraint violation",
         "Attempted to store 4 elements in set of up to 3 integers."),
        ([["ri", "insert", ["set", [1, 2]]], ["ri", "*=", 0]],
         "constraint violation",
         'Result of "*=" operation contains duplicates.'),
        ([["ri", "insert", 9], ["ri", "+=", 2]], "constraint violation",
         "11 is not in the valid range 0 to 10 (inclusive)"),
    ]
    for j, tag, details in cases:
        with pytest.raises(OvsdbError) as e:
            MutationSet.from_json(TS, j).apply(columns())
        assert (e.value.error, e.value.details) == (tag, details), j


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=4)
    | st.sampled_from(["+=", "/=", "%=", "insert", "delete", "i", "r", "is",
                       "m", "ss", "ri", "set", "map"]),
    lambda c: st.lists(c, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_fuzz(j):
    cols = columns(**{"i": 3, "r": 1.5, "is": ["set", [1, 2]]})
    for candidate in (j, [j]):
        try:
            MutationSet.from_json(TS, candidate, symtab={}).apply(cols)
        except OvsdbError:
            continue
        for name, d in cols.items():
            t = TS.columns[name].type
            assert t.n_min <= len(d) <= t.n_max
