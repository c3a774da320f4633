"""The OVSDB IDL: an in-memory replica of a database, kept in sync by
monitoring, plus transactions against it (OVS's ovsdb-idl).

The core, :class:`Idl`, is sans-I/O.  Its driver tells it when a connection
comes up (:meth:`Idl.on_connect` returns the requests to send), hands it
every message that arrives (:meth:`Idl.on_message` returns any requests to
send in answer) and tells it when the connection is lost
(:meth:`Idl.on_disconnect`).  Two thin shells drive it: :class:`BlockingIdl`
over a blocking socket, for command-line tools such as ovs-vsctl (connect,
wait for the initial contents, run a transaction, wait for its commit), and
:class:`AsyncIdl` over :class:`pyovs.util.jsonrpc.Session`, for daemons such
as ovs-vswitchd (reconnects by itself; await changes).

Synchronisation.  On every connect the IDL fetches the server's schema
(and adopts it unless it was given one; then it asks only for the registered
tables and columns the server has, warning as OVS does about the rest, which
keep their default values) and monitors them with ``monitor_cond_since``
(update3), falling back to ``monitor_cond`` (update2) and then ``monitor``
(update) for servers that refuse.  After a reconnect, ``monitor_cond_since``
names the last transaction seen, so a server that remembers it sends only
what changed; a full resend instead replaces the replica, and rows that
vanished meanwhile are reported as deleted.  A cancelled monitor (the
database was converted) starts everything over.  ``modify`` updates carry
diffs: a column holding at most one value is replaced, a set toggles each
element given (symmetric difference), and a map inserts a new key, deletes a
key given with its current value, and otherwise replaces the value.

Rows.  The replica holds immutable :class:`Row` snapshots, replaced on every
change, so a row a caller holds stays a consistent view.  ``row.name``
(or ``row["name"]``) gives a Python value: the atom for a scalar column, a
list for a set (an optional column is a list of zero or one element), a dict
for a map; ``row.datum("name")`` gives the Datum.  :meth:`Idl.index`
builds a column index (e.g. Bridge by name) that stays valid until the next
change.

Change tracking.  Each applied update bumps :attr:`Idl.change_seqno` and
records, per row, the first old snapshot, the latest new one and the columns
that changed, until :meth:`Idl.clear_tracked` (``tracked()`` yields
"insert"/"update"/"delete" records).

Transactions.  :meth:`Idl.transaction` returns a :class:`Transaction` that
collects inserts, column writes, partial writes (``setkey``/``delkey`` on a
map, ``addvalue``/``delvalue`` on a set: "mutate" ops that leave the other
elements alone), deletes, verifications (``verify(row,
column)``: the commit fails with status "try again" if the column changed
in the database since the replica last saw it), increments (``increment``:
the new value is read back in the same transaction) and comments.
:meth:`Idl.commit` turns it into one ``transact`` request; the reply sets
its status to OVS's "success", "try again", "not locked", "error" (or
"unchanged" when there was nothing to do, "incomplete" while waiting, "try
again" if the connection drops first).  New rows get their real UUIDs in
:meth:`Transaction.get_insert_uuid`.  A transaction counts as committed for
:meth:`Transaction.is_reflected` once the replica shows its inserted rows
and no longer shows its deleted ones.

Locks.  With ``lock_name`` the IDL asks for that OVSDB lock on every
connect, follows "locked"/"stolen" in :attr:`Idl.has_lock`, and its
transactions start with an "assert" of the lock, so a transaction committed
without the lock fails with "not locked".

API: Idl(database, schema=None, tables=None, conditions=None,
monitor_methods=..., lock_name=None): .on_connect(), .on_message(msg),
.on_disconnect(), .synced, .schema, .change_seqno, .rows(table),
.get_row(table, uuid), .index(table, column), .lookup(table, column, value),
.tracked(), .clear_tracked(), .transaction(), .commit(txn),
.set_condition(table, cond), .has_lock, .set_lock(name).
Row (.uuid, .table, row.COLUMN / row["COLUMN"], .datum(column), .columns()).
Transaction: .insert(table) -> TxnRow, .update(row) -> TxnRow, .delete(row),
.set(row, column, value) (or txnrow.COLUMN = value), .verify(row, column),
.increment(row, column) (also of a row it inserts),
.has_changes(), .setkey/.delkey(row, column, key[, value]),
.has_partial(row), .flush_partial(row) -> columns,
.addvalue/.delvalue(row, column, value), .add_comment(text), .status,
.error, .get_insert_uuid(uuid), .increment_new_value, .is_reflected().
BlockingIdl(remote, database, ...): .connect(timeout), .wait_for_sync(timeout),
.run(timeout), .run_until(predicate, timeout), .commit_block(txn, timeout,
wait_for_replica=False), .transact(fn, timeout) (retries "try again"),
.set_condition(table, cond), .close().  AsyncIdl(remote, database, ...):
``await .start()``, ``await .wait_for_sync()``, ``await .wait_until(pred)``,
``await .wait_for_change(seqno)``, ``await .commit(txn)``, .set_condition(),
``await .close()``.  Status constants: UNCHANGED, INCOMPLETE, SUCCESS,
TRY_AGAIN, NOT_LOCKED, ERROR.
"""

