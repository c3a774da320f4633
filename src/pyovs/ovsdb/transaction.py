"""The OVSDB transaction engine: RFC 7047 "transact" operations executed
against an in-memory Database, with OVS's results, errors and commit-time
integrity rules.

How it works.  Operations run one after another directly on the tables:
a row touched for the first time is copied (a shallow copy of its column
dict; Datums are immutable) and the copy replaces it in table.rows, so
later operations and queries see the transaction's own effects.  Every
touched row is remembered as [old Row or None, new Row or None].  If an
operation fails, or the commit checks fail, the old Row objects are put
back and nothing else needs undoing; no table is ever copied whole.

At commit, as ovsdb-server's ovsdb_txn_precommit() does, in this order:
  1. rows whose columns did not really change leave the transaction;
  2. strong references: every reference a transaction adds or removes must
     name an existing row ("referential integrity violation"), and a
     deleted row must not be referenced any more;
  3. garbage collection: rows of non-root tables touched by the
     transaction (directly or through a reference count change) that no
     strong reference points to are deleted, repeatedly;
  4. maxRows;
  5. weak references to rows that are gone (or never existed, or are all
     zeros) are removed, modifying the referring rows, and the column's
     minimum count is checked;
  6. unique indexes;
  7. every changed row gets a fresh _version (inserted rows got theirs
     when inserted).
Only then are reference counts and indexes updated and the rows published.

Invariants: after execute() returns, either the database is exactly as it
was (failure, or a transaction that changed nothing) or every schema
constraint holds and TxnResult.changes names every row inserted, modified
or deleted, including those changed by weak-reference cleanup and garbage
collection.

Order. ovsdb-server visits rows in the order of its hash table of rows
(database.HmapOrder models it); a "select" whose columns omit _uuid keeps
the first of several equal rows; and a "select" without "sort" is sorted by
every column, in the order of OVS's hash table of column names
(TableSchema.default_sort()). When several members of a row object are bad,
or a transaction breaks several references, weak-reference counts or
indexes, the error is the one OVS reports: after a failure the check runs
again in the order of OVS's hash table of transaction rows to find it. One
known difference: OVS 3.1 sometimes leaves a dangling weak reference in a
row that the same transaction also modified (depending on hash order),
where pyovs always removes it.

Public API:
  execute(db, ops, *, read_only=False, elapsed_ms=0, locks=None)
      OPS: the operations (the "transact" params after the database name).
      LOCKS: a callable name -> bool, or a collection of held lock names
      (for "assert").  Returns a TxnResult.
  execute_params(db, params, **kw): checks params[0] is db's name first.
  TxnResult: .results (the JSON list to send back; None when needs_retry)
      .changes (Changes, or None when nothing changed or it failed)
      .error (the OvsdbError that failed it, or None) .needs_retry (a
      "wait" with a timeout is not yet satisfied: run it again after the
      next commit, passing elapsed_ms, or at .timeout_ms elapsed, when it
      fails with "timed out") .timeout_ms .comment (str or None) .durable
  Changes: .tables: dict table_name -> dict UUID -> (old Row|None,
      new Row|None); iterating gives (table_name, uuid, old, new); len().
"""

import math
import operator
import uuid as uuidlib

from pyovs.ovsdb.condition import Condition
from pyovs.ovsdb.data import ZERO_UUID, Datum, is_valid_uuid_string
from pyovs.ovsdb.database import HmapOrder, Row, index_key
from pyovs.ovsdb.error import OvsdbError, Parser, syntax_error
from pyovs.ovsdb.mutation import MutationSet
from pyovs.ovsdb.schema import column_set_from_json

_set = dict.__setitem__
_del = dict.__delitem__
_uuid4 = uuidlib.uuid4
_UUID_INT = operator.attrgetter("int")
_READ_ONLY_OPS = {"select", "wait", "abort", "comment", "assert"}


class Changes:
    __slots__ = ("tables",)

    def __init__(self, tables=None):
        self.tables = tables if tables is not None else {}

    def __iter__(self):
        for tname, rows in self.tables.items():
            for u, (old, new) in rows.items():
                yield tname, u, old, new

    def __len__(self):
        return sum(len(r) for r in self.tables.values())

    def __bool__(self):
        return any(self.tables.values())

    def __repr__(self):
        return "Changes(%r)" % {t: len(r) for t, r in self.tables.items()}


