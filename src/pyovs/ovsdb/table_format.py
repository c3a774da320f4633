"""Tables of OVSDB data printed as OVS prints them (OVS's lib/table).

ovsdb-client and ovs-vsctl print everything tabular through one small
engine: a :class:`Table` is a caption, a list of column headings and rows of
:class:`Cell`.  A cell holds either fixed ``text`` or an OVSDB datum as its
JSON plus its column type; a datum cell is rendered late, according to the
:class:`TableStyle`, so the same table prints as

* ``--format``: ``table`` (aligned columns under a rule of dashes), ``list``
  (``heading<pad to 20>: value`` lines), ``csv``, ``json`` (an object with
  "caption", "headings", "data" and, with --timestamp, "time") or ``html``;
* ``--data``: ``string`` (``[a, "b c"]``, ``{k=v}``, strings quoted only when
  they would be ambiguous), ``bare`` (space-separated, never quoted) or
  ``json`` (the RFC 7047 JSON of the datum).

``--bare`` is list format, bare data, no headings.  Widths are counted in
bytes of UTF-8, as OVS's strlen() counts them, and trailing spaces of table
lines are trimmed.  OVS separates successive tables printed by one process
with a blank line (except in html and json); :class:`TablePrinter` keeps that
per-format count.

JSON text (the json format, --data json, --pretty) is pyovs.util.json's,
also exported here as :func:`json_to_string`.

API: Cell, Table, TableStyle, TablePrinter, table_to_string(table, style,
first=True, now_ms=None), parse_format(style, name), parse_cell_format(style,
name), add_table_options(argparser) / style_from_args(args),
datum_json_to_string(json, type, cell_format), datum_to_string(datum, type),
datum_to_bare(datum, type), atom_to_string(atom, kind, bare=False),
json_to_string(value, sort=False, pretty=False).  Atoms and datums in
string form are pyovs.ovsdb.data's (one place for that fact); this module
adds the bare form.
"""

import re
import sys
import time

from pyovs.ovsdb import data
from pyovs.ovsdb.data import Datum
from pyovs.util import json as ovs_json

TF_TABLE, TF_LIST, TF_HTML, TF_CSV, TF_JSON = "table", "list", "html", "csv", "json"
CF_STRING, CF_BARE, CF_JSON = "string", "bare", "json"

_FORMATS = (TF_TABLE, TF_LIST, TF_HTML, TF_CSV, TF_JSON)
_CELL_FORMATS = (CF_STRING, CF_BARE, CF_JSON)

_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


#: OVS's JSON text with JSSF_SORT and JSSF_PRETTY (pyovs.util.json's),
#: under the name callers use.
json_to_string = ovs_json.to_string


# ---------------------------------------------------------------------------
# Datums as text (ovsdb_datum_to_string / ovsdb_datum_to_bare).

def atom_to_string(atom, kind, bare=False):
    """Atom ATOM of base type KIND ("integer", "real", ...) as text; BARE
    leaves strings unquoted (--data=bare)."""
    if bare and kind == "string":
        return atom
    return data.atom_to_string(atom, kind)


def datum_to_string(datum, type_):
    """DATUM (a pyovs.ovsdb.data.Datum) of TYPE_ as OVS's string form."""
    return Datum(type_, datum.values_dict(), True).to_string()


def datum_to_bare(datum, type_):
    """DATUM of TYPE_ as OVS's bare form: space-separated, never quoted."""
    is_map = type_.value is not None
    parts = []
    for key, value in datum.items():
        s = atom_to_string(key, type_.key.type, bare=True)
        if is_map:
            s += "=" + atom_to_string(value, type_.value.type, bare=True)
        parts.append(s)
    return " ".join(parts)


def datum_json_to_string(json_value, type_, cell_format):
    """The text of a datum cell: JSON_VALUE of TYPE_ in CELL_FORMAT.  JSON
    that is not a valid datum of the type prints as JSON, as in OVS."""
    if cell_format == CF_JSON or type_ is None:
        return json_to_string(json_value, sort=True)
    try:
        datum = Datum.from_json(type_, json_value)
    except Exception:   # any invalid datum: OVS falls back to its JSON
        return json_to_string(json_value, sort=True)
    if cell_format == CF_STRING:
        return datum_to_string(datum, type_)
    return datum_to_bare(datum, type_)