import math
import time
import uuid as uuidlib

from pyovs.ovsdb.client import uuid_row_name as _row_name
from pyovs.ovsdb.data import Datum, atom_to_json
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.types import BaseType, Type
from pyovs.util import json as ovs_json
from pyovs.util import jsonrpc
from pyovs.util.vlog import Vlog
from pyovs.util.lazy import lazy_module

asyncio = lazy_module("asyncio", globals())

UNCOMMITTED = "uncommitted"
UNCHANGED = "unchanged"
INCOMPLETE = "incomplete"
ABORTED = "aborted"
SUCCESS = "success"
TRY_AGAIN = "try again"
NOT_LOCKED = "not locked"
ERROR = "error"

ZERO_UUID = "00000000-0000-0000-0000-000000000000"

vlog = Vlog("ovsdb_idl")
_UUID_TYPE = Type(BaseType("uuid"))


def _where_uuid(u):
    return [["_uuid", "==", ["uuid", str(u)]]]


def _python_value(datum, type_):
    if type_.value is not None:
        return dict(datum.items())
    if type_.n_min == 1 and type_.n_max == 1:
        return datum.scalar()
    return list(datum.keys())


def _transient_type(type_):
    """TYPE_ without constraints or size limits (for diffs)."""
    value = type_.value.without_constraints() if type_.value is not None else None
    return Type(type_.key.without_constraints(), value, 0, math.inf)


def _is_composite(type_):
    return type_.n_max > 1


def apply_diff(old, diff, type_):
    """The datum OLD of TYPE_ after an update2 "modify" DIFF datum."""
    if not _is_composite(type_):
        return Datum(type_, dict(diff.items()))
    new = dict(old.items())
    if type_.value is None:
        for k in diff.keys():
            if k in new:
                del new[k]
            else:
                new[k] = None
    else:
        for k, v in diff.items():
            if k in new and new[k] == v:
                del new[k]
            else:
                new[k] = v
    return Datum(type_, new)


class Row:
    """An immutable snapshot of one row of the replica."""

    __slots__ = ("table", "uuid", "_data", "_types")

    def __init__(self, table, uuid, data, types):
        self.table = table
        self.uuid = uuid
        self._data = data
        self._types = types

    def datum(self, column):
        """COLUMN's Datum (KeyError if the column is not replicated)."""
        if column == "_uuid":
            return Datum(_UUID_TYPE, {self.uuid: None})
        return self._data[column]

    def __getitem__(self, column):
        if column == "_uuid":
            return self.uuid
        return _python_value(self._data[column], self._types[column])

    def __getattr__(self, column):
        try:
            return self[column]
        except KeyError:
            raise AttributeError("%s has no replicated column %s"
                                 % (self.table, column)) from None

    def columns(self):
        return list(self._data)

    def __eq__(self, other):
        return (isinstance(other, Row) and self.table == other.table
                and self.uuid == other.uuid and self._data == other._data)

    def __hash__(self):
        return hash((self.table, self.uuid))

    def __repr__(self):
        return "Row(%s, %s)" % (self.table, self.uuid)


class TrackedChange:
    """What happened to one row since tracking was last cleared."""

    __slots__ = ("table", "uuid", "old", "new", "columns")

    def __init__(self, table, uuid, old, new, columns):
        self.table = table
        self.uuid = uuid
        self.old = old
        self.new = new
        self.columns = columns

    @property
    def kind(self):
        if self.old is None:
            return "insert"
        if self.new is None:
            return "delete"
        return "update"

    def __repr__(self):
        return "TrackedChange(%s %s %s %s)" % (self.kind, self.table, self.uuid,
                                               sorted(self.columns))