class TxnResult:
    __slots__ = ("results", "changes", "error", "needs_retry", "timeout_ms",
                 "comment", "durable")

    def __init__(self, results, changes=None, error=None, needs_retry=False,
                 timeout_ms=None, comment=None, durable=False):
        self.results = results
        self.changes = changes
        self.error = error
        self.needs_retry = needs_retry
        self.timeout_ms = timeout_ms
        self.comment = comment
        self.durable = durable

    def __repr__(self):
        return "TxnResult(%r)" % (self.results,)


class _Retry(Exception):
    pass


class _Txn:
    def __init__(self, db, elapsed_ms, locks):
        self.db = db
        self.symtab = {}
        self.created = set()
        self.rows = {}          # table name -> {uuid: [old, new]}
        self.comments = []
        self.durable = False
        self.elapsed_ms = elapsed_ms
        self.timeout_ms = math.inf
        self.locks = locks

    # -- row bookkeeping ----------------------------------------------------
    def modify(self, table, row):
        """The transaction's private, mutable copy of ROW."""
        trows = self.rows.setdefault(table.schema.name, {})
        entry = trows.get(row.uuid)
        if entry is not None:
            return entry[1]
        new = Row(row.uuid, row.version, dict(row.columns))
        trows[row.uuid] = [row, new]
        _set(table.rows, row.uuid, new)
        return new

    def insert(self, table, row):
        trows = self.rows.setdefault(table.schema.name, {})
        trows[row.uuid] = [None, row]
        table.rows._insert(row.uuid, row)

    def delete(self, table, row):
        trows = self.rows.setdefault(table.schema.name, {})
        entry = trows.get(row.uuid)
        if entry is None:
            trows[row.uuid] = [row, None]
        else:
            entry[1] = None
        table.rows._remove(row.uuid)

    def rollback(self):
        tables = self.db.tables
        for tname, trows in self.rows.items():
            rows = tables[tname].rows
            for u, (old, new) in trows.items():
                if old is None:
                    if new is not None:
                        rows._remove(u)
                elif new is None:
                    rows._insert(u, old)
                else:
                    _set(rows, u, old)
        self.rows = {}

    # -- helpers for operations -----------------------------------------------
    def table(self, p, member="table"):
        name = p.member(member, "id")
        if name is None:
            return None
        t = self.db.tables.get(name)
        if t is None:
            p.raise_error("No table named %s." % name)
        return t

    def query(self, table, cond, hmap_order=False):
        """Rows of TABLE matching COND, as a list (safe to modify after), in
        OVS's hmap order if HMAP_ORDER (else in no particular order)."""
        for c in cond.clauses:
            if c.function == "==" and c.column.name == "_uuid":
                row = table.rows.get(c.arg.scalar())
                return [row] if row is not None and cond.evaluate(row) else []
        ev = cond.evaluate
        rows = table.iter_rows() if hmap_order else table.rows.values()
        return [r for r in rows if ev(r)]

    def row_from_json(self, table, j, symtab):
        """OVS's ovsdb_row_from_json(): dict column name -> Datum."""
        if type(j) is not dict:
            raise syntax_error(j, "row must be JSON object")
        try:
            return _row_from_json(table.schema, j, j, symtab)
        except OvsdbError:
            # Report the error OVS would: it visits the members in the
            # order of its hash table, not in the order they were sent.
            _row_from_json(table.schema, j, _shash_order(j), symtab)
            raise


def _shash_order(j):
    try:
        from pyovs.ovsdb.log import shash_order
    except ImportError:             # pragma: no cover
        return list(j)
    return shash_order(list(j))


def _row_from_json(ts, j, names, symtab):
    out = {}
    for name in names:
        col = ts.get_column(name)
        if col is None:
            raise syntax_error(j, "No column %s in table %s."
                               % (name, ts.name), "unknown column")
        out[name] = Datum.from_json(col.type, j[name], symtab)
    return out


# -- operations ----------------------------------------------------------------

