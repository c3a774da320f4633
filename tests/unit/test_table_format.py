"""Table output (pyovs.ovsdb.table_format): properties of each format; the
byte-for-byte comparison with OVS is in tests/interop/test_ovsdb_client.py."""

import csv
import html
import io
import json
import re
import uuid

from hypothesis import given, settings, strategies as st

from pyovs.ovsdb import table_format as tf
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.types import Type

json_scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | \
    st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) |
    st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_json_to_string_round_trips(value, sort, pretty):
    text = tf.json_to_string(value, sort=sort, pretty=pretty)
    assert json.loads(text) == value
    if not pretty:
        assert "\n" not in text.replace("\\n", "")


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_sorted_members_and_pretty_layout(obj):
    text = tf.json_to_string(obj, sort=True)
    assert list(json.loads(text, object_pairs_hook=lambda p: [k for k, _ in p])) \
        == sorted(obj) or not obj
    pretty = tf.json_to_string(obj, sort=True, pretty=True)
    for line in pretty.split("\n")[1:]:
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0
        # OVS keeps closing brackets on the line of the last member (an
        # empty object alone puts its "}" on a line of its own).
        assert not line.lstrip(" ").startswith("]")


def test_real_prints_like_ovs():
    assert tf.json_to_string([0.30000000000000004, 3.0, 1e20, 1e-7]) == \
        "[0.3,3,1e+20,1e-07]"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_string_atoms_quoted_only_when_needed(s):
    text = tf.atom_to_string(s, "string")
    bare_ok = (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", s) is not None
               and s not in ("true", "false"))
    if bare_ok:
        assert text == s
    else:
        assert json.loads(text) == s
    assert tf.atom_to_string(s, "string", bare=True) == s


def test_uuid_strings_are_quoted():
    u = str(uuid.uuid4())
    assert tf.atom_to_string(u, "string") == '"%s"' % u
    assert tf.atom_to_string(uuid.UUID(u), "uuid") == u


def _type(j):
    return Type.from_json(j)


def test_datum_strings():
    smap = _type({"key": "string", "value": "string", "min": 0, "max": "unlimited"})
    d = Datum.from_json(smap, ["map", [["b", "x y"], ["a", "1"]]])
    assert tf.datum_to_string(d, smap) == '{a="1", b="x y"}'
    assert tf.datum_to_bare(d, smap) == "a=1 b=x y"
    iset = _type({"key": "integer", "min": 0, "max": "unlimited"})
    assert tf.datum_to_string(Datum.from_json(iset, 5), iset) == "[5]"
    assert tf.datum_to_string(Datum.default(iset), iset) == "[]"
    opt = _type({"key": "string", "min": 0, "max": 1})
    assert tf.datum_to_string(Datum.from_json(opt, "x"), opt) == "x"
    assert tf.datum_to_string(Datum.default(opt), opt) == "[]"
    assert tf.datum_to_bare(Datum.default(opt), opt) == ""
    # JSON that does not fit the type prints as JSON.
    assert tf.datum_json_to_string({"x": 1}, opt, tf.CF_STRING) == '{"x":1}'
    assert tf.datum_json_to_string(["set", ["b", "a"]], opt, tf.CF_JSON) == \
        '["set",["b","a"]]'


def _table(rows, headings=("a", "bb", "c")):
    t = tf.Table(caption="T table")
    for h in headings:
        t.add_column(h)
    for row in rows:
        t.add_row()
        for text in row:
            t.add_cell(text=text)
    return t


cells = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6)
rows3 = st.lists(st.lists(cells, min_size=3, max_size=3), max_size=5)


@settings(max_examples=100, deadline=None)
@given(rows3)
def test_table_columns_align(rows):
    text = tf.table_to_string(_table(rows), tf.TableStyle())
    lines = text.split("\n")
    assert lines[0] == "T table" and lines[-1] == ""
    rule = lines[2]
    assert set(rule) <= {"-", " "}
    widths = [len(w) for w in rule.split(" ")]
    for y, row in enumerate(rows):
        line = lines[3 + y]
        assert line == line.rstrip(" ")
        line = line.ljust(sum(widths) + len(widths))
        pos = 0
        for x, cell in enumerate(row):
            assert line[pos:pos + len(cell)] == cell
            pos += widths[x] + 1
    assert widths == [max([len(h)] + [len(r[x]) for r in rows])
                      for x, h in enumerate(("a", "bb", "c"))]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(st.characters(blacklist_characters="\r"), max_size=6),
                         min_size=3, max_size=3), max_size=5))
def test_csv_parses_back(rows):
    style = tf.TableStyle(format=tf.TF_CSV)
    text = tf.table_to_string(_table(rows), style)
    body = text.split("\n", 1)[1]
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert parsed[0] == ["a", "bb", "c"]
    assert parsed[1:] == rows


@settings(max_examples=100, deadline=None)
@given(rows3)
def test_html_escapes_and_json_holds_cells(rows):
    style = tf.TableStyle(format=tf.TF_HTML)
    text = tf.table_to_string(_table(rows), style)
    tds = re.findall(r"<td>(.*)</td>", text)
    assert [html.unescape(t) for t in tds] == [c for r in rows for c in r]
    js = json.loads(tf.table_to_string(_table(rows), tf.TableStyle(format=tf.TF_JSON)))
    assert js == {"caption": "T table", "headings": ["a", "bb", "c"], "data": rows}


def test_html_links_uuids():
    u = str(uuid.uuid4())
    t = tf.Table()
    t.add_column("_uuid")
    t.add_column("ref")
    t.add_row()
    t.add_cell(text=u)
    t.add_cell(text="[%s]" % u)
    out = tf.table_to_string(t, tf.TableStyle(format=tf.TF_HTML))
    assert '<td><a name="%s">%s</a></td>' % (u, u[:8]) in out
    assert '<td>[<a href="#%s">%s</a>]</td>' % (u, u[:8]) in out


def test_list_and_bare_styles():
    rows = [["1", "x", ""], ["2", "y", "z"]]
    out = tf.table_to_string(_table(rows), tf.TableStyle(format=tf.TF_LIST))
    assert out.split("\n")[1] == "%-20s: 1" % "a"
    assert out.count("\n\n") == 1
    style = tf.TableStyle()
    import argparse
    p = argparse.ArgumentParser()
    tf.add_table_options(p)
    tf.style_from_args(p.parse_args(["--bare"]), style)
    assert (style.format, style.cell_format, style.headings) == \
        (tf.TF_LIST, tf.CF_BARE, False)
    assert tf.table_to_string(_table(rows), style) == "T table\n1\nx\n\n\n2\ny\nz\n"


def test_printer_separates_tables_and_timestamps():
    buf = io.StringIO()
    printer = tf.TablePrinter(tf.TableStyle(), buf)
    t = _table([["1", "2", "3"]])
    printer.print(t)
    t.timestamp = True
    printer.print(t, now_ms=1_700_000_000_123)
    out = buf.getvalue()
    assert "\n\n2023-11-14 22:13:20.123\nT table\n" in out
    assert not out.startswith("\n")


def test_bad_formats_rejected():
    style = tf.TableStyle()
    for fn, name, msg in ((tf.parse_format, "xml", 'unknown output format "xml"'),
                          (tf.parse_cell_format, "raw", 'unknown data format "raw"')):
        try:
            fn(style, name)
        except ValueError as e:
            assert str(e) == msg
        else:
            raise AssertionError("accepted %s" % name)