class Idl:
    """The sans-I/O IDL core (see the module docstring)."""

    def __init__(self, database, schema=None, tables=None, conditions=None,
                 monitor_methods=("monitor_cond_since", "monitor_cond", "monitor"),
                 lock_name=None):
        self.database = database
        self.lock_name = lock_name
        self.has_lock = False
        self.is_lock_contended = False
        self.schema = schema
        self._want_tables = tables
        self.conditions = dict(conditions or {})
        self._methods = list(monitor_methods)
        self._method_idx = 0
        self.monitor_id = ["pyovs-idl", database]
        self.last_id = ZERO_UUID
        self.data = {}              # table -> {UUID: Row}
        self.columns = {}           # table -> [column names]
        self.synced = False
        self.connected = False
        self.change_seqno = 0
        self._tracked = {}          # (table, UUID) -> TrackedChange
        self._requests = {}         # id -> (kind, extra)
        self._txns = {}             # request id -> Transaction
        self._indexes = {}
        self._server_columns = None  # table -> columns the server has
        self.errors = []            # texts of protocol problems seen
        if schema is not None:
            self._init_tables()

    # -- setup ------------------------------------------------------------------
    def _init_tables(self):
        want = self._want_tables
        for name, ts in self.schema.tables.items():
            if want is not None and name not in want:
                continue
            cols = (want or {}).get(name)
            if cols is None:
                cols = list(ts.columns)
            for c in cols:
                if c not in ts.columns:
                    raise ValueError("table %s has no column %s" % (name, c))
            self.columns[name] = list(cols)
            self.data.setdefault(name, {})
        if want is not None:
            for name in want:
                if name not in self.schema.tables:
                    raise ValueError("%s has no table %s" % (self.database, name))

    def _column_type(self, table, column):
        return self.schema.tables[table].columns[column].type

    def _send(self, kind, method, params, extra=None):
        msg = jsonrpc.Message.create_request(method, params)
        self._requests[msg.id] = (kind, extra)
        return msg

    def _monitor_request(self):
        method = self._methods[self._method_idx]
        requests = {}
        for table, cols in self.columns.items():
            if self._server_columns is not None:
                if table not in self._server_columns:
                    continue
                cols = [c for c in cols if c in self._server_columns[table]]
            mr = {"columns": list(cols)}
            if method != "monitor" and table in self.conditions:
                mr["where"] = self.conditions[table]
            requests[table] = [mr] if method != "monitor" else mr
        params = [self.database, self.monitor_id, requests]
        if method == "monitor_cond_since":
            params.append(self.last_id)
        return self._send("monitor", method, params, method)

    # -- driver interface ---------------------------------------------------------
    def on_connect(self):
        """The connection is up: the requests to send."""
        if self.connected:          # a reconnect we were not told about
            self.on_disconnect()
        self.connected = True
        self._requests.clear()
        msgs = []
        if self.lock_name is not None:
            msgs.append(self._send("lock", "lock", [self.lock_name]))
        msgs.append(self._send("schema", "get_schema", [self.database]))
        return msgs

    def set_lock(self, name):
        """Ask for lock NAME (None: give up the current one); returns the
        requests to send."""
        msgs = []
        if self.lock_name is not None and self.lock_name != name and self.connected:
            msgs.append(self._send("unlock", "unlock", [self.lock_name]))
        self.has_lock = self.is_lock_contended = False
        self.lock_name = name
        if name is not None and self.connected:
            msgs.append(self._send("lock", "lock", [name]))
        return msgs

    def on_disconnect(self):
        """The connection is gone: pending transactions must be retried."""
        self.connected = False
        self.synced = False
        self.has_lock = False
        self._requests.clear()
        for txn in self._txns.values():
            txn._finish(TRY_AGAIN, "connection lost")
        self._txns.clear()

    def on_message(self, msg):
        """Process one incoming Message; return the requests to send."""
        if msg.type in ("reply", "error"):
            try:
                entry = self._requests.pop(msg.id, None)
            except TypeError:       # an unhashable id is none of ours
                entry = None
            if entry is None:
                return []
            kind, extra = entry
            if kind == "schema":
                return self._on_schema(msg)
            if kind == "monitor":
                return self._on_monitor_reply(msg, extra)
            if kind == "transact":
                self._on_transact_reply(msg)
            if kind == "lock" and msg.type == "reply" and isinstance(msg.result, dict):
                self.has_lock = msg.result.get("locked") is True
                self.is_lock_contended = not self.has_lock
            return []
        if msg.type == "notify":
            params = msg.params if isinstance(msg.params, list) else []
            if msg.method == "update" and len(params) == 2 and params[0] == self.monitor_id:
                self._apply_updates(params[1], 1)
            elif msg.method == "update2" and len(params) == 2 and \
                    params[0] == self.monitor_id:
                self._apply_updates(params[1], 2)
            elif msg.method == "update3" and len(params) == 3 and \
                    params[0] == self.monitor_id:
                if isinstance(params[1], str):
                    self.last_id = params[1]
                self._apply_updates(params[2], 2)
            elif msg.method in ("locked", "stolen") and params == [self.lock_name]:
                self.has_lock = msg.method == "locked"
                self.is_lock_contended = not self.has_lock
                self.change_seqno += 1
            elif msg.method == "monitor_canceled":
                # The database was converted or removed: start over.
                self.synced = False
                return [self._send("schema", "get_schema", [self.database])]
        return []

    def _on_schema(self, msg):
        from pyovs.ovsdb.schema import DbSchema
        if msg.type == "error":
            self.errors.append("get_schema failed: %s" % ovs_json.to_string(msg.error))
            return []
        try:
            if self.schema is not None and msg.result == self.schema.to_json():
                # The usual case (the server has the client's schema):
                # comparing is far cheaper than parsing it again.
                server_schema = self.schema
            else:
                server_schema = DbSchema.from_json(msg.result)
        except OvsdbError as e:
            self.errors.append("bad schema: %s" % e)
            return []
        if self.schema is None:
            self.schema = server_schema
            self._init_tables()
            self._server_columns = None
        else:
            # Ask only for what the server has, as OVS does with an older
            # database; the rest keeps its default value.
            self._server_columns = {}
            for table, cols in self.columns.items():
                ts = server_schema.tables.get(table)
                if ts is None:
                    vlog.warn("%s database lacks %s table (database needs "
                              "upgrade?)", self.database, table)
                    continue
                have = set(ts.columns)
                for c in cols:
                    if c not in have:
                        vlog.warn("%s table in %s database lacks %s column "
                                  "(database needs upgrade?)", table,
                                  self.database, c)
                self._server_columns[table] = have
        return [self._monitor_request()]

    def _on_monitor_reply(self, msg, method):
        if msg.type == "error":
            if self._method_idx + 1 < len(self._methods):
                self._method_idx += 1
                return [self._monitor_request()]
            self.errors.append("%s failed: %s" % (method, ovs_json.to_string(msg.error)))
            return []
        result = msg.result
        if method == "monitor_cond_since":
            if not (isinstance(result, list) and len(result) == 3):
                self.errors.append("bad monitor_cond_since reply")
                return []
            found, last_id, updates = result
            if isinstance(last_id, str):
                self.last_id = last_id
            self._apply_updates(updates, 2, full=not found)
        else:
            self._apply_updates(result, 1 if method == "monitor" else 2, full=True)
        self.synced = True
        return []

    # -- updates ---------------------------------------------------------------
    def _parse_row(self, table, row_json, base=None):
        data = dict(base._data) if base is not None else {}
        if not isinstance(row_json, dict):
            raise ValueError("<row> is not object")
        for c in self.columns[table]:
            if c in row_json:
                data[c] = self._parse_datum(table, c, row_json[c])
            elif c not in data:
                data[c] = Datum.default(self._column_type(table, c))
        return data

    def _parse_datum(self, table, column, j):
        type_ = self._column_type(table, column)
        try:
            return Datum.from_json(type_, j)
        except OvsdbError:
            return Datum(type_, dict(Datum.from_json(_transient_type(type_), j).items()))

    def _types(self, table):
        return {c: self._column_type(table, c) for c in self.columns[table]}

    def _apply_updates(self, updates, version, full=False):
        if not isinstance(updates, dict):
            self.errors.append("<table-updates> is not object")
            return
        changed = False
        if full:
            seen = {t: set() for t in self.data}
        for table, tu in updates.items():
            if table not in self.data or not isinstance(tu, dict):
                continue
            rows = self.data[table]
            types = self._types(table)
            for u_text, ru in tu.items():
                try:
                    u = uuidlib.UUID(u_text)
                except (ValueError, TypeError, AttributeError):
                    self.errors.append("bad row UUID %r" % (u_text,))
                    continue
                if not isinstance(ru, dict):
                    continue
                if full:
                    seen[table].add(u)
                try:
                    changed |= self._apply_row_update(table, rows, types, u, ru, version)
                except (ValueError, OvsdbError) as e:
                    self.errors.append("%s row %s: %s" % (table, u, e))
        if full:
            for table, rows in self.data.items():
                for u in [u for u in rows if u not in seen[table]]:
                    self._track(table, u, rows.pop(u), None, set(self.columns[table]))
                    changed = True
        if changed:
            self.change_seqno += 1
            self._indexes.clear()

    def _apply_row_update(self, table, rows, types, u, ru, version):
        old = rows.get(u)
        if version == 1:
            new_json = ru.get("new")
            if new_json is None:
                if old is None:
                    return False
                del rows[u]
                self._track(table, u, old, None, set(types))
                return True
            data = self._parse_row(table, new_json, old)
        elif "delete" in ru:
            if old is None:
                return False
            del rows[u]
            self._track(table, u, old, None, set(types))
            return True
        elif "modify" in ru:
            if old is None:
                self.errors.append("modify of unknown row %s" % u)
                return False
            data = dict(old._data)
            diff = ru["modify"]
            if not isinstance(diff, dict):
                raise ValueError("<row> is not object")
            for c, j in diff.items():
                if c in types:
                    d = Datum.from_json(_transient_type(types[c]), j)
                    data[c] = apply_diff(old._data[c], d, types[c])
        else:
            row_json = ru.get("initial", ru.get("insert"))
            if row_json is None:
                return False
            data = self._parse_row(table, row_json)
        if old is not None and old._data == data:
            return False
        new = Row(table, u, data, types)
        rows[u] = new
        cols = set(types) if old is None else {c for c in data if old._data.get(c) != data[c]}
        self._track(table, u, old, new, cols)
        return True

    def _track(self, table, u, old, new, columns):
        key = (table, u)
        prev = self._tracked.get(key)
        if prev is None:
            self._tracked[key] = TrackedChange(table, u, old, new, set(columns))
            return
        prev.new = new
        prev.columns |= columns
        if prev.old is None and prev.new is None:
            del self._tracked[key]

    # -- reading ---------------------------------------------------------------
    def rows(self, table):
        return list(self.data[table].values())

    def get_row(self, table, u):
        if isinstance(u, str):
            u = uuidlib.UUID(u)
        return self.data[table].get(u)

    def index(self, table, column):
        """{python value of COLUMN: Row} for TABLE, valid until the next change."""
        key = (table, column)
        idx = self._indexes.get(key)
        if idx is None:
            idx = {}
            for row in self.data[table].values():
                v = row[column]
                if isinstance(v, (list, dict)):
                    v = tuple(sorted(v.items())) if isinstance(v, dict) else tuple(v)
                idx[v] = row
            self._indexes[key] = idx
        return idx

    def lookup(self, table, column, value):
        return self.index(table, column).get(value)

    def tracked(self):
        """The TrackedChanges since the last clear_tracked()."""
        return list(self._tracked.values())

    def clear_tracked(self):
        self._tracked.clear()

    # -- conditions --------------------------------------------------------------
    def set_condition(self, table, condition):
        """Change TABLE's monitor condition; returns the requests to send."""
        self.conditions[table] = condition
        if not self.connected or self.schema is None:
            return []
        method = self._methods[self._method_idx]
        if method == "monitor":
            return []
        params = [self.monitor_id, self.monitor_id, {table: [{"where": condition}]}]
        return [self._send("cond_change", "monitor_cond_change", params)]

    # -- transactions ------------------------------------------------------------
    def transaction(self):
        return Transaction(self)

    def commit(self, txn):
        """Turn TXN into a transact request (a list of 0 or 1 Message)."""
        ops = txn._build_ops()
        if ops is None:
            txn._finish(UNCHANGED)
            return []
        if not self.connected:
            txn._finish(TRY_AGAIN, "not connected")
            return []
        msg = jsonrpc.Message.create_request("transact", [self.database] + ops)
        txn.status = INCOMPLETE
        txn.request_id = msg.id
        self._txns[msg.id] = txn
        self._requests[msg.id] = ("transact", None)
        return [msg]

    def _on_transact_reply(self, msg):
        txn = self._txns.pop(msg.id, None)
        if txn is None:
            return
        if msg.type == "error":
            txn._finish(ERROR, ovs_json.to_string(msg.error))
            return
        txn._process_reply(msg.result)