def _op_insert(x, p, result):
    table = x.table(p)
    uuid_name = p.member("uuid-name", "id", optional=True)
    uuid_j = p.member("uuid", "string", optional=True)
    row_j = p.member("row", "object")
    if p.error is not None:
        raise p.error
    if uuid_j is not None:
        if not is_valid_uuid_string(uuid_j):
            raise syntax_error(uuid_j, "bad uuid")
        row_uuid = uuidlib.UUID(uuid_j)
        entry = x.rows.get(table.schema.name, {}).get(row_uuid)
        if row_uuid in table.rows or (entry is not None
                                      and entry[0] is not None):
            raise syntax_error(
                uuid_j, "This UUID would duplicate a UUID already present "
                "within the table or deleted within the same transaction.",
                "duplicate uuid")
    if uuid_name is not None:
        if uuid_name in x.created:
            raise syntax_error(uuid_name, 'This "uuid-name" appeared on an '
                               'earlier "insert" operation.',
                               "duplicate uuid-name")
        if uuid_j is not None:
            x.symtab[uuid_name] = row_uuid
        else:
            row_uuid = x.symtab.get(uuid_name)
            if row_uuid is None:
                row_uuid = x.symtab[uuid_name] = _uuid4()
        x.created.add(uuid_name)
    elif uuid_j is None:
        row_uuid = _uuid4()
    ts = table.schema
    defaults = getattr(ts, "_default_row", None)
    if defaults is None:
        defaults = ts._default_row = {n: Datum.default(c.type)
                                      for n, c in ts.columns.items()}
    columns = dict(defaults)
    if row_j:
        for name, vj in x.row_from_json(table, row_j, x.symtab).items():
            if name[0] != "_":
                columns[name] = vj
    x.insert(table, Row(row_uuid, _uuid4(), columns))
    result["uuid"] = ["uuid", str(row_uuid)]


def _column_names(j, ts):
    if j is None:
        return list(ts.all_columns)
    return column_set_from_json(j, ts)


def _op_select(x, p, result):
    table = x.table(p)
    where = p.member("where", "array")
    columns_j = p.member("columns", "array", optional=True)
    sort_j = p.member("sort", "array", optional=True)
    if p.error is not None:
        raise p.error
    ts = table.schema
    cond = Condition.from_json(ts, where, x.symtab)
    columns = _column_names(columns_j, ts)
    if sort_j is not None:
        sort = column_set_from_json(sort_j, ts)
    else:
        # Without "sort", OVS sorts by every column, in the order of its
        # hash table of column names; nothing after _uuid can matter.
        sort = ts.default_sort()
    rows = x.query(table, cond, hmap_order=True)
    if "_uuid" not in columns:
        # Rows equal in COLUMNS appear once: the first the hmap visits.
        seen = {}
        for r in rows:
            seen.setdefault(index_key(r, columns), r)
        rows = list(seen.values())
    if sort and len(rows) > 1:
        # (OVS's quicksort picks random pivots, so it leaves ties in random
        # order; here they keep the hmap order.)
        rows.sort(key=lambda r: tuple(r.get(n).sort_key() for n in sort))
    result["rows"] = [r.to_json(columns) for r in rows]


def _op_update(x, p, result):
    table = x.table(p)
    where = p.member("where", "array")
    row_j = p.member("row", "object")
    if p.error is not None:
        raise p.error
    ts = table.schema
    new = x.row_from_json(table, row_j, x.symtab)
    for name in new:
        if not ts.get_column(name).mutable:
            raise syntax_error(p.json, "Cannot update immutable column %s "
                               "in table %s." % (name, ts.name),
                               "constraint violation")
    cond = Condition.from_json(ts, where, x.symtab)
    n = 0
    items = list(new.items())
    for row in x.query(table, cond):
        n += 1
        cols = row.columns
        for name, d in items:
            if cols[name] != d:
                w = x.modify(table, row).columns
                for name2, d2 in items:
                    w[name2] = d2
                break
    result["count"] = n


def _op_mutate(x, p, result):
    table = x.table(p)
    where = p.member("where", "array")
    mutations_j = p.member("mutations", "array")
    if p.error is not None:
        raise p.error
    ts = table.schema
    mutations = MutationSet.from_json(ts, mutations_j, x.symtab)
    cond = Condition.from_json(ts, where, x.symtab)
    n = 0
    for row in x.query(table, cond):
        n += 1
        mutations.apply(x.modify(table, row).columns)
    result["count"] = n


