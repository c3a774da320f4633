"""OVSDB monitors: what a client asked to watch, and the updates it gets.

A client watches tables with one of three methods, which differ only in
the shape of what they receive (ovsdb-server(7), RFC 7047 section 4.1.5):

* "monitor" -> "update" notifications.  A row update is {"old": ..., "new":
  ...}: "new" carries every selected column, "old" on a modify carries only
  the columns that changed.
* "monitor_cond" -> "update2".  A row update is {"initial"|"insert": {the
  non-default columns}}, {"modify": {column: diff}} or {"delete": null}.
  A diff is the new value for a column holding at most one element, the
  symmetric difference for a set, and for a map the removed pairs plus the
  added or changed ones (new value), so applying it is "toggle each element".
* "monitor_cond_since" -> "update3": update2 plus the id of the transaction
  that produced it, so that a reconnecting client can ask for the changes
  since the last transaction it saw instead of the whole database.

A Monitor is parsed from the request (columns, "select" flags, "where"
conditions) against the schema, and then turns each commit's Changes into
its table-updates JSON: pure functions of (monitor, changes), so one commit
costs a walk over the changed rows per monitor, and the output is computed
before anything is written to a socket.

For the conditional kinds a row is visible when any clause of the table's
condition holds for it (an empty condition: every row).  A modify that makes a row visible is sent as an "insert", one that
hides it as a "delete".  monitor_cond_change swaps the condition and sends
exactly those transitions for every row of the table.

Transaction history (TxnHistory) keeps the last transactions' changes by
id, for monitor_cond_since's "found" answer.  ovsdb-server keeps it only for
clustered databases; for a standalone database the answer is always "not
found" with the all-zeros id, and the server does the same.

API:
  Monitor.parse(db_schema, version, monitor_id, requests) -> Monitor
      version 1 ("monitor"), 2 ("monitor_cond"), 3 ("monitor_cond_since");
      raises OvsdbError("syntax error") with OVS's texts.
  monitor.initial(db) -> table-updates (dict, maybe empty)
  monitor.updates(changes) -> table-updates or None
  monitor.change_condition(db, requests) -> table-updates or None
  monitor.notify_method / monitor.notify_params(updates, last_id)
  merge_changes(list_of_changes) -> [(table, uuid, old, new)]
  TxnHistory(max_txns): add(txn_id, changes), since(txn_id) -> list|None
  ZERO_UUID
"""

import collections
import uuid as uuid_mod

from pyovs.ovsdb.condition import Condition
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.error import syntax_error
from pyovs.ovsdb.file import datum_diff

ZERO_UUID = uuid_mod.UUID(int=0)

SELECT_KINDS = ("initial", "insert", "delete", "modify")
SELECT_ALL = frozenset(SELECT_KINDS)

_NOTIFY = {1: "update", 2: "update2", 3: "update3"}
_METHOD = {1: "monitor", 2: "monitor_cond", 3: "monitor_cond_since"}

_NO_SYNTAX = None


# ---------------------------------------------------------------------------
# Column values as JSON.

_META_COLUMNS = ("_uuid", "_version")


def _meta_json(row, name):
    return ["uuid", str(row.uuid if name == "_uuid" else row.version)]


class MonitoredTable:
    """One table of a monitor: columns, per-column select, condition."""

    __slots__ = ("name", "schema", "columns", "select", "any_select",
                 "condition", "condition_json", "defaults")

    def __init__(self, name, schema):
        self.name = name
        self.schema = schema
        self.columns = []             # column names, in request order
        self.select = {}              # column -> frozenset of kinds
        self.any_select = frozenset()
        self.condition = None         # None: every row
        self.condition_json = None
        self.defaults = {}

    def add_select(self, select):
        self.any_select = self.any_select | select

    def add_column(self, name, select, syntax):
        if name in self.select:
            raise syntax_error(syntax, "column %s mentioned more than once" % name)
        self.columns.append(name)
        self.select[name] = select
        if name not in _META_COLUMNS:
            self.defaults[name] = Datum.default(self.schema.columns[name].type)

    def finish(self):
        self.columns.sort()

    def visible(self, row):
        return self.condition is None or self.condition.evaluate(row)

    def value_json(self, row, name):
        if name in _META_COLUMNS:
            return _meta_json(row, name)
        return row.columns[name].to_json()

    def changed(self, old, new, name):
        if name in _META_COLUMNS:
            return _meta_json(old, name) != _meta_json(new, name)
        return old.columns[name] != new.columns[name]

    # -- row updates -------------------------------------------------------

    def row_update1(self, kind, old, new):
        if kind not in self.any_select:
            return None
        cols = [c for c in self.columns if kind in self.select[c]]
        if kind == "delete":
            return {"old": {c: self.value_json(old, c) for c in cols}}
        if kind != "modify":
            return {"new": {c: self.value_json(new, c) for c in cols}}
        changed = [c for c in cols if self.changed(old, new, c)]
        if not changed:
            return None
        return {"old": {c: self.value_json(old, c) for c in changed},
                "new": {c: self.value_json(new, c) for c in cols}}

    def row_update2(self, kind, old, new):
        if kind not in self.any_select:
            return None
        if kind == "delete":
            return {"delete": None}
        out = {}
        if kind == "modify":
            for c in self.columns:
                if "modify" in self.select[c] and self.changed(old, new, c):
                    if c in _META_COLUMNS:
                        out[c] = _meta_json(new, c)
                    else:
                        out[c] = datum_diff(old.columns[c], new.columns[c]).to_json()
            if not out:
                return None
            return {"modify": out}
        for c in self.columns:
            if kind not in self.select[c]:
                continue
            if c in _META_COLUMNS:
                out[c] = _meta_json(new, c)
            else:
                d = new.columns[c]
                if d != self.defaults[c]:
                    out[c] = d.to_json()
        return {kind: out}