# ---------------------------------------------------------------------------
# Tables.

class Cell:
    """One table cell: fixed TEXT, or a datum as JSON with its column TYPE
    (TYPE None: print the JSON itself)."""

    __slots__ = ("text", "json", "type")

    def __init__(self, text=None, json=None, type=None):
        self.text = text
        self.json = json
        self.type = type

    def to_text(self, style):
        if self.text is not None:
            return self.text
        if self.json is None:
            return ""
        return datum_json_to_string(self.json, self.type, style.cell_format)


class Table:
    """Columns (headings) and rows of cells, with an optional caption."""

    def __init__(self, caption=None, timestamp=False):
        self.caption = caption
        self.timestamp = timestamp
        self.headings = []
        self.rows = []

    def add_column(self, heading):
        assert not self.rows, "columns must be added before rows"
        self.headings.append(heading)

    def add_row(self):
        self.rows.append([])

    def add_cell(self, text=None, json=None, type=None):
        """Append a cell to the last row and return it."""
        row = self.rows[-1]
        assert len(row) < len(self.headings), "too many cells in row"
        cell = Cell(text, json, type)
        row.append(cell)
        return cell

    def cell(self, y, x):
        row = self.rows[y]
        return row[x] if x < len(row) else Cell()


class TableStyle:
    """How to print a table (OVS's struct table_style)."""

    def __init__(self, format=TF_TABLE, cell_format=CF_STRING, headings=True,
                 sort=True, pretty=False, max_column_width=0):
        self.format = format
        self.cell_format = cell_format
        self.headings = headings
        self.sort = sort
        self.pretty = pretty
        self.max_column_width = max_column_width


def parse_format(style, name):
    """Set STYLE.format from a --format argument; ValueError with OVS's text."""
    if name not in _FORMATS:
        raise ValueError('unknown output format "%s"' % name)
    style.format = name


def parse_cell_format(style, name):
    """Set STYLE.cell_format from a --data argument."""
    if name not in _CELL_FORMATS:
        raise ValueError('unknown data format "%s"' % name)
    style.cell_format = name


