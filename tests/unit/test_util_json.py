"""pyovs.util.json: OVS's JSON text (reading with OVS's values and errors,
writing compact/pretty/sorted/shash-ordered), checked against Debian's
ovsdb-tool where it shows JSON."""

import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util import json as ovs_json
from tests.conftest import real_bin


def test_shash_order_matches_ovs():
    # Orders observed in files written by Debian's ovsdb-tool 3.1: a
    # transaction record built as tables, _comment, _date, _is_diff, and the
    # top level of ovsdb_schema_to_json() (name, version, cksum, tables).
    assert ovs_json.shash_order(["Bridge", "Open_vSwitch", "_comment", "_date", "_is_diff"]) == \
        ["_date", "Bridge", "_is_diff", "_comment", "Open_vSwitch"]
    assert ovs_json.shash_order(["name", "version", "cksum", "tables"]) == \
        ["cksum", "name", "version", "tables"]


def test_shash_order_is_a_permutation():
    keys = ["k%d" % i for i in range(100)]
    assert sorted(ovs_json.shash_order(keys)) == sorted(keys)


def test_json_to_string_formats():
    assert ovs_json.to_string({"b": [1, 2.5, True, None], "a": "x\"\n\u00e9"}, sort=True) == \
        '{"a":"x\\"\\n\u00e9","b":[1,2.5,true,null]}'
    assert ovs_json.to_string(0.1) == "0.1"
    assert ovs_json.to_string(1.0) == "1"


@pytest.mark.parametrize("text,message", [
    ("[", "line 0, column 1, byte 1: unexpected end of input"),
    ('{"a":\n', "line 1, column 0, byte 6: unexpected end of input"),
    ('{"a":1} x\n', "line 0, column 9, byte 9: invalid keyword 'x'"),
    ('{"a":1} {}\n', "line 0, column 8, byte 8: trailing garbage at end of input"),
    ("tru", "line 0, column 3, byte 3: invalid keyword 'tru'"),
])
def test_json_errors_read_like_ovs(text, message):
    with pytest.raises(ovs_json.JsonError) as e:
        ovs_json.from_string(text)
    assert str(e.value) == message


def test_json_rejects_nan():
    with pytest.raises(ovs_json.JsonError):
        ovs_json.from_string("[NaN]")


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | _TEXT
    # (OVS prints reals with 15 digits, so only those survive a round trip.)
    | st.floats(-1e300, 1e300).map(lambda x: float("%.15g" % x))
    .filter(lambda x: x != int(x)),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(_TEXT, c, max_size=4),
    max_leaves=20)))
def test_fuzz_json_round_trip(value):
    assert ovs_json.from_string(ovs_json.to_string(value)) == value


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=40) | st.text(alphabet='[]{}:,"\\ul0123456789.eE-+ntrfasx \n', max_size=30))
def test_fuzz_exact_parser_agrees_with_fast_path(data):
    # The exact OVS-transcribed parser and the fast path accept the same
    # inputs and produce the same values.
    raw = data if isinstance(data, bytes) else data.encode()
    try:
        fast = ovs_json.from_string(raw)
    except ovs_json.JsonError:
        fast = "error"
    try:
        exact = ovs_json._OvsJsonParser(raw).parse()
    except ovs_json.JsonError:
        exact = "error"
    assert fast == exact


@pytest.mark.parametrize("text,value", [
    ("[1.0, 1e2, -0, 0.0, 1.5e1, 2.5]", [1, 100, 0, 0, 15, 2.5]),
    ("[99999999999999999999]", [1e20]),
    ('["\\u00e9\\ud83d\\ude00"]', ["\u00e9\U0001F600"]),
])
def test_numbers_and_escapes_as_ovs(text, value):
    got = ovs_json.from_string(text)
    assert got == value
    assert [type(x) for x in got] == [type(x) for x in value]


def test_reals_print_with_15_digits_as_ovs_31():
    assert ovs_json.to_string([0.30000000000000004, 1e300, 1.5e-7, 3.0, -0.0]) == \
        "[0.3,1e+300,1.5e-07,3,-0]"


def test_pretty_and_member_orders():
    value = {"b": [1, {"c": []}], "a": {}}
    assert ovs_json.to_string(value, pretty=True, sort=True) == \
        '{\n  "a": {\n    },\n  "b": [\n    1,\n    {\n      "c": []}]}'
    assert ovs_json.to_string(value) == '{"b":[1,{"c":[]}],"a":{}}'
    keys = ["name", "version", "cksum", "tables"]
    assert ovs_json.to_string(dict.fromkeys(keys, 0), shash=True) == \
        '{"cksum":0,"name":0,"version":0,"tables":0}'


def test_hmap_order_is_shash_order_with_string_hashes():
    keys = ["k%d" % i for i in range(40)]
    assert ovs_json.hmap_order([(k, ovs_json.hash_string(k)) for k in keys]) == \
        ovs_json.shash_order(keys)


def test_string_escapes_as_ovs():
    assert ovs_json.to_string(["\"\\/\b\f\n\r\t\x01\x1f\x7f\u00e9"]) == \
        '["\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\u00e9"]'


_ORACLE_INPUTS = ["[1", "[", "tru", "[1,", '["a', "[1 ", "[tru", '{"a":1} x', "[1e", "1",
                  '"x"', "[-]", "[1.]", "[01]", '["\\u0000"]', '["\\ud800"]',
                  '["\\q"]', "[1e999]", '{"a" 1}', "[1]]", "{,}", "[\x01]",
                  "[0.30000000000000004, 1e300, 123456789012345678, 1.5e-7, 1.0, 1e2]",
                  "[99999999999999999999, -9223372036854775808, 9223372036854775808]",
                  '["\\ud83d\\ude00", "\u00e9"]', '{"b":1,"a":[{"c":null}]}']


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    tool = real_bin("ovsdb-tool")
    path = tmp_path_factory.mktemp("json") / "x.db"
    schema = tmp_path_factory.mktemp("schema") / "s.ovsschema"
    schema.write_text('{"name":"S","tables":{"T":{"columns":{"i":{"type":"integer"}}}}}')
    subprocess.run([tool, "create", str(path), str(schema)], check=True)
    return tool, str(path)


@pytest.mark.parametrize("text", _ORACLE_INPUTS)
def test_parse_and_print_like_real_ovsdb_tool(real_db, text):
    """ovsdb-tool query DB JSON parses JSON with OVS's json_from_string() and
    shows a parse error as '"TEXT": ERROR', or echoes the value (sorted,
    compact) in the "syntax" member of its complaint about the database
    name: both go through OVS's JSON code."""
    tool, path = real_db
    out = subprocess.run([tool, "query", path, text], capture_output=True,
                         timeout=30)
    theirs = (out.stdout + out.stderr).decode("utf-8").strip()
    try:
        value = ovs_json.from_string(text)
    except ovs_json.JsonError as e:
        assert theirs == 'ovsdb-tool: "%s": %s' % (text, e)
        return
    syntax = ovs_json.from_string(theirs)["syntax"]
    assert syntax == ovs_json.to_string(value, sort=True)