def _parse_select(table, sel):
    if sel is None:
        return SELECT_ALL
    if not isinstance(sel, dict):
        raise syntax_error(_NO_SYNTAX, "Parsing table %s select failed: "
                           "Object expected." % table)
    for k, v in sel.items():
        if k not in SELECT_KINDS:
            raise syntax_error(sel, "Parsing table %s select failed: Member "
                               "'%s' is present but not allowed here." % (table, k))
        if not isinstance(v, bool):
            raise syntax_error(sel, "Parsing table %s select failed: Type "
                               "mismatch for member '%s'." % (table, k))
    return frozenset(k for k in SELECT_KINDS if sel.get(k, True))


def _parse_condition(table_schema, where):
    return Condition.from_json(table_schema, where)


class Monitor:
    """A client's monitor over one database."""

    def __init__(self, version, monitor_id, db_schema):
        self.version = version
        self.monitor_id = monitor_id
        self.db_schema = db_schema
        self.tables = {}             # name -> MonitoredTable

    @property
    def notify_method(self):
        return _NOTIFY[self.version]

    def notify_params(self, updates, last_id=ZERO_UUID):
        if self.version == 3:
            return [self.monitor_id, str(last_id), updates]
        return [self.monitor_id, updates]

    @classmethod
    def parse(cls, db_schema, version, monitor_id, requests):
        mon = cls(version, monitor_id, db_schema)
        if not isinstance(requests, dict):
            raise syntax_error(requests, "monitor-requests must be object")
        allowed = ("columns", "select") if version == 1 else ("columns", "select", "where")
        for tname, reqs in requests.items():
            ts = db_schema.tables.get(tname)
            if ts is None:
                raise syntax_error(_NO_SYNTAX, "no table named %s" % tname)
            mt = MonitoredTable(tname, ts)
            if isinstance(reqs, list):
                if not reqs:
                    reqs = [{}]
            else:
                reqs = [reqs]
            for req in reqs:
                if not isinstance(req, dict):
                    raise syntax_error(_NO_SYNTAX, "Parsing table %s failed: "
                                       "Object expected." % tname)
                for k, v in req.items():
                    if k not in allowed:
                        raise syntax_error(req, "Parsing table %s failed: Member "
                                           "'%s' is present but not allowed here."
                                           % (tname, k))
                columns = req.get("columns")
                if columns is not None and not isinstance(columns, list):
                    raise syntax_error(req, "Parsing table %s failed: Type "
                                       "mismatch for member 'columns'." % tname)
                select = _parse_select(tname, req.get("select"))
                mt.add_select(select)
                if columns is None:
                    names = ["_version"] + sorted(ts.columns)
                    for name in names:
                        mt.add_column(name, select, columns)
                else:
                    for name in columns:
                        if not isinstance(name, str):
                            raise syntax_error(columns, "array of column names expected")
                        if name not in ts.columns and name not in _META_COLUMNS:
                            raise syntax_error(columns, "%s is not a valid column name" % name)
                        mt.add_column(name, select, columns)
                if version != 1 and "where" in req:
                    mt.condition_json = req["where"]
                    mt.condition = _condition_or_none(ts, req["where"])
            mt.finish()
            mon.tables[tname] = mt
        return mon

    # -- composing updates -----------------------------------------------

    def _row_update(self, mt, kind, old, new):
        if mt.condition is not None:
            old_vis = old is not None and mt.condition.evaluate(old)
            new_vis = new is not None and mt.condition.evaluate(new)
            if kind == "modify":
                if not old_vis and not new_vis:
                    return None
                kind = "insert" if not old_vis else "delete" if not new_vis else "modify"
            elif kind == "delete":
                if not old_vis:
                    return None
            elif not new_vis:
                return None
        if self.version == 1:
            return mt.row_update1(kind, old, new)
        return mt.row_update2(kind, old, new)

    def initial(self, db):
        updates = {}
        for tname, mt in self.tables.items():
            if "initial" not in mt.any_select:
                continue
            rows = {}
            for row_uuid, row in db.tables[tname].rows.items():
                ru = self._row_update(mt, "initial", None, row)
                if ru is not None:
                    rows[str(row_uuid)] = ru
            if rows:
                updates[tname] = rows
        return updates

    def updates_from(self, changed_rows):
        """CHANGED_ROWS: iterable of (table, uuid, old, new)."""
        updates = {}
        tables = self.tables
        for tname, row_uuid, old, new in changed_rows:
            mt = tables.get(tname)
            if mt is None:
                continue
            if old is None:
                if new is None:
                    continue
                kind = "insert"
            elif new is None:
                kind = "delete"
            else:
                kind = "modify"
            ru = self._row_update(mt, kind, old, new)
            if ru is not None:
                updates.setdefault(tname, {})[str(row_uuid)] = ru
        return updates or None

    def updates(self, changes):
        """Table-updates for one commit's Changes, or None if nothing."""
        rows = []
        for tname in self.tables:
            per_table = changes.tables.get(tname)
            if per_table:
                for row_uuid, (old, new) in per_table.items():
                    rows.append((tname, row_uuid, old, new))
        return self.updates_from(rows)

    def change_condition(self, db, requests):
        """Apply monitor_cond_change REQUESTS; return the resulting updates."""
        if not isinstance(requests, dict):
            raise syntax_error(requests, "monitor-cond-change-requests must be object")
        new_conds = {}
        for tname, reqs in requests.items():
            mt = self.tables.get(tname)
            if mt is None:
                raise syntax_error(_NO_SYNTAX, "no table named %s in monitor session" % tname)
            if not isinstance(reqs, list):
                reqs = [reqs]
            for req in reqs:
                if not isinstance(req, dict):
                    raise syntax_error(req, "monitor-cond-change-request must be object")
                if "columns" in req:
                    raise syntax_error(req, "changing columns is unsupported")
                for k in req:
                    if k != "where":
                        raise syntax_error(req, "Parsing table %s failed: Member "
                                           "'%s' is present but not allowed here."
                                           % (tname, k))
                if "where" in req:
                    new_conds[tname] = (req["where"],
                                        _condition_or_none(mt.schema, req["where"]))
        updates = {}
        for tname, (cjson, cond) in new_conds.items():
            mt = self.tables[tname]
            old_cond = mt.condition
            mt.condition, mt.condition_json = cond, cjson
            rows = {}
            for row_uuid, row in db.tables[tname].rows.items():
                was = old_cond is None or old_cond.evaluate(row)
                now = cond is None or cond.evaluate(row)
                if was == now:
                    continue
                kind = "insert" if now else "delete"
                ru = (mt.row_update1(kind, row, row) if self.version == 1
                      else mt.row_update2(kind, row, row))
                if ru is not None:
                    rows[str(row_uuid)] = ru
            if rows:
                updates[tname] = rows
        return updates or None