class Transaction:
    """Changes to make atomically; see the module docstring."""

    def __init__(self, idl):
        self.idl = idl
        self.status = UNCOMMITTED
        self.error = None
        self.request_id = None
        self.dry_run = False
        self._inserts = {}       # temp UUID -> table
        self._writes = {}        # (table, UUID) -> {column: Datum}
        self._deletes = {}       # (table, UUID) -> True
        self._verifies = {}      # (table, UUID) -> set(columns)
        self._increments = []    # (table, UUID, column)
        self._mutations = {}     # (table, UUID) -> {column: {insert, delete}}
        self._flushed = {}       # (table, UUID) -> columns flush_partial() wrote
        self._comments = []
        self._op_index = {}      # temp UUID -> index of its insert op result
        self._incr_index = None
        self._insert_uuids = {}
        self.increment_new_value = None

    # -- building ----------------------------------------------------------------
    @staticmethod
    def _key(row, table=None):
        if isinstance(row, Row):
            return row.table, row.uuid
        if isinstance(row, TxnRow):
            return row.table, row.uuid
        return table, uuidlib.UUID(str(row))

    def insert(self, table, uuid=None):
        """A new row of TABLE (a TxnRow); UUID is only a local handle."""
        if table not in self.idl.data:
            raise ValueError("table %s is not replicated" % table)
        u = uuid or uuidlib.uuid4()
        self._inserts[u] = table
        self._writes[(table, u)] = {}
        return TxnRow(self, table, u)

    def update(self, row):
        """A writable handle on existing ROW."""
        table, u = self._key(row)
        return TxnRow(self, table, u)

    def set(self, row, column, value):
        table, u = self._key(row)
        ts = self.idl.schema.tables[table]
        if column not in ts.columns:
            raise KeyError("table %s has no column %s" % (table, column))
        type_ = ts.columns[column].type
        value = self._resolve(value)
        datum = value if isinstance(value, Datum) else Datum.from_python(type_, value)
        if isinstance(value, Datum):
            datum = Datum(type_, dict(value.items()))
        self._writes.setdefault((table, u), {})[column] = datum
        # The whole value replaces earlier partial writes to the column.
        self._flushed.get((table, u), set()).discard(column)
        self._mutations.get((table, u), {}).pop(column, None)

    def _resolve(self, value):
        if isinstance(value, (Row, TxnRow)):
            return value.uuid
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._resolve(v) for v in value]
        if isinstance(value, dict):
            return {self._resolve(k): self._resolve(v) for k, v in value.items()}
        return value

    def delete(self, row):
        table, u = self._key(row)
        if u in self._inserts:
            del self._inserts[u]
            self._writes.pop((table, u), None)
        else:
            self._deletes[(table, u)] = True
            self._writes.pop((table, u), None)

    def verify(self, row, column):
        table, u = self._key(row)
        if u not in self._inserts:
            self._verifies.setdefault((table, u), set()).add(column)

    def increment(self, row, column):
        """Add 1 to integer COLUMN of ROW in the database; the new value is
        in increment_new_value after a successful commit."""
        table, u = self._key(row)
        self._increments.append((table, u, column))

    def add_comment(self, text):
        self._comments.append(text)

    def has_changes(self):
        """Whether committing would change the database (an insert, delete,
        write that differs from the replica, mutation or increment), as
        opposed to committing as "unchanged"."""
        op_index, incr_index = dict(self._op_index), self._incr_index
        try:
            return self._build_ops() is not None
        finally:
            self._op_index, self._incr_index = op_index, incr_index

    def read(self, table, u, column):
        """COLUMN of row U as this transaction would leave it."""
        w = self._writes.get((table, u), {})
        if column in w:
            datum = w[column]
        else:
            row = self.idl.data[table].get(u)
            if row is None:
                datum = Datum.default(self.idl._column_type(table, column))
            else:
                datum = row.datum(column)
        m = self._mutations.get((table, u), {}).get(column)
        if m is None:
            return datum
        values = dict(datum.items())
        for k in m["delete"]:
            values.pop(k, None)
        values.update(m["insert"])
        return Datum(datum.type, values)

    def _mutation(self, row, column, want_map):
        table, u = self._key(row)
        type_ = self.idl._column_type(table, column)
        if (type_.value is not None) != want_map:
            raise TypeError("column %s of %s is %s a map"
                            % (column, table, "not" if want_map else ""))
        return type_, self._mutations.setdefault((table, u), {}).setdefault(
            column, {"insert": {}, "delete": set()})

    def setkey(self, row, column, key, value):
        """Set KEY to VALUE in map COLUMN, leaving the other keys alone (a
        "mutate" op, so concurrent changes to other keys survive).  As OVS's
        IDL, the key is deleted first only if the row has it now, and setting
        a key to the value it has is no change at all."""
        table, u = self._key(row)
        key, value = self._resolve(key), self._resolve(value)
        current = self.read(table, u, column).values_dict()
        present = key in current
        if present and current[key] == value:
            return      # changes nothing: OVS's IDL drops it too
        _, m = self._mutation(row, column, True)
        m["insert"][key] = value
        if present:
            m["delete"].add(key)

    def has_partial(self, row):
        """Whether ROW has pending setkey/delkey/addvalue/delvalue ops."""
        return bool(self._mutations.get(self._key(row)))

    def flush_partial(self, row):
        """Turn ROW's pending partial writes into whole-column writes of
        the value they would leave (OVS's ovs-vsctl does this, with a
        verify, when a second partial write reaches the same row)."""
        table, u = self._key(row)
        cols = self._mutations.get((table, u))
        if not cols:
            return []
        values = {c: self.read(table, u, c) for c in cols}
        del self._mutations[(table, u)]
        w = self._writes.setdefault((table, u), {})
        w.update(values)
        # Later partial writes to these columns go out as their own
        # "mutate" after the "update" (not folded into it).
        self._flushed.setdefault((table, u), set()).update(values)
        return list(values)

    def delkey(self, row, column, key):
        _, m = self._mutation(row, column, True)
        key = self._resolve(key)
        m["insert"].pop(key, None)
        m["delete"].add(key)

    def addvalue(self, row, column, value):
        """Add VALUE to set COLUMN (a "mutate" op)."""
        _, m = self._mutation(row, column, False)
        value = self._resolve(value)
        m["insert"][value] = None
        m["delete"].discard(value)

    def delvalue(self, row, column, value):
        _, m = self._mutation(row, column, False)
        value = self._resolve(value)
        m["insert"].pop(value, None)
        m["delete"].add(value)

    # -- committing ----------------------------------------------------------------
    def _named(self, j):
        if isinstance(j, list):
            if len(j) == 2 and j[0] == "uuid" and isinstance(j[1], str):
                u = uuidlib.UUID(j[1])
                if u in self._inserts:
                    return ["named-uuid", _row_name(u)]
                return j
            return [self._named(x) for x in j]
        return j

    def _build_ops(self):
        ops = []
        if self.idl.lock_name is not None:
            ops.append({"op": "assert", "lock": self.idl.lock_name})
        for (table, u), cols in sorted(self._verifies.items(), key=lambda i: str(i[0])):
            row = self.idl.data[table].get(u)
            if row is None or (table, u) in self._deletes:
                continue
            cols = sorted(c for c in cols if c in row._data)
            if not cols:
                continue
            ops.append({"op": "wait", "table": table, "timeout": 0,
                        "where": _where_uuid(u), "until": "==", "columns": cols,
                        "rows": [{c: row.datum(c).to_json() for c in cols}]})
        for (table, u) in self._deletes:
            ops.append({"op": "delete", "table": table, "where": _where_uuid(u)})
        for u, table in self._inserts.items():
            cols = set(self._writes.get((table, u), {}))
            cols |= set(self._mutations.get((table, u), {}))
            self._op_index[u] = len(ops)
            ops.append({"op": "insert", "table": table, "uuid-name": _row_name(u),
                        "row": {c: self._named(self.read(table, u, c).to_json())
                                for c in sorted(cols)}})
        for (table, u), cols in self._writes.items():
            if u in self._inserts or not cols:
                continue
            row = self.idl.data[table].get(u)
            flushed = self._flushed.get((table, u), ())
            cols = {c: cols[c] if c in flushed else self.read(table, u, c)
                    for c in cols}
            changed = {c: d for c, d in cols.items()
                       if row is None or c not in row._data or row._data[c] != d}
            if not changed:
                continue
            ops.append({"op": "update", "table": table, "where": _where_uuid(u),
                        "row": {c: self._named(d.to_json()) for c, d in changed.items()}})
        for (table, u), cols in self._mutations.items():
            if u in self._inserts or (table, u) in self._deletes:
                continue        # folded into the insert / moot
            written = self._writes.get((table, u), {})
            flushed = self._flushed.get((table, u), ())
            mutations = []
            for column, m in cols.items():
                if column in written and column not in flushed:
                    continue    # folded into the full write above
                tt = _transient_type(self.idl._column_type(table, column))
                # Always ["set", ...] or ["map", ...], even for one
                # element, as OVS's IDL writes mutation arguments.
                if m["delete"]:
                    keys = Datum(Type(tt.key, None, 0, math.inf),
                                 {k: None for k in m["delete"]})
                    mutations.append([column, "delete", self._named(
                        ["set", [atom_to_json(k) for k in keys.keys()]])])
                if m["insert"]:
                    ins = Datum(tt, dict(m["insert"]))
                    j = (["map", [[atom_to_json(k), atom_to_json(v)]
                                  for k, v in ins.items()]]
                         if tt.value is not None
                         else ["set", [atom_to_json(k) for k in ins.keys()]])
                    mutations.append([column, "insert", self._named(j)])
            if mutations:
                ops.append({"op": "mutate", "table": table, "where": _where_uuid(u),
                            "mutations": mutations})
        for table, u, column in self._increments:
            # A row inserted by this transaction is named as OVS's IDL
            # names it, so it is incremented right after its insertion.
            where = ([["_uuid", "==", ["named-uuid", _row_name(u)]]]
                     if u in self._inserts else _where_uuid(u))
            ops.append({"op": "mutate", "table": table, "where": where,
                        "mutations": [[column, "+=", 1]]})
            self._incr_index = len(ops)
            ops.append({"op": "select", "table": table, "where": where,
                        "columns": [column]})
            self._incr_column = column
        if not any(op["op"] not in ("wait", "assert") for op in ops):
            return None
        for text in self._comments:
            ops.append({"op": "comment", "comment": text})
        if self.dry_run:
            ops.append({"op": "abort"})
        return ops

    def _finish(self, status, error=None):
        self.status = status
        self.error = error

    def _process_reply(self, result):
        if not isinstance(result, list):
            self._finish(ERROR, "reply is not an array")
            return
        hard = soft = lock = 0
        errors = []
        for r in result:
            if isinstance(r, dict) and "error" in r:
                e = r.get("error")
                if e == "timed out":
                    soft += 1
                elif e == "not owner":
                    lock += 1
                elif e == "aborted" and self.dry_run:
                    continue
                else:
                    hard += 1
                    errors.append(ovs_json.to_string(r))
        if hard:
            self._finish(ERROR, errors[0])
        elif lock:
            self._finish(NOT_LOCKED)
        elif soft:
            self._finish(TRY_AGAIN)
        else:
            for u, i in self._op_index.items():
                try:
                    self._insert_uuids[u] = uuidlib.UUID(result[i]["uuid"][1])
                except (IndexError, KeyError, TypeError, ValueError):
                    self._finish(ERROR, "insert reply lacks its uuid")
                    return
            if self._incr_index is not None:
                try:
                    self.increment_new_value = \
                        result[self._incr_index]["rows"][0][self._incr_column]
                except (IndexError, KeyError, TypeError):
                    self._finish(ERROR, "increment reply lacks the new value")
                    return
            self._finish(SUCCESS)

    def get_insert_uuid(self, u):
        """The database's UUID for the row inserted as U, after success."""
        if isinstance(u, TxnRow):
            u = u.uuid
        return self._insert_uuids.get(u)

    def is_reflected(self):
        """True once the replica shows this committed transaction's inserted
        rows and no longer shows its deleted rows."""
        if self.status != SUCCESS:
            return False
        for u, table in self._inserts.items():
            if self._insert_uuids.get(u) not in self.idl.data[table]:
                return False
        for table, u in self._deletes:
            if u in self.idl.data[table]:
                return False
        return True