def _op_delete(x, p, result):
    table = x.table(p)
    where = p.member("where", "array")
    if p.error is not None:
        raise p.error
    cond = Condition.from_json(table.schema, where, x.symtab)
    n = 0
    for row in x.query(table, cond):
        n += 1
        x.delete(table, row)
    result["count"] = n


def _op_wait(x, p, result):
    timeout = p.member("timeout", "number", optional=True)
    where = p.member("where", "array")
    columns_j = p.member("columns", "array", optional=True)
    until = p.member("until", "string")
    rows_j = p.member("rows", "array")
    table = x.table(p)
    if p.error is not None:
        raise p.error
    ts = table.schema
    cond = Condition.from_json(ts, where, x.symtab)
    columns = _column_names(columns_j, ts)
    if timeout is not None:
        timeout_ms = timeout if type(timeout) is int else int(timeout)
        if timeout_ms < 0:
            raise syntax_error(timeout, "timeout must be nonnegative")
        x.timeout_ms = min(x.timeout_ms, timeout_ms)
    else:
        timeout_ms = math.inf
    if until not in ("==", "!="):
        raise syntax_error(until, '"until" must be "==" or "!="')
    expected = set()
    for rj in rows_j:
        vals = x.row_from_json(table, rj, x.symtab)
        key = []
        for n in columns:
            d = vals.get(n)
            if d is None:
                d = Datum.default(ts.get_column(n).type)
            key.append(d)
        expected.add(tuple(key))
    actual = {index_key(r, columns) for r in x.query(table, cond)}
    if (expected == actual) == (until == "=="):
        return
    if x.elapsed_ms < timeout_ms:
        raise _Retry()
    raise OvsdbError("timed out", '"where" clause test failed')


def _op_commit(x, p, result):
    durable = p.member("durable", "boolean")
    if durable:
        x.durable = True


def _op_abort(x, p, result):
    raise OvsdbError("aborted", "aborted by request")


def _op_comment(x, p, result):
    comment = p.member("comment", "string")
    if comment is not None:
        x.comments.append(comment)


def _op_assert(x, p, result):
    lock = p.member("lock", "id")
    if lock is None:
        return
    locks = x.locks
    if locks is not None:
        held = locks(lock) if callable(locks) else lock in locks
        if held:
            return
    raise OvsdbError("not owner", "Asserted lock %s not held." % lock)


_EXECUTORS = {
    "insert": _op_insert, "select": _op_select, "update": _op_update,
    "mutate": _op_mutate, "delete": _op_delete, "wait": _op_wait,
    "commit": _op_commit, "abort": _op_abort, "comment": _op_comment,
    "assert": _op_assert,
}


# -- entry points ----------------------------------------------------------------

def execute_params(db, params, **kw):
    """Execute "transact" PARAMS (database name first)."""
    if type(params) is not list:
        err = syntax_error(params, "array expected")
        return TxnResult([err.to_json()], error=err)
    if not params or params[0] != db.schema.name:
        err = syntax_error(params, "database name expected as first "
                           "parameter")
        return TxnResult([err.to_json()], error=err)
    return execute(db, params[1:], **kw)


def execute(db, ops, *, read_only=False, elapsed_ms=0, locks=None):
    x = _Txn(db, elapsed_ms, locks)
    n_ops = len(ops)
    results = []
    error = None
    reserved = db.schema.name.startswith("_")
    try:
        for i, op in enumerate(ops, 1):
            p = Parser(op, "ovsdb operation %d of %d" % (i, n_ops))
            name = p.member("op", "id")
            result = {}
            error = None
            if name is not None:
                executor = _EXECUTORS.get(name)
                if executor is None:
                    p.raise_error('No operation "%s"' % name)
                else:
                    try:
                        executor(x, p, result)
                    except OvsdbError as e:
                        error = e
            try:
                p.finish()
            except OvsdbError as e:
                error = e
            if error is None and name not in _READ_ONLY_OPS:
                if read_only:
                    error = OvsdbError(
                        "not allowed", "%s operation not allowed when "
                        "database server is in read only mode" % name)
                elif reserved:
                    error = OvsdbError(
                        "not allowed", "%s operation not allowed on table "
                        "in reserved database %s" % (name, db.schema.name))
            if error is not None:
                results.append(error.to_json())
                break
            results.append(result)
    except _Retry:
        x.rollback()
        return TxnResult(None, needs_retry=True, timeout_ms=x.timeout_ms)
    except BaseException:
        x.rollback()
        raise
    while len(results) < n_ops:
        results.append(None)
    comment = "\n".join(x.comments) if x.comments else None
    if error is not None:
        x.rollback()
        return TxnResult(results, error=error, comment=comment)
    try:
        changes = _commit(x)
    except OvsdbError as e:
        x.rollback()
        results.append(e.to_json())
        return TxnResult(results, error=e, comment=comment)
    except BaseException:
        x.rollback()
        raise
    return TxnResult(results, changes, comment=comment, durable=x.durable)


