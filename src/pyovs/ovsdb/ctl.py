"""The generic database commands of OVS's *-ctl tools (OVS's db-ctl-base).

A ctl tool (ovs-vsctl today) runs a chain of commands, separated by "--",
as one OVSDB transaction built on the IDL.  Each command goes through three
phases, as in OVS:

* parse: ``parse_commands`` splits argv at "--", takes the command's own
  options (``--if-exists``, ``--id=@name``, ``--columns=...``) and checks
  the argument count against its :class:`CommandSyntax`;
* prerequisites: ``syntax.prerequisites(ctx)`` runs before the database is
  contacted and rejects unknown tables and columns;
* run: ``syntax.run(ctx)`` reads the replica and writes into the
  transaction through a :class:`DbView` (the replica as the transaction so
  far would leave it: rows inserted earlier in the chain are visible, rows
  deleted earlier are gone); ``postprocess`` runs after the commit.

Anything wrong raises :class:`CtlError` (printed as ``PROGRAM: text``, exit
status 1, nothing committed).  A command that cannot be satisfied yet
(``wait-until``) sets ``ctx.try_again``: the whole chain is run again once
the database changes.

Records are named by UUID, by an unambiguous UUID prefix of at least four
hex digits, or through the table's row ids (:class:`RowId`: a name column,
possibly reached through a referring table, e.g. a Controller by the name of
the Bridge whose "controller" column points to it).  Tables and columns may
be abbreviated to any unambiguous prefix, case-insensitively, with "-" and
"_" alike.  Values use the ovsdb-idl string syntax of ovs-vsctl(8)
(:func:`datum_from_string`): ``key=value``, ``{k=v, ...}``, ``[a, b]``,
``"quoted"``, ``@name`` for rows created with ``--id``.

API: CtlError, CtlExit(status); CommandSyntax(name, min_args, max_args,
arguments, prerequisites, run, postprocess, options, mode RO|RW); RowId(table,
name_column, uuid_column); ShowTable(table, name_column, columns); Context
(.argv .options .view .symtab .tool .out(text) .try_again); DbView(idl, txn)
(.rows .exists .read .write .get .set .insert .delete .verify);
SymbolTable; parse_commands(argv, local_options, commands);
get_table(schema, name); get_column(schema, table, name); get_row(ctx,
table, record_id, must_exist); set_column(ctx, table, uuid, "col[:key]=value");
token_parse(s, i); atom_from_string(base, s, symtab=None);
datum_from_string(type, s, symtab=None); DB_COMMANDS (the generic
commands: comment, get, list, find, set, add, remove, clear, create,
destroy, wait-until; ``make_show_command(show_tables)`` builds "show").
A tool passes itself as ``ctx.tool``: it provides .schema, .row_ids (table
-> [RowId]), .invalidate_cache() and .warn(module, text).
"""

import math
import re
import uuid as uuidlib

from pyovs.ovsdb.data import Datum, atom_to_string
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.types import Type

RO, RW = "ro", "rw"

_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HEX_PREFIX_RE = re.compile(r"[0-9a-fA-F-]*\Z")

#: Longest value argument accepted (bad input is normal input).
MAX_ARG_LEN = 1 << 20


class CtlError(Exception):
    """A fatal error: the tool prints "PROGRAM: <text>" and exits 1."""


