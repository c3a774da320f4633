"""Atoms and datums: JSON in and out as OVS has them, the text form
(checked against the real ovsdb-client), and fuzzing."""

import json
import math
import subprocess
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.data import Datum, atom_from_json, atom_to_json
from pyovs.ovsdb.error import OvsdbError, json_to_string
from pyovs.ovsdb.types import BaseType, Type
from tests.conftest import real_bin
from tests.unit.test_ovsdb_transaction import RealServer, SCHEMA, new_db

ATOMIC = ["integer", "real", "boolean", "string", "uuid"]

atoms = {
    "integer": st.integers(-(1 << 63), (1 << 63) - 1),
    "real": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    # OVSDB strings are valid UTF-8 without NUL (OVS's JSON parser
    # guarantees it); test_invalid_strings covers the rest.
    "string": st.text(st.characters(blacklist_categories=("Cs",),
                                    blacklist_characters="\0"), max_size=8),
    "uuid": st.uuids(),
}


@st.composite
def types_and_values(draw):
    key = draw(st.sampled_from(ATOMIC))
    value = draw(st.sampled_from([None] + ATOMIC))
    n_min = draw(st.integers(0, 1))
    n_max = draw(st.sampled_from([1, 2, 5, math.inf]))
    t = Type(BaseType(key), BaseType(value) if value else None, n_min, n_max)
    limit = 5 if n_max == math.inf else n_max
    n = draw(st.integers(n_min, limit))
    keys = draw(st.lists(atoms[key], min_size=n, max_size=n,
                         unique_by=lambda a: a))
    if len(keys) < n_min:
        keys = [Datum.default(t).scalar()] if n_min else []
    if value:
        vals = draw(st.lists(atoms[value], min_size=len(keys),
                             max_size=len(keys)))
        return t, dict(zip(keys, vals))
    return t, dict.fromkeys(keys)


@settings(max_examples=150, deadline=None)
@given(types_and_values())
def test_json_round_trip(tv):
    t, values = tv
    d = Datum(t, values)
    j = d.to_json()
    # Through OVS's JSON text and back, as a peer would see it.
    j2 = json.loads(json_to_string(j))
    d2 = Datum.from_json(t, j)
    assert d2 == d and hash(d2) == hash(d)
    assert d2.keys() == d.keys()
    if t.key.type != "real" and (t.value is None
                                 or t.value.type != "real"):
        assert Datum.from_json(t, j2) == d
    # Elements come out sorted as OVS sorts them.
    keys = d.keys()
    if t.key.type == "uuid":
        assert keys == sorted(keys, key=lambda u: u.int)
    else:
        assert keys == sorted(keys)
    if t.is_map():
        assert j[0] == "map"
    elif len(d) == 1:
        assert j == atom_to_json(keys[0])
    else:
        assert j[0] == "set" and len(j[1]) == len(d)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(types_and_values(), json_values)
def test_bad_json_is_rejected_cleanly(tv, j):
    t, _ = tv
    for candidate in (j, ["set", j], ["map", j], ["uuid", j],
                      ["set", [j, j]]):
        try:
            d = Datum.from_json(t, candidate, symtab={})
        except OvsdbError as e:
            assert e.error in ("syntax error", "ovsdb error",
                               "constraint violation")
            assert isinstance(e.to_json()["error"], str)
        else:
            assert t.n_min <= len(d) <= t.n_max


def test_specific_errors():
    int_set = Type(BaseType("integer"), None, 0, 2)
    cases = [
        (Type("integer"), "x", "expected integer"),
        (Type("integer"), True, "expected integer"),
        (Type("integer"), 1 << 63, "expected integer"),
        (Type("real"), "1", "expected real"),
        (Type("boolean"), 0, "expected boolean"),
        (Type("uuid"), ["uuid", "zz"], '"zz" is not a valid UUID'),
        (Type("uuid"), ["named-uuid", "x"], 'expected ["uuid", <string>]'),
        (int_set, ["set", [1, 2, 3]],
         "set must have 0 to 2 members but 3 are present"),
        (int_set, ["set", [1, 1]], "set contains duplicate"),
        (int_set, ["set", 1], 'expected ["set", <array>]'),
        (Type("integer", "integer", 0, 5), ["map", [[1, 2], [1, 3]]],
         "map contains duplicate key"),
        (Type("integer", "integer", 0, 5), ["map", [[1]]],
         "expected 2-element array"),
        (Type("integer", "integer", 0, 5), [1, 2],
         'expected ["map", <array>]'),
    ]
    for t, j, details in cases:
        with pytest.raises(OvsdbError) as e:
            Datum.from_json(t, j)
        assert e.value.details == details, j


def test_invalid_strings():
    for bad in ("a\0b", "\ud800"):
        with pytest.raises(OvsdbError) as e:
            atom_from_json(BaseType("string"), bad)
        assert e.value.error == "constraint violation"


def test_named_uuid_symtab():
    t = Type(BaseType("uuid"))
    symtab = {}
    u = atom_from_json(t.key, ["named-uuid", "row1"], symtab)
    assert symtab == {"row1": u}
    assert atom_from_json(t.key, ["named-uuid", "row1"], symtab) == u
    with pytest.raises(OvsdbError) as e:
        atom_from_json(t.key, ["named-uuid", "1row"], symtab)
    assert e.value.details == "named-uuid string is not a valid <id>"


def test_defaults_and_python_values():
    assert Datum.default(Type("integer")).to_json() == 0
    assert Datum.default(Type("uuid")).scalar() == uuid.UUID(int=0)
    assert Datum.default(Type("string", None, 0, 1)).to_json() == ["set", []]
    m = Datum.from_python(Type("string", "integer", 0, math.inf),
                          {"b": 2, "a": 1})
    assert m.to_json() == ["map", [["a", 1], ["b", 2]]]
    assert m.get("a") == 1 and "b" in m and len(m) == 2


STRINGS = ["br0", "br-int", "a.b", "true", "", "_x", "1abc", "é",
           'with "q"', "00000000-0000-0000-0000-000000000001", "a b",
           "A-Z_.", "x\ty"]


def test_text_like_ovsdb_client(tmp_path):
    """Datum.to_string() is what ovsdb-client prints for the same data."""
    client = real_bin("ovsdb-client")
    srv = RealServer(tmp_path, SCHEMA)
    try:
        row = {"ss": ["set", STRINGS], "s": "br0",
               "rs": ["set", [0.1, 1e300, -2, 3.25, 1e-7,
                              123456789012345678]],
               "m": ["map", [["a", 1], ["b c", 2]]], "oi": 5,
               "is": ["set", [3, -1]], "b": True,
               "u": ["uuid", "00000000-0000-0000-0000-000000000001"]}
        reply = srv.transact([{"op": "insert", "table": "A", "row": row}])
        assert "error" not in reply["result"][0]
        cols = sorted(row)
        out = subprocess.run(
            [client, "dump", "-f", "list", "unix:" + srv.sock_path, "T",
             "A"] + cols, capture_output=True, text=True, timeout=30,
            check=True).stdout
    finally:
        srv.close()
    real = {}
    for line in out.splitlines():
        if " : " in line:
            name, _, text = line.partition(" : ")
            real[name.strip()] = text
    table = new_db().schema.tables["A"]
    for c in cols:
        d = Datum.from_json(table.columns[c].type, row[c])
        assert d.to_string() == real[c], c