# -- commit ----------------------------------------------------------------------

def _ref_targets(col, d):
    """(target table, uuid) for every strong reference in D (a dict, or a
    list of keys for a set column)."""
    t = col.type
    out = []
    if t.key.is_strong_ref():
        out.extend((t.key.ref_table, k) for k in d)
    if t.value is not None and t.value.is_strong_ref():
        out.extend((t.value.ref_table, v) for v in d.values())
    return out


def _commit(x):
    db = x.db
    tables = db.tables
    # 1. Drop rows that did not change.
    for tname, trows in x.rows.items():
        rows = tables[tname].rows
        for u in [u for u, (old, new) in trows.items()
                  if (old is None and new is None)
                  or (old is not None and new is not None
                      and old.columns == new.columns)]:
            old = trows.pop(u)[0]
            if old is not None:
                _set(rows, u, old)
    if not any(x.rows.values()):
        x.rows = {}
        return None
    db.ensure_derived()

    # 2. Strong references.
    delta = {}                      # (table, uuid) -> change in n_refs
    touched = []                    # every (table, uuid) adjust() saw

    def exists(tname, u):
        trows = x.rows.get(tname)
        return u in tables[tname].rows or (trows is not None and u in trows)

    def adjust(tname, row, col, targets, d):
        for rt, u in targets:
            if not exists(rt, u):
                raise OvsdbError(
                    "referential integrity violation",
                    "Table %s column %s row %s references nonexistent row "
                    "%s in table %s." % (tname, col.name, row.uuid, u, rt))
            key = (rt, u)
            delta[key] = delta.get(key, 0) + d
            touched.append(key)

    def row_refs_changed(tname, old, new):
        for col in tables[tname].schema.strong_ref_columns:
            name = col.name
            od = old.columns[name].values_dict() if old is not None else {}
            nd = new.columns[name].values_dict() if new is not None else {}
            if od is nd:
                continue
            if col.type.value is None:
                # Integer sets: uuid.UUID hashes in Python, ints in C.  The
                # lists keep the datum's order, the order OVS checks in.
                oi = set(map(_UUID_INT, od))
                ni = set(map(_UUID_INT, nd))
                added = [k for k in nd if k.int not in oi]
                removed = [k for k in od if k.int not in ni]
                adjust(tname, new or old, col, _ref_targets(col, added), 1)
                adjust(tname, new or old, col, _ref_targets(col, removed), -1)
            else:
                added = {k: v for k, v in nd.items()
                         if k not in od or od[k] != v}
                removed = {k: v for k, v in od.items()
                           if k not in nd or nd[k] != v}
                adjust(tname, new or old, col, _ref_targets(col, added), 1)
                adjust(tname, new or old, col, _ref_targets(col, removed), -1)

    def n_refs(tname, u):
        return tables[tname].n_refs.get(u, 0) + delta.get((tname, u), 0)

    def count_refs(order):
        for tname, trows in list(x.rows.items()):
            if not tables[tname].schema.strong_ref_columns:
                continue
            for u, (old, new) in order(trows):
                row_refs_changed(tname, old, new)
        for tname, trows in x.rows.items():
            for u, (old, new) in order(trows):
                if new is None and n_refs(tname, u) > 0:
                    raise OvsdbError(
                        "referential integrity violation",
                        "cannot delete %s row %s because of %d remaining "
                        "reference(s)" % (tname, u, n_refs(tname, u)))

    try:
        count_refs(lambda trows: list(trows.items()))
    except OvsdbError as e:
        # Report the problem OVS would report first: it visits the
        # transaction's rows in the order of its hash table of them.
        delta.clear()
        del touched[:]
        count_refs(_hmap_ordered)
        raise e
    # 3. Garbage collection.
    candidates = []
    for tname, trows in x.rows.items():
        if not tables[tname].schema.is_root:
            candidates.extend((tname, u) for u, e in trows.items()
                              if e[1] is not None)
    candidates.extend(k for k in delta if not tables[k[0]].schema.is_root)
    while candidates:
        start = len(touched)
        for tname, u in candidates:
            table = tables[tname]
            row = table.rows.get(u)
            if row is None or n_refs(tname, u) > 0:
                continue
            x.delete(table, row)
            row_refs_changed(tname, row, None)
        candidates = [k for k in touched[start:]
                      if not tables[k[0]].schema.is_root]
    for tname in list(x.rows):
        trows = x.rows[tname]
        for u in [u for u, e in trows.items()
                  if e[0] is None and e[1] is None]:
            del trows[u]

    # 4. maxRows.
    for tname in x.rows:
        table = tables[tname]
        max_rows = table.schema.max_rows
        if max_rows is not None and len(table.rows) > max_rows:
            raise OvsdbError(
                "constraint violation",
                'transaction causes "%s" table to contain %d rows, greater '
                'than the schema-defined limit of %d row(s)'
                % (tname, len(table.rows), max_rows))

    # 5. Weak references.
    try:
        _weak_refs(x)
    except OvsdbError as e:
        _weak_refs(x, _hmap_ordered)      # the error OVS would report
        raise e
    for tname, trows in x.rows.items():
        rows = tables[tname].rows
        for u in [u for u, (old, new) in trows.items()
                  if old is not None and new is not None
                  and old.columns == new.columns]:
            _set(rows, u, trows.pop(u)[0])
    if not any(x.rows.values()):
        x.rows = {}
        return None

    # 6. Unique indexes.
    def check_indexes(order):
        for tname, trows in x.rows.items():
            table = tables[tname]
            if table.indexes and trows:
                _check_indexes(table, trows, order(trows))

    try:
        check_indexes(lambda trows: list(trows.items()))
    except OvsdbError as e:
        check_indexes(_hmap_ordered)        # the error OVS would report
        raise e

    # 7. New versions; publish.
    changes = {}
    for tname, trows in x.rows.items():
        if not trows:
            continue
        table = tables[tname]
        out = changes[tname] = {}
        for u, (old, new) in trows.items():
            if old is not None and new is not None:
                new.version = _uuid4()      # inserted rows already have one
            out[u] = (old, new)
        if table.indexes:
            for ix, names in zip(table.indexes, table.schema.indexes):
                for u, (old, new) in trows.items():
                    if old is not None:
                        k = index_key(old, names)
                        if ix.get(k) == u:
                            del ix[k]
                for u, (old, new) in trows.items():
                    if new is not None:
                        ix[index_key(new, names)] = u
    for (tname, u), d in delta.items():
        if d:
            counts = tables[tname].n_refs
            n = counts.get(u, 0) + d
            if n > 0 and u in tables[tname].rows:
                counts[u] = n
            else:
                counts.pop(u, None)
    x.rows = {}
    return Changes(changes)