def format_timestamp(now_ms=None):
    """"YYYY-MM-DD HH:MM:SS.mmm" in UTC, as table timestamps are written."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    secs, ms = divmod(int(now_ms), 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs)) + ".%03d" % ms


def _blen(s):
    return len(s.encode("utf-8"))


def _pad(s, width):
    b = s.encode("utf-8")
    if len(b) > width:
        b = b[:width]
        s = b.decode("utf-8", "ignore")
    return s + " " * (width - len(b))


def _print_table(table, style, out, now_ms):
    texts = [[table.cell(y, x).to_text(style) for x in range(len(table.headings))]
             for y in range(len(table.rows))]
    widths = []
    for x, heading in enumerate(table.headings):
        w = max((_blen(row[x]) for row in texts), default=0)
        if style.max_column_width > 0 and w > style.max_column_width:
            w = style.max_column_width
        if style.headings:
            w = max(w, _blen(heading))
        widths.append(w)

    def line(cells):
        out.append(" ".join(cells).rstrip(" ") + "\n")

    if style.headings:
        line(_pad(h, w) for h, w in zip(table.headings, widths))
        line("-" * w for w in widths)
    for row in texts:
        line(_pad(t, w) for t, w in zip(row, widths))


def _print_list(table, style, out, now_ms):
    for y in range(len(table.rows)):
        if y:
            out.append("\n")
        for x, heading in enumerate(table.headings):
            if style.headings:
                out.append("%-20s: " % heading)
            out.append(table.cell(y, x).to_text(style) + "\n")


def _html_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def _html_cell(element, content):
    parts = []
    pos = 0
    for m in _UUID_RE.finditer(content):
        parts.append(_html_escape(content[pos:m.start()]))
        u = m.group(0)
        parts.append('<a href="#%s">%s</a>' % (u, u[:8]))
        pos = m.end()
    parts.append(_html_escape(content[pos:]))
    return "    <%s>%s</%s>\n" % (element, "".join(parts), element)


def _print_html(table, style, out, now_ms):
    out.append("<table border=1>\n")
    if table.caption is not None:
        out.append(_html_cell("caption", table.caption))
    if style.headings:
        out.append("  <tr>\n")
        for heading in table.headings:
            out.append(_html_cell("th", heading))
        out.append("  </tr>\n")
    for y in range(len(table.rows)):
        out.append("  <tr>\n")
        for x, heading in enumerate(table.headings):
            content = table.cell(y, x).to_text(style)
            if heading == "_uuid":
                first8 = content.encode("utf-8")[:8].decode("utf-8", "ignore")
                out.append('    <td><a name="%s">%s</a></td>\n'
                           % (_html_escape(content), _html_escape(first8)))
            else:
                out.append(_html_cell("td", content))
        out.append("  </tr>\n")
    out.append("</table>\n")


def _csv_cell(s):
    if not any(c in s for c in '\n",'):
        return s
    return '"' + s.replace('"', '""') + '"'


def _print_csv(table, style, out, now_ms):
    if style.headings:
        out.append(",".join(_csv_cell(h) for h in table.headings) + "\n")
    for y in range(len(table.rows)):
        out.append(",".join(_csv_cell(table.cell(y, x).to_text(style))
                            for x in range(len(table.headings))) + "\n")


def _print_json(table, style, out, now_ms):
    obj = {}
    if table.caption is not None:
        obj["caption"] = table.caption
    if table.timestamp:
        obj["time"] = format_timestamp(now_ms)
    obj["headings"] = list(table.headings)
    data = []
    for y in range(len(table.rows)):
        row = []
        for x in range(len(table.headings)):
            cell = table.cell(y, x)
            row.append(cell.text if cell.text is not None else cell.json)
        data.append(row)
    obj["data"] = data
    out.append(json_to_string(obj, sort=style.sort, pretty=style.pretty) + "\n")


_PRINTERS = {TF_TABLE: _print_table, TF_LIST: _print_list, TF_HTML: _print_html,
             TF_CSV: _print_csv, TF_JSON: _print_json}


def table_to_string(table, style, first=True, now_ms=None):
    """TABLE printed in STYLE.  FIRST false adds the blank line that OVS
    puts before every table after the first (table, list, csv formats)."""
    out = []
    if style.format in (TF_TABLE, TF_LIST, TF_CSV) and not first:
        out.append("\n")
    if table.timestamp and style.format != TF_JSON:
        out.append(format_timestamp(now_ms) + "\n")
    if table.caption is not None and style.format in (TF_TABLE, TF_LIST, TF_CSV):
        out.append(table.caption + "\n")
    _PRINTERS[style.format](table, style, out, now_ms)
    return "".join(out)


class TablePrinter:
    """Prints successive tables to a file, separated as OVS separates them."""

    def __init__(self, style, file=None):
        self.style = style
        self.file = file
        self._counts = {}

    def print(self, table, now_ms=None):
        n = self._counts.get(self.style.format, 0)
        self._counts[self.style.format] = n + 1
        f = self.file if self.file is not None else sys.stdout
        f.write(table_to_string(table, self.style, first=(n == 0), now_ms=now_ms))
        f.flush()


# ---------------------------------------------------------------------------
# Command-line options shared by the tools that print tables.

def add_table_options(parser):
    """Add -f/--format, -d/--data, --no-headings, --pretty, --bare to an
    argparse PARSER; the values land in args.table_options, in order."""
    parser.add_argument("-f", "--format", dest="table_options", action="append",
                        type=lambda v: ("format", v))
    parser.add_argument("-d", "--data", dest="table_options", action="append",
                        type=lambda v: ("data", v))
    parser.add_argument("--no-headings", dest="table_options", action="append_const",
                        const=("no-headings", None))
    parser.add_argument("--pretty", dest="table_options", action="append_const",
                        const=("pretty", None))
    parser.add_argument("--bare", dest="table_options", action="append_const",
                        const=("bare", None))


def style_from_args(args, style=None):
    """Apply the table options in ARGS (in command-line order) to STYLE."""
    style = style or TableStyle()
    for name, value in getattr(args, "table_options", None) or ():
        if name == "format":
            parse_format(style, value)
        elif name == "data":
            parse_cell_format(style, value)
        elif name == "no-headings":
            style.headings = False
        elif name == "pretty":
            style.pretty = True
        elif name == "bare":
            style.format = TF_LIST
            style.cell_format = CF_BARE
            style.headings = False
    return style