class TxnRow:
    """A row as seen and written through a Transaction."""

    __slots__ = ("txn", "table", "uuid")

    def __init__(self, txn, table, u):
        object.__setattr__(self, "txn", txn)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "uuid", u)

    def __getitem__(self, column):
        return _python_value(self.txn.read(self.table, self.uuid, column),
                             self.txn.idl._column_type(self.table, column))

    def __getattr__(self, column):
        try:
            return self[column]
        except KeyError:
            raise AttributeError(column) from None

    def __setitem__(self, column, value):
        self.txn.set(self, column, value)

    def __setattr__(self, column, value):
        self.txn.set(self, column, value)

    def verify(self, column):
        self.txn.verify(self, column)

    def delete(self):
        self.txn.delete(self)


# ---------------------------------------------------------------------------
# Shells.

class IdlError(Exception):
    """The IDL could not do what was asked (text says why)."""


class BlockingIdl:
    """The IDL over a blocking connection, reconnecting if it drops."""

    def __init__(self, remote, database, schema=None, tables=None, conditions=None,
                 **kwargs):
        self.remote = remote
        self.idl = Idl(database, schema, tables, conditions, **kwargs)
        self.conn = None

    def connect(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        backoff = 0.05
        while True:
            try:
                self.conn = jsonrpc.BlockingConnection.open(self.remote, timeout=timeout)
                break
            except OSError as e:
                if deadline is not None and time.monotonic() + backoff > deadline:
                    raise IdlError('failed to connect to "%s" (%s)'
                                   % (self.remote, e.strerror or e)) from None
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
        self._send(self.idl.on_connect())

    def _send(self, msgs):
        for m in msgs:
            self.conn.send(m)

    def _recv_one(self, timeout):
        try:
            msg = self.conn.recv(timeout)
        except TimeoutError:
            return False
        except (jsonrpc.ConnectionEOF, jsonrpc.JsonRpcError, OSError):
            self.conn.close()
            self.conn = None
            self.idl.on_disconnect()
            return None
        if msg.type == "request" and msg.method == "echo":
            self.conn.send(jsonrpc.Message.create_reply(msg.params, msg.id))
        else:
            self._send(self.idl.on_message(msg))
        return True

    def run_until(self, predicate, timeout=None):
        """Process messages (reconnecting as needed) until PREDICATE() is
        true; IdlError on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not predicate():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise IdlError("timed out")
            if self.conn is None:
                self.connect(left)
                continue
            self._recv_one(left if left is None else max(left, 0.001))

    def run(self, timeout=0):
        """Process whatever arrives within TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while self.conn is not None:
            left = deadline - time.monotonic()
            if self._recv_one(max(left, 0.001)) is not True or left <= 0:
                break

    def wait_for_sync(self, timeout=None):
        if self.conn is None:
            self.connect(timeout)
        self.run_until(lambda: self.idl.synced, timeout)

    def set_condition(self, table, condition):
        """Replicate only TABLE's rows that match CONDITION from now on."""
        msgs = self.idl.set_condition(table, condition)
        if self.conn is not None:
            self._send(msgs)

    def commit_block(self, txn, timeout=None, wait_for_replica=False):
        """Commit TXN and wait for its status (and, on success with
        WAIT_FOR_REPLICA, for the replica to reflect it: not for inserted
        rows that the server garbage-collects); returns the status."""
        if self.conn is None:
            self.connect(timeout)
        self._send(self.idl.commit(txn))
        self.run_until(lambda: txn.status != INCOMPLETE, timeout)
        if txn.status == SUCCESS and wait_for_replica:
            self.run_until(txn.is_reflected, timeout)
        return txn.status

    def transact(self, fn, timeout=None, wait_for_replica=False):
        """Run FN(idl, txn) and commit, retrying while the status is "try
        again" (after the replica has changed); returns the last txn."""
        self.wait_for_sync(timeout)
        while True:
            seqno = self.idl.change_seqno
            txn = self.idl.transaction()
            fn(self.idl, txn)
            status = self.commit_block(txn, timeout, wait_for_replica)
            if status != TRY_AGAIN:
                return txn
            self.run_until(lambda: self.idl.change_seqno != seqno
                           or not self.idl.synced, timeout)
            self.wait_for_sync(timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class AsyncIdl:
    """The IDL on an asyncio jsonrpc.Session (reconnects by itself)."""

    def __init__(self, remote, database, schema=None, tables=None, conditions=None,
                 session=None, **kwargs):
        self.idl = Idl(database, schema, tables, conditions, **kwargs)
        self.session = session or jsonrpc.Session(remote)
        self._changed = None
        self._tasks = []
        self._notifying = set()     # strong references to notify tasks

    async def start(self):
        self._changed = asyncio.Condition()
        self.session.add_state_callback(self._on_state)
        self.session.start()
        if self.session.is_connected():
            self._on_state(True)
        self._tasks = [asyncio.get_running_loop().create_task(self._read())]

    def _on_state(self, connected):
        # Called by the session before any message of a new connection.
        if connected:
            self._send(self.idl.on_connect())
        else:
            self.idl.on_disconnect()
        task = asyncio.get_running_loop().create_task(self._notify())
        self._notifying.add(task)
        task.add_done_callback(self._notifying.discard)

    async def _notify(self):
        async with self._changed:
            self._changed.notify_all()

    def _send(self, msgs):
        for m in msgs:
            self.session.send(m)

    async def _read(self):
        while True:
            msg = await self.session.recv()
            if msg is None:
                return
            self._send(self.idl.on_message(msg))
            await self._notify()

    async def wait_until(self, predicate):
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for_sync(self):
        await self.wait_until(lambda: self.idl.synced)

    def set_condition(self, table, condition):
        """Replicate only TABLE's rows that match CONDITION from now on."""
        self._send(self.idl.set_condition(table, condition))

    async def wait_for_change(self, seqno):
        """Return once change_seqno differs from SEQNO."""
        await self.wait_until(lambda: self.idl.change_seqno != seqno)

    async def commit(self, txn, wait_for_replica=False):
        self._send(self.idl.commit(txn))
        await self.wait_until(lambda: txn.status != INCOMPLETE)
        if txn.status == SUCCESS and wait_for_replica:
            await self.wait_until(lambda: txn.is_reflected() or not self.idl.connected)
        return txn.status

    async def close(self):
        for t in self._tasks:
            t.cancel()
        self.session.close()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
