"""Types: JSON forms, English names and atom constraints."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.types import BaseType, Type


def test_english_like_ovs():
    cases = [
        (Type("integer"), "integer"),
        (Type("string", None, 0, 1), "set of up to 1 strings"),
        (Type("uuid", None, 0, math.inf), "set of uuids"),
        (Type("uuid", None, 1, math.inf), "set of 1 or more uuids"),
        (Type("real", None, 1, 2), "set of 1 to 2 reals"),
        (Type("string", "integer", 0, math.inf),
         "map of (string, integer) pairs"),
        (Type("string", "string", 1, 4), "map of 1 to 4 (string, string) "
         "pairs"),
    ]
    for t, text in cases:
        assert t.to_english() == text


def test_predicates():
    assert Type("integer").is_scalar()
    opt = Type("integer", None, 0, 1)
    assert opt.is_optional() and opt.is_optional_scalar() and opt.is_set()
    m = Type("string", "string", 0, math.inf)
    assert m.is_map() and not m.is_set() and not m.is_scalar()


def test_json_forms():
    j = {"key": {"type": "uuid", "refTable": "T", "refType": "weak"},
         "min": 0, "max": "unlimited"}
    t = Type.from_json(j)
    assert t.key.is_weak_ref() and t.n_max == math.inf
    assert t.to_json() == j
    assert Type.from_json("string").to_json() == "string"
    # A constrained scalar keeps the {"key": ...} wrapper, as OVS prints it.
    j = {"key": {"type": "integer", "minInteger": 0, "maxInteger": 10}}
    assert Type.from_json(j).to_json() == j
    j = {"key": {"type": "string", "enum": ["set", ["b", "a"]]}}
    assert Type.from_json(j).to_json() == {
        "key": {"type": "string", "enum": ["set", ["a", "b"]]}}


def test_check_atom_messages():
    cases = [
        (BaseType("integer", min=0, max=10), 11,
         "11 is not in the valid range 0 to 10 (inclusive)"),
        (BaseType("integer", min=5), 4,
         "4 is less than minimum allowed value 5"),
        (BaseType("integer", max=5), 6,
         "6 is greater than maximum allowed value 5"),
        (BaseType("real", min=-1.5, max=2.25), 3.0,
         "3 is not in the valid range -1.5 to 2.25 (inclusive)"),
        (BaseType("string", min_length=2), "a",
         '"a" length 1 is less than minimum allowed length 2'),
        (BaseType("string", max_length=2), "abc",
         '"abc" length 3 is greater than maximum allowed length 2'),
        (BaseType("string", enum=["red", "green"]), "blue",
         "blue is not one of the allowed values ([green, red])"),
        (BaseType("integer", enum=[1]), 2,
         "2 is not one of the allowed values ([1])"),
    ]
    for base, atom, details in cases:
        with pytest.raises(OvsdbError) as e:
            base.check_atom(atom)
        assert e.value.error == "constraint violation"
        assert e.value.details == details
    BaseType("integer", min=0, max=10).check_atom(10)
    BaseType("string", enum=["red"]).check_atom("red")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=5) | st.sampled_from(
        ["integer", "real", "string", "uuid", "boolean", "unlimited",
         "key", "value", "min", "max", "type", "enum", "refTable"]),
    lambda c: st.lists(c, max_size=3)
    | st.dictionaries(st.sampled_from(["key", "value", "min", "max", "type",
                                       "enum", "minInteger", "maxLength",
                                       "refTable", "refType"]), c,
                      max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fuzz_type_from_json(j):
    try:
        t = Type.from_json(j)
    except OvsdbError as e:
        assert e.error in ("syntax error", "ovsdb error",
                           "constraint violation")
        return
    assert Type.from_json(t.to_json()) == t