def _hmap_ordered(trows):
    """TROWS's items in the order OVS's hmap of transaction rows visits
    them (rows join it when the transaction first touches them)."""
    order = HmapOrder()
    for u in trows:
        order.insert(u)
    return [(u, trows[u]) for u in order]


def _weak_refs(x, order=None):
    tables = x.db.tables
    schema = x.db.schema
    if not schema.has_weak_refs:
        return
    deleted = {}
    for tname, trows in x.rows.items():
        d = [u for u, e in trows.items() if e[1] is None]
        if d:
            deleted[tname] = set(d)
    if deleted:
        # Rows outside the transaction that point weakly at deleted rows.
        for ts in schema.tables.values():
            for col in ts.weak_ref_columns:
                t = col.type
                kt = t.key.ref_table if t.key.is_weak_ref() else None
                vt = t.value.ref_table if t.value is not None \
                    and t.value.is_weak_ref() else None
                kd = deleted.get(kt)
                vd = deleted.get(vt)
                if kd is None and vd is None:
                    continue
                table = tables[ts.name]
                name = col.name
                for row in list(table.rows.values()):
                    d = row.columns[name].values_dict()
                    if (kd is not None and not kd.isdisjoint(d)) or \
                            (vd is not None and not vd.isdisjoint(d.values())):
                        x.modify(table, row)
    for tname, trows in x.rows.items():
        ts = tables[tname].schema
        if not ts.weak_ref_columns:
            continue
        for u, (old, new) in (order(trows) if order is not None
                              else list(trows.items())):
            if new is None:
                continue
            for col in ts.weak_ref_columns:
                name = col.name
                datum = new.columns[name]
                if old is not None and old.columns[name] is datum \
                        and not deleted:
                    continue
                t = col.type
                krows = tables[t.key.ref_table].rows \
                    if t.key.is_weak_ref() else None
                vrows = tables[t.value.ref_table].rows \
                    if t.value is not None and t.value.is_weak_ref() else None
                d = datum.values_dict()
                zero = False
                keep = {}
                for k, v in d.items():
                    if krows is not None and k not in krows:
                        zero = zero or k == ZERO_UUID
                        continue
                    if vrows is not None and v not in vrows:
                        zero = zero or v == ZERO_UUID
                        continue
                    keep[k] = v
                if len(keep) == len(d):
                    continue
                if len(keep) >= t.n_min:
                    new.columns[name] = Datum(t, keep, True)
                else:
                    if zero and old is None:
                        raise OvsdbError(
                            "constraint violation",
                            'Weak reference column "%s" in "%s" row %s '
                            '(inserted within this transaction) contained '
                            'all-zeros UUID (probably as the default value '
                            'for this column) but deleting this value caused '
                            'a constraint volation because this column is '
                            'not allowed to be empty.' % (name, tname, u))
                    raise OvsdbError(
                        "constraint violation",
                        'Deletion of %d weak reference(s) to deleted (or '
                        'never-existing) rows from column "%s" in "%s" row '
                        '%s %scaused this column to become empty, but '
                        'constraints on this column disallow an empty '
                        'column.' % (len(d) - len(keep), name, tname, u,
                                     "" if old is not None else
                                     "(inserted within this transaction) "))