class _AnyClause:
    """A monitor condition: a row is visible if ANY clause holds (OVS's
    ovsdb_condition_match_any_clause), unlike a "where" of a transaction."""

    __slots__ = ("tests",)

    def __init__(self, cond):
        self.tests = tuple(c.test for c in cond.clauses)

    def evaluate(self, row):
        for t in self.tests:
            if t(row):
                return True
        return False


def _condition_or_none(table_schema, where):
    """Parse monitor condition WHERE; None when it holds for every row."""
    cond = _parse_condition(table_schema, where)
    if not cond.clauses or any(c.function == "true" for c in cond.clauses):
        return None
    return _AnyClause(cond)


def merge_changes(changes_list):
    """Fold several commits' Changes into [(table, uuid, first old, last new)]."""
    merged = {}
    for changes in changes_list:
        for tname, per_table in changes.tables.items():
            for row_uuid, (old, new) in per_table.items():
                key = (tname, row_uuid)
                prev = merged.get(key)
                merged[key] = (old if prev is None else prev[0], new)
    return [(t, u, o, n) for (t, u), (o, n) in merged.items()]


class TxnHistory:
    """The last MAX_TXNS commits by transaction id (monitor_cond_since)."""

    def __init__(self, max_txns=100):
        self._txns = collections.OrderedDict()
        self.max_txns = max_txns
        self.last_id = ZERO_UUID

    def add(self, txn_id, changes):
        self._txns[txn_id] = changes
        self.last_id = txn_id
        while len(self._txns) > self.max_txns:
            self._txns.popitem(last=False)

    def since(self, txn_id):
        """Changes committed after TXN_ID, oldest first, or None if unknown."""
        if txn_id == self.last_id:
            return []
        if txn_id not in self._txns:
            return None
        out, seen = [], False
        for tid, changes in self._txns.items():
            if seen:
                out.append(changes)
            elif tid == txn_id:
                seen = True
        return out