class CtlExit(Exception):
    """Leave with STATUS and no message (br-exists)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


# ---------------------------------------------------------------------------
# The ovsdb-idl string syntax.

_DELIMS = ":=, []{}!<>"


def token_parse(s, i):
    """One token of S from index I (OVS's ovsdb_token_parse): returns
    (token, next index).  Quotes are kept; a backslash escapes the next
    character (and is kept inside quotes)."""
    out = []
    in_quotes = False
    n = len(s)
    start = i
    while i < n:
        c = s[i]
        i += 1
        if c == "\\":
            if in_quotes:
                out.append("\\")
            if i >= n:
                raise CtlError("%s: backslash at end of argument" % s[start:])
            out.append(s[i])
            i += 1
        elif not in_quotes and c in _DELIMS:
            i -= 1
            break
        else:
            out.append(c)
            if c == '"':
                in_quotes = not in_quotes
    if in_quotes:
        raise CtlError("%s: quoted string extends past end of argument"
                       % s[start:])
    return "".join(out), i


def _unescape_json_string(body):
    import json
    try:
        v = json.loads('"' + body + '"')
    except ValueError:
        return None
    return v if isinstance(v, str) else None


_INT_RE = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+\Z")


def _str_to_int(s):
    if not _INT_RE.match(s):
        return None
    v = int(s)
    if v < -(1 << 63) or v >= (1 << 63):
        return None
    return v


def _str_to_double(s):
    try:
        v = float(s)
    except ValueError:
        return None
    if s.strip().lower() in ("nan", "+nan", "-nan", "inf", "+inf", "-inf",
                             "infinity", "+infinity", "-infinity") \
            or math.isinf(v) or math.isnan(v):
        return None
    return v


def _atom_from_string(base, s, symtab):
    t = base.type
    if t == "integer":
        v = _str_to_int(s)
        if v is None:
            raise CtlError('"%s" is not a valid integer or range' % s)
        return v
    if t == "real":
        v = _str_to_double(s)
        if v is None:
            raise CtlError('"%s" is not a valid real number' % s)
        return v + 0.0
    if t == "boolean":
        if s in ("true", "yes", "on", "1"):
            return True
        if s in ("false", "no", "off", "0"):
            return False
        raise CtlError('"%s" is not a valid boolean (use "true" or "false")' % s)
    if t == "string":
        if s == "":
            raise CtlError('An empty string is not valid as input; use "" to '
                           'represent the empty string')
        if s[0] == '"':
            if len(s) < 2 or s[-1] != '"':
                raise CtlError("%s: missing quote at end of quoted string" % s)
            v = _unescape_json_string(s[1:-1])
            if v is None:
                raise CtlError("%s: syntax error in quoted string" % s)
            return v
        return s
    # uuid
    if symtab is not None and s.startswith("@"):
        sym = symtab.insert(s)
        if base.ref_table is not None:
            if base.ref_type == "strong":
                sym.strong_ref = True
            else:
                sym.weak_ref = True
        return sym.uuid
    if not _UUID_RE.match(s):
        raise CtlError('"%s" is not a valid UUID' % s)
    return uuidlib.UUID(s)


def atom_from_string(base, s, symtab=None):
    """Atom of BaseType BASE from its string form S (constraints checked)."""
    atom = _atom_from_string(base, s, symtab)
    try:
        base.check_atom(atom)
    except OvsdbError as e:
        raise CtlError(e.to_string()) from None
    return atom


def _skip_spaces(s, i):
    while i < len(s) and s[i] in " \t\n\v\f\r":
        i += 1
    return i


def datum_from_string(type_, s, symtab=None):
    """Datum of TYPE_ from the string syntax S (OVS's ovsdb_datum_from_string)."""
    if len(s) > MAX_ARG_LEN:
        raise CtlError("argument too long")
    is_map = type_.value is not None
    i = _skip_spaces(s, 0)
    if i < len(s) and s[i] == ("{" if is_map else "["):
        end = "}" if is_map else "]"
        i = _skip_spaces(s, i + 1)
    elif i >= len(s):
        raise CtlError('use "{}" to specify the empty map' if is_map
                       else 'use "[]" to specify the empty set')
    else:
        end = ""
    values = {}
    n = 0
    while i < len(s) and s[i] != end:
        if s[i] in _DELIMS:
            raise CtlError('%s: unexpected "%s" parsing %s'
                           % (s, s[i], type_.to_english()))
        key_start = i
        tok, i = token_parse(s, i)
        rng = None
        if not is_map and type_.key.type == "integer":
            rng = _parse_range(tok)
        if rng is not None:
            # As OVS, the constraints are checked on the two ends.
            atom_from_string(type_.key, str(rng[0]), symtab)
            atom_from_string(type_.key, str(rng[1]), symtab)
            keys = range(rng[0], rng[1] + 1)
        else:
            keys = [atom_from_string(type_.key, tok, symtab)]
        value = None
        if is_map:
            i = _skip_spaces(s, i)
            if i >= len(s):
                raise CtlError('%s: syntax error at "' % s[key_start:])
            if s[i] != "=":
                raise CtlError('%s: syntax error at "%s" expecting "="'
                               % (s[key_start:], s[i]))
            i = _skip_spaces(s, i + 1)
            tok, i = token_parse(s, i)
            value = atom_from_string(type_.value, tok, symtab)
        for key in keys:
            n += 1
            if key in values:
                values[key] = _DUP
            else:
                values[key] = value
        i = _skip_spaces(s, i)
        if i < len(s) and s[i] == ",":
            i = _skip_spaces(s, i + 1)
    if (s[i] if i < len(s) else "") != end:
        raise CtlError('%s: missing "%s" at end of data' % (s, end))
    if end:
        i = _skip_spaces(s, i + 1)
        if i < len(s):
            raise CtlError('%s: trailing garbage after "%s"' % (s, end))
    what = "pair(s)" if is_map else "value(s)"
    if n < type_.n_min:
        raise CtlError("%s: %d %s specified but the minimum number is %d"
                       % (s, n, what, type_.n_min))
    if n > type_.n_max:
        raise CtlError("%s: %d %s specified but the maximum number is %d"
                       % (s, n, what, type_.n_max))
    if n != len(values) or _DUP in values.values():
        if is_map:
            raise CtlError("%s: map contains duplicate key" % s)
        raise CtlError("%s: set contains duplicate value" % s)
    return Datum(type_, values)


_DUP = object()
_RANGE_RE = re.compile(r"([+-]?[0-9]+)-([+-]?[0-9]+)\Z")

#: The most elements one "A-B" range may add (bad input is normal input).
MAX_RANGE = 1 << 16


def _parse_range(tok):
    """(start, end) for an integer range token "A-B", else None."""
    m = _RANGE_RE.match(tok)
    if m is None:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    if b < a:
        raise CtlError('"%s" is not a valid range. Range end cannot be before '
                       'start.' % tok)
    if b - a >= MAX_RANGE:
        raise CtlError('"%s" is not a valid range' % tok)
    return a, b


# ---------------------------------------------------------------------------
# Symbols (--id=@name).

class Symbol:
    __slots__ = ("uuid", "created", "strong_ref", "weak_ref")

    def __init__(self):
        self.uuid = uuidlib.uuid4()
        self.created = False
        self.strong_ref = False
        self.weak_ref = False


class SymbolTable:
    def __init__(self):
        self.symbols = {}

    def get(self, name):
        return self.symbols.get(name)

    def insert(self, name):
        sym = self.symbols.get(name)
        if sym is None:
            sym = self.symbols[name] = Symbol()
        return sym

    def create(self, name):
        """Define @NAME (an --id option); returns (symbol, was_new)."""
        if not name.startswith("@"):
            raise CtlError('row id "%s" does not begin with "@"' % name)
        new = name not in self.symbols
        sym = self.insert(name)
        if sym.created:
            raise CtlError('row id "%s" may only be specified on one --id option'
                           % name)
        sym.created = True
        return sym, new


# ---------------------------------------------------------------------------
# The database as the transaction so far would leave it.

class DbView:
    """Reads and writes through an IDL replica and a Transaction."""

    def __init__(self, idl, txn):
        self.idl = idl
        self.txn = txn
        self.schema = idl.schema
        self.inserted = {}      # UUID -> table
        self.deleted = set()    # (table, UUID)
        self._new_rows = {}     # table -> [UUID] inserted, in order
        self._partial_owner = {}    # (table, UUID) -> command of its partial writes

    def rows(self, table):
        deleted = self.deleted
        out = list(self.idl.data.get(table, ()))
        out.extend(self._new_rows.get(table, ()))
        if deleted:
            out = [u for u in out if (table, u) not in deleted]
        return out

    def exists(self, table, u):
        if (table, u) in self.deleted:
            return False
        return u in self.idl.data.get(table, ()) or self.inserted.get(u) == table

    def read(self, table, u, column):
        return self.txn.read(table, u, column)

    def _txnrow(self, table, u):
        from pyovs.ovsdb.idl import TxnRow
        return TxnRow(self.txn, table, u)

    def write(self, table, u, column, datum):
        self.txn.set(self._txnrow(table, u), column, datum)

    def verify(self, table, u, column):
        if u not in self.inserted:
            self.txn.verify(self._txnrow(table, u), column)

    def _partial(self, table, u, command):
        """Before COMMAND's partial write to row U: as OVS's ovs-vsctl, the
        row's partial writes from earlier commands of the chain become
        verified whole-column writes, so only the latest command's go out
        as a "mutate"."""
        row = self._txnrow(table, u)
        owner = self._partial_owner.get((table, u))
        if owner is not command and self.txn.has_partial(row):
            for column in self.txn.flush_partial(row):
                self.verify(table, u, column)
        self._partial_owner[(table, u)] = command
        return row

    def setkey(self, table, u, column, key, value, command=None):
        """Set KEY in map COLUMN of U (a "mutate" op, as OVS)."""
        self.txn.setkey(self._partial(table, u, command), column, key, value)

    def addvalues(self, table, u, column, datum, command=None):
        """Add DATUM's elements to set or map COLUMN of U (a "mutate")."""
        row = self._partial(table, u, command)
        if datum.type.value is None:
            for k in datum.keys():
                self.txn.addvalue(row, column, k)
        else:
            for k, v in datum.items():
                self.txn.setkey(row, column, k, v)

    def insert(self, table, u=None):
        row = self.txn.insert(table, u)
        self.inserted[row.uuid] = table
        self._new_rows.setdefault(table, []).append(row.uuid)
        return row.uuid

    def delete(self, table, u):
        """Delete row U.  As OVS's IDL does, a row of a non-root table is
        only dropped from this view: the server's garbage collection deletes
        it once nothing refers to it (and keeps it while something does)."""
        if (table, u) in self.deleted:
            return
        if self.schema.tables[table].is_root or u in self.inserted:
            self.txn.delete(self._txnrow(table, u))
        self.deleted.add((table, u))

    def column_type(self, table, column):
        return self.schema.tables[table].columns[column].type

    def get(self, table, u, column):
        """COLUMN of row U as a Python value (scalar, list or dict)."""
        d = self.read(table, u, column)
        t = d.type
        if t.value is not None:
            return dict(d.items())
        if t.n_min == 1 and t.n_max == 1:
            return d.scalar()
        return d.keys()

    def set(self, table, u, column, value):
        """Write a Python VALUE (as get() returns) into COLUMN."""
        t = self.column_type(table, column)
        if isinstance(value, Datum):
            d = Datum(t, dict(value.items()))
        elif t.value is not None:
            d = Datum(t, dict(value))
        elif isinstance(value, (list, tuple, set)):
            d = Datum(t, {v: None for v in value})
        elif value is None:
            d = Datum(t, {})
        else:
            d = Datum(t, {value: None})
        self.write(table, u, column, d)


# ---------------------------------------------------------------------------
# Commands.

class CommandSyntax:
    """One command: NAME, argument counts, usage text, the three phases,
    its OPTIONS ("--if-exists,--id=") and whether it may write (MODE)."""

    def __init__(self, name, min_args, max_args, arguments, prerequisites,
                 run, postprocess, options, mode):
        self.name = name
        self.min_args = min_args
        self.max_args = max_args
        self.arguments = arguments
        self.prerequisites = prerequisites
        self.run = run
        self.postprocess = postprocess
        self.options = options
        self.mode = mode


class Command:
    def __init__(self, syntax, argv, options):
        self.syntax = syntax
        self.argv = argv
        self.options = options      # dict "--name" -> value or None (ordered)
        self.output = []
        self.table = None


class RowId:
    """How records of a table may be named: rows of TABLE whose
    NAME_COLUMN equals the name (NAME_COLUMN None: the only row of TABLE,
    named "."), then followed through UUID_COLUMN if set."""

    def __init__(self, table, name_column, uuid_column):
        self.table = table
        self.name_column = name_column
        self.uuid_column = uuid_column


class Context:
    """What a command sees while it runs (OVS's struct ctl_context)."""

    def __init__(self, tool, command, view=None, symtab=None):
        self.tool = tool
        self.command = command
        self.argv = command.argv if command else []
        self.options = command.options if command else {}
        self.view = view
        self.symtab = symtab
        self.try_again = False
        self.invalidate_cache = tool.invalidate_cache

    @property
    def schema(self):
        return self.tool.schema

    def out(self, text):
        self.command.output.append(text)


def _lower_(c):
    return "_" if c == "-" else c.lower()


def score_partial_match(name, s):
    """How well S abbreviates NAME (OVS's score_partial_match)."""
    if name == s:
        return 1 << 32
    score = 0
    for i in range(len(name) + 1):
        a = name[i] if i < len(name) else ""
        b = s[i] if i < len(s) else ""
        if _lower_(a) != _lower_(b):
            break
        if a == "":
            return (1 << 32) - 1
        score += 1
    else:
        return score
    return score if i >= len(s) else 0


def _best_match(names, s):
    """(the one best abbreviation match or None, all names with the best
    score, the best score)."""
    best, best_score = [], 0
    for name in names:
        score = score_partial_match(name, s)
        if score > best_score:
            best, best_score = [name], score
        elif score == best_score and score:
            best.append(name)
    one = best[0] if len(best) == 1 else None
    return one, sorted(best), best_score


def get_table(schema, name):
    best, all_best, score = _best_match(schema.tables, name)
    if best is not None:
        return best
    if score:
        raise CtlError('"%s" matches multiple table names: %s'
                       % (name, ", ".join(all_best)))
    raise CtlError('unknown table "%s"' % name)


def get_column(schema, table, name):
    best, all_best, score = _best_match(schema.tables[table].columns, name)
    if best is not None:
        return best
    if score:
        raise CtlError('%s contains more than one column whose name matches '
                       '"%s": %s' % (table, name, ", ".join(all_best)))
    raise CtlError('%s does not contain a column whose name matches "%s"'
                   % (table, name))


def parse_column_key_value(schema, arg, table, operators=None, want_value=False):
    """Split ARG into (column, key string or None, operator index, value
    string or None) as OVS's parse_column_key_value()."""
    column_name, i = token_parse(arg, 0)
    if column_name == "":
        raise CtlError("%s: missing column name" % arg)
    column = get_column(schema, table, column_name)
    key = None
    if i < len(arg) and arg[i] == ":":
        key, i = token_parse(arg, i + 1)
    if want_value:
        ops = operators or ("=",)
        best, best_len = -1, 0
        for n, op in enumerate(ops):
            if len(op) > best_len and arg.startswith(op, i) and len(arg) > i + len(op):
                best, best_len = n, len(op)
        if best < 0:
            msg = '%s: argument does not end in "%s"' % (arg, ops[0])
            if len(ops) == 2:
                msg += ' or "%s"' % ops[1]
            elif len(ops) > 2:
                msg += "".join(', "%s"' % o for o in ops[1:-1])
                msg += ', or "%s"' % ops[-1]
            raise CtlError(msg + " followed by a value.")
        return column, key, best, arg[i + best_len:]
    if i < len(arg):
        raise CtlError('%s: trailing garbage "%s" in argument' % (arg, arg[i:]))
    return column, key, None, None


def pre_parse_column_key_value(ctx, arg, table):
    name, _ = token_parse(arg, 0)
    if name == "":
        raise CtlError("%s: missing column name" % arg)
    get_column(ctx.schema, table, name)


def _uuid_is_partial(s):
    return len(s) >= 4 and _HEX_PREFIX_RE.match(s) is not None


def get_row(ctx, table, record_id, must_exist):
    """The UUID of the record of TABLE named RECORD_ID, or None."""
    view = ctx.view
    u = None
    if _UUID_RE.match(record_id):
        cand = uuidlib.UUID(record_id)
        if view.exists(table, cand):
            u = cand
    if u is None:
        for rid in ctx.tool.row_ids.get(table, ()):
            u = _get_row_by_id(ctx, table, rid, record_id)
            if u is not None:
                break
    if u is None and _uuid_is_partial(record_id):
        prefix = record_id.lower()
        for cand in view.rows(table):
            if str(cand).startswith(prefix):
                if u is not None:
                    raise CtlError("%s contains 2 or more rows whose UUIDs begin "
                                   "with %s: at least %s and %s"
                                   % (table, record_id, u, cand))
                u = cand
    if must_exist and u is None:
        raise CtlError('no row "%s" in table %s' % (record_id, table))
    return u


def _get_row_by_id(ctx, table, rid, record_id):
    view = ctx.view
    if rid.name_column is None:
        if record_id != ".":
            return None
        rows = view.rows(rid.table)
        if len(rows) != 1:
            return None
        referrer = rows[0]
    else:
        referrer = None
        name_type = view.column_type(rid.table, rid.name_column)
        if name_type.key.type == "string":
            want = record_id
        else:
            try:
                want = _atom_from_string(name_type.key, record_id, None)
            except CtlError:
                return None
        for r in view.rows(rid.table):
            name = view.read(rid.table, r, rid.name_column)
            if len(name) == 1 and name.scalar() == want:
                if referrer is not None:
                    raise CtlError('multiple rows in %s match "%s"'
                                   % (table, record_id))
                referrer = r
        if referrer is None:
            return None
    if rid.uuid_column is None:
        return referrer
    view.verify(rid.table, referrer, rid.uuid_column)
    d = view.read(rid.table, referrer, rid.uuid_column)
    if len(d) == 1:
        u = d.scalar()
        if view.exists(table, u):
            return u
    return None


def check_mutable(ctx, table, u, column):
    """Immutable columns may only be written in rows this chain inserts."""
    if not ctx.schema.tables[table].columns[column].mutable \
            and u not in ctx.view.inserted:
        raise CtlError("cannot modify read-only column %s in table %s"
                       % (column, table))


_RELOPS = ("=", "!=", "<", ">", "<=", ">=",
           "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", "{not-in}")


def _includes_all(a, b):
    """Every key of datum A is in datum B (with equal values for maps)."""
    bd = b.values_dict()
    for k, v in a.items():
        if k not in bd or bd[k] != v:
            return False
    return True


def _evaluate_relop(a, b, op):
    if op in (0, 6):
        return a.sort_key() == b.sort_key()
    if op in (1, 7):
        return a.sort_key() != b.sort_key()
    if op == 2:
        return a.sort_key() < b.sort_key()
    if op == 3:
        return a.sort_key() > b.sort_key()
    if op == 4:
        return a.sort_key() <= b.sort_key()
    if op == 5:
        return a.sort_key() >= b.sort_key()
    if op == 8:
        return len(b) > len(a) and _includes_all(a, b)
    if op == 9:
        return len(a) > len(b) and _includes_all(b, a)
    if op in (10, 12):
        return _includes_all(a, b)
    if op == 11:
        return _includes_all(b, a)
    bd = b.values_dict()
    return not any(k in bd and bd[k] == v for k, v in a.items())


def is_condition_satisfied(ctx, table, u, arg):
    column, key_s, op, value_s = parse_column_key_value(
        ctx.schema, arg, table, _RELOPS, want_value=True)
    ctype = ctx.view.column_type(table, column)
    have = ctx.view.read(table, u, column)
    if key_s is not None:
        if ctype.value is None:
            raise CtlError("cannot specify key to check for non-map column %s"
                           % column)
        want_key = atom_from_string(ctype.key, key_s, ctx.symtab)
        vtype = Type(ctype.value, None, ctype.n_min, math.inf)
        b = datum_from_string(vtype, value_s, ctx.symtab)
        hd = have.values_dict()
        if want_key not in hd and op < 6:
            return False
        a = Datum(vtype, {hd[want_key]: None} if want_key in hd else {})
        return _evaluate_relop(a, b, op)
    want = datum_from_string(ctype, value_s, ctx.symtab)
    return _evaluate_relop(have, want, op)


# -- get ----------------------------------------------------------------------

def _is_uuid_arg(s):
    return s.lower() in ("_uuid", "-uuid")


def pre_cmd_get(ctx):
    if "--id" not in ctx.options and len(ctx.argv) <= 3:
        import os
        if os.isatty(1):
            ctx.tool.warn("db_ctl_base", '"get" command without row arguments or '
                          '"--id" is possibly erroneous')
    table = get_table(ctx.schema, ctx.argv[1])
    for arg in ctx.argv[3:]:
        if not _is_uuid_arg(arg):
            pre_parse_column_key_value(ctx, arg, table)


def cmd_get(ctx):
    id_ = ctx.options.get("--id")
    must_exist = "--if-exists" not in ctx.options
    record_id = ctx.argv[2]
    if id_ is not None and not must_exist:
        raise CtlError("--if-exists and --id may not be specified together")
    table = get_table(ctx.schema, ctx.argv[1])
    u = get_row(ctx, table, record_id, must_exist)
    if u is None:
        return
    if id_ is not None:
        sym, new = ctx.symtab.create(id_)
        if not new:
            raise CtlError('row id "%s" specified on "get" command was used '
                           'before it was defined' % id_)
        sym.uuid = u
        sym.strong_ref = True
    for arg in ctx.argv[3:]:
        if _is_uuid_arg(arg):
            ctx.out("%s\n" % u)
            continue
        column, key_s, _, _ = parse_column_key_value(ctx.schema, arg, table)
        ctx.view.verify(table, u, column)
        datum = ctx.view.read(table, u, column)
        ctype = datum.type
        if key_s is not None:
            if ctype.value is None:
                raise CtlError("cannot specify key to get for non-map column %s"
                               % column)
            key = atom_from_string(ctype.key, key_s, ctx.symtab)
            d = datum.values_dict()
            if key not in d:
                if must_exist:
                    raise CtlError('no key "%s" in %s record "%s" column %s'
                                   % (key_s, table, record_id, column))
            else:
                ctx.out(atom_to_string(d[key], ctype.value.type))
        else:
            ctx.out(datum.to_string())
        ctx.out("\n")


# -- list / find --------------------------------------------------------------

def parse_column_names(ctx, names, table):
    """[column or None for _uuid] for --columns=NAMES (all if None)."""
    if names is None:
        return [None] + sorted(ctx.schema.tables[table].columns)
    cols = []
    for name in re.split("[, ]+", names):
        if not name:
            continue
        if name.lower() == "_uuid":
            cols.append(None)
        else:
            cols.append(get_column(ctx.schema, table, name))
    if not cols:
        raise CtlError("must specify at least one column name")
    return cols


_UUID_TYPE = None


def _list_make_table(columns):
    from pyovs.ovsdb.table_format import Table
    t = Table()
    for c in columns:
        t.add_column(c or "_uuid")
    return t


def _list_record(ctx, table, u, columns, out):
    global _UUID_TYPE
    if u is None:
        return
    if _UUID_TYPE is None:
        from pyovs.ovsdb.types import BaseType
        _UUID_TYPE = Type(BaseType("uuid"))
    out.add_row()
    for c in columns:
        if c is None:
            out.add_cell(json=["uuid", str(u)], type=_UUID_TYPE)
        else:
            d = ctx.view.read(table, u, c)
            out.add_cell(json=d.to_json(), type=ctx.view.column_type(table, c))


def pre_cmd_list(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    parse_column_names(ctx, ctx.options.get("--columns"), table)


def cmd_list(ctx):
    must_exist = "--if-exists" not in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    columns = parse_column_names(ctx, ctx.options.get("--columns"), table)
    out = ctx.command.table = _list_make_table(columns)
    if len(ctx.argv) > 2:
        for rec in ctx.argv[2:]:
            _list_record(ctx, table, get_row(ctx, table, rec, must_exist),
                         columns, out)
    else:
        for u in ctx.view.rows(table):
            _list_record(ctx, table, u, columns, out)


def pre_cmd_find(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    parse_column_names(ctx, ctx.options.get("--columns"), table)
    for arg in ctx.argv[2:]:
        pre_parse_column_key_value(ctx, arg, table)


def cmd_find(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    columns = parse_column_names(ctx, ctx.options.get("--columns"), table)
    out = ctx.command.table = _list_make_table(columns)
    for u in ctx.view.rows(table):
        if all(is_condition_satisfied(ctx, table, u, arg) for arg in ctx.argv[2:]):
            _list_record(ctx, table, u, columns, out)


# -- set / add / remove / clear -------------------------------------------------

def set_column(ctx, table, u, arg):
    column, key_s, _, value_s = parse_column_key_value(
        ctx.schema, arg, table, None, want_value=True)
    check_mutable(ctx, table, u, column)
    ctype = ctx.view.column_type(table, column)
    if key_s is not None:
        if ctype.value is None:
            raise CtlError("cannot specify key to set for non-map column %s"
                           % column)
        key = atom_from_string(ctype.key, key_s, ctx.symtab)
        value = atom_from_string(ctype.value, value_s, ctx.symtab)
        ctx.view.setkey(table, u, column, key, value, ctx.command)
    else:
        ctx.view.write(table, u, column,
                       datum_from_string(ctype, value_s, ctx.symtab))


def pre_cmd_set(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    for arg in ctx.argv[3:]:
        pre_parse_column_key_value(ctx, arg, table)


def cmd_set(ctx):
    must_exist = "--if-exists" not in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    u = get_row(ctx, table, ctx.argv[2], must_exist)
    if u is None:
        return
    for arg in ctx.argv[3:]:
        set_column(ctx, table, u, arg)
    ctx.invalidate_cache()


def pre_cmd_add(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    get_column(ctx.schema, table, ctx.argv[3])


def cmd_add(ctx):
    must_exist = "--if-exists" not in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    column = get_column(ctx.schema, table, ctx.argv[3])
    u = get_row(ctx, table, ctx.argv[2], must_exist)
    if u is None:
        return
    check_mutable(ctx, table, u, column)
    ctype = ctx.view.column_type(table, column)
    add_type = Type(ctype.key, ctype.value, 1, math.inf)
    for arg in ctx.argv[4:]:
        add = datum_from_string(add_type, arg, ctx.symtab)
        ctx.view.addvalues(table, u, column, add, ctx.command)
    ctx.invalidate_cache()


def cmd_remove(ctx):
    must_exist = "--if-exists" not in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    column = get_column(ctx.schema, table, ctx.argv[3])
    u = get_row(ctx, table, ctx.argv[2], must_exist)
    if u is None:
        return
    check_mutable(ctx, table, u, column)
    ctype = ctx.view.column_type(table, column)
    d = dict(ctx.view.read(table, u, column).items())
    rm_type = Type(ctype.key, ctype.value, 1, math.inf)
    for arg in ctx.argv[4:]:
        try:
            rm = datum_from_string(rm_type, arg, ctx.symtab)
            keys_only = False
        except CtlError:
            if ctype.value is None:
                raise
            rm = datum_from_string(Type(ctype.key, None, 1, math.inf), arg,
                                   ctx.symtab)
            keys_only = True
        for k, v in rm.items():
            if k in d and (keys_only or ctype.value is None or d[k] == v):
                del d[k]
    if len(d) < ctype.n_min:
        raise CtlError('"remove" operation would put %d %s in column %s of '
                       'table %s but the minimum number is %d'
                       % (len(d), "values" if ctype.value is None else "pairs",
                          column, table, ctype.n_min))
    ctx.view.verify(table, u, column)
    ctx.view.write(table, u, column, Datum(ctype, d))
    ctx.invalidate_cache()


def pre_cmd_clear(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    for arg in ctx.argv[3:]:
        get_column(ctx.schema, table, arg)


def cmd_clear(ctx):
    must_exist = "--if-exists" not in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    u = get_row(ctx, table, ctx.argv[2], must_exist)
    if u is None:
        return
    for arg in ctx.argv[3:]:
        column = get_column(ctx.schema, table, arg)
        check_mutable(ctx, table, u, column)
        ctype = ctx.view.column_type(table, column)
        if ctype.n_min > 0:
            raise CtlError('"clear" operation cannot be applied to column %s of '
                           'table %s, which is not allowed to be empty'
                           % (column, table))
        ctx.view.write(table, u, column, Datum(ctype, {}))
    ctx.invalidate_cache()


# -- create / destroy / wait-until ----------------------------------------------

def pre_create(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    if "--id" not in ctx.options and not ctx.schema.tables[table].is_root:
        ctx.tool.warn("db_ctl_base", 'applying "create" command to table %s '
                      'without --id option will have no effect' % table)


def cmd_create(ctx):
    id_ = ctx.options.get("--id")
    table = get_table(ctx.schema, ctx.argv[1])
    u = None
    if id_ is not None:
        sym, _ = ctx.symtab.create(id_)
        if ctx.schema.tables[table].is_root:
            sym.strong_ref = True
        u = sym.uuid
    u = ctx.view.insert(table, u)
    for arg in ctx.argv[2:]:
        set_column(ctx, table, u, arg)
    ctx.command.created = u


def post_create(ctx):
    u = ctx.command.created
    real = ctx.view.txn.get_insert_uuid(u)
    ctx.out("%s\n" % (real or u))


def pre_cmd_destroy(ctx):
    get_table(ctx.schema, ctx.argv[1])


def cmd_destroy(ctx):
    must_exist = "--if-exists" not in ctx.options
    delete_all = "--all" in ctx.options
    table = get_table(ctx.schema, ctx.argv[1])
    if delete_all and len(ctx.argv) > 2:
        raise CtlError("--all and records argument should not be specified "
                       "together")
    if delete_all and not must_exist:
        raise CtlError("--all and --if-exists should not be specified together")
    if delete_all:
        for u in ctx.view.rows(table):
            ctx.view.delete(table, u)
    else:
        for rec in ctx.argv[2:]:
            u = get_row(ctx, table, rec, must_exist)
            if u is not None:
                ctx.view.delete(table, u)
    ctx.invalidate_cache()


def pre_cmd_wait_until(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    for arg in ctx.argv[3:]:
        pre_parse_column_key_value(ctx, arg, table)


def cmd_wait_until(ctx):
    table = get_table(ctx.schema, ctx.argv[1])
    u = get_row(ctx, table, ctx.argv[2], False)
    if u is None:
        ctx.try_again = True
        return
    for arg in ctx.argv[3:]:
        if not is_condition_satisfied(ctx, table, u, arg):
            ctx.try_again = True
            return


# -- show -----------------------------------------------------------------------

class ShowTable:
    """One table in "show": its NAME_COLUMN (None: print the UUID) and the
    COLUMNS printed under it."""

    def __init__(self, table, name_column, columns):
        self.table = table
        self.name_column = name_column
        self.columns = columns


def make_show_command(show_tables):
    by_name = {s.table: s for s in show_tables}

    def show_row(ctx, table, u, level, shown, out):
        view = ctx.view
        show = by_name.get(table)
        out.append(" " * (level * 4))
        if show is not None and show.name_column is not None:
            out.append("%s %s\n" % (table, view.read(table, u, show.name_column)
                                    .to_string()))
        else:
            out.append("%s\n" % u)
        if show is None or table in shown:
            return
        shown.add(table)
        for column in show.columns:
            d = view.read(table, u, column)
            ctype = d.type
            key_ref = ctype.key.ref_table if ctype.key.type == "uuid" else None
            val_ref = (ctype.value.ref_table if ctype.value is not None
                       and ctype.value.type == "uuid" else None)
            if key_ref is not None and key_ref in by_name:
                for ref in d.keys():
                    if view.exists(key_ref, ref):
                        show_row(ctx, key_ref, ref, level + 1, shown, out)
                continue
            if val_ref is not None and by_name.get(val_ref) is not None \
                    and by_name[val_ref].name_column is not None:
                ref_show = by_name[val_ref]
                out.append(" " * ((level + 1) * 4) + "%s:\n" % column)
                for k, v in d.items():
                    out.append(" " * ((level + 2) * 4))
                    out.append(atom_to_string(k, ctype.key.type) + "=")
                    if view.exists(val_ref, v):
                        out.append(view.read(val_ref, v, ref_show.name_column)
                                   .to_string())
                    else:
                        out.append('"<null>"')
                    out.append("\n")
                continue
            if d != Datum.default(ctype):
                out.append(" " * ((level + 1) * 4))
                out.append("%s: %s\n" % (column, d.to_string()))
        shown.discard(table)

    def cmd_show(ctx):
        out = []
        first = show_tables[0].table
        for u in ctx.view.rows(first):
            show_row(ctx, first, u, 0, set(), out)
        ctx.out("".join(out))

    return CommandSyntax("show", 0, 0, "", None, cmd_show, None, "", RO)


DB_COMMANDS = [
    CommandSyntax("comment", 0, math.inf, "[ARG]...", None, None, None, "", RO),
    CommandSyntax("get", 2, math.inf, "TABLE RECORD [COLUMN[:KEY]]...",
                  pre_cmd_get, cmd_get, None, "--if-exists,--id=", RO),
    CommandSyntax("list", 1, math.inf, "TABLE [RECORD]...", pre_cmd_list,
                  cmd_list, None, "--if-exists,--columns=", RO),
    CommandSyntax("find", 1, math.inf, "TABLE [COLUMN[:KEY]=VALUE]...",
                  pre_cmd_find, cmd_find, None, "--columns=", RO),
    CommandSyntax("set", 3, math.inf, "TABLE RECORD COLUMN[:KEY]=VALUE...",
                  pre_cmd_set, cmd_set, None, "--if-exists", RW),
    CommandSyntax("add", 4, math.inf, "TABLE RECORD COLUMN [KEY=]VALUE...",
                  pre_cmd_add, cmd_add, None, "--if-exists", RW),
    CommandSyntax("remove", 4, math.inf, "TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...",
                  pre_cmd_add, cmd_remove, None, "--if-exists", RW),
    CommandSyntax("clear", 3, math.inf, "TABLE RECORD COLUMN...", pre_cmd_clear,
                  cmd_clear, None, "--if-exists", RW),
    CommandSyntax("create", 2, math.inf, "TABLE COLUMN[:KEY]=VALUE...", pre_create,
                  cmd_create, post_create, "--id=", RW),
    CommandSyntax("destroy", 1, math.inf, "TABLE [RECORD]...", pre_cmd_destroy,
                  cmd_destroy, None, "--if-exists,--all", RW),
    CommandSyntax("wait-until", 2, math.inf, "TABLE RECORD [COLUMN[:KEY]=VALUE]...",
                  pre_cmd_wait_until, cmd_wait_until, None, "", RO),
]


# ---------------------------------------------------------------------------
# Parsing the command chain.

def _option_end(options, name):
    """The character after NAME in the OPTIONS string, as OVS's strstr()
    check reads it ("" at the end, None if absent)."""
    pos = options.find(name)
    if pos < 0:
        return None
    return options[pos + len(name):pos + len(name) + 1]


def _parse_command(argv, local_options, commands):
    options = dict(local_options)
    local_options.clear()
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        key, eq, value = argv[i].partition("=")
        if key in options:
            raise CtlError("'%s' option specified multiple times" % argv[i])
        options[key] = value if eq else None
        i += 1
    if i == len(argv):
        raise CtlError("missing command name (use --help for help)")
    name = argv[i]
    syntax = commands.get(name)
    if syntax is None:
        raise CtlError("unknown command '%s'; use --help for help" % name)
    for key, value in options.items():
        end = _option_end(syntax.options, key)
        if end not in ("=", ",", " ", ""):
            raise CtlError("'%s' command has no '%s' option" % (name, key))
        if (end == "=") != (value is not None):
            if end == "=":
                raise CtlError("missing argument to '%s' option on '%s' command"
                               % (key, name))
            raise CtlError("'%s' option on '%s' does not accept an argument"
                           % (key, name))
    n_arg = len(argv) - i - 1
    if n_arg < syntax.min_args:
        raise CtlError("'%s' command requires at least %d arguments"
                       % (syntax.name, syntax.min_args))
    if n_arg > syntax.max_args:
        if any(a.startswith("-") for a in argv[i + 1:]):
            raise CtlError("'%s' command takes at most %d arguments (note that "
                           "options must precede command names and follow a "
                           '"--" argument)' % (syntax.name, syntax.max_args))
        raise CtlError("'%s' command takes at most %d arguments"
                       % (syntax.name, syntax.max_args))
    return Command(syntax, argv[i:], options)


def parse_commands(argv, local_options, commands):
    """Split ARGV at "--" into Commands (LOCAL_OPTIONS, the options given
    before the first command, go to the first one)."""
    out = []
    start = 0
    for i in range(len(argv) + 1):
        if i == len(argv) or argv[i] == "--":
            if i > start:
                out.append(_parse_command(argv[start:i], local_options, commands))
            elif local_options:
                raise CtlError("missing command name (use --help for help)")
            start = i + 1
    if not out:
        raise CtlError("missing command name (use --help for help)")
    return out
