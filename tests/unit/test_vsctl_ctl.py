"""The ovs-vsctl value syntax and command-chain parsing (pyovs.ovsdb.ctl),
checked against facts taken from the real ovs-vsctl, plus properties:
every datum's string form parses back to it, and any text gives a datum or
a CtlError, never a crash."""

import math
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb import ctl
from pyovs.ovsdb.ctl import CtlError, datum_from_string, token_parse
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.types import BaseType, Type
from pyovs.vswitch import load_vswitch_schema
from pyovs.vswitch.vsctl import COMMANDS

STR = BaseType("string")
INT = BaseType("integer")
SMAP = Type(STR, STR, 0, math.inf)
ISET = Type(INT, None, 0, math.inf)
VLANS = Type(BaseType("integer", min=0, max=4095), None, 0, 4096)


def test_token_parse():
    assert token_parse('abc=def', 0) == ("abc", 3)
    assert token_parse('"a=b"=c', 0) == ('"a=b"', 5)
    assert token_parse('a\\=b', 0) == ("a=b", 4)
    assert token_parse('"a\\"b"', 0) == ('"a\\"b"', 6)
    with pytest.raises(CtlError, match="quoted string extends past end"):
        token_parse('"abc', 0)
    with pytest.raises(CtlError, match="backslash at end of argument"):
        token_parse('abc\\', 0)


@pytest.mark.parametrize("text,type_,expected", [
    ("{a=b, c=\"d e\"}", SMAP, {"a": "b", "c": "d e"}),
    ("a=b", SMAP, {"a": "b"}),
    ("{}", SMAP, {}),
    ("[1, 2,3]", ISET, {1: None, 2: None, 3: None}),
    ("1-3,7", VLANS, {1: None, 2: None, 3: None, 7: None}),
    ("[]", ISET, {}),
    ("\"\"", Type(STR), {"": None}),
])
def test_datum_from_string(text, type_, expected):
    assert datum_from_string(type_, text) == Datum(type_, expected)


@pytest.mark.parametrize("text,type_,error", [
    # Texts as Debian's ovs-vsctl 3.1 prints them.
    ("", SMAP, 'use "{}" to specify the empty map'),
    ("", ISET, 'use "[]" to specify the empty set'),
    ("xx", ISET, '"xx" is not a valid integer or range'),
    ("5-3", VLANS, '"5-3" is not a valid range. Range end cannot be before start.'),
    ("1-5000", VLANS, "constraint violation: 5000 is not in the valid range 0 to "
                      "4095 (inclusive)"),
    ("1-3,2", VLANS, "1-3,2: set contains duplicate value"),
    ("{a b}", SMAP, 'a b}: syntax error at "b" expecting "="'),
    ("{a", SMAP, 'a: syntax error at "'),
    ("{=b}", SMAP, '{=b}: unexpected "=" parsing map of (string, string) pairs'),
    ("{a=1,a=2}", SMAP, "{a=1,a=2}: map contains duplicate key"),
    ("{a=1", SMAP, '{a=1: missing "}" at end of data'),
    ("{a=1}x", SMAP, '{a=1}x: trailing garbage after "}"'),
    ("[1,2]", Type(INT, None, 0, 1), "[1,2]: 2 value(s) specified but the maximum "
                                     "number is 1"),
    ("maybe", Type(BaseType("boolean")), '"maybe" is not a valid boolean (use "true" '
                                         'or "false")'),
    ("abc", Type(BaseType("uuid")), '"abc" is not a valid UUID'),
    ("1.5x", Type(BaseType("real")), '"1.5x" is not a valid real number'),
])
def test_datum_from_string_errors(text, type_, error):
    with pytest.raises(CtlError) as e:
        datum_from_string(type_, text)
    assert str(e.value) == error


def test_symbols():
    symtab = ctl.SymbolTable()
    ref = Type(BaseType("uuid", ref_table="QoS"), None, 0, 1)
    d = datum_from_string(ref, "@q", symtab)
    sym = symtab.get("@q")
    assert d.scalar() == sym.uuid and sym.strong_ref and not sym.created
    created, new = symtab.create("@q")
    assert created is sym and not new
    with pytest.raises(CtlError, match="may only be specified on one --id"):
        symtab.create("@q")
    with pytest.raises(CtlError, match='does not begin with "@"'):
        symtab.create("q")