def _describe(names, entry):
    if entry is None:
        return ("existed in the database before this transaction and was "
                "not modified by the transaction.")
    old, new = entry
    if old is None:
        return "was inserted by this transaction."
    if index_key(old, names) == index_key(new, names):
        return ("existed in the database before this transaction, which "
                "modified some of the row's columns but not any columns in "
                "this index.")
    return ("had the following index values before the transaction: %s."
            % _english_list(d.to_string() for d in index_key(old, names)))


def _english_list(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _duplicate(table, names, a, b, trows):
    """The error for rows A and B, which share a value of index NAMES."""
    # OVS names first the greater of the two, comparing every column in its
    # order of column names (that is, as a "select" without "sort" does).
    order = table.schema.default_sort()
    if (tuple(a.get(n).sort_key() for n in order)
            < tuple(b.get(n).sort_key() for n in order)):
        a, b = b, a
    values = _english_list(d.to_string() for d in index_key(a, names))
    s = ('Transaction causes multiple rows in "%s" table to have identical '
         'values (%s) for index on %s %s.  '
         % (table.schema.name, values,
            "column" if len(names) == 1 else "columns",
            _english_list('"%s"' % n for n in names)))
    s += "First row, with UUID %s, %s" % (
        a.uuid, _describe(names, trows.get(a.uuid)))
    s += "  Second row, with UUID %s, %s" % (
        b.uuid, _describe(names, trows.get(b.uuid)))
    return OvsdbError("constraint violation", s)


def _check_indexes(table, trows, items):
    """Check ITEMS (TROWS's, in some order) as OVS's
    check_index_uniqueness() does, row by row, index by index."""
    indexes = list(zip(table.indexes, table.schema.indexes))
    seen = [{} for _ in indexes]
    for u, (old, new) in items:
        if new is None:
            continue
        for (ix, names), seen_ix in zip(indexes, seen):
            k = index_key(new, names)
            other = seen_ix.get(k)
            if other is not None:
                raise _duplicate(table, names, other, new, trows)
            owner = ix.get(k)
            if owner is not None and owner != u and owner not in trows:
                raise _duplicate(table, names, table.rows[owner], new, trows)
            seen_ix[k] = new