def test_partial_match_scores():
    assert ctl.score_partial_match("Bridge", "Bridge") > ctl.score_partial_match(
        "Bridge", "bridge") > ctl.score_partial_match("Bridge", "bri") > 0
    assert ctl.score_partial_match("other_config", "other-config") > 0
    assert ctl.score_partial_match("Bridge", "bridgex") == 0
    schema = load_vswitch_schema()
    assert ctl.get_table(schema, "br") == "Bridge"
    with pytest.raises(CtlError, match='"i" matches multiple table names: IPFIX, '
                                       'Interface'):
        ctl.get_table(schema, "i")


@pytest.mark.parametrize("argv,error", [
    ([], "missing command name (use --help for help)"),
    (["bogus"], "unknown command 'bogus'; use --help for help"),
    (["add-br"], "'add-br' command requires at least 1 arguments"),
    (["list-br", "x"], "'list-br' command takes at most 0 arguments"),
    (["list-br", "--real"], "'list-br' command takes at most 0 arguments (note that "
                            'options must precede command names and follow a "--" '
                            "argument)"),
    (["--if-exists", "list-br"], "'list-br' command has no '--if-exists' option"),
    (["--columns", "list", "Port"], "missing argument to '--columns' option on "
                                    "'list' command"),
    (["--all=x", "destroy", "QoS"], "'--all' option on 'destroy' does not accept an "
                                    "argument"),
    (["--id=@a", "--id=@b", "create", "QoS"], "'--id=@b' option specified multiple times"),
    (["list-br", "--", "--real"], "missing command name (use --help for help)"),
])
def test_parse_command_errors(argv, error):
    with pytest.raises(CtlError) as e:
        ctl.parse_commands(argv, {}, COMMANDS)
    assert str(e.value) == error


def test_parse_chain():
    cmds = ctl.parse_commands(
        ["add-br", "br0", "--", "--may-exist", "add-port", "br0", "p1", "--", "--",
         "list-br"], {}, COMMANDS)
    assert [(c.syntax.name, c.argv, c.options) for c in cmds] == [
        ("add-br", ["add-br", "br0"], {}),
        ("add-port", ["add-port", "br0", "p1"], {"--may-exist": None}),
        ("list-br", ["list-br"], {})]


# -- properties -----------------------------------------------------------------

def _atoms(base):
    if base.type == "integer":
        return st.integers(-(1 << 63), (1 << 63) - 1)
    if base.type == "real":
        # Reals print with 15 significant digits ("%.15g"), as in OVS.
        return st.integers(-10 ** 9, 10 ** 9).map(lambda i: i / 64)
    if base.type == "boolean":
        return st.booleans()
    if base.type == "uuid":
        return st.uuids()
    return st.text(max_size=12)


_BASES = [BaseType(t) for t in ("integer", "real", "boolean", "string", "uuid")]


@st.composite
def datums(draw):
    key = draw(st.sampled_from(_BASES))
    value = draw(st.sampled_from([None] + _BASES))
    n_max = draw(st.sampled_from([1, 3, math.inf]))
    n_min = draw(st.sampled_from([0, 1]))
    type_ = Type(key, value, n_min, n_max)
    limit = 1 if n_max == 1 else 3
    keys = draw(st.lists(_atoms(key), min_size=n_min, max_size=limit, unique=True))
    if value is None:
        return Datum(type_, {k: None for k in keys})
    return Datum(type_, {k: draw(_atoms(value)) for k in keys})


@settings(max_examples=150, deadline=None)
@given(datums())
def test_string_form_round_trips(datum):
    text = datum.to_string()
    if text == "" and datum.type.n_max == 1 and datum.type.value is None:
        return      # an optional scalar's empty value prints as "" in neither form
    parsed = datum_from_string(datum.type, text)
    assert parsed == datum, text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from([SMAP, ISET, VLANS, Type(STR),
                                               Type(BaseType("uuid"), None, 0, 3)]))
def test_any_text_parses_or_fails_cleanly(text, type_):
    try:
        d = datum_from_string(type_, text, ctl.SymbolTable())
    except CtlError as e:
        assert str(e)
    else:
        assert type_.n_min <= len(d) <= type_.n_max


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["--", "add-br", "br0", "--may-exist", "--id=@x",
                                 "list-br", "get", "Bridge", "x", "-v", "set"]),
                max_size=8))
def test_any_chain_parses_or_fails_cleanly(argv):
    try:
        cmds = ctl.parse_commands(argv, {}, COMMANDS)
    except CtlError as e:
        assert str(e)
    else:
        for c in cmds:
            assert c.syntax.min_args <= len(c.argv) - 1 <= c.syntax.max_args
